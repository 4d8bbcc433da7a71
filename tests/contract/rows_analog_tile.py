"""Contract rows for the Sandia/Marinella analog tile (``hwjax_models.analog_tile``).

Three cheap rows: the Marinella comparison (which runs the analog VMM, MVM and OPU, the digital
ReRAM block and the SRAM tile), the SONOS tile's OPU (column DACs, row activity) and the SRAM
tile's transposed MVM and OPU (its lanes and precision). Knob boxes stay inside the documented
ranges of :class:`~hwjax_models.analog_tile.Config` and
:class:`~hwjax_models.analog_tile.SramConfig`.
"""

from __future__ import annotations

import hwjax as hj
from hwjax_models import analog_tile as at

from .contract_row import ContractRow

MODES = ("exact", "ste", "smooth")
_BAD_MODE = ({"mode": "fuzzy"}, "mode")


def _marinella(mode, rows, adc_bits, mean_state):
    config = at.Config(rows=rows, adc_bits=adc_bits, mean_state=mean_state)
    return hj.total(at.marinella(config, mode))


def _sonos_opu(mode, cols, column_bits, row_activity):
    config = at.Config(cols=cols, column_bits=column_bits, row_activity=row_activity, device="sonos")
    return at.opu(config, mode)


def _sram(mode, rows, lanes, weight_bits):
    config = at.SramConfig(rows=rows, lanes=lanes, weight_bits=weight_bits)
    return hj.serial(at.sram_mvm(config, mode), at.sram_opu(config, mode))


ROWS = [
    ContractRow(
        name="analog_tile.marinella",
        fn=_marinella,
        inputs={"rows": 1024.0, "adc_bits": 8.0, "mean_state": 0.5},
        knobs={"rows": (64.0, 2048.0), "adc_bits": (4.0, 12.0), "mean_state": (0.1, 0.9)},
        bad_inputs=(
            _BAD_MODE,
            ({"rows": 4.0}, "rows"),
            ({"adc_bits": 17.0}, "adc_bits"),
            ({"mean_state": -0.1}, "mean_state"),
        ),
        modes=MODES,
    ),
    ContractRow(
        name="analog_tile.opu[sonos]",
        fn=_sonos_opu,
        inputs={"cols": 1024.0, "column_bits": 8.0, "row_activity": 0.5},
        knobs={"cols": (64.0, 2048.0), "column_bits": (2.0, 12.0), "row_activity": (0.1, 0.9)},
        bad_inputs=(
            _BAD_MODE,
            ({"cols": 0.0}, "cols"),
            ({"column_bits": 0.5}, "column_bits"),
            ({"row_activity": 1.5}, "row_activity"),
        ),
        modes=MODES,
    ),
    ContractRow(
        name="analog_tile.sram",
        fn=_sram,
        inputs={"rows": 1024.0, "lanes": 512.0, "weight_bits": 8.0},
        knobs={"rows": (64.0, 2048.0), "lanes": (16.0, 512.0), "weight_bits": (4.0, 16.0)},
        bad_inputs=(
            _BAD_MODE,
            ({"rows": 4.0}, "rows"),
            ({"lanes": 0.5}, "lanes"),
            ({"lanes": 1024.0, "weight_bits": 16.0}, "lanes"),
        ),
        modes=MODES,
    ),
]
