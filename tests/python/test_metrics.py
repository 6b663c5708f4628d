"""Metrics by hand-computed cases, and the evaluation paths (model method, module function with a Python
scorer, the protocols) agreeing with each other."""
import math

import numpy as np
import pytest

import cfnet
from conftest import small_ae


def test_rating_metrics_by_hand():
    assert cfnet.rmse([1.0, 2.0, 4.0], [1.0, 3.0, 2.0]) == pytest.approx(math.sqrt((0 + 1 + 4) / 3))
    assert cfnet.mae([1.0, 2.0, 4.0], [1.0, 3.0, 2.0]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        cfnet.rmse([1.0], [1.0, 2.0])


def test_ranking_metrics_by_hand():
    ranked, relevant = [5, 1, 7, 3], [1, 3, 9]
    assert cfnet.precision_at_k(ranked, relevant, 4) == pytest.approx(2 / 4)
    assert cfnet.recall_at_k(ranked, relevant, 4) == pytest.approx(2 / 3)
    assert cfnet.hit_rate_at_k(ranked, relevant, 1) == 0.0
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert cfnet.ndcg_at_k(ranked, relevant, 4) == pytest.approx(dcg / idcg)
    assert cfnet.average_precision_at_k(ranked, relevant, 4) == pytest.approx((1 / 2 + 2 / 4) / 3)
    d = cfnet.ranking_metrics_at_k(ranked, relevant, 4)
    assert d["precision"] == pytest.approx(0.5) and d["recall_capped"] == pytest.approx(2 / 3)


def test_evaluation_paths_agree(split):
    m = small_ae()
    m.fit(split.train, show_progress=False)
    by_method = m.evaluate_ranking(split.test, k=5, threshold=4.0)
    by_function = cfnet.evaluate_ranking(m, split.train, split.test, k=5, threshold=4.0)
    by_python_scorer = cfnet.evaluate_ranking(lambda u: m.score_items(u), split.train, split.test, k=5,
                                              threshold=4.0)
    assert by_method == by_function
    for key in ("precision", "recall", "ndcg", "users_evaluated"):
        assert by_python_scorer[key] == pytest.approx(by_method[key])
    r = cfnet.evaluate_rating(m, split.train, split.test)
    pred = m.predict_matrix(split.test)
    assert r["rmse"] == pytest.approx(cfnet.rmse(pred, split.test.data), rel=1e-6) and r["count"] == split.test.nnz


def test_protocols(ratings):
    s = cfnet.ms_recommenders_split(ratings, seed=1)
    pop = cfnet.MostPopular()
    pop.fit(s.train)
    ms = cfnet.evaluate_ms_recommenders(pop, s)
    assert ms["k"] == 10 and 0 < ms["precision"] <= 1 and ms["users_evaluated"] > 0
    sg = cfnet.strong_generalization_split(ratings, seed=2, heldout_users=10)
    ease = cfnet.Ease(**{"lambda": 50.0})
    ease.fit(sg.train)
    r = cfnet.evaluate_strong_generalization(ease, sg)
    assert set(r) >= {"recall@20", "recall@50", "ndcg@100"} and 0 <= r["recall@20"] <= 1
