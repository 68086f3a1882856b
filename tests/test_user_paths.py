"""User paths that must end with one line on stderr, exit code 2 and nothing
half-written, found by trying deckeras as a new user would."""
import json
import os
import pickle

import numpy as np
import pytest

from deckeras import cli, commands, experiment

TINY = ["--pretrain-epochs", "2", "--maxiter", "20", "-i", "10", "--seed", "0", "-v", "0"]


def one_line(capsys, rc):
    err = capsys.readouterr().err
    lines = [l for l in err.splitlines() if l.strip()]
    assert rc == 2 and len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("run") / "fcdec")
    assert cli.main(["--method", "FcDEC", "--dataset", "digits", "-d", d] + TINY) == 0
    return d


def test_an_unwritable_output_is_one_line(finished, tmp_path, capsys):
    capsys.readouterr()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    under = str(blocker / "sub")
    msg = one_line(capsys, cli.main(["--method", "FcDEC", "--dataset", "digits", "-d", under] + TINY))
    assert "a-file" in msg
    msg = one_line(capsys, experiment.main(["--trials", "1", "--methods", "FcDEC", "--datasets",
                                            "digits", "-d", under, *TINY[:6]]))
    assert "a-file" in msg
    for args in (["plot", finished, "-o", under], ["predict", finished, "digits", "-o", under + "/l.csv"],
                 ["export", finished, "-o", under + "/m.keras"]):
        assert "a-file" in one_line(capsys, commands.main(args)), args
    assert blocker.read_text() == "not a folder"


def test_data_files_deckeras_refuses_are_named_in_one_line(tmp_path, capsys):
    capsys.readouterr()
    bad = {}
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    bad["obj.npy"] = "object array"
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 4)
    bad["bin.csv"] = "not a text file"
    (tmp_path / "semi.csv").write_text("a;b;label\n1;2;0\n3;4;1\n")
    bad["semi.csv"] = "separated by ';'"
    (tmp_path / "head.csv").write_text("a,b,label\n")
    bad["head.csv"] = "no data rows"
    for name, msg in bad.items():
        rc = cli.main(["--method", "FcDEC", "--dataset", str(tmp_path / name), "-d",
                       str(tmp_path / "o")] + TINY)
        line = one_line(capsys, rc)
        assert name in line and msg in line, line
        assert "Warning" not in line
    assert not os.path.exists(tmp_path / "o")


def test_a_refused_pickle_is_one_line(tmp_path, capsys):
    """Reuters' pickled .npy is read with the restricted unpickler; a pickle of
    anything but NumPy arrays is refused in one line."""
    capsys.readouterr()
    d = tmp_path / "data" / "reuters"
    d.mkdir(parents=True)
    with open(d / "reutersidf10k.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False,
                                                 "shape": ()})
        pickle.dump({"data": os.getcwd, "label": None}, f)
    rc = cli.main(["--method", "DEC", "--dataset", "reuters10k", "--data-dir",
                   str(tmp_path / "data"), "-d", str(tmp_path / "o")] + TINY)
    assert "refusing to unpickle" in one_line(capsys, rc)


def test_images_deckeras_cannot_use_say_so(tmp_path, capsys):
    import tensorflow as tf
    capsys.readouterr()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.png").write_bytes(b"not an image at all")
    line = one_line(capsys, cli.main(["--dataset", str(broken), "--n-clusters", "2", "-d",
                                      str(tmp_path / "o")] + TINY))
    assert "x.png" in line and "function_node" not in line and "[Op:" not in line
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for i, side in enumerate((8, 8, 12)):
        png = tf.io.encode_png(tf.zeros((side, side, 1), tf.uint8)).numpy()
        (mixed / f"{i}.png").write_bytes(png)
    line = one_line(capsys, cli.main(["--dataset", str(mixed), "--n-clusters", "2", "-d",
                                      str(tmp_path / "o")] + TINY))
    assert "--image-size" in line


def test_parameter_errors_name_the_flag(tmp_path, capsys):
    capsys.readouterr()
    line = one_line(capsys, cli.main(["--method", "FcDEC", "--dataset", "digits", "--lr", "-1",
                                      "-d", str(tmp_path / "o")] + TINY))
    assert line.startswith("error: --lr -1.0") and "lr ==" not in line


def test_run_exp_refuses_other_settings_in_a_folder_and_fails_when_every_trial_did(
        tmp_path, capsys):
    root = str(tmp_path / "exp")
    base = ["--trials", "1", "--methods", "FcDEC", "--datasets", "digits", "-d", root,
            "--pretrain-epochs", "2", "-i", "10"]
    assert experiment.main(base + ["--maxiter", "20"]) == 0
    capsys.readouterr()
    line = one_line(capsys, experiment.main(base + ["--maxiter", "30"]))
    assert "trial0" in line and "maxiter: 20 -> 30" in line
    assert experiment.main(base + ["--maxiter", "20"]) == 0        # the same settings: fine
    # every trial failing (k > samples of a tiny file) is exit 2, and the summary says so
    np.save(tmp_path / "tiny.npy", np.random.default_rng(0).random((5, 4)).astype("float32"))
    other = str(tmp_path / "exp2")
    rc = experiment.main(["--trials", "2", "--methods", "FcDEC", "--datasets",
                          str(tmp_path / "tiny.npy"), "--n-clusters", "9", "-d", other,
                          "--pretrain-epochs", "1", "--maxiter", "2"])
    err = capsys.readouterr().err
    assert rc == 2 and "every trial failed" in err
    assert "No trial has finished" in open(os.path.join(other, "summary.md")).read()


def test_quiet_runs_print_the_result_only_and_csv_ends_lines_with_lf(finished, tmp_path, capsys):
    capsys.readouterr()
    d = str(tmp_path / "quiet")
    assert cli.main(["--method", "FcDEC", "--dataset", "digits", "-d", d] + TINY) == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1 and out.startswith("FcDEC on digits: acc")
    for name in ("labels.csv", "log.csv", "pretrain_log.csv"):
        assert b"\r\n" not in open(os.path.join(d, name), "rb").read(), name


def test_export_refuses_to_overwrite(finished, tmp_path, capsys):
    out = tmp_path / "m.keras"
    assert commands.main(["export", finished, "-o", str(out)]) == 0
    before = out.read_bytes()
    capsys.readouterr()
    assert "exists" in one_line(capsys, commands.main(["export", finished, "-o", str(out)]))
    assert out.read_bytes() == before


def test_a_table_whose_width_is_a_square_is_not_an_image(tmp_path, capsys):
    """iris has 4 features: it is a table, not 2x2 images (no montage)."""
    from sklearn.datasets import load_iris
    iris = load_iris()
    path = tmp_path / "iris.csv"
    with open(path, "w") as f:
        f.write("a,b,c,d,label\n")
        for row, label in zip(iris.data, iris.target):
            f.write(",".join(f"{v:g}" for v in row) + f",{label}\n")
    d = str(tmp_path / "run")
    assert cli.main(["--method", "FcDEC", "--dataset", str(path), "-d", d] + TINY) == 0
    assert json.load(open(os.path.join(d, "config.json")))["image_shape"] is None
    assert commands.main(["plot", d]) == 0
    assert not os.path.exists(os.path.join(d, "plots", "montage.png"))
    assert os.path.exists(os.path.join(d, "plots", "embedding.png"))
    capsys.readouterr()
    line = one_line(capsys, cli.main(["--method", "FcDEC-DA", "--dataset", str(path), "-d",
                                      str(tmp_path / "da")] + TINY))
    assert "needs image data" in line and "flat samples are not images" in line


def test_input_far_outside_the_training_range_warns(finished, tmp_path, capsys):
    """digits runs are trained on pixels / 16; scikit-learn's raw 0-16 pixels
    are not what the model expects, and predict says so."""
    import warnings
    from sklearn.datasets import load_digits
    from deckeras import load_model
    raw = load_digits().data.astype("float32")
    model = load_model(finished)
    with pytest.warns(UserWarning, match=r"spans \[0, 16\].*fitted on values in \[0, 1\]"):
        model.predict(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(raw / 16)
    np.save(tmp_path / "raw.npy", raw)
    capsys.readouterr()
    assert commands.main(["predict", finished, str(tmp_path / "raw.npy"), "-o",
                          str(tmp_path / "l.csv")]) == 0
    err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
    assert len(err) == 1 and err[0].startswith("warning: ") and "fitted on values" in err[0]
