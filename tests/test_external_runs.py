"""`ragcli evaluate --with-run`: another system's TREC run scored beside ragcli's retrievers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pytrec_eval
from clihelpers import invoke
from test_cli_evaluate import QA, qa_file

from ragcli.errors import ExitCode

# ties (scored alike), lines out of order and a rank column that disagrees: trec_eval ranks by score,
# ties by document id in reverse, and ignores the rank column
RUN = """\
langstroth Q0 beekeeping/varroa.md 1 2.5 other
langstroth Q0 beekeeping/hive_types.md 2 2.5 other
langstroth Q0 hive/honey_production.md 3 0.5 other
honey Q0 behavior/foraging.rst 1 1.0 other
honey Q0 hive/honey_production.md 9 3.0 other
honey Q0 beekeeping/varroa.md 4 1.0 other
varroa Q0 beekeeping/hive_types.md 1 4.0 other
varroa Q0 beekeeping/varroa.md 2 1.5 other
"""


def test_a_run_scores_as_trec_eval_scores_it(sample_index: Path, tmp_path: Path) -> None:
    run = tmp_path / "other.trec"
    run.write_text(RUN)
    result = invoke(
        "evaluate",
        str(qa_file(tmp_path)),
        "--index",
        str(sample_index),
        "--no-generate",
        "--with-run",
        str(run),
        "--json",
    )
    assert result.exit_code == 0, result.output
    theirs = json.loads(result.stdout)["configs"][1]
    assert theirs["name"] == "other.trec" and theirs["run"] == str(run) and theirs["retriever"] is None
    qrels = {q["id"]: ({d: 1 for d in q["relevant"]} if isinstance(q["relevant"], list) else q["relevant"]) for q in QA}
    scored: dict[str, dict[str, float]] = {}
    for line in RUN.splitlines():
        qid, _, doc, _, score, _ = line.split()
        scored.setdefault(qid, {})[doc] = float(score)
    measures = {"map": "map", "ndcg_cut_10": "ndcg@10", "recall_10": "recall@10", "P_5": "precision@5"}
    trec = pytrec_eval.RelevanceEvaluator(qrels, set(measures)).evaluate(scored)
    for measure, name in measures.items():
        expected = sum(trec[q][measure] for q in trec) / len(trec)
        assert theirs["metrics"][name] == pytest.approx(expected, abs=1e-6), name
    assert set(theirs["differences"]) >= {"map", "ndcg@10"} and theirs["versus"]["baseline"] == "bm25"


def test_a_run_is_scored_whole_whatever_the_depth(sample_index: Path, tmp_path: Path) -> None:
    """A run was cut at --depth (1000 by default): a relevant document at rank 1101 of 1201 scored MAP
    0.0, trec_eval 0.000908. trec_eval keeps every document of a run (unless -M), and so does ragcli."""
    qa, run = tmp_path / "qa.jsonl", tmp_path / "deep.trec"
    qa.write_text(json.dumps({"id": "q", "question": "bees", "relevant": ["hit.md"]}) + "\n")
    ranked = {f"miss-{n:04d}.md": 2000.0 - n for n in range(1200)}
    ranked["hit.md"] = 2000.0 - 1099.5  # below 1100 misses, above the other 100: rank 1101
    run.write_text("".join(f"q Q0 {doc} 1 {score} deep\n" for doc, score in ranked.items()))
    result = invoke(
        *("evaluate", str(qa), "--index", str(sample_index), "--no-generate", "--with-run", str(run), "--json")
    )
    assert result.exit_code == 0, result.output
    theirs = json.loads(result.stdout)["configs"][1]
    trec = pytrec_eval.RelevanceEvaluator({"q": {"hit.md": 1}}, {"map"}).evaluate({"q": ranked})
    assert trec["q"]["map"] == pytest.approx(1 / 1101)
    assert theirs["metrics"]["map"] == pytest.approx(trec["q"]["map"], abs=1e-6)


def test_a_run_file_of_an_evaluation_scores_what_that_evaluation_reported(sample_index: Path, tmp_path: Path) -> None:
    """ragcli's own --run-file read back: the same figures, and a paired test that finds no difference."""
    qa, run = qa_file(tmp_path), tmp_path / "bm25.txt"
    first = invoke("evaluate", str(qa), "--index", str(sample_index), "--no-generate", "--run-file", str(run), "--json")
    assert first.exit_code == 0, first.output
    again = invoke("evaluate", str(qa), "--index", str(sample_index), "--no-generate", "--with-run", str(run), "--json")
    assert again.exit_code == 0, again.output
    ours, theirs = json.loads(again.stdout)["configs"]
    assert theirs["metrics"] == ours["metrics"] == json.loads(first.stdout)["configs"][0]["metrics"]
    assert {d["p_value"] for d in theirs["differences"].values()} == {1.0}
    table = invoke("evaluate", str(qa), "--index", str(sample_index), "--no-generate", "--with-run", str(run))
    rows = [line for line in table.stdout.splitlines() if line.startswith("│")]
    assert "bm25.txt" in table.stdout and not any("▲" in row or "▼" in row for row in rows)


def test_bad_run_lines_are_skipped_and_listed_or_with_strict_stop(sample_index: Path, tmp_path: Path) -> None:
    run = tmp_path / "other.trec"
    run.write_text(RUN + "varroa Q0 beekeeping/varroa.md 3 9.0 other\nhoney Q0 x.md 1 nan other\nhoney Q0 y.md\n")
    args = ["evaluate", str(qa_file(tmp_path)), "--index", str(sample_index), "--no-generate", "--with-run", str(run)]
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    assert f"skipped {run}:9: ranks 'beekeeping/varroa.md' a second time for question 'varroa'" in result.stderr
    assert f"skipped {run}:10: expected 'query-id Q0 doc-id rank score tag' with a finite score" in result.stderr
    assert f"skipped {run}:11:" in result.stderr
    strict = invoke(*args, "--strict")
    assert strict.exit_code == ExitCode.BAD_INPUT and f"{run}:9: ranks" in strict.stderr


@pytest.mark.parametrize(
    "content, extra, code, message",
    [
        ("q9 Q0 d 1 1.0 x\n", [], ExitCode.BAD_INPUT, "ranks none of the questions evaluated"),
        ("query-id\tcorpus-id\tscore\nvarroa\tbeekeeping/varroa.md\t1\n", [], ExitCode.BAD_INPUT, "not a TREC run ("),
        (
            RUN,
            ["-r", "bm25,tfidf", "--with-run", "{dir}/tfidf"],
            ExitCode.USAGE,
            "'tfidf' is already a configuration's",
        ),
        (
            RUN,
            ["--with-run", "{dir}/tfidf"],
            ExitCode.USAGE,
            "tfidf: the name 'tfidf' is a retriever's (rename the run file)",
        ),
        (RUN, ["--run-file", "{run}"], ExitCode.USAGE, "would overwrite a --with-run file"),
        (RUN, ["--with-run", "{dir}/missing.trec"], ExitCode.BAD_INPUT, "missing.trec: no such file"),
    ],
    ids=["other-ids", "qrels", "name-of-a-retriever", "name-of-a-retriever-not-chosen", "overwritten", "missing"],
)
def test_run_problems_stop_before_any_work(
    sample_index: Path, tmp_path: Path, content: str, extra: list[str], code: int, message: str
) -> None:
    run = tmp_path / "other.trec"
    run.write_text(content)
    (tmp_path / "tfidf").write_text(RUN)
    extra = [a.replace("{dir}", str(tmp_path)).replace("{run}", str(run)) for a in extra]
    args = ["evaluate", str(qa_file(tmp_path)), "--index", str(sample_index), "--no-generate", "--with-run", str(run)]
    result = invoke(*args, *extra)
    assert result.exit_code == code, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert run.read_text() == content


def test_ids_with_whitespace_or_percent_are_encoded_in_a_run_file_and_read_back(tmp_path: Path) -> None:
    """A file name with a space or a line break is an ordinary document id: written as it is, it broke
    the run's six fields (ragcli's own --with-run refused the file). Whitespace and '%' are
    percent-encoded, and --with-run decodes them (only them: another tool's %2F stays as written)."""
    names = ["budget review.md", "line\nbreak.md", "100%.md", "a%20b.md", "plain.md"]
    corpus = tmp_path / "notes"
    corpus.mkdir()
    for name in names:
        (corpus / name).write_text(f"The budget review of {name.split('.')[0]} is on Friday.\n")
    assert invoke("index", str(corpus), "--index", str(tmp_path / "idx"), "-q").exit_code == 0
    questions = [{"id": f"q {n}\t%", "question": "when is the budget review?", "relevant": [n]} for n in names]
    questions.append({"id": "x%2Fy", "question": "when is the budget review?", "relevant": ["plain.md"]})
    qa = tmp_path / "qa.jsonl"
    qa.write_text("".join(json.dumps(q) + "\n" for q in questions))
    run = tmp_path / "run.txt"
    args = ["evaluate", str(qa), "--index", str(tmp_path / "idx"), "--no-generate", "--json"]
    first = invoke(*args, "--run-file", str(run))
    assert first.exit_code == 0, first.output
    lines = run.read_text().splitlines()
    assert len(lines) == len(questions) * len(names) and {len(line.split(" ")) for line in lines} == {6}
    assert "q%20budget%20review.md%09%25 Q0 budget%20review.md " in run.read_text()
    documents = {"budget%20review.md", "line%0Abreak.md", "100%25.md", "a%2520b.md", "plain.md"}
    assert {line.split()[2] for line in lines} == documents and "x%252Fy Q0 " in run.read_text()
    again = invoke(*args, "--with-run", str(run))
    assert again.exit_code == 0, again.output
    ours, theirs = json.loads(again.stdout)["configs"]
    assert theirs["metrics"] == ours["metrics"] == json.loads(first.stdout)["configs"][0]["metrics"]
    assert ours["metrics"]["recall@1"] > 0

    other = tmp_path / "other.trec"  # only ragcli's lines (tagged ragcli-<retriever>) are decoded
    other.write_text(
        "x%2Fy Q0 plain.md 1 1.0 x\n"
        "q%20budget%20review.md%09%25 Q0 budget%20review.md 1 1.0 x\n"
        "q%20plain.md%09%25 Q0 plain.md 1 1.0 ragcli-bm25\n"
    )
    mixed = invoke(*args, "--with-run", str(other))
    assert mixed.exit_code == 0, mixed.output
    assert json.loads(mixed.stdout)["configs"][1]["metrics"]["recall@1"] == pytest.approx(2 / len(questions))


def test_another_tools_run_is_read_as_written(tmp_path: Path) -> None:
    """A URL id's literal "%20" in another tool's run is the id the qrels judge: decoding it (as ragcli's
    own escapes are) scored the run 0, silently."""
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        json.dumps({"id": "http://x.org/a%20b", "text": "Paris is the capital of France."})
        + "\n"
        + json.dumps({"id": "http://x.org/c", "text": "Berlin is the capital of Germany."})
        + "\n"
    )
    assert invoke("index", str(corpus), "--index", str(tmp_path / "idx"), "-q").exit_code == 0
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"id": "q1", "question": "capital of France?", "relevant": ["http://x.org/a%20b"]}) + "\n")
    run = tmp_path / "pyserini.trec"
    run.write_text("q1 Q0 http://x.org/a%20b 1 9.5 pyserini\nq1 Q0 http://x.org/c 2 1.0 pyserini\n")
    args = ["evaluate", str(qa), "--index", str(tmp_path / "idx"), "--no-generate", "--k", "1", "--json"]
    result = invoke(*args, "--with-run", str(run))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["configs"][1]["metrics"]["ndcg@1"] == 1.0
