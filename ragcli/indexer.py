"""Building an index: read → split into passages → count terms → BM25 and TF-IDF weights → write.

Made for large corpora and frequent re-runs:

- Term counting runs on both cores (joblib workers tokenise batches of passages while the main
  process reads the next files), and goes straight into sparse count matrices: no per-passage Python
  dictionaries are kept. The analyzer's costly part (stopwords, stemming) runs once per distinct
  surface form, not once per token.
- Passage texts are gathered as UTF-8 bytes, not Python strings.
- Re-indexing is incremental: a file whose size and modification time, or else whose SHA-256, is
  unchanged is not read again; its passages and term counts are copied from the existing index.
  Changed files are re-read, deleted ones dropped, new ones added, and the global BM25 / TF-IDF
  statistics are recomputed from the stored counts (cheap next to tokenising).
"""
from __future__ import annotations

import datetime as _dt
import os
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ragcli.analysis import Analyzer, AnalyzerSettings, surface_tokens
from ragcli.chunking import ChunkSettings, Passage, split_document
from ragcli.corpus import CorpusReader, RecordFields, Skipped
from ragcli.errors import EmptyCorpusError, RagcliError
from ragcli.index import (
    BM25_FILE, COUNTS_FILE, DENSE_FILE, PASSAGES_FILE, TERMS_FILE, TFIDF_FILE, Index, lexicon_payload, load_index,
)
from ragcli.retrieval.bm25 import BM25Params, build_bm25
from ragcli.retrieval.tfidf import TfidfParams, build_tfidf
from ragcli.store import GenerationWriter, StringTable, index_lock, remove_leftovers, resolve_index_dir, sha256_file

BATCH_PASSAGES = 4000  # passages per tokenising task
PARALLEL_MIN_PASSAGES = 20_000  # below this, worker start-up costs more than it saves


@dataclass
class BuildSettings:
    analyzer: AnalyzerSettings = field(default_factory=AnalyzerSettings)
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    bm25: BM25Params = field(default_factory=BM25Params)
    tfidf: TfidfParams = field(default_factory=TfidfParams)
    fields: RecordFields = field(default_factory=RecordFields)
    skip_invalid: bool = False
    rebuild: bool = False  # ignore the existing index and read everything again
    jobs: int | None = None  # tokenising processes (default: the CPU count, at most 4)
    dense: Any = None  # EmbeddingSettings to embed passages (None: keep what the index had, if anything)
    no_dense: bool = False  # drop the dense vectors an earlier build made

    def compatibility(self) -> dict[str, Any]:
        """What an existing index must share with this build for its passages to be reused."""
        return {
            "analyzer": self.analyzer.to_dict(),
            "chunking": self.chunking.to_dict(),
            "fields": {"id": self.fields.id, "text": self.fields.text, "title": self.fields.title},
        }


@dataclass
class BuildReport:
    """What a build did, for the summary line and `--json`."""

    index_dir: str
    documents: int
    passages: int
    terms: int
    files: int
    skipped: list[Skipped]
    warnings: list[str]
    seconds: float
    new: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    up_to_date: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index_dir,
            "documents": self.documents,
            "passages": self.passages,
            "terms": self.terms,
            "files": self.files,
            "files_new": self.new,
            "files_changed": self.changed,
            "files_removed": self.removed,
            "files_unchanged": self.unchanged,
            "up_to_date": self.up_to_date,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }


ProgressCallback = Callable[[str, int, int, int], None]  # (file, files done, files in all, passages so far)
EmbedProgress = Callable[[int, int], None]  # (passages embedded, passages to embed)


class StringColumn:
    """A StringTable under construction: bytes appended, offsets recorded. With `spill_dir` the bytes
    go to an unnamed temporary file there instead of memory (passage texts of a big corpus)."""

    def __init__(self, spill_dir: Path | None = None) -> None:
        self.blob: Any = bytearray() if spill_dir is None else tempfile.TemporaryFile(dir=spill_dir)
        self.size = 0
        self.ends = array("q")

    def _add(self, data: bytes) -> None:
        if isinstance(self.blob, bytearray):
            self.blob += data
        else:
            self.blob.write(data)
        self.size += len(data)

    def append(self, text: str) -> None:
        self._add(text.encode("utf-8", "replace"))  # a lone surrogate (from JSON "\\ud800") becomes "?"
        self.ends.append(self.size)

    def extend_from(self, table: StringTable, start: int, end: int) -> None:
        """Copy rows [start, end) of an existing table without decoding them."""
        lo, hi = int(table.offsets[start]), int(table.offsets[end])
        base = self.size
        self._add(table.blob[lo:hi].tobytes())
        self.ends.extend((np.asarray(table.offsets[start + 1 : end + 1], dtype=np.int64) - lo + base).tolist())

    def table(self) -> StringTable:
        offsets = np.zeros(len(self.ends) + 1, dtype=np.int64)
        offsets[1:] = np.frombuffer(self.ends, dtype=np.int64) if len(self.ends) else []
        if isinstance(self.blob, bytearray):
            return StringTable(np.frombuffer(bytes(self.blob), dtype=np.uint8), offsets)
        self.blob.flush()
        blob = np.memmap(self.blob, dtype=np.uint8, mode="r") if self.size else np.zeros(0, dtype=np.uint8)
        return StringTable(blob, offsets)

    def close(self) -> None:
        if not isinstance(self.blob, bytearray):
            self.blob.close()


class PassageColumns:
    """Passage fields, column by column, as they will be stored."""

    STRINGS = ("id", "doc_id", "title", "path", "text")
    NUMBERS = ("line", "start", "end")

    def __init__(self, spill_dir: Path | None = None) -> None:
        self.strings = {name: StringColumn(spill_dir if name == "text" else None) for name in self.STRINGS}
        self.numbers = {name: array("q") for name in self.NUMBERS}
        self.ids: list[str] = []  # kept as str too: sorted once for the tie-break order

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, passage: Passage) -> None:
        values = {"id": passage.id, "doc_id": passage.doc_id, "title": passage.title, "path": passage.path,
                  "text": passage.text}
        for name, value in values.items():
            self.strings[name].append(value)
        self.numbers["line"].append(passage.line)
        self.numbers["start"].append(passage.start)
        self.numbers["end"].append(passage.end)
        self.ids.append(passage.id)

    def extend_from(self, index: Index, start: int, end: int) -> None:
        """Copy passages [start, end) of an existing index."""
        store = index.passages
        tables = {"id": store.ids, "doc_id": store.doc_ids, "title": store.titles, "path": store.paths, "text": store.texts}
        for name, table in tables.items():
            self.strings[name].extend_from(table, start, end)
        for name in self.NUMBERS:
            self.numbers[name].extend(np.asarray(getattr(store, name)[start:end], dtype=np.int64).tolist())
        self.ids.extend(store.ids[i] for i in range(start, end))

    def payload(self) -> dict[str, Any]:
        order = sorted(range(len(self.ids)), key=self.ids.__getitem__)
        id_rank = np.empty(len(order), dtype=np.int64)
        id_rank[order] = np.arange(len(order), dtype=np.int64)
        payload: dict[str, Any] = {name: np.frombuffer(col, dtype=np.int64).copy() for name, col in self.numbers.items()}
        payload["id_rank"] = id_rank
        for name, column in self.strings.items():
            payload.update(column.table().to_payload(name))
        return payload

    def close(self) -> None:
        for column in self.strings.values():
            column.close()


def count_surfaces(texts: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Surface-token counts of a batch of texts: (surface forms, CSR indptr, indices, counts).

    Runs in the tokenising workers; surface ids are local to the batch.
    """
    import scipy.sparse as sp

    ids: dict[str, int] = {}
    lengths = np.empty(len(texts), dtype=np.int64)
    columns = array("q")
    for row, text in enumerate(texts):
        tokens = surface_tokens(text)
        columns.extend([ids.setdefault(t, len(ids)) for t in tokens])
        lengths[row] = len(tokens)
    cols = np.frombuffer(columns, dtype=np.int64) if len(columns) else np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(len(texts), dtype=np.int32), lengths)
    matrix = sp.csr_matrix((np.ones(len(cols), dtype=np.int32), (rows, cols.astype(np.int32))), shape=(len(texts), len(ids)))
    matrix.sum_duplicates()
    return list(ids), matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32), matrix.data.astype(np.int32)


class CountMatrixBuilder:
    """Stacks count rows (new batches and reused ones) over one growing vocabulary."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self.surface_term: dict[str, int] = {}  # surface form → provisional term id (-1: dropped)
        self.term_ids: dict[str, int] = {}  # term → provisional id
        self.parts: list[Any] = []
        self._old_terms: Sequence[str] | None = None
        self._old_mapping: np.ndarray | None = None

    def _term_id(self, term: str | None) -> int:
        if term is None:
            return -1
        return self.term_ids.setdefault(term, len(self.term_ids))

    def add_batch(self, surfaces: list[str], indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> None:
        """Rows counted by `count_surfaces`, mapped to terms."""
        import scipy.sparse as sp

        unseen = [s for s in surfaces if s not in self.surface_term]
        for surface, term in zip(unseen, self.analyzer.terms_of(unseen)):
            self.surface_term[surface] = self._term_id(term)
        to_term = np.fromiter((self.surface_term[s] for s in surfaces), dtype=np.int64, count=len(surfaces))
        columns = to_term[indices] if len(indices) else indices.astype(np.int64)
        rows = np.repeat(np.arange(len(indptr) - 1, dtype=np.int32), np.diff(indptr))
        kept = columns >= 0
        shape = (len(indptr) - 1, max(len(self.term_ids), 1))
        part = sp.csr_matrix((data[kept], (rows[kept], columns[kept].astype(np.int32))), shape=shape)
        part.sum_duplicates()
        self.parts.append(part)

    def add_rows(self, counts: Any, terms: Sequence[str], start: int, end: int) -> None:
        """Rows [start, end) of an existing count matrix whose columns are `terms`."""
        if self._old_mapping is None or self._old_terms is not terms:
            # the whole old vocabulary is registered once (terms no row uses are dropped by finish())
            self._old_terms = terms
            self._old_mapping = np.fromiter((self._term_id(t) for t in terms), dtype=np.int64, count=len(terms))
        block = counts[start:end].copy()
        block.indices = self._old_mapping[block.indices].astype(np.int32)
        block._shape = (block.shape[0], max(len(self.term_ids), 1))
        self.parts.append(block)

    def finish(self) -> tuple[Any, list[str]]:
        """(counts as CSR with columns in sorted-term order, the sorted vocabulary of used terms)."""
        import scipy.sparse as sp

        width = len(self.term_ids)
        for part in self.parts:
            part._shape = (part.shape[0], width)
        counts = sp.vstack(self.parts, format="csr", dtype=np.int32) if self.parts else sp.csr_matrix((0, width), dtype=np.int32)
        df = np.bincount(counts.indices, minlength=width)
        vocabulary = sorted(t for t, i in self.term_ids.items() if df[i] > 0)
        final = np.full(width, -1, dtype=np.int64)
        final[[self.term_ids[t] for t in vocabulary]] = np.arange(len(vocabulary))
        counts.indices = final[counts.indices].astype(np.int32)
        counts._shape = (counts.shape[0], len(vocabulary))
        counts.has_sorted_indices = False
        counts.sort_indices()
        return counts, vocabulary


def _jobs(settings: BuildSettings) -> int:
    return settings.jobs or max(1, min(os.cpu_count() or 1, 4))


@dataclass
class _Plan:
    """What a (re)build does with each file."""

    read: list[Path]
    reuse: dict[str, dict[str, Any]]  # relative path → old source entry (passages copied)
    new: int = 0
    changed: int = 0
    removed: int = 0


def _stat_key(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _plan(reader: CorpusReader, files: list[Path], old: Index | None) -> _Plan:
    if old is None:
        return _Plan(read=files, reuse={}, new=sum(map(reader.supported, files)))
    previous = {s["path"]: s for s in old.manifest.get("sources", [])}
    plan = _Plan(read=[], reuse={})
    seen = set()
    for path in files:
        rel = reader.relative(path)
        seen.add(rel)
        entry = previous.get(rel)
        key = _stat_key(path)
        if not reader.supported(path):
            plan.read.append(path)  # skipped again, without reading
        elif entry is None:
            plan.new += 1
            plan.read.append(path)
        elif key is not None and [entry.get("bytes"), entry.get("mtime_ns")] == list(key):
            plan.reuse[rel] = entry
        elif key is not None and _sha256(path) == entry.get("sha256"):
            plan.reuse[rel] = {**entry, "mtime_ns": key[1]}
        else:
            plan.changed += 1
            plan.read.append(path)
    plan.removed = len(set(previous) - seen)
    return plan


def _sha256(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def _reusable_index(target: Path, settings: BuildSettings, roots: list[Path]) -> Index | None:
    """The existing index, if this build may copy passages from it."""
    if settings.rebuild:
        return None
    try:
        index = load_index(target)
    except RagcliError:
        return None  # none yet, or damaged / another format: build from scratch
    manifest = index.manifest
    same = {k: manifest.get(k) for k in ("analyzer", "chunking", "fields")} == settings.compatibility()
    same_roots = manifest.get("roots") == [str(r.resolve()) for r in roots]
    return index if same and same_roots and "sources" in manifest else None


def _reused(first: int, last: int) -> tuple[str, int, int]:
    """A counting task for reused rows: nothing to count, it only keeps its place in the order."""
    return ("reuse", first, last)


def _tasks(
    reader: CorpusReader, files: list[Path], plan: _Plan, old: Index | None, settings: BuildSettings,
    columns: PassageColumns, sources: list[dict[str, Any]], progress: ProgressCallback | None,
) -> Iterator[tuple[Callable[..., Any], tuple[Any, ...]]]:
    """Walks the files in order, filling `columns` and `sources`, and yields the counting tasks for the
    rows in the same order: batches of texts to tokenise, and ranges of reused rows."""
    pending: list[str] = []
    for number, path in enumerate(files, start=1):
        rel = reader.relative(path)
        start = len(columns)
        entry = plan.reuse.get(rel)
        if entry is not None and old is not None:
            first, last = entry["passages"]
            if pending:
                yield count_surfaces, (pending,)
                pending = []
            columns.extend_from(old, first, last)
            yield _reused, (first, last)
            reader.claim_ids(old.passages.doc_ids[i] for i in range(first, last))
            if entry.get("skipped"):
                reader.report.skipped.append(Skipped(rel, entry["skipped"]))
            sources.append({**entry, "passages": [start, len(columns)]})
        else:
            documents = 0
            for document in reader.read_file(path):
                documents += 1
                for passage in split_document(document, settings.chunking):
                    columns.add(passage)
                    pending.append(passage.index_text)
                    if len(pending) >= BATCH_PASSAGES:
                        yield count_surfaces, (pending,)
                        pending = []
            source = reader.report.sources[-1] if reader.report.sources and reader.report.sources[-1].path == rel else None
            if source is not None:
                key = _stat_key(path)
                sources.append({"path": rel, "sha256": source.sha256, "bytes": source.size,
                                "mtime_ns": key[1] if key else None, "documents": documents,
                                "passages": [start, len(columns)], "skipped": source.skipped})
        if progress is not None:
            progress(str(path), number, len(files), len(columns))
    if pending:
        yield count_surfaces, (pending,)


def _count_all(
    tasks: Iterator[tuple[Callable[..., Any], tuple[Any, ...]]], counts: CountMatrixBuilder, old: Index | None,
    jobs: int, expected: int,
) -> None:
    """Run the counting tasks (in worker processes when the corpus is large enough) and stack their
    rows in task order."""
    old_counts = old.counts_matrix() if old is not None else None
    old_terms = list(old.lexicon.terms) if old is not None else []
    if jobs > 1 and expected >= PARALLEL_MIN_PASSAGES:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=jobs, return_as="generator", pre_dispatch=f"{2 * jobs}", batch_size=1)
        results: Iterator[Any] = parallel(delayed(fn)(*args) for fn, args in tasks)
    else:
        results = (fn(*args) for fn, args in tasks)
    for result in results:
        if result[0] == "reuse":
            counts.add_rows(old_counts, old_terms, result[1], result[2])
        else:
            counts.add_batch(*result)


def _estimate_passages(plan: _Plan) -> int:
    """A rough passage count (≈ one per 600 bytes) to decide whether workers pay off."""
    total = 0
    for path in plan.read:
        key = _stat_key(path)
        total += (key[0] if key else 0) // 600
    return total


def build_index(
    paths: Sequence[str | Path],
    index_dir: str | Path | None = None,
    settings: BuildSettings | None = None,
    *,
    wait: bool = False,
    progress: ProgressCallback | None = None,
    embed_progress: EmbedProgress | None = None,
) -> BuildReport:
    """Index the files and folders in `paths` into `index_dir`, reusing what an earlier build of the
    same roots and settings already holds; the result replaces the old index atomically."""
    settings = settings or BuildSettings()
    started = time.perf_counter()
    target = resolve_index_dir(index_dir)
    roots = [Path(p) for p in paths]
    reader = CorpusReader(roots, fields=settings.fields, exclude=target, skip_invalid=settings.skip_invalid)
    with index_lock(target, wait=wait):
        remove_leftovers(target)
        old = _reusable_index(target, settings, roots)
        dense = _dense_settings(settings, old)
        files = list(reader.files())
        plan = _plan(reader, files, old)
        if old is not None and plan.new == plan.changed == plan.removed == 0:
            for path in plan.read:  # unsupported files: recorded as skipped again, not read
                list(reader.read_file(path))
            return _refresh(old, target, settings, dense, reader, files, plan, started, embed_progress)
        columns = PassageColumns(spill_dir=target)
        try:
            counts = CountMatrixBuilder(Analyzer(settings.analyzer))
            sources: list[dict[str, Any]] = []
            tasks = _tasks(reader, files, plan, old, settings, columns, sources, progress)
            _count_all(tasks, counts, old, _jobs(settings), _estimate_passages(plan))
            passages = len(columns)
            if not passages:
                raise EmptyCorpusError(
                    f"no text to index in {', '.join(map(str, roots))}",
                    hint=f"{len(reader.report.skipped)} files skipped; see --verbose",
                )
            matrix, vocabulary = counts.finish()
            del counts
            documents = len(set(columns.strings["doc_id"].table()))
            manifest = _manifest(settings, roots, sources, documents, passages, matrix, vocabulary)
            _write(target, columns, matrix, vocabulary, settings, manifest, dense, old, embed_progress)
        finally:
            columns.close()
    return BuildReport(
        index_dir=str(target), documents=documents, passages=passages, terms=len(vocabulary), files=len(files),
        skipped=reader.report.skipped, warnings=reader.report.warnings, seconds=time.perf_counter() - started,
        new=plan.new, changed=plan.changed, removed=plan.removed, unchanged=len(plan.reuse),
    )


def _dense_settings(settings: BuildSettings, old: Index | None) -> Any:
    """The embedding settings this build uses: asked for, else inherited from the index, else none."""
    if settings.no_dense:
        return None
    if settings.dense is not None:
        return settings.dense
    previous = old.manifest.get("dense") if old is not None else None
    if previous:
        from ragcli.retrieval.dense import EmbeddingSettings

        return EmbeddingSettings.from_dict(previous["settings"])
    return None


def _dense_payload(passages: dict[str, Any], dense: Any, old: Index | None, progress: EmbedProgress | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Embed the passages (title and text, as BM25 sees them), reusing the old index's vectors."""
    from ragcli.retrieval.dense import build_dense

    titles = StringTable.from_payload(passages, "title")
    texts = StringTable.from_payload(passages, "text")
    inputs = [f"{title}\n{text}" if title else text for title, text in zip(titles, texts)]
    previous = old.payload(DENSE_FILE) if old is not None and DENSE_FILE in old.manifest["files"] else None
    payload, stats = build_dense(inputs, dense, previous, progress)
    return payload, {"settings": dense.to_dict(), **{k: round(v, 3) if isinstance(v, float) else v for k, v in stats.items()}}


def _refresh(old: Index, target: Path, settings: BuildSettings, dense: Any, reader: CorpusReader, files: list[Path],
             plan: _Plan, started: float, embed_progress: EmbedProgress | None) -> BuildReport:
    """No file changed: rewrite only what settings changed (BM25/TF-IDF parameters, dense vectors)."""
    manifest = old.manifest
    dense_changed = (dense.to_dict() if dense else None) != (manifest.get("dense") or {}).get("settings")
    if manifest.get("bm25") != settings.bm25.to_dict() or manifest.get("tfidf") != settings.tfidf.to_dict() or dense_changed:
        _reweight(old, target, settings.bm25, settings.tfidf, dense, embed_progress)
    counts = manifest["counts"]
    return BuildReport(
        index_dir=str(target), documents=counts["documents"], passages=counts["passages"], terms=counts["terms"],
        files=len(files), skipped=reader.report.skipped + [Skipped(s["path"], s["skipped"]) for s in manifest["sources"] if s.get("skipped")],
        warnings=[], seconds=time.perf_counter() - started, unchanged=len(plan.reuse), up_to_date=True,
    )


def _write(target: Path, columns: PassageColumns, counts: Any, vocabulary: list[str], settings: BuildSettings,
           manifest: dict[str, Any], dense: Any, old: Index | None, embed_progress: EmbedProgress | None) -> None:
    """Write the payloads one at a time, largest temporaries last, so peak memory stays low."""
    with GenerationWriter(target) as writer:
        passages = columns.payload()
        writer.write(PASSAGES_FILE, passages)
        if dense is not None:
            payload, manifest["dense"] = _dense_payload(passages, dense, old, embed_progress)
            writer.write(DENSE_FILE, payload)
            del payload
        del passages
        writer.write(TERMS_FILE, lexicon_payload(vocabulary, old.lexicon.hashes() if old is not None else None))
        writer.write(COUNTS_FILE, counts_payload(counts))
        writer.write(BM25_FILE, build_bm25(counts, settings.bm25))
        writer.write(TFIDF_FILE, build_tfidf(counts, settings.tfidf))
        writer.publish(manifest)


def counts_payload(counts: Any) -> dict[str, Any]:
    return {"indptr": counts.indptr.astype(np.int64), "indices": counts.indices.astype(np.int32),
            "data": counts.data.astype(np.int32), "shape": list(counts.shape)}


def _manifest(settings: BuildSettings, roots: list[Path], sources: list[dict[str, Any]], documents: int,
              passages: int, counts: Any, vocabulary: list[str]) -> dict[str, Any]:
    return {
        "built": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "roots": [str(r.resolve()) for r in roots],
        **settings.compatibility(),
        "bm25": settings.bm25.to_dict(),
        "tfidf": settings.tfidf.to_dict(),
        "counts": {"documents": documents, "passages": passages, "terms": len(vocabulary), "tokens": int(counts.sum())},
        "sources": sources,
    }


def _reweight(index: Index, target: Path, bm25: BM25Params, tfidf: TfidfParams, dense: Any = "keep",
              embed_progress: EmbedProgress | None = None) -> None:
    """New BM25/TF-IDF parameters (or dense vectors) over the same passages: weights recomputed from
    the stored counts, written as a new generation like a build, so readers see the old or the new."""
    manifest = {k: v for k, v in index.manifest.items() if k not in ("files", "generation")}
    manifest.update(bm25=bm25.to_dict(), tfidf=tfidf.to_dict())
    counts = index.counts_matrix()
    with GenerationWriter(target) as writer:
        for name in (PASSAGES_FILE, TERMS_FILE, COUNTS_FILE):
            writer.write(name, index.payload(name))
        if dense == "keep":
            if DENSE_FILE in index.manifest["files"]:
                writer.write(DENSE_FILE, index.payload(DENSE_FILE))
        elif dense is not None:
            payload, manifest["dense"] = _dense_payload(index.payload(PASSAGES_FILE), dense, index, embed_progress)
            writer.write(DENSE_FILE, payload)
        else:
            manifest.pop("dense", None)
        writer.write(BM25_FILE, build_bm25(counts, bm25))
        writer.write(TFIDF_FILE, build_tfidf(counts, tfidf))
        writer.publish(manifest)


def reweight_bm25(index_dir: str | Path | None, params: BM25Params, *, wait: bool = False) -> None:
    """Store new BM25 parameters in an index (used by `ragcli tune --apply`)."""
    target = resolve_index_dir(index_dir)
    with index_lock(target, wait=wait):
        index = load_index(target)
        _reweight(index, target, params, TfidfParams.from_dict(index.manifest["tfidf"]))
