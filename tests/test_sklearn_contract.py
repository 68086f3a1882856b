"""The estimators keep scikit-learn's contract: its own checks, refitting,
set_params, pickling, deepcopy and clone."""
import copy
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator

from deckeras import DCN, DEC, N2D

# scikit-learn's checks fit ~60 models each: without pretraining (whose own
# contract the tests below check with TINY) a fit costs 0.24 s instead of 0.39 s
SMALL = dict(n_clusters=3, dims=[8], embedding_dim=2, pretrain_epochs=0, maxiter=4,
             update_interval=2, kmeans_n_init=1, batch_size=16, random_state=0)
TINY = dict(dims=[32], embedding_dim=5, pretrain_epochs=3, kmeans_n_init=2, batch_size=64,
            pretrain_optimizer="adam", maxiter=40, update_interval=10, tol=0.0, random_state=0)

# Checks that cannot apply here, with their reasons (scikit-learn's own mechanism).
EXPECTED_FAILED = {}


# N2D: a wider untrained encoder and a 2-D layout of 8 neighbours, so that
# check_clustering's 50 blob samples keep their blobs (ARI 0.94-1.0 over 6
# seeds, against its 0.4), and the checks' 10-sample sets have enough neighbours
N2D_SMALL = dict(n_clusters=3, dims=[32], embedding_dim=8, umap_dim=2, umap_neighbors=8,
                 umap_epochs=200, pretrain_epochs=0, batch_size=16, random_state=0)


@pytest.mark.parametrize("cls", [DEC, DCN, N2D])
def test_scikit_learn_checks_pass(cls):
    """DEC and DCN run eagerly (``tf.config.run_functions_eagerly``): each of
    scikit-learn's ~60 fits would otherwise trace a new training graph (1 s a
    fit on 2 cores, 3-4 times the eager fit); the contract is Python's, every
    other test runs the graphs, and eager runs are a Keras user's debugging
    mode that must work too. N2D's layout stays a graph (200 epochs eagerly
    would be the slow side)."""
    import tensorflow as tf
    # DEC stops at its tolerance after 2 iterations on these sets; DCN's tol is
    # 0 (it runs to maxiter), so it gets 2, which halves its ~60 fits
    small = {**SMALL, "maxiter": 2} if cls is DCN else SMALL
    est = N2D(**N2D_SMALL) if cls is N2D else cls(**small)
    tf.config.run_functions_eagerly(cls is not N2D)
    try:
        results = check_estimator(est, expected_failed_checks=EXPECTED_FAILED,
                                  on_fail=None, on_skip=None)
    finally:
        tf.config.run_functions_eagerly(False)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]
    assert not failed
    skipped = {r["check_name"] for r in results if r["status"] == "skipped"}
    # scikit-learn skips its array-API check itself unless SCIPY_ARRAY_API is set
    assert skipped <= {"check_array_api_input"}
    assert sum(r["status"] == "passed" for r in results) >= 45


@pytest.mark.parametrize("cls", [DEC, DCN])
def test_fit_twice_same_labels_and_set_params_takes_effect(cls, small_digits):
    x, _ = small_digits
    m = cls(n_clusters=10, **TINY)
    a = m.fit(x).labels_.copy()
    assert np.array_equal(m.fit(x).labels_, a)                 # refit starts over
    other = cls(n_clusters=10, **TINY).fit(x)
    assert np.array_equal(other.labels_, a)
    m.set_params(n_clusters=4)
    assert m.fit(x).cluster_centers_.shape == (4, 5) and set(m.labels_) <= set(range(4))
    if cls is DEC:
        m.set_params(alpha=5.0)
        assert m.fit(x).clustering_layer_.alpha == 5.0
    m.set_params(embedding_dim=3)
    assert m.fit(x).transform(x).shape == (len(x), 3)


def test_warm_start_goes_on_training(small_digits):
    x, _ = small_digits
    m = DEC(n_clusters=10, **TINY).fit(x)
    w0 = [w.copy() for w in m.model_.get_weights()]
    m.set_params(warm_start=True, maxiter=20)
    m.fit(x)
    assert m.pretrain_history_ == [] or m.pretrain_time_ == 0.0
    # it started from the fitted weights: its first update saw the labels it had
    assert m.history_[0]["delta_label"] == 0.0
    assert any(not np.allclose(a, b) for a, b in zip(w0, m.model_.get_weights()))


@pytest.mark.parametrize("cls", [DEC, DCN])
def test_pickle_deepcopy_clone_of_a_fitted_model(cls, small_digits, tmp_path):
    x, _ = small_digits
    m = cls(n_clusters=10, **TINY).fit(x)
    labels, z = m.predict(x), m.transform(x)
    for twin in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert np.array_equal(twin.predict(x), labels)
        np.testing.assert_array_equal(twin.transform(x), z)
        np.testing.assert_array_equal(twin.cluster_centers_, m.cluster_centers_)
        assert np.array_equal(twin.labels_, m.labels_)
    c = clone(m)
    assert c.get_params() == m.get_params()
    with pytest.raises(NotFittedError):
        c.predict(x)


def test_only_pretrained_is_not_fitted(small_digits):
    x, _ = small_digits
    m = DEC(n_clusters=10, **TINY).pretrain(x)
    with pytest.raises(NotFittedError):
        m.predict(x)
    m.fit(x)                                   # starts from that pretraining
    assert m.pretrain_history_ and np.array_equal(m.predict(x), m.labels_)


def test_scaling_is_fitted_once_and_applied_at_predict():
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 1680, size=(3, 13))          # wine-like feature ranges
    y = np.repeat(np.arange(3), 60)
    x = (centres[y] * (1 + 0.05 * rng.standard_normal((180, 13)))).astype(np.float32)
    m = DEC(n_clusters=3, **{**TINY, "maxiter": 20}).fit(x)
    assert np.isfinite(m.transform(x)).all()
    assert np.array_equal(m.predict(x), m.labels_)
    s = DEC(n_clusters=3, scale="standard", **{**TINY, "maxiter": 20}).fit(x)
    np.testing.assert_allclose((x * s.input_scale_ + s.input_offset_).mean(0), 0, atol=1e-3)
    with pytest.raises(ValueError, match="scale must be one of"):
        DEC(scale="log").fit(x)


def test_hooks_are_declared_and_parameters_checked_before_any_work(small_digits):
    from deckeras.models.base import DeepClusterer

    class Half(DeepClusterer):          # a subclass that forgot its hooks
        def __init__(self, n_clusters=3):
            self.n_clusters = n_clusters
    with pytest.raises(TypeError, match="abstract"):
        Half()
    with pytest.raises(TypeError):
        DEC(10, "fc")                   # everything after n_clusters is keyword-only
    x, _ = small_digits
    for bad, match in [(dict(momentum=1.5), "momentum == 1.5"), (dict(lr=0.0), "lr == 0.0"),
                       (dict(batch_size=0), "batch_size == 0"), (dict(arch="rnn"), "arch must be"),
                       (dict(update_interval=2.5), "update_interval must be an instance")]:
        m = DCN(n_clusters=10, **{**TINY, **bad})
        with pytest.raises((ValueError, TypeError), match=match):
            m.fit(x)
        assert not hasattr(m, "autoencoder_")


@pytest.mark.parametrize("cls", [DEC, DCN, N2D])
def test_docstrings_document_every_parameter_and_the_attributes(cls):
    import inspect
    doc = cls.__doc__
    for name in inspect.signature(cls).parameters:
        assert any(f"{sep}{name}{end}" in doc for sep in ("\n", ", ") for end in (" :", ",")), name
    assert "\nAttributes\n----------\n" in doc
    for attr in ("labels_", "cluster_centers_", "history_", "n_iter_", "n_features_in_"):
        assert f"\n{attr} :" in doc or f"\n{attr}," in doc, attr


def test_fitting_touches_no_global_state(small_digits):
    """The dtype policy and the seeds go to the layers: Keras's policy and the
    Python, NumPy and TensorFlow global generators are as they were."""
    import random

    import keras
    import tensorflow as tf
    x, _ = small_digits
    random.seed(11)
    np.random.seed(11)
    tf.random.set_seed(11)
    expect = (random.random(), np.random.random(), float(tf.random.uniform([])))
    random.seed(11)
    np.random.seed(11)
    tf.random.set_seed(11)
    a = DEC(n_clusters=10, precision="mixed_bfloat16", **TINY).fit(x)
    assert keras.config.dtype_policy().name == "float32"
    assert any(layer.dtype_policy.name == "mixed_bfloat16" for layer in a.autoencoder_.layers)
    assert (random.random(), np.random.random(), float(tf.random.uniform([]))) == expect
    b = DEC(n_clusters=10, precision="mixed_bfloat16", **TINY).fit(x)    # same seed, same run
    assert np.array_equal(a.labels_, b.labels_)
