import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from deckeras import cli
from deckeras.methods import make_method

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--pretrain-epochs", "2", "--maxiter", "20", "-i", "10", "--seed", "0", "-v", "0"]


def run(args, capsys):
    rc = cli.main(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("run") / "fcdec")
    assert cli.main(["--method", "FcDEC", "--dataset", "digits", "-d", d] + TINY) == 0
    return d


def test_train_writes_every_output(trained):
    names = set(os.listdir(trained))
    assert {"config.json", "pretrain_log.csv", "ae_weights.h5", "log.csv", "model_0.h5",
            "model_final.h5", "labels.csv", "summary.json"} <= names
    assert not [n for n in names if n.startswith(".")]          # no temp files left
    with open(os.path.join(trained, "log.csv")) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["iter", "acc", "nmi", "ari", "loss", "delta_label", "time_s"]
    assert rows[-1]["iter"] == "20"
    cfg = json.load(open(os.path.join(trained, "config.json")))
    assert cfg["params"]["maxiter"] == 20 and cfg["params"]["update_interval"] == 10
    assert cfg["params"]["pretrain_epochs"] == 2 and cfg["seed"] == 0
    assert cfg["machine"]["cores"] == os.cpu_count() and isinstance(cfg["machine"]["gpus"], list)
    s = json.load(open(os.path.join(trained, "summary.json")))
    assert {"acc", "nmi", "ari", "pretrain_s", "cluster_s", "total_s", "init"} <= set(s)
    assert float(rows[-1]["acc"]) == pytest.approx(s["acc"], abs=1e-5)


def test_testing_mode_reproduces_training_metrics(trained, capsys):
    rc, out, err = run(["--method", "FcDEC", "--dataset", "digits", "-t", "-w",
                        os.path.join(trained, "model_final.h5"), "-v", "0"], capsys)
    assert rc == 0, err
    s = json.load(open(os.path.join(trained, "summary.json")))
    assert f"acc {s['acc']:.4f}" in out and f"nmi {s['nmi']:.4f}" in out
    with open(os.path.join(trained, "labels.csv")) as f:
        saved = [int(r["label"]) for r in csv.DictReader(f)]
    from deckeras.runs import load_model
    from deckeras.datasets import load_dataset
    x, _ = load_dataset("digits")
    assert load_model(trained).predict(x).tolist() == saved


def test_weights_load_with_plain_keras(trained):
    """ae_weights.h5 loads into a plain Keras model with model.load_weights."""
    import keras
    from deckeras.autoencoders import dense_autoencoder
    from deckeras.datasets import load_dataset
    from deckeras.weights import load_weights
    x, _ = load_dataset("digits")
    inp = keras.Input((64,))
    h = inp
    for units in (500, 500, 2000, 10, 2000, 500, 500, 64):
        h = keras.layers.Dense(units, activation=None if units in (10, 64) else "relu")(h)
    plain = keras.Model(inp, h)
    plain.load_weights(os.path.join(trained, "ae_weights.h5"))
    ours, _, _ = dense_autoencoder([64, 500, 500, 2000, 10])
    load_weights(ours, os.path.join(trained, "ae_weights.h5"))
    np.testing.assert_allclose(plain.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)


def test_pretrained_weights_skip_pretraining_and_resume(trained, tmp_path, capsys):
    d = str(tmp_path / "again")
    rc, out, err = run(["--method", "FcDEC", "--dataset", "digits", "-d", d,
                        "--pretrained-weights", os.path.join(trained, "ae_weights.h5")] + TINY, capsys)
    assert rc == 0, err
    assert not os.path.exists(os.path.join(d, "pretrain_log.csv"))
    s1 = json.load(open(os.path.join(trained, "summary.json")))
    s2 = json.load(open(os.path.join(d, "summary.json")))
    assert s2["init"]["acc"] == pytest.approx(s1["init"]["acc"])
    # a second run into the first folder resumes from its last checkpoint: the end
    rc, out, err = run(["--method", "FcDEC", "--dataset", "digits", "-d", trained] + TINY[:-2] + ["-v", "1"], capsys)
    assert rc == 0 and "resuming from the checkpoint" in out and "the end (iteration 20)" in out
    assert "pretrain epoch" not in out and "AE + k-means" not in out
    s3 = json.load(open(os.path.join(trained, "summary.json")))
    assert (s3["acc"], s3["iterations"]) == (s1["acc"], s1["iterations"])


@pytest.mark.parametrize("args,msg", [
    (["--method", "NoSuch", "--dataset", "digits"], "invalid choice"),
    (["--method", "FcDEC", "--dataset", "nosuch"], "unknown data set"),
    (["--method", "FcDEC", "--dataset", "digits", "--n-clusters", "5000"], "larger than the number of samples"),
    (["--method", "FcDEC", "--dataset", "digits", "--pretrained-weights", "/no/such.h5"], "not found"),
    (["--method", "DCN", "--dataset", "digits", "--lamda", "-1"], "--lamda -1.0, must be > 0"),
    (["--method", "DCN", "--dataset", "digits", "--init-count", "0"], "--init-count 0.0, must be >= 1"),
    (["--method", "FcDEC", "--dataset", "digits", "--lamda", "1"], "does not apply"),
    (["--method", "N2D", "--dataset", "digits", "--lamda", "1"], "--lamda does not apply to N2D"),
    (["--method", "DCN", "--dataset", "digits", "--umap-dim", "3"], "--umap-dim does not apply to DCN"),
    (["--method", "N2D", "--dataset", "digits", "--umap-neighbors", "1"], "--umap-neighbors 1, must be >= 2"),
    (["--method", "N2D", "--dataset", "digits", "--umap-update-groups", "0"],
     "--umap-update-groups 0, must be >= 1"),
    (["--method", "FcDEC", "--dataset", "digits", "--pretrain-noise", "1"], "--pretrain-noise 1.0, must be < 1"),
    (["--method", "ConvDEC", "--dataset", "digits", "--filters", "8", "16"], "--filters must be 3 whole numbers"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(args, msg, tmp_path, capsys):
    d = str(tmp_path / "out")
    with pytest.raises(SystemExit) if "NoSuch" in args else _nullcontext() as e:
        rc, out, err = run(args + ["-d", d], capsys)
    if "NoSuch" in args:
        assert e.value.code == 2
        err = capsys.readouterr().err
    else:
        assert rc == 2
    assert msg in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not os.path.exists(d)


def test_nan_data_file(tmp_path, capsys):
    x = np.random.default_rng(0).random((30, 16)).astype(np.float32)
    x[4, 2] = np.nan
    np.save(tmp_path / "x.npy", x)
    rc, out, err = run(["--dataset", str(tmp_path / "x.npy"), "--n-clusters", "3", "-d",
                        str(tmp_path / "o")], capsys)
    assert rc == 2 and "NaN" in err and not os.path.exists(tmp_path / "o")


def test_wrong_or_corrupt_weights(trained, tmp_path, capsys):
    rc, out, err = run(["--method", "ConvDEC", "--dataset", "digits", "-t", "-w",
                        os.path.join(trained, "model_final.h5")], capsys)
    assert rc == 2 and "do not fit the model" in err and len(err.strip().splitlines()) == 1
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF garbage" * 100)
    rc, out, err = run(["--method", "FcDEC", "--dataset", "digits", "-t", "-w", str(bad)], capsys)
    assert rc == 2 and "corrupt" in err


def test_main_py_subprocess_error_has_no_traceback(tmp_path):
    p = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "--dataset", "nosuch",
                        "-d", str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1].startswith("error: unknown data set")
    assert "Traceback" not in p.stderr


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_flags_reach_the_estimator():
    import argparse
    p = argparse.ArgumentParser()
    cli.add_common_flags(p)
    params = cli.resolve_params("FcDEC-DA", "digits",
                                p.parse_args(["--jit", "--precision", "mixed_bfloat16"]), 0)
    assert params["jit_compile"] is True and params["precision"] == "mixed_bfloat16"
    assert "jit_compile" not in cli.resolve_params("FcDEC", "digits", p.parse_args([]), 0)
    scaled = cli.resolve_params("FcDEC", "digits", p.parse_args(["--scale", "standard"]), 0)
    assert scaled["scale"] == "standard"
    paper = cli.resolve_params("DEC", "digits", p.parse_args(["--protocol", "paper"]), 0)
    model = make_method("DEC", "digits", **paper)     # as runs.train builds it
    assert not model._reconstructs() and model.optimizer == "sgd"
    assert cli.resolve_params("ConvDCN", "mnist", p.parse_args(["--lamda", "auto"]), 0)["lamda"] == "auto"
    assert cli.resolve_params("ConvDCN", "digits", p.parse_args(["--lamda", "0.5"]), 0)["lamda"] == 0.5
    sized = cli.resolve_params("DCN", "digits", p.parse_args(["--dims", "64", "32", "--filters", "4", "8", "16"]), 0)
    assert (sized["dims"], sized["filters"]) == ([64, 32], [4, 8, 16])
    with pytest.raises(SystemExit):
        p.parse_args(["--dims", "64", "0"])
    noisy = cli.resolve_params("FcDEC", "digits", p.parse_args(["--pretrain-noise", "0.3"]), 0)
    assert make_method("FcDEC", "digits", **noisy).pretrain_noise == 0.3
    # FcDEC on MNIST: the faster schedule by default, the paper's under --protocol paper
    fast = cli.resolve_params("FcDEC", "mnist", p.parse_args([]), 0)
    slow = cli.resolve_params("FcDEC", "mnist", p.parse_args(["--protocol", "paper"]), 0)
    assert (fast["pretrain_epochs"], fast["pretrain_noise"], slow["pretrain_epochs"]) == (40, 0.2, 500)
    assert (fast["batch_size"], slow.get("batch_size")) == (128, None)
    assert make_method("FcDEC", "mnist", **slow).pretrain_noise == 0.0
    # DCN on MNIST likewise (its paper: 300 clean epochs in batches of 256)
    fast = cli.resolve_params("DCN", "mnist", p.parse_args([]), 0)
    slow = cli.resolve_params("DCN", "mnist", p.parse_args(["--protocol", "paper"]), 0)
    assert (fast["pretrain_epochs"], fast["pretrain_noise"], fast["batch_size"]) == (50, 0.2, 128)
    assert (slow["pretrain_epochs"], slow.get("pretrain_noise"), slow.get("batch_size")) == (300, None, None)
    # and its mixture start, which a flag turns back to k-means
    assert (fast["cluster_init"], slow.get("cluster_init")) == ("gmm", None)
    back = cli.resolve_params("DCN", "mnist", p.parse_args(["--cluster-init", "kmeans"]), 0)
    assert back["cluster_init"] == "kmeans" and make_method("DCN", "mnist", **back).cluster_init == "kmeans"


def test_raw_feature_file_is_scaled_by_default_and_reloads(tmp_path, capsys):
    """scikit-learn's wine data as a CSV (features up to 1,680): minmax by default,
    and load_model applies the same scaling (stored beside the weights)."""
    from sklearn.datasets import load_wine
    from deckeras.runs import load_model
    from deckeras.readers import read_csv
    w = load_wine()
    path = tmp_path / "wine.csv"
    with open(path, "w") as f:
        f.write(",".join([*w.feature_names, "label"]) + "\n")
        for row, label in zip(w.data, w.target):
            f.write(",".join(f"{v:g}" for v in row) + f",{label}\n")
    d = str(tmp_path / "wine")
    rc, out, err = run(["--method", "DEC", "--dataset", str(path), "-d", d,
                        "--pretrain-epochs", "30", "--maxiter", "200", "--seed", "0", "-v", "0"],
                       capsys)
    assert rc == 0, err
    cfg = json.load(open(os.path.join(d, "config.json")))
    s = json.load(open(os.path.join(d, "summary.json")))
    assert cfg["params"]["scale"] == "minmax" and s["acc"] > 0.6, s
    x, _ = read_csv(str(path))
    with open(os.path.join(d, "labels.csv")) as f:
        saved = [int(r["label"]) for r in csv.DictReader(f)]
    assert load_model(d).predict(x).tolist() == saved


def test_divergence_is_one_line_and_exit_2(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "raw.npy", (100 + 30 * rng.standard_normal((300, 16))).astype(np.float32))
    rc, out, err = run(["--method", "DEC", "--dataset", str(tmp_path / "raw.npy"), "--n-clusters",
                        "3", "--scale", "none", "--pretrain-optimizer", "sgd", "--seed", "0",
                        "-d", str(tmp_path / "d"), "-v", "0"], capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "diverged" in err and "--scale" in err and "Traceback" not in err
