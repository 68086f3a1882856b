"""``python -m deckeras`` / ``deckeras``: one command line with subcommands.

    deckeras train   --method FcDEC --dataset digits -d results/run   (main.py's flags)
    deckeras plot    RUN_DIR [-o OUT] [--tsne]        PNG figures of a run or an experiment
    deckeras predict RUN_DIR DATA [-o labels.csv] [--proba]
    deckeras export  RUN_DIR --format keras|savedmodel -o PATH

A mistake (a folder that is not a run, data of the wrong shape, an
unreadable image) is one line on stderr and exit code 2; files are written
whole or not at all.
"""
import os
import shutil
import sys
import tempfile
import warnings

import numpy as np

from . import cli
from .console import import_tensorflow
from .options import COLORS
from .runfolder import FINAL_WEIGHTS, RunFolder
from .validation import InputRangeWarning

__all__ = ["main", "predict", "export"]

# samples read, scaled and predicted at a time; None: source.chunks_of's own
# size (8,192 samples, fewer when they would pass 32 MiB)
PREDICT_CHUNK = None


def _run_model(run_dir):
    from . import runs
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"{run_dir}: no such folder (give the --save-dir of a run)")
    cfg = runs.read_config(run_dir)
    if not RunFolder(run_dir).has(FINAL_WEIGHTS):
        raise FileNotFoundError(f"{run_dir}: no {FINAL_WEIGHTS}: the run has not finished "
                                "(rerun its command to resume it)")
    return runs.load_model(run_dir), cfg


def _chunks(data, model, cfg, data_dir=None, data_options=None):
    """``data`` (a name, file or image folder) in chunks of samples. An
    ``.npy`` file is read a chunk at a time (``source.NpyRows``), so files
    larger than memory stream."""
    from .source import NpyRows, chunks_of
    if str(data).lower().endswith(".npy") and os.path.isfile(data):
        x = NpyRows(data)
    else:
        from .datasets import load_dataset
        opts = {**cfg.get("data_options", {}), **(data_options or {})}
        if opts.pop("stream", False):      # decoded or written to a temporary .npy first
            from .runs import stream_cache
            opts["stream"] = stream_cache(None)
        x, _ = load_dataset(data, image="auto", data_dir=data_dir, **opts)   # the model reshapes
    return len(x), chunks_of(x, PREDICT_CHUNK)


def predict(run_dir, data, out, proba=False, data_dir=None, data_options=None):
    """Write ``index,label`` (and with ``proba`` the per-cluster scores) for
    every sample of ``data`` to the CSV ``out``. Returns the label counts."""
    from .io import atomic_path
    model, cfg = _run_model(run_dir)
    n, chunks = _chunks(data, model, cfg, data_dir, data_options)
    k = model.n_clusters
    counts = np.zeros(k, np.int64)
    header = ["index", "label"] + ([f"{model.SCORES}_{j}" for j in range(k)] if proba else [])
    with atomic_path(out) as tmp, open(tmp, "w") as f:
        f.write(",".join(header) + "\n")
        start, warned = 0, False
        for chunk in chunks:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    scores = model.cluster_scores(np.asarray(chunk))
                for w in caught:             # the input's range: one line, once
                    if not warned and issubclass(w.category, InputRangeWarning):
                        print(f"warning: {data}: {w.message}", file=sys.stderr)
                        warned = True
            except ValueError as e:
                raise ValueError(f"{data}: {str(e).splitlines()[0]} (the run {run_dir} was "
                                 f"trained on {cfg['dataset']}, samples of shape "
                                 f"{tuple(cfg['input_shape'])})") from None
            labels = model.labels_from_scores(scores)
            counts += np.bincount(labels, minlength=k)
            cols = [np.arange(start, start + len(labels))[:, None], labels[:, None]]
            table = np.hstack(cols + ([scores] if proba else []))
            np.savetxt(f, table, delimiter=",",
                       fmt=["%d", "%d"] + (["%.6g"] * k if proba else []))
            start += len(labels)
    return counts


def export(run_dir, fmt, out):
    """Write the run's model as a ``.keras`` file or a TensorFlow SavedModel
    (``DeepClusterer.inference_model``), whole or not at all."""
    from .io import atomic_path
    if fmt == "keras" and not out.endswith(".keras"):
        raise ValueError(f"{out}: a Keras model file must end in .keras")
    if os.path.exists(out):
        raise ValueError(f"{out} exists: remove it or choose another -o")
    model, _ = _run_model(run_dir)
    inference = model.inference_model()
    if fmt == "keras":
        with atomic_path(out, suffix=".keras") as tmp:
            inference.save(tmp)
        return
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(out) + ".", dir=parent)
    try:
        inference.export(os.path.join(tmp, "model"), format="tf_saved_model", verbose=False)
        os.replace(os.path.join(tmp, "model"), out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def parser():
    p = cli.Parser(prog="deckeras", description="Deep clustering: train, plot, predict, export.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=cli.Parser)
    sub.add_parser("train", add_help=False,
                   help="train or test one method on one data set (main.py's flags; "
                        "deckeras train --help)")
    pl = sub.add_parser("plot", help="PNG figures of a run (or of a run_exp.py folder)")
    pl.add_argument("run_dir", metavar="RUN_DIR",
                    help="a run's --save-dir (main.py), or a run_exp.py folder")
    pl.add_argument("-o", "--out", help="output folder (default RUN_DIR/plots)")
    pl.add_argument("--tsne", action="store_true",
                    help="embedding by scikit-learn's t-SNE (default PCA); on at most "
                         "5,000 samples")
    pl.add_argument("--data-dir", help="where named data sets live")
    pr = sub.add_parser("predict", help="cluster labels for any data with a trained run")
    pr.add_argument("run_dir", metavar="RUN_DIR", help="a finished run's --save-dir")
    pr.add_argument("data", metavar="DATA",
                    help="a data set name, an .npy (streamed)/.npz/.csv/.h5 file or an image folder")
    pr.add_argument("-o", "--out", default="labels.csv", help="CSV to write (default labels.csv)")
    pr.add_argument("--proba", action="store_true",
                    help="add the per-cluster scores: DEC's soft assignments, DCN's squared "
                         "distances to the centres")
    pr.add_argument("--data-dir", help="where named data sets live")
    pr.add_argument("--label-column", help="CSV files: the column holding labels (left out)")
    pr.add_argument("--image-size", type=int, help="image folders: resize to this size")
    pr.add_argument("--color", choices=COLORS, help="image folders: channels")
    ex = sub.add_parser("export", help="the trained model as a .keras file or a SavedModel")
    ex.add_argument("run_dir", metavar="RUN_DIR", help="a finished run's --save-dir")
    ex.add_argument("--format", choices=["keras", "savedmodel"], default="keras",
                    help="keras: one .keras file (deckeras.load_exported); savedmodel: a "
                         "TensorFlow SavedModel folder for serving (default keras)")
    ex.add_argument("-o", "--out", required=True, help="PATH.keras, or a new folder for a SavedModel")
    return p


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:
        return cli.main(argv[1:], prog="deckeras train")
    args = parser().parse_args(argv)

    def go():
        import_tensorflow()
        if args.command == "predict":
            counts = predict(args.run_dir, args.data, args.out, args.proba, args.data_dir,
                             cli.data_options(args))
            print(f"{int(counts.sum())} samples, clusters of "
                  f"{', '.join(str(int(c)) for c in counts)}: labels in {args.out}")
        elif args.command == "export":
            export(args.run_dir, args.format, args.out)
            how = ("deckeras.load_exported(PATH)" if args.format == "keras"
                   else "m = tf.saved_model.load(PATH); m.serve(x)")
            print(f"exported to {args.out} (load with {how})")
        else:
            from .plots import plot
            files = plot(args.run_dir, args.out, tsne=args.tsne, data_dir=args.data_dir)
            print(f"{len(files)} figure{'s' if len(files) != 1 else ''} in {os.path.dirname(files[0]) if files else args.out}: "
                  + ", ".join(os.path.basename(f) for f in files))
        return 0
    return cli.guarded(go)


if __name__ == "__main__":
    sys.exit(main())
