#!/usr/bin/env python
"""DEC-DA's augmentation: keras.ops.image.affine_transform (what deckeras uses)
against TensorFlow's ImageProjectiveTransformV3 called directly, in one run.

    python bench/augment_op.py [--batch 256] [--reps 200] [--rounds 3]

Both get the same transforms for a batch of 28x28 images; prints the largest
difference of their outputs and the milliseconds per batch of each, per round.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from deckeras import augment  # noqa: E402


def raw_op(images, transforms):
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.shape(images)[1:3],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="NEAREST")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    x = tf.constant(np.random.default_rng(0).random((a.batch, 28, 28, 1), dtype=np.float32))
    captured = {}

    def keras_version(t):
        return augment.random_affine(t, seed=1)

    real = augment.keras.ops.image.affine_transform

    def spy(images, transforms, **kw):          # record the transforms the library builds
        captured["t"] = transforms
        return real(images, transforms, **kw)
    augment.keras.ops.image.affine_transform = spy
    ours = keras_version(x).numpy()
    augment.keras.ops.image.affine_transform = real
    theirs = raw_op(x, captured["t"]).numpy()
    print(f"max |keras - raw op| = {np.abs(ours - theirs).max():.2e}")
    t_fixed = captured["t"]
    fns = {"keras.ops.image.affine_transform": tf.function(lambda t: keras_version(t)),
           "ImageProjectiveTransformV3": tf.function(lambda t: raw_op(t, t_fixed))}
    for r in range(a.rounds):
        for name, f in fns.items():
            f(x)
            t0 = time.perf_counter()
            for _ in range(a.reps):
                out = f(x)
            out.numpy()
            print(f"round {r}: {name}: {(time.perf_counter() - t0) / a.reps * 1e3:.2f} ms per batch",
                  flush=True)


if __name__ == "__main__":
    main()
