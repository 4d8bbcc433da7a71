"""PUMA: the programmable memristive inference accelerator of the dissertation's chapter 3, built
only from hwjax components.

**Hierarchy** (dissertation 3.3-3.5, Table 3.5). A *node* holds ``tiles_per_node`` tiles on a
concentrated-mesh network plus a HyperTransport chip link; a *tile* holds ``cores_per_tile`` cores
around a shared eDRAM (tile data memory, memory bus, attribute memory, receive buffer, tile
instruction memory and control unit); a *core* holds ``mvmus_per_core`` MVMUs, a VFU of
``vfu_width`` lanes, an SFU, a ROM-embedded register file, an instruction memory and a 3-stage
control pipeline.

**MVMU** (3.3.2; ISAAC's organisation, 3.7.1). A 16-bit weight is bit-sliced over
``S = ceil(weight_bits / bits_per_cell)`` crossbars of ``dim x dim`` cells (8 at 2 bits per cell)
that share one input register (XbarIn), one DAC per row and one S+H per column; each crossbar
has one ADC (Table 3.5's 0.012 mm² holds 8 ADCs of 0.0012 mm²) and a shift-and-add unit that
merges its conversions, and results land in XbarOut. A ``b_in``-bit input streams ``dac_bits``
per stage over ``c = ceil(b_in / dac_bits)`` stages; in each stage an ADC converts its ``dim``
columns one per clock (the PUMA simulator's 1 ns conversion, figures.md 1.5 variant and
``hw_stats.py``'s ``pow_dyn x 1 ns``), so a stage lasts
``t_stage = max(crossbar cycle, dim t_conv)`` (100 ns vs 128 ns: 128 ns; a conversion takes
``adc_bits / 8`` clocks, one SAR step per bit, so resolution sets the speed) and the MVM
``(c + 2) t_stage``: the pipeline fills (DAC and crossbar) and drains (shift-and-add) one stage
each. PUMA: ``18 x 128 ns = 2304 ns`` (dissertation 3.8.4). Energy per MVM: the crossbars'
``S c`` array reads, ``dim`` DACs held for each stage, ``dim S c`` samples and shift-adds,
``c`` XbarIn reads and ``dim`` XbarOut writes, and the ADCs clocked through every cycle of the
MVM, fill and drain included (a SAR's comparator and logic run each clock; the dissertation
likewise charges the MVMU its Table 3.5 power for the whole MVM: 19.09 mW x 2304 ns = 43.97 nJ).

**Chip** (:func:`chip`): every Cost is one clock cycle at full activity, so ``.power`` is the
Table 3.5 peak power (dynamic + leakage): memories do one access per cycle (the simulator's
``pow_dyn`` + ``pow_leak``), digital units are busy every lane every cycle, the MVMU runs MVMs
back to back, the network moves a flit per port per cycle, the chip link burns its static
power. Components the library lacks are composed here from their published rows:

* tile memory bus: ISAAC Table I's 384-wire eDRAM-to-IMA bus (figures.md 2.1: 7 mW, 0.090 mm²;
  leakage share 1/7 as the simulator splits it, 0.5 of 3.5 mW, figures.md 1.8), scaled with
  ``cores_per_tile / 8`` as the PUMA tile sweep scales it (``puma_pe_sweep.py``);
* tile attribute memory: the simulator's counter buffer, an instruction-style memory of 2048
  entries (figures.md 1.7-1.8: (0.65 + 0.33) x sqrt(8) = 2.77 mW, 0.0116 mm²);
* register file of ``register_file_bytes``: a :class:`~hwjax.components.regfile.RomRegisterFile`
  of the same word count.

**Peak** (:func:`peak`, Table 3.8). hwjax counts the physical array throughput: every MVMU
completes one 16-bit MVM (``2 dim²`` ops) per MVM latency, so the PUMA node does
``2208 x 32,768 ops / 2304 ns = 31.4 TOPS``, i.e. 0.345 TOPS/mm² at 91.0 mm² and 0.508 TOPS/W
at 61.8 W. Table 3.8 lists 52.31 TOPS, 0.58 TOPS/s/mm² and 0.84 TOPS/s/W: 5/3 of these (52.31 /
31.4 = 1.666). The three published numbers agree with each other (577 GOPS/s/mm² x 90.638 mm²
= 52.30 TOPS = 837 GOPS/s/W x 62.5 W), so the factor sits in the throughput itself, and no
counting convention in the seeds reproduces it: pipelined stages (16 x 128 ns = 2048 ns) give
35.3 TOPS, ADC-bound conversion rate the same, and the ratio equals 2304 ns / 1382 ns with no
1382 ns MVM anywhere in the chapter (Table 3.10's 0.60x coalescing for MLP_L4 matches only by
coincidence). ISAAC shows the same kind of gap: Table 3.8's 69.53 TOPS is 1.68x what ISAAC's
own Table IV gives (478.95 GOPS/s/mm² x 85.4 mm² = 40.9 TOPS; 627.5 GOPS/W x 65.8 W = 41.3
TOPS), which its array count reproduces. The PUMA simulator's tile-sweep scripts
(``isca_results/puma_ce_sweep.py``) count the same ``dim²`` ops per MVM of 17 x 100 ns.

**Inference** (:func:`inference`): see its docstring for the per-layer accounting and the
pipelining rule.

**Digital MVMU** (:func:`digital_mvmu`, section 3.8.4): a ``dim x dim`` weight SRAM plus enough
16-bit MAC units to finish ``dim²`` MACs within the analog MVM's latency (8 for PUMA). It takes
5.5x the analog MVMU's area and 1.5x its energy; the dissertation reports 8.97x and 4.17x. The
gap is in the digital datapath: hwjax's MAC (Horowitz, 0.58 pJ at 32 nm) and CACTI-fitted
weight SRAM (2.8 pJ per 16-bit read, 5 mW leakage) cost 3.4 pJ per MAC, while the PUMA
simulator's RTL digital MVMU (figures.md 1.10) costs 5.1 pJ per MAC and leaks 40 mW; with that
leakage over the analog latency it gives (83.0 nJ + 40.24 mW x 2304 ns) / 42.8 nJ = 4.1x, the
published ratio.

Calibration (``tests/models/test_puma.py``, 10% unless stated; 32 nm, 1 GHz), ours / Table 3.5:

=========================  =======================  =========================
row                        power, mW                area, mm²
=========================  =======================  =========================
control pipeline           0.25 / 0.25              0.00326 / 0.0033
instruction memory         1.51 / 1.52              0.00308 / 0.0031
register file              0.519 / 0.477 (+8.7%)    0.00210 / 0.00192 (+9.2%)
MVMU                       18.6 / 19.09 (-2.7%)     0.0116 / 0.012 (-3.3%)
VFU (1 lane)               1.90 / 1.90              0.00403 / 0.004
SFU                        0.055 / 0.055            0.0006 / 0.0006
core                       41.4 / 42.37 (-2.3%)     0.0363 / 0.036
tile control unit          0.05 / 0.5 (gap)         0.00145 / 0.00145
tile instruction memory    1.99 / 1.91 (+3.9%)      0.00576 / 0.0054 (+6.6%)
tile data memory           17.4 / 17.66             0.0790 / 0.086 (-8.1%)
tile memory bus            7.0 / 7                  0.090 / 0.090
tile attribute memory      2.73 / 2.77              0.0110 / 0.012 (-8.2%)
tile receive buffer        8.23 / 9.14 (-9.9%)      0.00439 / 0.0044
tile                       368.5 / 373.8 (-1.4%)    0.482 / 0.479
on-chip network            579 / 570.63 (+1.4%)     1.645 / 1.622 (+1.4%)
off-chip network           10.4 W / 10.4 W          22.88 / 22.88
node                       61.8 W / 62.5 W (-1.1%)  91.0 / 90.638 (+0.4%)
=========================  =======================  =========================

One MVM (section 3.8.4): 16,384 MACs in 2304 ns (exact) for 42.8 nJ (43.97 nJ, -2.7%).

(The tile control unit follows the simulator's 0.25 mW x 0.2 activity, see
:mod:`hwjax.components.digital`; the sweep script's ``tcu_pow = 0.25*2`` looks like a typo of
``0.25*0.2``; it moves the tile by 0.1%.)
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax.numpy as jnp
import numpy as np

from hwjax import Knob, mapping, relax, system, validate
from hwjax import units as u
from hwjax._pytree import pytree_dataclass, static_field
from hwjax.components import adc, crossbar, dac, digital, memory, noc, regfile
from hwjax.cost import Cost, Report, replicate, total, unchecked
from hwjax.tech import DEFAULT_TECH, Tech, check_tech, scale_area, scale_energy, scale_power

#: Crossbar read cycle (figures.md 1.3 ``xbar_ip_lat`` = 100 ns; ISAAC's 100 ns, figures.md 2).
CROSSBAR_CYCLE = 100 * u.ns
#: Pipeline stages of an MVM beyond the input streams: DAC/crossbar fill and shift-add drain.
PIPELINE_EXTRA_STAGES = 2.0
#: Core instruction memory (Table 3.5: 4 KB = 512 eight-byte instructions, figures.md 1.1).
INSTRUCTION_ENTRIES = 512.0
#: Tile instruction memory (Table 3.5: 8 KB).
TILE_INSTRUCTION_ENTRIES = 1024.0
#: Tile attribute memory as the simulator's counter buffer (see the module docstring).
ATTRIBUTE_ENTRIES = 2048.0
#: Tile data memory: 64 KB eDRAM, 256-bit rows (Table 3.5; figures.md 1.1 edram_buswidth).
TILE_MEMORY_BYTES = 65536.0
TILE_MEMORY_WIDTH = 256.0
#: Receive buffer: 16 FIFOs x depth 2 x 256-bit entries = 1 KB, written and read at once (Table 3.5).
RECEIVE_BUFFER_BYTES = 16 * 2 * 256 / 8
# figures.md 2.1 (ISAAC Table I): eDRAM-to-IMA bus of 384 wires, 7 mW, 0.090 mm² at 32 nm.
_BUS_POWER = 7.0 * u.mW
_BUS_AREA = 0.090 * u.mm2
_BUS_LEAKAGE_SHARE = 0.5 / 3.5  # figures.md 1.8: the simulator's 3 mW dynamic + 0.5 mW leakage
_BUS_REFERENCE_CORES = 8.0  # puma_pe_sweep.py: bus power x num_core / 8
#: Instructions per input vector per core besides its MVMs: load, copy in, copy out, a VFU
#: operation (reduction or activation) and a store (dissertation 3.3.6, Fig. 3.4's mix).
_OTHER_INSTRUCTIONS = 5.0

_RANGES = {
    "mvmu_dim": (8.0, 1024.0),  # RomRegisterFile's xbar_size range
    "mvmus_per_core": (1.0, 64.0),
    "vfu_width": (1.0, 256.0),
    "cores_per_tile": (1.0, 256.0),
    "tiles_per_node": (4.0, 4096.0),  # at least one router's concentration (4)
    "adc_bits": (1.0, 16.0),
    "bits_per_cell": (1.0, 6.0),  # the PUMA device holds at most 6 bits (devices.PUMA)
    "weight_bits": (1.0, 64.0),
    "input_bits": (1.0, 64.0),
    "dac_bits": (1.0, 8.0),  # XbarIn reads dim x dac_bits <= 8192 bits per access
    "clock_hz": (1e7, 1e10),
}
#: register_file_bytes: a RomRegisterFile of xbar_size = bytes / 4 in [8, 1024] (one crossbar).
REGISTER_FILE_RANGE = (32.0, 4096.0)


@pytree_dataclass
class Config:
    """A PUMA node (a pytree). Defaults are Table 3.5's configuration.

    Attributes:
        mvmu_dim: crossbar rows = columns, in [8, 1024] (128).
        mvmus_per_core: MVMUs per core, in [1, 64] (2).
        vfu_width: VFU lanes per core, in [1, 256] (1; section 3.8.6's sweet spot is 4).
        cores_per_tile: cores per tile, in [1, 256] (8).
        tiles_per_node: tiles per node, in [4, 4096] (138).
        register_file_bytes: register file per core, bytes, in [32, 4096]; ``None`` takes
            section 3.3.4's ``2 x dim x MVMUs`` 16-bit words (1 KB).
        adc_bits: ADC resolution, bits, in [1, 16] (8).
        bits_per_cell: bits per memristor, in [1, 6] (2).
        weight_bits, input_bits: fixed-point precision, bits, in [1, 64] (16, 16).
        dac_bits: input bits applied per stage, in [1, 8] and at most ``input_bits`` (1).
        clock_hz: clock, Hz, in [1e7, 1e10] (1 GHz); ADCs convert one column per clock.
        tech: technology (32 nm, 0.9 V).
        input_shuffling, mvm_coalescing, pipelining: compiler/ISA optimizations (static;
            Table 3.10), see :func:`inference`.

    Every numeric field is a leaf: traced, batched and differentiated (counts go through
    :mod:`hwjax.relax`). Concrete bad values raise ``ValueError`` naming the field and range.
    """

    mvmu_dim: Knob = 128.0
    mvmus_per_core: Knob = 2.0
    vfu_width: Knob = 1.0
    cores_per_tile: Knob = 8.0
    tiles_per_node: Knob = 138.0
    register_file_bytes: Knob | None = None
    adc_bits: Knob = 8.0
    bits_per_cell: Knob = 2.0
    weight_bits: Knob = 16.0
    input_bits: Knob = 16.0
    dac_bits: Knob = 1.0
    clock_hz: Knob = 1e9
    tech: Tech = DEFAULT_TECH  # Table 3.5: 32 nm; figures.md 1: vdd 0.9 V
    input_shuffling: bool = static_field(True)
    mvm_coalescing: bool = static_field(True)
    pipelining: bool = static_field(True)

    def __post_init__(self):
        check_tech(self.tech)
        for name in ("input_shuffling", "mvm_coalescing", "pipelining"):
            validate.check_choice(name, getattr(self, name), (True, False))
        validate.check_fields(self, _RANGES)
        if self.register_file_bytes is not None:
            rf = validate.check_range("register_file_bytes", self.register_file_bytes, *REGISTER_FILE_RANGE)
            object.__setattr__(self, "register_file_bytes", rf)
        # mapping.ArrayTarget checks dac_bits <= input_bits (raises concrete, clamps traced).
        object.__setattr__(self, "dac_bits", array_target(self).dac_bits)


# ---------------------------------------------------------------------------------------------
# Components of one core


def array_target(config: Config) -> mapping.ArrayTarget:
    """The MVMU as a mapping target: ``dim x dim`` crossbars, bit slicing and input streaming."""
    return mapping.ArrayTarget(
        rows=config.mvmu_dim,
        cols=config.mvmu_dim,
        bits_per_cell=config.bits_per_cell,
        weight_bits=config.weight_bits,
        input_bits=config.input_bits,
        dac_bits=config.dac_bits,
    )


def _cycle(config: Config):
    """Clock period, s."""
    return 1.0 / config.clock_hz


def _crossbar(config: Config) -> crossbar.Crossbar:
    dim = config.mvmu_dim
    return crossbar.Crossbar(
        dim, dim, config.bits_per_cell, "puma", cycle_time=CROSSBAR_CYCLE, tech=config.tech
    )


def _adc(config: Config) -> adc.ADC:
    """One ADC per crossbar converting one column per clock (PUMA simulator constants)."""
    return adc.ADC(config.adc_bits, sample_rate=config.clock_hz, tech=config.tech, calibration="puma")


def _dac(config: Config) -> dac.DAC:
    return dac.DAC(config.dac_bits, sample_rate=config.clock_hz, tech=config.tech)


def _xbar_in(config: Config) -> memory.Memory:
    """XbarIn: ``dim`` input words, read ``dim x dac_bits`` bits per stage (figures.md 1.7)."""
    dim = config.mvmu_dim
    return memory.Memory(dim * config.input_bits / 8.0, dim * config.dac_bits, tech=config.tech)


def _xbar_out(config: Config) -> memory.Memory:
    """XbarOut: ``dim`` output words written one word per access (figures.md 1.7)."""
    return memory.Memory(config.mvmu_dim * config.input_bits / 8.0, config.input_bits, tech=config.tech)


def _register_file(config: Config) -> regfile.RomRegisterFile:
    """Section 3.3.4's register file, or one of ``register_file_bytes`` (same word count)."""
    if config.register_file_bytes is None:
        return regfile.RomRegisterFile(config.mvmu_dim, config.mvmus_per_core, tech=config.tech)
    # 2 x xbar_size x 1 crossbar words of 16 bits = register_file_bytes.
    return regfile.RomRegisterFile(config.register_file_bytes / 4.0, 1.0, tech=config.tech)


def _vfu(config: Config) -> digital.VFU:
    return digital.VFU(config.vfu_width, tech=config.tech, cycle=_cycle(config))


def _mvm_counts(config: Config, mode: str):
    """(weight slices = crossbars = ADCs per MVMU, input stages per MVM), relaxed counts."""
    target = array_target(config)
    return mapping.weight_slices(target, mode), mapping.input_cycles(target, mode)


def conversion_time(config: Config):
    """One ADC conversion, s: PUMA's 8-bit ADC converts one column per clock (the simulator's
    1 GS/s, figures.md 1.5) and resolves a bit per step (:func:`hwjax.components.adc.sar_time`),
    so ``adc_bits / 8`` clocks."""
    return adc.sar_time(config.adc_bits, _cycle(config))


def _timing(config: Config, mode: str):
    """(one crossbar read of ``dac_bits``, stage time, MVM latency) of one MVM."""
    _, stages = _mvm_counts(config, mode)
    read = crossbar.mvm(_crossbar(config), config.dac_bits, config.dac_bits, mode=mode)
    conversions = config.mvmu_dim * conversion_time(config)  # dim columns per ADC
    stage = relax.maximum(read.latency, conversions, mode=mode)
    return read, stage, (stages + PIPELINE_EXTRA_STAGES) * stage


def stage_time(config: Config, mode: str = "ste"):
    """One pipeline stage of an MVM, s: ``max(crossbar cycle, dim x conversion_time)`` (128 ns
    for PUMA).

    The maximum goes through :func:`hwjax.relax.maximum` with ``mode``.
    """
    return _timing(config, mode)[1]


def mvm_latency(config: Config, mode: str = "ste"):
    """Latency of one MVM on one MVMU, ``(input stages + 2) x stage``, s (2304 ns for PUMA)."""
    return _timing(config, mode)[2]


def _dynamic(cost: Cost, energy=None) -> Cost:
    """``cost`` with only its energy (or ``energy``), area and leakage: no latency, no ops."""
    return Cost(cost.energy if energy is None else energy, 0.0, cost.area, cost.leakage)


def _mvmu(config: Config, mode: str) -> tuple[Report, Any]:
    """(the MVM's energy by unit, its latency); see :func:`mvmu_parts`."""
    dim, cycle = config.mvmu_dim, _cycle(config)
    slices, stages = _mvm_counts(config, mode)
    read, stage, latency = _timing(config, mode)
    samples = dim * slices * stages  # every column of every slice, every stage
    rows = dac.drive_rows(_dac(config), dim, config.input_bits, hold_time=stage, mode=mode)
    converter = _adc(config)
    conversion = adc.conversion(converter)
    slots = latency * converter.sample_rate  # the ADC is clocked through the whole MVM
    snh = digital.sample_hold(digital.SampleHold(dim * slices, config.tech, cycle), samples, mode)
    sna = digital.shift_add(digital.ShiftAdd(slices, config.tech, cycle), samples, mode)
    xin = memory.access(_xbar_in(config), dim * config.dac_bits * stages, "read", mode)
    xout = memory.access(_xbar_out(config), dim * config.input_bits, "write", mode)
    parts = {
        "crossbars": Cost(slices * stages * read.energy, 0.0, slices * read.area),
        "dacs": _dynamic(rows),
        "sample_hold": _dynamic(snh),
        "adcs": _dynamic(replicate(conversion, slices), slices * slots * conversion.energy),
        "shift_add": _dynamic(sna),
        "xbar_in": _dynamic(xin),
        "xbar_out": _dynamic(xout),
    }
    return Report(parts, compose="parallel"), latency


def mvmu_parts(config: Config, mode: str = "ste") -> Report:
    """Energy of one MVM on one MVMU by unit, with each unit's area and leakage.

    Entries (latencies 0; :func:`mvmu_mvm` holds the MVM's latency): ``crossbars``, ``dacs``,
    ``sample_hold``, ``adcs``, ``shift_add``, ``xbar_in``, ``xbar_out``.
    """
    return _mvmu(config, mode)[0]


def mvmu_mvm(config: Config, mode: str = "ste") -> Cost:
    """One ``input_bits``-bit MVM on one MVMU (all its weight slices).

    Returns:
        Cost: dynamic ``energy`` (J), ``latency`` :func:`mvm_latency` (s), the MVMU's ``area``
        (m²) and ``leakage`` (W), ``ops`` = ``2 dim²`` (a MAC per weight). PUMA: 16,384 MACs in
        2304 ns, ``total_energy`` 42.8 nJ (dissertation 3.8.4: 43.97 nJ).
    """
    parts, latency = _mvmu(config, mode)
    units = total(parts)
    return Cost(units.energy, latency, units.area, units.leakage, 2.0 * config.mvmu_dim**2)


def _per_cycle(cost: Cost, config: Config) -> Cost:
    """An action repeated back to back, as one clock cycle: energy x cycle / action latency."""
    energy = cost.energy * _cycle(config) / cost.latency
    return Cost(energy, _cycle(config), cost.area, cost.leakage)


def _peak_unit(unit, area, leakage, config: Config) -> Cost:
    """A digital unit at :func:`hwjax.components.digital.peak_power`, as one cycle."""
    dynamic = (digital.peak_power(unit) - leakage) * _cycle(config)
    return Cost(dynamic, _cycle(config), area, leakage)


def _register_file_cycle(config: Config) -> Cost:
    rf = _register_file(config)
    access = regfile.rf_access(rf, rf.word_bits, "read", mode="exact")
    return Cost(access.energy, _cycle(config), access.area, access.leakage)


def _vfu_cycle(config: Config) -> Cost:
    unit = _vfu(config)
    lanes = digital.vfu_op(unit, unit.width)
    return _peak_unit(unit, lanes.area, lanes.leakage, config)


def _sfu_cycle(config: Config) -> Cost:
    unit = digital.ScalarUnit(config.tech, _cycle(config))
    op = digital.scalar_op(unit)
    return _peak_unit(unit, op.area, op.leakage, config)


def _control_cycle(config: Config, level: str) -> Cost:
    unit = digital.ControlUnit(level, tech=config.tech, cycle=_cycle(config))
    return digital.control(unit, 1.0)


def _core_items(config: Config, mvm: Cost) -> dict[str, Cost]:
    """Table 3.5's core rows, one full-activity cycle each, given one MVMU's MVM."""
    imem = memory.instruction_memory(INSTRUCTION_ENTRIES, config.tech)
    return {
        "control_pipeline": _control_cycle(config, "core"),
        "instruction_memory": memory.busy_cycle(imem, _cycle(config)),
        "register_file": _register_file_cycle(config),
        "mvmu": replicate(_per_cycle(mvm, config), config.mvmus_per_core),
        "vfu": _vfu_cycle(config),
        "sfu": _sfu_cycle(config),
    }


def core(config: Config, mode: str = "ste") -> Report:
    """One core at full activity, one clock cycle per entry (Table 3.5's core rows).

    Entries: ``control_pipeline``, ``instruction_memory``, ``register_file``, ``mvmu``
    (x ``mvmus_per_core``), ``vfu``, ``sfu``; composed in parallel, so ``total(core(c)).power``
    is the core's peak power (W) and ``.area`` its area (m²).
    """
    return Report(_core_items(config, mvmu_mvm(config, mode)), compose="parallel")


def _memory_bus_cycle(config: Config) -> Cost:
    """ISAAC's 384-wire eDRAM bus (figures.md 2.1), scaled with the cores it spans, one cycle."""
    share = config.cores_per_tile / _BUS_REFERENCE_CORES
    dynamic = scale_energy((1.0 - _BUS_LEAKAGE_SHARE) * _BUS_POWER * u.ns, DEFAULT_TECH, config.tech)
    leakage = scale_power(_BUS_LEAKAGE_SHARE * _BUS_POWER, DEFAULT_TECH, config.tech)
    area = scale_area(_BUS_AREA, DEFAULT_TECH, config.tech)
    return Cost(share * dynamic, _cycle(config), share * area, share * leakage)


def _tile_items(config: Config, cores) -> dict:
    """Table 3.5's tile rows, one full-activity cycle each, given the tile's cores."""
    tech = config.tech
    receive_buffer = memory.Memory(RECEIVE_BUFFER_BYTES, TILE_MEMORY_WIDTH, ports=2.0, tech=tech)
    return {
        "core": cores,
        "tile_control_unit": _control_cycle(config, "tile"),
        "tile_instruction_memory": memory.busy_cycle(
            memory.instruction_memory(TILE_INSTRUCTION_ENTRIES, tech), _cycle(config)
        ),
        "tile_data_memory": memory.busy_cycle(_tile_memory(config), _cycle(config)),
        "tile_memory_bus": _memory_bus_cycle(config),
        "tile_attribute_memory": memory.busy_cycle(
            memory.instruction_memory(ATTRIBUTE_ENTRIES, tech), _cycle(config)
        ),
        "tile_receive_buffer": memory.busy_cycle(receive_buffer, _cycle(config)),
    }


def tile(config: Config, mode: str = "ste") -> Report:
    """One tile at full activity, one clock cycle per entry (Table 3.5's tile rows).

    Entries: ``core`` (the core Report replicated ``cores_per_tile`` times),
    ``tile_control_unit``, ``tile_instruction_memory``, ``tile_data_memory``,
    ``tile_memory_bus``, ``tile_attribute_memory``, ``tile_receive_buffer``; in parallel.
    """
    cores = replicate(core(config, mode), config.cores_per_tile)
    return Report(_tile_items(config, cores), compose="parallel")


def _tile_memory(config: Config) -> memory.Memory:
    return memory.Memory(TILE_MEMORY_BYTES, TILE_MEMORY_WIDTH, tech=config.tech, kind="edram")


def _noc(config: Config, tile_area) -> noc.NoC:
    """The node's mesh (zero-load: contention is not modelled; see :func:`inference`)."""
    area = jnp.minimum(tile_area, 1e-3)  # NoC's valid range; binds only beyond 1000 mm² tiles
    return noc.NoC(
        tiles=config.tiles_per_node,
        tile_area=area,
        injection_rate=0.0,
        clock=config.clock_hz,
        tech=config.tech,
    )


def _off_chip_cycle(config: Config) -> Cost:
    link = noc.chip_link_transfer(noc.ChipLink(tech=config.tech), 0.0)
    return Cost(0.0, _cycle(config), link.area, link.leakage)


def _node_items(config: Config, tiles, tile_area, mode: str) -> dict:
    """The node's entries, given its tiles (a Report or a Cost) and one tile's area."""
    return {
        "tile": tiles,
        "on_chip_network": noc.network(_noc(config, tile_area), mode),
        "off_chip_network": _off_chip_cycle(config),
    }


def chip(config: Config, mode: str = "ste") -> Report:
    """The node at full activity, one clock cycle per entry (Table 3.5).

    ``Report({"node": Report({"tile": <tile Report x tiles_per_node>, "on_chip_network": Cost,
    "off_chip_network": Cost}, "parallel")}, "parallel")``; ``total(chip(c)).power`` is the
    node's peak power (W), ``.area`` its area (m²).
    """
    one_tile = tile(config, mode)
    tiles = replicate(one_tile, config.tiles_per_node)
    node = Report(_node_items(config, tiles, total(one_tile).area, mode), compose="parallel")
    return Report({"node": node}, compose="parallel")


def _unit_totals(config: Config, mode: str) -> tuple[Cost, Cost, Cost]:
    """(:func:`mvmu_mvm`, one core's and one tile's full-activity cycle), each component once."""
    mvm = mvmu_mvm(config, mode)
    one_core = total(Report(_core_items(config, mvm), compose="parallel"))
    cores = replicate(one_core, config.cores_per_tile)
    one_tile = total(Report(_tile_items(config, cores), compose="parallel"))
    return mvm, one_core, one_tile


def mvmus_per_node(config: Config):
    """MVMUs in a node, ``tiles x cores x MVMUs per core`` (2208 for PUMA)."""
    return config.tiles_per_node * config.cores_per_tile * config.mvmus_per_core


def peak(config: Config, mode: str = "ste") -> Cost:
    """The node running an MVM on every MVMU back to back, over one MVM latency.

    Returns:
        Cost: ``ops`` = ``2 dim²`` per MVMU, ``latency`` one MVM (s), ``energy`` the node's
        full-activity dynamic energy over that time (J), its ``leakage`` (W) and ``area`` (m²).
        PUMA: 31.4 TOPS, 0.508 TOPS/W, 0.345 TOPS/mm² (Table 3.8's figures are 5/3 of these; see
        the module docstring).
    """
    mvm, _, one_tile = _unit_totals(config, mode)
    tiles = replicate(one_tile, config.tiles_per_node)
    node = total(Report(_node_items(config, tiles, one_tile.area, mode), compose="parallel"))
    latency = mvm.latency
    ops = mvm.ops * mvmus_per_node(config)
    return Cost(node.energy * latency / node.latency, latency, node.area, node.leakage, ops)


# ---------------------------------------------------------------------------------------------
# Digital MVMU (dissertation 3.8.4)


def _io_registers(config: Config, mode: str) -> Cost:
    """XbarIn and XbarOut of an MVMU: read ``input_bits`` per row once, write ``dim`` outputs."""
    dim = config.mvmu_dim
    xin = memory.access(_xbar_in(config), dim * config.input_bits, "read", mode)
    xout = memory.access(_xbar_out(config), dim * config.input_bits, "write", mode)
    return _dynamic(xin) + _dynamic(xout)


def digital_mvmu(config: Config, mode: str = "ste") -> Cost:
    """A CMOS MVMU that matches the analog MVMU's latency (dissertation 3.8.4).

    ``dim²`` weights of ``weight_bits`` in one SRAM (:class:`hwjax.components.memory.Memory`,
    read ``n`` weights per cycle), ``n = ceil(dim² / (MVM latency x clock))`` pipelined
    ``weight_bits`` MAC units (:func:`hwjax.components.digital.mac`, Horowitz scaled to
    ``tech``), and the same XbarIn/XbarOut registers as the analog MVMU.

    Returns:
        Cost of one MVM: dynamic ``energy`` (J), ``latency`` ``ceil(dim² / n)`` cycles (s, at
        most the analog MVM's), ``area`` (m²) and ``leakage`` (W) of the unit, ``ops`` ``2 dim²``.
    """
    dim2 = config.mvmu_dim**2
    macs_per_cycle = relax.ceil(dim2 / (mvm_latency(config, mode) * config.clock_hz), mode=mode)
    weights = memory.Memory(
        dim2 * config.weight_bits / 8.0, macs_per_cycle * config.weight_bits, tech=config.tech
    )
    reads = memory.access(weights, dim2 * config.weight_bits, "read", mode)
    unit = digital.ArithmeticUnit(config.weight_bits, tech=config.tech, cycle=_cycle(config))
    one = digital.mac(unit)
    latency = relax.ceil(dim2 / macs_per_cycle, mode=mode) * _cycle(config)
    macs = Cost(dim2 * one.energy, 0.0, macs_per_cycle * one.area, macs_per_cycle * one.leakage)
    parts = _dynamic(reads) + macs + _io_registers(config, mode)
    return Cost(parts.energy, latency, parts.area, parts.leakage, 2.0 * dim2)


# ---------------------------------------------------------------------------------------------
# Inference


#: Elements one vector instruction can cover (Fig. 3.9: a 10-bit vec-width operand).
MAX_VECTOR_WIDTH = 1024
#: VFU operation used for each workload vector kind (max pooling compares by subtracting).
_VFU_KINDS = {"relu": "relu", "add": "add", "mul": "mul", "max": "sub"}
#: Other kinds (sigmoid, tanh, softmax's exp) are ROM-embedded-RAM look-ups (section 3.3.4:
#: transcendental functions); softmax adds a running sum and a division per element.
_SOFTMAX_VFU_OPS = ("add", "div")


@dataclasses.dataclass(frozen=True)
class _Hardware:
    """Unit costs of one configuration, evaluated once from the components and scaled by each
    layer's counts (a plain container of JAX scalars and Costs)."""

    config: Config
    mode: str
    target: mapping.ArrayTarget  # the MVMU as a mapping target
    mvm: Cost  # one MVM on one MVMU
    core: Cost  # one core: area, leakage
    tile_shared: Cost  # a tile's units outside its cores: area, leakage
    vfu_energy: dict  # VFU energy per element by operation, J
    lookup: Cost  # one ROM-embedded-RAM look-up
    copy: Cost  # intra-core copy of one word (register file <-> XbarIn/XbarOut)
    in_tile: Cost  # store + load of one shared-memory row
    in_node: Cost  # send + receive of one row, flits and endpoints (no head latency)
    in_node_head: Any  # head-flit latency of a send, s
    instruction_energy: Any  # fetch + decode of one instruction, J


def _send_receive_split(movement: noc.DataMovement, mode: str) -> tuple[Cost, Any]:
    """``send_receive_in_node`` is affine in the rows sent: (cost per row, fixed latency)."""
    row = movement.memory_bits
    one = noc.send_receive_in_node(movement, row, mode)
    two = noc.send_receive_in_node(movement, 2.0 * row, mode)
    per_row = unchecked(two.energy - one.energy, two.latency - one.latency, 0.0)
    return per_row, 2.0 * one.latency - two.latency


def _hardware(config: Config, mode: str) -> _Hardware:
    mvm, one_core, one_tile = _unit_totals(config, mode)
    n = config.cores_per_tile
    shared = unchecked(0.0, 0.0, one_tile.area - n * one_core.area, one_tile.leakage - n * one_core.leakage)
    movement = noc.DataMovement(_noc(config, one_tile.area), word_bits=config.input_bits)
    vfu = _vfu(config)
    ops = set(_VFU_KINDS.values()) | set(_SOFTMAX_VFU_OPS)
    in_node, head = _send_receive_split(movement, mode)
    fetch = memory.read_energy(memory.instruction_memory(INSTRUCTION_ENTRIES, config.tech))
    return _Hardware(
        config=config,
        mode=mode,
        target=array_target(config),
        mvm=mvm,
        core=one_core,
        tile_shared=shared,
        vfu_energy={op: digital.vfu_op(vfu, 1.0, op, mode).energy for op in sorted(ops)},
        lookup=regfile.rom_lookup(_register_file(config), 1.0, mode),
        copy=noc.copy_in_core(movement, config.input_bits, mode),
        in_tile=noc.load_store_in_tile(movement, movement.memory_bits, mode),
        in_node=in_node,
        in_node_head=head,
        instruction_energy=fetch + _control_cycle(config, "core").energy,
    )


@dataclasses.dataclass(frozen=True)
class _VectorWork:
    """PUMA's reading of a network's vector ops (static, numpy ``(L,)`` or ``(L, P)``): VFU
    passes, ROM look-ups, elements through shared memory and instructions of layers without
    matrices."""

    vfu_elements: dict  # VFU operation -> (L,) elements
    pass_elements: np.ndarray  # (L, P) elements of each VFU pass (0: padding)
    lookups: np.ndarray  # (L,) ROM look-ups
    copies: np.ndarray  # (L,) elements through shared memory besides the XbarIn inputs
    plain_instructions: np.ndarray  # (L,) instructions of a layer without matrices


def _vfu_items(layer) -> tuple[list[tuple[str, float]], float]:
    """(VFU operation, elements) of each pass the layer's vector ops need, and its look-ups."""
    passes, lookups = [], 0.0
    for op in layer.vector_ops():
        if op.kind == "copy":
            continue
        if op.kind in _VFU_KINDS:
            passes.append((_VFU_KINDS[op.kind], float(op.elements)))
            continue
        lookups += float(op.elements)
        if op.kind == "softmax":
            passes.extend((vfu_op, float(op.elements)) for vfu_op in _SOFTMAX_VFU_OPS)
    return passes, lookups


@functools.lru_cache(maxsize=64)
def _vector_work(table: system.LayerTable) -> _VectorWork:
    items = [_vfu_items(layer) for layer in table.layers]
    passes = [row for row, _ in items]
    width = max([1] + [len(row) for row in passes])
    pass_elements = np.asarray([[e for _, e in row] + [0.0] * (width - len(row)) for row in passes])
    vfu_ops = sorted(set(_VFU_KINDS.values()) | set(_SOFTMAX_VFU_OPS))
    has_ops = table.has_ops
    plain = [
        0.0 if ops else sum(3 * -(-op.elements // MAX_VECTOR_WIDTH) for op in layer.vector_ops())
        for layer, ops in zip(table.layers, has_ops, strict=True)
    ]  # temporal SIMD: a load, an operation and a store per MAX_VECTOR_WIDTH elements
    copies = table.elements("copy") + np.where(
        has_ops, 0.0, table.vector_elements.sum(axis=1) - table.elements("copy")
    )
    return _VectorWork(
        vfu_elements={
            name: np.asarray([sum(e for op, e in row if op == name) for row in passes], float)
            for name in vfu_ops
        },
        pass_elements=pass_elements.astype(float),
        lookups=np.asarray([lookups for _, lookups in items], float),
        copies=copies,
        plain_instructions=np.asarray(plain, float),
    )


@dataclasses.dataclass(frozen=True)
class _Layers:
    """Every matrix mapped (grids ``(L, K)``) and every layer placed (arrays ``(L,)``)."""

    t: system.LayerTable
    v: _VectorWork
    m: mapping.MatrixMapping
    placed: system.Placement
    replication: Any  # (L,) copies of each layer's arrays, or None for one
    cores: Any  # (L,) cores working on the layer (without matrices: those of the layer before)
    tiles: Any  # (L,) tiles it spans (1 for a layer without matrices)


def _layers(hw: _Hardware, table: system.LayerTable, knobs: system.LayerKnobs) -> _Layers:
    """Map every matrix (:func:`hwjax.system.map_layers`) and pack the layers' MVMUs into cores
    and tiles (:func:`hwjax.system.place`; a logical array is one MVMU)."""
    config, mode = hw.config, hw.mode
    slices = None if knobs.slice_bits is None else system.slice_count(knobs.slice_bits)
    m = system.map_layers(table, hw.target, config.input_shuffling, mode, knobs.occupancy, slices)
    replication = knobs.replication  # None: one copy
    arrays = table.to_layers(m.logical_arrays) * (1.0 if replication is None else replication)
    placed = system.place(arrays, config.mvmus_per_core, config.cores_per_tile, config.tiles_per_node, mode)
    return _Layers(
        t=table,
        v=_vector_work(table),
        m=m,
        placed=placed,
        replication=replication,
        cores=jnp.maximum(table.from_source(placed.cores_used), 1.0),
        tiles=jnp.where(table.has_ops, jnp.maximum(placed.tiles_used, 1.0), 1.0),  # empty: one
    )


def _soft_min(a, b, mode: str):
    """``min(a, b) = a + b - max(a, b)`` through :func:`hwjax.relax.maximum`."""
    return a + b - relax.maximum(a, b, mode=mode)


def _mvm_cost(hw: _Hardware, x: _Layers) -> Cost:
    """MVMs of every matrix: energy per MVM, latency per vector, ops 2 MACs. MVMs run one after
    another per input vector: 1 with coalescing (one MVM instruction fires every MVMU of a core;
    cores run in parallel), else the MVMUs a core holds; ``replication`` copies split the
    vectors. A non-stationary matrix is also written into its crossbars once per inference."""
    t, m = x.t, x.m
    if hw.config.mvm_coalescing:
        series = 1.0
    else:
        series = _soft_min(m.logical_arrays, hw.config.mvmus_per_core, hw.mode)
    write = crossbar.write(_crossbar(hw.config), mode=hw.mode)
    dynamic = ~t.stationary
    rounds = t.vectors  # vectors per copy of the arrays
    if x.replication is not None:
        rounds = relax.ceil(t.vectors / jnp.asarray(x.replication)[..., None], mode=hw.mode)
    mvm_energy, mvm_latency = jnp.asarray(hw.mvm.energy)[..., None], jnp.asarray(hw.mvm.latency)[..., None]
    energy = m.mvms * mvm_energy + dynamic * m.physical_arrays * jnp.asarray(write.energy)[..., None]
    latency = rounds * mvm_latency * series + dynamic * jnp.asarray(write.latency)[..., None]
    per_layer = [t.to_layers(v) for v in (energy, latency, 2.0 * m.macs)]
    return unchecked(per_layer[0], per_layer[1], 0.0, ops=per_layer[2])


def _vfu_cost(hw: _Hardware, x: _Layers) -> Cost:
    """Vector ops on ``vfu_width`` lanes of each of the layer's cores, one pass per op (the
    additions that reduce row blocks' partial sums are one more), and ROM look-ups (sigmoid,
    tanh, softmax's exp; Fig. 3.3's five steps), each core's one after another."""
    config, mode, t, v = hw.config, hw.mode, x.t, x.v
    lanes = config.vfu_width * x.cores
    sums = t.to_layers(x.m.partial_sums)
    cycles = jnp.sum(relax.ceil(v.pass_elements / lanes[:, None], mode=mode), axis=1)  # padding: 0
    cycles = cycles + t.has_ops * relax.ceil(sums / lanes, mode=mode)
    energy = sum(elements * hw.vfu_energy[op] for op, elements in v.vfu_elements.items())
    energy = energy + sums * hw.vfu_energy["add"] + v.lookups * hw.lookup.energy
    latency = cycles * _cycle(config) + v.lookups * hw.lookup.latency / x.cores
    return unchecked(energy, latency, 0.0)


def _register_file_cost(hw: _Hardware, x: _Layers) -> Cost:
    """Copies between the register file and XbarIn/XbarOut: every input load and every row
    block's outputs (``outputs + partial_sums``), spread over the layer's cores."""
    m = x.m
    words = relax.ceil(x.t.to_layers(m.input_loads + m.outputs + m.partial_sums), mode=hw.mode)
    return unchecked(words * hw.copy.energy, words * hw.copy.latency / x.cores, 0.0)


def _row_count(hw: _Hardware, words):
    """Shared-memory rows of ``memory_bits`` holding ``words`` data words (relaxed ceil)."""
    row_words = TILE_MEMORY_WIDTH / hw.config.input_bits
    return relax.ceil(words / row_words, mode=hw.mode)


def _data_movement_cost(hw: _Hardware, x: _Layers) -> Cost:
    """Tile and node traffic of the layers.

    Every input element loaded into an XbarIn, every element of a copy (e.g. an embedding
    look-up) and every element a layer without matrices works on passes through a tile's
    shared memory (a store and a load). When the layer spans ``T`` tiles, a share ``1 - 1/T``
    of its inputs and partial sums crosses tiles (a send and a receive, whose head latency is
    charged in the same share). Tiles move their rows in parallel.
    """
    t = x.t
    inputs = t.to_layers(x.m.input_loads)
    rows = _row_count(hw, inputs + x.v.copies)
    share = 1.0 - 1.0 / x.tiles  # 0 for a layer without matrices (one tile)
    crossing = t.has_ops * _row_count(hw, share * (inputs + t.to_layers(x.m.partial_sums)))
    energy = rows * hw.in_tile.energy + crossing * hw.in_node.energy
    latency = rows * hw.in_tile.latency + crossing * hw.in_node.latency + share * hw.in_node_head
    return unchecked(energy, latency / x.tiles, 0.0)


def _control_cost(hw: _Hardware, x: _Layers) -> Cost:
    """Instruction fetch and decode, overlapped with execution (latency 0). Instructions per
    input vector and core: the MVMs (1 when coalesced) and :data:`_OTHER_INSTRUCTIONS`; a layer
    without matrices loads, operates and stores vectors of at most :data:`MAX_VECTOR_WIDTH`
    elements (temporal SIMD, section 3.3.3)."""
    config, t = hw.config, x.t
    cores = mapping.place(x.m.logical_arrays, config.mvmus_per_core, 1.0, 1.0, hw.mode)["cores"]
    mvms = cores if config.mvm_coalescing else x.m.logical_arrays
    count = t.to_layers(t.vectors * (mvms + _OTHER_INSTRUCTIONS * cores)) + x.v.plain_instructions
    return unchecked(count * hw.instruction_energy, 0.0, 0.0)


def _occupied(hw: _Hardware, x: _Layers) -> tuple[Any, Any]:
    """(area m², leakage W) of the hardware each layer occupies: its share of the cores and of
    their tiles' shared units. A layer without matrices (pooling, embedding) runs on the cores
    of the layer before it: their leakage counts, their area is that layer's."""
    p = x.placed
    area = p.cores * hw.core.area + p.tiles * hw.tile_shared.area
    leakage = (
        x.t.from_source(p.cores, 0.0) * hw.core.leakage
        + x.t.from_source(p.tiles, 0.0) * hw.tile_shared.leakage
    )
    return area, leakage


def _items(hw: _Hardware, x: _Layers) -> dict[str, Cost]:
    """Every layer's costs before pipelining: entry name -> Cost of arrays ``(L,)``."""
    return {
        "mvm": _mvm_cost(hw, x),
        "vfu": _vfu_cost(hw, x),
        "register_file": _register_file_cost(hw, x),
        "data_movement": _data_movement_cost(hw, x),
        "control": _control_cost(hw, x),
    }


#: Knobs :func:`inference` takes per layer (:class:`hwjax.system.LayerKnobs`).
LAYER_KNOBS = (*system.LAYER_KNOBS, "slice_bits")


@system.batched
def inference(config: Config, workload, mode: str = "ste", layers: system.LayerKnobs | None = None) -> Report:
    """Energy and latency of one inference (batch 1) of ``workload`` on a PUMA node.

    Every matrix is mapped onto MVMUs (:func:`hwjax.system.map_layers` on :func:`array_target`;
    a logical array is one MVMU) and the layers are packed into cores and tiles
    (:func:`hwjax.system.place`). Unit costs come once per configuration (per layer where
    ``layers`` overrides a knob) from the components (:func:`mvmu_mvm`, ``digital.vfu_op``,
    ``regfile.rom_lookup``, the ``noc.DataMovement`` actions, which are linear in the words and
    rows moved) and scale with each layer's counts. Per layer, serially:

    * ``mvm``: ``mvms`` x :func:`mvmu_mvm`'s energy; latency ``vectors`` (over the layer's
      ``replication`` copies) x the MVM latency per matrix, times the MVMUs of a core when
      ``mvm_coalescing`` is off (MVM instructions then run one at a time; Table 3.10). A
      non-stationary matrix is also written into its crossbars. ``ops`` = 2 MACs.
    * ``vfu``: vector ops on ``vfu_width`` lanes of every occupied core (temporal SIMD) and the
      additions that reduce row blocks' partial sums; sigmoid, tanh and softmax's exp as
      ROM-embedded-RAM look-ups.
    * ``register_file``: intra-core copies into XbarIn (``input_loads``, which
      ``input_shuffling`` lowers for convolutions: Table 3.10) and out of XbarOut.
    * ``data_movement``: shared-memory stores and loads of the inputs, inter-tile sends and
      receives when a layer spans tiles (zero-load network).
    * ``control``: instruction fetch and decode (latency hidden by execution).
    * ``leakage``: the layer's share of the cores and their tiles' shared units leaks while the
      layer runs, its unpipelined latency (energy, J; idle units are power-gated, figures.md 1); ``area`` is
      that share (m²).

    A last row ``idle`` holds the area of the allocated cores' and tiles' empty slots (layers
    pack into shared cores and tiles; gated, they leak nothing). ``total(report).area`` is the
    area of the cores and tiles allocated to the workload.

    **Pipelining** (``config.pipelining``, section 3.4.1; :func:`hwjax.system.pipeline`): a
    layer starts once its predecessor has produced its first vector, so the inference takes
    ``sum_i L_i / V_i + max_i (L_i - L_i / V_i)`` for layers of latency ``L_i`` over ``V_i``
    input vectors; without pipelining the layers run back to back. Energies are the same.

    Not modelled: traffic between nodes for workloads larger than one node; network contention;
    layers sharing a core do not slow each other.

    Args:
        config: the node; leaves of shape ``(n,)`` give a batch of ``n`` designs.
        workload: a :class:`hwjax.workloads.Network` (static structure).
        mode: relaxation of every count (:mod:`hwjax.relax`).
        layers: per-layer knobs (:data:`LAYER_KNOBS`), arrays ``(L,)``; ``None`` for none.

    Returns:
        ``Report({layer name: Report({"mvm", "vfu", "register_file", "data_movement",
        "control", "leakage"}, "serial"), ..., "idle": Cost}, "serial")``.
    """
    relax.check_mode(mode)
    table = system.layer_table(workload)
    knobs = system.check_layer_knobs(layers, table, LAYER_KNOBS)
    hw = _hardware(system.layer_config(config, knobs), mode)
    x = _layers(hw, table, knobs)
    items = _items(hw, x)
    latency = sum(cost.latency for cost in items.values())  # each layer is busy this long
    if config.pipelining:
        charged = system.pipeline(latency / table.layer_vectors, latency, mode)
        items = system.scale_latencies(items, charged)
    area, leakage = _occupied(hw, x)
    items["leakage"] = unchecked(leakage * latency, 0.0, area)
    idle_area, _ = system.idle_slots(x.placed, hw.core, hw.tile_shared)
    waiting = system.idle_leakage(leakage, latency, 0.0, "gated")
    return system.layer_report(table, items, unchecked(waiting, 0.0, idle_area))
