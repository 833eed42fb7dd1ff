"""`ragcli query -` in a live pipe: each line is answered (and flushed) before the next one is written."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path

import pytest
from clihelpers import RAGCLI
from fakeopenai import Reply, completion, fake_server

TIMEOUT = 60.0  # seconds to wait for one answer (a fresh process on a busy machine), never a timing assertion


def read_line(descriptor: int, pending: bytearray, timeout: float = TIMEOUT) -> str:
    """The next line the process writes on `descriptor`, or a test failure when none comes in time."""
    deadline = time.monotonic() + timeout
    while b"\n" not in pending:
        left = deadline - time.monotonic()
        assert left > 0, f"no answer line within {timeout} s (so far: {bytes(pending)[:200]!r})"
        ready, _, _ = select.select([descriptor], [], [], left)
        if ready:
            chunk = os.read(descriptor, 65536)
            assert chunk, f"stdout closed before a whole line (so far: {bytes(pending)[:200]!r})"
            pending += chunk
    line, _, rest = bytes(pending).partition(b"\n")
    pending[:] = rest
    return line.decode("utf-8")


@pytest.mark.parametrize("mode", [["--no-generate"], ["-g", "extractive"], []])
def test_each_line_is_answered_before_stdin_closes(sample_index: Path, tmp_path: Path, mode: list[str]) -> None:
    env = {**os.environ, "RAGCLI_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [RAGCLI, "query", "-", "--json", "--index", str(sample_index), "-k", "2", *mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    pending = bytearray()
    try:
        process.stdin.write(b"How do honeybees tell each other where the flowers are?\n")
        process.stdin.flush()
        first = json.loads(read_line(process.stdout.fileno(), pending))  # stdin is still open
        assert first["query"].startswith("How do honeybees")
        assert process.poll() is None  # still waiting for more questions
        process.stdin.write(b"\n   \nWhat do beekeepers use against varroa mites?\n")
        process.stdin.close()
        second = json.loads(read_line(process.stdout.fileno(), pending))
        assert second["query"] == "What do beekeepers use against varroa mites?"
        assert process.wait(timeout=TIMEOUT) == 0
        assert os.read(process.stdout.fileno(), 65536) == b"" and not pending  # nothing for the blank lines
    finally:
        process.kill()
        process.wait()
    hits = [first["hits"], second["hits"]] if mode == ["--no-generate"] else [first["sources"], second["sources"]]
    assert hits[0][0]["doc_id"] == "behavior/waggle_dance.md" and hits[1][0]["doc_id"] == "beekeeping/varroa.md"
    if mode != ["--no-generate"]:
        assert first["answer"] and second["answer"] and first["generator"] == "extractive"


def test_a_failed_request_in_a_live_pipe_is_said_and_the_next_lines_are_asked(
    sample_index: Path, tmp_path: Path
) -> None:
    """Each question of a live pipe is a batch of its own, so every request of the first batch failed:
    that ended the run, and the questions written after it were never read. Each failure is said (its
    sources and error printed) and the run goes on; exit 9 at the end, as the README documents."""
    refused = Reply(json.dumps({"error": {"message": "boom"}}).encode(), status=400)
    answered = Reply(completion("Karl von Frisch"))
    env = {**os.environ, "RAGCLI_CACHE": str(tmp_path / "cache")}
    with fake_server(lambda body: refused if b"varroa" in body else answered) as server:
        process = subprocess.Popen(
            [RAGCLI, "query", "-", "--index", str(sample_index), "-k", "2", "-g", "openai", "--retries", "0",
             "--base-url", server.url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )  # fmt: skip
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        pending = bytearray()
        try:
            process.stdin.write(b"What do beekeepers use against varroa mites?\n")
            process.stdin.flush()
            failed = json.loads(read_line(process.stdout.fileno(), pending))
            process.stdin.write(b"Who decoded the waggle dance?\nHow do varroa mites spread?\n")
            process.stdin.close()
            answered_record = json.loads(read_line(process.stdout.fileno(), pending))
            last = json.loads(read_line(process.stdout.fileno(), pending))
            code = process.wait(timeout=TIMEOUT)
            errors = process.stderr.read().decode().strip().splitlines()
        finally:
            process.kill()
            process.wait()
    assert code == 9, errors
    assert failed["answer"] is None and "boom" in failed["error"] and failed["sources"]
    assert answered_record["query"] == "Who decoded the waggle dance?"
    assert answered_record["answer"] == "Karl von Frisch" and "error" not in answered_record
    assert last["query"] == "How do varroa mites spread?" and "boom" in last["error"] and last["sources"]
    assert len(errors) == 2 and all(line.startswith("ragcli: error:") and "boom" in line for line in errors), errors
