"""TraNNsformer training (dissertation Algorithm 3) and its pruning baselines, on scikit-learn's digits.

One 64-128-10 MLP (the same initial weights for every method) is trained for 10 epochs on 1400
digits and tested on the other 397 (one image is 0.25 points), with 16 x 16 crossbars: 32 + 8
of them dense. Tolerances: accuracies within 4 points (over initial weights 0-2 TraNNsformer
ended 1.0-2.3 points below dense training and magnitude pruning); crossbar counts are integers;
masked weights are compared to exactly 0; costs with the occupancy's exact ratios (rel 1e-6).
"""

import itertools

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from sklearn.datasets import load_digits

import hwjax as hj
from hwjax import system
from hwjax.codesign import (
    MaskedMLP,
    block_prune,
    compact_order,
    crossbars,
    fit,
    magnitude_prune,
    offline_clustering,
    remaining_shape,
    set_layouts,
    set_masks,
    train_trannsformer,
    weights,
)
from hwjax_models import puma

SIZES, XBAR, EPOCHS = (64, 128, 10), 16, 10
ACCURACY_TOLERANCE = 0.04


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    x, y = (data.data / 16.0).astype(np.float32), data.target.astype(np.int32)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    return (x[:1400], y[:1400]), (x[1400:], y[1400:])


@pytest.fixture(scope="module")
def initial():
    return MaskedMLP(SIZES, rngs=nnx.Rngs(0))


@pytest.fixture(scope="module")
def dense(digits, initial):
    return fit(initial, *digits, epochs=EPOCHS)


@pytest.fixture(scope="module")
def transformed(digits, initial):
    return train_trannsformer(initial, *digits, rows=XBAR, cols=XBAR, epochs=EPOCHS)


@pytest.fixture(scope="module")
def magnitude(digits, dense):
    """Magnitude pruning to TraNNsformer's prune effort (70%), 3 epochs of fine-tuning, empty
    rows and columns removed."""
    new_masks = [magnitude_prune(w, 0.7) for w in weights(dense.model)]
    tuned = fit(set_masks(nnx.clone(dense.model), new_masks), *digits, epochs=3)
    set_layouts(tuned.model, [compact_order(m) for m in new_masks])
    return tuned


# --- TraNNsformer against dense training and magnitude pruning -----------------------------------


def test_trannsformer_reaches_dense_accuracy_within_a_few_points(dense, transformed):
    assert dense.accuracy[-1] > 0.95
    assert transformed.accuracy.shape == transformed.loss.shape == (EPOCHS,)
    assert transformed.accuracy[-1] >= dense.accuracy[-1] - ACCURACY_TOLERANCE


def test_trannsformer_needs_fewer_crossbars_than_magnitude_pruning(dense, transformed, magnitude):
    dense_count = sum(crossbars(dense.model, XBAR, XBAR))
    pruned_count = sum(crossbars(magnitude.model, XBAR, XBAR))
    assert dense_count == 32 + 8
    assert magnitude.accuracy[-1] >= dense.accuracy[-1] - ACCURACY_TOLERANCE
    assert abs(transformed.accuracy[-1] - magnitude.accuracy[-1]) <= ACCURACY_TOLERANCE
    # Scattered zeros leave nearly every crossbar occupied; the clusters empty whole blocks
    # (25 against 39 for these weights; 0.62-0.64 of magnitude pruning's over initial weights 0-2).
    assert transformed.total_crossbars <= 0.75 * pruned_count  # the target: 25% fewer
    assert transformed.gathered[0] and len(transformed.clusters[0]) > 0
    assert transformed.crossbars == crossbars(transformed.model, XBAR, XBAR)


def test_trannsformer_masks_are_exact_zeros_and_its_layout_is_the_same_function(digits, transformed):
    for layer, mask in zip(transformed.model.layers, transformed.masks, strict=True):
        assert np.all(np.asarray(layer.kernel[...])[mask == 0] == 0.0)
    x = jnp.asarray(digits[1][0][:5])
    natural = nnx.clone(transformed.model)
    set_layouts(natural, [(np.arange(a), np.arange(b)) for a, b in itertools.pairwise(SIZES)])
    np.testing.assert_allclose(transformed.model(x), natural(x), rtol=1e-5, atol=1e-5)


def test_training_keeps_masked_weights_exactly_zero(digits, initial):
    rng = np.random.default_rng(1)
    new_masks = [rng.random(w.shape) < 0.3 for w in weights(initial)]
    model = set_masks(nnx.clone(initial), new_masks)
    trained = fit(model, *digits, epochs=1)
    for layer, before, mask in zip(trained.model.layers, weights(model), new_masks, strict=True):
        kernel = np.asarray(layer.kernel[...])
        assert np.all(kernel[~mask] == 0.0)
        # The others trained, but for the inputs of digits' blank border pixels and of dead ReLUs.
        assert np.mean(kernel[mask] != before[mask]) > 0.75
        np.testing.assert_array_equal(np.asarray(layer.mask[...]), mask)  # the mask is not trained
    assert np.all(weights(initial)[0] != 0.0)  # fit trains a copy


# --- the cost sees the masks and the layout ------------------------------------------------------


def test_puma_cost_drops_with_the_emptied_crossbars(dense, transformed):
    x = jnp.ones((1, SIZES[0]))
    config = puma.Config(mvmu_dim=float(XBAR))

    def cost(model):
        return system.cost_flax(puma.inference, config, model, x, rows=XBAR, cols=XBAR, mode="exact")

    before, after = cost(dense.model), cost(transformed.model)
    first = next(iter(before))
    # Occupancy scales a layer's MVMs exactly: its MVM energy by occupied / all blocks.
    ratio = float(after[first]["mvm"].energy) / float(before[first]["mvm"].energy)
    assert ratio == pytest.approx(transformed.crossbars[0] / 32, rel=1e-6)
    assert float(hj.total(after).total_energy) < float(hj.total(before).total_energy)
    assert float(hj.total(after).area) < float(hj.total(before).area)


# --- baselines -----------------------------------------------------------------------------------


def test_magnitude_prune_removes_the_smallest_weights_exactly():
    w = np.arange(1.0, 13.0).reshape(3, 4) * np.where(np.arange(12).reshape(3, 4) % 2, -1.0, 1.0)
    mask = magnitude_prune(w, 0.5)
    assert mask.sum() == 6
    np.testing.assert_array_equal(np.abs(w)[mask == 1], np.arange(7.0, 13.0))
    assert magnitude_prune(w, 0.0).all() and not magnitude_prune(w, 1.0).any()


def test_pruned_rows_and_columns_are_removed_from_the_shape_and_the_layout():
    mask = np.zeros((6, 5))
    mask[[1, 4], 2] = 1.0
    mask[4, 0] = 1.0
    assert remaining_shape(mask) == (2, 2)
    rows, cols = compact_order(mask)
    np.testing.assert_array_equal(rows, [1, 4, 0, 2, 3, 5])
    np.testing.assert_array_equal(cols, [0, 2, 1, 3, 4])


def test_block_prune_removes_the_weakest_whole_blocks():
    w = np.ones((4, 6))
    w[:2, :3] = 0.1  # weakest block
    w[2:, 3:] = 0.5  # second weakest
    mask = block_prune(w, 2, 3, 0.5)  # 4 blocks, 2 removed
    np.testing.assert_array_equal(mask[:2, :3], 0.0)
    np.testing.assert_array_equal(mask[2:, 3:], 0.0)
    assert mask.sum() == 12


def test_offline_clustering_changes_the_layout_not_the_function(digits, magnitude):
    model, clusters = offline_clustering(magnitude.model, XBAR, XBAR)
    assert len(clusters) == 2
    x = jnp.asarray(digits[1][0][:5])
    np.testing.assert_allclose(model(x), magnitude.model(x), rtol=1e-5, atol=1e-5)
    for a, b in zip(weights(model), weights(magnitude.model), strict=True):
        np.testing.assert_array_equal(a, b)


# --- determinism and bad inputs ------------------------------------------------------------------


def test_trannsformer_is_deterministic_for_a_seed(digits, initial):
    def run(seed):
        return train_trannsformer(
            initial, *digits, rows=XBAR, cols=XBAR, epochs=4, cluster_prune=0.25, seed=seed
        )

    first, again = run(3), run(3)
    assert first.crossbars == again.crossbars
    np.testing.assert_array_equal(first.accuracy, again.accuracy)
    for a, b in zip(first.masks, again.masks, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights(first.model), weights(again.model), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("overrides", "name", "allowed"),
    [
        ({"prune_effort": 1.5}, "prune_effort", r"\[0, 1\]"),
        ({"cluster_effort": -0.1}, "cluster_effort", r"\[0, 1\]"),
        ({"cluster_prune": 2.0}, "cluster_prune", r"\[0, 1\]"),
        ({"cluster_prune_rate": -1.0}, "cluster_prune_rate", r"\[0, 1\]"),
        ({"unclustered_threshold": 1.1}, "unclustered_threshold", r"\[0, 1\]"),
        ({"rows": 0}, "rows", r"\[1, "),
        ({"cols": 2.5}, "cols", "whole number"),
        ({"epochs": 0}, "epochs", r"\[1, "),
        ({"batch_size": 0}, "batch_size", r"\[1, "),
        ({"learning_rate": 0.0}, "learning_rate", r"\(0, inf\)"),
        ({"seed": -1}, "seed", r"\[0, "),
    ],
)
def test_trannsformer_rejects_bad_knobs(digits, initial, overrides, name, allowed):
    kwargs = {"rows": XBAR, "cols": XBAR, "epochs": 1, **overrides}
    with pytest.raises(ValueError, match=f"{name}.*{allowed}"):
        train_trannsformer(initial, *digits, **kwargs)


def test_bad_data_models_and_baseline_arguments_raise(digits, initial):
    (x, y), _ = digits
    with pytest.raises(ValueError, match=r"train: x must have shape \(N >= 1, 64\)"):
        fit(initial, (x[:, :10], y), epochs=1)
    with pytest.raises(ValueError, match=r"train labels=.* outside the allowed range \[0, 9\]"):
        fit(initial, (x, y + 1), epochs=1)
    with pytest.raises(ValueError, match="model must be a MaskedMLP"):
        fit(nnx.Linear(64, 10, rngs=nnx.Rngs(0)), (x, y), epochs=1)
    with pytest.raises(ValueError, match="sizes"):
        MaskedMLP([64], rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"sparsity=1.2 is outside the allowed range \[0, 1\]"):
        magnitude_prune(np.ones((4, 4)), 1.2)
    with pytest.raises(ValueError, match=r"rows=0 .*\[1, "):
        block_prune(np.ones((4, 4)), 0, 2, 0.5)
    with pytest.raises(ValueError, match="weights must be a non-empty 2-D"):
        magnitude_prune(np.ones(4), 0.5)
    with pytest.raises(ValueError, match=r"masks\[0\] has shape \(3, 3\)"):
        set_masks(nnx.clone(initial), [np.ones((3, 3)), np.ones((128, 10))])
    with pytest.raises(ValueError, match=r"row_order must be a permutation of range\(64\)"):
        orders = [(np.zeros(64, int), np.arange(128)), (np.arange(128), np.arange(10))]
        set_layouts(nnx.clone(initial), orders)
