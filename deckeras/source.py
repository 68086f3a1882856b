"""Data that stay on disk: ``fit``, ``predict`` and ``transform`` read them
a mini-batch or a chunk at a time instead of holding them in memory.

- ``NpyRows(path)``: the rows of a ``.npy`` file (any numeric dtype), read
  with ``pread`` as they are asked for, so the process's resident memory
  does not grow with the file (the kernel's page cache keeps what fits, as
  it would for any file read).
- ``NpyWriter``: writes such a file a chunk at a time when the number of
  samples is not known in advance (a ``tf.data.Dataset``, an image folder, a
  CSV), atomically.
- ``cache_dataset``: a ``tf.data.Dataset`` written once to a ``.npy`` file.
- ``Samples``: the view the trainer reads: rows converted to float32,
  scaled by the fitted scaling and shaped flat or as images, per read. It
  answers ``len``, ``shape``, ``x[i:j]`` and ``x[indices]`` as an array would.
- ``as_rows(x)``: the on-disk rows behind what ``fit`` was given (a
  memory-mapped array, ``NpyRows``, a ``Samples``, a dataset), or None for
  an array in memory.

What must stay in memory while training from disk is O(n x k): DEC's target
P (n x k floats), DCN's assignments, the labels, the embedding for the
k-means start (n x embedding_dim) and the outputs of a full-data pass.
"""
import hashlib
import os
import weakref

import numpy as np

__all__ = ["NpyRows", "NpyWriter", "Samples", "as_rows", "cache_dataset", "chunks_of",
           "CHUNK", "digest", "is_streamed", "temporary_npy"]

CHUNK = 8192               # rows a full-data statistic handles at a time, at most ...
CHUNK_BYTES = 32 * 2 ** 20  # ... and at most this many bytes of float32 samples
HEADER_BYTES = 128         # NpyWriter's fixed header (the shape is written last)


class NpyRows:
    """The rows of the ``.npy`` file ``path``, read on demand.

    ``rows[key]`` (a slice or an index array) returns those rows as a new
    NumPy array, read with ``pread``: a slice in one call, an index array
    one row per call. Nothing is mapped, so the process's resident memory
    holds what one read returns however large the file is (a memory map
    would count every page it touched, and Linux maps page-cache pages in
    large folios: up to a megabyte per row read).
    """

    def __init__(self, path, _cleanup=False):
        self.path = os.fspath(path)
        try:
            with open(self.path, "rb") as f:
                version = np.lib.format.read_magic(f)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read(f)
                offset = f.tell()
        except (ValueError, OSError) as e:
            raise ValueError(f"{self.path}: not a readable .npy file ({e})") from None
        if dtype.hasobject or not (np.issubdtype(dtype, np.number) or dtype == bool):
            raise ValueError(f"{self.path}: features must be numeric, got dtype {dtype}")
        if fortran:
            raise ValueError(f"{self.path}: the array is stored in Fortran order; save it "
                             "C-ordered (np.save(path, np.ascontiguousarray(x))) to read it by rows")
        if len(shape) < 2 or shape[0] == 0 or int(np.prod(shape[1:])) == 0:
            raise ValueError(f"{self.path}: expected an array of shape (n_samples, n_features) "
                             f"with at least one sample, got shape {shape}")
        self.shape, self.dtype, self.offset = tuple(int(s) for s in shape), dtype, offset
        self.row_bytes = int(np.prod(shape[1:])) * dtype.itemsize
        need = offset + self.shape[0] * self.row_bytes
        size = os.path.getsize(self.path)
        if size < need:
            raise ValueError(f"{self.path}: the file is cut short ({size} bytes, its header "
                             f"promises {need})")
        self._fd = None
        if _cleanup:                # a cache file of ours: removed with the last reference
            weakref.finalize(self, _remove, self.path)

    def _file(self):
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
            weakref.finalize(self, os.close, self._fd)
        return self._fd

    def __len__(self):
        return self.shape[0]

    @property
    def ndim(self):
        return len(self.shape)

    def __getitem__(self, key):
        n, rb = self.shape[0], self.row_bytes
        self._file()
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step != 1:
                return self[np.arange(start, stop, step)]
            out = np.empty((max(0, stop - start),) + self.shape[1:], self.dtype)
            self._read_into(memoryview(out).cast("B"), self.offset + start * rb)
            return out
        idx = np.asarray(key)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64, copy=False).ravel()
        idx = np.where(idx < 0, idx + n, idx)
        if len(idx) and (idx.min() < 0 or idx.max() >= n):
            raise IndexError(f"row index out of range for {n} rows")
        out = np.empty((len(idx),) + self.shape[1:], self.dtype)
        buf = memoryview(out).cast("B")
        for j, i in enumerate(idx.tolist()):
            self._read_into(buf[j * rb:(j + 1) * rb], self.offset + i * rb)
        return out

    def _read_into(self, buf, offset):
        got = os.preadv(self._fd, [buf], offset)
        while got < len(buf):         # a short read (large reads, signals)
            more = os.preadv(self._fd, [buf[got:]], offset + got)
            if more == 0:
                raise ValueError(f"{self.path}: the file was cut short while being read")
            got += more

    def __getstate__(self):
        return {"path": self.path}

    def __setstate__(self, state):
        self.__init__(state["path"])

    def __repr__(self):
        return f"NpyRows({self.path!r}, shape={self.shape}, dtype={self.dtype})"


def temporary_npy(folder=None, at_exit=False):
    """A new empty ``deckeras-*.npy`` file in ``folder`` (default the
    temporary folder) for a cache; with ``at_exit`` removed when the process
    exits (otherwise its ``NpyRows(path, _cleanup=True)`` removes it)."""
    import tempfile
    fd, path = tempfile.mkstemp(suffix=".npy", prefix="deckeras-", dir=folder)
    os.close(fd)
    if at_exit:
        import atexit
        atexit.register(_remove, path)
    return path


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


class NpyWriter:
    """Write a ``.npy`` file of samples a chunk at a time, its length unknown
    until ``close``: the data go after a fixed ``HEADER_BYTES`` header that
    is written last with the final shape. The file appears at ``path`` only
    when complete (written as ``path + '.part'``, then renamed)."""

    def __init__(self, path, dtype, sample_shape):
        self.path, self.dtype = os.fspath(path), np.dtype(dtype)
        self.sample_shape = tuple(int(s) for s in sample_shape)
        self.n = 0
        self._part = self.path + ".part"
        self._f = open(self._part, "wb")
        self._f.write(b"\0" * HEADER_BYTES)

    def append(self, rows):
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        if tuple(rows.shape[1:]) != self.sample_shape:
            raise ValueError(f"a sample of shape {tuple(rows.shape[1:])} among samples of shape "
                             f"{self.sample_shape}")
        self._f.write(rows.data)
        self.n += len(rows)

    def close(self):
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                  "shape": (self.n,) + self.sample_shape}
        text = repr(header).encode("latin1")
        pad = HEADER_BYTES - 10 - len(text) - 1
        if pad < 0:
            raise ValueError(f"shape {header['shape']} too long for the cache header")
        self._f.seek(0)
        self._f.write(b"\x93NUMPY\x01\x00" + np.uint16(HEADER_BYTES - 10).tobytes()
                      + text + b" " * pad + b"\n")
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        os.replace(self._part, self.path)
        return self.path

    def abort(self):
        self._f.close()
        _remove(self._part)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.close()
        else:
            self.abort()


class Samples:
    """Rows of an on-disk source as the network takes them: float32, times
    ``scale`` plus ``offset`` per feature (the fitted scaling, or none), in
    ``sample_shape`` (flat ``(D,)`` or an image ``(H, W, C)``).

    The arithmetic is the in-memory path's, row by row, so a run on a file
    trains on the very values it would have had in memory.
    """

    def __init__(self, rows, scale=None, offset=None, sample_shape=None):
        self.rows, self.scale, self.offset = rows, scale, offset
        self.sample_shape = tuple(sample_shape or rows.shape[1:])
        self.dtype = np.dtype(np.float32)

    def __len__(self):
        return len(self.rows)

    @property
    def shape(self):
        return (len(self.rows),) + self.sample_shape

    @property
    def ndim(self):
        return 1 + len(self.sample_shape)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self[int(key):int(key) + 1][0] if key >= 0 else self[len(self) + key]
        raw = self.rows[key]
        flat = np.asarray(raw, np.float32).reshape(len(raw), -1)
        if self.scale is not None:
            flat = (flat * self.scale + self.offset).astype(np.float32, copy=False)
        return flat.reshape((len(raw),) + self.sample_shape)

    def __array__(self, dtype=None, copy=None):
        raise TypeError("a Samples view is read in chunks (x[i:j]), not as one array")

    def __repr__(self):
        return f"Samples({self.rows!r}, sample_shape={self.sample_shape})"


def chunks_of(x, size=None):
    """``x[i:i + size]`` for i = 0, size, ...: an array or a source; by
    default ``CHUNK`` rows or ``CHUNK_BYTES`` of float32 values, the fewer."""
    if size is None:
        size = max(1, min(CHUNK, CHUNK_BYTES // (4 * max(1, int(np.prod(x.shape[1:]))))))
    for i in range(0, len(x), size):
        yield x[i:i + size]


def is_streamed(x):
    return isinstance(x, (NpyRows, Samples))


def as_rows(x, name="X", cache_dir=None):
    """The on-disk rows behind ``x`` and the labels it carries:
    ``(rows, y)``, or ``(None, None)`` for an array in memory.

    - an ``NpyRows`` or ``Samples`` (its rows);
    - a memory-mapped array (``np.load(path, mmap_mode='r')``, ``np.memmap``)
      that covers its whole ``.npy`` file: read through ``NpyRows``; another
      memory map is read as it is;
    - a ``tf.data.Dataset``: written once to a ``.npy`` file in ``cache_dir``
      (default: the system's temporary folder), removed when no longer used.
    """
    if isinstance(x, Samples):
        return x.rows, None
    if isinstance(x, NpyRows):
        return x, None
    if isinstance(x, np.memmap):
        path = getattr(x, "filename", None)
        if path and str(path).endswith(".npy") and x.flags.c_contiguous:
            rows = NpyRows(path)
            if rows.shape == x.shape and rows.dtype == x.dtype and rows.offset == x.offset:
                return rows, None
        return x, None
    if _is_dataset(x):
        return cache_dataset(x, cache_dir=cache_dir, name=name)
    return None, None


def _is_dataset(x):
    mod = type(x).__module__
    return mod.startswith("tensorflow") and hasattr(x, "element_spec") and hasattr(x, "unbatch")


def cache_dataset(ds, path=None, cache_dir=None, name="X"):
    """Write a ``tf.data.Dataset`` of samples, or of ``(sample, label)``
    pairs, to a ``.npy`` file, reading it once; returns ``(NpyRows, y)``.

    Elements whose first dimension is unknown (``None``, as after
    ``.batch()``) are batches and are unbatched; others are single samples.
    Without ``path`` the file goes to ``cache_dir`` (or the temporary folder)
    and is removed when the returned rows are no longer referenced.
    """
    import tensorflow as tf
    spec = ds.element_spec
    labelled = isinstance(spec, tuple)
    if labelled and len(spec) != 2:
        raise ValueError(f"{name}: a dataset of samples or of (sample, label) pairs, got "
                         f"elements of {len(spec)} parts")
    xspec = spec[0] if labelled else spec
    if not isinstance(xspec, tf.TensorSpec):
        raise ValueError(f"{name}: dataset elements must be tensors, got {xspec}")
    if xspec.shape.rank and xspec.shape[0] is None:
        ds = ds.unbatch()
        xspec = ds.element_spec[0] if labelled else ds.element_spec
    dtype = np.dtype(xspec.dtype.as_numpy_dtype)
    if not (np.issubdtype(dtype, np.number) or dtype == bool):
        raise ValueError(f"{name}: features must be numeric, got dtype {xspec.dtype.name}")
    if not xspec.shape.is_fully_defined() or xspec.shape.rank == 0:
        raise ValueError(f"{name}: every sample must have one known shape, got {xspec.shape}")
    if np.issubdtype(dtype, np.floating) and dtype.itemsize > 4:
        dtype = np.dtype(np.float32)
    cleanup = path is None
    if path is None:
        path = temporary_npy(cache_dir)
    labels = []
    try:
        with NpyWriter(path, dtype, xspec.shape.as_list()) as out:
            for batch in ds.batch(1024).as_numpy_iterator():
                if labelled:
                    batch, yb = batch
                    labels.append(np.asarray(yb).reshape(len(batch), -1)[:, 0])
                out.append(batch)
    except BaseException:
        if cleanup:
            _remove(path)
        raise
    if out.n == 0:
        _remove(path)
        raise ValueError(f"{name}: the dataset has no samples")
    y = np.concatenate(labels) if labelled else None
    return NpyRows(path, _cleanup=cleanup), y


def digest(x):
    """sha1 (16 hex digits) of the float32 bytes of ``x`` (an array or a
    source), read in chunks: the same value for the same values either way."""
    h = hashlib.sha1()
    if not is_streamed(x):
        h.update(np.ascontiguousarray(x).data)
    else:
        for part in chunks_of(x):
            h.update(np.ascontiguousarray(part).data)
    return h.hexdigest()[:16]
