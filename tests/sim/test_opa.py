"""Bit-sliced outer-product accumulate (PANTHER, dissertation sections 5.3, 5.6.2 and 5.7.1):
exactness against integer arithmetic, per-cycle saturation, carry resolution, and Fig. 5.9's
finding that 3-bit slices saturate far more than 5- or 6-bit slices."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwjax.sim import opa


def test_slices_round_trip_and_carry_resolution_keeps_the_weight():
    config = opa.OPAConfig()  # PANTHER's 44466555, p = 4: 32-bit weights
    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        # Balanced digits with a 4-bit top slice represent about [-2.1e9, 2.0e9]: stay inside.
        weights = jnp.asarray(rng.integers(-(2**30), 2**30, (6, 5)), jnp.float64)
        slices = opa.weights_to_slices(weights, config)
        np.testing.assert_array_equal(opa.slices_to_weights(slices, config), weights)
        # Resolved digits are balanced: [-8, 8) below the top slice.
        assert float(jnp.max(jnp.abs(slices[:-1] + 0.5))) <= 8
        unresolved = slices.at[0].add(37.0).at[1].add(-20.0)
        resolved = opa.carry_resolve(unresolved, config)
        np.testing.assert_array_equal(opa.slices_to_weights(resolved, config), weights + 37 - 20 * 16)
        np.testing.assert_array_equal(resolved, opa.weights_to_slices(weights + 37 - 20 * 16, config))


def test_one_update_streams_row_bits_and_slices_columns_by_hand():
    """Fig. 5.3(b)-(d) with p = 2: x = 3 (bits 1, 1), delta = 5 = 0b0101. Cycle 0 adds 5's chunks
    (1, 1) to slices (0, 1); cycle 1 adds 10's chunks (2, 2): slices 3 and 3, i.e. 3 + 3 * 4 = 15."""
    config = opa.OPAConfig(slice_bits=(3, 3, 3), value_bits=2, input_bits=2, delta_bits=3)
    new, counts = opa.opa_update(jnp.zeros((3, 1, 1)), jnp.array([3.0]), jnp.array([5.0]), config)
    np.testing.assert_array_equal(new[:, 0, 0], [3.0, 3.0, 0.0])
    np.testing.assert_array_equal(counts, [0, 0, 0])
    # delta = 7: cycle 0 adds (3, 1), cycle 1 adds 14's chunks (2, 3): both slices pass 3 and clip.
    new, counts = opa.opa_update(jnp.zeros((3, 1, 1)), jnp.array([3.0]), jnp.array([7.0]), config)
    np.testing.assert_array_equal(new[:, 0, 0], [3.0, 3.0, 0.0])
    np.testing.assert_array_equal(counts, [1, 1, 0])
    # Negative polarity saturates at -4.
    new, counts = opa.opa_update(jnp.zeros((3, 1, 1)), jnp.array([-3.0]), jnp.array([7.0]), config)
    np.testing.assert_array_equal(new[:, 0, 0], [-4.0, -4.0, 0.0])


def test_without_saturation_resolved_slices_equal_the_integer_update():
    """Section 5.6.2's bit-sliced update is exact when no slice clips: carry-resolved slices
    equal the slices of W + sum_t x_t delta_t^T (exact integers in float64)."""
    config = opa.OPAConfig(slice_bits=(8,) * 6, value_bits=3, input_bits=6, delta_bits=6)
    rng = np.random.default_rng(1)
    weights = rng.integers(-(2**15), 2**15, (5, 7))
    xs, deltas = rng.integers(-63, 64, (20, 5)), rng.integers(-63, 64, (20, 7))
    with jax.enable_x64(True):
        slices = opa.weights_to_slices(jnp.asarray(weights, jnp.float64), config)
        final, counts = jax.jit(lambda s, x, d: opa.opa_stream(s, x, d, config, 4))(
            slices, jnp.asarray(xs, jnp.float64), jnp.asarray(deltas, jnp.float64)
        )
        expected = weights + np.einsum("tm,tn->mn", xs, deltas)
        assert int(counts.sum()) == 0
        np.testing.assert_array_equal(
            final, opa.weights_to_slices(jnp.asarray(expected, jnp.float64), config)
        )
        np.testing.assert_array_equal(opa.slices_to_weights(final, config), expected)


def _saturation_rates(slice_bits: int, carry_interval: int) -> np.ndarray:
    """Mean fraction of each slice's cells (LSB first) that clip per update over an SGD-like
    stream: 16-bit weights as 8 slices of p = 2 value bits, 8-bit ReLU activations (half zero)
    and 8-bit zero-mean errors; the largest update is ~5% of the weight range (Fig. 5.4)."""
    config = opa.OPAConfig(slice_bits=(slice_bits,) * 8, value_bits=2, input_bits=8, delta_bits=8)
    rng = np.random.default_rng(0)
    steps, rows, cols = 96, 16, 16
    weights = rng.integers(-(2**13), 2**13, (rows, cols)).astype(np.float32)
    xs = np.clip(np.round(np.maximum(rng.normal(0, 1, (steps, rows)), 0) * 64), 0, 255)
    deltas = np.clip(np.round(rng.normal(0, 4, (steps, cols))), -255, 255)
    slices = opa.weights_to_slices(weights, config)
    _, counts = opa.opa_stream(slices, jnp.asarray(xs), jnp.asarray(deltas), config, carry_interval)
    return np.asarray(counts).mean(axis=0) / (rows * cols)


def test_fig_5_9_three_bit_slices_saturate_the_lowest_slice_far_more():
    """Section 5.7.1 / Fig. 5.9: with 3-bit slices the lowest slice saturates far more than with
    5- or 6-bit slices, and CRS more often (K = 1) does not cure it; the top slice barely saturates.

    Value bits p = 2, so 3/4/5/6-bit slices have 1/2/3/4 bits of carry headroom (assumption: the
    dissertation does not give p for its uniform slicings). Measured (this stream, K = 16): slice 0
    clips in 7.5% of its cells per update at 3 bits, 1.7% at 4, 0.028% at 5 (267x fewer than 3 bits)
    and 0 at 6; at K = 1 (CRS after every update) 3.4% at 3 bits and 0 at 5. The central slices 1-2
    clip most (Fig. 5.3(d)'s asymmetry, section 5.3.4); the top slice never. Thresholds are factors
    10-20 below the measured gaps.
    """
    three, four, five, six = (_saturation_rates(b, 16) for b in (3, 4, 5, 6))
    assert three[0] > 0.02 and three[0] > 20 * five[0] and six[0] <= five[0] < four[0] < three[0]
    assert three[-1] < three[0] / 10  # the top slice saturates far less
    every_update = _saturation_rates(3, 1), _saturation_rates(5, 1)
    assert every_update[0][0] > 0.01 and every_update[1][0] == 0.0


def test_write_noise_needs_a_key_and_is_reproducible():
    config = opa.OPAConfig(slice_bits=(5,) * 4, value_bits=3, input_bits=4, delta_bits=4, update_sigma=0.1)
    slices, x, delta = jnp.zeros((4, 3, 2)), jnp.array([1.0, -5.0, 7.0]), jnp.array([3.0, -2.0])
    with pytest.raises(ValueError, match="key"):
        opa.opa_update(slices, x, delta, config)
    a = opa.opa_update(slices, x, delta, config, jax.random.key(0))[0]
    b = opa.opa_update(slices, x, delta, config, jax.random.key(0))[0]
    c = opa.opa_update(slices, x, delta, config, jax.random.key(1))[0]
    np.testing.assert_array_equal(a, b)
    assert np.any(np.asarray(a) != np.asarray(c))


def test_straight_through_gradient_is_that_of_the_outer_product():
    config = opa.OPAConfig(slice_bits=(6,) * 4, value_bits=3, input_bits=4, delta_bits=4)
    slices = jnp.zeros((4, 3, 2))
    x, delta = jnp.array([1.0, 2.0, 3.0]), jnp.array([4.0, -1.0])

    def total(x, delta):
        return jnp.sum(opa.slices_to_weights(opa.opa_update(slices, x, delta, config)[0], config))

    gx, gd = jax.grad(total, argnums=(0, 1))(x, delta)
    np.testing.assert_allclose(gx, jnp.full(3, jnp.sum(delta)))
    np.testing.assert_allclose(gd, jnp.full(2, jnp.sum(x)))


@pytest.mark.parametrize(
    "make, parameter",
    [
        (lambda: opa.OPAConfig(slice_bits=(3, 4), value_bits=4), "slice_bits"),
        (lambda: opa.OPAConfig(value_bits=0), "value_bits"),
        (lambda: opa.OPAConfig(update_sigma=1.5), "update_sigma"),
        (lambda: opa.OPAConfig(input_bits=0), "input_bits"),
        (lambda: opa.OPAConfig(x_scale=0.0), "x_scale"),
        (
            lambda: opa.opa_stream(
                jnp.zeros((8, 1, 1)), jnp.zeros((2, 1)), jnp.zeros((2, 1)), opa.OPAConfig(), 0
            ),
            "carry_interval",
        ),
        (lambda: opa.opa_update(jnp.zeros((3, 1, 1)), jnp.zeros(1), jnp.zeros(1), opa.OPAConfig()), "slices"),
    ],
)
def test_bad_configurations_raise_naming_the_parameter(make, parameter):
    with pytest.raises(ValueError, match=parameter):
        make()
