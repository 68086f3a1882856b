"""cluster_init: the clusters start from k-means or from a Gaussian mixture."""
import numpy as np
import pytest

from deckeras import DCN, DEC, metrics
from deckeras.trainer import kmeans_start

TINY = dict(dims=[32], embedding_dim=5, pretrain_epochs=2, kmeans_n_init=2, batch_size=64,
            pretrain_optimizer="adam", scale="none", random_state=0)


def _wide_and_tight(seed):
    """A wide cluster beside a tight one: k-means puts the border half-way
    between the centres, cutting into the wide one; a mixture does not."""
    rng = np.random.default_rng(seed)
    z = np.vstack([rng.normal(0, 2.0, (300, 2)), rng.normal(0, 0.2, (300, 2)) + [3.5, 0]])
    return z.astype(np.float32), np.repeat([0, 1], 300)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_mixture_finds_clusters_of_unequal_spread_that_kmeans_cuts(seed):
    z, y = _wide_and_tight(seed)
    km = kmeans_start(z, 2, 5, 0)
    gm = kmeans_start(z, 2, 5, 0, how="gmm")
    assert metrics.acc(y, km.labels_) < 0.9 < 0.97 < metrics.acc(y, gm.labels_)
    true_means = np.array([z[y == 0].mean(0), z[y == 1].mean(0)])
    found = gm.cluster_centers_[np.argsort(gm.cluster_centers_[:, 0])]
    np.testing.assert_allclose(found, true_means, atol=0.25)


def test_the_mixture_on_a_sample_labels_every_row():
    z, y = _wide_and_tight(0)
    gm = kmeans_start(z, 2, 5, 0, sample=200, how="gmm")
    assert gm.labels_.shape == (600,) and metrics.acc(y, gm.labels_) > 0.95


@pytest.mark.parametrize("cls", [DEC, DCN])
def test_estimators_start_from_the_mixture_of_their_embedding(cls, small_digits):
    x, y = small_digits
    m = cls(n_clusters=10, maxiter=0, cluster_init="gmm", **TINY).fit(x, y)
    gm = kmeans_start(m.transform(x), 10, 2, 0, how="gmm")
    np.testing.assert_array_equal(m.init_labels_, gm.labels_)
    np.testing.assert_allclose(m.cluster_centers_, gm.cluster_centers_, rtol=1e-5, atol=1e-5)
    km = cls(n_clusters=10, maxiter=0, **TINY).fit(x, y)      # the default: k-means
    assert not np.array_equal(km.init_labels_, m.init_labels_)


def test_a_bad_cluster_init_is_refused_before_any_work(small_digits):
    with pytest.raises(ValueError, match="cluster_init"):
        DEC(cluster_init="spectral", **TINY).fit(small_digits[0])
