"""Training utilities shared by every method: optimizers, the reconstruction
loss, compiled full-data passes and the resumable order of mini-batches."""
import logging

import keras
import numpy as np
import tensorflow as tf

__all__ = ["make_optimizer", "mean", "mse", "apply_step", "compile_pass", "full_pass", "BatchOrder",
           "batches_of", "chunks", "call_args"]

# Full-data passes (embedding, targets, predict) run in calls of one padded
# size, so that a sample's output cannot depend on where it sits in the data:
# CPU matrix kernels work through rows in blocks and give a short last block
# another summation order, and split a long inner dimension across threads
# differently for different batch sizes (bench/README.md, "Row position").
# Every call is padded to a multiple of ROW_BLOCK (a common multiple of the
# kernels' row blocks) and one call size serves the whole pass.
ROW_BLOCK = 48
PREDICT_BATCH = 43 * ROW_BLOCK   # 2,064 rows a call ...
PASS_BYTES = 16 * 2 ** 20        # ... or fewer, to keep a call's samples under 16 MiB


def make_optimizer(name, lr=None, momentum=0.9, decay_steps=None, loss_scale=False):
    """'sgd' (with momentum) or 'adam'; ``lr=None`` takes 1.0 for SGD (DEC's
    pretraining) and 1e-3 for Adam. With ``decay_steps`` the learning rate
    follows a cosine from ``lr`` down to 0 over that many steps. With
    ``loss_scale`` (mixed_float16) it is wrapped in Keras's dynamic loss
    scaling, so small float16 gradients do not underflow to zero."""
    name = str(name).lower()
    if name not in ("sgd", "adam"):
        raise ValueError(f"unknown optimizer {name!r}: use 'sgd' or 'adam'")
    lr = (1.0 if name == "sgd" else 1e-3) if lr is None else lr
    if decay_steps:
        lr = keras.optimizers.schedules.CosineDecay(lr, int(decay_steps))
    config = {"learning_rate": lr, **({"momentum": momentum} if name == "sgd" else {})}
    opt = keras.optimizers.get({"class_name": name, "config": config})
    return keras.optimizers.LossScaleOptimizer(opt) if loss_scale else opt


def mean(values):
    """The mean of ``values``, 0 (with zero gradient) when there are none: a
    replica whose share of a small last batch is empty adds nothing."""
    return tf.math.divide_no_nan(tf.reduce_sum(values), tf.cast(tf.size(values), values.dtype))


def mse(reconstruction, x):
    """Mean squared reconstruction error, in float32 under any precision."""
    return mean(tf.square(tf.cast(reconstruction, x.dtype) - x))


def apply_step(opt, loss, variables, tape):
    """One optimizer step on ``loss``: scaled first when ``opt`` is a loss-scale
    optimizer (mixed_float16), reduced across replicas by ``apply_gradients``."""
    with tape:                       # the scaling must be on the tape too
        scaled = opt.scale_loss(loss)
    opt.apply_gradients(zip(tape.gradient(scaled, variables), variables))


def compile_pass(fn):
    """Compile a full-data pass over batches (retraced only for a new batch shape)."""
    def deckeras_pass(xb):
        return fn(xb)
    return tf.function(deckeras_pass, reduce_retracing=True, autograph=False)


class _OwnRetracing(logging.Filter):
    """Every model compiles its passes and steps from the same source lines,
    so a multi-trial run traces each of them once per model; TensorFlow's
    frequent-retracing detector (keyed on the source) then warns
    "triggered tf.function retracing" from the fifth model on. Each model
    traces its own functions once per batch shape: that warning, for
    deckeras's own functions only, is dropped from TensorFlow's logger."""
    OWN = ("compile_pass.<locals>.deckeras_pass", "compile_step.<locals>.run")

    def filter(self, record):
        msg = record.getMessage()
        return not ("triggered tf.function retracing" in msg and any(o in msg for o in self.OWN))


tf.get_logger().addFilter(_OwnRetracing())


def full_pass(fn, x, share=None):
    """``fn`` (a compiled pass) over ``x`` (NumPy, or an on-disk source) in
    calls of one size, ``min(PREDICT_BATCH, len(x))`` rounded up to
    ROW_BLOCK (fewer rows when that many would exceed PASS_BYTES), the last
    call padded with zero rows; the outputs' real rows, concatenated.

    With ``share = (index, count, combine)`` (a worker of a multi-worker
    run) this process computes only the calls ``index, index + count, ...``
    and ``combine`` (a sum over the workers) fills in the others' rows."""
    n = len(x)
    row_bytes = 4 * int(np.prod(x.shape[1:]))
    most = max(ROW_BLOCK, PASS_BYTES // row_bytes // ROW_BLOCK * ROW_BLOCK)
    size = min(PREDICT_BATCH, most, -(-n // ROW_BLOCK) * ROW_BLOCK)
    starts = range(0, n, size)
    if share is not None:
        index, count, combine = share
        starts = starts[index::count]
    outs = []
    for i in starts:
        xb = x[i:i + size]
        rows = len(xb)
        if rows < size:
            xb = np.concatenate([xb, np.zeros((size - rows,) + xb.shape[1:], xb.dtype)])
        outs.append((i, np.asarray(fn(xb))[:rows]))
    if share is None:
        return np.concatenate([o for _, o in outs])
    # this worker's calls in place, zeros elsewhere, summed over the workers: exact
    probe = outs[0][1] if outs else np.asarray(fn(np.zeros((size,) + x.shape[1:], np.float32)))
    full = np.zeros((n,) + probe.shape[1:], probe.dtype)
    for i, o in outs:
        full[i:i + len(o)] = o
    return combine(full)


class BatchOrder:
    """Endless mini-batches of the indices ``0..n-1``: a fresh permutation
    each epoch, the last batch of an epoch holding the remainder (never empty).

    Its position can be saved and restored exactly (``state`` / ``restore``):
    the state is the generator's state before the current epoch's
    permutation was drawn and how many batches of that epoch were handed out,
    so a resumed run draws the very batches the uninterrupted run would.
    """

    def __init__(self, n, batch_size, seed=None):
        self.n, self.b = int(n), int(batch_size)
        self.per_epoch = -(-self.n // self.b)
        self.rng = np.random.default_rng(seed)
        self._start = self.rng.bit_generator.state
        self._perm = None
        self.pos = 0

    def __next__(self):
        if self._perm is None or self.pos == self.per_epoch:
            self._start = self.rng.bit_generator.state
            self._perm = self.rng.permutation(self.n).astype(np.int32)
            self.pos = 0
        i = self.pos * self.b
        self.pos += 1
        return self._perm[i:i + self.b]

    def __iter__(self):
        return self

    def take(self, k):
        return [next(self) for _ in range(k)]

    def state(self):
        """A JSON-able snapshot of the position."""
        return {"rng": self._start, "drawn": self._perm is not None, "pos": self.pos}

    def restore(self, state):
        if not state:
            return self
        self.rng.bit_generator.state = state["rng"]
        self._start = state["rng"]
        self._perm = None
        if state["drawn"]:
            self._perm = self.rng.permutation(self.n).astype(np.int32)
        self.pos = int(state["pos"])
        return self


def batches_of(perm, b):
    for i in range(0, len(perm), b):
        yield perm[i:i + b]


def chunks(it, size):
    chunk = []
    for item in it:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def call_args(batches, x, share=None):
    """``(idx, bounds, x[idx])`` for a ``run`` compiled by ``deckeras.trainer.compile_step``.

    With ``share = (first, last, k)`` (a worker of a multi-worker run whose
    replicas are ``first..last - 1`` of ``k``) only the rows those replicas
    take from each global batch are read; the others are zeros, which this
    worker's replicas never touch (``compile_step`` gives replica ``r`` the
    rows ``r * m // k`` to ``(r + 1) * m // k`` of a batch of ``m``)."""
    bounds = np.zeros(len(batches) + 1, np.int32)
    np.cumsum([len(bt) for bt in batches], out=bounds[1:])
    idx = np.concatenate(batches)
    if share is None:
        return idx, bounds, x[idx]
    first, last, k = share
    xs = np.zeros((len(idx),) + tuple(x.shape[1:]), np.float32)
    mine = np.concatenate([np.arange(lo + first * (hi - lo) // k, lo + last * (hi - lo) // k)
                           for lo, hi in zip(bounds[:-1], bounds[1:])])
    if len(mine):
        xs[mine] = x[idx[mine]]
    return idx, bounds, xs
