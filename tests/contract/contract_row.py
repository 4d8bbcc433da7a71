"""One row of the shared contract suite: a public function and how to exercise it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from hwjax import workloads

#: Two tiny layers (a convolution and a sigmoid dense layer) for the accelerator models' rows.
TINY_NETWORK = workloads.Network(
    "tiny",
    (workloads.Conv2d(4, 8, 3, (6, 6)), workloads.Dense(6 * 6 * 8, 16, activation="sigmoid")),
)


@dataclasses.dataclass(frozen=True)
class ContractRow:
    """One public function under the shared contract.

    Attributes:
        name: test id.
        fn: ``fn(mode, **inputs)`` returning a pytree of arrays and/or Costs.
        inputs: example value of every argument; knob values must lie inside their ranges
            (not on an edge, so central finite differences stay inside).
        knobs: knob name -> (low, high) documented valid range, applied elementwise.
        bad_inputs: (overrides, parameter name) pairs; each override set must raise a
            ``ValueError`` whose message contains the parameter name. ``"mode"`` may be
            overridden too.
        modes: modes the function supports (``(None,)`` when it takes none).
        native_batch: the function takes its knobs as arrays of shape ``(n,)`` (a batch of
            Config leaves) and returns outputs with a leading ``(n,)``, equal to ``n`` calls.
    """

    name: str
    fn: Callable[..., Any]
    inputs: dict[str, Any]
    knobs: dict[str, tuple[float, float]]
    bad_inputs: tuple[tuple[dict[str, Any], str], ...] = ()
    modes: tuple[str | None, ...] = (None,)
    native_batch: bool = False

    @property
    def default_mode(self) -> str | None:
        """The mode a user gets by default: ``"ste"`` where the function has modes."""
        return "ste" if "ste" in self.modes else self.modes[0]

    @property
    def smooth_mode(self) -> str | None:
        """Mode in which gradients must match finite differences."""
        return "smooth" if "smooth" in self.modes else self.modes[0]

    def static_inputs(self) -> dict[str, Any]:
        return {k: v for k, v in self.inputs.items() if k not in self.knobs}

    def knob_inputs(self) -> dict[str, Any]:
        # Strongly typed, like the suite's samples: a weakly typed example compiles every check twice.
        knobs = {k: v for k, v in self.inputs.items() if k in self.knobs}
        return {k: jnp.asarray(v, dtype=jnp.asarray(v).dtype) for k, v in knobs.items()}

    def __str__(self) -> str:
        return self.name
