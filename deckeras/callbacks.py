"""What watches a run, as Keras callbacks (``keras.callbacks.Callback``).

The trainer (``deckeras.trainer``) runs pretraining and clustering as two
trainings: each begins with ``on_train_begin`` and ends with
``on_train_end``; a pretraining epoch ends in ``on_epoch_end(epoch, logs)``
with ``logs = {"loss", "time_s"}``, a clustering target update in
``on_epoch_end(update, logs)`` with ``iter``, ``loss``, ``delta_label``,
``time_s`` and, when labels were given to ``fit``, ``acc``, ``nmi``,
``ari``; each compiled call of several mini-batches ends in
``on_train_batch_end`` with the mean ``loss`` so far. ``self.model`` is the
autoencoder while pretraining and the clustering model while clustering;
``self.params["phase"]`` says which. Setting ``self.model.stop_training``
ends the phase at the next epoch end (pretraining then goes on to
clustering; clustering stops).

deckeras's own callbacks below also get the trainer (``set_trainer``), to
read and checkpoint the run state, and ``on_train_abort`` when an exception
leaves a phase (Keras's ``fit`` calls no hook then).
"""
import os
import signal
import sys
import threading
import time

import keras
import numpy as np
import tensorflow as tf

from . import runfolder
from .io import append_csv, write_csv
from .trainer import Interrupted
from .weights import save_weights

__all__ = ["run_callbacks", "Callback", "Progress", "RunFiles", "TensorBoardScalars", "Checkpointing",
           "CHECKPOINT_EPOCHS", "CHECKPOINT_SECONDS"]

# Checkpoints: while pretraining every CHECKPOINT_EPOCHS epochs or
# CHECKPOINT_SECONDS, whichever comes first; while clustering at every
# target update (and after CHECKPOINT_SECONDS between two updates).
CHECKPOINT_EPOCHS = 10
CHECKPOINT_SECONDS = 300
# the progress bar: its width and what it shows of the logs (as they are, not averaged)
BAR_WIDTH = 12
BAR_VALUES = {"loss": "loss", "acc": "acc", "delta_label": "changed"}
LOG_FIELDS = ["iter", "acc", "nmi", "ari", "loss", "delta_label", "time_s"]
PRETRAIN_FIELDS = ["epoch", "loss", "time_s"]


class Callback(keras.callbacks.Callback):
    """A Keras callback that also sees the trainer (its ``state``)."""
    trainer = None

    def set_trainer(self, trainer):
        self.trainer = trainer

    @property
    def state(self):
        return self.trainer.state

    @property
    def phase(self):
        return self.params.get("phase")

    def on_train_abort(self):
        """An exception left the phase (a signal, a diverged loss, an error)."""


class Progress(Callback):
    """Keras's progress bar (with ETA) when output goes to an interactive
    terminal; elsewhere (logs, pipes, captured output) a line every few
    pretraining epochs and at every target update."""

    def __init__(self, say=print):
        super().__init__()
        self.say = say
        self.bar = None

    def on_train_begin(self, logs=None):
        self.bar = None
        # no clustering iterations (N2D): the start's line has said it all
        self.quiet = self.phase == "cluster" and self.params["maxiter"] == 0
        if not sys.stdout.isatty() or self.quiet:
            return
        if self.phase == "pretrain":
            self.say(f"pretraining the autoencoder ({self.params['precision']})")
            target, unit = self.params["epochs"], "epoch"
        else:
            self.say("clustering")
            target, unit = self.params["maxiter"], "iter"
        # narrow enough for an 80-column terminal with two values beside it
        self.bar = keras.utils.Progbar(target, width=BAR_WIDTH, unit_name=unit,
                                       stateful_metrics=BAR_VALUES.values())

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None and self.phase == "cluster" and not self.labelled:
            self.bar.update(logs["iter"], [("loss", logs["loss"])])

    def on_epoch_end(self, epoch, logs=None):
        if self.phase == "pretrain":
            self._pretrain_epoch(epoch + 1, logs)
        else:
            self._update(logs)

    def _pretrain_epoch(self, epoch, logs):
        epochs = self.params["epochs"]
        if self.bar is not None:
            self.bar.update(epoch, [("loss", logs["loss"])])
        elif epoch == epochs or epoch % max(1, epochs // 20) == 0 or epoch == 1:
            eta = logs["time_s"] / epoch * (epochs - epoch)
            self.say(f"pretrain epoch {epoch}/{epochs}  loss {logs['loss']:.5f}  "
                     f"{logs['time_s']:.1f}s  eta {eta:.0f}s")

    labelled = False      # whether the updates carry ACC (the bar shows it then, not the loss)

    def _update(self, logs):
        if self.quiet:
            return
        ite, delta = logs["iter"], logs["delta_label"]
        converged = ite > 0 and delta < self.params["tol"]
        if self.bar is not None:
            self.labelled = "acc" in logs
            shown = ("acc", "delta_label") if self.labelled else ("loss", "delta_label")
            self.bar.update(ite, [(BAR_VALUES[k], logs[k]) for k in shown],
                            finalize=True if converged else None)
        else:
            msg = f"iter {ite}"
            if "acc" in logs:
                msg += f"  acc {logs['acc']:.4f}  nmi {logs['nmi']:.4f}  ari {logs['ari']:.4f}"
            self.say(f"{msg}  loss {logs['loss']:.5f}  delta_label {delta:.4f}  "
                     f"{logs['time_s']:.1f}s")
        if converged:
            self.say(f"delta_label {delta:.5f} < tol {self.params['tol']}: "
                     f"stopping at iteration {ite}")


class RunFiles(Callback):
    """The run folder's logs and weights (``deckeras.runfolder`` names them):
    ``pretrain_log.csv`` and ``ae_weights.h5`` from pretraining,
    ``model_0.h5`` after the k-means start, ``log.csv`` as the updates come
    and ``model_final.h5`` at the end. A resumed run first rewrites each log
    as its checkpoint has it."""

    def __init__(self, folder, arrays=None):
        super().__init__()
        self.folder = runfolder.RunFolder(folder)
        self.arrays = arrays or (lambda: None)    # what to save beside the weights, when saved

    def _path(self, name):
        return self.folder.path(name)

    def on_train_begin(self, logs=None):
        s = self.state
        if self.phase == "pretrain":
            write_csv(self._path(runfolder.PRETRAIN_LOG), s.pretrain_history, PRETRAIN_FIELDS)
            return
        if s.ite == 0 and not s.history and s.phase == "cluster":     # just initialised
            save_weights(self.model, self._path(runfolder.INITIAL_WEIGHTS), self.arrays())
        write_csv(self._path(runfolder.LOG), s.history, LOG_FIELDS)

    def on_epoch_end(self, epoch, logs=None):
        if self.phase == "pretrain":
            append_csv(self._path(runfolder.PRETRAIN_LOG), self.state.pretrain_history[-1],
                       PRETRAIN_FIELDS)
        else:
            append_csv(self._path(runfolder.LOG), self.state.history[-1], LOG_FIELDS)

    def on_train_end(self, logs=None):
        s = self.state
        if s.pretrain_history or (self.phase == "pretrain" and s.epochs > 0):
            write_csv(self._path(runfolder.PRETRAIN_LOG), s.pretrain_history, PRETRAIN_FIELDS)
        if self.phase == "pretrain":
            if s.epochs > 0:
                save_weights(self.model, self._path(runfolder.AE_WEIGHTS))
            return
        write_csv(self._path(runfolder.LOG), s.history, LOG_FIELDS)
        save_weights(self.model, self._path(runfolder.FINAL_WEIGHTS), self.arrays())


class TensorBoardScalars(Callback):
    """The pretraining loss per epoch (``pretrain/loss``) and the clustering
    loss, delta-label and ACC/NMI/ARI per target update (``cluster/...``, at
    the iteration) as TensorBoard scalars in ``log_dir``."""

    def __init__(self, log_dir):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.writer = None

    def on_epoch_end(self, epoch, logs=None):
        if self.phase == "pretrain":
            step, values = epoch + 1, {"loss": logs["loss"]}
        else:
            step = logs["iter"]
            values = {k: v for k, v in logs.items() if k not in ("iter", "time_s")}
        if self.writer is None:
            self.writer = tf.summary.create_file_writer(self.log_dir)
        with self.writer.as_default(step=int(step)):
            for name, value in values.items():
                # what tf.summary.scalar writes (its body lives in the tensorboard
                # package): a float32 tensor tagged for the scalars plugin
                tf.summary.write(f"{self.phase}/{name}", tf.constant(float(value), tf.float32),
                                 metadata=_SCALAR_METADATA)
        self.writer.flush()

    def on_train_end(self, logs=None):
        self.close()

    def on_train_abort(self):
        self.close()

    def close(self):
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.close()


class Checkpointing(Callback):
    """Checkpoints of the run (``deckeras.checkpoint``) and a clean stop on
    SIGINT/SIGTERM: while pretraining every CHECKPOINT_EPOCHS epochs and at
    the end, at every target update while clustering, and after any
    compiled call once CHECKPOINT_SECONDS have passed. A signal only asks
    for a stop: the run writes a checkpoint at the next call boundary and
    raises ``Interrupted``. A non-finite loss is never checkpointed."""

    def __init__(self, checkpointer):
        super().__init__()
        self.checkpointer = checkpointer
        self.signum = None
        self._old = {}
        self.last_save = time.time()

    def on_train_begin(self, logs=None):
        self.signum = None
        if threading.current_thread() is threading.main_thread():
            self._old = {s: signal.signal(s, self._ask) for s in (signal.SIGINT, signal.SIGTERM)}

    def _ask(self, signum, _frame):
        self.signum = signum

    def _restore_handlers(self):
        old, self._old = self._old, {}
        for s, handler in old.items():
            signal.signal(s, handler)

    def on_train_end(self, logs=None):
        self._restore_handlers()

    def on_train_abort(self):
        self._restore_handlers()

    def due(self):
        return self.signum is not None or time.time() - self.last_save >= CHECKPOINT_SECONDS

    def on_train_batch_end(self, batch, logs=None):
        if not np.isfinite(logs["loss"]):
            return
        mid_epoch = len(self.state.epoch_losses) < self.params["steps"]
        if (self.phase == "cluster" or mid_epoch) and self.due():
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        if self.model.stop_training:
            self.state.stop()
        if self.phase == "cluster" or (epoch + 1) % CHECKPOINT_EPOCHS == 0 \
                or epoch + 1 == self.state.epochs or self.due():
            self.save()

    def save(self):
        s = self.state
        self.checkpointer.save(s, self.trainer.checkpoint_objects(s.phase))
        self.last_save = time.time()
        if self.signum is not None:
            name = signal.Signals(self.signum).name
            signum = self.signum
            self._restore_handlers()
            raise Interrupted(f"{name}: stopped at {s.where(self.trainer.method.maxiter)}; "
                              f"checkpoint written to {self.checkpointer.folder}: run the same "
                              "command again to resume", signum)


def run_callbacks(estimator, found, user=(), checkpointer=None):
    """A run's watchers: progress (``verbose``), the run folder's files
    (``save_dir``), TensorBoard (``tensorboard_dir``), the ``user``'s, and the
    checkpoints (``checkpointer``) last, so that they see a user's stop.
    ``found``: the input scaling the run fitted, saved with its weights."""
    cbs = [Progress(estimator._say)] if estimator.verbose >= 1 else []
    if estimator.save_dir:
        cbs.append(RunFiles(estimator.save_dir, lambda: estimator._saved_arrays(found)))
    if estimator.tensorboard_dir:
        cbs.append(TensorBoardScalars(estimator.tensorboard_dir))
    cbs.extend(user or ())
    if checkpointer is not None:
        cbs.append(Checkpointing(checkpointer))
    return cbs


def _scalar_metadata():
    from tensorflow.core.framework import summary_pb2
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
        data_class=summary_pb2.DATA_CLASS_SCALAR).SerializeToString()


_SCALAR_METADATA = _scalar_metadata()
