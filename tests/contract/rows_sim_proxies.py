"""Contract rows for the analytic accuracy proxies (``hwjax.sim.proxies``).

One row, three knobs (ADC bits, programming noise, bits per cell): the proxy is a closed form,
so a single row exercises every term (quantization, per-conversion ADC with its cross terms,
programming and read noise); its rounded counts (slices, input steps, row blocks) follow
``mode`` through :func:`hwjax.relax.ceil`.
"""

from __future__ import annotations

from hwjax.sim import proxies

from .contract_row import ContractRow

MODES = ("exact", "ste", "smooth")


def _error_and_snr(mode, adc_bits, programming_sigma, bits_per_cell, in_features):
    config = proxies.ProxyConfig(
        adc_bits=adc_bits,
        programming_sigma=programming_sigma,
        read_sigma=0.01,
        bits_per_cell=bits_per_cell,
        rows=64.0,
    )
    budget = proxies.error_variance(config, in_features, mode=mode)
    return {"total": budget.total, "snr": proxies.snr(config, in_features, mode=mode)}


ROWS = [
    ContractRow(
        name="sim.proxies.error_variance",
        fn=_error_and_snr,
        inputs={"adc_bits": 6.0, "programming_sigma": 0.02, "bits_per_cell": 2.0, "in_features": 256.0},
        knobs={"adc_bits": (4.0, 8.0), "programming_sigma": (0.005, 0.05), "bits_per_cell": (1.0, 4.0)},
        bad_inputs=(
            ({"mode": "fuzzy"}, "mode"),
            ({"adc_bits": 0.5}, "adc_bits"),
            ({"programming_sigma": -0.1}, "programming_sigma"),
            ({"bits_per_cell": 9.0}, "bits_per_cell"),
            ({"in_features": 0.0}, "in_features"),
        ),
        modes=MODES,
    ),
]
