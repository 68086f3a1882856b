"""FcDEC's start on MNIST under pretraining variants: AE + k-means ACC every
few epochs, so that schedules can be compared by the start they give per
epoch (the start decides where DEC ends: it lifts it by 0.01-0.04 ACC).

Pretrains FcDEC's autoencoder for MNIST with deckeras's own loop (DEC's
784-500-500-2000-10 network and initialiser, batch 256, the default
precision) once per variant, and prints one JSON line per evaluation:
variant, seed, epoch, loss, seconds of pretraining so far (evaluations
excluded), AE + k-means ACC / NMI (k-means with n_init 20 and the run's
seed, as at the start of DEC).

Variants:
  sgd          FcDEC's paper protocol: DEC-keras's SGD(1, 0.9) on clean inputs
  mask<p>      the same with denoising, pretrain_noise=p (mask0.2: FcDEC's
               default on MNIST since this comparison)
  adam<lr>     Adam with that learning rate (e.g. adam0.001)
  ...b<n>      any of these with mini-batches of n (e.g. mask0.2b128)

    python bench/fc_start.py --variants sgd mask0.2 --seed 0 --epochs 120 --every 20
"""
import argparse
import json
import os
import re
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def variant_params(name):
    m = re.fullmatch(r"(sgd|mask|adam)([0-9.]*)(?:b([0-9]+))?", name)
    if not m or (m.group(1) == "sgd") != (not m.group(2)):
        raise SystemExit(f"error: unknown variant {name!r} (sgd, mask<p>, adam<lr>, each with b<n>)")
    kind, value = m.group(1), float(m.group(2) or 0)
    p = {"batch_size": int(m.group(3))} if m.group(3) else {}
    if kind == "mask":
        p["pretrain_noise"] = value
    if kind == "adam":
        p.update(pretrain_optimizer="adam", pretrain_lr=value)
    return p


def run(variant, seed, epochs, every, x, y):
    from sklearn.cluster import KMeans
    from deckeras.methods import make_method
    from deckeras.metrics import acc, nmi

    model = make_method("FcDEC", "mnist", protocol="paper", random_state=seed, pretrain_epochs=epochs,
                        **variant_params(variant))
    from deckeras.callbacks import Callback
    spent = [0.0]

    class Evaluate(Callback):       # after every pretraining epoch
        def on_epoch_end(self, index, logs=None):
            epoch = index + 1
            if epoch % every and epoch != epochs:
                return
            t0 = time.perf_counter()
            z = self.trainer.nets.encoder.predict(x, batch_size=2048, verbose=0).astype(np.float64)
            lab = KMeans(10, n_init=20, random_state=seed).fit_predict(z)
            print(json.dumps({"variant": variant, "seed": seed, "epoch": epoch,
                              "loss": round(logs["loss"], 6),
                              "train_s": round(logs["time_s"] - spent[0], 1),
                              "acc": round(acc(y, lab), 4), "nmi": round(nmi(y, lab), 4),
                              "precision": self.trainer.nets.precision}), flush=True)
            spent[0] += time.perf_counter() - t0
    model.pretrain(x, callbacks=[Evaluate()])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", default=["sgd", "mask0.2"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=120)
    ap.add_argument("--every", type=int, default=20)
    ap.add_argument("--n", type=int, help="use the first N samples only (a quick check)")
    a = ap.parse_args()
    for v in a.variants:
        variant_params(v)
    from deckeras.console import import_tensorflow
    import_tensorflow()
    from deckeras.datasets import load_dataset
    x, y = load_dataset("mnist")[:2]
    x, y = x[:a.n], y[:a.n]
    for v in a.variants:
        run(v, a.seed, a.epochs, a.every, x, y)


if __name__ == "__main__":
    main()
