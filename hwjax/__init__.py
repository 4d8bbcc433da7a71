"""hwjax: energy, latency, area and accuracy of in-memory-computing hardware as pure,
jit-compiled, differentiable JAX functions.

The public API is re-exported here flatly; submodules (``hwjax.relax``, ``hwjax.units``,
``hwjax.tech``, ``hwjax.validate``) are also available by name.
"""

from hwjax import relax, tech, units, validate
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
from hwjax.tech import (
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
    "Cost",
    "Report",
    "Tech",
    "area_factor",
    "energy_per_op",
    "format_report",
    "format_si",
    "nominal_vdd",
    "parallel",
    "relax",
    "repeat",
    "replicate",
    "scale_area",
    "scale_delay",
    "scale_energy",
    "scale_power",
    "serial",
    "tech",
    "tops_per_mm2",
    "tops_per_watt",
    "total",
    "units",
    "validate",
    "vdd_range",
]
