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
# 20 colours told apart by most viewers (Sasha Trubetskoy's list); groups past
# 20 reuse them with another marker
PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
           "#bfef45", "#fabed4", "#469990", "#dcbeff", "#9a6324", "#800000", "#aaffc3",
           "#808000", "#ffd8b1", "#000075", "#a9a9a9", "#ffe119", "#000000")
MARKERS = ("o", "s", "^", "D")
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
        tol = float(cfg["params"].get("tol") or 0.0)
        delta = _column(log, "delta_label")[later]
        axes[1].plot(it[later], delta, marker=".", label="delta-label")
        if tol > 0:
            axes[1].axhline(tol, color="tab:red", linestyle="--", label=f"tol {tol:g} (stop below)")
        # a symmetric log scale: 0 (no label changed) is drawn at 0, not at a made-up floor
        low = min([v for v in delta if v > 0] + ([tol] if tol > 0 else []) + [1e-3])
        floor = 10 ** np.floor(np.log10(low))
        axes[1].set_yscale("symlog", linthresh=floor)
        ticks = [0.0] + [10.0 ** e for e in range(int(np.log10(floor)), 1)]
        axes[1].set_yticks(ticks, [("0" if t == 0 else f"{t:g}") for t in ticks])
        axes[1].set_ylim(-floor * 0.1, 1.05)
        axes[1].set(xlabel="iteration", ylabel="fraction of labels changed", title="delta-label")
        axes[1].legend(fontsize=8)
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
    classes = cfg.get("class_names")
    # a cluster takes the colour of the class it is matched to (as ACC matches them),
    # so one group has one colour in both panels; unmatched clusters get colours of their own
    match = metrics.cluster_to_class(y, labels) if y is not None else {}
    free = iter(c for c in range(len(PALETTE) * len(MARKERS))
                if c not in set(match.values()) and c not in set(np.unique(y) if y is not None else []))
    colour_of = {c: match.get(c) if c in match else next(free) for c in np.unique(labels)}
    panels = [("cluster", labels[keep], colour_of, lambda c: f"cluster {c}")]
    if y is not None:
        panels.append(("class", y[keep], {c: c for c in np.unique(y)},
                       lambda c: classes[c] if classes and c < len(classes) else f"class {c}"))
    size = float(np.clip(3000.0 / len(keep), 1.5, 30.0))          # fewer points, larger dots
    fig, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 5.0), squeeze=False)
    for ax, (what, groups, colours, name_of) in zip(axes[0], panels):
        for g in np.unique(groups):
            at = groups == g
            k = int(colours[g])
            ax.scatter(xy[at, 0], xy[at, 1], s=size, alpha=0.7, linewidths=0,
                       color=PALETTE[k % len(PALETTE)], marker=MARKERS[k // len(PALETTE) % len(MARKERS)],
                       label=name_of(int(g)))
        ax.set(title=f"coloured by {what}", xticks=[], yticks=[])
        ax.legend(fontsize=7, markerscale=max(1.0, 12.0 / size) ** 0.5, loc="center left",
                  bbox_to_anchor=(1.0, 0.5), frameon=False)
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
            if not len(members):
                axes[c, 0].text(0.0, 0.5, "(empty cluster)", transform=axes[c, 0].transAxes,
                                ha="left", va="center", fontsize=7, color="gray")
        fig.suptitle(f"{name}: the {m} samples nearest each centre (a row per cluster)",
                     fontsize=8)
        fig.subplots_adjust(left=0.06, right=0.98, top=0.94, bottom=0.02, wspace=0.05,
                            hspace=0.05)
        files.append(_save(fig, out, "montage.png"))
    # clusters against classes
    if y is not None:
        w, rows, cols = metrics.matching(y, labels)      # w[cluster, class]
        order = list(rows[np.argsort(cols)]) + [c for c in range(w.shape[0]) if c not in rows]
        mat = w[order].T                                  # classes x clusters
        class_ids = np.unique(y)
        ylabels = [classes[c] if classes and c < len(classes) else str(c) for c in class_ids]
        fig, ax = plt.subplots(figsize=(max(4.5, 1.6 + 0.55 * mat.shape[1]),
                                        max(3.5, 1.2 + 0.45 * mat.shape[0])))
        ax.imshow(mat, cmap="Blues", aspect="auto")
        for (i, j), v in np.ndenumerate(mat):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8,
                    color="white" if v > mat.max() / 2 else "black")
        ax.set(xticks=range(mat.shape[1]), xticklabels=order, yticks=range(mat.shape[0]),
               xlabel="cluster (matched to its class)", ylabel="class",
               title=f"{name}: clusters against classes, ACC {metrics.acc(y, labels):.3f}")
        ax.set_yticklabels(ylabels)
        ax.title.set_fontsize(9)
        fig.tight_layout()
        files.append(_save(fig, out, "confusion.png"))
    return files


def plot_experiment(root, out):
    """``summary.png``: ACC per method and data set, mean and spread of the trials."""
    rows = [r for r in _read_rows(os.path.join(root, "results.csv"))
            if r.get("status") == "done" and r.get("acc") not in ("", None)]
    if not rows:
        raise ValueError(f"{root}: no finished trial with an ACC to plot")
    baselines = {r["dataset"]: float(r["acc_mean"])
                 for r in _read_rows(os.path.join(root, "summary.csv"))
                 if r.get("method") == "k-means (raw)" and r.get("acc_mean") not in ("", None)}
    plt = _pyplot()
    sets = list(dict.fromkeys(r["dataset"] for r in rows))
    widest = max(len({r["method"] for r in rows if r["dataset"] == s}) for s in sets)
    fig, axes = plt.subplots(1, len(sets), figsize=(max(4.5, (1.5 + 0.9 * widest) * len(sets)), 4.3),
                             squeeze=False)
    fig.suptitle("ACC per trial (bar: mean; line: min-max)", fontsize=10)
    for ax, ds in zip(axes[0], sets):
        methods = list(dict.fromkeys(r["method"] for r in rows if r["dataset"] == ds))
        accs = [np.array([float(r["acc"]) for r in rows
                          if r["dataset"] == ds and r["method"] == m]) for m in methods]
        pos = np.arange(len(methods))
        ax.bar(pos, [a.mean() for a in accs], width=0.6, color="#8fb3d9")
        ax.set_xlim(-0.7, len(methods) - 0.3)
        for p, a in zip(pos, accs):
            ax.errorbar(p, a.mean(), yerr=[[a.mean() - a.min()], [a.max() - a.mean()]],
                        color="black", capsize=3)
            ax.scatter(np.full(len(a), p), a, s=8, color="black", zorder=3)
        base = baselines.get(ds)
        if base is not None:
            ax.axhline(base, color="tab:red", linestyle="--", label=f"k-means on raw data {base:.3f}")
            ax.legend(fontsize=7, loc="lower right")
        ax.set(xticks=pos, ylim=(0, 1), ylabel="ACC", title=ds)
        ax.set_xticklabels(methods, rotation=45, ha="right")
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return [_save(fig, out, "summary.png")]
