"""`ragcli tune`: a grid search over BM25's k1 and b on judged queries.

Each candidate's weights are computed in memory from the index's stored term counts (seconds, no
re-reading or re-tokenising), so the whole grid costs little more than running the queries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ragcli.errors import InputFormatError, InvalidOptionError
from ragcli.evaluation.datasets import EvalSet
from ragcli.evaluation.indexing import tell_if_busy
from ragcli.evaluation.metrics import query_metrics
from ragcli.evaluation.runner import own_document, query_ranking
from ragcli.indexing.build import reweight
from ragcli.retrieval.bm25 import BM25Params, BM25Scorer, build_bm25
from ragcli.retrieval.index import Index

DEFAULT_K1 = (0.6, 0.9, 1.2, 1.5, 2.0)
DEFAULT_B = (0.3, 0.45, 0.6, 0.75, 0.9)


@dataclass
class TuneRow:
    k1: float
    b: float
    score: float


_METRIC_RE = re.compile(r"(ndcg|recall|precision|mrr|hit_rate)@([0-9]+)", re.ASCII)


def metric_depth(metric: str) -> int:
    """The documents `metric` needs ranked; an unknown metric or a cut-off below 1 is a usage error."""
    if metric == "map":
        return 1000
    match = _METRIC_RE.fullmatch(metric)
    if match is None:  # ASCII digits only: '²' is a digit to str.isdigit
        raise InvalidOptionError(f"unknown metric {metric!r}", hint="e.g. ndcg@10, recall@100, mrr@10, map")
    cutoff = int(match.group(2))
    if cutoff < 1:  # a metric ragcli knows, at a depth that ranks nothing
        raise InvalidOptionError(f"--metric {metric}: the cut-off must be at least 1", hint=f"e.g. {match.group(1)}@10")
    return cutoff


def check_grid(metric: str, k1_values: Sequence[float], b_values: Sequence[float]) -> None:
    """The metric and every (k1, b) of the grid are usable (checked before any work)."""
    metric_depth(metric)
    for k1 in k1_values:
        for b in b_values:
            try:
                BM25Params(k1=k1, b=b)
            except InvalidOptionError as exc:
                raise InvalidOptionError(f"--k1 {k1:g} --b {b:g}: {exc.message}") from None


def apply_best(index: Index, best: TuneRow, on_wait: Callable[[Path], None] | None = None) -> None:
    """Store the best pair in the index (weights recomputed from the stored counts), after any build of
    it another process is making (`on_wait` hears of the wait): tune has no --wait to ask for it."""
    variant = index.manifest["bm25"].get("variant", "lucene")
    tell_if_busy(index.path, on_wait)
    reweight(index.path, {"bm25": BM25Params.for_variant(variant, k1=best.k1, b=best.b)}, wait=True)


def tune_bm25(
    eval_set: EvalSet,
    index: Index,
    *,
    metric: str = "ndcg@10",
    k1_values: Sequence[float] = DEFAULT_K1,
    b_values: Sequence[float] = DEFAULT_B,
    progress: Callable[[int, int], None] | None = None,
) -> list[TuneRow]:
    """Every (k1, b) with its mean `metric` over the judged queries (those `evaluate` averages over,
    so the best score is the figure it reports), best first."""
    depth = metric_depth(metric)
    judged = [q for q in eval_set.queries if q.judged]
    if not any(q.has_relevant for q in judged):
        raise InputFormatError(f"{eval_set.name}: no query has a relevant document to tune on")
    owns = [own_document(index, q) for q in judged]
    counts = index.counts_matrix()
    variant = index.manifest["bm25"].get("variant", "lucene")
    rows = []
    grid = [(k1, b) for k1 in k1_values for b in b_values]
    for number, (k1, b) in enumerate(grid, start=1):
        params = BM25Params.for_variant(variant, k1=k1, b=b)
        retriever = BM25Scorer(index, params, build_bm25(counts, params))
        total = 0.0
        for query, own in zip(judged, owns):
            ranking = query_ranking(index, query.question, own, retriever, depth)
            cutoffs = [depth] if metric != "map" else [10]
            total += query_metrics([d for d, _ in ranking], query.qrels, cutoffs)[metric]
        rows.append(TuneRow(k1, b, total / len(judged)))
        if progress:
            progress(number, len(grid))
    return sorted(rows, key=lambda r: (-r.score, r.k1, r.b))
