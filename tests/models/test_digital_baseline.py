"""The weight-stationary digital baseline (``hwjax_models.digital``): PUMA's and PANTHER's
Base_digital, an optimistic TPU-like design.

Sources: ``reference/figures.md`` section 4 (Horowitz, 45 nm) for the MAC; the dissertation
(``seeds/ankit-dissertation-puma-trannsformer-panther-timon.txt``): Table 3.8's TPU column
(28 nm, 700 MHz, 16-bit, 23 TOPS at 16 bits, 45 W, at most 330 mm²), section 3.8.4's digital
MVMU estimate and section 5.6.3's description of Base_digital.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hwjax as hj
from hwjax import system
from hwjax import units as u
from hwjax import workloads as W
from hwjax_models import digital, workloads

DEFAULT = digital.Config()
MLP = W.Network("mlp", (W.Dense(1024, 1024, name="fc1"), W.Dense(1024, 10, activation=None, name="fc2")))
CONV = W.Network("conv", (W.Conv2d(64, 64, 3, (32, 32), name="conv"),))


def _horowitz_mac_at(tech: hj.Tech) -> float:
    """A 16-bit multiply and a 32-bit add (figures.md 4, 45 nm, 0.9 V), moved to ``tech``, J.

    The int16 multiply is not in the table: the w² law through int8 (0.2 pJ) and int32 (3.1 pJ)
    gives 0.8 and 0.775 pJ from either end; their mean, 0.79 pJ.
    """
    energy_45 = (0.5 * (0.2 * 4 + 3.1 / 4) + 0.1) * u.pJ
    return float(hj.scale_energy(energy_45, hj.Tech(45, 0.9), tech))


# --- Peak ----------------------------------------------------------------------------------------


def test_mac_array_energy_is_horowitz_scaled():
    # Every MAC busy for one cycle: 128 x 128 MACs of Horowitz's energy at 32 nm. 5%: the int16
    # multiply is interpolated (see _horowitz_mac_at) and the table prints one digit for int8.
    array = digital.core(DEFAULT)["mac_array"]
    assert float(array.energy) / (128 * 128) == pytest.approx(_horowitz_mac_at(DEFAULT.tech), rel=0.05)
    assert float(array.latency) == pytest.approx(1 * u.ns)


def test_peak_throughput_and_efficiencies_are_sane():
    peak = digital.peak(DEFAULT)
    assert float(peak.ops / peak.latency) / 1e12 == pytest.approx(2 * 128 * 128 * 1e9 / 1e12)
    # With stationary weights the dynamic energy per op is the MAC's half plus the activation and
    # accumulator traffic: between 1x and 3x the bare MAC (PUMA's Table 3.5-style peak).
    mac_per_op = _horowitz_mac_at(DEFAULT.tech) / 2
    dynamic_per_op = float(peak.energy / peak.ops)
    assert 1.0 < dynamic_per_op / mac_per_op < 3.0
    # Leakage of the 100 MB of SRAM counts too; still under 1 pJ/op at 32 nm, so above 1 TOPS/W
    # and below the bare MAC's 3.4 TOPS/W.
    assert 1.0 < float(hj.tops_per_watt(peak)) < 1e-12 / mac_per_op


def test_peak_excludes_weight_loads_that_chip_counts():
    peak, chip = digital.peak(DEFAULT), hj.total(digital.chip(DEFAULT))
    loads = float(digital.core(DEFAULT)["weight_buffer"].energy)
    assert float(chip.energy) - float(peak.energy) == pytest.approx(loads, rel=1e-5)
    assert float(chip.area) == pytest.approx(float(peak.area), rel=1e-6)


def test_tpu_like_configuration_against_table_3_8():
    # Table 3.8, TPU: 23 TOPS at 16 bits (92 at 8 bits / 4), 45 W (TDP), <= 330 mm², 0.51 TOPS/W.
    peak = digital.peak(digital.TPU_LIKE)
    chip = hj.total(digital.chip(digital.TPU_LIKE))
    assert float(peak.ops / peak.latency) / 1e12 == pytest.approx(23.0, rel=0.01)
    # The model holds the array and the on-chip buffers only (no DDR3 interfaces, PCIe, control,
    # weight FIFO refills from DRAM): power within a factor 5 under the TDP, area within a factor
    # 10 under the die bound, and the optimistic efficiency within a factor 5 above TPU's.
    assert 45.0 / 5 < float(chip.power) < 45.0
    assert 330.0 / 10 < float(chip.area) / u.mm2 < 330.0
    assert 0.51 < float(hj.tops_per_watt(peak)) < 5 * 0.51


# --- Inference -----------------------------------------------------------------------------------


def _layers(report) -> list:
    """The layer rows of an inference Report (without the last "idle" row)."""
    return [row for name, row in report.items() if name != "idle"]


def _traffic(report, name: str) -> float:
    return sum(float(layer["data_movement"][name].energy) for layer in _layers(report))


def _leakage(report) -> float:
    """Leakage energy, J: the layers' "leakage" rows and the "idle" row."""
    return sum(float(layer["leakage"].energy) for layer in _layers(report)) + float(report["idle"].energy)


def test_mlp_energy_is_dominated_by_weight_reads():
    # Batch 1: every weight is read from SRAM for a single use (the PUMA/PANTHER argument).
    report = digital.inference(DEFAULT, MLP)
    dynamic = float(hj.total(report).energy) - _leakage(report)  # leakage is charged as energy
    weights = _traffic(report, "weight_buffer")
    macs = sum(float(layer["mvm"].energy) for layer in _layers(report))
    assert weights > 0.7 * dynamic
    assert weights > 5 * macs


def test_mlp_energy_per_mac_near_pumas_digital_mvmu():
    # Dissertation 3.8.4: a digital MVMU would consume 4.17 x the 43.97 nJ of a memristive
    # 128 x 128 MVM (16,384 MACs), 11.2 pJ per MAC. Within a factor 3: that estimate is PUMA's
    # own digital MVMU (figures.md 1.10), not this SRAM and MAC-array model.
    report = hj.total(digital.inference(DEFAULT, MLP))
    per_mac = float(report.energy) / MLP.macs
    assert 11.2 * u.pJ / 3 < per_mac < 3 * 11.2 * u.pJ


def test_convolutions_reuse_their_weights():
    # A 3x3 convolution streams 1024 vectors through each loaded block: weight reads are a
    # small share, unlike the MLP.
    report = digital.inference(DEFAULT, CONV)
    assert _traffic(report, "weight_buffer") < 0.02 * float(hj.total(report).energy)


def test_batch_one_dense_latency_is_weight_load_bound():
    # 1024 x 1024 on one 128 x 128 array: 64 blocks, each waiting 128 cycles for its weights,
    # plus the first load and the array's fill and drain (2 x 128 + 128 cycles) at 1 GHz.
    layer = W.Network("fc", (W.Dense(1024, 1024, activation=None, name="fc"),))
    mvm = digital.inference(DEFAULT, layer)["fc", "mvm"]
    assert float(mvm.latency) == pytest.approx((64 * 128 + 3 * 128) * u.ns)
    # Four cores share the blocks: 16 rounds.
    four = digital.inference(digital.Config(cores_per_tile=4.0), layer)["fc", "mvm"]
    assert float(four.latency) == pytest.approx((16 * 128 + 3 * 128) * u.ns)


def test_inference_totals_are_the_whole_chip_sized_for_the_workload():
    report = digital.inference(DEFAULT, MLP)
    total = hj.total(report)
    assert float(total.ops) == pytest.approx(2 * MLP.macs)
    # Each layer carries its share of the area; together they are one chip holding 1.07 M
    # 16-bit weights (2 MB of weight SRAM), far smaller than the 72.4 MB default.
    assert float(total.area) < float(hj.total(digital.chip(DEFAULT)).area) / 5
    assert list(report) == ["fc1", "fc2", "idle"]
    assert set(report["fc1"]) == {"mvm", "vfu", "data_movement", "leakage"}


# --- Transforms and bad input --------------------------------------------------------------------


def test_knobs_are_differentiable_and_vmappable():
    def energy(knobs):
        return hj.total(digital.inference(digital.Config(**knobs), MLP)).total_energy

    knobs = {"mac_rows": 128.0, "mac_cols": 128.0, "clock_hz": 1e9, "weight_bits": 16.0, "vfu_width": 64.0}
    grads = jax.grad(energy)(knobs)
    assert all(np.isfinite(float(g)) for g in grads.values()), grads
    assert float(grads["weight_bits"]) > 0  # wider weights: more SRAM bits read
    sweep = jax.vmap(lambda bits: energy({**knobs, "weight_bits": bits}))(jnp.array([8.0, 16.0, 32.0]))
    assert np.all(np.diff(np.asarray(sweep)) > 0)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"mac_rows": 0.0}, "mac_rows"),
        ({"mac_cols": 4096.0}, "mac_cols"),
        ({"clock_hz": -1.0}, "clock_hz"),
        ({"weight_bits": 2.0}, "weight_bits"),
        ({"sram_bank_bytes": 10.0}, "sram_bank_bytes"),
        ({"tech": 32}, "tech"),
    ],
)
def test_bad_config_raises(kwargs, name):
    with pytest.raises(ValueError, match=name):
        digital.Config(**kwargs)


def test_bad_mode_raises():
    with pytest.raises(ValueError, match="mode"):
        digital.peak(DEFAULT, mode="fuzzy")
    with pytest.raises(ValueError, match="mode"):
        digital.inference(DEFAULT, MLP, mode="fuzzy")


# --- The runtime: a Report that adds up, batches, per-layer knobs --------------------------------


def _close(actual, expected, rtol=1e-5):
    """Two pytrees of the same structure, leaf by leaf."""
    jax.tree_util.tree_map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-30), actual, expected
    )


def test_leakage_is_the_sized_chip_over_the_whole_inference():
    # The chip is powered for the whole inference: the leakage rows and the idle row together are
    # the leakage power of the chip sized for MLP (1,058,816 16-bit weights; the largest layer's
    # 1024 + 1024 activations; 1024 32-bit sums) times the inference latency.
    report = digital.inference(DEFAULT, MLP)
    sized = digital.Config(
        weight_buffer_bytes=1058816 * 2.0, activation_buffer_bytes=2048 * 2.0, accumulator_bytes=1024 * 4.0
    )
    chip = digital.chip(sized)
    latency = float(hj.total(report).latency)
    assert _leakage(report) == pytest.approx(float(hj.total(chip).leakage) * latency, rel=1e-5)
    # What waits is the weights of the layer that is not running: fc1's 1,048,576 while fc2 runs,
    # fc2's 10,240 while fc1 runs.
    weights = float(chip["node", "tile", "core", "weight_buffer"].leakage)
    fc1, fc2 = (float(hj.total(report[name]).latency) for name in ("fc1", "fc2"))
    waiting = weights * (1048576 * fc2 + 10240 * fc1) / 1058816
    assert float(report["idle"].energy) == pytest.approx(waiting, rel=1e-4)


def test_totals_are_those_of_the_model_before_the_runtime():
    # mlp_l4 on the default chip, as the model computed it before it moved onto hwjax.system
    # (leakage then in W on every row): the convention moves leakage into energy rows only.
    total = hj.total(digital.inference(DEFAULT, workloads.get("mlp_l4")))
    assert float(total.total_energy) == pytest.approx(1.1198240e-4, rel=1e-5)
    assert float(total.latency) == pytest.approx(4.3551998e-5, rel=1e-6)
    assert float(total.area) == pytest.approx(2.7897373e-5, rel=1e-6)


def test_half_occupancy_halves_the_mac_and_weight_energy():
    dense = digital.inference(DEFAULT, MLP)
    half = digital.inference(DEFAULT, MLP, layers=system.LayerKnobs(occupancy=jnp.full(2, 0.5)))

    def macs(report):
        return sum(float(layer["mvm"].energy) for layer in _layers(report))

    # Half the blocks are empty: half the MACs are done, half the weights stored and read (from
    # a weight SRAM half the size, whose reads are a little cheaper).
    assert macs(half) == pytest.approx(0.5 * macs(dense), rel=1e-5)
    ratio = _traffic(half, "weight_buffer") / _traffic(dense, "weight_buffer")
    assert 0.4 < ratio <= 0.5 + 1e-6
    assert float(hj.total(half).total_energy) < 0.6 * float(hj.total(dense).total_energy)
    assert float(hj.total(half).ops) == float(hj.total(dense).ops)  # the workload's ops
    # Nothing stored: no weight reads and no MACs; the outputs are still written.
    empty = digital.inference(DEFAULT, MLP, layers=system.LayerKnobs(occupancy=jnp.zeros(2)))
    assert macs(empty) == 0.0 and _traffic(empty, "weight_buffer") == 0.0
    assert _traffic(empty, "accumulator") > 0.0


def test_per_layer_knobs_at_the_configs_values_change_nothing():
    knobs = system.LayerKnobs(
        weight_bits=jnp.full(2, 16.0),
        input_bits=jnp.full(2, 16.0),
        replication=jnp.ones(2),
        occupancy=jnp.ones(2),
    )
    _close(digital.inference(DEFAULT, MLP, layers=knobs), digital.inference(DEFAULT, MLP))
    # Every layer at 8 bits is the 8-bit chip (built for its widest layer).
    eight = system.LayerKnobs(weight_bits=jnp.full(2, 8.0), input_bits=jnp.full(2, 8.0))
    config = digital.Config(weight_bits=8.0, input_bits=8.0)
    _close(digital.inference(DEFAULT, MLP, layers=eight), digital.inference(config, MLP))


def test_a_narrower_layer_costs_less_on_the_shared_chip():
    wide = digital.inference(DEFAULT, MLP)
    narrow = digital.inference(DEFAULT, MLP, layers=system.LayerKnobs(weight_bits=jnp.array([16.0, 8.0])))
    assert float(narrow["fc2", "mvm"].energy) < float(wide["fc2", "mvm"].energy)
    assert float(narrow["fc2", "data_movement", "weight_buffer"].energy) < 0.6 * float(
        wide["fc2", "data_movement", "weight_buffer"].energy
    )
    assert float(narrow["fc1", "mvm"].energy) == pytest.approx(float(wide["fc1", "mvm"].energy), rel=1e-6)
    assert float(hj.total(narrow).area) < float(hj.total(wide).area)  # fewer weight bits stored


def test_replication_splits_the_vectors_over_the_cores():
    # 576 x 64 on 128 x 128 arrays: 5 blocks of 1024 vectors. On 4 cores, 2 rounds of 1024
    # cycles; 4 copies: 20 blocks of 256 vectors, 5 rounds of 256 cycles (plus the first load and
    # the fill and drain, 3 x 128 cycles). The copies are stored and loaded too.
    config = digital.Config(cores_per_tile=4.0)
    one = digital.inference(config, CONV)
    four = digital.inference(config, CONV, layers=system.LayerKnobs(replication=jnp.array([4.0])))
    assert float(one["conv", "mvm"].latency) == pytest.approx((2 * 1024 + 3 * 128) * u.ns)
    assert float(four["conv", "mvm"].latency) == pytest.approx((5 * 256 + 3 * 128) * u.ns)
    assert float(four["conv", "mvm"].energy) == pytest.approx(float(one["conv", "mvm"].energy), rel=1e-6)
    weights = lambda r: float(r["conv", "data_movement", "weight_buffer"].energy)  # noqa: E731
    assert weights(four) > 3 * weights(one)


@pytest.mark.parametrize(
    "knobs,name",
    [
        (system.LayerKnobs(adc_bits=jnp.full(2, 8.0)), "adc_bits"),
        (system.LayerKnobs(weight_bits=jnp.full(3, 8.0)), "weight_bits"),
        (system.LayerKnobs(weight_bits=jnp.array([16.0, 2.0])), "weight_bits"),
        (system.LayerKnobs(input_bits=jnp.array([16.0, 64.0])), "input_bits"),
    ],
)
def test_bad_layer_knobs_raise(knobs, name):
    with pytest.raises(ValueError, match=name):
        digital.inference(DEFAULT, MLP, layers=knobs)
