"""Running an evaluation: every configuration over every query, metrics averaged the trec_eval way.

A configuration is a retriever (bm25, tfidf, …), optionally with a generator answering from its top
passages, or the generator alone with no passages ("closed-book", to show what retrieval adds).
Passage hits map to their documents (a document scores as its best passage) before scoring, as
document-level judgments require. Retrieval metrics average over the judged queries, as trec_eval's
over those of its qrels: one judged only not relevant scores 0 and counts; answer metrics average over
the queries that have gold answers.
"""

from __future__ import annotations

import math
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragcli.errors import InvalidOptionError, RagcliError
from ragcli.evaluation.answers import answer_metrics, grounding_metrics
from ragcli.evaluation.checks import check_closed_book, warn_no_closed_book
from ragcli.evaluation.datasets import EvalQuery, EvalSet
from ragcli.evaluation.indexing import corpus_skips
from ragcli.evaluation.judge import verdict_metrics
from ragcli.evaluation.metrics import query_metrics
from ragcli.evaluation.runs import ExternalRun
from ragcli.evaluation.significance import TEST_NAME, Difference, Measured, compare, confidence_interval
from ragcli.generation.base import Generation, Generator, generations_or_errors, strip_citations
from ragcli.records import Hit, SearchOptions, composed
from ragcli.retrieval.base import RETRIEVERS, Scorer, top_k, with_needs
from ragcli.retrieval.bm25 import BM25Params
from ragcli.retrieval.filters import Filter
from ragcli.retrieval.index import Index

if TYPE_CHECKING:
    from ragcli.evaluation.judge import Judge

DEFAULT_CUTOFFS = (1, 3, 5, 10, 100)
DEFAULT_DEPTH = 1000  # documents ranked per query when no depth is given (deeper when a cut-off is)
CLOSED_BOOK = "closed-book"


PER_QUERY_HITS = 10  # documents each per-query line lists (a run file lists all `depth`)


@dataclass
class QueryResult:
    query: EvalQuery
    ranking: list[tuple[str, float]]  # (document id, score), best first
    metrics: dict[str, float] = field(default_factory=dict)
    answer: str | None = None
    citations: list[int] = field(default_factory=list)
    error: str | None = None  # why there is no answer: the one-line error of the request that failed

    def to_dict(self, config: str, top: int = PER_QUERY_HITS) -> dict[str, Any]:
        return {
            "config": config,
            "id": self.query.id,
            "question": self.query.question,
            "hits": [{"doc_id": d, "score": round(s, 6)} for d, s in self.ranking[:top]],
            "metrics": {k: round(v, 6) for k, v in self.metrics.items()},
            "answer": self.answer,
            "gold_answers": self.query.answers,
            "relevant": {doc: grade for doc, grade in self.query.qrels.items() if grade > 0},
            "citations": self.citations,
            **({"error": self.error} if self.error is not None else {}),
        }


class ResultSink:
    """Where per-query results go as they are made (the runner keeps none of them): `ranking` gets each
    query's whole ranking as soon as it is retrieved, `result` each finished result (answer in) with
    its ranking cut to the first PER_QUERY_HITS documents; both in query order, one configuration
    after the other."""

    def ranking(self, config: str, result: QueryResult) -> None:
        """A retrieval configuration's ranking of one query (`depth` documents)."""

    def result(self, config: str, result: QueryResult) -> None:
        """One query's finished result in a configuration (closed-book included)."""


@dataclass
class ConfigResult:
    name: str
    retriever: str | None
    metrics: dict[str, float]
    timings: dict[str, float]
    ci95: dict[str, tuple[float, float]] = field(default_factory=dict)  # each mean's 95% confidence interval
    versus: dict[str, Difference] = field(default_factory=dict)  # against the first configuration's values
    run: str | None = None  # the run file whose rankings these are (`--with-run`), not a retriever's


@dataclass
class EvalReport:
    dataset: str
    index: str
    cutoffs: list[int]
    depth: int
    counts: dict[str, int]
    configs: list[ConfigResult]
    generator: dict[str, Any] | None
    corpus_skipped: dict[str, int] = field(default_factory=dict)  # a BEIR corpus's records left out, by reason
    failure: RagcliError | None = None  # the first request that failed an answer (the caller's exit 9)
    bm25: dict[str, Any] | None = None  # the index's BM25 parameters (`index_bm25`)
    filter: str | None = None  # the `--path` / `--where` restriction every ranking was made under

    @property
    def bm25_changed(self) -> bool:
        """Whether a configuration ranked with BM25 (bm25, a hybrid) at parameters other than ragcli's
        defaults (`ragcli index --k1/--b`, or a `tune --apply`): its figures are that pair's, which
        the report must say, since the same command gave others before."""
        if self.bm25 is None:
            return False
        default = BM25Params()
        searched = with_needs(c.retriever for c in self.configs if c.retriever is not None)
        used = (self.bm25["variant"], self.bm25["k1"], self.bm25["b"])
        return "bm25" in searched and used != (default.variant, default.k1, default.b)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "index": self.index,
            "cutoffs": self.cutoffs,
            "depth": self.depth,
            "counts": self.counts,
            "generator": self.generator,
            "corpus_skipped": self.corpus_skipped,
            "bm25": self.bm25,
            "filter": self.filter,
            "configs": [
                {
                    "name": c.name,
                    "retriever": c.retriever,
                    "metrics": {k: round(v, 6) for k, v in c.metrics.items()},
                    **({"run": c.run} if c.run is not None else {}),
                    "ci95": {k: [round(low, 6), round(high, 6)] for k, (low, high) in c.ci95.items()},
                    **(self._versus(c) if c is not self.configs[0] else {}),
                    "timings": {k: round(v, 4) for k, v in c.timings.items()},
                }
                for c in self.configs
            ],
        }

    def _versus(self, config: ConfigResult) -> dict[str, Any]:
        """How a configuration differs from the first, metric by metric, with the test's p-values."""
        return {
            "versus": {"baseline": self.configs[0].name, "test": TEST_NAME},
            "differences": {name: d.to_dict() for name, d in config.versus.items()},
        }


def document_ranking(doc_ids: Sequence[str], scores: Sequence[float], depth: int) -> list[tuple[str, float]]:
    """Passages (best first) → documents, each at its best passage's score and position; ids in NFC, as
    the judged ones are (`records.composed`)."""
    ranking: list[tuple[str, float]] = []
    seen: set[str] = set()
    for doc, score in zip(map(composed, doc_ids), scores):
        if doc not in seen:
            seen.add(doc)
            ranking.append((doc, score))
            if len(ranking) == depth:
                break
    return ranking


def retrieve_documents(
    index: Index, question: str, retriever: str | Scorer, depth: int, filter: Filter | None = None
) -> list[tuple[str, float]]:
    """The `depth` best documents (cutting deeper into the passages while passages repeat documents;
    the query is scored once), among the passages `filter` admits."""
    candidates, passage_scores = index.scores(question, retriever, filter)
    want = depth
    total = len(index.passages)
    doc_ids = index.passages.doc_ids
    while True:
        numbers, scores = top_k(candidates, passage_scores, want, index.passages.id_rank)
        ranking = document_ranking([doc_ids[n] for n in numbers.tolist()], scores.tolist(), depth)
        if len(ranking) >= depth or len(numbers) < want or want >= total:
            return ranking
        want = min(total, want * 2)


SELF_HEAD = 200  # characters of a query and of a document compared to tell a query that is a document
SELF_MIN = 20  # a shorter common start must be the whole of both


def _flat(text: str) -> str:
    return " ".join(text.lower().split())


def _same_start(a: str, b: str) -> bool:
    n = min(len(a), len(b), SELF_HEAD)
    return n > 0 and a[:n] == b[:n] and (n >= SELF_MIN or len(a) == len(b))


def own_document(index: Index, query: EvalQuery) -> str | None:
    """The query's id when the query is itself a document of the corpus (ArguAna's arguments, Quora's
    and CQADupStack's questions: the document with its id begins as the query does, with or without
    its title) and is not judged relevant to itself. Its ranking then leaves that document out, as
    BEIR (`ignore_identical_ids`) and Anserini (`-removeQuery`) do, so figures compare with theirs.
    A document that only shares the id is kept: NPL's and Cranfield's queries and documents are both
    numbered from 1."""
    if query.qrels.get(query.id, 0) > 0:
        return None
    start = index.document_start(query.id, 2 * SELF_HEAD)
    if start is None:
        return None
    title, text = start
    mine = _flat(query.question)
    forms = (_flat(text), _flat(f"{title} {text}"))
    return query.id if any(_same_start(mine, form) for form in forms) else None


def query_ranking(
    index: Index, question: str, own: str | None, retriever: str | Scorer, depth: int, filter: Filter | None = None
) -> list[tuple[str, float]]:
    """A query's document ranking for evaluation, without the query's own document `own`
    (`own_document`; None: nothing left out)."""
    ranking = retrieve_documents(index, question, retriever, depth + (own is not None), filter)
    return ranking if own is None else [(doc, score) for doc, score in ranking if doc != own][:depth]


class _Means:
    """Per-query metric values, one column of floats per metric (8 bytes a value: what the averages
    need, summed in query order exactly as before), and the questions they belong to, by which the
    paired tests match them with another configuration's."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.columns: dict[str, array[float]] = {}

    def add(self, query: EvalQuery, values: dict[str, float]) -> None:
        if not self.columns:
            self.columns = {name: array("d") for name in values}
        self.ids.append(query.id)
        for name, column in self.columns.items():
            column.append(values[name])

    def measured(self) -> Measured:
        return Measured(self.ids, self.columns)

    def means(self) -> dict[str, float]:
        """Each metric's mean over the questions that have a value (NaN: an answer whose request failed)."""
        measured = {name: _measured(column) for name, column in self.columns.items()}
        return {name: sum(values) / len(values) for name, values in measured.items() if values}

    def intervals(self) -> dict[str, tuple[float, float]]:
        found = {name: confidence_interval(_measured(column)) for name, column in self.columns.items()}
        return {name: interval for name, interval in found.items() if interval is not None}


def _measured(column: Sequence[float]) -> list[float]:
    """A column's values without the NaNs of questions left unmeasured."""
    return [value for value in column if not math.isnan(value)]


class _Grades:
    """A judge's grades: each metric averages over the answers it was graded on (a reply the judge
    model garbled is left out, not scored 0), and `judge_parsed` says how many that was."""

    NAMES = ("judge_faithfulness", "judge_relevance")

    def __init__(self) -> None:
        self.sums = dict.fromkeys(self.NAMES, 0.0)
        self.counts = dict.fromkeys(self.NAMES, 0)
        self.both = 0

    def add(self, values: dict[str, float]) -> dict[str, float]:
        for name, value in values.items():
            self.sums[name] += value
            self.counts[name] += 1
        self.both += len(values) == len(self.NAMES)
        return values

    def means(self, answered: int) -> dict[str, float]:
        means = {name: self.sums[name] / self.counts[name] for name in self.NAMES if self.counts[name]}
        return {**means, "judge_parsed": self.both / max(answered, 1)}


class _ConfigRun:
    """One configuration's results on their way out: rankings go to the sinks at once and are cut to
    what a per-query line shows; results wait only for their answers (generated `batch_size` at a
    time, in query order) and then go to the sinks. Nothing else is kept."""

    def __init__(
        self,
        name: str,
        generator: Generator | None,
        sinks: Sequence[ResultSink],
        batch_size: int,
        ranked: bool,
        analyze: Callable[[str], list[str]],
        on_answers: Callable[[int], None] | None = None,
        judge: Judge | None = None,
        language: str = "en",
    ) -> None:
        self.name, self.generator, self.sinks, self.analyze = name, generator, sinks, analyze
        self.language = language  # the answers' language where a question's line names none: the index's
        self.judge, self.grades, self.graded = judge, _Grades(), 0
        self.on_answers = on_answers
        self.batch_size, self.ranked = max(1, batch_size), ranked
        self.retrieval, self.answers = _Means(), _Means()
        self.pending: list[tuple[QueryResult, list[Hit]]] = []
        self.waiting = 0  # pending results that need an answer
        self.retrieve_seconds = self.generate_seconds = 0.0
        self.answered = 0
        self.failures: list[RagcliError] = []  # the requests that failed an answer, in question order

    def add(self, result: QueryResult, sources: list[Hit]) -> None:
        if self.ranked:
            for sink in self.sinks:
                sink.ranking(self.name, result)
        result.ranking = result.ranking[:PER_QUERY_HITS]
        self.pending.append((result, sources))
        if self.generator is not None and result.query.answers:
            self.waiting += 1
        if self.waiting == 0 or self.waiting >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        items = [(r, h) for r, h in self.pending if r.query.answers] if self.generator is not None else []
        if self.generator is not None and items:
            started = time.perf_counter()
            outcomes = generations_or_errors(self.generator, [(r.query.question, hits) for r, hits in items])
            self.generate_seconds += time.perf_counter() - started
            given: list[tuple[QueryResult, list[Hit]]] = []
            for (result, hits), outcome in zip(items, outcomes):
                if isinstance(outcome, RagcliError):  # no answer to score: left out of the means and tests
                    result.error = str(outcome)
                    self.failures.append(outcome)
                    failed = dict.fromkeys(self._answer_values(result, hits, Generation("", [], 0)), math.nan)
                    self.answers.add(result.query, failed)
                    continue
                result.answer = outcome.text
                result.citations = outcome.citations
                values = self._answer_values(result, hits, outcome)
                result.metrics.update(values)
                self.answers.add(result.query, values)
                given.append((result, hits))
            if self.judge is not None and given:
                verdicts = self.judge.grade_many(
                    [(r.query.question, strip_citations(r.answer or ""), hits) for r, hits in given]
                )
                for (result, _), verdict in zip(given, verdicts):
                    result.metrics.update(self.grades.add(verdict_metrics(verdict)))
            self.answered += len(given)
            if self.on_answers:
                self.on_answers(len(items))
        for result, _ in self.pending:
            for sink in self.sinks:
                sink.result(self.name, result)
        self.pending.clear()
        self.waiting = 0

    def _answer_values(self, result: QueryResult, hits: list[Hit], generation: Generation) -> dict[str, float]:
        """An answer's metrics against the gold answers and the passages it was given."""
        text, query = strip_citations(generation.text), result.query
        relevant = {doc for doc, grade in query.qrels.items() if grade > 0}
        language = query.language or self.language
        values = answer_metrics(text, query.answers, language)
        values.update(
            grounding_metrics(text, generation.citations, hits, query.answers, relevant, self.analyze, language)
        )
        return values

    def answer_means(self) -> dict[str, float]:
        """The answer metrics' means, with the judge's (over the answers it graded) when there is one."""
        means = self.answers.means()
        if self.judge is not None:
            means.update(self.grades.means(self.answered))
        return means

    def answer_timings(self) -> dict[str, float]:
        return {"generate_s_per_query": self.generate_seconds / max(self.answered, 1)}

    def score(self, result: QueryResult, cutoffs: Sequence[int]) -> None:
        """A judged question's retrieval metrics (`EvalQuery.judged`), on its result and kept for the
        means and the tests."""
        if result.query.judged:
            result.metrics = query_metrics([d for d, _ in result.ranking], result.query.qrels, cutoffs)
            self.retrieval.add(result.query, result.metrics)

    def columns(self) -> list[Measured]:
        """Each metric's per-query values: retrieval over the judged questions, answers over those with
        gold answers; the judge's grades are left out, averaged over fewer answers."""
        return [self.retrieval.measured(), self.answers.measured()]

    def intervals(self) -> dict[str, tuple[float, float]]:
        return {**self.retrieval.intervals(), **self.answers.intervals()}


Progress = Callable[[str, int, int], None]  # (configuration, done, total)


def evaluate(
    eval_set: EvalSet,
    index: Index,
    retrievers: Sequence[str] = ("bm25",),
    *,
    cutoffs: Sequence[int] = DEFAULT_CUTOFFS,
    depth: int | None = None,
    generator: Generator | None = None,
    top_k: int = 5,
    closed_book: bool = False,
    progress: Progress | None = None,
    sinks: Sequence[ResultSink] = (),
    batch_size: int = 8,
    filter: Filter | None = None,
    on_answers: Callable[[int], None] | None = None,
    judge: Judge | None = None,
    options: SearchOptions | None = None,
    runs: Sequence[ExternalRun] = (),
) -> EvalReport:
    """Evaluate each retriever (and the generator on top of it, when given) on `eval_set`, every query
    restricted by `filter` when given (`--path`, `--where`), each retriever opened with `options`
    (the fusion's `--rrf-k`, `--dense-weight`); then each of `runs`, another system's rankings.

    Per-query results stream to `sinks` (per-query lines, run files) and are not kept: memory holds
    the queries, each query's metric values and at most `batch_size` results waiting for answers,
    never the rankings of all queries. `progress` hears of each query retrieved, `on_answers` of each
    batch of answers generated (how many). A server's request that fails fails its answer alone: the
    result carries the error and no answer metrics, the means and paired tests cover the answers given,
    `counts["answers_failed"]` says how many failed and `failure` is the first (a batch whose every
    request failed raises it at once: `generations_or_errors`)."""
    cutoffs = check_cutoffs(cutoffs)
    depth = check_depth(depth, cutoffs)
    check_closed_book(closed_book, generator is not None)
    warn_no_closed_book(eval_set, closed_book, generator is not None)
    queries = eval_set.queries
    judged = [q for q in queries if q.judged]
    with_answers = [q for q in queries if q.answers]
    answering = generator if with_answers else None
    configs: list[ConfigResult] = []
    columns: dict[str, list[Measured]] = {}  # per-query values, for the paired tests
    owns = [own_document(index, q) for q in queries]
    failures: list[RagcliError] = []  # the answers whose requests failed, every configuration's
    for retriever in retrievers:
        scorer = index.retriever(retriever, options)
        run = _ConfigRun(
            retriever,
            answering,
            sinks,
            batch_size,
            ranked=True,
            analyze=index.analyzer,
            on_answers=on_answers,
            judge=judge,
            language=index.analyzer.settings.language,
        )
        for number, query in enumerate(queries, start=1):
            started = time.perf_counter()
            ranking = query_ranking(index, query.question, owns[number - 1], scorer, depth, filter)
            result = QueryResult(query, ranking)
            run.score(result, cutoffs)
            sources = (
                index.search(query.question, k=top_k, retriever=scorer, filter=filter)
                if answering is not None and query.answers
                else []
            )
            run.retrieve_seconds += time.perf_counter() - started
            run.add(result, sources)
            if progress:
                progress(retriever, number, len(queries))
        run.flush()
        failures += run.failures
        timings = {"retrieve_s_per_query": run.retrieve_seconds / max(len(queries), 1)}
        metrics = run.retrieval.means()
        if answering is not None:
            timings.update(run.answer_timings())
            metrics.update(run.answer_means())
        configs.append(ConfigResult(retriever, retriever, metrics, timings, run.intervals()))
        columns[retriever] = run.columns()
    for external in runs:  # another system's rankings: retrieval metrics only, on the same questions
        run = _ConfigRun(external.name, None, sinks, batch_size, ranked=False, analyze=index.analyzer)
        for query in queries:
            # every document of the run, as trec_eval scores it (--depth is how deep ragcli ranks)
            result = QueryResult(query, external.rankings.get(query.id, []))
            run.score(result, cutoffs)
            run.add(result, [])
        run.flush()
        configs.append(
            ConfigResult(external.name, None, run.retrieval.means(), {}, run.intervals(), run=str(external.path))
        )
        columns[external.name] = run.columns()
    if closed_book and answering is not None:
        run = _ConfigRun(
            CLOSED_BOOK,
            answering,
            sinks,
            batch_size,
            ranked=False,
            analyze=index.analyzer,
            on_answers=on_answers,
            judge=judge,
            language=index.analyzer.settings.language,
        )
        for query in with_answers:
            run.add(QueryResult(query, []), [])
        run.flush()
        failures += run.failures
        configs.append(ConfigResult(CLOSED_BOOK, None, run.answer_means(), run.answer_timings(), run.intervals()))
        columns[CLOSED_BOOK] = run.columns()
    if len(configs) > 1:  # every configuration against the first, question by question
        for config, versus in compare(columns, configs[0].name).items():
            next(c for c in configs if c.name == config).versus = versus
    counts = {
        "queries": len(queries),
        "judged": len(judged),
        "without_relevant": sum(not q.has_relevant for q in judged),
        "with_answers": len(with_answers),
        "skipped_lines": len(eval_set.skipped),
        "queries_in_corpus": sum(own is not None for own in owns),
    }
    skips = corpus_skips(index) if eval_set.corpus is not None else {}
    counts["skipped_documents"] = sum(skips.values())
    if failures:
        counts["answers_failed"] = len(failures)
    generator_info = {"name": generator.name, "model": generator.model, "top_k": top_k} if generator else None
    if generator_info is not None and judge is not None:
        generator_info["judge_model"] = judge.model
    return EvalReport(
        eval_set.name,
        str(index.path),
        list(cutoffs),
        depth,
        counts,
        configs,
        generator_info,
        skips,
        failure=failures[0] if failures else None,
        bm25=index_bm25(index),
        filter=None if filter is None else str(filter),
    )


def index_bm25(index: Index) -> dict[str, Any] | None:
    """The BM25 parameters the index's weights were computed with (variant, k1, b: what `ragcli index`
    or a `tune --apply` stored), which every BM25 figure depends on; None for an index without BM25."""
    recorded = index.manifest.get("bm25")
    if not isinstance(recorded, dict):
        return None
    return {"variant": recorded.get("variant", "lucene"), "k1": recorded["k1"], "b": recorded["b"]}


def check_cutoffs(cutoffs: Sequence[int]) -> list[int]:
    """The @k cut-offs, sorted and unique; each must be a whole number >= 1."""
    if not cutoffs or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in cutoffs):
        raise InvalidOptionError(f"--k: cut-offs must be whole numbers >= 1, not {list(cutoffs)}")
    return sorted(set(cutoffs))


def check_depth(depth: int | None, cutoffs: Sequence[int]) -> int:
    """Documents to rank per query: `depth`, or without one `DEFAULT_DEPTH` (the largest cut-off when
    deeper). A depth below the largest cut-off would cut the @k metrics short (recall@100 of 2 documents),
    so it is refused rather than raised in silence: MAP and the run file are the depth's."""
    deepest = max(cutoffs)
    if depth is None:
        return max(DEFAULT_DEPTH, deepest)
    if depth < deepest:
        raise InvalidOptionError(
            f"--depth {depth} is below the largest --k cut-off, {deepest}",
            hint=f"give --depth {deepest} or more, or --k cut-offs up to {depth}",
        )
    return depth


def check_retrievers(names: Sequence[str]) -> list[str]:
    """Retriever names to compare: each registered, none twice (checked before any work)."""
    for name in names:
        RETRIEVERS.get(name)  # unknown names: a usage error listing the known ones
    twice = sorted({name for name in names if list(names).count(name) > 1})
    if twice:
        raise InvalidOptionError(f"--retriever lists {', '.join(twice)} more than once")
    return list(names)
