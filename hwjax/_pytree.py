"""Frozen dataclasses that are JAX pytrees without re-running validation on unflatten.

JAX rebuilds pytree nodes with placeholder leaves (tracers, ``None``, axis specs) during
``jit``, ``vmap`` and ``tree_map``. A dataclass whose ``__post_init__`` validates its fields
would reject those placeholders, so unflattening here bypasses ``__init__`` entirely and
validation runs only when a user constructs the object.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

try:
    from typing import dataclass_transform
except ImportError:  # Python 3.10
    from typing_extensions import dataclass_transform

#: A continuous knob: a Python number or an array (traced, batched, differentiated).
Knob = float | int | np.ndarray | jax.Array


def static_field(default: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
    """A dataclass field that is pytree metadata (hashed, never traced) rather than a leaf."""
    metadata = {**kwargs.pop("metadata", {}), "static": True}
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, static_field))
def pytree_dataclass(cls: type) -> type:
    """Make ``cls`` a frozen dataclass registered as a pytree: how components and models define
    their parameters (``@hwjax.pytree_dataclass``; type checkers see a dataclass).

    Fields made with :func:`static_field` are auxiliary data (structure: shapes, formula
    choices, names); every other field is a leaf (a continuous knob that may be traced,
    batched and differentiated; type it :data:`Knob`). Validate in ``__post_init__`` with
    :func:`hwjax.validate.check_fields`; JAX rebuilds instances without calling it.
    """
    cls = dataclasses.dataclass(frozen=True)(cls)
    fields = dataclasses.fields(cls)
    leaf_names = tuple(f.name for f in fields if not f.metadata.get("static"))
    static_names = tuple(f.name for f in fields if f.metadata.get("static"))

    def flatten_with_keys(obj):
        children = [(jax.tree_util.GetAttrKey(n), getattr(obj, n)) for n in leaf_names]
        return children, tuple(getattr(obj, n) for n in static_names)

    def unflatten(static_values, leaves):
        obj = object.__new__(cls)
        for name, value in zip(leaf_names, leaves, strict=True):
            object.__setattr__(obj, name, value)
        for name, value in zip(static_names, static_values, strict=True):
            object.__setattr__(obj, name, value)
        return obj

    jax.tree_util.register_pytree_with_keys(cls, flatten_with_keys, unflatten)
    return cls
