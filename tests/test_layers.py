import keras
import numpy as np
import pytest

from deckeras.layers import ClusterCentres, ClusteringLayer, soft_assignment


def _hand_q(z, mu, alpha):
    q = np.zeros((len(z), len(mu)))
    for i in range(len(z)):
        for j in range(len(mu)):
            q[i, j] = (1 + np.sum((z[i] - mu[j]) ** 2) / alpha) ** (-(alpha + 1) / 2)
    return q / q.sum(1, keepdims=True)


def test_soft_assignment_two_points_three_centres():
    z = np.array([[0.0, 0.0], [1.0, 1.0]], dtype=np.float32)
    mu = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    layer = ClusteringLayer(3, initial_centres=mu)
    q = keras.ops.convert_to_numpy(layer(z))
    # point 0: distances 0, 1, 4 -> kernels 1, 1/2, 1/5 -> normalised by 1.7
    np.testing.assert_allclose(q[0], [1 / 1.7, 0.5 / 1.7, 0.2 / 1.7], rtol=1e-5)
    # point 1: distances 2, 1, 2 -> 1/3, 1/2, 1/3
    np.testing.assert_allclose(q[1], np.array([1 / 3, 1 / 2, 1 / 3]) / (7 / 6), rtol=1e-5)


def test_alpha_is_used_and_in_config():
    rng = np.random.default_rng(0)
    z, mu = rng.normal(size=(5, 4)).astype(np.float32), rng.normal(size=(3, 4)).astype(np.float32)
    layer = ClusteringLayer(3, alpha=3.0, initial_centres=mu)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(z)), _hand_q(z, mu, 3.0), rtol=1e-5)
    assert layer.get_config()["alpha"] == 3.0
    clone = ClusteringLayer.from_config(layer.get_config())
    assert clone.alpha == 3.0 and clone.n_clusters == 3
    assert not np.allclose(_hand_q(z, mu, 3.0), _hand_q(z, mu, 1.0))


def test_far_points_stay_finite_and_normalised():
    mu = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    z = np.array([[1e6, 1e6], [-1e6, 3e6], [0.5, 0.5]], dtype=np.float32)
    q = keras.ops.convert_to_numpy(soft_assignment(z, mu))
    assert np.all(np.isfinite(q))
    np.testing.assert_allclose(q.sum(1), 1.0, rtol=1e-6)


def test_set_centres_from_kmeans():
    layer = ClusteringLayer(2)
    layer.build((None, 3))
    layer.set_centres(np.ones((2, 3)))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.clusters), np.ones((2, 3)))


def test_bad_parameters():
    with pytest.raises(ValueError):
        ClusteringLayer(0)
    with pytest.raises(ValueError):
        ClusteringLayer(3, alpha=0)


def test_cluster_centres_distances():
    layer = ClusterCentres(2, init_count=7)
    layer.build((None, 2))
    layer.centres.assign(np.array([[0.0, 0.0], [3.0, 4.0]], dtype=np.float32))
    d = keras.ops.convert_to_numpy(layer(np.array([[0.0, 0.0]], dtype=np.float32)))
    np.testing.assert_allclose(d, [[0.0, 25.0]])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.counts), [7, 7])
