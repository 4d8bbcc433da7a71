"""Analytic error proxies (hwjax.sim.proxies) against Monte-Carlo runs of the simulator.

Acceptance (issue 6): the proxies' output error variance agrees with Monte-Carlo estimates from
``bitsliced_mvm`` within 10%. Each Monte-Carlo estimate pools ``N_SAMPLES`` independent output
errors, so its own relative standard error is ``sqrt(2 / N_SAMPLES)`` (about 2.5% here, since the
errors are close to Gaussian); a 10% tolerance is four standard errors, so a failure means the
proxy is off, not the sampling.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwjax.sim import proxies
from hwjax.sim.proxies import ProxyConfig

K, N, BATCH, KEYS = 256, 128, 8, 4  # 4096 pooled output errors per estimate
N_SAMPLES = N * BATCH * KEYS
TOLERANCE = 0.10  # issue 6 acceptance; four Monte-Carlo standard errors (module docstring)


def _data(seed: int = 0):
    """Weights and inputs uniform on [-1, 1]: the proxies' default statistics."""
    kw, kx = jax.random.split(jax.random.key(seed))
    weights = jax.random.uniform(kw, (K, N), minval=-1.0, maxval=1.0)
    x = jax.random.uniform(kx, (BATCH, K), minval=-1.0, maxval=1.0)
    return weights, x


def _mvm():
    return pytest.importorskip("hwjax.sim.mvm")


def _monte_carlo_variance(config, keys: int = KEYS) -> float:
    """Mean square of ``bitsliced_mvm - float matmul`` over data, columns and noise keys."""
    weights, x = _data()
    ideal = x @ weights
    noisy = config.device is not None
    keys = jax.random.split(jax.random.key(1), keys)
    run = jax.jit(lambda key: _mvm().bitsliced_mvm(weights, x, config, key if noisy else None))
    errors = jnp.stack([run(key) - ideal for key in keys])
    return float(jnp.mean(errors**2))


def _device(programming_sigma=0.0, read_sigma=0.0, stuck=(0.0, 0.0)):
    # Unclipped conductances: the proxy's additive independent-noise model (module docstring);
    # clipping at the window's ends would rectify the noise of level-0 cells.
    from hwjax.sim import devices

    return devices.DeviceModel(
        programming_sigma=programming_sigma,
        read_sigma=read_sigma,
        stuck_on_rate=stuck[0],
        stuck_off_rate=stuck[1],
        clip_conductance=False,
    )


def _mvm_config(**overrides):
    fields = dict(weight_bits=8, bits_per_cell=2, input_bits=8, bits_per_step=1, rows=128)
    return _mvm().MVMConfig(**{**fields, **overrides})


MONTE_CARLO_CASES = {
    # Quantization alone: the ADC lossless (ISAAC's rule), no device.
    "quantization_only": dict(),
    # A 6-bit ADC on ISAAC's full scale: steps of about 6 levels per conversion.
    "adc_6_bits": dict(adc_bits=6.0),
    # A 5-bit ADC with 2-bit DAC steps and 64-row blocks.
    "adc_5_bits_dac_2": dict(adc_bits=5.0, bits_per_step=2, rows=64),
    "programming_noise": dict(device=("programming", 0.02)),
    "read_noise_1_bit_cells": dict(bits_per_cell=1, device=("read", 0.02)),
    "all_sources": dict(adc_bits=7.0, bits_per_cell=2, device=("both", 0.01)),
    # 1% of cells stuck ON, 2% OFF. A fault is fixed for a key and shared by the batch, so the
    # errors of one column are correlated: 16 keys keep the estimate's standard error near 3%.
    "stuck_at_faults": dict(device=("stuck", (0.01, 0.02))),
}
MONTE_CARLO_KEYS = {"stuck_at_faults": 16}


def _case_config(case: dict):
    case = dict(case)
    device = case.pop("device", None)
    if device is not None:
        kind, sigma = device
        if kind == "stuck":
            device = _device(stuck=sigma)
        else:
            device = _device(
                programming_sigma=sigma if kind in ("programming", "both") else 0.0,
                read_sigma=sigma if kind in ("read", "both") else 0.0,
            )
    return _mvm_config(device=device, **case)


@pytest.mark.parametrize("name", list(MONTE_CARLO_CASES))
def test_error_variance_matches_monte_carlo_of_the_simulator(name):
    config = _case_config(MONTE_CARLO_CASES[name])
    predicted = float(proxies.error_variance(proxies.from_mvm_config(config), K, mode="exact").total)
    measured = _monte_carlo_variance(config, MONTE_CARLO_KEYS.get(name, KEYS))
    assert predicted == pytest.approx(measured, rel=TOLERANCE), (name, predicted, measured)


def test_isaac_resolution_makes_the_adc_term_vanish():
    # ISAAC's rule log2(rows) + d + c bits (+1 for the differential pair's sign, as
    # hwjax.sim.mvm.lossless_adc_bits) gives a step of at most one level: lossless on the
    # integer column sums (issue 6), so the discreteness-corrected ADC variance must be 0.
    config = ProxyConfig(adc_bits=7.0 + 1.0 + 2.0 + 1.0, rows=128.0, bits_per_step=1.0, bits_per_cell=2.0)
    assert float(proxies.error_variance(config, 512).adc) == 0.0
    coarser = ProxyConfig(adc_bits=10.0, rows=128.0, bits_per_step=1.0, bits_per_cell=2.0)
    assert float(proxies.error_variance(coarser, 512).adc) > 0.0


def test_snr_rises_with_adc_bits_and_falls_with_noise_and_the_gradients_agree():
    def snr_db(adc_bits, sigma):
        config = ProxyConfig(adc_bits=adc_bits, programming_sigma=sigma, read_sigma=sigma)
        return proxies.snr_db(config, 256)

    d_bits, d_sigma = jax.jit(jax.grad(snr_db, argnums=(0, 1)))(6.0, 0.02)
    assert d_bits > 0 and d_sigma < 0
    bits = jnp.linspace(3.0, 9.0, 7)
    batched = jax.jit(jax.vmap(lambda b: snr_db(b, 0.02)))(bits)
    assert np.all(np.diff(np.asarray(batched)) > 0)


def test_device_terms_scale_with_sigma_squared():
    low = proxies.error_variance(ProxyConfig(programming_sigma=0.01, read_sigma=0.01), 128)
    high = proxies.error_variance(ProxyConfig(programming_sigma=0.03, read_sigma=0.03), 128)
    np.testing.assert_allclose(float(high.programming / low.programming), 9.0, rtol=1e-5)
    np.testing.assert_allclose(float(high.read / low.read), 9.0, rtol=1e-5)


def test_stuck_faults_of_the_idle_differential_cell_count_only_when_stuck_on():
    # Stuck OFF leaves the idle (level-0) array of the pair exact, stuck ON costs it a whole
    # level M: at equal rates, ON faults must cost more (exact inequality, no tolerance).
    on = proxies.error_variance(ProxyConfig(stuck_on_rate=0.01), 256).stuck
    off = proxies.error_variance(ProxyConfig(stuck_off_rate=0.01), 256).stuck
    assert float(on) > float(off) > 0.0
    grad = jax.grad(lambda p: proxies.error_variance(ProxyConfig(stuck_on_rate=p), 256).total)(0.01)
    assert np.isfinite(grad) and grad > 0


@pytest.mark.parametrize(
    "field,value",
    [
        ("stuck_on_rate", 1.5),
        ("adc_bits", 0.5),
        ("bits_per_cell", 0.0),
        ("rows", 0.0),
        ("read_sigma", -0.1),
        ("input_clip", 0.0),
    ],
)
def test_bad_knobs_raise_naming_the_parameter(field, value):
    with pytest.raises(ValueError, match=field):
        ProxyConfig(**{field: value})
