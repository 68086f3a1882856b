#!/usr/bin/env python
"""Throughput under tf.distribute: 1 device, 2 mirrored devices, 2 loopback workers.

    python bench/scaling.py [--n 8192] [--steps 32]

FcDEC's dense network on random MNIST-shaped data (timing does not depend on
the values), global batch 256: pretraining samples/s (compilation left out)
and clustering-step samples/s, for
  - one device (the default strategy),
  - a MirroredStrategy over 2 logical CPU devices of this machine,
  - a MultiWorkerMirroredStrategy of 2 worker processes on loopback ports.
On a 2-core machine the replicas share the same cores, so this measures the
overhead of distributing, not a speed-up: the ratios against one device are
printed beside each figure.
"""
import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def measure(distribute, n, steps):
    from throughput import built_method, cluster_step_s, pretrain_s_per_70k
    from deckeras.methods import make_method
    x = np.random.default_rng(0).random((n, 784), dtype=np.float32)
    pre = pretrain_s_per_70k(make_method("FcDEC", "mnist", protocol="paper", random_state=0, verbose=0,
                                         distribute=distribute), x)
    m = built_method("FcDEC", distribute=distribute)
    step = cluster_step_s(m, x, steps)
    return {"pretrain_samples_per_s": 70000 / pre, "cluster_samples_per_s": m.batch_size / step}


def two_workers(n, steps):
    from deckeras.distribute import loopback_tf_configs
    procs = []
    for cfg in loopback_tf_configs(2):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_CONFIG": cfg}
        procs.append(subprocess.Popen([sys.executable, __file__, "--worker", "--n", str(n),
                                       "--steps", str(steps)], env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outs = [p.communicate(timeout=1200) for p in procs]
    for p, (out, err) in zip(procs, outs):
        if p.returncode:
            raise SystemExit(f"worker failed: {err[-2000:]}")
    return json.loads(outs[0][0].strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=8192, help="samples per pretraining epoch timed")
    p.add_argument("--steps", type=int, default=32, help="clustering steps timed")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:                     # one of the loopback workers: the strategy comes first
        from deckeras.distribute import is_chief, multiworker_strategy
        multiworker_strategy()
        out = measure("multiworker", a.n, a.steps)
        if is_chief():
            print(json.dumps(out))
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from deckeras.host import machine
    print(f"machine: {json.dumps(machine())}")
    rows = {"1 device": measure(None, a.n, a.steps),
            "2 mirrored devices": measure(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]),
                                          a.n, a.steps),
            "2 loopback workers": two_workers(a.n, a.steps)}
    base = rows["1 device"]
    for name, r in rows.items():
        print(f"{name}: pretraining {r['pretrain_samples_per_s']:.0f} samples/s "
              f"({r['pretrain_samples_per_s'] / base['pretrain_samples_per_s']:.2f}x), "
              f"clustering {r['cluster_samples_per_s']:.0f} samples/s "
              f"({r['cluster_samples_per_s'] / base['cluster_samples_per_s']:.2f}x)", flush=True)


if __name__ == "__main__":
    main()
