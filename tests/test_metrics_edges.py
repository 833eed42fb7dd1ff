"""Retrieval metrics at their edges, against trec_eval (pytrec_eval) and hand-computed values:
no relevant document judged, a cutoff of zero, an ideal DCG of exactly 1, negative grades."""

from __future__ import annotations

import math

import pytest
import pytrec_eval

from ragcli.evaluation.metrics import (
    average_precision,
    hit_rate_at,
    mrr_at,
    ndcg_at,
    precision_at,
    query_metrics,
    recall_at,
    relevant_set,
)


def trec(ranking: list[str], qrels: dict[str, int], measures: set[str]) -> dict[str, float]:
    """trec_eval's values for one query (scores strictly decreasing, so no tie-breaking of its own)."""
    run = {"q": {doc: float(len(ranking) - i) for i, doc in enumerate(ranking)}}
    return pytrec_eval.RelevanceEvaluator({"q": qrels}, measures).evaluate(run)["q"]


def test_ndcg_is_zero_when_nothing_judged_is_relevant() -> None:
    ranking, qrels = ["a", "b", "c"], {"a": 0, "b": 0}
    reference = trec(ranking, qrels, {"ndcg_cut.1,3"})
    assert ndcg_at(ranking, qrels, 1) == reference["ndcg_cut_1"] == 0.0
    assert ndcg_at(ranking, qrels, 3) == reference["ndcg_cut_3"] == 0.0
    assert ndcg_at([], {"a": 1}, 5) == 0.0  # nothing retrieved: DCG 0 over a positive ideal


def test_ndcg_with_an_ideal_dcg_of_exactly_one() -> None:
    # one relevant document of grade 1: the ideal DCG is 1 / log2(2) = 1
    assert ndcg_at(["a", "x"], {"a": 1}, 2) == pytest.approx(trec(["a", "x"], {"a": 1}, {"ndcg_cut.2"})["ndcg_cut_2"])
    assert ndcg_at(["a", "x"], {"a": 1}, 2) == 1.0
    assert ndcg_at(["x", "a"], {"a": 1}, 2) == pytest.approx(1 / math.log2(3))


def test_ndcg_at_cutoff_zero_is_zero() -> None:
    assert ndcg_at(["a"], {"a": 3}, 0) == 0.0


def test_ndcg_uses_grades_as_gains_and_ignores_non_positive_ones() -> None:
    qrels = {"a": 3, "b": -1, "c": 1, "d": 0}
    ranking = ["b", "c", "a", "z"]
    dcg = 0 / math.log2(2) + 1 / math.log2(3) + 3 / math.log2(4)  # b's -1 counts as 0, z is unjudged
    idcg = 3 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(ranking, qrels, 4) == pytest.approx(dcg / idcg)
    reference = trec(ranking, {"a": 3, "c": 1, "d": 0}, {"ndcg_cut.4"})  # trec_eval: -1 is not relevant
    assert ndcg_at(ranking, qrels, 4) == pytest.approx(reference["ndcg_cut_4"])


def test_ideal_ordering_is_cut_at_k() -> None:
    qrels = {"a": 1, "b": 2, "c": 3}
    ranking = ["a", "b", "c"]
    # ideal at k=2 is [3, 2]; the run has [1, 2]
    expected = (1 + 2 / math.log2(3)) / (3 + 2 / math.log2(3))
    assert ndcg_at(ranking, qrels, 2) == pytest.approx(expected)
    assert ndcg_at(ranking, qrels, 2) == pytest.approx(trec(ranking, qrels, {"ndcg_cut.2"})["ndcg_cut_2"])


def test_relevant_means_a_positive_grade() -> None:
    assert relevant_set({"a": 2, "b": 1, "c": 0, "d": -1}) == {"a", "b"}


def test_cutoff_metrics_against_trec_eval_when_fewer_are_retrieved() -> None:
    ranking = ["x", "a", "y"]
    qrels = {"a": 1, "b": 2, "c": 0}
    reference = trec(ranking, qrels, {"P.1,2,5", "recall.1,2,5", "success.1,2,5", "recip_rank", "map"})
    for k in (1, 2, 5):
        assert precision_at(ranking, qrels, k) == pytest.approx(reference[f"P_{k}"])  # P@5 divides by 5
        assert recall_at(ranking, qrels, k) == pytest.approx(reference[f"recall_{k}"])
        assert hit_rate_at(ranking, qrels, k) == pytest.approx(reference[f"success_{k}"])
    assert mrr_at(ranking, qrels, 3) == pytest.approx(reference["recip_rank"]) == pytest.approx(0.5)
    assert average_precision(ranking, qrels) == pytest.approx(reference["map"]) == pytest.approx(0.5 / 2)


def test_reciprocal_rank_only_looks_at_the_first_k() -> None:
    assert mrr_at(["x", "y", "a"], {"a": 1}, 2) == 0.0
    assert mrr_at(["x", "y", "a"], {"a": 1}, 3) == pytest.approx(1 / 3)
    assert mrr_at(["a", "b"], {"a": 1, "b": 1}, 2) == 1.0  # the first relevant one counts, not the last


def test_hit_rate_is_zero_or_one() -> None:
    assert hit_rate_at(["a", "b"], {"a": 1, "b": 1}, 2) == 1.0
    assert hit_rate_at(["x", "a"], {"a": 1}, 1) == 0.0


def test_average_precision_over_all_relevant_documents() -> None:
    # relevant at ranks 1 and 3 of three relevant in all: (1/1 + 2/3) / 3
    ranking = ["a", "x", "b", "y"]
    qrels = {"a": 1, "b": 2, "c": 1}
    assert average_precision(ranking, qrels) == pytest.approx((1 + 2 / 3) / 3)
    assert average_precision(ranking, qrels) == pytest.approx(trec(ranking, qrels, {"map"})["map"])


def test_query_metrics_names_every_metric_at_every_cutoff() -> None:
    values = query_metrics(["a", "x"], {"a": 1, "b": 1}, [1, 2])
    assert values == {
        "recall@1": 0.5,
        "recall@2": 0.5,
        "precision@1": 1.0,
        "precision@2": 0.5,
        "mrr@1": 1.0,
        "mrr@2": 1.0,
        "ndcg@1": 1.0,
        "ndcg@2": pytest.approx(1 / (1 + 1 / math.log2(3))),
        "hit_rate@1": 1.0,
        "hit_rate@2": 1.0,
        "map": 0.5,
    }
