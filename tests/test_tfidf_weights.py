"""TF-IDF weights against scikit-learn's TfidfTransformer for every combination of the two options,
a build split into several row chunks, a vocabulary of nothing, and the query-side weighting."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer

from ragcli.retrieval import tfidf
from ragcli.retrieval.tfidf import TfidfParams, build_tfidf, query_weights

COUNTS = np.array(
    [
        [3, 0, 1, 0, 0],
        [0, 2, 0, 0, 1],
        [1, 1, 1, 1, 0],
        [0, 0, 0, 5, 0],
        [2, 0, 0, 0, 4],
    ],
    dtype=np.int32,
)

OPTIONS = [(True, True), (True, False), (False, True), (False, False)]


def weights_of(payload: dict) -> np.ndarray:
    """The passages × terms weights from the term-major payload."""
    n_terms = len(payload["indptr"]) - 1
    return (
        sp.csr_matrix((payload["data"], payload["indices"], payload["indptr"]), shape=(n_terms, payload["n_passages"]))
        .toarray()
        .T
    )


@pytest.mark.parametrize("sublinear, smooth", OPTIONS)
@pytest.mark.parametrize("rows_per_chunk", [1, 2, 100])
def test_build_equals_sklearn(
    monkeypatch: pytest.MonkeyPatch, sublinear: bool, smooth: bool, rows_per_chunk: int
) -> None:
    monkeypatch.setattr(tfidf, "ROWS_PER_CHUNK", rows_per_chunk)
    monkeypatch.setattr(tfidf, "ENTRIES_PER_BLOCK", rows_per_chunk)
    reference = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=smooth, sublinear_tf=sublinear).fit(COUNTS)
    payload = build_tfidf(sp.csr_matrix(COUNTS), TfidfParams(sublinear_tf=sublinear, smooth_idf=smooth))
    assert weights_of(payload) == pytest.approx(reference.transform(COUNTS).toarray(), rel=1e-6)
    assert payload["idf"] == pytest.approx(reference.idf_)
    assert payload["idf"].dtype == np.float64 and payload["data"].dtype == np.float32


@pytest.mark.parametrize("rows_per_chunk", [1, 2, 4])
def test_more_passages_than_terms_in_chunks(monkeypatch: pytest.MonkeyPatch, rows_per_chunk: int) -> None:
    monkeypatch.setattr(tfidf, "ROWS_PER_CHUNK", rows_per_chunk)
    monkeypatch.setattr(tfidf, "ENTRIES_PER_BLOCK", rows_per_chunk)
    tall = np.array([[1, 0], [0, 2], [3, 1], [1, 0], [0, 5], [2, 0], [4, 4]], dtype=np.int32)  # df 5 and 3
    reference = TfidfTransformer(sublinear_tf=True).fit(tall)
    payload = build_tfidf(sp.csr_matrix(tall), TfidfParams())
    assert weights_of(payload) == pytest.approx(reference.transform(tall).toarray(), rel=1e-6)
    assert payload["idf"] == pytest.approx(reference.idf_)  # idf counts passages (7), not terms (2)


@pytest.mark.parametrize("sublinear, smooth", OPTIONS)
def test_a_vocabulary_of_one_term_is_weighted(sublinear: bool, smooth: bool) -> None:
    column = np.array([[2], [0], [1], [3]], dtype=np.int32)
    reference = TfidfTransformer(smooth_idf=smooth, sublinear_tf=sublinear).fit(column)
    payload = build_tfidf(sp.csr_matrix(column), TfidfParams(sublinear_tf=sublinear, smooth_idf=smooth))
    assert weights_of(payload) == pytest.approx(reference.transform(column).toarray(), rel=1e-6)
    assert payload["idf"] == pytest.approx(reference.idf_)


@pytest.mark.parametrize("sublinear, smooth", OPTIONS)
def test_a_build_warns_of_nothing(sublinear: bool, smooth: bool) -> None:
    """ln(0) of the tf table's unused entry and the unsmoothed idf of a term no passage holds are
    expected: they must not reach the user's terminal as numpy RuntimeWarnings."""
    counts = np.array([[3, 0, 1], [0, 0, 2], [1, 0, 0]], dtype=np.int32)  # the middle term: df = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        payload = build_tfidf(sp.csr_matrix(counts), TfidfParams(sublinear_tf=sublinear, smooth_idf=smooth))
    assert payload["data"].any()


def test_defaults_are_sublinear_and_smoothed_like_the_vectorizer_ragcli_documents() -> None:
    reference = TfidfTransformer(sublinear_tf=True).fit(COUNTS)  # smooth_idf and l2 are sklearn's defaults
    payload = build_tfidf(sp.csr_matrix(COUNTS), TfidfParams())
    assert weights_of(payload) == pytest.approx(reference.transform(COUNTS).toarray(), rel=1e-6)
    assert TfidfParams().to_dict() == {"sublinear_tf": True, "smooth_idf": True}


def test_unsorted_counts_are_weighted_like_sorted_ones() -> None:
    # the same matrix with each row's entries stored back to front
    csr = sp.csr_matrix(COUNTS)
    indices, data = csr.indices.copy(), csr.data.copy()
    for r in range(csr.shape[0]):
        lo, hi = csr.indptr[r], csr.indptr[r + 1]
        indices[lo:hi], data[lo:hi] = indices[lo:hi][::-1].copy(), data[lo:hi][::-1].copy()
    shuffled = sp.csr_matrix((data, indices, csr.indptr.copy()), shape=csr.shape)
    shuffled.has_sorted_indices = False
    reference = TfidfTransformer(sublinear_tf=True).fit(COUNTS)
    assert weights_of(build_tfidf(shuffled, TfidfParams())) == pytest.approx(
        reference.transform(COUNTS).toarray(), rel=1e-6
    )


def test_a_vocabulary_of_nothing_gives_an_empty_payload() -> None:
    payload = build_tfidf(sp.csr_matrix((3, 0), dtype=np.int32), TfidfParams())
    assert payload["n_passages"] == 3
    assert payload["idf"].tolist() == [] and payload["data"].tolist() == []
    assert payload["data"].dtype == np.float32 and payload["idf"].dtype == np.float64
    assert payload["indptr"].tolist() == [0]


def test_params_round_trip_as_booleans() -> None:
    assert TfidfParams.from_dict({"sublinear_tf": 0, "smooth_idf": 1}) == TfidfParams(
        sublinear_tf=False, smooth_idf=True
    )
    assert TfidfParams.from_dict({"smooth_idf": 0}) == TfidfParams(sublinear_tf=True, smooth_idf=False)
    assert TfidfParams.from_dict({"sublinear_tf": False, "other": 3}) == TfidfParams(sublinear_tf=False)
    assert TfidfParams.from_dict({}) == TfidfParams()
    params = TfidfParams(sublinear_tf=False, smooth_idf=False)
    assert TfidfParams.from_dict(params.to_dict()) == params
    assert type(TfidfParams.from_dict({"sublinear_tf": 1}).sublinear_tf) is bool


@pytest.mark.parametrize("sublinear, smooth", OPTIONS)
def test_query_weights_equal_sklearn_for_every_option(sublinear: bool, smooth: bool) -> None:
    reference = TfidfTransformer(norm="l2", smooth_idf=smooth, sublinear_tf=sublinear).fit(COUNTS)
    query = np.array([[2.0, 0.0, 1.0, 3.0, 0.0]])
    expected = reference.transform(query).toarray().ravel()
    present = query.ravel() > 0
    got = query_weights(
        TfidfParams(sublinear_tf=sublinear, smooth_idf=smooth), query.ravel()[present], reference.idf_[present]
    )
    assert got == pytest.approx(expected[present])


def test_query_weights_with_a_zero_norm_stay_zero() -> None:
    got = query_weights(TfidfParams(sublinear_tf=False), np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    assert got.tolist() == [0.0, 0.0]
    assert query_weights(TfidfParams(), np.array([1.0]), np.array([0.0])).tolist() == [0.0]


def test_query_weights_are_normalised_even_when_the_norm_is_below_one() -> None:
    got = query_weights(TfidfParams(sublinear_tf=False), np.array([1.0, 1.0]), np.array([0.3, 0.4]))
    assert got == pytest.approx([0.6, 0.8])  # (0.3, 0.4) / 0.5
