"""N2D (McConville et al. 2020): the autoencoder's embedding, laid out by
UMAP and clustered by a Gaussian mixture."""
from numbers import Integral, Real

import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted

from ..layers import LayoutMixture
from ..manifold import UMAP, check_size
from .base import DeepClusterer
from .docs import ARCH_DOC, shared_doc

__all__ = ["N2D"]

# UMAP runs on at most this many embeddings (a seeded sample beyond), and
# ``transform`` places the others: its exact neighbour graph and layout
# take minutes at 70,000 points and grow faster than linearly.
UMAP_SAMPLE = 100_000
# The arrays saved beside the encoder's weights (``save``, the run folder's
# model files): the training embeddings and their layout (``transform`` of
# new points needs both) and the mixture.
N2D_ARRAYS = ("n2d_z", "n2d_layout", "n2d_snap", "gmm_weights", "gmm_means", "gmm_covariances",
              "gmm_precisions_cholesky")


class _Start:
    """The start ``Trainer.initialise`` expects (labels and centres in the embedding)."""

    def __init__(self, labels, centres):
        self.labels_, self.cluster_centers_ = labels, centres


class N2D(DeepClusterer):
    __doc__ = None     # composed below

    def __init__(self, n_clusters=10, *, arch="fc", dims=None, filters=(32, 64, 128),
                 embedding_dim=10, init=None, umap_dim=None, umap_neighbors=20,
                 umap_min_dist=0.0, umap_epochs=None, umap_update_groups=10, gmm_n_init=1,
                 aug_pretrain=False, rotation=10.0, shift=0.1,
                 pretrain_epochs=200, pretrain_optimizer="adam", pretrain_lr=None,
                 pretrain_schedule="constant", pretrain_noise=0.0, momentum=0.9,
                 batch_size=256, random_state=None, verbose=0, save_dir=None,
                 jit_compile=False, precision="auto", scale="minmax", distribute=None,
                 tensorboard_dir=None):
        self._store_params(locals())

    # What the shared training loop reads of a method and N2D does not have:
    # no clustering iterations (the mixture is the result), no BRB, no warm start.
    augment, maxiter, tol, update_interval = False, 0, 0.0, None
    optimizer, lr, kmeans_n_init, cluster_init = "adam", None, 1, "kmeans"
    brb_interval, brb_alpha, brb_sample, warm_start = None, 0.8, 10000, False

    _SCALARS = {**DeepClusterer._SCALARS,
                "umap_dim": (Integral, 1, None, "left", True),
                "umap_neighbors": (Integral, 2, None, "left", False),
                "umap_min_dist": (Real, 0, None, "left", False),
                "umap_epochs": (Integral, 1, None, "left", True),
                "umap_update_groups": (Integral, 1, None, "left", False),
                "gmm_n_init": (Integral, 1, None, "left", False)}

    LAYER_ATTR = "embedding_layer_"
    SCORES = "soft_assignments"

    def _build_cluster_model(self, encoder, autoencoder):
        # the model saved and loaded is the encoder: the clusters are arrays
        return encoder, encoder.layers[-1]

    def fit(self, x, y=None, callbacks=None):
        for attr in ("umap_", "gmm_", "_centres_", "_labels"):     # a refit starts over
            self.__dict__.pop(attr, None)
        super().fit(x, y, callbacks)
        if not hasattr(self, "gmm_"):   # resumed from the checkpoint of a finished run
            self._redo_start(self.transform(x))
            self.labels_ = self._labels
        return self

    fit.__doc__ = DeepClusterer.fit.__doc__

    def _fit_input(self, x, y=None):
        x, y, found = super()._fit_input(x, y)
        check_size(min(len(x), UMAP_SAMPLE), self.umap_neighbors, self.umap_dim or self.n_clusters,
                   ("umap_neighbors", "umap_dim (default n_clusters)"))
        return x, y, found

    def _make_cluster_state(self, n):
        return {}

    def _new_umap(self, verbose=0):
        """The layout these settings describe: fitted by ``_start``, restored on load."""
        return UMAP(self.umap_dim or self.n_clusters, n_neighbors=self.umap_neighbors,
                    min_dist=self.umap_min_dist, n_epochs=self.umap_epochs,
                    update_groups=self.umap_update_groups, random_state=self.random_state,
                    verbose=verbose)

    def _start(self, z):
        """UMAP of the embeddings to ``umap_dim`` dimensions (of a seeded
        sample of ``UMAP_SAMPLE`` of them beyond that many, the others placed
        by ``transform``), then the mixture on the layout."""
        self.umap_ = self._new_umap(self.verbose)
        if len(z) > UMAP_SAMPLE:
            rows = np.sort(np.random.default_rng(self.random_state).choice(
                len(z), UMAP_SAMPLE, replace=False))
            self.umap_.fit(z[rows])
            layout = self.umap_.transform(z)
        else:
            layout = self.umap_.fit_transform(z)
        self.gmm_ = GaussianMixture(self.n_clusters, covariance_type="full", n_init=self.gmm_n_init,
                                    random_state=self.random_state).fit(layout)
        resp = self.gmm_.predict_proba(layout)
        self._labels = resp.argmax(1).astype(np.int64)
        return _Start(self._labels, _weighted_means(resp, z)), "UMAP + GMM"

    def _init_clusters(self, nets, cluster_vars, z, start):
        self._centres_ = np.asarray(start.cluster_centers_, np.float32)

    def _recluster(self, nets, cluster_vars, centres, x):
        raise TypeError("N2D has no clustering iterations, so no BRB resets")

    def _train_step(self, nets, optimizer, cluster_vars, state):
        def step(idx, _clean, xb, weight):      # never called: maxiter is 0
            return 0.0 * weight
        return step, {}

    def _redo_start(self, z):
        """The layout and the mixture again, on a resume: a checkpoint holds
        the encoder and the labels, not what was fitted on its embedding."""
        start, _ = self._start(z)
        self._init_clusters(None, None, z, start)

    def _on_update(self, nets, cluster_vars, x):
        if not hasattr(self, "gmm_"):   # resumed from a checkpoint taken right after the start
            self._redo_start(self._embed(nets, x))
        return self._labels

    def _scores(self, nets, x):
        return self.gmm_.predict_proba(self.umap_.transform(self._embed(nets, x)))

    def predict_proba(self, x):
        """The mixture's responsibilities for each sample, shape ``(N, n_clusters)``."""
        return self.cluster_scores(x)

    def _centres(self, nets):
        return self._centres_

    def _inference_head(self):
        check_is_fitted(self, "gmm_")
        u, g = self.umap_, self.gmm_
        return LayoutMixture(
            len(u.train_), u.train_.shape[1], u.embedding_.shape[1], self.n_clusters,
            self.umap_neighbors, name="layout_mixture",
            initial=dict(train=u.train_, layout=u.embedding_, snap=u.snap_, means=g.means_,
                         precisions_cholesky=g.precisions_cholesky_, weights=g.weights_))

    # ------------------------------------------------------------ persistence
    def _saved_arrays(self, found=None):
        arrays = super()._saved_arrays(found) or {}
        if hasattr(self, "gmm_"):
            g = self.gmm_
            arrays.update(n2d_z=self.umap_.train_, n2d_layout=self.umap_.embedding_,
                          n2d_snap=np.float64(self.umap_.snap_), gmm_weights=g.weights_,
                          gmm_means=g.means_, gmm_covariances=g.covariances_,
                          gmm_precisions_cholesky=g.precisions_cholesky_)
        return arrays

    def _load_arrays(self, arrays):
        missing = [k for k in N2D_ARRAYS if k not in arrays]
        if missing:
            raise ValueError(f"these weights hold no N2D clusters (no {missing[0]}): "
                             f"they were saved by another method, or before clustering")
        self.umap_ = self._new_umap().restore(arrays["n2d_z"], arrays["n2d_layout"],
                                              float(arrays["n2d_snap"]))
        g = GaussianMixture(self.n_clusters, covariance_type="full")
        g.weights_, g.means_ = arrays["gmm_weights"], arrays["gmm_means"]
        g.covariances_ = arrays["gmm_covariances"]
        g.precisions_cholesky_ = arrays["gmm_precisions_cholesky"]
        g.precisions_ = np.einsum("kij,klj->kil", g.precisions_cholesky_, g.precisions_cholesky_)
        g.converged_, g.n_iter_, g.lower_bound_ = True, 0, -np.inf
        self.gmm_ = g
        self._centres_ = _weighted_means(g.predict_proba(self.umap_.embedding_),
                                         arrays["n2d_z"])


def _weighted_means(resp, z):
    """Each component's mean embedding, weighted by its responsibilities."""
    z = np.asarray(z, np.float64)
    return ((resp.T @ z) / np.maximum(resp.sum(0), 1e-12)[:, None]).astype(np.float32)


N2D.__doc__ = """N2D (McConville et al. 2020): "not too deep" clustering.

Pretrains an autoencoder, lays its embedding out with UMAP (McInnes et al.
2018; ``deckeras.manifold.UMAP``, built from deckeras's own dependencies)
in ``umap_dim`` dimensions with ``umap_min_dist`` 0, and clusters the
layout with a Gaussian mixture (full covariances). There are no clustering
iterations: the mixture's most likely component is each sample's label.
``predict`` places new samples in the layout by their nearest training
embeddings (``UMAP.transform``), so the training embeddings and their
layout are kept and saved with the weights.

Parameters
----------
n_clusters : int, default 10
    Number of clusters K (the mixture's components).
""" + ARCH_DOC + """umap_dim : int, optional
    Dimensions of the UMAP layout; default ``n_clusters`` (N2D's).
umap_neighbors : int, default 20
    Neighbours of each embedding in UMAP's graph (N2D's 20).
umap_min_dist : float, default 0.0
    UMAP's min_dist (N2D's 0: clusters pack tightly).
umap_epochs : int, optional
    UMAP layout epochs; default 200 above 10,000 samples, else 500.
umap_update_groups : int, default 10
    Each layout epoch applies its sampled edges in this many random groups,
    one after another, as umap-learn's per-edge order packs clusters; 1
    applies them all from the epoch's starting positions (deckeras's layout
    before 2026-12-07).
gmm_n_init : int, default 1
    Starts of the Gaussian mixture (the best likelihood is kept).
aug_pretrain : bool, default False
    Pretrain on augmented data (random rotation and shift; images only).
""" + shared_doc(["rotation", "pretrain_epochs", "pretrain_optimizer",
                 "pretrain_lr", "pretrain_schedule", "pretrain_noise", "batch_size", "verbose",
                 "save_dir", "tensorboard_dir", "jit_compile", "precision", "scale", "distribute"],
                pretrain_optimizer="'adam'") + """momentum : float, default 0.9
    SGD momentum of the pretraining (``pretrain_optimizer='sgd'``).
random_state : int, optional
    Seeds the initial weights, the mini-batch order, the augmentation, UMAP
    and the mixture: the same seed gives the same labels on the same machine.

Attributes
----------
labels_ : ndarray of shape (n_samples,)
    Cluster of each training sample.
cluster_centers_ : ndarray of shape (n_clusters, embedding_dim)
    Each component's responsibility-weighted mean embedding.
umap_ : deckeras.manifold.UMAP
    The fitted layout (``umap_.embedding_``: the training samples').
gmm_ : sklearn.mixture.GaussianMixture
    The mixture fitted on the layout.
init_labels_, init_metrics_ : ndarray, dict or None
    The same labels, and acc/nmi/ari when ``y`` was given.
history_ : list of dict
    One row: the labels' metrics.
pretrain_history_ : list of dict
    epoch, loss, time_s of each pretraining epoch.
n_iter_ : int
    0: N2D has no clustering iterations.
n_features_in_, input_scale_, input_offset_, image_shape_
    As for ``DEC``.
autoencoder_, encoder_, decoder_, model_ : keras.Model
    ``model_`` is the encoder.
pretrain_time_, cluster_time_ : float
    Seconds of pretraining, and of UMAP and the mixture.
"""
