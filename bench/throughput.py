#!/usr/bin/env python
"""Throughput of every phase on MNIST-sized input, beside this machine's matmul peak.

    python bench/throughput.py                     # FcDEC, ConvDEC, DCN, +/- augmentation
    python bench/throughput.py --quick             # fewer steps
    python bench/throughput.py --methods FcDEC DCN --precisions float32 mixed_bfloat16
    python bench/throughput.py --json out.json

Prints one line per figure, ``name value unit``, and the network's achieved
GFLOP/s as a fraction of the dense matmul peak measured in the same run.
Random data of MNIST's shape is used (timing does not depend on the values).
FLOPs: 2 per multiply-add, a training step = 3x the forward pass.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from deckeras.augment import augment  # noqa: E402
from deckeras.methods import make_method  # noqa: E402
from deckeras import host  # noqa: E402
from deckeras.trainer import Trainer  # noqa: E402
from deckeras.training import call_args  # noqa: E402


def matmul_seconds(m, k, n, ta=False, tb=False, reps=20, rounds=3):
    """Best mean seconds of ``op(A) @ op(B)``, op(A) (m, k) and op(B) (k, n),
    ``op`` a transpose where ``ta`` / ``tb``: one compiled op per call."""
    a = tf.random.normal((k, m) if ta else (m, k))
    b = tf.random.normal((n, k) if tb else (k, n))
    f = tf.function(lambda a, b: tf.linalg.matmul(a, b, transpose_a=ta, transpose_b=tb))
    f(a, b).numpy()
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(reps):
            c = f(a, b)
        c.numpy()
        best = min(best, (time.perf_counter() - t) / reps)
    return best


def matmul_peak(n=2048, reps=20):
    return 2 * n ** 3 / matmul_seconds(n, n, n, reps=reps) / 1e9


def forward_flops(model):
    """FLOPs of one sample's forward pass through Dense / Conv / ConvTranspose layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2DTranspose):
            kh, kw, cout, cin = layer.kernel.shape
            h, w = layer.input.shape[1:3]
            total += 2 * kh * kw * cin * cout * h * w
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            h, w = layer.output.shape[1:3]
            total += 2 * kh * kw * cin * cout * h * w
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
    return total


def timed(fn, n):
    fn()                       # trace and warm up
    t = time.perf_counter()
    for _ in range(n):
        out = fn()
    np.asarray(out)
    return (time.perf_counter() - t) / n


def pretrain_s_per_70k(m, x):
    """Seconds per 70,000-sample pretraining epoch of ``m`` on ``x``, compilation excluded.

    ``pretrain`` compiles its step on every call, so the time of a 1-epoch
    call is taken from that of a 3-epoch call: two epochs of steps alone.
    """
    took = []
    for epochs in (1, 3):
        t = time.perf_counter()
        m.pretrain(x, epochs=epochs)
        took.append(time.perf_counter() - t)
    return (took[1] - took[0]) / (2 * len(x)) * 70000


def built_method(method, **params):
    """An MNIST-configured estimator, built and k-means-initialised on 2,048
    random samples of MNIST's shape, no pretraining, no clustering iterations.
    Paper protocol: the network's own cost, without FcDEC's default masking
    noise on MNIST (bench/vs_keras2.py times the defaults, noise included)."""
    m = make_method(method, "mnist", protocol="paper", n_clusters=10, pretrain_epochs=0, maxiter=0,
                    kmeans_n_init=1, random_state=0, verbose=0, **params)
    shape = (28, 28, 1) if "Conv" in method else (784,)
    m.fit(np.random.default_rng(1).random((2048,) + shape, dtype=np.float32))
    return m


def cluster_step_s(m, xs, steps, reps=1):
    """Seconds per clustering step of ``m`` on ``xs``, in graph calls as fit()
    runs them and timed with each call's gather of samples; best of ``reps``."""
    n = len(xs)
    t = Trainer(m, m._nets, xs)  # optimizer for the current networks, per-sample state for xs
    t.make_pretrain_state(0)
    t.make_train_state()
    t.state.lamda = getattr(m, "lamda_", None)
    fn, options = m._train_step(m._nets, t.optimizer, t.cluster_vars, t.state)
    run = t.compile(fn, **options)
    per_call = min(steps, t.per_call)
    rng = np.random.default_rng(0)
    batches = [rng.choice(n, m.batch_size, replace=False).astype(np.int32)
               for _ in range(per_call)]
    calls = max(1, steps // per_call)
    return min(timed(lambda: run(*call_args(batches, xs)), calls)
               for _ in range(reps)) / per_call


def bench_method(method, x, steps, report, peak, precision="float32"):
    image = "Conv" in method
    xs = x.reshape(-1, 28, 28, 1) if image else x
    m = built_method(method, precision=precision)
    if precision != "float32":
        method = f"{method}[{precision}]"
    flops = forward_flops(m.autoencoder_)
    n, b = len(xs), m.batch_size

    # pretraining: `steps` mini-batches per epoch through the same code as pretrain(),
    # on an estimator of its own (pretrain() starts over with fresh networks)
    sub = xs[: steps * b]
    rate = 70000 / pretrain_s_per_70k(make_method(
        method.split("[")[0], "mnist", protocol="paper", random_state=0, verbose=0,
        precision=precision), sub)
    report(f"{method}.pretrain_samples_per_s", rate, "samples/s")
    report(f"{method}.pretrain_gflops", rate * 3 * flops / 1e9, "GFLOP/s")
    report(f"{method}.pretrain_fraction_of_peak", rate * 3 * flops / 1e9 / peak, "")
    report(f"{method}.pretrain_s_per_70k_epoch", 70000 / rate, "s")

    # clustering: the compiled step alone, then a full-data target update
    step_s = cluster_step_s(m, xs, steps)
    update_s = timed(lambda: m._on_update(xs), 2)
    interval = m.update_interval or -(-n // b)
    per_iter = step_s + update_s / interval
    report(f"{method}.cluster_step_ms", step_s * 1e3, "ms")
    report(f"{method}.target_update_s", update_s, "s")
    report(f"{method}.cluster_ms_per_iter_incl_updates", per_iter * 1e3, "ms")
    report(f"{method}.cluster_iters_per_s", 1 / per_iter, "it/s")
    # the step trains model_ (encoder [+ decoder]); DCN re-encodes the batch once more
    step_flops = 3 * forward_flops(m.model_) + (forward_flops(m.encoder_) if hasattr(m, "_S") else 0)
    report(f"{method}.cluster_step_gflops", b * step_flops / step_s / 1e9, "GFLOP/s")
    report(f"{method}.cluster_step_fraction_of_peak", b * step_flops / step_s / 1e9 / peak, "")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", nargs="+",
                   default=["FcDEC", "FcDEC-DA", "ConvDEC", "ConvDEC-DA", "DCN", "DCN-DA"])
    p.add_argument("--n", type=int, default=70000, help="samples for full-data passes")
    p.add_argument("--steps", type=int, default=60, help="mini-batches per timing")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--precisions", nargs="+", default=["float32"],
                   help="dtype policies to time, e.g. float32 mixed_bfloat16")
    p.add_argument("--json")
    a = p.parse_args()
    if a.quick:
        a.steps, a.n = 20, 20000
    out = {}

    def report(name, value, unit):
        out[name] = float(value)
        print(f"{name} {value:.4g} {unit}".rstrip(), flush=True)

    report("tf_version", float(tf.__version__.rsplit(".", 1)[0]), "")
    report("cpu_threads", os.cpu_count(), "")
    out["machine"] = host.machine()
    print("machine", json.dumps(out["machine"]), flush=True)
    peak = matmul_peak()
    report("matmul_peak_gflops", peak, "GFLOP/s")
    x = np.random.default_rng(0).random((a.n, 784), dtype=np.float32)
    aug_fn = tf.function(lambda t: augment(t, (28, 28, 1)))
    xb = tf.constant(x[:256])
    report("augment_images_per_s", 256 / timed(lambda: aug_fn(xb), 50), "images/s")
    for method in a.methods:
        for precision in a.precisions:
            bench_method(method, x, a.steps, report, peak, precision)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
