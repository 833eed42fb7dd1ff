"""BM25 parameters and weights, checked against the formulas written out by hand and against
rank_bm25 (the reference for okapi, bm25l and bm25+): validation limits, each variant's defaults,
idf and term weights per variant, the BM25+ constant, and a build split into several row chunks."""

from __future__ import annotations

import inspect
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import rank_bm25
import scipy.sparse as sp

from ragcli.indexing.build import build_index
from ragcli.retrieval import bm25
from ragcli.retrieval.bm25 import (
    VARIANTS,
    BM25Params,
    InvalidOptionError,
    build_bm25,
    idf,
    pair_weights,
    term_constants,
)
from ragcli.retrieval.index import load_index

DOCS = [
    ["bee", "hive", "honey", "bee"],
    ["queen", "bee", "wax"],
    ["honey", "honey", "honey"],
    ["wax", "dance"],
    ["pollen"],
    ["bee", "dance", "dance", "pollen", "hive", "queen"],
    ["hive"],
]


def counts_matrix(docs: list[list[str]]) -> tuple[sp.csr_matrix, list[str]]:
    vocabulary = sorted({t for d in docs for t in d})
    column = {t: i for i, t in enumerate(vocabulary)}
    rows, cols = [], []
    for r, d in enumerate(docs):
        for t in d:
            rows.append(r)
            cols.append(column[t])
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(docs), len(vocabulary)))
    matrix.sum_duplicates()
    return matrix, vocabulary


def scores_from_payload(payload: dict, vocabulary: list[str], query: list[str], n_docs: int) -> np.ndarray:
    weights = sp.csr_matrix((payload["data"], payload["indices"], payload["indptr"]), shape=(len(vocabulary), n_docs))
    dense = weights.toarray()
    total = np.zeros(n_docs)
    for term in query:
        if term in vocabulary:
            i = vocabulary.index(term)
            total += dense[i] + payload["term_constant"][i]
    return total


def rank_bm25_defaults(cls: type) -> dict[str, float]:
    return {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name in ("k1", "b", "delta", "epsilon")
    }


# --- parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant, reference", [("okapi", rank_bm25.BM25Okapi), ("bm25l", rank_bm25.BM25L), ("bm25+", rank_bm25.BM25Plus)]
)
def test_rank_bm25_variants_default_to_rank_bm25s_own_parameters(variant: str, reference: type) -> None:
    params = BM25Params.for_variant(variant)
    for name, value in rank_bm25_defaults(reference).items():
        assert getattr(params, name) == value, name


def test_for_variant_keeps_given_values_and_ignores_none() -> None:
    params = BM25Params.for_variant("bm25+", k1=0.9, b=None, delta=None)
    assert (params.variant, params.k1, params.b, params.delta) == ("bm25+", 0.9, 0.75, 1.0)
    assert BM25Params.for_variant("atire", b=0.3) == BM25Params(variant="atire", b=0.3)
    assert BM25Params.for_variant("lucene") == BM25Params()


def test_defaults_are_lucene_k1_1_b_0_6() -> None:
    # BENCHMARKS.md: one setting for every dataset
    assert BM25Params() == BM25Params(variant="lucene", k1=1.0, b=0.6, delta=0.5, epsilon=0.25)
    assert VARIANTS == ("lucene", "robertson", "atire", "okapi", "bm25l", "bm25+")


@pytest.mark.parametrize("values", [dict(k1=0.0), dict(b=0.0), dict(b=1.0), dict(delta=0.0), dict(k1=100.0)])
def test_limits_are_inclusive(values: dict) -> None:
    BM25Params(**values)


@pytest.mark.parametrize("values", [dict(k1=-0.01), dict(b=-0.01), dict(b=1.01), dict(delta=-0.01)])
def test_out_of_range_parameters_are_refused(values: dict) -> None:
    with pytest.raises(InvalidOptionError) as error:
        BM25Params(**values)
    assert str(error.value) == "BM25 needs finite numbers: k1 >= 0, 0 <= b <= 1 and delta >= 0"


def test_unknown_variant_names_the_choices() -> None:
    with pytest.raises(InvalidOptionError) as error:
        BM25Params(variant="lucen")
    assert error.value.message == "unknown BM25 variant 'lucen'; did you mean 'lucene'?"
    assert error.value.hint == "choose one of lucene, robertson, atire, okapi, bm25l, bm25+"


def test_dict_round_trip_ignores_unknown_keys() -> None:
    params = BM25Params(variant="bm25l", k1=1.3, b=0.2, delta=0.7, epsilon=0.1)
    data = params.to_dict()
    assert data == {"variant": "bm25l", "k1": 1.3, "b": 0.2, "delta": 0.7, "epsilon": 0.1}
    assert BM25Params.from_dict({**data, "future": 1}) == params
    assert BM25Params.from_dict({"k1": 2.0}) == BM25Params(k1=2.0)
    for key in ("variant", "k1", "b", "delta", "epsilon"):
        assert BM25Params.from_dict({key: data[key]}) == BM25Params(**{key: data[key]})


# --- idf ----------------------------------------------------------------------------------------

N = 10
DF = np.array([0, 1, 3, 5, 8, 10])


def expected_idf(variant: str, df: int, n: int = N) -> float:
    if df == 0:
        return 0.0
    return {
        "lucene": math.log(1 + (n - df + 0.5) / (df + 0.5)),
        "robertson": math.log((n - df + 0.5) / (df + 0.5)),
        "atire": math.log(n / df),
        "bm25l": math.log((n + 1) / (df + 0.5)),
        "bm25+": math.log((n + 1) / df),
    }[variant]


@pytest.mark.parametrize("variant", ["lucene", "robertson", "atire", "bm25l", "bm25+"])
def test_idf_formulas(variant: str) -> None:
    got = idf(BM25Params(variant=variant), DF, N)
    assert got == pytest.approx([expected_idf(variant, int(d)) for d in DF])
    assert got.dtype == np.float64


def test_okapi_floors_negative_idf_at_epsilon_times_the_mean() -> None:
    df = np.array([0, 1, 2, 7])
    raw = [math.log((N - d + 0.5) / (d + 0.5)) for d in df[1:]]  # terms with df > 0
    floor = 0.3 * sum(raw) / len(raw)
    expected = [0.0] + [r if r >= 0 else floor for r in raw]
    assert raw[-1] < 0 < floor
    assert idf(BM25Params(variant="okapi", epsilon=0.3), df, N) == pytest.approx(expected)


def test_okapi_keeps_an_idf_of_exactly_zero() -> None:
    # df = N/2: ln((N - df + 0.5) / (df + 0.5)) = ln(1) = 0, which is not negative, so not floored
    got = idf(BM25Params(variant="okapi", epsilon=0.5), np.array([1, 5]), N)
    assert got.tolist() == pytest.approx([math.log(9.5 / 1.5), 0.0])


def test_okapi_with_no_term_present_is_all_zero() -> None:
    assert idf(BM25Params(variant="okapi"), np.array([0, 0]), 4).tolist() == [0.0, 0.0]


def test_term_constants_only_for_bm25_plus() -> None:
    term_idf = np.array([0.5, 2.0])
    assert term_constants(BM25Params(variant="bm25+", delta=0.8), term_idf) == pytest.approx([0.4, 1.6])
    for variant in ("lucene", "robertson", "atire", "okapi", "bm25l"):
        assert term_constants(BM25Params(variant=variant, delta=0.8), term_idf).tolist() == [0.0, 0.0]


# --- term weights -------------------------------------------------------------------------------

TF = np.array([1, 2, 5])
DOC_LEN = np.array([4.0, 10.0, 20.0])
AVGDL = 8.0
TERM_IDF = np.array([1.5, 0.7, 2.0])


def expected_weight(
    variant: str, tf: float, term_idf: float, dl: float, k1: float, b: float, delta: float, avgdl: float = AVGDL
) -> float:
    norm = 1 - b + b * dl / avgdl if avgdl > 0 else 1.0
    if variant == "lucene":
        return term_idf * tf / (tf + k1 * norm)
    if variant == "bm25l":
        ctd = tf / norm
        return term_idf * tf * (k1 + 1) * (ctd + delta) / (k1 + ctd + delta)
    return term_idf * tf * (k1 + 1) / (tf + k1 * norm)


@pytest.mark.parametrize("variant", VARIANTS)
def test_pair_weights_follow_the_formulas(variant: str) -> None:
    params = BM25Params(variant=variant, k1=1.3, b=0.4, delta=0.6)
    got = pair_weights(params, TF, TERM_IDF, DOC_LEN, AVGDL)
    expected = [expected_weight(variant, t, i, d, 1.3, 0.4, 0.6) for t, i, d in zip(TF, TERM_IDF, DOC_LEN)]
    assert got == pytest.approx(expected)


@pytest.mark.parametrize("variant", ["lucene", "okapi", "bm25l"])
def test_an_average_length_of_zero_means_no_length_normalisation(variant: str) -> None:
    params = BM25Params(variant=variant, k1=1.3, b=0.4, delta=0.6)
    got = pair_weights(params, TF, TERM_IDF, DOC_LEN, 0.0)
    expected = [expected_weight(variant, t, i, d, 1.3, 0.4, 0.6, avgdl=0.0) for t, i, d in zip(TF, TERM_IDF, DOC_LEN)]
    assert got == pytest.approx(expected)
    assert got.dtype == np.float64


@pytest.mark.parametrize("variant", ["lucene", "okapi", "bm25l"])
def test_an_average_length_below_one_still_normalises(variant: str) -> None:
    # passages without a single token pull the average below 1
    params = BM25Params(variant=variant, k1=1.3, b=0.4, delta=0.6)
    got = pair_weights(params, TF, TERM_IDF, DOC_LEN, 0.5)
    expected = [expected_weight(variant, t, i, d, 1.3, 0.4, 0.6, avgdl=0.5) for t, i, d in zip(TF, TERM_IDF, DOC_LEN)]
    assert got == pytest.approx(expected)


# --- a whole build, in several row chunks ------------------------------------------------------

QUERIES = [["bee"], ["honey", "wax"], ["hive", "dance", "dance"], ["pollen", "queen", "nothere"]]


@pytest.mark.parametrize(
    "variant, reference", [("okapi", rank_bm25.BM25Okapi), ("bm25l", rank_bm25.BM25L), ("bm25+", rank_bm25.BM25Plus)]
)
@pytest.mark.parametrize("entries_per_block", [1, 3, 1000])
def test_chunked_build_equals_rank_bm25(
    monkeypatch: pytest.MonkeyPatch, variant: str, reference: type, entries_per_block: int
) -> None:
    monkeypatch.setattr(bm25, "ENTRIES_PER_BLOCK", entries_per_block)
    counts, vocabulary = counts_matrix(DOCS)
    payload = build_bm25(counts, BM25Params.for_variant(variant))
    ref = reference(DOCS)
    assert payload["avgdl"] == pytest.approx(sum(map(len, DOCS)) / len(DOCS))
    assert payload["idf"] == pytest.approx([ref.idf[t] for t in vocabulary])
    assert payload["n_passages"] == len(DOCS)
    for query in QUERIES:
        assert scores_from_payload(payload, vocabulary, query, len(DOCS)) == pytest.approx(ref.get_scores(query))


@pytest.mark.parametrize("entries_per_block", [1, 4])
def test_chunked_lucene_build_equals_the_formula(monkeypatch: pytest.MonkeyPatch, entries_per_block: int) -> None:
    monkeypatch.setattr(bm25, "ENTRIES_PER_BLOCK", entries_per_block)
    counts, vocabulary = counts_matrix(DOCS)
    params = BM25Params(k1=1.2, b=0.75)
    payload = build_bm25(counts, params)
    n = len(DOCS)
    avgdl = sum(map(len, DOCS)) / n
    weights = sp.csr_matrix(
        (payload["data"], payload["indices"], payload["indptr"]), shape=(len(vocabulary), n)
    ).toarray()
    for t, term in enumerate(vocabulary):
        df = sum(term in d for d in DOCS)
        term_idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for d, document in enumerate(DOCS):
            tf = document.count(term)
            want = term_idf * tf / (tf + 1.2 * (1 - 0.75 + 0.75 * len(document) / avgdl)) if tf else 0.0
            assert weights[t, d] == pytest.approx(want, rel=1e-6), (term, d)
    assert payload["term_constant"].tolist() == [0.0] * len(vocabulary)
    assert payload["data"].dtype == np.float32


def test_build_of_no_passages() -> None:
    payload = build_bm25(sp.csr_matrix((0, 3), dtype=np.int32), BM25Params())
    assert payload["avgdl"] == 0.0
    assert payload["n_passages"] == 0
    assert payload["idf"].tolist() == [0.0, 0.0, 0.0]


def test_term_weight_is_the_terms_idf_and_none_for_a_term_the_index_lacks(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in {"a.txt": "quokka island", "b.txt": "quokka smile", "c.txt": "island ferry"}.items():
        (corpus / name).write_text(text)
    build_index([corpus], tmp_path / "index")
    scorer = load_index(tmp_path / "index").retriever("bm25")
    (quokka,) = scorer.index.analyzer("quokka")
    (ferry,) = scorer.index.analyzer("ferry")
    assert scorer.term_weight(quokka) == pytest.approx(math.log(1 + (3 - 2 + 0.5) / (2 + 0.5)))  # lucene, df 2 of 3
    assert scorer.term_weight(ferry) == pytest.approx(math.log(1 + (3 - 1 + 0.5) / (1 + 0.5)))
    assert scorer.term_weight("zzzunknown") is None


@pytest.mark.parametrize("name", ["k1", "b", "delta", "epsilon"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_parameters_that_are_not_finite_are_refused(name: str, value: float) -> None:
    with pytest.raises(InvalidOptionError) as error:
        BM25Params(**{name: value})
    assert str(error.value) == "BM25 needs finite numbers: k1 >= 0, 0 <= b <= 1 and delta >= 0"


def test_passages_without_a_single_token_are_built_without_warnings() -> None:
    # passages of stopwords only: no length to average (0 / 0 would warn on stderr) and nothing to weigh
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        payload = build_bm25(sp.csr_matrix((3, 2), dtype=np.int32), BM25Params())
    assert payload["avgdl"] == 0.0 and payload["data"].tolist() == []
    assert payload["idf"].tolist() == [0.0, 0.0]


def test_an_average_length_below_one_still_normalises_in_a_build() -> None:
    # two tokens in one passage, none in two others: avgdl = 2/3, and the passage is 3 times as long
    counts = sp.csr_matrix(np.array([[2], [0], [0]], dtype=np.int32))
    payload = build_bm25(counts, BM25Params(k1=1.2, b=0.75))
    term_idf = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
    want = term_idf * 2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 2 / (2 / 3)))
    assert payload["avgdl"] == pytest.approx(2 / 3)
    assert payload["data"].tolist() == pytest.approx([want], rel=1e-6)
