"""The constrained optimizer of :mod:`hwjax.codesign` on analytic designs whose optimum is known
in closed form, its bad input, and the layering (the library never imports ``hwjax_models``)."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path

import pytest

from hwjax import sweep
from hwjax.codesign import MARGIN, Constraint, optimize, parse_constraint

# One knob x (a parallelism): energy a·x + d/x J, latency b/x s, area c·x m².
A, B, C, D = 2e-12, 3e-6, 1e-7, 2e-10
X_RANGE = (1.0, 64.0, "log")
GRID = sweep.grid(x=[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0])
AREA_LIMIT = 10.5e-7  # the bound binds at x* = AREA_LIMIT / C = 10.5
X_BOUND = AREA_LIMIT / C


def design(knobs, mode):
    x = knobs["x"]
    return {"energy": A * x + D / x, "latency": B / x, "throughput": x / B, "area": C * x}


@pytest.fixture(scope="module")
def results():
    return sweep.run(lambda knobs: design(knobs, "exact"), GRID, progress=False)


@pytest.mark.parametrize(("objective", "maximize"), [("latency", ()), ("throughput", ("throughput",))])
def test_a_binding_constraint_stops_the_descent_its_margin_inside_the_bound(results, objective, maximize):
    # Latency falls (throughput rises) with x while area grows: the optimum sits on the area
    # bound, x* = 10.5, and the penalty aims MARGIN (log) inside it, at x*·exp(-MARGIN). The
    # loss is piecewise linear in log x with a kink there; the lowest-loss adam iterate lands
    # within 2e-3 (log) of it (observed 4e-4: adam's steps shrink at the kink).
    area = Constraint("area", "<=", AREA_LIMIT)
    out = optimize(design, results, {"x": X_RANGE}, objective, [area], maximize=maximize, steps=100)
    assert out["start"]["knobs"] == {"x": 8.0}  # the best feasible sweep row
    x = out["relaxed"]["knobs"]["x"]
    assert math.log(x / X_BOUND) == pytest.approx(-MARGIN, abs=2e-3)
    # a continuous knob rounds to itself: the rounded design is the relaxed one, feasible, kept
    assert out["rounded"]["knobs"] == {"x": x} and out["rounded"]["feasible"]
    assert out["kept"] == "rounded" and out["design"] == {"x": x}
    assert out["constraints"] == [{"column": "area", "op": "<=", "limit": AREA_LIMIT}]


def test_an_interior_optimum_is_found_without_constraints(results):
    # energy a·x + d/x is least at x* = sqrt(d/a) = 10, where it is 2·sqrt(a·d). Near x* the
    # energy is quadratic in log x, so 1e-6 relative in energy (float32 round-off is 6e-8)
    # only pins x to about 1e-3 (log): x is checked to 1%.
    out = optimize(design, results, {"x": X_RANGE}, "energy", steps=100)
    assert out["relaxed"]["knobs"]["x"] == pytest.approx(math.sqrt(D / A), rel=1e-2)
    assert out["rounded"]["values"]["energy"] == pytest.approx(2 * math.sqrt(A * D), rel=1e-6)
    assert out["kept"] == "rounded"


def test_rounding_takes_the_best_buildable_neighbour_and_defaults_fill_missing_knobs(results):
    # x builds only as a whole number: of the neighbours 10 and 11 of the relaxed 10.39, 11
    # breaks the area bound, so 10 is kept (exactly). The knob y is not in the sweep: it starts
    # at its default, and since the design ignores it (zero gradient), it stays there.
    def whole(knobs):
        return {name: float(round(value)) for name, value in knobs.items()}

    def floor_ceil(knobs):
        return {name: tuple(sorted({math.floor(v), math.ceil(v)})) for name, v in knobs.items()}

    out = optimize(
        design,
        results,
        {"x": X_RANGE, "y": (0.5, 2.0)},
        "latency",
        [Constraint("area", "<=", AREA_LIMIT)],
        defaults={"y": 1.0},
        rounding=whole,
        neighbours=floor_ceil,
    )
    assert out["start"]["knobs"] == {"x": 8.0, "y": 1.0}
    assert out["relaxed"]["knobs"]["y"] == pytest.approx(1.0, abs=1e-6)
    assert out["rounded"]["knobs"] == {"x": 10.0, "y": 1.0}
    assert out["rounded"]["values"]["latency"] == pytest.approx(B / 10.0, rel=1e-6)  # float32 round-off
    assert out["kept"] == "rounded" and out["design"] == {"x": 10.0, "y": 1.0}


@pytest.mark.parametrize(
    ("objective", "constraints", "name"),
    [
        ("latency", [Constraint("power", "<=", 1.0)], "'power'"),
        ("speed", [], "'speed'"),
    ],
)
def test_an_unknown_column_raises_naming_it_and_the_columns(results, objective, constraints, name):
    with pytest.raises(ValueError, match=name) as error:
        optimize(design, results, {"x": X_RANGE}, objective, constraints, steps=1)
    assert "choose from: area, energy, latency, throughput" in str(error.value)  # the sweep's outputs


def test_a_knob_neither_swept_nor_defaulted_raises(results):
    with pytest.raises(ValueError, match="'y'"):
        optimize(design, results, {"x": X_RANGE, "y": (0.5, 2.0)}, "latency", steps=1)


def test_parse_constraint_reads_si_limits_and_names_bad_columns():
    assert parse_constraint("area<=100mm2") == Constraint("area", "<=", pytest.approx(100e-6))
    assert parse_constraint("tops_per_w >= 2") == Constraint("tops_per_w", ">=", 2.0)
    with pytest.raises(ValueError, match="unknown constraint column 'size'"):
        parse_constraint("size<=1")


# ---------------------------------------------------------------------------------------------
# Layering: hwjax_models -> hwjax, never back


def test_importing_the_library_leaves_hwjax_models_unloaded():
    code = (
        "import sys, hwjax, hwjax.codesign, hwjax.sweep.plot\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'hwjax_models')\n"
        "assert not loaded, loaded"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_no_module_of_the_library_imports_hwjax_models():
    # also the lazy imports inside functions, which importing the package would not reveal
    root = Path(__file__).resolve().parents[1] / "hwjax"
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "hwjax_models" for name in names):
                offenders.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    assert not offenders, offenders
