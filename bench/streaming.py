#!/usr/bin/env python
"""Training from disk: peak memory and samples per second against n.

    python bench/streaming.py DIR                      # n = 70,000, 700,000, 2,100,000
    python bench/streaming.py DIR --sizes 70000        # just the in-memory comparison
    python bench/streaming.py DIR --sizes 700000 --workers 2   # memory per loopback worker

Writes MNIST (uint8 pixels, 70,000 images) to ``DIR/mnist-70000.npy`` and,
for larger n, MNIST with augmentation (each further copy rotated and shifted
by ``deckeras.augment.random_affine``, seeded) to ``DIR/mnist-N.npy`` as
float32 (2.1 million images: 6.6 GB). Each file is made once and kept.

Then, each in a fresh process, FcDEC fits the file with a short fixed
schedule (1 pretraining epoch, ``--maxiter`` iterations with a target update
every ``--interval``): from the memory-mapped file (``np.load(path,
mmap_mode='r')``, which ``fit`` reads a mini-batch at a time), and for the
smallest n also from the same array loaded in memory. Printed per run: peak
RSS (the child's ``ru_maxrss``), the O(n x k) buffers it must hold (P,
labels, embedding), pretraining samples per second, and the time of every
phase. The streamed/in-memory throughput ratio comes from the same run.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CHILD = r"""
import json, resource, sys, time
import numpy as np
t0 = time.time()
from deckeras import DEC
path, mode, maxiter, interval, precision, distribute = sys.argv[1:7]
x = np.load(path, mmap_mode="r")
if mode == "memory":
    x = np.array(x)
n = len(x)
m = DEC(n_clusters=10, dims=[500, 500, 2000], embedding_dim=10, pretrain_epochs=1,
        pretrain_optimizer="adam", batch_size=256, maxiter=int(maxiter),
        update_interval=int(interval), tol=0.0, kmeans_n_init=4, scale="minmax",
        precision=precision, random_state=0, verbose=0,
        distribute=None if distribute == "none" else distribute)
t = time.time()
m.fit(x)
fit_s = time.time() - t
print(json.dumps({"n": n, "mode": mode, "peak_rss_mb": resource.getrusage(
    resource.RUSAGE_SELF).ru_maxrss / 1024, "pretrain_s": m.pretrain_time_,
    "cluster_s": m.cluster_time_, "fit_s": fit_s, "total_s": time.time() - t0,
    "precision": m.precision_, "labels_sha": __import__("hashlib").sha1(
        m.labels_.astype(np.int64).tobytes()).hexdigest()[:16]}))
"""


def make_file(folder, n):
    """``folder/mnist-n.npy``: MNIST itself for 70,000, else augmented copies (float32)."""
    path = os.path.join(folder, f"mnist-{n}.npy")
    if os.path.exists(path):
        return path
    from deckeras.datasets import load_dataset
    from deckeras.source import NpyWriter
    x, _ = load_dataset("mnist")                       # float32 / 255, (70000, 784)
    if n == len(x):
        np.save(path + ".tmp.npy", np.rint(x * 255).astype(np.uint8))
        os.replace(path + ".tmp.npy", path)
        return path
    import tensorflow as tf
    from deckeras.augment import random_affine
    t = time.time()
    with NpyWriter(path, np.float32, (784,)) as out:
        done = 0
        while done < n:
            for i in range(0, len(x), 10000):
                if done >= n:
                    break
                part = x[i:i + min(10000, n - done)]
                if done >= len(x):       # copies past the first: rotated and shifted
                    imgs = tf.reshape(part, (-1, 28, 28, 1))
                    part = tf.reshape(random_affine(imgs, 10.0, 0.1, seed=done), (-1, 784)).numpy()
                out.append(part)
                done += len(part)
    print(f"wrote {path} ({n} samples, {os.path.getsize(path) / 2 ** 30:.2f} GiB) in "
          f"{time.time() - t:.0f} s", flush=True)
    return path


def run(path, mode, maxiter, interval, precision, workers=1):
    """One fit in a child process; with ``workers`` > 1, that many children on
    loopback ports (``--distribute multiworker``): one result per worker."""
    from deckeras.distribute import loopback_tf_configs
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    cmd = [sys.executable, "-c", CHILD, path, mode, str(maxiter), str(interval), precision,
           "multiworker" if workers > 1 else "none"]
    configs = loopback_tf_configs(workers) if workers > 1 else [None]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=ROOT, env=dict(env, **({"TF_CONFIG": c} if c else {})))
             for c in configs]
    results = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode:
            raise SystemExit(err[-3000:])
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", help="where the .npy files are made and kept")
    p.add_argument("--sizes", type=int, nargs="+", default=[70000, 700000, 2100000])
    p.add_argument("--maxiter", type=int, default=200)
    p.add_argument("--interval", type=int, default=100)
    p.add_argument("--precision", default="auto")
    p.add_argument("--workers", type=int, default=1,
                   help="with 2 or more: that many loopback workers per run (--distribute "
                        "multiworker), each worker's peak RSS printed; both modes at every n")
    a = p.parse_args()
    os.makedirs(a.folder, exist_ok=True)
    print(f"host: {open('/proc/cpuinfo').read().count('processor')} cpus; "
          f"FcDEC (784-500-500-2000-10), batch 256, 1 pretraining epoch, {a.maxiter} "
          f"iterations, a target update every {a.interval}", flush=True)
    for n in sorted(a.sizes):
        path = make_file(a.folder, n)
        modes = ["memory", "stream"] if n == min(a.sizes) or a.workers > 1 else ["stream"]
        for mode in modes:
            rs = run(path, mode, a.maxiter, a.interval, a.precision, a.workers)
            if a.workers > 1:
                print(f"n={n:>9,} {mode:>6}, {a.workers} workers: peak RSS per worker "
                      + ", ".join(f"{r['peak_rss_mb']:.0f}" for r in rs) + " MiB; fit "
                      + ", ".join(f"{r['fit_s']:.1f}" for r in rs) + " s; labels "
                      + ", ".join(r["labels_sha"] for r in rs), flush=True)
                continue
            r = rs[0]
            buffers = n * (10 * 4 + 10 * 4 + 4 + 4 + 4) / 2 ** 20   # P, q, z, labels x2
            print(f"n={n:>9,} {mode:>6}: peak RSS {r['peak_rss_mb']:7.0f} MiB (O(n k) buffers "
                  f"~{buffers:.0f} MiB; data as float32 {n * 784 * 4 / 2 ** 20:.0f} MiB), "
                  f"pretraining {n / r['pretrain_s']:7.0f} samples/s, pretrain "
                  f"{r['pretrain_s']:.1f} s, clustering {r['cluster_s']:.1f} s, fit "
                  f"{r['fit_s']:.1f} s, process {r['total_s']:.1f} s ({r['precision']}), "
                  f"labels {r['labels_sha']}", flush=True)


if __name__ == "__main__":
    main()
