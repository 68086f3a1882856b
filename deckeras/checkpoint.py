"""Checkpoints of a run in progress, on TensorFlow's ``tf.train.Checkpoint``.

One checkpoint holds everything a run needs to go on exactly where it was:
the networks' weights, both optimizers' state, the augmentation generator,
the per-sample state (DEC's target P, DCN's assignments; DCN's centres and
counts are weights of its model), the current labels, and a JSON record of
the Python side (phase, epoch or iteration, the mini-batch order's generator
state, the logs so far and the settings the run was started with).
``tf.train.CheckpointManager`` writes them under ``<save_dir>/checkpoints``;
TensorFlow writes the data files first and the ``checkpoint`` index last, so a
kill while saving leaves the previous checkpoint in force.
"""
import json
import os
import shutil

import tensorflow as tf

from .runfolder import CHECKPOINTS
from .runstate import RunState

__all__ = ["FOLDER", "Checkpointer", "SettingsMismatch", "peek", "remove", "run_signature",
           "comparable_params"]

FOLDER = CHECKPOINTS
_STATE_KEY = "run/.ATTRIBUTES/py_state"


class SettingsMismatch(ValueError):
    """The checkpoint in a folder belongs to another run."""


class _Record(tf.train.experimental.PythonState):
    """The run state as JSON, saved inside the checkpoint."""

    def __init__(self, state=None):
        self.state = state if state is not None else {}

    def serialize(self):
        return json.dumps(self.state)

    def deserialize(self, string_value):
        self.state = json.loads(string_value)


# parameters that do not change what a run computes
NOT_IN_SIGNATURE = ("verbose", "save_dir", "warm_start", "distribute", "tensorboard_dir")
# parameters added after checkpoints were first written, left out at their
# default so that those checkpoints still resume
LATER_DEFAULTS = {"cluster_init": "kmeans", "umap_update_groups": 10}


def comparable_params(params):
    """``params`` without those that do not change the computation, as JSON has them."""
    return json.loads(json.dumps({k: v for k, v in params.items() if k not in NOT_IN_SIGNATURE
                                  and (k not in LATER_DEFAULTS or v != LATER_DEFAULTS[k])},
                                 default=str))


def run_signature(estimator, x):
    """What a checkpoint must share with a run of ``estimator`` on ``x``
    (prepared): the estimator, its settings (all but those that do not change
    the computation: verbose, save_dir, warm_start, distribute,
    tensorboard_dir) and the data's shape and hash."""
    params = comparable_params(estimator.get_params())
    from .source import digest
    return {"estimator": type(estimator).__name__,
            "params": params,
            "data": {"shape": list(x.shape), "sha1": digest(x)}}


def _folder(save_dir):
    return os.path.join(os.fspath(save_dir), FOLDER)


def peek(save_dir):
    """The Python state of the latest checkpoint in ``save_dir`` (None if there is none),
    read without building anything."""
    latest = tf.train.latest_checkpoint(_folder(save_dir))
    if latest is None:
        return None
    value = tf.train.load_checkpoint(latest).get_tensor(_STATE_KEY)
    return json.loads(value.decode() if isinstance(value, bytes) else value)


def remove(save_dir):
    """Delete the checkpoints in ``save_dir`` (``--restart``)."""
    shutil.rmtree(_folder(save_dir), ignore_errors=True)


def describe_mismatch(saved, current):
    """The settings that differ between two signatures, as 'key: old -> new'
    (a parameter of ``LATER_DEFAULTS`` left out of one is shown at its default)."""
    diffs = []
    for group in ("estimator", "data"):
        if saved.get(group) != current.get(group):
            diffs.append(f"{group}: {saved.get(group)} -> {current.get(group)}")
    old, new = saved.get("params", {}), current.get("params", {})
    for k in sorted(set(old) | set(new)):
        a, b = (p.get(k, LATER_DEFAULTS.get(k)) for p in (old, new))
        if a != b:
            diffs.append(f"{k}: {a!r} -> {b!r}")
    return "; ".join(diffs)


class Checkpointer:
    """Save and restore a run under ``<save_dir>/checkpoints``; ``signature``
    identifies the run (settings and data) and must match for a restore.

    Each save names the objects it holds (name -> trackable), so a phase
    saves only what it needs (pretraining does not need the clustering
    optimizer, clustering not the pretraining one); checkpoints are numbered
    by the run state's ``saves`` counter across phases and resumes.
    """

    def __init__(self, save_dir, signature, max_to_keep=2):
        self.folder = _folder(save_dir)
        self.signature = signature
        self.max_to_keep = max_to_keep
        self.run = _Record()
        self._managers = {}

    def _manager(self, objects):
        key = tuple(sorted((name, id(obj)) for name, obj in objects.items()))
        if key not in self._managers:
            ckpt = tf.train.Checkpoint(run=self.run, **objects)
            self._managers[key] = tf.train.CheckpointManager(ckpt, self.folder,
                                                             max_to_keep=self.max_to_keep)
        return self._managers[key]

    def check(self):
        """The latest checkpoint's ``RunState``, or None; ``SettingsMismatch`` when
        it was written by a run with other settings or data."""
        state = peek(os.path.dirname(self.folder))
        if state is None:
            return None
        saved = state.get("signature", {})
        if saved != self.signature:
            raise SettingsMismatch(
                f"{self.folder} holds a checkpoint of another run "
                f"({describe_mismatch(saved, self.signature)}): rerun with --restart "
                "(Python: deckeras.checkpoint.remove(save_dir)) to start over, or use another save dir")
        return RunState.from_dict(state)

    def restore(self, objects_of):
        """Restore the latest checkpoint into ``objects_of(phase)`` (the objects
        that phase saved); returns its state, or None when there is none."""
        state = self.check()
        if state is None:
            return None
        manager = self._manager(objects_of(state.phase))
        manager.checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        return RunState.from_dict(self.run.state)

    def save(self, state, objects):
        """Write ``objects`` and ``state`` (a ``RunState``, whole) as the next checkpoint."""
        state.saves += 1
        self.run.state = {**state.to_dict(), "signature": self.signature}
        self._manager(objects).save(checkpoint_number=state.saves)
