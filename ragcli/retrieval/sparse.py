"""Scoring with a precomputed term → passage weight matrix: the shared half of BM25 and TF-IDF.

Both lexical retrievers store their weights term-major (CSR rows are terms), so a query touches only
the rows of its own terms: gather those rows, add them up with `np.bincount`, select the top k with
`np.partition`. No Python loop runs over passages. The arrays may be memory-mapped: a query reads only
the rows it needs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

from ragcli.errors import IndexDamagedError
from ragcli.records import JsonObject, SearchOptions
from ragcli.retrieval.base import BuildInput, Built, Retriever
from ragcli.store import REBUILD_HINT, Payload

if TYPE_CHECKING:
    from ragcli.retrieval.index import Index

BATCH_QUERIES = 64  # queries per sparse product: bounds the memory of the product's result
BATCH_MAX_PASSAGES = 200_000  # above this, one query at a time beats sparse products (BENCHMARKS.md)


@dataclass
class TermMatrix:
    """A terms × passages sparse matrix in CSR form (plain numpy arrays, no scipy at query time)."""

    indptr: np.ndarray  # int64, n_terms + 1
    indices: np.ndarray  # int32 passage numbers
    data: np.ndarray  # float32 weights
    n_passages: int
    _scipy: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_scipy(cls, matrix: Any) -> TermMatrix:
        """From a scipy sparse terms × passages matrix."""
        csr = matrix.tocsr()
        csr.sort_indices()
        return cls(
            np.asarray(csr.indptr, dtype=np.int64),
            np.asarray(csr.indices, dtype=np.int32),
            np.asarray(csr.data, dtype=np.float32),
            csr.shape[1],
        )

    @classmethod
    def from_passage_weights(cls, counts: Any, weights: np.ndarray) -> TermMatrix:
        """Term-major weights from weights aligned with a passages × terms CSR's stored entries."""
        import scipy.sparse as sp

        by_passage = sp.csr_matrix((weights, counts.indices, counts.indptr), shape=counts.shape, copy=False)
        return cls.from_scipy(by_passage.T)

    def consistent(self, n_terms: int, n_passages: int) -> bool:
        """Cheap structural checks (no full scan): the shape and the ends of the CSR arrays."""
        return (
            len(self.indptr) == n_terms + 1
            and self.n_passages == n_passages
            and int(self.indptr[0]) == 0
            and int(self.indptr[-1]) == len(self.indices) == len(self.data)
        )

    def to_payload(self) -> dict[str, Any]:
        return {"indptr": self.indptr, "indices": self.indices, "data": self.data, "n_passages": self.n_passages}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TermMatrix:
        return cls(payload["indptr"], payload["indices"], payload["data"], int(payload["n_passages"]))

    def accumulate(self, term_ids: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Passages that hold at least one of the terms, and Σ weight·matrix[term, passage] for each."""
        if len(term_ids) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        starts, ends = self.indptr[term_ids], self.indptr[term_ids + 1]
        rows = [self.indices[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
        vals = [self.data[s:e] * w for s, e, w in zip(starts.tolist(), ends.tolist(), weights.tolist())]
        indices = np.concatenate(rows)
        if len(indices) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        if int(indices.min()) < 0 or int(indices.max()) >= self.n_passages:  # damaged: never allocate for it
            raise ValueError("passage numbers out of range")
        values = np.concatenate(vals).astype(np.float64)
        if len(term_ids) == 1:
            return indices.astype(np.int64), values
        totals = np.bincount(indices, weights=values, minlength=self.n_passages)
        touched = np.zeros(self.n_passages, dtype=bool)
        touched[indices] = True
        candidates = np.flatnonzero(touched)
        return candidates, totals[candidates]

    def accumulate_many(
        self, queries: Sequence[tuple[np.ndarray, np.ndarray]]
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """`accumulate` for many (term ids, weights) queries at once, as one sparse matrix product per
        batch of queries: fewer Python steps per query than a loop of `accumulate` calls."""
        import scipy.sparse as sp

        if self._scipy is None:
            shape = (len(self.indptr) - 1, self.n_passages)
            matrix = sp.csr_matrix((self.data, self.indices, self.indptr), shape=shape, copy=False)
            matrix.check_format(full_check=True)  # scipy's product trusts the indices: check them once
            self._scipy = matrix
        for start in range(0, len(queries), BATCH_QUERIES):
            batch = queries[start : start + BATCH_QUERIES]
            lengths = [len(ids) for ids, _ in batch]
            rows = np.repeat(np.arange(len(batch)), lengths)
            cols = np.concatenate([ids for ids, _ in batch]) if batch else np.zeros(0, dtype=np.int64)
            vals = np.concatenate([w for _, w in batch]) if batch else np.zeros(0)
            product = (
                sp.csr_matrix((vals, (rows, cols)), shape=(len(batch), self._scipy.shape[0])) @ self._scipy
            ).tocsr()
            for row in range(len(batch)):
                lo, hi = product.indptr[row], product.indptr[row + 1]
                yield product.indices[lo:hi].astype(np.int64), product.data[lo:hi].astype(np.float64)


class Params(Protocol):
    """A sparse retriever's settings: a dataclass that records itself in the manifest."""

    def to_dict(self) -> JsonObject: ...


P = TypeVar("P", bound=Params)


class SparseRetriever(Retriever[P]):
    """A retriever whose payload is term weights computed from the index's counts with settings P."""

    def weigh(self, counts: Any, settings: P) -> Payload:
        """The payload: a `TermMatrix` of weights (and whatever its scorer needs) from the counts."""
        raise NotImplementedError

    def scorer(self, index: Index, settings: P, payload: Payload) -> SparseScorer:
        raise NotImplementedError

    def identity(self, settings: P) -> JsonObject:
        return settings.to_dict()

    def build(self, settings: P, data: BuildInput) -> Built:
        return Built(self.weigh(data.counts, settings), settings.to_dict())

    def open(self, index: Index, options: SearchOptions) -> SparseScorer:
        assert self.payload is not None
        return self.scorer(index, self.settings_from(index.manifest[self.name]), index.payload(self.payload))


class SparseScorer:
    """A query scorer over a `TermMatrix`: the query's terms weighted by `query_weights`, then summed."""

    name = ""

    def __init__(self, index: Index, matrix: TermMatrix) -> None:
        if not matrix.consistent(len(index.lexicon), index.manifest["counts"]["passages"]):
            raise IndexDamagedError(f"{index.path}: {self.name} weights do not match the index", hint=REBUILD_HINT)
        self.index = index
        self.matrix = matrix

    def query_weights(self, term_ids: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The weight of each query term (its count, unless a retriever weights queries)."""
        return counts

    def constant(self, term_ids: np.ndarray, counts: np.ndarray) -> float:
        """What every passage scores for this query whether or not it holds a term (BM25+ only)."""
        return 0.0

    def _vector(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        term_ids, counts = self.index.lexicon.query_vector(self.index.analyzer(query))
        return term_ids, self.query_weights(term_ids, counts) if len(term_ids) else counts

    def score(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        term_ids, weights = self._vector(query)
        candidates, scores = self.matrix.accumulate(term_ids, weights)
        return candidates, scores + self.constant(term_ids, weights)

    def score_many(self, queries: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self.matrix.n_passages > BATCH_MAX_PASSAGES:  # products of huge results cost more
            yield from (self.score(q) for q in queries)
            return
        vectors = [self._vector(q) for q in queries]
        for (term_ids, weights), (candidates, scores) in zip(vectors, self.matrix.accumulate_many(vectors)):
            yield candidates, scores + self.constant(term_ids, weights)
