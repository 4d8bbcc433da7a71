"""The registry of named memory devices: crossbar cells and eNVM macros, with cited presets.

A :class:`Device` holds what the array models need from a cell: its conductance window
(``r_on``/``r_off`` plus an optional series access resistance), its read voltage and read pulse,
the levels it supports, its memory-mode read and its program-verify write (energy and latency
per pulse, iterations per write), its endurance and cell area in F², and the programming and
read-noise fits (:class:`NoiseModel`) that behavioural simulation draws from. An
:class:`EnvmDevice` holds a device as a multi-level eNVM memory macro (MaxNVM's data).

**Registry.** This module is the one place a device is looked up by name; all names share one
name space (:data:`NAMES`), and a name in both tables is one technology seen two ways:

==========  ============================  ===============================================
name        :func:`device` (crossbar)     :func:`envm_device` (eNVM macro)
==========  ============================  ===============================================
``taox``    TaOx ReRAM (Sandia, CrossSim)
``pcm``     IBM PCM (Joshi, CrossSim)     MaxNVM Table 1's 90 nm MLC-PCM
``sonos``   Infineon 40 nm SONOS
``ecram``   IBM ECRAM
``ctt``     MaxNVM's 16 nm CTT cell       MaxNVM Table 4's MLC-CTT store
``isaac``   ISAAC's cell (Accelergy)
``puma``    PUMA's memristor
``rram``                                  MaxNVM Table 1's 28 nm RRAM macro
``stt``                                   MaxNVM Table 1's 28 nm STT-MRAM macro
==========  ============================  ===============================================

Other views are derived from these records, never kept in a table of their own:
:func:`hwjax.sim.devices.from_device` (a behavioural noise model),
:class:`hwjax.components.memory.EnvmArray` (``technology`` names an eNVM macro) and the Sandia
tile of ``hwjax_models.analog_tile`` (its devices read in a common window).

Presets (:data:`PRESETS`, :data:`ENVM_PRESETS`) cite their sources field by field in
comments. Tags follow ``reference/figures.md``: ``[src]`` read from the named table, ``[der]``
computed from such values, ``[lit]`` a published value quoted from the named paper (not in the
seed documents), ``[est]`` an order-of-magnitude engineering estimate where no source gives the
number. Estimated fields are the first to replace when a better source appears.

Conductances are in siemens, resistances in ohms, everything else SI (V, s, J, F²).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax.numpy as jnp
import numpy as np

from hwjax import validate
from hwjax._pytree import Knob, pytree_dataclass, static_field
from hwjax.units import MOhm, V, fJ, kOhm, mm2, ms, nA, nJ, nS, ns, pJ, uA, uS, us

NOISE_KINDS = ("polynomial", "saturating_current")


@dataclasses.dataclass(frozen=True)
class NoiseModel:
    """A fitted conductance-error model (static, hashable): ``sigma_G`` as a function of ``G``.

    Two forms cover the CrossSim fits of figures.md section 5.3:

    * ``"polynomial"``: ``sigma_G = max(p(G / unit), 0) * unit`` with ``p`` given by
      ``coefficients`` (highest power first) in conductance units ``unit`` (S), e.g. ``uS``.
    * ``"saturating_current"``: the cell current ``I = G V_read`` in units ``unit`` (A) has
      ``sigma_I = max(A - A exp(-I / B), 0)``, ``coefficients = (A, B)``; then
      ``sigma_G = sigma_I / V_read`` (the SONOS fits, in nA).

    Attributes:
        kind: one of :data:`NOISE_KINDS`.
        coefficients: fit coefficients (see ``kind``).
        unit: S (polynomial) or A (saturating_current) per fit unit.
        source: citation of the fit.
        conductance_range: ``(g_min, g_max)`` in S over which the fit was made, or ``None``
            where the fit belongs to a device of the registry (whose window it then uses).
    """

    kind: str
    coefficients: tuple[float, ...]
    unit: float
    source: str = ""
    conductance_range: tuple[float, float] | None = None

    def __post_init__(self):
        validate.check_choice("kind", self.kind, NOISE_KINDS)
        validate.check_positive("unit", self.unit)
        if self.kind == "saturating_current" and len(self.coefficients) != 2:
            raise ValueError(
                f"coefficients must be (A, B) for a saturating_current fit; got {self.coefficients}"
            )


def noise_sigma(model: NoiseModel, conductance, v_read=0.1):
    """Standard deviation of the conductance error at ``conductance``, S.

    Args:
        model: the fit.
        conductance: target conductance(s), S, any shape.
        v_read: read voltage, V (used only by ``"saturating_current"`` fits).

    Returns:
        ``sigma_G`` in S, shaped like ``conductance``; never negative (the fits are floored at 0
        exactly as in CrossSim).
    """
    g = jnp.asarray(conductance, dtype=float)
    if model.kind == "polynomial":
        return jnp.maximum(jnp.polyval(jnp.asarray(model.coefficients), g / model.unit), 0.0) * model.unit
    amplitude, scale = model.coefficients
    current = g * v_read / model.unit
    sigma_current = jnp.maximum(amplitude - amplitude * jnp.exp(-current / scale), 0.0)
    return sigma_current * model.unit / v_read


# CrossSim fits, figures.md 5.3 [src] (sandialabs/cross-sim v3.2.0, simulator/devices/*).
# The two RRAM fits have no device of their own here (their sources give no costs), so each carries
# its conductance range; hwjax.sim.devices.from_fit builds a noise model over it.
MILO_RRAM_PROGRAMMING = NoiseModel(
    "polynomial",
    (-0.009107, 4.782321),
    uS,
    "RRAMMilo: Milo et al., IRPS 2021, Fig. 4; 50-225 uS",
    (50 * uS, 225 * uS),
)
WAN_RRAM_PROGRAMMING = NoiseModel(
    "polynomial",
    (1.536e-4, -1.167e-2, 2.374e-1, 1.053),
    uS,
    "RRAMWan: Wan et al., Nature 2022, ED Fig. 3; up to 39.26 uS (1 uS floor [est])",
    (1 * uS, 39.26 * uS),
)
JOSHI_PCM_PROGRAMMING = NoiseModel(
    "polynomial", (-0.00178767, 0.07585724, 0.28638599), uS, "PCMJoshi: Joshi et al., Nat. Commun. 2020"
)
SONOS_PROGRAMMING = NoiseModel(
    "saturating_current", (19.88665, 176.3115), nA, "SONOS: Agrawal et al., IEDM 2022, t = 0 d"
)
SONOS_READ = NoiseModel("saturating_current", (12.58037, 215.36557), nA, "SONOS read noise: CrossSim")
PARABOLIC_READ = NoiseModel(
    "polynomial", (2e-4, 2e-2, 10.0), nS, "hypothetical parabolic read noise, CrossSim v2.0, 0-1000 nS"
)


def _check_window(r_on, r_off) -> None:
    """Concrete ``r_off`` must exceed ``r_on`` (a conductance window needs G_on > G_off)."""
    if validate.is_traced((r_on, r_off)):
        return
    if float(np.min(np.asarray(r_off) - np.asarray(r_on))) <= 0:
        raise ValueError(
            f"r_off={r_off!r} Ohm must exceed r_on={r_on!r} Ohm: allowed range of r_off is (r_on, inf)"
        )


def _check_optional(name: str, value, **kwargs):
    return None if value is None else validate.check_range(name, value, **kwargs)


@pytree_dataclass
class Device:
    """A crossbar cell technology (a pytree: every number is a differentiable leaf).

    Attributes:
        r_on: low-resistance (high-conductance) state, Ohm, > 0.
        r_off: high-resistance state, Ohm, > ``r_on``.
        v_read: read voltage across the cell, V, in (0, 5].
        read_pulse: how long the read voltage is applied per streamed input bit in an MVM, s.
        read_latency: memory-mode read (sense) of one row, s.
        write_energy: energy of one program pulse in one cell, J (>= 0).
        write_latency: duration of one program pulse applied to a row in parallel, s.
        bits_per_cell: bits the device stores reliably (``2**bits`` levels), in [1, 16].
        write_pulses: mean program-verify iterations (a pulse and a verify read) to write all
            ``bits_per_cell`` bits, >= 1.
        endurance: write cycles before wear-out, or ``None`` where no source gives it.
        cell_area_f2: cell area in units of F² (F = feature size), or ``None`` where unknown.
        r_access: series resistance of an access device (1T1R), Ohm, >= 0.
        read_energy: memory-mode read energy per cell, J, or ``None`` to derive it from the
            read physics (``v_read² G read_latency``).
        update_energy: energy of one parallel-update (outer-product) pulse in one cell at full
            column amplitude, J; ``None`` takes ``write_energy``.
        update_latency: duration of one parallel-update pulse, s; ``None`` takes
            ``write_latency``.
        name: preset name (static).
        programming_noise, read_noise: :class:`NoiseModel` fits or ``None`` (static).
        source: short citation of the preset (static).
    """

    r_on: Any
    r_off: Any
    v_read: Any
    read_pulse: Any
    read_latency: Any
    write_energy: Any
    write_latency: Any
    bits_per_cell: Knob = 1.0
    write_pulses: Knob = 1.0
    endurance: Knob | None = None
    cell_area_f2: Knob | None = None
    r_access: Knob = 0.0
    read_energy: Knob | None = None
    update_energy: Knob | None = None
    update_latency: Knob | None = None
    name: str = static_field("custom")
    programming_noise: NoiseModel | None = static_field(None)
    read_noise: NoiseModel | None = static_field(None)
    source: str = static_field("")

    def __post_init__(self):
        checks = {
            "r_on": dict(low=0.0, low_open=True, unit="Ohm"),
            "r_off": dict(low=0.0, low_open=True, unit="Ohm"),
            "v_read": dict(low=0.0, high=5.0, low_open=True, unit="V"),
            "read_pulse": dict(low=0.0, low_open=True, unit="s"),
            "read_latency": dict(low=0.0, low_open=True, unit="s"),
            "write_energy": dict(low=0.0, unit="J"),
            "write_latency": dict(low=0.0, low_open=True, unit="s"),
            "bits_per_cell": dict(low=1.0, high=16.0),
            "write_pulses": dict(low=1.0),
            "r_access": dict(low=0.0, unit="Ohm"),
        }
        validate.check_fields(self, checks)
        optional = {"endurance": dict(low=1.0), "cell_area_f2": dict(low=0.0, low_open=True)}
        optional["read_energy"] = dict(low=0.0, unit="J")
        optional["update_energy"] = dict(low=0.0, unit="J")
        optional["update_latency"] = dict(low=0.0, low_open=True, unit="s")
        for name, kwargs in optional.items():
            object.__setattr__(self, name, _check_optional(name, getattr(self, name), **kwargs))
        _check_window(self.r_on, self.r_off)

    @classmethod
    def from_conductances(cls, g_on, g_off, **kwargs) -> Device:
        """A device given its conductance window ``g_on > g_off > 0`` in S instead of resistances."""
        g_on = validate.check_positive("g_on", g_on, unit="S")
        g_off = validate.check_positive("g_off", g_off, unit="S")
        return cls(r_on=1.0 / g_on, r_off=1.0 / g_off, **kwargs)

    @property
    def g_on(self):
        """Highest cell conductance including the access device, S."""
        return 1.0 / (self.r_on + self.r_access)

    @property
    def g_off(self):
        """Lowest cell conductance including the access device, S."""
        return 1.0 / (self.r_off + self.r_access)

    @property
    def on_off_ratio(self):
        """``g_on / g_off`` (dimensionless)."""
        return self.g_on / self.g_off

    @property
    def pulse_update_energy(self):
        """Energy of one outer-product update pulse per cell, J (``write_energy`` if not given)."""
        return self.write_energy if self.update_energy is None else self.update_energy

    @property
    def pulse_update_latency(self):
        """Duration of one outer-product update pulse, s (``write_latency`` if not given)."""
        return self.write_latency if self.update_latency is None else self.update_latency

    @property
    def levels(self):
        """Number of programmable levels, ``2**bits_per_cell``."""
        return 2.0**self.bits_per_cell


def _pulse_energy(voltage: float, conductance: float, duration: float) -> float:
    """Energy ``V² G t`` dissipated in a cell by one pulse, J."""
    return voltage**2 * conductance * duration


def _mid_conductance(r_on: float, r_off: float, r_access: float = 0.0) -> float:
    """Mean conductance of levels spread uniformly over the window, S."""
    return 0.5 * (1.0 / (r_on + r_access) + 1.0 / (r_off + r_access))


# ---------------------------------------------------------------------------------------------
# ISAAC cell, figures.md 2 "ISAAC cell model" (Accelergy library/isaac/isaac.cell) [src].
_ISAAC_R_ON, _ISAAC_R_OFF, _ISAAC_R_ACCESS = 2 * kOhm, 3 * MOhm, 20 * kOhm
_ISAAC_SET_VOLTAGE, _ISAAC_SET_PULSE = 2.0 * V, 40 * ns  # set/reset 2 V, 40 ns (from PRIME) [src]

ISAAC = Device(
    r_on=_ISAAC_R_ON,
    r_off=_ISAAC_R_OFF,
    r_access=_ISAAC_R_ACCESS,  # access transistor 20 kOhm [src]
    v_read=0.3 * V,  # [src]
    read_pulse=1 * ns,  # read pulse 1 ns per 100 ns cycle [src]
    read_latency=100 * ns,  # ISAAC crossbar read cycle, figures.md 2 structural constants [sec]
    # [der] one 2 V, 40 ns set pulse through a mid-window cell: V² G_mid t
    write_energy=_pulse_energy(
        _ISAAC_SET_VOLTAGE, _mid_conductance(_ISAAC_R_ON, _ISAAC_R_OFF, _ISAAC_R_ACCESS), _ISAAC_SET_PULSE
    ),
    write_latency=_ISAAC_SET_PULSE,
    bits_per_cell=2.0,  # ISAAC Table I: 2 bits per cell, figures.md 2.2 [sec]
    write_pulses=10.0,  # [est] "program-verify ... requires tens of pulses" (dissertation ch. 5, [200])
    cell_area_f2=1.49,  # [src]
    name="isaac",
    source="ISAAC (Shafiee et al., ISCA 2016) cell as modelled by Accelergy, figures.md 2",
)

# ---------------------------------------------------------------------------------------------
# PUMA memristor, dissertation section 3.7.1: "resistance range of 100kOhm-1MOhm and read
# voltage of 0.5V"; 2-bit cells chosen conservatively, 6 bits demonstrated in the lab [16].
# Its read pulse and memory-mode read/write costs are not published as such: they are
# calibrated here to the PUMA simulator (figures.md 1.2-1.3, 128x128 array, 32 nm):
_PUMA_R_ON, _PUMA_R_OFF, _PUMA_V_READ = 100 * kOhm, 1 * MOhm, 0.5 * V
_PUMA_SIZE = 128  # figures.md 1.1 xbar_size
_PUMA_MVM_ENERGY = 0.3e-3 * 100 * ns  # figures.md 1.2 / 2.2: 0.3 mW over a 100 ns crossbar cycle
_PUMA_SERIAL_READ_LATENCY = 328.0 * us / 32  # figures.md 1.3: 10250 ns for the whole array
_PUMA_SERIAL_READ_ENERGY = 208.0 * nJ / 32  # figures.md 1.3: 6500 pJ
_PUMA_SERIAL_WRITE_LATENCY = 351.0 * us / 32  # figures.md 1.3: 10968.75 ns
# figures.md 1.3: the simulator's write power divides 676 nJ/32 by the *read* latency, so it
# charges 22606 pJ; hwjax calibrates to the 676 nJ/32 = 21125 pJ the constant states, which
# parallels the read entry (208 nJ/32 = 6500 pJ is exactly what the simulator charges for reads).
_PUMA_SERIAL_WRITE_ENERGY = 676.0 * nJ / 32
# figures.md 1.3: the outer product (xbar_op) takes 20 ns x 12.8 = 256 ns at 4.44 mW x 3.27 / 12.8,
# i.e. 290.4 pJ; read as a PANTHER OPA with 16 row-input bits streamed one per cycle (16 ns per
# pulse) and 4-bit column amplitudes, uniformly random data.
_PUMA_OPA_LATENCY = 20.0 * ns * 12.8
_PUMA_OPA_ENERGY = 4.44e-3 * 3.27 / 12.8 * _PUMA_OPA_LATENCY
_PUMA_OPA_BITS, _PUMA_OPA_COLUMN_BITS = 16.0, 4.0


def _puma_read_pulse() -> float:
    """Read pulse that makes the 128x128 PUMA array draw 0.3 mW in a 100 ns cycle, s.

    One 1-bit input cycle with uniformly random input bits (activity 1/2) and weights spread
    uniformly over the levels (mean conductance at mid-window) dissipates
    ``rows cols (1/2) V² G_mid t``; solving for ``t`` gives about 2.66 ns (a 2.7% duty cycle,
    the same order as the ISAAC cell's 1 ns pulse).
    """
    cell_power = _PUMA_V_READ**2 * _mid_conductance(_PUMA_R_ON, _PUMA_R_OFF)
    return _PUMA_MVM_ENERGY / (_PUMA_SIZE**2 * 0.5 * cell_power)


_PUMA_CELLS = _PUMA_SIZE * _PUMA_SIZE


def _puma_update_energy() -> float:
    """Update-pulse energy per cell that reproduces the PUMA outer product's 290.4 pJ, J.

    The OPA dissipates ``bits cells a_row a_col E`` with ``a_row = 1/2`` and ``a_col`` the mean
    squared amplitude of uniform 4-bit codes, ``(2^5 - 1) / (6 (2^4 - 1))``; about 6.4 fJ.
    """
    levels = 2.0**_PUMA_OPA_COLUMN_BITS
    column_activity = (2.0 * levels - 1.0) / (6.0 * (levels - 1.0))
    return _PUMA_OPA_ENERGY / (_PUMA_OPA_BITS * _PUMA_CELLS * 0.5 * column_activity)


# The serial write is read as one program-verify iteration per row: a program pulse followed by
# a verify read that costs what a serial read of the row costs (write - read = 5.6 ns, 0.89 pJ
# per cell), which is why the write takes only 7% longer than the read.
PUMA = Device(
    r_on=_PUMA_R_ON,
    r_off=_PUMA_R_OFF,
    v_read=_PUMA_V_READ,
    read_pulse=_puma_read_pulse(),
    read_latency=_PUMA_SERIAL_READ_LATENCY / _PUMA_SIZE,
    read_energy=_PUMA_SERIAL_READ_ENERGY / _PUMA_CELLS,
    write_latency=(_PUMA_SERIAL_WRITE_LATENCY - _PUMA_SERIAL_READ_LATENCY) / _PUMA_SIZE,
    write_energy=(_PUMA_SERIAL_WRITE_ENERGY - _PUMA_SERIAL_READ_ENERGY) / _PUMA_CELLS,
    write_pulses=1.0,
    update_energy=_puma_update_energy(),
    update_latency=_PUMA_OPA_LATENCY / _PUMA_OPA_BITS,
    bits_per_cell=6.0,
    cell_area_f2=ISAAC.cell_area_f2,  # PUMA's MVMU models are ISAAC's (dissertation 3.7.1)
    name="puma",
    source="PUMA (dissertation 3.7.1) calibrated to the PUMA simulator, figures.md 1.2-1.3",
)

# ---------------------------------------------------------------------------------------------
# Sandia analog-IMC study (seeds/sandia-analog-imc-devices-2021, "Training Accuracy and Tile
# Energy/Summary" table): array latency of an 8-bit VMM and of an 8-bit outer-product update
# (OPU), energy per OPU op. hwjax reads the VMM latency as 8 bit-serial input cycles and the OPU
# latency as 8 row-bit pulses (PANTHER-style streaming), so per-bit values are the table's / 8.
_SANDIA_BITS = 8.0

TAOX = Device(
    # Sandia's TaOx error model assumes G_ON/G_OFF = 10 (Sandia study, "Sandia TaOx ReRAM Error
    # Model") [src]; the study gives no absolute scale, so it is that of the TaOx/HfOx cell in the
    # DNN+NeuroSim V2 benchmark table (Peng et al.): Ron 100 kOhm, on/off 10 [lit, agrees].
    # Read at CrossSim's default Vread = 0.1 V (figures.md 5.1) [src].
    r_on=100 * kOhm,
    r_off=1 * MOhm,
    v_read=0.1 * V,
    # [der] ReRAM VMM array latency 0.38 us per 8-bit input: an upper bound on the read pulse
    read_pulse=0.38 * us / _SANDIA_BITS,
    read_latency=10 * ns,  # MaxNVM Table 1: 40 nm 1T1R RRAM macro read 10 ns [42] [src]
    write_energy=2.1 * fJ,  # Sandia table: ReRAM OPU 2.1 fJ per op [src]
    write_latency=0.51 * us / _SANDIA_BITS,  # [der] ReRAM OPU array latency 0.51 us
    bits_per_cell=8.0,  # Sandia TaOx ImageNet study: 8-bit weights, one device each [src]
    write_pulses=10.0,  # [est] "tens of pulses" for program-verify (dissertation ch. 5 [200])
    endurance=1e12,  # [lit] Lee et al., Nat. Mater. 10, 625 (2011), Ta2O5-x/TaO2-x
    cell_area_f2=4.0,  # MaxNVM Table 1 / section 2.1: crossbar RRAM 4 F² [src]
    name="taox",
    source="TaOx ReRAM: Sandia analog-IMC study 2021, DNN+NeuroSim V2, CrossSim, MaxNVM Table 1",
)

_PCM_G_MAX, _PCM_ON_OFF = 25 * uS, 100.0  # CrossSim PCMJoshi fit range, figures.md 5.3 [src]
PCM = Device(
    r_on=1.0 / _PCM_G_MAX,  # 40 kOhm, as DNN+NeuroSim V2 lists for IBM GST PCM [xchk]
    r_off=_PCM_ON_OFF / _PCM_G_MAX,
    v_read=0.2 * V,  # [est] typical PCM read bias, below the threshold-switching voltage
    read_pulse=16 * ns,  # [est] an 8-bit PWM input in ~128 ns, as IBM's PCM chips drive rows
    read_latency=120 * ns,  # MaxNVM Table 1: 20 nm PRAM read 120 ns [12] [src]
    write_energy=10 * pJ,  # [est] order of a PCM RESET pulse
    write_latency=120 * ns,  # MaxNVM Table 1: 40 nm PCM write 120 ns [67] [src]
    bits_per_cell=4.0,  # DNN+NeuroSim V2 benchmark (Peng et al.): 4-bit GST PCM cells [lit]
    write_pulses=10.0,  # [est] iterative program-and-verify
    endurance=1e8,  # [est] middle of the 1e6-1e9 usually quoted for PCM
    cell_area_f2=25.0,  # MaxNVM Table 1: 90 nm MLC-PCM, CMOS access, 25 F² [13] [src]
    programming_noise=JOSHI_PCM_PROGRAMMING,
    name="pcm",
    source="IBM PCM (Joshi et al. 2020 via CrossSim, figures.md 5.3), MaxNVM Table 1",
)

_SONOS_R_ON, _SONOS_I_MAX = 35 * kOhm, 3200 * nA  # figures.md 5.4 SONOS-TCAS; 5.3 Imax [src]
SONOS = Device(
    r_on=_SONOS_R_ON,
    r_off=6e12,  # CrossSim SONOS-TCAS preset: 35 kOhm - 6 TOhm (figures.md 5.4) [src]
    v_read=_SONOS_I_MAX * _SONOS_R_ON,  # [der] 0.112 V: the fitted Imax at Rmin
    read_pulse=0.40 * us / _SANDIA_BITS,  # [der] Sandia table: SONOS VMM array latency 0.40 us
    read_latency=0.40 * us / _SANDIA_BITS,  # [est] as one MVM input cycle
    write_energy=68.2 * fJ,  # Sandia table: SONOS OPU 68.2 fJ per op [src]
    write_latency=20 * us / _SANDIA_BITS,  # [der] Sandia table: SONOS OPU array latency 20 us
    bits_per_cell=7.0,  # CrossSim SONOS-TCAS: 7 cell bits (figures.md 5.4) [src]
    write_pulses=10.0,  # [est]
    endurance=1e5,  # [est] flash-class charge-trap endurance
    programming_noise=SONOS_PROGRAMMING,
    read_noise=SONOS_READ,
    name="sonos",
    source="Infineon 40 nm SONOS: Sandia analog-IMC study 2021, CrossSim SONOS fits (figures.md 5.3-5.4)",
)

ECRAM = Device(
    # DNN+NeuroSim V2 benchmark table (Peng et al.), ECRAM (IBM): Ron 500 MOhm, on/off 40 [lit]
    r_on=500 * MOhm,
    r_off=40 * 500 * MOhm,
    v_read=0.1 * V,  # [est]
    read_pulse=0.39 * us / _SANDIA_BITS,  # [der] Sandia table: ECRAM VMM array latency 0.39 us
    read_latency=0.39 * us / _SANDIA_BITS,  # [est] as one MVM input cycle
    write_energy=0.2 * fJ,  # Sandia table: ECRAM OPU 0.2 fJ per op [src]
    write_latency=1.9 * us / _SANDIA_BITS,  # [der] Sandia table: ECRAM OPU array latency 1.9 us
    bits_per_cell=4.0,  # DNN+NeuroSim V2 benchmark: 4-bit ECRAM cells [lit]
    # Sandia study: ECRAM updates are linear and deterministic ("dG does not depend on G"), so
    # one open-loop pulse per update and no verify loop [est].
    write_pulses=1.0,
    endurance=1e9,  # [est] order reported for ionic floating-gate ECRAM (Fuller et al., Science 2019)
    name="ecram",
    source="ECRAM: Sandia analog-IMC study 2021 (update costs), DNN+NeuroSim V2 (conductances)",
)

CTT = Device(
    # MaxNVM (MICRO 2019) section 2.2: 16 nm FinFET charge-trap transistors, 3-bit MLC measured,
    # read at a nominal 0.8 V wordline; written by iterative hot-carrier injection and reading
    # "until a desired shift is achieved, which takes 100ms or more"; write latency "on the order
    # of ms" [35]. Read currents are shown only as histograms, so the window is [est].
    r_on=100 * kOhm,  # [est]
    r_off=10 * MOhm,  # [est]
    v_read=0.8 * V,  # [src] wordline read voltage
    read_pulse=2 * ns,  # [est] as the array read below
    read_latency=2 * ns,  # MaxNVM Table 4: CTT array read latency 1.6-2.0 ns [src]
    write_energy=2.0 * V * 100 * uA * 1 * ms,  # [est] hot-carrier injection: ~2 V, ~100 uA for 1 ms
    write_latency=1 * ms,  # [src] "on the order of ms"
    bits_per_cell=3.0,  # [src] MLC3 test chip
    write_pulses=100.0,  # [der] 100 ms per write / 1 ms per pulse
    endurance=1e4,  # [est] few-time-programmable HCI storage
    name="ctt",
    source="Charge-trap transistor: MaxNVM (Pentecost et al., MICRO 2019) sections 2.2 and 7.1",
)

# ---------------------------------------------------------------------------------------------
# Multi-level eNVM memory macros (MaxNVM): the view of :class:`hwjax.components.memory.EnvmArray`


@dataclasses.dataclass(frozen=True)
class EnvmDevice:
    """A device as a multi-level eNVM memory macro, at the node of its source chip (plain data).

    The view :class:`hwjax.components.memory.EnvmArray` models: MaxNVM's macro data, not a
    crossbar cell's electrical behaviour (:class:`Device`).

    Attributes:
        name: registry name (its key in :data:`ENVM_PRESETS`).
        source: citation of the numbers.
        node_nm: node of the source chip, nm.
        cell_area: area per cell including periphery share, m² (``area_per_sqrt_cell`` adds the
            rest so that the source macro's area is reproduced).
        area_per_sqrt_cell: periphery area per sqrt(cell), m².
        reference_cells: cells of the source macro (the latency anchor).
        read_latency: read latency of the source macro, s.
        write_latency: one program operation of ``reference_bits_per_cell``-bit cells, s.
        reference_bits_per_cell: bits per cell at which ``write_latency`` was reported.
        max_bits_per_cell: most bits per cell the technology demonstrates.
        mlc3_misread: MaxNVM's adjacent-level fault rate at 3 bits per cell, or ``None``.
    """

    name: str
    source: str
    node_nm: float
    cell_area: float
    area_per_sqrt_cell: float
    reference_cells: float
    read_latency: float
    write_latency: float
    reference_bits_per_cell: float
    max_bits_per_cell: float
    mlc3_misread: float | None


def _table1_device(name, source, node_nm, cell_f2, macro_cells, macro_mm2, read, write, max_bpc, misread):
    """A MaxNVM Table 1 chip: F²-sized cells plus the periphery that completes the macro area."""
    cell = cell_f2 * (node_nm * 1e-9) ** 2
    periphery = (macro_mm2 * mm2 - macro_cells * cell) / math.sqrt(macro_cells)
    return EnvmDevice(name, source, node_nm, cell, periphery, macro_cells, read, write, 1.0, max_bpc, misread)


_MB = 2.0**20 * 8  # bits per MB (MaxNVM's MB read as MiB)
_CTT_CELLS = 32 * _MB / 3  # MaxNVM Table 4: VGG16 on MLC-CTT, 32 MB at 3 bits per cell

# eNVM macros, MaxNVM (Pentecost et al., MICRO 2019) Tables 1 and 4 [src]. Misread targets:
# MaxNVM section 2.3 quotes MLC3 fault rates from 1e-3 to 1e-5; CTT takes the high end (section
# 5.1: CTT stores MLC2 safely where optimistic RRAM stores MLC3).
_ENVM = (
    EnvmDevice(
        "ctt",
        "MaxNVM Table 4 (VGG16, MLC-CTT: 32 MB, 3 b/cell, 2.0 mm², 2.0 ns read; NVSim, 16 nm test "
        "chip node), section 2.2 (program: 100 ms or more per MLC write)",
        16.0,
        2.0 * mm2 / _CTT_CELLS,
        0.0,
        _CTT_CELLS,
        2.0 * ns,
        100 * ms,
        3.0,
        3.0,
        1e-3,
    ),
    _table1_device(
        "rram", "MaxNVM Table 1 [8] (28 nm CMOS-access RRAM, 39 F², 1 Mb, 0.56 mm², 6.8 ns, "
        "write 500 ns best case); 3 b/cell and the MLC3 level spread (1e-5) from [74]",
        28.0, 39.0, 2.0**20, 0.56, 6.8 * ns, 500 * ns, 3.0, 1e-5,
    ),
    _table1_device(
        "pcm", "MaxNVM Table 1 [13] (90 nm MLC-PCM, 25 F², 256 M cells, 120 mm², 320 ns read); "
        "write 120 ns from [67] (40 nm PCM)",
        90.0, 25.0, 2.0**28, 120.0, 320 * ns, 120 * ns, 2.0, None,
    ),
    _table1_device(
        "stt", "MaxNVM Table 1 [19] (28 nm STT-MRAM, 75 F², 1 Mb, 0.214 mm², 2.8 ns read, 20 ns "
        "write); MLC limited to 2 b/cell (section 2.1)",
        28.0, 75.0, 2.0**20, 0.214, 2.8 * ns, 20 * ns, 2.0, None,
    ),
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The registry

#: Crossbar cells by name, looked up by :func:`device`.
PRESETS: dict[str, Device] = {d.name: d for d in (TAOX, PCM, SONOS, ECRAM, CTT, ISAAC, PUMA)}
#: eNVM memory macros by name, looked up by :func:`envm_device`.
ENVM_PRESETS: dict[str, EnvmDevice] = {d.name: d for d in _ENVM}
#: Every registered device name (the module docstring lists them with their views).
NAMES: tuple[str, ...] = tuple(dict.fromkeys((*PRESETS, *ENVM_PRESETS)))


def device(name: str) -> Device:
    """The crossbar cell :class:`Device` called ``name`` (one of :data:`PRESETS`).

    Raises:
        ValueError: for an unknown name, listing every valid one.
    """
    validate.check_choice("device", name, tuple(PRESETS))
    return PRESETS[name]


def envm_device(name: str) -> EnvmDevice:
    """The eNVM memory macro :class:`EnvmDevice` called ``name`` (one of :data:`ENVM_PRESETS`).

    Raises:
        ValueError: for an unknown name, listing every valid one.
    """
    validate.check_choice("device", name, tuple(ENVM_PRESETS))
    return ENVM_PRESETS[name]
