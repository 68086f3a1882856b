"""DCN's lamda on small data: how large is the k-means term, and what ACC
does each weight give from the same pretrained autoencoder?

For each seed: pretrains the method's autoencoder with the small-data
defaults (cached as ``<cache>/<method>-<seed>.weights.h5``), prints the
start's reconstruction error, k-means term and their ratio at lamda = 1
(``(1/2) ||f(x) - M s||^2`` over the MSE), then trains the clustering
phase with every ``--lamdas`` value from that same start and prints the
AE + k-means ACC, the final ACC and the lamda used ('auto' prints what it
chose). One JSON line per result.

    python bench/dcn_lamda.py --method ConvDCN --seeds 0 1 2 --lamdas 1 0.1 0.03 0.01 0.003 auto
    python bench/dcn_lamda.py --method DCN --seeds 0 1 2 --lamdas 1 0.1 0.01 auto
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="ConvDCN", choices=["DCN", "ConvDCN", "DCN-DA", "ConvDCN-DA"])
    ap.add_argument("--data", default="digits")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--lamdas", nargs="+", default=["1", "0.1", "0.01", "auto"])
    ap.add_argument("--cache", default="results/dcn_lamda")
    a = ap.parse_args()
    from deckeras.console import import_tensorflow
    import_tensorflow()
    from deckeras.datasets import load_dataset
    from deckeras.methods import make_method
    from deckeras.metrics import acc
    x, y = load_dataset(a.data)[:2]
    os.makedirs(a.cache, exist_ok=True)
    for seed in a.seeds:
        w = os.path.join(a.cache, f"{a.method}-{a.data}-{seed}.weights.h5")
        ae = make_method(a.method, a.data, random_state=seed, verbose=0)
        if os.path.exists(w):
            ae.load_pretrained(x, w)
        else:
            ae.pretrain(x)
            ae.autoencoder_.save_weights(w)
        ae.set_params(lamda=1.0, maxiter=0)      # the k-means start alone
        ae.fit(x)
        rec, clu = ae._start_terms(ae._nets, ae._prepare(x))
        z = ae.transform(x)
        print(json.dumps({"method": a.method, "seed": seed, "rec": round(rec, 6),
                          "kmeans_term": round(clu, 4), "ratio_at_lamda_1": round(0.5 * clu / rec, 1),
                          "embedding_variance": round(float(np.sum(z.var(0))), 3)}), flush=True)
        for lam in a.lamdas:
            m = make_method(a.method, a.data, random_state=seed, verbose=0,
                            lamda=lam if lam == "auto" else float(lam))
            m.load_pretrained(x, w)
            m.fit(x)
            print(json.dumps({"method": a.method, "seed": seed, "lamda": lam,
                              "lamda_used": round(m.lamda_, 5),
                              "init_acc": round(acc(y, m.init_labels_), 4),
                              "acc": round(acc(y, m.labels_), 4)}), flush=True)


if __name__ == "__main__":
    main()
