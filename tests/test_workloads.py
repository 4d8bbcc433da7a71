"""Layer descriptors, networks and from_flax (hwjax.workloads)."""

import ast
import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest
from flax import nnx
from hypothesis import given
from hypothesis import strategies as st

from hwjax import workloads as W

# --------------------------------------------------------------------------------------------
# Operations


def test_matrix_op_counts():
    op = W.MatrixOp("fc", rows=784, cols=256, vectors=3)
    assert (op.macs, op.weights) == (784 * 256 * 3, 784 * 256)
    assert W.MatrixOp("scores", 64, 50, 50, stationary=False).weights == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rows": 0}, r"rows=0 is outside the allowed range \[1, inf\)"),
        ({"cols": -3}, r"cols=-3 is outside the allowed range \[1, inf\)"),
        ({"vectors": 2.5}, r"vectors=2.5 must be a Python int"),
        ({"input_reuse": 1.0}, r"input_reuse=1.0 is outside the allowed range \[0, 1\)"),
        ({"stationary": 1}, r"stationary=1 must be True or False"),
    ],
)
def test_matrix_op_rejects_bad_fields(kwargs, match):
    fields = {"name": "m", "rows": 4, "cols": 4, "vectors": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        W.MatrixOp(**fields)


def test_vector_op_kind_names_choices():
    with pytest.raises(ValueError, match=r"kind='gelu' is not one of the valid choices: 'relu', 'sigmoid'"):
        W.VectorOp("x", "gelu", 10)


# --------------------------------------------------------------------------------------------
# Layers


def test_dense_counts_and_ops():
    layer = W.Dense(784, 256, vectors=2, name="fc1")
    assert (layer.macs, layer.weights) == (784 * 256 * 2, 784 * 256)
    assert (layer.input_elements, layer.output_elements) == (784 * 2, 256 * 2)
    assert layer.matrix_ops() == (W.MatrixOp("fc1", 784, 256, 2),)
    assert layer.vector_ops() == (W.VectorOp("fc1.relu", "relu", 512),)
    assert W.Dense(4, 4, activation=None).vector_ops() == ()


def test_dense_validation_names_field_and_range():
    with pytest.raises(ValueError, match=r"Dense: in_features=0 is outside the allowed range \[1, inf\)"):
        W.Dense(in_features=0, out_features=3)
    with pytest.raises(ValueError, match=r"activation='gelu'.*'relu', 'sigmoid', 'tanh', None"):
        W.Dense(3, 3, activation="gelu")
    with pytest.raises(ValueError, match=r"out_features=True must be a Python int"):
        W.Dense(3, True)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [
        (224, 3, 1, "same", 224),
        (15, 3, 2, "same", 8),  # ceil(15 / 2)
        (15, 3, 2, "valid", 7),  # floor((15 - 3) / 2) + 1
        (15, 3, 1, 1, 15),
        (224, 7, 2, 3, 112),  # ResNet stem
        (28, 5, 1, 0, 24),
    ],
)
def test_conv_output_size(size, kernel, stride, padding, expected):
    conv = W.Conv2d(3, 8, kernel, (size, size), stride=stride, padding=padding)
    assert conv.output_hw == (expected, expected)
    (op,) = conv.matrix_ops()
    assert (op.rows, op.cols, op.vectors) == (kernel * kernel * 3, 8, expected * expected)


@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 4),
    padding=st.one_of(st.sampled_from(["same", "valid"]), st.integers(0, 3)),
)
def test_conv_output_size_matches_xla(size, kernel, stride, padding):
    """Conv2d's output size equals lax.conv_general_dilated's, or it raises where XLA's is empty."""
    xla_padding = padding.upper() if isinstance(padding, str) else [(padding, padding)] * 2
    x = jax.ShapeDtypeStruct((1, 1, size, size), jnp.float32)
    w = jax.ShapeDtypeStruct((1, 1, kernel, kernel), jnp.float32)
    out = jax.eval_shape(lambda x, w: jax.lax.conv_general_dilated(x, w, (stride, stride), xla_padding), x, w)
    if out.shape[2] <= 0:
        with pytest.raises(ValueError, match="larger than the padded input"):
            W.Conv2d(1, 1, kernel, (size, size), stride=stride, padding=padding)
    else:
        conv = W.Conv2d(1, 1, kernel, (size, size), stride=stride, padding=padding)
        assert conv.output_hw == out.shape[2:]


def test_conv_input_reuse_and_counts():
    # Dissertation 3.2.3: a 5x5 window sliding by 1 shares 4 of its 5 columns (0.8).
    assert W.Conv2d(3, 8, 5, (32, 32)).matrix_ops()[0].input_reuse == pytest.approx(0.8)
    assert W.Conv2d(3, 8, 3, (32, 32), stride=2).input_reuse == pytest.approx(1 / 3)
    assert W.Conv2d(3, 8, 1, (32, 32), stride=2).input_reuse == 0.0
    conv = W.Conv2d(3, 64, 3, (224, 224), name="conv1_1")
    assert conv.macs == 3 * 64 * 9 * 224 * 224
    assert conv.weights == 3 * 64 * 9
    assert (conv.input_elements, conv.output_elements) == (3 * 224 * 224, 64 * 224 * 224)
    assert conv.vector_ops() == (W.VectorOp("conv1_1.relu", "relu", 64 * 224 * 224),)


def test_conv_validation():
    with pytest.raises(ValueError, match=r"kernel_size=\(5, 5\) is larger than the padded input"):
        W.Conv2d(3, 8, 5, (3, 3), padding="valid")
    with pytest.raises(ValueError, match=r"padding='full' is not one of the valid choices"):
        W.Conv2d(3, 8, 3, (8, 8), padding="full")
    with pytest.raises(ValueError, match=r"padding=-1 is outside the allowed range \[0, inf\)"):
        W.Conv2d(3, 8, 3, (8, 8), padding=-1)
    with pytest.raises(ValueError, match=r"groups=2 must divide in_channels=3"):
        W.Conv2d(3, 8, 3, (8, 8), groups=2)
    with pytest.raises(ValueError, match=r"in_channels=0"):
        W.Conv2d(0, 8, 3, (8, 8))


def test_lstm_ops():
    lstm = W.LSTM(input_size=1024, cells=1024, sequence_length=50, name="enc0")
    (gates,) = lstm.matrix_ops()
    assert (gates.name, gates.rows, gates.cols, gates.vectors) == ("enc0.gates", 2048, 4096, 50)
    kinds = {op.kind: op.elements for op in lstm.vector_ops()}
    assert kinds == {"sigmoid": 3 * 1024 * 50, "tanh": 2 * 1024 * 50, "mul": 3 * 1024 * 50, "add": 1024 * 50}
    lstmp = W.LSTM(1024, 8192, projection=1024, sequence_length=2, name="l")
    gates, proj = lstmp.matrix_ops()
    assert (gates.rows, gates.cols, proj.name, proj.rows, proj.cols) == (
        2048,
        32768,
        "l.projection",
        8192,
        1024,
    )
    assert lstmp.macs == 2 * (2048 * 32768 + 8192 * 1024)
    assert lstmp.output_elements == 1024 * 2
    with pytest.raises(ValueError, match=r"projection=-1 is outside the allowed range \[0, inf\)"):
        W.LSTM(4, 4, projection=-1)


def test_gemm_embedding_pool_elementwise():
    gemm = W.GEMM(M=128, N=2048, K=4096)
    assert gemm.matrix_ops()[0] == W.MatrixOp("gemm", 4096, 2048, 128)
    assert (gemm.macs, gemm.weights, gemm.input_elements) == (128 * 2048 * 4096, 2048 * 4096, 128 * 4096)
    scores = W.GEMM(50, 50, 64, stationary=False)
    assert (scores.weights, scores.input_elements) == (0, 50 * 64 + 64 * 50)
    emb = W.Embedding(vocab=40000, dim=1024, lookups=50)
    assert (emb.weights, emb.macs, emb.matrix_ops()) == (40000 * 1024, 0, ())
    assert emb.vector_ops() == (W.VectorOp("embedding.copy", "copy", 1024 * 50),)
    pool = W.Pool2d(64, (224, 224), 2)
    assert (pool.stride, pool.output_hw, pool.output_elements) == (2, (112, 112), 64 * 112 * 112)
    assert pool.vector_ops()[0].elements == 64 * 112 * 112 * 3  # three 2-input max per 2x2 window
    assert W.Pool2d(64, (112, 112), 3, stride=2, padding=1).output_hw == (56, 56)
    assert W.Elementwise("add", 10, name="res").vector_ops() == (W.VectorOp("res", "add", 10),)
    with pytest.raises(ValueError, match="kind='avg'"):
        W.Elementwise("avg", 10)


# --------------------------------------------------------------------------------------------
# Network


def _mlp():
    return W.Network("mlp", (W.Dense(784, 256), W.Dense(256, 10, activation=None)))


def test_network_totals_names_and_order():
    net = W.Network("n", [W.Conv2d(3, 8, 3, (16, 16)), W.Pool2d(8, (16, 16), 2), W.Dense(512, 10, name="fc")])
    assert [layer.name for layer in net] == ["conv2d0", "pool2d1", "fc"]
    assert len(net) == 3 and net["fc"] is net[2]
    assert net.macs == 27 * 8 * 256 + 512 * 10
    assert net.weights == 27 * 8 + 512 * 10
    assert [op.name for op in net.matrix_ops()] == ["conv2d0", "fc"]
    assert [op.kind for op in net.vector_ops()] == ["relu", "max", "relu"]
    with pytest.raises(KeyError, match="no layer 'x'"):
        net["x"]


def test_network_validation():
    with pytest.raises(ValueError, match="duplicate layer name 'a'"):
        W.Network("n", (W.Dense(2, 2, name="a"), W.Dense(2, 2, name="a")))
    with pytest.raises(ValueError, match="must be a non-empty tuple"):
        W.Network("n", ())
    with pytest.raises(ValueError, match=r"layers\[1\]=3 is not a layer"):
        W.Network("n", (W.Dense(2, 2), 3))


def test_network_summary_lists_layers_and_totals():
    text = _mlp().summary()
    assert "dense0" in text and "dense1" in text
    assert "203,264" in text  # 784*256 + 256*10 MACs (= weights at batch 1)
    assert text.splitlines()[-1].startswith("total")


def test_network_is_static_pytree_through_jit():
    net = _mlp()
    assert jax.tree_util.tree_leaves(net) == []
    assert hash(net) == hash(_mlp()) and net == _mlp()
    traces = []

    @jax.jit
    def energy(network, pj_per_mac):
        traces.append(1)
        return network.macs * pj_per_mac

    assert float(energy(net, 2.0)) == pytest.approx(2.0 * 203264)
    energy(_mlp(), 3.0)  # an equal network is the same static structure: no retrace
    assert len(traces) == 1
    energy(W.Network("mlp", (W.Dense(784, 128),)), 3.0)
    assert len(traces) == 2


# --------------------------------------------------------------------------------------------
# from_flax (on abstract modules: nnx.eval_shape allocates and initialises nothing, which keeps
# these tests fast; StackedLayers below is a concrete module)


def _abstract(build):
    return nnx.eval_shape(lambda: build(nnx.Rngs(0)))


class MLP(nnx.Module):
    def __init__(self, rngs):
        self.l1 = nnx.Linear(784, 256, rngs=rngs)
        self.l2 = nnx.Linear(256, 10, rngs=rngs)

    def __call__(self, x):
        return self.l2(nnx.relu(self.l1(x)))


def test_from_flax_mlp_matches_hand_written():
    net = W.from_flax(_abstract(MLP), jnp.ones((1, 784)), name="mlp")
    assert net.layers == (
        W.Dense(784, 256, activation="relu", name="l1"),
        W.Dense(256, 10, activation=None, name="l2"),
    )
    hand = _mlp()
    assert (net.macs, net.weights) == (hand.macs, hand.weights)
    assert net.vector_ops() == (W.VectorOp("l1.relu", "relu", 256),)


def test_from_flax_batch_counts_into_vectors():
    net = W.from_flax(_abstract(MLP), jnp.ones((4, 784)))
    assert net.macs == 4 * _mlp().macs and net.weights == _mlp().weights


class CNN(nnx.Module):
    def __init__(self, rngs):
        self.conv = nnx.Conv(3, 8, (3, 3), padding="SAME", rngs=rngs)
        self.down = nnx.Conv(8, 16, (3, 3), strides=2, padding="VALID", rngs=rngs)
        self.fc = nnx.Linear(16 * 3 * 3, 10, rngs=rngs)

    def __call__(self, x):
        y = nnx.relu(self.conv(x))
        y = nnx.max_pool(y, (2, 2), (2, 2))
        y = nnx.relu(self.down(y))
        return self.fc(y.reshape(y.shape[0], -1))


def test_from_flax_cnn_matches_conv2d():
    net = W.from_flax(_abstract(CNN), jax.ShapeDtypeStruct((1, 16, 16, 3), jnp.float32))
    hand = W.Network(
        "cnn",
        (
            W.Conv2d(3, 8, 3, (16, 16), name="conv"),
            W.Pool2d(8, (16, 16), 2, name="pool"),
            W.Conv2d(8, 16, 3, (8, 8), stride=2, padding="valid", name="down"),
            W.Dense(16 * 3 * 3, 10, activation=None, name="fc"),
        ),
    )
    conv, down, fc, pool = net.layers
    assert [op for layer in (conv, down, fc) for op in layer.matrix_ops()] == list(hand.matrix_ops())
    assert (conv.activation, down.activation, conv.output_hw, down.output_hw) == (
        "relu",
        "relu",
        (16, 16),
        (3, 3),
    )
    assert (net.macs, net.weights) == (hand.macs, hand.weights)
    assert pool == W.Elementwise("max", 8 * 8 * 8 * 3, name="elementwise.max")  # 3 max per 2x2 window
    assert pool.elements == hand["pool"].vector_ops()[0].elements


def test_from_flax_lstm_cell_rnn():
    cells, inputs, steps = 32, 16, 5
    rnn = _abstract(lambda rngs: nnx.RNN(nnx.LSTMCell(inputs, cells, rngs=rngs)))
    net = W.from_flax(rnn, jnp.ones((1, steps, inputs)))
    # LSTMCell traces as 8 matrix products (4 gates x input/recurrent), in a scan of 5 steps.
    assert net.macs == 4 * cells * (inputs + cells) * steps
    assert net.weights == 4 * cells * (inputs + cells)
    assert net.macs == W.LSTM(inputs, cells, sequence_length=steps).macs
    vector = {op.kind: op.elements for op in net.vector_ops()}
    assert vector == {"sigmoid": 3 * cells * steps, "tanh": 2 * cells * steps}


class LoopRNN(nnx.Module):
    """An Elman RNN unrolled in Python: the same two matrices are applied at every step."""

    def __init__(self, rngs):
        self.wx = nnx.Linear(8, 16, rngs=rngs)
        self.wh = nnx.Linear(16, 16, use_bias=False, rngs=rngs)

    def __call__(self, x):
        h = jnp.zeros((x.shape[0], 16))
        for t in range(x.shape[1]):
            h = jnp.tanh(self.wx(x[:, t]) + self.wh(h))
        return h


def test_from_flax_python_loop_merges_repeated_matrices():
    net = W.from_flax(_abstract(LoopRNN), jnp.ones((1, 6, 8)))
    wx, wh, tanh = net.layers
    assert (wx.name, wx.vectors, wh.name, wh.vectors) == ("wx", 6, "wh", 6)
    assert net.weights == 8 * 16 + 16 * 16  # each matrix stored once
    assert net.macs == 6 * (8 * 16 + 16 * 16)
    assert tanh == W.Elementwise("tanh", 6 * 16, name="elementwise.tanh")


class StackedLayers(nnx.Module):
    """A scan over 3 stacked weight matrices: 3 distinct matrices, each used once per input."""

    def __init__(self):
        self.w = nnx.Param(jnp.ones((3, 8, 8)))

    def __call__(self, x):
        def step(h, w):
            return jnp.tanh(h @ w), None

        return jax.lax.scan(step, x, self.w[...])[0]


def test_from_flax_scan_over_stacked_weights():
    net = W.from_flax(StackedLayers(), jnp.ones((2, 8)))
    (layer,) = net.layers
    assert (layer.weights, layer.macs, layer.activation) == (3 * 64, 2 * 3 * 64, "tanh")


class Attention(nnx.Module):
    def __init__(self, rngs):
        self.q = nnx.Linear(16, 16, rngs=rngs)
        self.k = nnx.Linear(16, 16, rngs=rngs)

    def __call__(self, x):
        return jnp.einsum("btd,bsd->bts", self.q(x), self.k(x))


def test_from_flax_activation_product_is_non_stationary_gemm():
    net = W.from_flax(_abstract(Attention), jnp.ones((1, 10, 16)))
    q, k, scores = net.layers
    assert (q.vectors, k.vectors) == (10, 10)
    assert scores == W.GEMM(M=10, N=10, K=16, stationary=False, name="gemm0")
    assert net.weights == 2 * 16 * 16
    assert net.macs == 2 * 10 * 16 * 16 + 10 * 10 * 16


class WhileLoop(nnx.Module):
    def __init__(self, rngs):
        self.l = nnx.Linear(4, 4, rngs=rngs)

    def __call__(self, x):
        return jax.lax.while_loop(lambda h: h.sum() < 10.0, self.l, x)


def test_from_flax_rejects_unknown_trip_count_and_non_modules():
    with pytest.raises(ValueError, match=r"while loop .* trip count is unknown"):
        W.from_flax(_abstract(WhileLoop), jnp.ones((1, 4)))
    with pytest.raises(ValueError, match=r"model must be a flax\.nnx\.Module, got function"):
        W.from_flax(lambda x: x, jnp.ones((1, 4)))
    with pytest.raises(ValueError, match="could not trace the model"):
        W.from_flax(_abstract(MLP), jnp.ones((1, 5)))


def test_from_flax_layers_are_frozen_descriptors():
    net = W.from_flax(_abstract(MLP), jnp.ones((1, 784)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.layers[0].in_features = 3


def test_from_flax_depthwise_conv_counts_groups():
    conv = _abstract(lambda rngs: nnx.Conv(8, 8, (3, 3), feature_group_count=8, rngs=rngs))
    (layer,) = W.from_flax(conv, jax.ShapeDtypeStruct((1, 10, 10, 8), jnp.float32)).layers
    assert (layer.groups, layer.weights, layer.macs) == (8, 9 * 8, 9 * 8 * 100)
    assert layer.weights == 3 * 3 * 1 * 8  # the kernel nnx.Conv allocates: (3, 3, 1, 8)


class Branchy(nnx.Module):
    def __init__(self, rngs):
        self.l = nnx.Linear(4, 4, rngs=rngs)
        self.scale = nnx.Param(jnp.ones(4))

    def __call__(self, x):
        return jax.lax.cond(x.sum() > 0, self.l, lambda h: h, x)


class NoMatmul(nnx.Module):
    def __init__(self, rngs):
        self.scale = nnx.Param(jnp.ones(4))

    def __call__(self, x):
        return x * self.scale


def test_from_flax_rejects_data_dependent_branches_and_matmul_free_models():
    with pytest.raises(ValueError, match=r"lax\.cond/switch holds a matrix product"):
        W.from_flax(_abstract(Branchy), jnp.ones((1, 4)))
    with pytest.raises(ValueError, match="has no matrix product"):
        W.from_flax(_abstract(NoMatmul), jnp.ones((1, 4)))


class ConvBN(nnx.Module):
    def __init__(self, rngs):
        self.conv = nnx.Conv(3, 4, (3, 3), use_bias=False, rngs=rngs)
        self.bn = nnx.BatchNorm(4, use_running_average=True, rngs=rngs)

    def __call__(self, x):
        return nnx.relu(self.bn(self.conv(x)))


def test_from_flax_activation_attaches_through_batch_norm():
    (conv,) = W.from_flax(_abstract(ConvBN), jnp.ones((1, 8, 8, 3))).layers
    assert (conv.activation, conv.weights) == ("relu", 3 * 3 * 3 * 4)  # BN parameters are not weights


def test_flax_trace_imports_nothing_from_hwjax():
    # One import arrow: workloads builds the layers from flax_trace's plain-data Trace, so the
    # jaxpr walker never imports workloads (nor anything that might import it back).
    from hwjax import flax_trace

    tree = ast.parse(Path(flax_trace.__file__).read_text())
    nodes = list(ast.walk(tree))
    imported = [node.module for node in nodes if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names]
    assert not [name for name in imported if name and name.split(".")[0] == "hwjax"], imported
