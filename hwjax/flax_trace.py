"""The jaxpr walker behind :func:`hwjax.workloads.from_flax` (see its docstring for the rules).

Kept apart from the layer descriptors: it is the only part of the workloads that needs Flax and
knows JAX primitives. It imports nothing from hwjax: :func:`trace` returns plain data (a
:class:`Trace`) that :mod:`hwjax.workloads` turns into a :class:`~hwjax.workloads.Network`, so
the import arrow runs one way (workloads -> flax_trace).

With ``weights=True`` the walker also evaluates every value computed from the model's state
alone (never the activations): the matrix each layer holds, exactly as the layer uses it (a
kernel times a mask variable, a reshaped or quantized kernel, a product of low-rank factors are
all the matrix they compute), laid out as the layer's MatrixOp ``(K, N)``:

* a ``dot_general``: the parameter operand's contracted dims (flattened, in the primitive's
  order) are the rows K; its batch dims then free dims are the columns N (a Flax ``Dense``
  kernel ``(K, N)`` as it is);
* a convolution: the kernel as ``(kh, kw, cin / groups, cout)`` flattened to
  ``(kh * kw * cin / groups, cout)``, the im2col matrix of :class:`~hwjax.workloads.Conv2d`;
* a parameter sliced per step of a ``scan`` (``length`` matrices counted as one layer of
  ``length`` times the columns): the slices side by side along the columns, in stored order.

The weights are computed with JAX operations, so they are differentiable functions of the
model's state (inside ``nnx.grad`` too). A parameter used several times with the same shape is
one layer (the walker's rule); its matrix is the one of its first use.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class Trace:
    """What the walker found in a model, in first-use order (plain data, no hwjax types).

    Attributes:
        matrices: one dict per layer holding a matrix: ``kind`` (``"dense"``, ``"conv"`` or
            ``"gemm"``, the last a product of two activations), ``name`` (unique), ``vectors``
            (input vectors per call, all uses added up), ``acts`` (``{nonlinearity: elements}``
            applied to its output), ``rows`` and ``cols`` (dense, gemm) or the convolution's
            ``in_channels``, ``out_channels``, ``kernel_size``, ``input_hw``, ``stride``,
            ``padding`` and ``groups``, and ``weights``: the ``(K, N)`` matrix when traced with
            ``weights=True`` and the layer holds one (else ``None``).
        vector_work: ``{kind: elements}`` of nonlinearities and pooling not attached to a layer.
    """

    matrices: tuple
    vector_work: dict


def trace(model: Any, *example_inputs: Any, weights: bool = False) -> Trace:
    """Trace ``model(*example_inputs)`` (the rules: :func:`hwjax.workloads.from_flax`).

    ``weights=True`` also evaluates each layer's matrix (module docstring); the model's state
    must then hold arrays (concrete, or traced inside a JAX transformation), not
    ``nnx.eval_shape``'s shapes; the inputs may still be ``jax.ShapeDtypeStruct``.
    """
    from flax import nnx  # deferred: flax is needed only here

    if not isinstance(model, nnx.Module):
        raise ValueError(f"from_flax: model must be a flax.nnx.Module, got {type(model).__name__}")
    graphdef, state = nnx.split(model)
    leaves = jax.tree_util.tree_flatten_with_path(state)[0]
    if weights:
        abstract = [path_name(path) for path, leaf in leaves if isinstance(leaf, jax.ShapeDtypeStruct)]
        if abstract:
            raise ValueError(
                f"layer weights need a model with arrays, but {len(abstract)} of its state leaves "
                f"({abstract[0]!r}, ...) are only shapes (nnx.eval_shape); build the model with weights"
            )
    try:
        closed = jax.make_jaxpr(lambda s, *xs: nnx.merge(graphdef, s)(*xs))(state, *example_inputs)
    except (TypeError, ValueError) as error:
        raise ValueError(f"from_flax: could not trace the model on example_input: {error}") from error
    n_state = len(leaves)
    params = [_Value("param", (path_name(path),), value=leaf if weights else None) for path, leaf in leaves]
    inputs = [_ACT] * (len(closed.jaxpr.invars) - n_state)
    tracer = _Tracer(evaluate=weights)
    tracer.walk(closed.jaxpr, _constants(closed.consts), params + inputs, 1)
    return tracer.result()


def layer_weights(model: Any, *example_inputs: Any) -> dict:
    """The matrix each layer of ``model`` holds: ``{layer name: (K, N) array}``.

    Names and order are those of the stationary layers (Dense, Conv2d) of
    :func:`hwjax.workloads.from_flax`'s network for the same model and input; the layout and
    what counts as the matrix (masks, reshapes) are in the module docstring. Non-stationary
    products (two activations) hold no matrix and are left out.

    Args:
        model: an ``nnx.Module`` with arrays for weights.
        example_inputs: the positional arguments of a call (arrays or ``jax.ShapeDtypeStruct``).

    Raises:
        ValueError: as :func:`hwjax.workloads.from_flax`; the model holds only shapes; a layer's
            matrix could not be evaluated (e.g. it combines slices of differently stacked scans).
    """
    return weights_of(trace(model, *example_inputs, weights=True))


def weights_of(result: Trace) -> dict:
    """``{layer name: (K, N) matrix}`` of a :class:`Trace` made with ``weights=True``."""
    found = {}
    for use in result.matrices:
        if use["kind"] == "gemm":
            continue
        if use["weights"] is None:
            raise ValueError(
                f"layer_weights: the matrix of layer {use['name']!r} could not be evaluated from the "
                "model's state (trace with weights=True; a parameter stacked by nested scans of "
                "different lengths is not supported)"
            )
        found[use["name"]] = use["weights"]
    return found


def _constants(consts) -> list:
    """Captured constants of a (sub-)jaxpr: parameters with known values."""
    return [dataclasses.replace(_CONSTANT_PARAM, value=c) for c in consts]


@dataclasses.dataclass(frozen=True)
class _Value:
    """What the tracer knows about one jaxpr variable.

    kind: "param" (from state leaves or captured constants only), "const" (from literals
    only: zeros, iota), or "act" (depends on the input). ``sources`` names the parameters a
    param derives from; ``stack`` counts distinct weight slices it stands for (a scan over
    stacked weights); ``producer`` is ``(layer key, elements)`` for an activation fresh out of
    a layer (kept through bias adds, normalisation and reshapes) so a nonlinearity can attach.
    ``value`` is the array of a param or const when known (``None`` otherwise; always ``None``
    for an act); with ``stack > 1`` it has a leading axis of the ``stack`` slices.
    """

    kind: str
    sources: tuple = ()
    stack: int = 1
    producer: tuple | None = None
    value: Any = dataclasses.field(default=None, compare=False, repr=False)


_ACT = _Value("act")
_CONST = _Value("const")
_CONSTANT_PARAM = _Value("param", ("constant",))

# Shape-preserving ops through which a layer's output keeps its producer (bias add, batch
# norm, casts) so the nonlinearity after them is attributed to the layer.
_PASS_THROUGH = {
    "add",
    "sub",
    "mul",
    "div",
    "reshape",
    "convert_element_type",
    "squeeze",
    "expand_dims",
    "copy",
}
_NONLINEAR = {"logistic": "sigmoid", "tanh": "tanh"}
_WEIGHT_LEAF_NAMES = ("kernel", "weight", "w", "value")


def path_name(path: tuple) -> str:
    """The name of the parameter at ``path`` (keys or plain names): the path joined by dots,
    trailing weight-like names dropped (``layers.0.kernel`` -> ``layers.0``), as layers are named."""
    parts = []
    for key in path:
        part = getattr(key, "key", getattr(key, "name", getattr(key, "idx", key)))
        parts.append(str(part))
    while len(parts) > 1 and parts[-1] in _WEIGHT_LEAF_NAMES:
        parts.pop()
    return ".".join(parts)


def _size(var: Any) -> int:
    return math.prod(var.aval.shape)


def _combine(values: list[_Value]) -> _Value:
    """Category of an op's output from its inputs: act wins, then param, then const."""
    if any(v.kind == "act" for v in values):
        return _ACT
    params = [v for v in values if v.kind == "param"]
    if not params:
        return _CONST
    sources = tuple(sorted({s for v in params for s in v.sources}))
    return _Value("param", sources, max(v.stack for v in params))


def _evaluate(eqn: Any, ins: list[_Value], outs: list[_Value]) -> list[_Value]:
    """``outs`` with values, when every output is a param or const whose value is still
    unknown and every input's value is known: the primitive applied to them (mapped over the
    leading slice axis of stacked inputs). Otherwise ``outs`` unchanged."""
    if any(o.kind == "act" or o.value is not None for o in outs):
        return outs
    if any(v.value is None for v in ins):
        return outs
    stacks = {v.stack for v in ins if v.stack > 1}
    if len(stacks) > 1:
        return outs  # slices of different scans: no single leading axis
    params = eqn.primitive.get_bind_params(eqn.params)

    def apply(*args):
        with eqn.ctx.manager:  # the equation's context (as jax.core.eval_jaxpr binds it)
            result = eqn.primitive.bind(*args, **params)
        return result if eqn.primitive.multiple_results else [result]

    if stacks:
        axes = [0 if v.stack > 1 else None for v in ins]
        values = jax.vmap(apply, in_axes=axes)(*(v.value for v in ins))
    else:
        values = apply(*(v.value for v in ins))
    return [dataclasses.replace(o, value=v) for o, v in zip(outs, values, strict=True)]


def _dense_matrix(value: Any, contract: tuple, batch: tuple, stack: int, rows: int, cols: int):
    """A dot_general's parameter operand as its MatrixOp ``(K, N)``: contracted dims as rows;
    the slice axis (``stack > 1``), batch dims, free dims as columns. ``None`` if unknown."""
    if value is None:
        return None
    lead = 1 if stack > 1 else 0
    w = jnp.asarray(value)
    contract_axes = [d + lead for d in contract]
    batch_axes = [d + lead for d in batch]
    free_axes = [d for d in range(lead, w.ndim) if d not in (*contract_axes, *batch_axes)]
    order = [*contract_axes, *range(lead), *batch_axes, *free_axes]
    return _as_matrix(jnp.transpose(w, order), rows, cols)


def _conv_matrix(value: Any, rhs_spec: tuple, stack: int, rows: int, cols: int):
    """A convolution kernel as ``(kh * kw * cin / groups, cout)`` (slices side by side along the
    columns when ``stack > 1``). ``None`` if unknown."""
    if value is None:
        return None
    lead = 1 if stack > 1 else 0
    out_axis, in_axis, h_axis, w_axis = (d + lead for d in rhs_spec)
    order = [h_axis, w_axis, in_axis, *range(lead), out_axis]
    return _as_matrix(jnp.transpose(jnp.asarray(value), order), rows, cols)


def _as_matrix(w: Any, rows: int, cols: int):
    if math.prod(w.shape) != rows * cols:
        return None  # defensive: a layout the walker does not know
    return w.reshape(rows, cols)


def _sub_jaxprs(params: dict) -> list[tuple[Any, tuple]]:
    """(jaxpr, consts) for every sub-jaxpr among a primitive's parameters."""
    from jax.extend.core import ClosedJaxpr, Jaxpr

    found = []
    for value in params.values():
        for item in value if isinstance(value, tuple | list) else (value,):
            if isinstance(item, ClosedJaxpr):
                found.append((item.jaxpr, tuple(item.consts)))
            elif isinstance(item, Jaxpr):
                found.append((item, ()))
    return found


def _has_matrix_ops(jaxpr: Any) -> bool:
    for eqn in jaxpr.eqns:
        if eqn.primitive.name in ("dot_general", "conv_general_dilated"):
            return True
        if any(_has_matrix_ops(sub) for sub, _ in _sub_jaxprs(eqn.params)):
            return True
    return False


class _Tracer:
    """Walks a jaxpr, collecting layer uses (merged per stationary matrix) and vector work."""

    def __init__(self, evaluate: bool = False):
        self._evaluate = evaluate  # compute the values of params and consts (layer weights)
        self._uses: dict[tuple, dict] = {}  # layer key -> spec and accumulated counts
        self._names: set[str] = set()
        self._trailing: dict[str, int] = {}
        self._gemms = 0

    # -- walking -------------------------------------------------------------------------

    def walk(self, jaxpr: Any, consts: list[_Value], ins: list[_Value], mult: int) -> list[_Value]:
        from jax.extend.core import Literal

        env: dict = dict(zip(jaxpr.constvars, consts, strict=True))
        env.update(zip(jaxpr.invars, ins, strict=True))

        def read(var):
            return _Value("const", value=var.val) if isinstance(var, Literal) else env[var]

        for eqn in jaxpr.eqns:
            ins = [read(v) for v in eqn.invars]
            outs = self._eqn(eqn, ins, mult)
            if self._evaluate:
                outs = _evaluate(eqn, ins, outs)
            env.update(zip(eqn.outvars, outs, strict=True))
        return [read(v) for v in jaxpr.outvars]

    def _eqn(self, eqn: Any, ins: list[_Value], mult: int) -> list[_Value]:
        prim = eqn.primitive.name
        if prim == "dot_general":
            return [self._dot(eqn, ins, mult)]
        if prim == "conv_general_dilated":
            return [self._conv(eqn, ins, mult)]
        if prim == "scan":
            return self._scan(eqn, ins, mult)
        if prim == "while" and _has_matrix_ops_in(eqn):
            raise ValueError(
                "from_flax: a while loop (lax.while_loop, or fori_loop with traced bounds) holds a "
                "matrix product, and its trip count is unknown at trace time; use lax.scan, nnx.scan "
                "or fori_loop with static Python int bounds"
            )
        if prim == "cond" and _has_matrix_ops_in(eqn):
            raise ValueError(
                "from_flax: a lax.cond/switch holds a matrix product; which branch runs is data "
                "dependent, so its work per inference is unknown"
            )
        if prim in ("max", "logistic", "tanh"):
            return [self._nonlinear(eqn, ins, mult)]
        if prim == "reduce_window_max":
            window = math.prod(eqn.params["window_dimensions"])
            self._trail("max", _size(eqn.outvars[0]) * max(window - 1, 1) * mult)
            return [_combine(ins)]
        if prim not in ("while", "cond"):
            subs = _sub_jaxprs(eqn.params)
            if subs:
                return self._call(eqn, ins, mult, subs)
        return self._default(eqn, ins)

    def _default(self, eqn: Any, ins: list[_Value]) -> list[_Value]:
        out = _combine(ins)
        if out.kind == "act" and eqn.primitive.name in _PASS_THROUGH:
            acts = [v for v in ins if v.kind == "act"]
            size = _size(eqn.outvars[0])
            if len(acts) == 1 and acts[0].producer is not None and acts[0].producer[1] == size:
                out = acts[0]
        return [out] * len(eqn.outvars)

    def _call(self, eqn: Any, ins: list[_Value], mult: int, subs: list) -> list[_Value]:
        """pjit/jit, closed_call, custom_jvp/vjp, remat: walk the body with the same inputs."""
        for jaxpr, consts in subs:
            if len(jaxpr.invars) == len(ins) and len(jaxpr.outvars) == len(eqn.outvars):
                return self.walk(jaxpr, _constants(consts), ins, mult)
        if any(_has_matrix_ops(jaxpr) for jaxpr, _ in subs):
            raise ValueError(
                f"from_flax: unsupported primitive {eqn.primitive.name!r} holds a matrix product"
            )
        return self._default(eqn, ins)

    def _scan(self, eqn: Any, ins: list[_Value], mult: int) -> list[_Value]:
        p = eqn.params
        length, n_consts, n_carry = p["length"], p["num_consts"], p["num_carry"]
        body = p["jaxpr"]
        consts = ins[:n_consts]
        carries = [_ACT] * n_carry  # loop-carried state changes every step: an activation
        xs = [_scanned(v, length) for v in ins[n_consts + n_carry :]]
        self.walk(body.jaxpr, _constants(body.consts), consts + carries + xs, mult * length)
        out = _combine(ins)
        return [dataclasses.replace(out, producer=None)] * len(eqn.outvars)

    # -- layers ----------------------------------------------------------------------------

    def _dot(self, eqn: Any, ins: list[_Value], mult: int) -> _Value:
        (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = eqn.params["dimension_numbers"]
        weight = _weight_operand([v.kind for v in ins])
        if weight is None:
            return _combine(ins)  # weight preprocessing or constant folding: no per-input work
        dims = ((lhs_contract, lhs_batch), (rhs_contract, rhs_batch))
        shapes = [v.aval.shape for v in eqn.invars]
        w_shape, a_shape = shapes[weight], shapes[1 - weight]
        (w_contract, w_batch), (a_contract, a_batch) = dims[weight], dims[1 - weight]
        rows = math.prod(w_shape[d] for d in w_contract)
        batch = math.prod(w_shape[d] for d in w_batch)
        w_free = math.prod(s for d, s in enumerate(w_shape) if d not in (*w_contract, *w_batch))
        a_free = math.prod(s for d, s in enumerate(a_shape) if d not in (*a_contract, *a_batch))
        out_size = _size(eqn.outvars[0])
        if ins[0].kind == ins[1].kind == "act":
            return self._gemm(rows, w_free, a_free * batch * mult, out_size)
        w = ins[weight] if ins[weight].kind == "param" else _CONSTANT_PARAM
        stack = w.stack
        cols = w_free * batch * stack
        key = ("dense", w.sources, rows, cols)
        spec = {"kind": "dense", "rows": rows, "cols": cols}
        matrix = None
        if self._evaluate:
            matrix = _dense_matrix(ins[weight].value, w_contract, w_batch, stack, rows, cols)
        self._use(key, spec, w.sources, a_free * mult // stack, matrix)
        return _Value("act", producer=(key, out_size))

    def _gemm(self, k: int, n: int, m: int, out_size: int) -> _Value:
        key = ("gemm", self._gemms)
        self._gemms += 1
        self._use(key, {"kind": "gemm", "rows": k, "cols": n}, (f"gemm{key[1]}",), m)
        return _Value("act", producer=(key, out_size))

    def _conv(self, eqn: Any, ins: list[_Value], mult: int) -> _Value:
        p = eqn.params
        lhs_spec, rhs_spec, _ = p["dimension_numbers"]
        lhs, rhs = (v.aval.shape for v in eqn.invars)
        if len(lhs_spec) != 4:
            raise ValueError(f"from_flax: only 2-D convolutions are supported, got {len(lhs_spec) - 2}-D")
        if any(d != 1 for d in (*p["lhs_dilation"], *p["rhs_dilation"])) or p["batch_group_count"] != 1:
            raise ValueError("from_flax: dilated, transposed or batch-grouped convolutions are not supported")
        if ins[1].kind == "act":
            raise ValueError("from_flax: a convolution whose kernel is an activation is not supported")
        if _weight_operand([v.kind for v in ins]) != 1:
            return _combine(ins)  # parameters or constants only: preprocessing, no per-input work
        stack = ins[1].stack
        geometry = {
            "in_channels": lhs[lhs_spec[1]],
            "out_channels": rhs[rhs_spec[0]] * stack,
            "kernel_size": (rhs[rhs_spec[2]], rhs[rhs_spec[3]]),
            "input_hw": (lhs[lhs_spec[2]], lhs[lhs_spec[3]]),
            "stride": tuple(p["window_strides"]),
            "padding": _flax_padding(p["padding"]),
            "groups": p["feature_group_count"],
        }
        key = ("conv", ins[1].sources, *sorted(geometry.items()))
        matrix = None
        if self._evaluate:
            k_rows = rhs[rhs_spec[1]] * rhs[rhs_spec[2]] * rhs[rhs_spec[3]]
            matrix = _conv_matrix(ins[1].value, rhs_spec, stack, k_rows, geometry["out_channels"])
        vectors = lhs[lhs_spec[0]] * mult // stack
        self._use(key, {"kind": "conv", **geometry}, ins[1].sources, vectors, matrix)
        return _Value("act", producer=(key, _size(eqn.outvars[0])))

    def _use(self, key: tuple, spec: dict, sources: tuple, vectors: int, weights: Any = None) -> None:
        use = self._uses.get(key)
        if use is None:
            use = self._uses[key] = {**spec, "name": self._name(sources), "vectors": 0, "acts": {}}
            use["weights"] = None
        if use["weights"] is None:
            use["weights"] = weights  # the first use's matrix (a merged layer holds one)
        use["vectors"] += vectors

    def _name(self, sources: tuple) -> str:
        # A mask or layout inside the layer's own module ("layers.0.mask") names no new layer.
        outer = [s for s in sources if not any(s.startswith(f"{t}.") for t in sources)]
        base = "+".join(outer) or "constant"
        name, n = base, 1
        while name in self._names:
            name, n = f"{base}_{n}", n + 1
        self._names.add(name)
        return name

    # -- vector work -----------------------------------------------------------------------

    def _nonlinear(self, eqn: Any, ins: list[_Value], mult: int) -> _Value:
        from jax.extend.core import Literal

        prim = eqn.primitive.name
        if prim == "max":
            zero = [isinstance(v, Literal) and v.aval.shape == () and v.val == 0 for v in eqn.invars]
            acts = [v for v, z in zip(ins, zero, strict=True) if not z and v.kind == "act"]
            if not any(zero) or len(acts) != 1:
                return self._default(eqn, ins)[0]
            kind, value = "relu", acts[0]
        else:
            kind, value = _NONLINEAR[prim], ins[0]
            if value.kind != "act":
                return _combine(ins)
        elements = _size(eqn.outvars[0])
        producer = value.producer
        if producer is not None and producer[1] == elements and self._uses[producer[0]]["kind"] != "gemm":
            acts = self._uses[producer[0]]["acts"]
            acts[kind] = acts.get(kind, 0) + elements * mult
        else:
            self._trail(kind, elements * mult)
        return _ACT

    def _trail(self, kind: str, elements: int) -> None:
        self._trailing[kind] = self._trailing.get(kind, 0) + elements

    # -- result ----------------------------------------------------------------------------

    def result(self) -> Trace:
        if not self._uses:
            raise ValueError("from_flax: the model has no matrix product (dot_general or 2-D convolution)")
        return Trace(tuple(self._uses.values()), dict(self._trailing))


def _scanned(value: _Value, length: int) -> _Value:
    """A scanned-over (``xs``) operand as the body sees it: a param becomes ``length`` slices
    (its value keeps every slice along one leading axis); others lose their producer."""
    if value.kind != "param":
        return dataclasses.replace(value, producer=None, value=None)
    sliced = value.value
    if sliced is not None and value.stack > 1:
        sliced = jnp.reshape(sliced, (value.stack * length, *jnp.shape(sliced)[2:]))
    return dataclasses.replace(value, stack=value.stack * length, value=sliced)


def _weight_operand(kinds: list[str]) -> int | None:
    """Which dot_general operand (0 = lhs, 1 = rhs) is the matrix held in the array, or None
    when there is no per-inference product (parameters or constants only).

    A parameter is held against an activation or a constant vector (a zero initial state);
    a constant matrix built inside the model is held against an activation; of two
    activations the rhs is held (a non-stationary GEMM).
    """
    acts = kinds.count("act")
    if acts == 2:
        return 1
    if acts == 1:
        return 1 - kinds.index("act")
    if sorted(kinds) == ["const", "param"]:
        return kinds.index("param")
    return None


def _has_matrix_ops_in(eqn: Any) -> bool:
    return any(_has_matrix_ops(sub) for sub, _ in _sub_jaxprs(eqn.params))


def _flax_padding(padding: tuple) -> Any:
    """XLA's explicit ((lo, hi), (lo, hi)) padding, as an int when symmetric and equal."""
    pairs = tuple((int(lo), int(hi)) for lo, hi in padding)
    if len({*pairs[0], *pairs[1]}) == 1:
        return pairs[0][0]
    return pairs
