"""Answers that a sentence pairs off with "respectively": "Edouard van Beneden and Theodor Boveri
identified centrioles in 1883 and 1888 respectively" answers "When did Boveri …?" with 1888, the item
of one list at the place the question's item holds in the other. The span generator, which scores by
nearness, takes the wrong one as often as the right one.

English word order and stopwords, written by hand: no parser installs from PyPI with its model. The
lists are found without one: items are short runs of words between commas and "and" / "or"; where a
list starts or ends, a stopword ("in 1883", "the first freeze") or a punctuation mark bounds it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from ragcli.generation.phrases import BRACKETED_RE
from ragcli.patterns import compiled_later

MAX_ITEM_WORDS = 4  # words of one item of a list ("the endoplasmic reticulum", "particularly Ernst May")
MAX_GAP_WORDS = 12  # words between two lists "respectively" pairs ("in 1883 and 1888": 8 in the example above)

_RESPECTIVELY_RE = compiled_later(r"\brespectively\b", re.IGNORECASE)
# a sentence's units: a quotation as one, words (with their signs: "15.1%", "£773.30", "9th"), marks
_UNIT_RE = compiled_later(r"\"[^\"]{1,80}\"|“[^”]{1,80}”|[\w$£€%.'’+-]*\w[\w$£€%'’+-]*|[,;:()\[\]—–]")
_JOINERS = frozenset({"and", "or"})


class _Item(NamedTuple):
    start: int  # character offsets in the sentence
    end: int


class _Unit(NamedTuple):
    text: str
    start: int
    end: int


def respective(
    sentence: str,
    weigh: Callable[[str], float],
    stopwords: frozenset[str],
    typed: list[tuple[int, int]] | None = None,
) -> str | None:
    """The item of a "respectively" sentence that answers the question: `weigh` gives the weight of
    the question's terms a piece of text holds, which tells the question's list and its item; another
    list of as many items gives the answer at that place, where the later of the two ends right before
    "respectively" (`_paired_lists`); with `typed`, the spans of the question's kind in the sentence,
    the span in that item, and every item of that list must hold one. None where the sentence
    pairs nothing off, the question names no single item, or no other list answers it."""
    best: tuple[float, str] | None = None
    opening = 0
    for said in _RESPECTIVELY_RE.finditer(sentence):  # each clause of its own: "A and B were X and Y respectively;"
        found = _paired(sentence, opening, said.start(), weigh, stopwords, typed)
        if found is not None and (best is None or found[0] > best[0]):
            best = found
        opening = said.end()
    return best[1] if best is not None else None


def _paired(
    sentence: str,
    opening: int,
    end: int,
    weigh: Callable[[str], float],
    stopwords: frozenset[str],
    typed: list[tuple[int, int]] | None,
) -> tuple[float, str] | None:
    """(weight, answer) from the lists of the clause before one "respectively" (`end`), from the
    last semicolon before it on, and not before `opening`."""
    start = max(opening, sentence.rfind(";", 0, end) + 1)
    lists = [items for items in _lists(sentence, end, stopwords) if items[0].start >= start]
    nearest = max((items[-1].end for items in lists), default=0)  # where the list "respectively" follows ends
    named: list[tuple[float, int, list[_Item]]] = []  # (weight, place, list) of the lists naming one item
    for items in lists:
        weights = [weigh(sentence[a:b]) for a, b in items]
        if max(weights) > 0 and weights.count(max(weights)) == 1:
            named.append((max(weights), weights.index(max(weights)), items))
    for weight, place, asked in sorted(named, key=lambda found: -found[0]):  # (stable: earlier lists first)
        for items in sorted(lists, key=lambda items: -items[-1].end):  # the nearest before "respectively" first
            if len(items) == len(asked) and _paired_lists(sentence, items, asked, nearest):
                answer = _answer(sentence, items, place, typed)
                if answer and not weigh(answer):
                    return weight, answer
    return None


def _paired_lists(sentence: str, one: list[_Item], other: list[_Item], nearest: int) -> bool:
    """Whether "respectively" may pair two lists: apart, the later one right before it (ending at
    `nearest`), at most MAX_GAP_WORDS words between them ("the BNP … on Barking and Dagenham Council,
    winning …, in the North West and Yorkshire regions respectively" pairs no council with a region)."""
    first, second = (one, other) if one[-1].end <= other[0].start else (other, one)
    if first[-1].end > second[0].start or second[-1].end != nearest:
        return False
    return len(sentence[first[-1].end : second[0].start].split()) <= MAX_GAP_WORDS


def _answer(sentence: str, items: list[_Item], place: int, typed: list[tuple[int, int]] | None) -> str | None:
    """The item at `place`, or with `typed` the one span of that kind it holds or lies in ("1883 and
    1888" is one date); None where it holds none or more, or another item of the list holds none
    ("[the first observation] and identification" is no list of dates)."""
    if typed is None:
        text = sentence[items[place].start : items[place].end]
        if place == len(items) - 1 and all(" " not in sentence[a:b] for a, b in items[:-1]):
            return text.split()[0]  # a head the items share: "the 5th and [9th] best female characters"
        return text
    found: list[tuple[int, int] | None] = []
    for start, end in items:
        inside = [(a, b) for a, b in typed if start <= a and b <= end]
        covering = any(a <= start and end <= b for a, b in typed)
        found.append(inside[0] if len(inside) == 1 else (start, end) if covering and not inside else None)
    answer = found[place]
    return sentence[answer[0] : answer[1]] if answer is not None and all(found) else None


def _lists(sentence: str, end: int, stopwords: frozenset[str]) -> list[list[_Item]]:
    """Every list of two or more items before `end`, and the shorter lists that end it ("Sonora,
    [Mexico and Arizona]", where "Sonora, Mexico" may be one place)."""
    units = _units(sentence, end)
    lists: list[list[_Item]] = []
    for at, unit in enumerate(units):
        if unit.text.lower() not in _JOINERS:
            continue
        last = _leading(units, at + 1, stopwords)
        if last is None:
            continue
        items = [last]
        separator = at - 1 if at and units[at - 1].text == "," else at  # "A, B, and C"
        while True:
            words = _run_before(units, separator)
            if not words:
                break
            before = separator - 1 - len(words)
            if before >= 0 and units[before].text == "," and len(words) <= MAX_ITEM_WORDS:
                items.insert(0, _Item(words[0].start, words[-1].end))
                separator = before
                continue
            first = _trailing(words, stopwords)
            if first is not None:
                items.insert(0, first)
            break
        lists.extend(items[start:] for start in range(len(items) - 1))
    return lists


def _units(sentence: str, end: int) -> list[_Unit]:
    """The units of the sentence before `end`, parentheses left out."""
    text = sentence[:end]
    units: list[_Unit] = []
    position = 0
    for aside in [*BRACKETED_RE.finditer(text), None]:  # left out: "The endoplasmic reticulum (ER) and Golgi"
        stop = aside.start() if aside else len(text)
        units += [_Unit(m.group(), m.start(), m.end()) for m in _UNIT_RE.finditer(text, position, stop)]
        position = aside.end() if aside else len(text)
    return units


def _run_before(units: list[_Unit], separator: int) -> list[_Unit]:
    """The words right before units[separator], back to a mark or a joiner."""
    run: list[_Unit] = []
    at = separator - 1
    while at >= 0 and _word(units[at]) and units[at].text.lower() not in _JOINERS:
        run.insert(0, units[at])
        at -= 1
    return run


def _leading(units: list[_Unit], at: int, stopwords: frozenset[str]) -> _Item | None:
    """The last item of a list, from units[at]: articles and other stopwords it opens with skipped
    ("and [the last freeze]"), up to the next stopword or mark, at most MAX_ITEM_WORDS words."""
    while at < len(units) and _word(units[at]) and units[at].text.lower() in stopwords:
        at += 1
    words: list[_Unit] = []
    while at < len(units) and _word(units[at]) and units[at].text.lower() not in stopwords:
        words.append(units[at])
        at += 1
    if not words or len(words) > MAX_ITEM_WORDS:
        return None
    return _Item(words[0].start, words[-1].end)


def _trailing(words: list[_Unit], stopwords: frozenset[str]) -> _Item | None:
    """The first item of a list, the end of the words before its first separator, back to a stopword
    ("in [1883] and 1888"), at most MAX_ITEM_WORDS words."""
    kept: list[_Unit] = []
    for unit in reversed(words):
        if unit.text.lower() in stopwords or len(kept) == MAX_ITEM_WORDS:
            break
        kept.insert(0, unit)
    return _Item(kept[0].start, kept[-1].end) if kept else None


def _word(unit: _Unit) -> bool:
    return unit.text not in ",;:()[]—–"
