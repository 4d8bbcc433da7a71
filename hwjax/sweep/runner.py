"""Running a sweep: chunked, sharded ``jit(vmap(fn))``, per-chunk saves, resume, multi-host, and
:func:`load` of a saved sweep.
"""

from __future__ import annotations

import json
import os
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from hwjax.sweep.results import Results
from hwjax.sweep.spaces import Space, parse_space

#: Version of the on-disk layout of a saved sweep (manifest.json + chunk_NNNNNN.npz).
_FORMAT = 1
_MANIFEST = "manifest.json"


class NonFiniteWarning(UserWarning):
    """A sweep produced NaN or inf outputs (counts are in ``Results.info["nonfinite"]``)."""


def _chunk_path(out: Path, index: int) -> Path:
    return out / f"chunk_{index:06d}.npz"


def _write_atomically(path: Path, write: Callable[[Any], None]) -> None:
    """Write via a temporary file and rename, so an interruption never leaves a half-written file."""
    # Hosts of a multi-host sweep share the folder: the process index keeps their names apart.
    temporary = path.with_name(f"{path.name}.tmp{jax.process_index()}-{os.getpid()}")
    with open(temporary, "wb") as file:
        write(file)
    os.replace(temporary, path)


def _save_chunk(out: Path, index: int, start: int, outputs: Mapping[str, np.ndarray]) -> None:
    _write_atomically(_chunk_path(out, index), lambda f: np.savez(f, _start=start, **outputs))


def _read_manifest(out: Path) -> dict | None:
    path = out / _MANIFEST
    return json.loads(path.read_text()) if path.exists() else None


def _check_manifest(saved: Mapping[str, Any], wanted: Mapping[str, Any], out: Path) -> None:
    for key, value in wanted.items():
        if saved.get(key) != value:
            raise ValueError(
                f"out={str(out)!r} holds a different sweep: its {key} is {saved.get(key)!r}, this "
                f"run's is {value!r}; use another folder, or the same space, chunk_size and fn"
            )


def _mesh_sharding() -> tuple[NamedSharding, int]:
    """A sharding of a 1-D batch over every local device (a 1-D mesh named ``points``)."""
    devices = jax.local_devices()
    mesh = Mesh(np.array(devices), ("points",))
    return NamedSharding(mesh, PartitionSpec("points")), len(devices)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _padded_points(space: Space, start: int, chunk: int, dtype, columns) -> dict[str, np.ndarray]:
    """Points [start, start + chunk) in ``dtype``, the part past the end filled with the last point
    (a valid design, so padding cannot raise or produce NaN; trimmed after evaluation). The exact
    float64 values go into the knob ``columns`` on the way, so each point is generated once."""
    stop = min(start + chunk, len(space))
    points = space.points(start, stop)
    for name, values in points.items():
        columns[name][start:stop] = values
    return {k: np.pad(v, (0, chunk - (stop - start)), mode="edge").astype(dtype) for k, v in points.items()}


#: fn -> {sharding: jit(vmap(fn))}: a second sweep of the same fn (a resume, a larger space, a
#: benchmark's warm-up) reuses JAX's trace and compilation caches instead of compiling again.
_BATCHED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _batched(fn, sharding: NamedSharding):
    """``jit(vmap(fn))`` with its batch sharded, cached per ``fn`` while ``fn`` is alive."""
    try:
        per_sharding = _BATCHED.setdefault(fn, {})
    except TypeError:  # fn cannot be weakly referenced (e.g. a builtin): no cache
        per_sharding = {}
    if sharding not in per_sharding:
        per_sharding[sharding] = jax.jit(jax.vmap(fn), in_shardings=sharding, out_shardings=sharding)
    return per_sharding[sharding]


def _compile(fn, space: Space, chunk: int, dtype, sharding: NamedSharding):
    """``jit(vmap(fn))`` for one chunk shape, traced and compiled once; returns (compiled, outputs)."""
    batched = _batched(fn, sharding)
    shapes = {name: jax.ShapeDtypeStruct((chunk,), dtype, sharding=sharding) for name in space.names}
    lowered = batched.lower(shapes)
    out_info = lowered.out_info
    if not isinstance(out_info, Mapping) or not all(
        isinstance(v, jax.ShapeDtypeStruct) and v.shape == (chunk,) for v in out_info.values()
    ):
        raise ValueError("fn must return a dict of named scalars, e.g. {'energy': e, 'latency': t}")
    clash = set(out_info) & set(space.names)
    if clash:
        raise ValueError(f"fn's outputs {sorted(clash)} reuse knob names; rename them")
    return lowered.compile(), {name: info.dtype for name, info in out_info.items()}


def _empty_columns(knobs: Iterable[str], outputs: Mapping[str, Any], n: int) -> dict[str, np.ndarray]:
    """Preallocated result columns: float64 knobs, outputs in their dtype (NaN until filled)."""
    columns = {name: np.empty(n, np.float64) for name in knobs}
    for name, dtype in outputs.items():
        dtype = np.dtype(dtype)
        columns[name] = np.full(n, np.nan if np.issubdtype(dtype, np.inexact) else 0, dtype)
    return columns


def _chunk_size_at(index: int, chunk: int, n: int) -> int:
    """Points in chunk ``index`` (the last one may be short)."""
    return min(chunk, n - index * chunk)


def _chunk_plan(n: int, chunk: int) -> list[int]:
    """The chunk indices this process evaluates (all of them unless multi-host)."""
    count, process, processes = -(-n // chunk), jax.process_index(), jax.process_count()
    return [i for i in range(count) if i % processes == process]


def _load_saved_chunks(out: Path, chunks: list[int], chunk: int, columns: dict[str, np.ndarray]) -> list[int]:
    """Copy saved chunks into ``columns``; return the chunk indices still to evaluate."""
    todo = []
    for index in chunks:
        path = _chunk_path(out, index)
        if not path.exists():
            todo.append(index)
            continue
        with np.load(path) as saved:
            start = index * chunk
            if int(saved["_start"]) != start:
                raise ValueError(f"{path} starts at point {int(saved['_start'])}, expected {start}")
            for name, values in columns.items():
                if name in saved:
                    stored = saved[name]  # each access of an npz member reads and decodes it again
                    values[start : start + len(stored)] = stored
    return todo


def _progress(total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm  # imported here: only sweeps need it

    return tqdm(total=total, initial=initial, unit="pt", unit_scale=True, disable=not enabled, desc="sweep")


def _report_nonfinite(columns: Mapping[str, np.ndarray], outputs: Iterable[str]) -> dict[str, int]:
    counts = {name: int(np.count_nonzero(~np.isfinite(columns[name]))) for name in outputs}
    bad = {name: count for name, count in counts.items() if count}
    if bad:
        listed = ", ".join(f"{name}: {count}" for name, count in bad.items())
        warnings.warn(f"sweep produced NaN or inf outputs ({listed} points)", NonFiniteWarning, stacklevel=3)
    return counts


def run(
    fn: Callable[[dict[str, jax.Array]], dict[str, jax.Array]],
    space: Space | str,
    *,
    chunk_size: int = 65536,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
    dtype=jnp.float32,
) -> Results:
    """Evaluate ``fn`` at every point of ``space``; return the knobs and outputs as named columns.

    ``fn(knobs)`` takes a dict of scalar knobs (``dtype``) and returns a dict of named scalars. It
    runs as one compiled ``jit(vmap(fn))`` over chunks of ``chunk_size`` points (rounded up to a
    multiple of the local device count, and down to the space size), each chunk sharded over a 1-D
    mesh of the local devices; the last chunk is padded with copies of the last point and trimmed,
    so the sweep traces and compiles exactly once. The next chunk's points are generated while the
    devices compute, and memory stays bounded: only the result columns grow with the space
    (8 bytes per knob and 4 per float32 output per point).

    Args:
        fn: the design-point function; must be traceable by ``jax.jit`` and ``jax.vmap``.
        space: the design points (or their :func:`parse_space` text).
        chunk_size: points per compiled call (>= 1).
        out: a folder in which to save each chunk as it completes (``chunk_NNNNNN.npz``) and a
            ``manifest.json`` (space spec, chunk size, size, columns, dtype); :func:`load` reads it.
        resume: continue the sweep saved in ``out``, evaluating only its missing chunks; the result
            is identical to an uninterrupted run. Without a manifest in ``out`` it starts afresh.
        progress: show a tqdm progress bar.
        dtype: floating dtype of the knobs handed to ``fn`` (``jnp.float64`` needs
            ``jax.enable_x64``).

    Returns:
        :class:`Results` with the knob columns (float64, exactly the space's values) then ``fn``'s
        outputs (``fn``'s dtype). NaN/inf outputs are counted in ``info["nonfinite"]`` and reported
        with a :class:`NonFiniteWarning`. Under multi-host (``jax.process_count() > 1``) ``out`` is
        required; every process evaluates its share of chunks, waits for the others and returns the
        merged results.

    Raises:
        ValueError: a bad ``chunk_size`` or ``dtype``, ``resume`` without ``out``, ``out`` already
            holding a sweep while ``resume`` is False, a saved sweep that differs (spec, chunk size,
            columns or dtype), or ``fn`` not returning a dict of scalars.
    """
    space = parse_space(space) if isinstance(space, str) else space
    if isinstance(chunk_size, bool) or int(chunk_size) != chunk_size or chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size!r} must be a whole number >= 1")
    if not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(f"dtype={dtype!r} must be a floating dtype (float32 or float64)")
    if resume and out is None:
        raise ValueError("resume=True needs out= (the folder of the sweep to continue)")
    if out is None and jax.process_count() > 1:
        raise ValueError("a multi-host sweep needs out= on a file system every host shares")
    dtype = jnp.dtype(dtype)
    sharding, devices = _mesh_sharding()
    chunk = min(_round_up(int(chunk_size), devices), _round_up(len(space), devices))
    n = len(space)

    start_time = time.perf_counter()
    compiled, out_dtypes = _compile(fn, space, chunk, dtype, sharding)
    compile_s = time.perf_counter() - start_time

    columns = _empty_columns(space.names, out_dtypes, n)
    chunks = _chunk_plan(n, chunk)
    todo = chunks
    if out is not None:
        todo = _prepare_out(Path(out), resume, space, chunk, out_dtypes, dtype, chunks, columns)

    start_time = time.perf_counter()
    evaluated = _evaluate(compiled, space, chunk, dtype, sharding, todo, columns, out, progress)
    eval_s = time.perf_counter() - start_time
    _fill_knobs(space, sorted(set(chunks) - set(todo)), chunk, columns)  # the chunks loaded from out

    if jax.process_count() > 1:
        columns = _merged_after_every_process(out)
    info = {
        "devices": devices,
        "processes": jax.process_count(),
        "chunk_size": chunk,
        "compile_s": compile_s,
        "eval_s": eval_s,
        "evaluated": evaluated,
        "nonfinite": _report_nonfinite(columns, out_dtypes),
    }
    return Results(columns, space.names, info)


def _merged_after_every_process(out) -> dict[str, np.ndarray]:
    """Wait until every process has saved its chunks, then read the whole sweep back."""
    from jax.experimental import multihost_utils  # only multi-host sweeps need it

    multihost_utils.sync_global_devices(f"hwjax.sweep {out}")
    return load(out).columns


def _prepare_out(out: Path, resume, space, chunk, out_dtypes, dtype, chunks, columns) -> list[int]:
    """Create or check ``out``'s manifest; load saved chunks when resuming. Returns chunks to do."""
    manifest = {
        "format": _FORMAT,
        "spec": space.spec,
        "n": len(space),
        "chunk_size": chunk,
        "knobs": list(space.names),
        "outputs": {name: str(np.dtype(dt)) for name, dt in out_dtypes.items()},
        "dtype": str(np.dtype(dtype)),
    }
    saved = _read_manifest(out)
    if saved is not None and not resume and jax.process_count() == 1:
        raise ValueError(
            f"out={str(out)!r} already holds a sweep; pass resume=True to continue it or use another folder"
        )
    if saved is not None:
        # Under multi-host another process may have just written this manifest: it must match.
        _check_manifest(saved, manifest, out)
        return _load_saved_chunks(out, chunks, chunk, columns) if resume else chunks
    out.mkdir(parents=True, exist_ok=True)
    _write_atomically(out / _MANIFEST, lambda f: f.write(json.dumps(manifest, indent=1).encode()))
    return chunks


def _evaluate(compiled, space, chunk, dtype, sharding, todo, columns, out, progress) -> int:
    """Run ``compiled`` over the chunks in ``todo``, one chunk ahead of the host (async dispatch)."""
    n = len(space)
    total = sum(_chunk_size_at(i, chunk, n) for i in _chunk_plan(n, chunk))  # this process's share
    evaluated = sum(_chunk_size_at(i, chunk, n) for i in todo)
    bar = _progress(total, total - evaluated, progress and bool(todo))

    def submit(index: int):
        points = _padded_points(space, index * chunk, chunk, dtype, columns)
        return index, compiled(jax.device_put(points, sharding))

    def collect(index: int, result: Mapping[str, jax.Array]) -> None:
        start, size = index * chunk, _chunk_size_at(index, chunk, n)
        outputs = {name: np.asarray(values)[:size] for name, values in result.items()}
        for name, values in outputs.items():
            columns[name][start : start + size] = values
        if out is not None:
            _save_chunk(Path(out), index, start, outputs)
        bar.update(size)

    pending = None
    with bar:
        for index in todo:
            submitted = submit(index)
            if pending is not None:
                collect(*pending)
            pending = submitted
        if pending is not None:
            collect(*pending)
    return evaluated


def _fill_knobs(space: Space, chunks: list[int], chunk: int, columns: dict[str, np.ndarray]) -> None:
    """Write the space's float64 knob values into their columns, one chunk at a time."""
    for index in chunks:
        start, stop = index * chunk, min((index + 1) * chunk, len(space))
        for name, values in space.points(start, stop).items():
            columns[name][start:stop] = values


def load(out: str | os.PathLike) -> Results:
    """Read a complete sweep saved by :func:`run` in ``out`` (merging every process's chunks).

    Raises:
        ValueError: no manifest in ``out``, or chunks missing (the sweep was interrupted: resume it).
    """
    out = Path(out)
    manifest = _read_manifest(out)
    if manifest is None:
        raise ValueError(f"out={str(out)!r} holds no saved sweep ({_MANIFEST} is missing)")
    space = parse_space(manifest["spec"])
    n, chunk = manifest["n"], manifest["chunk_size"]
    chunks = list(range(-(-n // chunk)))
    columns = _empty_columns(space.names, manifest["outputs"], n)
    missing = _load_saved_chunks(out, chunks, chunk, columns)
    if missing:
        raise ValueError(
            f"out={str(out)!r} is incomplete: {len(missing)} of {len(chunks)} chunks are missing "
            "(continue it with run(..., resume=True))"
        )
    _fill_knobs(space, chunks, chunk, columns)
    return Results(columns, space.names)
