"""Command line: ``main.py`` / ``deckeras`` (one method, one data set) and
``run_exp.py`` (see ``experiment.py``).

A user mistake ends with one line on stderr and exit code 2, never a
traceback; nothing is written before the inputs have been checked.
"""
import argparse
import os
import sys

from .console import import_tensorflow
from .methods import METHODS  # light: no TensorFlow
from .options import COLORS, PRECISIONS, PRETRAIN_SCHEDULES, PROTOCOLS, SCALES

USER_ERRORS = (ValueError, FileNotFoundError, IsADirectoryError, PermissionError, ConnectionError)

# flag -> estimator parameter, for the flags that map one to one
PARAM_FLAGS = {"pretrain_epochs": "pretrain_epochs", "optimizer": "optimizer", "lr": "lr",
               "batch_size": "batch_size", "maxiter": "maxiter",
               "update_interval": "update_interval", "tol": "tol", "gamma": "gamma",
               "alpha": "alpha", "lamda": "lamda", "init_count": "init_count",
               "pretrain_optimizer": "pretrain_optimizer", "pretrain_lr": "pretrain_lr",
               "pretrain_schedule": "pretrain_schedule", "pretrain_noise": "pretrain_noise",
               "momentum": "momentum", "embedding_dim": "embedding_dim",
               "precision": "precision", "jit": "jit_compile", "scale": "scale",
               "tensorboard": "tensorboard_dir"}
DEC_ONLY, DCN_ONLY = ("gamma", "alpha"), ("lamda", "init_count")


def add_common_flags(p):
    """Flags shared by main.py and run_exp.py; every default is None so that
    only the flags a user gives override the method's settings."""
    p.add_argument("--protocol", choices=PROTOCOLS,
                   help="default: the papers' settings on their data sets (FcDEC on MNIST: "
                        "120 denoising pretraining epochs, measured to match), the small-data "
                        "rules elsewhere (digits, synthetic, your files); paper: every method "
                        "in its paper's form on any data (docs/algorithms.md)")
    p.add_argument("--pretrain-epochs", type=int, help="autoencoder pretraining epochs")
    p.add_argument("--pretrained-weights", help="autoencoder weights (.h5): skip pretraining")
    p.add_argument("--optimizer", choices=["sgd", "adam"], help="clustering-phase optimizer")
    p.add_argument("--lr", type=float, help="clustering-phase learning rate")
    p.add_argument("--momentum", type=float, help="SGD momentum (default 0.9)")
    p.add_argument("--pretrain-optimizer", choices=["sgd", "adam"])
    p.add_argument("--pretrain-lr", type=float)
    p.add_argument("--pretrain-schedule", choices=PRETRAIN_SCHEDULES,
                   help="pretraining learning rate: constant (the papers') or cosine-decayed to 0")
    p.add_argument("--pretrain-noise", type=float, metavar="P",
                   help="denoising pretraining: zero each input value with probability P "
                        "(default 0: clean inputs, as in DEC-keras and DEC-DA)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--maxiter", type=_int_like, help="maximum clustering iterations")
    p.add_argument("--update-interval", "-i", type=int, help="iterations between target updates")
    p.add_argument("--tol", type=float, help="stop when the fraction of changed labels is below this")
    p.add_argument("--gamma", type=float, help="(I)DEC: weight of the clustering term")
    p.add_argument("--alpha", type=float, help="DEC: Student's t degrees of freedom")
    p.add_argument("--lamda", type=_lamda,
                   help="DCN: weight of the k-means term, or 'auto': the weight that makes it "
                        "start at 5x the reconstruction error (the small-data default)")
    p.add_argument("--init-count", type=float, help="DCN: starting count of each centre")
    p.add_argument("--embedding-dim", type=int)
    p.add_argument("--precision", choices=PRECISIONS,
                   help="compute dtype policy (default auto: mixed_bfloat16 on CPUs with "
                        "AVX512-BF16 or AMX and no GPU, float32 elsewhere; bench/README.md)")
    p.add_argument("--scale", choices=SCALES,
                   help="input scaling per feature: minmax to [0, 1], standard, or none "
                        "(default: none for the named data sets, which come scaled as in "
                        "their papers; minmax for your own files)")
    p.add_argument("--jit", action="store_true", default=None,
                   help="compile train steps with XLA (faster clustering steps for dense "
                        "networks on this CPU, slower conv steps: bench/README.md)")
    p.add_argument("--aug-pretrain", action="store_true", default=None,
                   help="pretrain on augmented data (implied by -DA methods)")
    p.add_argument("--aug-cluster", action="store_true", default=None,
                   help="cluster with augmentation (implied by -DA methods on the papers' data "
                        "sets; on other data they augment pretraining only, unless "
                        "--protocol paper)")
    p.add_argument("--n-clusters", type=_n_clusters,
                   help="a number, or 'auto' to choose it on the pretrained embedding by the "
                        "silhouette score (default: the data set's number of classes)")
    p.add_argument("--label-column", help="CSV files: the column holding the labels "
                   "(default: one named label, labels, y, target or class)")
    p.add_argument("--image-size", type=int,
                   help="image folders: resize every image to this many pixels square")
    p.add_argument("--color", choices=COLORS,
                   help="image folders: grey (1 channel), rgb, or auto (rgb when any image "
                        "has colour; the default)")
    p.add_argument("--data-dir", help="where named data sets live (default $DECKERAS_DATA or ./data)")
    p.add_argument("--distribute", choices=["none", "mirrored", "multiworker"],
                   help="none: one device (default); mirrored: all GPUs of this machine (or "
                        "its CPU); multiworker: several machines, each worker running the same "
                        "command with its own TF_CONFIG (README: More devices and machines)")
    p.add_argument("--tensorboard", metavar="DIR",
                   help="also write the losses, delta-label and ACC/NMI/ARI as TensorBoard "
                        "scalars into DIR (run_exp.py: DIR/<method>/<dataset>/trial<k>)")
    p.add_argument("--verbose", "-v", type=int, default=1,
                   help="0: no progress; 1 (default): a progress bar with ETA on a terminal, "
                        "a line every few epochs or updates elsewhere")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage is in --help)."""

    def error(self, message):
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def main_parser(prog="main.py"):
    p = Parser(
        prog=prog, description="Train or test one deep clustering method on one data set.",
        epilog=f"Example: {'python main.py' if prog == 'main.py' else prog} --method FcDEC --dataset digits")
    p.add_argument("--method", default="FcDEC", choices=METHODS, metavar="METHOD",
                   help="one of: " + ", ".join(METHODS))
    p.add_argument("--dataset", default="mnist",
                   help="mnist, mnist-test, fmnist, usps, reuters10k, stl, digits, synthetic, "
                        "a path to .npy/.npz/.csv/.h5, or a folder of images (one subfolder "
                        "per class gives labels)")
    p.add_argument("--save-dir", "-d", help="output folder (default results/<method>-<dataset>)")
    p.add_argument("--testing", "-t", action="store_true", help="test saved weights, no training")
    p.add_argument("--weights", "-w", help="weights to test (default <save-dir>/model_final.h5)")
    p.add_argument("--seed", type=int, help="random seed (default: drawn, recorded in config.json)")
    p.add_argument("--restart", action="store_true",
                   help="start over: drop the checkpoints in --save-dir instead of resuming")
    add_common_flags(p)
    return p


def data_options(args):
    """The flags that say how to read the data (``load_dataset``'s options)."""
    opts = {"label_column": getattr(args, "label_column", None),
            "image_size": getattr(args, "image_size", None), "color": getattr(args, "color", None)}
    return {k: v for k, v in opts.items() if v is not None}


def _or_auto(convert, what):
    """An argparse type: 'auto', or ``convert(s)`` (``what`` names it in the error)."""
    def parse(s):
        if s == "auto":
            return s
        try:
            return convert(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what} or 'auto', got {s!r}") from None
    return parse


def _at_least_one(s):
    k = int(s)
    if k < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {k}")
    return k


_n_clusters = _or_auto(_at_least_one, "a whole number")
_lamda = _or_auto(float, "a number")


def _int_like(s):
    return int(float(s))   # DEC-DA passes 2e4


def resolve_params(method, dataset, args, seed):
    """The method's settings for ``dataset`` with every given flag applied."""
    from .methods import method_family, method_params
    family = method_family(method)
    protocol = getattr(args, "protocol", None) or "default"
    params = method_params(method, dataset, protocol)
    for flag, name in PARAM_FLAGS.items():
        value = getattr(args, flag, None)
        if value is None:
            continue
        if (family == "dcn" and flag in DEC_ONLY) or (family == "dec" and flag in DCN_ONLY):
            raise ValueError(f"--{flag.replace('_', '-')} does not apply to {method}")
        params[name] = value
    if getattr(args, "aug_pretrain", None):
        params["aug_pretrain"] = True
    if getattr(args, "aug_cluster", None):
        params["augment"] = True
    if family == "dec" and args.gamma is not None and "keep_decoder" not in params:
        params["keep_decoder"] = args.gamma > 0
    distribute = getattr(args, "distribute", None)
    if distribute not in (None, "none"):
        params["distribute"] = distribute
    # make_method takes 'protocol' itself: the settings it starts from before these
    params.update(n_clusters=args.n_clusters, random_state=seed, verbose=args.verbose,
                  protocol=protocol)
    return params


def start_distribution(args):
    """Check ``--distribute`` before any work and make a multi-worker
    strategy first, as TensorFlow requires; every worker needs the same seed.
    Starts TensorFlow (quietly) in any case."""
    multiworker = getattr(args, "distribute", None) == "multiworker"
    if multiworker:
        from .distribute import tf_config
        tf_config()
        if getattr(args, "seed", 0) is None:
            raise ValueError("--distribute multiworker needs --seed: every worker must draw the "
                             "same initial weights and mini-batches")
    import_tensorflow()
    if multiworker:
        from .distribute import multiworker_strategy
        multiworker_strategy()


def format_metrics(m):
    return "  ".join(f"{k} {m[k]:.4f}" for k in ("acc", "nmi", "ari") if k in m)


def guarded(fn):
    """Run ``fn()``; turn user mistakes into one line on stderr and exit code 2."""
    try:
        return fn() or 0
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        # deckeras.models.base.Interrupted: a checkpoint was written first
        print(f"interrupted by {e}" if str(e) else
              "interrupted: finished files are kept; run the same command again to resume",
              file=sys.stderr)
        return 128 + getattr(e, "signum", 2)
    except Exception as e:
        tf = sys.modules.get("tensorflow")
        if tf is None or not isinstance(e, tf.errors.OpError):
            raise
        # a worker that died or cannot be reached: collective ops fail
        print(f"error: distributed training stopped: a worker failed or cannot be reached "
              f"({type(e).__name__}: {op_error_cause(e)})", file=sys.stderr)
        return 2


def op_error_cause(e):
    """The line of a TensorFlow OpError's text that says what went wrong
    (not "Graph execution error:", the node trace or gRPC's details)."""
    skip = ("Graph execution error", "Detected at node", "[[", "File ", "Additional GRPC",
            ":UNKNOWN", "Function call stack", "{{")
    lines = [l.strip() for l in str(e).splitlines()]
    causes = [l for l in lines if l and not l.startswith(skip)]
    return (causes or [type(e).__name__])[0][:300]


def main(argv=None, prog="main.py"):
    args = main_parser(prog).parse_args(argv)

    def go():
        import random
        start_distribution(args)         # TF_CONFIG is checked before TensorFlow starts
        from . import runs
        save_dir = args.save_dir or os.path.join("results", f"{args.method}-{os.path.basename(args.dataset)}")
        if args.testing:
            weights = args.weights or os.path.join(save_dir, "model_final.h5")
            m, labels = runs.test(args.method, args.dataset,
                                  resolve_params(args.method, args.dataset, args, args.seed),
                                  weights, args.data_dir, data_options(args))
            print(f"{args.method} on {args.dataset} ({len(labels)} samples, weights {weights}): "
                  + (format_metrics(m) or "no labels to score"))
            return 0
        if args.weights:
            raise ValueError("--weights is for testing (-t); to skip pretraining use --pretrained-weights")
        seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 31)
        s = runs.train(args.method, args.dataset, resolve_params(args.method, args.dataset, args, seed),
                       save_dir, seed, args.data_dir, args.pretrained_weights, args.restart,
                       data_options(args))
        init = s.get("init") or {}
        if init and not args.verbose:      # with progress on, fit already printed it
            print(f"AE + k-means: {format_metrics(init)}")
        where = ("this worker's outputs not kept: the chief writes them" if s.get("worker_outputs")
                 else f"outputs in {save_dir}")
        print(f"{args.method} on {args.dataset}: {format_metrics(s) or 'done (no labels to score)'}"
              f"  ({s['iterations']} iterations, {s['total_s']:.0f}s; {where})")
        return 0
    return guarded(go)


if __name__ == "__main__":
    sys.exit(main())
