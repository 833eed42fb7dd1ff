"""ragcli only deletes or replaces what it can prove it wrote: a folder that is not a ragcli index is
refused untouched, and inside an index only ragcli's own generations and temporary manifests go."""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import string
import subprocess
from pathlib import Path

import pytest
from clihelpers import RAGCLI, run
from conftest import SMALL_FILES, write_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragcli.errors import EmptyCorpusError, ExitCode, IndexWriteError, InvalidOptionError, NoIndexError
from ragcli.indexing.build import build_index, reweight
from ragcli.indexing.settings import BuildSettings
from ragcli.retrieval.bm25 import BM25Params
from ragcli.retrieval.index import load_index
from ragcli.store import MANIFEST, read_manifest

INDEX_MARKER = ".ragcli-index"  # ragcli writes it when it makes a folder an index
GENERATION_MARKER = ".ragcli-generation"  # and this, the folder's own name, in each data folder it writes


def snapshot(root: Path) -> dict[str, object]:
    """Every entry under `root`: a folder, a link's target, or a file's bytes and modification time."""
    entries: dict[str, object] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            rel = str(path.relative_to(root))
            if path.is_symlink():
                entries[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                entries[rel] = "folder"
            else:
                entries[rel] = (path.read_bytes(), path.stat().st_mtime_ns)
    return entries


def users_folder(root: Path) -> Path:
    """An ordinary folder that happens to hold a `manifest.json` and a `data-<timestamp>` folder."""
    write_files(
        root,
        {
            "manifest.json": json.dumps({"name": "my web app", "version": 3}),
            "data-202403151230/readings.csv": "t,v\n1,2\n",
            "data-0123456789abcdef0123456789abcdef/notes.txt": "mine",
            "manifest.json.deadbeef.tmp": "draft",
        },
    )
    return root


@pytest.mark.parametrize("how", ["--index", "RAGCLI_INDEX", "evaluate --index"])
def test_a_folder_that_is_not_an_index_is_refused_untouched(small_corpus: Path, tmp_path: Path, how: str) -> None:
    folder = users_folder(tmp_path / "project")
    before = snapshot(folder)
    if how == "--index":
        result = run("index", str(small_corpus), "--index", str(folder))
    elif how == "RAGCLI_INDEX":
        result = run("index", str(small_corpus), env={"RAGCLI_INDEX": str(folder)})
    else:
        beir = write_files(
            tmp_path / "beir",
            {
                "corpus.jsonl": '{"_id": "d1", "title": "Bees", "text": "Bees make honey."}\n',
                "queries.jsonl": '{"_id": "q1", "text": "who makes honey"}\n',
                "qrels/test.tsv": "query-id\tcorpus-id\tscore\nq1\td1\t1\n",
            },
        )
        result = run("evaluate", str(beir), "--index", str(folder))
    assert result.returncode == ExitCode.USAGE == 2, result.stderr
    assert str(folder) in result.stderr and "not a ragcli index" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(folder) == before  # nothing deleted, nothing replaced, no lock file either


def test_a_file_given_as_the_index_is_refused_untouched(small_corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("my notes")
    result = run("index", str(small_corpus), "--index", str(target))
    assert result.returncode == 2 and "not a folder" in result.stderr
    assert target.read_text() == "my notes"


def test_tune_apply_never_creates_an_index_folder(tmp_path: Path) -> None:
    with pytest.raises(NoIndexError, match="no index found"):
        reweight(tmp_path / "none", {"bm25": BM25Params(k1=1.2)})
    assert not (tmp_path / "none").exists()


def test_a_users_folders_inside_an_index_survive_builds(small_corpus: Path, small_index: Path) -> None:
    """Named like generations, but not ragcli's: kept by a rebuild, a failed build and a reweight."""
    generation = read_manifest(small_index)["generation"]
    write_files(
        small_index,
        {
            "data-202403151230/readings.csv": "t,v\n",
            "data-0123456789abcdef0123456789abcdef/notes.txt": "mine",
            "manifest.json.data-0123456789abcdef0123456789abcdef.tmp": "a draft of mine",
            "notes.txt": "about this index",
            f"{generation}/my-notes.txt": "inside ragcli's folder, but mine",
        },
    )
    mine = {k: v for k, v in snapshot(small_index).items() if "data-2024" in k or "mine" in str(v) or "notes" in k}
    mine |= {k: v for k, v in snapshot(small_index).items() if "0123456789abcdef" in k}
    (small_corpus / "new.txt").write_text("tidal power")
    build_index([small_corpus], small_index)
    with pytest.raises(EmptyCorpusError):
        build_index([write_files(small_corpus.parent / "empty", {"a.txt": " "})], small_index)
    reweight(small_index, {"bm25": BM25Params(k1=1.5)})
    after = snapshot(small_index)
    assert {k: after.get(k) for k in mine} == mine and len(mine) == 7
    assert read_manifest(small_index)["generation"] != generation  # replaced, its payloads deleted…
    assert not list((small_index / generation).glob("*.joblib"))  # …the folder kept for the user's file
    assert [h.doc_id for h in load_index(small_index).search("tidal")] == ["new.txt"]


def test_a_generation_killed_before_its_marker_was_whole_is_removed(small_corpus: Path, small_index: Path) -> None:
    """A build announces a generation (`.ragcli-pending-data-…`, created exclusively) before `mkdir`, so
    a build killed before its marker's last byte leaves a folder the next build can prove it made: empty,
    or holding only the start of the marker. Without the announcement, or holding more, it stays."""
    names = {c: f"data-{c * 32}" for c in "abcde"}
    for c in "abce":
        (small_index / f".ragcli-pending-{names[c]}").write_text(names[c])
    for c in "abde":
        (small_index / names[c]).mkdir()
    (small_index / names["b"] / GENERATION_MARKER).write_text(names["b"][:9])
    kept = {
        f"{names['d']}/notes.txt": "not announced: someone's",
        f"{names['e']}/{GENERATION_MARKER}": "data-ee",
        f"{names['e']}/notes.txt": "announced, but holds someone's file",
    }
    write_files(small_index, kept)
    (small_corpus / "new.txt").write_text("tidal power")
    build_index([small_corpus], small_index)
    assert not any((small_index / names[c]).exists() for c in "abc")
    assert not list(small_index.glob(".ragcli-pending-*"))
    assert {name: (small_index / name).read_text() for name in kept} == kept
    (small_index / names["d"] / "notes.txt").unlink()  # an empty folder nobody announced: kept too
    build_index([small_corpus], small_index, BuildSettings(rebuild=True))
    assert (small_index / names["d"]).is_dir()


def test_only_ragcli_s_own_temporary_files_are_removed(small_corpus: Path, small_index: Path) -> None:
    """A temporary file a killed build left (`.ragcli-<name>.<32 hex digits>.tmp`: the dense checkpoint's)
    goes with the next build; a name that only resembles it, or a link of that very name, stays."""
    ours = small_index / f".ragcli-dense-checkpoint.joblib.{'a' * 32}.tmp"
    ours.write_bytes(b"half a checkpoint")
    kept = {
        f"dense-checkpoint.joblib.{'b' * 32}.tmp": "no ragcli prefix: someone's",
        f".ragcli-dense-checkpoint.joblib.{'c' * 31}.tmp": "not a fresh name ragcli makes",
        f".ragcli-notes.{'d' * 32}.txt": "not a temporary file",
        "notes.tmp": "someone's",
    }
    write_files(small_index, kept)
    target = small_index.parent / "target.txt"
    target.write_text("precious")
    link = small_index / f".ragcli-dense-checkpoint.joblib.{'e' * 32}.tmp"
    link.symlink_to(target)
    (small_corpus / "new.txt").write_text("tidal power")
    build_index([small_corpus], small_index)
    assert not ours.exists()
    assert {name: (small_index / name).read_text() for name in kept} == kept
    assert link.is_symlink() and target.read_text() == "precious"


def test_an_index_built_before_the_markers_is_still_ragcli_s(small_corpus: Path, small_index: Path) -> None:
    """Indexes written by 0.1.0 have no marker files: their manifest is the proof, and the generation it
    names is replaced and removed as before."""
    old = read_manifest(small_index)["generation"]
    (small_index / INDEX_MARKER).unlink()
    (small_index / old / GENERATION_MARKER).unlink()
    (small_corpus / "new.txt").write_text("tidal power")
    build_index([small_corpus], small_index)
    assert not (small_index / old).exists()
    assert (small_index / INDEX_MARKER).read_text() == "ragcli-index\n"
    assert [h.doc_id for h in load_index(small_index).search("tidal")] == ["new.txt"]


def run_with_files_held_empty(*args: str) -> subprocess.CompletedProcess[str]:
    """`ragcli ARGS` where a file may be created but not written (a file size limit of 0 bytes: each
    write fails with EFBIG where a full disk fails it with ENOSPC, the same moment and the same path
    through ragcli, and a full tmpfs, too, lets an empty file be created). A real full disk cannot be
    arranged portably (mounting needs root); the limit works anywhere, for any user."""

    def no_room() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))

    return subprocess.run(
        [RAGCLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=no_room,  # nothing threaded runs in the child before exec
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def test_a_first_build_that_cannot_write_its_marker_leaves_the_folder_as_it_found_it(
    small_corpus: Path, tmp_path: Path
) -> None:
    """A full disk on a first build left an empty `.ragcli-index` (created, then its write failed), and
    every later build into that folder was refused as someone else's (exit 2). The marker goes again,
    and the folder too when the build made it: the README's "a failed first build is removed again"."""
    made, empty = tmp_path / "new", tmp_path / "empty"
    empty.mkdir()
    for folder in (made, empty):
        failed = run_with_files_held_empty("index", str(small_corpus), "--index", str(folder))
        assert failed.returncode == ExitCode.WRITE_FAILED, failed.stderr
        assert "Traceback" not in failed.stderr
    assert not made.exists() and list(empty.iterdir()) == []
    for folder in (made, empty):
        result = run("index", str(small_corpus), "--index", str(folder))
        assert result.returncode == 0, result.stderr


def test_a_first_build_whose_lock_file_cannot_be_made_leaves_the_folder_as_it_found_it(
    small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No inode left for the `lock` file (after the marker was written): the marker and the folder the
    build made go again, as after any other failed first build. (An out-of-inodes disk cannot be
    arranged portably: the creation of `lock` alone is made to fail, at the system call.)"""
    real_open = os.open

    def no_inode_for_the_lock(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.path.basename(os.fspath(path)) == "lock" and flags & os.O_CREAT:
            raise OSError(errno.ENOSPC, "No space left on device", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_inode_for_the_lock)
    made, empty = tmp_path / "new", tmp_path / "empty"
    empty.mkdir()
    for folder in (made, empty):
        with pytest.raises(IndexWriteError, match="No space left on device"):
            build_index([small_corpus], folder)
    assert not made.exists() and list(empty.iterdir()) == []


@pytest.mark.parametrize("left", [b"", b"ragcli-", b"ragcli-index"])
def test_a_marker_a_killed_first_build_left_unfinished_is_ragcli_s(
    small_corpus: Path, tmp_path: Path, left: bytes
) -> None:
    """A first build killed (or written by an older ragcli on a full disk) between creating the marker
    and its last byte leaves the start of `ragcli-index\\n` in an otherwise empty folder: ragcli's own,
    finished by the next build. Beside anything else, or holding other text, it proves nothing."""
    folder = tmp_path / "index"
    folder.mkdir()
    (folder / INDEX_MARKER).write_bytes(left)
    (folder / "lock").write_bytes(b"")  # what that build's lock left
    build_index([small_corpus], folder)
    assert (folder / INDEX_MARKER).read_bytes() == b"ragcli-index\n"
    assert load_index(folder).search("solar")
    for planted in ({INDEX_MARKER: b"", "notes.txt": b"mine"}, {INDEX_MARKER: b"ragcli-other"}):
        foreign = tmp_path / f"foreign-{len(planted)}"
        foreign.mkdir()
        for name, content in planted.items():
            (foreign / name).write_bytes(content)
        before = snapshot(foreign)
        with pytest.raises(InvalidOptionError, match="not a ragcli index"):
            build_index([small_corpus], foreign)
        assert snapshot(foreign) == before


# --- the property: nothing ragcli did not write is ever deleted or modified ---------------------------

HEX = "0123456789abcdef"
NAMES = st.one_of(
    st.sampled_from(
        [
            "manifest.json",
            "lock",
            "notes.txt",
            ".ragcli-index",
            "data-202403151230",
            "data-0123456789ab",
            "manifest.json.deadbeef.tmp",
            "passages.joblib",
        ]
    ),
    st.text(HEX, min_size=32, max_size=32).map(lambda h: f"data-{h}"),
    st.text(HEX, min_size=32, max_size=32).map(lambda h: f"manifest.json.data-{h}.tmp"),
    st.text(string.ascii_lowercase, min_size=1, max_size=6),
)
CONTENT = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"", b"ragcli-index", b'{"format": "other"}', b"{", b"data-202403151230"]),
)
TREE = st.dictionaries(
    NAMES,
    st.one_of(CONTENT, st.dictionaries(st.one_of(NAMES, st.just(".ragcli-generation")), CONTENT, max_size=3)),
    max_size=5,
)
OPERATIONS = st.lists(st.sampled_from(["build", "change-and-build", "fail", "empty", "reweight"]), max_size=4)


def plant(root: Path, tree: dict) -> None:  # type: ignore[type-arg]
    for name, content in tree.items():
        if (root / name).exists():
            continue
        if isinstance(content, dict):
            (root / name).mkdir()
            for inner, data in content.items():
                (root / name / inner).write_bytes(data)
        else:
            (root / name).write_bytes(content)


def writable_by_ragcli(rel: str) -> bool:
    """What ragcli writes whoever made it first: the manifest, the lock, its markers."""
    return rel in (MANIFEST, "lock", INDEX_MARKER) or rel.endswith("/" + GENERATION_MARKER)


def open_to_ragcli(folder: Path) -> bool:
    """Whether ragcli may write in `folder`: empty (an empty `lock` file and the start of a marker count
    as empty: what a failed or killed first build left), or holding ragcli's proof of ownership."""
    marker = folder / INDEX_MARKER
    if marker.is_file() and not marker.is_symlink() and marker.read_bytes() == b"ragcli-index\n":
        return True
    return all(
        e.is_file() and not e.is_symlink() and b"ragcli-index\n".startswith(e.read_bytes())
        if e.name == INDEX_MARKER
        else e.name == "lock" and e.is_file() and not e.stat().st_size
        for e in folder.iterdir()
    )


def run_operation(operation: str, corpus: Path, empty: Path, index_dir: Path) -> None:
    if operation == "change-and-build":
        (corpus / "changing.txt").write_text(f"turbines {len(os.listdir(index_dir))}")
    if operation in ("build", "change-and-build"):
        build_index([corpus], index_dir)
    elif operation == "fail":
        from ragcli.retrieval.tfidf import Tfidf

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Tfidf, "build", lambda *args, **kwargs: (_ for _ in ()).throw(RuntimeError("failed")))
            (corpus / "changing.txt").write_text("something new to build")
            build_index([corpus], index_dir)
    elif operation == "empty":
        build_index([empty], index_dir)
    else:
        reweight(index_dir, {"bm25": BM25Params(k1=1.7)})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=TREE, indexed_first=st.booleans(), operations=OPERATIONS)
def test_no_file_ragcli_did_not_write_is_ever_deleted_or_modified(
    tmp_path_factory: pytest.TempPathFactory, tree: dict, indexed_first: bool, operations: list[str]
) -> None:
    root = tmp_path_factory.mktemp("owned")
    corpus = write_files(root / "corpus", {k: v for k, v in SMALL_FILES.items() if k.endswith(".txt")})
    empty = write_files(root / "empty", {"blank.txt": "  "})
    index_dir = root / "index"
    index_dir.mkdir()
    if indexed_first:  # a real index with the user's files dropped in; else the user's folder alone
        build_index([corpus], index_dir)
    ragcli_s = snapshot(index_dir)
    plant(index_dir, tree)
    foreign = not indexed_first and not open_to_ragcli(index_dir)
    planted = {k: v for k, v in snapshot(index_dir).items() if k not in ragcli_s and not writable_by_ragcli(k)}
    before = snapshot(index_dir)
    for operation in operations:
        try:
            run_operation(operation, corpus, empty, index_dir)
        except InvalidOptionError as exc:  # exit 2: "not empty and not a ragcli index"
            assert foreign and "not a ragcli index" in str(exc)
        except Exception as exc:  # a failing build, an empty corpus, a reweight of no index: all clean errors
            assert not isinstance(exc, (AssertionError, NameError, AttributeError)), exc
        after = snapshot(index_dir)
        if foreign:
            assert after == before  # refused: not even a lock file
        assert {k: after.get(k) for k in planted} == planted
    shutil.rmtree(root)


def test_a_failed_first_build_removes_the_parent_folders_it_made_and_only_those(tmp_path: Path) -> None:
    """`ragcli index empty --index out/a/b` with nothing to index removed `b` but left `out` and `out/a`,
    which it had made too; a folder that was there before (here `out`) stays."""
    empty = tmp_path / "empty"
    empty.mkdir()
    failed = run("index", str(empty), "--index", str(tmp_path / "out" / "a" / "b"))
    assert failed.returncode == ExitCode.EMPTY_CORPUS, failed.stderr
    assert not (tmp_path / "out").exists()
    (tmp_path / "out").mkdir()
    failed = run("index", str(empty), "--index", str(tmp_path / "out" / "a" / "b"))
    assert failed.returncode == ExitCode.EMPTY_CORPUS, failed.stderr
    assert list((tmp_path / "out").iterdir()) == []
