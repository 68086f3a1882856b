#!/usr/bin/env python
"""Does the clustering phase keep a better start? One pretrained autoencoder,
the clustering phase started from different labellings of its embedding.

    python bench/init_compare.py RUN_DIR --inits kmeans gmm umap-gmm [--maxiter N]

RUN_DIR is a finished main.py run (config.json, ae_weights.h5). For each
start the method's clustering phase runs with the run's settings: ``kmeans``
and ``gmm`` are the estimator's own ``cluster_init``; ``umap-gmm`` labels the
embedding as N2D does and sets the centres to the mean embedding of each of
its clusters. Prints the start's and the final ACC / NMI.
``umap-gmm`` needs ``umap-learn`` on PYTHONPATH (bench/embed_cluster.py).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import embed_cluster  # noqa: E402  (bench/, beside this file)


class Start:
    """What the trainer reads from a fitted KMeans: centres and labels."""

    def __init__(self, z, labels, k):
        self.labels_ = labels
        self.cluster_centers_ = np.stack([z[labels == j].mean(0) for j in range(k)])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("--inits", nargs="+", default=["kmeans", "gmm", "umap-gmm"])
    ap.add_argument("--maxiter", type=int)
    ap.add_argument("--neighbors", type=int, default=20)
    args = ap.parse_args(argv)
    from deckeras import trainer
    from deckeras.datasets import load_dataset
    from deckeras.io import read_json
    from deckeras.methods import make_method
    from deckeras.metrics import acc, nmi
    cfg = read_json(os.path.join(args.run_dir, "config.json"))
    params = {k: v for k, v in cfg["params"].items() if k != "save_dir"}
    if args.maxiter is not None:
        params["maxiter"] = args.maxiter
    seed = int(params.get("random_state") or 0)
    x, y = load_dataset(cfg["dataset"], image=params.get("arch") == "conv")
    plain = trainer.kmeans_start
    for init in args.inits:
        def start(z, k, n_init, seed_, init=init, **_):
            if init != "umap-gmm":           # the estimator's own cluster_init
                return plain(z, k, n_init, seed_, how=init)
            z64 = np.asarray(z, np.float64)
            return Start(z64, embed_cluster.gmm(embed_cluster.umap(z64, k, args.neighbors, seed),
                                                k, seed), k)
        trainer.kmeans_start = start
        model = make_method(cfg["method"], cfg["dataset"], **params)
        model.load_pretrained(x, os.path.join(args.run_dir, "ae_weights.h5"))
        t = time.perf_counter()
        model.fit(x, y)
        print(f"{init}: start ACC {acc(y, model.init_labels_):.4f} NMI {nmi(y, model.init_labels_):.4f}"
              f" -> final ACC {acc(y, model.labels_):.4f} NMI {nmi(y, model.labels_):.4f}"
              f" ({model.n_iter_} iterations, {time.perf_counter() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
