"""Throughput of every component family's main cost under ``jit(vmap(...))``.

For each family: evaluations per second of its main action at a batch of random
configurations (1,000,000 by default), the same for the gradient with respect to every knob,
and the gradient-to-forward time ratio.

    python benchmarks/components.py [--batch 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from timing import median_seconds

from hwjax import Tech
from hwjax.components import adc, crossbar, dac, digital, memory, noc, regfile, sram_cim

Knobs = dict[str, jax.Array]


def _uniform(rng: np.random.Generator, batch: int, low: float, high: float) -> jax.Array:
    return jnp.asarray(rng.uniform(low, high, batch), jnp.float32)


def _log_uniform(rng: np.random.Generator, batch: int, low: float, high: float) -> jax.Array:
    return jnp.asarray(np.exp(rng.uniform(np.log(low), np.log(high), batch)), jnp.float32)


def _adc(k: Knobs):
    return adc.conversion(adc.ADC(k["bits"], k["sample_rate"], Tech(32, k["vdd"])))


def _adc_knobs(rng, batch):
    return {
        "bits": _uniform(rng, batch, 4, 12),
        "sample_rate": _log_uniform(rng, batch, 1e6, 2e9),
        "vdd": _uniform(rng, batch, 0.7, 1.0),
    }


def _dac(k: Knobs):
    return dac.drive_rows(dac.DAC(k["bits"], k["sample_rate"], Tech(32, k["vdd"])), 128.0, k["input_bits"])


def _dac_knobs(rng, batch):
    return {
        "bits": _uniform(rng, batch, 1, 8),
        "sample_rate": _log_uniform(rng, batch, 1e7, 2e9),
        "vdd": _uniform(rng, batch, 0.7, 1.0),
        "input_bits": _uniform(rng, batch, 1, 16),
    }


def _crossbar(k: Knobs):
    array = crossbar.Crossbar(k["rows"], k["cols"], k["bits_per_cell"], "puma", read_voltage=k["v_read"])
    return crossbar.mvm(array, k["input_bits"])


def _crossbar_knobs(rng, batch):
    return {
        "rows": _uniform(rng, batch, 32, 512),
        "cols": _uniform(rng, batch, 32, 512),
        "bits_per_cell": _uniform(rng, batch, 1, 2),
        "v_read": _uniform(rng, batch, 0.1, 0.5),
        "input_bits": _uniform(rng, batch, 1, 16),
    }


def _digital(k: Knobs):
    return digital.mac(digital.ArithmeticUnit(k["bits"], tech=Tech(45, k["vdd"])))


def _digital_knobs(rng, batch):
    return {"bits": _uniform(rng, batch, 4, 32), "vdd": _uniform(rng, batch, 0.7, 1.1)}


def _noc(k: Knobs):
    network = noc.NoC(tiles=k["tiles"], flit_bits=k["flit_bits"], injection_rate=k["injection_rate"])
    return noc.transfer(network, k["bits"])


def _noc_knobs(rng, batch):
    return {
        "tiles": _uniform(rng, batch, 16, 512),
        "flit_bits": _uniform(rng, batch, 16, 128),
        "injection_rate": _uniform(rng, batch, 0.0, 0.004),
        "bits": _uniform(rng, batch, 16, 4096),
    }


def _sram_cim(k: Knobs):
    return sram_cim.mvm(sram_cim.SRAMCIMBank(dp_width=k["dp_width"], adcs=k["adcs"], tech=Tech(45, k["vdd"])))


def _sram_cim_knobs(rng, batch):
    return {
        "dp_width": _log_uniform(rng, batch, 4, 128),
        "adcs": _uniform(rng, batch, 8, 64),
        "vdd": _uniform(rng, batch, 0.8, 1.1),
    }


def _memory(k: Knobs):
    buffer = memory.Memory(k["capacity_bytes"], k["width_bits"], banks=k["banks"], kind="edram")
    return memory.access(buffer, k["bits"])


def _memory_knobs(rng, batch):
    return {
        "capacity_bytes": _log_uniform(rng, batch, 4096, 1 << 20),
        "width_bits": _uniform(rng, batch, 32, 512),
        "banks": _uniform(rng, batch, 1, 4),
        "bits": _uniform(rng, batch, 16, 8192),
    }


def _regfile(k: Knobs):
    rf = regfile.RomRegisterFile(xbar_size=k["xbar_size"], xbars_per_core=k["xbars_per_core"])
    return regfile.rf_access(rf, k["bits"])


def _regfile_knobs(rng, batch):
    return {
        "xbar_size": _uniform(rng, batch, 64, 256),
        "xbars_per_core": _uniform(rng, batch, 1, 8),
        "bits": _uniform(rng, batch, 16, 4096),
    }


#: family -> (main cost of one configuration, sampler of a batch of configurations)
FAMILIES: dict[str, tuple[Callable[[Knobs], object], Callable]] = {
    "adc (SAR conversion)": (_adc, _adc_knobs),
    "dac (128 row drives)": (_dac, _dac_knobs),
    "crossbar (MVM)": (_crossbar, _crossbar_knobs),
    "digital (MAC)": (_digital, _digital_knobs),
    "noc (transfer)": (_noc, _noc_knobs),
    "sram_cim (TIMON input vector)": (_sram_cim, _sram_cim_knobs),
    "memory (eDRAM access)": (_memory, _memory_knobs),
    "regfile (PUMA RF access)": (_regfile, _regfile_knobs),
}


def benchmark(name: str, cost_fn, sampler, batch: int, repeats: int) -> None:
    def energy(k):
        return cost_fn(k).total_energy

    knobs = sampler(np.random.default_rng(0), batch)
    forward = jax.jit(jax.vmap(energy))
    gradient = jax.jit(jax.vmap(jax.grad(energy)))
    t_fwd = median_seconds(forward, knobs, repeats=repeats)
    t_grad = median_seconds(gradient, knobs, repeats=repeats)
    print(f"{name:<34} {batch / t_fwd:>12.3e} {batch / t_grad:>12.3e} {t_grad / t_fwd:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"device: {jax.devices()[0].device_kind}; batch {args.batch:.0e} random configurations")
    print(f"{'family (main cost)':<34} {'fwd eval/s':>12} {'grad eval/s':>12} {'grad/fwd':>10}")
    for name, (cost_fn, sampler) in FAMILIES.items():
        benchmark(name, cost_fn, sampler, args.batch, args.repeats)


if __name__ == "__main__":
    main()
