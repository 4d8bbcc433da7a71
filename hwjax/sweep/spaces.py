"""Design spaces over named knobs (grids, uniform and Halton samples), generated lazily by index,
and their text grammar (:func:`parse_space`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

#: Random samples are drawn in fixed blocks of this many points, each from its own seeded stream,
#: so the value of point i never depends on how the space is chunked.
_RANDOM_BLOCK = 4096
#: Enough radical-inverse digits in base b to fill a float64 mantissa (53 bits).
_MANTISSA_BITS = 53


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
