"""Constrained design optimization: gradient descent on continuous knobs, then rounding.

A design is a cost function ``fn(knobs, mode) -> columns``: ``knobs`` maps knob names to scalars
(traced during descent and sweeps), ``mode`` is a :data:`hwjax.relax.MODES` relaxation
(``"exact"`` for exact evaluation), and the returned columns are named scalars in SI units (for a
:class:`~hwjax.cost.Cost`, :func:`columns` gives energy, latency, area, power, EDP, ops, TOPS/W
and TOPS/mm²). :func:`optimize` starts from the best row of a sweep of ``fn``
(:mod:`hwjax.sweep`), descends in each knob's unit interval with adam (:func:`descend`), rounds
the relaxed design to its best buildable neighbour, and re-evaluates every stage exactly.

Nothing here knows an accelerator: the caller passes the knob ranges, the buildable rounding and
the default knob values as arguments.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import sweep
from hwjax.cost import Cost, format_area, tops_per_mm2, tops_per_watt
from hwjax.sweep.spaces import _check_ranges
from hwjax.units import format_si, parse_si

#: ``fn(knobs, mode) -> columns``: named scalar knobs and a :data:`hwjax.relax.MODES` mode to
#: named scalar outputs (SI units); traceable by ``jax.jit``, ``jax.vmap`` and ``jax.grad``.
DesignFn = Callable[[Mapping[str, Any], str], Mapping[str, Any]]

# ---------------------------------------------------------------------------------------------
# Output columns


@dataclasses.dataclass(frozen=True)
class Column:
    """An output column of a design: its unit (for parsing and display) and direction."""

    unit: str
    maximize: bool = False


#: The columns of :func:`columns`, by name.
COLUMNS: dict[str, Column] = {
    "energy": Column("J"),
    "latency": Column("s"),
    "area": Column("m2"),
    "power": Column("W"),
    "edp": Column("J·s"),
    "ops": Column("", maximize=True),
    "tops_per_w": Column("TOPS/W", maximize=True),
    "tops_per_mm2": Column("TOPS/mm²", maximize=True),
}

#: The columns of :func:`columns` that are maximised (the others are minimised).
MAXIMIZED: tuple[str, ...] = tuple(name for name, column in COLUMNS.items() if column.maximize)


# Always traced: the metrics then give 0 where undefined (a training step has no area) instead of raising.
@jax.jit
def columns(cost: Cost) -> dict[str, jax.Array]:
    """Every output column of a total Cost: energy J (dynamic + leakage), latency s, area m², power
    W, EDP J·s, ops, TOPS/W and TOPS/mm² (0 where undefined)."""
    return {
        "energy": cost.total_energy,
        "latency": jnp.asarray(cost.latency),
        "area": jnp.asarray(cost.area),
        "power": cost.power,
        "edp": cost.edp,
        "ops": jnp.asarray(cost.ops),
        "tops_per_w": tops_per_watt(cost),
        "tops_per_mm2": tops_per_mm2(cost),
    }


def check_columns(names: Sequence[str], what: str, choices: Collection[str] = tuple(COLUMNS)) -> list[str]:
    """``names`` as a list; ``ValueError`` naming the first not in ``choices`` (and listing them).

    ``what`` names the role in the message (``"objective"``, ``"constraint column"``).
    """
    for name in names:
        if name not in choices:
            raise ValueError(f"unknown {what} {name!r}; choose from: {', '.join(choices)}")
    return list(names)


def format_value(value: float, column: str) -> str:
    """A column's value in engineering units (``"2.5 mm²"``); plain for unknown columns."""
    unit = COLUMNS[column].unit if column in COLUMNS else ""
    if unit == "m2":
        return format_area(value)
    if unit in ("J", "s", "W", "J·s"):
        return format_si(value, unit)
    return f"{value:.4g}" + (f" {unit}" if unit else "")


# ---------------------------------------------------------------------------------------------
# Constraints


@dataclasses.dataclass(frozen=True)
class Constraint:
    """``column <= limit`` or ``column >= limit`` (limit in the column's SI unit)."""

    column: str
    op: str
    limit: float

    def holds(self, value: float) -> bool:
        return value <= self.limit if self.op == "<=" else value >= self.limit

    def violation(self, value):
        """Log-ratio by which ``value`` breaks the bound (<= 0 when it holds; traceable)."""
        ratio = jnp.log(jnp.maximum(value, 1e-300) / self.limit)
        return ratio if self.op == "<=" else -ratio

    def __str__(self) -> str:
        return f"{self.column}{self.op}{format_value(self.limit, self.column)}"


def parse_constraint(text: str) -> Constraint:
    """``"area<=100mm2"``, ``"power<=5"``, ``"tops_per_w>=1"`` -> :class:`Constraint`.

    The column is one of :data:`COLUMNS`; the limit is an SI number, optionally with a prefix and
    the column's unit (J, s, m2, W). Raises ``ValueError`` naming the problem.
    """
    match = re.fullmatch(r"\s*([a-z_0-9]+)\s*(<=|>=)\s*(.+)", text)
    if not match:
        raise ValueError(
            f"constraint {text!r} must be written COLUMN<=VALUE or COLUMN>=VALUE, e.g. area<=100mm2; "
            f"columns: {', '.join(COLUMNS)}"
        )
    column, op, value = match.groups()
    check_columns([column], "constraint column")
    unit = COLUMNS[column].unit if COLUMNS[column].unit in ("J", "s", "m2", "W") else ""  # "": plain
    limit = parse_si(value, unit, name=column)
    if not limit > 0 or not math.isfinite(limit):
        raise ValueError(f"constraint {text!r}: the limit must be a positive finite number")
    return Constraint(column, op, limit)


def violation(values: Mapping[str, float], constraints: Sequence[Constraint]) -> float:
    """Total log-violation of ``constraints`` by one design's ``values`` (0 when all hold)."""
    return sum(max(float(c.violation(values[c.column])), 0.0) for c in constraints)


# ---------------------------------------------------------------------------------------------
# Descent

#: Weight of a constraint's log-violation against the log-objective: above the objective's
#: elasticity, so the penalty is exact (the optimum sits on the bound, not beyond it).
PENALTY = 10.0
#: The relaxed descent aims this far (log-ratio) inside each bound, so rounding rarely crosses it.
MARGIN = 0.01


def _check_knob_ranges(ranges: Mapping[str, tuple]) -> dict[str, tuple[float, float, bool]]:
    """name -> (low, high, log) from ``(low, high)`` or ``(low, high, "log")``, low < high."""
    checked = _check_ranges(ranges)
    for name, (low, high, _) in checked.items():
        if not low < high:
            raise ValueError(f"range {name}=({low:g}, {high:g}) must have low < high to be optimized")
    return checked


def _to_unit(value, low: float, high: float, log: bool):
    if log:
        return (jnp.log(value) - math.log(low)) / (math.log(high) - math.log(low))
    return (jnp.asarray(value) - low) / (high - low)


def _from_unit(unit, low: float, high: float, log: bool):
    unit = jnp.clip(unit, 0.0, 1.0)
    if log:
        return jnp.exp(math.log(low) + unit * (math.log(high) - math.log(low)))
    return low + unit * (high - low)


def _sign(objective: str, maximize: Collection[str]) -> float:
    return -1.0 if objective in maximize else 1.0


def penalized_loss(
    fn: DesignFn,
    ranges: Mapping[str, tuple],
    objective: str,
    constraints: Sequence[Constraint] = (),
    *,
    mode: str = "smooth",
    maximize: Collection[str] = MAXIMIZED,
) -> Callable[[jax.Array], jax.Array]:
    """``unit -> loss``: the log-objective (negated when maximised) plus :data:`PENALTY` x each
    constraint's log-violation, :data:`MARGIN` inside its bound. ``unit[i]`` in [0, 1] is knob
    ``i`` of ``ranges`` mapped over its range (log-linearly for log ranges)."""
    checked = _check_knob_ranges(ranges)
    sign = _sign(objective, maximize)

    def loss(unit: jax.Array) -> jax.Array:
        knobs = {name: _from_unit(unit[i], *bounds) for i, (name, bounds) in enumerate(checked.items())}
        values = fn(knobs, mode)
        penalty = sum(
            (jax.nn.relu(c.violation(values[c.column]) + MARGIN) for c in constraints), jnp.zeros(())
        )
        return sign * jnp.log(jnp.maximum(values[objective], 1e-300)) + PENALTY * penalty

    return loss


def descend(
    fn: DesignFn,
    ranges: Mapping[str, tuple],
    start: Mapping[str, float],
    objective: str,
    constraints: Sequence[Constraint] = (),
    *,
    mode: str = "smooth",
    steps: int = 100,
    learning_rate: float = 0.05,
    maximize: Collection[str] = MAXIMIZED,
) -> tuple[dict[str, float], float]:
    """Adam on the knobs of ``ranges`` in their unit space ([0, 1], log-scaled for log ranges),
    projected back into [0, 1] after each step, minimising :func:`penalized_loss` from
    ``start``. Returns the knobs of the iterate with the lowest loss (relaxed values, in the
    knobs' units, not yet buildable) and that loss."""
    import optax

    checked = _check_knob_ranges(ranges)
    unit = jnp.array([float(_to_unit(start[name], *bounds)) for name, bounds in checked.items()])
    loss = penalized_loss(fn, ranges, objective, constraints, mode=mode, maximize=maximize)
    value_and_grad = jax.jit(jax.value_and_grad(loss))
    optimizer = optax.adam(learning_rate)
    state = optimizer.init(unit)
    best_unit, best_loss = unit, float("inf")
    for _ in range(steps + 1):  # the last evaluation scores the final iterate
        value, grad = value_and_grad(unit)
        if float(value) < best_loss:
            best_unit, best_loss = unit, float(value)
        grad = jnp.where(jnp.isfinite(grad), grad, 0.0)  # a clamped edge must not poison adam
        updates, state = optimizer.update(grad, state, unit)
        unit = jnp.clip(optax.apply_updates(unit, updates), 0.0, 1.0)
    knobs = {
        name: float(_from_unit(best_unit[i], *bounds)) for i, (name, bounds) in enumerate(checked.items())
    }
    return knobs, best_loss


# ---------------------------------------------------------------------------------------------
# Start point, rounding and the whole optimization


def start_point(
    results: sweep.Results,
    objective: str,
    constraints: Sequence[Constraint] = (),
    maximize: Collection[str] = MAXIMIZED,
) -> tuple[dict[str, float], bool]:
    """The best row of ``results`` meeting every constraint, or (none does) the least violating
    one; and whether it is feasible."""
    n = len(results)
    feasible = np.ones(n, dtype=bool)
    total_violation = np.zeros(n)
    for c in constraints:
        values = np.asarray(results[c.column], np.float64)
        feasible &= values <= c.limit if c.op == "<=" else values >= c.limit
        total_violation += np.maximum(np.asarray(c.violation(values)), 0.0)
    score = _sign(objective, maximize) * np.asarray(results[objective], np.float64)
    score = np.where(np.isfinite(score), score, np.inf)
    if feasible.any():
        index = int(np.argmin(np.where(feasible, score, np.inf)))
    else:
        index = int(np.argmin(total_violation))
    return results.row(index), bool(feasible.any())


def _better(candidate, incumbent, objective: str, constraints, maximize) -> bool:
    """Whether ``candidate`` beats ``incumbent``: feasible first, then less violation, then objective."""
    violations = violation(candidate, constraints), violation(incumbent, constraints)
    if violations[0] != violations[1]:
        return violations[0] < violations[1]
    sign = _sign(objective, maximize)
    return sign * candidate[objective] < sign * incumbent[objective]


def _exact_values(fn: DesignFn, knobs: Mapping[str, float], mode: str = "exact") -> dict[str, float]:
    return {name: float(value) for name, value in fn(knobs, mode).items()}


def _identity(knobs: Mapping[str, float]) -> dict[str, float]:
    return {name: float(value) for name, value in knobs.items()}


def _itself(knobs: Mapping[str, float]) -> dict[str, tuple[float, ...]]:
    return {name: (float(value),) for name, value in knobs.items()}


def best_neighbour(
    fn: DesignFn,
    relaxed: Mapping[str, float],
    objective: str,
    constraints: Sequence[Constraint] = (),
    *,
    neighbours: Callable[[Mapping[str, float]], Mapping[str, Sequence[float]]] | None = None,
    rounding: Callable[[Mapping[str, float]], Mapping[str, float]] | None = None,
    maximize: Collection[str] = MAXIMIZED,
) -> dict[str, float]:
    """The best buildable design around ``relaxed``: every corner of ``neighbours(relaxed)``
    (knob -> the buildable values next to it; default: the value itself) evaluated exactly in one
    sweep, ranked as :func:`start_point` ranks (feasible first, then the objective), then passed
    through ``rounding`` (default: float values)."""
    corners = sweep.grid(**(neighbours or _itself)(relaxed))
    results = sweep.run(lambda knobs: fn(knobs, "exact"), corners, progress=False)
    row, _ = start_point(results, objective, constraints, maximize)
    return dict((rounding or _identity)({name: row[name] for name in relaxed}))


def optimize(
    fn: DesignFn,
    results: sweep.Results,
    ranges: Mapping[str, tuple],
    objective: str = "edp",
    constraints: Sequence[Constraint] = (),
    *,
    defaults: Mapping[str, float] | None = None,
    rounding: Callable[[Mapping[str, float]], Mapping[str, float]] | None = None,
    neighbours: Callable[[Mapping[str, float]], Mapping[str, Sequence[float]]] | None = None,
    maximize: Collection[str] = MAXIMIZED,
    mode: str = "smooth",
    steps: int = 100,
    learning_rate: float = 0.05,
) -> dict[str, Any]:
    """Refine the best sweep design by gradient descent, round it, re-evaluate it exactly.

    Rounding takes the best of the buildable designs around the relaxed one (every corner given
    by ``neighbours``, evaluated exactly), so a rounding that would break a constraint on one knob
    can be repaired by its neighbour on another.

    Args:
        fn: the design, ``fn(knobs, mode) -> columns`` (:data:`DesignFn`).
        results: a sweep of ``fn`` (buildable values) over some of the knobs of ``ranges``; its
            best feasible row is the start.
        ranges: knob -> ``(low, high)`` or ``(low, high, "log")`` in the knob's unit: the knobs
            the descent moves (in [0, 1], log-scaled for log ranges), in this order.
        objective: the column to minimise (maximised if in ``maximize``).
        constraints: :class:`Constraint` s on columns of ``fn``.
        defaults: knob values for knobs of ``ranges`` that ``results`` does not hold.
        rounding: knobs -> the nearest buildable knobs (default: unchanged); applied to the start.
        neighbours: knobs -> knob -> buildable values around it (default: the value itself).
        maximize: the columns maximised (default :data:`MAXIMIZED`).
        mode: relaxation during descent, ``"smooth"`` or ``"ste"``.
        steps, learning_rate: adam steps and rate (in the knobs' [0, 1] unit space).

    Returns:
        a JSON-ready dict: ``objective``, ``constraints``, the ``start``, ``relaxed`` and
        ``rounded`` designs (``knobs``, ``values``: the columns in SI units, ``feasible``;
        ``relaxed`` also ``mode``), ``kept`` (``"rounded"`` or ``"start"``) and ``design`` (the
        kept knobs). The rounded design is kept only if it beats the start when both are
        evaluated exactly.

    Raises:
        ValueError: an objective or constraint column that ``results`` does not hold, a knob
            neither in ``results`` nor in ``defaults``, or a bad range.
    """
    checked = _check_knob_ranges(ranges)
    check_columns([objective], "objective", results.outputs)
    check_columns([c.column for c in constraints], "constraint column", results.outputs)
    defaults = dict(defaults or {})
    row, _ = start_point(results, objective, constraints, maximize)
    for name in checked:
        if name not in row and name not in defaults:
            raise ValueError(f"knob {name!r} is neither a column of the results nor in defaults")
    start = dict((rounding or _identity)({n: row[n] if n in row else defaults[n] for n in checked}))
    relaxed, _ = descend(
        fn,
        ranges,
        start,
        objective,
        constraints,
        mode=mode,
        steps=steps,
        learning_rate=learning_rate,
        maximize=maximize,
    )
    rounded = best_neighbour(
        fn, relaxed, objective, constraints, neighbours=neighbours, rounding=rounding, maximize=maximize
    )
    designs = {
        "start": (start, _exact_values(fn, start)),
        "relaxed": (relaxed, _exact_values(fn, relaxed, mode)),
        "rounded": (rounded, _exact_values(fn, rounded)),
    }
    better = _better(designs["rounded"][1], designs["start"][1], objective, constraints, maximize)
    kept = "rounded" if better else "start"
    out = {
        name: {"knobs": knobs, "values": values, "feasible": violation(values, constraints) == 0.0}
        for name, (knobs, values) in designs.items()
    }
    out["relaxed"]["mode"] = mode
    return {
        "objective": objective,
        "constraints": [dataclasses.asdict(c) for c in constraints],
        **out,
        "kept": kept,
        "design": designs[kept][0],
    }
