#!/usr/bin/env python
"""How well can the pretrained embedding be clustered, before any DEC/DCN step?

    python bench/embed_cluster.py RUN_DIR [--methods kmeans gmm spectral-gmm]

RUN_DIR is a main.py run folder (its config.json names the method, data set
and settings; its ae_weights.h5 holds the pretrained autoencoder). Prints, for
each way of clustering the embedding f(x), ACC / NMI against the labels and
the seconds it took:

- ``kmeans``: k-means, 20 restarts (what every method starts from);
- ``gmm``: a Gaussian mixture with full covariances, started from k-means;
- ``spectral-kmeans`` / ``spectral-gmm``: the N2D idea (McConville et al.
  2020) with scikit-learn's Laplacian eigenmaps in place of UMAP: embed the
  k-nearest-neighbour graph of f(x) into ``n_clusters`` dimensions
  (``SpectralEmbedding``), then k-means or a Gaussian mixture there;
- ``umap-gmm``: N2D itself (UMAP to ``n_clusters`` dimensions, min_dist 0,
  then a Gaussian mixture); needs ``umap-learn``, which deckeras does not
  install (put it on PYTHONPATH for this comparison);
- ``umaplite-gmm`` / ``umaplite-kmeans``: the same with ``deckeras.manifold.UMAP``,
  UMAP rebuilt from deckeras's own dependencies.

``--save-embedding FILE.npz`` also writes f(x) and the labels (``z``, ``y``)
for bench/umap_lite.py.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def spectral(z, k, neighbors, seed):
    from sklearn.manifold import SpectralEmbedding
    return SpectralEmbedding(n_components=k, affinity="nearest_neighbors", n_neighbors=neighbors,
                             random_state=seed, n_jobs=-1).fit_transform(z)


def umap(z, k, neighbors, seed):
    import umap as umap_learn
    return umap_learn.UMAP(n_components=k, n_neighbors=neighbors, min_dist=0.0,
                           random_state=seed).fit_transform(z)


def umaplite(z, k, neighbors, seed):
    from umap_lite import umap_lite
    return umap_lite(z, k, neighbors, seed=seed)


def gmm_fit(z, k, seed, n_init=1):
    """A full-covariance Gaussian mixture of ``z`` (N2D's), the best of ``n_init`` starts."""
    from sklearn.mixture import GaussianMixture
    return GaussianMixture(k, covariance_type="full", random_state=seed, n_init=n_init).fit(z)


def gmm(z, k, seed):
    return gmm_fit(z, k, seed).predict(z)


def kmeans(z, k, seed):
    from sklearn.cluster import KMeans
    return KMeans(k, n_init=20, random_state=seed).fit_predict(z)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("--save-embedding", metavar="FILE.npz")
    ap.add_argument("--methods", nargs="*", default=["kmeans", "gmm", "spectral-kmeans", "spectral-gmm"])
    ap.add_argument("--neighbors", type=int, nargs="+", default=[20])
    args = ap.parse_args(argv)
    from deckeras.datasets import load_dataset
    from deckeras.io import read_json
    from deckeras.methods import make_method
    from deckeras.metrics import acc, nmi
    cfg = read_json(os.path.join(args.run_dir, "config.json"))
    params = cfg["params"]
    seed = int(params.get("random_state") or 0)
    x, y = load_dataset(cfg["dataset"], image=params.get("arch") == "conv")
    model = make_method(cfg["method"], cfg["dataset"], **{k: v for k, v in params.items()
                                                          if k not in ("save_dir",)})
    model.load_pretrained(x, os.path.join(args.run_dir, "ae_weights.h5"))
    t = time.perf_counter()
    z = np.asarray(model.transform(x), dtype=np.float64)
    print(f"embedding {z.shape} in {time.perf_counter() - t:.1f} s")
    if args.save_embedding:
        np.savez(args.save_embedding, z=z.astype(np.float32), y=y)
    k = int(params.get("n_clusters") or len(np.unique(y)))
    for name in args.methods:
        manifold = {"spectral": spectral, "umap": umap, "umaplite": umaplite}.get(name.split("-")[0])
        for nb in (args.neighbors if manifold else [None]):
            t = time.perf_counter()
            space = manifold(z, k, nb, seed) if nb else z
            way = gmm if name.endswith("gmm") else kmeans
            labels = way(space, k, seed)
            tag = f"{name} (n_neighbors {nb})" if nb else name
            print(f"{tag}: ACC {acc(y, labels):.4f} NMI {nmi(y, labels):.4f} "
                  f"{time.perf_counter() - t:.1f} s", flush=True)


if __name__ == "__main__":
    main()
