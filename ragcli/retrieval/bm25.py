"""BM25, scored eagerly: every (term, passage) weight is computed at index time (the bm25s approach).

Variants, all with the same term-frequency saturation and length normalisation:

- ``lucene`` (default): idf = ln(1 + (N - df + 0.5) / (df + 0.5)), tf / (tf + k1·(1 - b + b·dl/avgdl)),
  as Lucene/Elasticsearch/Anserini score; idf is never negative.
- ``robertson``: idf = ln((N - df + 0.5) / (df + 0.5)) (may be negative), tf·(k1+1) / (tf + …).
- ``atire``: idf = ln(N / df), tf·(k1+1) / (tf + …).
- ``okapi``, ``bm25l``, ``bm25+``: exactly rank_bm25's BM25Okapi, BM25L and BM25Plus (the reference
  implementation; tests check equal scores). This includes rank_bm25's BM25L multiplying its term score
  by tf once more than Lv & Zhai's paper does. BM25+ gives a term a score (idf·delta) even in passages
  without it; that part is one constant per term (`term_constants`), added per query, so the matrix
  stays sparse and the scores stay identical to rank_bm25's.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ragcli.errors import InvalidOptionError, unknown_choice
from ragcli.records import JsonObject
from ragcli.retrieval.sparse import (
    WEIGH_BM25L,
    WEIGH_LUCENE,
    WEIGH_SATURATED,
    QueryBatch,
    SparseRetriever,
    SparseScorer,
    TermMatrix,
    row_sums,
    term_major,
    weigh,
)
from ragcli.safeload import TERM_MATRIX_SCHEMA, ArraySpec, PayloadSchema
from ragcli.store import Payload

if TYPE_CHECKING:
    from ragcli.retrieval.index import Index

BM25_FILE = "bm25.joblib"

VARIANTS = ("lucene", "robertson", "atire", "okapi", "bm25l", "bm25+")
DELTA_VARIANTS = ("bm25l", "bm25+")  # the variants whose formula has a delta; the others ignore it
MAX_PARAMETER = 1000.0  # k1 and delta: far past any useful value (k1 is tuned in 0.5-2), short of overflow
# rank_bm25's defaults for its own variants: used when the user does not set k1/b/delta.
_VARIANT_DEFAULTS: dict[str, dict[str, float]] = {
    "okapi": {"k1": 1.5, "b": 0.75},
    "bm25l": {"k1": 1.5, "b": 0.75, "delta": 0.5},
    "bm25+": {"k1": 1.5, "b": 0.75, "delta": 1.0},
}


@dataclass(frozen=True)
class BM25Params:
    variant: str = "lucene"
    # Chosen on SciFact, NPL and Cranfield together (BENCHMARKS.md): one setting, no per-dataset tuning.
    k1: float = 1.0
    b: float = 0.6
    delta: float = 0.5  # BM25L / BM25+ only
    epsilon: float = 0.25  # okapi only: floor for negative idf, as a fraction of the mean idf

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise unknown_choice("BM25 variant", self.variant, VARIANTS)
        finite = all(math.isfinite(value) for value in (self.k1, self.b, self.delta, self.epsilon))
        if not finite or self.k1 < 0 or not 0 <= self.b <= 1 or self.delta < 0:
            raise InvalidOptionError("BM25 needs finite numbers: k1 >= 0, 0 <= b <= 1 and delta >= 0")
        if max(self.k1, self.delta) > MAX_PARAMETER:  # k1 1e308 made every weight infinite
            raise InvalidOptionError(f"BM25's k1 and delta must be at most {MAX_PARAMETER:g}")

    @classmethod
    def for_variant(cls, variant: str, **overrides: float | None) -> BM25Params:
        """Parameters for a variant: its customary defaults, then any value the user gave."""
        values: dict[str, Any] = {"variant": variant, **_VARIANT_DEFAULTS.get(variant, {})}
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BM25Params:
        return cls(**{k: data[k] for k in ("variant", "k1", "b", "delta", "epsilon") if k in data})


def idf(params: BM25Params, df: np.ndarray, n_docs: int) -> np.ndarray:
    """Inverse document frequency per term, as the variant defines it (terms with df = 0 get 0)."""
    df = df.astype(np.float64)
    present = df > 0
    safe_df = np.where(present, df, 1.0)
    if params.variant == "lucene":
        out = np.log1p((n_docs - safe_df + 0.5) / (safe_df + 0.5))
    elif params.variant in ("robertson", "okapi"):
        out = np.log((n_docs - safe_df + 0.5) / (safe_df + 0.5))
        if params.variant == "okapi" and present.any():
            # rank_bm25: negative idf → epsilon × mean idf over the vocabulary
            floor = params.epsilon * out[present].mean()
            out = np.where(out < 0, floor, out)
    elif params.variant == "atire":
        out = np.log(n_docs / safe_df)
    elif params.variant == "bm25l":
        out = np.log((n_docs + 1) / (safe_df + 0.5))
    else:  # bm25+
        out = np.log((n_docs + 1) / safe_df)
    return np.where(present, out, 0.0)


def term_constants(params: BM25Params, term_idf: np.ndarray) -> np.ndarray:
    """What a term adds to every passage's score, whether or not the passage holds it."""
    if params.variant == "bm25+":
        return term_idf * params.delta
    return np.zeros_like(term_idf)


def pair_weights(
    params: BM25Params, tf: np.ndarray, term_idf: np.ndarray, doc_len: np.ndarray, avgdl: float
) -> np.ndarray:
    """What a term adds to a passage holding it `tf` times, above its `term_constants` level."""
    length_norm = 1.0 - params.b + params.b * doc_len / avgdl if avgdl > 0 else np.ones(len(tf))
    return _weights(params, tf.astype(np.float64), term_idf, np.asarray(length_norm, dtype=np.float64))


def _weights(params: BM25Params, tf: np.ndarray, term_idf: np.ndarray, length_norm: np.ndarray) -> np.ndarray:
    """`pair_weights` from float64 `tf` and each pair's length normalisation, in place over the
    arrays it is given (both are temporaries of the caller): one pass per operation, no copies. The
    operations and their order are the formula's, so the weights are the same to the last bit."""
    k1, delta = params.k1, params.delta
    weights: np.ndarray = term_idf * tf
    if params.variant == "bm25l":
        np.divide(tf, length_norm, out=length_norm)  # ctd = tf / length_norm
        weights *= k1 + 1
        np.add(length_norm, delta, out=tf)  # ctd + delta
        weights *= tf
        length_norm += k1  # (k1 + ctd) + delta
        length_norm += delta
        weights /= length_norm
        return weights
    length_norm *= k1  # tf + k1 · length_norm
    length_norm += tf
    if params.variant != "lucene":  # robertson, atire, okapi, bm25+
        weights *= k1 + 1
    weights /= length_norm
    return weights


ENTRIES_PER_BLOCK = 4_000_000  # (term, passage) pairs weighted at a time: bounds the float64 temporaries


_KINDS = {"lucene": WEIGH_LUCENE, "bm25l": WEIGH_BM25L}  # the others: WEIGH_SATURATED


def build_bm25(counts: Any, params: BM25Params) -> dict[str, Any]:
    """The BM25 payload from a passages × terms count matrix (scipy CSR): the length normalisation
    once per passage, then each pair's weight in the payload's term-major order (`sparse.term_major`,
    shared with TF-IDF), so nothing is scattered afterwards: by the compiled kernel in one pass
    (`sparse.weigh`), else in a few in-place numpy passes per block, with the same bits."""
    counts = counts.tocsr()
    n_docs = counts.shape[0]
    doc_len = row_sums(counts).astype(np.float64)
    avgdl = float(doc_len.mean()) if n_docs else 0.0
    layout = term_major(counts)
    term_idf = idf(params, np.diff(layout.indptr), n_docs)  # a term's entries: its document frequency
    row_norm = 1.0 - params.b + params.b * doc_len / avgdl if avgdl > 0 else np.ones(n_docs)
    kind = _KINDS.get(params.variant, WEIGH_SATURATED)
    matrix = weigh(layout, kind, term_idf, row_norm, k1=params.k1, delta=params.delta)
    if matrix is None:
        weights = np.empty(counts.nnz, dtype=np.float32)
        for first, end, lo, hi in layout.blocks(ENTRIES_PER_BLOCK):
            tf = layout.counts[lo:hi].astype(np.float64)
            pair_idf = np.repeat(term_idf[first:end], np.diff(layout.indptr[first : end + 1]))
            weights[lo:hi] = _weights(params, tf, pair_idf, row_norm[layout.indices[lo:hi]])
        matrix = layout.matrix(weights)
    return {
        **matrix.to_payload(),
        "term_constant": term_constants(params, term_idf).astype(np.float64),
        "idf": term_idf,
        "avgdl": avgdl,
    }


class BM25Scorer(SparseScorer):
    name = "bm25"

    def __init__(self, index: Index, params: BM25Params, payload: dict[str, Any]) -> None:
        """Scores with `payload`: the index's stored BM25, or (for tuning) weights built with other `params`."""
        super().__init__(index, TermMatrix.from_payload(payload))
        self.params = params
        self.term_constant = payload["term_constant"]
        self.idf = payload["idf"]
        self._has_constants = params.variant == "bm25+"  # every other variant's are zeros (term_constants)

    def constant(self, term_ids: np.ndarray, counts: np.ndarray) -> float:
        if not self._has_constants or not len(term_ids):  # a query's numpy calls cost more than its kernel call
            return 0.0
        return float(np.dot(counts, self.term_constant[term_ids]))

    def weigh_many(self, offsets: np.ndarray, term_ids: np.ndarray, counts: np.ndarray) -> QueryBatch:
        if self._has_constants:  # BM25+: each query's constant, as `constant` sums it
            return super().weigh_many(offsets, term_ids, counts)
        return QueryBatch(offsets, term_ids, counts, np.zeros(len(offsets) - 1))  # weights: the counts

    def term_weight(self, term: str) -> float | None:
        """The term's idf in this index (None for a term it does not hold): how rare, so how telling."""
        term_id = self.index.lexicon.term_id(term)
        return float(self.idf[term_id]) if term_id is not None else None


class BM25(SparseRetriever[BM25Params]):
    """BM25 over the stored counts, scored eagerly (see the module docstring for the variants)."""

    name = "bm25"
    payload = BM25_FILE
    schema = TERM_MATRIX_SCHEMA.merged(
        PayloadSchema({"term_constant": ArraySpec(("float64",)), "idf": ArraySpec(("float64",))}, {"avgdl": (float,)})
    )

    def default_settings(self) -> BM25Params:
        return BM25Params()

    def settings_from(self, recorded: JsonObject) -> BM25Params:
        return BM25Params.from_dict(recorded)

    def weigh(self, counts: Any, settings: BM25Params) -> Payload:
        return build_bm25(counts, settings)

    def scorer(self, index: Index, settings: BM25Params, payload: Payload) -> BM25Scorer:
        return BM25Scorer(index, settings, payload)


RETRIEVER = BM25()
