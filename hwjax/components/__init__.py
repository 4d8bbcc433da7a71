"""Component cost models, one file per family (ADC, DAC, crossbar, SRAM CIM, memories, NoC,
digital units). Components import only ``hwjax.cost``, ``units``, ``relax``, ``tech`` and
``validate``."""
