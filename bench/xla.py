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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from bench.throughput import built_method, cluster_step_s, pretrain_s_per_70k  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", nargs="+", default=["FcDEC", "ConvDEC", "DCN"])
    p.add_argument("--steps", type=int, default=60, help="mini-batches per pretraining timing")
    p.add_argument("--reps", type=int, default=2)
    a = p.parse_args()
    for method in a.methods:
        shape = (28, 28, 1) if "Conv" in method else (784,)
        x = np.random.default_rng(0).random((a.steps * 256,) + shape, dtype=np.float32)
        variants = {jit: built_method(method, jit_compile=jit) for jit in (False, True)}
        for m in variants.values():                      # builds the optimizer
            m.pretrain(x[:4 * m.batch_size], epochs=1)
        pre, step = {}, {}
        for _ in range(a.reps):
            for jit, m in variants.items():
                s = pretrain_s_per_70k(m, x)
                pre[jit] = min(pre.get(jit, s), s)
                s = cluster_step_s(m, x, a.steps) * 1e3
                step[jit] = min(step.get(jit, s), s)
        for jit in (False, True):
            print(f"{method} jit_compile={jit}: pretrain {pre[jit]:.2f} s per 70k epoch, "
                  f"clustering step {step[jit]:.2f} ms", flush=True)
        print(f"{method} ratio XLA / default: pretrain {pre[True] / pre[False]:.3f}, "
              f"clustering step {step[True] / step[False]:.3f}", flush=True)


if __name__ == "__main__":
    main()
