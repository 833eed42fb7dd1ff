"""Building an index: read → split into passages → count terms → BM25 and TF-IDF weights → write.

Term counting avoids per-passage Python dictionaries: each passage becomes an array of surface-token
ids, the analyzer's expensive part (stopwords, stemming) runs once per distinct surface form, and the
counts go straight into a sparse passages × terms matrix.
"""
from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ragcli.analysis import Analyzer, AnalyzerSettings, surface_tokens
from ragcli.chunking import ChunkSettings, split_document
from ragcli.corpus import CorpusReader, RecordFields, Skipped
from ragcli.errors import EmptyCorpusError
from ragcli.index import BM25_FILE, COUNTS_FILE, PASSAGES_FILE, TERMS_FILE, TFIDF_FILE
from ragcli.retrieval.bm25 import BM25Params, build_bm25
from ragcli.retrieval.tfidf import TfidfParams, build_tfidf
from ragcli.store import GenerationWriter, StringTable, index_lock, resolve_index_dir


@dataclass
class BuildSettings:
    analyzer: AnalyzerSettings = field(default_factory=AnalyzerSettings)
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    bm25: BM25Params = field(default_factory=BM25Params)
    tfidf: TfidfParams = field(default_factory=TfidfParams)
    fields: RecordFields = field(default_factory=RecordFields)
    skip_invalid: bool = False


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index_dir,
            "documents": self.documents,
            "passages": self.passages,
            "terms": self.terms,
            "files": self.files,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }


ProgressCallback = Callable[[str, int, int, int], None]  # (file, files done, files in all, passages so far)


class _PassageColumns:
    """Passage fields gathered column by column while reading."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.doc_ids: list[str] = []
        self.titles: list[str] = []
        self.paths: list[str] = []
        self.texts: list[str] = []
        self.line: list[int] = []
        self.start: list[int] = []
        self.end: list[int] = []

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, passage: Any) -> None:
        self.ids.append(passage.id)
        self.doc_ids.append(passage.doc_id)
        self.titles.append(passage.title)
        self.paths.append(passage.path)
        self.texts.append(passage.text)
        self.line.append(passage.line)
        self.start.append(passage.start)
        self.end.append(passage.end)

    def payload(self) -> dict[str, Any]:
        order = sorted(range(len(self.ids)), key=self.ids.__getitem__)
        id_rank = np.empty(len(order), dtype=np.int64)
        id_rank[order] = np.arange(len(order), dtype=np.int64)
        payload: dict[str, Any] = {
            "line": np.asarray(self.line, dtype=np.int64),
            "start": np.asarray(self.start, dtype=np.int64),
            "end": np.asarray(self.end, dtype=np.int64),
            "id_rank": id_rank,
        }
        for prefix, column in (
            ("id", self.ids), ("doc_id", self.doc_ids), ("title", self.titles),
            ("path", self.paths), ("text", self.texts),
        ):
            payload.update(StringTable.from_strings(column).to_payload(prefix))
        return payload


class TermCounter:
    """Turns analysed passages into a sparse passages × terms count matrix."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self.surface_ids: dict[str, int] = {}
        self.token_ids: list[np.ndarray] = []

    def add(self, text: str) -> None:
        ids = self.surface_ids
        self.token_ids.append(
            np.fromiter((ids.setdefault(t, len(ids)) for t in surface_tokens(text)), dtype=np.int64)
        )

    def matrix(self) -> tuple[Any, list[str]]:
        """(counts as scipy CSR, vocabulary sorted); terms are numbered in sorted order."""
        import scipy.sparse as sp

        surfaces = list(self.surface_ids)
        terms = self.analyzer.terms_of(surfaces)
        vocabulary = sorted({t for t in terms if t is not None})
        term_number = {term: i for i, term in enumerate(vocabulary)}
        surface_to_term = np.fromiter(
            (term_number[t] if t is not None else -1 for t in terms), dtype=np.int64, count=len(terms)
        )
        lengths = np.fromiter((len(a) for a in self.token_ids), dtype=np.int64, count=len(self.token_ids))
        flat = np.concatenate(self.token_ids) if self.token_ids else np.zeros(0, dtype=np.int64)
        columns = surface_to_term[flat] if len(flat) else flat
        rows = np.repeat(np.arange(len(self.token_ids)), lengths)
        kept = columns >= 0
        counts = sp.csr_matrix(
            (np.ones(int(kept.sum()), dtype=np.int32), (rows[kept], columns[kept])),
            shape=(len(self.token_ids), len(vocabulary)),
        )
        counts.sum_duplicates()
        return counts, vocabulary


def build_index(
    paths: Sequence[str | Path],
    index_dir: str | Path | None = None,
    settings: BuildSettings | None = None,
    *,
    wait: bool = False,
    progress: ProgressCallback | None = None,
) -> BuildReport:
    """Index the files and folders in `paths` into `index_dir` (replacing what was there, atomically)."""
    settings = settings or BuildSettings()
    started = time.perf_counter()
    target = resolve_index_dir(index_dir)
    roots = [Path(p) for p in paths]
    reader = CorpusReader(roots, fields=settings.fields, exclude=target, skip_invalid=settings.skip_invalid)
    with index_lock(target, wait=wait):
        documents, files, columns, counts, vocabulary = _read_and_count(reader, settings, progress)
        manifest = _manifest(settings, roots, reader, documents, len(columns), counts, vocabulary)
        with GenerationWriter(target) as writer:
            writer.write(PASSAGES_FILE, columns.payload())
            writer.write(TERMS_FILE, StringTable.from_strings(vocabulary).to_payload("term"))
            writer.write(
                COUNTS_FILE,
                {"indptr": counts.indptr.astype(np.int64), "indices": counts.indices.astype(np.int32),
                 "data": counts.data.astype(np.int32), "shape": list(counts.shape)},
            )
            writer.write(BM25_FILE, build_bm25(counts, settings.bm25))
            writer.write(TFIDF_FILE, build_tfidf(counts, settings.tfidf))
            writer.publish(manifest)
    return BuildReport(
        index_dir=str(target),
        documents=documents,
        passages=len(columns),
        terms=len(vocabulary),
        files=files,
        skipped=reader.report.skipped,
        warnings=reader.report.warnings,
        seconds=time.perf_counter() - started,
    )


def _read_and_count(
    reader: CorpusReader, settings: BuildSettings, progress: ProgressCallback | None
) -> tuple[int, int, _PassageColumns, Any, list[str]]:
    analyzer = Analyzer(settings.analyzer)
    columns = _PassageColumns()
    counter = TermCounter(analyzer)
    documents = 0
    files = list(reader.files())
    for number, path in enumerate(files, start=1):
        for document in reader.read_file(path):
            documents += 1
            for passage in split_document(document, settings.chunking):
                columns.add(passage)
                counter.add(passage.index_text)
        if progress is not None:
            progress(str(path), number, len(files), len(columns))
    if not len(columns):
        raise EmptyCorpusError(
            f"no text to index in {', '.join(map(str, reader.roots))}",
            hint=f"{len(reader.report.skipped)} files skipped; see --verbose",
        )
    counts, vocabulary = counter.matrix()
    return documents, len(files), columns, counts, vocabulary


def _manifest(
    settings: BuildSettings, roots: list[Path], reader: CorpusReader, documents: int, passages: int,
    counts: Any, vocabulary: list[str],
) -> dict[str, Any]:
    return {
        "built": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "roots": [str(r.resolve()) for r in roots],
        "analyzer": settings.analyzer.to_dict(),
        "chunking": settings.chunking.to_dict(),
        "bm25": settings.bm25.to_dict(),
        "tfidf": settings.tfidf.to_dict(),
        "fields": {"id": settings.fields.id, "text": settings.fields.text, "title": settings.fields.title},
        "counts": {"documents": documents, "passages": passages, "terms": len(vocabulary), "tokens": int(counts.sum())},
        "sources": [
            {"path": s.path, "sha256": s.sha256, "bytes": s.size, "documents": s.documents}
            for s in reader.report.sources
        ],
    }


def reweight_bm25(index_dir: str | Path | None, params: BM25Params, *, wait: bool = False) -> None:
    """Store new BM25 parameters: recompute the weights from the stored counts, keep everything else.

    Written as a new generation like a build, so readers see the old weights or the new, never a mix.
    """
    from ragcli.index import load_index

    target = resolve_index_dir(index_dir)
    with index_lock(target, wait=wait):
        index = load_index(target)
        manifest = {k: v for k, v in index.manifest.items() if k not in ("files", "generation")}
        manifest["bm25"] = params.to_dict()
        with GenerationWriter(target) as writer:
            for name in index.manifest["files"]:
                if name != BM25_FILE:
                    writer.write(name, index.payload(name))
            writer.write(BM25_FILE, build_bm25(index.counts_matrix(), params))
            writer.publish(manifest)
