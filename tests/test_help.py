"""--help is complete and readable in an 80-column terminal: nothing cut, nothing taken for markup, the
defaults, environment variables and configuration files shown (issue 14, item 7)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from clihelpers import invoke, run
from rich.cells import cell_len

from ragcli.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text()
ROOT = typer.main.get_command(app)


def commands(group=ROOT, prefix=()) -> dict[tuple[str, ...], object]:  # type: ignore[no-untyped-def]
    """Every command and group under `group`, by its path of names (("collections", "remove"), …)."""
    found = {}
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        found[(*prefix, name)] = command
        if hasattr(command, "commands"):
            found.update(commands(command, (*prefix, name)))
    return found


COMMANDS = commands()
IDS = [" ".join(path) for path in COMMANDS]


def help_text(*path: str, columns: int = 80) -> str:
    result = invoke(*path, "--help", env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


def flat(text: str) -> str:
    """Help text as one line: wrapping undone (click may break a line after a hyphen)."""
    return re.sub(r"-\s+", "-", " ".join(text.split()))


def test_the_commands_are_the_documented_ones() -> None:
    top = sorted(name for (name, *rest) in COMMANDS if not rest)
    assert top == ["chat", "collections", "config", "evaluate", "index", "info", "plugins", "query", "train", "tune"]
    for path in COMMANDS:
        assert f"ragcli {' '.join(path)}" in README, f"README does not document `ragcli {' '.join(path)}`"


@pytest.mark.parametrize("path", list(COMMANDS), ids=IDS)
def test_help_fits_80_columns_and_shows_every_parameter_whole(path: tuple[str, ...]) -> None:
    text = help_text(*path)
    assert text.startswith(f"Usage: ragcli {' '.join(path)} ")
    too_wide = [line for line in text.splitlines() if cell_len(line) > 80]
    assert not too_wide, too_wide
    assert not re.search(r"\w…", text)  # nothing cut with an ellipsis (Rich's panels cut `--embedding-mod…`)
    assert "\\[" not in text and "<bool>" not in text
    assert not re.search(r"<_\w+>", text)  # a parser's function name is no metavar (--index <_index_folder>)
    rows = flat(text)
    for param in COMMANDS[path].params:  # type: ignore[attr-defined]
        if getattr(param, "hidden", False):  # a deprecated option still accepted (--skip-invalid)
            assert param.opts == ["--skip-invalid"] and "--skip-invalid" not in text
            continue
        if param.param_type_name == "option":
            for name in [*param.opts, *param.secondary_opts]:  # every name whole, e.g. --embedding-batch-size
                assert re.search(rf"(^|[\s,]){re.escape(name)}([\s,]|$)", text, re.MULTILINE), (path, name)
            if param.is_flag:  # a flag takes no value: no metavar after its names
                assert not re.search(rf"{re.escape(param.opts[-1])} <", text), (path, param.opts)
        assert flat(param.help) in rows, (path, param.name)  # its help whole, as written


def arguments(path: tuple[str, ...]) -> list[tuple[str, str]]:
    """A command's arguments: each one's name, and how a usage line should write it (`[NAME]` when
    optional, `NAME...` when repeatable)."""
    found = []
    for param in COMMANDS[path].params:  # type: ignore[attr-defined]
        if param.param_type_name == "argument":
            name = (param.metavar or param.name.upper()).strip("[].")  # a metavar may be written whole: [PATH]...
            shown = (name if param.required else f"[{name}]") + ("..." if param.nargs != 1 else "")
            found.append((name, shown))
    return found


HEADINGS = re.findall(r"^#+ .*`ragcli ([^`]+)`", README, re.MULTILINE)


@pytest.mark.parametrize("heading", HEADINGS)
def test_a_readme_heading_gives_the_usage_help_gives(heading: str) -> None:
    """`### ragcli index PATH...` said a path is needed, while index re-runs with the roots it recorded."""
    words = heading.split()
    path = max((p for p in COMMANDS if tuple(words[: len(p)]) == p), key=len)
    documented = [word for word in words[len(path) :] if not word.startswith("-")]
    assert documented == [shown for _, shown in arguments(path)], heading


@pytest.mark.parametrize("path", list(COMMANDS), ids=IDS)
def test_the_usage_line_names_each_argument_as_the_readme_does(path: tuple[str, ...]) -> None:
    """In capitals, as the README and the command's own help text write it: `train generator` wrote `{data}`."""
    usage = help_text(*path, columns=200).splitlines()[0]
    for name, shown in arguments(path):
        assert re.search(rf"\b{name}\b", usage), (usage, name)
        if shown.endswith("..."):  # several: `index [PATH]...`, as the README's heading writes it
            assert re.search(rf"(^| ){re.escape(shown)}( |$)", usage), (usage, shown)


def test_bracketed_words_are_not_taken_for_markup() -> None:
    query = flat(help_text("query"))
    assert "only [1]-style markers" in query
    assert "{passages} and {question}" in query
    index = flat(help_text("index"))
    assert "(needs ragcli[dense]) [default: keep what the index has]" in index
    assert "[default: 256M]" in index


def test_the_root_help_lists_each_command_with_its_summary_whole() -> None:
    text = help_text()
    for (name, *rest), command in COMMANDS.items():
        if not rest:
            summary = command.get_short_help_str(limit=1000)  # type: ignore[attr-defined]
            assert re.search(rf"^  {name} +{re.escape(summary)}$", text, re.MULTILINE), name
            assert not summary.endswith("...")  # what click makes of a first sentence too long for the row


def test_help_shows_the_environment_and_the_configuration_files() -> None:
    text = help_text()
    for name in ("RAGCLI_INDEX", "RAGCLI_CONFIG", "RAGCLI_DATA_DIR", "RAGCLI_CACHE", "RAGCLI_MODEL", "RAGCLI_BASE_URL"):
        assert re.search(rf"^    {name} ", text, re.MULTILINE), name
    assert "config.toml (or $RAGCLI_CONFIG), then ./.ragcli.toml" in flat(text)
    assert "--install-completion" in text and "ragcli --install-completion" in README
    query = flat(help_text("query"))
    assert "[env var: RAGCLI_MODEL; default:" in query and "[env var: RAGCLI_BASE_URL; default:" in query
    assert "$RAGCLI_INDEX" in query and "configuration file" in query
    assert "[default: -c's collection, else $RAGCLI_INDEX, else the config's collection, else ./.ragcli]" in query


def test_help_names_the_folders_the_environment_variables_set(tmp_path: Path) -> None:
    """Set, they were shown as the variables' names ("Configuration: $RAGCLI_CONFIG (or $RAGCLI_CONFIG)",
    "[$RAGCLI_DATA_DIR]") or not at all (the cache): the help says where things are on this system."""
    env = {name: str(tmp_path / name.lower()) for name in ("RAGCLI_CONFIG", "RAGCLI_DATA_DIR", "RAGCLI_CACHE")}
    text = flat(run("--help", env={"COLUMNS": "200", **env}).stdout)
    assert f"Configuration: {tmp_path / 'ragcli_config'} (or $RAGCLI_CONFIG)" in text
    assert f"[{tmp_path / 'ragcli_data_dir'}]" in text and f"[{tmp_path / 'ragcli_cache'}]" in text


def test_index_help_names_every_field_a_record_is_read_from() -> None:
    from ragcli.readers.records import ID_FIELDS, TEXT_FIELDS, TITLE_FIELDS

    text = flat(help_text("index", columns=200))
    assert f"[default: {', '.join(ID_FIELDS)}]" in text and f"[default: {', '.join(TEXT_FIELDS)}]" in text
    defaults = "/".join(f"`{name}`" for name in ID_FIELDS), "/".join(f"`{name}`" for name in TEXT_FIELDS)
    assert (
        f"| `--id-field`, `--text-field`, `--title-field` | {defaults[0]}, {defaults[1]}, `{TITLE_FIELDS[0]}` |"
        in README
    )


def test_every_environment_variable_is_in_the_help_and_the_readme_table() -> None:
    import ragcli

    source = "\n".join(path.read_text() for path in Path(ragcli.__file__).parent.rglob("*.py"))
    names = sorted(set(re.findall(r"(?<![A-Za-z_])RAGCLI_[A-Z_]+", source)))
    table = README.split("### Environment variables", 1)[1].split("\n#", 1)[0]
    text = help_text()
    assert "RAGCLI_PROGRESS_INTERVAL" in names
    for name in names:
        assert re.search(rf"^\| `{name}` \|", table, re.MULTILINE), name
        assert re.search(rf"^    {name} ", text, re.MULTILINE), name
    assert "| `RAGCLI_DATA_DIR` | ragcli's data folder: collections are kept in its `collections/` folder" in table


@pytest.mark.parametrize("columns, widest", [(80, 80), (160, 100)])
def test_a_real_terminal_width_is_used_up_to_100_columns(columns: int, widest: int) -> None:
    """CliRunner forces click's width to 80: the real command, as a terminal of that many columns runs it."""
    result = run("index", "--help", env={"COLUMNS": str(columns)})
    assert result.returncode == 0
    assert widest - 5 < max(cell_len(line) for line in result.stdout.splitlines()) <= widest


def test_help_shows_the_defaults_a_configuration_file_sets(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('k = 7\nretriever = "tfidf"\n')
    result = invoke("query", "--help", env={"COLUMNS": "80", "RAGCLI_CONFIG": str(config)})
    text = flat(result.stdout)
    assert "How many passages to retrieve. [default: 7; x>=1]" in text
    assert "[default: tfidf]" in text


CONFIGURED = 'model = "my-model"\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "MY_KEY"\ncollection = "notes"\n'
SERVER_DEFAULTS = (
    "[env var: RAGCLI_MODEL; default: google/flan-t5-base (openai: the server's only model)]",
    "[env var: RAGCLI_BASE_URL; default: $OPENAI_BASE_URL, else OpenAI's API]",
    "(never the key itself). [default: OPENAI_API_KEY (a local server needs none)]",
)


@pytest.mark.parametrize("command", ["query", "chat", "evaluate"])
def test_help_shows_the_model_and_server_a_configuration_file_sets(tmp_path: Path, command: str) -> None:
    """Whatever the help says by default, a configured value replaces it: the commands that read these
    keys (query, chat, evaluate) show the file's value."""
    unconfigured = flat(help_text(command))
    assert all(default in unconfigured for default in SERVER_DEFAULTS), unconfigured
    config = tmp_path / "config.toml"
    config.write_text(CONFIGURED)
    result = invoke(command, "--help", env={"COLUMNS": "80", "RAGCLI_CONFIG": str(config)})
    text = flat(result.stdout)
    assert "[env var: RAGCLI_MODEL; default: my-model]" in text
    assert "[env var: RAGCLI_BASE_URL; default: http://127.0.0.1:9/v1]" in text
    assert "(never the key itself). [default: MY_KEY]" in text
    assert not any(default in text for default in SERVER_DEFAULTS), text


WITH_COLLECTION = [path for path, command in COMMANDS.items() if any("-c" in param.opts for param in command.params)]


@pytest.mark.parametrize("path", WITH_COLLECTION, ids=[" ".join(path) for path in WITH_COLLECTION])
def test_help_shows_the_collection_a_configuration_file_sets(tmp_path: Path, path: tuple[str, ...]) -> None:
    assert "[default: notes]" not in flat(help_text(*path))
    config = tmp_path / "config.toml"
    config.write_text(CONFIGURED)
    text = flat(invoke(*path, "--help", env={"COLUMNS": "80", "RAGCLI_CONFIG": str(config)}).stdout)
    assert "`ragcli collections` lists them. [default: notes]" in text or "with -c NAME. [default: notes]" in text


HOSTILE = (
    'model = "\\u001b]0;PWNED\\u0007\\u001b]8;;http://evil\\u0007x"\nretriever = "r\\u001b]2;T\\u0007"\n'
    'collection = "n\\u202eotes"\n'
)


@pytest.mark.parametrize("path", [("query",), ("chat",), ("evaluate",), *WITH_COLLECTION])
def test_help_shows_configured_values_escaped_as_config_show_does(tmp_path: Path, path: tuple[str, ...]) -> None:
    """A `.ragcli.toml` is anyone's file (a cloned repository's): its values are data, and --help must not
    send the escape sequences they hold to the terminal (README, "Security model")."""
    config = tmp_path / "config.toml"
    config.write_text(HOSTILE)
    result = invoke(*path, "--help", env={"COLUMNS": "80", "RAGCLI_CONFIG": str(config)})
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\u202e" not in result.stdout
    text = flat(result.stdout)
    assert "[default: n\\u202eotes]" in text
    if path in (("query",), ("chat",), ("evaluate",)):
        assert "default: \\x1b]0;PWNED\\x07\\x1b]8;;http://evil\\x07x]" in text
        assert "[default: r\\x1b]2;T\\x07]" in text
