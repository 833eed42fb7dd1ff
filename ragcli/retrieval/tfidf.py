"""TF-IDF with cosine similarity, built with scikit-learn's TfidfTransformer (the weighting stage of
TfidfVectorizer) over ragcli's own term counts, so both retrievers share one analyzer and one vocabulary.

At query time ragcli weights the query with the same formula in numpy (`query_weights`): importing
scikit-learn costs about a second, more than the search itself. A test checks the two agree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ragcli.records import JsonObject
from ragcli.retrieval.sparse import SparseRetriever, SparseScorer, TermMatrix
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

    def transformer(self) -> Any:
        from sklearn.feature_extraction.text import TfidfTransformer

        return TfidfTransformer(norm="l2", use_idf=True, smooth_idf=self.smooth_idf, sublinear_tf=self.sublinear_tf)


ROWS_PER_CHUNK = 100_000  # passages transformed at a time: bounds scikit-learn's float64 copies


def build_tfidf(counts: Any, params: TfidfParams) -> dict[str, Any]:
    """The TF-IDF payload: l2-normalised passage vectors, stored term-major, and the idf per term."""
    counts = counts.tocsr()
    counts.sort_indices()
    if counts.shape[1] == 0:  # every word was a stopword: nothing to weight (scikit-learn refuses it)
        return {
            **TermMatrix.from_passage_weights(counts, np.zeros(0, dtype=np.float32)).to_payload(),
            "idf": np.zeros(0, dtype=np.float64),
        }
    transformer = params.transformer().fit(counts)
    weights = np.empty(counts.nnz, dtype=np.float32)
    for start in range(0, counts.shape[0], ROWS_PER_CHUNK):
        block = transformer.transform(counts[start : start + ROWS_PER_CHUNK].astype(np.float64))
        block.sort_indices()
        lo, hi = int(counts.indptr[start]), int(counts.indptr[min(start + ROWS_PER_CHUNK, counts.shape[0])])
        # tf > 0 and idf >= 1 (smoothed) or > 0: the transform keeps every stored entry, in place
        if block.nnz != hi - lo or not np.array_equal(block.indices, counts.indices[lo:hi]):
            raise AssertionError("TF-IDF changed the sparsity pattern")
        weights[lo:hi] = block.data
    return {**TermMatrix.from_passage_weights(counts, weights).to_payload(), "idf": transformer.idf_.astype(np.float64)}


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
