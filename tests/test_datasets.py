import gzip
import io
import os
import pickle

import h5py
import numpy as np
import pytest

from deckeras import datasets, readers
from deckeras.datasets import load_dataset


def test_digits_flat_and_images():
    x, y = load_dataset("digits")
    assert x.shape == (1797, 64) and x.dtype == np.float32 and y.dtype == np.int64
    assert 0 <= x.min() and x.max() <= 1.0
    xi, _ = load_dataset("digits", image=True)
    assert xi.shape == (1797, 8, 8, 1)


def test_synthetic_is_dcn_four_blobs():
    x, y = load_dataset("synthetic")
    assert x.shape == (10000, 100) and np.bincount(y).tolist() == [2500] * 4
    x2, y2 = datasets.make_synthetic(n_per_cluster=50, seed=3)
    x3, y3 = datasets.make_synthetic(n_per_cluster=50, seed=3)
    np.testing.assert_array_equal(x2, x3)


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown data set 'nope'"):
        load_dataset("nope")


def test_missing_named_sets_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="usps_train.jf"):
        load_dataset("usps", data_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="reutersidf10k"):
        load_dataset("reuters10k", data_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="stl_features.npy"):
        load_dataset("stl", data_dir=str(tmp_path))


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_dataset("/nonexistent/x.npy")


def test_csv_with_label_column(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,label,b\n1,3,2\n4,1,5.5\n7,3,8\n")
    x, y = load_dataset(str(p))
    np.testing.assert_array_equal(x, [[1, 2], [4, 5.5], [7, 8]])
    np.testing.assert_array_equal(y, [3, 1, 3])


def test_csv_without_header_or_labels(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("1,2\n3,4\n")
    x, y = load_dataset(str(p))
    assert x.shape == (2, 2) and y is None
    x, y = load_dataset(str(p), label_column=0)
    np.testing.assert_array_equal(y, [1, 3])


def test_csv_text_in_feature_column(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,label\n1,2,0\n3,oops,1\n")
    with pytest.raises(ValueError, match=r"row 3, column b: 'oops' is not a number"):
        load_dataset(str(p))


def test_empty_files(tmp_path):
    for ext in (".csv", ".npy", ".h5"):
        p = tmp_path / f"e{ext}"
        p.write_bytes(b"")
        with pytest.raises(ValueError, match="empty"):
            load_dataset(str(p))


def test_nan_and_inf_rejected(tmp_path):
    x = np.ones((5, 4), np.float32)
    x[2, 1] = np.nan
    p = tmp_path / "n.npy"
    np.save(p, x)
    with pytest.raises(ValueError, match="NaN or infinite values .first in sample 2"):
        load_dataset(str(p))
    x[2, 1] = np.inf
    np.save(p, x)
    with pytest.raises(ValueError, match="NaN or infinite"):
        load_dataset(str(p))


def test_wrong_shapes(tmp_path):
    p = tmp_path / "v.npy"
    np.save(p, np.arange(5.0))
    with pytest.raises(ValueError, match="n_samples, n_features"):
        load_dataset(str(p))
    p = tmp_path / "xy.npz"
    np.savez(p, x=np.ones((4, 3)), y=np.arange(3))
    with pytest.raises(ValueError, match="3 labels for 4 samples"):
        load_dataset(str(p))


def test_npz_npy_h5_roundtrip(tmp_path):
    x = np.random.default_rng(0).random((6, 9)).astype(np.float32)
    y = np.arange(6) % 2
    np.savez(tmp_path / "a.npz", x=x, y=y)
    np.save(tmp_path / "b.npy", x.reshape(6, 3, 3))
    with h5py.File(tmp_path / "c.h5", "w") as f:
        f["data"], f["labels"] = x, y
    xa, ya = load_dataset(str(tmp_path / "a.npz"))
    xb, yb = load_dataset(str(tmp_path / "b.npy"), image=True)
    xc, yc = load_dataset(str(tmp_path / "c.h5"))
    np.testing.assert_array_equal(xa, x); np.testing.assert_array_equal(ya, y)
    assert xb.shape == (6, 3, 3, 1) and yb is None
    np.testing.assert_array_equal(xc, x); np.testing.assert_array_equal(yc, y)


def test_corrupt_h5(tmp_path):
    p = tmp_path / "bad.h5"
    p.write_bytes(b"not an hdf5 file at all" * 10)
    with pytest.raises(ValueError, match="cannot read"):
        load_dataset(str(p))


def test_usps_jf_reader_and_scaling(tmp_path):
    rng = np.random.default_rng(0)
    d = tmp_path / "usps"
    d.mkdir()
    for name, n in (("usps_train.jf", 5), ("usps_test.jf", 3)):
        rows = ["%d %s" % (i % 10, " ".join("%.4f" % v for v in rng.uniform(-1, 1, 256)))
                for i in range(n)]
        (d / name).write_text("10 256\n" + "\n".join(rows) + "\n-1\n")
    x, y = load_dataset("usps", data_dir=str(tmp_path), image=True)
    assert x.shape == (8, 16, 16, 1) and y.tolist() == [0, 1, 2, 3, 4, 0, 1, 2]
    assert -0.5 <= x.min() and x.max() <= 0.5            # DEC-DA divides by 2


def test_reuters_pickled_npy(tmp_path):
    d = tmp_path / "reuters"
    d.mkdir()
    x = np.random.default_rng(0).random((7, 20)).astype(np.float32)
    np.save(d / "reutersidf10k.npy", {"data": x, "label": np.arange(7) % 4})
    xr, yr = load_dataset("reuters10k", data_dir=str(tmp_path))
    np.testing.assert_array_equal(xr, x)
    assert yr.tolist() == [0, 1, 2, 3, 0, 1, 2]


def test_restricted_unpickler_refuses_code():
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    blob = pickle.dumps(Evil())
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        readers.safe_unpickle(io.BytesIO(blob))
    arr = readers.safe_unpickle(io.BytesIO(pickle.dumps(np.arange(4))))
    assert arr.tolist() == [0, 1, 2, 3]


def test_mnist_pickle_checksum_is_checked():
    blob = gzip.compress(pickle.dumps(((np.zeros((2, 784)), np.zeros(2)),) * 3))
    with pytest.raises(ValueError, match="checksum mismatch"):
        datasets.mnist_from_pickle_bytes(blob)


def test_idx_reader(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = bytes([0, 0, 8, 3]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape) + arr.tobytes()
    p = tmp_path / "t-idx3-ubyte.gz"
    p.write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(readers.read_idx(str(p)), arr)
    p.write_bytes(gzip.compress(raw[:-5]))
    with pytest.raises(ValueError, match="truncated"):
        readers.read_idx(str(p))


MNIST_NPZ = os.path.join("data", "mnist", "mnist.npz")


@pytest.mark.mnist
@pytest.mark.skipif(not os.path.isfile(MNIST_NPZ), reason="MNIST not fetched (python -m deckeras.datasets fetch mnist)")
def test_real_mnist():
    x, y = load_dataset("mnist-test")
    assert x.shape == (10000, 784) and x.max() == 1.0
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_datasets_command_line(capsys):
    assert datasets._main(["list"]) == 0
    out = capsys.readouterr().out
    assert "mnist" in out and "digits" in out and "synthetic" in out
    assert datasets._main(["fetch", "nosuch"]) == 2
    assert "unknown data set" in capsys.readouterr().err


@pytest.mark.parametrize("label", ["nan", "inf", "2.5"])
def test_a_csv_label_that_is_no_class_names_the_file(tmp_path, label):
    p = tmp_path / "lab.csv"
    p.write_text(f"a,b,label\n1,2,0\n3,4,{label}\n5,6,1\n")
    with pytest.raises(ValueError, match=rf"lab.csv: label '{label}' \(data row 2\) is not a class"):
        readers.read_csv(str(p))


def test_csv_text_labels_and_quoted_numbers(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text('x1,x2,class\n"1.5",2,cat\n3, 4 ,dog\n5,6,cat\n')
    x, y = readers.read_csv(str(p))
    np.testing.assert_array_equal(x, [[1.5, 2], [3, 4], [5, 6]])
    assert y.tolist() == [0, 1, 0]


def test_reuters_and_stl_files_are_seen_as_available_and_list_says_so(tmp_path, capsys):
    from deckeras.datasets import _main, dataset_available
    assert not dataset_available("reuters10k", str(tmp_path))
    assert not dataset_available("stl", str(tmp_path))
    (tmp_path / "reuters").mkdir()
    np.savez(tmp_path / "reuters" / "reutersidf10k.npz", x=np.ones((5, 3), np.float32))
    (tmp_path / "stl").mkdir()
    np.save(tmp_path / "stl" / "stl_features.npy", np.ones((4, 6), np.float32))
    assert dataset_available("reuters10k", str(tmp_path)) and dataset_available("stl", str(tmp_path))
    assert _main(["list", "--data-dir", str(tmp_path)]) == 0
    rows = {l.split()[0]: l for l in capsys.readouterr().out.splitlines()}
    assert "available" in rows["reuters10k"] and "available" in rows["digits"]
    assert "missing" in rows["usps"]
    # a Reuters file without labels loads as unlabelled, not as one label [None]
    x, y = load_dataset("reuters10k", data_dir=str(tmp_path))
    assert x.shape == (5, 3) and y is None
