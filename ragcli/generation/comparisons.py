"""Answers to comparison questions: "Is carbon monoxide more or less dense than air?" → "slightly less
dense" (the degree a sentence gives), and "Which are longer, professional or amateur bouts?" →
"professional" (the option a sentence puts before "than"). The span generator scores by nearness and
answers them with a word beside the comparative ("slightly", "usually much").

English word order, written by hand: no parser installs from PyPI with its model. A comparison is
found by its "than"; what stands before it in its clause is the side that has more of the quality.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ragcli.patterns import compiled_later

_COMPARATIVE = r"(?!(?:rather|other|either|whether)\b)(?:more|less|fewer|[a-z]{2,}er)"  # not "rather than"
# "more or less dense than", "larger or smaller than", "higher or lower than"
_DEGREE_QUESTION_RE = compiled_later(
    rf"\b(?P<a>{_COMPARATIVE})\s+or\s+(?P<b>{_COMPARATIVE})\s+(?:(?P<quality>[a-z]+)\s+)?than\b", re.IGNORECASE
)
# "Which are longer, professional or amateur bouts?", "Who was more reserved, Coolidge or Harding?"
_CHOICE_QUESTION_RE = compiled_later(
    rf"^\W*(?:which|who|what)\b[^,?]*?\b(?P<cmp>(?:more|less)\s+[a-z]+|{_COMPARATIVE})\b[^,?]*,\s*"
    r"(?P<a>[^?]+?),?\s+or\s+(?P<b>[^?]+?)\s*\?*\s*$",
    re.IGNORECASE,
)
_ADVERB = (
    r"much|far|significantly|slightly|considerably|substantially|somewhat|generally|usually|often|even|still"
    r"|notably|markedly|[a-z]+ly"
)
_THAN_RE = compiled_later(rf"\b(?P<cmp>(?:more|less)\s+[a-z]+|{_COMPARATIVE})\s+than\b", re.IGNORECASE)
_CLAUSE_BREAK_RE = compiled_later(r"[;:()]|,\s+(?:and|but|which|while|whereas|although)\b|\s[–—]\s")
_LESS = frozenset({"less", "fewer"})


@dataclass(frozen=True)
class Comparison:
    """A comparison question, read once: "more or less … than?" (`degree`) or "Which …, A or B?" (`choice`)."""

    degree: re.Match[str] | None
    choice: re.Match[str] | None

    def answer(self, sentence: str, terms: Callable[[str], set[str]]) -> str | None:
        """The answer a sentence gives (None when it compares nothing the question asks about): the degree
        for "more or less …than?", the option for "Which …, A or B?". `terms` gives a text's index terms,
        to find the options in the sentence."""
        if self.degree:
            return _degree(sentence, self.degree)
        return _option(sentence, self.choice, terms) if self.choice else None


def comparison(question: str) -> Comparison | None:
    """The comparison a question asks for, or None when it asks none this module answers."""
    degree = _DEGREE_QUESTION_RE.search(question)
    choice = None if degree else _CHOICE_QUESTION_RE.match(question)
    return Comparison(degree, choice) if degree or choice else None


def _degree(sentence: str, asked: re.Match[str]) -> str | None:
    """The comparative of the two the question offers that the sentence uses, with the adverb before it
    and the quality after it: "[slightly less dense] than air", "[much lower] than that of …"."""
    words = "|".join(re.escape(asked.group(side)) for side in ("a", "b"))
    quality = rf"(?:\s+{re.escape(asked.group('quality'))})?" if asked.group("quality") else r"(?:\s+[a-z]+ly)?"
    said = re.search(  # a negation stays with it: "[no longer] than one day"
        rf"\b(?:(?:not|no)\s+)?(?:(?:{_ADVERB})\s+)?(?:{words}){quality}(?=\s+than\b)", sentence, re.IGNORECASE
    )
    return said.group() if said else None


def _option(sentence: str, asked: re.Match[str], terms: Callable[[str], set[str]]) -> str | None:
    """The option of "A or B" that a sentence puts before its "than", the other after it; the other one
    where the sentence says "less" and the question "more" or "-er"."""
    options = [asked.group("a").strip(), asked.group("b").strip()]
    a, b = terms(options[0]), terms(options[1])
    wanted = [a - b, b - a]  # what tells them apart: "[hash] search" and "[binary] search"
    if not all(wanted):
        return None
    for than in _THAN_RE.finditer(sentence):
        start = max((m.end() for m in _CLAUSE_BREAK_RE.finditer(sentence, 0, than.start())), default=0)
        breaks = _CLAUSE_BREAK_RE.search(sentence, than.end())
        left = terms(sentence[start : than.start()])
        right = terms(sentence[than.end() : breaks.start() if breaks else len(sentence)])
        told = [option - (left & right) for option in wanted]  # "professional or amateur [bouts]"
        if not all(told):
            continue
        first = [_held(option, left) and not _held(option, right) for option in told]
        second = [_held(option, right) and not _held(option, left) for option in told]
        if not (first[0] and second[1]) and not (first[1] and second[0]):
            continue  # not these two compared: "Mars is larger than the Moon" for "Mars or Venus?"
        winner = 0 if first[0] else 1
        flipped = (than.group("cmp").split()[0].lower() in _LESS) != (asked.group("cmp").split()[0].lower() in _LESS)
        return options[1 - winner if flipped else winner]
    return None


def _held(option: set[str], said: set[str]) -> bool:
    """Whether a side of the comparison names an option: half its terms or more ("professional [bouts]")."""
    return 2 * len(option & said) >= len(option)
