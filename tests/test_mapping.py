"""Mapping matrices onto arrays: exact counts, published slicing configurations, relaxations.

Sources: dissertation 3.3.2 (PUMA: 16-bit weights on 2-bit cells in 8 crossbars, 1-bit DACs,
input shuffling), 3.2.3 (sliding-window input reuse, ~80% for k = 5, s = 1), 5.3.4 and 5.6.3
(PANTHER heterogeneous slicing 44466555). Counts are exact integers, so tolerances are float32
round-off (rel 1e-6) unless stated.
"""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwjax import mapping
from hwjax.mapping import ArrayTarget, input_cycles, map_matrix, map_network, place, weight_slices
from hwjax.workloads import LSTM, Conv2d, Dense, MatrixOp, Network

PUMA = ArrayTarget(rows=128.0, cols=128.0, bits_per_cell=2.0, weight_bits=16.0, input_bits=16.0, dac_bits=1.0)
PANTHER_SLICES = (4, 4, 4, 6, 6, 5, 5, 5)  # dissertation 5.6.3, MSB first, 39 bits
MODES = ("exact", "ste", "smooth")


def _only_op(layer) -> MatrixOp:
    (op,) = layer.matrix_ops()
    return op


# --- exact counts ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["exact", "ste"])
def test_dense_1000x1000_on_128x128_arrays(mode):
    m = map_matrix(_only_op(Dense(1000, 1000)), PUMA, mode=mode)
    expected = {
        "row_blocks": 8,
        "col_blocks": 8,
        "logical_arrays": 64,
        "physical_arrays": 64 * 8,  # 8 slices of 2-bit cells per 16-bit weight
        "utilization": 1e6 / (64 * 128 * 128),  # 0.9537
        "mvms": 64,
        "input_loads": 1000 * 8,  # one vector, written to each of 8 column blocks
        "partial_sums": 1000 * 7,
        "outputs": 1000,
        "macs": 1e6,
    }
    for name, value in expected.items():
        assert float(getattr(m, name)) == pytest.approx(value, rel=1e-6), name
    assert float(m.utilization) == pytest.approx(0.9537, abs=1e-4)


def test_puma_slicing_16_bit_weights_on_2_bit_cells_and_bit_serial_inputs():
    # Dissertation 3.3.2: "realize 16-bit MVM operations by combining 8 crossbars"; 1-bit DACs
    # stream a 16-bit input over 16 cycles.
    assert float(weight_slices(PUMA)) == 8
    assert float(input_cycles(PUMA)) == 16
    assert np.array_equal(mapping.slice_levels(PUMA), np.full(8, 2.0))


@pytest.mark.parametrize(
    "weight_bits,cell_bits,slices,levels",
    [(16, 3, 6, [1, 3, 3, 3, 3, 3]), (8, 8, 1, [8]), (1, 2, 1, [1]), (32, 2, 16, [2] * 16)],
)
def test_homogeneous_slices_round_up_with_the_remainder_in_the_msb_slice(
    weight_bits, cell_bits, slices, levels
):
    target = ArrayTarget(bits_per_cell=float(cell_bits), weight_bits=float(weight_bits))
    assert float(weight_slices(target, "exact")) == slices
    assert mapping.slice_levels(target).tolist() == levels


@pytest.mark.parametrize("input_bits,dac_bits,cycles", [(16, 1, 16), (16, 4, 4), (16, 3, 6), (8, 8, 1)])
def test_input_cycles_round_up(input_bits, dac_bits, cycles):
    target = ArrayTarget(input_bits=float(input_bits), dac_bits=float(dac_bits))
    assert float(input_cycles(target, "exact")) == cycles


def test_panther_heterogeneous_slicing():
    target = ArrayTarget(weight_bits=39.0, slice_bits=PANTHER_SLICES)
    assert float(weight_slices(target)) == 8
    assert mapping.slice_levels(target).tolist() == list(PANTHER_SLICES)
    m = map_matrix(MatrixOp("fc", 256, 256, 1), target)
    assert float(m.physical_arrays) == 4 * 8


def test_conv_input_reuse_with_and_without_shuffling():
    # Dissertation 3.2.3 / 3.3.2: a k x k window of stride s shares (k - s) / k of each input
    # vector with the previous one; shuffling re-routes the shared part instead of rewriting it.
    layer = Conv2d(16, 32, 3, (8, 8), stride=1)
    op = _only_op(layer)
    assert (op.rows, op.cols, op.vectors) == (144, 32, 64)
    assert op.input_reuse == pytest.approx(2 / 3)
    shuffled = map_matrix(op, PUMA, input_shuffling=True)
    plain = map_matrix(op, PUMA, input_shuffling=False)
    assert float(shuffled.input_loads) == pytest.approx(144 * (1 + 63 / 3))
    assert float(plain.input_loads) == pytest.approx(144 * 64)
    for name in ("row_blocks", "mvms", "partial_sums", "outputs", "macs"):
        assert float(getattr(shuffled, name)) == float(getattr(plain, name))
    assert float(shuffled.mvms) == 64 * 2  # two row blocks of 128 for K = 144


def test_k5_stride1_reuses_80_percent_and_column_blocks_multiply_loads():
    # "~80% for convolutional layers with filter size 5 and unit stride" (dissertation 3.3.2).
    op = _only_op(Conv2d(4, 300, 5, (6, 6)))
    assert op.input_reuse == pytest.approx(0.8)
    m = map_matrix(op, PUMA)
    assert float(m.col_blocks) == 3
    assert float(m.input_loads) == pytest.approx(100 * (1 + 35 * 0.2) * 3, rel=1e-6)


def test_place_counts_cores_tiles_and_nodes():
    # PUMA: 2 MVMUs per core, 8 cores per tile, 138 tiles per node (dissertation Table 3.5).
    assert {k: float(v) for k, v in place(200, 2, 8, 138).items()} == {"cores": 100, "tiles": 13, "nodes": 1}
    counts = place(jnp.array([1.0, 16.0, 17.0, 2209.0 * 16]), 2, 8, 138, mode="exact")
    assert counts["cores"].tolist() == [1, 8, 9, 17672]
    assert counts["tiles"].tolist() == [1, 1, 2, 2209]
    assert counts["nodes"].tolist() == [1, 1, 1, 17]
    assert {k: float(v) for k, v in place(0.0, 2, 8, 138, mode="ste").items()} == {
        "cores": 0,
        "tiles": 0,
        "nodes": 0,
    }


def test_map_network_by_layer_and_network_utilization():
    net = Network(
        "net",
        (Dense(1000, 1000, name="fc1"), LSTM(64, 64, projection=32, name="lstm"), Dense(256, 10, name="out")),
    )
    mapped = map_network(net, PUMA)
    assert list(mapped) == ["fc1", "lstm", "out"]
    assert [len(v) for v in mapped.values()] == [1, 2, 1]
    gates, projection = mapped["lstm"]
    assert float(gates.logical_arrays) == 1 * 2  # rows 64 + 32, cols 4 * 64
    assert float(projection.logical_arrays) == 1
    weights = 1000 * 1000 + 96 * 256 + 64 * 32 + 256 * 10
    arrays = 64 + 2 + 1 + 2
    assert float(mapping.utilization_network(mapped)) == pytest.approx(
        weights / (arrays * 128 * 128), rel=1e-6
    )


# --- relaxation --------------------------------------------------------------------------------


CONV_LIKE = MatrixOp("m", 300, 200, 16, input_reuse=2 / 3)


def _counts(mode, op=CONV_LIKE):
    """Every count as a function of every continuous knob."""

    def fn(rows, cols, bits_per_cell, weight_bits, input_bits, dac_bits):
        target = ArrayTarget(rows, cols, bits_per_cell, weight_bits, input_bits, dac_bits)
        counts = vars(map_matrix(op, target, mode=mode)).copy()
        counts["weight_slices"] = weight_slices(target, mode)
        counts["input_cycles"] = input_cycles(target, mode)
        counts.update(place(counts["physical_arrays"], 4.0, 8.0, 16.0, mode=mode))
        return jnp.stack([jnp.asarray(v, jnp.result_type(float)) for v in counts.values()])

    return fn


KNOBS = (100.0, 90.0, 3.0, 16.0, 12.0, 5.0)


def test_smooth_gradients_match_finite_differences():
    with jax.enable_x64(True):
        fn = jax.jit(_counts("smooth"))
        jacobian_fn = jax.jit(jax.jacfwd(fn, argnums=tuple(range(6))))
        for point in [KNOBS, (700.0, 33.3, 1.5, 7.0, 30.0, 2.5), (64.5, 500.0, 7.5, 60.0, 2.0, 1.5)]:
            x = [jnp.float64(v) for v in point]
            jacobian = jacobian_fn(*x)
            for i in range(6):
                step = 1e-6 * abs(point[i])
                up = fn(*[v + step if j == i else v for j, v in enumerate(x)])
                down = fn(*[v - step if j == i else v for j, v in enumerate(x)])
                numeric = (up - down) / (2 * step)
                # rtol 1e-5: central differences in float64 are accurate to ~1e-9 here.
                np.testing.assert_allclose(jacobian[i], numeric, rtol=1e-5, atol=1e-9, err_msg=f"knob {i}")
            assert np.any(np.abs(np.stack(jacobian)) > 0)


def test_smooth_counts_never_fall_below_one_array():
    # A matrix smaller than the array still occupies one (module doc: smooth floor at one).
    m = map_matrix(MatrixOp("small", 10, 20, 1), PUMA, mode="smooth")
    assert 1.0 <= float(m.row_blocks) <= 1.035
    assert float(m.utilization) == pytest.approx(200 / 128**2, rel=0.08)
    assert float(m.partial_sums) >= 0


def test_ste_values_are_exact_integers_with_the_identity_gradient():
    with jax.enable_x64(True):
        point = (100.5, 90.25, 3.0, 16.0, 12.0, 5.0)
        values = _counts("ste")(*point)
        names = [*vars(map_matrix(MatrixOp("m", 1, 1, 1), PUMA)), "weight_slices", "input_cycles"]
        integers = [i for i, n in enumerate(names) if n not in ("utilization", "input_loads")]
        np.testing.assert_array_equal(values[np.array(integers)], np.round(values[np.array(integers)]))
        np.testing.assert_array_equal(values, _counts("exact")(*point))
        grad = jax.grad(lambda r: map_matrix(MatrixOp("m", 300, 200, 1), ArrayTarget(rows=r)).row_blocks)
        assert float(grad(100.5)) == pytest.approx(-300 / 100.5**2)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "point",
    [(1.0, 1.0, 1.0, 1.0, 1.0, 1.0), (1e4, 1e4, 8.0, 64.0, 64.0, 64.0), (128.0, 128.0, 8.0, 1.0, 64.0, 1.0)],
)
def test_values_and_gradients_finite_at_the_edges(mode, point):
    jacobian = jax.jit(jax.jacrev(_counts(mode), argnums=tuple(range(6))))(*point)
    assert np.all(np.isfinite(_counts(mode)(*point)))
    assert all(np.all(np.isfinite(j)) for j in jacobian)


def test_jit_and_vmap_over_array_rows():
    op = MatrixOp("m", 1000, 1000, 4)
    fn = jax.jit(jax.vmap(lambda r: map_matrix(op, ArrayTarget(rows=r, cols=r)).logical_arrays))
    assert fn(jnp.array([64.0, 128.0, 256.0, 1000.0])).tolist() == [256, 64, 16, 1]


def test_traced_dac_bits_are_clamped_to_input_bits():
    fn = jax.jit(lambda d: input_cycles(ArrayTarget(input_bits=8.0, dac_bits=d)))
    assert float(fn(20.0)) == 1


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields,name",
    [
        ({"rows": 0.0}, "rows"),
        ({"cols": -4.0}, "cols"),
        ({"bits_per_cell": 0.5}, "bits_per_cell"),
        ({"bits_per_cell": 9.0}, "bits_per_cell"),
        ({"weight_bits": 65.0}, "weight_bits"),
        ({"input_bits": 0.0}, "input_bits"),
        ({"dac_bits": 0.5}, "dac_bits"),
        ({"input_bits": 8.0, "dac_bits": 9.0}, "dac_bits"),
        ({"rows": float("nan")}, "rows"),
        ({"slice_bits": ()}, "slice_bits"),
        ({"slice_bits": (8, 8, 0)}, "slice_bits"),
        ({"slice_bits": (8, 8.5)}, "slice_bits"),
        ({"slice_bits": (4, 4, 4)}, "slice_bits"),
        ({"slice_bits": ("a", "b")}, "slice_bits"),
    ],
)
def test_bad_target_raises_naming_the_field(fields, name):
    with pytest.raises(ValueError, match=name):
        ArrayTarget(**fields)


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: map_matrix(MatrixOp("m", 4, 4, 1), PUMA, mode="fuzzy"), "mode"),
        (lambda: map_matrix(MatrixOp("m", 4, 4, 1), PUMA, input_shuffling="yes"), "input_shuffling"),
        (lambda: weight_slices(ArrayTarget(weight_bits=8.0, slice_bits=(4, 4)), mode="fuzzy"), "mode"),
        (lambda: place(-1.0, 2, 8, 138), "arrays"),
        (lambda: place(10.0, 0.0, 8, 138), "arrays_per_core"),
        (lambda: place(10.0, 2, 8, 0.5), "tiles_per_node"),
        (lambda: mapping.utilization_network({"embedding": ()}), "mappings"),
        (lambda: jax.jit(mapping.slice_levels)(PUMA), "weight_bits"),
    ],
)
def test_bad_call_raises_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


@pytest.mark.parametrize(
    "field,value", [("rows", 0), ("cols", 2.5), ("vectors", 0), ("input_reuse", 1.0), ("input_reuse", -0.1)]
)
def test_unmappable_matrix_raises_naming_the_field(field, value):
    # A duck-typed op bypasses MatrixOp's own checks, so map_matrix's are exercised.
    op = types.SimpleNamespace(name="m", rows=4, cols=4, vectors=1, input_reuse=0.0, stationary=True)
    setattr(op, field, value)
    with pytest.raises(ValueError, match=field):
        map_matrix(op, PUMA)
