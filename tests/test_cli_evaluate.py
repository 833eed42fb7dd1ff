from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import pytrec_eval
from clihelpers import RAGCLI, invoke, run, run_closed
from conftest import (
    NEEDS_CUDA,
    TUNING_B,
    TUNING_BEST,
    TUNING_FILES,
    TUNING_GRID,
    TUNING_K1,
    TUNING_QA,
    TUNING_WORST,
    WITHOUT_CUDA,
    write_files,
)

from ragcli.errors import ExitCode
from ragcli.evaluation import indexing as dataset_indexing
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.retrieval.bm25 import BM25Params
from ragcli.retrieval.index import load_index
from ragcli.store import FORMAT_VERSION, index_lock, read_manifest

QA = [
    {
        "id": "langstroth",
        "question": "When did Langstroth patent the movable-frame hive?",
        "answers": ["1852"],
        "relevant": ["beekeeping/hive_types.md"],
    },
    {
        "id": "honey",
        "question": "How do bees make honey from nectar?",
        "answers": ["by evaporation"],
        "relevant": {"hive/honey_production.md": 2, "behavior/foraging.rst": 1},
    },
    {"id": "varroa", "question": "How are varroa mites controlled?", "relevant": ["beekeeping/varroa.md"]},
]


def qa_file(tmp_path: Path) -> Path:
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QA))
    return path


def test_evaluate_compares_retrievers_in_one_table(sample_index: Path, tmp_path: Path) -> None:
    result = invoke(
        "evaluate", str(qa_file(tmp_path)), "--index", str(sample_index), "-r", "bm25,tfidf", "-g", "extractive"
    )
    assert result.exit_code == 0, result.output
    for text in ("bm25", "tfidf", "ndcg@10", "recall@100", "map", "exact_match", "rouge_l", "3 judged queries of 3"):
        assert text in result.stdout


def test_a_one_column_table_keeps_its_caption_lines_whole_at_80_columns(sample_index: Path, tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"question": "What do bees make?", "answers": ["honey"]}) + "\n")
    result = run("evaluate", str(qa), "--index", str(sample_index), "-g", "extractive", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("0 judged queries of 1; 1 with gold" in line for line in lines)
    assert all(len(line) <= 80 for line in lines)


def test_evaluate_json_per_query_run_file_and_plot(sample_index: Path, tmp_path: Path) -> None:
    per_query, run_path, plot = tmp_path / "pq.jsonl", tmp_path / "run.txt", tmp_path / "recall.png"
    run_path.write_text("an earlier run\n")
    run_path.chmod(0o640)
    umask = os.umask(0o022)
    try:
        result = invoke(
            "evaluate",
            str(qa_file(tmp_path)),
            "--index",
            str(sample_index),
            "--json",
            "-g",
            "extractive",
            "--no-context",
            "--k",
            "1,10",
            "--per-query",
            str(per_query),
            "--run-file",
            str(run_path),
            "--plot",
            str(plot),
        )
    finally:
        os.umask(umask)
    assert result.exit_code == 0, result.output
    # each report as `open(path, "w")` would leave it: the umask's, or the permissions of the file replaced
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in (per_query, run_path, plot)}
    assert modes == {"pq.jsonl": 0o644, "run.txt": 0o640, "recall.png": 0o644}
    report = json.loads(result.stdout)
    assert [c["name"] for c in report["configs"]] == ["bm25", "closed-book"]
    assert report["counts"]["judged"] == 3 and report["cutoffs"] == [1, 10]
    assert report["configs"][0]["metrics"]["recall@10"] == 1.0
    assert report["generator"]["name"] == "extractive"
    rows = [json.loads(line) for line in per_query.read_text().splitlines()]
    assert {r["id"] for r in rows} == {"langstroth", "honey", "varroa"}
    assert rows[0]["hits"][0]["doc_id"] == "beekeeping/hive_types.md" and rows[0]["answer"].startswith("1852")
    with run_path.open() as handle:
        parsed = pytrec_eval.parse_run(handle)
    assert set(parsed) == {"langstroth", "honey", "varroa"}
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_a_line_without_id_is_evaluated_beside_an_explicit_q_id(sample_index: Path, tmp_path: Path) -> None:
    """The automatic id of line 2 was "q2", line 1's own: line 2 was skipped as a duplicate."""
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        json.dumps({"id": "q2", "question": "When did Langstroth patent the hive?", "relevant": [QA[0]["relevant"][0]]})
        + "\n"
        + json.dumps({"question": "How are varroa mites controlled?", "relevant": ["beekeeping/varroa.md"]})
        + "\n"
    )
    per_query, run_file = tmp_path / "pq.jsonl", tmp_path / "run.txt"
    result = run(
        "evaluate", str(qa), "--index", str(sample_index), "--no-generate", "--json",
        "--per-query", str(per_query), "--run-file", str(run_file),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "duplicate" not in result.stderr and json.loads(result.stdout)["counts"]["skipped_lines"] == 0
    assert [json.loads(line)["id"] for line in per_query.read_text().splitlines()] == ["q2", "q2-2"]
    assert {line.split()[0] for line in run_file.read_text().splitlines()} == {"q2", "q2-2"}


def test_a_split_given_for_a_qa_file_is_a_warning(sample_index: Path, tmp_path: Path) -> None:
    """A qa.jsonl file has no splits: `--split` was silently ignored by evaluate and tune."""
    qa = qa_file(tmp_path)
    copy = tmp_path / "idx"
    shutil.copytree(sample_index, copy)
    for args in (
        ("evaluate", str(qa), "--index", str(copy), "--no-generate", "--split", "dev"),
        ("tune", str(qa), "--index", str(copy), "--k1", "1.2", "--b", "0.75", "--split", "dev"),
    ):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert "warning: --split is a BEIR folder's qrels split: qa.jsonl has none (ignored)" in result.stderr
        unsplit = invoke(*args[:-2])  # not given: nothing said
        assert unsplit.exit_code == 0 and "--split" not in unsplit.stderr


def test_evaluate_a_beir_folder_builds_and_caches_its_index(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "mini",
        {
            "corpus.jsonl": '{"_id": "d1", "title": "Bees", "text": "bees dance the waggle dance"}\n'
            '{"_id": "d2", "title": "Wax", "text": "wax glands make wax"}\n',
            "queries.jsonl": '{"_id": "1", "text": "waggle dance"}\n{"_id": "2", "text": "wax glands"}\n',
            "qrels/test.tsv": "query-id\tcorpus-id\tscore\n1\td1\t1\n2\td2\t1\n",
        },
    )
    env = {"RAGCLI_CACHE": str(tmp_path / "cache")}
    first = run("evaluate", str(folder), "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert "indexing" in first.stderr
    assert json.loads(first.stdout)["configs"][0]["metrics"]["ndcg@10"] == 1.0
    second = run("evaluate", str(folder), "--json", env=env)
    assert "indexing" not in second.stderr
    assert len(list((tmp_path / "cache").iterdir())) == 1


def test_a_beir_folder_is_one_dataset_however_its_path_is_spelled(tmp_path: Path) -> None:
    """`evaluate .` inside the folder named the dataset "/test" and cached another index ("-<hash>"),
    which a `tune --apply` on the other spelling did not change: two results for one dataset."""
    folder = beir_folder(tmp_path / "beir", {})
    env = {"RAGCLI_CACHE": str(tmp_path / "cache")}
    first = run("evaluate", str(folder), "--json", env=env)
    assert first.returncode == 0, first.stderr
    for path, cwd in ((".", folder), ("../", folder / "qrels")):
        again = run("evaluate", path, "--json", cwd=cwd, env=env)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["dataset"] == "beir/test" and "indexing" not in again.stderr
    assert [entry.name.rsplit("-", 1)[0] for entry in (tmp_path / "cache").iterdir()] == ["beir"]


def test_evaluate_says_the_bm25_pair_a_tune_apply_stored_in_a_dataset_index(tmp_path: Path) -> None:
    """`tune DATA --apply` changes the dataset's cached index, which every later `evaluate DATA` uses:
    tune says so, and evaluate's report names the pair it ran with (neither said a word)."""
    folder = write_files(
        tmp_path / "fruit",
        {
            "corpus.jsonl": "".join(json.dumps({"_id": n, "text": t}) + "\n" for n, t in TUNING_FILES.items()),
            "queries.jsonl": "".join(json.dumps({"_id": q["id"], "text": q["question"]}) + "\n" for q in TUNING_QA),
            "qrels/test.tsv": "".join(f"{q['id']}\t{q['relevant'][0]}\t1\n" for q in TUNING_QA),
        },
    )
    env = {"RAGCLI_CACHE": str(tmp_path / "cache")}
    evaluate = ("evaluate", str(folder), "--k", "10")
    before = run(*evaluate, "--json", env=env)
    assert json.loads(before.stdout)["bm25"] == {"variant": "lucene", "k1": 1.0, "b": 0.6}
    assert "k1" not in run(*evaluate, env=env).stdout  # ragcli's defaults: nothing to point out
    tune = ("tune", str(folder), "--split", "test", "--metric", "mrr@10", "--k1", "1.5", "--b", "0.3", "--apply")
    tuned = run(*tune, env=env)
    assert tuned.returncode == 0, tuned.stderr
    assert "warning: k1=1.5 b=0.3 is now the BM25 of the cached index of fruit:" in " ".join(tuned.stderr.split())
    after = run(*evaluate, "--json", env=env)
    assert json.loads(after.stdout)["bm25"] == {"variant": "lucene", "k1": 1.5, "b": 0.3}
    table = run(*evaluate, env={**env, "COLUMNS": "200"})
    assert "bm25 lucene k1=1.5 b=0.3 (the index's; ragcli's default: lucene k1=1 b=0.6)" in table.stdout, table.stdout


def test_a_gzipped_beir_folder_with_trec_qrels_is_indexed_and_evaluated(tmp_path: Path) -> None:
    """As the BEIR sets on the Hugging Face hub ship (corpus.jsonl.gz, queries.jsonl.gz) with qrels as
    trec_eval writes them: the folder is still a BEIR folder, so `index` reads only its corpus (not the
    queries as documents) and `evaluate` scores it."""
    folder = tmp_path / "mini"
    (folder / "qrels").mkdir(parents=True)
    corpus = '{"_id": "d1", "text": "bees dance the waggle dance"}\n{"_id": "d2", "text": "wax glands make wax"}\n'
    (folder / "corpus.jsonl.gz").write_bytes(gzip.compress(corpus.encode()))
    queries = '{"_id": "1", "text": "waggle dance"}\n{"_id": "2", "text": "wax glands"}\n'
    (folder / "queries.jsonl.gz").write_bytes(gzip.compress(queries.encode()))
    (folder / "qrels" / "test.tsv").write_text("1 0 d1 1\n2 0 d2 1\n")
    indexed = run("index", str(folder), "--index", str(tmp_path / "idx"), "--json")
    assert indexed.returncode == 0, indexed.stderr
    assert json.loads(indexed.stdout)["documents"] == 2
    result = run("evaluate", str(folder), "--index", str(tmp_path / "idx"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"]["judged"] == 2 and report["configs"][0]["metrics"]["ndcg@10"] == 1.0


def test_a_query_judged_only_not_relevant_scores_0_in_the_averages_as_trec_eval_does(tmp_path: Path) -> None:
    """q2's only judgment is grade 0: trec_eval (and BEIR's pytrec_eval) averages every query of its
    qrels, so q2 scores 0 and MAP over the run file is 0.5. It was left out, and ragcli said 1.0; `tune`
    ranks over the same queries and reports the same figure."""
    folder = write_files(
        tmp_path / "nr",
        {
            "corpus.jsonl": '{"_id": "d1", "text": "apple pie"}\n{"_id": "d2", "text": "banana bread"}\n',
            "queries.jsonl": '{"_id": "q1", "text": "apple"}\n{"_id": "q2", "text": "banana"}\n',
            "qrels/test.tsv": "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t0\n",
        },
    )
    env = {"RAGCLI_CACHE": str(tmp_path / "cache")}
    run_file = tmp_path / "run.txt"
    result = run("evaluate", str(folder), "--k", "1", "--run-file", str(run_file), "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"]["judged"] == 2 and report["counts"]["without_relevant"] == 1
    metrics = report["configs"][0]["metrics"]
    assert metrics["map"] == metrics["precision@1"] == metrics["ndcg@1"] == metrics["recall@1"] == 0.5
    run_lines = (line.split() for line in run_file.read_text().splitlines())
    ranked: dict[str, dict[str, float]] = {}
    for qid, _, doc, _, score, _ in run_lines:
        ranked.setdefault(qid, {})[doc] = float(score)
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 0}}
    per_query = pytrec_eval.RelevanceEvaluator(qrels, {"map", "P.1"}).evaluate(ranked)
    assert sum(q["map"] for q in per_query.values()) / len(per_query) == metrics["map"]
    table = run("evaluate", str(folder), "--k", "1", env={**env, "COLUMNS": "200"})
    assert "2 judged queries of 2 (1 without a relevant document, scored 0 as in trec_eval)" in table.stdout
    tuned = run(
        "tune", str(folder), "--split", "test", "--metric", "ndcg@1", "--k1", "1.2", "--b", "0.75", "--json", env=env
    )
    assert tuned.returncode == 0, tuned.stderr
    assert json.loads(tuned.stdout)["best"]["score"] == 0.5


def test_evaluate_refuses_to_overwrite_another_index(sample_index: Path, tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "mini",
        {
            "corpus.jsonl": '{"_id": "d1", "text": "x"}\n',
            "queries.jsonl": '{"_id": "1", "text": "x"}\n',
            "qrels/test.tsv": "query-id\tcorpus-id\tscore\n1\td1\t1\n",
        },
    )
    copy = tmp_path / "mine"
    shutil.copytree(sample_index, copy)
    result = run("evaluate", str(folder), "--index", str(copy))
    assert result.returncode == ExitCode.USAGE and "another corpus" in result.stderr
    assert load_index(copy).info()["documents"] == 28


def test_evaluate_bad_line_names_file_and_line(sample_index: Path, tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "ok", "answers": ["ok"]}\n{"answers": ["no question"]}\n')
    result = run("evaluate", str(path), "--index", str(sample_index), "--strict")
    assert result.returncode == ExitCode.BAD_INPUT
    assert "qa.jsonl:2: missing or empty 'question'" in result.stderr
    skipped = run("evaluate", str(path), "--index", str(sample_index), "--json")  # skipped by default, listed
    assert skipped.returncode == 0 and json.loads(skipped.stdout)["counts"]["skipped_lines"] == 1
    assert "qa.jsonl:2: missing or empty 'question'" in skipped.stderr
    deprecated = run("evaluate", str(path), "--index", str(sample_index), "--skip-invalid", "--json")
    assert deprecated.returncode == 0 and json.loads(deprecated.stdout)["counts"]["skipped_lines"] == 1
    both = run("evaluate", str(path), "--index", str(sample_index), "--skip-invalid", "--strict")
    assert both.returncode == ExitCode.USAGE and "contradict" in both.stderr


def beir_folder(root: Path, changes: dict[str, str | bytes | None]) -> Path:
    files: dict[str, str | bytes] = {
        "corpus.jsonl": '{"_id": "d1", "text": "waggle dance"}\n{"_id": "d2", "text": "wax glands"}\n',
        "queries.jsonl": '{"_id": "1", "text": "waggle dance"}\n{"_id": "2", "text": "wax glands"}\n',
        "qrels/test.tsv": "query-id\tcorpus-id\tscore\n1\td1\t1\n2\td2\t1\n",
    }
    for name, content in changes.items():
        if content is None:
            del files[name]
        else:
            files[name] = content
    return write_files(root, files)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"queries.jsonl": None}, "queries.jsonl: no such file"),
        (
            {"queries.jsonl": '{"_id": "1", "text": "waggle"}\n[1, 2]\n'},
            "queries.jsonl:2: a line must be a JSON object",
        ),
        (
            {"queries.jsonl": b'{"_id": "1", "text": "w"}\n{"_id": "2", "text": "caf\xe9"}\n'},
            "queries.jsonl:2: not UTF-8",
        ),
        ({"queries.jsonl": '{"_id": "1", "text": "w"}\n' + "[" * 5000 + "]" * 5000}, "queries.jsonl:2: invalid JSON"),
        ({"qrels/test.tsv": b"query-id\tcorpus-id\tscore\n1\td\xe9\t1\n"}, "test.tsv:2: not UTF-8"),
        ({"qrels/test.tsv": "query-id\tcorpus-id\tscore\n1\td1\n"}, "test.tsv:2: expected"),
        ({"qrels/test.tsv": None, "qrels/train.tsv": "1\td1\t1\n"}, "no such qrels file (splits here: train)"),
    ],
    ids=["no-queries", "queries-list", "queries-latin-1", "queries-nested", "qrels-latin-1", "qrels-short", "no-split"],
)
def test_bad_beir_input_with_strict_exits_6_before_indexing(tmp_path: Path, changes: dict, message: str) -> None:
    folder = beir_folder(tmp_path / "beir", changes)
    result = run("evaluate", str(folder), "--strict", env={"RAGCLI_CACHE": str(tmp_path / "cache")}, timeout=60)
    assert result.returncode == ExitCode.BAD_INPUT, result.stderr
    assert message in result.stderr and "internal error" not in result.stderr
    assert not (tmp_path / "cache").exists()  # nothing was indexed


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"question": "ok"}\n{"question": "' + "caf\xe9".encode("latin-1") + b'"}\n', "qa.jsonl:2: not UTF-8"),
        (b'{"question": "ok"}\n' + b"[" * 1000 + b"]" * 1000 + b"\n", "qa.jsonl:2: invalid JSON (nested too deeply)"),
        (b'{"question": "ok"}\n"a string"\n', "qa.jsonl:2: a line must be a JSON object"),
    ],
    ids=["latin-1", "nested", "string"],
)
def test_bad_qa_input_with_strict_exits_6_with_file_and_line(
    sample_index: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_bytes(content)
    result = run("evaluate", str(path), "--index", str(sample_index), "--strict", timeout=60)
    assert result.returncode == ExitCode.BAD_INPUT and message in result.stderr, result.stderr


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "qa.jsonl: no questions to evaluate (one JSON object a line"),
        (
            b'not json\n{"answers": ["x"]}\n',
            "qa.jsonl: no questions to evaluate: every line was skipped (line 1: invalid JSON",
        ),
    ],
    ids=["empty", "all-invalid"],
)
def test_a_qa_file_without_one_question_exits_6_instead_of_an_empty_table(
    sample_index: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_bytes(content)
    result = run("evaluate", str(path), "--index", str(sample_index), timeout=60)
    assert result.returncode == ExitCode.BAD_INPUT and message in result.stderr, result.stderr
    assert "internal error" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    "content, args, message",
    [
        (b'{"question": "How do bees talk?"}\n', [], "no question has relevant documents or answers to score"),
        (
            b'{"question": "How do bees talk?", "answers": ["dance"]}\n',
            ["--no-generate"],
            "no question has relevant documents to score",
        ),
    ],
    ids=["no-gold", "answers-not-generated"],
)
def test_questions_with_nothing_to_score_exit_6_before_any_work(
    sample_index: Path, tmp_path: Path, content: bytes, args: list[str], message: str
) -> None:
    """A set of bare questions printed an empty table and exited 0: a script took it for a measurement."""
    path = tmp_path / "qa.jsonl"
    path.write_bytes(content)
    result = invoke("evaluate", str(path), "--index", str(sample_index), "-g", "extractive", *args)
    assert result.exit_code == ExitCode.BAD_INPUT and result.stdout == ""
    assert f"qa.jsonl: {message}" in " ".join(result.stderr.split()), result.stderr


def test_a_beir_split_judging_no_query_exits_6(tmp_path: Path) -> None:
    folder = beir_folder(tmp_path / "beir", {"qrels/test.tsv": "query-id\tcorpus-id\tscore\nq8\td1\t1\n"})
    result = run("evaluate", str(folder), env={"RAGCLI_CACHE": str(tmp_path / "cache")}, timeout=60)
    assert result.returncode == ExitCode.BAD_INPUT, result.stderr
    assert "no questions to evaluate (qrels/test.tsv judges none" in result.stderr


@pytest.mark.parametrize("qrels", ["query-id\tcorpus-id\tscore\n", ""], ids=["header-only", "empty"])
def test_qrels_without_one_judgment_are_said_so_not_blamed_on_the_ids(tmp_path: Path, qrels: str) -> None:
    """An empty or header-only qrels file said it "judges none of queries.jsonl's ids; choose another --split"."""
    folder = beir_folder(tmp_path / "beir", {"qrels/test.tsv": qrels})
    result = run("evaluate", str(folder), env={"RAGCLI_CACHE": str(tmp_path / "cache")}, timeout=60)
    assert result.returncode == ExitCode.BAD_INPUT, result.stderr
    assert "no questions to evaluate (qrels/test.tsv holds no judgments (empty, or a header alone)" in result.stderr
    assert "judges none" not in result.stderr


def test_a_fifo_as_qa_file_is_refused_not_read(sample_index: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "qa.jsonl"
    os.mkfifo(fifo)  # reading it would block forever
    result = run("evaluate", str(fifo), "--index", str(sample_index), timeout=60)
    assert result.returncode == ExitCode.BAD_INPUT and "not a regular file" in result.stderr


def ranked(index_dir: Path, query: str) -> list[tuple[str, float]]:
    return [(h.id, round(h.score, 5)) for h in load_index(index_dir).search(query, k=10)]


def test_tune_prints_the_grid_and_applies_the_best(
    tuning_corpus: Path, tuning_index: Path, tuning_qa: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "idx"
    shutil.copytree(tuning_index, copy)
    before = load_index(copy).search("pear orchard", k=3)
    result = invoke(
        "tune",
        str(tuning_qa),
        "--index",
        str(copy),
        "--k1",
        "0.4,3.0",
        "--b",
        "0.1,0.9",
        "--metric",
        "mrr@10",
        "--apply",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["grid"]) == 4 and data["applied"]
    assert (data["best"]["k1"], data["best"]["b"]) == (3.0, 0.9)  # the best of these four cells (see TUNING_GRID)
    bm25 = load_index(copy).manifest["bm25"]
    assert (bm25["k1"], bm25["b"]) == (data["best"]["k1"], data["best"]["b"])
    after = load_index(copy).search("pear orchard", k=3)
    assert after != before  # new weights, new scores
    build_index([tuning_corpus], tmp_path / "fresh", BuildSettings(retrievers={"bm25": BM25Params(k1=3.0, b=0.9)}))
    for query in ("pear orchard", "cherry orchard", "plum garden", "pear plum"):
        assert ranked(copy, query) == ranked(tmp_path / "fresh", query)  # as if built with the best pair
    table = invoke("tune", str(tuning_qa), "--index", str(copy), "--k1", "1.0", "--b", "0.5,0.7")
    assert "k1" in table.stdout and "0.5" in table.stdout


def test_tune_names_its_dataset_escaped_as_evaluate_does(tuning_index: Path, tuning_qa: Path) -> None:
    """The grid's title printed the file name raw: a zero-width space unseen, U+202E as a line break."""
    named = tuning_qa.with_name("qa\u200b\u202e.jsonl")
    tuning_qa.rename(named)
    tuned = invoke("tune", str(named), "--index", str(tuning_index), "--k1", "1", "--b", "0.5")
    evaluated = invoke("evaluate", str(named), "--index", str(tuning_index), "--no-generate", "--k", "1")
    assert tuned.exit_code == evaluated.exit_code == 0, tuned.output + evaluated.output
    for output in (tuned.stdout, evaluated.stdout):
        assert "qa\\u200b\\u202e.jsonl" in output and "\u200b" not in output and "\u202e" not in output
    assert tuned.stdout.splitlines()[0].startswith("BM25 ndcg@10 on qa\\u200b\\u202e.jsonl (current: k1=")


def test_tune_stores_the_argmax_of_the_whole_grid(tuning_index: Path, tuning_qa: Path) -> None:
    grid_args = ["--k1", ",".join(map(str, TUNING_K1)), "--b", ",".join(map(str, TUNING_B)), "--metric", "mrr@10"]
    table = invoke("tune", str(tuning_qa), "--index", str(tuning_index), *grid_args)
    assert table.exit_code == 0, table.output
    for score in TUNING_GRID.values():  # every cell is printed
        assert f"{score:.4f}" in table.stdout
    assert "current: k1=1.0, b=0.6" in table.stdout
    # the line under the grid names the best without the bold a pipe loses, against the index's own pair
    best_line = f"best: k1={TUNING_BEST[0]:g}, b={TUNING_BEST[1]:g}, mrr@10 {TUNING_GRID[TUNING_BEST]:.4f}, +"
    assert best_line in table.stdout and "over the index's k1=1, b=0.6 (" in table.stdout
    assert table.stdout.rstrip().endswith("--apply stores it")
    result = invoke("tune", str(tuning_qa), "--index", str(tuning_index), *grid_args, "--apply", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["current"]["k1"], data["current"]["b"]) == (1.0, 0.6) and data["current"]["score"] < 7 / 8
    grid = {(cell["k1"], cell["b"]): cell["score"] for cell in data["grid"]}
    assert len(data["grid"]) == len(grid) == 9 and set(grid) == set(TUNING_GRID)
    assert grid == pytest.approx(TUNING_GRID)
    argmax = max(grid, key=grid.__getitem__)
    assert argmax == TUNING_BEST and sorted(grid.values())[-2] < grid[argmax]  # a unique best
    assert (data["best"]["k1"], data["best"]["b"]) == TUNING_BEST and data["best"]["score"] == pytest.approx(7 / 8)
    bm25 = load_index(tuning_index).manifest["bm25"]
    assert (bm25["k1"], bm25["b"]) == TUNING_BEST != TUNING_WORST


def test_evaluate_depth_counts_documents_when_passages_repeat_them(repeated_index: Path, tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"id": "h", "question": "honey", "relevant": ["a.txt"]}) + "\n")
    run_path = tmp_path / "run.txt"
    result = invoke(
        "evaluate",
        str(qa),
        "--index",
        str(repeated_index),
        "--k",
        "1,3",
        "--depth",
        "3",
        "--run-file",
        str(run_path),
        "--json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["depth"] == 3
    assert report["configs"][0]["metrics"]["recall@3"] == 1.0 and report["configs"][0]["metrics"]["mrr@3"] == 0.5
    rows = [line.split() for line in run_path.read_text().splitlines()]
    assert [(r[2], r[3]) for r in rows][:2] == [("big.txt", "1"), ("a.txt", "2")]
    assert len(rows) == len({r[2] for r in rows}) == 3  # three documents, each once


# --- outputs: streamed, and the same bytes as when everything was kept -----------------------------------

GOLDEN = Path(__file__).resolve().parent / "golden" / "evaluate"
STREAM_CORPUS = {
    f"{name}.txt": text
    for name, text in {
        "waggle": "Honey bees dance the waggle dance to tell nest mates where flowers are.",
        "round": "The round dance says food is near the hive; the waggle dance says it is far.",
        "wax": "Worker bees make wax in glands under the abdomen and build comb from it.",
        "comb": "Comb cells are hexagons; bees store honey and pollen and raise brood in the comb.",
        "queen": "The queen lays up to two thousand eggs a day in spring.",
        "drone": "Drones are male bees; they mate with a queen from another hive.",
        "swarm": "A swarm leaves the hive with the old queen when the colony grows crowded.",
        "varroa": "Varroa mites feed on bees and spread viruses; beekeepers treat with oxalic acid.",
        "nectar": "Foragers bring nectar home; bees evaporate water from it to make honey.",
        "pollen": "Pollen gives bees protein; foragers carry it in baskets on their legs.",
        "winter": "In winter bees cluster and shiver to keep the queen warm.",
        "smoker": "A smoker calms bees so the beekeeper can open the hive.",
    }.items()
}
STREAM_QA = [
    {
        "id": "dance",
        "question": "Why do bees dance the waggle dance?",
        "answers": ["to tell where flowers are"],
        "relevant": ["waggle.txt"],
    },
    {
        "id": "wax",
        "question": "Where do bees make wax?",
        "answers": ["in glands"],
        "relevant": {"wax.txt": 2, "comb.txt": 1},
    },
    {
        "id": "eggs",
        "question": "How many eggs does the queen lay?",
        "answers": ["two thousand"],
        "relevant": ["queen.txt"],
    },
    {"id": "unjudged", "question": "What do drones do?", "answers": ["mate with a queen"]},
    {"id": "mites", "question": "How are varroa mites treated?", "relevant": ["varroa.txt"]},
    {
        "id": "honey",
        "question": "How do bees make honey from nectar?",
        "answers": ["evaporate water"],
        "relevant": ["nectar.txt", "comb.txt"],
    },
    {
        "id": "cold",
        "question": "What do bees do in winter?",
        "answers": ["cluster and shiver"],
        "relevant": ["winter.txt"],
    },
    {"id": "nothing", "question": "zzzq unknown words", "relevant": ["smoker.txt"]},
    {"id": "all", "question": "bees, the queen and the hive", "answers": ["a colony"], "relevant": ["swarm.txt"]},
]


def evaluate_fixture(tmp_path: Path) -> dict[str, bytes]:
    """`evaluate` with two retrievers, answers in several batches, a closed-book column, per-query lines
    and run files; returns what it printed and wrote (timings and the index path made constant)."""
    corpus = write_files(tmp_path / "stream-corpus", STREAM_CORPUS)
    index_dir = tmp_path / "stream-index"
    build_index([corpus], index_dir, BuildSettings())
    qa = tmp_path / "stream-qa.jsonl"
    qa.write_text("".join(json.dumps(q) + "\n" for q in STREAM_QA))
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        *("evaluate", str(qa), "--index", str(index_dir), "-r", "bm25,tfidf", "-g", "extractive", "--no-context"),
        *("--batch-size", "2", "--k", "1,3", "--depth", "12", "--json"),
        *("--per-query", str(out / "per-query.jsonl"), "--run-file", str(out / "run.txt")),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report.pop("index") == str(index_dir)
    for config in report["configs"]:
        config["timings"] = sorted(config["timings"])
    outputs = {"report.json": (json.dumps(report, indent=2) + "\n").encode()}
    outputs.update({path.name: path.read_bytes() for path in sorted(out.iterdir())})
    return outputs


def test_evaluate_outputs_are_byte_identical_to_the_golden_files(tmp_path: Path) -> None:
    """The golden files were written by ragcli before evaluation streamed its per-query results;
    report.json was written again when it gained `ci95`, `versus` and `differences` (nothing else in it
    changed: the old file equals the new one without those keys), when the paired test became the
    randomization test (only `versus.test` and the p-values changed), when `ci95` was kept within
    0–1 (only its ends beyond them changed), when it gained `bm25` (nothing else changed), when
    `counts.without_relevant` came to count the judged queries with no relevant document (1 → 0: the
    unjudged question is not one), and with per-query.jsonl when BLEU came to score the normalised text
    (only `bleu` and its interval and difference changed), and when it gained `filter` (null here:
    nothing else changed); per-query.jsonl was written again when `rouge_l` became a float always (only
    its `0` became `0.0`)."""
    outputs = evaluate_fixture(tmp_path)
    assert sorted(outputs) == sorted(p.name for p in GOLDEN.iterdir())
    for name, content in outputs.items():
        assert content == (GOLDEN / name).read_bytes(), name


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--plot", "{tmp}/recall.txt"], ExitCode.USAGE, "the plot is a PNG image"),
        (["--per-query", "{tmp}/missing/dir/pq.jsonl"], ExitCode.USAGE, "missing/dir does not exist"),
        (["--run-file", "{tmp}"], ExitCode.USAGE, "is a folder"),
        (["--run-file", "{tmp}/qa.jsonl/run.txt"], ExitCode.USAGE, "is not a folder"),
        (
            ["--per-query", "{tmp}/same.txt", "--run-file", "{tmp}/same.txt"],
            ExitCode.USAGE,
            "also written by --per-query",
        ),
        (["--run-file", "{tmp}/beir/queries.jsonl"], ExitCode.USAGE, "would overwrite the questions"),
        (["--per-query", "{tmp}/beir/qrels/pq.jsonl"], ExitCode.USAGE, "would overwrite the judgments"),
        (["--per-query", "{tmp}/beir/corpus.jsonl"], ExitCode.USAGE, "would overwrite the corpus ("),
        (["--run-file", "{tmp}/beir/run.txt"], ExitCode.USAGE, "would overwrite the BEIR folder"),
        (
            ["--per-query", "{tmp}/index/pq.jsonl", "--index", "{tmp}/index"],
            ExitCode.USAGE,
            "would overwrite the index",
        ),
        (["--k", "0"], ExitCode.USAGE, "cut-offs must be whole numbers >= 1"),
        (["--k", "1,-3"], ExitCode.USAGE, "cut-offs must be whole numbers >= 1"),
        (["--k", "1.5"], ExitCode.USAGE, "cut-offs must be whole numbers >= 1, not [1.5]"),  # was "not a … list"
        (["--k", "1,ten"], ExitCode.USAGE, "--k: not a comma-separated list: '1,ten'"),
        (["--depth", "2"], ExitCode.USAGE, "--depth 2 is below the largest --k cut-off, 100 (give --depth 100 or more"),
        (["--k", "1,5", "--depth", "3"], ExitCode.USAGE, "--depth 3 is below the largest --k cut-off, 5"),
        (["-r", "bm25,nope"], ExitCode.USAGE, "unknown retriever 'nope'"),
        (["-r", "bm25,bm25"], ExitCode.USAGE, "lists bm25 more than once"),
        (["-g", "nope"], ExitCode.USAGE, "unknown generator 'nope'"),
        (["--device", "tpu"], ExitCode.USAGE, "tpu"),
        (["-r", "dense", "--embedding-device", "tpu"], ExitCode.USAGE, "unknown embedding device 'tpu'"),
        (["-r", "dense", "--embedding-precision", "int4"], ExitCode.USAGE, "unknown precision 'int4'"),
        pytest.param(
            ["-r", "dense", "--embedding-device", "cuda"],
            ExitCode.USAGE,
            "--embedding-device cuda: no CUDA device is available",
            marks=WITHOUT_CUDA,
        ),
    ],
    ids=[
        "plot-txt",
        "missing-folder",
        "folder",
        "file-as-folder",
        "same-file",
        "the-questions",
        "inside-the-judgments",
        "the-corpus",
        "inside-the-beir-folder",
        "inside-the-index",
        "k-0",
        "k-negative",
        "k-fraction",
        "k-word",
        "depth-below-default-k",
        "depth-below-k",
        "retriever",
        "retriever-twice",
        "generator",
        "device",
        "embedding-device",
        "embedding-precision",
        "embedding-device-cuda-without-a-gpu",
    ],
)
def test_bad_options_and_outputs_fail_before_any_work(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    folder = beir_folder(tmp_path / "beir", {})
    (tmp_path / "qa.jsonl").write_text("{}")  # a file where a folder is expected
    cache = tmp_path / "cache"
    result = run("evaluate", str(folder), *(a.format(tmp=tmp_path) for a in args), env={"RAGCLI_CACHE": str(cache)})
    assert result.returncode == code and message in result.stderr, result.stderr
    assert "indexing" not in result.stderr and not cache.exists()  # refused before indexing the corpus


@pytest.mark.parametrize("option", ["--per-query", "--run-file"])
def test_a_dash_as_output_file_is_refused_not_written_as_a_file_named_dash(tmp_path: Path, option: str) -> None:
    """`--per-query -` wrote a file named `-` in the current folder, where `-` means stdout to everyone;
    stdout carries the table (or --json), so `-` is refused before any work."""
    folder = beir_folder(tmp_path / "beir", {})
    cache = tmp_path / "cache"
    result = run("evaluate", str(folder), option, "-", cwd=tmp_path, env={"RAGCLI_CACHE": str(cache)})
    assert result.returncode == ExitCode.USAGE and result.stdout == "", result.stderr
    assert result.stderr.startswith(f"ragcli: error: {option} -: not stdout, which carries the table"), result.stderr
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "-").exists() and not cache.exists()


def test_an_output_never_replaces_the_questions_file(sample_index: Path, tmp_path: Path) -> None:
    questions = tmp_path / "qa.jsonl"
    questions.write_text('{"question": "How do bees communicate?", "answers": ["dance"]}\n')
    before = questions.read_bytes()
    (tmp_path / "alias.jsonl").symlink_to(questions)
    for output in ("qa.jsonl", "alias.jsonl", "./sub/../qa.jsonl"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        result = run("evaluate", "qa.jsonl", "--index", str(sample_index), "--per-query", output, cwd=tmp_path)
        assert result.returncode == ExitCode.USAGE and "would overwrite the questions" in result.stderr, output
    assert questions.read_bytes() == before


@pytest.mark.parametrize("option", ["--per-query", "--run-file"])
def test_an_output_never_replaces_a_file_the_index_was_built_from(tmp_path: Path, option: str) -> None:
    """`--per-query notes/review.txt` replaced the user's note, a source of the index evaluated."""
    notes = write_files(tmp_path / "notes", {"review.txt": "The review meeting is on Tuesday at 10.\n"})
    assert run("index", str(notes), "--index", str(tmp_path / "nidx"), "-q").returncode == 0
    (tmp_path / "nq.jsonl").write_text('{"id": "a", "question": "when is the review", "relevant": ["review.txt"]}\n')
    (tmp_path / "link.txt").symlink_to(notes / "review.txt")
    for output in ("notes/review.txt", "./notes/../notes/review.txt", "link.txt"):
        result = run("evaluate", "nq.jsonl", "--index", "nidx", "--no-generate", option, output, cwd=tmp_path)
        assert result.returncode == ExitCode.USAGE and result.stdout == "", result.stderr
        assert f"{option} {Path(output)}: would overwrite a file the index nidx was built from" in result.stderr
    assert (notes / "review.txt").read_text() == "The review meeting is on Tuesday at 10.\n"
    beside = run("evaluate", "nq.jsonl", "--index", "nidx", "--no-generate", option, "notes/pq.txt", cwd=tmp_path)
    assert beside.returncode == 0, beside.stderr  # a new file beside the sources is the user's to write


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=NEEDS_CUDA)])
def test_the_vectors_evaluate_adds_are_embedded_on_the_embedding_device(tmp_path: Path, device: str) -> None:
    """`--embedding-device`: where a BEIR corpus's passages are embedded (`--device` is the generator's);
    the figures are the CPU's. Each device gets its own cache: a cached index would be reused as is."""
    from tinymodels import build_tiny_embedder

    model = build_tiny_embedder(tmp_path / "tiny")
    folder = beir_folder(tmp_path / "beir", {})
    figures = {}
    for where in dict.fromkeys(("cpu", device)):
        cache = tmp_path / f"cache-{where}"
        result = run(
            "evaluate", str(folder), "-r", "dense", "--no-generate", "--json", "--embedding-model", str(model),
            "--embedding-precision", "fp32", "--embedding-device", where, env={"RAGCLI_CACHE": str(cache)},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        (index,) = cache.iterdir()
        assert load_index(index).has_payload("dense.joblib")
        figures[where] = json.loads(result.stdout)["configs"][0]["metrics"]
    assert figures[device] == pytest.approx(figures["cpu"], abs=1e-6)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_output_folder_fails_before_any_work(tmp_path: Path) -> None:
    folder = beir_folder(tmp_path / "beir", {})
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    cache = tmp_path / "cache"
    result = run("evaluate", str(folder), "--run-file", str(locked / "run.txt"), env={"RAGCLI_CACHE": str(cache)})
    assert result.returncode == ExitCode.USAGE and "cannot write in" in result.stderr, result.stderr
    assert not cache.exists()


def test_tune_keeps_the_index_pair_when_no_cell_of_the_grid_beats_it(tuning_index: Path, tuning_qa: Path) -> None:
    """The index's own k1 and b are scored too; a grid that does no better changes nothing, --apply
    included (a tie is no reason to change the weights)."""
    args = ["tune", str(tuning_qa), "--index", str(tuning_index), "--metric", "mrr@10"]
    worst = ["--k1", str(TUNING_WORST[0]), "--b", str(TUNING_WORST[1])]
    own = json.loads(invoke(*args, "--k1", "1.0", "--b", "0.6", "--json").stdout)
    assert own["best"] == own["current"] and own["current"]["score"] > TUNING_GRID[TUNING_WORST]
    table = invoke(*args, *worst)
    assert table.stdout.rstrip().endswith("the index's own pair (none scores higher), nothing to change")
    manifest = (tuning_index / "manifest.json").read_bytes()
    applied = invoke(*args, *worst, "--apply", "--json")
    shown = json.loads(applied.stdout)
    assert shown["best"] == shown["current"] == own["current"] and shown["applied"] is False
    assert "stored" not in applied.stderr
    assert (tuning_index / "manifest.json").read_bytes() == manifest  # nothing written, not the same anew
    bm25 = load_index(tuning_index).manifest["bm25"]
    assert (bm25["k1"], bm25["b"]) == (1.0, 0.6)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--metric", "ndcg@x"], "unknown metric"),
        (["--metric", "ndcg@0"], "--metric ndcg@0: the cut-off must be at least 1"),  # a metric, not unknown
        (["--metric", "mrr@²"], "unknown metric"),  # a digit to str.isdigit, not to int(): an internal ValueError
        (["--k1", "nan"], "finite"),
        (["--b", "1.5"], "0 <= b <= 1"),
        (["--k1", "1_0"], "--k1: not a comma-separated list: '1_0' (write numbers without '_'"),  # was k1=10
        (["--b", "0.3,,0.6"], "--b: an empty item in '0.3,,0.6'"),  # was skipped
    ],
    ids=["metric", "cutoff-0", "cutoff-superscript", "k1-nan", "b-too-big", "k1-underscore", "b-empty-item"],
)
def test_tune_checks_its_grid_before_any_work(tmp_path: Path, args: list[str], message: str) -> None:
    folder = beir_folder(tmp_path / "beir", {})
    cache = tmp_path / "cache"
    result = run("tune", str(folder), "--split", "test", *args, env={"RAGCLI_CACHE": str(cache)})
    assert result.returncode == ExitCode.USAGE and message in result.stderr, result.stderr
    assert not cache.exists()


def test_an_existing_run_file_is_replaced_and_said_so(sample_index: Path, tmp_path: Path) -> None:
    run_path, per_query = tmp_path / "run.txt", tmp_path / "pq.jsonl"
    run_path.write_text("an old run\n")
    result = run(
        *("evaluate", str(qa_file(tmp_path)), "--index", str(sample_index), "--no-generate"),
        *("--run-file", str(run_path), "--per-query", str(per_query)),
    )
    assert result.returncode == 0, result.stderr
    assert f"run file: {run_path} (replaced the existing file)" in result.stderr
    assert "per-query results" not in result.stderr  # a new file: nothing replaced
    assert run_path.read_text().startswith("langstroth Q0 ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pq.jsonl", "qa.jsonl", "run.txt"]  # no temporary left


def test_a_full_disk_while_writing_results_is_exit_12(sample_index: Path, tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    result = run(
        "evaluate", str(qa_file(tmp_path)), "--index", str(sample_index), "--no-generate", "--per-query", "/dev/full"
    )
    assert result.returncode == ExitCode.WRITE_FAILED, result.stderr
    assert "/dev/full: cannot be written (No space left on device)" in result.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize(
    "command",
    [
        ["evaluate", "{qa}", "--no-generate", "--json"],
        ["tune", "{qa}", "--json"],
        ["query", "bees", "--no-generate", "--json"],
    ],
    ids=["evaluate", "tune", "query"],
)
def test_a_full_disk_behind_stdout_is_exit_12_not_an_internal_error(
    sample_index: Path, tmp_path: Path, command: list[str]
) -> None:
    """`ragcli evaluate … --json > report.json` on a full disk: said as a failed `--per-query` is."""
    args = [a.format(qa=qa_file(tmp_path)) for a in command]
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [RAGCLI, *args, "--index", str(sample_index)], stdout=full, stderr=subprocess.PIPE, text=True, timeout=120
        )
    assert result.returncode == ExitCode.WRITE_FAILED, result.stderr
    assert "stdout: cannot be written (No space left on device)" in result.stderr
    assert "internal error" not in result.stderr and "Exception ignored" not in result.stderr


def test_evaluate_a_beir_folder_says_what_its_corpus_left_out(tmp_path: Path) -> None:
    corpus = (
        '{"_id": "d1", "title": "", "text": "waggle dance of the honey bee"}\n'
        '{"_id": "d2", "title": "Wax glands of worker bees", "text": ""}\n'  # title-only: indexed
        '{"_id": "d3", "title": "", "text": ""}\n'  # neither: skipped, and said so
        "{broken\n"
    )
    folder = beir_folder(tmp_path / "beir", {"corpus.jsonl": corpus})
    env = {"RAGCLI_CACHE": str(tmp_path / "cache")}
    for attempt in ("builds", "cached"):  # the cached index remembers what its build left out
        result = run("evaluate", str(folder), "--no-generate", "--json", env=env)
        assert result.returncode == 0, (attempt, result.stderr)
        report = json.loads(result.stdout)
        assert report["corpus_skipped"] == {"empty text and no title": 1, "invalid JSON": 1}
        assert report["counts"]["skipped_documents"] == 2
        assert "corpus: skipped 2 documents: 1 empty text and no title, 1 invalid JSON" in result.stderr
        assert report["configs"][0]["metrics"]["recall@1"] == 1.0  # "wax glands" finds the title-only d2
    strict = run("evaluate", str(folder), "--no-generate", "--strict", env=env)
    assert strict.returncode == ExitCode.BAD_INPUT and "corpus.jsonl:4: invalid JSON" in strict.stderr


def test_evaluate_names_the_corpus_lines_it_skipped_and_warns_of_its_encoding(tmp_path: Path) -> None:
    """A corpus line not valid UTF-8 was read as cp1252 without the warning `ragcli index` gives, and
    its skipped records were only counted: the build names them by file:line, and every run warns."""
    corpus = b'{"_id": "d1", "text": "bad \xff byte of the honey bee"}\n{"_id": "d1", "text": "dup"}\n'
    folder = beir_folder(tmp_path / "beir", {"corpus.jsonl": corpus})
    env = {"RAGCLI_CACHE": str(tmp_path / "cache")}
    built = run("evaluate", str(folder), "--no-generate", env=env)
    assert built.returncode == 0, built.stderr
    assert "skipped corpus.jsonl:2: duplicate id 'd1'" in built.stderr
    assert "corpus: skipped 1 documents: 1 duplicate id" in built.stderr
    for result in (built, run("evaluate", str(folder), "--no-generate", env=env)):  # the cached index too
        assert "warning: corpus.jsonl: not valid UTF-8, read as cp1252" in result.stderr


def test_tune_skips_a_bad_qa_line_and_says_so_or_stops_with_strict(tuning_index: Path, tuning_qa: Path) -> None:
    with tuning_qa.open("a") as handle:
        handle.write('{"question": 5}\n')
    bad_line = len(tuning_qa.read_text().splitlines())
    args = ["tune", str(tuning_qa), "--index", str(tuning_index), "--k1", "1.0", "--b", "0.5", "--json"]
    result = run(*args)
    assert result.returncode == 0, result.stderr
    assert f"skipped {tuning_qa}:{bad_line}: missing or empty 'question'" in result.stderr
    strict = run(*args, "--strict")
    assert strict.returncode == ExitCode.BAD_INPUT and f"{tuning_qa.name}:{bad_line}" in strict.stderr


def test_evaluate_restricts_every_query_with_path_and_where(sample_index: Path, tmp_path: Path) -> None:
    per_query = tmp_path / "pq.jsonl"
    args = ("evaluate", str(qa_file(tmp_path)), "--index", str(sample_index), "--no-generate", "--json")
    result = invoke(*args, "--path", "beekeeping/**", "--where", "format=markdown", "--per-query", str(per_query))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in per_query.read_text().splitlines()]
    hits = [h["doc_id"] for line in lines for h in line["hits"]]
    assert hits and all(d.startswith("beekeeping/") and d.endswith(".md") for d in hits)
    by_id = {line["id"]: line["metrics"] for line in lines}
    assert by_id["varroa"]["recall@10"] == 1.0  # its relevant document passes the filter
    assert by_id["honey"]["recall@10"] == 0.0  # its relevant documents do not
    bad = invoke(*args, "--where", "size>")
    assert bad.exit_code == ExitCode.USAGE and "--where" in bad.stderr


def test_evaluate_says_when_a_where_key_is_in_no_document_and_records_the_filter(
    sample_index: Path, tmp_path: Path
) -> None:
    """A mistyped key scored every metric 0 in silence, and the report never said a filter was applied."""
    args = ("evaluate", str(qa_file(tmp_path)), "--index", str(sample_index), "--no-generate")
    result = invoke(*args, "--json", "--where", "langauge=en")
    assert result.exit_code == 0, result.output
    assert "ragcli: warning: nothing can be retrieved: no document has the metadata key 'langauge'" in result.stderr
    report = json.loads(result.stdout)
    assert report["filter"] == "--where 'langauge=en'" and report["configs"][0]["metrics"]["ndcg@10"] == 0.0
    table = invoke(*args, "--path", "beekeeping/**")
    assert table.exit_code == 0 and "warning" not in table.stderr
    assert "restricted to --path 'beekeeping/**'" in table.stdout
    assert json.loads(invoke(*args, "--json").stdout)["filter"] is None


def test_a_cached_dataset_index_without_metadata_is_built_again_once(tmp_path: Path) -> None:
    folder = beir_folder(tmp_path / "mini", {})
    cache = tmp_path / "cache"
    assert invoke("evaluate", str(folder), "--json", env={"RAGCLI_CACHE": str(cache)}).exit_code == 0
    (index_dir,) = list(cache.iterdir())
    manifest = json.loads((index_dir / "manifest.json").read_text())
    (index_dir / manifest["generation"] / "metadata.joblib").unlink()
    del manifest["files"]["metadata.joblib"]  # as an index built before metadata was stored
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    args = ("evaluate", str(folder), "--json", "--where", "format!=pdf")
    result = run(*args, env={"RAGCLI_CACHE": str(cache)})
    assert result.returncode == 0 and "indexing" in result.stderr, result.stderr
    assert json.loads(result.stdout)["configs"][0]["metrics"]["ndcg@10"] == 1.0  # the filter admits the corpus
    again = run(*args, env={"RAGCLI_CACHE": str(cache)})
    assert again.returncode == 0 and "indexing" not in again.stderr
    assert json.loads(again.stdout)["configs"][0]["metrics"]["ndcg@10"] == 1.0
    none = json.loads(
        run("evaluate", str(folder), "--json", "--where", "format=pdf", env={"RAGCLI_CACHE": str(cache)}).stdout
    )
    assert none["configs"][0]["metrics"]["ndcg@10"] == 0.0


@pytest.mark.parametrize("command", [("evaluate", "--no-generate"), ("tune", "--split", "test")])
def test_a_second_run_waits_for_the_cached_dataset_index_another_builds(tmp_path: Path, command: tuple) -> None:
    """The cached index of a BEIR folder is shared by runs: a run that finds another process building it
    says so on stderr and waits, then uses that build (evaluate and tune have no --wait to suggest)."""
    folder = beir_folder(tmp_path / "mini", {})
    cache = tmp_path / "cache"
    env = {**os.environ, "RAGCLI_CACHE": str(cache)}
    assert run("evaluate", str(folder), "--no-generate", env=env).returncode == 0
    (index_dir,) = list(cache.iterdir())
    shutil.rmtree(index_dir)
    with index_lock(index_dir) as lock:  # another process's first build of the cached index
        waiting = subprocess.Popen(
            [RAGCLI, command[0], str(folder), *command[1:]], stderr=subprocess.PIPE, text=True, env=env
        )
        assert waiting.stderr is not None
        first_line = waiting.stderr.readline()
        build_index([folder], index_dir, lock=lock)
    _, rest = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, first_line + rest
    assert "waiting for another ragcli process" in first_line and str(index_dir) in first_line
    assert "--wait" not in first_line + rest and "indexing" not in rest  # the build it waited for is used


def test_tune_apply_waits_for_another_build_of_the_index(tuning_index: Path, tuning_qa: Path) -> None:
    """`tune --apply` while another process writes the index (`ragcli index`, or an evaluate adding dense
    vectors to a cached index): it says it waits, then stores its pair (it failed, exit 10, with a hint
    to pass --wait, an option tune does not have)."""
    pair = ("--k1", str(TUNING_BEST[0]), "--b", str(TUNING_BEST[1]), "--metric", "mrr@10", "--apply")
    with index_lock(tuning_index):
        tuning = subprocess.Popen(
            [RAGCLI, "tune", str(tuning_qa), "--index", str(tuning_index), *pair],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert tuning.stderr is not None
        said = ""
        while not ("waiting" in said or "error" in said):
            said = tuning.stderr.readline()
            if not said:  # it ended
                break
    _, rest = tuning.communicate(timeout=120)
    assert tuning.returncode == 0, said + rest
    assert "waiting for another ragcli process" in said and "--wait" not in rest
    bm25 = read_manifest(tuning_index)["bm25"]
    assert (bm25["k1"], bm25["b"]) == TUNING_BEST


def test_a_cached_dataset_index_of_a_newer_format_is_built_again_in_place(tmp_path: Path) -> None:
    """The cache is ragcli's own: an entry under this ragcli's name that a newer ragcli wrote (a higher
    format_version) is built again in this ragcli's format, not refused with exit 8 and no way past."""
    folder = beir_folder(tmp_path / "mini", {})
    cache = tmp_path / "cache"
    env = {"RAGCLI_CACHE": str(cache)}
    assert run("evaluate", str(folder), "--no-generate", env=env).returncode == 0
    (index_dir,) = list(cache.iterdir())
    manifest = json.loads((index_dir / "manifest.json").read_text())
    (index_dir / "manifest.json").write_text(json.dumps({**manifest, "format_version": FORMAT_VERSION + 1}))
    result = run("evaluate", str(folder), "--no-generate", "--json", env=env)
    assert result.returncode == 0 and "indexing" in result.stderr, result.stderr
    assert json.loads(result.stdout)["configs"][0]["metrics"]["ndcg@10"] == 1.0
    assert list(cache.iterdir()) == [index_dir] and read_manifest(index_dir)["format_version"] == FORMAT_VERSION


def test_each_index_format_has_its_own_cached_dataset_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ragcli versions of different index formats evaluating one dataset keep one cached index each,
    rather than each rebuilding the other's."""
    folder = beir_folder(tmp_path / "mini", {})
    env = {"RAGCLI_CACHE": str(tmp_path / "cache")}
    assert invoke("evaluate", str(folder), "--no-generate", env=env).exit_code == 0
    monkeypatch.setattr(dataset_indexing, "FORMAT_VERSION", FORMAT_VERSION + 1)  # as a newer ragcli names it
    assert invoke("evaluate", str(folder), "--no-generate", env=env).exit_code == 0
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_no_output_lands_in_the_cached_index_or_anywhere_in_ragcli_cache(tmp_path: Path) -> None:
    """A BEIR folder's cached index is an index like one given with --index: `--per-query` over its
    payload replaced it (exit 0, then exit 7 on every later evaluate), over its manifest rewrote it."""
    folder = beir_folder(tmp_path / "mini", {})
    cache = tmp_path / "cache"
    env = {"RAGCLI_CACHE": str(cache)}
    assert invoke("evaluate", str(folder), "--json", "--no-generate", env=env).exit_code == 0
    (index_dir,) = list(cache.iterdir())
    (payload,) = index_dir.glob("data-*/bm25.joblib")
    before = {p: p.read_bytes() for p in index_dir.rglob("*") if p.is_file()}
    for option, path in [
        ("--per-query", payload),
        ("--per-query", index_dir / "manifest.json"),
        ("--run-file", index_dir / "run.txt"),
        ("--per-query", cache / "pq.jsonl"),  # the cache holds models and the state file too
    ]:
        result = invoke("evaluate", str(folder), "--no-generate", option, str(path), env=env)
        assert result.exit_code == ExitCode.USAGE, (path, result.output)
        assert "inside ragcli's cache" in result.output or "inside the ragcli index" in result.output, result.output
        assert not path.exists() or path in before
    assert {p: p.read_bytes() for p in index_dir.rglob("*") if p.is_file()} == before
    assert invoke("evaluate", str(folder), "--json", "--no-generate", env=env).exit_code == 0


def test_no_output_lands_inside_any_ragcli_index(sample_index: Path, tmp_path: Path) -> None:
    """Not only the index evaluated: another index (a collection, a folder of indexes) is left alone too."""
    other = tmp_path / "other"
    shutil.copytree(sample_index, other)
    manifest = (other / "manifest.json").read_bytes()
    args = ("evaluate", str(qa_file(tmp_path)), "--index", str(sample_index), "--no-generate")
    result = invoke(*args, "--per-query", str(other / "manifest.json"))
    assert result.exit_code == ExitCode.USAGE and f"inside the ragcli index {other}" in result.output, result.output
    assert (other / "manifest.json").read_bytes() == manifest


def test_no_context_without_generated_answers_is_refused_before_any_work(tmp_path: Path) -> None:
    """`--no-context --no-generate` printed the bm25 column alone with exit 0: the option was ignored."""
    folder = beir_folder(tmp_path / "beir", {})
    cache = tmp_path / "cache"
    result = run("evaluate", str(folder), "--no-generate", "--no-context", env={"RAGCLI_CACHE": str(cache)})
    assert result.returncode == ExitCode.USAGE and result.stdout == "", result.stderr
    assert result.stderr.startswith("ragcli: error: --no-context compares answers: drop --no-generate")
    assert not cache.exists()  # refused before indexing the corpus


def test_no_context_on_a_dataset_without_gold_answers_says_there_is_no_closed_book_column(tmp_path: Path) -> None:
    folder = beir_folder(tmp_path / "beir", {})
    result = run(
        "evaluate",
        str(folder),
        "-g",
        "extractive",
        "--no-context",
        "--k",
        "1",
        "--json",
        env={"RAGCLI_CACHE": str(tmp_path / "cache")},
    )
    assert result.returncode == 0, result.stderr
    assert "ragcli: warning: --no-context: no question of beir/test has gold answers, so no closed-book column" in (
        " ".join(result.stderr.split())
    )
    assert [c["name"] for c in json.loads(result.stdout)["configs"]] == ["bm25"]


@pytest.mark.parametrize("command", ["evaluate", "tune"])
def test_a_closed_stdout_is_exit_12_before_any_work(sample_index: Path, tmp_path: Path, command: str) -> None:
    """`ragcli evaluate … >&-` ran every query (and loaded the model) before finding it could print nothing."""
    run_path = tmp_path / "run.txt"
    outputs = ["--no-generate", "--run-file", str(run_path)] if command == "evaluate" else []
    result = run_closed([command, str(qa_file(tmp_path)), "--index", str(sample_index), *outputs], ">&-")
    assert result.returncode == ExitCode.WRITE_FAILED, result.stderr
    assert result.stderr.startswith("ragcli: error: stdout: cannot be written (it is closed)"), result.stderr
    assert len(result.stderr.splitlines()) == 1 and not run_path.exists()


@pytest.mark.parametrize("option", ["--run-file", "--per-query", "--plot"])
def test_an_output_that_is_a_symbolic_link_is_refused(sample_index: Path, tmp_path: Path, option: str) -> None:
    """A planted `run.txt -> ~/.ssh/authorized_keys` was written through: ragcli rewrites only what it names."""
    (tmp_path / "victim").mkdir()
    target = tmp_path / "victim" / "kept.png"
    target.write_text("precious\n")
    link = tmp_path / "out.png"
    link.symlink_to(target)
    dangling = tmp_path / "new.png"
    dangling.symlink_to(tmp_path / "victim" / "absent.png")
    for path in (link, dangling):
        args = ["evaluate", str(qa_file(tmp_path)), "--index", str(sample_index), "--no-generate"]
        result = run(*args, option, path.name, cwd=tmp_path)
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert f"{option} {path.name}: is a symbolic link" in result.stderr, result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
    assert link.is_symlink() and dangling.is_symlink() and target.read_text() == "precious\n"
    assert sorted(p.name for p in (tmp_path / "victim").iterdir()) == ["kept.png"]
