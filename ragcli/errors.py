"""Error types and the exit codes the CLI maps them to.

Every failure a user can cause or meet has its own type and its own documented exit code, so scripts
can tell "no index yet" from "bad input file" without parsing messages. The README lists them.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import IntEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

T = TypeVar("T")

# the connection parameters that are secrets (libpq's; `passfile`, `sslkey`… are paths, not secrets),
# never shown or stored: as a URL's query parameters, or in a driver's connection string
SECRET_PARAMETERS = ("password", "sslpassword", "oauth_client_secret")
# a URL's `user:password@` (also once a path normalised `scheme://` to `scheme:/`): up to the last `@`
# of the word, since SQLAlchemy takes a password up to an `@` and a password may hold `/` or `@`; a user
# name may hold an `@` too (`me@server:pw@host`, as SQLAlchemy parses it); after any scheme-like word
# (`postgresql+psycopg_async`, or one no URL has, `1pg`, in a path's error)
_URL_PASSWORD_RE = re.compile(r"\b(\w[\w+.-]*:/{1,3}[^/:\s]*):\S*@", re.IGNORECASE)
# `password=…` (query string or libpq connection string, quoted or not)
_SECRET_PARAMETER_RE = re.compile(
    r"\b(" + "|".join(SECRET_PARAMETERS) + r")\s*=\s*(?:'(?:[^'\\]|\\.)*'|\"[^\"]*\"|[^\s&'\"]+)"
)


def mask_secrets(text: str) -> str:
    """`text` (a message, a URL) without a URL's password (`scheme://user@…`) and with each secret
    connection parameter's value `***` (`sslpassword=***`). Only where the text is a password by its
    place, never every occurrence of the password's text: a password `port` must not make a message
    "connection to server at "127.0.0.1", *** 1 failed". The one masking function: the SQL reader's
    messages and every error the CLI prints go through it."""
    return _SECRET_PARAMETER_RE.sub(r"\1=***", _URL_PASSWORD_RE.sub(r"\1@", text))


def shown_url(url: str) -> str:
    """A server's URL as it may be printed: without a user name or password, a query string or a
    fragment (where keys go: `?api_key=…`); a URL too malformed to split loses whatever stands before
    an @. Error messages and `ragcli config show` print a server's URL through it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/]*@", "//", url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


# a conventional environment variable's name: one case, and words of letters, each perhaps ending in
# digits (OPENAI_API_KEY, groq_key2), at most 40 characters; anything else may be a key given in its place
_VARIABLE_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
_VARIABLE_WORD_RE = re.compile(r"[A-Za-z]*[0-9]*")


def looks_like_a_variable_name(text: str) -> bool:
    """Whether `text`, given as a variable's name (--api-key-env), may be printed: a conventional name,
    not a key pasted in its place (`gsk_8fJk2LmQ9…`, 32 hex digits). Errs on the side of not printing:
    an unusual but real name (`MyKey`, `K8S_TOKEN`) is not shown either."""
    return (
        _VARIABLE_NAME_RE.fullmatch(text) is not None
        and text in (text.upper(), text.lower())
        and all(_VARIABLE_WORD_RE.fullmatch(word) for word in text.split("_"))
    )


class ExitCode(IntEnum):
    """Process exit codes (documented in README.md, "Exit codes")."""

    OK = 0
    FAILURE = 1  # an unexpected internal error (a bug: please report it)
    USAGE = 2  # bad command-line usage (typer/click's own code)
    NO_INDEX = 3
    PATH_NOT_FOUND = 4
    EMPTY_CORPUS = 5
    BAD_INPUT = 6  # malformed JSON/JSONL/CSV/qa file content
    INDEX_DAMAGED = 7
    INDEX_VERSION = 8
    MODEL_UNAVAILABLE = 9
    INDEX_LOCKED = 10
    MISSING_EXTRA = 11
    WRITE_FAILED = 12  # the index (or a cached model) could not be written (disk full, permissions); the old one stays
    CLUSTER_FAILED = 13  # --ray: the cluster cannot be reached, or lost a task beyond its retries; the old index stays
    OUT_OF_MEMORY = 14  # memory ran out (an allocation failed, or the system killed a worker); the old index stays
    PLUGIN_FAILED = 15  # a third-party reader, retriever or generator cannot be loaded, raised or returned nonsense
    INTERRUPTED = 130  # Ctrl-C (SIGINT)
    TERMINATED = 143  # SIGTERM (kill, timeout, a CI job cancelled): 128 + 15, as a shell reports it


class RagcliError(Exception):
    """Base class: a message meant for the user plus the exit code to leave with."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, hint: str | None = None, value: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # the one value the error refuses, where it is about one (a retriever's name, a model): the CLI
        # says which configuration file set it, when one did
        self.value = value

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class NoIndexError(RagcliError):
    exit_code = ExitCode.NO_INDEX


class PathNotFoundError(RagcliError):
    exit_code = ExitCode.PATH_NOT_FOUND


class EmptyCorpusError(RagcliError):
    exit_code = ExitCode.EMPTY_CORPUS

    def __init__(self, message: str, *, hint: str | None = None, skipped: Sequence[Any] = ()) -> None:
        super().__init__(message, hint=hint)
        self.skipped = list(skipped)  # what was left out (records.Skipped), listed by `ragcli index -v`

    ALL_LISTED = "; --verbose lists them all"  # ends the hint where more were skipped than it names

    def listed(self) -> None:
        """Every skipped file was listed (`-v`): the hint no longer points to what was just done."""
        self.hint = self.hint.replace(self.ALL_LISTED, "") if self.hint else self.hint


class InputFormatError(RagcliError):
    """Bad content in a user's input file; the message names file and line."""

    exit_code = ExitCode.BAD_INPUT


class IndexDamagedError(RagcliError):
    exit_code = ExitCode.INDEX_DAMAGED


class IndexVersionError(RagcliError):
    exit_code = ExitCode.INDEX_VERSION


class NewerIndexError(IndexVersionError):
    """An index a newer ragcli wrote (a higher format version): never read, and never built over unless
    --rebuild asks, since an older format written over it would lose what the newer ragcli recorded."""


class IndexWriteError(RagcliError):
    exit_code = ExitCode.WRITE_FAILED


class OutputWriteError(RagcliError):
    """An output file (`evaluate --per-query`, `--run-file`, `--plot`) or stdout could not be written."""

    exit_code = ExitCode.WRITE_FAILED


class RagcliWarning(UserWarning):
    """Something the user should know that does not stop the run (the CLI prints it as one line)."""


class ModelUnavailableError(RagcliError):
    exit_code = ExitCode.MODEL_UNAVAILABLE


class IndexLockedError(RagcliError):
    exit_code = ExitCode.INDEX_LOCKED


class MissingExtraError(RagcliError):
    exit_code = ExitCode.MISSING_EXTRA


class InterruptedBuildError(RagcliError):
    """Ctrl-C during a build: what was kept (embedded vectors) and how to go on, exit 130."""

    exit_code = ExitCode.INTERRUPTED


class ClusterError(RagcliError):
    """A build on a Ray cluster (`--ray`) could not join it or lost a task beyond its retries."""

    exit_code = ExitCode.CLUSTER_FAILED


class OutOfMemoryError(RagcliError):
    """Memory ran out: not a bug in ragcli, and not the user's input being wrong, so a code of its own
    that a script can retry on with fewer workers or on a larger machine."""

    exit_code = ExitCode.OUT_OF_MEMORY


class PluginError(RagcliError):
    """A third-party part (a plugin's reader, retriever or generator) failed: a bug for its author, not
    for ragcli's, so it is named with its distribution and kept apart from exit 1 ("internal error")."""

    exit_code = ExitCode.PLUGIN_FAILED


class InvalidOptionError(RagcliError):
    """A value the CLI's types accept but the library cannot use (e.g. an unknown language)."""

    exit_code = ExitCode.USAGE


def unknown_choice(kind: str, value: str, choices: list[str] | tuple[str, ...]) -> InvalidOptionError:
    """The usage error for a value that is not one of `choices`: names the closest one (difflib), so a
    typo (`-g extractiv`) is answered with the fix, and lists them all."""
    from difflib import get_close_matches

    close = get_close_matches(value, list(choices), n=1, cutoff=0.6)
    suggestion = f"; did you mean {close[0]!r}?" if close else ""
    return InvalidOptionError(
        f"unknown {kind} {value!r}{suggestion}", hint=f"choose one of {', '.join(choices)}", value=value
    )


def listed(
    values: object, what: str, item: str, kind: type[T] | tuple[type[T], ...], hint: str | None = None
) -> list[T]:
    """`values` as a list of `kind`, for the Python API: any iterable (a generator too) is read once.
    One string is refused rather than taken letter by letter (`answer_many("waggle dance")` was twelve
    questions, `paths="*.md"` four globs, one of them `*`), and so is anything that is no list (None, a
    number); `what` names the list ("questions"), `item` one of its entries ("a question"); `hint` is for
    the list refused (how to write one); `kind` may be a tuple of types, as for `isinstance`."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        given = "one string" if isinstance(values, (str, bytes)) else type(values).__name__
        raise InvalidOptionError(f"a list of {what} is needed, not {given}", hint=hint)
    items = list(values)
    for value in items:
        if not isinstance(value, kind):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            noun = "text" if kind is str else " or ".join(f"a {k.__name__}" for k in kinds)
            raise InvalidOptionError(f"{item} must be {noun}, not {type(value).__name__}")
    return items


class ForeignFolderError(InvalidOptionError):
    """`--index` names a folder ragcli did not make an index (not empty, no ragcli marker or manifest):
    ragcli refuses to write into it, and touches nothing there (exit 2, like any unusable option value)."""


def look_up(
    path: Path, error: type[RagcliError], *, follow: bool = True, loop: type[RagcliError] | None = None
) -> os.stat_result | None:
    """`path`'s stat (its lstat where not `follow`), or None where nothing is there. A path that cannot
    be looked at (a folder above it that may not be searched, a name too long) is `error`, one line naming
    the path: `Path.exists` raises the OSError there, which was an internal error or a traceback. Here,
    below every module that asks (the configuration's files, the roots, an index folder). A symbolic link
    loop is `loop` where given: a path that must be there leads nowhere, as a missing one does."""
    try:
        return os.stat(path, follow_symlinks=follow)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise (loop or error)(f"{path}: symbolic link loop", hint="check the path") from None
        denied = exc.errno in (errno.EACCES, errno.EPERM)
        hint = "check the permissions of the folders above it" if denied else None
        raise error(f"{path}: cannot be reached ({exc.strerror or exc})", hint=hint) from None
