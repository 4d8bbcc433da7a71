"""Block occupancy: which crossbar blocks of a weight matrix hold weights (hwjax.mapping), per
layer of a network, and read from a live Flax NNX model (hwjax.workloads.occupancy_from_flax,
hwjax.flax_trace.layer_weights).

Exact maps are 0/1 by construction, so they are compared exactly; smooth values are checked
against their closed form ``x / (1 + x)`` at float32 round-off (rel 1e-6).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from hwjax import flax_trace, mapping
from hwjax import workloads as W

MODES = ("exact", "ste", "smooth")


def _diagonal_blocks(seed=0):
    """256 x 256 random weights whose off-diagonal 128 x 128 blocks are zero."""
    w = np.random.default_rng(seed).normal(size=(256, 256)).astype(np.float32)
    w[:128, 128:] = 0.0
    w[128:, :128] = 0.0
    return w


# --- one matrix --------------------------------------------------------------------------------


def test_exact_map_of_a_block_diagonal_matrix():
    w = _diagonal_blocks()
    occupancy = mapping.block_occupancy(w, 128, 128)
    np.testing.assert_array_equal(occupancy, [[1.0, 0.0], [0.0, 1.0]])
    assert float(mapping.block_occupancy_fraction(w, 128, 128)) == 0.5
    # One nonzero weight is enough to occupy a block.
    w[0, 200] = 1e-6
    np.testing.assert_array_equal(mapping.block_occupancy(w, 128, 128), [[1.0, 1.0], [0.0, 1.0]])


def test_shapes_that_are_not_multiples_are_zero_padded():
    w = np.zeros((300, 200), np.float32)  # 3 x 2 blocks of 128 x 128, the last ones partial
    w[299, 199] = 1.0
    w[5, 5] = -2.0
    np.testing.assert_array_equal(mapping.block_occupancy(w, 128, 128), [[1, 0], [0, 0], [0, 1]])
    assert float(mapping.block_occupancy_fraction(w, 128, 128)) == pytest.approx(2 / 6)
    # An array larger than the matrix holds it in one block (padding only).
    np.testing.assert_array_equal(mapping.block_occupancy(w, 1000, 4096), [[1.0]])
    np.testing.assert_array_equal(mapping.block_occupancy(np.zeros((3, 5)), 1000, 4096), [[0.0]])
    # 1 x 1 blocks: the map is the nonzero pattern itself.
    np.testing.assert_array_equal(mapping.block_occupancy(w, 1, 1), w != 0)


def test_threshold_counts_only_larger_magnitudes():
    w = np.zeros((4, 4), np.float32)
    w[0, 0], w[0, 3], w[3, 0] = 0.05, -0.2, 0.1
    np.testing.assert_array_equal(mapping.block_occupancy(w, 2, 2, threshold=0.1), [[0, 1], [0, 0]])
    smooth = mapping.block_occupancy(w, 2, 2, "smooth", threshold=0.1)
    assert float(smooth[0, 0]) == 0.0 and float(smooth[1, 0]) == 0.0  # within the threshold
    assert float(smooth[0, 1]) > 0.5


def test_ste_is_the_exact_map_with_a_nonzero_gradient_on_occupied_blocks():
    w = jnp.asarray(_diagonal_blocks())
    ste = mapping.block_occupancy(w, 128, 128, "ste")
    np.testing.assert_array_equal(ste, mapping.block_occupancy(w, 128, 128, "exact"))
    grad = jax.grad(lambda w: mapping.block_occupancy_fraction(w, 128, 128, "ste"))(w)
    assert np.all(np.isfinite(grad))
    occupied = np.asarray(grad[:128, :128])
    assert np.any(occupied != 0.0)
    # The gradient points away from zero: shrinking a weight lowers the occupancy.
    nonzero = occupied != 0
    assert np.all(np.sign(occupied[nonzero]) == np.sign(np.asarray(w)[:128, :128][nonzero]))
    assert np.all(np.asarray(grad[:128, 128:]) == 0.0)  # an empty block has a flat surrogate
    exact_grad = jax.grad(lambda w: mapping.block_occupancy_fraction(w, 128, 128, "exact"))(w)
    assert np.all(np.asarray(exact_grad) == 0.0)


def test_smooth_map_lies_in_the_unit_interval_and_has_its_closed_form():
    w = _diagonal_blocks()
    smooth = np.asarray(mapping.block_occupancy(w, 128, 128, "smooth"))
    assert np.all((smooth >= 0.0) & (smooth < 1.0))
    assert smooth[0, 1] == smooth[1, 0] == 0.0
    assert np.all(smooth[[0, 1], [0, 1]] > 0.999)
    # One weight a in a block, explicit temperature T: x = a² / T², occupancy x / (1 + x).
    for a, expected in [(0.1, 0.5), (0.3, 0.9), (0.01, 0.01 / 1.01)]:
        one = np.zeros((4, 4), np.float32)
        one[1, 2] = a
        value = mapping.block_occupancy(one, 2, 2, "smooth", temperature=0.1)
        np.testing.assert_allclose(value, [[0.0, expected], [0.0, 0.0]], rtol=1e-5)


def test_smooth_map_tends_to_the_exact_one_as_the_temperature_falls():
    w = np.random.default_rng(1).normal(size=(8, 8)) * (np.random.default_rng(2).random((8, 8)) > 0.9)
    exact = mapping.block_occupancy(w, 2, 2)
    smooth = mapping.block_occupancy(w, 2, 2, "smooth", temperature=1e-4)
    np.testing.assert_allclose(smooth, exact, atol=1e-4)


def test_default_temperature_is_scale_free():
    w = _diagonal_blocks()[:40, :40] * (np.random.default_rng(3).random((40, 40)) > 0.7)
    reference = mapping.block_occupancy(w, 8, 8, "smooth")
    for scale in (1e-20, 1e-3, 1e3, 1e20):
        np.testing.assert_allclose(mapping.block_occupancy(w * scale, 8, 8, "smooth"), reference, rtol=1e-5)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("temperature", [None, 0.1])
def test_gradient_is_finite_at_an_all_zero_matrix(mode, temperature):
    def fraction(w):
        return mapping.block_occupancy_fraction(w, 2, 3, mode, temperature=temperature)

    zeros = jnp.zeros((5, 7))
    assert float(fraction(zeros)) == 0.0
    grad = jax.grad(fraction)(zeros)
    assert np.all(np.isfinite(grad))


def test_jit_vmap_and_grad_with_static_array_size():
    w = jnp.asarray(_diagonal_blocks()[:50, :70])
    jitted = jax.jit(mapping.block_occupancy, static_argnums=(1, 2, 3))
    for mode in MODES:
        np.testing.assert_array_equal(jitted(w, 16, 32, mode), mapping.block_occupancy(w, 16, 32, mode))
    batch = jnp.stack([w, jnp.zeros_like(w), w.at[:16].set(0.0)])
    mapped = jax.vmap(lambda m: mapping.block_occupancy(m, 16, 32, "ste"))(batch)
    looped = jnp.stack([mapping.block_occupancy(m, 16, 32, "ste") for m in batch])
    np.testing.assert_array_equal(mapped, looped)
    grad = jax.jit(jax.grad(lambda m: mapping.block_occupancy_fraction(m, 16, 32, "smooth")))(w)
    assert grad.shape == w.shape and np.all(np.isfinite(grad))


@pytest.mark.parametrize(
    "overrides,parameter",
    [
        ({"weights": np.ones(5)}, "weights"),
        ({"weights": np.ones((2, 3, 4))}, "weights"),
        ({"weights": np.ones((0, 4))}, "weights"),
        ({"weights": np.array([[1.0, np.inf]])}, "weights"),
        ({"rows": 0}, "rows"),
        ({"rows": 2.0}, "rows"),
        ({"cols": True}, "cols"),
        ({"cols": -3}, "cols"),
        ({"threshold": -0.5}, "threshold"),
        ({"temperature": 0.0}, "temperature"),
        ({"mode": "fuzzy"}, "mode"),
    ],
)
def test_bad_input_raises_naming_the_parameter_and_its_range(overrides, parameter):
    args = {"weights": np.ones((4, 4)), "rows": 2, "cols": 2, "mode": "smooth", **overrides}
    with pytest.raises(ValueError, match=parameter):
        mapping.block_occupancy(**args)


def test_bad_size_message_states_the_allowed_range():
    with pytest.raises(ValueError, match=r"rows=0 .*allowed range \[1, inf\)"):
        mapping.block_occupancy(np.ones((4, 4)), 0, 2)


# --- a network ---------------------------------------------------------------------------------


def test_network_occupancy_weights_matrices_by_blocks():
    lstm = W.LSTM(input_size=100, cells=128, projection=64, name="lstm")  # gates 164 x 512, proj 128 x 64
    gemm = W.GEMM(M=4, N=8, K=8, stationary=False, name="scores")
    net = W.Network("n", (lstm, W.Elementwise("relu", 64, name="relu"), gemm, W.Dense(10, 300, name="fc")))
    gates = np.ones((164, 512), np.float32)
    gates[128:, :] = 0.0  # the second row block (36 rows) empty: 4 of 8 blocks
    projection = np.zeros((128, 64), np.float32)  # 1 block, empty
    occupancy = mapping.network_occupancy(net, {"lstm": (gates, projection)}, 128, 128)
    # lstm: (4 + 0) / (8 + 1); vector work, the non-stationary GEMM and fc (not given): 1.
    np.testing.assert_allclose(occupancy, [4 / 9, 1.0, 1.0, 1.0], rtol=1e-6)
    half = np.ones((10, 300), np.float32)
    half[:, 128:] = 0.0
    occupancy = mapping.network_occupancy(net, {"fc": half, "lstm": (None, projection)}, 128, 128)
    np.testing.assert_allclose(occupancy, [8 / 9, 1.0, 1.0, 1 / 3], rtol=1e-6)


def test_network_occupancy_rejects_unknown_layers_and_wrong_shapes():
    net = W.Network("n", (W.Dense(4, 6, name="fc"), W.LSTM(2, 3, name="lstm")))
    with pytest.raises(ValueError, match="not layers of the network"):
        mapping.network_occupancy(net, {"fc2": np.ones((4, 6))}, 2, 2)
    with pytest.raises(ValueError, match=r"has shape \(6, 4\); it must be \(K, N\) = \(4, 6\)"):
        mapping.network_occupancy(net, {"fc": np.ones((6, 4))}, 2, 2)
    with pytest.raises(ValueError, match="holds 2 matrices but layer 'fc' has 1"):
        mapping.network_occupancy(net, {"fc": (np.ones((4, 6)), np.ones((4, 6)))}, 2, 2)


# --- a live Flax NNX model ---------------------------------------------------------------------


class MLP(nnx.Module):
    def __init__(self, rngs):
        self.l1 = nnx.Linear(64, 256, rngs=rngs)
        self.l2 = nnx.Linear(256, 256, rngs=rngs)
        self.l3 = nnx.Linear(256, 10, rngs=rngs)

    def __call__(self, x):
        return self.l3(nnx.relu(self.l2(nnx.relu(self.l1(x)))))


def _zero(layer, rows, cols):
    layer.kernel[...] = layer.kernel[...].at[rows, cols].set(0.0)


def test_occupancy_of_a_pruned_mlp_counts_its_empty_blocks():
    model = MLP(nnx.Rngs(0))
    _zero(model.l1, slice(None), slice(128, None))  # 64 x 256: 1 x 2 blocks, the second empty
    _zero(model.l2, slice(None, 128), slice(128, None))  # 256 x 256: 1 of 4 blocks empty
    _zero(model.l3, slice(128, None), slice(None))  # 256 x 10: 2 x 1 blocks, the second empty
    x = jnp.ones((1, 64))
    network, occupancy = W.occupancy_from_flax(model, x, rows=128, cols=128)
    assert network == W.from_flax(model, x)
    assert [layer.name for layer in network] == ["l1", "l2", "l3"]
    np.testing.assert_array_equal(occupancy, [0.5, 0.75, 0.5])
    _, ste = W.occupancy_from_flax(model, x, rows=128, cols=128, mode="ste")
    np.testing.assert_array_equal(ste, occupancy)
    # Arrays larger than every matrix: each layer is one (occupied) block.
    _, whole = W.occupancy_from_flax(model, x, rows=512, cols=512)
    np.testing.assert_array_equal(whole, [1.0, 1.0, 1.0])


def test_dense_random_weights_occupy_every_block_and_keep_from_flax_network():
    model = MLP(nnx.Rngs(1))
    x = jnp.ones((2, 64))
    network, occupancy = W.occupancy_from_flax(model, x, rows=128, cols=128, name="mlp")
    assert network == W.from_flax(model, x, name="mlp")
    np.testing.assert_array_equal(occupancy, np.ones(3))
    weights = flax_trace.layer_weights(model, x)
    assert list(weights) == ["l1", "l2", "l3"]
    for name in weights:
        np.testing.assert_array_equal(weights[name], getattr(model, name).kernel[...])


class Masked(nnx.Module):
    """A linear layer multiplying its kernel by a fixed mask variable (a pruning mask)."""

    def __init__(self, rngs):
        self.dense = nnx.Linear(8, 8, use_bias=False, rngs=rngs)
        mask = np.ones((8, 8), np.float32)
        mask[:4, 4:] = 0.0
        self.mask = nnx.Variable(jnp.asarray(mask))

    def __call__(self, x):
        return x @ (self.dense.kernel[...] * self.mask[...])


def test_occupancy_reads_the_kernel_the_layer_uses_mask_included():
    model = Masked(nnx.Rngs(0))
    x = jnp.ones((1, 8))
    (name,) = flax_trace.layer_weights(model, x)
    network, occupancy = W.occupancy_from_flax(model, x, rows=4, cols=4)
    assert [layer.name for layer in network] == [name]
    np.testing.assert_array_equal(occupancy, [0.75])  # the masked block is empty


class Convs(nnx.Module):
    def __init__(self, rngs):
        self.conv = nnx.Conv(3, 8, (3, 3), rngs=rngs)
        self.depthwise = nnx.Conv(8, 8, (3, 3), feature_group_count=8, rngs=rngs)

    def __call__(self, x):
        return self.depthwise(nnx.relu(self.conv(x)))


def test_convolution_kernels_are_their_im2col_matrices():
    model = Convs(nnx.Rngs(0))
    x = jax.ShapeDtypeStruct((1, 8, 8, 3), jnp.float32)  # the input may stay abstract
    weights = flax_trace.layer_weights(model, x)
    np.testing.assert_array_equal(weights["conv"], model.conv.kernel[...].reshape(27, 8))
    np.testing.assert_array_equal(weights["depthwise"], model.depthwise.kernel[...].reshape(9, 8))
    network = W.from_flax(model, x)
    for layer in network:
        (op,) = layer.matrix_ops()
        assert weights[layer.name].shape == (op.rows, op.cols)


class StackedLayers(nnx.Module):
    def __init__(self):
        self.w = nnx.Param(jnp.arange(3 * 8 * 8, dtype=jnp.float32).reshape(3, 8, 8))

    def __call__(self, x):
        return jax.lax.scan(lambda h, w: (jnp.tanh(h @ w), None), x, self.w[...])[0]


def test_scan_over_stacked_weights_puts_the_slices_side_by_side():
    model = StackedLayers()
    weights = flax_trace.layer_weights(model, jnp.ones((2, 8)))
    np.testing.assert_array_equal(weights["w"], jnp.concatenate(list(model.w[...]), axis=1))
    model.w[...] = model.w[...].at[1].set(0.0)
    _, occupancy = W.occupancy_from_flax(model, jnp.ones((2, 8)), rows=8, cols=8)
    np.testing.assert_allclose(occupancy, [2 / 3])


class Attention(nnx.Module):
    def __init__(self, rngs):
        self.q = nnx.Linear(16, 16, rngs=rngs)
        self.k = nnx.Linear(16, 16, rngs=rngs)

    def __call__(self, x, y):
        return jnp.einsum("btd,bsd->bts", self.q(x), self.k(y))


def test_several_inputs_and_a_non_stationary_product():
    model = Attention(nnx.Rngs(0))
    _zero(model.q, slice(None, 8), slice(None))
    network, occupancy = W.occupancy_from_flax(
        model, jnp.ones((1, 4, 16)), jnp.ones((1, 5, 16)), rows=8, cols=16
    )
    assert [layer.name for layer in network] == ["q", "k", "gemm0"]
    np.testing.assert_array_equal(occupancy, [0.5, 1.0, 1.0])  # activations x activations: 1
    assert list(flax_trace.layer_weights(model, jnp.ones((1, 4, 16)), jnp.ones((1, 5, 16)))) == ["q", "k"]


def test_occupancy_is_differentiable_in_the_model_weights():
    model = MLP(nnx.Rngs(0))
    _zero(model.l2, slice(None, 128), slice(128, None))
    model.l2.kernel[...] = model.l2.kernel[...].at[0, 200].set(1e-2)  # one small weight left
    x = jnp.ones((1, 64))

    def total(model):
        return jnp.sum(W.occupancy_from_flax(model, x, rows=128, cols=128, mode="ste")[1])

    assert float(total(model)) == 3.0
    grad = nnx.grad(total)(model).l2.kernel[...]
    assert np.all(np.isfinite(grad))
    assert float(grad[0, 200]) > 0.0  # removing the last weight empties the block


def test_weights_need_a_model_with_arrays():
    abstract = nnx.eval_shape(lambda: MLP(nnx.Rngs(0)))
    with pytest.raises(ValueError, match=r"are only shapes \(nnx\.eval_shape\)"):
        W.occupancy_from_flax(abstract, jnp.ones((1, 64)), rows=128, cols=128)
    with pytest.raises(ValueError, match="rows"):
        W.occupancy_from_flax(MLP(nnx.Rngs(0)), jnp.ones((1, 64)), rows=0, cols=128)
