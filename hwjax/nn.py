"""Flax NNX layers whose forward pass runs the simulated hardware and whose backward pass is ideal.

* :class:`AnalogDense` and :class:`AnalogConv` compute their matrix products with
  :func:`hwjax.sim.mvm.bitsliced_mvm` (weights sliced into cells, inputs streamed through DACs,
  per-conversion ADCs, device noise), a convolution by im2col onto the same MVM;
* :class:`QuantDense` is the digital baseline: uniformly quantized weights and inputs, exact
  products.

Gradients are straight-through: the backward pass is that of the ideal floating-point matmul
(``y = ideal + stop_gradient(simulated - ideal)``), so a network trains *through* the
simulated hardware (hardware-aware training) while its gradients stay well defined. The
hardware knobs in the config get no gradient through these layers (use
:mod:`hwjax.sim.proxies` for that).

Noise: a layer built with ``noise=True`` draws a fresh key from the ``"noise"`` stream of its
``nnx.Rngs`` (the default stream when there is no ``"noise"`` stream) on every call; two calls
see different programming and read noise, as two programmings of a chip would. With
``noise=False`` the simulator runs with ``key=None`` (the config's device must then be
noise-free).

Scaling (an assumption about the digital periphery): the config quantizes weights and inputs
on ``[-1, 1]``-style clip ranges, so each layer divides its weights by their largest magnitude
(a per-layer conductance scale, as when a layer is programmed into its arrays) and its inputs
by ``input_range`` (fixed, set by calibration) or, when ``input_range`` is ``None``, by the
largest input magnitude of the call (dynamic range, a digital max before the DACs); the
output is multiplied back. Both scales are constants to the gradient.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

__all__ = ["AnalogConv", "AnalogDense", "QuantDense", "analog_matmul", "quantized_matmul"]

_TINY = 1e-12


def _mvm(weights, x, config, key):
    from hwjax.sim.mvm import bitsliced_mvm  # deferred: keeps `import hwjax.nn` light

    return bitsliced_mvm(weights, x, config, key)


def _scale(values, fixed) -> jax.Array:
    """Largest magnitude of ``values`` (or ``fixed``), a constant to the gradient."""
    if fixed is not None:
        return jnp.asarray(fixed, dtype=jnp.result_type(values))
    return jax.lax.stop_gradient(jnp.maximum(jnp.max(jnp.abs(values)), _TINY))


def _clips(config) -> tuple[Any, Any]:
    return getattr(config, "weight_clip", 1.0), getattr(config, "input_clip", 1.0)


def analog_matmul(x, weights, config, key=None, input_range=None, weight_range=None) -> jax.Array:
    """``x @ weights`` computed by the simulated crossbar, with the ideal matmul's gradient.

    Args:
        x: inputs, shape (..., K).
        weights: (K, N).
        config: a :class:`hwjax.sim.mvm.MVMConfig`.
        key: PRNG key for device noise, or ``None`` (noise-free).
        input_range: inputs are divided by this (``None``: the call's largest magnitude) so they
            fit the config's input clip range.
        weight_range: weights are divided by this (``None``: their largest magnitude); a fixed
            value keeps the conductance scale put while fine-tuning (weights beyond it clip).

    Returns:
        (..., N): the simulated product in the forward pass; gradients w.r.t. ``x`` and
        ``weights`` are those of ``x @ weights``.
    """
    weight_clip, input_clip = _clips(config)
    w_scale = _scale(weights, weight_range) / weight_clip
    x_scale = _scale(x, input_range) / input_clip
    simulated = _mvm(weights / w_scale, x / x_scale, config, key) * (w_scale * x_scale)
    ideal = x @ weights
    return ideal + jax.lax.stop_gradient(simulated - ideal)


def _fake_quantize(values, bits: int, scale) -> jax.Array:
    """Symmetric uniform quantization to ``bits`` (sign included) on ``[-scale, scale]``."""
    top = 2.0 ** (bits - 1) - 1.0
    codes = jnp.round(jnp.clip(values / scale, -1.0, 1.0) * top)
    return codes * scale / top


def quantized_matmul(x, weights, weight_bits: int, input_bits: int, input_range=None) -> jax.Array:
    """``x @ weights`` with weights and inputs uniformly quantized (digital); ideal gradient.

    Weights are quantized on ``[-max|w|, max|w|]`` with ``weight_bits`` bits (sign included),
    inputs on ``[-input_range, input_range]`` (``None``: the call's largest magnitude).
    """
    wq = _fake_quantize(weights, weight_bits, _scale(weights, None))
    xq = _fake_quantize(x, input_bits, _scale(x, input_range))
    ideal = x @ weights
    return ideal + jax.lax.stop_gradient(xq @ wq - ideal)


def _noise_stream(rngs: nnx.Rngs, noise: bool):
    if not noise:
        return nnx.data(None)
    return rngs.noise.fork() if "noise" in rngs else rngs.default.fork()


def _check_features(**features: int) -> None:
    for name, value in features.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


class _AnalogLayer(nnx.Module):
    """What :class:`AnalogDense` and :class:`AnalogConv` share: a kernel of ``kernel_shape``
    (last axis ``out_features``), an optional digital bias, and the simulated MVM of inputs
    against the kernel unrolled to a ``(K, out_features)`` matrix."""

    def _init_layer(self, kernel_shape, config, rngs, noise, use_bias, input_range, weight_range) -> None:
        init = nnx.initializers.lecun_normal()
        self.kernel = nnx.Param(init(rngs.params(), kernel_shape))
        self.bias = nnx.Param(jnp.zeros((kernel_shape[-1],))) if use_bias else nnx.data(None)
        self.config = config
        self.noise = noise
        self.input_range = input_range
        self.weight_range = weight_range
        self.rngs = _noise_stream(rngs, noise)

    def _mvm_plus_bias(self, x: jax.Array, matrix: jax.Array) -> jax.Array:
        key = self.rngs() if self.noise else None
        y = analog_matmul(x, matrix, self.config, key, self.input_range, self.weight_range)
        return y if self.bias is None else y + self.bias[...]


class AnalogDense(_AnalogLayer):
    """Dense layer on a simulated analog crossbar: ``y = mvm(x, kernel) + bias``.

    Args:
        in_features, out_features: K and N.
        config: :class:`hwjax.sim.mvm.MVMConfig` of the arrays (static: bits, slices, rows;
            leaves: ADC, clips, device).
        rngs: ``nnx.Rngs``; ``params`` initializes the kernel (LeCun normal), ``noise`` (or
            ``default``) feeds a fresh noise key to every call.
        noise: draw device noise (``True``) or run noise-free (``False``).
        use_bias: add a digital bias (not simulated).
        input_range: fixed input scale (``None``: dynamic per call); see the module docstring.
        weight_range: fixed weight scale (``None``: the kernel's largest magnitude, per call).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        config: Any,
        *,
        rngs: nnx.Rngs,
        noise: bool = True,
        use_bias: bool = True,
        input_range: float | None = None,
        weight_range: float | None = None,
    ):
        _check_features(in_features=in_features, out_features=out_features)
        shape = (in_features, out_features)
        self._init_layer(shape, config, rngs, noise, use_bias, input_range, weight_range)

    def __call__(self, x: jax.Array) -> jax.Array:
        """x: (..., in_features) -> (..., out_features)."""
        return self._mvm_plus_bias(x, self.kernel[...])


class AnalogConv(_AnalogLayer):
    """2-D convolution (NHWC) by im2col onto the simulated crossbar MVM.

    Each output pixel's receptive field (``kh * kw * in_features`` values) is one MVM input
    vector; the kernel (kh, kw, in, out) is unrolled into the (kh * kw * in, out) matrix that the
    arrays hold, as PUMA and ISAAC map convolutions.

    Args:
        in_features, out_features: input and output channels.
        kernel_size: (kh, kw).
        config, rngs, noise, use_bias, input_range, weight_range: as for :class:`AnalogDense`.
        strides: (sh, sw); padding: ``"SAME"`` or ``"VALID"``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        kernel_size: tuple[int, int],
        config: Any,
        *,
        rngs: nnx.Rngs,
        strides: tuple[int, int] = (1, 1),
        padding: str = "SAME",
        noise: bool = True,
        use_bias: bool = True,
        input_range: float | None = None,
        weight_range: float | None = None,
    ):
        _check_features(in_features=in_features, out_features=out_features)
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
        kernel_size = tuple(kernel_size)
        shape = (*kernel_size, in_features, out_features)
        self._init_layer(shape, config, rngs, noise, use_bias, input_range, weight_range)
        self.kernel_size = kernel_size
        self.strides = tuple(strides)
        self.padding = padding

    def _patches(self, x: jax.Array) -> jax.Array:
        """(B, H, W, C) -> (B, H', W', C * kh * kw), features ordered (C, kh, kw)."""
        return jax.lax.conv_general_dilated_patches(
            x,
            self.kernel_size,
            self.strides,
            self.padding,
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        """x: (B, H, W, in_features) -> (B, H', W', out_features)."""
        kernel = self.kernel[...]
        # (kh, kw, C, O) -> (C, kh, kw, O): the patches' feature order.
        matrix = jnp.transpose(kernel, (2, 0, 1, 3)).reshape(-1, kernel.shape[-1])
        return self._mvm_plus_bias(self._patches(x), matrix)


class QuantDense(nnx.Module):
    """Digital dense layer with uniformly quantized weights and inputs (the baseline).

    Args:
        in_features, out_features: K and N.
        rngs: ``nnx.Rngs`` (``params`` initializes the kernel).
        weight_bits, input_bits: code widths including the sign, >= 2.
        use_bias: add a bias (full precision).
        input_range: fixed input scale (``None``: dynamic per call).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        rngs: nnx.Rngs,
        weight_bits: int = 8,
        input_bits: int = 8,
        use_bias: bool = True,
        input_range: float | None = None,
    ):
        _check_features(in_features=in_features, out_features=out_features)
        for name, bits in (("weight_bits", weight_bits), ("input_bits", input_bits)):
            if not isinstance(bits, int) or not 2 <= bits <= 32:
                raise ValueError(f"{name} must be an integer in [2, 32], got {bits!r}")
        init = nnx.initializers.lecun_normal()
        self.kernel = nnx.Param(init(rngs.params(), (in_features, out_features)))
        self.bias = nnx.Param(jnp.zeros((out_features,))) if use_bias else nnx.data(None)
        self.weight_bits = weight_bits
        self.input_bits = input_bits
        self.input_range = input_range

    def __call__(self, x: jax.Array) -> jax.Array:
        """x: (..., in_features) -> (..., out_features)."""
        y = quantized_matmul(x, self.kernel[...], self.weight_bits, self.input_bits, self.input_range)
        return y if self.bias is None else y + self.bias[...]
