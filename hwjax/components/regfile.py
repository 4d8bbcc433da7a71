"""Register files: a ROM-embedded core register file sized in crossbars, and a banked GPGPU
register file.

**ROM-embedded core register file** (:class:`RomRegisterFile`; PUMA's, dissertation section
3.3.4). A per-core SRAM of ``2 x crossbar dimension x crossbars per core`` words (16-bit words:
1 KB for 128 x 128 crossbars, two per core, Table 3.5). It is built on a ROM-embedded RAM [165]:
a second wordline per row embeds a look-up-table ROM in the same cells "without increasing the
array area or RAM latency", used for transcendental functions. A ROM look-up (Fig. 3.3) buffers
the row's RAM data (read), writes 1 to all cells (write), writes 0 with WL1 off (write), reads
the ROM data (read) and restores the RAM data (write): two reads and three writes of the row,
one after another. The array area is unchanged; hwjax charges the second wordline's drivers as
the row half of the decoder periphery of :mod:`hwjax.components.memory` (an assumption; Table
3.5 charges nothing).

**GPGPU register file** (dissertation chapter 6, TIMON). A Turing sub-core holds 64 KB of
registers in 4 banks; each bank is 8 sub-banks of 2 KB (128 wordlines x 128 bitlines of 8T SRAM,
Fig. 6.7), and a regular access reads one warp register (1024 bits) across the 8 sub-banks of a
bank. The operand collector delivers 128 B/clock. Energy per access is 8 sub-bank accesses of the
memory model (8T: a decoupled read port, i.e. two ports) plus the H-tree to the bank; TIMON's
evaluation node is 45 nm (section 6.7). Tensor-core traffic follows Table 6.1: an HMMA of shape
``m x n x k`` moves ``2 (2mn + mk + nk)`` bytes (fp16 C read and D written, A and B read; with
``.reuse`` forwarding A and B are not re-read), and a WMMA of ``M x N x K`` issues
``ceil(M/m) ceil(N/n) ceil(K/k)`` HMMAs. Its cycles are the roofline of the tensor cores' 256
ops/clock and the register file's operand bandwidth 64 B/clock (= 256 ops/clock / the 4 ops/byte
ridge point of Fig. 6.3, half of the 128 B/clock file bandwidth), which reproduces Table 6.1's
theoretical cycles exactly.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from hwjax import relax, validate
from hwjax._pytree import Knob, pytree_dataclass
from hwjax.components import adc, memory
from hwjax.cost import Cost
from hwjax.tech import DEFAULT_TECH, Tech, check_tech

OPS = memory.OPS
#: Sequential row operations of one ROM-mode look-up (Fig. 3.3): 2 reads + 3 writes.
ROM_READS, ROM_WRITES = 2.0, 3.0


@pytree_dataclass
class RomRegisterFile:
    """Core register file with an embedded ROM, sized in crossbars (a pytree).

    A ROM-embedded RAM of ``2 x xbar_size x xbars_per_core`` words (module docstring); the
    defaults are PUMA's core register file (dissertation section 3.3.4, Table 3.5).

    Attributes:
        xbar_size: crossbar dimension (rows), in [8, 1024].
        xbars_per_core: crossbars (MVMUs) per core, in [1, 64].
        word_bits: register width, bits, in [4, 64] (PUMA: 16-bit fixed point).
        tech: technology; defaults to PUMA's 32 nm, 0.9 V.
    """

    xbar_size: Knob = 128.0
    xbars_per_core: Knob = 2.0
    word_bits: Knob = 16.0
    tech: Tech = DEFAULT_TECH

    def __post_init__(self):
        validate.check_fields(
            self,
            {
                "xbar_size": (8.0, 1024.0),
                "xbars_per_core": (1.0, 64.0),
                "word_bits": (4.0, 64.0),
            },
        )
        check_tech(self.tech)


def rom_rf_words(rf: RomRegisterFile):
    """Registers per core: ``2 x xbar_size x xbars_per_core`` (section 3.3.4)."""
    return 2.0 * rf.xbar_size * rf.xbars_per_core


def rom_rf_memory(rf: RomRegisterFile) -> memory.Memory:
    """The register file as a single-ported SRAM of one word per access."""
    capacity_bytes = rom_rf_words(rf) * rf.word_bits / 8.0
    return memory.Memory(capacity_bytes, rf.word_bits, tech=rf.tech, kind="sram")


def rom_area_overhead(rf: RomRegisterFile):
    """Area of the second wordline's drivers, m²: the row half of the decoder periphery."""
    return 0.5 * memory.decoder_area(rom_rf_memory(rf))


def rom_rf_area(rf: RomRegisterFile):
    """Register file area including the embedded ROM, m²."""
    return memory.area(rom_rf_memory(rf)) + rom_area_overhead(rf)


def rf_access(rf: RomRegisterFile, bits, op: str = "read", mode: str = "ste") -> Cost:
    """Cost of reading (or writing) ``bits`` (>= 0) of registers: word accesses, one per access
    time; area includes the embedded ROM. See :func:`hwjax.components.memory.access`."""
    cost = memory.access(rom_rf_memory(rf), bits, op, mode)
    return Cost(cost.energy, cost.latency, rom_rf_area(rf), cost.leakage)


def rom_lookup(rf: RomRegisterFile, lookups, mode: str = "ste") -> Cost:
    """Cost of ``lookups`` (>= 0) ROM-mode transcendental look-ups of one word each.

    Each look-up is the five-step sequence of Fig. 3.3 (2 row reads, 3 row writes); a vector
    instruction's look-ups run one after another (temporal SIMD). ``lookups`` is rounded up
    through :mod:`hwjax.relax`.

    Returns:
        Cost: ``energy`` (J), ``latency`` (s), register-file ``area`` (m²) with the ROM,
        ``leakage`` (W).
    """
    lookups = relax.ceil(validate.check_nonnegative("lookups", lookups), mode=mode)
    mem = rom_rf_memory(rf)
    per_lookup = ROM_READS * memory.read_energy(mem) + ROM_WRITES * memory.write_energy(mem)
    latency = lookups * (ROM_READS + ROM_WRITES) * memory.access_time(mem)
    return Cost(lookups * per_lookup, latency, rom_rf_area(rf), memory.leakage(mem))


@pytree_dataclass
class GpgpuRegisterFile:
    """Banked GPGPU (Turing sub-core) register file (a pytree).

    Attributes:
        capacity_bytes: capacity, bytes, in [4 KiB, 1 MiB] (Turing: 64 KB per sub-core).
        banks: banks, in [1, 32] (Turing: 4).
        sub_banks: sub-banks read together per access, in [1, 64] (Fig. 6.7: 8).
        register_bits: bits per access (one warp register), in [128, 4096] (32 x 32 = 1024).
        bytes_per_clock: file bandwidth, B/clock, in [16, 1024] (128, section 6.3.2).
        operand_bytes_per_clock: bandwidth available to tensor-core operands, B/clock, in
            [8, 1024] (64: 256 ops/clock over the 4 ops/byte ridge point of Fig. 6.3).
        peak_ops_per_clock: tensor-core peak, ops/clock, in [16, 8192] (2 x 4x4x4 MACs = 256).
        clock_hz: core clock, Hz, in [1e8, 5e9]; default 1.545 GHz (RTX 2080 Ti boost clock,
            NVIDIA's specification; the dissertation gives cycles only).
        tech: technology; defaults to TIMON's IBM 45 nm SOI
            (:data:`hwjax.components.adc.SOI45_TECH`).
    """

    capacity_bytes: Knob = 65536.0
    banks: Knob = 4.0
    sub_banks: Knob = 8.0
    register_bits: Knob = 1024.0
    bytes_per_clock: Knob = 128.0
    operand_bytes_per_clock: Knob = 64.0
    peak_ops_per_clock: Knob = 256.0
    clock_hz: Knob = 1.545e9
    tech: Tech = adc.SOI45_TECH

    def __post_init__(self):
        validate.check_fields(
            self,
            {
                "capacity_bytes": (4096.0, 2.0**20),
                "banks": (1.0, 32.0),
                "sub_banks": (1.0, 64.0),
                "register_bits": (128.0, 4096.0),
                "bytes_per_clock": (16.0, 1024.0),
                "operand_bytes_per_clock": (8.0, 1024.0),
                "peak_ops_per_clock": (16.0, 8192.0),
                "clock_hz": (1e8, 5e9),
            },
        )
        check_tech(self.tech)


def gpgpu_sub_bank(rf: GpgpuRegisterFile) -> memory.Memory:
    """One sub-bank: an 8T (two-port) SRAM of ``register_bits / sub_banks`` bits per access."""
    capacity = rf.capacity_bytes / (rf.banks * rf.sub_banks)
    return memory.Memory(capacity, rf.register_bits / rf.sub_banks, ports=2.0, tech=rf.tech)


def gpgpu_rf_area(rf: GpgpuRegisterFile):
    """Area of all sub-banks, m²."""
    return rf.banks * rf.sub_banks * memory.area(gpgpu_sub_bank(rf))


def gpgpu_rf_leakage(rf: GpgpuRegisterFile):
    """Leakage of all sub-banks, W."""
    return rf.banks * rf.sub_banks * memory.leakage(gpgpu_sub_bank(rf))


def gpgpu_rf_access_energy(rf: GpgpuRegisterFile, op: str = "read"):
    """Energy of one warp-register access, J: ``sub_banks`` sub-bank accesses plus the H-tree
    from the file's port to the bank (mean length ``(sqrt(A) - sqrt(A / banks)) / 2``)."""
    validate.check_choice("op", op, OPS)
    sub = gpgpu_sub_bank(rf)
    per_sub = memory.read_energy(sub) if op == "read" else memory.write_energy(sub)
    side = jnp.sqrt(gpgpu_rf_area(rf))
    length = 0.5 * side * (1.0 - 1.0 / jnp.sqrt(rf.banks))
    return rf.sub_banks * per_sub + memory.route_energy(rf.register_bits, length, rf.tech)


def _cost(rf: GpgpuRegisterFile, energy, cycles) -> Cost:
    return Cost(energy, cycles / rf.clock_hz, gpgpu_rf_area(rf), gpgpu_rf_leakage(rf))


def gpgpu_rf_access(rf: GpgpuRegisterFile, nbytes, op: str = "read", mode: str = "ste") -> Cost:
    """Cost of moving ``nbytes`` (>= 0) through the register file.

    Energy: ``ceil(8 nbytes / register_bits)`` warp-register accesses; latency:
    ``ceil(nbytes / bytes_per_clock)`` clocks. Area and leakage of the whole file.
    """
    nbytes = validate.check_nonnegative("nbytes", nbytes)
    count = relax.ceil(8.0 * nbytes / rf.register_bits, mode=mode)
    cycles = relax.ceil(nbytes / rf.bytes_per_clock, mode=mode)
    return _cost(rf, count * gpgpu_rf_access_energy(rf, op), cycles)


def hmma_rf_bytes(m, n, k, reuse: bool = False, element_bytes=2.0):
    """Register-file bytes of one HMMA of shape ``m x n x k`` (Table 6.1), B.

    ``element_bytes x (2 m n + m k + n k)``: C read and D written, A and B read; with
    ``reuse`` (``RA.reuse, RB.reuse``) A and B are forwarded and not read.
    """
    m, n, k = (validate.check_positive(name, v) for name, v in (("m", m), ("n", n), ("k", k)))
    element_bytes = validate.check_positive("element_bytes", element_bytes)
    operands = 0.0 if reuse else m * k + n * k
    return element_bytes * (2.0 * m * n + operands)


def wmma_rf_traffic(wmma_shape, hmma_shape, reuse: bool = False, element_bytes=2.0, mode: str = "ste"):
    """Register-file traffic of one WMMA of ``wmma_shape = (M, N, K)`` built from HMMAs of
    ``hmma_shape = (m, n, k)`` (Table 6.1). A WMMA wider than tall issues its HMMAs transposed
    (``D^T = B^T A^T``): pass ``(n, m, k)`` then, e.g. ``(8, 16, 8)`` for Turing's 8 x 32 x 16
    shape; the byte count is symmetric in ``m`` and ``n``.

    Returns:
        Dict: ``hmmas`` (``ceil(M/m) ceil(N/n) ceil(K/k)``, relaxed), ``ops`` (``2 M N K``),
        ``bytes`` (RF bytes, B) and ``reuse`` (ops per byte: 1.33, 2.0, 2.28 for Table 6.1's
        884 without and with reuse and 1688).
    """
    (big_m, big_n, big_k), (m, n, k) = wmma_shape, hmma_shape
    per_hmma = hmma_rf_bytes(m, n, k, reuse, element_bytes)
    hmmas = relax.ceil(big_m / m, mode=mode) * relax.ceil(big_n / n, mode=mode)
    hmmas = hmmas * relax.ceil(big_k / k, mode=mode)
    ops = 2.0 * big_m * big_n * big_k
    nbytes = hmmas * per_hmma
    return {"hmmas": hmmas, "ops": ops, "bytes": nbytes, "reuse": 2.0 * m * n * k / per_hmma}


def wmma_cycles(rf: GpgpuRegisterFile, traffic: dict[str, Any], mode: str = "ste"):
    """Cycles of one WMMA: the roofline ``max(ops / peak, bytes / operand bandwidth)``.

    Table 6.1 (theoretical): 96, 64 and 56 cycles for 884 without reuse, with reuse and 1688.
    """
    compute = traffic["ops"] / rf.peak_ops_per_clock
    operands = traffic["bytes"] / rf.operand_bytes_per_clock
    return relax.maximum(compute, operands, mode=mode)


def gpgpu_rf_wmma(
    rf: GpgpuRegisterFile, wmma_shape, hmma_shape, reuse: bool = False, element_bytes=2.0, mode: str = "ste"
) -> Cost:
    """Register-file cost of one WMMA (tensor-core work itself excluded).

    Returns:
        Cost: ``energy`` of the RF traffic (J; ``bytes`` in warp-register accesses),
        ``latency`` of the WMMA (s, :func:`wmma_cycles`), the file's ``area`` and ``leakage``,
        and ``ops`` = ``2 M N K``.
    """
    traffic = wmma_rf_traffic(wmma_shape, hmma_shape, reuse, element_bytes, mode)
    count = traffic["bytes"] * 8.0 / rf.register_bits
    cost = _cost(rf, count * gpgpu_rf_access_energy(rf), wmma_cycles(rf, traffic, mode))
    return Cost(cost.energy, cost.latency, cost.area, cost.leakage, traffic["ops"])
