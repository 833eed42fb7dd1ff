"""The LLM judge's prompt and the reading of its replies (the server round trip is in
tests/test_generation_openai.py, against `transformers serve`)."""

from __future__ import annotations

import pytest

from ragcli.evaluation.judge import Verdict, judge_prompt, parse_verdict, verdict_metrics
from ragcli.records import Hit


def hit(text: str) -> Hit:
    return Hit(1, 1.0, "d#0", "d", "d", "d", 1, 0, len(text), text)


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("faithfulness: 5\nrelevance: 1", Verdict(1.0, 0.0)),
        ("Faithfulness: 3/5\nRelevance: 4 / 5", Verdict(0.5, 0.75)),
        ("**Faithfulness** - 2\n**Relevance** = 5", Verdict(0.25, 1.0)),
        ("The answer is relevant: 4. Faithful: 2", Verdict(0.25, 0.75)),
        ("faithfulness: 7\nrelevance: 0", Verdict(None, None)),  # off the scale: not a grade
        ("faithfulness: 45\nrelevance: 3", Verdict(None, 0.5)),  # not a single grade
        ("I cannot grade this.", Verdict(None, None)),
        ("", Verdict(None, None)),
    ],
)
def test_parse_verdict_reads_grades_and_never_guesses(reply: str, expected: Verdict) -> None:
    assert parse_verdict(reply) == expected


def test_verdict_metrics_keep_only_given_grades() -> None:
    assert verdict_metrics(Verdict(0.5, None)) == {"judge_faithfulness": 0.5}
    assert verdict_metrics(Verdict(None, None)) == {}


def test_the_judge_sees_the_question_the_answer_and_numbered_passages() -> None:
    prompt = judge_prompt("What is propolis?", "bee glue", [hit("Propolis is a resin."), hit("x" * 5000)])
    assert "Question: What is propolis?" in prompt and "Answer: bee glue" in prompt
    assert "[1] Propolis is a resin." in prompt and "[2] " + "x" * 1500 + "\n" in prompt
    assert "x" * 1501 not in prompt  # each passage cut to what a judge needs
    closed = judge_prompt("What is propolis?", "", [])
    assert "(no passages)" in closed and "Answer: (empty)" in closed and "With no passages" in closed
