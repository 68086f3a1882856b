"""DCN (Yang et al. 2017): reconstruction + (lamda/2) ||f(x) - M s||^2."""
from numbers import Real

import keras
import numpy as np
import tensorflow as tf

from ..layers import ClusterCentres, squared_distances
from ..training import apply_step, mean, mse
from .base import DeepClusterer
from .docs import ARCH_DOC, ATTRIBUTES_DOC, training_doc

__all__ = ["DCN", "update_centres", "AUTO_LAMDA_RATIO"]

# lamda='auto': the weight that makes the k-means term start at this many times
# the reconstruction error, whatever the scale of the network's embedding
# (with lamda=1 that ratio varied by an order of magnitude between networks;
# bench/README.md, "Small data", has the sweep).
AUTO_LAMDA_RATIO = 5.0


def update_centres(centres, counts, z, assign, totals=None):
    """DCN's centre update for one mini-batch, exactly as the per-sample rule.

    For each sample i (in order) in cluster k: ``c_k += 1``,
    ``m_k -= (m_k - z_i) / c_k``. Applied sample by sample this is a running
    mean, so for the whole batch it equals
    ``m_k <- (c_k m_k + sum_i z_i) / (c_k + n_k)`` and ``c_k <- c_k + n_k``,
    which is what is computed here (any array backend). Under a
    ``tf.distribute`` strategy each replica holds part of the batch: pass
    ``totals=(n_k, sum_z)`` summed over all replicas instead of ``z`` and
    ``assign``, and the update is the one a single device makes from the
    whole global batch.

    Returns ``(new_centres, new_counts)``.
    """
    if totals is None:
        k = tf.shape(centres)[0]
        z = tf.cast(z, centres.dtype)
        n_k = tf.math.unsorted_segment_sum(tf.ones_like(z[:, 0]), assign, k)
        sums = tf.math.unsorted_segment_sum(z, assign, k)
    else:
        n_k, sums = totals
    new_counts = counts + n_k
    new_centres = (centres * counts[:, None] + sums) / new_counts[:, None]
    return new_centres, new_counts


class DCN(DeepClusterer):
    __doc__ = None     # composed below from the parameters all methods share

    def __init__(self, n_clusters=10, *, arch="fc", dims=None, filters=(32, 64, 128),
                 embedding_dim=10, init=None, lamda=1.0, init_count=100.0,
                 augment=False, aug_pretrain=None, rotation=10.0, shift=0.1,
                 pretrain_epochs=200, pretrain_optimizer="sgd", pretrain_lr=None,
                 pretrain_schedule="constant", pretrain_noise=0.0,
                 optimizer="adam", lr=1e-4, momentum=0.9, batch_size=256, maxiter=20000,
                 update_interval=None, tol=0.0, kmeans_n_init=20, cluster_init="kmeans",
                 random_state=None,
                 brb_interval=None, brb_alpha=0.8, brb_sample=10000,
                 verbose=0, save_dir=None, jit_compile=False, precision="auto",
                 scale="minmax", warm_start=False, distribute=None,
                 tensorboard_dir=None):
        self._store_params(locals())

    _SCALARS = {**DeepClusterer._SCALARS, "lamda": (Real, 0, None, "neither", False),
                "init_count": (Real, 1, None, "left", False)}
    _AUTO = ("lamda",)

    LAYER_ATTR = "centres_layer_"
    SCORES = "distances"

    def _after_init(self, nets, x, state):
        lamda = self.lamda
        if lamda == "auto":       # k-means term = AUTO_LAMDA_RATIO x reconstruction, at the start
            rec, clu = self._start_terms(nets, x)
            # never above the paper's 1: an undertrained autoencoder (large error,
            # tiny embedding) would otherwise get a weight in the thousands
            lamda = min(1.0, 2.0 * AUTO_LAMDA_RATIO * rec / clu) if clu > 0 else 1.0
        state.lamda = float(lamda)

    def _start_terms(self, nets, x):
        """The two terms of the loss over ``x`` (prepared) as the model stands:
        the reconstruction MSE and the mean squared distance to the nearest
        centre (the assigned one right after the k-means start), in one pass."""
        def terms(xb):
            dist, rec = nets.model(xb, training=False)
            err = tf.square(tf.cast(rec, xb.dtype) - xb)
            return tf.stack([tf.reduce_mean(tf.reshape(err, [tf.shape(xb)[0], -1]), axis=1),
                             tf.reduce_min(dist, axis=1)], axis=1)
        rec, clu = nets.full_pass("terms", terms, x).mean(axis=0)
        return float(rec), float(clu)

    def _build_cluster_model(self, encoder, autoencoder):
        layer = ClusterCentres(self.n_clusters, self.init_count, name="centres", dtype="float32")
        dist = layer(encoder.output)
        return keras.Model(encoder.input, [dist, autoencoder.output], name="dcn"), layer

    def _trainable_variables(self, nets):
        return nets.autoencoder.trainable_variables

    def _make_cluster_state(self, n):
        return {"S": tf.Variable(tf.zeros([n], tf.int32), trainable=False)}

    def _init_clusters(self, nets, cluster_vars, z, kmeans):
        nets.layer.centres.assign(kmeans.cluster_centers_.astype(np.float32))
        nets.layer.counts.assign(np.full(self.n_clusters, self.init_count, dtype=np.float32))
        cluster_vars["S"].assign(kmeans.labels_.astype(np.int32))

    def _recluster(self, nets, cluster_vars, centres, x):
        # the BRB code keeps DCN's counts (and resets no centre momentum: the
        # centres move by counts, not by the optimizer)
        nets.layer.centres.assign(np.asarray(centres, np.float32))
        cluster_vars["S"].assign(self._labels_of(nets, x).astype(np.int32))

    def _warm_init(self, cluster_vars, labels):
        cluster_vars["S"].assign(labels.astype(np.int32))

    def _lamda_in_use(self, state):
        return float(self.lamda if state.lamda is None else state.lamda)   # older checkpoints: lamda

    def _train_step(self, nets, optimizer, cluster_vars, state):
        enc, dec, opt, S = nets.encoder, nets.decoder, optimizer, cluster_vars["S"]
        centres, counts = nets.layer.centres, nets.layer.counts
        half_lamda = 0.5 * self._lamda_in_use(state)
        variables = nets.autoencoder.trainable_variables
        k = self.n_clusters

        def step(idx, x_clean, xb, weight):      # xb: aug(x_clean) for DCN-DA
            target = tf.gather(centres, tf.gather(S, idx))
            with tf.GradientTape() as tape:
                z = enc(xb, training=True)
                r = dec(z, training=True)
                rec = mse(r, xb)
                clu = half_lamda * mean(tf.reduce_sum(tf.square(z - target), axis=1))
                loss = weight * (rec + clu)
            apply_step(opt, loss, variables, tape)
            # (2) re-encode the clean batch and assign; (3) in ``after``: move
            # the centres from the assignments of every replica's share.
            z_clean = tf.cast(enc(x_clean, training=False), centres.dtype)
            s_new = tf.argmin(squared_distances(z_clean, centres), axis=1, output_type=tf.int32)
            return loss, {"idx": idx, "s": s_new}, {
                "n_k": tf.math.unsorted_segment_sum(tf.ones_like(z_clean[:, 0]), s_new, k),
                "z": tf.math.unsorted_segment_sum(z_clean, s_new, k)}

        def after(samples, sums):
            idx = tf.cast(samples["idx"], tf.int32)[:, None]
            s_new = tf.cast(samples["s"], tf.int32)
            # a mirrored variable (any tf.distribute strategy, one replica or
            # several) has no scatter: assign it whole
            if isinstance(S, tf.distribute.DistributedValues):
                s_op = S.assign(tf.tensor_scatter_nd_update(S, idx, s_new))
            else:
                s_op = S.scatter_nd_update(idx, s_new)
            new_c, new_n = update_centres(centres, counts, None, None,
                                          totals=(sums["n_k"], sums["z"]))
            return [s_op, centres.assign(new_c), counts.assign(new_n)]
        return step, {"augment": bool(self.augment), "after": after}

    def _on_update(self, nets, cluster_vars, x):
        return self._labels_of(nets, x)

    def _scores(self, nets, x):
        return nets.full_pass("distances", lambda xb: nets.model(xb, training=False)[0], x)

    def _centres(self, nets):
        return keras.ops.convert_to_numpy(nets.layer.centres)

    def _fitted_extras(self, state):
        self.lamda_ = self._lamda_in_use(state)

    @property
    def counts_(self):
        """How many samples each centre has absorbed (starting at ``init_count``)."""
        return keras.ops.convert_to_numpy(self.centres_layer_.counts)


DCN.__doc__ = """Deep Clustering Network (Yang et al. 2017): the k-means-friendly loss.

Per mini-batch: (1) a gradient step on the autoencoder for
``MSE(g(f(x)), x) + lamda/2 * ||f(x) - M s||^2`` with the centres ``M``
and the stored assignments ``s`` fixed; (2) the clean batch is re-encoded
and each sample assigned to its nearest centre; (3) each centre moves
towards its samples with step ``1 / count``. With ``augment=True``
(DCN-DA) step (1) sees augmented inputs while (2) and (3) use clean ones.
Labels are the nearest centre of each embedding.

Parameters
----------
n_clusters : int, default 10
    Number of clusters K.
""" + ARCH_DOC + """lamda : float or 'auto', default 1.0
    Weight of the clustering term. 'auto' chooses it after the k-means
    initialisation so that the clustering term starts at
    ``AUTO_LAMDA_RATIO`` (5) times the reconstruction error, whatever the
    scale of the network's embedding, but never above 1 (the small-data
    default).
init_count : float, default 100
    Starting count of every centre. The paper's rule with counts from 1
    lets the first few samples drag a centre far from its k-means
    position; the official code starts at 100, which keeps the early
    steps small. Counts are never reset.
""" + training_doc(DCN, "Iterations between label checks (for ``tol``); None = one epoch.") + """
Attributes
----------
""" + ATTRIBUTES_DOC + """lamda_ : float
    The weight of the clustering term used (``lamda``, or what 'auto' chose).
counts_ : ndarray of shape (n_clusters,)
    How many samples each centre has absorbed (starting at ``init_count``).
"""
