"""Contract rows for ``hwjax_models.panther``: the MCU's MVM and OPA, and a mini-batch
training step of variant 2 on a tiny network (which also runs the MᵀVM, the serial read and
write and the carry resolution step) with per-layer knobs (block occupancy and slicing). To
keep the suite cheap the rows slice weights over two crossbars and the training step over one
(the code loops over slices alike for eight); the baselines and the other variants, which
share these code paths, are checked in ``tests/models/test_panther.py``.
"""

from __future__ import annotations

import numpy as np

import hwjax as hj
from hwjax import system
from hwjax_models import panther

from .contract_row import TINY_NETWORK, ContractRow

MODES = ("exact", "ste", "smooth")
#: Two heterogeneous slices of a 10-bit weight: the default's code paths at a quarter of the graph.
SLICES = {"slice_bits": (6.0, 5.0), "weight_bits": 10.0}
#: One slice; 1-bit weights, so that every per-layer slice of 1-6 bits holds them.
ONE_SLICE = {"slice_bits": (6.0,), "weight_bits": 1.0, "weight_int_bits": 0.0}
_BAD_MODE = ({"mode": "fuzzy"}, "mode")


def _mcu_ops(mode, mcu_dim, opa_column_bits, write_iterations):
    config = panther.Config(
        mcu_dim=mcu_dim, opa_column_bits=opa_column_bits, write_iterations=write_iterations, **SLICES
    )
    return panther.mcu_mvm(config, mode), panther.mcu_opa(config, mode)


def _training_step(mode, batch, carry_interval, mcu_dim, occupancy, slice_bits, network):
    # The total keeps the Jacobian small; the report's structure is tested in tests/models.
    # Per-layer knobs: each layer's block occupancy and its slicing ((L, 1): one slice of 1-6 bits).
    config = panther.Config(mcu_dim=mcu_dim, carry_interval=carry_interval, variant=2, **ONE_SLICE)
    layers = system.LayerKnobs(occupancy=occupancy, slice_bits=slice_bits)
    return hj.total(panther.training_step(config, network, batch, "minibatch", mode, layers=layers))


ROWS = [
    ContractRow(
        name="panther.mcu_ops",
        fn=_mcu_ops,
        inputs={"mcu_dim": 128.0, "opa_column_bits": 4.0, "write_iterations": 10.0},
        knobs={"mcu_dim": (32.0, 256.0), "opa_column_bits": (2.0, 6.0), "write_iterations": (2.0, 50.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"mcu_dim": 0.0}, "mcu_dim"),
            ({"opa_column_bits": 9.0}, "opa_column_bits"),
            ({"write_iterations": 0.5}, "write_iterations"),
        ),
        modes=MODES,
    ),
    ContractRow(
        name="panther.training_step",
        fn=_training_step,
        inputs={
            "batch": 8.0,
            "carry_interval": 1024.0,
            "mcu_dim": 128.0,
            "occupancy": np.asarray([0.5, 0.75]),
            "slice_bits": np.asarray([[6.0], [6.0]]),
            "network": TINY_NETWORK,
        },
        knobs={
            "batch": (1.0, 256.0),
            "carry_interval": (16.0, 4096.0),
            "mcu_dim": (32.0, 256.0),
            "occupancy": (0.0, 1.0),
            "slice_bits": (1.0, 6.0),
        },
        bad_inputs=(
            _BAD_MODE,
            ({"batch": 0.5}, "batch"),
            ({"carry_interval": 0.0}, "carry_interval"),
            ({"mcu_dim": 0.0}, "mcu_dim"),
            ({"occupancy": np.ones(3)}, "occupancy"),
            ({"slice_bits": np.full((2, 1), 7.0)}, "slice_bits"),
        ),
        modes=MODES,
    ),
]
