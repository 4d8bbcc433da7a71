"""Memories: SRAM and eDRAM buffers, and multi-level-cell (MLC) embedded non-volatile arrays.

**Buffers** (:class:`Memory`, kinds ``"sram"`` and ``"edram"``) follow a compact CACTI-like model
anchored at 32 nm, 0.9 V (PUMA, dissertation Table 3.5: "memory modules are modelled in Cacti
6.0"), and moved to any node with :mod:`hwjax.tech`:

* **read energy per access** ``E = w e_kind (C_bank / 1 KiB)^0.5925 s_ports + E_route``: linear in
  the access width ``w`` (Accelergy's width rule, figures.md 3.2) and sub-linear in the bank
  capacity. The exponent and the two per-bit constants are a least-squares fit (in log space) to
  PUMA's CACTI numbers only: the core data memories of figures.md 1.7 (256 B-2 KiB, 16-bit words)
  and the tile eDRAM of 1.8 (64 and 128 KiB, 256-bit access, 17.2 and 25.35 pJ per access).
  Horowitz's 45 nm reads (figures.md 4) are *not* in the fit and serve as an independent check
  (within a factor 1.35). The exponent 0.59 sits between the wire-limited ``sqrt(C)`` and linear
  growth; Accelergy's depth rule ``C^0.78`` (figures.md 3.2) over-predicts Horowitz's 1 MB read by 3x.
* **leakage** per bit cell (eDRAM: refresh included, as in CACTI's figures); a fit to the same rows.
* **area** ``a_kind C s² + p_row sqrt(C B) s + p_io w P B``: cells (stretched by extra ports),
  row/column decoders on each bank's edge, and per-bit I/O (sense amplifiers, write drivers) per
  port and bank. ``a_sram``, ``p_row``, ``p_io`` are fitted to the four data-memory rows of
  figures.md 1.7; the eDRAM cell is a third of the SRAM cell (the "~3x density advantage" of IBM's
  trench eDRAM over SRAM) and its decoder term is fitted to the two eDRAM rows.
* **access time** ``t_kind (C_bank / C_kind)^0.2``, anchored at PUMA's cycle counts (1 ns cycle):
  a 2 KiB SRAM answers within one cycle and a 128 KiB eDRAM within two. These are upper bounds
  (PUMA rounds up to whole cycles); the exponent 0.2 (x1.6 per decade) joins the two anchors.
* **ports** ``P`` stretch each cell side by ``s = 1 + 0.4 (P - 1)`` (one wordline track and one
  bitline pair per extra port, CACTI's multiport cell, about 40% of a 6T cell pitch; an assumption
  checked against PUMA's two-ported receive buffer), so energy and access time scale by ``s``,
  cell area by ``s²``, and leakage by the transistor count ``(6 + 2 (P - 1)) / 6``.
* **banks** ``B`` split the capacity: each access activates one bank of ``C / B`` bits and drives
  its ``w`` bits over an H-tree of average length ``(sqrt(A) - sqrt(A / B)) / 2`` at
  0.2 fF/um (a typical intermediate-layer wire), ``0.5 C_wire V²`` per bit (random data).

``calibration="puma_instruction"`` reproduces the PUMA simulator's instruction memories, which
cost a memory of ``capacity / 8`` bytes (one byte per entry) and multiply its energy, leakage and
area by ``sqrt(8)`` ("8 bytes per instruction", figures.md 1.7). Its per-access energy law is
fitted to the simulator's raw instruction rows (0.46 / 0.53 / 0.65 pJ at 512 / 1024 / 2048
entries); leakage and area use the default law, which already matches those rows.

**MLC eNVM arrays** (:class:`EnvmArray`) store ``bits_per_cell`` bits in ``2^b`` levels (MaxNVM,
Pentecost et al., MICRO 2019). Their devices are the eNVM macros of the device registry
(:data:`hwjax.devices.ENVM_PRESETS`): MaxNVM Table 1 (cell area in F², macro capacity and area,
read and write latency at the chip's node) and the MLC-CTT test chip. Read sensing is MaxNVM's
parallel, flash-like scheme (section 2.3): ``L - 1`` sense amplifiers per cell decode all bits in
one step, so latency is independent of the bits per cell and sense energy grows as ``2^b - 1``.
Level misreads (:func:`mlc_misread`) follow MaxNVM's Gaussian fault model.

Every action is pure and works under ``jit``, ``vmap`` and ``grad``; discrete counts go through
:mod:`hwjax.relax` with the caller's ``mode``.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from hwjax import devices, relax, validate
from hwjax._pytree import Knob, pytree_dataclass, static_field
from hwjax.components import adc
from hwjax.cost import Cost
from hwjax.tech import (
    DEFAULT_TECH,
    Tech,
    area_factor,
    check_tech,
    scale_area,
    scale_delay,
    scale_energy,
    scale_power,
)
from hwjax.units import KiB, ns, pJ, um2

KINDS = ("sram", "edram")
CALIBRATIONS = ("cacti", "puma_instruction")
OPS = ("read", "write")

# The PUMA tile's memories (dissertation Table 3.5: 32 nm, 1 GHz; simulator vdd 0.9 V, figures.md 1)
# are at DEFAULT_TECH, the anchor of every law below.

_REF_BITS = 1 * KiB  # capacities are normalised to 1 KiB = 8192 bits
# Least-squares fit to figures.md 1.7 data memories and 1.8 eDRAM (see the module docstring).
_ENERGY_PER_BIT = {"sram": 0.02237 * pJ, "edram": 0.005651 * pJ}  # at 1 KiB, 32 nm, 0.9 V
_CAPACITY_EXPONENT = 0.5925
# Geometric-mean leakage per bit of figures.md 1.7 (SRAM) and 1.8 (eDRAM) rows, W.
_LEAKAGE_PER_BIT = {"sram": 1.961e-8, "edram": 8.027e-10}
# Area fit to figures.md 1.7 (SRAM); eDRAM cell = SRAM cell / 3, decoder term fit to 1.8.
_CELL_AREA = {"sram": 0.2167 * um2, "edram": 0.2167 / 3 * um2}  # per bit
_ROW_PERIPHERY = {"sram": 2.221 * um2, "edram": 56.41 * um2}  # per sqrt(bit) of each bank
_IO_AREA_PER_BIT = 1.227 * um2  # per bit of width, per port, per bank
# PUMA cycle counts at 1 ns (figures.md 1.7: <= 2 KiB data memory in 1 cycle; 1.8: eDRAM 2 cycles).
_ACCESS_TIME = {"sram": (1.0 * ns, 2 * KiB), "edram": (2.0 * ns, 128 * KiB)}
_ACCESS_TIME_EXPONENT = 0.2
_PORT_PITCH = 0.4  # extra cell pitch per extra port (fraction of a 6T cell side)
_WIRE_CAPACITANCE = 0.2e-15 / 1e-6  # F/m (0.2 fF/um)
_WRITE_TO_READ_ENERGY = 1.0  # the PUMA simulator charges reads and writes alike (figures.md 1.7)

# Simulator's raw instruction-memory rows (figures.md 1.7), 48-bit fetch (config.py instrn_width):
# E = 48 e (C_raw / 1 KiB)^0.2495 with e = 0.011271 pJ/bit fits 0.46/0.53/0.65 pJ within 2.1%.
_INSTRUCTION_ENERGY_PER_BIT = 0.011271 * pJ
_INSTRUCTION_EXPONENT = 0.2495
_INSTRUCTION_BYTES = 8.0  # "8 bytes per instruction": costs scale by sqrt(8)

_CAPACITY_RANGE = (16.0, 2.0**33)  # bytes: 16 B to 8 GiB
_WIDTH_RANGE = (1.0, 8192.0)  # bits per access
_PORTS_RANGE = (1.0, 8.0)
_BANKS_RANGE = (1.0, 1024.0)


@pytree_dataclass
class Memory:
    """An SRAM or eDRAM buffer (a pytree).

    Attributes:
        capacity_bytes: capacity, bytes, in [16, 2^33].
        width_bits: bits read or written per access, in [1, 8192], at most the bits of one bank.
        ports: read/write ports, in [1, 8] (continuous: the model interpolates between counts).
        banks: independently addressed banks, in [1, 1024]; an access activates one.
        tech: technology; defaults to :data:`hwjax.tech.DEFAULT_TECH` (32 nm, 0.9 V), the calibration node.
        kind: ``"sram"`` or ``"edram"`` (static).
        calibration: ``"cacti"`` (the fitted model) or ``"puma_instruction"`` (PUMA simulator's
            instruction memories with their sqrt(8) factor; see the module docstring) (static).
    """

    capacity_bytes: Any
    width_bits: Any
    ports: Knob = 1.0
    banks: Knob = 1.0
    tech: Tech = DEFAULT_TECH
    kind: str = static_field("sram")
    calibration: str = static_field("cacti")

    def __post_init__(self):
        validate.check_choice("kind", self.kind, KINDS)
        validate.check_choice("calibration", self.calibration, CALIBRATIONS)
        check_tech(self.tech)
        validate.check_fields(
            self,
            {
                "capacity_bytes": _CAPACITY_RANGE,
                "width_bits": _WIDTH_RANGE,
                "ports": _PORTS_RANGE,
                "banks": _BANKS_RANGE,
            },
        )
        _check_width_fits_bank(self.capacity_bytes, self.width_bits, self.banks)


def _check_width_fits_bank(capacity_bytes, width_bits, banks) -> None:
    """A bank must hold at least one word (checked on concrete values only)."""
    if validate.is_traced((capacity_bytes, width_bits, banks)):
        return
    # np.asarray first: under an outer jit, jnp (and np.max on a jax Array) would stage the values
    bank_bits = 8.0 * float(np.min(np.asarray(capacity_bytes) / np.asarray(banks)))
    if float(np.max(np.asarray(width_bits))) > bank_bits:
        raise ValueError(
            f"width_bits={width_bits!r} exceeds the bits of one bank (capacity_bytes={capacity_bytes!r} "
            f"x 8 / banks={banks!r} = {bank_bits:g}); allowed range [1, {bank_bits:g}]"
        )


def _port_stretch(ports):
    """Linear growth of a cell side with ports: ``1 + 0.4 (P - 1)``."""
    return 1.0 + _PORT_PITCH * (ports - 1.0)


def _port_transistors(ports):
    """Transistors per cell relative to 6T: two access transistors per extra port."""
    return 1.0 + (ports - 1.0) / 3.0


def _bits(mem: Memory):
    return 8.0 * mem.capacity_bytes


def _raw(mem: Memory) -> tuple[Any, Any]:
    """Capacity (bits) the model is evaluated at, and the factor applied to its costs."""
    if mem.calibration == "puma_instruction":
        return _bits(mem) / _INSTRUCTION_BYTES, math.sqrt(_INSTRUCTION_BYTES)
    return _bits(mem), 1.0


def _decoders_at_anchor(mem: Memory, bits):
    """Row/column decoders and drivers on every bank's edge, m², at 32 nm."""
    return _ROW_PERIPHERY[mem.kind] * jnp.sqrt(bits * mem.banks) * _port_stretch(mem.ports)


def _array_area_at_anchor(mem: Memory, bits):
    """Cells + bank decoders + per-bit I/O, m², at 32 nm."""
    cells = _CELL_AREA[mem.kind] * bits * _port_stretch(mem.ports) ** 2
    io = _IO_AREA_PER_BIT * mem.width_bits * mem.ports * mem.banks
    return cells + _decoders_at_anchor(mem, bits) + io


def area(mem: Memory):
    """Silicon area of the memory, m² (shape of the broadcast knobs)."""
    bits, factor = _raw(mem)
    return scale_area(factor * _array_area_at_anchor(mem, bits), DEFAULT_TECH, mem.tech)


def decoder_area(mem: Memory):
    """The decoder and wordline-driver part of :func:`area`, m²."""
    bits, factor = _raw(mem)
    return scale_area(factor * _decoders_at_anchor(mem, bits), DEFAULT_TECH, mem.tech)


def leakage(mem: Memory):
    """Static power (eDRAM: including refresh), W."""
    bits, factor = _raw(mem)
    at_anchor = factor * _LEAKAGE_PER_BIT[mem.kind] * bits * _port_transistors(mem.ports)
    return scale_power(at_anchor, DEFAULT_TECH, mem.tech)


def _bank_energy_at_anchor(mem: Memory, bits):
    """Energy of one access inside a bank, J, at 32 nm, 0.9 V."""
    bank_ratio = bits / mem.banks / _REF_BITS
    if mem.calibration == "puma_instruction":
        per_bit = _INSTRUCTION_ENERGY_PER_BIT * bank_ratio**_INSTRUCTION_EXPONENT
    else:
        per_bit = _ENERGY_PER_BIT[mem.kind] * bank_ratio**_CAPACITY_EXPONENT
    return mem.width_bits * per_bit * _port_stretch(mem.ports)


def route_energy(width_bits, length_m, tech: Tech):
    """Energy to drive ``width_bits`` across ``length_m`` of wire, J: ``0.5 C_wire vdd² L`` per bit.

    ``C_wire`` is 0.2 fF/um (an intermediate-layer wire); 0.5 is the switching activity of random
    data. Any broadcastable shapes.
    """
    return 0.5 * _WIRE_CAPACITANCE * tech.vdd**2 * width_bits * length_m


def _bank_route_length(mem: Memory):
    """Mean extra H-tree length to reach one of ``banks`` banks, m (0 for one bank)."""
    side = jnp.sqrt(area(mem))
    return 0.5 * side * (1.0 - 1.0 / jnp.sqrt(mem.banks))


def read_energy(mem: Memory):
    """Dynamic energy of one read access of ``width_bits``, J."""
    bits, factor = _raw(mem)
    bank = scale_energy(factor * _bank_energy_at_anchor(mem, bits), DEFAULT_TECH, mem.tech)
    return bank + route_energy(mem.width_bits, _bank_route_length(mem), mem.tech)


def write_energy(mem: Memory):
    """Dynamic energy of one write access of ``width_bits``, J (equal to a read, as in PUMA)."""
    return _WRITE_TO_READ_ENERGY * read_energy(mem)


def access_time(mem: Memory):
    """Time of one access, s (an upper bound at the PUMA anchors; see the module docstring)."""
    bits, _ = _raw(mem)
    anchor_time, anchor_bits = _ACCESS_TIME[mem.kind]
    at_anchor = anchor_time * (bits / mem.banks / anchor_bits) ** _ACCESS_TIME_EXPONENT
    return scale_delay(at_anchor * _port_stretch(mem.ports), DEFAULT_TECH, mem.tech)


def accesses(mem: Memory, bits, mode: str = "ste"):
    """Number of accesses that move ``bits``: relaxed ``ceil(bits / width_bits)``."""
    bits = validate.check_nonnegative("bits", bits)
    return relax.ceil(bits / mem.width_bits, mode=mode)


def access(mem: Memory, bits, op: str = "read", mode: str = "ste") -> Cost:
    """Cost of reading (or writing) ``bits`` from a memory.

    Args:
        mem: the memory.
        bits: bits moved, >= 0 (any shape broadcastable with the knobs).
        op: ``"read"`` or ``"write"``.
        mode: relaxation of the counts (:mod:`hwjax.relax`).

    Returns:
        Cost with ``energy`` = accesses x energy per access (J), ``latency`` =
        ``ceil(accesses / (ports x banks))`` x access time (s; ideal interleaving: consecutive
        words in different banks, every port busy), and the memory's ``area`` (m²) and
        ``leakage`` (W).
    """
    validate.check_choice("op", op, OPS)
    count = accesses(mem, bits, mode)
    per_access = read_energy(mem) if op == "read" else write_energy(mem)
    rounds = relax.ceil(count / (mem.ports * mem.banks), mode=mode)
    return Cost(count * per_access, rounds * access_time(mem), area(mem), leakage(mem))


def busy_cycle(mem: Memory, cycle, accesses=1.0) -> Cost:
    """One clock cycle of a memory at full activity: ``accesses`` accesses every ``cycle`` s.

    The peak-power view of the architecture tables (PUMA's ``pow_dyn + pow_leak``: one access
    per cycle). Reads and writes cost alike here, as in the PUMA simulator.

    Returns:
        Cost with ``energy`` = accesses x read energy (J), ``latency`` = ``cycle`` (s), and the
        memory's ``area`` (m²) and ``leakage`` (W); its ``power`` is the memory's peak power.
    """
    accesses = validate.check_nonnegative("accesses", accesses)
    return Cost(accesses * read_energy(mem), cycle, area(mem), leakage(mem))


def instruction_memory(entries, tech: Tech = DEFAULT_TECH) -> Memory:
    """PUMA instruction memory of ``entries`` 8-byte instructions (48-bit fetch), simulator-style.

    ``instruction_memory(512)`` is the core instruction memory of Table 3.5 (4 KB) and
    ``instruction_memory(1024)`` the tile instruction memory (8 KB).
    """
    entries = validate.check_positive("entries", entries)
    return Memory(entries * _INSTRUCTION_BYTES, 48.0, tech=tech, calibration="puma_instruction")


# ---------------------------------------------------------------------------------------------
# Multi-level-cell eNVM arrays (MaxNVM)


def _sigma_for_misread(bits_per_cell: float, misread: float) -> float:
    """Level sigma (fraction of the window) giving ``misread`` to one adjacent level."""
    spacing = 1.0 / (2.0**bits_per_cell - 1.0)
    return spacing / (2.0 * -statistics.NormalDist().inv_cdf(misread))


def _device(technology: str) -> devices.EnvmDevice:
    validate.check_choice("technology", technology, tuple(devices.ENVM_PRESETS))
    return devices.ENVM_PRESETS[technology]


@pytree_dataclass
class EnvmArray:
    """A multi-level-cell eNVM array (a pytree).

    Attributes:
        capacity_bytes: capacity, bytes, in [1 KiB, 2^33].
        width_bits: bits per read access, in [1, 8192].
        bits_per_cell: bits stored per cell, in [1, the technology's maximum] (continuous).
        level_sigma: standard deviation of each programmed level as a fraction of the cell's
            signal window, in [1e-3, 0.5]; ``None`` takes the preset's value (from MaxNVM's MLC3
            fault rate; CTT and RRAM only).
        tech: technology; ``None`` takes the preset's node.
        technology: the eNVM device, ``"ctt"``, ``"rram"``, ``"pcm"`` or ``"stt"`` (static; a
            name of :data:`hwjax.devices.ENVM_PRESETS`).
    """

    capacity_bytes: Any
    width_bits: Any
    bits_per_cell: Knob = 1.0
    level_sigma: Knob | None = None
    tech: Knob | None = None
    technology: str = static_field("ctt")

    def __post_init__(self):
        device = _device(self.technology)
        if self.tech is None:
            object.__setattr__(self, "tech", Tech(device.node_nm))
        check_tech(self.tech)
        if self.level_sigma is None:
            if device.mlc3_misread is None:
                raise ValueError(
                    f"level_sigma is required for technology={self.technology!r}: MaxNVM publishes "
                    "no level distribution for it; give a value in [0.001, 0.5]"
                )
            object.__setattr__(self, "level_sigma", _sigma_for_misread(3.0, device.mlc3_misread))
        validate.check_fields(
            self,
            {
                "capacity_bytes": (1024.0, _CAPACITY_RANGE[1]),
                "width_bits": _WIDTH_RANGE,
                "bits_per_cell": (1.0, device.max_bits_per_cell),
                "level_sigma": (1e-3, 0.5),
            },
        )

    @property
    def device(self) -> devices.EnvmDevice:
        """The technology's eNVM macro (:func:`hwjax.devices.envm_device`)."""
        return _device(self.technology)


def envm_cells(array: EnvmArray):
    """Cells holding the array's capacity: ``8 capacity / bits_per_cell`` (continuous)."""
    return 8.0 * array.capacity_bytes / array.bits_per_cell


def _device_tech(array: EnvmArray) -> Tech:
    return Tech(array.device.node_nm)


def envm_area(array: EnvmArray):
    """Array area, m²: cells plus the source macro's periphery share, moved to ``array.tech``."""
    device, cells = array.device, envm_cells(array)
    at_source = device.cell_area * cells + device.area_per_sqrt_cell * jnp.sqrt(cells)
    return scale_area(at_source, _device_tech(array), array.tech)


def envm_read_latency(array: EnvmArray):
    """Read latency, s: the source macro's, scaled as ``(cells / reference)^0.2`` and by node."""
    device = array.device
    at_source = device.read_latency * (envm_cells(array) / device.reference_cells) ** _ACCESS_TIME_EXPONENT
    return scale_delay(at_source, _device_tech(array), array.tech)


def _column_energy(array: EnvmArray):
    """Array energy per sensed cell, J: the SRAM law at the same cell count, wires shortened by
    ``sqrt(cell area / SRAM cell area)`` (NVSim shares CACTI's array periphery models)."""
    device = array.device
    sram_cell = _CELL_AREA["sram"] * area_factor(32, device.node_nm)
    wire_ratio = math.sqrt(device.cell_area / sram_cell)
    ratio = envm_cells(array) / _REF_BITS
    per_cell = _ENERGY_PER_BIT["sram"] * ratio**_CAPACITY_EXPONENT * wire_ratio
    return scale_energy(per_cell, DEFAULT_TECH, array.tech)


def envm_read_energy(array: EnvmArray, mode: str = "ste"):
    """Energy of one read of ``width_bits``, J: per sensed cell, the array energy plus
    ``2^b - 1`` comparisons (MaxNVM's parallel sensing; TIMELY comparator, figures.md 3.2)."""
    cells = relax.ceil(array.width_bits / array.bits_per_cell, mode=mode)
    comparator = scale_energy(adc.COMPARATOR_ENERGY, adc.COMPARATOR_TECH, array.tech)
    sense = (2.0**array.bits_per_cell - 1.0) * comparator
    return cells * (_column_energy(array) + sense)


def envm_read(array: EnvmArray, bits, mode: str = "ste") -> Cost:
    """Cost of reading ``bits`` (>= 0) from an eNVM array.

    Returns:
        Cost with ``energy`` = accesses x :func:`envm_read_energy` (J), ``latency`` = accesses x
        :func:`envm_read_latency` (s), the array's ``area`` (m²) and zero ``leakage`` (cells are
        non-volatile; periphery leakage is not modelled).
    """
    bits = validate.check_nonnegative("bits", bits)
    count = relax.ceil(bits / array.width_bits, mode=mode)
    energy = count * envm_read_energy(array, mode)
    return Cost(energy, count * envm_read_latency(array), envm_area(array), 0.0)


def envm_write_time(array: EnvmArray, bits, mode: str = "ste"):
    """Time to program ``bits`` (>= 0), s: accesses x the device's program time.

    Program-and-verify iterations grow with the precision a level needs, i.e. with
    ``1 / spacing``, so the program time scales as ``(2^b - 1) / (2^b_ref - 1)`` from the
    reported one (an assumption; MaxNVM reports single points). Write energy is not modelled:
    MaxNVM publishes none.
    """
    bits = validate.check_nonnegative("bits", bits)
    device = array.device
    count = relax.ceil(bits / array.width_bits, mode=mode)
    iterations = (2.0**array.bits_per_cell - 1.0) / (2.0**device.reference_bits_per_cell - 1.0)
    return count * device.write_latency * iterations


#: Probabilities are reported as ``p + 1e-15`` (smoothly, in log space): float32 cannot carry
#: tails far below that reproducibly, and 1e-15 per cell is negligible even for 1e12 cells.
PROBABILITY_FLOOR = 1e-15


def _log_normal_tail(x):
    """``log P(Z > x)`` for a standard normal ``Z`` (accurate deep in the tail)."""
    return jsp.log_ndtr(-x)


def _floored(log_p):
    """``p + PROBABILITY_FLOOR`` from ``log p``, computed without underflow."""
    return jnp.exp(jnp.logaddexp(log_p, math.log(PROBABILITY_FLOOR)))


def mlc_misread(bits_per_cell, level_sigma, sense_sigma=0.0) -> dict[str, Any]:
    """Misread probabilities of an MLC cell with Gaussian levels (MaxNVM section 2.3).

    ``L = 2^b`` levels sit evenly over a normalised signal window (spacing ``1 / (L - 1)``),
    each Gaussian with standard deviation ``level_sigma``; a sense-amplifier offset of standard
    deviation ``sense_sigma`` adds in quadrature. Thresholds lie midway between levels, so a
    level is read as a given neighbour with probability ``Q(spacing / (2 sigma))``.

    Args:
        bits_per_cell: ``b``, in [1, 4] (continuous).
        level_sigma: level spread as a fraction of the window, in [1e-3, 0.5].
        sense_sigma: sense-amplifier offset spread, same units, in [0, 0.5].

    Returns:
        Dict of arrays (broadcast shape): ``levels``; ``spacing``; ``log_adjacent`` (natural log
        of the probability of reading one given neighbour, exact deep in the tail) and the
        probabilities (each plus :data:`PROBABILITY_FLOOR`): ``adjacent``; ``non_adjacent`` (to
        the level two away); ``cell`` (a cell holding a uniformly random level is misread:
        ``2 (L - 1) / L x adjacent``); ``bit_error_gray`` (per stored bit with Gray coding: one
        bit flips per adjacent misread); ``bit_error_binary`` (plain binary code: on average
        ``(2L - b - 2) / (L - 1)`` bits flip per adjacent misread).
    """
    b = validate.check_range("bits_per_cell", bits_per_cell, 1.0, 4.0)
    level_sigma = validate.check_range("level_sigma", level_sigma, 1e-3, 0.5)
    sense_sigma = validate.check_range("sense_sigma", sense_sigma, 0.0, 0.5)
    levels = 2.0**b
    spacing = 1.0 / (levels - 1.0)
    sigma = jnp.sqrt(level_sigma**2 + sense_sigma**2)
    log_adjacent = _log_normal_tail(spacing / (2.0 * sigma))
    log_cell = log_adjacent + jnp.log(2.0 * (levels - 1.0) / levels)
    flips_binary = (2.0 * levels - b - 2.0) / (levels - 1.0)
    return {
        "levels": levels,
        "spacing": spacing,
        "log_adjacent": log_adjacent,
        "adjacent": _floored(log_adjacent),
        "non_adjacent": _floored(_log_normal_tail(3.0 * spacing / (2.0 * sigma))),
        "cell": _floored(log_cell),
        "bit_error_gray": _floored(log_cell - jnp.log(b)),
        "bit_error_binary": _floored(log_cell + jnp.log(flips_binary / b)),
    }


def envm_misread(array: EnvmArray, sense_sigma=0.0) -> dict[str, Any]:
    """:func:`mlc_misread` at the array's bits per cell and level sigma."""
    return mlc_misread(array.bits_per_cell, array.level_sigma, sense_sigma)
