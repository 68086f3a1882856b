"""Clustering layers: Student's-t soft assignment (DEC) and k-means centres (DCN)."""
import keras
import numpy as np
from keras import ops

__all__ = ["ClusteringLayer", "ClusterCentres", "InputScaling", "ClusterLabel", "LayoutMixture",
           "inference_model", "squared_distances", "soft_assignment"]


def squared_distances(z, centres):
    """``d[i, j] = ||z_i - mu_j||^2``, shape ``(N, K)``.

    Computed by broadcasting the difference rather than expanding the
    square, so far points keep their relative distances exactly.
    """
    diff = ops.expand_dims(z, 1) - ops.expand_dims(centres, 0)
    return ops.sum(ops.square(diff), axis=-1)


def soft_assignment(z, centres, alpha=1.0):
    """Student's-t soft assignment ``q`` (rows sum to 1), computed in log space.

    ``q_ij`` is proportional to ``(1 + d_ij / alpha) ** (-(alpha + 1) / 2)``;
    the normalisation is a softmax of the log kernel, so points 1e6 away from
    every centre give finite, normalised rows instead of 0/0.
    """
    logits = -(alpha + 1.0) / 2.0 * ops.log1p(squared_distances(z, centres) / alpha)
    return ops.softmax(logits, axis=-1)


@keras.saving.register_keras_serializable(package="deckeras")
class ClusteringLayer(keras.layers.Layer):
    """Maps embeddings ``(N, D)`` to DEC soft assignments ``(N, n_clusters)``.

    Parameters
    ----------
    n_clusters : int
        Number of clusters K.
    alpha : float, default 1.0
        Degrees of freedom of the Student's t kernel.
    initial_centres : array of shape (K, D), optional
        Starting centres (usually from k-means); ``set_centres`` sets them later.
    centres_initializer : initializer, default 'glorot_uniform'
        Where the centres start without ``initial_centres``.
    """

    def __init__(self, n_clusters, alpha=1.0, initial_centres=None,
                 centres_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if int(n_clusters) < 1:
            raise ValueError(f"n_clusters must be >= 1, got {n_clusters}")
        if not float(alpha) > 0:
            raise ValueError(f"alpha must be > 0, got {alpha}")
        self.n_clusters = int(n_clusters)
        self.alpha = float(alpha)
        self.initial_centres = initial_centres
        self.centres_initializer = keras.initializers.get(centres_initializer)

    def build(self, input_shape):
        self.clusters = self.add_weight(
            name="clusters", shape=(self.n_clusters, int(input_shape[-1])),
            initializer=self.centres_initializer, trainable=True)
        if self.initial_centres is not None:
            self.clusters.assign(self.initial_centres)
            self.initial_centres = None

    def set_centres(self, centres):
        self.clusters.assign(ops.convert_to_tensor(centres, dtype=self.clusters.dtype))

    def call(self, z):
        return soft_assignment(z, ops.cast(self.clusters, z.dtype), self.alpha)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_clusters)

    def get_config(self):
        return {**super().get_config(), "n_clusters": self.n_clusters, "alpha": self.alpha}


@keras.saving.register_keras_serializable(package="deckeras")
class ClusterCentres(keras.layers.Layer):
    """DCN's centres ``M`` and per-centre counts, kept as (non-trainable) weights.

    ``call`` returns squared distances to every centre. The centres move by
    DCN's count-based rule (``DCN``), not by gradients, so both variables are
    non-trainable; being layer weights, they are saved with the model.
    """

    def __init__(self, n_clusters, init_count=100.0, **kwargs):
        super().__init__(**kwargs)
        self.n_clusters = int(n_clusters)
        self.init_count = float(init_count)

    def build(self, input_shape):
        k, d = self.n_clusters, int(input_shape[-1])
        self.centres = self.add_weight(name="centres", shape=(k, d),
                                       initializer="zeros", trainable=False)
        self.counts = self.add_weight(name="counts", shape=(k,), trainable=False,
                                      initializer=keras.initializers.Constant(self.init_count))

    def call(self, z):
        return squared_distances(z, ops.cast(self.centres, z.dtype))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_clusters)

    def get_config(self):
        return {**super().get_config(), "n_clusters": self.n_clusters,
                "init_count": self.init_count}


@keras.saving.register_keras_serializable(package="deckeras")
class InputScaling(keras.layers.Layer):
    """``x * scale + offset`` per feature: the input scaling a model was fitted
    with (``scale='minmax'`` or ``'standard'``), kept inside exported models.
    ``scale`` and ``offset`` have the shape of one sample (or broadcast to it)."""

    def __init__(self, scale=1.0, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = np.asarray(scale, np.float32)
        self.offset = np.asarray(offset, np.float32)

    def call(self, x):
        return x * ops.cast(self.scale, x.dtype) + ops.cast(self.offset, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale.tolist(),
                "offset": self.offset.tolist()}


@keras.saving.register_keras_serializable(package="deckeras")
class ClusterLabel(keras.layers.Layer):
    """The cluster of each sample from its per-cluster scores: the largest
    (DEC's soft assignments) or, with ``nearest=True``, the smallest (DCN's
    squared distances)."""

    def __init__(self, nearest=False, **kwargs):
        super().__init__(**kwargs)
        self.nearest = bool(nearest)

    def call(self, scores):
        return ops.argmin(scores, axis=-1) if self.nearest else ops.argmax(scores, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[:-1]

    def get_config(self):
        return {**super().get_config(), "nearest": self.nearest}


@keras.saving.register_keras_serializable(package="deckeras")
class LayoutMixture(keras.layers.Layer):
    """N2D's clusters of new embeddings ``(N, D)``: their places in the UMAP
    layout of the training embeddings (``deckeras.manifold.UMAP.transform``)
    and the Gaussian mixture's responsibilities there (scikit-learn's
    ``GaussianMixture.predict_proba``, full covariances), shape ``(N, K)``.

    The training embeddings, their layout, the snap distance and the mixture
    are the layer's non-trainable weights (``initial`` sets them: a dict of
    ``train``, ``layout``, ``snap``, ``means``, ``precisions_cholesky`` and
    ``weights``). Embeddings are placed ``BLOCK`` at a time (``BLOCK`` x
    ``n_train`` distances, 280 MiB for 70,000); the neighbours' memberships
    and the mixture are computed in float64.
    """
    BLOCK = 1024     # samples placed at once: BLOCK x n_train distances at a time

    def __init__(self, n_train, dim, n_components, n_clusters, n_neighbors, initial=None,
                 **kwargs):
        kwargs["dtype"] = "float32"       # whatever the model's policy: the layout is float32
        super().__init__(**kwargs)
        self.n_train, self.dim = int(n_train), int(dim)
        self.n_components, self.n_clusters = int(n_components), int(n_clusters)
        self.n_neighbors = int(n_neighbors)
        self.initial = initial

    def build(self, input_shape):
        n, d, c, k = self.n_train, self.dim, self.n_components, self.n_clusters

        def weight(name, shape, dtype):
            return self.add_weight(name=name, shape=shape, initializer="zeros", dtype=dtype,
                                   trainable=False, autocast=False)
        self.train = weight("train", (n, d), "float32")
        self.layout = weight("layout", (n, c), "float32")
        self.snap = weight("snap", (), "float64")
        self.means = weight("means", (k, c), "float64")
        self.precisions_cholesky = weight("precisions_cholesky", (k, c, c), "float64")
        self.log_weights = weight("log_weights", (k,), "float64")
        if self.initial is not None:
            v = self.initial
            for var, value in [(self.train, v["train"]), (self.layout, v["layout"]),
                               (self.snap, v["snap"]), (self.means, v["means"]),
                               (self.precisions_cholesky, v["precisions_cholesky"]),
                               (self.log_weights, np.log(v["weights"]))]:
                var.assign(np.asarray(value, var.dtype))
            self.initial = None

    def call(self, z):
        z = ops.cast(z, "float32")
        # blocks of at most BLOCK samples, one after the other: a block takes
        # BLOCK x n_train distances, whatever the batch
        n = ops.shape(z)[0]
        size = ops.maximum(ops.minimum(n, self.BLOCK), 1)
        blocks = (n + size - 1) // size
        padded = ops.pad(z, [[0, blocks * size - n], [0, 0]])
        train_sq = ops.sum(self.train * self.train, 1)[None, :]      # once a call, not a block
        place = ops.map(lambda block: self._place(block, train_sq),
                        ops.reshape(padded, (blocks, size, self.dim)))
        place = ops.reshape(place, (blocks * size, self.n_components))[:n]
        # the mixture's log densities, as scikit-learn computes them
        p = self.precisions_cholesky
        y = ops.einsum("nc,kcd->nkd", place, p) - ops.einsum("kc,kcd->kd", self.means, p)[None]
        log_det = ops.sum(ops.log(ops.diagonal(p, axis1=1, axis2=2)), -1)
        log_prob = (-0.5 * (self.n_components * np.log(2 * np.pi) + ops.sum(y * y, -1))
                    + log_det + self.log_weights)
        return ops.cast(ops.softmax(log_prob, axis=-1), "float32")

    def _place(self, z, train_sq):
        """UMAP.transform of a block of embeddings (float64); ``train_sq``:
        the training embeddings' squared norms, shape ``(1, n_train)``."""
        # the nearest training embeddings by the expanded square (one matmul),
        # then their exact distances from the differences
        d2 = (ops.sum(z * z, 1, keepdims=True) - 2 * ops.matmul(z, ops.transpose(self.train))
              + train_sq)
        _, idx = ops.top_k(-d2, self.n_neighbors)
        diff = ops.cast(z[:, None, :], "float64") - ops.cast(ops.take(self.train, idx, axis=0),
                                                             "float64")
        d = ops.sqrt(ops.sum(diff * diff, -1))                       # (N, n_neighbors)
        rho = ops.min(d, 1)
        w = ops.exp(-ops.maximum(d - rho[:, None], 0.0)
                    / _membership_sigma(d, rho, np.log2(self.n_neighbors))[:, None])
        w = w / ops.sum(w, 1, keepdims=True)
        near = ops.cast(ops.take(self.layout, idx, axis=0), "float64")   # (N, n_neighbors, C)
        place = ops.sum(w[:, :, None] * near, 1)
        nearest = ops.take_along_axis(near, ops.argmin(d, 1)[:, None, None], axis=1)[:, 0]
        return ops.where((rho <= self.snap)[:, None], nearest, place)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_clusters)

    def get_config(self):
        return {**super().get_config(), "n_train": self.n_train, "dim": self.dim,
                "n_components": self.n_components, "n_clusters": self.n_clusters,
                "n_neighbors": self.n_neighbors}


def _membership_sigma(d, rho, target, bisections=64):
    """``deckeras.manifold.memberships``' sigma in Keras ops: per row, by
    bisection, so that ``sum exp(-max(d - rho, 0) / sigma)`` is ``target``,
    with umap-learn's floor of 1e-3 times the row's mean distance."""
    rest = ops.maximum(d - rho[:, None], 0.0)
    n = ops.shape(d)[0]
    lo, hi = ops.zeros((n,), d.dtype), ops.full((n,), np.inf, d.dtype)

    def halve(_, bracket):
        lo, hi, sigma = bracket
        over = ops.sum(ops.exp(-rest / sigma[:, None]), 1) > target
        hi = ops.where(over, sigma, hi)
        lo = ops.where(over, lo, sigma)
        return lo, hi, ops.where(ops.isinf(hi), sigma * 2, (lo + hi) / 2)
    _, _, sigma = ops.fori_loop(0, bisections, halve, (lo, hi, ops.ones((n,), d.dtype)))
    return ops.maximum(sigma, 1e-3 * ops.mean(d, 1))


def inference_model(encoder, cluster_layer, shape, scaling, scores_name, name):
    """One plain Keras model for serving: samples of ``shape`` in, the input
    ``scaling`` (``{"scale", "offset"}`` or None) inside, out a dict of the
    per-cluster scores (key ``scores_name``: "soft_assignments", the largest
    wins, or "distances", the nearest centre wins) and ``label``."""
    inputs = keras.Input(shape=shape, name="x")
    h = inputs
    if scaling is not None:
        h = InputScaling(np.reshape(scaling["scale"], shape), np.reshape(scaling["offset"], shape),
                         name="input_scaling")(h)
    scores = cluster_layer(encoder(h))
    label = ClusterLabel(nearest=scores_name == "distances", name="label")(scores)
    return keras.Model(inputs, {scores_name: scores, "label": label}, name=name)
