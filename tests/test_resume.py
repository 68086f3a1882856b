"""Long runs survive a kill: checkpoints, resuming, signals, settings mismatches.

The end-to-end tests run ``main.py`` in subprocesses and stop them for real
(SIGKILL, SIGINT, SIGTERM) at chosen points of their progress output; the
resumed run must end with the labels of the same run left alone. A run that
is not stopped (a last resume, a refused or restarted run) goes on in this
process: it needs no TensorFlow start of its own, and the processes before it
have already resumed for real.
"""
import csv
import json
import os
import re
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest

from deckeras import DCN, DEC, checkpoint
from deckeras import callbacks, cli, trainer
from deckeras.trainer import TrainingDiverged
from deckeras.io import read_json
from deckeras.training import BatchOrder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# 600 digits in a file, mini-batches of 64: 10 steps a pretraining epoch, so
# every run is a few seconds of training and the kills still land mid-phase
ARGS = ["--method", "FcDEC", "--dataset", None, "--seed", "0", "--pretrain-epochs", "30",
        "--maxiter", "240", "-i", "30", "--tol", "0", "--batch-size", "64", "--dims", "64", "32"]


@pytest.fixture(scope="module", autouse=True)
def data_file(tmp_path_factory, small_digits):
    path = str(tmp_path_factory.mktemp("data") / "digits600.npz")
    np.savez(path, x=small_digits[0], y=small_digits[1])
    ARGS[3] = path
    return path


def _main(d, *extra):
    return subprocess.Popen([sys.executable, "-u", os.path.join(ROOT, "main.py"), *ARGS,
                             "-d", d, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


def _run(d, stop_at=None, sig=None, extra=()):
    """Run main.py into ``d``; send ``sig`` once a progress line satisfies ``stop_at``."""
    p = _main(d, *extra)
    lines = []
    for line in p.stdout:
        lines.append(line)
        if stop_at is not None and stop_at(line):
            p.send_signal(sig)
            break
    rest, err = p.communicate(timeout=300)
    return p.returncode, "".join(lines) + rest, err


def _at(prefix, n):
    """A progress line '<prefix> N...' with N >= n."""
    def hit(line):
        if not line.startswith(prefix):
            return False
        return int(line[len(prefix):].split("/")[0].split()[0]) >= n
    return hit


def _labels(d):
    with open(os.path.join(d, "labels.csv")) as f:
        return [int(r["label"]) for r in csv.DictReader(f)]


def _errors(err):
    return [l for l in err.splitlines() if l.strip() and "WARNING" not in l and "I0000" not in l]


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("alone") / "run")
    rc, out, err = _run(d)
    assert rc == 0, err
    return d


def test_killed_twice_and_interrupted_ends_as_if_left_alone(alone, tmp_path, capsys):
    d = str(tmp_path / "run")
    rc, out, _ = _run(d, _at("pretrain epoch ", 14), signal.SIGKILL)
    assert rc == -signal.SIGKILL and "iter 0" not in out
    rc, out, _ = _run(d, _at("iter ", 90), signal.SIGKILL)
    assert rc == -signal.SIGKILL
    # the kill came after epoch 14 (the checkpoint of epoch 10 at least was written)
    resumed = re.search(r"resuming from the checkpoint .*: pretraining epoch (\d+)/30", out)
    assert resumed and int(resumed.group(1)) in (10, 20), out
    assert f"pretrain epoch {int(resumed.group(1)) + 1}/30" in out and "pretrain epoch 5/30" not in out
    rc, out, err = _run(d, _at("iter ", 150), signal.SIGINT)
    # "iter 90" is printed just before its checkpoint: the kill may have come between
    assert rc == 130 and re.search(r"clustering iteration (60|90|120)/240", out), out
    assert "AE + k-means" not in out and "pretrain epoch" not in out
    lines = _errors(err)
    assert len(lines) == 1 and "SIGINT" in lines[0] and "checkpoint written" in lines[0], err
    # the last resume runs in this process (the two above resumed in processes of their own)
    assert cli.main([*ARGS, "-d", d]) == 0
    assert "resuming from the checkpoint" in capsys.readouterr().out
    assert _labels(d) == _labels(alone)
    with open(os.path.join(d, "log.csv")) as f:
        assert [r["iter"] for r in csv.DictReader(f)] == [str(i) for i in range(0, 241, 30)]
    s1, s2 = (json.load(open(os.path.join(p, "summary.json"))) for p in (alone, d))
    assert (s1["acc"], s1["init"], s1["iterations"]) == (s2["acc"], s2["init"], s2["iterations"])


def test_sigterm_in_pretraining_writes_a_checkpoint_first(alone, tmp_path, capsys):
    d = str(tmp_path / "run")
    rc, out, err = _run(d, _at("pretrain epoch ", 3), signal.SIGTERM)
    assert rc == 128 + signal.SIGTERM
    lines = _errors(err)
    assert len(lines) == 1 and "SIGTERM" in lines[0] and "pretraining epoch" in lines[0], err
    assert checkpoint.peek(d)["phase"] == "pretrain"
    assert cli.main([*ARGS, "-d", d]) == 0                    # resumed in this process
    assert "resuming from the checkpoint" in capsys.readouterr().out
    assert _labels(d) == _labels(alone)


def test_other_settings_are_a_one_line_error_and_restart_starts_over(alone, tmp_path, capsys):
    # in this process: neither run is stopped, so neither needs one of its own
    cfg = os.path.join(alone, "config.json")
    before = open(cfg).read()
    rc = cli.main([*ARGS, "-d", alone, "--seed", "1"])
    err = capsys.readouterr().err
    lines = _errors(err)
    assert rc == 2 and len(lines) == 1, err
    assert "another run" in lines[0] and "random_state: 0 -> 1" in lines[0] and "--restart" in lines[0]
    assert open(cfg).read() == before                       # nothing written
    d = str(tmp_path / "copy")
    import shutil
    shutil.copytree(alone, d)
    rc = cli.main([*ARGS, "-d", d, "--seed", "1", "--restart", "-v", "1"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "pretrain epoch 1/30" in out and "resuming" not in out
    assert json.load(open(os.path.join(d, "config.json")))["seed"] == 1


def test_a_mismatch_names_a_parameter_left_out_at_its_default_by_that_default():
    from deckeras.checkpoint import comparable_params, describe_mismatch
    old = {"params": comparable_params({"cluster_init": "kmeans", "batch_size": 256})}
    new = {"params": comparable_params({"cluster_init": "gmm", "batch_size": 128})}
    assert "cluster_init" not in old["params"]             # so that older checkpoints resume
    assert describe_mismatch(old, new) == "batch_size: 256 -> 128; cluster_init: 'kmeans' -> 'gmm'"


def test_n2d_runs_from_before_umap_update_groups_still_match_the_default():
    from deckeras import N2D
    from deckeras.checkpoint import comparable_params, describe_mismatch
    before = N2D().get_params()
    del before["umap_update_groups"]                 # a config.json written before it existed
    old = {"params": comparable_params(before)}
    assert comparable_params(N2D().get_params()) == old["params"]
    new = {"params": comparable_params(N2D(umap_update_groups=1).get_params())}
    assert describe_mismatch(old, new) == "umap_update_groups: 10 -> 1"


def test_batch_order_resumes_mid_epoch_exactly():
    a = BatchOrder(10, 3, seed=5)
    first = [next(a) for _ in range(6)]          # two epochs of 4 batches, and 2 more
    state = json.loads(json.dumps(a.state()))     # as a checkpoint stores it
    rest = [next(a) for _ in range(7)]
    b = BatchOrder(10, 3, seed=99).restore(state)
    assert all(np.array_equal(x, y) for x, y in zip(rest, [next(b) for _ in range(7)]))
    assert sorted(np.concatenate(first[:4]).tolist()) == list(range(10))


@pytest.mark.parametrize("cls", [DEC, DCN])
def test_crash_after_any_checkpoint_resumes_to_the_same_model(cls, small_digits, tmp_path,
                                                              monkeypatch):
    """Checkpoints after every graph call (mid-epoch, between updates): a crash
    right after any of them resumes to the very same weights and labels."""
    x, y = small_digits
    x = x.reshape(-1, 8, 8)                               # augmentation needs images
    monkeypatch.setattr(trainer, "STEPS_PER_CALL", 2)   # 600 / 64 = 10 batches: 5 calls an epoch
    monkeypatch.setattr(callbacks, "CHECKPOINT_SECONDS", 0)
    kw = dict(n_clusters=10, dims=[32], embedding_dim=5, pretrain_epochs=3, batch_size=64,
              pretrain_optimizer="adam", maxiter=25, update_interval=7, tol=0.0,
              kmeans_n_init=2, random_state=4, augment=True)
    ref = cls(**kw).fit(x, y)
    for crash_at in (3, 11, 19):         # mid pretraining epoch 1, epoch 3, clustering
        d = str(tmp_path / f"c{crash_at}")

        class Crash(keras.callbacks.Callback):    # before the checkpoint of that call
            calls = 0

            def on_train_batch_end(self, batch, logs=None):
                Crash.calls += 1
                if Crash.calls == crash_at:
                    raise RuntimeError("crash")
        with pytest.raises(RuntimeError):
            cls(save_dir=d, **kw).fit(x, y, callbacks=[Crash()])
        m = cls(save_dir=d, **kw).fit(x, y)
        assert np.array_equal(m.labels_, ref.labels_)
        for a, b in zip(m.model_.get_weights(), ref.model_.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert [r["loss"] for r in m.pretrain_history_] == [r["loss"] for r in ref.pretrain_history_]
        assert [r["iter"] for r in m.history_] == [r["iter"] for r in ref.history_]


def test_divergence_stops_at_once_and_names_the_cause(tmp_path):
    rng = np.random.default_rng(0)
    x = (100 + 30 * rng.standard_normal((300, 16))).astype(np.float32)
    d = str(tmp_path / "run")
    m = DEC(n_clusters=3, scale="none", pretrain_epochs=20, random_state=0, save_dir=d)
    with pytest.raises(TrainingDiverged, match=r"pretraining epoch \d+ .*not scaled.*scale="):
        m.fit(x)
    # the default scaling trains the same array without trouble
    m = DEC(n_clusters=3, pretrain_epochs=20, maxiter=60, update_interval=20, random_state=0).fit(x)
    assert np.isfinite(m.history_[-1]["loss"]) and np.isfinite(m.transform(x)).all()
    assert m.input_scale_.shape == (16,)
    np.testing.assert_allclose((x * m.input_scale_ + m.input_offset_).min(0), 0, atol=1e-5)


def test_run_exp_resumes_an_interrupted_trial_from_its_checkpoint(alone, tmp_path, capsys):
    """run_exp.py stopped by SIGTERM in a trial's clustering goes on from that
    trial's checkpoint and ends where main.py's uninterrupted run did."""
    root = str(tmp_path / "exp")
    cmd = [sys.executable, "-u", os.path.join(ROOT, "run_exp.py"), "--trials", "1",
           "--methods", "FcDEC", "--datasets", ARGS[3], "-d", root, *ARGS[6:], "-v", "1"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         cwd=ROOT, env=env)
    for line in p.stdout:
        if _at("iter ", 60)(line):
            p.send_signal(signal.SIGTERM)
            break
    p.communicate(timeout=300)
    assert p.returncode == 128 + signal.SIGTERM
    trial = os.path.join(root, "FcDEC", os.listdir(os.path.join(root, "FcDEC"))[0], "trial0")
    assert checkpoint.peek(trial)["phase"] == "cluster"
    # resumed in this process (the stop needed one of its own, the resume does not)
    from deckeras import experiment
    assert experiment.main(cmd[3:]) == 0
    out = capsys.readouterr().out
    assert "resuming from the checkpoint" in out and "pretrain epoch" not in out
    assert _labels(trial) == _labels(alone)
    # the trial's time counts the interrupted call's training too, not only the resumed call
    s = read_json(os.path.join(trial, "summary.json"))
    assert s["total_s"] >= s["pretrain_s"] + s["cluster_s"] > 0
