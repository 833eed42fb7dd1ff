"""Running an evaluation: every configuration over every query, metrics averaged the trec_eval way.

A configuration is a retriever (bm25, tfidf, …), optionally with a generator answering from its top
passages, or the generator alone with no passages ("closed-book", to show what retrieval adds).
Passage hits map to their documents (a document scores as its best passage) before scoring, as
document-level judgments require. Queries without any relevant document are left out of the
retrieval averages and counted; answer metrics average over the queries that have gold answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ragcli.evaluation.answers import answer_metrics
from ragcli.evaluation.datasets import EvalQuery, EvalSet
from ragcli.evaluation.metrics import query_metrics
from ragcli.generation.base import Generator, strip_citations
from ragcli.records import Hit
from ragcli.retrieval.base import Scorer, top_k
from ragcli.retrieval.index import Index

DEFAULT_CUTOFFS = (1, 3, 5, 10, 100)
CLOSED_BOOK = "closed-book"


@dataclass
class QueryResult:
    query: EvalQuery
    ranking: list[tuple[str, float]]  # (document id, score), best first
    metrics: dict[str, float] = field(default_factory=dict)
    answer: str | None = None
    citations: list[int] = field(default_factory=list)

    def to_dict(self, config: str, top: int = 10) -> dict[str, Any]:
        return {
            "config": config,
            "id": self.query.id,
            "question": self.query.question,
            "hits": [{"doc_id": d, "score": round(s, 6)} for d, s in self.ranking[:top]],
            "metrics": {k: round(v, 6) for k, v in self.metrics.items()},
            "answer": self.answer,
            "gold_answers": self.query.answers,
            "citations": self.citations,
        }


@dataclass
class ConfigResult:
    name: str
    retriever: str | None
    results: list[QueryResult]
    metrics: dict[str, float]
    timings: dict[str, float]


@dataclass
class EvalReport:
    dataset: str
    index: str
    cutoffs: list[int]
    depth: int
    counts: dict[str, int]
    configs: list[ConfigResult]
    generator: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "index": self.index,
            "cutoffs": self.cutoffs,
            "depth": self.depth,
            "counts": self.counts,
            "generator": self.generator,
            "configs": [
                {
                    "name": c.name,
                    "retriever": c.retriever,
                    "metrics": {k: round(v, 6) for k, v in c.metrics.items()},
                    "timings": {k: round(v, 4) for k, v in c.timings.items()},
                }
                for c in self.configs
            ],
        }


def document_ranking(doc_ids: Sequence[str], scores: Sequence[float], depth: int) -> list[tuple[str, float]]:
    """Passages (best first) → documents, each at its best passage's score and position."""
    ranking: list[tuple[str, float]] = []
    seen: set[str] = set()
    for doc, score in zip(doc_ids, scores):
        if doc not in seen:
            seen.add(doc)
            ranking.append((doc, score))
            if len(ranking) == depth:
                break
    return ranking


def retrieve_documents(index: Index, question: str, retriever: str | Scorer, depth: int) -> list[tuple[str, float]]:
    """The `depth` best documents (cutting deeper into the passages while passages repeat documents;
    the query is scored once)."""
    candidates, passage_scores = index.scores(question, retriever)
    want = depth
    total = len(index.passages)
    doc_ids = index.passages.doc_ids
    while True:
        numbers, scores = top_k(candidates, passage_scores, want, index.passages.id_rank)
        ranking = document_ranking([doc_ids[n] for n in numbers.tolist()], scores.tolist(), depth)
        if len(ranking) >= depth or len(numbers) < want or want >= total:
            return ranking
        want = min(total, want * 2)


def _mean(values: Sequence[dict[str, float]]) -> dict[str, float]:
    if not values:
        return {}
    keys = values[0].keys()
    return {k: sum(v[k] for v in values) / len(values) for k in keys}


Progress = Callable[[str, int, int], None]  # (configuration, done, total)


def evaluate(
    eval_set: EvalSet,
    index: Index,
    retrievers: Sequence[str] = ("bm25",),
    *,
    cutoffs: Sequence[int] = DEFAULT_CUTOFFS,
    depth: int = 1000,
    generator: Generator | None = None,
    top_k: int = 5,
    closed_book: bool = False,
    progress: Progress | None = None,
) -> EvalReport:
    """Evaluate each retriever (and the generator on top of it, when given) on `eval_set`."""
    cutoffs = sorted(set(cutoffs))
    depth = max(depth, max(cutoffs))
    queries = eval_set.queries
    judged = [q for q in queries if q.judged]
    with_answers = [q for q in queries if q.answers]
    configs: list[ConfigResult] = []
    for retriever in retrievers:
        started = time.perf_counter()
        results = []
        for number, query in enumerate(queries, start=1):
            ranking = retrieve_documents(index, query.question, retriever, depth)
            result = QueryResult(query, ranking)
            if query.judged:
                result.metrics = query_metrics([d for d, _ in ranking], query.qrels, cutoffs)
            sources = index.search(query.question, k=top_k, retriever=retriever) if generator and query.answers else []
            results.append((result, sources))
            if progress:
                progress(retriever, number, len(queries))
        timings = {"retrieve_s_per_query": (time.perf_counter() - started) / max(len(queries), 1)}
        metrics = _mean([r.metrics for r, _ in results if r.query.judged])
        if generator is not None and with_answers:
            answered = [(r, h) for r, h in results if r.query.answers]
            metrics.update(_generate(generator, answered, timings))
        configs.append(ConfigResult(retriever, retriever, [r for r, _ in results], metrics, timings))
    if closed_book and generator is not None and with_answers:
        results_cb: list[tuple[QueryResult, list[Hit]]] = [(QueryResult(q, []), []) for q in with_answers]
        timings = {}
        metrics = _generate(generator, results_cb, timings)
        configs.append(ConfigResult(CLOSED_BOOK, None, [r for r, _ in results_cb], metrics, timings))
    counts = {
        "queries": len(queries),
        "judged": len(judged),
        "without_relevant": len(queries) - len(judged),
        "with_answers": len(with_answers),
        "skipped_lines": len(eval_set.skipped),
    }
    generator_info = {"name": generator.name, "model": generator.model, "top_k": top_k} if generator else None
    return EvalReport(eval_set.name, str(index.path), list(cutoffs), depth, counts, configs, generator_info)


def _generate(
    generator: Generator, items: list[tuple[QueryResult, list[Hit]]], timings: dict[str, float]
) -> dict[str, float]:
    """Answers for the items with gold answers; their mean answer metrics."""
    started = time.perf_counter()
    generations = generator.generate_many([(r.query.question, hits) for r, hits in items])
    timings["generate_s_per_query"] = (time.perf_counter() - started) / max(len(items), 1)
    scores = []
    for (result, _), generation in zip(items, generations):
        result.answer = generation.text
        result.citations = generation.citations
        values = answer_metrics(strip_citations(generation.text), result.query.answers)
        result.metrics.update(values)
        scores.append(values)
    return _mean(scores)
