"""Sanity checks on judged queries before their figures are trusted.

Three mistakes give plausible-looking but meaningless numbers, so ragcli says so instead of staying
silent: qrels whose document ids are not in the index (every such query scores 0, which reads as a bad
retriever rather than the wrong index), qrels judging queries that queries.jsonl lacks (the figures
cover fewer queries than were judged), and tuning on the very queries one then evaluates on (the
tuned figures are optimistic by construction).
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ragcli.errors import InvalidOptionError, RagcliWarning
from ragcli.evaluation.datasets import EvalQuery, EvalSet, load_beir, qrels_file
from ragcli.records import composed
from ragcli.retrieval.index import Index

EXAMPLES = 3  # missing ids named in a message


@dataclass
class GoldCoverage:
    """How many of the judged queries' relevant document ids the index holds."""

    relevant: int = 0  # distinct relevant ids over all judged queries
    missing: list[str] = field(default_factory=list)  # those the index does not hold, sorted
    judged: int = 0  # queries with at least one relevant id
    unanswerable: int = 0  # judged queries none of whose relevant ids is in the index

    def message(self) -> str | None:
        """One line for people, or None when every relevant id is in the index."""
        if not self.missing:
            return None
        examples = ", ".join(repr(doc) for doc in self.missing[:EXAMPLES])
        more = f" and {len(self.missing) - EXAMPLES:,} more" if len(self.missing) > EXAMPLES else ""
        queries = _plural(self.unanswerable, "judged query", "judged queries")
        return (
            f"{len(self.missing):,} of {_plural(self.relevant, 'relevant document id')} "
            f"{'is' if len(self.missing) == 1 else 'are'} not in the index "
            f"({examples}{more}); {queries} of {self.judged:,} can only score 0 — is this the index the "
            "judgments were made for?"
        )


def unasked_message(eval_set: EvalSet) -> str | None:
    """One line for people when the qrels judge queries that queries.jsonl has no question for (they
    cannot be evaluated), else None."""
    unasked = eval_set.unasked
    if not unasked:
        return None
    examples = ", ".join(repr(qid) for qid in unasked[:EXAMPLES])
    more = f" and {len(unasked) - EXAMPLES:,} more" if len(unasked) > EXAMPLES else ""
    return (
        f"{len(unasked):,} of {_plural(eval_set.qrels_queries, 'query', 'queries')} the qrels judge "
        f"{'has' if len(unasked) == 1 else 'have'} no question in queries.jsonl ({examples}{more}), so "
        f"{'is' if len(unasked) == 1 else 'are'} not evaluated — are these the queries the judgments were made for?"
    )


def check_closed_book(closed_book: bool, generate: bool) -> None:
    """Refuse a closed-book column with no answers generated (`--no-context` with `--no-generate`):
    it compares answers, so the request was ignored without a word."""
    if closed_book and not generate:
        raise InvalidOptionError("--no-context compares answers: drop --no-generate (or --no-context)")


def warn_no_closed_book(eval_set: EvalSet, closed_book: bool, generate: bool) -> None:
    """Warn when a closed-book column was asked for but none can be made: no question has gold answers
    (a BEIR folder never has any), which is known only once the questions are read."""
    if closed_book and generate and not any(q.answers for q in eval_set.queries):
        warnings.warn(
            RagcliWarning(f"--no-context: no question of {eval_set.name} has gold answers, so no closed-book column"),
            stacklevel=2,
        )


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"


def gold_coverage(queries: Iterable[EvalQuery], index: Index) -> GoldCoverage:
    """Which relevant ids of the judged `queries` the index's documents lack."""
    held = set(map(composed, index.passages.doc_ids))  # compared in NFC, as the judged ids are
    coverage = GoldCoverage()
    relevant: set[str] = set()
    for query in queries:
        ids = {doc for doc, grade in query.qrels.items() if grade > 0}
        if not ids:
            continue
        coverage.judged += 1
        relevant |= ids
        if not ids & held:
            coverage.unanswerable += 1
    coverage.relevant = len(relevant)
    coverage.missing = sorted(relevant - held)
    return coverage


def normalised_question(text: str) -> str:
    """A question as compared for overlap: case, accents' composition, punctuation and spacing ignored."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.findall(r"\w+", text))


@dataclass
class Overlap:
    """Queries of one set that are also in another, by id or by (normalised) text."""

    by_id: int
    by_text: int
    of: int

    @property
    def any(self) -> bool:
        return bool(self.by_id or self.by_text)

    def describe(self) -> str:
        return f"{self.by_id:,} of {self.of:,} by id, {self.by_text:,} by text"


def query_overlap(first: EvalSet, second: EvalSet) -> Overlap:
    """How many of `first`'s queries `second` holds too, by id and by normalised question text."""
    ids = {q.id for q in second.queries}
    texts = {normalised_question(q.question) for q in second.queries}
    return Overlap(
        by_id=sum(1 for q in first.queries if q.id in ids),
        by_text=sum(1 for q in first.queries if normalised_question(q.question) in texts),
        of=len(first.queries),
    )


def held_out_overlap(eval_set: EvalSet, data: Path, split: str) -> str | None:
    """Why tuning on `eval_set` would flatter what `ragcli evaluate` then reports, or None: a qa.jsonl
    has no held-out part, a BEIR folder's test split is the held-out part, and a tuning split may share
    queries with it."""
    optimistic = "figures `ragcli evaluate` reports for them after --apply will be optimistic"
    if eval_set.corpus is None:
        return f"{data.name} has no held-out split: if you evaluate on these same questions, the {optimistic}"
    if split == "test":
        return f"tuning on the test split: the {optimistic}; tune on train or dev (--split)"
    if qrels_file(data, "test") is None:
        return None
    overlap = query_overlap(eval_set, load_beir(data, "test"))
    if not overlap.any:
        return None
    return f"tuning queries also in the test split ({overlap.describe()}): the {optimistic}"
