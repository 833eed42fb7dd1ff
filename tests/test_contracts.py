"""Contracts scripts rely on: the documented exit codes (README.md, "Exit codes") and the exact keys of
every `--json` output. The numbers and key lists are written out here on purpose: renumbering an exit
code or dropping a key must fail a test, not silently follow the code."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from clihelpers import invoke, run
from conftest import write_files

from ragcli import errors
from ragcli.errors import ExitCode
from ragcli.store import MANIFEST, index_lock

README = Path(__file__).resolve().parent.parent / "README.md"

# code → (ExitCode member, words of its README meaning)
DOCUMENTED_EXIT_CODES = {
    0: ("OK", "success"),
    1: ("FAILURE", "internal error"),
    2: ("USAGE", "bad usage"),
    3: ("NO_INDEX", "no index found"),
    4: ("PATH_NOT_FOUND", "a path to index does not exist"),
    5: ("EMPTY_CORPUS", "nothing to index"),
    6: ("BAD_INPUT", "malformed input"),
    7: ("INDEX_DAMAGED", "damaged index"),
    8: ("INDEX_VERSION", "index format from a newer or older ragcli"),
    9: ("MODEL_UNAVAILABLE", "a model cannot be loaded"),
    10: ("INDEX_LOCKED", "being written by another process"),
    11: ("MISSING_EXTRA", "an optional extra is not installed"),
    12: ("WRITE_FAILED", "could not be written"),
    13: ("CLUSTER_FAILED", "the Ray cluster cannot be reached"),
    14: ("OUT_OF_MEMORY", "out of memory"),
    15: ("PLUGIN_FAILED", "a plugin failed"),
    130: ("INTERRUPTED", "interrupted"),
    143: ("TERMINATED", "terminated"),
}


def readme_exit_codes() -> dict[int, str]:
    section = README.read_text(encoding="utf-8").split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*(.+?)\s*\|\s*$", section, re.MULTILINE)
    assert rows, "no table under 'Exit codes' in README.md"
    return {int(code): meaning for code, meaning in rows}


def test_the_readme_exit_code_table_is_the_enum() -> None:
    documented = readme_exit_codes()
    assert sorted(documented) == sorted(DOCUMENTED_EXIT_CODES) == sorted(int(code) for code in ExitCode)
    for code, (name, words) in DOCUMENTED_EXIT_CODES.items():
        assert ExitCode[name] == code and ExitCode(code).name == name
        assert words in documented[code], (code, documented[code])


def test_each_error_type_leaves_with_its_documented_code() -> None:
    assert {
        errors.RagcliError: 1,
        errors.InvalidOptionError: 2,
        errors.NoIndexError: 3,
        errors.PathNotFoundError: 4,
        errors.EmptyCorpusError: 5,
        errors.InputFormatError: 6,
        errors.IndexDamagedError: 7,
        errors.IndexVersionError: 8,
        errors.ModelUnavailableError: 9,
        errors.IndexLockedError: 10,
        errors.MissingExtraError: 11,
        errors.IndexWriteError: 12,
        errors.OutputWriteError: 12,
        errors.OutOfMemoryError: 14,
        errors.PluginError: 15,
    } == {
        kind: int(kind.exit_code)
        for kind in (
            errors.RagcliError,
            errors.InvalidOptionError,
            errors.NoIndexError,
            errors.PathNotFoundError,
            errors.EmptyCorpusError,
            errors.InputFormatError,
            errors.IndexDamagedError,
            errors.IndexVersionError,
            errors.ModelUnavailableError,
            errors.IndexLockedError,
            errors.MissingExtraError,
            errors.IndexWriteError,
            errors.OutputWriteError,
            errors.OutOfMemoryError,
            errors.PluginError,
        )
    }


def damage_manifest(index_dir: Path, change: dict) -> None:
    manifest = json.loads((index_dir / MANIFEST).read_text())
    manifest.update(change)
    (index_dir / MANIFEST).write_text(json.dumps(manifest))


def garbage_manifest(index_dir: Path) -> None:
    (index_dir / MANIFEST).write_text("{not json")


@pytest.mark.parametrize(
    "code, args, prepare",
    [
        (2, ["query", "bees", "--no-such-option"], None),
        (2, ["query", "bees", "--retriever", "magic", "--index", "{index}"], None),
        (3, ["query", "bees", "--no-generate", "--index", "{tmp}/nothing"], None),
        (3, ["info", "--index", "{tmp}/nothing"], None),
        (4, ["index", "{tmp}/missing-folder", "--index", "{tmp}/new"], None),
        (5, ["index", "{tmp}/images", "--index", "{tmp}/new"], None),
        (6, ["index", "{tmp}/broken", "--index", "{tmp}/new", "--strict"], None),
        (7, ["query", "bees", "--no-generate", "--index", "{index}"], garbage_manifest),
        (7, ["info", "--index", "{index}"], garbage_manifest),
        (
            8,
            ["query", "bees", "--no-generate", "--index", "{index}"],
            lambda d: damage_manifest(d, {"format_version": 99}),
        ),
        (2, ["query", "bees", "-r", "dense", "--no-generate", "--index", "{index}"], None),
    ],
    ids=[
        "2-unknown-option",
        "2-unknown-retriever",
        "3-query-no-index",
        "3-info-no-index",
        "4-missing-path",
        "5-empty-corpus",
        "6-bad-jsonl",
        "7-query-garbage-manifest",
        "7-info-garbage-manifest",
        "8-newer-format",
        "2-no-dense-vectors",
    ],
)
def test_failures_exit_with_the_documented_number(
    small_index: Path, tmp_path: Path, code: int, args: list, prepare: object
) -> None:
    write_files(tmp_path / "images", {"a.png": b"\x89PNG"})
    write_files(tmp_path / "broken", {"d.jsonl": '{"text": "ok"}\n{broken\n'})
    if prepare is not None:
        prepare(small_index)  # type: ignore[operator]
    result = run(*[a.format(tmp=tmp_path, index=small_index) for a in args], cwd=tmp_path)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.strip()


def test_the_dense_section_gives_the_codes_the_table_gives() -> None:
    """Missing vectors are bad usage (2), as the table says; only a missing extra is 11."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    bullet = text.split("**Without the extra or the vectors**", 1)[1].split("\n- ", 1)[0].split(" - **", 1)[0]
    assert "exit 11 without the extra" in bullet and "exit 2 (`has no dense vectors`)" in bullet


def test_a_locked_index_exits_10(small_corpus: Path, small_index: Path) -> None:
    with index_lock(small_index):
        result = run("index", str(small_corpus), "--index", str(small_index))
    assert result.returncode == 10, result.stderr


def test_success_exits_0(small_index: Path) -> None:
    assert run("query", "electricity", "--no-generate", "--index", str(small_index)).returncode == 0


# --- the keys of every --json output ------------------------------------------------------------------

INDEX_KEYS = [
    "documents",
    "files",
    "files_changed",
    "files_new",
    "files_newer_reader",
    "files_read",
    "files_removed",
    "files_restated",
    "files_touched",
    "files_unchanged",
    "files_unchanged_skipped",
    "ignored",
    "index",
    "passages",
    "rows",
    "rows_changed",
    "rows_new",
    "rows_removed",
    "rows_unchanged",
    "seconds",
    "settings_changed",
    "skipped",
    "terms",
    "up_to_date",
    "updated",
    "warnings",
]
INDEX_ROOT_KEYS = ["roots_added", "roots_removed"]  # what a re-index did to the roots (lists of roots)
INDEX_ROOT_KEYS += ["selection_kept"]  # when the roots changed: the recorded globs they are walked with
INDEX_KEYS = sorted(INDEX_KEYS + INDEX_ROOT_KEYS)
SETTING_CHANGE_KEYS = ["from", "setting", "to"]  # an item of "settings_changed"
UPDATE_KEYS = ["action", "changed", "retriever"]  # an item of "updated" (dense adds "embedded", "from_checkpoint")
SKIPPED_KEYS = ["path", "reason"]
HIT_KEYS = [
    *("copies", "doc_id", "end", "id", "line", "metadata", "page", "path", "rank", "score", "start", "text"),
    "title",
]
RETRIEVAL_KEYS = ["hits", "query", "retriever"]
ANSWER_KEYS = [
    "answer",
    "citations",
    "fallback",
    "generator",
    "model",
    "query",
    "retriever",
    "sources",
    "sources_in_prompt",
    "timings",
]
SOURCE_KEYS = [
    "cited",
    "copies",
    "doc_id",
    "end",
    "id",
    "line",
    "metadata",
    "n",
    "page",
    "path",
    "rank",
    "score",
    "start",
    "text",
    "title",
]
METADATA_KEYS = ["format", "mtime", "path", "size"]  # what the walk gives every document read from a file
ANSWER_TIMING_KEYS = ["generate", "load", "retrieve"]
INFO_KEYS = [
    "analyzer",
    "base",
    "bm25",
    "built",
    "chunking",
    "dense",
    "dense_vectors",
    "documents",
    "format_version",
    "metadata_keys",
    "passages",
    "path",
    "ragcli_version",
    "retrievers",
    "roots",
    "rows",
    "selection",
    "settings",
    "size_bytes",
    "sources",
    "terms",
    "tfidf",
    "tokens",
]
# info's "settings": every setting a re-index keeps, by its `ragcli index` option name
SETTINGS_KEYS = [
    *("b", "bm25_variant", "chunk_overlap", "chunk_size", "delta", "dense", "embedding_model"),
    *("embedding_precision", "exclude", "generated", "id_field", "ignore", "include", "k1", "language"),
    *("max_expanded_size", "sql", "stem", "stopwords", "text_field", "title_field"),
]
EVALUATE_KEYS = [
    *("bm25", "configs", "corpus_skipped", "counts", "cutoffs", "dataset", "depth", "filter", "generator", "index"),
]
EVALUATE_BM25_KEYS = ["b", "k1", "variant"]
EVALUATE_COUNT_KEYS = [
    "judged",
    "queries",
    "queries_in_corpus",
    "skipped_documents",
    "skipped_lines",
    "with_answers",
    "without_relevant",
]
EVALUATE_CONFIG_KEYS = ["ci95", "metrics", "name", "retriever", "timings"]
EVALUATE_COMPARED_KEYS = ["ci95", "differences", "metrics", "name", "retriever", "timings", "versus"]
EVALUATE_VERSUS_KEYS = ["baseline", "test"]
EVALUATE_DIFFERENCE_KEYS = ["difference", "p_holm", "p_value"]
EVALUATE_GENERATOR_KEYS = ["model", "name", "top_k"]
EVALUATE_TIMING_KEYS = ["generate_s_per_query", "retrieve_s_per_query"]
EVALUATE_METRIC_KEYS = [
    "bleu",
    "citation_precision",
    "citation_recall",
    "exact_match",
    "f1",
    "groundedness",
    "hit_rate@1",
    "hit_rate@10",
    "map",
    "match",
    "mrr@1",
    "mrr@10",
    "ndcg@1",
    "ndcg@10",
    "precision@1",
    "precision@10",
    "recall@1",
    "recall@10",
    "rouge_l",
]
PER_QUERY_KEYS = ["answer", "citations", "config", "gold_answers", "hits", "id", "metrics", "question", "relevant"]
TUNE_KEYS = ["applied", "best", "current", "dataset", "grid", "index", "metric"]
TUNE_CELL_KEYS = ["b", "k1", "score"]
TRAIN_RETRIEVER_KEYS = [
    *("base_model", "base_validation_ndcg", "best_epoch", "data", "device", "dropped_overlap", "epochs"),
    *("examples", "missing_relevant", "output", "seconds", "settings", "training_queries", "validation_queries"),
]
TRAIN_EPOCH_KEYS = ["epoch", "loss", "validation_ndcg"]
TRAIN_SETTINGS_KEYS = [
    *("batch_size", "device", "epochs", "hard_negatives", "lr", "max_seq_length", "scale", "seed"),
    *("validation", "warmup"),
]


def keys(data: dict) -> list[str]:
    return sorted(data)


def test_index_json_keys(small_corpus: Path, tmp_path: Path) -> None:
    (small_corpus / "image.png").write_bytes(b"\x89PNG")
    result = invoke("index", str(small_corpus), "--index", str(tmp_path / "idx"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert keys(report) == INDEX_KEYS
    assert [keys(s) for s in report["skipped"]] == [SKIPPED_KEYS]
    again = json.loads(invoke("index", str(small_corpus), "--index", str(tmp_path / "idx"), "--json").stdout)
    assert keys(again) == INDEX_KEYS and again["up_to_date"] is True
    changed = invoke("index", "--index", str(tmp_path / "idx"), "--k1", "0.8", "--json")
    report = json.loads(changed.stdout)
    assert keys(report) == INDEX_KEYS
    assert [keys(c) for c in report["settings_changed"]] == [SETTING_CHANGE_KEYS]
    assert [keys(u) for u in report["updated"]] == [UPDATE_KEYS]


def test_query_json_keys(small_index: Path) -> None:
    result = invoke("query", "wind electricity", "--index", str(small_index), "-g", "extractive", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert keys(data) == ANSWER_KEYS
    assert data["sources"] and all(keys(s) == SOURCE_KEYS for s in data["sources"])
    assert all(keys(s["metadata"]) == METADATA_KEYS for s in data["sources"])
    assert keys(data["timings"]) == ANSWER_TIMING_KEYS


def test_retrieval_only_query_json_keys(small_index: Path) -> None:
    result = invoke("query", "wind electricity", "--index", str(small_index), "--no-generate", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert keys(data) == RETRIEVAL_KEYS
    assert data["hits"] and all(keys(h) == HIT_KEYS for h in data["hits"])
    assert all(keys(h["metadata"]) == METADATA_KEYS for h in data["hits"])
    lines = invoke("query", "-", "--index", str(small_index), "--no-generate", input="wind\nsolar\n")
    records = [json.loads(line) for line in lines.stdout.splitlines()]
    assert len(records) == 2 and all(keys(r) == RETRIEVAL_KEYS for r in records)
    assert all(keys(h) == HIT_KEYS for r in records for h in r["hits"])


def test_info_json_keys(small_index: Path) -> None:
    data = json.loads(invoke("info", "--index", str(small_index), "--json").stdout)
    assert keys(data) == INFO_KEYS
    assert keys(data["settings"]) == SETTINGS_KEYS
    verified = json.loads(invoke("info", "--index", str(small_index), "--json", "--verify").stdout)
    assert keys(verified) == sorted([*INFO_KEYS, "verified"])


def qa_file(tmp_path: Path) -> Path:
    path = tmp_path / "qa.jsonl"
    path.write_text(
        json.dumps({"id": "w", "question": "wind turbines", "answers": ["kinetic energy"], "relevant": ["wind.txt"]})
        + "\n"
    )
    return path


def test_evaluate_json_keys(small_index: Path, tmp_path: Path) -> None:
    per_query = tmp_path / "pq.jsonl"
    result = invoke(
        "evaluate",
        str(qa_file(tmp_path)),
        "--index",
        str(small_index),
        "-g",
        "extractive",
        "--k",
        "1,10",
        "--per-query",
        str(per_query),
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert keys(data) == EVALUATE_KEYS
    assert keys(data["bm25"]) == EVALUATE_BM25_KEYS
    assert keys(data["counts"]) == EVALUATE_COUNT_KEYS
    assert keys(data["generator"]) == EVALUATE_GENERATOR_KEYS
    assert [keys(c) for c in data["configs"]] == [EVALUATE_CONFIG_KEYS]
    assert keys(data["configs"][0]["timings"]) == EVALUATE_TIMING_KEYS
    assert keys(data["configs"][0]["metrics"]) == EVALUATE_METRIC_KEYS
    assert [keys(json.loads(line)) for line in per_query.read_text().splitlines()] == [PER_QUERY_KEYS]
    assert set(keys(data["configs"][0]["ci95"])) <= set(EVALUATE_METRIC_KEYS)  # the means of 2 or more values
    two = tmp_path / "two.jsonl"  # a paired test needs two questions or more
    two.write_text(
        qa_file(tmp_path).read_text() + json.dumps({"question": "turbines", "relevant": ["wind.txt"]}) + "\n"
    )
    compared = invoke("evaluate", str(two), "--index", str(small_index), "-r", "bm25,tfidf", "--json")
    assert compared.exit_code == 0, compared.output
    first, second = json.loads(compared.stdout)["configs"]
    assert [keys(first), keys(second)] == [EVALUATE_CONFIG_KEYS, EVALUATE_COMPARED_KEYS]
    assert keys(second["versus"]) == EVALUATE_VERSUS_KEYS
    assert {tuple(keys(d)) for d in second["differences"].values()} == {tuple(EVALUATE_DIFFERENCE_KEYS)}


def test_tune_json_keys(small_index: Path, tmp_path: Path) -> None:
    copy = tmp_path / "idx"
    shutil.copytree(small_index, copy)
    result = invoke("tune", str(qa_file(tmp_path)), "--index", str(copy), "--k1", "0.9,1.5", "--b", "0.5", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert keys(data) == TUNE_KEYS
    assert keys(data["best"]) == keys(data["current"]) == TUNE_CELL_KEYS
    assert len(data["grid"]) == 2 and all(keys(cell) == TUNE_CELL_KEYS for cell in data["grid"])


COLLECTION_KEYS = ["built", "documents", "error", "link", "name", "passages", "path", "size_bytes"]
COLLECTION_REMOVE_KEYS = ["left", "name", "path"]
CONFIG_SHOW_KEYS = ["collections_dir", "files", "index", "values"]
CONFIG_FILE_KEYS = ["exists", "path"]
CONFIG_VALUE_KEYS = ["key", "source", "value"]
CONFIG_INDEX_KEYS = ["collection", "path", "source"]


def test_collections_json_keys(small_corpus: Path, tmp_path: Path) -> None:
    env = {"RAGCLI_DATA_DIR": str(tmp_path / "data")}
    assert invoke("index", str(small_corpus), "--name", "energy", "-q", env=env).exit_code == 0
    listed = json.loads(invoke("collections", "--json", env=env).stdout)
    assert [keys(c) for c in listed] == [COLLECTION_KEYS]
    removed = json.loads(invoke("collections", "remove", "energy", "--json", env=env).stdout)
    assert keys(removed) == COLLECTION_REMOVE_KEYS


def test_config_show_json_keys() -> None:
    data = json.loads(invoke("config", "show", "--json").stdout)
    assert keys(data) == CONFIG_SHOW_KEYS
    assert sorted(data["files"]) == ["project", "user"]
    assert all(keys(f) == CONFIG_FILE_KEYS for f in data["files"].values())
    assert data["values"] and all(keys(v) == CONFIG_VALUE_KEYS for v in data["values"])
    assert keys(data["index"]) == CONFIG_INDEX_KEYS


TRAIN_GENERATOR_KEYS = [
    "architecture",
    "base_model",
    "device",
    "epochs",
    "examples",
    "learning_rate",
    "lora",
    "losses",
    "output",
    "precision",
    "resumed_from",
    "seconds",
    "skipped",
    "steps",
    "with_context",
]
COMPARE_KEYS = ["configs", "dataset", "index", "questions", "retriever", "top_k"]
COMPARE_CONFIG_KEYS = ["context", "metrics", "model", "name"]
COMPARE_METRIC_KEYS = ["citation_precision", "exact_match", "f1", "match", "seconds_per_answer"]


def test_train_generator_and_compare_json_keys(small_index: Path, tiny_t5: Path, tmp_path: Path) -> None:
    qa = qa_file(tmp_path)
    tuned = tmp_path / "tuned"
    result = invoke(
        "train", "generator", str(qa), "-o", str(tuned), "--model", str(tiny_t5), "--epochs", "1", "--threads", "1",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert keys(json.loads(result.stdout)) == TRAIN_GENERATOR_KEYS
    result = invoke(
        "evaluate", str(qa), "--index", str(small_index), "--compare", "--model", str(tiny_t5), "--tuned-model",
        str(tuned), "--threads", "1", "--max-new-tokens", "4", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert keys(data) == COMPARE_KEYS
    assert [keys(c) for c in data["configs"]] == [COMPARE_CONFIG_KEYS] * 4
    assert all(keys(c["metrics"]) == COMPARE_METRIC_KEYS for c in data["configs"])


def test_train_retriever_json_keys(small_index: Path, tmp_path: Path) -> None:
    from tinymodels import build_tiny_embedder

    tiny = build_tiny_embedder(tmp_path / "tiny")
    qa = tmp_path / "qa.jsonl"
    lines = [{"id": "w", "question": "wind turbines", "relevant": ["wind.txt"]}]
    lines.append({"id": "s", "question": "solar cells", "relevant": ["solar.md"]})
    qa.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = invoke(
        "train", "retriever", str(qa), "--index", str(small_index), "--output", str(tmp_path / "model"),
        "--embedding-model", str(tiny), "--validation", "0.5", "--batch-size", "2", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert keys(data) == TRAIN_RETRIEVER_KEYS
    assert keys(data["settings"]) == TRAIN_SETTINGS_KEYS
    assert [keys(epoch) for epoch in data["epochs"]] == [TRAIN_EPOCH_KEYS]


def test_the_public_api_is_typed_for_callers(tmp_path: Path) -> None:
    """Every export was `Any` to a caller's type checker (the exports load lazily), `py.typed` was not
    shipped, and `dir(ragcli)` listed none of them."""
    import subprocess
    import sys

    import ragcli

    package = Path(ragcli.__file__).parent
    assert (package / "py.typed").exists()
    assert '"ragcli" = ["py.typed"]' in (package.parent / "pyproject.toml").read_text()
    assert set(ragcli.__all__) <= set(dir(ragcli))
    caller = tmp_path / "caller.py"
    caller.write_text('from ragcli import load_index\nreveal_type(load_index("idx").search("q"))\n')
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), str(caller)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        # as a caller's checker finds an installed package (mypy cannot follow an editable install's
        # import hook): on the Python path, not MYPYPATH, which would check ragcli's own code as the caller's
        env={**os.environ, "PYTHONPATH": str(package.parent)},
    )
    assert checked.returncode == 0 and 'Revealed type is "list[ragcli.records.Hit]"' in checked.stdout, checked.stdout


def test_memory_running_out_is_exit_14_not_an_internal_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A failed allocation (numpy's MemoryError, here a real one of 1 EiB) was "internal error:
    MemoryError … please report it": the machine's limit, not a bug, so exit 14 and what to do."""
    import numpy as np
    import typer

    from ragcli import cli

    @cli.handle_errors
    def greedy() -> None:
        np.empty(1 << 60, dtype=np.uint8)

    with pytest.raises(typer.Exit) as raised:
        greedy()
    assert raised.value.exit_code == 14
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("ragcli: error: out of memory: Unable to allocate 1.00 EiB"), said
    assert "internal error" not in said[0] and "--jobs 1" in said[0]
