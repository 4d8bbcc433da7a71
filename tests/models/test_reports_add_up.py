"""Every model's Report adds up, on every catalog workload: the leaf rows hold the whole total.

For each architecture of the registry (its cost: an inference, PANTHER's training step, MaxNVM's
weight reads) and each workload of the catalog, the sum over the leaf Costs of their energy
(dynamic plus leakage), area and ops equals the Report's total, and no leaf carries a leakage
power: Report energies are J in every model (leakage charged as energy in its own rows), so no
key means J in one model and W in another.

Tolerance: relative 1e-6, the round-off of adding a few hundred float32 terms in another order.
"""

import jax.numpy as jnp
import pytest

import hwjax as hj
from hwjax_models import architectures, workloads

CASES = [(arch, name) for arch in architectures.ARCHITECTURES for name in workloads.catalog()]


def _all_serial(item) -> bool:
    """Every Report in ``item`` composes its children in series (latencies add)."""
    if not isinstance(item, hj.Report):
        return True
    return item.compose == "serial" and all(_all_serial(child) for child in item.values())


def _close(part: float, whole: float) -> bool:
    return abs(part - whole) <= 1e-6 * max(abs(whole), 1e-30)


@pytest.mark.parametrize("arch,name", CASES, ids=[f"{a}-{n}" for a, n in CASES])
def test_leaf_rows_add_up_to_the_total(arch, name):
    model = architectures.get(arch)
    report = model.cost(architectures.config(arch), workloads.get(name), "exact")
    whole = hj.total(report)
    leaves = list(report.flat().values())
    assert all(float(jnp.max(leaf.leakage)) == 0.0 for leaf in leaves), "a row holds leakage in W"
    for field in ("total_energy", "area", "ops"):
        part = sum(float(getattr(leaf, field)) for leaf in leaves)
        assert _close(part, float(getattr(whole, field))), (field, part, float(getattr(whole, field)))
    if _all_serial(report):  # layers in series: their rows hold the whole latency too
        part = sum(float(leaf.latency) for leaf in leaves)
        assert _close(part, float(whole.latency)), ("latency", part, float(whole.latency))
