"""Integer codes of a bit-sliced MVM: weight and input quantization, slicing, streaming, ADC.

Every function here is a pure array function of static bit widths (Python ints); the codes it
returns are integer-valued floats (exact in float32 below 2^24), so the simulator can feed them
to a matmul.

* **Weights** (:func:`quantize_weights`): symmetric uniform quantization on
  ``[-weight_clip, weight_clip]`` to signed codes in ``[-(2^(B-1) - 1), 2^(B-1) - 1]``, scale
  ``weight_clip / (2^(B-1) - 1)`` per code (``B = weight_bits``, sign included).
* **Inputs** (:func:`quantize_inputs`): the same on ``[-input_clip, input_clip]`` with
  ``A = input_bits``.
* **Streaming** (:func:`input_chunks`): an input code is applied in two's complement,
  ``d = bits_per_step`` bits per cycle, LSB first, over ``T = ceil(A / d)`` cycles (the cycle
  count of :func:`hwjax.mapping.input_cycles`). Every chunk but the last is unsigned in
  ``[0, 2^d - 1]``; the last (most significant) chunk holds the remaining ``r = A - (T-1) d``
  bits *with the sign*: a signed value in ``[-2^(r-1), 2^(r-1) - 1]``. With ``d = 1`` the last
  chunk is the sign bit of weight ``-2^(A-1)``, which ISAAC applies by subtracting the MSB
  cycle's result; with ``r > 1`` it needs a bipolar DAC on that cycle.
* **Slicing** (:func:`slice_bits_of`, :func:`slice_magnitudes`): unsigned codes of ``M`` bits
  cut into slices, MSB first, homogeneous (``bits_per_cell`` each, the MSB slice holding the
  remainder ``M - (S-1) bits_per_cell``, as :func:`hwjax.mapping.slice_levels`) or
  heterogeneous (``slice_bits``, PANTHER 5.3.4).
* **ADC** (:func:`adc_convert`): a uniform quantizer of ``2^N`` codes of step ``D`` (level
  units) whose window is placed by the sign of what it converts: unsigned ``[0, 2^N - 1]``,
  negative ``[-(2^N - 1), 0]`` (the sign cycle of ISAAC, converted as a magnitude) or bipolar
  ``[-2^(N-1), 2^(N-1) - 1]``; values beyond the window clip to its end codes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def symmetric_scale(clip, bits: int):
    """Real value of one code step of a symmetric ``bits``-bit quantizer on ``[-clip, clip]``."""
    return jnp.asarray(clip) / (2.0 ** (bits - 1) - 1.0)


def _codes(values, clip, bits: int):
    """Signed integer codes (float) of ``values``; no gradient (the simulator is straight-through)."""
    values = jax.lax.stop_gradient(jnp.asarray(values))
    scale = jax.lax.stop_gradient(symmetric_scale(clip, bits)).astype(values.dtype)  # the data dtype
    top = 2.0 ** (bits - 1) - 1.0
    return jnp.clip(jnp.round(values / scale), -top, top)


def quantize_weights(weights, config):
    """Weights ``(K, N)`` -> (signed integer codes ``(K, N)`` as floats, scale per code).

    Codes lie in ``[-(2^(B-1) - 1), 2^(B-1) - 1]`` with ``B = config.weight_bits``; the scale
    ``weight_clip / (2^(B-1) - 1)`` (real units per code) keeps its gradient in
    ``weight_clip`` while the codes are constants (so ``scale * codes`` has the locally exact
    derivative ``codes * d scale``).
    """
    return _codes(weights, config.weight_clip, config.weight_bits), symmetric_scale(
        config.weight_clip, config.weight_bits
    )


def quantize_inputs(x, config):
    """Inputs ``(..., K)`` -> (signed integer codes, scale per code), as :func:`quantize_weights`
    with ``input_bits`` and ``input_clip``."""
    return _codes(x, config.input_clip, config.input_bits), symmetric_scale(
        config.input_clip, config.input_bits
    )


def chunk_bits(input_bits: int, bits_per_step: int) -> tuple[int, ...]:
    """Bits of each input cycle, LSB first: ``(d, ..., d, r)``, ``T = ceil(A / d)`` entries."""
    steps = -(-input_bits // bits_per_step)
    return (bits_per_step,) * (steps - 1) + (input_bits - (steps - 1) * bits_per_step,)


def chunk_ranges(input_bits: int, bits_per_step: int) -> np.ndarray:
    """``(T, 2)`` inclusive integer range of each cycle's chunk (the last one signed)."""
    bits = chunk_bits(input_bits, bits_per_step)
    ranges = [(0, 2**b - 1) for b in bits[:-1]] + [(-(2 ** (bits[-1] - 1)), 2 ** (bits[-1] - 1) - 1)]
    return np.asarray(ranges, dtype=np.int64)


def input_chunks(codes, input_bits: int, bits_per_step: int):
    """Signed input codes ``(..., K)`` -> chunks ``(T, ..., K)`` (floats), LSB first.

    ``sum_t chunks[t] 2^(d t) == codes`` exactly (two's complement, module docstring).
    """
    bits = chunk_bits(input_bits, bits_per_step)
    shifts = np.cumsum((0, *bits[:-1]))
    wide = jnp.int64 if jax.config.jax_enable_x64 else jnp.int32
    unsigned = jnp.asarray(codes).astype(wide) % (2**input_bits)  # two's complement pattern
    expand = (slice(None),) + (None,) * unsigned.ndim
    shift = jnp.asarray(shifts, wide)[expand]
    width = jnp.asarray(bits, wide)[expand]
    chunks = (unsigned[None] >> shift) & ((1 << width) - 1)
    top = chunks[-1]
    signed_top = top - jnp.where(top >= 2 ** (bits[-1] - 1), 2 ** bits[-1], 0)
    chunks = chunks.at[-1].set(signed_top)
    return chunks.astype(jnp.asarray(codes).dtype)


def slice_bits_of(
    stored_bits: int, bits_per_cell: int, slice_bits: tuple[int, ...] | None
) -> tuple[int, ...]:
    """Bits of each weight slice, MSB first (homogeneous: remainder in the MSB slice)."""
    if slice_bits is not None:
        return tuple(int(b) for b in slice_bits)
    count = -(-stored_bits // bits_per_cell)
    return (stored_bits - (count - 1) * bits_per_cell,) + (bits_per_cell,) * (count - 1)


def slice_shifts(bits: tuple[int, ...]) -> tuple[int, ...]:
    """Binary weight (shift) of each slice, MSB first: bits held by the less significant slices."""
    return tuple(int(sum(bits[i + 1 :])) for i in range(len(bits)))


def slice_magnitudes(codes, bits: tuple[int, ...]):
    """Unsigned integer codes ``(K, N)`` -> cell levels ``(S, K, N)`` (floats), MSB first."""
    wide = jnp.int64 if jax.config.jax_enable_x64 else jnp.int32
    expand = (slice(None), None, None)
    shift = jnp.asarray(slice_shifts(bits), wide)[expand]
    mask = (1 << jnp.asarray(bits, wide)[expand]) - 1
    levels = (jnp.asarray(codes).astype(wide)[None] >> shift) & mask
    return levels.astype(jnp.asarray(codes).dtype)


def window_codes(low, high, bits) -> tuple:
    """End codes of the ADC window for sums known to lie in ``[low, high]`` (module docstring).

    ``low``, ``high``: static bounds (NumPy arrays, level units); ``bits``: the resolution
    (may be traced). Returns (lowest code, highest code), arrays shaped like ``low``.
    """
    levels = 2.0 ** jnp.asarray(bits)
    unsigned = np.asarray(low) >= 0
    negative = ~unsigned & (np.asarray(high) <= 0)
    bipolar = ~unsigned & ~negative
    low_code = jnp.where(negative, -(levels - 1.0), jnp.where(bipolar, -levels / 2.0, 0.0))
    high_code = jnp.where(unsigned, levels - 1.0, jnp.where(bipolar, levels / 2.0 - 1.0, 0.0))
    return low_code, high_code


def adc_codes(values, step, low_code, high_code, mode: str = "ste"):
    """ADC output codes ``clip(round(values / step), low_code, high_code)`` (floats).

    ``mode`` is that of :func:`hwjax.relax.round` with its default temperature: ``"ste"``
    rounds with the identity's gradient (LSQ-like gradients in ``step``), ``"exact"`` rounds
    with zero gradient, ``"smooth"`` relaxes the rounding to the identity (clipping kept).
    """
    scaled = values * (1.0 / step)
    if mode == "smooth":
        rounded = scaled
    else:
        rounded = scaled + jax.lax.stop_gradient(jnp.round(scaled) - scaled)
        if mode == "exact":
            rounded = jax.lax.stop_gradient(rounded)
    return jnp.clip(rounded, low_code, high_code)


def adc_convert(values, step, low_code, high_code, mode: str = "ste"):
    """ADC: ``step * adc_codes(...)``, the converted value in the units of ``values``."""
    return step * adc_codes(values, step, low_code, high_code, mode)


__all__ = [
    "adc_codes",
    "adc_convert",
    "chunk_bits",
    "chunk_ranges",
    "input_chunks",
    "quantize_inputs",
    "quantize_weights",
    "slice_bits_of",
    "slice_magnitudes",
    "slice_shifts",
    "symmetric_scale",
    "window_codes",
]
