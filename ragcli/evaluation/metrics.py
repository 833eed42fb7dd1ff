"""Retrieval metrics for one ranked list of documents against graded judgments, as trec_eval defines
them (tests check them against pytrec_eval): a document is relevant when its grade is > 0; nDCG uses
the grades as gains with a log2(rank + 1) discount and the ideal ordering of all judged documents;
P@k divides by k even when fewer were retrieved; AP averages precision at each relevant document
over all relevant documents. A query judged with no relevant document scores 0 on every metric, as in
trec_eval (whose averages count it).

Written by hand because they are a few lines each and must run on ragcli's own ranked lists; the
reference implementations are test dependencies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def relevant_set(qrels: Mapping[str, int]) -> set[str]:
    return {doc for doc, grade in qrels.items() if grade > 0}


def recall_at(ranking: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    relevant = relevant_set(qrels)
    return len(relevant.intersection(ranking[:k])) / len(relevant) if relevant else 0.0


def precision_at(ranking: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    relevant = relevant_set(qrels)
    return len(relevant.intersection(ranking[:k])) / k


def mrr_at(ranking: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    relevant = relevant_set(qrels)
    for position, doc in enumerate(ranking[:k], start=1):
        if doc in relevant:
            return 1.0 / position
    return 0.0


def hit_rate_at(ranking: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    return float(bool(relevant_set(qrels).intersection(ranking[:k])))


def ndcg_at(ranking: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    gains = [max(qrels.get(doc, 0), 0) for doc in ranking[:k]]
    dcg = sum(gain / math.log2(position + 1) for position, gain in enumerate(gains, start=1))
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    idcg = sum(gain / math.log2(position + 1) for position, gain in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def average_precision(ranking: Sequence[str], qrels: Mapping[str, int]) -> float:
    relevant = relevant_set(qrels)
    found = 0
    total = 0.0
    for position, doc in enumerate(ranking, start=1):
        if doc in relevant:
            found += 1
            total += found / position
    return total / len(relevant) if relevant else 0.0


_AT_K = {
    "recall": recall_at,
    "precision": precision_at,
    "mrr": mrr_at,
    "ndcg": ndcg_at,
    "hit_rate": hit_rate_at,
}


def query_metrics(ranking: Sequence[str], qrels: Mapping[str, int], cutoffs: Sequence[int]) -> dict[str, float]:
    """Every retrieval metric for one query: {"ndcg@10": …, "recall@100": …, "map": …}."""
    values = {f"{name}@{k}": fn(ranking, qrels, k) for name, fn in _AT_K.items() for k in cutoffs}
    values["map"] = average_precision(ranking, qrels)
    return values
