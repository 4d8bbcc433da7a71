"""Argument checks that raise clear ``ValueError``s before tracing.

Every hwjax module follows one pattern:

* **Concrete values** (Python numbers, NumPy arrays, JAX arrays outside a trace) are checked
  in plain Python. A bad value raises ``ValueError`` whose message names the parameter, the
  value and the allowed range, e.g. ``vdd=3.0 V is outside the allowed range [0.54, 1.125] V
  for node 32 nm HP``.
* **Traced values** (inside ``jit``, ``vmap`` or ``grad``) cannot be inspected, so they are
  clamped into the allowed range with ``jnp.clip``. A clamped value has zero gradient outside
  the range, which keeps every cost finite instead of producing a silent NaN.

Functions return the value to use downstream: the input itself when concrete, the clamped
array when traced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def is_traced(value: Any) -> bool:
    """True if any leaf of ``value`` is a JAX tracer (its value is unknown until run time)."""
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(value))


def _format_bound(bound: float | None, infinite: str) -> str:
    return infinite if bound is None else f"{bound:g}"


def describe_range(
    low: float | None, high: float | None, low_open: bool = False, high_open: bool = False
) -> str:
    """Interval notation for an allowed range, e.g. ``(0, inf)`` or ``[7, 180]``."""
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    return f"{left}{_format_bound(low, '-inf')}, {_format_bound(high, 'inf')}{right}"


def _as_concrete_array(name: str, value: Any) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} must be a real number or an array of them") from None
    if array.size == 0:
        raise ValueError(f"{name} is empty; it must hold at least one value")
    return array


def _shown(array: np.ndarray, bad: np.ndarray) -> str:
    if array.ndim == 0:
        return f"{array.item():g}"
    return f"{array[bad].ravel()[0]:g} (one of {int(bad.sum())} bad entries in an array)"


def check_range(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    unit: str = "",
    context: str = "",
) -> Any:
    """Check that ``value`` lies in the range, or clamp it into the range when traced.

    Args:
        name: parameter name shown in the error message.
        value: scalar or array, concrete or traced.
        low, high: bounds (``None`` means unbounded on that side).
        low_open, high_open: exclude the bound itself (e.g. ``low=0, low_open=True`` is > 0).
        integer: concrete values must be whole numbers.
        unit: unit shown after the value and range in the message.
        context: extra words appended to the message (e.g. ``"for node 32 nm HP"``).

    Returns:
        ``value`` unchanged when concrete; when traced, ``value`` clipped into the closed
        range (an open bound is replaced by the nearest representable number inside it).

    Raises:
        ValueError: a concrete value is non-finite, out of range or (with ``integer``) not whole.
    """
    if is_traced(value):
        return _clamp(value, low, high, low_open, high_open)
    array = _as_concrete_array(name, value)
    suffix = f" {unit}" if unit else ""
    where = f" {context}" if context else ""
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}={value!r}{suffix} must be finite{where}")
    bad = np.zeros(array.shape, dtype=bool)
    if low is not None:
        bad |= array <= low if low_open else array < low
    if high is not None:
        bad |= array >= high if high_open else array > high
    if bad.any():
        allowed = describe_range(low, high, low_open, high_open)
        raise ValueError(
            f"{name}={_shown(array, bad)}{suffix} is outside the allowed range {allowed}{suffix}{where}"
        )
    if integer and not np.all(array == np.round(array)):
        raise ValueError(f"{name}={value!r} must be a whole number{where}")
    return value


def _inside(bound: float, dtype, direction: int):
    """The nearest *normal* float beyond ``bound`` in ``direction`` (XLA flushes subnormals)."""
    finfo = jnp.finfo(dtype)
    return bound + direction * max(abs(bound) * float(finfo.eps), float(finfo.tiny))


def _clamp(value: Any, low: float | None, high: float | None, low_open: bool, high_open: bool):
    value = jnp.asarray(value)
    if low is None and high is None:
        return value  # nothing to clamp: keep a no-op clip out of traced graphs
    if jnp.issubdtype(value.dtype, jnp.floating):
        if low is not None and low_open:
            low = _inside(low, value.dtype, +1)
        if high is not None and high_open:
            high = _inside(high, value.dtype, -1)
    # Inside the closed range (bounds included) the value passes with gradient 1: ``jnp.clip``
    # would split the gradient at a bound (a tie of max/min), halving it for a knob sitting
    # exactly on its limit, e.g. a full layer's occupancy of 1.
    inside = jnp.ones(value.shape, bool)
    if low is not None:
        inside = inside & (value >= low)
    if high is not None:
        inside = inside & (value <= high)
    return jnp.where(inside, value, jnp.clip(value, low, high))


def check_static_int(name: str, value: Any, low: int, high: int | None = None, context: str = "") -> int:
    """A structural integer (a static field that sets an array shape or a loop count): a Python or
    NumPy int in ``[low, high]``, returned as an int. Traced values and floats are refused, never
    clamped, since structure cannot change under a trace.

    Raises:
        ValueError: not an int, or outside the range (naming ``name``, the value and the range).
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        allowed = describe_range(low, high)
        raise ValueError(f"{name}={value!r} must be a whole number (a static int) in {allowed}")
    check_range(name, value, low, high, integer=True, context=context)
    return int(value)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Check that a static option is one of ``choices``; return it unchanged.

    Raises:
        ValueError: naming the parameter, the value and every valid choice.
    """
    choices = tuple(choices)
    if is_traced(value):
        raise ValueError(f"{name} is a static option and cannot be a traced value")
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}={value!r} is not one of the valid choices: {valid}")
    return value


def check_positive(name: str, value: Any, **kwargs: Any) -> Any:
    """Shorthand for ``check_range(name, value, low=0, low_open=True, ...)`` (strictly > 0)."""
    return check_range(name, value, low=0.0, low_open=True, **kwargs)


def check_nonnegative(name: str, value: Any, **kwargs: Any) -> Any:
    """Shorthand for ``check_range(name, value, low=0, ...)`` (>= 0)."""
    return check_range(name, value, low=0.0, **kwargs)


def check_fields(obj: Any, ranges: Mapping[str, tuple | Mapping[str, Any]]) -> None:
    """Check named fields of a frozen dataclass in place (for ``__post_init__``).

    Each field ``name`` of ``obj`` goes through :func:`check_range` and the checked value (clamped
    when traced) is stored back. ``ranges`` maps a field to ``(low, high)`` or to
    :func:`check_range`'s keyword arguments (``low``, ``high``, ``low_open``, ``unit``, ...).
    """
    for name, bounds in ranges.items():
        kwargs = bounds if isinstance(bounds, Mapping) else dict(zip(("low", "high"), bounds, strict=True))
        object.__setattr__(obj, name, check_range(name, getattr(obj, name), **kwargs))
