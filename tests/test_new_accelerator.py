"""A new accelerator is one file: the example DESIGN.md points to, run as a test.

``TinyCIM`` is a memristive accelerator written only against the public API: it supplies its
unit costs (one MVM of one crossbar and its ADCs) and its hierarchy (arrays per core, cores per
tile); :mod:`hwjax.system` does the walk (layer table, per-layer knobs, occupancy, packing,
pipelining, the Report). The checks are that it gets the runtime's guarantees for free.
"""

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import pytest

import hwjax as hj
from hwjax import relax, system, validate
from hwjax import workloads as W
from hwjax.components import adc, crossbar
from hwjax.cost import unchecked

# --- the whole model ---------------------------------------------------------------------------


@hj.pytree_dataclass
class Config:
    """A tiny crossbar accelerator (every field a knob; defaults ISAAC-like)."""

    array_dim: Any = 128.0
    arrays_per_core: Any = 8.0
    cores_per_tile: Any = 4.0
    tiles: Any = 64.0
    bits_per_cell: Any = 2.0
    weight_bits: Any = 8.0
    input_bits: Any = 8.0
    adc_bits: Any = 8.0
    tech: hj.Tech = hj.DEFAULT_TECH

    def __post_init__(self):
        validate.check_fields(self, {"array_dim": (16.0, 1024.0), "adc_bits": (1.0, 16.0)})


def _units(c: Config, mode: str):
    """(mapping target, one logical-array MVM, one core's area and leakage): the unit costs."""
    target = hj.mapping.ArrayTarget(c.array_dim, c.array_dim, c.bits_per_cell, c.weight_bits, c.input_bits)
    slices, cycles = hj.mapping.weight_slices(target, mode), hj.mapping.input_cycles(target, mode)
    xbar = crossbar.Crossbar(c.array_dim, c.array_dim, 2.0, "isaac", tech=c.tech)
    converter = adc.conversion(adc.ADC(c.adc_bits, tech=c.tech))
    read = crossbar.mvm(xbar, c.input_bits, mode=mode)
    energy = slices * (read.energy + cycles * c.array_dim * converter.energy)
    latency = cycles * relax.maximum(read.latency / cycles, c.array_dim * converter.latency, mode=mode)
    n = c.arrays_per_core  # crossbars per core, one ADC each
    core = unchecked(0.0, 0.0, n * (read.area + converter.area), n * converter.leakage)
    return target, unchecked(energy, latency), core


@system.batched
def inference(config: Config, network, mode: str = "ste", layers=None) -> hj.Report:
    """One batch-1 inference: MVMs and leakage per layer, layers pipelined, idle slots last."""
    table = system.layer_table(network)
    knobs = system.check_layer_knobs(layers, table, ("adc_bits", "occupancy", "replication"))
    if knobs.adc_bits is not None:
        config = dataclasses.replace(config, adc_bits=knobs.adc_bits)  # unit costs per layer
    target, mvm, core = _units(config, mode)
    m = system.map_layers(table, target, False, mode, knobs.occupancy)
    arrays = table.to_layers(m.physical_arrays) * system.layer_values(knobs, "replication", 1.0)
    placed = system.place(arrays, config.arrays_per_core, config.cores_per_tile, config.tiles, mode)
    energy = table.to_layers(m.mvms) * mvm.energy
    latency = table.layer_vectors * mvm.latency / system.layer_values(knobs, "replication", 1.0)
    charged = system.pipeline(jnp.broadcast_to(mvm.latency, latency.shape), latency, mode)
    items = {
        "mvm": unchecked(energy, charged, ops=2.0 * table.macs),
        "leakage": unchecked(placed.cores * core.leakage * latency, 0.0, placed.cores * core.area),
    }
    idle_area, idle_leak = system.idle_slots(placed, core, unchecked(0.0, 0.0))
    idle = system.idle_leakage(placed.cores * core.leakage, latency, idle_leak, "gated")
    return system.layer_report(table, items, unchecked(idle, 0.0, idle_area))


# --- what it gets for free ---------------------------------------------------------------------

NET = W.Network("net", (W.Conv2d(3, 16, 3, (8, 8), name="conv"), W.Dense(1024, 10, name="fc")))


def test_its_report_adds_up_and_packs_layers():
    report = inference(Config(), NET)
    assert list(report) == ["conv", "fc", "idle"]
    whole, leaves = hj.total(report), report.flat().values()
    assert sum(float(leaf.total_energy) for leaf in leaves) == pytest.approx(
        float(whole.total_energy), rel=1e-6
    )
    assert sum(float(leaf.area) for leaf in leaves) == pytest.approx(float(whole.area), rel=1e-6)
    assert float(whole.ops) == 2 * NET.macs


def test_it_batches_differentiates_and_takes_per_layer_knobs():
    batch = hj.total(inference(Config(adc_bits=jnp.array([6.0, 8.0])), NET)).total_energy
    assert batch.shape == (2,) and float(batch[0]) < float(batch[1])
    grad = jax.grad(lambda bits: hj.total(inference(Config(adc_bits=bits), NET)).total_energy)(8.0)
    assert float(grad) > 0
    half = system.LayerKnobs(occupancy=jnp.array([1.0, 0.5]))
    pruned, dense = inference(Config(), NET, layers=half), inference(Config(), NET)
    assert float(pruned["fc", "mvm"].energy) == pytest.approx(
        0.5 * float(dense["fc", "mvm"].energy), rel=1e-6
    )
