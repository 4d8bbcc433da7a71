"""Throughput of whole-accelerator models under ``jit(vmap(...))``.

For each accelerator: design points per second of ``inference(config, VGG16)`` (energy of one
batch-1 inference, summed over the Report; PANTHER: one SGD ``training_step``; MaxNVM: reading
the weights from its store; TIMON: a Table 6.2 GEMM, the workload chosen with ``--gemm``) at a
batch of random configurations that vary the continuous knobs of the registry
(:mod:`hwjax_models.architectures`, each uniform over its range, unrounded), the same for the
gradient of that energy with respect to every knob, the gradient-to-forward time ratio, and the
compile time of each.

    python benchmarks/architectures.py [--batch 1000000] [--chunk 100000] [--repeats 3] [--workload VGG16]

The batch runs as one compiled call in chunks of ``--chunk`` designs (``jax.lax.map`` over
``vmap``ped chunks), which bounds memory: the gradient keeps its residuals per chunk.

Targets (issue 4): PUMA at least 1,000,000 design points per second on a 2-core CPU, gradient at
most 3x the forward time, compile under 10 s.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from timing import median_seconds

import hwjax as hj
from hwjax_models import architectures as registry
from hwjax_models import workloads as catalog

Knobs = dict[str, jax.Array]

#: Models that take a GEMM of TIMON's Table 6.2 rather than a network.
GEMM_MODELS = tuple(name for name, arch in registry.ARCHITECTURES.items() if arch.takes_gemm)


def _sample(knobs: dict[str, registry.Knob], batch: int) -> Knobs:
    """Every knob drawn uniformly over its registry range (not rounded: a relaxed design)."""
    rng = np.random.default_rng(0)
    return {name: jnp.asarray(rng.uniform(k.low, k.high, batch), jnp.float32) for name, k in knobs.items()}


def _energy_fn(arch: registry.Architecture, network) -> Callable[[Knobs], jax.Array]:
    def energy(knobs: Knobs) -> jax.Array:
        return hj.total(arch.cost(arch.module.Config(**knobs), network, "ste")).total_energy

    return energy


def _chunked(fn, chunk: int) -> Callable[[Knobs], jax.Array]:
    """``fn`` over a batch of designs, ``chunk`` at a time (``vmap`` inside each chunk)."""
    return lambda knobs: jax.lax.map(fn, knobs, batch_size=chunk)


def _compile(fn, knobs: Knobs) -> tuple[Callable, float]:
    start = time.perf_counter()
    compiled = jax.jit(fn).lower(knobs).compile()
    return compiled, time.perf_counter() - start


def _count_equations(jaxpr) -> int:
    """Equations of a jaxpr and of the jaxprs nested in its equations' parameters."""
    total = len(jaxpr.eqns)
    for eqn in jaxpr.eqns:
        for param in eqn.params.values():
            inner = getattr(param, "jaxpr", param)  # a ClosedJaxpr holds its Jaxpr
            if hasattr(inner, "eqns"):
                total += _count_equations(inner)
    return total


def traced_ops(fn, knobs: Knobs) -> int:
    """Operations ``fn`` traces to for one design (jaxpr equations, nested included)."""
    one = {name: value[0] for name, value in knobs.items()}
    return _count_equations(jax.make_jaxpr(fn)(one).jaxpr)


def benchmark(name: str, network, batch: int, chunk: int, repeats: int) -> None:
    """Print forward and gradient design points per second, their ratio and compile times."""
    arch = registry.get(name)
    knobs = _sample(arch.knobs, batch)
    energy = _energy_fn(arch, network)
    forward, compile_fwd = _compile(_chunked(energy, chunk), knobs)
    gradient, compile_grad = _compile(_chunked(jax.grad(energy), chunk), knobs)
    t_fwd = median_seconds(forward, knobs, repeats=repeats)
    t_grad = median_seconds(gradient, knobs, repeats=repeats)
    print(
        f"{name:<8} {len(knobs):>5} {batch / t_fwd:>12.3e} {batch / t_grad:>12.3e} {t_grad / t_fwd:>9.2f}"
        f" {compile_fwd:>10.2f} {compile_grad:>11.2f} {traced_ops(energy, knobs):>10}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000, help="designs per vmapped chunk")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workload", default="VGG16", help=f"one of {', '.join(catalog.catalog())}")
    parser.add_argument("--gemm", default="timon_gnmt_1", help="TIMON's workload (Table 6.2)")
    parser.add_argument(
        "--models", nargs="+", default=list(registry.ARCHITECTURES), choices=list(registry.ARCHITECTURES)
    )
    args = parser.parse_args()
    network, gemm = catalog.get(args.workload), catalog.get(args.gemm)
    print(
        f"device: {jax.devices()[0].device_kind}; workload {args.workload} ({args.gemm} for TIMON); "
        f"batch {args.batch:.0e} designs in chunks of {min(args.chunk, args.batch):.0e}"
    )
    print(
        f"{'model':<8} {'knobs':>5} {'fwd pts/s':>12} {'grad pts/s':>12} {'grad/fwd':>9}"
        f" {'compile s':>10} {'grad cmp s':>11} {'traced ops':>10}"
    )
    for name in args.models:
        workload = gemm if name in GEMM_MODELS else network
        benchmark(name, workload, args.batch, min(args.chunk, args.batch), args.repeats)


if __name__ == "__main__":
    main()
