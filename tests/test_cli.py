"""The ``hwjax`` command, run in-process through ``hwjax_models.cli.main`` on small workloads (and
once through the installed console script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hwjax as hj
from hwjax.codesign import parse_constraint
from hwjax_models import architectures as A
from hwjax_models import cli

LEAF_FIELDS = {"energy_J", "latency_s", "area_m2", "power_W", "ops"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _leaves(tree):
    if set(tree) == LEAF_FIELDS:
        yield tree
        return
    for child in tree.values():
        yield from _leaves(child)


# ---------------------------------------------------------------------------------------------
# report


@pytest.fixture(scope="module")
def timon_report():
    return A.evaluate("timon", {"act_bits": 8.0}, "timon_deepbench_1", "exact")


def test_report_json_has_the_issue_fields_and_agrees_with_the_model(capsys, timon_report):
    status, out, _ = run(capsys, "report", "timon", "timon_deepbench_1", "--set", "act_bits=8", "--json")
    assert status == 0
    data = json.loads(out)
    assert set(data) == {"total", "metrics", "breakdown"}
    assert set(data["total"]) == LEAF_FIELDS
    assert set(data["metrics"]) == {"tops_per_w", "tops_per_mm2"}
    want = hj.total(timon_report)
    # the same eager float32 computation: equal to round-off (1e-6 relative)
    assert data["total"]["energy_J"] == pytest.approx(float(want.total_energy), rel=1e-6)
    assert data["total"]["area_m2"] == pytest.approx(float(want.area), rel=1e-6)
    assert data["metrics"]["tops_per_w"] == pytest.approx(float(hj.tops_per_watt(want)), rel=1e-6)
    # nested like the Report: one leaf per Cost, whose ops and areas add up to the total (a
    # serial Report; float32 sums in another order: 1e-5 relative). Energies need not add up:
    # each node's energy_J holds the leakage over its own latency.
    leaves = list(_leaves(data["breakdown"]))
    assert len(leaves) == len(timon_report.flat())
    for field in ("ops", "area_m2"):
        assert sum(leaf[field] for leaf in leaves) == pytest.approx(data["total"][field], rel=1e-5)


def test_report_text_shows_totals_efficiency_and_the_table(capsys):
    status, out, _ = run(capsys, "report", "timon", "timon_deepbench_1")
    assert status == 0
    assert out.startswith("timon on timon_deepbench_1")
    assert "TOPS/W" in out and "TOPS/mm²" in out and "total (serial)" in out


def test_report_metrics_are_null_where_undefined(capsys):
    # A report with no area (here: an action costed alone) has no TOPS/mm²: null, not 0 or inf.
    report = hj.Report({"mvm": hj.Cost(1e-9, 1e-6, 0.0, ops=2e6)})
    data = cli.report_json(report)
    assert data["metrics"]["tops_per_mm2"] is None and data["metrics"]["tops_per_w"] > 0


# ---------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["report", "tpu"], ["unknown architecture 'tpu'", "puma", "timon"]),
        (["report", "puma", "resnet9000"], ["unknown workload 'resnet9000'", "mlp_l4", "vgg16"]),
        (["report", "puma", "--set", "adc=6"], ["unknown knob 'adc'", "adc_bits", "mvmu_dim"]),
        (["report", "puma", "--set", "adc_bits"], ["--set 'adc_bits'", "knob=value"]),
        (["report", "puma", "--set", "adc_bits=six"], ["adc_bits='six' is not a number"]),
        (["report", "puma", "--set", "adc_bits=40"], ["adc_bits=40", "[1, 16]"]),
        (["sweep", "puma", "mlp_l4", "--out", "X", "--space", "halton:8 adc_bits=6:10"], ["adc_bits=6:10"]),
        (["sweep", "puma", "mlp_l4", "--out", "X", "--space", "adcbits=6,8"], ["unknown knob 'adcbits'"]),
        (["sweep", "puma", "mlp_l4", "--out", "X", "--objectives", "energy,speed"], ["speed", "latency"]),
        (["optimize", "puma", "mlp_l4", "--constraint", "area<100"], ["area<100", "COLUMN<=VALUE"]),
        (["optimize", "puma", "mlp_l4", "--constraint", "size<=1"], ["size", "area, power"]),
        (["optimize", "puma", "mlp_l4", "--constraint", "area<=5W"], ["area='5W' must be in m2"]),
        (["optimize", "puma", "mlp_l4", "--objective", "speed"], ["unknown objective 'speed'"]),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_problem(capsys, tmp_path, argv, names):
    argv = [str(tmp_path / "out") if a == "X" else a for a in argv]
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert err.startswith("hwjax: error: ") and err.count("\n") == 1, err
    for name in names:
        assert name in err
    assert out == ""


def test_argparse_usage_errors_exit_2(capsys):
    status, _, err = run(capsys, "sweep", "puma")  # WORKLOAD and --out missing
    assert status == 2 and "required" in err


def test_installed_console_script_reports_bad_input_without_a_traceback():
    script = Path(sys.executable).with_name("hwjax")
    done = subprocess.run([str(script), "report", "tpu"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("hwjax: error: unknown architecture 'tpu'")
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


# ---------------------------------------------------------------------------------------------
# sweep

SWEEP = ["sweep", "timon", "timon_deepbench_1", "--space", "halton:12 dp_width=16..128..log act_bits=4..16"]


def test_sweep_writes_csv_front_and_plot_of_buildable_designs(capsys, tmp_path):
    out = tmp_path / "sweep"
    status, text, _ = run(capsys, *SWEEP, "--out", str(out), "--objectives", "energy,latency,area")
    assert status == 0
    assert "12 designs" in text and "pareto front over energy, latency, area" in text
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = hj.sweep.Results.from_csv(out / "results.csv")
    front = hj.sweep.Results.from_csv(out / "pareto.csv")
    assert len(results) == 12 and 1 <= len(front) <= 12
    # halton samples are rounded before evaluation: powers of two and whole bits, exactly
    assert set(np.unique(results["dp_width"])) <= {16.0, 32.0, 64.0, 128.0}
    np.testing.assert_array_equal(results["act_bits"], np.round(results["act_bits"]))
    # no design of the front is dominated by any design of the sweep
    objectives = np.stack([results[c] for c in ("energy", "latency", "area")], axis=1)
    for row in np.stack([front[c] for c in ("energy", "latency", "area")], axis=1):
        dominated = np.all(objectives <= row, axis=1) & np.any(objectives < row, axis=1)
        assert not dominated.any()

    # the folder now holds a sweep: refused without --resume, reloaded with it
    status, _, err = run(capsys, *SWEEP, "--out", str(out))
    assert status == 2 and "--resume" in err
    before = (out / "results.csv").read_text()
    status, text, _ = run(capsys, *SWEEP, "--out", str(out), "--resume")
    assert status == 0 and "all loaded from the saved sweep" in text
    assert (out / "results.csv").read_text() == before


def test_sweep_needs_two_objectives(capsys, tmp_path):
    status, _, err = run(capsys, *SWEEP, "--out", str(tmp_path / "s"), "--objectives", "edp")
    assert status == 2 and "at least two" in err


# ---------------------------------------------------------------------------------------------
# optimize

# On timon_deepbench_1 the lowest-EDP designs of the start sweep draw over 3 W: the bound binds.
POWER_LIMIT = 3.0


@pytest.fixture(scope="module")
def optimized():
    argv = ["optimize", "timon", "timon_deepbench_1", "--constraint", "power<=3W"]
    argv += ["--steps", "8", "--sweep-points", "8", "--json"]
    with pytest.MonkeyPatch.context() as patch:
        lines = []
        patch.setattr("builtins.print", lambda *a, **k: lines.append(" ".join(map(str, a))))
        status = cli.main(argv)
    return status, json.loads("\n".join(lines))


def test_optimize_respects_the_constraint_and_never_reports_a_worse_design(optimized):
    status, result = optimized
    assert status == 0
    assert result["constraints"] == [{"column": "power", "op": "<=", "limit": POWER_LIMIT}]
    kept = result[result["kept"]]
    assert kept["feasible"] and kept["values"]["power"] <= POWER_LIMIT
    assert result["start"]["feasible"]  # the sweep holds feasible designs (see POWER_LIMIT)
    # honest: the kept design is the start or a feasible design at least as good
    assert kept["values"]["edp"] <= result["start"]["values"]["edp"]
    assert result["design"] == kept["knobs"]


def test_optimize_rounds_to_a_buildable_design_and_re_evaluates_it_exactly(optimized):
    _, result = optimized
    rounded = result["rounded"]["knobs"]
    assert rounded == A.round_to_buildable("timon", rounded)  # already buildable
    exact = hj.total(A.evaluate("timon", rounded, "timon_deepbench_1", "exact"))
    # the same eager float32 evaluation: equal to round-off (1e-6 relative)
    assert result["rounded"]["values"]["edp"] == pytest.approx(float(exact.edp), rel=1e-6)
    assert result["relaxed"]["mode"] == "smooth"


def test_optimize_text_shows_before_and_after(capsys):
    result = {
        "objective": "edp",
        "start": {"knobs": {"dp_width": 64.0}, "values": {"edp": 2.0, "power": 2.0}, "feasible": True},
        "relaxed": {"knobs": {"dp_width": 50.0}, "values": {"edp": 1.0, "power": 2.5}, "mode": "ste"},
        "rounded": {"knobs": {"dp_width": 32.0}, "values": {"edp": 3.0, "power": 4.0}, "feasible": False},
        "kept": "start",
    }
    text = cli.optimize_text(result, [parse_constraint("power<=3W")], "title")
    assert "sweep best (exact)" in text and "descent (ste)" in text and "rounded (exact)" in text
    assert "4 W VIOLATED" in text
    verdict = "kept the sweep's best: the rounded design is not better (edp +50.0%, constraints violated)"
    assert verdict in text


# ---------------------------------------------------------------------------------------------
# the main job


def test_main_job_without_arguments_writes_every_output(capsys, tmp_path, monkeypatch):
    # The embedded job (PUMA, 4096 designs) takes about 40 s; the same code on a small job here.
    job = cli.MainJob("timon", "timon_deepbench_1", str(tmp_path / "job"), sweep_points=8, steps=3)
    monkeypatch.setattr(cli, "MAIN_JOB", job)
    status, out, _ = run(capsys)
    assert status == 0
    folder = tmp_path / "job"
    assert str(folder.resolve()) in out
    for name in ("report.txt", "report.json", "results.csv", "pareto.csv", "pareto.png"):
        assert (folder / name).stat().st_size > 0, name
    for name in ("optimize.txt", "optimize.json"):
        assert (folder / name).stat().st_size > 0, name
    assert set(json.loads((folder / "report.json").read_text())) == {"total", "metrics", "breakdown"}
    assert json.loads((folder / "optimize.json").read_text())["kept"] in ("start", "rounded")
