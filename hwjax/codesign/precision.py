"""Learned precision: fake quantizers whose step and bit width are trained with the network.

A uniform quantizer has a step ``d`` (one LSB) and a clipping range ``q_max``; its bit width is
the number of levels it needs (Uhlich et al. 2020, "Mixed Precision DNNs", parametrization U3):

    b = log2(q_max / d + 1) + signed,

so learning ``d`` and ``q_max`` learns ``b`` as a smooth function of them, which a co-design loss
feeds to an accelerator's per-layer knobs (:class:`hwjax.system.LayerKnobs`). The forward pass
clips exactly and rounds with a straight-through gradient (:func:`hwjax.relax.round`), so the
step gets the LSQ gradient (Esser et al. 2020, scaled by ``1 / sqrt(N Q_p)``: :func:`lsq_scale`)
and the range gets the gradient of the values it clips.

The NNX layers (:class:`PrecisionDense`, :class:`PrecisionConv`) quantize their kernel and their
input with a :class:`LearnedQuantizer` each, which holds ``log2`` of the step and of the full
scale ``q_max + d = 2^(b - signed) d`` as ``nnx.Param`` (positive by construction, and Adam's
relative updates suit both; Jain et al. 2020 learn log-domain thresholds for the same reason).
Bits are then ``log2 full_scale - log2 step + signed``, linear in the parameters.
:func:`precision_knobs` collects every layer's bits in the order of
:func:`hwjax.workloads.from_flax`'s network.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from hwjax import flax_trace, relax, validate
from hwjax.system import LayerKnobs

#: Allowed bit widths (inclusive), of the quantizers and of every ``bits`` argument.
BITS_RANGE = (1.0, 16.0)


def _check_bits(name: str, value: Any) -> Any:
    return validate.check_range(name, value, *BITS_RANGE, unit="bits")


def q_max_for(step, bits, signed: bool = True) -> jax.Array:
    """The clipping range ``(2^(bits - signed) - 1) * step`` of a ``bits``-bit quantizer.

    Args:
        step: LSB, > 0, in the units of the quantized values; ``bits``: in [1, 16] (traced values
            are clamped); ``signed``: one bit holds the sign (levels symmetric about 0).

    Returns:
        ``q_max`` (units of ``step``), broadcast shape; differentiable in both arguments.
    """
    step = validate.check_positive("step", step)
    bits = _check_bits("bits", bits)
    return (jnp.exp2(jnp.asarray(bits, float) - float(signed)) - 1.0) * step


def bits(step, q_max, signed: bool = True) -> jax.Array:
    """Bit width ``log2(q_max / step + 1) + signed`` of a quantizer (continuous, bits).

    Written as ``log2(q_max + step) - log2(step)`` so that its gradient stays finite for tiny
    steps (no ``q_max / step**2``).
    """
    step = jnp.asarray(validate.check_positive("step", step), float)
    q_max = jnp.asarray(validate.check_nonnegative("q_max", q_max), float)
    return jnp.log2(q_max + step) - jnp.log2(step) + float(signed)


def lsq_scale(n, step, q_max) -> jax.Array:
    """LSQ's gradient scale ``1 / sqrt(n * Q_p)``, ``Q_p = q_max / step`` (at least 1, so a 1-bit
    quantizer stays finite); ``n``: elements sharing the step (weights of a layer, or features of
    one example for inputs). Constant: no gradient flows through it."""
    levels = jnp.maximum(jax.lax.stop_gradient(jnp.asarray(q_max) / jnp.asarray(step)), 1.0)
    return jax.lax.rsqrt(float(n) * levels)


def _scale_gradient(x: jax.Array, scale) -> jax.Array:
    """Forward ``x``, gradient times ``scale`` (LSQ's ``grad_scale``)."""
    return jax.lax.stop_gradient(x - x * scale) + x * scale


def quantize(x, step, q_max, signed: bool = True, grad_scale=None) -> jax.Array:
    """Fake-quantize ``x``: ``step * round(clip(x, lo, q_max) / step)``, ``lo = -q_max`` when
    ``signed`` else 0, rounding with a straight-through gradient.

    Gradients: ``x`` gets 1 inside the range and 0 outside; ``step`` the rounding residual
    ``round(v) - v`` (LSQ; Uhlich's U3 moves LSQ's clipped ``Q_p`` terms to ``q_max``); ``q_max``
    ``sign(x)`` for each clipped element. ``grad_scale`` multiplies the gradients of ``step`` and
    ``q_max`` (LSQ: :func:`lsq_scale`; ``None``: 1).

    Args:
        x: array of any shape. ``step``: LSB > 0; ``q_max``: range >= 0 (0 when unsigned is
            allowed only as 1 bit). Both broadcast against ``x``. Their bit width
            (:func:`bits`) must lie in [1, 16]; traced values are clamped to that range (the
            step to a positive normal float), with a straight-through gradient for ``q_max`` so
            a trained range pushed past a bound still feels the loss.
        signed: levels ``-k..k`` rather than ``0..k``, ``k = round(q_max / step)``: at most
            ``2^b`` levels (unsigned: ``2^b + 1/2``, exactly ``2^b`` at integer ``b``).
        grad_scale: positive scalar or ``None``.

    Returns:
        Array shaped like ``x`` (broadcast), floating point.

    Raises:
        ValueError: concrete ``step <= 0``, ``q_max < 0`` or bits outside [1, 16], naming them.
    """
    step = jnp.asarray(validate.check_positive("step", step), float)
    q_max = validate.check_nonnegative("q_max", q_max)
    if validate.is_traced(q_max) or validate.is_traced(step):
        low, high = (q_max_for(step, b, signed) for b in BITS_RANGE)
        q_max = relax.clip(q_max, low, high, mode="ste")
    else:
        _check_bits("bits (of step and q_max)", bits(step, q_max, signed))
    q_max = jnp.asarray(q_max, float)
    if grad_scale is not None:
        grad_scale = validate.check_positive("grad_scale", grad_scale)
        step, q_max = _scale_gradient(step, grad_scale), _scale_gradient(q_max, grad_scale)
    # ``0 * q_max`` rather than a literal 0: a clip at a literal zero reads as a relu to
    # hwjax.workloads.from_flax, which would count vector work the layer does not do.
    low = -q_max if signed else 0.0 * q_max
    clipped = jnp.clip(jnp.asarray(x, float), low, q_max)  # clip before scaling: |v| <= 2^16
    # times 2^-log2(step), not / step: the gradient of a division, -v / step**2, underflows for
    # tiny steps (inf); through the logarithm it is -v / step, finite.
    v = clipped * jnp.exp2(-jnp.log2(step))
    return relax.round(v, mode="ste") * step


def fake_quantize(x, step, bits, signed: bool = True, grad_scale=None) -> jax.Array:
    """:func:`quantize` with a bit width instead of a range (``q_max = q_max_for(step, bits)``);
    at integer ``bits`` it is the uniform ``bits``-bit quantizer of step ``step``, and it is
    differentiable in ``bits`` through the values it clips."""
    return quantize(x, step, q_max_for(step, bits, signed), signed, grad_scale)


class LearnedQuantizer(nnx.Module):
    """A quantizer with learned step and range, parametrized by ``log2 step`` and
    ``log2 full_scale`` (``full_scale = q_max + step``), both ``nnx.Param`` scalars.

    Args:
        q_max: initial range (units of the values), > 0: the largest magnitude kept.
        bits: initial bit width in [2, 16] (a signed 1-bit quantizer has only the level 0).
        signed: symmetric levels about 0, else ``0..k`` (inputs after a ReLU).
        n: elements sharing the step, for :func:`lsq_scale`; ``None``: counted from the input
            (all elements when 1-D, else those of one leading index).
    """

    def __init__(self, q_max: float, bits: float = 8.0, signed: bool = True, n: int | None = None):
        q_max = float(validate.check_positive("q_max", q_max))
        bits = float(validate.check_range("bits", bits, 2.0, BITS_RANGE[1], unit="bits"))
        step = q_max / (2.0 ** (bits - signed) - 1.0)
        self.signed = signed
        self.n = n
        self.log2_step = nnx.Param(jnp.asarray(math.log2(step)))
        self.log2_full_scale = nnx.Param(jnp.asarray(math.log2(q_max + step)))

    @property
    def step(self) -> jax.Array:
        """The LSB (units of the values); traced, at least the smallest normal float."""
        return validate.check_positive("step", jnp.exp2(self.log2_step[...]))

    @property
    def bits(self) -> jax.Array:
        """Current continuous bit width, clipped to [1, 16] (straight-through gradient)."""
        raw = self.log2_full_scale[...] - self.log2_step[...] + float(self.signed)
        return relax.clip(raw, *BITS_RANGE, mode="ste")

    def __call__(self, x: jax.Array) -> jax.Array:
        """``x`` fake-quantized (:func:`quantize` with the LSQ gradient scale)."""
        x = jnp.asarray(x)
        n = self.n if self.n is not None else (x.size if x.ndim < 2 else x.size // x.shape[0])
        step = self.step
        q_max = q_max_for(step, self.bits, self.signed)
        return quantize(x, step, q_max, self.signed, lsq_scale(max(n, 1), step, q_max))


class _PrecisionLayer(nnx.Module):
    """What a precision layer shares: its two quantizers and their bits."""

    weight_quantizer: LearnedQuantizer
    input_quantizer: LearnedQuantizer

    @property
    def weight_bits(self) -> jax.Array:
        """Continuous weight bits (scalar), for ``LayerKnobs(weight_bits=...)``."""
        return self.weight_quantizer.bits

    @property
    def input_bits(self) -> jax.Array:
        """Continuous input bits (scalar), for ``LayerKnobs(input_bits=...)``."""
        return self.input_quantizer.bits

    def _quantizers(self, kernel, weight_bits, input_bits, input_scale, signed_inputs, n_inputs=None):
        input_scale = validate.check_positive("input_scale", input_scale)
        w_max = max(float(jnp.max(jnp.abs(kernel))), 1e-6)  # a zero kernel still gets a range
        self.weight_quantizer = LearnedQuantizer(w_max, weight_bits, True, n=kernel.size)
        self.input_quantizer = LearnedQuantizer(input_scale, input_bits, signed_inputs, n=n_inputs)


class PrecisionDense(_PrecisionLayer):
    """``quantize(x) @ quantize(kernel) + bias`` with learned weight and input precision.

    Args:
        in_features, out_features: static ints >= 1.
        weight_bits, input_bits: initial bits in [2, 16] (8, 8).
        input_scale: initial input range (largest magnitude kept), > 0 (1.0).
        signed_inputs: inputs may be negative (default); ``False`` for inputs after a ReLU,
            whose sign bit would be wasted.
        rngs: draws the kernel (LeCun normal, as ``nnx.Linear``); the bias starts at 0. The
            weight range starts at ``max |kernel|``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        weight_bits: float = 8.0,
        input_bits: float = 8.0,
        input_scale: float = 1.0,
        signed_inputs: bool = True,
        rngs: nnx.Rngs,
    ):
        in_features = validate.check_static_int("in_features", in_features, 1, 2**31 - 1)
        out_features = validate.check_static_int("out_features", out_features, 1, 2**31 - 1)
        kernel = nnx.initializers.lecun_normal()(rngs.params(), (in_features, out_features))
        self.kernel = nnx.Param(kernel)
        self.bias = nnx.Param(jnp.zeros((out_features,)))
        # LSQ's N for inputs: the features of one example
        self._quantizers(kernel, weight_bits, input_bits, input_scale, signed_inputs, in_features)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Outputs ``(..., out_features)`` of inputs ``(..., in_features)``."""
        return self.input_quantizer(x) @ self.weight_quantizer(self.kernel[...]) + self.bias[...]


class PrecisionConv(_PrecisionLayer):
    """A 2-D convolution (NHWC, kernel ``(kh, kw, in, out)`` as ``nnx.Conv``) on quantized
    inputs and kernel, with learned precision; arguments as :class:`PrecisionDense` plus
    ``kernel_size`` (ints), ``strides`` (ints) and ``padding`` (``"SAME"`` or ``"VALID"``)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        kernel_size: tuple[int, int],
        *,
        strides: tuple[int, int] = (1, 1),
        padding: str = "SAME",
        weight_bits: float = 8.0,
        input_bits: float = 8.0,
        input_scale: float = 1.0,
        signed_inputs: bool = True,
        rngs: nnx.Rngs,
    ):
        in_features = validate.check_static_int("in_features", in_features, 1, 2**31 - 1)
        out_features = validate.check_static_int("out_features", out_features, 1, 2**31 - 1)
        kh, kw = (validate.check_static_int("kernel_size", k, 1, 2**15) for k in kernel_size)
        self.strides = tuple(validate.check_static_int("strides", s, 1, 2**15) for s in strides)
        self.padding = validate.check_choice("padding", padding, ("SAME", "VALID"))
        shape = (kh, kw, in_features, out_features)
        kernel = nnx.initializers.lecun_normal()(rngs.params(), shape)
        self.kernel = nnx.Param(kernel)
        self.bias = nnx.Param(jnp.zeros((out_features,)))
        self._quantizers(kernel, weight_bits, input_bits, input_scale, signed_inputs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Outputs ``(N, H', W', out_features)`` of inputs ``(N, H, W, in_features)``."""
        x = self.input_quantizer(jnp.asarray(x))
        w = self.weight_quantizer(self.kernel[...])
        y = jax.lax.conv_general_dilated(
            x, w, self.strides, self.padding, dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        return y + self.bias[...]


PRECISION_LAYERS = (PrecisionDense, PrecisionConv)


def precision_layers(model: nnx.Module) -> dict[str, _PrecisionLayer]:
    """``{name: layer}`` of the precision layers in ``model`` (itself included), in graph order,
    named as :func:`hwjax.workloads.from_flax` names the layer's kernel (``"layers.0"``)."""
    return {
        flax_trace.path_name((*path, "kernel")): module
        for path, module in nnx.iter_modules(model)
        if isinstance(module, PRECISION_LAYERS)
    }


def precision_knobs(
    model: nnx.Module, network, fill_weight_bits: float = 16.0, fill_input_bits: float = 16.0
) -> LayerKnobs:
    """Per-layer ``weight_bits`` and ``input_bits`` of ``model``'s precision layers, arrays
    ``(L,)`` over the layers of ``network`` (``hwjax.workloads.from_flax(model, x)``).

    Differentiable in the quantizers' parameters (inside ``nnx.grad``), so a co-design loss can
    cost the learned precision. Trace ``network`` once, outside the loss: only the layer names
    are read. Layers that are not precision layers (trailing vector work, other matrices) get
    the ``fill_*`` bits (16: PUMA's defaults).

    Raises:
        ValueError: fill bits outside [1, 16]; a precision layer of ``model`` has no layer in
            ``network`` (the network was traced from another model, or the layer is unused).
    """
    fills = _check_bits("fill_weight_bits", fill_weight_bits), _check_bits("fill_input_bits", fill_input_bits)
    found = precision_layers(model)
    weight, inputs, matched = [], [], set()
    for layer in network.layers:
        sources = set(layer.name.split("+"))
        path = next((p for p in found if p in sources), None)
        if path is None:
            weight.append(jnp.asarray(fills[0], float))
            inputs.append(jnp.asarray(fills[1], float))
            continue
        matched.add(path)
        weight.append(found[path].weight_bits)
        inputs.append(found[path].input_bits)
    missing = sorted(set(found) - matched)
    if missing:
        raise ValueError(
            f"precision_knobs: precision layer {missing[0]!r} of the model has no layer in network "
            f"{network.name!r}; trace the network from this model (hwjax.workloads.from_flax)"
        )
    return LayerKnobs(weight_bits=jnp.stack(weight), input_bits=jnp.stack(inputs))


def bit_cost(model: nnx.Module) -> jax.Array:
    """Mean of every precision layer's weight and input bits: a simple penalty pulling
    precision down (scalar, bits); a hardware cost (energy of ``precision_knobs``) is better."""
    layers = list(precision_layers(model).values())
    if not layers:
        raise ValueError("bit_cost: the model has no PrecisionDense or PrecisionConv layer")
    return jnp.mean(jnp.stack([b for m in layers for b in (m.weight_bits, m.input_bits)]))
