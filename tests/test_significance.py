"""Paired significance tests and confidence intervals of `ragcli evaluate`'s comparisons."""

from __future__ import annotations

import json
import random
from math import nan
from pathlib import Path

import numpy as np
import pytest
from clihelpers import invoke
from scipy import stats
from test_cli_evaluate import qa_file

from ragcli.evaluation.runner import ConfigResult, EvalReport
from ragcli.evaluation.significance import Difference, Measured, compare, confidence_interval, holm, paired_p_value
from ragcli.render import comparison_table, stdout_console


def _scipy_p(values: list[float], baseline: list[float], resamples: int) -> float:
    def mean_difference(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
        return np.mean(x - y, axis=axis)

    found = stats.permutation_test(
        (values, baseline),
        mean_difference,
        permutation_type="samples",
        vectorized=True,
        n_resamples=resamples,
        alternative="two-sided",
        random_state=0,
    )
    return float(found.pvalue)


def test_the_randomization_test_agrees_with_scipys_permutation_test() -> None:
    rng = random.Random(7)
    base = [rng.random() for _ in range(12)]
    better = [min(1.0, v + rng.uniform(-0.05, 0.2)) for v in base]
    assert paired_p_value(better, base) == pytest.approx(_scipy_p(better, base, 10_000))  # both exact: 2^12 flips
    base = [rng.random() for _ in range(300)]
    better = [min(1.0, v + rng.uniform(-0.15, 0.2)) for v in base]
    ours = paired_p_value(better, base)
    assert ours is not None and 0.001 < ours < 0.5
    assert ours == pytest.approx(_scipy_p(better, base, 20_000), abs=0.01)  # sampled: within the sampling error


def test_the_randomization_test_where_a_t_test_would_overclaim() -> None:
    assert paired_p_value([3, 2, 1], [0, 0, 0]) == 0.25  # 2 of the 8 sign assignments sum to ±6
    assert paired_p_value([1, 1], [0, 0]) == 0.5  # always better, on two questions: no evidence (t-test: p = 0)
    base = [0.1 * i for i in range(40)]
    assert paired_p_value([v + 0.1 for v in base], base) == pytest.approx(1 / 10_001)  # never 0
    assert paired_p_value(base, base) == 1.0 and paired_p_value([0.5], [0.1]) is None
    with pytest.raises(ValueError, match="different lengths"):
        paired_p_value([0.1, 0.2], [0.1])


def test_holm_adjusts_step_down() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([0.02]) == [0.02]


def test_confidence_interval_is_students() -> None:
    values = [0.2, 0.5, 0.9, 0.4, 0.7]
    low, high = confidence_interval(values) or (0.0, 0.0)
    expected = stats.t.interval(0.95, len(values) - 1, loc=sum(values) / 5, scale=stats.sem(values))
    assert (low, high) == pytest.approx(expected)
    assert confidence_interval([0.3, 0.3]) == (0.3, 0.3) and confidence_interval([0.3]) is None


def test_a_confidence_interval_stays_within_what_the_metric_can_be() -> None:
    """Groundedness of 0.997 over 600 answers had a 95% interval reaching 1.001."""
    nearly_all = [1.0] * 598 + [0.0, 0.8]
    low, high = confidence_interval(nearly_all) or (0.0, 0.0)
    assert high == 1.0 and 0.99 < low < 1.0
    assert confidence_interval([0.0] * 30 + [0.1]) == (0.0, pytest.approx(0.0098, abs=1e-4))
    assert confidence_interval([10.0, 30.0], bounds=(0.0, 100.0)) == (0.0, 100.0)  # t with 1 degree of freedom: ±127


def _in_order(values: dict[str, list[float]]) -> Measured:
    """Per-query values of questions q0, q1, … in that order."""
    return Measured([f"q{i}" for i in range(len(next(iter(values.values()))))], values)


def test_compare_pairs_each_metric_by_question_id() -> None:
    """Retrieval metrics cover the judged questions, answer metrics those with gold answers: as many of
    each, but not the same ones. Each metric's values pair with the baseline's of the same question."""
    base = [Measured(["a", "b", "c"], {"ndcg@10": [0.1, 0.2, 0.3]}), Measured(["b", "c", "d"], {"f1": [0.5, 0.0, 1.0]})]
    ours = [Measured(["c", "a", "b"], {"ndcg@10": [0.3, 0.5, 0.6]}), Measured(["b", "c", "d"], {"f1": [1.0, nan, 0.5]})]
    found = compare({"bm25": base, "tfidf": ours}, "bm25")["tfidf"]
    assert found["ndcg@10"].difference == pytest.approx((0.4 + 0.4 + 0.0) / 3)
    assert found["ndcg@10"].p_value == pytest.approx(paired_p_value([0.5, 0.6, 0.3], [0.1, 0.2, 0.3]))
    assert found["f1"].difference == pytest.approx((0.5 - 0.5) / 2)


def test_compare_corrects_over_the_configurations_compared() -> None:
    rng = random.Random(3)
    base = [rng.random() for _ in range(30)]
    columns = {
        "bm25": {"ndcg@10": base},
        "dense": {"ndcg@10": [v + rng.uniform(0.0, 0.3) for v in base]},
        "tfidf": {"ndcg@10": [v + rng.uniform(-0.1, 0.1) for v in base]},
    }
    found = compare({name: [_in_order(values)] for name, values in columns.items()}, "bm25")
    assert set(found) == {"dense", "tfidf"}
    p = {name: paired_p_value(columns[name]["ndcg@10"], base) for name in found}
    low, high = sorted(p, key=lambda name: p[name])
    assert found[low]["ndcg@10"].p_holm == pytest.approx(min(1.0, 2 * p[low]))
    assert found[high]["ndcg@10"].p_holm == pytest.approx(max(found[low]["ndcg@10"].p_holm, p[high]))
    assert found["dense"]["ndcg@10"].significant() and found["dense"]["ndcg@10"].difference > 0


def test_compare_pairs_only_the_questions_both_sides_measured() -> None:
    """A failed answer is NaN in its column: the question is left out of the pair, not the whole test."""
    base = [0.0, 1.0, 0.5, 0.25, 1.0]
    failed = [1.0, float("nan"), 0.5, 0.75, 1.0]
    found = compare({"bm25": [_in_order({"f1": base})], "closed-book": [_in_order({"f1": failed})]}, "bm25")
    kept = [(a, b) for a, b in zip(failed, base) if a == a]
    assert found["closed-book"]["f1"].difference == pytest.approx(sum(a - b for a, b in kept) / len(kept))
    assert found["closed-book"]["f1"].p_value == pytest.approx(
        paired_p_value([a for a, _ in kept], [b for _, b in kept])
    )


def test_the_table_marks_significant_differences_and_says_what_the_marks_mean() -> None:
    configs = [
        ConfigResult("bm25", "bm25", {"ndcg@10": 0.60, "map": 0.50}, {}),
        ConfigResult(
            "tfidf",
            "tfidf",
            {"ndcg@10": 0.40, "map": 0.52},
            {},
            versus={"ndcg@10": Difference(-0.2, 0.001, 0.002), "map": Difference(0.02, 0.30, 0.30)},
        ),
    ]
    counts = {"queries": 30, "judged": 30, "without_relevant": 0, "with_answers": 0, "skipped_lines": 0}
    report = EvalReport("set", "idx", [10], 100, counts, configs, None)
    console = stdout_console()
    with console.capture() as captured:
        console.print(comparison_table(report))
    text = captured.get()
    assert "0.4000 ▼" in text and "0.5200 ▲" not in text and "0.5200" in text
    assert "▲ ▼: above / below bm25 (the first column), paired randomization test p < 0.05" in text


def test_evaluate_reports_p_values_of_the_per_query_differences(sample_index: Path, tmp_path: Path) -> None:
    """The report's p-values and intervals are those of the per-query values it writes out."""
    per_query = tmp_path / "pq.jsonl"
    args = ["evaluate", str(qa_file(tmp_path)), "--index", str(sample_index), "-r", "bm25,tfidf"]
    result = invoke(*args, "-g", "extractive", "--per-query", str(per_query), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    first, second = report["configs"]
    assert "versus" not in first and second["versus"]["baseline"] == "bm25"
    assert {"ndcg@10", "map", "f1"} <= set(second["differences"]) and "ndcg@10" in first["ci95"]
    lines = [json.loads(line) for line in per_query.read_text().splitlines()]
    for metric in ("ndcg@10", "mrr@10", "f1"):
        values = {
            c: [line["metrics"][metric] for line in lines if line["config"] == c and metric in line["metrics"]]
            for c in ("bm25", "tfidf")
        }
        p_value = paired_p_value(values["tfidf"], values["bm25"])
        found = second["differences"].get(metric)
        if p_value is None:
            assert found is None
            continue
        assert found["p_value"] == pytest.approx(p_value, abs=1e-6)
        assert found["difference"] == pytest.approx(second["metrics"][metric] - first["metrics"][metric], abs=1e-6)
        interval = confidence_interval(values["bm25"])
        assert first["ci95"][metric] == pytest.approx(list(interval) if interval else None, abs=1e-6)


# Questions on which bm25 and tfidf rank the relevant document differently (the sample corpus), one
# judged without gold answers and one with gold answers but no judgment: as many judged questions as
# answered ones, the usual qa.jsonl's shape.
RANKED_APART = [
    ("q1", "When did Langstroth patent the movable-frame hive?", "glossary/nuc"),
    ("q2", "How do bees make honey from nectar?", "glossary/super"),
    ("q3", "How are varroa mites controlled?", "beekeeping/inspections.txt"),
    ("q4", "How do bees keep the hive warm in winter?", "faq-5"),
    ("q5", "What does the waggle dance tell other bees?", "faq-1"),
    ("q6", "How is honey harvested?", "faq-5"),
    ("q7", "How long does a worker bee live?", "biology/anatomy.md"),
    ("q8", "What castes live in a colony?", "faq-5"),
]
FAILING = ("How long does a worker bee live?", "How do bees keep the hive warm in winter?")


def test_a_failed_answer_leaves_the_retrieval_tests_as_they_were(sample_index: Path, tmp_path: Path) -> None:
    """Retrieval and answer metrics of as many questions shared one test group, and a failed answer's row
    was dropped from all of them: the retrieval comparison shrank to the answered questions (another
    question's, when the judged and the answered ones differ). Each metric pairs its own questions."""
    pytest.importorskip("openai")
    from fakeopenai import Reply, completion, fake_server

    qa = tmp_path / "qa.jsonl"
    rows = [{"id": i, "question": q, "answers": ["honey"], "relevant": [doc]} for i, q, doc in RANKED_APART]
    rows.append({"id": "judged-only", "question": "Why do colonies swarm?", "relevant": ["glossary/nuc"]})
    rows.append({"id": "answered-only", "question": "What is propolis made of?", "answers": ["resin"]})
    qa.write_text("".join(json.dumps(row) + "\n" for row in rows))
    args = ["evaluate", str(qa), "--index", str(sample_index), "-r", "bm25,tfidf", "--json"]
    retrieval_only = invoke(*args, "--no-generate")
    assert retrieval_only.exit_code == 0, retrieval_only.output
    expected = json.loads(retrieval_only.stdout)["configs"][1]["differences"]
    assert any(d["difference"] != 0 for d in expected.values())  # the two retrievers do differ here
    refused = Reply(json.dumps({"error": {"message": "boom"}}).encode(), status=400)
    answered = Reply(completion("honey"))
    with fake_server(lambda body: refused if any(q.encode() in body for q in FAILING) else answered) as server:
        result = invoke(*args, "-g", "openai", "--retries", "0", "--top-k", "2", "--base-url", server.url)
    assert result.exit_code == 9, result.output
    report = json.loads(result.stdout)
    assert report["counts"]["answers_failed"] == 4  # two questions, in each configuration
    differences = report["configs"][1]["differences"]
    for metric, found in expected.items():
        assert differences[metric] == found, metric
    assert {"f1", "exact_match"} <= set(differences)


@pytest.mark.parametrize(("failed", "said"), [(1, "1 answer failed"), (2, "2 answers failed")])
def test_the_table_counts_failed_answers_in_agreement(failed: int, said: str) -> None:
    counts = {"queries": 3, "judged": 3, "without_relevant": 0, "with_answers": 3, "skipped_lines": 0}
    configs = [ConfigResult("bm25", "bm25", {"ndcg@10": 0.5}, {})]
    report = EvalReport("set", "idx", [10], 100, {**counts, "answers_failed": failed}, configs, None)
    console = stdout_console()
    with console.capture() as captured:
        console.print(comparison_table(report))
    assert f"({said}, left out of the answer metrics)" in " ".join(captured.get().split())
