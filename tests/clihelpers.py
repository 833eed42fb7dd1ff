"""Running the CLI in-process (typer's CliRunner) and as a real `ragcli` subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def without_root_powers() -> list[str]:
    """A command prefix under which permissions apply (root ignores them): setpriv without the
    capabilities that override file permissions."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]
