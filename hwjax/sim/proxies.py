"""Analytic accuracy proxies of a bit-sliced analog MVM: output error variance and SNR without data.

The behavioural simulator (:func:`hwjax.sim.mvm.bitsliced_mvm`) draws noise and quantizes data;
these proxies predict the *variance* of its output error from the hardware knobs alone, as
smooth functions that ``jit``, ``vmap`` and ``grad`` (so ADC bits, DAC bits, bits per cell,
noise sigmas and array rows can be optimized by gradient).

The error of one output ``y_n = sum_k w_kn x_k`` against the floating-point product is the sum
of independent terms (variances add):

* **weight quantization**: uniform rounding error of step ``dw = weight_clip / (2^(Bw-1) - 1)``,
  variance ``dw²/12`` per weight, seen through the inputs: ``K E[x²] dw²/12``;
* **input quantization**: step ``dx = input_clip / (2^(Bx-1) - 1)``: ``K E[w²] dx²/12``;
* **ADC quantization**, per conversion: every (row block, weight slice, input step) column
  sum (the differential pair's analog difference, as :mod:`hwjax.sim.mvm`) is rounded with
  step ``D = full_scale / 2^b`` (level units; ISAAC's full scale ``2^(ceil(log2 rows) + d + c
  + 1)``). A column sum is a sum of ``rows`` products of an input digit and a signed cell
  level, taken as Gaussian of variance ``rows E[digit²] E[level²]``; its rounding error
  variance is the exact Gaussian one (:func:`_rounding_variance`: ``D²/12`` for wide sums,
  the sum's whole variance for narrow ones). Ideal devices give *integer* sums, which a step
  of 1 converts losslessly, so the variance of rounding to a step of 1 is subtracted; device
  noise of variance ``s²`` smears the integers and that correction fades as the noise's
  first Fourier coefficient ``exp(-2 pi² s²)``. A conversion's error reaches the output
  through its slice weight ``2^shift`` and its input-step weight ``2^(d t)``; where the step
  is coarse the errors are mostly lost signal, correlated between slices and steps through
  the digits' means, and those cross terms are added (:func:`_lost_signal_covariance`).
* **programming error**: each cell's conductance is off by ``sigma_p`` of the conductance
  window, i.e. ``sigma_p (2^c - 1)`` levels, fixed for the call; it reaches the output through
  the slice weights and the whole input code: ``sigma_p² sum_s 4^shift_s (2^c_s - 1)² K
  E[x_code²]`` per array.
* **read noise**: ``sigma_r`` of the window, drawn afresh at each input step, so it reaches the
  output through each step's digit: ``sigma_r² sum_s 4^shift_s (2^c_s-1)² K sum_t 4^(d t)
  E[digit_t²]`` per array.
* **stuck-at faults** (rates ``p_on`` at the top level ``M = 2^c - 1``, ``p_off`` at level 0,
  drawn once per call like the programming error): a weight's code error
  ``e = sum_s 2^shift_s e_s`` reaches the output through the whole input code,
  ``K E[x_code²] E[e²]``, with ``E[e²] = sum_s 4^shift_s Var(e_s) + (sum_s 2^shift_s E[e_s])²``
  (the cells are independent; the faults' *mean* error, which shrinks weights, is common to
  every slice). Per slice of a level ``L`` uniform on ``{0..M}`` the stored cell errs by
  ``M - L`` (ON) or ``-L`` (OFF): mean ``(p_on - p_off) M/2``, mean square
  ``(p_on + p_off) E[L²]``. The differential pair's idle array holds 0 and errs by ``M`` when
  stuck ON, on the other side of the difference: mean ``-(p_on + p_off) M/2`` in all, mean square
  ``(p_on + p_off) E[L²] + p_on M² - (p_on - p_off) p_on M²``.

Slices and input steps are counted as the simulator cuts them (:func:`_classes`):
``ceil(M / c)`` pieces, the top one holding the remaining bits, so every sum above is a sum
over two classes (low pieces of ``c`` bits, the top piece), continuous in ``c`` and ``d``.

Level-unit variances become output units through ``(dw dx)²``. The SNR is
``K E[x²] E[w²]`` (the variance of ``y`` for independent zero-mean weights and inputs) over the
total error variance.

Assumptions (stated because the simulator does not need them and the proxy does):

* weights and inputs are independent, zero mean, and lie inside their clip ranges (no
  clipping error); by default uniform over ``[-clip, clip]`` (mean square ``clip²/3``);
* inputs are streamed in two's complement (:mod:`hwjax.sim.quantize`): ``Bx`` bits in steps of
  ``d = bits_per_step`` bits, the top step signed; every step's digit is taken as uniformly
  distributed over its range (mean square ``(2^d-1)(2^(d+1)-1)/6``, signed top
  ``(4^r + 2)/12``): exact for inputs uniform over the clip range, close for signed inputs of
  either sign (two's complement fills the high digits of negative values), an overestimate
  of the digit moments for small or one-signed inputs;
* weight codes' cell levels are likewise uniform per slice (uniform weights), with a random
  sign;
* signed weights use the differential encoding (two arrays, ``Bw - 1`` magnitude bits, one
  ADC on the analog difference: :mod:`hwjax.sim.mvm`); ``differential=False`` drops the second
  array and the sign bit of the full scale but is not validated against the other encodings;
* the ADC window covers the column sums (no clipping; ISAAC's full scale is far wider than
  the sums): clipping by a small ``adc_full_scale`` is not modelled;
* the Gaussian rounding formulas treat a column sum of ``rows`` products as Gaussian; the
  residual (non-signal) parts of different conversions' errors are taken as uncorrelated;
* device noise is of the independent form (additive, a fixed fraction of the window) and not
  clipped at the window's ends (the simulator clips by default, which rectifies the noise of
  level-0 cells; validate with ``clip_conductance=False``); drift and IR drop are not
  modelled, nor the ADC's sight of a faulty column's wider sums;
* stuck-at faults are validated for the differential pair; with one array (``differential=False``)
  only the stored cells' faults count (the offset encoding's bias column is not modelled);
* ``rows`` is the number of rows per block; a layer of ``K`` inputs needs ``ceil(K / rows)`` row
  blocks (a rounding from :mod:`hwjax.relax`, so ``mode`` picks exact, straight-through or
  smooth); each block is converted separately, so its ADC error adds.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from hwjax import relax, validate
from hwjax._pytree import Knob, pytree_dataclass, static_field

__all__ = ["ErrorBudget", "ProxyConfig", "error_variance", "from_mvm_config", "snr", "snr_db"]


#: Allowed ranges of the always-present knobs (None: unbounded).
_RANGES = {
    "bits_per_step": (1.0, 16.0),
    "bits_per_cell": (1.0, 8.0),
    "rows": (1.0, None),
    "weight_bits": (2.0, 32.0),
    "input_bits": (2.0, 32.0),
    "programming_sigma": (0.0, None),
    "read_sigma": (0.0, None),
    "stuck_on_rate": (0.0, 1.0),
    "stuck_off_rate": (0.0, 1.0),
}


@pytree_dataclass
class ProxyConfig:
    """Hardware knobs of the proxy; every field is a continuous leaf (bits as real numbers).

    Attributes:
        adc_bits: ADC resolution, bits, >= 1; ``None`` is an ideal ADC (no quantization).
        bits_per_step: DAC bits streamed per input step, in [1, 16].
        bits_per_cell: bits per memory cell (weight slice), in [1, 8].
        rows: array rows per block, >= 1.
        weight_bits: weight code bits including sign, in [2, 32].
        input_bits: input code bits including sign, in [2, 32].
        programming_sigma: programming error, fraction of the conductance window, >= 0.
        read_sigma: read noise per read, fraction of the conductance window, >= 0.
        stuck_on_rate, stuck_off_rate: per-cell probabilities of a cell stuck at the top level or at
            level 0, in [0, 1].
        adc_full_scale: ADC full scale in level units (> 0); ``None`` is ISAAC's rule.
        weight_clip: weights quantized on ``[-weight_clip, weight_clip]``, > 0.
        input_clip: inputs quantized on ``[-input_clip, input_clip]``, > 0.
        differential: two arrays per weight (``True``) or one (static).
    """

    adc_bits: Knob = 8.0
    bits_per_step: Knob = 1.0
    bits_per_cell: Knob = 2.0
    rows: Knob = 128.0
    weight_bits: Knob = 8.0
    input_bits: Knob = 8.0
    programming_sigma: Knob = 0.0
    read_sigma: Knob = 0.0
    stuck_on_rate: Knob = 0.0
    stuck_off_rate: Knob = 0.0
    adc_full_scale: Knob | None = None
    weight_clip: Knob = 1.0
    input_clip: Knob = 1.0
    differential: bool = static_field(True)

    def __post_init__(self):
        # Concrete bad values raise ValueError naming the knob; traced ones are clamped.
        validate.check_fields(self, _RANGES)
        for name in ("weight_clip", "input_clip"):
            object.__setattr__(self, name, validate.check_positive(name, getattr(self, name)))
        for name in ("adc_bits", "adc_full_scale"):
            value = getattr(self, name)
            if value is not None:
                low, low_open = (1.0, False) if name == "adc_bits" else (0.0, True)
                object.__setattr__(self, name, validate.check_range(name, value, low, low_open=low_open))


@pytree_dataclass
class ErrorBudget:
    """Output error variance of one MVM output by source, in squared output units.

    ``total`` is the sum of the six independent terms.
    """

    weight_quantization: Any
    input_quantization: Any
    adc: Any
    programming: Any
    read: Any
    stuck: Any

    @property
    def total(self) -> jax.Array:
        return (
            self.weight_quantization + self.input_quantization + self.adc + self.programming + self.read
        ) + self.stuck


def from_mvm_config(config: Any) -> ProxyConfig:
    """The proxy knobs of a :class:`hwjax.sim.mvm.MVMConfig` (its device's independent sigmas
    and stuck-at rates).

    Heterogeneous ``slice_bits`` are summarized by their mean cell bits.
    """
    bits_per_cell = config.bits_per_cell
    if config.slice_bits is not None:
        bits_per_cell = sum(config.slice_bits) / len(config.slice_bits)
    device = config.device
    return ProxyConfig(
        adc_bits=config.adc_bits,
        bits_per_step=float(config.bits_per_step),
        bits_per_cell=float(bits_per_cell),
        rows=float(config.rows),
        weight_bits=float(config.weight_bits),
        input_bits=float(config.input_bits),
        programming_sigma=0.0 if device is None else device.programming_sigma,
        read_sigma=0.0 if device is None else device.read_sigma,
        stuck_on_rate=0.0 if device is None else device.stuck_on_rate,
        stuck_off_rate=0.0 if device is None else device.stuck_off_rate,
        adc_full_scale=config.adc_full_scale,
        weight_clip=config.weight_clip,
        input_clip=config.input_clip,
        differential=config.encoding == "differential",
    )


def _classes(total_bits, step_bits, mode: str):
    """The two classes of slices (or input steps) of a code of ``total_bits`` cut ``step_bits``
    at a time, LSB first: ``((gain_low, bits_low), (gain_top, bits_top))``.

    ``count = ceil(total / step)`` pieces; the ``count - 1`` low pieces have ``step_bits`` and
    binary weights ``2^(step i)``, so their squared weights sum to
    ``(4^(step (count-1)) - 1)/(4^step - 1)``; the top piece holds the remaining bits with
    squared weight ``4^(step (count-1))``. Continuous in both bit counts (``count`` rounds by
    ``mode``; in smooth mode the top piece has ``step_bits`` too).
    """
    count = relax.ceil(total_bits / step_bits, mode=mode)
    top_weight = 4.0 ** (step_bits * (count - 1.0))
    low_gain = (top_weight - 1.0) / (4.0**step_bits - 1.0)
    return (low_gain, step_bits), (top_weight, total_bits - (count - 1.0) * step_bits)


def _uniform_digit_mean_square(bits) -> jax.Array:
    """Mean square of a digit uniform over ``{0, ..., 2^bits - 1}``."""
    levels = 2.0**bits
    return (levels - 1.0) * (2.0 * levels - 1.0) / 6.0


def _signed_digit_mean_square(bits) -> jax.Array:
    """Mean square of a digit uniform over ``{-2^(bits-1), ..., 2^(bits-1) - 1}``."""
    return (4.0**bits + 2.0) / 12.0


def _steps(config: ProxyConfig) -> tuple[jax.Array, jax.Array]:
    """Quantization steps of the weight and input codes, in real units."""
    dw = config.weight_clip / (2.0 ** (config.weight_bits - 1.0) - 1.0)
    dx = config.input_clip / (2.0 ** (config.input_bits - 1.0) - 1.0)
    return dw, dx


#: Terms of the Fourier series of the rounding error (used where ``sigma / step >= 0.5``; the
#: first neglected term is below exp(-2 pi² 25 / 4) ~ 1e-54 of the step²).
_FOURIER_TERMS = 4
#: Cells each side of zero summed directly (used where ``sigma / step < 0.5``: they cover
#: +-8.5 steps, beyond 17 sigma).
_DIRECT_CELLS = 8


def _rounding_variance(sigma, step) -> jax.Array:
    """Mean square of ``x - step round(x / step)`` for ``x ~ N(0, sigma²)`` (exact, smooth).

    Wide signals: the Fourier series ``step²/12 + (step²/pi²) sum_k (-1)^k/k² exp(-2 pi² k² r²)``
    with ``r = sigma / step`` (Widrow's quantization theorem); narrow ones: the sum over the
    quantizer's cells of the Gaussian's second moment about each cell's centre (the series
    converges too slowly there). Tends to ``step²/12`` for ``r >> 1`` and to ``sigma²`` for
    ``r << 1``.
    """
    sigma, step = jnp.broadcast_arrays(jnp.asarray(sigma, dtype=float), jnp.asarray(step, dtype=float))
    ratio = sigma / step
    k = jnp.arange(1, _FOURIER_TERMS + 1, dtype=ratio.dtype)
    series = jnp.sum((-1.0) ** k / k**2 * jnp.exp(-2.0 * jnp.pi**2 * k**2 * ratio[..., None] ** 2), -1)
    fourier = step**2 / 12.0 + step**2 / jnp.pi**2 * series
    safe = jnp.maximum(ratio, 1e-6)[..., None]
    centres = jnp.arange(-_DIRECT_CELLS, _DIRECT_CELLS + 1, dtype=ratio.dtype) / safe  # units of sigma
    low, high = centres - 0.5 / safe, centres + 0.5 / safe
    pdf = jax.scipy.stats.norm.pdf
    mass = jax.scipy.stats.norm.cdf(high) - jax.scipy.stats.norm.cdf(low)
    first = pdf(low) - pdf(high)
    second = mass + low * pdf(low) - high * pdf(high)
    direct = sigma**2 * jnp.sum(second - 2.0 * centres * first + centres**2 * mass, -1)
    return jnp.where(ratio < 0.5, direct, fourier)


def _rounding_loss(sigma, step) -> jax.Array:
    """``a = 1 - E[x Q(x)] / sigma²`` for ``x ~ N(0, sigma²)``: the fraction of the signal that
    the rounding ``Q`` loses, so that ``Q(x) - x = -a x + (a part uncorrelated with x)``
    (Bussgang). By Stein's lemma ``E[x Q(x)] = sigma² E[Q'(x)]`` and ``Q'`` is a comb of
    ``step``-high steps at the cell edges: ``a = 1 - step sum_m p((m + 1/2) step)``, or by
    Poisson summation ``-2 sum_k (-1)^k exp(-2 pi² k² r²)``; 0 for wide signals, 1 for narrow.
    """
    sigma, step = jnp.broadcast_arrays(jnp.asarray(sigma, dtype=float), jnp.asarray(step, dtype=float))
    ratio = sigma / step
    k = jnp.arange(1, _FOURIER_TERMS + 1, dtype=ratio.dtype)
    fourier = -2.0 * jnp.sum((-1.0) ** k * jnp.exp(-2.0 * jnp.pi**2 * k**2 * ratio[..., None] ** 2), -1)
    safe = jnp.maximum(ratio, 1e-6)[..., None]
    edges = (jnp.arange(-_DIRECT_CELLS, _DIRECT_CELLS, dtype=ratio.dtype) + 0.5) / safe  # units of sigma
    direct = 1.0 - jnp.sum(jax.scipy.stats.norm.pdf(edges), -1) / safe[..., 0]
    return jnp.where(ratio < 0.5, direct, fourier)


def _adc_conversion(config: ProxyConfig, cell_bits, signal_var, noise_var, mode: str):
    """ADC error of one conversion: (variance, level units²; signal loss ``a`` of :func:`_rounding_loss`).

    Args:
        cell_bits: bits of the converted slice (sets ISAAC's full scale).
        signal_var: variance of the integer column sum; noise_var: analog noise on it.
    """
    if config.adc_bits is None:
        zero = jnp.zeros_like(jnp.asarray(signal_var, dtype=float))
        return zero, zero
    full_scale = config.adc_full_scale
    if full_scale is None:  # ISAAC's rule, as hwjax.sim.mvm: 2^(ceil(log2 rows) + d + c (+1 signed))
        signed = 1.0 if config.differential else 0.0
        row_bits = relax.ceil(jnp.log2(config.rows), mode=mode)
        full_scale = 2.0 ** (row_bits + config.bits_per_step + cell_bits + signed)
    step = full_scale / 2.0**config.adc_bits
    sigma = jnp.sqrt(signal_var + noise_var)
    # Integer sums: rounding to a step of 1 is lossless, so subtract that part; noise smears the
    # integers and the correction fades with the noise's first Fourier coefficient.
    discreteness = jnp.exp(-2.0 * jnp.pi**2 * noise_var)
    variance = _rounding_variance(sigma, step) - discreteness * _rounding_variance(sigma, 1.0)
    loss = _rounding_loss(sigma, step) - discreteness * _rounding_loss(sigma, 1.0)
    return jnp.maximum(variance, 0.0), jnp.maximum(loss, 0.0)


def _piece_moments(classes, mean_fns, square_fns) -> tuple[jax.Array, ...]:
    """Per class of pieces (slices or input steps), stacked over (low, top) classes, shape (2,):
    ``(sum 2^shift, sum 4^shift, digit mean, digit mean square, bits)`` (:func:`_classes`)."""
    (low_gain, low_bits), (top_gain, top_bits) = classes
    top_weight = jnp.sqrt(top_gain)
    low_weight = (top_weight - 1.0) / (2.0**low_bits - 1.0)  # sum of 2^(step i), i < count - 1
    rows = (
        (low_weight, top_weight),
        (low_gain, top_gain),
        (mean_fns[0](low_bits), mean_fns[1](top_bits)),
        (square_fns[0](low_bits), square_fns[1](top_bits)),
        (low_bits, top_bits),
    )
    return tuple(jnp.stack(jnp.broadcast_arrays(*(jnp.asarray(v, dtype=float) for v in r)), -1) for r in rows)


def _lost_signal_covariance(slices, steps, lost) -> jax.Array:
    """Cross terms of the conversions' errors, per row of a block, level units².

    Where the ADC step is coarse next to a column sum, its error is mostly the lost signal
    ``-a x`` (:func:`_rounding_loss`), and the sums of different slices and input steps are
    correlated through the digits' means: with signed weights, ``E[x_st x_s't'] = rows
    E[c_t c_t'] E[l_s l_s']``. The ``2^shift``-weighted products over every pair of distinct
    conversions (the diagonal, each conversion's own variance, is counted already).

    Args:
        slices, steps: :func:`_piece_moments` of the weight slices and the input steps.
        lost: (..., 2, 2) signal loss ``a`` per (slice class, step class).
    """
    s1, s2, s_mean, s_ms, _ = slices
    t1, t2, t_mean, t_ms, _ = steps
    eye = jnp.eye(2)
    level = _outer(s1 * s_mean, s1 * s_mean) + eye * (s2 * (s_ms - s_mean**2))[..., None]
    chunk = _outer(t1 * t_mean, t1 * t_mean) + eye * (t2 * (t_ms - t_mean**2))[..., None]
    full = jnp.einsum("...ij,...kl,...ik,...jl->...", lost, lost, level, chunk)
    diagonal = jnp.sum(lost**2 * _outer(s2 * s_ms, t2 * t_ms), (-2, -1))
    return full - diagonal


def _stuck_code_mean_square(config: ProxyConfig, slices) -> jax.Array:
    """``E[e²]`` of a weight code's error from stuck-at faults, level units² (module docstring).

    Args:
        slices: :func:`_piece_moments` of the weight slices.
    """
    p_on, p_off = config.stuck_on_rate, config.stuck_off_rate
    weight_sum, square_sum, _, level_ms, bits = slices
    top = 2.0**bits - 1.0
    mean = (p_on - p_off) * top / 2.0
    mean_square = (p_on + p_off) * level_ms
    if config.differential:  # the idle array's cell, stuck ON, errs by -M (independent cell)
        mean_square = mean_square + p_on * top**2 - 2.0 * mean * p_on * top
        mean = mean - p_on * top
    variance = jnp.sum(square_sum * (mean_square - mean**2), -1)
    return variance + jnp.sum(weight_sum * mean, -1) ** 2


def _outer(a, b) -> jax.Array:
    return a[..., :, None] * b[..., None, :]


def error_variance(
    config: ProxyConfig,
    in_features,
    x_mean_square=None,
    w_mean_square=None,
    mode: str = "ste",
) -> ErrorBudget:
    """Variance of one MVM output's error against the floating-point product, by source.

    Args:
        config: the hardware knobs (:class:`ProxyConfig`).
        in_features: ``K``, the length of the dot product (>= 1).
        x_mean_square: ``E[x²]`` of the inputs, real units²; ``None``: uniform, ``input_clip²/3``.
        w_mean_square: ``E[w²]`` of the weights; ``None``: uniform, ``weight_clip²/3``.
        mode: rounding of the counts (row blocks ``ceil(K / rows)``, slices, input steps,
            ``ceil(log2 rows)``), as :func:`hwjax.relax.ceil`.

    Returns:
        :class:`ErrorBudget` of scalars (or arrays, when the knobs are arrays), output units².
    """
    k = validate.check_range("in_features", in_features, low=1.0)
    x_ms = config.input_clip**2 / 3.0 if x_mean_square is None else x_mean_square
    w_ms = config.weight_clip**2 / 3.0 if w_mean_square is None else w_mean_square
    x_ms = validate.check_nonnegative("x_mean_square", x_ms)
    w_ms = validate.check_nonnegative("w_mean_square", w_ms)
    dw, dx = _steps(config)
    arrays = 2.0 if config.differential else 1.0
    stored_bits = config.weight_bits - (1.0 if config.differential else 0.0)
    unsigned_mean = lambda bits: (2.0**bits - 1.0) / 2.0  # noqa: E731
    slices = _piece_moments(
        _classes(stored_bits, config.bits_per_cell, mode),
        (unsigned_mean, unsigned_mean),
        (_uniform_digit_mean_square, _uniform_digit_mean_square),
    )
    steps = _piece_moments(
        _classes(config.input_bits, config.bits_per_step, mode),
        (unsigned_mean, lambda bits: -0.5),  # the top (sign) chunk of two's complement
        (_uniform_digit_mean_square, _signed_digit_mean_square),
    )
    rows_active = jnp.asarray(jnp.minimum(k, config.rows), dtype=float)[..., None, None]
    cell_var = jnp.asarray(config.programming_sigma**2 + config.read_sigma**2, dtype=float)[
        ..., None, None
    ]  # window units
    slice_gain, cell_bits, level_ms = (
        slices[1][..., :, None],
        slices[4][..., :, None],
        slices[3][..., :, None],
    )
    step_gain, chunk_ms = steps[1][..., None, :], steps[3][..., None, :]
    max_level = 2.0**cell_bits - 1.0
    # Every (slice class, step class) conversion at once: arrays (..., 2, 2).
    signal = rows_active * chunk_ms * level_ms
    noise = arrays * cell_var * max_level**2 * rows_active * chunk_ms
    variance, lost = _adc_conversion(config, cell_bits, signal, noise, mode)
    adc = jnp.sum(slice_gain * step_gain * variance, (-2, -1))
    adc = adc + rows_active[..., 0, 0] * _lost_signal_covariance(slices, steps, lost)
    read = jnp.sum(slice_gain * step_gain * chunk_ms * max_level**2, (-2, -1))
    programming = jnp.sum(slice_gain * max_level**2, (-2, -1))
    blocks = relax.ceil(k / config.rows, mode=mode)
    programming = arrays * config.programming_sigma**2 * k * (x_ms / dx**2) * programming
    read = arrays * config.read_sigma**2 * k * read
    stuck = k * (x_ms / dx**2) * _stuck_code_mean_square(config, slices)
    scale = (dw * dx) ** 2
    terms = {
        "weight_quantization": k * x_ms * dw**2 / 12.0,
        "input_quantization": k * w_ms * dx**2 / 12.0,
        "adc": scale * blocks * adc,
        "programming": scale * programming,
        "read": scale * read,
        "stuck": scale * stuck,
    }
    return ErrorBudget(**{name: jnp.asarray(term, dtype=float) for name, term in terms.items()})


def snr(config: ProxyConfig, in_features, x_mean_square=None, w_mean_square=None, mode: str = "ste"):
    """Signal-to-noise ratio (linear) of one MVM output: ``K E[x²] E[w²]`` over the error variance.

    Arguments as for :func:`error_variance`.
    """
    x_ms = config.input_clip**2 / 3.0 if x_mean_square is None else x_mean_square
    w_ms = config.weight_clip**2 / 3.0 if w_mean_square is None else w_mean_square
    budget = error_variance(config, in_features, x_mean_square, w_mean_square, mode)
    return in_features * x_ms * w_ms / budget.total


def snr_db(config: ProxyConfig, in_features, x_mean_square=None, w_mean_square=None, mode: str = "ste"):
    """:func:`snr` in decibels, ``10 log10(snr)``."""
    return 10.0 * jnp.log10(snr(config, in_features, x_mean_square, w_mean_square, mode))
