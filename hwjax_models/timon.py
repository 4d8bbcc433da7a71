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

*Reports* (:mod:`hwjax.system`). :func:`inference` and :func:`turing_inference` walk a network
once, as arrays over its layers (:func:`hwjax.system.layer_table`, :func:`hwjax.system.map_layers`
with block ``occupancy``), take per-layer knobs (:class:`hwjax.system.LayerKnobs`: A and B operand
bits, a tunable SAR's active bits, occupancy) and batches of Configs
(:func:`hwjax.system.batched`). The layers run in series on the same banks (tensor cores): each
layer's ``leakage`` row is the leakage energy (J) of the banks its tiles occupy (``tiles /
rounds`` of them on average), and a last ``idle`` row holds the other banks' leakage energy and
the banks' area, which every layer shares. Every ``Cost.leakage`` of a Report is 0 and its leaf
rows add up to its total in energy, latency and area.

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
import numpy as np

from hwjax import Knob, mapping, relax, system, validate, workloads
from hwjax._pytree import pytree_dataclass, static_field
from hwjax.components import adc, digital, memory, regfile
from hwjax.components import sram_cim as cim
from hwjax.cost import Cost, Report, replicate, total, unchecked
from hwjax.tech import Tech, check_tech

#: TIMON's variants (section 6.5): DP width ``K_t``.
VARIANTS = {"K32": 32.0, "K64": 64.0, "K128": 128.0}
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

    dp_width: Knob = 64.0
    stream_width: Knob = 1.0
    slice_width: Knob = 1.0
    adcs: Knob = 32.0
    chunks: Knob = 4.0
    act_bits: Knob = 16.0
    weight_bits: Knob = 16.0
    accumulator_bits: Knob = 32.0
    clock_rate: Knob = cim.CLOCK_RATE
    adc_sample_rate: Knob = cim.ADC_SAMPLE_RATE
    input_density: Knob = 0.5
    weight_density: Knob = 0.5
    tensor_banks: Knob = 1.0
    sms: Knob = 68.0
    sub_cores_per_sm: Knob = 4.0
    turing_macs: Knob = 128.0
    buffer_bytes: Knob = 4.6 * 1024
    buffer_banks: Knob = 8.0
    tech: Tech = adc.SOI45_TECH  # section 6.7.1: IBM 45 nm SOI
    adc_kind: str = static_field("sar")

    def __post_init__(self):
        validate.check_choice("adc_kind", self.adc_kind, cim.ADC_KINDS)
        check_tech(self.tech)
        validate.check_fields(self, _RANGES)


def variant(name: str, **overrides) -> Config:
    """TIMON variant ``"K32"``, ``"K64"`` or ``"K128"`` (section 6.5), other fields overridden."""
    validate.check_choice("variant", name, tuple(VARIANTS))
    return Config(**{"dp_width": VARIANTS[name], **overrides})


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


def _tmma(config: Config, mode: str, active_bits=None) -> tuple[Report, Any, Any, Any]:
    """(:func:`tmma`'s Report, weight columns ``N_t``, pipeline stage s, streams), one bank
    evaluation (``active_bits``: a tunable SAR's resolution per conversion). The stage is the
    bank's ``(#streams + 3) x stage`` vector latency over ``#streams + 3``: the slower of the
    ADC stage and the ``s``-cycle stages."""
    b = bank(config)
    parts = cim.energy_breakdown(b, active_bits, mode=mode)
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
    relax.check_mode(mode)
    return _tmma(config, mode)[0]


#: Knobs :func:`inference` takes per layer (:class:`hwjax.system.LayerKnobs`): the A (streaming)
#: and B (stationary) operand bits, the active bits of a tunable SAR and the block occupancy.
LAYER_KNOBS = ("input_bits", "weight_bits", "adc_bits", "occupancy")
#: Knobs :func:`turing_inference` takes per layer (Turing's ADC-free tensor cores).
TURING_LAYER_KNOBS = ("input_bits", "weight_bits", "occupancy")


def _table(workload) -> system.LayerTable:
    """The :func:`hwjax.system.layer_table` of a Network, or of one ``GEMM`` as a network."""
    if isinstance(workload, workloads.GEMM):
        workload = workloads.Network("gemm", (workload,))
    return system.layer_table(workload)


#: Per-layer operand bits and the Config fields they set (A: ``act_bits``, B: ``weight_bits``).
_OPERAND_KNOBS = {"input_bits": "act_bits", "weight_bits": "weight_bits"}


def _active_bits(config: Config, knobs: system.LayerKnobs):
    """Per-layer ADC resolution of a tunable SAR (``layers.adc_bits``), or ``None``."""
    if knobs.adc_bits is None:
        return None
    if config.adc_kind != "tunable_sar":
        raise ValueError(
            "layers.adc_bits sets each layer's active bits of a tunable SAR (section 6.6.2); it needs "
            f"Config(adc_kind='tunable_sar'), this Config has adc_kind={config.adc_kind!r}"
        )
    active = validate.check_range("layers.adc_bits", knobs.adc_bits, *cim.ADC_BITS_RANGE)
    if not validate.is_traced((active, config.dp_width, config.stream_width, config.slice_width)):
        width = np.asarray(config.stream_width, float) * np.asarray(config.slice_width, float)
        full = float(np.min(np.log2(np.asarray(config.dp_width, float)) + width))
        if np.any(np.asarray(active, float) > full):
            raise ValueError(
                f"layers.adc_bits={np.max(active):g} exceeds the bank's ADC resolution log2(dp_width) + "
                f"stream_width * slice_width; the allowed range is [1, {full:g}] bits"
            )
    return active


def _shared_unit(parts: Report, table: system.LayerTable) -> Cost:
    """Area (m²) and leakage (W) of one unit that runs every layer: each part's largest over the
    layers with matrices (per-layer knobs size its registers per layer; the hardware holds the
    largest)."""
    used = table.has_ops if table.has_ops.any() else np.ones_like(table.has_ops)

    def largest(x):
        x = jnp.asarray(x)
        return jnp.max(jnp.where(used, x, 0.0)) if x.ndim else x

    leaves = list(parts.flat().values())
    area = sum(largest(leaf.area) for leaf in leaves)
    return unchecked(0.0, 0.0, area, sum(largest(leaf.leakage) for leaf in leaves))


def _column(x):
    """A per-layer value ``(L,)`` (or a scalar) as a column against the ``(L, K)`` grids."""
    x = jnp.asarray(x)
    return x[:, None] if x.ndim else x


def _busy_share(work, rounds, units):
    """Units working on average while ``work`` blocks run in ``rounds`` equal rounds on
    ``units`` units: ``work / rounds``, at most ``units`` (0 without rounds)."""
    some = rounds > 0
    return jnp.minimum(jnp.where(some, work / jnp.where(some, rounds, 1.0), 0.0), units)


def _series_report(table, items: dict[str, Cost], leakage_energy, allocated: Cost, units, latency):
    """The layers in series (no inter-layer pipelining: one GEMM after another on the same
    units), each with its ``"leakage"`` energy (J), and the last ``"idle"`` row: the leakage
    energy of the ``units`` waiting while the layers run (never gated), and their area, which
    every layer shares.

    The units are time-shared (:func:`hwjax.system.idle_leakage`'s ``"time_shared"`` rule):
    while a layer runs, the units it does not use leak.
    """
    items = {**items, "leakage": unchecked(leakage_energy, 0.0)}
    working = leakage_energy / jnp.where(latency > 0, latency, 1.0)  # W of the units in use
    idle = system.idle_leakage(working, latency, units * allocated.leakage, "time_shared")
    return system.layer_report(table, items, unchecked(idle, 0.0, units * allocated.area))


@system.batched
def inference(config: Config, workload, mode: str = "ste", layers: system.LayerKnobs | None = None) -> Report:
    """A GEMM workload (Table 6.2: ``hwjax_models.workloads.get("timon_gnmt_1")`` etc.) on TIMON.

    Every matrix op (``K x N`` stationary ``B``, ``M`` vectors of ``A``) is cut into bank tiles of
    ``d`` rows by ``N_t`` weight columns (:func:`hwjax.system.map_layers`; a tile is one logical
    array) and its ``tiles x M`` vectors run on the ``sms x sub_cores_per_sm x tensor_banks``
    computing banks in ``ceil(tiles / banks)`` rounds of ``(M x #streams + 3)`` stages (module
    docstring). The layers run one after another on the same banks. All layers at once, as
    arrays over the layers (:func:`hwjax.system.layer_table`).

    Args:
        config: the GPU; leaves of shape ``(n,)`` give a batch of ``n`` designs
            (:func:`hwjax.system.batched`).
        workload: a :class:`hwjax.workloads.Network` (or one ``GEMM``); every layer's matrix
            ops run on the register-file banks (a layer without matrices costs nothing here).
        mode: relaxation of tile, round and stream counts.
        layers: per-layer knobs (:data:`LAYER_KNOBS`, :class:`hwjax.system.LayerKnobs`), arrays
            ``(L,)``: ``input_bits`` and ``weight_bits`` (the A and B operand bits, in [1, 16],
            for ``act_bits`` and ``weight_bits``), ``adc_bits`` (active bits of each conversion,
            ``adc_kind="tunable_sar"`` only, at most the bank's ``log2 d + t l``) and
            ``occupancy`` (fraction of the stationary matrix's bank tiles holding any nonzero:
            empty tiles are neither loaded, computed nor converted).

    Returns:
        ``Report({layer: Report({"row_peripheral", "sram_array", "column_peripheral",
        "register_file", "leakage"}, "serial"), ..., "idle": Cost}, "serial")``. Dynamic
        energies (J) per part; the layer's latency (s) and ops (2 x MACs) sit on
        ``column_peripheral`` (the ADC-bound pipeline); ``leakage`` is the leakage energy (J) of
        the banks working on the layer (``tiles / rounds`` of them on average) over its latency.
        ``idle`` holds the other banks' leakage energy while the layers run and the computing
        banks' peripheral area (m²), shared by all layers. Every leakage field is 0; leaf rows
        add up to the total in every field.
    """
    relax.check_mode(mode)
    table = _table(workload)
    knobs = system.check_layer_knobs(layers, table, LAYER_KNOBS)
    layer_config = system.layer_config(config, knobs, _OPERAND_KNOBS)
    parts, columns, stage, streams = _tmma(layer_config, mode, _active_bits(config, knobs))
    target = mapping.ArrayTarget(rows=config.dp_width, cols=columns, bits_per_cell=1.0, weight_bits=1.0)
    m = system.map_layers(table, target, False, mode, knobs.occupancy)
    banks = _sub_cores(config) * config.tensor_banks
    vectors = table.to_layers(m.mvms)  # bank tiles x streamed rows
    rounds = relax.ceil(m.logical_arrays / banks, mode=mode)
    duration = rounds * (table.vectors * _column(streams) + cim.PIPELINE_FILL) * _column(stage)
    latency = table.to_layers(duration)
    items = {name: unchecked(vectors * total(part).energy, 0.0) for name, part in parts.items()}
    column = items["column_peripheral"]
    items["column_peripheral"] = unchecked(column.energy, latency, ops=OPS_PER_MAC * table.to_layers(m.macs))
    unit = _shared_unit(parts, table)
    busy = table.to_layers(_busy_share(m.logical_arrays, rounds, banks) * duration)  # bank-seconds
    return _series_report(table, items, busy * unit.leakage, unit, banks, latency)


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


def _turing_wmma(config: Config, mode: str) -> Report:
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


def turing_wmma(config: Config, mode: str = "ste") -> Report:
    """One WMMA 16 x 16 x 16 (four HMMA.1688) on a Turing sub-core's tensor cores.

    Returns:
        ``Report({"register_file", "buffer", "macs"}, "parallel")``: dynamic energies (J), each
        with the WMMA's cycles (:func:`hwjax.components.regfile.wmma_cycles`, 56 at 16 bits,
        Table 6.1), areas (m²: MACs and buffer; the register file is the host's) and leakage (W);
        ``ops`` = 8192 on ``macs``.
    """
    relax.check_mode(mode)
    return _turing_wmma(config, mode)


@system.batched
def turing_inference(
    config: Config, workload, mode: str = "ste", layers: system.LayerKnobs | None = None
) -> Report:
    """The same workload on the Turing tensor cores (WMMA 16 x 16 x 16 tiles over all sub-cores).

    A matrix op ``K x N`` over ``M`` vectors is ``ceil(M / 16) x ceil(K / 16) x ceil(N / 16)``
    WMMAs (the ``B`` tiles mapped by :func:`hwjax.system.map_layers` onto 16 x 16 blocks),
    spread over the sub-cores in ``ceil(WMMAs / sub-cores)`` rounds of :func:`turing_wmma`'s
    latency; the layers run one after another.

    Args:
        config, workload, mode: as :func:`inference`.
        layers: per-layer knobs (:data:`TURING_LAYER_KNOBS`), arrays ``(L,)``: ``input_bits`` and
            ``weight_bits`` (Turing runs each layer at their maximum) and ``occupancy`` (fraction
            of ``B``'s 16 x 16 tiles holding any nonzero: a block-sparse kernel skips the rest).

    Returns:
        ``Report({layer: Report({"register_file", "buffer", "macs", "leakage"}, "serial"), ...,
        "idle": Cost}, "serial")``; the layer's latency and ops sit on ``macs``, ``leakage`` is
        the working sub-cores' tensor-core leakage energy (J) over the layer, and ``idle`` holds
        the waiting sub-cores' leakage energy and the tensor cores' area (m²), as
        :func:`inference`.
    """
    relax.check_mode(mode)
    table = _table(workload)
    knobs = system.check_layer_knobs(layers, table, TURING_LAYER_KNOBS)
    wmma = _turing_wmma(system.layer_config(config, knobs, _OPERAND_KNOBS), mode)
    m, n, k = WMMA_SHAPE
    target = mapping.ArrayTarget(rows=k, cols=n, bits_per_cell=1.0, weight_bits=1.0)
    blocks = system.map_layers(table, target, False, mode, knobs.occupancy)
    count = relax.ceil(table.vectors / m, mode=mode) * blocks.logical_arrays  # WMMAs
    sub_cores = _sub_cores(config)
    rounds = relax.ceil(count / sub_cores, mode=mode)
    duration = rounds * _column(total(wmma).latency)
    latency = table.to_layers(duration)
    wmmas = table.to_layers(count)
    items = {name: unchecked(wmmas * part.energy, 0.0) for name, part in wmma.items()}
    ops = OPS_PER_MAC * table.to_layers(blocks.macs)
    items["macs"] = unchecked(items["macs"].energy, latency, ops=ops)
    unit = _shared_unit(wmma, table)
    busy = table.to_layers(_busy_share(count, rounds, sub_cores) * duration)  # sub-core-seconds
    return _series_report(table, items, busy * unit.leakage, unit, sub_cores, latency)


def _dynamic(report: Report, exclude: tuple[str, ...] = ()):
    """Dynamic energy (J) and latency (s) of an inference Report (leakage entries and the
    entries named in ``exclude`` left out of the energy)."""
    energy = 0.0
    for layer in (item for item in report.values() if isinstance(item, Report)):
        energy = energy + total(layer).energy - layer["leakage"].energy
        energy = energy - sum(layer[name].energy for name in exclude)
    return energy, total(report).latency


def versus_turing(
    config: Config,
    workload,
    mode: str = "ste",
    register_traffic: bool = False,
    layers: system.LayerKnobs | None = None,
) -> dict[str, Any]:
    """TIMON's speedup and dynamic-energy gain over the Turing tensor cores (Fig. 6.17).

    Args:
        register_traffic: whether TIMON's energy includes its conventional register-file traffic
            (the TMMA's IR load, C read and D write). ``False`` (default) compares in the
            dissertation's scope: TIMON's energy is Fig. 6.9's (row peripheral, SRAM array,
            column peripheral; section 6.7.3 explains Fig. 6.17(a) by Fig. 6.9's energy per MAC),
            Turing's is Fig. 6.17(c)'s (register file, buffer, MACs).
        layers: per-layer knobs of :func:`inference`; Turing takes the same operand bits and
            occupancy (the fraction of its own 16 x 16 tiles, which a caller comparing sparse
            matrices may want to set apart) and has no ADC.

    Returns:
        ``{"speedup": Turing latency / TIMON latency, "energy_gain": Turing dynamic energy /
        TIMON dynamic energy}`` (arrays shaped like the knobs).
    """
    exclude = () if register_traffic else ("register_file",)
    turing_layers = None if layers is None else dataclasses.replace(layers, adc_bits=None)
    timon_energy, timon_latency = _dynamic(inference(config, workload, mode, layers=layers), exclude)
    turing_energy, turing_latency = _dynamic(turing_inference(config, workload, mode, layers=turing_layers))
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
    relax.check_mode(mode)
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
    relax.check_mode(mode)
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
    relax.check_mode(mode)
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
    relax.check_mode(mode)
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
    "LAYER_KNOBS",
    "TURING_LAYER_KNOBS",
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
