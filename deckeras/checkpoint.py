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

__all__ = ["FOLDER", "RunState", "Checkpointer", "SettingsMismatch", "peek", "remove"]

FOLDER = "checkpoints"
_STATE_KEY = "run/.ATTRIBUTES/py_state"


class SettingsMismatch(ValueError):
    """The checkpoint in a folder belongs to another run."""


class RunState(tf.train.experimental.PythonState):
    """The Python side of a run (a JSON-able dict), saved inside the checkpoint."""

    def __init__(self, state=None):
        self.state = state if state is not None else {}

    def serialize(self):
        return json.dumps(self.state)

    def deserialize(self, string_value):
        self.state = json.loads(string_value)


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
    """The settings that differ between two signatures, as 'key: old -> new'."""
    diffs = []
    for group in ("estimator", "data"):
        if saved.get(group) != current.get(group):
            diffs.append(f"{group}: {saved.get(group)} -> {current.get(group)}")
    old, new = saved.get("params", {}), current.get("params", {})
    for k in sorted(set(old) | set(new)):
        if old.get(k) != new.get(k):
            diffs.append(f"{k}: {old.get(k)!r} -> {new.get(k)!r}")
    return "; ".join(diffs)


class Checkpointer:
    """Save and restore ``objects`` (name -> trackable) with a run state under
    ``<save_dir>/checkpoints``; ``signature`` identifies the run (settings and
    data) and must match for a restore."""

    def __init__(self, save_dir, objects, signature, max_to_keep=2):
        self.folder = _folder(save_dir)
        self.signature = signature
        self.run = RunState()
        self.ckpt = tf.train.Checkpoint(run=self.run, **objects)
        self.manager = tf.train.CheckpointManager(self.ckpt, self.folder, max_to_keep=max_to_keep)

    def check(self):
        """The latest checkpoint's state, or None; ``SettingsMismatch`` when it was
        written by a run with other settings or data."""
        state = peek(os.path.dirname(self.folder))
        if state is None:
            return None
        saved = state.get("signature", {})
        if saved != self.signature:
            raise SettingsMismatch(
                f"{self.folder} holds a checkpoint of another run "
                f"({describe_mismatch(saved, self.signature)}): rerun with --restart "
                "(Python: deckeras.checkpoint.remove(save_dir)) to start over, or use another save dir")
        return state

    def restore(self):
        """Restore the latest checkpoint into the objects; returns its state or None."""
        state = self.check()
        if state is None:
            return None
        self.ckpt.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
        return self.run.state

    def save(self, state):
        self.run.state = {**state, "signature": self.signature}
        self.manager.save()
