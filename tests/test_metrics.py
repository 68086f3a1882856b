import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from deckeras import metrics


def test_acc_hand_computed_confusion():
    # clusters 0,1,2 vs classes: cluster 0 = {a,a,b}, 1 = {b,b}, 2 = {c,c,a}
    y_true = np.array([0, 0, 1, 1, 1, 2, 2, 0])
    y_pred = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    # confusion rows=cluster, cols=class: [[2,1,0],[0,2,0],[1,0,2]] -> best 2+2+2 = 6 of 8
    assert metrics.confusion(y_true, y_pred).tolist() == [[2, 1, 0], [0, 2, 0], [1, 0, 2]]
    assert metrics.acc(y_true, y_pred) == pytest.approx(6 / 8)


def test_acc_is_invariant_to_label_permutation():
    y = np.array([0, 1, 2, 2, 1, 0, 0])
    perm = np.array([2, 0, 1])
    assert metrics.acc(y, perm[y]) == 1.0


def test_acc_more_clusters_than_classes():
    y_true = np.array([0, 0, 0, 1, 1, 1])
    y_pred = np.array([0, 0, 1, 2, 2, 3])       # 4 clusters, 2 classes
    # best map: cluster 0 -> class 0 (2), cluster 2 -> class 1 (2): 4 of 6
    assert metrics.acc(y_true, y_pred) == pytest.approx(4 / 6)


def test_acc_fewer_clusters_than_classes():
    y_true = np.array([0, 1, 2, 3, 3, 3])
    y_pred = np.zeros(6, dtype=int)
    assert metrics.acc(y_true, y_pred) == pytest.approx(3 / 6)


def test_nmi_ari_match_sklearn_and_evaluate():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 4, 100), rng.integers(0, 5, 100)
    m = metrics.evaluate(a, b)
    assert m["nmi"] == pytest.approx(normalized_mutual_info_score(a, b))
    assert m["ari"] == pytest.approx(adjusted_rand_score(a, b))
    assert set(m) == {"acc", "nmi", "ari"}


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="differ in length"):
        metrics.acc([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="integer"):
        metrics.acc([0.5, 1], [0, 1])


def test_cluster_to_class_is_the_map_acc_scores():
    y_true = [0, 0, 1, 1, 2]
    y_pred = [1, 1, 0, 0, 0]          # cluster 1 holds class 0; cluster 0 classes 1 (x2) and 2
    assert metrics.cluster_to_class(y_true, y_pred) == {1: 0, 0: 1}
    assert metrics.cluster_to_class([5, 5, 7], [2, 2, 2]) == {2: 5}
