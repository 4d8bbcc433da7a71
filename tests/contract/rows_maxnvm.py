"""Contract rows for ``hwjax_models.maxnvm``: the storage of a tiny network in CSR with ECC on
MLC CTT (encode, the per-layer CSR/dense choice, every structure's array read and the array area),
and the fault model (:func:`~hwjax_models.maxnvm.level_error_rate` and
:func:`~hwjax_models.maxnvm.max_bits_per_cell`). The bitmask path and :func:`iso_accuracy` are
checked in ``tests/models/test_maxnvm.py`` to keep the suite's cost down.

Knob boxes are :class:`hwjax_models.maxnvm.Config`'s documented ranges (bits per cell up to the
CTT preset's 3).
"""

from __future__ import annotations

import hwjax as hj
from hwjax import workloads
from hwjax_models import maxnvm

from .contract_row import TINY_NETWORK, ContractRow

MODES = ("exact", "ste", "smooth")
_BAD_MODE = ({"mode": "fuzzy"}, "mode")


def _storage(mode, sparsity, cluster_bits, value_bits_per_cell, network):
    # The total keeps the Jacobian small; the report's consistency is tested in tests/models.
    config = maxnvm.Config(
        sparsity=sparsity, cluster_bits=cluster_bits, value_bits_per_cell=value_bits_per_cell, encoding="csr"
    )
    return hj.total(maxnvm.storage(config, network, mode))


def _fault_model(mode, tolerated_fault_rate, level_sigma, bits_per_cell):
    # bits_per_cell is not a knob here: level_error_rate is memory.mlc_misread, whose rows cover it.
    config = maxnvm.Config(level_sigma=level_sigma)
    return {
        "max_bits_per_cell": maxnvm.max_bits_per_cell(config, tolerated_fault_rate, mode),
        "level_error_rate": maxnvm.level_error_rate(bits_per_cell, level_sigma),
    }


ROWS = [
    ContractRow(
        name="maxnvm.storage",
        fn=_storage,
        inputs={"sparsity": 0.8, "cluster_bits": 6.0, "value_bits_per_cell": 2.0, "network": TINY_NETWORK},
        knobs={"sparsity": (0.0, 0.999), "cluster_bits": (1.0, 16.0), "value_bits_per_cell": (1.0, 3.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"sparsity": 1.0}, "sparsity"),
            ({"value_bits_per_cell": 4.0}, "value_bits_per_cell"),
            ({"network": (workloads.Dense(4, 4),)}, "workload"),
        ),
        modes=MODES,
        native_batch=True,
    ),
    ContractRow(
        name="maxnvm.fault_model",
        fn=_fault_model,
        inputs={"tolerated_fault_rate": 1e-4, "level_sigma": 0.02, "bits_per_cell": 2.5},
        knobs={"tolerated_fault_rate": (1e-15, 0.1), "level_sigma": (1e-3, 0.5)},
        bad_inputs=(
            _BAD_MODE,
            ({"tolerated_fault_rate": 0.5}, "tolerated_fault_rate"),
            ({"level_sigma": 0.0}, "level_sigma"),
        ),
        modes=MODES,
    ),
]
