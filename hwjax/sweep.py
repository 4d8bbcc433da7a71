"""Design-space sweeps: spaces of named knobs, chunked ``jit(vmap(fn))``, sharding, Pareto fronts.

A sweep has three parts:

* a :class:`Space` of design points over named knobs, built with :func:`grid`, :func:`uniform`,
  :func:`halton` or parsed from text with :func:`parse_space`. Points are generated lazily *by
  index*, so a space of ten million points costs no memory until a chunk of it is asked for;
* :func:`run`, which evaluates ``fn(knobs) -> outputs`` (both dicts of scalars) over the space with
  one compiled ``jit(vmap(fn))`` applied to fixed-size chunks (the last one padded and trimmed, so
  nothing recompiles), sharded across the local devices over a 1-D mesh, with a progress bar, and
  optionally saving each chunk as it completes so an interrupted sweep can be resumed;
* :class:`Results`, named columns (the knobs in float64, the outputs in ``fn``'s dtype) with CSV
  export, :meth:`Results.pareto` and :meth:`Results.best`.

Example::

    from hwjax import sweep

    space = sweep.parse_space("halton:4096 mvmu_dim=64..256 adc_bits=6..10")
    results = sweep.run(lambda k: {"energy": k["mvmu_dim"] * 2.0 ** k["adc_bits"]}, space)
    front = results.pareto(["energy", "adc_bits"], maximize=["adc_bits"])

**Devices.** Each chunk is split over every local device (all GPUs of the host; on a CPU,
``XLA_FLAGS=--xla_force_host_platform_device_count=N`` makes N devices of the cores), with
``jax.sharding`` over a 1-D mesh; results do not depend on the device count.

**Multi-host.** The same script runs on every host of a cluster after
``jax.distributed.initialize()``: each process evaluates the chunks ``i`` with
``i % process_count == process_index`` on its own devices, writes them to ``out`` (a folder on a
file system every host shares), waits for the others and returns the merged results (what
:func:`load` reads). For example, with ``my_sweep.py``::

    import sys, jax
    from hwjax import sweep

    jax.distributed.initialize(sys.argv[1], num_processes=int(sys.argv[2]), process_id=int(sys.argv[3]))
    space = sweep.parse_space("halton:100000000 mvmu_dim=64..256 adc_bits=6..10")
    results = sweep.run(my_cost_fn, space, out="/shared/sweeps/run1")

on two hosts::

    host0$ python my_sweep.py 10.0.0.1:1234 2 0
    host1$ python my_sweep.py 10.0.0.1:1234 2 1

(under SLURM, ``jax.distributed.initialize()`` with no arguments reads all three from the job;
CPU-only processes also need ``jax.config.update("jax_cpu_collectives_implementation", "gloo")``
first, as ``tests/test_sweep.py`` does with two local processes).

**Non-finite outputs** are never silent: :func:`run` counts NaN and inf per output column, stores the
counts in ``Results.info["nonfinite"]`` and issues a :class:`NonFiniteWarning` naming the columns.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import re
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = [
    "NonFiniteWarning",
    "Results",
    "Space",
    "grid",
    "halton",
    "load",
    "pareto_mask",
    "parse_space",
    "run",
    "uniform",
]

#: Version of the on-disk layout of a saved sweep (manifest.json + chunk_NNNNNN.npz).
_FORMAT = 1
_MANIFEST = "manifest.json"
#: Random samples are drawn in fixed blocks of this many points, each from its own seeded stream,
#: so the value of point i never depends on how the space is chunked.
_RANDOM_BLOCK = 4096
#: Enough radical-inverse digits in base b to fill a float64 mantissa (53 bits).
_MANTISSA_BITS = 53


class NonFiniteWarning(UserWarning):
    """A sweep produced NaN or inf outputs (counts are in ``Results.info["nonfinite"]``)."""


# ----------------------------------------------------------------------------------------------
# Spaces
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Space:
    """A finite, ordered set of design points over named knobs, generated lazily by index.

    Attributes:
        names: knob names, in column order.
        size: number of points.
        spec: canonical text of the space in the :func:`parse_space` grammar;
            ``parse_space(space.spec)`` rebuilds the same points exactly. Saved sweeps store it to
            refuse resuming a different sweep.
    """

    names: tuple[str, ...]
    size: int
    spec: str
    _generate: Callable[[np.ndarray], dict[str, np.ndarray]] = dataclasses.field(repr=False)

    def __len__(self) -> int:
        return self.size

    def points(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Points ``start`` (inclusive) to ``stop`` (exclusive): knob -> float64 array ``(stop - start,)``."""
        if not 0 <= start <= stop <= self.size:
            raise ValueError(
                f"points(start={start}, stop={stop}) must satisfy 0 <= start <= stop <= {self.size}"
            )
        return self._generate(np.arange(start, stop, dtype=np.int64))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and other.spec == self.spec

    def __hash__(self) -> int:
        return hash(self.spec)


def _check_names(names: Iterable[str]) -> tuple[str, ...]:
    names = tuple(names)
    if not names:
        raise ValueError("a space needs at least one knob")
    for name in names:
        if not name.isidentifier():
            raise ValueError(f"knob name {name!r} must be a Python identifier (letters, digits, _)")
    return names


def _number(value: float) -> str:
    """Shortest text that parses back to exactly ``value`` (``repr`` of a float64)."""
    return repr(float(value))


def grid(**axes: Sequence[float]) -> Space:
    """The cartesian product of the listed values of each knob; the last knob varies fastest.

    Example: ``grid(a=[1, 2], b=[10, 20, 30])`` has 6 points, ``(1, 10), (1, 20), (1, 30), (2, 10), ...``.

    Raises:
        ValueError: no knobs, an empty or non-finite axis, or a knob name that is not an identifier.
    """
    names = _check_names(axes)
    values = []
    for name in names:
        axis = np.asarray(axes[name], dtype=np.float64).ravel()
        if axis.size == 0 or not np.all(np.isfinite(axis)):
            raise ValueError(f"grid axis {name}={list(axis)} must hold at least one value, all finite")
        values.append(axis)
    shape = tuple(axis.size for axis in values)

    def generate(index: np.ndarray) -> dict[str, np.ndarray]:
        coords = np.unravel_index(index, shape) if index.size else [index] * len(shape)
        return {name: axis[c] for name, axis, c in zip(names, values, coords, strict=True)}

    spec = " ".join(
        f"{name}={','.join(_number(v) for v in axis)}" for name, axis in zip(names, values, strict=True)
    )
    return Space(names, math.prod(shape), spec, generate)


def _check_ranges(ranges: Mapping[str, tuple]) -> dict[str, tuple[float, float, bool]]:
    """knob -> (low, high, log) with low <= high, finite, and low > 0 when log."""
    checked = {}
    for name, bounds in ranges.items():
        bounds = tuple(bounds)
        log = len(bounds) == 3 and bounds[2] == "log"
        if len(bounds) not in (2, 3) or (len(bounds) == 3 and not log):
            raise ValueError(f"range {name}={bounds!r} must be (low, high) or (low, high, 'log')")
        low, high = float(bounds[0]), float(bounds[1])
        if not (math.isfinite(low) and math.isfinite(high) and low <= high):
            raise ValueError(f"range {name}=({low:g}, {high:g}) must be finite with low <= high")
        if log and low <= 0:
            raise ValueError(f"log range {name}=({low:g}, {high:g}) must have low > 0")
        checked[name] = (low, high, log)
    return checked


def _scale(unit: np.ndarray, low: float, high: float, log: bool) -> np.ndarray:
    """Map samples in [0, 1) onto [low, high], uniformly or log-uniformly."""
    if not log:
        return np.clip(low + unit * (high - low), low, high)  # rounding could overshoot high by an ulp
    scaled = np.exp(np.log(low) + unit * (np.log(high) - np.log(low)))
    return np.clip(scaled, low, high)  # exp(log(low)) can round one ulp outside the range


def _sampled(
    kind: str, n: int, seed: int, ranges: Mapping[str, tuple], unit_cube: Callable[[np.ndarray], np.ndarray]
) -> Space:
    """A space of ``n`` points whose point i is ``unit_cube(i)`` (``(len(i), d)`` in [0, 1)) scaled."""
    names = _check_names(ranges)
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n={n!r} must be a whole number >= 1")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed={seed!r} must be a whole number >= 0")
    bounds = _check_ranges(ranges)

    def generate(index: np.ndarray) -> dict[str, np.ndarray]:
        unit = unit_cube(index)
        return {name: _scale(unit[:, j], *bounds[name]) for j, name in enumerate(names)}

    terms = [
        f"{name}={_number(low)}..{_number(high)}{'..log' if log else ''}"
        for name, (low, high, log) in bounds.items()
    ]
    return Space(names, int(n), " ".join([f"{kind}:{int(n)}:{int(seed)}", *terms]), generate)


def _uniform_unit_cube(seed: int, dims: int) -> Callable[[np.ndarray], np.ndarray]:
    def unit_cube(index: np.ndarray) -> np.ndarray:
        out = np.empty((index.size, dims))
        if index.size == 0:
            return out
        first = int(index[0])  # indices are always one contiguous run
        for block in range(first // _RANDOM_BLOCK, int(index[-1]) // _RANDOM_BLOCK + 1):
            draws = np.random.default_rng([seed, block]).random((_RANDOM_BLOCK, dims))
            lo, hi = max(first, block * _RANDOM_BLOCK), min(int(index[-1]) + 1, (block + 1) * _RANDOM_BLOCK)
            out[lo - first : hi - first] = draws[lo - block * _RANDOM_BLOCK : hi - block * _RANDOM_BLOCK]
        return out

    return unit_cube


def uniform(n: int, seed: int = 0, **ranges: tuple) -> Space:
    """``n`` independent uniform random points; each knob's range is ``(low, high)`` or
    ``(low, high, "log")`` (log-uniform, low > 0).

    Point i is the same however the space is chunked (draws come in seeded blocks of 4096 points).
    """
    return _sampled("uniform", n, seed, ranges, _uniform_unit_cube(int(seed), len(ranges)))


def _primes(count: int) -> list[int]:
    primes: list[int] = []
    for candidate in itertools.count(2):
        if all(candidate % p for p in primes):
            primes.append(candidate)
        if len(primes) == count:
            return primes
    return primes


def _radical_inverse(index: np.ndarray, base: int, permutations: np.ndarray | None) -> np.ndarray:
    """Van der Corput radical inverse of ``index`` in ``base``: digits mirrored about the point.

    With ``permutations`` (``(digits, base)``), digit position k is relabelled by permutation k
    (random-permutation scrambling, which breaks the correlations of plain Halton in higher bases).
    """
    digits = math.ceil(_MANTISSA_BITS / math.log2(base)) if permutations is not None else 0
    result, scale, rest, k = np.zeros(index.size), 1.0 / base, index.copy(), 0
    while k < digits or rest.any():
        digit = rest % base
        if permutations is not None:
            digit = permutations[k][digit] if k < digits else digit
        result += digit * scale
        rest //= base
        scale /= base
        k += 1
    return np.minimum(result, np.nextafter(1.0, 0.0))  # stay inside [0, 1)


def _halton_unit_cube(seed: int, dims: int) -> Callable[[np.ndarray], np.ndarray]:
    bases = _primes(dims)
    rng = np.random.default_rng(seed)
    permutations = [
        np.stack([rng.permutation(b) for _ in range(math.ceil(_MANTISSA_BITS / math.log2(b)))])
        if seed
        else None
        for b in bases
    ]

    def unit_cube(index: np.ndarray) -> np.ndarray:
        # Index 0 is the all-zeros corner; start at 1 as is customary for unscrambled Halton.
        return np.stack(
            [_radical_inverse(index + 1, b, p) for b, p in zip(bases, permutations, strict=True)], axis=1
        )

    return unit_cube


def halton(n: int, seed: int = 0, **ranges: tuple) -> Space:
    """``n`` points of the Halton low-discrepancy sequence (bases 2, 3, 5, ... in knob order).

    ``seed=0`` is the plain sequence starting at index 1; another seed scrambles every digit
    position with a random permutation (deterministic for the seed), which keeps the low
    discrepancy and removes plain Halton's striping between knobs in larger bases. Each knob's
    range is ``(low, high)`` or ``(low, high, "log")`` (log-uniform, low > 0).
    """
    return _sampled("halton", n, seed, ranges, _halton_unit_cube(int(seed), len(ranges)))


_SAMPLERS: dict[str, Callable[..., Space]] = {"uniform": uniform, "halton": halton}
#: Points of a sampled space when its spec gives no count, e.g. ``"halton x=0..1"``.
DEFAULT_SAMPLES = 1024


def _parse_float(text: str, term: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"space term {term!r}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"space term {term!r}: {text!r} must be finite")
    return value


def _parse_whole(text: str, term: str, what: str, minimum: int) -> int:
    if not re.fullmatch(r"\d+", text) or int(text) < minimum:
        raise ValueError(f"space term {term!r}: {what} {text!r} must be a whole number >= {minimum}")
    return int(text)


def _parse_sampler(term: str) -> tuple[str, int, int]:
    kind, *rest = term.split(":")
    if kind not in _SAMPLERS:
        raise ValueError(
            f"space term {term!r}: unknown sampler {kind!r}; choose one of {', '.join(_SAMPLERS)}"
        )
    if len(rest) > 2:
        raise ValueError(f"space term {term!r}: a sampler is written {kind}[:N[:seed]]")
    n = _parse_whole(rest[0], term, "N", 1) if rest else DEFAULT_SAMPLES
    seed = _parse_whole(rest[1], term, "seed", 0) if len(rest) > 1 else 0
    return kind, n, seed


def _parse_axis(value: str, term: str) -> np.ndarray:
    """Grid values: ``v1,v2,...`` or ``low:high:count`` (``count`` values evenly spaced)."""
    if ".." in value:
        raise ValueError(f"space term {term!r}: a low..high range needs a sampler first, e.g. 'halton:1024'")
    if ":" in value:
        parts = value.split(":")
        if len(parts) != 3:
            raise ValueError(f"space term {term!r}: a grid range is written low:high:count")
        low, high = (_parse_float(p, term) for p in parts[:2])
        return np.linspace(low, high, _parse_whole(parts[2], term, "count", 1))
    return np.array([_parse_float(v, term) for v in value.split(",")])


def _parse_range(value: str, term: str) -> tuple:
    """Sampled range: ``low..high`` or ``low..high..log``."""
    parts = value.split("..")
    log = len(parts) == 3 and parts[2] == "log"
    if len(parts) != 2 and not log:
        raise ValueError(f"space term {term!r}: a sampled range is written low..high or low..high..log")
    bounds = (_parse_float(parts[0], term), _parse_float(parts[1], term), *(("log",) if log else ()))
    try:
        _check_ranges({term.partition("=")[0]: bounds})
    except ValueError as error:
        raise ValueError(f"space term {term!r}: {error}") from None
    return bounds


def parse_space(spec: str) -> Space:
    """Build a :class:`Space` from text (the ``hwjax sweep --space`` grammar).

    Terms are separated by whitespace or ``;``. A grid lists each knob's values::

        "mvmu_dim=64,128,256 adc_bits=6:10:5"      # listed values, or low:high:count (linspace)

    A sampled space starts with ``halton`` or ``uniform``, optionally ``:N`` points (default 1024)
    and ``:seed`` (default 0), then ``low..high`` ranges, ``..log`` for log-uniform::

        "halton:4096 mvmu_dim=64..256 adc_bits=6..10 clock_hz=5e8..1.5e9..log"

    Raises:
        ValueError: naming the malformed term (unknown sampler, bad number, repeated knob, ...).
    """
    terms = [t for t in re.split(r"[\s;]+", spec.strip()) if t]
    if not terms:
        raise ValueError(f"space spec {spec!r} is empty; expected terms like 'adc_bits=6:10:5'")
    sampler = _parse_sampler(terms.pop(0)) if "=" not in terms[0] else None
    knobs: dict[str, Any] = {}
    for term in terms:
        name, sep, value = term.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"space term {term!r} must be written knob=values")
        if name in knobs:
            raise ValueError(f"space term {term!r}: knob {name!r} is given twice")
        knobs[name] = _parse_range(value, term) if sampler else _parse_axis(value, term)
    if not knobs:
        raise ValueError(f"space spec {spec!r} names no knobs")
    if sampler is None:
        return grid(**knobs)
    kind, n, seed = sampler
    return _SAMPLERS[kind](n, seed, **knobs)


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


class Results:
    """Named columns of equal length: the knobs (float64) then ``fn``'s outputs.

    Attributes:
        columns: name -> array ``(n,)``.
        names: column names, knobs first.
        knobs: the names of the knob columns.
        info: how the sweep ran (``devices``, ``processes``, ``chunk_size``, ``compile_s``,
            ``eval_s``, ``evaluated`` points, ``nonfinite`` counts per output); empty when loaded.
    """

    def __init__(
        self,
        columns: Mapping[str, np.ndarray],
        knobs: Sequence[str] = (),
        info: Mapping[str, Any] | None = None,
    ):
        self.columns = {name: np.asarray(values) for name, values in columns.items()}
        lengths = {values.shape for values in self.columns.values()}
        if len(lengths) > 1 or any(len(shape) != 1 for shape in lengths):
            raise ValueError(f"columns must be 1-D and of equal length, got shapes {sorted(lengths)}")
        self.knobs = tuple(knobs)
        self.info = dict(info or {})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.columns)

    @property
    def outputs(self) -> tuple[str, ...]:
        """The names of the output (non-knob) columns."""
        return tuple(name for name in self.columns if name not in self.knobs)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[self._check_column(name)]

    def __repr__(self) -> str:
        return f"Results({len(self)} rows; columns {', '.join(self.names)})"

    def _check_column(self, name: str) -> str:
        if name not in self.columns:
            raise ValueError(f"unknown column {name!r}; the columns are: {', '.join(self.names)}")
        return name

    def row(self, i: int) -> dict[str, float]:
        """Row ``i`` as ``{column: value}`` (Python floats)."""
        return {name: float(values[i]) for name, values in self.columns.items()}

    def take(self, indices) -> Results:
        """The rows at ``indices`` (integers or a boolean mask), in that order."""
        return Results({name: values[indices] for name, values in self.columns.items()}, self.knobs)

    def to_csv(self, path: str | os.PathLike, block: int = 100_000) -> None:
        """Write a CSV with a header row; every value with 17 significant digits (exact round trip)."""
        table = list(self.columns.values())
        with open(path, "w") as file:
            file.write(",".join(self.names) + "\n")
            for start in range(0, len(self), block):
                rows = np.stack([c[start : start + block].astype(np.float64) for c in table], axis=1)
                np.savetxt(file, rows, fmt="%.17g", delimiter=",")

    @classmethod
    def from_csv(cls, path: str | os.PathLike, knobs: Sequence[str] = ()) -> Results:
        """Read a CSV written by :meth:`to_csv` (every column as float64)."""
        with open(path) as file:
            names = file.readline().strip().split(",")
            data = np.loadtxt(file, delimiter=",", ndmin=2).reshape(-1, len(names))
        return cls({name: data[:, j] for j, name in enumerate(names)}, knobs)

    def _objective_matrix(self, objectives: Sequence[str], maximize: Sequence[str]) -> np.ndarray:
        """``(n, k)`` float64, maximised objectives negated so that every column is minimised."""
        objectives = [self._check_column(name) for name in objectives]
        if not objectives:
            raise ValueError("pareto needs at least one objective")
        for name in maximize:
            if name not in objectives:
                raise ValueError(f"maximize={name!r} is not one of the objectives {objectives}")
        signs = [-1.0 if name in maximize else 1.0 for name in objectives]
        return np.stack(
            [s * self.columns[n].astype(np.float64) for s, n in zip(signs, objectives, strict=True)], axis=1
        )

    def pareto(self, objectives: Sequence[str], maximize: Sequence[str] = ()) -> Results:
        """The Pareto front over ``objectives`` (minimised, except those listed in ``maximize``).

        Rows with a NaN objective are left out; rows with equal objective values that are not
        dominated are all kept. The front is sorted best-first by the first objective (ties by the
        next ones).

        Raises:
            ValueError: an unknown objective (listing the columns), or ``maximize`` naming a column
                that is not an objective.
        """
        values = self._objective_matrix(objectives, maximize)
        front = np.flatnonzero(pareto_mask(values))
        order = np.lexsort(values[front].T[::-1])
        return self.take(front[order])

    def best(self, objective: str, maximize: bool = False) -> dict[str, float]:
        """The row with the lowest (or highest) ``objective``, NaNs ignored."""
        values = self[objective]
        if not np.any(~np.isnan(values)):
            raise ValueError(f"column {objective!r} holds no number to pick a best row from")
        return self.row(int(np.nanargmax(values) if maximize else np.nanargmin(values)))


# ----------------------------------------------------------------------------------------------
# Pareto fronts
# ----------------------------------------------------------------------------------------------


def _pareto_2d(values: np.ndarray) -> np.ndarray:
    """Non-dominated mask of ``(n, 2)`` finite-or-inf values in O(n log n).

    Sorted by (x, y), a point is dominated exactly when some earlier point that is not its exact
    duplicate has y <= its y: that point has smaller x, or equal x and smaller y.
    """
    order = np.lexsort((values[:, 1], values[:, 0]))
    x, y = values[order, 0], values[order, 1]
    new_group = np.ones(len(x), dtype=bool)
    new_group[1:] = (x[1:] != x[:-1]) | (y[1:] != y[:-1])
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(len(x)), 0))
    running_min = np.minimum.accumulate(y)
    before = np.where(group_start > 0, running_min[np.maximum(group_start - 1, 0)], np.inf)
    dominated = before <= y
    mask = np.empty(len(x), dtype=bool)
    mask[order] = ~dominated
    return mask


def _column_ranks(values: np.ndarray) -> np.ndarray:
    """Each column replaced by its dense rank (int64): dominance is unchanged by a strictly
    increasing map of each column, and integer ranks sum without inf - inf = NaN."""
    return np.stack([np.unique(column, return_inverse=True)[1] for column in values.T], axis=1)


def _dominated_by(candidates: np.ndarray, front: np.ndarray, block: int) -> np.ndarray:
    """For each row of ``candidates`` ``(b, k + 1)``: is it dominated by a row of ``front``?

    Rows are ranks with their rank sum appended as the last column: ``f`` dominates ``c`` exactly
    when ``f <= c`` in every rank and ``f``'s rank sum is smaller (so they are not equal). The
    front is scanned in blocks and a candidate stops being checked once dominated, so the best
    rows at the front's start eliminate most candidates cheaply.
    """
    dominated = np.zeros(len(candidates), dtype=bool)
    alive = np.arange(len(candidates))
    # The front's first block (its best rows) first, then the newest rows, whose rank sums are
    # nearest the candidates' and which, on a dense front, are their likeliest dominators.
    starts = [0, *range(len(front) - block, 0, -block)] if len(front) > block else [0]
    for start in starts:
        if alive.size == 0:
            break
        f, c = front[start : start + block], candidates[alive]
        # column by column into one (f, alive) table: no (f, alive, k) temporary
        hit = f[:, None, -1] < c[None, :, -1]
        for j in range(f.shape[1] - 1):
            hit &= f[:, None, j] <= c[None, :, j]
        hit = hit.any(axis=0)
        dominated[alive[hit]] = True
        alive = alive[~hit]
    return dominated


def _pareto_skyline(values: np.ndarray, block: int = 512) -> np.ndarray:
    """Non-dominated mask for any k: a blocked skyline over rows sorted by their rank sum.

    A dominator has a strictly smaller rank sum than the row it dominates, so in that order the
    front found so far is final: each block is checked against it (most rows fall to its first,
    best rows), then the survivors against each other, and what remains joins the front. Cost
    O(n * front size * k) at worst, with numpy comparing ``block x block`` rows at a time.
    """
    ranks = _column_ranks(values)
    keyed = np.concatenate([ranks, ranks.sum(axis=1, keepdims=True)], axis=1)
    order = np.argsort(keyed[:, -1], kind="stable")
    ordered = keyed[order]
    on_front = np.zeros(len(values), dtype=bool)
    front = ordered[:0]
    for start in range(0, len(ordered), block):
        index = start + np.flatnonzero(~_dominated_by(ordered[start : start + block], front, block))
        survivors = index[~_dominated_by(ordered[index], ordered[index], block)]
        on_front[survivors] = True
        front = np.concatenate([front, ordered[survivors]])
    mask = np.empty(len(values), dtype=bool)
    mask[order] = on_front
    return mask


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Which rows of ``values`` ``(n, k)`` are Pareto-optimal when every column is minimised.

    Row a dominates row b when a <= b in every column and a < b in at least one. Returns a bool
    ``(n,)`` that is True for rows no other row dominates. Exact duplicates do not dominate each
    other, so equal non-dominated rows are all kept. A row with a NaN is never on the front and
    never dominates; inf compares as usual. Runs in O(n log n) for k <= 2 (2e6 points: about 2 s
    on one CPU core) and as a blocked skyline over rank sums for k > 2 (O(n * front size * k) at
    worst; 2e5 points with an 18,600-point 3-D front: about 4 s).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D (points, objectives) array, got shape {values.shape}")
    valid = ~np.isnan(values).any(axis=1)
    mask = np.zeros(len(values), dtype=bool)
    finite_rows = values[valid]
    if len(finite_rows) == 0 or values.shape[1] == 0:
        return mask
    if values.shape[1] == 1:
        mask[valid] = finite_rows[:, 0] == finite_rows[:, 0].min()
    elif values.shape[1] == 2:
        mask[valid] = _pareto_2d(finite_rows)
    else:
        mask[valid] = _pareto_skyline(finite_rows)
    return mask


# ----------------------------------------------------------------------------------------------
# Running a sweep
# ----------------------------------------------------------------------------------------------


def _chunk_path(out: Path, index: int) -> Path:
    return out / f"chunk_{index:06d}.npz"


def _write_atomically(path: Path, write: Callable[[Any], None]) -> None:
    """Write via a temporary file and rename, so an interruption never leaves a half-written file."""
    # Hosts of a multi-host sweep share the folder: the process index keeps their names apart.
    temporary = path.with_name(f"{path.name}.tmp{jax.process_index()}-{os.getpid()}")
    with open(temporary, "wb") as file:
        write(file)
    os.replace(temporary, path)


def _save_chunk(out: Path, index: int, start: int, outputs: Mapping[str, np.ndarray]) -> None:
    _write_atomically(_chunk_path(out, index), lambda f: np.savez(f, _start=start, **outputs))


def _read_manifest(out: Path) -> dict | None:
    path = out / _MANIFEST
    return json.loads(path.read_text()) if path.exists() else None


def _check_manifest(saved: Mapping[str, Any], wanted: Mapping[str, Any], out: Path) -> None:
    for key, value in wanted.items():
        if saved.get(key) != value:
            raise ValueError(
                f"out={str(out)!r} holds a different sweep: its {key} is {saved.get(key)!r}, this "
                f"run's is {value!r}; use another folder, or the same space, chunk_size and fn"
            )


def _mesh_sharding() -> tuple[NamedSharding, int]:
    """A sharding of a 1-D batch over every local device (a 1-D mesh named ``points``)."""
    devices = jax.local_devices()
    mesh = Mesh(np.array(devices), ("points",))
    return NamedSharding(mesh, PartitionSpec("points")), len(devices)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _padded_points(space: Space, start: int, chunk: int, dtype, columns) -> dict[str, np.ndarray]:
    """Points [start, start + chunk) in ``dtype``, the part past the end filled with the last point
    (a valid design, so padding cannot raise or produce NaN; trimmed after evaluation). The exact
    float64 values go into the knob ``columns`` on the way, so each point is generated once."""
    stop = min(start + chunk, len(space))
    points = space.points(start, stop)
    for name, values in points.items():
        columns[name][start:stop] = values
    return {k: np.pad(v, (0, chunk - (stop - start)), mode="edge").astype(dtype) for k, v in points.items()}


#: fn -> {sharding: jit(vmap(fn))}: a second sweep of the same fn (a resume, a larger space, a
#: benchmark's warm-up) reuses JAX's trace and compilation caches instead of compiling again.
_BATCHED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _batched(fn, sharding: NamedSharding):
    """``jit(vmap(fn))`` with its batch sharded, cached per ``fn`` while ``fn`` is alive."""
    try:
        per_sharding = _BATCHED.setdefault(fn, {})
    except TypeError:  # fn cannot be weakly referenced (e.g. a builtin): no cache
        per_sharding = {}
    if sharding not in per_sharding:
        per_sharding[sharding] = jax.jit(jax.vmap(fn), in_shardings=sharding, out_shardings=sharding)
    return per_sharding[sharding]


def _compile(fn, space: Space, chunk: int, dtype, sharding: NamedSharding):
    """``jit(vmap(fn))`` for one chunk shape, traced and compiled once; returns (compiled, outputs)."""
    batched = _batched(fn, sharding)
    shapes = {name: jax.ShapeDtypeStruct((chunk,), dtype, sharding=sharding) for name in space.names}
    lowered = batched.lower(shapes)
    out_info = lowered.out_info
    if not isinstance(out_info, Mapping) or not all(
        isinstance(v, jax.ShapeDtypeStruct) and v.shape == (chunk,) for v in out_info.values()
    ):
        raise ValueError("fn must return a dict of named scalars, e.g. {'energy': e, 'latency': t}")
    clash = set(out_info) & set(space.names)
    if clash:
        raise ValueError(f"fn's outputs {sorted(clash)} reuse knob names; rename them")
    return lowered.compile(), {name: info.dtype for name, info in out_info.items()}


def _empty_columns(knobs: Iterable[str], outputs: Mapping[str, Any], n: int) -> dict[str, np.ndarray]:
    """Preallocated result columns: float64 knobs, outputs in their dtype (NaN until filled)."""
    columns = {name: np.empty(n, np.float64) for name in knobs}
    for name, dtype in outputs.items():
        dtype = np.dtype(dtype)
        columns[name] = np.full(n, np.nan if np.issubdtype(dtype, np.inexact) else 0, dtype)
    return columns


def _chunk_size_at(index: int, chunk: int, n: int) -> int:
    """Points in chunk ``index`` (the last one may be short)."""
    return min(chunk, n - index * chunk)


def _chunk_plan(n: int, chunk: int) -> list[int]:
    """The chunk indices this process evaluates (all of them unless multi-host)."""
    count, process, processes = -(-n // chunk), jax.process_index(), jax.process_count()
    return [i for i in range(count) if i % processes == process]


def _load_saved_chunks(out: Path, chunks: list[int], chunk: int, columns: dict[str, np.ndarray]) -> list[int]:
    """Copy saved chunks into ``columns``; return the chunk indices still to evaluate."""
    todo = []
    for index in chunks:
        path = _chunk_path(out, index)
        if not path.exists():
            todo.append(index)
            continue
        with np.load(path) as saved:
            start = index * chunk
            if int(saved["_start"]) != start:
                raise ValueError(f"{path} starts at point {int(saved['_start'])}, expected {start}")
            for name, values in columns.items():
                if name in saved:
                    values[start : start + len(saved[name])] = saved[name]
    return todo


def _progress(total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm  # imported here: only sweeps need it

    return tqdm(total=total, initial=initial, unit="pt", unit_scale=True, disable=not enabled, desc="sweep")


def _report_nonfinite(columns: Mapping[str, np.ndarray], outputs: Iterable[str]) -> dict[str, int]:
    counts = {name: int(np.count_nonzero(~np.isfinite(columns[name]))) for name in outputs}
    bad = {name: count for name, count in counts.items() if count}
    if bad:
        listed = ", ".join(f"{name}: {count}" for name, count in bad.items())
        warnings.warn(f"sweep produced NaN or inf outputs ({listed} points)", NonFiniteWarning, stacklevel=3)
    return counts


def run(
    fn: Callable[[dict[str, jax.Array]], dict[str, jax.Array]],
    space: Space | str,
    *,
    chunk_size: int = 65536,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
    dtype=jnp.float32,
) -> Results:
    """Evaluate ``fn`` at every point of ``space``; return the knobs and outputs as named columns.

    ``fn(knobs)`` takes a dict of scalar knobs (``dtype``) and returns a dict of named scalars. It
    runs as one compiled ``jit(vmap(fn))`` over chunks of ``chunk_size`` points (rounded up to a
    multiple of the local device count, and down to the space size), each chunk sharded over a 1-D
    mesh of the local devices; the last chunk is padded with copies of the last point and trimmed,
    so the sweep traces and compiles exactly once. The next chunk's points are generated while the
    devices compute, and memory stays bounded: only the result columns grow with the space
    (8 bytes per knob and 4 per float32 output per point).

    Args:
        fn: the design-point function; must be traceable by ``jax.jit`` and ``jax.vmap``.
        space: the design points (or their :func:`parse_space` text).
        chunk_size: points per compiled call (>= 1).
        out: a folder in which to save each chunk as it completes (``chunk_NNNNNN.npz``) and a
            ``manifest.json`` (space spec, chunk size, size, columns, dtype); :func:`load` reads it.
        resume: continue the sweep saved in ``out``, evaluating only its missing chunks; the result
            is identical to an uninterrupted run. Without a manifest in ``out`` it starts afresh.
        progress: show a tqdm progress bar.
        dtype: floating dtype of the knobs handed to ``fn`` (``jnp.float64`` needs
            ``jax.enable_x64``).

    Returns:
        :class:`Results` with the knob columns (float64, exactly the space's values) then ``fn``'s
        outputs (``fn``'s dtype). NaN/inf outputs are counted in ``info["nonfinite"]`` and reported
        with a :class:`NonFiniteWarning`. Under multi-host (``jax.process_count() > 1``) ``out`` is
        required; every process evaluates its share of chunks, waits for the others and returns the
        merged results.

    Raises:
        ValueError: a bad ``chunk_size`` or ``dtype``, ``resume`` without ``out``, ``out`` already
            holding a sweep while ``resume`` is False, a saved sweep that differs (spec, chunk size,
            columns or dtype), or ``fn`` not returning a dict of scalars.
    """
    space = parse_space(space) if isinstance(space, str) else space
    if isinstance(chunk_size, bool) or int(chunk_size) != chunk_size or chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size!r} must be a whole number >= 1")
    if not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(f"dtype={dtype!r} must be a floating dtype (float32 or float64)")
    if resume and out is None:
        raise ValueError("resume=True needs out= (the folder of the sweep to continue)")
    if out is None and jax.process_count() > 1:
        raise ValueError("a multi-host sweep needs out= on a file system every host shares")
    dtype = jnp.dtype(dtype)
    sharding, devices = _mesh_sharding()
    chunk = min(_round_up(int(chunk_size), devices), _round_up(len(space), devices))
    n = len(space)

    start_time = time.perf_counter()
    compiled, out_dtypes = _compile(fn, space, chunk, dtype, sharding)
    compile_s = time.perf_counter() - start_time

    columns = _empty_columns(space.names, out_dtypes, n)
    chunks = _chunk_plan(n, chunk)
    todo = chunks
    if out is not None:
        todo = _prepare_out(Path(out), resume, space, chunk, out_dtypes, dtype, chunks, columns)

    start_time = time.perf_counter()
    evaluated = _evaluate(compiled, space, chunk, dtype, sharding, todo, columns, out, progress)
    eval_s = time.perf_counter() - start_time
    _fill_knobs(space, sorted(set(chunks) - set(todo)), chunk, columns)  # the chunks loaded from out

    if jax.process_count() > 1:
        columns = _merged_after_every_process(out)
    info = {
        "devices": devices,
        "processes": jax.process_count(),
        "chunk_size": chunk,
        "compile_s": compile_s,
        "eval_s": eval_s,
        "evaluated": evaluated,
        "nonfinite": _report_nonfinite(columns, out_dtypes),
    }
    return Results(columns, space.names, info)


def _merged_after_every_process(out) -> dict[str, np.ndarray]:
    """Wait until every process has saved its chunks, then read the whole sweep back."""
    from jax.experimental import multihost_utils  # only multi-host sweeps need it

    multihost_utils.sync_global_devices(f"hwjax.sweep {out}")
    return load(out).columns


def _prepare_out(out: Path, resume, space, chunk, out_dtypes, dtype, chunks, columns) -> list[int]:
    """Create or check ``out``'s manifest; load saved chunks when resuming. Returns chunks to do."""
    manifest = {
        "format": _FORMAT,
        "spec": space.spec,
        "n": len(space),
        "chunk_size": chunk,
        "knobs": list(space.names),
        "outputs": {name: str(np.dtype(dt)) for name, dt in out_dtypes.items()},
        "dtype": str(np.dtype(dtype)),
    }
    saved = _read_manifest(out)
    if saved is not None and not resume and jax.process_count() == 1:
        raise ValueError(
            f"out={str(out)!r} already holds a sweep; pass resume=True to continue it or use another folder"
        )
    if saved is not None:
        # Under multi-host another process may have just written this manifest: it must match.
        _check_manifest(saved, manifest, out)
        return _load_saved_chunks(out, chunks, chunk, columns) if resume else chunks
    out.mkdir(parents=True, exist_ok=True)
    _write_atomically(out / _MANIFEST, lambda f: f.write(json.dumps(manifest, indent=1).encode()))
    return chunks


def _evaluate(compiled, space, chunk, dtype, sharding, todo, columns, out, progress) -> int:
    """Run ``compiled`` over the chunks in ``todo``, one chunk ahead of the host (async dispatch)."""
    n = len(space)
    total = sum(_chunk_size_at(i, chunk, n) for i in _chunk_plan(n, chunk))  # this process's share
    evaluated = sum(_chunk_size_at(i, chunk, n) for i in todo)
    bar = _progress(total, total - evaluated, progress and bool(todo))

    def submit(index: int):
        points = _padded_points(space, index * chunk, chunk, dtype, columns)
        return index, compiled(jax.device_put(points, sharding))

    def collect(index: int, result: Mapping[str, jax.Array]) -> None:
        start, size = index * chunk, _chunk_size_at(index, chunk, n)
        outputs = {name: np.asarray(values)[:size] for name, values in result.items()}
        for name, values in outputs.items():
            columns[name][start : start + size] = values
        if out is not None:
            _save_chunk(Path(out), index, start, outputs)
        bar.update(size)

    pending = None
    with bar:
        for index in todo:
            submitted = submit(index)
            if pending is not None:
                collect(*pending)
            pending = submitted
        if pending is not None:
            collect(*pending)
    return evaluated


def _fill_knobs(space: Space, chunks: list[int], chunk: int, columns: dict[str, np.ndarray]) -> None:
    """Write the space's float64 knob values into their columns, one chunk at a time."""
    for index in chunks:
        start, stop = index * chunk, min((index + 1) * chunk, len(space))
        for name, values in space.points(start, stop).items():
            columns[name][start:stop] = values


def load(out: str | os.PathLike) -> Results:
    """Read a complete sweep saved by :func:`run` in ``out`` (merging every process's chunks).

    Raises:
        ValueError: no manifest in ``out``, or chunks missing (the sweep was interrupted: resume it).
    """
    out = Path(out)
    manifest = _read_manifest(out)
    if manifest is None:
        raise ValueError(f"out={str(out)!r} holds no saved sweep ({_MANIFEST} is missing)")
    space = parse_space(manifest["spec"])
    n, chunk = manifest["n"], manifest["chunk_size"]
    chunks = list(range(-(-n // chunk)))
    columns = _empty_columns(space.names, manifest["outputs"], n)
    missing = _load_saved_chunks(out, chunks, chunk, columns)
    if missing:
        raise ValueError(
            f"out={str(out)!r} is incomplete: {len(missing)} of {len(chunks)} chunks are missing "
            "(continue it with run(..., resume=True))"
        )
    _fill_knobs(space, chunks, chunk, columns)
    return Results(columns, space.names)
