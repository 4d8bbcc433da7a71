"""Component cost models, one module per family.

======== ===================================================================================
adc      SAR, flash and tunable SAR converters; ``ADC``, ``conversion``, ``quantize``
dac      capacitive DACs, row drivers, pulse-width/amplitude OPA encodings; ``DAC``
crossbar memristive arrays: MVM, transposed MVM, outer product, serial read/write; ``Crossbar``
sram_cim TIMON's SRAM compute-in-memory sub-bank; ``SRAMCIMBank``
memory   SRAM/eDRAM buffers and multi-level eNVM arrays; ``Memory``, ``access``, ``EnvmArray``
regfile  PUMA's ROM-embedded register file and a banked GPGPU register file
noc      concentrated-mesh networks on chip and chip-to-chip links; ``NoC``, ``transfer``
digital  adders, multipliers and MACs by width and format; PUMA's VFU, S+A, S+H, control
======== ===================================================================================

Components import only ``hwjax.cost``, ``units``, ``relax``, ``tech``, ``validate``,
``devices`` and each other; see CONTRIBUTING.md for the conventions every family follows.
"""

from hwjax.components import adc, crossbar, dac, digital, memory, noc, regfile, sram_cim

__all__ = ["adc", "crossbar", "dac", "digital", "memory", "noc", "regfile", "sram_cim"]
