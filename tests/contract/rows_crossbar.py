"""Contract rows for the crossbar family (``hwjax.components.crossbar``) and device noise fits."""

from __future__ import annotations

import dataclasses

from hwjax import relax
from hwjax.components import crossbar
from hwjax.devices import JOSHI_PCM_PROGRAMMING, device, noise_sigma

from .contract_row import ContractRow

_MODES = relax.MODES
_BAD_MODE = ({"mode": "fuzzy"}, "mode")


def _array(device_name, rows, cols, bits_per_cell=2.0, r_on=None, r_off=None, **fields):
    """A Crossbar of the named preset, with its resistance window overridden when given."""
    cell = device(device_name)
    if r_on is not None:
        cell = dataclasses.replace(cell, r_on=r_on, r_off=r_off)
    return crossbar.Crossbar(rows, cols, bits_per_cell, cell, **fields)


_SIZE = {"rows": (1.0, 512.0), "cols": (1.0, 512.0)}
_WINDOW = {"r_on": (1e4, 5e5), "r_off": (1e6, 1e8)}
_COMMON_BAD = (
    _BAD_MODE,
    ({"rows": -4.0}, "rows"),
    ({"cols": 0.0}, "cols"),
    ({"r_on": 2e6, "r_off": 1e6}, "r_off"),
    ({"device_name": "unobtainium"}, "device"),
)


def _mvm(mode, input_bits, dac_bits, **array):
    return crossbar.mvm(_array(**array), input_bits, dac_bits=dac_bits, mode=mode)


def _mtvm(mode, input_bits, input_activity, **array):
    return crossbar.mtvm(_array(**array), input_bits, input_activity=input_activity, mode=mode)


def _opa(mode, input_bits, column_bits, row_activity, **array):
    return crossbar.opa(_array(**array), input_bits, column_bits, row_activity=row_activity, mode=mode)


def _read(mode, rows_read, **array):
    return crossbar.read(_array(**array), rows=rows_read, mode=mode)


def _write(mode, **array):
    return crossbar.write(_array(**array), mode=mode)


ROWS: list[ContractRow] = [
    ContractRow(
        name="crossbar.mvm[puma]",
        fn=_mvm,
        inputs={
            "device_name": "puma",
            "rows": 128.0,
            "cols": 96.0,
            "bits_per_cell": 2.0,
            "r_on": 1e5,
            "r_off": 1e6,
            "read_voltage": 0.5,
            "integration_time": 3e-9,
            "mean_state": 0.5,
            "wire_resistance": 1.0,
            "input_bits": 16.0,
            "dac_bits": 1.5,
        },
        knobs={
            **_SIZE,
            **_WINDOW,
            "bits_per_cell": (1.0, 6.0),
            "read_voltage": (0.05, 1.0),
            "integration_time": (1e-10, 1e-7),
            "mean_state": (0.0, 1.0),
            "wire_resistance": (0.0, 5.0),
            "input_bits": (1.0, 16.0),
            "dac_bits": (1.0, 4.0),
        },
        bad_inputs=(
            *_COMMON_BAD,
            ({"read_voltage": 0.0}, "read_voltage"),
            ({"bits_per_cell": 7.0}, "bits_per_cell"),
            ({"mean_state": 1.5}, "mean_state"),
            ({"integration_time": -1e-9}, "integration_time"),
            ({"input_bits": 0.5}, "input_bits"),
            ({"wire_resistance": -1.0}, "wire_resistance"),
        ),
        modes=_MODES,
    ),
    ContractRow(
        name="crossbar.mtvm[taox]",
        fn=_mtvm,
        inputs={
            "device_name": "taox",
            "rows": 64.0,
            "cols": 200.0,
            "read_voltage": 0.1,
            "cycle_time": 1e-7,
            "input_bits": 8.0,
            "input_activity": 0.4,
        },
        knobs={
            **_SIZE,
            "read_voltage": (0.01, 0.5),
            "cycle_time": (5e-8, 1e-6),
            "input_bits": (1.0, 32.0),
            "input_activity": (0.0, 1.0),
        },
        bad_inputs=(
            _BAD_MODE,
            ({"rows": -1.0}, "rows"),
            ({"cycle_time": 1e-9}, "cycle_time"),
            ({"input_activity": 1.5}, "input_activity"),
            ({"device_name": "unobtainium"}, "device"),
        ),
        modes=_MODES,
    ),
    ContractRow(
        name="crossbar.opa[puma]",
        fn=_opa,
        inputs={
            "device_name": "puma",
            "rows": 128.0,
            "cols": 128.0,
            "input_bits": 16.0,
            "column_bits": 4.0,
            "row_activity": 0.5,
        },
        knobs={**_SIZE, "input_bits": (1.0, 32.0), "column_bits": (1.0, 8.0), "row_activity": (0.0, 1.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"cols": -2.0}, "cols"),
            ({"column_bits": 0.0}, "column_bits"),
            ({"row_activity": 2.0}, "row_activity"),
            ({"input_bits": 100.0}, "input_bits"),
        ),
        modes=_MODES,
    ),
    ContractRow(
        name="crossbar.read[taox]",
        fn=_read,
        inputs={
            "device_name": "taox",
            "rows": 128.0,
            "cols": 64.0,
            "r_on": 1e5,
            "r_off": 1e6,
            "read_voltage": 0.1,
            "mean_state": 0.3,
            "rows_read": 100.0,
        },
        knobs={
            **_SIZE,
            **_WINDOW,
            "read_voltage": (0.01, 1.0),
            "mean_state": (0.0, 1.0),
            "rows_read": (0.0, 512.0),
        },
        bad_inputs=(*_COMMON_BAD, ({"rows_read": -1.0}, "rows")),
        modes=_MODES,
    ),
    ContractRow(
        name="crossbar.write[taox]",
        fn=_write,
        inputs={
            "device_name": "taox",
            "rows": 64.0,
            "cols": 64.0,
            "bits_per_cell": 4.0,
            "r_on": 1e5,
            "r_off": 1e6,
            "wire_resistance": 1.0,
        },
        knobs={**_SIZE, **_WINDOW, "bits_per_cell": (1.0, 8.0), "wire_resistance": (0.0, 10.0)},
        bad_inputs=(*_COMMON_BAD, ({"bits_per_cell": 9.0}, "bits_per_cell")),
        modes=_MODES,
    ),
    ContractRow(
        name="crossbar.write[puma]",
        fn=_write,
        inputs={
            "device_name": "puma",
            "rows": 128.0,
            "cols": 128.0,
            "bits_per_cell": 2.0,
            "r_on": 1e5,
            "r_off": 1e6,
            "wire_resistance": 0.5,
        },
        knobs={**_SIZE, "bits_per_cell": (1.0, 6.0), "wire_resistance": (0.0, 10.0)},
        bad_inputs=(*_COMMON_BAD,),
        modes=_MODES,
    ),
    ContractRow(
        name="crossbar.device_noise_sigma[pcm]",
        fn=lambda mode, conductance: noise_sigma(JOSHI_PCM_PROGRAMMING, conductance),
        inputs={"conductance": [1e-6, 1.2e-5, 2.4e-5]},
        knobs={"conductance": (0.0, 25e-6)},
        bad_inputs=(),
    ),
]
