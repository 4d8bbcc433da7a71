"""The Cost pytree, its combinators, Report trees and throughput/efficiency metrics.

A :class:`Cost` is what one action, component or system costs: dynamic ``energy`` (J),
``latency`` (s), ``area`` (m²), ``leakage`` power (W) and ``ops`` (operations, a MAC counted as
two as in the dissertation's tables). Combinators express structure:

========================  =========  =========  ====  =======  ===
combinator                energy     latency    area  leakage  ops
========================  =========  =========  ====  =======  ===
``serial(a, b)``          a + b      a + b      a + b a + b    a + b
``parallel(a, b)``        a + b      max(a, b)  a + b a + b    a + b
``repeat(c, n)``          n c        n c        c     c        n c
``replicate(c, n)``       n c        c          n c   n c      n c
========================  =========  =========  ====  =======  ===

Every function here is pure and works under ``jit``, ``vmap`` and ``grad``.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Iterator, Mapping
from typing import Any, Union

import jax
import jax.numpy as jnp

from hwjax import validate
from hwjax._pytree import Knob, pytree_dataclass
from hwjax.units import TOPS, format_si, mm2

COST_FIELDS = ("energy", "latency", "area", "leakage", "ops")


def _safe_divide(numerator, denominator):
    """``numerator / denominator``, and 0 where the denominator is 0 (gradients stay finite)."""
    denominator = jnp.asarray(denominator)
    nonzero = denominator != 0
    return jnp.where(nonzero, numerator / jnp.where(nonzero, denominator, 1.0), 0.0)


def _eager(method):
    """Run ``method`` with constants computed eagerly, so text made inside ``jit`` shows numbers."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with jax.ensure_compile_time_eval():
            return method(*args, **kwargs)

    return wrapper


@pytree_dataclass
class Cost:
    """Energy, latency and area of an action or a piece of hardware (a pytree; all SI).

    Attributes:
        energy: dynamic energy, J.
        latency: time from start to finish, s.
        area: silicon area, m².
        leakage: static power while powered, W.
        ops: operations performed (a multiply-accumulate counts as 2).

    Any field may be a Python number or an array (batched costs share one shape per field
    after broadcasting). Concrete negative or non-finite values raise ``ValueError``; traced
    negative values are clamped to 0.
    """

    energy: Any
    latency: Any
    area: Any
    leakage: Knob = 0.0
    ops: Knob = 0.0

    def __post_init__(self):
        for name in COST_FIELDS:
            value = validate.check_nonnegative(name, getattr(self, name))
            object.__setattr__(self, name, value)

    @property
    def static_energy(self):
        """Energy leaked over the latency, ``leakage * latency``, J."""
        return self.leakage * self.latency

    @property
    def total_energy(self):
        """Dynamic plus static energy, J."""
        return self.energy + self.static_energy

    @property
    def power(self):
        """Average power ``energy / latency + leakage``, W (dynamic part 0 if latency is 0)."""
        return _safe_divide(self.energy, self.latency) + self.leakage

    @property
    def edp(self):
        """Energy-delay product ``total_energy * latency``, J·s."""
        return self.total_energy * self.latency

    def _map(self, fn) -> Cost:
        return jax.tree_util.tree_map(fn, self)

    def __add__(self, other: Cost) -> Cost:
        if isinstance(other, (int, float)) and other == 0:  # lets sum() start from 0
            return self
        if not isinstance(other, Cost):
            return NotImplemented
        return jax.tree_util.tree_map(lambda a, b: a + b, self, other)

    __radd__ = __add__

    def __mul__(self, factor) -> Cost:
        """Scale every field by a non-negative scalar (or broadcastable array)."""
        if isinstance(factor, Cost):
            return NotImplemented
        factor = validate.check_nonnegative("factor", factor)
        return self._map(lambda x: x * factor)

    __rmul__ = __mul__

    def __truediv__(self, divisor) -> Cost:
        divisor = validate.check_positive("divisor", divisor)
        return self._map(lambda x: x / divisor)

    def _cells(self) -> list[str]:
        return [_format_cell(getattr(self, name), unit) for name, unit in _FIELD_UNITS.items()]

    @_eager
    def __repr__(self) -> str:
        """``Cost(energy=10 pJ, latency=2 ns, area=0.0001 mm², leakage=1 uW, ops=256)``."""
        fields = ", ".join(f"{name}={cell}" for name, cell in zip(_FIELD_UNITS, self._cells(), strict=True))
        return f"Cost({fields})"

    @_eager
    def _repr_html_(self) -> str:
        """A one-row HTML table of the fields, for Jupyter."""
        return _html_table(["", *_FIELD_UNITS], [(0, ["Cost", *self._cells()])])


ZERO = Cost(0.0, 0.0, 0.0)


def unchecked(energy, latency, area=0.0, leakage=0.0, ops=0.0) -> Cost:
    """A Cost from fields that are non-negative by construction, skipping validation.

    For the combinators here and for models that build Costs from validated components and
    non-negative factors: under ``jit``, re-validating would add a clip per field to the graph
    (about two thirds of an accelerator model's graph) for nothing. Anything else should call
    :class:`Cost`, which rejects or clamps negative values.
    """
    cost = object.__new__(Cost)
    for name, value in zip(COST_FIELDS, (energy, latency, area, leakage, ops), strict=True):
        object.__setattr__(cost, name, value)
    return cost


def _check_costs(costs: tuple) -> None:
    if not costs:
        raise ValueError("costs is empty; give at least one Cost")
    for i, cost in enumerate(costs):
        if not isinstance(cost, Cost):
            raise ValueError(f"costs[{i}] must be a Cost, got {type(cost).__name__}")


def serial(*costs: Cost) -> Cost:
    """Units used one after another: every field adds (latencies too)."""
    _check_costs(costs)
    return sum(costs[1:], costs[0])


def parallel(*costs: Cost, smooth: float | None = None) -> Cost:
    """Units working at the same time: latency is the maximum; everything else adds.

    Args:
        *costs: the concurrent units.
        smooth: ``None`` for the exact maximum, or a temperature in seconds for the smooth
            log-sum-exp maximum ``T * log(sum(exp(latency / T)))`` (an upper bound within
            ``T * log(len(costs))`` of the maximum), whose gradient reaches every unit.
    """
    _check_costs(costs)
    latencies = jnp.stack(jnp.broadcast_arrays(*(c.latency for c in costs)))
    if smooth is None:
        latency = jnp.max(latencies, axis=0)
    else:
        validate.check_positive("smooth", smooth, unit="s")
        latency = smooth * jax.nn.logsumexp(latencies / smooth, axis=0)
    summed = serial(*costs)
    return unchecked(summed.energy, latency, summed.area, summed.leakage, summed.ops)


def repeat(cost: Cost, n) -> Cost:
    """One unit used ``n`` times in sequence (time multiplexing).

    Energy, latency and ops scale by ``n``; area and leakage are paid once. ``n`` (>= 0) may
    be a traced float, e.g. a relaxed count from :mod:`hwjax.relax`.
    """
    n = validate.check_nonnegative("n", n)
    return unchecked(cost.energy * n, cost.latency * n, cost.area, cost.leakage, cost.ops * n)


def replicate(item: ReportItem, n) -> ReportItem:
    """``n`` spatial copies of a unit working at once.

    Energy, area, leakage and ops scale by ``n``; latency is that of one copy. ``n`` (>= 0)
    may be a traced float. A Report is replicated entry by entry (same names and composition),
    so ``total(replicate(report, n)) == replicate(total(report), n)``.
    """
    n = validate.check_nonnegative("n", n)
    if isinstance(item, Report):
        return jax.tree_util.tree_map(lambda c: _copies(c, n), item, is_leaf=lambda x: isinstance(x, Cost))
    return _copies(item, n)


def _copies(cost: Cost, n) -> Cost:
    return unchecked(cost.energy * n, cost.latency, cost.area * n, cost.leakage * n, cost.ops * n)


ReportItem = Union[Cost, "Report"]
COMPOSITIONS = ("serial", "parallel")


class Report(Mapping):
    """A named breakdown of costs: a nested mapping from names to Costs or Reports.

    ``compose`` says how the children combine into :func:`total`: ``"serial"`` (one after
    another) or ``"parallel"`` (at the same time). Look entries up by name
    (``report["tile"]["core"]["mvmu"]``) or by path (``report["tile", "core", "mvmu"]``).
    A Report is a pytree (names and composition are static), so models can return it from
    ``jit`` and ``vmap``.
    """

    def __init__(self, items: Mapping[str, ReportItem], compose: str = "serial"):
        validate.check_choice("compose", compose, COMPOSITIONS)
        self._compose = compose
        self._items = dict(items)
        for name, item in self._items.items():
            if not isinstance(name, str) or not name or "/" in name:
                raise ValueError(f"report names must be non-empty strings without '/'; got {name!r}")
            if not isinstance(item, (Cost, Report)):
                raise ValueError(f"report[{name!r}] must be a Cost or a Report, got {type(item).__name__}")

    @property
    def compose(self) -> str:
        """How children combine: ``"serial"`` or ``"parallel"``."""
        return self._compose

    def __getitem__(self, key: str | tuple[str, ...]) -> ReportItem:
        if isinstance(key, tuple):
            node: ReportItem = self
            for depth, name in enumerate(key):
                if not isinstance(node, Report):
                    raise KeyError(f"{'/'.join(key[:depth])} is a Cost and has no entry {name!r}")
                node = node[name]
            return node
        if key not in self._items:
            raise KeyError(f"no entry {key!r}; entries are {list(self._items)}")
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    @_eager
    def __repr__(self) -> str:
        """:func:`format_report`'s table; a batch shows element 0, a traced Report its leaf Costs."""
        design, note = _one_design(self)
        if design is None:
            lines = [f"Report({self._compose}, {note})"]
            return "\n".join(lines + [f"  {path}: {cost!r}" for path, cost in self.flat().items()])
        return (f"Report {note}\n" if note else "") + format_report(design)

    @_eager
    def _repr_html_(self) -> str:
        """The :func:`format_report` table as HTML, for Jupyter."""
        design, note = _one_design(self)
        if design is None:
            return f"<pre>{html.escape(repr(self))}</pre>"
        caption = f"<caption>Report {html.escape(note)}</caption>" if note else ""
        return _html_table(_TABLE_HEADER, _table_rows(design, "total", 0, _grand_energy(design)), caption)

    def __str__(self) -> str:
        return format_report(self)

    def flat(self, prefix: str = "") -> dict[str, Cost]:
        """Every leaf Cost by its slash-separated path, e.g. ``{"tile/core/mvmu": Cost}``."""
        out = {}
        for name, item in self._items.items():
            path = f"{prefix}{name}"
            if isinstance(item, Report):
                out.update(item.flat(prefix=f"{path}/"))
            else:
                out[path] = item
        return out


def _report_flatten(report: Report):
    children = [(jax.tree_util.DictKey(k), v) for k, v in report.items()]
    return children, (tuple(report), report.compose)


def _report_unflatten(aux, children) -> Report:
    # JAX may rebuild a Report around placeholder leaves, so skip the constructor's checks.
    report = object.__new__(Report)
    report._items = dict(zip(aux[0], children, strict=True))
    report._compose = aux[1]
    return report


jax.tree_util.register_pytree_with_keys(Report, _report_flatten, _report_unflatten)


def total(item: ReportItem) -> Cost:
    """The Cost of a Report (children combined by its ``compose``), or a Cost itself."""
    if isinstance(item, Cost):
        return item
    if not isinstance(item, Report):
        raise ValueError(f"total needs a Cost or a Report, got {type(item).__name__}")
    if not item:
        return ZERO
    children = [total(child) for child in item.values()]
    return serial(*children) if item.compose == "serial" else parallel(*children)


def _check_metric_denominator(name: str, value) -> None:
    if not validate.is_traced(value):
        validate.check_positive(name, value)


def tops_per_watt(cost: Cost):
    """Energy efficiency, TOPS/W (= tera-operations per joule, leakage included).

    Raises ``ValueError`` for a concrete cost with no energy; traced, it returns 0 there.
    """
    _check_metric_denominator("energy", cost.total_energy)
    return _safe_divide(cost.ops, cost.total_energy) / TOPS


def tops_per_mm2(cost: Cost):
    """Area efficiency, TOPS/mm² (throughput ``ops / latency`` per mm² of area).

    Raises ``ValueError`` for a concrete cost with zero latency or area; traced, it returns 0.
    """
    _check_metric_denominator("latency", cost.latency)
    _check_metric_denominator("area", cost.area)
    throughput = _safe_divide(cost.ops, cost.latency) / TOPS
    return _safe_divide(throughput, cost.area / mm2)


def energy_per_op(cost: Cost):
    """Energy per operation (leakage included), J/op.

    Raises ``ValueError`` for a concrete cost with no ops; traced, it returns 0 there.
    """
    _check_metric_denominator("ops", cost.ops)
    return _safe_divide(cost.total_energy, cost.ops)


_TABLE_COLUMNS = (
    ("energy", "J", lambda c: c.total_energy),
    ("latency", "s", lambda c: c.latency),
    ("power", "W", lambda c: c.power),
    ("area", "m2", lambda c: c.area),
)
_TABLE_HEADER = ("component", *(column for column, _, _ in _TABLE_COLUMNS), "energy %")
#: Cost field -> unit for :func:`_format_cell` (``""``: a plain count with a prefix, e.g. ``32.77 k``).
_FIELD_UNITS = {"energy": "J", "latency": "s", "area": "m2", "leakage": "W", "ops": ""}


def format_area(value, digits: int = 4) -> str:
    """An area in m² as mm² text, ``digits`` significant: ``format_area(3.368e-4) == "336.8 mm²"``."""
    return f"{float(value) / mm2:.{digits}g} mm²"


def _format_value(value, unit: str) -> str:
    """A scalar in SI units as text: areas by :func:`format_area`, the rest by ``format_si``."""
    return format_area(value) if unit == "m2" else format_si(value, unit)


def _format_cell(value, unit: str) -> str:
    """Like :func:`_format_value`, but a traced or batched value shows its type, e.g. ``f32[4]``."""
    try:
        if not validate.is_traced(value) and jnp.size(value) == 1:
            return _format_value(_scalar(value), unit)
        dtype = jnp.result_type(value)
        return f"{dtype.kind}{8 * dtype.itemsize}[{','.join(map(str, jnp.shape(value)))}]"
    except (TypeError, ValueError):  # e.g. a placeholder leaf while JAX rebuilds the pytree
        return repr(value)


def _one_design(item: ReportItem) -> tuple[ReportItem | None, str]:
    """``item`` itself, or element 0 of a batch, and a note; ``None`` if traced or ragged."""
    leaves = jax.tree_util.tree_leaves(item)
    if validate.is_traced(leaves):
        return None, "traced"
    try:
        shape = jnp.broadcast_shapes(*(jnp.shape(leaf) for leaf in leaves)) if leaves else ()
    except ValueError:
        return None, "leaves of mismatched shapes"
    if not shape:
        return item, ""
    index = (0,) * len(shape)
    first = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, shape)[index], item)
    return first, f"batch of shape {shape}; element {index}:"


def _scalar(value) -> float:
    array = jnp.asarray(value)
    if array.size != 1:
        raise ValueError(
            f"format_report shows one design; this report holds a batch of shape {array.shape} "
            "(index it first, e.g. jax.tree_util.tree_map(lambda x: x[0], report))"
        )
    return float(array.reshape(()))


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:5.1f}%" if whole > 0 and math.isfinite(whole) else "    -"


def _grand_energy(item: ReportItem) -> float:
    return _scalar(total(item).total_energy)


def _table_rows(item: ReportItem, name: str, depth: int, grand_energy: float) -> list[tuple[int, list[str]]]:
    """``(depth, cells)`` per node, depth first: label, the ``_TABLE_COLUMNS`` and the energy share."""
    cost = total(item)
    label = name + (f" ({item.compose})" if isinstance(item, Report) else "")
    cells = [label] + [_format_value(_scalar(get(cost)), unit) for _, unit, get in _TABLE_COLUMNS]
    cells.append(_share(_scalar(cost.total_energy), grand_energy))
    rows = [(depth, cells)]
    if isinstance(item, Report):
        for child_name, child in item.items():
            rows += _table_rows(child, child_name, depth + 1, grand_energy)
    return rows


def _format_line(cells: list[str], widths: list[int]) -> str:
    """Name column left-aligned, number columns right-aligned."""
    padded = [cells[0].ljust(widths[0])]
    padded += [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
    return "  ".join(padded)


@_eager
def format_report(report: ReportItem, title: str = "total") -> str:
    """Plain-text table of a Report in engineering units, one row per node.

    Columns: energy (dynamic + leakage, J), latency (s), power (W), area (mm²) and each node's
    share of the total energy. Children are indented under their parent.
    """
    body = _table_rows(report, title, 0, _grand_energy(report))
    rows = [list(_TABLE_HEADER)] + [["  " * depth + cells[0], *cells[1:]] for depth, cells in body]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [_format_line(row, widths) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _html_table(header, rows: list[tuple[int, list[str]]], caption: str = "") -> str:
    """An HTML table: the first column indented by depth, the others right-aligned; text escaped."""
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    lines = [f"<table>{caption}", f"<tr>{head}</tr>"]
    for depth, cells in rows:
        name = f'<td style="text-align:left; padding-left:{1.5 * depth:g}em">{html.escape(cells[0])}</td>'
        numbers = "".join(f'<td style="text-align:right">{html.escape(c.strip())}</td>' for c in cells[1:])
        lines.append(f"<tr>{name}{numbers}</tr>")
    return "\n".join([*lines, "</table>"])
