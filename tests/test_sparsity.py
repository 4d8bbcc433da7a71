"""The cost-weighted crossbar-block group lasso (hwjax.codesign.sparsity), end to end on digits.

A 64-128-10 MLP on 16 x 16 crossbars (32 + 8 blocks) is trained on 1400 of scikit-learn's digits
and tested on the other 397 (one image is 0.25 points). Sparse training: Adam on the
cross-entropy, then the group lasso's proximal step with thresholds ``lr * LAM * w_l`` (the
blocks' PUMA cost shares), then a short fine-tune with the emptied blocks held at 0 (the usual
debiasing of a lasso, whose shrinkage also shrinks the blocks it keeps). Dense training takes as
many steps. Tolerances: accuracy within 4 points of dense (data orders 0-2 gave 1.0-2.0 points
below); at least 40% of the blocks emptied (62%, 52% and 75% measured); float32 norms and
soft-thresholding rel 1e-5; marginal costs against finite differences of the exact counts
rel 5% (the slope of the relaxed counts, not a step of the exact ones).
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from sklearn.datasets import load_digits

import hwjax as hj
from hwjax import mapping, system, workloads
from hwjax.codesign import (
    block_norms,
    block_weights,
    group_lasso_penalty,
    layer_blocks,
    marginal_block_costs,
    prox_group_lasso,
)
from hwjax_models import puma

XBAR, LR, BATCH = 16, 3e-3, 64
STEPS, FINE_TUNE = 800, 200
#: Penalty strength: per-block thresholds ``LR * LAM * w`` ~ 0.015 per step for w ~ 1/40.
LAM = 200.0
ACCURACY_TOLERANCE = 0.04
CONFIG = puma.Config(mvmu_dim=float(XBAR))


def _reference_norms(w, rows, cols):
    k, n = w.shape
    kb, nb = -(-k // rows), -(-n // cols)
    padded = np.zeros((kb * rows, nb * cols))
    padded[:k, :n] = w
    return np.array(
        [
            [np.linalg.norm(padded[i * rows : (i + 1) * rows, j * cols : (j + 1) * cols]) for j in range(nb)]
            for i in range(kb)
        ]
    )


# --- blocks, penalty and prox --------------------------------------------------------------------


@pytest.mark.parametrize("shape, rows, cols", [((37, 21), 8, 5), ((16, 16), 16, 16), ((3, 40), 8, 8)])
def test_block_norms_match_numpy(shape, rows, cols):
    w = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    assert np.asarray(block_norms(w, rows, cols)) == pytest.approx(_reference_norms(w, rows, cols), rel=1e-5)


def test_penalty_gradient_is_finite_at_all_zero_blocks():
    w = jnp.zeros((32, 16)).at[:8, :8].set(1.0)  # one full 8 x 8 block, seven empty ones
    grads = jax.grad(lambda ws: group_lasso_penalty(ws, [0.5, 2.0], 8, 8))([w, jnp.zeros((16, 8))])
    assert all(bool(jnp.isfinite(g).all()) for g in grads)
    assert float(jnp.abs(grads[1]).max()) == 0.0  # the subgradient 0 at an empty block
    # A held block's gradient is w / ||w||: each of its 64 ones gets 0.5 / 8.
    assert float(grads[0][0, 0]) == pytest.approx(0.5 / 8.0, rel=1e-6)
    assert float(group_lasso_penalty([w], [0.5], 8, 8)) == pytest.approx(0.5 * 8.0, rel=1e-6)


def test_prox_zeroes_weak_blocks_and_shrinks_the_others_by_the_threshold():
    w = np.random.default_rng(1).normal(size=(24, 20)).astype(np.float32)
    norms = _reference_norms(w, 8, 8)
    threshold = float(np.median(norms))
    out = np.asarray(prox_group_lasso(w, threshold, 8, 8))
    after = _reference_norms(out, 8, 8)
    weak = norms <= threshold
    assert weak.any() and (~weak).any()
    assert np.all(after[weak] == 0.0)
    assert after[~weak] == pytest.approx(norms[~weak] - threshold, rel=1e-5)
    # Kept blocks keep their direction; per-block thresholds broadcast to the grid.
    assert np.asarray(prox_group_lasso(w, np.zeros((3, 3)), 8, 8)) == pytest.approx(w, rel=1e-6)


# --- marginal costs ------------------------------------------------------------------------------


def test_marginal_costs_are_positive_and_grow_with_the_input_vectors():
    # Same 16 x 16 matrix: a conv applied at 49 output pixels vs a dense layer applied once.
    network = workloads.Network(
        "mixed",
        (
            workloads.Conv2d(4, 16, 2, input_hw=(8, 8), padding="valid", name="conv"),
            workloads.Dense(16, 64, name="dense"),
        ),
    )
    costs = marginal_block_costs(puma.inference, CONFIG, network, XBAR, XBAR)
    assert np.asarray(costs.blocks).tolist() == [1.0, 4.0]
    assert np.all(np.asarray(costs.energy) > 0) and np.all(np.asarray(costs.area) > 0)
    assert float(costs.energy[0]) > 10 * float(costs.energy[1])
    # A block's area does not depend on how often it is used.
    assert float(costs.area[0]) == pytest.approx(float(costs.area[1]), rel=0.05)

    # The dense layer's marginal energy against a finite step of the exact counts (one block).
    def energy(occupancy):
        report = puma.inference(CONFIG, network, "exact", layers=system.LayerKnobs(occupancy=occupancy))
        return float(hj.total(report).total_energy)

    step = energy(jnp.array([1.0, 1.0])) - energy(jnp.array([1.0, 0.75]))
    assert float(costs.energy[1]) == pytest.approx(step, rel=0.05)


def test_bad_arguments_raise_naming_the_parameter():
    w = jnp.ones((8, 8))
    with pytest.raises(ValueError, match=r"rows=0 .*\[1, inf\)"):
        block_norms(w, 0, 4)
    with pytest.raises(ValueError, match="cols"):
        block_norms(w, 4, 2.5)
    with pytest.raises(ValueError, match="weights must be a 2-D"):
        block_norms(jnp.ones(8), 4, 4)
    with pytest.raises(ValueError, match=r"thresholds=-1 .*\[0, inf\)"):
        prox_group_lasso(w, -1.0, 4, 4)
    with pytest.raises(ValueError, match="thresholds has shape"):
        prox_group_lasso(w, jnp.ones(3), 4, 4)
    with pytest.raises(ValueError, match="block_weights_per_layer"):
        group_lasso_penalty([w], [1.0, 2.0], 4, 4)
    with pytest.raises(ValueError, match=r"block_weights_per_layer=-2"):
        group_lasso_penalty([w], [-2.0], 4, 4)
    network = workloads.Network("one", (workloads.Dense(8, 8, name="d"),))
    with pytest.raises(ValueError, match="mode='exact'"):
        marginal_block_costs(puma.inference, CONFIG, network, 4, 4, mode="exact")
    with pytest.raises(ValueError, match=r"occupancy=1.5 .*\[0, 1\]"):
        marginal_block_costs(puma.inference, CONFIG, network, 4, 4, occupancy=[1.5])
    with pytest.raises(ValueError, match="occupancy has shape"):
        marginal_block_costs(puma.inference, CONFIG, network, 4, 4, occupancy=[1.0, 1.0])
    with pytest.raises(ValueError, match="energy_weight"):
        block_weights(None, energy_weight=-1.0)
    assert layer_blocks(network, 4, 3).tolist() == [2 * 3]


# --- end to end on digits ------------------------------------------------------------------------


class MLP(nnx.Module):
    def __init__(self, rngs):
        self.hidden = nnx.Linear(64, 128, rngs=rngs)
        self.out = nnx.Linear(128, 10, rngs=rngs)

    def __call__(self, x):
        return self.out(jax.nn.relu(self.hidden(x)))

    def kernels(self):
        return (self.hidden.kernel, self.out.kernel)


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    x, y = (data.data / 16.0).astype(np.float32), data.target.astype(np.int32)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    return (x[:1400], y[:1400]), (x[1400:], y[1400:])


@nnx.jit
def _run(model, optimizer, xs, ys, thresholds, keep):
    """Adam steps over batches ``xs`` ``(steps, batch, 64)``; after each, every kernel goes
    through the prox (``thresholds``, per layer) and/or is multiplied by a block mask (``keep``)."""
    graphdef, state = nnx.split((model, optimizer))

    def body(state, batch):
        model, optimizer = nnx.merge(graphdef, state)
        x, y = batch
        loss = lambda m: optax.softmax_cross_entropy_with_integer_labels(m(x), y).mean()  # noqa: E731
        optimizer.update(model, nnx.grad(loss)(model))
        for index, kernel in enumerate(model.kernels()):
            if thresholds is not None:
                kernel[...] = prox_group_lasso(kernel[...], thresholds[index], XBAR, XBAR)
            if keep is not None:
                kernel[...] = kernel[...] * keep[index]
        return nnx.state((model, optimizer)), None

    state, _ = jax.lax.scan(body, state, (xs, ys))
    nnx.update((model, optimizer), state)


def _train(digits, steps, thresholds=None, keep=None, model=None):
    (x, y), _ = digits
    model = model or MLP(nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(LR), wrt=nnx.Param)
    rng = np.random.default_rng(steps)
    batches = np.stack([rng.choice(len(x), BATCH, replace=False) for _ in range(steps)])
    _run(model, optimizer, jnp.asarray(x[batches]), jnp.asarray(y[batches]), thresholds, keep)
    return model


def _accuracy(model, digits):
    _, (x, y) = digits
    return float(jnp.mean(jnp.argmax(model(x), axis=-1) == y))


def _block_mask(kernel):
    held = mapping.block_occupancy(kernel[...], XBAR, XBAR)
    k, n = kernel.shape
    return jnp.repeat(jnp.repeat(held, XBAR, axis=0), XBAR, axis=1)[:k, :n]


@pytest.fixture(scope="module")
def trained(digits):
    x = jnp.ones((1, 64))
    network, _ = workloads.occupancy_from_flax(MLP(nnx.Rngs(0)), x, rows=XBAR, cols=XBAR)
    dense_costs = marginal_block_costs(puma.inference, CONFIG, network, XBAR, XBAR)
    weights = block_weights(dense_costs)
    dense = _train(digits, STEPS + FINE_TUNE)
    sparse = _train(digits, STEPS, thresholds=LR * LAM * weights)
    keep = tuple(_block_mask(k) for k in sparse.kernels())
    sparse = _train(digits, FINE_TUNE, keep=keep, model=sparse)
    return dense_costs, weights, dense, sparse


def test_block_weights_are_cost_shares_that_nearly_sum_to_the_whole_design(trained):
    costs, weights, _, _ = trained
    shares = float(jnp.sum(weights * costs.blocks))
    # The blocks hold nearly all of PUMA's energy and area (the rest: vector units, control).
    assert 0.8 < shares <= 1.05


def test_sparse_training_empties_blocks_keeps_accuracy_and_lowers_puma_cost(trained, digits):
    costs, _, dense, sparse = trained
    x = jnp.ones((1, 64))
    _, occupancy = workloads.occupancy_from_flax(sparse, x, rows=XBAR, cols=XBAR)
    emptied = 1.0 - float(jnp.sum(occupancy * costs.blocks) / jnp.sum(costs.blocks))
    dense_accuracy, sparse_accuracy = _accuracy(dense, digits), _accuracy(sparse, digits)

    def total(model):
        report = system.cost_flax(puma.inference, CONFIG, model, x, rows=XBAR, cols=XBAR, mode="exact")
        return hj.total(report)

    before, after = total(dense), total(sparse)
    energy_ratio = float(after.total_energy / before.total_energy)
    area_ratio = float(after.area / before.area)
    print(
        f"\nblocks emptied {emptied:.0%} (per layer occupancy {np.round(np.asarray(occupancy), 3)}), "
        f"accuracy dense {dense_accuracy:.3f} sparse {sparse_accuracy:.3f}, "
        f"PUMA energy x{energy_ratio:.3f} area x{area_ratio:.3f}"
    )
    assert emptied >= 0.4
    assert sparse_accuracy >= dense_accuracy - ACCURACY_TOLERANCE
    assert energy_ratio < 1.0 and area_ratio < 1.0
    # Exactly zero blocks: what the exact occupancy sees, not merely small weights.
    held = mapping.block_occupancy(sparse.hidden.kernel[...], XBAR, XBAR)
    norms = block_norms(sparse.hidden.kernel[...], XBAR, XBAR)
    assert np.all(np.asarray(norms)[np.asarray(held) == 0] == 0.0)
