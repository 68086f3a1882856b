"""Method names -> a model plus the papers' settings for each data set.

``make_method("FcDEC-DA", "mnist")`` returns a configured ``DEC``;
``method_params`` returns the resolved settings as a dict, so the command
line can show and override every one of them.

Sources (docs/algorithms.md): DEC-keras (``DEC``), IDEC's code (``IDEC``),
DEC-DA's ``run_exp.py`` (the eight Fc/Conv methods), the official DCN code
(``DCN``). Data sets without a paper setting (``digits``, ``synthetic``,
user files) get settings measured here, sized for small data.
"""
from .options import OPTIMIZERS, PRECISIONS, PRETRAIN_SCHEDULES, PROTOCOLS, SCALES  # noqa: F401 (re-exported)

__all__ = ["METHODS", "PRECISIONS", "PRETRAIN_SCHEDULES", "PROTOCOLS", "OPTIMIZERS", "SCALES", "method_params", "make_method",
           "method_family", "pretrain_signature"]

_DECDA = {"FcDEC": ("fc", False), "FcIDEC": ("fc", True),      # (arch, IDEC)
          "ConvDEC": ("conv", False), "ConvIDEC": ("conv", True)}
METHODS = (["DEC", "IDEC"]
           + [m + s for s in ("", "-DA") for m in _DECDA]
           + ["DCN", "ConvDCN", "DCN-DA", "ConvDCN-DA"])


# every named data set (deckeras.datasets.DATASETS) comes scaled as its papers did
DATASET_NAMES = ("mnist", "mnist-test", "fmnist", "usps", "reuters10k", "stl", "digits", "synthetic")
PAPER_SETS = ("mnist", "mnist-test", "fmnist", "usps", "reuters10k", "stl")
DEC_UPDATE_INTERVAL = {"mnist": 140, "fmnist": 140}          # others: 30
DEC_KERAS_PRETRAIN = {"mnist": (300, "sgd"), "fmnist": (300, "sgd"), "reuters10k": (50, "sgd"),
                      "usps": (50, "adam"), "stl": (10, "adam"), "mnist-test": (300, "sgd")}
VS_INIT_SETS = ("mnist", "mnist-test", "fmnist", "reuters10k")

# Measured here on small data (bench/quality_small.sh, bench/README.md): Adam pretraining
# converges in far fewer steps than SGD(1.0) when an epoch is only a few batches.
SMALL_DATA = {"pretrain_epochs": 300, "pretrain_optimizer": "adam", "update_interval": 30}
# DCN on digits: labels stopped changing by 1,000 iterations (of 20,000 measured).
SMALL_DATA_DCN_MAXITER = 1000
# Small data, measured here (bench/README.md, "Small data"): DEC's clustering
# phase without the decoder drifts from its AE + k-means start (digits, 5 seeds:
# 0.811 -> 0.765), while keeping the decoder (IDEC's loss, gamma 0.1) takes the
# same starts to 0.844 with Adam(1e-3) (0.852 with IDEC's SGD(0.1, 0.99); but from
# a weak start FcIDEC's SGD(1.0) step merged every sample into one cluster and
# gave NaN on iris, where Adam kept all clusters). Augmenting the clustering
# phase collapses clusters on 1,797 samples whether they are 8x8 digits
# (FcDEC-DA 0.815 -> 0.536, 3 seeds)
# or 28x28 MNIST digits (0.679 -> 0.398), though it is DEC-DA's best setting on
# 70,000. So on data without a paper setting every DEC-family method keeps the
# decoder and clusters with Adam(1e-3), and -DA methods augment their
# pretraining only. The DCN family weighs its k-means term by its start
# (lamda='auto', models/dcn.py): with lamda 1 that term was 57-69x the
# reconstruction error for the dense network on digits and 394-604x for the
# conv one, whose clustering then lost ACC (3 seeds, 0.793 -> 0.775; with
# lamda 0.01, about 5x, 0.797). --protocol paper brings back the papers' forms.
SMALL_DATA_DEC = {"gamma": 0.1, "keep_decoder": None, "optimizer": "adam", "lr": 1e-3}
# DCN's synthetic set: a 2-D latent space, as in the DCN paper, on DEC's dense
# network; measured here (bench/README.md): the wide network with batch 256
# initialised k-means far better than small ones ([64, 32], [256, 128]).
SYNTHETIC = {"embedding_dim": 2, "pretrain_epochs": 50, "pretrain_optimizer": "adam"}
SYNTHETIC_DCN = {"lr": 5e-4, "maxiter": 2000,     # 51 epochs of 40 mini-batches
                 "lamda": 1.0}                    # as measured (DCN's paper: a large weight)
# CPU-sized schedules on a paper data set, each the default under --protocol
# default only where its mean over 3 seeds met the paper protocol's published
# mean (bench/README.md, "FcDEC on MNIST in 15 minutes"). FcDEC on MNIST: 120
# epochs of denoising pretraining (masking noise 0.2) instead of 500 clean ones;
# 3 seeds: ACC 0.960 / 0.938 / 0.959, mean 0.952 (published 0.912), 15-16
# minutes a run on 2 AVX-512 cores. --protocol paper keeps the paper's 500.
FASTER = {("FcDEC", "mnist"): {"pretrain_epochs": 120, "pretrain_noise": 0.2}}


def method_family(method):
    """'dec' or 'dcn' for a method name; ValueError for an unknown one."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    return "dcn" if "DCN" in method else "dec"


def method_params(method, dataset=None, protocol="default"):
    """The estimator parameters of ``method`` on ``dataset`` (a name or path).

    ``protocol``: 'default' applies the small-data rules on data without a
    paper setting (digits, synthetic, your files) and the measured CPU-sized
    schedules of ``FASTER`` (FcDEC on MNIST); 'paper' keeps every method in
    its paper's form everywhere (DEC without its decoder and with SGD, -DA
    methods augmenting their clustering phase, DCN with lamda 1, the papers'
    pretraining). Elsewhere on the papers' data sets the two are the same.

    Returns a dict of keyword arguments for ``DEC`` or ``DCN``.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}: use one of {', '.join(PROTOCOLS)}")
    family = method_family(method)
    paper = dataset in PAPER_SETS
    aug = method.endswith("-DA")
    base = method[:-3] if aug else method
    p = {"augment": aug, "aug_pretrain": aug, "batch_size": 256, "tol": 1e-3,
         "maxiter": 20000,
         "update_interval": DEC_UPDATE_INTERVAL.get(dataset, 30) if paper else SMALL_DATA["update_interval"]}
    if family == "dcn":
        p.update(arch="conv" if base.startswith("Conv") else "fc", lamda=1.0, init_count=100.0,
                 optimizer="adam", lr=1e-4, update_interval=None, tol=0.0,
                 pretrain_optimizer="sgd" if base == "DCN" else "adam",
                 pretrain_epochs=300 if base == "DCN" else 500)
    elif base in ("DEC", "IDEC"):
        epochs, opt = DEC_KERAS_PRETRAIN.get(dataset, (300, "sgd"))
        p.update(arch="fc", pretrain_epochs=epochs, pretrain_optimizer=opt,
                 optimizer="sgd", lr=0.01)
        if base == "IDEC":   # IDEC's code: SGD(0.1, 0.99); Adam on MNIST
            p.update(gamma=0.1, keep_decoder=True, lr=0.1, momentum=0.99)
            if dataset in ("mnist", "mnist-test"):
                p.update(optimizer="adam", lr=1e-3)
        if dataset == "reuters10k":
            p["update_interval"] = 3 if base == "IDEC" else 20
    else:                    # the DEC-DA methods
        arch, idec = _DECDA[base]
        p.update(arch=arch, pretrain_epochs=500,
                 pretrain_optimizer="adam" if arch == "conv" else "sgd")
        if arch == "conv":
            p.update(optimizer="adam", lr=1e-3)
        else:
            p.update(optimizer="sgd", lr=1.0 if idec else 0.01)
        if idec:
            p.update(gamma=0.1, keep_decoder=True)
    if dataset in VS_INIT_SETS or not paper:
        p["init"] = None                      # DEC's VarianceScaling(1/3)
    else:
        p["init"] = "glorot_uniform"
    if not paper:
        p.update(pretrain_epochs=SMALL_DATA["pretrain_epochs"],
                 pretrain_optimizer=SMALL_DATA["pretrain_optimizer"])
        if family == "dcn":
            p["maxiter"] = SMALL_DATA_DCN_MAXITER
        if protocol == "default":
            _small_data_rules(p, family, aug)
    if protocol == "default":
        p.update(FASTER.get((method, dataset), {}))
    if dataset in DATASET_NAMES:
        p["scale"] = "none"                   # already scaled as in the papers
    if dataset == "synthetic":
        p.update(SYNTHETIC, **(SYNTHETIC_DCN if family == "dcn" else {}))
    return p


def _small_data_rules(p, family, aug):
    """The small-data rules (see SMALL_DATA_DEC), applied to ``p`` in place."""
    if family == "dec":                   # keep the decoder (it follows gamma)
        p.update(SMALL_DATA_DEC)
        p.pop("momentum", None)
    else:                                 # weigh the k-means term by its start
        p["lamda"] = "auto"
    if aug:                               # augmented pretraining, clean clustering
        p["augment"] = False


PRETRAIN_KEYS = ("arch", "dims", "filters", "embedding_dim", "init", "pretrain_epochs",
                 "pretrain_optimizer", "pretrain_lr", "batch_size", "momentum", "random_state")


def pretrain_signature(params):
    """The estimator parameters that decide the pretrained autoencoder: two
    models with equal signatures (on the same data) pretrain identically."""
    sig = {k: params.get(k) for k in PRETRAIN_KEYS}
    if sig["pretrain_optimizer"] != "sgd":   # momentum only shapes SGD pretraining
        sig.pop("momentum")
    pre = params.get("aug_pretrain")
    sig["aug_pretrain"] = bool(params.get("augment") if pre is None else pre)
    if sig["aug_pretrain"]:            # the augmentation's ranges shape what it learns
        sig["rotation"], sig["shift"] = params.get("rotation", 10.0), params.get("shift", 0.1)
    from .host import resolve_precision
    precision = resolve_precision(params.get("precision") or "auto")   # 'auto' as it resolves here
    if precision != "float32":         # float32 and the other defaults keep earlier caches valid
        sig["precision"] = precision
    for key, default in (("pretrain_schedule", "constant"), ("scale", "none"),
                         ("pretrain_noise", 0.0)):
        if params.get(key) not in (None, default):
            sig[key] = params[key]
    return sig


def make_method(method, dataset=None, protocol="default", **overrides):
    """A configured, unfitted estimator for ``method`` on ``dataset``
    (``protocol``: see ``method_params``)."""
    from .models import DCN, DEC
    params = method_params(method, dataset, protocol)
    params.update(overrides)
    cls = DCN if method_family(method) == "dcn" else DEC
    return cls(**params)
