"""The Sandia analog in-memory tile (Marinella et al.) at 14/16 nm and its digital baselines.

Sources: the Sandia study (``seeds/sandia-analog-imc-devices-2021.txt``, "Training Accuracy and
Tile Energy/Summary" table, "the Sandia table" below) and Marinella et al., JETCAS 2018
(arXiv 1707.09952; ``seeds/marinella-2017-reram-training-accelerator.txt``: the abstract only).

**What "per op" means.** The Sandia table gives "Energy/Op" of 8-bit kernels; Marinella's
abstract gives the same ReRAM tile "11 fJ per multiply and accumulate (MAC)", within 10% of the
table's 12.2 fJ VMM figure, while a per-2-ops reading would make a MAC 24.4 fJ. So a Sandia op is
one MAC (VMM, MVM) or one cell update (OPU), as in the study's accelerator table ("We have counted
MACs as single operations where possible"). Costs here keep hwjax's convention (``ops`` = 2 per
MAC or cell update, so ``hwjax.tops_per_watt`` compares with every other model);
:func:`energy_per_sandia_op` gives the table's fJ per op.

**Analog tile** (:class:`Config`; hwjax's reading, the seeds give no schematic). A ``rows x cols``
crossbar (1024 x 1024, hwjax's assumption) holds one 8-bit weight per device. A VMM streams the
8-bit input one bit per cycle (1-bit row drivers, :func:`hwjax.components.dac.drive_rows`) for
the device's read pulse per bit (:func:`hwjax.components.crossbar.mvm`); the column integrators
add the bit cycles with binary weights in the analog domain (CrossSim's SONOS-TCAS preset,
figures.md 5.4: "analog S&A", 8-bit inputs in 1-bit slices, one 8-bit ADC), and one 8-bit SAR
ADC per column converts once (:mod:`hwjax.components.adc`, survey calibration at the tile's
node and ``adc_rate``). The MVM is the same with rows and columns swapped
(:func:`~hwjax.components.crossbar.mtvm`). The OPU streams the 8-bit row input one bit per cycle
(pulse-width, 1-bit drivers) with 8-bit column amplitudes (PANTHER's scheme,
:func:`hwjax.components.crossbar.opa` and :func:`hwjax.components.dac.outer_product_update`).
All DACs use the ``"isaac"`` law (eq. 5.5, a scaled inverter driver) and convert once per cycle.
Integrator op-amps and the tile's digital core (activation, buffers) are not modelled.

**Devices** (:func:`sandia_device`: the registry devices of :mod:`hwjax.devices` that the Sandia
table covers, ``taox`` (its ReRAM), ``ecram`` and ``sonos``, read as the tile reads them):

* *read pulse*: the presets' (the table's VMM array latency / 8 input bits, [der]); so the
  analog VMM, MVM and OPU latencies are inputs, reproduced by construction (plus the ADC's
  10 ns), not predictions.
* *read window*: the table's VMM energies differ by under 15% across devices whose preset
  windows differ ten-thousandfold (ECRAM 2 nS, SONOS 29 uS, TaOx 10 uS at the on state), and
  the array is the only device-dependent part of a VMM. With the presets' own windows the
  array would cost 0.002 fJ (ECRAM) and 36 fJ (SONOS) per op, the whole VMM 0.2 and 36 fJ
  against 11.9 and 13.7, while the periphery here is 0.2 fJ per op. hwjax therefore
  reads every device in the TaOx window (``G_on`` = 10 uS, 100 kOhm; the device's own on/off
  ratio below it) at CrossSim's 0.1 V (figures.md 5.1): the Sandia tile sets the read current
  range by its circuits, not by the device (an inference from the table, stated as such).
* *update pulse*: the presets store the table's OPU energy per op as the energy of one
  full-amplitude pulse; but a Sandia op is one cell update, which here takes ``8 x 0.5 x 0.335``
  = 1.34 full-pulse equivalents (8 row bits, half of them 1, mean squared 8-bit column amplitude
  :func:`~hwjax.components.crossbar.uniform_activity`). The pulse energy is the table's per-op
  energy over that factor. The OPU energy is therefore a calibration of the device (the one
  number the seeds give); the tests check that the drivers keep it within the tolerance.

The presets' bits per cell (ECRAM 4, SONOS 7, TaOx 8) enter only program-verify writes, which
none of the tile's kernels performs; the tile holds the table's 8-bit weights one per device.

**SRAM baseline** (:class:`SramConfig`): the same weights, 8 bits each, in one SRAM
(``rows x cols`` bytes, :class:`hwjax.components.memory.Memory` at 14 nm, leakage included),
read ``lanes`` weights per access into ``lanes`` 8-bit MAC units
(:func:`hwjax.components.digital.mac`). VMM: every weight read once, row by row. MVM: the
transposed product reads the columns through the second port of a transposable SRAM cell
(Seo et al., CICC 2011 [lit]), which delivers one bit per row per access, so it takes
``weight_bits`` times the accesses of a VMM at the same total bits read: 8x the latency and
8x the leakage. OPU: a read-modify-write of every weight (read, multiply-add, write).
``lanes`` = 512 (a 4 Kb access) is hwjax's choice: the seeds give no SRAM datapath, and a
1024-lane datapath would halve the latencies (1.9 us VMM against the table's 4 us).

**Digital ReRAM baseline** (Marinella's "similar block utilizing only digital ReRAM"): the
weights as binary TaOx cells, 8 per weight (:data:`DIGITAL_RERAM`), read row by row with one
sense amplifier per column (a 1-bit flash ADC, i.e. a comparator) and written row by row with
one SET/RESET pulse per cell (PRIME/ISAAC's 2 V, 40 ns pulse, figures.md 2, at the TaOx
mid-window conductance) in a 500 ns write cycle (MaxNVM Table 1, 28 nm RRAM macro [src]); the
MACs as in the SRAM baseline. The transposed MVM reads columns like rows (a crossbar is
symmetric).

**Marinella comparison** (:func:`marinella`): one training step of the block, a VMM, an MVM and
an OPU in series, on the analog ReRAM tile, the digital ReRAM block and the SRAM block;
:func:`advantage` gives the energy and latency ratios. The abstract does not say how its
ratios aggregate the kernels; summing the three kernels of the Sandia table reproduces its SRAM
ratios (11450 / 26.5 fJ = 432x, 44 / 1.27 us = 34.6x), so hwjax aggregates the same way.

Calibration (``tests/models/test_analog_tile.py``; defaults, 14 nm), published / ours:

=============================  ===================  ===================  ======================
quantity                       ReRAM                ECRAM                SONOS
=============================  ===================  ===================  ======================
VMM = MVM energy, fJ/op        12.2 / 11.35 (-7%)   11.9 / 10.91 (-8%)   13.7 / 10.94 (-20%)
OPU energy, fJ/op [cal]        2.1 / 2.17 (+3%)     0.2 / 0.27 (+35%)    68.2 / 68.27 (+0%)
VMM = MVM latency, us [cal]    0.38 / 0.39          0.39 / 0.40          0.40 / 0.41
OPU latency, us [cal]          0.51 / 0.51          1.9 / 1.9            20 / 20
=============================  ===================  ===================  ======================

[cal]: the device pulse is derived from the same row (see *Devices*); the rest are predictions.
SRAM tile (Sandia table): VMM 2718 / 2504 fJ (-8%), MVM 4630 / 3767 (-19%), OPU 4102 / 4973
(+21%); latency 4 / 3.85 us, 32 / 30.8 us, 8 / 7.7 us (the 512 lanes set the scale, see above).
Marinella (abstract): 11 / 11.35 fJ per MAC (+3%); over digital ReRAM 270x / 267x energy (-1%)
and 540x / 429x latency (-21%); over SRAM 430x / 539x energy (+25%) and 34x / 32.8x latency (-3%).
The tolerances are the issue's (a factor 1.5 for the Sandia table, 2 for Marinella's abstract).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax.numpy as jnp
import numpy as np

from hwjax import Knob, devices, relax, validate
from hwjax import units as u
from hwjax._pytree import pytree_dataclass, static_field
from hwjax.components import adc, crossbar, dac, digital, memory
from hwjax.cost import Cost, Report, energy_per_op, replicate, total, unchecked
from hwjax.tech import Tech, check_tech

#: Marinella's "state of the art 14/16 nm PDK" (abstract); hwjax's 14 nm HP row, nominal 0.8 V.
TILE_TECH = Tech(14)
#: The registry devices of the Sandia table (static ``Config.device``; its ReRAM is ``taox``).
DEVICE_NAMES = ("taox", "ecram", "sonos")
#: Bits of the Sandia table's kernels (8-bit VMM, MVM and OPU).
SANDIA_BITS = 8.0
#: Fraction of row-input bits that are 1 in an OPU (uniform data).
OPU_ROW_ACTIVITY = 0.5
#: The common read window (TaOx, devices.TAOX: 100 kOhm on, CrossSim's 0.1 V read).
_READ_R_ON = devices.TAOX.r_on
_READ_VOLTAGE = 0.1 * u.V
# [est] cell areas the presets lack (for the tile's area only): a three-terminal ECRAM and a
# SONOS (NOR-flash-like) cell take about a transistor's footprint.
_CELL_AREA_F2 = {"ecram": 12.0, "sonos": 10.0}
#: SRAM lanes (see the module docstring).
SRAM_LANES = 512.0
_MAX_ACCESS_BITS = 8192.0  # widest access of hwjax.components.memory.Memory
# Digital ReRAM: a full SET/RESET pulse (ISAAC/PRIME 2 V, 40 ns, figures.md 2) at the TaOx
# mid-window conductance, and MaxNVM Table 1's 500 ns RRAM write cycle [src].
_SET_VOLTAGE, _SET_PULSE = 2.0 * u.V, 40 * u.ns
_DIGITAL_WRITE_CYCLE = 500 * u.ns
KERNELS = ("vmm", "mvm", "opu")

_RANGES = {
    "rows": (8.0, 4096.0),
    "cols": (8.0, 4096.0),
    "input_bits": (1.0, 16.0),
    "adc_bits": (1.0, 16.0),
    "column_bits": (1.0, 16.0),
    "adc_rate": (1e6, 1e10),
    "mean_state": (0.0, 1.0),
    "row_activity": (0.0, 1.0),
}


def _opu_pulse_equivalents(bits: float, row_activity: float) -> float:
    """Full-amplitude pulses per cell in an OPU of uniform data: ``bits a_row a_col``."""
    return bits * row_activity * float(crossbar.uniform_activity(bits))


@functools.cache
def sandia_device(name: str) -> devices.Device:
    """The registry device ``name`` (one of :data:`DEVICE_NAMES`) as the tile reads it.

    Read in the common window, with the per-pulse update energy of the table: the registry's
    ``write_energy`` of these three devices is the Sandia table's "Energy/Op" of the 8-bit OPU,
    J per cell update [src], which takes :func:`_opu_pulse_equivalents` full pulses.
    """
    validate.check_choice("device", name, DEVICE_NAMES)
    preset = devices.device(name)
    on_off = preset.r_off / preset.r_on  # the device's own ratio (access resistance 0 in all three)
    pulse = preset.write_energy / _opu_pulse_equivalents(SANDIA_BITS, OPU_ROW_ACTIVITY)
    return dataclasses.replace(
        preset,
        r_on=_READ_R_ON,
        r_off=_READ_R_ON * on_off,
        v_read=_READ_VOLTAGE,
        update_energy=pulse,
        cell_area_f2=_CELL_AREA_F2.get(name, preset.cell_area_f2),
        name=f"sandia_{name}",
    )


#: Binary TaOx cells used as a digital memory (see the module docstring).
DIGITAL_RERAM = dataclasses.replace(
    devices.TAOX,
    bits_per_cell=1.0,
    write_pulses=1.0,
    write_energy=_SET_VOLTAGE**2 * 0.5 * (devices.TAOX.g_on + devices.TAOX.g_off) * _SET_PULSE,
    write_latency=_DIGITAL_WRITE_CYCLE,
    name="taox_digital",
)


@pytree_dataclass
class Config:
    """The analog tile (a pytree). Defaults: the Sandia table's 8-bit ReRAM tile at 14 nm.

    Attributes:
        rows, cols: crossbar size, in [8, 4096] (1024 x 1024, hwjax's assumption).
        input_bits: input (and OPU row-input) precision, bits, in [1, 16] (8).
        adc_bits: column ADC resolution, bits, in [1, 16] (8).
        column_bits: OPU column DAC resolution, bits, in [1, 16] (8).
        adc_rate: ADC sampling rate, Hz, in [1e6, 1e10] (1e8: one 10 ns conversion per VMM).
        mean_state: mean programmed conductance, fraction of the window, in [0, 1] (0.5).
        row_activity: fraction of OPU row bits that are 1, in [0, 1] (0.5).
        tech: technology (14 nm HP, 0.8 V).
        device: a registry device of the Sandia table, ``"taox"`` (its ReRAM), ``"ecram"`` or
            ``"sonos"`` (static; :func:`sandia_device`).
    """

    rows: Knob = 1024.0
    cols: Knob = 1024.0
    input_bits: Knob = SANDIA_BITS
    adc_bits: Knob = SANDIA_BITS
    column_bits: Knob = SANDIA_BITS
    adc_rate: Knob = 1e8
    mean_state: Knob = 0.5
    row_activity: Knob = OPU_ROW_ACTIVITY
    tech: Tech = TILE_TECH
    device: str = static_field("taox")

    def __post_init__(self):
        validate.check_choice("device", self.device, DEVICE_NAMES)
        check_tech(self.tech)
        validate.check_fields(self, _RANGES)


@pytree_dataclass
class SramConfig:
    """The digital SRAM tile (a pytree): the same matrix in SRAM with ``lanes`` MAC units.

    Attributes:
        rows, cols: matrix size, in [8, 4096] (1024 x 1024).
        weight_bits: bits per weight, in [1, 16] (8).
        input_bits: input precision, bits, in [1, 16] (8).
        lanes: weights read and MACs done per access, in [1, 1024] (512; at most
            ``8192 / weight_bits``, the widest access of the memory model).
        tech: technology (14 nm HP).
    """

    rows: Knob = 1024.0
    cols: Knob = 1024.0
    weight_bits: Knob = SANDIA_BITS
    input_bits: Knob = SANDIA_BITS
    lanes: Knob = SRAM_LANES
    tech: Tech = TILE_TECH

    def __post_init__(self):
        check_tech(self.tech)
        ranges = {
            "rows": (8.0, 4096.0),
            "cols": (8.0, 4096.0),
            "weight_bits": (1.0, 16.0),
            "input_bits": (1.0, 16.0),
            "lanes": (1.0, 1024.0),
        }
        validate.check_fields(self, ranges)
        self._check_width()

    def _check_width(self) -> None:
        """``lanes x weight_bits`` must fit one access of the memory model (8192 bits)."""
        if validate.is_traced((self.lanes, self.weight_bits)):
            return  # memory.Memory clamps a traced width into its range
        widest = float(np.max(np.asarray(self.lanes) * np.asarray(self.weight_bits)))
        if widest > _MAX_ACCESS_BITS:
            raise ValueError(
                f"lanes={self.lanes!r} x weight_bits={self.weight_bits!r} = {widest:g} bits exceeds one "
                f"memory access: allowed range of lanes is [1, {_MAX_ACCESS_BITS:g} / weight_bits]"
            )


# ---------------------------------------------------------------------------------------------
# Helpers


def _strip_ops(cost: Cost) -> Cost:
    return unchecked(cost.energy, cost.latency, cost.area, cost.leakage)


def _with_ops(cost: Cost, ops) -> Cost:
    return unchecked(cost.energy, cost.latency, cost.area, cost.leakage, ops)


def _serial_report(items: dict, macs) -> Report:
    """A serial Report whose first entry carries the kernel's ``ops``: 2 per MAC or cell update."""
    names = list(items)
    stripped = {name: _strip_ops(items[name]) for name in names}
    stripped[names[0]] = _with_ops(stripped[names[0]], 2.0 * macs)
    return Report(stripped, compose="serial")


# ---------------------------------------------------------------------------------------------
# Analog tile


def device(config: Config) -> devices.Device:
    """The tile's :class:`~hwjax.devices.Device` (:func:`sandia_device`)."""
    return sandia_device(config.device)


def _crossbar(config: Config) -> crossbar.Crossbar:
    dev = device(config)
    return crossbar.Crossbar(
        config.rows, config.cols, dev.bits_per_cell, dev, mean_state=config.mean_state, tech=config.tech
    )


def _driver(config: Config, period) -> dac.DAC:
    """A 1-bit row driver converting once per ``period`` (s)."""
    return dac.DAC(1.0, sample_rate=1.0 / period, tech=config.tech)


def _adc(config: Config) -> adc.ADC:
    return adc.ADC(config.adc_bits, sample_rate=config.adc_rate, tech=config.tech)


def _matrix_vector(config: Config, transposed: bool, mode: str) -> Report:
    relax.check_mode(mode)
    xb = _crossbar(config)
    n_in, n_out = (config.cols, config.rows) if transposed else (config.rows, config.cols)
    array = (crossbar.mtvm if transposed else crossbar.mvm)(xb, config.input_bits, 1.0, mode=mode)
    pulse = device(config).read_pulse
    drivers = dac.drive_rows(_driver(config, pulse), n_in, config.input_bits, mode=mode)
    adcs = replicate(adc.conversion(_adc(config)), n_out)
    items = {"array": array, "drivers": _drivers(drivers), "adc": adcs}
    return _serial_report(items, config.rows * config.cols)


def _drivers(drivers: Cost) -> Cost:
    """The drivers' energy and area; they pulse while the array reads or updates (no latency).

    No leakage: the drivers are power-gated between pulses (hwjax's assumption, forced by the
    table: ECRAM's 0.2 fJ per op over a 1.9 us OPU leaves the whole 1024 x 1024 tile 0.1 mW,
    while the DAC library's leakage law gives its 1024 8-bit column DACs about 15 mW).
    """
    return unchecked(drivers.energy, 0.0, drivers.area, 0.0)


def vmm_report(config: Config, mode: str = "ste") -> Report:
    """One 8-bit VMM by component: ``{"array", "drivers", "adc"}`` (serial).

    ``array`` is the crossbar read (its latency is the bit cycles), ``drivers`` the row
    drivers (switching during the read: no latency of their own), ``adc`` the column conversions.
    """
    return _matrix_vector(config, False, mode)


def vmm(config: Config, mode: str = "ste") -> Cost:
    """One vector-matrix multiply (inputs on the rows) of the tile.

    Returns:
        Cost: energy (J), latency (s), area (m²), leakage (W), ``ops = 2 rows x cols``.
        ReRAM default: about 11 fJ per MAC over 0.39 us.
    """
    return total(vmm_report(config, mode))


def mvm_report(config: Config, mode: str = "ste") -> Report:
    """One transposed multiply (inputs on the columns) by component, as :func:`vmm_report`."""
    return _matrix_vector(config, True, mode)


def mvm(config: Config, mode: str = "ste") -> Cost:
    """One matrix-vector multiply (the transposed product of backpropagation); as :func:`vmm`."""
    return total(mvm_report(config, mode))


def opu_report(config: Config, mode: str = "ste") -> Report:
    """One outer-product update by component: ``{"array", "drivers"}`` (serial).

    Rows: ``input_bits`` 1-bit pulse-width cycles; columns: ``column_bits``-bit amplitudes held
    for each row pulse; one update pulse per cycle (the device's update pulse and duration).
    """
    relax.check_mode(mode)
    dev = device(config)
    slot = dev.pulse_update_latency
    array = crossbar.opa(
        _crossbar(config), config.input_bits, config.column_bits, config.row_activity, mode=mode
    )
    row_dac = _driver(config, slot)
    col_dac = dac.DAC(config.column_bits, sample_rate=1.0 / slot, tech=config.tech)
    drivers = dac.outer_product_update(
        row_dac, col_dac, config.rows, config.cols, config.input_bits, slot_time=slot, mode=mode
    )
    items = {"array": array, "drivers": _drivers(drivers)}
    return _serial_report(items, config.rows * config.cols)


def opu(config: Config, mode: str = "ste") -> Cost:
    """One outer-product (rank-1) weight update of every cell.

    Returns:
        Cost with ``ops = 2 rows x cols`` (2 per cell update). ReRAM default: about 2.2 fJ per
        update over 0.51 us.
    """
    return total(opu_report(config, mode))


def chip(config: Config, mode: str = "ste") -> Report:
    """The tile running VMMs back to back, by component.

    ``Report({"vmm": vmm_report, "update_drivers": Cost}, "parallel")``: the second entry is the
    area of the OPU's row and column drivers (idle during a VMM). ``total(chip(c)).power`` is
    the tile's power at full activity (W) and ``.area`` its area (m²); the entries break the
    energy down (the drivers have no latency of their own, so read their share from ``energy``).
    """
    update = opu_report(config, mode)["drivers"]
    idle = unchecked(0.0, 0.0, update.area, 0.0)
    return Report({"vmm": vmm_report(config, mode), "update_drivers": idle}, compose="parallel")


def peak(config: Config, mode: str = "ste") -> Cost:
    """The tile doing VMMs back to back: one VMM's Cost."""
    return vmm(config, mode)


# ---------------------------------------------------------------------------------------------
# SRAM baseline


def _sram(config: SramConfig, width_bits) -> memory.Memory:
    capacity = config.rows * config.cols * config.weight_bits / 8.0
    return memory.Memory(capacity, width_bits, tech=config.tech)


def _sram_macs(config: SramConfig, count) -> Cost:
    """``count`` MACs on ``lanes`` units, pipelined with the reads (so no latency of their own)."""
    unit = digital.ArithmeticUnit(jnp.maximum(config.weight_bits, config.input_bits), tech=config.tech)
    one = digital.mac(unit)
    return unchecked(one.energy * count, 0.0, one.area * config.lanes)


def _sram_items(config: SramConfig, mode: str) -> dict[str, dict[str, Cost]]:
    """Every kernel's items, sharing what the kernels share (the row reads and the MACs)."""
    relax.check_mode(mode)
    bits = config.rows * config.cols * config.weight_bits
    macs = _sram_macs(config, config.rows * config.cols)
    rows_port = _sram(config, config.lanes * config.weight_bits)
    # The transposed port delivers one bit of each of ``lanes`` weights per access.
    columns_port = _sram(config, config.lanes)
    reads = memory.access(rows_port, bits, "read", mode)
    writes = _strip_leakage(memory.access(rows_port, bits, "write", mode))
    return {
        "vmm": {"read": reads, "mac": macs},
        "mvm": {"read": memory.access(columns_port, bits, "read", mode), "mac": macs},
        "opu": {"read": reads, "mac": macs, "write": writes},
    }


def _sram_kernel(config: SramConfig, kernel: str, mode: str) -> Report:
    validate.check_choice("kernel", kernel, KERNELS)
    return _serial_report(_sram_items(config, mode)[kernel], config.rows * config.cols)


def _strip_leakage(cost: Cost) -> Cost:
    """The same memory accessed again: its area and leakage are already counted."""
    return unchecked(cost.energy, cost.latency, 0.0, 0.0)


def sram_report(config: SramConfig, kernel: str = "vmm", mode: str = "ste") -> Report:
    """One kernel (``"vmm"``, ``"mvm"`` or ``"opu"``) on the SRAM tile: ``{"read", "mac"[, "write"]}``."""
    return _sram_kernel(config, kernel, mode)


def sram_vmm(config: SramConfig, mode: str = "ste") -> Cost:
    """VMM on the SRAM tile; ``ops = 2 rows x cols`` (default: about 2.5 pJ per MAC, 3.85 us)."""
    return total(_sram_kernel(config, "vmm", mode))


def sram_mvm(config: SramConfig, mode: str = "ste") -> Cost:
    """Transposed MVM on the SRAM tile (through the transposable port: 8x the accesses)."""
    return total(_sram_kernel(config, "mvm", mode))


def sram_opu(config: SramConfig, mode: str = "ste") -> Cost:
    """Outer-product update on the SRAM tile: read, multiply-add and write every weight."""
    return total(_sram_kernel(config, "opu", mode))


def sram_baseline(config: Config) -> SramConfig:
    """The SRAM tile holding the analog tile's matrix at its precision and node."""
    return SramConfig(config.rows, config.cols, SANDIA_BITS, config.input_bits, tech=config.tech)


# ---------------------------------------------------------------------------------------------
# Digital ReRAM baseline and the Marinella comparison


def _digital_crossbar(config: Config) -> crossbar.Crossbar:
    """Binary TaOx cells, ``8`` per weight along each row."""
    return crossbar.Crossbar(config.rows, config.cols * SANDIA_BITS, 1.0, DIGITAL_RERAM, tech=config.tech)


def _sense(config: Config, cells) -> Cost:
    """``cells`` sense decisions by comparators (1-bit flash ADCs) read once per row read."""
    comparator = adc.ADC(1.0, sample_rate=1.0 / DIGITAL_RERAM.read_latency, tech=config.tech, kind="flash")
    one = adc.conversion(comparator)
    # One comparator per column of the array; each row read uses all of them once.
    per_column = config.cols * SANDIA_BITS
    return unchecked(one.energy * cells, 0.0, one.area * per_column, one.leakage * per_column)


def _digital_reram_items(config: Config, mode: str) -> dict[str, dict[str, Cost]]:
    """Every kernel's items on the digital ReRAM block, the shared reads computed once."""
    relax.check_mode(mode)
    xb = _digital_crossbar(config)
    macs = config.rows * config.cols
    read = {
        "read": crossbar.read(xb, mode=mode),
        "sense": _sense(config, macs * SANDIA_BITS),
        "mac": _sram_macs(sram_baseline(config), macs),
    }
    write = {"write": _strip_area(crossbar.write(xb, mode=mode))}
    return {"vmm": read, "mvm": read, "opu": {**read, **write}}


def digital_reram_report(config: Config, kernel: str = "vmm", mode: str = "ste") -> Report:
    """One kernel on the digital ReRAM block: ``{"read", "sense", "mac"[, "write"]}`` (serial)."""
    validate.check_choice("kernel", kernel, KERNELS)
    return _serial_report(_digital_reram_items(config, mode)[kernel], config.rows * config.cols)


def _strip_area(cost: Cost) -> Cost:
    return unchecked(cost.energy, cost.latency, 0.0, cost.leakage)


def digital_reram(config: Config, kernel: str = "vmm", mode: str = "ste") -> Cost:
    """One kernel on the digital ReRAM block (Marinella's baseline); ``ops = 2 rows x cols``."""
    return total(digital_reram_report(config, kernel, mode))


def _analog_kernels(config: Config, mode: str) -> Report:
    return Report(
        {"vmm": vmm(config, mode), "mvm": mvm(config, mode), "opu": opu(config, mode)}, compose="serial"
    )


def _step(items: dict[str, dict[str, Cost]], macs) -> Report:
    """A training step: the three kernels in series, each the total of its items."""
    kernels = {kernel: total(_serial_report(items[kernel], macs)) for kernel in KERNELS}
    return Report(kernels, compose="serial")


def marinella(config: Config | None = None, mode: str = "ste") -> Report:
    """One training step (VMM, MVM, OPU in series) on the three blocks of Marinella et al.

    Args:
        config: the analog tile (default: the ReRAM tile, :class:`Config`).
        mode: :mod:`hwjax.relax` mode for the counts.

    Returns:
        ``Report({"analog": ..., "digital_reram": ..., "sram": ...}, "parallel")``, each a
        serial Report of the three kernels' Costs.
    """
    config = Config() if config is None else config
    sram = sram_baseline(config)
    macs = config.rows * config.cols
    return Report(
        {
            "analog": _analog_kernels(config, mode),
            "digital_reram": _step(_digital_reram_items(config, mode), macs),
            "sram": _step(_sram_items(sram, mode), macs),
        },
        compose="parallel",
    )


def advantage(report: Report) -> dict[str, dict[str, Any]]:
    """Energy (leakage included) and latency of each baseline over the analog tile.

    Args:
        report: a :func:`marinella` Report.

    Returns:
        ``{"digital_reram": {"energy": x, "latency": y}, "sram": {...}}`` (dimensionless arrays).
    """
    analog = total(report["analog"])
    ratios = {}
    for name in ("digital_reram", "sram"):
        other = total(report[name])
        ratios[name] = {
            "energy": other.total_energy / analog.total_energy,
            "latency": other.latency / analog.latency,
        }
    return ratios


def energy_per_sandia_op(cost: Cost):
    """Energy (leakage included) per Sandia op, J: per MAC of a VMM/MVM, per cell update of an OPU.

    ``2 x hwjax.energy_per_op(cost)`` (hwjax counts 2 ops per MAC; the Sandia table counts 1).
    """
    return 2.0 * energy_per_op(cost)


def energy_per_mac(config: Config | None = None, mode: str = "ste"):
    """Marinella's energy per MAC of the analog ReRAM tile, J (the VMM's)."""
    return energy_per_sandia_op(vmm(Config() if config is None else config, mode))
