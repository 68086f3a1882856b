"""Readers for the file formats data sets come in.

User data: ``.npy``, ``.npz``, ``.csv`` (optional label column) and ``.h5``.
Published data: IDX (MNIST/Fashion-MNIST), USPS ``.jf`` text files, and
pickles restricted to NumPy arrays (MNIST wheel, Reuters ``.npy``).
Every reader returns ``(x, y)`` with ``y`` possibly ``None`` and raises
``ValueError`` with one clear line for malformed input.
"""
import csv
import gzip
import importlib
import os
import pickle
import re
import warnings

import numpy as np
from sklearn.preprocessing import LabelEncoder

from .options import COLORS

LABEL_NAMES = ("label", "labels", "y", "target", "class")
X_KEYS = ("x", "X", "data", "features")
Y_KEYS = ("y", "Y", "label", "labels", "target")


class ArrayUnpickler(pickle.Unpickler):
    """Unpickler that builds NumPy arrays and plain containers, nothing else.

    Pickles from the internet can run arbitrary code when loaded with the
    plain unpickler; this one refuses every class but the few NumPy needs.
    """
    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"),
                ("numpy._core.multiarray", "_reconstruct"),
                ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar"),
                ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only NumPy arrays are allowed")
        module = module.replace("numpy.core.", "numpy._core.")
        return getattr(importlib.import_module(module), name)


def safe_unpickle(fileobj, encoding="latin1"):
    return ArrayUnpickler(fileobj, encoding=encoding).load()


def read_pickled_npy(path):
    """Load an object ``.npy`` (e.g. a pickled dict) with the restricted unpickler."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        _, _, dtype = read_header(f)
        if dtype.hasobject:
            try:
                obj = safe_unpickle(f)
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
                raise ValueError(f"{path}: {e}") from None
        else:
            f.seek(0)
            return np.load(f)
    return obj


def read_idx(path):
    """Read an IDX file (``.gz`` or plain), as MNIST and Fashion-MNIST ship."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: truncated IDX file ({data.size} of {int(np.prod(dims))} values)")
    return data.reshape(dims)


def read_jf(path):
    """Read a USPS ``.jf`` text file: first and last lines dropped, rows ``label v1..v256``."""
    with open(path) as f:
        lines = f.readlines()[1:-1]
    try:
        data = np.array([[float(v) for v in line.split()] for line in lines if line.strip()])
    except ValueError:
        raise ValueError(f"{path}: not a USPS .jf file (non-numeric values)") from None
    if data.ndim != 2 or data.shape[1] != 257:
        raise ValueError(f"{path}: expected rows of 1 label + 256 values")
    return data[:, 1:], data[:, 0].astype(np.int64)


def _pick(container, keys):
    for k in keys:
        if k in container:
            return k
    return None


def read_npy(path):
    arr = np.load(path, allow_pickle=False)
    return arr, None


def read_npz(path):
    with np.load(path, allow_pickle=False) as z:
        kx, ky = _pick(z.files, X_KEYS), _pick(z.files, Y_KEYS)
        if kx is None:
            if len(z.files) != 1:
                raise ValueError(f"{path}: no array named one of {X_KEYS} (has {z.files})")
            kx = z.files[0]
        return z[kx], (z[ky] if ky else None)


def read_h5(path):
    import h5py
    with h5py.File(path, "r") as f:
        if "train" in f and "test" in f:   # the common usps.h5 layout
            parts = [read_h5_group(f[s], path) for s in ("train", "test")]
            y = None if parts[0][1] is None else np.concatenate([p[1] for p in parts])
            return np.concatenate([p[0] for p in parts]), y
        return read_h5_group(f, path)


def read_h5_group(g, path):
    kx, ky = _pick(g, X_KEYS), _pick(g, Y_KEYS)
    if kx is None:
        raise ValueError(f"{path}: no dataset named one of {X_KEYS} (has {list(g.keys())})")
    return g[kx][()], (g[ky][()] if ky else None)


def read_csv(path, label_column=None):
    """Read a numeric CSV. A header row is detected; the label column is
    ``label_column`` (name or index) or, by default, a header named one of
    ``label, labels, y, target, class``.

    NumPy's C parser (``np.loadtxt``) reads the file: 100 MB in a fraction of
    the Python per-cell parse (``bench/csv_read.py``). When it refuses a
    file, the per-cell reader runs instead to name the offending row and column.
    """
    with open(path, newline="") as f:
        first = next((r for r in csv.reader(f) if r and any(c.strip() for c in r)), None)
    if first is None:
        raise ValueError(f"{path}: the file is empty")
    header = None if all(_is_number(c) for c in first) else [c.strip() for c in first]
    width = len(first)
    for sep in (";", "\t", "|"):
        if width == 1 and sep in first[0]:
            raise ValueError(f"{path}: the values seem separated by {sep!r}: deckeras reads "
                             "comma-separated files (replace the separator by ',')")
    lab = _label_index(label_column, header, width, path)
    feats = [j for j in range(width) if j != lab]
    opts = dict(delimiter=",", skiprows=1 if header else 0, comments=None, quotechar='"',
                ndmin=2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # "input contained no data": said below
            x = np.loadtxt(path, usecols=feats, dtype=np.float64, **opts)
            y = None
            if lab is not None:
                y = np.char.strip(np.loadtxt(path, usecols=[lab], dtype=str, **opts)[:, 0])
    except ValueError:
        return _read_csv_rows(path, label_column)
    if len(x) == 0:
        raise ValueError(f"{path}: the file has a header but no data rows")
    return x, (None if y is None else _encode_labels(y.tolist(), path))


def _read_csv_rows(path, label_column=None):
    """``read_csv`` cell by cell in Python: slow, but its errors say where."""
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"{path}: the file is empty")
    header = None
    if not all(_is_number(c) for c in rows[0]):
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    if not rows:
        raise ValueError(f"{path}: the file has a header but no data rows")
    width = len(rows[0])
    lab = _label_index(label_column, header, width, path)
    x = np.empty((len(rows), width - (lab is not None)), dtype=np.float64)
    y = [] if lab is not None else None
    for i, r in enumerate(rows):
        if len(r) != width:
            raise ValueError(f"{path}: row {i + 1 + (header is not None)} has {len(r)} columns, expected {width}")
        feats = [c for j, c in enumerate(r) if j != lab]
        for j, c in enumerate(feats):
            try:
                x[i, j] = float(c)
            except ValueError:
                name = header[j + (lab is not None and j >= lab)] if header else j + 1
                hint = (f"; if it holds the labels, say so with --label-column {name} "
                        f"(Python: label_column={name!r})" if lab is None else "")
                raise ValueError(f"{path}: row {i + 1 + (header is not None)}, column {name!s}: "
                                 f"{c!r} is not a number{hint}") from None
        if y is not None:
            y.append(r[lab].strip())
    if y is not None:
        y = _encode_labels(y, path)
    return x, y


def _is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def _label_index(label_column, header, width, path):
    if label_column is None:
        if header:
            for j, h in enumerate(header):
                if h.lower() in LABEL_NAMES:
                    return j
        return None
    if isinstance(label_column, int) or str(label_column).lstrip("-").isdigit():
        j = int(label_column)
        if not -width <= j < width:
            raise ValueError(f"{path}: label column {j} out of range (file has {width} columns)")
        return j % width
    if not header or label_column not in header:
        raise ValueError(f"{path}: no column named {label_column!r} in the header")
    return header.index(label_column)


def _encode_labels(values, path="labels"):
    """Integer labels as given, or text labels mapped to 0..C-1 in sorted order
    (scikit-learn's LabelEncoder). A number that is not a whole finite value
    ('nan', 'inf', '2.5') is an error that names the file and the row."""
    numeric = [_is_number(v) for v in values]
    if all(numeric):
        nums = np.array([float(v) for v in values])
        bad = ~np.isfinite(nums) | (nums != np.round(nums))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{path}: label {values[i]!r} (data row {i + 1}) is not a class: "
                             "labels must be whole numbers or text")
        return nums.astype(np.int64)
    return LabelEncoder().fit_transform(np.array(values)).astype(np.int64)


READERS = {".npy": read_npy, ".npz": read_npz, ".csv": read_csv,
           ".h5": read_h5, ".hdf5": read_h5}


def read_file(path, **kw):
    """Read user data from ``path`` by its extension."""
    ext = os.path.splitext(str(path))[1].lower()
    if ext not in READERS:
        raise ValueError(f"{path}: unsupported file type {ext!r}; use one of {sorted(READERS)}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    if os.path.getsize(path) == 0:
        raise ValueError(f"{path}: the file is empty")
    try:
        return READERS[ext](path, **kw) if ext == ".csv" else READERS[ext](path)
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not a text file (byte {e.start} is not UTF-8): a CSV must "
                         "be comma-separated text") from None
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise ValueError(f"{path}: holds Python objects (an object array), which deckeras "
                             "does not unpickle: save the data as a numeric array, e.g. "
                             "np.save(path, x.astype('float32'))") from None
        raise
    except FileNotFoundError:
        raise
    except Exception as e:  # h5py/zip/pickle errors on damaged files
        raise ValueError(f"{path}: cannot read the file ({type(e).__name__}: {e})") from None


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def _image_files(folder):
    return sorted(f for f in os.listdir(folder)
                  if f.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(folder, f)))


def class_names(path, label_column=None):
    """The class names behind the integer labels of a CSV file (its text
    labels, in the sorted order they are numbered in) or an image folder (its
    class subfolders); None when the labels are numbers or there are none."""
    path = os.fspath(path)
    if os.path.isdir(path):
        names = [d for d in sorted(os.listdir(path))
                 if os.path.isdir(os.path.join(path, d)) and _image_files(os.path.join(path, d))]
        return names or None
    if not path.lower().endswith(".csv"):
        return None
    with open(path, newline="") as f:
        rows = (r for r in csv.reader(f) if r and any(c.strip() for c in r))
        first = next(rows, None)
        if first is None or all(_is_number(c) for c in first):
            return None
        lab = _label_index(label_column, [c.strip() for c in first], len(first), path)
        if lab is None:
            return None
        values = {r[lab].strip() for r in rows if len(r) > lab}
    if not values or all(_is_number(v) for v in values):
        return None
    return sorted(values)


def read_image_folder(path, image_size=None, color="auto", out=None):
    """A folder of PNG/JPEG/BMP/GIF images as ``(x, y)``: ``x`` float32
    ``(N, H, W, C)`` in [0, 1], decoded by ``tf.io``.

    Labels follow Keras's ``image_dataset_from_directory``: with one
    subfolder per class, ``y`` numbers the classes in sorted name order (the
    images at the top are then ignored); without subfolders, ``y`` is None.
    ``image_size`` (an int: square, or ``(height, width)``) resizes every
    image (bilinear, antialiased); without it all images must already share
    one size. ``color``: ``'grey'`` (1 channel), ``'rgb'`` (3) or ``'auto'``
    (rgb when any image has colour). An unreadable image is a one-line
    ValueError naming it.

    With ``out`` (a ``.npy`` path) the images are decoded one at a time into
    that file and ``x`` is its ``deckeras.source.NpyRows``: a folder larger
    than memory. ``color='auto'`` then reads the folder twice (first to find
    whether any image has colour, stopping at the first that has).
    """
    if color not in COLORS:
        raise ValueError(f"color must be one of {COLORS}, got {color!r}")
    listed = {d: _image_files(os.path.join(path, d)) for d in sorted(os.listdir(path))
              if os.path.isdir(os.path.join(path, d))}
    classes = [d for d, names in listed.items() if names]
    if classes:
        files = [(os.path.join(path, c, f), k) for k, c in enumerate(classes) for f in listed[c]]
    else:
        files = [(os.path.join(path, f), None) for f in _image_files(path)]
    if not files:
        raise ValueError(f"{path}: no images (.png, .jpg, .jpeg, .bmp, .gif) in the folder "
                         "or its subfolders")
    y = np.array([k for _, k in files], np.int64) if classes else None
    size = None
    if image_size is not None:
        size = (int(image_size), int(image_size)) if np.ndim(image_size) == 0 else \
            tuple(int(s) for s in image_size)
        if min(size) < 1:
            raise ValueError(f"image size must be >= 1, got {image_size}")
    if out is None:
        images = [_decode_image(f) for f, _ in files]
        rgb = color == "rgb" or (color == "auto" and any(int(i.shape[-1]) >= 3 for i in images))
        if size is None:
            sizes = sorted({tuple(int(s) for s in i.shape[:2]) for i in images})
            if len(sizes) > 1:
                raise ValueError(_mixed_sizes(path, sizes))
            size = sizes[0]
        x = np.empty((len(images),) + size + (3 if rgb else 1,), np.float32)
        for n, img in enumerate(images):
            x[n] = _as_pixels(img, size, rgb)
        return x, y
    from .source import NpyRows, NpyWriter
    rgb = color == "rgb" or (color == "auto" and any(
        int(_decode_image(f).shape[-1]) >= 3 for f, _ in files))
    writer = None
    try:
        for f, _ in files:
            img = _decode_image(f)
            got = tuple(int(s) for s in img.shape[:2])
            if writer is None:
                size = size or got
                writer = NpyWriter(out, np.float32, size + (3 if rgb else 1,))
            elif image_size is None and got != size:
                raise ValueError(_mixed_sizes(path, [size, got]) + f" ({f} is {got[0]}x{got[1]})")
            writer.append(_as_pixels(img, size, rgb)[None])
        writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return NpyRows(out), y


def _mixed_sizes(path, sizes):
    return (f"{path}: the images differ in size ({', '.join('x'.join(map(str, s)) for s in sizes[:4])}"
            f"{', ...' if len(sizes) > 4 else ''}): give --image-size N (Python: "
            "image_size=N) to resize them all to N x N")


def _decode_image(f):
    """The decoded image file ``f`` (a uint8 tensor), or a one-line ValueError naming it."""
    import tensorflow as tf
    try:
        return tf.io.decode_image(tf.io.read_file(f), expand_animations=False)
    except (tf.errors.OpError, OSError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        # TensorFlow's text names its graph node ({{function_node ...}}, [Op:...])
        first = re.sub(r"\{\{.*?\}\}\s*|\s*\[Op:.*$", "", first).strip()[:120]
        raise ValueError(f"{f}: cannot decode the image ({first or type(e).__name__})") from None


def _as_pixels(img, size, rgb):
    """A decoded image as float32 ``size + (C,)`` in [0, 1]: alpha dropped,
    grey or rgb, resized when it is not ``size``."""
    import tensorflow as tf
    img = tf.cast(img[..., :3], tf.float32) / 255.0
    if rgb and img.shape[-1] == 1:
        img = tf.image.grayscale_to_rgb(img)
    elif not rgb and img.shape[-1] == 3:
        img = tf.image.rgb_to_grayscale(img)
    if tuple(img.shape[:2]) != size:
        img = tf.image.resize(img, size, antialias=True)
    return np.clip(img.numpy(), 0.0, 1.0)
