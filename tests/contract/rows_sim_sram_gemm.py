"""Contract row for the SRAM-bank GEMM simulator (hwjax.sim.sram_gemm, TIMON's scheme): a tiny
sparse tunable bank.

``d = 4``, ``t = l = 2``, 5-bit weights and 4-bit activations, the tunable ADC one bit below
the bank's resolution (lossy) with outlier rejection. The knobs are the config's leaves: the
full-scale reference (genuine gradients through the ADC's clip in ``"smooth"`` mode), the weight
clip (which scales the constant codes) and the rejection threshold (piecewise constant: which
weights are pruned and how many bits are dropped; zero gradient away from its jumps).
"""

import jax.numpy as jnp
import numpy as np

from hwjax.sim import sram_gemm

from .contract_row import ContractRow

_RNG = np.random.default_rng(0)
_B = np.where(_RNG.uniform(size=(8, 3)) < 0.5, 0.0, _RNG.uniform(-1.0, 1.0, (8, 3)))
_A = _RNG.uniform(-1.0, 1.0, (2, 8))
_MODES = ("ste", "smooth")  # "exact" differs from "ste" only in the ADC step's surrogate gradient


def _tunable_gemm(mode, adc_full_scale, weight_clip, threshold, dp_width):
    config = sram_gemm.SRAMGemmConfig(
        dp_width=dp_width,
        stream_width=2,
        slice_width=2,
        input_bits=4,
        weight_bits=5,
        adc_kind="tunable_sar",
        adc_bits=5.0,  # one below ceil(log2 4) + 2 x 2 = 6
        adc_full_scale=adc_full_scale,
        threshold=threshold,
        weight_clip=weight_clip,
        input_clip=0.9,
    )
    dtype = jnp.result_type(adc_full_scale, weight_clip, threshold)  # float64 in the suite's x64 checks
    return sram_gemm.gemm(_A.astype(dtype), _B.astype(dtype), config, mode=mode)


ROWS = [
    ContractRow(
        name="sim.sram_gemm.gemm[tunable_sar]",
        fn=_tunable_gemm,
        inputs={"adc_full_scale": 40.0, "weight_clip": 1.3, "threshold": 0.3, "dp_width": 4},
        knobs={"adc_full_scale": (4.0, 256.0), "weight_clip": (0.1, 4.0), "threshold": (0.0, 1.0)},
        bad_inputs=(
            ({"adc_full_scale": 0.0}, "adc_full_scale"),
            ({"threshold": 1.5}, "threshold"),
            ({"dp_width": 0}, "dp_width"),
            ({"weight_clip": -1.0}, "weight_clip"),
            ({"mode": "fuzzy"}, "mode"),
        ),
        modes=_MODES,
    ),
]
