"""Contract rows of ``hwjax.mapping``: a matrix onto arrays, and arrays onto cores/tiles/nodes.

Workloads are tiny and knobs few (at most three a row) to keep the shared suite cheap. Knob
ranges are independent and always valid: ``dac_bits`` in [1, 8] never exceeds ``input_bits``
in [8, 32]. Block occupancy rows take small weight matrices as knobs (every entry is
differentiated, fuzzed to all-zero and to the range's edges).
"""

from __future__ import annotations

import numpy as np

from hwjax import mapping, relax
from hwjax.workloads import Dense, Elementwise, MatrixOp, Network

from .contract_row import ContractRow

_BAD_MODE = ({"mode": "fuzzy"}, "mode")
_PANTHER_SLICES = (4, 4, 4, 6, 6, 5, 5, 5)  # dissertation 5.6.3: 32-bit weights stored in 39 bits


def _map(mode, K, N, vectors, input_reuse, input_shuffling, slice_bits=None, **target):
    op = MatrixOp("m", K, N, vectors, input_reuse=input_reuse)
    target = mapping.ArrayTarget(slice_bits=slice_bits, **target)
    return {
        "mapping": mapping.map_matrix(op, target, input_shuffling=input_shuffling, mode=mode),
        "weight_slices": mapping.weight_slices(target, mode),
        "input_cycles": mapping.input_cycles(target, mode),
    }


def _place(mode, arrays, arrays_per_core, cores_per_tile, tiles_per_node):
    return mapping.place(arrays, arrays_per_core, cores_per_tile, tiles_per_node, mode=mode)


def _occupancy(mode, weights, rows, cols, threshold=0.0, temperature=None):
    args = (weights, rows, cols, mode, threshold, temperature)
    return {
        "map": mapping.block_occupancy(*args),
        "fraction": mapping.block_occupancy_fraction(*args),
    }


# Two dense layers around vector work (which counts as fully occupied).
_OCCUPANCY_NETWORK = Network(
    "occupancy", (Dense(5, 7, name="a"), Elementwise("relu", 7, name="act"), Dense(7, 3, name="b"))
)


def _network_occupancy(mode, a, b, rows, cols):
    return mapping.network_occupancy(_OCCUPANCY_NETWORK, {"a": a, "b": b}, rows, cols, mode=mode)


def _weights(shape, seed, empty_block=None):
    """Uniform weights in (-0.9, 0.9), one ``(rows, cols)`` slice zeroed (an empty block)."""
    w = np.random.default_rng(seed).uniform(-0.9, 0.9, size=shape)
    if empty_block is not None:
        w[empty_block] = 0.0
    return w


ROWS: list[ContractRow] = [
    ContractRow(
        name="mapping.map_matrix[conv]",
        fn=_map,
        inputs={
            "K": 300,
            "N": 200,
            "vectors": 16,
            "input_reuse": 2 / 3,
            "input_shuffling": True,
            "rows": 128.0,
            "cols": 96.0,
            "bits_per_cell": 3.0,
        },
        knobs={"rows": (1.0, 512.0), "cols": (1.0, 512.0), "bits_per_cell": (1.0, 8.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"rows": 0.0}, "rows"),
            ({"bits_per_cell": 9.0}, "bits_per_cell"),
            ({"input_shuffling": "yes"}, "input_shuffling"),
        ),
        modes=relax.MODES,
    ),
    ContractRow(
        name="mapping.map_matrix[heterogeneous]",
        fn=_map,
        inputs={
            "K": 40,
            "N": 300,
            "vectors": 3,
            "input_reuse": 0.0,
            "input_shuffling": False,
            "slice_bits": _PANTHER_SLICES,
            "weight_bits": 39.0,
            "cols": 128.0,
            "input_bits": 16.0,
            "dac_bits": 4.0,
        },
        knobs={"cols": (1.0, 512.0), "input_bits": (8.0, 32.0), "dac_bits": (1.0, 8.0)},
        bad_inputs=(
            ({"slice_bits": (4, 4)}, "slice_bits"),
            ({"slice_bits": (4, 0, 35)}, "slice_bits"),
            ({"dac_bits": 20.0}, "dac_bits"),
        ),
        modes=relax.MODES,
    ),
    ContractRow(
        name="mapping.place",
        fn=_place,
        inputs={"arrays": 300.0, "arrays_per_core": 2.0, "cores_per_tile": 8.0, "tiles_per_node": 138.0},
        knobs={"arrays": (0.0, 1e4), "arrays_per_core": (1.0, 16.0), "cores_per_tile": (1.0, 16.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"arrays": -1.0}, "arrays"),
            ({"arrays_per_core": 0.0}, "arrays_per_core"),
            ({"tiles_per_node": 0.5}, "tiles_per_node"),
        ),
        modes=relax.MODES,
    ),
    ContractRow(
        name="mapping.block_occupancy[relative temperature]",
        fn=_occupancy,
        inputs={
            "weights": _weights((5, 7), 0, np.s_[2:4, 3:6]),  # 3 x 3 blocks of 2 x 3, one empty
            "rows": 2,
            "cols": 3,
            "threshold": 0.1,
        },
        knobs={"weights": (-1.0, 1.0), "threshold": (0.0, 0.5)},
        bad_inputs=(
            _BAD_MODE,
            ({"weights": np.ones(4)}, "weights"),
            ({"weights": np.ones((2, 2, 2))}, "weights"),
            ({"weights": np.ones((0, 3))}, "weights"),
            ({"weights": np.full((2, 2), np.nan)}, "weights"),
            ({"rows": 0}, "rows"),
            ({"cols": 2.0}, "cols"),
            ({"threshold": -0.1}, "threshold"),
            ({"temperature": 0.0}, "temperature"),
        ),
        modes=relax.MODES,
    ),
    ContractRow(
        name="mapping.block_occupancy[temperature]",
        fn=_occupancy,
        inputs={"weights": _weights((4, 6), 1, np.s_[:, :3]), "rows": 3, "cols": 4, "temperature": 0.2},
        knobs={"weights": (-1.0, 1.0), "temperature": (0.01, 1.0)},
        bad_inputs=(({"temperature": -1.0}, "temperature"), ({"rows": True}, "rows")),
        modes=relax.MODES,
    ),
    ContractRow(
        name="mapping.network_occupancy",
        fn=_network_occupancy,
        inputs={
            "a": _weights((5, 7), 2, np.s_[:2, :3]),
            "b": _weights((7, 3), 3, np.s_[4:, :]),
            "rows": 2,
            "cols": 3,
        },
        knobs={"a": (-1.0, 1.0), "b": (-1.0, 1.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"a": np.ones((7, 5))}, "weights"),
            ({"cols": 0}, "cols"),
        ),
        modes=relax.MODES,
    ),
]
