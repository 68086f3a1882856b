"""Test-time augmentation after a finished image run, tried as a route past
ConvDEC-DA's MNIST figure: the soft assignments of the clean images and of
K augmented views (DEC-DA's rotation and shift, seeded) averaged, then the
argmax. Prints ACC of the clean view, of each augmented view alone and of
the running mean (arithmetic and geometric) after each view.

    python bench/tta.py RUN_DIR [--views 8] [--seed 0]

Changes nothing in RUN_DIR.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--views", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    from deckeras.augment import random_affine
    from deckeras.metrics import evaluate
    from self_label import load_run
    m, x, y = load_run(a.run)
    q = m.predict_proba(x)
    print(f"clean  {evaluate(y, q.argmax(1))}", flush=True)
    mean, logs = q.copy(), np.log(q + 1e-12)
    block = 2048
    for k in range(a.views):
        xa = np.concatenate([random_affine(x[i:i + block], seed=a.seed * 100003 + k * 1009 + i // block)
                             .numpy() for i in range(0, len(x), block)])
        qa = m.predict_proba(xa)
        mean += qa
        logs += np.log(qa + 1e-12)
        print(f"view {k + 1}  alone {evaluate(y, qa.argmax(1))['acc']:.4f}  "
              f"mean {evaluate(y, mean.argmax(1))['acc']:.4f}  "
              f"geometric {evaluate(y, logs.argmax(1))['acc']:.4f}", flush=True)


if __name__ == "__main__":
    main()
