"""Crafted and damaged indexes never crash, hang or exhaust ragcli: structured dtypes, self-sharing
pickles, FIFOs and malformed manifests all end in a clean exit 7 (or correct results), and the hint
the error prints (`ragcli index PATH`) works."""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from clihelpers import RAGCLI, invoke
from crafted import (
    WritesMarker,
    billion_laughs,
    joblib_stream,
    out_of_item_dtype,
    payload_file,
    pickled_wrapper,
    replace_payload,
    set_recorded,
    with_out_of_item_dtype,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragcli.errors import ExitCode
from ragcli.indexing.build import build_index
from ragcli.records import COUNTS_FILE, METADATA_FILE, PASSAGES_FILE, TERMS_FILE
from ragcli.retrieval.bm25 import BM25_FILE
from ragcli.retrieval.index import load_index
from ragcli.retrieval.tfidf import TFIDF_FILE
from ragcli.store import MANIFEST, load_payload

MEMORY_LIMIT = 1 << 30  # a query of the small index peaks below 200 MB of address space
TIMEOUT = 30
PAYLOADS = (PASSAGES_FILE, TERMS_FILE, COUNTS_FILE, BM25_FILE, TFIDF_FILE, METADATA_FILE)


def limited() -> None:
    """preexec_fn: at most MEMORY_LIMIT of address space, so an unbounded allocation fails fast."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def bounded(*args: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    """`ragcli ARGS` under the memory limit and a timeout (a hang raises TimeoutExpired: a failure)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run([RAGCLI, *args], capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=limited, env=env)


def real(index_dir: Path, name: str) -> dict:  # type: ignore[type-arg]
    return dict(load_payload(payload_file(index_dir, name), mmap=False))


def assert_clean_damage(result: subprocess.CompletedProcess, *words: str) -> None:  # type: ignore[type-arg]
    assert result.returncode == ExitCode.INDEX_DAMAGED, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert all(word in result.stderr for word in words), result.stderr


def assert_the_hint_works(corpus: Path, index_dir: Path) -> None:
    """`ragcli index PATH`, as the error says, replaces the damaged index with a working one."""
    rebuilt = bounded("index", str(corpus), "--index", str(index_dir), "-q")
    assert rebuilt.returncode == 0, rebuilt.stderr
    query = bounded("query", "electricity", "--no-generate", "--json", "--index", str(index_dir))
    assert query.returncode == 0 and json.loads(query.stdout)["hits"], query.stderr


# --- structured dtypes: fields outside the item ---------------------------------------------------

STRUCTURED = [(BM25_FILE, "indptr"), (PASSAGES_FILE, "id_rank"), (PASSAGES_FILE, "line"), (TERMS_FILE, "hash_term")]


@pytest.mark.parametrize("declared", ["V8", "i8"], ids=["void", "claims-int64"])
@pytest.mark.parametrize("name, key", STRUCTURED, ids=[f"{n}:{k}" for n, k in STRUCTURED])
def test_a_dtype_with_fields_outside_the_item_is_refused(
    small_corpus: Path, small_index: Path, name: str, key: str, declared: str
) -> None:
    """numpy accepts a structured dtype whose field lies 4 GiB past its 8-byte item: reading it segfaults
    or copies foreign memory. With size and SHA-256 updated only the loader can refuse it: exit 7 for
    `info --verify` and a query, and an incremental index rebuilds from the files."""
    payload = real(small_index, name)
    payload[key] = with_out_of_item_dtype(payload[key], declared)
    replace_payload(small_index, name, payload)
    assert_clean_damage(bounded("info", "--verify", "--index", str(small_index)), "dtype")
    assert_clean_damage(bounded("query", "electricity", "--no-generate", "--index", str(small_index)), "dtype")
    (small_corpus / "tidal.txt").write_text("tidal turbines make electricity")  # incremental: reuses passages
    assert_the_hint_works(small_corpus, small_index)
    for stored in PAYLOADS:  # nothing of the crafted payload reached the new index
        for value in load_payload(payload_file(small_index, stored)).values():
            assert not isinstance(value, np.ndarray) or value.dtype.fields is None


def test_joblib_s_own_array_layout_with_a_structured_dtype_is_refused_before_reading(small_index: Path) -> None:
    """The same dtype in joblib's array wrapper (the bytes memory-mapped straight after it)."""
    payload = real(small_index, BM25_FILE)
    raw = np.ascontiguousarray(payload["indptr"]).tobytes()
    wrapper = pickled_wrapper(payload["indptr"].shape, out_of_item_dtype())
    stream = joblib_stream(payload, "indptr", wrapper, raw)
    payload_file(small_index, BM25_FILE).write_bytes(stream)
    set_recorded(small_index, BM25_FILE, stream)
    assert_clean_damage(bounded("query", "electricity", "--no-generate", "--index", str(small_index)), "dtype")


@pytest.mark.parametrize("dtype", ["O", "V16", "M8[s]", "U4", "<f16"])
def test_only_plain_dtypes_are_built(small_index: Path, dtype: str) -> None:
    payload = real(small_index, BM25_FILE)
    payload["idf"] = np.zeros(4, dtype=object) if dtype == "O" else np.zeros(4, dtype=dtype)
    replace_payload(small_index, BM25_FILE, payload)
    assert_clean_damage(bounded("query", "electricity", "--no-generate", "--index", str(small_index)), "refusing")


@pytest.mark.parametrize(
    "key, value",
    [("data", np.zeros(3, dtype=np.float64)), ("indptr", np.zeros((2, 2), dtype=np.int64)), ("n_passages", "7")],
    ids=["wrong-dtype", "wrong-ndim", "wrong-type"],
)
def test_each_payload_matches_its_schema(small_index: Path, key: str, value: object) -> None:
    payload = real(small_index, BM25_FILE)
    payload[key] = value
    replace_payload(small_index, BM25_FILE, payload)
    assert_clean_damage(bounded("query", "electricity", "--no-generate", "--index", str(small_index)), repr(key))


def test_a_payload_swapped_for_another_with_its_checksums_is_refused(small_index: Path) -> None:
    """BM25's payload holds every array TF-IDF's declares: only its extra entries tell them apart."""
    replace_payload(small_index, TFIDF_FILE, real(small_index, BM25_FILE))
    result = bounded("query", "electricity", "-r", "tfidf", "--no-generate", "--index", str(small_index))
    assert_clean_damage(result, TFIDF_FILE, "'avgdl' is not one its schema declares")


@pytest.mark.parametrize("name", PAYLOADS)
def test_verify_refuses_what_a_query_refuses_whatever_the_checksums(
    small_index: Path, tmp_path: Path, name: str
) -> None:
    """Checksums rewritten to match a crafted payload: re-hashing passes, loading it as a query does not."""
    marker = tmp_path / "pwned"
    replace_payload(small_index, name, {"x": WritesMarker(marker)})
    assert_clean_damage(bounded("info", "--verify", "--index", str(small_index)), name, "refusing")
    assert not marker.exists()


def test_verify_refuses_a_payload_swapped_for_another(small_index: Path) -> None:
    replace_payload(small_index, TFIDF_FILE, real(small_index, BM25_FILE))
    assert_clean_damage(bounded("info", "--verify", "--index", str(small_index)), TFIDF_FILE, "avgdl")


# --- containers that share themselves ------------------------------------------------------------


@pytest.mark.parametrize("name, key", [(COUNTS_FILE, "data"), (BM25_FILE, "idf"), (PASSAGES_FILE, "line")])
def test_a_self_sharing_pickle_is_refused_before_anything_walks_it(
    small_corpus: Path, small_index: Path, name: str, key: str
) -> None:
    """A few hundred bytes of pickle, 2**60 leaves for numpy's asarray: refused as not plain data."""
    payload = real(small_index, name)
    payload[key] = billion_laughs()
    replace_payload(small_index, name, payload)
    query = bounded("query", "electricity", "--no-generate", "--index", str(small_index))
    if name == COUNTS_FILE:  # a query never reads the counts: it answers
        assert query.returncode == 0, query.stderr
    else:
        assert_clean_damage(query, "not plain data")
    (small_corpus / "tidal.txt").write_text("tidal turbines make electricity")  # incremental: reads the counts
    assert_the_hint_works(small_corpus, small_index)


# --- files that are not regular files ------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("name", [BM25_FILE, PASSAGES_FILE, MANIFEST])
def test_a_fifo_in_place_of_a_file_never_blocks(small_corpus: Path, small_index: Path, name: str) -> None:
    target = small_index / MANIFEST if name == MANIFEST else payload_file(small_index, name)
    if name != MANIFEST:
        manifest = json.loads((small_index / MANIFEST).read_text())
        manifest["files"][name]["bytes"] = 0  # what a FIFO's stat says
        (small_index / MANIFEST).write_text(json.dumps(manifest))
    target.unlink()
    os.mkfifo(target)
    assert_clean_damage(bounded("query", "electricity", "--no-generate", "--index", str(small_index)), "regular")
    assert_clean_damage(bounded("info", "--verify", "--index", str(small_index)), "regular")
    if name != MANIFEST:
        assert_the_hint_works(small_corpus, small_index)


# --- manifests that parse but do not hold what ragcli reads ----------------------------------------


def pop(*path: str) -> Callable[[dict], None]:  # type: ignore[type-arg]
    def damage(manifest: dict) -> None:  # type: ignore[type-arg]
        for step in path[:-1]:
            manifest = manifest[step]
        manifest.pop(path[-1])

    return damage


def put(value: object, *path: str | int) -> Callable[[dict], None]:  # type: ignore[type-arg]
    def damage(manifest: dict) -> None:  # type: ignore[type-arg]
        target: object = manifest
        for step in path[:-1]:
            target = target[step]  # type: ignore[index]
        target[path[-1]] = value  # type: ignore[index]

    return damage


MALFORMED = {
    "no-counts": pop("counts"),
    "counts-as-text": put("12", "counts", "passages"),
    "negative-terms": put(-1, "counts", "terms"),
    "no-analyzer": pop("analyzer"),
    "unknown-language": put(5, "analyzer", "language"),
    "no-chunking": pop("chunking"),
    "chunking-as-text": put("200", "chunking"),
    "sources-as-object": put({"a": 1}, "sources"),
    "sources-null": put(None, "sources"),
    "roots-null": put(None, "roots"),
    "source-outside": put([0, 10**9], "sources", 0, "passages"),
    "source-without-path": pop("sources", 0, "path"),
    "size-as-text": put("123", "files", BM25_FILE, "bytes"),
    "no-checksum": pop("files", BM25_FILE, "sha256"),
    "bm25-as-text": put("lucene", "bm25"),
    "bm25-unknown-variant": put("magic", "bm25", "variant"),
    "bm25-k1-as-text": put("fast", "bm25", "k1"),
    "roots-as-text": put("corpus", "roots"),
    "base-as-number": put(5, "base"),
    "base-relative": put("corpus", "base"),
    "built-as-number": put(5, "built"),
    "skipped-records-as-list": put(["empty text"], "sources", 0, "skipped_records"),
    "skipped-record-count-as-text": put({"empty text": "3"}, "sources", 0, "skipped_records"),
}


@pytest.mark.parametrize("damage", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_manifest_is_exit_7_and_the_hint_works(small_corpus: Path, small_index: Path, damage) -> None:  # type: ignore[no-untyped-def]
    manifest = json.loads((small_index / MANIFEST).read_text())
    damage(manifest)
    (small_index / MANIFEST).write_text(json.dumps(manifest))
    for args in (["query", "electricity", "--no-generate"], ["info"], ["info", "--json"]):
        result = invoke(*args, "--index", str(small_index))  # in-process: a manifest cannot hang or crash it
        assert result.exit_code == ExitCode.INDEX_DAMAGED, (args, result.exit_code, result.output)
        assert "rebuild" in result.stderr and "internal error" not in result.stderr
    assert invoke("index", str(small_corpus), "--index", str(small_index), "-q").exit_code == 0  # the hint
    assert [h.doc_id for h in load_index(small_index).search("wind")] == ["wind.txt"]


# --- an incremental build over a damaged index ------------------------------------------------------


def damage_array(path: Path, key: str, mask: int = 0xFF) -> None:
    """Flip bytes in the middle of array `key` where the payload file stores it (the file still loads)."""
    data = bytearray(path.read_bytes())
    raw = np.ascontiguousarray(load_payload(path, mmap=False)[key]).tobytes()
    start = bytes(data).find(raw)
    assert start >= 0 and len(raw) >= 8
    for i in range(len(raw) // 4, len(raw) // 4 + 4):
        data[start + i] ^= mask
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "name, key",
    [(PASSAGES_FILE, "id_blob"), (TERMS_FILE, "term_blob"), (COUNTS_FILE, "data"), (COUNTS_FILE, "indices")],
)
def test_an_incremental_build_never_copies_damage(small_corpus: Path, small_index: Path, name: str, key: str) -> None:
    """Bit rot in a payload a build would copy (its checksum no longer matches): the build reads the
    files again instead, so the new index equals a full rebuild, with no damage under fresh checksums."""
    damage_array(payload_file(small_index, name), key)
    (small_corpus / "tidal.txt").write_text("tidal turbines make electricity")
    result = bounded("index", str(small_corpus), "--index", str(small_index), "-q")
    assert result.returncode == 0, result.stderr
    assert bounded("info", "--verify", "--index", str(small_index)).returncode == 0
    fresh = small_index.parent / "fresh"
    assert bounded("index", str(small_corpus), "--index", str(fresh), "-q").returncode == 0
    for query in ("electricity", "tidal turbines", "wind", "heat steam"):
        assert [(h.id, h.score) for h in load_index(small_index).search(query, k=10)] == [
            (h.id, h.score) for h in load_index(fresh).search(query, k=10)
        ]


@pytest.mark.parametrize("name", [BM25_FILE, TFIDF_FILE])
def test_damaged_weights_do_not_stop_an_incremental_build(small_corpus: Path, small_index: Path, name: str) -> None:
    """Bit rot in BM25's or TF-IDF's weights, which a build computes again from the counts without
    reading them: the unchanged files are still copied (only what is copied is checked), and the new
    index has fresh weights equal to a full rebuild's."""
    files = len(load_index(small_index).manifest["sources"])
    damage_array(payload_file(small_index, name), "data")
    (small_corpus / "tidal.txt").write_text("tidal turbines make electricity")
    report = build_index([small_corpus], small_index)
    assert (report.new, report.unchanged) == (1, files)
    assert bounded("info", "--verify", "--index", str(small_index)).returncode == 0
    fresh = small_index.parent / "fresh"
    build_index([small_corpus], fresh)
    rebuilt, expected = load_index(small_index), load_index(fresh)
    assert rebuilt.manifest["files"][name] == expected.manifest["files"][name]
    for retriever in ("bm25", "tfidf"):
        assert [(h.id, h.score) for h in rebuilt.search("electricity wind", k=10, retriever=retriever)] == [
            (h.id, h.score) for h in expected.search("electricity wind", k=10, retriever=retriever)
        ]


def test_crafted_passages_with_valid_checksums_fail_an_incremental_build_cleanly(
    small_corpus: Path, small_index: Path
) -> None:
    """Garbage a crafter recorded checksums for (invalid UTF-8 in the vocabulary): an incremental build
    stops with exit 7 and a hint that works (`--rebuild` reads nothing from the old index). (Passage
    ids may hold any bytes: a file's name that is not UTF-8 is stored as its own bytes.)"""
    target = payload_file(small_index, TERMS_FILE)
    damage_array(target, "term_blob", mask=0x80)
    set_recorded(small_index, TERMS_FILE, target.read_bytes())
    (small_corpus / "tidal.txt").write_text("tidal turbines make electricity")
    result = bounded("index", str(small_corpus), "--index", str(small_index))
    assert_clean_damage(result, "--rebuild")
    assert bounded("index", str(small_corpus), "--index", str(small_index), "--rebuild", "-q").returncode == 0
    assert [h.doc_id for h in load_index(small_index).search("tidal")] == ["tidal.txt"]


# --- the property: any bytes as a payload --------------------------------------------------------

DRIVER = """
import sys
from ragcli.cli import app
codes = []
for args in (["query", "electricity wind", "--no-generate", "--json", "--index", sys.argv[1]],
             ["info", "--verify", "--json", "--index", sys.argv[1]]):
    try:
        app(args, prog_name="ragcli")
        codes.append(0)
    except SystemExit as exc:
        codes.append(exc.code if isinstance(exc.code, int) else 1)
print("codes", *codes)
"""


def mutate(data: bytes, seed: int, how: str) -> bytes:
    rng = random.Random(seed)
    if how == "flip":
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out)
    if how == "truncate":
        return data[: rng.randrange(len(data))]
    cut = rng.randrange(len(data))  # splice: the file's head, then its own bytes from elsewhere
    other = rng.randrange(len(data))
    return data[:cut] + data[other : other + rng.randint(1, 200)] + data[cut:]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(PAYLOADS),
    raw=st.one_of(
        st.binary(max_size=2048), st.tuples(st.integers(0, 2**32), st.sampled_from(["flip", "truncate", "splice"]))
    ),
    record=st.booleans(),
)
def test_any_bytes_as_a_payload_end_cleanly(sample_index: Path, tmp_path_factory, name: str, raw, record: bool) -> None:  # type: ignore[no-untyped-def]
    """Whatever a payload file holds, `query` and `info --verify` pass or exit 7: never a signal, a hang, a blown memory limit or an internal error."""
    import shutil

    index_dir = tmp_path_factory.mktemp("fuzzed") / "index"
    shutil.copytree(sample_index, index_dir)
    target = payload_file(index_dir, name)
    data = raw if isinstance(raw, bytes) else mutate(target.read_bytes(), *raw)
    target.write_bytes(data)
    if record:  # as a crafter would: the manifest agrees with the file, `info --verify` passes
        set_recorded(index_dir, name, data)
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, str(index_dir)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=limited,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])  # no signal, no crash
    query, verify = map(int, result.stdout.split("codes")[-1].split())
    assert query in (0, ExitCode.INDEX_DAMAGED), result.stderr[-2000:]
    unchanged = (
        hashlib.sha256(data).hexdigest() == json.loads((index_dir / MANIFEST).read_text())["files"][name]["sha256"]
    )
    # recorded checksums pass the re-hash; loading the payload as a query does may still refuse it
    assert verify in ((0, ExitCode.INDEX_DAMAGED) if record or unchanged else (ExitCode.INDEX_DAMAGED,))
    shutil.rmtree(index_dir.parent)


@pytest.mark.parametrize("name", [METADATA_FILE, PASSAGES_FILE])
def test_a_truncated_payload_is_mended_by_the_plain_build_its_error_names(
    small_corpus: Path, small_index: Path, name: str
) -> None:
    """A truncated metadata payload made `query --json` and `--where` fail with exit 7 and the hint
    `ragcli index PATH`, yet that build found no file changed and left the index as it was."""
    path = payload_file(small_index, name)
    path.write_bytes(path.read_bytes()[:1000])
    damaged = bounded("query", "electricity", "--no-generate", "--json", "--index", str(small_index))
    assert_clean_damage(damaged, "truncated")
    assert_the_hint_works(small_corpus, small_index)
    assert bounded("info", "--verify", "--index", str(small_index)).returncode == 0
