"""Technology scaling against the Stillmaker-Baas fits (figures.md section 6).

Table nodes are evaluated in float64 Python arithmetic, so they must reproduce the raw
polynomial ratios to 1e-9 (the only difference is the re-expansion about nominal supply).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hwjax as hj
from hwjax import tech


def test_authors_erratum_example_65nm_to_hp32():
    # figures.md 6 / Stillmaker-Baas erratum: 1 pJ/op at 65 nm, 1.3 V -> 0.1755 pJ/op at HP32, 0.9 V.
    scaled = hj.scale_energy(1.0, hj.Tech(65, 1.3), hj.Tech(32, 0.9, "HP"))
    assert scaled == pytest.approx(0.1755, rel=0.01)


def _raw(key, first, last, vdd):
    return np.polyval(tech.COEFFICIENTS[key][first:last], vdd)


@pytest.mark.parametrize("key", sorted(tech.COEFFICIENTS))
def test_table_rows_reproduce_the_raw_polynomials(key):
    flavor = "HP" if key[:2] != "LP" else "LP"
    node = int(key.lstrip("HPL"))
    src, dst = hj.Tech(65, 1.1), hj.Tech(node, None, flavor)
    vdd = dst.vdd
    ratios = {
        hj.scale_delay: _raw(key, 0, 4, vdd) / _raw("65", 0, 4, 1.1),
        hj.scale_energy: _raw(key, 4, 7, vdd) / _raw("65", 4, 7, 1.1),
        hj.scale_power: _raw(key, 7, 10, vdd) / _raw("65", 7, 10, 1.1),
    }
    for scale, expected in ratios.items():
        assert scale(1.0, src, dst) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("src", tech.NODES)
def test_area_table_entries_within_their_two_digit_rounding(src):
    # figures.md 6.2 prints two significant digits, so an entry is known to +-5% at worst
    # (0.0055 could be 0.00545-0.00555 -> 1%; 1.1 -> 4.5%); reciprocity moves none by more.
    for dst, published in zip(tech.NODES, tech.AREA_SCALING[src], strict=True):
        assert hj.area_factor(src, dst) == pytest.approx(published, rel=0.05)


def test_area_scaling_round_trips_exactly_also_between_rows():
    for a, b in [(45, 32), (180, 7), (40, 12), (28, 28), (40, 40)]:
        assert hj.area_factor(a, b) * hj.area_factor(b, a) == pytest.approx(1.0, rel=1e-12)
    assert hj.area_factor(40, 40) == pytest.approx(1.0, rel=1e-12)


def test_nodes_between_rows_interpolate_geometrically_in_log_node():
    weight = math.log(45 / 40) / math.log(45 / 32)
    at = {n: hj.scale_energy(1.0, hj.Tech(65, 1.1), hj.Tech(n, 0.95)) for n in (45, 40, 32)}
    assert at[40] == pytest.approx(at[45] ** (1 - weight) * at[32] ** weight, rel=1e-12)
    area = hj.area_factor(45, 40)
    assert area == pytest.approx(hj.area_factor(45, 32) ** weight, rel=1e-12)
    # continuity at a table row
    assert hj.scale_delay(1.0, hj.Tech(90), hj.Tech(44.9999, 0.95)) == pytest.approx(
        hj.scale_delay(1.0, hj.Tech(90), hj.Tech(45, 0.95)), rel=1e-4
    )


def test_nominal_vdd_and_range():
    assert hj.nominal_vdd(32, "HP") == 0.9 and hj.nominal_vdd(32, "LP") == 1.0
    assert hj.nominal_vdd(65, "LP") == 1.1  # bulk nodes share one fit
    assert 0.9 < hj.nominal_vdd(40) < 1.0
    low, high = hj.vdd_range(32)
    assert low == pytest.approx(0.54) and high == pytest.approx(1.125)
    assert hj.Tech(16).vdd == 0.85


def test_default_tech_is_32nm_hp_at_its_nominal_supply():
    # The node of the PUMA simulator's and ISAAC's numbers (figures.md 1 and 2): 32 nm, 0.9 V.
    assert hj.DEFAULT_TECH == hj.Tech(32) == hj.Tech(32, 0.9, "HP")


def test_differentiable_in_vdd_matches_polynomial_derivative():
    grad = jax.grad(lambda v: hj.scale_energy(1.0, hj.Tech(32, v), hj.Tech(32)))(0.8)
    e2, e1, e0 = tech.COEFFICIENTS["HP32"][4:7]
    energy = np.polyval((e2, e1, e0), [0.8, 0.9])
    expected = -energy[1] / energy[0] ** 2 * (2 * e2 * 0.8 + e1)
    assert float(grad) == pytest.approx(expected, rel=1e-5)


def test_vmap_over_vdd_and_tech_as_a_pytree():
    vdds = jnp.linspace(0.6, 1.1, 5)
    batched = jax.vmap(lambda v: hj.scale_delay(1.0, hj.Tech(32, v), hj.Tech(7)))(vdds)
    looped = jnp.stack([hj.scale_delay(1.0, hj.Tech(32, float(v)), hj.Tech(7)) for v in vdds])
    np.testing.assert_allclose(batched, looped, rtol=1e-5)
    techs = jax.vmap(lambda v: hj.Tech(32, v))(vdds)
    assert techs.vdd.shape == (5,) and techs.node_nm == 32


def test_traced_vdd_outside_the_range_is_clamped():
    clamped = jax.jit(lambda v: hj.scale_energy(1.0, hj.Tech(32, v), hj.Tech(32)))(5.0)
    at_edge = hj.scale_energy(1.0, hj.Tech(32, hj.vdd_range(32)[1]), hj.Tech(32))
    assert float(clamped) == pytest.approx(at_edge, rel=1e-5)


def test_thermal_voltage():
    assert hj.Tech(32).thermal_voltage == pytest.approx(0.025852, rel=1e-4)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: hj.Tech(5), "node_nm"),
        (lambda: hj.Tech(250), "node_nm"),
        (lambda: hj.Tech(32, 3.0), "vdd"),
        (lambda: hj.Tech(32, flavor="XP"), "flavor"),
        (lambda: hj.Tech(32, temperature_k=-4.0), "temperature_k"),
        (lambda: hj.scale_energy(1.0, "32nm", hj.Tech(32)), "Tech"),
        (lambda: hj.scale_area(1.0, hj.Tech(32), None), "dst"),
        (lambda: hj.nominal_vdd(3), "node_nm"),
    ],
)
def test_bad_input_raises(make, name):
    with pytest.raises(ValueError, match=name):
        make()
