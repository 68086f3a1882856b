"""Seeing and shipping results: deckeras plot / predict / export, image
folders, --label-column, choosing k, the quiet console and TensorBoard."""
import contextlib
import csv
import glob
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
PNG = b"\x89PNG\r\n\x1a\n"


def deckeras_process(*args, cwd=ROOT):
    """``python -m deckeras ARGS`` in a new process: (exit code, stdout, stderr)."""
    p = subprocess.run([sys.executable, "-m", "deckeras", *map(str, args)], capture_output=True,
                       text=True, env=ENV, cwd=cwd, timeout=600)
    return p.returncode, p.stdout, p.stderr


def deckeras(*args):
    """The same command in this process (TensorFlow starts once for the module)."""
    from deckeras import commands
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = commands.main(list(map(str, args)))
        except SystemExit as e:          # argparse's usage errors
            rc = e.code
    return rc, out.getvalue(), err.getvalue()


def train(*args):
    return deckeras("train", *args)


def labels_of(path):
    with open(path, newline="") as f:
        return np.array([int(r["label"]) for r in csv.DictReader(f)])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """FcDEC on digits through ``deckeras train``, with TensorBoard scalars."""
    d = tmp_path_factory.mktemp("run") / "fcdec"
    rc, out, err = deckeras_process("train", "--method", "FcDEC", "--dataset", "digits", "--seed", "0",
                         "--pretrain-epochs", "15", "--maxiter", "120", "-i", "40", "-v", "0",
                         "--dims", "64", "32", "-d", d, "--tensorboard", d / "tb")
    assert rc == 0, err
    assert err == "", err            # no TensorFlow start-up noise on the command line
    return d


def test_plot_writes_pngs_that_depend_on_the_run(run, tmp_path):
    rc, out, err = deckeras("plot", run)
    assert rc == 0, err
    names = {"pretrain_loss.png", "clustering.png", "embedding.png", "montage.png",
             "confusion.png"}
    assert set(os.listdir(run / "plots")) == names
    import matplotlib.image
    for n in names:
        blob = (run / "plots" / n).read_bytes()
        assert blob.startswith(PNG)
        img = matplotlib.image.imread(str(run / "plots" / n))
        assert img.ndim == 3 and img.shape[0] > 100 and img[..., :3].std() > 0.01, n
    # another run (another seed): the pictures of its model differ
    other = tmp_path / "other"
    from deckeras import runs
    from deckeras.cli import main_parser, resolve_params
    args = main_parser().parse_args(["--method", "FcDEC", "--dataset", "digits", "--seed", "1",
                                     "--pretrain-epochs", "3", "--maxiter", "20", "-v", "0"])
    runs.train("FcDEC", "digits", resolve_params("FcDEC", "digits", args, 1), str(other), 1)
    from deckeras.plots import plot
    files = plot(str(other), str(tmp_path / "p"))
    assert len(files) == 5
    for n in ("embedding.png", "confusion.png", "clustering.png"):
        assert (tmp_path / "p" / n).read_bytes() != (run / "plots" / n).read_bytes(), n


def test_predict_gives_the_runs_labels_and_streams_npy(run, tmp_path, monkeypatch):
    rc, out, err = deckeras("predict", run, "digits", "-o", tmp_path / "a.csv")
    assert rc == 0, err
    ref = labels_of(run / "labels.csv")
    assert np.array_equal(labels_of(tmp_path / "a.csv"), ref)
    # an .npy file is memory-mapped and read in chunks
    from sklearn.datasets import load_digits
    np.save(tmp_path / "digits.npy", (load_digits().data / 16.0).astype(np.float32))
    from deckeras import commands
    monkeypatch.setattr(commands, "PREDICT_CHUNK", 500)      # 4 chunks
    counts = commands.predict(str(run), str(tmp_path / "digits.npy"), str(tmp_path / "b.csv"),
                              proba=True)
    with open(tmp_path / "b.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["index"]) for r in rows] == list(range(1797))
    assert np.array_equal([int(r["label"]) for r in rows], ref)
    q = np.array([[float(r[f"soft_assignments_{j}"]) for j in range(10)] for r in rows])
    # each label's score is its row's largest (written to 6 digits, two may tie)
    assert np.allclose(q.sum(1), 1, atol=1e-4) and np.array_equal(q[np.arange(1797), ref], q.max(1))
    assert counts.sum() == 1797


def test_predict_bad_input_is_one_line_and_writes_nothing(run, tmp_path):
    np.save(tmp_path / "wrong.npy", np.zeros((5, 30), np.float32))
    rc, out, err = deckeras("predict", run, tmp_path / "wrong.npy", "-o", tmp_path / "x.csv")
    assert rc == 2 and err.count("\n") == 1 and "30 features" in err, err
    from deckeras.commands import predict
    for run_dir, data, msg in [(run, tmp_path / "nothing.npy", "no such file"),
                               (tmp_path, "digits", "config.json"),
                               (tmp_path / "none", "digits", "no such folder")]:
        with pytest.raises((ValueError, FileNotFoundError), match=msg):
            predict(str(run_dir), str(data), str(tmp_path / "x.csv"))
    assert not os.path.exists(tmp_path / "x.csv")


def test_export_keras_and_savedmodel_round_trips(run, tmp_path):
    rc, out, err = deckeras("export", run, "--format", "keras", "-o", tmp_path / "m.keras")
    assert rc == 0, err
    from deckeras.commands import export
    export(str(run), "savedmodel", str(tmp_path / "sm"))
    with pytest.raises(ValueError, match="exists"):
        export(str(run), "savedmodel", str(tmp_path / "sm"))
    with pytest.raises(ValueError, match="must end in .keras"):
        export(str(run), "keras", str(tmp_path / "m.h5"))
    ref = labels_of(run / "labels.csv")
    # loading in a fresh process: deckeras.load_exported, or keras.saving.load_model once
    # deckeras.layers is imported (no custom_objects either way)
    code = ("import deckeras, keras, numpy as np, tensorflow as tf, sys\n"
            "from sklearn.datasets import load_digits\n"
            "x = (load_digits().data / 16.0).astype('float32')\n"
            "a = deckeras.load_exported(sys.argv[1]).predict(x, verbose=0)['label']\n"
            "import deckeras.layers\n"
            "a2 = keras.saving.load_model(sys.argv[1]).predict(x, verbose=0)['label']\n"
            "assert (a == a2).all()\n"
            "served = tf.saved_model.load(sys.argv[2])\n"
            "b = served.serve(tf.constant(x))['label'].numpy()\n"
            "np.save(sys.argv[3], np.stack([a, b]))\n")
    p = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.keras"), str(tmp_path / "sm"),
                        str(tmp_path / "out.npy")], capture_output=True, text=True, env=ENV,
                       timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    a, b = np.load(tmp_path / "out.npy")
    assert np.array_equal(a, ref) and np.array_equal(b, ref)


def test_dcn_inference_model_gives_its_labels():
    import keras
    from sklearn.datasets import load_digits
    from deckeras import DCN
    x = load_digits().data.astype(np.float32)          # raw 0..16: the scaling goes inside
    m = DCN(n_clusters=10, pretrain_epochs=2, maxiter=30, random_state=0).fit(x)
    out = m.inference_model().predict(x, verbose=0)
    assert set(out) == {"distances", "label"}
    assert np.array_equal(out["label"], m.labels_)
    assert np.allclose(out["distances"], m.cluster_scores(x), rtol=1e-4, atol=1e-4)
    assert isinstance(m.inference_model().get_layer("input_scaling"), keras.layers.Layer)


def test_tensorboard_scalars_are_written(run):
    import tensorflow as tf
    from tensorflow.core.util import event_pb2
    steps = {}
    for f in glob.glob(str(run / "tb" / "*")):
        for rec in tf.data.TFRecordDataset(f):
            e = event_pb2.Event.FromString(rec.numpy())
            for v in e.summary.value:
                assert v.metadata.plugin_data.plugin_name == "scalars"
                steps.setdefault(v.tag, []).append(e.step)
    assert steps["pretrain/loss"] == list(range(1, 16))
    for tag in ("cluster/loss", "cluster/delta_label", "cluster/acc", "cluster/nmi"):
        assert steps[tag] == [0, 40, 80, 120], (tag, steps.get(tag))


def _write_png_folder(root, n, classes=True, size=8):
    import tensorflow as tf
    from sklearn.datasets import load_digits
    d = load_digits()
    for i in range(n):
        folder = os.path.join(root, f"digit{d.target[i]}") if classes else root
        os.makedirs(folder, exist_ok=True)
        img = (d.images[i] / 16 * 255).astype(np.uint8)[..., None]
        if size != 8:
            img = np.repeat(np.repeat(img, size // 8, 0), size // 8, 1)
        tf.io.write_file(os.path.join(folder, f"{i:04d}.png"), tf.io.encode_png(img))
    return d.target[:n]


def test_image_folder_is_a_data_set(tmp_path):
    from deckeras.datasets import load_dataset
    y_true = _write_png_folder(str(tmp_path / "imgs"), 200)
    x, y = load_dataset(str(tmp_path / "imgs"), image=True)
    assert x.shape == (200, 8, 8, 1) and x.max() <= 1 and x.min() >= 0
    # labels: the subfolders in sorted order (digit0..digit9 = the digits)
    files = sorted(glob.glob(str(tmp_path / "imgs" / "*" / "*.png")))
    assert np.array_equal(y, [int(os.path.basename(os.path.dirname(f))[5:]) for f in files])
    assert sorted(y) == sorted(y_true)
    x12, _ = load_dataset(str(tmp_path / "imgs"), image=True, image_size=12, color="rgb")
    assert x12.shape == (200, 12, 12, 3)
    # no subfolders: unlabelled
    _write_png_folder(str(tmp_path / "flat"), 20, classes=False)
    assert load_dataset(str(tmp_path / "flat"))[1] is None
    # every method can take it: a conv one from the command line
    rc, out, err = train("--method", "ConvDEC-DA", "--dataset", tmp_path / "imgs", "--seed", "0",
                         "--image-size", "12", "--pretrain-epochs", "2", "--maxiter", "10",
                         "-v", "0", "-d", tmp_path / "run")
    assert rc == 0, err
    assert json.load(open(tmp_path / "run" / "config.json"))["data_options"] == {"image_size": 12}


def test_bad_image_folder_is_one_line(tmp_path):
    _write_png_folder(str(tmp_path / "imgs"), 30)
    (tmp_path / "imgs" / "digit0" / "broken.png").write_bytes(b"not an image")
    rc, out, err = train("--method", "FcDEC", "--dataset", tmp_path / "imgs", "-v", "0",
                         "-d", tmp_path / "run")
    assert rc == 2 and err.count("\n") == 1 and "broken.png: cannot decode the image (Unknown image file format" in err, err
    assert not os.path.exists(tmp_path / "run")
    from deckeras.readers import read_image_folder
    os.remove(tmp_path / "imgs" / "digit0" / "broken.png")
    _write_png_folder(str(tmp_path / "imgs" / "digit0"), 2, classes=False, size=16)
    with pytest.raises(ValueError, match="differ in size.*give --image-size N"):
        read_image_folder(str(tmp_path / "imgs"))


def test_label_column_flag(tmp_path):
    from sklearn.datasets import load_iris
    d = load_iris()
    path = tmp_path / "iris.csv"
    with open(path, "w") as f:
        f.write("sepal_length,sepal_width,petal_length,petal_width,species\n")
        for row, t in zip(d.data, d.target):
            f.write(",".join(map(str, row)) + f",{d.target_names[t]}\n")
    from deckeras.datasets import load_dataset
    with pytest.raises(ValueError, match="'setosa' is not a number; .* --label-column species"):
        load_dataset(str(path))
    rc, out, err = train("--method", "FcDEC", "--dataset", path, "--label-column", "species",
                         "--seed", "0", "--pretrain-epochs", "30", "--maxiter", "100", "-v", "0",
                         "-d", tmp_path / "b")
    assert rc == 0, err
    s = json.load(open(tmp_path / "b" / "summary.json"))
    assert s["acc"] > 0.6            # 3 classes scored from the species names


def test_estimate_n_clusters_finds_separated_blobs():
    from sklearn.datasets import make_blobs
    from deckeras import estimate_n_clusters
    x, _ = make_blobs(600, n_features=5, centers=4, cluster_std=0.5, random_state=0)
    k, scores = estimate_n_clusters(x, range(2, 9), random_state=0)
    assert k == 4 and set(scores) == set(range(2, 9))
    assert scores[4] == max(scores.values()) and scores[4] > 0.5
    with pytest.raises(ValueError, match="candidate k"):
        estimate_n_clusters(x[:5], range(2, 9))


def test_n_clusters_auto_is_chosen_and_recorded(tmp_path):
    rc, out, err = train("--method", "DCN", "--dataset", "digits", "--seed", "0",
                         "--n-clusters", "auto", "--pretrain-epochs", "3", "--maxiter", "30",
                         "-d", tmp_path / "r")
    assert rc == 0, err
    assert "n_clusters auto, silhouette" in out and "k=2 " in out
    cfg = json.load(open(tmp_path / "r" / "config.json"))
    choice = cfg["n_clusters_auto"]
    assert choice["criterion"] == "silhouette" and [s["k"] for s in choice["scores"]] == list(range(2, 21))
    assert cfg["params"]["n_clusters"] == choice["k"]
    assert len(set(labels_of(tmp_path / "r" / "labels.csv"))) <= choice["k"]
    rc, out, err = train("--method", "DCN", "--n-clusters", "0", "-d", tmp_path / "x")
    assert rc == 2 and "--n-clusters" in err


def test_progress_bar_on_a_terminal(tmp_path):
    import pty
    primary, secondary = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "deckeras", "train", "--method", "FcDEC",
                          "--dataset", "digits", "--seed", "0", "--pretrain-epochs", "3",
                          "--maxiter", "40", "-i", "20", "-d", str(tmp_path / "r")],
                         stdout=secondary, stderr=subprocess.PIPE, env=ENV, cwd=ROOT)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait(timeout=300)
    os.close(primary)
    text = b"".join(chunks).decode(errors="replace")
    assert p.returncode == 0, p.stderr.read()
    assert "3/3" in text and "40/40" in text and "loss:" in text and "acc:" in text, text
    assert "pretrain epoch" not in text          # the bar, not the log lines
    import re
    shown = [re.sub(r"\x1b\[[0-9;]*m", "", part).replace("\x08", "")
             for line in text.split("\n") for part in line.split("\r")]
    shown = [p for p in shown if not p.startswith("FcDEC on digits:")]   # the result names a path
    assert max(len(p.rstrip()) for p in shown) <= 80, max(shown, key=len)   # no wrapping
    assert sum(p.lstrip().startswith("40/40") for p in shown) == 1         # the end, once


def test_figures_a_reader_can_trust(run, tmp_path, monkeypatch):
    """The drawn figures, inspected before they are saved: legends, one colour
    per group in both embedding panels, delta-label 0 at 0 with the stopping
    tolerance drawn, a confusion matrix that names the run and is wide enough."""
    from deckeras import plots
    seen = {}
    real = plots._save

    def keep(fig, out, name):
        seen[name] = fig
        fig.canvas.draw()
        return real(fig, out, name)
    monkeypatch.setattr(plots, "_save", keep)
    plots.plot(str(run), str(tmp_path / "p"))
    emb = seen["embedding.png"].axes
    assert len(emb) == 2 and all(ax.get_legend() is not None for ax in emb)
    by_label = [{t.get_label(): tuple(t.get_facecolor()[0]) for t in ax.collections} for ax in emb]
    from deckeras.metrics import cluster_to_class
    labels = labels_of(run / "labels.csv")
    from deckeras import load_dataset
    _, y = load_dataset("digits")
    for c, k in cluster_to_class(y, labels).items():          # same group, same colour
        assert by_label[0][f"cluster {c}"] == by_label[1][f"class {k}"]
    assert len(set(by_label[1].values())) == len(by_label[1])      # classes told apart
    delta_ax = seen["clustering.png"].axes[1]
    assert delta_ax.get_yscale() == "symlog"
    assert any(abs(line.get_ydata()[0] - 0.001) < 1e-12 for line in delta_ax.lines[1:])  # tol
    assert all(t.get_text() for t in delta_ax.get_yticklabels())
    conf = seen["confusion.png"]
    assert "FcDEC on digits" in conf.axes[0].get_title()
    assert conf.get_size_inches()[0] >= 4.5
