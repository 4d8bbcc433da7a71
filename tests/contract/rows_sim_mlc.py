"""Contract rows for the behavioural MLC and OPA simulators (``hwjax.sim.mlc``, ``hwjax.sim.opa``).

Cheap by design: a 6x6 matrix stored as CSR in MLC2 cells with misread rates from the Gaussian
level spread (knob ``level_sigma``: the rates are smooth in it, the injected faults piecewise
constant, so both gradients and finite differences of the decoded matrix are zero), and one
bit-sliced OPA on a 3-slice 2x3 array with proportional write noise (knob ``update_sigma``: the
slices are piecewise linear in it). Quantization of the inputs is straight-through, so ``x_scale``
and ``delta_scale`` are not knobs here (their surrogate gradient is not a finite difference).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from hwjax.sim import mlc, opa

from .contract_row import ContractRow

_WEIGHTS = np.array(
    [
        [0, 3, 0, 0, -2, 0],
        [1, 0, 0, 0, 0, 0],
        [0, 0, 0, -7, 0, 5],
        [0, 0, 0, 0, 0, 0],
        [0, 6, 0, 0, 0, -1],
        [4, 0, 0, 2, 0, 0],
    ]
)


def _mlc_store(mode, level_sigma, bits_per_cell, encoding):
    config = mlc.mlc_config(bits_per_cell, level_sigma)
    rate, far_rate = mlc.misread_rates(float(bits_per_cell), level_sigma)
    decoded = mlc.store_matrix(
        _WEIGHTS, encoding, 4, config, jax.random.key(0), nnz=int(np.count_nonzero(_WEIGHTS))
    )
    return {"rate": rate, "far_rate": far_rate, "decoded": decoded.astype(jnp.float32)}


def _opa_update(mode, update_sigma, slice_bits):
    config = opa.OPAConfig(
        slice_bits=slice_bits, value_bits=2, input_bits=3, delta_bits=3, update_sigma=update_sigma
    )
    slices = opa.weights_to_slices(jnp.array([[5.0, -9.0, 0.0], [30.0, 1.0, -3.0]]), config)
    new, counts = opa.opa_update(
        slices, jnp.array([3.0, -5.0]), jnp.array([2.0, 7.0, -1.0]), config, jax.random.key(1)
    )
    return {
        "slices": new,
        "weights": opa.slices_to_weights(opa.carry_resolve(new, config), config),
        "counts": counts,
    }


ROWS = [
    ContractRow(
        name="sim.mlc.store_matrix[csr]",
        fn=_mlc_store,
        inputs={"level_sigma": 0.08, "bits_per_cell": 2, "encoding": "csr"},
        knobs={"level_sigma": (1e-3, 0.5)},
        bad_inputs=(
            ({"level_sigma": 0.0}, "level_sigma"),
            ({"bits_per_cell": 5}, "bits_per_cell"),
            ({"encoding": "coo"}, "encoding"),
        ),
    ),
    ContractRow(
        name="sim.opa.opa_update",
        fn=_opa_update,
        inputs={"update_sigma": 0.2, "slice_bits": (4, 4, 4)},
        knobs={"update_sigma": (0.0, 1.0)},
        bad_inputs=(({"update_sigma": 1.5}, "update_sigma"), ({"slice_bits": (4, 1, 4)}, "slice_bits")),
    ),
]
