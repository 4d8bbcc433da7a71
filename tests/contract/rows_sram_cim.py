"""Contract rows of ``hwjax.components.sram_cim`` (TIMON's SRAM compute-in-memory bank).

Knob ranges are chosen so that every combination is a valid bank: with ``dp_width`` in
[4, 128], ``chunks`` in [1, 4] and stream and slice widths in [1, 3], the rows per step
``d / s`` lie in [1, 128], the ADC resolution ``log2(d) + t*l`` in [3, 16] bits and a weight
column spans at most 72 of the 128 bitlines.
"""

from __future__ import annotations

import hwjax as hj
from hwjax import relax
from hwjax.components import sram_cim as S

from .contract_row import ContractRow

_VDD_RANGE = hj.vdd_range(45, "HP")

_KNOBS = {
    "dp_width": (4.0, 128.0),
    "stream_width": (1.0, 3.0),
    "slice_width": (1.0, 3.0),
    "adcs": (1.0, 64.0),
    "chunks": (1.0, 4.0),
    "input_bits": (1.0, 16.0),
    "weight_bits": (1.0, 16.0),
    "input_density": (0.0, 1.0),
    "weight_density": (0.0, 1.0),
    "vdd": _VDD_RANGE,
}
_INPUTS = {
    "dp_width": 64.0,
    "stream_width": 1.2,
    "slice_width": 1.3,
    "adcs": 32.0,
    "chunks": 3.0,
    "input_bits": 16.0,
    "weight_bits": 8.0,
    "input_density": 0.5,
    "weight_density": 0.4,
    "vdd": 0.95,
}
_RATES = {"adc_sample_rate": (1e8, 1e10), "clock_rate": (1e8, 5e9), "output_bits": (8.0, 64.0)}
_RATE_INPUTS = {"adc_sample_rate": 8e8, "clock_rate": 1.35e9, "output_bits": 32.0}
_READ = {"cell_energy": (0.0, 1e-12), "sense_energy": (0.0, 1e-12)}
_READ_INPUTS = {"cell_energy": 5e-14, "sense_energy": 4e-14}

_BAD = (
    ({"mode": "fuzzy"}, "mode"),
    ({"dp_width": 0.5}, "dp_width"),
    ({"stream_width": 3.0, "slice_width": 3.0, "dp_width": 256.0}, "slice_width"),
    ({"chunks": 0.5}, "chunks"),
    ({"adcs": 0.0}, "adcs"),
    ({"input_density": -0.1}, "input_density"),
    ({"vdd": 2.0}, "vdd"),
)


def _bank(vdd, adc_kind="sar", **knobs) -> S.SRAMCIMBank:
    return S.SRAMCIMBank(tech=hj.Tech(45, vdd, "HP"), adc_kind=adc_kind, **knobs)


def _mvm(mode, **knobs):
    return S.mvm(_bank(**knobs), mode=mode)


def _tunable_mvm(mode, active_bits, **knobs):
    return S.mvm(_bank(adc_kind="tunable_sar", **knobs), active_bits=active_bits, mode=mode)


def _energy_breakdown(mode, **knobs):
    return S.energy_breakdown(_bank(**knobs), mode=mode)


def _area_breakdown(mode, **knobs):
    return S.area_breakdown(_bank(**knobs), mode=mode)


def _stage_latencies(mode, **knobs):
    return S.stage_latencies(_bank(**knobs), mode=mode)


def _adc_resolution(mode, **knobs):
    return S.adc_resolution(_bank(**knobs))


def _row(name: str, fn, knobs=None, inputs=None, bad=_BAD, modes=relax.MODES) -> ContractRow:
    return ContractRow(
        name=f"sram_cim.{name}",
        fn=fn,
        inputs={**_INPUTS, **(inputs or {})},
        knobs={**_KNOBS, **(knobs or {})},
        bad_inputs=bad,
        modes=modes,
    )


ROWS: list[ContractRow] = [
    _row("mvm", _mvm, {**_RATES, **_READ}, {**_RATE_INPUTS, **_READ_INPUTS}),
    _row(
        "mvm[tunable_sar]",
        _tunable_mvm,
        {"active_bits": (1.0, 3.0)},
        {"active_bits": 2.0},
        (*_BAD, ({"active_bits": 20.0}, "active_bits")),
    ),
    _row("energy_breakdown", _energy_breakdown),
    _row("area_breakdown", _area_breakdown),
    _row("stage_latencies", _stage_latencies, _RATES, _RATE_INPUTS),
    _row("adc_resolution", _adc_resolution, bad=_BAD[1:], modes=(None,)),
]
