"""Fusion of ranked lists, against values worked out by hand: reciprocal rank fusion (Cormack et al.,
Σ 1 / (k + rank)) and z-scored score fusion (population standard deviation; a passage missing from a
whole list gets its known score standardised, one past a cut list just below its lowest), then the hybrid retriever of an index (README:
the top 1,000 of each list, k = 60, dense weight 0.5). The index's dense vectors are written here
with the store's own writer, so no embedding model is needed."""

from __future__ import annotations

import statistics
import warnings
from pathlib import Path

import numpy as np
import pytest

from ragcli.errors import InvalidOptionError
from ragcli.indexing.build import build_index
from ragcli.records import SearchOptions
from ragcli.retrieval.fusion import reciprocal_rank_fusion, zscore_fusion
from ragcli.retrieval.index import load_index
from ragcli.store import GenerationWriter, load_payload, read_manifest


def ranked(numbers: list[int], scores: list[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    scores = scores if scores is not None else [float(len(numbers) - i) for i in range(len(numbers))]
    return np.array(numbers, dtype=np.int64), np.array(scores, dtype=np.float64)


def z(values: list[float]) -> list[float]:
    sd = statistics.pstdev(values) if len(values) > 1 else 0.0
    mean = statistics.fmean(values)
    return [(v - mean) / sd if sd > 0 else 0.0 for v in values]


# --- reciprocal rank fusion -----------------------------------------------------------------------


def test_rrf_sums_one_over_k_plus_rank() -> None:
    fused = reciprocal_rank_fusion([ranked([7, 3, 5]), ranked([3, 9])], k=10)
    assert fused == pytest.approx({7: 1 / 11, 3: 1 / 12 + 1 / 11, 5: 1 / 13, 9: 1 / 12})


def test_rrf_default_k_is_60() -> None:
    fused = reciprocal_rank_fusion([ranked([1, 2])])
    assert fused == pytest.approx({1: 1 / 61, 2: 1 / 62})


def test_rrf_ignores_scores_and_handles_empty_lists() -> None:
    assert reciprocal_rank_fusion([ranked([4, 2], [0.1, 100.0]), ranked([])], k=1) == pytest.approx(
        {4: 1 / 2, 2: 1 / 3}
    )
    assert reciprocal_rank_fusion([], k=60) == {}
    three = reciprocal_rank_fusion([ranked([1]), ranked([1]), ranked([1])], k=0)
    assert three == pytest.approx({1: 3.0})


# --- z-score fusion -------------------------------------------------------------------------------


def test_zscore_standardises_each_list_and_weights_it() -> None:
    lexical = ranked([1, 2, 3], [10.0, 6.0, 2.0])
    dense = ranked([3, 4], [0.9, 0.3])
    zl, zd = z([10.0, 6.0, 2.0]), z([0.9, 0.3])
    fused = zscore_fusion([lexical, dense], [0.3, 0.7])
    assert fused == pytest.approx(
        {
            1: 0.3 * zl[0] + 0.7 * min(zd),  # missing from the dense list: its lowest value
            2: 0.3 * zl[1] + 0.7 * min(zd),
            3: 0.3 * zl[2] + 0.7 * zd[0],
            4: 0.3 * min(zl) + 0.7 * zd[1],
        }
    )


def test_zscore_of_constant_or_single_lists_puts_their_passages_above_the_others() -> None:
    # no spread to standardise: the passages a list found get 1, those it lacks 0 (all 0 let the one
    # passage holding a rare term fall behind passages without it)
    fused = zscore_fusion([ranked([1, 2], [5.0, 5.0]), ranked([3], [9.0])], [1.0, 2.0])
    assert fused == pytest.approx({1: 1.0, 2: 1.0, 3: 2.0})
    lone = zscore_fusion([ranked([7], [3.2]), ranked([1, 2, 7], [0.9, 0.5, 0.1])], [1.0, 0.0])
    assert max(lone, key=lone.__getitem__) == 7  # --dense-weight 0 ranks as BM25 does


def test_zscore_with_an_empty_list() -> None:
    fused = zscore_fusion([ranked([1, 2], [3.0, 1.0]), ranked([])], [0.5, 0.5])
    assert fused == pytest.approx({1: 0.5, 2: -0.5})  # the empty list adds 0 to everyone
    assert zscore_fusion([], []) == {}


def test_zscore_of_an_empty_list_computes_no_statistics_of_nothing() -> None:
    # numpy's std/mean of nothing is nan with a RuntimeWarning on stderr: an empty list must not get there
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert zscore_fusion([ranked([]), ranked([5], [2.0])], [1.0, 1.0]) == {5: 1.0}


def test_zscore_standardises_the_score_a_passage_missing_from_an_exhaustive_list_has() -> None:
    # the lexical list holds every passage with a query term (fewer than the fusion depth): a passage
    # it lacks scores 0 there, standardised with the list's mean and sd like any other score
    # (the dense list, all tied, adds 1 to each of its passages: a list of weight 0 would add none)
    lexical = ranked([1, 2, 3], [3.0, 2.0, 1.0])
    dense = ranked([4, 3, 2, 1], [0.5] * 4)
    sd = statistics.pstdev([3.0, 2.0, 1.0])
    fused = zscore_fusion([lexical, dense], [1.0, 1.0], unmatched=[0.0, None])
    assert fused == pytest.approx({1: 1 / sd + 1, 2: 1.0, 3: -1 / sd + 1, 4: -2 / sd + 1})
    plus = zscore_fusion([ranked([1, 2], [3.0, 2.0]), ranked([5, 1, 2], [0.5] * 3)], [1.0, 1.0], unmatched=[1.5, None])
    assert plus[5] == pytest.approx((1.5 - 2.5) / 0.5 + 1)  # BM25+: a passage without the terms scores its constant


def test_zscore_takes_no_passage_from_a_list_of_weight_0() -> None:
    # `--dense-weight 0` ranks as BM25 does: the dense list's passages BM25 lacks are not candidates,
    # so a question BM25 finds nothing for finds nothing (not every passage tied at 0)
    fused = zscore_fusion([ranked([1, 2], [3.0, 2.0]), ranked([4, 3, 2, 1])], [1.0, 0.0], unmatched=[0.0, None])
    assert fused == pytest.approx({1: 1.0, 2: -1.0})
    assert zscore_fusion([ranked([]), ranked([4, 3, 2, 1])], [1.0, 0.0], unmatched=[0.0, None]) == {}


def test_zscore_puts_a_passage_past_a_cut_list_just_below_its_last() -> None:
    # a list cut at the depth: a passage it lacks scores at most its last one, never as much, so the
    # passage with the lower id cannot push the list's last hit out of its place
    fused = zscore_fusion([ranked([5, 6], [2.0, 1.0]), ranked([1, 2, 5, 6], [0.5] * 4)], [1.0, 1.0])
    assert fused[1] < fused[6] and fused[2] < fused[6]
    assert fused[1] == pytest.approx(0.0, abs=1e-6) and fused[1] == fused[2]


def test_zscore_uses_the_population_standard_deviation() -> None:
    fused = zscore_fusion([ranked([1, 2, 3, 4], [4.0, 3.0, 2.0, 1.0])], [1.0])
    sd = statistics.pstdev([4.0, 3.0, 2.0, 1.0])
    assert fused == pytest.approx({1: 1.5 / sd, 2: 0.5 / sd, 3: -0.5 / sd, 4: -1.5 / sd})


# --- the hybrid retriever of an index -------------------------------------------------------------

CORPUS = {
    "a.txt": "honey bees dance to show where the flowers are",
    "b.txt": "the queen bee lays eggs in the hive",
    "c.txt": "wax comb is built by worker bees",
    "d.txt": "flowers give nectar and pollen",
    "e.txt": "beekeepers harvest honey in late summer",
}
DENSE_SETTINGS = {"model": "hand-made", "precision": "fp32", "max_tokens": 32, "dtype": "float32"}


@pytest.fixture(scope="module")
def hybrid_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BM25 index plus dense vectors written as a new generation with the store's writer."""
    root = tmp_path_factory.mktemp("fusion")
    for name, text in CORPUS.items():
        (root / "corpus").mkdir(exist_ok=True)
        (root / "corpus" / name).write_text(text)
    index_dir = root / "index"
    build_index([root / "corpus"], index_dir)
    manifest = read_manifest(index_dir)
    n = manifest["counts"]["passages"]
    payloads = {name: load_payload(index_dir / manifest["generation"] / name, mmap=False) for name in manifest["files"]}
    vectors = np.eye(n, 8, dtype=np.float32)
    with GenerationWriter(index_dir) as writer:
        for name, payload in payloads.items():
            writer.write(name, payload)
        writer.write(
            "dense.joblib", {"vectors": vectors, "keys": np.zeros((n, 16), dtype=np.uint8), "settings": DENSE_SETTINGS}
        )
        rest = {k: v for k, v in manifest.items() if k not in ("files", "generation")}
        writer.publish({**rest, "dense": {"settings": DENSE_SETTINGS}})
    return index_dir


class FixedDense:
    """Stands in for the dense retriever: fixed scores per query (no embedding model)."""

    name = "dense"

    def __init__(self, scores: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        self.scores = scores

    def score(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        return self.scores[query]

    def score_many(self, queries: list[str]):  # type: ignore[no-untyped-def]
        for query in queries:
            yield self.scores[query]


def numbers_by_id(index) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {index.passages.ids[i]: i for i in range(len(index.passages))}


def test_hybrid_retrievers_are_named_by_their_fusion(hybrid_index: Path) -> None:
    index = load_index(hybrid_index)
    assert index.retriever("hybrid").name == "hybrid"
    assert index.retriever("hybrid-zscore").name == "hybrid-zscore"
    assert index.retriever("hybrid-rrf").name == "hybrid-rrf"
    assert [index.retriever(n).fusion for n in ("hybrid", "hybrid-zscore", "hybrid-rrf")] == ["zscore", "zscore", "rrf"]
    cls = type(index.retriever("hybrid"))
    assert cls(index, "zscore", SearchOptions()).name == "hybrid-zscore"
    assert cls(index, "rrf", SearchOptions()).name == "hybrid-rrf"
    with pytest.raises(Exception) as error:
        cls(index, "sum", SearchOptions())
    assert error.value.exit_code == 2  # bad usage (README, "Exit codes")
    assert (error.value.message, error.value.hint) == ("unknown fusion 'sum'", "rrf or zscore")


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"rrf_k": -5}, "rrf_k"),
        ({"rrf_k": 0}, "rrf_k"),
        ({"rrf_k": 2.5}, "rrf_k"),
        ({"dense_weight": 1.5}, "dense_weight"),
        ({"dense_weight": -0.1}, "dense_weight"),
        ({"dense_weight": float("nan")}, "dense_weight"),
        ({"dense_weight": "0.3"}, "dense_weight"),
        ({"fusion_depth": 0}, "fusion_depth"),
    ],
)
def test_search_options_refuse_what_the_cli_refuses(settings: dict[str, object], named: str) -> None:
    """The Python API refuses the values `--rrf-k` and `--dense-weight` refuse (k <= -1 divided by zero),
    with a usage error naming the option; the bounds themselves are accepted."""
    with pytest.raises(InvalidOptionError, match=named) as error:
        SearchOptions(**settings)  # type: ignore[arg-type]
    assert error.value.exit_code == 2
    assert SearchOptions(rrf_k=1, dense_weight=0.0, fusion_depth=1).rrf_k == 1
    assert SearchOptions(dense_weight=1).dense_weight == 1


def test_hybrid_rrf_fuses_each_lists_ranks_with_k_60(hybrid_index: Path) -> None:
    index = load_index(hybrid_index)
    hybrid = index.retriever("hybrid-rrf")
    ids = numbers_by_id(index)
    a, b, c, d = ids["a.txt#0"], ids["b.txt#0"], ids["c.txt#0"], ids["d.txt#0"]
    # unsorted input lists: fuse ranks them by score first
    lexical = ranked([c, a, b], [1.0, 3.0, 2.0])  # ranks: a, b, c
    dense = ranked([d, a], [0.2, 0.9])  # ranks: a, d
    numbers, scores = hybrid.fuse(lexical, dense)
    assert dict(zip(numbers.tolist(), scores.tolist())) == pytest.approx(
        {a: 1 / 61 + 1 / 61, b: 1 / 62, c: 1 / 63, d: 1 / 62}
    )
    assert numbers.dtype == np.int64 and scores.dtype == np.float64


def test_hybrid_zscore_weights_dense_by_its_weight(hybrid_index: Path) -> None:
    index = load_index(hybrid_index)
    ids = numbers_by_id(index)
    a, b, c = ids["a.txt#0"], ids["b.txt#0"], ids["c.txt#0"]
    lexical = ranked([a, b, c], [3.0, 2.0, 1.0])
    dense = ranked([b, c], [0.8, 0.2])
    zl, zd = z([3.0, 2.0, 1.0]), z([0.8, 0.2])
    for name in ("hybrid", "hybrid-zscore"):  # `hybrid` is z-score fusion, weight 0.5 unless told
        default = index.retriever(name)
        got = dict(zip(*[x.tolist() for x in default.fuse(lexical, dense)]))
        assert got == pytest.approx(
            {a: 0.5 * zl[0] + 0.5 * min(zd), b: 0.5 * zl[1] + 0.5 * zd[0], c: 0.5 * zl[2] + 0.5 * zd[1]}
        )
    weighted = index.retriever("hybrid-zscore", SearchOptions(dense_weight=0.2))
    got = dict(zip(*[x.tolist() for x in weighted.fuse(lexical, dense)]))
    assert got == pytest.approx(
        {a: 0.8 * zl[0] + 0.2 * min(zd), b: 0.8 * zl[1] + 0.2 * zd[0], c: 0.8 * zl[2] + 0.2 * zd[1]}
    )


def test_hybrid_takes_each_lists_best_depth_passages(hybrid_index: Path) -> None:
    index = load_index(hybrid_index)
    ids = numbers_by_id(index)
    a, b, c, d, e = (ids[f"{x}.txt#0"] for x in "abcde")
    lexical = ranked([a, b, c], [3.0, 2.0, 1.0])
    dense = ranked([d, e, a], [0.9, 0.8, 0.1])
    shallow = index.retriever("hybrid-rrf", SearchOptions(rrf_k=5, fusion_depth=2))
    numbers, scores = shallow.fuse(lexical, dense)
    assert dict(zip(numbers.tolist(), scores.tolist())) == pytest.approx({a: 1 / 6, b: 1 / 7, d: 1 / 6, e: 1 / 7})
    assert sorted(index.retriever("hybrid", SearchOptions(fusion_depth=2)).fuse(lexical, dense)[0]) == sorted(
        [a, b, d, e]
    )
    deep = index.retriever("hybrid")  # the default depth (1,000) keeps all of these
    assert len(deep.fuse(lexical, dense)[0]) == 5


def test_hybrid_scores_a_query_from_bm25_and_the_dense_retriever(hybrid_index: Path) -> None:
    index = load_index(hybrid_index)
    ids = numbers_by_id(index)
    hybrid = index.retriever("hybrid-rrf")
    assert hybrid.lexical is index.retriever("bm25") and hybrid.dense is index.retriever("dense")
    queries = ["honey bees", "queen hive"]
    dense_lists = {
        "honey bees": ranked([ids["d.txt#0"], ids["a.txt#0"]], [0.7, 0.5]),
        "queen hive": ranked([ids["e.txt#0"]], [0.4]),
    }
    hybrid.dense = FixedDense(dense_lists)
    wanted = {}
    for query in queries:
        lexical_numbers, _ = index.rank(query, k=1000, retriever="bm25")
        want: dict[int, float] = {}
        for rank, number in enumerate(lexical_numbers.tolist(), start=1):
            want[number] = want.get(number, 0.0) + 1 / (60 + rank)
        for rank, number in enumerate(dense_lists[query][0].tolist(), start=1):
            want[number] = want.get(number, 0.0) + 1 / (60 + rank)
        numbers, scores = hybrid.score(query)
        assert dict(zip(numbers.tolist(), scores.tolist())) == pytest.approx(want)
        wanted[query] = want
    batched = [dict(zip(n.tolist(), s.tolist())) for n, s in hybrid.score_many(queries)]
    single = [dict(zip(*[x.tolist() for x in hybrid.score(q)])) for q in queries]
    assert len(batched) == 2
    for got, want in zip(batched, single):
        assert got == pytest.approx(want)
    hits = index.search("honey bees", k=3, retriever=hybrid)
    by_number = {n: i for i, n in ids.items()}
    best = sorted(wanted["honey bees"], key=lambda n: (-wanted["honey bees"][n], by_number[n]))[:3]
    assert [h.id for h in hits] == [by_number[n] for n in best]


def test_hybrid_within_a_filter_fuses_each_lists_best_allowed_passages(hybrid_index: Path) -> None:
    """A filter restricts each list before the fusion takes its `fusion_depth` best: with depth 1, a
    list whose best passage is filtered out contributes its best allowed one instead (not nothing,
    and never the excluded one), one query or many."""
    index = load_index(hybrid_index)
    ids = numbers_by_id(index)
    a, b, c, d, e = (ids[f"{x}.txt#0"] for x in "abcde")
    queries = ["honey bees", "queen hive"]
    dense_lists = {
        "honey bees": ranked([d, a, c], [0.9, 0.5, 0.1]),
        "queen hive": ranked([e, b], [0.8, 0.4]),
    }
    hybrid = index.retriever("hybrid-rrf", SearchOptions(rrf_k=5, fusion_depth=1))
    hybrid.dense = FixedDense(dense_lists)
    allowed = np.ones(len(ids), dtype=bool)
    allowed[[a, d, e]] = False  # the lexical favourite of "honey bees", each query's dense favourite
    want = []
    for query in queries:
        lexical_numbers, _ = index.rank(query, k=1000, retriever="bm25")
        best_lexical = next(n for n in lexical_numbers.tolist() if allowed[n])
        best_dense = next(n for n in dense_lists[query][0].tolist() if allowed[n])
        expect: dict[int, float] = {}
        for number in (best_lexical, best_dense):
            expect[number] = expect.get(number, 0.0) + 1 / (5 + 1)
        want.append(expect)
    assert index.rank("honey bees", k=1, retriever="bm25")[0].tolist() == [a]  # excluded: fusion must skip it
    many = [dict(zip(n.tolist(), s.tolist())) for n, s in hybrid.score_many_within(queries, allowed)]
    assert len(many) == 2
    for got, expect in zip(many, want):
        assert got == pytest.approx(expect)
        assert not set(got) & {a, d, e}
    single = [dict(zip(*[x.tolist() for x in hybrid.score_within(q, allowed)])) for q in queries]
    assert single == [pytest.approx(w) for w in want]


def test_hybrid_with_dense_weight_0_ranks_as_bm25_and_with_1_as_dense(hybrid_index: Path) -> None:
    """README ("Dense and hybrid retrieval"): `--dense-weight 0` ranks as BM25 does, 1 as dense. A
    passage without the query's terms must not tie with BM25's last hit (and win it on its lower id);
    the dense list holds every passage of this small corpus, so it misses none."""
    index = load_index(hybrid_index)
    ids = numbers_by_id(index)
    by_number = {n: i for i, n in ids.items()}
    queries = ["honey", "eggs honey", "summer flowers", "honey bees", "queen hive"]
    dense_order = [ids[f"{x}.txt#0"] for x in "dcbea"]
    dense_lists = {q: ranked(dense_order, [0.9, 0.7, 0.6, 0.3, 0.1]) for q in queries}
    lexical_only = index.retriever("hybrid", SearchOptions(dense_weight=0.0))
    dense_only = index.retriever("hybrid", SearchOptions(dense_weight=1.0))
    lexical_only.dense = dense_only.dense = FixedDense(dense_lists)
    for query in queries:
        bm25 = [h.id for h in index.search(query, k=5)]
        assert [h.id for h in index.search(query, k=len(bm25), retriever=lexical_only)] == bm25, query
        assert [h.id for h in index.search(query, k=5, retriever=lexical_only)][: len(bm25)] == bm25, query
        assert [h.id for h in index.search(query, k=5, retriever=dense_only)] == [by_number[n] for n in dense_order]
    for query, hits in zip(queries, index.search_many(queries, k=5, retriever=lexical_only)):
        bm25 = [h.id for h in index.search(query, k=5)]
        assert [h.id for h in hits][: len(bm25)] == bm25, query
