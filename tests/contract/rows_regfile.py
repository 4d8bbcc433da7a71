"""Contract rows for :mod:`hwjax.components.regfile` (ROM-embedded RF, GPGPU RF)."""

from __future__ import annotations

import hwjax as hj
from hwjax import relax
from hwjax.components import regfile

from .contract_row import ContractRow

_BAD_MODE = ({"mode": "fuzzy"}, "mode")
_ROM_KNOBS = {
    "xbar_size": (8.0, 1024.0),
    "xbars_per_core": (1.0, 64.0),
    "word_bits": (4.0, 64.0),
    "vdd": hj.vdd_range(32),
}
_ROM_INPUTS = {"xbar_size": 128.0, "xbars_per_core": 2.0, "word_bits": 16.0, "vdd": 0.9}
_ROM_BAD = (
    _BAD_MODE,
    ({"xbar_size": 4.0}, "xbar_size"),
    ({"xbars_per_core": 0.0}, "xbars_per_core"),
    ({"word_bits": 128.0}, "word_bits"),
    ({"vdd": 0.1}, "vdd"),
)


def _rom_rf(xbar_size, xbars_per_core, word_bits, vdd):
    return regfile.RomRegisterFile(xbar_size, xbars_per_core, word_bits, hj.Tech(32, vdd))


def _rf_access(mode, bits, op, **knobs):
    return regfile.rf_access(_rom_rf(**knobs), bits, op, mode)


def _rom_lookup(mode, lookups, **knobs):
    return regfile.rom_lookup(_rom_rf(**knobs), lookups, mode)


_GPU_KNOBS = {
    "capacity_bytes": (2.0**15, 2.0**20),
    "banks": (1.0, 8.0),
    "sub_banks": (1.0, 8.0),
    "register_bits": (128.0, 4096.0),
    "clock_hz": (1e8, 5e9),
}
_GPU_INPUTS = {
    "capacity_bytes": 65536.0,
    "banks": 4.0,
    "sub_banks": 8.0,
    "register_bits": 1024.0,
    "clock_hz": 1.5e9,
}
_GPU_BAD = (
    _BAD_MODE,
    ({"capacity_bytes": 100.0}, "capacity_bytes"),
    ({"banks": 0.0}, "banks"),
    ({"register_bits": 64.0}, "register_bits"),
    ({"clock_hz": float("inf")}, "clock_hz"),
)


def _gpu_rf(capacity_bytes, banks, sub_banks, register_bits, clock_hz):
    return regfile.GpgpuRegisterFile(capacity_bytes, banks, sub_banks, register_bits, clock_hz=clock_hz)


def _gpu_access(mode, nbytes, op, **knobs):
    return regfile.gpgpu_rf_access(_gpu_rf(**knobs), nbytes, op, mode)


def _gpu_wmma(mode, big_m, big_n, big_k, m, n, k, reuse, **knobs):
    rf = _gpu_rf(**knobs)
    traffic = regfile.wmma_rf_traffic((big_m, big_n, big_k), (m, n, k), reuse, mode=mode)
    return {"cost": regfile.gpgpu_rf_wmma(rf, (big_m, big_n, big_k), (m, n, k), reuse, mode=mode), **traffic}


_SHAPE_KNOBS = {
    "big_m": (1.0, 256.0),
    "big_n": (1.0, 256.0),
    "big_k": (1.0, 256.0),
    "m": (1.0, 32.0),
    "n": (1.0, 32.0),
    "k": (1.0, 32.0),
}

ROWS: list[ContractRow] = [
    ContractRow(
        name="regfile.rf_access",
        fn=_rf_access,
        inputs={**_ROM_INPUTS, "bits": 2000.0, "op": "write"},
        knobs={**_ROM_KNOBS, "bits": (0.0, 1e9)},
        bad_inputs=(*_ROM_BAD, ({"bits": -1.0}, "bits"), ({"op": "erase"}, "op")),
        modes=relax.MODES,
    ),
    ContractRow(
        name="regfile.rom_lookup",
        fn=_rom_lookup,
        inputs={**_ROM_INPUTS, "lookups": 37.5},
        knobs={**_ROM_KNOBS, "lookups": (0.0, 1e6)},
        bad_inputs=(*_ROM_BAD, ({"lookups": -2.0}, "lookups")),
        modes=relax.MODES,
    ),
    ContractRow(
        name="regfile.gpgpu_rf_access",
        fn=_gpu_access,
        inputs={**_GPU_INPUTS, "nbytes": 1000.0, "op": "read"},
        knobs={**_GPU_KNOBS, "nbytes": (0.0, 1e9)},
        bad_inputs=(*_GPU_BAD, ({"nbytes": -1.0}, "nbytes"), ({"op": "copy"}, "op")),
        modes=relax.MODES,
    ),
    ContractRow(
        name="regfile.gpgpu_rf_wmma",
        fn=_gpu_wmma,
        inputs={
            **_GPU_INPUTS,
            "big_m": 16.0,
            "big_n": 16.0,
            "big_k": 16.0,
            "m": 16.0,
            "n": 8.0,
            "k": 8.0,
            "reuse": False,
        },
        knobs={**_GPU_KNOBS, **_SHAPE_KNOBS},
        bad_inputs=(*_GPU_BAD, ({"m": 0.0}, "m"), ({"k": -8.0}, "k")),
        modes=relax.MODES,
    ),
]
