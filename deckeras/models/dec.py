"""DEC and IDEC: KL(P || Q) to a sharpened target [+ reconstruction]."""
from numbers import Real

import numpy as np
import tensorflow as tf
import keras

from ..layers import ClusteringLayer
from ..training import apply_step, mean, mse
from .base import DeepClusterer
from .docs import ARCH_DOC, ATTRIBUTES_DOC, training_doc

__all__ = ["DEC", "target_distribution"]


def target_distribution(q):
    """DEC's target ``p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j')``,
    ``f_j = sum_i q_ij`` over all the rows given (the whole data set)."""
    q = np.asarray(q, dtype=np.float64)
    weight = q ** 2 / q.sum(axis=0)
    return (weight.T / weight.sum(axis=1)).T


class DEC(DeepClusterer):
    __doc__ = None     # composed below from the parameters all methods share

    def __init__(self, n_clusters=10, *, arch="fc", dims=None, filters=(32, 64, 128),
                 embedding_dim=10, init=None, alpha=1.0, gamma=0.0, keep_decoder=None,
                 augment=False, aug_pretrain=None, rotation=10.0, shift=0.1,
                 pretrain_epochs=200, pretrain_optimizer="sgd", pretrain_lr=None,
                 pretrain_schedule="constant", pretrain_noise=0.0,
                 optimizer="sgd", lr=0.01, momentum=0.9, batch_size=256, maxiter=20000,
                 update_interval=140, tol=1e-3, kmeans_n_init=20, cluster_init="kmeans",
                 random_state=None,
                 brb_interval=None, brb_alpha=0.8, brb_sample=10000,
                 verbose=0, save_dir=None, jit_compile=False, precision="auto",
                 scale="minmax", warm_start=False, distribute=None,
                 tensorboard_dir=None):
        self._store_params(locals())

    def _reconstructs(self):
        return self.gamma > 0 if self.keep_decoder is None else bool(self.keep_decoder)

    _SCALARS = {**DeepClusterer._SCALARS, "alpha": (Real, 0, None, "neither", False),
                "gamma": (Real, 0, None, "left", False)}

    LAYER_ATTR = "clustering_layer_"
    SCORES = "soft_assignments"

    def _build_cluster_model(self, encoder, autoencoder):
        layer = ClusteringLayer(
            self.n_clusters, alpha=self.alpha, centres_initializer=self._centres_initializer(),
            name="clustering", dtype="float32")
        q = layer(encoder.output)
        outputs = [q, autoencoder.output] if self._reconstructs() else q
        return keras.Model(encoder.input, outputs,
                           name="idec" if self._reconstructs() else "dec"), layer

    def _make_cluster_state(self, n):
        return {"P": tf.Variable(tf.zeros((n, self.n_clusters)), trainable=False)}

    def _init_clusters(self, nets, cluster_vars, z, kmeans):
        nets.layer.set_centres(kmeans.cluster_centers_.astype(np.float32))

    def _recluster(self, nets, cluster_vars, centres, x):
        nets.layer.set_centres(np.asarray(centres, np.float32))   # P: at the update that follows

    def _optimized_centres(self, nets):
        return [nets.layer.clusters]

    def _q_of(self, outputs):
        return outputs[0] if isinstance(outputs, (list, tuple)) else outputs

    def _train_step(self, nets, optimizer, cluster_vars, state):
        model, opt, P = nets.model, optimizer, cluster_vars["P"]
        rec, gamma = self._reconstructs(), float(self.gamma)
        kl_weight = gamma if rec else 1.0
        variables = model.trainable_variables

        def step(idx, _clean, xb, weight):  # DEC-DA: xb is aug(x), P came from clean x
            pb = tf.gather(P, idx)
            with tf.GradientTape() as tape:
                out = model(xb, training=True)
                loss = kl_weight * kl_divergence(pb, self._q_of(out))
                if rec:
                    loss += mse(out[1], xb)
                loss = weight * loss
            apply_step(opt, loss, variables, tape)
            return loss
        return step, {"augment": bool(self.augment)}

    def _soft_assign(self, nets, x):
        return nets.full_pass("q", lambda xb: self._q_of(nets.model(xb, training=False)), x)

    def _on_update(self, nets, cluster_vars, x):
        q = self._soft_assign(nets, x)
        cluster_vars["P"].assign(target_distribution(q).astype(np.float32))
        return self.labels_from_scores(q)

    def _scores(self, nets, x):
        return self._soft_assign(nets, x)

    def predict_proba(self, x):
        """Soft assignments q of each sample, shape ``(N, n_clusters)``."""
        x = self._prepare(x)
        return self._soft_assign(self._nets, x)

    def _centres(self, nets):
        return keras.ops.convert_to_numpy(nets.layer.clusters)


def kl_divergence(p, q, eps=1e-7):
    """KL(P || Q) summed over clusters, averaged over the batch (Keras's 'kld')."""
    p = tf.clip_by_value(p, eps, 1.0)
    q = tf.clip_by_value(q, eps, 1.0)
    return mean(tf.reduce_sum(p * tf.math.log(p / q), axis=-1))


DEC.__doc__ = """Deep Embedded Clustering (Xie et al. 2016) and IDEC (Guo et al. 2017).

Pretrains an autoencoder, initialises K centres by k-means on the
embedding, then trains the encoder and the centres on KL(P || Q): Q the
Student's-t soft assignment of each embedding to the centres, P the
sharpened target recomputed from all data every ``update_interval``
iterations. IDEC (``gamma > 0``) keeps the decoder and adds the
reconstruction loss: ``MSE + gamma * KL``. DEC-DA (``augment=True``) takes
its gradient steps on augmented batches while P comes from clean data.

Parameters
----------
n_clusters : int, default 10
    Number of clusters K.
""" + ARCH_DOC + """alpha : float, default 1.0
    Student's t degrees of freedom.
gamma : float, default 0.0
    Weight of the clustering (KL) term when the decoder is kept (IDEC:
    loss = MSE + gamma * KL). Ignored for plain DEC.
keep_decoder : bool, optional
    Train with reconstruction (IDEC). Default: ``gamma > 0``.
""" + training_doc(DEC, "Iterations between target updates; None = one epoch.") + """
Attributes
----------
""" + ATTRIBUTES_DOC + """predict_proba(x) gives the soft assignments Q of new samples.
"""
