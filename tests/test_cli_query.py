from __future__ import annotations

import json
from pathlib import Path

import pytest

from clihelpers import invoke, run
from ragcli.errors import ExitCode

QUESTIONS = ["How do honeybees tell each other where the flowers are?", "What do beekeepers use against varroa mites?"]


def test_query_table_for_people(sample_index: Path) -> None:
    result = invoke("query", QUESTIONS[0], "--index", str(sample_index), "-k", "2")
    assert result.exit_code == 0, result.output
    assert "behavior/waggle_dance.md:1" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colour codes


def test_query_json(sample_index: Path) -> None:
    result = invoke("query", QUESTIONS[1], "--index", str(sample_index), "--json", "-k", "3")
    data = json.loads(result.stdout)
    assert data["query"] == QUESTIONS[1] and data["retriever"] == "bm25"
    assert [h["rank"] for h in data["hits"]] == [1, 2, 3]
    first = data["hits"][0]
    assert first["doc_id"] == "beekeeping/varroa.md"
    assert set(first) >= {"id", "path", "line", "score", "text"}
    assert first["score"] >= data["hits"][1]["score"]


@pytest.mark.parametrize("mode", ["stdin", "argument"])
def test_query_inputs(sample_index: Path, mode: str) -> None:
    if mode == "stdin":
        result = run("query", "-", "--index", str(sample_index), input="\n".join(QUESTIONS) + "\n\n")
        records = [json.loads(line) for line in result.stdout.splitlines()]
    else:
        records = [json.loads(run("query", q, "--index", str(sample_index), "--json").stdout) for q in QUESTIONS]
    assert [r["query"] for r in records] == QUESTIONS
    assert [r["hits"][0]["doc_id"] for r in records] == ["behavior/waggle_dance.md", "beekeeping/varroa.md"]


def test_tfidf_retriever(sample_index: Path) -> None:
    result = invoke("query", "pollen baskets", "--index", str(sample_index), "--retriever", "tfidf", "--json")
    data = json.loads(result.stdout)
    assert data["retriever"] == "tfidf" and data["hits"]


def test_unknown_retriever_is_a_usage_error(sample_index: Path) -> None:
    result = run("query", "bees", "--index", str(sample_index), "--retriever", "magic")
    assert result.returncode == ExitCode.USAGE
    assert "unknown retriever" in result.stderr


def test_query_without_an_index_says_how_to_build_one(tmp_path: Path) -> None:
    result = run("query", "bees", cwd=tmp_path)
    assert result.returncode == ExitCode.NO_INDEX
    assert "ragcli index" in result.stderr and "Traceback" not in result.stderr


def test_query_that_matches_nothing(sample_index: Path) -> None:
    result = invoke("query", "the of and", "--index", str(sample_index), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["hits"] == []
    people = invoke("query", "xyzzy", "--index", str(sample_index))
    assert "No passage matches" in people.stdout


def test_no_color_and_piped_output_stay_plain(sample_index: Path) -> None:
    result = run("query", "waggle dance", "--index", str(sample_index), env={"NO_COLOR": "1"})
    assert result.returncode == 0 and "\x1b[" not in result.stdout


def test_python_dash_m_works(sample_index: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "ragcli", "query", "waggle", "--index", str(sample_index), "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert json.loads(result.stdout)["hits"][0]["doc_id"] == "behavior/waggle_dance.md"
