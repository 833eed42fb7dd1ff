"""Hybrid retrieval: lexical and dense rankings fused into one.

`hybrid` is z-score fusion (also named `hybrid-zscore`): each list's scores standardised and summed
with weights (`--dense-weight`, 0.5). `hybrid-rrf` is reciprocal rank fusion (`--rrf-k`, 60), which
needs no score calibration but throws the scores away. z-score fusion is the default because it
ranked better wherever ragcli measured both — SciFact's training claims with two fine-tuned models,
SciFact's test claims with the packaged model, Cranfield, NPL (BENCHMARKS.md, "Which fusion is
`hybrid`") — as Bruch et al. (2023, "An analysis of fusion functions for hybrid retrieval") found
for a convex combination of normalised scores against RRF.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ragcli.errors import InvalidOptionError
from ragcli.records import SearchOptions
from ragcli.retrieval.base import Ranked, Retriever, restrict, top_k
from ragcli.retrieval.sparse import SparseScorer

if TYPE_CHECKING:
    from ragcli.retrieval.index import Index

FUSIONS = ("rrf", "zscore")


def reciprocal_rank_fusion(lists: Sequence[Ranked], k: int = 60) -> dict[int, float]:
    """Σ over the lists of 1 / (k + rank of the passage in that list) (Cormack et al., 2009)."""
    fused: dict[int, float] = {}
    for numbers, _ in lists:
        for rank, number in enumerate(numbers.tolist(), start=1):
            fused[number] = fused.get(number, 0.0) + 1.0 / (k + rank)
    return fused


CUT_MARGIN = 1e-9  # standard deviations: how far below a cut list's last score a passage past the cut is put


def zscore_fusion(
    lists: Sequence[Ranked], weights: Sequence[float], unmatched: Sequence[float | None] | None = None
) -> dict[int, float]:
    """Σ weight · (score − mean) / sd per list, with the mean and sd of the list's own scores.

    A passage a list lacks: where the list is whole (`unmatched[i]`, the score every passage it lacks
    has, e.g. 0 for a BM25 list that holds every passage with a query term), that score standardised
    like any other; where it was cut at the fusion depth (None, the default), just below the list's
    lowest (`CUT_MARGIN`), since a passage past the cut scores at most the last one: exactly the lowest
    tied it with the list's last hit, and the lower passage id won, so a passage without the query
    term pushed out one with it under `--dense-weight 0`.
    A list without spread (one passage, or all tied: a rare term only one passage holds) has nothing
    to standardise: its passages get 1 and those it lacks 0, so the passages it found still count
    above the rest (all 0 let the one passage holding the term fall out of `--dense-weight 0`).
    A list of weight 0 adds no passage of its own: it adds nothing to any score, and the dense list's
    every passage then filled a ranking BM25 left empty with ties at 0 (`--dense-weight 0` is BM25's)."""
    unmatched = unmatched if unmatched is not None else [None] * len(lists)
    standardised: list[tuple[dict[int, float], float]] = []
    for (numbers, scores), missing in zip(lists, unmatched):
        sd = float(scores.std()) if len(scores) > 1 else 0.0
        if sd > 0:
            mean = float(scores.mean())
            z = (scores - mean) / sd
            floor = float(z.min()) - CUT_MARGIN if missing is None else (missing - mean) / sd
            standardised.append((dict(zip(numbers.tolist(), z.tolist())), floor))
        else:
            standardised.append((dict.fromkeys(numbers.tolist(), 1.0), 0.0))
    everyone = set().union(*(values for (values, _), weight in zip(standardised, weights) if weight))
    fused = dict.fromkeys(everyone, 0.0)
    for (values, floor), weight in zip(standardised, weights):
        for number in everyone:
            fused[number] += weight * values.get(number, floor)
    return fused


class HybridScorer:
    """BM25 and dense, fused: reciprocal rank fusion or z-scored score fusion. Each list contributes
    its `options.fusion_depth` best passages."""

    def __init__(self, index: Index, fusion: str, options: SearchOptions, name: str | None = None) -> None:
        if fusion not in FUSIONS:
            raise InvalidOptionError(f"unknown fusion {fusion!r}", hint="rrf or zscore")
        self.name = name or f"hybrid-{fusion}"
        self.index, self.fusion, self.options = index, fusion, options
        self.lexical = index.retriever("bm25")
        self.dense = index.retriever("dense")

    def fuse(self, lexical: Ranked, dense: Ranked, unmatched: float | None = 0.0) -> Ranked:
        """Each list's best `fusion_depth` passages, fused. `unmatched`: what the lexical scorer gives
        a passage holding none of the query's terms (BM25: 0, BM25+: its constant), which a lexical
        list no deeper than the depth lacks; None: not known. The dense list scores every passage, so
        it lacks none unless the corpus is deeper than the depth: those past it are cut, as z-score
        fusion treats an unknown score."""
        depth, id_rank = self.options.fusion_depth, self.index.passages.id_rank
        lists = [top_k(*lexical, depth, id_rank), top_k(*dense, depth, id_rank)]
        if self.fusion == "rrf":
            fused = reciprocal_rank_fusion(lists, self.options.rrf_k)
        else:
            whole = unmatched if len(lexical[0]) <= depth else None
            weights = [1.0 - self.options.dense_weight, self.options.dense_weight]
            fused = zscore_fusion(lists, weights, [whole, None])
        numbers = np.fromiter(fused.keys(), dtype=np.int64, count=len(fused))
        return numbers, np.fromiter(fused.values(), dtype=np.float64, count=len(fused))

    def unmatched(self, query: str) -> float | None:
        """What the lexical scorer gives a passage holding none of the query's terms (None: not known, or
        not needed: reciprocal rank fusion reads no scores)."""
        if self.fusion == "rrf" or not isinstance(self.lexical, SparseScorer):
            return None
        return self.lexical.unmatched_score(query)

    def score(self, query: str) -> Ranked:
        return self.fuse(self.lexical.score(query), self.dense.score(query), self.unmatched(query))

    def score_many(self, queries: Sequence[str]) -> Iterator[Ranked]:
        pairs = zip(queries, self.lexical.score_many(queries), self.dense.score_many(queries))
        for query, lexical, dense in pairs:
            yield self.fuse(lexical, dense, self.unmatched(query))

    def score_within(self, query: str, allowed: np.ndarray) -> Ranked:
        """Fused lists restricted by a filter first: each list's best `fusion_depth` allowed passages."""
        lexical, dense = restrict(self.lexical.score(query), allowed), restrict(self.dense.score(query), allowed)
        return self.fuse(lexical, dense, self.unmatched(query))

    def score_many_within(self, queries: Sequence[str], allowed: np.ndarray) -> Iterator[Ranked]:
        pairs = zip(queries, self.lexical.score_many(queries), self.dense.score_many(queries))
        for query, lexical, dense in pairs:
            yield self.fuse(restrict(lexical, allowed), restrict(dense, allowed), self.unmatched(query))


class Hybrid(Retriever[None]):
    """BM25 + dense by ragcli's default fusion, z-scored scores (`--dense-weight`); builds nothing of its own."""

    name = "hybrid"
    needs = ("bm25", "dense")
    fusion = "zscore"

    def open(self, index: Index, options: SearchOptions) -> HybridScorer:
        return HybridScorer(index, self.fusion, options, self.name)


class HybridZscore(Hybrid):
    """BM25 + dense by z-scored score fusion (`--dense-weight`), named for what it does."""

    name = "hybrid-zscore"


class HybridRrf(Hybrid):
    """BM25 + dense by reciprocal rank fusion (`--rrf-k`)."""

    name = "hybrid-rrf"
    fusion = "rrf"


HYBRID = Hybrid()
HYBRID_ZSCORE = HybridZscore()
HYBRID_RRF = HybridRrf()
