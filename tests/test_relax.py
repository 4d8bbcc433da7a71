"""Forward values and surrogate gradients of the relaxations, mode by mode.

Tolerances: float32, rtol 1e-6 for exact arithmetic identities; the smooth-vs-exact bounds
are the documented ones (T log n for log-sum-exp, T log 2 for the soft clip).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwjax import relax

X = jnp.array([-2.5, -0.3, 0.0, 0.4, 1.0, 1.5, 2.6])
ROUNDINGS = [(relax.ceil, jnp.ceil), (relax.floor, jnp.floor), (relax.round, jnp.round)]


@pytest.mark.parametrize("relaxed, exact", ROUNDINGS)
def test_exact_and_ste_forward_values_are_exact(relaxed, exact):
    for mode in ("exact", "ste"):
        np.testing.assert_array_equal(relaxed(X, mode=mode), exact(X))


@pytest.mark.parametrize("relaxed, exact", ROUNDINGS)
def test_gradients_are_zero_in_exact_mode_and_one_in_ste_mode(relaxed, exact):
    def grad(mode):
        return jax.vmap(jax.grad(lambda x: relaxed(x, mode=mode)))(X)

    np.testing.assert_array_equal(grad("exact"), jnp.zeros_like(X))
    np.testing.assert_array_equal(grad("ste"), jnp.ones_like(X))


@pytest.mark.parametrize("relaxed, exact", ROUNDINGS)
def test_smooth_without_temperature_is_the_continuous_count(relaxed, exact):
    np.testing.assert_array_equal(relaxed(X, mode="smooth"), X)


def test_smooth_staircase_passes_through_integers_and_is_monotone():
    xs = jnp.linspace(-3.0, 3.0, 601)
    stairs = relax.round(xs, mode="smooth", temperature=0.05)
    integers = jnp.arange(-3.0, 4.0)
    np.testing.assert_allclose(relax.ceil(integers, mode="smooth", temperature=0.1), integers, atol=1e-6)
    assert np.all(np.diff(np.asarray(stairs)) >= -1e-6)
    # Away from the half-integers the sharp staircase is within 1% of a step of round(x).
    away = jnp.abs(xs - jnp.floor(xs) - 0.5) > 0.25
    np.testing.assert_allclose(stairs[away], jnp.round(xs)[away], atol=0.01)


def test_clip_modes():
    x = jnp.array([-5.0, 0.5, 5.0])
    for mode in ("exact", "ste"):
        np.testing.assert_array_equal(relax.clip(x, -1.0, 2.0, mode=mode), jnp.array([-1.0, 0.5, 2.0]))
    grad = {m: jax.vmap(jax.grad(lambda v, m=m: relax.clip(v, -1.0, 2.0, mode=m)))(x) for m in relax.MODES}
    np.testing.assert_array_equal(grad["exact"], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(grad["ste"], [1.0, 1.0, 1.0])
    smooth = relax.clip(x, -1.0, 2.0, mode="smooth")
    temperature = relax.RELATIVE_TEMPERATURE * 3.0
    np.testing.assert_allclose(smooth, [-1.0, 0.5, 2.0], atol=temperature * np.log(2))


def test_max_smooth_is_an_upper_bound_and_ste_keeps_the_exact_value():
    x = jnp.array([1.0, 3.0, 2.0, 2.9])
    exact = relax.max(x, mode="exact")
    smooth = relax.max(x, mode="smooth", temperature=0.1)
    assert float(exact) == 3.0
    assert 3.0 <= float(smooth) <= 3.0 + 0.1 * np.log(4) + 1e-6
    assert float(relax.max(x, mode="ste")) == 3.0
    weights = jax.grad(lambda v: relax.max(v, mode="ste", temperature=0.5))(x)
    np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-6)  # a softmax over entries
    assert int(jnp.argmax(weights)) == 1


def test_max_along_an_axis():
    x = jnp.array([[1.0, 5.0], [4.0, 2.0]])
    for mode in relax.MODES:
        assert relax.max(x, axis=1, mode=mode).shape == (2,)
    np.testing.assert_array_equal(relax.max(x, axis=0, mode="ste"), [4.0, 5.0])


def test_relative_temperature_makes_maximum_scale_invariant():
    a, b = 2.0, 3.0
    unit = relax.maximum(a, b, mode="smooth")
    nano = relax.maximum(a * 1e-9, b * 1e-9, mode="smooth")
    np.testing.assert_allclose(nano, unit * 1e-9, rtol=1e-5)
    assert 3.0 <= float(unit) <= 3.0 * (1 + relax.RELATIVE_TEMPERATURE)


def test_choice_modes():
    candidates = jnp.array([4.0, 6.0, 8.0])
    logits = jnp.array([[0.1, 2.0, 0.3], [3.0, 0.0, 0.0]])
    np.testing.assert_array_equal(relax.choice(logits, candidates, mode="exact"), [6.0, 4.0])
    np.testing.assert_array_equal(relax.choice(logits, candidates, mode="ste"), [6.0, 4.0])
    expected = jax.nn.softmax(logits, axis=-1) @ candidates
    np.testing.assert_allclose(relax.choice(logits, candidates, mode="smooth"), expected, rtol=1e-6)

    def total(mode):
        return jax.grad(lambda z: relax.choice(z, candidates, mode=mode).sum())(logits)

    np.testing.assert_allclose(total("ste"), total("smooth"), rtol=1e-6)
    np.testing.assert_array_equal(total("exact"), jnp.zeros_like(logits))


def test_bad_inputs():
    with pytest.raises(ValueError, match="mode"):
        relax.ceil(1.0, mode="soft")
    with pytest.raises(ValueError, match="temperature"):
        relax.round(1.0, mode="smooth", temperature=0.0)
    with pytest.raises(ValueError, match="low < high"):
        relax.clip(1.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="candidates"):
        relax.choice(jnp.zeros((2, 3)), jnp.zeros((3, 1)))
    with pytest.raises(ValueError, match="logits"):
        relax.choice(jnp.zeros(2), jnp.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="b="):
        relax.maximum(1.0, float("nan"))


def test_check_mode_is_the_one_mode_check():
    assert relax.check_mode("smooth") == "smooth"
    with pytest.raises(ValueError, match="mode='fuzzy'") as error:
        relax.check_mode("fuzzy")
    for mode in relax.MODES:
        assert repr(mode) in str(error.value)
