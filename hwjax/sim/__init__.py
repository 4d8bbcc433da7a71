"""Behavioural (accuracy) simulation: the hardware's arithmetic on data.

Bit-sliced MVM with converters (:mod:`.mvm`, :mod:`.quantize`), device non-idealities and IR drop
(:mod:`.devices`), MLC storage faults (:mod:`.mlc`), bit-sliced outer-product updates
(:mod:`.opa`), analytic error proxies (:mod:`.proxies`) and a bit-serial GEMM on an SRAM
compute-in-memory bank with a tunable ADC (:mod:`.sram_gemm`, TIMON's); every random draw from an
explicit PRNG key. The Flax NNX layers that run on it are in :mod:`hwjax.nn`.
"""

from hwjax.sim import devices, mlc, mvm, opa, proxies, quantize, sram_gemm
from hwjax.sim.devices import DeviceModel
from hwjax.sim.mlc import MLCConfig
from hwjax.sim.mvm import MVMConfig, bitsliced_mvm, integer_reference
from hwjax.sim.opa import OPAConfig, carry_resolve, opa_update
from hwjax.sim.proxies import ProxyConfig, error_variance, snr, snr_db
from hwjax.sim.sram_gemm import SRAMGemmConfig

__all__ = [
    "DeviceModel",
    "MLCConfig",
    "MVMConfig",
    "OPAConfig",
    "ProxyConfig",
    "SRAMGemmConfig",
    "bitsliced_mvm",
    "carry_resolve",
    "devices",
    "error_variance",
    "integer_reference",
    "mlc",
    "mvm",
    "opa",
    "opa_update",
    "proxies",
    "quantize",
    "snr",
    "snr_db",
    "sram_gemm",
]
