#!/usr/bin/env python
"""deckeras's pretraining loop vs plain ``keras.Model.fit``, same network, same start.

    python bench/fit_parity.py [--n 20000] [--epochs 10] [--dataset mnist]

Both train DEC's dense autoencoder with SGD(1, 0.9), MSE, batch 256,
shuffling every epoch, from the same initial weights; prints the loss after
each epoch, the seconds per epoch and AE + k-means ACC at the end. The
losses should track each other (the shuffles differ); a gap would mean our
loop trains differently from Keras's.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402

from deckeras.datasets import load_dataset  # noqa: E402
from deckeras.methods import make_method  # noqa: E402
from deckeras.metrics import acc as cluster_acc  # noqa: E402


def kmeans_acc(encoder, x, y, seed):
    z = encoder.predict(x, batch_size=2048, verbose=0)
    return cluster_acc(y, KMeans(10, n_init=20, random_state=seed).fit_predict(z))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    x, y = load_dataset(a.dataset)
    idx = np.random.default_rng(a.seed).permutation(len(x))[: a.n]
    x, y = x[idx].reshape(len(idx), -1), y[idx]

    m = make_method("FcDEC", "mnist", protocol="paper", random_state=a.seed, verbose=0)   # clean inputs, as fit
    m.pretrain(x, epochs=0)                               # builds the networks
    start = m.autoencoder_.get_weights()
    t = time.perf_counter()
    m.pretrain(x, epochs=a.epochs)
    one_s = (time.perf_counter() - t) / a.epochs
    one = [r["loss"] for r in m.pretrain_history_]
    acc_one = kmeans_acc(m.encoder_, x, y, a.seed)

    m.autoencoder_.set_weights(start)
    ae = m.autoencoder_
    ae.compile(optimizer=keras.optimizers.SGD(1.0, momentum=0.9), loss="mse")
    t = time.perf_counter()
    hist = ae.fit(x, x, batch_size=256, epochs=a.epochs, shuffle=True, verbose=0)
    keras_s = (time.perf_counter() - t) / a.epochs
    acc_keras = kmeans_acc(m.encoder_, x, y, a.seed)

    print("epoch  deckeras  keras.fit   (training loss)")
    for e in range(a.epochs):
        print(f"{e + 1:5d}  {one[e]:.5f}  {hist.history['loss'][e]:.5f}")
    print(f"s per epoch ({a.n} samples): deckeras {one_s:.2f}, keras.fit {keras_s:.2f}")
    print(f"AE + k-means ACC after {a.epochs} epochs: deckeras {acc_one:.4f}, "
          f"keras.fit {acc_keras:.4f}")


if __name__ == "__main__":
    main()
