#!/usr/bin/env python
"""Reading a 100 MB CSV: NumPy's parser (read_csv) against the per-cell Python parse.

    python bench/csv_read.py [--rows 120000] [--cols 100]

Writes a labelled CSV of random floats (6 decimals) into a temporary folder,
reads it with ``deckeras.readers.read_csv`` (np.loadtxt) and with
``_read_csv_rows`` (the Python reader it falls back to for error messages),
checks both give the same arrays, and prints the seconds of each and their ratio.
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from deckeras import readers  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=120000)
    p.add_argument("--cols", type=int, default=100)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "big.csv")
        x = rng.random((a.rows, a.cols))
        y = rng.integers(0, 10, a.rows)
        with open(path, "w") as f:
            f.write(",".join([f"f{j}" for j in range(a.cols)] + ["label"]) + "\n")
            np.savetxt(f, np.column_stack([x, y]), fmt=["%.6f"] * a.cols + ["%d"], delimiter=",")
        print(f"file: {os.path.getsize(path) / 1e6:.0f} MB, {a.rows} rows x {a.cols} features + label")
        times = {}
        for name, fn in (("numpy (read_csv)", readers.read_csv),
                         ("python (_read_csv_rows)", readers._read_csv_rows)):
            t = time.perf_counter()
            xs, ys = fn(path)
            times[name] = time.perf_counter() - t
            assert np.allclose(xs, x, atol=1e-6) and np.array_equal(ys, y)
            print(f"{name}: {times[name]:.2f} s", flush=True)
        print(f"ratio python / numpy: {times['python (_read_csv_rows)'] / times['numpy (read_csv)']:.1f}x")


if __name__ == "__main__":
    main()
