"""Contract rows for the DAC family (``hwjax.components.dac``): one per public action.

Knob ranges are the documented valid ranges, narrowed where two knobs are coupled: a hold or
slot time must last at least one conversion period ``1 / sample_rate``, so rows that vary both
keep ``sample_rate >= 1 / min(hold)``.
"""

from __future__ import annotations

import hwjax as hj
from hwjax import relax
from hwjax.components import dac as D

from .contract_row import ContractRow

_BAD_MODE = ({"mode": "fuzzy"}, "mode")
_BETA_RANGE = (1e-16, 1e-13)  # F: 0.1 fF to 100 fF spans the inverter to an 8-bit CDAC
_VDD32 = hj.vdd_range(32, "HP")
_VDD22 = hj.vdd_range(22, "HP")


def _dac(bits, sample_rate, vdd, node=32, beta=None, calibration="isaac") -> D.DAC:
    return D.DAC(bits, sample_rate, hj.Tech(node, vdd, "HP"), beta, calibration)


def _conversion(mode, bits, sample_rate, vdd, beta, node, calibration):
    dac = _dac(bits, sample_rate, vdd, node, beta, calibration)
    return {
        "cost": D.conversion(dac),
        "power": D.power(dac),
        "capacitance": D.switched_capacitance(dac),
    }


def _conversion_row(name: str, node: int, calibration: str, vdd_range) -> ContractRow:
    return ContractRow(
        name=f"dac.conversion[{name}]",
        fn=_conversion,
        inputs={
            "bits": 4.3,
            "sample_rate": 1.3e9,
            "vdd": 0.95 * hj.nominal_vdd(node),
            "beta": 2e-15,
            "node": node,
            "calibration": calibration,
        },
        knobs={
            "bits": D.BITS_RANGE,
            "sample_rate": D.SAMPLE_RATE_RANGE,
            "vdd": vdd_range,
            "beta": _BETA_RANGE,
        },
        bad_inputs=(
            ({"bits": 0.0}, "bits"),
            ({"bits": 17.0}, "bits"),
            ({"sample_rate": 0.0}, "sample_rate"),
            ({"vdd": 3.0}, "vdd"),
            ({"beta": -1e-15}, "beta"),
            ({"beta": float("nan")}, "beta"),
            ({"calibration": "saberi"}, "calibration"),
            ({"node": 5}, "node_nm"),
        ),
    )


def _drive_rows(mode, bits, sample_rate, vdd, rows, input_bits, hold_time):
    return D.drive_rows(_dac(bits, sample_rate, vdd), rows, input_bits, hold_time, mode=mode)


def _pulse_width(mode, bits, sample_rate, vdd, rows, slot_time):
    return D.pulse_width(_dac(bits, sample_rate, vdd), rows, slot_time)


def _pulse_amplitude(mode, bits, vdd, beta, cols, hold_time):
    dac = _dac(bits, 1e9, vdd, node=22, beta=beta, calibration="brahms")
    return D.pulse_amplitude(dac, cols, hold_time)


def _outer_product(mode, row_bits, col_bits, vdd, rows, cols, input_bits, slices, slot_time):
    row_dac = _dac(row_bits, 1e9, vdd)
    col_dac = _dac(col_bits, 2e9, vdd, calibration="brahms")
    return D.outer_product_update(row_dac, col_dac, rows, cols, input_bits, slices, slot_time, mode=mode)


ROWS: list[ContractRow] = [
    _conversion_row("isaac 32nm", 32, "isaac", _VDD32),
    _conversion_row("brahms 22nm", 22, "brahms", _VDD22),
    ContractRow(
        name="dac.drive_rows",
        fn=_drive_rows,
        inputs={
            "bits": 1.7,
            "sample_rate": 1e9,
            "vdd": 0.9,
            "rows": 128.0,
            "input_bits": 16.0,
            "hold_time": 1.0e-7,
        },
        knobs={
            "bits": D.BITS_RANGE,
            "sample_rate": (1e7, 1e11),
            "vdd": _VDD32,
            "rows": (1.0, 4096.0),
            "input_bits": D.INPUT_BITS_RANGE,
            "hold_time": (1e-7, 1e-5),
        },
        bad_inputs=(
            _BAD_MODE,
            ({"rows": 0.0}, "rows"),
            ({"input_bits": 0.5}, "input_bits"),
            ({"input_bits": 65.0}, "input_bits"),
            ({"hold_time": -1e-9}, "hold_time"),
            ({"hold_time": 1e-10}, "hold_time"),
            ({"bits": -1.0}, "bits"),
        ),
        modes=relax.MODES,
    ),
    ContractRow(
        name="dac.pulse_width",
        fn=_pulse_width,
        inputs={"bits": 2.5, "sample_rate": 2e9, "vdd": 0.85, "rows": 128.0, "slot_time": 3e-9},
        knobs={
            "bits": (1.0, 8.0),
            "sample_rate": (1e9, 1e11),
            "vdd": _VDD32,
            "rows": (1.0, 4096.0),
            "slot_time": (1e-9, 1e-6),
        },
        bad_inputs=(
            ({"rows": 0.5}, "rows"),
            ({"slot_time": 1e-10}, "slot_time"),
            ({"slot_time": float("inf")}, "slot_time"),
            ({"sample_rate": 1e12}, "sample_rate"),
        ),
    ),
    ContractRow(
        name="dac.pulse_amplitude",
        fn=_pulse_amplitude,
        inputs={"bits": 4.0, "vdd": 0.85, "beta": 9e-15, "cols": 1024.0, "hold_time": 5e-9},
        knobs={
            "bits": D.BITS_RANGE,
            "vdd": _VDD22,
            "beta": _BETA_RANGE,
            "cols": (1.0, 1e5),
            "hold_time": (1e-9, 1e-6),
        },
        bad_inputs=(
            ({"cols": 0.0}, "cols"),
            ({"hold_time": 0.0}, "hold_time"),
            ({"beta": 0.0}, "beta"),
            ({"vdd": 0.2}, "vdd"),
        ),
    ),
    ContractRow(
        name="dac.outer_product_update",
        fn=_outer_product,
        inputs={
            "row_bits": 1.4,
            "col_bits": 4.0,
            "vdd": 0.9,
            "rows": 128.0,
            "cols": 128.0,
            "input_bits": 16.0,
            "slices": 8.0,
            "slot_time": 2e-9,
        },
        knobs={
            "row_bits": (1.0, 8.0),
            "col_bits": D.BITS_RANGE,
            "vdd": _VDD32,
            "rows": (1.0, 4096.0),
            "cols": (1.0, 4096.0),
            "input_bits": D.INPUT_BITS_RANGE,
            "slices": (1.0, 64.0),
            "slot_time": (1e-9, 1e-6),
        },
        bad_inputs=(
            _BAD_MODE,
            ({"rows": 0.0}, "rows"),
            ({"cols": -3.0}, "cols"),
            ({"slices": 0.0}, "slices"),
            ({"input_bits": 0.0}, "input_bits"),
            ({"slot_time": 1e-12}, "slot_time"),
            ({"row_bits": 20.0}, "bits"),
        ),
        modes=relax.MODES,
    ),
]
