"""Every headline throughput figure of hwjax in one run (run as ``python benchmarks/run.py``).

1. PUMA on VGG16 through :func:`hwjax.sweep.run` (uniform random designs over the knob ranges of
   the ``hwjax_models.architectures`` registry, as ``benchmarks/architectures.py`` samples): design
   points per second of the energy (forward) and of the energy with its gradient with respect to
   all 7 knobs (``--grad-batch`` designs), and the compile time of each;
2. per-point cost of the forward sweep as the batch grows from 1e3 to 1e7 points (it should stay
   flat), each batch in a fresh process so that its peak resident memory (``ru_maxrss``) is its
   own; the 1e7 run's peak RSS is the memory figure (target < 2 GB);
3. speedup of the same sweep on 4 forced host devices (``XLA_FLAGS=
   --xla_force_host_platform_device_count=4``) against 1, both on the CPU: forced devices share
   the machine's cores, so the speedup is bounded by the core count;
4. time of Pareto-front extraction (2-D and 3-D);
5. behavioural-simulation throughput (``benchmarks/sim.py``'s functions).

    python benchmarks/run.py [--batch 1000000] [--grad-batch 200000] [--max-batch 1e7]
                             [--chunk 65536] [--skip-devices] [--skip-sim]

Sweeps are timed without compilation (``Results.info["eval_s"]``) after one warm-up sweep of the same
function (same compiled chunk), so the first-call cost of a fresh executable is not counted;
batches under 1e6 points take the median of up to 5 sweeps.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np

import hwjax as hj
from hwjax import sweep
from hwjax_models import architectures as registry
from hwjax_models import puma
from hwjax_models import workloads as catalog

HERE = Path(__file__).resolve().parent
FORCE_4_DEVICES = "--xla_force_host_platform_device_count=4"


def puma_ranges() -> dict[str, tuple[float, float]]:
    """PUMA's knob ranges from the registry that benchmarks/architectures.py also samples."""
    return {name: (knob.low, knob.high) for name, knob in registry.get("puma").knobs.items()}


def energy_fn(network):
    """Design point -> energy of one batch-1 inference of ``network`` on PUMA, J."""

    def energy(knobs):
        return hj.total(puma.inference(puma.Config(**knobs), network)).total_energy

    return energy


def forward_fn(network):
    energy = energy_fn(network)
    return lambda knobs: {"energy": energy(knobs)}


def gradient_fn(network):
    """Energy and its gradient with respect to every knob (named ``d_energy/d_<knob>``)."""
    value_and_grad = jax.value_and_grad(energy_fn(network))

    def outputs(knobs):
        energy, grads = value_and_grad(knobs)
        return {"energy": energy, **{f"d_energy/d_{name}": g for name, g in grads.items()}}

    return outputs


def timed_sweep(fn, batch: int, chunk: int) -> dict[str, float]:
    """Sweep ``fn`` over ``batch`` uniform PUMA designs: compile s, points/s (after a warm-up)."""
    ranges = puma_ranges()
    # The warm-up compiles the same chunk shape (chunk_size shrinks to the space when smaller)
    # and runs the fresh executable once; sweep.run caches it for the timed sweep.
    warm_up = sweep.uniform(min(batch, chunk), seed=1, **ranges)
    first = sweep.run(fn, warm_up, chunk_size=chunk, progress=False)
    space = sweep.uniform(batch, seed=0, **ranges)
    # Small batches take milliseconds: the median of several sweeps (as benchmarks/timing.py does)
    # keeps one scheduler hiccup from posing as a per-point cost.
    repeats = int(np.clip(1_000_000 // batch, 1, 5))
    runs = [sweep.run(fn, space, chunk_size=chunk, progress=False) for _ in range(repeats)]
    seconds = float(np.median([r.info["eval_s"] for r in runs]))
    return {
        "compile_s": first.info["compile_s"],
        "points_per_s": batch / seconds,
        "ns_per_point": seconds / batch * 1e9,
        "devices": runs[0].info["devices"],
    }


def peak_rss_gb() -> float:
    """Peak resident memory of this process, GB.

    On Linux ``ru_maxrss`` of a child process starts at its parent's peak (it survives fork and
    exec), so the process's own high-water mark ``VmHWM`` is read from /proc when it exists.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e9  # kB
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1e9 if sys.platform == "darwin" else rss * 1024 / 1e9  # bytes on macOS, KiB on Linux


def worker(args: argparse.Namespace) -> None:
    """Child-process mode: one forward sweep, its figures as one JSON line."""
    network = catalog.get(args.workload)
    figures = timed_sweep(forward_fn(network), args.batch, args.chunk)
    print(json.dumps({**figures, "peak_rss_gb": peak_rss_gb()}))


def in_fresh_process(batch: int, chunk: int, workload: str, extra_env: dict[str, str]) -> dict:
    """Run :func:`worker` in a new Python process and return its figures."""
    env = dict(os.environ, **extra_env)
    command = [sys.executable, __file__, "--worker", "--batch", str(batch), "--chunk", str(chunk)]
    proc = subprocess.run(
        [*command, "--workload", workload], env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker for batch {batch} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def batch_sizes(max_batch: int) -> list[int]:
    return [10**e for e in range(3, 8) if 10**e <= max_batch]


def scaling_rows(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    rows, figures = [], {}
    for batch in batch_sizes(args.max_batch):
        figures[batch] = in_fresh_process(batch, args.chunk, args.workload, {})
        print(f"  batch {batch:.0e}: {figures[batch]}", file=sys.stderr)
        rows.append(
            (
                f"forward cost per point, batch {batch:.0e}",
                f"{figures[batch]['ns_per_point']:.0f} ns",
                f"peak RSS {figures[batch]['peak_rss_gb']:.2f} GB (fresh process)",
            )
        )
    if figures:
        costs = [f["ns_per_point"] for b, f in figures.items() if b >= 10_000]
        if costs:
            spread = max(costs) / min(costs)
            rows.append(("per-point cost max/min, batch >= 1e4", f"{spread:.2f}", "flat means close to 1"))
        largest = max(figures)
        peak = f"{figures[largest]['peak_rss_gb']:.2f} GB"
        rows.append((f"peak RSS, {largest:.0e}-point sweep", peak, "target < 2 GB"))
    return rows


def speedup_rows(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """Points/s on 1 and on 4 forced host devices, both on the CPU, in fresh processes."""
    cpu = {"JAX_PLATFORMS": "cpu"}
    one = in_fresh_process(args.batch, args.chunk, args.workload, {**cpu, "XLA_FLAGS": ""})
    four = in_fresh_process(args.batch, args.chunk, args.workload, {**cpu, "XLA_FLAGS": FORCE_4_DEVICES})
    cores = os.cpu_count()
    return [
        ("CPU sweep, 1 device", f"{one['points_per_s']:.3e} pts/s", f"batch {args.batch:.0e}"),
        (
            f"CPU sweep, {four['devices']} forced host devices",
            f"{four['points_per_s']:.3e} pts/s",
            f"speedup {four['points_per_s'] / one['points_per_s']:.2f}x on {cores} cores",
        ),
    ]


def puma_rows(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    network = catalog.get(args.workload)
    forward = timed_sweep(forward_fn(network), args.batch, args.chunk)
    gradient = timed_sweep(gradient_fn(network), args.grad_batch, args.chunk)
    where = f"PUMA on {args.workload}, batch {args.batch:.0e}, chunk {args.chunk}"
    return [
        ("forward design points/s", f"{forward['points_per_s']:.3e}", where),
        ("gradient design points/s", f"{gradient['points_per_s']:.3e}", f"batch {args.grad_batch:.0e}"),
        ("gradient / forward time", f"{forward['points_per_s'] / gradient['points_per_s']:.2f}", ""),
        ("forward compile", f"{forward['compile_s']:.2f} s", "one chunk shape"),
        ("gradient compile", f"{gradient['compile_s']:.2f} s", ""),
    ]


def pareto_rows() -> list[tuple[str, str, str]]:
    """Time of :func:`hwjax.sweep.pareto_mask` on a large 2-D cloud and a dense 3-D front."""
    rng = np.random.default_rng(0)
    cloud = rng.random((2_000_000, 2))
    shell = np.abs(rng.normal(size=(200_000, 3)))  # points near a sphere octant: a dense front
    shell *= (1 + rng.exponential(0.05, (200_000, 1))) / np.linalg.norm(shell, axis=1, keepdims=True)
    rows = []
    for label, values in (("2-D, 2e6 random points", cloud), ("3-D, 2e5 points near a sphere", shell)):
        start = time.perf_counter()
        front = sweep.pareto_mask(values)
        seconds = time.perf_counter() - start
        rows.append((f"Pareto front, {label}", f"{seconds:.2f} s", f"{int(front.sum())} points on it"))
    return rows


def sim_rows() -> list[tuple[str, str, str]]:
    from sim import layer_benchmark, network_images_per_second  # benchmarks/sim.py

    simulated, batched, _ = layer_benchmark()
    return [
        ("simulated 512x512 layer, batch 64", f"{simulated * 1e3:.1f} ms", "16-bit weights/inputs, 8b ADC"),
        ("  vs the same plain matmuls", f"{simulated / batched:.2f}x", "target <= 2"),
        ("simulated MLP 784-256-256-10", f"{network_images_per_second():.0f} images/s", "8-bit, batch 256"),
    ]


def print_table(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    for figure, value, note in rows:
        print(f"{figure:<{width}}  {value:>{value_width}}  {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1_000_000, help="designs for points/s figures")
    parser.add_argument("--grad-batch", type=int, default=200_000, help="designs for the gradient")
    parser.add_argument("--max-batch", type=float, default=1e7, help="largest batch of the scaling series")
    parser.add_argument("--chunk", type=int, default=65536, help="designs per compiled chunk")
    parser.add_argument("--workload", default="VGG16")
    parser.add_argument("--skip-sim", action="store_true", help="leave out the behavioural simulator")
    parser.add_argument("--skip-devices", action="store_true", help="leave out the 4-device speedup")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.max_batch = int(args.max_batch)
    if args.worker:
        worker(args)
        return
    devices = jax.devices()
    kind = devices[0].device_kind
    print(f"jax {jax.__version__}; backend {jax.default_backend()}; {len(devices)} x {kind}")
    print(f"host: {os.cpu_count()} CPU cores")
    start = time.perf_counter()
    rows = puma_rows(args)
    rows += scaling_rows(args)
    if not args.skip_devices:
        rows += speedup_rows(args)
    rows += pareto_rows()
    if not args.skip_sim:
        rows += sim_rows()
    print_table(rows)
    print(f"(benchmark wall time {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
