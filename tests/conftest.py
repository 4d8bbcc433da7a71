"""Shared pytest configuration: reproducible, CI-sized hypothesis runs; JAX-aware ``approx``."""

import functools

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Deterministic examples keep CI reproducible; no deadline because the first example of a
# row includes XLA compilation.
settings.register_profile(
    "hwjax",
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("hwjax")


def _approx_accepting_jax_arrays(approx):
    """pytest >= 9.2's ``approx`` reads ``expected.flat``, which JAX arrays do not implement;
    hand it a NumPy copy instead (values and tolerances are unchanged)."""

    @functools.wraps(approx)
    def wrapped(expected, *args, **kwargs):
        if isinstance(expected, jax.Array):
            expected = np.asarray(expected)
        return approx(expected, *args, **kwargs)

    return wrapped


pytest.approx = _approx_accepting_jax_arrays(pytest.approx)
