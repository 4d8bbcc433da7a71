"""Contract rows for the weight-stationary digital baseline (``hwjax_models.digital``): ``peak``,
``inference`` and ``inference`` with per-layer knobs (``layers=``).

Kept cheap: three knobs each and a two-layer workload for ``inference``."""

from __future__ import annotations

import jax.numpy as jnp

from hwjax import system
from hwjax_models import digital

from .contract_row import TINY_NETWORK, ContractRow

MODES = ("exact", "ste", "smooth")
_BAD_MODE = ({"mode": "fuzzy"}, "mode")


def _peak(mode, mac_rows, mac_cols, weight_bits):
    config = digital.Config(mac_rows=mac_rows, mac_cols=mac_cols, weight_bits=weight_bits)
    return digital.peak(config, mode)


def _inference(mode, workload, mac_rows, mac_cols, clock_hz):
    config = digital.Config(mac_rows=mac_rows, mac_cols=mac_cols, clock_hz=clock_hz)
    return digital.inference(config, workload, mode)


def _inference_layers(mode, workload, weight_bits, replication, occupancy):
    knobs = system.LayerKnobs(weight_bits=weight_bits, replication=replication, occupancy=occupancy)
    return digital.inference(digital.Config(), workload, mode, layers=knobs)


ROWS = [
    ContractRow(
        name="digital_baseline.peak",
        fn=_peak,
        inputs={"mac_rows": 128.0, "mac_cols": 128.0, "weight_bits": 16.0},
        knobs={"mac_rows": (64.0, 256.0), "mac_cols": (64.0, 256.0), "weight_bits": (8.0, 32.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"mac_rows": 4.0}, "mac_rows"),
            ({"mac_cols": 1024.0}, "mac_cols"),
            ({"weight_bits": 2.0}, "weight_bits"),
        ),
        modes=MODES,
    ),
    ContractRow(
        name="digital_baseline.inference",
        fn=_inference,
        inputs={
            "workload": TINY_NETWORK,
            "mac_rows": 32.0,
            "mac_cols": 16.0,
            "clock_hz": 1e9,
        },
        knobs={"mac_rows": (8.0, 256.0), "mac_cols": (8.0, 256.0), "clock_hz": (0.5e9, 1.5e9)},
        bad_inputs=(
            _BAD_MODE,
            ({"mac_rows": 0.0}, "mac_rows"),
            ({"clock_hz": 0.0}, "clock_hz"),
            ({"mac_cols": float("nan")}, "mac_cols"),
        ),
        modes=MODES,
        native_batch=True,
    ),
    ContractRow(
        name="digital_baseline.inference_layers",
        fn=_inference_layers,
        inputs={
            "workload": TINY_NETWORK,
            "weight_bits": jnp.array([16.0, 8.0]),
            "replication": jnp.array([2.0, 1.5]),
            "occupancy": jnp.array([0.75, 0.5]),
        },
        knobs={"weight_bits": (4.0, 32.0), "replication": (1.0, 4.0), "occupancy": (0.0, 1.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"weight_bits": jnp.array([16.0, 2.0])}, "weight_bits"),
            ({"replication": jnp.array([0.5, 1.0])}, "replication"),
            ({"occupancy": jnp.array([0.5, 1.5])}, "occupancy"),
            ({"occupancy": jnp.array([0.5, 0.5, 0.5])}, "occupancy"),
        ),
        modes=MODES,
    ),
]
