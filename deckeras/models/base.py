"""DeepClusterer: what every deep clustering method here shares.

The base owns input validation, the autoencoder (built by
``deckeras.autoencoders``), pretraining with or without augmentation,
k-means initialisation, the training-loop skeleton (update interval, tol on
delta-label, maxiter, logging, checkpoints), prediction, saving and loading.
A subclass supplies the clustering model, its loss step and the per-update
bookkeeping (see ``DEC`` and ``DCN``).
"""
import math
import os
import platform
import sys
import time
import warnings

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans

from .. import metrics
from ..augment import augment as augment_batch
from ..autoencoders import build_autoencoder
from ..datasets import as_images, check_data
from ..io import write_csv
from ..methods import PRECISIONS, PRETRAIN_SCHEDULES
from ..weights import load_weights, save_weights

LOG_FIELDS = ["iter", "acc", "nmi", "ari", "loss", "delta_label", "time_s"]
PREDICT_BATCH = 2048          # rows per full-data pass call: as fast as 4096 here, half the memory
# Mini-batches per compiled call: enough to hide the cost of a call (~8 ms
# here), few enough that Ctrl-C (seen between calls) stays prompt and that the
# samples handed to TensorFlow per call stay under CALL_BYTES.
STEPS_PER_CALL = 64
CALL_BYTES = 16 * 2 ** 20


def make_optimizer(name, lr=None, momentum=0.9, decay_steps=None):
    """'sgd' (with momentum) or 'adam'; ``lr=None`` takes 1.0 for SGD (DEC's
    pretraining) and 1e-3 for Adam. With ``decay_steps`` the learning rate
    follows a cosine from ``lr`` down to 0 over that many steps."""
    name = str(name).lower()
    if name not in ("sgd", "adam"):
        raise ValueError(f"unknown optimizer {name!r}: use 'sgd' or 'adam'")
    lr = (1.0 if name == "sgd" else 1e-3) if lr is None else lr
    if decay_steps:
        lr = keras.optimizers.schedules.CosineDecay(lr, int(decay_steps))
    if name == "sgd":
        return keras.optimizers.SGD(lr, momentum=momentum)
    return keras.optimizers.Adam(lr)


class DeepClusterer(ClusterMixin, BaseEstimator):
    """Base class; see ``DEC`` and ``DCN`` for the parameters."""

    def _store_params(self, values):
        """``__init__`` only stores its arguments (scikit-learn's rule); the
        subclasses list them explicitly so that ``get_params`` sees them."""
        for name, value in values.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    # ------------------------------------------------------------ hooks
    def _build_cluster_model(self):
        raise NotImplementedError

    def _init_clusters(self, z, kmeans):
        raise NotImplementedError

    def _make_train_step(self):
        """Return ``self._compile_step(step, augment)`` for
        ``step(idx, x_clean, x_seen) -> loss``: one mini-batch ``x_clean = x[idx]``
        (the indices address per-sample state) and what the gradient step sees
        (``aug(x_clean)`` when augmenting, else ``x_clean``)."""
        raise NotImplementedError

    def _on_update(self, x):
        """Called every ``update_interval`` iterations: refresh targets from
        clean data and return the current labels of all samples."""
        raise NotImplementedError

    def _labels_of(self, x):
        raise NotImplementedError

    # ------------------------------------------------------------ validation
    def _check_params(self):
        checks = [
            (self.arch in ("fc", "conv"), f"arch must be 'fc' or 'conv', got {self.arch!r}"),
            (_is_int(self.n_clusters) and self.n_clusters >= 1,
             f"n_clusters must be an integer >= 1, got {self.n_clusters!r}"),
            (_is_int(self.batch_size) and self.batch_size >= 1,
             f"batch_size must be an integer >= 1, got {self.batch_size!r}"),
            (_is_int(self.maxiter) and self.maxiter >= 0, f"maxiter must be >= 0, got {self.maxiter!r}"),
            (self.update_interval is None or (_is_int(self.update_interval) and self.update_interval >= 1),
             f"update_interval must be an integer >= 1, got {self.update_interval!r}"),
            (self.tol >= 0, f"tol must be >= 0, got {self.tol!r}"),
            (_is_int(self.pretrain_epochs) and self.pretrain_epochs >= 0,
             f"pretrain_epochs must be >= 0, got {self.pretrain_epochs!r}"),
            (self.lr is None or self.lr > 0, f"lr must be > 0, got {self.lr!r}"),
            (self.pretrain_schedule in PRETRAIN_SCHEDULES,
             f"pretrain_schedule must be one of {', '.join(PRETRAIN_SCHEDULES)}, "
             f"got {self.pretrain_schedule!r}"),
            (self.precision in PRECISIONS,
             f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(msg)

    def _prepare(self, x, y=None, fitting=True):
        """Validate ``x`` and shape it for the network: flat for 'fc', images for 'conv'."""
        raw = np.asarray(x) if not isinstance(x, np.ndarray) else x
        x, y = check_data(raw, y, "x")
        if fitting:
            self._check_params()
            if self.n_clusters > len(x):
                raise ValueError(f"n_clusters={self.n_clusters} is larger than the number "
                                 f"of samples ({len(x)})")
            if x.ndim >= 3:
                self.image_shape_ = tuple(x.shape[1:]) + ((1,) if x.ndim == 3 else ())
            else:
                side = int(round(math.sqrt(x.shape[1])))
                self.image_shape_ = (side, side, 1) if side * side == x.shape[1] else None
            if (self.arch == "conv" or self._uses_augmentation()) and self.image_shape_ is None:
                raise ValueError(f"{x.shape[1]} features cannot be viewed as a square image: "
                                 "conv methods and augmentation need images")
            self.n_features_in_ = int(np.prod(x.shape[1:]))
        elif int(np.prod(x.shape[1:])) != self.n_features_in_:
            raise ValueError(f"x has {int(np.prod(x.shape[1:]))} features, but the model "
                             f"was built for {self.n_features_in_}")
        if self.arch == "conv":
            x = as_images(x, self.image_shape_)
        else:
            x = x.reshape(len(x), -1)
        return x, y

    def _compile_step(self, fn, augment=False):
        """Compile a train step ``fn(idx, x_clean, x_seen) -> loss`` into
        ``run(idx, bounds, xs)``.

        One call of ``run`` takes ``len(bounds) - 1`` steps; step ``i`` sees
        the slice ``bounds[i]:bounds[i + 1]`` of the indices ``idx`` and of
        their samples ``xs = x[idx]`` as ``x_clean``, and as ``x_seen`` the
        same samples augmented (``augment=True``) or not. Augmentation runs
        outside the XLA-compiled part under ``jit_compile`` (XLA has no
        kernel for its image transform). The steps run inside one graph (a
        sequential ``tf.while_loop``), so Python and the eager runtime are out
        of the inner loop (bench/README.md: 11-12 s vs 12-14 s per dense MNIST
        epoch), and the data set stays in NumPy: TensorFlow only ever holds
        the samples of one call (``_call_args``).
        """
        inner = (tf.function(fn, jit_compile=True, autograph=False) if self.jit_compile else fn)

        def run(idx, bounds, xs):
            m = tf.shape(bounds)[0] - 1

            def body(i, out):
                lo, hi = bounds[i], bounds[i + 1]
                xc = xs[lo:hi]
                loss = inner(idx[lo:hi], xc, self._augment(xc) if augment else xc)
                return i + 1, out.write(i, tf.cast(loss, tf.float32))
            _, out = tf.while_loop(lambda i, _: i < m, body,
                                   (tf.constant(0), tf.TensorArray(tf.float32, size=m)),
                                   parallel_iterations=1)
            return out.stack()
        spec = tf.TensorSpec([None], tf.int32)
        xspec = tf.TensorSpec((None,) + tuple(self.input_shape_), tf.float32)
        return tf.function(run, input_signature=[spec, spec, xspec], autograph=False)

    def _steps_per_call(self, x):
        batch_bytes = self.batch_size * x[:1].nbytes
        return int(max(1, min(STEPS_PER_CALL, CALL_BYTES // batch_bytes)))

    def _uses_augmentation(self):
        pre = self.augment if self.aug_pretrain is None else self.aug_pretrain
        return bool(self.augment or pre)

    # ------------------------------------------------------------ building
    def _setup(self, x_shape):
        """Build the networks for inputs of shape ``x_shape[1:]`` (once)."""
        shape = tuple(int(s) for s in x_shape[1:])
        if getattr(self, "input_shape_", None) == shape and hasattr(self, "model_"):
            return
        if self.random_state is not None:
            keras.utils.set_random_seed(int(self.random_state))
        self.input_shape_ = shape
        for cached in ("_embed_fn", "_q_fn", "_dist_fn"):
            self.__dict__.pop(cached, None)
        self.strategy_ = tf.distribute.get_strategy()
        if self.precision == "mixed_bfloat16" and not bfloat16_is_native():
            warnings.warn("precision='mixed_bfloat16' on a CPU without AVX512-BF16 or AMX and "
                          "no GPU: bfloat16 is emulated here and can be several times slower "
                          "than float32 (bench/README.md)", stacklevel=3)
        policy = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.precision)   # the layers built now keep it
        try:
            with self.strategy_.scope():
                self.autoencoder_, self.encoder_, self.decoder_ = build_autoencoder(
                    self.arch, shape if self.arch == "conv" else (shape[0],), dims=self.dims,
                    filters=self.filters, embedding_dim=self.embedding_dim, init=self.init)
                self.model_ = self._build_cluster_model()
        finally:
            keras.config.set_dtype_policy(policy)
        self.pretrained_ = False

    def _augment(self, xb):
        return augment_batch(xb, self.image_shape_, self.rotation, self.shift)

    def _say(self, msg, level=1):
        if self.verbose >= level:
            print(msg, file=sys.stdout, flush=True)

    def _out(self, name):
        return None if not self.save_dir else os.path.join(self.save_dir, name)

    # ------------------------------------------------------------ pretraining
    def pretrain(self, x, y=None, epochs=None):
        """Train the autoencoder to reconstruct ``x`` (``aug(x)`` from
        ``aug(x)`` when pretraining with augmentation).

        Returns self; sets ``pretrain_history_`` (epoch, loss, time_s).
        """
        x, y = self._prepare(x, y)
        return self._pretrain(x, epochs)

    def _pretrain(self, x, epochs=None):
        """Pretraining on data already checked and shaped by ``_prepare``."""
        self._setup(x.shape)
        epochs = self.pretrain_epochs if epochs is None else int(epochs)
        aug = self.augment if self.aug_pretrain is None else self.aug_pretrain
        rng = np.random.default_rng(self.random_state)
        n, b = len(x), self.batch_size
        with self.strategy_.scope():
            steps = epochs * math.ceil(n / b)     # batches per epoch as the loop below makes them
            opt = make_optimizer(self.pretrain_optimizer, self.pretrain_lr, self.momentum,
                                 decay_steps=steps if self.pretrain_schedule == "cosine" else None)
            ae = self.autoencoder_
            opt.build(ae.trainable_variables)

        def step(idx, _clean, xb):
            with tf.GradientTape() as tape:
                loss = mse(ae(xb, training=True), xb)
            opt.apply_gradients(zip(tape.gradient(loss, ae.trainable_variables),
                                    ae.trainable_variables))
            return loss
        step = self._compile_step(step, augment=bool(aug))

        self.pretrain_history_ = []
        t0 = time.time()
        for epoch in range(1, epochs + 1):
            perm = rng.permutation(n).astype(np.int32)
            # one graph call per STEPS_PER_CALL mini-batches: Ctrl-C is seen between calls
            losses = np.concatenate([step(*_call_args(chunk, x)) for chunk in
                                     _chunks(_batches_of(perm, b), self._steps_per_call(x))])
            sizes = np.minimum(b, n - np.arange(0, n, b)) / n
            row = {"epoch": epoch, "loss": float(np.dot(losses, sizes)),
                   "time_s": round(time.time() - t0, 3)}
            self.pretrain_history_.append(row)
            if epoch == epochs or epoch % max(1, epochs // 20) == 0 or epoch == 1:
                eta = (time.time() - t0) / epoch * (epochs - epoch)
                self._say(f"pretrain epoch {epoch}/{epochs}  loss {row['loss']:.5f}  "
                          f"{row['time_s']:.1f}s  eta {eta:.0f}s")
        self.pretrain_time_ = time.time() - t0
        self.pretrained_ = True
        if self.save_dir and epochs > 0:
            write_csv(self._out("pretrain_log.csv"), self.pretrain_history_, ["epoch", "loss", "time_s"])
            save_weights(self.autoencoder_, self._out("ae_weights.h5"))
        return self

    def load_pretrained(self, x_or_shape, path):
        """Load autoencoder weights from ``path`` (built for data like ``x``) and
        skip pretraining in ``fit``."""
        shape = x_or_shape if isinstance(x_or_shape, tuple) else self._prepare(x_or_shape)[0].shape
        self._setup(shape)
        load_weights(self.autoencoder_, path, what="pretrained autoencoder weights")
        self.pretrained_ = True
        self.pretrain_time_ = 0.0
        return self

    # ------------------------------------------------------------ clustering
    def fit(self, x, y=None):
        """Pretrain (unless done), initialise by k-means, then train the
        clustering model. ``y`` is only used to log metrics.

        Returns self; sets ``labels_``, ``cluster_centers_``, ``history_``,
        ``n_iter_``, ``init_labels_`` and, when ``y`` is given, ``init_metrics_``.
        """
        x, y = self._prepare(x, y)
        self._setup(x.shape)
        if not self.pretrained_:
            if self.pretrain_epochs > 0:
                self._pretrain(x)
            else:
                self.pretrain_time_ = 0.0
        t0 = time.time()
        z = self._embed(x)
        km = KMeans(self.n_clusters, n_init=self.kmeans_n_init,
                    random_state=self.random_state).fit(z)
        self.init_labels_ = km.labels_.astype(np.int64)
        self.init_metrics_ = metrics.evaluate(y, km.labels_) if y is not None else None
        if self.init_metrics_:
            m = self.init_metrics_
            self._say(f"AE + k-means: acc {m['acc']:.4f}  nmi {m['nmi']:.4f}  ari {m['ari']:.4f}")
        with self.strategy_.scope():
            self._init_clusters(z, km)
            self.optimizer_ = make_optimizer(self.optimizer, self.lr, self.momentum)
            self.optimizer_.build(self._trainable_variables())
        if self.save_dir:
            save_weights(self.model_, self._out("model_0.h5"))
        self._cluster_loop(x, y, t0)
        if self.save_dir:
            save_weights(self.model_, self._out("model_final.h5"))
        return self

    def _trainable_variables(self):
        return self.model_.trainable_variables

    def _cluster_loop(self, x, y, t0):
        step = self._make_train_step()
        n, b = len(x), self.batch_size
        interval = self.update_interval or max(1, math.ceil(n / b))
        rng = np.random.default_rng(None if self.random_state is None else self.random_state + 1)
        batches = _shuffled_batches(n, b, rng)
        self.history_, last, losses = [], self.init_labels_, []
        ite, stopped = 0, False
        while True:
            if ite % interval == 0 or ite == self.maxiter:
                labels = self._on_update(x)
                delta = float(np.mean(labels != last))
                last = labels
                loss = float(np.mean(np.concatenate(losses))) if losses else 0.0
                self._log(ite, y, labels, loss, delta, t0)
                losses = []
                if ite > 0 and delta < self.tol:
                    self._say(f"delta_label {delta:.5f} < tol {self.tol}: stopping at iteration {ite}")
                    stopped = True
                    break
                if ite == self.maxiter:
                    break
            # the steps up to the next update (or maxiter), in graph calls
            todo = min(interval - ite % interval, self.maxiter - ite, self._steps_per_call(x))
            losses.append(step(*_call_args([next(batches) for _ in range(todo)], x)).numpy())
            ite += todo
        self.n_iter_ = ite
        self.converged_ = stopped
        self.labels_ = last          # from the weights as they are now: those saved last
        self.cluster_time_ = time.time() - t0

    def _log(self, ite, y, labels, loss, delta, t0):
        row = {"iter": ite, "loss": round(loss, 6), "delta_label": round(delta, 6),
               "time_s": round(time.time() - t0, 3)}
        msg = f"iter {ite}"
        if y is not None:
            m = metrics.evaluate(y, labels)
            row.update({k: round(v, 5) for k, v in m.items()})
            msg += f"  acc {m['acc']:.4f}  nmi {m['nmi']:.4f}  ari {m['ari']:.4f}"
        self.history_.append(row)
        self._say(f"{msg}  loss {loss:.5f}  delta_label {delta:.4f}  {row['time_s']:.1f}s")
        if self.save_dir:
            write_csv(self._out("log.csv"), self.history_, LOG_FIELDS)

    # ------------------------------------------------------------ inference
    def _batched(self, fn, x):
        """``fn`` over ``x`` (NumPy) in batches of PREDICT_BATCH, outputs concatenated."""
        outs = [np.asarray(fn(x[i:i + PREDICT_BATCH])) for i in range(0, len(x), PREDICT_BATCH)]
        return np.concatenate(outs)

    def _embed(self, x):
        if not hasattr(self, "_embed_fn"):
            self._embed_fn = compile_pass(lambda xb: self.encoder_(xb, training=False))
        return self._batched(self._embed_fn, x)

    def _check_fitted(self):
        if not hasattr(self, "model_") or not hasattr(self, "n_features_in_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet: call fit or load first")

    def transform(self, x):
        """The embedding ``f(x)`` of each sample, shape ``(N, embedding_dim)``."""
        self._check_fitted()
        x, _ = self._prepare(x, fitting=False)
        return self._embed(x)

    def predict(self, x):
        """Cluster label of each sample in ``x``."""
        self._check_fitted()
        x, _ = self._prepare(x, fitting=False)
        return self._labels_of(x)

    def fit_predict(self, x, y=None):
        return self.fit(x, y).labels_

    @property
    def cluster_centers_(self):
        """Cluster centres in the embedding space, shape ``(K, embedding_dim)``."""
        return self._centres()

    # ------------------------------------------------------------ persistence
    def save(self, path):
        """Save the clustering model's weights (``.h5``) atomically."""
        self._check_fitted()
        save_weights(self.model_, path)

    def load(self, path, input_shape, image_shape=None):
        """Rebuild the networks for samples of ``input_shape`` and load weights
        saved by ``save`` / ``fit``. Returns self, ready to ``predict``."""
        self._check_params()
        self.n_features_in_ = int(np.prod(input_shape))
        self.image_shape_ = image_shape if image_shape is not None else (
            tuple(input_shape) if len(input_shape) == 3 else None)
        shape = tuple(input_shape) if self.arch == "conv" else (self.n_features_in_,)
        self._setup((None,) + shape)
        load_weights(self.model_, path, what="model weights")
        self.pretrained_ = True
        return self


def cpu_info(cpuinfo="/proc/cpuinfo"):
    """The first processor's fields in ``/proc/cpuinfo`` ({} where it cannot be read)."""
    try:
        with open(cpuinfo) as f:
            first = f.read().split("\n\n", 1)[0]
    except OSError:
        return {}
    fields = (line.partition(":") for line in first.splitlines())
    return {k.strip(): v.strip() for k, _, v in fields if k.strip()}


BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}     # /proc/cpuinfo flags of bfloat16 hardware


def bfloat16_is_native(cpuinfo="/proc/cpuinfo"):
    """Whether bfloat16 math runs in hardware here: a GPU, or a CPU that
    reports AVX512-BF16 or AMX. True when the CPU cannot be inspected."""
    if tf.config.list_physical_devices("GPU"):
        return True
    flags = cpu_info(cpuinfo).get("flags")
    return flags is None or bool(BF16_CPU_FLAGS & set(flags.split()))


def machine(cpuinfo="/proc/cpuinfo"):
    """What a timing depends on: the CPU (name, family/model, the vector
    extensions that decide float32 and bfloat16 speed), its cores and the
    GPUs. Recorded beside every run (config.json) and benchmark, because the
    same code runs 2x faster on one 2-core host than on another."""
    info = cpu_info(cpuinfo)
    flags = set(info.get("flags", "").split())
    return {"cpu": info.get("model name", platform.machine()),
            "cpu_family_model": f"{info.get('cpu family', '?')}/{info.get('model', '?')}",
            "cpu_isa": sorted(flags & ({"avx2", "avx512f"} | BF16_CPU_FLAGS)),
            "cores": os.cpu_count(),
            "gpus": [d.name for d in tf.config.list_physical_devices("GPU")]}


def mse(reconstruction, x):
    """Mean squared reconstruction error, in float32 under any precision."""
    return tf.reduce_mean(tf.square(tf.cast(reconstruction, x.dtype) - x))


def compile_pass(fn):
    """Compile a full-data pass over batches (retraced only for a new batch shape)."""
    return tf.function(fn, reduce_retracing=True, autograph=False)


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _shuffled_batches(n, b, rng):
    """Endless mini-batches of indices: a new permutation each epoch; the last
    batch of an epoch holds the remainder (never empty)."""
    while True:
        yield from _batches_of(rng.permutation(n).astype(np.int32), b)


def _batches_of(perm, b):
    for i in range(0, len(perm), b):
        yield perm[i:i + b]


def _chunks(it, size):
    chunk = []
    for item in it:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _call_args(batches, x):
    """``(idx, bounds, x[idx])`` for a ``run`` compiled by ``_compile_step``."""
    bounds = np.zeros(len(batches) + 1, np.int32)
    np.cumsum([len(bt) for bt in batches], out=bounds[1:])
    idx = np.concatenate(batches)
    return idx, bounds, x[idx]
