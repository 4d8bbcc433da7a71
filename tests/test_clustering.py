"""Crossbar-aware clustering (TraNNsformer, dissertation chapter 4, Algorithms 1 and 2).

Planted structures: ``BLOCKS`` dense ``SIZE x SIZE`` blocks on the diagonal of a 64 x 64 layer,
rows and columns shuffled, on ``SIZE x SIZE`` crossbars. Labels, clusters and crossbar counts
are integers and are compared exactly; utilizations are ratios of small integers, compared to
float32 round-off (rel 1e-6). Every matrix is 64 x 64 (or pads to it) so the file compiles the
spectral clustering once.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwjax import mapping
from hwjax.codesign import (
    Cluster,
    block_permutation,
    crossbar_count,
    scic,
    spectral_clustering,
    utilization,
)

BLOCKS, SIZE = 4, 16
N = BLOCKS * SIZE


def _planted(seed: int, noise: float = 0.0, density: float = 1.0):
    """A shuffled block-diagonal 0/1 ``(N, N)`` matrix, its rows' and columns' true blocks, and
    the mask of the planted (in-block) weights. ``density < 1`` keeps exactly that fraction of
    each block; ``noise`` adds off-block weights with that probability."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(BLOCKS), SIZE)
    inside = truth[:, None] == truth[None, :]
    keep = np.zeros((N, N), dtype=bool)
    for b in range(BLOCKS):
        cells = np.argwhere(inside & (truth[:, None] == b))
        chosen = rng.permutation(len(cells))[: round(density * len(cells))]
        keep[tuple(cells[chosen].T)] = True
    extra = ~inside & (rng.random((N, N)) < noise)
    rows, cols = rng.permutation(N), rng.permutation(N)
    c = (keep | extra).astype(float)[rows][:, cols]
    return c, truth[rows], truth[cols], keep[rows][:, cols]


def _same_partition(labels, truth) -> bool:
    """Labels and truth group the nodes alike (up to renaming the labels)."""
    labels, truth = np.asarray(labels), np.asarray(truth)
    pairs = set(zip(truth.tolist(), labels.tolist(), strict=True))
    return len(pairs) == len(set(truth.tolist())) == len(set(labels.tolist()))


# --- spectral clustering (Algorithm 1) -----------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spectral_clustering_recovers_planted_blocks_exactly(seed):
    # 2% off-block noise (about 60 edges against 1024 planted) must not move a single node.
    c, truth_in, truth_out, _ = _planted(seed, noise=0.02)
    labels_in, labels_out = spectral_clustering(c, BLOCKS, jax.random.key(seed))
    assert labels_in.shape == (N,) and labels_out.shape == (N,)
    both = np.concatenate([labels_in, labels_out])
    assert _same_partition(both, np.concatenate([truth_in, truth_out]))


def test_spectral_clustering_is_deterministic_for_a_key():
    c, *_ = _planted(3, noise=0.05)
    first = spectral_clustering(c, 6, jax.random.key(7))
    again = spectral_clustering(jnp.asarray(c), 6, jax.random.key(7))
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_spectral_clustering_jits():
    c, truth_in, truth_out, _ = _planted(4)
    jitted = jax.jit(spectral_clustering, static_argnums=1)
    labels_in, labels_out = jitted(jnp.asarray(c), BLOCKS, jax.random.key(0))
    assert _same_partition(np.concatenate([labels_in, labels_out]), np.concatenate([truth_in, truth_out]))


def test_nodes_without_edges_get_no_cluster_and_no_nan():
    c, truth_in, truth_out, _ = _planted(5)
    c[7, :] = 0.0  # an input pruned away entirely
    c[:, 11] = 0.0  # and an output
    labels_in, labels_out = spectral_clustering(c, BLOCKS, jax.random.key(0))
    assert int(labels_in[7]) == -1 and int(labels_out[11]) == -1
    keep_in, keep_out = np.arange(N) != 7, np.arange(N) != 11
    assert _same_partition(
        np.concatenate([labels_in[keep_in], labels_out[keep_out]]),
        np.concatenate([truth_in[keep_in], truth_out[keep_out]]),
    )
    zero = np.zeros((N, N))
    labels_in, labels_out = spectral_clustering(zero, 2, jax.random.key(0))
    assert np.all(np.asarray(labels_in) == -1) and np.all(np.asarray(labels_out) == -1)
    result = scic(zero, SIZE, SIZE)
    assert result.clusters == () and not result.cluster_map.any()
    assert float(utilization(zero, SIZE, SIZE)) == 0.0 and int(crossbar_count(zero, SIZE, SIZE)) == 0


# --- SCIC (Algorithm 2) --------------------------------------------------------------------------


def test_scic_gathers_a_planted_layer_into_the_planted_number_of_crossbars():
    c, *_ = _planted(6)
    result = scic(c, SIZE, SIZE, key=jax.random.key(0))
    assert len(result.clusters) == BLOCKS
    assert all(cl.utilization == pytest.approx(1.0, rel=1e-6) for cl in result.clusters)
    np.testing.assert_array_equal(result.cluster_map, c)  # every weight is clustered
    assert not result.remainder.any()
    rows, cols = block_permutation(c, result.clusters, SIZE, SIZE)
    assert sorted(rows) == list(range(N)) and sorted(cols) == list(range(N))
    assert int(crossbar_count(c, SIZE, SIZE)) == BLOCKS * BLOCKS  # shuffled: every crossbar used
    assert int(crossbar_count(c[rows][:, cols], SIZE, SIZE)) == BLOCKS
    assert float(utilization(c[rows][:, cols], SIZE, SIZE)) == pytest.approx(1.0, rel=1e-6)
    assert result.crossbars == BLOCKS


def test_scic_leaves_noise_unclustered():
    c, _, _, planted = _planted(7, noise=0.02)
    result = scic(c, SIZE, SIZE, key=jax.random.key(1))
    assert len(result.clusters) == BLOCKS
    np.testing.assert_array_equal(result.cluster_map, planted)  # the blocks, not the noise
    np.testing.assert_array_equal(result.remainder + c * result.cluster_map, c)
    for cl in result.clusters:
        assert isinstance(cl, Cluster) and cl.inputs.size <= SIZE and cl.outputs.size <= SIZE
    rows, cols = block_permutation(c, result.clusters, SIZE, SIZE)
    assert int(crossbar_count(result.cluster_map[rows][:, cols], SIZE, SIZE)) == BLOCKS
    # The noise spreads over every crossbar of the plain tiling; the mapping gives the clusters
    # their own crossbars and tiles the noise alone.
    assert result.crossbars == BLOCKS + int(crossbar_count(result.remainder, SIZE, SIZE))


def test_scic_threshold_decays_to_min_util_and_no_further():
    # Half-full blocks: utilization 0.5. From base 0.6 the threshold decays 0.6 -> 0.54 -> 0.486
    # and keeps them; with min_util 0.55 it stops at 0.54 (the next, 0.486, is below the floor).
    c, _, _, planted = _planted(8, density=0.5)
    kept = scic(c, SIZE, SIZE, base_util=0.6, min_util=0.3, decay=0.9)
    assert len(kept.clusters) == BLOCKS
    assert all(cl.utilization == pytest.approx(0.5, rel=1e-6) for cl in kept.clusters)
    np.testing.assert_array_equal(kept.cluster_map, planted)
    refused = scic(c, SIZE, SIZE, base_util=0.6, min_util=0.55, decay=0.9)
    assert refused.clusters == ()
    np.testing.assert_array_equal(refused.remainder, c)


def test_scic_is_deterministic_for_a_key():
    c, *_ = _planted(9, noise=0.1)
    a = scic(c, SIZE, SIZE, min_util=0.1, key=jax.random.key(3))
    b = scic(c, SIZE, SIZE, min_util=0.1, key=jax.random.key(3))
    assert len(a.clusters) == len(b.clusters) > 0
    for x, y in zip(a.clusters, b.clusters, strict=True):
        np.testing.assert_array_equal(x.inputs, y.inputs)
        np.testing.assert_array_equal(x.outputs, y.outputs)
    np.testing.assert_array_equal(a.cluster_map, b.cluster_map)


# --- crossbar counting ---------------------------------------------------------------------------


def test_crossbar_count_and_utilization_of_a_small_tiling():
    c = np.zeros((4, 6))
    c[0, 0] = c[1, 1] = 1.0  # block (0, 0)
    c[3, 5] = -2.0  # block (1, 2): a negative weight occupies a crossbar too
    assert int(crossbar_count(c, 2, 2)) == 2
    assert int(crossbar_count(c, 2, 2)) == int(np.sum(mapping.block_occupancy(c, 2, 2)))
    assert float(utilization(c, 2, 2)) == pytest.approx(3 / 8, rel=1e-6)
    # One crossbar larger than the matrix still has all its cross-points.
    assert int(crossbar_count(c, 8, 8)) == 1
    assert float(utilization(c, 8, 8)) == pytest.approx(3 / 64, rel=1e-6)


def test_block_permutation_aligns_clusters_with_free_rows_as_padding():
    c = np.zeros((8, 8))
    c[np.ix_([0, 2, 4], [1, 3])] = 1.0  # 3 x 2 cluster
    c[np.ix_([1, 5], [0, 6])] = 1.0  # 2 x 2 cluster: would straddle rows 3-4 without padding
    rows, cols = block_permutation(c, [([0, 2, 4], [1, 3]), ([1, 5], [0, 6])], 4, 4)
    assert sorted(rows) == list(range(8)) and sorted(cols) == list(range(8))
    assert int(crossbar_count(c, 4, 4)) == 4
    assert int(crossbar_count(c[rows][:, cols], 4, 4)) == 2


# --- bad input -----------------------------------------------------------------------------------

_C = np.ones((8, 8))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: spectral_clustering(_C, 0, jax.random.key(0)), "k"),
        (lambda: spectral_clustering(_C, 9, jax.random.key(0)), "k"),
        (lambda: spectral_clustering(_C, 2.0, jax.random.key(0)), "k"),
        (lambda: spectral_clustering(np.ones(8), 2, jax.random.key(0)), "connectivity"),
        (lambda: spectral_clustering(np.zeros((0, 8)), 2, jax.random.key(0)), "connectivity"),
        (lambda: spectral_clustering(-_C, 2, jax.random.key(0)), "connectivity"),
        (lambda: spectral_clustering(_C * np.nan, 2, jax.random.key(0)), "connectivity"),
        (lambda: spectral_clustering(_C, 2, 0), "key"),
        (lambda: scic(_C, 0, 4), "rows"),
        (lambda: scic(_C, 4, -1), "cols"),
        (lambda: scic(_C, 4, 4.5), "cols"),
        (lambda: scic(_C, 4, 4, base_util=1.5), "base_util"),
        (lambda: scic(_C, 4, 4, min_util=-0.1), "min_util"),
        (lambda: scic(_C, 4, 4, base_util=0.3, min_util=0.5), "min_util"),
        (lambda: scic(_C, 4, 4, decay=1.0), "decay"),
        (lambda: scic(_C, 4, 4, decay=0.0), "decay"),
        (lambda: scic(_C, 4, 4, k=1), "k"),
        (lambda: scic(_C, 4, 4, max_rounds=0), "max_rounds"),
        (lambda: crossbar_count(_C, 0, 4), "rows"),
        (lambda: utilization(np.ones((2, 2, 2)), 4, 4), "connectivity"),
        (lambda: block_permutation(_C, [([0, 9], [1])], 4, 4), "inputs"),
    ],
)
def test_bad_input_raises_value_error_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()
