#!/usr/bin/env python
"""UMAP without umap-learn: can deckeras's own dependencies do N2D's step?

    python bench/umap_lite.py EMBEDDING.npz [--dim 10] [--neighbors 20] [--rows N]

N2D (McConville et al. 2020) clusters a pretrained autoencoder's embedding
with UMAP (McInnes et al. 2018, to n_clusters dimensions, min_dist 0) and a
Gaussian mixture. umap-learn brings numba, llvmlite and pynndescent; this
script rebuilds the algorithm from NumPy, SciPy, scikit-learn and TensorFlow
to see whether that dependency is needed:

1. the fuzzy k-nearest-neighbour graph: scikit-learn's exact neighbours;
   per point rho (distance to the nearest other point) and sigma (binary
   search so that the memberships sum to log2(k)); memberships
   exp(-(d - rho) / sigma), symmetrised as P + P^T - P o P^T;
2. the spectral start: the smallest eigenvectors of the normalised
   Laplacian (SciPy's eigsh, as umap-learn), scaled to [0, 10];
3. the layout: umap-learn's negative-sampling SGD (each edge every
   max(w)/w epochs, 5 negative samples per positive, gradients clipped to
   +-4, the rate falling linearly from 1; a and b fitted to min_dist) as a
   TensorFlow graph per epoch. Unlike umap-learn, whose updates run one
   after another, every update of an epoch is computed from the positions at
   its start and applied together (as GPU implementations do). Summation
   order on several threads makes runs differ in the last bits.

EMBEDDING.npz holds ``z`` (the embedding) and ``y`` (labels), e.g. written
by ``bench/embed_cluster.py RUN_DIR --save-embedding FILE``. Prints the
time of each stage and ACC / NMI of a Gaussian mixture (three seeds) and of
k-means on the result.
"""
import argparse
import os
import sys
import time

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fuzzy_graph(z, n_neighbors):
    """UMAP's fuzzy simplicial set of z as a symmetric sparse matrix (COO)."""
    from sklearn.neighbors import NearestNeighbors
    n = len(z)
    d, idx = NearestNeighbors(n_neighbors=n_neighbors).fit(z).kneighbors(z)
    d = d.astype(np.float64)
    itself = idx == np.arange(n)[:, None]
    rho = np.where(itself | (d <= 0), np.inf, d).min(1)
    rho[~np.isfinite(rho)] = 0.0
    target = np.log2(n_neighbors)
    lo, hi, sigma = np.zeros(n), np.full(n, np.inf), np.ones(n)
    rest = d[:, 1:] - rho[:, None]
    for _ in range(64):                       # all points' binary searches at once
        over = np.where(rest > 0, np.exp(-rest / sigma[:, None]), 1.0).sum(1) > target
        hi = np.where(over, sigma, hi)
        lo = np.where(over, lo, sigma)
        sigma = np.where(np.isinf(hi), sigma * 2, (lo + hi) / 2)
    sigma = np.maximum(sigma, 1e-3 * np.where(rho > 0, d.mean(1), d.mean()))
    w = np.where(d - rho[:, None] <= 0, 1.0, np.exp(-(d - rho[:, None]) / sigma[:, None]))
    w[itself] = 0.0
    p = sp.csr_matrix((w.ravel(), (np.repeat(np.arange(n), n_neighbors), idx.ravel())),
                      shape=(n, n))
    p = p + p.T - p.multiply(p.T)
    p.eliminate_zeros()
    return p.tocoo()


def spectral_start(p, dim, seed):
    """The normalised Laplacian's eigenvectors 1..dim, scaled to [0, 10]
    (uniform noise if eigsh fails), and the graph's number of components."""
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse.linalg import eigsh
    n = p.shape[0]
    rng = np.random.default_rng(seed)
    parts = connected_components(p, directed=False)[0]
    try:
        scale = sp.diags(1 / np.sqrt(np.asarray(p.sum(0)).ravel()))
        lap = sp.identity(n) - scale @ p @ scale
        vals, vecs = eigsh(lap, dim + 1, which="SM", ncv=max(2 * dim + 3, int(np.sqrt(n))),
                           tol=1e-4, v0=np.ones(n), maxiter=n * 5)
        y = vecs[:, np.argsort(vals)[1:dim + 1]]
        y = 10 * y / np.abs(y).max() + rng.normal(scale=1e-4, size=y.shape)
    except Exception as e:  # ARPACK not converging: umap-learn falls back the same way
        print(f"spectral start failed ({e}); starting from uniform noise")
        y = rng.uniform(-10, 10, size=(n, dim))
    y = 10 * (y - y.min(0)) / (y.max(0) - y.min(0))
    return y.astype(np.float32), parts


def curve_ab(min_dist, spread=1.0):
    """a, b of 1 / (1 + a d^2b) fitted to UMAP's target curve."""
    from scipy.optimize import curve_fit
    x = np.linspace(0, 3 * spread, 300)
    y = np.where(x < min_dist, 1.0, np.exp(-(x - min_dist) / spread))
    (a, b), _ = curve_fit(lambda x, a, b: 1.0 / (1.0 + a * x ** (2 * b)), x, y)
    return float(a), float(b)


def layout(p, start, n_epochs, seed, negative_rate=5, min_dist=0.0):
    import tensorflow as tf
    a, b = curve_ab(min_dist)
    p = p.copy()
    p.data[p.data < p.data.max() / n_epochs] = 0          # as umap-learn: too rare to sample
    p.eliminate_zeros()
    n = start.shape[0]
    head, tail = tf.constant(p.row.astype(np.int32)), tf.constant(p.col.astype(np.int32))
    every = (p.data.max() / p.data).astype(np.float32)     # epochs between samples of an edge
    every_neg = every / negative_rate
    every_t, every_neg_t = tf.constant(every), tf.constant(every_neg)
    next_pos, next_neg = tf.Variable(every), tf.Variable(every_neg)
    y = tf.Variable(start)

    def attract(diff):
        d2 = tf.reduce_sum(diff * diff, 1)
        s = tf.maximum(d2, 1e-12)
        c = tf.where(d2 > 0, -2 * a * b * s ** (b - 1) / (a * s ** b + 1), 0.0)
        return tf.clip_by_value(c[:, None] * diff, -4.0, 4.0)

    def repel(diff):
        d2 = tf.reduce_sum(diff * diff, 1)
        s = tf.maximum(d2, 1e-12)
        c = 2 * b / ((0.001 + s) * (a * s ** b + 1))
        return tf.where((d2 > 0)[:, None], tf.clip_by_value(c[:, None] * diff, -4.0, 4.0), 4.0)

    @tf.function
    def epoch(ep, rate):
        e = tf.where(next_pos <= ep)[:, 0]
        h, t = tf.gather(head, e), tf.gather(tail, e)
        pos = y.read_value()
        g = attract(tf.gather(pos, h) - tf.gather(pos, t)) * rate
        step = tf.math.unsorted_segment_sum(g, h, n) - tf.math.unsorted_segment_sum(g, t, n)
        next_pos.scatter_nd_add(e[:, None], tf.gather(every_t, e))
        en = tf.gather(every_neg_t, e)
        k = tf.maximum(tf.cast(tf.floor((ep - tf.gather(next_neg, e)) / en), tf.int32), 0)
        next_neg.scatter_nd_add(e[:, None], tf.cast(k, tf.float32) * en)
        rh = tf.repeat(h, k)
        rt = tf.random.stateless_uniform(tf.shape(rh), tf.stack([seed, tf.cast(ep, tf.int32)]),
                                         minval=0, maxval=n, dtype=tf.int32)
        keep = rh != rt
        rh, rt = tf.boolean_mask(rh, keep), tf.boolean_mask(rt, keep)
        g = repel(tf.gather(pos, rh) - tf.gather(pos, rt)) * rate
        y.assign_add(step + tf.math.unsorted_segment_sum(g, rh, n))

    for ep in range(n_epochs):
        epoch(tf.constant(float(ep)), tf.constant(1.0 - ep / n_epochs))
    return y.numpy()


def umap_lite(z, dim, n_neighbors=20, n_epochs=None, seed=0, say=print):
    t = time.perf_counter()
    p = fuzzy_graph(np.asarray(z, np.float32), n_neighbors)
    t1 = time.perf_counter()
    start, parts = spectral_start(p, dim, seed)
    t2 = time.perf_counter()
    n_epochs = n_epochs or (200 if len(z) > 10000 else 500)     # umap-learn's defaults
    out = layout(p, start, n_epochs, seed)
    say(f"graph {t1 - t:.1f} s ({p.nnz} edges), spectral start {t2 - t1:.1f} s "
        f"({parts} component(s)), layout {time.perf_counter() - t2:.1f} s ({n_epochs} epochs)")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("embedding")
    ap.add_argument("--dim", type=int, default=None, help="default: the number of classes")
    ap.add_argument("--neighbors", type=int, default=20)
    ap.add_argument("--rows", type=int, default=None, help="only the first N rows")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from embed_cluster import gmm, kmeans

    from deckeras.metrics import acc, nmi
    f = np.load(args.embedding)
    z, y = f["z"][:args.rows], f["y"][:args.rows]
    k = len(np.unique(y))
    t = time.perf_counter()
    e = umap_lite(z, args.dim or k, args.neighbors, seed=args.seed)
    print(f"embedding of {z.shape} in {time.perf_counter() - t:.1f} s")
    for name, lab in [(f"GMM (seed {s})", gmm(e, k, s)) for s in range(3)] + [("k-means", kmeans(e, k, 0))]:
        print(f"umap-lite + {name}: ACC {acc(y, lab):.4f} NMI {nmi(y, lab):.4f}")


if __name__ == "__main__":
    main()
