"""What a clustering method supplies to the estimator shell ``DeepClusterer``:
the clustering model on the encoder, its loss step, the per-sample state
(DEC's target P, DCN's assignments) and the per-update bookkeeping. ``DEC``
and ``DCN`` implement these hooks; a new method subclasses ``DeepClusterer``
and implements the abstract ones."""
import abc

import numpy as np

__all__ = ["ClusteringMethod"]


class ClusteringMethod(abc.ABC):
    """The hooks a method implements (``nets``: ``trainer.build_networks``'s)."""

    LAYER_ATTR = None      # the fitted attribute naming the cluster layer
    # the per-cluster scores ``_scores`` gives: "soft_assignments" (the largest
    # wins) or "distances" (the nearest centre wins)
    SCORES = None

    @abc.abstractmethod
    def _build_cluster_model(self, encoder, autoencoder):
        """Return ``(model, cluster_layer)``: the clustering model on ``encoder``."""

    def _trainable_variables(self, nets):
        return nets.model.trainable_variables

    @abc.abstractmethod
    def _make_cluster_state(self, n):
        """The per-sample state of ``n`` samples (DEC's P, DCN's assignments):
        name -> variable, checkpointed under these names."""

    def _start(self, z):
        """The clusters' start on the embeddings ``z``: a fitted object with
        ``labels_`` and ``cluster_centers_`` (k-means, or the Gaussian mixture
        of ``cluster_init='gmm'``), and the name the log gives it."""
        from ..trainer import kmeans_start
        return (kmeans_start(z, self.n_clusters, self.kmeans_n_init, self.random_state,
                             how=self.cluster_init),
                "GMM" if self.cluster_init == "gmm" else "k-means")

    @abc.abstractmethod
    def _init_clusters(self, nets, cluster_vars, z, kmeans):
        """Set the clusters from the start ``_start`` gave on the embeddings ``z``."""

    @abc.abstractmethod
    def _recluster(self, nets, cluster_vars, centres, x):
        """BRB's reclustering: the clusters restart from ``centres`` (k-means
        on the embedding after a soft reset), keeping what the method carries
        across resets (DCN's counts); ``x`` (prepared) for per-sample state."""

    def _optimized_centres(self, nets):
        """The centre variables the clustering optimizer trains (their
        optimizer state is cleared at a BRB reset); none by default."""
        return []

    def _warm_init(self, cluster_vars, labels):
        """warm_start: set the per-sample state from the current ``labels``."""

    def _after_init(self, nets, x, state):
        """After the k-means start, before clustering (DCN's lamda='auto')."""

    @abc.abstractmethod
    def _train_step(self, nets, optimizer, cluster_vars, state):
        """Return ``(step, options)``: ``step(idx, x_clean, x_seen, weight) -> loss``
        for one mini-batch ``x_clean = x[idx]`` (the indices address per-sample
        state) and what the gradient step sees (``aug(x_clean)`` when
        augmenting); ``options`` for ``Trainer.compile`` (augment, after)."""

    @abc.abstractmethod
    def _on_update(self, nets, cluster_vars, x):
        """Every ``update_interval`` iterations: refresh targets from clean
        data and return the current labels of all samples."""

    @abc.abstractmethod
    def _scores(self, nets, x):
        """Per-cluster scores ``(N, n_clusters)`` of ``x`` (prepared), named by ``SCORES``."""

    @abc.abstractmethod
    def _centres(self, nets):
        """The cluster centres in the embedding space, ``(K, embedding_dim)``."""

    def _fitted_extras(self, state):
        """Further fitted attributes from the final run state (DCN's lamda_)."""

    def labels_from_scores(self, scores):
        """The cluster of each row of ``cluster_scores``: the largest soft
        assignment, or the nearest centre."""
        scores = np.asarray(scores)
        best = scores.argmin(1) if self.SCORES == "distances" else scores.argmax(1)
        return best.astype(np.int64)

    def _labels_of(self, nets, x):
        return self.labels_from_scores(self._scores(nets, x))

    def _embed(self, nets, x):
        return nets.full_pass("embed", lambda xb: nets.encoder(xb, training=False), x)
