"""TF-IDF with cosine similarity, weighted as scikit-learn's TfidfTransformer (the weighting stage of
TfidfVectorizer) does, over ragcli's own term counts, so both retrievers share one analyzer and one vocabulary.

At query time ragcli weights the query with the same formula in numpy (`query_weights`): importing
scikit-learn costs about a second, more than the search itself. A test checks the two agree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ragcli.records import JsonObject
from ragcli.retrieval.sparse import WEIGH_TFIDF, SparseRetriever, SparseScorer, TermMatrix, term_major, weigh
from ragcli.safeload import TERM_MATRIX_SCHEMA, ArraySpec, PayloadSchema
from ragcli.store import Payload

if TYPE_CHECKING:
    from ragcli.retrieval.index import Index

TFIDF_FILE = "tfidf.joblib"


@dataclass(frozen=True)
class TfidfParams:
    sublinear_tf: bool = True  # 1 + ln(tf): a term said ten times is not ten times as relevant
    smooth_idf: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TfidfParams:
        return cls(**{k: bool(data[k]) for k in ("sublinear_tf", "smooth_idf") if k in data})


ROWS_PER_CHUNK = 8_192  # passages whose norms are computed at a time: small float64 temporaries, reused
ENTRIES_PER_BLOCK = 4_000_000  # (term, passage) pairs weighted at a time by numpy (no kernel): likewise
MAX_TF_TABLE = 1 << 20  # the largest count the kernel looks its term-frequency factor up for


def fit_idf(df: np.ndarray, n_docs: int, params: TfidfParams) -> np.ndarray:
    """TfidfTransformer's idf: ln(n / df) + 1, with one passage holding every term added when smoothed.
    `df`: each term's document frequency (a term-major layout's row lengths)."""
    df = df.astype(np.float64)
    if params.smooth_idf:
        df += 1.0
        n_docs += 1
    term_idf = np.full_like(df, n_docs)
    with np.errstate(divide="ignore"):  # unsmoothed, a term no passage holds has an infinite idf, as in sklearn
        term_idf /= df
    np.log(term_idf, out=term_idf)
    term_idf += 1.0
    return term_idf


def build_tfidf(counts: Any, params: TfidfParams) -> dict[str, Any]:
    """The TF-IDF payload: l2-normalised passage vectors, stored term-major, and the idf per term.

    scikit-learn's TfidfTransformer (fit, then transform with norm="l2"), computed here over the
    stored entries in numpy: the same formula step by step, without importing scikit-learn (over two
    seconds on a busy machine, more than an incremental build's whole budget) or its per-chunk
    copies. tests/test_tfidf_weights.py checks the weights against TfidfTransformer's.
    """
    counts = counts.tocsr()
    counts.sort_indices()
    if counts.shape[1] == 0:  # every word was a stopword: nothing to weight
        return {
            **TermMatrix.from_passage_weights(counts, np.zeros(0, dtype=np.float32)).to_payload(),
            "idf": np.zeros(0, dtype=np.float64),
        }
    layout = term_major(counts)
    term_idf = fit_idf(np.diff(layout.indptr), counts.shape[0], params)
    # each passage's l2 norm, row by row (the sums in the order TfidfTransformer adds them up) ...
    indptr = np.asarray(counts.indptr, dtype=np.int64)
    norms = np.zeros(counts.shape[0], dtype=np.float64)
    for start in range(0, counts.shape[0], ROWS_PER_CHUNK):
        end = min(start + ROWS_PER_CHUNK, counts.shape[0])
        lo, hi = int(indptr[start]), int(indptr[end])
        data = _tf(counts.data[lo:hi], params)
        data *= term_idf[counts.indices[lo:hi]]
        nonempty = np.flatnonzero(np.diff(indptr[start : end + 1]))
        if len(nonempty):
            norms[start + nonempty] = np.add.reduceat(data * data, indptr[start:end][nonempty] - lo)
    np.sqrt(norms, out=norms)
    norms[norms == 0.0] = 1.0  # a row of zeros stays as it is (sklearn's normalize)
    # ... then the weights in the payload's term-major order (`sparse.term_major`, shared with BM25):
    # by the compiled kernel in one pass (the term-frequency factor looked up by count, computed by
    # the same numpy function), else in numpy block by block; the same bits either way
    largest = int(layout.counts.max()) if len(layout.counts) else 0
    with np.errstate(divide="ignore"):  # a count of 0 (never stored) would be ln(0) in either route
        table = _tf(np.arange(largest + 1), params) if largest <= MAX_TF_TABLE else None
    matrix = weigh(layout, WEIGH_TFIDF, term_idf, norms, tf_table=table) if table is not None else None
    if matrix is None:
        weights = np.empty(counts.nnz, dtype=np.float32)
        for first, end, lo, hi in layout.blocks(ENTRIES_PER_BLOCK):
            data = _tf(layout.counts[lo:hi], params)
            data *= np.repeat(term_idf[first:end], np.diff(layout.indptr[first : end + 1]))
            data /= norms[layout.indices[lo:hi]]
            weights[lo:hi] = data
        matrix = layout.matrix(weights)
    return {**matrix.to_payload(), "idf": term_idf}


def _tf(counts: np.ndarray, params: TfidfParams) -> np.ndarray:
    """The term-frequency factor, as float64: the count, or 1 + ln(count) (sublinear)."""
    tf = counts.astype(np.float64)
    if params.sublinear_tf:
        np.log(tf, out=tf)
        tf += 1.0
    return tf


def query_weights(params: TfidfParams, counts: np.ndarray, term_idf: np.ndarray) -> np.ndarray:
    """The query's l2-normalised tf-idf weights for its terms (same formula as TfidfTransformer)."""
    tf = counts.astype(np.float64)
    if params.sublinear_tf:
        tf = 1.0 + np.log(tf)
    weights = tf * term_idf
    norm = np.sqrt(np.square(weights).sum())
    return np.asarray(weights / norm if norm > 0 else weights)


class TfidfScorer(SparseScorer):
    name = "tfidf"

    def __init__(self, index: Index, params: TfidfParams, payload: dict[str, Any]) -> None:
        super().__init__(index, TermMatrix.from_payload(payload))
        self.params = params
        self.idf = payload["idf"]

    def query_weights(self, term_ids: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return query_weights(self.params, counts, self.idf[term_ids])


class Tfidf(SparseRetriever[TfidfParams]):
    """TF-IDF vectors ranked by cosine similarity."""

    name = "tfidf"
    payload = TFIDF_FILE
    schema = TERM_MATRIX_SCHEMA.merged(PayloadSchema({"idf": ArraySpec(("float64",))}))

    def default_settings(self) -> TfidfParams:
        return TfidfParams()

    def settings_from(self, recorded: JsonObject) -> TfidfParams:
        return TfidfParams.from_dict(recorded)

    def weigh(self, counts: Any, settings: TfidfParams) -> Payload:
        return build_tfidf(counts, settings)

    def scorer(self, index: Index, settings: TfidfParams, payload: Payload) -> TfidfScorer:
        return TfidfScorer(index, settings, payload)


RETRIEVER = Tfidf()
