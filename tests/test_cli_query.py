from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelpers import RAGCLI, invoke, run, run_closed
from conftest import WITHOUT_CUDA

from ragcli.errors import ExitCode
from ragcli.retrieval.index import load_index

QUESTIONS = ["How do honeybees tell each other where the flowers are?", "What do beekeepers use against varroa mites?"]


def test_query_table_for_people(sample_index: Path) -> None:
    result = invoke("query", QUESTIONS[0], "--index", str(sample_index), "-k", "2", "--no-generate")
    assert result.exit_code == 0, result.output
    assert "behavior/waggle_dance.md:1" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colour codes


def test_query_json(sample_index: Path) -> None:
    result = invoke("query", QUESTIONS[1], "--index", str(sample_index), "--json", "-k", "3", "--no-generate")
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
        result = run("query", "-", "--no-generate", "--index", str(sample_index), input="\n".join(QUESTIONS) + "\n\n")
        records = [json.loads(line) for line in result.stdout.splitlines()]
    else:
        records = [
            json.loads(run("query", q, "--no-generate", "--index", str(sample_index), "--json").stdout)
            for q in QUESTIONS
        ]
    assert [r["query"] for r in records] == QUESTIONS
    assert [r["hits"][0]["doc_id"] for r in records] == ["behavior/waggle_dance.md", "beekeeping/varroa.md"]


def test_line_separators_in_the_data_keep_a_json_lines_record_on_one_line(tmp_path: Path) -> None:
    """U+2028, U+2029 and U+0085 are valid raw in JSON, but line readers (str.splitlines) split at them:
    JSON output escapes them, the data unchanged; a table for people shows them as spaces."""
    text = "zebra\u2028line\u2029paragraph\x85next"
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.txt").write_text(text + "\n", encoding="utf-8")
    assert invoke("index", str(tmp_path / "c"), "-i", str(tmp_path / "idx"), "-q").exit_code == 0
    common = ("query", "-", "-i", str(tmp_path / "idx"), "--no-generate")
    records = run(*common, input="zebra\nline\n").stdout
    assert [json.loads(line)["hits"][0]["text"] for line in records.splitlines()] == [text, text]
    whole = run("query", "zebra", "-i", str(tmp_path / "idx"), "--no-generate", "--json").stdout
    assert json.loads(whole)["hits"][0]["text"] == text and len(whole.splitlines()) == whole.count("\n")
    table = run("query", "zebra", "-i", str(tmp_path / "idx"), "--no-generate", env={"COLUMNS": "80"}).stdout
    assert "zebra line paragraph next" in table and not any(c in table for c in "\u2028\u2029\x85")


def test_json_escapes_the_characters_a_terminal_would_not_show_as_themselves(tmp_path: Path) -> None:
    """A bidi override (which reorders what a terminal shows), DEL and a C1 control in a file's name and
    text are \\u escapes in JSON, pretty or JSON Lines: no raw one reaches the reader, the data unchanged."""
    name, text = "a\u202eb.txt", "zebra \u202e evil \x7f and \x80 text"
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / name).write_text(text + "\n", encoding="utf-8")
    assert invoke("index", str(tmp_path / "c"), "-i", str(tmp_path / "idx"), "-q").exit_code == 0
    for args, stdin in ((("zebra", "--json"), None), (("-",), "zebra\n")):
        out = run("query", *args, "-i", str(tmp_path / "idx"), "--no-generate", input=stdin).stdout
        assert not any(c in out for c in "\u202e\x7f\x80") and "\\u202e" in out
        hit = json.loads(out)["hits"][0]
        assert (Path(hit["path"]).name, hit["text"]) == (name, text)


def test_tfidf_retriever(sample_index: Path) -> None:
    result = invoke(
        "query", "pollen baskets", "--index", str(sample_index), "--retriever", "tfidf", "--json", "--no-generate"
    )
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
    result = invoke("query", "the of and", "--index", str(sample_index), "--json", "--no-generate")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["hits"] == []
    people = invoke("query", "xyzzy", "--index", str(sample_index), "--no-generate")
    assert "No passage matches" in people.stdout
    answered = invoke("query", "xyzzy", "--index", str(sample_index), "--generator", "extractive")
    assert answered.exit_code == 0 and "Nothing was retrieved" in answered.stdout


def test_no_color_and_piped_output_stay_plain(sample_index: Path) -> None:
    result = run("query", "waggle dance", "--index", str(sample_index), env={"NO_COLOR": "1"})
    assert result.returncode == 0 and "\x1b[" not in result.stdout


def test_python_dash_m_works(sample_index: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "ragcli", "query", "waggle", "--index", str(sample_index), "--json", "--no-generate"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(result.stdout)["hits"][0]["doc_id"] == "behavior/waggle_dance.md"


# --- generation -------------------------------------------------------------------------------------


def test_default_query_answers_offline_with_the_extractive_fallback(sample_index: Path, tmp_path: Path) -> None:
    env = {"HF_HUB_OFFLINE": "1", "RAGCLI_CACHE": str(tmp_path / "cache")}
    result = run("query", QUESTIONS[0], "--index", str(sample_index), "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["generator"] == "extractive" and data["answer"]
    assert data["sources"][data["citations"][0] - 1]["doc_id"] == "behavior/waggle_dance.md"
    assert "ragcli: note:" in result.stderr and "extractive" in result.stderr and "HF_HUB_OFFLINE" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert data["timings"]["load"] > 0  # what deciding and setting up the generator took, not a made-up 0


# --- offline: decided at once, said once a day --------------------------------------------------------


def offline_env(tmp_path: Path, **more: str) -> dict[str, str]:
    """No Hugging Face Hub, an empty Hugging Face cache, ragcli's state in tmp_path."""
    hub_cache = tmp_path / "hf-cache"
    hub_cache.mkdir(exist_ok=True)
    return {"RAGCLI_CACHE": str(tmp_path / "cache"), "HF_HUB_CACHE": str(hub_cache), "HF_HUB_OFFLINE": "1", **more}


def state(tmp_path: Path) -> dict[str, dict[str, float]]:
    return json.loads((tmp_path / "cache" / "state.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_offline_notice_is_shown_once_a_day(sample_index: Path, tmp_path: Path) -> None:
    env = offline_env(tmp_path)
    first = run("query", QUESTIONS[1], "--index", str(sample_index), env=env)
    again = run("query", QUESTIONS[0], "--index", str(sample_index), env=env)
    assert first.returncode == again.returncode == 0
    assert "ragcli: note:" in first.stderr and "once a day" in first.stderr
    assert again.stderr == "" and "answer · extractive" in again.stdout
    notices = state(tmp_path)["notices"]
    assert list(notices) == ["fallback:google/flan-t5-base:model"]
    notices["fallback:google/flan-t5-base:model"] -= 86_401  # shown more than a day ago
    (tmp_path / "cache" / "state.json").write_text(json.dumps({"notices": notices}), encoding="utf-8")
    next_day = run("query", QUESTIONS[0], "--index", str(sample_index), env=env)
    assert "ragcli: note:" in next_day.stderr


def test_a_failed_hub_check_is_remembered(sample_index: Path, tmp_path: Path) -> None:
    """With the Hub not known to be off limits, a check that failed minutes ago is not made again."""
    env = offline_env(tmp_path, HF_HUB_OFFLINE="", TRANSFORMERS_OFFLINE="", HF_ENDPOINT="http://127.0.0.1:9")
    (tmp_path / "cache").mkdir()
    failed = time.time() - 600
    (tmp_path / "cache" / "state.json").write_text(
        json.dumps({"hub_unreachable": {"google/flan-t5-base": failed}}), encoding="utf-8"
    )
    result = run("query", QUESTIONS[1], "--index", str(sample_index), "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["generator"] == "extractive"
    assert "could not be reached (checked 10 min ago; again in 50 min)" in result.stderr
    assert state(tmp_path)["hub_unreachable"] == {"google/flan-t5-base": failed}  # not checked again


def test_an_unreachable_hub_is_checked_once_then_remembered(sample_index: Path, tmp_path: Path) -> None:
    # nothing listens on port 9 of this machine: the check fails at once, as it does with no network
    env = offline_env(tmp_path, HF_HUB_OFFLINE="", TRANSFORMERS_OFFLINE="", HF_ENDPOINT="http://127.0.0.1:9")
    result = run("query", QUESTIONS[1], "--index", str(sample_index), "--json", env=env)
    assert result.returncode == 0 and json.loads(result.stdout)["generator"] == "extractive"
    assert "the Hub cannot be reached" in result.stderr
    checked = state(tmp_path)["hub_unreachable"]["google/flan-t5-base"]
    assert 0 <= time.time() - checked < 600


def test_a_core_install_names_the_generate_extra(sample_index: Path, tmp_path: Path) -> None:
    """Without the generate extra (a core install, simulated by making its libraries unimportable), the
    note says which extra to install instead of sending the user after the network; -g auto answers
    extractively (it was exit 1 once checking the default model's kind imported huggingface_hub)."""
    script = (
        "import sys; sys.modules.update(dict.fromkeys(('transformers', 'huggingface_hub', 'torch')));"
        " sys.argv = ['ragcli', *sys.argv[1:]]; "
        "from ragcli.cli import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "query", QUESTIONS[1], "--index", str(sample_index), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **offline_env(tmp_path)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["generator"] == "extractive"
    assert "is not installed" in result.stderr and "pip install 'ragcli[generate]'" in result.stderr
    assert "network" not in result.stderr


def test_the_default_query_offline_imports_no_model_library(sample_index: Path, tmp_path: Path) -> None:
    """Deciding that the default model is absent costs no import of torch or transformers (seconds),
    and a BM25 query loads neither the dense retriever nor its embedder."""
    probe = (
        "import sys, json\n"
        "from ragcli.cli import app\n"
        "for args in (['query', 'bees', '--index', sys.argv[1]], ['query', 'bees', '-g', 'extractive', '--index', sys.argv[1]]):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit as exit:\n"
        "        assert not exit.code, exit.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers') or 'dense' in m or 'embedder' in m)\n"
        "sys.stderr.write('HEAVY=' + json.dumps(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(sample_index)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **offline_env(tmp_path)},
    )
    assert "HEAVY=[]" in result.stderr, result.stderr[-500:]


# --- every option checked before any work ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-g", "extractiv"], "unknown generator 'extractiv'; did you mean 'extractive'? (choose one of auto,"),
        (["--device", "gpu"], "unknown device 'gpu'; did you mean 'cpu'? (choose one of auto, cpu, cuda, mps)"),
        (["-r", "bm52"], "unknown retriever 'bm52'; did you mean 'bm25'?"),
        (["--answer-style", "shrt"], "unknown answer style 'shrt'; did you mean 'short'?"),
        (["-g", "magic"], "unknown generator 'magic' (choose one of auto,"),
        (["--where", "no condition"], "--where 'no condition': not a condition"),
        (["--where", "author=>ann"], "--where 'author=>ann': '=>' is not an operator; did you mean 'author>=ann'?"),
        (["--prompt-template", "{tmp}/missing.txt"], "cannot read the prompt template"),
        (["--base-url", "ftp://example.org"], "is not an http(s) URL"),
        (["--top-k", "0"], "Invalid value for '--top-k'"),
        (["--temperature", "-1"], "Invalid value for '--temperature'"),
        pytest.param(["--device", "cuda"], "--device cuda: no CUDA device is available", marks=WITHOUT_CUDA),
    ],
)
@pytest.mark.parametrize("question", ["-", "varroa"])
def test_bad_options_fail_before_any_output(
    sample_index: Path, tmp_path: Path, args: list[str], message: str, question: str
) -> None:
    args = [a.format(tmp=tmp_path) for a in args]
    result = invoke("query", question, "--index", str(sample_index), *args, input="varroa\nwaggle dance\n")
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""  # no sources, no answer before the error
    assert message in " ".join(result.stderr.split())


def test_options_are_checked_before_the_index_is_opened(tmp_path: Path) -> None:
    result = invoke("query", "varroa", "--index", str(tmp_path / "no-index"), "--device", "gpu")
    assert result.exit_code == ExitCode.USAGE and result.stdout == "" and "unknown device 'gpu'" in result.stderr


def test_people_see_an_answer_panel_and_the_sources(sample_index: Path) -> None:
    result = invoke("query", "What is propolis made of?", "--index", str(sample_index), "-g", "extractive", "-k", "3")
    assert result.exit_code == 0, result.output
    assert "answer · extractive" in result.stdout
    assert "hive/propolis.html" in result.stdout and "✓" in result.stdout
    assert "retrieved in" in result.stdout


def test_local_model_folder_through_the_cli(sample_index: Path, tiny_t5: Path) -> None:
    result = run(
        "query",
        "How do bees make honey?",
        "--index",
        str(sample_index),
        "--model",
        str(tiny_t5),
        "--json",
        "--max-new-tokens",
        "5",
        "-k",
        "3",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["generator"] == "transformers" and data["model"] == str(tiny_t5)
    assert 1 <= data["sources_in_prompt"] <= 3
    assert set(data["timings"]) == {"retrieve", "load", "generate"}
    assert result.stderr == ""


def test_model_from_the_environment(sample_index: Path, tiny_gpt2: Path) -> None:
    result = run(
        "query",
        "varroa",
        "--index",
        str(sample_index),
        "--json",
        "--max-new-tokens",
        "4",
        env={"RAGCLI_MODEL": str(tiny_gpt2)},
    )
    assert json.loads(result.stdout)["model"] == str(tiny_gpt2)


def test_explicit_missing_model_fails_but_keeps_the_sources(sample_index: Path, tmp_path: Path) -> None:
    result = run("query", QUESTIONS[1], "--index", str(sample_index), "--json", "--model", str(tmp_path / "nope"))
    assert result.returncode == ExitCode.MODEL_UNAVAILABLE
    data = json.loads(result.stdout)
    assert data["answer"] is None and data["sources"][0]["doc_id"] == "beekeeping/varroa.md"
    assert "nope" in data["error"] and "nope" in result.stderr and "Traceback" not in result.stderr


def test_many_questions_from_stdin_load_the_model_once(sample_index: Path, tiny_t5: Path) -> None:
    questions = [f"question {i} about bees and honey" for i in range(5)]
    result = run(
        "query",
        "-",
        "--index",
        str(sample_index),
        "--model",
        str(tiny_t5),
        "--batch-size",
        "2",
        "--max-new-tokens",
        "3",
        input="\n".join(questions),
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["query"] for r in records] == questions
    assert all(r["generator"] == "transformers" for r in records)


def test_bad_prompt_template_is_a_usage_error(sample_index: Path, tmp_path: Path) -> None:
    template = tmp_path / "t.txt"
    template.write_text("nothing to fill")
    result = run("query", "bees", "--index", str(sample_index), "--prompt-template", str(template))
    assert result.returncode == ExitCode.USAGE and "lacks" in result.stderr


@pytest.mark.parametrize("content", [b"caf\xe9 {passages} {question}", None], ids=["latin-1", "folder"])
def test_unreadable_prompt_template_is_a_usage_error(sample_index: Path, tmp_path: Path, content: bytes | None) -> None:
    template = tmp_path / "t.txt"
    template.write_bytes(content) if content is not None else template.mkdir()
    result = run("query", "bees", "--index", str(sample_index), "--prompt-template", str(template), timeout=60)
    assert result.returncode == ExitCode.USAGE and "prompt template" in result.stderr, result.stderr
    assert "internal error" not in result.stderr


def test_retrieval_only_commands_never_import_torch(sample_index: Path) -> None:
    import subprocess
    import sys

    probe = (
        "import sys, json\n"
        "from ragcli.cli import app\n"
        "for args in (['--help'], ['info', '--index', sys.argv[1]], ['query', 'bees', '--no-generate', '--index', sys.argv[1]]):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'sklearn', 'pypdf', 'docx', 'pptx'))\n"
        "sys.stderr.write('HEAVY=' + json.dumps(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(sample_index)], capture_output=True, text=True, timeout=60
    )
    assert "HEAVY=[]" in result.stderr, result.stderr[-500:]


def test_query_path_and_where_restrict_before_top_k(sample_index: Path) -> None:
    args = ("query", QUESTIONS[0], "--index", str(sample_index), "--no-generate", "--json", "-k", "50")
    hits = json.loads(invoke(*args, "--path", "beekeeping/**", "--path", "*.csv").stdout)["hits"]
    assert hits and all(h["path"].startswith("beekeeping/") or h["path"] == "faq.csv" for h in hits)
    assert {h["path"] for h in hits} >= {"faq.csv"}
    where = json.loads(invoke(*args, "--where", "format=markdown", "--where", "size>=1400").stdout)["hits"]
    assert where and all(h["metadata"]["format"] == "markdown" and h["metadata"]["size"] >= 1400 for h in where)
    assert all(h["score"] > 0 for h in where)
    table = invoke("query", QUESTIONS[0], "--index", str(sample_index), "--no-generate", "--path", "hive/*.md")
    assert table.exit_code == 0 and "hive/" in table.stdout and "behavior/" not in table.stdout
    nothing = invoke("query", QUESTIONS[0], "--index", str(sample_index), "--no-generate", "--where", "size<0")
    assert nothing.exit_code == 0 and "no passage" in nothing.stdout.lower()


def test_query_filters_the_sources_of_an_answer(sample_index: Path) -> None:
    result = invoke(
        "query", QUESTIONS[1], "--index", str(sample_index), "-g", "extractive", "--json", "--path", "biology/**"
    )
    assert result.exit_code == 0, result.output
    sources = json.loads(result.stdout)["sources"]
    assert sources and all(s["path"].startswith("biology/") and s["metadata"]["path"] == s["path"] for s in sources)


def test_a_bad_filter_exits_2_before_the_index_is_opened(tmp_path: Path) -> None:
    result = run("query", "x", "--index", str(tmp_path / "none"), "--where", "size", "--no-generate")
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.count("\n") == 1 and "--where 'size'" in result.stderr


@pytest.mark.parametrize(
    "option, value",
    [("--min-score", "nan"), ("--temperature", "nan"), ("--top-p", "nan"), ("--timeout", "inf"), ("--timeout", "1e12")],
)
def test_a_number_that_is_not_finite_or_out_of_range_is_a_usage_error(
    sample_index: Path, option: str, value: str
) -> None:
    # nan passes click's float ranges; an infinite or huge --timeout used to reach the OS (internal error)
    result = invoke(
        "query",
        "bees",
        "--index",
        str(sample_index),
        "-g",
        "openai",
        "--base-url",
        "http://127.0.0.1:9/v1",
        option,
        value,
    )
    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"Invalid value for '{option}'" in result.output and "internal error" not in result.output


def test_questions_from_stdin_lose_a_byte_order_mark(sample_index: Path) -> None:
    """A file saved with a byte-order mark (Notepad's UTF-8) starts with U+FEFF: it stayed in the first
    question, as "\\ufeffwaggle dance" in the JSON."""
    result = subprocess.run(
        [RAGCLI, "query", "-", "--index", str(sample_index), "--no-generate", "-k", "1"],
        input="\ufeffwaggle dance\nvarroa\n".encode(),
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["query"] for line in result.stdout.splitlines()] == ["waggle dance", "varroa"]


def test_a_line_too_long_for_a_question_is_left_out_and_the_rest_answered(sample_index: Path) -> None:
    """A file piped in by mistake (`< image.png`) is said by its line, the other questions answered,
    and the run ends with exit 6 so that a script sees that a line was left out."""
    from ragcli.answering import MAX_QUESTION_CHARS

    lines = ["waggle dance", "\0" * (MAX_QUESTION_CHARS + 1), "varroa"]
    result = run("query", "-", "--no-generate", "--index", str(sample_index), input="\n".join(lines) + "\n")
    assert result.returncode == ExitCode.BAD_INPUT, result.stderr
    assert [json.loads(line)["query"] for line in result.stdout.splitlines()] == ["waggle dance", "varroa"]
    assert result.stderr.startswith("ragcli: error: stdin:2: longer than 1,048,576 characters")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "question", ["", "   ", "\t\n", "\x1b[31m\x1b[0m", " \x1b[1m \x1b[0m ", "\u00a0", "\u200b", "\ufeff\u2060"]
)
def test_an_empty_question_is_a_usage_error(sample_index: Path, question: str) -> None:
    """Colour codes alone are no question either: searched, they answered "No passage matches" (exit 0);
    nor are invisible characters (a zero-width space was searched, a no-break space refused)."""
    result = run("query", question, "--index", str(sample_index))
    assert result.returncode == ExitCode.USAGE
    assert "the question is empty" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_line_of_colour_codes_alone_is_skipped_as_a_blank_line_is(sample_index: Path) -> None:
    result = run(
        "query",
        "-",
        "--index",
        str(sample_index),
        "--no-generate",
        "-k",
        "1",
        input="varroa\n\x1b[31m\x1b[0m\n\npropolis\n",
    )
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["query"] for line in result.stdout.splitlines()] == ["varroa", "propolis"]


def test_the_extractive_answer_follows_the_answer_style(sample_index: Path) -> None:
    answers = {}
    for style in ("short", "sentence", "long"):
        args = ("query", "How many eggs does a queen lay?", "--index", str(sample_index), "-g", "extractive")
        result = invoke(*args, "--answer-style", style, "--json")
        assert result.exit_code == 0, result.stderr
        answers[style] = json.loads(result.stdout)["answer"]
    assert answers["short"].startswith("2,000 [")
    assert answers["sentence"].startswith("At the height of summer she can lay up to 2,000 eggs a day. [")
    # the sentence with its neighbours in the passage
    assert "2,000 eggs a day." in answers["long"] and len(answers["long"]) > len(answers["sentence"])


@pytest.mark.parametrize("columns", ["0", "5", "99999999999"])
def test_any_columns_value_still_prints_answers_and_errors(sample_index: Path, columns: str) -> None:
    """COLUMNS=0 printed nothing at all, not even an error line, and 99999999999 ran out of memory:
    a width below 20 columns is taken for 80, one above 1,000 for 1,000."""
    env = {"COLUMNS": columns}
    answered = run("query", "varroa", "--index", str(sample_index), "-g", "extractive", env=env)
    assert answered.returncode == 0 and "answer · extractive" in answered.stdout, answered.stderr
    assert "[1]" in answered.stdout  # the answer, cited
    assert max(len(line) for line in answered.stdout.splitlines()) <= 1000
    refused = run("query", "varroa", "--index", str(sample_index), "-g", "nope", env=env)
    assert refused.returncode == ExitCode.USAGE and "unknown generator 'nope'" in refused.stderr


def test_a_cache_that_is_a_file_still_answers(sample_index: Path, tmp_path: Path) -> None:
    """RAGCLI_CACHE naming a file: remembering the once-a-day note was an internal error; it is skipped."""
    cache = tmp_path / "cache"
    cache.write_text("not a folder")
    result = run("query", "varroa", "--index", str(sample_index), env={"RAGCLI_CACHE": str(cache)})
    assert result.returncode == 0 and "internal error" not in result.stderr, result.stderr
    assert cache.read_text() == "not a folder"


# --- the streams: a reader that leaves early -------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--no-generate", "--plain"],
        ["--no-generate"],
        ["-g", "extractive"],
        ["-g", "extractive", "--plain"],
        ["--no-generate", "--json"],
        ["--help"],
    ],
)
def test_a_reader_that_closes_the_pipe_early_is_no_error(sample_index: Path, args: list[str]) -> None:
    """`ragcli query … | head`: exit 0 and nothing on stderr, whatever the output mode (rich's own answer
    to a broken pipe, SystemExit(1), made every mode but --json exit 1, the code of a bug; so did click's
    for --help)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write, as with `| true`
    try:
        result = subprocess.run(
            [RAGCLI, "query", "waggle dance honey bee", "--index", str(sample_index), "-k", "30", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 0 and result.stderr == "", result.stderr


# --- a stream the shell closed (`>&-`, `<&-`) ----------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["query", "waggle", "--no-generate", "--json", "-i", "{index}"],
        ["query", "waggle", "--no-generate", "-i", "{index}"],
        ["query", "waggle", "-g", "extractive", "--plain", "-i", "{index}"],
        ["info", "-i", "{index}"],
        ["--help"],
        ["--version"],
    ],
)
def test_a_closed_stdout_is_exit_12_not_an_internal_error(sample_index: Path, args: list[str]) -> None:
    """`ragcli query waggle --json >&-` was "internal error: AttributeError: 'NoneType' object has no
    attribute 'write'" (exit 1): stdout cannot be written, as on a full disk."""
    result = run_closed([arg.format(index=sample_index) for arg in args], ">&-")
    assert result.returncode == ExitCode.WRITE_FAILED, result.stderr
    assert "ragcli: error: stdout: cannot be written (it is closed)" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


def test_a_closed_stdout_is_no_error_where_nothing_is_written(small_corpus: Path, tmp_path: Path) -> None:
    """`ragcli index -q >&-` updated the index, then failed flushing stdout (exit 1)."""
    index_dir = tmp_path / "ix"
    assert run("index", str(small_corpus), "-i", str(index_dir), "-q").returncode == 0
    (small_corpus / "added.txt").write_text("wax words for the new file\n")
    result = run_closed(["index", "-i", str(index_dir), "-q"], ">&-")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    found = run("query", "wax words", "-i", str(index_dir), "--no-generate", "--json")
    assert json.loads(found.stdout)["hits"][0]["doc_id"] == "added.txt"


@pytest.mark.parametrize(
    "args", [["query", "-", "--no-generate"], ["query", "-", "-g", "extractive"], ["chat", "-g", "extractive"]]
)
def test_a_closed_stdin_is_a_usage_error(sample_index: Path, args: list[str]) -> None:
    """`ragcli query - <&-` was "internal error: TypeError: 'NoneType' object is not iterable", chat's
    "'NoneType' object has no attribute 'isatty'"."""
    result = run_closed([*args, "--index", str(sample_index)], "<&-")
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert result.stderr.startswith("ragcli: error: stdin: cannot be read (it is closed)")
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


# --- the streams: an encoding that cannot hold every character -----------------------------------


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
@pytest.mark.parametrize(
    "args", [["--no-generate", "--plain"], ["--no-generate"], ["-g", "extractive"], ["--no-generate", "--json"]]
)
def test_a_stdout_that_is_not_utf8_gets_stand_ins_not_an_error(
    sample_index: Path, encoding: str, args: list[str]
) -> None:
    """PYTHONIOENCODING=ascii: the snippet's '…' was an internal error (latin-1: the table's '✓');
    what the stream cannot hold is replaced in people's output and escaped in JSON."""
    result = subprocess.run(
        [RAGCLI, "query", "waggle dance café…", "--index", str(sample_index), "-k", "3", *args],
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": encoding},
    )
    assert result.returncode == 0, result.stderr.decode(encoding, "replace")
    assert result.stderr == b""
    text = result.stdout.decode(encoding)
    assert "waggle" in text.lower()
    if "--json" in args:
        assert json.loads(text)["query"] == "waggle dance café…"


def test_a_stderr_that_is_not_utf8_gets_stand_ins_not_backslash_escapes(tmp_path: Path) -> None:
    """stderr kept Python's backslashreplace: a message naming `nöpe…` read `n\\xf6pe\\u2026` (and the
    spinner `\\u280b`), where stdout shows `?` as the README promises for people's output."""
    missing = tmp_path / "nöpe…"
    result = subprocess.run(
        [RAGCLI, "query", "waggle", "--index", str(missing), "--no-generate"],
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert result.returncode == ExitCode.NO_INDEX, result.stderr
    message = result.stderr.decode("ascii")
    assert "n?pe?" in message and "\\" not in message, message


# --- click's own usage errors: one line, as ragcli's ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "waggle", "-k", "0"], "Invalid value for '--top-k' / '-k': 0 is not in the range x>=1."),
        (["query", "waggle", "--max-new-tokens", "0"], "Invalid value for '--max-new-tokens': 0 is not in the range"),
        (["query", "waggle", "--rrf-k", "0"], "Invalid value for '--rrf-k': 0 is not in the range x>=1."),
        (["query", "waggle", "--min-score", "nan"], "Invalid value for '--min-score': nan is not a finite number."),
        (["query", "waggle", "-k", "many"], "Invalid value for '--top-k' / '-k': 'many' is not a valid int"),
        (["query"], "Missing argument 'QUESTION'."),
        (["query", "waggle", "--bogus"], "No such option: --bogus"),
        (["query", "waggle", "--top"], "No such option: --top (Possible options: --top-k, --top-p)"),
        (["query", "waggle", "--sources"], "Option '--sources' requires an argument."),
        (["query", "waggle", "dance"], "Got unexpected extra argument(s) (dance)"),
        (["qury", "waggle"], "No such command 'qury'. Did you mean 'query'?"),
        (["--bogus", "query"], "No such option: --bogus"),
        (["collections", "remove"], "Missing argument 'NAME'."),
        (["config", "shw"], "No such command 'shw'. Did you mean 'show'?"),
        (["train", "generator", "qa.jsonl", "--epochs", "0"], "Invalid value for '--epochs': 0 is not in the range"),
    ],
)
def test_clicks_usage_errors_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    """click printed four lines (Usage, Try '… -h', a blank line, Error: …); the README promises one."""
    result = invoke(*args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"ragcli: error: {message}"), result.stderr


def test_a_usage_error_is_one_line_from_the_real_program() -> None:
    result = run("query", "waggle", "-k", "0")
    assert result.returncode == ExitCode.USAGE and result.stdout == ""
    assert result.stderr == "ragcli: error: Invalid value for '--top-k' / '-k': 0 is not in the range x>=1.\n"


def test_no_arguments_still_print_the_help() -> None:
    result = invoke()
    assert "Usage: ragcli [OPTIONS] COMMAND" in result.output and "ragcli: error" not in result.output


def test_terminal_sequences_in_a_question_are_removed_before_it_is_searched(tmp_path: Path) -> None:
    """A question pasted from a coloured terminal: "\\x1b[31mrecord" was analysed to the term '31mrecord'
    and found the wrong passage, and the echoed query kept the codes; documents lose them when read."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "rec.txt").write_text("The zebra record is kept here.\n")
    (corpus / "africa.txt").write_text("A zebra lives in Africa.\n")
    (corpus / "story.txt").write_text("Another zebra story.\n")
    index = str(tmp_path / "idx")
    assert invoke("index", str(corpus), "--index", index, "-q").exit_code == 0
    coloured = "zebra \x1b[31mrecord\x1b[0m"
    searched = run("query", coloured, "--index", index, "--no-generate", "--json", "-k", "1")
    piped = run("query", "-", "--index", index, "--no-generate", "-k", "1", input=coloured + "\n")
    answered = run("query", coloured, "--index", index, "-g", "extractive", "--json", "-k", "1")
    for result in (searched, piped, answered):
        assert result.returncode == 0, result.stderr
        record = json.loads(result.stdout)
        assert record["query"] == "zebra record", record
    assert (
        json.loads(searched.stdout)["hits"][0]["doc_id"] == json.loads(piped.stdout)["hits"][0]["doc_id"] == "rec.txt"
    )
    assert json.loads(answered.stdout)["sources"][0]["doc_id"] == "rec.txt"


def test_a_hindi_question_finds_the_document_that_holds_its_word_and_highlights_it_whole(tmp_path: Path) -> None:
    """Words were cut at their vowel signs and viramas: "दूध" (milk) became the letters द and ध, and
    found a document about Delhi through the letter द alone."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "milk.txt").write_text("ताज़ा दूध सेहत के लिए अच्छा है।\n", encoding="utf-8")
    (corpus / "delhi.txt").write_text("दिल्ली भारत की राजधानी है।\n", encoding="utf-8")
    (corpus / "books.txt").write_text("हिन्दी की किताबें पढ़ो।\n", encoding="utf-8")
    index = str(tmp_path / "idx")
    assert invoke("index", str(corpus), "--index", index, "-q").exit_code == 0
    result = invoke("query", "दूध", "--index", index, "--no-generate", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)["hits"]
    assert [hit["doc_id"] for hit in hits] == ["milk.txt"]
    text = hits[0]["text"]
    spans = load_index(index).analyzer.highlighter("दूध")(text)  # what `query` highlights the snippet with
    assert [text[s:e] for s, e in spans] == ["दूध"]
