"""The accelerator runtime (hwjax.system) and the models on it: layer table, packing, the one
pipelining rule, per-layer knobs, block occupancy, batches and a live NNX model.

Tolerances: counts and sums of the same float32 terms are compared at 1e-6 relative (round-off
of a few additions); the occupancy target is the issue's 5% (block-level bookkeeping such as
partial sums and shared-memory rows does not halve exactly).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import hwjax as hj
from hwjax import system
from hwjax import workloads as W
from hwjax_models import isaac, puma
from hwjax_models import workloads as catalog

MLP = W.Network("mlp", (W.Dense(256, 128, name="fc1"), W.Dense(128, 10, activation=None, name="fc2")))
CNN = W.Network(
    "cnn",
    (
        W.Conv2d(3, 16, 3, (16, 16), name="conv1"),
        W.Pool2d(16, (16, 16), 2, name="pool"),
        W.Conv2d(16, 32, 3, (8, 8), name="conv2"),
        W.Dense(32 * 8 * 8, 10, activation=None, name="fc"),
    ),
)
MODELS = {"puma": puma, "isaac": isaac}


# --- layer table, placement, pipelining --------------------------------------------------------


def test_layer_table_gathers_the_network_once():
    table = system.layer_table(CNN)
    assert table is system.layer_table(CNN)  # cached per network
    assert table.names == ("conv1", "pool", "conv2", "fc")
    np.testing.assert_array_equal(table.has_ops, [True, False, True, True])
    np.testing.assert_array_equal(table.rows[:, 0], [27, 1, 144, 2048])
    np.testing.assert_array_equal(table.layer_vectors, [256, 1, 64, 1])
    np.testing.assert_array_equal(table.macs, [layer.macs for layer in CNN])
    # The pool runs on conv1's hardware: from_source hands it conv1's value.
    np.testing.assert_array_equal(table.from_source(jnp.array([5.0, 6.0, 7.0, 8.0])), [5, 5, 7, 8])
    assert table.elements("max")[1] == sum(op.elements for op in CNN[1].vector_ops() if op.kind == "max")


def test_bad_workloads_raise():
    with pytest.raises(ValueError, match="workload"):
        system.layer_table((W.Dense(4, 4),))


def test_layers_pack_into_shared_cores_and_tiles():
    placed = system.place(jnp.array([1.0, 1.0, 3.0]), 2.0, 2.0, 8.0, "exact")
    np.testing.assert_allclose(placed.cores, [0.5, 0.5, 1.5])
    np.testing.assert_allclose(placed.cores_used, [1, 1, 2])
    assert float(placed.cores_allocated) == 3.0  # 5 arrays in cores of 2, not 1 + 1 + 2
    assert float(placed.tiles_allocated) == 2.0
    assert float(jnp.sum(placed.tiles)) == pytest.approx(1.25)


def test_pipeline_total_is_the_fill_plus_the_slowest_drain():
    first, duration = jnp.array([1.0, 2.0, 1.0]), jnp.array([5.0, 3.0, 1.0])
    charged = system.pipeline(first, duration, "exact")
    assert float(jnp.sum(charged)) == pytest.approx(1 + 2 + 1 + 4)
    # The tail is shared in proportion to each layer's own tail (4 and 1 of 5).
    np.testing.assert_allclose(charged, [1 + 4 * 4 / 5, 2 + 4 / 5, 1.0], rtol=1e-6)


# --- per-layer knobs ---------------------------------------------------------------------------


def _adc_report(bits_layer_3, pipelining=False):
    vgg = catalog.get("vgg16")
    bits = jnp.full(len(vgg), 8.0).at[3].set(bits_layer_3)
    config = puma.Config(pipelining=pipelining)
    return vgg, puma.inference(config, vgg, layers=system.LayerKnobs(adc_bits=bits))


def test_fewer_adc_bits_on_one_vgg16_layer_change_only_that_layer():
    vgg, base = _adc_report(8.0)
    _, fewer = _adc_report(6.0)
    names = [layer.name for layer in vgg]
    for j, name in enumerate(names):
        for field in ("total_energy", "latency"):
            a, b = (float(getattr(hj.total(r[name]), field)) for r in (base, fewer))
            if j == 3:
                assert b < a, (name, field)
            else:
                assert b == pytest.approx(a, rel=1e-6), (name, field)
    # PUMA's 8-bit ADC bounds the stage (128 conversions of 1 ns > the 100 ns crossbar read); at
    # 6 bits the crossbar bounds it: the layer's MVMs take 100/128 of the time.
    mvm = [float(r[names[3]]["mvm"].latency) for r in (base, fewer)]
    assert mvm[1] / mvm[0] == pytest.approx(100 / 128, rel=1e-3)
    assert float(hj.total(fewer).latency) < float(hj.total(base).latency)


@pytest.mark.parametrize("name", MODELS)
def test_gradients_in_every_per_layer_knob_are_finite(name):
    model = MODELS[name]
    n = len(CNN)

    def energy(knobs):
        layers = system.LayerKnobs(**knobs)
        return hj.total(model.inference(model.Config(), CNN, "ste", layers=layers)).total_energy

    knobs = {
        "weight_bits": jnp.full(n, 16.0),
        "bits_per_cell": jnp.full(n, 2.0),
        "input_bits": jnp.full(n, 16.0),
        "adc_bits": jnp.full(n, 8.0),
        "replication": jnp.full(n, 2.0),
        "occupancy": jnp.full(n, 0.75),
    }
    grads = jax.grad(energy)(knobs)
    for knob, grad in grads.items():
        assert np.all(np.isfinite(np.asarray(grad))), knob
    assert float(jnp.sum(grads["adc_bits"])) > 0
    assert float(jnp.sum(grads["occupancy"])) > 0


def test_slice_patterns_per_layer():
    pattern = jnp.array([[4.0, 4.0, 4.0, 4.0], [6.0, 6.0, 4.0, 0.0]])  # 4 slices, then 3
    report = puma.inference(puma.Config(), MLP, layers=system.LayerKnobs(slice_bits=pattern))
    homogeneous = puma.inference(puma.Config(), MLP)
    # fc2's three slices are 3 crossbars instead of 8 of 2 bits: cheaper and smaller.
    assert float(report["fc2"]["mvm"].energy) < float(homogeneous["fc2"]["mvm"].energy)
    assert float(hj.total(report).area) <= float(hj.total(homogeneous).area)


def test_bad_per_layer_knobs_raise():
    with pytest.raises(ValueError, match=r"layers.adc_bits has shape \(3,\).*\(2,\)"):
        puma.inference(puma.Config(), MLP, layers=system.LayerKnobs(adc_bits=jnp.full(3, 8.0)))
    with pytest.raises(ValueError, match="occupancy"):
        system.LayerKnobs(occupancy=jnp.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="replication"):
        system.LayerKnobs(replication=jnp.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="layers must be"):
        puma.inference(puma.Config(), MLP, layers={"adc_bits": 8.0})


# --- occupancy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_half_empty_blocks_cost_half_the_arrays(name):
    model = MODELS[name]
    vgg = catalog.get("vgg16")
    dense = model.inference(model.Config(), vgg)
    half = model.inference(model.Config(), vgg, layers=system.LayerKnobs(occupancy=jnp.full(len(vgg), 0.5)))
    mvm = [sum(float(r[layer.name]["mvm"].energy) for layer in vgg) for r in (dense, half)]
    area = [float(hj.total(r).area) for r in (dense, half)]
    assert mvm[1] / mvm[0] == pytest.approx(0.5, rel=0.05)
    assert area[1] / area[0] == pytest.approx(0.5, rel=0.05)


class _MLP(nnx.Module):
    def __init__(self, rngs):
        self.fc1 = nnx.Linear(64, 256, rngs=rngs)
        self.fc2 = nnx.Linear(256, 256, rngs=rngs)
        self.fc3 = nnx.Linear(256, 10, rngs=rngs)

    def __call__(self, x):
        return self.fc3(nnx.relu(self.fc2(nnx.relu(self.fc1(x)))))


def test_a_live_nnx_model_is_costed_with_its_weights():
    model = _MLP(nnx.Rngs(0))
    x = jnp.ones((1, 64))
    config = puma.Config()
    live = hj.total(system.cost_flax(puma.inference, config, model, x, rows=128, cols=128))
    shapes = hj.total(puma.inference(config, W.from_flax(model, x)))
    for field in ("total_energy", "latency", "area"):
        assert float(getattr(live, field)) == pytest.approx(float(getattr(shapes, field)), rel=1e-6)
    # Empty the off-diagonal 128 x 128 blocks of fc2: 2 of its 4 blocks hold weights.
    kernel = model.fc2.kernel[...]
    model.fc2.kernel[...] = kernel.at[:128, 128:].set(0.0).at[128:, :128].set(0.0)
    pruned = system.cost_flax(puma.inference, config, model, x, rows=128, cols=128)
    dense = puma.inference(config, W.from_flax(model, x))
    names = list(W.from_flax(model, x))
    fc2 = names[1].name
    assert float(pruned[fc2]["mvm"].energy) == pytest.approx(0.5 * float(dense[fc2]["mvm"].energy), rel=1e-6)


# --- batches -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("n", [2, 3])  # 2: as many designs as MLP has layers
def test_config_arrays_give_a_batch_equal_to_separate_calls(name, n):
    model = MODELS[name]
    network = MLP if n == 2 else CNN
    bits = jnp.linspace(6.0, 10.0, n)
    batch = hj.total(model.inference(model.Config(adc_bits=bits), network))
    assert batch.total_energy.shape == (n,)
    for i in range(n):
        one = hj.total(model.inference(model.Config(adc_bits=float(bits[i])), network))
        for field in ("total_energy", "latency", "area"):
            assert float(getattr(batch, field)[i]) == pytest.approx(float(getattr(one, field)), rel=1e-5)
