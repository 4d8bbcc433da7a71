"""Wall-clock timing shared by the benchmark scripts (run them as ``python benchmarks/<name>.py``)."""

from __future__ import annotations

import time

import jax
import numpy as np


def median_seconds(fn, *args, repeats: int = 3) -> float:
    """Median wall time of ``fn(*args)`` over ``repeats`` calls after one warm-up call, s."""
    jax.block_until_ready(fn(*args))  # compile and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return float(np.median(times))
