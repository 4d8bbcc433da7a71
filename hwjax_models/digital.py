"""A weight-stationary digital (SRAM + MAC array) accelerator: PUMA's and PANTHER's Base_digital.

PANTHER's digital baseline (dissertation section 5.6.3) "uses a digital version of the MCU where
weights are stored in an SRAM array within the core and matrix operations are performed with a
digital VFU"; it adapts the digital baseline of PUMA, "an optimistic estimate of the Google TPU:
it uses weight-stationary MVM computations similar to TPU, but assumes that the entire model is
mapped using on-chip SRAM, thereby avoiding the off-chip memory access costs". This module builds
that design from hwjax components and follows the issue-4 accelerator interface (``Config``,
``core``, ``tile``, ``chip``, ``peak``, ``inference``).

**Hardware.** A node holds ``tiles`` tiles of ``cores_per_tile`` cores. A core is a
``mac_rows x mac_cols`` weight-stationary MAC array (each cell a ``digital.ArithmeticUnit``
multiply-accumulate: a ``weight_bits`` multiplier and an ``accumulator_bits`` adder, Horowitz's
energies scaled to the node) with its slice of the weight SRAM (``memory.Memory``), which loads
one row of ``mac_cols`` weights per cycle into the array. A tile holds the activation buffer
(inputs read a vector of ``mac_rows`` words per cycle, outputs written), the accumulators (partial
sums of ``accumulator_bits``, read-modify-write) and a VFU of ``vfu_width`` lanes (PUMA's
``digital.VFU``; sigmoid, tanh and softmax on ``digital.Activation`` units). Every SRAM is built
of banks of ``sram_bank_bytes`` (at most 1024 banks, at least one). There is no on-chip network
and no off-chip traffic (the whole model stays in on-chip SRAM: the optimistic assumption).

Default: PUMA's technology and clock (32 nm, 1 GHz) so that it compares with PUMA; one core of
128x128 16-bit MACs (TPU's 256x256 8-bit array does the same 16-bit work per cycle, dissertation
Table 3.8 footnote: 92 TOPS at 8 bits is 23 TOPS at 16); a 72.4 MB weight SRAM, the weight
capacity of one PUMA/PANTHER node (138 tiles x 8 cores x 2 MVMUs x 8 crossbars x 128 x 128
2-bit cells, PANTHER Table 5.3's on-chip memory); TPU's 24 MiB activation buffer and 4 MiB
accumulators. :data:`TPU_LIKE` is the same design at TPU's 28 nm and 700 MHz with TPU's 256 KiB
weight FIFO in place of the weight SRAM.

**Full activity** (``chip``): every MAC busy every cycle, the weight SRAM loading one row per
cycle per core (the double-buffered weight path kept busy), the activation buffer reading one
input vector and writing one output vector per core per cycle, the accumulators reading and
writing ``mac_cols`` partial sums per core per cycle, every VFU lane busy. **Peak** (``peak``)
runs MVMs back to back with *stationary* weights (TPU's peak convention: each loaded weight is
reused by enough vectors that its load costs nothing), so its energy is the full-activity energy
less the weight loads; ``ops = 2 x mac_rows x mac_cols x cores`` per cycle.

**Inference** (batch 1, weight stationary). Every SRAM is sized for the workload, the optimistic
reading of "the entire model is mapped using on-chip SRAM" (idle capacity neither leaks nor takes
area): the weight SRAM holds all the weights, the activation buffer the largest layer's inputs and
outputs, the accumulators the largest matrix's outputs over all its vectors (each at least 1 KiB);
the Config's capacities apply to ``chip`` and ``peak`` only. Each matrix is tiled into
``ceil(K / mac_rows) x ceil(N / mac_cols)`` blocks (:func:`hwjax.mapping.map_matrix` used for tiling only).
Each block's weights are read from the SRAM once per inference and stay in the array while all
``V`` vectors stream through it, one per cycle (so convolutions reuse a weight across their output
pixels, while a batch-1 dense or LSTM layer uses each loaded weight once: the PUMA/PANTHER
argument). Energy: the MACs actually done (idle cells clock-gated), the weight reads
(non-stationary matrices read their "weights" from the activation buffer instead), input-vector
reads (every column block re-reads its inputs), partial-sum read-modify-writes and output writes
in the accumulators, output writes to the activation buffer, and the vector ops on the VFU.
Latency: the blocks are spread over the node's cores, ``ceil(blocks / cores)`` rounds each lasting
``max(V, mac_rows)`` cycles (computing ``V`` vectors while the next block's ``mac_rows`` weight
rows load), plus the first load and the array's fill and drain (``2 mac_rows + mac_cols`` cycles);
then the vector ops, ``ceil(elements / vfu_width)`` cycles each. Layers run one after another
(TPU's layer-at-a-time execution). Each layer's ``"leakage"`` entry carries the area and leakage
of its share of the hardware: the weight SRAM in proportion to its weights, the rest split evenly
over the layers, so that the serial total is the whole chip and its leakage is charged over the
whole inference.

Every public function works under ``jit``, ``vmap`` over any ``Config`` leaf and ``grad``; counts
go through :mod:`hwjax.relax` with ``mode``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp

from hwjax import relax, validate
from hwjax import units as u
from hwjax._pytree import pytree_dataclass, static_field
from hwjax.components import digital, memory
from hwjax.cost import Cost, Report, replicate, total, unchecked
from hwjax.mapping import ArrayTarget, map_matrix
from hwjax.tech import Tech, check_tech

#: PUMA's technology (dissertation Table 3.5: 32 nm; simulator vdd 0.9 V).
PUMA_TECH = Tech(32, 0.9)
#: Operations per MAC (multiply and add counted separately, dissertation Table 3.8).
OPS_PER_MAC = 2.0
#: Weight capacity of one PUMA/PANTHER node, bytes (PANTHER Table 5.3: 72.4 MB on-chip memory):
#: 138 tiles x 8 cores x 2 MVMUs x 8 crossbars x 128 x 128 cells x 2 bits.
PUMA_NODE_WEIGHT_BYTES = 138 * 8 * 2 * 8 * 128 * 128 * 2 / 8
#: Most banks a memory may have (the memory model's limit).
MAX_BANKS = 1024.0
_MAX_WIDTH_BITS = 8192.0  # the memory model's widest access

_RANGES = {
    "mac_rows": (8.0, 512.0),
    "mac_cols": (8.0, 512.0),
    "cores_per_tile": (1.0, 64.0),
    "tiles": (1.0, 4096.0),
    "clock_hz": (1e8, 5e9),
    "weight_bits": (4.0, 32.0),
    "input_bits": (4.0, 32.0),
    "accumulator_bits": (8.0, 64.0),
    "weight_buffer_bytes": (1024.0, 2.0**33),
    "activation_buffer_bytes": (1024.0, 2.0**33),
    "accumulator_bytes": (1024.0, 2.0**33),
    "sram_bank_bytes": (1024.0, 2.0**24),
    "vfu_width": (1.0, 4096.0),
}
# VectorOp kinds on the VFU's ALU ops (digital.VFU_OPS); the rest run on activation units.
_VFU_KIND = {"relu": "relu", "add": "add", "mul": "mul", "max": "sub", "copy": "logic"}


@pytree_dataclass
class Config:
    """A weight-stationary digital accelerator (a pytree; defaults: Base_digital, module doc).

    Attributes:
        mac_rows, mac_cols: MAC array size per core (128 x 128), each in [8, 512]; rows take
            the input vector, columns produce outputs.
        cores_per_tile, tiles: cores per tile and tiles per node (1, 1), in [1, 64] / [1, 4096].
        clock_hz: clock, Hz (1 GHz, PUMA's), in [1e8, 5e9].
        weight_bits, input_bits: operand precisions (16, 16), in [4, 32].
        accumulator_bits: partial-sum width (32), in [8, 64].
        weight_buffer_bytes: weight SRAM of the node for ``chip``/``peak`` (72.4 MB), in
            [1 KiB, 8 GiB]; ``inference`` sizes it for the workload instead.
        activation_buffer_bytes, accumulator_bytes: node totals (24 MiB, 4 MiB; TPU's).
        sram_bank_bytes: bank size of every SRAM (64 KiB), in [1 KiB, 16 MiB].
        vfu_width: VFU lanes per tile (128), in [1, 4096].
        tech: CMOS technology (32 nm, 0.9 V; ``vdd`` is a knob).
        name: static label.

    Concrete bad values raise ``ValueError`` naming the field and range; traced values are
    clamped.
    """

    mac_rows: Any = 128.0
    mac_cols: Any = 128.0
    cores_per_tile: Any = 1.0
    tiles: Any = 1.0
    clock_hz: Any = 1.0 * u.GHz
    weight_bits: Any = 16.0
    input_bits: Any = 16.0
    accumulator_bits: Any = 32.0
    weight_buffer_bytes: Any = PUMA_NODE_WEIGHT_BYTES
    activation_buffer_bytes: Any = 24.0 * 2**20
    accumulator_bytes: Any = 4.0 * 2**20
    sram_bank_bytes: Any = 65536.0
    vfu_width: Any = 128.0
    tech: Tech = PUMA_TECH
    name: str = static_field("base_digital")

    def __post_init__(self):
        check_tech(self.tech)
        validate.check_fields(self, _RANGES)


#: TPU-like configuration (dissertation Table 3.8's TPU column: 28 nm, 700 MHz, 16-bit, 23 TOPS
#: at 16 bits; TPU's 24 MiB unified buffer, 4 MiB accumulators, 256 KiB weight FIFO).
TPU_LIKE = Config(clock_hz=700 * u.MHz, weight_buffer_bytes=256.0 * 1024, tech=Tech(28), name="tpu_like")


# ---------------------------------------------------------------------------------------------
# Components.


def _period(c: Config):
    return 1.0 / c.clock_hz


def _cores(c: Config):
    """MAC arrays in the node."""
    return c.tiles * c.cores_per_tile


def _sram(c: Config, capacity_bytes, width_bits) -> memory.Memory:
    """An SRAM of ``capacity_bytes`` in banks of ``sram_bank_bytes`` (1 to 1024 banks)."""
    capacity = jnp.maximum(capacity_bytes, 16.0)
    width = jnp.minimum(jnp.minimum(width_bits, _MAX_WIDTH_BITS), 8.0 * capacity)
    banks = jnp.clip(capacity / c.sram_bank_bytes, 1.0, MAX_BANKS)
    banks = jnp.minimum(banks, jnp.maximum(8.0 * capacity / width * (1.0 - 1e-6), 1.0))
    return memory.Memory(capacity, width, banks=banks, tech=c.tech)


def _weight_buffer(c: Config, node_bytes) -> memory.Memory:
    """One core's slice of the weight SRAM: loads a row of ``mac_cols`` weights per access."""
    return _sram(c, node_bytes / _cores(c), c.mac_cols * c.weight_bits)


def _activation_buffer(c: Config) -> memory.Memory:
    """One tile's activation buffer: a vector of ``mac_rows`` words per access."""
    return _sram(c, c.activation_buffer_bytes / c.tiles, c.mac_rows * c.input_bits)


def _accumulator(c: Config) -> memory.Memory:
    """One tile's accumulators: ``mac_cols`` partial sums per access."""
    return _sram(c, c.accumulator_bytes / c.tiles, c.mac_cols * c.accumulator_bits)


def _multiplier(c: Config) -> digital.ArithmeticUnit:
    return digital.ArithmeticUnit(bits=c.weight_bits, tech=c.tech, cycle=_period(c))


def _mac(c: Config) -> Cost:
    """One multiply-accumulate (energy J, area m² of one cell; 2 ops)."""
    return digital.mac(_multiplier(c), c.accumulator_bits)


def _vfu(c: Config) -> digital.VFU:
    return digital.VFU(width=c.vfu_width, tech=c.tech, cycle=_period(c))


def _per_cycle(energy, c: Config, area=0.0, leakage=0.0) -> Cost:
    return unchecked(energy, _period(c), area, leakage)


# ---------------------------------------------------------------------------------------------
# chip(): one clock cycle at full activity.


@dataclasses.dataclass(frozen=True)
class _Memories:
    """The SRAMs of one configuration, built once per call: one core's weight slice, one
    tile's activation buffer and accumulators."""

    weights: memory.Memory
    activations: memory.Memory
    accumulators: memory.Memory


def _memories(c: Config) -> _Memories:
    return _Memories(_weight_buffer(c, c.weight_buffer_bytes), _activation_buffer(c), _accumulator(c))


def _core(c: Config, mems: _Memories, loading: bool) -> Report:
    mac = _mac(c)
    cells = c.mac_rows * c.mac_cols
    items = {
        "mac_array": _per_cycle(cells * mac.energy, c, cells * mac.area, cells * mac.leakage),
        "weight_buffer": memory.busy_cycle(mems.weights, _period(c), 1.0 if loading else 0.0),
    }
    return Report(items, "parallel")


def core(config: Config, mode: str = "ste") -> Report:
    """One core (MAC array and its weight-SRAM slice) for one clock at full activity.

    Returns:
        Report (parallel): ``mac_array`` (every MAC busy), ``weight_buffer`` (one row of weights
        loaded); energy J per cycle, latency one cycle s, area m², leakage W.
    """
    validate.check_choice("mode", mode, relax.MODES)
    return _core(config, _memories(config), loading=True)


def _tile(c: Config, mode: str, mems: _Memories, loading: bool) -> Report:
    lanes = digital.vfu_op(_vfu(c), c.vfu_width, "add", mode)
    items = {
        "core": replicate(_core(c, mems, loading), c.cores_per_tile),
        # per core and cycle: an input vector read and an output vector written
        "activation_buffer": memory.busy_cycle(mems.activations, _period(c), 2.0 * c.cores_per_tile),
        # per core and cycle: mac_cols partial sums read and written back
        "accumulator": memory.busy_cycle(mems.accumulators, _period(c), 2.0 * c.cores_per_tile),
        "vfu": _per_cycle(lanes.energy, c, lanes.area, lanes.leakage),
    }
    return Report(items, "parallel")


def tile(config: Config, mode: str = "ste") -> Report:
    """One tile for one clock at full activity, un-replicated (its cores included).

    Returns:
        Report (parallel): ``core`` (x ``cores_per_tile``), ``activation_buffer``,
        ``accumulator``, ``vfu``.
    """
    validate.check_choice("mode", mode, relax.MODES)
    return _tile(config, mode, _memories(config), loading=True)


def _chip(c: Config, mode: str, mems: _Memories, loading: bool = True) -> Report:
    node = {"tile": replicate(_tile(c, mode, mems, loading), c.tiles)}
    return Report({"node": Report(node, "parallel")}, "parallel")


def chip(config: Config, mode: str = "ste") -> Report:
    """The node for one clock at full activity (``total(chip(c)).power`` is its power, W).

    Returns:
        ``Report({"node": Report({"tile": <tile x tiles>}, "parallel")}, "parallel")``; no
        network entries (the model stays on chip, module doc).
    """
    validate.check_choice("mode", mode, relax.MODES)
    return _chip(config, mode, _memories(config))


def peak(config: Config, mode: str = "ste") -> Cost:
    """Every MAC busy with stationary weights for one cycle (TPU's peak convention).

    Returns:
        Cost: ``ops`` 2 x MACs per cycle, ``latency`` one cycle (s), ``energy`` the full-activity
        energy less weight loads (J), node ``area`` (m²) and ``leakage`` (W).
    """
    validate.check_choice("mode", mode, relax.MODES)
    c = config
    busy = total(_chip(c, mode, _memories(c), loading=False))
    ops = OPS_PER_MAC * c.mac_rows * c.mac_cols * _cores(c)
    return unchecked(busy.energy, busy.latency, busy.area, busy.leakage, ops)


# ---------------------------------------------------------------------------------------------
# inference(): one batch-1 inference.


@dataclasses.dataclass(frozen=True)
class _Parts:
    """Per-configuration unit costs shared by the layers (J, m², W)."""

    mac: Any  # one MAC
    weight_access: Any  # one weight-row read
    activation_access: Any
    accumulator_access: Any
    activation_unit: Any  # one sigmoid/tanh element
    vfu_ops: dict  # VFU energy per element by VFU op (the ops the workload uses)
    hardware: Cost  # the whole node (area, leakage)
    weight_buffer: Cost  # the weight SRAM alone (area, leakage)


def _parts(c: Config, mode: str, vfu_ops: set) -> _Parts:
    mems = _memories(c)
    activation = digital.Activation(width=1.0, tech=c.tech, cycle=_period(c))
    vfu = _vfu(c)
    weights_area, weights_leakage = memory.area(mems.weights), memory.leakage(mems.weights)
    return _Parts(
        mac=_mac(c).energy,
        weight_access=memory.read_energy(mems.weights),
        activation_access=memory.read_energy(mems.activations),
        accumulator_access=memory.read_energy(mems.accumulators),
        activation_unit=digital.activation(activation, 1.0, mode).energy,
        vfu_ops={op: digital.vfu_op(vfu, 1.0, op, mode).energy for op in sorted(vfu_ops)},
        hardware=total(_chip(c, mode, mems)),
        weight_buffer=unchecked(0.0, 0.0, _cores(c) * weights_area, _cores(c) * weights_leakage),
    )


def _sized_for(config: Config, layers: list) -> Config:
    """``config`` with every SRAM sized for the workload (at least 1 KiB each, module doc).

    Weights: all of them. Activations: the largest layer's inputs plus outputs. Accumulators:
    the largest matrix's outputs over all its vectors, at ``accumulator_bits``.
    """
    ops = [op for layer in layers for op in layer.matrix_ops()]
    weights = sum(op.weights for op in ops)
    activations = max(layer.input_elements + layer.output_elements for layer in layers)
    sums = max((op.cols * op.vectors for op in ops), default=0)
    floor = _RANGES["weight_buffer_bytes"][0]
    return dataclasses.replace(
        config,
        weight_buffer_bytes=jnp.maximum(weights * config.weight_bits / 8.0, floor),
        activation_buffer_bytes=jnp.maximum(activations * config.input_bits / 8.0, floor),
        accumulator_bytes=jnp.maximum(sums * config.accumulator_bits / 8.0, floor),
    )


def _accesses(bits, width, mode: str):
    return relax.ceil(bits / width, mode=mode)


def _matrix(c: Config, p: _Parts, op, mode: str) -> dict[str, Any]:
    """Energies (J), cycles and MACs of one matrix op."""
    # Tiling only: one slice and one input cycle (the bit fields do not affect the block counts).
    target = ArrayTarget(c.mac_rows, c.mac_cols, 1.0, 1.0, 1.0, 1.0)
    m = map_matrix(op, target, input_shuffling=False, mode=mode)
    weight_bits = op.rows * op.cols * c.weight_bits
    row_width, input_width = c.mac_cols * c.weight_bits, c.mac_rows * c.input_bits
    if op.stationary:
        weights, weight_acts = _accesses(weight_bits, row_width, mode) * p.weight_access, 0.0
    else:  # both operands are activations: the "weights" come from the activation buffer
        weights, weight_acts = 0.0, _accesses(weight_bits, input_width, mode) * p.activation_access
    inputs = _accesses(m.input_loads * c.input_bits, input_width, mode) * p.activation_access
    outputs = _accesses(m.outputs * c.input_bits, input_width, mode) * p.activation_access
    sums_width = c.mac_cols * c.accumulator_bits
    sums = _accesses(m.outputs * c.accumulator_bits, sums_width, mode)  # written once
    sums = sums + 2.0 * _accesses(m.partial_sums * c.accumulator_bits, sums_width, mode)  # RMW
    rounds = relax.ceil(m.logical_arrays / _cores(c), mode=mode)
    cycles = rounds * relax.maximum(float(op.vectors), c.mac_rows, mode=mode) + 2.0 * c.mac_rows + c.mac_cols
    return {
        "macs": m.macs,
        "mac_energy": m.macs * p.mac,
        "weight_buffer": weights,
        "activation_buffer": weight_acts + inputs + outputs,
        "accumulator": sums * p.accumulator_access,
        "cycles": cycles,
    }


def _vector(c: Config, p: _Parts, op, mode: str) -> Cost:
    """One VectorOp on the VFU (energy J, latency s)."""
    energy = p.activation_unit if op.kind not in _VFU_KIND else p.vfu_ops[_VFU_KIND[op.kind]]
    cycles = relax.ceil(op.elements / c.vfu_width, mode=mode)
    return unchecked(op.elements * energy, cycles * _period(c))


_TRAFFIC = ("weight_buffer", "activation_buffer", "accumulator")


def _layer_report(c: Config, p: _Parts, layer, share: float, weight_share: float, mode: str) -> Report:
    zero = jnp.zeros(())
    totals = dict.fromkeys(("macs", "mac_energy", "cycles", *_TRAFFIC), zero)
    for op in layer.matrix_ops():
        for key, value in _matrix(c, p, op, mode).items():
            totals[key] = totals[key] + value
    vectors = [_vector(c, p, op, mode) for op in layer.vector_ops()]
    shared = p.hardware.area - p.weight_buffer.area, p.hardware.leakage - p.weight_buffer.leakage
    area = share * shared[0] + weight_share * p.weight_buffer.area
    leakage = share * shared[1] + weight_share * p.weight_buffer.leakage
    items = {
        "mvm": unchecked(
            totals["mac_energy"], totals["cycles"] * _period(c), ops=OPS_PER_MAC * totals["macs"]
        ),
        "vfu": unchecked(sum((v.energy for v in vectors), zero), sum((v.latency for v in vectors), zero)),
        "data_movement": Report({k: unchecked(totals[k], 0.0) for k in _TRAFFIC}, "serial"),
        "leakage": unchecked(0.0, 0.0, area, leakage),
    }
    return Report(items, "serial")


def inference(config: Config, workload, mode: str = "ste") -> Report:
    """Energy and latency of one batch-1 inference of ``workload`` (module docstring).

    Args:
        config: the accelerator; its SRAM capacities are replaced by the workload's needs
            (module doc).
        workload: a :class:`hwjax.workloads.Network` (static structure).
        mode: :mod:`hwjax.relax` mode of every count.

    Returns:
        ``Report({layer: Report({"mvm", "vfu", "data_movement": Report({"weight_buffer",
        "activation_buffer", "accumulator"}), "leakage"}, "serial")}, "serial")``: energies J,
        latencies s (layers in sequence), area m² and leakage W of each layer's share of the
        hardware, ops = 2 x MACs.
    """
    validate.check_choice("mode", mode, relax.MODES)
    layers = list(workload)
    if not layers:
        raise ValueError(f"workload {getattr(workload, 'name', '')!r} has no layers; give at least one")
    weights = [sum(op.weights for op in layer.matrix_ops()) for layer in layers]
    total_weights = sum(weights)
    sized = _sized_for(config, layers)
    kinds = {op.kind for layer in layers for op in layer.vector_ops()}
    p = _parts(sized, mode, {_VFU_KIND[k] for k in kinds if k in _VFU_KIND})
    share = 1.0 / len(layers)
    reports = {}
    for layer, w in zip(layers, weights, strict=True):
        weight_share = w / total_weights if total_weights else share
        reports[layer.name] = _layer_report(sized, p, layer, share, weight_share, mode)
    return Report(reports, "serial")
