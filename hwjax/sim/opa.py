"""Bit-sliced outer-product accumulate (OPA) on crossbar weight slices (PANTHER, dissertation ch. 5).

A weight of ``S p`` value bits is held by ``S`` crossbars (slices), slice ``j`` (LSB first) at
significance ``2^(j p)``; slice ``j`` has ``b_j >= p`` bits of precision, the extra ``b_j - p``
being carry headroom (section 5.3.2, Fig. 5.3(d); PANTHER's 44466555 gives 32-bit weights in 39
bits with ``p = 4``). An OPA ``W += x delta^T`` (section 5.3.1) runs as:

* rows: the row input ``x`` (``input_bits``-bit sign-magnitude codes) is streamed one bit per
  cycle, LSB first (``m = 1``, Fig. 5.3(b));
* columns: in cycle ``n`` the column input ``|delta| << n`` is cut into ``p``-bit chunks, chunk
  ``j`` driving slice ``j`` (Fig. 5.3(c)); bits above the top slice all drive the top slice;
* cell ``(i, k)`` of slice ``j`` moves by ``sign(x_i delta_k) bit_n(|x_i|) chunk_j(|delta_k| << n)``
  and is clipped to the slice's range every cycle (a saturated cell stops moving: section 5.3.2,
  the functional simulator's clipping of section 5.6.2); the cells that clipped are counted;
* every ``K`` updates a carry resolution step (CRS, section 5.3.2) reads the slices, moves each
  slice's carry into the next slice digitally and writes back.

Representation (an assumption: the dissertation gives the biased cell state, Fig. 5.3(e), but not
the digit convention): each slice stores a signed level in ``[-2^(b-1), 2^(b-1) - 1]`` around the
mid-window state, and after a CRS every slice below the top one holds a balanced digit in
``[-2^(p-1), 2^(p-1))``, leaving ``2^(b-1) - 2^(p-1)`` levels of headroom on each side. Slices are
float arrays of integer level values (exact while values stay below 2^24 in float32); an optional
proportional write noise (``update_sigma``) makes them continuous.

Gradients: the returned slices carry a straight-through term on the lowest slice so that
``slices_to_weights(new)`` has the gradient of ``W + x_code delta_code^T`` (the values are
unchanged).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import relax, validate
from hwjax._pytree import Knob, pytree_dataclass, static_field

PANTHER_SLICE_BITS = (4, 4, 4, 6, 6, 5, 5, 5)  # MSB first, section 5.6.3
_MAX_SLICE_BITS = 16


@pytree_dataclass
class OPAConfig:
    """Bit-sliced OPA configuration.

    Attributes:
        slice_bits: bits of each slice including carry headroom, MSB first, each in
            ``[value_bits, 16]`` (static; PANTHER 44466555).
        value_bits: ``p``, value bits per slice and column-chunk width (PANTHER's 4-bit column
            DACs, section 5.3.3), in [1, 8] (static). The weight has ``S p`` value bits.
        input_bits: magnitude bits of the row input ``x``, streamed one per cycle, in [1, 32]
            (static; 16).
        delta_bits: magnitude bits of the column input ``delta``, in [1, 32] (static; 16).
        x_scale: real value of one ``x`` code step (leaf, > 0).
        delta_scale: real value of one ``delta`` code step (leaf, > 0; the learning rate folds in).
        update_sigma: relative write noise of each cycle's analog increment, in [0, 1] (leaf).
    """

    slice_bits: tuple = static_field(PANTHER_SLICE_BITS)
    value_bits: int = static_field(4)
    input_bits: int = static_field(16)
    delta_bits: int = static_field(16)
    x_scale: Knob = 1.0
    delta_scale: Knob = 1.0
    update_sigma: Knob = 0.0

    def __post_init__(self):
        validate.check_range("value_bits", self.value_bits, 1, 8, integer=True)
        p = int(self.value_bits)
        slices = tuple(int(b) for b in np.atleast_1d(np.asarray(self.slice_bits, float)))
        if len(slices) < 1:
            raise ValueError("slice_bits must name at least one slice")
        validate.check_range(
            "slice_bits",
            np.asarray(self.slice_bits, float),
            p,
            _MAX_SLICE_BITS,
            integer=True,
            context="(each slice holds value_bits plus carry headroom)",
        )
        validate.check_range("input_bits", self.input_bits, 1, 32, integer=True)
        validate.check_range("delta_bits", self.delta_bits, 1, 32, integer=True)
        validate.check_positive("x_scale", self.x_scale)
        validate.check_positive("delta_scale", self.delta_scale)
        validate.check_range("update_sigma", self.update_sigma, 0.0, 1.0)
        object.__setattr__(self, "slice_bits", slices)
        object.__setattr__(self, "value_bits", p)
        object.__setattr__(self, "input_bits", int(self.input_bits))
        object.__setattr__(self, "delta_bits", int(self.delta_bits))

    @property
    def num_slices(self) -> int:
        return len(self.slice_bits)

    @property
    def weight_bits(self) -> int:
        """Value bits of the weight, ``S p``."""
        return self.num_slices * self.value_bits


def _lsb_first(config: OPAConfig) -> np.ndarray:
    return np.asarray(config.slice_bits[::-1])


def slice_range(config: OPAConfig) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest level of each slice, LSB first, ``(S,)`` each: ``-2^(b-1)``, ``2^(b-1) - 1``."""
    half = 2.0 ** (_lsb_first(config) - 1)
    return -half, half - 1.0


def _significance(config: OPAConfig, dtype) -> jax.Array:
    return jnp.asarray(2.0 ** (config.value_bits * np.arange(config.num_slices)), dtype)


def _check_slices(slices, config: OPAConfig) -> jax.Array:
    slices = jnp.asarray(slices)
    if slices.ndim != 3 or slices.shape[0] != config.num_slices:
        raise ValueError(
            f"slices must have shape (S, M, N) with S = len(slice_bits) = {config.num_slices}, "
            f"got {slices.shape}"
        )
    return slices if jnp.issubdtype(slices.dtype, jnp.floating) else slices.astype(jnp.float32)


@jax.jit
def weights_to_slices(weights, config: OPAConfig) -> jax.Array:
    """Integer weights ``(M, N)`` to resolved slices ``(S, M, N)`` (LSB slice first): balanced digits
    ``[-2^(p-1), 2^(p-1))`` below the top slice, the rest of the value (clipped to its range) on top.

    Weights must be integer-valued; float64 (``jax.enable_x64``) keeps weights above 2^24 exact.
    """
    w = jnp.asarray(weights)
    w = w if jnp.issubdtype(w.dtype, jnp.floating) else w.astype(jnp.float32)
    radix = 2.0**config.value_bits
    half = radix / 2
    digits = []
    for _ in range(config.num_slices - 1):
        digit = jnp.mod(w + half, radix) - half
        digits.append(digit)
        w = (w - digit) / radix
    low, high = slice_range(config)
    digits.append(jnp.clip(w, low[-1], high[-1]))
    return jnp.stack(digits)


@jax.jit
def slices_to_weights(slices, config: OPAConfig) -> jax.Array:
    """Weights ``(M, N)`` in LSB units: ``sum_j slices[j] 2^(j p)`` (slices LSB first)."""
    slices = _check_slices(slices, config)
    return jnp.tensordot(_significance(config, slices.dtype), slices, axes=1)


@jax.jit
def carry_resolve(slices, config: OPAConfig) -> jax.Array:
    """Carry resolution step (section 5.3.2): from the LSB slice up, keep the balanced digit and add
    the carry ``floor((v + 2^(p-1)) / 2^p)`` into the next slice (digital read-add-write, exact); the
    top slice is clipped to its range. The represented weight is unchanged unless the top slice clips.

    Args:
        slices: ``(S, M, N)`` levels, LSB slice first.
        config: the slicing.

    Returns:
        Resolved slices, same shape and dtype.
    """
    slices = _check_slices(slices, config)
    return _resolve(slices, config, _half(config, slices.dtype))


def _half(config: OPAConfig, dtype) -> jax.Array:
    """``2^(b_j - 1)`` per slice, LSB first: the slice ranges as data, so that slicings with the same
    slice count share one compiled program (see :func:`_canonical`)."""
    return jnp.asarray(2.0 ** (_lsb_first(config) - 1), dtype)


def _canonical(config: OPAConfig) -> OPAConfig:
    """``config`` with its slice widths replaced by a placeholder (they travel in :func:`_half`)."""
    return dataclasses.replace(config, slice_bits=(config.value_bits,) * config.num_slices)


def _resolve(slices, config: OPAConfig, half) -> jax.Array:
    radix = 2.0**config.value_bits
    out = []
    carry = jnp.zeros_like(slices[0])
    for j in range(config.num_slices - 1):
        value = slices[j] + carry
        carry = jnp.floor((value + radix / 2) / radix)
        out.append(value - carry * radix)
    out.append(jnp.clip(slices[-1] + carry, -half[-1], half[-1] - 1.0))
    return jnp.stack(out)


def quantize_inputs(x, delta, config: OPAConfig) -> tuple[jax.Array, jax.Array]:
    """Sign-magnitude integer codes of ``x`` (``input_bits``) and ``delta`` (``delta_bits``), rounded
    to the nearest step of ``x_scale`` / ``delta_scale`` and clipped to the code range (straight-through
    gradient)."""
    x_scale = validate.check_positive("x_scale", config.x_scale)
    delta_scale = validate.check_positive("delta_scale", config.delta_scale)
    x_max, d_max = 2.0**config.input_bits - 1, 2.0**config.delta_bits - 1
    xq = relax.round(jnp.clip(jnp.asarray(x, jnp.result_type(float)) / x_scale, -x_max, x_max), mode="ste")
    dq = relax.round(
        jnp.clip(jnp.asarray(delta, jnp.result_type(float)) / delta_scale, -d_max, d_max), mode="ste"
    )
    return xq, dq


def _column_chunks(d_mag: jax.Array, config: OPAConfig) -> jax.Array:
    """``(n_cycles, S, N)``: chunk ``j`` of ``|delta| << n`` (top slice takes every higher bit)."""
    n = jnp.arange(config.input_bits, dtype=d_mag.dtype)[:, None, None]
    j = jnp.arange(config.num_slices, dtype=d_mag.dtype)[None, :, None]
    p = config.value_bits
    shifted = d_mag[None, None, :] * 2.0**n
    above = jnp.floor(shifted / 2.0 ** (j * p))  # bits at and above slice j's offset
    chunk = jnp.mod(above, 2.0**p)
    return jnp.where(j == config.num_slices - 1, above, chunk)


def opa_update(
    slices, x, delta, config: OPAConfig, key: jax.Array | None = None
) -> tuple[jax.Array, jax.Array]:
    """One bit-sliced OPA ``W += x delta^T`` on the slices (sections 5.3.1-5.3.2).

    Args:
        slices: ``(S, M, N)`` slice levels, LSB slice first (see :func:`weights_to_slices`).
        x: row input ``(M,)`` (real; ``x / x_scale`` is rounded to ``input_bits`` magnitude bits).
        delta: column input ``(N,)`` (real; rounded in units of ``delta_scale``).
        config: the slicing and input precisions.
        key: PRNG key for the write noise; ``None`` means noise-free (ValueError if
            ``update_sigma > 0``).

    Returns:
        ``(new_slices (S, M, N), saturation_counts (S,) int32)``: the counts are the cells of each
        slice (LSB first) clipped at least once during this update.
    """
    slices = _check_slices(slices, config)
    m, n = slices.shape[1:]
    x, delta = jnp.asarray(x), jnp.asarray(delta)
    if x.shape != (m,) or delta.shape != (n,):
        raise ValueError(f"x must have shape ({m},) and delta ({n},), got {x.shape} and {delta.shape}")
    sigma = validate.check_range("update_sigma", config.update_sigma, 0.0, 1.0)
    if key is None and (validate.is_traced(sigma) or np.any(np.asarray(sigma) > 0)):
        if not validate.is_traced(sigma):
            raise ValueError("key is None but update_sigma > 0: pass a PRNG key for the write noise")
        sigma = 0.0  # traced with no key: noise-free by definition of key=None
    return _opa_update(slices, x, delta, _canonical(config), key, _half(config, slices.dtype))


@jax.jit
def _opa_update(slices, x, delta, config: OPAConfig, key, half):
    """:func:`opa_update` after validation (compiled once per slicing and shape; inlined when traced)."""
    sigma = validate.check_range("update_sigma", config.update_sigma, 0.0, 1.0)  # traced here: clamps
    dtype = slices.dtype
    xq, dq = quantize_inputs(x, delta, config)
    xq, dq = xq.astype(dtype), dq.astype(dtype)
    sign = jnp.sign(xq)[:, None] * jnp.sign(dq)[None, :]  # (M, N): polarity of every cell's update
    x_mag, d_mag = jax.lax.stop_gradient(jnp.abs(xq)), jax.lax.stop_gradient(jnp.abs(dq))
    cycles = jnp.arange(config.input_bits, dtype=dtype)
    x_bits = jnp.mod(jnp.floor(x_mag[None, :] / 2.0 ** cycles[:, None]), 2.0)  # (cycles, M), LSB first
    chunks = _column_chunks(d_mag, config)  # (cycles, S, N)
    low, high = -half[:, None, None], half[:, None, None] - 1.0
    noisy = key is not None
    noise_keys = jax.random.split(key, config.input_bits) if noisy else jnp.zeros((config.input_bits,))

    def cycle(state, inputs):
        level, saturated = state
        bits, chunk, k = inputs
        step = jax.lax.stop_gradient(sign)[None] * bits[None, :, None] * chunk[:, None, :]
        if noisy:
            step = step * (1.0 + sigma * jax.random.normal(k, step.shape, dtype))
        raw = level + step
        clipped = jnp.clip(raw, low, high)
        return (clipped, saturated | (raw != clipped)), None

    init = (slices, jnp.zeros(slices.shape, bool))
    (new, saturated), _ = jax.lax.scan(cycle, init, (x_bits, chunks, noise_keys))
    # Straight-through: sum_j 2^(jp) new_j gets the gradient of W + xq dq^T (values unchanged).
    outer = xq[:, None] * dq[None, :]
    new = new.at[0].add(outer - jax.lax.stop_gradient(outer))
    return new, jnp.sum(saturated, axis=(1, 2)).astype(jnp.int32)


def opa_stream(
    slices, xs, deltas, config: OPAConfig, carry_interval: int, key: jax.Array | None = None
) -> tuple[jax.Array, jax.Array]:
    """A stream of ``T`` OPAs with a CRS after every ``carry_interval`` updates (section 5.3.2).

    Args:
        slices: ``(S, M, N)`` initial slices.
        xs: ``(T, M)`` row inputs; deltas: ``(T, N)`` column inputs.
        config: the slicing.
        carry_interval: ``K`` updates between carry resolution steps, integer >= 1 (may be traced).
        key: PRNG key (split per update) or ``None`` (noise-free).

    Returns:
        ``(final slices (S, M, N) after a last CRS, saturation counts (T, S) int32)``.
    """
    carry_interval = validate.check_range("carry_interval", carry_interval, 1, None, integer=True)
    if (
        key is None
        and not validate.is_traced(config.update_sigma)
        and np.any(np.asarray(config.update_sigma) > 0)
    ):
        raise ValueError("key is None but update_sigma > 0: pass a PRNG key for the write noise")
    slices = _check_slices(slices, config)
    return _opa_stream(
        slices,
        jnp.asarray(xs),
        jnp.asarray(deltas),
        _canonical(config),
        jnp.asarray(carry_interval, jnp.int32),
        key,
        _half(config, slices.dtype),
    )


@jax.jit
def _opa_stream(slices, xs, deltas, config: OPAConfig, carry_interval, key, half):
    steps = jnp.shape(xs)[0]
    keys = jax.random.split(key, steps) if key is not None else None

    def step(state, inputs):
        level, t = state
        x, delta, k = inputs
        level, counts = _opa_update(level, x, delta, config, k if keys is not None else None, half)
        resolved = _resolve(level, config, half)
        level = jnp.where((t + 1) % carry_interval == 0, resolved, level)
        return (level, t + 1), counts

    dummy = keys if keys is not None else jnp.zeros((steps,))
    (final, _), counts = jax.lax.scan(step, (slices, 0), (xs, deltas, dummy))
    return _resolve(final, config, half), counts
