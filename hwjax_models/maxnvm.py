"""MaxNVM: on-chip DNN weight storage in multi-level-cell eNVM (Pentecost et al., MICRO 2019), built
only from hwjax components (seed ``maxnvm-micro2019.txt``).

A network's weights are encoded (:func:`encode`: bits and cells per layer and structure;
:func:`total_cells`, :func:`storage_bytes`) and stored in an MLC CTT or RRAM array
(:class:`hwjax.components.memory.EnvmArray`); :func:`storage` (alias :func:`inference`) gives the
array area and the read energy and latency of one inference (:func:`read_cost` its total, :func:`area`
the area alone); :func:`level_error_rate` and :func:`max_bits_per_cell`
give the bits per cell that the Gaussian level-overlap fault model allows at iso-accuracy
(:func:`iso_accuracy` applies them to a configuration).

**Encodings** (sections 3.1.2-3.3), per stationary weight matrix of ``K`` inputs x ``N`` outputs
(``W = K N`` weights, density ``d = 1 - sparsity``, ``c`` cluster-index bits):

* ``"dense"``: ``W`` x ``weight_bits`` (Table 2 "16b Size");
* ``"pruned_clustered"``: ``W`` x ``c``: every weight (zeros included) as its k-means cluster index
  (Table 2 "Pruned & Clustered"; the per-layer look-up table of 16-128 values is negligible);
* ``"csr"``: rows are the ``N`` output filters (each of length ``K``, the Keras/Ares kernel flattened
  per output; see assumption A3). Values: ``c`` bits per stored entry; column indexes: ``index_bits``
  per entry, *relative* to the previous non-zero (section 4.2); a gap longer than
  ``2^index_bits`` needs a zero filler entry (the EIE/Deep-Compression scheme), so with zeros
  placed independently (gaps geometric) there are ``q^M / (1 - q^M)`` fillers per non-zero
  (``q`` = sparsity, ``M = 2^index_bits``); row counters: ``ceil(log2(K + 1))`` bits per row.
  CSR is applied "on a per-layer basis where worthwhile" (3.2.1): a layer whose CSR is larger
  than its pruned-and-clustered form is stored dense (``weights``); the choice goes through
  :func:`hwjax.relax.choice`;
* ``"bitmask"``: NVDLA's format (3.2.2): one mask bit per weight and the non-zero values packed.

**Protection** (3.3). ``ecc``: Hamming SEC-DED, "24 parity bits for each 4KB" of protected data
(section 4.3), over the index structures (CSR column indexes and row counters; the bitmask);
``parity = 24 ceil(bits / 32768)`` per layer. ``index_sync`` (bitmask only): a counter per
128-byte aligned block of packed non-zero values, ``ceil(log2(1024 / c + 1))`` bits each (A4).

**Cells and bits per cell.** Structures fall in three groups, each stored at its own bits per
cell (section 4.1: "we vary the number of bits per cell used to store each structure"):
``value`` (weights or non-zero values), ``index`` (column indexes, row counters, IdxSync counters,
ECC parity) and ``mask`` (the bitmask). Cells per structure and layer are
``ceil(bits / bits_per_cell)`` (:func:`hwjax.relax.ceil`); bits per cell are continuous knobs
(``2^b`` levels), integers in the paper.

**Array** (:func:`storage`). One :class:`~hwjax.components.memory.EnvmArray` holds all the cells
(its area, read latency and per-cell array energy depend on the total cell count; capacity floored
at the component's 1 KiB minimum); each structure is read with its own bits per cell (parallel
flash-like sensing, ``2^b - 1`` comparators per cell, section 2.3). Every stored bit is read once
per inference (weights stream from the eNVM into NVDLA's convolution buffer, which reuses them,
section 5), in ``width_bits`` accesses one after another (no bank interleaving: an upper bound on
the read time). Write cost is not part of an inference.

**Runtime** (:mod:`hwjax.system`). The network is read through
:func:`hwjax.system.layer_table` (its stationary matrices are the stored ones); :func:`storage`'s
Report is :func:`hwjax.system.layer_report`'s, a row per layer (zero for a layer storing no
weights) and a last ``"idle"`` row holding the array capacity no cell uses, so that the leaf rows
add up in every field. Config leaves of shape ``(n,)`` give costs of shape ``(n,)``
(:func:`hwjax.system.batched`). MaxNVM takes no per-layer knob: a block occupancy
(:class:`hwjax.system.LayerKnobs`) is a crossbar notion, where an empty block is an array that
need not exist; a weight store has no blocks, and its sparse encodings (CSR, bitmask) already
skip every zero weight, those of empty blocks included, from one network-wide sparsity
(assumption A2). Skipping empty blocks in the dense and pruned-and-clustered encodings would be
a block-sparse encoding the paper does not have, and an occupancy next to the sparsity would
count the same zeros twice; ``layers`` must be ``None`` (or empty).

**Fault model** (sections 2.3, 4.1). Each of ``2^b`` levels is Gaussian with spread
``level_sigma`` (fraction of the cell's signal window; the preset's value reproduces MaxNVM's MLC3
adjacent-level fault rate: 1e-3 for CTT, 1e-5 for RRAM, see :mod:`hwjax.components.memory`);
:func:`level_error_rate` is the probability that a cell holding a uniformly random level is
misread. A structure may use ``b`` bits per cell when that rate is at most its tolerated fault
rate (:data:`TOLERATED_FAULT_RATE`).

Assumptions (the seed gives no number for these):

* A1. Table 2's "MB" and "KB" are 1000 x 1024 and 1024 bytes: with them VGG12's and VGG16's 16-bit
  and pruned-and-clustered sizes follow exactly from their parameter counts (e.g. VGG16:
  138,084,352 x 2 B / 1,024,000 = 269.7 "MB", printed 270); decimal or binary megabytes miss by
  2.3%.
* A2. Sparsity is uniform across layers (Table 2 gives only the network's), zeros independent.
* A3. CSR rows are output filters; relative column indexes are 4 bits (EIE [30], which MaxNVM
  cites); no per-row padding. With rows as filters LeNet5's row counters hold about 2,000 bits,
  i.e. about one level-to-level fault at CTT's MLC3 rate, as section 4.2 says ("roughly
  equivalent to one level-to-level fault per row counter structure").
* A4. IdxSync's "128 byte aligned block" is NVDLA's 128-byte group of packed non-zero values; its
  counter holds up to the values of one group.
* A5. Tolerated fault rates (per cell read, at iso-accuracy) are not printed in the paper; the
  values of :data:`TOLERATED_FAULT_RATE` are placed between the CTT (1.75e-3) and RRAM (1.75e-5)
  MLC3 cell rates and the MLC2 rates (below 1e-12) so that the paper's outcomes hold:
  cluster indexes are safe in MLC3 on both technologies (4.2); non-zero values only in MLC2 on CTT
  (4.4, ResNet50) but MLC3 on RRAM (5.1, Table 4 CiFar10/VGG16); CSR indexes fail in MLC3 without
  ECC on CTT (Fig. 5) and on RRAM (Table 4 picks CSR+ECC); with ECC they are safe in MLC3 (4.3);
  the bitmask "cannot safely be stored in MLCs without some protective technique" (4.2; on CTT
  MLC2 the model's rate is 4.5e-13, above the 1e-14 tolerance); with IdxSync it stores in MLC2 on
  CTT (Table 4 ResNet50) and MLC3 on RRAM (Table 4 CiFar10). Known misses: Fig. 5 stores
  LeNet5's bitmask with IdxSync in MLC3 on CTT (the model: MLC2), and Table 4's ResNet50 on
  MLC-RRAM uses at most 2 bits per cell (the model: 3). The tolerances are per network in the
  paper (each has its own error bound, Table 2); one set is used here.
* A6. The ECC's effect is taken from the paper's outcome (A5), not from a code-failure
  computation: SEC-DED over 4 KB words at CTT's MLC3 rate would see several errors per word, so
  the paper's result must rest on the accuracy study, which the model cannot redo.

Calibration (``tests/models/test_maxnvm.py``), ours / Table 2 (no ECC, no IdxSync; MB and KB as
in A1; the issue's 15%):

==============  ================  ===================  =================  ===================
model           16b               P+C                  CSR                BitMask
==============  ================  ===================  =================  ===================
LeNet5          1.173 / 1.26 MB   293 / 316 KB (-7%)   72.7 / 84 KB       102.9 / 107 KB (-4%)
                (-6.9%)                                (-13.5%)
VGG12           15.43 / 15.4      3.857 / 3.86         3.857 / 3.78 (+2%) 3.244 / 3.23
VGG16           270.2 / 270       101.3 / 101          33.1 / 30.2 (+10%) 36.04 / 35.5 (+1.5%)
ResNet50        49.8 / 70 (n/c)   21.8 / 30.6 (n/c)    12.1 / 25.1 (n/c)  10.78 / 11.2 (-3.8%)
==============  ================  ===================  =================  ===================

LeNet5 runs low throughout: its printed sizes imply about 645 k weights against its 600,810
parameters. "n/c": ResNet50's 16-bit, P+C and CSR entries are not consistent with its own
parameter count (70 MB at 16 bits is 35.8 M weights, not 24.6 M; P+C is 7/16 of 70 MB exactly),
so they are not checked; its bitmask size, which matches 24.6 M, is. VGG12's CSR falls back to
dense in every layer (uniform 40.9% sparsity, A2), hence the P+C size.

Area against SLC (section 5.1, Figure 8, abstract): the best MLC-CTT design over the Table 4
models is 14.7x (VGG12), 6.4x (VGG16) and 8.5x (ResNet50) smaller than the best SLC store on the
28 nm RRAM preset ([8]; the paper's SLC-RRAM is [42], 40 nm): at most 14.7x (the paper's "up to
29x" comes from its optimistic 10 F² RRAM, which is not modelled; the issue's order of magnitude)
and 9.9x on average (Figure 8: 9.6x, +3%). BitM+IdxSync saves 32% of VGG16's cells on CTT
(section 4.4: 22%). Bits per cell of Table 4's designs are reproduced except ResNet50 on
MLC-RRAM (A5).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from hwjax import Knob, devices, relax, system, validate
from hwjax._pytree import pytree_dataclass, static_field
from hwjax.components import memory
from hwjax.cost import Cost, Report, total, unchecked
from hwjax.tech import Tech, check_tech

TECHNOLOGIES = ("ctt", "rram")
ENCODINGS = ("dense", "pruned_clustered", "csr", "bitmask")
#: Bits-per-cell groups and the structures stored in each.
GROUPS = ("value", "index", "mask")
STRUCTURE_GROUP = {
    "weights": "value",
    "values": "value",
    "column_index": "index",
    "row_counter": "index",
    "sync_counter": "index",
    "parity": "index",
    "bitmask": "mask",
}

#: Tolerated misread probability per cell read at iso-accuracy (assumption A5 of the module).
TOLERATED_FAULT_RATE = {
    "weights": 5e-3,  # cluster indexes: CTT MLC3 (1.75e-3) is safe, section 4.2
    "values": 1e-4,  # non-zero values: MLC2 on CTT (4.4), MLC3 on RRAM (Table 4)
    "index": 1e-6,  # CSR indexes and counters: not MLC3 on CTT (Fig. 5) nor RRAM (Table 4)
    "index_ecc": 5e-3,  # with ECC: MLC3 on CTT (section 4.3)
    "bitmask": 1e-14,  # no MLC without protection (section 4.2)
    "bitmask_index_sync": 1e-4,  # IdxSync: MLC2 on CTT (Table 4 ResNet50), MLC3 on RRAM (CiFar10)
    "bitmask_ecc": 5e-3,  # ECC on the bitmask: MLC3 on CTT (Fig. 5)
}

#: Section 4.3: "24 parity bits for each 4KB of row counter values".
ECC_PARITY_BITS = 24.0
ECC_BLOCK_BITS = 4096.0 * 8.0
#: NVDLA's sparse format packs non-zero values in 128-byte aligned groups (section 3.2.2).
GROUP_BITS = 128.0 * 8.0

#: Table 2 per model: cluster-index bits and sparsity (fraction of zero weights).
TABLE_2 = {
    "maxnvm_lenet5": (4.0, 0.899),
    "maxnvm_vgg12": (4.0, 0.409),
    "maxnvm_vgg16": (6.0, 0.811),
    "maxnvm_resnet50": (7.0, 0.6484),
}

_RANGES = {
    "weight_bits": (1.0, 32.0),
    "cluster_bits": (1.0, 16.0),
    "sparsity": (0.0, 0.999),
    "index_bits": (1.0, 16.0),
    "width_bits": (1.0, 8192.0),
    "level_sigma": (1e-3, 0.5),
    "sense_sigma": (0.0, 0.5),
}
_BPC_FIELDS = {"value": "value_bits_per_cell", "index": "index_bits_per_cell", "mask": "mask_bits_per_cell"}
_MIN_CELLS = 8192.0  # memory.EnvmArray's smallest capacity, 1 KiB, at 1 bit per cell


def _preset_sigma(technology: str) -> float:
    """The preset level spread of ``technology`` (fraction of the window)."""
    return float(memory.EnvmArray(1024.0, 8.0, 1.0, technology=technology).level_sigma)


def _device_max_bits(technology: str) -> float:
    return devices.envm_device(technology).max_bits_per_cell


@pytree_dataclass
class Config:
    """An MLC eNVM weight store (a pytree). Defaults: VGG16 on MLC-CTT with CSR+ECC (Table 4), at
    the bits per cell :func:`iso_accuracy` gives (values 2, indexes 3).

    Attributes:
        weight_bits: bits per weight of the ``"dense"`` encoding, in [1, 32] (16, Table 2).
        cluster_bits: cluster-index bits per weight, in [1, 16] (6, Table 2 VGG16).
        sparsity: fraction of zero weights, in [0, 0.999] (0.811, Table 2 VGG16).
        index_bits: CSR relative column-index width, bits, in [1, 16] (4, assumption A3).
        value_bits_per_cell: bits per cell of weights / non-zero values (2).
        index_bits_per_cell: bits per cell of indexes, counters and parity (3).
        mask_bits_per_cell: bits per cell of the bitmask (1).
            Bits per cell lie in [1, the technology's maximum] (3 for CTT and RRAM).
        width_bits: bits per array read access, in [1, 8192] (128: Table 3's widest data width,
            8 GB/s at CTT's 2 ns, section 5.1's "up to 9 GB/s").
        level_sigma: level spread, fraction of the cell's signal window, in [1e-3, 0.5];
            ``None`` takes the technology preset's (MaxNVM's MLC3 fault rate).
        sense_sigma: sense-amplifier offset spread, same units, in [0, 0.5] (0; section 2.3 sizes
            the amplifiers so that fault rates change by less than 2x).
        tech: technology node; ``None`` takes the preset's (CTT 16 nm, RRAM 28 nm).
        technology: ``"ctt"`` or ``"rram"`` (static).
        encoding: one of :data:`ENCODINGS` (static).
        ecc: SEC-DED on the index structures (static; the dense encodings have none, so it does
            nothing there).
        index_sync: IdxSync counters (static; ``"bitmask"`` only).
    """

    weight_bits: Knob = 16.0
    cluster_bits: Knob = 6.0
    sparsity: Knob = 0.811
    index_bits: Knob = 4.0
    value_bits_per_cell: Knob = 2.0
    index_bits_per_cell: Knob = 3.0
    mask_bits_per_cell: Knob = 1.0
    width_bits: Knob = 128.0
    level_sigma: Knob | None = None
    sense_sigma: Knob = 0.0
    tech: Knob | None = None
    technology: str = static_field("ctt")
    encoding: str = static_field("csr")
    ecc: bool = static_field(True)
    index_sync: bool = static_field(False)

    def __post_init__(self):
        validate.check_choice("technology", self.technology, TECHNOLOGIES)
        validate.check_choice("encoding", self.encoding, ENCODINGS)
        validate.check_choice("ecc", self.ecc, (True, False))
        validate.check_choice("index_sync", self.index_sync, (True, False))
        if self.index_sync and self.encoding != "bitmask":
            raise ValueError(f"index_sync=True needs encoding 'bitmask'; got encoding={self.encoding!r}")
        if self.tech is None:
            object.__setattr__(self, "tech", Tech(devices.envm_device(self.technology).node_nm))
        check_tech(self.tech)
        if self.level_sigma is None:
            object.__setattr__(self, "level_sigma", _preset_sigma(self.technology))
        validate.check_fields(self, _RANGES)
        top = _device_max_bits(self.technology)
        validate.check_fields(self, {name: (1.0, top) for name in _BPC_FIELDS.values()})


def for_model(name: str, **kwargs) -> Config:
    """A :class:`Config` with Table 2's cluster bits and sparsity for workload ``name``
    (``"maxnvm_lenet5"``, ``"maxnvm_vgg12"``, ``"maxnvm_vgg16"``, ``"maxnvm_resnet50"``)."""
    validate.check_choice("name", name, tuple(TABLE_2))
    cluster_bits, sparsity = TABLE_2[name]
    return Config(**{"cluster_bits": cluster_bits, "sparsity": sparsity, **kwargs})


# ---------------------------------------------------------------------------------------------
# Fault model


def level_error_rate(bits_per_cell, sigma, sense_sigma=0.0):
    """Probability that an MLC cell holding a uniformly random level is misread (per cell read).

    ``2^b`` Gaussian levels evenly over the normalised signal window, thresholds midway, a
    sense-amplifier offset added in quadrature (MaxNVM sections 2.3 and 4.1; misreads go to an
    adjacent level): ``2 (L - 1) / L x Q(spacing / (2 sigma))`` with ``L = 2^b``, plus
    :data:`hwjax.components.memory.PROBABILITY_FLOOR` (1e-15).

    Args:
        bits_per_cell: ``b``, in [1, 4] (continuous).
        sigma: level spread, fraction of the signal window (dimensionless), in [1e-3, 0.5].
        sense_sigma: sense-amplifier offset spread, same units, in [0, 0.5].

    Returns:
        Probability (dimensionless), broadcast shape of the arguments.
    """
    return memory.mlc_misread(bits_per_cell, sigma, sense_sigma)["cell"]


def _levels_for_rate(tolerated, sigma):
    """Continuous level count ``L`` at which :func:`level_error_rate` equals ``tolerated``.

    Solves ``2 (L - 1) / L Q(1 / (2 sigma (L - 1))) = tolerated`` by fixed-point iteration on the
    weak prefactor, one step from its large-``L`` limit (within 0.06 bits of the root over the
    valid ranges, far less where ``L >= 4``; used only for gradients and the smooth relaxation).
    """
    limit = 1.0 - 1.0 / (2.0 * sigma * jsp.ndtri(tolerated / 2.0))
    return 1.0 - 1.0 / (2.0 * sigma * jsp.ndtri(tolerated * limit / (2.0 * (limit - 1.0))))


def max_bits_per_cell(config: Config, tolerated_fault_rate, mode: str = "ste"):
    """Most bits per cell whose misread rate stays within ``tolerated_fault_rate``.

    Exactly: ``1 + #{b in 2..b_max : level_error_rate(b) <= tolerated}`` at ``config.level_sigma``
    and ``sense_sigma`` (an SLC is always allowed; ``b_max`` is the technology's maximum, 3). The
    ``"smooth"`` relaxation is ``log2 L*`` clipped to [1, b_max] (:func:`hwjax.relax.clip`), with
    ``L*`` the continuous level count at which the rate equals the tolerated one; ``"ste"`` returns
    the exact value with that relaxation's gradient (the straight-through floor).

    Args:
        config: the store (its technology, level and sense spreads).
        tolerated_fault_rate: tolerated misread probability per cell read, in [1e-15, 0.1]
            (see :data:`TOLERATED_FAULT_RATE`).
        mode: ``"exact"``, ``"ste"`` or ``"smooth"``.

    Returns:
        Bits per cell (array, the broadcast shape of ``tolerated_fault_rate`` and the spreads).
    """
    relax.check_mode(mode)
    rate = validate.check_range("tolerated_fault_rate", tolerated_fault_rate, memory.PROBABILITY_FLOOR, 0.1)
    top = _device_max_bits(config.technology)
    candidates = jnp.arange(2.0, top + 1.0)  # every MLC option, on a trailing axis
    rates = level_error_rate(
        candidates, jnp.expand_dims(config.level_sigma, -1), jnp.expand_dims(config.sense_sigma, -1)
    )
    allowed = jnp.sum(rates <= jnp.expand_dims(rate, -1), axis=-1)
    exact = jax.lax.stop_gradient(1.0 + allowed.astype(rates.dtype))
    if mode == "exact":
        return exact
    # The floor added to every rate is not physics: solve for the physical part.
    physical = jnp.maximum(rate - memory.PROBABILITY_FLOOR, memory.PROBABILITY_FLOOR * 1e-3)
    sigma = jnp.sqrt(config.level_sigma**2 + config.sense_sigma**2)
    smooth = relax.clip(jnp.log2(_levels_for_rate(physical, sigma)), 1.0, top, mode="smooth")
    return smooth if mode == "smooth" else smooth + jax.lax.stop_gradient(exact - smooth)


def tolerated_fault_rates(config: Config) -> dict[str, float]:
    """Tolerated misread rate per bits-per-cell group (``value``, ``index``, ``mask``) for the
    config's encoding and protections (:data:`TOLERATED_FAULT_RATE`)."""
    sparse = config.encoding in ("csr", "bitmask")
    mask = "bitmask_ecc" if config.ecc else "bitmask_index_sync" if config.index_sync else "bitmask"
    return {
        "value": TOLERATED_FAULT_RATE["values" if sparse else "weights"],
        "index": TOLERATED_FAULT_RATE["index_ecc" if config.ecc else "index"],
        "mask": TOLERATED_FAULT_RATE[mask],
    }


def iso_accuracy(config: Config, mode: str = "ste") -> Config:
    """``config`` with every group's bits per cell set to :func:`max_bits_per_cell` at its
    tolerated fault rate (:func:`tolerated_fault_rates`): the densest storage without loss of
    accuracy (section 4.4)."""
    rates = tolerated_fault_rates(config)
    leaves = {field: max_bits_per_cell(config, rates[group], mode) for group, field in _BPC_FIELDS.items()}
    return _replace(config, **leaves)


def _replace(config: Config, **leaves) -> Config:
    """A copy of ``config`` with leaves replaced, without re-validation (values are in range)."""
    new = object.__new__(Config)
    for name in Config.__dataclass_fields__:
        object.__setattr__(new, name, leaves.get(name, getattr(config, name)))
    return new


# ---------------------------------------------------------------------------------------------
# Encodings


@dataclasses.dataclass(frozen=True, eq=False)
class _Stored:
    """A network's stored matrices, read from its :func:`hwjax.system.layer_table` (static
    numpy): the stationary matrices (those holding weights), in network order."""

    table: system.LayerTable
    names: tuple  # matrix names
    layer: np.ndarray  # (M,) index of each matrix's layer in the table
    k: np.ndarray  # (M,) input lengths K
    n: np.ndarray  # (M,) output counts N

    def to_layers(self, values):
        """Per-matrix ``values`` ``(M,)`` summed into the table's layers, ``(L,)``."""
        return jax.ops.segment_sum(values, self.layer, num_segments=len(self.table), indices_are_sorted=True)


@functools.lru_cache(maxsize=64)
def _stored(table: system.LayerTable) -> _Stored:
    held = table.op_mask.astype(bool) & table.stationary
    layer, slot = np.nonzero(held)  # row-major: network order, then each layer's matrix order
    names = tuple(table.layers[j].matrix_ops()[s].name for j, s in zip(layer, slot, strict=True))
    return _Stored(table, names, layer, table.rows[held], table.cols[held])


def _matrices(network) -> _Stored:
    """The network's stored matrices; raises for a network that stores no weights."""
    stored = _stored(system.layer_table(network))
    if not stored.names:
        raise ValueError(f"workload {network.name!r} stores no weights: nothing to encode")
    return stored


def _check_layers(layers, network) -> None:
    """MaxNVM takes no per-layer knobs (module docstring): ``layers`` must be ``None`` or empty."""
    given = list(system.check_layer_knobs(layers, system.layer_table(network)).given())
    if given:
        raise ValueError(
            f"layers.{given[0]} is not a per-layer knob of MaxNVM, which takes none: its sparse "
            "encodings already skip every zero weight (sparsity, uniform across layers: assumption A2)"
        )


def layer_names(network) -> tuple[str, ...]:
    """Names of the stored matrices, in the order of :func:`encode`'s per-layer arrays."""
    return _matrices(network).names


def _fillers_per_nonzero(sparsity, index_bits):
    """Zero filler entries per non-zero in relative-index CSR: ``q^M / (1 - q^M)``, ``M = 2^bits``."""
    q_m = jnp.exp(2.0**index_bits * jnp.log(jnp.maximum(sparsity, 1e-9)))
    return q_m / (1.0 - q_m)


def _csr_bits(config: Config, k, n, weights, mode: str) -> dict[str, Any]:
    """CSR bits per layer, each layer falling back to dense cluster indexes where smaller."""
    entries = (
        weights * (1.0 - config.sparsity) * (1.0 + _fillers_per_nonzero(config.sparsity, config.index_bits))
    )
    parts = {
        "values": entries * config.cluster_bits,
        "column_index": entries * config.index_bits,
        "row_counter": n * np.ceil(np.log2(k + 1.0)),
    }
    csr, dense = sum(parts.values()), weights * config.cluster_bits
    scale = 0.5 * (csr + dense)  # logits relative to the layer's size (scale-free choice)
    use_csr = relax.choice(jnp.stack([-csr / scale, -dense / scale], -1), jnp.array([1.0, 0.0]), mode, 0.05)
    bits = {"weights": (1.0 - use_csr) * dense}
    bits.update({name: use_csr * value for name, value in parts.items()})
    if config.ecc:
        bits["parity"] = _parity(bits["column_index"] + bits["row_counter"], mode)
    return bits


def _parity(bits, mode: str):
    """SEC-DED parity bits protecting ``bits`` (24 per 4 KB block, section 4.3)."""
    return ECC_PARITY_BITS * relax.ceil(bits / ECC_BLOCK_BITS, mode=mode)


def _bitmask_bits(config: Config, weights, mode: str) -> dict[str, Any]:
    """NVDLA bitmask: a mask bit per weight, packed non-zero values, optional counters/parity."""
    values = weights * (1.0 - config.sparsity) * config.cluster_bits
    bits = {"values": values, "bitmask": weights}
    if config.index_sync:
        groups = relax.ceil(values / GROUP_BITS, mode=mode)
        counter = relax.ceil(jnp.log2(GROUP_BITS / config.cluster_bits + 1.0), mode=mode)
        bits["sync_counter"] = groups * counter
    if config.ecc:
        bits["parity"] = _parity(weights, mode)
    return bits


@system.batched
def encoded_bits(
    config: Config, network, mode: str = "ste", layers: system.LayerKnobs | None = None
) -> dict[str, Any]:
    """Bits per structure (``weights``, ``values``, ``column_index``, ``row_counter``,
    ``bitmask``, ``sync_counter``, ``parity`` as the encoding has them), each an array with one
    entry per stored matrix (:func:`layer_names`). Config leaves of shape ``(n,)`` give arrays
    ``(n, M)``; ``layers`` takes no knob (module docstring)."""
    relax.check_mode(mode)
    stored = _matrices(network)
    _check_layers(layers, network)
    k, n = stored.k, stored.n
    weights = k * n
    if config.encoding == "dense":
        return {"weights": jnp.asarray(weights) * config.weight_bits}
    if config.encoding == "pruned_clustered":
        return {"weights": jnp.asarray(weights) * config.cluster_bits}
    if config.encoding == "csr":
        return _csr_bits(config, k, n, weights, mode)
    return _bitmask_bits(config, weights, mode)


def bits_per_cell(config: Config, structure: str):
    """The bits per cell ``structure`` is stored at (its group's knob)."""
    validate.check_choice("structure", structure, tuple(STRUCTURE_GROUP))
    return getattr(config, _BPC_FIELDS[STRUCTURE_GROUP[structure]])


@system.batched
def encode(
    config: Config, network, mode: str = "ste", layers: system.LayerKnobs | None = None
) -> dict[str, dict[str, Any]]:
    """Bits and cells per stored matrix and structure.

    Args:
        config: the store; leaves of shape ``(n,)`` give a batch of ``n`` designs.
        network: a :class:`hwjax.workloads.Network` (static structure).
        mode: relaxation of the counts (cells ``ceil(bits / bits_per_cell)``, ECC blocks, IdxSync
            groups) and of CSR's per-layer dense fallback.
        layers: ``None`` (MaxNVM takes no per-layer knob; module docstring).

    Returns:
        ``{"bits": {structure: (layers,) array}, "cells": {structure: (layers,) array}}``; layer
        order is :func:`layer_names`.
    """
    bits = encoded_bits(config, network, mode, layers=layers)
    cells = {name: relax.ceil(b / bits_per_cell(config, name), mode=mode) for name, b in bits.items()}
    return {"bits": bits, "cells": cells}


@system.batched
def total_cells(config: Config, network, mode: str = "ste", layers: system.LayerKnobs | None = None):
    """Cells holding all the network's weights (scalar; ``(n,)`` for a batch of designs)."""
    return sum(jnp.sum(c) for c in encode(config, network, mode, layers=layers)["cells"].values())


@system.batched
def storage_bytes(config: Config, network, mode: str = "ste", layers: system.LayerKnobs | None = None):
    """Encoded size of all the weights, bytes (scalar; ``(n,)`` for a batch): Table 2's sizes."""
    return sum(jnp.sum(b) for b in encoded_bits(config, network, mode, layers=layers).values()) / 8.0


# ---------------------------------------------------------------------------------------------
# Array costs


def envm_array(config: Config, cells, bits_per_cell) -> memory.EnvmArray:
    """The eNVM array of ``cells`` cells (floored at 1 KiB of capacity) read at ``bits_per_cell``."""
    capacity = jnp.maximum(cells, _MIN_CELLS) * bits_per_cell / 8.0
    return memory.EnvmArray(
        capacity, config.width_bits, bits_per_cell, config.level_sigma, config.tech, config.technology
    )


@system.batched
def area(config: Config, network, mode: str = "ste", layers: system.LayerKnobs | None = None):
    """Area of the array holding the encoded weights, m² (scalar; ``(n,)`` for a batch)."""
    return memory.envm_area(envm_array(config, total_cells(config, network, mode, layers=layers), 1.0))


@system.batched
def storage(config: Config, network, mode: str = "ste", layers: system.LayerKnobs | None = None) -> Report:
    """Reading a network's weights once from its MLC eNVM store (one batch-1 inference).

    The network is read through :func:`hwjax.system.layer_table`; the Report is
    :func:`hwjax.system.layer_report`'s: one row per layer (a layer storing no weights, e.g. a
    pooling layer, has zero entries) and a last ``"idle"`` row. Per layer and structure:
    ``energy`` = accesses of ``width_bits`` x :func:`hwjax.components.memory.envm_read_energy`
    at the structure's bits per cell (J), ``latency`` = accesses x the array's read latency (s;
    serial accesses), both from :func:`hwjax.components.memory.envm_read` per stored matrix,
    summed over the layer's matrices; ``area`` = the structure's cells over the array's capacity
    times the array's area (m²). ``"idle"`` holds the area of the capacity no cell uses (the
    array's 1 KiB minimum), no energy or time. Cells are non-volatile and periphery leakage is
    not modelled (0 W), so the leaf rows add up to the total in every field and
    ``total(report).area`` is :func:`area`.

    Args:
        config: the store; leaves of shape ``(n,)`` give a batch of ``n`` designs (every field
            of the Report then has shape ``(n,)``).
        network: a :class:`hwjax.workloads.Network`.
        mode: relaxation of every count.
        layers: ``None`` (MaxNVM takes no per-layer knob; module docstring).

    Returns:
        ``Report({layer name: Report({structure: Cost}, "serial"), ..., "idle": Cost},
        "serial")``.
    """
    relax.check_mode(mode)
    stored = _matrices(network)
    encoding = encode(config, network, mode, layers=layers)
    cells = sum(jnp.sum(c) for c in encoding["cells"].values())
    whole = envm_array(config, cells, 1.0)  # its area depends on the cells only
    per_cell = memory.envm_area(whole) / jnp.maximum(cells, _MIN_CELLS)
    items = {}
    for group in GROUPS:  # one array view and one read call per bits-per-cell group
        names = [name for name in encoding["bits"] if STRUCTURE_GROUP[name] == group]
        if not names:
            continue
        array = envm_array(config, cells, getattr(config, _BPC_FIELDS[group]))
        read = memory.envm_read(array, jnp.stack([encoding["bits"][n] for n in names]), mode)
        for j, name in enumerate(names):
            items[name] = unchecked(
                stored.to_layers(read.energy[j]),
                stored.to_layers(read.latency[j]),
                stored.to_layers(encoding["cells"][name]) * per_cell,
            )
    used = sum(jnp.sum(item.area) for item in items.values())
    idle = jnp.maximum(memory.envm_area(whole) - used, 0.0)  # the rest of the array: unused capacity
    return system.layer_report(stored.table, items, unchecked(0.0, 0.0, idle))


def inference(config: Config, network, mode: str = "ste", layers: system.LayerKnobs | None = None) -> Report:
    """The common accelerator interface's name for :func:`storage`: the weight store's share of
    one batch-1 inference (every weight read once)."""
    return storage(config, network, mode, layers=layers)


@system.batched
def read_cost(config: Config, network, mode: str = "ste", layers: system.LayerKnobs | None = None) -> Cost:
    """Total of :func:`storage`: read energy (J) and latency (s) per inference and array area (m²)."""
    whole = total(storage(config, network, mode, layers=layers))
    return Cost(whole.energy, whole.latency, whole.area)


__all__ = [
    "ENCODINGS",
    "TABLE_2",
    "TECHNOLOGIES",
    "TOLERATED_FAULT_RATE",
    "Config",
    "area",
    "bits_per_cell",
    "encode",
    "encoded_bits",
    "envm_array",
    "for_model",
    "inference",
    "iso_accuracy",
    "layer_names",
    "level_error_rate",
    "max_bits_per_cell",
    "read_cost",
    "storage",
    "storage_bytes",
    "tolerated_fault_rates",
    "total_cells",
]
