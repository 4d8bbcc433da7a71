"""The ``hwjax`` command: report, sweep and optimize the accelerators of :mod:`hwjax_models`.

::

    hwjax                                   # the main job: PUMA report, sweep, Pareto plot, optimize
    hwjax report ARCH [WORKLOAD] [--set knob=value ...] [--json] [--mode exact]
    hwjax sweep ARCH WORKLOAD --out DIR [--space SPEC] [--resume] [--objectives energy,latency]
    hwjax optimize ARCH WORKLOAD [--objective edp] [--constraint area<=100mm2 ...] [--steps 100]

ARCH is a registry name (:data:`hwjax_models.architectures.ARCHITECTURES`), WORKLOAD a catalog
name (:func:`hwjax_models.workloads.catalog`). Values are SI numbers (``area<=100e-6``) or carry
an SI prefix and unit (``area<=100mm2``, ``latency<=2ms``, ``power<=5W``, ``clock_hz=1.2GHz``).

Output columns (sweep objectives, optimize objectives and constraints): ``energy`` (J, dynamic
plus leakage), ``latency`` (s), ``area`` (m²), ``power`` (W), ``edp`` (J·s), ``ops``,
``tops_per_w`` and ``tops_per_mm2`` (the last two are maximised); see :data:`hwjax.codesign.COLUMNS`.

Bad input (an unknown architecture, workload, knob or column, a malformed ``--set``,
``--space`` or ``--constraint``) prints one line ``hwjax: error: ...`` naming the problem and
the valid choices, and exits with status 2.

This module only parses arguments, drives the registry and prints: the optimizer is
:func:`hwjax.codesign.optimize`, the plot :func:`hwjax.sweep.plot_front`. It sits on the models
side, so the arrows run one way (``hwjax_models`` -> ``hwjax``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hwjax import relax, sweep
from hwjax.codesign import (
    COLUMNS,
    Constraint,
    DesignFn,
    check_columns,
    columns,
    format_value,
    optimize,
    parse_constraint,
)
from hwjax.cost import Cost, Report, format_area, format_report, total
from hwjax.units import format_si, parse_si
from hwjax_models import architectures as registry

# ---------------------------------------------------------------------------------------------
# Settings


def parse_settings(items: Sequence[str] | None) -> dict[str, float]:
    """``["adc_bits=6", "clock_hz=1.2GHz"]`` -> ``{"adc_bits": 6.0, "clock_hz": 1.2e9}``."""
    settings: dict[str, float] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"--set {item!r} must be written knob=value, e.g. adc_bits=6")
        settings[name.strip()] = parse_si(value, name=name.strip())
    return settings


# ---------------------------------------------------------------------------------------------
# report


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def cost_json(cost: Cost) -> dict[str, float]:
    """``{energy_J, latency_s, area_m2, power_W, ops}`` of one Cost (energy: dynamic + leakage)."""
    values = {
        "energy_J": cost.total_energy,
        "latency_s": cost.latency,
        "area_m2": cost.area,
        "power_W": cost.power,
        "ops": cost.ops,
    }
    return {key: _finite_or_none(float(value)) for key, value in values.items()}


def _breakdown(item: Report | Cost) -> dict[str, Any]:
    if isinstance(item, Cost):
        return cost_json(item)
    return {name: _breakdown(child) for name, child in item.items()}


def report_json(report: Report) -> dict[str, Any]:
    """The ``report --json`` object: ``total``, ``metrics`` (``tops_per_w``, ``tops_per_mm2``;
    ``null`` where undefined) and ``breakdown`` (nested like the Report, each leaf a
    :func:`cost_json`)."""
    grand = total(report)
    values = {name: float(value) for name, value in columns(grand).items()}
    defined = {"tops_per_w": grand.total_energy > 0, "tops_per_mm2": grand.latency > 0 and grand.area > 0}
    metrics = {name: _finite_or_none(values[name]) if defined[name] else None for name in defined}
    return {"total": cost_json(grand), "metrics": metrics, "breakdown": _breakdown(report)}


def report_text(report: Report, title: str) -> str:
    """A header (totals, TOPS/W, TOPS/mm²) above :func:`hwjax.format_report`'s breakdown table."""
    data = report_json(report)
    totals, metrics = data["total"], data["metrics"]
    shown = {
        "energy": format_si(totals["energy_J"], "J"),
        "latency": format_si(totals["latency_s"], "s"),
        "area": format_area(totals["area_m2"]),
        "power": format_si(totals["power_W"], "W"),
        "ops": format_si(totals["ops"]),
    }
    efficiency = [
        f"{metrics[name]:.4g} {COLUMNS[name].unit}"
        if metrics[name] is not None
        else f"n/a {COLUMNS[name].unit}"
        for name in ("tops_per_w", "tops_per_mm2")
    ]
    lines = [
        title,
        "total: " + ", ".join(f"{name} {value}" for name, value in shown.items()),
        "efficiency: " + ", ".join(efficiency),
        "",
        format_report(report, title="total"),
    ]
    return "\n".join(lines)


def _title(arch, workload: str, mode: str, settings: Mapping[str, float]) -> str:
    knobs = ", ".join(f"{name}={value:g}" for name, value in settings.items()) or "published defaults"
    return f"{arch.name} on {workload}: {arch.measures} (mode {mode}; {knobs})"


def _workload(arch, name: str | None):
    """(catalog name, network) to run: ``name`` or the architecture's default (an unknown name
    raises ValueError listing them)."""
    name = arch.default_workload if name is None else name
    return name, registry.resolve_workload(arch, name)


def cmd_report(args: argparse.Namespace) -> int:
    arch = registry.get(args.arch)
    workload, network = _workload(arch, args.workload)
    settings = parse_settings(args.set)
    report = registry.evaluate(arch, settings, network, args.mode)
    if args.json:
        print(json.dumps(report_json(report), indent=1))
    else:
        print(report_text(report, _title(arch, workload, args.mode, settings)))
    return 0


# ---------------------------------------------------------------------------------------------
# sweep


def _design(arch, network, settings: Mapping[str, float]) -> DesignFn:
    """``(knobs, mode) -> columns`` of ``arch`` running ``network``, ``settings`` overridden by
    ``knobs`` (:data:`hwjax.codesign.DesignFn`)."""

    def design(knobs, mode: str):
        return columns(total(arch.cost(registry.config(arch, {**settings, **knobs}), network, mode)))

    return design


def _design_fn(arch, network, mode: str, settings: Mapping[str, float], buildable: bool):
    """``knobs -> columns`` of one design: ``settings`` overridden by the swept ``knobs``, the
    registry's knobs rounded to buildable values first when ``buildable``."""
    design = _design(arch, network, settings)

    def sweep_design(knobs):
        if buildable:
            knobs = {
                n: arch.knobs[n].round(v, clip=False) if n in arch.knobs else v for n, v in knobs.items()
            }
        return design(knobs, mode)

    return sweep_design


def run_sweep(arch, network, space, *, mode="exact", settings=None, buildable=True, **run_kwargs):
    """Sweep ``space`` (a :class:`hwjax.sweep.Space`) on ``arch`` running ``network``.

    With ``buildable``, every registered knob is rounded to a buildable value before it is
    evaluated, and the knob columns of the results hold those rounded values. ``run_kwargs`` go
    to :func:`hwjax.sweep.run` (``chunk_size``, ``out``, ``resume``, ``progress``).
    """
    registry.check_knob_names(arch, space.names)
    fn = _design_fn(arch, network, mode, dict(settings or {}), buildable)
    results = sweep.run(fn, space, **run_kwargs)
    if not buildable:
        return results
    data = dict(results.columns)
    for name in space.names:  # continuous knobs keep their exact float64 values
        if name in arch.knobs and arch.knobs[name].rounding != "continuous":
            data[name] = np.asarray(arch.knobs[name].round(data[name], clip=False), np.float64)
    return sweep.Results(data, results.knobs, results.info)


def _knob_text(row: Mapping[str, float], names: Sequence[str]) -> str:
    return ", ".join(f"{name}={row[name]:.6g}" for name in names)


def _speed(results) -> str:
    info = results.info
    evaluated, seconds = info.get("evaluated", len(results)), info.get("eval_s", 0.0)
    if not evaluated:
        return f"sweep: {len(results)} designs, all loaded from the saved sweep"
    rate = f"{evaluated / seconds:,.0f} designs/s" if seconds > 0 else "too fast to time"
    return (
        f"sweep: {len(results)} designs ({evaluated} evaluated): compile {info.get('compile_s', 0.0):.1f} s, "
        f"then {seconds:.2f} s ({rate})"
    )


def _distinct_designs(results):
    """One row per design (the first): sampled knobs rounded to buildable values repeat designs,
    and every copy of a non-dominated design is on the front."""
    if not results.knobs:
        return results
    knobs = np.stack([results[name] for name in results.knobs], axis=1)
    _, first = np.unique(knobs, axis=0, return_index=True)
    return results.take(np.sort(first))


def sweep_outputs(results, objectives: Sequence[str], out: Path, title: str) -> list[str]:
    """Write results.csv, pareto.csv and pareto.png under ``out``; return summary lines."""
    objectives = check_columns(objectives, "objective")
    if len(objectives) < 2:
        raise ValueError(f"--objectives {','.join(objectives)!r} needs at least two columns for a front")
    maximize = [name for name in objectives if COLUMNS[name].maximize]
    front = _distinct_designs(results.pareto(objectives, maximize=maximize))
    out.mkdir(parents=True, exist_ok=True)
    results.to_csv(out / "results.csv")
    front.to_csv(out / "pareto.csv")
    units = {name: COLUMNS[name].unit for name in objectives}
    sweep.plot_front(results, front, objectives, out / "pareto.png", title, units)
    best = results.best(objectives[0], maximize=objectives[0] in maximize)
    shown = ", ".join(f"{name} {format_value(best[name], name)}" for name in objectives)
    return [
        _speed(results),
        f"pareto front over {', '.join(objectives)}: {len(front)} designs",
        f"best {objectives[0]}: {shown} at {_knob_text(best, results.knobs)}",
        f"wrote {out / 'results.csv'}, {out / 'pareto.csv'}, {out / 'pareto.png'}",
    ]


def cmd_sweep(args: argparse.Namespace) -> int:
    arch = registry.get(args.arch)
    workload, network = _workload(arch, args.workload)
    objectives = check_columns([o.strip() for o in args.objectives.split(",") if o.strip()], "objective")
    settings = parse_settings(args.set)
    space = sweep.parse_space(args.space or registry.space_spec(arch, args.points))
    out = Path(args.out)
    if (out / "manifest.json").exists() and not args.resume:
        raise ValueError(
            f"--out {str(out)!r} already holds a sweep; add --resume to continue it or choose another folder"
        )
    results = run_sweep(
        arch,
        network,
        space,
        mode=args.mode,
        settings=settings,
        buildable=not args.continuous,
        chunk_size=args.chunk_size,
        out=out,
        resume=args.resume,
        progress=sys.stderr.isatty(),
    )
    title = f"{arch.name} on {workload}: {len(space)} designs"
    print("\n".join(sweep_outputs(results, objectives, out, title)))
    return 0


# ---------------------------------------------------------------------------------------------
# optimize


def optimize_design(
    arch,
    network,
    results,
    objective="edp",
    constraints=(),
    *,
    mode="smooth",
    steps=100,
    learning_rate=0.05,
    settings=None,
) -> dict[str, Any]:
    """:func:`hwjax.codesign.optimize` on ``arch`` running ``network``: every registered knob
    moves over its range, starts from ``results`` (a :func:`run_sweep`; knobs it lacks take the
    published values, or ``settings``) and rounds to buildable neighbours."""
    settings = dict(settings or {})
    ranges = {n: (k.low, k.high, "log") if k.log_scale else (k.low, k.high) for n, k in arch.knobs.items()}
    return optimize(
        _design(arch, network, settings),
        results,
        ranges,
        objective,
        constraints,
        defaults=registry.knob_values(arch, registry.config(arch, settings)),
        rounding=lambda knobs: registry.round_to_buildable(arch, knobs),
        neighbours=lambda knobs: registry.buildable_neighbours(arch, knobs),
        mode=mode,
        steps=steps,
        learning_rate=learning_rate,
    )


def _constraint_cell(stage: Mapping[str, Any], constraint: Constraint) -> str:
    value = stage["values"][constraint.column]
    return f"{format_value(value, constraint.column)} {'ok' if constraint.holds(value) else 'VIOLATED'}"


def _aligned(rows: list[list[str]]) -> list[str]:
    """Rows as text: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join([row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))])
        for row in rows
    ]


def _verdict(result: Mapping[str, Any], constraints) -> list[str]:
    objective = result["objective"]
    start, rounded = result["start"]["values"][objective], result["rounded"]["values"][objective]
    change = f"{objective} {(rounded - start) / start * 100:+.1f}%" if start else objective
    if result["kept"] == "rounded":
        verdict = f"kept the rounded design: {change} against the sweep's best"
    else:
        broken = "" if result["rounded"]["feasible"] else ", constraints violated"
        verdict = f"kept the sweep's best: the rounded design is not better ({change}{broken})"
    if not constraints:
        return [verdict, "constraints: none"]
    met = result[result["kept"]]["feasible"]
    return [verdict, "constraints: " + ("all hold" if met else "NOT met by any design found")]


def optimize_text(result: Mapping[str, Any], constraints, title: str) -> str:
    """The before/after table of :func:`optimize_design` and its verdict."""
    objective = result["objective"]
    stages = [result["start"], result["relaxed"], result["rounded"]]
    rows = [["", "sweep best (exact)", f"descent ({result['relaxed']['mode']})", "rounded (exact)"]]
    rows += [[name, *(f"{s['knobs'][name]:.6g}" for s in stages)] for name in result["start"]["knobs"]]
    rows.append(
        [f"{objective} (objective)", *(format_value(s["values"][objective], objective) for s in stages)]
    )
    rows += [[str(c), *(_constraint_cell(s, c) for s in stages)] for c in constraints]
    return "\n".join([title, *_aligned(rows), "", *_verdict(result, constraints)])


def cmd_optimize(args: argparse.Namespace) -> int:
    arch = registry.get(args.arch)
    workload, network = _workload(arch, args.workload)
    check_columns([args.objective], "objective")
    constraints = [parse_constraint(text) for text in args.constraint or ()]
    settings = parse_settings(args.set)
    space = sweep.parse_space(registry.space_spec(arch, args.sweep_points))
    results = run_sweep(arch, network, space, settings=settings, progress=False)
    result = optimize_design(
        arch,
        network,
        results,
        args.objective,
        constraints,
        mode=args.mode,
        steps=args.steps,
        learning_rate=args.learning_rate,
        settings=settings,
    )
    result.update(architecture=arch.name, workload=workload)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        title = f"{arch.name} on {workload}: {args.objective} from the best of {len(space)} sweep designs"
        print(optimize_text(result, constraints, title))
    return 0


# ---------------------------------------------------------------------------------------------
# The main job


@dataclasses.dataclass(frozen=True)
class MainJob:
    """What ``hwjax`` with no arguments runs (embedded defaults)."""

    arch: str = "puma"
    workload: str = "mlp_l4"
    out: str = "hwjax-out"
    sweep_points: int = 4096
    objectives: tuple[str, ...] = ("energy", "latency")
    objective: str = "edp"
    steps: int = 60
    learning_rate: float = 0.05
    mode: str = "smooth"


MAIN_JOB = MainJob()


def _say(lines: str, path: Path | None = None) -> None:
    print(lines, flush=True)
    if path is not None:
        path.write_text(lines + "\n")


def main_job(job: MainJob | None = None) -> int:
    """The PUMA node on a catalog workload: a report, a halton sweep of every knob with its
    Pareto plot, and the gradient-descent refinement of the best sweep design at no more area
    than the published node occupies. Everything lands under ``job.out``. ``job`` defaults to
    :data:`MAIN_JOB`."""
    job = MAIN_JOB if job is None else job
    started = time.perf_counter()
    out = Path(job.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    print(f"hwjax main job: {job.arch} on {job.workload}; writing to {out}", flush=True)
    arch = registry.get(job.arch)
    network = registry.resolve_workload(arch, job.workload)

    report = registry.evaluate(arch, {}, network, "exact")
    _say(report_text(report, _title(arch, job.workload, "exact", {})), out / "report.txt")
    (out / "report.json").write_text(json.dumps(report_json(report), indent=1) + "\n")

    space = sweep.parse_space(registry.space_spec(arch, job.sweep_points))
    results = run_sweep(arch, network, space, progress=sys.stderr.isatty())
    title = f"{arch.name} on {job.workload}: {len(space)} halton designs"
    _say("\n" + "\n".join(sweep_outputs(results, job.objectives, out, title)))

    area = Constraint("area", "<=", float(total(report).area))  # no bigger than the published node
    result = optimize_design(
        arch,
        network,
        results,
        job.objective,
        [area],
        mode=job.mode,
        steps=job.steps,
        learning_rate=job.learning_rate,
    )
    result.update(architecture=arch.name, workload=job.workload)
    heading = (
        f"{arch.name} on {job.workload}: minimise {job.objective} at no more area than the published node"
    )
    print()
    _say(optimize_text(result, [area], heading), out / "optimize.txt")
    (out / "optimize.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"\ndone in {time.perf_counter() - started:.1f} s; outputs in {out}")
    return 0


# ---------------------------------------------------------------------------------------------
# Argument parsing and the edge


def _add_common(parser: argparse.ArgumentParser, workload_optional: bool) -> None:
    parser.add_argument("arch", help="architecture: puma, isaac, digital, panther, maxnvm, timon")
    parser.add_argument(
        "workload",
        nargs="?" if workload_optional else None,
        help="catalog workload (default: the architecture's own)"
        if workload_optional
        else "catalog workload",
    )
    parser.add_argument(
        "--set",
        action="extend",
        nargs="+",
        metavar="KNOB=VALUE",
        help="Config field overrides, SI units (adc_bits=6 clock_hz=1.2GHz)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hwjax",
        description="Energy, latency and area of in-memory-computing accelerators. "
        "With no arguments: the main job (PUMA report, sweep, Pareto plot, optimization).",
    )
    commands = parser.add_subparsers(dest="command", metavar="{report,sweep,optimize}")

    report = commands.add_parser("report", help="energy/latency/area/power breakdown of one design")
    _add_common(report, workload_optional=True)
    report.add_argument(
        "--json", action="store_true", help="print one JSON object (total, metrics, breakdown)"
    )
    report.add_argument("--mode", default="exact", choices=relax.MODES, help="relaxation of counts (exact)")
    report.set_defaults(run=cmd_report)

    sweep = commands.add_parser("sweep", help="sweep a design space; CSV and Pareto plot")
    _add_common(sweep, workload_optional=False)
    sweep.add_argument(
        "--space",
        help="hwjax.sweep grammar, e.g. 'halton:4096 adc_bits=6..10' (default: "
        "every registry knob over its range)",
    )
    sweep.add_argument("--points", type=int, default=1024, help="points of the default space (1024)")
    sweep.add_argument("--out", required=True, help="output folder (results.csv, pareto.csv, pareto.png)")
    sweep.add_argument("--resume", action="store_true", help="continue the sweep saved in --out")
    sweep.add_argument(
        "--objectives", default="energy,latency", help="comma-separated columns (energy,latency)"
    )
    sweep.add_argument("--mode", default="exact", choices=relax.MODES)
    sweep.add_argument("--chunk-size", type=int, default=65536)
    sweep.add_argument("--continuous", action="store_true", help="evaluate knobs as sampled (no rounding)")
    sweep.set_defaults(run=cmd_sweep)

    opt = commands.add_parser("optimize", help="gradient descent on the knobs from the best sweep design")
    _add_common(opt, workload_optional=False)
    opt.add_argument(
        "--objective", default="edp", help="column to minimise: energy, latency, edp, area, power"
    )
    opt.add_argument(
        "--constraint",
        action="append",
        metavar="COL<=VALUE",
        help="e.g. area<=100mm2, power<=5W, latency<=2ms (SI numbers also: area<=100e-6)",
    )
    opt.add_argument("--steps", type=int, default=100)
    opt.add_argument("--learning-rate", type=float, default=0.05)
    opt.add_argument("--mode", default="smooth", choices=("smooth", "ste"))
    opt.add_argument("--sweep-points", type=int, default=256, help="halton designs to start from (256)")
    opt.add_argument("--json", action="store_true")
    opt.set_defaults(run=cmd_optimize)
    return parser


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hwjax`` command; returns the exit status (2: bad input)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse's usage errors (status 2) and --help (0)
        return int(exit_.code or 0)
    try:
        return args.run(args) if args.command else main_job()
    except ValueError as error:  # bad input reported by the library: one line, no traceback
        print(f"hwjax: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader closed the pipe (`hwjax report ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit's flush
        return 1
    except OSError as error:
        print(f"hwjax: error: {_one_line(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
