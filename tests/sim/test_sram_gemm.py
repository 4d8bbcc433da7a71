"""TIMON's GEMM on the SRAM bank (hwjax.sim.sram_gemm): bit-exact at the bank's ADC resolution,
one bit less loses, the tunable ADC stays exact on sparse weights with fewer bits, outlier rejection's
error is bounded, agreement with the cost model's resolution rule, bad configurations.

Exactness checks run in float64 (``jax.enable_x64``): integer sums below 2^53 are exact there,
so any mismatch is a bug (tolerance 0).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwjax.components import sram_cim
from hwjax.sim import mvm, sram_gemm
from hwjax_models import timon as timon_model


def _top(bits: int) -> float:
    return 2.0 ** (bits - 1) - 1.0


def _integer_config(**structure) -> sram_gemm.SRAMGemmConfig:
    """Clips at the top codes: integer data are their own codes (quantization step 1)."""
    return sram_gemm.SRAMGemmConfig(
        **structure, weight_clip=_top(structure["weight_bits"]), input_clip=_top(structure["input_bits"])
    )


def _reference(a, b, config: sram_gemm.SRAMGemmConfig) -> np.ndarray:
    """``integer_reference`` of the quantized operands, dequantized (float64)."""
    mc = sram_gemm.mvm_config(config)
    w_codes, w_scale = mvm.quantize_weights(b, mc)
    x_codes, x_scale = mvm.quantize_inputs(a, mc)
    return mvm.integer_reference(w_codes, x_codes, mc) * np.float64(w_scale) * np.float64(x_scale)


def _sparse(rng, shape, sparsity: float) -> np.ndarray:
    weights = rng.uniform(-1.0, 1.0, shape)
    return np.where(rng.uniform(size=shape) < sparsity, 0.0, weights)


# --- bit-exactness at the bank's resolution ------------------------------------------------------


@st.composite
def _structures(draw):
    weight_bits, input_bits = draw(st.integers(2, 9)), draw(st.integers(2, 9))
    return dict(
        dp_width=draw(st.integers(1, 16)),
        stream_width=draw(st.integers(1, min(3, input_bits))),
        slice_width=draw(st.integers(1, min(3, weight_bits))),
        weight_bits=weight_bits,
        input_bits=input_bits,
        adc_kind=draw(st.sampled_from(sram_gemm.ADC_KINDS)),
    )


@settings(max_examples=6, deadline=None)
@given(structure=_structures(), k=st.integers(1, 40), n=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_bit_exact_at_the_bank_resolution(structure, k, n, seed):
    """ADC at ceil(log2 d) + t l (tunable or not), integer operands including the extreme codes
    (the most negative weight and activation codes hit the sign plane and the sign stream):
    equal to A @ B, tolerance 0."""
    config = _integer_config(**structure)
    rng = np.random.default_rng(seed)
    w_top, x_top = _top(structure["weight_bits"]), _top(structure["input_bits"])
    b = rng.choice([-w_top, w_top, 0.0, -1.0, 1.0, 0.0], size=(k, n)) * rng.integers(0, 2, (k, 1))
    b[:, 0] = -w_top  # a dense column of the most negative code
    a = rng.choice([-x_top, x_top, 0.0, -1.0, -(2.0 ** (structure["input_bits"] - 2))], size=(3, k))
    a[0] = -x_top
    with jax.enable_x64(True):
        got = np.asarray(sram_gemm.gemm(a, b, config))
    np.testing.assert_array_equal(got, a @ b)


def test_k64_real_data_bit_exact_and_one_bit_less_loses():
    """K64 (d = 64, t = l = 1, 16-bit operands) from the cost model's bank: 7 bits exact
    (tolerance 0). One bit less at the same full scale doubles the step: odd sums round and
    random data lose. At half the full scale instead (the tunable ADC's 6-bit reference) the
    dense entry of codes -1 (every bit plane 1) sums to 64 per conversion and clips to 63."""
    bank = sram_cim.SRAMCIMBank()
    assert sram_gemm.bank_adc_bits(sram_gemm.from_bank(bank)) == 7 == float(sram_cim.adc_resolution(bank))
    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        a, b = rng.uniform(-1.0, 1.0, (4, 200)), rng.uniform(-1.0, 1.0, (200, 8))
        a[0], b[:, 0] = -1.0 / _top(16), -1.0 / _top(16)  # codes -1 (clips 1)
        # Explicit ADC leaves everywhere: one pytree structure, one compilation.
        config = sram_gemm.from_bank(bank, adc_bits=7.0, adc_full_scale=128.0)
        exact = _reference(a, b, config)
        np.testing.assert_array_equal(np.asarray(sram_gemm.gemm(a, b, config)), exact)
        lossy = sram_gemm.SRAMGemmConfig(adc_bits=6.0, adc_full_scale=128.0)
        rounded = np.asarray(sram_gemm.gemm(a, b, lossy))
        halved = sram_gemm.SRAMGemmConfig(adc_bits=6.0, adc_full_scale=64.0)
        clipped = np.asarray(sram_gemm.gemm(a, b, halved))
    # Measured: a mean error of 49% of the mean output (the rounding reaches the MSB planes' sums).
    assert np.abs(rounded - exact).mean() > 0.1 * np.abs(exact).mean()
    error = np.abs(clipped - exact)
    assert error[0, 0] > 0 and np.count_nonzero(error) == 1  # only the dense entry reaches 64


@pytest.mark.parametrize("name", ["K32", "K64", "K128"])
def test_resolution_of_the_cost_model_variants(name):
    """from_bank(timon_model.bank(variant)) has the cost model's ADC resolution log2 d + 1
    (exact ints)."""
    bank = timon_model.bank(timon_model.variant(name))
    config = sram_gemm.from_bank(bank)
    assert config.dp_width == int(timon_model.VARIANTS[name])
    assert sram_gemm.bank_adc_bits(config) == float(sram_cim.adc_resolution(bank))


# --- tunable ADC and outlier rejection ------------------------------------------------------------


def _column_sparsity(b, config) -> np.ndarray:
    codes = np.asarray(mvm.quantize_weights(b, sram_gemm.mvm_config(config))[0])
    blocks = -(-codes.shape[0] // config.dp_width)
    padded = np.zeros((blocks * config.dp_width, codes.shape[1]))
    padded[: codes.shape[0]] = codes
    return 1.0 - np.count_nonzero(padded.reshape(blocks, config.dp_width, -1), axis=1) / config.dp_width


def test_tunable_adc_bit_exact_on_70_percent_sparse_weights_with_fewer_bits():
    """70%-sparse 16-bit weights on K64: every column block converts at the cost model's
    resolution (hwjax_models.timon.adc_bits, tolerance 0), the GEMM stays exact (tolerance 0)
    and the mean resolution drops from 7 bits to about 5.8 (binomial(64, 0.3) nonzeros: 6 bits
    for 17-32, 5 for 9-16)."""
    config = sram_gemm.SRAMGemmConfig(adc_kind="tunable_sar")
    rng = np.random.default_rng(1)
    a, b = rng.uniform(-1.0, 1.0, (4, 256)), _sparse(rng, (256, 32), 0.7)
    bits = np.asarray(sram_gemm.column_adc_bits(b, config))
    expected = timon_model.adc_bits(timon_model.variant("K64"), _column_sparsity(b, config), mode="exact")
    np.testing.assert_array_equal(bits, np.asarray(expected))
    assert bits.shape == (4, 32) and 5.5 < bits.mean() < 6.0
    with jax.enable_x64(True):
        np.testing.assert_array_equal(np.asarray(sram_gemm.gemm(a, b, config)), _reference(a, b, config))


@pytest.mark.parametrize("threshold", [0.25, 0.5, 1.0])
def test_outlier_rejection_prunes_few_small_weights_with_a_bounded_error(threshold):
    """Section 6.6.2 on 50%-sparse K64 weights (Fig. 6.18's model sparsity): per block at most
    nnz - floor(nnz / (1 + th)) weights pruned, the smallest ones; the resolution is the cost
    model's (tolerance 0) and lower than without rejection; the GEMM is exact on the pruned
    matrix (tolerance 0), so its error against the unpruned product is A (B_pruned - B), bounded
    elementwise by |A| |B - B_pruned| of the quantized operands (tolerance 1e-12: float64
    round-off of the bound)."""
    config = sram_gemm.SRAMGemmConfig(adc_kind="tunable_sar", threshold=threshold)
    rng = np.random.default_rng(2)
    a, b = rng.uniform(-1.0, 1.0, (4, 256)), _sparse(rng, (256, 32), 0.5)  # the shapes above: one compile
    with jax.enable_x64(True):
        pruned = np.asarray(sram_gemm.reject_outliers(b, config))
        got = np.asarray(sram_gemm.gemm(a, b, config))
        np.testing.assert_array_equal(got, _reference(a, pruned, config))
        full = _reference(a, b, config)
        mc = sram_gemm.mvm_config(config)
        a_q, b_q = (
            np.asarray(codes) * np.float64(scale)
            for codes, scale in (mvm.quantize_inputs(a, mc), mvm.quantize_weights(b, mc))
        )
    removed = (pruned == 0) & (b != 0)
    nnz = np.count_nonzero(b.reshape(4, 64, 32), axis=1)
    assert np.all(removed.reshape(4, 64, 32).sum(1) <= nnz - np.floor(nnz / (1.0 + threshold)))
    blocks = (np.abs(b) * removed).reshape(4, 64, 32).max(1), np.where(pruned != 0, np.abs(b), np.inf)
    assert np.all(blocks[0] <= blocks[1].reshape(4, 64, 32).min(1))  # the smallest magnitudes go
    bits = np.asarray(sram_gemm.column_adc_bits(b, config))
    sparsity = _column_sparsity(b, sram_gemm.SRAMGemmConfig())
    expected = timon_model.adc_bits(timon_model.variant("K64"), sparsity, threshold, mode="exact")
    np.testing.assert_array_equal(bits, np.asarray(expected))
    assert bits.mean() < np.asarray(sram_gemm.column_adc_bits(b, config, threshold=0.0)).mean()
    assert np.all(np.abs(got - full) <= np.abs(a_q) @ np.abs(b_q * removed) + 1e-12)
    relative = np.linalg.norm(got - full) / np.linalg.norm(full)
    # For activations independent of the weights, E|A dB|^2 / E|A B|^2 = |dB|^2 / |B|^2 (Frobenius):
    # the measured error must sit near that ratio (factor 2 either way covers 4 x 32 outputs).
    expected = np.linalg.norm(b_q * removed) / np.linalg.norm(b_q)
    assert expected / 2.0 < relative < 2.0 * expected  # measured: 3.8%, 6.0%, 24% for th 0.25, 0.5, 1


# --- API: gradients, leading dims, bad input ------------------------------------------------------


def test_leading_dims_and_straight_through_gradients():
    """(2, 3, K) inputs (jit and vmap: the contract row), gradients in a and b are
    those of a @ b (rtol 1e-5 and atol 1e-6 of the largest entry: float32 round-off of the same
    products summed in another order)."""
    config = sram_gemm.SRAMGemmConfig(dp_width=8, input_bits=4, weight_bits=4, adc_kind="tunable_sar")
    rng = np.random.default_rng(3)
    a = jnp.asarray(rng.uniform(-1, 1, (2, 3, 20)), jnp.float32)
    b = jnp.asarray(rng.uniform(-1, 1, (20, 5)), jnp.float32)
    eager = sram_gemm.gemm(a, b, config)
    assert eager.shape == (2, 3, 5)
    grads = jax.grad(lambda x, w: jnp.sum(sram_gemm.gemm(x, w, config) ** 2), argnums=(0, 1))(a, b)
    ideal = jax.grad(lambda x, w: jnp.sum(jax.lax.stop_gradient(eager) * (x @ w)) * 2.0, argnums=(0, 1))(a, b)
    for got, want in zip(grads, ideal, strict=True):  # float32 sums in another order: 1e-6 of the scale
        np.testing.assert_allclose(
            np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6 * np.abs(want).max()
        )


@pytest.mark.parametrize(
    "overrides,parameter",
    [
        ({"dp_width": 0}, "dp_width"),
        ({"dp_width": 8.0}, "dp_width"),
        ({"stream_width": 9, "input_bits": 8}, "stream_width"),
        ({"slice_width": 9}, "slice_width"),
        ({"slice_width": 4, "weight_bits": 3}, "slice_width"),
        ({"weight_bits": 1}, "weight_bits"),
        ({"input_bits": 25}, "input_bits"),
        ({"dp_width": 2**16, "stream_width": 4, "slice_width": 8}, "slice_width"),
        ({"adc_kind": "flash"}, "adc_kind"),
        ({"adc_bits": 0.5}, "adc_bits"),
        ({"adc_full_scale": 0.0}, "adc_full_scale"),
        ({"threshold": 1.5}, "threshold"),
        ({"weight_clip": -1.0}, "weight_clip"),
        ({"input_clip": 0.0}, "input_clip"),
    ],
)
def test_bad_configuration_raises_naming_the_parameter(overrides, parameter):
    with pytest.raises(ValueError, match=parameter):
        sram_gemm.SRAMGemmConfig(**overrides)


def test_bad_calls_raise_naming_the_parameter():
    config = sram_gemm.SRAMGemmConfig(dp_width=4, weight_bits=4, input_bits=4)
    with pytest.raises(ValueError, match="mode"):
        sram_gemm.gemm(np.ones((1, 4)), np.ones((4, 2)), config, mode="fuzzy")
    with pytest.raises(ValueError, match="b"):
        sram_gemm.gemm(np.ones((1, 4)), np.ones((3, 2)), config)
    with pytest.raises(ValueError, match="config"):
        sram_gemm.gemm(np.ones((1, 4)), np.ones((4, 2)), mvm.MVMConfig())
    with pytest.raises(ValueError, match="threshold"):
        sram_gemm.column_adc_bits(np.ones((4, 2)), config, threshold=-0.1)
    with pytest.raises(ValueError, match="dp_width"):
        sram_gemm.from_bank(sram_cim.SRAMCIMBank(dp_width=48.5))
    with pytest.raises(ValueError, match="device"):  # SRAM bit cells have no NVM device model
        mvm.MVMConfig(
            encoding="twos_complement", device=pytest.importorskip("hwjax.sim.devices").DeviceModel()
        )
