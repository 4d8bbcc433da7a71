"""SI constants for reading and writing engineering units, and engineering formatting.

Everything inside hwjax is SI (J, s, m², W, Ohm, S, V, Hz). Multiply by a constant to enter a
value (``5 * pJ`` is 5e-12 J) and divide to read one (``cost.energy / pJ``). Formatting happens
only at the edges (reports, the command line, plots) through :func:`format_si`, and
:func:`parse_si` reads such text back (``"100mm2"`` is 1e-4 m²).
"""

from __future__ import annotations

import math
import re

# Energy, J
J = 1.0
mJ = 1e-3
uJ = 1e-6
nJ = 1e-9
pJ = 1e-12
fJ = 1e-15
aJ = 1e-18

# Time, s
s = 1.0
ms = 1e-3
us = 1e-6
ns = 1e-9
ps = 1e-12

# Frequency, Hz
Hz = 1.0
kHz = 1e3
MHz = 1e6
GHz = 1e9

# Power, W
W = 1.0
mW = 1e-3
uW = 1e-6
nW = 1e-9

# Length, m
m = 1.0
mm = 1e-3
um = 1e-6
nm = 1e-9

# Area, m²
m2 = 1.0
mm2 = 1e-6
um2 = 1e-12
nm2 = 1e-18

# Voltage, V; current, A
V = 1.0
mV = 1e-3
A = 1.0
mA = 1e-3
uA = 1e-6
nA = 1e-9

# Resistance, Ohm; conductance, S
Ohm = 1.0
kOhm = 1e3
MOhm = 1e6
GOhm = 1e9
S = 1.0
mS = 1e-3
uS = 1e-6
nS = 1e-9

# Capacitance, F
F = 1.0
pF = 1e-12
fF = 1e-15

# Data
bit = 1.0
byte = 8.0
KiB = 8.0 * 1024
MiB = 8.0 * 1024**2

# Throughput: 1 TOPS is 1e12 operations per second (a MAC counts as 2 operations).
TOPS = 1e12

_PREFIXES = {
    -18: "a",
    -15: "f",
    -12: "p",
    -9: "n",
    -6: "u",
    -3: "m",
    0: "",
    3: "k",
    6: "M",
    9: "G",
    12: "T",
    15: "P",
}
_SQUARED_UNITS = {"m2": "m²", "m²": "m²"}


def format_si(value: float, unit: str = "", digits: int = 4) -> str:
    """Format a number with an engineering prefix: ``format_si(2.5e-11, "J") == "25 pJ"``.

    Areas (``unit`` ``"m2"`` or ``"m²"``) use squared prefixes, so ``format_si(2.5e-11, "m2")``
    is ``"25 um²"``.

    Args:
        value: a Python or 0-d array number in SI base units.
        unit: the SI unit symbol appended after the prefix.
        digits: significant digits shown.

    Returns:
        The formatted string; zero, inf and NaN are shown without a prefix.
    """
    value = float(value)
    power = 2 if unit in _SQUARED_UNITS else 1
    unit = _SQUARED_UNITS.get(unit, unit)
    if value == 0.0 or not math.isfinite(value):
        return f"{value:g} {unit}".rstrip()
    value = float(f"{value:.{digits}g}")  # round first so 9.99999e-10 reads as 1 ns
    exponent = math.floor(math.log10(abs(value)) / (3 * power)) * 3
    exponent = max(min(exponent, max(_PREFIXES)), min(_PREFIXES))
    scaled = value / 10.0 ** (exponent * power)
    text = f"{scaled:.{digits}g}"
    return f"{text} {_PREFIXES[exponent]}{unit}".rstrip()


#: Prefix -> factor, for reading: the inverse of the formatting table (``µ`` read as ``u``).
_PREFIX_FACTORS = {prefix: 10.0**exponent for exponent, prefix in _PREFIXES.items()} | {"µ": 1e-6}
#: Unit symbol read by parse_si -> (canonical symbol, power the prefix is raised to).
_READ_UNITS = {"m2": ("m2", 2), "m²": ("m2", 2), "J": ("J", 1), "s": ("s", 1), "W": ("W", 1), "Hz": ("Hz", 1)}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def parse_si(text: str, unit: str | None = None, name: str = "value") -> float:
    """A number in SI units from ``"100e-6"`` or ``"100mm2"``, ``"2 ms"``, ``"1.2GHz"``.

    Args:
        text: a number, optionally followed by an SI prefix and one of m2 (m²), J, s, W, Hz.
        unit: the unit the value must have (``"m2"``, ``"J"``, ...), or ``None`` for any.
        name: what the value is, for the error message.

    Raises:
        ValueError: not a number, an unknown unit, or a unit other than ``unit``.
    """
    match = re.fullmatch(rf"\s*({_NUMBER})\s*(\S*)\s*", text)
    if not match:
        raise ValueError(f"{name}={text!r} is not a number (e.g. 100e-6, or 100mm2 with a unit)")
    number, suffix = float(match.group(1)), match.group(2)
    if not suffix:
        return number
    for symbol, (canonical, power) in _READ_UNITS.items():
        prefix = suffix[: -len(symbol)]
        if suffix.endswith(symbol) and prefix in _PREFIX_FACTORS:
            if unit is not None and canonical != unit:
                raise ValueError(f"{name}={text!r} must be in {unit or 'plain numbers'}, not {canonical}")
            return number * _PREFIX_FACTORS[prefix] ** power
    units = ", ".join(sorted({c for c, _ in _READ_UNITS.values()}))
    raise ValueError(f"{name}={text!r}: unknown unit {suffix!r}; use an SI prefix and one of {units}")
