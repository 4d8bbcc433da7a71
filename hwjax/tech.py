"""CMOS technology nodes, supply voltage and node-to-node scaling of energy, delay and area.

Scaling follows Stillmaker and Baas, "Scaling equations for the accurate prediction of CMOS
device performance from 180 nm to 7 nm", Integration 58 (2017) 74-81: per node (and HP/LP
flavour below 65 nm) the fitted polynomials

* ``delay(V) = a3 V³ + a2 V² + a1 V + a0``
* ``energy(V) = e2 V² + e1 V + e0``
* ``power(V) = p2 V² + p1 V + p0``

and a value moves from ``src`` to ``dst`` as ``x * factor(dst, V_dst) / factor(src, V_src)``.
Coefficients and the area table are those of ``reference/figures.md`` section 6 (taken from
UCLA NanoCAD's ``nodeScale.py``; the 65 nm and HP32 energy rows confirmed by the authors'
erratum). Scaling is differentiable in ``vdd``.

**Nodes between table rows** (e.g. 28 nm or 22 nm): each factor is interpolated linearly in
``log(node)`` between the two neighbouring rows, geometrically (``log(factor)`` linear), because
both node sizes and factors change by roughly constant ratios per generation. The nominal
supply is interpolated the same way, and area factors bilinearly over (log src, log dst).

**Nominal supply voltages** (:data:`NOMINAL_VDD`) are those of the Predictive Technology
Model cards the fits were made from (PTM bulk: 180 nm 1.8 V, 130 nm 1.3 V, 90 nm 1.2 V,
65 nm 1.1 V, HP45 1.0 V, LP45 1.1 V, HP32 0.9 V, LP32 1.0 V; PTM-MG FinFET, HP and LSTP alike:
20 nm 0.9 V, 16 nm 0.85 V, 14 nm 0.8 V, 10 nm 0.75 V, 7 nm 0.7 V; ptm.asu.edu). The paper's
own voltage sweep limits are not in the reference, so hwjax allows, per node,
``[0.6, 1.25] x nominal`` intersected with the interval around nominal where all three fitted
polynomials stay positive (see :func:`vdd_range`).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from hwjax import validate
from hwjax._pytree import Knob, pytree_dataclass, static_field

FLAVORS = ("HP", "LP")
#: Table nodes in nm, largest first. Nodes from 65 nm up have one (bulk) row for both flavours.
NODES = (180, 130, 90, 65, 45, 32, 20, 16, 14, 10, 7)
_BULK_NODES = (180, 130, 90, 65)

# fmt: off
#: Stillmaker-Baas coefficients: (a3, a2, a1, a0, e2, e1, e0, p2, p1, p0), figures.md 6.1.
COEFFICIENTS = {
    "180":  (0.0,     97.09,  -356.7, 406.5,  0.0,     24.64,    -17.98,  0.0,    101000.0, -79720.0),
    "130":  (-76.65,  334.9,  -493.4, 275.8,  7.171,   -6.709,   2.904,   27020.0, -15450.0, 5630.0),
    "90":   (-60.34,  262.5,  -384.2, 210.9,  4.762,   -4.781,   2.092,   17320.0, -11230.0, 4328.0),
    "65":   (-53.3,   230.4,  -333.9, 178.6,  3.755,   -4.398,   1.975,   12890.0, -10510.0, 4362.0),
    "HP45": (-501.6,  1567.0, -1619.0, 566.1, 1.018,   -0.3107,  0.1539,  5462.0, -1760.0,  522.4),
    "HP32": (-1047.0, 2982.0, -2797.0, 873.5, 0.8367,  -0.4341,  0.1701,  4001.0, -1733.0,  533.6),
    "LP45": (-285.7,  1239.0, -1795.0, 898.8, 1.103,   -0.362,   0.2767,  6297.0, -3009.0,  1124.0),
    "LP32": (-325.9,  1374.0, -1922.0, 913.2, 0.9559,  -0.7823,  0.471,   4557.0, -3037.0,  1323.0),
    "HP20": (0.0,     34.63,  -66.37, 41.15,  0.373,   -0.1582,  0.04104, 2922.0, -1286.0,  299.9),
    "HP16": (0.0,     24.8,   -47.52, 28.87,  0.2958,  -0.1241,  0.03024, 2133.0, -882.6,   197.7),
    "HP14": (-40.66,  109.2,  -100.6, 35.92,  0.2363,  -0.09675, 0.02239, 1675.0, -711.0,   159.0),
    "HP10": (-34.95,  93.65,  -85.99, 30.4,   0.2068,  -0.09311, 0.02375, 1456.0, -621.6,   143.8),
    "HP7":  (-28.58,  76.6,   -70.26, 24.69,  0.1776,  -0.09097, 0.02447, 1179.0, -515.7,   123.4),
    "LP20": (-160.5,  514.1,  -558.6, 217.5,  0.2632,  -0.14,    0.06841, 2096.0, -962.4,   287.1),
    "LP16": (-114.6,  366.7,  -397.4, 153.6,  0.2139,  -0.1187,  0.05639, 1609.0, -715.5,   205.7),
    "LP14": (-85.37,  271.6,  -292.2, 111.4,  0.1556,  -0.06472, 0.03066, 1259.0, -554.1,   152.3),
    "LP10": (-71.76,  228.6,  -246.3, 93.91,  0.1261,  -0.0518,  0.02769, 1046.0, -422.7,   118.9),
    "LP7":  (-61.79,  196.1,  -210.3, 79.55,  0.09365, -0.03409, 0.02043, 815.2,  -307.3,   87.54),
}

#: Area scaling: multiply an area at the row node by AREA_SCALING[row][col] to get it at the
#: column node (figures.md 6.2; columns in the order of NODES).
AREA_SCALING = {
    180: (1,   0.34, 0.15, 0.08, 0.053, 0.025, 0.011, 0.01,  0.0093, 0.0055, 0.0032),
    130: (2.9, 1,    0.44, 0.23, 0.16,  0.072, 0.033, 0.03,  0.027,  0.016,  0.0092),
    90:  (6.6, 2.3,  1,    0.53, 0.35,  0.16,  0.075, 0.067, 0.061,  0.036,  0.021),
    65:  (12,  4.3,  1.9,  1,    0.66,  0.31,  0.14,  0.13,  0.12,   0.068,  0.039),
    45:  (19,  6.4,  2.8,  1.5,  1,     0.46,  0.21,  0.19,  0.17,   0.1,    0.059),
    32:  (40,  14,   6.1,  3.3,  2.2,   1,     0.46,  0.41,  0.38,   0.22,   0.13),
    20:  (88,  30,   13,   7.1,  4.7,   2.2,   1,     0.89,  0.82,   0.48,   0.28),
    16:  (99,  34,   15,   7.9,  5.3,   2.4,   1.1,   1,     0.91,   0.54,   0.31),
    14:  (110, 37,   16,   8.7,  5.8,   2.7,   1.2,   1.1,   1,      0.59,   0.34),
    10:  (180, 63,   28,   15,   9.8,   4.5,   2.1,   1.9,   1.7,    1,      0.58),
    7:   (320, 110,  48,   25,   17,    7.8,   3.6,   3.2,   2.9,    1.7,    1),
}

#: Nominal supply, V, per coefficient row (PTM model cards; see the module docstring).
NOMINAL_VDD = {
    "180": 1.8, "130": 1.3, "90": 1.2, "65": 1.1,
    "HP45": 1.0, "LP45": 1.1, "HP32": 0.9, "LP32": 1.0,
    "HP20": 0.9, "HP16": 0.85, "HP14": 0.8, "HP10": 0.75, "HP7": 0.7,
    "LP20": 0.9, "LP16": 0.85, "LP14": 0.8, "LP10": 0.75, "LP7": 0.7,
}
# fmt: on

#: Allowed supply as a fraction of nominal (hwjax's rule; see the module docstring).
VDD_FRACTION_RANGE = (0.6, 1.25)
_BOLTZMANN = 1.380649e-23  # J/K
_ELEMENTARY_CHARGE = 1.602176634e-19  # C
_TEMPERATURE_RANGE_K = (1.0, 500.0)


def _row_key(node: int, flavor: str) -> str:
    return str(node) if node in _BULK_NODES else f"{flavor}{node}"


def _check_node(node_nm) -> float:
    validate.check_range("node_nm", node_nm, min(NODES), max(NODES), unit="nm")
    return float(node_nm)


def _bracket(node_nm: float) -> tuple[int, int, float]:
    """Table rows around ``node_nm`` (larger, smaller) and the weight of the smaller one.

    The weight is linear in ``log(node)``: 0 at the larger row and 1 at the smaller row.
    """
    if node_nm in NODES:
        node = int(node_nm)
        return node, node, 0.0
    larger = min(n for n in NODES if n > node_nm)
    smaller = max(n for n in NODES if n < node_nm)
    weight = math.log(larger / node_nm) / math.log(larger / smaller)
    return larger, smaller, weight


def _geometric_mix(a, b, weight: float):
    """``a^(1-weight) b^weight``: log-linear interpolation of two positive values."""
    if weight == 0.0:
        return a
    return a ** (1.0 - weight) * b**weight


def nominal_vdd(node_nm: float, flavor: str = "HP") -> float:
    """Nominal supply voltage of a node, V (PTM cards; interpolated between table rows)."""
    validate.check_choice("flavor", flavor, FLAVORS)
    larger, smaller, weight = _bracket(_check_node(node_nm))
    vdd_large = NOMINAL_VDD[_row_key(larger, flavor)]
    vdd_small = NOMINAL_VDD[_row_key(smaller, flavor)]
    return float(_geometric_mix(vdd_large, vdd_small, weight))


@functools.cache
def _positive_interval(key: str) -> tuple[float, float]:
    """Interval around nominal where the fitted delay, energy and power are all positive, V."""
    a3, a2, a1, a0, e2, e1, e0, p2, p1, p0 = COEFFICIENTS[key]
    volts = np.linspace(0.05, 3.0, 5901)
    positive = (
        (np.polyval((a3, a2, a1, a0), volts) > 0)
        & (np.polyval((e2, e1, e0), volts) > 0)
        & (np.polyval((p2, p1, p0), volts) > 0)
    )
    i = int(np.argmin(np.abs(volts - NOMINAL_VDD[key])))
    lo, hi = i, i
    while lo > 0 and positive[lo - 1]:
        lo -= 1
    while hi < len(volts) - 1 and positive[hi + 1]:
        hi += 1
    return float(volts[lo]), float(volts[hi])


def vdd_range(node_nm: float, flavor: str = "HP") -> tuple[float, float]:
    """Allowed supply voltages of a node, V: ``[0.6, 1.25] x nominal`` where the fits are positive.

    For a node between table rows the interval must hold for both neighbouring rows.
    """
    nominal = nominal_vdd(node_nm, flavor)
    low, high = (f * nominal for f in VDD_FRACTION_RANGE)
    larger, smaller, _ = _bracket(float(node_nm))
    for node in {larger, smaller}:
        fit_low, fit_high = _positive_interval(_row_key(node, flavor))
        low, high = max(low, fit_low), min(high, fit_high)
    return round(low, 4), round(high, 4)


@pytree_dataclass
class Tech:
    """A CMOS technology: node, supply voltage, flavour and temperature (a pytree).

    Attributes:
        node_nm: feature size, nm, from 7 to 180 (static: selects the fitted coefficients).
        vdd: supply voltage, V (a leaf: traced, batched and differentiated). ``None`` takes
            :func:`nominal_vdd`. Concrete values must lie in :func:`vdd_range`; traced values
            are clamped into it.
        flavor: ``"HP"`` (high performance) or ``"LP"`` (low power); nodes of 65 nm and above
            have one bulk fit for both (static).
        temperature_k: junction temperature, K (a leaf), used by thermal-noise models through
            :attr:`thermal_voltage`; the Stillmaker-Baas fits themselves are at nominal
            temperature.
    """

    node_nm: float = static_field()
    vdd: Knob | None = None
    flavor: str = static_field("HP")
    temperature_k: Knob = 300.0

    def __post_init__(self):
        validate.check_choice("flavor", self.flavor, FLAVORS)
        object.__setattr__(self, "node_nm", _check_node(self.node_nm))
        if self.vdd is None:
            object.__setattr__(self, "vdd", nominal_vdd(self.node_nm, self.flavor))
        object.__setattr__(self, "vdd", self.checked_vdd())
        temperature = validate.check_range(
            "temperature_k", self.temperature_k, *_TEMPERATURE_RANGE_K, unit="K"
        )
        object.__setattr__(self, "temperature_k", temperature)

    def checked_vdd(self):
        """``vdd`` checked against :func:`vdd_range` (raises if concrete, clamps if traced)."""
        low, high = vdd_range(self.node_nm, self.flavor)
        context = f"for node {self.node_nm:g} nm {self.flavor}"
        return validate.check_range("vdd", self.vdd, low, high, unit="V", context=context)

    @property
    def thermal_voltage(self):
        """``k T / q``, V (about 25.9 mV at 300 K)."""
        return _BOLTZMANN * self.temperature_k / _ELEMENTARY_CHARGE

    @property
    def nominal_vdd(self) -> float:
        """Nominal supply of this node and flavour, V."""
        return nominal_vdd(self.node_nm, self.flavor)


#: hwjax's default technology: 32 nm HP at its nominal 0.9 V, the node of the PUMA simulator's and
#: ISAAC's published numbers (figures.md 1 and 2). Every component and model that takes a ``tech``
#: defaults to it unless its source is at another node, and the calibrations from those sources
#: are anchored at it.
DEFAULT_TECH = Tech(32, 0.9, "HP")


def check_tech(tech, name: str = "tech") -> Tech:
    """Return ``tech`` if it is a :class:`Tech`; otherwise raise ``ValueError`` naming ``name``."""
    if not isinstance(tech, Tech):
        raise ValueError(f"{name} must be a hwjax.Tech, got {type(tech).__name__}")
    return tech


@functools.cache
def _shifted_coefficients(key: str, first: int, last: int) -> tuple[float, ...]:
    """Coefficients of one fitted polynomial in powers of ``(V - V_nominal)``, highest first.

    The fits' raw coefficients are large and of alternating sign (HP32 delay: -1047 V³ +
    2982 V² - 2797 V + 873.5 ~ 8 at 0.9 V), so evaluating them in float32 loses about four
    digits to cancellation. Re-expanding about the nominal supply (in float64, once) keeps
    every term small near the operating point.
    """
    poly = np.polynomial.Polynomial(COEFFICIENTS[key][first:last][::-1])
    nominal = NOMINAL_VDD[key]
    shifted = poly(np.polynomial.Polynomial([nominal, 1.0]))
    return tuple(float(c) for c in shifted.coef[::-1])


def _polynomial_factor(tech: Tech, first: int, last: int):
    """One fitted polynomial (coefficients ``first:last``) at ``tech.vdd``, node-interpolated."""
    check_tech(tech)
    vdd = tech.checked_vdd()
    larger, smaller, weight = _bracket(tech.node_nm)

    def at(node: int):
        key = _row_key(node, tech.flavor)
        offset = vdd - NOMINAL_VDD[key]
        value = 0.0
        for c in _shifted_coefficients(key, first, last):  # Horner's rule, highest power first
            value = value * offset + c
        return value

    return _geometric_mix(at(larger), at(smaller), weight) if weight else at(larger)


def delay_factor(tech: Tech):
    """Stillmaker-Baas delay polynomial at ``tech`` (relative units; only ratios matter)."""
    return _polynomial_factor(tech, 0, 4)


def energy_factor(tech: Tech):
    """Stillmaker-Baas energy polynomial at ``tech`` (relative units)."""
    return _polynomial_factor(tech, 4, 7)


def power_factor(tech: Tech):
    """Stillmaker-Baas power polynomial at ``tech`` (relative units)."""
    return _polynomial_factor(tech, 7, 10)


def _check_value(x):
    return validate.check_range("x", x)


def scale_energy(x, src: Tech, dst: Tech):
    """Energy ``x`` (J, any shape) at ``src`` moved to ``dst``: ``x E(dst) / E(src)``."""
    return _check_value(x) * energy_factor(dst) / energy_factor(src)


def scale_delay(x, src: Tech, dst: Tech):
    """Delay ``x`` (s, any shape) at ``src`` moved to ``dst``: ``x D(dst) / D(src)``."""
    return _check_value(x) * delay_factor(dst) / delay_factor(src)


def scale_power(x, src: Tech, dst: Tech):
    """Power ``x`` (W, any shape) at ``src`` moved to ``dst`` with the fitted power polynomial.

    The paper fits no leakage separately; hwjax scales leakage power with this function.
    """
    return _check_value(x) * power_factor(dst) / power_factor(src)


def _area_entry(src: int, dst: int) -> float:
    """Table factor made reciprocal: ``sqrt(A[src][dst] / A[dst][src])``.

    The published table is rounded to two significant digits and so not exactly reciprocal
    (45 -> 32 is 0.46 but 32 -> 45 is 2.2, a round trip of 1.012). Taking the geometric mean
    of the two directions moves each entry by at most half that rounding (0.6% here) and makes
    round trips, and a node scaled to itself, exactly 1, also between table rows.
    """
    return math.sqrt(AREA_SCALING[src][NODES.index(dst)] / AREA_SCALING[dst][NODES.index(src)])


def area_factor(src_nm: float, dst_nm: float) -> float:
    """Multiplier taking an area at ``src_nm`` to ``dst_nm`` (figures.md 6.2, interpolated).

    Entries agree with the published table within its two-digit rounding; ``area_factor(a, b)
    * area_factor(b, a) == 1`` for all nodes.
    """
    src_large, src_small, src_w = _bracket(_check_node(src_nm))
    dst_large, dst_small, dst_w = _bracket(_check_node(dst_nm))
    from_large = _geometric_mix(_area_entry(src_large, dst_large), _area_entry(src_large, dst_small), dst_w)
    from_small = _geometric_mix(_area_entry(src_small, dst_large), _area_entry(src_small, dst_small), dst_w)
    return float(_geometric_mix(from_large, from_small, src_w))


def scale_area(x, src: Tech, dst: Tech):
    """Area ``x`` (m², any shape) at ``src`` moved to ``dst`` (independent of supply voltage)."""
    check_tech(src, "src")
    check_tech(dst, "dst")
    return _check_value(x) * area_factor(src.node_nm, dst.node_nm)
