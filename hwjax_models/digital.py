"""A weight-stationary digital (SRAM + MAC array) accelerator: PUMA's and PANTHER's Base_digital.

PANTHER's digital baseline (dissertation section 5.6.3) "uses a digital version of the MCU where
weights are stored in an SRAM array within the core and matrix operations are performed with a
digital VFU"; it adapts the digital baseline of PUMA, "an optimistic estimate of the Google TPU:
it uses weight-stationary MVM computations similar to TPU, but assumes that the entire model is
mapped using on-chip SRAM, thereby avoiding the off-chip memory access costs". This module builds
that design from hwjax components and follows the issue-4 accelerator interface (``Config``,
``core``, ``tile``, ``chip``, ``peak``, ``inference``).

**Hardware.** A node holds ``tiles`` tiles of ``cores_per_tile`` cores. A core is a
``mac_rows x mac_cols`` weight-stationary MAC array (each cell a ``digital.ArithmeticUnit``
multiply-accumulate: a ``weight_bits`` multiplier and an ``accumulator_bits`` adder, Horowitz's
energies scaled to the node) with its slice of the weight SRAM (``memory.Memory``), which loads
one row of ``mac_cols`` weights per cycle into the array. A tile holds the activation buffer
(inputs read a vector of ``mac_rows`` words per cycle, outputs written), the accumulators (partial
sums of ``accumulator_bits``, read-modify-write) and a VFU of ``vfu_width`` lanes (PUMA's
``digital.VFU``; sigmoid, tanh and softmax on ``digital.Activation`` units). Every SRAM is built
of banks of ``sram_bank_bytes`` (at most 1024 banks, at least one). There is no on-chip network
and no off-chip traffic (the whole model stays in on-chip SRAM: the optimistic assumption).

Default: PUMA's technology and clock (32 nm, 1 GHz) so that it compares with PUMA; one core of
128x128 16-bit MACs (TPU's 256x256 8-bit array does the same 16-bit work per cycle, dissertation
Table 3.8 footnote: 92 TOPS at 8 bits is 23 TOPS at 16); a 72.4 MB weight SRAM, the weight
capacity of one PUMA/PANTHER node (138 tiles x 8 cores x 2 MVMUs x 8 crossbars x 128 x 128
2-bit cells, PANTHER Table 5.3's on-chip memory); TPU's 24 MiB activation buffer and 4 MiB
accumulators. :data:`TPU_LIKE` is the same design at TPU's 28 nm and 700 MHz with TPU's 256 KiB
weight FIFO in place of the weight SRAM.

**Full activity** (``chip``): every MAC busy every cycle, the weight SRAM loading one row per
cycle per core (the double-buffered weight path kept busy), the activation buffer reading one
input vector and writing one output vector per core per cycle, the accumulators reading and
writing ``mac_cols`` partial sums per core per cycle, every VFU lane busy. **Peak** (``peak``)
runs MVMs back to back with *stationary* weights (TPU's peak convention: each loaded weight is
reused by enough vectors that its load costs nothing), so its energy is the full-activity energy
less the weight loads; ``ops = 2 x mac_rows x mac_cols x cores`` per cycle.

**Inference** (batch 1, weight stationary). Every SRAM is sized for the workload, the optimistic
reading of "the entire model is mapped using on-chip SRAM" (idle capacity neither leaks nor takes
area): the weight SRAM holds all the weights, the activation buffer the largest layer's inputs and
outputs, the accumulators the largest matrix's outputs over all its vectors (each at least 1 KiB);
the Config's capacities apply to ``chip`` and ``peak`` only. Each matrix is tiled into
``ceil(K / mac_rows) x ceil(N / mac_cols)`` blocks (:func:`hwjax.system.map_layers`, for tiling only).
Each block's weights are read from the SRAM once per inference and stay in the array while all
``V`` vectors stream through it, one per cycle (so convolutions reuse a weight across their output
pixels, while a batch-1 dense or LSTM layer uses each loaded weight once: the PUMA/PANTHER
argument). Energy: the MACs actually done (idle cells clock-gated), the weight reads
(non-stationary matrices read their "weights" from the activation buffer instead), input-vector
reads (every column block re-reads its inputs), partial-sum read-modify-writes and output writes
in the accumulators, output writes to the activation buffer, and the vector ops on the VFU.
Latency: the blocks are spread over the node's cores, ``ceil(blocks / cores)`` rounds each lasting
``max(V, mac_rows)`` cycles (computing ``V`` vectors while the next block's ``mac_rows`` weight
rows load), plus the first load and the array's fill and drain (``2 mac_rows + mac_cols`` cycles);
then the vector ops, ``ceil(elements / vfu_width)`` cycles each. Layers run one after another
(TPU's layer-at-a-time execution); the model evaluates them all at once, as arrays over the
layers (:mod:`hwjax.system`). The whole chip is powered for the whole inference (nothing is gated),
so its leakage power times the inference latency is charged as energy: each layer's
``"leakage"`` entry holds what the hardware it uses leaks while it runs (the MAC arrays,
buffers, accumulators and VFU, and its own weights' share of the weight SRAM), and a last
``"idle"`` row the leakage of the other layers' weights while they wait. A layer's area is its
weights' share of the weight SRAM plus an even share of the rest; the idle row has no area (no
allocated hardware is unused). Per-layer ``weight_bits``, ``input_bits``, ``replication`` and
block ``occupancy`` (:class:`hwjax.system.LayerKnobs`) are documented on :func:`inference`.

Every public function works under ``jit``, ``vmap`` over any ``Config`` leaf and ``grad``; counts
go through :mod:`hwjax.relax` with ``mode``.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax.numpy as jnp
import numpy as np

from hwjax import Knob, relax, system, validate
from hwjax import units as u
from hwjax._pytree import pytree_dataclass, static_field
from hwjax.components import digital, memory
from hwjax.cost import Cost, Report, replicate, total, unchecked
from hwjax.mapping import ArrayTarget
from hwjax.tech import DEFAULT_TECH, Tech, check_tech

#: Operations per MAC (multiply and add counted separately, dissertation Table 3.8).
OPS_PER_MAC = 2.0
#: Weight capacity of one PUMA/PANTHER node, bytes (PANTHER Table 5.3: 72.4 MB on-chip memory):
#: 138 tiles x 8 cores x 2 MVMUs x 8 crossbars x 128 x 128 cells x 2 bits.
PUMA_NODE_WEIGHT_BYTES = 138 * 8 * 2 * 8 * 128 * 128 * 2 / 8
#: Most banks a memory may have (the memory model's limit).
MAX_BANKS = 1024.0
_MAX_WIDTH_BITS = 8192.0  # the memory model's widest access

_RANGES = {
    "mac_rows": (8.0, 512.0),
    "mac_cols": (8.0, 512.0),
    "cores_per_tile": (1.0, 64.0),
    "tiles": (1.0, 4096.0),
    "clock_hz": (1e8, 5e9),
    "weight_bits": (4.0, 32.0),
    "input_bits": (4.0, 32.0),
    "accumulator_bits": (8.0, 64.0),
    "weight_buffer_bytes": (1024.0, 2.0**33),
    "activation_buffer_bytes": (1024.0, 2.0**33),
    "accumulator_bytes": (1024.0, 2.0**33),
    "sram_bank_bytes": (1024.0, 2.0**24),
    "vfu_width": (1.0, 4096.0),
}
# VectorOp kinds on the VFU's ALU ops (digital.VFU_OPS); the rest run on activation units.
_VFU_KIND = {"relu": "relu", "add": "add", "mul": "mul", "max": "sub", "copy": "logic"}


@pytree_dataclass
class Config:
    """A weight-stationary digital accelerator (a pytree; defaults: Base_digital, module doc).

    Attributes:
        mac_rows, mac_cols: MAC array size per core (128 x 128), each in [8, 512]; rows take
            the input vector, columns produce outputs.
        cores_per_tile, tiles: cores per tile and tiles per node (1, 1), in [1, 64] / [1, 4096].
        clock_hz: clock, Hz (1 GHz, PUMA's), in [1e8, 5e9].
        weight_bits, input_bits: operand precisions (16, 16), in [4, 32].
        accumulator_bits: partial-sum width (32), in [8, 64].
        weight_buffer_bytes: weight SRAM of the node for ``chip``/``peak`` (72.4 MB), in
            [1 KiB, 8 GiB]; ``inference`` sizes it for the workload instead.
        activation_buffer_bytes, accumulator_bytes: node totals (24 MiB, 4 MiB; TPU's).
        sram_bank_bytes: bank size of every SRAM (64 KiB), in [1 KiB, 16 MiB].
        vfu_width: VFU lanes per tile (128), in [1, 4096].
        tech: CMOS technology (32 nm, 0.9 V; ``vdd`` is a knob).
        name: static label.

    Concrete bad values raise ``ValueError`` naming the field and range; traced values are
    clamped.
    """

    mac_rows: Knob = 128.0
    mac_cols: Knob = 128.0
    cores_per_tile: Knob = 1.0
    tiles: Knob = 1.0
    clock_hz: Knob = 1.0 * u.GHz
    weight_bits: Knob = 16.0
    input_bits: Knob = 16.0
    accumulator_bits: Knob = 32.0
    weight_buffer_bytes: Knob = PUMA_NODE_WEIGHT_BYTES
    activation_buffer_bytes: Knob = 24.0 * 2**20
    accumulator_bytes: Knob = 4.0 * 2**20
    sram_bank_bytes: Knob = 65536.0
    vfu_width: Knob = 128.0
    tech: Tech = DEFAULT_TECH  # PUMA's: dissertation Table 3.5, 32 nm; simulator vdd 0.9 V
    name: str = static_field("base_digital")

    def __post_init__(self):
        check_tech(self.tech)
        validate.check_fields(self, _RANGES)


#: TPU-like configuration (dissertation Table 3.8's TPU column: 28 nm, 700 MHz, 16-bit, 23 TOPS
#: at 16 bits; TPU's 24 MiB unified buffer, 4 MiB accumulators, 256 KiB weight FIFO).
TPU_LIKE = Config(clock_hz=700 * u.MHz, weight_buffer_bytes=256.0 * 1024, tech=Tech(28), name="tpu_like")


# ---------------------------------------------------------------------------------------------
# Components.


def _period(c: Config):
    return 1.0 / c.clock_hz


def _cores(c: Config):
    """MAC arrays in the node."""
    return c.tiles * c.cores_per_tile


def _sram(c: Config, capacity_bytes, width_bits) -> memory.Memory:
    """An SRAM of ``capacity_bytes`` in banks of ``sram_bank_bytes`` (1 to 1024 banks)."""
    capacity = jnp.maximum(capacity_bytes, 16.0)
    width = jnp.minimum(jnp.minimum(width_bits, _MAX_WIDTH_BITS), 8.0 * capacity)
    banks = jnp.clip(capacity / c.sram_bank_bytes, 1.0, MAX_BANKS)
    banks = jnp.minimum(banks, jnp.maximum(8.0 * capacity / width * (1.0 - 1e-6), 1.0))
    return memory.Memory(capacity, width, banks=banks, tech=c.tech)


def _weight_buffer(c: Config, node_bytes) -> memory.Memory:
    """One core's slice of the weight SRAM: loads a row of ``mac_cols`` weights per access."""
    return _sram(c, node_bytes / _cores(c), c.mac_cols * c.weight_bits)


def _activation_buffer(c: Config) -> memory.Memory:
    """One tile's activation buffer: a vector of ``mac_rows`` words per access."""
    return _sram(c, c.activation_buffer_bytes / c.tiles, c.mac_rows * c.input_bits)


def _accumulator(c: Config) -> memory.Memory:
    """One tile's accumulators: ``mac_cols`` partial sums per access."""
    return _sram(c, c.accumulator_bytes / c.tiles, c.mac_cols * c.accumulator_bits)


def _multiplier(c: Config) -> digital.ArithmeticUnit:
    return digital.ArithmeticUnit(bits=c.weight_bits, tech=c.tech, cycle=_period(c))


def _mac(c: Config) -> Cost:
    """One multiply-accumulate (energy J, area m² of one cell; 2 ops)."""
    return digital.mac(_multiplier(c), c.accumulator_bits)


def _vfu(c: Config) -> digital.VFU:
    return digital.VFU(width=c.vfu_width, tech=c.tech, cycle=_period(c))


def _per_cycle(energy, c: Config, area=0.0, leakage=0.0) -> Cost:
    return unchecked(energy, _period(c), area, leakage)


# ---------------------------------------------------------------------------------------------
# chip(): one clock cycle at full activity.


@dataclasses.dataclass(frozen=True)
class _Memories:
    """The SRAMs of one configuration, built once per call: one core's weight slice, one
    tile's activation buffer and accumulators."""

    weights: memory.Memory
    activations: memory.Memory
    accumulators: memory.Memory


def _memories(c: Config) -> _Memories:
    return _Memories(_weight_buffer(c, c.weight_buffer_bytes), _activation_buffer(c), _accumulator(c))


def _core(c: Config, mems: _Memories, loading: bool) -> Report:
    mac = _mac(c)
    cells = c.mac_rows * c.mac_cols
    items = {
        "mac_array": _per_cycle(cells * mac.energy, c, cells * mac.area, cells * mac.leakage),
        "weight_buffer": memory.busy_cycle(mems.weights, _period(c), 1.0 if loading else 0.0),
    }
    return Report(items, "parallel")


def core(config: Config, mode: str = "ste") -> Report:
    """One core (MAC array and its weight-SRAM slice) for one clock at full activity.

    Returns:
        Report (parallel): ``mac_array`` (every MAC busy), ``weight_buffer`` (one row of weights
        loaded); energy J per cycle, latency one cycle s, area m², leakage W.
    """
    relax.check_mode(mode)
    return _core(config, _memories(config), loading=True)


def _tile(c: Config, mode: str, mems: _Memories, loading: bool) -> Report:
    lanes = digital.vfu_op(_vfu(c), c.vfu_width, "add", mode)
    items = {
        "core": replicate(_core(c, mems, loading), c.cores_per_tile),
        # per core and cycle: an input vector read and an output vector written
        "activation_buffer": memory.busy_cycle(mems.activations, _period(c), 2.0 * c.cores_per_tile),
        # per core and cycle: mac_cols partial sums read and written back
        "accumulator": memory.busy_cycle(mems.accumulators, _period(c), 2.0 * c.cores_per_tile),
        "vfu": _per_cycle(lanes.energy, c, lanes.area, lanes.leakage),
    }
    return Report(items, "parallel")


def tile(config: Config, mode: str = "ste") -> Report:
    """One tile for one clock at full activity, un-replicated (its cores included).

    Returns:
        Report (parallel): ``core`` (x ``cores_per_tile``), ``activation_buffer``,
        ``accumulator``, ``vfu``.
    """
    relax.check_mode(mode)
    return _tile(config, mode, _memories(config), loading=True)


def _chip(c: Config, mode: str, mems: _Memories, loading: bool = True) -> Report:
    node = {"tile": replicate(_tile(c, mode, mems, loading), c.tiles)}
    return Report({"node": Report(node, "parallel")}, "parallel")


def chip(config: Config, mode: str = "ste") -> Report:
    """The node for one clock at full activity (``total(chip(c)).power`` is its power, W).

    Returns:
        ``Report({"node": Report({"tile": <tile x tiles>}, "parallel")}, "parallel")``; no
        network entries (the model stays on chip, module doc).
    """
    relax.check_mode(mode)
    return _chip(config, mode, _memories(config))


def peak(config: Config, mode: str = "ste") -> Cost:
    """Every MAC busy with stationary weights for one cycle (TPU's peak convention).

    Returns:
        Cost: ``ops`` 2 x MACs per cycle, ``latency`` one cycle (s), ``energy`` the full-activity
        energy less weight loads (J), node ``area`` (m²) and ``leakage`` (W).
    """
    relax.check_mode(mode)
    c = config
    busy = total(_chip(c, mode, _memories(c), loading=False))
    ops = OPS_PER_MAC * c.mac_rows * c.mac_cols * _cores(c)
    return unchecked(busy.energy, busy.latency, busy.area, busy.leakage, ops)


# ---------------------------------------------------------------------------------------------
# inference(): one batch-1 inference.


@dataclasses.dataclass(frozen=True)
class _Work:
    """This model's reading of a network (static, built once per LayerTable): arrays ``(L,)``."""

    weights: Any  # weights of each layer's matrices, sum of K x N
    total_weights: float  # all of them
    activations: Any  # input plus output elements of each layer
    largest_activations: float  # the most of any layer
    largest_sums: float  # the largest matrix's outputs over all its vectors, N x V (0: none)
    vfu_elements: dict  # VFU op -> elements of the vector ops it runs
    unit_elements: Any  # elements on activation units (the other vector ops)


@functools.lru_cache(maxsize=64)
def _work(table: system.LayerTable) -> _Work:
    kinds, elements = table.vector_kinds, table.vector_elements
    weights = np.sum(table.rows * table.cols * table.op_mask, axis=1)
    activations = np.asarray([layer.input_elements + layer.output_elements for layer in table.layers], float)
    used = sorted({_VFU_KIND[k] for k in np.unique(kinds) if k in _VFU_KIND})
    on_vfu = np.isin(kinds, list(_VFU_KIND))
    runs = lambda op: [k for k, v in _VFU_KIND.items() if v == op]  # noqa: E731
    return _Work(
        weights=weights,
        total_weights=float(np.sum(weights)),
        activations=activations,
        largest_activations=float(np.max(activations)),
        largest_sums=float(np.max(table.cols * table.vectors * table.op_mask)),
        vfu_elements={op: np.sum(np.where(np.isin(kinds, runs(op)), elements, 0.0), axis=1) for op in used},
        unit_elements=np.sum(np.where(on_vfu, 0.0, elements), axis=1),  # padding holds 0 elements
    )


#: Knobs :func:`inference` takes per layer (:class:`hwjax.system.LayerKnobs`).
LAYER_KNOBS = ("weight_bits", "input_bits", "replication", "occupancy")


@dataclasses.dataclass(frozen=True)
class _Knobs:
    """The per-layer knobs resolved: ``(L,)`` arrays where given, else the Config's scalars
    (replication and occupancy: ``None``, the dense model computed exactly as without knobs)."""

    weight_bits: Any
    input_bits: Any
    replication: Any
    occupancy: Any
    per_layer_storage: bool  # any knob that changes a layer's stored weight bits


def _knobs(config: Config, knobs: system.LayerKnobs) -> _Knobs:
    bits = {
        name: config_value
        if getattr(knobs, name) is None
        else validate.check_range(f"layers.{name}", getattr(knobs, name), *_RANGES[name])
        for name, config_value in (("weight_bits", config.weight_bits), ("input_bits", config.input_bits))
    }
    storage = any(getattr(knobs, n) is not None for n in ("weight_bits", "replication", "occupancy"))
    return _Knobs(**bits, replication=knobs.replication, occupancy=knobs.occupancy, per_layer_storage=storage)


def _stored_bits(w: _Work, k: _Knobs):
    """Weight bits each layer keeps in the weight SRAM, ``(L,)``: its weights at its weight
    bits, in its occupied blocks only, once per copy."""
    stored = w.weights * k.weight_bits
    stored = stored if k.occupancy is None else stored * k.occupancy
    return stored if k.replication is None else stored * k.replication


def _sized_for(config: Config, w: _Work, k: _Knobs, stored, mode: str) -> Config:
    """``config`` sized for the workload: every SRAM holds what the network needs (at least
    1 KiB each, module doc) and the datapath is as wide as the widest layer's operands.

    Weights: all the stored weight bits. Activations: the largest layer's inputs plus outputs
    (at its input bits). Accumulators: the largest matrix's outputs over all its vectors, at
    ``accumulator_bits``.
    """
    floor = _RANGES["weight_buffer_bytes"][0]
    per_layer = lambda x: jnp.ndim(x) > 0  # noqa: E731
    weight_bits = relax.max(k.weight_bits, mode=mode) if per_layer(k.weight_bits) else k.weight_bits
    input_bits = relax.max(k.input_bits, mode=mode) if per_layer(k.input_bits) else k.input_bits
    if k.per_layer_storage:
        weight_bytes = jnp.sum(stored) / 8.0
    else:  # the dense model: the static total at the Config's precision
        weight_bytes = w.total_weights * config.weight_bits / 8.0
    if per_layer(k.input_bits):
        activation_bytes = relax.max(w.activations * k.input_bits, mode=mode) / 8.0
    else:
        activation_bytes = w.largest_activations * config.input_bits / 8.0
    return dataclasses.replace(
        config,
        weight_bits=weight_bits,
        input_bits=input_bits,
        weight_buffer_bytes=jnp.maximum(weight_bytes, floor),
        activation_buffer_bytes=jnp.maximum(activation_bytes, floor),
        accumulator_bytes=jnp.maximum(w.largest_sums * config.accumulator_bits / 8.0, floor),
    )


@dataclasses.dataclass(frozen=True)
class _Parts:
    """Unit costs of the sized chip (J, m², W); ``mac`` per layer where weight bits are."""

    mac: Any  # one MAC, J: scalar or (L,)
    weight_access: Any  # one weight-row read
    activation_access: Any
    accumulator_access: Any
    activation_unit: Any  # one sigmoid/tanh element
    vfu_ops: dict  # VFU energy per element by VFU op (the ops the workload uses)
    hardware: Cost  # the whole node (area, leakage)
    weight_buffer: Cost  # the weight SRAM alone (area, leakage)


def _parts(c: Config, k: _Knobs, mode: str, vfu_ops) -> _Parts:
    mems = _memories(c)
    activation = digital.Activation(width=1.0, tech=c.tech, cycle=_period(c))
    vfu = _vfu(c)
    weights_area, weights_leakage = memory.area(mems.weights), memory.leakage(mems.weights)
    if jnp.ndim(k.weight_bits):  # each layer multiplies at its own width on the widest array
        unit = digital.ArithmeticUnit(bits=k.weight_bits, tech=c.tech, cycle=_period(c))
        mac = digital.mac(unit, c.accumulator_bits).energy
    else:
        mac = _mac(c).energy
    return _Parts(
        mac=mac,
        weight_access=memory.read_energy(mems.weights),
        activation_access=memory.read_energy(mems.activations),
        accumulator_access=memory.read_energy(mems.accumulators),
        activation_unit=digital.activation(activation, 1.0, mode).energy,
        vfu_ops={op: digital.vfu_op(vfu, 1.0, op, mode).energy for op in vfu_ops},
        hardware=total(_chip(c, mode, mems)),
        weight_buffer=unchecked(0.0, 0.0, _cores(c) * weights_area, _cores(c) * weights_leakage),
    )


def _accesses(bits, width, mode: str):
    return relax.ceil(bits / width, mode=mode)


_TRAFFIC = ("weight_buffer", "activation_buffer", "accumulator")


def _matrices(c: Config, p: _Parts, t: system.LayerTable, k: _Knobs, mode: str) -> dict[str, Any]:
    """Energies (J), cycles and MACs of every matrix, summed per layer, ``(L,)`` each.

    The blocks are found by :func:`hwjax.system.map_layers` on a tiling-only target (one slice
    and one input cycle: the bit fields do not affect the block counts); ``occupancy`` removes
    the empty blocks. ``replication`` copies of a matrix split its vectors and each load their
    weights."""
    target = ArrayTarget(c.mac_rows, c.mac_cols, 1.0, 1.0, 1.0, 1.0)
    m = system.map_layers(t, target, False, mode, k.occupancy)
    weight_bits, input_bits = system.column(k.weight_bits), system.column(k.input_bits)
    stored = t.rows * t.cols * weight_bits
    stored = stored if k.occupancy is None else stored * system.column(k.occupancy)
    stored = stored if k.replication is None else stored * system.column(k.replication)
    row_width, input_width = c.mac_cols * c.weight_bits, c.mac_rows * c.input_bits
    # Non-stationary matrices (both operands activations) read their "weights" from the
    # activation buffer instead of the weight SRAM.
    weights = jnp.where(t.stationary, _accesses(stored, row_width, mode) * p.weight_access, 0.0)
    weight_acts = jnp.where(t.stationary, 0.0, _accesses(stored, input_width, mode) * p.activation_access)
    inputs = _accesses(m.input_loads * input_bits, input_width, mode) * p.activation_access
    outputs = _accesses(m.outputs * input_bits, input_width, mode) * p.activation_access
    sums_width = c.mac_cols * c.accumulator_bits
    sums = _accesses(m.outputs * c.accumulator_bits, sums_width, mode)  # written once
    sums = sums + 2.0 * _accesses(m.partial_sums * c.accumulator_bits, sums_width, mode)  # RMW
    if k.replication is None:
        rounds = relax.ceil(m.logical_arrays / _cores(c), mode=mode)
        vectors = t.vectors
    else:
        copies = system.column(k.replication)
        rounds = relax.ceil(m.logical_arrays * copies / _cores(c), mode=mode)
        vectors = relax.ceil(t.vectors / copies, mode=mode)
    cycles = rounds * relax.maximum(vectors, c.mac_rows, mode=mode) + 2.0 * c.mac_rows + c.mac_cols
    done = m.macs if k.occupancy is None else m.macs * system.column(k.occupancy)
    grids = {
        "macs": m.macs,
        "mac_energy": done * system.column(p.mac),
        "weight_buffer": weights,
        "activation_buffer": weight_acts + inputs + outputs,
        "accumulator": sums * p.accumulator_access,
        "cycles": cycles,
    }
    return {key: t.to_layers(grid) for key, grid in grids.items()}


def _vectors(c: Config, p: _Parts, t: system.LayerTable, w: _Work, mode: str) -> Cost:
    """The vector ops on the VFU, one after another: energy J, latency s, ``(L,)``."""
    energy = w.unit_elements * p.activation_unit
    energy = energy + sum((e * p.vfu_ops[op] for op, e in w.vfu_elements.items()), 0.0)
    cycles = jnp.sum(relax.ceil(t.vector_elements / c.vfu_width, mode=mode), axis=1)  # padding: 0
    return unchecked(energy, cycles * _period(c))


def _weight_share(w: _Work, k: _Knobs, stored, layers: int):
    """Each layer's share of the weight SRAM, ``(L,)``: its stored bits over all of them."""
    if k.per_layer_storage:
        total_bits = jnp.sum(stored)
        safe = jnp.where(total_bits > 0, total_bits, 1.0)
        return jnp.where(total_bits > 0, stored / safe, 1.0 / layers)
    if w.total_weights:
        return w.weights / w.total_weights
    return jnp.full(layers, 1.0 / layers)


def _occupied(p: _Parts, weight_share, layers: int) -> tuple[Any, Any]:
    """(area m², leakage W) of each layer, ``(L,)``: the area is its weights' share of the weight
    SRAM plus an even share of the rest (time-shared by every layer); the leakage is that of the
    hardware powered while it runs, all of the rest and its own weights."""
    hardware, weights = p.hardware, p.weight_buffer
    area = (hardware.area - weights.area) / layers + weight_share * weights.area
    leakage = (hardware.leakage - weights.leakage) + weight_share * weights.leakage
    return area, leakage


@system.batched
def inference(config: Config, workload, mode: str = "ste", layers: system.LayerKnobs | None = None) -> Report:
    """Energy and latency of one batch-1 inference of ``workload`` (module docstring).

    The chip is sized for the workload (its SRAM capacities are replaced by the workload's
    needs, module doc); every matrix is tiled into ``mac_rows x mac_cols`` blocks at once
    (:func:`hwjax.system.map_layers`). Layers run one after another (no pipelining): a layer's
    latency is its MVM and VFU time, and the inference's latency is their sum. Per layer,
    serially:

    * ``mvm``: the MACs done (energy J), the MAC array's cycles (latency s); ``ops`` = 2 x the
      layer's MACs (the workload's, also where ``occupancy`` skips blocks).
    * ``vfu``: the vector ops on the VFU.
    * ``data_movement``: ``weight_buffer``, ``activation_buffer`` and ``accumulator`` traffic
      (energy J; overlapped with the MACs, latency 0).
    * ``leakage``: energy J leaked while the layer runs by the hardware it uses: the MAC
      arrays, buffers, accumulators and VFU (all of them: the layer has the chip to itself) and
      its own weights' share of the weight SRAM; ``area`` m² is that weight-SRAM share plus an
      even share of the rest.

    A last row ``idle`` (energy J) holds the leakage of the weights that wait while other layers
    run: the whole chip is powered for the whole inference (nothing is gated; idle capacity does
    not exist, the SRAMs being sized for the workload), so the leakage adds up to the chip's
    leakage power times the inference latency (:func:`hwjax.system.idle_leakage`, ``"exclusive"``).
    Its area is 0: no allocated hardware is unused. Every Cost has ``leakage`` 0, so the leaf
    rows add up to ``total(report)`` in every field.

    **Per-layer knobs** (``layers``, :data:`LAYER_KNOBS`, arrays ``(L,)``):

    * ``weight_bits``, ``input_bits``: each layer's operand precision (ranges as the Config's).
      Layers share one MAC array and one set of SRAMs built for the widest layer (its
      ``weight_bits`` and ``input_bits``: the largest over the layers, :func:`hwjax.relax.max`);
      narrower operands are packed into the SRAMs' rows (fewer accesses) and a layer's MACs cost
      a multiply of its own width. The weight SRAM holds every layer's weights at its own bits,
      the activation buffer the largest layer's activations at its own bits.
    * ``replication`` (>= 1): copies of the layer's weight blocks on other cores; the copies
      split its vectors, so the layer takes ``ceil(blocks x r / cores)`` rounds of
      ``max(ceil(V / r), mac_rows)`` cycles. The weight SRAM stores, and each inference loads,
      every copy; MAC and activation traffic are unchanged.
    * ``occupancy`` (in [0, 1]): the fraction of the layer's ``mac_rows x mac_cols`` weight
      blocks holding any nonzero weight (:func:`hwjax.mapping.block_occupancy_fraction`). All-zero
      blocks are neither stored nor loaded nor multiplied: the layer's weight storage, weight
      reads, MACs done, input reads, partial sums and rounds scale with it
      (:func:`hwjax.mapping.map_counts`); its outputs are still written.

    Args:
        config: the accelerator; leaves of shape ``(n,)`` give a batch of ``n`` designs.
        workload: a :class:`hwjax.workloads.Network` (static structure).
        mode: :mod:`hwjax.relax` mode of every count.
        layers: per-layer knobs (:data:`LAYER_KNOBS`), ``None`` for none.

    Returns:
        ``Report({layer: Report({"mvm", "vfu", "data_movement": Report({"weight_buffer",
        "activation_buffer", "accumulator"}), "leakage"}, "serial"), ..., "idle": Cost},
        "serial")``: energies J, latencies s (layers in sequence), areas m², leakage 0.
    """
    relax.check_mode(mode)
    table = system.layer_table(workload)
    knobs = _knobs(config, system.check_layer_knobs(layers, table, LAYER_KNOBS))
    work = _work(table)
    stored = _stored_bits(work, knobs)
    sized = _sized_for(config, work, knobs, stored, mode)
    p = _parts(sized, knobs, mode, tuple(work.vfu_elements))
    counts = _matrices(sized, p, table, knobs, mode)
    vectors = _vectors(sized, p, table, work, mode)
    mvm_latency = counts["cycles"] * _period(sized)
    latency = mvm_latency + vectors.latency  # each layer runs this long, one after another
    weight_share = _weight_share(work, knobs, stored, len(table))
    area, leakage = _occupied(p, weight_share, len(table))
    items = {
        "mvm": unchecked(counts["mac_energy"], mvm_latency, ops=OPS_PER_MAC * counts["macs"]),
        "vfu": vectors,
        "data_movement": Report({key: unchecked(counts[key], 0.0) for key in _TRAFFIC}, "serial"),
        "leakage": unchecked(leakage * latency, 0.0, area),
    }
    # Each layer's weights leak while the other layers run (nothing is gated or empty).
    waiting = system.idle_leakage(weight_share * p.weight_buffer.leakage, latency, 0.0, "exclusive")
    return system.layer_report(table, items, unchecked(waiting, 0.0, 0.0))
