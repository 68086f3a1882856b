#!/usr/bin/env python
"""How close ``--n-clusters auto`` gets to the true number of classes.

    python bench/choose_k.py --dataset digits --seeds 0 1 2 3 4
    python bench/choose_k.py --dataset mnist --seeds 0 --pretrain-epochs 20

For each seed: pretrain the method's autoencoder (its paper settings, the
epochs given), then ``estimate_n_clusters`` on the embedding for k = 2..20
(k-means, mean silhouette on up to 5,000 samples), as ``--n-clusters auto``
does. Prints the chosen k, the silhouette of the true k and the best three;
for comparison, the same on the raw (scaled) features.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from deckeras.console import import_tensorflow  # noqa: E402

import_tensorflow()            # without TensorFlow's start-up lines
from deckeras import estimate_n_clusters  # noqa: E402
from deckeras.methods import make_method  # noqa: E402
from deckeras.runs import AUTO_K, load_data  # noqa: E402


def line(name, k, scores, truth):
    best = sorted(scores, key=scores.get, reverse=True)[:3]
    return (f"{name:28s} chose k={k:2d}  silhouette(k={truth}) {scores[truth]:.3f}  "
            f"best: " + ", ".join(f"k={b} {scores[b]:.3f}" for b in best))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dataset", default="digits")
    p.add_argument("--method", default="FcDEC")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--pretrain-epochs", type=int, default=None)
    p.add_argument("--skip-raw", action="store_true",
                   help="leave out the raw features (k-means on 70,000 x 784 for 19 k takes long)")
    a = p.parse_args()
    params = {"n_clusters": None}
    x, y, truth = load_data(a.method, a.dataset, params)
    ks = [k for k in AUTO_K if k < len(x)]
    print(f"{a.dataset}: {len(x)} samples, {truth} classes; candidates k = {ks[0]}..{ks[-1]}",
          flush=True)
    if not a.skip_raw:
        t = time.time()
        k, scores = estimate_n_clusters(x.reshape(len(x), -1), ks, random_state=0)
        print(line("raw features", k, scores, truth) + f"  ({time.time() - t:.0f} s)", flush=True)
    chosen = []
    for seed in a.seeds:
        extra = {} if a.pretrain_epochs is None else {"pretrain_epochs": a.pretrain_epochs}
        model = make_method(a.method, a.dataset, n_clusters=truth, random_state=seed, **extra)
        t = time.time()
        model.pretrain(x)
        z = model.transform(x)
        t_pre = time.time() - t
        t = time.time()
        k, scores = estimate_n_clusters(z, ks, random_state=seed)
        chosen.append(k)
        print(line(f"{a.method} embedding, seed {seed}", k, scores, truth)
              + f"  (pretraining {model.pretrain_epochs} epochs {t_pre:.0f} s, "
                f"choosing {time.time() - t:.0f} s)", flush=True)
    print(f"chosen k per seed: {chosen} (true {truth})")


if __name__ == "__main__":
    main()
