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
from typing import Any, Iterable, Iterator, Protocol, Sequence

import numpy as np

from ragcli.analysis import Analyzer, AnalyzerSettings
from ragcli.errors import IndexDamagedError, InvalidOptionError
from ragcli.store import REBUILD_HINT, StringTable, load_payload, payload_path, read_manifest, resolve_index_dir

RETRIEVERS = ("bm25", "tfidf")
PASSAGES_FILE = "passages.joblib"
TERMS_FILE = "terms.joblib"
COUNTS_FILE = "counts.joblib"
BM25_FILE = "bm25.joblib"
TFIDF_FILE = "tfidf.joblib"


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


def lexicon_payload(vocabulary: list[str]) -> dict[str, Any]:
    """The vocabulary (sorted) plus its term hashes in sorted order, for O(log n) lookups in C."""
    hashes = np.fromiter((term_hash(t) for t in vocabulary), dtype=np.uint64, count=len(vocabulary))
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


_RETRIEVER_TYPES: dict[str, type] = {"bm25": BM25Retriever, "tfidf": TfidfRetriever}


class Index:
    """An index on disk, opened for searching. Create with `load_index`."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        self._payloads: dict[str, dict[str, Any]] = {}
        self._retrievers: dict[str, Retriever] = {}

    def payload(self, name: str) -> dict[str, Any]:
        if name not in self._payloads:
            self._payloads[name] = load_payload(payload_path(self.path, self.manifest, name))
        return self._payloads[name]

    @cached_property
    def analyzer(self) -> Analyzer:
        return Analyzer(AnalyzerSettings.from_dict(self.manifest["analyzer"]))

    @cached_property
    def passages(self) -> PassageStore:
        try:
            return PassageStore(self.payload(PASSAGES_FILE))
        except KeyError as exc:
            raise IndexDamagedError(f"{self.path}: passage store lacks {exc}", hint=REBUILD_HINT) from None

    @cached_property
    def lexicon(self) -> Lexicon:
        return Lexicon(self.payload(TERMS_FILE))

    def retriever(self, name: str) -> Retriever:
        if name not in _RETRIEVER_TYPES:
            raise InvalidOptionError(f"unknown retriever {name!r}", hint=f"choose one of {', '.join(RETRIEVERS)}")
        if name not in self._retrievers:
            try:
                self._retrievers[name] = _RETRIEVER_TYPES[name](self)
            except KeyError as exc:
                raise IndexDamagedError(f"{self.path}: {name} data lacks {exc}", hint=REBUILD_HINT) from None
        return self._retrievers[name]

    def rank(self, query: str, k: int = 5, retriever: "str | Retriever" = "bm25") -> tuple[np.ndarray, np.ndarray]:
        """(passage numbers, scores) of the k best passages, best first: `search` without building hits."""
        from ragcli.retrieval.sparse import top_k

        scorer = self.retriever(retriever) if isinstance(retriever, str) else retriever
        candidates, scores = scorer.score(query)
        return top_k(candidates, scores, k, self.passages.id_rank)

    def search(self, query: str, k: int = 5, retriever: "str | Retriever" = "bm25") -> list[Hit]:
        """The k best passages for `query`, best first; ties broken by passage id. Never raises for an
        empty, all-stopword or unknown-word query: it returns what matches, maybe nothing."""
        numbers, best = self.rank(query, k, retriever)
        return [self.passages.hit(rank, n, s) for rank, (n, s) in enumerate(zip(numbers.tolist(), best.tolist()), 1)]

    def rank_many(
        self, queries: Sequence[str], k: int = 5, retriever: "str | Retriever" = "bm25"
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """`rank` for many queries, scored together as sparse matrix products (faster per query)."""
        from ragcli.retrieval.sparse import top_k

        scorer = self.retriever(retriever) if isinstance(retriever, str) else retriever
        return [top_k(c, s, k, self.passages.id_rank) for c, s in scorer.score_many(queries)]

    def search_many(self, queries: Sequence[str], k: int = 5, retriever: "str | Retriever" = "bm25") -> list[list[Hit]]:
        """`search` for many queries (see `rank_many`)."""
        return [
            [self.passages.hit(rank, n, s) for rank, (n, s) in enumerate(zip(numbers.tolist(), best.tolist()), 1)]
            for numbers, best in self.rank_many(queries, k, retriever)
        ]

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
            "retrievers": [name for name in RETRIEVERS if f"{name}.joblib" in m["files"]],
        }


def load_index(path: str | Path | None = None) -> Index:
    """Open the index at `path` (default: $RAGCLI_INDEX or ./.ragcli); validates the manifest."""
    index_dir = resolve_index_dir(path)
    return Index(index_dir, read_manifest(index_dir))
