"""The shared contract: every row of ``rows.ROWS`` is jittable, vmappable, differentiable,
compiled once, non-negative in cost, strict with bad input and finite over its valid range.

Each compiled function is reused by the checks that need it, so the suite's cost grows with
the number of rows and knobs rather than with the number of checks.

Tolerances:
* jit vs eager and vmap vs a loop: rtol 1e-5 in float32 (XLA may fuse and reorder float
  operations differently in the two paths; a few ulps).
* gradients vs central finite differences: float64, step about 1e-6 of the knob's magnitude,
  so the truncation error (~step²) and round-off (~1e-16 / step) are both below 1e-8
  relative; checked at rtol 1e-5 plus an absolute floor of 1e-7 of the output-to-range scale.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hwjax import Cost

from .rows import ROWS, ContractRow


def _ids(case) -> str:
    return "-".join(str(part) for part in case) if isinstance(case, tuple) else str(case)


def _on_one_worker(cases) -> list:
    """``cases`` (rows or tuples starting with a row), each marked to run on its row's xdist
    worker (``--dist loadgroup``), where the row's compiled functions are already cached."""
    params = []
    for case in cases:
        values = case if isinstance(case, tuple) else (case,)
        mark = pytest.mark.xdist_group(values[0].name)
        params.append(pytest.param(*values, marks=mark, id=_ids(case)))
    return params


ROW_MODES = _on_one_worker([(row, mode) for row in ROWS for mode in row.modes])
ROW_BAD = [(row, bad) for row in ROWS for bad in row.bad_inputs]
ONE_ROW_EACH = _on_one_worker(ROWS)


def _bind(row: ContractRow, mode):
    """The row's function of its knobs alone (static inputs and mode closed over)."""
    static = row.static_inputs()
    return lambda knobs: row.fn(mode, **static, **knobs)


_COMPILED: dict = {}
_TRACES: dict = {}


def _compiled(row: ContractRow, mode, x64: bool = False):
    """``jit`` of knobs -> (value, Jacobian of the flat outputs) of the bound row.

    One compiled function per (row, mode, precision) serves every check that evaluates the row
    one point at a time (compiling dominates the suite's time); it counts its traces in
    ``_TRACES`` so that the recompilation check needs no compile of its own.
    """
    key = (row.name, mode, x64)
    if key not in _COMPILED:
        bound, flat = _bind(row, mode), _flat_output(row, mode)

        def value_and_jacobian(knobs):
            _TRACES[key] = _TRACES.get(key, 0) + 1
            return bound(knobs), jax.jacrev(flat)(knobs)

        _COMPILED[key] = jax.jit(value_and_jacobian)
    return _COMPILED[key]


def _jitted_value(row: ContractRow, mode):
    return lambda knobs: _compiled(row, mode)(knobs)[0]


def test_row_names_are_unique():
    names = [row.name for row in ROWS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def _flat_output(row: ContractRow, mode):
    """Knobs -> 1-D vector of every output leaf, for Jacobians."""
    bound = _bind(row, mode)
    return lambda knobs: jnp.concatenate(
        [jnp.ravel(leaf) for leaf in jax.tree_util.tree_leaves(bound(knobs))]
    )


def _assert_trees_close(actual, expected, rtol=1e-5, atol=0.0):
    assert jax.tree_util.tree_structure(actual) == jax.tree_util.tree_structure(expected)
    for a, e in zip(jax.tree_util.tree_leaves(actual), jax.tree_util.tree_leaves(expected), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=rtol, atol=atol)


def _assert_finite(tree, what: str):
    for leaf in jax.tree_util.tree_leaves(tree):
        assert np.all(np.isfinite(np.asarray(leaf))), f"{what} has NaN or inf: {leaf}"


def _assert_costs_nonnegative(tree):
    costs = [
        x
        for x in jax.tree_util.tree_leaves(tree, is_leaf=lambda x: isinstance(x, Cost))
        if isinstance(x, Cost)
    ]
    for cost in costs:
        for leaf in jax.tree_util.tree_leaves(cost):
            assert np.all(np.asarray(leaf) >= 0), f"negative cost field in {cost}"


def _knob_samples(row: ContractRow, count: int, seed: int, margin: float = 0.0) -> list[dict]:
    """``count`` knob dicts drawn uniformly inside the ranges, shrunk by ``margin`` per side."""
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(count):
        sample = {}
        for name, value in row.knob_inputs().items():
            low, high = row.knobs[name]
            span = high - low
            sample[name] = jnp.asarray(
                rng.uniform(low + margin * span, high - margin * span, size=value.shape), value.dtype
            )
        samples.append(sample)
    return samples


@pytest.mark.parametrize("row,mode", ROW_MODES)
def test_jit_equals_eager(row: ContractRow, mode):
    knobs = row.knob_inputs()
    _assert_trees_close(_jitted_value(row, mode)(knobs), _bind(row, mode)(knobs))


@pytest.mark.parametrize("row", ONE_ROW_EACH)
def test_vmap_over_the_knobs_equals_loop(row: ContractRow):
    # Every knob is batched at once (one compile per row rather than one per knob): a knob that
    # cannot be batched (Python control flow or a shape on its value, a NumPy call on it) fails
    # here just as it would batched alone. One mode suffices: the modes differ in values and
    # surrogate gradients, not in batching.
    samples = _knob_samples(row, 4, seed=1)
    batch = {name: jnp.stack([s[name] for s in samples]) for name in row.knobs}
    batched = jax.vmap(_bind(row, row.default_mode))(batch)
    # The reference is a Python loop over single points (through the row's compiled function).
    looped = [_jitted_value(row, row.default_mode)(sample) for sample in samples]
    _assert_trees_close(batched, jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *looped))


@pytest.mark.parametrize("n", [2])  # the layer count of contract_row.TINY_NETWORK (3: tests/test_system.py)
@pytest.mark.parametrize("row", _on_one_worker([row for row in ROWS if row.native_batch]))
def test_knob_arrays_give_a_batch_equal_to_separate_calls(row: ContractRow, n: int):
    # Every knob at once as an (n,) array: the model batches its Config leaves itself.
    samples = _knob_samples(row, n, seed=2)
    batch = {name: jnp.stack([s[name] for s in samples]) for name in row.knobs}
    batched = _bind(row, row.default_mode)(batch)
    looped = [_jitted_value(row, row.default_mode)(sample) for sample in samples]
    _assert_trees_close(batched, jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *looped))


def _central_difference(flat, knobs: dict, name: str, span: float) -> np.ndarray:
    """d flat(knobs) / d knobs[name] by central differences: shape (outputs, *knob shape).

    Each entry's step is 1e-6 of its magnitude plus 1e-3 of the range ``span``, small next to
    the scale on which the functions curve and large enough to keep round-off negligible.
    """
    value = np.asarray(knobs[name], dtype=np.float64)
    columns = []
    for index in np.ndindex(value.shape or ()):
        step = 1e-6 * (abs(value[index]) + 1e-3 * span)
        delta = np.zeros_like(value)
        delta[index] = step
        up = flat({**knobs, name: jnp.asarray(value + delta)})
        down = flat({**knobs, name: jnp.asarray(value - delta)})
        columns.append((np.asarray(up) - np.asarray(down)) / (2 * step))
    return np.stack(columns, axis=-1).reshape(-1, *value.shape)


@pytest.mark.parametrize("row", ONE_ROW_EACH)
def test_gradients_match_finite_differences_in_smooth_mode(row: ContractRow):
    with jax.enable_x64(True):
        compiled = _compiled(row, row.smooth_mode, x64=True)

        def flat(knobs):
            return jnp.concatenate(
                [jnp.ravel(leaf) for leaf in jax.tree_util.tree_leaves(compiled(knobs)[0])]
            )

        points = [row.knob_inputs(), *_knob_samples(row, 2, seed=3, margin=0.1)]
        for knobs in points:
            knobs = {k: jnp.asarray(v, jnp.float64) for k, v in knobs.items()}
            analytic = compiled(knobs)[1]
            output_scale = np.max(np.abs(np.asarray(flat(knobs)))) + 1e-300
            for name, (low, high) in row.knobs.items():
                numeric = _central_difference(flat, knobs, name, high - low)
                np.testing.assert_allclose(
                    np.asarray(analytic[name]),
                    numeric,
                    rtol=1e-5,
                    atol=1e-7 * output_scale / (high - low),
                    err_msg=f"{row.name}: d/d{name} at {knobs}",
                )


@pytest.mark.parametrize("row,mode", ROW_MODES)
def test_second_call_with_same_shapes_does_not_recompile(row: ContractRow, mode):
    # Every check calls the shared compiled function with the same shapes and dtypes, so it is
    # traced exactly once however many checks ran before this one in this process.
    jitted = _compiled(row, mode)
    first, second = _knob_samples(row, 2, seed=4)
    jax.block_until_ready(jitted(first))
    jax.block_until_ready(jitted(second))
    assert _TRACES[(row.name, mode, False)] == 1


@pytest.mark.parametrize("row,bad", ROW_BAD, ids=_ids)
def test_bad_input_raises_value_error_naming_the_parameter(row: ContractRow, bad):
    overrides, parameter = bad
    overrides = dict(overrides)
    mode = overrides.pop("mode", row.modes[-1])
    with pytest.raises(ValueError, match=parameter):
        row.fn(mode, **{**row.inputs, **overrides})


def _knob_strategy(row: ContractRow):
    """Knob dicts anywhere in the documented ranges, edges included with high probability."""
    fields = {}
    for name, value in row.knob_inputs().items():
        low, high = row.knobs[name]
        element = st.one_of(st.sampled_from([low, high]), st.floats(low, high, allow_nan=False))
        size = int(np.prod(value.shape))
        fields[name] = st.lists(element, min_size=size, max_size=size).map(
            lambda xs, value=value: jnp.asarray(xs, value.dtype).reshape(value.shape)
        )
    return st.fixed_dictionaries(fields)


@pytest.mark.parametrize("row", ONE_ROW_EACH)
def test_values_and_gradients_finite_and_costs_nonnegative_over_valid_ranges(row: ContractRow):
    """In every mode: at the example, at random interior points, and fuzzed with hypothesis
    over the documented ranges, edges included."""

    def check(knobs):
        for mode in row.modes:
            value, gradient = _compiled(row, mode)(knobs)
            _assert_finite(value, f"{row.name} value in mode {mode} at {knobs}")
            _assert_finite(gradient, f"{row.name} gradient in mode {mode} at {knobs}")
            _assert_costs_nonnegative(value)

    for knobs in [row.knob_inputs(), *_knob_samples(row, 3, seed=2)]:
        check(knobs)
    given(_knob_strategy(row))(check)()
