"""Design-space sweeps: spaces of named knobs, chunked ``jit(vmap(fn))``, sharding, Pareto fronts.

A sweep has three parts:

* a :class:`Space` of design points over named knobs, built with :func:`grid`, :func:`uniform`,
  :func:`halton` or parsed from text with :func:`parse_space`. Points are generated lazily *by
  index*, so a space of ten million points costs no memory until a chunk of it is asked for;
* :func:`run`, which evaluates ``fn(knobs) -> outputs`` (both dicts of scalars) over the space with
  one compiled ``jit(vmap(fn))`` applied to fixed-size chunks (the last one padded and trimmed, so
  nothing recompiles), sharded across the local devices over a 1-D mesh, with a progress bar, and
  optionally saving each chunk as it completes so an interrupted sweep can be resumed;
* :class:`Results`, named columns (the knobs in float64, the outputs in ``fn``'s dtype) with CSV
  export, :meth:`Results.pareto` and :meth:`Results.best`.

Example::

    from hwjax import sweep

    space = sweep.parse_space("halton:4096 mvmu_dim=64..256 adc_bits=6..10")
    results = sweep.run(lambda k: {"energy": k["mvmu_dim"] * 2.0 ** k["adc_bits"]}, space)
    front = results.pareto(["energy", "adc_bits"], maximize=["adc_bits"])

**Devices.** Each chunk is split over every local device (all GPUs of the host; on a CPU,
``XLA_FLAGS=--xla_force_host_platform_device_count=N`` makes N devices of the cores), with
``jax.sharding`` over a 1-D mesh; results do not depend on the device count.

**Multi-host.** The same script runs on every host of a cluster after
``jax.distributed.initialize()``: each process evaluates the chunks ``i`` with
``i % process_count == process_index`` on its own devices, writes them to ``out`` (a folder on a
file system every host shares), waits for the others and returns the merged results (what
:func:`load` reads). For example, with ``my_sweep.py``::

    import sys, jax
    from hwjax import sweep

    jax.distributed.initialize(sys.argv[1], num_processes=int(sys.argv[2]), process_id=int(sys.argv[3]))
    space = sweep.parse_space("halton:100000000 mvmu_dim=64..256 adc_bits=6..10")
    results = sweep.run(my_cost_fn, space, out="/shared/sweeps/run1")

on two hosts::

    host0$ python my_sweep.py 10.0.0.1:1234 2 0
    host1$ python my_sweep.py 10.0.0.1:1234 2 1

(under SLURM, ``jax.distributed.initialize()`` with no arguments reads all three from the job;
CPU-only processes also need ``jax.config.update("jax_cpu_collectives_implementation", "gloo")``
first, as ``tests/test_sweep.py`` does with two local processes).

**Non-finite outputs** are never silent: :func:`run` counts NaN and inf per output column, stores the
counts in ``Results.info["nonfinite"]`` and issues a :class:`NonFiniteWarning` naming the columns.


The package: :mod:`~hwjax.sweep.spaces` (spaces and their grammar), :mod:`~hwjax.sweep.results`
(named columns, Pareto fronts), :mod:`~hwjax.sweep.runner` (running, saving, resuming, loading)
and :mod:`~hwjax.sweep.plot` (:func:`plot_front`, a Pareto plot; matplotlib only when called).
"""

from hwjax.sweep.plot import plot_front
from hwjax.sweep.results import Results, pareto_mask
from hwjax.sweep.runner import NonFiniteWarning, load, run
from hwjax.sweep.spaces import DEFAULT_SAMPLES, Space, grid, halton, parse_space, uniform

__all__ = [
    "DEFAULT_SAMPLES",
    "NonFiniteWarning",
    "Results",
    "Space",
    "grid",
    "halton",
    "load",
    "pareto_mask",
    "parse_space",
    "plot_front",
    "run",
    "uniform",
]
