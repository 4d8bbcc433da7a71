"""Co-design: searching a design's knobs for the best cost under constraints.

:mod:`~hwjax.codesign.constrained` refines the best design of a sweep by gradient descent on
relaxed knobs, with constraints as penalties, then rounds it to a buildable design and
re-evaluates it exactly (:func:`optimize`). A design is any ``fn(knobs, mode) -> columns``;
:func:`columns` gives a Cost's columns (energy J, latency s, area m², power W, EDP J·s, ops,
TOPS/W, TOPS/mm²). Nothing here knows a specific accelerator: ranges, rounding and defaults are
arguments (``hwjax_models.architectures`` supplies them for the published models).
"""

from hwjax.codesign.constrained import (
    COLUMNS,
    MARGIN,
    MAXIMIZED,
    PENALTY,
    Column,
    Constraint,
    DesignFn,
    best_neighbour,
    check_columns,
    columns,
    descend,
    format_value,
    optimize,
    parse_constraint,
    penalized_loss,
    start_point,
    violation,
)

__all__ = [
    "COLUMNS",
    "MARGIN",
    "MAXIMIZED",
    "PENALTY",
    "Column",
    "Constraint",
    "DesignFn",
    "best_neighbour",
    "check_columns",
    "columns",
    "descend",
    "format_value",
    "optimize",
    "parse_constraint",
    "penalized_loss",
    "start_point",
    "violation",
]
