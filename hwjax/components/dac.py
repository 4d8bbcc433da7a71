"""Digital-to-analog converters and crossbar row drivers, with the pulse encodings of the OPA.

**Power law.** A capacitive DAC of resolution ``N`` clocked at ``f`` draws (PANTHER,
dissertation eq. 5.5, after Kim et al., ISLPED 2018)::

    P_DAC = beta (2^N / N + 1) V² f

so one conversion costs ``E = P / f = beta (2^N / N + 1) V²``: ``beta`` is the effective
switched capacitance (F), ``V`` the supply (``tech.vdd``) and ``f`` the conversion clock
(``sample_rate``). ``N`` is a continuous knob and the law is smooth in it. (It dips by 4%
between 1 and 1.44 bits, where ``2^N / N`` has its minimum, and is equal at 1 and 2 bits.)

**beta.** The dissertation gives the law but no value of ``beta`` (it sizes its DACs with Saberi
et al.'s equations, section 5.6.1), so hwjax fits it to published DACs, selected by the static
``calibration``:

* ``"isaac"`` (default): the 1-bit row driver of ISAAC Table I, in the PUMA simulator's form
  (figures.md 1.4: 1 ns, 0.00350625 mW dynamic, 0.000390625 mW leakage per DAC at 32 nm,
  0.9 V; these sum to 0.2% under ISAAC's 4 mW / 1024 DACs of figures.md 2.2). One conversion is
  ``0.00350625 mW x 1 ns = 3.506 fJ``, so ``beta = 3.506 fJ / (3 x 0.81 V²) = 1.443 fF``: an
  inverter plus a short row wire at 32 nm. The area is ISAAC's 0.00017 mm² / 1024
  (figures.md 2.2).
* ``"brahms"``: a multi-bit SAR capacitive DAC (figures.md 3, Accelergy library, BRAHMS: 8 bits,
  40 nm, 0.291 pJ per conversion, 438 um², no leakage), ``beta = 9.48 fF`` at 40 nm (its
  supply is not published; hwjax takes the node's nominal 0.964 V). Its unit capacitors are
  sized for 8-bit matching, so it suits multi-bit DACs (PANTHER's 4-bit pulse-amplitude column
  DACs) better than the 1-bit driver does.

``beta`` is also a knob: pass a value to override the calibration's (leakage and area still
follow the calibration).

**Resolution.** Area and leakage scale as ``2^(N - N_0)`` from the calibration's resolution
``N_0``: a binary-weighted capacitor array holds ``2^N`` unit capacitors (Saberi et al.) and
Accelergy scales DAC area by ``2^(b1 - b0)`` (figures.md 3.2); leakage follows the switch
widths, which grow with the capacitors they drive (hwjax's assumption).

**Technology.** ``beta`` is a capacitance at the calibration's node; it moves to ``tech`` by
the Stillmaker-Baas energy ratio at nominal supplies divided by the ratio of nominal supplies
squared (``C ~ E / V²``), and the supply enters through eq. 5.5's explicit ``V²``. Area moves with
:func:`hwjax.scale_area` and leakage with :func:`hwjax.scale_power`.

**Accounting.** A conversion lasts one clock period ``1 / f``. A row drive held for longer (a
crossbar read cycle) is charged the DAC's power for the whole hold, ``P x hold``, which is how
ISAAC's Table I power becomes 0.3906 pJ per row per 100 ns cycle (figures.md 2.4); a hold of
one period is one conversion, the PUMA simulator's ``pow_dyn x 1 ns`` per access. A concrete
hold shorter than a period raises ``ValueError``; a traced one is charged pro rata.

**Outer-product encodings** (dissertation section 5.3.1, Fig. 5.3). An OPA update drives the
rows with pulse-width-modulated pulses (an ``m``-bit value ``v`` becomes a pulse of ``v`` unit
slots, so a cycle lasts ``2^m - 1`` slots) and the columns with pulse-amplitude-modulated
voltages (a ``p``-bit chunk per weight-slice crossbar, held for the row pulse). Row inputs of
``B`` bits stream ``m`` bits per cycle over ``ceil(B / m)`` cycles, so the latency
``ceil(B / m) (2^m - 1)`` slots is least at ``m = 1`` (PANTHER's choice; its row DACs are then
inverters). Every DAC is charged its power for the whole cycle regardless of the value it
encodes (worst case, as the PUMA/PANTHER simulator charges per access).
"""

from __future__ import annotations

import dataclasses
import functools

import jax.numpy as jnp
import numpy as np

from hwjax import relax, validate
from hwjax import units as u
from hwjax._pytree import Knob, pytree_dataclass, static_field
from hwjax.cost import Cost, parallel, repeat, replicate
from hwjax.tech import DEFAULT_TECH, Tech, check_tech, scale_area, scale_energy, scale_power

BITS_RANGE = (1.0, 16.0)
SAMPLE_RATE_RANGE = (1e3, 1e11)  # Hz
INPUT_BITS_RANGE = (1.0, 64.0)
#: PANTHER's clock (dissertation Table 5.3: 1 GHz; the PUMA simulator's DAC takes 1 ns).
DEFAULT_SAMPLE_RATE = 1 * u.GHz

#: BRAHMS DAC node (figures.md 3, Accelergy library: 40 nm); supply not published, so nominal.
BRAHMS_TECH = Tech(40, None, "HP")


@dataclasses.dataclass(frozen=True)
class Calibration:
    """A published DAC that fixes ``beta``, leakage and area.

    Attributes:
        tech: node and supply of the source.
        bits: resolution of the source, bits.
        energy: dynamic energy per conversion at ``bits``, J.
        leakage: leakage power at ``bits``, W.
        area: area at ``bits``, m².
    """

    tech: Tech
    bits: float
    energy: float
    leakage: float
    area: float

    @property
    def beta(self) -> float:
        """Effective switched capacitance that eq. 5.5 needs to reproduce ``energy``, F."""
        factor = 2.0**self.bits / self.bits + 1.0  # eq. 5.5 in plain Python: no tracing here
        return self.energy / (factor * self.tech.vdd**2)


CALIBRATIONS = {
    # figures.md 1.4 (PUMA constants.py): 0.00350625 mW x 1 ns, 0.000390625 mW leakage;
    # figures.md 2.2 (ISAAC Table I): 1024 DACs take 0.00017 mm².
    # ISAAC Table I and the PUMA simulator are at DEFAULT_TECH: 32 nm, 0.9 V (figures.md 1 and 2).
    "isaac": Calibration(
        DEFAULT_TECH, 1.0, 0.00350625 * u.mW * u.ns, 0.000390625 * u.mW, 0.00017 * u.mm2 / 1024
    ),
    # figures.md 3 (Accelergy library, brahms_dac): 8 bit, 0.291 pJ per convert, 438 um², no leak.
    "brahms": Calibration(BRAHMS_TECH, 8.0, 0.291 * u.pJ, 0.0, 438 * u.um2),
}


def resolution_factor(bits):
    """``2^N / N + 1``, the resolution dependence of DAC power (eq. 5.5); dimensionless."""
    bits = jnp.asarray(bits, dtype=float)
    return 2.0**bits / bits + 1.0


@pytree_dataclass
class DAC:
    """One digital-to-analog converter or row driver (a pytree).

    Attributes:
        bits: resolution N, bits (continuous knob in [1, 16]; 1 is a row driver, an inverter).
        sample_rate: conversion clock f, Hz (knob in [1e3, 1e11]); one conversion takes 1/f.
        tech: technology node and supply (nested pytree); ``tech.vdd`` is eq. 5.5's ``V``.
        beta: effective switched capacitance at the calibration's node, F (knob, > 0);
            ``None`` takes the calibration's value (1.443 fF for ``"isaac"``).
        calibration: ``"isaac"`` or ``"brahms"`` (static; see the module docstring).
    """

    bits: Knob = 1.0
    sample_rate: Knob = DEFAULT_SAMPLE_RATE
    tech: Tech = DEFAULT_TECH
    beta: Knob | None = None
    calibration: str = static_field("isaac")

    def __post_init__(self):
        validate.check_choice("calibration", self.calibration, tuple(CALIBRATIONS))
        check_tech(self.tech)
        beta = CALIBRATIONS[self.calibration].beta if self.beta is None else self.beta
        object.__setattr__(self, "beta", validate.check_positive("beta", beta, unit="F"))
        object.__setattr__(self, "bits", validate.check_range("bits", self.bits, *BITS_RANGE))
        rate = validate.check_range("sample_rate", self.sample_rate, *SAMPLE_RATE_RANGE, unit="Hz")
        object.__setattr__(self, "sample_rate", rate)


@functools.cache
def _capacitance_factor(src_nm: float, src_flavor: str, dst_nm: float, dst_flavor: str) -> float:
    """Switched capacitance at ``dst`` per farad at ``src``: E ratio / V² ratio at nominal supplies."""
    src, dst = Tech(src_nm, None, src_flavor), Tech(dst_nm, None, dst_flavor)
    return float(scale_energy(1.0, src, dst)) * (src.vdd / dst.vdd) ** 2


def switched_capacitance(dac: DAC):
    """``beta`` moved to the DAC's node, F (scalar or the shape of ``dac.beta``)."""
    anchor = CALIBRATIONS[dac.calibration].tech
    factor = _capacitance_factor(anchor.node_nm, anchor.flavor, dac.tech.node_nm, dac.tech.flavor)
    return dac.beta * factor


def conversion_energy(dac: DAC):
    """Dynamic energy of one conversion, ``beta (2^N / N + 1) V²`` (eq. 5.5 over f), J."""
    return switched_capacitance(dac) * resolution_factor(dac.bits) * dac.tech.checked_vdd() ** 2


def _size_factor(dac: DAC):
    """``2^(N - N_0)``: capacitor-array size relative to the calibration's resolution."""
    return 2.0 ** (dac.bits - CALIBRATIONS[dac.calibration].bits)


def area(dac: DAC):
    """Silicon area of one DAC, m²."""
    calibration = CALIBRATIONS[dac.calibration]
    return scale_area(calibration.area * _size_factor(dac), calibration.tech, dac.tech)


def leakage(dac: DAC):
    """Leakage power of one DAC, W."""
    calibration = CALIBRATIONS[dac.calibration]
    return scale_power(calibration.leakage * _size_factor(dac), calibration.tech, dac.tech)


def power(dac: DAC):
    """Power of one DAC converting continuously at ``sample_rate``, W (eq. 5.5 plus leakage)."""
    return conversion_energy(dac) * dac.sample_rate + leakage(dac)


def conversion(dac: DAC) -> Cost:
    """One conversion of one DAC.

    Returns:
        Cost: ``energy`` per conversion (J), ``latency`` one clock period ``1 / f`` (s), the
        DAC's ``area`` (m²) and ``leakage`` (W).
    """
    return Cost(conversion_energy(dac), 1.0 / dac.sample_rate, area(dac), leakage(dac))


def _check_count(name: str, value):
    return validate.check_range(name, value, low=1.0)


def _hold(dac: DAC, name: str, hold_time):
    """Hold time, s; ``None`` is one clock period.

    A concrete hold shorter than one conversion period ``1 / f`` raises (the DAC cannot convert
    in less); a traced one is charged pro rata, ``P x hold``, which stays finite and smooth.
    """
    period = 1.0 / dac.sample_rate
    if hold_time is None:
        return period
    hold_time = validate.check_positive(name, hold_time, unit="s")
    if not validate.is_traced((hold_time, period)) and np.any(
        np.asarray(hold_time) < np.asarray(period) * (1 - 1e-6)
    ):
        raise ValueError(
            f"{name}={hold_time!r} s is shorter than one conversion period 1/sample_rate = {period!r} s"
        )
    return hold_time


def _held(dac: DAC, hold_time, name: str) -> Cost:
    hold = _hold(dac, name, hold_time)
    one = conversion(dac)
    return Cost(one.energy * dac.sample_rate * hold, hold, one.area, one.leakage)


def held(dac: DAC, hold_time=None) -> Cost:
    """One DAC converting once and holding its output for ``hold_time``.

    Args:
        dac: the converter.
        hold_time: how long the output is held, s (>= ``1 / sample_rate``); ``None`` is one
            clock period. The DAC is charged its eq. 5.5 power for the whole hold.

    Returns:
        Cost: ``energy`` ``P x hold`` (J), ``latency`` ``hold`` (s), ``area`` (m²), ``leakage`` (W).
    """
    return _held(dac, hold_time, "hold_time")


def drive_rows(dac: DAC, rows, input_bits, hold_time=None, mode: str = "ste") -> Cost:
    """Stream an ``input_bits``-bit input into ``rows`` crossbar rows, ``dac.bits`` bits at a time.

    Each row has its own DAC; the input takes ``ceil(input_bits / bits)`` streams (through
    :func:`hwjax.relax.ceil` with ``mode``), each held for ``hold_time`` (the crossbar read
    cycle, e.g. ISAAC's 100 ns; ``None`` is one clock period, the PUMA simulator's accounting).

    Args:
        dac: the per-row converter.
        rows: number of rows driven at once (>= 1; scalar or array).
        input_bits: input precision, bits (in [1, 64]).
        hold_time: hold per stream, s (>= ``1 / sample_rate``), or ``None``.
        mode: ``"exact"``, ``"ste"`` or ``"smooth"`` for the stream count.

    Returns:
        Cost of the whole input: ``energy`` J, ``latency`` s, ``area`` m² and ``leakage`` W of
        the ``rows`` DACs.
    """
    rows = _check_count("rows", rows)
    input_bits = validate.check_range("input_bits", input_bits, *INPUT_BITS_RANGE)
    streams = relax.ceil(input_bits / dac.bits, mode=mode)
    return repeat(replicate(_held(dac, hold_time, "hold_time"), rows), streams)


def pulse_slots(bits):
    """Unit slots in one pulse-width-modulated cycle, ``2^m - 1`` (the largest m-bit value)."""
    return 2.0 ** jnp.asarray(bits, dtype=float) - 1.0


def pulse_width(dac: DAC, rows, slot_time=None) -> Cost:
    """One pulse-width-modulated cycle on ``rows`` rows (dissertation section 5.3.1).

    An ``m = dac.bits``-bit value ``v`` is a pulse of ``v`` unit slots at one amplitude, so the
    cycle lasts ``2^m - 1`` slots; each row DAC is charged its power for the whole cycle.

    Args:
        dac: the per-row driver (``bits`` = ``m``, 1 for PANTHER's inverters).
        rows: rows pulsed at once (>= 1).
        slot_time: unit pulse, s (>= ``1 / sample_rate``; the device's unit update pulse);
            ``None`` is one clock period.

    Returns:
        Cost: ``energy`` J, ``latency`` (the cycle) s, ``area`` m², ``leakage`` W of the ``rows`` DACs.
    """
    rows = _check_count("rows", rows)
    slot = _hold(dac, "slot_time", slot_time)
    return replicate(_held(dac, slot * pulse_slots(dac.bits), "slot_time"), rows)


def pulse_amplitude(dac: DAC, cols, hold_time=None) -> Cost:
    """``cols`` columns driven with pulse-amplitude-modulated voltages (section 5.3.1).

    Each column DAC converts one ``dac.bits``-bit chunk into a voltage and holds it for
    ``hold_time`` (the row pulse of the same cycle).

    Args:
        dac: the per-column converter (PANTHER: p = 4 bits).
        cols: columns driven at once (>= 1), e.g. columns x weight slices.
        hold_time: hold, s (>= ``1 / sample_rate``), or ``None`` for one clock period.

    Returns:
        Cost: ``energy`` J, ``latency`` s, ``area`` m², ``leakage`` W of the ``cols`` DACs.
    """
    cols = _check_count("cols", cols)
    return replicate(held(dac, hold_time), cols)


def outer_product_update(
    row_dac: DAC, col_dac: DAC, rows, cols, input_bits, slices=1.0, slot_time=None, mode: str = "ste"
) -> Cost:
    """Drive one outer-product (OPA) weight update of a ``rows x cols`` crossbar (section 5.3.1).

    The ``input_bits``-bit row input streams ``m = row_dac.bits`` bits per cycle over
    ``ceil(input_bits / m)`` cycles (:func:`hwjax.relax.ceil` with ``mode``); in each cycle the
    rows get a pulse-width-modulated pulse (:func:`pulse_width`) while the shifted column input,
    cut into ``p = col_dac.bits``-bit chunks, is held on the columns of each of the ``slices``
    weight-slice crossbars (:func:`pulse_amplitude`).

    Args:
        row_dac, col_dac: the row and column converters.
        rows, cols: crossbar rows and columns (>= 1).
        input_bits: row input precision, bits (in [1, 64]; PANTHER: 16).
        slices: weight-slice crossbars that receive column chunks (>= 1; PANTHER: 8).
        slot_time: unit pulse width, s (>= ``1 / row_dac.sample_rate``, and the row pulse must
            last at least one column-DAC period), or ``None`` for one row-DAC period.
        mode: ``"exact"``, ``"ste"`` or ``"smooth"`` for the cycle count.

    Returns:
        Cost of the DACs for the whole update: ``energy`` J, ``latency`` s, ``area`` m² and
        ``leakage`` W of all row and column DACs.
    """
    input_bits = validate.check_range("input_bits", input_bits, *INPUT_BITS_RANGE)
    slices = _check_count("slices", slices)
    rows_cycle = pulse_width(row_dac, rows, slot_time)
    cols = _check_count("cols", cols) * slices
    cols_cycle = replicate(_held(col_dac, rows_cycle.latency, "slot_time"), cols)
    cycles = relax.ceil(input_bits / row_dac.bits, mode=mode)
    return repeat(parallel(rows_cycle, cols_cycle), cycles)
