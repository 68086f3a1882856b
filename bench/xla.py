#!/usr/bin/env python
"""XLA-compiled train steps (``jit_compile=True``) vs the default graph, in one run.

    python bench/xla.py [--methods FcDEC ConvDEC DCN] [--steps 60] [--reps 2]

For each method: pretraining seconds per 70,000-sample epoch and the
clustering step in ms, with and without XLA, on MNIST-shaped random data,
and the ratio XLA / default (< 1: XLA is faster). Variants alternate within
each repetition and the best repetition counts, so a noisy neighbour hurts
both alike. Compilation (tracing, XLA) is left out of both figures.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from deckeras.methods import make_method  # noqa: E402
from deckeras.models import base  # noqa: E402
from bench.throughput import pretrain_s_per_70k  # noqa: E402


def build(method, jit, x):
    m = make_method(method, "mnist", n_clusters=10, pretrain_epochs=0, maxiter=0,
                    kmeans_n_init=1, random_state=0, verbose=0, jit_compile=jit)
    m.fit(x[:2048])                       # builds the networks, k-means init
    n = len(x)
    if hasattr(m, "_P"):
        m._P = tf.Variable(tf.fill((n, m.n_clusters), 1.0 / m.n_clusters), trainable=False)
    else:
        m._S = tf.Variable(np.zeros(n, np.int32), trainable=False)
    run = m._make_train_step()
    rng = np.random.default_rng(0)
    per_call = m._steps_per_call(x)
    batches = [rng.choice(n, m.batch_size, replace=False).astype(np.int32)
               for _ in range(per_call)]
    return m, run, batches


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", nargs="+", default=["FcDEC", "ConvDEC", "DCN"])
    p.add_argument("--steps", type=int, default=60, help="mini-batches per pretraining timing")
    p.add_argument("--reps", type=int, default=2)
    a = p.parse_args()
    for method in a.methods:
        shape = (28, 28, 1) if "Conv" in method else (784,)
        x = np.random.default_rng(0).random((a.steps * 256,) + shape, dtype=np.float32)
        variants = {jit: build(method, jit, x) for jit in (False, True)}
        for m, run, batches in variants.values():        # trace both before timing
            m.pretrain(x[:4 * m.batch_size])
            np.asarray(run(*base._call_args(batches, x)))
        pre, step = {}, {}
        for _ in range(a.reps):
            for jit, (m, run, batches) in variants.items():
                s = pretrain_s_per_70k(m, x)
                pre[jit] = min(pre.get(jit, s), s)
                t = time.perf_counter()
                for _ in range(3):
                    out = run(*base._call_args(batches, x))
                np.asarray(out)
                s = (time.perf_counter() - t) / (3 * len(batches)) * 1e3
                step[jit] = min(step.get(jit, s), s)
        for jit in (False, True):
            print(f"{method} jit_compile={jit}: pretrain {pre[jit]:.2f} s per 70k epoch, "
                  f"clustering step {step[jit]:.2f} ms", flush=True)
        print(f"{method} ratio XLA / default: pretrain {pre[True] / pre[False]:.3f}, "
              f"clustering step {step[True] / step[False]:.3f}", flush=True)


if __name__ == "__main__":
    main()
