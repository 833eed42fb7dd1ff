"""Scoring with a precomputed term → passage weight matrix: the shared half of BM25 and TF-IDF.

Both lexical retrievers store their weights term-major (CSR rows are terms), so a query touches only
the rows of its own terms. The arrays may be memory-mapped: a query reads only the rows it needs.

Two routes, with identical results (tests/test_query_engine.py):

- the k best (`rank`, what `Index.search` asks for): the compiled kernel `ragcli.retrieval._topk`
  (MaxScore a window of passages at a time, no passage-sized memory, the GIL released; why C and not numba in
  its header), built by setup.py. Without it (no compiler at install time) the numpy route below.
- every candidate's score (`score`, for evaluation at several depths and for fusion): gather the rows,
  add them up with `np.bincount` in the query's term order, in double precision.

At index time the same extension computes the weights themselves (`weigh`), bitwise as the
retrievers' numpy formulas do (tests/test_sparse_scoring.py), which remain the route without it.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

from ragcli.errors import IndexDamagedError
from ragcli.models import usable_cpus
from ragcli.records import JsonObject, SearchOptions
from ragcli.retrieval.base import BuildInput, Built, Ranked, Retriever, restrict, top_k
from ragcli.retrieval.kernel import KERNEL
from ragcli.store import REBUILD_HINT, Payload

_kernel: ModuleType | None = KERNEL  # a name of this module's own: tests take the numpy route by setting it

if TYPE_CHECKING:
    from ragcli.retrieval.index import Index

BATCH_QUERIES = 64  # queries per sparse product: bounds the memory of the product's result
BATCH_MAX_PASSAGES = 200_000  # above this, one query at a time beats sparse products (BENCHMARKS.md)
THREADED_MIN_QUERIES = 8  # queries per thread at least: starting a thread costs about one query's time
PACKED_CHUNK = 16  # queries packed per step of a batch: the kernel's threads start ranking after the first
DENSE_PASSAGES = 16_384  # up to this many passages the kernel ranks term at a time (_topk.c, run_dense; BENCHMARKS.md)


def kernel_available() -> bool:
    """Whether the compiled top-k kernel was built (else the numpy route ranks, with the same results)."""
    return _kernel is not None


def _reduce_rows(ufunc: np.ufunc, indptr: np.ndarray, data: np.ndarray, dtype: Any) -> np.ndarray:
    """`ufunc` over each row of a CSR matrix's data, in place (0 for an empty row)."""
    out = np.zeros(len(indptr) - 1, dtype=dtype)
    nonempty = np.flatnonzero(np.diff(indptr) > 0)
    if len(nonempty):  # reduceat over the non-empty rows' starts: each segment is exactly one row
        out[nonempty] = ufunc.reduceat(data[: indptr[-1]], indptr[nonempty], dtype=dtype)
    return out


def row_maxima(indptr: np.ndarray, data: np.ndarray) -> np.ndarray:
    """The largest weight of each row (0 for an empty row): MaxScore's per-term bound, stored at build."""
    return _reduce_rows(np.maximum, indptr, data, np.float32)


def row_sums(counts: Any) -> np.ndarray:
    """Each row's sum of a CSR count matrix (int64 for integer counts: exact), the data read in place
    where scipy's `sum(axis=1)` widens a copy of all of it first."""
    dtype = np.int64 if np.issubdtype(counts.data.dtype, np.integer) else np.float64
    return _reduce_rows(np.add, np.asarray(counts.indptr, dtype=np.int64), counts.data, dtype)


@dataclass(frozen=True)
class TermMajor:
    """A passages × terms count matrix transposed to terms × passages (passages ascending within each
    term): where BM25 and TF-IDF weights go, computed there directly (no scatter of the weights)."""

    indptr: np.ndarray  # int64, n_terms + 1
    indices: np.ndarray  # int32 passage numbers
    counts: np.ndarray  # each entry's count (the counts matrix's dtype)
    n_passages: int

    def blocks(self, entries: int) -> Iterator[tuple[int, int, int, int]]:
        """(first term, end term, first entry, end entry) of consecutive runs of whole terms holding
        about `entries` entries each (a term with more is a block of its own): bounds temporaries."""
        n_terms = len(self.indptr) - 1
        first = 0
        while first < n_terms:
            end = int(np.searchsorted(self.indptr, int(self.indptr[first]) + entries, side="right")) - 1
            end = min(max(end, first + 1), n_terms)
            yield first, end, int(self.indptr[first]), int(self.indptr[end])
            first = end

    def matrix(self, weights: np.ndarray) -> TermMatrix:
        """The `TermMatrix` of weights aligned with these entries."""
        data = np.asarray(weights, dtype=np.float32)
        return TermMatrix(self.indptr, self.indices, data, self.n_passages, row_maxima(self.indptr, data))


# `weigh`'s formulas: the kernel's `kind` argument
WEIGH_TFIDF, WEIGH_LUCENE, WEIGH_SATURATED, WEIGH_BM25L = 0, 1, 2, 3


def weigh(
    layout: TermMajor,
    kind: int,
    term_factor: np.ndarray,
    row_factor: np.ndarray,
    tf_table: np.ndarray | None = None,
    k1: float = 0.0,
    delta: float = 0.0,
) -> TermMatrix | None:
    """Every entry's weight and each term's largest, by the compiled kernel (`_topk.weigh`: one pass
    over the entries, no temporary as large as them, the GIL released) with the same floating-point
    operations as the retriever's numpy formula, so the same bits. None without the kernel: the
    retriever weighs with numpy. `term_factor`: idf per term; `row_factor`: per passage (BM25's length
    normalisation, TF-IDF's norm); `tf_table`: the term-frequency factor by count (None: the count)."""
    if _kernel is None or not hasattr(_kernel, "weigh"):  # none, or built from an older _topk.c
        return None
    weights = np.empty(len(layout.indices), dtype=np.float32)
    term_max = np.empty(len(layout.indptr) - 1, dtype=np.float32)
    _kernel.weigh(
        np.ascontiguousarray(layout.indptr, dtype=np.int64),
        np.ascontiguousarray(layout.counts, dtype=np.int32),
        np.ascontiguousarray(layout.indices, dtype=np.int32),
        np.ascontiguousarray(term_factor, dtype=np.float64),
        np.ascontiguousarray(row_factor, dtype=np.float64),
        None if tf_table is None else np.ascontiguousarray(tf_table, dtype=np.float64),
        kind,
        float(k1),
        float(delta),
        weights,
        term_max,
    )
    return TermMatrix(layout.indptr, layout.indices, weights, layout.n_passages, term_max)


_transposed: tuple[weakref.ref[Any], TermMajor] | None = None


def term_major(counts: Any) -> TermMajor:
    """`counts` (passages × terms, scipy CSR) transposed to terms × passages, computed once per counts
    matrix: BM25 and TF-IDF of one build, or every setting tuning tries, share it. The last one is kept
    (weakly, for as long as its counts matrix lives) when the matrix's rows are sorted, which
    `sort_indices` (TF-IDF calls it) leaves as they are."""
    global _transposed
    canonical = bool(counts.has_sorted_indices)
    if canonical and _transposed is not None and _transposed[0]() is counts:
        return _transposed[1]
    import scipy.sparse as sp

    by_term = sp.csr_matrix((counts.data, counts.indices, counts.indptr), shape=counts.shape, copy=False).T.tocsr()
    by_term.sort_indices()  # a no-op: scipy's transposition keeps the passages of a term in order
    found = TermMajor(
        np.asarray(by_term.indptr, dtype=np.int64),
        np.asarray(by_term.indices, dtype=np.int32),
        by_term.data,
        counts.shape[0],
    )
    if canonical:
        _transposed = (weakref.ref(counts, _forget), found)
    return found


def _forget(gone: weakref.ref[Any]) -> None:
    """Drops the kept transposition when its counts matrix goes (a long-lived process keeps no copy)."""
    global _transposed
    if _transposed is not None and _transposed[0] is gone:
        _transposed = None


@dataclass(frozen=True)
class QueryBatch:
    """Many weighted queries packed for one kernel call: query i is terms[offsets[i]:offsets[i + 1]]
    with those weights, plus constants[i] (what every passage scores for it: BM25+)."""

    offsets: np.ndarray  # int64, queries + 1
    terms: np.ndarray  # int64
    weights: np.ndarray  # float64
    constants: np.ndarray  # float64, one per query

    @classmethod
    def pack(cls, queries: Sequence[tuple[np.ndarray, np.ndarray, float]]) -> QueryBatch:
        """From (term ids, weights, constant) per query."""
        offsets = np.zeros(len(queries) + 1, dtype=np.int64)
        np.cumsum([len(ids) for ids, _, _ in queries], out=offsets[1:])
        empty = np.zeros(0)
        return cls(
            offsets,
            np.concatenate([empty.astype(np.int64), *(ids for ids, _, _ in queries)]).astype(np.int64, copy=False),
            np.concatenate([empty, *(w for _, w, _ in queries)]).astype(np.float64, copy=False),
            np.array([c for _, _, c in queries], dtype=np.float64),
        )

    def queries(self) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
        """(term ids, weights, constant) per query, as `pack` took them."""
        bounds = self.offsets.tolist()
        for i, constant in enumerate(self.constants.tolist()):
            yield self.terms[bounds[i] : bounds[i + 1]], self.weights[bounds[i] : bounds[i + 1]], constant


@dataclass
class TermMatrix:
    """A terms × passages sparse matrix in CSR form (plain numpy arrays, no scipy at query time)."""

    indptr: np.ndarray  # int64, n_terms + 1
    indices: np.ndarray  # int32 passage numbers
    data: np.ndarray  # float32 weights
    n_passages: int
    term_max: np.ndarray | None = None  # float32 per term (None: an index built before the kernel)
    _scipy: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_scipy(cls, matrix: Any) -> TermMatrix:
        """From a scipy sparse terms × passages matrix."""
        csr = matrix.tocsr()
        csr.sort_indices()
        indptr, data = np.asarray(csr.indptr, dtype=np.int64), np.asarray(csr.data, dtype=np.float32)
        return cls(indptr, np.asarray(csr.indices, dtype=np.int32), data, csr.shape[1], row_maxima(indptr, data))

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
        payload = {"indptr": self.indptr, "indices": self.indices, "data": self.data, "n_passages": self.n_passages}
        return payload if self.term_max is None else {**payload, "term_max": self.term_max}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TermMatrix:
        term_max = payload.get("term_max")
        return cls(payload["indptr"], payload["indices"], payload["data"], int(payload["n_passages"]), term_max)

    def top(
        self,
        term_ids: np.ndarray,
        weights: np.ndarray,
        k: int,
        id_rank: np.ndarray,
        allowed: np.ndarray | None = None,
        constant: float = 0.0,
    ) -> Ranked:
        """The k best passages (Σ weight·matrix[term, passage] + constant), best first, ties by
        `id_rank`; only passages `allowed` admits (None: all). Exactly `top_k` over `accumulate`."""
        k = min(k, self.n_passages)
        if _kernel is None or k <= 0 or len(term_ids) == 0:
            candidates, scores = self.accumulate(term_ids, weights)
            return top_k(*restrict((candidates, scores + constant), allowed), k, id_rank)
        docs, scores = np.empty(k, dtype=np.int64), np.empty(k, dtype=np.float64)
        dense = self.n_passages <= DENSE_PASSAGES and hasattr(_kernel, "topk_dense")  # not in an older build
        n = (_kernel.topk_dense if dense else _kernel.topk)(
            self.indptr,
            self.indices,
            self.data,
            self._term_max(),
            np.ascontiguousarray(term_ids, dtype=np.int64),
            np.ascontiguousarray(weights, dtype=np.float64),
            k,
            np.ascontiguousarray(id_rank, dtype=np.int64),
            None if allowed is None else np.ascontiguousarray(allowed, dtype=np.bool_),
            float(constant),
            docs,
            scores,
        )
        return docs[:n], scores[:n]

    def _term_max(self) -> np.ndarray | None:
        """The stored per-term maxima when they fit the matrix (else the kernel computes them)."""
        return self.term_max if self.term_max is not None and len(self.term_max) == len(self.indptr) - 1 else None

    def top_many(
        self,
        batches: Iterable[QueryBatch],
        queries: int,
        k: int,
        id_rank: np.ndarray,
        allowed: np.ndarray | None = None,
        threads: int = 1,
    ) -> list[Ranked]:
        """`top` for each of the `queries` queries that `batches` hold, in one call of the compiled
        kernel: `threads` - 1 threads rank each batch as it comes while this thread takes (packs) the
        next, then this one ranks too with the GIL released. The same hits as `top`, query by query."""
        k = min(k, self.n_passages)
        if _kernel is None or not hasattr(_kernel, "topk_many") or k <= 0:  # an older build: one by one
            return [self.top(ids, w, k, id_rank, allowed, c) for b in batches for ids, w, c in b.queries()]
        docs, scores = np.empty((queries, k), dtype=np.int64), np.empty((queries, k), dtype=np.float64)
        counts = np.empty(queries, dtype=np.int64)
        _kernel.topk_many(
            self.indptr,
            self.indices,
            self.data,
            self._term_max(),
            ((b.offsets, b.terms, b.weights, b.constants) for b in batches),
            k,
            np.ascontiguousarray(id_rank, dtype=np.int64),
            None if allowed is None else np.ascontiguousarray(allowed, dtype=np.bool_),
            self.n_passages <= DENSE_PASSAGES,
            docs,
            scores,
            counts,
            threads,
        )
        return [(docs[i, :n], scores[i, :n]) for i, n in enumerate(counts.tolist())]

    def accumulate(self, term_ids: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Passages that hold at least one of the terms, and Σ weight·matrix[term, passage] for each."""
        if len(term_ids) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        starts, ends = self.indptr[term_ids], self.indptr[term_ids + 1]
        rows = [self.indices[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
        # float32 products (a Python float meets a float32 array), summed in float64 in the query's term
        # order: exactly what the compiled kernel computes
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
    _has_constants = False  # whether a query has a score every passage gets (BM25+ sets it; `constant`)

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

    def unmatched_score(self, query: str) -> float:
        """What a passage holding none of the query's terms scores (`constant`), which `score` leaves
        out: fusion standardises it for the passages a whole lexical list lacks. 0 without analysing the
        query again where no query has a constant."""
        return self.constant(*self._vector(query)) if self._has_constants else 0.0

    def _vector(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        term_ids, counts = self.index.lexicon.query_vector(self.index.analyzer.query_terms(query))
        return term_ids, self.query_weights(term_ids, counts) if len(term_ids) else counts

    def rank_within(self, query: str, k: int, id_rank: np.ndarray, allowed: np.ndarray | None) -> Ranked:
        """The k best passages `allowed` admits (None: all), best first, ties by `id_rank`."""
        term_ids, weights = self._vector(query)
        return self.matrix.top(term_ids, weights, k, id_rank, allowed, self.constant(term_ids, weights))

    def rank_many_within(
        self, queries: Sequence[str], k: int, id_rank: np.ndarray, allowed: np.ndarray | None
    ) -> list[Ranked]:
        """`rank_within` for many queries, on every core: one kernel call ranks them on threads of its
        own while this thread analyses and packs them chunk by chunk (the analyzer and the index's lazy
        parts stay in this thread), so the packing hides behind the ranking."""
        threads = max(1, min(usable_cpus(), len(queries) // THREADED_MIN_QUERIES))
        chunks = (self._pack(queries[at : at + PACKED_CHUNK]) for at in range(0, len(queries), PACKED_CHUNK))
        return self.matrix.top_many(chunks, len(queries), k, id_rank, allowed, threads)

    def weigh_many(self, offsets: np.ndarray, term_ids: np.ndarray, counts: np.ndarray) -> QueryBatch:
        """A batch of queries' terms and counts (query i's at [offsets[i], offsets[i + 1])) weighted
        by `query_weights` and `constant`, query by query: a scorer whose weights are the counts
        overrides this with no Python step per query. Either way the same numbers as `_vector`."""
        bounds = offsets.tolist()
        weighted = []
        for lo, hi in pairwise(bounds):
            ids, n = term_ids[lo:hi], counts[lo:hi]
            w = self.query_weights(ids, n) if hi > lo else n
            weighted.append((ids, w, self.constant(ids, w)))
        return QueryBatch.pack(weighted)

    def _pack(self, queries: Sequence[str]) -> QueryBatch:
        analyzer = self.index.analyzer
        return self.weigh_many(*self.index.lexicon.query_vectors(analyzer.query_terms(q) for q in queries))

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
