"""Contract rows for the device non-idealities of behavioural simulation (``hwjax.sim.devices``).

Tiny 4 x 3 arrays with a fixed key: the noise is a fixed draw, so every output is a smooth
function of the knobs (clipping off, so no kink falls between finite-difference points).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from hwjax.sim import devices

from .contract_row import ContractRow

_LEVELS = jnp.asarray([[0.0, 1.0, 3.0], [2.0, 3.0, 1.0], [1.0, 0.0, 2.0], [3.0, 2.0, 0.0]])
_BITS = jnp.asarray([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0]])


def _noisy_mvm(mode, programming_sigma, read_sigma, drift_time, stuck_on_rate, seed, form):
    """Program, drift, read and convert back to levels: (2, 3) level-unit outputs."""
    model = devices.DeviceModel(
        programming_form=form,
        programming_sigma=programming_sigma,
        read_form=form,
        read_sigma=read_sigma,
        stuck_on_rate=stuck_on_rate,
        drift_nu=0.05,
        drift_time=drift_time,
        drift_t0=1.0,
        clip_conductance=False,
    )
    key = None if seed is None else jax.random.key(seed)
    k_program, k_read = (None, None) if key is None else jax.random.split(key)
    g = devices.read(model, devices.program(model, _LEVELS, 3.0, k_program), k_read)
    currents = devices.column_currents(model, g, model.v_read * _BITS)
    return devices.to_levels(model, currents, _BITS.sum(-1), 3.0)


def _ir_currents(mode, wire_resistance, g_max):
    """Column currents (A) of the ideal-programmed array with first-order IR drop."""
    model = devices.DeviceModel(g_min=0.1 * g_max, g_max=g_max, wire_resistance=wire_resistance)
    g = devices.program(model, _LEVELS, 3.0)
    return devices.column_currents(model, g, model.v_read * _BITS)


ROWS: list[ContractRow] = [
    ContractRow(
        name="sim.devices.noisy_mvm[proportional]",
        fn=_noisy_mvm,
        inputs={
            "programming_sigma": 0.05,
            "read_sigma": 0.02,
            "drift_time": 100.0,
            "stuck_on_rate": 0.1,
            "seed": 0,
            "form": "proportional",
        },
        knobs={"programming_sigma": (0.0, 0.2), "read_sigma": (0.0, 0.2), "drift_time": (0.0, 1e4)},
        bad_inputs=(
            ({"programming_sigma": -0.1}, "programming_sigma"),
            ({"stuck_on_rate": 1.5}, "stuck_on_rate"),
            ({"seed": None}, "programming_sigma"),
            ({"form": "gaussian"}, "programming_form"),
        ),
    ),
    ContractRow(
        name="sim.devices.column_currents[ir]",
        fn=_ir_currents,
        inputs={"wire_resistance": 5.0, "g_max": 2e-5},
        knobs={"wire_resistance": (0.0, 20.0), "g_max": (1e-6, 1e-4)},
        bad_inputs=(({"wire_resistance": -1.0}, "wire_resistance"), ({"g_max": 0.0}, "g_max")),
    ),
]
