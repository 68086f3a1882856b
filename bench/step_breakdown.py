#!/usr/bin/env python
"""Where a dense pretraining step's time goes, measured in one run.

    python bench/step_breakdown.py

Variants of one SGD(1.0, 0.9) step on [784, 500, 500, 2000, 10] with batch
256: forward only; forward + backward (gradients, no update); the full step
with Keras's SGD; the full step with TensorFlow's fused momentum kernel
(ResourceApplyKerasMomentum, one pass per variable); and keras.layers.Dense
instead of deckeras's bias_add Dense. Ratios are to the Keras-SGD step.
"""
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from deckeras import autoencoders  # noqa: E402
from deckeras.autoencoders import dense_autoencoder  # noqa: E402

DIMS = [784, 500, 500, 2000, 10]


def timeit(fn, x, steps=40):
    fn(x)
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(steps):
            out = fn(x)
        tf.nest.map_structure(lambda o: o.numpy(), out)
        best = min(best, (time.perf_counter() - t) / steps)
    return best


def variants():
    x = tf.random.uniform((256, 784))
    ae = dense_autoencoder(DIMS)[0]
    v = ae.trainable_variables
    opt = keras.optimizers.SGD(1.0, momentum=0.9)
    opt.build(v)
    moms = [tf.Variable(tf.zeros_like(w)) for w in v]

    def loss_of(xb, model):
        return tf.reduce_mean(tf.square(model(xb, training=True) - xb))

    @tf.function(autograph=False)
    def forward(xb):
        return loss_of(xb, ae)

    @tf.function(autograph=False)
    def backward(xb):
        with tf.GradientTape() as tape:
            loss = loss_of(xb, ae)
        return tf.add_n([tf.reduce_sum(g) for g in tape.gradient(loss, v)])

    @tf.function(autograph=False)
    def keras_sgd(xb):
        with tf.GradientTape() as tape:
            loss = loss_of(xb, ae)
        opt.apply_gradients(zip(tape.gradient(loss, v), v))
        return loss

    @tf.function(autograph=False)
    def fused_sgd(xb):
        with tf.GradientTape() as tape:
            loss = loss_of(xb, ae)
        for w, m, g in zip(v, moms, tape.gradient(loss, v)):
            tf.raw_ops.ResourceApplyKerasMomentum(var=w.value.handle if hasattr(w, "value") else w.handle,
                                                  accum=m.handle, lr=1.0, grad=g, momentum=0.9)
        return loss

    plain = _plain_dense_ae()
    popt = keras.optimizers.SGD(1.0, momentum=0.9)
    popt.build(plain.trainable_variables)

    @tf.function(autograph=False)
    def keras_dense(xb):
        with tf.GradientTape() as tape:
            loss = loss_of(xb, plain)
        popt.apply_gradients(zip(tape.gradient(loss, plain.trainable_variables),
                                 plain.trainable_variables))
        return loss

    return x, {"forward": forward, "forward+backward": backward, "step keras SGD": keras_sgd,
               "step fused momentum": fused_sgd, "step keras.layers.Dense": keras_dense}


def _plain_dense_ae():
    inp = keras.Input((784,))
    h = inp
    sizes = DIMS[1:] + DIMS[-2::-1]
    for i, s in enumerate(sizes):
        linear = i in (len(DIMS) - 2, len(sizes) - 1)
        h = keras.layers.Dense(s, activation=None if linear else "relu",
                               kernel_initializer=autoencoders.DEC_INIT)(h)
    return keras.Model(inp, h)


def main():
    x, fns = variants()
    times = {k: timeit(f, x) for k, f in fns.items()}
    base = times["step keras SGD"]
    for k, t in times.items():
        print(f"{k:28s} {t * 1e3:7.2f} ms  ratio {t / base:.3f}  ({70000 / 256 * t:.1f} s per MNIST epoch)")


if __name__ == "__main__":
    main()
