"""SRAM compute-in-memory bank: TIMON's register-file sub-banks computing dot products in place.

TIMON (dissertation chapter 6) turns a GPGPU register-file bank into a tensor core. A bank has
``sub_banks`` sub-banks (8 in TIMON) of ``wordlines x bitlines`` 8T SRAM cells (128 x 128, 2 KB).
The stationary matrix sits in the cells; one row of the streaming matrix (the *input vector*)
sits in the input register (IR) of the row peripheral (section 6.4.2, Fig. 6.7).

**d-t-l specification** (section 6.4.3). Per stream the row peripheral converts ``d`` input
elements of ``t`` bits (the stream width) to analog wordline voltages, ``d`` wordlines (the DP
width) discharge all bitlines at once, the scale-reduce unit (SRU) merges groups of ``l`` bitlines
(the slice width) into analog dot products and shared ADCs of resolution ``log2(d) + t*l``
digitize them; shift-and-add (S&A) units accumulate the streams and slices into the output
register (OR). A ``B_in``-bit input takes ``ceil(B_in / t)`` streams and a ``B_w``-bit weight
``ceil(B_w / l)`` slices (section 6.6.1).

**Chunks** (section 6.5). The ``d x N`` stationary matrix is cut into ``s`` chunks of ``d / s``
rows placed side by side along the bitlines; the chunks are evaluated one after another
(``s`` row steps per stream, so row-peripheral energy per MAC grows by ``s``) and the SRU adds
their dot products before the ADC (same resolution). TIMON's K-variants use ``s = 4`` and 32
ADCs per bank: 1024 bitlines give ``1024 / 4 = 256`` analog outputs per stream, 8 per ADC.

**Latency** (section 6.4.3). The datapath is a 4-stage pipeline over the streams, limited by the
shared ADCs, so one input vector takes ``(#streams + 3) x (#outputs / #ADC) x ADC latency``.
hwjax takes the stage time as the larger of the ADC stage and the other stages, which last ``s``
clock cycles each (section 6.7.1: "Stage0/Stage1 being #chunk = 4 cycles, Stage2 ... 8 cycles").
The default clock is the RTX 2080 Ti base clock of 1.35 GHz (NVIDIA's specification; TIMON's
timing comes from that GPU), and the default ADC rate makes one 7-bit K64 conversion last one
cycle, which reproduces 6.7.1's 8-cycle ADC stage, twice the other stages.

**Energy** per input vector, in three parts (Fig. 6.9's distribution):

* *row peripheral*: IR reads (``d t`` bits per stream; PUMA's 128-entry crossbar input register,
  figures.md 1.7: 1.7 pJ per 128-bit read), steer logic (1 fJ per driven wordline and stream
  bit at 45 nm, hwjax's estimate for a gate plus a few um of local wire), one ``t``-bit DAC per
  wordline (:mod:`hwjax.components.dac`, ISAAC calibration), and the read wordlines. Steer
  logic, DACs and wordlines switch only on the ``d / s`` rows of each row step in each sub-bank:
  the other rows "see 0 V" (section 6.4.2), and a DAC held at 0 V switches no capacitance
  (:mod:`dac`'s switched-capacitance model). The energy of the wordlines is
  ``C_RWL V² x input density`` with ``C_RWL = bitlines x 0.25 fF`` (a 45 nm read-port gate of
  about 0.1 fF plus about 0.15 fF of wire per cell pitch; hwjax's estimate);
* *SRAM array*: bitline charge, ``C_BL V_dd dV`` per bitline and row step, with
  ``C_BL = wordlines x 0.15 fF`` (45 nm drain junction plus wire per cell, within the usual
  0.1-0.2 fF) and a swing of 4 mV per unit product (``0.5 V / 128``: a full 128-row 1-bit step
  uses half the supply, the linear range of the read port), plus the read current of the cells,
  ``cell_energy`` per unit product (1-bit input x 1-bit weight) evaluated;
* *column peripheral*: the SRU (bitline sensing, ``sense_energy`` per bitline and row step, plus
  the binary-weighted copies of the bitline currents for ``l > 1``, ``(2^l - 1) / l - 1`` times the
  cell energy), the ADCs (:mod:`hwjax.components.adc`, ``calibration="timon"``), S&A (the PUMA
  simulator's shift-and-add, figures.md 1.6: 0.045 pJ per conversion) and the OR writes
  (``output_bits`` per output at the IR's energy per bit).

The PUMA/ISAAC peripheral constants (the energies of the IR and OR registers, DAC and S&A, and
the leakage of the registers and S&A) are taken at 45 nm unscaled, exactly as Table 6.3 takes
their areas (see **Area**): the dissertation evidently reused the 32 nm constants as its 45 nm
peripherals, so hwjax does so consistently.

Unit products per evaluated cell are ``input_density x (2^t - 1) x weight_density`` (the mean
input level times the probability that the stored bit is 1).

**Calibration of the read path.** Jaiswal et al.'s HSPICE values for the 8T current-mode read
(TIMON's source for DAC, SRAM and SRU energies) are not published in the seeds, so ``cell_energy``
and ``sense_energy`` (at 45 nm) are fitted, on first use, to two published numbers: the ADC's
59.6% of K64's energy (section 6.7.4, from Fig. 6.9) and the 3.91 / 0.85 = 4.6x fall of energy per
MAC from DP width 4 to 128 (Fig. 6.17(a): TIMON's dynamic-energy gain over the fixed Turing tensor
core). Both use dynamic energy, the K-variant configuration (``t = l = 1``, ``s = 4``, 32 ADCs,
16-bit operands) and the default densities. Pass values to override them.

The published split is not reachable exactly with non-negative energies. Per 16-bit MAC at K64
(fJ, 45 nm) the 7-bit ADC on the survey's lower envelope (:mod:`adc`, ``"timon"``: 0.128 pJ of
dynamic energy per conversion, 4 conversions per MAC) costs 511, and the fixed terms S&A 180
(4 x 45), wordlines 128 (8 driven wordlines per MAC x 0.5 x 32 fF x 1 V²), DAC 28, IR 13, SL 8,
OR 7 and bitlines 5 already make 369: the ADC share is at most 511 / 880 = 58.1% < 59.6%, and
any cell or sense energy lowers it. The same terms give a 5.5x fall from d = 4 (4.31 pJ per MAC:
64 conversions of the 3-bit ADC, 18 fJ each, plus 64 S&A) to d = 128 (0.78 pJ). So the fit
minimises the sum of both targets' squared relative errors over non-negative energies: cell
energy 1.4 fJ per unit product, no sense energy, the share 52.8% (-6.8 points) and the fall 5.07x
(+10%) (:func:`timon_split_errors`).

**Area** follows Table 6.3 (45 nm), whose rows equal ISAAC's 32 nm constants (figures.md 2.2),
evidently reused unscaled; hwjax anchors them at 45 nm as Table 6.3 states: the IR is
``wordlines x input_bits`` bits (256 B, 0.00077 mm²), the OR ``outputs x output_bits`` bits at
the same area per bit (64 B, 0.00019 mm²), the steer logic 0.00006 mm² per 128 wordlines, one
DAC per wordline (0.00017 mm² per 1024, growing as ``2^(t - 1)`` like :mod:`dac`), one S&A per
ADC (0.00192 mm² per 32) and the ADCs from :mod:`adc` (0.1056 mm² for 32 at 7 bits). The SRU
has no area (Table 6.3: a logical unit at ``l = 1``; hwjax's assumption for ``l > 1``) and the
SRAM cells are the host register file's, not counted (as in Table 6.3).

**Leakage** (W): the ADCs' and DACs' own, the PUMA S&A's (figures.md 1.6: 0.005 mW) and the
registers' (figures.md 1.7: 0.04 mW per 128 x 16-bit input register), taken at 45 nm and
scaled to ``tech``.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import relax, validate
from hwjax import units as u
from hwjax._pytree import Knob, pytree_dataclass, static_field
from hwjax.components import adc, dac
from hwjax.cost import Cost, Report, total
from hwjax.tech import DEFAULT_TECH, Tech, check_tech, scale_area, scale_energy, scale_power

ADC_KINDS = ("sar", "tunable_sar")
ADC_BITS_RANGE = adc.BITS_RANGE
WIDTH_RANGE = (1.0, 16.0)  # stream and slice widths, bits
OPERAND_BITS_RANGE = (1.0, 32.0)
OUTPUT_BITS_RANGE = (1.0, 64.0)
CHUNKS_RANGE = (1.0, 64.0)
CLOCK_RATE_RANGE = (1e6, 1e11)  # Hz
ARRAY_SIZE_RANGE = (1, 4096)  # wordlines and bitlines per sub-bank
#: Pipeline stages besides the streams (section 6.4.3: ``#streams + 3``).
PIPELINE_FILL = 3.0

#: RTX 2080 Ti base clock (NVIDIA specification); TIMON's timing comes from this GPU (6.7.1).
CLOCK_RATE = 1.35 * u.GHz
#: K64 converts 7 bits (log2(64) + 1); one conversion per clock gives 6.7.1's 8-cycle ADC stage.
K64_ADC_BITS = 7.0
#: ``adc`` "timon" rates name the 8-bit reference; this one makes a 7-bit conversion one cycle.
ADC_SAMPLE_RATE = CLOCK_RATE * float(adc.timon_law(K64_ADC_BITS) / adc.timon_law(8.0))

# Table 6.3 (45 nm) areas; the IR holds 128 x 16-bit inputs (256 B), the OR 16 x 32-bit outputs.
REGISTER_AREA_PER_BIT = 0.00077 * u.mm2 / (128 * 16)
STEER_AREA_PER_WORDLINE = 0.00006 * u.mm2 / 128
DAC_AREA = 0.00017 * u.mm2 / 1024
SHIFT_ADD_AREA = 0.00192 * u.mm2 / 32

# figures.md 1.7: PUMA crossbar input register (128 entries): 1.7 mW x 1 ns per read of
# 128 x 1 bit, 0.04 mW leakage for 128 x 16 bits; 32 nm values, taken at 45 nm (Table 6.3).
REGISTER_ENERGY_PER_BIT = 1.7 * u.mW * u.ns / 128
REGISTER_LEAKAGE_PER_BIT = 0.04 * u.mW / (128 * 16)
# figures.md 1.6: PUMA shift-and-add, 0.045 mW x 1 ns dynamic and 0.005 mW leakage; 32 nm values,
# taken at 45 nm (Table 6.3 takes the S&A area unscaled too).
SHIFT_ADD_ENERGY = 0.045 * u.mW * u.ns
SHIFT_ADD_LEAKAGE = 0.005 * u.mW

# hwjax's 45 nm estimates (see the module docstring).
STEER_ENERGY_PER_BIT = 1.0 * u.fJ
WORDLINE_CAPACITANCE_PER_CELL = 0.25 * u.fF
BITLINE_CAPACITANCE_PER_CELL = 0.15 * u.fF
SWING_PER_UNIT = 0.5 * u.V / 128

#: Section 6.7.4: ADC energy is 59.6% of K64's energy.
K64_ADC_SHARE = 0.596
#: Fig. 6.17(a): energy gain over Turing 0.85x at DP width 4 and 3.91x at 128.
DP_WIDTH_ENERGY_GAIN = (4.0, 0.85, 128.0, 3.91)


@pytree_dataclass
class SRAMCIMBank:
    """A register-file bank of ``sub_banks`` SRAM sub-banks computing in memory (a pytree).

    The defaults are TIMON's K64 variant (sections 6.5 and 6.7.1).

    Attributes:
        dp_width: DP width ``d``, rows summed per dot product (knob, >= 1; ``d / chunks`` rows
            per row step must lie in ``[1, wordlines]``).
        stream_width: input bits per stream ``t`` (knob in [1, 16]).
        slice_width: weight bits per slice ``l`` (knob in [1, 16]); ``log2(d) + t*l`` must lie
            in [1, 16] bits.
        adcs: ADCs shared by the bank's analog outputs (knob, >= 1).
        chunks: chunks ``s`` of the stationary matrix (knob in [1, 64]; ``chunks x slice_width
            x slices`` must not exceed ``bitlines``).
        input_bits, weight_bits: operand precisions, bits (knobs in [1, 32]).
        output_bits: accumulator width of each output, bits (knob in [1, 64]).
        adc_sample_rate: ``adc`` "timon" rate of the 8-bit reference, Hz (knob in [1e3, 1e11]).
        clock_rate: pipeline clock, Hz (knob in [1e6, 1e11]); the DACs convert at this rate.
        input_density, weight_density: fractions of input and stored bits that are 1 (knobs
            in [0, 1]).
        cell_energy: read energy per unit product evaluated at 45 nm, J (knob, >= 0); ``None``
            takes the TIMON fit (:func:`timon_read_energies`).
        sense_energy: sensing energy per bitline and row step at 45 nm, J (knob, >= 0);
            ``None`` takes the TIMON fit.
        tech: technology (nested pytree; ``vdd`` is a knob); default 45 nm, 1.0 V.
        wordlines, bitlines: sub-bank size (static ints, default 128 x 128).
        sub_banks: sub-banks per bank, sharing the IR and the ADCs (static int, default 8).
        adc_kind: ``"sar"`` or ``"tunable_sar"`` (static; section 6.6.2).
    """

    dp_width: Knob = 64.0
    stream_width: Knob = 1.0
    slice_width: Knob = 1.0
    adcs: Knob = 32.0
    chunks: Knob = 4.0
    input_bits: Knob = 16.0
    weight_bits: Knob = 16.0
    output_bits: Knob = 32.0
    adc_sample_rate: Knob = ADC_SAMPLE_RATE
    clock_rate: Knob = CLOCK_RATE
    input_density: Knob = 0.5
    weight_density: Knob = 0.5
    cell_energy: Knob | None = None
    sense_energy: Knob | None = None
    tech: Tech = adc.SOI45_TECH
    wordlines: int = static_field(128)
    bitlines: int = static_field(128)
    sub_banks: int = static_field(8)
    adc_kind: str = static_field("sar")

    def __post_init__(self):
        _check_structure(self)
        validate.check_fields(self, {name: (low, high) for name, low, high in _KNOB_RANGES})
        _check_read_energies(self)
        _check_mapping(self)


_KNOB_RANGES = (
    ("dp_width", 1.0, None),
    ("stream_width", *WIDTH_RANGE),
    ("slice_width", *WIDTH_RANGE),
    ("adcs", 1.0, None),
    ("chunks", *CHUNKS_RANGE),
    ("input_bits", *OPERAND_BITS_RANGE),
    ("weight_bits", *OPERAND_BITS_RANGE),
    ("output_bits", *OUTPUT_BITS_RANGE),
    ("adc_sample_rate", *adc.SAMPLE_RATE_RANGE),
    ("clock_rate", *CLOCK_RATE_RANGE),
    ("input_density", 0.0, 1.0),
    ("weight_density", 0.0, 1.0),
)


def _check_structure(bank: SRAMCIMBank) -> None:
    validate.check_choice("adc_kind", bank.adc_kind, ADC_KINDS)
    check_tech(bank.tech)
    for name in ("wordlines", "bitlines"):
        validate.check_range(name, getattr(bank, name), *ARRAY_SIZE_RANGE, integer=True)
    validate.check_range("sub_banks", bank.sub_banks, 1, None, integer=True)


def _check_read_energies(bank: SRAMCIMBank) -> None:
    fitted = None
    for index, name in enumerate(("cell_energy", "sense_energy")):
        value = getattr(bank, name)
        if value is None:
            fitted = timon_read_energies() if fitted is None else fitted
            value = fitted[index]
        object.__setattr__(bank, name, validate.check_nonnegative(name, value, unit="J"))


def _check_mapping(bank: SRAMCIMBank) -> None:
    """Concrete checks of the couplings between knobs (traced values are clamped where used)."""
    if not validate.is_traced((bank.dp_width, bank.stream_width, bank.slice_width)):
        # numpy, not adc_resolution: under jit even concrete jnp operations are staged.
        width = np.asarray(bank.stream_width, float) * np.asarray(bank.slice_width, float)
        bits = np.log2(np.asarray(bank.dp_width, float)) + width
        if np.any(bits < ADC_BITS_RANGE[0]) or np.any(bits > ADC_BITS_RANGE[1]):
            raise ValueError(
                f"ADC resolution log2(dp_width) + stream_width * slice_width = {np.max(bits):g} bits is "
                f"outside the allowed range [{ADC_BITS_RANGE[0]:g}, {ADC_BITS_RANGE[1]:g}] bits"
            )
    if not validate.is_traced((bank.dp_width, bank.chunks)):
        rows = np.asarray(bank.dp_width) / np.asarray(bank.chunks)
        validate.check_range("dp_width / chunks", rows, 1, bank.wordlines, context="(rows per step)")
    if not validate.is_traced((bank.chunks, bank.slice_width, bank.weight_bits)):
        slices = np.ceil(np.asarray(bank.weight_bits) / np.asarray(bank.slice_width))
        width = np.asarray(bank.chunks) * np.asarray(bank.slice_width) * slices
        context = "(bitlines a weight column spans: chunks x slice_width x slices)"
        validate.check_range("chunks x slice_width", width, 1, bank.bitlines, context=context)


def adc_resolution(bank: SRAMCIMBank):
    """ADC resolution ``log2(d) + t * l`` (section 6.4.3), bits (shape of the knobs)."""
    return jnp.log2(bank.dp_width) + bank.stream_width * bank.slice_width


def _adc(bank: SRAMCIMBank) -> adc.ADC:
    bits = adc_resolution(bank)
    return adc.ADC(bits, bank.adc_sample_rate, bank.tech, kind=bank.adc_kind, calibration="timon")


def _dac(bank: SRAMCIMBank) -> dac.DAC:
    return dac.DAC(bank.stream_width, bank.clock_rate, bank.tech)


class _Counts(NamedTuple):
    """Event counts of one input vector on the whole bank (floats; relaxed with ``mode``)."""

    streams: Any  # ceil(input_bits / t)
    steps: Any  # row steps: streams x chunks
    rows: Any  # wordlines active per row step, d / s
    bitline_steps: Any  # bitline evaluations: s steps of bitlines / s each, per stream and sub-bank
    outputs: Any  # analog outputs per stream (ADC conversions)
    per_adc: Any  # conversions per ADC per stream
    columns: Any  # weight columns (digital outputs)
    macs: Any  # full-precision multiply-accumulates
    units: Any  # mean unit products per evaluated cell


def _counts(bank: SRAMCIMBank, mode: str) -> _Counts:
    s, t, width = bank.chunks, bank.stream_width, bank.slice_width
    streams = relax.ceil(bank.input_bits / t, mode=mode)
    slices = relax.ceil(bank.weight_bits / width, mode=mode)
    rows = validate.check_range("dp_width / chunks", bank.dp_width / s, 1.0, float(bank.wordlines))
    span = validate.check_range("chunks x slice_width", s * width * slices, 1.0, float(bank.bitlines))
    outputs = bank.sub_banks * relax.ceil(bank.bitlines / (s * width), mode=mode)
    columns = bank.sub_banks * relax.floor(bank.bitlines / span, mode=mode)
    units = bank.input_density * (2.0**t - 1.0) * bank.weight_density
    return _Counts(
        streams=streams,
        steps=streams * s,
        rows=rows,
        bitline_steps=streams * bank.sub_banks * bank.bitlines,
        outputs=outputs,
        per_adc=relax.ceil(outputs / bank.adcs, mode=mode),
        columns=columns,
        macs=rows * s * columns,
        units=units,
    )


def _at_node(energy, tech: Tech):
    """An energy anchored at TIMON's 45 nm node, moved to ``tech``, J."""
    return scale_energy(energy, adc.SOI45_TECH, tech)


def _from_puma(energy, tech: Tech):
    """A PUMA/ISAAC peripheral constant taken at 45 nm, as Table 6.3 takes their areas, moved to
    ``tech``, J (see the module docstring: TIMON reuses the 32 nm constants unscaled)."""
    return _at_node(energy, tech)


def _register_bit_energy(tech: Tech):
    return _from_puma(REGISTER_ENERGY_PER_BIT, tech)


def _dac_energy(bank: SRAMCIMBank):
    """One conversion of a row DAC, J: :mod:`dac`'s ISAAC value at 32 nm, taken at 45 nm."""
    at_reference = dac.DAC(bank.stream_width, bank.clock_rate, DEFAULT_TECH)
    return _from_puma(dac.conversion_energy(at_reference), bank.tech)


def _row_energies(bank: SRAMCIMBank, n: _Counts) -> dict[str, Any]:
    """Row-peripheral energies per input vector, J (IR, steer logic, DACs, read wordlines)."""
    # Only the d / s rows of the step are driven (section 6.4.2: "other rows see 0 V"); a DAC or
    # steer output held at 0 V switches no capacitance (dac's switched-capacitance model).
    drivers = n.steps * bank.sub_banks * n.rows
    wordline = bank.bitlines * WORDLINE_CAPACITANCE_PER_CELL * adc.SOI45_TECH.vdd**2
    return {
        "IR": n.steps * n.rows * bank.stream_width * _register_bit_energy(bank.tech),
        "SL": drivers * bank.stream_width * _at_node(STEER_ENERGY_PER_BIT, bank.tech),
        "DAC": drivers * _dac_energy(bank),
        "wordlines": drivers * bank.input_density * _at_node(wordline, bank.tech),
    }


def _cell_read_energy(bank: SRAMCIMBank, n: _Counts):
    """Read current of the evaluated cells per input vector, J."""
    return n.bitline_steps * n.rows * n.units * _at_node(bank.cell_energy, bank.tech)


def _array_energies(bank: SRAMCIMBank, n: _Counts) -> dict[str, Any]:
    """SRAM-array energies per input vector, J: bitline charge ``C_BL V dV`` and cell read current."""
    charge = bank.wordlines * BITLINE_CAPACITANCE_PER_CELL * adc.SOI45_TECH.vdd * SWING_PER_UNIT
    return {
        "bitlines": n.bitline_steps * n.rows * n.units * _at_node(charge, bank.tech),
        "cells": _cell_read_energy(bank, n),
    }


def _weighting_factor(slice_width):
    """Extra current of binary-weighted bitline copies, ``(2^l - 1) / l - 1`` (0 at ``l = 1``)."""
    return (2.0**slice_width - 1.0) / slice_width - 1.0


def _column_energies(bank: SRAMCIMBank, n: _Counts, conversion: Cost) -> dict[str, Any]:
    """Column-peripheral energies per input vector, J (SRU, ADC, S&A, OR)."""
    sensing = n.bitline_steps * _at_node(bank.sense_energy, bank.tech)
    weighting = _cell_read_energy(bank, n) * _weighting_factor(bank.slice_width)
    conversions = n.streams * n.outputs
    return {
        "SRU": sensing + weighting,
        "ADC": conversions * conversion.energy,
        "S&A": conversions * _from_puma(SHIFT_ADD_ENERGY, bank.tech),
        "OR": n.columns * bank.output_bits * _register_bit_energy(bank.tech),
    }


def _areas(bank: SRAMCIMBank, n: _Counts, conversion: Cost) -> dict[str, Any]:
    """Table 6.3's area rows for this bank, m²."""
    dac_growth = dac.area(_dac(bank)) / dac.area(dac.DAC(1.0, bank.clock_rate, bank.tech))
    at_45 = {
        "IR": bank.wordlines * bank.input_bits * REGISTER_AREA_PER_BIT,
        "SL": bank.wordlines * STEER_AREA_PER_WORDLINE,
        "DAC": bank.sub_banks * bank.wordlines * DAC_AREA * dac_growth,
        "SRU": 0.0,
        "S&A": bank.adcs * SHIFT_ADD_AREA,
        "OR": n.columns * bank.output_bits * REGISTER_AREA_PER_BIT,
    }
    areas = {name: scale_area(area, adc.SOI45_TECH, bank.tech) for name, area in at_45.items()}
    areas["ADC"] = bank.adcs * conversion.area
    return areas


def _leakages(bank: SRAMCIMBank, n: _Counts, conversion: Cost) -> dict[str, Any]:
    """Leakage power of the bank's peripherals, W (keys as in :func:`_areas`)."""
    register = scale_power(REGISTER_LEAKAGE_PER_BIT, adc.SOI45_TECH, bank.tech)
    return {
        "IR": bank.wordlines * bank.input_bits * register,
        "DAC": bank.sub_banks * bank.wordlines * dac.leakage(_dac(bank)),
        "ADC": bank.adcs * conversion.leakage,
        "S&A": bank.adcs * scale_power(SHIFT_ADD_LEAKAGE, adc.SOI45_TECH, bank.tech),
        "OR": n.columns * bank.output_bits * register,
    }


def stage_latencies(bank: SRAMCIMBank, active_bits=None, mode: str = "ste") -> dict[str, Any]:
    """Latency of the pipeline's stages for one stream, s.

    Args:
        bank: the bank.
        active_bits: tunable SAR only: resolution of each conversion (<= the ADC's bits).
        mode: ``"exact"``, ``"ste"`` or ``"smooth"`` for the conversion counts.

    Returns:
        ``{"adc": conversions per ADC x ADC latency, "other": chunks / clock_rate}``, where
        "other" is each of the row, analog and output stages (section 6.7.1: ``s`` cycles).
    """
    relax.check_mode(mode)
    n = _counts(bank, mode)
    conversion = adc.conversion(_adc(bank), active_bits)
    return {"adc": n.per_adc * conversion.latency, "other": bank.chunks / bank.clock_rate}


def _vector_latency(bank: SRAMCIMBank, n: _Counts, stages: dict[str, Any], mode: str):
    """``(#streams + 3) x stage`` with the stage the slower of the ADC and the other stages, s."""
    stage = relax.maximum(stages["adc"], stages["other"], mode=mode)
    return (n.streams + PIPELINE_FILL) * stage


def _leaf(energy, latency, area=0.0, leakage=0.0, ops=0.0) -> Cost:
    return Cost(energy, latency, area, leakage, ops)


def _part(energies: dict, areas: dict, leakages: dict, latency, ops: dict | None = None) -> Report:
    """A parallel Report of units that all work for the whole vector ``latency``."""
    ops = ops or {}
    items = {
        name: _leaf(energy, latency, areas.get(name, 0.0), leakages.get(name, 0.0), ops.get(name, 0.0))
        for name, energy in energies.items()
    }
    return Report(items, compose="parallel")


def energy_breakdown(bank: SRAMCIMBank, active_bits=None, mode: str = "ste") -> Report:
    """Where one input vector's energy goes, as in Fig. 6.9 (a Report; all units pipelined).

    Args:
        bank: the bank.
        active_bits: tunable SAR only: resolution of each conversion, bits (<= the ADC's).
        mode: ``"exact"``, ``"ste"`` or ``"smooth"`` for the stream, slice and conversion counts.

    Returns:
        A parallel Report ``{"row_peripheral": {IR, SL, DAC, wordlines}, "sram_array":
        {bitlines, cells}, "column_peripheral": {SRU, ADC, S&A, OR}}``. Every leaf carries its
        dynamic energy per vector (J), the vector latency (s; every unit works through the whole
        pipeline, so the parallel total is that latency), its area (m²) and leakage (W);
        ``ops`` (2 per MAC) sits on ``sram_array/cells``. ``total`` equals :func:`mvm`.
    """
    relax.check_mode(mode)
    n = _counts(bank, mode)
    conversion = adc.conversion(_adc(bank), active_bits)
    stages = stage_latencies(bank, active_bits, mode)
    latency = _vector_latency(bank, n, stages, mode)
    areas, leakages = _areas(bank, n, conversion), _leakages(bank, n, conversion)
    parts = {
        "row_peripheral": _part(_row_energies(bank, n), areas, leakages, latency),
        "sram_array": _part(_array_energies(bank, n), {}, {}, latency, {"cells": 2.0 * n.macs}),
        "column_peripheral": _part(_column_energies(bank, n, conversion), areas, leakages, latency),
    }
    return Report(parts, compose="parallel")


def mvm(bank: SRAMCIMBank, active_bits=None, mode: str = "ste") -> Cost:
    """Process one input vector (one row of the streaming matrix) on the bank.

    Args:
        bank: the bank (its stationary matrix holds ``d`` rows and ``columns`` weight columns).
        active_bits: tunable SAR only: resolution of each conversion, bits (section 6.6.2).
        mode: ``"exact"``, ``"ste"`` or ``"smooth"`` for the discrete counts.

    Returns:
        Cost: dynamic ``energy`` per vector (J), ``latency`` ``(#streams + 3) x stage`` (s),
        peripheral ``area`` (m², Table 6.3's rows), ``leakage`` (W) and ``ops`` = 2 x MACs.
    """
    return total(energy_breakdown(bank, active_bits, mode))


def area_breakdown(bank: SRAMCIMBank, mode: str = "ste") -> Report:
    """Table 6.3's area split: ``{IR, SL, DAC, SRU, ADC, S&A, OR}`` (Costs with only ``area``, m²).

    Args:
        bank: the bank.
        mode: ``"exact"``, ``"ste"`` or ``"smooth"`` for the output-register size.
    """
    relax.check_mode(mode)
    areas = _areas(bank, _counts(bank, mode), adc.conversion(_adc(bank)))
    order = ("IR", "SL", "DAC", "SRU", "ADC", "S&A", "OR")
    return Report({name: Cost(0.0, 0.0, areas[name]) for name in order}, compose="parallel")


def _fit_runs(dp_widths, cell_energies, sense_energies) -> tuple[np.ndarray, ...]:
    """Dynamic energy per MAC (total, ADC) of the K-variant, J, one entry per configuration."""
    bank = SRAMCIMBank(dp_width=dp_widths, cell_energy=cell_energies, sense_energy=sense_energies)
    report = energy_breakdown(bank, mode="exact")
    cost = total(report)
    macs = np.asarray(cost.ops) / 2.0
    return np.asarray(cost.energy) / macs, np.asarray(report["column_peripheral", "ADC"].energy) / macs


def _split_errors(cell, sense, base, slopes, adc_k64):
    """Relative errors of (K64's ADC share, the d = 4 / d = 128 energy-per-MAC ratio) against
    section 6.7.4 and Fig. 6.17(a), for arrays of ``cell`` and ``sense`` energies (J)."""
    _, small_gain, _, large_gain = DP_WIDTH_ENERGY_GAIN
    per_mac = base[:, None] + slopes[:, :1] * cell[None] + slopes[:, 1:] * sense[None]
    share = adc_k64 / per_mac[1] / K64_ADC_SHARE - 1.0
    ratio = per_mac[0] / per_mac[2] / (large_gain / small_gain) - 1.0
    return share, ratio


@functools.cache
def timon_read_energies() -> tuple[float, float]:
    """``(cell_energy, sense_energy)`` at 45 nm fitted to TIMON's published energy split, J.

    Energy is linear in both, so two equations fix them: the ADC's share of K64's dynamic
    energy is :data:`K64_ADC_SHARE` (section 6.7.4), and energy per MAC falls from DP width 4
    to 128 by Fig. 6.17(a)'s 3.91 / 0.85 (Turing's energy per MAC is fixed). Where the exact
    solution needs a negative energy (the other peripherals alone leave too little room), the
    two non-negative energies minimise the sum of the squared relative errors of both targets
    (the optimum then lies on an edge ``cell = 0`` or ``sense = 0``; searched on a log grid of
    1 zJ to 1 pJ). :func:`timon_split_errors` reports the residual errors.
    """
    small, small_gain, large, large_gain = DP_WIDTH_ENERGY_GAIN
    probe = 50 * u.fJ  # any scale works: the model is exactly linear in both energies
    widths = np.repeat([small, 64.0, large], 3)
    cells = np.tile([0.0, probe, 0.0], 3)
    senses = np.tile([0.0, 0.0, probe], 3)
    with jax.ensure_compile_time_eval():
        per_mac, adc_per_mac = _fit_runs(widths, cells, senses)
    per_mac = per_mac.astype(float).reshape(3, 3)  # rows: d = small, 64, large; columns: probes
    base, slopes = per_mac[:, 0], (per_mac[:, 1:] - per_mac[:, :1]) / probe
    adc_k64 = float(adc_per_mac[3])
    ratio = large_gain / small_gain
    matrix = np.stack([slopes[1], slopes[0] - ratio * slopes[2]])
    target = np.array([adc_k64 / K64_ADC_SHARE - base[1], ratio * base[2] - base[0]])
    cell, sense = np.linalg.solve(matrix, target)
    if cell >= 0 and sense >= 0:
        return float(cell), float(sense)
    grid = np.concatenate([[0.0], np.logspace(-21.0, -12.0, 1801)])
    candidates = np.concatenate([np.stack([grid, 0 * grid]), np.stack([0 * grid, grid])], axis=1)
    share, fall = _split_errors(candidates[0], candidates[1], base, slopes, adc_k64)
    best = int(np.argmin(share**2 + fall**2))
    return float(candidates[0, best]), float(candidates[1, best])


def timon_split_errors(cell_energy=None, sense_energy=None) -> tuple[float, float]:
    """Relative errors of (K64's ADC share, Fig. 6.17(a)'s 4.6x fall) at the given read energies
    (default: the fit), dimensionless; both 0 where the published split is reachable."""
    fitted = timon_read_energies()
    cell = fitted[0] if cell_energy is None else cell_energy
    sense = fitted[1] if sense_energy is None else sense_energy
    small, _, large, _ = DP_WIDTH_ENERGY_GAIN
    widths = np.array([small, 64.0, large])
    with jax.ensure_compile_time_eval():
        per_mac, adc_per_mac = _fit_runs(widths, np.full(3, cell), np.full(3, sense))
    share = float(adc_per_mac[1] / per_mac[1]) / K64_ADC_SHARE - 1.0
    fall = float(per_mac[0] / per_mac[2]) / (DP_WIDTH_ENERGY_GAIN[3] / DP_WIDTH_ENERGY_GAIN[1]) - 1.0
    return share, fall
