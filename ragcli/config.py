"""The configuration files: defaults a person sets once instead of repeating options on every command.

Two TOML files, both optional: the user's (`config.toml` in platformdirs' user config folder, or the
file `$RAGCLI_CONFIG` names) and the project's (`.ragcli.toml` in the current folder). The project's
values override the user's; environment variables and command-line options override both (the CLI
applies the values as click's `default_map`, below which click ranks options and `envvar`s). A project's
file comes with whatever folder one works in (a cloned repository), so the keys that choose where
questions, passages and keys are sent (`base_url`, `api_key_env`, and `generator = "openai"`) are taken
from the user's file only.

Every key is checked here, before any command runs: an unknown key or a value of the wrong type is
one line naming the file and the key (exit 6), never a traceback or an option error that was not typed.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragcli.errors import InputFormatError, PathNotFoundError, look_up, looks_like_a_variable_name, shown_url

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (tomli is a dependency there)
    import tomli as tomllib

CONFIG_ENV = "RAGCLI_CONFIG"
DATA_DIR_ENV = "RAGCLI_DATA_DIR"
PROJECT_FILE = ".ragcli.toml"
# variables other tools read too, ranked below the files (the command's own variable ranks above them)
BELOW_THE_FILES = {"base_url": "OPENAI_BASE_URL"}
USER, PROJECT = "user config", "project config"  # Layer.kind


class ShownDefault(str):
    """A default whose text --help shows and whose `value` it gives the parameter: click calls a callable
    default for the value and prints its text. Without a value it says what a command works out itself
    when nothing is given (the generator's model, the server, the configuration's collection, which
    ranks below $RAGCLI_INDEX: ragcli.collections); with one it is a configured value, shown escaped."""

    value: Any

    def __new__(cls, text: str, value: Any = None) -> ShownDefault:
        shown = super().__new__(cls, text)
        shown.value = value
        return shown

    def __call__(self) -> Any:
        return self.value


@dataclass(frozen=True)
class Key:
    """A configuration key: its type, what it means, and the command parameters it sets."""

    type: type
    help: str
    params: Mapping[str, str]  # command ("config show" for a subcommand) → parameter name
    minimum: int | None = None
    only_shown: bool = False  # the parameters' help shows the value; the command finds it itself
    # what the key decides that a project's file (a cloned repository's) must not: set, the key is
    # honoured only from the user's own file, the environment and options
    not_from_a_project: str | None = None
    # where only some values decide it: the values a project's file may not set (the others it may)
    untrusted_values: frozenset[str] | None = None
    # what of a value may be printed (`config show`, --help's default): a server's URL without its password
    printable: Callable[[str], str] | None = None

    def shown(self, value: Any) -> Any:
        """`value` as `config show` and --help print it."""
        return self.printable(value) if self.printable is not None and isinstance(value, str) else value

    def trusted_from_a_project(self, value: Any) -> bool:
        """Whether a project's file may set the key to `value`."""
        if self.not_from_a_project is None:
            return True
        return self.untrusted_values is not None and str(value).strip().lower() not in self.untrusted_values


_ANSWERING = ("query", "chat", "evaluate")  # the commands that retrieve and answer
_READING_AN_INDEX = ("query", "chat", "info", "evaluate", "tune", "train generator", "train retriever", "config show")
KEYS: dict[str, Key] = {
    "collection": Key(
        str,
        "the collection used when no --index, -c or $RAGCLI_INDEX is given",
        {**dict.fromkeys(_READING_AN_INDEX, "collection"), "index": "name"},
        only_shown=True,  # ragcli.collections ranks -c and $RAGCLI_INDEX above it
    ),
    "retriever": Key(str, "the retriever (-r)", dict.fromkeys(_ANSWERING, "retriever")),
    "k": Key(
        int, "passages retrieved and given to the generator (-k / --top-k)", dict.fromkeys(_ANSWERING, "top_k"), 1
    ),
    "generator": Key(
        str,
        "the generator (-g)",
        dict.fromkeys(_ANSWERING, "generator"),
        # with no server of the user's, `openai` sends the passages to OpenAI's API with $OPENAI_API_KEY
        not_from_a_project="whether questions and passages are sent to a server (generator 'openai')",
        untrusted_values=frozenset({"openai"}),
    ),
    "model": Key(str, "the generator's model (-m)", dict.fromkeys(_ANSWERING, "model")),
    "base_url": Key(
        str,
        "an OpenAI-compatible server (--base-url)",
        dict.fromkeys(_ANSWERING, "base_url"),
        not_from_a_project="where questions, passages and the API key are sent",
        printable=shown_url,
    ),
    "api_key_env": Key(
        str,
        "the variable holding the API key (--api-key-env)",
        dict.fromkeys(_ANSWERING, "api_key_env"),
        not_from_a_project="which secret is read and sent to the server",
        printable=lambda name: name if looks_like_a_variable_name(name) else "*** (not shown: perhaps a key)",
    ),
    "device": Key(str, "auto, cpu, cuda or mps (--device)", dict.fromkeys(_ANSWERING, "device")),
    "answer_style": Key(str, "short, sentence or long (--answer-style)", dict.fromkeys(_ANSWERING, "answer_style")),
}


def user_config_path() -> Path:
    """$RAGCLI_CONFIG, else `config.toml` in the user's config folder (platformdirs)."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        return Path(named).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("ragcli", appauthor=False)) / "config.toml"


def absolute(path: Path) -> Path:
    """`path` from the root; as it is where the current folder was deleted (`Path.absolute` asks for it):
    what uses it then says it is not there, rather than ragcli failing on the question."""
    try:
        return path.absolute()
    except OSError:
        return path


def data_dir() -> Path:
    """$RAGCLI_DATA_DIR, else the user's data folder (platformdirs: ~/.local/share/ragcli on Linux),
    where collections are kept (ragcli.collections). A relative $RAGCLI_DATA_DIR is made absolute against
    the current folder, so that every message and listing says where the collections are looked for."""
    named = os.environ.get(DATA_DIR_ENV)
    if named:
        return absolute(Path(named).expanduser())
    from platformdirs import user_data_dir

    return Path(user_data_dir("ragcli", appauthor=False))


def project_config_path() -> Path:
    """`.ragcli.toml` in the current folder (only there: a parent folder's file is not looked for)."""
    return Path(PROJECT_FILE)


@dataclass(frozen=True)
class Layer:
    """One configuration file: where it is, whether it exists, and the values it sets."""

    kind: str  # "user config" or "project config"
    path: Path
    exists: bool
    values: dict[str, Any] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()  # keys the file sets that are not taken from it (Key.not_from_a_project)

    def absolute(self) -> Path:
        """The path from the root, for `config show` (`absolute`)."""
        return absolute(self.path)


@dataclass(frozen=True)
class Config:
    """The user's and the project's files, lowest precedence first."""

    layers: tuple[Layer, ...]

    def warnings(self) -> list[str]:
        """One line per key a project's file sets but is not trusted with: the file is still used, so
        the person should know which of its lines are not."""
        user = next((layer.path for layer in self.layers if layer.kind == USER), user_config_path())
        lines = []
        for layer in self.layers:
            for name in layer.ignored:
                option = "--" + name.replace("_", "-")
                lines.append(
                    f"{layer.path}: key {name!r} ignored: a project's file does not choose "
                    f"{KEYS[name].not_from_a_project} (set it in {user} or pass {option})"
                )
        return lines

    def value(self, key: str) -> tuple[Any, Layer | None]:
        """The value of `key` and the file it came from (the project's wins), or (None, None)."""
        for layer in reversed(self.layers):
            if key in layer.values:
                return layer.values[key], layer
        return None, None

    def setting(self, command: str, param: str) -> tuple[str, Layer] | None:
        """The key that sets parameter `param` of `command` ("query", "train generator") and the file
        that set it, or None where no file sets it: an error about the value can name both."""
        for name, key in KEYS.items():
            if key.params.get(command) == param:
                layer = self.value(name)[1]
                return None if layer is None else (name, layer)
        return None

    def default_map(self, shown: Callable[[str], str] = str) -> dict[str, Any]:
        """click's `default_map`: command → parameter → value (group → command → … for a subcommand), for
        every key set in a file. A string is a `ShownDefault` whose text is `shown(value)`: --help prints
        a default as it is, and a file's value may hold escape sequences (the CLI passes the renderer's
        escaping, as `config show` prints the value)."""
        commands: dict[str, Any] = {}
        for name, key in KEYS.items():
            value, layer = self.value(name)
            if layer is None:
                continue
            if isinstance(value, str):
                value = ShownDefault(shown(key.shown(value)), None if key.only_shown else value)
            for command, param in key.params.items():
                defaults = commands
                for word in command.split():
                    defaults = defaults.setdefault(word, {})
                defaults[param] = value
        return commands


def _check(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    for name, value in data.items():
        key = KEYS.get(name)
        if key is None:
            raise InputFormatError(
                f"{path}: unknown key {name!r}", hint=f"the keys are {', '.join(KEYS)}; `ragcli config show` lists them"
            )
        # bool is an int in Python, but `k = true` is a mistake, not 1
        if not isinstance(value, key.type) or (key.type is int and isinstance(value, bool)):
            raise InputFormatError(
                f"{path}: key {name!r} must be {'an integer' if key.type is int else 'a string'}, "
                f"not {type(value).__name__} {value!r}",
                hint=f"{name} is {key.help}",
            )
        if key.minimum is not None and isinstance(value, int) and value < key.minimum:
            raise InputFormatError(f"{path}: key {name!r} must be at least {key.minimum}, not {value!r}")
        if isinstance(value, str) and not value.strip():
            raise InputFormatError(f"{path}: key {name!r} is empty", hint="remove the line to use the default")
    return data


def read_layer(kind: str, path: Path, *, required: bool = False) -> Layer:
    """One file's values, checked; a missing file sets nothing (unless `required`: $RAGCLI_CONFIG named it)."""
    found = look_up(path, InputFormatError, loop=PathNotFoundError if required else None)
    if found is None:
        if required:
            raise PathNotFoundError(
                f"{path}: no such configuration file (named by ${CONFIG_ENV})", hint=f"create it, or unset {CONFIG_ENV}"
            )
        return Layer(kind, path, False)
    if path == Path(os.devnull):  # RAGCLI_CONFIG=/dev/null: the usual way to say "no configuration"
        return Layer(kind, path, True)
    if not stat.S_ISREG(found.st_mode):  # a folder, a FIFO (reading it would block), a device: never opened
        raise InputFormatError(f"{path}: not a regular file, so not a configuration file")
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark (Notepad's) is no TOML error
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputFormatError(f"{path}: cannot be read ({reason})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFormatError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively: "a = [[[[…" 1,000 deep
        raise InputFormatError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    return Layer(kind, path, True, _check(path, data))


def load_config() -> Config:
    """The user's file, then the project's (which overrides it, but for the keys it is not trusted with).
    A project's file that $RAGCLI_CONFIG names is the user's own, read once as such: read twice, its
    `base_url` was both used and "ignored"."""
    user = read_layer(USER, user_config_path(), required=bool(os.environ.get(CONFIG_ENV)))
    project = project_config_path()
    if user.exists and _same_file(user.path, project):
        return Config((user, Layer(PROJECT, project, True)))
    return Config((user, _trusted_part(read_layer(PROJECT, project))))


def _same_file(path: Path, other: Path) -> bool:
    try:
        return path.samefile(other)
    except OSError:  # one of them is not there (or cannot be looked at: read_layer says so)
        return False


def _trusted_part(layer: Layer) -> Layer:
    """A project's file without the keys that choose where data and secrets go: a cloned repository's
    `.ragcli.toml` would otherwise send the user's passages, and any variable it names, to its server."""
    ignored = tuple(name for name, value in layer.values.items() if not KEYS[name].trusted_from_a_project(value))
    kept = {name: value for name, value in layer.values.items() if name not in ignored}
    return Layer(layer.kind, layer.path, layer.exists, kept, ignored)


@dataclass(frozen=True)
class Setting:
    """One key's effective value and where it came from, for `ragcli config show`."""

    key: str
    value: Any
    source: str  # "default", "user config", "project config" or "env NAME"

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value, "source": self.source}


def effective(
    config: Config, defaults: Mapping[str, Any], envvars: Mapping[str, str], found: Mapping[str, Setting]
) -> list[Setting]:
    """Each key's value as a command would use it, as it may be printed (a server's URL without its
    password or key): an environment variable (`envvars`: key → name) over the project's file over the
    user's over another tool's variable (`BELOW_THE_FILES`) over the command's own default (`defaults`).
    A key the command works out itself (`Key.only_shown`: the collection, below -c and $RAGCLI_INDEX) is
    as `found` gives it, where it gives it."""
    settings = []
    for name, key in KEYS.items():
        if name in found:
            settings.append(found[name])
            continue
        env = envvars.get(name)
        if env and os.environ.get(env):
            settings.append(Setting(name, key.shown(os.environ[env]), f"env {env}"))
            continue
        value, layer = config.value(name)
        below = BELOW_THE_FILES.get(name)
        if layer is not None:
            settings.append(Setting(name, key.shown(value), layer.kind))
        elif below and os.environ.get(below):
            settings.append(Setting(name, key.shown(os.environ[below]), f"env {below}"))
        else:
            settings.append(Setting(name, key.shown(defaults.get(name)), "default"))
    return settings
