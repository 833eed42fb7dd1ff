"""Training data for the retriever: judged questions → (question, relevant passage, hard negatives).

The questions come from a qa.jsonl with `relevant` or a BEIR folder's split, read by the evaluation
loaders (the same validation, the same `file:line` messages). Passages come from an index: the one
given, or for a BEIR folder the cached index of its corpus that `ragcli evaluate` uses. For each
relevant document the positive is the passage of it that BM25 ranks highest for the question (its
first passage when BM25 finds none); the hard negatives are BM25's best passages of documents the
question does not judge relevant. Training and evaluation questions must not overlap: `overlap`
checks by the ids the files give and by normalised text before any work starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ragcli.errors import InputFormatError
from ragcli.evaluation.checks import normalised_question
from ragcli.evaluation.datasets import EvalQuery, EvalSet, load_eval_set, qrels_file, questions_to_evaluate
from ragcli.evaluation.metrics import relevant_set
from ragcli.readers.beir import is_beir_folder
from ragcli.retrieval.dense import embedding_input
from ragcli.retrieval.index import Index

NEGATIVE_DEPTH = 30  # BM25 passages looked at per question for its hard negatives
POOL_DEPTH = 10  # BM25 passages per validation question added to the validation pool


@dataclass(frozen=True)
class Example:
    """One training example: a question, one passage of a relevant document, its hard negatives."""

    query_id: str
    question: str
    positive: str
    positive_doc: str
    negatives: tuple[str, ...] = ()
    negative_docs: tuple[str, ...] = ()


@dataclass
class Candidates:
    """The validation pool: passages (texts and documents) that validation questions are ranked against."""

    texts: list[str]
    doc_ids: list[str]


def evaluation_sets(data: Path, split: str, eval_queries: Path | None, eval_split: str) -> list[EvalSet]:
    """The question sets training must not overlap: `--eval-queries` when given, and for a BEIR folder
    its `test` split (what `ragcli evaluate` scores by default) when it has one. `--eval-queries` without
    one question `evaluate` would ask is exit 6, as `evaluate` says it: a check against nothing would
    pass silently. A BEIR folder's own test split is read as it is: one without questions holds none
    that training could leak into."""
    sets = []
    if eval_queries is not None:
        sets.append(questions_to_evaluate(eval_queries, eval_split))
    beir_test = data.is_dir() and is_beir_folder(data) and qrels_file(data, "test") is not None
    already = eval_queries is not None and eval_queries.resolve() == data.resolve() and eval_split == "test"
    if beir_test and not already:
        sets.append(load_eval_set(data, "test"))
    return sets


def overlap(training: Sequence[EvalQuery], evaluation: EvalSet, drop: bool = False) -> list[EvalQuery]:
    """The training questions, checked against `evaluation` by the ids the files give (one made up from
    a line number names the same line of any file: no match) and by normalised text: one that is also
    an evaluation question is InputFormatError (exit 6) naming the first, or with `drop` is left out
    (the caller says how many)."""
    ids = {q.id for q in evaluation.queries if q.id_given}
    texts = {normalised_question(q.question): q for q in evaluation.queries}
    clashes = [q for q in training if (q.id_given and q.id in ids) or normalised_question(q.question) in texts]
    if clashes and not drop:
        first = clashes[0]
        if first.id_given and first.id in ids:
            same = f"the same id {first.id!r}"
        else:
            asked = texts[normalised_question(first.question)]
            where = f"query {asked.id!r}" if asked.id_given else f"line {asked.line}"
            same = f"the same question as {where} of {evaluation.name}"
        raise InputFormatError(
            f"{len(clashes)} training question(s) are also evaluation questions of {evaluation.name} "
            f"(first: {first.question[:60]!r}, {same})",
            hint="train on other questions, or pass --drop-overlap to leave these out of training",
        )
    left_out = {id(q) for q in clashes}
    return [q for q in training if id(q) not in left_out]


def split_validation(
    queries: Sequence[EvalQuery], fraction: float, seed: int
) -> tuple[list[EvalQuery], list[EvalQuery]]:
    """(training, validation): a fixed-seed slice of the judged questions held out to pick the best epoch
    (none when `fraction` is 0 or there are fewer than two questions)."""
    count = round(len(queries) * fraction) if len(queries) >= 2 else 0
    if fraction > 0 and len(queries) >= 2:
        count = min(max(count, 1), len(queries) - 1)
    order = np.random.default_rng(seed).permutation(len(queries))
    held = set(order[:count].tolist())
    return [q for i, q in enumerate(queries) if i not in held], [q for i, q in enumerate(queries) if i in held]


class PassageLookup:
    """Passages of an index by document, and BM25's ranking for questions (one batched scoring)."""

    def __init__(self, index: Index) -> None:
        self.index = index
        passages = index.passages
        self.first: dict[str, int] = {}
        self.doc_of = [passages.doc_ids[n] for n in range(len(passages))]
        for number, doc in enumerate(self.doc_of):
            self.first.setdefault(doc, number)

    def text(self, number: int) -> str:
        passages = self.index.passages
        return embedding_input(passages.titles[number], passages.texts[number])

    def bm25(self, questions: list[str], depth: int = NEGATIVE_DEPTH) -> list[list[int]]:
        return [numbers.tolist() for numbers, _ in self.index.rank_many(questions, depth, "bm25")]


def examples_for(queries: Sequence[EvalQuery], lookup: PassageLookup, hard_negatives: int) -> tuple[list[Example], int]:
    """The training examples of `queries` (one per relevant document found in the index) and how many
    relevant ids the index does not hold."""
    ranked = lookup.bm25([q.question for q in queries])
    examples: list[Example] = []
    missing = 0
    for query, numbers in zip(queries, ranked):
        relevant = relevant_set(query.qrels)
        negatives: list[int] = []
        for number in numbers:
            doc = lookup.doc_of[number]
            if doc not in relevant and all(lookup.doc_of[n] != doc for n in negatives):
                negatives.append(number)
            if len(negatives) == hard_negatives:
                break
        for doc in sorted(relevant):
            if doc not in lookup.first:
                missing += 1
                continue
            best = next((n for n in numbers if lookup.doc_of[n] == doc), lookup.first[doc])
            examples.append(
                Example(
                    query.id,
                    query.question,
                    lookup.text(best),
                    doc,
                    tuple(lookup.text(n) for n in negatives),
                    tuple(lookup.doc_of[n] for n in negatives),
                )
            )
    return examples, missing


def validation_pool(queries: Sequence[EvalQuery], lookup: PassageLookup) -> Candidates:
    """The passages validation questions are ranked against: BM25's best for each of them and every
    passage of their relevant documents. Ranking this pool instead of the whole corpus keeps a
    validation pass to seconds on a large corpus; the nDCG@10 it gives ranks epochs the same way."""
    numbers: set[int] = set()
    for ranked in lookup.bm25([q.question for q in queries], POOL_DEPTH):
        numbers.update(ranked)
    wanted = set().union(*(relevant_set(q.qrels) for q in queries)) if queries else set()
    numbers.update(n for n, doc in enumerate(lookup.doc_of) if doc in wanted)
    ordered = sorted(numbers)
    return Candidates([lookup.text(n) for n in ordered], [lookup.doc_of[n] for n in ordered])
