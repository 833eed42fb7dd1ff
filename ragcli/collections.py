"""Collections: named indexes kept in the user's data folder, and which index folder a command uses.

`ragcli index ./docs --name docs` builds `<data folder>/collections/docs`; `-c docs` on any command that
takes `--index` opens it. The data folder is platformdirs' user data folder for "ragcli", or
`$RAGCLI_DATA_DIR` (so that tests and scripts never touch the real one).

Which index a command uses, first match wins: `--index DIR`, `-c NAME`, `$RAGCLI_INDEX`, the
configuration's `collection`, `./.ragcli`. The choice remembers what named it, so that a message can
say how to change it (`omit --index`, `unset RAGCLI_INDEX`, …).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragcli.config import DATA_DIR_ENV, Config, Setting, data_dir, load_config
from ragcli.errors import (
    ForeignFolderError,
    IndexDamagedError,
    IndexWriteError,
    InvalidOptionError,
    NoIndexError,
    RagcliError,
    look_up,
)
from ragcli.indexdir import MANIFEST, holds_foreign_files, is_ragcli_index, remove_index
from ragcli.store import DEFAULT_INDEX_DIR, index_size, read_manifest

INDEX_ENV = "RAGCLI_INDEX"
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # fullmatch: "$" let a final newline through


def _someone_elses(path: Path) -> tuple[str, str]:
    """What is at a collection's `path` that is someone's (`holds_foreign_files`), and what to do: a
    build there is refused, so a hint names other names, whether a folder of files or a file is there."""
    if path.is_dir():
        return "holds files and is not a ragcli index", "choose another name, or move the folder"
    return "is a file, not a ragcli index", "choose another name, or move the file"


def collections_dir() -> Path:
    return data_dir() / "collections"


def _usable_collections_dir() -> Path:
    """`collections_dir()`, refused where it or the data folder is there but no folder (a file that
    $RAGCLI_DATA_DIR names): the line names the data folder, rather than a failure further on that
    points at a path to index or at --index."""
    folder = collections_dir()
    for path in (folder.parent, folder):
        try:
            found = path.stat()
        except OSError:  # not there yet, or not to be searched: what needs it says so, with its exit code
            return folder
        if not stat.S_ISDIR(found.st_mode):
            raise _data_folder_error(path, "is not a folder")
    return folder


def data_folder_problem() -> IndexWriteError | None:
    """Why no collection can be kept in the data folder (it, or its `collections`, is no folder), or
    None: for `config show` to warn about where the index it shows is no collection, so none checked."""
    try:
        _usable_collections_dir()
    except IndexWriteError as exc:
        return exc
    return None


def _data_folder_error(path: Path, problem: str) -> IndexWriteError:
    named = os.environ.get(DATA_DIR_ENV)
    where = f" (${DATA_DIR_ENV})" if named and path == data_dir() else ""
    return IndexWriteError(
        f"{path}{where} {problem}: the collections are kept there",
        hint=f"point ${DATA_DIR_ENV} at a folder you may read and write" if named else "move it away",
    )


def check_name(name: str, option: str = "-c/--collection") -> str:
    """A collection name is one folder name: letters, digits, '.', '_', '-'; no separator, no '..'."""
    if not _NAME_RE.fullmatch(name) or ".." in name:
        raise InvalidOptionError(
            f"{option}: {name!r} is not a collection name",
            hint="use up to 64 letters, digits, '.', '_' and '-', starting with a letter or digit (no '/', no '..')",
        )
    return name


def collection_path(name: str, option: str = "-c/--collection") -> Path:
    return _usable_collections_dir() / check_name(name, option)


@dataclass(frozen=True)
class IndexChoice:
    """The index folder a command uses, and what named it."""

    path: Path
    origin: str  # "option", "collection", "env", "config" or "default"
    name: str | None = None  # the collection's name (origin collection or config)
    named_by: str = ""  # what named it: "--index", "-c", "RAGCLI_INDEX", the configuration file
    source: str = "default"  # for `ragcli config show`: "option --index", "env RAGCLI_INDEX", "user config", …

    @property
    def omit(self) -> str:
        """How to stop naming this folder (for hints such as "… to use a cached index")."""
        if self.origin == "env":
            return f"unset {INDEX_ENV}"
        if self.origin == "config":
            return f"remove `collection` from {self.named_by}"
        return f"omit {self.named_by}"

    @property
    def chosen_by(self) -> str:
        """The index as an error about it names it when this command line did not ("" when it did, or
        for ./.ragcli): a build sent to a configured collection says so, and why."""
        if self.origin == "config":
            return f"collection {self.name!r} (key 'collection' of {self.named_by})"
        if self.origin == "env":
            return f"the index {self.path} (${INDEX_ENV})"
        return ""

    def require(self) -> IndexChoice:
        """For a command that reads the index: a collection, or a folder $RAGCLI_INDEX names, that holds
        no index is exit 3, saying what chose it (a stale variable in a service's environment)."""
        if self.origin == "env" and look_up(self.path / MANIFEST, IndexDamagedError, follow=False) is None:
            raise NoIndexError(
                f"no index found in {self.path} (${INDEX_ENV})",
                hint=f"build one there with `ragcli index PATH`, or {self.omit}",
            )
        if self.name is not None and look_up(self.path / MANIFEST, IndexDamagedError) is None:
            # a configured collection: the line names the file and the key, as resolve_index's own does
            where = f"{self.named_by}: key 'collection': " if self.origin == "config" else ""
            fix = (
                "{} {}: {}".format(self.path, *_someone_elses(self.path))
                if holds_foreign_files(self.path)
                else f"build it with `ragcli index PATH --name {self.name}`"
            )
            raise NoIndexError(
                f"{where}no collection named {self.name!r} (in {collections_dir()})",
                hint=f"{fix}; `ragcli collections` lists them",
            )
        return self

    def for_building(self) -> IndexChoice:
        """For `ragcli index`: a folder of someone's files that a collection name, $RAGCLI_INDEX or the
        configuration chose is refused (exit 2) saying what chose it, with a hint about that, not the
        --index one `claim_index_dir` gives a folder named by --index."""
        if self.origin in ("option", "default") or not holds_foreign_files(self.path):
            return self
        what, elsewhere = _someone_elses(self.path)
        target = self.chosen_by or f"collection {self.name!r}"
        if self.origin == "env":
            target, elsewhere = (
                f"the index ${INDEX_ENV} names",
                f"set {INDEX_ENV} to a new or empty folder, or {self.omit}",
            )
        also = "; --index DIR or --name NAME builds another index" if self.chosen_by else ""
        raise ForeignFolderError(
            f"{self.path} {what}; refusing to build {target} there (nothing in it was changed)", hint=elsewhere + also
        )

    def for_dataset(self, brings_corpus: bool) -> Path | None:
        """The index a command reading judged questions uses (evaluate, tune, train retriever): for a
        dataset that brings its corpus (a BEIR folder), only one named on the command line or by
        $RAGCLI_INDEX, else None, a cached index of that corpus (the configuration's everyday collection
        is never rebuilt from another corpus); for a qa.jsonl file, the chosen index, which must exist."""
        if brings_corpus:
            return None if self.origin in ("config", "default") else self.path
        return self.require().path

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "source": self.source, "collection": self.name}

    def setting(self) -> Setting:
        """The `collection` key as it is in effect (`config show`): -c, --index or $RAGCLI_INDEX override
        the configuration's, so its row names them, not the file."""
        return Setting("collection", self.name, self.source)


def resolve_index(
    index: Path | None, collection: str | None, config: Config, *, option: str = "-c/--collection"
) -> IndexChoice:
    """--index, else -c NAME, else $RAGCLI_INDEX, else the configuration's collection, else ./.ragcli."""
    if index is not None and collection is not None:
        raise InvalidOptionError(f"--index and {option} both name an index", hint="pass one of them")
    if index is not None:  # `--index=~/x`, `RAGCLI_INDEX='~/x'`: no shell expanded `~`, as for $RAGCLI_CONFIG
        return IndexChoice(index.expanduser(), "option", None, "--index", "option --index")
    if collection is not None:
        flag = option.split("/")[0]
        return IndexChoice(collection_path(collection, option), "collection", collection, flag, f"option {flag}")
    env = os.environ.get(INDEX_ENV)
    if env:
        return IndexChoice(Path(env).expanduser(), "env", None, INDEX_ENV, f"env {INDEX_ENV}")
    name, layer = config.value("collection")
    if layer is not None:  # a bad name is the file's mistake: the line names it and the key, not -c
        path = collection_path(str(name), f"{layer.path}: key 'collection'")
        return IndexChoice(path, "config", str(name), str(layer.path), layer.kind)
    return IndexChoice(Path(DEFAULT_INDEX_DIR), "default", None, "the default", "default")


def choose_index(index: Path | None, collection: str | None, *, option: str = "-c/--collection") -> IndexChoice:
    """The index folder a command uses, with the configuration files read: one function for `ragcli …`
    and `ragcli train …`, so the two command modules cannot choose differently."""
    return resolve_index(index, collection, load_config(), option=option)


@dataclass(frozen=True)
class CollectionInfo:
    """One collection, as `ragcli collections` lists it."""

    name: str
    path: Path
    passages: int | None
    documents: int | None
    size_bytes: int | None
    built: str | None
    error: str | None  # why it cannot be opened (damaged, a newer format, not built yet)
    link: str | None = None  # a symbolic link's target: usable by name, never removed by ragcli

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "passages": self.passages,
            "documents": self.documents,
            "size_bytes": self.size_bytes,
            "built": self.built,
            "error": self.error,
            "link": self.link,
        }


def _describe(name: str, path: Path) -> CollectionInfo:
    link = os.readlink(path) if path.is_symlink() else None
    try:
        manifest = read_manifest(path)
    except RagcliError as exc:
        return CollectionInfo(name, path, None, None, None, None, exc.message, link)
    size = index_size(path, manifest["files"])
    counts = manifest["counts"]
    built = manifest.get("built")
    return CollectionInfo(
        name, path, counts["passages"], counts["documents"], size, built if isinstance(built, str) else None, None, link
    )


def list_collections() -> list[CollectionInfo]:
    """Every collection in the data folder, by name: the folders there that are ragcli indexes, and the
    links there to one (which `-c NAME` uses too, so they are listed, marked); anything else there is not
    listed, and never touched."""
    folder = _usable_collections_dir()
    try:
        entries = sorted(folder.iterdir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise _data_folder_error(folder, f"cannot be read ({exc.strerror or exc})") from None
    return [
        _describe(entry.name, entry)
        for entry in entries
        if _NAME_RE.fullmatch(entry.name) and entry.is_dir() and (is_ragcli_index(entry) or _locked(entry))
    ]


def _locked(folder: Path) -> bool:
    """Whether a folder's manifest cannot even be looked for (the folder may not be searched): listed
    with that error, as a damaged collection is, rather than left out as if it were not there."""
    try:
        look_up(folder / MANIFEST, IndexDamagedError)
    except IndexDamagedError:
        return True
    return False


def remove_collection(name: str, *, wait: bool = False) -> tuple[Path, list[str]]:
    """Delete collection `name`: only a folder that is a ragcli index, and in it only what ragcli wrote.
    Returns its path and the names of what was left there (files that are not ragcli's). A build of it
    running: exit 10, or (`wait`) removed once that build is done."""
    path = collection_path(name, "NAME")
    found = look_up(path, IndexWriteError, follow=False)
    if found is not None and stat.S_ISLNK(found.st_mode):  # ragcli did not create it: nor what it points to
        raise InvalidOptionError(
            f"{path} is a symbolic link to {os.readlink(path)}; ragcli removes only collections it created "
            "(nothing was changed)",
            hint=f"remove the link itself with `rm {path}`",
        )
    if found is None or not stat.S_ISDIR(found.st_mode):
        raise NoIndexError(
            f"no collection named {name!r} (in {collections_dir()})", hint="`ragcli collections` lists them"
        )
    look_up(path / MANIFEST, IndexWriteError)  # a folder that may not be searched is not "not an index"
    if not is_ragcli_index(path):
        raise InvalidOptionError(f"{path} is not a ragcli index; refusing to delete it (nothing was changed)")
    return path, remove_index(path, wait=wait)
