"""Rebuilds, locks and failing writes: a long-lived Index follows rebuilds and lets go of the old files,
two builds never interleave even when `lock` is deleted, and every failed write says what happened
(exit 12 with a hint that fits, never "internal error")."""

from __future__ import annotations

import errno
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import filelock
import pytest
from clihelpers import RAGCLI, without_root_powers
from conftest import SMALL_FILES, write_files

from ragcli import store
from ragcli.chunking import ChunkSettings
from ragcli.errors import (
    ExitCode,
    IndexLockedError,
    IndexVersionError,
    IndexWriteError,
    InvalidOptionError,
    RagcliError,
)
from ragcli.generation.extractive import ExtractiveGenerator
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.records import SearchOptions
from ragcli.retrieval.bm25 import BM25Params, BM25Scorer, build_bm25
from ragcli.retrieval.index import Index, load_index
from ragcli.retrieval.sparse import SparseScorer
from ragcli.store import FORMAT_VERSION, MANIFEST, index_lock, read_manifest

# --- an index this ragcli cannot read ---------------------------------------------------------------


def test_an_index_of_a_newer_format_is_never_rebuilt_over(small_corpus: Path, small_index: Path) -> None:
    """A build would write the older format over what a newer ragcli wrote: exit 8, as `query` says,
    with or without PATHS; only --rebuild (with the PATHS) replaces it."""
    manifest = json.loads((small_index / MANIFEST).read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (small_index / MANIFEST).write_text(json.dumps(manifest))
    before = (small_index / MANIFEST).read_bytes()
    for args in ([], [str(small_corpus)], ["--rebuild"]):
        result = subprocess.run([RAGCLI, "index", *args, "--index", str(small_index)], capture_output=True, text=True)
        assert result.returncode == ExitCode.INDEX_VERSION, (args, result.stderr)
        assert "built by a newer ragcli" in result.stderr and "--rebuild" in result.stderr
    with pytest.raises(IndexVersionError):
        build_index([small_corpus], small_index)  # the library too, holding the lock
    assert (small_index / MANIFEST).read_bytes() == before
    result = subprocess.run([RAGCLI, "index", str(small_corpus), "--index", str(small_index), "--rebuild", "-q"])
    assert result.returncode == 0 and read_manifest(small_index)["format_version"] == FORMAT_VERSION


def test_a_reindex_of_a_damaged_manifest_names_the_damage(small_corpus: Path, small_index: Path) -> None:
    """Without PATHS there are no roots to read: exit 7 as `query` says, not "no index"; with them the
    index is built afresh, as before."""
    (small_index / MANIFEST).write_text("{not json")
    result = subprocess.run([RAGCLI, "index", "--index", str(small_index)], capture_output=True, text=True)
    assert result.returncode == ExitCode.INDEX_DAMAGED and "unreadable manifest" in result.stderr
    assert (small_index / MANIFEST).read_text() == "{not json"
    assert subprocess.run([RAGCLI, "index", str(small_corpus), "--index", str(small_index), "-q"]).returncode == 0
    assert read_manifest(small_index)["roots"] == [str(small_corpus)]


# --- a long-lived Index ---------------------------------------------------------------------------


def mapped(generation: str) -> list[str]:
    """This process's memory maps of files in data folder `generation` (Linux: /proc/self/maps)."""
    return [line for line in Path("/proc/self/maps").read_text().splitlines() if f"/{generation}/" in line]


def test_a_long_lived_index_follows_rebuilds(small_corpus: Path, small_index: Path) -> None:
    index = load_index(small_index)
    scorer = index.retriever("bm25")  # a scorer taken before the rebuild follows it too
    assert index.search("zebras") == []
    (small_corpus / "zebras.txt").write_text("zebras graze near the wind turbines")
    build_index([small_corpus], small_index)
    assert [h.doc_id for h in index.search("zebras")] == ["zebras.txt"]
    assert [h.doc_id for h in index.search("zebras", retriever=scorer)] == ["zebras.txt"]
    assert [h.doc_id for h in index.search_many(["zebras"], retriever="tfidf")[0]] == ["zebras.txt"]
    assert index.manifest["generation"] == read_manifest(small_index)["generation"]


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc/self/maps")
def test_a_long_lived_index_lets_go_of_deleted_payloads(small_corpus: Path, small_index: Path) -> None:
    """The replaced generation's files are deleted by the rebuild; the open index must stop mapping them,
    or their disk space is never freed while it lives."""
    index = load_index(small_index)
    old = index.manifest["generation"]
    assert index.search("electricity") and mapped(old)
    (small_corpus / "zebras.txt").write_text("zebras and electricity")
    build_index([small_corpus], small_index)
    assert not (small_index / old).exists()
    assert [h.doc_id for h in index.search("zebras")] == ["zebras.txt"]
    gc.collect()
    assert mapped(old) == []
    assert mapped(index.manifest["generation"])  # it maps the new one instead


def test_a_scorer_built_on_the_index_pins_it(small_corpus: Path, small_index: Path) -> None:
    """A Scorer made from the index's own data (as tuning does) answers from the index it was made on."""
    index = load_index(small_index)
    params = BM25Params(k1=1.2)
    pinned = BM25Scorer(index, params, build_bm25(index.counts_matrix(), params))
    before = [h.id for h in index.search("electricity", k=10, retriever=pinned)]
    (small_corpus / "zebras.txt").write_text("zebras and electricity")
    build_index([small_corpus], small_index)
    assert [h.id for h in index.search("electricity", k=10, retriever=pinned)] == before


def grow_solar(small_corpus: Path, small_index: Path) -> int:
    """Rebuild with solar.md longer (its `size` metadata changes): the size the new build records."""
    solar = small_corpus / "solar.md"
    solar.write_text("Other notes.\n\n" + solar.read_text() + "\nSolar farms cover whole hillsides.\n")
    build_index([small_corpus], small_index)
    return solar.stat().st_size


def test_metadata_comes_from_the_build_the_hits_came_from(small_corpus: Path, small_index: Path) -> None:
    """`with_metadata` after a rebuild gave the old build's hits the new build's metadata (a mix)."""
    old_size = (small_corpus / "solar.md").stat().st_size
    index = load_index(small_index)
    hits = index.search("solar", k=1)
    new_size = grow_solar(small_corpus, small_index)
    with pytest.raises(IndexLockedError, match="search again"):
        index.with_metadata(hits)  # the old build's metadata is gone: never the new one's
    with pytest.raises(IndexLockedError, match="search again"):
        index.metadata_of(hits[0])
    fresh = index.search("solar", k=1, metadata=True)
    assert "Solar farms" in fresh[0].text and fresh[0].metadata["size"] == new_size
    assert index.with_metadata(fresh) == fresh  # hits of the index as it is now
    kept = load_index(small_index)
    hits = kept.search("solar", k=1)
    assert kept.with_metadata(hits)[0].metadata["size"] == new_size  # loads this build's metadata
    grow_solar(small_corpus, small_index)
    assert kept.with_metadata(hits)[0].metadata["size"] == new_size  # still mapped: the hits' own build
    assert old_size < new_size


def test_a_rebuild_between_ranking_and_metadata_redoes_the_whole_search(
    small_corpus: Path, small_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild met half way through `search(metadata=True)`: the ranking and the metadata are both
    the new build's (the metadata step alone followed it, onto hits of the old build)."""
    from ragcli.retrieval.index import PassageStore

    real, sizes = PassageStore.hits, []

    def hits_then_rebuild(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        found = real(self, *args, **kwargs)
        if not sizes:
            sizes.append(grow_solar(small_corpus, small_index))
        return found

    monkeypatch.setattr(PassageStore, "hits", hits_then_rebuild)
    for distinct in (False, True):
        for many in (False, True):
            sizes.clear()
            index = load_index(small_index)  # nothing of this build mapped yet: the rebuild deletes it all
            found = index.search_many(["solar", "wind"], k=1, metadata=True, distinct=distinct)[0] if many else []
            hit = (found or index.search("solar", k=1, metadata=True, distinct=distinct))[0]
            farms = (small_corpus / "solar.md").read_text().count("Solar farms")
            assert hit.text.count("Solar farms") == farms and hit.metadata["size"] == sizes[0]


def test_a_retriever_opened_after_a_rebuild_is_the_new_builds(small_corpus: Path, small_index: Path) -> None:
    """`Index.retriever` let the private _GenerationReplaced escape (`ragcli query`: "internal error")."""
    index = load_index(small_index)
    (small_corpus / "zebras.txt").write_text("zebras graze near the wind turbines")
    build_index([small_corpus], small_index)
    scorer = index.retriever("bm25", SearchOptions(rrf_k=61))
    assert [h.doc_id for h in index.search("zebras", retriever=scorer)] == ["zebras.txt"]
    assert index.manifest["generation"] == read_manifest(small_index)["generation"]


def test_the_extractive_generator_weighs_terms_by_the_build_it_answers_from(
    small_corpus: Path, small_index: Path
) -> None:
    """`chat` kept the first build's BM25 weights while its index moved on to the new vocabulary: the
    first question after a rebuild that added words was "internal error: IndexError"."""
    index = load_index(small_index)
    generator = ExtractiveGenerator.for_index(index)
    question = "What do the zebras graze near?"
    assert generator.generate(question, index.search(question, k=1)).citations == []  # no zebras yet
    (small_corpus / "zebras.txt").write_text("Zebras graze near the wind turbines.")
    build_index([small_corpus], small_index)
    answer = generator.generate(question, index.search(question, k=1))
    assert answer.citations == [1] and "wind turbines" in answer.text
    rebuilt = ExtractiveGenerator.for_index(load_index(small_index))
    assert all(generator.term_weight(t) == rebuilt.term_weight(t) for t in generator.question_terms(question))


def two_builds(small_corpus: Path, small_index: Path, query: str) -> tuple[list[BuildSettings], list[list[str]]]:
    """Two builds of the corpus in passages of 4 and of 200 words, and the ids `query` finds in each;
    the index is left as the second."""
    settings = [BuildSettings(chunking=ChunkSettings(size=size, overlap=0)) for size in (4, 200)]
    rankings = []
    for each in settings:
        build_index([small_corpus], small_index, each)
        rankings.append([h.id for h in load_index(small_index).search(query, k=5, metadata=True)])
    assert rankings[0] != rankings[1]
    return settings, rankings


def test_a_thread_follows_a_rebuild_without_changing_another_threads_search(
    small_corpus: Path, small_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One `Index` on two threads (LangChain's batch): a rebuild that one thread followed half way
    through the other's search gave that search the new build's passages for the old build's ranking (a
    mix, or "damaged data"); the nesting count the threads shared stopped the other from following."""
    query = "electricity turbines"
    settings, rankings = two_builds(small_corpus, small_index, query)
    index = load_index(small_index)
    ranked, resume, main = threading.Event(), threading.Event(), threading.current_thread()
    real = SparseScorer.rank_within

    def rank_then_wait(self: SparseScorer, *args: Any) -> Any:
        found = real(self, *args)
        if threading.current_thread() is not main:  # ranked on the old build: the main thread rebuilds now
            ranked.set()
            resume.wait(timeout=60)
        return found

    monkeypatch.setattr(SparseScorer, "rank_within", rank_then_wait)
    found: list[object] = []
    thread = threading.Thread(target=lambda: found.append(ids_or_error(index, query)))
    thread.start()
    assert ranked.wait(timeout=60)
    build_index([small_corpus], small_index, settings[0])
    assert ids_or_error(index, query) == rankings[0]  # this thread follows the rebuild
    resume.set()
    thread.join(timeout=60)
    assert found[0] in rankings  # the other's search is one build's: the old one's, or redone on the new


def ids_or_error(index: Index, query: str) -> list[str] | RagcliError:
    try:
        return [h.id for h in index.search(query, k=5, metadata=True)]
    except RagcliError as exc:
        return exc


def test_threads_searching_through_rebuilds_each_answer_from_one_build(small_corpus: Path, small_index: Path) -> None:
    """Searches on four threads sharing one `Index` while it is rebuilt six times: every answer is one
    build's, and none is an error."""
    query = "electricity turbines"
    settings, rankings = two_builds(small_corpus, small_index, query)
    index = load_index(small_index)
    built, found = threading.Event(), []

    def search() -> None:
        for _ in range(5000):  # bounded: until the builds are done
            found.append(ids_or_error(index, query))
            if built.is_set():
                return

    threads = [threading.Thread(target=search) for _ in range(4)]
    for thread in threads:
        thread.start()
    for rebuild in range(6):
        build_index([small_corpus], small_index, settings[rebuild % 2])
    built.set()
    for thread in threads:
        thread.join(timeout=60)
    assert [answer for answer in found if answer not in rankings] == []
    assert ids_or_error(index, query) == rankings[1]


# --- two builds at once -----------------------------------------------------------------------------


def test_deleting_the_lock_file_does_not_let_a_second_build_in(small_corpus: Path, small_index: Path) -> None:
    before = (small_index / MANIFEST).read_bytes()
    with index_lock(small_index):
        (small_index / "lock").unlink()  # by hand, "it looked stale"
        busy = subprocess.run(
            [RAGCLI, "index", str(small_corpus), "--index", str(small_index), "--rebuild"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert busy.returncode == ExitCode.INDEX_LOCKED, busy.stderr
    assert "another ragcli process" in busy.stderr
    assert (small_index / MANIFEST).read_bytes() == before


@pytest.fixture
def no_folder_locks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system without flock on folders: only the `lock` file (and the manifest check) remain."""
    import importlib

    try:
        indexdir = importlib.import_module("ragcli.indexdir")
    except ImportError:  # a ragcli without folder locks at all
        return
    monkeypatch.setattr(indexdir, "_lock_folder", lambda index_dir, wait: None)


def during_tfidf(monkeypatch: pytest.MonkeyPatch, action) -> None:  # type: ignore[no-untyped-def]
    """Run `action` once, in the middle of the next build (after its first payloads are written)."""
    from ragcli.retrieval.tfidf import Tfidf

    real = Tfidf.build
    done: list[bool] = []

    def build(self, settings, data):  # type: ignore[no-untyped-def]
        if not done:
            done.append(True)
            action()
        return real(self, settings, data)

    monkeypatch.setattr(Tfidf, "build", build)


def test_a_build_whose_files_another_build_removed_says_so(
    small_corpus: Path, small_index: Path, monkeypatch: pytest.MonkeyPatch, no_folder_locks: None
) -> None:
    """`lock` deleted mid-build, on a file system without folder locks: a second build runs, publishes,
    and removes the first one's half-written generation. The first says what happened (exit 10), never
    "free some disk space"; the index is the second build's, whole."""

    def second_build() -> None:
        (small_index / "lock").unlink()
        build_index([small_corpus], small_index, wait=False)

    during_tfidf(monkeypatch, second_build)
    (small_corpus / "zebras.txt").write_text("zebras")
    with pytest.raises(IndexLockedError, match="another build") as raised:
        build_index([small_corpus], small_index)
    assert raised.value.exit_code == ExitCode.INDEX_LOCKED
    assert [h.doc_id for h in load_index(small_index).search("zebras")] == ["zebras.txt"]
    assert len(list(small_index.glob("data-*"))) == 1 and not list(small_index.glob("*.tmp"))


def test_a_build_never_publishes_over_a_manifest_replaced_under_it(
    small_corpus: Path, small_index: Path, monkeypatch: pytest.MonkeyPatch, no_folder_locks: None
) -> None:
    def someone_else_publishes() -> None:
        copy = small_index / "manifest.copy"
        shutil.copy(small_index / MANIFEST, copy)
        os.replace(copy, small_index / MANIFEST)  # a new manifest file, as a publish makes

    during_tfidf(monkeypatch, someone_else_publishes)
    before = (small_index / MANIFEST).read_bytes()
    (small_corpus / "zebras.txt").write_text("zebras")
    with pytest.raises(IndexLockedError, match="another build replaced the index"):
        build_index([small_corpus], small_index)
    assert (small_index / MANIFEST).read_bytes() == before  # theirs stays, ours was not published
    assert len(list(small_index.glob("data-*"))) == 1 and not list(small_index.glob("*.tmp"))


# --- writes that fail -------------------------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Path]:
    """A folder outside pytest's private temporary tree, so permissions are the only obstacle."""
    root = Path(tempfile.mkdtemp(prefix="ragcli-perm-"))
    root.chmod(0o755)
    yield root
    for folder, dirs, _ in os.walk(root):
        for name in dirs:
            Path(folder, name).chmod(0o755)
    shutil.rmtree(root)


def ragcli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run(
        [*without_root_powers(), RAGCLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def assert_write_failed(result: subprocess.CompletedProcess, *words: str) -> None:  # type: ignore[type-arg]
    assert result.returncode == ExitCode.WRITE_FAILED, (result.returncode, result.stderr)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert all(word in result.stderr for word in words), result.stderr


def test_a_read_only_index_folder(world: Path) -> None:
    corpus = write_files(world / "corpus", SMALL_FILES)
    build_index([corpus], world / "index")
    before = (world / "index" / MANIFEST).read_bytes()
    (corpus / "new.txt").write_text("new text")
    (world / "index").chmod(0o555)
    result = ragcli("index", str(corpus), "--index", str(world / "index"))
    assert_write_failed(result, "Permission denied", f"make {world / 'index'} writable")
    assert (world / "index" / MANIFEST).read_bytes() == before


def test_a_read_only_lock_file(world: Path) -> None:
    corpus = write_files(world / "corpus", SMALL_FILES)
    build_index([corpus], world / "index")
    (world / "index" / "lock").chmod(0o444)
    result = ragcli("index", str(corpus), "--index", str(world / "index"))
    assert_write_failed(result, "lock", "Permission denied", "writable")


def test_an_unwritable_parent_folder(world: Path) -> None:
    corpus = write_files(world / "corpus", SMALL_FILES)
    (world / "parent").mkdir(mode=0o555)
    result = ragcli("index", str(corpus), "--index", str(world / "parent" / "index"))
    assert_write_failed(result, "cannot create the index folder", f"make {world / 'parent'} writable")
    assert not (world / "parent" / "index").exists()


def test_a_read_only_empty_folder(world: Path) -> None:
    corpus = write_files(world / "corpus", SMALL_FILES)
    (world / "index").mkdir(mode=0o555)
    result = ragcli("index", str(corpus), "--index", str(world / "index"))
    assert_write_failed(result, "cannot write an index in", f"make {world / 'index'} writable")
    assert list((world / "index").iterdir()) == []


def read_only_file_system(monkeypatch: pytest.MonkeyPatch, *places: str) -> None:
    """What a read-only mount of the index does to the writes named (the `lock` file taken for writing,
    a new data folder): EROFS."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    if "lock" in places:
        monkeypatch.setattr(filelock.BaseFileLock, "acquire", refuse)
    if "data" in places:
        monkeypatch.setattr(store, "new_generation_folder", refuse)


def test_a_read_only_file_system_is_up_to_date_or_named(
    small_corpus: Path, small_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unchanged index on a read-only mount is "Up to date": the `lock` file is locked read-only (a
    flock needs no write access, so a build through a writable mount of the folder is still kept out).
    A change, or no `lock` file to lock, is exit 12 naming the read-only file system."""
    read_only_file_system(monkeypatch, "lock", "data")
    before = (small_index / MANIFEST).read_bytes()
    assert build_index([small_corpus], small_index).up_to_date
    (small_corpus / "new.txt").write_text("tidal turbines")
    with pytest.raises(IndexWriteError) as changed:
        build_index([small_corpus], small_index)
    (small_index / "lock").unlink()
    with pytest.raises(IndexWriteError) as unlocked:
        build_index([small_corpus], small_index)
    for caught in (changed, unlocked):
        assert "read-only file system" in str(caught.value.hint) and "writable" not in str(caught.value.hint)
    assert (small_index / MANIFEST).read_bytes() == before


def test_ragcli_cache_naming_a_file(tmp_path: Path) -> None:
    beir = write_files(
        tmp_path / "beir",
        {
            "corpus.jsonl": '{"_id": "d1", "title": "Bees", "text": "Bees make honey."}\n',
            "queries.jsonl": '{"_id": "q1", "text": "who makes honey"}\n',
            "qrels/test.tsv": "query-id\tcorpus-id\tscore\nq1\td1\t1\n",
        },
    )
    (tmp_path / "cache").write_text("not a folder")
    result = subprocess.run(
        [RAGCLI, "evaluate", str(beir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "RAGCLI_CACHE": str(tmp_path / "cache"), "RAGCLI_INDEX": ""},
    )
    assert_write_failed(result, "cache", "RAGCLI_CACHE")
    assert (tmp_path / "cache").read_text() == "not a folder"


FAULTS = {
    # every write of the passage spool meets a full disk (/dev/full answers ENOSPC)
    "disk-full-while-spooling": (
        "from ragcli.indexing import columns\n"
        "columns.tempfile.TemporaryFile = lambda dir=None: open('/dev/full', 'w+b')\n",
        ("spool passage texts", "No space left on device", "inodes"),
    ),
    # no free inodes: creating the new data folder fails with ENOSPC
    "no-inodes": (
        "import os, errno\n"
        "real = os.mkdir\n"
        "def mkdir(path, *a, **k):\n"
        "    if os.path.basename(os.fspath(path)).startswith('data-'):\n"
        "        raise OSError(errno.ENOSPC, 'No space left on device', os.fspath(path))\n"
        "    return real(path, *a, **k)\n"
        "os.mkdir = mkdir\n",
        ("No space left on device", "df -i"),
    ),
}


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_full_disk_anywhere_in_a_build_is_exit_12(small_corpus: Path, small_index: Path, fault: str) -> None:
    patch, words = FAULTS[fault]
    before = (small_index / MANIFEST).read_bytes()
    (small_corpus / "more.txt").write_text("more text about electricity " * 50)
    script = patch + "import sys\nfrom ragcli.cli import main\nsys.argv = ['ragcli', *sys.argv[1:]]\nmain()\n"
    result = subprocess.run(
        [sys.executable, "-c", script, "index", str(small_corpus), "--index", str(small_index)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_write_failed(result, *words)
    assert (small_index / MANIFEST).read_bytes() == before
    assert json.loads(before)["generation"] == read_manifest(small_index)["generation"]


def test_hits_of_another_index_are_a_usage_error_not_a_replaced_build(
    small_corpus: Path, small_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hits of one index given to another's `with_metadata` were said to come "from a build that a
    rebuild has since replaced" (exit 10, "search again"), which no search again could mend."""
    other = tmp_path / "other"
    build_index([small_corpus / "solar.md"], other)
    hits = load_index(small_index).search("solar", k=1)
    for call in (lambda: load_index(other).with_metadata(hits), lambda: load_index(other).metadata_of(hits[0])):
        with pytest.raises(InvalidOptionError, match="these hits come from another index") as caught:
            call()
        assert str(small_index) in str(caught.value)
    grow_solar(small_corpus, small_index)
    monkeypatch.chdir(small_index.parent)  # the same index, named another way: still the same index
    with pytest.raises(IndexLockedError, match="search again"):
        load_index(small_index.name).with_metadata(hits)


def test_a_file_deleted_while_indexing_is_removed_not_unreadable(tmp_path: Path) -> None:
    """A file the walk listed and that was deleted before its stat or its read was skipped as
    "unreadable: No such file or directory" and counted as changed: it is gone, counted as removed."""
    from ragcli.indexing.plan import plan_build
    from ragcli.readers.walk import CorpusReader

    corpus = tmp_path / "corpus"
    write_files(corpus, {"a.txt": "alpha bees", "b.txt": "beta bees", "c.txt": "gamma bees"})
    build_index([corpus], tmp_path / "idx")
    (corpus / "b.txt").write_text("beta bees changed")
    (corpus / "d.txt").write_text("delta bees, new")
    reader = CorpusReader([corpus])
    files = list(reader.files())
    (corpus / "c.txt").unlink()  # after the walk, before the plan's stat
    plan = plan_build(reader, files, load_index(tmp_path / "idx"))
    assert (plan.new, plan.changed, plan.removed) == (1, 1, 1)
    for name in ("b.txt", "d.txt"):  # after the plan, before the read
        (corpus / name).unlink()
        assert list(reader.read_file(corpus / name)) == [] and reader.last_source is None
        plan.deleted(name)
    assert reader.report.skipped == [] and reader.report.deleted == ["b.txt", "d.txt"]
    assert (plan.new, plan.changed, plan.removed) == (0, 0, 2)
