"""Atomic file writing: a crash never leaves a half-written result."""
import contextlib
import csv
import json
import os
import tempfile

__all__ = ["atomic_path", "write_json", "write_csv", "append_csv", "read_json"]


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    ``suffix`` is appended to the temporary name (Keras insists on
    ``.weights.h5`` for some writers). On an exception the temporary file is
    removed and ``path`` is left as it was. The file ends with the permissions
    a plain ``open(path, "w")`` gives (0666 less the umask), not the private
    0600 of a temporary file, so results stay readable by the user's group.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp" + suffix, dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask():
    mask = os.umask(0)       # reading the umask means setting it: put it back at once
    os.umask(mask)
    return mask


def write_json(path, obj):
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True, default=_jsonable)
            f.write("\n")


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_csv(path, rows, fieldnames):
    """Write ``rows`` (dicts) to ``path`` as CSV (LF line ends), atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fieldnames, extrasaction="ignore",
                               lineterminator="\n")
            w.writeheader()
            w.writerows(rows)


def _jsonable(o):
    import numpy as np
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)


def append_csv(path, row, fieldnames):
    """Append one row to the CSV at ``path`` (written whole, with its header,
    when it does not exist yet). A log grows by one line per event instead of
    being rewritten; whoever resumes a run rewrites it whole first."""
    if not os.path.isfile(path):
        write_csv(path, [row], fieldnames)
        return
    with open(path, "a", newline="") as f:
        csv.DictWriter(f, fieldnames=fieldnames, extrasaction="ignore",
                       lineterminator="\n").writerow(row)
