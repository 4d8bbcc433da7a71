"""Contract rows for the ADC family."""

from hwjax import Tech
from hwjax.components import adc

from .contract_row import ContractRow

_BAD_ADC = (
    ({"bits": 0.0}, "bits"),
    ({"sample_rate": 0.0}, "sample_rate"),
    ({"vdd": 2.0}, "vdd"),
)
_KNOBS = {"bits": (1.0, 16.0), "sample_rate": (1e3, 1e11), "vdd": (0.54, 1.125)}
_INPUTS = {"bits": 7.3, "sample_rate": 8e8, "vdd": 0.85}


def _conversion_row(kind: str, calibration: str, node: float = 32) -> ContractRow:
    def fn(mode, bits, sample_rate, vdd):
        return adc.conversion(adc.ADC(bits, sample_rate, Tech(node, vdd), kind=kind, calibration=calibration))

    return ContractRow(
        name=f"adc.conversion[{kind},{calibration}]",
        fn=fn,
        inputs=dict(_INPUTS),
        knobs=dict(_KNOBS),
        bad_inputs=_BAD_ADC,
    )


def _tunable(mode, bits, active_bits, sample_rate):
    return adc.conversion(adc.ADC(bits, sample_rate, kind="tunable_sar"), active_bits=active_bits)


def _quantize(mode, x, bits, full_scale, signed):
    return adc.quantize(x, bits, full_scale, signed=signed, mode=mode)


ROWS = [
    _conversion_row("sar", "survey"),
    _conversion_row("flash", "survey"),
    _conversion_row("sar", "puma"),
    _conversion_row("sar", "timon"),
    ContractRow(
        name="adc.conversion[tunable_sar]",
        fn=_tunable,
        inputs={"bits": 12.0, "active_bits": 6.5, "sample_rate": 1e9},
        knobs={"bits": (12.0, 16.0), "active_bits": (1.0, 12.0), "sample_rate": (1e3, 1e11)},
        bad_inputs=(({"active_bits": 13.0}, "active_bits"), ({"active_bits": 0.0}, "active_bits")),
    ),
    ContractRow(
        name="adc.figures_of_merit",
        fn=lambda mode, bits, sample_rate: {
            "walden": adc.walden_fom(adc.ADC(bits, sample_rate)),
            "schreier": adc.schreier_fom(adc.ADC(bits, sample_rate)),
        },
        inputs={"bits": 8.5, "sample_rate": 2e8},
        knobs={"bits": (1.0, 16.0), "sample_rate": (1e3, 1e11)},
        bad_inputs=(({"bits": 17.0}, "bits"),),
    ),
    ContractRow(
        name="adc.quantize",
        fn=_quantize,
        inputs={"x": [-1.3, -0.41, 0.13, 0.62, 2.4], "bits": 4.0, "full_scale": 1.1, "signed": True},
        knobs={"x": (-10.0, 10.0), "bits": (1.0, 16.0), "full_scale": (1e-3, 10.0)},
        bad_inputs=(
            ({"full_scale": -1.0}, "full_scale"),
            ({"bits": 0.0}, "bits"),
            ({"x": float("nan")}, "x"),
        ),
        modes=("exact", "ste", "smooth"),
    ),
]
