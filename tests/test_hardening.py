"""Faults, crafted files and hostile input: ragcli keeps working, says what it skipped, never corrupts
or loses an index, and never runs code because of a file it read."""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from clihelpers import RAGCLI, invoke, run
from conftest import SMALL_FILES, write_files
from crafted import NUMPY_GADGETS, WritesMarker, payload_file

from ragcli import store
from ragcli.chunking import ChunkSettings
from ragcli.errors import ExitCode, IndexDamagedError, IndexWriteError
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.readers import text as text_module
from ragcli.readers import walk as walk_module
from ragcli.readers.walk import CorpusReader
from ragcli.records import PASSAGES_FILE
from ragcli.retrieval.bm25 import BM25_FILE
from ragcli.retrieval.index import load_index
from ragcli.store import MANIFEST, index_lock, read_manifest

EXTRA_FILES = {"tidal.txt": "Tidal power\n\nTidal turbines in the estuary generate electricity twice a day.\n"}


def results(index_dir: Path, queries: tuple[str, ...] = ("electricity", "wind turbine", "solar")) -> list:
    index = load_index(index_dir)
    return [[(h.id, round(h.score, 6)) for h in index.search(q, k=10)] for q in queries]


def record_size(index_dir: Path, name: str) -> None:
    """Make the manifest agree with a tampered payload's size, so the deeper defences are what is tested."""
    manifest = json.loads((index_dir / MANIFEST).read_text())
    manifest["files"][name]["bytes"] = payload_file(index_dir, name).stat().st_size
    (index_dir / MANIFEST).write_text(json.dumps(manifest))


# --- crafted index files ---------------------------------------------------------------------------


def test_crafted_payload_through_the_cli_runs_nothing(small_index: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    target = payload_file(small_index, PASSAGES_FILE)
    with open(target, "wb") as handle:
        pickle.dump({"id_blob": WritesMarker(marker)}, handle)
    record_size(small_index, PASSAGES_FILE)
    result = run("query", "electricity", "--no-generate", "--index", str(small_index))
    assert result.returncode == ExitCode.INDEX_DAMAGED
    assert "refusing to load" in result.stderr and "Traceback" not in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize("gadget", sorted(NUMPY_GADGETS))
def test_numpy_gadget_payload_through_the_cli_runs_nothing(small_index: Path, tmp_path: Path, gadget: str) -> None:
    marker = tmp_path / "marker.npy"
    target = payload_file(small_index, BM25_FILE)
    with open(target, "wb") as handle:
        pickle.dump({"indptr": NUMPY_GADGETS[gadget](marker)}, handle)
    record_size(small_index, BM25_FILE)
    result = run("query", "electricity", "--no-generate", "--index", str(small_index))
    assert not marker.exists()  # the gadget never ran
    assert result.returncode == 7 == ExitCode.INDEX_DAMAGED
    assert f"refusing to load {gadget}" in result.stderr and "Traceback" not in result.stderr


def test_absurd_counts_in_the_manifest_are_refused(small_index: Path) -> None:
    manifest = json.loads((small_index / MANIFEST).read_text())
    manifest["counts"]["passages"] = 10**15
    (small_index / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexDamagedError, match="not match"):
        load_index(small_index).search("electricity")


def test_mismatched_weight_arrays_are_refused(small_index: Path) -> None:
    target = payload_file(small_index, BM25_FILE)
    payload = store.load_payload(target, mmap=False)
    payload["indptr"] = payload["indptr"][:-3]  # a truncated CSR that still unpickles
    joblib.dump(payload, target)
    record_size(small_index, BM25_FILE)
    with pytest.raises(IndexDamagedError, match="do not match"):
        load_index(small_index).search("electricity")


def test_array_larger_than_its_file_is_refused(small_index: Path) -> None:
    target = payload_file(small_index, BM25_FILE)
    payload = store.load_payload(target, mmap=False)
    payload["avgdl"] = np.zeros(4096, dtype=np.float64)  # a large array stored last…
    joblib.dump(payload, target)
    target.write_bytes(target.read_bytes()[:-5000])  # …whose bytes are cut: it claims more than the file has
    record_size(small_index, BM25_FILE)
    with pytest.raises(IndexDamagedError):
        load_index(small_index).search("electricity")


@pytest.mark.parametrize("what", ["payload", "generation", "manifest"])
def test_symlinks_in_the_index_folder_are_not_followed(small_index: Path, tmp_path: Path, what: str) -> None:
    outside = tmp_path / "outside"
    generation = small_index / read_manifest(small_index)["generation"]
    if what == "payload":
        shutil.copy(generation / BM25_FILE, outside)
        (generation / BM25_FILE).unlink()
        (generation / BM25_FILE).symlink_to(outside)
    elif what == "generation":
        shutil.copytree(generation, outside)
        shutil.rmtree(generation)
        generation.symlink_to(outside)
    else:
        shutil.copy(small_index / MANIFEST, outside)
        (small_index / MANIFEST).unlink()
        (small_index / MANIFEST).symlink_to(outside)
    with pytest.raises(IndexDamagedError, match="symbolic link"):
        load_index(small_index).search("electricity")


def array_position(path: Path, key: str) -> int:
    """Where the bytes of array `key` of a payload lie in its file (joblib stores them raw)."""
    data = path.read_bytes()
    raw = np.ascontiguousarray(store.load_payload(path, mmap=False)[key]).tobytes()
    assert data.count(raw) == 1
    return data.find(raw)


Flips = tuple[Path, list[int], int]  # (payload file, byte positions, XOR mask)


def flip_header(index_dir: Path) -> Flips:  # the pickle's PROTO opcode
    return payload_file(index_dir, BM25_FILE), [0], 0x80


def flip_csr_end(index_dir: Path) -> Flips:  # a high byte of indptr[-1]
    target = payload_file(index_dir, BM25_FILE)
    n_terms = read_manifest(index_dir)["counts"]["terms"]
    return target, [array_position(target, "indptr") + 8 * n_terms + 6], 0x80


def flip_weights(index_dir: Path) -> Flips:  # the lowest mantissa bit of every BM25 weight (float32)
    target = payload_file(index_dir, BM25_FILE)
    start = array_position(target, "data")
    return target, [start + 4 * i for i in range(len(store.load_payload(target)["data"]))], 0x01


def flip_passage_texts(index_dir: Path) -> Flips:  # the first byte of every passage text
    target = payload_file(index_dir, PASSAGES_FILE)
    start = array_position(target, "text_blob")
    return target, [start + int(o) for o in store.load_payload(target)["text_offsets"][:-1]], 0xFF


@pytest.mark.parametrize(
    "flip, query_code, message",
    [
        (flip_header, 7, "cannot be read"),  # the pickle stream itself: unreadable
        (flip_csr_end, 7, "weights do not match"),  # a structural check on load
        (flip_passage_texts, 7, "damaged data"),  # invalid UTF-8 in a passage a query returns
        (flip_weights, 0, None),  # plain numbers: only the checksum (`info --verify`) can tell
    ],
    ids=["pickle-header", "csr-end", "passage-texts", "weight-values"],
)
def test_bit_flips_are_caught(small_index: Path, flip, query_code: int, message: str | None) -> None:  # type: ignore[no-untyped-def]
    before = [(h.id, h.score) for h in load_index(small_index).search("electricity wind solar", k=10)]
    target, positions, mask = flip(small_index)
    data = bytearray(target.read_bytes())
    for position in positions:
        data[position] ^= mask
    target.write_bytes(bytes(data))
    result = run("info", "--verify", "--index", str(small_index))
    assert result.returncode == ExitCode.INDEX_DAMAGED and "checksum" in result.stderr
    query = run("query", "electricity wind solar", "--no-generate", "--json", "--index", str(small_index))
    assert "Traceback" not in query.stderr  # garbage scores or a clear error, never a crash
    assert query.returncode == query_code, query.stderr
    if message is not None:
        assert query.stdout == "" and message in query.stderr and "rebuild" in query.stderr
    else:  # answers from slightly different weights: same passages, finite scores, not the old ones
        hits = json.loads(query.stdout)["hits"]
        assert [h["id"] for h in hits] == [pid for pid, _ in before]
        assert all(np.isfinite(h["score"]) for h in hits) and [h["score"] for h in hits] != [s for _, s in before]


# --- interrupted, concurrent and failing builds ----------------------------------------------------


def big_corpus(root: Path, files: int = 60, per_file: int = 400) -> Path:
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(3000)] + ["electricity", "wind", "turbine", "solar"]
    for f in range(files):
        lines = [json.dumps({"id": f"d{f}-{i}", "text": " ".join(rng.choice(words, 80))}) for i in range(per_file)]
        (root / f"part{f:02d}.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def kill_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("kill")
    corpus = big_corpus(root / "corpus") if (root / "corpus").mkdir() is None else root / "corpus"
    build_index([corpus], root / "index")
    return corpus, root / "index"


def assert_cleaned_by_the_next_build(corpus: Path, index_dir: Path, before: list) -> None:
    assert run("index", str(corpus), "--index", str(index_dir), "-q").returncode == 0
    assert len(list(index_dir.glob("data-*"))) == 1 and not list(index_dir.glob("*.tmp"))
    assert results(index_dir) == before


@pytest.mark.parametrize("delay", [0.2, 0.6, 1.2, 2.0, 3.0])
def test_sigkill_at_any_moment_leaves_the_old_index(
    kill_setup: tuple[Path, Path], tmp_path: Path, delay: float
) -> None:
    corpus, index_dir = kill_setup
    before = results(index_dir)
    generation = read_manifest(index_dir)["generation"]
    old_manifest = (index_dir / MANIFEST).read_bytes()
    process = subprocess.Popen([RAGCLI, "index", str(corpus), "--index", str(index_dir), "--rebuild", "-q"])
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    killed = process.returncode == -signal.SIGKILL
    if delay == 0.2:  # a build of 24,000 records cannot have finished: this kill lands mid-build
        assert killed
    if not killed:  # it finished first: a complete new index
        assert process.returncode == 0
    manifest = read_manifest(index_dir)
    if manifest["generation"] == generation:  # killed before the switch: the old index, byte for byte
        assert killed and (index_dir / MANIFEST).read_bytes() == old_manifest
        assert results(index_dir) == before
    else:  # killed after the atomic switch (or finished): the complete new index (same corpus, same answers)
        store.verify_checksums(index_dir, manifest)
        assert results(index_dir) == before
    assert_cleaned_by_the_next_build(corpus, index_dir, before)


def test_sigkill_while_the_new_generation_is_written(kill_setup: tuple[Path, Path]) -> None:
    """Killed the moment the new data folder appears (payloads half written): provably mid-build."""
    corpus, index_dir = kill_setup
    before = results(index_dir)
    generation = read_manifest(index_dir)["generation"]
    old_manifest = (index_dir / MANIFEST).read_bytes()
    process = subprocess.Popen([RAGCLI, "index", str(corpus), "--index", str(index_dir), "--rebuild", "-q"])
    fresh: list[Path] = []
    deadline = time.monotonic() + 60
    try:
        while not fresh and process.poll() is None and time.monotonic() < deadline:
            fresh = [p for p in index_dir.glob("data-*") if p.name != generation]
            if not fresh:
                time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert fresh and process.returncode == -signal.SIGKILL  # killed while writing, before it could finish
    assert all(p.is_dir() for p in fresh)  # the half-written generation is left behind…
    assert (index_dir / MANIFEST).read_bytes() == old_manifest  # …and never published
    assert read_manifest(index_dir)["generation"] == generation and results(index_dir) == before
    assert_cleaned_by_the_next_build(corpus, index_dir, before)
    assert not any(p.exists() for p in fresh)


KILL_AT_THE_SWAP = """
import os, signal, sys
real_replace = os.replace
moment = sys.argv[1]

def replace(src, dst, *args, **kwargs):
    if os.path.basename(os.fspath(dst)) == "manifest.json":
        if moment == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)

os.replace = replace
from ragcli.cli import main
sys.argv = ["ragcli", "index", sys.argv[2], "--index", sys.argv[3], "-q"]
main()
"""


@pytest.mark.parametrize("moment", ["before", "after"])
def test_sigkill_at_the_manifest_swap(small_corpus: Path, small_index: Path, moment: str) -> None:
    """Killed just before or just after `os.replace` publishes the new manifest: the index is the old
    one or the complete new one, and the next build removes what the killed one left."""
    old_generation = read_manifest(small_index)["generation"]
    old_manifest = (small_index / MANIFEST).read_bytes()
    before = results(small_index)
    (small_corpus / "tidal.txt").write_text("Tidal turbines make electricity from the sea.")
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT_THE_SWAP, moment, str(small_corpus), str(small_index)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    generations = sorted(p.name for p in small_index.glob("data-*"))
    assert len(generations) == 2 and old_generation in generations  # the kill left two generations
    new_generation = next(g for g in generations if g != old_generation)
    if moment == "before":
        assert (small_index / MANIFEST).read_bytes() == old_manifest and results(small_index) == before
        leftover = list(small_index.glob("manifest.json.*.tmp"))
        assert len(leftover) == 1 and json.loads(leftover[0].read_text())["generation"] == new_generation
        assert load_index(small_index).search("tidal") == []
    else:
        manifest = read_manifest(small_index)
        assert manifest["generation"] == new_generation and not list(small_index.glob("*.tmp"))
        store.verify_checksums(small_index, manifest)
        assert [h.doc_id for h in load_index(small_index).search("tidal")] == ["tidal.txt"]
    assert run("index", str(small_corpus), "--index", str(small_index), "-q").returncode == 0
    assert [p.name for p in small_index.glob("data-*")] == [read_manifest(small_index)["generation"]]
    assert not list(small_index.glob("*.tmp")) and old_generation not in [p.name for p in small_index.glob("data-*")]
    assert [h.doc_id for h in load_index(small_index).search("tidal")] == ["tidal.txt"]


def test_a_second_builder_fails_clearly_or_waits(small_corpus: Path, small_index: Path) -> None:
    with index_lock(small_index):
        busy = run("index", str(small_corpus), "--index", str(small_index))
        assert busy.returncode == ExitCode.INDEX_LOCKED and "--wait" in busy.stderr
        waiting = subprocess.Popen([RAGCLI, "index", str(small_corpus), "--index", str(small_index), "--wait", "-q"])
        time.sleep(1.0)
        assert waiting.poll() is None  # still waiting for the lock
    assert waiting.wait(timeout=60) == 0


def waiting_for_the_lock(args: list[str], index_dir: Path) -> subprocess.Popen:
    """`ragcli index ARGS --wait --json`, started while the test holds the index lock, once it is at the
    lock (its descriptor of the index folder is open), so that what the test publishes meanwhile is
    published while it waits, not before it looked at the index."""
    process = subprocess.Popen(
        [RAGCLI, "index", *args, "--index", str(index_dir), "--wait", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError):
            if any(os.path.realpath(fd) == str(index_dir) for fd in Path(f"/proc/{process.pid}/fd").iterdir()):
                return process
        time.sleep(0.05)
    return process


def publish_from(built: Path, index_dir: Path) -> None:
    """What another build publishing into `index_dir` leaves: its generation, then its manifest."""
    generation = read_manifest(built)["generation"]
    shutil.copytree(built / generation, index_dir / generation)
    shutil.copy(built / MANIFEST, index_dir / "manifest.new")
    os.replace(index_dir / "manifest.new", index_dir / MANIFEST)


def test_a_waiting_build_follows_the_build_it_waited_for(tmp_path: Path) -> None:
    """`--wait` decides the roots and settings once the other build has finished: its --add stays, and
    a changed option is compared with the settings the other build recorded."""
    corpus, extra = write_files(tmp_path / "corpus", SMALL_FILES), write_files(tmp_path / "extra", EXTRA_FILES)
    index_dir, other = tmp_path / "index", tmp_path / "other"
    build_index([corpus], index_dir)
    build_index([corpus, extra], other, BuildSettings(chunking=ChunkSettings(size=50, overlap=10)))
    with index_lock(index_dir):
        waiting = waiting_for_the_lock(["--chunk-size", "80"], index_dir)
        publish_from(other, index_dir)
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    manifest = read_manifest(index_dir)
    assert manifest["roots"] == [str(corpus), str(extra)] and manifest["chunking"]["size"] == 80
    assert json.loads(out)["settings_changed"] == [{"setting": "chunk_size", "from": 50, "to": 80}]
    assert [h.doc_id for h in load_index(index_dir).search("tidal")] == ["extra/tidal.txt"]


def test_a_waiting_build_refuses_the_roots_another_build_gave(tmp_path: Path) -> None:
    """The index the waiting build finds is built from other roots: exit 2, as if it had started after,
    and the other build's index stays."""
    corpus, extra = write_files(tmp_path / "corpus", SMALL_FILES), write_files(tmp_path / "extra", EXTRA_FILES)
    index_dir, other = tmp_path / "index", tmp_path / "other"
    build_index([extra], other)
    with index_lock(index_dir):  # the first build of the index, not published yet
        waiting = waiting_for_the_lock([str(corpus)], index_dir)
        publish_from(other, index_dir)
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == ExitCode.USAGE and "--replace-roots" in err
    assert read_manifest(index_dir)["roots"] == [str(extra)]


def test_a_waiting_reindex_without_paths_reads_the_index_it_waited_for(tmp_path: Path) -> None:
    """`ragcli index --wait` with no PATH during an index's first build re-reads that build's roots."""
    extra = write_files(tmp_path / "extra", EXTRA_FILES)
    index_dir, other = tmp_path / "index", tmp_path / "other"
    build_index([extra], other)
    with index_lock(index_dir):
        waiting = waiting_for_the_lock([], index_dir)
        publish_from(other, index_dir)
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert json.loads(out)["up_to_date"] and read_manifest(index_dir)["roots"] == [str(extra)]


def test_queries_during_a_rebuild_see_the_old_or_the_new_index(tmp_path: Path) -> None:
    corpus = big_corpus(tmp_path / "corpus") if (tmp_path / "corpus").mkdir() is None else None
    index_dir = tmp_path / "index"
    build_index([corpus], index_dir)
    old = results(index_dir, ("electricity wind",))
    for path in sorted(corpus.glob("*.jsonl"))[:30]:  # the new corpus answers differently
        path.unlink()
    seen: list = []
    errors: list = []
    stop = threading.Event()

    def query_loop() -> None:
        index = load_index(index_dir)
        while not stop.is_set():
            try:
                seen.append([[(h.id, round(h.score, 6)) for h in index.search("electricity wind", k=10)]])
            except Exception as exc:
                errors.append(exc)

    thread = threading.Thread(target=query_loop)
    thread.start()
    build_index([corpus], index_dir)
    time.sleep(0.2)
    stop.set()
    thread.join()
    new = results(index_dir, ("electricity wind",))
    assert new != old and not errors
    assert all(result in (old, new) for result in seen)


def test_full_disk_leaves_the_old_index(small_corpus: Path, small_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = results(small_index)
    original = store.save_payload
    calls = []

    def failing(path: Path, payload: dict) -> None:
        calls.append(path.name)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        original(path, payload)

    monkeypatch.setattr(store, "save_payload", failing)
    (small_corpus / "more.txt").write_text("more text about electricity")
    with pytest.raises(IndexWriteError, match="No space left on device; the previous index is unchanged"):
        build_index([small_corpus], small_index)
    assert results(small_index) == before
    assert len(list(small_index.glob("data-*"))) == 1
    calls.clear()  # a first build says that there is no index, rather than an unchanged one
    with pytest.raises(IndexWriteError, match="No space left on device; no index was written "):
        build_index([small_corpus], small_index.parent / "first")


def test_full_disk_through_the_cli_has_its_exit_code(small_corpus: Path, tmp_path: Path) -> None:
    # /dev/full answers every write with ENOSPC: point the index's temporary spool there
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    index_dir = tmp_path / "idx"
    index_dir.mkdir()
    probe = (
        "import sys, errno; from ragcli import store; from ragcli.cli import main\n"
        "def full(path, payload): raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "store.save_payload = full\n"
        "sys.argv = ['ragcli', 'index', sys.argv[1], '--index', sys.argv[2]]\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(small_corpus), str(index_dir)], capture_output=True, text=True
    )
    assert result.returncode == ExitCode.WRITE_FAILED
    assert "No space left on device" in result.stderr and "Traceback" not in result.stderr


# --- hostile corpora -------------------------------------------------------------------------------


def remove_deep(top: Path) -> None:
    """Delete a very deep chain of folders without recursion (shutil.rmtree recurses)."""
    chain = [top]
    while (chain[-1] / "d").is_dir():
        chain.append(chain[-1] / "d")
    for folder in reversed(chain):
        for entry in folder.iterdir():
            if not entry.is_dir() or entry.is_symlink():
                entry.unlink()
        folder.rmdir()


def test_hostile_corpus_is_indexed_around_its_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        check_hostile_corpus(tmp_path, monkeypatch)
    finally:  # pytest's own clean-up of old temporary folders recurses: leave no deep tree behind
        if (tmp_path / "c" / "d").exists():
            remove_deep(tmp_path / "c" / "d")


def check_hostile_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_files(
        tmp_path / "c",
        {
            "good.txt": "bees make honey",
            "fake.md": b"\x00\x01\x02binary with a text extension",
            "latin.txt": "caf\xe9 au lait".encode("latin-1"),
            "bom.md": b"\xef\xbb\xbf# Title\n\nwith a byte order mark",
            "empty.txt": "",
            "blank.txt": "   \n\t\n",
            "bad.jsonl": '{"id": "ok", "text": "fine record"}\n{broken\n{"id": "n", "text": 5}\n{"id": "ok", "text": "dup"}\n',
            "locked.txt": "secret",
        },
    )
    os.symlink(root, root / "loop")  # a symlink loop
    deep = root
    for _ in range(1200):  # deeper than Python's recursion limit (made without recursion too)
        deep = deep / "d"
        os.mkdir(deep)
    (deep / "deep.txt").write_text("found at the bottom")
    odd_name = os.fsencode(str(root)) + b"/caf\xe9-name.txt"
    with open(odd_name, "wb") as handle:
        handle.write(b"a file whose name is not UTF-8")
    real_open = open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(file).name == "locked.txt":  # as root, chmod 000 would not stop the read
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(walk_module, "open", guarded_open, raising=False)
    report = build_index([root], tmp_path / "idx")  # malformed records are skipped and listed by default
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons["fake.md"] == "binary content"
    assert reasons["empty.txt"] == reasons["blank.txt"] == "no text"
    assert reasons["locked.txt"].startswith("unreadable: Permission denied")
    assert reasons["bad.jsonl:2"].startswith("invalid JSON")
    assert "not a string" in reasons["bad.jsonl:3"] and "duplicate id" in reasons["bad.jsonl:4"]
    assert any("symbolic link to a folder" in r for r in reasons.values())
    index = load_index(tmp_path / "idx")
    ids = {index.passages.doc_ids[i] for i in range(len(index.passages))}
    assert {"good.txt", "latin.txt", "bom.md", "ok", os.fsdecode(b"caf\xe9-name.txt")} <= ids
    assert "/".join(["d"] * 1200) + "/deep.txt" in ids
    assert [h.doc_id for h in index.search("lait")] == ["latin.txt"]
    assert any("latin.txt" in w for w in report.warnings)


def test_huge_single_line_file_is_streamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_module, "STREAM_TEXT_BYTES", 1 << 20)
    monkeypatch.setattr(text_module, "SEGMENT_CHARS", 1 << 16)
    rng = np.random.default_rng(0)
    text = " ".join(rng.choice(["alpha", "beta", "gamma", "délta", "epsilon"], 600_000)) + " needle"
    path = tmp_path / "c" / "huge.txt"
    path.parent.mkdir()
    path.write_text(text)
    import tracemalloc

    tracemalloc.start()
    documents = list(CorpusReader([path.parent]).documents())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(documents) > 40 and all(len(d.text) <= (1 << 16) for d in documents)
    assert peak < 8 * (1 << 20)  # a few segments, never the whole 3.7 MB text (plus its list of segments)
    assert "".join(d.text for d in documents) == text
    build_index([path.parent], tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    hit = index.search("needle", k=1)[0]
    assert text[hit.start : hit.end] == hit.text and hit.text.endswith("needle")
    assert len({index.passages.ids[i] for i in range(len(index.passages))}) == len(index.passages)


# --- hostile queries --------------------------------------------------------------------------------


CONTROL_QUERY = "\x00\x01\x1b[31m control \x7f"
ESCAPES_QUERY = "honey\x1b[2J\x07 bees\r\n\x08"  # a terminal's clear-screen and bell around real words
MATCHING_QUERIES = {CONTROL_QUERY, ESCAPES_QUERY}  # every other query holds no word the index knows


def control_characters(text: str) -> set[str]:
    """C0/C1 control characters other than the newline: what must never reach a terminal from data."""
    return {c for c in text if (ord(c) < 32 and c != "\n") or 127 <= ord(c) < 160}


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   \t\n",
        "x" * 1_000_000,
        "word " * 200_000,
        CONTROL_QUERY,
        "the and of a",
        "zzzq xxyq",
        "蜜蜂 ミツバチ 꿀벌 пчела نحلة मधुमक्खी 🐝",
        "'\"\\{}[]()<>|&;$`",
        ESCAPES_QUERY,
    ],
)
def test_hostile_queries_have_defined_answers(sample_index: Path, query: str) -> None:
    from ragcli.answering import answer

    index = load_index(sample_index)
    hits = index.search(query, k=5)
    assert isinstance(hits, list) and all(np.isfinite(h.score) for h in hits)
    assert isinstance(answer(query[:100_000], index, "extractive", k=3).answer, str)
    assert bool(hits) == (query in MATCHING_QUERIES)  # known words give hits; nothing else does
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1)) and len({h.id for h in hits}) == len(hits)
    assert all(h.score > 0 for h in hits) and all(a.score >= b.score for a, b in itertools.pairwise(hits))
    answered = answer(query[:100_000], index, "extractive", k=3)
    assert (answered.answer != "") == bool(answered.sources) == bool(hits)
    if not query.strip():  # the command line refuses an empty question before any work (the library answers it)
        for options in (["--no-generate", "--json"], ["-g", "extractive"]):
            refused = invoke("query", query, *options, "--index", str(sample_index))
            assert refused.exit_code == ExitCode.USAGE and "the question is empty" in refused.output
        return
    as_json = invoke("query", query, "--no-generate", "--json", "--index", str(sample_index))
    assert as_json.exit_code == 0 and json.loads(as_json.stdout)["hits"] == [
        h.to_dict() for h in index.with_metadata(hits)
    ]
    for options in (["--no-generate"], ["-g", "extractive"]):
        people = invoke("query", query, *options, "--index", str(sample_index))
        assert people.exit_code == 0, people.output
        assert not control_characters(people.stdout), options
        if not hits:
            assert ("No passage matches" if options == ["--no-generate"] else "Nothing was retrieved") in people.stdout


def test_control_characters_in_a_corpus_never_reach_the_terminal(tmp_path: Path) -> None:
    corpus = write_files(
        tmp_path / "c",
        {
            "escapes.md": "# Waggle\x1b[31m dance\n\nBees\x1b[2J dance the waggle\x07 dance\x1b]0;owned\x07 to point at flowers.\n",
            "name\x1b[2J.txt": "the waggle dance tells distance",
        },
    )
    build_index([corpus], tmp_path / "idx")
    hits = load_index(tmp_path / "idx").search("waggle dance", k=5)
    assert {h.doc_id for h in hits} == {"escapes.md", "name\x1b[2J.txt"}  # the data keeps what the file holds
    for options in (["--no-generate"], ["-g", "extractive"]):
        people = invoke("query", "waggle dance", *options, "--index", str(tmp_path / "idx"))
        assert people.exit_code == 0, people.output
        assert "waggle" in people.stdout.lower() and not control_characters(people.stdout), options


def test_a_megabyte_question_on_stdin(sample_index: Path) -> None:
    result = run("query", "-", "--no-generate", "--index", str(sample_index), input="honey " * 170_000 + "\n")
    assert result.returncode == 0 and json.loads(result.stdout)["hits"]
