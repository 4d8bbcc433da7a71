"""Throughput of the foundation layer: a tech-scaled, composed cost over a batch of designs.

Prints compile time, design points per second (forward, and forward + gradient) as the batch
grows, and the per-point cost, which should stay flat once the batch amortizes dispatch.

    python benchmarks/foundation.py [--max-batch 1000000]
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
from timing import median_seconds

import hwjax as hj
from hwjax import relax
from hwjax import units as u

REFERENCE = hj.DEFAULT_TECH


def design_cost(knobs: dict) -> jax.Array:
    """EDP of a toy tile: ``rows`` of crossbars scaled to a node at ``vdd``, ADCs in parallel."""
    target = hj.Tech(22, knobs["vdd"])
    arrays = relax.ceil(knobs["rows"] / 128.0)
    mvm = hj.Cost(
        energy=hj.scale_energy(30 * u.pJ, REFERENCE, target),
        latency=hj.scale_delay(100 * u.ns, REFERENCE, target),
        area=hj.scale_area(25 * u.um2, REFERENCE, target),
        ops=2 * 128 * 128,
    )
    adc = hj.repeat(hj.Cost(1.6 * u.pJ, 1 * u.ns, 1200 * u.um2, 0.2 * u.mW), 128)
    tile = hj.parallel(hj.replicate(mvm, arrays), adc)
    return tile.edp / (u.pJ * u.ns)


def sample(batch: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    low, high = hj.vdd_range(22)
    return {
        "vdd": jnp.asarray(rng.uniform(low, high, batch), jnp.float32),
        "rows": jnp.asarray(rng.uniform(128, 4096, batch), jnp.float32),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-batch", type=int, default=1_000_000)
    args = parser.parse_args()

    forward = jax.jit(jax.vmap(design_cost))
    gradient = jax.jit(jax.vmap(jax.value_and_grad(design_cost)))

    start = time.perf_counter()
    jax.block_until_ready(forward(sample(1000)))
    compile_s = time.perf_counter() - start
    print(f"device: {jax.devices()[0].device_kind}; compile + first call (1e3 points): {compile_s:.3f} s")

    eager = median_seconds(lambda k: design_cost(k), {k: v[0] for k, v in sample(1).items()}, repeats=3)
    print(f"one design, eager (no jit): {eager * 1e3:.1f} ms")

    print(f"{'batch':>10} {'forward pts/s':>15} {'ns/pt':>8} {'fwd+grad pts/s':>15} {'ns/pt':>8}")
    batch = 1000
    while batch <= args.max_batch:
        knobs = sample(batch)
        t_fwd = median_seconds(forward, knobs, repeats=5)
        t_grad = median_seconds(gradient, knobs, repeats=5)
        forward_cols = f"{batch / t_fwd:>15.3e} {t_fwd / batch * 1e9:>8.1f}"
        gradient_cols = f"{batch / t_grad:>15.3e} {t_grad / batch * 1e9:>8.1f}"
        print(f"{batch:>10.0e} {forward_cols} {gradient_cols}")
        batch *= 10


if __name__ == "__main__":
    main()
