"""DeepClusterer: the scikit-learn shell every method shares.

The estimator keeps the parameters and their validation, the input scaling,
the order of ``fit``, ``predict``/``transform``/scores and persistence. The
training itself (the compiled step, the pretraining and clustering loops)
is ``deckeras.trainer``'s; what watches a run (progress, the run folder's
files, TensorBoard, checkpoints) are callbacks (``deckeras.callbacks``). A
subclass supplies the clustering model, its loss step and the per-update
bookkeeping through the hooks of ``ClusteringMethod`` (see ``DEC`` and ``DCN``).
"""
import sys
from numbers import Integral

import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils import check_scalar
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..autoencoders import Initializers
from ..callbacks import run_callbacks
from ..checkpoint import Checkpointer, run_signature
from ..distribute import DISTRIBUTE
from ..layers import inference_model
from .method import ClusteringMethod
from ..options import OPTION_PARAMS, SCALAR_PARAMS, SIZE_PARAMS
from ..runstate import RunState
from ..trainer import Interrupted, Trainer, TrainingDiverged, build_networks
from ..source import Samples, as_rows
from ..validation import (NOT_IMAGES, as_images, image_view, labels_for_logging, survey,
                          warn_if_out_of_range, weight_arrays)
from ..weights import load_weights, read_arrays, save_weights

__all__ = ["DeepClusterer", "TrainingDiverged", "Interrupted"]


class DeepClusterer(ClusteringMethod, TransformerMixin, ClusterMixin, BaseEstimator):
    """Base class; see ``DEC`` and ``DCN`` for the parameters, and
    ``ClusteringMethod`` for what a method supplies."""

    def _store_params(self, values):
        """``__init__`` only stores its arguments (scikit-learn's rule); the
        subclasses list them explicitly so that ``get_params`` sees them."""
        for name, value in values.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]   # embeddings are float32
        return tags

    def __sklearn_is_fitted__(self):
        """Fitted means clustered (or loaded): a model that was only pretrained is not."""
        return bool(getattr(self, "_fitted", False))

    # ------------------------------------------------------------ validation
    _SCALARS = SCALAR_PARAMS    # the constraints (options.py); subclasses add theirs
    _AUTO = ()       # the numbers above that may also be the string 'auto'
    _OPTIONS = OPTION_PARAMS
    _SIZES = SIZE_PARAMS

    def _check_params(self):
        """Raise a one-line ValueError (TypeError for a wrong type) for the
        first parameter that breaks its constraint."""
        if not (self.distribute in DISTRIBUTE or isinstance(self.distribute, tf.distribute.Strategy)):
            raise ValueError(f"distribute must be None, 'mirrored', 'multiworker' or a "
                             f"tf.distribute.Strategy, got {self.distribute!r}")
        for name, (kind, lo, hi, bounds, optional) in self._SCALARS.items():
            value = getattr(self, name)
            if (value is None and optional) or (name in self._AUTO and value == "auto"):
                continue
            check_scalar(value, name, kind, min_val=lo, max_val=hi, include_boundaries=bounds)
        for name, (count, optional) in self._SIZES.items():
            value = getattr(self, name)
            if value is None and optional:
                continue
            if (not isinstance(value, (list, tuple)) or not value or len(value) != (count or len(value))
                    or not all(isinstance(v, Integral) and v >= 1 for v in value)):
                raise ValueError(f"{name} must be {count or 'one or more'} whole numbers of "
                                 f"at least 1, got {value!r}")
        for name, options in self._OPTIONS.items():
            value = getattr(self, name)
            if value not in options:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, "
                                 f"got {value!r}")

    def _validated(self, x, reset):
        """scikit-learn's input checks (its messages too) and float32; 2-D
        tables through ``validate_data``, image arrays with ``allow_nd``.
        Data read from disk (a memory-mapped ``.npy``, ``NpyRows``, a
        ``tf.data.Dataset``: ``deckeras.source``) become a ``Samples`` view
        instead, checked as they are read; returns ``(x, labels the source
        carries or None)``."""
        rows, carried = as_rows(x)
        if rows is not None:
            x = Samples(rows)
        elif getattr(x, "ndim", 2) == 2 or not hasattr(x, "shape"):
            return validate_data(self, x, reset=reset, dtype=np.float32), None
        else:
            x = check_array(x, allow_nd=True, dtype=np.float32, input_name="X")
        n = int(np.prod(x.shape[1:]))
        if reset:
            self.n_features_in_ = n
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif n != self.n_features_in_:
            raise ValueError(f"X has {n} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")
        return x, carried

    def _fit_input(self, x, y=None):
        """Check the parameters and ``x``, and fit what ``x`` says about the
        input: returns ``(x, y, found)``, ``x`` scaled and shaped for the
        network (a ``Samples`` view for data read from disk), ``found`` the
        image view and the scaling (set as fitted attributes only at the end
        of ``fit``)."""
        self._check_params()
        x, carried = self._validated(x, reset=True)
        if carried is not None:
            if y is not None:
                raise ValueError("y given twice: the dataset holds (sample, label) pairs")
            y = carried
        if y is not None:
            y = labels_for_logging(y, len(x))
        if self.n_clusters > len(x):
            raise ValueError(f"n_clusters={self.n_clusters} is larger than the number "
                             f"of samples (n_samples={len(x)})")
        image_shape = image_view(x)
        if (self.arch == "conv" or self._uses_augmentation()) and image_shape is None:
            raise ValueError(f"X has {x.shape[1]} features: {NOT_IMAGES}")
        found = {"image_shape_": image_shape, **survey(x, self.scale)}
        return self._shaped(x, found), y, found

    def _shaped(self, x, found):
        """``x`` (validated) scaled by ``found``'s scaling, flat or as images."""
        image = self.arch == "conv"
        if isinstance(x, Samples):
            shape = found["image_shape_"] if image else (int(np.prod(x.shape[1:])),)
            return Samples(x.rows, found.get("input_scale_"), found.get("input_offset_"), shape)
        flat = x.reshape(len(x), -1)
        if found.get("input_scale_") is not None:
            flat = (flat * found["input_scale_"] + found["input_offset_"]).astype(np.float32,
                                                                                copy=False)
        return as_images(flat, found["image_shape_"]) if image else flat

    def _prepare(self, x, pretrained_ok=False):
        """``x`` for a fitted model (``pretrained_ok``: one only pretrained will do)."""
        if not (pretrained_ok and getattr(self, "_ae_ready", False)):
            check_is_fitted(self)
        x, _ = self._validated(x, reset=False)
        warn_if_out_of_range(x, getattr(self, "input_range_", None))
        return self._shaped(x, {k: getattr(self, k, None) for k in FOUND})

    def _aug_pretrain(self):
        return bool(self.augment if self.aug_pretrain is None else self.aug_pretrain)

    def _uses_augmentation(self):
        return bool(self.augment or self._aug_pretrain())

    # ------------------------------------------------------------ building
    def _build(self, input_shape, image_shape, autoencoder=None):
        """Networks for inputs of ``input_shape`` from the current parameters
        (``autoencoder``: keep that one), with this method's clustering model."""
        return build_networks(self.get_params(), input_shape, image_shape,
                              self._build_cluster_model, autoencoder)

    def _publish(self, nets, found):
        """Set the networks and what was found about the input as fitted attributes."""
        self._nets = nets
        self.autoencoder_, self.encoder_, self.decoder_ = nets.autoencoder, nets.encoder, nets.decoder
        self.model_, self.strategy_, self.precision_ = nets.model, nets.strategy, nets.precision
        self.input_shape_ = nets.input_shape
        setattr(self, self.LAYER_ATTR, nets.layer)
        for k, v in found.items():
            setattr(self, k, v)

    def _centres_initializer(self):
        """The clustering layer's starting values (k-means replaces them), seeded."""
        return Initializers(self.random_state)(None, default="glorot_uniform")

    def _say(self, msg, level=1):
        if self.verbose >= level:
            print(msg, file=sys.stdout, flush=True)

    # ------------------------------------------------------------ training
    def resume_point(self, x):
        """Where a ``fit(x)`` into ``save_dir`` would resume ('pretraining epoch
        80/400', ...), or None when it would start from scratch. Raises
        ``SettingsMismatch`` (a ValueError) when ``save_dir`` holds another
        run's checkpoint. Writes nothing."""
        if not self.save_dir:
            return None
        x, _, _ = self._fit_input(x)
        state = Checkpointer(self.save_dir, run_signature(self, x)).check()
        return None if state is None else state.where(self.maxiter)

    def pretrain(self, x, y=None, epochs=None, callbacks=None):
        """Train a fresh autoencoder to reconstruct ``x`` (``aug(x)`` from
        ``aug(x)`` when pretraining with augmentation); the next ``fit``
        starts from it instead of pretraining. ``callbacks``: Keras callbacks
        that watch it. Returns self; sets ``pretrain_history_``."""
        x, y, found = self._fit_input(x, y)
        nets = self._build(x.shape[1:], found["image_shape_"])
        epochs = self.pretrain_epochs if epochs is None else int(epochs)
        trainer = Trainer(self, nets, x, y, run_callbacks(self, found, callbacks),
                          RunState(epochs=epochs), say=self._say)
        trainer.make_pretrain_state(epochs)
        trainer.pretrain()
        self._publish(nets, found)
        self.pretrain_history_, self.pretrain_time_ = trainer.state.pretrain_history, \
            trainer.state.pretrain_s
        self.pretrained_, self._ae_ready, self._fitted = True, True, False
        return self

    def load_pretrained(self, x_or_shape, path):
        """Load autoencoder weights from ``path`` (built for data like ``x``, or
        for samples of shape ``x_or_shape``) and skip pretraining in the next ``fit``."""
        if isinstance(x_or_shape, tuple):
            self._check_params()
            shape, found = x_or_shape[1:], {"image_shape_": getattr(self, "image_shape_", None)}
        else:
            x, _, found = self._fit_input(x_or_shape)
            shape = x.shape[1:]
        nets = self._build(shape, found["image_shape_"])
        load_weights(nets.autoencoder, path, what="pretrained autoencoder weights")
        self._publish(nets, found)
        self.pretrain_history_, self.pretrain_time_ = [], 0.0
        self.pretrained_, self._ae_ready, self._fitted = True, True, False
        return self

    def fit(self, x, y=None, callbacks=None):
        """Build fresh networks from the current parameters, pretrain them
        (unless ``pretrain`` or ``load_pretrained`` just did), initialise by
        k-means, then train the clustering model. ``y`` only logs metrics.

        ``callbacks``: Keras callbacks (``keras.callbacks.Callback``) that
        watch the run: pretraining and clustering are each one training, a
        pretraining epoch and a target update each end in ``on_epoch_end``
        (``deckeras.callbacks`` says what ``logs`` hold), and setting
        ``model.stop_training`` ends the phase.

        With ``save_dir`` the run writes checkpoints there and a later ``fit``
        with the same settings and data continues from the latest one. With
        ``warm_start=True`` a fitted model goes on training from where it is.

        Returns self; sets ``labels_``, ``cluster_centers_``, ``history_``,
        ``n_iter_``, ``init_labels_`` and, when ``y`` is given, ``init_metrics_``.
        """
        x, y, found = self._fit_input(x, y)
        warm = bool(self.warm_start) and self.__sklearn_is_fitted__() \
            and self.input_shape_ == tuple(x.shape[1:])
        ae_ready = getattr(self, "_ae_ready", False) and self.input_shape_ == tuple(x.shape[1:])
        if warm:
            nets = self._nets
        else:
            kept = self._nets if ae_ready else None
            nets = self._build(x.shape[1:], found["image_shape_"], kept and (
                kept.autoencoder, kept.encoder, kept.decoder))
        ckpt = Checkpointer(self.save_dir, run_signature(self, x)) if self.save_dir else None
        trainer = Trainer(self, nets, x, y, run_callbacks(self, found, callbacks, ckpt),
                          checkpointer=ckpt, say=self._say)
        if warm and hasattr(self, "_augment_rng"):   # goes on with the generator it had
            trainer.pretrain_optimizer, trainer.rng = self.pretrain_optimizer_, self._augment_rng
        pretrained = ((self.pretrain_history_, self.pretrain_time_) if ae_ready
                      else ([], 0.0) if warm else None)
        run = trainer.run(warm, pretrained)
        self._ae_ready = False
        self._publish(nets, found)
        self.pretrain_optimizer_, self.optimizer_ = trainer.pretrain_optimizer, trainer.optimizer
        self._augment_rng = trainer.rng
        self.pretrained_ = True
        self.pretrain_history_, self.pretrain_time_ = run.pretrain_history, run.pretrain_s
        self.init_labels_ = trainer.init_labels.numpy().astype(np.int64)
        self.init_metrics_ = run.init_metrics
        self.history_ = run.history
        self.n_iter_ = int(run.ite)
        self.converged_ = bool(run.converged)
        self.labels_ = trainer.labels.numpy().astype(np.int64)   # those of the weights saved last
        self.cluster_time_ = float(run.cluster_s)
        self.brb_resets_ = int(run.resets)
        self._fitted_extras(run)
        self._fitted = True
        return self

    # ------------------------------------------------------------ inference
    def transform(self, x):
        """The embedding ``f(x)`` of each sample, shape ``(N, embedding_dim)``
        (after ``fit``, or after ``pretrain``: the pretrained embedding)."""
        x = self._prepare(x, pretrained_ok=True)
        return self._embed(self._nets, x)

    def cluster_scores(self, x):
        """Per-cluster scores of each sample, shape ``(N, n_clusters)``:
        ``predict`` takes the best of each row (``SCORES`` names them: DEC's
        soft assignments, the largest wins; DCN's squared distances to the
        centres, the smallest wins)."""
        x = self._prepare(x)
        return self._scores(self._nets, x)

    def predict(self, x):
        """Cluster label of each sample in ``x``."""
        x = self._prepare(x)
        return self._labels_of(self._nets, x)

    def fit_predict(self, x, y=None, callbacks=None):
        return self.fit(x, y, callbacks=callbacks).labels_

    @property
    def cluster_centers_(self):
        """Cluster centres in the embedding space, shape ``(K, embedding_dim)``."""
        check_is_fitted(self)
        return self._centres(self._nets)

    def inference_model(self):
        """The fitted model as one plain Keras model for serving: samples as
        ``predict`` takes them (flat, or images for conv networks), the input
        scaling inside (``InputScaling``), out a dict of the per-cluster scores
        (key ``SCORES``) and ``label``. ``model.save("m.keras")`` then loads
        with ``deckeras.load_exported`` (or ``keras.saving.load_model`` once
        ``deckeras.layers`` is imported);
        ``model.export(path)`` writes a TensorFlow SavedModel."""
        check_is_fitted(self)
        shape = tuple(self.image_shape_) if self.arch == "conv" else (self.n_features_in_,)
        scaling = self._input_scaling() if getattr(self, "input_scale_", None) is not None else None
        return inference_model(self.encoder_, self._inference_head(), shape, scaling,
                               self.SCORES, f"{type(self).__name__.lower()}_inference")

    def _inference_head(self):
        """The layer that maps embeddings to the per-cluster scores in
        ``inference_model``: the clustering model's own by default."""
        return self._nets.layer

    # ------------------------------------------------------------ persistence
    def _input_scaling(self, found=None):
        """The input scaling and range (of ``found``, or the fitted ones)."""
        found = found if found is not None else {k: getattr(self, k, None) for k in FOUND}
        return weight_arrays(found)

    def _saved_arrays(self, found=None):
        """The arrays saved beside the weights (``save``, the run folder's
        model files): the input scaling, and what a method keeps outside its
        weights (N2D's layout)."""
        return self._input_scaling(found)

    def _load_arrays(self, arrays):
        """Take back what ``_saved_arrays`` added (``load``); nothing by default."""

    def save(self, path):
        """Save the clustering model's weights (and the input scaling) as ``.h5``, atomically."""
        check_is_fitted(self)
        save_weights(self.model_, path, self._saved_arrays())

    def load(self, path, input_shape, image_shape=None):
        """Rebuild the networks for samples of ``input_shape`` and load weights
        saved by ``save`` / ``fit``. Returns self, ready to ``predict``."""
        self._check_params()
        self.n_features_in_ = int(np.prod(input_shape))
        image_shape = image_shape if image_shape is not None else (
            tuple(input_shape) if len(input_shape) == 3 else None)
        shape = tuple(input_shape) if self.arch == "conv" else (self.n_features_in_,)
        nets = self._build(shape, image_shape)
        load_weights(nets.model, path, what="model weights")
        scaling = read_arrays(path)
        self._load_arrays(scaling)
        self._publish(nets, {"image_shape_": image_shape, "input_scale_": scaling.get("scale"),
                             "input_offset_": scaling.get("offset"),
                             "input_range_": scaling.get("range")})
        self.pretrained_, self._fitted = True, True
        return self

    def __getstate__(self):
        """Pickle, ``copy.deepcopy``: the parameters and fitted attributes, with
        the networks as weight arrays (TensorFlow objects do not pickle)."""
        state = {k: v for k, v in super().__getstate__().items()
                 if not _is_tf(v) and k != "_nets"}
        if hasattr(self, "_nets"):
            state["_weights"] = {"autoencoder": self.autoencoder_.get_weights(),
                                 "cluster": self._nets.layer.get_weights()}
        return state

    def __setstate__(self, state):
        weights = state.pop("_weights", None)
        super().__setstate__(state)
        if weights is not None:
            nets = self._build(self.input_shape_, self.image_shape_)
            self._publish(nets, {})
            nets.autoencoder.set_weights(weights["autoencoder"])
            nets.layer.set_weights(weights["cluster"])


FOUND = ("image_shape_", "input_scale_", "input_offset_", "input_range_")


def _is_tf(value):
    return type(value).__module__.startswith(("tensorflow", "keras"))
