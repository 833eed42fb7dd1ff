"""The extractive generator: answers with the sentence of the retrieved passages that best answers the
question. No model, no download, instant; a real baseline (its EM/F1 is in BENCHMARKS.md) and the
fallback when no language model can be loaded.

A sentence scores by the idf-weighted share of the question's terms it contains, with small bonuses
for the rank of its passage, for coming early in the passage, and for holding the kind of thing the
question asks for (a number for "how many", a date for "when", a name for "who"/"where"). For those
typed questions the answer is the matching phrase of the best sentence nearest the question's words
("2,000", "1852", "Lorenzo Langstroth"); for other questions it is the whole sentence. Either way it
is cited, and never anything the sources do not say.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ragcli.analysis import Analyzer
from ragcli.generation.base import Generation, GenerationOptions
from ragcli.records import Hit

if TYPE_CHECKING:
    from ragcli.retrieval.index import Index

# sentence ends: . ! ? followed by space and an upper-case letter, digit or quote; or a blank line / list item
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*(?:[-*•]|\d+\.)\s)")
_MARKUP_RE = re.compile(r"^\s*(?:#+|[-*•]|\d+\.)\s*|\*\*|__|`")
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|dozen"
)
_UNITS = (
    r"years?|months?|weeks?|days?|hours?|minutes?|seconds?|miles?|kilometres?|kilometers?|km|metres?|meters?|"
    r"feet|foot|inches|percent|degrees|kilograms?|kg|pounds?|tons?|tonnes?|people|times"
)
_SPAN_RES = {
    "number": re.compile(
        rf"(?:[$£€]\s?)?\b(?:\d[\d,]*(?:\.\d+)?|(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))*)\b"
        rf"(?:\s?%|\s(?:million|billion|thousand|hundred))?(?:\s(?:{_UNITS})\b)?",
        re.IGNORECASE,
    ),
    "date": re.compile(
        rf"\b(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}|{_MONTH}\s+\d{{4}}"
        rf"|\d{{1,2}}(?:st|nd|rd|th)\s+century|(?:1\d|20)\d\d(?:s\b)?)"
    ),
    "name": re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of\s+|the\s+|de\s+|von\s+|van\s+)?[A-Z][\w'’.-]*)*"),
}
_QUESTION_KINDS = (
    (
        "number",
        re.compile(
            r"\bhow (many|much|long|far|old|big|fast|heavy|large|tall|high)\b|\bwhat (percentage|number)\b", re.I
        ),
    ),
    ("date", re.compile(r"\b(when|what year|which year|what century|what decade|what date)\b", re.I)),
    ("name", re.compile(r"\b(who|whom|whose|where)\b", re.I)),
)
RANK_BONUS = 0.05
POSITION_BONUS = 0.03
TYPE_BONUS = 0.1
MIN_SENTENCE_WORDS = 3


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage, markup and line breaks tidied."""
    sentences = []
    for piece in _SENTENCE_END_RE.split(text):
        sentence = " ".join(_MARKUP_RE.sub("", line) for line in piece.strip().splitlines())
        sentence = " ".join(sentence.split())
        if sentence:
            sentences.append(sentence)
    return sentences


def question_kind(question: str) -> str | None:
    """What a question asks for ("number", "date", "name" or None): its first question phrase decides."""
    found = [(m.start(), kind) for kind, pattern in _QUESTION_KINDS if (m := pattern.search(question))]
    return min(found)[1] if found else None


_LEADING_ARTICLE_RE = re.compile(r"^(?:The|A|An)\s+")
_POSSESSIVE_RE = re.compile(r"['’]s?$")


def typed_spans(kind: str, sentence: str, question: str) -> list[tuple[int, int]]:
    """Phrases of `kind` in the sentence that the question does not already contain."""
    asked = {w.lower() for w in re.findall(r"\w+", question)} | {"the", "a", "an", "s"}
    spans = []
    for match in _SPAN_RES[kind].finditer(sentence):
        start, end = match.span()
        if kind == "name":  # "The Panthers'" → "Panthers"
            text = match.group()
            lead = _LEADING_ARTICLE_RE.match(text)
            start += lead.end() if lead else 0
            possessive = _POSSESSIVE_RE.search(text)
            end -= len(possessive.group()) if possessive else 0
        words = {w.lower() for w in re.findall(r"\w+", sentence[start:end])}
        if words and not words <= asked and not (kind == "name" and start == 0 and len(words) == 1):
            spans.append((start, end))
    return spans


@runtime_checkable
class TermWeights(Protocol):
    """A scorer that knows how telling a term is (BM25's idf)."""

    def term_weight(self, term: str) -> float | None: ...


class ExtractiveGenerator:
    """Picks the best answering sentence from the sources and cites it."""

    name = "extractive"
    model: str | None = None

    def __init__(self, analyzer: Analyzer | None = None, term_weight: Callable[[str], float] | None = None) -> None:
        self.analyzer = analyzer or Analyzer()
        self.term_weight = term_weight or (lambda term: 1.0)

    @classmethod
    def for_index(cls, index: Index | None) -> ExtractiveGenerator:
        """Weights question terms by the index's BM25 idf, so rare words count most."""
        if index is None:
            return cls()
        scorer = index.retriever("bm25")
        if not isinstance(scorer, TermWeights):  # a bm25 that does not weigh terms: all count the same
            return cls(index.analyzer)
        weigh = scorer.term_weight

        def weight(term: str) -> float:
            value = weigh(term)
            return max(value, 0.01) if value is not None else 1.0

        return cls(index.analyzer, weight)

    def generate(self, question: str, sources: Sequence[Hit]) -> Generation:
        terms = set(self.analyzer(question))
        if not terms or not sources:
            return Generation("", [], len(sources))
        weights = {t: self.term_weight(t) for t in terms}
        total = sum(weights.values())
        kind = question_kind(question)
        best: tuple[float, str, int, list[tuple[int, int]]] | None = None
        for number, hit in enumerate(sources, start=1):
            for position, sentence in enumerate(split_sentences(hit.text)):
                if len(sentence.split()) < MIN_SENTENCE_WORDS:
                    continue
                shared = terms.intersection(self.analyzer(sentence))
                if not shared:
                    continue
                spans = typed_spans(kind, sentence, question) if kind else []
                score = (
                    sum(weights[t] for t in shared) / total
                    + RANK_BONUS / number
                    + POSITION_BONUS / (1 + position)
                    + (TYPE_BONUS if spans else 0.0)
                )
                if best is None or score > best[0]:
                    best = (score, sentence, number, spans)
        if best is None:
            return Generation("", [], len(sources))
        _, sentence, number, spans = best
        text = self._nearest_span(sentence, spans, terms) if spans else sentence
        return Generation(f"{text} [{number}]", [number], len(sources))

    def _nearest_span(self, sentence: str, spans: list[tuple[int, int]], terms: set[str]) -> str:
        """The typed phrase closest to where the sentence repeats the question's words."""
        anchors = [start for start, _ in self.analyzer.matching_spans(sentence, frozenset(terms))]
        start, end = min(spans, key=lambda span: min((abs(span[0] - a) for a in anchors), default=span[0]))
        return sentence[start:end].strip()

    def generate_many(self, requests: Sequence[tuple[str, Sequence[Hit]]]) -> list[Generation]:
        return [self.generate(question, sources) for question, sources in requests]


class ExtractiveFactory:
    """The `extractive` backend: no model, the best sentence of the sources."""

    name = "extractive"

    def create(self, model: str | None, options: GenerationOptions, index: Index | None) -> ExtractiveGenerator:
        return ExtractiveGenerator.for_index(index)


FACTORY = ExtractiveFactory()
