"""Method names -> a model plus the papers' settings for each data set.

``make_method("FcDEC-DA", "mnist")`` returns a configured ``DEC``;
``method_params`` returns the resolved settings as a dict, so the command
line can show and override every one of them.

Sources (docs/algorithms.md): DEC-keras (``DEC``), IDEC's code (``IDEC``),
DEC-DA's ``run_exp.py`` (the eight Fc/Conv methods), the official DCN code
(``DCN``). Data sets without a paper setting (``digits``, ``synthetic``,
user files) get settings measured here, sized for small data.
"""
from .datasets import DATASETS
from .options import OPTIMIZERS, PRECISIONS, PRETRAIN_SCHEDULES, PROTOCOLS, SCALES  # noqa: F401 (re-exported)

__all__ = ["METHODS", "PRECISIONS", "PRETRAIN_SCHEDULES", "PROTOCOLS", "OPTIMIZERS", "SCALES", "method_params", "make_method",
           "method_family", "pretrain_signature"]

_DECDA = {"FcDEC": ("fc", False), "FcIDEC": ("fc", True),      # (arch, IDEC)
          "ConvDEC": ("conv", False), "ConvIDEC": ("conv", True)}
METHODS = (["DEC", "IDEC"]
           + [m + s for s in ("", "-DA") for m in _DECDA]
           + ["DCN", "ConvDCN", "DCN-DA", "ConvDCN-DA", "N2D"])
# N2D's code (rymc/n2d, run.sh): its dense autoencoder (Keras's Glorot
# initialiser) pretrained 1,000 Adam epochs in batches of 256, then UMAP to
# n_clusters dimensions with 20 neighbours and min_dist 0
N2D_PRETRAIN = {"pretrain_epochs": 1000, "init": "glorot_uniform"}   # and Adam: the default


PAPER_SETS = ("mnist", "mnist-test", "fmnist", "usps", "reuters10k", "stl")
# DEC's own update interval (the estimator's default) on MNIST and Fashion-MNIST;
# DEC-DA's run_exp.py and the small-data rules use this one elsewhere
UPDATE_INTERVAL = 30
DEC_INTERVAL_SETS = ("mnist", "fmnist")
DEC_KERAS_PRETRAIN = {"mnist": (300, "sgd"), "fmnist": (300, "sgd"), "reuters10k": (50, "sgd"),
                      "usps": (50, "adam"), "stl": (10, "adam"), "mnist-test": (300, "sgd")}
VS_INIT_SETS = ("mnist", "mnist-test", "fmnist", "reuters10k")

# Small data (no paper setting: digits, synthetic, user files). The measurements
# behind each rule are in bench/README.md, "Small data". Adam pretraining: SGD(1.0)
# needs far more steps when an epoch is a few batches. DCN: labels settle long
# before 20,000 iterations. DEC family: keep the decoder (IDEC's loss, gamma 0.1)
# and cluster with Adam(1e-3), which holds or improves the AE + k-means start
# where DEC's loss alone drifts from it; -DA methods augment their pretraining
# only, since augmented clustering collapses clusters on a few thousand samples.
# DCN family: lamda='auto' (models/dcn.py). --protocol paper drops these rules.
SMALL_DATA = {"pretrain_epochs": 300, "pretrain_optimizer": "adam"}
SMALL_DATA_DCN_MAXITER = 1000
SMALL_DATA_DEC = {"gamma": 0.1, "optimizer": "adam", "lr": 1e-3}
# DCN's synthetic set: a 2-D latent space, as in the DCN paper, on DEC's dense
# network (bench/README.md compares the sizes).
SYNTHETIC = {"embedding_dim": 2, "pretrain_epochs": 50, "pretrain_optimizer": "adam"}
SYNTHETIC_DCN = {"lr": 5e-4, "maxiter": 2000}     # 51 epochs of 40 mini-batches
# CPU-sized schedules on a paper data set, each the default under --protocol
# default only where its mean over 3 seeds met the paper protocol's published
# mean (where none is published: beat the paper schedule's measured mean on
# the same seeds); --protocol paper keeps the paper's schedule.
# FcDEC on MNIST: 40 denoising epochs in batches of 128 (0.949 mean, 0.94 in
# a median 12.8 minutes on an AVX2-only host; docs/results.md, "FcDEC on
# MNIST in 20 minutes without bfloat16: 40 denoising epochs").
# DCN on MNIST: 50 such epochs (measured at 50, not 40), started from a
# Gaussian mixture, which ended higher than the k-means start on each of 3
# seeds (0.943 against 0.917 mean; docs/results.md, "MNIST: DCN and BRB").
# DCN on Fashion-MNIST: the same (no published figure): 0.585 mean against
# 0.566 with the paper's 300 clean epochs and k-means, higher on each of
# seeds 0-2 (docs/results.md, "Fashion-MNIST with the defaults").
FAST_MNIST = {"pretrain_noise": 0.2, "batch_size": 128}
FAST_DCN = {**FAST_MNIST, "pretrain_epochs": 50, "cluster_init": "gmm"}
FASTER = {("FcDEC", "mnist"): {**FAST_MNIST, "pretrain_epochs": 40},
          ("DCN", "mnist"): FAST_DCN, ("DCN", "fmnist"): FAST_DCN}


def method_family(method):
    """'dec', 'dcn' or 'n2d' for a method name; ValueError for an unknown one."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    return "dcn" if "DCN" in method else "n2d" if method == "N2D" else "dec"


def method_params(method, dataset=None, protocol="default"):
    """The estimator parameters of ``method`` on ``dataset`` (a name or path).

    ``protocol``: 'default' applies the small-data rules on data without a
    paper setting (digits, synthetic, your files) and the measured CPU-sized
    schedules of ``FASTER`` (FcDEC on MNIST; DCN on MNIST and Fashion-MNIST,
    from a Gaussian mixture); 'paper' keeps every method in
    its paper's form everywhere (DEC without its decoder and with SGD, -DA
    methods augmenting their clustering phase, DCN with lamda 1, the papers'
    pretraining). Elsewhere on the papers' data sets the two are the same.

    Returns a dict of keyword arguments for ``DEC`` or ``DCN``: the settings
    that differ from the estimator's defaults (its signature has the rest).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}: use one of {', '.join(PROTOCOLS)}")
    family = method_family(method)
    paper = dataset in PAPER_SETS
    aug = method.endswith("-DA")
    base = method[:-3] if aug else method
    p = dict(N2D_PRETRAIN) if family == "n2d" else {"augment": aug, "aug_pretrain": aug}
    if family == "dec" and dataset not in DEC_INTERVAL_SETS:
        p["update_interval"] = UPDATE_INTERVAL
    if family == "n2d":
        pass                  # no clustering phase: only the pretraining above differs
    elif family == "dcn":
        p.update(arch="conv" if base.startswith("Conv") else "fc",
                 pretrain_optimizer="sgd" if base == "DCN" else "adam",
                 pretrain_epochs=300 if base == "DCN" else 500)
    elif base in ("DEC", "IDEC"):
        epochs, opt = DEC_KERAS_PRETRAIN.get(dataset, (300, "sgd"))
        p.update(arch="fc", pretrain_epochs=epochs, pretrain_optimizer=opt)
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
        elif idec:
            p["lr"] = 1.0
        if idec:
            p.update(gamma=0.1, keep_decoder=True)
    if paper and dataset not in VS_INIT_SETS:  # elsewhere DEC's VarianceScaling(1/3)
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
    if dataset in DATASETS:                   # every named data set
        p["scale"] = "none"                   # already scaled as in the papers
    if dataset == "synthetic":
        p.update(SYNTHETIC, **(SYNTHETIC_DCN if family == "dcn" else {}))
        p.pop("lamda", None)        # DCN's own weight, as measured (its paper: a large one)
    return p


def _small_data_rules(p, family, aug):
    """The small-data rules (see SMALL_DATA_DEC), applied to ``p`` in place."""
    if family == "dec":                   # keep the decoder (it follows gamma)
        p.update(SMALL_DATA_DEC)
        p.pop("momentum", None)
        p.pop("keep_decoder", None)
    elif family == "dcn":                 # weigh the k-means term by its start
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


def estimator_classes():
    """family -> estimator class (imports TensorFlow), DEC's first."""
    from .models import DCN, DEC, N2D
    return {"dec": DEC, "dcn": DCN, "n2d": N2D}


def make_method(method, dataset=None, protocol="default", **overrides):
    """A configured, unfitted estimator for ``method`` on ``dataset``
    (``protocol``: see ``method_params``)."""
    params = method_params(method, dataset, protocol)
    params.update(overrides)
    return estimator_classes()[method_family(method)](**params)
