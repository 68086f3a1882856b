"""deckeras.manifold: UMAP from NumPy, SciPy, scikit-learn and TensorFlow."""
import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from deckeras.manifold import UMAP, curve_ab, fuzzy_graph, memberships
from deckeras.metrics import acc


def test_memberships_hit_their_target_and_start_at_one():
    d = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, 0.5, 0.5, 0.5]])
    rho = np.array([1.0, 0.5])
    w, sigma = memberships(d, rho, np.log2(3))
    np.testing.assert_allclose(w[0, 0], 1.0)              # the nearest: d - rho = 0
    np.testing.assert_allclose(w[0].sum(), np.log2(3), rtol=1e-9)
    # by hand: 1 + e^(-1/s) + e^(-2/s) + e^(-3/s) = log2(3) at the sigma found
    s = sigma[0]
    np.testing.assert_allclose(1 + np.exp(-1 / s) + np.exp(-2 / s) + np.exp(-3 / s), np.log2(3),
                               rtol=1e-9)
    np.testing.assert_array_equal(w[1], 1.0)               # all at rho: nothing to search


def test_curve_matches_umap_learns_constants():
    a, b = curve_ab(0.1)                     # umap-learn's published a, b for min_dist 0.1
    assert abs(a - 1.577) < 0.01 and abs(b - 0.895) < 0.01


def test_graph_is_symmetric_fuzzy_union_without_self_loops():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(60, 4)).astype(np.float32)
    p = fuzzy_graph(z, 8)[0]
    m = p.tocsr()
    assert (abs(m - m.T) > 1e-12).nnz == 0
    assert m.diagonal().max() == 0
    assert 0 < m.data.min() and m.data.max() <= 1 + 1e-12
    # every point keeps an edge of weight 1 to its nearest neighbour (d = rho)
    assert np.allclose(np.asarray(m.max(axis=1).todense()).ravel(), 1.0)


def test_blobs_separate_and_new_points_land_in_their_blob(capsys):
    rng = np.random.default_rng(1)
    centres = rng.normal(scale=6.0, size=(3, 20))
    y = np.repeat(np.arange(3), 80)
    z = (centres[y] + rng.normal(size=(240, 20))).astype(np.float32)
    u = UMAP(2, n_neighbors=10, min_dist=0.0, n_epochs=150, random_state=0, verbose=1)
    e = u.fit_transform(z)
    shown = capsys.readouterr().out       # each stage, and the layout every 50 epochs
    assert "neighbour graph of 240 points" in shown and "spectral start" in shown
    assert [line.split()[3] for line in shown.splitlines() if line.startswith("UMAP layout")] == [
        "50/150", "100/150", "150/150"]
    assert e.shape == (240, 2) and np.isfinite(e).all()
    gm = GaussianMixture(3, random_state=0).fit(e)
    assert acc(y, gm.predict(e)) == 1.0
    np.testing.assert_array_equal(u.transform(z), e)          # training points: their own place
    y_new = np.repeat(np.arange(3), 10)
    z_new = (centres[y_new] + rng.normal(size=(30, 20))).astype(np.float32)
    assert acc(y_new, gm.predict(u.transform(z_new))) == 1.0
    # each new point's place depends on that point alone
    np.testing.assert_allclose(u.transform(z_new[:7]), u.transform(z_new)[:7], rtol=1e-6)


def test_digits_umap_then_mixture_beats_kmeans_on_pixels(digits):
    """N2D's step on raw pixels: UMAP to 10-D (20 neighbours, min_dist 0),
    then a Gaussian mixture, against k-means (0.79 on digits' pixels)."""
    x, y = digits
    e = UMAP(10, n_neighbors=20, min_dist=0.0, n_epochs=200, random_state=0).fit_transform(x)
    km = acc(y, KMeans(10, n_init=10, random_state=0).fit_predict(x))
    best = max(acc(y, GaussianMixture(10, covariance_type="full", random_state=s).fit_predict(e))
               for s in range(3))
    assert best > km + 0.04, (best, km)


def test_grouped_updates_pack_the_layout_as_umap_learn_does(small_digits):
    """umap-learn applies each edge's update before the next one is computed;
    all of an epoch's updates from the positions at its start
    (``update_groups=1``) give a looser layout. Gaussian mixtures' per-sample
    log-likelihood bound on the 10-D layouts of these 600 digits (20
    neighbours, min_dist 0), measured: umap-learn 17.2-18.3 (seeds 0-1),
    the default 17.4-18.3, one group 15.2."""
    x, _ = small_digits
    bound = {}
    for groups in (1, None):
        more = {} if groups is None else {"update_groups": groups}
        e = UMAP(10, n_neighbors=20, min_dist=0.0, n_epochs=200, random_state=0, **more).fit_transform(x)
        bound[groups] = GaussianMixture(10, covariance_type="full", random_state=0).fit(e).lower_bound_
    assert bound[None] > 16.5 and bound[None] > bound[1] + 1.0, bound


def test_bad_settings_are_one_line_errors():
    z = np.zeros((5, 3), np.float32)
    with pytest.raises(ValueError, match=r"n_neighbors=5 must be .* \(n_samples=5\)"):
        UMAP(n_neighbors=5).fit(z)
    with pytest.raises(ValueError, match="n_components=4 must be"):
        UMAP(4, n_neighbors=2).fit(z)
    with pytest.raises(ValueError, match="update_groups=0 must be a whole number"):
        UMAP(2, n_neighbors=2, update_groups=0).fit(z)
