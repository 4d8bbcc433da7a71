"""The validation pattern: concrete values raise clear errors, traced values are clamped."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwjax import validate


def test_concrete_out_of_range_names_parameter_value_and_range():
    with pytest.raises(ValueError, match=r"bits=-2 is outside the allowed range \[1, 16\]"):
        validate.check_range("bits", -2, 1, 16)


def test_open_bounds_and_units_and_context_appear_in_the_message():
    with pytest.raises(ValueError, match=r"rate=0 Hz is outside the allowed range \(0, inf\) Hz for the ADC"):
        validate.check_positive("rate", 0.0, unit="Hz", context="for the ADC")


def test_arrays_report_a_bad_entry():
    with pytest.raises(ValueError, match="one of 2 bad entries"):
        validate.check_nonnegative("energy", jnp.array([1.0, -1.0, -2.0]))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "abc", []])
def test_non_numbers_and_non_finite_values_are_rejected(value):
    with pytest.raises(ValueError, match="x"):
        validate.check_range("x", value)


def test_integer_check():
    with pytest.raises(ValueError, match="whole number"):
        validate.check_range("rows", 12.5, 1, None, integer=True)
    assert validate.check_range("rows", 128, 1, None, integer=True) == 128


def test_traced_values_are_clamped_into_the_range():
    clamp = jax.jit(lambda x: validate.check_range("x", x, 0.0, 1.0, low_open=True))
    assert float(clamp(-5.0)) > 0.0
    assert float(clamp(7.0)) == 1.0
    assert float(clamp(0.5)) == 0.5


def test_check_choice_lists_valid_choices():
    with pytest.raises(ValueError, match="'sar', 'flash'"):
        validate.check_choice("kind", "pipeline", ("sar", "flash"))
    assert validate.check_choice("kind", "sar", ("sar", "flash")) == "sar"


def test_check_fields_checks_and_stores_each_field_in_both_forms():
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Knobs:
        bits: object = 8.0
        rate: object = 1e9

    knobs = Knobs()
    validate.check_fields(knobs, {"bits": (1.0, 16.0), "rate": {"low": 0.0, "low_open": True, "unit": "Hz"}})
    assert knobs.bits == 8.0 and knobs.rate == 1e9
    with pytest.raises(ValueError, match="bits"):
        validate.check_fields(Knobs(bits=20.0), {"bits": (1.0, 16.0)})
    with pytest.raises(ValueError, match="rate"):
        validate.check_fields(Knobs(rate=0.0), {"rate": {"low": 0.0, "low_open": True}})
    # Traced values are clamped into the range and stored back.
    clamped = jax.jit(lambda b: _clamped_bits(Knobs(bits=b)))(jnp.float32(40.0))
    assert float(clamped) == 16.0


def _clamped_bits(knobs):
    validate.check_fields(knobs, {"bits": (1.0, 16.0)})
    return knobs.bits


def test_check_static_int_refuses_floats_and_out_of_range_naming_the_parameter():
    assert validate.check_static_int("rows", np.int64(128), 1, 1024) == 128
    static = r"rows=128.0 must be a whole number \(a static int\) in \[1, 1024\]"
    with pytest.raises(ValueError, match=static):
        validate.check_static_int("rows", 128.0, 1, 1024)
    with pytest.raises(ValueError, match=r"rows=2048 is outside the allowed range \[1, 1024\] \(<= cols\)"):
        validate.check_static_int("rows", 2048, 1, 1024, context="(<= cols)")
    with pytest.raises(ValueError, match="rows=True"):
        validate.check_static_int("rows", True, 1, 1024)
