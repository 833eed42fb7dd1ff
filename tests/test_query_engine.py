"""The compiled top-k kernel (ragcli/retrieval/_topk.c) against exhaustive scoring: the same
passages, the same scores to the last bit, the same order (ties by passage id), for random matrices
with many ties, every BM25 variant, TF-IDF, filters, and damaged arrays. Every test runs both of the
kernel's paths: MaxScore (a window of passages at a time, large collections) and term at a time (a passage-sized
accumulator, collections up to `sparse.DENSE_PASSAGES`). The numpy route (no kernel) is checked to
give the same answers too."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragcli.retrieval import sparse
from ragcli.retrieval.base import restrict, top_k
from ragcli.retrieval.bm25 import VARIANTS, BM25Params, BM25Scorer, build_bm25
from ragcli.retrieval.filters import Filter
from ragcli.retrieval.index import load_index
from ragcli.retrieval.sparse import TermMatrix

pytestmark = pytest.mark.skipif(not sparse.kernel_available(), reason="the compiled kernel was not built")
KERNEL_PATHS = {"maxscore": 0, "term-at-a-time": 2**62}  # sparse.DENSE_PASSAGES that selects each
SAME_PATH_EVERY_EXAMPLE = [HealthCheck.function_scoped_fixture]  # kernel_path sets a constant, once a test


@pytest.fixture(autouse=True, params=list(KERNEL_PATHS))
def kernel_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(sparse, "DENSE_PASSAGES", KERNEL_PATHS[request.param])
    return str(request.param)


def exhaustive(matrix: TermMatrix, ids, weights, k, id_rank, allowed=None, constant=0.0):
    candidates, scores = matrix.accumulate(ids, weights)
    return top_k(*restrict((candidates, scores + constant), allowed), k, id_rank)


def assert_same(got, want) -> None:
    assert got[0].tolist() == want[0].tolist()
    assert got[1].tolist() == want[1].tolist()  # exact: the same sums in the same order


@st.composite
def problems(draw):
    n_terms = draw(st.integers(1, 12))
    n_passages = draw(st.integers(1, 60))
    density = draw(st.sampled_from([0.05, 0.3, 0.9]))
    levels = draw(st.sampled_from([2, 5, 1000]))  # few distinct weights: many ties
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    values = rng.integers(1, levels + 1, size=(n_terms, n_passages)).astype(np.float32) / levels
    if draw(st.booleans()):  # negative weights (BM25 robertson's idf below zero)
        values -= np.float32(0.3)
    dense = np.where(rng.random((n_terms, n_passages)) < density, values, 0).astype(np.float32)
    matrix = TermMatrix.from_scipy(sp.csr_matrix(dense))
    return matrix, *query_over(draw, rng, (0, n_terms), n_passages, st.integers(1, n_passages + 2))


def query_over(draw, rng, terms: tuple[int, int], n_passages: int, ks: st.SearchStrategy[int]):
    """A query over a drawn matrix: between terms[0] and terms[1] distinct terms with weights, then k,
    passage ranks, maybe a filter, and a constant (BM25+'s)."""
    q = draw(st.integers(*terms))
    ids = rng.choice(terms[1], size=q, replace=False).astype(np.int64)
    weights = rng.integers(1, 4, size=q).astype(np.float64) / draw(st.sampled_from([1.0, 3.0]))
    id_rank = rng.permutation(n_passages).astype(np.int64)
    allowed = rng.random(n_passages) < 0.6 if draw(st.booleans()) else None
    constant = draw(st.sampled_from([0.0, 0.75]))
    return ids, weights, draw(ks), id_rank, allowed, constant


@settings(max_examples=400, deadline=None, suppress_health_check=SAME_PATH_EVERY_EXAMPLE)
@given(problems())
def test_the_kernel_ranks_exactly_as_exhaustive_scoring(problem) -> None:
    matrix, ids, weights, k, id_rank, allowed, constant = problem
    assert_same(matrix.top(ids, weights, k, id_rank, allowed, constant), exhaustive(*problem))


@settings(max_examples=100, deadline=None, suppress_health_check=SAME_PATH_EVERY_EXAMPLE)
@given(problems())
def test_an_index_without_stored_term_maxima_ranks_the_same(problem) -> None:
    matrix, *rest = problem
    older = TermMatrix(matrix.indptr, matrix.indices, matrix.data, matrix.n_passages)  # no term_max
    assert_same(older.top(*rest), exhaustive(matrix, *rest))


@st.composite
def wide_problems(draw):
    """Collections of several of MaxScore's windows (4,096 passages each): postings spread over up to
    20,000 passages, some terms dense in places and empty in others, so that windows start at jumps,
    hold one term or many, and the essential terms change between windows."""
    n_terms = draw(st.integers(1, 8))
    n_passages = draw(st.integers(4_000, 20_000))
    levels = draw(st.sampled_from([2, 7, 1000]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rows, cols = [], []
    for term in range(n_terms):
        density = draw(st.sampled_from([0.0005, 0.01, 0.2, 0.7]))
        lo, hi = sorted(rng.integers(0, n_passages + 1, size=2).tolist()) if draw(st.booleans()) else (0, n_passages)
        picked = np.flatnonzero(rng.random(hi - lo) < density) + lo
        rows.append(np.full(len(picked), term))
        cols.append(picked)
    row, col = np.concatenate(rows), np.concatenate(cols)
    values = rng.integers(1, levels + 1, size=len(row)).astype(np.float32) / levels
    if draw(st.booleans()):
        values -= np.float32(0.3)
    matrix = TermMatrix.from_scipy(sp.csr_matrix((values, (row, col)), shape=(n_terms, n_passages)))
    return matrix, *query_over(draw, rng, (1, n_terms), n_passages, st.sampled_from([1, 10, 100]))


@settings(max_examples=150, deadline=None, suppress_health_check=SAME_PATH_EVERY_EXAMPLE)
@given(wide_problems())
def test_collections_of_many_windows_rank_exactly_as_exhaustive_scoring(problem) -> None:
    matrix, *rest = problem
    assert_same(matrix.top(*rest), exhaustive(*problem))
    older = TermMatrix(matrix.indptr, matrix.indices, matrix.data, matrix.n_passages)  # bounds from the postings
    assert_same(older.top(*rest), exhaustive(*problem))


@st.composite
def batches(draw):
    """A matrix and several queries over it (some empty, some repeated), ranked as one batch."""
    matrix, ids, weights, k, id_rank, allowed, constant = draw(problems())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_terms = len(matrix.indptr) - 1
    queries = [(ids, weights, constant)]
    for _ in range(draw(st.integers(0, 6))):
        q = int(rng.integers(0, n_terms + 1))
        picked = rng.choice(n_terms, size=q, replace=False).astype(np.int64)
        queries.append((picked, rng.integers(1, 4, size=q).astype(np.float64), float(rng.choice([0.0, 0.75]))))
    queries.append(queries[0])
    return matrix, queries, k, id_rank, allowed


def chunked(queries: list[tuple[np.ndarray, np.ndarray, float]], size: int) -> Iterator[sparse.QueryBatch]:
    """The queries packed `size` at a time, as `rank_many_within` hands them to `top_many`."""
    return (sparse.QueryBatch.pack(queries[at : at + size]) for at in range(0, len(queries), size))


@settings(max_examples=200, deadline=None, suppress_health_check=SAME_PATH_EVERY_EXAMPLE)
@given(batches())
def test_a_batch_ranks_each_query_as_exhaustive_scoring(batch) -> None:
    matrix, queries, k, id_rank, allowed = batch
    for threads in (1, 3):  # the kernel's own threads share the queries out: the same hits
        ranked = matrix.top_many(chunked(queries, 2), len(queries), k, id_rank, allowed, threads)
        assert len(ranked) == len(queries)
        for (ids, weights, constant), got in zip(queries, ranked):
            assert_same(got, exhaustive(matrix, ids, weights, k, id_rank, allowed, constant))


def test_a_packed_batch_gives_back_its_queries() -> None:
    queries = [
        (np.array([3, 1], dtype=np.int64), np.array([1.0, 2.0]), 0.0),
        (np.zeros(0, dtype=np.int64), np.zeros(0), 0.5),
        (np.array([7], dtype=np.int64), np.array([0.25]), 0.75),
    ]
    batch = sparse.QueryBatch.pack(queries)
    assert batch.offsets.tolist() == [0, 2, 2, 3] and batch.terms.dtype == np.int64
    for (ids, weights, constant), (ids2, weights2, constant2) in zip(queries, batch.queries(), strict=True):
        assert ids.tolist() == ids2.tolist() and weights.tolist() == weights2.tolist() and constant == constant2
    assert sparse.QueryBatch.pack([]).offsets.tolist() == [0]


def test_a_batch_kernel_checks_its_offsets_and_lengths() -> None:
    matrix = TermMatrix.from_scipy(sp.csr_matrix(np.eye(4, dtype=np.float32)))
    docs, scores, counts = batch_outputs(2, 2)

    def call(offsets, terms, out_docs=docs, n_constants=2, threads=1):
        weights, constants = np.ones(len(terms)), np.zeros(n_constants)
        chunk = (np.array(offsets, dtype=np.int64), np.array(terms, dtype=np.int64), weights, constants)
        rank_chunks(matrix, [chunk], 2, (out_docs, scores, counts), threads)

    call([0, 1, 2], [2, 3])
    assert counts.tolist() == [1, 1] and docs[:, 0].tolist() == [2, 3]
    for offsets in ([0, 3, 2], [0, -1, 2], [1, 0, 2]):
        with pytest.raises(ValueError, match="offsets out of range"):
            call(offsets, [2, 3])
    with pytest.raises(ValueError, match="mismatched"):
        call([0, 1, 2], [2, 3], n_constants=3)
    with pytest.raises(ValueError, match="mismatched"):
        call([0, 1, 2], [2, 3], out_docs=np.empty((2, 1), dtype=np.int64))
    with pytest.raises(ValueError, match="out of range"):
        call([0, 1, 2], [2, 9])
    call([0, 0, 2], [2, 3])  # an empty query first: no hits; the second holds both terms
    assert counts.tolist() == [0, 2] and docs[1].tolist() == [2, 3]
    call([0, 1, 2], [3, 1], threads=5)  # more threads than queries: one each
    assert counts.tolist() == [1, 1] and docs[:, 0].tolist() == [3, 1]
    with pytest.raises(ValueError, match="threads"):
        call([0, 1, 2], [2, 3], threads=0)


def chunks_of_one_term(terms: np.ndarray, size: int) -> Iterator[tuple[np.ndarray, ...]]:
    """Queries of one term each (weight 1, constant 0), in chunks of `size` as `topk_many` takes them."""
    for at in range(0, len(terms), size):
        part = terms[at : at + size]
        yield np.arange(len(part) + 1, dtype=np.int64), part, np.ones(len(part)), np.zeros(len(part))


def batch_outputs(rows: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`topk_many`'s out_docs, out_scores and out_counts, filled with -1: a row never ranked keeps it."""
    return np.full((rows, k), -1, dtype=np.int64), np.full((rows, k), -1.0), np.full(rows, -1, dtype=np.int64)


def rank_chunks(matrix: TermMatrix, chunks, k: int, outputs, threads: int = 1, dense: bool = False) -> None:  # type: ignore[no-untyped-def]
    """`_topk.topk_many` over `matrix` (no stored maxima, no filter, passage ids as ranks) into `outputs`."""
    id_rank = np.arange(matrix.n_passages, dtype=np.int64)
    sparse._kernel.topk_many(
        matrix.indptr, matrix.indices, matrix.data, None, chunks, k, id_rank, None, dense, *outputs, threads
    )


@pytest.mark.parametrize("dense", [False, True])
def test_a_damaged_query_fails_the_batch_on_any_thread(dense: bool) -> None:
    """One bad term among 200 queries on 4 threads: ValueError, whichever thread meets it."""
    matrix = TermMatrix.from_scipy(sp.random(30, 50, density=0.3, format="csr", dtype=np.float32, random_state=1))
    n = 200
    terms = np.arange(n, dtype=np.int64) % 30
    terms[137] = 31  # past the last term
    with pytest.raises(ValueError, match="out of range"):
        rank_chunks(matrix, chunks_of_one_term(terms, 16), 5, batch_outputs(n, 5), threads=4, dense=dense)


def test_the_kernel_threads_rank_while_the_chunks_are_still_coming() -> None:
    """The first chunk's queries are ranked by a kernel thread while the iterator (this thread) still
    runs: the iterator waits (bounded) until their rows are written, then yields the rest."""
    matrix = TermMatrix.from_scipy(sp.random(30, 60, density=0.3, format="csr", dtype=np.float32, random_state=3))
    id_rank = np.arange(60, dtype=np.int64)
    n = 48
    terms = np.arange(n, dtype=np.int64) % 30
    docs, scores, counts = batch_outputs(n, 5)
    seen_before_the_rest: list[bool] = []

    def chunks() -> Iterator[tuple[np.ndarray, ...]]:
        pieces = chunks_of_one_term(terms, 16)
        yield next(pieces)
        deadline = time.monotonic() + 10
        while (counts[:16] < 0).any() and time.monotonic() < deadline:
            time.sleep(0.001)
        seen_before_the_rest.append(bool((counts[:16] >= 0).all()))
        time.sleep(0.02)  # the worker has nothing left: it sleeps until the next chunk wakes it
        yield from pieces

    rank_chunks(matrix, chunks(), 5, (docs, scores, counts), threads=2)
    assert seen_before_the_rest == [True]
    want = TermMatrix.top_many(
        matrix, chunked([(terms[i : i + 1], np.ones(1), 0.0) for i in range(n)], 48), n, 5, id_rank
    )
    for i, (d, sc) in enumerate(want):
        assert docs[i, : counts[i]].tolist() == d.tolist() and scores[i, : counts[i]].tolist() == sc.tolist()


@pytest.mark.parametrize("threads", [1, 3])
def test_chunks_that_fail_or_do_not_fit_the_outputs_raise_and_stop_the_threads(threads: int) -> None:
    matrix = TermMatrix.from_scipy(sp.csr_matrix(np.eye(4, dtype=np.float32)))
    terms = np.array([0, 1, 2, 3, 0, 1, 2, 3] * 4, dtype=np.int64)

    def rank(chunks, rows: int = 32) -> np.ndarray:
        outputs = batch_outputs(rows, 2)
        rank_chunks(matrix, chunks, 2, outputs, threads)
        return outputs[0]

    def failing() -> Iterator[tuple[np.ndarray, ...]]:
        yield from chunks_of_one_term(terms[:8], 8)
        raise KeyError("the packing failed")

    with pytest.raises(KeyError, match="packing failed"):
        rank(failing())
    with pytest.raises(ValueError, match="fewer queries"):
        rank(chunks_of_one_term(terms[:20], 8))
    with pytest.raises(ValueError, match="more queries"):
        rank(chunks_of_one_term(terms, 8), rows=30)
    with pytest.raises(TypeError, match="tuples"):
        rank([(np.zeros(1, dtype=np.int64),)])
    with pytest.raises(TypeError):
        rank(5)
    empty = (np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0))  # no queries
    assert rank([empty, *chunks_of_one_term(terms, 5)])[:, 0].tolist() == terms.tolist()


@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_stops_a_long_batch_while_the_kernel_ranks(threads: int) -> None:
    """SIGINT once the kernel has ranked a first query (this thread has released the GIL): the call
    raises KeyboardInterrupt long before the 2,000 slow queries are all ranked."""
    import signal
    import threading

    matrix = TermMatrix.from_scipy(sp.random(300, 4000, density=0.5, format="csr", dtype=np.float32, random_state=5))
    n, every = 2000, np.arange(300, dtype=np.int64)
    outputs = batch_outputs(n, 3)
    counts = outputs[2]
    chunks = [(np.arange(0, 300 * (n + 1), 300, dtype=np.int64), np.tile(every, n), np.ones(300 * n), np.zeros(n))]

    def interrupt_once_ranking() -> None:
        deadline = time.monotonic() + 60
        while counts[0] < 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    helper = threading.Thread(target=interrupt_once_ranking)
    helper.start()
    with pytest.raises(KeyboardInterrupt):
        rank_chunks(matrix, chunks, 3, outputs, threads)
    helper.join()
    assert (counts < 0).sum() > n // 2  # stopped early: most queries were never ranked


def test_threads_write_each_query_to_its_own_row_when_k_exceeds_the_passages() -> None:
    """k = 4 over 3 passages: rows of 4 columns, 3 filled, whichever thread ranked them."""
    matrix = TermMatrix.from_scipy(sp.csr_matrix(np.eye(3, dtype=np.float32)))
    n = 40
    terms = np.arange(n, dtype=np.int64) % 3
    docs, _, counts = outputs = batch_outputs(n, 4)
    rank_chunks(matrix, chunks_of_one_term(terms, 7), 4, outputs, threads=3)
    assert counts.tolist() == [1] * n and docs[:, 0].tolist() == terms.tolist()
    assert (docs[:, 1:] == -1).all()


def test_the_numpy_route_ranks_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    dense = np.where(rng.random((20, 300)) < 0.2, rng.integers(1, 4, (20, 300)) / 4, 0).astype(np.float32)
    matrix, id_rank = TermMatrix.from_scipy(sp.csr_matrix(dense)), rng.permutation(300).astype(np.int64)
    ids, weights = np.array([3, 1, 17, 8], dtype=np.int64), np.array([1.0, 2.0, 1.0, 1.0])
    compiled = matrix.top(ids, weights, 10, id_rank)
    batch = sparse.QueryBatch.pack([(ids, weights, 0.0), (ids[:2], weights[:2], 0.5)])
    allowed = rng.random(300) < 0.5
    compiled_batch = matrix.top_many([batch], len(batch.constants), 10, id_rank) + matrix.top_many(
        [batch], len(batch.constants), 10, id_rank, allowed
    )
    assert_same(compiled_batch[0], compiled)
    for kernel in (SimpleNamespace(topk=sparse._kernel.topk), None):  # an older build, then none at all
        monkeypatch.setattr(sparse, "_kernel", kernel)
        ranked = matrix.top_many([batch], len(batch.constants), 10, id_rank) + matrix.top_many(
            [batch], len(batch.constants), 10, id_rank, allowed
        )
        for got, want in zip(ranked, compiled_batch, strict=True):
            assert_same(got, want)
    assert_same(matrix.top(ids, weights, 10, id_rank), compiled)


def test_single_and_batched_ranking_take_any_integer_ranks_and_any_zero_one_mask() -> None:
    """`top` and `top_many` convert what they are given for the kernel (8-byte ranks, 1-byte mask):
    an int32 id_rank and an int64 0/1 mask rank as the int64 ranks and the boolean mask do."""
    rng = np.random.default_rng(11)
    dense = np.where(rng.random((12, 200)) < 0.3, rng.integers(1, 5, (12, 200)) / 4, 0).astype(np.float32)
    matrix, id_rank = TermMatrix.from_scipy(sp.csr_matrix(dense)), rng.permutation(200).astype(np.int64)
    ids, weights = np.array([2, 5, 9], dtype=np.int64), np.array([1.0, 0.5, 2.0])
    allowed = rng.random(200) < 0.6
    batch = sparse.QueryBatch.pack([(ids, weights, 0.0), (ids[1:], weights[1:], 0.25)])
    for mask in (None, allowed):
        want = matrix.top_many([batch], len(batch.constants), 7, id_rank, mask)
        other_mask = None if mask is None else mask.astype(np.int64)
        got = matrix.top_many([batch], len(batch.constants), 7, id_rank.astype(np.int32), other_mask)
        for a, b in zip(got, want, strict=True):
            assert_same(a, b)
        assert_same(matrix.top(ids, weights, 7, id_rank.astype(np.int32), other_mask), want[0])


@pytest.mark.parametrize("compiled", [True, False])
def test_hits_read_each_column_for_all_passages_at_once(
    opened, monkeypatch: pytest.MonkeyPatch, compiled: bool
) -> None:
    """`PassageStore.hits` gives each passage's own strings and numbers, ranked from first_rank, with the
    compiled column reads and without them."""
    from ragcli.retrieval import index as index_module

    if not compiled:
        monkeypatch.setattr(index_module, "KERNEL", None)
    store = opened.passages
    numbers = [len(store) - 1, 0, 3, 0]  # any order, a passage twice
    hits = store.hits(numbers, [4.0, 3.0, 2.5, 1.0], first_rank=3)
    assert [h.rank for h in hits] == [3, 4, 5, 6] and [h.score for h in hits] == [4.0, 3.0, 2.5, 1.0]
    for hit, n in zip(hits, numbers, strict=True):
        assert (hit.id, hit.doc_id, hit.title, hit.path, hit.text) == (
            store.ids[n],
            store.doc_ids[n],
            store.titles[n],
            store.paths[n],
            store.texts[n],
        )
        assert (hit.line, hit.start, hit.end, hit.page) == (
            int(store.line[n]),
            int(store.start[n]),
            int(store.end[n]),
            int(store.page[n]) or None,
        )
    assert store.hits([], []) == []


def test_the_compiled_column_read_checks_numbers_offsets_and_utf8() -> None:
    from ragcli.retrieval.kernel import KERNEL
    from ragcli.store import StringTable

    if KERNEL is None:
        pytest.skip("no compiled kernel in this install")
    table = StringTable.from_strings(["bee", "", "日本", "hive"])
    assert KERNEL.take_strings(table.offsets, table.blob, [2, 0, 1, 3, 2]) == ["日本", "bee", "", "hive", "日本"]
    for number in (4, -1):
        with pytest.raises(IndexError):
            KERNEL.take_strings(table.offsets, table.blob, [number])
    broken = table.offsets.copy()
    broken[2] = 1  # "" would end before it starts
    with pytest.raises(ValueError, match="offsets out of range"):
        KERNEL.take_strings(broken, table.blob, [1])
    broken[2], broken[4] = table.offsets[2], len(table.blob) + 1
    with pytest.raises(ValueError, match="offsets out of range"):
        KERNEL.take_strings(broken, table.blob, [3])
    blob = table.blob.copy()
    blob[3] = 0xFF  # the first byte of 日: no UTF-8 any more
    with pytest.raises(UnicodeDecodeError):
        KERNEL.take_strings(table.offsets, blob, [2])


def test_pruning_keeps_every_tie_at_the_kth_score() -> None:
    # 50 passages score exactly 1.0; the 10 that come first by passage id must come back, whichever
    # passage numbers they have, although the heap fills with others first
    n = 50
    dense = np.zeros((2, n), dtype=np.float32)
    dense[0, :] = 1.0
    dense[1, :5] = 0.25  # a second term makes the first one non-essential once the heap holds 1.25s
    matrix = TermMatrix.from_scipy(sp.csr_matrix(dense))
    id_rank = np.arange(n, dtype=np.int64)[::-1].copy()  # the last passage has the first id
    ids, weights = np.array([0, 1], dtype=np.int64), np.ones(2)
    docs, scores = matrix.top(ids, weights, 10, id_rank)
    assert docs.tolist() == [4, 3, 2, 1, 0, 49, 48, 47, 46, 45]
    assert scores.tolist() == [1.25] * 5 + [1.0] * 5


def test_a_term_that_turns_non_essential_inside_a_window_counts_once() -> None:
    # Ten passages holding the heavy term fill the heap at 10 first; the light term (bound 0.1) then
    # turns non-essential, after this window's light postings were added: passage 20 (heavy and light)
    # must score 10.1, its light posting neither lost nor counted twice, and rank first
    n = 10_000
    dense = np.zeros((2, n), dtype=np.float32)
    dense[0, [*range(10), 20]] = 1.0
    dense[1, [20, *range(30, 5_000)]] = 0.1
    matrix = TermMatrix.from_scipy(sp.csr_matrix(dense))
    id_rank = np.arange(n, dtype=np.int64)
    ids, weights = np.array([0, 1], dtype=np.int64), np.array([10.0, 1.0])
    for k in (10, 11, 12):
        got = matrix.top(ids, weights, k, id_rank)
        assert_same(got, exhaustive(matrix, ids, weights, k, id_rank))
        assert got[0][0] == 20


def test_damaged_postings_raise_value_error_never_read_out_of_bounds() -> None:
    matrix = TermMatrix.from_scipy(sp.csr_matrix(np.eye(4, dtype=np.float32)))
    id_rank = np.arange(4, dtype=np.int64)
    bad = TermMatrix(matrix.indptr, np.array([0, 1, 99, 3], dtype=np.int32), matrix.data, 4, matrix.term_max)
    with pytest.raises(ValueError, match="out of range"):
        bad.top(np.array([2], dtype=np.int64), np.ones(1), 2, id_rank)
    rows = TermMatrix(np.array([0, 1, 9, 3, 4]), matrix.indices, matrix.data, 4, matrix.term_max)
    with pytest.raises(ValueError, match="out of range"):
        rows.top(np.array([1], dtype=np.int64), np.ones(1), 2, id_rank)
    # a term's postings out of passage order (MaxScore adds them window by window: it must not miss
    # it); term at a time has no order to check, and ranks what is in range
    csr = sp.csr_matrix(np.array([[0, 0, 0, 0], [1, 0, 0, 1]], dtype=np.float32))
    unsorted = TermMatrix(csr.indptr.astype(np.int64), np.array([3, 0], dtype=np.int32), csr.data, 4)
    if sparse.DENSE_PASSAGES == 0:
        with pytest.raises(ValueError, match="out of range"):
            unsorted.top(np.array([1], dtype=np.int64), np.ones(1), 2, id_rank)


@pytest.fixture(scope="module")
def opened(sample_index: Path):
    return load_index(sample_index)


def queries(index, n: int = 60) -> list[str]:
    rng = np.random.default_rng(3)
    terms = list(index.lexicon.terms)
    picked = [" ".join(rng.choice(terms, size=rng.integers(1, 9))) for _ in range(n)]
    return [*picked, "How do honeybees tell each other where the flowers are?", "the of and", ""]


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_bm25_variant_ranks_as_exhaustive_scoring(opened, variant: str) -> None:
    params = BM25Params.for_variant(variant)
    scorer = BM25Scorer(opened, params, build_bm25(opened.counts_matrix(), params))
    id_rank = opened.passages.id_rank
    for query in queries(opened):
        for k in (1, 10):
            want = top_k(*scorer.score(query), k, id_rank)
            assert_same(scorer.rank_within(query, k, id_rank, None), want)


@pytest.mark.parametrize("retriever", ["bm25", "tfidf"])
def test_index_rank_with_and_without_filters_equals_exhaustive_scoring(opened, retriever: str) -> None:
    filters = [None, Filter.parse(paths=["hive/**"]), Filter.parse(paths=["*.csv", "biology/**"])]
    for filter in filters:
        for query in queries(opened, 30):
            want = top_k(*opened.scores(query, retriever, filter), 10, opened.passages.id_rank)
            assert_same(opened.rank(query, 10, retriever, filter), want)
        batch = queries(opened, 30)
        many = opened.rank_many(batch, 10, retriever, filter)
        for query, got in zip(batch, many):
            assert_same(got, opened.rank(query, 10, retriever, filter))


@pytest.fixture(params=[True, False], ids=["compiled", "numpy"])
def fresh(opened, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The index's vocabulary loaded anew, looked up by the compiled kernel or (without it) numpy."""
    from ragcli.retrieval import lexicon as lexicon_module
    from ragcli.retrieval.lexicon import Lexicon

    if not request.param:
        monkeypatch.setattr(lexicon_module, "KERNEL", None)
    return Lexicon(opened.payload("terms.joblib"))


def test_a_query_vector_counts_known_terms_in_first_occurrence_order(fresh) -> None:  # type: ignore[no-untyped-def]
    terms = ["honei", "bee", "honei", "zzznotaword", "hive", "bee", "honei"]  # analysed (Porter: honey → honei)
    ids, counts = fresh.query_vector(terms)
    assert ids.dtype == np.int64 and counts.dtype == np.float64
    assert [fresh.terms[i] for i in ids.tolist()] == ["honei", "bee", "hive"]
    assert counts.tolist() == [3.0, 2.0, 1.0]
    again = fresh.query_vector(terms)
    assert ids.tolist() == again[0].tolist() and counts.tolist() == again[1].tolist()
    none = fresh.query_vector(["zzznotaword", "\udc80"])
    assert none[0].tolist() == [] and none[0].dtype == np.int64 and none[1].dtype == np.float64


def test_query_vectors_pack_what_query_vector_gives_each_query(fresh) -> None:  # type: ignore[no-untyped-def]
    batch = [
        ["honei", "bee", "honei", "zzznotaword"],
        [],
        ["zzznotaword", "\udc80"],  # nothing known: an empty query in the middle
        ["hive", "hive", "bee", "hive"],
        ["bee"],
    ]
    offsets, ids, counts = fresh.query_vectors(iter(batch))
    assert offsets.dtype == ids.dtype == np.int64 and counts.dtype == np.float64
    assert offsets.tolist() == [0, 2, 2, 2, 4, 5]
    for i, terms in enumerate(batch):
        one_ids, one_counts = fresh.query_vector(terms)
        lo, hi = offsets[i], offsets[i + 1]
        assert ids[lo:hi].tolist() == one_ids.tolist() and counts[lo:hi].tolist() == one_counts.tolist()
    empty = fresh.query_vectors([])
    assert [a.tolist() for a in empty] == [[0], [], []]


@pytest.mark.parametrize("retriever", ["bm25", "bm25+", "tfidf"])
def test_a_packed_batch_weighs_each_query_as_a_single_query_is_weighed(opened, retriever: str) -> None:
    if retriever == "bm25+":
        params = BM25Params.for_variant("bm25+")
        scorer = BM25Scorer(opened, params, build_bm25(opened.counts_matrix(), params))
    else:
        scorer = opened._scorer(retriever)
    batch = [*queries(opened, 20), "", "zzznotaword"]
    packed = scorer._pack(batch)
    for i, ((ids, weights, constant), query) in enumerate(zip(packed.queries(), batch, strict=True)):
        one_ids, one_weights = scorer._vector(query)
        assert ids.tolist() == one_ids.tolist() and weights.tolist() == one_weights.tolist(), query
        assert constant == scorer.constant(one_ids, one_weights)
        assert (constant != 0.0) == (retriever == "bm25+" and len(one_ids) > 0), i


def test_the_compiled_search_reads_the_sorted_strings_and_checks_their_offsets() -> None:
    """find_terms: byte order is code point order (a prefix first, then longer strings, then
    multi-byte characters); a term with no UTF-8 form is in no vocabulary; damaged offsets raise."""
    from ragcli.retrieval.kernel import KERNEL
    from ragcli.store import StringTable

    if KERNEL is None:
        pytest.skip("no compiled kernel in this install")
    words = ["a", "ab", "abc", "b", "zeta", "é", "ü", "日本", "日本語"]
    assert words == sorted(words)
    table = StringTable.from_strings(words)
    probes = [*words, "", "aa", "abcd", "c", "z", "日", "\udc80", "e\u0301"]
    assert KERNEL.find_terms(table.offsets, table.blob, probes) == [*range(len(words)), *[-1] * 8]
    empty = StringTable.from_strings([])
    assert KERNEL.find_terms(empty.offsets, empty.blob, ["a"]) == [-1]
    broken = table.offsets.copy()
    broken[4] = len(table.blob) + 5  # "b" seems to run past the blob's end
    with pytest.raises(ValueError, match="offsets out of range"):
        KERNEL.find_terms(broken, table.blob, ["b"])
    with pytest.raises(TypeError):
        KERNEL.find_terms(table.offsets, table.blob, [b"a"])


def test_each_path_is_the_one_its_collection_size_selects(monkeypatch: pytest.MonkeyPatch, kernel_path: str) -> None:
    """The kernel_path fixture really switches paths: a collection up to DENSE_PASSAGES passages is
    ranked term at a time, a larger one by MaxScore."""
    called: list[str] = []
    kernel = sparse._kernel
    for name in ("topk", "topk_dense"):
        original = getattr(kernel, name)
        monkeypatch.setattr(kernel, name, lambda *a, _f=original, _n=name: called.append(_n) or _f(*a))
    matrix = TermMatrix.from_scipy(sp.csr_matrix(np.eye(4, dtype=np.float32)))
    docs, _ = matrix.top(np.array([2], dtype=np.int64), np.ones(1), 2, np.arange(4, dtype=np.int64))
    assert docs.tolist() == [2]
    assert called == ["topk" if kernel_path == "maxscore" else "topk_dense"]


@pytest.mark.parametrize("compiled", [True, False])
def test_terms_whose_hashes_collide_are_told_apart_by_their_text(
    monkeypatch: pytest.MonkeyPatch, compiled: bool
) -> None:
    """Every term of a length shares one hash here: the lookup walks the equal hashes and compares
    strings, with the compiled search and with numpy's."""
    from ragcli.retrieval import lexicon as lexicon_module
    from ragcli.retrieval.lexicon import Lexicon, lexicon_payload

    monkeypatch.setattr(lexicon_module, "term_hash", lambda term: len(term) * 1000)
    if not compiled:
        monkeypatch.setattr(lexicon_module, "KERNEL", None)
    vocabulary = ["a", "b", "cc", "dd", "ee", "fff"]
    found = Lexicon(lexicon_payload(vocabulary))
    assert found.term_ids(["ee", "b", "zz", "fff", "c", "a", "gggg", "dd"]) == [4, 1, None, 5, None, 0, None, 3]
    assert Lexicon(lexicon_payload([])).term_ids(["a"]) == [None] and found.term_ids([]) == []


def spy_on_batches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Each `_topk.topk_many` call as (how many queries it ranked, on how many threads)."""
    calls: list[tuple[int, int]] = []
    real = sparse._kernel.topk_many

    def spy(*args):
        chunks = list(args[4])
        calls.append((sum(len(constants) for *_, constants in chunks), args[12] if len(args) > 12 else 1))
        return real(*args[:4], chunks, *args[5:])

    monkeypatch.setattr(sparse._kernel, "topk_many", spy)
    return calls


def test_a_batch_is_ranked_by_one_call_on_every_core(opened, monkeypatch: pytest.MonkeyPatch) -> None:
    """One kernel call per batch, on as many threads as the cores, but at least 8 questions a thread
    (starting one costs about a question's time); the numpy route (no kernel) stays in this thread."""
    calls = spy_on_batches(monkeypatch)
    scorer, id_rank = opened._scorer("bm25"), opened.passages.id_rank
    batch = queries(opened, 77)  # 80 questions
    monkeypatch.setattr(sparse, "usable_cpus", lambda: 2)
    many = scorer.rank_many_within(batch, 10, id_rank, None)
    for query, got in zip(batch, many, strict=True):
        assert_same(got, scorer.rank_within(query, 10, id_rank, None))
    assert calls == [(80, 2)]

    calls.clear()
    monkeypatch.setattr(sparse, "usable_cpus", lambda: 4)  # more cores than 20 questions need: 20 // 8 = 2 threads
    many = scorer.rank_many_within(batch[:20], 10, id_rank, None)
    assert [len(r[0]) for r in many] == [len(scorer.rank_within(q, 10, id_rank, None)[0]) for q in batch[:20]]
    assert calls == [(20, 2)]
    scorer.rank_many_within(batch, 10, id_rank, None)
    assert calls[-1] == (80, 4)

    calls.clear()
    assert len(scorer.rank_many_within(batch[:15], 10, id_rank, None)) == 15
    assert len(scorer.rank_many_within(batch[:3], 10, id_rank, None)) == 3
    assert calls == [(15, 1), (3, 1)]

    calls.clear()
    monkeypatch.setattr(sparse, "_kernel", None)
    for query, got in zip(batch, scorer.rank_many_within(batch, 10, id_rank, None), strict=True):
        assert_same(got, scorer.rank_within(query, 10, id_rank, None))
    assert calls == []


def test_k_of_one_takes_the_kernel_too(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = spy_on_batches(monkeypatch)
    single: list[int] = []
    for name in ("topk", "topk_dense"):
        original = getattr(sparse._kernel, name)
        monkeypatch.setattr(sparse._kernel, name, lambda *a, _f=original: single.append(a[6]) or _f(*a))
    matrix = TermMatrix.from_scipy(sp.csr_matrix(np.eye(4, dtype=np.float32)))
    ids, id_rank = np.array([2], dtype=np.int64), np.arange(4, dtype=np.int64)
    ranked = matrix.top_many([sparse.QueryBatch.pack([(ids, np.ones(1), 0.0)] * 3)], 3, 1, id_rank)
    assert [r[0].tolist() for r in ranked] == [[2]] * 3 and calls == [(3, 1)]
    assert matrix.top(ids, np.ones(1), 1, id_rank)[0].tolist() == [2] and single == [1]


def test_stored_term_maxima_are_used_when_they_fit_the_matrix() -> None:
    matrix = TermMatrix.from_scipy(sp.csr_matrix(np.array([[0.5, 2.0], [1.0, 0.0]], dtype=np.float32)))
    assert matrix._term_max() is matrix.term_max and matrix.term_max.tolist() == [2.0, 1.0]
    short = TermMatrix(matrix.indptr, matrix.indices, matrix.data, 2, matrix.term_max[:1])
    assert short._term_max() is None
    assert TermMatrix(matrix.indptr, matrix.indices, matrix.data, 2)._term_max() is None


def test_term_at_a_time_up_to_exactly_dense_passages(monkeypatch: pytest.MonkeyPatch) -> None:
    """A collection of exactly DENSE_PASSAGES passages is ranked term at a time, one more by MaxScore:
    for one query (`topk_dense` / `topk`) and for a batch (`topk_many`'s dense flag)."""
    kernel, called = sparse._kernel, []
    for name in ("topk", "topk_dense", "topk_many"):
        original = getattr(kernel, name)
        flag = (lambda a: a[8]) if name == "topk_many" else (lambda a: None)  # topk_many's dense flag
        monkeypatch.setattr(
            kernel, name, lambda *a, _f=original, _n=name, _d=flag: called.append((_n, _d(a))) or _f(*a)
        )
    matrix = TermMatrix.from_scipy(sp.csr_matrix(np.eye(4, dtype=np.float32)))
    ids, id_rank = np.array([2], dtype=np.int64), np.arange(4, dtype=np.int64)
    batch = sparse.QueryBatch.pack([(ids, np.ones(1), 0.0)])
    for limit, dense in ((4, True), (3, False)):
        called.clear()
        monkeypatch.setattr(sparse, "DENSE_PASSAGES", limit)
        assert matrix.top(ids, np.ones(1), 2, id_rank)[0].tolist() == [2]
        assert matrix.top_many([batch], len(batch.constants), 2, id_rank)[0][0].tolist() == [2]
        assert called == [("topk_dense" if dense else "topk", None), ("topk_many", dense)]


def test_damaged_postings_raise_on_the_numpy_route_too(monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = TermMatrix.from_scipy(sp.csr_matrix(np.eye(4, dtype=np.float32)))
    bad = TermMatrix(matrix.indptr, np.array([0, 1, 99, 3], dtype=np.int32), matrix.data, 4, matrix.term_max)
    monkeypatch.setattr(sparse, "_kernel", None)
    with pytest.raises(ValueError, match=r"^passage numbers out of range$"):
        bad.top(np.array([2, 1], dtype=np.int64), np.ones(2), 2, np.arange(4, dtype=np.int64))


def test_weights_that_do_not_fit_the_index_are_damage_with_a_hint(opened) -> None:
    from ragcli.errors import IndexDamagedError
    from ragcli.store import REBUILD_HINT

    stored = opened.retriever("bm25")
    assert stored.params == opened.settings_of("bm25")  # the scorer knows the settings of its weights
    matrix = stored.matrix
    for bad in (
        TermMatrix(matrix.indptr, matrix.indices, matrix.data, matrix.n_passages + 1, matrix.term_max),
        TermMatrix(matrix.indptr[:-1], matrix.indices, matrix.data, matrix.n_passages, matrix.term_max),
    ):
        with pytest.raises(IndexDamagedError) as caught:
            BM25Scorer(
                opened, stored.params, {**bad.to_payload(), "term_constant": stored.term_constant, "idf": stored.idf}
            )
        assert caught.value.message == f"{opened.path}: bm25 weights do not match the index"
        assert caught.value.hint == REBUILD_HINT
