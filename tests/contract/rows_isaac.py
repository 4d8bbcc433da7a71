"""Contract rows for the ISAAC model (``hwjax_models.isaac``): ``peak`` and ``inference``.

Kept cheap (the suite compiles each row about a dozen times): three knobs each, and a two-layer
workload (a small convolution and a dense layer) for ``inference``.
"""

from __future__ import annotations

from hwjax_models import isaac

from .contract_row import TINY_NETWORK, ContractRow

MODES = ("exact", "ste", "smooth")
_BAD_MODE = ({"mode": "fuzzy"}, "mode")


def _peak(mode, adc_bits, array_dim, bits_per_cell):
    config = isaac.Config(adc_bits=adc_bits, array_dim=array_dim, bits_per_cell=bits_per_cell)
    return isaac.peak(config, mode)


def _inference(mode, workload, adc_bits, array_dim, crossbar_cycle):
    config = isaac.Config(adc_bits=adc_bits, array_dim=array_dim, crossbar_cycle=crossbar_cycle)
    return isaac.inference(config, workload, mode)


ROWS = [
    ContractRow(
        name="isaac.peak",
        fn=_peak,
        inputs={"adc_bits": 8.0, "array_dim": 128.0, "bits_per_cell": 2.0},
        knobs={"adc_bits": (4.0, 10.0), "array_dim": (64.0, 256.0), "bits_per_cell": (1.0, 4.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"adc_bits": 0.5}, "adc_bits"),
            ({"array_dim": 8.0}, "array_dim"),
            ({"bits_per_cell": 5.0}, "bits_per_cell"),
        ),
        modes=MODES,
    ),
    ContractRow(
        name="isaac.inference",
        fn=_inference,
        inputs={
            "workload": TINY_NETWORK,
            "adc_bits": 8.0,
            "array_dim": 128.0,
            "crossbar_cycle": 100e-9,
        },
        knobs={"adc_bits": (4.0, 10.0), "array_dim": (32.0, 256.0), "crossbar_cycle": (50e-9, 200e-9)},
        bad_inputs=(
            _BAD_MODE,
            ({"adc_bits": 17.0}, "adc_bits"),
            ({"array_dim": 2000.0}, "array_dim"),
            ({"crossbar_cycle": 0.0}, "crossbar_cycle"),
        ),
        modes=MODES,
        native_batch=True,
    ),
]
