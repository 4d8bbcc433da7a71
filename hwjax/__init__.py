"""hwjax: energy, latency, area and accuracy of in-memory-computing hardware as pure,
jit-compiled, differentiable JAX functions.

The public API is re-exported here flatly: the Cost algebra, technology scaling, the main
component classes, and the ``mapping``, ``workloads``, ``sim`` and ``sweep`` modules. Action
functions live in their family's module, since families share action names
(``hwjax.components.adc.conversion``, ``hwjax.components.dac.conversion``).
"""

from hwjax import (
    codesign,
    components,
    devices,
    mapping,
    relax,
    sim,
    sweep,
    system,
    tech,
    units,
    validate,
    workloads,
)
from hwjax._pytree import Knob, pytree_dataclass, static_field
from hwjax.components.adc import ADC
from hwjax.components.crossbar import Crossbar
from hwjax.components.dac import DAC
from hwjax.components.memory import EnvmArray, Memory
from hwjax.components.noc import NoC
from hwjax.components.sram_cim import SRAMCIMBank
from hwjax.cost import (
    Cost,
    Report,
    energy_per_op,
    format_report,
    parallel,
    repeat,
    replicate,
    serial,
    tops_per_mm2,
    tops_per_watt,
    total,
)
from hwjax.devices import Device
from hwjax.tech import (
    DEFAULT_TECH,
    Tech,
    area_factor,
    nominal_vdd,
    scale_area,
    scale_delay,
    scale_energy,
    scale_power,
    vdd_range,
)
from hwjax.units import format_si

__version__ = "0.1.0"

__all__ = [
    "ADC",
    "DAC",
    "DEFAULT_TECH",
    "Cost",
    "Crossbar",
    "Device",
    "EnvmArray",
    "Knob",
    "Memory",
    "NoC",
    "Report",
    "SRAMCIMBank",
    "Tech",
    "area_factor",
    "codesign",
    "components",
    "devices",
    "energy_per_op",
    "format_report",
    "format_si",
    "mapping",
    "nominal_vdd",
    "parallel",
    "pytree_dataclass",
    "relax",
    "repeat",
    "replicate",
    "scale_area",
    "scale_delay",
    "scale_energy",
    "scale_power",
    "serial",
    "sim",
    "static_field",
    "sweep",
    "system",
    "tech",
    "tops_per_mm2",
    "tops_per_watt",
    "total",
    "units",
    "validate",
    "vdd_range",
    "workloads",
]
