from __future__ import annotations

import json
import re
from pathlib import Path

import typer.main
from clihelpers import invoke, run

from ragcli.cli import app
from ragcli.errors import ExitCode

README = (Path(__file__).parent.parent / "README.md").read_text()
COMMAND_NAMES = ["chat", "evaluate", "index", "info", "plugins", "query", "tune"]


def test_info_json(sample_index: Path) -> None:
    data = json.loads(invoke("info", "--index", str(sample_index), "--json").stdout)
    assert data["documents"] == 28
    assert data["passages"] >= 28
    assert data["retrievers"] == ["bm25", "tfidf"]
    assert data["analyzer"]["language"] == "en"
    assert data["size_bytes"] > 0


def test_info_table_and_verify(sample_index: Path) -> None:
    result = invoke("info", "--index", str(sample_index), "--verify")
    assert result.exit_code == 0
    assert "passages" in result.stdout and "verified" in result.stdout


def test_info_on_a_damaged_index(sample_index: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sample_index, copy)
    (copy / "manifest.json").write_text("garbage")
    result = run("info", "--index", str(copy))
    assert result.returncode == ExitCode.INDEX_DAMAGED
    assert "rebuild" in result.stderr


def test_help_lists_every_command() -> None:
    result = invoke("--help", env={"COLUMNS": "300"})
    for command in ("index", "query", "info"):
        assert command in result.stdout
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    assert sorted(commands) == COMMAND_NAMES
    for name in COMMAND_NAMES:
        summary = commands[name].help.strip().splitlines()[0]
        assert re.search(rf"^│ {name} +{re.escape(summary)}", result.stdout, re.MULTILINE), name  # its row, its summary
        assert f"ragcli {name}" in README, f"README does not document `ragcli {name}`"


def help_row(rows: list[str], name: str) -> str | None:
    """The row of a --help panel that starts with option or argument `name` (after a required '*')."""
    for row in rows:
        words = [w for w in row.split()[1:] if w != "*"]
        if words and words[0].rstrip(".") == name:
            return row
    return None


def test_each_command_help_shows_every_option_with_its_help() -> None:
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        result = invoke(name, "--help", env={"COLUMNS": "300"})  # wide: no option name or help is cut
        assert result.exit_code == 0, result.output
        assert f"Usage: ragcli {name}" in result.stdout
        rows = [line for line in result.stdout.splitlines() if line.startswith("│ ")]
        for param in command.params:
            if getattr(param, "hidden", False):  # a deprecated option still accepted (--skip-invalid)
                assert name in ("index", "evaluate", "tune") and param.opts == ["--skip-invalid"], param.opts
                assert "--skip-invalid" not in result.stdout
                continue
            if param.param_type_name == "option":  # (typer vendors click: no isinstance on click.Option)
                names = [*param.opts, *param.secondary_opts]
                row = help_row(rows, names[0])
                assert row is not None and all(opt in row for opt in names), (name, names, row)
            else:
                row = help_row(rows, param.name)
                assert row is not None, f"{name}: argument {param.name} missing from --help"
            written = param.help.replace("\\[", "[")  # as written, less rich's escape of a literal [
            assert " ".join(written.split()) in " ".join(row.split()), (name, param.name, row)


def test_version() -> None:
    from ragcli import __version__

    assert invoke("--version").stdout.strip() == f"ragcli {__version__}"


def test_info_lists_the_metadata_keys_with_document_counts(sample_index: Path) -> None:
    data = json.loads(invoke("info", "--index", str(sample_index), "--json").stdout)
    assert data["metadata_keys"] == {"path": 28, "format": 28, "size": 28, "mtime": 28}
    table = invoke("info", "--index", str(sample_index)).stdout
    assert "metadata_keys" in table and "format=28" in table
