#!/usr/bin/env python
"""Seconds per 70k MNIST epoch of FcDEC's pretraining at several batch sizes, in one run.

    python bench/batch_epoch.py [--batches 128 256] [--reps 2]

FcDEC's MNIST pretraining as the default runs it (SGD(1, 0.9), masking noise
0.2, the default precision), two epochs per fit; the second epoch is timed
(the first compiles). The batch sizes alternate, ``--reps`` times, and the
best of each is printed with the ratio of each to the last one given.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", nargs="+", type=int, default=[128, 256])
    ap.add_argument("--reps", type=int, default=2)
    a = ap.parse_args()
    from deckeras.console import import_tensorflow
    import_tensorflow()
    from deckeras.datasets import load_dataset
    from deckeras.methods import make_method
    x = load_dataset("mnist")[0]
    best = {}
    for rep in range(a.reps):
        for b in a.batches:
            m = make_method("FcDEC", "mnist", random_state=0, pretrain_epochs=2, batch_size=b,
                            verbose=0).pretrain(x)
            h = m.pretrain_history_
            s = h[1]["time_s"] - h[0]["time_s"]
            best[b] = min(best.get(b, s), s)
            print(f"batch {b}, repeat {rep}: {s:.2f} s (precision {m.precision_})", flush=True)
    ref = best[a.batches[-1]]
    for b, s in best.items():
        print(f"batch {b}: {s:.2f} s per 70k epoch (best of {a.reps}), {s / ref:.3f}x batch {a.batches[-1]}")


if __name__ == "__main__":
    main()
