import numpy as np
import pytest
import tensorflow as tf

from deckeras import DEC, metrics
from deckeras.methods import METHODS, make_method
from deckeras.training import BatchOrder
from deckeras.models.dec import kl_divergence, target_distribution

TINY = dict(dims=[32], embedding_dim=5, pretrain_epochs=2, kmeans_n_init=2, batch_size=64,
            pretrain_optimizer="adam", scale="none")


def test_target_distribution_hand_computed():
    q = np.array([[0.5, 0.5], [0.9, 0.1]])
    # f = (1.4, 0.6); row 0: (0.25/1.4, 0.25/0.6) normalised -> (0.3, 0.7)
    # row 1: (0.81/1.4, 0.01/0.6) = (0.578571.., 0.016666..) normalised
    p = target_distribution(q)
    np.testing.assert_allclose(p[0], [0.3, 0.7])
    a, b = 0.81 / 1.4, 0.01 / 0.6
    np.testing.assert_allclose(p[1], [a / (a + b), b / (a + b)])
    np.testing.assert_allclose(p.sum(1), 1.0)


def test_kl_divergence_matches_numpy():
    p = np.array([[0.3, 0.7], [0.9, 0.1]], np.float32)
    q = np.array([[0.5, 0.5], [0.6, 0.4]], np.float32)
    expected = np.mean(np.sum(p * np.log(p / q), 1))
    assert float(kl_divergence(tf.constant(p), tf.constant(q))) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("n,b", [(512, 256), (10, 3), (5, 8)])
def test_batches_shuffled_cover_all_never_empty(n, b):
    gen = BatchOrder(n, b, 0)
    per_epoch = -(-n // b)
    epochs = [[next(gen) for _ in range(per_epoch)] for _ in range(3)]
    for batches in epochs:
        assert all(len(x) > 0 for x in batches)
        assert sorted(np.concatenate(batches).tolist()) == list(range(n))
    if n > b:
        assert not np.array_equal(epochs[0][0], np.arange(b))          # shuffled
        assert not np.array_equal(epochs[0][0], epochs[1][0])          # reshuffled each epoch


def test_fit_predict_partition_and_reload(small_digits, tmp_path):
    x, y = small_digits
    m = DEC(n_clusters=10, maxiter=45, update_interval=20, random_state=0, **TINY)
    m.fit(x, y)
    assert m.labels_.shape == (len(x),) and m.labels_.min() >= 0 and m.labels_.max() < 10
    assert m.cluster_centers_.shape == (10, 5) and m.n_features_in_ == 64
    assert m.transform(x).shape == (len(x), 5)
    assert len(m.history_) >= 3 and {"acc", "nmi", "ari", "delta_label"} <= set(m.history_[-1])
    # maxiter 45 is not a multiple of 20: the reported labels are still the final model's
    np.testing.assert_array_equal(m.predict(x), m.labels_)
    m.save(tmp_path / "m.h5")
    m2 = DEC(n_clusters=10, **TINY).load(tmp_path / "m.h5", (64,))
    np.testing.assert_array_equal(m2.predict(x), m.labels_)
    np.testing.assert_allclose(m2.predict_proba(x), m.predict_proba(x), rtol=1e-5, atol=1e-6)


def test_tol_is_honoured(small_digits):
    x, y = small_digits
    m = DEC(n_clusters=10, maxiter=1000, update_interval=10, tol=1.0, random_state=0, **TINY).fit(x)
    assert m.n_iter_ == 10 and m.converged_
    m = DEC(n_clusters=10, maxiter=30, update_interval=10, tol=0.0, random_state=0, **TINY).fit(x)
    assert m.n_iter_ == 30 and not m.converged_


def test_same_seed_same_result(small_digits):
    x, _ = small_digits
    a = DEC(n_clusters=10, maxiter=20, update_interval=10, random_state=3, **TINY).fit(x)
    b = DEC(n_clusters=10, maxiter=20, update_interval=10, random_state=3, **TINY).fit(x)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(a.labels_, b.labels_)


def test_idec_with_vanishing_clustering_term_is_a_plain_autoencoder(small_digits):
    x, _ = small_digits
    m = DEC(n_clusters=10, gamma=0.0, keep_decoder=True, maxiter=40, update_interval=20,
            optimizer="adam", lr=1e-3, random_state=0, **TINY)
    m.pretrain(x)
    ae_before = m.autoencoder_.get_weights()
    mse_before = float(np.mean((m.autoencoder_.predict(x, verbose=0) - x) ** 2))
    m.fit(x)
    # the autoencoder keeps learning and reconstructs better
    assert m.history_[-1]["loss"] > 0
    assert any(not np.allclose(a, b) for a, b in zip(ae_before, m.autoencoder_.get_weights()))
    mse_after = float(np.mean((m.autoencoder_.predict(x, verbose=0) - x) ** 2))
    assert mse_after < mse_before
    # loss logged is the reconstruction MSE only (no KL term): close to the measured MSE
    assert m.history_[-1]["loss"] == pytest.approx(mse_after, rel=0.5)


def test_idec_gamma_zero_keeps_centres_fixed(small_digits):
    x, _ = small_digits
    m = DEC(n_clusters=10, gamma=0.0, keep_decoder=True, maxiter=30, update_interval=10,
            random_state=0, **TINY)
    m.pretrain(x)
    z = m.encoder_.predict(x, verbose=0)
    from sklearn.cluster import KMeans
    start = KMeans(10, n_init=2, random_state=0).fit(z).cluster_centers_
    m.fit(x)
    np.testing.assert_allclose(m.cluster_centers_, start, rtol=1e-5, atol=1e-5)


def test_dec_da_targets_come_from_clean_data(small_digits):
    x, _ = small_digits
    m = DEC(n_clusters=10, augment=True, maxiter=40, update_interval=20, tol=0.0,
            random_state=0, **TINY)
    from deckeras.augment import augment
    from deckeras.callbacks import Callback

    class TargetAtTheEnd(Callback):        # deckeras's callbacks see the trainer's state
        def on_train_end(self, logs=None):
            if self.params["phase"] == "cluster":
                self.p = self.trainer.cluster_vars["P"].numpy()
    seen = TargetAtTheEnd()
    m.fit(x.reshape(-1, 8, 8), callbacks=[seen])      # augmentation needs images
    # maxiter is a multiple of update_interval: P was refreshed from the final model
    p_clean = target_distribution(m.predict_proba(x))
    np.testing.assert_allclose(seen.p, p_clean, rtol=1e-4, atol=1e-6)
    # ... and would differ had it come from augmented inputs
    x_aug = augment(tf.constant(x), m.image_shape_, m.rotation, m.shift, seed=0).numpy()
    p_aug = target_distribution(m.predict_proba(x_aug))
    assert np.abs(p_aug - p_clean).max() > 1e-2


@pytest.mark.parametrize("method", METHODS)
def test_every_method_runs_end_to_end(method, small_digits):
    x, y = small_digits
    xi = x.reshape(-1, 8, 8, 1)
    from deckeras.methods import method_family
    clustering = {} if method_family(method) == "n2d" else dict(   # N2D: no clustering phase
        maxiter=6, update_interval=3, kmeans_n_init=1)
    m = make_method(method, "digits", n_clusters=10, pretrain_epochs=1, random_state=0,
                    dims=[32], embedding_dim=5, batch_size=128, **clustering)
    m.fit(xi if m.arch == "conv" or method.endswith("-DA") else x, y)
    assert m.labels_.shape == (len(x),) and set(np.unique(m.labels_)) <= set(range(10))
    assert np.isfinite(m.history_[-1]["loss"])


def test_bad_input(small_digits):
    x, _ = small_digits
    with pytest.raises(ValueError, match="larger than the number of samples"):
        DEC(n_clusters=700, **TINY).fit(x)
    bad = x.copy()
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        DEC(n_clusters=10, **TINY).fit(bad)
    for width in (7, 64):          # flat samples are not images, whatever their width
        with pytest.raises(ValueError, match="flat samples are not images"):
            DEC(n_clusters=2, arch="conv", **TINY).fit(np.ones((10, width), np.float32))
    with pytest.raises(ValueError, match="flat samples are not images"):
        DEC(n_clusters=2, augment=True, **TINY).fit(np.ones((10, 64), np.float32))
    bad_opt = DEC(n_clusters=10, optimizer="rmsprop", maxiter=1, **TINY)
    with pytest.raises(ValueError, match="optimizer must be one of 'sgd', 'adam'"):
        bad_opt.fit(x)
    assert not hasattr(bad_opt, "autoencoder_")          # refused before any work
    with pytest.raises(ValueError, match="not fitted"):
        DEC().predict(x)


def test_sklearn_clone_and_params():
    from sklearn.base import clone
    m = DEC(n_clusters=4, gamma=0.3, lr=0.5, augment=True)
    c = clone(m)
    assert c.get_params() == m.get_params() and c is not m
    c.set_params(lr=0.1)
    assert c.lr == 0.1 and m.lr == 0.5


def test_dec_improves_on_its_init_and_beats_kmeans_on_small_synthetic():
    from sklearn.cluster import KMeans
    from deckeras.datasets import make_synthetic
    x, y = make_synthetic(n_per_cluster=300, seed=0)
    raw = metrics.nmi(y, KMeans(4, n_init=10, random_state=0).fit_predict(x))
    m = DEC(n_clusters=4, dims=[64, 32], embedding_dim=2, pretrain_epochs=200,
            pretrain_optimizer="adam", optimizer="adam", lr=1e-3, batch_size=64, maxiter=400,
            update_interval=20, random_state=0).fit(x, y)
    ours = metrics.nmi(y, m.labels_)
    # measured: raw 0.78, AE + k-means 0.84, DEC 0.89 (seeds 1, 2: 0.90, 0.92)
    assert ours > raw + 0.05, (ours, raw)
    assert ours > m.init_metrics_["nmi"] + 0.02, (ours, m.init_metrics_)
