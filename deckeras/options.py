"""Option values shared by several layers of the package (the estimators,
the method table and the command line). This module imports nothing, so
every other module can import it without reaching up (the standard
library's ``numbers`` aside)."""
from numbers import Integral, Real

# Keras dtype policies offered (--precision): weights stay float32;
# 'mixed_bfloat16' computes in bfloat16 (bench/precision.py, bench/README.md);
# 'mixed_float16' in float16 with Keras's loss scaling, for GPUs; 'auto'
# (the default) is mixed_bfloat16 on a CPU with bfloat16 hardware and no GPU,
# float32 elsewhere (host.resolve_precision).
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
PRETRAIN_SCHEDULES = ("constant", "cosine")   # --pretrain-schedule
# Method settings (--protocol): 'default' is the papers' settings on their data
# sets (with the measured faster schedules of methods.FASTER) and the small-data
# rules elsewhere; 'paper' drops both, so every method runs in its paper's form
# on any data (methods.method_params).
PROTOCOLS = ("default", "paper")
OPTIMIZERS = ("sgd", "adam")
# Input scaling (--scale): per feature to [0, 1], to mean 0 / std 1, or none.
# The named data sets keep their papers' scaling ('none'); anything else gets
# the estimators' default, 'minmax', so raw features do not blow up training.
SCALES = ("none", "minmax", "standard")
# How the clusters start (cluster_init): k-means on the embedding (every
# paper's), or a Gaussian mixture with full covariances started from that
# k-means (not in the papers; measured in bench/README.md, "Fashion-MNIST with a
# CPU-sized schedule; starting from a Gaussian mixture").
CLUSTER_INITS = ("kmeans", "gmm")
# Channels of an image folder (--color): rgb when any image has colour, or forced.
COLORS = ("auto", "grey", "rgb")

# Every estimator parameter's constraint, checked in one place
# (``DeepClusterer._check_params``) before any work, and read by the command
# line for its types and choices: numbers with scikit-learn's ``check_scalar``
# as (type, min, max, boundaries included, None allowed), strings by options.
SCALAR_PARAMS = {
    "n_clusters": (Integral, 1, None, "left", False),
    "embedding_dim": (Integral, 1, None, "left", False),
    "batch_size": (Integral, 1, None, "left", False),
    "maxiter": (Integral, 0, None, "left", False),
    "update_interval": (Integral, 1, None, "left", True),
    "tol": (Real, 0, None, "left", False),
    "pretrain_epochs": (Integral, 0, None, "left", False),
    "pretrain_lr": (Real, 0, None, "neither", True),
    "lr": (Real, 0, None, "neither", True),
    "momentum": (Real, 0, 1, "left", False),
    "kmeans_n_init": (Integral, 1, None, "left", False),
    "rotation": (Real, 0, 180, "both", False),
    "shift": (Real, 0, 1, "both", False),
    "pretrain_noise": (Real, 0, 1, "left", False),
    "brb_interval": (Integral, 1, None, "left", True),
    "brb_alpha": (Real, 0, 1, "both", False),
    "brb_sample": (Integral, 1, None, "left", False),
}
# Network sizes, lists of whole numbers >= 1: (how many, None allowed);
# the command line takes them as several numbers (--dims 500 500 2000).
SIZE_PARAMS = {"dims": (None, True), "filters": (3, False)}
OPTION_PARAMS = {"arch": ("fc", "conv"), "optimizer": OPTIMIZERS,
                 "pretrain_optimizer": OPTIMIZERS, "pretrain_schedule": PRETRAIN_SCHEDULES,
                 "precision": PRECISIONS, "scale": SCALES,
                 "cluster_init": CLUSTER_INITS}
