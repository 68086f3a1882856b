#!/usr/bin/env python
"""Does a milder augmentation rescue the -DA methods on 8x8 digits?

    python bench/digits_augment.py [--method FcDEC-DA] [--seeds 0 1 2]

For each (rotation degrees, shift fraction): the method on scikit-learn's
digits with 100 pretraining epochs and at most 500 clustering iterations
(the README's digits protocol), one fit per seed; prints the AE + k-means
start and the final ACC, then their means.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from deckeras.console import import_tensorflow  # noqa: E402

import_tensorflow()
import numpy as np  # noqa: E402

from deckeras import load_dataset, metrics  # noqa: E402
from deckeras.methods import make_method  # noqa: E402

VARIANTS = [(10.0, 0.1), (0.0, 0.1), (10.0, 0.0), (5.0, 0.05)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--method", default="FcDEC-DA")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    a = p.parse_args()
    x, y = load_dataset("digits")
    for rot, shift in VARIANTS:
        accs, inits = [], []
        for seed in a.seeds:
            t = time.time()
            m = make_method(a.method, "digits", n_clusters=10, pretrain_epochs=100, maxiter=500,
                            rotation=rot, shift=shift, random_state=seed).fit(x, y)
            accs.append(metrics.acc(y, m.labels_))
            inits.append(m.init_metrics_["acc"])
            print(f"{a.method} rotation {rot} shift {shift} seed {seed}: AE + k-means "
                  f"{inits[-1]:.3f} -> {accs[-1]:.3f} ({time.time() - t:.0f} s)", flush=True)
        print(f"== rotation {rot} shift {shift}: AE + k-means {np.mean(inits):.3f} -> "
              f"{np.mean(accs):.3f} +- {np.std(accs):.3f}", flush=True)


if __name__ == "__main__":
    main()
