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


def zscore_fusion(lists: Sequence[Ranked], weights: Sequence[float]) -> dict[int, float]:
    """Σ weight · (score − mean) / sd per list; a passage absent from a list gets that list's minimum.
    A list without spread (one passage, or all tied: a rare term only one passage holds) has nothing
    to standardise: its passages get 1 and those it lacks 0, so the passages it found still count
    above the rest (all 0 let the one passage holding the term fall out of `--dense-weight 0`)."""
    standardised: list[tuple[dict[int, float], float]] = []
    for numbers, scores in lists:
        sd = float(scores.std()) if len(scores) > 1 else 0.0
        if sd > 0:
            values = (scores - scores.mean()) / sd
            standardised.append((dict(zip(numbers.tolist(), values.tolist())), float(values.min())))
        else:
            standardised.append((dict.fromkeys(numbers.tolist(), 1.0), 0.0))
    everyone = set().union(*(values for values, _ in standardised))
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

    def fuse(self, lexical: Ranked, dense: Ranked) -> Ranked:
        depth, id_rank = self.options.fusion_depth, self.index.passages.id_rank
        lists = [top_k(*lexical, depth, id_rank), top_k(*dense, depth, id_rank)]
        if self.fusion == "rrf":
            fused = reciprocal_rank_fusion(lists, self.options.rrf_k)
        else:
            fused = zscore_fusion(lists, [1.0 - self.options.dense_weight, self.options.dense_weight])
        numbers = np.fromiter(fused.keys(), dtype=np.int64, count=len(fused))
        return numbers, np.fromiter(fused.values(), dtype=np.float64, count=len(fused))

    def score(self, query: str) -> Ranked:
        return self.fuse(self.lexical.score(query), self.dense.score(query))

    def score_many(self, queries: Sequence[str]) -> Iterator[Ranked]:
        for lexical, dense in zip(self.lexical.score_many(queries), self.dense.score_many(queries)):
            yield self.fuse(lexical, dense)

    def score_within(self, query: str, allowed: np.ndarray) -> Ranked:
        """Fused lists restricted by a filter first: each list's best `fusion_depth` allowed passages."""
        return self.fuse(restrict(self.lexical.score(query), allowed), restrict(self.dense.score(query), allowed))

    def score_many_within(self, queries: Sequence[str], allowed: np.ndarray) -> Iterator[Ranked]:
        for lexical, dense in zip(self.lexical.score_many(queries), self.dense.score_many(queries)):
            yield self.fuse(restrict(lexical, allowed), restrict(dense, allowed))


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
