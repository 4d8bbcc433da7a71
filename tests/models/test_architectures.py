"""The architecture registry: every model evaluates, knobs round to buildable values, bad names
raise ``ValueError`` listing the choices."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hwjax as hj
from hwjax import sweep
from hwjax_models import architectures as A
from hwjax_models import digital, timon
from hwjax_models import workloads as catalog


def test_registry_covers_every_accelerator_with_a_workload_cost():
    # analog_tile models tile kernels, not a workload (module docstring): it is the one left out.
    assert set(A.ARCHITECTURES) == {"puma", "isaac", "digital", "panther", "maxnvm", "timon"}
    for name, arch in A.ARCHITECTURES.items():
        assert arch.name == name
        assert arch.default_workload in catalog.catalog()
        assert set(arch.knobs) <= set(A.config_fields(arch)), name


@pytest.mark.parametrize("name", list(A.ARCHITECTURES))
def test_every_architecture_evaluates_its_default_workload(name):
    report = A.evaluate(name)
    cost = hj.total(report)
    for field in ("total_energy", "latency", "area", "ops"):
        assert math.isfinite(float(getattr(cost, field))), field
    # Every model spends energy and time on its workload (area and ops may be 0: PANTHER's step
    # reports no area, MaxNVM's store counts no ops).
    assert float(cost.total_energy) > 0 and float(cost.latency) > 0


def test_evaluate_is_the_models_own_cost_with_the_overrides():
    network = catalog.get("timon_deepbench_1")
    got = hj.total(A.evaluate("timon", {"dp_width": 32.0, "act_bits": 8.0}, network, "exact"))
    want = hj.total(timon.inference(timon.Config(dp_width=32.0, act_bits=8.0), network, "exact"))
    # the same computation on the same inputs: equal to float32 round-off (1e-6 relative)
    assert float(got.edp) == pytest.approx(float(want.edp), rel=1e-6)
    assert float(got.area) == pytest.approx(float(want.area), rel=1e-6)


def test_config_accepts_any_numeric_field_and_rejects_unknown_ones():
    assert A.config("digital", {"tiles": 4.0}).tiles == 4.0  # not a registry knob, still a field
    with pytest.raises(ValueError, match=r"unknown knob 'bogus'.*mac_rows.*clock_hz"):
        A.config("digital", {"bogus": 1.0})
    with pytest.raises(ValueError, match="mac_rows"):  # out of the Config's own range
        A.config("digital", {"mac_rows": 1e6})
    assert "tech" not in A.config_fields("puma") and "register_file_bytes" in A.config_fields("puma")


def test_get_is_case_insensitive_and_lists_the_choices():
    assert A.get(" PUMA ") is A.ARCHITECTURES["puma"]
    assert A.get(A.ARCHITECTURES["isaac"]) is A.ARCHITECTURES["isaac"]
    with pytest.raises(ValueError, match=r"unknown architecture 'tpu'.*puma, isaac, digital, panther"):
        A.get("tpu")
    with pytest.raises(ValueError, match="unknown workload"):
        A.resolve_workload("puma", "resnet9000")


@pytest.mark.parametrize(
    ("knob", "value", "expected"),
    [
        (A.Knob(64.0, 256.0, "power_of_two"), 96.0, 128.0),  # log2 96 = 6.58 rounds up
        (A.Knob(64.0, 256.0, "power_of_two"), 90.0, 64.0),  # log2 90 = 6.49 rounds down
        (A.Knob(64.0, 256.0, "power_of_two"), 1000.0, 256.0),  # clipped into range
        (A.Knob(6.0, 10.0), 7.4, 7.0),
        (A.Knob(6.0, 10.0), 2.0, 6.0),
        (A.Knob(0.5e9, 1.5e9, "continuous", "Hz"), 1.234e9, 1.234e9),
    ],
)
def test_knob_rounds_to_the_nearest_buildable_value_in_range(knob, value, expected):
    # exact: powers of two and integers are exact in float32; the clock keeps float32 precision
    assert float(knob.round(value)) == pytest.approx(expected, rel=1e-7)


def test_knob_round_without_clip_may_leave_the_range():
    assert float(A.Knob(64.0, 256.0, "power_of_two").round(600.0, clip=False)) == 512.0


def test_knob_unit_space_round_trips():
    for knob in (A.Knob(64.0, 256.0, "power_of_two"), A.Knob(6.0, 10.0), A.Knob(1.0, 8.0)):
        values = np.array([knob.low, (knob.low + knob.high) / 2, knob.high])
        units = np.asarray(knob.to_unit(values))
        # float32 log/exp: 1e-5 relative is a few ulps
        np.testing.assert_allclose(np.asarray(knob.from_unit(units)), values, rtol=1e-5)
        np.testing.assert_allclose(units[[0, 2]], [0.0, 1.0], atol=1e-6)
    assert A.Knob(1.0, 8.0).log_scale and not A.Knob(6.0, 10.0).log_scale


def test_knob_rejects_bounds_that_cannot_be_built():
    with pytest.raises(ValueError, match="power of two"):
        A.Knob(48.0, 256.0, "power_of_two")
    with pytest.raises(ValueError, match="whole number"):
        A.Knob(1.5, 8.0)
    with pytest.raises(ValueError, match="high"):
        A.Knob(8.0, 8.0)
    with pytest.raises(ValueError, match="rounding"):
        A.Knob(1.0, 8.0, "odd")


def test_round_to_buildable_rounds_registry_knobs_and_passes_other_fields():
    rounded = A.round_to_buildable(
        "puma", {"mvmu_dim": 161.0, "adc_bits": 7.6, "clock_hz": 1.23e9, "tiles_per_node": 3.3}
    )
    # clock_hz stays continuous (float32 round trip: 1e-7 relative)
    assert rounded["mvmu_dim"] == 128.0 and rounded["adc_bits"] == 8.0
    assert rounded["clock_hz"] == pytest.approx(1.23e9, rel=1e-7)
    assert rounded["tiles_per_node"] == 3.3  # not a registry knob: unchanged
    with pytest.raises(ValueError, match="unknown knob 'adc'"):
        A.round_to_buildable("puma", {"adc": 8.0})


def test_buildable_neighbours_bracket_the_relaxed_value():
    corners = A.buildable_neighbours("puma", {"mvmu_dim": 161.0, "adc_bits": 6.0, "clock_hz": 1.2e9})
    assert corners == {"mvmu_dim": (128.0, 256.0), "adc_bits": (6.0,), "clock_hz": (1.2e9,)}


def test_space_spec_samples_every_knob_over_its_range():
    space = sweep.parse_space(A.space_spec("puma", 64))
    assert space.names == tuple(A.ARCHITECTURES["puma"].knobs) and len(space) == 64
    points = space.points(0, 64)
    for name, knob in A.ARCHITECTURES["puma"].knobs.items():
        assert knob.low <= points[name].min() and points[name].max() <= knob.high


def test_knob_values_read_the_published_design():
    assert A.knob_values("digital") == {"mac_rows": 128.0, "mac_cols": 128.0, "clock_hz": 1e9}
    assert A.knob_values("digital", digital.Config(mac_rows=64.0))["mac_rows"] == 64.0
