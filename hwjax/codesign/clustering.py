"""Crossbar-aware clustering of a dense layer's connectivity (TraNNsformer).

A fully connected layer is a bipartite graph: its ``m`` inputs and ``n`` outputs are the nodes,
its non-zero weights the edges, its connectivity matrix ``C`` ``(m, n)`` (0/1, or non-negative
edge weights). TraNNsformer (Ankit's dissertation, chapter 4) gathers the weights of a pruned
layer into dense sub-clusters that each fit one ``rows x cols`` crossbar, so that sparsity saves
crossbars instead of leaving unused cross-points scattered over all of them:

* :func:`spectral_clustering` (Algorithm 1): normalized Laplacian of the graph, its ``k``
  smallest eigenvectors, k-means on their row-normalized rows. JAX, jitted, deterministic for a
  ``jax.random`` key.
* :func:`scic`, Size-Constrained Iterative Clustering (Algorithm 2): spectral clustering split
  recursively until the sub-clusters fit a crossbar; those whose utilization reaches a
  threshold are kept, the threshold decaying from ``base_util`` towards ``min_util`` when none
  does; their weights leave the remaining matrix, and the rest is clustered again. Plain
  Python around the JAX spectral clustering: the loop is data-dependent and runs offline,
  between training epochs (Algorithm 3).
* :func:`block_permutation` orders inputs and outputs so the clusters lie in contiguous,
  crossbar-aligned blocks; :func:`crossbar_count` and :func:`utilization` measure a tiling
  (through :func:`hwjax.mapping.block_occupancy`).

The *utilization* of a sub-cluster is the dissertation's "utilization factor": the fraction of
its crossbar's ``rows x cols`` cross-points that hold a weight (nnz / (rows * cols)).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import mapping, validate

#: Default SCIC thresholds. The dissertation gives no values; a pruned DNN tiled plainly maps at
#: a 0.3 utilization factor (dissertation 4.5.1, Fig. 4.2), so a sub-cluster below that saves
#: nothing (``min_util``), and the search starts twice as high (``base_util``).
DEFAULT_BASE_UTIL = 0.6
DEFAULT_MIN_UTIL = 0.3
#: The threshold is multiplied by this when no sub-cluster reaches it (Algorithm 2, line 17).
DEFAULT_DECAY = 0.9
#: Rounds of SCIC over the remaining matrix at most (each starts again from the whole of it).
DEFAULT_MAX_ROUNDS = 8
#: Lloyd iterations at most of the k-means in spectral clustering (they stop once no label
#: changes; a few suffice after greedy k-means++ seeding).
KMEANS_ITERATIONS = 32

# Squared singular values below this (relative to the largest, 1) carry no cluster structure at
# float32 precision: their u = A v / sigma is left 0.
_MIN_SIGMA_SQUARED = 1e-6
_MIN_PADDED = 8
_MIN_K_CAP = 16


# ---------------------------------------------------------------------------------------------
# Argument checks


def _check_connectivity(connectivity, nonnegative: bool = True):
    """``connectivity``, checked: 2-D and non-empty; concrete values finite (and >= 0)."""
    shape = jnp.shape(connectivity)
    if len(shape) != 2:
        raise ValueError(
            f"connectivity must be a 2-D (n_in, n_out) array (inputs x outputs); got shape {shape}"
        )
    if 0 in shape:
        raise ValueError(f"connectivity is empty (shape {shape}); n_in and n_out must be in [1, inf)")
    if not validate.is_traced(connectivity):
        low = 0.0 if nonnegative else None
        validate.check_range("connectivity", np.asarray(connectivity, dtype=float), low)
    return connectivity


def _check_key(key):
    """A ``jax.random`` key (typed or raw uint32 ``(2,)``); ``None`` is the key of seed 0."""
    if key is None:
        return jax.random.key(0)
    if not isinstance(key, jax.Array) or not (
        jnp.issubdtype(key.dtype, jax.dtypes.prng_key) or (key.shape == (2,) and key.dtype == jnp.uint32)
    ):
        raise ValueError(f"key must be a jax.random key (jax.random.key(seed)); got {key!r}")
    return key


# ---------------------------------------------------------------------------------------------
# Spectral clustering (Algorithm 1)


def _bucket(size: int) -> int:
    """Padded size: the next power of two (at least 8), so that nearby shapes share a compilation
    (compiling costs far more than the padded arithmetic)."""
    return max(_MIN_PADDED, 1 << (size - 1).bit_length())


def _k_cap(k: int) -> int:
    """Static number of eigenvectors and centres kept: a power of two >= ``k``, at least
    :data:`_MIN_K_CAP` (so most ``k`` share one compilation; the unused ones are masked)."""
    return max(_MIN_K_CAP, 1 << (k - 1).bit_length())


def _hash(x):
    """A 32-bit integer mix (Wellons' lowbias32): cheap to compile, unlike threefry."""
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x7FEB352D)
    x = x ^ (x >> 15)
    x = x * jnp.uint32(0x846CA68B)
    return x ^ (x >> 16)


def _uniforms(seed, shape: tuple[int, ...]):
    """Uniforms in (0, 1) of ``shape``, a deterministic function of ``seed`` ``(2,)`` uint32."""
    counter = jnp.arange(math.prod(shape), dtype=jnp.uint32).reshape(shape)
    mixed = _hash(counter * jnp.uint32(0x9E3779B9) + seed[0]) ^ seed[1]
    return ((_hash(mixed) >> 8).astype(jnp.float32) + 0.5) * 2.0**-24


def _safe_rsqrt(degree):
    """``degree^-1/2``, and 0 for a node without edges (it stays isolated: no NaN)."""
    connected = degree > 0
    return jnp.where(connected, jax.lax.rsqrt(jnp.where(connected, degree, 1.0)), 0.0)


def _embedding(c, k, k_cap: int):
    """Spectral embedding of the bipartite graph of ``c`` ``(m, n)``: rows ``(m + n, k_cap)``.

    The eigenvectors of the ``k`` smallest eigenvalues of the normalized Laplacian
    ``L = I - D^-1/2 S D^-1/2``, ``S = [[0, C], [C^T, 0]]``. ``S``'s normalized form is
    ``[[0, A], [A^T, 0]]`` with ``A = D_in^-1/2 C D_out^-1/2``, whose eigenpairs are
    ``+-sigma_i`` with vectors ``[u_i; +-v_i] / sqrt 2`` for the singular triplets of ``A``: so
    ``L``'s smallest eigenvalues are ``1 - sigma_i`` (largest ``sigma`` first; the rest are >= 1)
    and their eigenvectors come from ``jnp.linalg.eigh`` of the ``(n, n)`` Gram ``A^T A``
    (``v_i``, ``sigma_i^2``) and ``u_i = A v_i / sigma_i``: the same vectors as diagonalizing
    the ``(m + n)`` square ``L`` (Algorithm 1, line 3), at the cost of the smaller side.

    Columns ``k`` to ``k_cap`` (static) are 0, so ``k`` may change without recompiling. Rows are
    normalized to unit length (the common ``1 / sqrt 2`` drops out); rows of nodes without
    edges are 0. Also returns which nodes have edges, ``(m + n,)`` bool.
    """
    degree_in, degree_out = jnp.sum(c, axis=1), jnp.sum(c, axis=0)
    a = _safe_rsqrt(degree_in)[:, None] * c * _safe_rsqrt(degree_out)[None, :]
    squares, v = jnp.linalg.eigh(a.T @ a)  # ascending sigma^2
    kept = min(k_cap, c.shape[1])
    squares, v = squares[::-1][:kept], v[:, ::-1][:, :kept]
    # sigma ~ 0 (k beyond the graph's structure): its u is 0/0; leave it 0 rather than noise.
    sigma = jnp.sqrt(jnp.maximum(squares, 0.0))
    significant = squares > _MIN_SIGMA_SQUARED
    u = (a @ v) * jnp.where(significant, 1.0 / jnp.where(significant, sigma, 1.0), 0.0)
    vectors = jnp.pad(jnp.concatenate([u, v]), ((0, 0), (0, k_cap - kept)))
    vectors = jnp.where(jnp.arange(k_cap) < k, vectors, 0.0)  # only the k smallest
    connected = jnp.concatenate([degree_in, degree_out]) > 0
    norm = jnp.linalg.norm(vectors, axis=1, keepdims=True)
    return jnp.where(connected[:, None], vectors / jnp.where(norm > 0, norm, 1.0), 0.0), connected


def _draw(u, mass):
    """Indices drawn with probability proportional to ``mass`` ``(p,)`` (>= 0, not all 0): the
    exponential race ``argmin(-log(u) / mass)`` over uniforms ``u`` ``(L, p)``, one index per
    row (no cumulative sum: that compiles slowly on CPU)."""
    race = jnp.where(mass > 0, -jnp.log(u) / jnp.where(mass > 0, mass, 1.0), jnp.inf)
    return jnp.argmin(race, axis=-1)


def _kmeans_plus_plus(x, weight, u):
    """Greedy k-means++ seeding: ``(K, d)`` centres drawn from the points of non-zero ``weight``.

    Each centre after the first is the best (least potential, the weighted sum of squared
    distances to the nearest centre) of ``L`` candidates drawn by k-means++; ``u`` ``(K, L, p)``
    uniforms drive the draws. Greedy seeding is robust enough to need no restarts (one
    compiled loop instead of several: compilation is the cost that matters here).
    """
    first = x[_draw(u[0, 0], weight)]
    centers = jnp.zeros((u.shape[0], x.shape[1]), x.dtype).at[0].set(first)

    def pick(i, carry):
        centers, nearest = carry
        mass = nearest * weight
        # All points already on a centre (fewer distinct points than k): draw by weight.
        mass = jnp.where(jnp.sum(mass) > 0, mass, weight)
        candidates = x[_draw(u[i], mass)]  # (L, d)
        closer = jnp.minimum(nearest[:, None], _squared_distances(x, candidates))
        best = jnp.argmin(weight @ closer)
        return centers.at[i].set(candidates[best]), closer[:, best]

    nearest = jnp.sum(jnp.square(x - first), axis=1)
    centers, _ = jax.lax.fori_loop(1, u.shape[0], pick, (centers, nearest))
    return centers


def _squared_distances(x, centers):
    """``(p, d)`` points to ``(q, d)`` centres: ``(p, q)`` squared distances, as ``|x|^2 -
    2 x.c + |c|^2`` (a matrix product: the broadcast difference is memory-bound)."""
    d = jnp.sum(jnp.square(x), axis=1)[:, None] - 2.0 * x @ centers.T + jnp.sum(jnp.square(centers), axis=1)
    return jnp.maximum(d, 0.0)


def _lloyd(x, weight, centers, valid):
    """Lloyd steps from ``centers`` until no label changes (at most :data:`KMEANS_ITERATIONS`);
    only ``valid`` centres take points. Returns the labels ``(p,)``."""

    def assign(centers):
        return jnp.argmin(jnp.where(valid[None, :], _squared_distances(x, centers), jnp.inf), axis=1)

    def step(carry):
        i, centers, labels, _ = carry
        members = jax.nn.one_hot(labels, centers.shape[0], dtype=x.dtype) * weight[:, None]
        counts = jnp.sum(members, axis=0)
        means = (members.T @ x) / jnp.where(counts > 0, counts, 1.0)[:, None]
        centers = jnp.where(counts[:, None] > 0, means, centers)  # an empty cluster keeps its centre
        new = assign(centers)
        return i + 1, centers, new, jnp.any((new != labels) & (weight > 0))

    start = (0, centers, assign(centers), True)
    _, centers, labels, _ = jax.lax.while_loop(
        lambda carry: (carry[0] < KMEANS_ITERATIONS) & carry[3], step, start
    )
    return labels


def _kmeans(x, weight, k, seed):
    """Labels ``(p,)`` in ``[0, k)`` of k-means on the points ``x`` ``(p, K)`` of non-zero
    ``weight``: greedy k-means++ seeding, then Lloyd steps."""
    k_cap = x.shape[1]
    candidates = 2 + int(math.log(k_cap))  # as scikit-learn's greedy k-means++
    centers = _kmeans_plus_plus(x, weight, _uniforms(seed, (k_cap, candidates, x.shape[0])))
    return _lloyd(x, weight, centers, jnp.arange(k_cap) < k)


@functools.partial(jax.jit, static_argnames=("k_cap",))
def _spectral_labels(c, k, seed, k_cap: int):
    """Labels ``(m + n,)`` of the nodes of ``c`` ``(m, n)`` (inputs first), -1 for nodes
    without edges."""
    embedding, connected = _embedding(c, k, k_cap)
    # No edges at all: weigh every node so the draws stay defined; the labels are masked below.
    weight = jnp.where(jnp.any(connected), connected, True).astype(c.dtype)
    return jnp.where(connected, _kmeans(embedding, weight, k, seed), -1)


def _seed(key):
    """The two uint32 words of a ``jax.random`` key (typed or raw) seeding the k-means draws."""
    data = jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key
    return jnp.asarray(data, jnp.uint32).ravel()[:2]


def _spectral(c, k: int, seed, padded: tuple[int, int]):
    """Labels of the inputs ``(m,)`` and outputs ``(n,)`` of ``c``, zero-padded to ``padded``
    (>= its shape) for the compiled computation, transposed if that makes the Gram smaller."""
    traced = validate.is_traced(c)
    xp = jnp if traced else np
    c = xp.asarray(c, dtype=np.float32)
    m, n = c.shape
    flip = padded[1] > padded[0]
    c = xp.pad(c, ((0, padded[0] - m), (0, padded[1] - n)))
    labels = _spectral_labels(c.T if flip else c, jnp.int32(k), seed, k_cap=_k_cap(k))
    labels = labels if traced else np.asarray(labels)  # slicing on the host compiles nothing
    first, second = labels[: padded[1 if flip else 0]], labels[padded[1 if flip else 0] :]
    inputs, outputs = (second, first) if flip else (first, second)
    return inputs[:m], outputs[:n]


def spectral_clustering(connectivity, k: int, key):
    """Spectral clustering of a dense layer's bipartite graph into ``k`` clusters (Algorithm 1).

    Nodes are the ``n_in`` inputs and ``n_out`` outputs, edges the entries of ``connectivity``
    (their values are the edge weights). The ``k`` smallest eigenvectors of the normalized
    Laplacian ``L = I - D^-1/2 S D^-1/2`` of the adjacency ``S = [[0, C], [C^T, 0]]`` come from
    ``jnp.linalg.eigh`` (of the Gram matrix of the smaller side: exactly ``L``'s vectors, see
    :func:`_embedding`); their rows, normalized to unit length, are clustered by k-means
    (greedy k-means++ seeding, then at most :data:`KMEANS_ITERATIONS` Lloyd steps). The matrix
    is zero-padded to power-of-two sides so that nearby shapes share one compilation (padding
    adds only isolated nodes, which change nothing). Jittable with ``k`` static; a traced
    ``connectivity`` is not checked.

    Args:
        connectivity: ``(n_in, n_out)`` non-negative array (0/1 for a pruned layer's mask).
        k: number of clusters, an int in ``[1, min(n_in, n_out)]`` (a cluster holding no
            input or no output holds no weight).
        key: a ``jax.random`` key; the result is a deterministic function of it (k-means++
            draws from a counter-based hash of the key's words).

    Returns:
        ``(input_labels (n_in,), output_labels (n_out,))`` int32 arrays in ``[0, k)``; a node
        without any edge (an all-zero row or column) belongs to no cluster and gets -1. Some
        labels may be unused when the graph has fewer natural clusters than ``k``.

    Raises:
        ValueError: ``connectivity`` not 2-D, empty, or (concrete) negative or not finite;
            ``k`` not an int in ``[1, min(n_in, n_out)]``; ``key`` not a ``jax.random`` key.
    """
    connectivity = _check_connectivity(connectivity)
    m, n = jnp.shape(connectivity)
    k = validate.check_static_int("k", k, 1)
    validate.check_range("k", k, 1, min(m, n), context="(at most min(n_in, n_out))")
    inputs, outputs = _spectral(connectivity, k, _seed(_check_key(key)), (_bucket(m), _bucket(n)))
    return jnp.asarray(inputs), jnp.asarray(outputs)


# ---------------------------------------------------------------------------------------------
# Size-Constrained Iterative Clustering (Algorithm 2)


def _frozen(indices) -> np.ndarray:
    """Indices as a read-only int64 array (a frozen :class:`Cluster` should stay frozen)."""
    array = np.array(indices, dtype=np.int64)
    array.setflags(write=False)
    return array


@dataclasses.dataclass(frozen=True, eq=False)
class Cluster:
    """A qualified sub-cluster: the weights between ``inputs`` and ``outputs`` on one crossbar.

    Attributes:
        inputs: sorted input (row) indices, ``(a,)`` int, ``a <= rows``.
        outputs: sorted output (column) indices, ``(b,)`` int, ``b <= cols``.
        utilization: weights it holds / cross-points of its crossbar (``rows * cols``), in
            ``(0, 1]``.
    """

    inputs: np.ndarray
    outputs: np.ndarray
    utilization: float


@dataclasses.dataclass(frozen=True, eq=False)
class SCICResult:
    """What :func:`scic` found.

    Attributes:
        clusters: the qualified sub-clusters in the order they were found; no weight is in two.
        cluster_map: ``(n_in, n_out)`` 0/1 float array, 1 where a weight lies in a cluster (the
            dissertation's cluster map; its 0s are the Clustering Don't Cares).
        remainder: ``(n_in, n_out)`` the connectivity's values outside every cluster (the
            unclustered weights), so ``connectivity = remainder + connectivity * cluster_map``.
        rows, cols: the crossbar size the clusters were made for.
    """

    clusters: tuple[Cluster, ...]
    cluster_map: np.ndarray
    remainder: np.ndarray
    rows: int
    cols: int

    @property
    def crossbars(self) -> int:
        """Crossbars of the TraNNsformer mapping: one per cluster (its inputs broadcast to it,
        its outputs summed with the other crossbars'), plus the occupied crossbars of the
        remainder tiled in place (:func:`crossbar_count`)."""
        return len(self.clusters) + int(crossbar_count(self.remainder, self.rows, self.cols))


def _threshold(best: float, base_util: float, min_util: float, decay: float) -> float | None:
    """The first threshold ``base_util * decay^j`` that ``best`` reaches, or ``None`` once the
    threshold falls below ``min_util`` (Algorithm 2, lines 6-17). Spectral clustering gives the
    same sub-clusters for the same matrix and key, so it is run once and only the threshold
    decays."""
    threshold = base_util
    while threshold >= min_util:
        if best >= threshold:
            return threshold
        threshold *= decay  # reaches 0 (then any best >= 0 qualifies), so the loop ends
    return None


def _auto_k(n_inputs: int, n_outputs: int, rows: int, cols: int) -> int:
    """Clusters to split into: as many crossbars as the larger side needs, at least 2."""
    return max(2, -(-n_inputs // rows), -(-n_outputs // cols))


def _split(weights, inputs, outputs, k: int, seed: np.ndarray, call: int):
    """Spectral clustering of the sub-matrix ``weights[inputs][:, outputs]``: its pieces.

    Every split is padded to the whole matrix's padded shape, so a run compiles once; the
    ``call``-th split draws from its own stream (``call`` folded into the seed)."""
    sub = weights[np.ix_(inputs, outputs)]
    k = min(k, len(inputs), len(outputs))
    folded = np.array([seed[0], (int(seed[1]) + call * 0x9E3779B9) % 2**32], dtype=np.uint32)
    padded = (_bucket(weights.shape[0]), _bucket(weights.shape[1]))
    labels_in, labels_out = _spectral(sub, k, folded, padded)
    return [(inputs[labels_in == label], outputs[labels_out == label]) for label in range(k)]


def scic(
    connectivity,
    rows: int,
    cols: int,
    *,
    k: int | None = None,
    base_util: float = DEFAULT_BASE_UTIL,
    min_util: float = DEFAULT_MIN_UTIL,
    decay: float = DEFAULT_DECAY,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    key=None,
) -> SCICResult:
    """Size-Constrained Iterative Clustering of a layer onto ``rows x cols`` crossbars (Algorithm 2).

    A round starts from the remaining (unclustered) connectivity as one cluster. A cluster
    larger than a crossbar is split by :func:`spectral_clustering` into ``k`` sub-clusters;
    among those that fit, the ones whose utilization (weights / ``rows * cols``) reaches the
    threshold are kept, the threshold starting at ``base_util`` and multiplied by ``decay``
    until one qualifies or it falls below ``min_util`` (then none is kept). Kept weights leave
    the remaining matrix; sub-clusters still too large are split in turn; the others return to
    the remaining matrix. Rounds repeat while a round keeps something, at most ``max_rounds``
    times, so the weights left over meet new partners. Cost: one compilation per matrix shape
    (seconds on CPU; every split is padded to the whole matrix's shape), then per split an
    eigendecomposition of the smaller side's Gram matrix and a small k-means (milliseconds at
    784 x 100), with plain Python between them.

    Args:
        connectivity: ``(n_in, n_out)`` non-negative array; non-zero entries are weights
            (values are edge weights for the clustering).
        rows, cols: the crossbar's size, ints >= 1.
        k: sub-clusters per split, an int >= 2; ``None`` picks, for each cluster of ``a``
            inputs and ``b`` outputs, ``max(2, ceil(a / rows), ceil(b / cols))``.
        base_util, min_util: the threshold's start and floor, in ``[0, 1]``, ``min_util <=
            base_util``.
        decay: the threshold's factor per step, in ``(0, 1)``.
        max_rounds: rounds over the remaining matrix at most, an int >= 1.
        key: a ``jax.random`` key (``None``: ``jax.random.key(0)``); the result is a
            deterministic function of it.

    Returns:
        :class:`SCICResult`: the clusters, the cluster map and the unclustered remainder.

    Raises:
        ValueError: naming the parameter: ``connectivity`` not 2-D, empty, negative or not
            finite; ``rows``, ``cols``, ``max_rounds`` not ints >= 1; ``k`` not an int >= 2;
            utilizations outside ``[0, 1]`` or ``min_util > base_util``; ``decay`` outside
            ``(0, 1)``; a bad ``key``.
    """
    c = np.array(_check_connectivity(connectivity), dtype=float)
    rows, cols = validate.check_static_int("rows", rows, 1), validate.check_static_int("cols", cols, 1)
    if k is not None:
        k = validate.check_static_int("k", k, 1)
        validate.check_range("k", k, 2, context="(a split must make at least 2 sub-clusters)")
    validate.check_range("base_util", base_util, 0.0, 1.0)
    validate.check_range("min_util", min_util, 0.0, 1.0)
    if min_util > base_util:
        raise ValueError(
            f"min_util={min_util:g} must be <= base_util={base_util:g} (the threshold decays from "
            "base_util down to min_util)"
        )
    validate.check_range("decay", decay, 0.0, 1.0, low_open=True, high_open=True)
    max_rounds = validate.check_static_int("max_rounds", max_rounds, 1)
    seed = np.asarray(_seed(_check_key(key)))

    remaining = c.copy()
    clusters: list[Cluster] = []
    splits = 0
    for _ in range(max_rounds):
        found, splits = _round(remaining, rows, cols, k, (base_util, min_util, decay), seed, splits)
        if not found:  # the cluster set stopped changing
            break
        clusters += found
    cluster_map = ((c > 0) & (remaining == 0)).astype(float)
    return SCICResult(tuple(clusters), cluster_map, remaining, rows, cols)


def _round(remaining, rows, cols, k, thresholds, seed, splits):
    """One round of SCIC over the whole ``remaining`` matrix (modified in place: kept weights
    become 0). Returns the clusters kept and the number of splits made so far."""
    found: list[Cluster] = []
    pool = [(np.arange(remaining.shape[0]), np.arange(remaining.shape[1]))]
    while pool:
        inputs, outputs = pool.pop(0)
        held = remaining[np.ix_(inputs, outputs)] > 0
        inputs, outputs = inputs[held.any(axis=1)], outputs[held.any(axis=0)]  # drop idle nodes
        if inputs.size <= rows and outputs.size <= cols:
            pieces = [(inputs, outputs)]  # already fits: a candidate as it is
        elif min(inputs.size, outputs.size) < 2:
            continue  # a single row or column: nothing to cluster, its weights stay
        else:
            k_here = k or _auto_k(inputs.size, outputs.size, rows, cols)
            pieces = _split(remaining, inputs, outputs, k_here, seed, splits)
            splits += 1
            # Too large: split again, unless spectral clustering left it whole (no progress).
            pool += [
                (i, o)
                for i, o in pieces
                if (i.size > rows or o.size > cols) and (i.size, o.size) != (inputs.size, outputs.size)
            ]
        found += _keep(remaining, pieces, rows, cols, *thresholds)
    return found, splits


def _keep(remaining, pieces, rows, cols, base_util, min_util, decay) -> list[Cluster]:
    """The pieces that fit a crossbar and reach the threshold (Algorithm 2, lines 6-19); their
    weights leave ``remaining`` (in place)."""
    fits = [(i, o) for i, o in pieces if 0 < i.size <= rows and 0 < o.size <= cols]
    quality = [np.count_nonzero(remaining[np.ix_(i, o)]) / (rows * cols) for i, o in fits]
    best = max(quality, default=0.0)
    threshold = _threshold(best, base_util, min_util, decay) if best > 0 else None
    if threshold is None:
        return []  # nothing qualifies: the pieces return to the remaining matrix
    kept = []
    for (inputs, outputs), q in zip(fits, quality, strict=True):
        if q >= threshold:
            kept.append(Cluster(_frozen(inputs), _frozen(outputs), float(q)))
            remaining[np.ix_(inputs, outputs)] = 0.0
    return kept


# ---------------------------------------------------------------------------------------------
# Crossbars


@functools.partial(jax.jit, static_argnames=("rows", "cols"))
def _tiling(connectivity, rows: int, cols: int):
    """Occupied crossbars and non-zero entries of a matrix tiled on ``rows x cols`` crossbars
    (one compiled program per shape: eager, the counting compiles op by op)."""
    occupied = mapping.block_occupancy(connectivity, rows, cols, mode="exact")
    return jnp.sum(occupied).astype(jnp.int32), jnp.count_nonzero(connectivity)


def crossbar_count(connectivity, rows: int, cols: int):
    """Occupied crossbars: ``rows x cols`` blocks of the tiled matrix holding any non-zero.

    The count of :func:`hwjax.mapping.block_occupancy` (exact mode), a scalar int32 array; may
    be traced (the shape is static).

    Raises:
        ValueError: ``connectivity`` not 2-D, empty or (concrete) not finite; ``rows`` or
            ``cols`` not an int >= 1.
    """
    connectivity = _check_connectivity(connectivity, nonnegative=False)
    rows, cols = validate.check_static_int("rows", rows, 1), validate.check_static_int("cols", cols, 1)
    return _tiling(connectivity, rows, cols)[0]


def utilization(connectivity, rows: int, cols: int):
    """Non-zero cross-points / cross-points of the occupied crossbars (``rows * cols`` each).

    A scalar float array in ``[0, 1]``; 0 for an all-zero matrix (no crossbar is occupied).
    A crossbar larger than the matrix still counts its ``rows * cols`` cross-points.

    Raises:
        ValueError: as :func:`crossbar_count`.
    """
    connectivity = _check_connectivity(connectivity, nonnegative=False)
    rows, cols = validate.check_static_int("rows", rows, 1), validate.check_static_int("cols", cols, 1)
    crossbars, held = _tiling(connectivity, rows, cols)
    cells = crossbars.astype(jnp.result_type(float)) * (rows * cols)
    return jnp.where(crossbars > 0, held / jnp.where(crossbars > 0, cells, 1.0), 0.0)


def _aligned_order(groups: Sequence[np.ndarray], load: np.ndarray, block: int) -> np.ndarray:
    """A permutation of ``range(len(load))`` placing each group contiguously and, when it fits
    in a block, inside one block: the gap before it is filled with indices of no group, least
    loaded (fewest weights) first. An index in several groups is placed with the first."""
    in_group = np.zeros(load.size, dtype=bool)
    for group in groups:
        in_group[group] = True
    fillers = [int(i) for i in np.argsort(load, kind="stable") if not in_group[i]]
    placed = np.zeros(load.size, dtype=bool)
    order: list[int] = []
    for group in groups:
        members = [int(i) for i in group if not placed[i]]
        placed[members] = True
        offset = len(order) % block
        if members and len(members) <= block and offset + len(members) > block:
            gap = min(block - offset, len(fillers))
            order += fillers[:gap]
            fillers = fillers[gap:]
        order += members
    return np.array(order + fillers, dtype=np.int64)


def block_permutation(connectivity, clusters, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column orders that gather ``clusters`` into contiguous, crossbar-aligned blocks.

    Clusters are laid out along the diagonal in order; one that fits a crossbar starts a new
    ``rows x cols`` block if it would straddle two, the gap filled with inputs (outputs) of no
    cluster, emptiest first. ``connectivity[row_order][:, col_order]`` is the reordered
    matrix; count its crossbars with :func:`crossbar_count`. Overlapping clusters (an input in
    two, as later SCIC rounds may give) keep it with the first.

    Args:
        connectivity: ``(n_in, n_out)`` array (its shape, and its weights to pick fillers).
        clusters: :class:`Cluster` objects or ``(inputs, outputs)`` index pairs.
        rows, cols: the crossbar's size, ints >= 1.

    Returns:
        ``(row_order (n_in,), col_order (n_out,))``, permutations as int64 arrays.

    Raises:
        ValueError: ``connectivity`` not 2-D or empty; ``rows`` or ``cols`` not an int >= 1;
            a cluster index outside the matrix.
    """
    held = np.asarray(_check_connectivity(connectivity, nonnegative=False)) != 0
    rows, cols = validate.check_static_int("rows", rows, 1), validate.check_static_int("cols", cols, 1)
    pairs = [(cl.inputs, cl.outputs) if isinstance(cl, Cluster) else cl for cl in clusters]
    inputs = [_check_indices("inputs", i, held.shape[0]) for i, _ in pairs]
    outputs = [_check_indices("outputs", o, held.shape[1]) for _, o in pairs]
    return _aligned_order(inputs, held.sum(axis=1), rows), _aligned_order(outputs, held.sum(axis=0), cols)


def _check_indices(name: str, index, size: int) -> np.ndarray:
    """A cluster's ``inputs`` or ``outputs``: int indices in ``[0, size)``."""
    index = np.asarray(index).ravel()
    if index.size and not np.issubdtype(index.dtype, np.integer):
        raise ValueError(f"clusters: {name} must be integer indices; got dtype {index.dtype}")
    bad = index[(index < 0) | (index >= size)]
    if bad.size:
        raise ValueError(f"clusters: {name} index {bad[0]} is outside the allowed range [0, {size - 1}]")
    return index.astype(np.int64)
