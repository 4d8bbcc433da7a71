"""TraNNsformer training (Ankit's dissertation, Algorithm 3) and the pruning baselines it is compared with.

A pruned layer mapped onto ``rows x cols`` crossbars saves a crossbar only when a whole block of
its weight matrix is empty; weight pruning leaves its zeros scattered, so nearly every crossbar
stays occupied (dissertation 4.1, 4.5.1: a pruned DNN maps at a 0.3 utilization factor).
TraNNsformer trains the connectivity into crossbar-sized clusters instead. Per epoch
(:func:`train_trannsformer`):

1. train one epoch (optax Adam, a jitted step, the masks held fixed);
2. prune map: magnitude pruning of the live weights to the ``prune_effort`` sparsity; its 0s
   are the Accuracy Don't Cares (ADCs);
3. SCIC (:func:`hwjax.codesign.scic`, one round) on the unclustered live weights, with
   ``cluster_effort`` lowering its utilization floor, grows the cluster map; its 0s are the
   Clustering Don't Cares (CDCs);
4. mask = prune map ∪ cluster map: the weights in both don't-care sets are pruned, clustered
   ones kept whatever their magnitude; a new cluster's free cross-points are revived (from 0:
   its crossbar holds them anyway);
5. in the final ``cluster_prune`` fraction of the epochs, cluster pruning: each layer whose
   unclustered weights are few (``unclustered_threshold``) is gathered, its clusters laid out in
   crossbar-aligned blocks (:func:`hwjax.codesign.block_permutation`), and it keeps as many
   crossbars as its live weights would fill, the best-scoring blocks, in full; each later step
   removes the ``cluster_prune_rate`` fraction of its crossbars with the lowest score
   (utilization x Frobenius norm: the dissertation's cluster quality and contribution to
   accuracy).

Structural steps (2-4, and the removals of 5) run only after an epoch whose training loss
improved on the previous one's (Algorithm 3, lines 3 and 6); otherwise the epoch recovers the
accuracy lost. The last epoch only trains.

Where this departs from the dissertation: masks are hard (a pruned weight revives only inside a
cluster's crossbar, not by training). SCIC is asked for clusters of :func:`cluster_tile`
(crossbars stacked along a tall or wide layer's longer side: its spectral splits cut both sides
into as many groups, so plain crossbar-sized clusters of a 784 x 256 layer would fill a third
of a crossbar). The layout is a permutation of each layer's inputs and outputs, so a cluster
whose inputs also belong to an earlier one straddles blocks (an input is not copied to two
crossbars); hence a gathered layer keeps the crossbars its live weights would fill rather than
every block its clusters touch (which, with clusters formed over many epochs, is nearly all),
and cluster pruning removes crossbars of the gathered layout, not SCIC's clusters. A layer in
which no cluster forms stays weight-pruned.

The model is a :class:`MaskedMLP` of :class:`MaskedDense` layers: ``kernel * mask`` with the mask
an ``nnx.Variable`` that no optimizer trains, and a *layout* (row and column permutations) that
places the layer on its crossbars; the forward pass uses the permuted matrix, so
:func:`hwjax.workloads.occupancy_from_flax` and :func:`hwjax.system.cost_flax` cost the gathered
clusters. Baselines are pure functions on weight matrices returning masks:
:func:`magnitude_prune` (weights; rows and columns left empty are removed, :func:`compact_order`,
:func:`remaining_shape`) and :func:`block_prune` (whole crossbar blocks). Training and clustering
bookkeeping between epochs is NumPy; everything is a deterministic function of the model's
initial state and ``seed``.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from hwjax import validate
from hwjax.codesign import clustering
from hwjax.codesign.sparsity import block_norms

#: Default knobs. The dissertation names the knobs (Fig. 4.1(b)) without giving values. Prune
#: effort: the prune map's sparsity, 70% (the average sparsity of its pruned DNNs, 4.5.1).
DEFAULT_PRUNE_EFFORT = 0.7
#: Cluster effort: SCIC's utilization floor is ``(1 - effort) * 0.6``, here 0.12 (0.5 would give
#: SCIC's own 0.3): a cluster's free cross-points are revived, so it fills its crossbar beyond the
#: weights it held; at 0.5, on digits and the MNIST subset of benchmarks/trannsformer.py, too few
#: clusters formed for any layer to be gathered.
DEFAULT_CLUSTER_EFFORT = 0.8
#: Cluster pruning runs in the final 20% of the epochs ("initiating cluster pruning during the
#: final 10-20% of training epochs achieves maximal benefits", dissertation 4.2).
DEFAULT_CLUSTER_PRUNE = 0.2
#: Fraction of a layer's crossbars removed per cluster-pruning step.
DEFAULT_CLUSTER_PRUNE_RATE = 0.1
#: A layer is gathered (its unclustered weights dropped) only if at most half of its live
#: weights are unclustered (Algorithm 3, line 2: "num_unclustered_weights < threshold").
DEFAULT_UNCLUSTERED_THRESHOLD = 0.5
DEFAULT_LEARNING_RATE = 3e-3
DEFAULT_BATCH_SIZE = 32
#: SCIC rounds per epoch: one, so that the clusters of one epoch share no input or output (a
#: later round's clusters reuse inputs and would straddle crossbar blocks once gathered); the
#: following epochs cluster what is left.
SCIC_ROUNDS = 1


# ---------------------------------------------------------------------------------------------
# The masked model


class Mask(nnx.Variable):
    """A layer's connectivity ``(n_in, n_out)``, 1 where a weight may be non-zero: state that no
    optimizer trains (it is not an ``nnx.Param``)."""


class Layout(nnx.Variable):
    """A permutation ``(n,)`` int: the crossbar row (column) of each of a layer's inputs
    (outputs) in the order they sit on the crossbars."""


def _inverse(order):
    """The inverse of a permutation (traced or not)."""
    return jnp.argsort(order)


class MaskedDense(nnx.Module):
    """A dense layer ``x @ (kernel * mask) + bias`` placed on crossbars by a layout.

    ``kernel`` ``(in_features, out_features)`` and ``bias`` are ``nnx.Param``; ``mask``
    (:class:`Mask`, ones at first) and ``row_order``, ``col_order`` (:class:`Layout`, identity at
    first) are not trained. The matrix reaching the product is ``(kernel * mask)[row_order][:,
    col_order]``, its inputs gathered to match: the same function for any layout, and the
    crossbars see the permuted matrix.
    """

    def __init__(self, in_features: int, out_features: int, *, rngs: nnx.Rngs):
        in_features = validate.check_static_int("in_features", in_features, 1, 2**31 - 1)
        out_features = validate.check_static_int("out_features", out_features, 1, 2**31 - 1)
        init = nnx.initializers.lecun_normal()  # nnx.Linear's default
        self.kernel = nnx.Param(init(rngs.params(), (in_features, out_features)))
        self.bias = nnx.Param(jnp.zeros((out_features,)))
        self.mask = Mask(jnp.ones((in_features, out_features)))
        self.row_order = Layout(jnp.arange(in_features))
        self.col_order = Layout(jnp.arange(out_features))

    def gathered(self, x, in_order=None):
        """Outputs ``(..., out_features)`` in ``col_order``, for inputs ``x`` given in
        ``in_order`` (``x[..., j]`` is input ``in_order[j]``; ``None``: natural order). Chaining
        layers this way keeps each product next to its bias and nonlinearity (a tracer sees a
        layer and its activation)."""
        rows, cols = self.row_order[...], self.col_order[...]
        where = rows if in_order is None else _inverse(in_order)[rows]
        matrix = (self.kernel[...] * self.mask[...])[rows][:, cols]
        return x[..., where] @ matrix + self.bias[...][cols]

    def __call__(self, x):
        """``x @ (kernel * mask) + bias``, ``x`` ``(..., in_features)`` in natural order."""
        return self.gathered(x)[..., _inverse(self.col_order[...])]


class MaskedMLP(nnx.Module):
    """A multilayer perceptron of :class:`MaskedDense` layers with ReLU between them.

    Args:
        sizes: ``(n_inputs, hidden..., n_outputs)``, ints >= 1, at least two.
        rngs: the ``nnx.Rngs`` drawing the kernels (LeCun normal, as ``nnx.Linear``).
    """

    def __init__(self, sizes: Sequence[int], *, rngs: nnx.Rngs):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes={sizes!r} must hold at least 2 layer widths (inputs and outputs)")
        sizes = [validate.check_static_int("sizes", s, 1, 2**31 - 1) for s in sizes]
        self.layers = nnx.List([MaskedDense(a, b, rngs=rngs) for a, b in itertools.pairwise(sizes)])

    def __call__(self, x):
        """Logits ``(..., n_outputs)`` of ``x`` ``(..., n_inputs)``."""
        order = None
        for i, layer in enumerate(self.layers):
            x = layer.gathered(x, order)
            order = layer.col_order[...]
            if i < len(self.layers) - 1:
                x = nnx.relu(x)
        return x[..., _inverse(order)]


def _check_model(model) -> MaskedMLP:
    if not isinstance(model, MaskedMLP):
        raise ValueError(f"model must be a MaskedMLP, got {type(model).__name__}")
    return model


def weights(model: MaskedMLP) -> tuple[np.ndarray, ...]:
    """Each layer's effective weights ``kernel * mask`` ``(n_in, n_out)``, natural order."""
    return tuple(np.asarray(layer.kernel[...] * layer.mask[...]) for layer in _check_model(model).layers)


def masks(model: MaskedMLP) -> tuple[np.ndarray, ...]:
    """Each layer's mask ``(n_in, n_out)`` (0/1 float), natural order."""
    return tuple(np.asarray(layer.mask[...]) for layer in _check_model(model).layers)


def layouts(model: MaskedMLP) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Each layer's ``(row_order, col_order)``."""
    return tuple(
        (np.asarray(layer.row_order[...]), np.asarray(layer.col_order[...]))
        for layer in _check_model(model).layers
    )


def _check_layer_arrays(name: str, model: MaskedMLP, values) -> list:
    values = list(values)
    if len(values) != len(model.layers):
        raise ValueError(f"{name}: got {len(values)} entries for a model of {len(model.layers)} layers")
    return values


def set_masks(model: MaskedMLP, new_masks) -> MaskedMLP:
    """Set each layer's mask (in place; returns ``model``); masked kernel entries become 0, so a
    weight revived later starts from 0.

    Raises:
        ValueError: not one mask per layer, a shape that differs from the layer's kernel, or
            entries other than 0 and 1.
    """
    new_masks = _check_layer_arrays("masks", model, new_masks)
    for i, (layer, mask) in enumerate(zip(model.layers, new_masks, strict=True)):
        mask = np.asarray(mask, dtype=np.float32)
        if mask.shape != layer.kernel[...].shape:
            raise ValueError(f"masks[{i}] has shape {mask.shape}; layer {i} needs {layer.kernel[...].shape}")
        if not np.all((mask == 0) | (mask == 1)):
            raise ValueError(f"masks[{i}] must hold only 0 and 1")
        layer.mask[...] = jnp.asarray(mask)
        layer.kernel[...] = layer.kernel[...] * layer.mask[...]
    return model


def set_layouts(model: MaskedMLP, orders) -> MaskedMLP:
    """Set each layer's ``(row_order, col_order)`` (in place; returns ``model``).

    Raises:
        ValueError: not one pair per layer, or an order that is not a permutation of the layer's
            inputs (outputs).
    """
    orders = _check_layer_arrays("orders", model, orders)
    for i, (layer, pair) in enumerate(zip(model.layers, orders, strict=True)):
        n_in, n_out = layer.kernel[...].shape
        for name, order, n in (("row_order", pair[0], n_in), ("col_order", pair[1], n_out)):
            order = np.asarray(order)
            if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
                raise ValueError(f"orders[{i}]: {name} must be a permutation of range({n})")
            getattr(layer, name)[...] = jnp.asarray(order, dtype=jnp.int32)
    return model


def crossbars(model: MaskedMLP, rows: int, cols: int) -> tuple[int, ...]:
    """Occupied ``rows x cols`` crossbars of each layer's effective weights in its layout
    (:func:`hwjax.codesign.crossbar_count` of the permuted matrix, as the cost sees it)."""
    rows, cols = validate.check_static_int("rows", rows, 1), validate.check_static_int("cols", cols, 1)
    return tuple(
        int(clustering.crossbar_count(w[r][:, c], rows, cols))
        for w, (r, c) in zip(weights(model), layouts(model), strict=True)
    )


# ---------------------------------------------------------------------------------------------
# Argument checks


def _check_fraction(name: str, value) -> float:
    validate.check_range(name, value, 0.0, 1.0)
    return float(value)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed={seed!r} must be an int in the allowed range [0, 2**32)")
    validate.check_range("seed", seed, 0, 2**32 - 1, integer=True)
    return int(seed)


def _check_matrix(weights_) -> np.ndarray:
    w = np.asarray(weights_, dtype=float)
    if w.ndim != 2 or 0 in w.shape:
        raise ValueError(f"weights must be a non-empty 2-D (n_in, n_out) array; got shape {w.shape}")
    validate.check_range("weights", w)  # finite
    return w


def _check_data(name: str, data, model: MaskedMLP) -> tuple[np.ndarray, np.ndarray]:
    """``(x (N, n_in) float32, y (N,) int32)`` with labels in ``[0, n_out)``."""
    try:
        x, y = data
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (x, y) of inputs and integer labels") from None
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y)
    n_in, n_out = model.layers[0].kernel[...].shape[0], model.layers[-1].kernel[...].shape[1]
    if x.ndim != 2 or x.shape[1] != n_in or x.shape[0] == 0:
        raise ValueError(f"{name}: x must have shape (N >= 1, {n_in}); got {x.shape}")
    if y.shape != (x.shape[0],) or (y.size and not np.issubdtype(y.dtype, np.integer)):
        raise ValueError(f"{name}: y must be {x.shape[0]} integer labels; got shape {y.shape}, {y.dtype}")
    validate.check_range(f"{name} x", x)
    validate.check_range(f"{name} labels", y, 0, n_out - 1, integer=True)
    return x, y.astype(np.int32)


# ---------------------------------------------------------------------------------------------
# Baselines: masks from weight matrices


def magnitude_prune(weights, sparsity: float) -> np.ndarray:
    """Mask of magnitude pruning: the ``round(sparsity * size)`` smallest ``|w|`` pruned.

    Ties (equal magnitudes) are broken by position (row-major), so the count is exact. Rows and
    columns left all zero are removed when the layer is mapped (:func:`compact_order`,
    :func:`remaining_shape`), as the dissertation compares pruned DNNs.

    Args:
        weights: ``(n_in, n_out)`` finite array.
        sparsity: fraction pruned, in ``[0, 1]``.

    Returns:
        ``(n_in, n_out)`` 0/1 float mask.
    """
    w = _check_matrix(weights)
    sparsity = _check_fraction("sparsity", sparsity)
    pruned = round(sparsity * w.size)
    mask = np.ones(w.size)
    mask[np.argsort(np.abs(w), axis=None, kind="stable")[:pruned]] = 0.0
    return mask.reshape(w.shape)


def _blocks(matrix: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``(n_in, n_out)`` zero-padded to whole blocks, as ``(row blocks, col blocks, rows, cols)``."""
    n_in, n_out = matrix.shape
    padded = np.zeros((-(-n_in // rows) * rows, -(-n_out // cols) * cols), matrix.dtype)
    padded[:n_in, :n_out] = matrix
    return padded.reshape(padded.shape[0] // rows, rows, padded.shape[1] // cols, cols).swapaxes(1, 2)


def _unblock(keep: np.ndarray, rows: int, cols: int, shape: tuple[int, int]) -> np.ndarray:
    """A ``(row blocks, col blocks)`` bool grid as the ``shape`` mask it covers."""
    return np.repeat(np.repeat(keep, rows, axis=0), cols, axis=1)[: shape[0], : shape[1]]


def block_prune(weights, rows: int, cols: int, sparsity: float) -> np.ndarray:
    """Mask of crossbar-block magnitude pruning: whole ``rows x cols`` blocks removed.

    The ``round(sparsity * blocks)`` blocks of smallest Frobenius norm (edge blocks padded with
    zeros; ties broken by position) are pruned, every weight of the others kept.

    Args:
        weights: ``(n_in, n_out)`` finite array.
        rows, cols: the crossbar's size, ints >= 1.
        sparsity: fraction of the blocks pruned, in ``[0, 1]``.

    Returns:
        ``(n_in, n_out)`` 0/1 float mask.
    """
    w = _check_matrix(weights)
    rows, cols = validate.check_static_int("rows", rows, 1), validate.check_static_int("cols", cols, 1)
    sparsity = _check_fraction("sparsity", sparsity)
    norms = np.asarray(block_norms(w, rows, cols))
    keep = np.ones(norms.size, dtype=bool)
    keep[np.argsort(norms, axis=None, kind="stable")[: round(sparsity * norms.size)]] = False
    return _unblock(keep.reshape(norms.shape), rows, cols, w.shape).astype(float)


def compact_order(mask) -> tuple[np.ndarray, np.ndarray]:
    """Row and column orders placing the rows (columns) holding a weight first, in order, and the
    empty ones last: removing the inputs and outputs pruning left unconnected.

    Returns:
        ``(row_order (n_in,), col_order (n_out,))`` int64 permutations.
    """
    held = _check_matrix(mask) != 0
    return (
        np.argsort(~held.any(axis=1), kind="stable").astype(np.int64),
        np.argsort(~held.any(axis=0), kind="stable").astype(np.int64),
    )


def remaining_shape(mask) -> tuple[int, int]:
    """``(rows, cols)`` of a pruned matrix once its all-zero rows and columns are removed."""
    held = _check_matrix(mask) != 0
    return int(held.any(axis=1).sum()), int(held.any(axis=0).sum())


# ---------------------------------------------------------------------------------------------
# Training


def _loss(model, x, y):
    return optax.softmax_cross_entropy_with_integer_labels(model(x), y).mean()


def _step(model: MaskedMLP, optimizer: nnx.Optimizer, x, y) -> None:
    """One optax step on a batch; masked kernel entries are reset to exactly 0 (the optimizer's
    momentum would otherwise move them, unseen through the mask, and a revived weight would
    start from a stale value)."""
    grads = nnx.grad(_loss)(model, x, y)
    optimizer.update(model, grads)
    for layer in model.layers:
        layer.kernel[...] = layer.kernel[...] * layer.mask[...]


@nnx.jit
def _train_epoch(model: MaskedMLP, optimizer: nnx.Optimizer, xs, ys) -> None:
    """:func:`_step` over the batches ``xs`` ``(steps, batch, n_in)``, ``ys`` ``(steps, batch)``,
    as one compiled scan (a jitted call per step costs more than the step, at these sizes)."""
    graphdef, state = nnx.split((model, optimizer))

    def body(state, batch):
        model, optimizer = nnx.merge(graphdef, state)
        _step(model, optimizer, *batch)
        return nnx.state((model, optimizer)), None

    state, _ = jax.lax.scan(body, state, (xs, ys))
    nnx.update((model, optimizer), state)


@nnx.jit
def _evaluate(model: MaskedMLP, x, y):
    logits = model(x)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return loss, jnp.mean(jnp.argmax(logits, axis=-1) == y)


def accuracy(model: MaskedMLP, x, y) -> float:
    """Fraction of the inputs ``x`` ``(N, n_in)`` classified as their labels ``y`` ``(N,)``."""
    x, y = _check_data("data", (x, y), _check_model(model))
    return float(_evaluate(model, x, y)[1])


@dataclasses.dataclass(frozen=True, eq=False)
class Training:
    """A trained model and its history.

    Attributes:
        model: the trained :class:`MaskedMLP` (a copy: the model passed in is unchanged).
        loss: ``(epochs,)`` training-set loss after each epoch.
        accuracy: ``(epochs,)`` test accuracy after each epoch (NaN without test data).
    """

    model: MaskedMLP
    loss: np.ndarray
    accuracy: np.ndarray


@functools.lru_cache(maxsize=16)
def _adam(learning_rate: float) -> optax.GradientTransformation:
    """One optax Adam per learning rate: the optimizer holds it as static structure, so a new
    one would compile the training epoch again."""
    return optax.adam(learning_rate)


class _Trainer:
    """Epochs of minibatch Adam on fixed data: shuffles from ``seed``, drops the last partial
    batch (one compiled step shape)."""

    def __init__(self, model, train, test, epochs, learning_rate, batch_size, seed):
        _check_model(model)
        self.x, self.y = _check_data("train", train, model)
        self.test = None if test is None else _check_data("test", test, model)
        self.epochs = validate.check_static_int("epochs", epochs, 1)
        validate.check_positive("learning_rate", learning_rate)
        self.batch = min(validate.check_static_int("batch_size", batch_size, 1), len(self.x))
        self.seed = _check_seed(seed)
        self.rng = np.random.default_rng(self.seed)
        self.model = nnx.clone(model)
        self.optimizer = nnx.Optimizer(self.model, _adam(float(learning_rate)), wrt=nnx.Param)
        self.loss, self.accuracy = [], []

    def epoch(self) -> float:
        """Train one epoch; record and return the training loss."""
        steps = len(self.x) // self.batch
        order = self.rng.permutation(len(self.x))[: steps * self.batch].reshape(steps, self.batch)
        _train_epoch(self.model, self.optimizer, self.x[order], self.y[order])
        self.loss.append(float(_evaluate(self.model, self.x, self.y)[0]))
        self.accuracy.append(float(_evaluate(self.model, *self.test)[1]) if self.test else math.nan)
        return self.loss[-1]

    def history(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.loss), np.array(self.accuracy)


def fit(
    model: MaskedMLP,
    train,
    test=None,
    *,
    epochs: int,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    batch_size: int = DEFAULT_BATCH_SIZE,
    seed: int = 0,
) -> Training:
    """Train a copy of ``model`` with its masks held fixed (softmax cross-entropy, Adam).

    Args:
        model: a :class:`MaskedMLP` (not modified).
        train, test: ``(x (N, n_in), y (N,))`` pairs, integer labels in ``[0, n_out)``;
            ``test`` may be ``None``.
        epochs: passes over ``train``, an int >= 1.
        learning_rate: Adam's step size, > 0.
        batch_size: an int >= 1 (at most the training set; the last partial batch is dropped).
        seed: the shuffling's seed, an int in ``[0, 2**32)``.

    Returns:
        :class:`Training`. Masked weights stay exactly 0.

    Raises:
        ValueError: naming the parameter and its allowed range.
    """
    trainer = _Trainer(model, train, test, epochs, learning_rate, batch_size, seed)
    for _ in range(trainer.epochs):
        trainer.epoch()
    return Training(trainer.model, *trainer.history())


# ---------------------------------------------------------------------------------------------
# TraNNsformer (Algorithm 3)


@dataclasses.dataclass(frozen=True, eq=False)
class TraNNsformerResult:
    """What :func:`train_trannsformer` trained.

    Attributes:
        model: the trained :class:`MaskedMLP`, each layer in its layout (the gathered clusters).
        masks: each layer's final mask ``(n_in, n_out)`` (0/1 float), natural order.
        crossbars: per layer, the occupied ``rows x cols`` crossbars of its weights in its
            layout (:func:`crossbars`): what :func:`hwjax.system.cost_flax` maps.
        clusters: each layer's clusters as SCIC formed them (cluster pruning removes crossbars,
            not entries of this list).
        gathered: per layer, whether its clusters were gathered and cluster-pruned (False where
            SCIC found none, or too many of its weights stayed unclustered).
        unclustered: per layer, the fraction of its live weights outside every cluster when
            cluster pruning began (the dissertation's Fig. 4.3); NaN if it never began.
        loss, accuracy: ``(epochs,)`` training loss and test accuracy after each epoch.
        rows, cols: the crossbar size.
    """

    model: MaskedMLP
    masks: tuple[np.ndarray, ...]
    crossbars: tuple[int, ...]
    clusters: tuple[tuple[clustering.Cluster, ...], ...]
    gathered: tuple[bool, ...]
    unclustered: tuple[float, ...]
    loss: np.ndarray
    accuracy: np.ndarray
    rows: int
    cols: int

    @property
    def total_crossbars(self) -> int:
        """Crossbars of the whole network."""
        return sum(self.crossbars)


@dataclasses.dataclass
class _LayerState:
    """A layer's structure between epochs (NumPy, natural order): live cross-points, cluster
    map, clusters, and once cluster pruning began, its layout."""

    mask: np.ndarray
    cluster_map: np.ndarray
    clusters: list
    layout: tuple[np.ndarray, np.ndarray] | None = None
    block: tuple[int, int] = (1, 1)
    gathered: bool = False
    unclustered: float = math.nan


def _scic_utils(cluster_effort: float) -> dict:
    """SCIC's thresholds for a cluster effort: from its base 0.6 down to ``(1 - effort) * 0.6``."""
    base = clustering.DEFAULT_BASE_UTIL
    return {"base_util": base, "min_util": (1.0 - cluster_effort) * base}


def cluster_tile(shape: tuple[int, int], rows: int, cols: int) -> tuple[int, int]:
    """The cluster size TraNNsformer asks SCIC for: ``rows x cols`` crossbars stacked along a
    layer's longer side so that the layer is about as many tiles tall as wide.

    SCIC splits inputs and outputs into the same number of groups (one per cluster), as many as
    the longer side needs crossbars, so on a tall layer (784 x 256 on 32 x 32: 25 x 8 blocks) a
    cluster gets a third of a crossbar's columns. Clusters of ``a x b`` crossbars (here 3 x 1:
    96 x 32; ``a`` the rounded ratio of the block counts) fill theirs; gathered, each spans
    ``ceil(inputs / rows) x ceil(outputs / cols)`` crossbars.

    Returns:
        ``(rows * a, cols * b)``, ``a`` or ``b`` being 1.
    """
    row_blocks, col_blocks = -(-shape[0] // rows), -(-shape[1] // cols)
    if row_blocks >= col_blocks:
        return rows * max(1, round(row_blocks / col_blocks)), cols
    return rows, cols * max(1, round(col_blocks / row_blocks))


def _form(state: _LayerState, w, rows, cols, prune_effort, cluster_effort, key) -> None:
    """Network pruning and cluster formation of one layer (Algorithm 3, lines 7-9)."""
    prune_map = magnitude_prune(w * state.mask, prune_effort) != 0  # its 0s: Accuracy Don't Cares
    state.mask &= prune_map | state.cluster_map  # the cluster map's 0s: Clustering Don't Cares
    unclustered = (state.mask & ~state.cluster_map).astype(float)
    tile = cluster_tile(state.mask.shape, rows, cols)
    found = clustering.scic(
        unclustered, *tile, max_rounds=SCIC_ROUNDS, key=key, **_scic_utils(cluster_effort)
    )
    for cluster in found.clusters:
        cells = np.zeros(state.mask.shape, dtype=bool)
        cells[np.ix_(cluster.inputs, cluster.outputs)] = True
        state.cluster_map |= cells
        state.mask |= cells  # the cluster's crossbar holds these cross-points anyway: revived
    state.clusters += found.clusters


def _block_scores(state: _LayerState, w) -> np.ndarray:
    """Per block of the laid-out layer: utilization x Frobenius norm of its live weights (the
    dissertation's cluster quality x contribution); 0 for an empty block."""
    r, c = state.layout
    live = np.abs(w * state.mask)[r][:, c]
    blocks = _blocks(live, *state.block)
    return np.count_nonzero(blocks, axis=(2, 3)) / blocks[0, 0].size * np.sqrt(np.sum(blocks**2, axis=(2, 3)))


def _keep_blocks(state: _LayerState, keep: np.ndarray) -> None:
    """Mask = the kept blocks of the layout, in full (a crossbar's free cross-points revived)."""
    r, c = state.layout
    permuted = _unblock(keep, *state.block, state.mask.shape)
    state.mask = permuted[np.argsort(r)][:, np.argsort(c)]


def _lay_out(state: _LayerState, rows, cols) -> None:
    """Layout of a layer that is not gathered: whichever of its clusters' block permutation and
    :func:`compact_order` occupies fewer crossbars (the first on a tie)."""
    state.block = (rows, cols)
    layouts_ = [compact_order(state.mask)]
    if state.clusters:
        layouts_.insert(0, _cluster_layout(state, rows, cols))
    counts = [_blocks(state.mask[r][:, c], rows, cols).any(axis=(2, 3)).sum() for r, c in layouts_]
    state.layout = layouts_[int(np.argmin(counts))]


def _cluster_layout(state: _LayerState, rows, cols) -> tuple[np.ndarray, np.ndarray]:
    """The clusters gathered: :func:`hwjax.codesign.block_permutation` aligned to the cluster
    tile (a multiple of the crossbar, so to the crossbars too)."""
    return clustering.block_permutation(
        state.mask, state.clusters, *cluster_tile(state.mask.shape, rows, cols)
    )


def _gather(state: _LayerState, w, rows, cols, threshold) -> None:
    """Start of cluster pruning for one layer (Algorithm 3, line 2).

    If its unclustered weights are at most ``threshold`` of the live ones, the clusters are laid
    out in crossbar-aligned blocks (:func:`_cluster_layout`) and the layer keeps as many
    crossbars as its live cross-points would fill (``ceil(live / (rows * cols))``): the
    best-scoring blocks of that layout, in full (the weights outside them are dropped, their
    free cross-points revived). Otherwise, or without clusters, the layer keeps its weights
    (:func:`_lay_out`).
    """
    live = int(state.mask.sum())
    state.unclustered = float((state.mask & ~state.cluster_map).sum() / live) if live else 0.0
    if not state.clusters or state.unclustered > threshold:
        _lay_out(state, rows, cols)
        return
    state.block = (rows, cols)
    state.layout = _cluster_layout(state, rows, cols)
    state.gathered = True
    score = _block_scores(state, w)
    keep = np.zeros(score.shape, dtype=bool)
    budget = -(-live // (rows * cols))
    best = np.argsort(-score, axis=None, kind="stable")[:budget]
    keep.flat[best[score.flat[best] > 0]] = True
    _keep_blocks(state, keep)


def _cluster_prune(state: _LayerState, w, rate) -> None:
    """Cluster pruning of a gathered layer (Algorithm 3, line 4): ``ceil(rate * crossbars)`` of
    its crossbars removed, lowest score first; one is always kept."""
    r, c = state.layout
    occupied = _blocks(state.mask[r][:, c], *state.block).any(axis=(2, 3))
    removed = min(math.ceil(rate * occupied.sum()), int(occupied.sum()) - 1)
    score = np.where(occupied, _block_scores(state, w), np.inf)
    keep = occupied.copy()
    keep.flat[np.argsort(score, axis=None, kind="stable")[: max(removed, 0)]] = False
    _keep_blocks(state, keep)


def train_trannsformer(
    model: MaskedMLP,
    train,
    test=None,
    *,
    rows: int,
    cols: int,
    epochs: int,
    prune_effort: float = DEFAULT_PRUNE_EFFORT,
    cluster_effort: float = DEFAULT_CLUSTER_EFFORT,
    cluster_prune: float = DEFAULT_CLUSTER_PRUNE,
    cluster_prune_rate: float = DEFAULT_CLUSTER_PRUNE_RATE,
    unclustered_threshold: float = DEFAULT_UNCLUSTERED_THRESHOLD,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    batch_size: int = DEFAULT_BATCH_SIZE,
    seed: int = 0,
) -> TraNNsformerResult:
    """Train a copy of ``model`` with TraNNsformer (Algorithm 3) for ``rows x cols`` crossbars.

    Each epoch trains; after each but the last, while outside the final ``cluster_prune``
    fraction of the epochs, every layer is pruned and clusters form (module docstring, steps
    2-4); on entering that fraction, each layer whose unclustered weights are few enough is
    gathered (:func:`_gather`: the crossbars its live weights fill), and after each later epoch its
    crossbars are pruned. Pruning and cluster pruning follow only an epoch whose training
    loss improved on the previous one's (Algorithm 3, lines 3 and 6). The last epoch trains the
    final structure.

    Args:
        model: a :class:`MaskedMLP` (not modified; its masks are the start).
        train, test: ``(x, y)`` pairs as for :func:`fit`.
        rows, cols: the crossbar's size, ints >= 1.
        epochs: training epochs, an int >= 1.
        prune_effort: sparsity of each epoch's prune map (:func:`magnitude_prune` of the live
            weights), in ``[0, 1]``.
        cluster_effort: in ``[0, 1]``; SCIC keeps sub-clusters down to a utilization of
            ``(1 - cluster_effort) * 0.6`` (0: only at its base threshold 0.6; 1: any).
        cluster_prune: fraction of the epochs, the last ones, under cluster pruning, in
            ``[0, 1]`` (0: no layer is gathered; each keeps the cheaper of two layouts).
        cluster_prune_rate: fraction of a gathered layer's crossbars removed per cluster-pruning
            step, in ``[0, 1]``.
        unclustered_threshold: a layer is gathered if at most this fraction of its live weights
            is unclustered when cluster pruning begins, in ``[0, 1]``.
        learning_rate, batch_size, seed: as for :func:`fit`; SCIC's keys derive from ``seed``.

    Returns:
        :class:`TraNNsformerResult`; masked weights are exactly 0.

    Raises:
        ValueError: naming the parameter and its allowed range.
    """
    rows, cols = validate.check_static_int("rows", rows, 1), validate.check_static_int("cols", cols, 1)
    prune_effort = _check_fraction("prune_effort", prune_effort)
    cluster_effort = _check_fraction("cluster_effort", cluster_effort)
    cluster_prune = _check_fraction("cluster_prune", cluster_prune)
    cluster_prune_rate = _check_fraction("cluster_prune_rate", cluster_prune_rate)
    unclustered_threshold = _check_fraction("unclustered_threshold", unclustered_threshold)
    trainer = _Trainer(model, train, test, epochs, learning_rate, batch_size, seed)
    states = [_LayerState(m != 0, np.zeros(m.shape, dtype=bool), []) for m in masks(trainer.model)]
    first_pruned = trainer.epochs - round(cluster_prune * trainer.epochs)  # first epoch trained gathered
    key = jax.random.key(trainer.seed)
    previous = math.inf
    for epoch in range(trainer.epochs - 1):  # the last epoch only trains (below)
        loss = trainer.epoch()
        improved, previous = loss < previous, loss
        for index, (state, w) in enumerate(zip(states, weights(trainer.model), strict=True)):
            if epoch + 1 < first_pruned:
                if improved:
                    layer_key = jax.random.fold_in(key, epoch * len(states) + index)
                    _form(state, w, rows, cols, prune_effort, cluster_effort, layer_key)
            elif state.layout is None:  # entering cluster pruning: whatever the loss
                _gather(state, w, rows, cols, unclustered_threshold)
            elif state.gathered and improved:
                _cluster_prune(state, w, cluster_prune_rate)
        set_masks(trainer.model, [state.mask for state in states])
    trainer.epoch()
    for state in states:
        if state.layout is None:  # cluster pruning never began (cluster_prune 0, or one epoch)
            _lay_out(state, rows, cols)
    set_layouts(trainer.model, [state.layout for state in states])
    loss, accuracy_ = trainer.history()
    return TraNNsformerResult(
        model=trainer.model,
        masks=masks(trainer.model),
        crossbars=crossbars(trainer.model, rows, cols),
        clusters=tuple(tuple(state.clusters) for state in states),
        gathered=tuple(state.gathered for state in states),
        unclustered=tuple(state.unclustered for state in states),
        loss=loss,
        accuracy=accuracy_,
        rows=rows,
        cols=cols,
    )


def offline_clustering(
    model: MaskedMLP,
    rows: int,
    cols: int,
    *,
    cluster_effort: float = DEFAULT_CLUSTER_EFFORT,
    seed: int = 0,
) -> tuple[MaskedMLP, tuple[tuple[clustering.Cluster, ...], ...]]:
    """Offline clustering (the dissertation's baseline): SCIC on each layer of a trained, pruned
    ``model`` once (clusters of :func:`cluster_tile`, as TraNNsformer forms them), without
    retraining; each layer laid out by :func:`hwjax.codesign.block_permutation` of its clusters
    (its empty rows and columns last when none is found). The weights are unchanged, so is the
    accuracy; the unclustered weights stay where the layout puts them.

    Returns:
        ``(copy of model in the clustered layouts, clusters per layer)``.
    """
    rows, cols = validate.check_static_int("rows", rows, 1), validate.check_static_int("cols", cols, 1)
    cluster_effort = _check_fraction("cluster_effort", cluster_effort)
    model = nnx.clone(_check_model(model))
    key = jax.random.key(_check_seed(seed))
    found, orders = [], []
    for index, w in enumerate(weights(model)):
        held = (w != 0).astype(float)
        tile = cluster_tile(w.shape, rows, cols)
        result = clustering.scic(
            held, *tile, key=jax.random.fold_in(key, index), **_scic_utils(cluster_effort)
        )
        found.append(result.clusters)
        orders.append(
            clustering.block_permutation(held, result.clusters, *tile)
            if result.clusters
            else compact_order(held)
        )
    return set_layouts(model, orders), tuple(found)
