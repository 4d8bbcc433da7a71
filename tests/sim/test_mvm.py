"""Bit-sliced MVM (hwjax.sim.mvm): bit-exact against the integer reference, ADC error bounds,
devices, keys, bad configurations, jit/vmap/grad.

Exactness checks run in float64 (``jax.enable_x64``): the simulator carries integer sums in the
input dtype, and a float64 product of integers below 2^53 is exact, so any mismatch is a bug
(tolerance 0). Float32 checks use the tolerance stated at each assertion.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwjax.sim import mvm
from hwjax.sim import quantize as q

# --- helpers --------------------------------------------------------------------------------------


def _data(seed: int, k: int, n: int, batch: int, dtype=np.float64):
    rng = np.random.default_rng(seed)
    # Slightly beyond the clips so saturation of the quantizers is exercised too.
    return rng.uniform(-1.1, 1.1, (k, n)).astype(dtype), rng.uniform(-1.1, 1.1, (batch, k)).astype(dtype)


def _reference(weights, x, config):
    """``integer_reference`` of the quantized operands, dequantized (float64)."""
    w_codes, w_scale = mvm.quantize_weights(weights, config)
    x_codes, x_scale = mvm.quantize_inputs(x, config)
    exact = mvm.integer_reference(w_codes, x_codes, config)
    return exact * np.float64(w_scale) * np.float64(x_scale)


@st.composite
def _configs(draw):
    """Random structure: encodings, bit widths, homogeneous or heterogeneous slices, rows."""
    encoding = draw(st.sampled_from(mvm.ENCODINGS))
    weight_bits = draw(st.integers(2, 10))
    stored = weight_bits if encoding == "offset" else weight_bits - 1
    slice_bits = None
    if draw(st.booleans()):
        cuts = sorted(draw(st.sets(st.integers(1, stored - 1), max_size=3))) if stored > 1 else []
        bounds = [0, *cuts, stored]
        slice_bits = tuple(b - a for a, b in itertools.pairwise(bounds))
        if max(slice_bits) > 8:
            slice_bits = None
    input_bits = draw(st.integers(2, 10))
    return dict(
        weight_bits=weight_bits,
        bits_per_cell=draw(st.integers(1, 4)),
        slice_bits=slice_bits,
        encoding=encoding,
        input_bits=input_bits,
        bits_per_step=draw(st.integers(1, min(4, input_bits))),
        rows=draw(st.integers(1, 16)),
    )


# --- bit-exactness --------------------------------------------------------------------------------


@settings(max_examples=15)
@given(
    structure=_configs(),
    k=st.integers(1, 40),
    n=st.integers(1, 5),
    batch=st.integers(1, 3),
    lossless=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_bit_exact_against_integer_reference(structure, k, n, batch, lossless, seed):
    """Noise off and the ADC ideal (None) or at ISAAC's lossless resolution: equal, tolerance 0."""
    config = mvm.MVMConfig(**structure)
    if lossless:
        config = mvm.MVMConfig(**structure, adc_bits=float(max(mvm.lossless_adc_bits(config))))
    with jax.enable_x64(True):
        weights, x = _data(seed, k, n, batch)
        got = np.asarray(mvm.bitsliced_mvm(weights, x, config))
        np.testing.assert_array_equal(got, _reference(weights, x, config))


def test_bit_exact_with_k_not_a_multiple_of_rows_and_leading_dims():
    """(2, 3, K) inputs, K = 300 over 128-row blocks (3 blocks, the last partial), 16-bit inputs."""
    config = mvm.MVMConfig(weight_bits=8, input_bits=16, bits_per_step=3, rows=128, adc_bits=13.0)
    assert max(mvm.lossless_adc_bits(config)) == 13  # 7 (rows) + 3 (step) + 2 (cell) + 1 (difference)
    with jax.enable_x64(True):
        weights, x = _data(0, 300, 7, 6)
        got = np.asarray(mvm.bitsliced_mvm(weights, x.reshape(2, 3, 300), config))
        np.testing.assert_array_equal(got.reshape(6, 7), _reference(weights, x, config))


def test_chunks_and_slices_recombine_to_the_codes():
    """Two's-complement streaming and MSB-first slicing are exact decompositions (tolerance 0)."""
    codes = jnp.arange(-127.0, 128.0)
    chunks = q.input_chunks(codes, 8, 3)  # 3 + 3 + 2 bits, the top chunk signed
    weights = 2.0 ** np.cumsum((0, *q.chunk_bits(8, 3)[:-1]))
    np.testing.assert_array_equal(np.tensordot(weights, np.asarray(chunks), 1), np.asarray(codes))
    assert np.asarray(chunks[-1]).min() == -2 and np.asarray(chunks[:-1]).min() == 0
    bits = (3, 1, 2)
    levels = q.slice_magnitudes(jnp.arange(64.0)[:, None], bits)
    shifts = 2.0 ** np.asarray(q.slice_shifts(bits))
    np.testing.assert_array_equal(np.tensordot(shifts, np.asarray(levels), 1)[:, 0], np.arange(64.0))


def test_homogeneous_slices_put_the_remainder_in_the_msb_slice():
    """As hwjax.mapping.slice_levels: 16-bit differential weights (15 magnitude bits) on 2-bit
    cells are 8 slices, the MSB slice holding 1 bit (dissertation 3.3.2: 8 crossbars)."""
    config = mvm.MVMConfig(weight_bits=16, bits_per_cell=2)
    assert config.cell_bits == (1,) + (2,) * 7
    assert mvm.MVMConfig(weight_bits=16, bits_per_cell=2, encoding="offset").cell_bits == (2,) * 8


def test_one_bit_below_the_rule_rounds():
    """ISAAC's rule (log2 128 + 1 + 2 = 10 bits, offset cells) is exact; one bit less doubles the
    default step (full scale 2^10), so odd column sums round and random data loses accuracy."""
    base = dict(weight_bits=8, bits_per_cell=2, encoding="offset", input_bits=8, rows=128)
    assert mvm.lossless_adc_bits(mvm.MVMConfig(**base)) == (10,) * 4
    with jax.enable_x64(True):
        weights, x = _data(1, 128, 4, 2)
        exact = _reference(weights, x, mvm.MVMConfig(**base))
        ok = np.asarray(mvm.bitsliced_mvm(weights, x, mvm.MVMConfig(**base, adc_bits=10.0)))
        lossy = np.asarray(mvm.bitsliced_mvm(weights, x, mvm.MVMConfig(**base, adc_bits=9.0)))
    np.testing.assert_array_equal(ok, exact)
    assert np.any(lossy != exact)


# --- ADC clipping and quantization ----------------------------------------------------------------


@pytest.mark.parametrize("encoding", mvm.ENCODINGS)
@pytest.mark.parametrize("adc_bits", [3.0, 4.5, 6.0])
def test_low_resolution_error_within_half_a_step_per_conversion(encoding, adc_bits):
    """Below ISAAC's rule, with the default full scale ``2^L`` and rows a power of two, the
    window ``(2^N - 1) 2^(L-N)`` still holds every sum (rows (2^d-1)(2^c-1) < 2^(L-1)), so each
    conversion errs by at most half its step ``2^(L-N)``: the output error is bounded by
    ``sum over conversions of |shift-add weight| step / 2`` times the two scales (float64)."""
    config = mvm.MVMConfig(weight_bits=7, bits_per_cell=2, encoding=encoding, input_bits=6, rows=16)
    lossy = mvm.MVMConfig(
        weight_bits=7, bits_per_cell=2, encoding=encoding, input_bits=6, rows=16, adc_bits=adc_bits
    )
    with jax.enable_x64(True):
        weights, x = _data(3, 40, 6, 4)
        error = np.abs(np.asarray(mvm.bitsliced_mvm(weights, x, lossy)) - _reference(weights, x, config))
        steps = 2.0 ** (np.asarray(mvm.lossless_adc_bits(config)) - adc_bits)  # (S,)
        phases = 2 if encoding == "sign_magnitude" else 1
        columns = 2 if encoding == "offset" else 1  # the bias column's error adds
        blocks = 3  # ceil(40 / 16)
        per_slice = 2.0 ** np.asarray(q.slice_shifts(config.cell_bits)) * steps / 2
        per_input = np.sum(2.0 ** np.arange(config.steps))
        _, w_scale = mvm.quantize_weights(weights, config)
        _, x_scale = mvm.quantize_inputs(x, config)
        bound = phases * columns * blocks * per_input * per_slice.sum() * float(w_scale * x_scale)
    assert error.max() <= bound * (1 + 1e-12)
    assert error.max() > 0  # the resolution is genuinely lower


def test_small_full_scale_clips_every_conversion():
    """A full scale of 2 levels with 2 bits: codes 0..3 of step 0.5, so no conversion exceeds
    1.5 levels; with all-positive operands the output is at most sum(weights) 1.5 (scales)."""
    weights, x = np.full((16, 3), 0.9), np.full((2, 16), 0.9)
    with jax.enable_x64(True):
        config = mvm.MVMConfig(
            weight_bits=6,
            bits_per_cell=2,
            encoding="sign_magnitude",
            input_bits=6,
            rows=8,
            adc_bits=2.0,
            adc_full_scale=2.0,
        )
        got = np.asarray(mvm.bitsliced_mvm(weights, x, config))
        _, w_scale = mvm.quantize_weights(weights, config)
        _, x_scale = mvm.quantize_inputs(x, config)
    shifts = (2.0 ** np.asarray(q.slice_shifts(config.cell_bits))).sum() * (2.0 ** np.arange(6)).sum()
    ceiling = 2 * shifts * 1.5 * float(w_scale) * float(x_scale)  # 2 row blocks
    assert 0 < got.max() <= ceiling * (1 + 1e-12)
    assert got.max() < 0.5 * (16 * 0.9 * 0.9)  # far below the true 12.96: clipping bites


# --- per-column ADC settings ---------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["differential", "sign_magnitude", "twos_complement"])
def test_per_column_adc_equals_converting_each_column_alone(encoding):
    """``adc_bits`` ``(N,)`` and ``(S, N)`` (with ``adc_full_scale`` ``(S, N)``) convert each
    column at its own setting: column n equals the same product with that column alone at the
    scalar / ``(S, 1)`` setting (float64, tolerance 0: the same conversions)."""
    base = dict(weight_bits=6, bits_per_cell=2, encoding=encoding, input_bits=5, bits_per_step=2, rows=8)
    slices = len(mvm.MVMConfig(**base).cell_bits)
    rng = np.random.default_rng(7)
    bits = rng.uniform(2.0, 7.0, 4)
    grid_bits, grid_scale = rng.uniform(2.0, 7.0, (slices, 4)), rng.uniform(8.0, 128.0, (slices, 4))
    with jax.enable_x64(True):
        weights, x = _data(8, 20, 4, 3)
        per_column = np.asarray(mvm.bitsliced_mvm(weights, x, mvm.MVMConfig(**base, adc_bits=bits)))
        grid = mvm.MVMConfig(**base, adc_bits=grid_bits, adc_full_scale=grid_scale)
        per_grid = np.asarray(mvm.bitsliced_mvm(weights, x, grid))
        for n in range(4):
            alone = mvm.MVMConfig(**base, adc_bits=bits[n])
            column = weights[:, n : n + 1]
            np.testing.assert_array_equal(per_column[:, n : n + 1], mvm.bitsliced_mvm(column, x, alone))
            alone = mvm.MVMConfig(
                **base, adc_bits=grid_bits[:, n : n + 1], adc_full_scale=grid_scale[:, n : n + 1]
            )
            np.testing.assert_array_equal(per_grid[:, n : n + 1], mvm.bitsliced_mvm(column, x, alone))
    assert len(np.unique(per_column - _reference(weights, x, mvm.MVMConfig(**base)))) > 1  # lossy


def test_offset_bias_column_converts_at_the_largest_setting():
    """With "offset", equal per-column settings give the scalar result, and a 12-bit column
    beside 4-bit ones is lossless like the all-12-bit product, which needs the bias column (whose
    conversion enters every column) at the largest resolution (float64, tolerance 0)."""
    base = dict(weight_bits=6, bits_per_cell=2, encoding="offset", input_bits=5, rows=8)
    with jax.enable_x64(True):
        weights, x = _data(9, 16, 3, 2)
        scalar = np.asarray(mvm.bitsliced_mvm(weights, x, mvm.MVMConfig(**base, adc_bits=4.0)))
        equal = mvm.MVMConfig(**base, adc_bits=np.full(3, 4.0), adc_full_scale=np.full((1, 3), 2.0**7))
        at_scalar = mvm.MVMConfig(**base, adc_bits=4.0, adc_full_scale=2.0**7)
        np.testing.assert_array_equal(
            np.asarray(mvm.bitsliced_mvm(weights, x, equal)),
            np.asarray(mvm.bitsliced_mvm(weights, x, at_scalar)),
        )
        mixed = np.asarray(mvm.bitsliced_mvm(weights, x, mvm.MVMConfig(**base, adc_bits=[4.0, 4.0, 12.0])))
        exact = np.asarray(mvm.bitsliced_mvm(weights, x, mvm.MVMConfig(**base, adc_bits=12.0)))
    # Column 2 at 12 bits with the bias column at 12 bits: lossless, as the all-12-bit product.
    np.testing.assert_array_equal(mixed[:, 2], exact[:, 2])
    assert np.any(mixed[:, :2] != exact[:, :2]) and np.any(scalar != exact)


@pytest.mark.parametrize(
    "overrides",
    [
        {"adc_bits": np.full(5, 6.0)},
        {"adc_bits": np.full((2, 2, 3), 6.0)},
        {"adc_full_scale": np.ones((3, 3))},
    ],
)
def test_per_column_adc_of_the_wrong_shape_raises(overrides):
    """For 3 columns and 2 slices (differential 5-bit weights on 2-bit cells): (5,), 3-D and
    (3, 3) settings match no (slice, column) grid."""
    config = mvm.MVMConfig(weight_bits=5, bits_per_cell=2, rows=4, **{"adc_bits": 6.0, **overrides})
    with pytest.raises(ValueError, match=next(iter(overrides))):
        mvm.bitsliced_mvm(np.ones((4, 3)), np.ones((1, 4)), config)


# --- devices and keys -----------------------------------------------------------------------------


def _devices():
    return pytest.importorskip("hwjax.sim.devices")


@pytest.mark.parametrize("encoding", mvm.ENCODINGS)
def test_ideal_device_is_bit_exact(encoding):
    """Noise-free devices (every knob 0): conductances and back to levels, exact within float64
    round-off of the conductance arithmetic (rtol 1e-9 before the lossless ADC rounds it away:
    so the output equals the reference exactly)."""
    devices = _devices()
    config = mvm.MVMConfig(
        weight_bits=6,
        encoding=encoding,
        input_bits=7,
        bits_per_step=2,
        rows=5,
        adc_bits=9.0,
        device=devices.DeviceModel(),
    )
    with jax.enable_x64(True):
        weights, x = _data(5, 13, 4, 3)
        np.testing.assert_array_equal(
            np.asarray(mvm.bitsliced_mvm(weights, x, config)), _reference(weights, x, config)
        )


def test_same_key_same_result_different_keys_different_noise():
    """One encoding (sign-magnitude, whose phases gate the cells) keeps the suite short; the
    device path of every encoding is covered by test_ideal_device_is_bit_exact."""
    devices = _devices()
    encoding = "sign_magnitude"
    model = devices.DeviceModel(programming_sigma=0.02, read_sigma=0.01, stuck_off_rate=0.01)
    config = mvm.MVMConfig(weight_bits=6, encoding=encoding, input_bits=6, rows=8, device=model)
    weights, x = _data(7, 20, 5, 3, np.float32)
    first = mvm.bitsliced_mvm(weights, x, config, jax.random.key(1))
    again = mvm.bitsliced_mvm(weights, x, config, jax.random.key(1))
    other = mvm.bitsliced_mvm(weights, x, config, jax.random.key(2))
    np.testing.assert_array_equal(np.asarray(first), np.asarray(again))
    assert np.all(np.asarray(first) != np.asarray(other))
    ideal = mvm.bitsliced_mvm(
        weights, x, mvm.MVMConfig(weight_bits=6, encoding=encoding, input_bits=6, rows=8)
    )
    assert 0 < np.abs(np.asarray(first - ideal)).max() < 0.5 * np.abs(np.asarray(ideal)).max()


def test_noise_without_a_key_raises():
    devices = _devices()
    config = mvm.MVMConfig(device=devices.DeviceModel(read_sigma=0.01))
    with pytest.raises(ValueError, match="read_sigma"):
        mvm.bitsliced_mvm(np.ones((4, 2)), np.ones((1, 4)), config)


def test_read_noise_gradient_flows_through_the_device():
    """With the key fixed the output is smooth in read_sigma (adc ideal): the gradient matches
    a central difference (float64, rtol 1e-6: the noise is linear in sigma but clipped
    conductances make it piecewise linear, and the step is far from a kink)."""
    devices = _devices()
    weights, x = _data(9, 10, 3, 2)

    def total(sigma):
        model = devices.DeviceModel(read_sigma=sigma, clip_conductance=False)
        config = mvm.MVMConfig(weight_bits=5, input_bits=5, rows=4, device=model)
        return jnp.sum(mvm.bitsliced_mvm(weights, x, config, jax.random.key(0)))

    with jax.enable_x64(True):
        grad = float(jax.grad(total)(0.02))
        numeric = float((total(0.02 + 1e-6) - total(0.02 - 1e-6)) / 2e-6)
    assert grad != 0 and grad == pytest.approx(numeric, rel=1e-6)


# --- bad configurations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, parameter",
    [
        ({"adc_bits": 0.5}, "adc_bits"),
        ({"adc_full_scale": 0.0}, "adc_full_scale"),
        ({"slice_bits": (3, 3)}, "slice_bits"),  # 8-bit differential stores 7 magnitude bits
        ({"slice_bits": (4, 4), "encoding": "sign_magnitude"}, "slice_bits"),
        ({"slice_bits": (9, -1)}, "slice_bits"),
        ({"bits_per_step": 9}, "bits_per_step"),
        ({"bits_per_step": 0}, "bits_per_step"),
        ({"weight_bits": 1}, "weight_bits"),
        ({"input_bits": 2.5}, "input_bits"),
        ({"bits_per_cell": 9}, "bits_per_cell"),
        ({"rows": 0}, "rows"),
        ({"encoding": "two_complement"}, "encoding"),
        ({"weight_clip": -1.0}, "weight_clip"),
        ({"input_clip": 0.0}, "input_clip"),
    ],
)
def test_bad_configuration_raises_naming_the_parameter(overrides, parameter):
    with pytest.raises(ValueError, match=parameter):
        mvm.MVMConfig(**overrides)


def test_bad_shapes_and_mode_raise():
    config = mvm.MVMConfig()
    with pytest.raises(ValueError, match="weights"):
        mvm.bitsliced_mvm(np.ones((4, 2)), np.ones((1, 5)), config)
    with pytest.raises(ValueError, match="mode"):
        mvm.bitsliced_mvm(np.ones((4, 2)), np.ones((1, 4)), config, mode="fuzzy")


# --- transformations ------------------------------------------------------------------------------


def test_jit_vmap_and_straight_through_gradients():
    """jit equals eager (float32, rtol 1e-6: same ops, a few ulps of fusion); vmap over the
    config's adc_full_scale leaf equals a loop; d/dW and d/dx are the ideal matmul's (exact:
    the same matmul transposed)."""
    weights, x = _data(11, 20, 4, 3, np.float32)
    config = mvm.MVMConfig(weight_bits=6, input_bits=6, rows=8, adc_bits=5.0, adc_full_scale=64.0)
    eager = mvm.bitsliced_mvm(weights, x, config)
    jitted = jax.jit(mvm.bitsliced_mvm)(weights, x, config)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), rtol=1e-6, atol=1e-6)

    scales = jnp.asarray([16.0, 64.0, 256.0])
    batched = jax.vmap(
        lambda fs: mvm.bitsliced_mvm(
            weights, x, mvm.MVMConfig(weight_bits=6, input_bits=6, rows=8, adc_bits=5.0, adc_full_scale=fs)
        )
    )(scales)
    for i, fs in enumerate([16.0, 64.0, 256.0]):
        single = mvm.bitsliced_mvm(
            weights, x, mvm.MVMConfig(weight_bits=6, input_bits=6, rows=8, adc_bits=5.0, adc_full_scale=fs)
        )
        np.testing.assert_allclose(np.asarray(batched[i]), np.asarray(single), rtol=1e-6, atol=1e-6)
    assert not np.allclose(np.asarray(batched[0]), np.asarray(batched[2]))

    cotangent = jnp.asarray(np.random.default_rng(0).normal(size=(3, 4)), jnp.float32)
    grads = jax.grad(lambda w, v: jnp.sum(cotangent * mvm.bitsliced_mvm(w, v, config)), (0, 1))(weights, x)
    ideal = jax.grad(lambda w, v: jnp.sum(cotangent * (v @ w)), (0, 1))(weights, x)
    for got, want in zip(grads, ideal, strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-6)
    knob = jax.grad(
        lambda fs: jnp.sum(
            mvm.bitsliced_mvm(
                weights,
                x,
                mvm.MVMConfig(weight_bits=6, input_bits=6, rows=8, adc_bits=5.0, adc_full_scale=fs),
            )
        )
    )(64.0)
    assert np.isfinite(knob)
