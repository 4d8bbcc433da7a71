"""Device presets, validation and the CrossSim noise fits (figures.md sections 1-2 and 5.3)."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwjax import devices
from hwjax.devices import Device, device, envm_device, noise_sigma
from hwjax.units import MOhm, V, kOhm, nA, ns, uS

_BASE = dict(v_read=0.2, read_pulse=10 * ns, read_latency=10 * ns, write_energy=1e-15, write_latency=50 * ns)


def test_every_brief_preset_exists_cites_a_source_and_is_named_by_its_key():
    for name in ("taox", "pcm", "sonos", "ecram", "ctt", "isaac", "puma"):
        preset = device(name)
        assert preset.name == name
        assert preset.source, f"{name} cites no source"
        assert preset.g_on > preset.g_off > 0
        assert preset.levels == 2.0**preset.bits_per_cell


def test_unknown_device_name_lists_the_valid_names():
    with pytest.raises(ValueError, match="device") as error:
        device("unobtainium")
    for name in devices.PRESETS:
        assert repr(name) in str(error.value)


def test_one_name_space_holds_every_device():
    # Crossbar cells and eNVM macros share the registry's names; a name in both is one technology.
    assert set(devices.NAMES) == set(devices.PRESETS) | set(devices.ENVM_PRESETS)
    assert set(devices.ENVM_PRESETS) == {"ctt", "rram", "pcm", "stt"}
    for name, macro in devices.ENVM_PRESETS.items():
        assert envm_device(name) is macro and macro.name == name and macro.source
    with pytest.raises(ValueError, match="device") as error:
        envm_device("nand")
    for name in devices.ENVM_PRESETS:
        assert repr(name) in str(error.value)


def test_puma_device_is_the_dissertations_memristor():
    # Dissertation section 3.7.1: "resistance range of 100kOhm-1MOhm and read voltage of 0.5V".
    puma = device("puma")
    assert (puma.r_on, puma.r_off, puma.v_read) == (100 * kOhm, 1 * MOhm, 0.5 * V)
    assert puma.on_off_ratio == pytest.approx(10.0)


def test_isaac_cell_includes_its_access_transistor():
    # figures.md 2 "ISAAC cell model": R_on 2 kOhm in series with a 20 kOhm access transistor.
    isaac = device("isaac")
    assert isaac.g_on == pytest.approx(1 / (22 * kOhm))
    assert isaac.g_off == pytest.approx(1 / (3 * MOhm + 20 * kOhm))


def test_sandia_and_crosssim_windows():
    # Sandia TaOx error model: G_ON/G_OFF = 10; CrossSim PCMJoshi: Gmax 25 uS, on/off 100;
    # SONOS: Imax 3200 nA at Rmin 35 kOhm sets the read voltage (figures.md 5.3-5.4).
    assert device("taox").on_off_ratio == pytest.approx(10.0)
    assert device("pcm").g_on == pytest.approx(25 * uS)
    assert device("pcm").on_off_ratio == pytest.approx(100.0)
    sonos = device("sonos")
    assert sonos.g_on * sonos.v_read == pytest.approx(3200 * nA)


def test_calibrated_puma_read_pulse_is_a_duty_cycle_like_isaacs():
    # The calibrated pulse (0.3 mW in a 100 ns cycle) must be a short pulse in the cycle, the
    # same order as the 1 ns of ISAAC's cell model: a sanity bound, not a fit target.
    assert 0.5 * ns < device("puma").read_pulse < 10 * ns


def test_r_on_at_or_above_r_off_is_rejected():
    with pytest.raises(ValueError, match="r_off"):
        Device(r_on=2e6, r_off=1e6, **_BASE)
    with pytest.raises(ValueError, match="r_off"):
        Device(r_on=1e6, r_off=1e6, **_BASE)


@pytest.mark.parametrize(
    "override,parameter",
    [
        ({"r_on": -1.0}, "r_on"),
        ({"v_read": 0.0}, "v_read"),
        ({"v_read": 9.0}, "v_read"),
        ({"bits_per_cell": 0.5}, "bits_per_cell"),
        ({"write_pulses": 0.0}, "write_pulses"),
        ({"write_energy": -1e-12}, "write_energy"),
        ({"endurance": 0.0}, "endurance"),
        ({"cell_area_f2": 0.0}, "cell_area_f2"),
        ({"read_pulse": float("nan")}, "read_pulse"),
    ],
)
def test_bad_device_fields_raise_naming_the_field(override, parameter):
    with pytest.raises(ValueError, match=parameter):
        Device(**{"r_on": 1e4, "r_off": 1e5, **_BASE, **override})


def test_from_conductances_round_trips():
    made = Device.from_conductances(40 * uS, 0.4 * uS, **_BASE)
    assert made.g_on == pytest.approx(40 * uS)
    assert made.on_off_ratio == pytest.approx(100.0)
    with pytest.raises(ValueError, match="r_off"):
        Device.from_conductances(1 * uS, 2 * uS, **_BASE)


def test_device_is_a_pytree_of_its_numeric_fields():
    leaves = jax.tree_util.tree_leaves(device("taox"))
    assert len(leaves) == 12  # every numeric field except the None-valued optional ones
    r_on = jnp.array([50e3, 100e3, 200e3])
    g_on = jax.vmap(lambda r: dataclasses.replace(device("taox"), r_on=r).g_on)(r_on)
    np.testing.assert_allclose(g_on, 1 / r_on, rtol=1e-6)


# --- CrossSim fits, figures.md 5.3 -----------------------------------------------------------


def test_milo_rram_programming_error():
    # sigma_G = max(-0.009107 G + 4.782321, 0) uS, G in uS.
    fit = devices.MILO_RRAM_PROGRAMMING
    assert float(noise_sigma(fit, 100 * uS)) == pytest.approx((4.782321 - 0.9107) * uS, rel=1e-5)
    assert float(noise_sigma(fit, 600 * uS)) == 0.0  # floored where the line goes negative


def test_joshi_pcm_programming_error():
    g = 10.0  # uS
    expected = (-0.00178767 * g**2 + 0.07585724 * g + 0.28638599) * uS
    assert float(noise_sigma(devices.JOSHI_PCM_PROGRAMMING, g * uS)) == pytest.approx(expected, rel=1e-5)


def test_sonos_fits_are_in_current_at_the_read_voltage():
    # sigma_I = A - A exp(-I/B): at I = B the error is A (1 - 1/e); sigma_G = sigma_I / V.
    fit, v = devices.SONOS_PROGRAMMING, 0.112
    amplitude, scale = fit.coefficients
    g = scale * nA / v
    expected = amplitude * (1 - math.exp(-1)) * nA / v
    assert float(noise_sigma(fit, g, v)) == pytest.approx(expected, rel=1e-5)


def test_noise_sigma_jits_vmaps_and_differentiates():
    fit = devices.JOSHI_PCM_PROGRAMMING
    g = jnp.linspace(1.0, 25.0, 5) * uS
    np.testing.assert_allclose(jax.jit(lambda x: noise_sigma(fit, x))(g), noise_sigma(fit, g), rtol=1e-6)
    slope = jax.vmap(jax.grad(lambda x: noise_sigma(fit, x)))(g)
    assert np.all(np.isfinite(slope))
    np.testing.assert_allclose(slope, -2 * 0.00178767 * g / uS + 0.07585724, rtol=1e-4)


def test_noise_model_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        devices.NoiseModel("lognormal", (1.0,), uS)
