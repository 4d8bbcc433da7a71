"""Shared pytest configuration: reproducible, CI-sized hypothesis runs."""

from hypothesis import HealthCheck, settings

# Deterministic examples keep CI reproducible; no deadline because the first example of a
# row includes XLA compilation.
settings.register_profile(
    "hwjax",
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("hwjax")
