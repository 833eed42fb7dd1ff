"""The openai generator against a server that misbehaves: replies ragcli cannot read, a bad --base-url
or key, a reply that trickles past --timeout. The server is a real HTTP server on 127.0.0.1
(tests/fakeopenai.py) sending exactly the bytes under test; ragcli runs as a real subprocess, on a
pseudo-terminal where it streams."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from clihelpers import run, run_in_terminal
from fakeopenai import MODELS, Reply, completion, fake_server

pytest.importorskip("openai")

FAST = ["-g", "openai", "--retries", "0", "--top-k", "2"]
UNREADABLE = "sent a reply ragcli cannot read"


def sse(*events: bytes) -> bytes:
    return b"".join(b"data: " + event + b"\n\n" for event in events)


def chunk(content: object) -> bytes:
    delta = {"index": 0, "delta": {"content": content}, "finish_reason": None}
    return json.dumps({"id": "c", "object": "chat.completion.chunk", "model": "fake", "choices": [delta]}).encode()


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "internal error" not in lines[0] and "Traceback" not in stderr
    return lines[0]


# ------------------------------------------------------------------------------------------------
# replies ragcli cannot read: exit 9, one line, the sources kept


@pytest.mark.parametrize(
    ("chat", "models"),
    [
        (Reply(b"not json at all"), None),
        (Reply(b""), None),
        (Reply(b"[" * 100_000 + b"]" * 100_000), None),  # deeper than Python's recursion limit
        (Reply(b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "\xff\xfe"}}]}'), None),
        (Reply(completion(5)), None),
        (Reply(b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": NaN}}]}'), None),
        (Reply(completion({"text": "honey"})), None),
        (Reply(b'{"choices": "abc"}'), None),
        (Reply(b'{"choices": ["abc"]}'), None),
        (Reply(completion("honey")), Reply(b'{"data": 5}')),
        (Reply(completion("honey")), Reply(b"<html>a web page</html>", content_type="text/html")),
        (Reply(b"<html>log in</html>", content_type="text/html"), None),
        (Reply(b"{}"), None),
        (Reply(b'{"choices": null}'), None),
    ],
    ids=[
        *("not-json", "empty", "deep", "bad-utf8", "int", "nan", "object"),
        *("choices-str", "choice-str", "models-5", "models-html", "html-page", "no-choices", "choices-null"),
    ],
)
def test_a_reply_ragcli_cannot_read_is_exit_9_with_the_sources(
    chat: Reply, models: Reply | None, sample_index: Path
) -> None:
    with fake_server(chat, models) as server:
        result = run("query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--json")
    assert result.returncode == 9, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith(f"ragcli: error: the server at {server.url} {UNREADABLE} ("), line
    data = json.loads(result.stdout)  # the documented shape: the record, no answer, the error
    assert data["sources"] and data["answer"] is None and UNREADABLE in data["error"]


@pytest.mark.parametrize(
    "how",
    [["query", "bees"], ["query", "-"], ["chat"]],
    ids=["piped", "batch", "chat"],
)
def test_a_page_that_is_not_a_completion_is_exit_9_in_every_mode(how: list[str], sample_index: Path) -> None:
    """A 200 login page (a --base-url pointing at a web UI) or `{}` was "fake gave no answer", the
    extractive answer and exit 0, unless streamed on a terminal: it is a reply ragcli cannot read."""
    for reply in (Reply(b"<html>log in</html>", content_type="text/html"), Reply(b"{}")):
        with fake_server(reply) as server:
            result = run(*how, "-i", str(sample_index), *FAST, "--base-url", server.url, input="bees\n")
        assert result.returncode == 9, result.stderr
        assert UNREADABLE in one_error_line(result.stderr)
        assert "gave no answer" not in result.stdout and "honey_production.md" in result.stdout


@pytest.mark.parametrize("concurrency", ["1", "3"])
def test_only_the_question_whose_request_failed_carries_the_error(concurrency: str, sample_index: Path) -> None:
    """The server answered the 1st, 3rd and 4th questions and refused the 2nd: the answers after the
    failed one, received (and perhaps paid for), were printed as failed. Each keeps its own outcome."""
    refused = Reply(json.dumps({"error": {"message": "boom"}}).encode(), status=400)
    answered = Reply(completion("Karl von Frisch"))
    with fake_server(lambda body: refused if b"Why does honey not ferment" in body else answered) as server:
        result = run(
            "query", "-", "-i", str(sample_index), *FAST, "--base-url", server.url, "--concurrency", concurrency,
            input="Who decoded the waggle dance?\nWhy does honey not ferment?\nWho lays the eggs?\n"
            "How do bees find flowers?\n",
        )  # fmt: skip
    assert result.returncode == 9, result.stderr
    assert "boom" in one_error_line(result.stderr)
    first, failed, third, fourth = (json.loads(line) for line in result.stdout.splitlines())
    for record in (first, third, fourth):
        assert record["answer"] == "Karl von Frisch" and record["generator"] == "openai" and record["sources"]
        assert "error" not in record
    assert failed["query"] == "Why does honey not ferment?"
    assert failed["answer"] is None and "boom" in failed["error"] and failed["sources"]


def test_a_failed_record_names_the_generator_and_model_that_failed(sample_index: Path) -> None:
    """Failed records said "generator": null, "model": null beside answered ones naming "openai" and
    the model: whether one request failed, or every one of a batch (which ends the run)."""
    refused = Reply(json.dumps({"error": {"message": "boom"}}).encode(), status=400)
    answered = Reply(completion("Karl von Frisch"))
    ferment = "Why does honey not ferment?"
    with fake_server(lambda body: refused if ferment.encode() in body else answered) as server:
        asks = ["query", "-", "-i", str(sample_index), *FAST, "--base-url", server.url]
        some = run(*asks, input=f"Who lays the eggs?\n{ferment}\n")
        every = run(*asks, input=f"{ferment}\n{ferment} Really?\n")
    assert some.returncode == every.returncode == 9, some.stderr + every.stderr
    records = [json.loads(line) for line in (some.stdout + every.stdout).splitlines()]
    assert [("error" in r, r["generator"], r["model"]) for r in records] == [
        (False, "openai", "fake"),
        *[(True, "openai", "fake")] * 3,
    ]


def test_an_unreadable_reply_is_exit_9_for_a_whole_batch(sample_index: Path) -> None:
    with fake_server(Reply(b"not json")) as server:
        result = run(
            "query", "-", "-i", str(sample_index), *FAST, "--base-url", server.url, "--concurrency", "2",
            input="bees\nhoney\nqueen\n",
        )  # fmt: skip
    assert result.returncode == 9, result.stderr
    assert UNREADABLE in one_error_line(result.stderr)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["query"] for r in records] == ["bees", "honey", "queen"] and all(r["sources"] for r in records)


@pytest.mark.parametrize("how", [["--json"], []], ids=["json", "piped"])
def test_a_server_that_drops_the_connection_is_not_called_unreachable(how: list[str], sample_index: Path) -> None:
    """/v1/models answered, then the server closed the connection without answering the question (a
    crash, a proxy's limit): a whole response, read for --json or a pipe, was reported as "cannot reach
    the server (start it …)", though it was reached. It is said as a cut-off stream is."""
    with fake_server(Reply(b"", drop=True)) as server:
        result = run("query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, *how)
    assert result.returncode == 9, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith(f"ragcli: error: the server at {server.url} stopped in the middle of the answer ("), line
    assert "cannot reach" not in line and "start it" not in line


@pytest.mark.parametrize(
    "body",
    [
        b'{"error": "not a stream"}',  # a JSON body where server-sent events were asked for
        b"not json",
        sse(b"not json", b"[DONE]"),
        sse(chunk(5), b"[DONE]"),
        sse(b'{"choices": "abc"}', b"[DONE]"),
        b"",
    ],
    ids=["json", "text", "event-not-json", "int-piece", "choices-str", "empty"],
)
def test_an_unreadable_stream_is_exit_9_with_the_sources(body: bytes, sample_index: Path) -> None:
    with fake_server(Reply(body, content_type="text/event-stream")) as server:
        code, out, err = run_in_terminal("query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url)
    assert code == 9, (out, err)
    assert UNREADABLE in one_error_line(err)
    assert "No answer found" not in out and "honey_production.md" in out  # the sources


def test_content_given_as_parts_is_joined_into_the_answer(sample_index: Path) -> None:
    parts = [{"type": "text", "text": "Honey is"}, {"type": "image_url", "image_url": {"url": "x"}},
             {"type": "text", "text": " stored in wax cells."}]  # fmt: skip
    with fake_server(Reply(completion(parts))) as server:
        result = run(
            "query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--json", "--no-fallback"
        )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answer"] == "Honey is stored in wax cells."


def test_a_lone_surrogate_in_the_answer_is_replaced(sample_index: Path) -> None:
    with fake_server(Reply(completion("honey \ud800 and wax"))) as server:
        as_json = run(
            "query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--json", "--no-fallback"
        )
        plain = run("query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--no-fallback")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["answer"] == "honey \ufffd and wax"
    assert plain.returncode == 0, plain.stderr
    assert "honey \ufffd and wax" in plain.stdout


def test_a_lone_surrogate_in_a_streamed_answer_is_replaced(sample_index: Path) -> None:
    body = sse(chunk("honey "), chunk("\ud800"), chunk(" and wax"), b"[DONE]")
    with fake_server(Reply(body, content_type="text/event-stream")) as server:
        code, out, err = run_in_terminal(
            "query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--no-fallback"
        )
    assert code == 0, (out, err)
    assert "honey \ufffd and wax" in out


def test_a_lone_surrogate_in_the_servers_error_message_is_replaced(sample_index: Path) -> None:
    error = json.dumps({"error": {"message": "overloaded \ud800 now"}}).encode()
    with fake_server(Reply(error, status=500)) as server:
        result = run("query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--json")
    assert result.returncode == 9, result.stderr
    assert "overloaded \ufffd now" in json.loads(result.stdout)["error"]
    assert "HTTP 500" in one_error_line(result.stderr)


def test_a_404_for_a_model_the_server_lists_is_the_servers_own_message(sample_index: Path) -> None:
    """A 404 (a route a proxy left out) was "the server has no model 'fake'; it offers: fake": only a
    model the server does not list is said to be missing; otherwise its status and message, masked."""
    error = json.dumps({"error": {"message": "route /v1/chat/completions\u001b[31m not enabled"}}).encode()
    with fake_server(Reply(error, status=404)) as server:
        listed = run("query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "-m", "fake")
        unlisted = run("query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "-m", "llama3")
    assert listed.returncode == unlisted.returncode == 9, listed.stderr + unlisted.stderr
    assert one_error_line(listed.stderr) == (
        f"ragcli: error: the server at {server.url} failed (HTTP 404): route /v1/chat/completions\\x1b[31m not enabled"
    )
    assert "has no model 'llama3'; it offers: fake" in one_error_line(unlisted.stderr)


def test_a_well_formed_reply_still_answers(sample_index: Path) -> None:
    with fake_server(Reply(completion("Honey is stored in wax cells.")), Reply(MODELS)) as server:
        result = run(
            "query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--json", "--no-fallback"
        )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answer"] == "Honey is stored in wax cells."


@pytest.mark.parametrize(("marker", "cited"), [("[1, 2]", [1, 2]), ("[1-2]", [1, 2]), ("[^2]", [2])])
def test_evaluate_scores_an_answer_without_its_citation_markers(
    marker: str, cited: list[int], sample_index: Path, tmp_path: Path
) -> None:
    qa, per_query = tmp_path / "qa.jsonl", tmp_path / "per-query.jsonl"
    qa.write_text(json.dumps({"question": "How many eggs does a queen lay a day?", "answers": ["2,000"]}) + "\n")
    with fake_server(Reply(completion(f"2,000 {marker}"))) as server:
        result = run(
            *("evaluate", str(qa), "-i", str(sample_index), *FAST, "--base-url", server.url),
            *("--per-query", str(per_query), "--json"),
        )
    assert result.returncode == 0, result.stderr
    line = json.loads(per_query.read_text())
    assert line["citations"] == cited
    assert line["metrics"]["exact_match"] == 1.0 and line["metrics"]["f1"] == 1.0


def test_evaluate_keeps_the_answers_around_a_failed_request(sample_index: Path, tmp_path: Path) -> None:
    """One refused request of four ended the whole evaluation with exit 9: no report, no per-query file,
    the three answers received thrown away. The evaluation finishes; the failed question's line carries
    the error and no answer metrics, the means cover the answers given, and the exit is 9 at the end."""
    qa, per_query = tmp_path / "qa.jsonl", tmp_path / "per-query.jsonl"
    questions = [
        "Who decoded the waggle dance?",
        "Why does honey not ferment?",
        "Who lays the eggs?",
        "How do bees find flowers?",
    ]
    qa.write_text("".join(json.dumps({"question": q, "answers": ["Karl von Frisch"]}) + "\n" for q in questions))
    refused = Reply(json.dumps({"error": {"message": "boom"}}).encode(), status=400)
    answered = Reply(completion("Karl von Frisch"))
    with fake_server(lambda body: refused if b"Why does honey not ferment" in body else answered) as server:
        result = run(
            *("evaluate", str(qa), "-i", str(sample_index), *FAST, "--base-url", server.url, "--concurrency", "3"),
            *("--per-query", str(per_query), "--json"),
        )
    assert result.returncode == 9, result.stderr
    assert "boom" in result.stderr.strip().splitlines()[-1] and "Traceback" not in result.stderr
    assert "ragcli: warning: 1 answer failed (no answer metrics" in result.stderr
    report = json.loads(result.stdout)
    assert report["counts"]["answers_failed"] == 1
    assert report["configs"][0]["metrics"]["exact_match"] == 1.0  # the three answers given, all right
    lines = [json.loads(line) for line in per_query.read_text().splitlines()]
    assert [line["question"] for line in lines] == questions
    for line in (lines[0], lines[2], lines[3]):
        assert line["answer"] == "Karl von Frisch" and line["metrics"]["exact_match"] == 1.0 and "error" not in line
    assert lines[1]["answer"] is None and "boom" in lines[1]["error"] and "exact_match" not in lines[1]["metrics"]


# ------------------------------------------------------------------------------------------------
# a --base-url or key the client could not use: exit 2 before any work


BAD_URLS = [
    ("http://[::1", "Invalid IPv6 URL"),
    ("http://127.0.0.1:abc/v1", "a number from 1 to 65535"),
    ("http://[zz]/v1", "IPv4 or IPv6"),
    ("http://127.0.0.1\x1b[31m/v1", "control character"),
    ("http://127.0.0.1:99999/v1", "the port must be"),
    ("http://127.0.0.1:0/v1", "port must be a number"),
    ("http://:8080/v1", "no host"),
]


@pytest.mark.parametrize(("url", "why"), BAD_URLS, ids=[why for _, why in BAD_URLS])
def test_a_base_url_the_client_cannot_use_is_exit_2_before_any_work(url: str, why: str, sample_index: Path) -> None:
    result = run("query", "bees", "-i", str(sample_index), *FAST, "--base-url", url)
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith("ragcli: error: --base-url: ") and "is not a valid URL" in line and why in line, line
    assert "\x1b" not in line  # shown escaped, never sent to the terminal
    assert result.stdout == ""  # checked before retrieval


@pytest.mark.parametrize("command", ["query", "chat", "evaluate"])
def test_a_bad_base_url_from_the_environment_is_exit_2_in_every_command(
    command: str, sample_index: Path, tmp_path: Path
) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"question": "What is propolis?", "answers": ["bee glue"]}\n')
    args = {"query": ["query", "bees"], "chat": ["chat"], "evaluate": ["evaluate", str(qa)]}[command]
    result = run(*args, "-i", str(sample_index), input="bees\n", env={"RAGCLI_BASE_URL": "http://[::1"})
    assert result.returncode == 2, result.stderr
    assert "is not a valid URL (Invalid IPv6 URL)" in one_error_line(result.stderr)
    assert result.stdout == ""


def test_a_key_an_http_header_cannot_carry_is_exit_2_naming_the_variable(sample_index: Path) -> None:
    with fake_server(Reply(completion("honey"))) as server:
        result = run(
            "query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--api-key-env", "MYKEY",
            env={"MYKEY": "ключ-secret"},
        )  # fmt: skip
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert "MYKEY" in line and "ключ" not in line and "secret" not in line
    assert result.stdout == ""


@pytest.mark.parametrize(
    "key",
    [
        "gsk_8fJk2LmQ9secretKEY",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123",
        "a3f9c2e1b4d5e6f708192a3b4c5d6e7f",
        "sk_live_51Hx9",
    ],
)
def test_a_key_given_as_api_key_env_is_never_echoed(key: str, sample_index: Path, tmp_path: Path) -> None:
    """A key passed where the variable's name goes was printed back ("the variable gsk_8fJk… is not
    set") whenever it had no hyphen; `config show` printed it from the file too."""
    result = run(
        "query", "bees", "-i", str(sample_index), "-g", "openai", "--base-url", "http://127.0.0.1:9/v1",
        "--api-key-env", key,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert "takes the NAME of an environment variable holding the key, not the key" in line
    assert key not in line and key[4:12] not in line and result.stdout == ""
    config = tmp_path / "config.toml"
    config.write_text(f'api_key_env = "{key}"\n')
    shown = run("config", "show", "--json", env={"RAGCLI_CONFIG": str(config)})
    helped = run("query", "--help", env={"RAGCLI_CONFIG": str(config), "COLUMNS": "200"})
    assert shown.returncode == 0 and helped.returncode == 0
    assert key not in shown.stdout + helped.stdout and key[4:12] not in shown.stdout + helped.stdout


@pytest.mark.parametrize("name", ["MY_API_KEY", "groq_key2", "OPENAI_API_KEY_V2"])
def test_an_unset_variable_with_a_name_like_a_names_is_named(name: str, sample_index: Path) -> None:
    result = run(
        "query", "bees", "-i", str(sample_index), "-g", "openai", "--base-url", "http://127.0.0.1:9/v1",
        "--api-key-env", name,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert one_error_line(result.stderr) == f"ragcli: error: --api-key-env: the variable {name} is not set"


def test_a_default_key_an_http_header_cannot_carry_is_exit_2(sample_index: Path) -> None:
    with fake_server(Reply(completion("honey"))) as server:
        result = run(
            "query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--json",
            env={"OPENAI_API_KEY": "sk-\nline-two"},
        )  # fmt: skip
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert "OPENAI_API_KEY" in line and "line-two" not in line


# ------------------------------------------------------------------------------------------------
# --timeout bounds one whole response, not each read: a reply that trickles a byte a second stops


def test_a_trickling_reply_stops_at_the_timeout(sample_index: Path) -> None:
    with fake_server(Reply(b"", trickle=0.2, endless=True)) as server:
        started = time.monotonic()
        result = run(
            "query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--json", "--timeout", "1",
            timeout=60,
        )  # fmt: skip
        took = time.monotonic() - started
    assert result.returncode == 9, result.stderr
    assert one_error_line(result.stderr) == (
        f"ragcli: error: the server at {server.url} did not answer within 1 s (raise --timeout)"
    )
    assert json.loads(result.stdout)["sources"]
    assert took < 15  # about 1 s of waiting, plus starting ragcli (a slow machine's seconds)


def test_a_trickling_stream_stops_at_the_timeout(sample_index: Path) -> None:
    with fake_server(Reply(b"", content_type="text/event-stream", trickle=0.2, endless=True)) as server:
        started = time.monotonic()
        code, out, err = run_in_terminal(
            "query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--timeout", "1"
        )
        took = time.monotonic() - started
    assert code == 9, (out, err)
    assert (
        one_error_line(err) == f"ragcli: error: the server at {server.url} did not answer within 1 s (raise --timeout)"
    )
    assert "honey_production.md" in out and took < 15


def test_a_stream_that_stalls_after_part_of_the_answer_is_said_to_have_stopped(sample_index: Path) -> None:
    """A stream that sent part of the answer and then nothing, the connection left open (a backend that
    hung), was "did not answer within 1 s (raise --timeout)": it did answer, and more time would not help."""
    body = sse(chunk("Bees dance "), chunk("to tell"))
    with fake_server(Reply(body, content_type="text/event-stream", stall=True)) as server:
        code, out, err = run_in_terminal(
            "query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--timeout", "1"
        )
    assert code == 9, (out, err)
    line = one_error_line(err)
    assert line.startswith(f"ragcli: error: the server at {server.url} stopped in the middle of the answer ("), line
    assert "nothing more for" in line and "raise --timeout" not in line
    assert "Bees dance" in out and "honey_production.md" in out  # what came, and the sources


def test_a_servers_retry_after_is_waited_at_most_the_timeout_and_said(sample_index: Path) -> None:
    """A 429 with `Retry-After: 30` was waited out in full before each retry, in silence: `--timeout 5
    --retries 2` took 72 s."""
    limited = json.dumps({"error": {"message": "slow down"}}).encode()
    with fake_server(Reply(limited, status=429, headers={"Retry-After": "30"})) as server:
        result = run(
            "query", "bees", "-i", str(sample_index), "-g", "openai", "--retries", "1", "--top-k", "2",
            "--base-url", server.url, "--json", "--timeout", "3", timeout=25,
        )  # fmt: skip
        posts = len(server.authorizations)
    assert result.returncode == 9 and posts == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == (
        f"ragcli: warning: waiting 3 s before retrying the server at {server.url} "
        "(it asked for 30 s; --timeout caps the wait)"
    ), lines
    assert lines[1].startswith(f"ragcli: error: the server at {server.url} is limiting requests (HTTP 429)"), lines
    assert len(lines) == 2 and json.loads(result.stdout)["sources"]


def test_the_key_is_masked_where_it_is_a_word_not_inside_other_words(sample_index: Path) -> None:
    """A local server's key is often a plain word ("ollama"): every occurrence of its text was masked,
    which garbled the server's message ("model ***-7b") and so told the key anyway."""
    error = json.dumps({"error": {"message": "model ollama-7b not found; key ollama rejected"}}).encode()
    with fake_server(Reply(error, status=500)) as server:
        result = run(
            "query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, env={"OPENAI_API_KEY": "ollama"}
        )
    line = one_error_line(result.stderr)
    assert result.returncode == 9 and "model ollama-7b not found; key *** rejected" in line, line


def test_a_key_the_server_repeats_at_the_end_of_a_sentence_is_masked(sample_index: Path) -> None:
    error = json.dumps({"error": {"message": "Incorrect API key provided: sk-test-12345."}}).encode()
    with fake_server(Reply(error, status=500)) as server:
        result = run(
            "query",
            "bees",
            "-i",
            str(sample_index),
            *FAST,
            "--base-url",
            server.url,
            env={"OPENAI_API_KEY": "sk-test-12345"},
        )
    line = one_error_line(result.stderr)
    assert "sk-test-12345" not in line and "provided: ***." in line, line


# ------------------------------------------------------------------------------------------------
# a server that ignores max_tokens: the reply is read only as far as --max-new-tokens allows

CUT = "allows: the answer is cut at 1,536 characters"  # --max-new-tokens 16: 16 × 32 + 1,024


def test_a_reply_far_longer_than_max_new_tokens_is_cut_with_a_warning(sample_index: Path) -> None:
    """A server that ignored max_tokens sent a 10 MB answer: ragcli spent ten minutes and a gigabyte
    on it and printed it all, with exit 0 and no word of it."""
    with fake_server(Reply(completion("bees " * 40_000))) as server:
        result = run(
            "query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--json",
            "--max-new-tokens", "16",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["answer"]) <= 1536
    assert one_error_line(result.stderr).startswith(f"ragcli: warning: the server at {server.url} sent more")
    assert CUT in result.stderr


def test_a_stream_far_longer_than_max_new_tokens_is_not_read_past_the_budget(sample_index: Path) -> None:
    body = sse(*[chunk("bees " * 100)] * 100, b"[DONE]")
    with fake_server(Reply(body, content_type="text/event-stream")) as server:
        code, out, err = run_in_terminal(
            "query", "bees", "-i", str(sample_index), *FAST, "--base-url", server.url, "--max-new-tokens", "16"
        )
    assert code == 0, (out, err)
    assert CUT in one_error_line(err)
