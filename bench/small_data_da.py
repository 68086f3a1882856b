"""DEC-DA's augmented clustering phase on small data: does it hold its start?

Trains FcDEC-DA in the papers' form (augmented pretraining *and* augmented
clustering, DEC's SGD(0.01, 0.9)) from the small-data defaults on one data
set, scoring every target update, and prints ACC and the training loss along
the way and the final cluster sizes. ``--data digits`` uses the 1,797 8x8
digits; ``--data mnist1797`` draws 1,797 of MNIST's 28x28 digits (needs
``data/mnist/mnist.npz``: ``python -m deckeras.datasets fetch mnist``), so
the two differ in image size and not in the number of samples.
``--clean`` runs the small-data default instead: the same augmented
pretraining, then clustering on clean data with the decoder kept and Adam.

    python bench/small_data_da.py --data digits --seed 0
    python bench/small_data_da.py --data mnist1797 --seed 0
    python bench/small_data_da.py --data digits --seed 0 --clean
"""
import argparse

import numpy as np


def load(name):
    """``x`` flat and ``y``: digits, or 1,797 of MNIST's 70,000 (a fixed draw)."""
    from deckeras.datasets import load_dataset
    x, y = load_dataset("digits" if name == "digits" else "mnist")[:2]
    if name == "mnist1797":
        idx = np.random.default_rng(0).choice(len(x), 1797, replace=False)
        x, y = x[idx], y[idx]
    return x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", choices=["digits", "mnist1797"], default="digits")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--maxiter", type=int, default=900)
    ap.add_argument("--pretrain-epochs", type=int, default=300)
    ap.add_argument("--clean", action="store_true", help="the small-data default instead")
    a = ap.parse_args()

    from deckeras.methods import make_method
    from deckeras.metrics import evaluate
    x, y = load(a.data)
    paper_form = {} if a.clean else {"augment": True, "gamma": 0.0, "keep_decoder": False,
                                     "optimizer": "sgd", "lr": 0.01, "momentum": 0.9}
    m = make_method("FcDEC-DA", "digits", random_state=a.seed, maxiter=a.maxiter, tol=0.0,
                    pretrain_epochs=a.pretrain_epochs, verbose=0, **paper_form)
    m.fit(x, y)
    form = "small-data default (clean clustering, decoder, Adam)" if a.clean else "paper form (augmented DEC clustering)"
    print(f"{a.data}, seed {a.seed}, FcDEC-DA {form}")
    print(f"AE + k-means ACC {m.init_metrics_['acc']:.3f}")
    print("iteration  ACC    loss")
    step = max(1, len(m.history_) // 10)
    rows = m.history_[::step]
    if m.history_ and rows[-1] is not m.history_[-1]:
        rows.append(m.history_[-1])
    for r in rows:
        print(f"{r['iter']:9d}  {r.get('acc', float('nan')):.3f}  {r.get('loss', float('nan')):.4f}")
    print(f"final ACC {evaluate(y, m.labels_)['acc']:.3f}; cluster sizes",
          np.bincount(m.labels_, minlength=m.n_clusters).tolist())


if __name__ == "__main__":
    main()
