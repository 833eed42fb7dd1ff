"""Figures a user should not trust silently: judged ids the index lacks, tuning on the evaluation
queries, a zero best score applied, and run files whose tied scores trec_eval would re-order."""

from __future__ import annotations

import itertools
import json
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import pytrec_eval
from clihelpers import invoke, run
from conftest import write_files

from ragcli.errors import ExitCode
from ragcli.evaluation.checks import GoldCoverage, gold_coverage, normalised_question, query_overlap, unasked_message
from ragcli.evaluation.datasets import EvalQuery, EvalSet, load_beir
from ragcli.evaluation.reports import strictly_decreasing
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.retrieval.index import load_index


def qa(tmp_path: Path, rows: list[dict[str, object]], name: str = "qa.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


HALF_MISSING = [
    {"id": "hives", "question": "movable-frame hive", "relevant": ["beekeeping/hive_types.md", "gone/one.md"]},
    {"id": "lost", "question": "varroa mites", "relevant": {"gone/two.md": 2, "gone/three.md": 1, "zero.md": 0}},
]


def test_gold_coverage_counts_missing_ids_and_queries_that_can_only_score_zero(sample_index: Path) -> None:
    queries = [
        EvalQuery("a", "q", qrels={"beekeeping/hive_types.md": 1, "gone/one.md": 1}),
        EvalQuery("b", "q", qrels={"gone/two.md": 2, "gone/one.md": 1, "not-relevant.md": 0}),
        EvalQuery("c", "q"),  # unjudged: not counted
    ]
    coverage = gold_coverage(queries, load_index(sample_index))
    assert (coverage.relevant, coverage.missing, coverage.judged, coverage.unanswerable) == (
        3,
        ["gone/one.md", "gone/two.md"],
        2,
        1,
    )
    message = coverage.message()
    assert message is not None
    assert message.startswith("2 of 3 relevant document ids are not in the index ('gone/one.md', 'gone/two.md')")
    assert "1 judged query of 2 can only score 0" in message
    assert gold_coverage(queries[:1][:0], load_index(sample_index)).message() is None


@pytest.mark.parametrize(
    ("relevant", "missing", "start"),
    [
        (1, ["gone.md"], "1 of 1 relevant document id is not in the index ('gone.md')"),
        (3, ["gone.md"], "1 of 3 relevant document ids is not in the index ('gone.md')"),
        (3, ["a.md", "b.md"], "2 of 3 relevant document ids are not in the index ('a.md', 'b.md')"),
    ],
)
def test_the_missing_ids_message_agrees_with_its_count(relevant: int, missing: list[str], start: str) -> None:
    message = GoldCoverage(relevant=relevant, missing=missing, judged=1, unanswerable=1).message()
    assert message is not None and message.startswith(start), message


def test_evaluate_warns_about_judged_ids_not_in_the_index(sample_index: Path, tmp_path: Path) -> None:
    result = run("evaluate", str(qa(tmp_path, HALF_MISSING)), "--index", str(sample_index), "--no-generate", "--json")
    assert result.returncode == 0, result.stderr
    assert "warning: 3 of 4 relevant document ids are not in the index" in result.stderr
    assert "1 judged query of 2 can only score 0" in result.stderr
    json.loads(result.stdout)  # the report is still written


def test_evaluate_with_strict_fails_before_any_figure(sample_index: Path, tmp_path: Path) -> None:
    path = qa(tmp_path, HALF_MISSING)
    result = run("evaluate", str(path), "--index", str(sample_index), "--no-generate", "--strict", "--json")
    assert result.returncode == ExitCode.BAD_INPUT
    assert result.stdout == ""
    assert "3 of 4 relevant document ids are not in the index" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # the error and its hint, no traceback


def test_evaluate_is_silent_when_every_judged_id_is_held(sample_index: Path, tmp_path: Path) -> None:
    rows = [{"id": "h", "question": "movable-frame hive", "relevant": ["beekeeping/hive_types.md"]}]
    result = run("evaluate", str(qa(tmp_path, rows)), "--index", str(sample_index), "--no-generate", "--json")
    assert result.returncode == 0 and "warning" not in result.stderr


UNASKED = {
    "corpus.jsonl": '{"_id": "d1", "text": "bees dance the waggle dance"}\n{"_id": "d2", "text": "wax glands make wax"}\n',
    "queries.jsonl": '{"_id": "1", "text": "waggle dance"}\n{"_id": "2"}\n',
    "qrels/test.tsv": "1\td1\t1\n2\td2\t1\n8\td2\t1\n9\td1\t0\n10\td1\t1\n11\td2\t1\n",
}


def test_qrels_queries_without_a_question_are_counted_and_named(tmp_path: Path) -> None:
    """Judged queries that queries.jsonl lacks were dropped without a word ("1 judged queries of 1");
    a query whose line is bad (here: no text) is listed as a bad line instead, not counted twice."""
    loaded = load_beir(write_files(tmp_path / "beir", UNASKED))
    assert [q.id for q in loaded.queries] == ["1"] and len(loaded.skipped) == 1
    assert (loaded.unasked, loaded.qrels_queries) == (["8", "9", "10", "11"], 6)
    assert unasked_message(loaded) == (
        "4 of 6 queries the qrels judge have no question in queries.jsonl ('8', '9', '10' and 1 more), so "
        "are not evaluated — are these the queries the judgments were made for?"
    )
    assert unasked_message(EvalSet("qa.jsonl", loaded.queries, [])) is None


def test_evaluate_and_tune_warn_about_judged_queries_without_a_question(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "beir", UNASKED)
    env = {"RAGCLI_CACHE": str(tmp_path / "cache")}
    for command in (["evaluate", "--no-generate"], ["tune", "--split", "test"]):
        result = run(command[0], str(folder), *command[1:], env=env)
        assert result.returncode == 0, result.stderr
        assert "warning: 4 of 6 queries the qrels judge have no question in queries.jsonl" in result.stderr


def test_tune_refuses_to_apply_a_zero_score_and_leaves_the_index_alone(sample_index: Path, tmp_path: Path) -> None:
    copy = tmp_path / "idx"
    shutil.copytree(sample_index, copy)
    manifest = (copy / "manifest.json").read_bytes()
    rows = [{"id": "x", "question": "varroa mites", "relevant": ["nowhere.md"]}]
    result = run("tune", str(qa(tmp_path, rows)), "--index", str(copy), "--k1", "0.9,1.2", "--b", "0.75", "--apply")
    assert result.returncode == ExitCode.BAD_INPUT
    assert "nothing to apply: every k1 and b scores ndcg@10 = 0" in result.stderr
    assert "not in the index" in result.stderr  # the warning says why
    assert (copy / "manifest.json").read_bytes() == manifest


def test_tune_on_a_qa_file_warns_that_it_has_no_held_out_split(tuning_index: Path, tuning_qa: Path) -> None:
    result = run("tune", str(tuning_qa), "--index", str(tuning_index), "--k1", "1.2", "--b", "0.75")
    assert result.returncode == 0, result.stderr
    assert "has no held-out split" in result.stderr


def beir(tmp_path: Path, train: str) -> Path:
    return write_files(
        tmp_path / "mini",
        {
            "corpus.jsonl": '{"_id": "d1", "text": "bees dance the waggle dance"}\n'
            '{"_id": "d2", "text": "wax glands make wax"}\n{"_id": "d3", "text": "queens lay eggs"}\n',
            "queries.jsonl": '{"_id": "1", "text": "waggle dance"}\n{"_id": "2", "text": "Wax glands?"}\n'
            '{"_id": "3", "text": "wax  glands"}\n{"_id": "4", "text": "queen eggs"}\n',
            "qrels/test.tsv": "query-id\tcorpus-id\tscore\n1\td1\t1\n2\td2\t1\n",
            "qrels/train.tsv": "query-id\tcorpus-id\tscore\n" + train,
        },
    )


@pytest.mark.parametrize(
    "train, split, expected",
    [
        ("4\td3\t1\n", "train", None),  # held out: no warning
        ("4\td3\t1\n", "test", "tuning on the test split"),
        ("3\td2\t1\n4\td3\t1\n", "train", "also in the test split (0 of 2 by id, 1 by text)"),
        ("1\td1\t1\n4\td3\t1\n", "train", "also in the test split (1 of 2 by id, 1 by text)"),
    ],
)
def test_tune_warns_when_its_queries_are_the_evaluation_queries(
    tmp_path: Path, train: str, split: str, expected: str | None
) -> None:
    folder = beir(tmp_path, train)
    env = {"RAGCLI_CACHE": str(tmp_path / "cache")}
    result = run("tune", str(folder), "--split", split, "--k1", "1.2", "--b", "0.75", env=env)
    assert result.returncode == 0, result.stderr
    if expected is None:
        assert "warning" not in result.stderr
    else:
        assert expected in result.stderr


def test_query_overlap_compares_ids_and_normalised_text() -> None:
    first = EvalSet("a", [EvalQuery("1", "What is  Wax?"), EvalQuery("2", "Bees")], [])
    second = EvalSet("b", [EvalQuery("9", "what is wax"), EvalQuery("2", "other")], [])
    overlap = query_overlap(first, second)
    assert (overlap.by_id, overlap.by_text, overlap.of, overlap.any) == (1, 1, 2, True)
    assert normalised_question("Ｗax — glands!") == "wax glands"


def test_strictly_decreasing_moves_only_ties_and_keeps_them_apart() -> None:
    scores = [3.0, 2.0, 2.0, 2.0, 1.5, 1.5, 0.0]
    untied = strictly_decreasing(scores)
    as_read = [np.float32(float(repr(s))) for s in untied]  # written with repr, read by trec_eval as floats
    assert all(a > b for a, b in itertools.pairwise(as_read))
    assert [float(a) for a in as_read] == untied
    assert untied[0] == 3.0 and untied[1] == 2.0 and untied[4] == 1.5
    assert untied == pytest.approx(scores, abs=1e-6)
    close = strictly_decreasing([0.5] * 1000 + [0.49999, 0.1])  # a long run of ties pushes the rest down
    assert all(a > b for a, b in itertools.pairwise(close)) and close[-1] == pytest.approx(0.1)


def test_a_run_file_with_tied_scores_scores_in_trec_eval_as_in_the_report(tmp_path: Path) -> None:
    """Identical documents tie; trec_eval re-sorts ties by document id, so each query's run-file figures
    must still equal ragcli's per-query figures."""
    corpus = write_files(
        tmp_path / "tied",
        {
            "a.txt": "bees make honey from nectar",
            "b.txt": "bees make honey from nectar",
            "c.txt": "bees make honey from nectar",
            "d.txt": "wax and comb",
        },
    )
    index_dir = tmp_path / "index"
    build_index([corpus], index_dir, BuildSettings())
    rows = [{"id": name, "question": "honey from nectar", "relevant": [f"{name}.txt"]} for name in "abc"]
    run_path, per_query = tmp_path / "run.txt", tmp_path / "pq.jsonl"
    result = invoke(
        *("evaluate", str(qa(tmp_path, rows)), "--index", str(index_dir), "--no-generate", "-r", "bm25"),
        *("--run-file", str(run_path), "--per-query", str(per_query)),
    )
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in run_path.read_text().splitlines()]
    for qid in "abc":
        scores = [float(line[4]) for line in lines if line[0] == qid]
        assert len(scores) == 3 and all(x > y for x, y in itertools.pairwise(scores))
    qrels = {row["id"]: {doc: 1 for doc in row["relevant"]} for row in rows}  # type: ignore[union-attr]
    with run_path.open() as handle:
        trec = pytrec_eval.RelevanceEvaluator(qrels, {"map", "recip_rank"}).evaluate(pytrec_eval.parse_run(handle))
    ours = {r["id"]: r["metrics"] for r in map(json.loads, per_query.read_text().splitlines())}
    assert sorted({round(m["map"], 6) for m in ours.values()}) == [0.333333, 0.5, 1.0]  # the ties were real
    for qid in "abc":
        assert trec[qid]["map"] == pytest.approx(ours[qid]["map"], abs=1e-6), qid
        assert trec[qid]["recip_rank"] == pytest.approx(ours[qid]["map"], abs=1e-6), qid


def test_per_query_lines_name_the_gold_ids(sample_index: Path, tmp_path: Path) -> None:
    per_query = tmp_path / "pq.jsonl"
    result = invoke(
        *("evaluate", str(qa(tmp_path, HALF_MISSING)), "--index", str(sample_index), "--no-generate"),
        *("--per-query", str(per_query)),
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in per_query.read_text().splitlines()]
    assert [line["relevant"] for line in lines] == [
        {"beekeeping/hive_types.md": 1, "gone/one.md": 1},
        {"gone/two.md": 2, "gone/three.md": 1},
    ]


def test_evaluate_dense_on_an_index_without_vectors_adds_them_once(tmp_path: Path) -> None:
    """As `evaluate` adds vectors to a BEIR folder's cached index, it adds them to a given index (the
    packaged embedding model, the index's own settings kept), instead of stopping at exit 11."""
    corpus = write_files(
        tmp_path / "docs",
        {"dance.md": "Bees dance the waggle dance to show where flowers are.", "wax.md": "Wax glands make wax."},
    )
    index_dir = tmp_path / "index"
    built = run("index", str(corpus), "-i", str(index_dir), "--chunk-size", "50", "-l", "en", "--k1", "0.9")
    assert built.returncode == 0, built.stderr
    rows = [{"id": "d", "question": "where are the flowers?", "relevant": ["dance.md"]}]
    args = ("evaluate", str(qa(tmp_path, rows)), "--index", str(index_dir), "-r", "dense,hybrid", "--json")
    first = run(*args)
    assert first.returncode == 0, first.stderr
    assert f"adding dense vectors to {index_dir}" in first.stderr
    assert [c["name"] for c in json.loads(first.stdout)["configs"]] == ["dense", "hybrid"]
    index = load_index(index_dir)
    assert index.has_payload("dense.joblib")
    assert index.manifest["chunking"]["size"] == 50 and index.manifest["bm25"]["k1"] == 0.9  # settings kept
    again = run(*args)
    assert again.returncode == 0 and "adding dense vectors" not in again.stderr


def test_evaluate_never_ignores_embedding_model_with_a_given_index(tmp_path: Path) -> None:
    """`--embedding-model` with `--index`: vectors evaluate adds come from that model (checked before any
    work), and an index whose vectors come from another model, or are stored at another
    `--embedding-precision`, is refused (exit 2), never evaluated with them: the figures of a fine-tuned
    model were the packaged model's, and the manifest said so."""
    from tinymodels import build_tiny_embedder

    tiny = build_tiny_embedder(tmp_path / "tiny")
    corpus = write_files(tmp_path / "docs", {"dance.md": "Bees dance the waggle dance.", "wax.md": "Wax glands."})
    index_dir = tmp_path / "index"
    assert invoke("index", str(corpus), "-i", str(index_dir)).exit_code == 0
    rows = [{"id": "d", "question": "how do bees dance?", "relevant": ["dance.md"]}]
    args = ("evaluate", str(qa(tmp_path, rows)), "--index", str(index_dir), "-r", "dense", "--json")
    fp32 = ("--embedding-precision", "fp32")

    missing = invoke(*args, "--embedding-model", str(tmp_path / "no-such-model"))
    assert missing.exit_code == ExitCode.MODEL_UNAVAILABLE, missing.output
    assert "adding dense vectors" not in missing.output and not load_index(index_dir).has_payload("dense.joblib")

    added = invoke(*args, "--embedding-model", str(tiny), *fp32)
    assert added.exit_code == 0, added.output
    assert load_index(index_dir).manifest["dense"]["settings"]["model"] == str(tiny)

    other = invoke(*args, "--embedding-model", "all-MiniLM-L6-v2")
    assert other.exit_code == ExitCode.USAGE, other.output
    assert f"the index's vectors come from {tiny}" in other.output and "--embedding-model all-MiniLM" in other.output
    assert load_index(index_dir).manifest["dense"]["settings"]["model"] == str(tiny)

    precision = invoke(*args, "--embedding-precision", "int8")  # stored as fp32: never read as int8's figures
    assert precision.exit_code == ExitCode.USAGE, precision.output
    assert "--embedding-precision int8: the index's vectors are stored as fp32" in precision.output

    for same in ((), ("--embedding-model", str(tiny)), fp32):  # the index's own vectors: evaluated as they are
        result = invoke(*args, *same)
        assert result.exit_code == 0 and "adding dense vectors" not in result.output, result.output

    unused = invoke(*args[:-3], "-r", "bm25", "--embedding-model", str(tiny))
    assert unused.exit_code == 0 and "--embedding-model is used by" in unused.output, unused.output


def test_judged_ids_match_decomposed_file_names(tmp_path: Path) -> None:
    # macOS names files decomposed; an id typed composed was "not in the index" and scored 0
    corpus = write_files(tmp_path / "c", {unicodedata.normalize("NFD", "Café_Résumé.md"): "Le comité à Besançon.\n"})
    index_dir = tmp_path / "idx"
    assert invoke("index", str(corpus), "--index", str(index_dir), "-q").exit_code == 0
    rows = [{"id": "q", "question": "comité Besançon", "relevant": ["Café_Résumé.md"]}]
    result = invoke("evaluate", str(qa(tmp_path, rows)), "--index", str(index_dir), "--no-generate", "--json")
    assert result.exit_code == 0, result.output
    assert "not in the index" not in result.stderr
    assert json.loads(result.stdout)["configs"][0]["metrics"]["recall@10"] == 1.0
