"""UMAP (McInnes et al. 2018) from deckeras's own dependencies.

N2D (McConville et al. 2020) clusters an autoencoder's embedding with UMAP
(to ``n_clusters`` dimensions, ``min_dist`` 0, 20 neighbours) and a
Gaussian mixture. umap-learn brings numba, llvmlite and pynndescent; this
module rebuilds the algorithm from NumPy, SciPy, scikit-learn and
TensorFlow (bench/README.md compares the two on MNIST and Fashion-MNIST):

1. the fuzzy k-nearest-neighbour graph: scikit-learn's exact neighbours;
   per point rho (distance to the nearest other point) and sigma (a binary
   search so that the memberships of its other neighbours sum to
   log2(n_neighbors)); memberships ``exp(-(d - rho) / sigma)``, symmetrised
   as ``P + P^T - P o P^T``;
2. the spectral start: the smallest non-trivial eigenvectors of the
   normalised Laplacian (SciPy's ``eigsh``, as umap-learn), scaled to
   [0, 10]; uniform noise if ARPACK does not converge;
3. the layout: umap-learn's negative-sampling SGD (each edge every
   ``max(w) / w`` epochs, ``negative_rate`` negative samples per positive
   one, gradients clipped to +-4, the rate falling linearly from 1; ``a``
   and ``b`` fitted to ``min_dist``) as a TensorFlow graph per epoch.
   umap-learn applies each edge's update before it computes the next one;
   here an epoch's sampled edges fall into ``update_groups`` random groups
   (default 10), each group's updates computed from the positions the
   previous group left and applied together. With one group (every update
   from the epoch's starting positions, as GPU implementations do) a point
   takes the sum of all its pulls at once and the layout ends looser: on a
   Fashion-MNIST embedding a mixture's per-sample likelihood bound of 12.9
   against umap-learn's 16.6 and the default's 16.3, and an NMI of 0.659
   against 0.673 and 0.675 (bench/README.md).

What differs from umap-learn: exact neighbours instead of NN-descent (the
graph of 70,000 points takes 40-60 s on 2 cores); one connected layout
whatever the number of graph components; ``transform`` places a new point
at the membership-weighted mean of its neighbours' positions (umap-learn's
starting point for new points) without further optimisation, so each
point's result depends on that point alone. Summation order on several
threads makes runs differ in the last bits.
"""
import functools
import time
import warnings
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["UMAP", "memberships", "curve_ab"]

EPOCHS_PER_CALL = 50       # layout epochs per graph call
BISECTIONS = 64            # halvings of sigma's bracket: far below float64's resolution


def memberships(d, rho, target):
    """Fuzzy memberships of neighbours at distances ``d`` (n, k), each row
    relative to its ``rho`` (distance to its nearest other point):
    ``exp(-max(d - rho, 0) / sigma)`` with each row's sigma found by
    bisection so that the row sums to ``target`` (umap-learn's
    ``smooth_knn_dist``: ``log2`` of the number of neighbours, the point
    itself included). Returns ``(w, sigma)``."""
    d = np.asarray(d, np.float64)
    n = len(d)
    rest = np.maximum(d - rho[:, None], 0.0)
    lo, hi, sigma = np.zeros(n), np.full(n, np.inf), np.ones(n)
    for _ in range(BISECTIONS):                 # every row's search at once
        over = np.exp(-rest / sigma[:, None]).sum(1) > target
        hi = np.where(over, sigma, hi)
        lo = np.where(over, lo, sigma)
        sigma = np.where(np.isinf(hi), sigma * 2, (lo + hi) / 2)
    # umap-learn's floor, so that a point in a tight clump keeps finite weights
    sigma = np.maximum(sigma, 1e-3 * np.where(rho > 0, d.mean(1), d.mean()))
    return np.exp(-rest / sigma[:, None]), sigma


def curve_ab(min_dist, spread=1.0):
    """``a, b`` of ``1 / (1 + a d^(2b))`` least-squares fitted to UMAP's
    target curve (1 up to ``min_dist``, then ``exp(-(d - min_dist) / spread)``)."""
    from scipy.optimize import curve_fit
    x = np.linspace(0, 3 * spread, 300)
    y = np.where(x < min_dist, 1.0, np.exp(-(x - min_dist) / spread))
    (a, b), _ = curve_fit(lambda x, a, b: 1.0 / (1.0 + a * x ** (2 * b)), x, y)
    return float(a), float(b)


def fuzzy_graph(z, n_neighbors):
    """UMAP's fuzzy simplicial set of ``z`` (symmetric, sparse COO), the
    fitted ``NearestNeighbors`` and each point's rho (distance to its nearest
    other point, 0 where it has none)."""
    n = len(z)
    nn = NearestNeighbors(n_neighbors=n_neighbors).fit(z)
    d, idx = nn.kneighbors(z)
    d = d.astype(np.float64)
    itself = idx == np.arange(n)[:, None]
    rho = np.where(itself | (d <= 0), np.inf, d).min(1)
    rho[~np.isfinite(rho)] = 0.0
    # sigma from a point's other neighbours (the first column is itself, or a duplicate)
    _, sigma = memberships(d[:, 1:], rho, np.log2(n_neighbors))
    w = np.exp(-np.maximum(d - rho[:, None], 0.0) / sigma[:, None])
    w[itself] = 0.0
    p = sp.csr_matrix((w.ravel(), (np.repeat(np.arange(n), n_neighbors), idx.ravel())),
                      shape=(n, n))
    p = p + p.T - p.multiply(p.T)
    p.eliminate_zeros()
    return p.tocoo(), nn, rho


def spectral_start(p, dim, rng):
    """The normalised Laplacian's eigenvectors 1..dim, scaled to [0, 10]
    (uniform noise where ARPACK fails, as umap-learn falls back)."""
    from scipy.sparse.linalg import eigsh
    n = p.shape[0]
    try:
        scale = sp.diags(1 / np.sqrt(np.asarray(p.sum(0)).ravel()))
        lap = sp.identity(n) - scale @ p @ scale
        vals, vecs = eigsh(lap, dim + 1, which="SM", ncv=min(n - 1, max(2 * dim + 3, int(np.sqrt(n)))),
                           tol=1e-4, v0=np.ones(n), maxiter=n * 5)
        y = vecs[:, np.argsort(vals)[1:dim + 1]]
        y = 10 * y / np.abs(y).max() + rng.normal(scale=1e-4, size=y.shape)
    except Exception as e:   # ARPACK did not converge
        warnings.warn(f"UMAP's spectral start failed ({e}); starting from uniform noise")
        y = rng.uniform(-10, 10, size=(n, dim))
    y = 10 * (y - y.min(0)) / np.maximum(y.max(0) - y.min(0), 1e-12)
    return y.astype(np.float32)


def optimize_layout(p, start, n_epochs, a, b, seed, negative_rate=5, report=None, groups=1):
    """umap-learn's negative-sampling SGD on the graph ``p`` from ``start``,
    ``EPOCHS_PER_CALL`` epochs per graph call, each epoch's edges updated in
    ``groups`` random groups, ``report(epochs done)`` after each call.
    Returns the positions (float32)."""
    import tensorflow as tf
    p = p.copy()
    p.data[p.data < p.data.max() / n_epochs] = 0          # as umap-learn: too rare to sample
    p.eliminate_zeros()
    every = (p.data.max() / p.data).astype(np.float32)     # epochs between samples of an edge
    every_neg = every / negative_rate
    # the curve's constants, each rounded once to float32 from float64
    curve = tf.constant([a, b, b - 1, -2 * a * b, 2 * b], tf.float32)
    # the rate falls by 1 / n_epochs an epoch: a float32 reciprocal, as
    # TensorFlow's graph optimiser made of the division by a constant when the
    # graph was traced per call, so layouts are the same bit for bit as then
    per_epoch = tf.constant(np.float32(1) / np.float32(n_epochs))
    every, every_neg = tf.constant(every), tf.constant(every_neg)
    # each edge's next positive and negative sample start at its interval
    state = (tf.constant(start, tf.float32), every, every_neg)
    edges = (tf.constant(p.row.astype(np.int32)), tf.constant(p.col.astype(np.int32)), every,
             every_neg)
    run = _layout_epochs(int(groups))     # a Python int: the graph's group loop is int32
    for first in range(0, n_epochs, EPOCHS_PER_CALL):
        state = run(*state, *edges, first, min(n_epochs, first + EPOCHS_PER_CALL),
                    per_epoch, curve, int(seed))
        if report is not None:
            report(min(n_epochs, first + EPOCHS_PER_CALL))
    return state[0].numpy()


@functools.cache
def _layout_epochs(groups):
    """The layout's epochs ``first .. last - 1`` as one TensorFlow graph,
    traced once per process: ``(positions, next positive sample of each edge,
    next negative sample) -> the same after those epochs``."""
    import tensorflow as tf
    f32, i32 = tf.float32, tf.int32

    def attract(diff, a, b, bm1, m2ab):
        d2 = tf.reduce_sum(diff * diff, 1)
        s = tf.maximum(d2, 1e-12)
        c = tf.where(d2 > 0, m2ab * s ** bm1 / (a * s ** b + 1), 0.0)
        return tf.clip_by_value(c[:, None] * diff, -4.0, 4.0)

    def repel(diff, a, b, twob):
        d2 = tf.reduce_sum(diff * diff, 1)
        s = tf.maximum(d2, 1e-12)
        c = twob / ((0.001 + s) * (a * s ** b + 1))
        return tf.where((d2 > 0)[:, None], tf.clip_by_value(c[:, None] * diff, -4.0, 4.0), 4.0)

    def negatives(y, h, k, n, key, a, b, twob, rate):
        """The summed repulsion of ``k`` uniform negative samples for each head ``h``."""
        rh = tf.repeat(h, k)
        rt = tf.random.stateless_uniform(tf.shape(rh), key, minval=0, maxval=n, dtype=i32)
        keep = rh != rt
        rh, rt = tf.boolean_mask(rh, keep), tf.boolean_mask(rt, keep)
        g = repel(tf.gather(y, rh) - tf.gather(y, rt), a, b, twob) * rate
        return tf.math.unsorted_segment_sum(g, rh, n)

    def pull(y, h, t, n, a, b, bm1, m2ab, rate):
        """The summed attraction along the edges ``h -> t``, both ends moved."""
        g = attract(tf.gather(y, h) - tf.gather(y, t), a, b, bm1, m2ab) * rate
        return tf.math.unsorted_segment_sum(g, h, n) - tf.math.unsorted_segment_sum(g, t, n)

    def epochs(y, next_pos, next_neg, head, tail, every, every_neg, first, last, per_epoch, curve,
               seed):
        a, b, bm1, m2ab, twob = tf.unstack(curve)
        n = tf.shape(y)[0]
        for ep in tf.range(first, last):
            ep = tf.cast(ep, f32)
            rate = 1.0 - ep * per_epoch
            e = tf.where(next_pos <= ep)[:, 0]
            h, t = tf.gather(head, e), tf.gather(tail, e)
            next_pos = tf.tensor_scatter_nd_add(next_pos, e[:, None], tf.gather(every, e))
            en = tf.gather(every_neg, e)
            k = tf.maximum(tf.cast(tf.floor((ep - tf.gather(next_neg, e)) / en), i32), 0)
            next_neg = tf.tensor_scatter_nd_add(next_neg, e[:, None], tf.cast(k, f32) * en)
            if groups == 1:      # every update from the epoch's starting positions
                key = tf.stack([seed, tf.cast(ep, i32)])
                y = y + (pull(y, h, t, n, a, b, bm1, m2ab, rate)
                         + negatives(y, h, k, n, key, a, b, twob, rate))
            else:                # the edges in random groups, positions moved after each
                part = tf.random.stateless_uniform(tf.shape(h), tf.stack([seed, -1 - tf.cast(ep, i32)]),
                                                   minval=0, maxval=groups, dtype=i32)
                for c in tf.range(groups):
                    sel = part == c
                    hc, kc = tf.boolean_mask(h, sel), tf.boolean_mask(k, sel)
                    y = y + pull(y, hc, tf.boolean_mask(t, sel), n, a, b, bm1, m2ab, rate)
                    key = tf.stack([seed, tf.cast(ep, i32) * groups + c])
                    y = y + negatives(y, hc, kc, n, key, a, b, twob, rate)
        return y, next_pos, next_neg

    vec = tf.TensorSpec([None], f32)
    ids = tf.TensorSpec([None], i32)
    scalar = tf.TensorSpec([], i32)
    return tf.function(epochs, input_signature=[
        tf.TensorSpec([None, None], f32), vec, vec, ids, ids, vec, vec, scalar, scalar,
        tf.TensorSpec([], f32), tf.TensorSpec([5], f32), scalar])


def check_size(n, n_neighbors, n_components, names=("n_neighbors", "n_components")):
    """A clear error unless UMAP can lay ``n`` samples out with these settings."""
    if not 2 <= n_neighbors < n:
        fix = f"give {names[0]} between 2 and {n - 1}" if n > 2 else "give more samples"
        raise ValueError(f"{names[0]}={n_neighbors} must be at least 2 and below the number "
                         f"of samples (n_samples={n}): {fix}")
    if not 1 <= n_components < n - 1:
        raise ValueError(f"{names[1]}={n_components} must be at least 1 and below the number "
                         f"of samples - 1 (n_samples={n}): give fewer dimensions or more samples")


class UMAP(TransformerMixin, BaseEstimator):
    """UMAP's embedding of a point cloud, without umap-learn (module docstring).

    Parameters
    ----------
    n_components : int, default 2
        Dimensions of the layout.
    n_neighbors : int, default 15
        Neighbours of each point in the fuzzy graph (N2D: 20).
    min_dist : float, default 0.1
        How close the layout may pack points (N2D: 0.0).
    n_epochs : int, optional
        Layout epochs; default as umap-learn: 200 above 10,000 points, else 500.
    negative_rate : int, default 5
        Negative samples per positive one.
    update_groups : int, default 10
        Each epoch's sampled edges are updated in this many random groups,
        one after another (umap-learn: one edge after another); 1 computes
        all of an epoch's updates from the positions at its start.
    random_state : int, optional
        Seeds the spectral start's jitter and the negative sampling.
    verbose : int, default 0
        1: print each stage's time, and the layout's progress every 50 epochs.

    Attributes
    ----------
    embedding_ : ndarray (n_samples, n_components)
        The layout of the points given to ``fit``.
    a_, b_ : float
        The fitted curve ``1 / (1 + a d^(2b))``.
    train_ : ndarray (n_samples, n_features)
        The points given to ``fit`` (``transform`` finds neighbours among them).
    snap_ : float
        A new point within this distance of a training point takes its
        position: 1e-4 of the median distance to the nearest other point
        (duplicates not counted).
    """

    def __init__(self, n_components=2, *, n_neighbors=15, min_dist=0.1, n_epochs=None,
                 negative_rate=5, update_groups=10, random_state=None, verbose=0):
        self.update_groups = update_groups
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.n_epochs = n_epochs
        self.negative_rate = negative_rate
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, z, y=None):
        z = check_array(z, dtype=np.float32)
        n = len(z)
        check_size(n, self.n_neighbors, self.n_components)
        g = self.update_groups
        if isinstance(g, bool) or not isinstance(g, Integral) or g < 1:
            raise ValueError(f"update_groups={self.update_groups!r} must be a whole number of at least 1")
        seed = 0 if self.random_state is None else int(self.random_state)
        say = (lambda line: print(line, flush=True)) if self.verbose else (lambda line: None)
        t0 = time.perf_counter()
        p, self._nn, rho = fuzzy_graph(z, self.n_neighbors)
        t1 = time.perf_counter()
        say(f"UMAP: neighbour graph of {n} points, {p.nnz} edges  {t1 - t0:.1f}s")
        start = spectral_start(p, self.n_components, np.random.default_rng(seed))
        t2 = time.perf_counter()
        say(f"UMAP: spectral start  {t2 - t1:.1f}s")
        epochs = self.n_epochs or (200 if n > 10000 else 500)
        self.a_, self.b_ = curve_ab(self.min_dist)

        def report(done):
            took = time.perf_counter() - t2
            eta = took / done * (epochs - done)
            say(f"UMAP layout epoch {done}/{epochs}  {took:.1f}s  eta {eta:.0f}s")
        self.embedding_ = optimize_layout(p, start, epochs, self.a_, self.b_, seed,
                                          self.negative_rate, report, self.update_groups)
        self.train_ = z
        # a new point this close to a training point takes its position (transform)
        self.snap_ = 1e-4 * (float(np.median(rho)) or 1.0)
        return self

    def restore(self, train, embedding, snap):
        """A fitted layout from saved arrays (``train_``, ``embedding_``,
        ``snap_``), ready to ``transform``. Returns self."""
        self.train_ = np.asarray(train, np.float32)
        self.embedding_ = np.asarray(embedding, np.float32)
        self.snap_ = float(snap)
        self._nn = NearestNeighbors(n_neighbors=self.n_neighbors).fit(self.train_)
        self.a_, self.b_ = curve_ab(self.min_dist)
        return self

    def fit_transform(self, z, y=None):
        return self.fit(z).embedding_

    def transform(self, z):
        """Positions of new points: the membership-weighted mean of their
        ``n_neighbors`` nearest training points' positions; a point within
        1e-4 of the typical neighbour distance of a training point takes that
        point's position (so ``transform`` of the training data gives
        ``embedding_`` back)."""
        check_is_fitted(self, "embedding_")
        z = check_array(z, dtype=np.float32)
        d, idx = self._nn.kneighbors(z)
        d = d.astype(np.float64)
        w, _ = memberships(d, d[:, 0], np.log2(self.n_neighbors))
        w /= w.sum(1, keepdims=True)
        out = np.einsum("nk,nkc->nc", w, self.embedding_[idx].astype(np.float64))
        same = d[:, 0] <= self.snap_
        out[same] = self.embedding_[idx[same, 0]]
        return out.astype(np.float32)
