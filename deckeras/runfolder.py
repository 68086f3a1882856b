"""The run folder: the one place that names its files.

A run folder (``main.py --save-dir``, one trial of ``run_exp.py``) holds:

- ``config.json``: method, data set, seed, data shape, every resolved
  estimator parameter, library versions and the host (written before
  training, after the inputs and any checkpoint have been checked);
- ``pretrain_log.csv`` (epoch, loss, time_s), ``ae_weights.h5`` (the
  pretrained autoencoder);
- ``log.csv`` (iter, acc, nmi, ari, loss, delta_label, time_s),
  ``model_0.h5`` (after k-means), ``model_final.h5``;
- ``labels.csv``, ``summary.json`` (written last: a run is finished when
  it exists); ``error.json`` when a ``run_exp.py`` trial failed;
- ``checkpoints/``, from which a rerun resumes;
- ``data.npy`` with ``--stream`` when the data set is not an ``.npy`` file:
  its samples, written once per run and read a mini-batch at a time.
"""
import contextlib
import os
import shutil
import tempfile

__all__ = ["RunFolder", "CONFIG", "SUMMARY", "LABELS", "ERROR", "PRETRAIN_LOG", "LOG",
           "AE_WEIGHTS", "INITIAL_WEIGHTS", "FINAL_WEIGHTS", "CHECKPOINTS", "DATA_CACHE",
           "worker_folder"]

CONFIG, SUMMARY, LABELS, ERROR = "config.json", "summary.json", "labels.csv", "error.json"
PRETRAIN_LOG, LOG = "pretrain_log.csv", "log.csv"
AE_WEIGHTS, INITIAL_WEIGHTS, FINAL_WEIGHTS = "ae_weights.h5", "model_0.h5", "model_final.h5"
CHECKPOINTS = "checkpoints"
DATA_CACHE = "data.npy"


class RunFolder:
    """Paths of one run folder's files: ``RunFolder(d).path(LOG)``, or the
    attributes ``config``, ``summary``, ``labels``, ... ."""

    def __init__(self, folder):
        self.folder = os.fspath(folder)

    def path(self, name):
        return os.path.join(self.folder, name)

    def make_writable(self):
        """Create the folder and check that files can be written in it (an
        OSError naming the path when not): before a run writes anything."""
        os.makedirs(self.folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".deckeras-probe-", dir=self.folder)
        os.close(fd)
        os.remove(probe)
        return self

    def has(self, name):
        return os.path.isfile(self.path(name))

    config = property(lambda self: self.path(CONFIG))
    summary = property(lambda self: self.path(SUMMARY))
    labels = property(lambda self: self.path(LABELS))
    error = property(lambda self: self.path(ERROR))
    pretrain_log = property(lambda self: self.path(PRETRAIN_LOG))
    log = property(lambda self: self.path(LOG))
    ae_weights = property(lambda self: self.path(AE_WEIGHTS))
    initial_weights = property(lambda self: self.path(INITIAL_WEIGHTS))
    final_weights = property(lambda self: self.path(FINAL_WEIGHTS))
    checkpoints = property(lambda self: self.path(CHECKPOINTS))
    data_cache = property(lambda self: self.path(DATA_CACHE))


@contextlib.contextmanager
def worker_folder():
    """A private temporary run folder for a multi-worker run's non-chief
    worker (it trains in step with the chief; its files are not kept)."""
    private = tempfile.mkdtemp(prefix="deckeras-worker-")
    try:
        yield private
    finally:
        shutil.rmtree(private, ignore_errors=True)
