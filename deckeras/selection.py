"""Choosing the number of clusters on an embedding."""
import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.utils import check_random_state

__all__ = ["estimate_n_clusters"]


def estimate_n_clusters(x, k_range=range(2, 21), *, random_state=None, sample_size=5000,
                        n_init=10):
    """The number of clusters whose k-means partition of ``x`` has the highest
    mean silhouette coefficient (scikit-learn's ``silhouette_score``).

    Meant for a pretrained embedding (``model.pretrain(x).transform(x)``),
    where DEC and DCN start from k-means. The silhouette of each sample
    compares its mean distance to its own cluster with that to the nearest
    other one; the score is their mean, in [-1, 1], higher is better.

    Parameters
    ----------
    x : array of shape (n_samples, n_features)
    k_range : iterable of int, default range(2, 21)
        Candidates, each >= 2 and < n_samples.
    random_state : int, RandomState or None
        Seeds k-means and the silhouette's subsample.
    sample_size : int or None, default 5000
        Score on this many samples drawn at random (the silhouette is
        quadratic in n); None scores all.
    n_init : int, default 10
        k-means restarts per candidate.

    Returns
    -------
    k : int
    scores : dict mapping each candidate k to its silhouette score
    """
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    ks = sorted({int(k) for k in k_range})
    if not ks or ks[0] < 2 or ks[-1] >= len(x):
        raise ValueError(f"every candidate k must be >= 2 and < n_samples={len(x)}, got {ks}")
    rng = check_random_state(random_state)
    seed = int(rng.randint(2 ** 31 - 1))
    sample = None if sample_size is None or sample_size >= len(x) else int(sample_size)
    scores = {}
    for k in ks:
        labels = KMeans(k, n_init=n_init, random_state=seed).fit_predict(x)
        scores[k] = float(silhouette_score(x, labels, sample_size=sample, random_state=seed))
    return max(scores, key=scores.get), scores
