"""Device non-idealities (hwjax.sim.devices): noise statistics, faults, drift, IR drop vs a nodal solve.

Statistical tolerances: with n draws, a sample mean has standard error sigma / sqrt(n) and a
sample standard deviation about sigma / sqrt(2 n); every check allows 5 standard errors (a
false alarm about once in 2 million runs, with fixed keys so the tests are deterministic anyway)
and is tight enough to catch a wrong form (a factor of 2 in sigma is > 100 SE off).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwjax import devices as hw_devices
from hwjax.sim import devices as d
from hwjax.units import uS

N_DRAWS = 20_000
_SHAPE = (N_DRAWS, 3)  # one shape for every draw: the PRNG kernels compile once
Z = 5.0  # standard errors allowed

# --- noise forms ---------------------------------------------------------------------------------

_WINDOW = dict(g_min=1 * uS, g_max=10 * uS, clip_conductance=False)  # no clipping: unbiased moments
_LEVELS = np.array([3.0, 8.0, 12.0])  # of 15: well inside the window
_TARGETS = 1 * uS + _LEVELS / 15.0 * 9 * uS


def _expected_sigma(form, s, g, fit=None):
    """The forms of figures.md 5.2 / 5.3 written out independently of the module."""
    g_min, g_max = 1 * uS, 10 * uS
    if form == "independent":
        return s * (g_max - g_min) * np.ones_like(g)
    if form == "proportional":
        return s * g
    if form == "inverse_proportional":
        return s * g_max**2 / g
    if form == "fit":
        return s * np.asarray(hw_devices.noise_sigma(fit, g, 0.1))
    # parabolic: CrossSim's 2e-4 G² + 2e-2 G + 10 (nS, 0-1000 nS) on the normalized window
    u_ns = (g - g_min) / (g_max - g_min) * 1000.0
    return s * (g_max - g_min) * (2e-4 * u_ns**2 + 2e-2 * u_ns + 10.0) / 1000.0


_FORMS = [
    ("independent", 0.03, None),
    ("proportional", 0.05, None),
    ("inverse_proportional", 0.002, None),
    ("fit", 1.0, hw_devices.MILO_RRAM_PROGRAMMING),
    ("fit", 1.0, hw_devices.SONOS_READ),
    ("parabolic", 0.5, None),
]


def _moments(samples, sigma):
    """Sample mean and std per target, and their 5-SE tolerances."""
    mean, std = samples.mean(axis=0), samples.std(axis=0, ddof=1)
    n = samples.shape[0]
    return mean, std, Z * sigma / np.sqrt(n), Z * sigma / np.sqrt(2 * n)


@pytest.mark.parametrize("form,s,fit", _FORMS, ids=lambda v: getattr(v, "source", str(v))[:12])
def test_programming_error_moments_match_the_form(form, s, fit):
    model = d.DeviceModel(**_WINDOW, programming_form=form, programming_sigma=s, programming_fit=fit)
    levels = jnp.broadcast_to(jnp.asarray(_LEVELS), (N_DRAWS, 3))
    g = np.asarray(d.program(model, levels, 15.0, jax.random.key(0)), dtype=np.float64)
    sigma = _expected_sigma(form, s, _TARGETS, fit)
    mean, std, tol_mean, tol_std = _moments(g, sigma)
    assert np.all(np.abs(mean - _TARGETS) < tol_mean), (mean, _TARGETS, tol_mean)
    assert np.all(np.abs(std - sigma) < tol_std), (std, sigma, tol_std)


@pytest.mark.parametrize("form,s,fit", _FORMS, ids=lambda v: getattr(v, "source", str(v))[:12])
def test_read_noise_moments_match_the_form_and_are_redrawn(form, s, fit):
    model = d.DeviceModel(**_WINDOW, read_form=form, read_sigma=s, read_fit=fit)
    g0 = jnp.broadcast_to(jnp.asarray(_TARGETS, jnp.float32), (N_DRAWS, 3))
    g = np.asarray(d.read(model, g0, jax.random.key(1)), dtype=np.float64)
    sigma = _expected_sigma(form, s, _TARGETS, fit)
    mean, std, tol_mean, tol_std = _moments(g, sigma)
    assert np.all(np.abs(mean - _TARGETS) < tol_mean)
    assert np.all(np.abs(std - sigma) < tol_std)
    # a second read with another key is a fresh draw, not the same error
    again = np.asarray(d.read(model, g0, jax.random.key(2)))
    assert np.mean(again != g) > 0.99


def test_parabolic_error_is_smallest_at_low_conductance():
    # Sandia TaOx error model (seed "Sandia TaOx ReRAM Error Model"): error grows with the target.
    model = d.from_device("taox", programming_form="parabolic", programming_sigma=1.0)
    g = jnp.linspace(model.g_min, model.g_max, 5)
    sigma = np.asarray(d.programming_sigma(model, g))
    assert np.all(np.diff(sigma) > 0)
    # CrossSim's fit on 0-1000 nS: 10 nS at the bottom, 230 nS at the top (ratio 23)
    assert sigma[-1] / sigma[0] == pytest.approx(23.0, rel=1e-4)


def test_fit_models_reproduce_the_published_fits():
    # figures.md 5.3: Milo sigma at 100 uS = 4.782321 - 0.9107 = 3.8716 uS; SONOS via the current.
    milo = d.from_fit(hw_devices.MILO_RRAM_PROGRAMMING)
    assert (milo.g_min, milo.g_max) == (50 * uS, 225 * uS)
    assert d.from_fit(hw_devices.WAN_RRAM_PROGRAMMING).g_max == 39.26 * uS
    assert float(d.programming_sigma(milo, 100 * uS)) == pytest.approx(3.871621 * uS, rel=1e-5)
    sonos = d.from_device("sonos")
    g = 10 * uS
    current_na = g * sonos.v_read / 1e-9
    expected = 12.58037 * (1 - np.exp(-current_na / 215.36557)) * 1e-9 / sonos.v_read
    assert float(d.read_sigma(sonos, g)) == pytest.approx(expected, rel=1e-5)


def test_from_device_takes_the_preset_window_and_fits():
    pcm = hw_devices.device("pcm")
    model = d.from_device(pcm, drift_time=100.0)
    assert float(model.g_max) == pytest.approx(float(pcm.g_on))
    assert float(model.g_min) == pytest.approx(float(pcm.g_off))
    assert model.programming_fit is hw_devices.JOSHI_PCM_PROGRAMMING and model.drift_form == "joshi"
    assert model.drift_t0 == d.JOSHI_T0 and model.drift_time == 100.0
    sonos = d.from_device("sonos")
    assert sonos.read_fit is hw_devices.SONOS_READ and sonos.read_sigma == 1.0
    taox = d.from_device("taox")
    assert taox.programming_sigma == 0.0 and taox.read_sigma == 0.0  # no fit: noise-free by default


def test_clipping_keeps_conductances_in_the_window():
    model = d.DeviceModel(programming_sigma=0.5)
    g = np.asarray(d.program(model, jnp.zeros(_SHAPE), 3.0, jax.random.key(3)))
    assert g.min() >= 1e-6 and g.max() <= 1e-5
    assert (g == 1e-6).mean() == pytest.approx(0.5, abs=0.01)  # half the draws fall below g_min


# --- stuck-at faults and drift -------------------------------------------------------------------


@pytest.mark.parametrize("on,off", [(0.01, 0.0), (0.02, 0.1)])
def test_stuck_at_rates(on, off):
    n = np.prod(_SHAPE)
    model = d.DeviceModel(stuck_on_rate=on, stuck_off_rate=off)
    g = np.asarray(d.program(model, jnp.full(_SHAPE, 1.0), 2.0, jax.random.key(4)))  # mid-window target
    for rate, value in ((on, 1e-5), (off, 1e-6)):
        tol = Z * np.sqrt(max(rate, 1e-6) * (1 - rate) / n)  # binomial standard error
        assert abs(np.mean(np.isclose(g, value, rtol=1e-6)) - rate) <= tol


def test_constant_drift_follows_the_power_law():
    # G(t) = G (t / t0)^-nu after t0, unchanged before (figures.md 5.3, PCMJoshi drift form)
    g0 = jnp.asarray([2e-6, 5e-6, 9e-6])
    for t, factor in ((1e4, (1e4 / 10.0) ** -0.05), (5.0, 1.0)):
        model = d.DeviceModel(drift_nu=0.05, drift_time=t, drift_t0=10.0)
        np.testing.assert_allclose(np.asarray(d.drift(model, g0)), np.asarray(g0) * factor, rtol=1e-6)


def test_joshi_drift_exponent_statistics():
    # nu ~ N(mu_nu(G), sigma_nu(G)), G in uS (figures.md 5.3): at 5 uS mu = max(0.0575, min(0.06,
    # max(0.07405, 0.055))) = 0.06, sigma = 1 / 70.032; at 20 uS mu = max(-0.01, 0.055) = 0.055.
    model = d.DeviceModel(
        g_min=0.25 * uS, g_max=25 * uS, drift_form="joshi", drift_time=1e5, drift_t0=d.JOSHI_T0
    )
    g_us, mu, sd = (
        np.asarray([5.0, 20.0, 5.0]),
        np.asarray([0.06, 0.055, 0.06]),
        1 / np.asarray([70.032, 190.032, 70.032]),
    )
    g = np.asarray(
        d.drift(model, jnp.broadcast_to(jnp.asarray(g_us * uS), _SHAPE), jax.random.key(5)), np.float64
    )
    nu = -np.log(g / (g_us * uS)) / np.log(1e5 / d.JOSHI_T0)
    assert np.all(np.abs(nu.mean(0) - mu) < Z * sd / np.sqrt(N_DRAWS))
    assert np.all(np.abs(nu.std(0, ddof=1) - sd) < Z * sd / np.sqrt(2 * N_DRAWS))


# --- keys, validation ----------------------------------------------------------------------------


def test_same_key_same_result_different_keys_differ():
    model = d.from_device("sonos", stuck_off_rate=0.01)
    levels = jnp.broadcast_to(jnp.arange(3.0) * 50, _SHAPE)
    a = d.program(model, levels, 127.0, jax.random.key(7))
    b = d.program(model, levels, 127.0, jax.random.key(7))
    c = d.program(model, levels, 127.0, jax.random.key(8))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert np.mean(np.asarray(a) != np.asarray(c)) > 0.9


def test_noise_free_without_key_and_raising_when_noise_needs_one():
    ideal = d.DeviceModel()
    g = d.program(ideal, jnp.asarray([0.0, 3.0]), 3.0)
    np.testing.assert_allclose(np.asarray(g), [1e-6, 1e-5], rtol=1e-6)
    with pytest.raises(ValueError, match="programming_sigma"):
        d.program(d.DeviceModel(programming_sigma=0.01), jnp.ones(3), 3.0)
    with pytest.raises(ValueError, match="stuck_on_rate"):
        d.program(d.DeviceModel(stuck_on_rate=0.01), jnp.ones(3), 3.0)
    with pytest.raises(ValueError, match="read_sigma"):
        d.read(d.DeviceModel(read_sigma=0.01), jnp.ones(3) * 1e-6)
    with pytest.raises(ValueError, match="drift_time"):
        d.drift(d.from_device("pcm", drift_time=100.0), jnp.ones(3) * 1e-6)
    # traced knobs cannot raise: the result is NaN rather than silently noise-free
    traced = jax.jit(lambda s: d.program(d.DeviceModel(programming_sigma=s), jnp.ones(3), 3.0))
    assert np.all(np.isnan(np.asarray(traced(0.01))))
    assert np.all(np.isfinite(np.asarray(traced(0.0))))


@pytest.mark.parametrize(
    "overrides,name",
    [
        ({"stuck_on_rate": 1.5}, "stuck_on_rate"),
        ({"stuck_off_rate": -0.1}, "stuck_off_rate"),
        ({"stuck_on_rate": 0.6, "stuck_off_rate": 0.6}, "stuck_on_rate"),
        ({"programming_sigma": -0.01}, "programming_sigma"),
        ({"read_sigma": float("nan")}, "read_sigma"),
        ({"g_min": 2e-5}, "g_max"),
        ({"wire_resistance": -1.0}, "wire_resistance"),
        ({"drift_t0": 0.0}, "drift_t0"),
        ({"programming_form": "gaussian"}, "programming_form"),
        ({"read_form": "fit"}, "read_fit"),
    ],
)
def test_bad_configuration_raises_naming_the_parameter(overrides, name):
    with pytest.raises(ValueError, match=name):
        d.DeviceModel(**overrides)


def test_bad_call_arguments_raise():
    with pytest.raises(ValueError, match="max_level"):
        d.program(d.DeviceModel(), jnp.ones(2), 0.0)
    with pytest.raises(ValueError, match="wire_resistance"):
        d.nodal_currents(jnp.ones((2, 2)) * 1e-6, jnp.ones(2), 0.0)
    with pytest.raises(ValueError, match="device"):
        d.from_device("unobtainium")
    with pytest.raises(ValueError, match="fit"):
        d.from_fit(hw_devices.SONOS_READ)  # the sonos device's fit: from_device("sonos")


# --- transforms ----------------------------------------------------------------------------------


def test_jit_vmap_and_gradients_through_the_noise():
    # proportional programming error G (1 + s z) then independent read noise 0.01 W z2, unclipped:
    # with the key fixed the output is linear in s and d/dL = (W / max) (1 + s z).
    levels = jnp.asarray([[0.0, 1.0, 2.0], [3.0, 1.0, 0.0]])
    k_program, k_read = jax.random.split(jax.random.key(9))

    def model_of(s):
        return d.DeviceModel(
            programming_form="proportional", programming_sigma=s, read_sigma=0.01, clip_conductance=False
        )

    def g_of(s, lv):
        model = model_of(s)
        return d.read(model, d.program(model, lv, 3.0, k_program), k_read)

    eager = g_of(0.1, levels)
    np.testing.assert_allclose(np.asarray(jax.jit(g_of)(0.1, levels)), np.asarray(eager), rtol=1e-6)
    sigmas = jnp.asarray([0.0, 0.05, 0.1])
    batched = jax.vmap(g_of, in_axes=(0, None))(sigmas, levels)
    for i, s in enumerate(sigmas):
        np.testing.assert_allclose(np.asarray(batched[i]), np.asarray(g_of(s, levels)), rtol=1e-6)
    grad_s = jax.grad(lambda s: jnp.sum(g_of(s, levels)))(0.1)
    expected = float(jnp.sum(eager - batched[0])) / 0.1
    assert float(grad_s) == pytest.approx(expected, rel=1e-4)
    assert abs(expected) > 1e-8  # the noise really is in the gradient
    programmed = d.program(model_of(0.1), levels, 3.0, k_program)
    one_plus_sz = np.asarray(programmed) / np.asarray(d.level_conductance(model_of(0.1), levels, 3.0))
    grad_l = jax.grad(lambda lv: jnp.sum(g_of(0.1, lv)))(levels)
    np.testing.assert_allclose(np.asarray(grad_l), 9e-6 / 3.0 * one_plus_sz, rtol=1e-5)
    assert np.all(np.abs(one_plus_sz - 1) > 1e-4)


# --- currents ------------------------------------------------------------------------------------


def test_ideal_currents_round_trip_to_levels():
    rng = np.random.default_rng(0)
    levels = rng.integers(0, 16, (32, 8)).astype(np.float32)
    bits = rng.integers(0, 2, (5, 32)).astype(np.float32)
    model = d.DeviceModel()
    g = d.program(model, levels, 15.0)
    currents = d.column_currents(model, g, model.v_read * bits)
    recovered = d.to_levels(model, currents, bits.sum(-1), 15.0)
    np.testing.assert_allclose(np.asarray(recovered), bits @ levels, rtol=1e-5, atol=2e-3)


# Regime: K x N up to 32 x 32, random conductances in [g_max / 10, g_max], binary inputs at
# 0.2 V on all or half of the rows; IR-drop ratio x = G_mean r (L(N) + L(K)) from 0.002 to ~0.8
# (measured worst error 3.4% at x ~ 0.8; beyond x ~ 1.5 it exceeds 5%).
_IR_CASES = [
    (8, 8, 10e-6, 2.0),
    (16, 16, 20e-6, 5.0),
    (16, 24, 20e-6, 20.0),
    (32, 16, 100e-6, 10.0),
    (32, 32, 400e-6, 5.0),
]


@pytest.mark.parametrize("k,n,g_max,r", _IR_CASES)
def test_first_order_ir_drop_matches_nodal_solve_within_5_percent(k, n, g_max, r):
    rng = np.random.default_rng(k * n)
    model = d.DeviceModel(g_min=g_max / 10, g_max=g_max, wire_resistance=r)
    with jax.enable_x64(True):
        g = jnp.asarray(rng.uniform(g_max / 10, g_max, (k, n)))
        x = float(d.ir_drop_ratio(g, r))
        assert x <= 0.85  # inside the stated regime
        for active in (np.ones(k), (rng.random(k) < 0.5).astype(float)):
            v = jnp.asarray(0.2 * active)
            exact = np.asarray(d.nodal_currents(g, v, r))
            model_currents = np.asarray(d.column_currents(model, g, v))
            np.testing.assert_allclose(model_currents, exact, rtol=0.05)
            if x > 0.03:  # the test can fail: ignoring the wires is already > 5% off here
                assert np.max(np.abs(np.asarray(v @ g) - exact) / exact) > 0.05


def test_nodal_solve_tends_to_the_ideal_product_and_batched_ir_broadcasts():
    rng = np.random.default_rng(1)
    with jax.enable_x64(True):
        g = jnp.asarray(rng.uniform(1e-6, 1e-5, (6, 5)))
        v = jnp.asarray(rng.uniform(0.0, 0.2, 6))
        np.testing.assert_allclose(np.asarray(d.nodal_currents(g, v, 1e-6)), np.asarray(v @ g), rtol=1e-9)
    model = d.DeviceModel(wire_resistance=5.0)
    gs = jnp.asarray(rng.uniform(1e-6, 1e-5, (3, 6, 5)), jnp.float32)
    vs = jnp.asarray(rng.uniform(0.0, 0.2, (4, 1, 6)), jnp.float32)
    out = d.column_currents(model, gs, vs)
    assert out.shape == (4, 3, 5)
    np.testing.assert_allclose(
        np.asarray(out[2, 1]), np.asarray(d.column_currents(model, gs[1], vs[2, 0])), rtol=1e-6
    )
    reused = d.column_currents(model, gs, vs, loss_matrix=d.ir_loss_matrix(model, gs))
    np.testing.assert_allclose(np.asarray(reused), np.asarray(out), rtol=1e-6)
