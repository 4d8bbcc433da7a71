"""Contract rows for the co-design penalties and precision (``hwjax.codesign``).

``quantize`` and ``fake_quantize`` round with a straight-through gradient, which no finite
difference can match; their gradients are tested in ``tests/test_precision.py``. The clustering
functions run offline between epochs (data-dependent loops in NumPy) and are not traced.
"""

from __future__ import annotations

import numpy as np

from hwjax.codesign import precision, sparsity

from .contract_row import ContractRow

#: A 6 x 7 kernel on 4 x 4 crossbars: edge blocks are padded (2 x 2 blocks).
_WEIGHTS = np.linspace(-0.9, 0.8, 42).reshape(6, 7)

ROWS = [
    ContractRow(
        name="codesign.block_norms",
        fn=lambda mode, weights, rows, cols: sparsity.block_norms(weights, rows, cols),
        inputs={"weights": _WEIGHTS, "rows": 4, "cols": 4},
        knobs={"weights": (-1.0, 1.0)},
        bad_inputs=(({"rows": 0}, "rows"), ({"weights": np.ones(3)}, "weights")),
    ),
    ContractRow(
        name="codesign.group_lasso_penalty",
        fn=lambda mode, weights, block_weight: sparsity.group_lasso_penalty(
            [weights, weights.T], [block_weight, 2.0 * block_weight], 4, 4
        ),
        inputs={"weights": _WEIGHTS, "block_weight": 0.3},
        knobs={"weights": (-1.0, 1.0), "block_weight": (0.0, 1.0)},
        bad_inputs=(({"block_weight": -1.0}, "block_weight"),),
    ),
    ContractRow(
        name="codesign.prox_group_lasso",
        fn=lambda mode, weights, thresholds: sparsity.prox_group_lasso(weights, thresholds, 4, 4),
        inputs={"weights": _WEIGHTS, "thresholds": 0.2},
        knobs={"weights": (-1.0, 1.0), "thresholds": (0.0, 0.5)},
        bad_inputs=(({"thresholds": -0.1}, "thresholds"),),
    ),
    ContractRow(
        name="codesign.precision.bits",
        fn=lambda mode, step, q_max: {
            "bits": precision.bits(step, q_max),
            "q_max": precision.q_max_for(step, precision.bits(step, q_max)),
        },
        inputs={"step": 0.01, "q_max": 1.0},
        knobs={"step": (1e-3, 0.1), "q_max": (0.2, 4.0)},
        bad_inputs=(({"step": 0.0}, "step"),),
    ),
]
