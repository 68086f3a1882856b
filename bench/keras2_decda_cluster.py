#!/usr/bin/env python
"""ConvDEC-DA's clustering phase as DEC-DA runs it, under Keras 2 (tf-keras), from a deckeras autoencoder.

    /tmp/tfk/bin/python bench/keras2_decda_cluster.py RUN/trial0/ae_weights.h5 --data /tmp/fmnist.npz \\
        [--seed 0] [--maxiter 20000] [--clean]

The question it answers: does the reference's own loop drift where deckeras's
does (ConvDEC-DA on Fashion-MNIST, bench/README.md)? It loads a deckeras
``ae_weights.h5`` (the conv autoencoder) into bench/keras2_reference.py's
tf-keras copy of DEC-DA's network, then clusters as DEC-DA's code does:
k-means (20 starts) on the embedding, a Student's-t clustering layer, Adam
(1e-3) on the KL divergence, targets from the clean data every 140
iterations, batches of 256 taken in the stored order (never shuffled), each
batch rotated and shifted by Keras 2's ``ImageDataGenerator(rotation_range=10,
width_shift_range=0.1, height_shift_range=0.1)`` (scipy, nearest fill);
stops when fewer than 0.1 % of the labels change. ``--clean`` leaves out the
augmentation (ConvDEC). Prints ACC / NMI every 1,400 iterations and at the end.
Same venv and data file as bench/keras2_reference.py.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.metrics import normalized_mutual_info_score as nmi  # noqa: E402

from keras2_reference import BATCH, acc, conv_autoencoder, load_xy  # noqa: E402

# deckeras's layer names, in the order of the tf-keras copy's layers that hold weights
DECKERAS_LAYERS = ["conv1", "conv2", "conv3", "embedding", "dense", "deconv3", "deconv2", "deconv1"]


def load_deckeras_weights(ae, path):
    """Copy a deckeras ae_weights.h5 (classic HDF5 layout) into the tf-keras autoencoder."""
    layers = [l for l in ae.layers if l.weights]
    assert len(layers) == len(DECKERAS_LAYERS), [l.name for l in layers]
    with h5py.File(path, "r") as f:
        for layer, name in zip(layers, DECKERAS_LAYERS):
            g = f[name][name]
            kernel = [g[k][()] for k in g if k.startswith("kernel")][0]
            bias = [g[k][()] for k in g if k.startswith("bias")][0]
            layer.set_weights([kernel, bias])


class StudentT(keras.layers.Layer):
    """q_ij proportional to (1 + |z_i - mu_j|^2)^-1 (alpha = 1), the trainable centres mu."""

    def __init__(self, centres, **kwargs):
        super().__init__(**kwargs)
        self.init = centres

    def build(self, shape):
        self.mu = self.add_weight(name="clusters", shape=self.init.shape,
                                  initializer=keras.initializers.Constant(self.init))

    def call(self, z):
        q = 1.0 / (1.0 + tf.reduce_sum(tf.square(z[:, None, :] - self.mu[None]), axis=2))
        return q / tf.reduce_sum(q, axis=1, keepdims=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights")
    p.add_argument("--data", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--maxiter", type=int, default=20000)
    p.add_argument("--interval", type=int, default=140)
    p.add_argument("--tol", type=float, default=1e-3)
    p.add_argument("--clean", action="store_true", help="no augmentation in the clustering steps")
    a = p.parse_args()
    x, y = load_xy(a.data)
    x = x.reshape(-1, 28, 28, 1)
    keras.utils.set_random_seed(a.seed)
    ae, enc = conv_autoencoder()
    load_deckeras_weights(ae, a.weights)
    print(f"keras {keras.__version__}; reconstruction MSE "
          f"{np.mean((ae.predict(x[:5000], batch_size=1000, verbose=0) - x[:5000]) ** 2):.5f}", flush=True)
    km = KMeans(10, n_init=20).fit(enc.predict(x, batch_size=BATCH, verbose=0))
    model = keras.Model(enc.input, StudentT(km.cluster_centers_.astype(np.float32))(enc.output))
    model.compile(optimizer=keras.optimizers.Adam(), loss="kld")
    gen = keras.preprocessing.image.ImageDataGenerator(
        rotation_range=10, width_shift_range=0.1, height_shift_range=0.1)
    last, index, t0 = km.labels_, 0, time.perf_counter()
    print(f"start: ACC {acc(y, last):.4f}  NMI {nmi(y, last):.4f}", flush=True)
    for ite in range(a.maxiter + 1):
        if ite % a.interval == 0 or ite == a.maxiter:
            q = model.predict(x, batch_size=BATCH, verbose=0)
            target = q ** 2 / q.sum(0)
            target = target / target.sum(1, keepdims=True)
            labels = q.argmax(1)
            delta = np.mean(labels != last)
            last = labels
            if ite % 1400 == 0 or ite == a.maxiter or (ite > 0 and delta < a.tol):
                print(f"iter {ite}: ACC {acc(y, labels):.4f}  NMI {nmi(y, labels):.4f}  "
                      f"delta_label {delta:.4f}  {time.perf_counter() - t0:.0f} s", flush=True)
            if ite == a.maxiter or (ite > 0 and delta < a.tol):
                break
        idx = np.arange(index * BATCH, min((index + 1) * BATCH, len(x)))
        xb = x[idx] if a.clean else gen.flow(x[idx], shuffle=False, batch_size=len(idx)).next()
        model.train_on_batch(xb, target[idx])
        index = index + 1 if (index + 1) * BATCH < len(x) else 0
    print(f"final: ACC {acc(y, last):.4f}  NMI {nmi(y, last):.4f}  after {ite} iterations", flush=True)


if __name__ == "__main__":
    main()
