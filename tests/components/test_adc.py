"""ADC calibrations against figures.md (sections 0, 1.5, 2, 3.2) and the TIMON law.

Tolerances are the issue's: ISAAC within 15% (the Table I rate is 1.2 GS/s, the text 1.28);
PUMA table within 10% (the model is the table's own linear rule, so it lands to float
precision); shapes by inequality.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwjax import Tech
from hwjax import units as u
from hwjax.components import adc

ISAAC_RATES = [1.2 * u.GHz, 1.28 * u.GHz]


@pytest.mark.parametrize("rate", ISAAC_RATES)
def test_isaac_8bit_adc_energy_and_area_at_32nm(rate):
    # figures.md 2.2 / 2.4: 2 mW / 1.2 GS/s = 1.67 pJ per conversion, 1.56 pJ from 16 mW x 100 ns
    # / 1024; 0.0012 mm² per ADC.
    cost = adc.conversion(adc.ADC(8, rate, Tech(32, 0.9)))
    assert float(cost.total_energy) == pytest.approx(1.63 * u.pJ, rel=0.15)
    assert float(cost.area) == pytest.approx(0.0012 * u.mm2, rel=0.15)
    assert float(cost.power) == pytest.approx(2 * u.mW * rate / (1.2 * u.GHz), rel=0.15)


def test_isaac_resolution_table_at_32nm():
    # figures.md 3.2 (Accelergy ISAAC ADC table, Saberi CDAC scaling): within 5%, the law fits it to 0.5%.
    table = zip(adc._ISAAC_TABLE_BITS, adc._ISAAC_TABLE_ENERGY, adc._ISAAC_TABLE_AREA, strict=True)
    for bits, energy, area in table:
        cost = adc.conversion(adc.ADC(float(bits), adc.ISAAC_SAMPLE_RATE))
        assert float(cost.total_energy) == pytest.approx(energy, rel=0.05)
        assert float(cost.area) == pytest.approx(area, rel=0.05)


@pytest.mark.parametrize("bits", [1, 2, 4, 8, 9, 16])
def test_puma_calibration_reproduces_the_simulator_table(bits):
    # figures.md 1.5: lat 12.5 ns/bit, dyn 0.225 mW/bit (charged x 1 ns), leak 0.025 mW/bit, 0.0012 mm².
    cost = adc.conversion(adc.ADC(bits, 10 * u.MHz, calibration="puma"))
    assert float(cost.latency) == pytest.approx(12.5 * u.ns * bits, rel=0.10)
    assert float(cost.energy) == pytest.approx(0.225 * u.pJ * bits, rel=0.10)
    assert float(cost.leakage) == pytest.approx(0.025 * u.mW * bits, rel=0.10)
    assert float(cost.area) == pytest.approx(0.0012 * u.mm2, rel=0.10)


def _log_slope(f, low, high):
    return np.log(f(high) / f(low)) / np.log(high / low)


def test_timon_law_quadratic_to_8_bits_then_exponential():
    # Dissertation 6.4.3 / Fig. 6.8: energy and latency ~quadratic for N <= 8, exponential after.
    def measure(field):
        def at(n):
            cost = adc.conversion(adc.ADC(n, 1 * u.GHz, adc.SOI45_TECH, calibration="timon"))
            return float(getattr(cost, field))

        return at

    for field in ("total_energy", "latency"):
        f = measure(field)
        assert 1.7 < _log_slope(f, 4.0, 6.0) < 2.4  # quadratic: doubling N gives ~4x
        assert 1.7 < _log_slope(f, 4.0, 7.0) < 2.6
        assert f(8.0) / f(7.0) < 2.0 < f(9.0) / f(8.0)  # one more bit pays below 8, not above
        for n in (10.0, 11.0, 12.0):  # exponential: each bit multiplies by ~4
            assert 3.0 < f(n + 1) / f(n) < 4.0


def test_survey_sar_crosses_from_cdac_growth_to_thermal_exponential():
    def energy(n):
        return float(adc.conversion(adc.ADC(n, 1 * u.MHz)).total_energy)

    assert energy(9) / energy(8) < 1.5  # logic + CDAC regime
    assert energy(16) / energy(15) > 3.5  # kT/C regime: x4 per bit


def test_timon_energy_is_anchored_to_the_survey_envelope_at_8_bits():
    # Dissertation 6.4.3: ADC trendlines from the survey's "top-5 data points at each resolution",
    # i.e. its lower envelope (figures.md 0: 0.27 pJ + 0.145 aJ 4^N, 0.2795 pJ at 8 bits). At
    # 45 nm the 8-bit total energy equals the envelope (rtol 1e-5: float32), whatever the rate
    # (the trendline is at constant area; the rate sets latency only); 7 bits is 65/128 of it.
    for rate in (0.1 * u.GHz, 1 * u.GHz):
        cost = adc.conversion(adc.ADC(8.0, rate, adc.SOI45_TECH, calibration="timon"))
        np.testing.assert_allclose(cost.total_energy, adc.survey_energy_envelope(8.0), rtol=1e-5)
    seven = adc.conversion(adc.ADC(7.0, 1 * u.GHz, adc.SOI45_TECH, calibration="timon")).total_energy
    np.testing.assert_allclose(seven / adc.survey_energy_envelope(8.0), 65.0 / 128.0, rtol=1e-5)


def test_timon_adc_area_matches_table_6_3():
    # Table 6.3: 32 shared ADCs, 0.1056 mm² at 45 nm, 7-bit (K64).
    area = adc.conversion(adc.ADC(7, 1 * u.GHz, adc.SOI45_TECH, calibration="timon")).area
    assert float(area) * 32 == pytest.approx(0.1056 * u.mm2, rel=0.01)


def test_designs_respect_the_survey_envelope_and_figures_of_merit():
    # figures.md 0: no design beats the 725-design lower envelope; FOMs lie between the
    # survey's reference lines (FOM_W 1-100 fJ/step, FOM_S 160-185 dB) for the ISAAC ADC.
    for bits in np.arange(4, 15):
        for rate in (1 * u.MHz, 100 * u.MHz, 1 * u.GHz):
            cost = adc.conversion(adc.ADC(float(bits), rate))
            assert float(cost.total_energy) >= float(adc.survey_energy_envelope(bits))
    isaac = adc.ADC(8, adc.ISAAC_SAMPLE_RATE)
    assert 1 * u.fJ < float(adc.walden_fom(isaac)) < 100 * u.fJ
    assert 160 < float(adc.schreier_fom(isaac)) < 185


def test_slower_and_smaller_nodes_cost_less_energy():
    fast = adc.conversion(adc.ADC(8, 1 * u.GHz)).total_energy
    slow = adc.conversion(adc.ADC(8, 10 * u.MHz)).total_energy
    small = adc.conversion(adc.ADC(8, 1 * u.GHz, Tech(7))).total_energy
    assert slow < fast and small < fast


def test_flash_has_exponential_comparators():
    def energy(n):
        return float(adc.conversion(adc.ADC(n, 1 * u.GHz, kind="flash")).total_energy)

    assert energy(6) / energy(5) == pytest.approx(63 / 31, rel=1e-6)


def test_tunable_sar_scales_linearly_with_active_bits():
    # TIMON 6.6: early termination reduces latency and energy linearly with resolution.
    tunable = adc.ADC(8, 1 * u.GHz, kind="tunable_sar")
    full, half = adc.conversion(tunable), adc.conversion(tunable, active_bits=4.0)
    assert float(half.energy / full.energy) == pytest.approx(0.5)
    assert float(half.latency / full.latency) == pytest.approx(0.5)
    assert float(half.area) == float(full.area)


def test_quantize_values_clipping_and_straight_through_gradient():
    # 3 bits over +-1 V: step 0.25, codes -4..3, so 0.75 is the largest output; 0.77 would clip.
    x = jnp.array([-2.0, -0.3, 0.1, 0.6, 5.0])
    np.testing.assert_allclose(adc.quantize(x, 3, 1.0), [-1.0, -0.25, 0.0, 0.5, 0.75])
    np.testing.assert_allclose(adc.quantize(x, 3, 1.0, signed=False), [0.0, 0.0, 0.125, 0.625, 0.875])
    np.testing.assert_allclose(jax.grad(lambda v: adc.quantize(v, 3, 1.0).sum())(x), [0, 1, 1, 1, 0])


def test_quantize_is_exact_on_the_grid():
    codes = jnp.arange(-8.0, 8.0)
    np.testing.assert_array_equal(adc.quantize(codes / 8, 4, 1.0), codes / 8)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: adc.ADC(0.5), "bits"),
        (lambda: adc.ADC(8, -1.0), "sample_rate"),
        (lambda: adc.ADC(8, kind="pipeline"), "kind"),
        (lambda: adc.ADC(8, calibration="isaac"), "calibration"),
        (lambda: adc.ADC(8, kind="flash", calibration="puma"), "calibration"),
        (lambda: adc.ADC(8, tech=32), "tech"),
        (lambda: adc.conversion(adc.ADC(8), active_bits=4.0), "active_bits"),
        (lambda: adc.conversion(adc.ADC(8, kind="tunable_sar"), active_bits=9.0), "active_bits"),
        (lambda: adc.quantize(1.0, 3, 0.0), "full_scale"),
        (lambda: adc.quantize(1.0, 0, 1.0), "bits"),
    ],
)
def test_bad_input_raises(make, name):
    with pytest.raises(ValueError, match=name):
        make()
