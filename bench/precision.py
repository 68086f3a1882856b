#!/usr/bin/env python
"""Does reduced precision speed up autoencoder training here?

    python bench/precision.py [--policies float32 mixed_bfloat16] [--steps 40]

Times one training step of DEC's dense autoencoder ([784, 500, 500, 2000, 10],
batch 256) and of DEC-DA's conv autoencoder (28x28) under each Keras
dtype policy, in one run, and prints the ratio to float32. Mixed float16 is
for GPUs; on a CPU it is usually slower.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from deckeras.autoencoders import conv_autoencoder, dense_autoencoder  # noqa: E402


def step_time(policy, arch, steps):
    keras.mixed_precision.set_global_policy(policy)
    ae = (dense_autoencoder([784, 500, 500, 2000, 10])[0] if arch == "dense"
          else conv_autoencoder((28, 28, 1))[0])
    opt = keras.optimizers.SGD(1.0, momentum=0.9) if arch == "dense" else keras.optimizers.Adam()
    opt.build(ae.trainable_variables)
    shape = (256, 784) if arch == "dense" else (256, 28, 28, 1)
    x = tf.random.uniform(shape)

    @tf.function(autograph=False)
    def step(xb):
        with tf.GradientTape() as tape:
            r = tf.cast(ae(xb, training=True), tf.float32)
            loss = tf.reduce_mean(tf.square(r - xb))
        opt.apply_gradients(zip(tape.gradient(loss, ae.trainable_variables), ae.trainable_variables))
        return loss

    step(x).numpy()
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(steps):
            loss = step(x)
        loss.numpy()
        best = min(best, (time.perf_counter() - t) / steps)
    keras.mixed_precision.set_global_policy("float32")
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--policies", nargs="+", default=["float32", "mixed_bfloat16"])
    p.add_argument("--archs", nargs="+", default=["dense", "conv"])
    p.add_argument("--steps", type=int, default=40)
    a = p.parse_args()
    for arch in a.archs:
        base = None
        for pol in a.policies:
            t = step_time(pol, arch, a.steps)
            base = base or t
            print(f"{arch}.{pol}.step_ms {t * 1e3:.2f} ms  ratio_to_{a.policies[0]} {t / base:.3f}",
                  flush=True)


if __name__ == "__main__":
    main()
