"""Contract rows for the bit-sliced MVM simulator (hwjax.sim.mvm): tiny shapes, continuous knobs.

The data path's gradients are straight-through (those of ``x @ W``); the knobs here are the
config's leaves, whose gradients are genuine: the quantizers' clips scale the constant integer
codes, and in ``"smooth"`` mode the ADC rounding is relaxed to the identity, leaving the clip of
the full scale (so central differences agree away from the kinks).
"""

import jax.numpy as jnp
import numpy as np

from hwjax.sim import mvm

from .contract_row import ContractRow

_RNG = np.random.default_rng(0)
_WEIGHTS = _RNG.uniform(-1.0, 1.0, (6, 3))
_X = _RNG.uniform(-1.0, 1.0, (2, 6))
_MODES = ("ste", "smooth")  # "exact" differs from "ste" only in the ADC step's surrogate gradient


def _lossy(mode, adc_full_scale, weight_clip, input_clip, encoding, slice_bits):
    """Differential/offset 5-bit weights, 4-bit inputs 2 bits per cycle, 4-row blocks, 3-bit ADC."""
    config = mvm.MVMConfig(
        weight_bits=5,
        slice_bits=slice_bits,
        encoding=encoding,
        input_bits=4,
        bits_per_step=2,
        rows=4,
        adc_bits=3.0,
        adc_full_scale=adc_full_scale,
        weight_clip=weight_clip,
        input_clip=input_clip,
    )
    dtype = jnp.result_type(adc_full_scale, weight_clip, input_clip)  # float64 in the suite's x64 checks
    return mvm.bitsliced_mvm(_WEIGHTS.astype(dtype), _X.astype(dtype), config, mode=mode)


def _row(encoding: str, slice_bits, clip: str) -> ContractRow:
    return ContractRow(
        name=f"sim.bitsliced_mvm[{encoding}]",
        fn=_lossy,
        inputs={
            "adc_full_scale": 20.0,
            "weight_clip": 1.3,
            "input_clip": 0.9,
            "encoding": encoding,
            "slice_bits": slice_bits,
        },
        knobs={"adc_full_scale": (1.0, 256.0), clip: (0.1, 4.0)},
        bad_inputs=(
            ({"adc_full_scale": 0.0}, "adc_full_scale"),
            ({"slice_bits": (4, 4)}, "slice_bits"),
            ({"weight_clip": -1.0}, "weight_clip"),
            ({"mode": "fuzzy"}, "mode"),
        ),
        modes=_MODES,
    )


ROWS = [_row("differential", (2, 2), "weight_clip"), _row("offset", (3, 2), "input_clip")]
