"""The table of public functions that the shared contract suite checks.

This module holds the foundation's rows (relaxations, combinators, metrics, tech scaling) and
collects every sibling module named ``rows_<family>.py`` that defines a list ``ROWS``: adding a
component family means adding such a module. ``test_contract.py`` runs every check over every
row; see :class:`ContractRow` for what a row holds.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import hwjax as hj
from hwjax import relax

from .contract_row import ContractRow

RELAX_MODES = relax.MODES


_BAD_MODE = ({"mode": "fuzzy"}, "mode")
_BAD_TEMPERATURE = ({"temperature": -1.0}, "temperature")


def _rounding_row(name: str, fn, temperature: float | None) -> ContractRow:
    return ContractRow(
        name=f"relax.{name}" + ("" if temperature is None else f"[T={temperature}]"),
        fn=lambda mode, x, temperature: fn(x, mode=mode, temperature=temperature),
        inputs={"x": [0.3, 2.6, -7.2], "temperature": temperature},
        knobs={"x": (-100.0, 100.0)},
        bad_inputs=(_BAD_MODE, _BAD_TEMPERATURE, ({"x": [1.0, float("nan")]}, "x")),
        modes=RELAX_MODES,
    )


def _cost(energy, latency, area, leakage=0.0, ops=0.0) -> hj.Cost:
    return hj.Cost(energy=energy, latency=latency, area=area, leakage=leakage, ops=ops)


def _metrics(mode, energy, latency, area, leakage, ops):
    cost = _cost(energy, latency, area, leakage, ops)
    return {
        "power": cost.power,
        "edp": cost.edp,
        "tops_per_watt": hj.tops_per_watt(cost),
        "tops_per_mm2": hj.tops_per_mm2(cost),
        "energy_per_op": hj.energy_per_op(cost),
    }


def _two_costs(e1, l1, a1, e2, l2, a2):
    return _cost(e1, l1, a1, leakage=1e-6, ops=100.0), _cost(e2, l2, a2, leakage=2e-6, ops=50.0)


def _report(mode, e1, l1, e2, l2):
    core = hj.Report({"mvmu": _cost(e1, l1, 1e-9), "vfu": _cost(e2, l2, 2e-9)}, compose="parallel")
    tile = hj.Report({"core": core, "edram": _cost(e2, l1, 3e-9)})
    return hj.total(hj.Report({"tile": tile, "noc": _cost(e1, l2, 4e-9)}))


_COST_RANGE = {
    "e1": (0.0, 1e-9),
    "l1": (0.0, 1e-6),
    "a1": (0.0, 1e-6),
    "e2": (0.0, 1e-9),
    "l2": (0.0, 1e-6),
    "a2": (0.0, 1e-6),
}
_COST_EXAMPLE = {"e1": 3e-12, "l1": 2e-9, "a1": 5e-9, "e2": 7e-12, "l2": 5e-9, "a2": 1e-8}
_BAD_COST = ({"l1": -1e-9}, "latency")


def _scaling_row(name: str, scale, src: tuple, dst: tuple, x_range: tuple[float, float]) -> ContractRow:
    """A tech-scaling row from node ``src = (node_nm, flavor)`` to ``dst``."""
    (src_node, flavor), (dst_node, dst_flavor) = src, dst
    src_low, src_high = hj.vdd_range(src_node, flavor)
    dst_low, dst_high = hj.vdd_range(dst_node, dst_flavor)

    def fn(mode, x, vdd_src, vdd_dst, src_node, dst_node, flavor):
        return scale(x, hj.Tech(src_node, vdd_src, flavor), hj.Tech(dst_node, vdd_dst, dst_flavor))

    return ContractRow(
        name=f"tech.{name}[{src_node}->{dst_node} {flavor}]",
        fn=fn,
        inputs={
            "x": 0.5 * x_range[1],
            "vdd_src": hj.nominal_vdd(src_node, flavor),
            "vdd_dst": 0.95 * hj.nominal_vdd(dst_node, dst_flavor),
            "src_node": src_node,
            "dst_node": dst_node,
            "flavor": flavor,
        },
        knobs={"x": x_range, "vdd_src": (src_low, src_high), "vdd_dst": (dst_low, dst_high)},
        bad_inputs=(
            ({"src_node": 5}, "node_nm"),
            ({"dst_node": 250}, "node_nm"),
            ({"vdd_src": 3.0}, "vdd"),
            ({"vdd_dst": 0.1}, "vdd"),
            ({"flavor": "XP"}, "flavor"),
            ({"x": float("inf")}, "x"),
        ),
    )


ROWS: list[ContractRow] = [
    _rounding_row("ceil", relax.ceil, None),
    _rounding_row("ceil", relax.ceil, 0.25),
    _rounding_row("floor", relax.floor, None),
    _rounding_row("floor", relax.floor, 0.25),
    _rounding_row("round", relax.round, 0.25),
    ContractRow(
        name="relax.clip",
        fn=lambda mode, x, low, high, temperature: relax.clip(x, low, high, mode, temperature),
        inputs={"x": [-3.0, 0.5, 1.7, 6.0], "low": -1.0, "high": 2.0, "temperature": None},
        knobs={"x": (-10.0, 10.0)},
        bad_inputs=(_BAD_MODE, _BAD_TEMPERATURE, ({"low": 3.0}, "low")),
        modes=RELAX_MODES,
    ),
    ContractRow(
        name="relax.max",
        fn=lambda mode, x, temperature: relax.max(x, mode=mode, temperature=temperature),
        inputs={"x": [1.0, -4.0, 3.5, 2.9], "temperature": None},
        knobs={"x": (-1e3, 1e3)},
        bad_inputs=(_BAD_MODE, ({"temperature": 0.0}, "temperature")),
        modes=RELAX_MODES,
    ),
    ContractRow(
        name="relax.maximum",
        fn=lambda mode, a, b: relax.maximum(a, b, mode=mode),
        inputs={"a": 2e-9, "b": 3e-9},
        knobs={"a": (0.0, 1e-6), "b": (0.0, 1e-6)},
        bad_inputs=(_BAD_MODE,),
        modes=RELAX_MODES,
    ),
    ContractRow(
        name="relax.choice",
        fn=lambda mode, logits, candidates, temperature: relax.choice(logits, candidates, mode, temperature),
        inputs={"logits": [0.2, 1.5, -0.7], "candidates": (4.0, 6.0, 8.0), "temperature": 1.0},
        knobs={"logits": (-10.0, 10.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"temperature": 0.0}, "temperature"),
            ({"candidates": ()}, "candidates"),
            ({"candidates": (4.0, 6.0)}, "logits"),
        ),
        modes=RELAX_MODES,
    ),
    ContractRow(
        name="cost.metrics",
        fn=_metrics,
        inputs={"energy": 4e-12, "latency": 2e-9, "area": 3e-8, "leakage": 1e-4, "ops": 256.0},
        knobs={
            "energy": (1e-15, 1e-6),
            "latency": (1e-12, 1e-3),
            "area": (1e-14, 1e-3),
            "leakage": (0.0, 1.0),
            "ops": (1.0, 1e9),
        },
        bad_inputs=(
            ({"latency": -1e-9}, "latency"),
            ({"energy": float("nan")}, "energy"),
            ({"area": -1.0}, "area"),
            ({"ops": 0.0}, "ops"),
            ({"energy": 0.0, "leakage": 0.0}, "energy"),
        ),
    ),
    ContractRow(
        name="cost.serial",
        fn=lambda mode, **kw: hj.serial(*_two_costs(**kw)),
        inputs=_COST_EXAMPLE,
        knobs=_COST_RANGE,
        bad_inputs=(_BAD_COST,),
    ),
    ContractRow(
        name="cost.parallel",
        fn=lambda mode, **kw: hj.parallel(*_two_costs(**kw), smooth=1e-10 if mode == "smooth" else None),
        inputs=_COST_EXAMPLE,
        knobs=_COST_RANGE,
        bad_inputs=(_BAD_COST,),
        modes=("exact", "smooth"),
    ),
    ContractRow(
        name="cost.repeat",
        fn=lambda mode, n, energy, latency: hj.repeat(_cost(energy, latency, 1e-8, 1e-6, 2.0), n),
        inputs={"n": 7.5, "energy": 2e-12, "latency": 1e-9},
        knobs={"n": (0.0, 1e6), "energy": (0.0, 1e-9), "latency": (0.0, 1e-6)},
        bad_inputs=(({"n": -1.0}, "n"), ({"energy": -1.0}, "energy")),
    ),
    ContractRow(
        name="cost.replicate",
        fn=lambda mode, n, energy, latency: hj.replicate(_cost(energy, latency, 1e-8, 1e-6, 2.0), n),
        inputs={"n": 7.5, "energy": 2e-12, "latency": 1e-9},
        knobs={"n": (0.0, 1e6), "energy": (0.0, 1e-9), "latency": (0.0, 1e-6)},
        bad_inputs=(({"n": -1.0}, "n"), ({"latency": float("inf")}, "latency")),
    ),
    ContractRow(
        name="cost.report_total",
        fn=_report,
        inputs={"e1": 3e-12, "l1": 2e-9, "e2": 7e-12, "l2": 5e-9},
        knobs={k: _COST_RANGE[k] for k in ("e1", "l1", "e2", "l2")},
        bad_inputs=(({"e2": -1.0}, "energy"),),
    ),
    _scaling_row("scale_energy", hj.scale_energy, (65, "HP"), (32, "HP"), (0.0, 1e-9)),
    _scaling_row("scale_energy", hj.scale_energy, (180, "LP"), (7, "LP"), (0.0, 1e-9)),
    _scaling_row("scale_delay", hj.scale_delay, (28, "HP"), (14, "HP"), (0.0, 1e-6)),
    _scaling_row("scale_power", hj.scale_power, (45, "LP"), (22, "LP"), (0.0, 1.0)),
    _scaling_row("scale_area", hj.scale_area, (40, "HP"), (12, "HP"), (0.0, 1e-6)),
]


def _family_rows() -> list[ContractRow]:
    """Rows of every ``rows_<family>.py`` module beside this one, in name order."""
    rows = []
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]))
    for name in names:
        if name.startswith("rows_"):
            rows += importlib.import_module(f"{__package__}.{name}").ROWS
    return rows


ROWS += _family_rows()
