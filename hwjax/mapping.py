"""Matrices onto arrays: tiling, bit slicing, input streaming, utilization and placement.

A stationary weight matrix ``W`` of ``K x N`` (``K`` = rows = input-vector length, ``N`` =
columns = outputs; a :class:`hwjax.workloads.MatrixOp`) is mapped onto ``R x C`` arrays (a
crossbar, or a CIM bank) described by an :class:`ArrayTarget`. Every count below is per
inference and goes through :func:`hwjax.relax.ceil` with the caller's ``mode``:

* **tiling**: ``row_blocks = ceil(K / R)``, ``col_blocks = ceil(N / C)``; one *logical array*
  per block, ``logical_arrays = row_blocks * col_blocks``.
* **bit slicing** (dissertation 3.3.2, "Precision Considerations"; ISAAC): a ``b_w``-bit weight
  on ``b_c``-bit cells needs ``S = ceil(b_w / b_c)`` *physical arrays* per logical array (PUMA:
  16-bit weights on 2-bit cells, 8 crossbars), ``physical_arrays = S * logical_arrays``. The S
  slices of a block see the same input (co-location and input sharing, 3.3.2), so they count as
  one MVM and one input load. With ``slice_bits`` (PANTHER heterogeneous slicing, dissertation
  5.3.4; e.g. ``(4, 4, 4, 6, 6, 5, 5, 5)`` MSB first, 39 stored bits, 5.6.3) ``S = len(slice_bits)``.
* **input streaming** (bit-serial inputs, 3.3.2 and TIMON's streams, 6.4.2): a ``b_in``-bit
  input is applied ``b_dac`` bits per cycle, ``ceil(b_in / b_dac)`` cycles per MVM.
* **utilization**: ``K N / (logical_arrays R C)``, the fraction of mapped cells holding weights.
* **input loads** (dissertation 3.2.3 and "Input Shuffling", 3.3.2): each column block's arrays
  have their own input registers, so every vector is written ``col_blocks`` times. A sliding
  window (a ``k x k`` convolution of stride ``s``) shares a fraction ``r = (k - s) / k`` of each
  vector with the previous one; with input shuffling the shared elements are re-routed to other
  DACs instead of being rewritten, so only the first vector is loaded whole:
  ``K (1 + (V - 1)(1 - r)) col_blocks``; without, ``K V col_blocks``.
* **placement** (:func:`place`): arrays into cores, cores into tiles, tiles into nodes, each a
  ceiling of a ratio.

Relaxation. In ``"exact"`` and ``"ste"`` modes the counts are exact integers (``"ste"``: the
identity's gradient). In ``"smooth"`` mode :func:`hwjax.relax.ceil` relaxes ``ceil(x)`` to
``x`` (the fractional count); since a matrix always occupies at least one array (one slice,
one cycle, one core), each smooth count is floored at one with the smooth
:func:`hwjax.relax.maximum` (log-sum-exp, relative temperature): ``max_T(x, 1)``, which is
within 3.5% of ``max(x, 1)`` and differentiable everywhere. So smooth ``utilization`` is just
below 1 for a matrix larger than the array and ``K N / (R C)`` for a smaller one.

A TIMON register-file sub-bank (dissertation 6.4.2-6.4.3) maps the same way with ``R`` = word
lines holding the stationary matrix, ``C`` = in-memory cells (IMCs) per row (bit lines / slice
width), ``bits_per_cell`` = slice width and ``dac_bits`` = stream width; the dot-product width
(word lines active per step) is the bank model's concern, not the mapping's.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import relax, validate
from hwjax._pytree import Knob, pytree_dataclass, static_field

MAX_CELL_BITS = 8.0  # multi-level cells beyond 8 bits are not practical (PUMA: 2-6 bits, 3.3.2)
_MAX_OPERAND_BITS = 64.0
_SLICE_SUM_TOLERANCE = 1e-9


@pytree_dataclass
class ArrayTarget:
    """The array a matrix is mapped onto: a crossbar or a CIM bank (a pytree).

    Attributes:
        rows: array rows ``R`` (inputs per MVM), >= 1; non-integer values are relaxed sizes.
        cols: array columns ``C`` (outputs per MVM), >= 1.
        bits_per_cell: bits stored per cell ``b_c``, in [1, 8]; not used by the mapping when
            ``slice_bits`` is given (set it to ``max(slice_bits)`` for models that size ADCs
            from it).
        weight_bits: weight precision ``b_w``, bits, in [1, 64] (with ``slice_bits``: the bits
            stored, carry bits included, e.g. 39 for PANTHER's 32-bit weights).
        input_bits: input precision ``b_in``, bits, in [1, 64].
        dac_bits: input bits applied per cycle ``b_dac``, in [1, ``input_bits``].
        slice_bits: static; ``None`` for homogeneous slicing, else a tuple of bits per slice,
            MSB first, each in (0, 8], summing to ``weight_bits`` (PANTHER 5.3.4).

    Numeric fields are leaves (traced, batched, differentiated). Concrete bad values raise
    ``ValueError`` naming the field and its range; traced values are clamped into range
    (``dac_bits`` to ``[1, input_bits]``).
    """

    rows: Knob = 128.0
    cols: Knob = 128.0
    bits_per_cell: Knob = 2.0
    weight_bits: Knob = 16.0
    input_bits: Knob = 16.0
    dac_bits: Knob = 1.0
    slice_bits: tuple | None = static_field(None)

    def __post_init__(self):
        ranges = {
            "rows": (1.0, None),
            "cols": (1.0, None),
            "bits_per_cell": (1.0, MAX_CELL_BITS),
            "weight_bits": (1.0, _MAX_OPERAND_BITS),
            "input_bits": (1.0, _MAX_OPERAND_BITS),
            "dac_bits": (1.0, _MAX_OPERAND_BITS),
        }
        validate.check_fields(self, ranges)
        self._set("dac_bits", _check_dac_bits(self.dac_bits, self.input_bits))
        self._set("slice_bits", _check_slice_bits(self.slice_bits, self.weight_bits))

    def _set(self, name: str, value) -> None:
        object.__setattr__(self, name, value)


def _check_dac_bits(dac_bits, input_bits):
    """``dac_bits`` in ``[1, input_bits]``: raise when both are concrete, clamp when traced."""
    if validate.is_traced((dac_bits, input_bits)):
        return jnp.clip(dac_bits, 1.0, input_bits)
    dac, inp = np.broadcast_arrays(np.asarray(dac_bits, float), np.asarray(input_bits, float))
    bad = dac > inp
    if bad.any():
        raise ValueError(
            f"dac_bits={dac[bad].ravel()[0]:g} is outside the allowed range "
            f"[1, input_bits={inp[bad].ravel()[0]:g}]: a cycle cannot apply more bits than the input has"
        )
    return dac_bits


def _check_slice_bits(slice_bits, weight_bits) -> tuple[float, ...] | None:
    """``slice_bits`` as a tuple of floats, each in (0, 8], summing to concrete ``weight_bits``."""
    if slice_bits is None:
        return None
    try:
        slices = tuple(float(b) for b in slice_bits)
    except (TypeError, ValueError):
        raise ValueError(f"slice_bits={slice_bits!r} must be a tuple of numbers of bits or None") from None
    if not slices:
        raise ValueError("slice_bits is empty; it must list the bits of at least one slice (or be None)")
    validate.check_range("slice_bits", np.asarray(slices), 0.0, MAX_CELL_BITS, low_open=True)
    if not validate.is_traced(weight_bits):
        total = sum(slices)
        if np.any(np.abs(np.asarray(weight_bits, float) - total) > _SLICE_SUM_TOLERANCE):
            raise ValueError(
                f"slice_bits={slice_bits!r} sum to {total:g} bits but weight_bits={weight_bits!r}; "
                "they must sum to weight_bits (count carry bits in weight_bits)"
            )
    return slices


def _count(x, mode: str):
    """``ceil(x)`` through :func:`relax.ceil`; in smooth mode floored at one (see module doc)."""
    count = relax.ceil(x, mode)
    if mode == "smooth":
        count = relax.maximum(count, 1.0, mode="smooth")
    return count


def _extra_blocks(x, mode: str):
    """``ceil(x) - 1`` (blocks beyond the first); in smooth mode ``max(x - 1, 0)`` directly, so
    a matrix that fits one array gives 0 rather than the rounding residue of ``max(x, 1) - 1``."""
    if mode == "smooth":
        return relax.maximum(x - 1.0, 0.0, mode="smooth")
    return relax.ceil(x, mode) - 1.0


def weight_slices(target: ArrayTarget, mode: str = "ste"):
    """Physical arrays per logical array (weight slices), a scalar count.

    ``ceil(weight_bits / bits_per_cell)`` for homogeneous slicing (dissertation 3.3.2: 16-bit
    weights on 2-bit cells need 8 crossbars); ``len(slice_bits)`` with heterogeneous slicing
    (PANTHER 5.3.4), a constant.
    """
    if target.slice_bits is not None:
        relax.check_mode(mode)
        return jnp.asarray(float(len(target.slice_bits)))
    return _count(jnp.asarray(target.weight_bits) / target.bits_per_cell, mode)


def slice_levels(target: ArrayTarget):
    """Bits held by each weight slice, MSB first: array ``(S,)``, bits.

    Heterogeneous: ``slice_bits``. Homogeneous: ``bits_per_cell`` per slice, the MSB slice
    holding the remainder ``weight_bits - (S - 1) bits_per_cell``. The shape depends on the
    number of slices, so a homogeneous target needs concrete ``weight_bits`` and
    ``bits_per_cell`` (values may still be arrays of one element each).
    """
    if target.slice_bits is not None:
        return jnp.asarray(target.slice_bits)
    if validate.is_traced((target.weight_bits, target.bits_per_cell)):
        raise ValueError(
            "slice_levels of a homogeneous target needs concrete weight_bits and bits_per_cell "
            "(the number of slices sets the shape); give slice_bits to trace it"
        )
    weight_bits, cell_bits = float(target.weight_bits), float(target.bits_per_cell)
    slices = int(np.ceil(weight_bits / cell_bits))
    levels = np.full(slices, cell_bits)
    levels[0] = weight_bits - (slices - 1) * cell_bits
    return jnp.asarray(levels)


def input_cycles(target: ArrayTarget, mode: str = "ste"):
    """Cycles to stream one input vector, ``ceil(input_bits / dac_bits)``, a scalar count."""
    return _count(jnp.asarray(target.input_bits) / target.dac_bits, mode)


@pytree_dataclass
class MatrixMapping:
    """One matrix mapped onto arrays: counts per inference (every field a JAX scalar leaf).

    Attributes:
        row_blocks: ``ceil(K / R)`` array blocks along the input dimension.
        col_blocks: ``ceil(N / C)`` array blocks along the output dimension.
        logical_arrays: ``row_blocks * col_blocks``; one logical array is all weight slices
            of one block (a PUMA MVMU).
        physical_arrays: ``logical_arrays * weight_slices``.
        utilization: ``K N / (logical_arrays R C)``, fraction of mapped cells holding weights.
        mvms: logical-array activations, ``vectors * logical_arrays``.
        input_loads: input elements written to array input registers (see module doc).
        partial_sums: additions reducing row blocks, ``vectors * N * (row_blocks - 1)``.
        outputs: output elements, ``vectors * N``.
        macs: multiply-accumulates, ``K N vectors`` (exact; ops = 2 macs).
    """

    row_blocks: Any
    col_blocks: Any
    logical_arrays: Any
    physical_arrays: Any
    utilization: Any
    mvms: Any
    input_loads: Any
    partial_sums: Any
    outputs: Any
    macs: Any


def _check_op(op) -> None:
    """The MatrixOp fields the mapping reads: sizes >= 1, reuse in [0, 1)."""
    context = f"for matrix {getattr(op, 'name', '?')!r}"
    for name in ("rows", "cols", "vectors"):
        validate.check_range(name, getattr(op, name), 1.0, integer=True, context=context)
    validate.check_range("input_reuse", op.input_reuse, 0.0, 1.0, high_open=True, context=context)


def map_counts(
    rows,
    cols,
    vectors,
    input_reuse,
    target: ArrayTarget,
    input_shuffling: bool = True,
    mode: str = "ste",
    occupancy=None,
    slices=None,
) -> MatrixMapping:
    """The mapping formulas (module docstring) on arrays: matrices of ``rows`` x ``cols`` (K x N)
    applied to ``vectors`` inputs of sliding-window reuse ``input_reuse``, any broadcastable
    shapes (every field of the result has the broadcast shape), e.g. a network's grid of
    matrices with per-layer ``target`` leaves.

    ``occupancy`` (in [0, 1], ``None`` for 1): the fraction of the blocks that hold any nonzero
    weight (:func:`block_occupancy_fraction`); empty blocks are not mapped: logical arrays, MVMs
    and input loads scale with it, and row-block reductions count the occupied row blocks.
    ``slices``: weight slices per logical array instead of :func:`weight_slices` of ``target``.
    Sizes are not checked here (:func:`map_matrix` checks one op).
    """
    validate.check_choice("input_shuffling", input_shuffling, (True, False))
    row_ratio = rows / jnp.asarray(target.rows)
    row_blocks = _count(row_ratio, mode)
    col_blocks = _count(cols / jnp.asarray(target.cols), mode)
    blocks = row_blocks * col_blocks
    loaded_vectors = 1.0 + (vectors - 1) * (1.0 - input_reuse) if input_shuffling else vectors
    input_loads = rows * loaded_vectors * col_blocks
    if occupancy is None:
        logical, extra = blocks, _extra_blocks(row_ratio, mode)
    else:
        logical, input_loads = blocks * occupancy, input_loads * occupancy
        extra = relax.maximum(occupancy * row_blocks - 1.0, 0.0, mode=mode)
    mapped_cells = logical * target.rows * target.cols
    constant = lambda x: jnp.broadcast_to(jnp.asarray(x, dtype=blocks.dtype), jnp.shape(logical))  # noqa: E731
    return MatrixMapping(
        row_blocks=row_blocks,
        col_blocks=col_blocks,
        logical_arrays=logical,
        physical_arrays=logical * (weight_slices(target, mode) if slices is None else slices),
        # logical >= 1 in every mode without occupancy; with it, an empty matrix uses nothing.
        utilization=jnp.where(
            mapped_cells > 0, rows * cols / jnp.where(mapped_cells > 0, mapped_cells, 1.0), 0.0
        ),
        mvms=vectors * logical,
        input_loads=input_loads,
        partial_sums=vectors * cols * extra,
        outputs=constant(vectors * cols),
        macs=constant(rows * cols * vectors),
    )


def map_matrix(op, target: ArrayTarget, input_shuffling: bool = True, mode: str = "ste") -> MatrixMapping:
    """Map one matrix onto ``target`` arrays (formulas in the module docstring).

    Args:
        op: a :class:`hwjax.workloads.MatrixOp` (``rows`` K, ``cols`` N, ``vectors`` V,
            ``input_reuse`` r); static structure. A non-stationary op (both operands
            activations) maps the same way; its array writes are the caller's to charge. A
            whole network maps at once with :func:`hwjax.system.map_layers`.
        target: the :class:`ArrayTarget`; its leaves may be traced.
        input_shuffling: static; reuse the shared part of sliding-window inputs (PUMA 3.3.2).
        mode: ``"exact"``, ``"ste"`` or ``"smooth"`` for every count.

    Returns:
        A :class:`MatrixMapping` of scalars (per inference).

    Raises:
        ValueError: an op size below 1 or not whole, ``input_reuse`` outside [0, 1), a bad mode.
    """
    _check_op(op)
    return map_counts(op.rows, op.cols, op.vectors, op.input_reuse, target, input_shuffling, mode)


def map_network(
    network, target: ArrayTarget, input_shuffling: bool = True, mode: str = "ste"
) -> dict[str, tuple[MatrixMapping, ...]]:
    """Map every layer's matrices: ``{layer name: (MatrixMapping per MatrixOp, ...)}``.

    Layers in network order; a layer without matrices (embedding, pooling) maps to ``()``.
    """
    return {
        layer.name: tuple(map_matrix(op, target, input_shuffling, mode) for op in layer.matrix_ops())
        for layer in network
    }


def utilization_network(mappings: dict[str, tuple[MatrixMapping, ...]]):
    """Weights over mapped cells for a whole network: ``sum(u_i L_i) / sum(L_i)``, scalar.

    ``u_i L_i = K_i N_i / (R C)``, so this is ``sum(K_i N_i) / (R C sum(L_i))`` over every
    matrix ``i`` of :func:`map_network`'s result (``L_i`` its logical arrays).
    """
    flat = [m for layer in mappings.values() for m in layer]
    if not flat:
        raise ValueError("mappings holds no matrix; utilization needs at least one mapped matrix")
    used = sum(m.utilization * m.logical_arrays for m in flat)
    return used / sum(m.logical_arrays for m in flat)


def place(arrays, arrays_per_core, cores_per_tile, tiles_per_node, mode: str = "ste") -> dict:
    """Cores, tiles and nodes that hold ``arrays`` arrays: ``{"cores", "tiles", "nodes"}``.

    ``cores = ceil(arrays / arrays_per_core)``, ``tiles = ceil(cores / cores_per_tile)``,
    ``nodes = ceil(tiles / tiles_per_node)``, each through :func:`hwjax.relax.ceil` (smooth:
    floored at one, so ``arrays = 0`` gives about one of each there but 0 in exact/ste). PUMA
    co-locates a block's slices in one MVMU, so pass logical arrays with ``arrays_per_core`` =
    MVMUs per core there, or physical arrays with crossbars per core.

    Args:
        arrays: arrays to place, >= 0 (any shape; counts broadcast).
        arrays_per_core, cores_per_tile, tiles_per_node: capacities, >= 1.
        mode: ``"exact"``, ``"ste"`` or ``"smooth"``.

    Returns:
        dict of arrays shaped like the broadcast inputs.
    """
    arrays = validate.check_range("arrays", arrays, 0.0)
    capacities = {"arrays_per_core": arrays_per_core, "cores_per_tile": cores_per_tile}
    capacities["tiles_per_node"] = tiles_per_node
    capacities = {name: validate.check_range(name, value, 1.0) for name, value in capacities.items()}
    cores = _count(jnp.asarray(arrays) / capacities["arrays_per_core"], mode)
    tiles = _count(cores / capacities["cores_per_tile"], mode)
    nodes = _count(tiles / capacities["tiles_per_node"], mode)
    return {"cores": cores, "tiles": tiles, "nodes": nodes}


# ---------------------------------------------------------------------------------------------
# Block occupancy: the crossbar blocks of a weight matrix that hold any nonzero weight

#: Floor of the smooth occupancy's squared temperature, in units of the largest weight squared:
#: keeps it finite for an all-zero matrix (a temperature below about 1e-7 of the largest weight
#: acts as that).
_OCCUPANCY_T2_FLOOR = 1e-14


def _check_block_size(name: str, value) -> int:
    """A static array size (it sets the block shape): a Python or NumPy int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(
            f"{name}={value!r} must be a Python int (a static array size) in the allowed range [1, inf)"
        )
    validate.check_range(name, value, 1.0)
    return int(value)


def _check_weights(weights) -> jax.Array:
    """``weights`` as a floating (at least float32) ``(K, N)`` array; concrete NaN/inf raise."""
    shape = jnp.shape(weights)
    if len(shape) != 2:
        raise ValueError(f"weights must be a 2-D (K, N) array (K inputs, N outputs); got shape {shape}")
    if 0 in shape:
        raise ValueError(
            f"weights is empty (shape {shape}); K and N must each be in the allowed range [1, inf)"
        )
    if not validate.is_traced(weights):
        finite = np.isfinite(np.asarray(weights, dtype=float))
        if not finite.all():
            raise ValueError(
                f"weights must be finite; {int((~finite).sum())} of {finite.size} entries are NaN or inf"
            )
    w = jnp.asarray(weights)
    if jnp.issubdtype(w.dtype, jnp.floating):
        return w.astype(jnp.promote_types(w.dtype, jnp.float32))
    return w.astype(jnp.result_type(float))


def _blocks(x, rows: int, cols: int):
    """``(K, N)`` zero-padded to whole blocks, as ``(ceil(K/R), R, ceil(N/C), C)``."""
    k, n = x.shape
    row_blocks, col_blocks = -(-k // rows), -(-n // cols)
    x = jnp.pad(x, ((0, row_blocks * rows - k), (0, col_blocks * cols - n)))
    return x.reshape(row_blocks, rows, col_blocks, cols)


def _soft_occupancy(w, rows: int, cols: int, threshold, temperature):
    """The smooth occupancy ``x / (1 + x)`` of every block, ``x = sum((|w| - t)+² / T²)``.

    Computed on ``w / s`` with ``s`` the largest magnitude (or ``T`` if larger), a constant to
    the gradient: ``x`` does not depend on ``s``, so the gradient is exact, and neither huge
    nor tiny weights overflow. The value is ``x / (1 + x)``; its gradient ``1 / (1 + x)²`` is
    taken from the equal ``1 - 1 / (1 + x)``, which does not cancel for large ``x``.
    """
    magnitude = jnp.abs(w)
    largest = jnp.max(magnitude)
    if temperature is not None:
        largest = jnp.maximum(largest, temperature)
    scale = jax.lax.stop_gradient(jnp.maximum(largest, jnp.finfo(w.dtype).tiny))
    excess = jax.nn.relu((magnitude - threshold) / scale)
    energy = jnp.sum(_blocks(jnp.square(excess), rows, cols), axis=(1, 3))
    if temperature is None:
        squared_temperature = relax.RELATIVE_TEMPERATURE**2 * jnp.mean(jnp.square(w / scale))
    else:
        squared_temperature = jnp.square(temperature / scale)
    x = energy / (squared_temperature + _OCCUPANCY_T2_FLOOR)
    accurate_gradient = 1.0 - 1.0 / (1.0 + x)
    return accurate_gradient + jax.lax.stop_gradient(x / (1.0 + x) - accurate_gradient)


def block_occupancy(weights, rows: int, cols: int, mode: str = "exact", threshold=0.0, temperature=None):
    """Which ``rows x cols`` array blocks of a weight matrix hold any weight: map ``(Kb, Nb)``.

    ``weights`` ``(K, N)`` (K inputs, N outputs: a Flax ``Dense`` kernel, a
    :class:`hwjax.workloads.MatrixOp`'s layout) is zero-padded to ``Kb = ceil(K / R)`` row
    blocks of ``R = rows`` and ``Nb = ceil(N / C)`` column blocks of ``C = cols``, the tiling
    of the module docstring. A block without weights need not be programmed, read or converted
    (a pruned or block-sparse layer); :func:`map_counts` takes the fraction of occupied blocks.

    Modes:

    * ``"exact"``: 1.0 where the block holds any ``|w| > threshold``, else 0.0 (no gradient).
    * ``"smooth"``: ``x / (1 + x)`` with ``x = sum over the block of (|w| - threshold)+² / T²``,
      a soft count of the block's weights above the threshold squashed into [0, 1). A block of
      weights all within the threshold is 0 exactly, as in exact mode; one weight ``T`` above
      it gives 0.5, ``3 T`` 0.9; ``n`` weights of the matrix's RMS give ``1 - 1 / (1 + 400 n)``
      (default ``T``). The gradient, ``2 (|w| - t)+ sign(w) / (T² (1 + x)²)`` (plus the default
      ``T``'s own dependence on the weights), is finite everywhere, 0 on an all-zero block, and
      decays only polynomially as a block fills (never underflows to 0 as an exponential
      would), strongest on blocks whose weights sit near the threshold. It tends to the exact
      map as ``T -> 0``.
    * ``"ste"``: the exact map forward, the smooth map's gradient (straight-through).

    Args:
        weights: ``(K, N)`` real array, K, N >= 1; may be traced (the shape is static).
        rows, cols: static ints >= 1, the array's ``R x C`` (a block larger than the matrix is
            the whole matrix).
        mode: ``"exact"`` (default), ``"ste"`` or ``"smooth"``.
        threshold: a weight counts when ``|w| > threshold``, >= 0, in units of the weights.
        temperature: smooth ``T`` in units of the weights, > 0. ``None`` uses
            :data:`hwjax.relax.RELATIVE_TEMPERATURE` (0.05) times the RMS of the whole matrix,
            so the map is scale-free: any nonzero matrix gives the same map at any scale (and
            an all-zero matrix gives 0).

    Returns:
        ``(Kb, Nb)`` float array in [0, 1] (float32 at least).

    Raises:
        ValueError: ``weights`` not 2-D, empty or (concrete) not finite; ``rows`` or ``cols``
            not an int >= 1; a negative ``threshold``; ``temperature`` <= 0; a bad ``mode``.
    """
    relax.check_mode(mode)
    rows, cols = _check_block_size("rows", rows), _check_block_size("cols", cols)
    w = _check_weights(weights)
    threshold = validate.check_nonnegative("threshold", threshold)
    if temperature is not None:
        temperature = validate.check_positive("temperature", temperature)
    # Rows (columns) beyond the matrix only pad it: a block that spans it gives the same map.
    rows, cols = min(rows, w.shape[0]), min(cols, w.shape[1])
    held = jnp.any(_blocks(jnp.abs(w), rows, cols) > threshold, axis=(1, 3))
    exact = jax.lax.stop_gradient(held.astype(w.dtype))
    if mode == "exact":
        return exact
    smooth = _soft_occupancy(w, rows, cols, threshold, temperature)
    if mode == "smooth":
        return smooth
    return exact + (smooth - jax.lax.stop_gradient(smooth))  # exact forward value, smooth gradient


def block_occupancy_fraction(
    weights, rows: int, cols: int, mode: str = "exact", threshold=0.0, temperature=None
):
    """Fraction of a matrix's blocks that hold any weight: the mean of :func:`block_occupancy`,
    a scalar in [0, 1] (arguments, modes and errors as there)."""
    return jnp.mean(block_occupancy(weights, rows, cols, mode, threshold, temperature))


def _layer_matrices(name: str, ops: tuple, given) -> tuple:
    """``given`` (one array, or a sequence with one array or ``None`` per MatrixOp) per op."""
    if given is None:
        return (None,) * len(ops)
    if isinstance(given, tuple | list):
        matrices = tuple(given)
        if len(matrices) != len(ops):
            raise ValueError(
                f"weights[{name!r}] holds {len(matrices)} matrices but layer {name!r} has {len(ops)}"
            )
    elif len(ops) == 1:
        matrices = (given,)
    else:
        raise ValueError(f"weights[{name!r}] must be a sequence of {len(ops)} matrices, one per MatrixOp")
    for op, matrix in zip(ops, matrices, strict=True):
        if matrix is not None and tuple(jnp.shape(matrix)) != (op.rows, op.cols):
            raise ValueError(
                f"weights[{name!r}] for matrix {op.name!r} has shape {tuple(jnp.shape(matrix))}; "
                f"it must be (K, N) = ({op.rows}, {op.cols})"
            )
    return matrices


def network_occupancy(
    network, weights: dict, rows: int, cols: int, mode: str = "exact", threshold=0.0, temperature=None
):
    """Per-layer block occupancy of a network: ``(L,)``, in [0, 1], in network order.

    Layer ``j``'s value is its occupied blocks over its blocks, summed over its MatrixOps
    (:func:`block_occupancy` on each op's ``(K, N)`` matrix, so a layer of several matrices is
    weighted by their blocks). A layer without matrices, a non-stationary op (its operand is an
    activation) and a layer absent from ``weights`` count as fully occupied (1.0). The result is
    what :class:`hwjax.system.LayerKnobs` takes as ``occupancy``.

    Args:
        network: a :class:`hwjax.workloads.Network` (any iterable of layers with ``name`` and
            ``matrix_ops()``).
        weights: ``{layer name: (K, N) array}``, or a sequence with one array (or ``None``)
            per MatrixOp of the layer; e.g. :func:`hwjax.flax_trace.layer_weights`.
        rows, cols, mode, threshold, temperature: as for :func:`block_occupancy`.

    Raises:
        ValueError: a name in ``weights`` that is no layer, a matrix whose shape differs from its
            MatrixOp's ``(K, N)``, and :func:`block_occupancy`'s errors.
    """
    relax.check_mode(mode)
    rows, cols = _check_block_size("rows", rows), _check_block_size("cols", cols)
    layers = tuple(network)
    unknown = sorted(set(weights) - {layer.name for layer in layers})
    if unknown:
        raise ValueError(f"weights names {unknown} that are not layers of the network")
    fractions = []
    for layer in layers:
        ops = tuple(layer.matrix_ops())
        matrices = _layer_matrices(layer.name, ops, weights.get(layer.name))
        occupied, blocks = 0.0, 0
        for op, matrix in zip(ops, matrices, strict=True):
            count = -(-op.rows // rows) * -(-op.cols // cols)
            blocks += count
            if matrix is None or not op.stationary:
                occupied = occupied + count
                continue
            held = block_occupancy(matrix, rows, cols, mode, threshold, temperature)
            occupied = occupied + jnp.sum(held)
        fractions.append(jnp.asarray(occupied / blocks if blocks else 1.0))
    dtype = jnp.result_type(float, *fractions)
    return jnp.stack([f.astype(dtype) for f in fractions])
