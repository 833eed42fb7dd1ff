"""An optional LLM judge (`evaluate --judge-model`): faithfulness and answer relevance, off by default.

The deterministic answer metrics (answers.py) need gold answers and judge words, not meaning; a judge
model reads the question, the passages the generator was given and its answer, and grades two things
on a 1–5 scale, as RAGAS and ARES do: faithfulness (is every claim of the answer supported by the
passages?) and answer relevance (does it answer the question?). Grades map to 0–1 ((g − 1) / 4).

It talks to an OpenAI-compatible server through the `openai` generator's client (`--base-url`, the
key variable, timeouts and retries are the same), greedily, so a rerun grades alike. A reply without a
readable grade is counted, never guessed: `judge_parsed` is the share of answers graded, and the means
cover those alone. A judge is a model, not ground truth: small models grade generously and unevenly;
report the judge model with its figures.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ragcli.errors import ModelUnavailableError
from ragcli.generation.base import GenerationOptions
from ragcli.generation.openai import OpenAIGenerator, in_order
from ragcli.records import Hit

PASSAGE_CHARS = 1500  # each passage as the judge sees it (the judge's context is not the generator's)
JUDGE_MAX_TOKENS = 48

PROMPT = """You grade the answer of a question-answering system. Read the passages it was given, the \
question and its answer.

{passages}
Question: {question}
Answer: {answer}

Grade two things from 1 (worst) to 5 (best):
faithfulness: is every claim in the answer supported by the passages? (1: contradicted or invented, \
5: fully supported){no_passages}
relevance: does the answer answer the question? (1: not at all, 5: directly and completely)

Reply with exactly two lines and nothing else:
faithfulness: <1-5>
relevance: <1-5>
"""

_GRADE_RE = {
    "faithfulness": re.compile(r"faithful(?:ness)?\W{0,5}([1-5])(?:\s*/\s*5)?\b", re.IGNORECASE),
    "relevance": re.compile(r"relevan(?:ce|t)\W{0,5}([1-5])(?:\s*/\s*5)?\b", re.IGNORECASE),
}


@dataclass
class Verdict:
    """One answer's grades, 0–1, or None when the judge's reply held no readable grade."""

    faithfulness: float | None
    relevance: float | None


def judge_prompt(question: str, answer: str, sources: Sequence[Hit]) -> str:
    passages = "".join(f"[{n}] {source.text[:PASSAGE_CHARS]}\n\n" for n, source in enumerate(sources, start=1))
    no_passages = "" if sources else " With no passages, grade 1 unless the answer says it cannot answer."
    return PROMPT.format(
        passages=passages or "(no passages)\n", question=question, answer=answer or "(empty)", no_passages=no_passages
    )


def parse_verdict(reply: str) -> Verdict:
    """The grades in a judge's reply, each 1–5 mapped to 0–1; a grade it does not give is None."""
    grades: dict[str, float | None] = {}
    for name, pattern in _GRADE_RE.items():
        found = pattern.search(reply)
        grades[name] = (int(found.group(1)) - 1) / 4 if found else None
    return Verdict(grades["faithfulness"], grades["relevance"])


class Judge:
    """Grades answers with a model behind an OpenAI-compatible server."""

    def __init__(self, model: str, options: GenerationOptions) -> None:
        judging = replace(options, max_new_tokens=JUDGE_MAX_TOKENS, temperature=0.0)
        self.client = OpenAIGenerator(model, judging)  # fails fast (exit 9) when the server is not there
        self.model = self.client.model
        if self.client.listed and self.model not in self.client.listed:  # said now, not after every answer
            raise ModelUnavailableError(
                f"--judge-model: the server at {self.client.where} has no model {model!r}",
                hint=f"it offers: {', '.join(sorted(self.client.listed)[:8])}",
            )
        self.concurrency = judging.concurrency

    def grade_many(self, items: Sequence[tuple[str, str, Sequence[Hit]]]) -> list[Verdict]:
        """(question, answer, sources) → their verdicts, in order, `--concurrency` requests in flight."""
        return in_order(lambda item: parse_verdict(self.client.complete(judge_prompt(*item))), items, self.concurrency)


def verdict_metrics(verdict: Verdict) -> dict[str, float]:
    """A verdict as per-query metric values: only the grades the judge gave."""
    values = {"judge_faithfulness": verdict.faithfulness, "judge_relevance": verdict.relevance}
    return {name: value for name, value in values.items() if value is not None}
