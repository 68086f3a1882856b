"""Data read from disk: a memory-mapped .npy, a tf.data.Dataset, an image
folder or a CSV under --stream train exactly as the same samples in memory,
resume, refuse a changed file, and train to the end with a file several
times larger than a memory limit the test sets."""
import json
import os
import shlex
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from deckeras import DCN, DEC
from deckeras import callbacks
from deckeras.checkpoint import SettingsMismatch
from deckeras.source import NpyRows, NpyWriter, Samples

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KW = dict(n_clusters=10, dims=[32], embedding_dim=5, pretrain_epochs=3, batch_size=64,
          pretrain_optimizer="adam", maxiter=40, update_interval=10, tol=0.0,
          kmeans_n_init=2, random_state=0)


@pytest.fixture(scope="module")
def pixels(small_digits):
    """The 600 digits as their raw 0..16 values (uint8), with their labels."""
    x, y = small_digits
    return np.rint(x * 16).astype(np.uint8), y


def _logs(m):
    return [{k: v for k, v in row.items() if k != "time_s"} for row in m.history_]


def test_writer_makes_a_npy_numpy_reads_and_rows_read_it_back(tmp_path):
    x = np.arange(7 * 3 * 2, dtype=np.float32).reshape(7, 3, 2)
    path = str(tmp_path / "x.npy")
    with NpyWriter(path, np.float32, (3, 2)) as w:
        w.append(x[:4])
        assert not os.path.exists(path)               # only whole files appear
        w.append(x[4:])
    np.testing.assert_array_equal(np.load(path), x)
    rows = NpyRows(path)
    assert rows.shape == (7, 3, 2) and len(rows) == 7
    np.testing.assert_array_equal(rows[[6, 0, 6, -1]], x[[6, 0, 6, -1]])
    np.testing.assert_array_equal(rows[2:5], x[2:5])
    np.testing.assert_array_equal(rows[::3], x[::3])
    with pytest.raises(IndexError):
        rows[[7]]
    with pytest.raises(ValueError, match="a sample of shape"), NpyWriter(str(tmp_path / "b.npy"),
                                                                        np.float32, (3, 2)) as w:
        w.append(np.zeros((2, 6), np.float32))
    assert not os.path.exists(tmp_path / "b.npy") and not os.path.exists(tmp_path / "b.npy.part")
    # a file cut short is refused when opened, with its name
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 8)
    with pytest.raises(ValueError, match=r"x\.npy: the file is cut short"):
        NpyRows(path)


def test_samples_scale_and_shape_rows_as_the_in_memory_path_does(tmp_path):
    x = np.random.default_rng(0).integers(0, 255, (50, 4, 4)).astype(np.uint8)
    np.save(tmp_path / "x.npy", x)
    a = np.float32([0.5] * 16)
    c = np.float32(np.arange(16) / 7)
    view = Samples(NpyRows(tmp_path / "x.npy"), a, c, (4, 4, 1))
    flat = x.reshape(50, -1).astype(np.float32)
    want = (flat * a + c).astype(np.float32).reshape(50, 4, 4, 1)
    assert view.shape == (50, 4, 4, 1) and len(view) == 50
    np.testing.assert_array_equal(view[[3, 1]], want[[3, 1]])
    np.testing.assert_array_equal(view[10:20], want[10:20])
    np.testing.assert_array_equal(view[-1], want[-1])
    with pytest.raises(TypeError, match="chunks"):
        np.asarray(view)


@pytest.mark.parametrize("cls", [DEC, DCN])
def test_memory_mapped_npy_and_a_dataset_train_as_the_array_does(cls, pixels, tmp_path):
    x, y = pixels
    path = str(tmp_path / "x.npy")
    np.save(path, x)
    ref = cls(**KW).fit(x, y)
    mapped = cls(**KW).fit(np.load(path, mmap_mode="r"), y)
    assert np.array_equal(mapped.labels_, ref.labels_)
    assert _logs(mapped) == _logs(ref)
    np.testing.assert_array_equal(mapped.input_range_, ref.input_range_)
    # a batched dataset of (sample, label) pairs: the labels come along for the logs
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(100)
    streamed = cls(**KW).fit(ds)
    assert np.array_equal(streamed.labels_, ref.labels_)
    assert _logs(streamed) == _logs(ref) and "acc" in streamed.history_[-1]
    # predict, transform and scores read the file in chunks and agree with the array
    rows = NpyRows(path)
    assert np.array_equal(ref.predict(rows), ref.predict(x))
    np.testing.assert_array_equal(ref.transform(rows), ref.transform(x))
    with pytest.raises(ValueError, match="y given twice"):
        cls(**KW).fit(ds, y)


def test_an_unbatched_dataset_of_images_trains_and_bad_ones_are_one_line(pixels):
    x, y = pixels
    ds = tf.data.Dataset.from_tensor_slices(x.reshape(-1, 8, 8))
    m = DEC(**{**KW, "arch": "conv", "filters": [4, 8, 4], "maxiter": 10}).fit(ds)
    assert m.image_shape_ == (8, 8, 1) and m.labels_.shape == (600,)
    with pytest.raises(ValueError, match="features must be numeric"):
        DEC(**KW).fit(tf.data.Dataset.from_tensor_slices(["a", "b"]))
    with pytest.raises(ValueError, match="no samples"):
        DEC(**KW).fit(tf.data.Dataset.from_tensor_slices(np.zeros((0, 4), np.float32)))
    with pytest.raises(ValueError, match="NaN or infinite values .first in sample 3"):
        bad = x.astype(np.float32)
        bad[3, 5] = np.nan
        DEC(**KW).fit(tf.data.Dataset.from_tensor_slices(bad))


def test_a_streamed_run_resumes_and_a_changed_file_is_refused(pixels, tmp_path, monkeypatch):
    x, y = pixels
    path = str(tmp_path / "x.npy")
    np.save(path, x)
    monkeypatch.setattr(callbacks, "CHECKPOINT_SECONDS", 0)
    ref = DEC(**KW).fit(x)
    d = str(tmp_path / "run")

    class Crash(keras.callbacks.Callback):
        calls = 0

        def on_train_batch_end(self, batch, logs=None):
            Crash.calls += 1
            if Crash.calls == 6:                     # in clustering
                raise RuntimeError("crash")
    with pytest.raises(RuntimeError):
        DEC(save_dir=d, **KW).fit(NpyRows(path), callbacks=[Crash()])
    resumed = DEC(save_dir=d, **KW)
    assert resumed.resume_point(NpyRows(path)).startswith("clustering iteration")
    assert np.array_equal(resumed.fit(NpyRows(path)).labels_, ref.labels_)
    # the file shrinks, or one value changes: another run's checkpoint
    np.save(path, x[:-1])
    with pytest.raises(SettingsMismatch):
        DEC(save_dir=d, **KW).fit(NpyRows(path))
    changed = x.copy()
    changed[0, 0] += 1
    np.save(path, changed)
    with pytest.raises(SettingsMismatch):
        DEC(save_dir=d, **KW).fit(NpyRows(path))


def test_main_py_stream_on_an_image_folder_and_a_csv(pixels, tmp_path, capsys):
    from deckeras import cli
    x, y = pixels
    folder = tmp_path / "imgs"
    for i in range(120):
        d = folder / f"class{y[i]}"
        d.mkdir(parents=True, exist_ok=True)
        img = tf.constant((x[i] * 15).astype(np.uint8).reshape(8, 8, 1))
        tf.io.write_file(str(d / f"{i:03d}.png"), tf.io.encode_png(img))
    common = ["--method", "FcDEC", "--seed", "0", "--pretrain-epochs", "2", "--maxiter", "20",
              "--update-interval", "10", "--batch-size", "32", "-v", "0"]
    runs = {}
    for mode in ("memory", "stream"):
        d = str(tmp_path / mode)
        assert cli.main(["--dataset", str(folder), *common, "-d", d,
                         *(["--stream"] if mode == "stream" else [])]) == 0
        runs[mode] = open(os.path.join(d, "labels.csv")).read()
    assert runs["stream"] == runs["memory"]
    assert np.load(tmp_path / "stream" / "data.npy", mmap_mode="r").shape == (120, 8, 8, 1)
    with open(tmp_path / "stream" / "config.json") as f:
        assert json.load(f)["data_options"] == {"stream": True}
    # an image that cannot be decoded, met mid-stream: one line naming it
    (folder / "class1" / "zz.png").write_bytes(b"not a png")
    capsys.readouterr()
    assert cli.main(["--dataset", str(folder), *common, "-d", str(tmp_path / "bad"),
                     "--stream"]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "zz.png: cannot decode the image" in err
    assert not os.path.exists(tmp_path / "bad" / "data.npy")
    # a CSV is loaded once and written to the run folder's data.npy
    csv = tmp_path / "t.csv"
    np.savetxt(csv, np.c_[x[:200].reshape(200, -1), y[:200]], delimiter=",", fmt="%d",
               header=",".join([f"f{i}" for i in range(64)] + ["label"]), comments="")
    assert cli.main(["--dataset", str(csv), *common, "-d", str(tmp_path / "csv"),
                     "--stream"]) == 0
    assert "acc" in capsys.readouterr().out
    assert np.load(tmp_path / "csv" / "data.npy", mmap_mode="r").shape == (200, 64)


CHILD = """
import json, sys
import numpy as np
from deckeras import DEC
from deckeras.metrics import evaluate
x = np.load(sys.argv[1], mmap_mode="r")
m = DEC(n_clusters=4, dims=[16], embedding_dim=4, pretrain_epochs=1, pretrain_optimizer="adam",
        maxiter=10, update_interval=10, tol=0.0, batch_size=256, kmeans_n_init=1, scale="none",
        random_state=0, verbose=0).fit(x)
print(json.dumps({"iterations": m.n_iter_, **evaluate(np.arange(len(x)) % 4, m.labels_)}))
"""


class MemoryLimit:
    """A cgroup of its own (v2, else v1's memory controller) whose memory,
    page cache included, is limited to ``limit`` bytes; None where this
    process may not make one (not root, no memory controller)."""

    def __init__(self, limit):
        self.limit, self.path, self.v2 = limit, None, False
        name = f"deckeras-test-{os.getpid()}"
        v2 = "/sys/fs/cgroup"
        try:
            if "memory" in open(os.path.join(v2, "cgroup.controllers")).read().split():
                self.path, self.v2 = os.path.join(v2, name), True
                os.mkdir(self.path)
                self._write("memory.max", limit)
                self._write("memory.swap.max", 0)
                return
        except OSError:
            pass
        try:
            self.path, self.v2 = os.path.join(v2, "memory", name), False
            os.mkdir(self.path)
            self._write("memory.limit_in_bytes", limit)
        except OSError:
            self.path = None

    def _write(self, name, value):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(str(value))

    def enter_command(self):
        """A shell prefix that moves the command's process into the group."""
        return f"echo $$ > {self.path}/cgroup.procs && exec "

    def times_limited(self):
        """How often the group hit its limit (and had its pages reclaimed)."""
        if self.v2:
            events = dict(line.split() for line in open(os.path.join(self.path, "memory.events")))
            return int(events["max"])
        return int(open(os.path.join(self.path, "memory.failcnt")).read())

    def remove(self):
        if self.path:
            os.rmdir(self.path)


def test_a_file_larger_than_a_memory_limit_trains_to_the_end(tmp_path):
    """A 960 MiB .npy (4 clusters of 4,096 features) under a 640 MiB limit on the
    whole process, page cache included: the training reads it a mini-batch at
    a time, the limit is hit (the data cannot all stay), and the run ends
    with the clusters found."""
    limit = 640 * 2 ** 20
    group = MemoryLimit(limit)
    if group.path is None:
        pytest.skip("no memory cgroup can be made here (needs root and a memory controller)")
    try:
        d, size = 4096, 3 * limit // 2
        n = size // (4 * d)
        rng = np.random.default_rng(0)
        centres = rng.normal(0, 1, (4, d)).astype(np.float32)
        noise = (0.5 * rng.standard_normal((2048, d))).astype(np.float32)
        path = str(tmp_path / "big.npy")
        with NpyWriter(path, np.float32, (d,)) as w:
            for i in range(0, n, 2048):
                m = min(2048, n - i)
                w.append(centres[np.arange(i, i + m) % 4] + np.roll(noise, i // 2048, 0)[:m])
        assert os.path.getsize(path) >= size
        fd = os.open(path, os.O_RDONLY)           # start cold: out of the page cache
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
        cmd = group.enter_command() + " ".join(map(shlex.quote, [sys.executable, "-c", CHILD, path]))
        r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, cwd=ROOT,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        assert r.returncode == 0, r.stderr[-2000:]
        result = json.loads(r.stdout.strip().splitlines()[-1])
        assert result["iterations"] == 10 and result["acc"] > 0.99
        assert group.times_limited() > 0
    finally:
        group.remove()


def test_a_worker_reads_only_the_rows_its_replicas_train_on():
    from deckeras.training import call_args
    x = np.arange(40, dtype=np.float32).reshape(20, 2) + 1
    batches = [np.array([5, 3, 9, 1, 0, 2, 7], np.int32), np.array([4, 8, 6], np.int32)]
    idx, bounds, whole = call_args(batches, x)
    seen = []
    for first, last in [(0, 1), (1, 2), (2, 4)]:         # replicas of 4: one worker each
        _, _, xs = call_args(batches, x, share=(first, last, 4))
        mine = [j for lo, hi in zip(bounds[:-1], bounds[1:])
                for j in range(lo + first * (hi - lo) // 4, lo + last * (hi - lo) // 4)]
        np.testing.assert_array_equal(xs[mine], whole[mine])
        assert not xs[[j for j in range(len(idx)) if j not in mine]].any()
        seen += mine
    assert sorted(seen) == list(range(len(idx)))          # every row read by one worker


def test_full_passes_split_between_workers_add_up_to_the_whole():
    from deckeras.training import PREDICT_BATCH, compile_pass, full_pass
    x = np.random.default_rng(0).random((3 * PREDICT_BATCH + 100, 3), dtype=np.float32)
    fn = compile_pass(lambda xb: xb * 2.0 + 1.0)
    whole = full_pass(fn, x)
    parts = [full_pass(fn, x, share=(w, 2, lambda v: v)) for w in (0, 1)]
    assert all(p.shape == whole.shape for p in parts)
    assert not (parts[0] != 0).all(1)[PREDICT_BATCH:2 * PREDICT_BATCH].any()   # call 1: worker 1
    np.testing.assert_array_equal(parts[0] + parts[1], whole)
