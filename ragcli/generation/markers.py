"""Closed-class words that tell a phrase's role in a sentence, per analyzer language: the preposition
that introduces the agent of a passive ("written by", "escrita por", "von den Römern gegründet") and the
shape of the participle it goes with, and the prepositions a place follows ("born in Frankfurt", "né
à Besançon"). The extractive generator (`extractive.py`) prefers such phrases for "who did" and
"where" questions.

Hand-written lists and endings: no part-of-speech tagger installs from PyPI with its models.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# the preposition that introduces the agent of a passive
_AGENT = {
    "en": ("by",),
    "fr": ("par",),
    "es": ("por",),
    "pt": ("por", "pelo", "pela", "pelos", "pelas"),
    "it": ("da", "dal", "dallo", "dalla", "dai", "dagli", "dalle"),
    "de": ("von", "vom"),
    "nl": ("door",),
    "sv": ("av",),
    "no": ("av",),
    "da": ("af",),
}
# past participles by their shape (regular endings and common irregular stems): a marker introduces an
# agent only next to one ("escrita por Cervantes", not "por ejemplo"). English has none here: there the
# question's own verb must stand before "by"
_PARTICIPLE = {
    "fr": r"\w+(?:é|i|u|it|int|is)e?s?|née?s?",
    "es": r"\w+(?:ad|id)[oa]s?|(?:escrit|hech|dich|puest|vist|abiert|descubiert|compuest|impres)[oa]s?",
    "pt": r"\w+(?:ad|id)[oa]s?|(?:escrit|feit|dit|post|vist|abert|descobert|compost|impress)[oa]s?",
    "it": r"\w+(?:at|it|ut)[oaie]|(?:scritt|fatt|dipint|dett|mess|pres|scopert|apert|compost)[oaie]",
    "de": r"ge\w{3,}(?:t|en)",
    "nl": r"ge\w{3,}(?:d|t|en)",
    "sv": r"\w+(?:ad|t|en)e?s?",
    "no": r"\w+(?:et|t|en)e?",
    "da": r"\w+(?:et|t|en)e?",
}
# languages whose participle ends the clause, after the agent ("von den Römern im Jahr 50 gegründet"),
# and opens with "ge-", which their stemmers keep ("gegründet" → "gegrund", "gründete" → "grund")
_PARTICIPLE_LAST = frozenset({"de", "nl"})
_GE_PARTICIPLE_RE = re.compile(r"\bge\w{4,}", re.IGNORECASE)
# the prepositions a place follows
_PLACE = {
    "en": ("in", "at", "from", "near", "into"),
    "fr": ("à", "au", "aux", "en", "dans"),
    "es": ("en", "desde"),
    "pt": ("em", "no", "na", "nos", "nas"),
    "it": ("a", "in", "nel", "nella", "nei", "nelle", "al", "alla", "presso"),
    "de": ("in", "im", "am", "bei", "nach", "aus"),
    "nl": ("in", "te", "bij", "uit"),
    "sv": ("i", "på"),
    "no": ("i", "på"),
    "da": ("i", "på"),
    "ru": ("в", "во", "на"),
}


@dataclass(frozen=True)
class Markers:
    """The role-marking words of one language (empty where ragcli knows none)."""

    agent: frozenset[str]
    place: frozenset[str]
    participle: re.Pattern[str] | None
    participle_last: bool  # the participle follows its agent, at the clause's end

    @classmethod
    def for_language(cls, language: str) -> Markers:
        pattern = _PARTICIPLE.get(language)
        return cls(
            agent=frozenset(_AGENT.get(language, ())),
            place=frozenset(_PLACE.get(language, ())),
            participle=re.compile(pattern) if pattern else None,
            participle_last=language in _PARTICIPLE_LAST,
        )

    def is_participle(self, word: str) -> bool:
        return self.participle is not None and bool(self.participle.fullmatch(word.lower()))

    def participle_terms(self, text: str, analyze: Callable[[str], list[str]]) -> list[str]:
        """The terms of the text's "ge-" participles without their prefix, so that "gegründet" shares
        a term with "Wer gründete …?" and "geschrieben" with "Wer schrieb …?" (German, Dutch)."""
        if not self.participle_last:
            return []
        return [term for word in _GE_PARTICIPLE_RE.findall(text) for term in analyze(word[2:])]
