"""Bit-serial GEMM on an SRAM compute-in-memory bank with a tunable ADC, behaviourally simulated.

The cost side is :mod:`hwjax.components.sram_cim` (one bank) and ``hwjax_models.timon``
(the GPU); this module computes the *numbers* the bank produces, on
:func:`hwjax.sim.mvm.bitsliced_mvm`. The mapping, the ``d-t-l`` dot product, the tunable ADC and
outlier rejection follow TIMON (dissertation chapter 6).

**Mapping** (section 6.4.2, Fig. 6.7(c)-(e)). ``C = A B`` with ``B`` (``K x N``) stationary in
the bank's 8T cells and ``A`` (``M x K``) streaming from the input register, one row of ``A``
at a time. Weights are ``weight_bits``-bit two's-complement codes stored one bit per cell
(:data:`hwjax.sim.mvm.SRAM_ENCODINGS`); activations are ``input_bits``-bit two's-complement
codes streamed ``t`` bits per stream, LSB first (bit-serial arithmetic, Fig. 6.7(e)).

**Dot product** (section 6.4.3, the ``d-t-l`` specification). Per stream, ``d`` wordlines
(the DP width) are driven with ``t``-bit chunks ``x_k``; each bitline sums ``x_k b_k`` over the
``d`` rows; the scale-and-reduce unit merges ``l`` bitlines (the slice width) with weights
``2^i`` into one analog dot product per slice (``out = 1 BL1 + 2 BL2``, Fig. 6.7(g)); the
MSB slice (``c <= l`` bits) weights the two's-complement sign bit ``-2^(c-1)`` (hwjax's
assumption: the seed does not say how signed weights are stored; this is BISMO's negative sign
plane, and the dissertation cites BISMO for its bit-serial arithmetic). One ADC conversion per
(d-row block ``j``, slice ``s``, stream ``c``, column ``n``)::

    y[j, s, c, n] = ADC( sum over rows k of block j of chunk_c(a_k) slice_s(b_kn) )
    C[:, n]       = sum over j, s, c of 2^shift_s 2^(t c) y[j, s, c, n]    (shift-and-add)

with ``shift_s`` the bits of the less significant slices, the top stream signed (two's
complement) and the d-row blocks of ``K`` (one TMMA ``K_t = d`` each) added digitally.
Section 6.5's chunks (``s`` groups of ``d / s`` rows reduced by the SRU before the ADC) give
the same sum, so they are not a field here.

**ADC resolution** (section 6.4.3): ``N = log2 d + t l`` bits
(:func:`hwjax.components.sram_cim.adc_resolution`; ``ceil(log2 d)`` here when ``d`` is not a
power of two), with the LSB one unit product (full scale ``2^N``). A sum of ``d`` products of a
``t``-bit chunk and an ``l``-bit slice lies in ``[0, d (2^t - 1)(2^l - 1)]`` and
``(2^t - 1)(2^l - 1) <= 2^(t l) - 1``, so ``N`` bits convert it exactly. The sign plane and
the sign stream make some sums non-positive or two-signed; the window is placed by the sign the
sums can take (:mod:`hwjax.sim.mvm`), leaning to the positive side where the sign plane meets the
sign stream (two negative factors), and ``N`` bits hold every one of them too (checked on the
extreme codes by ``tests/sim/test_sram_gemm.py``). :func:`gemm` at this resolution is bit-exact
against :func:`hwjax.sim.mvm.integer_reference`; one bit less at the same full scale (step 2)
rounds odd sums, and at half the full scale clips the densest columns.

**Tunable ADC** (section 6.6.2, Fig. 6.14(a)). A column block with a fraction ``nz`` of
nonzero weights has the analog range ``0 .. nz d 2^(t l)``, so a sparsity controller (3 bits
per column of the TMMA tile, i.e. per d-row block and column) lowers the reference voltage and
stops the SAR search early: the resolution drops by ``j = floor(log2(1 / nz))`` bits with the
same LSB (full scale ``2^(N - j)``), at least 1 bit kept. Every bit plane of a column holds at
most ``nz d`` ones (a zero weight stores zero in every cell), so the conversion stays exact.

**Outlier rejection** (section 6.6.2, Fig. 6.15). With threshold ``th`` a column block whose
density lies within ``th`` of the gap below the next level ``2^-j`` (``nz <= (1 + th) 2^-j``)
has its smallest-magnitude nonzero weights pruned down to ``floor(d 2^-j)`` and converts at
``N - j`` bits: ``j = floor(log2((1 + th) / nz))``, the closed form of
``hwjax_models.timon.adc_bits`` (:func:`column_adc_bits` equals it per block with
``column_sparsity = 1 - nz``). At most ``nnz - floor(nnz / (1 + th))`` weights of a block are
pruned, and the GEMM is then bit-exact against the pruned matrix; the error against the
unpruned one is ``A (B_pruned - B)``.

Measured (K64, 16-bit operands, 1024 x 256 uniform weights, 16 rows of activations): on
70%-sparse weights the tunable ADC converts at 5.77 bits on average instead of 7, bit-exact;
outlier rejection lowers that to 5.35 / 5.05 / 4.77 bits at ``th`` = 0.25 / 0.5 / 1.0,
pruning 5.6% / 15% / 26% of the nonzero weights, for a GEMM error of 5.3% / 11% / 20% of the
product's norm (50%-sparse weights: 6.45 bits, and 6.02 / 5.97 / 5.45 bits for 3.4% / 4.9% /
24% error).

Assumptions: ideal bit cells and converters (no device noise, so ``key`` is unused; section
6.7's non-idealities are not modelled); weights and activations quantized symmetrically by
:mod:`hwjax.sim.quantize`; integer sums carried in the input dtype (float32 is exact below
``2^24``; use ``jax.enable_x64`` for wider products); gradients straight-through
(:func:`~hwjax.sim.mvm.bitsliced_mvm`); pruned weights get no gradient.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import relax, validate
from hwjax._pytree import Knob, pytree_dataclass, static_field
from hwjax.sim import mvm
from hwjax.sim import quantize as q

ADC_KINDS = ("sar", "tunable_sar")
_MAX_DP_WIDTH = 2**16
_MAX_ADC_BITS = 32


@pytree_dataclass
class SRAMGemmConfig:
    """An SRAM compute-in-memory bank computing GEMMs (a pytree; the d-t-l structure static,
    knobs leaves).

    Defaults: TIMON K64 (sections 6.5, 6.7.1): ``d = 64``, ``t = l = 1``, 16-bit operands.

    Attributes:
        dp_width: DP width ``d``, rows summed per conversion, in [1, 65536] (static).
        stream_width: activation bits per stream ``t``, in [1, input_bits] (static).
        slice_width: weight bits per slice ``l``, in [1, min(8, weight_bits)] (static).
        input_bits: activation bits (two's complement, sign included), in [2, 24] (static).
        weight_bits: weight bits (two's complement, sign included), in [2, 24] (static).
        adc_kind: ``"sar"`` (every conversion at full resolution) or ``"tunable_sar"``
            (per column block, section 6.6.2) (static).
        adc_bits: ``None`` (the bank's :func:`bank_adc_bits`) or the full resolution, bits,
            in [1, 32] (leaf; the tunable ADC drops bits from it).
        adc_full_scale: ``None`` (``2^bank_adc_bits``: LSB = one unit product) or the span at
            full resolution, unit products, > 0 (leaf).
        threshold: outlier-rejection threshold ``th`` of the tunable ADC, in [0, 1] (leaf;
            0: no pruning; ignored by ``"sar"``).
        weight_clip, input_clip: quantization ranges ``[-clip, clip]``, > 0 (leaves).
    """

    dp_width: int = static_field(64)
    stream_width: int = static_field(1)
    slice_width: int = static_field(1)
    input_bits: int = static_field(16)
    weight_bits: int = static_field(16)
    adc_kind: str = static_field("sar")
    adc_bits: Knob | None = None
    adc_full_scale: Knob | None = None
    threshold: Knob = 0.0
    weight_clip: Knob = 1.0
    input_clip: Knob = 1.0

    def __post_init__(self):
        validate.check_choice("adc_kind", self.adc_kind, ADC_KINDS)
        validate.check_static_int("dp_width", self.dp_width, 1, _MAX_DP_WIDTH)
        validate.check_static_int("input_bits", self.input_bits, 2, 24)
        validate.check_static_int("weight_bits", self.weight_bits, 2, 24)
        validate.check_static_int(
            "stream_width", self.stream_width, 1, self.input_bits, context="(<= input_bits)"
        )
        validate.check_static_int(
            "slice_width", self.slice_width, 1, min(8, self.weight_bits), context="(<= weight_bits)"
        )
        bits = bank_adc_bits(self)
        if bits > _MAX_ADC_BITS:
            raise ValueError(
                f"ADC resolution ceil(log2 dp_width) + stream_width * slice_width = {bits} bits "
                f"(dp_width={self.dp_width}, stream_width={self.stream_width}, "
                f"slice_width={self.slice_width}) is outside the allowed range [1, {_MAX_ADC_BITS}] bits"
            )
        if self.adc_bits is not None:
            validate.check_range("adc_bits", self.adc_bits, 1.0, float(_MAX_ADC_BITS))
        if self.adc_full_scale is not None:
            validate.check_positive("adc_full_scale", self.adc_full_scale)
        validate.check_range("threshold", self.threshold, 0.0, 1.0)
        validate.check_positive("weight_clip", self.weight_clip)
        validate.check_positive("input_clip", self.input_clip)


def bank_adc_bits(config: SRAMGemmConfig) -> int:
    """The bank's ADC resolution ``ceil(log2 d) + t l``, bits (section 6.4.3; equal to
    :func:`hwjax.components.sram_cim.adc_resolution` when ``d`` is a power of two)."""
    return math.ceil(math.log2(config.dp_width)) + config.stream_width * config.slice_width


def _whole(bank, name: str) -> int:
    value = getattr(bank, name)
    if validate.is_traced(value) or np.ndim(value) != 0 or float(value) != round(float(value)):
        raise ValueError(f"bank.{name}={value!r} must be a concrete whole number to build a SRAMGemmConfig")
    return round(float(value))


def from_bank(bank, **overrides) -> SRAMGemmConfig:
    """The simulated bank of a cost-model :class:`hwjax.components.sram_cim.SRAMCIMBank`.

    Takes ``dp_width``, ``stream_width``, ``slice_width``, ``input_bits``, ``weight_bits`` (concrete
    whole numbers) and ``adc_kind``; ``overrides`` sets any :class:`SRAMGemmConfig` field.
    """
    names = ("dp_width", "stream_width", "slice_width", "input_bits", "weight_bits")
    fields = {name: _whole(bank, name) for name in names}
    return SRAMGemmConfig(**{**fields, "adc_kind": bank.adc_kind, **overrides})


def mvm_config(config: SRAMGemmConfig, adc_bits=None, adc_full_scale=None) -> mvm.MVMConfig:
    """The bank as a :class:`hwjax.sim.mvm.MVMConfig` for one d-row block: two's-complement
    weights in ``l``-bit slices, ``t``-bit streams, ``d`` rows, the ADC at ``adc_bits`` and
    ``adc_full_scale`` (default: the config's full resolution and span)."""
    full_bits, full_scale = _full_adc(config)
    return mvm.MVMConfig(
        weight_bits=config.weight_bits,
        bits_per_cell=config.slice_width,
        encoding="twos_complement",
        input_bits=config.input_bits,
        bits_per_step=config.stream_width,
        rows=config.dp_width,
        adc_bits=full_bits if adc_bits is None else adc_bits,
        adc_full_scale=full_scale if adc_full_scale is None else adc_full_scale,
        weight_clip=config.weight_clip,
        input_clip=config.input_clip,
    )


def _full_adc(config: SRAMGemmConfig):
    """(full resolution, its span): the config's or the bank's ``N`` and ``2^N``."""
    bits = float(bank_adc_bits(config)) if config.adc_bits is None else config.adc_bits
    scale = 2.0 ** float(bank_adc_bits(config)) if config.adc_full_scale is None else config.adc_full_scale
    return bits, scale


def _levels(nonzeros, dp_width: int, threshold):
    """Bits dropped per column block, ``j = floor(log2((1 + th) d / nnz))`` (``nnz >= 1``),
    corrected to the exact integer condition ``nnz 2^j <= (1 + th) d``."""
    budget = (1.0 + threshold) * dp_width
    count = jnp.maximum(nonzeros, 1.0)
    j = jnp.floor(jnp.log2(budget / count))
    j = j - (count * 2.0**j > budget) + (count * 2.0 ** (j + 1.0) <= budget)
    return jax.lax.stop_gradient(j)


def _threshold(config: SRAMGemmConfig, threshold):
    if threshold is None:
        return jnp.asarray(config.threshold)
    return jnp.asarray(validate.check_range("threshold", threshold, 0.0, 1.0))


def _weight_codes(b, config: SRAMGemmConfig):
    b = jnp.asarray(b)
    if b.ndim != 2:
        raise ValueError(f"b must be a (K, N) matrix; got shape {b.shape}")
    return q.quantize_weights(b, config)[0]


def _pruned_blocks(b, config: SRAMGemmConfig, threshold):
    """Outlier rejection on each column block (module docstring): (real blocks ``(J, d, N)``
    with the pruned weights zeroed, bits dropped ``(J, N)``). At ``threshold`` 0 nothing is
    pruned and the drop is the tunable ADC's alone; an all-zero block drops every bit."""
    d = config.dp_width
    b = jnp.asarray(b)
    codes = mvm._blocks(_weight_codes(b, config), d, axis=0)
    real = mvm._blocks(b, d, axis=0)
    nonzero = codes != 0
    count = jnp.sum(nonzero, axis=1).astype(real.dtype)
    j = _levels(count, d, threshold)
    keep = jnp.floor(d * 2.0**-j)  # nonzeros a block may hold at level j (all of them when th = 0)
    magnitude = jnp.where(nonzero, jax.lax.stop_gradient(jnp.abs(real)), -1.0)
    order = jnp.argsort(-magnitude, axis=1, stable=True)  # largest first, ties by row
    rank = jnp.argsort(order, axis=1, stable=True)
    kept = nonzero & (rank < keep[:, None, :])
    # An all-zero block needs no range at all: drop every bit (the clamp keeps one).
    j = jnp.where(jnp.sum(kept, axis=1) == 0, float(_MAX_ADC_BITS), j)
    return jnp.where(nonzero & ~kept, 0.0, real), j  # weights of code 0 are stored as 0 anyway


def reject_outliers(b, config: SRAMGemmConfig, threshold=None):
    """``b`` ``(K, N)`` with the outliers of section 6.6.2 pruned (set to 0), same shape.

    Args:
        b: real stationary matrix ``(K, N)``.
        config: the bank (its ``dp_width`` sets the column blocks, its clip the codes).
        threshold: ``th`` in [0, 1]; ``None`` takes ``config.threshold``.
    """
    pruned, _ = _pruned_blocks(b, config, _threshold(config, threshold))
    return pruned.reshape(-1, jnp.shape(b)[1])[: jnp.shape(b)[0]]


def column_adc_bits(b, config: SRAMGemmConfig, threshold=None):
    """Resolution of the tunable ADC for each column block, bits ``(J, N)``, ``J = ceil(K / d)``.

    ``max(N_full - floor(log2((1 + th) / nz)), 1)`` with ``nz`` the block's fraction of nonzero
    weight codes (a weight is zero when its code is) and ``N_full`` the config's full resolution:
    ``hwjax_models.timon.adc_bits(config, column_sparsity=1 - nz, threshold=th)`` for each block.
    An all-zero block gets 1 bit. With ``th > 0`` the bits assume :func:`reject_outliers`' pruning
    (which :func:`gemm` applies), and the converted sums then fit exactly.

    Args:
        b: real stationary matrix ``(K, N)``.
        config: the bank.
        threshold: ``th`` in [0, 1]; ``None`` takes ``config.threshold``.
    """
    _, j = _pruned_blocks(b, config, _threshold(config, threshold))
    full_bits, _ = _full_adc(config)
    return jnp.maximum(full_bits - j, 1.0)


def _block_product(x_codes, w_codes, bits, scale, config: SRAMGemmConfig, mode: str):
    """One d-row block on the bank, integer codes in and out: ``(M, d) @ (d, N)`` at per-column
    ADC settings ``(1, N)`` (clips at the top codes, so the quantizers pass the codes through)."""
    unit = dict(
        weight_clip=2.0 ** (config.weight_bits - 1) - 1.0, input_clip=2.0 ** (config.input_bits - 1) - 1.0
    )
    block_config = dataclasses.replace(mvm_config(config, bits, scale), **unit)
    return mvm.bitsliced_mvm(w_codes, x_codes, block_config, mode=mode)


def _adc_settings(b, config: SRAMGemmConfig, dtype):
    """(real stationary blocks ``(J, d, N)`` after outlier rejection, ADC bits and span per column
    block ``(J, N)``)."""
    full_bits, full_scale = _full_adc(config)
    full_bits = jnp.asarray(full_bits, dtype)
    if config.adc_kind == "tunable_sar":
        blocks, j = _pruned_blocks(b, config, jnp.asarray(config.threshold, dtype))
        bits = jnp.maximum(full_bits - j, 1.0)
        return blocks, bits, full_scale * 2.0 ** (bits - full_bits)  # same LSB: the reference follows
    blocks = mvm._blocks(b, config.dp_width, axis=0)
    bits = jnp.broadcast_to(full_bits, (blocks.shape[0], blocks.shape[2]))
    return blocks, bits, jnp.broadcast_to(jnp.asarray(full_scale, dtype), bits.shape)


def gemm(a, b, config: SRAMGemmConfig, key=None, mode: str = "ste"):
    """``C = A B`` computed as the SRAM bank does it (TIMON's scheme, module docstring), real units.

    Args:
        a: streaming matrix ``(..., K)`` (rows streamed one at a time).
        b: stationary matrix ``(K, N)`` (stored in the bank's cells).
        config: the bank (:class:`SRAMGemmConfig`); ``"tunable_sar"`` converts each column block
            at :func:`column_adc_bits` after :func:`reject_outliers` at ``config.threshold``.
        key: unused (the bank is noise-free); accepted for the simulators' common signature.
        mode: the ADC rounding's gradient, ``"ste"``, ``"exact"`` or ``"smooth"``
            (:func:`hwjax.sim.mvm.bitsliced_mvm`).

    Returns:
        ``(..., N)``: the d-row blocks' integer products added exactly, then scaled by the two
        quantization steps. Gradients in ``a`` and ``b`` are those of ``a @ b`` (straight-through;
        pruned weights get none); the clips and ADC knobs keep their own.
    """
    del key
    relax.check_mode(mode)
    if not isinstance(config, SRAMGemmConfig):
        raise ValueError(f"config must be a SRAMGemmConfig, got {type(config).__name__}")
    a, b = jnp.asarray(a), jnp.asarray(b)
    if b.ndim != 2 or a.ndim < 1 or a.shape[-1] != b.shape[0]:
        raise ValueError(f"a must be (..., K) and b (K, N); got a {a.shape}, b {b.shape}")
    dtype = jnp.result_type(a.dtype, b.dtype, jnp.float32)
    flat = a.astype(dtype).reshape(-1, b.shape[0])
    out = _gemm_compiled(flat, b.astype(dtype), config, mode=mode)
    return out.reshape((*a.shape[:-1], b.shape[1]))


def _gemm(flat, b, config: SRAMGemmConfig, mode: str):
    """The simulated ``(M, K) @ (K, N)`` with straight-through gradients in ``flat`` and ``b``."""
    dtype = flat.dtype
    (k, n), d = b.shape, config.dp_width
    b_blocks, bits, scales = _adc_settings(b, config, dtype)
    stored = b_blocks.reshape(-1, n)[:k]  # what the bank holds (outliers rejected)
    w_codes, w_scale = q.quantize_weights(stored, config)
    x_codes, x_scale = q.quantize_inputs(flat, config)
    x_blocks = jnp.moveaxis(mvm._blocks(x_codes.T, d, axis=0), 2, 1)  # (J, M, d)
    per_block = jax.vmap(lambda *block: _block_product(*block, config, mode))
    codes = per_block(x_blocks, mvm._blocks(w_codes, d, axis=0), bits[:, None, :], scales[:, None, :])
    simulated = jnp.sum(codes, axis=0) * w_scale * x_scale  # integer sums: exact in the dtype's range
    ideal = jnp.matmul(flat, stored, precision=jax.lax.Precision.HIGHEST)
    return ideal - jax.lax.stop_gradient(ideal) + simulated  # straight-through in a and b


# Compiled once per structure (the config's static fields, shapes, mode), as hwjax.sim.mvm does.
_gemm_compiled = jax.jit(_gemm, static_argnames=("mode",))


__all__ = [
    "ADC_KINDS",
    "SRAMGemmConfig",
    "bank_adc_bits",
    "column_adc_bits",
    "from_bank",
    "gemm",
    "mvm_config",
    "reject_outliers",
]
