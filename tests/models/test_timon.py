"""Calibration, trend and gap tests of ``hwjax_models.timon`` (dissertation chapter 6).

Sources: Table 6.1 (HMMA reuse and WMMA cycles), Table 6.2 (GEMMs), Table 6.3 (areas), section
6.5 (variants), 6.6.2 and Fig. 6.15 (tunable ADC, outlier rejection), 6.7.3 and Fig. 6.17
(speedup and dynamic energy against Turing), 6.7.4 (ADC share, Fig. 6.19).

Published numbers that the physics-based model does not reach are kept as strict ``xfail``
tests with the measured value in the reason: they fail loudly if the model ever reaches them.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hwjax as hj
from hwjax import system
from hwjax import units as u
from hwjax import workloads as hw_workloads
from hwjax_models import timon as T
from hwjax_models import workloads as W

GEMM = W.get("timon_gnmt_1")  # Table 6.2: GNMT-1, 128 x 2048 x 4096
# Fig. 6.17(a): speedup and dynamic-energy gain over Turing at DP widths 4 and 128.
SPEEDUP = (0.55, 3.09)
ENERGY_GAIN = (0.85, 3.91)
# Table 6.3 (45 nm), mm².
TIMON_AREAS = {"IR": 0.00077, "SL": 0.00006, "DAC": 0.00017, "ADC": 0.10560, "S&A": 0.00192, "OR": 0.00019}
TURING_AREAS = {"MAC": 0.2025, "Buffer": 0.0042}


@pytest.fixture(scope="module")
def dp_sweep():
    """versus_turing on GNMT-1 at DP widths 4 and 128 (exact counts), evaluated once."""
    configs = T.Config(dp_width=jnp.array([4.0, 128.0]))
    return jax.tree.map(np.asarray, T.versus_turing(configs, GEMM, "exact"))


def _bits_sweep(bits, act=None, weight=None):
    """(TIMON, Turing) dynamic energy and latency on GNMT-1 for operand widths ``bits``."""
    bits = jnp.asarray(bits)
    config = T.Config(
        act_bits=bits if act is None else act * jnp.ones_like(bits),
        weight_bits=bits if weight is None else weight * jnp.ones_like(bits),
    )
    timon = T._dynamic(T.inference(config, GEMM, "exact"), ("register_file",))  # Fig. 6.9 scope
    turing = T._dynamic(T.turing_inference(config, GEMM, "exact"))
    return [np.asarray(x, float) for x in (*timon, *turing)]


def _slope(values, bits):
    """Log-log slope of ``values`` against ``bits`` (1: linear, 2: quadratic)."""
    return float(np.polyfit(np.log(bits), np.log(values), 1)[0])


# --- Table 6.1: the Turing baseline's register-file roofline ------------------------------------


def test_turing_wmma_takes_table_6_1_cycles():
    # Table 6.1: a Turing WMMA 16x16x16 = four HMMA.1688 (2048 ops, 896 B each, reuse 2.28)
    # takes 56 cycles (theoretical; 54-59 measured). Exact roofline: rtol 1e-5 is round-off.
    wmma = hj.total(T.turing_wmma(T.Config(), "exact"))
    np.testing.assert_allclose(wmma.latency * T.Config().clock_rate, 56.0, rtol=1e-5)
    np.testing.assert_allclose(wmma.ops, 4 * 2048, rtol=1e-6)


def test_turing_energy_is_memory_dominated():
    # Fig. 6.17(c): Turing's dynamic energy for 16-bit MACs is dominated by the register file
    # and the buffer. Bound: memories above half of the energy.
    report = T.turing_wmma(T.Config(), "exact")
    memories = float(report["register_file"].energy + report["buffer"].energy)
    assert memories / float(hj.total(report).energy) > 0.5


# --- Section 6.7.4: the ADC share of K64 --------------------------------------------------------


def test_k64_adc_share_is_59_6_percent_within_10_points():
    # Section 6.7.4: "For K64, ADC energy constitutes 59.6% of TIMON's energy (Figure 6.9)":
    # Fig. 6.9's scope, the bank without the TMMA's register traffic. The bank's fit cannot
    # reach 59.6% with non-negative read energies (tests/components/test_sram_cim.py); measured
    # 52.8%. Tolerance: the 10 points.
    report = T.tmma(T.variant("K64"), "exact")
    bank = float(hj.total(report).energy - report["register_file"].energy)
    share = float(report["column_peripheral", "ADC"].energy) / bank
    assert abs(share - 0.596) < 0.10


# --- Fig. 6.17(a): DP width ---------------------------------------------------------------------


def test_energy_gain_grows_4_6x_from_dp_width_4_to_128(dp_sweep):
    # Fig. 6.17(a): the gain grows 0.85x -> 3.91x, i.e. 4.6x, as d goes 4 -> 128. The bank's read
    # path is fitted to the 4.6x fall of its own energy per MAC, so this re-measures that fit on
    # a whole Table 6.2 GEMM with Turing's constant energy per MAC (measured 5.07x, +10%).
    # Tolerance: the 30%.
    ratio = dp_sweep["energy_gain"][1] / dp_sweep["energy_gain"][0]
    np.testing.assert_allclose(ratio, ENERGY_GAIN[1] / ENERGY_GAIN[0], rtol=0.30)


def test_gains_grow_with_dp_width_and_k64_beats_k32():
    # Section 6.7.3: higher DP widths amortize the peripherals (energy and latency per MAC);
    # 6.7.2: K64 runs faster than K32. Monotone over the K variants, strictly.
    gains = [T.versus_turing(T.variant(name), GEMM, "exact") for name in ("K32", "K64", "K128")]
    energy = [float(g["energy_gain"]) for g in gains]
    assert energy[0] < energy[1] < energy[2]
    assert float(gains[0]["speedup"]) < float(gains[1]["speedup"])


def test_speedup_grows_several_fold_from_dp_width_4_to_128(dp_sweep):
    # Fig. 6.17(a): 3.09 / 0.55 = 5.6x. hwjax gets 7.65x (+36%, outside the 30%: see the
    # xfail below); this bound keeps the measured trend within a factor 2 of the figure.
    ratio = dp_sweep["speedup"][1] / dp_sweep["speedup"][0]
    published = SPEEDUP[1] / SPEEDUP[0]
    assert published / 2 < ratio < published * 2


@pytest.mark.xfail(
    strict=True,
    reason="gap: speedup ratio d=128/d=4 is 7.65x vs 5.6x (+36%); adc.timon_law makes the 8-bit "
    "conversion 1.97x the 7-bit one, so K128's ADC stage (15.8 cycles) cancels its doubled MACs",
)
def test_speedup_ratio_matches_fig_6_17a_within_30_percent(dp_sweep):
    ratio = dp_sweep["speedup"][1] / dp_sweep["speedup"][0]
    np.testing.assert_allclose(ratio, SPEEDUP[1] / SPEEDUP[0], rtol=0.30)


@pytest.mark.xfail(
    strict=True,
    reason="gap: speedup 0.014x-0.10x vs 0.55x-3.09x. 3.09x is 452 ops/clock per sub-core (Turing: "
    "8192 ops in 56 cycles, Table 6.1), as Fig. 6.12's 16x16x128 WMMA ridge (455) and the 195 TOPS "
    "of 6.8 confirm; 32 ADCs converting once per clock (6.7.1) give at most 32 conversions/clock, "
    "and a 16-bit MAC at d=128 needs 2: <= 16 MACs/clock, 14x short (module docstring)",
)
def test_speedup_levels_match_fig_6_17a(dp_sweep):
    np.testing.assert_allclose(dp_sweep["speedup"], SPEEDUP, rtol=0.30)


def test_energy_gain_levels_match_fig_6_17a(dp_sweep):
    # Fig. 6.17(a): dynamic-energy gain 0.85x at d = 4 and 3.91x at d = 128 (section 6.7.3).
    # Measured 0.70x (-18%) and 3.56x (-9%): TIMON's bank (ADC on the survey's lower envelope,
    # section 6.4.3) against Turing's 3.1 pJ per 16-bit MAC. Tolerance: the 30%.
    np.testing.assert_allclose(dp_sweep["energy_gain"], ENERGY_GAIN, rtol=0.30)


def test_register_traffic_is_outside_fig_6_17a_scope_and_costs_timon_energy():
    # versus_turing compares in Fig. 6.9's scope by default; counting the TMMA's IR load, C read
    # and D write (1 + 64/d bits per MAC) lowers the gain, most at small d, and leaves the
    # speedup (the traffic hides behind the ADC-bound pipeline). Exact: rtol 1e-6.
    configs = T.Config(dp_width=jnp.array([4.0, 128.0]))
    full = jax.tree.map(np.asarray, T.versus_turing(configs, GEMM, "exact", register_traffic=True))
    scoped = T.versus_turing(configs, GEMM, "exact")
    assert np.all(full["energy_gain"] < np.asarray(scoped["energy_gain"]))
    assert (
        full["energy_gain"][0] / scoped["energy_gain"][0] < full["energy_gain"][1] / scoped["energy_gain"][1]
    )
    np.testing.assert_allclose(full["speedup"], scoped["speedup"], rtol=1e-6)


def test_dp_sweep_levels_stay_at_the_documented_values(dp_sweep):
    # Regression of the speedup gap (module docstring) and of the energy levels, at 20%.
    np.testing.assert_allclose(dp_sweep["speedup"], [0.01365, 0.1044], rtol=0.2)
    np.testing.assert_allclose(dp_sweep["energy_gain"], [0.701, 3.556], rtol=0.2)


# --- Fig. 6.17(b): bit widths -------------------------------------------------------------------


def test_timon_gains_are_near_quadratic_in_bits_and_turing_linear():
    # Fig. 6.17(b) and section 6.7.4: fewer activation and weight bits cut TIMON's streams and
    # slices (near-quadratic gains) but Turing's memory traffic only linearly. Measured log-log
    # slopes over 16, 8, 4 bits: TIMON latency ~2, energy in [1.6, 2.2] (the 32-bit
    # accumulator traffic does not shrink), Turing both in [0.8, 1.2].
    bits = np.array([16.0, 8.0, 4.0])
    timon_e, timon_t, turing_e, turing_t = _bits_sweep(bits)
    assert 1.8 < _slope(timon_t, bits) < 2.2
    assert 1.6 < _slope(timon_e, bits) < 2.2
    assert 0.8 < _slope(turing_t, bits) < 1.2
    assert 0.8 < _slope(turing_e, bits) < 1.2
    gain = turing_e / timon_e
    assert gain[0] < gain[1] < gain[2]


def test_activation_bits_alone_help_timon_not_turing():
    # Sections 6.3.2 and 6.6.1: TIMON's streams follow the activation bits independently of the
    # weights; Turing needs one precision for both, so 16-bit weights keep it at 16 bits.
    # TIMON's latency is linear in the streams (slope 1 within 0.1); Turing's is flat.
    act = np.array([16.0, 8.0, 4.0])
    timon_e, timon_t, turing_e, turing_t = _bits_sweep(act, weight=16.0)
    assert abs(_slope(timon_t, act) - 1.0) < 0.1
    assert timon_e[0] > timon_e[1] > timon_e[2]
    np.testing.assert_allclose(turing_t, turing_t[0], rtol=1e-6)
    np.testing.assert_allclose(turing_e, turing_e[0], rtol=1e-6)


# --- Section 6.6.2, Fig. 6.15: tunable ADC and outlier rejection --------------------------------

# (sparsity, threshold, bits dropped) read off Fig. 6.15's table (K64: 8 -> 7 -> 6 -> 5).
FIG_6_15 = [
    (0.30, 0.25, 0),  # below 0.5 - 0.25 x 0.5 = 0.375: no change
    (0.40, 0.25, 1),  # in [0.375, 0.5): promoted to 0.5
    (0.50, 0.00, 1),
    (0.60, 0.25, 1),  # in [0.5, 0.6875): no change
    (0.70, 0.25, 2),  # in [0.6875, 0.75): promoted to 0.75
    (0.70, 0.00, 1),
    (0.80, 0.50, 2),  # in [0.75, 0.8125): no change
    (0.82, 0.50, 3),  # in [0.8125, 0.875): promoted to 0.875
    (0.10, 1.00, 1),  # th = 1: [0, 0.5) promoted to 0.5
]


@pytest.mark.parametrize("sparsity,threshold,dropped", FIG_6_15)
def test_adc_bits_follow_fig_6_15(sparsity, threshold, dropped):
    # Fig. 6.15: resolution drops one bit per halving of column density; outlier rejection
    # promotes sparsities within th of the gap below the next level. Exact (integer bits).
    config = T.variant("K64")
    bits = float(T.adc_bits(config, sparsity, threshold, "exact"))
    assert bits == 7.0 - dropped  # sram_cim's K64 resolution log2(64) + 1 = 7 bits
    density = float(T.kept_density(sparsity, threshold, "exact"))
    assert density <= 1.0 - sparsity + 1e-6


def test_tunable_adc_and_outlier_rejection_lower_energy_and_runtime():
    # Fig. 6.19(b): sparser columns and higher thresholds cut the TMMA's energy and runtime
    # (ADC energy and latency fall linearly with the active bits, section 6.6.2). A dense
    # tunable bank costs what the 7-bit SAR costs (rtol 1e-5).
    config = T.variant("K64")
    dense = T.sparse_tmma(config, 0.0, 0.0, "exact")
    np.testing.assert_allclose(
        dense.energy, hj.total(T.tmma(config, "exact")).energy - _rf(config), rtol=1e-5
    )
    columns = jnp.array([0.38, 0.45, 0.5, 0.55, 0.62])  # Fig. 6.14(b): a 50%-sparse matrix
    costs = [T.sparse_tmma(config, columns, th, "exact") for th in (0.0, 0.25, 0.5, 1.0)]
    energies = [float(c.energy) for c in costs]
    latencies = [float(c.latency) for c in costs]
    assert float(dense.energy) > energies[0]
    assert all(a >= b for a, b in itertools.pairwise(energies)) and energies[0] > energies[-1]
    assert float(dense.latency) > latencies[0] >= latencies[-1]


def test_one_bit_less_saves_a_seventh_of_the_adc_energy():
    # Section 6.6.2: a tunable SAR stopping after 6 of its 7 bits spends 6/7 of the energy. At
    # 50% sparsity (one bit dropped), against a dense bank holding the same stored density, the
    # saving is exactly the ADC energy / 7 (rtol 1e-3: float32 differences of close energies).
    config = T.variant("K64")
    adc_energy = float(T.tmma(config, "exact")["column_peripheral", "ADC"].energy)
    same_cells = T.variant("K64", weight_density=0.25)  # 0.5 of the bits are 1, half kept
    saved = (
        T.sparse_tmma(same_cells, 0.0, 0.0, "exact").energy - T.sparse_tmma(config, 0.5, 0.0, "exact").energy
    )
    np.testing.assert_allclose(float(saved), adc_energy / 7.0, rtol=1e-3)


def _rf(config):
    return float(T.tmma(config, "exact")["register_file"].energy)


# --- Table 6.3: areas ---------------------------------------------------------------------------


def test_timon_areas_match_table_6_3():
    # Table 6.3 (45 nm, 32 ADCs): each TIMON row within the 10%, total 0.1087 mm².
    table = T.area_table(T.Config(), "exact")
    for name, published in TIMON_AREAS.items():
        np.testing.assert_allclose(table["timon", name].area / u.mm2, published, rtol=0.10, err_msg=name)
    np.testing.assert_allclose(hj.total(table["timon"]).area / u.mm2, 0.1087, rtol=0.10)


@pytest.mark.xfail(
    strict=True,
    reason="gap: Turing MAC 0.145 mm² (-28%; 128 int16 MACs, Horowitz's UNCONFIRMED area column) and "
    "buffer 0.0219 mm² (+420%; 4.6 KB at 0.11 um²/bit in Table 6.3 is below a 45 nm 6T cell)",
)
def test_turing_areas_match_table_6_3():
    table = T.area_table(T.Config(), "exact")
    for name, published in TURING_AREAS.items():
        np.testing.assert_allclose(table["turing", name].area / u.mm2, published, rtol=0.10, err_msg=name)


def test_turing_areas_stay_physical():
    # Regression of the gap: the MACs within 40% of Table 6.3 and the buffer above the table's
    # 0.0042 mm² (an SRAM of 4.6 KB cannot be smaller than its 45 nm cells, >= 0.013 mm²).
    table = T.area_table(T.Config(), "exact")
    np.testing.assert_allclose(table["turing", "MAC"].area / u.mm2, TURING_AREAS["MAC"], rtol=0.40)
    assert 0.013 < float(table["turing", "Buffer"].area / u.mm2) < 0.05


# --- interface ----------------------------------------------------------------------------------


def test_reports_add_up_and_peak_counts_every_bank():
    # The per-layer Report's ops are 2 x Table 6.2's MACs (exact); peak runs 272 banks
    # (68 SMs x 4 sub-cores) each doing 2 d N_t ops per vector period.
    m, n, k = 128, 2048, 4096
    report = T.inference(T.Config(), GEMM, "exact")
    np.testing.assert_allclose(hj.total(report).ops, 2.0 * m * n * k, rtol=1e-6)
    peak = T.peak(T.Config(), "exact")
    np.testing.assert_allclose(peak.ops, 272 * 2 * 64 * 16, rtol=1e-6)
    assert float(hj.tops_per_watt(peak)) > 0 and float(hj.tops_per_mm2(T.turing_peak(T.Config()))) > 0
    assert set(T.chip(T.Config())) == {"timon", "turing"}


def test_one_clock_drives_banks_register_file_and_turing():
    # The brief: one clock for the SRAM CIM banks and the register file. Doubling it halves both
    # designs' latencies (the ADC rate is its own knob, so TIMON's ADC-bound stage stays).
    base, fast = T.Config(), T.Config(clock_rate=2 * T.Config().clock_rate)
    assert float(T.register_file(fast).clock_hz) == pytest.approx(2 * float(T.register_file(base).clock_hz))
    ratio = hj.total(T.turing_wmma(base, "exact")).latency / hj.total(T.turing_wmma(fast, "exact")).latency
    np.testing.assert_allclose(ratio, 2.0, rtol=1e-5)
    assert float(T.bank(fast).clock_rate) == pytest.approx(float(fast.clock_rate))


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"dp_width": 2.0}, "dp_width"),
        ({"act_bits": 0.5}, "act_bits"),
        ({"clock_rate": 1e12}, "clock_rate"),
        ({"adc_kind": "flash"}, "adc_kind"),
    ],
)
def test_bad_config_raises_naming_the_field(kwargs, name):
    with pytest.raises(ValueError, match=name):
        T.Config(**kwargs)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="variant"):
        T.variant("K256")
    with pytest.raises(ValueError, match="column_sparsity"):
        T.adc_bits(T.Config(), 1.5)
    with pytest.raises(ValueError, match="threshold"):
        T.adc_bits(T.Config(), 0.5, threshold=2.0)
    with pytest.raises(ValueError, match="workload"):
        T.inference(T.Config(), (GEMM,))
    with pytest.raises(ValueError, match="mode"):
        T.inference(T.Config(), GEMM, "fuzzy")


def test_gradient_of_energy_gain_with_respect_to_dp_width_is_finite_and_positive():
    # Wider dot products amortize the peripherals (section 6.4.3): d(energy gain)/d(d) > 0.
    grad = jax.grad(lambda d: T.versus_turing(T.Config(dp_width=d), GEMM, "smooth")["energy_gain"])(64.0)
    assert math.isfinite(float(grad)) and float(grad) > 0


def test_peak_chip_and_areas_work_under_jit_vmap_and_grad():
    # The contract rows cover versus_turing and sparse_tmma; this covers the rest cheaply:
    # jit equals eager (rtol 1e-5), vmap over the DP width equals the loop, gradients finite.
    def fn(d):
        config = T.Config(dp_width=d)
        return T.peak(config).energy, hj.total(T.area_table(config)).area, T.turing_peak(config).energy

    eager = fn(64.0)
    np.testing.assert_allclose(jax.jit(fn)(64.0), eager, rtol=1e-5)
    batched = jax.vmap(fn)(jnp.array([32.0, 128.0]))
    np.testing.assert_allclose(np.asarray(batched)[:, 1], np.asarray(fn(128.0)), rtol=1e-5)
    grads = jax.grad(lambda d: fn(d)[0] + fn(d)[1] * 1e3)(64.0)
    assert math.isfinite(float(grads))


# --- the accelerator runtime (hwjax.system): layer table, per-layer knobs, batches -------------

TIMON_WORKLOADS = [name for name in W.catalog() if name.startswith("timon_")]
#: A network with a convolution, a layer without matrices, a dense layer and a product of two
#: activations: the runtime's cases on a few small layers.
MIXED = hw_workloads.Network(
    "mixed",
    (
        hw_workloads.Conv2d(8, 16, 3, (8, 8), name="conv"),
        hw_workloads.Pool2d(16, (8, 8), 2, name="pool"),
        hw_workloads.Dense(16 * 4 * 4, 32, name="fc"),
        hw_workloads.GEMM(64, 48, 96, stationary=False, name="scores"),
    ),
)
TIMON_ENTRIES = {"row_peripheral", "sram_array", "column_peripheral", "register_file", "leakage"}
TURING_ENTRIES = {"register_file", "buffer", "macs", "leakage"}
INFERENCES = {"timon": T.inference, "turing": T.turing_inference}


def _assert_leaves_add_up(report):
    # Leaf rows add up to the total: energy and area at float32 round-off over a few leaves
    # (rtol 1e-6), latency likewise (the layers run in series); no leaf carries a leakage power.
    whole = hj.total(report)
    leaves = list(report.flat().values())
    for field in ("total_energy", "latency", "area", "ops"):
        summed = sum(float(getattr(leaf, field)) for leaf in leaves)
        np.testing.assert_allclose(summed, float(getattr(whole, field)), rtol=1e-6, err_msg=field)
    assert all(float(leaf.leakage) == 0.0 for leaf in leaves)


@pytest.mark.parametrize("design", list(INFERENCES))
def test_leaf_rows_add_up_on_a_mixed_network_and_knobs(design):
    knobs = system.LayerKnobs(
        input_bits=jnp.array([8.0, 16.0, 4.0, 12.0]), occupancy=jnp.array([0.5, 1.0, 0.25, 1.0])
    )
    for mode in ("exact", "smooth"):
        _assert_leaves_add_up(INFERENCES[design](T.Config(), MIXED, mode, layers=knobs))


def test_reports_have_a_row_per_layer_and_a_shared_idle_row():
    # timon_deepbench_1: a 2560 x 64 stationary matrix on K64's 64 x 16 bank tiles is 40 x 4 =
    # 160 tiles on 68 x 4 = 272 banks, one round: 160 banks work, 112 wait (the idle row), all
    # leak for the whole GEMM; the idle row holds the 272 banks' area (shared by every layer).
    network = W.get("timon_deepbench_1")
    report = T.inference(T.Config(), network, "exact")
    assert list(report) == ["gemm", "idle"]
    assert set(report["gemm"]) == TIMON_ENTRIES
    bank = hj.total(T.tmma(T.Config(), "exact"))
    leaked = 272 * bank.leakage * hj.total(report).latency
    working = report["gemm", "leakage"].energy
    np.testing.assert_allclose(working + report["idle"].energy, leaked, rtol=1e-5)
    np.testing.assert_allclose(working / leaked, 160 / 272, rtol=1e-5)
    np.testing.assert_allclose(report["idle"].area, 272 * bank.area, rtol=1e-6)
    np.testing.assert_allclose(hj.total(report).area, 272 * bank.area, rtol=1e-6)
    turing = T.turing_inference(T.Config(), network, "exact")
    assert list(turing) == ["gemm", "idle"]
    assert set(turing["gemm"]) == TURING_ENTRIES
    wmma = hj.total(T.turing_wmma(T.Config(), "exact"))
    np.testing.assert_allclose(turing["idle"].area, 272 * wmma.area, rtol=1e-6)
    # A layer without matrices costs nothing on either design.
    for fn in INFERENCES.values():
        pool = hj.total(fn(T.Config(), MIXED, "exact")["pool"])
        assert float(pool.total_energy) == 0.0 and float(pool.latency) == 0.0


def test_half_occupancy_halves_the_gemm_energy():
    # Section 6.6 (sparsity): a block that holds only zeros is neither loaded, computed nor
    # converted. GNMT-1's 8192 bank tiles at occupancy 0.5 are 4096: the dynamic energy halves
    # exactly (rtol 1e-6) and the rounds fall from ceil(8192 / 272) = 31 to ceil(4096 / 272) =
    # 16; with the banks' leakage the total falls by about half. The ops (the GEMM's MACs) stay.
    full = T.inference(T.Config(), GEMM, "exact")
    half = T.inference(T.Config(), GEMM, "exact", layers=system.LayerKnobs(occupancy=jnp.array([0.5])))
    (dynamic_full, latency_full), (dynamic_half, latency_half) = T._dynamic(full), T._dynamic(half)
    np.testing.assert_allclose(dynamic_half / dynamic_full, 0.5, rtol=1e-6)
    np.testing.assert_allclose(latency_half / latency_full, 16 / 31, rtol=1e-6)
    ratio = float(hj.total(half).total_energy / hj.total(full).total_energy)
    assert 0.45 < ratio < 0.55
    np.testing.assert_allclose(hj.total(half).ops, hj.total(full).ops, rtol=1e-6)
    # Turing skips empty 16 x 16 tiles alike: its dynamic energy halves too.
    turing_full = T._dynamic(T.turing_inference(T.Config(), GEMM, "exact"))[0]
    knobs = system.LayerKnobs(occupancy=jnp.array([0.5]))
    turing_half = T._dynamic(T.turing_inference(T.Config(), GEMM, "exact", layers=knobs))[0]
    np.testing.assert_allclose(turing_half / turing_full, 0.5, rtol=1e-6)
    # versus_turing passes the knobs to both designs: both energies halve, the gain stays.
    gain = T.versus_turing(T.Config(), GEMM, "exact", layers=knobs)["energy_gain"]
    np.testing.assert_allclose(gain, T.versus_turing(T.Config(), GEMM, "exact")["energy_gain"], rtol=1e-6)


def test_per_layer_bits_equal_the_config_bits():
    # Per-layer operand bits equal to a Config value give that Config's Report (rtol 1e-6).
    knobs = system.LayerKnobs(input_bits=jnp.full(4, 8.0), weight_bits=jnp.full(4, 12.0))
    for fn in INFERENCES.values():
        got = hj.total(fn(T.Config(), MIXED, "exact", layers=knobs))
        want = hj.total(fn(T.Config(act_bits=8.0, weight_bits=12.0), MIXED, "exact"))
        for field in ("total_energy", "latency", "area", "ops"):
            np.testing.assert_allclose(getattr(got, field), getattr(want, field), rtol=1e-6, err_msg=field)


def test_per_layer_adc_bits_stop_a_tunable_sar_early():
    # Section 6.6.2: a tunable SAR converting at fewer bits spends less energy and time per
    # conversion; at the bank's full 7 bits (K64) it costs what no override costs (rtol 1e-6).
    config = T.Config(adc_kind="tunable_sar")
    plain = hj.total(T.inference(config, GEMM, "exact"))
    full = hj.total(T.inference(config, GEMM, "exact", layers=system.LayerKnobs(adc_bits=jnp.array([7.0]))))
    fewer = hj.total(T.inference(config, GEMM, "exact", layers=system.LayerKnobs(adc_bits=jnp.array([5.0]))))
    np.testing.assert_allclose(full.total_energy, plain.total_energy, rtol=1e-6)
    assert float(fewer.energy) < float(full.energy) and float(fewer.latency) < float(full.latency)


@pytest.mark.parametrize(
    "config,knobs,name",
    [
        (T.Config(), system.LayerKnobs(adc_bits=jnp.array([5.0])), "adc_bits"),  # plain SAR
        (T.Config(adc_kind="tunable_sar"), system.LayerKnobs(adc_bits=jnp.array([8.0])), "adc_bits"),
        (T.Config(), system.LayerKnobs(input_bits=jnp.array([20.0])), "input_bits"),
        (T.Config(), system.LayerKnobs(weight_bits=jnp.array([0.5])), "weight_bits"),
        (T.Config(), system.LayerKnobs(occupancy=jnp.array([0.5, 0.5])), "occupancy"),  # 1 layer
        (T.Config(), system.LayerKnobs(replication=jnp.array([2.0])), "replication"),
    ],
)
def test_bad_layer_knobs_raise_naming_the_knob(config, knobs, name):
    with pytest.raises(ValueError, match=name):
        T.inference(config, GEMM, "exact", layers=knobs)


def test_turing_takes_no_adc_bits():
    with pytest.raises(ValueError, match="adc_bits"):
        T.turing_inference(T.Config(), GEMM, "exact", layers=system.LayerKnobs(adc_bits=jnp.array([5.0])))
