"""Memristive crossbar arrays: MVM, transposed MVM, outer-product accumulate, serial read/write.

Every action returns the :class:`~hwjax.Cost` of the **array alone**: DACs, ADCs, sample-and-
holds and drivers are separate components. The models:

**MVM / MᵀVM** (inputs streamed ``dac_bits`` at a time, ``ceil(input_bits / dac_bits)``
cycles through :func:`hwjax.relax.ceil`). In each cycle the read voltage ``V`` is applied for
the integration time ``t`` and every driven cell dissipates ``V² G``. With ``a`` the input
activity (mean of ``(v / V)²`` over the driven lines: 1/2 for random bits) and ``Ḡ`` the mean
cell conductance (``G_off + mean_state (G_on - G_off)``; ``mean_state = 1/2`` for weights spread
uniformly over the levels), the ideal power is ``P0 = N_in N_out a V² Ḡ``.

*Wire (IR) losses.* For lines driven by fixed voltages, ``dP / dr_k = -I_k²`` for every wire
resistance ``r_k`` (Tellegen), so to first order wire resistance *lowers* the power drawn, by
exactly the wire dissipation computed with ideal currents: a driven line of ``N_out`` cells
carries ``m V Ḡ`` in its ``m``-th segment from the far end, a sensed line of ``N_in`` cells
``m a V Ḡ``; summing ``I² r_w`` gives ``P_wire = P0 x`` with
``x = Ḡ r_w [L(N_out) + a L(N_in)]``, ``L(N) = (N + 1)(2N + 1) / 6`` (mean-field: conductance
and input fluctuations ignored). hwjax uses ``P = P0 / (1 + x)``, equal to ``P0 (1 - x)`` to
first order, positive for any ``x``, and within 1% of a full nodal solution up to x ~ 0.15 (3%
at x ~ 0.7; see the tests). ``x`` also measures the IR drop, an accuracy proxy: the far cell of
a long driven line loses about ``1.5 x`` of its voltage.

*Latency.* One cycle lasts ``cycle_time`` when given (ISAAC and PUMA: 100 ns, set by the
converters), else the integration time plus the Elmore delay of the row and column lines,
``r_w c_w (N_rows² + N_cols²) / 2``.

**OPA** (PANTHER, dissertation section 5.3.1): row inputs are pulse-width modulated one bit per
cycle (m = 1, the latency optimum of section 5.3.1), column inputs pulse-amplitude modulated by
``column_bits``-bit DACs; a cell whose row bit is 1 receives one update pulse whose energy
scales with the column amplitude squared. Per cycle: ``rows cols a_row a_col E_update``, lasting
one update pulse (the device's ``update_energy``/``update_latency``: the small parallel-update
pulse, not the program-verify write pulse).

**Serial read / write** (row by row, as a memory). A row read senses all columns at once in
``read_latency`` and costs ``read_energy`` per cell (or ``V² Ḡ read_latency`` where the device
gives none). A write is ``n`` program-verify iterations per row, each a program pulse and a
verify read, with ``n = 1 + (n_dev - 1)(2^b - 1) / (2^b_dev - 1)``: the device's
``write_pulses`` at its full level count ``b_dev`` and fewer for coarser cells (the pulse step
follows the level spacing), never below one pulse.

**Area**: ``rows cols cell_area_f2 F²`` at the ``tech`` node's feature size F. There is no
leakage (non-volatile cells; the PUMA simulator charges none either).

Calibration (``tests/components/test_crossbar.py``): the PUMA/ISAAC 128x128 2-bit array at
32 nm, figures.md 1.2 and 2.2 (0.3 mW in a 100 ns cycle, 25 um², both scaling as size²), and
the PUMA simulator's serial read and write (figures.md 1.3); see :mod:`hwjax.devices` for how
the ``"puma"`` device's free parameters were fixed.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from hwjax import relax, validate
from hwjax._pytree import Knob, pytree_dataclass
from hwjax.cost import Cost
from hwjax.devices import Device
from hwjax.devices import device as device_preset
from hwjax.tech import DEFAULT_TECH, Tech, check_tech
from hwjax.units import fF, nm, um

#: Wire capacitance per unit length, F/m: the usual ~0.2 fF/um of on-chip wires (Weste and
#: Harris, CMOS VLSI Design, section 6.2), used when ``wire_capacitance`` is not given.
WIRE_CAPACITANCE_PER_LENGTH = 0.2 * fF / um
_MAX_INPUT_BITS = 64.0
# Allowed ranges of the Crossbar fields that may be None (None: take the device's value).
_OPTIONAL_CHECKS = {
    "read_voltage": dict(low=0.0, high=5.0, low_open=True, unit="V"),
    "integration_time": dict(low=0.0, low_open=True, unit="s"),
    "cycle_time": dict(low=0.0, low_open=True, unit="s"),
    "wire_capacitance": dict(low=0.0, unit="F"),
    "cell_area_f2": dict(low=0.0, low_open=True),
}


@pytree_dataclass
class Crossbar:
    """A ``rows x cols`` memristive array (a pytree; numeric fields are differentiable leaves).

    Attributes:
        rows, cols: array size; >= 1, non-integer values are relaxed (continuous) sizes.
        bits_per_cell: bits stored per cell, in [1, ``device.bits_per_cell``].
        device: a :class:`~hwjax.devices.Device` or a preset name (see :data:`~hwjax.devices.PRESETS`).
        read_voltage: read voltage, V, in (0, 5]; ``None`` takes ``device.v_read``.
        integration_time: time the read voltage is applied per input cycle, s; ``None`` takes
            ``device.read_pulse``.
        cycle_time: duration of one input cycle, s, >= ``integration_time``; ``None`` means the
            integration time plus the line settling time.
        mean_state: mean programmed conductance as a fraction of the window, in [0, 1]
            (``Ḡ = G_off + mean_state (G_on - G_off)``); 0.5 for weights spread uniformly over the
            levels, lower for pruned or near-zero weights mapped to low conductance.
        wire_resistance: wire resistance per cell pitch, Ohm, >= 0 (default 0: ideal wires, as
            CrossSim's default and the ISAAC/PUMA tables).
        wire_capacitance: wire capacitance per cell pitch, F, >= 0; ``None`` takes
            :data:`WIRE_CAPACITANCE_PER_LENGTH` times the cell pitch.
        cell_area_f2: cell area, F²; ``None`` takes ``device.cell_area_f2`` (required where the
            device has none).
        tech: the CMOS technology whose node sets the feature size F.
    """

    rows: Any
    cols: Any
    bits_per_cell: Any
    device: Device
    read_voltage: Knob | None = None
    integration_time: Knob | None = None
    cycle_time: Knob | None = None
    mean_state: Knob = 0.5
    wire_resistance: Knob = 0.0
    wire_capacitance: Knob | None = None
    cell_area_f2: Knob | None = None
    tech: Tech = DEFAULT_TECH

    def __post_init__(self):
        self._check_structure()
        required = {
            "rows": dict(low=1.0),
            "cols": dict(low=1.0),
            "bits_per_cell": dict(low=1.0, high=self._max_bits()),
            "mean_state": dict(low=0.0, high=1.0),
            "wire_resistance": dict(low=0.0, unit="Ohm"),
        }
        validate.check_fields(self, required)
        for name, kwargs in _OPTIONAL_CHECKS.items():
            value = getattr(self, name)
            self._set(name, None if value is None else validate.check_range(name, value, **kwargs))
        self._check_cycle()
        self._check_cell_area()

    def _set(self, name: str, value) -> None:
        object.__setattr__(self, name, value)

    def _check_structure(self) -> None:
        if isinstance(self.device, str):
            self._set("device", device_preset(self.device))
        if not isinstance(self.device, Device):
            raise ValueError(f"device must be a Device or a preset name, got {type(self.device).__name__}")
        check_tech(self.tech)

    def _max_bits(self) -> float:
        bits = self.device.bits_per_cell
        return 16.0 if validate.is_traced(bits) else float(np.min(np.asarray(bits)))

    def _check_cycle(self) -> None:
        cycle, integration = self.cycle_time, integration_time(self)
        if cycle is None or validate.is_traced((cycle, integration)):
            return
        if float(np.min(np.asarray(cycle) - np.asarray(integration))) < 0:
            raise ValueError(
                f"cycle_time={cycle!r} s must be at least integration_time={integration!r} s: "
                "allowed range of cycle_time is [integration_time, inf)"
            )

    def _check_cell_area(self) -> None:
        if self.cell_area_f2 is None and self.device.cell_area_f2 is None:
            raise ValueError(
                f"cell_area_f2 is needed: device {self.device.name!r} has no published cell area; "
                "pass cell_area_f2 (F², allowed range (0, inf))"
            )


def read_voltage(xb: Crossbar):
    """Read voltage applied to driven lines, V."""
    return xb.device.v_read if xb.read_voltage is None else xb.read_voltage


def integration_time(xb: Crossbar):
    """Time the read voltage is applied per input cycle, s."""
    return xb.device.read_pulse if xb.integration_time is None else xb.integration_time


def mean_conductance(xb: Crossbar):
    """Mean cell conductance ``G_off + mean_state (G_on - G_off)``, S."""
    g_on, g_off = xb.device.g_on, xb.device.g_off
    return g_off + xb.mean_state * (g_on - g_off)


def _cell_area_f2(xb: Crossbar):
    return xb.device.cell_area_f2 if xb.cell_area_f2 is None else xb.cell_area_f2


def _feature_size(xb: Crossbar) -> float:
    return xb.tech.node_nm * nm


def area(xb: Crossbar):
    """Array area ``rows cols cell_area_f2 F²``, m²."""
    return xb.rows * xb.cols * _cell_area_f2(xb) * _feature_size(xb) ** 2


def _wire_capacitance(xb: Crossbar):
    """Capacitance of one cell pitch of wire, F (default: 0.2 fF/um times the pitch)."""
    if xb.wire_capacitance is not None:
        return xb.wire_capacitance
    pitch = jnp.sqrt(_cell_area_f2(xb)) * _feature_size(xb)
    return WIRE_CAPACITANCE_PER_LENGTH * pitch


def _settling_time(xb: Crossbar):
    """Elmore delay of the row plus the column line, ``r_w c_w (rows² + cols²) / 2``, s."""
    return 0.5 * xb.wire_resistance * _wire_capacitance(xb) * (xb.rows**2 + xb.cols**2)


def _cycle(xb: Crossbar):
    """Duration of one input cycle, s."""
    if xb.cycle_time is not None:
        return xb.cycle_time
    return integration_time(xb) + _settling_time(xb)


def _segment_sum(n):
    """``sum_{m=1..n} m² / n = (n + 1)(2n + 1) / 6``: a line's I² r sum in units of its cells."""
    return (n + 1.0) * (2.0 * n + 1.0) / 6.0


def ir_drop_ratio(xb: Crossbar, n_in, n_out, activity):
    """Wire dissipation over ideal power, ``x = Ḡ r_w [L(n_out) + a L(n_in)]`` (dimensionless).

    Args:
        xb: the array.
        n_in: number of driven lines (rows for an MVM, columns for an MᵀVM).
        n_out: number of sensed lines.
        activity: input activity ``a`` in [0, 1].

    Returns:
        ``x >= 0``; also the relative IR drop at the far cells (see the module docstring).
    """
    g = mean_conductance(xb)
    return g * xb.wire_resistance * (_segment_sum(n_out) + activity * _segment_sum(n_in))


def _array_power(xb: Crossbar, n_in, n_out, activity):
    """Power drawn from the drivers while the read voltage is applied, W."""
    ideal = n_in * n_out * activity * read_voltage(xb) ** 2 * mean_conductance(xb)
    return ideal / (1.0 + ir_drop_ratio(xb, n_in, n_out, activity))


def uniform_activity(bits):
    """Mean of ``(code / code_max)²`` for uniformly distributed ``bits``-bit codes.

    ``(2^(b+1) - 1) / (6 (2^b - 1))``: 1/2 for single bits, tending to 1/3 for many bits.
    """
    levels = 2.0**bits
    return (2.0 * levels - 1.0) / (6.0 * (levels - 1.0))


def _activity(name: str, value, bits):
    if value is None:
        return uniform_activity(bits)
    return validate.check_range(name, value, 0.0, 1.0)


def _ops(xb: Crossbar):
    """Operations of one matrix operation: a MAC (2 ops) per cell."""
    return 2.0 * xb.rows * xb.cols


def _matrix_vector(xb: Crossbar, n_in, n_out, input_bits, dac_bits, input_activity, mode) -> Cost:
    relax.check_mode(mode)
    input_bits = validate.check_range("input_bits", input_bits, 1.0, _MAX_INPUT_BITS)
    dac_bits = validate.check_range("dac_bits", dac_bits, 1.0, 16.0)
    activity = _activity("input_activity", input_activity, dac_bits)
    cycles = relax.ceil(input_bits / dac_bits, mode=mode)
    energy = cycles * _array_power(xb, n_in, n_out, activity) * integration_time(xb)
    return Cost(energy=energy, latency=cycles * _cycle(xb), area=area(xb), ops=_ops(xb))


def mvm(xb: Crossbar, input_bits, dac_bits=1.0, input_activity=None, mode: str = "ste") -> Cost:
    """Matrix-vector multiply: inputs on the rows, currents summed on the columns.

    Args:
        xb: the array.
        input_bits: input precision, bits, in [1, 64] (16 for PUMA/ISAAC); continuous.
        dac_bits: bits applied per cycle (1 for ISAAC/PUMA's bit-serial inputs), in [1, 16].
        input_activity: mean ``(v / V_read)²`` over the rows per cycle, in [0, 1]; ``None``
            assumes uniformly random codes, :func:`uniform_activity` (1/2 for 1-bit cycles).
        mode: how ``ceil(input_bits / dac_bits)`` cycles are counted (:mod:`hwjax.relax`).

    Returns:
        Cost of one MVM of the array alone: energy (J), latency (s), array area (m²), ops
        ``2 rows cols``.
    """
    return _matrix_vector(xb, xb.rows, xb.cols, input_bits, dac_bits, input_activity, mode)


def mtvm(xb: Crossbar, input_bits, dac_bits=1.0, input_activity=None, mode: str = "ste") -> Cost:
    """Transposed MVM (PANTHER's MᵀVM): inputs on the columns, currents summed on the rows.

    Arguments and returns as :func:`mvm`; only the roles of the lines (and so the wire losses)
    swap.
    """
    return _matrix_vector(xb, xb.cols, xb.rows, input_bits, dac_bits, input_activity, mode)


def opa(
    xb: Crossbar,
    input_bits=16.0,
    column_bits=4.0,
    row_activity=0.5,
    column_activity=None,
    mode: str = "ste",
) -> Cost:
    """Outer-product accumulate in place (PANTHER section 5.3.1), one crossbar slice.

    Row inputs are streamed one bit per cycle as pulse widths; column inputs are applied as
    pulse amplitudes by ``column_bits``-bit DACs; every cell with a 1 on its row receives one
    update pulse scaled by its column amplitude.

    Args:
        xb: the array.
        input_bits: row-input precision, bits, in [1, 64] (16 in PANTHER): the number of cycles.
        column_bits: column DAC resolution, bits, in [1, 16] (PANTHER's p = 4).
        row_activity: fraction of row bits that are 1, in [0, 1].
        column_activity: mean ``(amplitude / full scale)²`` of the columns, in [0, 1]; ``None``
            assumes uniformly random codes (:func:`uniform_activity`).
        mode: how the ``ceil(input_bits)`` cycles are counted.

    Returns:
        Cost of the update: energy (J), latency ``cycles x`` the device's update pulse (s), area (m²), ops
        ``2 rows cols``.
    """
    relax.check_mode(mode)
    input_bits = validate.check_range("input_bits", input_bits, 1.0, _MAX_INPUT_BITS)
    column_bits = validate.check_range("column_bits", column_bits, 1.0, 16.0)
    row_activity = validate.check_range("row_activity", row_activity, 0.0, 1.0)
    column_activity = _activity("column_activity", column_activity, column_bits)
    cycles = relax.ceil(input_bits, mode=mode)
    per_cycle = xb.rows * xb.cols * row_activity * column_activity * xb.device.pulse_update_energy
    latency = cycles * xb.device.pulse_update_latency
    return Cost(energy=cycles * per_cycle, latency=latency, area=area(xb), ops=_ops(xb))


def _read_energy_per_cell(xb: Crossbar):
    """Memory-mode read energy of one cell, J: the device's, else ``V² Ḡ read_latency``."""
    if xb.device.read_energy is not None:
        return xb.device.read_energy
    return read_voltage(xb) ** 2 * mean_conductance(xb) * xb.device.read_latency


def program_verify_iterations(xb: Crossbar):
    """Mean program-verify iterations per cell write, ``1 + (n_dev - 1)(2^b - 1) / (2^b_dev - 1)``."""
    device = xb.device
    share = (2.0**xb.bits_per_cell - 1.0) / (2.0**device.bits_per_cell - 1.0)
    return 1.0 + (device.write_pulses - 1.0) * share


def _row_count(xb: Crossbar, rows, mode):
    """Number of sequential row operations: ``ceil(rows)`` rows, all of them by default."""
    relax.check_mode(mode)
    rows = xb.rows if rows is None else validate.check_nonnegative("rows", rows)
    return relax.ceil(rows, mode=mode)


def read(xb: Crossbar, rows=None, mode: str = "ste") -> Cost:
    """Serial (memory-mode) read, one row at a time, every column sensed at once.

    Args:
        xb: the array.
        rows: rows read, >= 0 (default: all ``xb.rows``); counted with ``ceil`` per ``mode``.
        mode: :mod:`hwjax.relax` mode for the row count.

    Returns:
        Cost: energy ``rows cols E_read`` (J), latency ``rows (read_latency + settling)`` (s),
        array area (m²).
    """
    count = _row_count(xb, rows, mode)
    energy = count * xb.cols * _read_energy_per_cell(xb)
    latency = count * (xb.device.read_latency + _settling_time(xb))
    return Cost(energy=energy, latency=latency, area=area(xb))


def write(xb: Crossbar, rows=None, mode: str = "ste") -> Cost:
    """Serial write with program-verify, one row at a time, all columns of a row in parallel.

    Each of :func:`program_verify_iterations` iterations applies a program pulse to the row and
    reads it back to verify.

    Args:
        xb: the array.
        rows: rows written, >= 0 (default: all ``xb.rows``); counted with ``ceil`` per ``mode``.
        mode: :mod:`hwjax.relax` mode for the row count.

    Returns:
        Cost: energy ``rows cols n (E_pulse + E_read)`` (J), latency
        ``rows n (write_latency + read_latency + settling)`` (s), array area (m²).
    """
    count = _row_count(xb, rows, mode)
    iterations = program_verify_iterations(xb)
    per_cell = iterations * (xb.device.write_energy + _read_energy_per_cell(xb))
    per_row = iterations * (xb.device.write_latency + xb.device.read_latency + _settling_time(xb))
    return Cost(energy=count * xb.cols * per_cell, latency=count * per_row, area=area(xb))
