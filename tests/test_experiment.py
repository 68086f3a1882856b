import csv
import os

import numpy as np
import pytest

from deckeras import experiment

ARGS = ["--pretrain-epochs", "1", "--maxiter", "10", "-i", "5"]


def _rows(root):
    with open(os.path.join(root, "results.csv")) as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def exp(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("exp") / "e")
    rc = experiment.main(["--trials", "2", "--methods", "FcDEC", "DCN", "--datasets", "digits",
                          "-d", root, "--reuse-pretrain"] + ARGS)
    assert rc == 0
    return root


def test_two_trials_produce_csv_and_summary(exp):
    rows = _rows(exp)
    assert [(r["method"], r["trial"], r["seed"]) for r in rows] == [
        ("FcDEC", "0", "0"), ("FcDEC", "1", "1"), ("DCN", "0", "0"), ("DCN", "1", "1")]
    assert all(r["status"] == "done" and 0 <= float(r["acc"]) <= 1 for r in rows)
    assert set(experiment.RESULT_FIELDS) == set(rows[0])
    for m, k in (("FcDEC", 0), ("DCN", 1)):
        d = experiment.trial_dir(exp, m, "digits", k)
        assert {"summary.json", "log.csv", "model_final.h5", "labels.csv"} <= set(os.listdir(d))
    md = open(os.path.join(exp, "summary.md")).read()
    with open(os.path.join(exp, "summary.png"), "rb") as f:     # ACC per method, drawn
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert "docs/algorithms.md" in md and os.path.isfile(os.path.join(root, "docs", "algorithms.md"))
    assert "k-means (raw)" in md and "| FcDEC | 2 |" in md and "| DCN | 2 |" in md
    with open(os.path.join(exp, "summary.csv")) as f:
        summ = list(csv.DictReader(f))
    fc = [s for s in summ if s["method"] == "FcDEC"][0]
    accs = [float(r["acc"]) for r in rows if r["method"] == "FcDEC"]
    assert float(fc["acc_mean"]) == pytest.approx(np.mean(accs), abs=1e-3)
    # DCN's trials reused FcDEC's pretraining (same autoencoder, data and seed here)
    assert [r["pretrain_reused"] for r in rows if r["method"] == "DCN"] == ["True", "True"]


def test_resume_redoes_nothing(exp):
    before = open(os.path.join(exp, "results.csv")).read()
    stamps = {p: os.path.getmtime(p) for p in _summaries(exp)}
    assert experiment.main(["--trials", "2", "--methods", "FcDEC", "DCN", "--datasets", "digits",
                            "-d", exp, "--reuse-pretrain"] + ARGS) == 0
    assert open(os.path.join(exp, "results.csv")).read() == before
    assert {p: os.path.getmtime(p) for p in _summaries(exp)} == stamps


def test_crashed_trial_is_rerun_cleanly(exp, capsys):
    d = experiment.trial_dir(exp, "FcDEC", "digits", 1)
    os.remove(os.path.join(d, "summary.json"))          # as if killed before finishing
    with open(os.path.join(d, "log.csv"), "w") as f:
        f.write("iter,acc\n0,0.1\n")                      # half-done leftovers
    others = {p: os.path.getmtime(p) for p in _summaries(exp) if "trial1" not in p or "DCN" in p}
    assert experiment.main(["--trials", "2", "--methods", "FcDEC", "DCN", "--datasets", "digits",
                            "-d", exp, "--reuse-pretrain"] + ARGS) == 0
    out = capsys.readouterr().out
    assert out.count("] FcDEC on digits, trial 1") == 1 and "trial 0" not in out.split("done in")[0]
    assert os.path.isfile(os.path.join(d, "summary.json"))
    assert {p: os.path.getmtime(p) for p in others} == others
    assert all(r["status"] == "done" for r in _rows(exp))


def test_failing_trial_is_recorded_and_others_go_on(tmp_path):
    x = np.random.default_rng(0).random((40, 7)).astype(np.float32)   # 7 features: no image
    np.save(tmp_path / "odd.npy", x)
    root = str(tmp_path / "e")
    rc = experiment.main(["--trials", "1", "--methods", "ConvDEC", "FcDEC", "--datasets",
                          str(tmp_path / "odd.npy"), "--n-clusters", "3", "-d", root] + ARGS)
    assert rc == 0
    rows = {r["method"]: r for r in _rows(root)}
    assert rows["ConvDEC"]["status"] == "failed" and "image" in rows["ConvDEC"]["error"]
    assert rows["FcDEC"]["status"] == "done"


def _summaries(root):
    return [os.path.join(dp, "summary.json") for dp, _, fs in os.walk(root) if "summary.json" in fs]


def test_second_invocation_keeps_earlier_rows(exp):
    assert experiment.main(["--trials", "1", "--methods", "FcIDEC", "--datasets", "digits",
                            "-d", exp] + ARGS) == 0
    rows = _rows(exp)
    assert {r["method"] for r in rows} == {"FcIDEC", "FcDEC", "DCN"}
    assert len(rows) == 5 and all(r["status"] == "done" for r in rows)


def test_unlabelled_baseline_is_not_reloaded_after_every_trial(tmp_path, monkeypatch):
    from deckeras import datasets
    np.save(tmp_path / "nolab.npy", np.random.default_rng(0).random((30, 4)).astype(np.float32))
    calls = []
    real = datasets.load_dataset

    def counting(*a, **k):
        calls.append(a)
        return real(*a, **k)
    monkeypatch.setattr(datasets, "load_dataset", counting)
    root = str(tmp_path / "e")
    for _ in range(3):
        assert experiment.kmeans_baseline(str(tmp_path / "nolab.npy"), [0, 1], root) == []
    assert len(calls) == 1


def test_summary_figure_shows_the_kmeans_baseline(exp, tmp_path, monkeypatch):
    from deckeras import plots
    seen = {}
    real = plots._save

    def keep(fig, out, name):
        seen[name] = fig
        return real(fig, out, name)
    monkeypatch.setattr(plots, "_save", keep)
    plots.plot_experiment(exp, str(tmp_path))
    with open(os.path.join(exp, "summary.csv")) as f:
        base = [float(s["acc_mean"]) for s in csv.DictReader(f) if s["method"] == "k-means (raw)"]
    ax = seen["summary.png"].axes[0]
    assert base and any(abs(line.get_ydata()[0] - base[0]) < 1e-9 for line in ax.lines)
    assert "k-means" in ax.get_legend().get_texts()[0].get_text()
