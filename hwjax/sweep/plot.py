"""The Pareto-front plot of a sweep (matplotlib, imported only when a plot is drawn)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from hwjax.sweep.results import Results


def plot_front(
    results: Results,
    front: Results,
    objectives: Sequence[str],
    path: str | os.PathLike,
    title: str,
    units: Mapping[str, str] | None = None,
) -> None:
    """Write a PNG scatter of every design over the first two ``objectives``, ``front`` (e.g.
    :meth:`Results.pareto`) highlighted: a staircase for a 2-D front, points for a projected one.

    An axis whose positive values span more than a factor of 20 is logarithmic. ``units`` maps a
    column to the unit shown in its axis label (``{"energy": "J"}``).
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    units = dict(units or {})
    x_name, y_name = objectives[:2]
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    ax.scatter(
        results[x_name], results[y_name], s=6, alpha=0.35, color="tab:blue", label=f"{len(results)} designs"
    )
    order = np.argsort(front[x_name], kind="stable")
    # A 2-D front is a staircase between its designs; a projected >2-D front is only points.
    line = {"drawstyle": "steps-post"} if len(objectives) == 2 else {"linestyle": "none"}
    x, y = front[x_name][order], front[y_name][order]
    ax.plot(x, y, marker="o", color="tab:red", ms=4, label=f"Pareto front ({len(front)})", **line)
    for axis, name, values in (("x", x_name, results[x_name]), ("y", y_name, results[y_name])):
        positive = values[np.isfinite(values) & (values > 0)]
        if positive.size and positive.max() / positive.min() > 20:  # wide ranges read better in log
            getattr(ax, f"set_{axis}scale")("log")
        unit = units.get(name, "")
        getattr(ax, f"set_{axis}label")(f"{name} ({unit})" if unit else name)
    if len(objectives) > 2:
        title += f"\n(front over {', '.join(objectives)}; first two shown)"
    ax.set_title(title, fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
