"""Calibration, trend and validation tests for :mod:`hwjax.components.regfile`.

Tolerances: 15% for PUMA Table 3.5 (CACTI-derived, the issue's bound); Table 6.1's byte counts
and theoretical cycles are closed-form, so they are checked to 1e-6; its printed reuse factors
are rounded to 2-3 digits (0.5%); its measured cycles scatter around the theory (6%).
"""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

from hwjax.components import memory, regfile
from hwjax.units import mm2, mW, ns

CYCLE = 1 * ns  # PUMA: 1 GHz


def test_puma_register_file_size_section_3_3_4():
    # 2 x crossbar dimension x crossbars per core = 2 x 128 x 2 = 512 16-bit words = 1 KB (Table 3.5).
    rf = regfile.RomRegisterFile()
    assert float(regfile.rom_rf_words(rf)) == 512
    assert float(regfile.rom_rf_memory(rf).capacity_bytes) == 1024


def test_table_3_5_register_file():
    # Table 3.5: Register File, 1 KB, 0.477 mW (= 0.33 dyn + 0.147 leak, figures.md 1.7), 0.00192 mm².
    rf = regfile.RomRegisterFile()
    mem = regfile.rom_rf_memory(rf)
    power = memory.read_energy(mem) / CYCLE + memory.leakage(mem)
    np.testing.assert_allclose(float(power / mW), 0.477, rtol=0.15)
    np.testing.assert_allclose(float(regfile.rom_rf_area(rf) / mm2), 0.00192, rtol=0.15)
    cost = regfile.rf_access(rf, 16.0, mode="exact")
    assert float(cost.latency) <= CYCLE  # one-cycle register access


def test_rom_lookup_is_the_five_step_sequence_of_figure_3_3():
    rf = regfile.RomRegisterFile()
    mem = regfile.rom_rf_memory(rf)
    cost = regfile.rom_lookup(rf, 10.0, mode="exact")
    per_lookup = 2 * memory.read_energy(mem) + 3 * memory.write_energy(mem)
    np.testing.assert_allclose(float(cost.energy), 10 * float(per_lookup), rtol=1e-6)
    np.testing.assert_allclose(float(cost.latency), 50 * float(memory.access_time(mem)), rtol=1e-6)
    # "without increasing the array area": only the second wordline's drivers are added
    overhead = float(regfile.rom_area_overhead(rf) / memory.area(mem))
    assert 0.0 < overhead < 0.1


def test_rom_lookup_costs_more_than_a_register_read():
    rf = regfile.RomRegisterFile()
    lookup = regfile.rom_lookup(rf, 1.0, mode="exact")
    read = regfile.rf_access(rf, 16.0, mode="exact")
    np.testing.assert_allclose(float(lookup.energy / read.energy), 5.0, rtol=1e-6)


def test_register_file_grows_with_crossbars():
    small, big = regfile.RomRegisterFile(xbars_per_core=2.0), regfile.RomRegisterFile(xbars_per_core=8.0)
    assert regfile.rom_rf_area(big) > 3 * regfile.rom_rf_area(small)
    assert regfile.rf_access(big, 16.0).energy > regfile.rf_access(small, 16.0).energy


# Table 6.1: HMMA type, (m, n, k), reuse flag, #bytes, data reuse, theoretical WMMA cycles, measured.
TABLE_6_1 = [
    ("884 w/o reuse", (8, 8, 4), False, 384, 1.33, 96, 64),
    ("884 w reuse", (8, 8, 4), True, 256, 2.0, 64, 64),
    ("1688 - A", (16, 8, 8), False, 896, 2.28, 56, 59),
    ("1688 - B", (16, 8, 8), False, 896, 2.28, 56, 56),
    ("1688 - C", (8, 16, 8), False, 896, 2.28, 56, 54),  # issued transposed: D^T = B^T A^T
]
WMMA_SHAPES = {"A": (16, 16, 16), "B": (32, 8, 16), "C": (8, 32, 16)}


@pytest.mark.parametrize(
    "name,hmma,reuse,nbytes,data_reuse,theory,measured", TABLE_6_1, ids=[r[0] for r in TABLE_6_1]
)
def test_table_6_1_hmma_bytes_reuse_and_wmma_cycles(name, hmma, reuse, nbytes, data_reuse, theory, measured):
    rf = regfile.GpgpuRegisterFile()
    wmma = WMMA_SHAPES[name[-1]] if name.startswith("1688") else (16, 16, 16)
    np.testing.assert_allclose(float(regfile.hmma_rf_bytes(*hmma, reuse=reuse)), nbytes, rtol=1e-6)
    traffic = regfile.wmma_rf_traffic(wmma, hmma, reuse, mode="exact")
    np.testing.assert_allclose(float(traffic["reuse"]), data_reuse, rtol=0.005)
    assert float(traffic["ops"]) == 2 * 16 * 16 * 16
    cycles = float(regfile.wmma_cycles(rf, traffic, mode="exact"))
    np.testing.assert_allclose(cycles, theory, rtol=1e-6)
    if name.startswith("1688"):  # 884's measured 64 is the compiler's reuse variant for both rows
        np.testing.assert_allclose(cycles, measured, rtol=0.06)


def test_turing_wmma_is_register_file_bound_at_half_peak():
    # Section 6.3.2: tensor cores run at about half of the 256 ops/clock peak, bound by the RF.
    rf = regfile.GpgpuRegisterFile()
    traffic = regfile.wmma_rf_traffic((16, 16, 16), (16, 8, 8), mode="exact")
    ops_per_clock = float(traffic["ops"]) / float(regfile.wmma_cycles(rf, traffic, mode="exact"))
    assert 0.45 * 256 < ops_per_clock < 0.6 * 256
    # a compute-bound shape (large HMMA, high reuse) reaches the peak instead
    big = regfile.wmma_rf_traffic((64, 64, 64), (64, 64, 64), mode="exact")
    np.testing.assert_allclose(float(regfile.wmma_cycles(rf, big, mode="exact")), 2 * 64**3 / 256, rtol=1e-6)


def test_gpgpu_register_file_organisation_and_access():
    # Fig. 6.7: 4 banks x 8 sub-banks x 2 KB = 64 KB; one access reads a 1024-bit warp register.
    rf = regfile.GpgpuRegisterFile()
    sub = regfile.gpgpu_sub_bank(rf)
    assert float(sub.capacity_bytes) == 2048 and float(sub.width_bits) == 128
    cost = regfile.gpgpu_rf_access(rf, 128.0, mode="exact")  # one warp register, one clock
    np.testing.assert_allclose(float(cost.latency), 1 / 1.545e9, rtol=1e-6)
    energy = float(regfile.gpgpu_rf_access_energy(rf))
    assert energy > 8 * float(memory.read_energy(sub))  # sub-banks plus the H-tree
    # 8T SRAM at 45 nm: tens of fJ per bit, well below a 64-bit Horowitz cache read per bit
    assert 0.02e-12 < energy / 1024 < 0.2e-12
    assert float(regfile.gpgpu_rf_access(rf, 1280.0, mode="exact").latency) == pytest.approx(10 / 1.545e9)


def test_operand_reuse_cuts_register_file_energy():
    rf = regfile.GpgpuRegisterFile()
    plain = regfile.gpgpu_rf_wmma(rf, (16, 16, 16), (8, 8, 4), reuse=False, mode="exact")
    reused = regfile.gpgpu_rf_wmma(rf, (16, 16, 16), (8, 8, 4), reuse=True, mode="exact")
    np.testing.assert_allclose(float(plain.energy / reused.energy), 384 / 256, rtol=1e-6)
    np.testing.assert_allclose(float(plain.latency / reused.latency), 96 / 64, rtol=1e-6)
    assert float(plain.ops) == 8192


def test_wmma_gradients_are_finite_in_every_mode():
    rf = regfile.GpgpuRegisterFile()
    for mode in ("exact", "ste", "smooth"):

        def latency(m, n, k, mode=mode):
            return regfile.gpgpu_rf_wmma(rf, (16.0, 16.0, 16.0), (m, n, k), mode=mode).latency

        grads = jax.grad(latency, argnums=(0, 1, 2))(16.0, 8.0, 8.0)
        assert all(math.isfinite(float(g)) for g in grads)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"xbar_size": 2.0}, "xbar_size"),
        ({"xbars_per_core": 100.0}, "xbars_per_core"),
        ({"word_bits": 0.0}, "word_bits"),
        ({"tech": "32nm"}, "tech"),
    ],
)
def test_bad_rom_register_file_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        regfile.RomRegisterFile(**kwargs)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"capacity_bytes": 1.0}, "capacity_bytes"),
        ({"banks": 0.0}, "banks"),
        ({"register_bits": 8192.0}, "register_bits"),
        ({"bytes_per_clock": -1.0}, "bytes_per_clock"),
        ({"clock_hz": 0.0}, "clock_hz"),
    ],
)
def test_bad_gpgpu_register_file_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        regfile.GpgpuRegisterFile(**kwargs)


def test_bad_action_arguments():
    rf, gpu = regfile.RomRegisterFile(), regfile.GpgpuRegisterFile()
    with pytest.raises(ValueError, match="lookups"):
        regfile.rom_lookup(rf, -1.0)
    with pytest.raises(ValueError, match="nbytes"):
        regfile.gpgpu_rf_access(gpu, -1.0)
    with pytest.raises(ValueError, match="op"):
        regfile.gpgpu_rf_access(gpu, 8.0, op="swap")
    with pytest.raises(ValueError, match="element_bytes"):
        regfile.hmma_rf_bytes(8, 8, 4, element_bytes=0.0)
