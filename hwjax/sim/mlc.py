"""MLC storage faults: adjacent-level misreads, Gray coding, and dense vs sparse encodings.

MaxNVM (MICRO 2019) section 2.3: the read current of each programmed level of a multi-level
cell (MLC) is Gaussian; where neighbouring distributions overlap, a cell is misread as an
adjacent level. :func:`hwjax.components.memory.mlc_misread` turns a level spread into those
probabilities; here they are applied to data (section 4.1's fault injection, the role of Ares):

* integer codes are split into ``b``-bit digits, one per cell (LSB cell first), each stored as one
  of ``L = 2^b`` levels, plain binary or Gray coded (section 3.3: with Gray coding an adjacent
  misread flips exactly one bit, which ECC can correct);
* every cell is independently misread one level up or down (probability ``rate / 2`` each) or two
  levels away (``far_rate / 2`` each); a shift beyond the lowest or highest level leaves the level
  unchanged, which is exactly the Gaussian picture (an edge level has one threshold only), so the
  mean misread probability over uniform levels equals ``mlc_misread``'s ``cell``;
* a sparse weight matrix is stored dense, as CSR (section 3.2.1: non-zero values, column indexes
  *relative to the previous non-zero of the row* as section 4.2 describes, and per-row counters)
  or as a bitmask (section 3.2.2: one bit per weight plus the packed non-zero values), each
  structure in its own cells, then decoded. A fault in a row counter or a bitmask bit shifts the
  assignment of every later non-zero, and a column-index fault shifts the rest of its row, which
  is why the paper finds sparse encodings far more fragile than dense storage (section 4.2).

Assumptions (not in the paper): values are stored in offset binary (``q + 2^(B-1)`` for a signed
``B``-bit integer weight ``q``), so a misread of the lowest cell moves a dense weight by one step;
a decoded CSR column index beyond the matrix, or a row beyond the last, is dropped (the hardware
would write outside the layer); the non-zero count ``nnz`` is static (the decoder reads a fixed
value array), so decoding is jittable. IdxSync (section 3.3) is offered for the bitmask with the
per-block counters assumed fault-free (the paper's lighter-weight mitigation).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import validate
from hwjax._pytree import Knob, pytree_dataclass, static_field
from hwjax.components import memory

ENCODINGS = ("dense", "csr", "bitmask")
STRUCTURES = {"dense": ("values",), "csr": ("values", "gaps", "counters"), "bitmask": ("values", "mask")}
_MAX_BITS_PER_CELL = 4  # memory.mlc_misread's range; MaxNVM's densest cells are MLC3


@pytree_dataclass
class MLCConfig:
    """How a structure is stored in MLC cells and how often its cells are misread.

    Attributes:
        bits_per_cell: ``b`` bits (``2^b`` levels) per cell, integer in [1, 4] (static).
        gray: Gray-code each cell's digit (static; MaxNVM section 3.3).
        rate: probability that an interior cell is read as one of its two adjacent levels (each
            ``rate / 2``), in [0, 1] (leaf).
        far_rate: probability of a read two levels away (each side ``far_rate / 2``), in [0, 1],
            with ``rate + far_rate <= 1`` (leaf).
    """

    bits_per_cell: int = static_field(2)
    gray: bool = static_field(False)
    rate: Knob = 0.0
    far_rate: Knob = 0.0

    def __post_init__(self):
        validate.check_range("bits_per_cell", self.bits_per_cell, 1, _MAX_BITS_PER_CELL, integer=True)
        object.__setattr__(self, "bits_per_cell", int(self.bits_per_cell))
        validate.check_choice("gray", self.gray, (True, False))
        validate.check_range("rate", self.rate, 0.0, 1.0)
        validate.check_range("far_rate", self.far_rate, 0.0, 1.0)
        if not validate.is_traced((self.rate, self.far_rate)):
            total = np.asarray(self.rate, float) + np.asarray(self.far_rate, float)
            if np.any(total > 1.0):
                raise ValueError(f"far_rate: rate + far_rate = {total} must lie in [0, 1]")


def misread_rates(bits_per_cell, level_sigma, sense_sigma=0.0) -> tuple[Any, Any]:
    """``(rate, far_rate)`` of :class:`MLCConfig` from Gaussian level overlap (MaxNVM section 2.3).

    ``mlc_misread``'s ``adjacent`` is the tail beyond one threshold, ``Q(s / 2 sigma)``; the part of
    it beyond the next threshold, ``non_adjacent``, lands two levels away. Reads three or more
    levels away (``Q(5 s / 2 sigma)``) are neglected.

    Args:
        bits_per_cell: bits per cell, in [1, 4].
        level_sigma: level spread as a fraction of the signal window, in [1e-3, 0.5].
        sense_sigma: sense-amplifier offset spread, same units, in [0, 0.5].
    """
    p = memory.mlc_misread(bits_per_cell, level_sigma, sense_sigma)
    far = p["non_adjacent"]
    return 2.0 * (p["adjacent"] - far), 2.0 * far


def mlc_config(bits_per_cell: int, level_sigma, sense_sigma=0.0, gray: bool = False) -> MLCConfig:
    """An :class:`MLCConfig` whose rates come from :func:`misread_rates`."""
    rate, far_rate = misread_rates(float(bits_per_cell), level_sigma, sense_sigma)
    return MLCConfig(bits_per_cell=bits_per_cell, gray=gray, rate=rate, far_rate=far_rate)


# ----------------------------------------------------------------------------- Gray coding


def gray_encode(codes: jax.Array) -> jax.Array:
    """Binary to reflected Gray code (non-negative integers, elementwise): ``c ^ (c >> 1)``."""
    codes = jnp.asarray(codes)
    return codes ^ (codes >> 1)


def gray_decode(gray: jax.Array) -> jax.Array:
    """Inverse of :func:`gray_encode` (prefix XOR; exact for codes below ``2^32``)."""
    value = jnp.asarray(gray)
    for shift in (1, 2, 4, 8, 16):
        value = value ^ (value >> shift)
    return value


# ----------------------------------------------------------------------------- cells


def cells_per_code(code_bits: int, bits_per_cell: int) -> int:
    """Cells that hold one ``code_bits``-bit code at ``bits_per_cell`` bits each."""
    return -(-int(code_bits) // int(bits_per_cell))


def to_cells(codes: jax.Array, code_bits: int, config: MLCConfig) -> jax.Array:
    """Split non-negative integer codes into cell levels, LSB cell first.

    Args:
        codes: integer array ``(...)`` with values in ``[0, 2^code_bits)``.
        code_bits: bits per code (static).
        config: bits per cell and Gray coding.

    Returns:
        int32 levels ``(..., C)`` in ``[0, 2^b)``, ``C = ceil(code_bits / b)``. With Gray coding the
        level is the Gray-decoded digit, so reading a level back through :func:`gray_encode`
        yields the digit and adjacent levels differ in one bit.
    """
    b = config.bits_per_cell
    count = cells_per_code(code_bits, b)
    shifts = jnp.arange(count, dtype=jnp.int32) * b
    digits = (jnp.asarray(codes, jnp.int32)[..., None] >> shifts) & (2**b - 1)
    return gray_decode(digits) if config.gray else digits


def from_cells(levels: jax.Array, code_bits: int, config: MLCConfig) -> jax.Array:
    """Inverse of :func:`to_cells`: ``(..., C)`` levels to int32 codes ``(...)`` (masked to ``code_bits``)."""
    b = config.bits_per_cell
    digits = gray_encode(levels) if config.gray else jnp.asarray(levels, jnp.int32)
    count = digits.shape[-1]
    # A partly used top cell holds code_bits - (C - 1) b bits: its sense amplifier saturates there.
    widths = np.minimum(b, code_bits - b * np.arange(count))
    digits = jnp.minimum(digits, jnp.asarray(2**widths - 1, jnp.int32))
    shifts = jnp.arange(count, dtype=jnp.int32) * b
    return jnp.sum(digits << shifts, axis=-1)


def _rates(config: MLCConfig):
    rate = validate.check_range("rate", config.rate, 0.0, 1.0)
    far = validate.check_range("far_rate", config.far_rate, 0.0, 1.0)
    return rate, jnp.minimum(far, 1.0 - rate)  # traced: keep the four probabilities a distribution


def inject(levels: jax.Array, config: MLCConfig, key: jax.Array | None) -> jax.Array:
    """Misread every cell independently (MaxNVM section 4.1's inter-level fault map).

    A uniform draw per cell picks: one level down or up (``rate / 2`` each), two down or up
    (``far_rate / 2`` each), or no error; shifts past the end levels are clipped, so an edge
    level is misread only inward, as with Gaussian levels.

    Args:
        levels: int cell levels ``(...)`` in ``[0, 2^b)``.
        config: bits per cell and rates (rates may be traced).
        key: PRNG key; ``None`` only when both rates are 0 (then the levels come back unchanged).

    Returns:
        int32 levels read back, same shape.
    """
    levels = jnp.asarray(levels, jnp.int32)
    if key is None:
        if validate.is_traced((config.rate, config.far_rate)) or np.any(
            np.asarray(config.rate, float) + np.asarray(config.far_rate, float) > 0
        ):
            raise ValueError("key is None but rate or far_rate is non-zero: pass a PRNG key")
        return levels
    return _shift(levels, config, jax.random.uniform(key, levels.shape))


def _shift(levels: jax.Array, config: MLCConfig, u: jax.Array) -> jax.Array:
    """:func:`inject` given the uniform draw ``u`` (same shape as ``levels``)."""
    rate, far = _rates(config)
    half, far_half = 0.5 * rate, 0.5 * far
    shift = jnp.where(u < half, -1, jnp.where(u < rate, 1, 0))
    shift = jnp.where((u >= rate) & (u < rate + far_half), -2, shift)
    shift = jnp.where((u >= rate + far_half) & (u < rate + far), 2, shift)
    return jnp.clip(levels + shift, 0, 2**config.bits_per_cell - 1).astype(jnp.int32)


def store_codes(codes: jax.Array, code_bits: int, config: MLCConfig, key: jax.Array | None) -> jax.Array:
    """Write integer codes into cells, misread them, and read the codes back (same shape, int32)."""
    return from_cells(inject(to_cells(codes, code_bits, config), config, key), code_bits, config)


def _pack_bits(bits: jax.Array, b: int) -> jax.Array:
    """Flat 0/1 array into ``b``-bit codes (LSB first; zero padded to a multiple of ``b``)."""
    pad = (-bits.shape[0]) % b
    groups = jnp.pad(bits.astype(jnp.int32), (0, pad)).reshape(-1, b)
    return jnp.sum(groups << jnp.arange(b, dtype=jnp.int32), axis=-1)


def _unpack_bits(codes: jax.Array, b: int, size: int) -> jax.Array:
    bits = (codes[:, None] >> jnp.arange(b, dtype=jnp.int32)) & 1
    return bits.reshape(-1)[:size]


# ----------------------------------------------------------------------------- sparse encodings


def structure_bits(shape: tuple[int, int], value_bits: int) -> dict[str, int]:
    """Bits per element of each structure: values, CSR gaps (``ceil(log2 N)``), row counters
    (``ceil(log2(N + 1))``) and the bitmask (1)."""
    n = int(shape[1])
    return {
        "values": int(value_bits),
        "gaps": max(1, math.ceil(math.log2(n))),
        "counters": max(1, math.ceil(math.log2(n + 1))),
        "mask": 1,
    }


def _check_value_bits(value_bits) -> int:
    validate.check_range("value_bits", value_bits, 2, 16, integer=True)
    return int(value_bits)


def encode(
    weights: jax.Array, encoding: str, value_bits: int, nnz: int | None = None
) -> dict[str, jax.Array]:
    """Encode a signed integer weight matrix ``(M, N)`` (zeros pruned) into its storage structures.

    Args:
        weights: integer-valued ``(M, N)``, each in ``[-(2^(B-1) - 1), 2^(B-1) - 1]``, ``B = value_bits``.
        encoding: ``"dense"``, ``"csr"`` or ``"bitmask"``.
        value_bits: ``B`` in [2, 16] (static).
        nnz: number of non-zeros (static); required when ``weights`` is traced.

    Returns:
        Non-negative int32 codes per structure: ``values`` (offset binary ``q + 2^(B-1)``: all
        ``M N`` for dense, the ``nnz`` non-zeros in row-major order otherwise); CSR ``gaps``
        (zeros skipped before each non-zero within its row, ``(nnz,)``) and ``counters``
        (non-zeros per row, ``(M,)``); bitmask ``mask`` (``(M N,)`` bits).
    """
    validate.check_choice("encoding", encoding, ENCODINGS)
    value_bits = _check_value_bits(value_bits)
    q = jnp.asarray(weights).astype(jnp.int32) if validate.is_traced(weights) else np.asarray(weights)
    if q.ndim != 2:
        raise ValueError(f"weights must be a 2-D matrix, got shape {q.shape}")
    if not validate.is_traced(weights):
        limit = 2 ** (value_bits - 1) - 1
        validate.check_range("weights", np.asarray(weights), -limit, limit, integer=True)
    offset = 2 ** (value_bits - 1)
    traced = validate.is_traced(weights)
    xp = jnp if traced else np  # concrete input is indexed on the host: no kernels to compile
    q = q if traced else np.asarray(weights).astype(np.int32)
    if encoding == "dense":
        return {"values": jnp.asarray((q + offset).reshape(-1), jnp.int32)}
    if nnz is None:
        if traced:
            raise ValueError("nnz must be given (static) when weights is traced")
        nnz = int(np.count_nonzero(q))
    if traced:
        rows, cols = jnp.nonzero(q, size=nnz, fill_value=0)
    else:
        rows, cols = (i[:nnz] for i in np.nonzero(q))
    out = {"values": q[rows, cols] + offset}
    if encoding == "bitmask":
        out["mask"] = (q != 0).reshape(-1)
    else:
        first = xp.concatenate([xp.ones((1,), bool), rows[1:] != rows[:-1]])[:nnz]
        previous = xp.where(first, -1, xp.concatenate([xp.zeros((1,), cols.dtype), cols[:-1]])[:nnz])
        out["gaps"] = cols - previous - 1
        out["counters"] = xp.sum(q != 0, axis=1)
    return {name: jnp.asarray(value, jnp.int32) for name, value in out.items()}


@functools.partial(jax.jit, static_argnames=("encoding", "shape", "value_bits", "idx_sync_block"))
def decode(
    structures: dict[str, jax.Array],
    encoding: str,
    shape: tuple[int, int],
    value_bits: int,
    idx_sync_block: int | None = None,
    block_counts: jax.Array | None = None,
) -> jax.Array:
    """Rebuild the signed integer matrix ``(M, N)`` (int32) from (possibly faulty) structures.

    CSR: non-zero ``t`` belongs to the row whose cumulative counter first exceeds ``t``; its
    column is the running sum of ``gap + 1`` since its row's first non-zero, minus one. Bitmask:
    the ``k``-th set bit takes the ``k``-th value (so one flipped bit shifts all later values);
    with ``idx_sync_block`` the value pointer restarts at each block of that many mask bits from
    ``block_counts`` (IdxSync, MaxNVM section 3.3; counts from :func:`block_counts_of`).
    Entries landing outside the matrix are dropped. Compiled (``encoding``, ``shape`` as a tuple,
    ``value_bits`` and ``idx_sync_block`` static); jittable and vmappable for fixed structure shapes.
    """
    validate.check_choice("encoding", encoding, ENCODINGS)
    value_bits = _check_value_bits(value_bits)
    m, n = (int(s) for s in shape)
    values = jnp.asarray(structures["values"], jnp.int32) - 2 ** (value_bits - 1)
    if encoding == "dense":
        return values.reshape(m, n)
    if encoding == "bitmask":
        mask = jnp.asarray(structures["mask"], jnp.int32)
        if idx_sync_block is None:
            pointer = jnp.cumsum(mask) - 1
        else:
            validate.check_range("idx_sync_block", idx_sync_block, 1, m * n, integer=True)
            blocks = -(-(m * n) // idx_sync_block)
            padded = jnp.pad(mask, (0, blocks * idx_sync_block - m * n)).reshape(blocks, idx_sync_block)
            starts = jnp.cumsum(block_counts) - block_counts
            pointer = (starts[:, None] + jnp.cumsum(padded, axis=1) - 1).reshape(-1)[: m * n]
        valid = (mask == 1) & (pointer < values.shape[0])
        gathered = values[jnp.clip(pointer, 0, values.shape[0] - 1)]
        return jnp.where(valid, gathered, 0).reshape(m, n)
    counters = jnp.asarray(structures["counters"], jnp.int32)
    gaps = jnp.asarray(structures["gaps"], jnp.int32)
    t = jnp.arange(values.shape[0])
    ends = jnp.cumsum(counters)
    row = jnp.sum(ends[None, :] <= t[:, None], axis=1)  # searchsorted, as one compare (fast to compile)
    start = jnp.where(row < m, ends[jnp.clip(row, 0, m - 1)] - counters[jnp.clip(row, 0, m - 1)], 0)
    steps = jnp.cumsum(gaps + 1)
    before = jnp.where(start > 0, steps[jnp.clip(start - 1, 0, None)], 0)
    col = steps - before - 1
    row = jnp.where((row < m) & (col < n), row, m)  # out of range: dropped by the scatter
    return jnp.zeros((m, n), jnp.int32).at[row, col].set(values, mode="drop")


def block_counts_of(mask: jax.Array, block: int) -> jax.Array:
    """Non-zeros per block of ``block`` mask bits: IdxSync's counters (stored fault-free)."""
    mask = jnp.asarray(mask, jnp.int32)
    blocks = -(-mask.shape[0] // block)
    return jnp.pad(mask, (0, blocks * block - mask.shape[0])).reshape(blocks, block).sum(axis=1)


def store_structures(
    structures: dict[str, jax.Array],
    shape: tuple[int, int],
    value_bits: int,
    configs: MLCConfig | dict[str, MLCConfig],
    key: jax.Array | None,
) -> dict[str, jax.Array]:
    """Write every structure into MLC cells, misread them, and read them back.

    Args:
        structures: output of :func:`encode`.
        shape: the matrix shape ``(M, N)`` (sets the index and counter widths).
        value_bits: bits of each value (static).
        configs: one :class:`MLCConfig` for all structures, or one per structure name (MaxNVM
            stores the vulnerable structures at fewer bits per cell).
        key: PRNG key (split per structure), or ``None`` when every rate is 0.
    """
    for config in configs.values() if isinstance(configs, dict) else (configs,):
        if key is None:
            inject(jnp.zeros((1,), jnp.int32), config, None)  # raises unless every rate is 0
    return _store_structures(structures, tuple(int(s) for s in shape), int(value_bits), configs, key)


@functools.partial(jax.jit, static_argnames=("shape", "value_bits"))
def _store_structures(structures, shape, value_bits, configs, key):
    """:func:`store_structures` after the key check (one compiled program; inlined when traced)."""
    widths = structure_bits(shape, value_bits)
    names = sorted(structures)
    cells, bits = {}, {}
    for name in names:
        config = configs[name] if isinstance(configs, dict) else configs
        codes = jnp.asarray(structures[name], jnp.int32)
        if name == "mask":  # one bit per weight, packed b per cell
            codes, bits[name] = _pack_bits(codes, config.bits_per_cell), config.bits_per_cell
        else:
            bits[name] = widths[name]
        cells[name] = to_cells(codes, bits[name], config)
    # One uniform draw for every cell of every structure: one PRNG kernel to compile, not one each.
    sizes = [cells[name].size for name in names]
    if key is None:
        draws = [None] * len(names)
    else:
        flat = jax.random.uniform(key, (sum(sizes),))
        draws = jnp.split(flat, np.cumsum(sizes)[:-1])
    out = {}
    for name, u in zip(names, draws, strict=True):
        config = configs[name] if isinstance(configs, dict) else configs
        levels = cells[name] if u is None else _shift(cells[name], config, u.reshape(cells[name].shape))
        codes = from_cells(levels, bits[name], config)
        if name == "mask":
            codes = _unpack_bits(codes, config.bits_per_cell, jnp.shape(structures[name])[0])
        out[name] = codes
    return out


def store_matrix(
    weights: jax.Array,
    encoding: str,
    value_bits: int,
    configs: MLCConfig | dict[str, MLCConfig],
    key: jax.Array | None,
    nnz: int | None = None,
) -> jax.Array:
    """Encode, store in MLC cells with misreads, and decode a signed integer matrix (int32 ``(M, N)``)."""
    structures = encode(weights, encoding, value_bits, nnz)
    shape = jnp.shape(weights)
    faulty = store_structures(structures, shape, value_bits, configs, key)
    return decode(faulty, encoding, shape, value_bits)


def cell_count(shape: tuple[int, int], nnz: int, encoding: str, value_bits: int, bits_per_cell: int) -> int:
    """Cells an encoding occupies at one ``bits_per_cell`` for every structure."""
    validate.check_choice("encoding", encoding, ENCODINGS)
    m, n = shape
    widths = structure_bits(shape, value_bits)
    sizes = {"values": m * n if encoding == "dense" else nnz, "gaps": nnz, "counters": m, "mask": None}
    total = 0
    for name in STRUCTURES[encoding]:
        if name == "mask":
            total += -(-(m * n) // bits_per_cell)
        else:
            total += sizes[name] * cells_per_code(widths[name], bits_per_cell)
    return total
