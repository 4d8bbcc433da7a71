"""The accelerator runtime: from a network to a Report that adds up, shared by every model.

An accelerator model supplies its unit costs and its hierarchy; this module does the walk once
for all of them, as array operations over the layers (no Python loop over layers in traced code):

1. :func:`layer_table`: the network's static numbers as numpy arrays, built once per network;
   matrices are grids ``(L, K)`` (layer ``j``'s MatrixOps in row ``j``, padded).
2. :class:`LayerKnobs`: per-layer overrides of the model's knobs (weight bits, bits per cell,
   slice pattern, ADC and input bits, replication, block occupancy), arrays ``(L,)`` that jit,
   vmap and grad like any Config leaf; :func:`layer_values` resolves them.
3. :func:`map_layers`: every matrix onto the model's :class:`~hwjax.mapping.ArrayTarget`
   (:func:`hwjax.mapping.map_counts`), empty crossbar blocks removed (occupancy).
4. :func:`place`: arrays into cores and tiles, layers packed together where they fit.
5. :func:`pipeline`: the one inter-layer pipelining rule.
6. :func:`idle_leakage` and :func:`layer_report`: one leakage convention and one Report.

**Conventions.** Every Cost in an inference Report is J, s, m², with ``leakage`` 0: leakage is
charged as energy (J) in each layer's ``"leakage"`` row (the hardware the layer occupies, over
its latency) and in a last ``"idle"`` row (allocated hardware that waits, and its area: the
unused slots of the allocated cores and tiles), so the leaf rows add up to the total in every
field, and ``total(report).area`` is the area of the hardware allocated to the network.
``Cost.leakage`` is a power (W) wherever it is non-zero (chip and peak Costs).

:func:`batched` gives every model the same batch semantics: Config leaves of shape ``(n,)``
give costs of shape ``(n,)``, equal to ``n`` separate calls.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import mapping, relax, validate, workloads
from hwjax._pytree import Knob, pytree_dataclass
from hwjax.cost import COST_FIELDS, Cost, Report, unchecked

# ---------------------------------------------------------------------------------------------
# The layer table


@dataclasses.dataclass(frozen=True, eq=False)
class LayerTable:
    """A network's static numbers as numpy arrays (``L`` layers, ``K`` matrices at most per layer,
    ``P`` vector ops at most per layer; padding masked out).

    Attributes:
        layers: the layer descriptors, in network order.
        names: ``(L,)`` layer names.
        op_mask: ``(L, K)`` 1 for a MatrixOp, 0 for padding.
        rows, cols, vectors, input_reuse: ``(L, K)`` each MatrixOp's K, N, V and reuse r.
        stationary: ``(L, K)`` bool; padding True.
        has_ops: ``(L,)`` bool, the layer holds matrices.
        source: ``(L + 1, L)`` one-hot: a layer without matrices runs on the hardware of the last
            layer with them (row ``j + 1``: layer ``j``; row 0: none yet).
        layer_vectors: ``(L,)`` input vectors per inference (the most of its matrices; 1 without).
        vector_kinds: ``(L, P)`` kind of each VectorOp (``""`` for padding).
        vector_elements: ``(L, P)`` elements of each VectorOp (0 for padding).
        macs: ``(L,)`` multiply-accumulates.
    """

    layers: tuple
    names: tuple
    op_mask: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    vectors: np.ndarray
    input_reuse: np.ndarray
    stationary: np.ndarray
    has_ops: np.ndarray
    source: np.ndarray
    layer_vectors: np.ndarray
    vector_kinds: np.ndarray
    vector_elements: np.ndarray
    macs: np.ndarray

    def __len__(self) -> int:
        return len(self.names)

    def elements(self, *kinds: str) -> np.ndarray:
        """Elements of the vector ops of ``kinds`` per layer, ``(L,)``."""
        return np.sum(np.where(np.isin(self.vector_kinds, kinds), self.vector_elements, 0.0), axis=1)

    def to_layers(self, grid):
        """Sum per-matrix values ``(L, K)`` into their layers, ``(L,)`` (padding masked out)."""
        return jnp.sum(grid * self.op_mask, axis=1)

    def from_source(self, values, first=1.0):
        """Per-layer ``values`` ``(L,)`` as seen by each layer: a layer without matrices takes the
        value of the last layer with them (``first`` before any), ``(L,)``. Exact: a gather
        through the static one-hot at full precision."""
        values = jnp.asarray(values)
        padded = jnp.concatenate([jnp.full((1,), first, values.dtype), values])
        return jnp.dot(padded, self.source.astype(values.dtype), precision="highest")


def _grid(rows: list[list], fill) -> np.ndarray:
    """Ragged rows as an ``(L, max(1, longest))`` array padded with ``fill``."""
    width = max([1] + [len(row) for row in rows])
    return np.asarray([list(row) + [fill] * (width - len(row)) for row in rows])


@functools.lru_cache(maxsize=64)
def _table(network: workloads.Network, dtype: str) -> LayerTable:
    layers = tuple(network)
    matrices = [tuple(layer.matrix_ops()) for layer in layers]
    vector_ops = [tuple(layer.vector_ops()) for layer in layers]
    n = len(layers)
    source, current = np.zeros((n + 1, n)), 0
    for j, ops in enumerate(matrices):
        current = j + 1 if ops else current
        source[current, j] = 1.0
    field = lambda name, fill: _grid([[getattr(op, name) for op in ops] for ops in matrices], fill)  # noqa: E731
    return LayerTable(
        layers=layers,
        names=tuple(layer.name for layer in layers),
        op_mask=_grid([[1.0] * len(ops) for ops in matrices], 0.0).astype(dtype),
        rows=field("rows", 1).astype(dtype),
        cols=field("cols", 1).astype(dtype),
        vectors=field("vectors", 1).astype(dtype),
        input_reuse=field("input_reuse", 0.0).astype(dtype),
        stationary=field("stationary", True).astype(bool),
        has_ops=np.asarray([bool(ops) for ops in matrices]),
        source=source.astype(dtype),
        layer_vectors=np.asarray([max((op.vectors for op in ops), default=1) for ops in matrices], dtype),
        vector_kinds=_grid([[op.kind for op in ops] for ops in vector_ops], ""),
        vector_elements=_grid([[op.elements for op in ops] for ops in vector_ops], 0).astype(dtype),
        macs=np.asarray([layer.macs for layer in layers], dtype),
    )


def layer_table(network) -> LayerTable:
    """The :class:`LayerTable` of ``network`` (a :class:`hwjax.workloads.Network`), cached.

    Its numbers are in JAX's default float (float32, or float64 under ``jax_enable_x64``): one
    table per precision, since XLA reuses a constant made from the same numpy array across a
    change of precision, which breaks gradients mixing float32 and float64.
    """
    if not isinstance(network, workloads.Network):
        raise ValueError(f"workload must be a hwjax.workloads.Network, got {type(network).__name__}")
    if len(network) == 0:
        raise ValueError(f"workload {network.name!r} has no layers; give at least one")
    return _table(network, jnp.dtype(jnp.result_type(float)).name)


# ---------------------------------------------------------------------------------------------
# Per-layer knobs

#: Per-layer knobs of the crossbar models (each model lists its own as ``LAYER_KNOBS``).
LAYER_KNOBS = ("weight_bits", "bits_per_cell", "input_bits", "adc_bits", "replication", "occupancy")


@pytree_dataclass
class LayerKnobs:
    """Per-layer overrides of a model's knobs (a pytree); ``None`` keeps the Config's value.

    Attributes:
        weight_bits, bits_per_cell, input_bits, adc_bits: ``(L,)`` per-layer values of the
            Config knobs of the same name (same units and ranges).
        replication: ``(L,)`` copies of each layer's arrays, >= 1 (ISAAC-style balancing of a
            pipeline: the copies split the layer's input vectors; energy per MVM is unchanged,
            area and leakage grow with the copies).
        occupancy: ``(L,)`` fraction of each layer's crossbar blocks that hold any nonzero
            weight, in [0, 1] (:func:`hwjax.mapping.block_occupancy`); empty blocks are neither
            programmed, read, converted nor allocated.
        slice_bits: ``(L, S)`` bits per weight slice, MSB first, 0 for an unused slice
            (heterogeneous slicing per layer, PANTHER 5.3.4); a layer's weight bits are their sum.
    """

    weight_bits: Knob | None = None
    bits_per_cell: Knob | None = None
    input_bits: Knob | None = None
    adc_bits: Knob | None = None
    replication: Knob | None = None
    occupancy: Knob | None = None
    slice_bits: Knob | None = None

    def __post_init__(self):
        if self.replication is not None:
            object.__setattr__(
                self, "replication", validate.check_range("replication", self.replication, 1.0)
            )
        if self.occupancy is not None:
            occupancy = validate.check_range("occupancy", self.occupancy, 0.0, 1.0)
            object.__setattr__(self, "occupancy", occupancy)
        if self.slice_bits is not None:
            slices = validate.check_range("slice_bits", self.slice_bits, 0.0, mapping.MAX_CELL_BITS)
            object.__setattr__(self, "slice_bits", slices)

    def given(self) -> dict[str, Any]:
        """The knobs that are set, by name."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
        }


def check_layer_knobs(knobs: LayerKnobs | None, table: LayerTable, allowed=None) -> LayerKnobs:
    """``knobs`` (or no overrides) checked against ``table``: every given knob has ``L`` values
    along its last axis (``slice_bits``: ``(L, S)``), and is one of ``allowed`` (names)."""
    if knobs is None:
        return LayerKnobs()
    if not isinstance(knobs, LayerKnobs):
        raise ValueError(f"layers must be a hwjax.system.LayerKnobs or None, got {type(knobs).__name__}")
    n = len(table)
    for name, value in knobs.given().items():
        if allowed is not None and name not in allowed:
            raise ValueError(
                f"layers.{name} is not a per-layer knob of this model; valid: {', '.join(allowed)}"
            )
        shape = jnp.shape(value)
        axis = -2 if name == "slice_bits" else -1
        if len(shape) < -axis or shape[axis] != n:
            want = f"({n}, S)" if name == "slice_bits" else f"({n},)"
            raise ValueError(
                f"layers.{name} has shape {shape}; it needs one value per layer of the network, shape {want}"
            )
    return knobs


#: The bit knobs a Config holds under the same names (:func:`layer_config`'s default).
BIT_KNOBS = {name: name for name in ("weight_bits", "bits_per_cell", "input_bits", "adc_bits")}


def layer_config(config, knobs: LayerKnobs, fields=BIT_KNOBS, column: bool = False):
    """``config`` with per-layer knobs as its leaves, so that the model's unit costs come per
    layer (every component formula broadcasts).

    ``fields`` maps a knob to the Config field it sets; ``slice_bits`` sets ``weight_bits`` (their
    sum) and ``bits_per_cell`` (the widest slice) where those are fields. ``column``: leaves
    ``(L, 1)``, to broadcast against the ``(L, K)`` grids of the network's matrices. The Config
    checks the values (a bad one raises naming ``layers`` and the field).
    """
    leaves = {
        field: getattr(knobs, knob) for knob, field in fields.items() if getattr(knobs, knob) is not None
    }
    if knobs.slice_bits is not None and "weight_bits" in fields:
        slices = jnp.asarray(knobs.slice_bits)
        leaves.update(weight_bits=jnp.sum(slices, axis=-1), bits_per_cell=jnp.max(slices, axis=-1))
    if not leaves:
        return config
    if column:
        leaves = {name: jnp.asarray(value)[:, None] for name, value in leaves.items()}
    try:
        return dataclasses.replace(config, **leaves)
    except ValueError as error:  # name the knob the user gave, not the Config field it set
        text = str(error)
        knob = next((k for k, f in fields.items() if text.startswith(f"{f}=")), None)
        raise ValueError(f"layers.{knob}: {text}" if knob else f"layers: {text}") from None


def layer_values(knobs: LayerKnobs, name: str, default):
    """Per-layer ``name``: the override ``(L,)``, or ``default`` (a Config value, broadcast)."""
    value = getattr(knobs, name)
    return default if value is None else value


def slice_count(slice_bits):
    """Weight slices per logical array from per-layer ``slice_bits`` ``(L, S)``: the slices that
    hold bits, ``(L,)``. Exact in every mode (a slice exists or not; its width has no gradient
    through the count)."""
    return jnp.sum(jnp.asarray(slice_bits) > 0, axis=-1).astype(float)


# ---------------------------------------------------------------------------------------------
# Mapping


def column(x):
    """A per-layer value ``(L,)`` as a column ``(L, 1)`` that broadcasts against the ``(L, K)``
    grids; scalars, columns and ``None`` are returned unchanged."""
    if x is None:
        return None
    array = jnp.asarray(x)
    return array[:, None] if array.ndim == 1 else x


def map_layers(
    table: LayerTable,
    target: mapping.ArrayTarget,
    input_shuffling: bool,
    mode: str,
    occupancy=None,
    slices=None,
) -> mapping.MatrixMapping:
    """Every matrix of ``table`` mapped onto ``target``: a MatrixMapping of grids ``(L, K)``.

    ``target``'s leaves may be per-layer ``(L,)`` or ``(L, 1)`` (per-layer knobs); ``occupancy`` ``(L,)``
    scales each layer's blocks (:func:`hwjax.mapping.map_counts`); ``slices`` ``(L,)`` overrides
    the weight slices per logical array (heterogeneous slicing per layer).
    """
    target = jax.tree_util.tree_map(column, target)
    return mapping.map_counts(
        table.rows,
        table.cols,
        table.vectors,
        table.input_reuse,
        target,
        input_shuffling,
        mode,
        occupancy=column(occupancy),
        slices=column(slices),
    )


# ---------------------------------------------------------------------------------------------
# Placement


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where the layers sit (arrays ``(L,)`` per layer, scalars for the allocation).

    Attributes:
        cores, tiles: each layer's share of cores and tiles (its arrays over the capacities),
            the hardware the layer occupies; layers pack into shared cores and tiles.
        cores_used, tiles_used: cores and tiles holding any of the layer's arrays (its
            parallelism), ``ceil`` of its share, at least 1 for a layer with arrays.
        cores_allocated, tiles_allocated, nodes_allocated: the hardware the whole network
            needs, ``ceil`` of the packed total.
    """

    cores: Any
    tiles: Any
    cores_used: Any
    tiles_used: Any
    cores_allocated: Any
    tiles_allocated: Any
    nodes_allocated: Any


def place(arrays, arrays_per_core, cores_per_tile, tiles_per_node, mode: str = "ste") -> Placement:
    """Pack every layer's ``arrays`` ``(L,)`` into cores, tiles and nodes.

    A core holds ``arrays_per_core`` arrays of any layers, a tile ``cores_per_tile`` cores: the
    network allocates ``ceil(sum arrays / arrays_per_core)`` cores and ``ceil(cores /
    cores_per_tile)`` tiles (:func:`hwjax.mapping.place` on the total); a layer occupies its
    share. Counts go through :mod:`hwjax.relax` with ``mode``.
    """
    arrays = jnp.asarray(arrays)
    share = arrays / arrays_per_core
    used = mapping.place(arrays, arrays_per_core, cores_per_tile, tiles_per_node, mode)
    allocated = mapping.place(jnp.sum(arrays), arrays_per_core, cores_per_tile, tiles_per_node, mode)
    return Placement(
        cores=share,
        tiles=share / cores_per_tile,
        cores_used=used["cores"],
        tiles_used=used["tiles"],
        cores_allocated=allocated["cores"],
        tiles_allocated=allocated["tiles"],
        nodes_allocated=allocated["nodes"],
    )


def idle_slots(placed: Placement, core, tile_shared) -> tuple[Any, Any]:
    """(area m², leakage W) of the allocated cores' empty array slots and the allocated tiles'
    empty core slots. ``core`` and ``tile_shared`` are the Costs of one core and of one tile's
    units outside its cores, per layer ``(L,)`` where per-layer knobs make them differ (their
    mean over the layers' shares is taken) or scalars."""
    used_cores, used_tiles = jnp.sum(placed.cores), jnp.sum(placed.tiles)
    empty_cores, empty_tiles = placed.cores_allocated - used_cores, placed.tiles_allocated - used_tiles

    def unit(value, shares, used):  # the share-weighted mean; the plain mean where none is used
        values = jnp.broadcast_to(value, shares.shape)
        safe = jnp.where(used > 0, used, 1.0)
        return jnp.where(used > 0, jnp.sum(values * shares) / safe, jnp.mean(values))

    area = empty_cores * unit(core.area, placed.cores, used_cores)
    area = area + empty_tiles * unit(tile_shared.area, placed.tiles, used_tiles)
    leakage = empty_cores * unit(core.leakage, placed.cores, used_cores)
    leakage = leakage + empty_tiles * unit(tile_shared.leakage, placed.tiles, used_tiles)
    return area, leakage


# ---------------------------------------------------------------------------------------------
# Pipelining and leakage


def pipeline(first, duration, mode: str = "ste"):
    """Per-layer latencies of an inter-layer pipeline, ``(L,)``, summing to its total.

    Layer ``i`` hands its first output on after ``first_i`` and finishes after ``duration_i``;
    the next layer starts with that first output (PUMA 3.4.1, ISAAC's pipeline), so the
    inference takes ``sum_i first_i + max_i (duration_i - first_i)`` (the maximum through
    :func:`hwjax.relax.max`). Layer ``i`` is charged ``first_i`` plus a share of the slowest
    tail in proportion to its own tail ``duration_i - first_i``.
    """
    first, duration = jnp.asarray(first, dtype=float), jnp.asarray(duration, dtype=float)
    rest = duration - first
    tail = relax.max(rest, mode=mode)
    rest_sum = jnp.sum(rest)
    share = jnp.where(rest_sum > 0, rest / jnp.where(rest_sum > 0, rest_sum, 1.0), 0.0)
    return first + tail * share


def scale_latencies(items: dict[str, Cost], charged) -> dict[str, Cost]:
    """Each layer's entries with their latencies scaled so that they add up to ``charged``
    ``(L,)`` (unchanged where a layer's entries have no latency)."""
    latency = sum(cost.latency for cost in items.values())
    factor = jnp.where(latency > 0, charged / jnp.where(latency > 0, latency, 1.0), 1.0)
    return {k: unchecked(c.energy, c.latency * factor, c.area, c.leakage, c.ops) for k, c in items.items()}


#: How allocated hardware leaks while it waits (:func:`idle_leakage`).
LEAKAGE_RULES = ("gated", "exclusive", "time_shared")


def idle_leakage(layer_leakage, latencies, other_leakage, rule: str):
    """Leakage energy, J, of allocated hardware while it waits (the ``"idle"`` row).

    ``layer_leakage`` ``(L,)`` W of the hardware each layer uses, charged in its own rows over
    its ``latencies`` ``(L,)``. ``rule`` (static):

    * ``"gated"`` (PUMA: idle units are power-gated): nothing leaks while it waits, 0.
    * ``"exclusive"`` (ISAAC's pipeline, a chip sized for the network): each layer's hardware is
      its own and leaks while the other layers run; ``other_leakage`` W (hardware no layer uses)
      leaks throughout: ``sum_l leak_l (T - t_l) + other T``.
    * ``"time_shared"`` (TIMON: every layer runs on the same units in turn): while layer ``l``
      runs, the units it does not use leak; ``other_leakage`` W is all allocated units':
      ``sum_l (other - leak_l) t_l``.

    Both sums have no difference of nearly equal totals (float32 keeps them to round-off).
    """
    validate.check_choice("rule", rule, LEAKAGE_RULES)
    if rule == "gated":
        return jnp.zeros(())
    if rule == "exclusive":
        inference = jnp.sum(latencies)
        return jnp.sum(layer_leakage * (inference - latencies)) + other_leakage * inference
    return jnp.sum((other_leakage - layer_leakage) * latencies)


# ---------------------------------------------------------------------------------------------
# The Report


def _by_layer(cost: Cost, layers: int) -> list[Cost]:
    """A Cost of arrays ``(L,)`` as one Cost per layer (scalar fields are every layer's); one
    split per field, whose gradient is one concatenation (indexing each entry would pad)."""
    fields = [getattr(cost, name) for name in COST_FIELDS]
    split = [jnp.unstack(jnp.asarray(x)) if jnp.ndim(x) else [x] * layers for x in fields]
    return [unchecked(*entry) for entry in zip(*split, strict=True)]


def layer_report(table: LayerTable, items: dict[str, Cost], idle: Cost | None = None) -> Report:
    """``Report({layer: Report(items, "serial"), ..., "idle": idle}, "serial")``.

    ``items`` maps an entry name to a Cost of arrays ``(L,)`` (a Report of such Costs for a
    nested entry); ``idle`` (energy J, area m², no latency) is added as the last row.
    """
    n = len(table)

    def split(item):
        if isinstance(item, Report):
            parts = {k: split(v) for k, v in item.items()}
            return [Report({k: v[j] for k, v in parts.items()}, item.compose) for j in range(n)]
        return _by_layer(item, n)

    columns = {entry: split(item) for entry, item in items.items()}
    rows: dict[str, Any] = {
        name: Report({entry: parts[j] for entry, parts in columns.items()}, "serial")
        for j, name in enumerate(table.names)
    }
    if idle is not None:
        if "idle" in rows:
            raise ValueError("a layer is named 'idle', which the Report keeps for idle hardware; rename it")
        rows["idle"] = idle
    return Report(rows, "serial")


# ---------------------------------------------------------------------------------------------
# A live model


def cost_flax(
    inference, config, model, *example_inputs, rows: int, cols: int, mode: str = "ste", layers=None
):
    """Cost a live Flax NNX ``model`` with its actual weights on an accelerator.

    The workload comes from tracing ``model(*example_inputs)`` and each layer's crossbar block
    occupancy from the weights that reach its matrix products (masks respected;
    :func:`hwjax.workloads.occupancy_from_flax` on ``rows x cols`` arrays, ``mode``: exact in
    value, differentiable in the weights in ``"ste"`` and ``"smooth"``), so empty blocks cost
    nothing. ``inference`` is a model's ``inference(config, network, mode, layers=...)``;
    ``layers`` adds other per-layer knobs. Returns its Report.
    """
    network, occupancy = workloads.occupancy_from_flax(
        model, *example_inputs, rows=rows, cols=cols, mode=mode
    )
    knobs = dataclasses.replace(layers or LayerKnobs(), occupancy=occupancy)
    return inference(config, network, mode, layers=knobs)


# ---------------------------------------------------------------------------------------------
# Batches


def _knob_batch_shape(name: str, value) -> tuple[int, ...]:
    """Leading (batch) axes of a per-layer knob: all but its layer axis (and slice axis)."""
    return jnp.shape(value)[: -2 if name == "slice_bits" else -1]


def batch_shape(config, layers: LayerKnobs | None = None) -> tuple[int, ...]:
    """The broadcast batch shape of ``config``'s leaves and ``layers``' leading axes (``()`` for
    one design)."""
    shapes = [jnp.shape(leaf) for leaf in jax.tree_util.tree_leaves(config)]
    if layers is not None:
        shapes += [_knob_batch_shape(name, value) for name, value in layers.given().items()]
    return np.broadcast_shapes(*shapes)


def batched(fn):
    """Give a model ``fn(config, network, ..., layers=None)`` batch semantics.

    Config leaves of a common broadcast shape ``B`` (e.g. ``adc_bits`` of shape ``(n,)``), and
    per-layer knobs of shape ``B + (L,)``, evaluate ``fn`` once per design (``jax.vmap``), so
    every output leaf gets shape ``B + ...``, equal to separate calls. One design calls ``fn``
    directly.
    """

    @functools.wraps(fn)
    def wrapper(config, *args, layers: LayerKnobs | None = None, **kwargs):
        if layers is not None and not isinstance(layers, LayerKnobs):
            raise ValueError(f"layers must be a hwjax.system.LayerKnobs or None, got {type(layers).__name__}")
        shape = batch_shape(config, layers)
        if not shape:
            return fn(config, *args, layers=layers, **kwargs)
        size = int(np.prod(shape))

        def flatten(x, tail=()):
            return jnp.broadcast_to(x, shape + tail).reshape((size, *tail))

        flat = jax.tree_util.tree_map(flatten, config)
        knobs = None
        if layers is not None:
            tails = {
                name: jnp.shape(v)[len(_knob_batch_shape(name, v)) :] for name, v in layers.given().items()
            }
            knobs = dataclasses.replace(
                layers, **{n: flatten(v, tails[n]) for n, v in layers.given().items()}
            )
        out = jax.vmap(lambda c, k: fn(c, *args, layers=k, **kwargs))(flat, knobs)
        return jax.tree_util.tree_map(lambda x: x.reshape(shape + x.shape[1:]), out)

    return wrapper
