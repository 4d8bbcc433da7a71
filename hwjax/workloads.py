"""Workloads: the layers of a network as the matrix and vector work an accelerator must do.

A layer descriptor (:class:`Dense`, :class:`Conv2d`, :class:`LSTM`, :class:`GEMM`,
:class:`Embedding`, :class:`Pool2d`, :class:`Elementwise`) says how big a layer is; its
:meth:`matrix_ops` are the stationary weight matrices it applies to streams of input vectors
(:class:`MatrixOp`, what a crossbar or CIM bank holds) and its :meth:`vector_ops` the
elementwise work left for vector units (:class:`VectorOp`). A :class:`Network` is an ordered
tuple of layers with unique names.

Conventions (all counts are Python ints, **per inference**):

* ``macs``: multiply-accumulates, ``rows * cols * vectors`` summed over matrix ops (an
  operation count for TOPS is ``2 * macs``).
* ``weights``: stored parameters that sit in arrays: weight-matrix entries of stationary ops
  plus embedding tables. Biases and normalisation parameters are **not** counted; they live in
  the vector units (PUMA adds them in the VFU). Published parameter totals that include biases
  are compared with that stated in the tests.
* ``input_elements`` / ``output_elements``: activation elements read and written by the layer.

Every descriptor is a frozen dataclass registered as a pytree with **no leaves** (every field
is static), so a workload passes through ``jax.jit`` as structure, is hashable, and a cost
model ``jax.jit(model)(config, network)`` recompiles only when the workload changes. Sizes are
validated when a layer is built: a bad value raises ``ValueError`` naming the field and the
allowed range.

:func:`from_flax` derives a :class:`Network` from a Flax NNX module by tracing it, and
:func:`occupancy_from_flax` also reads each layer's weights: which of its crossbar blocks are empty.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Iterator
from typing import Any

from hwjax._pytree import Knob, pytree_dataclass, static_field

ACTIVATIONS = ("relu", "sigmoid", "tanh")
VECTOR_KINDS = ("relu", "sigmoid", "tanh", "add", "mul", "max", "softmax", "copy")

# --------------------------------------------------------------------------------------------
# Validation helpers (sizes are static structure: traced values are rejected, never clamped)


def _check_int(owner: str, name: str, value: Any, low: int = 1) -> int:
    """Return ``value`` as an int >= ``low`` or raise ``ValueError`` naming the field."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{owner}: {name}={value!r} must be a Python int in the allowed range [{low}, inf)"
            " (workload sizes are static structure, not traced values)"
        )
    if value < low:
        raise ValueError(f"{owner}: {name}={value} is outside the allowed range [{low}, inf)")
    return int(value)


def _check_pair(owner: str, name: str, value: Any, low: int = 1) -> tuple[int, int]:
    """An int or a pair of ints (height, width), each >= ``low``, as a tuple."""
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"{owner}: {name}={value!r} must be an int or a pair (height, width)")
        return (
            _check_int(owner, f"{name}[0]", value[0], low),
            _check_int(owner, f"{name}[1]", value[1], low),
        )
    v = _check_int(owner, name, value, low)
    return (v, v)


def _check_choice(owner: str, name: str, value: Any, choices: tuple) -> Any:
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{owner}: {name}={value!r} is not one of the valid choices: {valid}")
    return value


def _check_name(owner: str, name: Any) -> str:
    if not isinstance(name, str):
        raise ValueError(f"{owner}: name={name!r} must be a str")
    return name


def _set(obj: Any, **values: Any) -> None:
    for key, value in values.items():
        object.__setattr__(obj, key, value)


# --------------------------------------------------------------------------------------------
# Operations


@pytree_dataclass
class MatrixOp:
    """One weight matrix applied to a stream of input vectors: ``y = W^T x`` ``vectors`` times.

    Attributes:
        name: label, e.g. ``"conv1_1"``, ``"lstm0.gates"``, ``"lstm0.projection"``.
        rows: K, input-vector length = weight-matrix rows (mapped to array rows).
        cols: N, outputs = weight-matrix columns (mapped to array columns).
        vectors: input vectors (MVMs) per inference: conv output pixels, LSTM steps, GEMM M.
        input_reuse: fraction in [0, 1) of each vector's elements shared with the previous
            vector; a k x k sliding window with stride s shares ``(k - s) / k`` (0.8 for k = 5,
            s = 1; dissertation 3.2.3), which input shuffling exploits.
        stationary: False when both operands are activations (attention scores): the "weights"
            change on every use, so nothing stays resident in the array.
    """

    name: str = static_field()
    rows: int = static_field()
    cols: int = static_field()
    vectors: int = static_field()
    input_reuse: float = static_field(0.0)
    stationary: bool = static_field(True)

    def __post_init__(self):
        _check_name("MatrixOp", self.name)
        _set(
            self,
            rows=_check_int("MatrixOp", "rows", self.rows),
            cols=_check_int("MatrixOp", "cols", self.cols),
            vectors=_check_int("MatrixOp", "vectors", self.vectors),
        )
        reuse = self.input_reuse
        if isinstance(reuse, bool) or not isinstance(reuse, numbers.Real) or not 0.0 <= reuse < 1.0:
            raise ValueError(f"MatrixOp: input_reuse={reuse!r} is outside the allowed range [0, 1)")
        if not isinstance(self.stationary, bool):
            raise ValueError(f"MatrixOp: stationary={self.stationary!r} must be True or False")
        _set(self, input_reuse=float(reuse))

    @property
    def macs(self) -> int:
        """Multiply-accumulates per inference: ``rows * cols * vectors``."""
        return self.rows * self.cols * self.vectors

    @property
    def weights(self) -> int:
        """Resident weights: ``rows * cols`` when stationary, else 0."""
        return self.rows * self.cols if self.stationary else 0


@pytree_dataclass
class VectorOp:
    """Elementwise work for vector units (PUMA's VFU): ``elements`` operations of ``kind``."""

    name: str = static_field()
    kind: str = static_field()
    elements: int = static_field()

    def __post_init__(self):
        _check_name("VectorOp", self.name)
        _check_choice("VectorOp", "kind", self.kind, VECTOR_KINDS)
        _set(self, elements=_check_int("VectorOp", "elements", self.elements))


# --------------------------------------------------------------------------------------------
# Layers


class _Layer:
    """Shared behaviour of layer descriptors (each subclass defines its ops)."""

    @property
    def label(self) -> str:
        """The layer's name, or its lower-case type name while it has none."""
        return self.name or type(self).__name__.lower()

    def matrix_ops(self) -> tuple[MatrixOp, ...]:
        return ()

    def vector_ops(self) -> tuple[VectorOp, ...]:
        return ()

    @property
    def macs(self) -> int:
        """Multiply-accumulates per inference."""
        return sum(op.macs for op in self.matrix_ops())

    @property
    def weights(self) -> int:
        """Stored weights (biases excluded)."""
        return sum(op.weights for op in self.matrix_ops())

    def _activation_ops(self, activation: str | None, elements: int) -> tuple[VectorOp, ...]:
        if activation is None:
            return ()
        return (VectorOp(f"{self.label}.{activation}", activation, elements),)


def _check_activation(owner: str, activation: Any) -> None:
    _check_choice(owner, "activation", activation, (*ACTIVATIONS, None))


@pytree_dataclass
class Dense(_Layer):
    """Fully connected layer: an ``in_features x out_features`` matrix applied to ``vectors``
    input vectors per inference (1 for an MLP at batch 1, the sequence length for a layer
    applied at every step of a sequence)."""

    in_features: int = static_field()
    out_features: int = static_field()
    vectors: int = static_field(1)
    activation: str | None = static_field("relu")
    name: str = static_field("")

    def __post_init__(self):
        _check_name("Dense", self.name)
        _check_activation("Dense", self.activation)
        _set(
            self,
            in_features=_check_int("Dense", "in_features", self.in_features),
            out_features=_check_int("Dense", "out_features", self.out_features),
            vectors=_check_int("Dense", "vectors", self.vectors),
        )

    def matrix_ops(self) -> tuple[MatrixOp, ...]:
        return (MatrixOp(self.label, self.in_features, self.out_features, self.vectors),)

    def vector_ops(self) -> tuple[VectorOp, ...]:
        return self._activation_ops(self.activation, self.output_elements)

    @property
    def input_elements(self) -> int:
        return self.in_features * self.vectors

    @property
    def output_elements(self) -> int:
        return self.out_features * self.vectors


def _conv_padding(owner: str, padding: Any) -> Any:
    """Normalise padding: "same", "valid", an int, or explicit ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        return _check_choice(owner, "padding", padding, ("same", "valid"))
    if isinstance(padding, tuple | list):
        pairs = tuple(padding)
        if len(pairs) != 2 or any(not isinstance(p, tuple | list) or len(p) != 2 for p in pairs):
            raise ValueError(
                f"{owner}: padding={padding!r} must be 'same', 'valid', an int or "
                "((top, bottom), (left, right))"
            )
        return tuple(
            (_check_int(owner, "padding", lo, 0), _check_int(owner, "padding", hi, 0)) for lo, hi in pairs
        )
    return _check_int(owner, "padding", padding, 0)


def _output_size(size: int, kernel: int, stride: int, padding: Any, axis: int) -> int | None:
    """Output length along one axis, or None when the kernel overhangs the padded input."""
    if padding == "same":
        return -(-size // stride)
    if padding == "valid":
        lo = hi = 0
    elif isinstance(padding, tuple):
        lo, hi = padding[axis]
    else:
        lo = hi = padding
    padded = size + lo + hi
    return None if kernel > padded else (padded - kernel) // stride + 1


def _output_hw(owner: str, input_hw, kernel_hw, stride_hw, padding) -> tuple[int, int]:
    out = []
    for axis in range(2):
        size = _output_size(input_hw[axis], kernel_hw[axis], stride_hw[axis], padding, axis)
        if size is None:
            raise ValueError(
                f"{owner}: kernel_size={kernel_hw} is larger than the padded input (input_hw={input_hw}, "
                f"padding={padding!r}); allowed kernel size along axis {axis} is [1, padded input size]"
            )
        out.append(size)
    return (out[0], out[1])


@pytree_dataclass
class Conv2d(_Layer):
    """2-D convolution, mapped as one matrix of ``k*k*in_channels/groups`` rows and
    ``out_channels`` columns applied at every output pixel (im2col).

    ``padding`` is ``"same"`` (output ``ceil(H / stride)``), ``"valid"`` (0), an int ``p``
    (output ``floor((H + 2p - k) / stride) + 1``) or explicit ``((top, bottom), (left, right))``.
    ``kernel_size`` and ``stride`` may be ints or (height, width) pairs. ``batch`` counts
    images per inference (:func:`from_flax` sets it from the example input); ``groups`` is the
    feature-group count (``in_channels`` for a depthwise convolution: each output channel then
    reads only its own ``k*k`` inputs, and ``rows`` shrinks accordingly).
    """

    in_channels: int = static_field()
    out_channels: int = static_field()
    kernel_size: Any = static_field()
    input_hw: tuple[int, int] = static_field()
    stride: Any = static_field(1)
    padding: Any = static_field("same")
    activation: str | None = static_field("relu")
    name: str = static_field("")
    batch: int = static_field(1)
    groups: int = static_field(1)

    def __post_init__(self):
        owner = "Conv2d"
        _check_name(owner, self.name)
        _check_activation(owner, self.activation)
        kernel = _check_pair(owner, "kernel_size", self.kernel_size)
        stride = _check_pair(owner, "stride", self.stride)
        _set(
            self,
            in_channels=_check_int(owner, "in_channels", self.in_channels),
            out_channels=_check_int(owner, "out_channels", self.out_channels),
            kernel_size=kernel[0] if kernel[0] == kernel[1] else kernel,
            stride=stride[0] if stride[0] == stride[1] else stride,
            input_hw=_check_pair(owner, "input_hw", self.input_hw),
            padding=_conv_padding(owner, self.padding),
            batch=_check_int(owner, "batch", self.batch),
            groups=_check_int(owner, "groups", self.groups),
        )
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"Conv2d: groups={self.groups} must divide in_channels={self.in_channels} "
                f"and out_channels={self.out_channels}"
            )
        _output_hw(owner, self.input_hw, kernel, stride, self.padding)

    @property
    def kernel_hw(self) -> tuple[int, int]:
        """Kernel (height, width)."""
        return _check_pair("Conv2d", "kernel_size", self.kernel_size)

    @property
    def stride_hw(self) -> tuple[int, int]:
        """Stride (height, width)."""
        return _check_pair("Conv2d", "stride", self.stride)

    @property
    def output_hw(self) -> tuple[int, int]:
        """Output (height, width)."""
        return _output_hw("Conv2d", self.input_hw, self.kernel_hw, self.stride_hw, self.padding)

    @property
    def input_reuse(self) -> float:
        """Fraction of a window's inputs shared with the next window along a row:
        ``max(k - stride, 0) / k`` (dissertation 3.2.3)."""
        k, s = self.kernel_hw[1], self.stride_hw[1]
        return max(k - s, 0) / k

    def matrix_ops(self) -> tuple[MatrixOp, ...]:
        kh, kw = self.kernel_hw
        oh, ow = self.output_hw
        rows = kh * kw * (self.in_channels // self.groups)
        vectors = oh * ow * self.batch
        return (MatrixOp(self.label, rows, self.out_channels, vectors, self.input_reuse),)

    def vector_ops(self) -> tuple[VectorOp, ...]:
        return self._activation_ops(self.activation, self.output_elements)

    @property
    def input_elements(self) -> int:
        return self.in_channels * self.input_hw[0] * self.input_hw[1] * self.batch

    @property
    def output_elements(self) -> int:
        oh, ow = self.output_hw
        return self.out_channels * oh * ow * self.batch


@pytree_dataclass
class LSTM(_Layer):
    """LSTM layer run for ``sequence_length`` steps.

    The four gate matrices are stacked into one ``"gates"`` matrix of
    ``input_size + (projection or cells)`` rows and ``4 * cells`` columns (input and recurrent
    state concatenated). ``projection > 0`` adds an LSTMP ``"projection"`` matrix
    (``cells x projection``) whose output is the recurrent state. Per step the vector units do
    3 sigmoid gates and 2 tanh (``3*cells`` sigmoid, ``2*cells`` tanh), 3 products and one sum.
    """

    input_size: int = static_field()
    cells: int = static_field()
    projection: int = static_field(0)
    sequence_length: int = static_field(1)
    name: str = static_field("")

    def __post_init__(self):
        _check_name("LSTM", self.name)
        _set(
            self,
            input_size=_check_int("LSTM", "input_size", self.input_size),
            cells=_check_int("LSTM", "cells", self.cells),
            projection=_check_int("LSTM", "projection", self.projection, low=0),
            sequence_length=_check_int("LSTM", "sequence_length", self.sequence_length),
        )

    @property
    def state_size(self) -> int:
        """Recurrent state fed back to the gates: the projection, or the cells."""
        return self.projection or self.cells

    def matrix_ops(self) -> tuple[MatrixOp, ...]:
        steps = self.sequence_length
        gates = MatrixOp(f"{self.label}.gates", self.input_size + self.state_size, 4 * self.cells, steps)
        if not self.projection:
            return (gates,)
        return (gates, MatrixOp(f"{self.label}.projection", self.cells, self.projection, steps))

    def vector_ops(self) -> tuple[VectorOp, ...]:
        per_step = (("sigmoid", 3), ("tanh", 2), ("mul", 3), ("add", 1))
        return tuple(
            VectorOp(f"{self.label}.{kind}", kind, n * self.cells * self.sequence_length)
            for kind, n in per_step
        )

    @property
    def input_elements(self) -> int:
        return self.input_size * self.sequence_length

    @property
    def output_elements(self) -> int:
        return self.state_size * self.sequence_length


@pytree_dataclass
class GEMM(_Layer):
    """Matrix product ``D[M, N] = A[M, K] B[K, N]`` with ``B`` held in the array (rows = K,
    cols = N) and the M rows of ``A`` streamed through it. ``stationary=False`` when ``B`` is
    an activation too (attention scores): nothing is resident and ``weights`` is 0.
    ``input_elements`` counts ``A``, plus ``B`` when it is not stationary."""

    M: int = static_field()
    N: int = static_field()
    K: int = static_field()
    stationary: bool = static_field(True)
    name: str = static_field("")

    def __post_init__(self):
        _check_name("GEMM", self.name)
        if not isinstance(self.stationary, bool):
            raise ValueError(f"GEMM: stationary={self.stationary!r} must be True or False")
        _set(
            self,
            M=_check_int("GEMM", "M", self.M),
            N=_check_int("GEMM", "N", self.N),
            K=_check_int("GEMM", "K", self.K),
        )

    def matrix_ops(self) -> tuple[MatrixOp, ...]:
        return (MatrixOp(self.label, self.K, self.N, self.M, stationary=self.stationary),)

    @property
    def input_elements(self) -> int:
        return self.M * self.K + (0 if self.stationary else self.K * self.N)

    @property
    def output_elements(self) -> int:
        return self.M * self.N


@pytree_dataclass
class Embedding(_Layer):
    """Table lookup: ``vocab x dim`` stored weights, ``lookups`` rows copied per inference."""

    vocab: int = static_field()
    dim: int = static_field()
    lookups: int = static_field(1)
    name: str = static_field("")

    def __post_init__(self):
        _check_name("Embedding", self.name)
        _set(
            self,
            vocab=_check_int("Embedding", "vocab", self.vocab),
            dim=_check_int("Embedding", "dim", self.dim),
            lookups=_check_int("Embedding", "lookups", self.lookups),
        )

    def vector_ops(self) -> tuple[VectorOp, ...]:
        return (VectorOp(f"{self.label}.copy", "copy", self.dim * self.lookups),)

    @property
    def weights(self) -> int:
        return self.vocab * self.dim

    @property
    def input_elements(self) -> int:
        return self.lookups

    @property
    def output_elements(self) -> int:
        return self.dim * self.lookups


@pytree_dataclass
class Pool2d(_Layer):
    """Max pooling over ``kernel_size x kernel_size`` windows (``stride`` defaults to the
    kernel size; ``padding`` is an int, added to each side). The vector work is
    ``kernel_size**2 - 1`` two-input max operations per output element."""

    channels: int = static_field()
    input_hw: tuple[int, int] = static_field()
    kernel_size: int = static_field()
    stride: int | None = static_field(None)
    name: str = static_field("")
    padding: int = static_field(0)

    def __post_init__(self):
        owner = "Pool2d"
        _check_name(owner, self.name)
        kernel = _check_int(owner, "kernel_size", self.kernel_size)
        stride = kernel if self.stride is None else _check_int(owner, "stride", self.stride)
        _set(
            self,
            channels=_check_int(owner, "channels", self.channels),
            input_hw=_check_pair(owner, "input_hw", self.input_hw),
            kernel_size=kernel,
            stride=stride,
            padding=_check_int(owner, "padding", self.padding, 0),
        )
        _output_hw(owner, self.input_hw, (kernel, kernel), (stride, stride), self.padding)

    @property
    def output_hw(self) -> tuple[int, int]:
        k, s = self.kernel_size, self.stride
        return _output_hw("Pool2d", self.input_hw, (k, k), (s, s), self.padding)

    def vector_ops(self) -> tuple[VectorOp, ...]:
        comparisons = max(self.kernel_size**2 - 1, 1)
        return (VectorOp(f"{self.label}.max", "max", self.output_elements * comparisons),)

    @property
    def input_elements(self) -> int:
        return self.channels * self.input_hw[0] * self.input_hw[1]

    @property
    def output_elements(self) -> int:
        oh, ow = self.output_hw
        return self.channels * oh * ow


@pytree_dataclass
class Elementwise(_Layer):
    """Vector-unit-only work: ``elements`` operations of ``kind`` (a residual add, a global
    average pool as adds, nonlinearities :func:`from_flax` could not attach to a layer)."""

    kind: str = static_field()
    elements: int = static_field()
    name: str = static_field("")

    def __post_init__(self):
        _check_name("Elementwise", self.name)
        _check_choice("Elementwise", "kind", self.kind, VECTOR_KINDS)
        _set(self, elements=_check_int("Elementwise", "elements", self.elements))

    def vector_ops(self) -> tuple[VectorOp, ...]:
        return (VectorOp(self.label, self.kind, self.elements),)

    @property
    def input_elements(self) -> int:
        return self.elements

    @property
    def output_elements(self) -> int:
        return self.elements


LAYER_TYPES = (Dense, Conv2d, LSTM, GEMM, Embedding, Pool2d, Elementwise)


# --------------------------------------------------------------------------------------------
# Network


@pytree_dataclass
class Network:
    """An ordered tuple of layers with unique names (a layer built without a name is called
    ``f"{type}{index}"``, e.g. ``"dense0"``, ``"conv2d3"``)."""

    name: str = static_field()
    layers: tuple = static_field()

    def __post_init__(self):
        _check_name("Network", self.name)
        layers = tuple(self.layers) if isinstance(self.layers, tuple | list) else None
        if not layers:
            raise ValueError(f"Network: layers={self.layers!r} must be a non-empty tuple of layers")
        named = []
        for index, layer in enumerate(layers):
            if not isinstance(layer, LAYER_TYPES):
                kinds = ", ".join(t.__name__ for t in LAYER_TYPES)
                raise ValueError(f"Network: layers[{index}]={layer!r} is not a layer ({kinds})")
            if not layer.name:
                layer = dataclasses.replace(layer, name=f"{type(layer).__name__.lower()}{index}")
            named.append(layer)
        seen = set()
        for layer in named:
            if layer.name in seen:
                raise ValueError(f"Network {self.name!r}: duplicate layer name {layer.name!r}")
            seen.add(layer.name)
        _set(self, layers=tuple(named))

    def __iter__(self) -> Iterator:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, key: int | str):
        """A layer by position or by name."""
        if isinstance(key, str):
            for layer in self.layers:
                if layer.name == key:
                    return layer
            raise KeyError(f"Network {self.name!r} has no layer {key!r}")
        return self.layers[key]

    @property
    def macs(self) -> int:
        """Multiply-accumulates per inference."""
        return sum(layer.macs for layer in self.layers)

    @property
    def weights(self) -> int:
        """Stored weights (biases excluded)."""
        return sum(layer.weights for layer in self.layers)

    def matrix_ops(self) -> tuple[MatrixOp, ...]:
        """All matrix ops, in layer order."""
        return tuple(op for layer in self.layers for op in layer.matrix_ops())

    def vector_ops(self) -> tuple[VectorOp, ...]:
        """All vector ops, in layer order."""
        return tuple(op for layer in self.layers for op in layer.vector_ops())

    def summary(self) -> str:
        """A plain-text table: one row per layer (type, MACs, weights, matrix shapes), then totals."""
        rows = [("layer", "type", "MACs", "weights", "matrices (rows x cols x vectors)")]
        for layer in self.layers:
            shapes = ", ".join(f"{op.rows}x{op.cols}x{op.vectors}" for op in layer.matrix_ops())
            rows.append((layer.name, type(layer).__name__, f"{layer.macs:,}", f"{layer.weights:,}", shapes))
        rows.append(("total", "", f"{self.macs:,}", f"{self.weights:,}", ""))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        align = (str.ljust, str.ljust, str.rjust, str.rjust)
        lines = [
            "  ".join([*(a(c, w) for a, c, w in zip(align, row[:4], widths, strict=True)), row[4]]).rstrip()
            for row in rows
        ]
        rule = "-" * max(len(line) for line in lines)
        title = (
            f"Network {self.name!r}: {len(self.layers)} layers, {self.macs:,} MACs, {self.weights:,} weights"
        )
        return "\n".join([title, lines[0], rule, *lines[1:-1], rule, lines[-1]])


# --------------------------------------------------------------------------------------------
# from_flax: derive a Network by tracing a Flax NNX module. The jaxpr walker (hwjax/flax_trace.py)
# returns plain data and imports nothing from here; the layers are built below, so the import
# arrow runs one way: workloads -> flax_trace (deferred: flax is needed only there).


def from_flax(model: Any, example_input: Any, name: str = "model") -> Network:
    """Trace a Flax NNX module on ``example_input`` and return its workload.

    The module is split into graph and state (``nnx.split``) and traced with
    ``jax.make_jaxpr``; every value computed only from state leaves (through reshapes,
    transposes, casts, slices, ...) is a *parameter*. Then

    * each ``dot_general`` with one parameter operand is a stationary :class:`Dense`:
      rows = contracted size, cols = the parameter's free (and batch) size, vectors = the
      activation operand's free size. A parameter used several times (a Python-loop RNN, a
      module called twice) is one layer whose vectors add up; weights are counted once;
    * a ``dot_general`` of two activations is a :class:`GEMM` with ``stationary=False``;
    * each ``conv_general_dilated`` with a parameter kernel is a :class:`Conv2d` (kernel,
      stride, padding, channels, groups and input size read from the primitive; any layout,
      NHWC as Flax uses included);
    * ``scan`` bodies (``nnx.RNN``, ``nnx.scan``, ``lax.scan``, ``fori_loop`` with static
      bounds) count ``length`` times; a parameter sliced per step (a scan over stacked layer
      weights) counts as ``length`` distinct matrices;
    * relu (``max(x, 0)``), sigmoid (``logistic``) and ``tanh`` applied to a layer's output
      (after a bias add or normalisation) become that layer's ``activation``; others, and
      max-pooling windows, are collected in trailing :class:`Elementwise` layers.

    The example input's leading (batch) dimension counts into ``vectors``: pass batch 1 for
    per-inference workloads. Only shapes matter, so the module may be abstract and the input a
    ``jax.ShapeDtypeStruct``: ``from_flax(nnx.eval_shape(lambda: Model(rngs=nnx.Rngs(0))),
    jax.ShapeDtypeStruct((1, 224, 224, 3), jnp.float32))`` allocates no weights.

    Layers are named after the parameter path (``"l1"``, ``"cell.ii"``), non-stationary GEMMs
    ``"gemm0"``, ``"gemm1"``, ..., trailing vector work ``"elementwise.<kind>"``.
    :func:`occupancy_from_flax` also reads the weights (which blocks of each layer are empty).

    Raises:
        ValueError: ``model`` is not an ``nnx.Module``; the model cannot be traced on the
            input; a ``while`` loop (unknown trip count) or a data-dependent ``cond`` holds a
            matrix product; a convolution is not 2-D, is dilated or has an activation kernel;
            no matrix product was found.
    """
    from hwjax import flax_trace

    return _network_from_trace(flax_trace.trace(model, example_input), name)


def occupancy_from_flax(
    model: Any,
    *example_inputs: Any,
    rows: int,
    cols: int,
    mode: str = "exact",
    threshold: Knob = 0.0,
    temperature: Knob | None = None,
    name: str = "model",
) -> tuple[Network, Any]:
    """The workload of a Flax NNX model and each layer's crossbar block occupancy.

    The network is :func:`from_flax`'s (here the model is called as ``model(*example_inputs)``).
    Each layer's matrix is read by :func:`hwjax.flax_trace.layer_weights` as the layer uses it:
    the value that reaches its matrix product, so a kernel multiplied by a mask (any
    ``nnx.Variable``, e.g. ``self.mask = nnx.Variable(m)``; ``kernel * mask`` in ``__call__``),
    a reshaped, quantized or factored kernel all count by their product; an unused parameter
    does not count. The occupancy is :func:`hwjax.mapping.network_occupancy`: per layer, the
    fraction of its ``rows x cols`` blocks holding any ``|w| > threshold``; 1.0 for layers
    without resident matrices (non-stationary GEMMs, trailing vector work).

    Args:
        model: an ``nnx.Module`` with arrays for weights (not ``nnx.eval_shape``'s shapes);
            inside ``nnx.grad`` or ``nnx.jit`` its weights may be traced, and the occupancy of
            ``"ste"`` and ``"smooth"`` modes is then differentiable in them.
        example_inputs: the call's positional arguments (arrays or ``jax.ShapeDtypeStruct``).
        rows, cols: the array's ``R x C``, static ints >= 1.
        mode, threshold, temperature: as for :func:`hwjax.mapping.block_occupancy`.
        name: the network's name.

    Returns:
        ``(network, occupancy)``: the :class:`Network` and a ``(L,)`` array in [0, 1] over its
        layers, the ``occupancy`` of :class:`hwjax.system.LayerKnobs`.

    Raises:
        ValueError: as :func:`from_flax` and :func:`hwjax.mapping.block_occupancy`; the model
            holds shapes only; a layer's matrix could not be evaluated.
    """
    from hwjax import flax_trace, mapping

    traced = flax_trace.trace(model, *example_inputs, weights=True)
    network = _network_from_trace(traced, name)
    weights = flax_trace.weights_of(traced)
    occupancy = mapping.network_occupancy(network, weights, rows, cols, mode, threshold, temperature)
    return network, occupancy


def _network_from_trace(traced: Any, name: str) -> Network:
    """The :class:`Network` of a :class:`hwjax.flax_trace.Trace`: one layer per matrix, a
    nonlinearity that covered all of a layer's outputs as its activation, the rest of the
    vector work in trailing :class:`Elementwise` layers."""
    name = _check_name("from_flax", name)
    trailing = dict(traced.vector_work)
    layers = []
    for use in traced.matrices:
        layer, leftover = _attach(_traced_layer(use), use["acts"])
        for kind, elements in leftover.items():
            trailing[kind] = trailing.get(kind, 0) + elements
        layers.append(layer)
    taken = {use["name"] for use in traced.matrices}
    for kind, elements in trailing.items():
        layers.append(Elementwise(kind, elements, name=_unique_name(f"elementwise.{kind}", taken)))
    return Network(name, tuple(layers))


_CONV_FIELDS = ("in_channels", "out_channels", "kernel_size", "input_hw", "stride", "padding", "groups")


def _traced_layer(use: dict):
    if use["kind"] == "gemm":
        return GEMM(use["vectors"], use["cols"], use["rows"], stationary=False, name=use["name"])
    if use["kind"] == "dense":
        return Dense(use["rows"], use["cols"], use["vectors"], None, use["name"])
    fields = {f: use[f] for f in _CONV_FIELDS}
    return Conv2d(**fields, activation=None, name=use["name"], batch=use["vectors"])


def _attach(layer, acts: dict) -> tuple[Any, dict]:
    """``(layer, {})`` with a nonlinearity that covered all its outputs as its activation
    (GEMMs take none), else ``(layer, acts)``: the work left for trailing layers."""
    if len(acts) == 1 and not isinstance(layer, GEMM):
        ((kind, elements),) = acts.items()
        if elements == layer.output_elements:
            return dataclasses.replace(layer, activation=kind), {}
    return layer, acts


def _unique_name(base: str, taken: set) -> str:
    """``base``, or ``base_1``, ``base_2``, ... the first not in ``taken`` (which it joins)."""
    name, n = base, 1
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name
