"""MaxNVM storage model (``hwjax_models.maxnvm``) against MaxNVM (MICRO 2019).

Source: ``seeds/maxnvm-micro2019.txt``: Table 2 (storage sizes, line 137), sections 2.3, 4.2-4.4
(fault model and the bits per cell each encoding allows), 5.1 and Figure 8 (area against SLC
RRAM), Table 4 (the optimal designs' bits per cell). The tolerance for Table 2 is the issue's
15%, applied wherever the table's row is self-consistent (module docstring, A1-A4); the area
reduction against SLC is the issue's order of magnitude.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hwjax as hj
from hwjax import system
from hwjax import units as u
from hwjax_models import maxnvm as mx
from hwjax_models import workloads as catalog

TABLE_2_MB = 1000 * 1024  # assumption A1: Table 2's MB; its KB is 1024 bytes
TABLE_2_KB = 1024
#: MaxNVM Table 2: encoded sizes (16b, P+C, CSR, BitMask), in MB (LeNet5 16b in MB, rest in KB).
TABLE_2_SIZES = {
    "maxnvm_lenet5": {
        "dense": 1.26 * TABLE_2_MB,
        "pruned_clustered": 316 * TABLE_2_KB,
        "csr": 84 * TABLE_2_KB,
        "bitmask": 107 * TABLE_2_KB,
    },
    "maxnvm_vgg12": {"dense": 15.4, "pruned_clustered": 3.86, "csr": 3.78, "bitmask": 3.23},
    "maxnvm_vgg16": {"dense": 270, "pruned_clustered": 101, "csr": 30.2, "bitmask": 35.5},
    # ResNet50's 16b (70 MB), P+C (30.6 MB) and CSR (25.1 MB) are 1.46x what its own 24.6 M
    # parameters give (70 MB at 2 bytes = 35.8 M weights; P+C = 7/16 x 70 MB exactly): not
    # reproducible from the paper; only its bitmask size, which matches 24.6 M, is checked.
    "maxnvm_resnet50": {"bitmask": 11.2},
}
CASES = [
    (model, encoding, size if model == "maxnvm_lenet5" else size * TABLE_2_MB)
    for model, sizes in TABLE_2_SIZES.items()
    for encoding, size in sizes.items()
]
DESIGNS = (  # (encoding, ecc, index_sync) as in Figure 6
    ("pruned_clustered", False, False),
    ("csr", False, False),
    ("csr", True, False),
    ("bitmask", False, False),
    ("bitmask", False, True),
    ("bitmask", True, False),
)
TABLE_4_MODELS = ("maxnvm_vgg12", "maxnvm_vgg16", "maxnvm_resnet50")


@functools.cache
def network(name):
    return catalog.get(name)


def _design(model, technology, encoding, ecc, index_sync):
    config = mx.for_model(model, technology=technology, encoding=encoding, ecc=ecc, index_sync=index_sync)
    return mx.iso_accuracy(config, "exact")


def _max_bpc(config, net) -> float:
    """Table 4's 'BPC': the most bits per cell among the structures the design stores."""
    structures = mx.encoded_bits(config, net, "exact")
    return max(float(mx.bits_per_cell(config, structure)) for structure in structures)


# --- Table 2 storage sizes: the 15% -----------------------------------------------------


@pytest.mark.parametrize("model,encoding,published", CASES, ids=[f"{m}-{e}" for m, e, _ in CASES])
def test_table_2_storage_sizes(model, encoding, published):
    # Table 2 (no ECC, no IdxSync). LeNet5 runs 4-14% low: its printed sizes imply ~645 k weights
    # against its 600,810 parameters (e.g. 1.26 MB at 16 bits); CSR rests on A2-A3.
    config = mx.for_model(model, encoding=encoding, ecc=False)
    ours = float(mx.storage_bytes(config, network(model), "exact"))
    assert ours == pytest.approx(published, rel=0.15)


def test_clustering_and_sparse_encodings_shrink_storage_as_in_table_2():
    # Table 2's ordering for VGG16: 16b > P+C > BitMask > CSR.
    sizes = {
        e: float(
            mx.storage_bytes(mx.for_model("maxnvm_vgg16", encoding=e, ecc=False), network("maxnvm_vgg16"))
        )
        for e in mx.ENCODINGS
    }
    assert sizes["dense"] > sizes["pruned_clustered"] > sizes["bitmask"] > sizes["csr"]


def test_ecc_overhead_is_below_one_percent():
    # Section 4.3: "The resulting ECC storage overhead is strictly less than 1% per layer".
    for model in TABLE_4_MODELS:
        config = mx.for_model(model, encoding="csr", ecc=True)
        bits = mx.encoded_bits(config, network(model), "exact")
        total = sum(np.asarray(b) for b in bits.values())
        assert np.all(np.asarray(bits["parity"]) < 0.01 * total)


# --- Fault model and bits per cell at iso-accuracy (sections 2.3, 4) ---------------------------


def test_level_error_rate_matches_maxnvm_mlc3_range_and_trends():
    # Section 2.3: MLC3 fault rates "range from 1e-3 to 1e-5" (CTT the high end, RRAM the low);
    # a cell misreads to one of up to two neighbours, so the per-cell rate is at most 2x that.
    ctt, rram = mx.Config(technology="ctt"), mx.Config(technology="rram", tech=None)
    rates = [float(mx.level_error_rate(3.0, c.level_sigma)) for c in (ctt, rram)]
    assert 1e-3 <= rates[0] <= 2e-3 and 1e-5 <= rates[1] <= 2e-5
    by_bits = mx.level_error_rate(jnp.linspace(2.0, 4.0, 9), 0.02)  # above the 1e-15 floor
    assert np.all(np.diff(np.asarray(by_bits)) > 0)  # more levels, more overlap
    by_sigma = mx.level_error_rate(2.0, jnp.linspace(0.02, 0.2, 10))
    assert np.all(np.diff(np.asarray(by_sigma)) > 0)
    assert float(mx.level_error_rate(2.0, 0.03, 0.04)) == pytest.approx(float(mx.level_error_rate(2.0, 0.05)))


@pytest.mark.parametrize("technology", ["ctt", "rram"])
def test_max_bits_per_cell_is_the_largest_allowed_level_count(technology):
    # b allowed (or b = 1, an SLC), b + 1 not (or b = 3, the device's maximum).
    config = mx.Config(technology=technology)
    rates = np.array([1e-14, 1e-9, 1e-6, 1e-4, 1e-3, 5e-3])
    bits = np.asarray(mx.max_bits_per_cell(config, rates, "exact"))
    at_b = np.asarray(mx.level_error_rate(bits, config.level_sigma))
    above = np.asarray(mx.level_error_rate(np.minimum(bits + 1.0, 4.0), config.level_sigma))
    assert np.all((at_b <= rates) | (bits == 1.0))
    assert np.all((above > rates) | (bits == 3.0))
    assert len(set(bits.tolist())) >= 2  # the rates span more than one answer


def test_max_bits_per_cell_falls_with_the_tolerated_rate_and_with_the_spread():
    config = mx.Config(technology="ctt")
    rates = jnp.logspace(-14, -1.5, 40)
    bits = np.asarray(mx.max_bits_per_cell(config, rates, "exact"))
    assert np.all(np.diff(bits) >= 0) and bits[0] == 1.0 and bits[-1] == 3.0
    noisy = mx.Config(technology="ctt", level_sigma=0.05)
    assert np.all(np.asarray(mx.max_bits_per_cell(noisy, rates, "exact")) <= bits)


@pytest.mark.parametrize("technology", ["ctt", "rram"])
def test_sparse_encodings_allow_fewer_bits_per_cell_than_dense(technology):
    # Section 4.2: "weights that could be safely stored by their cluster index values in MLC3 can
    # no longer be safely stored in MLC3 with sparse encoding structures".
    dense = mx.iso_accuracy(mx.Config(technology=technology, encoding="pruned_clustered", ecc=False))
    assert float(dense.value_bits_per_cell) == 3.0
    csr = mx.iso_accuracy(mx.Config(technology=technology, encoding="csr", ecc=False))
    bitmask = mx.iso_accuracy(mx.Config(technology=technology, encoding="bitmask", ecc=False))
    assert float(csr.index_bits_per_cell) < 3.0 and float(bitmask.mask_bits_per_cell) < 3.0
    if technology == "ctt":  # 4.4: the non-zero values only in MLC2; 4.2: no MLC bitmask
        assert float(csr.value_bits_per_cell) == 2.0 and float(bitmask.mask_bits_per_cell) == 1.0


def test_default_configuration_is_at_iso_accuracy():
    # The defaults (VGG16 on MLC-CTT, CSR+ECC: Table 4's design) are what iso_accuracy gives.
    config, densest = mx.Config(), mx.iso_accuracy(mx.Config())
    for field in ("value_bits_per_cell", "index_bits_per_cell"):
        assert float(getattr(config, field)) == float(getattr(densest, field))


def test_protection_restores_mlc3_for_sparse_structures_on_ctt():
    # Section 4.3 / Figure 5: ECC makes CSR's indexes (and the bitmask) safe in MLC3 on CTT;
    # IdxSync makes the bitmask safe in MLC (MLC2, Table 4 ResNet50).
    csr = mx.iso_accuracy(mx.Config(encoding="csr", ecc=True))
    assert float(csr.index_bits_per_cell) == 3.0
    synced = mx.iso_accuracy(mx.Config(encoding="bitmask", ecc=False, index_sync=True))
    assert float(synced.mask_bits_per_cell) == 2.0


@pytest.mark.parametrize(
    "model,technology,encoding,ecc,index_sync,bpc",
    [
        ("maxnvm_vgg12", "ctt", "bitmask", False, False, 2.0),
        ("maxnvm_vgg12", "rram", "bitmask", False, True, 3.0),
        ("maxnvm_vgg16", "ctt", "csr", True, False, 3.0),
        ("maxnvm_vgg16", "rram", "csr", True, False, 3.0),
        ("maxnvm_resnet50", "ctt", "bitmask", False, True, 2.0),
    ],
)
def test_table_4_bits_per_cell(model, technology, encoding, ecc, index_sync, bpc):
    # Table 4 'BPC' (the largest bits per cell used) of the published designs. Not reproduced:
    # ResNet50 on MLC-RRAM (2 in the paper, 3 here; module docstring A5).
    assert _max_bpc(_design(model, technology, encoding, ecc, index_sync), network(model)) == bpc


def test_index_sync_reduces_vgg16_cells():
    # Section 4.4: BitM+IdxSync needs 22% fewer cells than BitM for VGG16 (the bitmask moves to
    # MLC). Here 32% (the bitmask in MLC2, values in MLC2); bounded at 10-40%: A5's tolerances
    # are not per network.
    net = network("maxnvm_vgg16")
    plain = float(mx.total_cells(_design("maxnvm_vgg16", "ctt", "bitmask", False, False), net, "exact"))
    synced = float(mx.total_cells(_design("maxnvm_vgg16", "ctt", "bitmask", False, True), net, "exact"))
    assert 0.10 < 1.0 - synced / plain < 0.40


# --- Area against SLC (abstract, sections 1 and 5.1, Figure 8) --------------------------------


@functools.cache
def _best_area(model, technology) -> float:
    net = network(model)
    return min(float(mx.area(_design(model, technology, *design), net, "exact")) for design in DESIGNS)


@functools.cache
def _slc_rram_area(model) -> float:
    # Figure 8's SLC-RRAM stores the same optimized encodings in SLC (Table 4: BitMask or CSR).
    slc = dict(value_bits_per_cell=1.0, index_bits_per_cell=1.0, mask_bits_per_cell=1.0, ecc=False)
    net = network(model)
    areas = [
        mx.area(mx.for_model(model, technology="rram", encoding=e, **slc), net, "exact") for e in mx.ENCODINGS
    ]
    return min(float(a) for a in areas)


def test_mlc_weight_area_reduction_against_slc_is_an_order_of_magnitude():
    # Abstract: "up to 29x" less weight area than SLC eNVM (Table 4 CiFar10: 3.4 vs 0.12 mm²).
    # Here the best MLC-CTT design against SLC RRAM (the 28 nm [8] preset, not [42]) over Table 4's
    # models: the order of magnitude, 10x to 100x.
    ratios = [_slc_rram_area(m) / _best_area(m, "ctt") for m in TABLE_4_MODELS]
    assert 10.0 <= max(ratios) <= 100.0


def test_mlc_ctt_average_area_benefit_against_slc_rram():
    # Section 5.1 / Figure 8: MLC-CTT "requires an average of 9.6x less area" than SLC-RRAM
    # storing the same encoded weights. 30%: the SLC baseline is the [8] preset (28 nm, 39 F²),
    # not [42] (40 nm, 53 F²), and NVSim picks a different organisation per design.
    ratios = [_slc_rram_area(m) / _best_area(m, "ctt") for m in TABLE_4_MODELS]
    assert float(np.mean(ratios)) == pytest.approx(9.6, rel=0.30)


# --- Storage report, read energy and latency ---------------------------------------------------


def test_storage_report_adds_up_and_scales_with_encoded_bits():
    config = mx.for_model("maxnvm_lenet5", encoding="bitmask", ecc=False, index_sync=True)
    net = network("maxnvm_lenet5")
    report = mx.storage(config, net, "exact")
    assert list(report) == [*(layer.name for layer in net), "idle"]  # the runtime's layer rows
    assert set(mx.layer_names(net)) <= set(report)
    total = hj.total(report)
    assert float(total.area) == pytest.approx(float(mx.area(config, net, "exact")), rel=1e-6)
    read = mx.read_cost(config, net, "exact")
    assert float(read.energy) == pytest.approx(float(total.energy), rel=1e-5)
    assert float(read.latency) == pytest.approx(float(total.latency), rel=1e-5)
    # every stored bit is read once: accesses x width cover the encoded bits
    accesses = float(total.latency) / float(
        hj.components.memory.envm_read_latency(
            mx.envm_array(config, mx.total_cells(config, net, "exact"), 1.0)
        )
    )
    assert accesses * 128 >= float(mx.storage_bytes(config, net, "exact")) * 8
    dense = mx.for_model("maxnvm_lenet5", encoding="pruned_clustered", ecc=False)
    assert float(mx.read_cost(dense, net, "exact").energy) > float(read.energy)


def test_ctt_reads_cost_less_energy_than_rram():
    # Section 5.1: MLC-CTT is "consistently lower energy per access" than the RRAMs (over 4x below
    # the optimistic RRAM, which is not modelled); here the [8]-based MLC RRAM at the same design
    # (VGG16 CSR+ECC) costs 1.5x: the ordering is checked.
    net = network("maxnvm_vgg16")
    ctt = mx.read_cost(_design("maxnvm_vgg16", "ctt", "csr", True, False), net, "exact")
    rram = mx.read_cost(_design("maxnvm_vgg16", "rram", "csr", True, False), net, "exact")
    assert float(rram.energy) > float(ctt.energy)
    assert float(rram.latency) > float(ctt.latency)  # Table 4: 2.0 ns CTT vs 3.2 ns RRAM reads


# --- Differentiability and bad input -------------------------------------------------------------


def test_costs_are_differentiable_in_the_continuous_knobs():
    net = hj.workloads.Network(
        "small", (hj.workloads.Conv2d(8, 16, 3, (8, 8)), hj.workloads.Dense(1024, 64, name="fc"))
    )

    @functools.partial(jax.jit, static_argnums=3)
    @functools.partial(jax.grad, argnums=(0, 1, 2))
    def grads_of(sparsity, cluster_bits, value_bpc, mode):
        config = mx.Config(sparsity=sparsity, cluster_bits=cluster_bits, value_bits_per_cell=value_bpc)
        cost = mx.read_cost(config, net, mode)
        return cost.energy / u.nJ + cost.area / u.mm2

    # The default mode; every mode's gradients are checked by the contract rows.
    grads = grads_of(0.9, 4.0, 2.0, "ste")
    assert all(np.isfinite(float(g)) for g in grads)
    assert float(grads[0]) < 0 < float(grads[1])  # sparser is cheaper, wider indexes dearer
    assert float(grads[2]) < 0  # more bits per cell, fewer cells
    bits = jax.grad(lambda s: mx.max_bits_per_cell(mx.Config(level_sigma=s), 1e-4, "smooth"))(0.02)
    assert np.isfinite(float(bits)) and float(bits) < 0


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"encoding": "coo"}, "encoding"),
        ({"technology": "pcm"}, "technology"),
        ({"encoding": "csr", "ecc": False, "index_sync": True}, "index_sync"),
        ({"index_bits": 0.5}, "index_bits"),
        ({"value_bits_per_cell": 4.0}, "value_bits_per_cell"),
        ({"sparsity": 1.0}, "sparsity"),
        ({"cluster_bits": 0.0}, "cluster_bits"),
        ({"level_sigma": 0.9}, "level_sigma"),
    ],
)
def test_bad_configuration_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        mx.Config(**kwargs)


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="tolerated_fault_rate"):
        mx.max_bits_per_cell(mx.Config(), 0.5)
    with pytest.raises(ValueError, match="workload"):
        mx.storage(mx.Config(), (hj.workloads.Dense(4, 4),))
    with pytest.raises(ValueError, match="mode"):
        mx.encode(mx.Config(), network("maxnvm_lenet5"), "fuzzy")
    with pytest.raises(ValueError, match="name"):
        mx.for_model("alexnet")


# --- The accelerator runtime: one Report that adds up, batches -----------------------------------


@pytest.mark.parametrize("model", ["maxnvm_lenet5", "maxnvm_vgg12", "maxnvm_vgg16"])
def test_leaf_rows_add_up(model):
    """Leaf rows add up to the total (energy, latency, area), leakage 0 everywhere, for every
    encoding."""
    net = network(model)
    for encoding in mx.ENCODINGS:
        report = mx.inference(mx.for_model(model, encoding=encoding), net)
        assert list(report)[-1] == "idle"
        leaves = list(report.flat().values())
        whole = hj.total(report)
        assert all(float(leaf.leakage) == 0.0 for leaf in leaves)
        for field in ("total_energy", "latency", "area"):
            summed = sum(float(getattr(leaf, field)) for leaf in leaves)
            assert summed == pytest.approx(float(getattr(whole, field)), rel=1e-6), (encoding, field)
        assert float(whole.area) == pytest.approx(float(mx.area(mx.for_model(model, encoding=encoding), net)))


def test_idle_row_is_the_unused_capacity():
    """A store smaller than the array's 1 KiB minimum: the layers' structures take their cells'
    share of the array, the rest is idle."""
    net = hj.workloads.Network("small", (hj.workloads.Dense(16, 16, name="fc"),))
    config = mx.Config(encoding="pruned_clustered", ecc=False)
    report = mx.storage(config, net, "exact")
    cells = float(mx.total_cells(config, net, "exact"))
    whole = float(mx.area(config, net, "exact"))
    assert cells < 8192.0
    assert float(report["fc"]["weights"].area) == pytest.approx(whole * cells / 8192.0, rel=1e-5)
    assert float(report["idle"].area) == pytest.approx(whole * (1.0 - cells / 8192.0), rel=1e-5)
    assert float(report["idle"].energy) == 0.0


def test_no_per_layer_knobs():
    """MaxNVM takes no per-layer knob (module docstring): an empty set is the plain call, a
    block occupancy is refused by name."""
    net = network("maxnvm_lenet5")
    config = mx.Config()
    plain = hj.total(mx.storage(config, net))
    empty = hj.total(mx.storage(config, net, layers=system.LayerKnobs()))
    assert float(empty.energy) == float(plain.energy) and float(empty.area) == float(plain.area)
    with pytest.raises(ValueError, match="occupancy"):
        mx.storage(config, net, layers=system.LayerKnobs(occupancy=np.ones(len(net))))
