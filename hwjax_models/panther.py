"""PANTHER: the ReRAM training accelerator of the dissertation's chapter 5, built from hwjax
components on PUMA's node (section 5.5.1: "similar to PUMA's ... the key distinction is the MCU").

**Matrix Computation Unit** (MCU, section 5.4.1, Fig. 5.5). A ``dim x dim`` weight block of
``weight_bits`` (32-bit fixed point, section 5.4.1) is stored over ``S = len(slice_bits)``
crossbars (heterogeneous slicing, section 5.3.4; default 44466555 MSB first: 39 bits in 8 slices,
``mapping.ArrayTarget(weight_bits=39, slice_bits=...)``). Slice ``j`` (counted from the LSB)
holds the ``p = weight_bits / S`` value bits at offset ``j p`` plus its carry bits (Fig. 5.3(d)).

* **MVM / MᵀVM** (:func:`mcu_mvm`, :func:`mcu_mtvm`): PUMA's MVMU pipeline (section 3.3.2, see
  :mod:`hwjax_models.puma`): 16-bit inputs streamed one bit per stage through 1-bit row DACs,
  every slice's columns sampled and converted by one ADC per crossbar, shift-and-add, XbarIn and
  XbarOut; stage ``max(100 ns crossbar, dim / f_clk)``, latency ``(16 + 2) x 128 ns``. ADCs are
  SARs from the survey law (:mod:`hwjax.components.adc`, 1 GHz, section 5.6.1: "8-12 bits ... at
  1 GHz obtained from the ADC survey") of ``log2(dim) + b_j - 1`` bits for a ``b_j``-bit slice
  (ISAAC's encoding saves one bit: 8 bits for 2-bit cells, 10-12 for PANTHER's slices).
  Newton's optimization (section 5.6.1, [206]) skips conversions that cannot reach the output:
  a conversion of input bit ``i`` on slice ``j`` spans significance ``[i + j p, i + j p + a_j)``
  and is needed only when that reaches the output LSB ``cut = weight_bits - weight_int_bits``
  (16-bit 4.12 inputs and outputs as PUMA, figures.md 1.1; 32-bit 4.28 weights: cut 28).
  The MᵀVM drives the columns and senses the rows (multiplexers cost nothing, figures.md 1.6).
* **OPA** (:func:`mcu_opa`, section 5.3.1): rows streamed one bit per cycle as pulse widths
  (1-bit row drivers), the shifted column operand cut into ``p``-bit chunks held by ``p``-bit
  capacitive DACs (:func:`hwjax.components.dac.outer_product_update`, ``"brahms"`` calibration)
  on every slice's columns; each crossbar updates in place (:func:`hwjax.components.crossbar.opa`,
  the PUMA device's update pulse); XbarIn and XbarOut are read once and XbarOut shifts its
  ``dim`` words every cycle. 16 cycles of 16 ns: 256 ns.
* **Serial read / write** (:func:`serial_read`, :func:`serial_write`): row-by-row memory access
  of every slice (all slices in parallel). A write is ``write_iterations`` program-verify
  iterations per row, whatever the cell's bits: section 5.1 ("program-verify ... requires tens
  of pulses" [200]); hwjax's default 10 is the low end of "tens" (assumption). A slice
  crossbar's own costs (MVM, OPA, read, write, area) therefore do not depend on its bits: slices
  differ in their ADCs and in Newton's skipped conversions only.
* **Carry resolution step** (:func:`carry_resolution`, section 5.3.2): read every slice, add the
  carries into the next slice on the VFU (one add per cell and slice), write every slice back;
  once every ``carry_interval`` weight updates (K = 1024, section 5.6.3).

**Variants** (section 5.4): 1 keeps one crossbar copy (MVM, MᵀVM and OPA serialized); 2 keeps
two copies (MVM and MᵀVM in parallel; an OPA updates both copies) and, for mini-batch SGD, saves
the OPA operands of the whole batch in the tile's shared memory until the batch ends; 3 adds a
third copy on which OPAs run eagerly and commits it to the other two with serial reads and
writes at the end of each batch (section 5.5.2).

**Training** (:func:`training_step`, Tables 5.1-5.2): per example and layer, one MVM per input
vector and MCU (forward), one MᵀVM (backward; none for the first layer, which needs no layer
gradient), one OPA (weight gradient and update; a convolution does one per output position,
section 5.5.4). Shared-memory traffic of the layer inputs, outputs and errors and the VFU's
activation work are charged to every design alike. The models run on :mod:`hwjax.system`: the
network is read once as arrays over its layers, mapped (:func:`hwjax.system.map_layers`) and
placed (:func:`hwjax.system.place`: MCUs pack into shared cores) with no Python loop over
layers; Reports have a row per layer and a last ``idle`` row (the allocated cores' empty MCU
slots), every Cost with leakage 0, so that the leaf rows add up. Per-layer knobs
(:class:`hwjax.system.LayerKnobs`): block ``occupancy`` (empty crossbar blocks are neither
programmed, read, updated nor allocated) and heterogeneous ``slice_bits`` per layer (section
5.3.4). Config leaves of shape ``(n,)`` give costs of shape ``(n,)`` (:func:`hwjax.system.batched`).

**Baselines** (:func:`baseline_step`, section 5.6.3): ``"digital"`` (Base_digital: weights in a
``dim x dim`` SRAM per MCU, 32-bit MACs sized to the analog MVM's latency as PUMA's digital MVMU,
section 3.8.4; OPA = read, MAC, write per weight), ``"mvm"`` (Base_mvm: ReRAM MVM/MᵀVM with 16
slices of 2 bits, OPA on CMOS MACs after a serial read of the crossbars, and a serial write
back once per weight update) and ``"opa_mvm"`` (Base_opa/mvm, PipeLayer: for convolutions the
weight gradient is computed with ReRAM MVMs after writing the errors into crossbars; other
layers as Base_mvm).

Calibration (``tests/models/test_panther.py``; ours vs published; per-operation rows 20%,
reductions within a factor 1.5 of the published range; MLP-L4 and VGG16 of Table 5.4):

=====================================================  ==============  ============  ======
quantity                                               published       ours          error
=====================================================  ==============  ============  ======
OPA, one MCU (section 5.7.3)                           11.37 nJ        10.41 nJ      -8.4%
ReRAM MVM, one MCU of Base_opa/mvm, 16 x 2 bits        35.10 nJ        34.67 nJ      -1.2%
ReRAM MVM, one PANTHER MCU, 44466555                   (35.10 nJ)      37.12 nJ      +5.7%
CMOS OPA, one MCU (5.7.3)                              37.28 nJ        36.03 nJ      -3.4%
MVM energy, 44466555 over 16 x 2 bits (5.6.3)          1.175           1.071         -8.9%
SGD reduction vs Base_digital, every layer (5.7.3)     7.01-8.02x      7.56-10.15x   in 1.5x
SGD reduction vs Base_mvm, FC layers (5.7.3)           31.03-54.21x    41.1-70.9x    in 1.5x
SGD reduction vs Base_mvm, conv layers (5.7.3)         1.47-31.56x     1.40-41.2x    in 1.5x
batch 64 reduction vs Base_mvm, FC layers (5.7.4)      1.61-2.16x      1.66-2.12x    in range
batch 64 reduction vs Base_mvm, conv layers (5.7.4)    1.18-1.63x      1.10-1.66x    in 1.5x
batch 1024 reduction vs Base_mvm, FC layers (5.7.4)    ~1.18x          1.14-1.26x    in 1.5x
carry resolution share of energy, K = 1024 (5.7.1)     <= 4.8%         <= 3.5%
=====================================================  ==============  ============  ======

The first layer of each network (no MᵀVM, Table 5.1) has the largest reductions (10.15x, 70.9x).
The MVM ratio is low because the survey SAR law grows more slowly from 8 to 10-12 bits than the
dissertation's ADCs did, while 8 slices halve the crossbar and shift-add work of 16. Fig. 5.14:
variant 2 has lower energy, time and area than variant 3 at small batches, variant 3 lower at
large ones (MLP-L4: area crossover near batch 70, energy near 300; at 16k the energies differ
by 15%). Gaps: the node (:func:`chip`) is 222 mm² and 69 W for variant 1 (324 mm², 111 W for
variant 2) against Table 5.3's 117 mm² and 105 W: the survey SARs of 10-12 bits and the 1024
four-bit column DACs of an MCU are large; Base_opa/mvm's PipeLayer OPA, which writes every
example's errors into crossbars, costs 0.9-9.7x PANTHER on convolutions at batch 64 (published
1.22-2.45x).

Not modelled: leakage (every energy is dynamic), network contention, traffic between nodes,
the functional effect of saturation (the accuracy side of sections 5.7.1-5.7.2).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp
import numpy as np

from hwjax import Knob, mapping, relax, system, validate
from hwjax._pytree import pytree_dataclass, static_field
from hwjax.components import adc, crossbar, dac, digital, memory
from hwjax.cost import COST_FIELDS, Cost, Report, replicate, total, unchecked
from hwjax.devices import device as device_preset
from hwjax.tech import DEFAULT_TECH, Tech, check_tech
from hwjax_models import puma

#: Crossbar read cycle (PUMA simulator, figures.md 1.3: 100 ns).
CROSSBAR_CYCLE = puma.CROSSBAR_CYCLE
#: Heterogeneous slicing used throughout section 5.7 (section 5.6.3: 44466555, MSB first).
DEFAULT_SLICE_BITS = (4.0, 4.0, 4.0, 6.0, 6.0, 5.0, 5.0, 5.0)
#: Base_mvm and Base_opa/mvm: 32-bit weights on 16 slices of 2 bits (section 5.6.3).
BASE_SLICE_BITS = (2.0,) * 16
#: Base_opa/mvm writes 16-bit errors into crossbars as 8 slices of 2 bits (assumption).
ERROR_SLICE_BITS = (2.0,) * 8
#: Tile shared memory (PUMA's 64 KB eDRAM of 256-bit rows, Table 3.5; section 5.5.1).
SHARED_MEMORY_BYTES = puma.TILE_MEMORY_BYTES
SHARED_MEMORY_WIDTH = puma.TILE_MEMORY_WIDTH
#: Pipeline stages of an MVM beyond the input bits (fill and drain, as PUMA).
PIPELINE_EXTRA_STAGES = puma.PIPELINE_EXTRA_STAGES
VARIANTS = (1, 2, 3)
ALGORITHMS = ("sgd", "minibatch")
BASELINES = ("digital", "mvm", "opa_mvm")
#: Most bits the PUMA device holds per cell (devices.PUMA.bits_per_cell).
_MAX_SLICE_BITS = 6.0

_RANGES = {
    "mcu_dim": (8.0, 1024.0),
    "mcus_per_core": (1.0, 64.0),
    "cores_per_tile": (1.0, 256.0),
    "tiles_per_node": (4.0, 4096.0),
    "weight_bits": (1.0, 64.0),
    "input_bits": (1.0, 64.0),
    "opa_column_bits": (1.0, 8.0),
    "carry_interval": (1.0, 1e9),
    "write_iterations": (1.0, 1000.0),
    "weight_int_bits": (0.0, 64.0),
    "vfu_width": (1.0, 256.0),
    "clock_hz": (1e7, 1e10),
}


@pytree_dataclass
class Config:
    """A PANTHER node (a pytree). Defaults are the configuration of sections 5.6.3 and 5.7.

    Attributes:
        mcu_dim: crossbar rows = columns, in [8, 1024] (128).
        mcus_per_core, cores_per_tile, tiles_per_node: hierarchy (2, 8, 138; section 5.6.3).
        weight_bits: weight value precision, bits, in [1, 64] (32, section 5.4.1); at most the
            bits stored, ``sum(slice_bits)`` (the rest are carry bits).
        input_bits: input/output precision, bits, in [1, 64] (16).
        opa_column_bits: column DAC resolution ``p`` of the OPA, bits, in [1, 8] (4, 5.3.3).
        carry_interval: weight updates between carry resolution steps K, in [1, 1e9] (1024).
        write_iterations: program-verify iterations of a serial write, in [1, 1000] (10).
        weight_int_bits: integer bits of the weights, in [0, weight_bits] (4, as PUMA's 4.12
            inputs); sets Newton's output cut ``weight_bits - weight_int_bits``.
        vfu_width: VFU lanes per core doing CMOS work (carries, Base_mvm's OPA), in [1, 256] (4:
            the simulator's "4 VFUs", figures.md 1.3).
        clock_hz: clock, Hz, in [1e7, 1e10] (1 GHz); ADCs convert one column per clock.
        tech: technology (32 nm, 0.9 V).
        variant: MCU variant 1, 2 or 3 (static; section 5.4).
        slice_bits: bits stored per slice, MSB first, each in (0, 6] (static; 44466555).
        newton_adc: skip conversions below the output LSB (static; section 5.6.1, [206]).

    Concrete bad values raise ``ValueError`` naming the field and range; traced ones clamp.
    """

    mcu_dim: Knob = 128.0
    mcus_per_core: Knob = 2.0
    cores_per_tile: Knob = 8.0
    tiles_per_node: Knob = 138.0
    weight_bits: Knob = 32.0
    input_bits: Knob = 16.0
    opa_column_bits: Knob = 4.0
    carry_interval: Knob = 1024.0
    write_iterations: Knob = 10.0
    weight_int_bits: Knob = 4.0
    vfu_width: Knob = 4.0
    clock_hz: Knob = 1e9
    tech: Tech = DEFAULT_TECH  # Table 5.3: 32 nm, 1 GHz; PUMA's 0.9 V
    variant: int = static_field(1)
    slice_bits: tuple = static_field(DEFAULT_SLICE_BITS)
    newton_adc: bool = static_field(True)

    def __post_init__(self):
        check_tech(self.tech)
        validate.check_choice("variant", self.variant, VARIANTS)
        validate.check_choice("newton_adc", self.newton_adc, (True, False))
        slices = mapping.ArrayTarget(
            weight_bits=sum(self.slice_bits), bits_per_cell=1.0, slice_bits=self.slice_bits
        ).slice_bits
        validate.check_range("slice_bits", np.asarray(slices), 0.0, _MAX_SLICE_BITS, low_open=True)
        object.__setattr__(self, "slice_bits", slices)
        validate.check_fields(self, {**_RANGES, "weight_bits": (_RANGES["weight_bits"][0], sum(slices))})
        if not validate.is_traced((self.weight_int_bits, self.weight_bits)) and np.any(
            np.asarray(self.weight_int_bits) > np.asarray(self.weight_bits)
        ):
            raise ValueError(
                f"weight_int_bits={self.weight_int_bits!r} is outside the allowed range "
                f"[0, weight_bits={self.weight_bits!r}]"
            )


def base_config(config: Config) -> Config:
    """The same node with Base_mvm's weights: 16 slices of 2 bits, no carry bits, variant 1."""
    return dataclasses.replace(config, slice_bits=BASE_SLICE_BITS, variant=1)


# ---------------------------------------------------------------------------------------------
# Parts of one MCU


def array_target(config: Config) -> mapping.ArrayTarget:
    """One crossbar copy of an MCU as a mapping target (heterogeneous slices, 1-bit streaming)."""
    return mapping.ArrayTarget(
        rows=config.mcu_dim,
        cols=config.mcu_dim,
        bits_per_cell=max(config.slice_bits),
        weight_bits=sum(config.slice_bits),
        input_bits=config.input_bits,
        dac_bits=1.0,
        slice_bits=config.slice_bits,
    )


def _cycle(config: Config):
    return 1.0 / config.clock_hz


def _lsb_first(config: Config) -> tuple[float, ...]:
    return tuple(reversed(config.slice_bits))


@dataclasses.dataclass(frozen=True)
class _Slices:
    """The weight slices of an MCU, LSB first: each a Python float (the Config's slicing) or an
    ``(L,)`` array (per-layer slicing, :class:`hwjax.system.LayerKnobs`; 0 for an unused slice),
    and ``count`` the slices used (a float or ``(L,)``)."""

    bits: tuple
    count: Any


def _config_slices(config: Config) -> _Slices:
    slices = _lsb_first(config)
    return _Slices(slices, float(len(slices)))


def _used(bits):
    """1 where a slice holds bits, else 0 (exact; the Config's slices always do)."""
    return 1.0 if isinstance(bits, float) else jnp.where(bits > 0.0, 1.0, 0.0)


def _active(bits):
    """A slice's bits with unused slices at 1 bit (their units are masked out by :func:`_used`)."""
    return bits if isinstance(bits, float) else jnp.where(bits > 0.0, bits, 1.0)


def _crossbar(config: Config) -> crossbar.Crossbar:
    """A slice crossbar: PUMA's device with ``write_iterations`` program-verify iterations per
    write. Its costs do not depend on the bits its cells hold (array energies are per cell; a
    write takes ``write_iterations`` iterations at any level count, section 5.1), so one crossbar
    stands for every slice, and slices differ only in their ADCs (see the module docstring)."""
    base = device_preset("puma")
    device = dataclasses.replace(base, write_pulses=config.write_iterations)
    dim = config.mcu_dim
    return crossbar.Crossbar(
        dim, dim, base.bits_per_cell, device, cycle_time=CROSSBAR_CYCLE, tech=config.tech
    )


def adc_bits(config: Config, bits):
    """ADC resolution for a ``bits``-bit slice, ``log2(dim) + bits - 1`` (ISAAC's encoding)."""
    return jnp.log2(config.mcu_dim) + bits - 1.0


def _adc(config: Config, bits) -> adc.ADC:
    return adc.ADC(adc_bits(config, bits), sample_rate=config.clock_hz, tech=config.tech)


def _xbar_in(config: Config) -> memory.Memory:
    return memory.Memory(config.mcu_dim * config.input_bits / 8.0, config.mcu_dim, tech=config.tech)


def _xbar_out(config: Config) -> memory.Memory:
    return memory.Memory(config.mcu_dim * config.input_bits / 8.0, config.input_bits, tech=config.tech)


def _shared_memory(config: Config) -> memory.Memory:
    return memory.Memory(SHARED_MEMORY_BYTES, SHARED_MEMORY_WIDTH, tech=config.tech, kind="edram")


def _dynamic(cost: Cost) -> Cost:
    """Energy, area and leakage of ``cost``; its latency is the caller's."""
    return Cost(cost.energy, 0.0, cost.area, cost.leakage)


def _needed(config: Config, slices: _Slices, mode: str) -> list:
    """:func:`needed_conversions` as one value per slice (LSB first; 0 for an unused slice):
    scalar operations for the Config's slicing, so that configurations with different slice
    counts share their compiled primitives. A slice's value offset counts the used slices below
    it."""
    stages = mapping.input_cycles(array_target(config), mode)
    used = [_used(bits) for bits in slices.bits]
    if not config.newton_adc:
        return [u * stages for u in used]
    p = config.weight_bits / slices.count
    cut = config.weight_bits - config.weight_int_bits
    needed, rank = [], 0.0
    for bits, u in zip(slices.bits, used, strict=True):
        first = cut - rank * p - adc_bits(config, _active(bits)) + 1.0
        needed.append(u * relax.clip(stages - relax.maximum(first, 0.0, mode=mode), 0.0, stages, mode=mode))
        rank = rank + u
    return needed


def needed_conversions(config: Config, mode: str = "ste"):
    """Input bits (of ``input_bits``) whose conversion each slice needs, LSB slice first, ``(S,)``.

    With ``newton_adc`` a conversion of input bit ``i`` on slice ``j`` (value offset ``j p``,
    ``p = weight_bits / S``) is skipped when its top bit ``i + j p + a_j`` stays at or below
    Newton's cut ``weight_bits - weight_int_bits``: input bits ``i < cut - j p - a_j + 1``.
    """
    relax.check_mode(mode)
    return jnp.stack(_needed(config, _config_slices(config), mode))


def _timing(config: Config, mode: str):
    """(stages, stage time, MVM latency), PUMA's pipeline (``max(100 ns, dim / f)`` a stage)."""
    stages = mapping.input_cycles(array_target(config), mode)
    conversions = config.mcu_dim / config.clock_hz
    stage = relax.maximum(CROSSBAR_CYCLE, conversions, mode=mode)
    return stages, stage, (stages + PIPELINE_EXTRA_STAGES) * stage


def mvm_latency(config: Config, mode: str = "ste"):
    """One MVM (or MᵀVM) on one MCU, s: ``(input_bits + 2) x stage`` (2304 ns)."""
    relax.check_mode(mode)
    return _timing(config, mode)[2]


def _arrays(count, cost: Cost) -> Cost:
    """``count`` slice crossbars doing ``cost`` each (energy and area; no latency)."""
    return Cost(count * cost.energy, 0.0, count * cost.area)


def _matrix_vector(config: Config, transposed: bool, mode: str, slices: _Slices) -> Report:
    dim, cycle = config.mcu_dim, _cycle(config)
    count = slices.count
    stages, stage, _ = _timing(config, mode)
    action = crossbar.mtvm if transposed else crossbar.mvm
    array = action(_crossbar(config), config.input_bits, 1.0, mode=mode)
    needed = _needed(config, slices, mode)
    used = [_used(bits) for bits in slices.bits]
    conversions = [adc.conversion(_adc(config, _active(bits))) for bits in slices.bits]
    adc_energy = dim * sum(n * c.energy for n, c in zip(needed, conversions, strict=True))
    adc_area = sum(u * c.area for u, c in zip(used, conversions, strict=True))
    adc_leakage = sum(u * c.leakage for u, c in zip(used, conversions, strict=True))
    samples = dim * count * stages
    drivers = dac.drive_rows(dac.DAC(1.0, config.clock_hz, config.tech), dim, config.input_bits, stage, mode)
    snh = digital.sample_hold(digital.SampleHold(dim * count, config.tech, cycle), samples, mode)
    sna = digital.shift_add(digital.ShiftAdd(count, config.tech, cycle), dim * sum(needed), mode)
    xin = memory.access(_xbar_in(config), dim * stages, "read", mode)
    xout = memory.access(_xbar_out(config), dim * config.input_bits, "write", mode)
    parts = {
        "crossbars": _arrays(count, array),
        "dacs": _dynamic(drivers),
        "sample_hold": _dynamic(snh),
        "adcs": Cost(adc_energy, 0.0, adc_area, adc_leakage),
        "shift_add": _dynamic(sna),
        "xbar_in": _dynamic(xin),
        "xbar_out": _dynamic(xout),
    }
    return Report(parts, compose="parallel")


def mcu_parts(config: Config, op: str = "mvm", mode: str = "ste") -> Report:
    """Energy of one ``op`` ("mvm", "mtvm" or "opa") on one crossbar copy, by unit (latency 0)."""
    validate.check_choice("op", op, ("mvm", "mtvm", "opa"))
    relax.check_mode(mode)
    if op == "opa":
        return _opa_parts(config, mode, _config_slices(config))
    return _matrix_vector(config, op == "mtvm", mode, _config_slices(config))


def _as_action(parts: Report, latency, ops) -> Cost:
    units = total(parts)
    return Cost(units.energy, latency, units.area, units.leakage, ops)


def _mvm(config: Config, transposed: bool, mode: str, slices: _Slices) -> Cost:
    parts = _matrix_vector(config, transposed, mode, slices)
    return _as_action(parts, _timing(config, mode)[2], 2.0 * config.mcu_dim**2)


def mcu_mvm(config: Config, mode: str = "ste") -> Cost:
    """One ``input_bits``-bit MVM on one MCU copy (all slices).

    Returns:
        Cost: ``energy`` (J), ``latency`` :func:`mvm_latency` (s), the units' ``area`` (m²) and
        ``leakage`` (W), ``ops`` ``2 dim²``. Default: 37.1 nJ in 2304 ns.
    """
    relax.check_mode(mode)
    return _mvm(config, False, mode, _config_slices(config))


def mcu_mtvm(config: Config, mode: str = "ste") -> Cost:
    """One transposed MVM on one MCU copy (inputs on the columns); fields as :func:`mcu_mvm`."""
    relax.check_mode(mode)
    return _mvm(config, True, mode, _config_slices(config))


def _opa_parts(config: Config, mode: str, slices: _Slices) -> Report:
    dim = config.mcu_dim
    xbar = _crossbar(config)
    array = crossbar.opa(xbar, config.input_bits, config.opa_column_bits, mode=mode)
    slot = xbar.device.pulse_update_latency
    row_dac = dac.DAC(1.0, config.clock_hz, config.tech)
    col_dac = dac.DAC(config.opa_column_bits, config.clock_hz, config.tech, calibration="brahms")
    drivers = dac.outer_product_update(
        row_dac, col_dac, dim, dim, config.input_bits, slices.count, slot_time=slot, mode=mode
    )
    cycles = relax.ceil(config.input_bits, mode=mode)
    xin = memory.access(_xbar_in(config), dim * config.input_bits, "read", mode)
    xout = memory.access(_xbar_out(config), dim * config.input_bits, "read", mode)
    # The column operand shifts left by one bit every cycle (Fig. 5.3(b)): XbarOut rewrites its words.
    shift = memory.access(_xbar_out(config), dim * config.input_bits * cycles, "write", mode)
    parts = {
        "crossbars": _arrays(slices.count, array),
        "dacs": _dynamic(drivers),
        "xbar_in": _dynamic(xin),
        "xbar_out": _dynamic(xout) + _dynamic(shift),
    }
    return Report(parts, compose="parallel")


def opa_latency(config: Config, mode: str = "ste"):
    """One OPA, s: ``input_bits`` cycles of one update pulse (256 ns)."""
    relax.check_mode(mode)
    return crossbar.opa(_crossbar(config), config.input_bits, config.opa_column_bits, mode=mode).latency


def _opa(config: Config, mode: str, slices: _Slices) -> Cost:
    latency = crossbar.opa(_crossbar(config), config.input_bits, config.opa_column_bits, mode=mode).latency
    return _as_action(_opa_parts(config, mode, slices), latency, 2.0 * config.mcu_dim**2)


def mcu_opa(config: Config, mode: str = "ste") -> Cost:
    """One outer-product accumulate on one MCU copy (all slices; section 5.3.1).

    Returns:
        Cost: ``energy`` (J), ``latency`` (s), ``area`` (m²) and ``leakage`` (W) of the OPA
        drivers and arrays, ``ops`` ``2 dim²``. Default: 10.4 nJ in 256 ns (11.37 nJ, 5.7.3).
    """
    relax.check_mode(mode)
    return _opa(config, mode, _config_slices(config))


def _serial(config: Config, action, mode: str, slices: _Slices) -> Cost:
    """``action`` (crossbar read or write) on every slice of one MCU copy, slices in parallel."""
    one = action(_crossbar(config), mode=mode)
    return Cost(slices.count * one.energy, one.latency, slices.count * one.area)


def serial_read(config: Config, mode: str = "ste") -> Cost:
    """Read every slice of one MCU copy row by row (slices in parallel)."""
    relax.check_mode(mode)
    return _serial(config, crossbar.read, mode, _config_slices(config))


def serial_write(config: Config, mode: str = "ste") -> Cost:
    """Program-verify every slice of one MCU copy row by row (slices in parallel)."""
    relax.check_mode(mode)
    return _serial(config, crossbar.write, mode, _config_slices(config))


def _vfu(config: Config) -> digital.VFU:
    return digital.VFU(config.vfu_width, tech=config.tech, cycle=_cycle(config))


def _carry(config: Config, read: Cost, write: Cost, count, mode: str) -> Cost:
    adds = digital.vfu_op(_vfu(config), config.mcu_dim**2 * count, "add", mode)
    return unchecked(read.energy + adds.energy + write.energy, read.latency + adds.latency + write.latency)


def carry_resolution(config: Config, mode: str = "ste") -> Cost:
    """One carry resolution step on one MCU copy: serial read, a VFU add per cell and slice,
    serial write (section 5.3.2)."""
    relax.check_mode(mode)
    slices = _config_slices(config)
    read = _serial(config, crossbar.read, mode, slices)
    write = _serial(config, crossbar.write, mode, slices)
    return _carry(config, read, write, slices.count, mode)


# ---------------------------------------------------------------------------------------------
# CMOS matrix operations of the baselines


def cmos_opa(config: Config, mode: str = "ste") -> Cost:
    """Base_mvm's OPA of one MCU on the VFU: ``dim²`` MACs into ``weight_bits`` weights
    (Horowitz, :func:`hwjax.components.digital.mac`), ``vfu_width`` at a time. Default 36.0 nJ
    (37.28 nJ, section 5.7.3)."""
    relax.check_mode(mode)
    unit = digital.ArithmeticUnit(config.weight_bits, tech=config.tech, cycle=_cycle(config))
    cells = config.mcu_dim**2
    latency = relax.ceil(cells / config.vfu_width, mode=mode) * _cycle(config)
    return unchecked(cells * digital.mac(unit).energy, latency, 0.0, 0.0, 2.0 * cells)


def _digital_mcu(config: Config, mode: str):
    """(weight SRAM, MAC, MACs per cycle) of Base_digital's MCU (PUMA's digital MVMU, 3.8.4)."""
    cells = config.mcu_dim**2
    lanes = relax.ceil(cells / (mvm_latency(config, mode) * config.clock_hz), mode=mode)
    sram = memory.Memory(cells * config.weight_bits / 8.0, lanes * config.weight_bits, tech=config.tech)
    unit = digital.ArithmeticUnit(config.weight_bits, tech=config.tech, cycle=_cycle(config))
    return sram, digital.mac(unit), lanes


def digital_mvm(config: Config, mode: str = "ste") -> Cost:
    """Base_digital's MVM (or MᵀVM) of one MCU: read ``dim²`` weights, ``dim²`` MACs."""
    sram, mac, lanes = _digital_mcu(config, mode)
    cells = config.mcu_dim**2
    reads = memory.access(sram, cells * config.weight_bits, "read", mode)
    latency = relax.ceil(cells / lanes, mode=mode) * _cycle(config)
    return unchecked(
        reads.energy + cells * mac.energy, latency, reads.area + lanes * mac.area, reads.leakage, 2.0 * cells
    )


def digital_opa(config: Config, mode: str = "ste") -> Cost:
    """Base_digital's OPA of one MCU: read, MAC and write back every weight."""
    sram, mac, lanes = _digital_mcu(config, mode)
    cells = config.mcu_dim**2
    bits = cells * config.weight_bits
    reads = memory.access(sram, bits, "read", mode)
    writes = memory.access(sram, bits, "write", mode)
    latency = relax.ceil(cells / lanes, mode=mode) * _cycle(config)
    energy = reads.energy + writes.energy + cells * mac.energy
    return unchecked(energy, latency, reads.area + lanes * mac.area, reads.leakage, 2.0 * cells)


# ---------------------------------------------------------------------------------------------
# Chip and peak


def copies(config: Config) -> int:
    """Crossbar copies per MCU: the variant number (section 5.4)."""
    return int(config.variant)


def _mcu_area(config: Config, mvm: Cost, opa: Cost, slices: _Slices):
    """Area of one MCU, m²: every copy's MVM units (``mvm``, :func:`mcu_mvm`) and the OPA's
    drivers and registers (``opa``, :func:`mcu_opa`, less the arrays the MVM units already
    count)."""
    arrays = slices.count * crossbar.area(_crossbar(config))
    return float(copies(config)) * mvm.area + opa.area - arrays


def mcu(config: Config, mode: str = "ste") -> Cost:
    """One MCU at full activity over one MVM latency: MVMs back to back (variant 1), MVM and
    MᵀVM in parallel (2), plus OPAs on the third copy (3). Area: every copy's arrays, ADCs,
    S+H, S+A and drivers (the ``p``-bit column DACs once), XbarIn and XbarOut."""
    relax.check_mode(mode)
    slices = _config_slices(config)
    latency = mvm_latency(config, mode)
    mvm = total(_matrix_vector(config, False, mode, slices))
    mtvm = total(_matrix_vector(config, True, mode, slices))
    opa = total(_opa_parts(config, mode, slices))
    energy = mvm.energy
    if config.variant >= 2:
        energy = energy + mtvm.energy
    if config.variant == 3:
        energy = energy + opa.energy * latency / opa_latency(config, mode)
    n = float(copies(config))
    area = _mcu_area(config, mvm, opa, slices)
    ops = (2.0 if config.variant >= 2 else 1.0) * 2.0 * config.mcu_dim**2
    return Cost(energy, latency, area, n * mvm.leakage + opa.leakage, ops)


def mcus_per_node(config: Config):
    """MCUs in a node (2208 for the default: 138 tiles x 8 cores x 2 MCUs, section 5.6.3)."""
    return config.tiles_per_node * config.cores_per_tile * config.mcus_per_core


def _puma_config(config: Config) -> puma.Config:
    return puma.Config(
        mvmu_dim=config.mcu_dim,
        mvmus_per_core=config.mcus_per_core,
        cores_per_tile=config.cores_per_tile,
        tiles_per_node=config.tiles_per_node,
        vfu_width=config.vfu_width,
        clock_hz=config.clock_hz,
        tech=config.tech,
    )


def chip(config: Config, mode: str = "ste") -> Report:
    """The node at full activity, one clock cycle per entry: PUMA's node (section 5.5.1) with
    every MVMU replaced by an MCU. ``Report({"node": Report({"puma_without_mvmus", "mcus"},
    "parallel")}, "parallel")``; ``total(...).power`` is peak power (W), ``.area`` area (m²)."""
    pc = _puma_config(config)
    node = total(puma.chip(pc, mode))
    mvmu = puma.mvmu_mvm(pc, mode)
    n = puma.mvmus_per_node(pc)
    cycle = _cycle(config)
    per_mvmu_energy = mvmu.energy * cycle / mvmu.latency
    rest = unchecked(
        node.energy - n * per_mvmu_energy, cycle, node.area - n * mvmu.area, node.leakage - n * mvmu.leakage
    )
    one = mcu(config, mode)
    mcu_cycle = Cost(one.energy * cycle / one.latency, cycle, one.area, one.leakage)
    inner = Report(
        {"puma_without_mvmus": rest, "mcus": replicate(mcu_cycle, mcus_per_node(config))}, "parallel"
    )
    return Report({"node": inner}, compose="parallel")


def peak(config: Config, mode: str = "ste") -> Cost:
    """The node running every MCU at full activity (:func:`mcu`) over one MVM latency."""
    node = total(chip(config, mode))
    one = mcu(config, mode)
    return Cost(
        node.energy * one.latency / node.latency,
        one.latency,
        node.area,
        node.leakage,
        one.ops * mcus_per_node(config),
    )


# ---------------------------------------------------------------------------------------------
# Training

#: Per-layer knobs of :func:`training_step` and :func:`storage` (:class:`hwjax.system.LayerKnobs`).
LAYER_KNOBS = ("occupancy", "slice_bits")
#: Per-layer knobs of :func:`baseline_step` (the baselines' slicing is fixed, section 5.6.3).
BASELINE_LAYER_KNOBS = ("occupancy",)


def _table(workload) -> system.LayerTable:
    """The workload's :func:`hwjax.system.layer_table`, one matrix per layer at most."""
    table = system.layer_table(workload)
    per_layer = table.op_mask.sum(axis=1)
    if np.any(per_layer > 1):
        j = int(np.argmax(per_layer > 1))
        raise ValueError(
            f"layer {table.names[j]!r} has {int(per_layer[j])} matrices; PANTHER models one per layer"
        )
    return table


def _check_batch(batch):
    return validate.check_range("batch", batch, 1.0)


def _layer_slices(config: Config, knobs: system.LayerKnobs) -> _Slices:
    """The slices of every layer's MCUs: the Config's, or per layer ``knobs.slice_bits``
    ``(L, S)`` (MSB first, 0 for an unused slice; each in [0, 6], at least one slice per layer
    and at least ``weight_bits`` bits stored in all: concrete bad values raise, traced clamp)."""
    if knobs.slice_bits is None:
        return _config_slices(config)
    slice_bits = validate.check_range("layers.slice_bits", knobs.slice_bits, 0.0, _MAX_SLICE_BITS)
    if not validate.is_traced((slice_bits, config.weight_bits)):
        bits = np.asarray(slice_bits, float)
        if np.any(np.all(bits <= 0.0, axis=-1)):
            raise ValueError("layers.slice_bits gives a layer no slice; every layer needs at least one")
        stored = bits.sum(axis=-1)
        if np.any(stored < np.asarray(config.weight_bits, float) - 1e-9):
            raise ValueError(
                f"layers.slice_bits stores {stored.min():g} bits in a layer, fewer than "
                f"weight_bits={config.weight_bits!r}: the slices must hold the weight (carry bits included)"
            )
    slice_bits = jnp.asarray(slice_bits, float)
    count = jnp.maximum(system.slice_count(slice_bits), 1.0)
    return _Slices(tuple(reversed(jnp.unstack(slice_bits, axis=-1))), count)


@dataclasses.dataclass(frozen=True)
class _Units:
    """Unit costs of one configuration, each evaluated once (scalars, or ``(L,)`` under
    per-layer slicing)."""

    mvm: Cost
    mtvm: Cost
    opa: Cost
    read: Cost
    write: Cost
    carry: Cost
    mcu_area: Any  # one MCU, every copy (m²)
    word_store_load: Cost  # store + load of one word through the tile's shared memory
    vfu_element: Cost  # one VFU element (activation or its derivative)


def _units(config: Config, mode: str, slices: _Slices) -> _Units:
    sm = _shared_memory(config)
    row = SHARED_MEMORY_WIDTH
    words = row / config.input_bits
    store = memory.access(sm, row, "write", mode)
    load = memory.access(sm, row, "read", mode)
    word = unchecked((store.energy + load.energy) / words, (store.latency + load.latency) / words)
    read = _serial(config, crossbar.read, mode, slices)
    write = _serial(config, crossbar.write, mode, slices)
    mvm, opa = _mvm(config, False, mode, slices), _opa(config, mode, slices)
    return _Units(
        mvm=mvm,
        mtvm=_mvm(config, True, mode, slices),
        opa=opa,
        read=read,
        write=write,
        carry=_carry(config, read, write, slices.count, mode),
        mcu_area=_mcu_area(config, mvm, opa, slices),
        word_store_load=word,
        vfu_element=digital.vfu_op(_vfu(config), 1.0, "add", mode),
    )


@dataclasses.dataclass(frozen=True)
class _Layers:
    """Every layer's counts per example, arrays ``(L,)`` (0 for a layer without matrices)."""

    t: system.LayerTable
    m: mapping.MatrixMapping  # grids (L, K)
    placed: system.Placement
    mcus: Any  # logical arrays (MCUs) holding the layer (occupied blocks only)
    tiles: Any  # tiles they occupy, whose shared memories work in parallel (at least 1)
    vectors: Any  # input vectors (MVMs per MCU)
    has_ops: np.ndarray  # 1 for a layer with a matrix
    backward: np.ndarray  # 1 where the layer back-propagates its error (not the first: Table 5.1)
    moved: Any  # words through shared memory: inputs, outputs, errors, gradients, partial sums
    operands: Any  # OPA operand words (rows and columns of every MCU's outer products)
    vector_elements: np.ndarray  # VFU work of the layer's vector ops (forward)


def _layers(config: Config, table: system.LayerTable, occupancy, slices: _Slices, mode: str) -> _Layers:
    """Map every matrix (:func:`hwjax.system.map_layers`; a logical array is one MCU) and pack
    the layers' MCUs into cores and tiles (:func:`hwjax.system.place`)."""
    count = None if isinstance(slices.count, float) else slices.count
    m = system.map_layers(table, array_target(config), True, mode, occupancy, count)
    mcus = table.to_layers(m.logical_arrays)
    placed = system.place(mcus, config.mcus_per_core, config.cores_per_tile, config.tiles_per_node, mode)
    # Every block's outer products take its rows and columns of the operands (occupied blocks only).
    operands = table.to_layers(table.vectors * (table.rows * m.col_blocks + table.cols * m.row_blocks))
    has_ops = table.has_ops.astype(float)
    return _Layers(
        t=table,
        m=m,
        placed=placed,
        mcus=mcus,
        tiles=jnp.maximum(placed.tiles_used, 1.0),  # one tile's shared memory at least
        vectors=table.to_layers(table.vectors),
        has_ops=has_ops,
        backward=has_ops * (np.cumsum(has_ops) > 1),
        # Forward: inputs in, outputs out; backward: errors in, layer gradients out.
        moved=table.to_layers(2.0 * (m.input_loads + m.outputs) + m.partial_sums),
        operands=operands if occupancy is None else operands * occupancy,
        vector_elements=table.vector_elements.sum(axis=1),
    )


def _traffic(units: _Units, words, tiles) -> Cost:
    """Store and load of ``words`` through the shared memories of ``tiles`` tiles in parallel."""
    sm = units.word_store_load
    return unchecked(words * sm.energy, words * sm.latency / tiles)


def _common(units: _Units, batch, x: _Layers) -> dict:
    """Costs every design pays alike: shared-memory traffic and VFU activation work (forward
    function and backward derivative, on the layer's cores in parallel with its MCUs)."""
    vfu = 2.0 * batch * x.vector_elements * units.vfu_element.energy
    return {
        "data_movement": _traffic(units, batch * x.moved, x.tiles),
        "vfu": unchecked(vfu, 0.0),
    }


def _forward_backward(mvm: Cost, mtvm: Cost, per_op, steps, backward, area) -> dict[str, Cost]:
    """``{"mvm", "mtvm"}``: ``per_op`` unit operations over ``steps`` sequential input vectors;
    ``backward`` is 1 where the layer back-propagates its error (0 for the first layer);
    ``area`` (the layer's MCUs) is charged on ``mvm``."""
    return {
        "mvm": unchecked(per_op * mvm.energy, steps * mvm.latency, area, ops=per_op * mvm.ops),
        "mtvm": unchecked(
            backward * per_op * mtvm.energy, backward * steps * mtvm.latency, ops=backward * per_op * mtvm.ops
        ),
    }


def _idle_area(config: Config, x: _Layers, mcu_area):
    """Area, m², of the empty MCU slots of the allocated cores (layers pack into shared cores;
    under per-layer slicing an empty slot has the mean MCU area of the layers with a matrix)."""
    used = jnp.sum(x.mcus)
    per_mcu = mcu_area
    if jnp.ndim(mcu_area):  # per-layer slicing: the mean over the layers with a matrix
        per_mcu = jnp.sum(x.has_ops * mcu_area) / max(float(np.sum(x.has_ops)), 1.0)
    empty = jnp.maximum(x.placed.cores_allocated * config.mcus_per_core - used, 0.0)
    return empty * per_mcu


def _report(config: Config, x: _Layers, items: dict[str, Cost], mcu_area) -> Report:
    """The layers' rows and the ``idle`` row: the allocated cores' empty MCU slots (area; PANTHER
    models no leakage, so idle hardware costs no energy)."""
    return system.layer_report(x.t, items, unchecked(0.0, 0.0, _idle_area(config, x, mcu_area)))


def _panther_items(config: Config, units: _Units, x: _Layers, batch, algorithm: str) -> dict[str, Cost]:
    mcus, vectors = x.mcus, x.vectors
    n = float(copies(config))
    b = batch
    updates = b if algorithm == "sgd" else 1.0
    per_op = b * vectors * mcus
    items = _forward_backward(units.mvm, units.mtvm, per_op, b * vectors, x.backward, mcus * units.mcu_area)
    # OPAs update every copy that serves MVMs (variants 1, 2) or only the third copy (variant 3).
    opa_copies = 1.0 if config.variant == 3 else n
    items["opa"] = unchecked(
        opa_copies * per_op * units.opa.energy, b * vectors * units.opa.latency, ops=per_op * units.opa.ops
    )
    if config.variant >= 2:
        # MVM and MᵀVM run in parallel on two copies: the MᵀVM hides behind the MVM.
        items["mtvm"] = unchecked(items["mtvm"].energy, 0.0, ops=items["mtvm"].ops)
    if config.variant == 3 and algorithm == "minibatch":
        # Eager OPAs on the third copy overlap the MVMs (shorter than an MVM).
        items["opa"] = unchecked(items["opa"].energy, 0.0, ops=items["opa"].ops)
    crs_copies = 1.0 if config.variant == 3 else n
    crs = updates / config.carry_interval * crs_copies
    items["carry"] = unchecked(
        crs * mcus * units.carry.energy, x.has_ops * crs / crs_copies * units.carry.latency
    )
    if config.variant == 3:
        commit = mcus * (units.read.energy + 2.0 * units.write.energy)
        items["weight_copy"] = unchecked(
            updates * commit, x.has_ops * updates * (units.read.latency + units.write.latency)
        )
    elif algorithm == "minibatch":
        # The OPA operands of the batch wait in shared memory until the batch ends (5.4.3).
        words = b * x.operands
        traffic = _traffic(units, words, x.tiles)
        items["shared_memory"] = unchecked(traffic.energy, traffic.latency, _operand_area(config, words))
    items.update(_common(units, b, x))
    return items


def _operand_area(config: Config, words):
    """Shared memory holding ``words`` OPA operand words, m²."""
    return words * config.input_bits / 8.0 * memory.area(_shared_memory(config)) / SHARED_MEMORY_BYTES


@system.batched
def training_step(
    config: Config,
    workload,
    batch=1.0,
    algorithm: str = "sgd",
    mode: str = "ste",
    layers: system.LayerKnobs | None = None,
) -> Report:
    """Energy and time of training ``workload`` on ``batch`` examples on a PANTHER node.

    ``algorithm="sgd"`` updates the weights after every example (Table 5.1), ``"minibatch"``
    once at the end of the batch (Table 5.2). The network is read once as arrays over its layers
    (:func:`hwjax.system.layer_table`), every matrix mapped onto MCUs
    (:func:`hwjax.system.map_layers` on :func:`array_target`; a logical array is one MCU) and the
    MCUs packed into cores and tiles (:func:`hwjax.system.place`). Per layer (composed serially,
    layers one after another: the figures compare layer by layer, Figs. 5.11-5.13):

    * ``mvm``, ``mtvm``, ``opa``: the MCU operations (see the module docstring), ``batch x
      vectors x MCUs`` of each; an OPA updates every copy in variants 1-2, the third copy in
      variant 3. Latency: the layer's MCUs run in parallel, its vectors one after another; in
      variants 2-3 the MᵀVM runs beside the MVM (no time), and variant 3's eager OPAs in a
      mini-batch hide behind the MVMs. ``mvm`` also carries the area of the layer's MCUs (every
      copy, all their units: :func:`mcu`'s area), the hardware the layer occupies.
    * ``carry``: ``updates / carry_interval`` carry resolution steps of every copy.
    * ``weight_copy`` (variant 3): per update, read the third copy and write the other two.
    * ``shared_memory`` (variants 1-2, mini-batch): store and load of every OPA operand of the
      batch; ``area`` is the shared memory those operands occupy (Fig. 5.14's storage).
    * ``data_movement``, ``vfu``: shared-memory traffic of activations and errors, activation
      functions and their derivatives (the same in every design).

    A layer without matrices has only ``data_movement`` and ``vfu`` costs (its other entries are
    0). A last row ``idle`` holds the area of the allocated cores' empty MCU slots (energy 0:
    leakage is not modelled). Every Cost has leakage 0, so the leaf rows add up to the total;
    ``total(report).area`` is the area of the MCUs allocated to the workload plus the operand
    buffer.

    Per-layer knobs (``layers``, :data:`LAYER_KNOBS`): ``occupancy`` ``(L,)``, the fraction of a
    layer's crossbar blocks holding any nonzero weight; empty blocks are neither programmed,
    read, updated nor allocated (MVMs, MᵀVMs, OPAs, carries, weight copies, OPA operands and
    area scale with it; the vectors, hence the latencies, do not). ``slice_bits`` ``(L, S)``:
    each layer's heterogeneous slicing (MSB first, 0 for an unused slice, each in [0, 6], at
    least ``weight_bits`` bits in all; section 5.3.4): its MCUs' slices, ADCs, Newton's skipped
    conversions, carries and area follow it.

    Args:
        config: the node; leaves of shape ``(n,)`` give a batch of ``n`` designs.
        workload: a :class:`hwjax.workloads.Network` (one matrix per layer).
        batch: examples, >= 1 (a knob: 64 for section 5.7.4).
        algorithm: ``"sgd"`` or ``"minibatch"`` (static).
        mode: relaxation of every count.
        layers: per-layer knobs, arrays ``(L,)`` (``slice_bits``: ``(L, S)``); ``None`` for none.

    Returns:
        ``Report({layer: Report({component: Cost}, "serial"), ..., "idle": Cost}, "serial")``.
    """
    validate.check_choice("algorithm", algorithm, ALGORITHMS)
    relax.check_mode(mode)
    batch = _check_batch(batch)
    table = _table(workload)
    knobs = system.check_layer_knobs(layers, table, LAYER_KNOBS)
    slices = _layer_slices(config, knobs)
    units = _units(config, mode, slices)
    x = _layers(config, table, knobs.occupancy, slices, mode)
    return _report(config, x, _panther_items(config, units, x, batch, algorithm), units.mcu_area)


def _pipelayer_opa(config: Config, x: _Layers, batch, mode: str) -> Cost:
    """PipeLayer's weight gradient (section 5.5.4): write the errors ``dH`` (positions x
    outputs, ``input_bits`` on 2-bit cells) into crossbars, then one MVM per weight row."""
    t = x.t
    errors = dataclasses.replace(config, slice_bits=ERROR_SLICE_BITS, weight_bits=sum(ERROR_SLICE_BITS))
    blocks = mapping.map_counts(t.vectors, t.cols, t.rows, 0.0, array_target(errors), False, mode)
    write = serial_write(errors, mode)
    mvm = mcu_mvm(errors, mode)
    energy = batch * t.to_layers(blocks.logical_arrays * write.energy + blocks.mvms * mvm.energy)
    latency = batch * (x.has_ops * write.latency + t.to_layers(t.rows) * mvm.latency)
    return unchecked(energy, latency, ops=batch * t.to_layers(blocks.mvms) * mvm.ops)


def _base_items(kind: str, config: Config, units: _Units, x: _Layers, batch, algorithm: str, mode: str):
    """A baseline's entries and the area of one of its MCUs."""
    mcus, vectors = x.mcus, x.vectors
    b = batch
    updates = b if algorithm == "sgd" else 1.0
    per_op = b * vectors * mcus
    if kind == "digital":
        mvm, opa = digital_mvm(config, mode), digital_opa(config, mode)
        items = _forward_backward(mvm, mvm, per_op, b * vectors, x.backward, mcus * mvm.area)
        items["opa"] = unchecked(per_op * opa.energy, b * vectors * opa.latency, ops=per_op * opa.ops)
        items.update(_common(units, b, x))
        return items, mvm.area
    # Base_mvm's MCU: one crossbar copy and its MVM units (its OPA runs on the VFU).
    area = units.mvm.area
    items = _forward_backward(units.mvm, units.mtvm, per_op, b * vectors, x.backward, mcus * area)
    opa = cmos_opa(config, mode)
    cmos = unchecked(per_op * opa.energy, b * vectors * opa.latency, ops=per_op * opa.ops)
    if kind == "opa_mvm":
        pipelayer = np.asarray(x.t.has_ops & (x.t.layer_vectors > 1))
        ours = _pipelayer_opa(config, x, b, mode)
        cmos = unchecked(*(jnp.where(pipelayer, getattr(ours, f), getattr(cmos, f)) for f in COST_FIELDS))
    items["opa"] = cmos
    # Serial read before and serial write after every weight update (section 5.6.3).
    items["serial_read_write"] = unchecked(
        updates * mcus * (units.read.energy + units.write.energy),
        x.has_ops * updates * (units.read.latency + units.write.latency),
    )
    items.update(_common(units, b, x))
    return items, area


@system.batched
def _baseline_step(config: Config, kind: str, workload, batch, algorithm: str, mode: str, layers=None):
    batch = _check_batch(batch)
    table = _table(workload)
    knobs = system.check_layer_knobs(layers, table, BASELINE_LAYER_KNOBS)
    base = config if kind == "digital" else base_config(config)
    slices = _config_slices(base)
    units = _units(base, mode, slices)
    x = _layers(base, table, knobs.occupancy, slices, mode)
    items, mcu_area = _base_items(kind, base, units, x, batch, algorithm, mode)
    return _report(base, x, items, mcu_area)


def baseline_step(
    kind: str,
    config: Config,
    workload,
    batch=1.0,
    algorithm: str = "sgd",
    mode: str = "ste",
    layers: system.LayerKnobs | None = None,
) -> Report:
    """Energy and time of the same training on a baseline (section 5.6.3), by layer and component.

    Each layer's ``mvm`` carries the area of its MCUs (Base_digital: the weight SRAM and MACs,
    :func:`digital_mvm`; Base_mvm and Base_opa/mvm: one crossbar copy and its MVM units); the
    last row ``idle`` the allocated cores' empty MCU slots, as :func:`training_step`. PipeLayer's
    error crossbars (Base_opa/mvm) are written per example and not counted as allocated area.

    Args:
        kind: ``"digital"`` (Base_digital), ``"mvm"`` (Base_mvm) or ``"opa_mvm"`` (Base_opa/mvm).
        config: the PANTHER node; the ReRAM baselines use :func:`base_config` (16 slices of 2
            bits), Base_digital its ``dim x dim`` SRAM of ``weight_bits`` weights per MCU. Leaves
            of shape ``(n,)`` give a batch of ``n`` designs.
        workload, batch, algorithm, mode: as :func:`training_step`.
        layers: per-layer ``occupancy`` (:data:`BASELINE_LAYER_KNOBS`), as :func:`training_step`
            (PipeLayer's error crossbars hold activations: occupancy does not thin them).

    Returns:
        ``Report({layer: Report({"mvm", "mtvm", "opa", ["serial_read_write"], "data_movement",
        "vfu"}, "serial"), ..., "idle": Cost}, "serial")``.
    """
    validate.check_choice("kind", kind, BASELINES)
    validate.check_choice("algorithm", algorithm, ALGORITHMS)
    relax.check_mode(mode)
    return _baseline_step(config, kind, workload, batch, algorithm, mode, layers=layers)


@system.batched
def storage(
    config: Config, workload, batch=1.0, mode: str = "ste", layers: system.LayerKnobs | None = None
) -> Report:
    """Area a mini-batch needs, by layer: ``"mcus"`` (every copy of the layer's MCUs, units
    included) and ``"shared_memory"`` (the batch's OPA operands, variants 1-2), and a last row
    ``"idle"``: the allocated cores' empty MCU slots. Storage density (Fig. 5.14) is the layer's
    weights over this area. ``layers`` as :func:`training_step`; ``config`` leaves of shape
    ``(n,)`` give a batch of ``n`` designs.

    Returns:
        ``Report({layer: Report({"mcus", "shared_memory"}, "serial"), ..., "idle": Cost},
        "serial")`` (areas, m²; no energy or time).
    """
    relax.check_mode(mode)
    batch = _check_batch(batch)
    table = _table(workload)
    knobs = system.check_layer_knobs(layers, table, LAYER_KNOBS)
    slices = _layer_slices(config, knobs)
    x = _layers(config, table, knobs.occupancy, slices, mode)
    mvm, opa = _mvm(config, False, mode, slices), _opa(config, mode, slices)
    mcu_area = _mcu_area(config, mvm, opa, slices)
    words = 0.0 * x.operands if config.variant == 3 else batch * x.operands
    zero = jnp.zeros_like(x.mcus)
    items = {
        "mcus": unchecked(zero, zero, x.mcus * mcu_area),
        "shared_memory": unchecked(zero, zero, _operand_area(config, words)),
    }
    return _report(config, x, items, mcu_area)
