#!/usr/bin/env python
"""Per-step dispatch vs the in-graph training loop, in one run.

    python bench/loop.py [--method FcDEC] [--steps 100] [--reps 2]

Times ``pretrain`` on MNIST-shaped random data with one compiled call per
mini-batch (``STEPS_PER_CALL = 1``, how deckeras ran before) and with the
default (up to 64 mini-batches per call inside a ``tf.while_loop``), and
prints seconds per 70,000-sample epoch and the ratio.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from deckeras.methods import make_method  # noqa: E402
from deckeras import trainer  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", default="FcDEC")
    p.add_argument("--steps", type=int, default=100, help="mini-batches per timing")
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--precision", default="float32")
    a = p.parse_args()
    shape = (28, 28, 1) if "Conv" in a.method else (784,)
    m = make_method(a.method, "mnist", pretrain_epochs=1, random_state=0, precision=a.precision)
    x = np.random.default_rng(0).random((a.steps * m.batch_size,) + shape, dtype=np.float32)
    default = trainer.STEPS_PER_CALL
    m.pretrain(x[:4 * m.batch_size])               # build and trace
    best = {}
    for _ in range(a.reps):
        for per_call in (1, default):
            trainer.STEPS_PER_CALL = per_call
            t = time.perf_counter()
            m.pretrain(x)
            s = (time.perf_counter() - t) / len(x) * 70000
            best[per_call] = min(best.get(per_call, s), s)
    trainer.STEPS_PER_CALL = default
    print(f"{a.method}[{a.precision}] steps_per_call=1: {best[1]:.2f} s per 70k epoch")
    print(f"{a.method}[{a.precision}] steps_per_call={default} (cap {trainer.CALL_BYTES // (m.batch_size * x[:1].nbytes)}): "
          f"{best[default]:.2f} s per 70k epoch")
    print(f"ratio in-graph / per-step: {best[default] / best[1]:.3f}")


if __name__ == "__main__":
    main()
