"""Clustering metrics: Hungarian accuracy, NMI and ARI.

None of these import TensorFlow, so they are cheap to use on their own.
"""
import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

__all__ = ["acc", "nmi", "ari", "evaluate", "confusion", "matching", "cluster_to_class"]


def _labels(y, name):
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels, got shape {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError(f"{name} must hold integer labels")
        y = y.astype(np.int64)
    return y


def _pair(y_true, y_pred):
    y_true = _labels(y_true, "y_true")
    y_pred = _labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred differ in length ({y_true.size} vs {y_pred.size})")
    return y_true, y_pred


def confusion(y_true, y_pred):
    """Count matrix ``w[i, j]`` = #samples in cluster ``i`` with class ``j``.

    Rows index the distinct predicted clusters and columns the distinct
    classes, each in sorted order, so the shapes may differ (K != C).
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if y_true.size == 0:
        return np.zeros((0, 0), dtype=np.int64)
    return contingency_matrix(y_true, y_pred).T.astype(np.int64, copy=False)


def acc(y_true, y_pred):
    """Unsupervised clustering accuracy.

    The fraction of samples matched under the best one-to-one map between
    clusters and classes (Hungarian method). When the number of clusters
    differs from the number of classes, the surplus clusters or classes stay
    unmatched and their samples count as errors.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)

    Returns
    -------
    float in [0, 1]
    """
    w, rows, cols = matching(y_true, y_pred)
    return float(w[rows, cols].sum() / w.sum()) if w.size else 0.0


def matching(y_true, y_pred):
    """``(w, rows, cols)``: the matrix of ``confusion`` and the best one-to-one
    map of its rows (clusters) to its columns (classes), Hungarian method:
    cluster position ``rows[i]`` goes with class position ``cols[i]``."""
    w = confusion(y_true, y_pred)
    if w.size == 0:
        return w, np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows, cols = linear_sum_assignment(w, maximize=True)
    return w, rows, cols


def cluster_to_class(y_true, y_pred):
    """The one-to-one map of clusters to classes that ACC scores,
    ``{cluster: class}`` (clusters left unmatched are absent)."""
    y_true, y_pred = _pair(y_true, y_pred)
    _, rows, cols = matching(y_true, y_pred)
    clusters, classes = np.unique(y_pred), np.unique(y_true)
    return {int(clusters[r]): int(classes[c]) for r, c in zip(rows, cols)}


def nmi(y_true, y_pred):
    """Normalized mutual information (scikit-learn, arithmetic average)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(normalized_mutual_info_score(y_true, y_pred))


def ari(y_true, y_pred):
    """Adjusted Rand index (scikit-learn)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(adjusted_rand_score(y_true, y_pred))


def evaluate(y_true, y_pred):
    """Return ``{'acc': ..., 'nmi': ..., 'ari': ...}`` for a labelling."""
    return {"acc": acc(y_true, y_pred), "nmi": nmi(y_true, y_pred),
            "ari": ari(y_true, y_pred)}
