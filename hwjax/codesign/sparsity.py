"""Crossbar-granular sparsity learned by gradient descent: a cost-weighted group lasso.

A weight matrix ``(K, N)`` mapped onto ``R x C`` crossbars saves hardware only where a whole
block is empty (:func:`hwjax.mapping.block_occupancy`): an empty block is neither programmed,
read, converted nor allocated. Rather than clustering weights into blocks after training
(:mod:`hwjax.codesign.clustering`), training can drive whole blocks to zero with a group lasso
whose groups are the crossbar blocks and whose weight per block is what emptying it saves:

1. :func:`marginal_block_costs`: per layer (of :func:`layer_blocks` blocks), the energy (J)
   and area (m²) one occupied block costs on an accelerator, ``d cost / d occupancy / blocks``
   by ``jax.grad`` through the accelerator's model at the current occupancy (``"ste"`` or
   ``"smooth"`` counts);
2. :func:`block_weights`: those costs as fractions of the design's total energy and area,
   combined, so ``sum(weight * [block occupied])`` is (to first order) the fraction of the
   design's cost held by the occupied blocks;
3. :func:`group_lasso_penalty`: ``sum(weight * ||block||_F)``, the group lasso, the indicator
   of an occupied block replaced by its norm (convex, so plain gradient descent can follow it);
4. :func:`prox_group_lasso`: the penalty's proximal step (group soft-thresholding) after each
   optimizer step, which sets the blocks it shrinks past zero to exactly 0 (a subgradient step
   only oscillates around 0, so the block would stay occupied).

Nothing here knows an accelerator: ``inference`` is an argument (``hwjax_models.puma.inference``
for PUMA), with ``rows x cols`` its crossbar size.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import cost, system, validate
from hwjax._pytree import pytree_dataclass

#: Modes with a gradient (``"exact"`` counts have none).
_MODES = ("ste", "smooth")


# ---------------------------------------------------------------------------------------------
# Argument checks


def _check_matrix(name: str, weights) -> jax.Array:
    """``weights`` as a floating ``(K, N)`` array, K, N >= 1; concrete NaN or inf raise."""
    shape = jnp.shape(weights)
    if len(shape) != 2 or 0 in shape:
        raise ValueError(
            f"{name} must be a 2-D (K, N) array with K, N in the range [1, inf); got shape {shape}"
        )
    if not validate.is_traced(weights) and not np.isfinite(np.asarray(weights, dtype=float)).all():
        raise ValueError(f"{name} must be finite (it holds NaN or inf)")
    return jnp.asarray(weights, dtype=jnp.result_type(float, weights))


def _grid(weights, rows: int, cols: int) -> tuple[int, int]:
    """Blocks along each side, ``(ceil(K / R), ceil(N / C))``."""
    k, n = jnp.shape(weights)
    return -(-k // rows), -(-n // cols)


def _blocks(weights, rows: int, cols: int):
    """``(K, N)`` zero-padded to whole blocks, as ``(Kb, R, Nb, C)``."""
    (k, n), (kb, nb) = jnp.shape(weights), _grid(weights, rows, cols)
    padded = jnp.pad(weights, ((0, kb * rows - k), (0, nb * cols - n)))
    return padded.reshape(kb, rows, nb, cols)


def _per_block(name: str, value, grid: tuple[int, int]):
    """A non-negative scalar or array broadcast to the block grid ``(Kb, Nb)``."""
    value = validate.check_nonnegative(name, value)
    try:
        return jnp.broadcast_to(value, grid)
    except ValueError:
        raise ValueError(
            f"{name} has shape {jnp.shape(value)}; it must broadcast to the block grid {grid}"
        ) from None


# ---------------------------------------------------------------------------------------------
# Blocks


def block_norms(weights, rows: int, cols: int):
    """Frobenius norm of every ``rows x cols`` crossbar block of ``weights``: ``(Kb, Nb)``.

    ``weights`` ``(K, N)`` (K inputs, N outputs, a Flax kernel's layout) is zero-padded to
    ``Kb = ceil(K / rows)`` by ``Nb = ceil(N / cols)`` blocks, as
    :func:`hwjax.mapping.block_occupancy` tiles it. In units of the weights. The norm is safe:
    its gradient at an all-zero block is 0 (a subgradient) instead of NaN.

    Raises:
        ValueError: ``weights`` not a finite 2-D non-empty array; ``rows``, ``cols`` not ints >= 1.
    """
    rows, cols = validate.check_static_int("rows", rows, 1), validate.check_static_int("cols", cols, 1)
    squares = jnp.sum(_blocks(_check_matrix("weights", weights), rows, cols) ** 2, axis=(1, 3))
    held = squares > 0
    return jnp.where(held, jnp.sqrt(jnp.where(held, squares, 1.0)), 0.0)


def layer_blocks(network, rows: int, cols: int) -> np.ndarray:
    """Crossbar blocks of each layer ``(L,)``: ``ceil(K / rows) ceil(N / cols)`` summed over its
    matrices (the denominator of :func:`hwjax.mapping.network_occupancy`); 0 for a layer
    without matrices."""
    rows, cols = validate.check_static_int("rows", rows, 1), validate.check_static_int("cols", cols, 1)
    return np.array(
        [sum(-(-op.rows // rows) * -(-op.cols // cols) for op in layer.matrix_ops()) for layer in network],
        dtype=float,
    )


# ---------------------------------------------------------------------------------------------
# Marginal costs


@pytree_dataclass
class BlockCosts:
    """What one occupied crossbar block costs, per layer, at one occupancy (a pytree).

    Attributes:
        energy: ``(L,)`` J per inference that one more occupied block of the layer adds (its
            MVMs, conversions, input loads and leakage as the accelerator model charges them).
        area: ``(L,)`` m² that one more occupied block adds (its share of arrays, cores, tiles).
        blocks: ``(L,)`` crossbar blocks of each layer (0: no matrices, marginal costs 0).
        total_energy: J per inference of the design at this occupancy.
        total_area: m² of the design at this occupancy.
    """

    energy: Any
    area: Any
    blocks: Any
    total_energy: Any
    total_area: Any


@functools.partial(jax.jit, static_argnums=(0, 2, 3))
def _cost_and_gradients(inference, config, network, mode: str, occupancy):
    """Total (energy J, area m²) and their gradients in the per-layer occupancy ``(L,)``."""

    def totals(occ):
        report = inference(config, network, mode, layers=system.LayerKnobs(occupancy=occ))
        whole = cost.total(report)
        return jnp.stack([whole.total_energy, whole.area])

    values, pullback = jax.vjp(totals, occupancy)
    (d_energy,) = pullback(jnp.array([1.0, 0.0], values.dtype))
    (d_area,) = pullback(jnp.array([0.0, 1.0], values.dtype))
    return values, d_energy, d_area


def marginal_block_costs(
    inference, config, network, rows: int, cols: int, occupancy=None, mode: str = "ste"
) -> BlockCosts:
    """The energy and area of one occupied crossbar block of each layer, by ``jax.grad``.

    Occupancy (:class:`hwjax.system.LayerKnobs`) is the fraction ``o_l`` of layer ``l``'s
    ``B_l`` blocks that hold a weight, so one block is ``1 / B_l`` of it and its marginal cost
    is ``(d cost / d o_l) / B_l``: energy in J per inference per block, area in m² per block.
    The derivative is taken through the accelerator model at ``occupancy``: in ``"ste"`` mode
    the counts are exact and the derivative that of their smooth relaxation; in ``"smooth"``
    mode both are relaxed. Either way it is a first-order estimate; a layer whose
    block adds a core or tile at a rounding edge costs more in steps than in slope.

    Args:
        inference: an accelerator's ``inference(config, network, mode, layers=LayerKnobs)``
            returning a Report (e.g. ``hwjax_models.puma.inference``).
        config: its Config (one design: scalar leaves).
        network: a :class:`hwjax.workloads.Network` (e.g. from
            :func:`hwjax.workloads.occupancy_from_flax`).
        rows, cols: the accelerator's crossbar size, ints >= 1 (PUMA: ``mvmu_dim``).
        occupancy: ``(L,)`` in [0, 1]; ``None`` for the dense design (all ones).
        mode: ``"ste"`` (default) or ``"smooth"`` (``"exact"`` counts have no gradient).

    Returns:
        :class:`BlockCosts` (its totals at the evaluated occupancy).

    Raises:
        ValueError: a bad ``mode``, ``rows`` or ``cols``; ``occupancy`` outside [0, 1] or not of
            shape ``(L,)``; the accelerator's own errors.
    """
    validate.check_choice("mode", mode, _MODES)
    blocks = layer_blocks(network, rows, cols)
    if occupancy is None:
        occupancy = np.ones(len(blocks))
    occupancy = jnp.asarray(validate.check_range("occupancy", occupancy, 0.0, 1.0), float)
    if jnp.shape(occupancy) != blocks.shape:
        raise ValueError(
            f"occupancy has shape {jnp.shape(occupancy)}; it must be {blocks.shape} (one per layer)"
        )
    values, d_energy, d_area = _cost_and_gradients(inference, config, network, mode, occupancy)
    per_block = np.where(blocks > 0, 1.0 / np.maximum(blocks, 1.0), 0.0)
    return BlockCosts(d_energy * per_block, d_area * per_block, jnp.asarray(blocks), values[0], values[1])


def block_weights(costs: BlockCosts, energy_weight=0.5, area_weight=0.5):
    """Group-lasso weight of one block of each layer ``(L,)``: its share of the design's cost.

    ``energy_weight * energy / total_energy + area_weight * area / total_area``: with the
    defaults, the mean of the fractions of the total energy and area that emptying one block
    saves (dimensionless), so ``sum over occupied blocks`` is, to first order, the fraction of
    the design's cost they hold. Pass the :class:`BlockCosts` of the dense design to normalize
    by the dense totals.

    Raises:
        ValueError: ``energy_weight`` or ``area_weight`` negative, or both 0.
    """
    energy_weight = validate.check_nonnegative("energy_weight", energy_weight)
    area_weight = validate.check_nonnegative("area_weight", area_weight)
    if not validate.is_traced((energy_weight, area_weight)) and energy_weight + area_weight == 0:
        raise ValueError("energy_weight + area_weight must be in the range (0, inf); both are 0")
    return energy_weight * costs.energy / costs.total_energy + area_weight * costs.area / costs.total_area


# ---------------------------------------------------------------------------------------------
# The penalty and its proximal step


def group_lasso_penalty(weights_per_layer: Sequence, block_weights_per_layer: Sequence, rows: int, cols: int):
    """The crossbar-block group lasso ``sum_l sum_b w_lb ||W_l[b]||_F``, a scalar.

    Units: the block weights' times the weights'. With :func:`block_weights` (fractions of the
    design's cost per block) it is "fractions of total cost" weighted by block norms: the
    convex surrogate of the cost fraction held by the occupied blocks, the indicator of an
    occupied block replaced by its norm. Its gradient is finite everywhere (0 on an all-zero
    block, :func:`block_norms`); pair it with :func:`prox_group_lasso` to reach exact zeros.

    Args:
        weights_per_layer: one ``(K, N)`` matrix per layer (layers without matrices omitted).
        block_weights_per_layer: one per matrix, >= 0: a scalar (e.g. ``block_weights(...)[l]``)
            or an array that broadcasts to its ``(Kb, Nb)`` block grid.
        rows, cols: the crossbar size, ints >= 1.

    Raises:
        ValueError: the sequences differ in length or are empty, a negative block weight or one
            that does not broadcast to its grid, and :func:`block_norms`' errors.
    """
    matrices, weights = tuple(weights_per_layer), tuple(block_weights_per_layer)
    if not matrices or len(matrices) != len(weights):
        raise ValueError(
            f"weights_per_layer ({len(matrices)} matrices) and block_weights_per_layer "
            f"({len(weights)}) must have the same length, in the range [1, inf)"
        )
    total = 0.0
    for matrix, weight in zip(matrices, weights, strict=True):
        norms = block_norms(matrix, rows, cols)
        total = total + jnp.sum(_per_block("block_weights_per_layer", weight, norms.shape) * norms)
    return jnp.asarray(total)


def prox_group_lasso(weights, thresholds, rows: int, cols: int):
    """Group soft-thresholding of crossbar blocks, the proximal step of the group lasso: ``(K, N)``.

    Each block ``B`` becomes ``B max(0, 1 - t / ||B||_F)``: a block of norm at most its
    threshold ``t`` is set to exactly 0 (its crossbar freed), any other keeps its direction
    and loses exactly ``t`` of its norm. After an optimizer step of step size ``eta`` on the
    loss without the penalty, ``prox(W, eta * lam * w)`` completes a proximal-gradient step on
    ``loss + lam * group_lasso_penalty`` (exact for SGD; with Adam, whose step is not
    ``eta * grad``, a common heuristic).

    Args:
        weights: ``(K, N)`` matrix.
        thresholds: >= 0, in units of the weights: a scalar or an array that broadcasts to
            the ``(Kb, Nb)`` block grid.
        rows, cols: the crossbar size, ints >= 1.

    Raises:
        ValueError: a negative threshold or one that does not broadcast to the grid, and
            :func:`block_norms`' errors.
    """
    norms = block_norms(weights, rows, cols)
    t = _per_block("thresholds", thresholds, norms.shape)
    scale = jnp.where(norms > t, 1.0 - t / jnp.where(norms > 0, norms, 1.0), 0.0)
    w = _check_matrix("weights", weights)
    shrunk = _blocks(w, rows, cols) * scale[:, None, :, None].astype(w.dtype)
    k, n = w.shape
    return shrunk.reshape(norms.shape[0] * rows, norms.shape[1] * cols)[:k, :n]
