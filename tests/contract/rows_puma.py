"""Contract rows for ``hwjax_models.puma``: the peak of a node (which runs every component of
the chip and :func:`~hwjax_models.puma.mvmu_mvm`) and a small inference. The digital MVMU's
transforms are checked in ``tests/models/test_puma.py`` to keep the suite's cost down.

Knob boxes stay inside :class:`hwjax_models.puma.Config`'s documented ranges; the workload is
two tiny layers so that the rows stay cheap.
"""

from __future__ import annotations

import hwjax as hj
from hwjax import workloads
from hwjax_models import puma

from .contract_row import TINY_NETWORK, ContractRow

MODES = ("exact", "ste", "smooth")
_BAD_MODE = ({"mode": "fuzzy"}, "mode")


def _peak(mode, adc_bits, bits_per_cell, mvmu_dim, vfu_width):
    config = puma.Config(
        mvmu_dim=mvmu_dim, adc_bits=adc_bits, bits_per_cell=bits_per_cell, vfu_width=vfu_width
    )
    return puma.peak(config, mode)


def _inference(mode, mvmu_dim, mvmus_per_core, dac_bits, network):
    # The total keeps the Jacobian small; report consistency is tested in tests/models.
    config = puma.Config(mvmu_dim=mvmu_dim, mvmus_per_core=mvmus_per_core, dac_bits=dac_bits)
    return hj.total(puma.inference(config, network, mode))


ROWS = [
    ContractRow(
        name="puma.peak",
        fn=_peak,
        inputs={"adc_bits": 8.0, "bits_per_cell": 2.0, "mvmu_dim": 128.0, "vfu_width": 1.0},
        knobs={
            "adc_bits": (4.0, 12.0),
            "bits_per_cell": (1.0, 4.0),
            "mvmu_dim": (32.0, 512.0),
            "vfu_width": (1.0, 16.0),
        },
        bad_inputs=(_BAD_MODE, ({"mvmu_dim": 0.0}, "mvmu_dim"), ({"adc_bits": 17.0}, "adc_bits")),
        modes=MODES,
    ),
    ContractRow(
        name="puma.inference",
        fn=_inference,
        inputs={
            "mvmu_dim": 128.0,
            "mvmus_per_core": 2.0,
            "dac_bits": 1.0,
            "network": TINY_NETWORK,
        },
        knobs={"mvmu_dim": (32.0, 256.0), "mvmus_per_core": (1.0, 8.0), "dac_bits": (1.0, 4.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"mvmu_dim": 0.0}, "mvmu_dim"),
            ({"mvmus_per_core": 0.5}, "mvmus_per_core"),
            ({"network": (workloads.Dense(4, 4),)}, "workload"),
        ),
        modes=MODES,
        native_batch=True,
    ),
]
