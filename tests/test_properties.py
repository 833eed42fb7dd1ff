"""Property-based tests (hypothesis): the analyzer, passages, BM25 and incremental indexing."""

from __future__ import annotations

import gzip
import json
import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragcli.analysis import Analyzer, AnalyzerSettings
from ragcli.chunking import ChunkSettings, split_document
from ragcli.errors import InputFormatError
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.records import Document
from ragcli.retrieval.index import load_index

LANGUAGES = ["en", "es", "fr", "de", "pt", "it", "ru", "tr"]
WORDS = ["bee", "bees", "honey", "hive", "queen", "wax", "dance", "the", "of", "pollen", "蜜蜂", "élan"]
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


@given(text=texts, language=st.sampled_from(LANGUAGES))
@settings(max_examples=300, deadline=None)
def test_analyzer_never_crashes_and_is_deterministic(text: str, language: str) -> None:
    analyze = Analyzer(AnalyzerSettings(language=language))
    first = analyze(text)
    assert first == analyze(text) == Analyzer(AnalyzerSettings(language=language))(text)
    assert all(isinstance(t, str) and t and not any(c.isspace() for c in t) for t in first)


@given(
    text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=800),
    size=st.integers(0, 30),
    overlap=st.integers(0, 29),
    line=st.integers(1, 50),
)
@settings(max_examples=300, deadline=None)
def test_passage_offsets_reproduce_the_text(text: str, size: int, overlap: int, line: int) -> None:
    if size and overlap >= size:
        overlap = size - 1
    document = Document("d", text, "T", "d.txt", line=line)
    passages = split_document(document, ChunkSettings(size=size, overlap=overlap))
    for passage in passages:
        assert text[passage.start : passage.end] == passage.text
        assert passage.line == line + text.count("\n", 0, passage.start)
    covered = " ".join(p.text for p in passages).split()
    assert set(covered) == set(text.split())  # every word lands in some passage


def _build(records: list[dict], folder: Path) -> Path:
    (folder / "c").mkdir(parents=True, exist_ok=True)
    (folder / "c" / "docs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    build_index([folder / "c"], folder / "idx", BuildSettings(chunking=ChunkSettings(size=8, overlap=2), rebuild=True))
    return folder / "idx"


documents = st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=30), min_size=1, max_size=12)


@given(
    docs=documents,
    order=st.randoms(use_true_random=False),
    query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_bm25_is_finite_and_independent_of_corpus_order(docs: list, order, query: list) -> None:  # type: ignore[no-untyped-def]
    records = [{"id": f"doc{i}", "text": " ".join(words)} for i, words in enumerate(docs)]
    shuffled = records[:]
    order.shuffle(shuffled)
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        first, second = load_index(_build(records, Path(a))), load_index(_build(shuffled, Path(b)))
        q = " ".join(query)
        for retriever in ("bm25", "tfidf"):
            one = [(h.id, round(h.score, 5)) for h in first.search(q, k=100, retriever=retriever)]
            two = [(h.id, round(h.score, 5)) for h in second.search(q, k=100, retriever=retriever)]
            assert one == two
            assert all(math.isfinite(score) for _, score in one)


edits = st.lists(
    st.tuples(
        st.sampled_from(["write", "records", "delete"]),
        st.integers(0, 5),
        st.lists(st.sampled_from(WORDS), min_size=0, max_size=20),
    ),
    min_size=1,
    max_size=6,
)


@given(steps=edits)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_incremental_index_equals_a_full_rebuild(steps: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = root / "c"
        corpus.mkdir()
        (corpus / "seed.txt").write_text("bees make honey in the hive")
        settings_ = BuildSettings(chunking=ChunkSettings(size=6, overlap=1))
        build_index([corpus], root / "inc", settings_)
        for number, (action, slot, words) in enumerate(steps):
            path = corpus / f"f{slot}.txt"
            if action == "write":
                path.write_text(" ".join(words) + f" v{number}")
            elif action == "records":  # ids 0-2 in every file: duplicates within it, ids other files hold
                lines = [json.dumps({"id": str(n % 3), "text": f"{w} v{number}"}) for n, w in enumerate(words[:5])]
                (corpus / f"f{slot}.jsonl").write_text("\n".join(lines) + "\n")
            else:
                for name in (path, corpus / f"f{slot}.jsonl"):
                    name.unlink(missing_ok=True)
            build_index([corpus], root / "inc", settings_)
        build_index([corpus], root / "full", BuildSettings(chunking=ChunkSettings(size=6, overlap=1), rebuild=True))
        inc, full = load_index(root / "inc"), load_index(root / "full")
        assert inc.manifest["counts"] == full.manifest["counts"]
        assert list(inc.lexicon.terms) == list(full.lexicon.terms)
        # every payload array equal, not only the answers: counts, weights, vocabulary, metadata
        assert inc.manifest["files"] == full.manifest["files"]  # byte for byte: same sizes and checksums
        for name in inc.manifest["files"]:
            a, b = inc.payload(name), full.payload(name)
            assert sorted(a) == sorted(b), name
            for key in a:
                x, y = np.asarray(a[key]), np.asarray(b[key])
                assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), (name, key)
        for q in ("bee honey", "queen wax dance", "pollen hive", "élan 蜜蜂"):
            for retriever in ("bm25", "tfidf"):
                assert [(h.id, round(h.score, 5)) for h in inc.search(q, k=50, retriever=retriever)] == [
                    (h.id, round(h.score, 5)) for h in full.search(q, k=50, retriever=retriever)
                ]
        shutil.rmtree(root, ignore_errors=True)


# --- any bytes under any supported name: skipped with a reason or indexed, never a crash (issue 12) ---

SUFFIXES = [".txt", ".text", ".md", ".markdown", ".rst", ".html", ".htm", ".xhtml"]
SUFFIXES += [".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".py", ".c", ".rs", ".java", ".toml", ".sql"]
FRAGMENTS = [b"{", b"}", b"[", b"]", b'"text"', b'"id"', b":", b",", b"\n", b"\r", b'"', b"\\u", b"\t", b" "]
FRAGMENTS += [b"<a ", b"<p>", b"</p>", b"<![if !IE]>", b"<!--", b"<script>", b"&#", b"<title>", b"<svg>"]
FRAGMENTS += [b"def f():", b"class C:", b"@d", b"    ", b"/**", b" * ", b"fn ", b"int f(", b"[s]", b"CREATE TABLE"]
FRAGMENTS += [b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", "id,text\n".encode("utf-16")]  # UTF-16/32 marks
FRAGMENTS += [b"\x00", b"\xff", b"\xef\xbb\xbf", b"9" * 30, b"[" * 1200, b"id,text\n", b"word ", b"# t\n\n"]
contents = st.one_of(
    st.binary(max_size=1500),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=6)), max_size=120).map(b"".join),
)
packings = st.sampled_from(["plain", "gzip", "damaged gzip", "truncated gzip"])


def packed(data: bytes, packing: str, noise: int) -> bytes:
    if packing == "plain":
        return data
    compressed = bytearray(gzip.compress(data))
    if packing == "truncated gzip":
        return bytes(compressed[: max(1, noise % len(compressed))])
    if packing == "damaged gzip" and len(compressed) > 18:
        compressed[10 + noise % (len(compressed) - 18)] ^= 0xFF
    return bytes(compressed)


@given(
    files=st.lists(st.tuples(contents, st.sampled_from(SUFFIXES), packings, st.integers(0, 1 << 16)), max_size=3),
    strict=st.booleans(),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_bytes_under_any_supported_name_never_crash_the_build(files: list, strict: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "c"
        corpus.mkdir()
        names = []
        for number, (data, suffix, packing, noise) in enumerate(files):
            name = f"f{number}{suffix}" + ("" if packing == "plain" else ".gz")
            (corpus / name).write_bytes(packed(data, packing, noise))
            names.append(name)
        (corpus / "anchor.txt").write_text("one file that always reads")
        # the read limit keeps any one file small; a bomb in a few bytes cannot take the machine
        settings_ = BuildSettings(strict=strict, max_expanded_bytes=256 << 10, jobs=1)
        try:
            report = build_index([corpus], Path(tmp) / "idx", settings_)
        except InputFormatError as exc:  # a malformed record with --strict: exit 6, file:line named
            assert strict and str(exc).startswith(tuple(names))
            return
        index = load_index(Path(tmp) / "idx")
        indexed = {index.passages.paths[i] for i in range(len(index.passages))}
        assert "anchor.txt" in indexed
        listed = {s.path.split(":")[0].split(" record ")[0] for s in report.skipped}
        for name in names:  # each file was indexed, or is listed as skipped with its reason
            assert name in indexed or name in listed, (name, report.skipped)
