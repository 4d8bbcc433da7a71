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

import jax.numpy as jnp
import numpy as np

from hwjax import relax, validate
from hwjax._pytree import pytree_dataclass, static_field

_MAX_CELL_BITS = 8.0  # multi-level cells beyond 8 bits are not practical (PUMA: 2-6 bits, 3.3.2)
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

    rows: Any = 128.0
    cols: Any = 128.0
    bits_per_cell: Any = 2.0
    weight_bits: Any = 16.0
    input_bits: Any = 16.0
    dac_bits: Any = 1.0
    slice_bits: tuple | None = static_field(None)

    def __post_init__(self):
        ranges = {
            "rows": (1.0, None),
            "cols": (1.0, None),
            "bits_per_cell": (1.0, _MAX_CELL_BITS),
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
    validate.check_range("slice_bits", np.asarray(slices), 0.0, _MAX_CELL_BITS, low_open=True)
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
        validate.check_choice("mode", mode, relax.MODES)
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


def _input_loads(op, col_blocks, input_shuffling: bool):
    """Input elements written per inference: first vector whole, later ones only new elements."""
    vectors_loaded = 1.0 + (op.vectors - 1) * (1.0 - op.input_reuse) if input_shuffling else op.vectors
    return op.rows * vectors_loaded * col_blocks


def map_matrix(op, target: ArrayTarget, input_shuffling: bool = True, mode: str = "ste") -> MatrixMapping:
    """Map one matrix onto ``target`` arrays (formulas in the module docstring).

    Args:
        op: a :class:`hwjax.workloads.MatrixOp` (``rows`` K, ``cols`` N, ``vectors`` V,
            ``input_reuse`` r); static structure. Any object with those four fields as arrays
            of one shape maps many matrices at once (every field of the result has that shape),
            as the accelerator models do for a whole network. A non-stationary op (both operands
            activations) maps the same way; its array writes are the caller's to charge.
        target: the :class:`ArrayTarget`; its leaves may be traced.
        input_shuffling: static; reuse the shared part of sliding-window inputs (PUMA 3.3.2).
        mode: ``"exact"``, ``"ste"`` or ``"smooth"`` for every count.

    Returns:
        A :class:`MatrixMapping` of scalars (per inference).

    Raises:
        ValueError: an op size below 1 or not whole, ``input_reuse`` outside [0, 1), a bad mode.
    """
    _check_op(op)
    validate.check_choice("input_shuffling", input_shuffling, (True, False))
    row_ratio = op.rows / jnp.asarray(target.rows)
    row_blocks = _count(row_ratio, mode)
    col_blocks = _count(op.cols / jnp.asarray(target.cols), mode)
    logical = row_blocks * col_blocks
    constant = lambda x: jnp.asarray(x, dtype=logical.dtype)  # noqa: E731
    return MatrixMapping(
        row_blocks=row_blocks,
        col_blocks=col_blocks,
        logical_arrays=logical,
        physical_arrays=logical * weight_slices(target, mode),
        # logical >= 1 in every mode and rows, cols >= 1, so the division is always finite.
        utilization=op.rows * op.cols / (logical * target.rows * target.cols),
        mvms=op.vectors * logical,
        input_loads=_input_loads(op, col_blocks, input_shuffling),
        partial_sums=op.vectors * op.cols * _extra_blocks(row_ratio, mode),
        outputs=constant(op.vectors * op.cols),
        macs=constant(op.rows * op.cols * op.vectors),
    )


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
