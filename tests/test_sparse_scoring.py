"""The term-major weight matrix and top-k, checked against dense numpy arithmetic done by hand:
which passages a query touches and their summed weights (one term, several, none, repeated), the
batched product in several batches, the structural checks, and top-k's order and ties; and the
index-time weights of the compiled kernel against the numpy formulas, bit for bit."""

from __future__ import annotations

import gc
import os
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from ragcli.models import usable_cpus
from ragcli.retrieval import bm25, sparse, tfidf
from ragcli.retrieval.base import restrict, top_k
from ragcli.retrieval.bm25 import VARIANTS, BM25Params, build_bm25
from ragcli.retrieval.sparse import TermMatrix
from ragcli.retrieval.tfidf import TfidfParams, build_tfidf

# terms × passages; a zero is "not stored"
DENSE = np.array(
    [
        [0.0, 1.5, 0.0, 0.0, 2.0],
        [0.5, 0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],  # a term no passage holds (an empty row)
        [1.0, 0.25, 3.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 4.0, 0.0],
    ],
    dtype=np.float32,
)


def matrix() -> TermMatrix:
    return TermMatrix.from_scipy(sp.csr_matrix(DENSE))


def expected(term_ids: list[int], weights: list[float]) -> dict[int, float]:
    rows = DENSE[term_ids] if term_ids else np.zeros((0, DENSE.shape[1]))
    touched = np.flatnonzero((rows != 0).any(axis=0))
    totals = np.asarray(weights, dtype=np.float64) @ rows.astype(np.float64) if term_ids else np.zeros(DENSE.shape[1])
    return {int(p): float(totals[p]) for p in touched}


def as_dict(candidates: np.ndarray, scores: np.ndarray) -> dict[int, float]:
    assert len(candidates) == len(scores)
    assert len(set(candidates.tolist())) == len(candidates)
    return dict(zip(candidates.tolist(), scores.tolist()))


CASES = [
    ([], []),
    ([2], [1.0]),  # only an empty row
    ([0], [1.0]),
    ([3], [2.0]),  # one term, weighted
    ([0, 3], [1.0, 1.0]),
    ([0, 1, 3], [2.0, 1.0, 0.5]),
    ([2, 4], [1.0, 3.0]),
    ([4, 0, 2], [1.0, 1.0, 1.0]),
]


@pytest.mark.parametrize("term_ids, weights", CASES)
def test_accumulate_sums_the_weighted_rows_of_the_query_terms(term_ids: list[int], weights: list[float]) -> None:
    candidates, scores = matrix().accumulate(np.array(term_ids, dtype=np.int64), np.array(weights, dtype=np.float64))
    assert as_dict(candidates, scores) == pytest.approx(expected(term_ids, weights))
    assert candidates.dtype == np.int64 and scores.dtype == np.float64


def test_accumulate_of_several_terms_lists_passages_in_order() -> None:
    candidates, scores = matrix().accumulate(np.array([3, 0]), np.array([1.0, 1.0]))
    assert candidates.tolist() == [0, 1, 2, 4]
    assert scores.tolist() == pytest.approx([1.0, 1.75, 3.0, 2.0])


@pytest.mark.parametrize("batch", [1, 2, 3, 64])
def test_accumulate_many_equals_one_query_at_a_time(monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    monkeypatch.setattr(sparse, "BATCH_QUERIES", batch)
    queries = [(np.array(ids, dtype=np.int64), np.array(w, dtype=np.float64)) for ids, w in CASES]
    results = list(matrix().accumulate_many(queries))
    assert len(results) == len(CASES)
    for (ids, weights), (candidates, scores) in zip(CASES, results):
        got = {p: s for p, s in as_dict(candidates, scores).items() if s != 0.0}
        want = {p: s for p, s in expected(ids, weights).items() if s != 0.0}
        assert got == pytest.approx(want), ids
        assert candidates.dtype == np.int64 and scores.dtype == np.float64


def test_accumulate_many_of_no_queries_yields_nothing() -> None:
    assert list(matrix().accumulate_many([])) == []


def test_accumulate_many_reuses_its_product_matrix() -> None:
    m = matrix()
    first = [as_dict(*r) for r in m.accumulate_many([(np.array([0]), np.array([1.0]))])]
    second = [as_dict(*r) for r in m.accumulate_many([(np.array([0]), np.array([2.0]))])]
    assert first == [{1: 1.5, 4: 2.0}] and second == [{1: 3.0, 4: 4.0}]


def test_from_scipy_stores_plain_sorted_csr_arrays() -> None:
    unsorted = sp.csr_matrix((np.array([2.0, 1.0]), np.array([3, 1]), np.array([0, 2, 2])), shape=(2, 4))
    m = TermMatrix.from_scipy(unsorted)
    assert m.indptr.tolist() == [0, 2, 2] and m.indices.tolist() == [1, 3] and m.data.tolist() == [1.0, 2.0]
    assert (m.indptr.dtype, m.indices.dtype, m.data.dtype) == (np.int64, np.int32, np.float32)
    assert m.n_passages == 4
    assert TermMatrix.from_scipy(sp.coo_matrix(DENSE)).indptr.tolist() == matrix().indptr.tolist()


def test_from_passage_weights_turns_passage_rows_into_term_rows() -> None:
    counts = sp.csr_matrix(np.array([[1, 0, 2], [0, 3, 0], [4, 5, 0]], dtype=np.int32))
    weights = np.array([0.1, 0.2, 0.3, 0.4, 0.5], dtype=np.float32)  # aligned with counts' stored entries
    m = TermMatrix.from_passage_weights(counts, weights)
    got = sp.csr_matrix((m.data, m.indices, m.indptr), shape=(3, m.n_passages)).toarray()
    assert got == pytest.approx(np.array([[0.1, 0.0, 0.4], [0.0, 0.3, 0.5], [0.2, 0.0, 0.0]]))
    assert m.n_passages == 3


def test_payload_round_trip() -> None:
    m = matrix()
    payload = m.to_payload()
    assert set(payload) == {"indptr", "indices", "data", "n_passages", "term_max"}
    back = TermMatrix.from_payload({**payload, "n_passages": np.int64(5)})
    assert back == m and type(back.n_passages) is int


def test_term_maxima_are_each_rows_largest_weight_and_zero_for_an_empty_row() -> None:
    assert matrix().term_max.tolist() == [2.0, 0.5, 0.0, 3.0, 4.0]
    older = {k: v for k, v in matrix().to_payload().items() if k != "term_max"}  # an index built before
    assert TermMatrix.from_payload(older).term_max is None


def test_consistent_checks_shape_and_array_ends() -> None:
    m = matrix()
    assert m.consistent(5, 5)
    assert not m.consistent(4, 5)
    assert not m.consistent(6, 5)
    assert not m.consistent(5, 4)
    assert not TermMatrix(m.indptr + 1, m.indices, m.data, 5).consistent(5, 5)  # does not start at 0
    assert not TermMatrix(m.indptr, m.indices[:-1], m.data[:-1], 5).consistent(5, 5)  # truncated
    assert not TermMatrix(m.indptr, m.indices, m.data[:-1], 5).consistent(5, 5)  # data shorter than indices
    assert not TermMatrix(m.indptr, m.indices[:-1], m.data, 5).consistent(5, 5)


# --- top-k --------------------------------------------------------------------------------------

ID_RANK = np.array([4, 0, 3, 1, 2, 5])  # passage number → position of its id in sorted order


def reference_top(candidates: list[int], scores: list[float], k: int) -> list[int]:
    return sorted(candidates, key=lambda c: (-scores[candidates.index(c)], ID_RANK[c]))[:k]


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6, 10])
def test_top_k_orders_by_score_then_by_id(k: int) -> None:
    candidates = [0, 1, 2, 3, 4, 5]
    scores = [2.0, 3.0, 2.0, 1.0, 2.0, 3.0]
    got, got_scores = top_k(np.array(candidates), np.array(scores), k, ID_RANK)
    want = reference_top(candidates, scores, k)
    assert got.tolist() == want
    assert got_scores.tolist() == [scores[c] for c in want]


def test_ties_at_the_cut_are_decided_by_id_not_by_position() -> None:
    # three passages tie for the last two places: ids rank 4 > 3 > 2, so 4 and 2 (ranks 2 and 3) win
    candidates = np.array([0, 2, 4, 1])
    scores = np.array([1.0, 1.0, 1.0, 5.0])
    got, _ = top_k(candidates, scores, 3, ID_RANK)
    assert got.tolist() == [1, 4, 2]


@pytest.mark.parametrize("k", [0, -1])
def test_top_k_of_nothing(k: int) -> None:
    got, scores = top_k(np.array([1, 2]), np.array([1.0, 2.0]), k, ID_RANK)
    assert got.tolist() == [] and scores.tolist() == []
    assert got.dtype == np.int64 and scores.dtype == np.float64
    empty, _ = top_k(np.zeros(0, dtype=np.int64), np.zeros(0), 3, ID_RANK)
    assert empty.tolist() == []


def test_term_major_is_the_transpose_shared_while_its_counts_live() -> None:
    """BM25 and TF-IDF of one build share one transposition of the counts; it is kept only as long
    as the counts matrix itself (a long-lived process holds no copy of an old build's)."""
    counts = sp.csr_matrix(np.array([[2, 0, 1], [0, 3, 0], [1, 1, 0]], dtype=np.int32))
    layout = sparse.term_major(counts)
    expected = counts.T.tocsr()
    assert layout.indptr.tolist() == expected.indptr.tolist()
    assert layout.indices.tolist() == expected.indices.tolist()
    assert layout.counts.tolist() == expected.data.tolist()
    assert sparse.term_major(counts) is layout
    del counts
    gc.collect()
    assert sparse._transposed is None


def test_an_older_counts_matrix_going_leaves_the_newer_transposition_kept() -> None:
    older = sp.csr_matrix(np.array([[1, 0], [0, 2]], dtype=np.int32))
    newer = sp.csr_matrix(np.array([[0, 3], [4, 0]], dtype=np.int32))
    sparse.term_major(older)
    kept = sparse.term_major(newer)  # replaces the older one's
    del older
    gc.collect()
    assert sparse._transposed is not None and sparse._transposed[1] is kept
    assert sparse.term_major(newer) is kept
    del newer
    gc.collect()
    assert sparse._transposed is None


def test_row_sums_are_exact_int64_for_integer_counts_and_float64_otherwise() -> None:
    big = np.iinfo(np.int32).max
    counts = sp.csr_matrix(np.array([[big, big, 0], [0, 0, 0], [1, 0, 2]], dtype=np.int32))
    sums = sparse.row_sums(counts)
    assert sums.dtype == np.int64 and sums.tolist() == [2 * big, 0, 3]  # int32 would wrap
    floats = sparse.row_sums(sp.csr_matrix(np.array([[0.5, 0.25], [0.0, 0.0]], dtype=np.float32)))
    assert floats.dtype == np.float64 and floats.tolist() == [0.75, 0.0]


# --- index-time weights: the compiled kernel against the numpy formulas, bit for bit ---------------


def random_counts(seed: int, passages: int = 300, terms: int = 120) -> sp.csr_matrix:
    """Counts as a build makes them (int32, rows sorted), with empty passages, terms no passage
    holds, a term in every passage and a few large counts."""
    rng = np.random.default_rng(seed)
    dense = rng.integers(1, 6, size=(passages, terms)) * (rng.random((passages, terms)) < 0.08)
    dense[rng.random(passages) < 0.1] = 0  # empty passages
    dense[:, rng.random(terms) < 0.1] = 0  # terms no passage holds
    dense[:, 0] = rng.integers(1, 3, size=passages)  # a term every passage holds (df = n)
    dense[rng.integers(passages, size=5), rng.integers(1, terms, size=5)] = [40, 250, 1000, 7, 3000]
    return sp.csr_matrix(dense.astype(np.int32))


def bits(array: np.ndarray) -> list[int]:
    """Float32 or float64 values as their bit patterns: equal bits, not merely equal values."""
    return np.ascontiguousarray(array).view(np.uint32 if array.dtype == np.float32 else np.uint64).tolist()


def both_routes(build, counts, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    """The payload built by the kernel, then by numpy in small blocks (several per term)."""
    compiled = build(counts)
    with monkeypatch.context() as patch:
        patch.setattr(sparse, "_kernel", None)
        patch.setattr(bm25, "ENTRIES_PER_BLOCK", 7)
        patch.setattr(tfidf, "ENTRIES_PER_BLOCK", 7)
        patch.setattr(tfidf, "ROWS_PER_CHUNK", 5)
        plain = build(counts)
    return compiled, plain


def assert_same_payload(compiled: dict, plain: dict) -> None:
    assert sorted(compiled) == sorted(plain)
    for key, value in plain.items():
        if key == "term_max":  # the largest weight: equal values (numpy may keep either sign of a zero)
            assert compiled[key].dtype == value.dtype and compiled[key].tolist() == value.tolist(), key
        elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
            assert compiled[key].dtype == value.dtype and bits(compiled[key]) == bits(value), key
        elif isinstance(value, np.ndarray):
            assert compiled[key].dtype == value.dtype and compiled[key].tolist() == value.tolist(), key
        else:
            assert compiled[key] == value, key


kernel_only = pytest.mark.skipif(not sparse.kernel_available(), reason="the compiled kernel was not built")


@kernel_only
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", [0, 1])
def test_the_kernel_weighs_bm25_exactly_as_numpy(variant: str, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = random_counts(seed)
    rng = np.random.default_rng(seed + 100)
    settings = [
        BM25Params.for_variant(variant),
        BM25Params(variant=variant, k1=float(rng.uniform(0.1, 3)), b=float(rng.uniform()), delta=float(rng.uniform())),
        BM25Params(variant=variant, k1=0.0, b=1.0, delta=0.0),
    ]
    for params in settings:
        compiled, plain = both_routes(lambda c, p=params: build_bm25(c, p), counts, monkeypatch)
        assert_same_payload(compiled, plain)
        assert compiled["data"].any()


@kernel_only
@pytest.mark.parametrize("sublinear", [True, False])
@pytest.mark.parametrize("smooth", [True, False])
def test_the_kernel_weighs_tfidf_exactly_as_numpy(
    sublinear: bool, smooth: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = TfidfParams(sublinear_tf=sublinear, smooth_idf=smooth)
    for seed in (0, 1, 2):
        compiled, plain = both_routes(lambda c: build_tfidf(c, params), random_counts(seed), monkeypatch)
        assert_same_payload(compiled, plain)


@kernel_only
def test_an_extension_built_before_weigh_existed_leaves_the_weights_to_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = random_counts(5)
    expected = build_bm25(counts, BM25Params())
    monkeypatch.setattr(sparse, "_kernel", SimpleNamespace(topk=sparse._kernel.topk))  # an older build: no weigh
    assert sparse.weigh(sparse.term_major(counts), sparse.WEIGH_LUCENE, np.ones(1), np.ones(1)) is None
    assert_same_payload(build_bm25(counts, BM25Params()), expected)


@kernel_only
def test_counts_beyond_the_lookup_table_are_weighed_by_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = random_counts(3)
    expected = build_tfidf(counts, TfidfParams())
    monkeypatch.setattr(tfidf, "MAX_TF_TABLE", 100)  # the matrix holds counts of 250 and more
    assert_same_payload(build_tfidf(counts, TfidfParams()), expected)


@kernel_only
@pytest.mark.parametrize(
    "damage",
    ["passage beyond the end", "negative passage", "rows out of order", "count beyond the table", "short output"],
)
def test_the_kernel_refuses_arrays_that_do_not_fit(damage: str) -> None:
    layout = sparse.term_major(random_counts(4))
    indptr, indices, counts = layout.indptr.copy(), layout.indices.copy(), layout.counts.copy()
    table, out = np.arange(10_000, dtype=np.float64), np.empty(len(indices), dtype=np.float32)
    if damage == "passage beyond the end":
        indices[-1] = layout.n_passages
    elif damage == "negative passage":
        indices[0] = -1
    elif damage == "rows out of order":
        indptr[3], indptr[4] = indptr[4] + 1, indptr[3]
    elif damage == "count beyond the table":
        table = table[:10]
    else:
        out = out[:-1]
    term_max = np.empty(len(indptr) - 1, dtype=np.float32)
    ones = np.ones(layout.n_passages)
    with pytest.raises(ValueError):
        sparse._kernel.weigh(indptr, counts, indices, np.ones(len(indptr) - 1), ones, table, 0, 1.0, 0.5, out, term_max)


def test_accumulate_many_over_a_matrix_without_entries_touches_nothing() -> None:
    # every term's row empty (a vocabulary no passage holds any more): no passage to infer a width from
    empty = TermMatrix(np.zeros(3, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32), 4)
    ((candidates, scores),) = empty.accumulate_many([(np.array([1]), np.array([2.0]))])
    assert candidates.tolist() == [] and scores.tolist() == []


def test_accumulate_many_refuses_passage_numbers_out_of_range() -> None:
    # a damaged payload: scipy's product would trust the numbers, so they are checked before it runs
    m = matrix()
    damaged = TermMatrix(m.indptr, np.where(m.indices == 4, 5, m.indices).astype(np.int32), m.data, 5)
    with pytest.raises(ValueError):
        list(damaged.accumulate_many([(np.array([0]), np.array([1.0]))]))


def test_kernel_available_says_whether_the_compiled_kernel_imports() -> None:
    import importlib.util

    assert sparse.kernel_available() is (importlib.util.find_spec("ragcli.retrieval._topk") is not None)


# --- a scorer over an index: many queries at once, as one query at a time -------------------------

SCORER_CORPUS = {
    "a.txt": "quokka island ferry timetable",
    "b.txt": "quokka selfie smile",
    "c.txt": "ferry ferry harbour",
    "d.txt": "lighthouse walk",
}
SCORER_QUERIES = ["quokka ferry", "ferry", "lighthouse quokka quokka", "nothing matches", "harbour island"]


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from ragcli.indexing.build import build_index
    from ragcli.retrieval.index import load_index

    root = tmp_path_factory.mktemp("sparse")
    (root / "corpus").mkdir()
    for name, text in SCORER_CORPUS.items():
        (root / "corpus" / name).write_text(text)
    build_index([root / "corpus"], root / "index")
    return load_index(root / "index")


def bm25_plus(index):  # type: ignore[no-untyped-def]
    """A BM25+ scorer on the index's counts: every query term adds idf·delta to every passage."""
    from ragcli.retrieval.bm25 import BM25Params, BM25Scorer, build_bm25

    params = BM25Params.for_variant("bm25+")
    return BM25Scorer(index, params, build_bm25(index.counts_matrix(), params))


def test_score_many_adds_the_bm25_plus_constant_like_score(small_index) -> None:  # type: ignore[no-untyped-def]
    scorer = bm25_plus(small_index)
    assert scorer.params.delta == 1.0
    for query, (candidates, scores) in zip(SCORER_QUERIES, scorer.score_many(SCORER_QUERIES)):
        term_ids, counts = small_index.lexicon.query_vector(small_index.analyzer(query))
        constant = float(np.dot(counts, scorer.idf[term_ids])) * 1.0  # Σ count · idf · delta
        matrix_part = as_dict(*scorer.matrix.accumulate(term_ids, counts))
        assert as_dict(candidates, scores) == pytest.approx({p: s + constant for p, s in matrix_part.items()}), query
        assert as_dict(candidates, scores) == pytest.approx(as_dict(*scorer.score(query))), query


def test_score_many_on_an_index_too_large_for_products_scores_each_query(
    small_index,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    scorer = bm25_plus(small_index)
    batched = [as_dict(*r) for r in scorer.score_many(SCORER_QUERIES)]
    monkeypatch.setattr(sparse, "BATCH_MAX_PASSAGES", 3)  # 4 passages: "huge", one query at a time
    one_by_one = [as_dict(*r) for r in scorer.score_many(SCORER_QUERIES)]
    assert len(one_by_one) == len(SCORER_QUERIES)
    assert one_by_one == [pytest.approx(b) for b in batched]
    assert one_by_one == [pytest.approx(as_dict(*scorer.score(q))) for q in SCORER_QUERIES]
    assert any(one_by_one)


def test_from_scipy_stores_32_bit_passage_numbers_from_64_bit_index_arrays() -> None:
    # scipy switches to int64 index arrays past 2**31 entries; the payload keeps int32 passage numbers
    wide = sp.csr_matrix(DENSE)
    wide.indices, wide.indptr = wide.indices.astype(np.int64), wide.indptr.astype(np.int64)
    m = TermMatrix.from_scipy(wide)
    assert m.indices.dtype == np.int32 and m.indptr.dtype == np.int64
    assert m.indices.tolist() == matrix().indices.tolist()


# --- how many threads rank a batch of queries ---------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only")
def test_threads_are_the_cpus_this_process_may_run_on() -> None:
    """A process pinned to some CPUs (taskset, a container's cpuset) uses that many threads, not the
    machine's count."""
    cpus = os.sched_getaffinity(0)
    assert usable_cpus() == len(cpus)
    try:
        os.sched_setaffinity(0, {min(cpus)})
        assert usable_cpus() == 1
    finally:
        os.sched_setaffinity(0, cpus)


def test_threads_without_cpu_affinity_are_the_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the OS has no affinity call (macOS, Windows): the CPU count, or 1 when it is unknown."""
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert usable_cpus() == os.cpu_count()
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # documented: None when undetermined
    assert usable_cpus() == 1


def test_term_major_keeps_terms_no_passage_holds_any_more() -> None:
    # the last term's column is empty (its passages were removed; the lexicon keeps its id): the
    # transposition still has one row per term, not as many as the highest term anyone holds
    counts = sp.csr_matrix(np.array([[2, 0, 0, 0], [0, 1, 0, 0]], dtype=np.int32))
    layout = sparse.term_major(counts)
    assert layout.indptr.tolist() == [0, 1, 2, 2, 2]
    assert layout.n_passages == 2


def test_term_major_matrix_stores_float32_weights() -> None:
    # the payload schema takes float32 weights only: a float64 array is narrowed, not stored as it is
    layout = sparse.term_major(sp.csr_matrix(np.array([[1, 2], [0, 3]], dtype=np.int32)))
    m = layout.matrix(np.array([0.5, 0.25, 1.0 / 3.0]))
    assert m.data.dtype == np.float32 and m.term_max is not None and m.term_max.dtype == np.float32
    assert m.data.tolist() == pytest.approx([0.5, 0.25, 1.0 / 3.0])


def test_accumulate_refuses_a_passage_number_one_past_the_end() -> None:
    m = matrix()
    one_past = TermMatrix(m.indptr, np.where(m.indices == 4, 5, m.indices).astype(np.int32), m.data, 5)
    for term_ids in ([0], [0, 3]):  # one term (returned as stored) and several (summed)
        with pytest.raises(ValueError, match="out of range"):
            one_past.accumulate(np.array(term_ids), np.ones(len(term_ids)))


@pytest.mark.parametrize("k", [0, -1])
def test_top_of_no_places_is_nothing(k: int) -> None:
    docs, scores = matrix().top(np.array([0, 3]), np.ones(2), k, ID_RANK[:5])
    assert docs.tolist() == [] and scores.tolist() == []


def test_blocks_are_runs_of_whole_terms_of_at_most_the_given_entries() -> None:
    # terms hold 2, 1, 0, 3 and 1 entries: a block holds whole terms up to `entries` entries, and a
    # term holding more than that is a block of its own (worked out by hand)
    layout = sparse.TermMajor(np.array([0, 2, 3, 3, 6, 7]), np.zeros(7, dtype=np.int32), np.ones(7), 9)
    assert list(layout.blocks(3)) == [(0, 3, 0, 3), (3, 4, 3, 6), (4, 5, 6, 7)]
    assert list(layout.blocks(2)) == [(0, 1, 0, 2), (1, 3, 2, 3), (3, 4, 3, 6), (4, 5, 6, 7)]
    assert list(layout.blocks(100)) == [(0, 5, 0, 7)]


def test_a_matrix_without_term_maxima_writes_none_into_its_payload() -> None:
    m = matrix()
    older = TermMatrix(m.indptr, m.indices, m.data, m.n_passages)
    assert set(older.to_payload()) == {"indptr", "indices", "data", "n_passages"}


def test_rank_many_adds_the_bm25_plus_constant_like_rank_one_at_a_time(small_index) -> None:  # type: ignore[no-untyped-def]
    """Few queries are ranked in this thread, many by a pool of threads (two or more CPUs): either
    way each ranking is the one query's own, BM25+'s constant included."""
    scorer = bm25_plus(small_index)
    id_rank = small_index.passages.id_rank
    allowed = np.array([True, True, False, True])
    for queries in (SCORER_QUERIES, SCORER_QUERIES * 4):
        for mask in (None, allowed):
            many = scorer.rank_many_within(queries, 3, id_rank, mask)
            assert len(many) == len(queries)
            for query, (docs, scores) in zip(queries, many):
                want = top_k(*restrict(scorer.score(query), mask), 3, id_rank)
                assert docs.tolist() == want[0].tolist(), query
                assert scores.tolist() == pytest.approx(want[1].tolist()), query
