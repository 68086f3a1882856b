"""Command line: ``main.py`` / ``deckeras`` (one method, one data set) and
``run_exp.py`` (see ``experiment.py``).

A user mistake ends with one line on stderr and exit code 2, never a
traceback; nothing is written before the inputs have been checked.
"""
import argparse
import inspect
import os
import sys

from .console import import_tensorflow
from .methods import METHODS  # light: no TensorFlow
from .distribute import DISTRIBUTE
from .options import COLORS, PROTOCOLS
from .runfolder import RunFolder

USER_ERRORS = (ValueError, FileNotFoundError, IsADirectoryError, PermissionError, ConnectionError)

# Flags that are the estimators' parameters come from their signatures, their
# constraints (``_SCALARS``, ``_OPTIONS``) and their docstrings; these are the
# parameters that are not flags (set from other flags or meaningless on a
# command line) and the flags whose name is not the parameter's.
NOT_FLAGS = ("n_clusters", "arch", "init", "keep_decoder", "random_state",
             "verbose", "save_dir", "warm_start", "distribute")
RENAMED = {"jit_compile": "jit", "tensorboard_dir": "tensorboard", "augment": "aug_cluster"}
SHORT = {"update_interval": "-i"}
# what the command line adds to a parameter's own description
CLI_NOTES = {
    "augment": "implied by -DA methods on the papers' data sets; on other data they augment "
               "pretraining only, unless --protocol paper",
    "aug_pretrain": "implied by -DA methods",
    "scale": "default: none for the named data sets, which come scaled as in their papers; "
             "minmax for your own files",
    "tensorboard_dir": "run_exp.py: DIR/<method>/<dataset>/trial<k>",
}


def estimator_classes():
    """family -> estimator class, in the order their flags are listed."""
    import_tensorflow()                 # quietly, before the estimators bring it in
    from .methods import estimator_classes
    return estimator_classes()


def estimator_parameters():
    """name -> (estimator classes that take it, the class whose docstring and
    constraints describe it), in signature order: DEC's, then DCN's and N2D's own."""
    params = {}
    for cls in estimator_classes().values():
        for name in inspect.signature(cls).parameters:
            params.setdefault(name, [[], cls])[0].append(cls)
    return params


def _described(cls, name):
    """The first sentence of ``name``'s description in ``cls``'s docstring."""
    lines = cls.__doc__.splitlines()
    for i, line in enumerate(lines):
        head = line.split(" : ")[0]
        if " : " in line and name in [h.strip() for h in head.split(",")]:
            body = []
            for more in lines[i + 1:]:
                if not more.startswith("    "):
                    break
                body.append(more.strip())
            text = " ".join(body)
            default = line.split(" : ", 1)[1]
            return (text.split(". ")[0].rstrip(".") + f" ({default})") if text else default
    return ""


def param_flags():
    """flag dest -> estimator parameter, for every parameter that is a flag."""
    return {RENAMED.get(n, n): n for n in estimator_parameters() if n not in NOT_FLAGS}


def _add_param_flags(p):
    """A flag for each estimator parameter (default None: the method's
    setting stands unless the flag is given)."""
    from numbers import Integral, Real
    params = estimator_parameters()
    for name, (classes, cls) in params.items():
        if name in NOT_FLAGS:
            continue
        dest = RENAMED.get(name, name)
        default = inspect.signature(cls).parameters[name].default
        help_ = _described(cls, name)
        if len(classes) < 3:
            names_ = "/".join({"DEC": "DEC/IDEC"}.get(c.__name__, c.__name__) for c in classes)
            help_ = f"{names_} only: {help_}"
        if name in CLI_NOTES:
            help_ += f"; {CLI_NOTES[name]}"
        kw = {"dest": dest, "default": None, "help": help_.replace("%", "%%")}
        names = ["--" + dest.replace("_", "-")] + ([SHORT[name]] if name in SHORT else [])
        if name in cls._SIZES:
            kw.update(nargs="+", type=_positive_int, metavar="N")
        elif name in cls._OPTIONS:
            kw["choices"] = cls._OPTIONS[name]
        elif name in cls._SCALARS:
            kind = cls._SCALARS[name][0]
            convert = _int_like if kind is Integral else float if kind is Real else str
            kw["type"] = _or_auto(convert, "a number") if name in cls._AUTO else convert
        elif isinstance(default, bool) or name in ("aug_pretrain",):
            kw["action"] = "store_true"
        else:
            kw["metavar"] = "DIR" if name.endswith("_dir") else None
        p.add_argument(*names, **kw)


def add_common_flags(p):
    """Flags shared by main.py and run_exp.py; every default is None so that
    only the flags a user gives override the method's settings."""
    p.add_argument("--protocol", choices=PROTOCOLS,
                   help="default: the papers' settings on their data sets (FcDEC and DCN on MNIST: "
                        "40 and 50 denoising pretraining epochs in batches of 128, measured to match; "
                        "DCN there starts from a Gaussian mixture), "
                        "the small-data rules elsewhere (digits, synthetic, your files); paper: "
                        "every method in its paper's form on any data (docs/algorithms.md)")
    p.add_argument("--pretrained-weights", help="autoencoder weights (.h5): skip pretraining")
    _add_param_flags(p)
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
    p.add_argument("--stream", action="store_true",
                   help="leave the data set on disk and read it a mini-batch at a time (for "
                        "data larger than memory): an .npy file is read where it is; an image "
                        "folder is decoded into <save-dir>/data.npy one image at a time; other "
                        "sources are loaded once and written there (docs/large-data.md)")
    p.add_argument("--data-dir", help="where named data sets live (default $DECKERAS_DATA or ./data)")
    p.add_argument("--distribute", choices=("none",) + DISTRIBUTE[1:],
                   help="none: one device (default); mirrored: all GPUs of this machine (or "
                        "its CPU); multiworker: several machines, each worker running the same "
                        "command with its own TF_CONFIG (docs/distributed.md)")
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
        prog=prog, description="Train or test one deep clustering method on one data set. "
        "The flags that set an estimator's parameter default to the method's setting for the "
        "data set (config.json records every one); the defaults shown are the estimator's.",
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
            "image_size": getattr(args, "image_size", None), "color": getattr(args, "color", None),
            "stream": getattr(args, "stream", None) or None}
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


def _positive_int(s):
    try:
        n = int(s)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{s!r} is not a whole number of at least 1")
    return n


def resolve_params(method, dataset, args, seed):
    """The method's settings for ``dataset`` with every given flag applied."""
    from .methods import method_family, method_params
    family = method_family(method)
    protocol = getattr(args, "protocol", None) or "default"
    params = method_params(method, dataset, protocol)
    takes = inspect.signature(estimator_classes()[family]).parameters
    for flag, name in param_flags().items():
        value = getattr(args, flag, None)
        if value is None:
            continue
        if name not in takes:
            raise ValueError(f"--{flag.replace('_', '-')} does not apply to {method}")
        params[name] = value
    if family == "dec" and args.gamma is not None and "keep_decoder" not in params:
        params["keep_decoder"] = args.gamma > 0
    distribute = getattr(args, "distribute", None)
    if distribute not in (None, "none"):
        params["distribute"] = distribute
    _check_flags(method, params, {name: flag for flag, name in param_flags().items()
                                  if getattr(args, flag, None) is not None})
    # make_method takes 'protocol' itself: the settings it starts from before these
    params.update(n_clusters=args.n_clusters, random_state=seed, verbose=args.verbose,
                  protocol=protocol)
    return params


def _check_flags(method, params, given):
    """The estimator's own checks of ``params``, its messages speaking of the
    flags the user gave (``--lr -1.0 ...``) instead of the Python parameters."""
    import re
    from .methods import make_method
    try:
        make_method(method, None, **params)._check_params()
    except (ValueError, TypeError) as e:
        msg = str(e)
        name = re.match(r"\w+", msg).group(0) if re.match(r"\w+", msg) else ""
        if name in given:
            flag = "--" + given[name].replace("_", "-")
            msg = re.sub(rf"^{name}( ==)?", flag, msg)
        raise ValueError(msg) from None


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
    except OSError as e:             # a folder or file that cannot be written (or read)
        where = f"{e.filename}: " if e.filename else ""
        print(f"error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        # deckeras.trainer.Interrupted: a checkpoint was written first
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
            weights = args.weights or RunFolder(save_dir).final_weights
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
        where = ("this worker's outputs not kept: the chief writes them" if s.get("worker_outputs")
                 else f"outputs in {save_dir}")
        print(f"{args.method} on {args.dataset}: {format_metrics(s) or 'done (no labels to score)'}"
              f"  ({s['iterations']} iterations, {s['total_s']:.0f}s; {where})")
        return 0
    return guarded(go)


if __name__ == "__main__":
    sys.exit(main())
