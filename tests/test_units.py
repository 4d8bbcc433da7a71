"""SI constants and engineering formatting."""

import pytest

from hwjax import units as u
from hwjax.units import format_si, parse_si


def test_constants_are_si():
    assert 5 * u.pJ == pytest.approx(5e-12)
    assert u.mm2 == pytest.approx(1e-6) and u.um2 == pytest.approx(1e-12)
    assert u.mW * u.ns == pytest.approx(u.pJ)  # figures.md: 1 mW x 1 ns = 1 pJ
    assert u.GHz * u.ns == pytest.approx(1.0)
    assert 10 * u.kOhm * 100 * u.uS == pytest.approx(1.0)


@pytest.mark.parametrize(
    "value, unit, text",
    [
        (2.5e-11, "J", "25 pJ"),
        (0.99999999e-9, "s", "1 ns"),
        (62.5, "W", "62.5 W"),
        (0.3e-3, "W", "300 uW"),
        (-3e-3, "W", "-3 mW"),
        (2.5e-11, "m2", "25 um²"),
        (90.638e-6, "m2", "90.64 mm²"),
        (0.0, "J", "0 J"),
        (float("nan"), "J", "nan J"),
        (1.2e9, "Hz", "1.2 GHz"),
    ],
)
def test_format_si(value, unit, text):
    assert format_si(value, unit) == text


def test_parse_si_reads_si_prefixes_and_units():
    # prefix arithmetic in float64: 1e-12 relative
    assert parse_si("100mm2", "m2") == pytest.approx(100e-6, rel=1e-12)
    assert parse_si("100e-6", "m2") == pytest.approx(100e-6, rel=1e-12)
    assert parse_si("2 ms", "s") == pytest.approx(2e-3, rel=1e-12)
    assert parse_si("1.2GHz") == pytest.approx(1.2e9, rel=1e-12)
    with pytest.raises(ValueError, match="unknown unit 'furlongs'"):
        parse_si("3furlongs")
