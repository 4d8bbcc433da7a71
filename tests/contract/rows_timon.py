"""Contract rows for ``hwjax_models.timon``: a small GEMM on TIMON and on the Turing baseline
(``versus_turing`` runs :func:`~hwjax_models.timon.inference` and
:func:`~hwjax_models.timon.turing_inference`), two GEMMs on TIMON with per-layer knobs
(:class:`hwjax.system.LayerKnobs`: A operand bits and block occupancy), and a sparse TMMA with
the tunable ADC and outlier rejection. The bank itself is covered by ``rows_sram_cim``;
calibration lives in ``tests/models/test_timon.py``. Knob boxes stay inside
:class:`hwjax_models.timon.Config`'s ranges."""

from __future__ import annotations

import numpy as np

import hwjax as hj
from hwjax import system, workloads
from hwjax_models import timon

from .contract_row import ContractRow

MODES = ("exact", "ste", "smooth")
_BAD_MODE = ({"mode": "fuzzy"}, "mode")
#: A tiny GEMM: 8 streamed rows through a 96 x 40 stationary matrix (partial tiles on both axes).
TINY_GEMM = workloads.Network("tiny_gemm", (workloads.GEMM(8, 40, 96, name="gemm"),))
#: Two small GEMMs, for per-layer knobs (arrays of one value per layer).
TWO_GEMMS = workloads.Network(
    "two_gemms", (workloads.GEMM(8, 40, 96, name="gemm1"), workloads.GEMM(4, 24, 40, name="gemm2"))
)


def _versus(mode, dp_width, weight_bits, network):
    config = timon.Config(dp_width=dp_width, weight_bits=weight_bits)
    return timon.versus_turing(config, network, mode)


def _inference(mode, dp_width, input_bits, occupancy, network):
    # The total keeps the Jacobian small; report consistency is tested in tests/models.
    knobs = system.LayerKnobs(input_bits=input_bits, occupancy=occupancy)
    return hj.total(timon.inference(timon.Config(dp_width=dp_width), network, mode, layers=knobs))


def _sparse(mode, column_sparsity, threshold):
    return timon.sparse_tmma(timon.Config(), column_sparsity, threshold, mode)


ROWS = [
    ContractRow(
        name="timon.versus_turing",
        fn=_versus,
        inputs={"dp_width": 64.0, "weight_bits": 12.0, "network": TINY_GEMM},
        knobs={"dp_width": (16.0, 128.0), "weight_bits": (4.0, 16.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"dp_width": 2.0}, "dp_width"),
            ({"weight_bits": 0.5}, "weight_bits"),
            ({"network": (workloads.GEMM(4, 4, 4),)}, "workload"),
        ),
        modes=MODES,
    ),
    ContractRow(
        name="timon.inference",
        fn=_inference,
        inputs={
            "dp_width": 64.0,
            "input_bits": np.array([6.0, 11.0]),
            "occupancy": np.array([0.6, 0.9]),
            "network": TWO_GEMMS,
        },
        knobs={"dp_width": (16.0, 128.0), "input_bits": (2.0, 16.0), "occupancy": (0.1, 1.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"dp_width": 2.0}, "dp_width"),
            ({"input_bits": np.array([0.5, 8.0])}, "input_bits"),
            ({"occupancy": np.array([0.5, 1.5])}, "occupancy"),
            ({"occupancy": np.array([0.5])}, "occupancy"),
            ({"network": (workloads.GEMM(4, 4, 4),)}, "workload"),
        ),
        modes=MODES,
        native_batch=True,
    ),
    ContractRow(
        name="timon.sparse_tmma",
        fn=_sparse,
        inputs={"column_sparsity": 0.4, "threshold": 0.3},
        knobs={"column_sparsity": (0.05, 0.9), "threshold": (0.05, 0.95)},
        bad_inputs=(
            _BAD_MODE,
            ({"column_sparsity": 1.5}, "column_sparsity"),
            ({"threshold": -0.5}, "threshold"),
        ),
        modes=MODES,
    ),
]
