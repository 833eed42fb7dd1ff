"""A loaded index: its manifest, passages, vocabulary and retrievers, and `Index.search`.

Payloads load lazily and memory-mapped: a BM25 query reads the manifest, the vocabulary, the rows of
its own terms in the BM25 matrix and the ten passages it returns; TF-IDF weights are never touched.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence

import numpy as np

from ragcli.analysis import Analyzer, AnalyzerSettings
from ragcli.errors import IndexDamagedError, InvalidOptionError, MissingExtraError, RagcliError
from ragcli.store import REBUILD_HINT, StringTable, load_payload, payload_path, read_manifest, resolve_index_dir

RETRIEVERS = ("bm25", "tfidf", "dense", "hybrid", "hybrid-zscore")
BATCH_MAX_PASSAGES = 200_000  # above this, one query at a time beats sparse products (BENCHMARKS.md)
DENSE_RETRIEVERS = ("dense", "hybrid", "hybrid-zscore")
PASSAGES_FILE = "passages.joblib"
TERMS_FILE = "terms.joblib"
COUNTS_FILE = "counts.joblib"
BM25_FILE = "bm25.joblib"
TFIDF_FILE = "tfidf.joblib"
DENSE_FILE = "dense.joblib"


@dataclass(frozen=True)
class Hit:
    """One retrieved passage, with everything needed to show and cite it."""

    rank: int
    score: float
    id: str
    doc_id: str
    title: str
    path: str
    line: int
    start: int
    end: int
    text: str

    @property
    def citation(self) -> str:
        return f"{self.path}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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


def term_hash(term: str) -> int:
    """A stable 64-bit hash of a term (the vocabulary is looked up by it; Python's hash() is salted)."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest(), "little")


def lexicon_payload(vocabulary: list[str], known: dict[str, int] | None = None) -> dict[str, Any]:
    """The vocabulary (sorted) plus its term hashes in sorted order, for O(log n) lookups in C.
    `known` holds hashes computed before (an earlier build's), so a re-index hashes only new terms."""
    known = known or {}
    hashes = np.fromiter((known.get(t) or term_hash(t) for t in vocabulary), dtype=np.uint64, count=len(vocabulary))
    order = np.argsort(hashes, kind="stable")
    return {**StringTable.from_strings(vocabulary).to_payload("term"), "hash_sorted": hashes[order],
            "hash_term": order.astype(np.int64)}


class Lexicon:
    """The vocabulary, looked up through a sorted array of term hashes (np.searchsorted on the map):
    nothing to build when a query process starts, a few microseconds per query term."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.terms = StringTable.from_payload(payload, "term")
        self.hash_sorted = payload["hash_sorted"]
        self.hash_term = payload["hash_term"]

    def __len__(self) -> int:
        return len(self.terms)

    def hashes(self) -> dict[str, int]:
        """term → its stored hash (reused by an incremental build)."""
        by_term = np.empty(len(self.hash_sorted), dtype=np.uint64)
        by_term[np.asarray(self.hash_term)] = self.hash_sorted
        return dict(zip(self.terms, by_term.tolist()))

    def term_ids(self, terms: Sequence[str]) -> list[int | None]:
        """The id of each term, None for terms the corpus does not hold."""
        if not terms:
            return []
        hashes = np.fromiter((term_hash(t) for t in terms), dtype=np.uint64, count=len(terms))
        positions = np.searchsorted(self.hash_sorted, hashes).tolist()
        ids: list[int | None] = []
        for term, value, position in zip(terms, hashes.tolist(), positions):
            found = None
            while position < len(self.hash_sorted) and int(self.hash_sorted[position]) == value:
                candidate = int(self.hash_term[position])
                if self.terms[candidate] == term:  # hashes may collide: the string decides
                    found = candidate
                    break
                position += 1
            ids.append(found)
        return ids

    def term_id(self, term: str) -> int | None:
        return self.term_ids([term])[0]

    def query_vector(self, terms: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """(term ids, counts) of the known terms; unknown terms are dropped."""
        counted = Counter(terms)
        known: Counter[int] = Counter()
        for term_id, count in zip(self.term_ids(list(counted)), counted.values()):
            if term_id is not None:
                known[term_id] += count
        ids = np.fromiter(known.keys(), dtype=np.int64, count=len(known))
        counts = np.fromiter(known.values(), dtype=np.float64, count=len(known))
        return ids, counts


class Retriever(Protocol):
    """What `Index.search` needs from a retriever: candidate passages and their scores for a query."""

    name: str

    def score(self, query: str) -> tuple[np.ndarray, np.ndarray]: ...

    def score_many(self, queries: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]: ...


class BM25Retriever:
    name = "bm25"

    def __init__(self, index: "Index", params: Any = None, payload: dict[str, Any] | None = None) -> None:
        """The index's stored BM25, or (for tuning) weights computed elsewhere with other `params`."""
        from ragcli.retrieval.bm25 import BM25Params
        from ragcli.retrieval.sparse import TermMatrix

        payload = payload if payload is not None else index.payload(BM25_FILE)
        self.params = params or BM25Params.from_dict(index.manifest["bm25"])
        self.matrix = TermMatrix.from_payload(payload)
        self.term_constant = payload["term_constant"]
        self.index = index

    def _vector(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        return self.index.lexicon.query_vector(self.index.analyzer(query))

    def _constant(self, term_ids: np.ndarray, counts: np.ndarray) -> float:
        return float(np.dot(counts, self.term_constant[term_ids])) if len(term_ids) else 0.0

    def score(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        term_ids, counts = self._vector(query)
        candidates, scores = self.matrix.accumulate(term_ids, counts)
        return candidates, scores + self._constant(term_ids, counts)

    def score_many(self, queries: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        vectors = [self._vector(q) for q in queries]
        for (term_ids, counts), (candidates, scores) in zip(vectors, self.matrix.accumulate_many(vectors)):
            yield candidates, scores + self._constant(term_ids, counts)


class TfidfRetriever:
    name = "tfidf"

    def __init__(self, index: "Index") -> None:
        from ragcli.retrieval.sparse import TermMatrix
        from ragcli.retrieval.tfidf import TfidfParams

        payload = index.payload(TFIDF_FILE)
        self.params = TfidfParams.from_dict(index.manifest["tfidf"])
        self.matrix = TermMatrix.from_payload(payload)
        self.idf = payload["idf"]
        self.index = index

    def _vector(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        from ragcli.retrieval.tfidf import query_weights

        term_ids, counts = self.index.lexicon.query_vector(self.index.analyzer(query))
        return term_ids, query_weights(self.params, counts, self.idf[term_ids]) if len(term_ids) else counts

    def score(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        return self.matrix.accumulate(*self._vector(query))

    def score_many(self, queries: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return self.matrix.accumulate_many([self._vector(q) for q in queries])


def _dense(index: "Index") -> Any:
    from ragcli.retrieval.dense import DenseRetriever

    return DenseRetriever(index)


def _hybrid(fusion: str) -> Callable[["Index"], Any]:
    def make(index: "Index") -> Any:
        from ragcli.retrieval.dense import HybridRetriever

        return HybridRetriever(index, fusion=fusion)

    return make


_RETRIEVER_TYPES: dict[str, Callable[["Index"], Any]] = {
    "bm25": BM25Retriever, "tfidf": TfidfRetriever, "dense": _dense, "hybrid": _hybrid("rrf"),
    "hybrid-zscore": _hybrid("zscore"),
}


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
        self._retrievers: dict[str, Retriever] = {}

    def payload(self, name: str) -> dict[str, Any]:
        if name not in self._payloads:
            try:
                self._payloads[name] = load_payload(payload_path(self.path, self.manifest, name))
            except (IndexDamagedError, FileNotFoundError):
                if self._replaced():
                    raise _GenerationReplaced() from None
                raise
        return self._payloads[name]

    def _replaced(self) -> bool:
        try:
            return read_manifest(self.path)["generation"] != self.manifest["generation"]
        except RagcliError:
            return False

    def _reload(self) -> None:
        self.manifest = read_manifest(self.path)
        self._payloads.clear()
        self._retrievers.clear()
        for name in ("analyzer", "passages", "lexicon"):
            self.__dict__.pop(name, None)

    def _guarded(self, work: Callable[[], Any]) -> Any:
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

    def retriever(self, name: str) -> Retriever:
        if name not in _RETRIEVER_TYPES:
            raise InvalidOptionError(f"unknown retriever {name!r}", hint=f"choose one of {', '.join(RETRIEVERS)}")
        if name in DENSE_RETRIEVERS and DENSE_FILE not in self.manifest["files"]:
            raise MissingExtraError(
                f"{self.path} has no dense vectors", hint="build them with `ragcli index PATH --dense` (needs ragcli[dense])"
            )
        if name not in self._retrievers:
            try:
                retriever = _RETRIEVER_TYPES[name](self)
            except KeyError as exc:
                raise IndexDamagedError(f"{self.path}: {name} data lacks {exc}", hint=REBUILD_HINT) from None
            matrix = retriever.matrix
            if matrix is not None and not matrix.consistent(len(self.lexicon), self.manifest["counts"]["passages"]):
                raise IndexDamagedError(f"{self.path}: {name} weights do not match the index", hint=REBUILD_HINT)
            self._retrievers[name] = retriever
        return self._retrievers[name]

    def scores(self, query: str, retriever: "str | Retriever" = "bm25") -> tuple[np.ndarray, np.ndarray]:
        """(candidate passage numbers, their scores), unordered: for a caller that cuts the same
        scores at several depths (see `ragcli.retrieval.sparse.top_k`) without scoring again."""

        def work() -> tuple[np.ndarray, np.ndarray]:
            scorer = self.retriever(retriever) if isinstance(retriever, str) else retriever
            return scorer.score(query)

        return self._guarded(work)

    def rank(self, query: str, k: int = 5, retriever: "str | Retriever" = "bm25") -> tuple[np.ndarray, np.ndarray]:
        """(passage numbers, scores) of the k best passages, best first: `search` without building hits."""
        from ragcli.retrieval.sparse import top_k

        return self._guarded(lambda: top_k(*self.scores(query, retriever), k, self.passages.id_rank))

    def _hits(self, numbers: np.ndarray, best: np.ndarray) -> list[Hit]:
        return [self.passages.hit(rank, n, s) for rank, (n, s) in enumerate(zip(numbers.tolist(), best.tolist()), 1)]

    def search(self, query: str, k: int = 5, retriever: "str | Retriever" = "bm25") -> list[Hit]:
        """The k best passages for `query`, best first; ties broken by passage id. Never raises for an
        empty, all-stopword or unknown-word query: it returns what matches, maybe nothing."""
        return self._guarded(lambda: self._hits(*self.rank(query, k, retriever)))

    def rank_many(
        self, queries: Sequence[str], k: int = 5, retriever: "str | Retriever" = "bm25"
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """`rank` for many queries, scored together as sparse matrix products (faster per query)."""
        from ragcli.retrieval.sparse import top_k

        def work() -> list[tuple[np.ndarray, np.ndarray]]:
            scorer = self.retriever(retriever) if isinstance(retriever, str) else retriever
            if len(self.passages) > BATCH_MAX_PASSAGES and scorer.name in ("bm25", "tfidf"):
                return [self.rank(q, k, scorer) for q in queries]  # products of huge results cost more
            return [top_k(c, s, k, self.passages.id_rank) for c, s in scorer.score_many(queries)]

        return self._guarded(work)

    def search_many(self, queries: Sequence[str], k: int = 5, retriever: "str | Retriever" = "bm25") -> list[list[Hit]]:
        """`search` for many queries (see `rank_many`)."""
        return self._guarded(lambda: [self._hits(n, s) for n, s in self.rank_many(queries, k, retriever)])

    def counts_matrix(self) -> Any:
        """The passages × terms count matrix (scipy CSR), from which BM25/TF-IDF weights derive."""
        import scipy.sparse as sp

        payload = self.payload(COUNTS_FILE)
        return sp.csr_matrix((payload["data"], payload["indices"], payload["indptr"]), shape=tuple(payload["shape"]))

    def info(self) -> dict[str, Any]:
        """What the index holds, for `ragcli info`."""
        m = self.manifest
        size = sum(meta.get("bytes", 0) for meta in m["files"].values())
        return {
            "path": str(self.path),
            "format_version": m["format_version"],
            "ragcli_version": m.get("ragcli_version"),
            "built": m.get("built"),
            "documents": m["counts"]["documents"],
            "passages": m["counts"]["passages"],
            "terms": m["counts"]["terms"],
            "tokens": m["counts"]["tokens"],
            "size_bytes": size,
            "roots": m.get("roots", []),
            "sources": len(m.get("sources", [])),
            "analyzer": m["analyzer"],
            "chunking": m["chunking"],
            "bm25": m["bm25"],
            "tfidf": m["tfidf"],
            "retrievers": [name for name in RETRIEVERS if name not in DENSE_RETRIEVERS or DENSE_FILE in m["files"]],
            "dense": m.get("dense"),
        }


def load_index(path: str | Path | None = None) -> Index:
    """Open the index at `path` (default: $RAGCLI_INDEX or ./.ragcli); validates the manifest."""
    index_dir = resolve_index_dir(path)
    return Index(index_dir, read_manifest(index_dir))
