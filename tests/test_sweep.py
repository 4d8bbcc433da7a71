"""Tests of hwjax.sweep: spaces, chunked evaluation, resume, CSV, Pareto fronts, multi-device runs.

Every comparison of sweep results is exact (``np.testing.assert_array_equal``) unless stated: the
sweep evaluates the same compiled per-point arithmetic on the same float32 inputs, so chunking,
padding, resuming or sharding must not change a single bit.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import qmc

from hwjax import sweep
from hwjax.sweep import runner

ROOT = Path(__file__).resolve().parents[1]


def cheap_model(knobs):
    """A stand-in cost model with transcendental functions (as the real ones have)."""
    a, b = knobs["a"], knobs["b"]
    return {"energy": a * jnp.exp(-b) + jnp.log1p(a * b), "latency": jnp.sqrt(a) / b}


def small_space(n: int = 1000) -> sweep.Space:
    return sweep.uniform(n, seed=1, a=(1.0, 4.0), b=(0.1, 10.0, "log"))


def brute_force_front(values: np.ndarray) -> np.ndarray:
    """O(n²) reference: row i is on the front unless some row is <= everywhere and < somewhere."""
    mask = np.zeros(len(values), dtype=bool)
    for i, row in enumerate(values):
        if np.isnan(row).any():
            continue
        others = values[~np.isnan(values).any(axis=1)]
        dominated = np.any(np.all(others <= row, axis=1) & np.any(others < row, axis=1))
        mask[i] = not dominated
    return mask


# ---------------------------------------------------------------------------------------- spaces


def test_grid_lists_the_cartesian_product_with_the_last_knob_fastest():
    space = sweep.grid(a=[1, 2], b=[10, 20, 30])
    points = space.points(0, len(space))
    assert space.names == ("a", "b") and len(space) == 6
    np.testing.assert_array_equal(points["a"], [1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(points["b"], [10, 20, 30, 10, 20, 30])
    assert points["a"].dtype == np.float64
    np.testing.assert_array_equal(space.points(2, 5)["b"], [30, 10, 20])  # any slice, by index


def test_uniform_points_do_not_depend_on_how_the_space_is_sliced():
    space = sweep.uniform(10_000, seed=3, x=(-1.0, 2.0), y=(1e-3, 1.0, "log"))
    whole = space.points(0, 10_000)
    pieces = [space.points(lo, hi) for lo, hi in ((0, 4000), (4000, 4097), (4097, 10_000))]
    for name in space.names:
        np.testing.assert_array_equal(np.concatenate([p[name] for p in pieces]), whole[name])
    assert whole["x"].min() >= -1 and whole["x"].max() <= 2
    assert whole["y"].min() >= 1e-3 and whole["y"].max() <= 1
    # log-uniform: the mean of log10(y) is the midpoint -1.5; 10,000 samples of a uniform of width
    # 3 have a standard error of 3/sqrt(12 * 1e4) = 0.009, so 0.05 is over 5 sigma.
    assert abs(np.log10(whole["y"]).mean() + 1.5) < 0.05
    other_seed = sweep.uniform(10_000, seed=4, x=(-1.0, 2.0), y=(1e-3, 1.0, "log")).points(0, 10)
    assert not np.array_equal(other_seed["x"], whole["x"][:10])


def test_plain_halton_is_the_standard_sequence_from_index_one():
    space = sweep.halton(500, a=(0.0, 1.0), b=(0.0, 1.0), c=(0.0, 1.0))
    ours = np.stack([space.points(0, 500)[k] for k in space.names], axis=1)
    reference = qmc.Halton(d=3, scramble=False).random(501)[1:]  # scipy starts at the origin
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-15)  # same sums of base^-k terms
    np.testing.assert_array_equal(ours[0], [0.5, 1 / 3, 0.2])


@pytest.mark.parametrize("seed", [0, 7])
def test_halton_stays_in_range_and_has_low_discrepancy(seed):
    ranges = {"a": (64.0, 256.0), "b": (6.0, 10.0), "c": (1e8, 1e10, "log"), "d": (-1.0, 1.0)}
    space = sweep.halton(1024, seed, **ranges)
    points = space.points(0, 1024)
    unit = []
    for name, (low, high, *log) in ranges.items():
        assert points[name].min() >= low and points[name].max() <= high
        values = np.log(points[name]) if log else points[name]
        lo, hi = (np.log(low), np.log(high)) if log else (low, high)
        unit.append((values - lo) / (hi - lo))
    unit = np.clip(np.stack(unit, axis=1), 0, 1)
    random = np.random.default_rng(0).random((1024, 4))
    # Halton's centred L2 discrepancy at n = 1024 is several times below i.i.d. uniform's; a
    # factor 2 leaves margin for the seed while still failing for a broken (e.g. random) sequence.
    assert qmc.discrepancy(unit) < qmc.discrepancy(random) / 2


def test_space_rejects_bad_slices_and_names():
    space = sweep.grid(a=[1, 2, 3])
    with pytest.raises(ValueError, match="start=2, stop=5"):
        space.points(2, 5)
    with pytest.raises(ValueError, match="identifier"):
        sweep.grid(**{"bad name": [1]})
    with pytest.raises(ValueError, match="n=0"):
        sweep.halton(0, a=(0, 1))
    with pytest.raises(ValueError, match="low > 0"):
        sweep.uniform(5, a=(0.0, 1.0, "log"))


# ------------------------------------------------------------------------------------ parse_space


def test_parse_space_grid_grammar():
    space = sweep.parse_space("mvmu_dim=64,128,256 adc_bits=6:10:5")
    expected = sweep.grid(mvmu_dim=[64, 128, 256], adc_bits=np.linspace(6, 10, 5))
    assert space == expected and len(space) == 15
    np.testing.assert_array_equal(space.points(0, 15)["adc_bits"], expected.points(0, 15)["adc_bits"])


def test_parse_space_sampled_grammar_and_spec_round_trip():
    space = sweep.parse_space("halton:64:2 a=1..2;b=1e-3..1..log")
    expected = sweep.halton(64, 2, a=(1, 2), b=(1e-3, 1, "log"))
    for name in ("a", "b"):
        np.testing.assert_array_equal(space.points(0, 64)[name], expected.points(0, 64)[name])
    assert sweep.parse_space(space.spec).spec == space.spec
    assert len(sweep.parse_space("uniform x=0..1")) == sweep.DEFAULT_SAMPLES
    grid = sweep.grid(x=[0.1, 1 / 3])
    np.testing.assert_array_equal(sweep.parse_space(grid.spec).points(0, 2)["x"], [0.1, 1 / 3])


@pytest.mark.parametrize(
    ("spec", "term"),
    [
        ("sobel:10 a=0..1", "sobel:10"),
        ("a=1..2", "a=1..2"),
        ("halton:10 a=1,2", "a=1,2"),
        ("a=1,x", "a=1,x"),
        ("a=1:2", "a=1:2"),
        ("a=1:2:0", "a=1:2:0"),
        ("a=1,2 a=3", "a=3"),
        ("halton:0 a=0..1", "halton:0"),
        ("halton:10:1:2 a=0..1", "halton:10:1:2"),
        ("a=1 b", "b"),
        ("halton:10 a=2..1", "a=2..1"),
        ("halton:10 a=0..1..log", "a=0..1..log"),
        ("halton:10 a=0..1..lin", "a=0..1..lin"),
        ("", ""),
    ],
)
def test_parse_space_errors_name_the_term(spec, term):
    with pytest.raises(ValueError, match=re.escape(repr(term)) if term else "empty"):
        sweep.parse_space(spec)


# ------------------------------------------------------------------------------- chunked running


def test_chunked_run_equals_plain_vmap_and_compiles_once():
    traces = []

    def counted(knobs):
        traces.append(1)  # runs once per trace, never per chunk
        return cheap_model(knobs)

    space = small_space(1000)
    results = sweep.run(counted, space, chunk_size=300, progress=False)  # 4 chunks, the last padded
    assert len(traces) == 1 and results.info["chunk_size"] == 300
    sweep.run(counted, small_space(2000), chunk_size=300, progress=False)  # same fn, same chunk shape
    assert len(traces) == 1  # the compiled chunk is reused, not traced again
    points = space.points(0, 1000)
    plain = jax.jit(jax.vmap(cheap_model))({k: jnp.asarray(v, jnp.float32) for k, v in points.items()})
    assert results.names == ("a", "b", "energy", "latency") and len(results) == 1000
    for name in ("energy", "latency"):
        np.testing.assert_array_equal(results[name], np.asarray(plain[name]))
        assert results[name].dtype == np.float32
    np.testing.assert_array_equal(results["a"], points["a"])  # knobs: the space's float64 values


@pytest.mark.parametrize(("n", "chunk_size"), [(7, 3), (5, 64), (9, 1)])
def test_padding_and_small_spaces(n, chunk_size):
    space = small_space(n)
    results = sweep.run(cheap_model, space, chunk_size=chunk_size, progress=False)
    reference = [cheap_model({k: jnp.float32(v[i]) for k, v in space.points(0, n).items()}) for i in range(n)]
    # per point, outside vmap: XLA may fuse scalar and vector code differently, so allow 2 ulp
    np.testing.assert_allclose(results["energy"], [r["energy"] for r in reference], rtol=2.5e-7)
    assert results.info["chunk_size"] == min(chunk_size, n) and results.info["evaluated"] == n


def test_run_accepts_space_text():
    results = sweep.run(cheap_model, "a=1,2 b=0.5", progress=False)
    np.testing.assert_array_equal(results["a"], [1.0, 2.0])
    assert results.knobs == ("a", "b") and results.outputs == ("energy", "latency")


def test_float64_sweeps_keep_full_precision():
    with jax.enable_x64(True):
        space = sweep.halton(100, a=(1.0, 2.0))
        results = sweep.run(lambda k: {"root": jnp.sqrt(k["a"])}, space, dtype=jnp.float64, progress=False)
    assert results["root"].dtype == np.float64
    # sqrt is correctly rounded in IEEE arithmetic: float64 in, float64 out, no float32 detour
    np.testing.assert_array_equal(results["root"], np.sqrt(results["a"]))


def test_boolean_and_integer_outputs_are_kept(tmp_path):
    outputs = lambda k: {"fits": k["a"] > 1.5, "count": jnp.round(k["a"]).astype(jnp.int32)}  # noqa: E731
    results = sweep.run(outputs, sweep.grid(a=[1.0, 2.0, 3.0]), out=tmp_path, progress=False)
    np.testing.assert_array_equal(sweep.load(tmp_path)["fits"], [False, True, True])
    assert results["count"].dtype == np.int32 and results.info["nonfinite"] == {"fits": 0, "count": 0}


def test_nonfinite_outputs_warn_and_are_counted():
    space = sweep.grid(a=[-1.0, 0.0, 1.0, 2.0])
    with pytest.warns(sweep.NonFiniteWarning, match="log: 2"):
        results = sweep.run(lambda k: {"log": jnp.log(k["a"])}, space, progress=False)
    assert results.info["nonfinite"] == {"log": 2}  # log(-1) = nan and log(0) = -inf


def test_run_rejects_bad_arguments(tmp_path):
    space = small_space(10)
    with pytest.raises(ValueError, match="chunk_size=0"):
        sweep.run(cheap_model, space, chunk_size=0)
    with pytest.raises(ValueError, match="resume=True needs out"):
        sweep.run(cheap_model, space, resume=True)
    with pytest.raises(ValueError, match="dict of named scalars"):
        sweep.run(lambda k: k["a"], space, progress=False)
    with pytest.raises(ValueError, match="dtype"):
        sweep.run(cheap_model, space, dtype=jnp.int32)


# ------------------------------------------------------------------------------------------ resume


def _assert_same(a: sweep.Results, b: sweep.Results) -> None:
    assert a.names == b.names
    for name in a.names:
        np.testing.assert_array_equal(a[name], b[name])


def test_resume_after_lost_chunks_equals_an_uninterrupted_run(tmp_path):
    space = small_space(1000)
    full = sweep.run(cheap_model, space, chunk_size=128, out=tmp_path, progress=False)  # 8 chunks
    _assert_same(sweep.load(tmp_path), full)
    for index in (2, 7):  # chunk 7 is the padded last one
        (tmp_path / f"chunk_{index:06d}.npz").unlink()
    with pytest.raises(ValueError, match="2 of 8 chunks are missing"):
        sweep.load(tmp_path)
    resumed = sweep.run(cheap_model, space, chunk_size=128, out=tmp_path, resume=True, progress=False)
    assert resumed.info["evaluated"] == 128 + 1000 - 7 * 128
    _assert_same(resumed, full)
    _assert_same(sweep.load(tmp_path), full)


def test_resume_after_an_interruption(tmp_path, monkeypatch):
    space = small_space(1000)
    full = sweep.run(cheap_model, space, chunk_size=128, progress=False)
    save = runner._save_chunk
    saved = []

    def crash_on_fourth(*args):
        if len(saved) == 3:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C while chunk 3 was saving
        saved.append(args[1])
        save(*args)

    monkeypatch.setattr(runner, "_save_chunk", crash_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        sweep.run(cheap_model, space, chunk_size=128, out=tmp_path, progress=False)
    monkeypatch.setattr(runner, "_save_chunk", save)
    assert sorted(p.name for p in tmp_path.glob("chunk_*")) == [f"chunk_{i:06d}.npz" for i in range(3)]
    resumed = sweep.run(cheap_model, space, chunk_size=128, out=tmp_path, resume=True, progress=False)
    assert resumed.info["evaluated"] == 1000 - 3 * 128
    _assert_same(resumed, full)


def test_a_different_sweep_cannot_resume_or_overwrite(tmp_path):
    sweep.run(cheap_model, small_space(100), chunk_size=32, out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="already holds a sweep"):
        sweep.run(cheap_model, small_space(100), chunk_size=32, out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="its spec is"):
        sweep.run(cheap_model, small_space(101), chunk_size=32, out=tmp_path, resume=True, progress=False)
    with pytest.raises(ValueError, match="its chunk_size is 32"):
        sweep.run(cheap_model, small_space(100), chunk_size=64, out=tmp_path, resume=True, progress=False)
    other_outputs = lambda k: {"energy": k["a"]}  # noqa: E731
    with pytest.raises(ValueError, match="its outputs"):
        sweep.run(other_outputs, small_space(100), chunk_size=32, out=tmp_path, resume=True, progress=False)
    with pytest.raises(ValueError, match="holds no saved sweep"):
        sweep.load(tmp_path / "nothing")


# ----------------------------------------------------------------------------------- CSV, results


def test_csv_round_trip_is_exact(tmp_path):
    results = sweep.run(cheap_model, small_space(300), chunk_size=64, progress=False)
    results.to_csv(tmp_path / "r.csv", block=100)  # several blocks
    back = sweep.Results.from_csv(tmp_path / "r.csv")
    assert back.names == results.names
    for name in results.names:  # 17 significant digits reproduce a float64 (and so a float32)
        np.testing.assert_array_equal(back[name], results[name].astype(np.float64))


def test_results_row_take_best():
    results = sweep.Results({"x": np.array([3.0, 1.0, 2.0]), "y": np.array([0.0, np.nan, 5.0])}, ["x"])
    assert results.row(2) == {"x": 2.0, "y": 5.0}
    assert results.best("x")["x"] == 1.0 and np.isnan(results.best("x")["y"])
    assert results.best("y", maximize=True) == results.row(2)
    assert results.best("y") == results.row(0)  # the NaN is ignored, not taken as the minimum
    np.testing.assert_array_equal(results.take([2, 0])["x"], [2.0, 3.0])
    assert results.outputs == ("y",)
    with pytest.raises(ValueError, match="columns are: x, y"):
        results["z"]


# ------------------------------------------------------------------------------------------ Pareto


@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("levels", [5, 1000])  # 5 levels: many ties and exact duplicates
def test_pareto_mask_matches_brute_force(k, levels):
    rng = np.random.default_rng(k * levels)
    values = rng.integers(0, levels, (400, k)).astype(float)
    values[rng.integers(0, 400, 10), rng.integers(0, k, 10)] = np.nan  # never on the front
    values[rng.integers(0, 400, 3), 0] = np.inf
    np.testing.assert_array_equal(sweep.pareto_mask(values), brute_force_front(values))


def test_pareto_skyline_spans_several_blocks():
    # Points on a sphere octant are all mutually non-dominated: a front larger than a block.
    rng = np.random.default_rng(0)
    values = np.abs(rng.normal(size=(2500, 3)))
    values /= np.linalg.norm(values, axis=1, keepdims=True)
    values = np.concatenate([values, values[:50] + 0.1])  # and some dominated points
    np.testing.assert_array_equal(sweep.pareto_mask(values), brute_force_front(values))


def test_results_pareto_with_maximize_is_sorted_and_checked():
    rng = np.random.default_rng(5)
    cols = {"energy": rng.random(300), "accuracy": rng.random(300), "area": rng.random(300)}
    results = sweep.Results(cols)
    front = results.pareto(["energy", "accuracy"], maximize=["accuracy"])
    expected = brute_force_front(np.stack([cols["energy"], -cols["accuracy"]], axis=1))
    assert len(front) == expected.sum()
    np.testing.assert_array_equal(np.sort(front["energy"]), np.sort(cols["energy"][expected]))
    assert np.all(np.diff(front["energy"]) >= 0)  # sorted by the first objective
    assert np.all(np.diff(front["accuracy"]) >= 0)  # along the front, more energy buys accuracy
    with pytest.raises(ValueError, match="columns are: energy, accuracy, area"):
        results.pareto(["power"])
    with pytest.raises(ValueError, match="maximize='area'"):
        results.pareto(["energy"], maximize=["area"])


# ---------------------------------------------------------------------------------- multi-device

_SUBPROCESS = textwrap.dedent(
    """
    import json, sys
    import jax
    from hwjax import sweep
    from tests.test_sweep import cheap_model, small_space
    results = sweep.run(cheap_model, small_space(1000), chunk_size=64, out=sys.argv[1], progress=False)
    print(json.dumps({"devices": len(jax.devices()), "used": results.info["devices"]}))
    """
)


def test_four_host_devices_give_the_single_device_results(tmp_path):
    # The suite's compiler flags (tests/conftest.py) too, so both sides round alike.
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=4"
    env = dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", _SUBPROCESS, str(tmp_path / "four")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"devices": 4, "used": 4}
    single = sweep.run(cheap_model, small_space(1000), chunk_size=64, out=tmp_path / "one", progress=False)
    assert single.info["devices"] == len(jax.local_devices())
    _assert_same(sweep.load(tmp_path / "four"), single)


_PROCESS = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU processes talk over gloo
    jax.distributed.initialize(sys.argv[1], num_processes=2, process_id=int(sys.argv[2]))
    from hwjax import sweep
    from tests.test_sweep import cheap_model, small_space
    results = sweep.run(cheap_model, small_space(1000), chunk_size=64, out=sys.argv[3], progress=False)
    print(json.dumps({"evaluated": results.info["evaluated"], "rows": len(results)}))
    """
)


def test_two_processes_split_the_chunks_and_merge(tmp_path):
    with socket.socket() as probe:  # a free port for the coordinator
        probe.bind(("localhost", 0))
        address = f"localhost:{probe.getsockname()[1]}"
    env = dict(os.environ, JAX_PLATFORMS="cpu")  # the suite's compiler flags, as in this process
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    command = [sys.executable, "-c", _PROCESS, address]
    pipe = {"env": env, "cwd": ROOT, "stdout": subprocess.PIPE, "text": True}
    procs = [subprocess.Popen([*command, str(i), str(tmp_path)], **pipe) for i in range(2)]
    try:
        outputs = [json.loads(p.communicate(timeout=120)[0].strip().splitlines()[-1]) for p in procs]
    finally:  # a failed process leaves its peer waiting at the coordinator: stop it
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0, 0]
    # 16 chunks of 64 (the last of 40): process 0 takes the even ones, process 1 the odd ones
    assert outputs == [{"evaluated": 512, "rows": 1000}, {"evaluated": 488, "rows": 1000}]
    single = sweep.run(cheap_model, small_space(1000), chunk_size=64, progress=False)
    _assert_same(sweep.load(tmp_path), single)
