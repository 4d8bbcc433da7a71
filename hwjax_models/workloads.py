"""Published workloads by name: the benchmarks of PUMA, TraNNsformer, PANTHER, TIMON and MaxNVM.

``catalog()`` maps each name to a one-line description with its source; ``get(name)`` builds the
:class:`hwjax.workloads.Network` (batch 1, biases excluded from ``weights``: see
:mod:`hwjax.workloads`). Names are case-insensitive and ``-`` reads as ``_`` (``"LSTM-2048"``,
``"MLP_L4"``, ``"Vgg16"`` all work); a ``"puma_"`` prefix is optional for the PUMA benchmarks.

Sources (``seeds/`` in the shared folder; "diss." is
``ankit-dissertation-puma-trannsformer-panther-timon.txt``):

* **PUMA**, diss. Table 3.7 (line 802) gives only layer counts and parameter totals. Layer widths
  come from the PUMA compiler's test models (illinois-impact/puma-compiler ``test/mlp_l4.cpp``,
  ``mlp_l5.cpp``, ``nmt_l3.cpp``, ``nmt_l5.cpp``, ``wlm_bigLSTM.cpp``, ``wlm_LSTM2048.cpp``,
  ``vgg16.cpp``, ``vgg19.cpp``), with standard LSTM layers (one gate matrix of
  ``input + state`` rows by ``4 * cells``), which reproduce every Table 3.7 total within 5%:

  - MLP_L4 1024-1024-2048-1024-10 (5.25M vs "5M": the table rounds);
    MLP_L5 1024-2048-3072-3072-1024-10 (20.98M vs 21M);
  - NMT_L3/L5: 3+3 / 5+5 LSTM layers of 1024 cells on 1024 inputs and a 1024 x 40000
    (vocabulary) output layer (91.29M vs 91M, 124.85M vs 125M), 50 steps;
  - BigLSTM: the compiler's LSTM of 8192 cells with an 8192-wide recurrent state followed by a
    linear 8192 -> 1024 projection, twice (first layer on 8192 inputs, second on the 1024
    projection): 855.64M vs 856M. A textbook LSTMP (recurrence through the projection) gives
    386M and cannot reach 856M, so the projection is a separate Dense layer here;
  - LSTM-2048: one such LSTM on 8192 inputs and an 8192 -> 2048 projection: 553.65M vs 554M;
  - VGG16/VGG19 at 224 x 224 (Simonyan and Zisserman configurations D and E): 138.34M and
    143.65M weights, 1.7% and 1.9% above Table 3.7's 136M and 141M (the table's count is not
    reproducible from the published architecture; the standard one is kept).

* **PANTHER**, diss. Table 5.4 (line 1495): VGG16 on CIFAR-100 and MLP-L4 (SVHN) exactly as
  listed. The table's E/F (output size) already halves where VGG pools, and its Ops/B column
  counts ``2 C M R S E F`` MACs at that size, so those convolutions are stride 2 here; Conv2 is
  listed with C = 32 (not Conv1's 64 outputs) and is kept as printed, which its Wt, In and Ops/B
  columns confirm.
* **TIMON**, diss. Table 6.2 (line 1938): six GEMM shapes M x N x K (the second row, printed
  "GNMT-1" again, is named ``timon_gnmt_2``) and four convolutions (W/H, R/S, C/K), taken as
  stride 1 "same" on the listed W/H, i.e. the im2col GEMM M = W H, N = K, K = R S C.
* **TraNNsformer**, diss. Table 4.1 (line 1115): MNIST 784-1200-1200-10 and SVHN / CIFAR-10
  1024-1200-1200-1200-10, which reproduce the table's neurons (2410, 3610) and synapses
  (2,392,800, 4,120,800) exactly.
* **MaxNVM**, ``maxnvm-micro2019.txt`` Table 2 (line 137): the models of the Ares framework it
  uses (alugupta/ares ``dl_models/models``): LeNet5 (MNIST: conv 32 3x3, conv 32 3x3, pool,
  128, 10; 600,810 parameters with biases, exact), VGG12 (CIFAR-10: conv 64 valid, 64, pool,
  128 x2, pool, 256 x3, pool, 512 x3, pool, 512, 10; 7,899,840 weights, exact), VGG16 and
  ResNet50 (Keras ImageNet models, ResNet50 v1 with the stride on the first 1x1 convolution).
  Table 2's 138,084,352 and 24,585,472 for the last two are 0.19% and 3.6% below the
  architectures' 138,344,128 and 25,502,912 weights; no variant of the standard models
  reproduces them, so the standard ones are kept (their MACs and weights match the Sandia seed's
  table of Sze et al., ``sandia-analog-imc-devices-2021.txt`` line 870).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from hwjax.workloads import GEMM, LSTM, Conv2d, Dense, Elementwise, Network, Pool2d

# --------------------------------------------------------------------------------------------
# Builders


def _mlp(name: str, widths: tuple[int, ...], vectors: int = 1, prefix: str = "fc") -> Network:
    """Dense layers between consecutive widths; relu on hidden layers, none on the output."""
    last = len(widths) - 2
    layers = tuple(
        Dense(a, b, vectors, None if i == last else "relu", name=f"{prefix}{i + 1}")
        for i, (a, b) in enumerate(itertools.pairwise(widths))
    )
    return Network(name, layers)


def _nmt(name: str, layers_per_side: int) -> Network:
    """Deep LSTM for translation: encoder and decoder stacks of 1024-cell LSTMs over 50 steps
    and the 1024 x 40000 output layer run at every step (PUMA compiler nmt_l3.cpp/nmt_l5.cpp)."""
    steps = 50  # diss. Table 3.7 "Sequence Size"
    stacks = [
        LSTM(1024, 1024, sequence_length=steps, name=f"{side}{i}")
        for side in ("encoder", "decoder")
        for i in range(layers_per_side)
    ]
    return Network(name, (*stacks, Dense(1024, 40000, steps, None, name="fc")))


def _wide_lstm(name: str, inputs: tuple[int, ...], projection: int) -> Network:
    """Wide LSTMs (PUMA compiler wlm_*.cpp): 8192-cell LSTMs, each followed by a linear
    projection, over 50 steps."""
    steps = 50
    layers = []
    for i, size in enumerate(inputs):
        layers.append(LSTM(size, 8192, sequence_length=steps, name=f"lstm{i}"))
        layers.append(Dense(8192, projection, steps, None, name=f"projection{i}"))
    return Network(name, tuple(layers))


_VGG_BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}


def _vgg_imagenet(name: str, depth: str) -> Network:
    """VGG16/19 on 224 x 224 ImageNet images: 3x3 "same" convolutions, 2x2 max pools, three FC."""
    layers, channels, size = [], 3, 224
    for block, (convs, width) in enumerate(zip(_VGG_BLOCKS[depth], (64, 128, 256, 512, 512), strict=True)):
        for i in range(convs):
            layers.append(Conv2d(channels, width, 3, (size, size), name=f"conv{block + 1}_{i + 1}"))
            channels = width
        layers.append(Pool2d(width, (size, size), 2, name=f"pool{block + 1}"))
        size //= 2
    layers += [
        Dense(512 * 7 * 7, 4096, name="fc6"),
        Dense(4096, 4096, name="fc7"),
        Dense(4096, 1000, activation=None, name="fc8"),
    ]
    return Network(name, tuple(layers))


# diss. Table 5.4 (line 1495), VGG16 on CIFAR-100: (C, M, H/W, E/F), R/S = 3 throughout.
PANTHER_VGG16_CONV = (
    (3, 64, 32, 32),
    (32, 64, 32, 16),
    (64, 128, 16, 16),
    (128, 128, 16, 8),
    (128, 256, 8, 8),
    (256, 256, 8, 8),
    (256, 256, 8, 4),
    (256, 512, 4, 4),
    (512, 512, 4, 4),
    (512, 512, 4, 2),
    (512, 512, 2, 2),
    (512, 512, 2, 2),
    (512, 512, 2, 1),
)


def _panther_vgg16() -> Network:
    convs = tuple(
        Conv2d(c, m, 3, (h, h), stride=h // e, name=f"conv{i + 1}")
        for i, (c, m, h, e) in enumerate(PANTHER_VGG16_CONV)
    )
    dense = (
        Dense(512, 4096, name="dense14"),
        Dense(4096, 4096, name="dense15"),
        Dense(4096, 100, activation=None, name="dense16"),
    )
    return Network("panther_vgg16_cifar100", convs + dense)


def _panther_mlp_l4() -> Network:
    return _mlp("panther_mlp_l4", (1024, 256, 512, 512, 10), prefix="dense")


# diss. Table 6.2 (line 1938): GEMM shapes M, N, K.
TIMON_GEMMS = {
    "timon_gnmt_1": (128, 2048, 4096),
    "timon_gnmt_2": (320, 3072, 4096),
    "timon_transformer_1": (84, 8457, 2560),
    "timon_transformer_2": (31999, 1034, 2560),
    "timon_deepbench_1": (2560, 64, 2560),
    "timon_deepbench_2": (1760, 128, 1760),
}
# diss. Table 6.2: convolutions (W/H, R/S, C/K).
TIMON_CONVS = {
    "timon_conv2d_1": (14, 3, 256, 512),
    "timon_conv2d_2": (7, 3, 512, 512),
    "timon_convpoint_1": (14, 1, 256, 512),
    "timon_convpoint_2": (7, 1, 512, 1024),
}


def _timon_gemm(name: str) -> Network:
    m, n, k = TIMON_GEMMS[name]
    return Network(name, (GEMM(m, n, k, name="gemm"),))


def _timon_conv(name: str) -> Network:
    size, kernel, c, k = TIMON_CONVS[name]
    return Network(name, (Conv2d(c, k, kernel, (size, size), activation=None, name="conv"),))


def _maxnvm_lenet5() -> Network:
    """Ares mnist_lenet5.py: two valid 3x3 convolutions of 32, a 2x2 pool, FC 128 and 10."""
    return Network(
        "maxnvm_lenet5",
        (
            Conv2d(1, 32, 3, (28, 28), padding="valid", name="conv1"),
            Conv2d(32, 32, 3, (26, 26), padding="valid", name="conv2"),
            Pool2d(32, (24, 24), 2, name="pool1"),
            Dense(12 * 12 * 32, 128, name="fc1"),
            Dense(128, 10, activation=None, name="fc2"),
        ),
    )


def _maxnvm_vgg12() -> Network:
    """Ares cifar10_vgg.py: a valid first convolution, then "same" 3x3 convolutions."""
    layers, channels, size = [Conv2d(3, 64, 3, (32, 32), padding="valid", name="conv1")], 64, 30
    plan = ((64,), (128, 128), (256, 256, 256), (512, 512, 512))
    index = 2
    for block, widths in enumerate(plan):
        for width in widths:
            layers.append(Conv2d(channels, width, 3, (size, size), name=f"conv{index}"))
            channels, index = width, index + 1
        layers.append(Pool2d(channels, (size, size), 2, name=f"pool{block + 1}"))
        size //= 2
    layers += [Dense(512, 512, name="fc1"), Dense(512, 10, activation=None, name="fc2")]
    return Network("maxnvm_vgg12", tuple(layers))


def _resnet50(name: str) -> Network:
    """ResNet50 v1 (Keras ``applications.ResNet50``, which Ares and MaxNVM use): 53 convolutions
    (the stride on each stage's first 1x1) and one FC; residual adds and the global average pool
    are vector work. The relu after each residual add is carried by the block's last 1x1."""
    layers = [
        Conv2d(3, 64, 7, (224, 224), stride=2, padding=3, name="conv1"),
        Pool2d(64, (112, 112), 3, stride=2, padding=1, name="pool1"),
    ]
    channels, size = 64, 56
    for stage, (mid, blocks, stride) in enumerate(((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)), 2):
        for block in range(1, blocks + 1):
            s = stride if block == 1 else 1
            out, tag = size // s, f"conv{stage}_{block}"
            layers += [
                Conv2d(channels, mid, 1, (size, size), stride=s, padding=0, name=f"{tag}a"),
                Conv2d(mid, mid, 3, (out, out), name=f"{tag}b"),
                Conv2d(mid, 4 * mid, 1, (out, out), padding=0, name=f"{tag}c"),
            ]
            if block == 1:
                layers.append(Conv2d(channels, 4 * mid, 1, (size, size), s, 0, None, name=f"{tag}shortcut"))
            layers.append(Elementwise("add", 4 * mid * out * out, name=f"{tag}add"))
            channels, size = 4 * mid, out
    layers += [
        Elementwise("add", channels * size * size, name="avgpool"),
        Dense(channels, 1000, activation=None, name="fc"),
    ]
    return Network(name, tuple(layers))


# --------------------------------------------------------------------------------------------
# Catalog

_T37 = "diss. Table 3.7 (line 802)"
_CATALOG: dict[str, tuple[str, Callable[[], Network]]] = {
    "mlp_l4": (
        f"PUMA MLP_L4: FC 1024-1024-2048-1024-10, 5.25M weights ({_T37}: 5M; widths: PUMA compiler)",
        lambda: _mlp("mlp_l4", (1024, 1024, 2048, 1024, 10)),
    ),
    "mlp_l5": (
        f"PUMA MLP_L5: FC 1024-2048-3072-3072-1024-10, 20.98M weights ({_T37}: 21M)",
        lambda: _mlp("mlp_l5", (1024, 2048, 3072, 3072, 1024, 10)),
    ),
    "nmt_l3": (
        f"PUMA NMT_L3: 3+3 LSTM x 1024 cells, FC 1024x40000, 50 steps, 91.29M weights ({_T37}: 91M)",
        lambda: _nmt("nmt_l3", 3),
    ),
    "nmt_l5": (
        f"PUMA NMT_L5: 5+5 LSTM x 1024 cells, FC 1024x40000, 50 steps, 124.85M weights ({_T37}: 125M)",
        lambda: _nmt("nmt_l5", 5),
    ),
    "biglstm": (
        f"PUMA BigLSTM: 2 LSTM x 8192 cells + 8192->1024 projections, 50 steps, 855.6M ({_T37}: 856M)",
        lambda: _wide_lstm("biglstm", (8192, 1024), 1024),
    ),
    "lstm_2048": (
        f"PUMA LSTM-2048: LSTM 8192 cells + 8192->2048 projection, 50 steps, 553.6M ({_T37}: 554M)",
        lambda: _wide_lstm("lstm_2048", (8192,), 2048),
    ),
    "vgg16": (
        f"VGG16 ImageNet 224x224 (13 conv + 3 FC), 138.3M weights, 15.47 GMACs ({_T37}: 136M)",
        lambda: _vgg_imagenet("vgg16", "vgg16"),
    ),
    "vgg19": (
        f"VGG19 ImageNet 224x224 (16 conv + 3 FC), 143.7M weights, 19.6 GMACs ({_T37}: 141M)",
        lambda: _vgg_imagenet("vgg19", "vgg19"),
    ),
    "panther_vgg16_cifar100": (
        "PANTHER VGG16 on CIFAR-100, layer by layer as diss. Table 5.4 (line 1495) lists it",
        _panther_vgg16,
    ),
    "panther_mlp_l4": (
        "PANTHER MLP-L4 (SVHN): FC 1024-256-512-512-10 as diss. Table 5.4 (line 1495) lists it",
        _panther_mlp_l4,
    ),
    **{
        name: (
            f"TIMON {name[6:].replace('_', '-')} GEMM M={m} N={n} K={k}, diss. Table 6.2 (line 1938)",
            (lambda name=name: _timon_gemm(name)),
        )
        for name, (m, n, k) in TIMON_GEMMS.items()
    },
    **{
        name: (
            f"TIMON {name[6:].replace('_', '-')} conv {w}x{w}, {r}x{r}, {c}->{k} (stride 1, same), "
            "diss. Table 6.2 (line 1938)",
            (lambda name=name: _timon_conv(name)),
        )
        for name, (w, r, c, k) in TIMON_CONVS.items()
    },
    "trannsformer_mnist": (
        "TraNNsformer MNIST MLP 784-1200-1200-10 (2,392,800 synapses), diss. Table 4.1 (line 1115)",
        lambda: _mlp("trannsformer_mnist", (784, 1200, 1200, 10)),
    ),
    "trannsformer_svhn": (
        "TraNNsformer SVHN MLP 1024-1200-1200-1200-10 (4,120,800 synapses), diss. Table 4.1 (line 1115)",
        lambda: _mlp("trannsformer_svhn", (1024, 1200, 1200, 1200, 10)),
    ),
    "trannsformer_cifar10": (
        "TraNNsformer CIFAR-10 MLP 1024-1200-1200-1200-10 (4,120,800 synapses), diss. Table 4.1 (line 1115)",
        lambda: _mlp("trannsformer_cifar10", (1024, 1200, 1200, 1200, 10)),
    ),
    "maxnvm_lenet5": (
        "MaxNVM LeNet5 (MNIST, Ares model): 600,810 parameters with biases, maxnvm Table 2 (line 137)",
        _maxnvm_lenet5,
    ),
    "maxnvm_vgg12": (
        "MaxNVM VGG12 (CIFAR-10, Ares model): 7,899,840 weights, maxnvm Table 2 (line 137)",
        _maxnvm_vgg12,
    ),
    "maxnvm_vgg16": (
        "MaxNVM VGG16 (ImageNet, Keras): 138.3M weights (maxnvm Table 2, line 137: 138.08M)",
        lambda: _vgg_imagenet("maxnvm_vgg16", "vgg16"),
    ),
    "maxnvm_resnet50": (
        "MaxNVM ResNet50 v1 (ImageNet, Keras): 25.5M weights, 3.9 GMACs (maxnvm Table 2, line 137: 24.59M)",
        lambda: _resnet50("maxnvm_resnet50"),
    ),
}

# Published parameter counts: name -> (count, whether it includes biases, source).
PUBLISHED_PARAMETERS: dict[str, tuple[int, bool, str]] = {
    "mlp_l4": (5_000_000, False, _T37),
    "mlp_l5": (21_000_000, False, _T37),
    "nmt_l3": (91_000_000, False, _T37),
    "nmt_l5": (125_000_000, False, _T37),
    "biglstm": (856_000_000, False, _T37),
    "lstm_2048": (554_000_000, False, _T37),
    "vgg16": (136_000_000, False, _T37),
    "vgg19": (141_000_000, False, _T37),
    "trannsformer_mnist": (2_392_800, False, "diss. Table 4.1 synapses"),
    "trannsformer_svhn": (4_120_800, False, "diss. Table 4.1 synapses"),
    "trannsformer_cifar10": (4_120_800, False, "diss. Table 4.1 synapses"),
    "maxnvm_lenet5": (600_810, True, "maxnvm Table 2"),
    "maxnvm_vgg12": (7_899_840, False, "maxnvm Table 2"),
    "maxnvm_vgg16": (138_084_352, False, "maxnvm Table 2"),
    "maxnvm_resnet50": (24_585_472, False, "maxnvm Table 2"),
}


def catalog() -> dict[str, str]:
    """Every workload name with a one-line description and its source."""
    return {name: description for name, (description, _) in _CATALOG.items()}


def _key(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    return key[len("puma_") :] if key.startswith("puma_") and key[len("puma_") :] in _CATALOG else key


def get(name: str) -> Network:
    """The workload called ``name`` (see :func:`catalog`).

    Raises:
        ValueError: unknown name; the message lists the valid names.
    """
    key = _key(name) if isinstance(name, str) else None
    if key not in _CATALOG:
        raise ValueError(f"unknown workload {name!r}; valid names: {', '.join(_CATALOG)}")
    return _CATALOG[key][1]()
