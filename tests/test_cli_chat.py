"""`ragcli chat`: a question loop at a terminal (driven through a pseudo-terminal), and over a pipe."""

from __future__ import annotations

import fcntl
import io
import json
import os
import select
import signal
import subprocess
import termios
import time
from pathlib import Path

import pytest
from clihelpers import RAGCLI, invoke
from fakeopenai import Reply, completion, fake_server

from ragcli import interactive
from ragcli.errors import ExitCode

TIMEOUT = 60.0  # seconds to wait for the prompt or an answer (a fresh process on a busy machine)


class Terminal:
    """`ragcli ARGS` with a pseudo-terminal as its controlling terminal, stdin, stdout (unless `stdout`,
    a file, is given) and stderr."""

    def __init__(self, *args: str, env: dict[str, str], stdout: Path | None = None) -> None:
        self.leader, follower = os.openpty()
        out = stdout.open("wb") if stdout is not None else None

        def controlling_terminal() -> None:  # in the child: the pty becomes its terminal (Ctrl-C → SIGINT)
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.process = subprocess.Popen(
            [RAGCLI, *args],
            stdin=follower,
            stdout=out or follower,
            stderr=follower,
            env={**os.environ, "TERM": "dumb", "COLUMNS": "100", **env},
            start_new_session=True,
            preexec_fn=controlling_terminal,
        )
        os.close(follower)
        if out is not None:
            out.close()
        self.output = ""

    def read_until(self, text: str, after: int = 0) -> str:
        """Everything written so far, once `text` appears after position `after` (else a test failure)."""
        deadline = time.monotonic() + TIMEOUT
        while text not in self.output[after:]:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not seen within {TIMEOUT} s; output: {self.output[-800:]!r}"
            if select.select([self.leader], [], [], min(left, 0.2))[0]:
                try:
                    chunk = os.read(self.leader, 65536)
                except OSError:  # the process ended and closed the terminal
                    chunk = b""
                assert chunk, f"the terminal closed before {text!r}; output: {self.output[-800:]!r}"
                self.output += chunk.decode("utf-8", "replace")
        return self.output

    def type(self, keys: bytes) -> None:
        os.write(self.leader, keys)

    def wait_reading(self) -> None:
        """Until ragcli sleeps in readline's wait for a key. CPython's readline shows the prompt, then
        waits in select(): a Ctrl-C (SIGINT) that lands between the two sets Python's flag but does not
        interrupt the wait, so it is only acted on at the next key, a race a person never loses but a
        test typing at once can. Linux's /proc says when the process sleeps in that wait."""
        wchan = Path(f"/proc/{self.process.pid}/wchan")
        deadline = time.monotonic() + TIMEOUT
        while wchan.exists() and "poll" not in wchan.read_text() and "select" not in wchan.read_text():
            assert time.monotonic() < deadline, f"ragcli never waited for a key; output: {self.output[-800:]!r}"
            time.sleep(0.05)

    def close(self) -> int:
        try:
            return self.process.wait(timeout=TIMEOUT)
        finally:
            self.process.kill()
            os.close(self.leader)


PROMPT = "> "


def chat_terminal(sample_index: Path, cache: Path, k: int = 1) -> Terminal:
    """`ragcli chat` over the sample index on a pseudo-terminal, its history in `cache`."""
    return Terminal(
        "chat", "--index", str(sample_index), "-g", "extractive", "-k", str(k), env={"RAGCLI_CACHE": str(cache)}
    )


def ask(terminal: Terminal, question: bytes) -> int:
    """Type `question` at the prompt and wait for its answer; where the terminal's output was before it."""
    terminal.read_until(PROMPT)
    seen = len(terminal.output)
    terminal.type(question)
    terminal.read_until("answer · extractive", seen)
    return seen


@pytest.mark.parametrize("leave", [b"exit\r", b"\x04", b"\x03"], ids=["exit", "ctrl-d", "ctrl-c"])
def test_a_question_at_the_prompt_is_answered_and_remembered(sample_index: Path, tmp_path: Path, leave: bytes) -> None:
    cache = tmp_path / "cache"
    terminal = chat_terminal(sample_index, cache, k=2)
    try:
        seen = ask(terminal, b"What is propolis made of?\r")
        after_answer = terminal.read_until("retrieved in", seen)  # the answer's last line, in every view
        terminal.read_until(PROMPT, after_answer.rindex("retrieved in"))  # asks for the next question
        terminal.wait_reading()
        terminal.type(leave)
    finally:
        code = terminal.close()
    assert code == 0, terminal.output[-800:]
    assert "Traceback" not in terminal.output
    assert "What is propolis made of?" in (cache / "chat_history").read_text(encoding="utf-8")


@pytest.mark.parametrize("leave", [b"\x04", b"\x03"], ids=["ctrl-d", "ctrl-c"])
def test_leaving_at_the_prompt_ends_its_line(sample_index: Path, tmp_path: Path, leave: bytes) -> None:
    """Ctrl-D or Ctrl-C at the prompt left the cursor after `> `: the shell's prompt followed on that line."""
    terminal = chat_terminal(sample_index, tmp_path / "cache")
    try:
        terminal.read_until(PROMPT)
        terminal.wait_reading()
        terminal.type(leave)
        terminal.process.wait(timeout=TIMEOUT)
        while select.select([terminal.leader], [], [], 1)[0]:  # what it wrote before it ended
            try:
                chunk = os.read(terminal.leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            terminal.output += chunk.decode("utf-8", "replace")
    finally:
        code = terminal.close()
    assert code == 0, terminal.output[-800:]
    assert terminal.output.endswith(("\n", "\r\n")), repr(terminal.output[-80:])


def test_the_history_of_earlier_sessions_is_offered_again(sample_index: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "chat_history").write_text("How is honey made?\n", encoding="utf-8")
    terminal = Terminal(
        "chat", "--index", str(sample_index), "-g", "extractive", "-k", "1", env={"RAGCLI_CACHE": str(cache)}
    )
    try:
        terminal.read_until(PROMPT)
        seen = len(terminal.output)
        terminal.type(b"\x1b[A")  # the up arrow recalls the last question of the earlier session
        terminal.read_until("How is honey made?", seen)
        terminal.type(b"\r")
        terminal.read_until("answer · extractive", seen)
        terminal.type(b"quit\r")
    finally:
        code = terminal.close()
    assert code == 0, terminal.output[-800:]


def test_a_pasted_block_of_lines_is_one_question_a_line(sample_index: Path, tmp_path: Path) -> None:
    """With bracketed paste (readline 8.1's default), lines pasted at once came back from the prompt as
    one question with the newlines inside it; each is its own question, in order, as over a pipe."""
    cache = tmp_path / "cache"
    terminal = Terminal(
        "chat", "--index", str(sample_index), "-g", "extractive", "-k", "1", "--json",
        env={"RAGCLI_CACHE": str(cache), "TERM": "xterm"},
    )  # fmt: skip
    try:
        terminal.read_until(PROMPT)
        terminal.wait_reading()
        terminal.type(b"\x1b[200~What is propolis made of?\r\nWhat is the waggle dance?\x1b[201~\r")
        terminal.read_until('"query": "What is the waggle dance?"')
        terminal.type(b"quit\r")
    finally:
        code = terminal.close()
    assert code == 0, terminal.output[-800:]
    asked = [json.loads(line)["query"] for line in terminal.output.splitlines() if line.startswith("{")]
    assert asked == ["What is propolis made of?", "What is the waggle dance?"]
    history = (cache / "chat_history").read_text(encoding="utf-8").splitlines()
    assert history == ["What is propolis made of?", "What is the waggle dance?"]


def json_chat_to_a_file(index: Path, tmp_path: Path) -> tuple[Terminal, Path]:
    """`ragcli chat --json` at a terminal, its stdout a file (returned beside it)."""
    out = tmp_path / "answers.jsonl"
    terminal = Terminal(
        "chat", "--index", str(index), "-g", "extractive", "-k", "1", "--json",
        env={"RAGCLI_CACHE": str(tmp_path / "cache")}, stdout=out,
    )  # fmt: skip
    return terminal, out


def test_a_typed_line_ends_only_at_a_newline(sample_index: Path, tmp_path: Path) -> None:
    """A soft line break (U+2028, NEL, as text copied from Word or a PDF holds) split a typed line into
    two questions, where the same line piped in is one: a line ends at \\n, \\r or \\r\\n (README)."""
    terminal, out = json_chat_to_a_file(sample_index, tmp_path)
    try:
        terminal.read_until(PROMPT)
        terminal.type("What is propolis?\u2028What is the waggle\u0085dance?\r".encode())
        terminal.read_until(PROMPT, len(terminal.output))
        terminal.type(b"quit\r")
    finally:
        code = terminal.close()
    assert code == 0, terminal.output[-800:]
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1  # JSON escapes both: one record


def test_with_stdout_a_file_the_prompt_goes_to_the_terminal(sample_index: Path, tmp_path: Path) -> None:
    """`chat --json > file` at a terminal wrote `> ` into the JSON Lines (input() prompts on stdout) and
    lost line editing (input() uses readline only when stdout is a terminal): the prompt goes to stderr."""
    terminal, out = json_chat_to_a_file(sample_index, tmp_path)
    try:
        terminal.read_until(PROMPT)
        terminal.type(b"What is propolis made of?\r")
        seen = terminal.read_until(PROMPT, len(terminal.output) + 1).rindex(PROMPT) + len(PROMPT)
        terminal.type(b"\x1b[A")  # the up arrow recalls it: readline reads the line
        terminal.read_until("What is propolis made of?", seen)
        terminal.type(b"\r")
        terminal.read_until(PROMPT, seen)
        terminal.type(b"quit\r")
    finally:
        code = terminal.close()
    assert code == 0, terminal.output[-800:]
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["query"] for r in records] == ["What is propolis made of?"] * 2


def test_two_chats_at_once_both_keep_their_questions(sample_index: Path, tmp_path: Path) -> None:
    """Each session rewrote the whole history at its end from what it had read at its start, so the
    one that ended last dropped the other's questions: a session now appends its own."""
    cache = tmp_path / "cache"
    cache.mkdir()
    earlier = [f"question {n}" for n in range(interactive.HISTORY_LENGTH)]  # full: the oldest make room
    (cache / "chat_history").write_text("".join(line + "\n" for line in earlier), encoding="utf-8")
    first, second = chat_terminal(sample_index, cache), chat_terminal(sample_index, cache)
    try:
        ask(first, b"What is propolis made of?\r")
        ask(second, b"What is the waggle dance?\r")
        first.type(b"quit\r")
        assert first.close() == 0, first.output[-800:]
        second.type(b"quit\r")
        assert second.close() == 0, second.output[-800:]
    finally:
        first.process.kill()
        second.process.kill()
    remembered = (cache / "chat_history").read_text(encoding="utf-8").splitlines()
    assert remembered == [*earlier[2:], "What is propolis made of?", "What is the waggle dance?"]


def test_the_history_is_kept_when_the_terminal_is_closed(sample_index: Path, tmp_path: Path) -> None:
    """SIGHUP (the terminal window closed) ended chat without writing its history; it is written as
    when the chat ends by itself, and chat still ends as the signal ends it."""
    cache = tmp_path / "cache"
    terminal = chat_terminal(sample_index, cache)
    try:
        seen = ask(terminal, b"What is propolis made of?\r")
        terminal.read_until(PROMPT, terminal.output.index("answer · extractive", seen))
        terminal.wait_reading()
        terminal.process.send_signal(signal.SIGHUP)
    finally:
        code = terminal.close()
    assert code == -signal.SIGHUP
    assert (cache / "chat_history").read_text(encoding="utf-8").splitlines() == ["What is propolis made of?"]


@pytest.mark.parametrize("kind", ["link", "fifo"])
def test_a_history_that_is_a_link_or_a_fifo_is_left_alone(sample_index: Path, tmp_path: Path, kind: str) -> None:
    """A `chat_history` linking to another file had that file cut to 1,000 lines; a FIFO hung chat
    before its prompt. Neither is read nor written: the session runs without history."""
    cache = tmp_path / "cache"
    cache.mkdir()
    victim = tmp_path / "notes.txt"
    victim.write_text("".join(f"line {n}\n" for n in range(5000)), encoding="utf-8")
    if kind == "link":
        (cache / "chat_history").symlink_to(victim)
    else:
        os.mkfifo(cache / "chat_history")
    terminal = chat_terminal(sample_index, cache)
    try:
        ask(terminal, b"What is propolis made of?\r")
        terminal.type(b"quit\r")
    finally:
        code = terminal.close()
    assert code == 0, terminal.output[-800:]
    assert victim.read_text(encoding="utf-8").count("\n") == 5000


def test_over_a_pipe_each_line_is_a_question(sample_index: Path) -> None:
    """A blank line, or one of colour codes alone, asks nothing: the latter was answered "Nothing was
    retrieved"."""
    lines = "varroa\n\n\x1b[31m\x1b[0m\npropolis\n"
    result = invoke("chat", "--index", str(sample_index), "-g", "extractive", "--json", input=lines)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["query"] for r in records] == ["varroa", "propolis"]
    assert all(r["answer"] and r["generator"] == "extractive" for r in records)


@pytest.mark.parametrize("word", ["exit", "QUIT"])
def test_over_a_pipe_exit_or_quit_ends_the_chat(sample_index: Path, word: str) -> None:
    """As at the prompt: a scripted session that ends with `exit` does not answer the lines after it."""
    lines = f"varroa\n{word}\npropolis\n"
    result = invoke("chat", "--index", str(sample_index), "-g", "extractive", "--json", input=lines)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["query"] for line in result.stdout.splitlines()] == ["varroa"]


def test_a_failed_request_fails_its_question_and_the_chat_goes_on(sample_index: Path) -> None:
    """One failed server request ended the whole chat (exit 9): the questions after it were never asked.
    Now it is that question's record with its error, as `query -` writes it, and exit 9 at the end."""
    pytest.importorskip("openai")

    def reply(body: bytes) -> Reply:
        return Reply(b'{"error": "overloaded"}', 500) if b"propolis" in body else Reply(completion("bees [1]"))

    questions = "What is the varroa mite?\nWhat is propolis made of?\nWhat is the waggle dance?\n"
    with fake_server(reply) as server:
        args = ("chat", "--index", str(sample_index), "-g", "openai", "--base-url", server.url, "-k", "1")
        result = invoke(*args, "--retries", "0", "--json", input=questions)
    assert result.exit_code == ExitCode.MODEL_UNAVAILABLE, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["answer"], "error" in r) for r in records] == [("bees [1]", False), (None, True), ("bees [1]", False)]
    assert records[1]["sources"] and "HTTP 500" in records[1]["error"]
    assert result.stderr.count("ragcli: error:") == 1 and "HTTP 500" in result.stderr


def test_a_typed_line_of_colour_codes_alone_is_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """At the prompt too, as an empty line is (driven through `input`: readline takes typed escapes as keys)."""
    typed = iter(["varroa", "\x1b[31m\x1b[0m", " ", "\x1b[1m propolis \x1b[0m", "quit"])
    monkeypatch.setattr(interactive, "_readline", lambda: None)
    monkeypatch.setattr("builtins.input", lambda prompt: next(typed))
    terminal = io.StringIO()
    monkeypatch.setattr(terminal, "isatty", lambda: True)
    assert list(interactive.questions(terminal, tmp_path / "history")) == ["varroa", "propolis"]


def test_terminal_sequences_in_a_question_reach_neither_the_topic_nor_the_generator(sample_index: Path) -> None:
    """A pasted coloured question: its codes used to become words of the topic a follow-up is asked with
    ('Where is it kept? (1mzebra record 0m)')."""
    questions = "What is the \x1b[1mwaggle dance\x1b[0m?\nWho decoded it?\n"
    result = invoke("chat", "--index", str(sample_index), "-g", "extractive", "--json", input=questions)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["query"] for r in records] == ["What is the waggle dance?", "Who decoded it?"]
    assert records[1]["asked"] == "Who decoded it? (waggle dance)"
    assert "waggle_dance" in records[0]["sources"][0]["doc_id"]


def test_options_are_checked_before_the_index_is_opened(tmp_path: Path) -> None:
    result = invoke("chat", "--index", str(tmp_path / "none"), "-g", "extractiv", input="varroa\n")
    assert result.exit_code == 2 and result.stdout == ""
    assert "did you mean 'extractive'?" in result.stderr
