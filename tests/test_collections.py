"""ragcli.collections: named indexes in the data folder, which index a command uses, and removal that
deletes only what ragcli wrote."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import SMALL_FILES, write_files

from ragcli.collections import collection_path, collections_dir, list_collections, remove_collection, resolve_index
from ragcli.config import Config, Layer
from ragcli.errors import IndexLockedError, InvalidOptionError, NoIndexError
from ragcli.indexdir import index_lock
from ragcli.indexing.build import build_index
from ragcli.retrieval.index import load_index


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAGCLI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RAGCLI_INDEX", raising=False)
    return tmp_path / "data"


def configured(collection: str | None) -> Config:
    values = {} if collection is None else {"collection": collection}
    return Config(
        (
            Layer("user config", Path("/u/config.toml"), True, values),
            Layer("project config", Path(".ragcli.toml"), False),
        )
    )


@pytest.mark.parametrize("name", ["docs", "my-notes_2", "v1.2", "A" * 64])
def test_a_collection_is_a_folder_in_the_data_folder(data: Path, name: str) -> None:
    assert collections_dir() == data / "collections"
    assert collection_path(name) == data / "collections" / name


@pytest.mark.parametrize(
    # "a\n": "$" matched before a final newline, and made a folder "a\n" listed beside "a"
    "name",
    ["", ".", "..", "../etc", "a/b", "a\\b", "/abs", ".hidden", "a..b", "-x", "a b", "A" * 65, "a\n"],
)
def test_a_name_that_is_not_one_folder_name_is_refused(data: Path, name: str) -> None:
    with pytest.raises(InvalidOptionError, match="is not a collection name"):
        collection_path(name)


def test_resolution_order(data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--index > -c > $RAGCLI_INDEX > the configuration's collection > ./.ragcli."""
    monkeypatch.setenv("RAGCLI_INDEX", str(tmp_path / "env"))
    chosen = resolve_index(tmp_path / "opt", None, configured("cfg"))
    assert (chosen.path, chosen.source, chosen.omit) == (tmp_path / "opt", "option --index", "omit --index")
    chosen = resolve_index(None, "docs", configured("cfg"))
    assert (chosen.path, chosen.name, chosen.source) == (data / "collections" / "docs", "docs", "option -c")
    chosen = resolve_index(None, None, configured("cfg"))
    assert (chosen.path, chosen.source, chosen.omit) == (tmp_path / "env", "env RAGCLI_INDEX", "unset RAGCLI_INDEX")
    monkeypatch.delenv("RAGCLI_INDEX")
    chosen = resolve_index(None, None, configured("cfg"))
    assert (chosen.path, chosen.source) == (data / "collections" / "cfg", "user config")
    assert chosen.omit == "remove `collection` from /u/config.toml"
    chosen = resolve_index(None, None, configured(None))
    assert (chosen.path, chosen.source) == (Path(".ragcli"), "default")
    with pytest.raises(InvalidOptionError, match="--index and -c/--collection both name an index"):
        resolve_index(tmp_path, "docs", configured(None))
    with pytest.raises(
        InvalidOptionError, match=re.escape("config.toml: key 'collection': '../x' is not a collection name")
    ):
        resolve_index(None, None, configured("../x"))


def test_a_missing_collection_is_no_index(data: Path) -> None:
    with pytest.raises(NoIndexError, match=r"no collection named 'docs'.*ragcli index PATH --name docs"):
        resolve_index(None, "docs", configured(None)).require()


def test_list_collections(data: Path, small_corpus: Path) -> None:
    assert list_collections() == []
    build_index([small_corpus], collection_path("energy"))
    write_files(data / "collections" / "notmine", {"a.txt": "someone else's"})  # not an index: not listed
    os.symlink(collection_path("energy"), data / "collections" / "link")  # listed as a link: -c link uses it
    (data / "collections" / "broken").mkdir()
    (data / "collections" / "broken" / ".ragcli-index").write_text("ragcli-index\n")  # claimed, never built
    found = list_collections()
    assert [(c.name, c.link) for c in found] == [
        ("broken", None),
        ("energy", None),
        ("link", str(collection_path("energy"))),
    ]
    broken, energy, _ = found
    assert broken.error is not None and "no index found" in broken.error and broken.passages is None
    info = load_index(collection_path("energy")).info()
    assert (energy.passages, energy.documents, energy.size_bytes) == (
        info["passages"],
        info["documents"],
        info["size_bytes"],
    )
    assert energy.built == info["built"] and energy.error is None


def test_remove_deletes_only_what_ragcli_wrote(data: Path, small_corpus: Path) -> None:
    path = collection_path("energy")
    build_index([small_corpus], path)
    build_index([write_files(small_corpus, {"more.txt": "tidal power"})], path)  # a second generation
    (path / "mine.txt").write_text("a note of the user's")
    assert remove_collection("energy") == (path, ["mine.txt"])
    assert sorted(p.name for p in path.iterdir()) == ["mine.txt"]  # no manifest, data, lock or marker left
    (path / "mine.txt").unlink()
    build_index([small_corpus], path)
    assert remove_collection("energy") == (path, [])
    assert not path.exists()


def test_remove_refuses_what_is_not_a_ragcli_index(data: Path, tmp_path: Path) -> None:
    folder = write_files(data / "collections" / "notes", SMALL_FILES)
    with pytest.raises(InvalidOptionError, match="not a ragcli index; refusing to delete it"):
        remove_collection("notes")
    assert (folder / "solar.md").exists()
    with pytest.raises(NoIndexError, match="no collection named 'nothing'"):
        remove_collection("nothing")
    target = write_files(tmp_path / "elsewhere", {"keep.txt": "x"})
    os.symlink(target, data / "collections" / "link")
    with pytest.raises(InvalidOptionError, match="symbolic link"):
        remove_collection("link")
    with pytest.raises(InvalidOptionError, match="is not a collection name"):
        remove_collection("../elsewhere")
    assert (target / "keep.txt").exists()


def test_a_linked_collection_is_listed_as_a_link_and_never_removed(
    data: Path, small_corpus: Path, tmp_path: Path
) -> None:
    """A link in the data folder worked with `-c linked`, but `collections` did not list it and
    `collections remove linked` said there was no such collection."""
    target = tmp_path / "elsewhere"
    build_index([small_corpus], target)
    (data / "collections").mkdir(parents=True)
    os.symlink(target, data / "collections" / "linked")
    assert [(c.name, c.link, c.passages) for c in list_collections()] == [
        ("linked", str(target), load_index(target).info()["passages"])
    ]
    with pytest.raises(InvalidOptionError, match=r"a symbolic link to .*elsewhere.*rm "):
        remove_collection("linked")
    assert (data / "collections" / "linked").is_symlink() and load_index(target).info()["documents"] > 0


def test_remove_waits_for_no_build(data: Path, small_corpus: Path) -> None:
    path = collection_path("energy")
    build_index([small_corpus], path)
    with index_lock(path), pytest.raises(IndexLockedError):
        remove_collection("energy")
    assert load_index(path).info()["documents"] > 0
