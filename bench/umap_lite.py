#!/usr/bin/env python
"""UMAP without umap-learn: can deckeras's own dependencies do N2D's step?

    python bench/umap_lite.py EMBEDDING.npz [--dim 10] [--neighbors 20] [--rows N]
    python bench/umap_lite.py EMBEDDING.npz --gmm-seeds 5 --gmm-n-init 1 10   # the mixture's starts
    PYTHONPATH=<umap-learn's site-packages> python bench/umap_lite.py EMBEDDING.npz --umap-learn

N2D (McConville et al. 2020) clusters a pretrained autoencoder's embedding
with UMAP (McInnes et al. 2018, to n_clusters dimensions, min_dist 0) and a
Gaussian mixture. This script runs that step with ``deckeras.manifold.UMAP``,
UMAP rebuilt from NumPy, SciPy, scikit-learn and TensorFlow (its docstring
says how, and what differs from umap-learn), to compare with umap-learn's
figures (bench/README.md).

EMBEDDING.npz holds ``z`` (the embedding) and ``y`` (labels), e.g. written
by ``bench/embed_cluster.py RUN_DIR --save-embedding FILE``. Prints the
time of each stage and ACC / NMI of a Gaussian mixture (three seeds) and of
k-means on the result. ``--gmm-n-init`` fits each seed's mixture with that
many starts (scikit-learn keeps the one of highest likelihood) and prints
the likelihood bound beside each result: does the likelihood pick the better
labelling (N2D's ``gmm_n_init``)?
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def umap_lite(z, dim, n_neighbors=20, n_epochs=None, seed=0, groups=None):
    """N2D's UMAP step (min_dist 0) with ``deckeras.manifold.UMAP``; prints its stages' times."""
    from deckeras.manifold import UMAP
    more = {} if groups is None else {"update_groups": groups}
    return UMAP(dim, n_neighbors=n_neighbors, min_dist=0.0, n_epochs=n_epochs, random_state=seed,
                verbose=1, **more).fit_transform(z)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("embedding")
    ap.add_argument("--dim", type=int, default=None, help="default: the number of classes")
    ap.add_argument("--neighbors", type=int, default=20)
    ap.add_argument("--rows", type=int, default=None, help="only the first N rows")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gmm-seeds", type=int, default=3, help="mixtures fitted per n_init")
    ap.add_argument("--gmm-n-init", type=int, nargs="+", default=[1], help="starts per mixture")
    ap.add_argument("--update-groups", type=int, default=None,
                    help="deckeras's UMAP: groups of each epoch's updates (default: UMAP's own)")
    ap.add_argument("--umap-learn", action="store_true",
                    help="umap-learn's UMAP (not a dependency: put it on PYTHONPATH) instead of deckeras's")
    args = ap.parse_args(argv)
    from embed_cluster import gmm_fit, kmeans, umap

    from deckeras.metrics import acc, nmi
    f = np.load(args.embedding)
    z, y = f["z"][:args.rows], f["y"][:args.rows]
    k = len(np.unique(y))
    t = time.perf_counter()
    if args.umap_learn:
        name, e = "umap-learn", umap(z, args.dim or k, args.neighbors, seed=args.seed)
    else:
        name = f"umap-lite (groups {args.update_groups or 'default'})"
        e = umap_lite(z, args.dim or k, args.neighbors, seed=args.seed, groups=args.update_groups)
    print(f"embedding of {z.shape} in {time.perf_counter() - t:.1f} s")
    for n_init in args.gmm_n_init:
        for s in range(args.gmm_seeds):
            t = time.perf_counter()
            g = gmm_fit(e, k, s, n_init)
            lab = g.predict(e)
            print(f"{name} + GMM (seed {s}, n_init {n_init}): ACC {acc(y, lab):.4f} NMI {nmi(y, lab):.4f}"
                  f"  bound {g.lower_bound_:.4f}  ({time.perf_counter() - t:.0f} s)", flush=True)
    lab = kmeans(e, k, 0)
    print(f"{name} + k-means: ACC {acc(y, lab):.4f} NMI {nmi(y, lab):.4f}")


if __name__ == "__main__":
    main()
