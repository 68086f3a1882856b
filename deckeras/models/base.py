"""DeepClusterer: what every deep clustering method here shares.

The base owns input validation and scaling, the autoencoder (built by
``deckeras.autoencoders``), pretraining with or without augmentation,
k-means initialisation, the training-loop skeleton (update interval, tol on
delta-label, maxiter, logging), checkpoints and resuming
(``deckeras.checkpoint``), prediction, saving, loading and pickling.
A subclass supplies the clustering model, its loss step and the per-update
bookkeeping (see ``DEC`` and ``DCN``).
"""
import abc
import contextlib
import hashlib
import json
import math
import os
import signal
import sys
import threading
import time
import warnings
from numbers import Integral, Real

import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils import check_scalar
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .. import metrics
from ..augment import augment as augment_batch
from ..autoencoders import Initializers, build_autoencoder
from ..checkpoint import Checkpointer
from ..io import append_csv, write_csv
from ..validation import as_images, labels_for_logging
from ..distribute import DISTRIBUTE, strategy_for
from ..host import bfloat16_is_native, resolve_precision
from ..options import OPTIMIZERS, PRECISIONS, PRETRAIN_SCHEDULES, SCALES
from ..training import BatchOrder, apply_step, call_args, compile_pass, full_pass, make_optimizer, mse  # noqa: F401
from ..weights import load_weights, read_arrays, save_weights

LOG_FIELDS = ["iter", "acc", "nmi", "ari", "loss", "delta_label", "time_s"]
# Mini-batches per compiled call: enough to hide the cost of a call (~8 ms
# here), few enough that a signal (seen between calls) stays prompt and that the
# samples handed to TensorFlow per call stay under CALL_BYTES.
STEPS_PER_CALL = 64
CALL_BYTES = 16 * 2 ** 20
# Checkpoints: while pretraining every CHECKPOINT_EPOCHS epochs or
# CHECKPOINT_SECONDS, whichever comes first; while clustering at every
# target update (and after CHECKPOINT_SECONDS between two updates).
CHECKPOINT_EPOCHS = 10
CHECKPOINT_SECONDS = 300
PROGRESS_VALUES = ("loss", "acc", "nmi", "delta_label")   # shown as they are, not averaged


# numpydoc pieces shared by the DEC and DCN docstrings (the same parameters)
ARCH_DOC = """arch : {'fc', 'conv'}, default 'fc'
    Dense autoencoder (``dims``) or DEC-DA's convolutional one (``filters``).
dims : list of int, optional
    Hidden sizes of the dense encoder; default ``[500, 500, 2000]``.
filters : tuple of int, default (32, 64, 128)
    Filters of the three convolutions of the conv encoder.
embedding_dim : int, default 10
init : initializer, optional
    Dense layers' kernel initialiser (default DEC's VarianceScaling(1/3)).
"""
TRAINING_DOC = """augment : bool, default False
    Gradient steps on augmented batches (random rotation and shift);
    targets from clean data (the -DA methods).
aug_pretrain : bool, optional
    Pretrain on augmented data; default: same as ``augment``.
rotation, shift : float, default 10, 0.1
    Augmentation ranges (degrees; fraction of width/height).
pretrain_epochs : int, default 200
pretrain_optimizer : {{'sgd', 'adam'}}, default 'sgd'
pretrain_lr : float, optional
    Default 1.0 for SGD (DEC's), 1e-3 for Adam.
pretrain_schedule : {{'constant', 'cosine'}}, default 'constant'
    'cosine' decays the pretraining learning rate to 0 over the
    pretraining epochs (not in the papers; bench/README.md compares them).
pretrain_noise : float, default 0.0
    Denoising pretraining: each input value is zeroed with this
    probability and the autoencoder learns to restore the uncorrupted
    input (DEC's original pretraining used 0.2). 0 trains on clean inputs,
    as DEC-keras and DEC-DA do.
optimizer : {{'sgd', 'adam'}}, default {optimizer}
    Clustering-phase optimiser.
lr : float, default {lr}
momentum : float, default 0.9
    SGD momentum (both phases).
batch_size : int, default 256
maxiter : int, default 20000
update_interval : int or None, default {update_interval}
    {update_note}
tol : float, default {tol}
    Stop when fewer than this fraction of labels change between updates.
kmeans_n_init : int, default 20
random_state : int, optional
    Seeds the initial weights, the mini-batch order, the augmentation and
    k-means: the same seed gives the same labels on the same machine.
verbose : int, default 0
    1 prints progress.
save_dir : str, optional
    Write logs, weights and checkpoints here while training; a later
    ``fit`` with the same settings and data resumes from the last checkpoint.
tensorboard_dir : str, optional
    Also write the pretraining loss per epoch and the clustering loss,
    delta-label and (with ``y``) ACC/NMI/ARI per target update as
    TensorBoard scalars (``tf.summary``) under ``pretrain/`` and ``cluster/``.
jit_compile : bool, default False
    Compile train steps with XLA (augmentation runs outside it). On CPU
    it shortened dense clustering steps (0.74-0.96x) and lengthened conv
    ones (1.5x): bench/README.md.
precision : {{'auto', 'float32', 'mixed_bfloat16', 'mixed_float16'}}, default 'auto'
    Keras dtype policy of the networks. Weights, the embedding layer,
    losses and soft assignments stay float32. 'auto' computes in bfloat16
    on a CPU with bfloat16 hardware (AVX512-BF16 or AMX) and no GPU,
    where it pretrained 1.3-1.5x faster than float32 to the same accuracy
    (an AVX-512 BF16 EPYC, bench/README.md), and in float32
    elsewhere; ``precision_`` says which was used. 'mixed_float16' (for GPUs)
    wraps both optimizers in Keras's dynamic loss scaling.
scale : {{'minmax', 'standard', 'none'}}, default 'minmax'
    Input scaling fitted in ``fit`` and applied by ``predict`` and
    ``transform``: each feature to [0, 1] (scikit-learn's MinMaxScaler),
    to mean 0 and std 1 (StandardScaler), or as given. Raw features in
    the hundreds make training diverge without it; ``make_method`` gives
    the named data sets 'none' (they come scaled as in the papers).
warm_start : bool, default False
    ``fit`` on a fitted model goes on training it (no pretraining, no
    k-means). By default every ``fit`` builds fresh networks from the
    current parameters and ``random_state``.
distribute : None, 'mirrored', 'multiworker' or tf.distribute.Strategy, default None
    Where training runs: None the strategy in scope
    (``tf.distribute.get_strategy()``, one device by default), 'mirrored'
    a MirroredStrategy over all local GPUs (the CPU when there are none),
    'multiworker' a MultiWorkerMirroredStrategy configured by ``TF_CONFIG``.
    ``batch_size`` stays the global batch: each replica takes its share and
    the result is the same algorithm as on one device.
"""
ATTRIBUTES_DOC = """labels_ : ndarray of shape (n_samples,)
    Cluster of each training sample, from the final weights.
cluster_centers_ : ndarray of shape (n_clusters, embedding_dim)
init_labels_ : ndarray of shape (n_samples,)
    The k-means start.
init_metrics_ : dict or None
    acc, nmi, ari of the k-means start when ``y`` was given.
history_ : list of dict
    One row per target update: iter, loss, delta_label, time_s (and acc,
    nmi, ari when ``y`` was given).
pretrain_history_ : list of dict
    epoch, loss, time_s of each pretraining epoch.
n_iter_ : int
    Clustering iterations run.
converged_ : bool
    Whether training stopped because delta_label fell below ``tol``.
n_features_in_ : int
input_scale_, input_offset_ : ndarray of shape (n_features_in_,) or None
    The fitted scaling ``x * input_scale_ + input_offset_``.
image_shape_ : tuple or None
    (H, W, C) the samples are viewed as for conv layers and augmentation.
autoencoder_, encoder_, decoder_, model_ : keras.Model
pretrain_time_, cluster_time_ : float
    Seconds spent in each phase (summed over resumes).
"""


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped a run after its checkpoint was written."""

    def __init__(self, message, signum=signal.SIGINT):
        super().__init__(message)
        self.signum = int(signum)


class DeepClusterer(TransformerMixin, ClusterMixin, BaseEstimator, abc.ABC):
    """Base class; see ``DEC`` and ``DCN`` for the parameters."""

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

    # ------------------------------------------------------------ hooks
    @abc.abstractmethod
    def _build_cluster_model(self):
        """The clustering model on ``self.encoder_`` (outputs its own)."""
        raise NotImplementedError

    @abc.abstractmethod
    def _cluster_layer(self):
        """The layer holding the clusters (its weights travel with a pickle)."""
        raise NotImplementedError

    @abc.abstractmethod
    def _make_cluster_state(self, n):
        """Create the per-sample state of ``n`` samples (DEC's P, DCN's assignments)."""
        raise NotImplementedError

    @abc.abstractmethod
    def _cluster_state(self):
        """name -> variable of the state ``_make_cluster_state`` made, for checkpoints."""
        raise NotImplementedError

    @abc.abstractmethod
    def _init_clusters(self, z, kmeans):
        """Set the clusters from a fitted ``KMeans`` on the embeddings ``z``."""
        raise NotImplementedError

    def _warm_init(self, labels):
        """warm_start: set the per-sample state from the current ``labels``."""

    @abc.abstractmethod
    def _make_train_step(self):
        """Return ``self._compile_step(step, augment)`` for
        ``step(idx, x_clean, x_seen) -> loss``: one mini-batch ``x_clean = x[idx]``
        (the indices address per-sample state) and what the gradient step sees
        (``aug(x_clean)`` when augmenting, else ``x_clean``)."""
        raise NotImplementedError

    @abc.abstractmethod
    def _on_update(self, x):
        """Called every ``update_interval`` iterations: refresh targets from
        clean data and return the current labels of all samples."""
        raise NotImplementedError

    # the per-cluster scores ``_scores`` gives: "soft_assignments" (the largest
    # wins) or "distances" (the nearest centre wins)
    SCORES = None

    @abc.abstractmethod
    def _scores(self, x):
        """Per-cluster scores ``(N, n_clusters)`` of ``x`` (prepared), named by ``SCORES``."""
        raise NotImplementedError

    def labels_from_scores(self, scores):
        """The cluster of each row of ``cluster_scores``: the largest soft
        assignment, or the nearest centre."""
        scores = np.asarray(scores)
        best = scores.argmin(1) if self.SCORES == "distances" else scores.argmax(1)
        return best.astype(np.int64)

    def _labels_of(self, x):
        """The cluster of each sample of ``x`` (prepared)."""
        return self.labels_from_scores(self._scores(x))

    @abc.abstractmethod
    def _centres(self):
        """The cluster centres in the embedding space, ``(K, embedding_dim)``."""
        raise NotImplementedError

    # ------------------------------------------------------------ validation
    # Every parameter's constraint, checked in one place (``_check_params``)
    # before any work: numbers with scikit-learn's ``check_scalar`` as
    # (type, min, max, boundaries included, None allowed), strings by options.
    _SCALARS = {
        "n_clusters": (Integral, 1, None, "left", False),
        "embedding_dim": (Integral, 1, None, "left", False),
        "batch_size": (Integral, 1, None, "left", False),
        "maxiter": (Integral, 0, None, "left", False),
        "update_interval": (Integral, 1, None, "left", True),
        "tol": (Real, 0, None, "left", False),
        "pretrain_epochs": (Integral, 0, None, "left", False),
        "pretrain_lr": (Real, 0, None, "neither", True),
        "lr": (Real, 0, None, "neither", True),
        "momentum": (Real, 0, 1, "left", False),
        "kmeans_n_init": (Integral, 1, None, "left", False),
        "rotation": (Real, 0, 180, "both", False),
        "shift": (Real, 0, 1, "both", False),
        "pretrain_noise": (Real, 0, 1, "left", False),
    }
    _AUTO = ()       # the numbers above that may also be the string 'auto'
    _OPTIONS = {"arch": ("fc", "conv"), "optimizer": OPTIMIZERS,
                "pretrain_optimizer": OPTIMIZERS, "pretrain_schedule": PRETRAIN_SCHEDULES,
                "precision": PRECISIONS, "scale": SCALES}

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
        for name, options in self._OPTIONS.items():
            value = getattr(self, name)
            if value not in options:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, "
                                 f"got {value!r}")

    def _validated(self, x, reset):
        """scikit-learn's input checks (its messages too) and float32; 2-D
        tables through ``validate_data``, image arrays with ``allow_nd``."""
        if getattr(x, "ndim", 2) == 2 or not hasattr(x, "shape"):
            return validate_data(self, x, reset=reset, dtype=np.float32)
        x = check_array(x, allow_nd=True, dtype=np.float32, input_name="X")
        n = int(np.prod(x.shape[1:]))
        if reset:
            self.n_features_in_ = n
        elif n != self.n_features_in_:
            raise ValueError(f"X has {n} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")
        return x

    def _prepare(self, x, y=None, fitting=True, pretrained_ok=False):
        """Validate ``x``, scale it as fitted and shape it for the network:
        flat for 'fc', images for 'conv' (``pretrained_ok``: a model that was
        only pretrained will do)."""
        if fitting:
            self._check_params()
        elif not (pretrained_ok and getattr(self, "_ae_ready", False)):
            check_is_fitted(self)
        x = self._validated(x, reset=fitting)
        if y is not None:
            y = labels_for_logging(y, len(x))
        if fitting:
            if self.n_clusters > len(x):
                raise ValueError(f"n_clusters={self.n_clusters} is larger than the number "
                                 f"of samples (n_samples={len(x)})")
            if x.ndim >= 3:
                self.image_shape_ = tuple(x.shape[1:]) + ((1,) if x.ndim == 3 else ())
            else:
                side = int(round(math.sqrt(x.shape[1])))
                self.image_shape_ = (side, side, 1) if side * side == x.shape[1] else None
            if (self.arch == "conv" or self._uses_augmentation()) and self.image_shape_ is None:
                raise ValueError(f"{x.shape[1]} features cannot be viewed as a square image: "
                                 "conv methods and augmentation need images")
            self._fit_scaling(x.reshape(len(x), -1))
        x = self._scaled(x.reshape(len(x), -1))
        if self.arch == "conv":
            x = as_images(x, self.image_shape_)
        return x, y

    def _fit_scaling(self, flat):
        """``scale``: fit x' = x * input_scale_ + input_offset_ per feature
        (scikit-learn's MinMaxScaler to [0, 1] or StandardScaler), or none."""
        scaler = {"minmax": MinMaxScaler, "standard": StandardScaler}.get(self.scale)
        if scaler is None:
            self.input_scale_ = self.input_offset_ = None
            return
        s = scaler().fit(flat)
        if self.scale == "minmax":
            a, c = s.scale_, s.min_
        else:
            a = 1.0 / s.scale_
            c = -s.mean_ * a
        self.input_scale_ = np.asarray(a, np.float32)
        self.input_offset_ = np.asarray(c, np.float32)

    def _scaled(self, flat):
        if getattr(self, "input_scale_", None) is None:
            return flat
        return (flat * self.input_scale_ + self.input_offset_).astype(np.float32, copy=False)

    def _compile_step(self, fn, augment=False, after=None, corrupt=None):
        """Compile a train step ``fn(idx, x_clean, x_seen, weight) -> loss`` into
        ``run(idx, bounds, xs)``.

        One call of ``run`` takes ``len(bounds) - 1`` steps; step ``i`` takes
        the slice ``bounds[i]:bounds[i + 1]`` of the indices ``idx`` and of
        their samples ``xs = x[idx]`` (the global batch). Each replica of the
        strategy gets its consecutive share of that batch as ``idx`` and
        ``x_clean``, with ``x_seen`` the same samples augmented
        (``augment=True``, per replica) or not, and ``weight`` = its share's
        size over the global batch's: ``fn`` returns its mean loss times
        ``weight``, so that the gradients the strategy sums over replicas
        are those of the global batch's mean loss, and ``run`` returns the
        summed (global) loss of each step. On one device ``weight`` is 1.

        Augmentation runs outside the XLA-compiled part under
        ``jit_compile`` (XLA has no kernel for its image transform). The
        steps run inside one graph (a sequential ``tf.while_loop``), so
        Python and the eager runtime are out of the inner loop
        (bench/README.md: 11-12 s vs 12-14 s per dense MNIST epoch), and the
        data set stays in NumPy: TensorFlow only ever holds the samples of
        one call (``call_args``).

        With ``after``, ``fn`` returns ``(loss, samples, sums)``: dicts of
        per-replica tensors, ``samples`` with one row per sample of the
        replica's share, ``sums`` to be added up over replicas. Then
        ``after(samples, sums)`` runs once per step in cross-replica context
        with every ``samples`` tensor concatenated over all replicas in the
        global batch's order and every ``sums`` tensor summed: the place for
        updates of shared state that must see the whole global batch (DCN's
        centres). Each replica places its rows at its share's offset in zeros
        the size of the global batch and the strategy sums them: the same
        all-reduce that sums gradients, which works across workers (a gather
        of unequal shares does not).

        With ``corrupt`` (pretraining), ``fn`` gets ``x_seen`` in the place
        of ``x_clean``, as the target, and ``corrupt(x_seen)`` as its input:
        like augmentation, the corruption runs outside the XLA-compiled part.
        """
        strategy = self.strategy_
        k = strategy.num_replicas_in_sync
        inner = (tf.function(fn, jit_compile=True, autograph=False) if self.jit_compile else fn)

        def total(v):
            return strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)

        def run(idx, bounds, xs):
            m = tf.shape(bounds)[0] - 1

            def body(i, out):
                lo, hi = bounds[i], bounds[i + 1]
                b_idx, b_x, n = idx[lo:hi], xs[lo:hi], hi - lo

                def share(ctx):                # this replica's slice of the global batch
                    r = ctx.replica_id_in_sync_group
                    a, b = r * n // k, (r + 1) * n // k
                    return (b_idx[a:b], b_x[a:b], tf.cast(b - a, tf.float32) / tf.cast(n, tf.float32),
                            a)

                def replica_step(r_idx, xc, weight, start):
                    seen = self._augment(xc) if augment else xc
                    if corrupt is not None:
                        xc, seen = seen, corrupt(seen)
                    result = inner(r_idx, xc, seen, weight)
                    if after is None:
                        return result
                    loss, samples, sums = result
                    rows = tf.shape(r_idx)[0]
                    samples = {key: tf.pad(tf.cast(v, tf.float32),
                                           [[start, n - start - rows]] + [[0, 0]] * (v.shape.rank - 1))
                               for key, v in samples.items()}   # exact: ids and labels < 2**24
                    return loss, samples, sums
                args = strategy.experimental_distribute_values_from_function(share)
                result = strategy.run(replica_step, args=args)
                if after is None:
                    loss = total(result)
                else:
                    # one collective after the other, in the same order on every
                    # worker: collectives launched in different orders can pair up wrongly
                    loss = total(result[0])
                    combined, last = [], loss
                    for part in result[1:]:
                        done = {}
                        for key in sorted(part):
                            with tf.control_dependencies([last]):
                                done[key] = last = total(tf.identity(part[key]))
                        combined.append(done)
                    with tf.control_dependencies([last]):
                        updates = after(*combined)
                    # the next step (and its collectives) waits for these updates
                    with tf.control_dependencies(tf.nest.flatten(updates)):
                        loss = tf.identity(loss)
                return i + 1, out.write(i, tf.cast(loss, tf.float32))
            _, out = tf.while_loop(lambda i, _: i < m, body,
                                   (tf.constant(0), tf.TensorArray(tf.float32, size=m)),
                                   parallel_iterations=1)
            return out.stack()
        spec = tf.TensorSpec([None], tf.int32)
        xspec = tf.TensorSpec((None,) + tuple(self.input_shape_), tf.float32)
        return tf.function(run, input_signature=[spec, spec, xspec], autograph=False)

    def _steps_per_call(self, x):
        if self._across_workers():
            # collectives across workers pair up by op, not by loop iteration: one
            # step per call keeps every worker on the same step
            return 1
        batch_bytes = self.batch_size * x[:1].nbytes
        return int(max(1, min(STEPS_PER_CALL, CALL_BYTES // batch_bytes)))

    def _across_workers(self):
        return getattr(self.strategy_.extended, "_num_workers", 1) > 1

    def _check_same_start(self, state):
        """Every worker must start from the same checkpoint (or none), or their
        steps would not pair up: the checkpoint numbers of all replicas are
        summed into one vector (one slot each) and compared."""
        import tensorflow as tf
        strategy = self.strategy_
        mine = float(state["saves"]) if state else 0.0
        slots = strategy.num_replicas_in_sync
        per_replica = strategy.experimental_distribute_values_from_function(
            lambda ctx: tf.one_hot(ctx.replica_id_in_sync_group, slots) * mine)
        starts = strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None).numpy()
        if len(set(starts.tolist())) > 1:
            raise ValueError("the workers would start from different checkpoints (numbers "
                             f"{sorted(set(int(s) for s in starts))}; 0 = none): put --save-dir "
                             "on a filesystem every worker sees, or rerun every worker with "
                             "--restart")

    def _aug_pretrain(self):
        return bool(self.augment if self.aug_pretrain is None else self.aug_pretrain)

    def _uses_augmentation(self):
        return bool(self.augment or self._aug_pretrain())

    # ------------------------------------------------------------ building
    def _build(self, x_shape, keep_autoencoder=False):
        """Build the networks for inputs of shape ``x_shape[1:]`` from the
        current parameters: a fresh autoencoder (unless ``keep_autoencoder``
        and the shape is unchanged) and a fresh clustering model. The dtype
        policy and the weights' seeds are handed to the layers: nothing
        process-global (Keras's policy, Python's, NumPy's or TensorFlow's
        generators) is set or consumed, so estimators cannot affect each other."""
        shape = tuple(int(s) for s in x_shape[1:])
        keep = keep_autoencoder and getattr(self, "input_shape_", None) == shape \
            and hasattr(self, "autoencoder_")
        self.input_shape_ = shape
        for cached in ("_embed_fn", "_q_fn", "_dist_fn"):
            self.__dict__.pop(cached, None)
        self.strategy_ = strategy_for(self.distribute)
        self.precision_ = resolve_precision(self.precision)
        if self.precision_ == "mixed_bfloat16" and not bfloat16_is_native():
            warnings.warn("precision='mixed_bfloat16' on a CPU without AVX512-BF16 or AMX and "
                          "no GPU: bfloat16 is emulated here and can be several times slower "
                          "than float32 (bench/README.md)", stacklevel=3)
        if self.precision_ == "mixed_float16" and not tf.config.list_logical_devices("GPU"):
            warnings.warn("precision='mixed_float16' is meant for GPUs; on a CPU float16 is "
                          "emulated and slow (use float32, or mixed_bfloat16 on CPUs with "
                          "AVX512-BF16 or AMX)", stacklevel=3)
        with self.strategy_.scope():
            if not keep:
                self.autoencoder_, self.encoder_, self.decoder_ = build_autoencoder(
                    self.arch, shape if self.arch == "conv" else (shape[0],), dims=self.dims,
                    filters=self.filters, embedding_dim=self.embedding_dim, init=self.init,
                    dtype=self.precision_, seed=self.random_state)
            self.model_ = self._build_cluster_model()
        if not keep:
            self.pretrained_ = False
        self._fitted = False

    def _make_pretrain_state(self, n, epochs):
        """The pretraining optimizer (its slots built, so a checkpoint can fill them)."""
        with self.strategy_.scope():
            steps = epochs * math.ceil(n / self.batch_size)   # batches as BatchOrder makes them
            self._opt_pre = make_optimizer(
                self.pretrain_optimizer, self.pretrain_lr, self.momentum,
                decay_steps=steps if self.pretrain_schedule == "cosine" else None,
                loss_scale=self.precision_ == "mixed_float16")
            self._opt_pre.build(self.autoencoder_.trainable_variables)
            if self.random_state is None:
                self._aug_rng = tf.random.Generator.from_non_deterministic_state()
            else:
                self._aug_rng = tf.random.Generator.from_seed(int(self.random_state))

    def _make_train_state(self, n):
        """The clustering optimizer, the labels and the per-sample state."""
        with self.strategy_.scope():
            self.optimizer_ = make_optimizer(self.optimizer, self.lr, self.momentum,
                                             loss_scale=self.precision_ == "mixed_float16")
            self.optimizer_.build(self._trainable_variables())
            self._labels_var = tf.Variable(tf.zeros([n], tf.int32), trainable=False)
            self._init_labels_var = tf.Variable(tf.zeros([n], tf.int32), trainable=False)
            self._make_cluster_state(n)

    def _checkpoint_objects(self, phase):
        """What a checkpoint of ``phase`` holds: pretraining does not need the
        clustering state, clustering not the pretraining optimizer (half the
        size of a dense network's checkpoint: bench/checkpoint_cost.py)."""
        objects = {"autoencoder": self.autoencoder_, "augment_rng": self._aug_rng}
        if phase == "pretrain":
            return {**objects, "pretrain_optimizer": self._opt_pre}
        return {**objects, "model": self.model_, "optimizer": self.optimizer_,
                "labels": self._labels_var, "init_labels": self._init_labels_var,
                **self._cluster_state()}

    def _signature(self, x):
        """What a checkpoint must share with this run: the estimator, its
        settings (all but verbose, save_dir and warm_start) and the data."""
        params = {k: v for k, v in self.get_params().items()
                  if k not in ("verbose", "save_dir", "warm_start", "distribute",
                               "tensorboard_dir")}
        digest = hashlib.sha1(np.ascontiguousarray(x).data).hexdigest()[:16]
        return {"estimator": type(self).__name__,
                "params": json.loads(json.dumps(params, default=str)),
                "data": {"shape": list(x.shape), "sha1": digest}}

    def _centres_initializer(self):
        """The clustering layer's starting values (k-means replaces them), seeded."""
        return Initializers(self.random_state)(None, default="glorot_uniform")

    def _augment(self, xb):
        return augment_batch(xb, self.image_shape_, self.rotation, self.shift, rng=self._aug_rng)

    def _corrupt(self, xb):
        """Masking noise of denoising pretraining: each input value zeroed
        with probability ``pretrain_noise`` (drawn from the augmentation's
        seeded, checkpointed generator)."""
        keep = self._aug_rng.uniform(tf.shape(xb)) >= self.pretrain_noise
        return xb * tf.cast(keep, xb.dtype)

    def _say(self, msg, level=1):
        if self.verbose >= level:
            print(msg, file=sys.stdout, flush=True)

    def _progress(self, target, unit):
        """Keras's progress bar (with ETA) when progress goes to an interactive
        terminal; None elsewhere (logs, pipes, notebooks' captured output),
        where a line is printed every few epochs or target updates instead."""
        if self.verbose >= 1 and sys.stdout.isatty():
            import keras
            return keras.utils.Progbar(target, unit_name=unit, stateful_metrics=PROGRESS_VALUES)
        return None

    def _scalars(self, group, step, values):
        """``values`` as TensorBoard scalars ``group/name`` at ``step``
        (``tensorboard_dir``; nothing without it)."""
        if not self.tensorboard_dir:
            return
        if getattr(self, "_tb_writer", None) is None:
            self._tb_writer = tf.summary.create_file_writer(os.fspath(self.tensorboard_dir))
        with self._tb_writer.as_default(step=int(step)):
            for name, value in values.items():
                # tf.summary.scalar's own body lives in the tensorboard package; this
                # is what it writes (a float32 tensor tagged for the scalars plugin)
                tf.summary.write(f"{group}/{name}", tf.constant(float(value), tf.float32),
                                 metadata=_SCALAR_METADATA)
        self._tb_writer.flush()

    def _close_scalars(self):
        writer, self._tb_writer = getattr(self, "_tb_writer", None), None
        if writer is not None:
            writer.close()

    def _out(self, name):
        return None if not self.save_dir else os.path.join(self.save_dir, name)

    # ------------------------------------------------------------ checkpoints
    @contextlib.contextmanager
    def _stop_on_signals(self, active):
        """While ``active``: SIGINT and SIGTERM only ask the loop to stop; it
        writes a checkpoint at the next call boundary and raises ``Interrupted``."""
        self._stop_signal = None
        if not active or threading.current_thread() is not threading.main_thread():
            yield
            return

        def ask(signum, _frame):
            self._stop_signal = signum
        old = {s: signal.signal(s, ask) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, h in old.items():
                signal.signal(s, h)

    def _save_due(self):
        return self._stop_signal is not None or (
            self._ckpt is not None and time.time() - self._last_save >= CHECKPOINT_SECONDS)

    def _checkpoint(self, **updates):
        """Record ``updates`` in the run state, write a checkpoint (with a
        save_dir), and stop here if a signal asked for it."""
        self._run.update(updates)
        if self._ckpt is not None:
            self._ckpt.save(self._run, self._checkpoint_objects(self._run["phase"]))
            self._last_save = time.time()
        if self._stop_signal is not None:
            name = signal.Signals(self._stop_signal).name
            raise Interrupted(f"{name}: stopped at {self._where()}; checkpoint written to "
                              f"{self._ckpt.folder}: run the same command again to resume",
                              self._stop_signal)

    def _where(self, run=None):
        run = self._run if run is None else run
        if run.get("phase") == "pretrain":
            part = len(run.get("epoch_losses", []))
            return (f"pretraining epoch {len(run.get('pretrain_history', []))}/{run.get('epochs')}"
                    + (f" (+{part} batches)" if part else ""))
        if run.get("phase") == "done":
            return f"the end (iteration {run.get('ite')})"
        return f"clustering iteration {run.get('ite', 0)}/{self.maxiter}"

    def _check_finite(self, values, where):
        values = np.asarray(values)
        if np.isfinite(values).all():
            return
        bad = "NaN" if np.isnan(values).any() else "infinite"
        kept = ""
        if self._ckpt is not None and tf.train.latest_checkpoint(self._ckpt.folder):
            kept = f"; the last good checkpoint in {self._ckpt.folder} is kept"
        raise TrainingDiverged(
            f"training diverged at {where} (the loss became {bad}): the features are probably "
            f"not scaled (use scale='minmax' or 'standard', --scale; this run has "
            f"scale={self.scale!r}) or the learning rate is too high (lr / pretrain_lr){kept}")

    def resume_point(self, x):
        """Where a ``fit(x)`` into ``save_dir`` would resume ('pretraining epoch
        80/400', ...), or None when it would start from scratch. Raises
        ``SettingsMismatch`` (a ValueError) when ``save_dir`` holds another
        run's checkpoint. Writes nothing."""
        if not self.save_dir:
            return None
        x, _ = self._prepare(x)
        state = Checkpointer(self.save_dir, self._signature(x)).check()
        return None if state is None else self._where(state)

    # ------------------------------------------------------------ pretraining
    def pretrain(self, x, y=None, epochs=None):
        """Train a fresh autoencoder to reconstruct ``x`` (``aug(x)`` from
        ``aug(x)`` when pretraining with augmentation); the next ``fit``
        starts from it instead of pretraining.

        Returns self; sets ``pretrain_history_`` (epoch, loss, time_s).
        """
        x, y = self._prepare(x, y)
        self._build(x.shape)
        epochs = self.pretrain_epochs if epochs is None else int(epochs)
        self._make_pretrain_state(len(x), epochs)
        self._run, self._ckpt, self._stop_signal = {"phase": "pretrain", "epochs": epochs}, None, None
        try:
            self._pretrain_loop(x)
        finally:
            self._close_scalars()
        self._ae_ready = True
        return self

    def _pretrain_loop(self, x):
        """Pretrain from where ``self._run`` says, checkpointing as it goes."""
        run = self._run
        epochs = run["epochs"]
        n, b = len(x), self.batch_size
        order = BatchOrder(n, b, self.random_state).restore(run.get("pretrain_order"))
        sizes = np.minimum(b, n - np.arange(0, n, b)) / n
        ae, opt = self.autoencoder_, self._opt_pre

        def step(idx, target, xb, weight):   # target: x or aug(x); xb: it, masked by pretrain_noise
            with tf.GradientTape() as tape:
                loss = weight * mse(ae(xb, training=True), target)
            apply_step(opt, loss, ae.trainable_variables, tape)
            return loss
        step = self._compile_step(step, augment=self._aug_pretrain(),
                                  corrupt=self._corrupt if self.pretrain_noise > 0 else tf.identity)

        hist = run.setdefault("pretrain_history", [])
        part = run.setdefault("epoch_losses", [])
        clock = _Clock(run.get("pretrain_s", 0.0))
        per_call = self._steps_per_call(x)
        bar = self._progress(epochs, "epoch")
        if bar is not None:
            self._say(f"pretraining the autoencoder ({self.precision_})")
        for epoch in range(len(hist) + 1, epochs + 1):
            # one graph call per STEPS_PER_CALL mini-batches: signals are seen between calls
            while len(part) < order.per_epoch:
                losses = step(*call_args(order.take(min(per_call, order.per_epoch - len(part))), x))
                self._check_finite(losses.numpy(), f"pretraining epoch {epoch}")
                part.extend(losses.numpy().tolist())
                if len(part) < order.per_epoch and self._save_due():
                    self._checkpoint(pretrain_order=order.state(), pretrain_s=clock())
            row = {"epoch": epoch, "loss": float(np.dot(part, sizes)), "time_s": round(clock(), 3)}
            hist.append(row)
            part.clear()
            self._scalars("pretrain", epoch, {"loss": row["loss"]})
            if bar is not None:
                bar.update(epoch, [("loss", row["loss"])])
            elif epoch == epochs or epoch % max(1, epochs // 20) == 0 or epoch == 1:
                eta = clock() / epoch * (epochs - epoch)
                self._say(f"pretrain epoch {epoch}/{epochs}  loss {row['loss']:.5f}  "
                          f"{row['time_s']:.1f}s  eta {eta:.0f}s")
            if self._ckpt is not None and (epoch % CHECKPOINT_EPOCHS == 0 or epoch == epochs
                                           or self._save_due()):
                write_csv(self._out("pretrain_log.csv"), hist, ["epoch", "loss", "time_s"])
                self._checkpoint(pretrain_order=order.state(), pretrain_s=clock())
        self.pretrain_history_ = hist
        self.pretrain_time_ = clock()
        self.pretrained_ = True
        if self.save_dir and epochs > 0:
            write_csv(self._out("pretrain_log.csv"), hist, ["epoch", "loss", "time_s"])
            save_weights(self.autoencoder_, self._out("ae_weights.h5"))

    def load_pretrained(self, x_or_shape, path):
        """Load autoencoder weights from ``path`` (built for data like ``x``) and
        skip pretraining in the next ``fit``."""
        if isinstance(x_or_shape, tuple):
            shape = x_or_shape
            self._check_params()
        else:
            shape = self._prepare(x_or_shape)[0].shape
        self._build(shape)
        load_weights(self.autoencoder_, path, what="pretrained autoencoder weights")
        self.pretrained_ = True
        self._ae_ready = True
        self.pretrain_history_ = []
        self.pretrain_time_ = 0.0
        return self

    # ------------------------------------------------------------ clustering
    def fit(self, x, y=None):
        """Build fresh networks from the current parameters, pretrain them
        (unless ``pretrain`` or ``load_pretrained`` just did), initialise by
        k-means, then train the clustering model. ``y`` only logs metrics.

        With ``save_dir`` the run writes checkpoints there and a later ``fit``
        with the same settings and data continues from the latest one. With
        ``warm_start=True`` a fitted model goes on training from where it is.

        Returns self; sets ``labels_``, ``cluster_centers_``, ``history_``,
        ``n_iter_``, ``init_labels_`` and, when ``y`` is given, ``init_metrics_``.
        """
        x, y = self._prepare(x, y)
        warm = bool(self.warm_start) and self.__sklearn_is_fitted__() \
            and getattr(self, "input_shape_", None) == tuple(x.shape[1:])
        ae_ready = getattr(self, "_ae_ready", False)
        self._ae_ready = False
        if not warm:
            self._build(x.shape, keep_autoencoder=ae_ready)
            self._make_pretrain_state(len(x), self.pretrain_epochs)
        self._make_train_state(len(x))
        self._ckpt = Checkpointer(self.save_dir, self._signature(x)) if self.save_dir else None
        self._last_save = time.time()
        state = (self._ckpt.restore(self._checkpoint_objects)
                 if self._ckpt is not None and not warm else None)
        if self._across_workers():
            self._check_same_start(state)
        if state is not None:
            self._say(f"resuming from the checkpoint in {self._ckpt.folder}: {self._where(state)}")
        self._run = state or {"phase": "pretrain", "epochs": self.pretrain_epochs}
        try:
            with self._stop_on_signals(self._ckpt is not None):
                if self._run["phase"] == "pretrain":
                    if warm or ae_ready or self.pretrain_epochs == 0:
                        self.pretrain_time_ = getattr(self, "pretrain_time_", 0.0) if ae_ready else 0.0
                        self._run["pretrain_s"] = self.pretrain_time_
                    else:
                        self._pretrain_loop(x)
                    self._initialise(x, y, warm)
                else:
                    self.pretrain_history_ = self._run.get("pretrain_history", [])
                    self.pretrain_time_ = self._run.get("pretrain_s", 0.0)
                    self.pretrained_ = True
                if self._run["phase"] == "cluster":
                    self._cluster_loop(x, y)
        finally:
            self._close_scalars()
            self._bar = None
        run = self._run
        self.init_labels_ = self._init_labels_var.numpy().astype(np.int64)
        self.init_metrics_ = run.get("init_metrics")
        self.history_ = run.get("history", [])
        self.n_iter_ = int(run["ite"])
        self.converged_ = bool(run.get("converged", False))
        self.labels_ = self._labels_var.numpy().astype(np.int64)   # those of the weights saved last
        self.cluster_time_ = float(run.get("cluster_s", 0.0))
        self._fitted = True
        if self.save_dir:      # the logs as the checkpoint has them, even after a resume
            if self.pretrain_history_:
                write_csv(self._out("pretrain_log.csv"), self.pretrain_history_,
                          ["epoch", "loss", "time_s"])
            write_csv(self._out("log.csv"), self.history_, LOG_FIELDS)
            save_weights(self.model_, self._out("model_final.h5"), self._input_scaling())
        return self

    def _initialise(self, x, y, warm):
        """k-means on the embedding sets the clusters (warm start: the current
        labels are the starting point)."""
        clock = _Clock()
        z = self._embed(x)
        self._check_finite(z, "the embedding after pretraining")
        if warm:
            labels = self._labels_of(x)
            init_metrics = metrics.evaluate(y, labels) if y is not None else None
            self._warm_init(labels)
        else:
            km = KMeans(self.n_clusters, n_init=self.kmeans_n_init,
                        random_state=self.random_state).fit(z)
            labels = km.labels_
            init_metrics = metrics.evaluate(y, labels) if y is not None else None
            if init_metrics:
                m = init_metrics
                self._say(f"AE + k-means: acc {m['acc']:.4f}  nmi {m['nmi']:.4f}  ari {m['ari']:.4f}")
            with self.strategy_.scope():
                self._init_clusters(z, km)
        self._labels_var.assign(labels.astype(np.int32))
        self._init_labels_var.assign(labels.astype(np.int32))
        self._run.update(phase="cluster", ite=0, pending=True, history=[], losses=[],
                         init_metrics=init_metrics, cluster_s=clock(), converged=False)
        if self.save_dir:
            save_weights(self.model_, self._out("model_0.h5"), self._input_scaling())

    def _trainable_variables(self):
        return self.model_.trainable_variables

    def _cluster_loop(self, x, y):
        run = self._run
        step = self._make_train_step()
        n, b = len(x), self.batch_size
        interval = self.update_interval or max(1, math.ceil(n / b))
        seed = None if self.random_state is None else self.random_state + 1
        order = BatchOrder(n, b, seed).restore(run.get("cluster_order"))
        clock = _Clock(run.get("cluster_s", 0.0))
        self.history_ = run["history"]
        if self.save_dir:      # the log as the run state has it; _log appends to it
            write_csv(self._out("log.csv"), self.history_, LOG_FIELDS)
        losses = run["losses"]
        ite, pending = int(run["ite"]), bool(run["pending"])
        per_call = self._steps_per_call(x)
        self._bar = self._progress(self.maxiter, "iter")
        if self._bar is not None:
            self._say("clustering")
        while True:
            if pending and (ite % interval == 0 or ite == self.maxiter):
                last = self._labels_var.numpy()
                labels = self._on_update(x)
                delta = float(np.mean(labels != last))
                self._labels_var.assign(labels.astype(np.int32))
                loss = float(np.mean(losses)) if losses else 0.0
                self._log(ite, y, labels, loss, delta, clock)
                losses.clear()
                pending = False
                converged = ite > 0 and delta < self.tol
                if converged:
                    if self._bar is not None:
                        self._bar.update(ite, finalize=True)
                    self._say(f"delta_label {delta:.5f} < tol {self.tol}: stopping at iteration {ite}")
                done = converged or ite == self.maxiter
                self._checkpoint(phase="done" if done else "cluster", ite=ite, pending=False,
                                 converged=converged, cluster_order=order.state(), cluster_s=clock())
                if done:
                    return
            # the steps up to the next update (or maxiter), in graph calls
            todo = min(interval - ite % interval, self.maxiter - ite, per_call)
            out = step(*call_args(order.take(todo), x)).numpy()
            ite += todo
            self._check_finite(out, f"clustering iteration {ite}")
            losses.extend(out.tolist())
            if self._bar is not None:
                self._bar.update(ite, [("loss", float(np.mean(losses)))])
            pending = True
            if self._save_due():
                self._checkpoint(ite=ite, pending=True, cluster_order=order.state(),
                                 cluster_s=clock())

    def _log(self, ite, y, labels, loss, delta, clock):
        row = {"iter": ite, "loss": round(loss, 6), "delta_label": round(delta, 6),
               "time_s": round(clock(), 3)}
        msg = f"iter {ite}"
        if y is not None:
            m = metrics.evaluate(y, labels)
            row.update({k: round(v, 5) for k, v in m.items()})
            msg += f"  acc {m['acc']:.4f}  nmi {m['nmi']:.4f}  ari {m['ari']:.4f}"
        self.history_.append(row)
        self._scalars("cluster", ite, {k: v for k, v in row.items() if k not in ("iter", "time_s")})
        if getattr(self, "_bar", None) is not None:
            self._bar.update(ite, [(k, row[k]) for k in PROGRESS_VALUES if k in row])
        else:
            self._say(f"{msg}  loss {loss:.5f}  delta_label {delta:.4f}  {row['time_s']:.1f}s")
        if self.save_dir:
            append_csv(self._out("log.csv"), row, LOG_FIELDS)

    # ------------------------------------------------------------ inference
    def _batched(self, fn, x):
        """``fn`` over ``x`` (NumPy), every sample with the same arithmetic (``full_pass``)."""
        return full_pass(fn, x)

    def _embed(self, x):
        if not hasattr(self, "_embed_fn"):
            self._embed_fn = compile_pass(lambda xb: self.encoder_(xb, training=False))
        return self._batched(self._embed_fn, x)

    def transform(self, x):
        """The embedding ``f(x)`` of each sample, shape ``(N, embedding_dim)``
        (after ``fit``, or after ``pretrain``: the pretrained embedding)."""
        x, _ = self._prepare(x, fitting=False, pretrained_ok=True)
        return self._embed(x)

    def cluster_scores(self, x):
        """Per-cluster scores of each sample, shape ``(N, n_clusters)``:
        ``predict`` takes the best of each row (``SCORES`` names them: DEC's
        soft assignments, the largest wins; DCN's squared distances to the
        centres, the smallest wins)."""
        x, _ = self._prepare(x, fitting=False)
        return self._scores(x)

    def inference_model(self):
        """The fitted model as one plain Keras model for serving: samples as
        ``predict`` takes them (flat, or images for conv networks), the input
        scaling inside (``InputScaling``), out a dict of the per-cluster scores
        (key ``SCORES``) and ``label``. ``model.save("m.keras")`` then loads
        with plain ``keras.saving.load_model`` once ``deckeras`` is imported;
        ``model.export(path)`` writes a TensorFlow SavedModel."""
        import keras
        from ..layers import ClusterLabel, InputScaling
        check_is_fitted(self)
        shape = tuple(self.image_shape_) if self.arch == "conv" else (self.n_features_in_,)
        inputs = keras.Input(shape=shape, name="x")
        h = inputs
        if getattr(self, "input_scale_", None) is not None:
            h = InputScaling(np.reshape(self.input_scale_, shape),
                             np.reshape(self.input_offset_, shape), name="input_scaling")(h)
        scores = self._cluster_layer()(self.encoder_(h))
        label = ClusterLabel(nearest=self.SCORES == "distances", name="label")(scores)
        return keras.Model(inputs, {self.SCORES: scores, "label": label},
                           name=f"{type(self).__name__.lower()}_inference")

    def predict(self, x):
        """Cluster label of each sample in ``x``."""
        x, _ = self._prepare(x, fitting=False)
        return self._labels_of(x)

    def fit_predict(self, x, y=None):
        return self.fit(x, y).labels_

    @property
    def cluster_centers_(self):
        """Cluster centres in the embedding space, shape ``(K, embedding_dim)``."""
        check_is_fitted(self)
        return self._centres()

    # ------------------------------------------------------------ persistence
    def _input_scaling(self):
        if getattr(self, "input_scale_", None) is None:
            return None
        return {"scale": self.input_scale_, "offset": self.input_offset_}

    def save(self, path):
        """Save the clustering model's weights (and the input scaling) as ``.h5``, atomically."""
        check_is_fitted(self)
        save_weights(self.model_, path, self._input_scaling())

    def load(self, path, input_shape, image_shape=None):
        """Rebuild the networks for samples of ``input_shape`` and load weights
        saved by ``save`` / ``fit``. Returns self, ready to ``predict``."""
        self._check_params()
        self.n_features_in_ = int(np.prod(input_shape))
        self.image_shape_ = image_shape if image_shape is not None else (
            tuple(input_shape) if len(input_shape) == 3 else None)
        shape = tuple(input_shape) if self.arch == "conv" else (self.n_features_in_,)
        self._build((None,) + shape)
        load_weights(self.model_, path, what="model weights")
        scaling = read_arrays(path)
        self.input_scale_ = scaling.get("scale")
        self.input_offset_ = scaling.get("offset")
        self.pretrained_ = True
        self._fitted = True
        return self

    def __getstate__(self):
        """Pickle, ``copy.deepcopy``: the parameters and fitted attributes, with
        the networks as weight arrays (TensorFlow objects do not pickle)."""
        state = {k: v for k, v in super().__getstate__().items() if not _is_tf(v)}
        if hasattr(self, "model_"):
            state["_weights"] = {"autoencoder": self.autoencoder_.get_weights(),
                                 "cluster": self._cluster_layer().get_weights()}
        return state

    def __setstate__(self, state):
        weights = state.pop("_weights", None)
        super().__setstate__(state)
        if weights is not None:
            self._build((None,) + tuple(self.input_shape_))
            self._fitted = state.get("_fitted", False)
            self.autoencoder_.set_weights(weights["autoencoder"])
            self._cluster_layer().set_weights(weights["cluster"])


class _Clock:
    """Seconds since it was made, plus ``offset`` (time spent before a resume)."""

    def __init__(self, offset=0.0):
        self.t0 = time.time() - float(offset)

    def __call__(self):
        return time.time() - self.t0


def _scalar_metadata():
    from tensorflow.core.framework import summary_pb2
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
        data_class=summary_pb2.DATA_CLASS_SCALAR).SerializeToString()


_SCALAR_METADATA = _scalar_metadata()


def _is_tf(value):
    return type(value).__module__.startswith(("tensorflow", "keras"))


_call_args = call_args     # the name bench/ scripts use
