"""ISAAC-CE (Shafiee et al., ISCA 2016) built from hwjax components.

ISAAC is a memristive CNN accelerator: 168 tiles of 12 *in-situ multiply-accumulate* units
(IMAs), each IMA holding eight 128x128 crossbars of 2-bit cells whose 16-bit inputs are streamed
one bit per 100 ns crossbar cycle and whose columns are digitized by eight shared 8-bit ADCs.
This module follows the issue-4 accelerator interface (``Config``, ``core``, ``tile``, ``chip``,
``peak``, ``inference``). ISAAC's IMA is the interface's ``"core"`` level: wherever this module
says *core*, ISAAC says IMA.

**Components** (figures.md section 2, Table I; every number comes from ``hwjax.components``):

============================  ==============================================================
Table I row                   hwjax component
============================  ==============================================================
IMA ADC, 8 x (8 b, 1.2 GS/s)  ``adc.ADC`` (survey calibration: Kull's 8-bit SAR, 1.67 pJ,
                              0.0012 mm²), at the rate the IMA needs: ``arrays x cols`` columns
                              per crossbar cycle over ``adcs_per_core`` ADCs (1.28 GS/s, the
                              rate ISAAC's text quotes; Table I prints 1.2)
IMA DAC, 1024 x 1 bit         ``dac.DAC`` (``"isaac"`` calibration), one per row, held a cycle
IMA S+H, 1024                 ``digital.SampleHold``, one per column
IMA memristor array, 8        ``crossbar.Crossbar`` with the ``"isaac"`` device (Accelergy's
                              ISAAC cell; uniformly random input bits and weights)
IMA S+A, 4                    ``digital.ShiftAdd``
IMA IR 2 KB, OR 256 B         ``memory.Memory`` SRAM, one 16-bit word per clock
tile eDRAM 64 KB, 2 banks     ``memory.Memory`` eDRAM, 256-bit access per clock
tile eDRAM-to-IMA bus         wires: ``memory.route_energy`` (see *Bus* below)
tile router (1/4 of one)      ``noc`` router, 8 ports x 32-bit flits at 1 GHz, full load
tile sigmoid 2, S+A 1         ``digital.Activation``, ``digital.ShiftAdd``
tile max-pool                 ``max_pool_width`` 16-bit comparators (``digital.ArithmeticUnit``
                              adders, Horowitz): a 3x3 window needs 8 comparisons
tile OR 3 KB                  ``memory.Memory`` SRAM (12 IMA outputs of 256 B)
chip HyperTransport, 4 links  ``noc.ChipLink`` (10.4 W static, 22.88 mm²)
============================  ==============================================================

**Full activity** (``chip``): every unit busy every clock cycle of the 1.2 GHz tile clock (the
PUMA simulator's peak-power convention, dissertation Table 3.5): one conversion per ADC period,
DACs and arrays for the whole crossbar cycle, one access per clock for each memory, every router
port moving a flit each router cycle. Table I's rows of S+H, S+A and sigmoid are the PUMA
simulator's per-1-ns figures (figures.md 1.6), so at 1.2 GHz they come out 20% above Table I.

**Bus.** No hwjax component models the 384-wire eDRAM-to-IMA bus, so it is modelled here as
wires: each transfer drives ``bus_wires`` wires over the mean distance from the eDRAM at the tile
centre to an IMA, taken as half the side of the square holding the IMAs and the eDRAM
(``memory.route_energy``: 0.2 fF/um, activity 1/2), one transfer per clock at full activity. The
bus area is ``wires x pitch x length`` with the pitch fixed so that ISAAC's own geometry (Table I:
IMAs 0.157 mm², eDRAM 0.083 mm²) gives Table I's 0.090 mm² (a 0.96 um pitch, global-layer
wiring; scaled with the feature size).

**Peak** (``peak``): every array of every IMA runs one MVM per ``ceil(input_bits / dac_bits)``
crossbar cycles; an IMA's ``arrays_per_core`` arrays hold ``arrays x rows x cols / slices``
16-bit weights (``slices = ceil(weight_bits / bits_per_cell)`` = 8). ISAAC-CE:
``168 x 12 x 8 x 128 x 128 / 8 = 33.0 M`` MACs per 1.6 us, i.e. ``2 x 33.0 M / 1.6 us =
41.3 TOPS``. ISAAC's own Table IV (figures.md 2.4) agrees: 478.95 GOPS/s/mm² x 85.4 mm² =
40.9 TOPS and 627.5 GOPS/W x 65.8 W = 41.3 TOPS. The PUMA dissertation's Table 3.8 ISAAC column
gives 69.53 TOPS (0.82 TOPS/s/mm² x 85.4 mm² = 70.0; 1.06 TOPS/s/W x 65.8 W = 69.7), 1.68x this
count, for the same chip area and power: it implies one MVM per 950 ns instead of 1.6 us. The
dissertation does not show its arithmetic, and neither the 1.28 GS/s ADC rate (x1.07) nor any
count of arrays, slices or cycles that hwjax tried gives 1.68, so hwjax keeps ISAAC's own count,
which its Table IV confirms.

**Calibration** (default Config, ``tests/models/test_isaac.py``): tile 332 mW and 0.404 mm²
(Table I: 330 mW, 0.372 mm²); chip 66.2 W and 90.7 mm² (65.8 W, 85.4 mm²); peak 624 GOPS/W and
455 GOPS/s/mm² (Table IV: 627.5, 478.95). Per IMA, the ADCs (17.5 mW at 1.28 GS/s against 16 mW
at 1.2) and DACs (3.99 mW, 4) land within 10%; the arrays draw 1.35 mW for Table I's 2.4 (the
ISAAC cell with random inputs), the 2 KB input register 0.97 mW and 0.0039 mm² for 1.24 mW and
0.0021 mm², and the tile's eDRAM 15.1 mW and 0.096 mm² for 20.7 mW and 0.083 mm² (two banks
halve the bank each access activates); the bus model gives 9.7 mW for 7.

**Inference** (``inference``, batch 1). Each matrix is mapped with :mod:`hwjax.mapping` onto
``array_dim``-square arrays with ``slices`` physical arrays per logical array. No input shuffling
by default (``input_shuffling=False``): ISAAC re-reads each sliding window from its eDRAM
buffer; input shuffling is PUMA's addition (dissertation 3.3.2). Per layer:

* ``"mvm"``: per logical-array MVM, ``slices`` arrays for ``input_cycles`` crossbar cycles, their
  ``slices x rows`` DACs, ``slices x cols x input_cycles`` samples, ADC conversions and
  shift-and-adds (one per conversion), charged whole whatever the utilization (the ADCs convert
  every column). Non-stationary matrices (both operands activations) are first written into the
  arrays (``crossbar.write`` of every physical array, once per inference).
* ``"vfu"``: ISAAC has no vector unit; sigmoid, tanh and softmax run on the tile's sigmoid units,
  max, relu, add and copy on its 16-bit comparators/adders (the max-pool unit), mul on a 16-bit
  multiplier (Horowitz).
* ``"data_movement"``: input-register writes (``input_loads``) and reads (one read of each row's
  bits per cycle, shared by the slices), output-register writes and reads (``cols`` words per
  MVM), eDRAM reads of the inputs and writes of the outputs, the bus carrying inputs in and
  outputs out, partial sums reduced by the tile's shift-and-add with the share of them whose row
  blocks lie beyond one tile sent over the mesh, and the layer's outputs sent over the mesh to
  the next layer's tile.
* ``"leakage"``: the area and leakage of the tiles the layer occupies
  (:func:`hwjax.mapping.place`); its energy and latency are 0. In the serial total, leakage adds
  over layers and multiplies the whole inference latency: in a pipeline every occupied tile is
  powered for the whole inference.

**Latency** (ISAAC's inter-layer pipeline). A layer processes ``V`` vectors; each vector passes
the crossbar stage (``input_cycles`` crossbar cycles per matrix of the layer, matrices in
sequence) and the tile's digital stage (the layer's vector work over ``V``). The layer's first
output appears after ``first = writes + t_mvm + t_vfu`` and its last after
``duration = first + (V - 1) max(t_mvm, t_vfu)``.
With ``pipelined=True`` (ISAAC) a layer starts as soon as its predecessor's first output exists,
so the inference takes ``sum(first) + max(duration - first)``: the fill of every stage plus the
drain of the bottleneck layer (optimistic for convolutions, whose successors need ``k`` rows
before starting). ISAAC's replication of early layers' weights, which balances the pipeline, is
not modelled: a network whose first convolutions stream many vectors (VGG16 at 224 x 224: 50,176
in the first layer) drains slowly, and the occupied tiles' leakage over that time dominates its
energy. The ``"mvm"`` entry of each layer carries its ``first`` plus its share of the bottleneck
term (all of it for the bottleneck layer), so the serial total is exactly the pipelined latency;
the other entries' latencies are 0 (overlapped).
With ``pipelined=False`` every layer takes its ``duration``, one after another.

Every public function works under ``jit`` (the network is static structure), ``vmap`` over any
``Config`` leaf and ``grad``; counts go through :mod:`hwjax.relax` with ``mode``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import Knob, relax, system, validate
from hwjax import units as u
from hwjax._pytree import pytree_dataclass, static_field
from hwjax.components import adc, crossbar, dac, digital, memory, noc
from hwjax.cost import Cost, Report, replicate, total, unchecked
from hwjax.devices import device as device_preset
from hwjax.mapping import ArrayTarget, input_cycles, weight_slices
from hwjax.tech import DEFAULT_TECH, Tech, check_tech

#: Largest bits per cell accepted (ISAAC's cell stores 2; above that is a what-if, see Config).
MAX_CELL_BITS = 4.0
#: Operations per MAC (multiply and add counted separately, dissertation Table 3.8).
OPS_PER_MAC = 2.0

# figures.md 2.1/2.2 (Table I): the geometry the bus pitch is calibrated on.
_ISAAC_IMAS_AREA = 0.157 * u.mm2  # 12 IMAs
_ISAAC_EDRAM_AREA = 0.083 * u.mm2
_ISAAC_BUS_AREA = 0.090 * u.mm2
_ISAAC_BUS_WIRES = 384.0
_ISAAC_BUS_LENGTH = 0.5 * math.sqrt(_ISAAC_IMAS_AREA + _ISAAC_EDRAM_AREA)  # m
#: Wire pitch of the bus in units of the feature size F (0.96 um at 32 nm).
BUS_PITCH_F = _ISAAC_BUS_AREA / (_ISAAC_BUS_WIRES * _ISAAC_BUS_LENGTH) / (32 * u.nm)
#: A nominal tile area for the mesh's link lengths where the tile area is not at hand (Table I).
_ISAAC_TILE_AREA = 0.372 * u.mm2

# Valid ranges of the Config knobs (low, high).
_RANGES = {
    "array_dim": (16.0, 1024.0),
    "arrays_per_core": (1.0, 64.0),
    "cores_per_tile": (1.0, 64.0),
    "tiles": (1.0, 4096.0),
    "bits_per_cell": (1.0, MAX_CELL_BITS),
    "weight_bits": (1.0, 32.0),
    "input_bits": (1.0, 32.0),
    "dac_bits": (1.0, 8.0),
    "adc_bits": (1.0, 16.0),
    "adcs_per_core": (1.0, 1024.0),
    "shift_adds_per_core": (1.0, 64.0),
    "crossbar_cycle": (10 * u.ns, 10 * u.us),
    "clock_hz": (1e8, 5e9),
    "edram_bytes": (1024.0, 2.0**30),
    "edram_banks": (1.0, 64.0),
    "edram_width_bits": (16.0, 2048.0),
    "bus_wires": (16.0, 4096.0),
    "router_ports": (2.0, 16.0),
    "flit_bits": (8.0, 256.0),
    "tiles_per_router": (1.0, 64.0),
    "router_clock_hz": (1e8, 5e9),
    "sigmoid_units": (1.0, 64.0),
    "max_pool_width": (1.0, 64.0),
    "ht_links": (1.0, 64.0),
}
_ADC_RATE_MAX = adc.SAMPLE_RATE_RANGE[1]


@pytree_dataclass
class Config:
    """An ISAAC-style chip (a pytree; defaults are ISAAC-CE, figures.md 2, Table I).

    Attributes:
        array_dim: crossbar rows = columns (128), in [16, 1024].
        arrays_per_core: crossbars per IMA (8), in [1, 64].
        cores_per_tile: IMAs per tile (12), in [1, 64].
        tiles: tiles per chip (168), in [1, 4096].
        bits_per_cell: bits per memristor (2), in [1, 4]. ISAAC's cell stores 2 bits; above 2 the
            mapping uses fewer slices while the array's power (independent of the level count)
            and write cost stay those of the 2-bit cell (a what-if).
        weight_bits, input_bits: precisions (16, 16), in [1, 32].
        dac_bits: input bits per crossbar cycle (1), in [1, min(8, input_bits)].
        adc_bits: ADC resolution (8), in [1, 16].
        adcs_per_core: ADCs per IMA (8), in [1, 1024]; their rate follows (see module doc) and
            must stay at most 1e11 conversions/s.
        shift_adds_per_core: S+A units per IMA (4), in [1, 64].
        crossbar_cycle: crossbar read cycle, s (100 ns), in [10 ns, 10 us].
        clock_hz: tile clock, Hz (1.2 GHz), in [1e8, 5e9].
        edram_bytes, edram_banks, edram_width_bits: tile buffer (64 KB, 2 banks, 256-bit).
        bus_wires: eDRAM-to-IMA bus width (384), in [16, 4096].
        router_ports, flit_bits, tiles_per_router, router_clock_hz: mesh (8 ports, 32-bit flits,
            shared by 4 tiles, 1 GHz: ISAAC's inter-tile links are 32 bits at 1 GHz).
        sigmoid_units, max_pool_width: tile digital units (2 sigmoids, 8 comparators).
        ht_links: HyperTransport links (4).
        tech: CMOS technology (32 nm, 0.9 V; ``vdd`` is a knob).
        device: crossbar device preset (static, ``"isaac"``).
        input_shuffling: static; reuse sliding-window inputs (PUMA's optimization; ISAAC: False).
        pipelined: static; ISAAC's inter-layer pipeline (True) or layers one after another.

    Concrete bad values raise ``ValueError`` naming the field and range; traced values are
    clamped into range.
    """

    array_dim: Knob = 128.0
    arrays_per_core: Knob = 8.0
    cores_per_tile: Knob = 12.0
    tiles: Knob = 168.0
    bits_per_cell: Knob = 2.0
    weight_bits: Knob = 16.0
    input_bits: Knob = 16.0
    dac_bits: Knob = 1.0
    adc_bits: Knob = 8.0
    adcs_per_core: Knob = 8.0
    shift_adds_per_core: Knob = 4.0
    crossbar_cycle: Knob = 100 * u.ns
    clock_hz: Knob = 1.2 * u.GHz
    edram_bytes: Knob = 65536.0
    edram_banks: Knob = 2.0
    edram_width_bits: Knob = 256.0
    bus_wires: Knob = 384.0
    router_ports: Knob = 8.0
    flit_bits: Knob = 32.0
    tiles_per_router: Knob = 4.0
    router_clock_hz: Knob = 1.0 * u.GHz
    sigmoid_units: Knob = 2.0
    max_pool_width: Knob = 8.0
    ht_links: Knob = 4.0
    tech: Tech = DEFAULT_TECH  # figures.md 2: 32 nm; the PUMA/ISAAC constants' vdd 0.9 V
    device: str = static_field("isaac")
    input_shuffling: bool = static_field(False)
    pipelined: bool = static_field(True)

    def __post_init__(self):
        device_preset(self.device)  # raises for an unknown preset name
        validate.check_choice("input_shuffling", self.input_shuffling, (True, False))
        validate.check_choice("pipelined", self.pipelined, (True, False))
        check_tech(self.tech)
        validate.check_fields(self, _RANGES)
        # mapping.ArrayTarget checks dac_bits <= input_bits (raises concrete, clamps traced).
        object.__setattr__(self, "dac_bits", _array_target(self).dac_bits)
        self._check_adc_rate()

    def _check_adc_rate(self) -> None:
        fields = (self.arrays_per_core, self.array_dim, self.adcs_per_core, self.crossbar_cycle)
        if validate.is_traced(fields):
            return
        rate = float(np.max(np.asarray(_adc_rate(self))))
        if rate > _ADC_RATE_MAX:
            raise ValueError(
                f"adcs_per_core={self.adcs_per_core!r} is too few: arrays_per_core x array_dim / "
                f"(adcs_per_core x crossbar_cycle) = {rate:g} conversions/s per ADC is outside the "
                f"allowed range [1e3, {_ADC_RATE_MAX:g}]"
            )


def _array_target(c: Config) -> ArrayTarget:
    """One IMA's arrays as a mapping target: bit slicing over ``array_dim`` squares, streaming."""
    return ArrayTarget(c.array_dim, c.array_dim, c.bits_per_cell, c.weight_bits, c.input_bits, c.dac_bits)


# Costs built here are non-negative by construction (sums and products of component costs and
# counts), so they use hwjax.cost.unchecked, which keeps the traced graph and compile time small.


# ---------------------------------------------------------------------------------------------
# Components of one configuration, built once per call.


def _adc_rate(c: Config):
    """Conversions per second each ADC makes: every column once per crossbar cycle, Hz."""
    return c.arrays_per_core * c.array_dim / (c.adcs_per_core * c.crossbar_cycle)


def _register_bytes(words, c: Config):
    """Bytes of ``words`` ``input_bits``-bit words, at least the memory model's 16 B."""
    return jnp.maximum(words * c.input_bits / 8.0, 16.0)


def _word_memory(words, c: Config) -> memory.Memory:
    """An SRAM register of ``words`` words, one word per access."""
    return memory.Memory(_register_bytes(words, c), c.input_bits, tech=c.tech)


def _noc(c: Config, tile_area=_ISAAC_TILE_AREA) -> noc.NoC:
    """The chip's concentrated mesh (tiles at least one router's worth), no background load."""
    return noc.NoC(
        tiles=jnp.maximum(c.tiles, c.tiles_per_router),
        concentration=c.tiles_per_router,
        ports=c.router_ports,
        flit_bits=c.flit_bits,
        injection_rate=0.0,
        clock=c.router_clock_hz,
        tile_area=tile_area,
        tech=c.tech,
    )


@dataclasses.dataclass(frozen=True)
class _Units:
    """One configuration's components and unit costs (energies J, areas m², leakages W).

    Lane units (S+H, S+A, sigmoid) and the 16-bit comparator are single instances; callers
    replicate them.
    """

    c: Config
    mode: str
    period: Any  # tile clock, s
    target: ArrayTarget
    slices: Any
    cycles: Any  # crossbar cycles per MVM
    cycle_time: Any  # one crossbar cycle, or the ADCs' conversions of its columns if longer, s
    xbar: crossbar.Crossbar
    adc: Cost  # one conversion at the IMA's rate
    dac_held: Cost  # one DAC holding its row for one crossbar cycle
    sample_hold: Cost
    shift_add: Cost
    activation: Cost
    add: Cost
    multiply: Cost
    input_register: memory.Memory
    output_register: memory.Memory
    tile_output_register: memory.Memory
    edram: memory.Memory


def _units(c: Config, mode: str) -> _Units:
    relax.check_mode(mode)
    period = 1.0 / c.clock_hz
    target = _array_target(c)
    slices, cycles = weight_slices(target, mode), input_cycles(target, mode)
    dev = device_preset(c.device)
    # Cell bits above the device's only change the mapping (see Config.bits_per_cell).
    cell_bits = jnp.minimum(c.bits_per_cell, float(np.min(np.asarray(dev.bits_per_cell))))
    xbar = crossbar.Crossbar(
        c.array_dim, c.array_dim, cell_bits, dev, cycle_time=c.crossbar_cycle, tech=c.tech
    )
    row_dac = dac.DAC(bits=c.dac_bits, tech=c.tech)
    comparator = digital.ArithmeticUnit(bits=c.input_bits, tech=c.tech, cycle=period)
    core_outputs = c.arrays_per_core * c.array_dim / slices  # 16-bit outputs per IMA MVM (128)

    def lane(kind, action):
        return action(kind(width=1.0, tech=c.tech, cycle=period), 1.0, mode)

    # The ADCs are sized to convert a cycle's columns in one crossbar cycle at 8 bits; a SAR
    # takes a step per bit, so at more bits conversion bounds the cycle.
    conversions = adc.sar_time(c.adc_bits, c.crossbar_cycle)
    return _Units(
        c=c,
        mode=mode,
        period=period,
        target=target,
        slices=slices,
        cycles=cycles,
        cycle_time=relax.maximum(c.crossbar_cycle, conversions, mode=mode),
        xbar=xbar,
        adc=adc.conversion(adc.ADC(c.adc_bits, _adc_rate(c), c.tech)),
        dac_held=dac.held(row_dac, c.crossbar_cycle),
        sample_hold=lane(digital.SampleHold, digital.sample_hold),
        shift_add=lane(digital.ShiftAdd, digital.shift_add),
        activation=lane(digital.Activation, digital.activation),
        add=digital.add(comparator),
        multiply=digital.multiply(comparator),
        input_register=_word_memory(c.arrays_per_core * c.array_dim, c),  # an input per row (2 KB)
        output_register=_word_memory(core_outputs, c),  # 256 B
        tile_output_register=_word_memory(c.cores_per_tile * core_outputs, c),  # 3 KB
        edram=memory.Memory(
            c.edram_bytes, c.edram_width_bits, banks=c.edram_banks, kind="edram", tech=c.tech
        ),
    )


# ---------------------------------------------------------------------------------------------
# chip(): one clock cycle at full activity.


def _lanes(unit: Cost, n, h: _Units) -> Cost:
    """``n`` copies of a one-op-per-clock unit, all busy for one clock."""
    return unchecked(n * unit.energy, h.period, n * unit.area, n * unit.leakage)


def _continuous(cost: Cost, n, h: _Units) -> Cost:
    """``n`` copies of a unit whose ``cost`` lasts ``cost.latency``, running for one clock."""
    share = h.period / cost.latency
    return unchecked(n * cost.energy * share, h.period, n * cost.area, n * cost.leakage)


def _core(h: _Units) -> Report:
    c = h.c
    columns = c.arrays_per_core * c.array_dim  # = rows: one DAC per row, one S+H per column
    stream = crossbar.mvm(h.xbar, c.dac_bits, c.dac_bits, mode=h.mode)  # one crossbar cycle
    items = {
        "adc": _continuous(h.adc, c.adcs_per_core, h),
        "dac": _continuous(h.dac_held, columns, h),
        "sample_hold": _lanes(h.sample_hold, columns, h),
        "crossbar": _continuous(stream, c.arrays_per_core, h),
        "shift_add": _lanes(h.shift_add, c.shift_adds_per_core, h),
        "input_register": memory.busy_cycle(h.input_register, h.period),
        "output_register": memory.busy_cycle(h.output_register, h.period),
    }
    return Report(items, "parallel")


def core(config: Config, mode: str = "ste") -> Report:
    """One IMA (ISAAC's core) for one tile clock cycle at full activity, un-replicated.

    Returns:
        Report (parallel) of Costs: ``adc``, ``dac``, ``sample_hold``, ``crossbar``,
        ``shift_add``, ``input_register``, ``output_register``; each energy J per cycle, latency
        one cycle s, area m², leakage W.
    """
    return _core(_units(config, mode))


def _bus_transfer(h: _Units, imas_area) -> Cost:
    """One ``bus_wires``-bit transfer over the bus: wire energy, one clock, wire area.

    The wires run the mean eDRAM-to-IMA distance, half the side of the square holding the IMAs
    (``imas_area``, m²) and the eDRAM.
    """
    c = h.c
    length = 0.5 * jnp.sqrt(imas_area + memory.area(h.edram))
    energy = memory.route_energy(c.bus_wires, length, c.tech)
    area = c.bus_wires * BUS_PITCH_F * c.tech.node_nm * u.nm * length
    return unchecked(energy, h.period, area)


def _router_share(h: _Units) -> Cost:
    """A tile's share (1 / tiles_per_router) of a router at full load, per tile clock."""
    c = h.c
    network = _noc(c)
    dynamic = c.router_ports * noc.router_energy(network) * c.router_clock_hz  # W
    share = 1.0 / c.tiles_per_router
    area, leakage = noc.router_area(network), noc.router_leakage(network)
    return unchecked(dynamic * h.period * share, h.period, area * share, leakage * share)


def _tile(h: _Units, core_report: Report) -> Report:
    c = h.c
    cores = replicate(core_report, c.cores_per_tile)
    items = {
        "core": cores,
        "edram_buffer": memory.busy_cycle(h.edram, h.period),
        "edram_bus": _bus_transfer(h, total(cores).area),
        "router": _router_share(h),
        "sigmoid": _lanes(h.activation, c.sigmoid_units, h),
        "shift_add": _lanes(h.shift_add, 1.0, h),
        "max_pool": _lanes(h.add, c.max_pool_width, h),
        "output_register": memory.busy_cycle(h.tile_output_register, h.period),
    }
    return Report(items, "parallel")


def tile(config: Config, mode: str = "ste") -> Report:
    """One tile for one clock cycle at full activity, un-replicated (its IMAs included).

    Returns:
        Report (parallel): ``core`` (the IMA Report x ``cores_per_tile``), ``edram_buffer``,
        ``edram_bus``, ``router`` (this tile's share), ``sigmoid``, ``shift_add``, ``max_pool``,
        ``output_register``.
    """
    h = _units(config, mode)
    return _tile(h, _core(h))


def _hypertransport(h: _Units) -> Cost:
    """The chip links moving data at their full rate for one tile clock."""
    link = noc.ChipLink(links=h.c.ht_links, tech=h.c.tech)
    moved = noc.chip_link_transfer(link, link.links * link.bandwidth * h.period, h.mode)
    return unchecked(moved.energy, h.period, moved.area, moved.leakage)


def _chip(h: _Units) -> Report:
    node = {"tile": replicate(_tile(h, _core(h)), h.c.tiles), "hypertransport": _hypertransport(h)}
    return Report({"node": Report(node, "parallel")}, "parallel")


def chip(config: Config, mode: str = "ste") -> Report:
    """The chip for one tile clock cycle at full activity (``total(chip(c)).power`` = chip W).

    Returns:
        ``Report({"node": Report({"tile": <tile x tiles>, "hypertransport": Cost}, "parallel")},
        "parallel")``: every Cost is one clock cycle (energy J, latency s, area m², leakage W).
        ISAAC's router is per tile (Table I), so the node has no separate on-chip network entry;
        its off-chip network is ``"hypertransport"``.
    """
    return _chip(_units(config, mode))


def peak(config: Config, mode: str = "ste") -> Cost:
    """Every array of the chip running MVMs back to back, over one MVM time.

    Returns:
        Cost: ``ops`` = 2 x (tiles x IMAs x arrays x rows x cols / slices) MACs, ``latency`` one
        MVM (1.6 us), ``energy`` the chip's full-activity dynamic energy over it (J), chip
        ``area`` (m²) and ``leakage`` (W). ``hwjax.tops_per_watt`` / ``tops_per_mm2`` of it are
        the peak efficiencies (ISAAC Table IV: 627.5 GOPS/W, 478.95 GOPS/s/mm²).
    """
    c = config
    h = _units(c, mode)
    per_clock = total(_chip(h))
    mvm_time = h.cycles * h.cycle_time
    macs = c.tiles * c.cores_per_tile * c.arrays_per_core * c.array_dim**2 / h.slices
    energy = per_clock.energy * mvm_time / h.period
    return unchecked(energy, mvm_time, per_clock.area, per_clock.leakage, OPS_PER_MAC * macs)


# ---------------------------------------------------------------------------------------------
# inference(): energy and latency of one batch-1 inference.


@dataclasses.dataclass(frozen=True)
class _Parts:
    """Per-configuration unit energies shared by every layer (J), and one tile's Cost."""

    mvm: Any  # one logical-array MVM (arrays, DACs, S+H, ADCs, S+A)
    write: Cost  # writing every cell of one physical array
    tile: Cost  # one tile at full activity (its area and leakage are used)
    register_access: Any  # one word of an IMA input register
    output_access: Any  # one word of an IMA output register
    edram_access: Any  # one edram_width_bits access
    bus_per_bit: Any
    flit: Any  # one flit across the mesh (average hops)


def _mvm_energy(h: _Units):
    """Dynamic energy of one logical-array MVM, J: ``slices`` arrays and their DACs for
    ``cycles`` crossbar cycles, and a sample, a conversion and a shift-and-add per column and
    cycle."""
    c = h.c
    arrays = crossbar.mvm(h.xbar, c.input_bits, c.dac_bits, mode=h.mode).energy
    dacs = c.array_dim * h.cycles * h.dac_held.energy
    conversions = h.slices * c.array_dim * h.cycles
    per_conversion = h.adc.energy + h.sample_hold.energy + h.shift_add.energy
    return h.slices * (arrays + dacs) + conversions * per_conversion


def _parts(h: _Units) -> _Parts:
    tile_report = _tile(h, _core(h))
    one_tile = total(tile_report)
    network = _noc(h.c, one_tile.area)
    return _Parts(
        mvm=_mvm_energy(h),
        write=crossbar.write(h.xbar, mode=h.mode),
        tile=one_tile,
        register_access=memory.read_energy(h.input_register),
        output_access=memory.read_energy(h.output_register),
        edram_access=memory.read_energy(h.edram),
        bus_per_bit=tile_report["edram_bus"].energy / h.c.bus_wires,
        flit=noc.average_hops(network, h.mode) * noc.flit_hop(network).energy,
    )


def _vector_cost(h: _Units, op) -> Cost:
    """One VectorOp on the tile's digital units (energy J, latency s; ops not counted)."""
    c = h.c
    if op.kind in ("sigmoid", "tanh", "softmax"):
        unit, lanes = h.activation, c.sigmoid_units
    else:
        unit, lanes = (h.multiply if op.kind == "mul" else h.add), c.max_pool_width
    steps = relax.ceil(op.elements / lanes, mode=h.mode)
    return unchecked(op.elements * unit.energy, steps * h.period)


def _remote_share(h: _Units, m):
    """Share of a matrix's partial sums whose row blocks lie beyond one tile's logical arrays."""
    per_tile = h.c.cores_per_tile * h.c.arrays_per_core / h.slices
    blocks = jnp.where(m.row_blocks > 0, m.row_blocks, 1.0)
    # A plain maximum: exactly 0 while a matrix fits one tile (a smooth maximum would leave a
    # residue of order 1e-13 there whose rounding differs between jit and eager).
    return jnp.maximum(m.row_blocks - per_tile, 0.0) / blocks


def _accesses(bits, width, h: _Units):
    return relax.ceil(bits / width, mode=h.mode)


def _matrix_traffic(h: _Units, p: _Parts, m) -> dict[str, Any]:
    """Data-movement energies (J) of mapped matrices (grids), by unit (reads and writes alike)."""
    c = h.c
    bits = c.input_bits
    loaded = m.input_loads * bits  # into the input registers, from the eDRAM, over the bus
    applied = m.mvms * c.array_dim * bits  # read out of the input registers, cycle by cycle
    produced = m.mvms * c.array_dim * bits  # written to and read from the output registers
    stored = m.outputs * bits  # layer outputs written to the next layer's eDRAM
    reductions = m.partial_sums
    sent = reductions * bits * _remote_share(h, m) + stored
    registers = _accesses(loaded + applied, bits, h)
    edram = _accesses(loaded + stored, c.edram_width_bits, h)
    return {
        "input_register": registers * p.register_access,
        "output_register": 2.0 * _accesses(produced, bits, h) * p.output_access,
        "edram_buffer": edram * p.edram_access,
        "edram_bus": (loaded + produced) * p.bus_per_bit,
        "router": _accesses(sent, c.flit_bits, h) * p.flit,
        "shift_add": reductions * h.shift_add.energy,
    }


@functools.lru_cache(maxsize=64)
def _vector_units(table: system.LayerTable) -> dict[str, np.ndarray]:
    """Masks ``(L, P)`` of the vector ops each tile unit runs: sigmoid, tanh and softmax on the
    sigmoid units, mul on the multiplier, the rest (max, relu, add, copy) on the comparators."""
    kinds = table.vector_kinds
    activation = np.isin(kinds, ("sigmoid", "tanh", "softmax"))
    multiply = kinds == "mul"
    return {"activation": activation, "multiply": multiply, "add": (kinds != "") & ~activation & ~multiply}


def _vector_cost(h: _Units, table: system.LayerTable) -> tuple[Any, Any]:
    """(energy J, latency s) per layer ``(L, 1)`` of its vector ops on the tile's digital units."""
    c, units = h.c, _vector_units(table)
    elements = table.vector_elements
    energy = sum(units[name] * getattr(h, name).energy for name in units) * elements
    lanes = units["activation"] * c.sigmoid_units + ~units["activation"] * c.max_pool_width
    steps = relax.ceil(elements / lanes, mode=h.mode)
    return jnp.sum(energy, axis=1, keepdims=True), jnp.sum(steps, axis=1, keepdims=True) * h.period


def _layer_sum(table: system.LayerTable, grid):
    """Per-matrix ``grid`` ``(L, K)`` summed into its layers, ``(L, 1)``."""
    return jnp.sum(grid * table.op_mask, axis=1, keepdims=True)


#: Knobs :func:`inference` takes per layer (:class:`hwjax.system.LayerKnobs`).
LAYER_KNOBS = (*system.LAYER_KNOBS, "slice_bits")


@system.batched
def inference(config: Config, workload, mode: str = "ste", layers: system.LayerKnobs | None = None) -> Report:
    """Energy and latency of one batch-1 inference of ``workload`` (see the module docstring).

    Args:
        config: the chip; leaves of shape ``(n,)`` give a batch of ``n`` designs.
        workload: a :class:`hwjax.workloads.Network` (static structure).
        mode: :mod:`hwjax.relax` mode of every count.
        layers: per-layer knobs (:data:`LAYER_KNOBS`), arrays ``(L,)``; ``None`` for none.

    Returns:
        ``Report({layer name: Report({"mvm", "vfu", "data_movement": Report(...), "leakage"},
        "serial"), ..., "idle": Cost}, "serial")``: energies J (leakage included as energy),
        latencies s (the serial total is the pipelined latency), areas m² of the hardware each
        layer occupies and, in ``idle``, of the allocated tiles' empty slots; ops = 2 x MACs.
    """
    relax.check_mode(mode)
    table = system.layer_table(workload)
    knobs = system.check_layer_knobs(layers, table, LAYER_KNOBS)
    h = _units(system.layer_config(config, knobs, column=True), mode)
    p = _parts(h)
    c = h.c
    slices = None if knobs.slice_bits is None else system.column(system.slice_count(knobs.slice_bits))
    m = system.map_layers(table, h.target, c.input_shuffling, mode, knobs.occupancy, slices)
    replication = system.column(system.layer_values(knobs, "replication", 1.0))
    written = ~table.stationary  # both operands are activations: write them into the arrays first
    mvm_energy = _layer_sum(table, m.mvms * p.mvm + written * m.physical_arrays * p.write.energy)
    writes = _layer_sum(table, written * p.write.latency)
    traffic = {name: _layer_sum(table, energy) for name, energy in _matrix_traffic(h, p, m).items()}
    vfu_energy, vfu_latency = _vector_cost(h, table)
    vectors = table.layer_vectors[:, None]
    t_vfu = vfu_latency / vectors
    t_mvm = table.op_mask.sum(axis=1, keepdims=True) * h.cycles * h.cycle_time
    first = writes + t_mvm + t_vfu
    duration = first + (vectors - 1.0) * relax.maximum(t_mvm / replication, t_vfu, mode=mode)
    first, duration = first[:, 0], duration[:, 0]
    latency = system.pipeline(first, duration, mode) if config.pipelined else duration
    arrays = _layer_sum(table, m.physical_arrays) * replication
    placed = system.place(arrays[:, 0], c.arrays_per_core, c.cores_per_tile, c.tiles, mode)
    tile = jax.tree_util.tree_map(lambda x: x[..., 0] if jnp.ndim(x) else x, p.tile)
    leakage = placed.tiles * tile.leakage
    flat = lambda x: jnp.broadcast_to(x, (len(table), 1))[:, 0]  # noqa: E731
    items = {
        "mvm": unchecked(flat(mvm_energy), latency, 0.0, 0.0, OPS_PER_MAC * table.macs),
        "vfu": unchecked(flat(vfu_energy), 0.0),
        "data_movement": Report({k: unchecked(flat(e), 0.0) for k, e in traffic.items()}, "serial"),
        "leakage": unchecked(leakage * latency, 0.0, placed.tiles * tile.area),
    }
    idle_area, idle_leakage = system.idle_slots(placed, unchecked(0.0, 0.0), tile)
    waiting = system.idle_leakage(leakage, latency, idle_leakage, "exclusive")
    return system.layer_report(table, items, unchecked(waiting, 0.0, idle_area))
