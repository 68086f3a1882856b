"""Whatever watches a run is a Keras callback: the user's own through
``fit(x, callbacks=[...])``, and Keras's stock callbacks unchanged."""
import csv
import warnings

import keras
import numpy as np
import pytest

from deckeras import DCN, DEC
from deckeras.trainer import TrainingDiverged

TINY = dict(n_clusters=10, dims=[32], embedding_dim=5, pretrain_epochs=3, kmeans_n_init=2,
            batch_size=64, pretrain_optimizer="adam", maxiter=40, update_interval=10, tol=0.0,
            random_state=0)


class Record(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(("begin", self.params["phase"], self.model.name))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch", self.params["phase"], epoch, dict(logs)))

    def on_train_end(self, logs=None):
        self.events.append(("end", self.params["phase"]))


@pytest.mark.parametrize("cls", [DEC, DCN])
def test_epochs_and_target_updates_end_in_on_epoch_end(cls, small_digits):
    x, y = small_digits
    rec = Record()
    m = cls(**TINY).fit(x, y, callbacks=[rec])
    ev = rec.events
    assert ev[0] == ("begin", "pretrain", m.autoencoder_.name)
    pre = [e for e in ev if e[0] == "epoch" and e[1] == "pretrain"]
    assert [e[2] for e in pre] == [0, 1, 2]
    assert [e[3]["loss"] for e in pre] == [r["loss"] for r in m.pretrain_history_]
    assert ("end", "pretrain") in ev and ("begin", "cluster", m.model_.name) in ev
    updates = [e[3] for e in ev if e[0] == "epoch" and e[1] == "cluster"]
    assert [u["iter"] for u in updates] == [0, 10, 20, 30, 40]
    for u, row in zip(updates, m.history_):
        assert {"loss", "delta_label", "acc", "nmi", "ari"} <= set(u) and u == row
    assert ev[-1] == ("end", "cluster")
    # without labels: no metrics in the logs
    rec = Record()
    cls(**TINY).fit(x, callbacks=[rec])
    last = [e for e in rec.events if e[0] == "epoch"][-1][3]
    assert "delta_label" in last and "acc" not in last


def test_early_stopping_on_delta_label_stops_the_clustering(small_digits):
    x, _ = small_digits
    kw = {**TINY, "maxiter": 2000, "update_interval": 5, "optimizer": "adam", "lr": 1e-4}
    full = DEC(**{**kw, "maxiter": 100}).fit(x)
    stop = keras.callbacks.EarlyStopping(monitor="delta_label", mode="min", patience=2,
                                         min_delta=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # pretraining's logs lack delta_label: no warning
        m = DEC(**kw).fit(x, callbacks=[stop])
    assert stop.stopped_epoch > 0 and m.n_iter_ < 2000 and not m.converged_
    assert m.n_iter_ == m.history_[-1]["iter"] and np.array_equal(m.predict(x), m.labels_)
    assert len(full.history_) > 0


def test_stop_training_in_pretraining_goes_on_to_clustering(small_digits):
    x, _ = small_digits
    stop_at_2 = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: setattr(
            stopper.model, "stop_training", epoch == 1 and "delta_label" not in logs))
    stopper = stop_at_2
    m = DEC(**{**TINY, "pretrain_epochs": 10}).fit(x, callbacks=[stopper])
    assert len(m.pretrain_history_) == 2 and m.n_iter_ == 40


def test_csv_logger_and_lambda_callback_work_unchanged(small_digits, tmp_path):
    x, y = small_digits
    path = str(tmp_path / "log.csv")
    rows = []
    DCN(**TINY).fit(x, y, callbacks=[
        keras.callbacks.CSVLogger(path, append=True),
        keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: rows.append(logs))])
    with open(path) as f:
        lines = list(csv.reader(f))
    # as for two Keras fits appending to one file: pretraining's header and rows, then
    # the clustering's rows (epoch and its sorted keys: acc ari delta_label iter loss nmi
    # time_s; CSVLogger adds val_ columns, NA here, as for any fit without validation)
    assert lines[0] == ["epoch", "loss", "time_s", "val_loss", "val_time_s"]
    assert len(lines) == 1 + 3 + 5
    assert [r[0] for r in lines[1:]] == ["0", "1", "2", "0", "1", "2", "3", "4"]
    assert [int(r[4]) for r in lines[4:]] == [0, 10, 20, 30, 40]
    assert [float(r[3]) for r in lines[4:]] == [row["delta_label"] for row in rows[3:]]
    assert len(rows) == 3 + 5


def test_terminate_on_nan_sees_the_diverged_loss(capsys):
    rng = np.random.default_rng(0)
    x = (100 + 30 * rng.standard_normal((300, 16))).astype(np.float32)
    with pytest.raises(TrainingDiverged, match="not scaled"):
        DEC(n_clusters=3, scale="none", pretrain_epochs=20, random_state=0).fit(
            x, callbacks=[keras.callbacks.TerminateOnNaN()])
    assert "Invalid loss, terminating training" in capsys.readouterr().out
