"""The retriever's training data, without a model: overlap by id and normalised text, the seeded
validation slice, and batches that never hold a question or a document twice."""

from __future__ import annotations

import pytest

from ragcli.errors import InputFormatError
from ragcli.evaluation.checks import normalised_question as normalised
from ragcli.evaluation.datasets import EvalQuery, EvalSet
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
    with pytest.raises(InputFormatError, match=r"1 training question\(s\).*'Who made the hive\?'.*query 'e0'"):
        overlap(training, by_text)
    by_id = EvalSet("held-out", [EvalQuery("q2", "something else", [], {})], [])
    with pytest.raises(InputFormatError, match="same id 'q2'"):
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
