"""DEC and IDEC: KL(P || Q) to a sharpened target [+ reconstruction]."""
import numpy as np
import tensorflow as tf
import keras

from ..layers import ClusteringLayer
from ..training import compile_pass, mse
from .base import DeepClusterer

__all__ = ["DEC", "target_distribution"]


def target_distribution(q):
    """DEC's target ``p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j')``,
    ``f_j = sum_i q_ij`` over all the rows given (the whole data set)."""
    q = np.asarray(q, dtype=np.float64)
    weight = q ** 2 / q.sum(axis=0)
    return (weight.T / weight.sum(axis=1)).T


class DEC(DeepClusterer):
    """Deep Embedded Clustering (Xie et al. 2016) and IDEC (Guo et al. 2017).

    Parameters
    ----------
    n_clusters : int, default 10
    arch : {'fc', 'conv'}, default 'fc'
        Dense autoencoder (``dims``) or DEC-DA's convolutional one (``filters``).
    dims : list of int, optional
        Hidden sizes of the dense encoder; default ``[500, 500, 2000]``.
    filters : tuple of int, default (32, 64, 128)
    embedding_dim : int, default 10
    init : initializer, optional
        Dense layers' kernel initialiser (default DEC's VarianceScaling(1/3)).
    alpha : float, default 1.0
        Student's t degrees of freedom.
    gamma : float, default 0.0
        Weight of the clustering (KL) term when the decoder is kept (IDEC:
        loss = MSE + gamma * KL). Ignored for plain DEC.
    keep_decoder : bool, optional
        Train with reconstruction (IDEC). Default: ``gamma > 0``.
    augment : bool, default False
        DEC-DA: gradient steps on augmented batches, targets from clean data.
    aug_pretrain : bool, optional
        Pretrain on augmented data; default: same as ``augment``.
    rotation, shift : float, default 10, 0.1
        Augmentation ranges (degrees; fraction of width/height).
    pretrain_epochs : int, default 200
    pretrain_optimizer : {'sgd', 'adam'}, default 'sgd'
    pretrain_lr : float, optional
        Default 1.0 for SGD (DEC's), 1e-3 for Adam.
    pretrain_schedule : {'constant', 'cosine'}, default 'constant'
        'cosine' decays the pretraining learning rate to 0 over the
        pretraining epochs (not in the papers; bench/README.md compares them).
    optimizer : {'sgd', 'adam'}, default 'sgd'
        Clustering-phase optimiser.
    lr : float, default 0.01
    momentum : float, default 0.9
    batch_size : int, default 256
    maxiter : int, default 20000
    update_interval : int, default 140
        Iterations between target updates; None = one epoch.
    tol : float, default 1e-3
        Stop when fewer than this fraction of labels change between updates.
    kmeans_n_init : int, default 20
    random_state : int, optional
    verbose : int, default 0
    save_dir : str, optional
        Write logs and weights (DESIGN.md's files) here while training.
    jit_compile : bool, default False
        Compile train steps with XLA (augmentation runs outside it). On CPU
        it shortened dense clustering steps (0.74-0.96x) and lengthened conv
        ones (1.5x): bench/README.md.
    precision : {'float32', 'mixed_bfloat16'}, default 'float32'
        Keras dtype policy of the networks. Weights, the embedding layer,
        losses and soft assignments stay float32.
    scale : {'minmax', 'standard', 'none'}, default 'minmax'
        Input scaling fitted in ``fit`` and applied by ``predict`` and
        ``transform``: each feature to [0, 1] (scikit-learn's MinMaxScaler),
        to mean 0 and std 1 (StandardScaler), or as given. Raw features in
        the hundreds make training diverge without it; ``make_method`` gives
        the named data sets 'none' (they come scaled as in the papers).
    warm_start : bool, default False
        ``fit`` on a fitted model goes on training it (no pretraining, no
        k-means). By default every ``fit`` builds fresh networks from the
        current parameters and ``random_state``.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample, from the final weights.
    cluster_centers_ : ndarray of shape (n_clusters, embedding_dim)
    init_labels_, init_metrics_ : the k-means start (metrics when ``y`` was given).
    history_ : list of dict
        One row per target update: iter, loss, delta_label, time_s (and acc,
        nmi, ari when ``y`` was given).
    pretrain_history_ : list of dict
        epoch, loss, time_s of each pretraining epoch.
    n_iter_ : int
    converged_ : bool
        Whether training stopped because delta_label fell below ``tol``.
    n_features_in_ : int
    input_scale_, input_offset_ : ndarray or None
        The fitted scaling ``x * input_scale_ + input_offset_``.
    autoencoder_, encoder_, decoder_, model_ : keras.Model
    pretrain_time_, cluster_time_ : float
        Seconds spent in each phase (summed over resumes).
    """

    def __init__(self, n_clusters=10, arch="fc", dims=None, filters=(32, 64, 128),
                 embedding_dim=10, init=None, alpha=1.0, gamma=0.0, keep_decoder=None,
                 augment=False, aug_pretrain=None, rotation=10.0, shift=0.1,
                 pretrain_epochs=200, pretrain_optimizer="sgd", pretrain_lr=None,
                 pretrain_schedule="constant",
                 optimizer="sgd", lr=0.01, momentum=0.9, batch_size=256, maxiter=20000,
                 update_interval=140, tol=1e-3, kmeans_n_init=20, random_state=None,
                 verbose=0, save_dir=None, jit_compile=False, precision="float32",
                 scale="minmax", warm_start=False):
        self._store_params(locals())

    def _reconstructs(self):
        return self.gamma > 0 if self.keep_decoder is None else bool(self.keep_decoder)

    def _check_params(self):
        super()._check_params()
        if not self.alpha > 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha!r}")
        if self.gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {self.gamma!r}")

    def _build_cluster_model(self):
        enc = self.encoder_
        self.clustering_layer_ = ClusteringLayer(self.n_clusters, alpha=self.alpha,
                                                 name="clustering", dtype="float32")
        q = self.clustering_layer_(enc.output)
        outputs = [q, self.autoencoder_.output] if self._reconstructs() else q
        return keras.Model(enc.input, outputs, name="idec" if self._reconstructs() else "dec")

    def _cluster_layer(self):
        return self.clustering_layer_

    def _make_cluster_state(self, n):
        self._P = tf.Variable(tf.zeros((n, self.n_clusters)), trainable=False)

    def _cluster_state(self):
        return {"P": self._P}

    def _init_clusters(self, z, kmeans):
        self.clustering_layer_.set_centres(kmeans.cluster_centers_.astype(np.float32))

    def _q_of(self, outputs):
        return outputs[0] if isinstance(outputs, (list, tuple)) else outputs

    def _make_train_step(self):
        model, opt, P = self.model_, self.optimizer_, self._P
        rec, gamma, aug = self._reconstructs(), float(self.gamma), bool(self.augment)
        kl_weight = gamma if rec else 1.0
        variables = model.trainable_variables

        def step(idx, _clean, xb):       # DEC-DA: xb is aug(x), P came from clean x
            pb = tf.gather(P, idx)
            with tf.GradientTape() as tape:
                out = model(xb, training=True)
                loss = kl_weight * kl_divergence(pb, self._q_of(out))
                if rec:
                    loss += mse(out[1], xb)
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss
        return self._compile_step(step, augment=aug)

    def _soft_assign(self, x):
        if not hasattr(self, "_q_fn"):
            self._q_fn = compile_pass(lambda xb: self._q_of(self.model_(xb, training=False)))
        return self._batched(self._q_fn, x)

    def _on_update(self, x):
        q = self._soft_assign(x)
        self._P.assign(target_distribution(q).astype(np.float32))
        return q.argmax(1).astype(np.int64)

    def _labels_of(self, x):
        return self._soft_assign(x).argmax(1).astype(np.int64)

    def predict_proba(self, x):
        """Soft assignments q of each sample, shape ``(N, n_clusters)``."""
        x, _ = self._prepare(x, fitting=False)
        return self._soft_assign(x)

    def _centres(self):
        return keras.ops.convert_to_numpy(self.clustering_layer_.clusters)


def kl_divergence(p, q, eps=1e-7):
    """KL(P || Q) summed over clusters, averaged over the batch (Keras's 'kld')."""
    p = tf.clip_by_value(p, eps, 1.0)
    q = tf.clip_by_value(q, eps, 1.0)
    return tf.reduce_mean(tf.reduce_sum(p * tf.math.log(p / q), axis=-1))
