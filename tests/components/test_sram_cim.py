"""Calibration, trend and bad-input tests of ``hwjax.components.sram_cim`` (TIMON's bank).

Sources: the dissertation's chapter 6 (TIMON): section 6.4.3 (d-t-l specification, ADC
resolution and latency laws, Figs. 6.9 and 6.10), 6.5 (chunks), 6.6 (tunable ADC), 6.7.1
(pipeline stages), 6.7.3 (Fig. 6.17(a)), 6.7.4 (ADC share of K64's energy) and Table 6.3 (areas).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hwjax as hj
from hwjax import units as u
from hwjax.components import adc as A
from hwjax.components import sram_cim as S

DP_WIDTHS = (4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
# Table 6.3 (45 nm, 32 ADCs): TIMON's area rows, mm² (SRU "-": a logical unit at l = 1).
TABLE_6_3 = {"IR": 0.00077, "SL": 0.00006, "DAC": 0.00017, "ADC": 0.10560, "S&A": 0.00192, "OR": 0.00019}
TABLE_6_3_TOTAL = 0.1087


def _report(mode: str = "exact", **knobs) -> hj.Report:
    return S.energy_breakdown(S.SRAMCIMBank(**knobs), mode=mode)


def _per_mac(**knobs) -> tuple[float, float]:
    """(dynamic energy J, latency s) per MAC of one input vector."""
    cost = S.mvm(S.SRAMCIMBank(**knobs), mode="exact")
    macs = float(cost.ops) / 2.0
    return float(cost.energy) / macs, float(cost.latency) / macs


def _share(report: hj.Report, *path: str) -> float:
    return float(hj.total(report[path]).energy) / float(hj.total(report).energy)


# --- laws of section 6.4.3 ------------------------------------------------------------------


@pytest.mark.parametrize(
    "d,t,width,bits",
    [(64.0, 1.0, 1.0, 7.0), (4.0, 1.0, 1.0, 3.0), (128.0, 2.0, 1.0, 9.0), (16.0, 2.0, 3.0, 10.0)],
)
def test_adc_resolution_is_log2_d_plus_t_times_l(d, t, width, bits):
    # Section 6.4.3: "log2 d + t x l resolution ADC"; K64 (d = 64, t = l = 1) needs 7 bits.
    bank = S.SRAMCIMBank(dp_width=d, stream_width=t, slice_width=width)
    np.testing.assert_allclose(S.adc_resolution(bank), bits, rtol=1e-6)


@pytest.mark.parametrize(
    "knobs",
    [
        {},
        {"dp_width": 128.0},
        {"dp_width": 32.0, "adcs": 16.0},
        {"chunks": 1.0, "adcs": 64.0},
        {"stream_width": 2.0},
        {"slice_width": 2.0, "dp_width": 128.0},
        {"input_bits": 8.0, "weight_bits": 8.0},
    ],
)
def test_latency_is_streams_plus_3_times_outputs_per_adc_times_adc_latency(knobs):
    # Section 6.4.3: latency per input vector = (#streams + 3) x (#slices / #ADC) x ADC latency,
    # where #slices counts the bank's analog outputs per stream (1024 bitlines / (l s)). Each
    # case is ADC-bound (its ADC stage is longer than the s-cycle stages), so the law is exact:
    # rtol 1e-5 covers float32 round-off.
    bank = S.SRAMCIMBank(**knobs)
    t, width, s = bank.stream_width, bank.slice_width, bank.chunks
    streams = math.ceil(bank.input_bits / t)
    outputs = bank.sub_banks * math.ceil(bank.bitlines / (width * s))
    converter = A.ADC(
        math.log2(bank.dp_width) + t * width, bank.adc_sample_rate, A.SOI45_TECH, calibration="timon"
    )
    expected = (streams + 3) * math.ceil(outputs / bank.adcs) * float(A.conversion(converter).latency)
    stages = S.stage_latencies(bank, mode="exact")
    assert float(stages["adc"]) > float(stages["other"])
    np.testing.assert_allclose(S.mvm(bank, mode="exact").latency, expected, rtol=1e-5)


def test_k64_stages_match_section_6_7_1():
    # Section 6.7.1: with 4 chunks and 32 ADCs on 1024 bitlines, Stage0/1/3 take #chunk = 4
    # cycles and Stage2 (ADC) #BL/#ADC/#chunk = 8 cycles, "2x higher than other stages". The
    # default ADC rate is chosen so one 7-bit conversion lasts one clock; rtol 1e-5 is round-off.
    stages = S.stage_latencies(S.SRAMCIMBank(), mode="exact")
    cycle = 1.0 / S.CLOCK_RATE
    np.testing.assert_allclose(stages["adc"], 8 * cycle, rtol=1e-5)
    np.testing.assert_allclose(stages["other"], 4 * cycle, rtol=1e-5)


def test_k64_counts_macs_and_ops():
    # Sections 6.5 and 6.7.1: TMMA.1.16.64 multiplies a 1 x 64 input by a 64 x 16 stationary
    # matrix: 1024 MACs = 2048 ops per input vector (exact counts).
    cost = S.mvm(S.SRAMCIMBank(), mode="exact")
    np.testing.assert_allclose(cost.ops, 2 * 64 * 16, rtol=1e-6)


# --- calibration: section 6.7.4 and Fig. 6.17(a) ------------------------------------------------


def test_k64_adc_share_of_energy_is_59_6_percent_within_10_points():
    # Section 6.7.4: "For K64, ADC energy constitutes 59.6% of TIMON's energy (Figure 6.9)". One
    # of the two fit targets; the published split is not reachable with non-negative read
    # energies (next test), so the fit trades it against the 4.6x fall: within the issue's
    # 10 points (measured 52.8%), and the residual is the one timon_split_errors reports.
    share = _share(_report(), "column_peripheral", "ADC")
    assert abs(share - 0.596) < 0.10
    np.testing.assert_allclose(share / 0.596 - 1.0, S.timon_split_errors()[0], atol=1e-4)


def test_published_split_needs_the_other_peripherals_below_40_4_percent():
    # Proof that 59.6% is out of reach: with zero cell and sense energies (the only fitted
    # terms; any positive value lowers the ADC share) the ADC is already below 59.6% of K64's
    # energy, because S&A (PUMA, 45 fJ per conversion), wordlines, DACs, IR, OR and bitlines
    # take about 42% against the envelope-anchored 7-bit ADC (0.127 pJ per conversion).
    # The bound leaves 0.5 points of float32 margin.
    share = _share(_report(cell_energy=0.0, sense_energy=0.0), "column_peripheral", "ADC")
    assert 0.50 < share < 0.596 - 0.005


def test_energy_per_mac_falls_4_6x_from_dp_width_4_to_128_within_30_percent():
    # Fig. 6.17(a): TIMON's dynamic-energy gain over the (fixed) Turing tensor core goes from
    # 0.85x at DP width 4 to 3.91x at 128, so energy per MAC falls by 3.91 / 0.85 = 4.6x. The
    # second fit target (measured 5.07x, +10%); tolerance: the 30%.
    ratio = _per_mac(dp_width=4.0)[0] / _per_mac(dp_width=128.0)[0]
    np.testing.assert_allclose(ratio, 3.91 / 0.85, rtol=0.30)
    np.testing.assert_allclose(ratio / (3.91 / 0.85) - 1.0, S.timon_split_errors()[1], atol=1e-4)


def test_fitted_read_energies_are_physical():
    # The fit gives non-negative energies no larger than an 8T current-mode read at 45 nm (tens
    # of uA for about a nanosecond at 1 V is at most ~100 fJ per unit product and per bitline);
    # the least-squares optimum lies on the sense_energy = 0 edge (sensing is charged per
    # bitline and row step, so it steepens the fall that is already above 4.6x).
    cell, sense = S.timon_read_energies()
    assert 0.1 * u.fJ < cell < 200 * u.fJ
    assert 0.0 <= sense < 200 * u.fJ
    # The residual is the least-squares optimum: moving the cell energy either way is worse.
    errors = [np.hypot(*S.timon_split_errors(cell * f, sense)) for f in (0.8, 1.0, 1.25)]
    assert errors[1] < errors[0] and errors[1] < errors[2]


# --- Table 6.3 --------------------------------------------------------------------------------


def test_table_6_3_area_split_for_32_adcs():
    # Table 6.3 (45 nm): IR 0.00077, SL 0.00006, DAC 0.00017, SRU -, ADC 0.10560, S&A 0.00192,
    # OR 0.00019, total 0.1087 mm². Tolerance 10% per row (the issue's; the table prints 2-3
    # significant figures and OR = 64 B at the IR's area per bit is 0.0001925 mm²). The counts
    # behind each row (256 B IR, 1024 DACs, 32 ADCs and S&As, 16 x 32-bit outputs) come from
    # the K64 configuration, and the ADC row from adc.py.
    report = S.area_breakdown(S.SRAMCIMBank(), mode="exact")
    for name, published in TABLE_6_3.items():
        np.testing.assert_allclose(report[name].area / u.mm2, published, rtol=0.10, err_msg=name)
    assert float(report["SRU"].area) == 0.0
    np.testing.assert_allclose(hj.total(report).area / u.mm2, TABLE_6_3_TOTAL, rtol=0.10)
    np.testing.assert_allclose(report["ADC"].area / hj.total(report).area, 0.1056 / 0.1087, rtol=0.02)


def test_area_rows_scale_with_their_counts():
    # Halving the ADCs halves the ADC and S&A rows (one S&A per ADC) and leaves the rest; a
    # 2-bit stream doubles the DAC row (2^(t - 1), as dac.py). Exact ratios up to round-off.
    base = S.area_breakdown(S.SRAMCIMBank(), mode="exact")
    half = S.area_breakdown(S.SRAMCIMBank(adcs=16.0), mode="exact")
    wide = S.area_breakdown(S.SRAMCIMBank(stream_width=2.0), mode="exact")
    for name in ("ADC", "S&A"):
        np.testing.assert_allclose(half[name].area / base[name].area, 0.5, rtol=1e-5)
    np.testing.assert_allclose(half["IR"].area, base["IR"].area, rtol=1e-6)
    np.testing.assert_allclose(wide["DAC"].area / base["DAC"].area, 2.0, rtol=1e-5)


def test_mvm_area_is_table_6_3_total_and_report_total_is_mvm():
    bank = S.SRAMCIMBank()
    cost, report = S.mvm(bank), S.energy_breakdown(bank)
    np.testing.assert_allclose(cost.area, hj.total(S.area_breakdown(bank)).area, rtol=1e-6)
    for field in hj.cost.COST_FIELDS:
        np.testing.assert_allclose(getattr(hj.total(report), field), getattr(cost, field), rtol=1e-6)


# --- Fig. 6.9: DP width --------------------------------------------------------------------


@pytest.mark.parametrize("chunks", [1.0, 4.0])
def test_fig_6_9_energy_and_latency_per_mac_fall_as_dp_width_grows(chunks):
    # Fig. 6.9 and section 6.4.3: higher DP widths amortize the peripherals and the shared-ADC
    # latency, so energy/MAC and latency/MAC fall from d = 4 to 128 (t = l = 1); strictly.
    costs = np.array([_per_mac(dp_width=d, chunks=chunks) for d in DP_WIDTHS])
    assert np.all(np.diff(costs[:, 0]) < 0), costs[:, 0]
    assert np.all(np.diff(costs[:, 1]) < 0), costs[:, 1]


@pytest.mark.parametrize("chunks", [1.0, 4.0])
def test_fig_6_9_column_peripheral_dominates_at_small_dp_width(chunks):
    # Section 6.4.3: "energy/MAC is heavily dominated by column peripherals at lower DP widths".
    # At d = 4: column peripheral above 90% of the energy (measured 94-97%).
    report = _report(dp_width=4.0, chunks=chunks)
    assert _share(report, "column_peripheral") > 0.9


@pytest.mark.xfail(
    strict=True,
    reason="gap: at d = 4 the S&A (PUMA's 45 fJ per conversion, 2.9 pJ/MAC) outweighs the 3-bit ADC "
    "(the envelope-anchored quadratic law gives 18 fJ per conversion, 1.1 pJ/MAC); section 6.4.3's 'ADC "
    "being the top contributor' needs S&A < 18 fJ, below a 45 nm 16-bit add (Horowitz 0.05 pJ)",
)
def test_fig_6_9_adc_is_the_top_contributor_at_small_dp_width():
    # Section 6.4.3: "... with ADC being the top contributor" (at d = 4).
    leaves = {name: float(cost.energy) for name, cost in _report(dp_width=4.0).flat().items()}
    assert max(leaves, key=leaves.get) == "column_peripheral/ADC"


def test_fig_6_9_adc_is_the_top_contributor_of_the_k_variants():
    # Section 6.4.3 / 6.7.4: the ADC is the largest leaf for the K-variants (d = 32, 64, 128).
    for d in (32.0, 64.0, 128.0):
        leaves = {name: float(cost.energy) for name, cost in _report(dp_width=d).flat().items()}
        assert max(leaves, key=leaves.get) == "column_peripheral/ADC", d


def test_fig_6_9_column_peripheral_except_adc_is_unchanged_by_dp_width():
    # Section 6.4.3: the column peripheral except the ADC "remains nearly unchanged" as d grows
    # (it depends on the slice width); per vector here it is exactly unchanged (rtol 1e-5).
    def non_adc(d: float) -> float:
        column = _report(dp_width=d)["column_peripheral"]
        return sum(float(column[name].energy) for name in ("SRU", "S&A", "OR"))

    np.testing.assert_allclose(non_adc(4.0), non_adc(128.0), rtol=1e-5)


# --- Fig. 6.10: stream and slice widths -------------------------------------------------------


@pytest.mark.parametrize("dp_width", [32.0, 64.0, 128.0])
@pytest.mark.parametrize("t,width", [(4.0, 1.0), (1.0, 4.0), (2.0, 2.0)])
def test_fig_6_10_wider_streams_or_slices_cost_more_per_mac(dp_width, t, width):
    # Fig. 6.10: "an increase in either stream or slice width makes the energy/MAC as well as
    # latency/MAC worse". Strictly both for t * l = 4 (3 more ADC bits) at the K-variants' widths.
    base = _per_mac(dp_width=dp_width)
    wide = _per_mac(dp_width=dp_width, stream_width=t, slice_width=width)
    assert wide[0] > base[0]
    assert wide[1] > base[1]


_K64_ONE_MORE_BIT = pytest.mark.xfail(
    strict=True,
    reason="gap: at K64 one more bit goes 7 -> 8 bits, where adc.timon_law grows 1.97x (< 2x: its "
    "crossover is 8 bits), so the halved conversions, S&A and streams win (839-914 fJ/MAC vs 968)",
)


@pytest.mark.parametrize("dp_width", [pytest.param(64.0, marks=_K64_ONE_MORE_BIT), 128.0])
@pytest.mark.parametrize("t,width", [(2.0, 1.0), (1.0, 2.0)])
def test_fig_6_10_one_more_stream_or_slice_bit_costs_more_energy_per_mac(dp_width, t, width):
    # Fig. 6.10 at t or l = 2 (one more ADC bit, half the conversions): worse in energy/MAC above
    # the law's 8-bit crossover (K128: 8 -> 9 bits costs 2.6x per conversion). Fig. 6.10's DP
    # width is not stated in the text.
    assert _per_mac(dp_width=dp_width, stream_width=t, slice_width=width)[0] > _per_mac(dp_width=dp_width)[0]


def test_wider_slices_pay_for_binary_weighted_currents():
    # l > 1 scales bitline currents by 1, 2, ..., 2^(l-1) in the SRU: per unit of cell current
    # the SRU adds (2^l - 1) / l - 1 (0 at l = 1, 0.5 at l = 2), exactly.
    def ratio(width: float) -> float:
        report = _report(slice_width=width, sense_energy=0.0)
        return float(report["column_peripheral", "SRU"].energy / report["sram_array", "cells"].energy)

    np.testing.assert_allclose([ratio(1.0), ratio(2.0)], [0.0, 0.5], atol=1e-6)


# --- chunks, tunable ADC, data, technology ---------------------------------------------------


def _row_per_mac(chunks: float, d: float) -> float:
    report = _report(chunks=chunks, dp_width=d)
    return float(hj.total(report["row_peripheral"]).energy) / (float(hj.total(report).ops) / 2)


def test_chunking_raises_row_energy_per_mac_but_not_adc_resolution():
    # Section 6.5: chunks keep the ADC resolution (log2 d + t l) and "can lead to increase in
    # energy/MAC from row peripheral (chunks map across BLs)": a wordline of 4 chunks serves a
    # quarter of the columns, so row energy per MAC is 4x that of 1 chunk (rtol 1e-5).
    np.testing.assert_allclose(_row_per_mac(4.0, 64.0) / _row_per_mac(1.0, 64.0), 4.0, rtol=1e-5)
    np.testing.assert_allclose(S.adc_resolution(S.SRAMCIMBank(chunks=1.0)), 7.0, rtol=1e-6)


@pytest.mark.xfail(
    strict=True,
    reason="gap: only the d / s rows of a step are driven (6.4.2: 'other rows see 0 V'), so row energy "
    "per MAC does not fall with d; with 4 chunks the row peripheral is 20% of d = 128's energy "
    "(wordlines 128 fJ/MAC of 867). A per-step cost of all 128 rows would amortize, but makes d = 4 "
    "cost ~8.9 pJ/MAC and Fig. 6.17(a)'s 0.85x unreachable (0.35x)",
)
def test_chunking_overhead_is_insignificant_at_high_dp_width():
    # Section 6.5: the increase "is insignificant at higher DP widths": under 5% at d = 128.
    assert _share(_report(chunks=4.0, dp_width=128.0), "row_peripheral") < 0.05


def test_tunable_adc_scales_adc_energy_and_stage_with_active_bits():
    # Section 6.6.2: a tunable SAR stops its search early, "linear reduction in ADC latency, and
    # thereby ADC energy with resolution": 5 of 7 bits costs 5/7 (round-off tolerance).
    bank = S.SRAMCIMBank(adc_kind="tunable_sar")
    full, short = S.energy_breakdown(bank), S.energy_breakdown(bank, active_bits=5.0)
    path = ("column_peripheral", "ADC")
    np.testing.assert_allclose(short[path].energy / full[path].energy, 5 / 7, rtol=1e-5)
    np.testing.assert_allclose(
        S.stage_latencies(bank, 5.0)["adc"] / S.stage_latencies(bank)["adc"], 5 / 7, rtol=1e-5
    )


def test_sparser_weights_cost_less_array_energy():
    # Fewer stored ones discharge the bitlines less (unit products scale with weight density).
    dense = float(_report()["sram_array", "cells"].energy)
    sparse = float(_report(weight_density=0.25)["sram_array", "cells"].energy)
    np.testing.assert_allclose(sparse / dense, 0.5, rtol=1e-5)


def test_smaller_node_costs_less_energy_and_area():
    at_45 = S.mvm(S.SRAMCIMBank())
    at_32 = S.mvm(S.SRAMCIMBank(tech=hj.Tech(32, 0.9, "HP")))
    assert float(at_32.energy) < float(at_45.energy)
    assert float(at_32.area) < float(at_45.area)


def test_vmap_over_dp_width_matches_loop():
    widths = jnp.array([8.0, 32.0, 128.0])
    batched = jax.vmap(lambda d: S.mvm(S.SRAMCIMBank(dp_width=d)).energy)(widths)
    looped = [float(S.mvm(S.SRAMCIMBank(dp_width=float(d))).energy) for d in widths]
    np.testing.assert_allclose(batched, looped, rtol=1e-5)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "knobs,parameter",
    [
        ({"dp_width": 0.5}, "dp_width"),
        ({"stream_width": 0.0}, "stream_width"),
        ({"slice_width": 20.0}, "slice_width"),
        ({"dp_width": 128.0, "stream_width": 3.0, "slice_width": 4.0}, "stream_width"),
        ({"dp_width": 1024.0, "chunks": 1.0}, "dp_width"),
        ({"dp_width": 2.0, "chunks": 4.0}, "chunks"),
        ({"chunks": 16.0}, "slice_width"),
        ({"adcs": 0.0}, "adcs"),
        ({"input_bits": 0.0}, "input_bits"),
        ({"weight_density": 1.5}, "weight_density"),
        ({"cell_energy": -1e-15}, "cell_energy"),
        ({"adc_sample_rate": float("nan")}, "adc_sample_rate"),
        ({"adc_kind": "flash"}, "adc_kind"),
        ({"wordlines": 0}, "wordlines"),
        ({"sub_banks": 2.5}, "sub_banks"),
        ({"tech": 45}, "tech"),
    ],
)
def test_bad_configuration_raises_naming_the_parameter(knobs, parameter):
    with pytest.raises(ValueError, match=parameter):
        S.SRAMCIMBank(**knobs)


def test_bad_action_arguments_raise():
    with pytest.raises(ValueError, match="mode"):
        S.mvm(S.SRAMCIMBank(), mode="fuzzy")
    with pytest.raises(ValueError, match="active_bits"):
        S.mvm(S.SRAMCIMBank(), active_bits=5.0)  # a plain SAR cannot stop early
    with pytest.raises(ValueError, match="active_bits"):
        S.mvm(S.SRAMCIMBank(adc_kind="tunable_sar"), active_bits=9.0)  # above its 7 bits
