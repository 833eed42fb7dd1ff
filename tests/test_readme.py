"""The README documents every command and every option (as sqlite-utils checks its docs)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from ragcli.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text()
GROUPS = typer.main.get_command(app).commands  # type: ignore[attr-defined]
# a sub-app's commands (`ragcli train generator`) count as commands of their own
COMMANDS = {
    f"{name} {sub}" if hasattr(command, "commands") else name: subcommand
    for name, command in GROUPS.items()
    for sub, subcommand in (command.commands.items() if hasattr(command, "commands") else [(name, command)])
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_and_option_is_in_the_readme(name: str) -> None:
    assert f"ragcli {name}" in README
    options = [param for param in COMMANDS[name].params if param.param_type_name == "option"]
    assert options  # typer vendors its own click: `isinstance(param, click.Option)` matched nothing
    for param in options:
        assert any(opt in README for opt in [*param.opts, *param.secondary_opts]), f"{name}: {param.opts} undocumented"


def test_readme_has_the_two_setup_commands() -> None:
    assert "make demo" in README and "make test" in README
    assert "make test" in (Path(__file__).parent.parent / ".ci" / "run").read_text()
