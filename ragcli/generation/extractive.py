"""The extractive generator: answers with the sentence of the retrieved passages that best answers the
question. No model, no download, instant; a real baseline (its EM/F1 is in BENCHMARKS.md) and the
fallback when no language model can be loaded.

A sentence scores by the idf-weighted share of the question's terms it contains, with small bonuses
for the rank of its passage, for coming early in the passage, and for holding the kind of thing the
question asks for (a number for "how many", a year for "when", a name for "who"). The answer is the
whole sentence, cited: readable on its own, and never anything the sources do not say.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable, Sequence

from ragcli.analysis import Analyzer
from ragcli.generation import Generation
from ragcli.index import Hit

if TYPE_CHECKING:
    from ragcli.index import Index

# sentence ends: . ! ? followed by space and an upper-case letter, digit or quote; or a blank line / list item
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*(?:[-*•]|\d+\.)\s)")
_MARKUP_RE = re.compile(r"^\s*(?:#+|[-*•]|\d+\.)\s*|\*\*|__|`")
_NUMBER_RE = re.compile(r"\d")
_YEAR_RE = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
_NAME_RE = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")
RANK_BONUS = 0.05
POSITION_BONUS = 0.03
TYPE_BONUS = 0.1
MIN_SENTENCE_WORDS = 4


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage, markup and line breaks tidied."""
    sentences = []
    for piece in _SENTENCE_END_RE.split(text):
        sentence = " ".join(_MARKUP_RE.sub("", line) for line in piece.strip().splitlines())
        sentence = " ".join(sentence.split())
        if sentence:
            sentences.append(sentence)
    return sentences


def _answer_type_bonus(question: str, sentence: str) -> float:
    q = question.lower()
    if re.search(r"\bhow (many|much|long|far|old|big|fast|heavy)\b|\bwhat (percentage|number)\b", q):
        return TYPE_BONUS if _NUMBER_RE.search(sentence) else 0.0
    if re.search(r"\b(when|what year|which year)\b", q):
        return TYPE_BONUS if _YEAR_RE.search(sentence) else 0.0
    if re.search(r"\b(who|whom|whose)\b", q):
        return TYPE_BONUS if _NAME_RE.search(sentence) else 0.0
    return 0.0


class ExtractiveGenerator:
    """Picks the best answering sentence from the sources and cites it."""

    name = "extractive"
    model: str | None = None

    def __init__(self, analyzer: Analyzer | None = None, term_weight: Callable[[str], float] | None = None) -> None:
        self.analyzer = analyzer or Analyzer()
        self.term_weight = term_weight or (lambda term: 1.0)

    @classmethod
    def for_index(cls, index: "Index | None") -> "ExtractiveGenerator":
        """Weights question terms by the index's BM25 idf, so rare words count most."""
        if index is None:
            return cls()
        idf = index.payload("bm25.joblib")["idf"]
        lexicon = index.lexicon

        def weight(term: str) -> float:
            term_id = lexicon.term_id(term)
            return max(float(idf[term_id]), 0.01) if term_id is not None else 1.0

        return cls(index.analyzer, weight)

    def generate(self, question: str, sources: Sequence[Hit]) -> Generation:
        terms = set(self.analyzer(question))
        if not terms or not sources:
            return Generation("", [], len(sources))
        weights = {t: self.term_weight(t) for t in terms}
        total = sum(weights.values())
        best: tuple[float, str, int] | None = None
        for number, hit in enumerate(sources, start=1):
            for position, sentence in enumerate(split_sentences(hit.text)):
                if len(sentence.split()) < MIN_SENTENCE_WORDS:
                    continue
                shared = terms.intersection(self.analyzer(sentence))
                if not shared:
                    continue
                score = (
                    sum(weights[t] for t in shared) / total
                    + RANK_BONUS / number
                    + POSITION_BONUS / (1 + position)
                    + _answer_type_bonus(question, sentence)
                )
                if best is None or score > best[0]:
                    best = (score, sentence, number)
        if best is None:
            return Generation("", [], len(sources))
        _, sentence, number = best
        return Generation(f"{sentence} [{number}]", [number], len(sources))

    def generate_many(self, requests: Sequence[tuple[str, Sequence[Hit]]]) -> list[Generation]:
        return [self.generate(question, sources) for question, sources in requests]
