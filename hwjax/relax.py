"""Differentiable stand-ins for discrete structure: ceil, floor, round, clip, max and choice.

Hardware counts (``ceil(rows / xbar_rows)`` arrays, ADC bits, slices) are integers, yet
co-design needs their gradients. Each function here takes ``mode``:

* ``"exact"``: the true function; staircases (ceil, floor, round, choice) have no gradient
  (it is zero), continuous functions (clip, max) keep their ordinary (sub)gradient.
* ``"ste"`` (default): the exact forward value with a *surrogate* gradient (straight-through
  estimator); the surrogate each function uses is documented on it.
* ``"smooth"``: a continuous relaxation whose forward value and gradient agree, for
  exploration and gradient descent; its temperature is documented on each function.

:func:`check_mode` is the one check of a ``mode`` argument, here and in every component and
model that takes one.

Temperatures of ``max``, ``maximum`` and ``clip`` are in the units of their arguments. When
left as ``None`` they are *relative*: a fraction :data:`RELATIVE_TEMPERATURE` of the
arguments' root-mean-square (or of the clip width), so the relaxation is scale-invariant and
works the same for latencies in seconds as for bit counts.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import validate

#: Relaxation modes every ``mode`` argument in hwjax and hwjax_models accepts.
MODES = ("exact", "ste", "smooth")
#: Fraction of the arguments' scale used as smoothing temperature when none is given.
RELATIVE_TEMPERATURE = 0.05


def check_mode(mode: str) -> str:
    """Return ``mode`` if it is one of :data:`MODES`.

    Raises:
        ValueError: naming ``mode``, the value and the allowed modes (also for a traced value).
    """
    return validate.check_choice("mode", mode, MODES)


def _check_temperature(temperature):
    if temperature is not None:
        validate.check_positive("temperature", temperature)
    return temperature


def _as_float(x, name: str = "x") -> jax.Array:
    """``x`` as a floating-point array; concrete NaN or inf raises ``ValueError`` naming it."""
    x = jnp.asarray(validate.check_range(name, x))
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))


def _straight_through(x: jax.Array, forward: jax.Array) -> jax.Array:
    """Forward value ``forward``, gradient of the identity in ``x``."""
    return x + jax.lax.stop_gradient(forward - x)


def _staircase(x: jax.Array, temperature) -> jax.Array:
    """C¹ staircase through every integer point: ``floor(x) + g(frac(x))``.

    ``g`` is a logistic of width ``temperature`` centred on the half-integer and rescaled so
    that ``g(0) = 0`` and ``g(1) = 1``; it tends to a hard step as ``temperature -> 0`` and
    to the identity as ``temperature -> inf``. ``None`` is the identity itself.
    """
    if temperature is None:
        return x
    base = jnp.floor(x)
    half_width = 0.5 / temperature
    lo, hi = jax.nn.sigmoid(-half_width), jax.nn.sigmoid(half_width)
    step = (jax.nn.sigmoid((x - base - 0.5) / temperature) - lo) / (hi - lo)
    return base + step


def _rounding(x, mode: str, temperature, exact_fn) -> jax.Array:
    check_mode(mode)
    _check_temperature(temperature)
    x = _as_float(x)
    if mode == "exact":
        return jax.lax.stop_gradient(exact_fn(x))
    if mode == "ste":
        return _straight_through(x, exact_fn(x))
    return _staircase(x, temperature)


def ceil(x, mode: str = "ste", temperature: float | None = None) -> jax.Array:
    """Smallest integer >= ``x``, e.g. the number of arrays ``ceil(rows / xbar_rows)``.

    Args:
        x: array of any shape (a count in any unit).
        mode: ``"exact"`` (zero gradient), ``"ste"`` (surrogate gradient 1, as for the
            identity) or ``"smooth"``.
        temperature: smooth mode only. ``None`` relaxes ``ceil(x)`` to ``x`` itself, the
            continuous (fractional-utilization) count, which is exact at every integer.
            A positive value (in units of ``x``) gives a C¹ staircase through every integer
            whose steps sharpen as it falls (steps centred half-way between integers).

    Returns:
        Array shaped like ``x``, floating point.
    """
    return _rounding(x, mode, temperature, jnp.ceil)


def floor(x, mode: str = "ste", temperature: float | None = None) -> jax.Array:
    """Largest integer <= ``x``; surrogates and temperature as for :func:`ceil`."""
    return _rounding(x, mode, temperature, jnp.floor)


def round(x, mode: str = "ste", temperature: float | None = None) -> jax.Array:
    """Nearest integer (half to even); surrogates and temperature as for :func:`ceil`.

    With a temperature, the smooth staircase's steps sit exactly at the half-integers where
    rounding jumps, so it converges to ``round`` as the temperature falls.
    """
    return _rounding(x, mode, temperature, jnp.round)


def _softplus(z: jax.Array, temperature) -> jax.Array:
    return temperature * jax.nn.softplus(z / temperature)


def clip(x, low, high, mode: str = "ste", temperature: float | None = None) -> jax.Array:
    """Limit ``x`` to ``[low, high]``, e.g. an ADC's full-scale range.

    Args:
        x: array of any shape; ``low``, ``high``: bounds broadcastable to it, ``low < high``.
        mode: ``"exact"`` is ``jnp.clip`` (gradient 1 inside, 0 outside); ``"ste"`` clips
            forward with the identity's gradient 1 everywhere (the straight-through
            estimator of quantizer clipping); ``"smooth"`` is
            ``low + softplus_T(x - low) - softplus_T(x - high)``, which tends to ``x`` inside
            and to the bounds outside.
        temperature: smooth mode's ``T`` in units of ``x``; ``None`` uses
            :data:`RELATIVE_TEMPERATURE` times ``high - low``.

    Returns:
        Array of the broadcast shape.
    """
    check_mode(mode)
    _check_temperature(temperature)
    if not validate.is_traced((low, high)) and np.any(np.asarray(low) >= np.asarray(high)):
        raise ValueError(f"clip needs low < high; got low={low!r}, high={high!r}")
    x = _as_float(x)
    if mode == "exact":
        return jnp.clip(x, low, high)
    if mode == "ste":
        return _straight_through(x, jnp.clip(x, low, high))
    if temperature is None:
        width = jnp.asarray(high) - jnp.asarray(low)
        temperature = RELATIVE_TEMPERATURE * jnp.maximum(width, jnp.finfo(x.dtype).tiny)
    return low + _softplus(x - low, temperature) - _softplus(x - high, temperature)


def _relative_temperature(x: jax.Array, axis) -> jax.Array:
    """``RELATIVE_TEMPERATURE`` times the root-mean-square of ``x`` along ``axis``.

    Computed on ``x / max|x|`` so that neither huge nor tiny values overflow; the scale
    carries no gradient, which is exact because the RMS is homogeneous in it. The result is
    at least the square root of the smallest normal number (about 1e-19 in float32), so that
    ``1 / T²`` in the gradient stays finite when every entry is 0.
    """
    floor = jnp.sqrt(jnp.finfo(x.dtype).tiny)
    scale = jax.lax.stop_gradient(jnp.max(jnp.abs(x), axis=axis, keepdims=True)) + floor
    normalized_ms = jnp.mean(jnp.square(x / scale), axis=axis, keepdims=True)
    return RELATIVE_TEMPERATURE * scale * jnp.sqrt(normalized_ms + 1e-12) + floor


def max(x, axis=None, mode: str = "ste", temperature: float | None = None) -> jax.Array:
    """Maximum along ``axis``, e.g. the latency of parallel units.

    Args:
        x: array; ``axis``: int, tuple or ``None`` (all axes), as for ``jnp.max``.
        mode: ``"exact"`` is ``jnp.max`` with JAX's gradient (to the maximal entries);
            ``"smooth"`` is the log-sum-exp ``T * log(sum(exp(x / T)))``, an upper bound that
            exceeds the maximum by at most ``T * log(n)`` for ``n`` entries; ``"ste"`` returns
            the exact maximum with the smooth version's gradient (a softmax over entries).
        temperature: ``T`` in units of ``x``; ``None`` uses :data:`RELATIVE_TEMPERATURE` times
            the RMS of ``x`` along ``axis`` (at most about 3.5% above the true maximum of two
            equal entries).

    Returns:
        Array with ``axis`` reduced.
    """
    check_mode(mode)
    _check_temperature(temperature)
    x = _as_float(x)
    exact = jnp.max(x, axis=axis)
    if mode == "exact":
        return exact
    t = _relative_temperature(x, axis) if temperature is None else jnp.asarray(temperature)
    smooth = jnp.squeeze(t * jax.nn.logsumexp(x / t, axis=axis, keepdims=True), axis=axis)
    if mode == "smooth":
        return smooth
    return smooth + jax.lax.stop_gradient(exact - smooth)


def maximum(a, b, mode: str = "ste", temperature: float | None = None) -> jax.Array:
    """Elementwise maximum of ``a`` and ``b`` (broadcast); modes and temperature as :func:`max`."""
    a, b = jnp.broadcast_arrays(_as_float(a, "a"), _as_float(b, "b"))
    return max(jnp.stack([a, b]), axis=0, mode=mode, temperature=temperature)


def choice(logits, candidates, mode: str = "ste", temperature: float = 1.0) -> jax.Array:
    """Pick one of ``candidates`` (e.g. ADC bits in ``[4, 6, 8]``) by the largest logit.

    Args:
        logits: array ``(..., k)``; the learned preference for each of ``k`` candidates.
        candidates: 1-D array ``(k,)`` of candidate values (any unit).
        mode: ``"exact"`` picks ``candidates[argmax(logits)]`` with zero gradient;
            ``"smooth"`` returns the expectation ``softmax(logits / T) @ candidates``;
            ``"ste"`` returns the exact pick with the smooth expectation's gradient.
        temperature: softmax temperature ``T`` in units of the logits (dimensionless).

    Returns:
        Array ``(...)`` of picked (or expected) candidate values.
    """
    check_mode(mode)
    validate.check_positive("temperature", temperature)
    candidates = jnp.asarray(candidates, dtype=float)
    logits = _as_float(logits, "logits")
    if candidates.ndim != 1 or candidates.shape[0] == 0:
        raise ValueError(f"candidates must be a non-empty 1-D array; got shape {candidates.shape}")
    if logits.ndim == 0 or logits.shape[-1] != candidates.shape[0]:
        raise ValueError(
            f"logits must have a last axis of length {candidates.shape[0]} (one per candidate); "
            f"got shape {logits.shape}"
        )
    hard = candidates[jnp.argmax(logits, axis=-1)]
    if mode == "exact":
        return jax.lax.stop_gradient(hard)
    soft = jax.nn.softmax(logits / temperature, axis=-1) @ candidates
    if mode == "smooth":
        return soft
    return soft + jax.lax.stop_gradient(hard - soft)
