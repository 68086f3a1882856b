#!/usr/bin/env python
"""Is a CPU better used by one trial on all its cores or by one trial a core?

    python bench/parallel_trials.py                                  # ConvDEC-DA and FcDEC, float32
    python bench/parallel_trials.py --methods ConvDEC-DA --precision mixed_bfloat16 --steps 40

Times a pretraining epoch (MNIST-sized random data, timed as throughput.py
times it) first in one process on every core, then in one process per
core, each pinned to its core with one TensorFlow thread, all timing the
same epochs at once. Prints the seconds per 70,000-sample epoch of each and
the ratio of the pinned processes' summed throughput to the lone process's:
above 1, running a benchmark's trials side by side finishes them sooner.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker(a):
    if a.core is not None:
        os.sched_setaffinity(0, {a.core})
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, ROOT)
    import numpy as np
    import tensorflow as tf
    if a.core is not None:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    from deckeras.methods import make_method

    from throughput import pretrain_s_per_70k   # bench/ is this script's own folder on sys.path

    shape = (28, 28, 1) if "Conv" in a.method else (784,)
    m = make_method(a.method, "mnist", protocol="paper", random_state=0, verbose=0, precision=a.precision)
    batch = m.batch_size
    x = np.random.default_rng(0).random((a.steps * batch,) + shape, dtype=np.float32)
    m.pretrain(x[:2 * batch], epochs=1)            # load and trace once before the clock
    print("ready", flush=True)
    sys.stdin.readline()                            # all workers start together
    print(json.dumps({"s_per_70k": pretrain_s_per_70k(m, x)}), flush=True)


def run_together(method, precision, steps, cores):
    """Start one worker per entry of ``cores`` (None: unpinned), release them at
    once, return each one's seconds per 70,000-sample epoch."""
    procs = []
    for core in cores:
        cmd = [sys.executable, __file__, "--worker", "--methods", method, "--precision", precision,
               "--steps", str(steps)] + ([] if core is None else ["--core", str(core)])
        procs.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    for p in procs:
        if p.stdout.readline().strip() != "ready":
            err = (p.communicate()[1].strip().splitlines() or ["no message"])[-1]
            raise SystemExit(f"a worker failed before timing: {err}")
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    out = [json.loads(p.stdout.readline())["s_per_70k"] for p in procs]
    for p in procs:
        p.communicate()   # its log lines (TensorFlow's start-up notices) are dropped
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", nargs="+", default=["ConvDEC-DA", "FcDEC"])
    p.add_argument("--precision", default="float32")
    p.add_argument("--steps", type=int, default=40, help="mini-batches per timed epoch")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--core", type=int, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        a.method = a.methods[0]
        return worker(a)
    cores = sorted(os.sched_getaffinity(0))
    print(f"cores {len(cores)}  precision {a.precision}", flush=True)
    for method in a.methods:
        alone = run_together(method, a.precision, a.steps, [None])[0]
        pinned = run_together(method, a.precision, a.steps, cores)
        ratio = sum(alone / s for s in pinned)
        print(f"{method}: one process on {len(cores)} cores {alone:.1f} s an epoch; "
              f"{len(cores)} pinned processes {', '.join(f'{s:.1f}' for s in pinned)} s each; "
              f"summed throughput {ratio:.2f}x the lone process's", flush=True)


if __name__ == "__main__":
    main()
