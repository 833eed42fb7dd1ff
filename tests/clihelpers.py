"""Running the CLI in-process (typer's CliRunner) and as a real `ragcli` subprocess."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragcli.cli import app

RAGCLI = str(Path(sys.executable).parent / "ragcli")


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), input=input, env=env)


def run(
    *args: str,
    input: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [RAGCLI, *args], input=input, capture_output=True, text=True, cwd=cwd, env=full_env, timeout=timeout
    )


def run_closed(args: list[str], closed: str) -> subprocess.CompletedProcess:
    """`ragcli ARGS` with its stdin (`<&-`) or stdout (`>&-`) closed, as a shell closes them: Python
    then leaves sys.stdin / sys.stdout None."""
    return subprocess.run(
        ["sh", "-c", f'exec "$0" "$@" {closed}', RAGCLI, *args], capture_output=True, text=True, timeout=120
    )


def without_root_powers() -> list[str]:
    """A command prefix under which permissions apply (root ignores them): setpriv without the
    capabilities that override file permissions."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]


def run_in_terminal(*args: str, env: dict[str, str] | None = None, until=None, then=None):  # type: ignore[no-untyped-def]
    """Run `ragcli ARGS` with its stdout on a pseudo-terminal (as in a person's shell); once `until()`
    is true, call `then()`. Returns (exit code, terminal output, stderr)."""
    leader, follower = pty.openpty()
    full_env = {**os.environ, "COLUMNS": "100", "TERM": "xterm", **(env or {})}
    process = subprocess.Popen([RAGCLI, *args], stdout=follower, stderr=subprocess.PIPE, env=full_env)
    os.close(follower)
    output = b""
    fired = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
        if until is not None and not fired and until():
            fired = True
            then()
    os.close(leader)
    code = process.wait(timeout=60)
    stderr = process.stderr.read().decode() if process.stderr else ""
    return code, output.decode("utf-8", "replace"), stderr
