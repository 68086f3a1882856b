"""PNG figures of a run folder (``deckeras plot RUN_DIR``) and of a
``run_exp.py`` folder (its summary), drawn headless with matplotlib's Agg.

A run gets, as far as it has what they need:

- ``pretrain_loss.png``: the autoencoder's reconstruction loss per epoch;
- ``clustering.png``: loss, delta-label and, with labels, ACC and NMI per update;
- ``embedding.png``: the embedding in 2-D (PCA, or t-SNE with ``tsne=True``)
  coloured by cluster and, with labels, by class;
- ``montage.png``: for image data, the samples nearest each cluster's centre
  in the embedding, a row per cluster (the DEC paper's figure);
- ``confusion.png``: with labels, clusters against classes, each cluster's
  column matched to its class (the Hungarian map that ACC uses).

An experiment gets ``summary.png``: ACC of each method per data set, the
mean with the trials' spread.
"""
import csv
import os

import numpy as np

from .io import atomic_path
from .runfolder import FINAL_WEIGHTS, RunFolder

__all__ = ["plot", "plot_run", "plot_experiment"]

EMBED_POINTS = 10000       # at most this many points in the scatter (a random subset)
TSNE_POINTS = 5000         # t-SNE is quadratic: at most this many
MONTAGE_PER_CLUSTER = 10


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _read_rows(path):
    if not os.path.isfile(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _column(rows, name):
    vals = [r.get(name, "") for r in rows]
    if not vals or any(v in ("", None) for v in vals):
        return None
    return np.array([float(v) for v in vals])


def _save(fig, out, name):
    path = os.path.join(out, name)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    _pyplot().close(fig)
    return path


def plot(path, out=None, tsne=False, data_dir=None):
    """Figures of a run folder or a ``run_exp.py`` folder into ``out``
    (default ``path/plots``). Returns the files written."""
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path}: no such folder (give a run's --save-dir or a "
                                "run_exp.py folder)")
    out = out or os.path.join(path, "plots")
    if os.path.isfile(os.path.join(path, "results.csv")):
        return plot_experiment(path, out)
    return plot_run(path, out, tsne=tsne, data_dir=data_dir)


def plot_run(run_dir, out, tsne=False, data_dir=None):
    from . import runs
    cfg = runs.read_config(run_dir)
    files = []
    plt = _pyplot()
    pre = _read_rows(RunFolder(run_dir).pretrain_log)
    if pre:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(_column(pre, "epoch"), _column(pre, "loss"))
        ax.set(xlabel="epoch", ylabel="reconstruction loss (MSE)", yscale="log",
               title=f"{cfg['method']} on {os.path.basename(cfg['dataset'])}: pretraining")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        files.append(_save(fig, out, "pretrain_loss.png"))
    log = _read_rows(RunFolder(run_dir).log)
    if log:
        it = _column(log, "iter")
        scores = [(n, _column(log, n)) for n in ("acc", "nmi")]
        scores = [(n, v) for n, v in scores if v is not None]
        panels = 2 + bool(scores)
        fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.6))
        later = it > 0            # the row at iteration 0 is k-means's start: no loss yet
        axes[0].plot(it[later], _column(log, "loss")[later], marker=".")
        axes[0].set(xlabel="iteration", ylabel="loss", title="clustering loss")
        axes[1].plot(it[later], np.maximum(_column(log, "delta_label")[later], 1e-6), marker=".")
        axes[1].set(xlabel="iteration", ylabel="fraction of labels changed", yscale="log",
                    title="delta-label")
        if scores:
            for n, v in scores:
                axes[2].plot(it, v, label=n.upper())
            axes[2].set(xlabel="iteration", ylim=(0, 1), title="against the labels")
            axes[2].legend()
        for ax in axes:
            ax.grid(alpha=0.3)
        fig.suptitle(f"{cfg['method']} on {os.path.basename(cfg['dataset'])}")
        fig.tight_layout()
        files.append(_save(fig, out, "clustering.png"))
    if RunFolder(run_dir).has(FINAL_WEIGHTS):
        files += _model_figures(run_dir, cfg, out, tsne, data_dir)
    if not files:
        raise ValueError(f"{run_dir}: nothing to plot yet (no logs, no weights)")
    return files


def _model_figures(run_dir, cfg, out, tsne, data_dir):
    """Figures that need the trained model and its data."""
    from . import metrics, runs
    model = runs.load_model(run_dir)
    params = {**cfg["params"], "n_clusters": model.n_clusters}
    x, y, _ = runs.load_data(cfg["method"], cfg["dataset"], params, data_dir,
                             cfg.get("data_options"))
    labels = model.predict(x)
    z = model.transform(x)
    plt = _pyplot()
    rng = np.random.default_rng(0)
    files = []
    name = f"{cfg['method']} on {os.path.basename(cfg['dataset'])}"
    # embedding in 2-D
    keep = np.sort(rng.choice(len(z), min(len(z), TSNE_POINTS if tsne else EMBED_POINTS),
                              replace=False))
    if tsne:
        from sklearn.manifold import TSNE
        xy = TSNE(2, init="pca", random_state=0).fit_transform(z[keep])
        how = "t-SNE"
    else:
        from sklearn.decomposition import PCA
        xy = PCA(2, random_state=0).fit(z).transform(z[keep])
        how = "PCA"
    panels = [("cluster", labels[keep])] + ([("class", y[keep])] if y is not None else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.8), squeeze=False)
    for ax, (what, colour) in zip(axes[0], panels):
        ax.scatter(xy[:, 0], xy[:, 1], c=colour, cmap="tab20" if colour.max() >= 10 else "tab10",
                   s=3, alpha=0.7, linewidths=0)
        ax.set(title=f"coloured by {what}", xticks=[], yticks=[])
    fig.suptitle(f"{name}: embedding ({how}, {len(keep)} of {len(z)} samples)")
    fig.tight_layout()
    files.append(_save(fig, out, "embedding.png"))
    # the samples nearest each centre
    if cfg.get("image_shape"):
        shape = tuple(cfg["image_shape"])
        centres = model.cluster_centers_
        d = ((z[:, None, :] - centres[None]) ** 2).sum(-1)
        k, m = len(centres), MONTAGE_PER_CLUSTER
        fig, axes = plt.subplots(k, m, figsize=(m * 0.8, k * 0.8), squeeze=False)
        images = x.reshape((len(x),) + shape)
        for c in range(k):
            members = np.flatnonzero(labels == c)
            nearest = members[np.argsort(d[members, c])[:m]]
            for j in range(m):
                ax = axes[c, j]
                ax.axis("off")
                if j < len(nearest):
                    img = images[nearest[j]]
                    ax.imshow(img[..., 0] if shape[-1] == 1 else np.clip(img, 0, 1),
                              cmap="gray" if shape[-1] == 1 else None)
            axes[c, 0].text(-0.15, 0.5, str(c), transform=axes[c, 0].transAxes,
                            ha="right", va="center", fontsize=7)
        fig.suptitle(f"{name}: the {m} samples nearest each centre (a row per cluster)",
                     fontsize=8)
        fig.subplots_adjust(left=0.06, right=0.98, top=0.94, bottom=0.02, wspace=0.05,
                            hspace=0.05)
        files.append(_save(fig, out, "montage.png"))
    # clusters against classes
    if y is not None:
        w = metrics.confusion(y, labels)                 # w[cluster, class]
        from scipy.optimize import linear_sum_assignment
        rows, cols = linear_sum_assignment(w, maximize=True)
        order = list(rows[np.argsort(cols)]) + [c for c in range(w.shape[0]) if c not in rows]
        mat = w[order].T                                  # classes x clusters
        fig, ax = plt.subplots(figsize=(1 + 0.45 * mat.shape[1], 1 + 0.45 * mat.shape[0]))
        ax.imshow(mat, cmap="Blues")
        for (i, j), v in np.ndenumerate(mat):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=6,
                    color="white" if v > mat.max() / 2 else "black")
        ax.set(xticks=range(mat.shape[1]), xticklabels=order, yticks=range(mat.shape[0]),
               xlabel="cluster (matched to its class)", ylabel="class",
               title=f"ACC {metrics.acc(y, labels):.3f}")
        fig.tight_layout()
        files.append(_save(fig, out, "confusion.png"))
    return files


def plot_experiment(root, out):
    """``summary.png``: ACC per method and data set, mean and spread of the trials."""
    rows = [r for r in _read_rows(os.path.join(root, "results.csv"))
            if r.get("status") == "done" and r.get("acc") not in ("", None)]
    if not rows:
        raise ValueError(f"{root}: no finished trial with an ACC to plot")
    plt = _pyplot()
    sets = list(dict.fromkeys(r["dataset"] for r in rows))
    fig, axes = plt.subplots(1, len(sets), figsize=(1.5 + 0.9 * max(
        len({r["method"] for r in rows if r["dataset"] == s}) for s in sets) * len(sets), 4),
        squeeze=False)
    for ax, ds in zip(axes[0], sets):
        methods = list(dict.fromkeys(r["method"] for r in rows if r["dataset"] == ds))
        accs = [np.array([float(r["acc"]) for r in rows
                          if r["dataset"] == ds and r["method"] == m]) for m in methods]
        pos = np.arange(len(methods))
        ax.bar(pos, [a.mean() for a in accs], color="#8fb3d9")
        for p, a in zip(pos, accs):
            ax.errorbar(p, a.mean(), yerr=[[a.mean() - a.min()], [a.max() - a.mean()]],
                        color="black", capsize=3)
            ax.scatter(np.full(len(a), p), a, s=8, color="black", zorder=3)
        ax.set(xticks=pos, ylim=(0, 1), ylabel="ACC", title=f"{ds} (bar: mean; line: min-max)")
        ax.set_xticklabels(methods, rotation=45, ha="right")
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return [_save(fig, out, "summary.png")]
