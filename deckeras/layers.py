"""Clustering layers: Student's-t soft assignment (DEC) and k-means centres (DCN)."""
import keras
import numpy as np
from keras import ops

__all__ = ["ClusteringLayer", "ClusterCentres", "InputScaling", "ClusterLabel", "inference_model",
           "squared_distances", "soft_assignment"]


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
