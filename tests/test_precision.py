"""Learned precision (hwjax.codesign.precision): quantizer levels, gradients, checks, layers,
training on digits with a bit penalty, and the learned bits costed on PUMA."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import hwjax as hj
from hwjax import workloads
from hwjax.codesign import precision as P

# Random points (no ties at half steps, where two roundings may differ), many clipped at low bits
X = 1.5 * jax.random.normal(jax.random.key(0), (4001,))
STEP = 0.05


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("b", [1, 2, 3, 4, 8])
def test_integer_bits_is_uniform_quantization(b, signed):
    out = np.asarray(P.fake_quantize(X, STEP, float(b), signed))
    k = 2 ** (b - signed) - 1  # largest level index
    want = STEP * np.clip(np.round(np.asarray(X) / STEP), -k if signed else 0, k)
    # float32: the two orders of clip/round/multiply agree to a few ulps of the values (<= 3)
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-6)
    assert len(np.unique(out)) <= 2**b
    assert float(P.bits(STEP, P.q_max_for(STEP, b, signed), signed)) == pytest.approx(b, abs=1e-5)


@pytest.mark.parametrize("b", [1.3, 2.5, 4.7])
def test_fractional_bits_stay_within_two_to_the_b_levels(b):
    # signed: 2 round(q/d) + 1 <= 2^b; unsigned: round(q/d) + 1 <= 2^b + 1/2
    assert len(np.unique(np.asarray(P.fake_quantize(X, STEP, b, True)))) <= 2**b
    assert len(np.unique(np.asarray(P.fake_quantize(X, STEP, b, False)))) <= 2**b + 0.5


def _loss(step, b, x=X):
    return jnp.sum((P.fake_quantize(x, step, b, grad_scale=P.lsq_scale(x.size, step, 1.0)) - x) ** 2)


def test_gradients_in_step_and_bits():
    d_step, d_bits = jax.jit(jax.grad(_loss, argnums=(0, 1)))(STEP, 4.0)
    assert np.isfinite([d_step, d_bits]).all()
    assert d_step != 0  # rounding residuals
    assert d_bits < 0  # 4 bits clip |x| > 7 * 0.05: more bits lower the error
    # nothing clipped (|x| <= 0.3 < q_max): the range, hence the bits, has no gradient
    small = jnp.linspace(-0.3, 0.3, 101)  # the 4-bit range is 7 * 0.05 = 0.35
    assert float(jax.grad(_loss, argnums=1)(STEP, 4.0, small)) == 0.0


def test_vmap_over_bits_and_edges_stay_finite():
    outs = jax.vmap(lambda b: P.fake_quantize(X, STEP, b))(jnp.array([1.0, 2.0, 16.0]))
    assert np.all(np.asarray(outs[0]) == 0.0)  # signed 1 bit: the single level 0
    assert np.isfinite(np.asarray(outs)).all()
    for step, b in [(STEP, 1.0), (1e-30, 16.0), (1e-30, 1.0), (-1.0, 20.0)]:  # last: traced, clamped
        grads = jax.grad(_loss, argnums=(0, 1))(step, b)
        assert np.isfinite(grads).all(), (step, b, grads)
    d = jax.grad(lambda s: P.bits(s, 1.0))(1e-30)
    assert np.isfinite(d) and d < 0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: P.fake_quantize(X, STEP, 0.5), r"bits=0\.5 bits is outside the allowed range \[1, 16\]"),
        (lambda: P.fake_quantize(X, STEP, 17.0), r"bits=17 .*\[1, 16\]"),
        (lambda: P.quantize(X, 0.0, 1.0), r"step=0 .*\(0, inf\)"),
        (lambda: P.quantize(X, -0.1, 1.0), r"step=-0\.1"),
        (lambda: P.quantize(X, STEP, -1.0), r"q_max=-1 .*\[0, inf\)"),
        (lambda: P.quantize(X, 1e-6, 1.0), r"bits \(of step and q_max\)=.*\[1, 16\]"),
        (lambda: P.PrecisionDense(4, 3, weight_bits=1.0, rngs=nnx.Rngs(0)), r"bits=1 bits .*\[2, 16\]"),
        (lambda: P.PrecisionDense(4, 3, input_scale=0.0, rngs=nnx.Rngs(0)), r"input_scale=0"),
        (lambda: P.PrecisionConv(1, 2, (3, 3), padding="FULL", rngs=nnx.Rngs(0)), r"padding='FULL'"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


class MLP(nnx.Module):
    def __init__(self, sizes, dense, rngs):
        self.layers = nnx.List([dense(a, b, i, rngs) for i, (a, b) in enumerate(itertools.pairwise(sizes))])

    def __call__(self, x):
        for layer in self.layers[:-1]:
            x = jax.nn.relu(layer(x))
        return self.layers[-1](x)


def _precision(a, b, i, rngs):
    # Hidden inputs follow a ReLU (unsigned); pixels are in [0, 1]: unsigned too.
    return P.PrecisionDense(a, b, input_scale=1.0 if i == 0 else 4.0, signed_inputs=False, rngs=rngs)


def _linear(a, b, i, rngs):
    return nnx.Linear(a, b, rngs=rngs)


def test_precision_knobs_follow_from_flax_order_and_conv():
    class Net(nnx.Module):
        def __init__(self, rngs):
            self.z_conv = P.PrecisionConv(1, 4, (3, 3), strides=(2, 2), weight_bits=5.0, rngs=rngs)
            self.a_head = P.PrecisionDense(64, 3, input_bits=6.0, rngs=rngs)

        def __call__(self, x):  # called conv first, though sorted after the head
            return self.a_head(jax.nn.relu(self.z_conv(x)).reshape(x.shape[0], -1))

    net = Net(nnx.Rngs(0))
    x = jnp.ones((1, 8, 8, 1))
    network = workloads.from_flax(net, x)
    assert [type(layer).__name__ for layer in network.layers] == ["Conv2d", "Dense"]
    knobs = P.precision_knobs(net, network)
    np.testing.assert_allclose(knobs.weight_bits, [5.0, 8.0], atol=1e-5)
    np.testing.assert_allclose(knobs.input_bits, [8.0, 6.0], atol=1e-5)
    other = workloads.from_flax(P.PrecisionDense(4, 3, rngs=nnx.Rngs(0)), jnp.ones((1, 4)))
    with pytest.raises(ValueError, match=r"precision layer 'a_head' .* has no layer"):
        P.precision_knobs(net, other)


def _digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    x, y = jnp.asarray(data.data / 16.0, jnp.float32), jnp.asarray(data.target)
    return (x[:1400], y[:1400]), (x[1400:], y[1400:])


def _train(model, x, y, penalty, steps=300):
    """Full-batch Adam (1e-2) on cross-entropy + ``penalty`` x mean bits, one compiled scan."""
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    opt = optax.adam(1e-2)

    def loss(params):
        m = nnx.merge(graphdef, params, rest)
        ce = optax.softmax_cross_entropy_with_integer_labels(m(x), y).mean()
        return ce + (penalty * P.bit_cost(m) if penalty else 0.0)

    def step(carry, _):
        params, state = carry
        updates, state = opt.update(jax.grad(loss)(params), state, params)
        return (optax.apply_updates(params, updates), state), None

    (params, _), _ = jax.jit(lambda p: jax.lax.scan(step, (p, opt.init(p)), length=steps))(params)
    return nnx.merge(graphdef, params, rest)


def _accuracy(model, x, y):
    return float(jnp.mean(jnp.argmax(model(x), -1) == y))


def test_training_lowers_bits_keeps_accuracy_and_costs_on_puma():
    from hwjax_models import puma

    (x, y), (xt, yt) = _digits()
    sizes = (64, 32, 10)
    float_acc = _accuracy(_train(MLP(sizes, _linear, nnx.Rngs(0)), x, y, 0.0), xt, yt)
    model = _train(MLP(sizes, _precision, nnx.Rngs(0)), x, y, penalty=0.002)
    acc = _accuracy(model, xt, yt)
    learned = [float(b) for layer in model.layers for b in (layer.weight_bits, layer.input_bits)]
    print(f"float {float_acc:.3f}, learned {acc:.3f}, bits (w, x per layer) {np.round(learned, 2)}")
    # 397 held-out digits: 4 points is ~16 digits, above the seed-to-seed spread of this MLP
    assert acc >= float_acc - 0.04
    assert max(learned) < 7.0  # from 8 bits everywhere
    assert float(P.bit_cost(model)) < 6.0

    network = workloads.from_flax(model, x[:1])

    def energy(model):
        knobs = P.precision_knobs(model, network)
        return hj.total(puma.inference(puma.Config(), network, "ste", layers=knobs)).total_energy

    cost = nnx.jit(nnx.value_and_grad(energy))  # PUMA compiles in seconds: once, for both models
    trained, grads = cost(model)
    for i in range(len(model.layers)):
        for q in ("weight_quantizer", "input_quantizer"):
            g = float(grads["layers"][i][q]["log2_full_scale"][...])
            assert np.isfinite(g) and g > 0, (i, q, g)  # more bits, more energy
    assert float(trained) < float(cost(MLP(sizes, _precision, nnx.Rngs(0)))[0])  # 8 bits at start
