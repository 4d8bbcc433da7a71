"""Contract rows for :mod:`hwjax.components.memory` (buffers, MLC eNVM arrays, misreads).

Knob ranges are documented valid ranges chosen so that every combination is a valid design
(a bank always holds at least one word: capacity >= 1 KiB, width <= 1024 bits, banks <= 8).
"""

from __future__ import annotations

import hwjax as hj
from hwjax import relax
from hwjax.components import memory

from .contract_row import ContractRow

_BAD_MODE = ({"mode": "fuzzy"}, "mode")
_VDD32 = hj.vdd_range(32)


def _buffer_access(mode, capacity_bytes, width_bits, ports, banks, vdd, bits, kind, op, calibration):
    mem = memory.Memory(
        capacity_bytes, width_bits, ports, banks, hj.Tech(32, vdd), kind=kind, calibration=calibration
    )
    return memory.access(mem, bits, op=op, mode=mode)


def _buffer_row(kind: str, op: str, calibration: str = "cacti") -> ContractRow:
    return ContractRow(
        name=f"memory.access[{kind} {op} {calibration}]",
        fn=_buffer_access,
        inputs={
            "capacity_bytes": 65536.0,
            "width_bits": 256.0,
            "ports": 2.0,
            "banks": 2.0,
            "vdd": 0.9,
            "bits": 3000.0,
            "kind": kind,
            "op": op,
            "calibration": calibration,
        },
        knobs={
            "capacity_bytes": (1024.0, 2.0**24),
            "width_bits": (8.0, 1024.0),
            "ports": (1.0, 8.0),
            "banks": (1.0, 8.0),
            "vdd": _VDD32,
            "bits": (0.0, 1e9),
        },
        bad_inputs=(
            _BAD_MODE,
            ({"capacity_bytes": 0.0}, "capacity_bytes"),
            ({"width_bits": -4.0}, "width_bits"),
            ({"width_bits": 4096.0, "capacity_bytes": 256.0}, "width_bits"),
            ({"ports": 0.5}, "ports"),
            ({"banks": 4096.0}, "banks"),
            ({"bits": -1.0}, "bits"),
            ({"vdd": 2.0}, "vdd"),
            ({"kind": "dram"}, "kind"),
            ({"op": "erase"}, "op"),
            ({"calibration": "isaac"}, "calibration"),
        ),
        modes=relax.MODES,
    )


def _envm_read(mode, capacity_bytes, width_bits, bits_per_cell, level_sigma, bits, technology):
    array = memory.EnvmArray(capacity_bytes, width_bits, bits_per_cell, level_sigma, technology=technology)
    return {
        "read": memory.envm_read(array, bits, mode),
        "write_time": memory.envm_write_time(array, bits, mode),
        "misread": memory.envm_misread(array),
    }


def _envm_row(technology: str, max_bits: float, has_preset_sigma: bool) -> ContractRow:
    needs_sigma = () if has_preset_sigma else (({"level_sigma": None}, "level_sigma"),)
    return ContractRow(
        name=f"memory.envm[{technology}]",
        fn=_envm_read,
        inputs={
            "capacity_bytes": 2.0**22,
            "width_bits": 64.0,
            "bits_per_cell": 1.6,
            "level_sigma": 0.03,
            "bits": 5000.0,
            "technology": technology,
        },
        knobs={
            "capacity_bytes": (1024.0, 2.0**30),
            "width_bits": (8.0, 1024.0),
            "bits_per_cell": (1.0, max_bits),
            "level_sigma": (1e-3, 0.5),
            "bits": (0.0, 1e9),
        },
        bad_inputs=(
            _BAD_MODE,
            ({"bits_per_cell": max_bits + 1.0}, "bits_per_cell"),
            ({"bits_per_cell": 0.5}, "bits_per_cell"),
            ({"level_sigma": 0.0}, "level_sigma"),
            ({"capacity_bytes": 100.0}, "capacity_bytes"),
            ({"width_bits": 0.0}, "width_bits"),
            ({"bits": -3.0}, "bits"),
            ({"technology": "flash"}, "technology"),
            *needs_sigma,
        ),
        modes=relax.MODES,
    )


def _misread(mode, bits_per_cell, level_sigma, sense_sigma):
    return memory.mlc_misread(bits_per_cell, level_sigma, sense_sigma)


def _busy_cycle(mode, capacity_bytes, cycle, accesses):
    return memory.busy_cycle(memory.Memory(capacity_bytes, 256.0, kind="edram"), cycle, accesses)


ROWS: list[ContractRow] = [
    ContractRow(
        name="memory.busy_cycle",
        fn=_busy_cycle,
        inputs={"capacity_bytes": 65536.0, "cycle": 1e-9, "accesses": 2.0},
        knobs={"capacity_bytes": (1024.0, 2.0**24), "cycle": (1e-10, 1e-6), "accesses": (0.0, 16.0)},
        bad_inputs=(({"capacity_bytes": 0.0}, "capacity_bytes"), ({"accesses": -1.0}, "accesses")),
    ),
    _buffer_row("sram", "read"),
    _buffer_row("edram", "write"),
    _buffer_row("sram", "read", "puma_instruction"),
    _envm_row("ctt", 3.0, True),
    _envm_row("rram", 3.0, True),
    _envm_row("pcm", 2.0, False),
    _envm_row("stt", 2.0, False),
    ContractRow(
        name="memory.mlc_misread",
        fn=_misread,
        inputs={"bits_per_cell": [1.2, 2.0, 2.5, 3.0], "level_sigma": 0.02, "sense_sigma": 0.005},
        knobs={"bits_per_cell": (1.0, 4.0), "level_sigma": (1e-3, 0.5), "sense_sigma": (0.0, 0.5)},
        bad_inputs=(
            ({"bits_per_cell": 5.0}, "bits_per_cell"),
            ({"level_sigma": -0.1}, "level_sigma"),
            ({"sense_sigma": float("nan")}, "sense_sigma"),
        ),
    ),
]
