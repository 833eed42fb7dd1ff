"""An opened index: its manifest, passages, vocabulary and analyzer, and `Index.search`.

Payloads load lazily and memory-mapped: a BM25 query reads the manifest, the vocabulary, the rows of
its own terms in the BM25 matrix and the ten passages it returns; TF-IDF weights are never touched.
Retrievers are looked up by name in the retriever registry (`ragcli.retrieval.base.RETRIEVERS`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ragcli.analysis import Analyzer, AnalyzerSettings
from ragcli.errors import IndexDamagedError, RagcliError
from ragcli.records import COUNTS_FILE, PASSAGES_FILE, TERMS_FILE, Hit, SearchOptions
from ragcli.retrieval.base import RETRIEVERS, Ranked, Scorer, top_k, with_needs
from ragcli.retrieval.lexicon import Lexicon
from ragcli.store import REBUILD_HINT, StringTable, load_payload, payload_path, read_manifest, resolve_index_dir

T = TypeVar("T")


class PassageStore:
    """Passage texts and metadata, column by column, memory-mapped."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.ids = StringTable.from_payload(payload, "id")
        self.doc_ids = StringTable.from_payload(payload, "doc_id")
        self.titles = StringTable.from_payload(payload, "title")
        self.paths = StringTable.from_payload(payload, "path")
        self.texts = StringTable.from_payload(payload, "text")
        self.line = payload["line"]
        self.start = payload["start"]
        self.end = payload["end"]
        self.id_rank = payload["id_rank"]

    def __len__(self) -> int:
        return len(self.ids)

    def consistent(self) -> bool:
        """Cheap structural checks: every column as long as the ids, every table's offsets in range."""
        n = len(self)
        tables = (self.ids, self.doc_ids, self.titles, self.paths, self.texts)
        columns = (self.line, self.start, self.end, self.id_rank)
        return all(len(t) == n and t.consistent() for t in tables) and all(len(c) == n for c in columns)

    def hit(self, rank: int, number: int, score: float) -> Hit:
        return Hit(
            rank=rank,
            score=float(score),
            id=self.ids[number],
            doc_id=self.doc_ids[number],
            title=self.titles[number],
            path=self.paths[number],
            line=int(self.line[number]),
            start=int(self.start[number]),
            end=int(self.end[number]),
            text=self.texts[number],
        )


class _GenerationReplaced(Exception):
    """The index was rebuilt since this object read its manifest (a payload it needs is gone)."""


_DAMAGE = (IndexError, ValueError, OverflowError, UnicodeDecodeError, TypeError)  # what damaged arrays raise


class Index:
    """An index on disk, opened for searching. Create with `load_index`.

    A rebuild may replace the index while this object is in use: it then re-reads the manifest and
    answers from the new index as a whole (never a mix of old and new payloads).
    """

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        self._payloads: dict[str, dict[str, Any]] = {}
        self._scorers: dict[tuple[str, SearchOptions], Scorer] = {}

    def payload(self, name: str) -> dict[str, Any]:
        if name not in self._payloads:
            try:
                self._payloads[name] = load_payload(payload_path(self.path, self.manifest, name))
            except (IndexDamagedError, FileNotFoundError):
                if self._replaced():
                    raise _GenerationReplaced() from None
                raise
        return self._payloads[name]

    def has_payload(self, name: str) -> bool:
        return name in self.manifest["files"]

    def _replaced(self) -> bool:
        try:
            return bool(read_manifest(self.path)["generation"] != self.manifest["generation"])
        except RagcliError:
            return False

    def _reload(self) -> None:
        self.manifest = read_manifest(self.path)
        self._payloads.clear()
        self._scorers.clear()
        for name in ("analyzer", "passages", "lexicon"):
            self.__dict__.pop(name, None)

    def _guarded(self, work: Callable[[], T]) -> T:
        """Run a query step: once more on the new index if a rebuild replaced this one meanwhile; and
        a damaged array's numpy error becomes a clear IndexDamagedError."""
        for attempt in (1, 2):
            try:
                return work()
            except _GenerationReplaced:
                if attempt == 2:
                    raise IndexDamagedError(f"{self.path}: changed twice during one query") from None
                self._reload()
            except _DAMAGE as exc:
                raise IndexDamagedError(
                    f"{self.path}: damaged data ({type(exc).__name__}: {exc})",
                    hint="check it with `ragcli info --verify`, then rebuild it with `ragcli index PATH --rebuild`",
                ) from None
        raise AssertionError("unreachable")

    @cached_property
    def analyzer(self) -> Analyzer:
        return Analyzer(AnalyzerSettings.from_dict(self.manifest["analyzer"]))

    @cached_property
    def passages(self) -> PassageStore:
        try:
            store = PassageStore(self.payload(PASSAGES_FILE))
        except KeyError as exc:
            raise IndexDamagedError(f"{self.path}: passage store lacks {exc}", hint=REBUILD_HINT) from None
        if len(store) != self.manifest["counts"]["passages"] or not store.consistent():
            raise IndexDamagedError(f"{self.path}: the passage store does not match the manifest", hint=REBUILD_HINT)
        return store

    @cached_property
    def lexicon(self) -> Lexicon:
        try:
            lexicon = Lexicon(self.payload(TERMS_FILE))
        except KeyError as exc:
            raise IndexDamagedError(f"{self.path}: vocabulary lacks {exc}", hint=REBUILD_HINT) from None
        if len(lexicon) != self.manifest["counts"]["terms"] or len(lexicon.hash_sorted) != len(lexicon):
            raise IndexDamagedError(f"{self.path}: the vocabulary does not match the manifest", hint=REBUILD_HINT)
        return lexicon

    def available(self, name: str) -> bool:
        """Whether this index holds the data retriever `name` searches."""
        return all(
            RETRIEVERS.get(n).payload is None or self.has_payload(str(RETRIEVERS.get(n).payload))
            for n in with_needs([name])
        )

    def retriever(self, name: str, options: SearchOptions | None = None) -> Scorer:
        """The scorer of the registered retriever `name`, opened once per option set."""
        options = options or SearchOptions()
        key = (name, options)
        if key not in self._scorers:
            for needed in with_needs([name]):
                spec = RETRIEVERS.get(needed)
                if spec.payload is not None and not self.has_payload(spec.payload):
                    raise spec.missing(self)
            try:
                self._scorers[key] = RETRIEVERS.get(name).open(self, options)
            except KeyError as exc:
                raise IndexDamagedError(f"{self.path}: {name} data lacks {exc}", hint=REBUILD_HINT) from None
        return self._scorers[key]

    def _scorer(self, retriever: str | Scorer) -> Scorer:
        return self.retriever(retriever) if isinstance(retriever, str) else retriever

    def scores(self, query: str, retriever: str | Scorer = "bm25") -> Ranked:
        """(candidate passage numbers, their scores), unordered: for a caller that cuts the same
        scores at several depths (see `ragcli.retrieval.base.top_k`) without scoring again."""
        return self._guarded(lambda: self._scorer(retriever).score(query))

    def rank(self, query: str, k: int = 5, retriever: str | Scorer = "bm25") -> Ranked:
        """(passage numbers, scores) of the k best passages, best first: `search` without building hits."""
        return self._guarded(lambda: top_k(*self.scores(query, retriever), k, self.passages.id_rank))

    def _hits(self, numbers: np.ndarray, best: np.ndarray) -> list[Hit]:
        return [self.passages.hit(rank, n, s) for rank, (n, s) in enumerate(zip(numbers.tolist(), best.tolist()), 1)]

    def search(self, query: str, k: int = 5, retriever: str | Scorer = "bm25") -> list[Hit]:
        """The k best passages for `query`, best first; ties broken by passage id. Never raises for an
        empty, all-stopword or unknown-word query: it returns what matches, maybe nothing."""
        return self._guarded(lambda: self._hits(*self.rank(query, k, retriever)))

    def rank_many(self, queries: list[str], k: int = 5, retriever: str | Scorer = "bm25") -> list[Ranked]:
        """`rank` for many queries, scored together where the retriever can (faster per query)."""

        def work() -> list[Ranked]:
            scored = self._scorer(retriever).score_many(queries)
            return [top_k(c, s, k, self.passages.id_rank) for c, s in scored]

        return self._guarded(work)

    def search_many(self, queries: list[str], k: int = 5, retriever: str | Scorer = "bm25") -> list[list[Hit]]:
        """`search` for many queries (see `rank_many`)."""
        return self._guarded(lambda: [self._hits(n, s) for n, s in self.rank_many(queries, k, retriever)])

    def counts_matrix(self) -> Any:
        """The passages × terms count matrix (scipy CSR), from which BM25/TF-IDF weights derive."""
        import scipy.sparse as sp

        payload = self.payload(COUNTS_FILE)
        return sp.csr_matrix((payload["data"], payload["indices"], payload["indptr"]), shape=tuple(payload["shape"]))

    def size_bytes(self) -> int:
        """The payloads' size on disk, as the manifest records it."""
        return sum(int(meta.get("bytes", 0)) for meta in self.manifest["files"].values())

    def info(self) -> dict[str, Any]:
        """What the index holds, for `ragcli info`."""
        m = self.manifest
        return {
            "path": str(self.path),
            "format_version": m["format_version"],
            "ragcli_version": m.get("ragcli_version"),
            "built": m.get("built"),
            "documents": m["counts"]["documents"],
            "passages": m["counts"]["passages"],
            "terms": m["counts"]["terms"],
            "tokens": m["counts"]["tokens"],
            "size_bytes": self.size_bytes(),
            "roots": m.get("roots", []),
            "sources": len(m.get("sources", [])),
            "analyzer": m["analyzer"],
            "chunking": m["chunking"],
            "bm25": m["bm25"],
            "tfidf": m["tfidf"],
            "retrievers": [name for name in RETRIEVERS.names() if self.available(name)],
            "dense": m.get("dense"),
        }


def load_index(path: str | Path | None = None) -> Index:
    """Open the index at `path` (default: $RAGCLI_INDEX or ./.ragcli); validates the manifest."""
    index_dir = resolve_index_dir(path)
    return Index(index_dir, read_manifest(index_dir))
