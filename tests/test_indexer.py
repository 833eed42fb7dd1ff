"""Index builds: parallel counting equals serial, and incremental re-indexing equals a full rebuild."""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import write_files
from crafted import payload_file

from ragcli.analysis import Analyzer, AnalyzerSettings
from ragcli.errors import EmptyCorpusError, IndexLockedError, IndexWriteError, InvalidOptionError
from ragcli.indexing import build as indexer
from ragcli.indexing import counting, plan
from ragcli.indexing.build import build_index
from ragcli.indexing.columns import PassageColumns, StringColumn
from ragcli.indexing.settings import BuildSettings
from ragcli.readers.base import SourceInput
from ragcli.readers.markup import MARKUP_VERSION
from ragcli.readers.records import RECORDS_VERSION
from ragcli.readers.selection import Selection
from ragcli.readers.text import TextReader
from ragcli.records import PASSAGES_FILE, Document
from ragcli.retrieval.bm25 import BM25_FILE, BM25Params
from ragcli.retrieval.index import PassageStore, load_index
from ragcli.retrieval.metadata import MetadataTable
from ragcli.retrieval.tfidf import TfidfParams
from ragcli.store import StringTable

QUERIES = ["electricity", "wind turbine", "solar silicon cells", "batteries night", "heat steam", "dams water"]


def snapshot(index_dir: Path) -> dict:
    """Everything a user can observe: passages and every query's ranked ids and scores, both retrievers."""
    index = load_index(index_dir)
    passages = index.passages
    rows = sorted(
        (passages.ids[i], passages.doc_ids[i], passages.texts[i], int(passages.line[i])) for i in range(len(passages))
    )
    results = {
        (q, r): [(h.id, round(h.score, 5)) for h in index.search(q, k=50, retriever=r)]
        for q in QUERIES
        for r in ("bm25", "tfidf")
    }
    return {"rows": rows, "results": results, "terms": list(index.lexicon.terms), "counts": index.manifest["counts"]}


def touch_later(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def test_parallel_counting_equals_serial(small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(30):
        (small_corpus / f"extra{i}.txt").write_text(f"document {i} about wind and solar electricity " * (i % 5 + 1))
    build_index([small_corpus], tmp_path / "serial", BuildSettings(jobs=1))
    monkeypatch.setattr(counting, "PARALLEL_MIN_PASSAGES", 0)
    monkeypatch.setattr(indexer, "BATCH_PASSAGES", 3)
    build_index([small_corpus], tmp_path / "parallel", BuildSettings(jobs=2))
    assert snapshot(tmp_path / "parallel") == snapshot(tmp_path / "serial")


def test_jobs_never_start_more_processes_than_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    # each worker is an interpreter of its own: --jobs 32 on 2 CPUs started 32 (1.7 GB for nothing)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert [BuildSettings(jobs=n).workers() for n in (1, 2, 32, 100_000)] == [1, 2, 2, 2]
    assert BuildSettings().workers() == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert (BuildSettings().workers(), BuildSettings(jobs=8).workers()) == (4, 8)


def test_unchanged_corpus_is_up_to_date(small_corpus: Path, small_index: Path) -> None:
    generation = json.loads((small_index / "manifest.json").read_text())["generation"]
    report = build_index([small_corpus], small_index)
    assert report.up_to_date and report.unchanged == 5 and report.new == report.changed == report.removed == 0
    assert json.loads((small_index / "manifest.json").read_text())["generation"] == generation


def test_an_up_to_date_build_reports_the_index_as_the_build_that_made_it(small_corpus: Path, tmp_path: Path) -> None:
    (small_corpus / "notes.bin").write_bytes(b"\x00\x01binary\x00" * 50)  # skipped: a file that is not text
    (small_corpus / ".ignore").write_text("left-out.txt\n")
    (small_corpus / "left-out.txt").write_text("ignored by the ignore file")
    index_dir = tmp_path / "idx"
    first = build_index([small_corpus], index_dir)
    again = build_index([small_corpus], index_dir)
    assert again.up_to_date and not first.up_to_date
    for name in ("index_dir", "documents", "passages", "terms", "files", "size_bytes", "ignored", "files_read"):
        assert getattr(again, name) == getattr(first, name), name
    assert again.index_dir == str(index_dir) and again.size_bytes == load_index(index_dir).size_bytes() > 0
    assert (again.ignored, again.files, again.files_read) == (1, first.files_read + 1, first.files_read)
    assert [s.path for s in again.skipped] == [s.path for s in first.skipped] == ["notes.bin"]
    assert again.warnings == [] and 0 <= again.seconds < first.seconds + 60
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["selection"] == {"include": [], "exclude": [], "ignore_files": True} and "sql" not in manifest
    built = manifest["built"]  # when, in UTC, to the second
    assert built.endswith("+00:00") and len(built) == len("2026-12-04T11:00:00+00:00")


def test_edits_reindex_only_what_changed_and_equal_a_rebuild(
    small_corpus: Path, small_index: Path, tmp_path: Path
) -> None:
    (small_corpus / "wind.txt").write_text("Wind turbines\n\nOffshore wind farms make electricity at sea.\n")
    touch_later(small_corpus / "wind.txt")
    (small_corpus / "notes" / "hydro.rst").unlink()
    (small_corpus / "new.md").write_text("# Tides\n\nTidal power uses the sea to make electricity.\n")
    report = build_index([small_corpus], small_index)
    assert (report.new, report.changed, report.removed, report.unchanged) == (1, 1, 1, 3)
    build_index([small_corpus], tmp_path / "full", BuildSettings(rebuild=True))
    assert snapshot(small_index) == snapshot(tmp_path / "full")


def files_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files builds read from now on, in order (the list fills as they read)."""
    read: list[str] = []
    original = indexer.CorpusReader.read_file

    def spy(self, path):  # type: ignore[no-untyped-def]
        read.append(path.name)
        return original(self, path)

    monkeypatch.setattr(indexer.CorpusReader, "read_file", spy)
    return read


def test_a_newer_version_of_a_reader_reads_its_files_again_once(
    small_corpus: Path, small_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ragcli that reads a format better re-reads the files of that format, and only those, without
    --rebuild: the index records which reader, and which version of it, read each file."""
    from ragcli.readers.markup import MarkdownReader

    version = MarkdownReader.version
    sources = {s["path"]: s for s in load_index(small_index).manifest["sources"]}
    assert sources["solar.md"]["reader"] == f"markdown/{version}" and sources["wind.txt"]["reader"] == "text/1"
    assert build_index([small_corpus], small_index).up_to_date
    monkeypatch.setattr(MarkdownReader, "version", version + 1)
    read = files_read(monkeypatch)
    report = build_index([small_corpus], small_index)
    markdown = sorted(p.name for p in small_corpus.rglob("*.md"))
    assert sorted(read) == markdown and report.newer_reader == len(markdown)
    assert not report.up_to_date and (report.new, report.changed, report.removed) == (0, 0, 0)
    assert report.unchanged == 5  # the six files less the hidden one
    assert report.to_dict()["files_newer_reader"] == len(markdown)
    newer = f"markdown/{version + 1}"
    assert {s["path"]: s["reader"] for s in load_index(small_index).manifest["sources"]}["solar.md"] == newer
    read.clear()
    assert build_index([small_corpus], small_index).up_to_date and read == []
    build_index([small_corpus], tmp_path / "full", BuildSettings(rebuild=True))
    assert snapshot(small_index) == snapshot(tmp_path / "full")


def test_an_index_that_recorded_no_reader_was_read_by_version_1(small_corpus: Path, tmp_path: Path) -> None:
    """Indexes built before readers were recorded: their files count as read by version 1 of the reader
    that claims them now, so a re-index reads again only the formats whose reader is newer."""
    from ragcli.readers.base import READERS, recorded_edition

    text = READERS.get("text")
    assert recorded_edition({"path": "a.txt"}, text) == "text/1"
    assert recorded_edition({"path": "a.txt", "reader": "markdown/3"}, text) == "markdown/3"


def test_touched_but_identical_file_is_not_reread(
    small_corpus: Path, small_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    touch_later(small_corpus / "solar.md")
    read = files_read(monkeypatch)
    report = build_index([small_corpus], small_index)
    assert read == [] and (report.new, report.changed, report.removed, report.unchanged) == (0, 0, 0, 5)
    assert report.touched == 1
    # its new time is recorded, as a full build would: in the manifest (not hashed again next time) and
    # in its documents' `mtime` (what `--where mtime…` filters on)
    assert not report.up_to_date
    assert build_index([small_corpus], small_index).up_to_date
    index = load_index(small_index)
    entry = next(s for s in index.manifest["sources"] if s["path"] == "solar.md")
    assert entry["mtime_ns"] == (small_corpus / "solar.md").stat().st_mtime_ns
    build_index([small_corpus], tmp_path / "full", BuildSettings(rebuild=True))
    full = load_index(tmp_path / "full")
    assert [index.metadata_of(i) for i in range(len(index.passages))] == [
        full.metadata_of(i) for i in range(len(full.passages))
    ]
    assert snapshot(small_index) == snapshot(tmp_path / "full")


def test_changed_settings_force_a_full_build(small_corpus: Path, small_index: Path) -> None:
    from ragcli.chunking import ChunkSettings

    report = build_index([small_corpus], small_index, BuildSettings(chunking=ChunkSettings(size=5, overlap=1)))
    assert report.new == 5 and report.unchanged == 0
    assert load_index(small_index).manifest["chunking"]["size"] == 5


def test_new_bm25_parameters_reweight_without_rereading(small_corpus: Path, small_index: Path, tmp_path: Path) -> None:
    from ragcli.retrieval.bm25 import BM25Params

    params = BM25Params(k1=2.0, b=0.2)
    report = build_index([small_corpus], small_index, BuildSettings(retrievers={"bm25": params}))
    assert (report.new, report.changed, report.removed) == (0, 0, 0)  # no file read again
    assert not report.up_to_date  # re-weighted: something was done, and the report says what
    assert report.updated == [
        {"retriever": "bm25", "action": "rebuilt", "changed": {"k1": [1.0, 2.0], "b": [0.6, 0.2]}}
    ]
    build_index([small_corpus], tmp_path / "full", BuildSettings(retrievers={"bm25": params}))
    assert snapshot(small_index) == snapshot(tmp_path / "full")


def test_skipped_files_stay_reported_on_reruns(small_corpus: Path, tmp_path: Path) -> None:
    write_files(small_corpus, {"image.png": b"\x89PNG", "blob.txt": b"\x00\x01", "empty.txt": ""})
    first = build_index([small_corpus], tmp_path / "idx")
    second = build_index([small_corpus], tmp_path / "idx")
    assert second.up_to_date
    assert sorted((s.path, s.reason) for s in second.skipped) == sorted((s.path, s.reason) for s in first.skipped)
    assert len(first.skipped) == 3


def test_an_id_another_file_holds_is_qualified_and_follows_that_file(tmp_path: Path) -> None:
    """Two files numbering their records from the same ids both stay whole; the later file's records
    are `<file>#<id>` while the earlier one holds the id, and take it back once it does not, exactly as
    a full rebuild would name them (an unchanged file is read again for that, and only then)."""
    corpus = write_files(tmp_path / "c", {"b.jsonl": '{"id": "x", "text": "second"}\n'})
    build_index([corpus], tmp_path / "idx")

    def doc_ids() -> dict[str, str]:
        index = load_index(tmp_path / "idx")
        return {index.passages.texts[i]: index.passages.doc_ids[i] for i in range(len(index.passages))}

    def equals_a_rebuild() -> bool:
        build_index([corpus], tmp_path / "full", BuildSettings(rebuild=True))
        return snapshot(tmp_path / "idx") == snapshot(tmp_path / "full")

    write_files(corpus, {"a.jsonl": '{"id": "x", "text": "first"}\n'})  # read before b.jsonl: takes "x"
    report = build_index([corpus], tmp_path / "idx")
    assert report.skipped == [] and (report.new, report.unchanged) == (1, 1)
    assert report.warnings == [
        "b.jsonl: 1 of its document ids were another file's first; they are indexed as 'b.jsonl#<id>'"
    ]
    assert doc_ids() == {"first": "x", "second": "b.jsonl#x"} and equals_a_rebuild()

    write_files(corpus, {"c.txt": "third"})  # a change elsewhere: b.jsonl is read again, named the same
    assert build_index([corpus], tmp_path / "idx").unchanged == 2
    assert doc_ids()["second"] == "b.jsonl#x" and equals_a_rebuild()

    (corpus / "a.jsonl").unlink()
    report = build_index([corpus], tmp_path / "idx")
    assert (report.removed, report.unchanged) == (1, 2) and report.warnings == []
    assert doc_ids() == {"second": "x", "third": "c.txt"} and equals_a_rebuild()
    write_files(corpus, {"a.jsonl": '{"id": "x", "text": "first"}\n{"id": "x", "text": "again"}\n'})
    report = build_index([corpus], tmp_path / "idx")  # b.jsonl is unchanged, but "x" is a.jsonl's now
    assert [(s.path, s.reason) for s in report.skipped] == [("a.jsonl:2", "duplicate id 'x'")]
    assert doc_ids() == {"first": "x", "second": "b.jsonl#x", "third": "c.txt"} and equals_a_rebuild()


def recorded_source(index_dir: Path, rel: str) -> dict:
    return next(s for s in load_index(index_dir).manifest["sources"] if s["path"] == rel)


@pytest.mark.parametrize("shift_ns", [-3_000_000_000, 3_000_000_000])
def test_same_size_new_content_is_read_again(small_corpus: Path, small_index: Path, shift_ns: int) -> None:
    """Same size, a modification time other than the recorded one: the checksum decides, and it differs.
    (A check on size alone would keep the old passages.)"""
    path = small_corpus / "wind.txt"
    recorded = recorded_source(small_index, "wind.txt")
    old = path.read_bytes()
    new = old.replace(b"kinetic", b"zephyrs")
    assert new != old and len(new) == len(old) == recorded["bytes"]
    path.write_bytes(new)
    os.utime(path, ns=(recorded["mtime_ns"], recorded["mtime_ns"] + shift_ns))
    report = build_index([small_corpus], small_index)
    assert (report.changed, report.unchanged) == (1, 4) and not report.up_to_date
    index = load_index(small_index)
    assert [h.doc_id for h in index.search("zephyrs")] == ["wind.txt"]
    assert index.search("kinetic") == []
    assert recorded_source(small_index, "wind.txt")["mtime_ns"] == recorded["mtime_ns"] + shift_ns


def test_a_file_edited_while_it_is_read_is_read_again_by_the_next_re_index(
    small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The size and times recorded for a file are those it had when it was opened: an edit made while it
    was read leaves a newer modification time, which the next re-index sees. (Recorded after the read,
    the edit's time sat beside the old content's hash, and every later re-index said "Up to date".)"""
    path = small_corpus / "wind.txt"
    read = TextReader.read

    def read_then_edit(self: TextReader, source: SourceInput) -> Iterator[Document]:
        yield from read(self, source)
        path.write_bytes(path.read_bytes().replace(b"kinetic", b"zephyrs"))  # the same size
        touch_later(path)

    monkeypatch.setattr(TextReader, "read", read_then_edit)
    build_index([small_corpus], tmp_path / "idx")
    monkeypatch.undo()
    report = build_index([small_corpus], tmp_path / "idx")
    assert (report.changed, report.unchanged) == (1, 4) and not report.up_to_date
    assert [h.doc_id for h in load_index(tmp_path / "idx").search("zephyrs")] == ["wind.txt"]


def test_new_size_with_the_recorded_mtime_is_read_again(small_corpus: Path, small_index: Path) -> None:
    """Content and size change while the modification time is put back to the recorded one (a copy
    that preserves times, a coarse clock): the size alone shows the change."""
    path = small_corpus / "wind.txt"
    recorded = recorded_source(small_index, "wind.txt")
    path.write_text(path.read_text() + "Zephyrs are gentle winds.\n")
    os.utime(path, ns=(recorded["mtime_ns"], recorded["mtime_ns"]))
    report = build_index([small_corpus], small_index)
    assert (report.changed, report.unchanged) == (1, 4)
    assert [h.doc_id for h in load_index(small_index).search("zephyrs")] == ["wind.txt"]


@pytest.mark.parametrize("earlier", [None, RECORDS_VERSION - 1])
def test_an_index_whose_records_were_read_by_older_rules_is_read_again(tmp_path: Path, earlier: int | None) -> None:
    """Title-only records were dropped before (records version 1), a record whose id another file held
    was skipped (2): reusing such an index would keep them missing, so a build reads every file again once."""
    corpus = write_files(tmp_path / "c", {"d.jsonl": '{"id": "t", "title": "Only a title", "text": ""}\n'})
    assert build_index([corpus], tmp_path / "idx").documents == 1
    manifest_path = tmp_path / "idx" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["reading"].pop("records") == RECORDS_VERSION
    if earlier is not None:
        manifest["reading"]["records"] = earlier
    manifest_path.write_text(json.dumps(manifest))  # as an earlier ragcli wrote it
    again = build_index([corpus], tmp_path / "idx")
    assert (again.unchanged, again.documents, again.up_to_date) == (0, 1, False)
    assert build_index([corpus], tmp_path / "idx").up_to_date


def test_reindexing_without_paths_needs_an_index_to_reread(tmp_path: Path) -> None:
    with pytest.raises(InvalidOptionError) as caught:
        indexer.stored_roots(tmp_path / "no-index")
    assert caught.value.message == "no PATH given and no index to re-read"
    assert caught.value.hint == "ragcli index PATH..."


def test_settings_given_as_a_dict_are_a_usage_error_before_any_work(small_corpus: Path, tmp_path: Path) -> None:
    """A dict as `settings` was a raw AttributeError ('dict' object has no attribute 'selection')."""
    with pytest.raises(InvalidOptionError, match="settings must be BuildSettings, not dict"):
        build_index([small_corpus], tmp_path / "idx", {"chunking": 1})  # type: ignore[arg-type]
    assert not (tmp_path / "idx").exists()


def test_a_spool_folder_that_cannot_be_used_is_a_write_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(IndexWriteError) as caught:
        StringColumn(spill_dir=missing)
    assert caught.value.message == (
        f"cannot spool passage texts in {missing}: No such file or directory; no index was written"
    )
    # a write() that fails on a read-only file system carries no file name: the hint names the folder
    column = StringColumn(spill_dir=tmp_path)
    try:
        error = column._error(OSError(errno.EROFS, "Read-only file system"))
    finally:
        column.close()
    assert isinstance(error, IndexWriteError)
    assert error.hint == f"{tmp_path} is on a read-only file system: mount it read-write, or choose another --index"


def test_reindexing_without_paths_rereads_the_roots_the_index_was_built_from(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "corpus", {"a.txt": "alpha beta", "b.txt": "gamma delta"})
    build_index([corpus], tmp_path / "index", BuildSettings())
    assert indexer.stored_roots(tmp_path / "index") == [corpus]


def test_a_corpus_emptied_since_the_last_build_says_the_index_still_holds_its_passages(tmp_path: Path) -> None:
    """Every file of the corpus deleted: an index of no passages cannot be written, and "no text to index"
    alone let the deleted files' passages stay searchable unsaid. The error says the index is left as it
    was, with how many passages, and how to drop them."""
    corpus = write_files(tmp_path / "c", {"s.txt": "secret password hunter2"})
    build_index([corpus], tmp_path / "idx")
    (corpus / "s.txt").unlink()
    with pytest.raises(EmptyCorpusError) as raised:
        build_index([corpus], tmp_path / "idx")
    assert raised.value.message == (
        f"no text to index in {corpus}; the index is left as it was: it still holds 1 passage of the files read before"
    )
    assert raised.value.hint is not None and raised.value.hint.startswith("no supported files found; ")
    assert f"delete {tmp_path / 'idx'}" in raised.value.hint and "--replace-roots" in raised.value.hint
    assert [h.doc_id for h in load_index(tmp_path / "idx").search("password")] == ["s.txt"]


@pytest.mark.parametrize(
    ("files", "hint"),
    [
        (0, "no supported files found"),
        (
            3,
            "3 skipped: f1.bin: unsupported file type .bin; f2.bin: unsupported file type .bin; "
            "f3.bin: unsupported file type .bin",
        ),
        (
            4,  # the boundary: one more than is shown
            "4 skipped: f1.bin: unsupported file type .bin; f2.bin: unsupported file type .bin; "
            "f3.bin: unsupported file type .bin; and 1 more; --verbose lists them all",
        ),
        (
            5,
            "5 skipped: f1.bin: unsupported file type .bin; f2.bin: unsupported file type .bin; "
            "f3.bin: unsupported file type .bin; and 2 more; --verbose lists them all",
        ),
    ],
)
def test_nothing_to_index_shows_the_first_three_files_skipped_and_counts_the_rest(
    tmp_path: Path, files: int, hint: str
) -> None:
    corpus = write_files(tmp_path / "corpus", {f"f{i}.bin": "binary" for i in range(1, files + 1)})
    corpus.mkdir(exist_ok=True)
    with pytest.raises(EmptyCorpusError) as caught:
        build_index([corpus], tmp_path / "index", BuildSettings())
    assert caught.value.message == f"no text to index in {corpus}"
    assert caught.value.hint == hint
    assert [s.path for s in caught.value.skipped] == [f"f{i}.bin" for i in range(1, files + 1)]


def test_nothing_to_index_because_of_the_selection_says_so(tmp_path: Path) -> None:
    # "--include '*.md'" in a folder of .txt files said "no supported files found"
    corpus = write_files(tmp_path / "corpus", {"a.txt": "alpha beta", "b.txt": "gamma", "c.bin": "x"})
    with pytest.raises(EmptyCorpusError) as caught:
        build_index([corpus], tmp_path / "index", BuildSettings(selection=Selection(include=("*.md", "*.bin"))))
    assert caught.value.hint == (
        "2 files and folders left out by --include/--exclude or an ignore file; 1 skipped: c.bin: unsupported file type .bin"
    )


def plain_analyzer() -> Analyzer:
    return Analyzer(AnalyzerSettings(stopwords=False, stem=False))


def test_counts_of_a_full_build_have_their_columns_in_sorted_term_order() -> None:
    builder = counting.CountMatrixBuilder(Analyzer(AnalyzerSettings(stem=False)))  # stop words dropped
    # a batch may end with rows that keep no term (stop words only, or empty): they stay rows
    builder.add_batch(*counting.count_surfaces(["the delta the beta delta", "alpha", "the", ""], AnalyzerSettings()))
    builder.add_batch(*counting.count_surfaces(["beta Beta the"], AnalyzerSettings()))
    counts, vocabulary = builder.finish()
    assert vocabulary == ["alpha", "beta", "delta"]
    assert counts.toarray().tolist() == [[0, 1, 2], [1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 2, 0]]
    assert builder.kept_ids() is None  # no earlier vocabulary


def test_reused_rows_keep_their_counts_and_the_earlier_ids_are_reported() -> None:
    """A re-index: the earlier vocabulary is registered first, rows are copied from the earlier count
    matrix, new text adds a term. Terms no row uses any more leave the vocabulary; `kept_ids` gives each
    final term's id in the earlier vocabulary (-1: new), so the lexicon rehashes only the new ones."""
    import scipy.sparse as sp

    old_terms = ["apple", "banana", "cherry"]
    old_counts = sp.csr_matrix(np.array([[1, 0, 2], [0, 3, 0], [4, 0, 0]], dtype=np.int32))
    builder = counting.CountMatrixBuilder(plain_analyzer())
    builder.keep_ids(old_terms)
    builder.add_rows(old_counts, old_terms, 1, 3)  # rows 1 and 2: banana×3, apple×4
    builder.add_batch(*counting.count_surfaces(["aardvark banana"], AnalyzerSettings()))
    counts, vocabulary = builder.finish()
    assert vocabulary == ["aardvark", "apple", "banana"]  # cherry is used by no row left
    assert counts.toarray().tolist() == [[0, 0, 3], [0, 4, 0], [1, 0, 1]]
    assert builder.kept_ids().tolist() == [-1, 0, 1]
    # canonical CSR (each row's columns ascending), which the term-major cache of ragcli.retrieval.sparse needs
    assert all((np.diff(counts.indices[a:b]) > 0).all() for a, b in zip(counts.indptr[:-1], counts.indptr[1:]))


def test_an_earlier_vocabulary_listing_a_term_twice_still_counts_it_once() -> None:
    import scipy.sparse as sp

    old_terms = ["apple", "apple", "banana"]  # not an earlier build's sorted vocabulary: ids by first appearance
    old_counts = sp.csr_matrix(np.array([[1, 2, 0], [0, 0, 5]], dtype=np.int32))
    builder = counting.CountMatrixBuilder(plain_analyzer())
    builder.add_rows(old_counts, old_terms, 0, 2)
    counts, vocabulary = builder.finish()
    assert vocabulary == ["apple", "banana"]
    assert counts.toarray().tolist() == [[3, 0], [0, 5]]
    assert builder.kept_ids() is None


@pytest.mark.parametrize("spill", [False, True])
def test_copied_rows_of_a_string_table_follow_the_rows_already_there(tmp_path: Path, spill: bool) -> None:
    table = StringTable.from_strings(["zéro", "one", "twø", "three"])
    column = StringColumn(spill_dir=tmp_path if spill else None)
    try:
        column.append("first")
        column.extend_from(table, 1, 3)
        column.extend_from(table, 0, 1)
        column.extend_from(table, 2, 2)  # nothing
        column.append("last")
        assert list(column.table()) == ["first", "one", "twø", "zéro", "last"]
    finally:
        column.close()


def test_an_index_is_intact_until_a_payload_changes(small_index: Path) -> None:
    assert plan.intact(load_index(small_index))
    target = payload_file(small_index, BM25_FILE)
    data = bytearray(target.read_bytes())
    data[-10] ^= 0xFF
    target.write_bytes(bytes(data))
    index = load_index(small_index)
    assert not plan.intact(index)
    assert plan.intact(index, rebuilt=[BM25_FILE])  # a payload the build rewrites from the counts is not read
    assert not plan.intact(index, rebuilt=[PASSAGES_FILE])


def test_rows_reused_from_two_count_matrices_are_mapped_by_their_own_vocabularies() -> None:
    import scipy.sparse as sp

    builder = counting.CountMatrixBuilder(plain_analyzer())
    first_terms, second_terms = ["apple", "banana"], ["banana", "cherry"]
    builder.add_rows(sp.csr_matrix(np.array([[1, 2]], dtype=np.int32)), first_terms, 0, 1)
    builder.add_rows(sp.csr_matrix(np.array([[3, 4]], dtype=np.int32)), second_terms, 0, 1)
    builder.add_rows(sp.csr_matrix(np.array([[5, 0]], dtype=np.int32)), first_terms, 0, 1)
    counts, vocabulary = builder.finish()
    assert vocabulary == ["apple", "banana", "cherry"]
    assert counts.toarray().tolist() == [[1, 2, 0], [0, 3, 4], [5, 0, 0]]


def test_a_count_matrix_with_no_rows_is_empty() -> None:
    counts, vocabulary = counting.CountMatrixBuilder(plain_analyzer()).finish()
    assert (counts.shape, counts.dtype, vocabulary) == ((0, 0), np.int32, [])


def test_terms_of_the_earlier_vocabulary_no_row_uses_leave_it() -> None:
    import scipy.sparse as sp

    old_terms = ["apple", "banana", "cherry"]
    builder = counting.CountMatrixBuilder(plain_analyzer())
    builder.add_rows(sp.csr_matrix(np.array([[2, 0, 0], [0, 1, 1]], dtype=np.int32)), old_terms, 0, 1)
    counts, vocabulary = builder.finish()
    assert vocabulary == ["apple"]
    assert counts.toarray().tolist() == [[2]]
    assert builder.kept_ids().tolist() == [0]


def test_terms_met_out_of_order_are_sorted_with_their_counts() -> None:
    builder = counting.CountMatrixBuilder(plain_analyzer())
    builder.add_batch(
        *counting.count_surfaces(["beta alpha alpha gamma gamma gamma delta delta delta delta"], AnalyzerSettings())
    )
    counts, vocabulary = builder.finish()
    assert vocabulary == ["alpha", "beta", "delta", "gamma"]
    assert counts.toarray().tolist() == [[2, 1, 4, 3]]


def test_a_lone_surrogate_is_stored_as_a_question_mark(tmp_path: Path) -> None:
    column = StringColumn()
    column.append("a\ud800b")  # what JSON's "\\ud800" decodes to: no UTF-8 for it
    assert list(column.table()) == ["a?b"]


@pytest.mark.parametrize("spill", [False, True])
def test_a_column_of_empty_strings_is_a_consistent_table(tmp_path: Path, spill: bool) -> None:
    column = StringColumn(spill_dir=tmp_path if spill else None)
    try:
        column.append("")
        column.append("")
        table = column.table()
        assert list(table) == ["", ""]
        assert table.consistent() and len(table.blob) == 0 and table.blob.dtype == np.uint8  # what the loader checks
    finally:
        column.close()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("buffering", [0, -1])  # the write fails, or the flush before the table is mapped
def test_a_full_disk_while_spooling_is_a_write_error(tmp_path: Path, buffering: int) -> None:
    column = StringColumn(spill_dir=tmp_path)
    column.close()
    column.blob = open("/dev/full", "wb", buffering=buffering)  # noqa: SIM115  # ENOSPC, as on a full disk
    try:
        with pytest.raises(IndexWriteError) as caught:
            column.append("text")
            column.table()
    finally:
        column.close()
    assert caught.value.message == (
        f"cannot spool passage texts in {tmp_path}: No space left on device; no index was written"
    )
    assert caught.value.hint.startswith("free some disk space")


def test_passages_copied_from_an_index_keep_every_field_and_their_documents_metadata(small_index: Path) -> None:
    index = load_index(small_index)
    store = index.passages
    assert len(store) >= 5
    columns = PassageColumns()
    try:
        columns.extend_from(index, 3, 5)
        columns.extend_from(index, 0, 2)
        rows = [3, 4, 0, 1]
        copy = PassageStore(columns.payload())
        assert len(columns) == len(copy) == 4
        assert columns.ids == [store.ids[i] for i in rows]
        for name in ("ids", "doc_ids", "titles", "paths", "texts"):
            assert list(getattr(copy, name)) == [getattr(store, name)[i] for i in rows], name
        for name in ("line", "start", "end", "page"):
            assert getattr(copy, name).tolist() == [int(getattr(store, name)[i]) for i in rows], name
        metadata = MetadataTable(columns.metadata.payload(), 4)
        assert [metadata.of_passage(i) for i in range(4)] == [index.metadata.of_passage(i) for i in rows]
        assert index.metadata.of_passage(3)  # the small corpus's documents do have metadata
    finally:
        columns.close()


def test_reweight_fails_at_once_while_another_build_holds_the_lock(tmp_path: Path) -> None:
    """`tune --apply` does not queue behind a running build (no --wait there): exit 10 at once."""
    from concurrent.futures import ThreadPoolExecutor

    from ragcli.indexdir import index_lock

    corpus = write_files(tmp_path / "corpus", {"a.txt": "alpha beta", "b.txt": "gamma delta"})
    build_index([corpus], tmp_path / "index", BuildSettings())
    with ThreadPoolExecutor(1) as pool, index_lock(tmp_path / "index"):  # the lock is let go first
        attempt = pool.submit(indexer.reweight, tmp_path / "index", {"bm25": BM25Params(k1=0.9, b=0.4)})
        with pytest.raises(IndexLockedError, match="--wait"):
            attempt.result(timeout=60)  # a reweight that waited would still be waiting here


def test_a_manifest_replaced_while_reweighting_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another build published while the new weights were computed (its lock deleted by hand): the
    reweight does not overwrite that manifest, and says so."""
    corpus = write_files(tmp_path / "corpus", {"a.txt": "alpha beta", "b.txt": "gamma delta"})
    index_dir = tmp_path / "index"
    build_index([corpus], index_dir, BuildSettings())
    manifest = index_dir / "manifest.json"
    original = indexer._write_retrievers

    def another_build_publishes_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        replacement = index_dir / "replacement.json"
        replacement.write_bytes(manifest.read_bytes())
        os.replace(replacement, manifest)  # a new file in its place, as a build's publish does
        return original(*args, **kwargs)

    monkeypatch.setattr(indexer, "_write_retrievers", another_build_publishes_meanwhile)
    published = manifest.read_bytes()
    with pytest.raises(IndexLockedError, match="another build replaced the index"):
        indexer.reweight(index_dir, {"bm25": BM25Params(k1=0.9, b=0.4)})
    assert manifest.read_bytes() == published and json.loads(published)["bm25"]["k1"] != 0.9


def test_retriever_updates_reports_each_retriever_on_its_own() -> None:
    """A retriever with nothing before or after, or one removed, does not end the report: the ones
    after it in the registry's order (bm25, tfidf, dense) are still reported."""
    dense = {"settings": {"model": "m", "precision": "fp32"}, "embedded": 4, "reused": 0}
    assert indexer.retriever_updates({}, {"tfidf": {"sublinear_tf": True}}) == [
        {"retriever": "tfidf", "action": "added"}
    ]
    assert indexer.retriever_updates({"tfidf": {"sublinear_tf": True}}, {"dense": dense}) == [
        {"retriever": "tfidf", "action": "removed"},
        {"retriever": "dense", "action": "added", "embedded": 4},
    ]


def test_reweight_keeps_the_other_retrievers_recorded_settings(tmp_path: Path) -> None:
    """`tune --apply` changes BM25 only: TF-IDF built with non-default settings keeps them."""
    from ragcli.retrieval.tfidf import TfidfParams

    corpus = write_files(tmp_path / "corpus", {"a.txt": "alpha beta beta", "b.txt": "gamma delta alpha"})
    plain = TfidfParams(sublinear_tf=False, smooth_idf=False)
    build_index([corpus], tmp_path / "index", BuildSettings(retrievers={"tfidf": plain}))
    indexer.reweight(tmp_path / "index", {"bm25": BM25Params(k1=0.9, b=0.4)})
    manifest = load_index(tmp_path / "index").manifest
    assert (manifest["bm25"]["k1"], manifest["bm25"]["b"]) == (0.9, 0.4)
    assert manifest["tfidf"] == {"sublinear_tf": False, "smooth_idf": False}


def test_retriever_updates_compare_a_sections_settings_not_its_counts() -> None:
    """Dense keeps its settings under "settings" beside the counts; a flat section (an older or a
    plugin's) keeps them at the top: either way the embedded/reused counts are no setting."""
    settings = {"model": "m", "precision": "fp32"}
    before = {"dense": {"settings": settings, "embedded": 10, "reused": 0}}
    extended = {"dense": {"settings": settings, "embedded": 3, "reused": 10}}
    assert indexer.retriever_updates(before, extended) == [{"retriever": "dense", "action": "extended", "embedded": 3}]
    other_model = {"dense": {"settings": {**settings, "model": "n"}, "embedded": 13, "reused": 0}}
    assert indexer.retriever_updates(before, other_model) == [
        {"retriever": "dense", "action": "rebuilt", "changed": {"model": ["m", "n"]}, "embedded": 13}
    ]
    flat_before = {"dense": {**settings, "embedded": 10, "reused": 0}}
    flat_after = {"dense": {**settings, "embedded": 2, "reused": 10}}
    assert indexer.retriever_updates(flat_before, flat_after) == [
        {"retriever": "dense", "action": "extended", "embedded": 2}
    ]
    # a count that is no number (a hand-edited or a plugin's section) is no count: not reported
    odd = {"dense": {"settings": {**settings, "model": "n"}, "embedded": "13", "reused": 0}}
    assert indexer.retriever_updates(before, odd) == [
        {"retriever": "dense", "action": "rebuilt", "changed": {"model": ["m", "n"]}}
    ]


def test_nothing_to_index_in_several_roots_names_them_all(tmp_path: Path) -> None:
    first = write_files(tmp_path / "a", {"x.bin": "binary"})
    second = write_files(tmp_path / "b", {"y.bin": "binary"})
    with pytest.raises(EmptyCorpusError) as caught:
        build_index([first, second], tmp_path / "index", BuildSettings())
    assert caught.value.message == f"no text to index in {first}, {second}"


def test_markdown_link_definitions_are_left_out_and_an_older_index_reads_markdown_again(tmp_path: Path) -> None:
    """`[label]: url` lines are link targets Markdown never shows (dozens end each of Node's docs): blanked,
    so lines and offsets stay the file's; one in fenced code is code. An index read before (no "markup"
    in its reading settings) still holds them: a build reads every file again once."""
    text = (
        "# Streams\n\nA stream is an abstract interface, see [Readable][].\n\n"
        "```md\n[kept]: in-code.md\n```\n\nStreams can be readable or writable.\n\n"
        '[Readable]: stream.md#readable-streams\n[`fs`]: fs.md "File system"\n'
    )
    corpus = write_files(tmp_path / "c", {"streams.md": text})
    build_index([corpus], tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    indexed = " ".join(index.passages.texts[i] for i in range(len(index.passages)))
    assert "readable-streams" not in indexed and "fs.md" not in indexed and "[kept]: in-code.md" in indexed
    assert index.lexicon.term_id("fs") is None  # the label and the target were never counted
    hit = index.search("writable", k=1)[0]
    assert hit.line == 1 and text[hit.start : hit.end] == hit.text  # offsets are the file's
    manifest_path = tmp_path / "idx" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["reading"].pop("markup") == MARKUP_VERSION
    manifest_path.write_text(json.dumps(manifest))  # as an earlier ragcli wrote it
    again = build_index([corpus], tmp_path / "idx")
    assert (again.unchanged, again.up_to_date) == (0, False)
    assert build_index([corpus], tmp_path / "idx").up_to_date


def test_a_build_never_swaps_in_an_index_its_own_query_would_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--chunk-size 0 --chunk-overlap 2**63 once built (exit 0) an index `query` refused as damaged: the
    manifest a build publishes passes the loader's checks first, else the previous index stays."""
    from ragcli.chunking import ChunkSettings

    corpus = write_files(tmp_path / "c", {"a.txt": "bees make honey"})
    build_index([corpus], tmp_path / "idx")
    before = (tmp_path / "idx" / "manifest.json").read_bytes()
    (corpus / "a.txt").write_text("bees make wax")
    monkeypatch.setattr(ChunkSettings, "to_dict", lambda self: {"size": 2**63, "overlap": 0})
    with pytest.raises(RuntimeError, match=r"not one ragcli reads .*malformed.*the previous one is unchanged"):
        build_index([corpus], tmp_path / "idx")
    assert (tmp_path / "idx" / "manifest.json").read_bytes() == before
    assert load_index(tmp_path / "idx").search("honey", k=1)[0].text == "bees make honey"


def test_a_first_build_that_fails_leaves_the_place_as_it_found_it(tmp_path: Path) -> None:
    """A first `ragcli index` with nothing to index left a folder holding only ragcli's marker and lock;
    a folder the build made is removed again, an empty folder of the user's is left empty."""
    corpus = write_files(tmp_path / "c", {"a.png": b"\x89PNG"})
    with pytest.raises(EmptyCorpusError):
        build_index([corpus], tmp_path / "new" / "idx")
    assert not (tmp_path / "new" / "idx").exists()
    (tmp_path / "mine").mkdir()
    with pytest.raises(EmptyCorpusError):
        build_index([corpus], tmp_path / "mine")
    assert list((tmp_path / "mine").iterdir()) == []
    write_files(corpus, {"a.txt": "bees make honey"})
    build_index([corpus], tmp_path / "mine")
    (corpus / "a.txt").unlink()
    with pytest.raises(EmptyCorpusError):  # an index was there: a failed build keeps it whole
        build_index([corpus], tmp_path / "mine")
    assert load_index(tmp_path / "mine").search("honey", k=1)[0].text == "bees make honey"


@pytest.mark.parametrize(
    "paths, message",
    [
        ("notes", "a list of paths to index is needed, not one string"),
        (Path("notes"), "a list of paths to index is needed, not PosixPath"),
        (["notes", 3], "a path to index must be a str or a Path, not int"),
        ([], "no paths to index"),
    ],
)
def test_build_index_refuses_roots_that_are_no_list_of_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, paths: Any, message: str
) -> None:
    """`build_index("notes", …)` indexed the folders `n/`, `o/`, … one letter each (or failed with
    "c: no such file or folder"), and `build_index([], …)` blamed a --sql query never given."""
    (tmp_path / "n").mkdir()
    (tmp_path / "n" / "a.md").write_text("bees dance\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidOptionError, match=re.escape(message)):
        build_index(paths, tmp_path / "index")
    assert not (tmp_path / "index").exists()


def test_settings_of_another_retriever_are_a_usage_error(small_corpus: Path, tmp_path: Path) -> None:
    """`BuildSettings(retrievers={"bm25": TfidfParams()})` read the whole corpus, then failed with a bare
    AttributeError ('TfidfParams' object has no attribute 'variant')."""
    settings = BuildSettings(retrievers={"bm25": TfidfParams()})
    with pytest.raises(InvalidOptionError, match="retriever 'bm25' takes BM25Params, not TfidfParams"):
        build_index([small_corpus], tmp_path / "index", settings)
