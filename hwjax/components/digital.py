"""Digital CMOS units: integer, fixed- and floating-point adders and multipliers, and the PUMA
core's vector functional unit (VFU), shift-and-add, sample-and-hold, activation, scalar and
control units.

**Arithmetic** (:class:`ArithmeticUnit`) follows Horowitz, "Computing's Energy Problem",
ISSCC 2014, at 45 nm and 0.9 V (figures.md section 4). Bit width is a continuous knob:

* an integer (or fixed-point) adder costs ``a * w`` (ripple/carry-lookahead: one full adder per
  bit), an integer multiplier ``m * w²`` (array multiplier: ``w²`` partial-product cells);
* a floating-point number of ``w`` bits with ``e`` exponent bits has a significand of
  ``s = w - e`` bits (sign dropped, hidden bit added: 11 for fp16, 24 for fp32). A float adder
  costs ``a * (s + e)`` (exponent compare and significand add) plus ``k_add * s log2 s``
  (alignment and normalization barrel shifters); a float multiplier ``m * s²`` (significand
  array) plus ``a * e`` (exponent add) plus ``k_mul * s log2 s`` (normalization and rounding).

Fixed point costs the same as an integer of the same width. ``a`` and ``m`` are fitted to the
integer rows, then ``k_add`` and ``k_mul`` to the fp16/fp32 rows with ``a`` and ``m`` held, each
by least squares on ``log(model / table)`` (:func:`_fit_coefficient`), so every coefficient is
one parameter fitted over two or three table points. The laws reproduce every energy row within
12% (int8 add: -11%; the table prints 0.03 pJ to one digit, itself +-17%). Area uses the same
laws fitted to the table's area column, which figures.md marks **UNCONFIRMED** (not found in any
primary source): treat areas as estimates. Horowitz gives dynamic energy only, so leakage is 0.

**PUMA units** are the PUMA simulator's constants (figures.md 1.6, ``include/constants.py``) at
32 nm and 0.9 V, after the file's own 45 -> 32 nm linear scale for the ALU. The simulator
charges ``pow_dyn x 1 ns`` per access (figures.md 1, ``hw_stats.py``), so each operation's
energy here is that product. A VFU of ``width`` lanes runs a vector of ``n`` elements by temporal
SIMD (dissertation section 3.3.3) in ``ceil(n / width)`` cycles (relaxed by ``mode``); energy is
per element; area and leakage are per lane times ``width``. The S+A, S+H and activation units
follow the same lane rule.

The dissertation's Table 3.5 reports *peak* power, dynamic plus leakage, the simulator's
``compute_pow_peak`` (:func:`peak_power`): VFU lane 1.706667 + 0.192 = 1.90 mW, core control
0.25 mW. Its tile control unit (0.5 mW) is 10x the simulator's ``0.25 x 0.2`` activity =
0.05 mW and is not reproduced; the SFU row (0.055 mW, 0.0006 mm²) has no simulator constant
(the simulator charges scalar ops at the ALU's per-op powers), so :class:`ScalarUnit` takes it
from Table 3.5, split 90% dynamic / 10% leakage like every ISAAC/PUMA CMOS block in figures.md
1.6 (ALU 0.192 of 1.90, S+A 0.005 of 0.05, sigmoid 0.026 of 0.26, S+H 9.7e-7 of 9.7e-6 mW).

**Timing.** Every unit does one operation per lane per clock cycle. The clock period ``cycle``
defaults to PUMA's 1 ns at 32 nm, 0.9 V (figures.md 1: ``cycle_time``), moved to the unit's
technology with :func:`hwjax.scale_delay`; pass ``cycle`` to fix the clock instead. Dynamic
energy per operation does not depend on the clock period.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp
import numpy as np

from hwjax import relax, validate
from hwjax import units as u
from hwjax._pytree import Knob, pytree_dataclass, static_field
from hwjax.cost import Cost, serial
from hwjax.tech import DEFAULT_TECH, Tech, check_tech, scale_area, scale_delay, scale_energy, scale_power

NUMBER_FORMATS = ("int", "fixed", "float")
INT_BITS_RANGE = (1.0, 64.0)
FLOAT_BITS_RANGE = (4.0, 64.0)
EXPONENT_BITS_RANGE = (2.0, 15.0)
MIN_SIGNIFICAND_BITS = 2.0
#: Exponent width of the IEEE 754 binary formats, used when a float unit gives none.
IEEE_EXPONENT_BITS = {16: 5.0, 32: 8.0, 64: 11.0}

#: Horowitz's node and supply (figures.md section 4: 45 nm, 0.9 V).
HOROWITZ_TECH = Tech(45, 0.9, "HP")
# PUMA's units (figures.md 1: vdd = 0.9 V; Table 3.5: 32 nm) are at DEFAULT_TECH.
#: PUMA's clock period at DEFAULT_TECH (figures.md 1: cycle_time = 1 ns).
PUMA_CYCLE = 1.0 * u.ns
#: The simulator charges pow_dyn x 1 ns per access (figures.md 1, hw_stats.py).
PUMA_ENERGY_WINDOW = 1.0 * u.ns

# figures.md section 4 (Horowitz, 45 nm, 0.9 V), energy per operation.
_INT_ADD_BITS = np.array([8.0, 16.0, 32.0])
_INT_ADD_ENERGY = np.array([0.03, 0.05, 0.1]) * u.pJ  # int16 row is [sec] (Sze et al.)
_INT_MUL_BITS = np.array([8.0, 32.0])
_INT_MUL_ENERGY = np.array([0.2, 3.1]) * u.pJ
_FLOAT_BITS = np.array([16.0, 32.0])  # fp16, fp32
_FLOAT_EXPONENT = np.array([5.0, 8.0])
_FP_ADD_ENERGY = np.array([0.4, 0.9]) * u.pJ
_FP_MUL_ENERGY = np.array([1.1, 3.7]) * u.pJ
# figures.md section 4 area column, um² at 45 nm: UNCONFIRMED (not found in a primary source).
_INT_ADD_AREA = np.array([36.0, 67.0, 137.0]) * u.um2
_INT_MUL_AREA = np.array([282.0, 3495.0]) * u.um2
_FP_ADD_AREA = np.array([1360.0, 4184.0]) * u.um2
_FP_MUL_AREA = np.array([1640.0, 7700.0]) * u.um2


def _shifter_bits(significand, log2=jnp.log2):
    """Barrel-shifter size ``s log2 s`` (``s`` bits through ``log2 s`` mux stages)."""
    return significand * log2(significand)


def _fit_coefficient(target, shape, known=0.0) -> float:
    """``k`` minimizing ``sum(log((known + k * shape) / target)²)`` (Gauss-Newton on ``log k``).

    With ``known = 0`` this is the geometric mean of ``target / shape``, reached at once.
    """
    target, shape = np.asarray(target, float), np.asarray(shape, float)
    known = np.broadcast_to(np.asarray(known, float), target.shape)
    log_k = np.mean(np.log((target - known) / shape))
    for _ in range(50):
        model = known + np.exp(log_k) * shape
        sensitivity = np.exp(log_k) * shape / model
        log_k -= np.sum(sensitivity * np.log(model / target)) / np.sum(sensitivity**2)
    return float(np.exp(log_k))


@dataclasses.dataclass(frozen=True)
class _Laws:
    """Coefficients of the bit-width laws at 45 nm: J (or m²) per bit, per bit², per shifter bit."""

    adder: float
    multiplier: float
    fp_add_shifter: float
    fp_mul_shifter: float


def _fit_laws(int_add, int_mul, fp_add, fp_mul) -> _Laws:
    """Fit the four coefficients to one column (energy or area) of figures.md section 4."""
    adder = _fit_coefficient(int_add, _INT_ADD_BITS)
    multiplier = _fit_coefficient(int_mul, _INT_MUL_BITS**2)
    significand = _FLOAT_BITS - _FLOAT_EXPONENT
    shifter = _shifter_bits(significand, np.log2)
    add_known = adder * (significand + _FLOAT_EXPONENT)
    mul_known = multiplier * significand**2 + adder * _FLOAT_EXPONENT
    return _Laws(
        adder=adder,
        multiplier=multiplier,
        fp_add_shifter=_fit_coefficient(fp_add, shifter, add_known),
        fp_mul_shifter=_fit_coefficient(fp_mul, shifter, mul_known),
    )


#: Energy laws (J per op at HOROWITZ_TECH), fitted to Horowitz's energy column.
ENERGY_LAWS = _fit_laws(_INT_ADD_ENERGY, _INT_MUL_ENERGY, _FP_ADD_ENERGY, _FP_MUL_ENERGY)
#: Area laws (m² at 45 nm), fitted to the UNCONFIRMED area column.
AREA_LAWS = _fit_laws(_INT_ADD_AREA, _INT_MUL_AREA, _FP_ADD_AREA, _FP_MUL_AREA)


def _check_cycle(unit) -> None:
    """Validate an optional clock period (``None`` keeps the technology-scaled default)."""
    if unit.cycle is not None:
        object.__setattr__(unit, "cycle", validate.check_positive("cycle", unit.cycle, unit="s"))


def _cycle(unit):
    """Clock period of ``unit``, s: its own, or PUMA's 1 ns moved to its technology."""
    if unit.cycle is not None:
        return unit.cycle
    return scale_delay(PUMA_CYCLE, DEFAULT_TECH, unit.tech)


def _default_exponent_bits(bits):
    if (
        validate.is_traced(bits)
        or np.ndim(bits) != 0
        or int(bits) != bits
        or int(bits) not in IEEE_EXPONENT_BITS
    ):
        raise ValueError(
            f"exponent_bits is required for a float unit unless bits is a concrete "
            f"{sorted(IEEE_EXPONENT_BITS)} (IEEE binary formats); got bits={bits!r}"
        )
    return IEEE_EXPONENT_BITS[int(bits)]


@pytree_dataclass
class ArithmeticUnit:
    """An adder/multiplier of a given number format and width (a pytree).

    Attributes:
        bits: total width ``w``, bits (continuous knob): [1, 64] for ``"int"``/``"fixed"``,
            [4, 64] for ``"float"``. The laws are fitted on 8..32 bits; beyond, they extrapolate.
        exponent_bits: float only, exponent width ``e``, bits (knob in [2, 15]; the significand
            ``bits - exponent_bits`` must keep at least 2 bits). ``None`` takes IEEE's 5, 8 or
            11 for concrete 16, 32 or 64 bits (bfloat16 needs ``exponent_bits=8``).
        number_format: ``"int"``, ``"fixed"`` (costed as an integer of the same width) or
            ``"float"`` (static).
        tech: technology and supply (nested pytree; ``vdd`` is a knob). Defaults to Horowitz's
            45 nm at 0.9 V, where the table is reproduced.
        cycle: clock period, s (knob > 0); ``None`` is PUMA's 1 ns scaled to ``tech``.
    """

    bits: Knob = 16.0
    exponent_bits: Knob | None = None
    number_format: str = static_field("int")
    tech: Tech = HOROWITZ_TECH
    cycle: Knob | None = None

    def __post_init__(self):
        validate.check_choice("number_format", self.number_format, NUMBER_FORMATS)
        check_tech(self.tech)
        _check_cycle(self)
        if self.number_format == "float":
            self._check_float()
        else:
            if self.exponent_bits is not None:
                raise ValueError(
                    f"exponent_bits applies to float units only; number_format={self.number_format!r}"
                )
            object.__setattr__(self, "bits", validate.check_range("bits", self.bits, *INT_BITS_RANGE))

    def _check_float(self):
        bits = validate.check_range("bits", self.bits, *FLOAT_BITS_RANGE)
        exponent = self.exponent_bits
        exponent = _default_exponent_bits(bits) if exponent is None else exponent
        exponent = validate.check_range("exponent_bits", exponent, *EXPONENT_BITS_RANGE)
        if not validate.is_traced((bits, exponent)):
            significand = np.asarray(bits, float) - np.asarray(exponent, float)
            validate.check_range("significand bits (bits - exponent_bits)", significand, MIN_SIGNIFICAND_BITS)
        object.__setattr__(self, "bits", bits)
        object.__setattr__(self, "exponent_bits", exponent)


def _significand(unit: ArithmeticUnit):
    """Significand width ``bits - exponent_bits`` (hidden bit in, sign out), at least 2 bits."""
    significand = jnp.asarray(unit.bits) - unit.exponent_bits
    return validate.check_range("significand bits", significand, MIN_SIGNIFICAND_BITS)


def _add_law(unit: ArithmeticUnit, laws: _Laws):
    """Adder size in the law's units (J or m² at 45 nm) for ``unit``'s format and width."""
    if unit.number_format != "float":
        return laws.adder * unit.bits
    significand = _significand(unit)
    return laws.adder * (significand + unit.exponent_bits) + laws.fp_add_shifter * _shifter_bits(significand)


def _multiply_law(unit: ArithmeticUnit, laws: _Laws):
    """Multiplier size in the law's units (J or m² at 45 nm) for ``unit``'s format and width."""
    if unit.number_format != "float":
        return laws.multiplier * unit.bits**2
    significand = _significand(unit)
    exponent_add = laws.adder * unit.exponent_bits
    return laws.multiplier * significand**2 + exponent_add + laws.fp_mul_shifter * _shifter_bits(significand)


def _arithmetic_cost(unit: ArithmeticUnit, law) -> Cost:
    energy = scale_energy(law(unit, ENERGY_LAWS), HOROWITZ_TECH, unit.tech)
    area = scale_area(law(unit, AREA_LAWS), HOROWITZ_TECH, unit.tech)
    return Cost(energy=energy, latency=_cycle(unit), area=area, leakage=0.0, ops=1.0)


def add(unit: ArithmeticUnit) -> Cost:
    """One addition on ``unit`` (1 op).

    Returns:
        Cost with dynamic ``energy`` per addition (J), ``latency`` one clock cycle (s), the
        adder's ``area`` (m², from the UNCONFIRMED area column), ``leakage`` 0 W and ``ops`` 1.
        Every field is scalar, or shaped like the broadcast knobs.
    """
    return _arithmetic_cost(unit, _add_law)


def multiply(unit: ArithmeticUnit) -> Cost:
    """One multiplication on ``unit`` (1 op); fields as for :func:`add`, for the multiplier."""
    return _arithmetic_cost(unit, _multiply_law)


def _accumulator(unit: ArithmeticUnit, accumulator_bits) -> ArithmeticUnit:
    """The adder of a MAC: the product's full ``2 w`` bits for integers, the same float format."""
    if unit.number_format == "float":
        if accumulator_bits is not None:
            raise ValueError(
                "accumulator_bits applies to int and fixed units; a float MAC adds in its own format"
            )
        return unit
    bits = 2.0 * jnp.asarray(unit.bits) if accumulator_bits is None else accumulator_bits
    bits = validate.check_range("accumulator_bits", bits, *INT_BITS_RANGE)
    return dataclasses.replace(unit, bits=bits)


def mac(unit: ArithmeticUnit, accumulator_bits=None) -> Cost:
    """One multiply-accumulate (2 ops): a multiply, then an add into the accumulator.

    Args:
        unit: the multiplier's format and width.
        accumulator_bits: int/fixed only, accumulator width, bits (in [1, 64]); ``None`` is
            ``2 * unit.bits``, the full product. Float MACs accumulate in the unit's format.

    Returns:
        Cost of the multiply and add in series (two cycles; both units' area), ``ops`` 2.
    """
    return serial(multiply(unit), add(_accumulator(unit, accumulator_bits)))


# ----------------------------------------------------------------------------------------------
# PUMA core units (figures.md 1.6, 32 nm, 0.9 V).


@dataclasses.dataclass(frozen=True)
class _Published:
    """One unit's published row at DEFAULT_TECH, per lane: J per op (pow_dyn x 1 ns), W, m²."""

    energy: float
    leakage: float
    area: float


#: VFU (ALU) lane energy per element by op (figures.md 1.6: div 1.52, mul 0.795, others 0.373
#: mW, each x 32/45), J.
VFU_OP_ENERGY = {
    "div": 1.52 * 32 / 45 * u.mW * PUMA_ENERGY_WINDOW,
    "mul": 0.795 * 32 / 45 * u.mW * PUMA_ENERGY_WINDOW,
    **{
        op: 0.373 * 32 / 45 * u.mW * PUMA_ENERGY_WINDOW
        for op in ("add", "sub", "relu", "logic", "eq", "lsh", "rsh")
    },
}
VFU_OPS = tuple(VFU_OP_ENERGY)
# figures.md 1.6, ALU generic row: peak 2.4, leak 0.27 mW, 0.00567 mm², each x 32/45.
_VFU_LANE = _Published(
    2.4 * 32 / 45 * u.mW * PUMA_ENERGY_WINDOW, 0.27 * 32 / 45 * u.mW, 0.00567 * 32 / 45 * u.mm2
)
# figures.md 1.6 SNA: pow 0.05 of which 0.005 leak (ISAAC S+A, figures.md 2.1), 0.00006 mm².
_SHIFT_ADD = _Published(0.045 * u.mW * PUMA_ENERGY_WINDOW, 0.005 * u.mW, 0.00006 * u.mm2)
# figures.md 1.6 SNH, one S+H: pow 9.7e-6 of which 9.7e-7 leak mW, 0.00004 / 8 / 128 mm².
_SAMPLE_HOLD = _Published(8.73e-6 * u.mW * PUMA_ENERGY_WINDOW, 9.7e-7 * u.mW, 0.00004 / 8 / 128 * u.mm2)
# figures.md 1.6 activation (ISAAC sigmoid/tanh unit): pow 0.26 of which 0.026 leak, 0.0003 mm².
_ACTIVATION = _Published(0.234 * u.mW * PUMA_ENERGY_WINDOW, 0.026 * u.mW, 0.0003 * u.mm2)
#: Leakage share of peak power in every figures.md 1.6 CMOS block (see the module docstring).
LEAKAGE_SHARE = 0.1
# Dissertation Table 3.5, SFU: 0.055 mW peak, 0.0006 mm² (split by LEAKAGE_SHARE).
_SCALAR = _Published(
    (1 - LEAKAGE_SHARE) * 0.055 * u.mW * PUMA_ENERGY_WINDOW, LEAKAGE_SHARE * 0.055 * u.mW, 0.0006 * u.mm2
)
#: Control units (figures.md 1.6): raw power before the activity factor, W, and area, m².
CONTROL_POWER = {"core": 1.25 * u.mW, "tile": 0.25 * u.mW}
CONTROL_AREA = {"core": 0.00145 * 2.25 * u.mm2, "tile": 0.00145 * u.mm2}
CONTROL_LEVELS = tuple(CONTROL_POWER)
#: Activity factor of the control units (figures.md 1.6: 0.2).
PUMA_CONTROL_ACTIVITY = 0.2


def _check_lanes(unit) -> None:
    check_tech(unit.tech)
    _check_cycle(unit)
    object.__setattr__(unit, "width", validate.check_range("width", unit.width, low=1.0))


@pytree_dataclass
class VFU:
    """PUMA's vector functional unit: ``width`` ALU lanes run by temporal SIMD (a pytree).

    Attributes:
        width: lanes, >= 1 (knob; PUMA's configuration has 4, figures.md 1.1 ``num_ALU``).
        tech: technology and supply (nested pytree; defaults to PUMA's 32 nm, 0.9 V).
        cycle: clock period, s (knob > 0); ``None`` is 1 ns scaled from DEFAULT_TECH to ``tech``.
    """

    width: Knob = 4.0
    tech: Tech = DEFAULT_TECH
    cycle: Knob | None = None

    def __post_init__(self):
        _check_lanes(self)


@pytree_dataclass
class ShiftAdd:
    """Shift-and-add units that combine bit-sliced partial sums (ISAAC/PUMA S+A; a pytree).

    Attributes:
        width: units working in parallel, >= 1 (knob). tech, cycle: as for :class:`VFU`.
    """

    width: Knob = 1.0
    tech: Tech = DEFAULT_TECH
    cycle: Knob | None = None

    def __post_init__(self):
        _check_lanes(self)


@pytree_dataclass
class SampleHold:
    """Sample-and-hold circuits on crossbar columns (a pytree).

    Attributes:
        width: S+H circuits, >= 1 (knob; one per column, 128 for PUMA's 128x128 crossbars).
        tech, cycle: as for :class:`VFU`.
    """

    width: Knob = 128.0
    tech: Tech = DEFAULT_TECH
    cycle: Knob | None = None

    def __post_init__(self):
        _check_lanes(self)


@pytree_dataclass
class Activation:
    """Sigmoid/tanh units (ISAAC's, as in PUMA's VFU; a pytree).

    Attributes:
        width: units working in parallel, >= 1 (knob). tech, cycle: as for :class:`VFU`.
    """

    width: Knob = 1.0
    tech: Tech = DEFAULT_TECH
    cycle: Knob | None = None

    def __post_init__(self):
        _check_lanes(self)


@pytree_dataclass
class ScalarUnit:
    """PUMA's scalar functional unit (SFU) for control-flow integer ops (a pytree).

    Attributes:
        tech, cycle: as for :class:`VFU`.
    """

    tech: Tech = DEFAULT_TECH
    cycle: Knob | None = None

    def __post_init__(self):
        check_tech(self.tech)
        _check_cycle(self)


@pytree_dataclass
class ControlUnit:
    """A core's or tile's control unit (fetch/decode pipeline and registers; a pytree).

    Attributes:
        level: ``"core"`` or ``"tile"`` (static).
        activity: fraction of cycles the logic switches, in (0, 1] (knob; PUMA assumes 0.2).
        tech, cycle: as for :class:`VFU`.
    """

    level: str = static_field("core")
    activity: Knob = PUMA_CONTROL_ACTIVITY
    tech: Tech = DEFAULT_TECH
    cycle: Knob | None = None

    def __post_init__(self):
        validate.check_choice("level", self.level, CONTROL_LEVELS)
        check_tech(self.tech)
        _check_cycle(self)
        activity = validate.check_range("activity", self.activity, 0.0, 1.0, low_open=True)
        object.__setattr__(self, "activity", activity)


def _count(name: str, value):
    """A non-negative count (checked, or clamped when traced) as a float array."""
    return jnp.asarray(validate.check_nonnegative(name, value), dtype=jnp.result_type(float))


def _lane_cost(unit, spec: _Published, energy_per_element, n, mode: str, counts_ops: bool) -> Cost:
    """``n`` elements on ``unit.width`` lanes: ``ceil(n / width)`` cycles, energy per element."""
    relax.check_mode(mode)
    n = _count("n", n)
    cycles = relax.ceil(n / unit.width, mode=mode)
    return Cost(
        energy=n * scale_energy(energy_per_element, DEFAULT_TECH, unit.tech),
        latency=cycles * _cycle(unit),
        area=unit.width * scale_area(spec.area, DEFAULT_TECH, unit.tech),
        leakage=unit.width * scale_power(spec.leakage, DEFAULT_TECH, unit.tech),
        ops=n if counts_ops else 0.0,
    )


def vfu_op(vfu: VFU, n, op: str = "add", mode: str = "ste") -> Cost:
    """A vector operation of ``n`` elements on ``vfu`` (``n`` ops).

    Args:
        vfu: the unit.
        n: vector length, elements (>= 0; may be traced or batched).
        op: ``"add"``, ``"sub"``, ``"mul"``, ``"div"``, ``"relu"``, ``"logic"``, ``"eq"``,
            ``"lsh"`` or ``"rsh"`` (static; sigmoid and tanh are :func:`activation`).
        mode: relaxation of ``ceil(n / width)`` cycles (:mod:`hwjax.relax`).

    Returns:
        Cost: ``energy`` n x per-element energy (J), ``latency`` ceil(n / width) cycles (s),
        ``area`` and ``leakage`` of all lanes (m², W), ``ops`` n. Shaped like ``n``.
    """
    validate.check_choice("op", op, VFU_OPS)
    return _lane_cost(vfu, _VFU_LANE, VFU_OP_ENERGY[op], n, mode, counts_ops=True)


def shift_add(unit: ShiftAdd, n, mode: str = "ste") -> Cost:
    """``n`` shift-and-add steps merging bit-sliced partial sums (0 ops: they are part of the
    MVM whose MACs the crossbar model counts).

    Returns:
        Cost: ``energy`` n x 0.045 pJ at 32 nm (J), ``latency`` ceil(n / width) cycles (s),
        ``area``/``leakage`` of ``width`` units. Shaped like ``n``.
    """
    return _lane_cost(unit, _SHIFT_ADD, _SHIFT_ADD.energy, n, mode, counts_ops=False)


def sample_hold(unit: SampleHold, n, mode: str = "ste") -> Cost:
    """``n`` samples held for conversion (0 ops: part of an MVM).

    Returns:
        Cost: ``energy`` n x 8.73e-6 pJ at 32 nm (J), ``latency`` ceil(n / width) cycles (s),
        ``area``/``leakage`` of ``width`` circuits. Shaped like ``n``.
    """
    return _lane_cost(unit, _SAMPLE_HOLD, _SAMPLE_HOLD.energy, n, mode, counts_ops=False)


def activation(unit: Activation, n, mode: str = "ste") -> Cost:
    """Sigmoid or tanh of ``n`` elements (``n`` ops).

    Returns:
        Cost: ``energy`` n x 0.234 pJ at 32 nm (J), ``latency`` ceil(n / width) cycles (s),
        ``area``/``leakage`` of ``width`` units, ``ops`` n. Shaped like ``n``.
    """
    return _lane_cost(unit, _ACTIVATION, _ACTIVATION.energy, n, mode, counts_ops=True)


def scalar_op(unit: ScalarUnit, n=1.0) -> Cost:
    """``n`` scalar integer operations on the SFU, one per cycle (``n`` ops).

    Returns:
        Cost: ``energy`` n x 0.0495 pJ at 32 nm (J), ``latency`` n cycles (s), the SFU's
        ``area`` (m²) and ``leakage`` (W), ``ops`` n. Shaped like ``n``.
    """
    n = _count("n", n)
    return Cost(
        energy=n * scale_energy(_SCALAR.energy, DEFAULT_TECH, unit.tech),
        latency=n * _cycle(unit),
        area=scale_area(_SCALAR.area, DEFAULT_TECH, unit.tech),
        leakage=scale_power(_SCALAR.leakage, DEFAULT_TECH, unit.tech),
        ops=n,
    )


def _control_energy_per_cycle(unit: ControlUnit):
    """Raw power x activity x 1 ns at 32 nm, moved to ``unit.tech``, J."""
    energy = CONTROL_POWER[unit.level] * PUMA_ENERGY_WINDOW * unit.activity
    return scale_energy(energy, DEFAULT_TECH, unit.tech)


def control(unit: ControlUnit, cycles) -> Cost:
    """Control-unit activity over ``cycles`` clock cycles (0 ops; leakage 0 as in the simulator).

    Args:
        unit: the control unit.
        cycles: cycles the unit is on, >= 0 (may be traced or fractional).

    Returns:
        Cost: ``energy`` cycles x 0.25 pJ (core) or 0.05 pJ (tile) at 32 nm and activity 0.2
        (J), ``latency`` cycles x clock period (s), the unit's ``area`` (m²). Shaped like
        ``cycles``.
    """
    cycles = _count("cycles", cycles)
    area = scale_area(CONTROL_AREA[unit.level], DEFAULT_TECH, unit.tech)
    return Cost(
        energy=cycles * _control_energy_per_cycle(unit),
        latency=cycles * _cycle(unit),
        area=area,
        leakage=0.0,
        ops=0.0,
    )


def _peak_lane_power(unit, spec: _Published):
    dynamic = scale_energy(spec.energy, DEFAULT_TECH, unit.tech) / _cycle(unit)
    return dynamic + scale_power(spec.leakage, DEFAULT_TECH, unit.tech)


def peak_power(unit) -> Any:
    """Peak power of a PUMA unit, W: every lane busy every cycle, plus leakage.

    This is what the dissertation's Table 3.5 lists (the simulator's ``compute_pow_peak``):
    for the VFU, the ALU's generic ``pow_dyn`` per cycle plus ``pow_leak``, per lane x width.

    Args:
        unit: a :class:`VFU`, :class:`ShiftAdd`, :class:`SampleHold`, :class:`Activation`,
            :class:`ScalarUnit` or :class:`ControlUnit`.

    Returns:
        Scalar (or knob-shaped) power, W.
    """
    lanes = {VFU: _VFU_LANE, ShiftAdd: _SHIFT_ADD, SampleHold: _SAMPLE_HOLD, Activation: _ACTIVATION}
    if isinstance(unit, ControlUnit):
        return _control_energy_per_cycle(unit) / _cycle(unit)
    if isinstance(unit, ScalarUnit):
        return _peak_lane_power(unit, _SCALAR)
    if type(unit) not in lanes:
        raise ValueError(
            f"peak_power needs a PUMA unit (VFU, ShiftAdd, SampleHold, Activation, ScalarUnit or "
            f"ControlUnit), got {type(unit).__name__}"
        )
    return unit.width * _peak_lane_power(unit, lanes[type(unit)])
