"""The training machinery of every method: the networks of one fit, the
compiled step under a ``tf.distribute`` strategy, and the pretraining and
clustering loops.

The loops report to callbacks with Keras's protocol (``deckeras.callbacks``
and the user's own): pretraining and clustering are each one "training"
(``on_train_begin`` ... ``on_train_end``), a pretraining epoch and a target
update each end in ``on_epoch_end(epoch, logs)``, every compiled call in
``on_train_batch_end``, and the loop stops when ``model.stop_training`` is
set. Progress, the run folder's logs, TensorBoard and checkpoints are such
callbacks.
"""
import contextlib
import dataclasses
import math
import signal
import time
import warnings

import keras
import numpy as np
import tensorflow as tf
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from . import metrics
from .augment import augment as augment_batch, mask
from .autoencoders import build_autoencoder
from .distribute import strategy_for
from .host import bfloat16_is_native, resolve_precision
from .runstate import RunState
from .training import BatchOrder, apply_step, call_args, compile_pass, full_pass, make_optimizer, mse

__all__ = ["Networks", "Trainer", "TrainingDiverged", "Interrupted", "compile_step", "build_networks",
           "check_same_start", "kmeans_start", "STEPS_PER_CALL", "CALL_BYTES", "KMEANS_SAMPLE"]

# Mini-batches per compiled call: enough to hide the cost of a call, few
# enough that a signal (seen between calls) stays prompt and that the samples
# handed to TensorFlow per call stay under CALL_BYTES.
STEPS_PER_CALL = 64
CALL_BYTES = 16 * 2 ** 20


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped a run after its checkpoint was written."""

    def __init__(self, message, signum=signal.SIGINT):
        super().__init__(message)
        self.signum = int(signum)


@dataclasses.dataclass
class Networks:
    """The networks of one fit and where they run: the autoencoder and its
    halves, the clustering model and its cluster layer, the strategy, the
    resolved precision, the network's input shape and the image view of a
    sample (None for tables). ``passes`` caches compiled full-data passes."""
    autoencoder: keras.Model
    encoder: keras.Model
    decoder: keras.Model
    model: keras.Model
    layer: keras.layers.Layer
    strategy: tf.distribute.Strategy
    precision: str
    input_shape: tuple
    image_shape: tuple = None
    passes: dict = dataclasses.field(default_factory=dict)

    def full_pass(self, name, fn, x):
        """The full-data pass ``fn`` over ``x`` (``training.full_pass``),
        compiled once per networks under ``name``. While a multi-worker fit
        runs (``shard_passes``), each worker computes its share of the calls."""
        if name not in self.passes:
            self.passes[name] = compile_pass(fn)
        share = None
        if self.shard_passes:
            first, _, k = self.worker_replicas()
            local = len(self.strategy.extended.worker_devices)
            share = (first // local, k // local, self._sum_over_workers)
        return full_pass(self.passes[name], x, share)

    shard_passes = False

    def worker_replicas(self):
        """``(first, last, k)``: this process's replicas are ``first..last - 1``
        of the strategy's ``k``."""
        if not hasattr(self, "_replicas"):
            s = self.strategy
            ids = s.experimental_local_results(s.experimental_distribute_values_from_function(
                lambda ctx: ctx.replica_id_in_sync_group))
            ids = sorted(int(i) for i in ids)
            self._replicas = (ids[0], ids[-1] + 1, s.num_replicas_in_sync)
        return self._replicas

    def _sum_over_workers(self, values):
        """``values`` (NumPy) summed over every worker (this process's first
        replica carries them, its other replicas zeros)."""
        s, first = self.strategy, self.worker_replicas()[0]
        dtype = values.dtype
        v = tf.constant(values.astype(np.float32) if dtype.kind in "iub" else values)
        per_replica = s.experimental_distribute_values_from_function(
            lambda ctx: v if ctx.replica_id_in_sync_group == first else tf.zeros_like(v))
        return s.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None).numpy().astype(dtype)

    def across_workers(self):
        """Whether the strategy spans several workers (a multi-worker cluster)."""
        resolver = getattr(self.strategy, "cluster_resolver", None)
        if resolver is None:
            return False
        spec = resolver.cluster_spec()
        return sum(spec.num_tasks(job) for job in spec.jobs) > 1


def check_same_start(strategy, state):
    """Every worker must start from the same checkpoint (or none), or their
    steps would not pair up: the checkpoint numbers of all replicas are
    summed into one vector (one slot each) and compared."""
    mine = float(state.saves) if state else 0.0
    slots = strategy.num_replicas_in_sync
    per_replica = strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.one_hot(ctx.replica_id_in_sync_group, slots) * mine)
    starts = strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None).numpy()
    if len(set(starts.tolist())) > 1:
        raise ValueError("the workers would start from different checkpoints (numbers "
                         f"{sorted(set(int(s) for s in starts))}; 0 = none): put --save-dir "
                         "on a filesystem every worker sees, or rerun every worker with "
                         "--restart")


class Callbacks:
    """The callbacks of a run, called in order (synchronously: a checkpoint
    must see the state the loop has at that moment)."""

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)

    def __getattr__(self, hook):            # set_model, set_params, on_epoch_end, ...
        def call(*args, **kwargs):
            for cb in self.callbacks:
                getattr(cb, hook)(*args, **kwargs)
        return call

    def abort(self):
        """An exception leaves the phase: deckeras's callbacks clean up
        (Keras's fit calls no hook then, so stock callbacks get none)."""
        for cb in self.callbacks:
            if hasattr(cb, "on_train_abort"):
                cb.on_train_abort()


def compile_step(strategy, fn, input_shape, augment=None, after=None, corrupt=None,
                 jit_compile=False):
    """Compile a train step ``fn(idx, x_clean, x_seen, weight) -> loss`` into
    ``run(idx, bounds, xs)``.

    One call of ``run`` takes ``len(bounds) - 1`` steps; step ``i`` takes
    the slice ``bounds[i]:bounds[i + 1]`` of the indices ``idx`` and of
    their samples ``xs = x[idx]`` (the global batch). Each replica of the
    strategy gets its consecutive share of that batch as ``idx`` and
    ``x_clean``, with ``x_seen`` = ``augment(x_clean)`` (per replica) or
    ``x_clean``, and ``weight`` = its share's size over the global batch's:
    ``fn`` returns its mean loss times ``weight``, so that the gradients the
    strategy sums over replicas are those of the global batch's mean loss,
    and ``run`` returns the summed (global) loss of each step.

    Augmentation and ``corrupt`` run outside the XLA-compiled part under
    ``jit_compile`` (XLA has no kernel for the image transform). The steps
    run inside one graph (a sequential ``tf.while_loop``), and the data set
    stays in NumPy: TensorFlow only holds the samples of one call.

    With ``after``, ``fn`` returns ``(loss, samples, sums)``: dicts of
    per-replica tensors, ``samples`` with one row per sample of the
    replica's share, ``sums`` to be added up over replicas; then
    ``after(samples, sums)`` runs once per step in cross-replica context with
    every ``samples`` tensor concatenated over the replicas in the global
    batch's order and every ``sums`` tensor summed (DCN's centre update).
    Each replica places its rows at its share's offset in zeros the size of
    the global batch and the strategy sums them: the all-reduce that sums
    gradients, which works across workers (a gather of unequal shares does not).

    With ``corrupt`` (pretraining), ``fn`` gets ``x_seen`` in the place of
    ``x_clean``, as the target, and ``corrupt(x_seen)`` as its input.
    """
    k = strategy.num_replicas_in_sync
    inner = tf.function(fn, jit_compile=True, autograph=False) if jit_compile else fn

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
                seen = augment(xc) if augment is not None else xc
                if corrupt is not None:
                    xc, seen = seen, corrupt(seen)
                result = inner(r_idx, xc, seen, weight)
                if after is None:
                    return result
                loss, samples, sums = result
                rows = tf.shape(r_idx)[0]
                samples = {key: tf.pad(tf.cast(v, tf.float32),
                                       [[start, n - start - rows]] + [[0, 0]] * (len(v.shape) - 1))
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
    xspec = tf.TensorSpec((None,) + tuple(input_shape), tf.float32)
    return tf.function(run, input_signature=[spec, spec, xspec], autograph=False)


def build_networks(params, input_shape, image_shape, cluster_model, autoencoder=None):
    """The ``Networks`` of an estimator with ``params`` for inputs of
    ``input_shape``: a fresh autoencoder (or ``autoencoder``'s three models,
    kept) and ``cluster_model(encoder, autoencoder) -> (model, layer)``, under
    the strategy of ``params['distribute']`` and the resolved precision. The
    dtype policy and the weights' seeds are handed to the layers: nothing
    process-global (Keras's policy, Python's, NumPy's or TensorFlow's
    generators) is set or consumed."""
    p = params
    shape = tuple(int(s) for s in input_shape)
    strategy = strategy_for(p["distribute"])
    precision = resolve_precision(p["precision"])
    if precision == "mixed_bfloat16" and not bfloat16_is_native():
        warnings.warn("precision='mixed_bfloat16' on a CPU without AVX512-BF16 or AMX and "
                      "no GPU: bfloat16 is emulated here and can be several times slower "
                      "than float32 (bench/README.md)", stacklevel=4)
    if precision == "mixed_float16" and not tf.config.list_logical_devices("GPU"):
        warnings.warn("precision='mixed_float16' is meant for GPUs; on a CPU float16 is "
                      "emulated and slow (use float32, or mixed_bfloat16 on CPUs with "
                      "AVX512-BF16 or AMX)", stacklevel=4)
    with strategy.scope():
        if autoencoder is None:
            autoencoder = build_autoencoder(
                p["arch"], shape if p["arch"] == "conv" else (shape[0],), dims=p["dims"],
                filters=p["filters"], embedding_dim=p["embedding_dim"], init=p["init"],
                dtype=precision, seed=p["random_state"])
        ae, enc, dec = autoencoder
        model, layer = cluster_model(enc, ae)
    return Networks(ae, enc, dec, model, layer, strategy, precision, shape, image_shape)


# The k-means start runs on at most this many embeddings (a seeded sample
# of them beyond), then labels every sample by its nearest centre: on 2.1
# million samples 20 starts of k-means on all of them would take longer than
# the training, and a 200,000-point sample places 10 centres as well.
KMEANS_SAMPLE = 200_000


def kmeans_start(z, k, n_init, seed, sample=KMEANS_SAMPLE, how="kmeans"):
    """scikit-learn's KMeans on the embedding ``z`` (on a sample of
    ``sample`` rows, drawn with ``seed``, when ``z`` has more), with
    ``labels_`` for every row of ``z``. ``how='gmm'``: then a Gaussian
    mixture (full covariances) on the same rows, started from the k-means
    centres; its means become ``cluster_centers_`` and its most likely
    component each row's label."""
    km = KMeans(k, n_init=n_init, random_state=seed)
    sampled = len(z) > sample
    rows = (np.sort(np.random.default_rng(seed).choice(len(z), sample, replace=False))
            if sampled else slice(None))
    km.fit(z[rows])
    if how == "gmm":
        z64 = np.asarray(z, np.float64)          # converted once: fitted on rows, labels for all
        gm = GaussianMixture(k, covariance_type="full", means_init=km.cluster_centers_,
                             reg_covar=1e-6, random_state=seed).fit(z64[rows])
        km.cluster_centers_, km.labels_ = gm.means_, gm.predict(z64)
    elif sampled:
        km.labels_ = km.predict(z)
    return km


def soft_reset(encoder, alpha, seed):
    """BRB's soft reset (Miklautz et al., ICLR 2025): every Dense and Conv2D
    layer of ``encoder`` but the last (the embedding layer) moves to
    ``alpha * w + (1 - alpha) * w0``, ``w0`` a fresh draw of a layer's
    initialisation as the paper's code draws it (PyTorch's ``kaiming_uniform_``:
    kernels uniform in +-sqrt(6 / fan_in); biases uniform in
    +-1/sqrt(fan_in)), from NumPy seeded by ``seed`` (a sequence): every
    worker and every resume draws the same."""
    layers = [l for l in encoder.layers if getattr(l, "kernel", None) is not None]
    for i, layer in enumerate(layers[:-1]):
        rng = np.random.default_rng(list(seed) + [i])
        kernel = layer.kernel
        fan_in = int(np.prod(kernel.shape[:-1]))
        w0 = rng.uniform(-1, 1, kernel.shape) * math.sqrt(6.0 / fan_in)
        kernel.assign((alpha * kernel.numpy() + (1 - alpha) * w0).astype(np.float32))
        if getattr(layer, "bias", None) is not None:
            b0 = rng.uniform(-1, 1, layer.bias.shape) / math.sqrt(fan_in)
            layer.bias.assign((alpha * layer.bias.numpy() + (1 - alpha) * b0).astype(np.float32))


def clear_optimizer_state(optimizer, variables):
    """Zero ``optimizer``'s slots (momentum, velocity, ...) of ``variables``:
    Keras names a slot ``<variable path with _>_<slot>``."""
    prefixes = [v.path.replace("/", "_") + "_" for v in variables]
    shapes = [tuple(v.shape) for v in variables]
    for slot in optimizer.variables:
        name = slot.path.rsplit("/", 1)[-1]
        for prefix, shape in zip(prefixes, shapes):
            if name.startswith(prefix) and tuple(slot.shape) == shape:
                slot.assign(np.zeros(shape, slot.dtype))


class Clock:
    """Seconds since it was made, plus ``offset`` (time spent before a resume)."""

    def __init__(self, offset=0.0):
        self.t0 = time.time() - float(offset)

    def __call__(self):
        return time.time() - self.t0


class Trainer:
    """One fit (or pretraining) of ``method`` on ``x`` (prepared) with ``nets``.

    ``method`` is the estimator: its parameters and its hooks (the clustering
    loss step, the target update, the per-sample state). ``state`` is the
    ``RunState`` to go on from (a restored checkpoint's, or a fresh one);
    ``callbacks`` watch the run; ``checkpointer`` (or None) is where the
    checkpoint callback writes, named in the divergence message; ``say``
    prints a message of the run (progress on).
    """

    def __init__(self, method, nets, x, y=None, callbacks=(), state=None, checkpointer=None,
                 say=print):
        self.method, self.nets, self.x, self.y = method, nets, x, y
        self.state = state if state is not None else RunState(epochs=method.pretrain_epochs)
        self.checkpointer = checkpointer
        self.say = say
        self.callbacks = Callbacks(callbacks)
        for cb in callbacks:
            if hasattr(cb, "set_trainer"):
                cb.set_trainer(self)
        self.per_call = self._steps_per_call()
        # a worker of a multi-worker run reads only the rows its replicas train on
        self.share = nets.worker_replicas() if nets.across_workers() else None

    # ------------------------------------------------------------ state
    def make_pretrain_state(self, epochs):
        """The pretraining optimizer (its slots built, so a checkpoint can fill
        them) and the augmentation/masking generator."""
        m, n = self.method, len(self.x)
        with self.nets.strategy.scope():
            steps = epochs * math.ceil(n / m.batch_size)   # batches as BatchOrder makes them
            self.pretrain_optimizer = make_optimizer(
                m.pretrain_optimizer, m.pretrain_lr, m.momentum,
                decay_steps=steps if m.pretrain_schedule == "cosine" else None,
                loss_scale=self.nets.precision == "mixed_float16")
            self.pretrain_optimizer.build(self.nets.autoencoder.trainable_variables)
            if m.random_state is None:
                self.rng = tf.random.Generator.from_non_deterministic_state()
            else:
                self.rng = tf.random.Generator.from_seed(int(m.random_state))

    def make_train_state(self):
        """The clustering optimizer, the labels and the method's per-sample state."""
        m, n = self.method, len(self.x)
        with self.nets.strategy.scope():
            self.optimizer = make_optimizer(m.optimizer, m.lr, m.momentum,
                                            loss_scale=self.nets.precision == "mixed_float16")
            self.optimizer.build(m._trainable_variables(self.nets))
            self.labels = tf.Variable(tf.zeros([n], tf.int32), trainable=False)
            self.init_labels = tf.Variable(tf.zeros([n], tf.int32), trainable=False)
            self.cluster_vars = m._make_cluster_state(n)

    def checkpoint_objects(self, phase):
        """What a checkpoint of ``phase`` holds: pretraining does not need the
        clustering state, clustering not the pretraining optimizer."""
        objects = {"autoencoder": self.nets.autoencoder, "augment_rng": self.rng}
        if phase == "pretrain":
            return {**objects, "pretrain_optimizer": self.pretrain_optimizer}
        return {**objects, "model": self.nets.model, "optimizer": self.optimizer,
                "labels": self.labels, "init_labels": self.init_labels, **self.cluster_vars}

    def _steps_per_call(self):
        if self.nets.across_workers():
            # collectives across workers pair up by op, not by loop iteration: one
            # step per call keeps every worker on the same step
            return 1
        batch_bytes = self.method.batch_size * self.x[:1].nbytes
        return int(max(1, min(STEPS_PER_CALL, CALL_BYTES // batch_bytes)))

    def compile(self, fn, augment=False, after=None, corrupt=None):
        """``compile_step`` on these networks, with the method's augmentation."""
        return compile_step(self.nets.strategy, fn, self.nets.input_shape,
                            augment=self._augment if augment else None, after=after,
                            corrupt=corrupt, jit_compile=self.method.jit_compile)

    def _augment(self, xb):
        m = self.method
        return augment_batch(xb, self.nets.image_shape, m.rotation, m.shift, rng=self.rng)

    def corrupt(self, xb):
        """Masking noise of denoising pretraining: each input value zeroed
        with probability ``pretrain_noise`` (drawn from the seeded,
        checkpointed generator)."""
        return mask(xb, self.method.pretrain_noise, self.rng)

    def check_finite(self, values, where):
        values = np.asarray(values)
        if np.isfinite(values).all():
            return
        bad = "NaN" if np.isnan(values).any() else "infinite"
        kept = ""
        ckpt = self.checkpointer
        if ckpt is not None and tf.train.latest_checkpoint(ckpt.folder):
            kept = f"; the last good checkpoint in {ckpt.folder} is kept"
        raise TrainingDiverged(
            f"training diverged at {where} (the loss became {bad}): the features are probably "
            f"not scaled (use scale='minmax' or 'standard', --scale; this run has "
            f"scale={self.method.scale!r}) or the learning rate is too high (lr / pretrain_lr){kept}")

    @contextlib.contextmanager
    def _phase(self):
        try:
            yield
        except BaseException:
            self.callbacks.abort()
            raise

    def _begin(self, phase, model, **params):
        model.stop_training = False
        self.callbacks.set_model(model)
        self.callbacks.set_params({"phase": phase, "verbose": self.method.verbose, **params})
        self.callbacks.on_train_begin()

    def run(self, warm=False, pretrained=None):
        """A whole fit: the optimizers and state (unless set), the latest
        checkpoint if there is one of this run, then pretraining (skipped when
        ``pretrained`` gives its ``(history, seconds)``, or for none), the
        k-means start (``warm``: from the current labels) and clustering.
        Returns the final ``RunState``."""
        m = self.method
        if not hasattr(self, "rng"):
            self.make_pretrain_state(m.pretrain_epochs)
        self.make_train_state()
        ckpt = self.checkpointer
        state = ckpt.restore(self.checkpoint_objects) if ckpt is not None and not warm else None
        if self.nets.across_workers():
            check_same_start(self.nets.strategy, state)
        if state is not None:
            self.say(f"resuming from the checkpoint in {ckpt.folder}: {state.where(m.maxiter)}")
            self.state = state
        run = self.state
        self.nets.shard_passes = self.nets.across_workers()   # each worker its share
        try:
            if run.phase == "pretrain":
                if pretrained is not None or m.pretrain_epochs == 0:
                    history, seconds = pretrained or ([], 0.0)
                    run.pretrain_history, run.pretrain_s = list(history), seconds
                else:
                    self.pretrain()
                self.initialise(warm)
            self.cluster()
        finally:
            self.nets.shard_passes = False
        return self.state

    # ------------------------------------------------------------ pretraining
    def pretrain(self):
        """Pretrain from where the state says, reporting to the callbacks."""
        run, x, m = self.state, self.x, self.method
        epochs = run.epochs
        n, b = len(x), m.batch_size
        order = BatchOrder(n, b, m.random_state).restore(run.pretrain_order)
        sizes = np.minimum(b, n - np.arange(0, n, b)) / n
        ae, opt = self.nets.autoencoder, self.pretrain_optimizer

        def step(idx, target, xb, weight):   # target: x or aug(x); xb: it, masked by pretrain_noise
            with tf.GradientTape() as tape:
                loss = weight * mse(ae(xb, training=True), target)
            apply_step(opt, loss, ae.trainable_variables, tape)
            return loss
        step = self.compile(step, augment=m._aug_pretrain(),
                            corrupt=self.corrupt if m.pretrain_noise > 0 else tf.identity)
        hist, part = run.pretrain_history, run.epoch_losses
        clock = Clock(run.pretrain_s)
        self._begin("pretrain", ae, epochs=epochs, steps=order.per_epoch,
                    initial_epoch=len(hist), precision=self.nets.precision)
        with self._phase(), warnings.catch_warnings():
            # a callback watching a clustering value (EarlyStopping on delta_label)
            # finds none in pretraining's logs: that is expected, not worth a warning
            warnings.filterwarnings("ignore", message=r".*conditioned on metric .* not available")
            for epoch in range(len(hist) + 1, epochs + 1):
                self.callbacks.on_epoch_begin(epoch - 1)
                # one graph call per STEPS_PER_CALL mini-batches: signals are seen between calls
                while len(part) < order.per_epoch:
                    losses = step(*call_args(order.take(min(self.per_call,
                                                            order.per_epoch - len(part))), x,
                                             self.share))
                    losses = losses.numpy()
                    part.extend(losses.tolist())
                    run.pretrain_order, run.pretrain_s = order.state(), clock()
                    self.callbacks.on_train_batch_end(len(part) - 1,
                                                      {"loss": float(np.mean(part))})
                    self.check_finite(losses, f"pretraining epoch {epoch}")
                loss = float(np.dot(part, sizes))
                hist.append({"epoch": epoch, "loss": loss, "time_s": round(clock(), 3)})
                part.clear()
                run.pretrain_order, run.pretrain_s = order.state(), clock()
                self.callbacks.on_epoch_end(epoch - 1, {"loss": loss,
                                                        "time_s": hist[-1]["time_s"]})
                if ae.stop_training:
                    run.stop()
                    break
        run.pretrain_s = clock()
        self.callbacks.on_train_end()

    # ------------------------------------------------------------ clustering
    def initialise(self, warm):
        """The method's start on the embedding (k-means, or the Gaussian
        mixture of ``cluster_init='gmm'``: ``_start``) sets the clusters
        (warm start: the current labels are the starting point)."""
        clock = Clock()
        m, nets, x, y = self.method, self.nets, self.x, self.y
        z = m._embed(nets, x)
        self.check_finite(z, "the embedding after pretraining")
        if warm:
            labels = m._labels_of(nets, x)
            init_metrics = metrics.evaluate(y, labels) if y is not None else None
            m._warm_init(self.cluster_vars, labels)
        else:
            km, start = m._start(z)
            labels = km.labels_
            init_metrics = metrics.evaluate(y, labels) if y is not None else None
            if init_metrics:
                r = init_metrics
                self.say(f"AE + {start}: acc {r['acc']:.4f}  nmi {r['nmi']:.4f}  ari {r['ari']:.4f}")
            with nets.strategy.scope():
                m._init_clusters(nets, self.cluster_vars, z, km)
        self.labels.assign(labels.astype(np.int32))
        self.init_labels.assign(labels.astype(np.int32))
        s = self.state
        s.phase, s.ite, s.pending, s.history, s.losses = "cluster", 0, True, [], []
        s.init_metrics, s.cluster_s, s.converged = init_metrics, clock(), False
        m._after_init(nets, x, s)

    def cluster(self):
        """Train the clustering model from where the state says: a target update
        every ``update_interval`` iterations, until delta-label < tol, maxiter,
        or a callback sets ``model.stop_training``."""
        run, x, m, nets = self.state, self.x, self.method, self.nets
        fn, options = m._train_step(nets, self.optimizer, self.cluster_vars, run)
        step = self.compile(fn, **options)
        n, b = len(x), m.batch_size
        interval = m.update_interval or max(1, math.ceil(n / b))
        # BRB: a reset every brb_interval epochs (none at maxiter: nothing follows it)
        every = m.brb_interval * math.ceil(n / b) if m.brb_interval else None
        seed = None if m.random_state is None else m.random_state + 1
        order = BatchOrder(n, b, seed).restore(run.cluster_order)
        clock = Clock(run.cluster_s)
        losses = run.losses
        self._begin("cluster", nets.model, maxiter=m.maxiter, tol=m.tol, interval=interval,
                    steps=interval, epochs=-(-m.maxiter // interval) + 1)
        with self._phase():
            while run.phase == "cluster":
                if every and 0 < run.ite < m.maxiter and run.resets < run.ite // every:
                    self._reset(run.ite // every)          # then a target update at once
                    run.resets, run.pending = run.ite // every, True
                    self._update(clock, order)
                    continue
                if run.pending and (run.ite % interval == 0 or run.ite == m.maxiter):
                    self._update(clock, order)
                    continue
                # the steps up to the next update, reset or maxiter, in graph calls
                todo = min(interval - run.ite % interval, m.maxiter - run.ite, self.per_call,
                           every - run.ite % every if every else m.maxiter)
                out = step(*call_args(order.take(todo), x, self.share)).numpy()
                run.ite += todo
                losses.extend(out.tolist())
                run.pending, run.cluster_order, run.cluster_s = True, order.state(), clock()
                self.callbacks.on_train_batch_end(run.ite - 1, {"loss": float(np.mean(losses)),
                                                                "iter": run.ite})
                self.check_finite(out, f"clustering iteration {run.ite}")
        self.callbacks.on_train_end()

    def _reset(self, r):
        """BRB reset number ``r``: soft-reset the encoder, k-means (10 starts)
        on ``brb_sample`` embeddings drawn anew, restart the clusters from its
        centres and clear the optimizer's state of the centres it trains.
        Seeded by (random_state, r): a resumed run and every worker redo it
        the same way."""
        m, nets, x = self.method, self.nets, self.x
        seed = [0 if m.random_state is None else int(m.random_state), int(r)]
        soft_reset(nets.encoder, m.brb_alpha, seed)
        rng = np.random.default_rng(seed + [1 << 20])
        n = len(x)
        pick = np.sort(rng.choice(n, min(n, m.brb_sample), replace=False))
        z = m._embed(nets, x[pick])
        self.check_finite(z, f"the embedding after reset {r}")
        km = KMeans(m.n_clusters, n_init=10, random_state=int(rng.integers(2 ** 31))).fit(z)
        m._recluster(nets, self.cluster_vars, km.cluster_centers_, x)
        clear_optimizer_state(self.optimizer, m._optimized_centres(nets))
        self.say(f"BRB reset {r} at iteration {self.state.ite}: encoder soft-reset "
                 f"(alpha {m.brb_alpha}), k-means on {len(pick)} embeddings")

    def _update(self, clock, order):
        """A target update: new targets and labels from clean data, a row of
        logs, and the end of an 'epoch' for the callbacks."""
        run, m, y = self.state, self.method, self.y
        last = self.labels.numpy()
        labels = m._on_update(self.nets, self.cluster_vars, self.x)
        delta = float(np.mean(labels != last))
        self.labels.assign(labels.astype(np.int32))
        loss = float(np.mean(run.losses)) if run.losses else 0.0
        row = {"iter": run.ite, "loss": round(loss, 6), "delta_label": round(delta, 6),
               "time_s": round(clock(), 3)}
        if y is not None:
            row.update({k: round(v, 5) for k, v in metrics.evaluate(y, labels).items()})
        run.history.append(row)
        run.losses.clear()
        run.converged = run.ite > 0 and delta < m.tol
        done = run.converged or run.ite == m.maxiter
        run.phase = "done" if done else "cluster"
        run.pending, run.cluster_order, run.cluster_s = False, order.state(), clock()
        self.callbacks.on_epoch_end(len(run.history) - 1, dict(row))
        if self.nets.model.stop_training:
            run.stop()
