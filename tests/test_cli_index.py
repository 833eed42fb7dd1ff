from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import invoke, run
from conftest import write_files

from ragcli.errors import ExitCode
from ragcli.retrieval.index import load_index


def test_index_prints_a_summary_on_stderr(small_corpus: Path, tmp_path: Path) -> None:
    result = invoke("index", str(small_corpus), "--index", str(tmp_path / "idx"))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "Indexed 6 documents" in result.stderr
    assert load_index(tmp_path / "idx").info()["documents"] == 6


def test_index_json_report(small_corpus: Path, tmp_path: Path) -> None:
    (small_corpus / "image.png").write_bytes(b"\x89PNG")
    result = invoke("index", str(small_corpus), "--index", str(tmp_path / "idx"), "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["documents"] == 6 and report["passages"] == 6
    assert report["skipped"] == [{"path": "image.png", "reason": "unsupported file type .png"}]


def test_verbose_lists_skipped_files(small_corpus: Path, tmp_path: Path) -> None:
    (small_corpus / "image.png").write_bytes(b"\x89PNG")
    result = invoke("index", str(small_corpus), "-i", str(tmp_path / "idx"), "--verbose")
    assert "skipped image.png: unsupported file type .png" in result.stderr


def test_options_are_stored_in_the_manifest(small_corpus: Path, tmp_path: Path) -> None:
    result = invoke(
        "index",
        str(small_corpus),
        "-i",
        str(tmp_path / "idx"),
        "--chunk-size",
        "5",
        "--chunk-overlap",
        "1",
        "--language",
        "german",
        "--no-stopwords",
        "--bm25-variant",
        "okapi",
        "--k1",
        "1.1",
    )
    assert result.exit_code == 0, result.output
    info = load_index(tmp_path / "idx").info()
    assert info["chunking"] == {"size": 5, "overlap": 1, "unit": "words"}
    assert info["analyzer"] == {"language": "de", "stopwords": False, "stem": True}
    assert info["bm25"]["variant"] == "okapi" and info["bm25"]["k1"] == 1.1 and info["bm25"]["b"] == 0.75


def test_environment_variable_chooses_the_index(small_corpus: Path, tmp_path: Path) -> None:
    result = invoke("index", str(small_corpus), env={"RAGCLI_INDEX": str(tmp_path / "envidx")})
    assert result.exit_code == 0
    assert (tmp_path / "envidx" / "manifest.json").is_file()


@pytest.mark.parametrize(
    "files, args, code, message",
    [
        ({}, ["missing-folder"], ExitCode.PATH_NOT_FOUND, "no such file or folder"),
        ({"a.png": b"\x89PNG"}, ["."], ExitCode.EMPTY_CORPUS, "no text to index"),
        ({"d.jsonl": '{"text": "ok"}\n{broken\n'}, [".", "--strict"], ExitCode.BAD_INPUT, "d.jsonl:2: invalid JSON"),
        ({"a.txt": "x"}, [".", "--language", "xx"], ExitCode.USAGE, "unsupported language"),
        ({"a.txt": "x"}, [".", "--chunk-size", "5", "--chunk-overlap", "5"], ExitCode.USAGE, "smaller than"),
        ({"a.txt": "x"}, [".", "--bm25-variant", "nope"], ExitCode.USAGE, "unknown BM25 variant"),
    ],
)
def test_errors_are_one_line_with_their_exit_code(
    tmp_path: Path, files: dict, args: list, code: int, message: str
) -> None:
    corpus = write_files(tmp_path / "c", files) if files else tmp_path
    corpus.mkdir(exist_ok=True)
    result = run("index", *args, "--index", str(tmp_path / "idx"), cwd=corpus)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "idx" / "manifest.json").exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run("--debug", "index", "missing-folder", "--index", str(tmp_path / "idx"), cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_default_index_folder_is_dot_ragcli_and_is_not_indexed(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.txt": "bees make honey"})
    assert run("index", ".", cwd=tmp_path).returncode == 0
    second = run("index", ".", "--json", cwd=tmp_path)  # the .ragcli folder must not be read as corpus
    assert json.loads(second.stdout)["documents"] == 1
    assert (tmp_path / ".ragcli" / "manifest.json").is_file()


def test_a_folder_with_package_json_and_records_indexes_the_records(tmp_path: Path) -> None:
    corpus = write_files(
        tmp_path / "c",
        {
            "package.json": json.dumps({"name": "site", "version": "1.0.0", "dependencies": {"x": "^1"}}),
            "records.jsonl": '{"id": "r1", "text": "glaciers carve valleys"}\n{"id": "r2", "text": \n'
            '{"id": "t1", "title": "Aerodynamic heating of slender cones", "text": ""}\n',
        },
    )
    result = invoke("index", str(corpus), "--index", str(tmp_path / "idx"), "--json")
    assert result.exit_code == 0, result.output
    skipped = json.loads(result.stdout)["skipped"]
    assert skipped == [  # package.json once, with the reason; the bad line with file:line
        {
            "path": "package.json",
            "reason": "not a list of records: no text field (text/contents/content/body/passage); "
            "name it with --text-field",
        },
        {"path": "records.jsonl:2", "reason": "invalid JSON (Expecting value)"},
    ]
    index = load_index(tmp_path / "idx")
    assert {index.passages.doc_ids[i] for i in range(len(index.passages))} == {"r1", "t1"}
    found = invoke("query", "aerodynamic heating cones", "--index", str(tmp_path / "idx"), "--no-generate", "--json")
    hits = json.loads(found.stdout)["hits"]
    assert hits[0]["doc_id"] == "t1" and hits[0]["line"] == 3  # the title-only record, cited at its line
    strict = run("index", str(corpus), "--index", str(tmp_path / "strict"), "--strict")
    assert strict.returncode == ExitCode.BAD_INPUT
    assert "records.jsonl:2: invalid JSON" in strict.stderr and "drop --strict" in strict.stderr
    deprecated = run("index", str(corpus), "--index", str(tmp_path / "old"), "--skip-invalid", "-q")
    assert deprecated.returncode == 0 and deprecated.stderr == ""  # still accepted: skipping is the default
