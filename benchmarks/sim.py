"""Throughput of the behavioural simulator (run as ``python benchmarks/sim.py``).

1. One 512x512 layer, batch 64, 16-bit weights on 2-bit cells (differential: 15 magnitude bits
   in 8 slices), 16-bit inputs streamed 1 bit per cycle (16 cycles), 128-row arrays (4 row
   blocks) and an 8-bit ADC per conversion: the jitted :func:`hwjax.sim.mvm.bitsliced_mvm`
   against the floor, the 8 x 16 = 128 plain (64 x 512) @ (512 x 512) matmuls that the slices
   and cycles amount to (one batched einsum, jitted). Target: ratio <= 2.
2. Whole-network images per second: a 784-256-256-10 MLP (8-bit weights on 2-bit cells, 8-bit
   inputs 1 bit per cycle, 8-bit ADC) on batches of 256 images, every layer simulated.

Times are medians of repeated calls after a warm-up (benchmarks/timing.py).
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
from timing import median_seconds

from hwjax.sim import mvm

LAYER = mvm.MVMConfig(
    weight_bits=16,
    bits_per_cell=2,
    encoding="differential",
    input_bits=16,
    bits_per_step=1,
    rows=128,
    adc_bits=8.0,
)
NETWORK = mvm.MVMConfig(weight_bits=8, bits_per_cell=2, input_bits=8, bits_per_step=1, rows=128, adc_bits=8.0)


def layer_benchmark(batch: int = 64, size: int = 512, repeats: int = 7) -> tuple[float, float, float]:
    """(simulated layer time, time of the slices x cycles plain matmuls as one batched einsum,
    and as one flat ``(cycles batch, K) @ (K, slices N)`` matmul), s."""
    rng = np.random.default_rng(0)
    weights = jnp.asarray(rng.uniform(-1, 1, (size, size)), jnp.float32)
    x = jnp.asarray(rng.uniform(-1, 1, (batch, size)), jnp.float32)
    simulated = jax.jit(lambda w, v: mvm.bitsliced_mvm(w, v, LAYER))
    slices, steps = len(LAYER.cell_bits), LAYER.steps
    stacked_w = jnp.asarray(rng.integers(0, 4, (slices, size, size)), jnp.float32)
    stacked_x = jnp.asarray(rng.integers(0, 2, (steps, batch, size)), jnp.float32)
    batched = jax.jit(lambda w, v: jnp.einsum("tbk,skn->stbn", v, w))
    flat = jax.jit(lambda w, v: v @ w)
    flat_w = jnp.transpose(stacked_w, (1, 0, 2)).reshape(size, slices * size)
    return (
        median_seconds(simulated, weights, x, repeats=repeats),
        median_seconds(batched, stacked_w, stacked_x, repeats=repeats),
        median_seconds(flat, flat_w, stacked_x.reshape(steps * batch, size), repeats=repeats),
    )


def network_images_per_second(batch: int = 256, repeats: int = 5) -> float:
    """Images per second of a 784-256-256-10 MLP run entirely on simulated crossbars."""
    rng = np.random.default_rng(1)
    sizes = (784, 256, 256, 10)
    layers = [jnp.asarray(rng.normal(0, 0.05, (a, b)), jnp.float32) for a, b in itertools.pairwise(sizes)]
    images = jnp.asarray(rng.uniform(0, 1, (batch, sizes[0])), jnp.float32)

    @jax.jit
    def forward(ws, v):
        for i, w in enumerate(ws):
            v = mvm.bitsliced_mvm(w, v, NETWORK)
            v = jax.nn.relu(v) if i < len(ws) - 1 else v
        return v

    return batch / median_seconds(forward, layers, images, repeats=repeats)


def main() -> None:
    print(f"backend: {jax.default_backend()} ({jax.devices()[0].device_kind})")
    simulated, batched, flat = layer_benchmark()
    count = len(LAYER.cell_bits) * LAYER.steps
    print(
        "512x512 layer, batch 64, 8 slices x 16 input bits, 8-bit ADC per conversion: "
        f"simulated {simulated * 1e3:.1f} ms; {count} plain matmuls "
        f"as a batched einsum {batched * 1e3:.1f} ms "
        f"(ratio {simulated / batched:.2f}), as one flat matmul {flat * 1e3:.1f} ms "
        f"(ratio {simulated / flat:.2f}); target <= 2"
    )
    print(f"784-256-256-10 MLP, 8-bit weights/inputs/ADC: {network_images_per_second():.0f} images/s")


if __name__ == "__main__":
    main()
