"""Ready-made models built only from ``hwjax``: published accelerators and workloads."""
