#!/usr/bin/env python
"""What checkpoints cost: one save beside the training it protects, in one run.

    python bench/checkpoint_cost.py
    python bench/checkpoint_cost.py --methods FcDEC --saves 3

For each method on MNIST's shape (70,000 random samples' worth of state:
DEC's P or DCN's assignments, the labels), and for FcDEC on scikit-learn's
digits, prints the seconds of one checkpoint save (``tf.train.CheckpointManager``
into a temporary folder on the same disk as ``--dir``), the seconds of the
training between two saves (one update interval of clustering steps; ten
pretraining epochs), and the ratio: the fraction of time checkpointing adds.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from throughput import built_method, cluster_step_s, pretrain_s_per_70k  # noqa: E402

from deckeras.checkpoint import Checkpointer  # noqa: E402
from deckeras.methods import make_method, method_params  # noqa: E402
from deckeras import host  # noqa: E402


def save_s(m, n, folder, saves):
    """Best seconds of one checkpoint of ``m`` with per-sample state for ``n`` samples."""
    m._make_train_state(n)
    ckpt = Checkpointer(folder, {"bench": True})
    state = {"phase": "cluster", "ite": 0, "history": [{"iter": i, "loss": 0.1} for i in range(100)]}
    best = float("inf")
    for _ in range(saves):
        t = time.perf_counter()
        ckpt.save(state, m._checkpoint_objects("cluster"))
        best = min(best, time.perf_counter() - t)
    latest = os.path.basename(tf.train.latest_checkpoint(ckpt.folder))
    return best, sum(os.path.getsize(os.path.join(ckpt.folder, f))
                     for f in os.listdir(ckpt.folder) if f.startswith(latest + "."))


def report(name, save, size, interval_s, epoch_s):
    print(f"{name}: one save {save * 1e3:.0f} ms ({size / 2 ** 20:.1f} MiB); "
          f"clustering interval {interval_s:.2f} s -> +{save / interval_s:.1%}; "
          f"10 pretraining epochs {10 * epoch_s:.1f} s -> +{save / (10 * epoch_s):.2%}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--methods", nargs="+", default=["FcDEC", "ConvDEC-DA", "DCN"])
    p.add_argument("--saves", type=int, default=5)
    p.add_argument("--steps", type=int, default=128, help="clustering steps timed")
    p.add_argument("--dir", default=".", help="where the temporary checkpoints go")
    a = p.parse_args()
    print(f"machine: {host.machine()}")
    for method in a.methods:
        folder = tempfile.mkdtemp(dir=a.dir)
        try:
            m = built_method(method)
            shape = (28, 28, 1) if m.arch == "conv" else (784,)
            xs = np.random.default_rng(0).random((4096,) + shape, dtype=np.float32)
            step = cluster_step_s(m, xs, a.steps)
            interval = method_params(method, "mnist")["update_interval"] or -(-70000 // 256)
            epoch = pretrain_s_per_70k(make_method(method, "mnist", random_state=0), xs[:2048])
            save, size = save_s(m, 70000, folder, a.saves)
            report(f"{method} (MNIST shape)", save, size, interval * step, epoch)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    from deckeras.datasets import load_dataset
    x, _ = load_dataset("digits")
    folder = tempfile.mkdtemp(dir=a.dir)
    try:
        m = make_method("FcDEC", "digits", pretrain_epochs=0, maxiter=0, random_state=0).fit(x)
        step = cluster_step_s(m, x, a.steps)
        epoch = pretrain_s_per_70k(make_method("FcDEC", "digits", random_state=0), x) * len(x) / 70000
        save, size = save_s(m, len(x), folder, a.saves)
        report("FcDEC (digits)", save, size, m.update_interval * step, epoch)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
