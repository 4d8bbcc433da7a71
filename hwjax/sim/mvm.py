"""Bit-sliced analog MVM on data: weights in multi-bit cells, inputs streamed, per-conversion ADC.

:func:`bitsliced_mvm` computes ``y = x W`` the way a bit-sliced crossbar does (dissertation
3.3.2 "Precision Considerations"; ISAAC; PANTHER 5.3):

1. **Quantize** (:mod:`hwjax.sim.quantize`): weights to signed ``weight_bits`` codes on
   ``[-weight_clip, weight_clip]``, inputs to signed ``input_bits`` codes on
   ``[-input_clip, input_clip]`` (both symmetric, sign included).
2. **Encode the weight sign** (``encoding``):

   * ``"differential"``: two arrays, ``G+`` holds ``max(w, 0)``, ``G-`` holds ``max(-w, 0)``,
     each ``weight_bits - 1`` magnitude bits; the column currents are subtracted in analog
     and one *bipolar* ADC converts the difference (CrossSim's balanced core);
   * ``"offset"``: one array holds the unsigned code ``w + 2^(B-1)`` (``weight_bits`` bits)
     and an extra *bias column* per array holds ``2^(B-1)`` in every row (PANTHER Fig. 5.3e:
     zero at mid-window, "an extra column per crossbar"); the bias column is converted like
     any column and subtracted digitally after the shift-and-add;
   * ``"sign_magnitude"``: one array holds ``|w|`` (``weight_bits - 1`` bits) and each cell's
     sign bit, stored beside it, gates the cell into one of two read phases (positive
     weights, then negative weights); each phase is converted by an unsigned ADC and the sign
     is applied digitally (the negative phase subtracted). One device per weight, two
     conversions per column and cycle.
   * ``"twos_complement"`` (:data:`SRAM_ENCODINGS`): one array holds the ``weight_bits``-bit
     two's-complement pattern, one bit per SRAM cell (TIMON, dissertation 6.4.2, with
     BISMO-style bit-serial arithmetic): the scale-and-reduce unit weights the sign bit's
     bitline ``-2^(c-1)``, so the MSB slice of ``c`` bits holds a *signed* level in
     ``[-2^(c-1), 2^(c-1) - 1]`` and the other slices unsigned levels. A zero weight stores
     zero in every cell, which lets sparse columns use fewer ADC bits (:mod:`hwjax.sim.sram_gemm`).
     Ideal cells only (``device=None``): the device models are of NVM cells.

3. **Slice** the stored code into cells (``bits_per_cell`` or ``slice_bits``, MSB first).
4. **Split** ``K`` into ``ceil(K / rows)`` row blocks (separate arrays); pad rows are not
   driven.
5. **Stream** the input ``bits_per_step`` bits per cycle in two's complement (the top cycle
   carries the sign: :func:`hwjax.sim.quantize.input_chunks`).
6. **Convert** every (row block, slice, cycle, column [, phase]) sum with the ADC, then
   **shift and add**: ``y = sum 2^(shift_slice) 2^(d t) ADC(sum)``, the row blocks added
   digitally, and rescale by the two quantization steps.

**ADC** (``adc_bits = N``, ``adc_full_scale = F`` in level units, i.e. products of a cell
level and an input chunk). The step is ``D = F / 2^N`` and the window of ``2^N`` codes is
placed by the sign the converted sum can take (:func:`hwjax.sim.quantize.window_codes`):
unsigned sums ``[0, (2^N - 1) D]``, the sign cycle (non-positive sums) ``[-(2^N - 1) D, 0]``,
two-signed sums ``[-2^(N-1) D, (2^(N-1) - 1) D]``, mirrored to
``[-(2^(N-1) - 1) D, 2^(N-1) D]`` where the positive side is the longer (a
``"twos_complement"`` sign plane times the sign cycle); beyond it the code clips. With
``adc_full_scale=None`` the full scale follows ISAAC's rule per slice: ``F = 2^L`` with
``L = ceil(log2 rows) + bits_per_step + cell bits`` (+1 for ``"differential"``, whose analog
difference spans both signs; the signed MSB slice of ``"twos_complement"`` spans ``2^c``
levels like an unsigned one and needs none), so ``adc_bits >= L`` (:func:`lossless_adc_bits`)
is lossless (``D <= 1`` on integer sums inside the window) and lower resolutions round to
``D = 2^(L-N)`` and clip near the top of the range. ``adc_bits=None`` is an ideal converter (no rounding, no
clipping). Per-conversion settings broadcast over the (slice, column) grid ``(S, N)`` of each
row block and cycle: ``adc_bits`` is a scalar, an ``(N,)`` array (one resolution per column,
e.g. a tunable ADC on sparse columns) or an ``(S, N)`` array (``(1, N)`` and ``(S, 1)``
broadcast); ``F`` given as a leaf is a scalar, an ``(S,)`` array (one span per slice) or an
``(S, N)`` array (``(1, N)`` per column). With ``"offset"`` the bias column converts at the
largest resolution and span among the columns. The conversion stays one fused pass.

**Devices** (``device`` a :class:`hwjax.sim.devices.DeviceModel`): levels are programmed once
per call (:func:`hwjax.sim.devices.program`, one key), read once per input cycle
(:func:`~hwjax.sim.devices.read`, one key per cycle; the vectors of a batch in the same cycle
share that read), the row voltages are ``v_read * chunk / (2^d - 1)``, the column currents
come from :func:`~hwjax.sim.devices.column_currents` (first-order IR drop when
``wire_resistance > 0``) and go back to level units with :func:`~hwjax.sim.devices.to_levels`
(the ``g_min`` baseline of the driven rows removed; for ``"sign_magnitude"`` only the rows
whose cells a phase enables count). Without a device the sums are exact integers (one einsum
over (slices, cycles)).

**Gradients** are straight-through: ``d y / d W`` and ``d y / d x`` are those of the ideal
``x W`` (the simulated value is added as a constant offset), while the continuous knobs of the
config (``weight_clip``, ``input_clip``, ``adc_full_scale``, the device's sigmas and window)
keep their own gradients through the simulation (the ADC rounding by ``mode``).

Exactness: with no device and a lossless (or ideal) ADC, the result equals
``integer_reference(codes) * scale_w * scale_x``; sums are carried in the input dtype, so
bit-exact comparisons of wide products (beyond 2^24) need float64 (``jax.enable_x64``).
Assumptions: ``weight_bits`` and ``input_bits`` in [2, 24] (codes of one sign bit would have no
magnitude; 24 keeps integer codes exact in float32), cells of 1-8 bits (PUMA: 2-6, 3.3.2).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from hwjax import relax, validate
from hwjax._pytree import Knob, pytree_dataclass, static_field
from hwjax.sim import quantize as q
from hwjax.sim.quantize import quantize_inputs, quantize_weights

#: Encodings of signed weights in NVM crossbars (each also runs through a device model).
ENCODINGS = ("differential", "offset", "sign_magnitude")
#: Encodings of SRAM compute banks (bit cells, ideal: ``device=None``).
SRAM_ENCODINGS = ("twos_complement",)
_MAX_CODE_BITS = 24
_MAX_CELL_BITS = 8
_HIGHEST = jax.lax.Precision.HIGHEST  # integer sums must stay exact on accelerators (no TF32)


def _check_slices(slice_bits, stored: int, encoding: str):
    if slice_bits is None:
        return None
    try:
        bits = tuple(validate.check_static_int("slice_bits", b, 1, _MAX_CELL_BITS) for b in slice_bits)
    except TypeError:
        raise ValueError(f"slice_bits={slice_bits!r} must be a tuple of ints or None") from None
    if not bits or sum(bits) != stored:
        raise ValueError(
            f"slice_bits={slice_bits!r} sum to {sum(bits)} bits but the {encoding!r} encoding stores "
            f"{stored} bits per weight; they must sum to {stored}"
        )
    return bits


@pytree_dataclass
class MVMConfig:
    """A bit-sliced MVM (a pytree; integer structure static, continuous knobs leaves).

    Attributes:
        weight_bits: bits of a weight code, sign included, in [2, 24] (static).
        bits_per_cell: bits per cell for homogeneous slicing, in [1, 8] (static).
        slice_bits: heterogeneous slicing, MSB first, each in [1, 8], summing to the stored
            bits: ``weight_bits`` for ``"offset"`` and ``"twos_complement"``, ``weight_bits - 1``
            otherwise (static).
        encoding: one of :data:`ENCODINGS` or :data:`SRAM_ENCODINGS` (static; module
            docstring).
        input_bits: bits of an input code, sign included, in [2, 24] (static).
        bits_per_step: input bits streamed per cycle (DAC bits), in [1, input_bits] (static).
        rows: array rows; ``K`` is split into ``ceil(K / rows)`` row blocks, >= 1 (static).
        adc_bits: ``None`` (ideal converter) or resolution, bits, in [1, 32]: a scalar, ``(N,)``
            per column or ``(S, N)`` per slice and column (leaf).
        adc_full_scale: ``None`` (ISAAC's rule) or the ADC span, level units, > 0: a scalar,
            ``(S,)`` per slice or ``(S, N)`` per slice and column (leaf).
        weight_clip: weights quantized on ``[-weight_clip, weight_clip]``, > 0 (leaf).
        input_clip: inputs quantized on ``[-input_clip, input_clip]``, > 0 (leaf).
        device: ``None`` (ideal cells) or a :class:`hwjax.sim.devices.DeviceModel` (pytree).
    """

    weight_bits: int = static_field(8)
    bits_per_cell: int = static_field(2)
    slice_bits: tuple[int, ...] | None = static_field(None)
    encoding: str = static_field("differential")
    input_bits: int = static_field(8)
    bits_per_step: int = static_field(1)
    rows: int = static_field(128)
    adc_bits: Knob | None = None
    adc_full_scale: Knob | None = None
    weight_clip: Knob = 1.0
    input_clip: Knob = 1.0
    device: Knob | None = None

    def __post_init__(self):
        validate.check_choice("encoding", self.encoding, ENCODINGS + SRAM_ENCODINGS)
        if self.encoding in SRAM_ENCODINGS and self.device is not None:
            raise ValueError(
                f"device={type(self.device).__name__} is not supported with encoding={self.encoding!r}: "
                "SRAM bit cells are ideal here; use device=None"
            )
        validate.check_static_int("weight_bits", self.weight_bits, 2, _MAX_CODE_BITS)
        validate.check_static_int("bits_per_cell", self.bits_per_cell, 1, _MAX_CELL_BITS)
        validate.check_static_int("input_bits", self.input_bits, 2, _MAX_CODE_BITS)
        validate.check_static_int("bits_per_step", self.bits_per_step, 1, self.input_bits)
        validate.check_static_int("rows", self.rows, 1, 2**20)
        object.__setattr__(
            self, "slice_bits", _check_slices(self.slice_bits, self.stored_bits, self.encoding)
        )
        if self.adc_bits is not None:
            validate.check_range("adc_bits", self.adc_bits, 1.0, 32.0)
        if self.adc_full_scale is not None:
            validate.check_positive("adc_full_scale", self.adc_full_scale)
        validate.check_positive("weight_clip", self.weight_clip)
        validate.check_positive("input_clip", self.input_clip)

    @property
    def stored_bits(self) -> int:
        """Bits stored per weight: the whole code (offset, two's complement) or the magnitude."""
        return self.weight_bits if self.encoding in ("offset", "twos_complement") else self.weight_bits - 1

    @property
    def cell_bits(self) -> tuple[int, ...]:
        """Bits of each weight slice, MSB first."""
        return q.slice_bits_of(self.stored_bits, self.bits_per_cell, self.slice_bits)

    @property
    def steps(self) -> int:
        """Input cycles per MVM, ``ceil(input_bits / bits_per_step)``."""
        return len(q.chunk_bits(self.input_bits, self.bits_per_step))


def lossless_adc_bits(config: MVMConfig) -> tuple[int, ...]:
    """ISAAC's rule per slice: ``ceil(log2 rows) + bits_per_step + cell bits`` (+1 differential).

    With the default full scale this resolution (or more) converts every sum exactly.
    """
    extra = int(np.ceil(np.log2(config.rows))) + config.bits_per_step
    extra += 1 if config.encoding == "differential" else 0
    return tuple(extra + c for c in config.cell_bits)


def slice_codes(codes, config: MVMConfig):
    """Signed weight codes ``(K, N)`` -> integer cell levels per slice, MSB first.

    Returns ``(S, K, N)`` for ``"offset"`` (slices of ``w + 2^(B-1)``, without the bias
    column) and ``"twos_complement"`` (slices of the two's-complement pattern, the MSB slice
    signed: its sign bit counts ``-2^(c-1)``), and ``(2, S, K, N)`` for ``"differential"``
    (``G+``, ``G-`` arrays) and ``"sign_magnitude"`` (positive-phase, negative-phase cells:
    ``|w|`` where the sign matches, else 0), as floats.
    """
    codes = jnp.asarray(codes)
    if config.encoding == "offset":
        return q.slice_magnitudes(codes + 2.0 ** (config.weight_bits - 1), config.cell_bits)
    if config.encoding == "twos_complement":
        pattern = jnp.where(codes < 0, codes + 2.0**config.weight_bits, codes)
        levels = q.slice_magnitudes(pattern, config.cell_bits)
        top = 2.0 ** config.cell_bits[0]
        return levels.at[0].add(jnp.where(levels[0] >= top / 2.0, -top, 0.0))
    magnitude = q.slice_magnitudes(jnp.abs(codes), config.cell_bits)
    return jnp.stack([jnp.where(codes > 0, magnitude, 0.0), jnp.where(codes < 0, magnitude, 0.0)])


def integer_reference(weight_codes, input_codes, config: MVMConfig) -> np.ndarray:
    """The exact integer product ``input_codes @ weight_codes`` (int64 NumPy), ``(..., N)``.

    What every encoding, slicing, streaming and lossless ADC must reproduce bit for bit.
    """
    del config  # the product of the codes does not depend on how the hardware computes it
    w = np.asarray(weight_codes).astype(np.int64)
    x = np.asarray(input_codes).astype(np.int64)
    return x @ w


# --- the analog arrays ----------------------------------------------------------------------------


def _arrays(codes, config: MVMConfig):
    """Cells to program ``(P, S, K, N')``, the digital sign of each converted array, and the
    sign-magnitude phase gates ``(2, 1, K, N')`` (else ``None``).

    Noise-free differential pairs are folded into one signed array (the currents' difference
    is linear); with a device, ``G+`` and ``G-`` are kept apart and subtracted in analog. A
    sign-magnitude array is programmed once (one device per weight) and read in two phases.
    """
    if config.encoding == "offset":
        bias = jnp.full((codes.shape[0], 1), 2.0 ** (config.weight_bits - 1), codes.dtype)
        cells = jnp.concatenate([slice_codes(codes, config), q.slice_magnitudes(bias, config.cell_bits)], -1)
        return cells[None], (1.0,), None
    if config.encoding == "twos_complement":
        return slice_codes(codes, config)[None], (1.0,), None
    if config.encoding == "differential":
        cells = slice_codes(codes, config)
        if config.device is None:
            return (cells[0] - cells[1])[None], (1.0,), None
        return cells, (1.0, -1.0), None
    gates = jnp.stack([codes > 0, codes < 0])[:, None].astype(codes.dtype)
    return q.slice_magnitudes(jnp.abs(codes), config.cell_bits)[None], (1.0, -1.0), gates


def _blocks(array, rows: int, axis: int):
    """Pad ``axis`` (length K) with zeros to a multiple of ``rows`` and split it into (blocks, rows)."""
    k = array.shape[axis]
    blocks = -(-k // rows)
    pad = [(0, 0)] * array.ndim
    pad[axis] = (0, blocks * rows - k)
    array = jnp.pad(array, pad)
    return array.reshape((*array.shape[:axis], blocks, rows, *array.shape[axis + 1 :]))


def _block_sums(chunks, cells):
    """Exact column sums of one row block: chunks ``(T, B, R)``, cells ``(R, P, S, N)`` ->
    ``(T, B, P, S, N)``, as one flat matmul (the (slices, cycles) products in one call)."""
    t, b, r = chunks.shape
    flat = jnp.matmul(chunks.reshape(t * b, r), cells.reshape(r, -1), precision=_HIGHEST)
    return flat.reshape((t, b, *cells.shape[1:]))


def _device_sums(chunks, cells, gates, config: MVMConfig, key):
    """Column sums in level units through the device model, ``(P, S, T, J, B, N)``."""
    from hwjax.sim import devices

    model = config.device
    k_program, k_read = (None, None) if key is None else jax.random.split(key)
    max_level = jnp.asarray([2.0**c - 1.0 for c in config.cell_bits], chunks.dtype)
    g = devices.program(model, cells, max_level[:, None, None, None], k_program)  # (P, S, J, R, N)
    steps = chunks.shape[0]
    read_keys = [None] * steps if k_read is None else list(jax.random.split(k_read, steps))
    g_read = jnp.stack([devices.read(model, g, k) for k in read_keys])  # (T, P, S, J, R, N)
    if gates is not None:  # the stored sign bit enables each cell in one phase only
        g_read = g_read * gates[None]  # (T, 2, S, J, R, N)
    chunk_max = 2.0**config.bits_per_step - 1.0
    drive = chunks / chunk_max  # V / v_read, (T, B, J, R)
    currents = devices.column_currents(
        model, g_read[:, None], (model.v_read * drive)[:, :, None, None]
    )  # (T, B, P, S, J, N)
    if gates is None:
        active = jnp.sum(drive, -1)[:, :, None, None]  # driven rows, (T, B, 1, 1, J)
        levels = devices.to_levels(model, currents, active, max_level[:, None, None])
    else:  # only the enabled cells carry the g_min baseline, column by column
        active = jnp.einsum("tbjr,pjrn->tbpjn", drive, gates[:, 0])[:, :, :, None]
        levels = devices.to_levels(model, currents, 0.0, max_level[:, None, None])
        levels = levels - model.g_min * active / (model.g_max - model.g_min) * max_level[:, None, None]
    return jnp.transpose(levels * chunk_max, (2, 3, 0, 4, 1, 5))


def _window(config: MVMConfig) -> tuple[np.ndarray, np.ndarray]:
    """Static ``(S, T)`` bounds of each converted sum (level units), for placing the ADC window."""
    chunk = q.chunk_ranges(config.input_bits, config.bits_per_step).astype(float)  # (T, 2)
    cell_max = np.asarray([2.0**c - 1.0 for c in config.cell_bits])  # (S,)
    cell_low = -cell_max if config.encoding == "differential" else np.zeros_like(cell_max)
    if config.encoding == "twos_complement":  # the MSB slice is signed (its sign bit counts -2^(c-1))
        cell_low[0], cell_max[0] = -(2.0 ** (config.cell_bits[0] - 1)), 2.0 ** (config.cell_bits[0] - 1) - 1.0
    corners = np.stack(
        [np.multiply.outer(c, chunk[:, i]) for c in (cell_low, cell_max) for i in (0, 1)]
    )  # (4, S, T)
    return config.rows * corners.min(0), config.rows * corners.max(0)


def _adc_grid(name: str, value, config: MVMConfig, columns: int, vector_axis: int, dtype):
    """A per-conversion ADC setting as a 2-D ``(S or 1, N or 1)`` array (a 1-D array lies along
    ``vector_axis``: 0 per slice, 1 per column); other shapes raise naming ``name``."""
    grid = jnp.asarray(value, dtype)
    slices = len(config.cell_bits)
    if grid.ndim == 0:
        grid = grid.reshape(1, 1)
    elif grid.ndim == 1:
        grid = grid[:, None] if vector_axis == 0 else grid[None, :]
    if grid.ndim != 2 or grid.shape[0] not in (1, slices) or grid.shape[1] not in (1, columns):
        one_d = f"({slices},) per slice" if vector_axis == 0 else f"({columns},) per column"
        raise ValueError(
            f"{name} has shape {jnp.shape(value)}; allowed: a scalar, {one_d}, or ({slices}, {columns}) "
            f"per slice and column (1 broadcasts) for {slices} slices and {columns} columns"
        )
    return grid


def _adc(config: MVMConfig, dtype, columns: int):
    """ADC step ``(S|1, C)`` and window end codes ``(S, T, C)`` with ``C`` 1 or the converted
    columns (module docstring), or ``None`` if ideal; ``columns`` counts the weight columns."""
    if config.adc_bits is None:
        return None
    low, high = _window(config)
    bits = _adc_grid("adc_bits", config.adc_bits, config, columns, 1, dtype)
    if config.adc_full_scale is None:
        full_scale = jnp.asarray([2.0**b for b in lossless_adc_bits(config)], dtype)[:, None]
    else:
        full_scale = _adc_grid("adc_full_scale", config.adc_full_scale, config, columns, 0, dtype)
    if config.encoding == "offset":  # the bias column: the largest setting among the columns
        bits, full_scale = (
            jnp.concatenate([g, jnp.max(g, axis=1, keepdims=True)], axis=1) if g.shape[1] > 1 else g
            for g in (bits, full_scale)
        )
    low_code, high_code = q.window_codes(low[..., None], high[..., None], bits[:, None, :])
    # A two-signed window leans to its longer side: a two's-complement sign plane times the sign
    # cycle reaches +2^(c-1) 2^(r-1) per row but only -(2^(c-1) - 1) 2^(r-1) (mirror the codes).
    mirror = ((low < 0) & (high > -low))[..., None]
    low_code, high_code = jnp.where(mirror, -high_code, low_code), jnp.where(mirror, -low_code, high_code)
    return full_scale / 2.0**bits, low_code.astype(dtype), high_code.astype(dtype)


def _shift_weights(config: MVMConfig, signs) -> np.ndarray:
    """``(T, P, S)`` digital weight of each conversion: ``sign_p 2^shift_s 2^(d t)``."""
    chunk_shifts = np.cumsum((0, *q.chunk_bits(config.input_bits, config.bits_per_step)[:-1]))
    slice_shifts = np.asarray(q.slice_shifts(config.cell_bits))
    return np.einsum("t,p,s->tps", 2.0**chunk_shifts, np.asarray(signs), 2.0**slice_shifts)


def _convert_and_add(sums, adc, weights, mode: str):
    """One row block: ADC of every sum ``(T, B, P, S, N)`` then shift-and-add -> ``(B, N)``;
    ``weights`` ``(T, P, S, 1)``.

    Elementwise and one reduction, which XLA fuses into a single pass over the block's sums.
    """
    if adc is not None:
        step, low_code, high_code = adc  # (S|1, C), (S, T, C) with C = 1 or N
        bounds = tuple(jnp.swapaxes(code, 0, 1)[:, None, None] for code in (low_code, high_code))
        sums = q.adc_codes(sums, step, *bounds, mode)
        weights = weights * step  # the code step folded into the shift-and-add weights, (T, P, S, C)
    return jnp.sum(sums * weights[:, None], axis=(0, 2, 3))


def _simulate(weights, x, config: MVMConfig, key, mode: str):
    """The simulated product of ``(K, N)`` weights and ``(B, K)`` inputs, real units, ``(B, N)``."""
    w_codes, w_scale = q.quantize_weights(weights, config)
    x_codes, x_scale = q.quantize_inputs(x, config)
    cells, signs, gates = _arrays(w_codes, config)
    cells = _blocks(cells, config.rows, axis=2)  # (P, S, J, R, N')
    gates = None if gates is None else _blocks(gates, config.rows, axis=2)
    chunks = _blocks(q.input_chunks(x_codes, config.input_bits, config.bits_per_step), config.rows, axis=2)
    adc = _adc(config, chunks.dtype, w_codes.shape[1])
    if config.device is None:
        cells = jnp.transpose(cells if gates is None else cells * gates, (2, 3, 0, 1, 4))  # (J, R, P, S, N')
        blocks = (jnp.moveaxis(chunks, 2, 0), cells)
        sums_of = lambda block: _block_sums(*block)  # noqa: E731
    else:
        sums = jnp.transpose(
            _device_sums(chunks, cells, gates, config, key), (3, 2, 4, 0, 1, 5)
        )  # J,T,B,P,S,N'
        if config.encoding == "differential":
            sums, signs = sums[:, :, :, :1] - sums[:, :, :, 1:], (1.0,)  # analog difference, one ADC
        blocks, sums_of = sums, lambda block: block
    weights = jnp.asarray(_shift_weights(config, signs), chunks.dtype)[..., None]

    def add_block(total, block):  # row blocks are converted separately and added digitally
        return total + _convert_and_add(sums_of(block), adc, weights, mode), None

    width = cells.shape[-1]
    product, _ = jax.lax.scan(add_block, jnp.zeros((chunks.shape[1], width), chunks.dtype), blocks)
    if config.encoding == "offset":
        product = product[:, :-1] - product[:, -1:]  # the bias column, subtracted digitally
    return product * w_scale * x_scale


# Compiled once per structure (static config fields, shapes, mode): eager callers would otherwise
# dispatch and compile dozens of small ops one by one.
_simulate_compiled = jax.jit(_simulate, static_argnames=("mode",))


def _check_key(config: MVMConfig, key) -> None:
    """With ``key=None``, let the device model raise on concrete noise knobs > 0 before tracing."""
    if key is None and config.device is not None:
        from hwjax.sim import devices

        probe = jnp.zeros((1,))
        devices.read(config.device, devices.program(config.device, probe, 1.0, None), None)


def bitsliced_mvm(weights, x, config: MVMConfig, key=None, mode: str = "ste"):
    """Simulated bit-sliced crossbar product ``x @ weights`` (module docstring), real units.

    Args:
        weights: ``(K, N)`` real weights.
        x: ``(..., K)`` real inputs.
        config: the hardware (:class:`MVMConfig`).
        key: ``jax.random`` key for the device's noise; ``None`` is noise-free (a device
            with a noise knob > 0 then raises ``ValueError``).
        mode: the ADC rounding's gradient, ``"ste"`` (default), ``"exact"`` or ``"smooth"``
            (rounding relaxed to the identity, clipping kept); the values and the
            straight-through gradients in ``weights`` and ``x`` do not depend on it, except
            that ``"smooth"`` skips the rounding.

    Returns:
        ``(..., N)`` outputs; gradients in ``weights`` and ``x`` are those of ``x @ weights``.
    """
    relax.check_mode(mode)
    if not isinstance(config, MVMConfig):
        raise ValueError(f"config must be an MVMConfig, got {type(config).__name__}")
    weights, x = jnp.asarray(weights), jnp.asarray(x)
    if weights.ndim != 2 or x.ndim < 1 or x.shape[-1] != weights.shape[0]:
        raise ValueError(f"weights must be (K, N) and x (..., K); got weights {weights.shape}, x {x.shape}")
    dtype = jnp.result_type(weights.dtype, x.dtype, jnp.float32)
    weights, x = weights.astype(dtype), x.astype(dtype)
    flat = x.reshape(-1, weights.shape[0])
    ideal = jnp.matmul(flat, weights, precision=_HIGHEST)
    _check_key(config, key)
    simulated = _simulate_compiled(
        jax.lax.stop_gradient(weights), jax.lax.stop_gradient(flat), config, key, mode=mode
    )
    out = ideal - jax.lax.stop_gradient(ideal) + simulated  # straight-through in weights and x
    return out.reshape((*x.shape[:-1], weights.shape[1]))


__all__ = [
    "ENCODINGS",
    "MVMConfig",
    "bitsliced_mvm",
    "integer_reference",
    "lossless_adc_bits",
    "quantize_inputs",
    "quantize_weights",
    "slice_codes",
]
