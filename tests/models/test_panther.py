"""PANTHER (dissertation chapter 5) built from hwjax components, against the dissertation's text.

Source: seeds/ankit-dissertation-puma-trannsformer-panther-timon.txt, sections 5.6.3 and
5.7.3-5.7.6 (the chapter prints the per-operation energies in its text; its figures 5.11-5.14
are bar charts whose values are not in the seed, so only the ranges the text quotes are used).

Tolerances (the issue's):
* 20% for the per-MCU operation energies (OPA 11.37 nJ, ReRAM MVM 35.10 nJ, CMOS OPA 37.28 nJ)
  and for the MVM energy ratio of 44466555 over 16 x 2-bit slicing (1.175).
* A factor 1.5 for the layer-wise reductions of sections 5.7.3-5.7.4: every layer's reduction
  must fall inside the published range widened by 1.5 at both ends.
* Fig. 5.14 (no values in the seed): a crossover, tested as a sign change with a margin.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest

import hwjax as hj
from hwjax import system, workloads
from hwjax import units as u
from hwjax_models import panther
from hwjax_models import workloads as catalog

RTOL = 0.20
FACTOR = 1.5
CONFIG = panther.Config()
BASE = panther.base_config(CONFIG)
MLP = catalog.get("panther_mlp_l4")
VGG = catalog.get("panther_vgg16_cifar100")
FC_LAYERS = {
    "panther_mlp_l4": ("dense1", "dense2", "dense3", "dense4"),
    "panther_vgg16_cifar100": ("dense14", "dense15", "dense16"),
}
CONV_LAYERS = tuple(f"conv{i}" for i in range(1, 14))


def _close(ours, published, rtol=RTOL):
    assert abs(float(ours) / published - 1.0) <= rtol, f"ours {float(ours):.4g} vs published {published:.4g}"


def _within_factor(values, low, high, factor=FACTOR):
    values = np.asarray([float(v) for v in values])
    assert np.all(values >= low / factor) and np.all(values <= high * factor), (values, low, high)


def _layer_rows(report):
    """The layers' rows of a Report (without the last row, ``idle``: allocated hardware)."""
    assert list(report)[-1] == "idle"
    return {name: item for name, item in report.items() if name != "idle"}


def _layer_energies(report):
    return {name: float(hj.total(item).energy) for name, item in report.items()}


def _reductions(baseline, ours, names):
    b, p = _layer_energies(baseline), _layer_energies(ours)
    return [b[name] / p[name] for name in names]


# --- Per-operation energies (section 5.7.3) ---------------------------------------------------


def test_opa_energy_section_5_7_3():
    """Section 5.7.3: "PANTHER avoids these reads and writes by performing OPA in the crossbar (11.37 nJ)."""
    _close(panther.mcu_opa(CONFIG).energy / u.nJ, 11.37)
    # 16 row bits of one update pulse each (section 5.3.1: m = 1): 256 ns, the simulator's OPA.
    assert float(panther.mcu_opa(CONFIG).latency) == pytest.approx(256 * u.ns, rel=1e-5)


def test_reram_mvm_energy_section_5_7_3():
    """Section 5.7.3: "ReRAM MVMs and CMOS OPAs have comparable energy (35.10 nJ and 37.28 nJ)": the ReRAM MVM
    of Base_opa/mvm (16 slices of 2 bits) and of PANTHER both within 20%."""
    _close(panther.mcu_mvm(BASE).energy / u.nJ, 35.10)
    _close(panther.mcu_mvm(CONFIG).energy / u.nJ, 35.10)
    assert float(panther.mcu_mvm(CONFIG).latency) == pytest.approx(2304 * u.ns, rel=1e-5)


def test_cmos_opa_energy_section_5_7_3():
    """CMOS OPA of one MCU (dim² 32-bit MACs): 37.28 nJ."""
    _close(panther.cmos_opa(CONFIG).energy / u.nJ, 37.28)


def test_mvm_energy_of_44466555_section_5_6_3():
    """Section 5.6.3: "PANTHER consumes 17.5% higher energy for MVM/MᵀVM than Base_mvm ... due to higher ADC
    precision." Ours: +7%, ratio within 20% of 1.175 and above 1 (the claim's direction)."""
    for op in (panther.mcu_mvm, panther.mcu_mtvm):
        ratio = op(CONFIG).energy / op(BASE).energy
        _close(ratio, 1.175)
        assert float(ratio) > 1.0
    # The extra energy is the ADCs' (higher precision), while the arrays' halves (8 vs 16 slices).
    ours, base = panther.mcu_parts(CONFIG, "mvm"), panther.mcu_parts(BASE, "mvm")
    assert float(hj.total(ours["adcs"]).energy) > float(hj.total(base["adcs"]).energy)
    assert float(hj.total(ours["crossbars"]).energy) == pytest.approx(
        0.5 * float(hj.total(base["crossbars"]).energy), rel=1e-5
    )


def test_newton_skips_conversions_below_the_output():
    """Section 5.6.1 (Newton's ADC optimization): the LSB slice's conversions never reach the
    16-bit output, the MSB slices' always do; without it every conversion is made."""
    needed = np.asarray(panther.needed_conversions(CONFIG))
    assert needed[0] == 0.0 and needed[-1] == 16.0 and np.all(np.diff(needed) >= 0)
    plain = dataclasses.replace(CONFIG, newton_adc=False)
    assert np.all(np.asarray(panther.needed_conversions(plain)) == 16.0)
    assert float(panther.mcu_mvm(plain).energy) > float(panther.mcu_mvm(CONFIG).energy)


# --- SGD, variant 1 (section 5.7.3) -----------------------------------------------------------


@pytest.fixture(scope="module")
def sgd():
    out = {}
    for net in (MLP, VGG):
        out[net.name] = {
            "panther": panther.training_step(CONFIG, net, 1.0, "sgd"),
            **{kind: panther.baseline_step(kind, CONFIG, net, 1.0, "sgd") for kind in ("digital", "mvm")},
        }
    out[MLP.name]["opa_mvm"] = panther.baseline_step("opa_mvm", CONFIG, MLP, 1.0, "sgd")
    return out


def test_sgd_reduction_vs_base_digital_section_5_7_3(sgd):
    """Section 5.7.3: "Compared to Base_digital, we achieve 7.01x-8.02x reduction in energy" (every layer)."""
    for runs in sgd.values():
        names = list(_layer_rows(runs["panther"]))
        _within_factor(_reductions(runs["digital"], runs["panther"], names), 7.01, 8.02)


def test_sgd_reduction_vs_base_mvm_fc_section_5_7_3(sgd):
    """Section 5.7.3: "31.03x-54.21x reductions in energy for FC layers" against Base_mvm."""
    for name, runs in sgd.items():
        _within_factor(_reductions(runs["mvm"], runs["panther"], FC_LAYERS[name]), 31.03, 54.21)


def test_sgd_reduction_vs_base_mvm_conv_section_5_7_3(sgd):
    """Section 5.7.3: "1.47x-31.56x for convolution layers ... with the later (smaller) convolution layers
    showing larger reductions": inside the range widened by 1.5, growing from Conv1 to Conv13."""
    runs = sgd[VGG.name]
    reductions = _reductions(runs["mvm"], runs["panther"], CONV_LAYERS)
    _within_factor(reductions, 1.47, 31.56)
    assert reductions[-1] > 10 * reductions[0]


def test_sgd_base_opa_mvm_like_base_mvm_on_fc(sgd):
    """Section 5.7.3: Base_opa/mvm behaves like Base_mvm (its PipeLayer OPA applies to
    convolutions only, so FC layers cost the same)."""
    runs = sgd[MLP.name]
    assert _layer_energies(runs["opa_mvm"]) == pytest.approx(_layer_energies(runs["mvm"]), rel=1e-6)


def test_carry_resolution_is_cheap_at_1024_section_5_7_1(sgd):
    """Section 5.7.1: "The cost of a CRS operation at low frequency (every 1024 steps) has
    negligible impact on overall energy and performance (<= 4.8%)"; every 64 steps it is no
    longer negligible."""
    report = sgd[MLP.name]["panther"]
    share = [float(item["carry"].energy / hj.total(item).energy) for item in _layer_rows(report).values()]
    assert max(share) <= 0.048
    frequent = panther.training_step(dataclasses.replace(CONFIG, carry_interval=64.0), MLP, 1.0, "sgd")
    share = [float(item["carry"].energy / hj.total(item).energy) for item in _layer_rows(frequent).values()]
    assert max(share) > 0.048


# --- Mini-batch SGD, variant 2 (section 5.7.4) ------------------------------------------------


@pytest.fixture(scope="module")
def minibatch():
    v2 = panther.Config(variant=2)
    out = {}
    for net in (MLP, VGG):
        out[net.name] = {
            "panther": panther.training_step(v2, net, 64.0, "minibatch"),
            "mvm": panther.baseline_step("mvm", v2, net, 64.0, "minibatch"),
        }
    return out


def test_minibatch_reduction_vs_base_mvm_fc_section_5_7_4(minibatch):
    """Batch 64: "Energy is reduced by 1.61x-2.16x for fully connected layers"."""
    for name, runs in minibatch.items():
        _within_factor(_reductions(runs["mvm"], runs["panther"], FC_LAYERS[name]), 1.61, 2.16)


def test_minibatch_reduction_vs_base_mvm_conv_section_5_7_4(minibatch):
    """Batch 64: "reduced by 1.18x-1.63x ... for convolutional layers for Base_mvm"."""
    runs = minibatch[VGG.name]
    _within_factor(_reductions(runs["mvm"], runs["panther"], CONV_LAYERS), 1.18, 1.63)


def test_large_batch_amortizes_writes_section_5_7_4():
    """Batch 1024: "PANTHER reduces energy by ~1.18x compared to Base_mvm ... due to reducing
    OPA energy" (FC layers; factor 1.5), and less than at batch 64."""
    v2 = panther.Config(variant=2)
    big = _reductions(
        panther.baseline_step("mvm", v2, MLP, 1024.0, "minibatch"),
        panther.training_step(v2, MLP, 1024.0, "minibatch"),
        FC_LAYERS[MLP.name],
    )
    _within_factor(big, 1.18, 1.18)
    small = _reductions(
        panther.baseline_step("mvm", v2, MLP, 64.0, "minibatch"),
        panther.training_step(v2, MLP, 64.0, "minibatch"),
        FC_LAYERS[MLP.name],
    )
    assert all(b < s for b, s in zip(big, small, strict=True))


def test_minibatch_faster_than_base_mvm_section_5_7_5(minibatch):
    """Section 5.7.5: "we still outperform Base_mvm across all batch sizes" (every layer)."""
    for runs in minibatch.values():
        for name in _layer_rows(runs["panther"]):
            assert float(hj.total(runs["mvm"][name]).latency) > float(hj.total(runs["panther"][name]).latency)


# --- Variants 2 and 3 (Fig. 5.14, section 5.7.6) ------------------------------------------------


def test_fig_5_14_crossover_between_variants_2_and_3():
    """Fig. 5.14, section 5.7.6: "Variant #2 has better storage density and energy efficiency
    for small batch sizes, while Variant #3 has better storage density for very large batch
    sizes at comparable energy efficiency." Energy, time and area of variant 2 over variant 3
    cross 1 as the batch grows; at very large batches the energies stay within 20% of each
    other."""
    v2, v3 = panther.Config(variant=2), panther.Config(variant=3)
    small, large = 16.0, 16384.0
    for batch, sign in ((small, -1.0), (large, 1.0)):
        e2 = hj.total(panther.training_step(v2, MLP, batch, "minibatch"))
        e3 = hj.total(panther.training_step(v3, MLP, batch, "minibatch"))
        a2 = hj.total(panther.storage(v2, MLP, batch)).area
        a3 = hj.total(panther.storage(v3, MLP, batch)).area
        for ratio in (e2.energy / e3.energy, e2.latency / e3.latency, a2 / a3):
            assert sign * (float(ratio) - 1.0) > 0.05, (batch, float(ratio))
        if batch == large:
            assert float(e2.energy / e3.energy) < 1.2


def test_variant_2_shared_memory_grows_with_batch():
    """Section 5.4.3: variant 2 keeps the batch's OPA operands in shared memory; variant 3 none."""
    v2, v3 = panther.Config(variant=2), panther.Config(variant=3)
    areas = [float(hj.total(panther.storage(v2, MLP, b)).area) for b in (1.0, 64.0, 1024.0)]
    assert areas[0] < areas[1] < areas[2]
    step = panther.training_step(v3, MLP, 64.0, "minibatch")
    assert all("shared_memory" not in item and "weight_copy" in item for item in _layer_rows(step).values())


def test_variant_2_overlaps_mvm_and_mtvm_section_5_4_3():
    """Variant 2 runs MVM and MᵀVM in parallel: a mini-batch takes less time than on variant 1."""
    t1 = hj.total(panther.training_step(panther.Config(variant=1), MLP, 64.0, "minibatch")).latency
    t2 = hj.total(panther.training_step(panther.Config(variant=2), MLP, 64.0, "minibatch")).latency
    assert float(t2) < float(t1)


# --- Structure, chip and the contract ---------------------------------------------------------


def test_report_structure():
    report = panther.training_step(CONFIG, MLP, 1.0, "sgd")
    assert list(report) == ["dense1", "dense2", "dense3", "dense4", "idle"]
    assert set(report["dense2"]) == {"mvm", "mtvm", "opa", "carry", "data_movement", "vfu"}
    # Table 5.1: the first layer computes no layer gradient.
    assert float(report["dense1"]["mtvm"].energy) == 0.0
    assert float(report["dense2"]["mtvm"].energy) > 0.0


def test_chip_and_peak():
    """Table 5.3 lists 117 mm² and 105 W TDP for one node. hwjax's node is PUMA's with MCUs: its
    power is 0.66x (variant 1) and 1.06x (variant 2) the TDP; its area 1.9x (variant 1), because
    the survey SAR ADCs of 10-12 bits and the 4-bit column DACs are large (a reported gap, tested
    as bounds only)."""
    for variant, (power_low, power_high) in ((1, (0.5, 1.0)), (2, (0.9, 1.3))):
        node = hj.total(panther.chip(panther.Config(variant=variant)))
        assert power_low < float(node.power) / 105.0 < power_high
        assert 117 * u.mm2 < float(node.area) < 4 * 117 * u.mm2
    peak = panther.peak(CONFIG)
    assert float(peak.ops) == pytest.approx(2208 * 2 * 128**2)
    assert float(hj.tops_per_watt(peak)) > 0.0


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="variant"):
        panther.Config(variant=4)
    with pytest.raises(ValueError, match="slice_bits"):
        panther.Config(slice_bits=(8.0, 8.0, 8.0, 8.0, 7.0))
    with pytest.raises(ValueError, match="weight_bits"):
        panther.Config(weight_bits=40.0)
    with pytest.raises(ValueError, match="carry_interval"):
        panther.Config(carry_interval=0.0)
    with pytest.raises(ValueError, match="algorithm"):
        panther.training_step(CONFIG, MLP, 1.0, "adam")
    with pytest.raises(ValueError, match="batch"):
        panther.training_step(CONFIG, MLP, 0.0)
    with pytest.raises(ValueError, match="kind"):
        panther.baseline_step("gpu", CONFIG, MLP)
    with pytest.raises(ValueError, match="workload"):
        panther.training_step(CONFIG, (workloads.Dense(4, 4),))


# --- The accelerator runtime: one Report that adds up, per-layer knobs, batches ---------------


def _assert_adds_up(report, network):
    """Leaf rows add up to the total (energy and area), every leaf's leakage is 0, and the rows
    are the network's layers and a last ``idle``."""
    assert list(report) == [*(layer.name for layer in network), "idle"]
    leaves = list(report.flat().values())
    whole = hj.total(report)
    assert all(float(leaf.leakage) == 0.0 for leaf in leaves)
    assert sum(float(leaf.total_energy) for leaf in leaves) == pytest.approx(
        float(whole.total_energy), rel=1e-6
    )
    assert sum(float(leaf.area) for leaf in leaves) == pytest.approx(float(whole.area), rel=1e-6)


def test_idle_row_holds_the_empty_mcu_slots():
    """One 128 x 128 layer fills one of a core's two MCU slots: the other is idle hardware."""
    network = workloads.Network("one", (workloads.Dense(128, 128, name="dense"),))
    report = panther.training_step(CONFIG, network)
    one = float(panther.mcu(CONFIG).area)
    assert float(report["dense"]["mvm"].area) == pytest.approx(one, rel=1e-6)
    assert float(report["idle"].area) == pytest.approx(one, rel=1e-6)
    assert float(report["idle"].energy) == 0.0  # leakage is not modelled
    v3 = panther.Config(variant=3)  # no operand buffer: storage() counts the MCU slots alone
    both = float(hj.total(panther.storage(v3, network)).area)
    assert both == pytest.approx(2 * float(panther.mcu(v3).area), rel=1e-6)


def _assert_rows_close(actual, expected, names, rtol=1e-5):
    for name in names:
        for field in ("energy", "latency", "area", "ops"):
            got, want = (float(getattr(hj.total(r[name]), field)) for r in (actual, expected))
            assert got == pytest.approx(want, rel=rtol, abs=1e-30), (name, field)


def test_full_occupancy_and_the_config_slicing_per_layer_change_nothing():
    n = len(MLP)
    knobs = system.LayerKnobs(occupancy=np.ones(n), slice_bits=np.tile(CONFIG.slice_bits, (n, 1)))
    for fn in (
        lambda layers: panther.training_step(CONFIG, MLP, 8.0, "minibatch", layers=layers),
        lambda layers: panther.storage(CONFIG, MLP, 8.0, layers=layers),
    ):
        _assert_rows_close(fn(knobs), fn(None), [*FC_LAYERS[MLP.name], "idle"])
    base = panther.baseline_step("mvm", CONFIG, MLP, layers=system.LayerKnobs(occupancy=np.ones(n)))
    _assert_rows_close(base, panther.baseline_step("mvm", CONFIG, MLP), [*FC_LAYERS[MLP.name], "idle"])


def test_occupancy_skips_empty_blocks():
    """Empty crossbar blocks are neither programmed, read, updated nor allocated: the MCU work
    and area of a layer scale with its occupancy; its vectors (and so its time) do not."""
    occupancy = np.asarray([1.0, 0.5, 1.0, 0.25])
    plain = panther.training_step(CONFIG, MLP)
    sparse = panther.training_step(CONFIG, MLP, layers=system.LayerKnobs(occupancy=occupancy))
    for name, share in zip(FC_LAYERS[MLP.name], occupancy, strict=True):
        for entry in ("mvm", "mtvm", "opa", "carry"):
            assert float(sparse[name][entry].energy) == pytest.approx(
                share * float(plain[name][entry].energy)
            )
        assert float(sparse[name]["mvm"].area) == pytest.approx(share * float(plain[name]["mvm"].area))
        assert float(sparse[name]["mvm"].latency) == pytest.approx(float(plain[name]["mvm"].latency))
    assert float(hj.total(sparse).energy) < float(hj.total(plain).energy)
    base = panther.baseline_step("mvm", CONFIG, MLP, layers=system.LayerKnobs(occupancy=occupancy))
    plain_base = panther.baseline_step("mvm", CONFIG, MLP)
    share = float(
        base["dense2"]["serial_read_write"].energy / plain_base["dense2"]["serial_read_write"].energy
    )
    assert share == pytest.approx(0.5)


def test_per_layer_slicing_section_5_3_4():
    """A layer sliced as Base_mvm (16 x 2 bits) costs what the whole network sliced so costs on
    that layer; the others keep 44466555 (zeros pad the shorter slicing)."""
    padded = (0.0,) * 8 + panther.DEFAULT_SLICE_BITS
    slices = np.asarray([padded, panther.BASE_SLICE_BITS, padded, padded])
    knobs = system.LayerKnobs(slice_bits=slices)
    mixed = panther.training_step(CONFIG, MLP, 8.0, "minibatch", layers=knobs)
    sixteen = panther.Config(slice_bits=panther.BASE_SLICE_BITS)
    by_base = panther.training_step(sixteen, MLP, 8.0, "minibatch")
    by_default = panther.training_step(CONFIG, MLP, 8.0, "minibatch")
    _assert_rows_close(mixed, by_base, ["dense2"])
    _assert_rows_close(mixed, by_default, ["dense1", "dense3", "dense4"])
    stored = panther.storage(CONFIG, MLP, 8.0, layers=knobs)
    _assert_rows_close(stored, panther.storage(sixteen, MLP, 8.0), ["dense2"])


def test_config_batches_equal_separate_calls():
    dims, intervals = [64.0, 128.0, 256.0], [256.0, 1024.0, 4096.0]
    batch = panther.Config(mcu_dim=jnp.asarray(dims), carry_interval=jnp.asarray(intervals))
    runs = {
        "training_step": lambda config: panther.training_step(config, MLP, 8.0, "minibatch"),
        "baseline_step": lambda config: panther.baseline_step("mvm", config, MLP),
        "storage": lambda config: panther.storage(config, MLP, 8.0),
    }
    for name, run in runs.items():
        whole = hj.total(run(batch))
        assert np.shape(whole.energy) == (3,) and np.shape(whole.area) == (3,), name
        for i, (dim, interval) in enumerate(zip(dims, intervals, strict=True)):
            one = hj.total(run(panther.Config(mcu_dim=dim, carry_interval=interval)))
            for field in ("energy", "latency", "area"):
                assert float(getattr(whole, field)[i]) == pytest.approx(float(getattr(one, field)), rel=1e-5)


def test_bad_per_layer_knobs_raise():
    n = len(MLP)
    with pytest.raises(ValueError, match="slice_bits"):
        panther.baseline_step("mvm", CONFIG, MLP, layers=system.LayerKnobs(slice_bits=np.full((n, 16), 2.0)))
    with pytest.raises(ValueError, match="slice_bits"):  # 24 bits cannot hold 32-bit weights
        panther.training_step(CONFIG, MLP, layers=system.LayerKnobs(slice_bits=np.full((n, 6), 4.0)))
    with pytest.raises(ValueError, match="slice_bits"):  # more bits than the device's cells hold
        panther.training_step(CONFIG, MLP, layers=system.LayerKnobs(slice_bits=np.full((n, 5), 8.0)))
    with pytest.raises(ValueError, match="occupancy"):
        panther.training_step(CONFIG, MLP, layers=system.LayerKnobs(occupancy=np.ones(n + 1)))
    with pytest.raises(ValueError, match="mode"):
        panther.storage(CONFIG, MLP, mode="fuzzy")
