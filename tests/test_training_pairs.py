"""The retriever's training data, without a model: overlap by id and normalised text, the seeded
validation slice, and batches that never hold a question or a document twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragcli.errors import InputFormatError
from ragcli.evaluation.checks import normalised_question as normalised
from ragcli.evaluation.datasets import EvalQuery, EvalSet, load_qa_file
from ragcli.training.pairs import Example, overlap, split_validation
from ragcli.training.retriever import batches


def queries(*texts: str, prefix: str = "q") -> list[EvalQuery]:
    return [EvalQuery(f"{prefix}{n}", text, [], {"d": 1}) for n, text in enumerate(texts)]


def test_normalised_text_ignores_case_punctuation_spacing_and_unicode_forms() -> None:
    assert normalised("  Obesity   DECREASES life-quality. ") == normalised("obesity decreases life quality")
    assert normalised("ﬁbrosis ＣＯＶＩＤ") == normalised("fibrosis covid")  # NFKC: ligature, full width
    assert normalised("life quality") != normalised("life qualities")


def test_overlap_is_refused_by_text_and_by_id_or_dropped() -> None:
    training = queries("What is BM25?", "Who made the hive?", "Why do bees swarm?")
    by_text = EvalSet("held-out", queries("who MADE the hive", prefix="e"), [])
    with pytest.raises(
        InputFormatError,
        match=r"1 training question\(s\) .* \(first: 'Who made the hive\?', the same question as query 'e0' of held-out\)",
    ):
        overlap(training, by_text)
    by_id = EvalSet("held-out", [EvalQuery("q2", "something else", [], {})], [])
    with pytest.raises(InputFormatError, match=r"\(first: 'Why do bees swarm\?', the same id 'q2'\)"):
        overlap(training, by_id)
    assert [q.id for q in overlap(training, by_text, drop=True)] == ["q0", "q2"]
    assert overlap(training, EvalSet("other", queries("unrelated", prefix="e"), [])) == training


def test_the_validation_slice_is_fixed_by_the_seed_and_never_everything() -> None:
    asked = queries(*(f"question {n}" for n in range(20)))
    kept, held = split_validation(asked, 0.1, seed=3)
    assert len(held) == 2 and len(kept) == 18 and not {q.id for q in held} & {q.id for q in kept}
    assert split_validation(asked, 0.1, seed=3) == (kept, held)
    assert split_validation(asked, 0.1, seed=4)[1] != held
    assert split_validation(asked, 0.0, seed=3) == (asked, [])
    assert len(split_validation(asked[:2], 0.9, seed=3)[1]) == 1  # at least one question is trained on


def test_batches_hold_each_example_once_and_no_question_or_document_twice() -> None:
    examples = [Example(f"q{i % 5}", "q", "p", f"d{i % 7}", ("n",), (f"d{(i + 1) % 7}",)) for i in range(40)]
    planned = batches(examples, list(range(40)), 4)
    assert sorted(i for batch in planned for i in batch) == list(range(40))
    for batch in planned:
        keys = [
            k for i in batch for k in ("q" + examples[i].query_id, examples[i].positive_doc, *examples[i].negative_docs)
        ]
        assert len(keys) == len(set(keys)) and len(batch) <= 4
    assert batches(examples, list(range(40)), 4) == planned


def test_ids_made_up_from_line_numbers_never_match_but_the_text_does(tmp_path: Path) -> None:
    """A qa.jsonl line without an id gets one from its line number, the same in every file: only the
    ids the files give are compared. The same question still matches, named by its line."""

    def qa(name: str, *lines: dict) -> Path:
        path = tmp_path / name
        path.write_text("".join(json.dumps({**line, "relevant": ["d"]}) + "\n" for line in lines))
        return path

    training = load_qa_file(qa("train.jsonl", {"question": "How do bees dance?"}, {"question": "What is propolis?"}))
    held_out = load_qa_file(qa("eval.jsonl", {"question": "Who makes wax?"}, {"question": "what is PROPOLIS"}))
    assert [q.id for q in held_out.queries] == [q.id for q in training.queries]  # made up alike: q1, q2
    assert overlap(training.queries, held_out, drop=True) == training.queries[:1]
    with pytest.raises(InputFormatError, match=r"\(first: 'What is propolis\?', the same question as line 2 of eval"):
        overlap(training.queries, held_out)
    other = load_qa_file(qa("other.jsonl", {"question": "Who makes wax?"}, {"id": "q2", "question": "Why swarm?"}))
    assert overlap(training.queries, other) == training.queries
    given = load_qa_file(qa("given.jsonl", {"id": "q1", "question": "Where is the queen?"}))
    assert overlap(given.queries, load_qa_file(qa("unnamed.jsonl", {"question": "Who makes wax?"}))) == given.queries
