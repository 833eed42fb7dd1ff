"""ragcli.config: the user's and the project's TOML files, checked, layered, and turned into defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ragcli.config import KEYS, ShownDefault, effective, load_config, project_config_path, read_layer, user_config_path
from ragcli.errors import ExitCode, InputFormatError, PathNotFoundError


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A user file named by $RAGCLI_CONFIG and a project folder as the current folder."""
    user = tmp_path / "user.toml"
    user.write_text("")
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setenv("RAGCLI_CONFIG", str(user))
    monkeypatch.chdir(project)
    return user, project / ".ragcli.toml"


def test_the_project_file_overrides_the_users(files: tuple[Path, Path]) -> None:
    user, project = files
    user.write_text('generator = "extractive"\nk = 3\nmodel = "user-model"\n')
    project.write_text('k = 8\ncollection = "notes"\n')
    config = load_config()
    assert [layer.kind for layer in config.layers] == ["user config", "project config"]
    assert config.value("k") == (8, config.layers[1])
    assert config.value("generator") == ("extractive", config.layers[0])
    assert config.value("collection")[0] == "notes"
    assert config.value("device") == (None, None)


def test_the_values_become_the_commands_defaults(files: tuple[Path, Path]) -> None:
    user, project = files
    user.write_text('retriever = "hybrid"\nk = 3\nbase_url = "http://127.0.0.1:11434/v1"\n')
    project.write_text('collection = "notes"\n')
    default_map = load_config().default_map()
    answering = {"retriever": "hybrid", "top_k": 3, "base_url": "http://127.0.0.1:11434/v1", "collection": "notes"}
    assert default_map == {
        **{command: answering for command in ("query", "chat", "evaluate")},
        **{command: {"collection": "notes"} for command in ("info", "tune")},
        "train": {"generator": {"collection": "notes"}, "retriever": {"collection": "notes"}},
        "config": {"show": {"collection": "notes"}},
        "index": {"name": "notes"},
    }
    # `collection` is only shown in --help: the index is chosen by ragcli.collections, which ranks -c and
    # $RAGCLI_INDEX above it, so click gets a default that gives the option no value
    shown = default_map["query"]["collection"]
    assert isinstance(shown, ShownDefault) and shown() is None and default_map["query"]["top_k"] == 3


def test_no_files_set_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAGCLI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    config = load_config()
    assert user_config_path() == tmp_path / "xdg" / "ragcli" / "config.toml"
    assert project_config_path() == Path(".ragcli.toml")
    assert [layer.exists for layer in config.layers] == [False, False]
    assert config.default_map() == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ('modle = "x"\n', "unknown key 'modle'"),
        ('k = "5"\n', "key 'k' must be an integer, not str '5'"),
        ("k = true\n", "key 'k' must be an integer, not bool True"),
        ("k = 0\n", "key 'k' must be at least 1, not 0"),
        ("generator = 3\n", "key 'generator' must be a string, not int 3"),
        ('model = "  "\n', "key 'model' is empty"),
        ("[query]\nk = 3\n", "unknown key 'query'"),
        ("k = [\n", "not valid TOML"),
        # read from the current folder: a cloned repository's file made every command print a traceback
        ("a = " + "[" * 2000 + "1" + "]" * 2000 + "\n", "not valid TOML: arrays or tables nested too deeply"),
        ("a = " + "{x = " * 2000 + "1" + "}" * 2000 + "\n", "not valid TOML: arrays or tables nested too deeply"),
        (b"model = 'caf\xe9'\n", "cannot be read (not UTF-8 text)"),
    ],
)
def test_a_bad_file_is_one_error_naming_the_file_and_key(tmp_path: Path, text: str | bytes, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(InputFormatError) as caught:
        read_layer("user config", path)
    assert str(caught.value).startswith(f"{path}: {message}")
    assert caught.value.exit_code == ExitCode.BAD_INPUT


def test_a_file_named_by_the_variable_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGCLI_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(PathNotFoundError, match=r"missing\.toml: no such configuration file"):
        load_config()
    monkeypatch.setenv("RAGCLI_CONFIG", str(tmp_path))  # a folder is never read as a file
    with pytest.raises(InputFormatError, match="not a regular file"):
        load_config()


def test_dev_null_is_an_empty_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RAGCLI_CONFIG=/dev/null is the usual way to say "no configuration"; other devices stay refused."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAGCLI_CONFIG", os.devnull)
    config = load_config()
    assert config.layers[0].path == Path(os.devnull) and config.layers[0].values == {}
    assert config.default_map() == {}
    monkeypatch.setenv("RAGCLI_CONFIG", "/dev/zero")
    with pytest.raises(InputFormatError, match="not a regular file"):
        load_config()


def test_a_missing_project_file_is_no_error(files: tuple[Path, Path]) -> None:
    assert not load_config().layers[1].exists


def test_effective_values_say_where_each_came_from(files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    user, project = files
    user.write_text('model = "user-model"\nk = 3\ngenerator = "openai"\n')
    project.write_text('generator = "extractive"\n')
    defaults = {"k": 5, "generator": "auto", "model": None, "retriever": "bm25"}
    envvars = {"model": "RAGCLI_MODEL"}
    monkeypatch.setenv("RAGCLI_MODEL", "env-model")
    shown = {s.key: (s.value, s.source) for s in effective(load_config(), defaults, envvars, {})}
    assert list(shown) == list(KEYS)
    assert shown["model"] == ("env-model", "env RAGCLI_MODEL")  # the variable over both files
    assert shown["generator"] == ("extractive", "project config")  # the project's over the user's
    assert shown["k"] == (3, "user config")
    assert shown["retriever"] == ("bm25", "default")
    monkeypatch.delenv("RAGCLI_MODEL")
    assert effective(load_config(), defaults, envvars, {})[KEYS_INDEX["model"]].source == "user config"


KEYS_INDEX = {name: i for i, name in enumerate(KEYS)}


def test_a_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    """A file saved with a BOM was "not valid TOML … line 1, column 1", with no hint why."""
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbfk = 3\n")
    assert read_layer("user config", path).values == {"k": 3}
