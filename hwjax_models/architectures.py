"""The registry of whole-accelerator models: each one's design knobs, default workload and cost.

Every accelerator in :mod:`hwjax_models` exposes a ``Config`` (a pytree whose numeric fields are
continuous knobs) and a cost function of a workload. This module names them in one table so that
tools (the ``hwjax`` command, ``benchmarks/architectures.py``, notebooks) can treat them alike:

* a :class:`Knob` is a design range and the rule that turns a relaxed value into one that can be
  built: crossbar and array dimensions are powers of two, counts and bit widths are integers,
  clocks and fractions stay continuous;
* an :class:`Architecture` holds the module, its sweepable knobs, a default catalog workload and
  a cost function ``(config, workload, mode) -> Report``;
* :func:`get`, :func:`config`, :func:`evaluate` and :func:`round_to_buildable` look up, build,
  cost and round designs; bad names raise ``ValueError`` listing the valid ones.

``analog_tile`` is not registered: it models a tile's kernels (VMM, MVM, OPU) rather than a
network's inference, so it has no cost of a catalog workload.
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Callable, Mapping
from typing import Any

import jax.numpy as jnp

from hwjax import relax, validate
from hwjax import workloads as hw_workloads
from hwjax.cost import Report
from hwjax_models import digital, isaac, maxnvm, panther, puma, timon
from hwjax_models import workloads as catalog

ROUNDINGS = ("continuous", "integer", "power_of_two")


@dataclasses.dataclass(frozen=True)
class Knob:
    """A design knob's sweep range and how a relaxed value rounds to a buildable one.

    Attributes:
        low, high: the range explored by sweeps and the optimizer, in the Config field's unit
            (SI; ``low < high``). A power-of-two knob's bounds are powers of two and an integer
            knob's bounds are whole, so rounding inside the range stays inside it.
        rounding: ``"continuous"`` (any value builds: clocks, fractions), ``"integer"`` (counts,
            bit widths) or ``"power_of_two"`` (crossbar and array dimensions).
        unit: SI unit symbol for display (``"Hz"``), empty for counts and bits.
    """

    low: float
    high: float
    rounding: str = "integer"
    unit: str = ""

    def __post_init__(self):
        validate.check_choice("rounding", self.rounding, ROUNDINGS)
        validate.check_range("high", self.high, self.low, low_open=True, context=f"(low={self.low:g})")
        if self.rounding == "integer":
            validate.check_range("low", self.low, integer=True)
            validate.check_range("high", self.high, integer=True)
        if self.rounding == "power_of_two":
            for name, bound in (("low", self.low), ("high", self.high)):
                if bound <= 0 or not math.log2(bound).is_integer():
                    raise ValueError(f"{name}={bound:g} must be a power of two for a power_of_two knob")

    @property
    def log_scale(self) -> bool:
        """Whether sweeps and the optimizer move this knob in log space (powers of two, and
        positive ranges spanning at least a factor of 8)."""
        return self.rounding == "power_of_two" or (self.low > 0 and self.high / self.low >= 8.0)

    def round(self, value, clip: bool = True):
        """The nearest buildable value (scalar or array; jnp, traceable, no gradient).

        Powers of two round in log space (96 goes to 128, 90 to 64). With ``clip`` the result
        lies in ``[low, high]``; without, only the rounding applies (a sweep may explore beyond
        the registry's range).
        """
        value = jnp.asarray(value)
        if clip:
            value = jnp.clip(value, self.low, self.high)
        if self.rounding == "integer":
            value = jnp.round(value)
        elif self.rounding == "power_of_two":
            value = jnp.exp2(jnp.round(jnp.log2(value)))
        return value

    def neighbours(self, value) -> tuple[float, ...]:
        """The buildable values next to a relaxed scalar ``value`` in range: the one below and the
        one above (one value when ``value`` is buildable, or for a continuous knob)."""
        value = min(max(float(value), self.low), self.high)
        if self.rounding == "integer":
            candidates = {math.floor(value), math.ceil(value)}
        elif self.rounding == "power_of_two":
            exponent = math.log2(value)
            candidates = {2.0 ** math.floor(exponent), 2.0 ** math.ceil(exponent)}
        else:
            candidates = {value}
        return tuple(sorted(float(min(max(c, self.low), self.high)) for c in candidates))

    def to_unit(self, value):
        """``value`` mapped onto [0, 1] over the range (log-linear when :attr:`log_scale`)."""
        if self.log_scale:
            return (jnp.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (jnp.asarray(value) - self.low) / (self.high - self.low)

    def from_unit(self, unit):
        """Inverse of :meth:`to_unit`; ``unit`` is clipped to [0, 1] first (differentiable)."""
        unit = jnp.clip(unit, 0.0, 1.0)
        if self.log_scale:
            return jnp.exp(math.log(self.low) + unit * (math.log(self.high) - math.log(self.low)))
        return self.low + unit * (self.high - self.low)


Cost = Callable[[Any, hw_workloads.Network, str], Report]


@dataclasses.dataclass(frozen=True)
class Architecture:
    """One accelerator model and how tools drive it.

    Attributes:
        name: registry key (``"puma"``).
        module: the model's module (``hwjax_models.puma``); ``module.Config`` builds designs.
        knobs: the sweepable, optimizable knobs by Config field name (a subset of the Config's
            numeric fields; :func:`config` accepts any of those).
        default_workload: a catalog name (:func:`hwjax_models.workloads.catalog`).
        cost: ``(config, workload, mode) -> Report`` of one run of the workload.
        measures: what one run of ``cost`` is, in words (for report headers).
        takes_gemm: the model runs a GEMM of TIMON's Table 6.2 rather than a whole network.
    """

    name: str
    module: types.ModuleType
    knobs: Mapping[str, Knob]
    default_workload: str
    cost: Cost
    measures: str
    takes_gemm: bool = False

    def config_fields(self) -> tuple[str, ...]:
        """The Config's numeric leaf fields, i.e. every name :func:`config` accepts."""
        return config_fields(self)


def _inference(module: types.ModuleType) -> Cost:
    def cost(config, workload, mode: str) -> Report:
        return module.inference(config, workload, mode)

    cost.__name__ = f"{module.__name__.rsplit('.', 1)[-1]}_inference"
    return cost


def _panther_sgd_step(config: panther.Config, workload, mode: str) -> Report:
    """One SGD training step of batch 1 (PANTHER is a training accelerator)."""
    return panther.training_step(config, workload, 1.0, "sgd", mode)


_CLOCK = Knob(0.5e9, 1.5e9, "continuous", "Hz")

#: The registry. Knob ranges are the design space explored around each published configuration.
ARCHITECTURES: dict[str, Architecture] = {
    arch.name: arch
    for arch in (
        Architecture(
            "puma",
            puma,
            {
                "mvmu_dim": Knob(64.0, 256.0, "power_of_two"),
                "mvmus_per_core": Knob(1.0, 8.0),
                "vfu_width": Knob(1.0, 8.0),
                "cores_per_tile": Knob(2.0, 16.0),
                "adc_bits": Knob(6.0, 10.0),
                "bits_per_cell": Knob(1.0, 4.0),
                "clock_hz": _CLOCK,
            },
            "mlp_l4",
            _inference(puma),
            "one batch-1 inference",
        ),
        Architecture(
            "isaac",
            isaac,
            {
                "adc_bits": Knob(6.0, 10.0),
                "bits_per_cell": Knob(1.0, 4.0),
                "array_dim": Knob(64.0, 256.0, "power_of_two"),
            },
            "vgg16",
            _inference(isaac),
            "one batch-1 inference",
        ),
        Architecture(
            "digital",
            digital,
            {
                "mac_rows": Knob(64.0, 256.0, "power_of_two"),
                "mac_cols": Knob(64.0, 256.0, "power_of_two"),
                "clock_hz": _CLOCK,
            },
            "vgg16",
            _inference(digital),
            "one batch-1 inference",
        ),
        Architecture(
            "panther",
            panther,
            {
                "mcu_dim": Knob(64.0, 256.0, "power_of_two"),
                # carries resolve every K updates, counted by a binary counter: K is a power of two
                "carry_interval": Knob(256.0, 4096.0, "power_of_two"),
                "write_iterations": Knob(5.0, 40.0),
            },
            "panther_mlp_l4",
            _panther_sgd_step,
            "one SGD training step (batch 1)",
        ),
        Architecture(
            "maxnvm",
            maxnvm,
            {
                "sparsity": Knob(0.5, 0.95, "continuous"),
                "cluster_bits": Knob(4.0, 8.0),
                "value_bits_per_cell": Knob(1.0, 3.0),
            },
            "maxnvm_vgg16",
            _inference(maxnvm),
            "reading every weight once from the eNVM store (one batch-1 inference)",
        ),
        Architecture(
            "timon",
            timon,
            {
                # the dot-product width is the bank's K_t (K32/K64/K128): a power of two
                "dp_width": Knob(16.0, 128.0, "power_of_two"),
                "act_bits": Knob(4.0, 16.0),
                "weight_bits": Knob(4.0, 16.0),
            },
            "timon_gnmt_1",
            _inference(timon),
            "one GEMM of TIMON's Table 6.2",
            takes_gemm=True,
        ),
    )
}


def get(name: str | Architecture) -> Architecture:
    """The architecture called ``name`` (an :class:`Architecture` is returned as is).

    Raises:
        ValueError: unknown name; the message lists the registered architectures.
    """
    if isinstance(name, Architecture):
        return name
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose one of: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[key]


def config_fields(arch: str | Architecture) -> tuple[str, ...]:
    """Every numeric leaf field of ``arch``'s Config (what ``--set`` and spaces may name)."""
    module = get(arch).module
    default = module.Config()
    return tuple(
        f.name
        for f in dataclasses.fields(module.Config)
        if not f.metadata.get("static") and _is_number(getattr(default, f.name), f.default)
    )


def _is_number(value, default) -> bool:
    """A numeric field (``None`` defaults such as PUMA's register file count as numbers)."""
    return isinstance(value, (int, float)) or (default is None and value is None)


def check_knob_names(arch: str | Architecture, names) -> None:
    """Raise ``ValueError`` naming the first of ``names`` that is not a numeric Config field,
    and listing the valid ones."""
    arch = get(arch)
    fields = config_fields(arch)
    for name in names:
        if name not in fields:
            raise ValueError(
                f"unknown knob {name!r} for architecture {arch.name!r}; choose from: {', '.join(fields)}"
            )


def config(arch: str | Architecture, overrides: Mapping[str, Any] | None = None):
    """``arch``'s Config with ``overrides`` (field -> value, scalars or arrays, traced or not).

    Fields not overridden take the published defaults. Values are checked by the Config itself
    (concrete out-of-range values raise ``ValueError`` naming the field and range).

    Raises:
        ValueError: an unknown field (listing the valid ones) or a bad value.
    """
    arch = get(arch)
    overrides = dict(overrides or {})
    check_knob_names(arch, overrides)
    return arch.module.Config(**overrides)


def resolve_workload(arch: str | Architecture, name: str | hw_workloads.Network | None = None):
    """The workload ``name`` (a catalog name or a Network), or ``arch``'s default workload.

    Raises:
        ValueError: an unknown catalog name; the message lists the valid names.
    """
    if isinstance(name, hw_workloads.Network):
        return name
    return catalog.get(get(arch).default_workload if name is None else name)


def evaluate(
    arch: str | Architecture,
    knobs: Mapping[str, Any] | None = None,
    workload: str | hw_workloads.Network | None = None,
    mode: str = "exact",
) -> Report:
    """The cost Report of ``arch`` configured with ``knobs`` running a workload.

    Args:
        arch: a registry name or an :class:`Architecture`.
        knobs: Config field overrides (see :func:`config`); traced values are fine.
        workload: a catalog name, a :class:`hwjax.workloads.Network`, or ``None`` for the
            architecture's default workload.
        mode: relaxation of discrete counts (:data:`hwjax.relax.MODES`).

    Returns:
        the model's Report (energies J, latencies s, areas m², leakage W, ops).
    """
    arch = get(arch)
    relax.check_mode(mode)
    return arch.cost(config(arch, knobs), resolve_workload(arch, workload), mode)


def round_to_buildable(arch: str | Architecture, knobs: Mapping[str, Any]) -> dict[str, float]:
    """``knobs`` with every registered knob rounded to its nearest buildable value in range.

    Knobs outside the registry's list (other Config fields) pass through unchanged.

    Returns:
        field -> Python float.

    Raises:
        ValueError: a name that is not a Config field.
    """
    arch = get(arch)
    check_knob_names(arch, knobs)
    return {
        name: float(arch.knobs[name].round(value)) if name in arch.knobs else float(value)
        for name, value in knobs.items()
    }


def buildable_neighbours(
    arch: str | Architecture, knobs: Mapping[str, float]
) -> dict[str, tuple[float, ...]]:
    """For each registered knob in ``knobs`` (relaxed scalars), the buildable values around it
    (:meth:`Knob.neighbours`); their product holds every corner of the cell that contains the
    relaxed design, the nearest rounding among them. Other fields keep their one value."""
    arch = get(arch)
    check_knob_names(arch, knobs)
    return {
        name: arch.knobs[name].neighbours(value) if name in arch.knobs else (float(value),)
        for name, value in knobs.items()
    }


def knob_values(arch: str | Architecture, design=None) -> dict[str, float]:
    """The registered knobs' values in ``design`` (a Config; default: the published one)."""
    arch = get(arch)
    design = arch.module.Config() if design is None else design
    return {name: float(getattr(design, name)) for name in arch.knobs}


def space_spec(arch: str | Architecture, points: int, sampler: str = "halton") -> str:
    """A :func:`hwjax.sweep.parse_space` spec sampling every knob of ``arch`` over its range
    (log-uniform for :attr:`Knob.log_scale` knobs), ``points`` points."""
    arch = get(arch)
    validate.check_choice("sampler", sampler, ("halton", "uniform"))
    validate.check_range("points", points, 1, integer=True)
    terms = [
        f"{name}={knob.low!r}..{knob.high!r}" + ("..log" if knob.log_scale else "")
        for name, knob in arch.knobs.items()
    ]
    return " ".join([f"{sampler}:{int(points)}", *terms])


__all__ = [
    "ARCHITECTURES",
    "ROUNDINGS",
    "Architecture",
    "Knob",
    "buildable_neighbours",
    "check_knob_names",
    "config",
    "config_fields",
    "evaluate",
    "get",
    "knob_values",
    "resolve_workload",
    "round_to_buildable",
    "space_spec",
]
