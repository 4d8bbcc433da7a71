"""Analog-to-digital converters: SAR (default), flash and tunable-resolution SAR.

Energy per conversion, conversion latency, leakage and area are smooth functions of the
resolution ``bits`` (a continuous knob), the sampling rate and the technology.

**Survey calibration** (default). A SAR conversion costs

* ``e_bit * N``: the comparator decisions and SAR logic, one per bit;
* ``e_cdac * 2^N``: switching the binary-weighted capacitive DAC (Saberi et al., TCAS-I 2011);
* ``e_thermal * 4^N``: the thermal-noise (kT/C) limit, the survey's asymptote
  ``0.145 aJ * 4^ENOB`` (figures.md section 0), independent of node and supply.

``e_bit`` and ``e_cdac`` (and the area law ``a_bit * N + a_cdac * 2^N``) are least-squares fits
to the ISAAC ADC table of figures.md section 3.2 (Kull et al.'s 8-bit 1.2 GS/s SAR at 32 nm,
scaled in resolution by Saberi's CDAC analysis), which the two-term law reproduces to 0.2%.
Speed costs energy: the survey's figure of merit is flat at low rates and degrades in proportion
to the rate above a corner, modelled as the factor ``1 + f_s / f_corner`` with ``f_corner`` =
1.2 GS/s at 32 nm, scaled with gate delay (hwjax's assumption: ISAAC's design sits at the corner,
so the same SAR run slowly costs half as much, as the survey's flat low-speed figure of merit
suggests). Leakage is 10% of the power at the design rate, the ratio of the PUMA simulator's ADC
table (figures.md 1.5: 0.2 of 2.0 mW). The 8-bit 1.2 GS/s design at 32 nm thus costs 1.67 pJ
and 2.0 mW in total, ISAAC's Table I.

**PUMA calibration**: the PUMA simulator's table (figures.md 1.5) exactly: 12.5 ns, 0.225 mW of
dynamic and 0.025 mW of leakage power per bit, 0.0012 mm²; the simulator charges
``pow_dyn x 1 ns`` per conversion.

**TIMON calibration**: TIMON's law (dissertation section 6.4.3, Fig. 6.8) that energy and
latency per conversion grow about quadratically with resolution up to 8 bits and exponentially
beyond: both follow ``g(N) = N² + N_x² 4^(N - N_x)`` (the two terms equal at ``N_x = 8``, so one
more bit costs just under 2x below 8 bits and well over 2x above: together with Figs. 6.9 and
6.10 this places the crossover, since widening the dot product to 128 rows still pays while
a second stream or slice bit on top of it does not),
anchored at 8 bits to the survey's lower envelope (figures.md section 0: ``0.27 pJ + 0.145 aJ
4^8`` = 0.28 pJ per conversion, energy including the 10% leakage share below) and to TIMON's ADC
area (Table 6.3: 32 ADCs 0.1056 mm² at 45 nm for its 7-bit K64 resolution). Section 6.4.3 builds
its trendlines from the "top-5 data points at each resolution" of the survey, i.e. from the
survey's most efficient designs, so the envelope is the anchor, not the ISAAC-like SAR of the
survey calibration (2.9 pJ at 8 bits, 45 nm and sram_cim's 0.69 GS/s: 10x the envelope). The
energy trendline is read at constant area, so it carries no sampling-rate term; the envelope is
a floor over all nodes, which hwjax anchors at TIMON's 45 nm and scales to ``tech``. Here
``sample_rate`` is the rate of the 8-bit reference (latency only).

A **tunable SAR** (TIMON section 6.6) terminates its binary search early: a conversion at
``active_bits < bits`` takes that many bit cycles, so latency and energy fall linearly.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from hwjax import relax, validate
from hwjax import units as u
from hwjax._pytree import Knob, pytree_dataclass, static_field
from hwjax.cost import Cost
from hwjax.tech import DEFAULT_TECH, Tech, check_tech, scale_area, scale_delay, scale_energy

KINDS = ("sar", "flash", "tunable_sar")
CALIBRATIONS = ("survey", "puma", "timon")
BITS_RANGE = (1.0, 16.0)
SAMPLE_RATE_RANGE = (1e3, 1e11)  # Hz

# The ISAAC/PUMA ADC data (figures.md 1, 2 and 3.2) are at DEFAULT_TECH: 32 nm, 0.9 V.
#: IBM 45 nm SOI, the node of the dissertation's chapter 6 data (section 6.7.1; Table 6.3's ADC
#: area): hwjax's 45 nm HP row at its nominal 1.0 V.
SOI45_TECH = Tech(45, 1.0, "HP")

# figures.md 3.2, ISAAC ADC resolution-scaled table at 32 nm and 1.2 GS/s.
_ISAAC_TABLE_BITS = np.arange(4, 11)
_ISAAC_TABLE_ENERGY = np.array([0.79, 0.99, 1.20, 1.42, 1.67, 1.969078, 2.379023]) * u.pJ
_ISAAC_TABLE_AREA = np.array([361.04, 476.91, 626.91, 845.18, 1200.0, 1827.912, 3002.008]) * u.um2
ISAAC_SAMPLE_RATE = 1.2 * u.GHz  # figures.md 2.2 (Table I; the text says 1.28 GS/s)

#: Survey envelope's thermal asymptote per 4^ENOB (figures.md section 0), J.
THERMAL_ENERGY = 0.145 * u.aJ
#: Sampling rate above which the survey figure of merit degrades, at 32 nm (assumption).
RATE_CORNER = 1.2 * u.GHz
#: Leakage as a fraction of total power at the design rate (figures.md 1.5: 0.2 / 2.0 mW).
LEAKAGE_FRACTION = 0.1

# figures.md 1.5: PUMA simulator ADC, linear in resolution.
PUMA_LATENCY_PER_BIT = 12.5 * u.ns
PUMA_DYNAMIC_POWER_PER_BIT = 0.225 * u.mW
PUMA_LEAKAGE_PER_BIT = 0.025 * u.mW
PUMA_AREA = 0.0012 * u.mm2
PUMA_ENERGY_WINDOW = 1 * u.ns  # hw_stats.py charges pow_dyn x 1 ns per conversion

# TIMON (dissertation Table 6.3): 32 shared ADCs take 0.1056 mm² at 45 nm; K64 resolves
# log2(64) + 1 = 7 bits (section 6.4.3: log2(d) + t*l with t = l = 1).
TIMON_ADC_AREA = 0.1056 * u.mm2 / 32
TIMON_ADC_BITS = 7.0
TIMON_CROSSOVER_BITS = 8.0

# figures.md 3.2: TIMELY charging comparator, 65 nm: 0.0417 pJ, 40 um² (flash ADC unit).
COMPARATOR_TECH = Tech(65, 1.1)
COMPARATOR_ENERGY = 0.0417 * u.pJ
COMPARATOR_AREA = 40 * u.um2


def _fit_bits_law(values: np.ndarray) -> tuple[float, float]:
    """Least-squares ``(per_bit, per_2^N)`` of ``values ~ per_bit * N + per_2^N * 2^N``."""
    n = _ISAAC_TABLE_BITS.astype(float)
    design = np.stack([n, 2.0**n], axis=1)
    coefficients, *_ = np.linalg.lstsq(design / values[:, None], np.ones_like(n), rcond=None)
    return float(coefficients[0]), float(coefficients[1])  # relative least squares


def _corner_factor(rate, tech: Tech):
    """Energy multiplier ``1 + f_s / f_corner`` for converting at ``rate`` on ``tech``."""
    corner = RATE_CORNER / scale_delay(1.0, DEFAULT_TECH, tech)
    return 1.0 + rate / corner


# The ISAAC table is at 1.2 GS/s, so divide out its rate factor before fitting the laws.
_ISAAC_RATE_FACTOR = 1.0 + ISAAC_SAMPLE_RATE / RATE_CORNER
_SAR_LOGIC_ENERGY, _SAR_CDAC_ENERGY = _fit_bits_law(
    (_ISAAC_TABLE_ENERGY - THERMAL_ENERGY * 4.0**_ISAAC_TABLE_BITS) / _ISAAC_RATE_FACTOR
)
_SAR_LOGIC_AREA, _SAR_CDAC_AREA = _fit_bits_law(_ISAAC_TABLE_AREA)


@pytree_dataclass
class ADC:
    """One analog-to-digital converter (a pytree).

    Attributes:
        bits: resolution N, bits (continuous knob in [1, 16]).
        sample_rate: conversions per second, Hz (knob in [1e3, 1e11]); under ``"timon"`` the
            rate of the 8-bit reference design.
        tech: technology node and supply (a nested pytree; ``vdd`` is a knob).
        kind: ``"sar"``, ``"flash"`` or ``"tunable_sar"`` (static).
        calibration: ``"survey"``, ``"puma"`` or ``"timon"`` (static; see the module docstring).
    """

    bits: Any
    sample_rate: Knob = ISAAC_SAMPLE_RATE
    tech: Tech = DEFAULT_TECH
    kind: str = static_field("sar")
    calibration: str = static_field("survey")

    def __post_init__(self):
        validate.check_choice("kind", self.kind, KINDS)
        validate.check_choice("calibration", self.calibration, CALIBRATIONS)
        if self.kind == "flash" and self.calibration != "survey":
            raise ValueError(f"calibration={self.calibration!r} describes SAR ADCs; flash ADCs use 'survey'")
        check_tech(self.tech)
        bits = validate.check_range("bits", self.bits, *BITS_RANGE)
        rate = validate.check_range("sample_rate", self.sample_rate, *SAMPLE_RATE_RANGE, unit="Hz")
        object.__setattr__(self, "bits", bits)
        object.__setattr__(self, "sample_rate", rate)


def _sar_energy(bits, rate, tech: Tech):
    """Survey SAR energy per conversion at full resolution, J (dynamic plus leakage)."""
    switching = _SAR_LOGIC_ENERGY * bits + _SAR_CDAC_ENERGY * 2.0**bits
    switching = scale_energy(switching, DEFAULT_TECH, tech) * _corner_factor(rate, tech)
    thermal = THERMAL_ENERGY * 4.0**bits * tech.temperature_k / 300.0
    return switching + thermal


def _sar_area(bits, tech: Tech):
    return scale_area(_SAR_LOGIC_AREA * bits + _SAR_CDAC_AREA * 2.0**bits, DEFAULT_TECH, tech)


def _flash_energy(bits, rate, tech: Tech):
    """2^N - 1 comparators fire per conversion (thermometer encoder neglected), J."""
    per_comparator = scale_energy(COMPARATOR_ENERGY, COMPARATOR_TECH, tech)
    return (2.0**bits - 1.0) * per_comparator * _corner_factor(rate, tech)


def _flash_area(bits, tech: Tech):
    return (2.0**bits - 1.0) * scale_area(COMPARATOR_AREA, COMPARATOR_TECH, tech)


def timon_law(bits):
    """TIMON's resolution law ``g(N) = N² + N_x² 4^(N - N_x)`` (dimensionless, ``N_x = 8``).

    About quadratic below 8 bits and exponential (x4 per bit) above the crossover.
    """
    return bits**2 + TIMON_CROSSOVER_BITS**2 * 4.0 ** (bits - TIMON_CROSSOVER_BITS)


def _survey_full(adc: ADC) -> tuple[Any, Any, Any]:
    """(energy incl. leakage, latency, area) of one full-resolution conversion, survey."""
    if adc.kind == "flash":
        energy = _flash_energy(adc.bits, adc.sample_rate, adc.tech)
        area = _flash_area(adc.bits, adc.tech)
    else:
        energy = _sar_energy(adc.bits, adc.sample_rate, adc.tech)
        area = _sar_area(adc.bits, adc.tech)
    return energy, 1.0 / adc.sample_rate, area


def _timon_full(adc: ADC) -> tuple[Any, Any, Any]:
    growth = timon_law(adc.bits) / timon_law(TIMON_CROSSOVER_BITS)
    # Section 6.4.3: trendlines through the survey's top-5 designs per resolution, i.e. its
    # lower envelope (figures.md 0), taken at the crossover where the quadratic law meets it.
    anchor = scale_energy(survey_energy_envelope(TIMON_CROSSOVER_BITS), SOI45_TECH, adc.tech)
    energy = anchor * growth
    area_growth = _sar_area(adc.bits, DEFAULT_TECH) / _sar_area(TIMON_ADC_BITS, DEFAULT_TECH)
    area = scale_area(TIMON_ADC_AREA, SOI45_TECH, adc.tech) * area_growth
    return energy, growth / adc.sample_rate, area


def _puma_cost(adc: ADC, active_bits) -> Cost:
    """figures.md 1.5 rules, scaled from 32 nm to ``adc.tech``."""
    latency = scale_delay(PUMA_LATENCY_PER_BIT * active_bits, DEFAULT_TECH, adc.tech)
    energy_at_32nm = PUMA_DYNAMIC_POWER_PER_BIT * active_bits * PUMA_ENERGY_WINDOW
    energy = scale_energy(energy_at_32nm, DEFAULT_TECH, adc.tech)
    leakage = scale_energy(PUMA_LEAKAGE_PER_BIT * adc.bits, DEFAULT_TECH, adc.tech)
    return Cost(energy, latency, scale_area(PUMA_AREA, DEFAULT_TECH, adc.tech), leakage)


def _check_active_bits(adc: ADC, active_bits):
    if active_bits is None:
        return adc.bits
    if adc.kind != "tunable_sar":
        raise ValueError(f"active_bits needs kind='tunable_sar'; this ADC is kind={adc.kind!r}")
    concrete = not validate.is_traced((active_bits, adc.bits))
    if concrete and np.any(np.asarray(active_bits) > np.asarray(adc.bits)):
        raise ValueError(f"active_bits={active_bits!r} exceeds the ADC's bits={adc.bits!r}")
    active_bits = validate.check_range("active_bits", active_bits, *BITS_RANGE)
    return jnp.minimum(active_bits, adc.bits)


def conversion(adc: ADC, active_bits=None) -> Cost:
    """Cost of one conversion by one ADC.

    Args:
        adc: the converter.
        active_bits: tunable SAR only: resolution of this conversion (<= ``adc.bits``); the
            binary search stops early, so energy and latency scale by ``active_bits / bits``.

    Returns:
        Cost with dynamic ``energy`` (J), ``latency`` (s, one conversion), ``area`` (m²) and
        ``leakage`` (W) of the ADC.
    """
    active_bits = _check_active_bits(adc, active_bits)
    if adc.calibration == "puma":
        return _puma_cost(adc, active_bits)
    energy, latency, area = (_timon_full if adc.calibration == "timon" else _survey_full)(adc)
    leakage = LEAKAGE_FRACTION * energy / latency
    fraction = active_bits / adc.bits
    dynamic = (1.0 - LEAKAGE_FRACTION) * energy * fraction
    return Cost(dynamic, latency * fraction, area, leakage)


#: Resolution at which the accelerators' ADCs are sized to their rate (PUMA, ISAAC: 8 bits).
SIZED_BITS = 8.0


def sar_time(bits, time_at_sized_bits, sized_bits=SIZED_BITS):
    """Conversion time of a SAR ADC at ``bits``, s: one comparison per bit on a fixed step
    clock, so ``time_at_sized_bits x bits / sized_bits`` (the converter was sized to convert in
    ``time_at_sized_bits`` at ``sized_bits``). Where conversion bounds an MVM, resolution sets
    its speed."""
    return time_at_sized_bits * bits / sized_bits


def walden_fom(adc: ADC):
    """Walden figure of merit ``P / (f_s 2^N)`` of the design, J per conversion step.

    Uses the total power at the sampling rate and takes the resolution as the ENOB.
    """
    cost = conversion(adc)
    return cost.power / (adc.sample_rate * 2.0**adc.bits)


def schreier_fom(adc: ADC):
    """Schreier figure of merit ``SNDR + 10 log10(f_s / (2 P))``, dB (Nyquist rate f_s).

    SNDR = 6.02 N + 1.76 dB for an ideal N-bit quantizer (figures.md section 0).
    """
    cost = conversion(adc)
    sndr = 6.02 * adc.bits + 1.76
    return sndr + 10.0 * jnp.log10(adc.sample_rate / (2.0 * cost.power))


def survey_energy_envelope(bits):
    """Lower envelope of energy per conversion over 725 surveyed designs, J (figures.md 0)."""
    return 0.27 * u.pJ + THERMAL_ENERGY * 4.0**bits


def quantize(x, bits, full_scale, signed: bool = True, mode: str = "ste"):
    """Uniform ADC quantizer with clipping, differentiable by a straight-through estimator.

    Codes are ``round(x / step)`` clipped to ``[-2^(N-1), 2^(N-1) - 1]`` (signed, step
    ``full_scale / 2^(N-1)``) or ``[0, 2^N - 1]`` (unsigned, step ``full_scale / 2^N``), so
    ``full_scale`` is the magnitude of the input range. In ``"ste"`` mode the gradient in ``x``
    is 1 inside the range and 0 where clipped; in ``full_scale`` and ``bits`` it is that of the
    step through the straight-through rounding (as in learned step-size quantization).

    Args:
        x: array of any shape, input units (e.g. A or V).
        bits: resolution, bits (scalar or broadcastable; continuous knob >= 1).
        full_scale: input range magnitude, units of ``x`` (> 0).
        signed: signed (two's-complement codes) or unsigned range (static).
        mode: rounding mode of :func:`hwjax.relax.round`.

    Returns:
        Quantized values, shape of ``x`` broadcast with ``bits`` and ``full_scale``.
    """
    bits = validate.check_range("bits", bits, 1.0, 32.0)
    full_scale = validate.check_positive("full_scale", full_scale)
    x = jnp.asarray(validate.check_range("x", x))
    levels = 2.0 ** (bits - 1.0) if signed else 2.0**bits
    step = full_scale / levels
    low, high = (-levels, levels - 1.0) if signed else (0.0, levels - 1.0)
    codes = relax.round(jnp.clip(x / step, low, high), mode=mode)
    return codes * step
