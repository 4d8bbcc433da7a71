"""TIMON: a tensor core inside the GPGPU register file, against a Turing-like digital tensor core.

Dissertation chapter 6 (seed ``ankit-dissertation-puma-trannsformer-panther-timon.txt``).

**TIMON** (sections 6.4-6.5). Each Turing sub-core keeps its 64 KB register file (4 banks of 8
sub-banks of 128 x 128 8T cells); a register-file bank computes a TMMA ``1 x N_t x K_t`` in place:
the stationary ``K_t x N_t`` matrix sits in the cells, one row of the streaming matrix in the input
register. One bank is :class:`hwjax.components.sram_cim.SRAMCIMBank` (the d-t-l specification,
chunks, stage latencies, energy and area breakdowns, its read path fitted to section 6.7.4's
59.6% ADC share and Fig. 6.17(a)'s 4.6x energy fall); this module composes it and does not
re-derive it. The variants K32/K64/K128 are DP widths 32/64/128 with ``s = 4`` chunks, 32 shared
ADCs, ``t = l = 1`` and 16-bit operands (section 6.7.1); :func:`variant` builds them.

*Throughput.* Section 6.7.1 gives 32 shared ADCs per TIMON unit and Table 6.3 compares one TIMON
unit (32 ADCs, 0.1087 mm²) with one sub-core's tensor cores (0.2067 mm²); section 6.7.1 also runs
"TMMA instructions one warp at a time". hwjax therefore lets ``tensor_banks`` = 1 bank per
sub-core compute at a time (a knob). A GEMM ``M x N x K`` (``A[M, K] B[K, N]``, ``B`` stationary)
is cut into ``ceil(K / d) x ceil(N / N_t)`` bank tiles (``N_t`` = the bank's weight columns, 16
for 16-bit weights); each tile streams its ``M`` rows through the 4-stage pipeline, the streams of
consecutive rows following one another: ``(M x #streams + 3) x stage`` (section 6.4.3's
``(#streams + 3) x stage`` per vector, with the pipeline kept full across vectors). Tiles are
spread over ``sms x sub_cores_per_sm x tensor_banks`` banks (RTX 2080 Ti: 68 SMs x 4 sub-cores,
section 6.7.1) in ``ceil(tiles / banks)`` rounds.

*Energy* per vector is the bank's (:func:`~hwjax.components.sram_cim.energy_breakdown`) plus the
conventional register-file traffic of a TMMA (``TMMA RD, RA, RB, RC``): the streaming row loaded
into the IR (``d x act_bits`` bits) and the ``N_t`` accumulators read (C) and written (D) at
``accumulator_bits`` each, at :func:`hwjax.components.regfile.gpgpu_rf_access_energy` per
1024-bit warp register. Loading the stationary matrix into the file (``load_matrix_sync``) is
charged to neither design (section 6.7.3 compares the tensor cores, not the WMMA loads). That
traffic hides behind the ADC-bound pipeline (no latency). :func:`versus_turing` compares in the
dissertation's scope by default: TIMON's energy is Fig. 6.9's (row peripheral, SRAM array,
column peripheral: section 6.7.3 explains Fig. 6.17(a) by Fig. 6.9's energy per MAC, and 6.7.4
calls the ADC's 59.6% of Fig. 6.9 "TIMON's energy"), Turing's is Fig. 6.17(c)'s (register
file, buffer, MACs); ``register_traffic=True`` adds TIMON's register traffic (``1 + 64 / d``
bits per 16-bit MAC: 17 at d = 4, where it would cost 1.8 pJ per MAC, more than half of the
published 0.85x budget).

**Turing baseline** (sections 6.3.2, 6.4.1, 6.7.1; Table 6.1). Per sub-core, 128 MACs (2 tensor
cores of 4x4x4 MACs per clock, 256 ops/clock) and a 4.6 KB operand buffer. A WMMA 16 x 16 x 16
issues four ``HMMA.1688`` (Table 6.1: 896 B of register traffic each, reuse 2.28); its cycles are
:func:`hwjax.components.regfile.wmma_cycles`, the roofline of 256 ops/clock and 64 B/clock of
operand bandwidth (56 cycles, Table 6.1). Energy per WMMA: the register traffic
(:func:`~hwjax.components.regfile.gpgpu_rf_wmma`), the operand buffer (``memory.Memory`` of
4.6 KB in ``buffer_banks`` banks, 64-bit words: A and B written once per HMMA, each MAC reading
its two operands; hwjax's reading of Raihan et al.'s microarchitecture) and the MACs
(``digital.mac`` of an integer multiplier with ``accumulator_bits`` accumulation: TMMA's "16-bit
multiplication and 32-bit accumulation", section 6.5, and BISMO's integer bit-serial multiplier,
section 6.7.1). Turing needs one precision for both operands (section 6.3.2): it runs at
``max(act_bits, weight_bits)``, its register and buffer traffic scales linearly with that width
(register packing, "linear at best", 6.3.3) and so do its peak ops per clock (16-bit = 256;
Turing's int8/int4 tensor modes double and quadruple it).

**Tunable ADC and outlier rejection** (section 6.6.2, Fig. 6.15). A column of density ``nz``
has ``nz`` of the full analog range, so its conversions drop ``floor(log2(1 / nz))`` bits;
outlier rejection with threshold ``th`` prunes a column whose sparsity lies within ``th`` of the
gap below the next level (``0.5 - 0.5 th`` to 0.5, ``0.75 - 0.25 th`` to 0.75, ...) up to that
level. Both together drop ``floor(log2((1 + th) / nz))`` bits (the Fig. 6.15 table in closed form;
hwjax's derivation), at least one bit being kept. Fig. 6.15 lists K64 as 8 -> 7 -> 6 -> 5 bits
(the count ``ceil(log2(d 2^(tl) + 1))``); :mod:`sram_cim` sizes the ADC by section 6.4.3's
``log2 d + t l`` = 7 bits, so hwjax applies the table's *reductions* to that resolution
(7 -> 6 -> 5 -> 4). A tunable SAR stops early: energy and latency per conversion fall linearly
with the active bits (section 6.6.2; :mod:`hwjax.components.adc`).

**Areas** (Table 6.3). TIMON's rows are the bank's :func:`~hwjax.components.sram_cim.area_breakdown`.
Turing's MAC row is 128 ``digital.mac`` units (Horowitz area column, figures.md marks it
UNCONFIRMED) and its buffer the 4.6 KB ``memory.Memory``; both are physics estimates, not fits,
and differ from Table 6.3 (see ``tests/models/test_timon.py`` for the gaps). The table's buffer,
0.0042 mm² for 4.6 KB, is 0.11 um² per bit, a third of a 45 nm 6T cell (about 0.37 um²): it
cannot hold 4.6 KB. A 4.6 Kbit buffer would fit (``memory.Memory`` gives 0.00455 mm², +8%),
which suggests a unit slip in the table; hwjax keeps the text's 4.6 KB.

**Published against hwjax** (GNMT-1 of Table 6.2; ``tests/models/test_timon.py``). Reached: the
levels of Fig. 6.17(a)'s dynamic-energy gain (0.70x and 3.56x against 0.85x and 3.91x at
d = 4 and 128) and its growth (5.07x against 4.6x), the ADC's share of K64's energy (52.8%
against 59.6%; the published split is out of reach, see :mod:`~hwjax.components.sram_cim`), the
near-quadratic (TIMON) against linear (Turing) bit-width trends of Fig. 6.17(b), the Fig. 6.15
resolution rule, Table 6.1's 56 cycles and Table 6.3's TIMON rows. The energy levels follow from
section 6.4.3's ADC trendlines through the survey's top designs (the lower envelope, 0.28 pJ per
8-bit conversion; :mod:`hwjax.components.adc`), steer logic and DACs switching only on driven
rows (section 6.4.2), the PUMA/ISAAC peripheral constants taken at 45 nm as Table 6.3 takes them,
and the comparison scope above; Turing's 3.1 pJ per 16-bit MAC (register file 0.75, buffer 1.2,
MAC 1.1) is Horowitz-consistent (the memory model gives 9.2 pJ per 64-bit read of 8 KB against
Horowitz's 10 pJ) and unchanged.

Not reached, kept as strict xfails: Fig. 6.17(a)'s speedup levels (0.014x-0.10x against
0.55x-3.09x) and growth (7.65x against 5.6x), and Table 6.3's Turing rows (MAC 0.145 mm², -28%;
buffer 0.022 mm², +420%). The speedup gap is not in hwjax's reading of the text but in the text:

* 3.09x means 3.09 x 8192 ops / 56 cycles (Table 6.1) = 452 ops per clock per sub-core for K128.
  Two other statements agree: Fig. 6.12's WMMA 16x16x128 "enables operating TIMON at peak
  throughput" against 64 B/clock of shared memory, and its intensity (Table 6.1's byte count,
  ``2 x (2 x 16 x 16 + 16 x 128 + 16 x 128)`` = 9216 B for 65536 ops: 7.1 ops/B) gives 455 ops
  per clock; and 452 ops per clock on 272 sub-cores at the RTX 2080 Ti's 1.545 GHz boost clock
  is 190 TOPS, section 6.8's "upto 195 Tensor TOPS".
* One sub-core has one set of 32 ADCs: Table 6.3 compares 32 ADCs with one sub-core's tensor
  cores (0.1087 against 0.2067 mm², "53% lower area"), and 0.1087 mm² being "33.2% of the
  register file banks' area (4 banks)" puts 64 KB in 0.327 mm², 0.62 um² per bit, an 8T cell
  at 45 nm; TMMAs run "one warp at a time", a warp's registers sit in one bank (Fig. 6.11).
* Section 6.7.1: a stream takes ``1024 BLs / 32 ADCs / 4 chunks`` = 8 conversions per ADC and
  the ADC stage lasts 8 cycles, i.e. one conversion per clock at 7 bits. So a sub-core converts
  at most 32 samples per clock; a 16-bit MAC at d = 128 needs ``16 x 16 / 128`` = 2 of them:
  at most 16 MACs (32 ops) per clock, 0.22x, even with an 8-bit conversion as fast as a 7-bit
  one (hwjax's law makes it 1.97 cycles: 0.10x). 3.09x needs 14x more conversions per clock
  than the text's hardware has; at d = 4 (64 conversions per MAC, 4-cycle chunk stages: 1 MAC
  per clock) 0.55x needs 40x.

Assumptions (not in the seed): the operand buffer's banks (8) and 64-bit word; every MAC reading
both operands from it; one bank computing per sub-core; padding of partial tiles charged in full
(the bank evaluates all its rows and columns); one clock (default 1.35 GHz, :mod:`sram_cim`'s)
for the SRAM CIM banks, the register file and the Turing tensor cores.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp

from hwjax import relax, validate, workloads
from hwjax._pytree import pytree_dataclass, static_field
from hwjax.components import digital, memory, regfile
from hwjax.components import sram_cim as cim
from hwjax.cost import Cost, Report, replicate, total, unchecked
from hwjax.tech import Tech, check_tech

#: TIMON's variants (section 6.5): DP width ``K_t``.
VARIANTS = {"K32": 32.0, "K64": 64.0, "K128": 128.0}
#: TIMON's evaluation node (section 6.7.1: IBM 45 nm SOI; sram_cim's 1.0 V).
TIMON_TECH = cim.TIMON_TECH
#: Turing WMMA and HMMA shapes (section 6.3.2, Table 6.1: 16x16x16 from four HMMA.1688).
WMMA_SHAPE = (16.0, 16.0, 16.0)
HMMA_SHAPE = (16.0, 8.0, 8.0)
#: Turing's reference operand width (section 6.4.1: 128 MACs = 256 ops/clock at 16 bits).
TURING_BITS = 16.0
#: Operand buffer word, bits (four 16-bit elements: one four-element dot product's operand).
BUFFER_WORD_BITS = 64.0
OPS_PER_MAC = 2.0

_RANGES = {
    "dp_width": (4.0, 128.0),
    "stream_width": cim.WIDTH_RANGE,
    "slice_width": cim.WIDTH_RANGE,
    "adcs": (1.0, 1024.0),
    "chunks": (1.0, 32.0),
    "act_bits": (1.0, 16.0),
    "weight_bits": (1.0, 16.0),
    "accumulator_bits": (8.0, 64.0),
    "clock_rate": (1e8, 5e9),
    "adc_sample_rate": (1e6, 1e11),
    "input_density": (0.0, 1.0),
    "weight_density": (0.0, 1.0),
    "tensor_banks": (1.0, 4.0),
    "sms": (1.0, 1024.0),
    "sub_cores_per_sm": (1.0, 16.0),
    "turing_macs": (8.0, 256.0),
    "buffer_bytes": (256.0, 65536.0),
    "buffer_banks": (1.0, 64.0),
}


@pytree_dataclass
class Config:
    """A Turing-class GPU whose register-file banks compute GEMMs (a pytree).

    Defaults: TIMON K64 in an RTX 2080 Ti (sections 6.5, 6.7.1). Every numeric field is a knob.

    Attributes:
        dp_width: DP width ``d`` = TMMA ``K_t``, in [4, 128] (K32/K64/K128: 32/64/128).
        stream_width, slice_width: ``t`` and ``l``, bits, in [1, 16] (section 6.7.1: 1).
        adcs: shared ADCs of the computing bank, in [1, 1024] (32).
        chunks: chunks ``s`` of the stationary matrix, in [1, 32] (4; ``d / s`` >= 1).
        act_bits, weight_bits: streaming (activation) and stationary (weight) bits, in [1, 16].
        accumulator_bits: output width, bits, in [8, 64] (TMMA: 32).
        clock_rate: the one clock of the SRAM CIM banks, the register file and Turing's tensor
            cores, Hz, in [1e8, 5e9] (1.35 GHz, :data:`hwjax.components.sram_cim.CLOCK_RATE`).
        adc_sample_rate: rate of the 8-bit reference ADC, Hz, in [1e6, 1e11] (sram_cim's).
        input_density, weight_density: fractions of 1 bits in inputs and stored weights, in [0, 1].
        tensor_banks: banks computing at once per sub-core, in [1, 4] (1, see the module docstring).
        sms, sub_cores_per_sm: SMs and sub-cores per SM, in [1, 1024] and [1, 16] (68, 4).
        turing_macs: Turing MACs per sub-core, in [8, 256] (128; peak ``2 x turing_macs``
            ops per clock at 16 bits).
        buffer_bytes, buffer_banks: Turing operand buffer per sub-core, B in [256, 65536]
            (4.6 KB), and its banks in [1, 64] (8).
        tech: technology (45 nm, 1.0 V).
        adc_kind: ``"sar"`` or ``"tunable_sar"`` (static; section 6.6.2).
    """

    dp_width: Any = 64.0
    stream_width: Any = 1.0
    slice_width: Any = 1.0
    adcs: Any = 32.0
    chunks: Any = 4.0
    act_bits: Any = 16.0
    weight_bits: Any = 16.0
    accumulator_bits: Any = 32.0
    clock_rate: Any = cim.CLOCK_RATE
    adc_sample_rate: Any = cim.ADC_SAMPLE_RATE
    input_density: Any = 0.5
    weight_density: Any = 0.5
    tensor_banks: Any = 1.0
    sms: Any = 68.0
    sub_cores_per_sm: Any = 4.0
    turing_macs: Any = 128.0
    buffer_bytes: Any = 4.6 * 1024
    buffer_banks: Any = 8.0
    tech: Tech = TIMON_TECH
    adc_kind: str = static_field("sar")

    def __post_init__(self):
        validate.check_choice("adc_kind", self.adc_kind, cim.ADC_KINDS)
        check_tech(self.tech)
        validate.check_fields(self, _RANGES)


def variant(name: str, **overrides) -> Config:
    """TIMON variant ``"K32"``, ``"K64"`` or ``"K128"`` (section 6.5), other fields overridden."""
    validate.check_choice("variant", name, tuple(VARIANTS))
    return Config(**{"dp_width": VARIANTS[name], **overrides})


def _check_mode(mode: str) -> str:
    return validate.check_choice("mode", mode, relax.MODES)


# ---------------------------------------------------------------------------------------------
# TIMON's bank


def bank(config: Config, weight_density=None) -> cim.SRAMCIMBank:
    """The computing register-file bank of ``config`` (:class:`~hwjax.components.sram_cim.SRAMCIMBank`)."""
    return cim.SRAMCIMBank(
        dp_width=config.dp_width,
        stream_width=config.stream_width,
        slice_width=config.slice_width,
        adcs=config.adcs,
        chunks=config.chunks,
        input_bits=config.act_bits,
        weight_bits=config.weight_bits,
        output_bits=config.accumulator_bits,
        adc_sample_rate=config.adc_sample_rate,
        clock_rate=config.clock_rate,
        input_density=config.input_density,
        weight_density=config.weight_density if weight_density is None else weight_density,
        tech=config.tech,
        adc_kind=config.adc_kind,
    )


def register_file(config: Config, mode: str = "ste") -> regfile.GpgpuRegisterFile:
    """The sub-core's register file on the shared clock, with Turing's operand roofline at the
    operand width ``max(act_bits, weight_bits)`` (peak ops per clock ``2 x turing_macs x 16 /
    bits``: 256 at 16 bits)."""
    bits = _turing_bits(config, mode)
    return regfile.GpgpuRegisterFile(
        clock_hz=config.clock_rate,
        peak_ops_per_clock=OPS_PER_MAC * config.turing_macs * TURING_BITS / bits,
        tech=config.tech,
    )


def _rf_bit_energy(config: Config):
    rf = register_file(config)
    return regfile.gpgpu_rf_access_energy(rf) / rf.register_bits


def _sub_cores(config: Config):
    return config.sms * config.sub_cores_per_sm


def _tmma(config: Config, mode: str) -> tuple[Report, Any, Any, Any]:
    """(:func:`tmma`'s Report, weight columns ``N_t``, pipeline stage s, streams), one bank
    evaluation. The stage is the bank's ``(#streams + 3) x stage`` vector latency over
    ``#streams + 3``: the slower of the ADC stage and the ``s``-cycle stages."""
    b = bank(config)
    parts = cim.energy_breakdown(b, mode=mode)
    vector = total(parts)
    columns = vector.ops / OPS_PER_MAC / b.dp_width
    streams = relax.ceil(config.act_bits / config.stream_width, mode=mode)
    stage = vector.latency / (streams + cim.PIPELINE_FILL)
    bits = config.dp_width * config.act_bits + 2.0 * columns * config.accumulator_bits
    rf = unchecked(bits * _rf_bit_energy(config), 0.0)
    report = Report({**dict(parts.items()), "register_file": rf}, compose="parallel")
    return report, columns, stage, streams


def tmma(config: Config, mode: str = "ste") -> Report:
    """One input vector of a TMMA ``1 x N_t x d`` on one bank, with its register traffic.

    Returns:
        ``Report({"row_peripheral", "sram_array", "column_peripheral", "register_file"},
        "parallel")``: the bank's :func:`~hwjax.components.sram_cim.energy_breakdown` (energy
        J, the vector's latency s, area m², leakage W, ops = 2 d N_t) and the IR load plus C
        read and D write (energy only).
    """
    _check_mode(mode)
    return _tmma(config, mode)[0]


def _matrix_ops(workload) -> list:
    if isinstance(workload, workloads.GEMM):
        workload = workloads.Network("gemm", (workload,))
    if not isinstance(workload, workloads.Network):
        raise ValueError(f"workload must be a hwjax.workloads.Network or GEMM, got {type(workload).__name__}")
    return [(layer.name, layer.matrix_ops()) for layer in workload]


def _timon_layer(config: Config, tmma_parts: tuple, ops, mode: str) -> Report:
    vector, columns, stage, streams = tmma_parts
    banks = _sub_cores(config) * config.tensor_banks
    energies = {name: 0.0 for name in vector}
    latency, macs = 0.0, 0.0
    for op in ops:
        tiles = relax.ceil(op.rows / config.dp_width, mode=mode) * relax.ceil(op.cols / columns, mode=mode)
        vectors = tiles * op.vectors
        for name in vector:
            energies[name] = energies[name] + vectors * total(vector[name]).energy
        rounds = relax.ceil(tiles / banks, mode=mode)
        latency = latency + rounds * (op.vectors * streams + cim.PIPELINE_FILL) * stage
        macs = macs + float(op.macs)
    unit = total(vector)
    items = {name: unchecked(energy, 0.0) for name, energy in energies.items()}
    items["column_peripheral"] = unchecked(energies["column_peripheral"], latency, ops=OPS_PER_MAC * macs)
    # Leakage as energy over the layer (J): the banks serve every layer in turn, so a leakage
    # power (W) per layer would be charged again over the other layers' time at the total.
    items["leakage"] = unchecked(replicate(unit, banks).leakage * latency, 0.0)
    return Report(items, compose="serial")


def inference(config: Config, workload, mode: str = "ste") -> Report:
    """A GEMM workload (Table 6.2: ``hwjax_models.workloads.get("timon_gnmt_1")`` etc.) on TIMON.

    Args:
        config: the GPU.
        workload: a :class:`hwjax.workloads.Network` (or one ``GEMM``); every layer's matrix
            ops (``K x N`` stationary, ``M`` vectors) run on the register-file banks.
        mode: relaxation of tile, round and stream counts.

    Returns:
        ``Report({layer: Report({"row_peripheral", "sram_array", "column_peripheral",
        "register_file", "leakage"}, "serial"), ..., "banks": Cost}, "serial")``. Dynamic
        energies (J) per part; the layer's latency (s) and ops (2 x MACs) sit on
        ``column_peripheral`` (the ADC-bound pipeline); ``leakage`` is the computing banks'
        leakage energy over the layer (J); ``banks`` holds their peripheral area (m²), once for
        all layers (they run on the same banks).
    """
    _check_mode(mode)
    parts = _tmma(config, mode)
    layers = {name: _timon_layer(config, parts, ops, mode) for name, ops in _matrix_ops(workload)}
    banks = _sub_cores(config) * config.tensor_banks
    return Report({**layers, "banks": unchecked(0.0, 0.0, total(parts[0]).area * banks)}, compose="serial")


gemm = inference


# ---------------------------------------------------------------------------------------------
# Turing baseline


def _turing_bits(config: Config, mode: str = "ste"):
    """Turing's one operand width, ``max(act_bits, weight_bits)`` (smooth in smooth mode)."""
    return relax.maximum(config.act_bits, config.weight_bits, mode=mode)


def _buffer(config: Config) -> memory.Memory:
    return memory.Memory(config.buffer_bytes, BUFFER_WORD_BITS, banks=config.buffer_banks, tech=config.tech)


def _mac_unit(config: Config, mode: str) -> digital.ArithmeticUnit:
    return digital.ArithmeticUnit(
        bits=_turing_bits(config, mode), number_format="int", tech=config.tech, cycle=1.0 / config.clock_rate
    )


def _mac(config: Config, mode: str = "ste") -> Cost:
    return digital.mac(_mac_unit(config, mode), config.accumulator_bits)


def turing_wmma(config: Config, mode: str = "ste") -> Report:
    """One WMMA 16 x 16 x 16 (four HMMA.1688) on a Turing sub-core's tensor cores.

    Returns:
        ``Report({"register_file", "buffer", "macs"}, "parallel")``: dynamic energies (J), each
        with the WMMA's cycles (:func:`hwjax.components.regfile.wmma_cycles`, 56 at 16 bits,
        Table 6.1), areas (m²: MACs and buffer; the register file is the host's) and leakage (W);
        ``ops`` = 8192 on ``macs``.
    """
    _check_mode(mode)
    rf = register_file(config, mode)
    bits = _turing_bits(config, mode)
    element_bytes = bits / 8.0
    traffic = regfile.wmma_rf_traffic(WMMA_SHAPE, HMMA_SHAPE, element_bytes=element_bytes, mode=mode)
    cycles = regfile.wmma_cycles(rf, traffic, mode=mode)
    latency = cycles / config.clock_rate
    # gpgpu_rf_wmma's energy: the traffic in warp-register accesses.
    rf_energy = traffic["bytes"] * 8.0 / rf.register_bits * regfile.gpgpu_rf_access_energy(rf)
    macs = traffic["ops"] / OPS_PER_MAC
    m, n, k = HMMA_SHAPE
    written = traffic["hmmas"] * (m * k + n * k) * element_bytes * 8.0
    read = OPS_PER_MAC * macs * bits
    buf = _buffer(config)
    buffer_energy = (written * memory.write_energy(buf) + read * memory.read_energy(buf)) / BUFFER_WORD_BITS
    mac = _mac(config, mode)
    items = {
        "register_file": unchecked(rf_energy, latency),
        "buffer": unchecked(buffer_energy, latency, memory.area(buf), memory.leakage(buf)),
        "macs": unchecked(
            macs * mac.energy,
            latency,
            config.turing_macs * mac.area,
            config.turing_macs * mac.leakage,
            traffic["ops"],
        ),
    }
    return Report(items, compose="parallel")


def _turing_layer(config: Config, ops, mode: str) -> Report:
    wmma = turing_wmma(config, mode)
    unit = total(wmma)
    m, n, k = WMMA_SHAPE
    energies = {name: 0.0 for name in wmma}
    latency, macs = 0.0, 0.0
    for op in ops:
        count = relax.ceil(op.vectors / m, mode=mode) * relax.ceil(op.cols / n, mode=mode)
        count = count * relax.ceil(op.rows / k, mode=mode)
        for name in wmma:
            energies[name] = energies[name] + count * wmma[name].energy
        latency = latency + relax.ceil(count / _sub_cores(config), mode=mode) * unit.latency
        macs = macs + float(op.macs)
    sub_cores = _sub_cores(config)
    items = {name: unchecked(energy, 0.0) for name, energy in energies.items()}
    items["macs"] = unchecked(energies["macs"], latency, ops=OPS_PER_MAC * macs)
    items["leakage"] = unchecked(unit.leakage * sub_cores * latency, 0.0)  # J: as _timon_layer
    return Report(items, compose="serial")


def turing_inference(config: Config, workload, mode: str = "ste") -> Report:
    """The same workload on the Turing tensor cores (WMMA 16 x 16 x 16 tiles over all sub-cores).

    Returns:
        ``Report({layer: Report({"register_file", "buffer", "macs", "leakage"}, "serial"), ...,
        "tensor_cores": Cost}, "serial")``; the layer's latency and ops sit on ``macs``, and
        the tensor cores' area once on ``tensor_cores``, as :func:`inference`.
    """
    _check_mode(mode)
    layers = {name: _turing_layer(config, ops, mode) for name, ops in _matrix_ops(workload)}
    area = total(turing_wmma(config, mode)).area * _sub_cores(config)
    return Report({**layers, "tensor_cores": unchecked(0.0, 0.0, area)}, compose="serial")


def _dynamic(report: Report, exclude: tuple[str, ...] = ()):
    """Dynamic energy (J) and latency (s) of an inference Report (leakage entries and the
    entries named in ``exclude`` left out of the energy)."""
    energy = 0.0
    for layer in (item for item in report.values() if isinstance(item, Report)):
        energy = energy + total(layer).energy - layer["leakage"].energy
        energy = energy - sum(layer[name].energy for name in exclude)
    return energy, total(report).latency


def versus_turing(
    config: Config, workload, mode: str = "ste", register_traffic: bool = False
) -> dict[str, Any]:
    """TIMON's speedup and dynamic-energy gain over the Turing tensor cores (Fig. 6.17).

    Args:
        register_traffic: whether TIMON's energy includes its conventional register-file traffic
            (the TMMA's IR load, C read and D write). ``False`` (default) compares in the
            dissertation's scope: TIMON's energy is Fig. 6.9's (row peripheral, SRAM array,
            column peripheral; section 6.7.3 explains Fig. 6.17(a) by Fig. 6.9's energy per MAC),
            Turing's is Fig. 6.17(c)'s (register file, buffer, MACs).

    Returns:
        ``{"speedup": Turing latency / TIMON latency, "energy_gain": Turing dynamic energy /
        TIMON dynamic energy}`` (arrays shaped like the knobs).
    """
    exclude = () if register_traffic else ("register_file",)
    timon_energy, timon_latency = _dynamic(inference(config, workload, mode), exclude)
    turing_energy, turing_latency = _dynamic(turing_inference(config, workload, mode))
    return {"speedup": turing_latency / timon_latency, "energy_gain": turing_energy / timon_energy}


# ---------------------------------------------------------------------------------------------
# Sparsity: tunable ADC and outlier rejection (section 6.6.2, Figs. 6.15 and 6.19)


def adc_bits(config: Config, column_sparsity, threshold=0.0, mode: str = "ste"):
    """ADC resolution of a column of ``column_sparsity`` with outlier rejection at ``threshold``.

    ``log2 d + t l - floor(log2((1 + th) / density))`` bits, at least 1 (the Fig. 6.15 table:
    a column drops one bit per halving of its density, and outlier rejection promotes sparsities
    within ``th`` of the gap below the next level). Without a tunable ADC pass ``threshold=0``
    and read the bits as the column's *effective* bits; the bank converts at full resolution.

    Args:
        column_sparsity: fraction of zero weights in the column, in [0, 0.999].
        threshold: outlier-rejection threshold ``th``, in [0, 1] (0: tunable ADC alone).
    """
    _check_mode(mode)
    sparsity = validate.check_range("column_sparsity", column_sparsity, 0.0, 0.999)
    threshold = validate.check_range("threshold", threshold, 0.0, 1.0)
    full = cim.adc_resolution(bank(config))
    dropped = relax.floor(jnp.log2((1.0 + threshold) / (1.0 - sparsity)), mode=mode)
    return jnp.maximum(full - dropped, 1.0)


def kept_density(column_sparsity, threshold=0.0, mode: str = "ste"):
    """Column density after outlier rejection: ``2^-j`` when promoted to level ``j``, else unchanged."""
    sparsity = validate.check_range("column_sparsity", column_sparsity, 0.0, 0.999)
    threshold = validate.check_range("threshold", threshold, 0.0, 1.0)
    density = 1.0 - sparsity
    level = relax.floor(jnp.log2((1.0 + threshold) / density), mode=mode)
    return jnp.minimum(density, 2.0**-level)


def sparse_tmma(config: Config, column_sparsity, threshold=0.0, mode: str = "ste") -> Cost:
    """One input vector of a K-variant TMMA on a sparse stationary matrix (Fig. 6.19(b)).

    The bank uses a tunable SAR converting each column at :func:`adc_bits`; ``column_sparsity``
    may be an array of the columns' sparsities (the Fig. 6.18 distribution), over which the
    vector's energy and latency are averaged. The stored bits that are 1 fall with the kept
    density (``weight_density x density``).

    Returns:
        Cost of one vector (as :func:`hwjax.components.sram_cim.mvm`), averaged over the columns.
    """
    _check_mode(mode)
    sparsity = jnp.atleast_1d(jnp.asarray(column_sparsity))
    density = kept_density(sparsity, threshold, mode)
    active = adc_bits(config, sparsity, threshold, mode)
    tunable = dataclasses.replace(config, adc_kind="tunable_sar")
    b = bank(tunable, weight_density=config.weight_density * jnp.mean(density, axis=-1))
    cost = cim.mvm(b, active_bits=active, mode=mode)
    fields = (cost.energy, cost.latency, cost.area, cost.leakage, cost.ops)
    return Cost(*(jnp.mean(field, axis=-1) if jnp.ndim(field) else field for field in fields))


# ---------------------------------------------------------------------------------------------
# Chip, peak, areas


def area_table(config: Config, mode: str = "ste") -> Report:
    """Table 6.3: ``Report({"timon": {IR, SL, DAC, SRU, ADC, S&A, OR}, "turing": {"MAC",
    "Buffer"}}, "parallel")`` of one sub-core (Costs with only ``area``, m²)."""
    _check_mode(mode)
    turing = Report(
        {
            "MAC": Cost(0.0, 0.0, config.turing_macs * _mac(config, mode).area),
            "Buffer": Cost(0.0, 0.0, memory.area(_buffer(config))),
        },
        compose="parallel",
    )
    return Report({"timon": cim.area_breakdown(bank(config), mode), "turing": turing}, compose="parallel")


def _peak_vector(config: Config, mode: str) -> Cost:
    """One bank streaming vectors back to back: a vector every ``#streams`` stages."""
    report, _, stage, streams = _tmma(config, mode)
    vector = total(report)
    return Cost(vector.energy, streams * stage, vector.area, vector.leakage, vector.ops)


def chip(config: Config, mode: str = "ste") -> Report:
    """The GPU's tensor hardware at full activity, one vector period per entry.

    ``Report({"timon": Cost, "turing": Cost}, "parallel")`` for the whole GPU: TIMON's computing
    banks (one vector per ``#streams`` stages each, with their register traffic) and, for
    reference, the Turing tensor cores running WMMAs back to back, each scaled to TIMON's period
    (energy = power x period). Areas are peripheral (TIMON) and MAC plus buffer (Turing).
    """
    _check_mode(mode)
    banks = _sub_cores(config) * config.tensor_banks
    vector = _peak_vector(config, mode)
    timon = replicate(vector, banks)
    wmma = total(turing_wmma(config, mode))
    scale = vector.latency / wmma.latency
    turing = replicate(
        Cost(wmma.energy * scale, vector.latency, wmma.area, wmma.leakage, wmma.ops * scale),
        _sub_cores(config),
    )
    return Report({"timon": timon, "turing": turing}, compose="parallel")


def peak(config: Config, mode: str = "ste") -> Cost:
    """Every computing bank of the GPU running TMMA vectors back to back (ops, s, J, W, m²)."""
    return total(chip(config, mode)["timon"])


def turing_peak(config: Config, mode: str = "ste") -> Cost:
    """Every sub-core's tensor cores running WMMA 16 x 16 x 16 back to back (Table 6.1 cycles)."""
    return replicate(total(turing_wmma(config, mode)), _sub_cores(config))


__all__ = [
    "VARIANTS",
    "Config",
    "adc_bits",
    "area_table",
    "bank",
    "chip",
    "gemm",
    "inference",
    "kept_density",
    "peak",
    "register_file",
    "sparse_tmma",
    "tmma",
    "turing_inference",
    "turing_peak",
    "turing_wmma",
    "variant",
    "versus_turing",
]
