"""RAG versus fine-tuning, measured: a base and a fine-tuned model, each closed-book and with retrieval.

Each model goes through the evaluation runner once (evaluation/runner.py), which answers every
question twice, from the retriever's top passages and with no passages (closed-book), and scores the
answers with evaluation/answers.py; this module only puts the four runs side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ragcli.errors import InputFormatError, InvalidOptionError
from ragcli.evaluation.datasets import EvalSet
from ragcli.evaluation.runner import CLOSED_BOOK, evaluate
from ragcli.generation.base import Generator
from ragcli.retrieval.filters import Filter
from ragcli.retrieval.index import Index

METRICS = ("exact_match", "f1", "match", "citation_precision")
SECONDS = "seconds_per_answer"


@dataclass
class Configuration:
    """One column of the table: a model, with or without passages, and how it did."""

    name: str  # "base closed-book", "base + RAG", "fine-tuned closed-book", "fine-tuned + RAG"
    model: str | None
    context: bool
    metrics: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "context": self.context,
            "metrics": {k: round(v, 6) for k, v in self.metrics.items()},
        }


@dataclass
class Comparison:
    dataset: str
    index: str
    retriever: str
    top_k: int
    questions: int  # questions with gold answers: the ones answered and scored
    configs: list[Configuration]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "index": self.index,
            "retriever": self.retriever,
            "top_k": self.top_k,
            "questions": self.questions,
            "configs": [c.to_dict() for c in self.configs],
        }


def check_compare(
    compare: bool,
    tuned_model: str | None,
    retrievers: Sequence[str],
    generate: bool,
    outputs: Sequence[Any],
    kind: str = "auto",
    context: bool = True,
) -> None:
    """`evaluate --compare` needs a --tuned-model, one retriever, answers and a generator that loads
    models (`-g extractive` answered all four columns itself), and has its closed-book columns without
    --no-context (which it ignored); --tuned-model needs --compare."""
    if tuned_model and not compare:
        raise InvalidOptionError("--tuned-model is only used with --compare", hint="add --compare")
    if not compare:
        return
    if not tuned_model:
        raise InvalidOptionError("--compare needs --tuned-model DIR (a `ragcli train generator` output)")
    if len(retrievers) != 1:
        raise InvalidOptionError("--compare takes one retriever", hint="pass one name to -r")
    if not generate:
        raise InvalidOptionError("--compare compares answers: drop --no-generate")
    if not context:
        raise InvalidOptionError("--compare has closed-book columns already: drop --no-context")
    if kind not in ("auto", "transformers"):
        raise InvalidOptionError(
            f"--compare compares a model with its fine-tuned copy: -g {kind} loads neither",
            hint="use -g transformers (or auto) with --model BASE",
        )
    if any(outputs):
        raise InvalidOptionError(
            "--compare prints one table: --per-query, --run-file, --with-run and --plot are not used with it"
        )


def compare(
    eval_set: EvalSet,
    index: Index,
    retriever: str,
    base: Generator,
    tuned: Generator,
    *,
    top_k: int = 5,
    batch_size: int = 8,
    filter: Filter | None = None,
    on_answers: Callable[[int], None] | None = None,
) -> Comparison:
    """The four configurations, in the order of the table: base closed-book, base + RAG, fine-tuned
    closed-book, fine-tuned + RAG."""
    questions = sum(1 for q in eval_set.queries if q.answers)
    if not questions:
        raise InputFormatError(f"{eval_set.name}: no question has gold answers to compare answers against")
    configs: list[Configuration] = []
    for label, generator in (("base", base), ("fine-tuned", tuned)):
        report = evaluate(
            eval_set,
            index,
            [retriever],
            cutoffs=[top_k],
            depth=top_k,
            generator=generator,
            top_k=top_k,
            closed_book=True,
            batch_size=batch_size,
            filter=filter,
            on_answers=on_answers,
        )
        runs = {config.name: config for config in report.configs}
        for name, run, context in (
            (f"{label} closed-book", runs[CLOSED_BOOK], False),
            (f"{label} + RAG", runs[retriever], True),
        ):
            metrics = {metric: run.metrics[metric] for metric in METRICS}
            metrics[SECONDS] = run.timings["generate_s_per_query"]
            configs.append(Configuration(name, generator.model, context, metrics))
    return Comparison(eval_set.name, str(index.path), retriever, top_k, questions, configs)
