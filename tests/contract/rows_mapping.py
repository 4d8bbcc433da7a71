"""Contract rows of ``hwjax.mapping``: a matrix onto arrays, and arrays onto cores/tiles/nodes.

Workloads are tiny and knobs few (at most three a row) to keep the shared suite cheap. Knob
ranges are independent and always valid: ``dac_bits`` in [1, 8] never exceeds ``input_bits``
in [8, 32].
"""

from __future__ import annotations

from hwjax import mapping, relax
from hwjax.workloads import MatrixOp

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
]
