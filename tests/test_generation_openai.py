"""The openai generator against a real OpenAI-compatible server: `transformers serve` (transformers' own
server) on a loopback port, pinned to the tiny GPT-2 built here, offline. Nothing is mocked: ragcli's
real client talks HTTP to a real server, through the real CLI where it matters (a terminal on a pty
for streaming, `--json`, `query -` with --concurrency, a server killed mid-stream, a wrong model, no
server at all)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import run, run_in_terminal

from ragcli.answering import Answer, answer_many, stream_answer
from ragcli.errors import ExitCode, InvalidOptionError, ModelUnavailableError
from ragcli.generation.base import (
    Generation,
    GenerationOptions,
    answer_text,
    cited_sources,
    make_generator,
    no_answer,
    settle,
    strip_reasoning,
    visible_text,
)
from ragcli.generation.openai import (
    OpenAIGenerator,
    approx_tokens,
    asks_not_to_think,
    context_of,
    first_tokens,
    is_context_error,
    resolve_base_url,
    resolve_key,
    shown_url,
)
from ragcli.generation.prompt import CHAT, SEQ2SEQ, template_for
from ragcli.records import Hit

pytest.importorskip("openai")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

SERVER_START_SECONDS = 120  # bounded wait for `transformers serve` to answer /health
QUESTION = "How do honeybees tell each other where the flowers are?"
FAST = ["--max-new-tokens", "8", "--context-tokens", "1024", "--top-k", "2", "--retries", "0"]
SECRET = "sk-test-never-shown-0123456789"
Q = "How many eggs does a queen lay?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`transformers serve MODEL` as a subprocess on 127.0.0.1, killed by its own pid."""

    def __init__(self, model: Path, log: Path) -> None:
        self.model, self.port = str(model), free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        command = "from transformers.cli.transformers import main; main()"
        where = ["--host", "127.0.0.1", "--port", str(self.port), "--device", "cpu"]
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", command, "serve", self.model, *where],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self._wait()

    def _wait(self) -> None:
        import urllib.request

        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"transformers serve exited with {self.process.returncode}:\n{self.log.read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.kill()
        pytest.fail(
            f"transformers serve did not start within {SERVER_START_SECONDS} s:\n{self.log.read_text()[-2000:]}"
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture(scope="session")
def served_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny chat GPT-2 of the other generation tests, with room for long prompts and answers."""
    import torch
    from tinymodels import build_tiny_gpt2

    torch.manual_seed(0)  # the same random weights every run: the same (meaningless) answers
    return build_tiny_gpt2(tmp_path_factory.mktemp("served-gpt2"), positions=8192)


@pytest.fixture(scope="module")  # stopped when this file's tests are done
def server(served_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = Server(served_model, tmp_path_factory.mktemp("serve-log") / "serve.log")
    yield started
    started.kill()


def options(server: Server, **changes: object) -> GenerationOptions:
    settings: dict[str, object] = {"base_url": server.url, "max_new_tokens": 8, "context_tokens": 1024, "retries": 0}
    settings.update(changes)
    return GenerationOptions(**settings)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# through the CLI


def test_streams_an_answer_with_its_sources_in_a_terminal(server: Server, sample_index: Path) -> None:
    code, out, err = run_in_terminal(
        "query", QUESTION, "-i", str(sample_index), "-g", "openai", "--base-url", server.url, "--no-fallback", *FAST
    )
    assert code == 0, err
    assert f"answer · {server.model}"[:20] in out
    assert "sources" in out and "waggle" in out
    assert "generated in" in out


def test_json_answer_is_not_streamed_and_keeps_its_shape(server: Server, sample_index: Path) -> None:
    result = run("query", QUESTION, "-i", str(sample_index), "-g", "openai", "--base-url", server.url, "--json", *FAST)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["generator"] == "openai" and data["model"] == server.model
    assert isinstance(data["answer"], str) and data["sources_in_prompt"] == 2
    # what the library gets from the same server, asked the same way (greedy decoding: the same text)
    generator = OpenAIGenerator(None, options(server))
    hits = [
        Hit(**{name: source[name] for name in Hit.__dataclass_fields__ if name in source}) for source in data["sources"]
    ]
    model_answer = generator.generate(QUESTION, hits).text
    assert model_answer == data["answer"] if data["fallback"] is None else model_answer == ""


def test_auto_uses_the_configured_server(server: Server, sample_index: Path) -> None:
    result = run("query", QUESTION, "-i", str(sample_index), "--json", *FAST, env={"RAGCLI_BASE_URL": server.url})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["generator"] == "openai"


def test_batch_from_stdin_with_concurrent_requests(server: Server, sample_index: Path) -> None:
    questions = ["How do bees communicate?", "What is propolis?", "When do colonies swarm?", "What do drones do?"]
    result = run(
        "query", "-", "-i", str(sample_index), "-g", "openai", "--base-url", server.url, "--concurrency", "2",
        *FAST, input="\n".join(questions) + "\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["query"] for r in records] == questions  # in order, whatever order the answers came back in
    assert all(r["generator"] == "openai" and "error" not in r for r in records)


def test_a_server_killed_mid_stream_exits_9_with_the_sources(
    served_model: Path, sample_index: Path, tmp_path: Path
) -> None:
    doomed = Server(served_model, tmp_path / "serve.log")
    try:
        long_answer = ["--max-new-tokens", "6000", "--context-tokens", "7000", "--top-k", "1", "--retries", "0"]

        def streaming() -> bool:  # uvicorn logs a streamed response when its headers go out
            return '"POST /v1/chat/completions HTTP/1.1" 200' in doomed.log.read_text(errors="replace")

        def kill_soon() -> None:
            time.sleep(0.5)  # some tokens on their way (6000 of them take many seconds)
            doomed.kill()

        code, out, err = run_in_terminal(
            "query", QUESTION, "-i", str(sample_index), "-g", "openai", "--base-url", doomed.url, *long_answer,
            until=streaming, then=kill_soon,
        )  # fmt: skip
    finally:
        doomed.kill()
    assert code == 9, (out[-1500:], err)
    assert "stopped in the middle of the answer" in err and len(err.strip().splitlines()) == 1
    assert "waggle" in out  # the retrieved sources are still printed


def test_a_wrong_model_name_is_one_line_and_exit_9(server: Server, sample_index: Path) -> None:
    result = run(
        "query", QUESTION, "-i", str(sample_index), "-g", "openai", "--base-url", server.url, "-m", "no-such-model",
        "--json", *FAST, env={"OPENAI_API_KEY": SECRET},
    )  # fmt: skip
    assert result.returncode == 9
    assert result.stderr.count("\n") == 1 and "no model 'no-such-model'" in result.stderr
    assert server.model in result.stderr  # what the server offers instead
    data = json.loads(result.stdout)
    assert data["sources"] and "no model" in data["error"]  # the sources are kept
    assert SECRET not in result.stdout + result.stderr


def test_a_base_url_without_v1_says_the_url_usually_ends_in_v1(server: Server, sample_index: Path) -> None:
    """Ollama users' usual mistake, `--base-url http://127.0.0.1:PORT`: the server answers 404 for
    /models and /chat/completions, which ragcli reported as "name the model" or "failed (HTTP 404): Not
    Found", with no word of the URL."""
    root = server.url.removesuffix("/v1")
    hint = f"(the URL usually ends in /v1: {server.url})"
    unnamed = run("query", QUESTION, "-i", str(sample_index), "-g", "openai", "--base-url", root, *FAST)
    assert unnamed.returncode == 2
    assert unnamed.stderr.strip().splitlines() == [
        f"ragcli: error: --base-url: the server at {root} has no /models (HTTP 404) {hint}"
    ]
    named = run(
        "query", QUESTION, "-i", str(sample_index), "-g", "openai", "--base-url", root + "/", "-m", server.model,
        "--json", *FAST,
    )  # fmt: skip
    assert named.returncode == 9
    assert named.stderr.strip().splitlines() == [
        f"ragcli: error: the server at {root}/ failed (HTTP 404): Not Found {hint}"
    ]
    assert json.loads(named.stdout)["sources"]


def test_no_server_is_one_line_and_exit_9(sample_index: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    result = run("query", QUESTION, "-i", str(sample_index), "-g", "openai", "--base-url", url, *FAST)
    assert result.returncode == 9
    assert result.stderr.strip().splitlines() == [
        f"ragcli: error: cannot reach the server at {url} (start it, or check --base-url / RAGCLI_BASE_URL)"
    ]
    assert "waggle" in result.stdout  # sources table


def test_no_server_keeps_each_json_record_whole_and_unsent_questions_unblamed(sample_index: Path) -> None:
    """With the server down, a `--json` record had `timings` of `retrieve` alone (README lists `load` and
    `generate`), and a question that retrieved nothing (never to be sent) carried the server's error."""
    url = f"http://127.0.0.1:{free_port()}/v1"
    result = run(
        "query", "-", "-i", str(sample_index), "-g", "openai", "--base-url", url, *FAST, input="queen\nxyzzy\n"
    )
    assert result.returncode == 9, result.stderr
    queen, unknown = (json.loads(line) for line in result.stdout.splitlines())
    assert queen["sources"] and "cannot reach the server" in queen["error"]
    assert sorted(queen["timings"]) == sorted(unknown["timings"]) == ["generate", "load", "retrieve"]
    assert queen["timings"]["generate"] is None
    assert unknown["sources"] == [] and "error" not in unknown and unknown["answer"] == ""


def test_options_are_checked_before_any_work(sample_index: Path) -> None:
    bad_url = run("query", QUESTION, "-i", str(sample_index), "-g", "openai", "--base-url", "localhost:8080")
    assert bad_url.returncode == 2 and "not an http(s) URL" in bad_url.stderr
    assert bad_url.stdout == ""  # checked before retrieval: no sources, no work
    bad_env = run("evaluate", "qa.jsonl", "-i", str(sample_index), env={"RAGCLI_BASE_URL": "ftp://host/v1"})
    assert bad_env.returncode == 2 and "not an http(s) URL" in bad_env.stderr
    style = run("query", QUESTION, "-i", str(sample_index), "-g", "extractive", "--answer-style", "haiku")
    assert style.returncode == 2 and "answer style" in style.stderr
    unset = run(
        "query", QUESTION, "-i", str(sample_index), "-g", "openai", "--base-url", "http://127.0.0.1:9/v1",
        "--api-key-env", "RAGCLI_TEST_UNSET_KEY",
    )  # fmt: skip
    assert unset.returncode == 2 and "RAGCLI_TEST_UNSET_KEY is not set" in unset.stderr


def test_evaluate_answers_through_the_server(server: Server, sample_index: Path, tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    rows = [
        {"question": "How do honeybees tell each other where the flowers are?", "answers": ["the waggle dance"]},
        {"question": "What is propolis?", "answers": ["bee glue"]},
        {"question": "How many eggs does a queen lay a day?", "answers": ["2,000"]},
    ]
    qa.write_text("".join(json.dumps(row) + "\n" for row in rows))
    common = ["evaluate", str(qa), "-i", str(sample_index), "-g", "openai", "--base-url", server.url, "--concurrency"]
    fast = ["2", "--max-new-tokens", "8", "--context-tokens", "1024", "--top-k", "2", "--retries", "0"]
    as_json = run(*common, *fast, "--json")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["generator"] == {"name": "openai", "model": server.model, "top_k": 2}
    assert report["counts"]["with_answers"] == 3 and "f1" in report["configs"][0]["metrics"]
    for_people = run(*common, *fast, "--answer-style", "sentence")
    assert for_people.returncode == 0, for_people.stderr
    caption = "".join(for_people.stdout.split())  # the caption wraps at the table's width
    assert f"answersbyopenai·{server.model}·" in caption and "(bm25)peranswer" in caption


# ------------------------------------------------------------------------------------------------
# the library against the same server


def test_the_server_is_asked_not_to_think(server: Server, sample_index: Path) -> None:
    # the served model's chat template writes an empty thought when told enable_thinking=False (as
    # Qwen3's does): the same prompt is longer through ragcli than asked plainly, so the field went
    # through the real server to the template
    import openai

    generator = OpenAIGenerator(None, options(server))
    prompt = "Passages: none. Question: what are varroa mites?"
    ours = generator._request(prompt, stream=False)
    plain = openai.OpenAI(base_url=server.url, api_key="none", max_retries=0).chat.completions.create(
        model=str(server.model), messages=[{"role": "user", "content": prompt}], max_tokens=8, temperature=0.0
    )
    assert ours.usage.prompt_tokens > plain.usage.prompt_tokens
    # OpenAI's own API would refuse a field it does not know: it is never sent there
    assert asks_not_to_think(server.url) and asks_not_to_think("http://127.0.0.1:11434/v1")
    assert not asks_not_to_think(None) and not asks_not_to_think("https://api.openai.com/v1")


def test_stream_yields_pieces_that_make_the_whole_answer(server: Server, sample_index: Path) -> None:
    from ragcli.retrieval.index import load_index

    hits = load_index(sample_index).search(QUESTION, k=2)
    generator = OpenAIGenerator(None, options(server, max_new_tokens=12))
    assert generator.model == server.model  # the server's only model, when none is named
    pieces, finish = generator.stream(QUESTION, hits)
    received = list(pieces)
    assert len(received) > 1  # token by token, not the whole answer at the end
    streamed = finish()
    whole = generator.generate(QUESTION, hits)
    assert "".join(received).strip() == whole.text or (streamed.text == whole.text == "")
    assert streamed == whole


def test_concurrent_answers_come_back_in_order(server: Server, sample_index: Path) -> None:
    from ragcli.retrieval.index import load_index

    index = load_index(sample_index)
    questions = ["bees", "honey", "queen", "wax", "drones"]
    requests = [(q, index.search(q, k=1)) for q in questions]
    generator = OpenAIGenerator(None, options(server, concurrency=3))
    together = generator.generate_many(requests)
    one_by_one = [generator.generate(q, s) for q, s in requests]
    assert [g.sources_in_prompt for g in together] == [1] * 5
    assert [g.text for g in together] == [g.text for g in one_by_one]


def test_make_generator_auto_prefers_the_server(server: Server, sample_index: Path) -> None:
    choice = make_generator("auto", None, options(server))
    assert choice.generator.name == "openai" and choice.notice is None


def test_an_unreachable_server_fails_when_the_generator_is_made() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelUnavailableError, match="cannot reach the server"):
        OpenAIGenerator("m", GenerationOptions(base_url=url, retries=0, timeout=5))


def test_the_prompt_fits_the_context_budget(server: Server, sample_index: Path) -> None:
    from ragcli.retrieval.index import load_index

    hits = load_index(sample_index).search(QUESTION, k=5)
    roomy = OpenAIGenerator(None, options(server, context_tokens=8192))
    tight = OpenAIGenerator(None, options(server, context_tokens=400))
    assert roomy.server_context is None and tight.max_prompt_tokens == 400 - 8
    assert roomy.prompt(QUESTION, hits).sources_used == 5
    fitted = tight.prompt(QUESTION, hits)
    assert approx_tokens(fitted.text) <= 392 and 1 <= fitted.sources_used < 5 and QUESTION in fitted.text
    assert tight.generate(QUESTION, hits).sources_in_prompt == fitted.sources_used


def test_a_prompt_the_server_finds_too_long_is_sent_again_with_half_the_budget(server: Server) -> None:
    """`transformers serve` refuses a prompt past the model's 8192 positions with HTTP 400 "The prompt has
    N tokens, but the model takes at most 8192 …", which ragcli did not take for a prompt too long: the
    question failed instead of being asked again with fewer passages."""
    dense = [hit(n, "zq" * 1000) for n in range(1, 9)]  # 2,000 tokens each to this tokenizer, 500 by ragcli's count
    generator = OpenAIGenerator(None, options(server, context_tokens=3508))
    sent_first = generator.prompt(Q, dense)
    assert sent_first.sources_used >= 6  # some 13,000 tokens: more than the model takes
    generation = generator.generate(Q, dense)
    assert 1 <= generation.sources_in_prompt < sent_first.sources_used


def test_a_slow_answer_times_out_with_exit_9(server: Server, sample_index: Path) -> None:
    slow = ["--max-new-tokens", "1500", "--context-tokens", "4096", "--top-k", "1", "--retries", "0"]
    result = run(
        "query", QUESTION, "-i", str(sample_index), "-g", "openai", "--base-url", server.url, "--json",
        "--timeout", "0.3", *slow,
    )  # fmt: skip
    assert result.returncode == 9
    assert result.stderr.strip().splitlines() == [
        f"ragcli: error: the server at {server.url} did not answer within 0.3 s (raise --timeout)"
    ]
    assert json.loads(result.stdout)["sources"]


# ------------------------------------------------------------------------------------------------
# pure parts: where the server is, the key, the budget, the errors


def test_base_url_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://openai-base/v1")
    assert resolve_base_url(GenerationOptions()) == "http://openai-base/v1"
    monkeypatch.setenv("RAGCLI_BASE_URL", "http://ragcli-base/v1")
    assert resolve_base_url(GenerationOptions()) == "http://ragcli-base/v1"
    assert resolve_base_url(GenerationOptions(base_url="http://flag/v1")) == "http://flag/v1"
    assert shown_url("https://user:pw@host:8000/v1?x=1") == "https://host:8000/v1"


def test_key_from_the_named_variable_and_a_dummy_for_a_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert resolve_key(GenerationOptions(), "http://127.0.0.1:1/v1") == "not-needed"
    with pytest.raises(InvalidOptionError, match="OPENAI_API_KEY"):
        resolve_key(GenerationOptions(), None)  # OpenAI's API without a key
    monkeypatch.setenv("MY_KEY", SECRET)
    assert resolve_key(GenerationOptions(api_key_env="MY_KEY"), None) == SECRET
    with pytest.raises(InvalidOptionError, match="name of an environment variable") as error:
        resolve_key(GenerationOptions(api_key_env=SECRET + "-"), None)
    assert SECRET not in str(error.value)


def test_context_length_from_what_servers_report() -> None:
    assert context_of({"id": "m", "max_model_len": 32768}) == 32768  # vLLM
    assert context_of({"id": "m", "meta": {"n_ctx_train": 8192}}) == 8192  # llama.cpp
    assert context_of({"id": "m", "context_length": 4096}) == 4096  # LM Studio, OpenRouter
    assert context_of({"id": "m", "owned_by": "x"}) is None and context_of(None) is None


def test_approximate_tokens_and_trimming() -> None:
    assert approx_tokens("abcd" * 10) == 10 and approx_tokens("abcde") == 2
    trimmed = first_tokens("word " * 100, 10)
    assert len(trimmed) <= 40 and trimmed.endswith("word")


@pytest.mark.parametrize(
    ("message", "too_long"),
    [
        ("This model's maximum context length is 4096 tokens. However, you requested 5000 tokens", True),  # vLLM
        ("the request exceeds the available context size, try increasing it", True),  # llama.cpp
        ("prompt is too long: 210000 tokens > 200000 maximum", True),
        # transformers serve
        ("The prompt has 13753 tokens, but the model takes at most 8192, prompt and answer (`--max-model-len`).", True),
        ("the input length exceeds the context length", True),  # Ollama
        (
            "Trying to keep the first 5000 tokens when context the overflows. However, the model is loaded with "
            "context length of only 4096 tokens",
            True,
        ),  # LM Studio
        ("Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 5000", True),  # TGI
        ("The input (5000 tokens) is longer than the model's context length (4096 tokens).", True),  # SGLang
        ("Invalid value for 'temperature': must be <= 2", False),
        ("Server is pinned to 'a'; requested 'b'.", False),
        ("model 'llama9' not found", False),
    ],
)
def test_context_errors_are_told_from_others(message: str, too_long: bool) -> None:
    assert is_context_error(message) is too_long


@pytest.mark.parametrize(
    ("message", "about_the_model"),
    [
        ("Server is pinned to 'a'; requested 'b'.", True),  # transformers serve
        ("model 'llama9' not found", True),  # Ollama
        ("The model `x` does not exist.", True),  # vLLM, OpenAI
        ("Unsupported parameter: 'max_tokens' is not supported with this model.", False),
        ("This model's maximum context length is 4096 tokens.", False),
    ],
)
def test_model_errors_are_told_from_others(message: str, about_the_model: bool) -> None:
    from ragcli.generation.openai import _MODEL_ERROR_RE

    assert bool(_MODEL_ERROR_RE.search(message)) is about_the_model


# ------------------------------------------------------------------------------------------------
# answers that fit the question (shared by the model generators)


def hit(rank: int, text: str) -> Hit:
    return Hit(
        rank=rank, score=1.0 / rank, id=f"d{rank}#0", doc_id=f"d{rank}", title="", path=f"d{rank}", line=1, start=0,
        end=len(text), text=text,
    )  # fmt: skip


def test_marker_only_and_empty_answers_are_no_answer_and_cite_nothing() -> None:
    sources = [hit(1, "The queen lays up to 2,000 eggs a day."), hit(2, "Drones mate.")]
    for text in ["[1]", "[1] [2]", " [2]. ", "Sources: [1]", "", "I don't know.", "I do not know the answer."]:
        assert no_answer(text), text
        assert settle(text, Q, sources, 2) == Generation("", [], 2)
    assert settle("2,000 eggs a day", Q, sources, 2) == Generation("2,000 eggs a day", [1], 2)
    assert settle("up to 2,000 [1]", Q, sources, 2).citations == [1]
    assert settle("drones [2]", Q, sources, 1).citations == []  # [2] was not in the prompt
    assert cited_sources("[1]", sources) == [1] and not no_answer("2 [1]")


def test_an_answer_label_is_not_part_of_the_answer() -> None:
    sources = [hit(1, "The queen lays up to 2,000 eggs a day.")]
    for text in ["Answer: 2,000 eggs", "**Answer:** 2,000 eggs", "Final answer: 2,000 eggs", " ANSWER : 2,000 eggs"]:
        assert settle(text, Q, sources, 1) == Generation("2,000 eggs", [1], 1), text
        assert visible_text(text) == "2,000 eggs", text
    assert settle("Answer: [1]", Q, sources, 1) == Generation("", [], 1)  # a label and a marker: no answer
    for text in ["Answers vary: 2,000 eggs", "The answer key lists 2,000 eggs"]:  # words, not a label
        assert settle(text, Q, sources, 1).text == text


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        # what SmolLM2-135M-Instruct wrote on xquad-a questions (bench/real_model.py)
        ("The answer to the question is: 1943", "1943"),
        ('The answer to this question is "another term for the string."', "another term for the string."),
        ('The answer to this question is: "Frequent."', "Frequent."),
        ("The answer is 2,000 eggs", "2,000 eggs"),
        ("According to the passage, the queen lays 2,000 eggs.", "The queen lays 2,000 eggs."),
        ("Based on the given passages [1], up to 2,000 eggs a day", "Up to 2,000 eggs a day"),
        ('The passage says: "up to 2,000 eggs a day"', "up to 2,000 eggs a day"),
        ("“2,000 eggs”", "2,000 eggs"),
        ("The answer is iPhone sales", "iPhone sales"),  # the answer's own case is kept
        ("According to the passages, iPhone sales rose.", "iPhone sales rose."),
        ("The answer is: x = 3", "x = 3"),
        ('"2,000" eggs, "a day"', '"2,000" eggs, "a day"'),  # quotation marks inside: not around the answer
    ],
)
def test_a_lead_in_and_quotation_marks_around_the_answer_are_not_part_of_it(reply: str, answer: str) -> None:
    sources = [hit(1, "The queen lays up to 2,000 eggs a day.")]
    assert answer_text(reply) == answer
    assert settle(reply, Q, sources, 1).text == answer and visible_text(reply) == answer


def test_a_lead_in_with_nothing_after_it_or_a_question_asked_back_is_no_answer() -> None:
    sources = [hit(1, "The queen lays up to 2,000 eggs a day.")]
    for reply in ["The answer to this question is:", "The answer is", "The answer is: I don't know.", f"{Q}", f"{Q} [1]",
                  "how many eggs does a queen lay?"]:  # fmt: skip
        assert settle(reply, Q, sources, 1) == Generation("", [], 1), reply
    # a question with words of its own is the model's, not an echo; a statement of the question's words answers
    assert settle("Do you mean the worker bees?", Q, sources, 1).text == "Do you mean the worker bees?"
    assert settle("A queen does lay eggs.", Q, sources, 1).text == "A queen does lay eggs."


def test_a_bare_passage_number_is_no_answer_but_a_number_the_passages_hold_answers() -> None:
    # SmolLM2-135M-Instruct answered 1 xquad-a question in 7 with "1" or "2", the number of a passage
    sources = [hit(1, "The queen lays up to 2,000 eggs a day."), hit(2, "Drones mate once and die.")]
    for reply in ["1", "2.", " [2]", "(1)"]:
        assert settle(reply, Q, sources, 2) == Generation("", [], 2), reply
    assert settle("3", Q, sources, 2).text == "3"  # no passage 3 was shown: a number, wrong or not
    assert settle("2", Q, sources, 1).text == "2"  # only passage 1 was shown
    held = [hit(1, "Two queens never share a hive."), hit(2, "A hive holds 1 queen.")]
    assert settle("2", Q, held, 2).text == "2" and settle("1", Q, held, 2) == Generation("1", [2], 2)


@pytest.mark.parametrize(
    "reply",
    [
        "1. [2]",  # SmolLM2-135M-Instruct asked which passage answers: a list number, then the marker
        "1) [1]",
        "[1] and [2]",
        "[1], [2] and [3]",
        "[1] or [2]",
        "In passage [2]",
        "See passage [1].",
        "see the passage [2]",
        "Passage 2",
        "Passages 1 and 2",
        "Source: 2",
        "Document [1]",
        "In the passages [1, 2].",
        "There is no answer in the passages [2].",
        "The passages do not contain the answer.",
        "The provided passages don't mention how many eggs a queen lays.",
        "The context does not say.",
        "The passages provided do not specify the number of eggs [1].",
        "The answer is not mentioned in the passages.",
        "I cannot find the answer in the passages.",
        "No answer.",
    ],
)
def test_a_pointer_to_a_passage_or_a_refusal_is_no_answer(reply: str) -> None:
    sources = [hit(1, "The queen lays up to 2,000 eggs a day."), hit(2, "Drones mate once and die.")]
    assert settle(reply, Q, sources, 2) == Generation("", [], 2)


@pytest.mark.parametrize(
    ("reply", "cited"),
    [
        ("2 [1]", [1]),  # a number a passage holds, with its marker, answers
        ("Passage of time [1]", [1]),
        ("Chapter 2 [2]", [2]),
        ("Section 3 of the act", []),
        ("The passage says bees dance [1]", [1]),
        ("Passage 2 of the act [1]", [1]),
        ("In 2 days [1]", [1]),
        ("No, drones mate once [2]", [2]),
        ("The passages show two queens [1]", [1]),
    ],
)
def test_words_around_a_number_or_a_passage_that_answer_stay_an_answer(reply: str, cited: list[int]) -> None:
    sources = [hit(1, "Two queens fight; 2 survive."), hit(2, "Drones mate once and die.")]
    assert settle(reply, Q, sources, 2) == Generation(reply, cited, 2)


def test_prompts_never_ask_for_citation_markers() -> None:
    for kind in (SEQ2SEQ, CHAT):
        for style in ("short", "sentence", "long"):
            template = template_for(kind, style)
            assert "{passages}" in template and "{question}" in template
            assert "cite" not in template.lower() and "[1]" not in template
    assert "shortest phrase" in template_for(CHAT, "short") and "one sentence" in template_for(CHAT, "sentence")
    assert template_for(SEQ2SEQ).rstrip().endswith("Answer:")


def test_a_reasoning_models_thinking_is_no_part_of_the_answer() -> None:
    sources = [hit(1, "The queen lays up to 2,000 eggs a day."), hit(2, "Drones mate.")]
    assert strip_reasoning("<think>The passage says 2,000.</think>\n\n2,000 eggs") == "\n\n2,000 eggs"
    assert strip_reasoning("<THINKING>a\nb</THINKING>up to 2,000") == "up to 2,000"
    # the chat template opened the thought (DeepSeek-R1's): the reply holds only the closing tag
    assert strip_reasoning("Let me look at [2]. Hmm.</think>2,000") == "2,000"
    # the budget ran out while the model thought: nothing was answered
    assert strip_reasoning("<think>Okay, the user asks about eggs. Passage [1] says") == ""
    assert strip_reasoning("2,000 eggs, no tags at all") == "2,000 eggs, no tags at all"
    assert settle(
        "<think>Passage [2] is about drones, [1] about eggs.</think> 2,000 eggs", Q, sources, 2
    ) == Generation("2,000 eggs", [1], 2)
    assert settle("<think>Okay, let me think about [1] and [2]", Q, sources, 2) == Generation("", [], 2)


def test_a_streamed_answer_never_shows_the_thinking() -> None:
    assert visible_text("<thi") == "" and visible_text("2,000 <") == "2,000 " and visible_text("a < b") == "a < b"
    assert visible_text("<think>hm") == "" and visible_text("<think>hm</think>2,0") == "2,0"

    class Thinking:
        name, model = "thinking", "thinking-model"

        def stream(self, question: str, sources: list[Hit]):  # type: ignore[no-untyped-def]
            pieces = ["<th", "ink>The passage", " says 2,000.</th", "ink>\n", "2,000", " eggs"]
            return iter(pieces), lambda: settle("".join(pieces), question, sources, len(sources))

    shown: list[str] = []
    item = Answer("How many eggs?", "bm25", [hit(1, "The queen lays up to 2,000 eggs a day.")])
    done = stream_answer(item, Thinking(), 0.0, on_text=shown.append)  # type: ignore[arg-type]
    assert shown == ["", "", "", "\n", "\n2,000", "\n2,000 eggs"]
    assert done.answer == "2,000 eggs" and done.citations == [1]


class Marker:
    """A plug-in generator that answers like the small model of the issue: the marker alone."""

    name, model = "marker", "marker-model"

    def generate(self, question: str, sources: list[Hit]) -> Generation:
        return settle("[1]", question, sources, len(sources))

    def generate_many(self, requests: list[tuple[str, list[Hit]]]) -> list[Generation]:
        return [self.generate(q, s) for q, s in requests]


def test_no_answer_falls_back_to_the_extractive_answer_and_says_so(sample_index: Path) -> None:
    questions = ["How many eggs does a queen lay?"]
    plain = answer_many(questions, sample_index, Marker(), k=3)[0]
    assert plain.answer == "" and plain.citations == [] and plain.fallback is None
    rescued = answer_many(questions, sample_index, Marker(), k=3, fallback=True)[0]
    assert rescued.answer and rescued.fallback == "extractive" and rescued.citations
    assert rescued.to_dict()["fallback"] == "extractive" and rescued.generator == "marker"


# ------------------------------------------------------------------------------------------------
# the optional LLM judge (evaluate --judge-model), through the same server


def test_evaluate_with_a_judge_grades_through_the_server(server: Server, sample_index: Path, tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    rows = [
        {"id": "dance", "question": "How do honeybees tell each other where the flowers are?", "answers": ["dance"]},
        {"id": "glue", "question": "What is propolis?", "answers": ["bee glue"]},
    ]
    qa.write_text("".join(json.dumps(row) + "\n" for row in rows))
    per_query = tmp_path / "pq.jsonl"
    result = run(
        *("evaluate", str(qa), "-i", str(sample_index), "-g", "extractive", "--no-context", "--json"),
        *("--judge-model", server.model, "--base-url", server.url, "--retries", "0", "--per-query", str(per_query)),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["generator"]["judge_model"] == server.model
    assert sorted(report["generator"]) == ["judge_model", "model", "name", "top_k"]  # the one key a judge adds
    for config in report["configs"]:  # bm25 and closed-book alike
        assert 0.0 <= config["metrics"]["judge_parsed"] <= 1.0
    graded = [json.loads(line)["metrics"] for line in per_query.read_text().splitlines()]
    assert len(graded) == 4
    for metrics in graded:  # a grade is there only when the (random-weight) judge gave a readable one
        assert all(0.0 <= metrics[name] <= 1.0 for name in ("judge_faithfulness", "judge_relevance") if name in metrics)


def test_a_judge_model_the_server_lacks_fails_before_any_work(
    server: Server, sample_index: Path, tmp_path: Path
) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"question": "What is propolis?", "answers": ["bee glue"]}\n')
    result = run(
        *("evaluate", str(qa), "-i", str(sample_index), "-g", "extractive"),
        *("--judge-model", "no-such-judge", "--base-url", server.url, "--retries", "0"),
    )
    assert result.returncode == ExitCode.MODEL_UNAVAILABLE
    assert "has no model 'no-such-judge'" in result.stderr and result.stdout == ""


def test_a_judge_needs_answers(sample_index: Path, tmp_path: Path) -> None:
    result = run("evaluate", str(tmp_path / "qa.jsonl"), "--no-generate", "--judge-model", "any")
    assert result.returncode == ExitCode.USAGE and "--no-generate" in result.stderr
