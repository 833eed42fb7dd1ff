"""The index on disk: safe loading, damage detection, versions, and builds that fail half-way."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pickle
import shutil
import subprocess
from pathlib import Path

import joblib
import numpy as np
import pytest
from clihelpers import RAGCLI, without_root_powers
from conftest import write_files
from crafted import NUMPY_GADGETS, WritesMarker, payload_file

from ragcli import indexdir, store
from ragcli.errors import (
    ExitCode,
    IndexDamagedError,
    IndexLockedError,
    IndexVersionError,
    IndexWriteError,
    InvalidOptionError,
    NoIndexError,
)
from ragcli.indexing.build import build_index, reweight
from ragcli.records import PASSAGES_FILE
from ragcli.retrieval.bm25 import BM25_FILE, BM25Params
from ragcli.retrieval.index import load_index
from ragcli.safeload import ArraySpec, PayloadSchema
from ragcli.store import (
    MANIFEST,
    StringTable,
    index_lock,
    load_payload,
    read_manifest,
    same_payload,
    save_payload,
    verify_checksums,
)


def test_string_table_round_trip() -> None:
    strings = ["", "abc", "ünïcödé", "蜜蜂", "x" * 1000]
    table = StringTable.from_strings(strings)
    assert [table[i] for i in range(len(table))] == strings
    assert list(table) == strings


def test_crafted_pickle_runs_nothing(small_index: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    target = payload_file(small_index, BM25_FILE)
    with open(target, "wb") as handle:
        pickle.dump({"indptr": WritesMarker(marker)}, handle)
    with pytest.raises(IndexDamagedError, match="refusing to load"):
        load_payload(target)
    assert not marker.exists()
    # and through the public API, with the size check satisfied
    manifest = json.loads((small_index / MANIFEST).read_text())
    manifest["files"][BM25_FILE]["bytes"] = target.stat().st_size
    (small_index / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexDamagedError):
        load_index(small_index).search("electricity")
    assert not marker.exists()


@pytest.mark.parametrize("gadget", sorted(NUMPY_GADGETS))
def test_numpy_gadgets_are_refused_and_run_nothing(tmp_path: Path, gadget: str) -> None:
    """Only numpy's array and dtype classes are trusted, not every global from a numpy module."""
    make = NUMPY_GADGETS[gadget]
    live = tmp_path / "live.npy"
    pickle.loads(pickle.dumps(make(live)))  # the gadget is real: a plain unpickler runs it
    assert live.exists()
    marker = tmp_path / "marker.npy"
    target = tmp_path / "p.joblib"
    with open(target, "wb") as handle:
        pickle.dump({"indptr": make(marker)}, handle)
    with pytest.raises(IndexDamagedError, match=f"refusing to load {gadget}"):
        load_payload(target)
    assert not marker.exists()


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    array = np.empty(1, dtype=object)
    array[0] = WritesMarker(marker)
    joblib.dump({"a": array}, tmp_path / "p.joblib")
    with pytest.raises(IndexDamagedError, match="Python objects"):
        load_payload(tmp_path / "p.joblib")
    assert not marker.exists()


def test_payloads_load_memory_mapped(small_index: Path) -> None:
    import mmap

    payload = load_payload(payload_file(small_index, PASSAGES_FILE))
    base = payload["line"]
    while base is not None and not isinstance(base, (np.memmap, mmap.mmap)):
        base = getattr(base, "base", None)
    assert base is not None  # a view of the file's memory map, not a copy
    assert not payload["line"].flags.writeable


def test_a_format_1_index_still_opens_and_answers(small_index: Path) -> None:
    manifest = json.loads((small_index / MANIFEST).read_text())
    assert manifest["format_version"] == 2
    manifest["format_version"] = 1  # format 1 had no page column and no metadata: both are optional on read
    (small_index / MANIFEST).write_text(json.dumps(manifest))
    assert load_index(small_index).search("the", k=1) is not None


def test_no_index_is_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(NoIndexError, match="ragcli index"):
        load_index(tmp_path / "nothing")


@pytest.mark.parametrize("version, error", [(99, IndexVersionError), (0, IndexVersionError)])
def test_other_format_versions_are_refused(small_index: Path, version: int, error: type) -> None:
    manifest = json.loads((small_index / MANIFEST).read_text())
    manifest["format_version"] = version
    (small_index / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(error):
        load_index(small_index)


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m.update(generation="../../etc"),
        lambda m: m["files"].update({"../x.joblib": {"bytes": 1}}),
        lambda m: m.pop("files"),
    ],
)
def test_manifest_pointing_elsewhere_is_refused(small_index: Path, damage) -> None:  # type: ignore[no-untyped-def]
    manifest = json.loads((small_index / MANIFEST).read_text())
    damage(manifest)
    (small_index / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexDamagedError):
        load_index(small_index)


def test_garbage_manifest_is_damaged(small_index: Path) -> None:
    (small_index / MANIFEST).write_text("{not json")
    with pytest.raises(IndexDamagedError, match="unreadable manifest"):
        load_index(small_index)


def test_truncated_payload_is_detected(small_index: Path) -> None:
    target = payload_file(small_index, BM25_FILE)
    target.write_bytes(target.read_bytes()[:100])
    with pytest.raises(IndexDamagedError, match="truncated"):
        load_index(small_index).search("electricity")


def test_missing_payload_is_detected(small_index: Path) -> None:
    payload_file(small_index, PASSAGES_FILE).unlink()
    with pytest.raises(IndexDamagedError, match="missing"):
        load_index(small_index).search("electricity")


def test_bit_flip_is_caught_by_verify(small_index: Path) -> None:
    target = payload_file(small_index, PASSAGES_FILE)
    data = bytearray(target.read_bytes())
    data[-10] ^= 0xFF
    target.write_bytes(bytes(data))
    index = load_index(small_index)
    with pytest.raises(IndexDamagedError, match="checksum"):
        verify_checksums(index.path, index.manifest)


def test_failed_build_leaves_the_previous_index_intact(small_corpus: Path, small_index: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    before = load_index(small_index).search("electricity", k=10)
    generation = read_manifest(small_index)["generation"]
    (small_corpus / "new.txt").write_text("a brand new document about electricity")

    from ragcli.retrieval.tfidf import Tfidf

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(Tfidf, "build", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_index([small_corpus], small_index)
    assert read_manifest(small_index)["generation"] == generation
    assert load_index(small_index).search("electricity", k=10) == before
    assert sorted(p.name for p in small_index.iterdir() if p.name.startswith("data-")) == [generation]


def test_leftovers_of_a_killed_build_are_removed_by_the_next(small_corpus: Path, small_index: Path) -> None:
    # what a build killed half-way leaves: its generation folder (with ragcli's marker), a payload, and
    # a temporary manifest cut short (a kill never runs __exit__)
    writer = store.GenerationWriter(small_index).__enter__()
    leftover = writer.folder
    (leftover / "bm25.joblib").write_bytes(b"half written")
    (small_index / f"manifest.json.{writer.generation}.tmp").write_text("{")
    build_index([small_corpus], small_index)
    assert not leftover.exists()
    assert not list(small_index.glob("*.tmp"))
    assert len(list(small_index.glob("data-*"))) == 1


def test_rebuild_replaces_the_index(small_corpus: Path, small_index: Path) -> None:
    (small_corpus / "new.txt").write_text("zebras are not bees")
    build_index([small_corpus], small_index)
    assert [h.doc_id for h in load_index(small_index).search("zebras")] == ["new.txt"]


def test_second_builder_fails_clearly_while_one_holds_the_lock(small_corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "locked"
    with index_lock(index_dir), pytest.raises(IndexLockedError, match="--wait"):
        build_index([small_corpus], index_dir)


def test_a_manifest_write_cut_half_way_never_reaches_readers(
    small_corpus: Path, small_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest is written to a temporary file and swapped in: while it is half written (here the
    disk fills up in the middle of it), readers still load the old index, and the old one stays."""
    old_bytes = (small_index / MANIFEST).read_bytes()
    before = load_index(small_index).search("electricity", k=10)
    seen_while_writing: list = []

    def half_then_full_disk(obj, handle, **kwargs):  # type: ignore[no-untyped-def]
        text = json.dumps(obj, **kwargs)
        handle.write(text[: len(text) // 2])
        handle.flush()
        try:  # a reader arriving now
            seen_while_writing.append(load_index(small_index).search("electricity", k=10))
        except Exception as exc:
            seen_while_writing.append(exc)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.json, "dump", half_then_full_disk)
    (small_corpus / "new.txt").write_text("a brand new document about electricity")
    with pytest.raises(IndexWriteError, match="the previous index is unchanged"):
        build_index([small_corpus], small_index)
    assert seen_while_writing == [before]
    assert (small_index / MANIFEST).read_bytes() == old_bytes
    assert load_index(small_index).search("electricity", k=10) == before
    assert not list(small_index.glob("*.tmp"))


def test_publishing_replaces_the_manifest_file_instead_of_rewriting_it(small_corpus: Path, small_index: Path) -> None:
    """os.replace gives the manifest a new inode; a reader holding the old file keeps reading the
    complete old manifest (a rewrite in place would truncate it under the reader)."""
    old_inode = (small_index / MANIFEST).stat().st_ino
    old_bytes = (small_index / MANIFEST).read_bytes()
    with open(small_index / MANIFEST, "rb") as reader:
        (small_corpus / "new.txt").write_text("zebras are not bees")
        build_index([small_corpus], small_index)
        assert reader.read() == old_bytes
    assert (small_index / MANIFEST).stat().st_ino != old_inode
    assert (small_index / MANIFEST).read_bytes() != old_bytes
    assert [h.doc_id for h in load_index(small_index).search("zebras")] == ["new.txt"]


# --- payloads kept from the earlier generation: hard links -------------------------------------------


def inodes(index_dir: Path) -> dict[str, int]:
    """Each payload of the index's current generation, by name: its inode number."""
    manifest = read_manifest(index_dir)
    return {name: (index_dir / manifest["generation"] / name).stat().st_ino for name in manifest["files"]}


def test_a_reweight_links_the_payloads_it_keeps(small_index: Path) -> None:
    """New BM25 parameters rewrite BM25's weights only: passages, vocabulary, counts, metadata and
    TF-IDF's weights are the earlier generation's files, linked, with their checksums."""
    before, recorded = inodes(small_index), read_manifest(small_index)["files"]
    reweight(small_index, {"bm25": BM25Params(k1=0.7)})
    after, files = inodes(small_index), read_manifest(small_index)["files"]
    assert {name for name in after if after[name] == before[name]} == set(after) - {"bm25.joblib"}
    assert {name: files[name] for name in files if name != "bm25.joblib"} == {
        name: recorded[name] for name in recorded if name != "bm25.joblib"
    }
    verify_checksums(small_index, read_manifest(small_index))  # what was recorded is what is there


def payloads(index_dir: Path) -> dict[str, dict]:
    """The payloads of the index's current generation, read into memory, by name."""
    folder = index_dir / read_manifest(index_dir)["generation"]
    return {name: load_payload(folder / name, mmap=False) for name in read_manifest(index_dir)["files"]}


def test_without_hard_links_the_kept_payloads_are_written_again(
    small_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system without hard links (os.link fails): the same payloads, written anew, each with the
    checksum of what was written."""
    before, kept = inodes(small_index), payloads(small_index)

    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    reweight(small_index, {"bm25": BM25Params(k1=0.7)})
    after, now = inodes(small_index), payloads(small_index)
    assert not set(after.items()) & set(before.items())
    assert all(same_payload(now[name], kept[name]) for name in now if name != "bm25.joblib")
    verify_checksums(small_index, read_manifest(small_index))


def test_an_incremental_build_links_the_vocabulary_when_it_is_unchanged(small_corpus: Path, small_index: Path) -> None:
    before = inodes(small_index)
    wind = small_corpus / "wind.txt"
    wind.write_text(wind.read_text() + "\n" + wind.read_text())  # the same words once more
    build_index([small_corpus], small_index)
    after = inodes(small_index)
    assert after["terms.joblib"] == before["terms.joblib"]
    assert after["counts.joblib"] != before["counts.joblib"]
    (small_corpus / "zebras.txt").write_text("zebras graze")  # a new term: the vocabulary is written anew
    build_index([small_corpus], small_index)
    assert inodes(small_index)["terms.joblib"] != after["terms.joblib"]
    verify_checksums(small_index, read_manifest(small_index))


def test_same_payload_compares_order_dtypes_and_values() -> None:
    payload = {"a": np.arange(3, dtype=np.int64), "n": 3, "s": "x"}
    assert same_payload(payload, {"a": np.arange(3, dtype=np.int64), "n": 3, "s": "x"})
    assert not same_payload(payload, {"n": 3, "a": np.arange(3, dtype=np.int64), "s": "x"})  # order
    assert not same_payload(payload, {"a": np.arange(3, dtype=np.int32), "n": 3, "s": "x"})  # dtype
    assert not same_payload(payload, {"a": np.array([0, 1, 3]), "n": 3, "s": "x"})  # a value
    assert not same_payload(payload, {"a": np.arange(3, dtype=np.int64), "n": 3.0, "s": "x"})  # a type
    assert not same_payload(payload, {"a": [0, 1, 2], "n": 3, "s": "x"})  # an array against a list
    assert not same_payload(payload, {"a": np.arange(3, dtype=np.int64), "n": 4, "s": "x"})  # a number
    # the same bytes are not the same array: another dtype, or another shape
    assert not same_payload({"z": np.zeros(3, dtype=np.int64)}, {"z": np.zeros(3, dtype=np.float64)})
    assert not same_payload({"z": np.zeros((2, 3))}, {"z": np.zeros((3, 2))})
    nan = {"v": np.array([np.nan, 1.0])}
    assert same_payload(nan, {"v": np.array([np.nan, 1.0])})  # bits: a NaN is itself
    assert not same_payload({"v": np.array([0.0])}, {"v": np.array([-0.0])})


def test_a_write_error_names_the_index_folder_and_says_the_old_index_stays(tmp_path: Path) -> None:
    """The message says where and what is left (the index as it was, or for a first build none); the
    hint names the index folder, here on a read-only file system (a failed write() carries no file name,
    so without the folder the hint would say "it")."""
    failure = OSError(errno.EROFS, "Read-only file system")
    error = store._index_write_error(tmp_path, failure)
    assert isinstance(error, IndexWriteError)
    assert error.message == f"cannot write the index in {tmp_path}: Read-only file system; no index was written"
    assert error.hint == f"{tmp_path} is on a read-only file system: mount it read-write, or choose another --index"
    (tmp_path / store.MANIFEST).write_text("{}")  # an index built before
    assert store._index_write_error(tmp_path, failure).message == (
        f"cannot write the index in {tmp_path}: Read-only file system; the previous index is unchanged"
    )


def test_a_file_size_limit_gets_a_hint_about_the_limit(tmp_path: Path) -> None:
    """EFBIG ("File too large": `ulimit -f`, or a file system's largest file) was told only to choose
    another --index, which meets the same limit."""
    error = store._index_write_error(tmp_path, OSError(errno.EFBIG, "File too large"))
    assert error.message == f"cannot write the index in {tmp_path}: File too large; no index was written"
    assert error.hint is not None and "ulimit -f" in error.hint and error.hint.endswith("or choose another --index")


def test_a_generation_folder_that_cannot_be_made_is_a_write_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    with pytest.raises(IndexWriteError) as caught, store.GenerationWriter(missing):
        pass
    assert caught.value.message == (
        f"cannot write the index in {missing}: No such file or directory; no index was written"
    )
    assert not missing.exists()


def test_a_payload_that_cannot_be_written_names_the_index_folder(tmp_path: Path) -> None:
    with store.GenerationWriter(tmp_path) as writer:
        (writer.folder / "bm25.joblib").mkdir()  # a folder where the payload file should go (created anew: exists)
        with pytest.raises(IndexWriteError) as caught:
            writer.write("bm25.joblib", {"x": np.arange(3)})
    assert caught.value.message == f"cannot write the index in {tmp_path}: File exists; no index was written"
    assert (
        caught.value.hint
        == "a file stands where a folder should be (or the reverse): move it, or choose another --index"
    )


def test_a_build_whose_folder_another_build_removed_says_so(tmp_path: Path) -> None:
    """Another build (whose lock was deleted by hand) removed this build's generation folder: that is
    a lock conflict (exit 10, run it again), not a disk problem."""
    with store.GenerationWriter(tmp_path) as writer:
        shutil.rmtree(writer.folder)
        with pytest.raises(IndexLockedError) as caught:
            writer.write("bm25.joblib", {"x": np.arange(3)})
    assert caught.value.message == (
        f"another build removed this build's data in {tmp_path} while it ran; no index was written"
    )
    assert caught.value.hint == "run it again (--wait queues it behind another build)"


class _SmallBlocks(StringTable):
    ITER_ROWS = 3  # iteration decodes rows three at a time: block edges show up in a few rows


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 6, 7])
def test_iterating_a_string_table_yields_every_row_once_in_order(count: int) -> None:
    strings = [f"row {i}" + ("é" if i % 2 else "") for i in range(count)]
    table = _SmallBlocks.from_strings(strings)
    assert len(table) == count
    assert list(table) == strings
    assert [table[i] for i in range(count)] == strings
    assert table.strings(1, count) == strings[1:]
    assert table.strings(count, max(count - 1, 0)) == []  # an empty or reversed range


def test_a_payload_checksum_covers_every_block_of_a_big_file(tmp_path: Path) -> None:
    data = bytes(range(256)) * (3 * 4096 + 17)  # 3 MiB and a bit: several read blocks
    path = tmp_path / "big.joblib"
    path.write_bytes(data)
    assert store.sha256_file(path) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda m: m.update(format="other"), "not a ragcli index manifest"),
        (lambda m: m.pop("format"), "not a ragcli index manifest"),
        (lambda m: m.update(format_version="2"), "manifest has no format version"),
        (lambda m: m.update(format_version=True), "manifest has no format version"),  # a bool is no version
        (lambda m: m.pop("format_version"), "manifest has no format version"),
        (lambda m: m.update(generation="../../etc"), "manifest names no valid data folder"),
        (lambda m: m.update(generation=7), "manifest names no valid data folder"),
        (lambda m: m.update(files=["bm25.joblib"]), "manifest names no valid data folder"),
        (lambda m: m["files"].update({"../x.joblib": {"bytes": 1}}), "manifest names an invalid payload '../x.joblib'"),
        (lambda m: m["files"].update({"bm25.joblib": 5}), "manifest names an invalid payload 'bm25.joblib'"),
        (lambda m: m.pop("counts"), "the manifest's counts are missing or malformed"),  # check_manifest's own
        (lambda m: m["files"]["bm25.joblib"].pop("sha256"), "payload 'bm25.joblib' has no size or checksum"),
    ],
)
def test_each_manifest_damage_is_named(small_index: Path, damage, problem: str) -> None:  # type: ignore[no-untyped-def]
    manifest = json.loads((small_index / MANIFEST).read_text())
    damage(manifest)
    (small_index / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexDamagedError) as caught:
        read_manifest(small_index)
    assert caught.value.message == f"{small_index / MANIFEST}: {problem}"
    assert caught.value.hint == "rebuild it with `ragcli index PATH`"


def test_a_manifest_that_is_no_object_is_not_a_ragcli_manifest(small_index: Path) -> None:
    (small_index / MANIFEST).write_text("[1, 2]")
    with pytest.raises(IndexDamagedError) as caught:
        read_manifest(small_index)
    assert caught.value.message == f"{small_index / MANIFEST}: not a ragcli index manifest"


@pytest.mark.parametrize(
    ("version", "message", "hint"),
    [
        (
            3,
            "{index} was built by a newer ragcli (index format 3, this ragcli reads 2)",
            "upgrade ragcli, or replace the index with `ragcli index PATH... --rebuild`",
        ),
        (0, "{index} uses an older index format (0; this ragcli reads 1–2)", "rebuild it with `ragcli index PATH`"),
    ],
)
def test_a_format_version_outside_the_readable_range_says_which(
    small_index: Path, version: int, message: str, hint: str
) -> None:
    manifest = json.loads((small_index / MANIFEST).read_text())
    manifest["format_version"] = version
    (small_index / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexVersionError) as caught:
        read_manifest(small_index)
    assert caught.value.message == message.format(index=small_index)
    assert caught.value.hint == hint


def test_a_symlinked_manifest_is_refused(small_index: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    (small_index / MANIFEST).rename(elsewhere)
    (small_index / MANIFEST).symlink_to(elsewhere)
    with pytest.raises(IndexDamagedError) as caught:
        read_manifest(small_index)
    assert caught.value.message == f"{small_index / MANIFEST}: is a symbolic link; refusing to follow it"
    assert caught.value.hint == "rebuild it with `ragcli index PATH`"


def test_a_manifest_that_is_no_regular_file_or_no_json_is_damaged(small_index: Path) -> None:
    manifest = small_index / MANIFEST
    manifest.write_text('{"format": ')
    with pytest.raises(IndexDamagedError) as caught:
        read_manifest(small_index)
    assert caught.value.message.startswith(f"{manifest}: unreadable manifest (")
    assert caught.value.hint == "rebuild it with `ragcli index PATH`"
    manifest.unlink()
    os.mkfifo(manifest)  # a FIFO would block a plain open() forever
    with pytest.raises(IndexDamagedError) as caught:
        read_manifest(small_index)
    assert caught.value.message == f"{manifest}: not a regular file"
    assert caught.value.hint == "rebuild it with `ragcli index PATH`"


def test_a_manifest_the_user_may_not_read_asks_for_permission_not_a_rebuild(small_index: Path) -> None:
    """A manifest unreadable for its permissions was "damaged" with the hint to rebuild the index, which
    cannot be done without reading it either: exit 7 still, with a hint about permissions."""
    manifest = small_index / MANIFEST
    manifest.chmod(0o000)
    try:
        result = subprocess.run(
            [*without_root_powers(), RAGCLI, "info", "--index", str(small_index)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        manifest.chmod(0o644)
    assert result.returncode == ExitCode.INDEX_DAMAGED, result.stderr
    assert f"{manifest}: unreadable manifest (Permission denied)" in result.stderr, result.stderr
    assert "permissions" in result.stderr and "rebuild" not in result.stderr


def test_a_folder_with_someone_else_s_manifest_is_not_offered_a_build(tmp_path: Path) -> None:
    """`query --index` naming a folder of the user's that holds another program's `manifest.json` was
    told to rebuild it with `ragcli index PATH`, which refuses that folder (exit 2): it is told to pass
    an index instead. A ragcli index whose manifest is damaged is still told to rebuild it."""
    folder = write_files(tmp_path / "app", {"manifest.json": '{"name": "my web app"}', "a.txt": "mine"})
    with pytest.raises(IndexDamagedError) as caught:
        read_manifest(folder)
    assert caught.value.message == f"{folder / MANIFEST}: not a ragcli index manifest"
    assert caught.value.hint == store.NOT_AN_INDEX_HINT
    assert "rebuild" not in caught.value.hint and "new or empty folder" in caught.value.hint
    (folder / MANIFEST).write_text("{not json")  # unreadable: the same
    with pytest.raises(IndexDamagedError) as caught:
        read_manifest(folder)
    assert caught.value.hint == store.NOT_AN_INDEX_HINT


def test_no_index_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(NoIndexError) as caught:
        read_manifest(tmp_path)
    assert caught.value.message == f"no index found in {tmp_path}"
    assert caught.value.hint == "build one with `ragcli index PATH` or pass --index DIR"


@pytest.mark.parametrize(
    ("strings", "blob"),
    [(["ab", "", "cde"], b"abcde"), (["zé", "", "ro"], "zéro".encode())],  # ASCII only / not
)
def test_a_string_table_is_the_bytes_end_to_end_and_int64_offsets(strings: list[str], blob: bytes) -> None:
    table = StringTable.from_strings(strings)
    assert list(table) == strings
    assert bytes(table.blob) == blob and table.blob.dtype == np.uint8
    assert table.offsets.dtype == np.int64  # what the payload schema admits
    assert table.offsets.tolist() == [0, len(strings[0].encode()), len(strings[0].encode()), len(blob)]


def test_a_lone_surrogate_becomes_a_question_mark_in_a_string_table() -> None:
    assert list(StringTable.from_strings(["a\ud800b", "ok"])) == ["a?b", "ok"]


def test_a_table_of_names_keeps_the_bytes_that_are_not_utf8() -> None:
    """A path's bytes that are not UTF-8 are stored as those bytes and read back as the same surrogate
    escapes: as "?", `caf\\xe9.txt` and `caf\\xe8.txt` were one name. Only a table of names reads them."""
    names = [os.fsdecode(b"caf\xe9.txt"), os.fsdecode(b"caf\xe8.txt"), "a\ud800b", "ok"]
    table = StringTable.from_strings(names, names=True)
    assert bytes(table.blob).startswith(b"caf\xe9.txtcaf\xe8.txt")
    assert list(table) == [*names[:2], "a?b", "ok"] and table[1] == names[1]
    with pytest.raises(UnicodeDecodeError):  # in a table of text, such bytes are damage
        StringTable(table.blob, table.offsets)[0]


@pytest.mark.parametrize(
    ("failure", "says"),
    [
        ("flipped byte", "checksum mismatch (the file is damaged)"),
        ("read error", "cannot be read (Input/output error)"),
        ("not a file", "not a regular file"),
    ],
)
def test_verify_names_the_damaged_payload_and_says_to_rebuild(
    small_index: Path, monkeypatch: pytest.MonkeyPatch, failure: str, says: str
) -> None:
    """Each way a payload fails `verify_checksums` is one clear line naming the file, and the hint to
    rebuild (exit 7 for the user): a flipped byte, a read error, a file swapped for a non-file."""
    from ragcli.regular_files import NotRegularFileError

    manifest = json.loads((small_index / MANIFEST).read_text())
    path = payload_file(small_index, PASSAGES_FILE)
    if failure == "flipped byte":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        error = OSError(errno.EIO, "Input/output error") if failure == "read error" else NotRegularFileError()

        def failing(target: Path) -> str:
            raise error

        monkeypatch.setattr(store, "sha256_file", failing)
    with pytest.raises(IndexDamagedError) as caught:
        store.verify_checksums(small_index, manifest, skip=[n for n in manifest["files"] if n != PASSAGES_FILE])
    assert caught.value.message == f"{path}: {says}"
    # a plain re-index that finds no file changed hashes no payload again: a flipped byte needs --rebuild
    rebuild = "rebuild it with `ragcli index PATH --rebuild`" if failure == "flipped byte" else store.REBUILD_HINT
    assert caught.value.hint == rebuild


@pytest.mark.parametrize("failure", ["not listed", "symlink", "symlinked folder", "missing", "stat error", "size"])
def test_each_way_a_payload_path_fails_names_it_and_says_to_rebuild(
    small_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    manifest = json.loads((small_index / MANIFEST).read_text())
    path = payload_file(small_index, PASSAGES_FILE)
    name = PASSAGES_FILE
    says = {
        "not listed": f"{small_index}: the manifest lists no nothing.joblib",
        "symlink": f"{path}: is a symbolic link; refusing to follow it",
        "symlinked folder": f"{path}: is a symbolic link; refusing to follow it",
        "missing": f"{path}: missing",
        "stat error": f"{path}: cannot be read (Permission denied)",
        "size": f"{path}: {path.stat().st_size + 1} bytes, the manifest recorded {path.stat().st_size} (truncated or replaced)",
    }[failure]
    if failure == "not listed":
        name = "nothing.joblib"
    elif failure == "symlink":
        moved = tmp_path / "elsewhere.joblib"
        path.rename(moved)
        path.symlink_to(moved)
    elif failure == "symlinked folder":
        generation = path.parent
        generation.rename(tmp_path / "generation")
        generation.symlink_to(tmp_path / "generation", target_is_directory=True)
    elif failure == "missing":
        path.unlink()
    elif failure == "stat error":
        real_stat = Path.stat

        def stat(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
            if self == path and kwargs.get("follow_symlinks", True):  # not is_symlink's lstat
                raise PermissionError(errno.EACCES, "Permission denied")
            return real_stat(self, *args, **kwargs)

        monkeypatch.setattr(Path, "stat", stat)
    else:
        with path.open("ab") as handle:
            handle.write(b"x")
    with pytest.raises(IndexDamagedError) as caught:
        store.payload_path(small_index, manifest, name)
    assert caught.value.message == says
    assert caught.value.hint == store.REBUILD_HINT


def test_a_string_table_is_consistent_only_from_zero_to_the_blobs_end() -> None:
    blob = np.frombuffer(b"abcde", dtype=np.uint8)
    assert StringTable(blob, np.array([0, 2, 5], dtype=np.int64)).consistent()
    assert not StringTable(blob, np.array([0, 2, 3], dtype=np.int64)).consistent()  # short of the end
    assert not StringTable(blob, np.array([1, 2, 5], dtype=np.int64)).consistent()  # not from 0
    assert not StringTable(blob, np.zeros(0, dtype=np.int64)).consistent()


def test_the_manifest_is_readable_and_deterministic_json_naming_the_writer(small_index: Path) -> None:
    """Sorted keys, one per line (people read it; two builds of the same corpus write the same text
    apart from times and ids), and the ragcli version that wrote it."""
    from ragcli import __version__

    text = (small_index / MANIFEST).read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=1, sort_keys=True)
    assert data["ragcli_version"] == __version__ and data["format_version"] == store.FORMAT_VERSION


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_a_manifest_that_cannot_be_started_leaves_no_file_and_reports_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    """The temporary manifest could not even be created: nothing to remove, and the error the user
    sees is the write error (or the Ctrl-C), not a second one from cleaning up a file never made."""
    create_new = store.create_new

    def failing_create(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).endswith(".tmp"):
            raise failure
        return create_new(path, *args, **kwargs)

    monkeypatch.setattr(store, "create_new", failing_create)
    with store.GenerationWriter(tmp_path) as writer:
        writer.write("bm25.joblib", {"x": np.arange(3)})
        with pytest.raises(IndexWriteError if isinstance(failure, OSError) else KeyboardInterrupt) as caught:
            writer.publish({})
    if isinstance(failure, OSError):
        assert "No space left on device" in caught.value.message
    assert not (tmp_path / MANIFEST).exists() and not list(tmp_path.glob("*.tmp"))


def test_one_lock_may_publish_twice(tmp_path: Path) -> None:
    """After publishing, the lock records the manifest it published as the one it found: a second
    generation published under the same lock (a build, then a re-weighting) is not mistaken for
    another build's replacement."""
    index_dir = tmp_path / "index"
    with index_lock(index_dir) as lock:
        for generation in range(2):
            with store.GenerationWriter(index_dir, lock) as writer:
                writer.write("bm25.joblib", {"x": np.arange(3) + generation})
                writer.publish({})
            assert json.loads((index_dir / MANIFEST).read_text())["generation"] == writer.generation


def test_the_manifest_comes_with_the_identity_of_the_file_it_was_read_from(small_index: Path) -> None:
    manifest, identity = store.load_manifest(small_index)
    assert manifest == json.loads((small_index / MANIFEST).read_text())
    assert identity == store.identity_of(os.stat(small_index / MANIFEST))


def test_the_index_folder_is_the_option_else_ragcli_index_else_dot_ragcli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGCLI_INDEX", str(tmp_path / "from-env"))
    assert store.resolve_index_dir(tmp_path / "given") == tmp_path / "given"
    assert store.resolve_index_dir(None) == tmp_path / "from-env"
    monkeypatch.setenv("RAGCLI_INDEX", "")  # set but empty: the default, not the current folder
    assert store.resolve_index_dir(None) == Path(".ragcli")
    monkeypatch.delenv("RAGCLI_INDEX")
    assert store.resolve_index_dir(None) == Path(".ragcli")


def test_an_empty_index_path_is_refused_not_taken_for_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`build_index(paths, "")` filled the current folder with an index, as the CLI's `--index ''` does not."""
    corpus = write_files(tmp_path / "c", {"a.txt": "alpha"})
    monkeypatch.chdir(tmp_path)
    for call in (lambda: build_index([corpus], ""), lambda: load_index("")):
        with pytest.raises(InvalidOptionError, match="the index folder is an empty path"):
            call()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]


@pytest.mark.parametrize("damage", ["folder", "fifo", "symlink", "unreadable", "garbage", "unsafe", "off schema"])
def test_each_way_a_payload_fails_to_load_names_it_and_says_to_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    path = tmp_path / "x.joblib"
    says = {
        "symlink": f"{path}: is a symbolic link; refusing to follow it",
        "unreadable": f"{path}: cannot be read (Permission denied)",
        "folder": f"{path}: not a regular file",
        "fifo": f"{path}: not a regular file",
        "garbage": f"{path}: cannot be read (",
        "unsafe": f"{path}: ",
        "off schema": f"{path}: ",
    }[damage]
    if damage == "folder":
        path.mkdir()
    elif damage == "fifo":
        os.mkfifo(path)
    elif damage == "symlink":
        joblib.dump({"numbers": [1, 2, 3]}, tmp_path / "real.joblib")
        path.symlink_to(tmp_path / "real.joblib")
    elif damage == "unreadable":  # as root a chmod would not stop the read: the open fails instead
        joblib.dump({"numbers": [1, 2, 3]}, path)

        def refuse(where: Path):  # type: ignore[no-untyped-def]
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(store, "open_regular", refuse)
    elif damage == "garbage":
        path.write_bytes(b"\x80\x04not a pickle at all")
    elif damage == "unsafe":
        path.write_bytes(pickle.dumps(os.system, protocol=4))  # a global no payload may name
    else:
        joblib.dump({"numbers": [1, 2, 3]}, path)
    schema = PayloadSchema({"indptr": ArraySpec(("int64",))}) if damage == "off schema" else None
    with pytest.raises(IndexDamagedError) as caught:
        load_payload(path, schema=schema)
    assert caught.value.message.startswith(says)
    if damage in ("folder", "fifo", "symlink", "unreadable"):
        assert caught.value.message == says
    if damage == "garbage":  # the unpickler's own error, by name (an unknown opcode: KeyError)
        assert caught.value.message in (f"{says}KeyError)", f"{says}UnpicklingError)")
    if damage in ("unsafe", "off schema"):
        assert caught.value.message.endswith("; the file is not a ragcli payload")
        assert caught.value.message.count(str(path)) == 1
    assert caught.value.hint == store.REBUILD_HINT


def test_a_payload_written_behind_is_recorded_as_one_written_in_line(tmp_path: Path) -> None:
    payload = {"weights": np.arange(100_000, dtype=np.float32), "n": 3}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with store.GenerationWriter(tmp_path / "a") as writer:
        writer.write("bm25.joblib", payload)
        writer.publish({})
    with store.GenerationWriter(tmp_path / "b") as behind:
        behind.write_behind("bm25.joblib", payload)
        assert "bm25.joblib" not in behind.files  # recorded when publish has waited for it
        behind.publish({})
    a = json.loads((tmp_path / "a" / MANIFEST).read_text())["files"]
    b = json.loads((tmp_path / "b" / MANIFEST).read_text())["files"]
    assert a == b and b["bm25.joblib"]["sha256"] == store.sha256_file(behind.folder / "bm25.joblib")


def test_a_failed_write_behind_fails_the_publish_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = store.save_payload

    def full_disk(path: Path, payload: dict) -> str:
        if path.name == "counts.joblib":
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(path, payload)

    monkeypatch.setattr(store, "save_payload", full_disk)
    with pytest.raises(IndexWriteError, match="No space left on device"), store.GenerationWriter(tmp_path) as writer:
        writer.write_behind("counts.joblib", {"x": np.arange(3)})
        writer.write_behind("bm25.joblib", {"x": np.arange(3)})
        writer.publish({})
    assert not (tmp_path / MANIFEST).exists() and not list(tmp_path.glob("data-*"))


def test_a_build_interrupted_while_a_payload_is_written_behind_removes_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    started, release = threading.Event(), threading.Event()
    original = store.save_payload

    finished: list[str] = []

    def slow(path: Path, payload: dict) -> str:
        started.set()
        release.wait(timeout=30)
        digest = original(path, payload)  # into the folder, which must still be there
        finished.append(path.name)
        return digest

    monkeypatch.setattr(store, "save_payload", slow)
    with pytest.raises(KeyboardInterrupt), store.GenerationWriter(tmp_path) as writer:
        writer.write_behind("counts.joblib", {"x": np.arange(3)})
        assert started.wait(timeout=30)
        threading.Timer(0.2, release.set).start()  # the write ends after the interruption
        raise KeyboardInterrupt
    assert finished == ["counts.joblib"]  # the folder was removed once the write had ended, not under it
    assert not list(tmp_path.glob("data-*"))


def test_a_payload_is_never_written_through_a_link_or_into_a_fifo(tmp_path: Path) -> None:
    """Every file ragcli writes into an index folder is created anew: a link or FIFO planted under its
    name is refused (FileExistsError), its target untouched and nothing blocked."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious notes\n")
    link, fifo = tmp_path / "link.joblib", tmp_path / "fifo.joblib"
    link.symlink_to(victim)
    os.mkfifo(fifo)
    for planted in (link, fifo):
        with pytest.raises(FileExistsError):
            save_payload(planted, {"x": np.arange(3)})
    assert victim.read_text() == "precious notes\n"


def test_a_lock_file_planted_as_a_link_is_refused(small_corpus: Path, small_index: Path, tmp_path: Path) -> None:
    """filelock before 3.20.1 opened `lock` through a link, truncating its target: ragcli refuses a
    link (or anything but a regular file) in its place itself, whichever filelock is installed."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious notes\n")
    (small_index / store.LOCK).unlink(missing_ok=True)
    (small_index / store.LOCK).symlink_to(victim)
    with pytest.raises(IndexWriteError, match="cannot take the lock file"):
        build_index([small_corpus], small_index)
    assert victim.read_text() == "precious notes\n"


@pytest.mark.parametrize("full_at", [indexdir.PENDING_PREFIX, indexdir.GENERATION_MARKER])
def test_a_full_disk_while_a_generation_is_started_leaves_nothing_behind(
    small_corpus: Path, small_index: Path, monkeypatch: pytest.MonkeyPatch, full_at: str
) -> None:
    """The disk filled up while a build announced its generation folder or wrote the folder's marker:
    `.ragcli-pending-data-…` (and the folder) stayed until the next build, though "no leftovers" is
    what README promises for a full disk. Each file is created, then its write fails (/dev/full)."""
    before = sorted(p.name for p in small_index.iterdir())
    create_new = indexdir.create_new

    def disk_full_for(path: Path, mode: int = 0o666) -> int:
        descriptor = create_new(path, mode)
        if not path.name.startswith(full_at):
            return descriptor
        os.close(descriptor)
        return os.open("/dev/full", os.O_WRONLY)

    monkeypatch.setattr(indexdir, "create_new", disk_full_for)
    (small_corpus / "new.txt").write_text("zebras are not bees")
    with pytest.raises(IndexWriteError, match=r"No space left on device; the previous index is unchanged \("):
        build_index([small_corpus], small_index)
    assert sorted(p.name for p in small_index.iterdir()) == before


def test_an_announcement_that_cannot_be_removed_is_named(small_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where even taking the announcement back fails, the error says what is left, and that the next
    build removes it."""
    create_new, unlink = indexdir.create_new, Path.unlink

    def disk_full_for_markers(path: Path, mode: int = 0o666) -> int:
        descriptor = create_new(path, mode)
        if path.name != indexdir.GENERATION_MARKER:
            return descriptor
        os.close(descriptor)
        return os.open("/dev/full", os.O_WRONLY)

    def stuck(path: Path, missing_ok: bool = False) -> None:
        if path.name.startswith(indexdir.PENDING_PREFIX):
            raise PermissionError(errno.EACCES, "Permission denied")
        unlink(path, missing_ok)

    monkeypatch.setattr(indexdir, "create_new", disk_full_for_markers)
    monkeypatch.setattr(Path, "unlink", stuck)
    with pytest.raises(IndexWriteError) as caught, store.GenerationWriter(small_index):
        pass
    left = [p.name for p in small_index.iterdir() if p.name.startswith(indexdir.PENDING_PREFIX)]
    assert len(left) == 1
    assert caught.value.message == (
        f"cannot write the index in {small_index}: No space left on device; the previous index is unchanged; "
        f"{left[0]} could not be removed (the next build removes it)"
    )


def test_only_a_closed_schema_refuses_entries_it_does_not_declare() -> None:
    """ragcli's own payloads are `closed` (one cannot pass for another); a plugin's schema allows other
    plain entries, as it always did, so an index its plugin wrote is not refused as damaged."""
    from ragcli.safeload import check_payload

    payload = {"weights": np.zeros(3, dtype=np.float64), "note": "kept by the plugin"}
    schema = PayloadSchema({"weights": ArraySpec(("float64",))})
    assert check_payload(payload, schema) is None
    closed = PayloadSchema({"weights": ArraySpec(("float64",))}, closed=True)
    assert check_payload(payload, closed) == "entry 'note' is not one its schema declares"
    assert check_payload(payload, schema.merged(closed)) is not None
