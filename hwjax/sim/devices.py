"""Device non-idealities of an analog crossbar, on data: programming error, read noise, stuck-at
faults, conductance drift and IR drop along the wires.

A :class:`DeviceModel` (a pytree: continuous knobs are leaves, formula choices are static) holds
the conductance window ``[g_min, g_max]`` (S), the read voltage and the error models. The
functions are pure, jittable, vmappable over every leaf and differentiable (with the key fixed,
every draw is ``G + sigma(G) z`` with ``z`` a fixed standard normal, so gradients flow through
``G`` and ``sigma``). Every random draw comes from an explicit ``key``; ``key=None`` means
noise-free and raises ``ValueError`` when a noise knob is > 0 (under a trace, where the knob
cannot be inspected, the result is NaN instead, so the mistake cannot pass silently).
Named devices live in :mod:`hwjax.devices`: :func:`from_device` builds a model from one of them,
:func:`from_fit` from a CrossSim fit that has no device there.

**Levels to conductances.** Level ``L`` in ``[0, max_level]`` is programmed to
``G = g_min + (L / max_level)(g_max - g_min)`` (a linear map over the window, as CrossSim's
balanced/offset cores; the ``g_min`` baseline is removed again by :func:`to_levels`).

**Error forms** (figures.md 5.2, CrossSim ``generic_device.py``; the same forms serve
programming error, drawn once in :func:`program`, and read noise, redrawn by every
:func:`read`), with ``s`` the model's ``programming_sigma`` or ``read_sigma``:

* ``"independent"``: ``sigma_G = s (g_max - g_min)`` (CrossSim: alpha Gmax in units where
  Gmax = 1; hwjax takes the window, so ``s`` is a fraction of the usable range).
* ``"proportional"``: ``sigma_G = s G``.
* ``"inverse_proportional"``: CrossSim's ``G' = G + e / G`` in units of ``g_max``, i.e.
  ``sigma_G = s g_max² / G`` (0 where ``G = 0``).
* ``"fit"``: ``sigma_G = s * hwjax.devices.noise_sigma(fit, G, v_read)``, a published fit of
  figures.md 5.3 (:data:`~hwjax.devices.MILO_RRAM_PROGRAMMING`,
  :data:`~hwjax.devices.WAN_RRAM_PROGRAMMING`, :data:`~hwjax.devices.JOSHI_PCM_PROGRAMMING`,
  :data:`~hwjax.devices.SONOS_PROGRAMMING`, :data:`~hwjax.devices.SONOS_READ`) in absolute
  units; ``s = 1`` is the fit as published.
* ``"parabolic"``: the Sandia TaOx observation (seeds/sandia-analog-imc-devices-2021, "Sandia
  TaOx ReRAM Error Model": conductance error approximately parabolic in the target, smallest at
  low conductance) in CrossSim's form, :data:`~hwjax.devices.PARABOLIC_READ`
  (``2e-4 G² + 2e-2 G + 10`` nS over 0-1000 nS), mapped onto the window: with
  ``u = (G - g_min) / (g_max - g_min)``, ``sigma_G = s (g_max - g_min) p(1000 u nS) / 1000 nS``.
  ``s = 1`` is the fit itself on a 0-1000 nS window: 1% of the range at ``g_min``, 23% at
  ``g_max``.

Perturbed conductances are clipped to ``[g_min, g_max]`` (CrossSim v2 manual, figures.md 5.2)
unless ``clip_conductance=False``.

**Stuck-at faults.** Each cell is independently stuck at ``g_max`` (ON) with probability
``stuck_on_rate`` and at ``g_min`` (OFF) with ``stuck_off_rate`` (the two must sum to <= 1),
after programming and drift (a stuck cell ignores both).

**Drift** (PCM; figures.md 5.3 "PCMJoshi drift"): ``G(t) = G(t0) (t / t0)^-nu`` for
``drift_time > t0`` and no drift before ``t0`` (the programming error is defined at ``t0``).
``drift_form="constant"`` uses the leaf ``drift_nu`` for every cell (deterministic);
``"joshi"`` draws ``nu ~ N(mu_nu(G), sigma_nu(G))`` per cell with CrossSim's Joshi fits (G in
uS): ``mu_nu = max(-0.0045 G + 0.08, min(0.06, max(-0.00169 G + 0.0825, 0.055)))``,
``sigma_nu = 1 / (8 G + 30.032)``, reference ``t0 = 27.36 s``, and ``drift_nu`` unused.

**IR drop** (:func:`column_currents`). Rows are driven at column 0 through one wire segment,
columns are sensed at a virtual ground below row ``K - 1`` through one segment, every segment
has resistance ``r = wire_resistance`` (the topology of tests/components/test_crossbar.py's
nodal solver and of hwjax.components.crossbar's ``ir_drop_ratio``). To first order in ``r``
the wire voltages follow from the ideal cell currents ``c_ij = G_ij V_i``: the row wire drops
``dV_row[i, j] = r sum_{m<=j} sum_{j'>=m} c_ij'`` and the column wire rises
``dV_col[i, j] = r sum_{m>=i} sum_{i'<=m} c_i'j``; each cell
then sees ``V_i - dV_row - dV_col``, so the column current loses
``D_j = sum_i G_ij (dV_row + dV_col)`` of its ideal ``I0_j``. ``D`` is linear in the inputs,
``D = V @ H`` with ``H`` built from ``G`` by two matmuls (:func:`ir_loss_matrix`), so the IR
path costs two input matmuls instead of one. hwjax returns ``I0 / (1 + D / I0)``
(equal to ``I0 - D`` to first order, the resummation crossbar.py uses for power), which
:func:`nodal_currents` (the full resistor network, solved exactly) confirms to second order:
within 0.5% up to an IR-drop ratio ``x = G_mean r (L(N) + L(K))`` of 0.2, 1.5% at x ~ 0.4 and
3.5% at x ~ 0.8 (``L(n) = (n+1)(2n+1)/6``; 7.6% at x ~ 1.5), where plain ``I0 - D`` is already
7% off at x = 0.2 and ideal wires 27% (tests/sim/test_devices.py). With inputs of mixed sign
(``D / I0 < 0``) it falls back to ``I0 - D`` (1.6% of the largest column current at x ~ 0.9).

Assumptions: the Wan RRAM fit's window (``g_min = 1 uS``) is [est]: the fit gives only
``g_max <= 39.26 uS``. Rates, sigmas and times are checked at construction (concrete values
raise ``ValueError`` naming the parameter; traced values are clamped, hwjax.validate).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import devices as hw_devices
from hwjax import validate
from hwjax._pytree import Knob, pytree_dataclass, static_field
from hwjax.units import nS, uS

ERROR_FORMS = ("independent", "proportional", "inverse_proportional", "fit", "parabolic")
DRIFT_FORMS = ("constant", "joshi")

#: CrossSim's Joshi PCM drift reference time, s (figures.md 5.3: T0 = 27.36 s).
JOSHI_T0 = 27.36
_PARABOLIC_SPAN = 1000.0 * nS  # PARABOLIC_READ's fitted range, 0-1000 nS (figures.md 5.3)


@pytree_dataclass
class DeviceModel:
    """Non-idealities of a crossbar cell for behavioural simulation (a pytree).

    Attributes:
        g_min, g_max: conductance window, S, ``0 <= g_min < g_max``.
        v_read: full-scale read voltage, V, > 0.
        programming_form, read_form: one of :data:`ERROR_FORMS` (static).
        programming_sigma, read_sigma: ``s >= 0`` of the form (module docstring); a
            multiplier of the published fit for ``"fit"`` and ``"parabolic"``.
        programming_fit, read_fit: :class:`hwjax.devices.NoiseModel` for form ``"fit"`` (static).
        stuck_on_rate, stuck_off_rate: per-cell fault probabilities in [0, 1], sum <= 1.
        drift_nu: drift exponent (``drift_form="constant"``), >= 0.
        drift_time: time since programming, s, >= 0 (no drift up to ``drift_t0``).
        drift_t0: drift reference time, s, > 0.
        wire_resistance: resistance of one wire segment between adjacent cells, Ohm, >= 0.
        drift_form: one of :data:`DRIFT_FORMS` (static).
        clip_conductance: clip perturbed conductances to the window (static).
    """

    g_min: Knob = 1e-6
    g_max: Knob = 1e-5
    v_read: Knob = 0.1
    programming_form: str = static_field("independent")
    programming_sigma: Knob = 0.0
    programming_fit: Any = static_field(None)
    read_form: str = static_field("independent")
    read_sigma: Knob = 0.0
    read_fit: Any = static_field(None)
    stuck_on_rate: Knob = 0.0
    stuck_off_rate: Knob = 0.0
    drift_nu: Knob = 0.0
    drift_time: Knob = 0.0
    drift_t0: Knob = 1.0
    wire_resistance: Knob = 0.0
    drift_form: str = static_field("constant")
    clip_conductance: bool = static_field(True)

    def __post_init__(self):
        checks = {
            "g_min": dict(low=0.0, unit="S"),
            "g_max": dict(low=0.0, low_open=True, unit="S"),
            "v_read": dict(low=0.0, high=5.0, low_open=True, unit="V"),
            "programming_sigma": dict(low=0.0),
            "read_sigma": dict(low=0.0),
            "stuck_on_rate": dict(low=0.0, high=1.0),
            "stuck_off_rate": dict(low=0.0, high=1.0),
            "drift_nu": dict(low=0.0, high=1.0),
            "drift_time": dict(low=0.0, unit="s"),
            "drift_t0": dict(low=0.0, low_open=True, unit="s"),
            "wire_resistance": dict(low=0.0, unit="Ohm"),
        }
        validate.check_fields(self, checks)
        validate.check_choice("programming_form", self.programming_form, ERROR_FORMS)
        validate.check_choice("read_form", self.read_form, ERROR_FORMS)
        validate.check_choice("drift_form", self.drift_form, DRIFT_FORMS)
        for form, fit, name in (
            (self.programming_form, self.programming_fit, "programming_fit"),
            (self.read_form, self.read_fit, "read_fit"),
        ):
            if form == "fit" and not isinstance(fit, hw_devices.NoiseModel):
                raise ValueError(
                    f"{name} must be a hwjax.devices.NoiseModel when its form is 'fit'; got {fit!r}"
                )
        window = (self.g_min, self.g_max)
        if not validate.is_traced(window) and float(np.min(np.asarray(window[1]) - window[0])) <= 0:
            raise ValueError(
                f"g_max={self.g_max!r} S must exceed g_min={self.g_min!r} S: allowed range (g_min, inf)"
            )
        rates = (self.stuck_on_rate, self.stuck_off_rate)
        if not validate.is_traced(rates) and float(np.max(np.asarray(rates[0]) + rates[1])) > 1.0:
            raise ValueError(
                f"stuck_on_rate + stuck_off_rate = {self.stuck_on_rate!r} + {self.stuck_off_rate!r} "
                "must lie in [0, 1]"
            )


def from_device(device: hw_devices.Device | str, **overrides) -> DeviceModel:
    """A :class:`DeviceModel` with a :class:`hwjax.devices.Device` preset's window and fits.

    The window is the device's ``[g_off, g_on]`` (access resistance included) and its read
    voltage; a device with a programming (read) noise fit gets form ``"fit"`` at ``s = 1``; the
    PCM preset (Joshi's fit) also gets Joshi's state-dependent drift with ``t0 = 27.36 s``
    (``drift_time`` stays 0 until overridden). ``overrides`` replace any field, e.g.
    ``from_device("taox", programming_form="parabolic", programming_sigma=1.0)`` for the Sandia
    TaOx error model.

    Args:
        device: a Device or a name of :data:`hwjax.devices.PRESETS`.
        **overrides: DeviceModel fields.
    """
    if isinstance(device, str):
        device = hw_devices.device(device)
    fields: dict[str, Any] = dict(g_min=device.g_off, g_max=device.g_on, v_read=device.v_read)
    if device.programming_noise is not None:
        fields.update(programming_form="fit", programming_fit=device.programming_noise, programming_sigma=1.0)
    if device.read_noise is not None:
        fields.update(read_form="fit", read_fit=device.read_noise, read_sigma=1.0)
    if device.programming_noise is hw_devices.JOSHI_PCM_PROGRAMMING:
        fields.update(drift_form="joshi", drift_t0=JOSHI_T0)
    fields.update(overrides)
    return DeviceModel(**fields)


def from_fit(fit: hw_devices.NoiseModel, **overrides) -> DeviceModel:
    """A :class:`DeviceModel` over a programming-error fit's own conductance range.

    For the CrossSim fits without a device in :mod:`hwjax.devices` (those with a
    ``conductance_range``: :data:`~hwjax.devices.MILO_RRAM_PROGRAMMING`, 50-225 uS, and
    :data:`~hwjax.devices.WAN_RRAM_PROGRAMMING`, 1 [est] - 39.26 uS): the window is the fit's
    range, the form ``"fit"`` at ``s = 1``. A fit of a registry device comes with
    :func:`from_device` instead. ``overrides`` replace any field.

    Raises:
        ValueError: naming ``fit`` when it has no ``conductance_range``.
    """
    if not isinstance(fit, hw_devices.NoiseModel) or fit.conductance_range is None:
        raise ValueError(
            f"fit must be a hwjax.devices.NoiseModel with a conductance_range; got {fit!r} "
            "(a registry device's fit comes with from_device)"
        )
    g_min, g_max = fit.conductance_range
    fields: dict[str, Any] = dict(
        g_min=g_min, g_max=g_max, programming_form="fit", programming_fit=fit, programming_sigma=1.0
    )
    return DeviceModel(**{**fields, **overrides})


# --- error forms ----------------------------------------------------------------------------------


def error_sigma(model: DeviceModel, conductance, form: str, sigma, fit=None):
    """Standard deviation of the conductance error of ``form`` at ``conductance``, S.

    Args:
        model: supplies the window and read voltage.
        conductance: target conductance(s), S, any shape.
        form: one of :data:`ERROR_FORMS`.
        sigma: the form's ``s`` (module docstring), >= 0.
        fit: the NoiseModel for form ``"fit"``.

    Returns:
        ``sigma_G`` in S, shaped like ``conductance``.
    """
    g = jnp.asarray(conductance)
    window = model.g_max - model.g_min
    if form == "independent":
        return sigma * window * jnp.ones_like(g)
    if form == "proportional":
        return sigma * jnp.abs(g)
    if form == "inverse_proportional":
        safe = jnp.where(g > 0, g, 1.0)  # the double where keeps the gradient finite at G = 0
        return jnp.where(g > 0, sigma * model.g_max**2 / safe, 0.0)
    if form == "fit":
        return sigma * hw_devices.noise_sigma(fit, g, model.v_read).astype(g.dtype)
    # "parabolic": PARABOLIC_READ over 0-1000 nS mapped onto the window
    u = (g - model.g_min) / window
    shape = hw_devices.noise_sigma(hw_devices.PARABOLIC_READ, u * _PARABOLIC_SPAN).astype(g.dtype)
    return sigma * window * shape / _PARABOLIC_SPAN


def programming_sigma(model: DeviceModel, conductance):
    """Programming-error standard deviation at ``conductance`` (S, shaped like it), S."""
    return error_sigma(
        model, conductance, model.programming_form, model.programming_sigma, model.programming_fit
    )


def read_sigma(model: DeviceModel, conductance):
    """Read-noise standard deviation at ``conductance`` (S, shaped like it), S."""
    return error_sigma(model, conductance, model.read_form, model.read_sigma, model.read_fit)


def _clip(model: DeviceModel, g):
    return jnp.clip(g, model.g_min, model.g_max) if model.clip_conductance else g


def _knobs_need_key(knobs: dict[str, Any], key, what: str):
    """With ``key=None``: raise if a concrete noise knob is > 0; return a NaN-or-0 poison term
    for traced knobs (which cannot be inspected), 0 otherwise."""
    if key is not None:
        return 0.0
    poison = 0.0
    for name, value in knobs.items():
        if validate.is_traced(value):
            poison = poison + jnp.where(jnp.any(jnp.asarray(value) > 0), jnp.nan, 0.0)
        elif np.any(np.asarray(value) > 0):
            raise ValueError(f"key is None but {name}={value!r} > 0: {what} needs a PRNG key")
    return poison


def _all_zero(knobs: dict[str, Any]) -> bool:
    """True when every knob is concrete and zero (the draws can be skipped)."""
    return not validate.is_traced(tuple(knobs.values())) and all(
        not np.any(np.asarray(v)) for v in knobs.values()
    )


def _float(x):
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))


def level_conductance(model: DeviceModel, levels, max_level):
    """Target conductance of ``levels`` in ``[0, max_level]``: ``g_min + L/max_level (g_max - g_min)``, S."""
    levels = _float(levels)
    return model.g_min + levels / max_level * (model.g_max - model.g_min)


def drift(model: DeviceModel, conductance, key=None):
    """Conductance after ``drift_time``: ``G (t / t0)^-nu`` for ``t > t0``, else ``G``, S.

    ``drift_form="joshi"`` draws a per-cell ``nu`` from Joshi's state-dependent fit and needs a
    key whenever ``drift_time > 0``.
    """
    g = _float(conductance)
    if model.drift_form == "constant":
        return _drift_apply(model, g, None)
    poison = _knobs_need_key({"drift_time": model.drift_time}, key, "Joshi drift (a random nu per cell)")
    if key is None:
        return g + poison
    return _drift_apply(model, g, _normal(key, g.shape, g.dtype))


def _drift_apply(model: DeviceModel, g, z_nu):
    """``G (max(t / t0, 1))^-nu`` with nu constant or Joshi's ``mu(G) + sigma(G) z_nu``."""
    ratio = jnp.maximum(model.drift_time / model.drift_t0, 1.0)
    if model.drift_form == "constant":
        return g * ratio ** (-model.drift_nu)
    g_us = g / uS
    mu = jnp.maximum(-0.0045 * g_us + 0.08, jnp.minimum(0.06, jnp.maximum(-0.00169 * g_us + 0.0825, 0.055)))
    nu = mu + z_nu / (8.0 * g_us + 30.032)
    return g * ratio ** (-nu)


def program(model: DeviceModel, levels, max_level, key=None):
    """Program ``levels`` into cells: programming error, drift and stuck-at faults.

    Args:
        model: the device.
        levels: target levels in ``[0, max_level]`` (int or float), any shape.
        max_level: the top level (``2^bits - 1``), > 0.
        key: ``jax.random`` key; may be None only when ``programming_sigma``, the stuck rates
            and (Joshi drift) ``drift_time`` are all 0.

    Returns:
        Conductances, S, shaped like ``levels``.
    """
    validate.check_positive("max_level", max_level)
    target = level_conductance(model, levels, max_level)
    noise_knobs = {
        "programming_sigma": model.programming_sigma,
        "stuck_on_rate": model.stuck_on_rate,
        "stuck_off_rate": model.stuck_off_rate,
    }
    poison = _knobs_need_key(noise_knobs, key, "programming error and stuck-at faults")
    if key is None or (_all_zero(noise_knobs) and model.drift_form == "constant"):
        return drift(model, target) + poison  # nothing random: skip the draws
    k_prog, k_drift, k_stuck = jax.random.split(key, 3)
    z = _normal(k_prog, target.shape, target.dtype)
    u = _uniform(k_stuck, target.shape, target.dtype)
    z_nu = _normal(k_drift, target.shape, target.dtype) if model.drift_form == "joshi" else None
    return _program_apply(model, target, z, u, z_nu)


# The draws are compiled per shape and shared by every model; the form-specific arithmetic is
# compiled separately (cheaply). Under an outer jit both simply inline.
_normal = jax.jit(jax.random.normal, static_argnums=(1, 2))
_uniform = jax.jit(jax.random.uniform, static_argnums=(1, 2))


@jax.jit
def _program_apply(model: DeviceModel, target, z, u, z_nu):
    """Programming error ``z``, drift (``z_nu`` for Joshi's nu) and stuck-at faults (``u``)."""
    g = _clip(model, target + programming_sigma(model, target) * z)
    g = _drift_apply(model, g, z_nu)
    g = jnp.where(u < model.stuck_on_rate, model.g_max, g)
    return jnp.where(u >= 1.0 - model.stuck_off_rate, model.g_min, g)


def read(model: DeviceModel, conductance, key=None):
    """One read of ``conductance`` (S): read noise redrawn per call, clipped to the window, S."""
    g = _float(conductance)
    poison = _knobs_need_key({"read_sigma": model.read_sigma}, key, "read noise")
    if key is None or _all_zero({"read_sigma": model.read_sigma}):
        return g + poison
    return _read_apply(model, g, _normal(key, g.shape, g.dtype))


@jax.jit
def _read_apply(model: DeviceModel, g, z):
    return _clip(model, g + read_sigma(model, g) * z)


# --- currents and IR drop -----------------------------------------------------------------------


def _ir_loss_matrix(conductance, r):
    """``H`` with first-order current loss ``D = V @ H`` (..., K, N), S.

    The drops of the module docstring are linear in the row voltages:
    ``dV_row[i, j] = r V_i sum_j' G_ij' (min(j, j') + 1)`` and
    ``dV_col[i, j] = r sum_i' (K - max(i, i')) V_i' G_i'j``, so
    ``D_j = sum_i G_ij (dV_row + dV_col) = r sum_i V_i H_ij`` with
    ``H = G * (G M + P G)``, ``M_jj' = min(j, j') + 1``, ``P_ii' = K - max(i, i')`` (P symmetric).
    Two matmuls per array, independent of the inputs.
    """
    k, n = conductance.shape[-2:]
    j = jnp.arange(n)
    i = jnp.arange(k)
    m = (jnp.minimum(j[:, None], j[None, :]) + 1).astype(conductance.dtype)
    p = (k - jnp.maximum(i[:, None], i[None, :])).astype(conductance.dtype)
    return r * conductance * (conductance @ m + p @ conductance)


@jax.jit
def _ir_corrected(conductance, voltages, loss_matrix):
    """Column currents with the first-order wire drops, Pade-resummed (module docstring), A."""
    ideal = jnp.einsum("...k,...kn->...n", voltages, conductance)
    loss = jnp.einsum("...k,...kn->...n", voltages, loss_matrix)  # I0 - I1
    # Pade resummation I0 / (1 + D / I0) (as crossbar.py's P0 / (1 + x)) where D / I0 >= 0; it
    # equals I0 - D to first order and tracks the nodal solve to second order. Where inputs of
    # mixed sign make D / I0 < 0 (or I0 = 0), the plain first order is kept: the two meet at D = 0.
    safe = jnp.where(ideal == 0, 1.0, ideal)
    ratio = loss / safe
    pade = (ideal != 0) & (ratio >= 0)
    return ideal - loss / (1.0 + jnp.where(pade, ratio, 0.0))


def ir_loss_matrix(model: DeviceModel, conductance):
    """``H`` (..., K, N) of the first-order IR loss ``D = V @ H`` (S), for reuse across inputs.

    ``H`` depends on the conductances only; pass it to :func:`column_currents` as
    ``loss_matrix`` to skip its two matmuls per call (e.g. once per programmed array: read noise
    changes ``H`` only at second order).
    """
    return _ir_loss_matrix(_float(conductance), model.wire_resistance)


def column_currents(model: DeviceModel, conductance, voltages, loss_matrix=None):
    """Column currents of an MVM, A, with first-order IR drop when ``wire_resistance > 0``.

    Args:
        model: supplies ``wire_resistance`` (Ohm per segment).
        conductance: ``(..., K, N)`` cell conductances, S.
        voltages: ``(..., K)`` row voltages, V (leading dims broadcast with ``conductance``'s).
        loss_matrix: optional precomputed :func:`ir_loss_matrix` (``wire_resistance`` included).

    Returns:
        ``(..., N)`` currents into the column virtual grounds, A. A concrete zero wire
        resistance is one einsum; a traced one always takes the IR path (exact at r = 0 and
        with the right gradient there), so close over the model for ideal-wire speed.
    """
    g, v = _float(conductance), _float(voltages)
    r = model.wire_resistance
    if not validate.is_traced(r) and float(np.max(np.asarray(r))) == 0.0:
        return jnp.einsum("...k,...kn->...n", v, g)  # ideal wires: one matmul
    if loss_matrix is None:
        loss_matrix = _ir_loss_matrix(g, r)
    return _ir_corrected(g, v, _float(loss_matrix))


def ir_drop_ratio(conductance, wire_resistance):
    """Mean-field IR-drop ratio ``x = G_mean r (L(N) + L(K))`` of ``(..., K, N)`` conductances.

    The measure of hwjax.components.crossbar's ``ir_drop_ratio`` (all rows driven), computed from
    the actual conductances: the regime variable of the first-order model's accuracy.
    """
    k, n = conductance.shape[-2:]

    def seg(m):
        return (m + 1.0) * (2.0 * m + 1.0) / 6.0

    return jnp.mean(conductance) * wire_resistance * (seg(n) + seg(k))


def nodal_currents(conductance, voltages, wire_resistance):
    """Exact column currents of a ``(K, N)`` crossbar with wire resistance, A (dense linear solve).

    Row ``i`` is driven at ``voltages[i]`` through a segment into its node at column 0; column
    ``j`` leaves row ``K - 1`` through a segment into a virtual ground; adjacent nodes along a
    row or column are joined by one segment of ``wire_resistance``; each cell joins its row and
    column nodes. Solves Kirchhoff's current law for the ``2 K N`` node voltages (jnp; use
    float64 for validation; K N up to ~32x32 is a 2048-unknown dense solve).

    Args:
        conductance: ``(K, N)`` S.
        voltages: ``(K,)`` V.
        wire_resistance: Ohm per segment, > 0.

    Returns:
        ``(N,)`` currents into the virtual grounds, A.
    """
    validate.check_positive("wire_resistance", wire_resistance, unit="Ohm")
    return _nodal_solve(_float(conductance), _float(voltages), wire_resistance)


@jax.jit
def _nodal_solve(g, v, wire_resistance):
    k, n = g.shape
    y = 1.0 / wire_resistance
    cells = k * n
    row = np.arange(cells).reshape(k, n)
    col = cells + row
    p = [row.ravel(), row[:, :-1].ravel(), col[:-1, :].ravel()]
    q = [col.ravel(), row[:, 1:].ravel(), col[1:, :].ravel()]
    w = [g.ravel(), jnp.full(k * (n - 1), y, g.dtype), jnp.full((k - 1) * n, y, g.dtype)]
    p, q, w = np.concatenate(p), np.concatenate(q), jnp.concatenate(w)
    a = jnp.zeros((2 * cells, 2 * cells), g.dtype)
    a = a.at[p, p].add(w).at[q, q].add(w).at[p, q].add(-w).at[q, p].add(-w)
    a = a.at[row[:, 0], row[:, 0]].add(y).at[col[-1, :], col[-1, :]].add(y)  # driver and ground ties
    b = jnp.zeros(2 * cells, g.dtype).at[row[:, 0]].add(y * v)
    nodes = jnp.linalg.solve(a, b)
    return nodes[col[-1, :]] * y


def to_levels(model: DeviceModel, currents, active_inputs_sum, max_level):
    """Column currents back to level units: ``(I / v_read - g_min a) / (g_max - g_min) max_level``.

    Args:
        model: the device.
        currents: ``(..., N)`` column currents, A.
        active_inputs_sum: ``(...)`` sum over rows of ``V_i / v_read`` (the driven inputs in
            units of the full-scale read voltage; the count of active rows for binary inputs);
            one value per vector, broadcast over the ``N`` columns.
        max_level: the top level.

    Returns:
        ``(..., N)`` ``sum_i (V_i / v_read) L_ij`` for ideal devices, in level units.
    """
    a = _float(active_inputs_sum)[..., None]
    return (_float(currents) / model.v_read - model.g_min * a) / (model.g_max - model.g_min) * max_level
