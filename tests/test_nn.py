"""Flax NNX layers on the simulated hardware (hwjax.nn), and the digits demonstration of issue 6.

Demonstration (issue 6 acceptance; dissertation Table 6.4 shows the pattern on TIMON: a
pretrained ResNet20 loses 4-6 points under circuit non-idealities and 1-2 epochs of retraining
recover it to within 0.1 point): a 64-32-10 MLP on scikit-learn's bundled digits (8x8 images,
1797 samples, no download) is trained in floating point, then run without retraining on a
noisy 4-bit TaOx ReRAM crossbar (4-bit weights in 1-bit cells, 4-bit inputs, a 4-bit ADC with
a reduced full scale, 5% programming error and 1% read noise of the conductance window), then
fine-tuned for 8 epochs through the simulated hardware (straight-through gradients).
Measured (seeded): float 97.66%, hardware without retraining 95.31%, fine-tuned 97.46%.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from hwjax import nn as hnn

mvm = pytest.importorskip("hwjax.sim.mvm")
sim_devices = pytest.importorskip("hwjax.sim.devices")


def _config(**overrides):
    fields = dict(weight_bits=8, bits_per_cell=2, input_bits=8, bits_per_step=1, rows=64)
    return mvm.MVMConfig(**{**fields, **overrides})


def _noisy_config():
    device = sim_devices.DeviceModel(programming_sigma=0.05, read_sigma=0.01)
    return _config(device=device)


# --- layers ---------------------------------------------------------------------------------------

_apply = nnx.jit(lambda model, x: model(x))  # compiled: the simulator runs slowly op by op


def test_analog_dense_is_the_simulator_forward_and_the_ideal_matmul_backward():
    layer = hnn.AnalogDense(16, 8, _config(), rngs=nnx.Rngs(0), noise=False)
    x = jax.random.uniform(jax.random.key(1), (4, 16), minval=-1.0, maxval=1.0)
    kernel = layer.kernel[...]
    w_scale = jnp.max(jnp.abs(kernel))
    x_scale = jnp.max(jnp.abs(x))
    expected = mvm.bitsliced_mvm(kernel / w_scale, x / x_scale, _config()) * w_scale * x_scale
    np.testing.assert_allclose(layer(x) - layer.bias[...], expected, rtol=1e-6, atol=1e-6)
    # 8-bit codes: the simulated product is close to, but not exactly, the float one.
    assert 0 < float(jnp.max(jnp.abs(layer(x) - x @ kernel))) < 0.05 * float(jnp.max(jnp.abs(x @ kernel)))
    grads = nnx.grad(lambda m: jnp.sum(m(x) ** 2))(layer)
    y = x @ kernel + layer.bias[...]
    simulated = layer(x)
    # Straight-through: d sum(y²)/dW = x^T (2 y_sim), the ideal matmul's Jacobian.
    np.testing.assert_allclose(grads["kernel"][...], x.T @ (2 * simulated), rtol=1e-5, atol=1e-5)
    assert y.shape == simulated.shape


def test_noise_is_fresh_per_call_and_reproducible_per_seed():
    x = jnp.ones((2, 16)) * 0.5
    layer = hnn.AnalogDense(16, 8, _noisy_config(), rngs=nnx.Rngs(params=0, noise=7))
    first, second = _apply(layer, x), _apply(layer, x)
    assert not np.allclose(first, second)  # a new programming and read per call
    again = hnn.AnalogDense(16, 8, _noisy_config(), rngs=nnx.Rngs(params=0, noise=7))
    np.testing.assert_array_equal(_apply(again, x), first)  # same seed, same noise
    with pytest.raises(ValueError, match="sigma"):
        hnn.AnalogDense(16, 8, _noisy_config(), rngs=nnx.Rngs(0), noise=False)(x)


def test_analog_conv_matches_the_float_convolution_through_im2col():
    conv = hnn.AnalogConv(3, 4, (3, 3), _config(weight_bits=12, input_bits=12), rngs=nnx.Rngs(0), noise=False)
    x = jax.random.uniform(jax.random.key(2), (2, 6, 6, 3), minval=-1.0, maxval=1.0)
    reference = jax.lax.conv_general_dilated(
        x, conv.kernel[...], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    # 12-bit weights and inputs, 27-term dot products: relative error well under 1%.
    out = _apply(conv, x)
    assert out.shape == (2, 6, 6, 4)
    np.testing.assert_allclose(out, reference, atol=5e-3 * float(jnp.max(jnp.abs(reference))))


def test_analog_conv_noise_and_straight_through_gradient():
    x = jax.random.uniform(jax.random.key(3), (2, 6, 6, 3), minval=-1.0, maxval=1.0)

    def conv(noise_seed):
        return hnn.AnalogConv(3, 4, (3, 3), _noisy_config(), rngs=nnx.Rngs(params=0, noise=noise_seed))

    layer = conv(5)
    first, second = _apply(layer, x), _apply(layer, x)
    assert not np.allclose(first, second)  # a new programming and read per call
    np.testing.assert_array_equal(_apply(conv(5), x), first)  # same seed, same noise
    assert not np.allclose(_apply(conv(6), x), first)

    ideal = hnn.AnalogConv(3, 4, (3, 3), _config(), rngs=nnx.Rngs(0), noise=False)
    simulated = _apply(ideal, x)

    def float_conv(kernel):
        return jax.lax.conv_general_dilated(
            x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )

    # Straight-through: d sum(y²)/dK is the float convolution's vjp of 2 y_sim (float32 sums of
    # 72 products: 1e-5 relative).
    expected = jax.vjp(float_conv, ideal.kernel[...])[1](2 * simulated)[0]
    grads = nnx.grad(lambda m: jnp.sum(m(x) ** 2))(ideal)
    np.testing.assert_allclose(grads["kernel"][...], expected, rtol=1e-5, atol=1e-5)


def test_quant_dense_quantizes_weights_and_inputs():
    layer = hnn.QuantDense(16, 8, rngs=nnx.Rngs(0), weight_bits=3, input_bits=3)
    x = jax.random.uniform(jax.random.key(3), (4, 16), minval=-1.0, maxval=1.0)
    kernel = layer.kernel[...]
    top = jnp.max(jnp.abs(kernel))
    wq = jnp.round(kernel / top * 3.0) * top / 3.0
    xq = jnp.round(x / jnp.max(jnp.abs(x)) * 3.0) * jnp.max(jnp.abs(x)) / 3.0
    np.testing.assert_allclose(layer(x), xq @ wq, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="weight_bits"):
        hnn.QuantDense(4, 4, rngs=nnx.Rngs(0), weight_bits=1)


# --- digits demonstration -------------------------------------------------------------------------

BATCH = 128
FLOAT_STEPS = 200
FINE_TUNE_EPOCHS = 8
FINE_TUNE_RATE = 2e-3
NOISE_DRAWS = 5  # hardware accuracies average 5 programmings of the arrays


def _digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(digits.target))
    train, test = order[:1280], order[1280:1792]  # 10 training batches, 4 test batches of 128
    return (x[train], digits.target[train]), (x[test], digits.target[test])


class _MLP(nnx.Module):
    def __init__(self, make, rngs):
        self.hidden = make(64, 32, rngs)
        self.out = make(32, 10, rngs)

    def __call__(self, x):
        return self.out(jax.nn.relu(self.hidden(x)))


def _loss(model, x, y):
    logits = model(x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), logits


@nnx.jit
def _loss_grads_logits(model, x, y):
    # One compiled function for both training and evaluation: the simulated layers take
    # seconds to compile on CPU, so the demo compiles them once.
    (loss, logits), grads = nnx.value_and_grad(_loss, has_aux=True)(model, x, y)
    return loss, grads, logits


def _train(model, data, epochs: int, learning_rate: float, seed: int):
    (x, y), rng = data, np.random.default_rng(seed)
    optimizer = nnx.Optimizer(model, optax.adam(learning_rate), wrt=nnx.Param)
    for _ in range(epochs):
        for batch in rng.permutation(len(y)).reshape(-1, BATCH):
            _, grads, _ = _loss_grads_logits(model, jnp.asarray(x[batch]), jnp.asarray(y[batch]))
            optimizer.update(model, grads)


def _accuracy(model, data, draws: int = 1) -> float:
    """Test accuracy, averaged over ``draws`` noise draws (each batch call reprograms the arrays)."""
    x, y = data
    correct = 0
    for batch in np.tile(np.arange(len(y)), draws).reshape(-1, BATCH):
        _, _, logits = _loss_grads_logits(model, jnp.asarray(x[batch]), jnp.asarray(y[batch]))
        correct += int(jnp.sum(jnp.argmax(logits, -1) == y[batch]))
    return correct / (draws * len(y))


def _reram_config():
    """Noisy 4-bit TaOx ReRAM crossbar: 4-bit weights (3 magnitude bits in 1-bit cells,
    differential pairs), 4-bit inputs streamed 1 bit per cycle, 64-row arrays, a 4-bit ADC
    whose full scale (16 levels) is set below ISAAC's lossless 2^9 (so it clips the widest
    sums); 5% programming error and 1% read noise of the conductance window (independent form,
    at the low end of the Sandia TaOx study's 1-23% range, figures.md 5.3)."""
    device = sim_devices.from_device(
        "taox", programming_form="independent", programming_sigma=0.05, read_sigma=0.01
    )
    return _config(
        weight_bits=4, bits_per_cell=1, input_bits=4, adc_bits=4.0, adc_full_scale=16.0, device=device
    )


def run_digits_demo() -> dict[str, float]:
    """Float, hardware-without-retraining and hardware-fine-tuned test accuracies (fractions)."""
    train, test = _digits()
    float_model = _MLP(lambda i, o, rngs: nnx.Linear(i, o, rngs=rngs), nnx.Rngs(0))
    _train(float_model, train, FLOAT_STEPS // 10, 1e-2, seed=0)
    config = _reram_config()
    hardware = _MLP(lambda i, o, rngs: hnn.AnalogDense(i, o, config, rngs=rngs), nnx.Rngs(params=0, noise=1))
    for layer, trained in ((hardware.hidden, float_model.hidden), (hardware.out, float_model.out)):
        layer.kernel[...] = trained.kernel[...]
        layer.bias[...] = trained.bias[...]
        # Program the float weights' range into the conductance window once (fixed while
        # fine-tuning, as on a chip whose scale is set at mapping time).
        layer.weight_range = float(jnp.max(jnp.abs(trained.kernel[...])))
    result = {"float": _accuracy(float_model, test), "hardware": _accuracy(hardware, test, NOISE_DRAWS)}
    _train(hardware, train, FINE_TUNE_EPOCHS, FINE_TUNE_RATE, seed=1)
    result["fine_tuned"] = _accuracy(hardware, test, NOISE_DRAWS)
    return result


def test_digits_accuracy_drops_on_noisy_reram_and_fine_tuning_recovers_it():
    accuracy = run_digits_demo()
    # Float MLP on digits: ~97-98% (scikit-learn's MLP reaches the same); 95% is a loose floor.
    assert accuracy["float"] > 0.95, accuracy
    # The noisy 4-bit crossbar must cost accuracy (otherwise the demo shows nothing): measured
    # 2.3 points (12 of 512 images, averaged over 5 noise draws); the bound is 1.5 points.
    assert accuracy["hardware"] < accuracy["float"] - 0.015, accuracy
    # Hardware-aware fine-tuning recovers it to within a point of float (issue 6, Table 6.4
    # pattern; measured within 0.2 points), and clearly above the un-retrained accuracy.
    assert accuracy["fine_tuned"] > accuracy["float"] - 0.01, accuracy
    assert accuracy["fine_tuned"] > accuracy["hardware"] + 0.01, accuracy


if __name__ == "__main__":
    print(run_digits_demo())
