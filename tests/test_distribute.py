"""tf.distribute: the same algorithm on 2 replicas as on one device, the
command line's --distribute, and a real 2-worker run on loopback ports."""
import json
import os
import subprocess
import sys

import pytest

from deckeras import cli, distribute
from deckeras.distribute import loopback_tf_configs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _helper():
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "distributed_run.py")],
                       capture_output=True, text=True, env=ENV, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def mirrored():
    return _helper()


def test_two_mirrored_replicas_train_as_one_device(mirrored):
    """From the same initial weights: one pretraining epoch and 50 clustering
    iterations (batches split unevenly: 65 = 32 + 33, the last 15 = 7 + 8)."""
    out = mirrored
    assert out["replicas"] == 2
    for name in ("DEC", "IDEC", "DCN"):
        r = out[name]
        assert r["iterations"] == [50, 50]
        assert r["pretrain_loss"] < 1e-4 and r["loss"] < 1e-4, (name, r)
        assert r["weights"] < 1e-4, (name, r)
        assert r["labels_equal"] == 1.0, (name, r)
    # mixed_float16 under the mirrored strategy: both optimizers loss-scaled
    f16 = out["mixed_float16"]
    assert f16["optimizers"] == ["LossScaleOptimizer", "LossScaleOptimizer"] and f16["finite"]
    assert "float16" in f16["compute_dtypes"] and f16["weight_dtypes"] == ["float32"]


def test_the_comparison_catches_centres_updated_from_one_replica(mirrored):
    out = mirrored["broken"]
    assert out["DEC"]["weights"] < 1e-4          # untouched
    assert out["DCN"]["weights"] > 1e-2, out["DCN"]


SMALL = ["--dataset", "digits", "--seed", "0", "--pretrain-epochs", "6", "--maxiter", "60",
         "-i", "20", "--tol", "0", "-v", "0", "--dims", "64", "32"]


def _main(args, env=ENV, wait=True):
    cmd = [sys.executable, os.path.join(ROOT, "main.py"), *args]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, cwd=ROOT)
    if not wait:
        return p
    out, err = p.communicate(timeout=600)
    return p.returncode, out, err


@pytest.mark.parametrize("method", ["FcDEC", "DCN"])
def test_two_workers_on_loopback_train_like_one_process(method, tmp_path):
    """DCN's workers read the data from disk (--stream), each only its share,
    and break the reclustering barrier every 2 epochs (resets at 16, 32, 48)."""
    d = str(tmp_path / "multi")
    procs = []
    stream = ["--stream"] if method == "DCN" else []
    brb = ["--brb-interval", "2"] if method == "DCN" else []
    for cfg in loopback_tf_configs(2):
        env = {**ENV, "TF_CONFIG": cfg}
        procs.append(_main(["--method", method, *SMALL, *brb, "-d", d, "--distribute",
                            "multiworker", *stream], env=env, wait=False))
    results = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err[-3000:]
    assert "outputs in" in results[0][0] and "not kept" in results[1][0]
    chief = json.load(open(os.path.join(d, "summary.json")))
    assert json.load(open(os.path.join(d, "config.json")))["params"]["distribute"] == "multiworker"
    assert os.path.exists(os.path.join(d, "data.npy")) == bool(stream)
    # the one-process reference runs here: it needs no TF_CONFIG and no new TensorFlow
    assert cli.main(["--method", method, *SMALL, *brb, "-d", str(tmp_path / "single")]) == 0
    single = json.load(open(os.path.join(tmp_path / "single", "summary.json")))
    assert abs(chief["acc"] - single["acc"]) <= 0.03, (chief, single)
    assert chief["brb_resets"] == single["brb_resets"] == (3 if brb else 0)
    assert not [f for f in os.listdir(tmp_path) if f.startswith("deckeras-worker")]
    if method == "FcDEC":
        # rerun, worker 1 without the chief's checkpoint (as on another machine with no
        # shared disk): the workers would start from different points, so both stop
        procs = [_main(["--method", method, *SMALL, "-d", str(tmp_path / sub), "--distribute",
                        "multiworker"], env={**ENV, "TF_CONFIG": cfg}, wait=False)
                 for sub, cfg in zip(["multi", "elsewhere"], loopback_tf_configs(2))]
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 2 and "start from different checkpoints" in _one_line(err), err


@pytest.mark.parametrize("tf_config,msg", [(None, "needs TF_CONFIG"),
                                           ("{not json", "TF_CONFIG is malformed"),
                                           ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}',
                                            "TF_CONFIG is malformed")])
def test_bad_tf_config_is_one_line_and_exit_2(tf_config, msg, tmp_path, capsys, monkeypatch):
    # in this process: TF_CONFIG is checked before TensorFlow starts its server
    monkeypatch.delenv("TF_CONFIG", raising=False)
    if tf_config is not None:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    rc = cli.main(["--method", "FcDEC", *SMALL, "-d", str(tmp_path / "x"),
                   "--distribute", "multiworker"])
    assert rc == 2 and msg in _one_line(capsys.readouterr().err)
    assert not os.path.exists(tmp_path / "x")


@pytest.mark.parametrize("index", [0, 1])
def test_a_worker_whose_peer_never_starts_stops_with_one_line(index, tmp_path, capsys,
                                                              monkeypatch):
    # in this process: the wait for the peers comes before TensorFlow's server starts
    monkeypatch.setenv("TF_CONFIG", loopback_tf_configs(2)[index])
    monkeypatch.setattr(distribute, "CONNECT_TIMEOUT", 1)
    rc = cli.main(["--method", "FcDEC", *SMALL, "-d", str(tmp_path / "x"),
                   "--distribute", "multiworker"])
    assert rc == 2
    assert f"worker {index} could not reach worker {1 - index} (127.0.0.1:" in _one_line(
        capsys.readouterr().err)
    assert not os.path.exists(tmp_path / "x")


def _one_line(err):
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_a_worker_that_dies_mid_run_stops_the_other_with_one_line(tmp_path):
    args = ["--method", "FcDEC", "--dataset", "digits", "--seed", "0", "--pretrain-epochs", "400",
            "--distribute", "multiworker", "-v", "1"]
    procs = [_main([*args, "-d", str(tmp_path / f"w{i}")], wait=False,
                   env={**ENV, "TF_CONFIG": cfg, "DECKERAS_COLLECTIVE_TIMEOUT": "5"})
             for i, cfg in enumerate(loopback_tf_configs(2))]
    try:
        assert procs[1].stdout.readline().startswith("pretrain epoch 1/400")   # training together
        procs[1].kill()
        out, err = procs[0].communicate(timeout=120)
    finally:
        for p in procs:
            p.kill()
    assert procs[0].returncode == 2, err
    assert "a worker failed or cannot be reached" in _one_line(err)


def test_run_exp_takes_distribute(tmp_path):
    root = str(tmp_path / "exp")
    p = subprocess.run([sys.executable, os.path.join(ROOT, "run_exp.py"), "--trials", "1",
                        "--methods", "DCN", "--datasets", "digits", "-d", root,
                        "--pretrain-epochs", "2", "--maxiter", "20", "--distribute", "mirrored"],
                       capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    cfg = json.load(open(os.path.join(root, "DCN", "digits", "trial0", "config.json")))
    assert cfg["params"]["distribute"] == "mirrored"
    assert os.path.isfile(os.path.join(root, "results.csv"))
