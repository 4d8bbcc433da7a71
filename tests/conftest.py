"""Shared pytest configuration: reproducible, CI-sized hypothesis runs; JAX-aware ``approx``."""

import functools
import os

# Compile for the test suite, not for speed of execution: the suite's time is XLA compilation
# of many small graphs that then run a few times each. The legacy CPU emitters at LLVM -O0
# compile these graphs about 3x faster (PUMA's contract Jacobian: 14.6 s -> 4.0 s) and keep
# IEEE semantics (no fast math), so values and tolerances are unchanged. Appended, so a
# user's own XLA_FLAGS still apply; set before JAX creates its CPU backend.
os.environ["XLA_FLAGS"] = " ".join(
    [
        os.environ.get("XLA_FLAGS", ""),
        "--xla_cpu_use_fusion_emitters=false --xla_backend_optimization_level=0",
    ]
).strip()

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
