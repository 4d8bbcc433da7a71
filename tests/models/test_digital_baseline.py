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
from hwjax import units as u
from hwjax import workloads as W
from hwjax_models import digital

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


def _traffic(report, name: str) -> float:
    return sum(float(layer["data_movement"][name].energy) for layer in report.values())


def test_mlp_energy_is_dominated_by_weight_reads():
    # Batch 1: every weight is read from SRAM for a single use (the PUMA/PANTHER argument).
    report = digital.inference(DEFAULT, MLP)
    dynamic = float(hj.total(report).energy)
    weights = _traffic(report, "weight_buffer")
    macs = sum(float(layer["mvm"].energy) for layer in report.values())
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
    assert list(report) == ["fc1", "fc2"]
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
