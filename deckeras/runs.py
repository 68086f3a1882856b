"""One run of one method on one data set into a folder (whose files
``deckeras.runfolder`` names). The command line (``main.py``), ``run_exp.py``
and ``load_model`` all go through here.
"""
import os
import time

import numpy as np

from . import checkpoint, metrics
from .io import read_json, write_csv, write_json
from .runfolder import CONFIG, RunFolder, worker_folder
from .validation import NOT_IMAGES

__all__ = ["load_data", "train", "test", "read_config", "load_model", "stream_cache"]


def load_data(method, dataset, params, data_dir=None, data_options=None, folder=None):
    """Load ``dataset`` once, image-shaped when ``params`` need images;
    ``data_options`` are ``load_dataset``'s (label_column, image_size, color)
    and ``stream``: True leaves the samples on disk (``x`` an ``NpyRows``;
    a source that is not an ``.npy`` file is written to the run
    ``folder``'s ``data.npy``, or to a temporary file without a folder).

    Returns ``(x, y, n_clusters)``: ``params['n_clusters']`` or, when it is
    None, the data set's number of classes.
    """
    from .datasets import dataset_info, load_dataset
    image = params.get("arch") == "conv" or params.get("augment") or params.get("aug_pretrain")
    options = dict(data_options or {})
    if options.pop("stream", False):
        options["stream"] = stream_cache(folder)
    try:      # image sources stay images (their shape is recorded), tables stay flat
        x, y = load_dataset(dataset, image=True if image else "auto", data_dir=data_dir,
                            **options)
    except ValueError as e:
        if image and NOT_IMAGES in str(e):
            raise ValueError(f"{method} needs image data: {e}") from None
        raise
    k = params.get("n_clusters")
    if k is None:
        info = dataset_info(dataset)
        if info:
            k = info[0]
        elif y is not None:
            k = int(len(np.unique(y)))
        else:
            raise ValueError(f"{dataset} has no labels: give --n-clusters")
    return x, y, k


def stream_cache(folder):
    """Where ``--stream`` writes a source that is not an ``.npy`` file."""
    if folder is not None:
        return RunFolder(folder).make_writable().data_cache
    from .source import temporary_npy
    return temporary_npy(at_exit=True)


def _config(method, dataset, seed, model, x, pretrained_weights, data_options):
    import keras
    import tensorflow as tf
    from . import __version__
    from .host import machine
    from .validation import image_view
    return {"method": method, "dataset": dataset, "seed": seed, "n_samples": int(len(x)),
            "input_shape": list(x.shape[1:]) if model.arch == "conv"
            else [int(np.prod(x.shape[1:]))],
            "image_shape": list(image_view(x) or []) or None,
            "pretrained_weights": pretrained_weights,
            "data_options": data_options or {},
            "params": {k: v for k, v in model.get_params().items()
                       if k not in ("save_dir", "verbose")},
            "versions": {"deckeras": __version__, "tensorflow": tf.__version__,
                         "keras": keras.__version__, "numpy": np.__version__},
            "machine": machine()}


def train(method, dataset, params, save_dir, seed, data_dir=None, pretrained_weights=None,
          restart=False, data_options=None, _worker_folder=False):
    """Train ``method`` on ``dataset`` with estimator ``params`` and write every
    output into ``save_dir``, resuming from its checkpoint when there is one
    (``restart`` drops it). Inputs and the checkpoint are checked before
    anything is written. Returns the summary dict."""
    from .datasets import class_names
    from .distribute import is_chief
    if params.get("distribute") == "multiworker" and not is_chief() and not _worker_folder:
        return _train_as_worker(method, dataset, params, save_dir, seed, data_dir,
                                pretrained_weights, restart, data_options)
    from .methods import make_method
    t_start = time.time()
    params = dict(params)
    x, y, params["n_clusters"] = load_data(method, dataset, params, data_dir, data_options,
                                           save_dir)
    if restart:
        checkpoint.remove(save_dir)
    auto = params["n_clusters"] == "auto"
    choice = _auto_choice(save_dir) if auto else None    # a resumed run keeps its choice
    if auto:
        params["n_clusters"] = choice["k"] if choice else 2     # 2 until chosen
    model = make_method(method, dataset, **{**params, "random_state": seed,
                                            "save_dir": save_dir})
    if auto and choice is None:
        if checkpoint.peek(save_dir) is not None:
            raise checkpoint.SettingsMismatch(
                f"{save_dir} holds the checkpoint of a run with a fixed number of clusters: "
                "give that --n-clusters, --restart, or another --save-dir")
    else:
        where = model.resume_point(x)    # validates; another run's checkpoint is an error
        if where and not model.verbose:  # with progress on, fit says it
            print(f"resuming from the checkpoint in {save_dir}: {where}")
    earlier = _time_carried(save_dir)
    if pretrained_weights:
        model.load_pretrained(x, pretrained_weights)
    RunFolder(save_dir).make_writable()
    if auto and choice is None:
        choice = choose_n_clusters(model, x, seed)
    config = _config(method, dataset, seed, model, x, pretrained_weights, data_options)
    config["class_names"] = class_names(dataset, (data_options or {}).get("label_column"))
    if auto:
        config["n_clusters_auto"] = choice
    folder = RunFolder(save_dir)
    write_json(folder.config, config)
    model.fit(x, y)
    config["precision"] = model.precision_          # what 'auto' meant here
    write_json(folder.config, config)
    final = metrics.evaluate(y, model.labels_) if y is not None else {}
    write_csv(folder.labels,
              [{"index": i, "label": int(l)} for i, l in enumerate(model.labels_)],
              ["index", "label"])
    summary = {"method": method, "dataset": dataset, "seed": seed, **final,
               "init": model.init_metrics_, "iterations": int(model.n_iter_),
               "converged": bool(model.converged_), "brb_resets": int(model.brb_resets_),
               "pretrain_reused": bool(pretrained_weights),
               "pretrain_s": round(model.pretrain_time_, 2),
               "cluster_s": round(model.cluster_time_, 2),
               "total_s": round(earlier + time.time() - t_start, 2)}
    write_json(folder.summary, summary)
    return summary


def _time_carried(save_dir):
    """The training time a checkpoint in ``save_dir`` holds from earlier calls
    (pretraining and clustering seconds; 0 without one), so that a resumed
    trial's ``total_s`` counts all of it, not only the last call."""
    state = checkpoint.peek(save_dir)
    return float(state.get("pretrain_s", 0.0)) + float(state.get("cluster_s", 0.0)) if state else 0.0


AUTO_K = range(2, 21)     # candidates of --n-clusters auto


def choose_n_clusters(model, x, seed, k_range=AUTO_K):
    """Pretrain ``model`` (unless it is), choose k on the pretrained embedding
    by the silhouette score (``estimate_n_clusters``), set it and return
    ``{"k", "criterion", "scores"}`` for config.json."""
    from .selection import estimate_n_clusters
    if not getattr(model, "_ae_ready", False):
        model.pretrain(x)
    ks = [k for k in k_range if k < len(x)]
    k, scores = estimate_n_clusters(model.transform(x), ks, random_state=seed)
    if model.verbose:
        print("n_clusters auto, silhouette of k-means on the pretrained embedding: "
              + ", ".join(f"k={c} {v:.3f}" for c, v in scores.items()) + f" -> {k}")
    model.set_params(n_clusters=k)
    return {"k": k, "criterion": "silhouette",
            "scores": [{"k": c, "silhouette": round(v, 5)} for c, v in scores.items()]}


def _auto_choice(save_dir):
    """The k an interrupted ``--n-clusters auto`` run chose (None if none)."""
    folder = RunFolder(save_dir)
    if checkpoint.peek(save_dir) is None or not folder.has(CONFIG):
        return None
    return read_json(folder.config).get("n_clusters_auto")


def _train_as_worker(method, dataset, params, save_dir, seed, data_dir, pretrained_weights,
                     restart, data_options):
    """A multi-worker run's other workers train in step with the chief but
    write into a private temporary folder, removed at the end; they resume
    from the chief's checkpoint when they can see it (a shared filesystem)."""
    import shutil
    with worker_folder() as private:
        chief_ckpt = RunFolder(save_dir).checkpoints
        if not restart and os.path.isdir(chief_ckpt):
            shutil.copytree(chief_ckpt, RunFolder(private).checkpoints)
        params = {**params, "tensorboard_dir": None}       # the chief writes them
        summary = train(method, dataset, params, private, seed, data_dir, pretrained_weights,
                        restart, data_options, _worker_folder=True)
        return {**summary, "worker_outputs": "not kept"}


def test(method, dataset, params, weights, data_dir=None, data_options=None):
    """Rebuild ``method`` for ``dataset``, load ``weights`` and evaluate.
    Returns ``(metrics, labels)`` (metrics empty without labels)."""
    from .methods import make_method
    params = dict(params)
    x, y, params["n_clusters"] = load_data(method, dataset, params, data_dir, data_options)
    model = make_method(method, dataset, **params)
    model.load(weights, tuple(x.shape[1:]))
    labels = model.predict(x)
    return (metrics.evaluate(y, labels) if y is not None else {}), labels


def read_config(folder):
    if not RunFolder(folder).has(CONFIG):
        raise FileNotFoundError(f"no {CONFIG} in {folder}: pass the --save-dir of a main.py run")
    return read_json(RunFolder(folder).config)


def load_model(path):
    """Load a model saved by a run for inference.

    ``path`` is a run's folder or a weights file inside one; the method, data
    shape and settings are read from the ``config.json`` beside it.
    """
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    weights = RunFolder(folder).final_weights if os.path.isdir(path) else path
    cfg = read_config(folder)
    from .methods import make_method
    model = make_method(cfg["method"], cfg["dataset"], **cfg["params"])
    return model.load(weights, tuple(cfg["input_shape"]),
                      tuple(cfg["image_shape"]) if cfg.get("image_shape") else None)
