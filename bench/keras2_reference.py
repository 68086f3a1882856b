#!/usr/bin/env python
"""DEC-keras's MNIST (or Fashion-MNIST) pretraining under Keras 2 (tf-keras), for comparison with ours.

    python -m venv /tmp/tfk && /tmp/tfk/bin/pip install tensorflow-cpu==2.21.0 \\
        "tf-keras~=2.21.0" scikit-learn scipy
    /tmp/tfk/bin/python bench/keras2_reference.py [--epochs 30] [--every 10] [--seed 0]
    /tmp/tfk/bin/python bench/keras2_reference.py --arch conv --epochs 2 --every 1
    /tmp/tfk/bin/python bench/keras2_reference.py --epochs 300 --every 50 --checkpoint k2.keras   # resumable

Self-contained on purpose (no deckeras, no Keras 3): the dense autoencoder
[784, 500, 500, 2000, 10] with VarianceScaling(1/3, fan_in, uniform), MSE,
SGD(lr=1, momentum=0.9), batch 256, as DEC-keras trains it, on the MNIST file
deckeras caches (data/mnist/mnist.npz: `python -m deckeras.datasets fetch
mnist`), or on any ``.npz`` holding scaled ``x`` and labels ``y``; Fashion-MNIST:
``python -c "import numpy as np; from deckeras import load_dataset;
x, y = load_dataset('fmnist'); np.savez('/tmp/fmnist.npz', x=x, y=y)"``, then
``--data /tmp/fmnist.npz``. Prints the loss, seconds per epoch and AE + k-means (n_init 20)
ACC every `--every` epochs. Compare with bench/fit_parity.py. ``--arch conv``
trains DEC-DA's convolutional autoencoder instead (Conv2D 32-5/2, 64-5/2,
128-3/2 valid, Dense 10, mirrored with Conv2DTranspose; glorot_uniform; Adam,
batch 256), the network behind ConvDEC(-DA): compare its seconds per epoch with
``bench/throughput.py --methods ConvDEC`` on the same host.
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tf_keras as keras  # noqa: E402
from scipy.optimize import linear_sum_assignment  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402

BATCH = 256


def acc(y, pred):
    w = np.zeros((pred.max() + 1, y.max() + 1), dtype=np.int64)
    np.add.at(w, (pred, y), 1)
    r, c = linear_sum_assignment(-w)
    return w[r, c].sum() / len(y)


def load_xy(path):
    """Flat float32 pixels in [0, 1] and int64 labels from an ``.npz``: scaled ``x``, ``y``
    (e.g. Fashion-MNIST written by deckeras, see the docstring) or Keras's mnist.npz layout."""
    with np.load(path) as f:
        if "x" in f:
            return f["x"].reshape(-1, 784).astype(np.float32), f["y"].astype(np.int64)
        x = np.concatenate([f["x_train"], f["x_test"]]).reshape(-1, 784).astype(np.float32) / 255.0
        return x, np.concatenate([f["y_train"], f["y_test"]]).astype(np.int64)


def autoencoder(dims, shared_init=False):
    shared = keras.initializers.VarianceScaling(1 / 3, mode="fan_in", distribution="uniform")

    def init():
        # DEC-keras passes one instance to every layer; under tf-keras >= 2.7 an
        # unseeded instance called again repeats its draws (same seed per call).
        # Default: one instance per layer.
        return shared if shared_init else keras.initializers.VarianceScaling(
            1 / 3, mode="fan_in", distribution="uniform")
    x = keras.Input((dims[0],))
    h = x
    for i, d in enumerate(dims[1:-1]):
        h = keras.layers.Dense(d, activation="relu", kernel_initializer=init(), name=f"encoder_{i}")(h)
    z = keras.layers.Dense(dims[-1], kernel_initializer=init(), name="embedding")(h)
    h = z
    for i, d in enumerate(dims[-2:0:-1]):
        h = keras.layers.Dense(d, activation="relu", kernel_initializer=init(), name=f"decoder_{i}")(h)
    out = keras.layers.Dense(dims[0], kernel_initializer=init(), name="reconstruction")(h)
    return keras.Model(x, out), keras.Model(x, z)


def conv_autoencoder():
    L = keras.layers
    x = keras.Input((28, 28, 1))
    h = L.Conv2D(32, 5, strides=2, padding="same", activation="relu")(x)
    h = L.Conv2D(64, 5, strides=2, padding="same", activation="relu")(h)
    h = L.Conv2D(128, 3, strides=2, padding="valid", activation="relu")(h)
    z = L.Dense(10, name="embedding")(L.Flatten()(h))
    h = L.Reshape((3, 3, 128))(L.Dense(3 * 3 * 128, activation="relu")(z))
    h = L.Conv2DTranspose(64, 3, strides=2, padding="valid", activation="relu")(h)
    h = L.Conv2DTranspose(32, 5, strides=2, padding="same", activation="relu")(h)
    out = L.Conv2DTranspose(1, 5, strides=2, padding="same")(h)
    return keras.Model(x, out), keras.Model(x, z)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "data", "mnist", "mnist.npz"))
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--every", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--arch", choices=["dense", "conv"], default="dense")
    p.add_argument("--shared-init", action="store_true",
                   help="one initializer instance for every layer, as DEC-keras does")
    p.add_argument("--checkpoint", metavar="FILE.keras",
                   help="save the model (with its optimiser) every --every epochs and resume from "
                        "it when it exists; the resumed run's shuffles differ from an unbroken one's")
    p.add_argument("--no-kmeans", action="store_true",
                   help="timing only: leave out the AE + k-means ACC between epochs")
    a = p.parse_args()
    x, y = load_xy(a.data)
    keras.utils.set_random_seed(a.seed)
    if a.arch == "conv":
        x = x.reshape(-1, 28, 28, 1)
    done = 0
    if a.checkpoint and os.path.exists(a.checkpoint):
        ae = keras.models.load_model(a.checkpoint)     # with its optimiser and step count
        enc = keras.Model(ae.input, ae.get_layer("embedding").output)
        done = int(ae.optimizer.iterations.numpy()) // -(-len(x) // BATCH)
        print(f"resumed from {a.checkpoint} after epoch {done}", flush=True)
    else:
        if a.arch == "conv":
            ae, enc = conv_autoencoder()
            opt = keras.optimizers.Adam()
        else:
            ae, enc = autoencoder([784, 500, 500, 2000, 10], a.shared_init)
            opt = keras.optimizers.SGD(learning_rate=1.0, momentum=0.9)
        ae.compile(optimizer=opt, loss="mse")
    print(f"keras {keras.__version__}, {a.arch}, seed {a.seed}, shared init {a.shared_init}",
          flush=True)
    while done < a.epochs:
        n = min(a.every, a.epochs - done)
        t = time.perf_counter()
        h = ae.fit(x, x, batch_size=BATCH, epochs=n, verbose=0)
        s = (time.perf_counter() - t) / n
        done += n
        if a.checkpoint:                    # one file, replaced whole: the epochs come from its step count
            ae.save(a.checkpoint + ".tmp.keras")
            os.replace(a.checkpoint + ".tmp.keras", a.checkpoint)
        if a.no_kmeans:
            print(f"epoch {done}: loss {h.history['loss'][-1]:.5f}  {s:.2f} s/epoch", flush=True)
            continue
        z = enc.predict(x, batch_size=2048, verbose=0)
        km = KMeans(10, n_init=20, random_state=a.seed).fit_predict(z)
        print(f"epoch {done}: loss {h.history['loss'][-1]:.5f}  {s:.2f} s/epoch  "
              f"AE + k-means ACC {acc(y, km):.4f}", flush=True)


if __name__ == "__main__":
    main()
