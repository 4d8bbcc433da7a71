"""Contract rows for ``hwjax.components.digital``: every action, its knobs and bad inputs."""

from __future__ import annotations

import hwjax as hj
from hwjax import relax
from hwjax.components import digital

from .contract_row import ContractRow

_BAD_MODE = ({"mode": "fuzzy"}, "mode")
_RANGE_45 = hj.vdd_range(45, "HP")
_RANGE_32 = hj.vdd_range(32, "HP")
_RANGE_22 = hj.vdd_range(22, "HP")


def _arithmetic_row(action, number_format: str, node: float, bits_range, example: dict) -> ContractRow:
    """A row for ``add``/``multiply``/``mac`` on a unit built from the knobs."""

    def fn(mode, bits, vdd, exponent_bits, number_format, node):
        tech = hj.Tech(node, vdd)
        unit = digital.ArithmeticUnit(bits, exponent_bits, number_format=number_format, tech=tech)
        return action(unit)

    low, high = hj.vdd_range(node, "HP")
    knobs = {"bits": bits_range, "vdd": (low, high)}
    bad = [
        ({"number_format": "posit"}, "number_format"),
        ({"bits": 0.0}, "bits"),
        ({"bits": -8.0}, "bits"),
        ({"vdd": 2.0}, "vdd"),
    ]
    if number_format == "float":
        knobs["exponent_bits"] = (2.0, 10.0)
        bad += [
            ({"bits": 24.0, "exponent_bits": None}, "exponent_bits"),
            ({"exponent_bits": 20.0}, "exponent_bits"),
        ]
        bad += [({"bits": 12.0, "exponent_bits": 11.0}, "exponent_bits")]
    else:
        bad += [({"exponent_bits": 5.0}, "exponent_bits")]
    inputs = {"vdd": 0.95 * hj.nominal_vdd(node), "exponent_bits": None, **example}
    return ContractRow(
        name=f"digital.{action.__name__}[{number_format} {node:g}nm]",
        fn=fn,
        inputs={**inputs, "number_format": number_format, "node": node},
        knobs=knobs,
        bad_inputs=tuple(bad),
    )


def _mac_overflow_row() -> ContractRow:
    return ContractRow(
        name="digital.mac[int accumulator]",
        fn=lambda mode, bits, accumulator_bits: digital.mac(digital.ArithmeticUnit(bits), accumulator_bits),
        inputs={"bits": 8.0, "accumulator_bits": 24.0},
        knobs={"bits": (1.0, 64.0), "accumulator_bits": (1.0, 64.0)},
        bad_inputs=(
            ({"accumulator_bits": 0.5}, "accumulator_bits"),
            ({"accumulator_bits": 100.0}, "accumulator_bits"),
        ),
    )


_LANE_BAD = (_BAD_MODE, ({"n": -1.0}, "n"), ({"width": 0.5}, "width"), ({"vdd": 0.1}, "vdd"))


def _vfu_row(op: str) -> ContractRow:
    def fn(mode, n, width, vdd, op):
        return digital.vfu_op(digital.VFU(width, hj.Tech(32, vdd)), n, op, mode=mode)

    return ContractRow(
        name=f"digital.vfu_op[{op}]",
        fn=fn,
        inputs={"n": [1.0, 37.0, 500.0], "width": 4.0, "vdd": 0.85, "op": op},
        knobs={"n": (0.0, 4096.0), "width": (1.0, 64.0), "vdd": _RANGE_32},
        bad_inputs=(*_LANE_BAD, ({"op": "sqrt"}, "op"), ({"op": "sigmoid"}, "op")),
        modes=relax.MODES,
    )


def _lane_row(action, unit_cls, node: float, vdd_range) -> ContractRow:
    """A row for an S+A, S+H or activation action with a fixed clock period knob."""

    def fn(mode, n, width, vdd, cycle, node):
        unit = unit_cls(width, hj.Tech(node, vdd), cycle)
        return action(unit, n, mode=mode)

    return ContractRow(
        name=f"digital.{action.__name__}[{node:g}nm]",
        fn=fn,
        inputs={"n": [3.0, 128.0], "width": 8.0, "vdd": hj.nominal_vdd(node), "cycle": 1.5e-9, "node": node},
        knobs={"n": (0.0, 1e5), "width": (1.0, 256.0), "vdd": vdd_range, "cycle": (1e-10, 1e-8)},
        bad_inputs=(*_LANE_BAD, ({"cycle": 0.0}, "cycle"), ({"node": 3}, "node_nm")),
        modes=relax.MODES,
    )


def _scalar(mode, n, vdd):
    return digital.scalar_op(digital.ScalarUnit(hj.Tech(45, vdd)), n)


def _control_row(level: str) -> ContractRow:
    def fn(mode, cycles, activity, vdd, level):
        return digital.control(digital.ControlUnit(level, activity, hj.Tech(22, vdd)), cycles)

    return ContractRow(
        name=f"digital.control[{level}]",
        fn=fn,
        inputs={"cycles": [10.0, 2.5e4], "activity": 0.2, "vdd": 0.85, "level": level},
        knobs={"cycles": (0.0, 1e6), "activity": (0.01, 1.0), "vdd": _RANGE_22},
        bad_inputs=(
            ({"level": "node"}, "level"),
            ({"activity": 0.0}, "activity"),
            ({"activity": 1.5}, "activity"),
            ({"cycles": -1.0}, "cycles"),
        ),
    )


def _peak(mode, width, vdd, cycle):
    tech = hj.Tech(32, vdd)
    units = (digital.VFU(width, tech, cycle), digital.Activation(width, tech, cycle))
    return [digital.peak_power(unit) for unit in units] + [digital.peak_power(digital.ControlUnit(tech=tech))]


ROWS: list[ContractRow] = [
    _arithmetic_row(digital.add, "int", 45, (1.0, 64.0), {"bits": 16.0}),
    _arithmetic_row(digital.multiply, "int", 45, (1.0, 64.0), {"bits": 8.0}),
    _arithmetic_row(digital.add, "fixed", 22, (1.0, 64.0), {"bits": 12.0}),
    _arithmetic_row(digital.multiply, "fixed", 22, (1.0, 64.0), {"bits": 12.0}),
    _arithmetic_row(digital.mac, "int", 32, (1.0, 32.0), {"bits": 8.0}),
    _arithmetic_row(digital.add, "float", 45, (12.0, 64.0), {"bits": 32.0, "exponent_bits": 8.0}),
    _arithmetic_row(digital.multiply, "float", 45, (12.0, 64.0), {"bits": 16.0, "exponent_bits": 5.0}),
    _arithmetic_row(digital.mac, "float", 32, (12.0, 64.0), {"bits": 16.0, "exponent_bits": 8.0}),
    _mac_overflow_row(),
    _vfu_row("add"),
    _vfu_row("mul"),
    _vfu_row("div"),
    _lane_row(digital.shift_add, digital.ShiftAdd, 32, _RANGE_32),
    _lane_row(digital.sample_hold, digital.SampleHold, 45, _RANGE_45),
    _lane_row(digital.activation, digital.Activation, 22, _RANGE_22),
    ContractRow(
        name="digital.scalar_op",
        fn=_scalar,
        inputs={"n": [1.0, 64.0], "vdd": 0.9},
        knobs={"n": (0.0, 1e6), "vdd": _RANGE_45},
        bad_inputs=(({"n": -2.0}, "n"), ({"vdd": 1.5}, "vdd")),
    ),
    _control_row("core"),
    _control_row("tile"),
    ContractRow(
        name="digital.peak_power",
        fn=_peak,
        inputs={"width": 4.0, "vdd": 0.9, "cycle": 1e-9},
        knobs={"width": (1.0, 64.0), "vdd": _RANGE_32, "cycle": (1e-10, 1e-8)},
        bad_inputs=(({"width": 0.0}, "width"), ({"cycle": -1e-9}, "cycle")),
    ),
]
