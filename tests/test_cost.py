"""Cost algebra, combinators, Reports and metrics on hand-computed cases.

Tolerance: rtol 1e-6 in float32 arithmetic on a handful of operations (a few ulps).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hwjax as hj
from hwjax import units as u

A = hj.Cost(energy=10 * u.pJ, latency=2 * u.ns, area=100 * u.um2, leakage=1 * u.uW, ops=256)
B = hj.Cost(energy=4 * u.pJ, latency=5 * u.ns, area=30 * u.um2, leakage=3 * u.uW, ops=64)


def assert_cost(cost, energy, latency, area, leakage, ops):
    for field, expected in zip(hj.cost.COST_FIELDS, (energy, latency, area, leakage, ops), strict=True):
        np.testing.assert_allclose(getattr(cost, field), expected, rtol=1e-6, err_msg=field)


def test_cost_properties():
    np.testing.assert_allclose(A.power, 10e-12 / 2e-9 + 1e-6, rtol=1e-6)  # 5 mW + 1 uW
    np.testing.assert_allclose(A.total_energy, 10e-12 + 1e-6 * 2e-9, rtol=1e-6)
    np.testing.assert_allclose(A.edp, (10e-12 + 2e-15) * 2e-9, rtol=1e-6)


def test_power_of_zero_latency_cost_is_leakage_only():
    assert float(hj.Cost(1e-12, 0.0, 0.0, leakage=2e-6).power) == pytest.approx(2e-6)


def test_costs_add_and_scale():
    assert_cost(A + B, 14e-12, 7e-9, 130e-12, 4e-6, 320)
    assert_cost(2 * A, 20e-12, 4e-9, 200e-12, 2e-6, 512)
    assert_cost(A / 2, 5e-12, 1e-9, 50e-12, 0.5e-6, 128)
    assert_cost(sum([A, B]), 14e-12, 7e-9, 130e-12, 4e-6, 320)


def test_serial_and_parallel():
    assert_cost(hj.serial(A, B), 14e-12, 7e-9, 130e-12, 4e-6, 320)
    assert_cost(hj.parallel(A, B), 14e-12, 5e-9, 130e-12, 4e-6, 320)


def test_smooth_parallel_is_an_upper_bound_within_t_log_n():
    temperature = 0.1 * u.ns
    latency = float(hj.parallel(A, B, smooth=temperature).latency)
    assert 5e-9 * (1 - 1e-6) <= latency <= 5e-9 + temperature * np.log(2) * (1 + 1e-6)


def test_repeat_and_replicate():
    assert_cost(hj.repeat(A, 3), 30e-12, 6e-9, 100e-12, 1e-6, 768)
    assert_cost(hj.replicate(A, 3), 30e-12, 2e-9, 300e-12, 3e-6, 768)


def test_repeat_with_traced_n_under_jit_and_grad():
    energy = jax.jit(lambda n: hj.repeat(A, n).energy)(2.5)
    np.testing.assert_allclose(energy, 25e-12, rtol=1e-6)
    np.testing.assert_allclose(jax.grad(lambda n: hj.repeat(A, n).latency)(4.0), 2e-9, rtol=1e-6)
    np.testing.assert_allclose(jax.grad(lambda n: hj.replicate(A, n).area)(4.0), 100e-12, rtol=1e-6)


def test_vmap_over_n():
    ns = jnp.array([0.0, 1.0, 2.5])
    batched = jax.vmap(lambda n: hj.replicate(A, n))(ns)
    np.testing.assert_allclose(batched.area, ns * 100e-12, rtol=1e-6)
    np.testing.assert_allclose(batched.latency, jnp.full(3, 2e-9), rtol=1e-6)


def test_traced_negative_n_is_clamped_to_zero():
    assert float(jax.jit(lambda n: hj.repeat(A, n).energy)(-3.0)) == 0.0


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: hj.repeat(A, -1), "n"),
        (lambda: hj.replicate(A, float("nan")), "n"),
        (lambda: hj.Cost(1.0, -1.0, 0.0), "latency"),
        (lambda: hj.Cost(-1.0, 1.0, 0.0), "energy"),
        (lambda: A * -2, "factor"),
        (lambda: A / 0, "divisor"),
        (lambda: hj.parallel(A, B, smooth=0.0), "smooth"),
        (lambda: hj.serial(), "costs"),
        (lambda: hj.serial(A, 3.0), "costs"),
        (lambda: hj.Report({"a": A}, compose="sideways"), "compose"),
        (lambda: hj.Report({"a/b": A}), "names"),
        (lambda: hj.Report({"a": 1.0}), "report"),
    ],
)
def test_bad_input_raises(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def _chip_report():
    core = hj.Report({"mvmu": A, "vfu": B}, compose="parallel")
    tile = hj.Report({"core": core, "edram": B})
    return hj.Report({"tile": tile, "noc": A})


def test_total_agrees_with_direct_composition():
    direct = hj.serial(hj.serial(hj.parallel(A, B), B), A)
    assert_cost(hj.total(_chip_report()), *(getattr(direct, f) for f in hj.cost.COST_FIELDS))


def test_report_path_lookup():
    report = _chip_report()
    assert report["tile"]["core"]["mvmu"] is A
    assert report["tile", "core", "vfu"] is B
    assert set(report.flat()) == {"tile/core/mvmu", "tile/core/vfu", "tile/edram", "noc"}
    with pytest.raises(KeyError, match="entries are"):
        report["nope"]
    with pytest.raises(KeyError, match="is a Cost"):
        report["noc", "deeper"]


def test_report_is_a_pytree_through_jit_and_vmap():
    def model(scale):
        return hj.Report({"x": A * scale, "y": hj.Report({"z": B * scale})})

    report = jax.jit(model)(2.0)
    assert isinstance(report, hj.Report) and report["y"].compose == "serial"
    np.testing.assert_allclose(report["y", "z"].energy, 8e-12, rtol=1e-6)
    batched = jax.vmap(lambda s: hj.total(model(s)))(jnp.array([1.0, 2.0]))
    np.testing.assert_allclose(batched.energy, [14e-12, 28e-12], rtol=1e-6)


def test_format_report_lists_every_node_with_shares():
    text = hj.format_report(_chip_report(), title="chip")
    for name in ("chip (serial)", "tile (serial)", "core (parallel)", "mvmu", "vfu", "edram", "noc"):
        assert name in text
    assert "100.0%" in text and "pJ" in text and "0.0001 mm²" in text and "um²" not in text
    assert str(_chip_report()) == hj.format_report(_chip_report())


def test_format_report_rejects_batches_with_a_hint():
    batched = jax.vmap(lambda s: hj.Report({"x": A * s}))(jnp.ones(3))
    with pytest.raises(ValueError, match="batch"):
        hj.format_report(batched)


def test_metrics():
    # 256 ops for (10 pJ + 1 uW * 2 ns) = 10.002 pJ -> 25.59 TOPS/W
    np.testing.assert_allclose(hj.tops_per_watt(A), 256 / 10.002e-12 / 1e12, rtol=1e-6)
    # 256 ops in 2 ns on 100 um² = 0.128 TOPS on 1e-4 mm² -> 1280 TOPS/mm²
    np.testing.assert_allclose(hj.tops_per_mm2(A), 1280.0, rtol=1e-6)
    np.testing.assert_allclose(hj.energy_per_op(A), 10.002e-12 / 256, rtol=1e-6)


def test_metrics_reject_undefined_concrete_costs_and_return_zero_when_traced():
    empty = hj.Cost(0.0, 1e-9, 1e-12)
    with pytest.raises(ValueError, match="ops"):
        hj.energy_per_op(empty)
    with pytest.raises(ValueError, match="energy"):
        hj.tops_per_watt(empty)
    assert float(jax.jit(lambda e: hj.tops_per_watt(hj.Cost(e, 1e-9, 1e-12, ops=4.0)))(0.0)) == 0.0


def test_unchecked_builds_the_same_cost_without_validation():
    """``unchecked`` is for fields non-negative by construction: same pytree, no clamping."""
    built = hj.cost.unchecked(1.0, 2.0, 3.0, 4.0, 5.0)
    assert jax.tree_util.tree_structure(built) == jax.tree_util.tree_structure(hj.Cost(1.0, 2.0, 3.0))
    assert [built.energy, built.latency, built.area, built.leakage, built.ops] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert hj.cost.unchecked(1.0, 2.0).area == 0.0


def test_replicate_a_report_entry_by_entry():
    """Replicating a Report keeps its names and composition, and commutes with total()."""
    a, b = hj.Cost(1.0, 2.0, 3.0, 0.5, 4.0), hj.Cost(2.0, 1.0, 1.0, 0.0, 0.0)
    for compose in hj.cost.COMPOSITIONS:
        report = hj.Report({"a": a, "inner": hj.Report({"b": b})}, compose=compose)
        copies = hj.replicate(report, 3.0)
        assert list(copies) == ["a", "inner"] and copies.compose == compose
        got, want = hj.total(copies), hj.replicate(hj.total(report), 3.0)
        for name in hj.cost.COST_FIELDS:
            assert float(getattr(got, name)) == pytest.approx(float(getattr(want, name)), rel=1e-6), name


def test_format_area_always_uses_mm2():
    assert hj.cost.format_area(3.368e-4) == "336.8 mm²"
    assert hj.cost.format_area(100 * u.um2) == "0.0001 mm²"
    assert hj.cost.format_area(0.0) == "0 mm²"


def test_cost_repr_uses_si_units():
    assert repr(A) == "Cost(energy=10 pJ, latency=2 ns, area=0.0001 mm², leakage=1 uW, ops=256)"
    cost = hj.Cost(42.8 * u.nJ, 2.3 * u.us, 0.0116 * u.mm2, leakage=1.2 * u.mW, ops=32768)
    assert repr(cost) == "Cost(energy=42.8 nJ, latency=2.3 us, area=0.0116 mm², leakage=1.2 mW, ops=32.77 k)"


def _two_level_report(leaf_name="vfu"):
    return hj.Report({"core": hj.Report({"mvmu": A, leaf_name: B}, compose="parallel"), "noc": A})


def test_report_repr_is_the_format_report_table():
    # Totals: 24 pJ + 5 uW * 7 ns = 24.035 pJ in 7 ns on 230 um²; core 4 + 10 pJ + 3 uW * 5 ns.
    expected = """\
component            energy  latency     power         area  energy %
---------------------------------------------------------------------
total (serial)     24.03 pJ     7 ns  3.434 mW  0.00023 mm²    100.0%
  core (parallel)  14.02 pJ     5 ns  2.804 mW  0.00013 mm²     58.3%
    mvmu              10 pJ     2 ns  5.001 mW   0.0001 mm²     41.6%
    vfu            4.015 pJ     5 ns    803 uW    3e-05 mm²     16.7%
  noc                 10 pJ     2 ns  5.001 mW   0.0001 mm²     41.6%"""
    report = _two_level_report()
    assert repr(report) == expected == str(report) == hj.format_report(report)


def test_repr_html_tables_escape_names():
    html = _two_level_report("v<f> & u")._repr_html_()
    assert html.startswith("<table") and html.endswith("</table>")
    assert "v&lt;f&gt; &amp; u" in html and "<th>energy %</th>" in html
    assert 'padding-left:3em">mvmu</td>' in html and '<td style="text-align:right">0.00023 mm²</td>' in html
    cost_html = A._repr_html_()
    assert cost_html.startswith("<table") and cost_html.count("<tr>") == 2 and ">0.0001 mm²<" in cost_html


def test_repr_of_batches_shows_shapes_or_element_zero():
    costs = jax.vmap(lambda s: A * s)(jnp.array([1.0, 2.0, 3.0]))
    assert repr(costs) == "Cost(energy=f32[3], latency=f32[3], area=f32[3], leakage=f32[3], ops=f32[3])"
    assert ">f32[3]<" in costs._repr_html_()
    reports = jax.vmap(lambda s: hj.replicate(_two_level_report(), s))(jnp.array([1.0, 2.0, 3.0]))
    text = repr(reports)
    assert text.startswith("Report batch of shape (3,); element (0,):\n")
    assert text.endswith(repr(_two_level_report()))
    assert "batch of shape (3,)" in reports._repr_html_()
    with pytest.raises(ValueError, match="batch"):
        str(reports)


def test_repr_inside_jit_does_not_raise():
    texts = []

    def model(scale):
        cost = A * scale
        report = hj.Report({"x": cost, "y": hj.Report({"z": B})})
        texts.extend([repr(cost), repr(report), report._repr_html_(), cost._repr_html_(), repr(B * 2.0)])
        return cost.energy

    jax.jit(model)(2.0)
    assert texts[0] == "Cost(energy=f32[], latency=f32[], area=f32[], leakage=f32[], ops=f32[])"
    assert texts[1].startswith("Report(serial, traced)\n  x: Cost(energy=f32[]")
    assert "y/z: Cost(energy=4 pJ" in texts[1]
    assert texts[2].startswith("<pre>Report(serial, traced)") and texts[3].startswith("<table")
    assert texts[4] == "Cost(energy=8 pJ, latency=10 ns, area=6e-05 mm², leakage=6 uW, ops=128)"
