#!/usr/bin/env python
"""Where a conv pretraining step's time goes, and what changes it, in one run.

    python bench/conv_step.py [--batch 256] [--steps 30]

DEC-DA's conv autoencoder on 28x28x1 (as deckeras builds it), one Adam(1e-3)
MSE step on a batch of random images, timed as the best of 3 runs of
``--steps`` steps (float32). Variants:

  keras        the network as deckeras builds it (Keras's Conv2D /
               Conv2DTranspose: bias added with a reshape and AddV2)
  bias_add     the same layers adding their bias with tf.nn.bias_add (the op
               TensorFlow's grappler fuses with the convolution, as Keras 3.7
               did for Dense)
  forward      forward pass only (keras)
  fwd+bwd      forward and gradients, no update (keras)

Ratios are to the keras step; ms per step and s per 70k epoch are printed.
"""
import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from deckeras.autoencoders import conv_autoencoder  # noqa: E402
from step_breakdown import timeit  # noqa: E402  (bench/, the script's folder)


class BiasAddConv2D(keras.layers.Conv2D):
    def call(self, inputs):
        out = self.convolution_op(inputs, self.kernel)
        out = tf.nn.bias_add(out, self.bias)
        return self.activation(out) if self.activation is not None else out


class BiasAddConv2DTranspose(keras.layers.Conv2DTranspose):
    def call(self, inputs):
        out = keras.ops.conv_transpose(inputs, self.kernel, strides=list(self.strides),
                                       padding=self.padding, output_padding=self.output_padding,
                                       data_format=self.data_format, dilation_rate=self.dilation_rate)
        out = tf.nn.bias_add(out, self.bias)
        return self.activation(out) if self.activation is not None else out


def build(kind):
    if kind != "bias_add":
        return conv_autoencoder((28, 28, 1), seed=0)[0]
    saved = keras.layers.Conv2D, keras.layers.Conv2DTranspose
    keras.layers.Conv2D, keras.layers.Conv2DTranspose = BiasAddConv2D, BiasAddConv2DTranspose
    try:
        return conv_autoencoder((28, 28, 1), seed=0)[0]
    finally:
        keras.layers.Conv2D, keras.layers.Conv2DTranspose = saved


def make_fn(kind):
    ae = build("bias_add" if kind == "bias_add" else "keras")
    opt = keras.optimizers.Adam(1e-3)
    opt.build(ae.trainable_variables)
    if kind == "forward":
        return tf.function(lambda x: ae(x, training=True))

    def grads(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(ae(x, training=True) - x))
        return loss, tape.gradient(loss, ae.trainable_variables)

    if kind == "fwd+bwd":
        return tf.function(grads)

    @tf.function
    def step(x):
        loss, g = grads(x)
        opt.apply(g, ae.trainable_variables)
        return loss
    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--variants", nargs="+", default=["keras", "bias_add", "forward", "fwd+bwd"])
    a = ap.parse_args()
    x = tf.constant(np.random.default_rng(0).random((a.batch, 28, 28, 1), dtype=np.float32))
    base = None
    for kind in a.variants:
        s = timeit(make_fn(kind), x, a.steps)
        base = s if base is None else base
        print(f"{kind:10s} {s * 1e3:8.2f} ms/step  {s * 70000 / a.batch:6.2f} s/70k epoch  "
              f"ratio {s / base:.3f}", flush=True)


if __name__ == "__main__":
    main()
