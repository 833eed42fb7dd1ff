"""The same text once: passages that several files hold (a page's `.md` and `.html`, a documentation
site's chapter and its print-everything page, a copied README) folded into the best-ranked one.

Two uses. The display folds what a search returned ("(+1 identical: print.html:11024)"). A search with
`distinct` (what `ragcli query` and `chat` run) folds them before the top k is cut, looking deeper for
as long as copies take places: k distinct passages, each holding its copies, so a generator's context
is not spent on one passage twice. In the Rust book's HTML, 16 of the top-5 places of ten questions
were copies (the print page repeats every chapter).

A distinct search cites the copy from the smallest document (`cited_copy`): the chapter's page, not the
print-everything page that repeats it and that BM25 happens to rank a hair higher.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from ragcli.records import Hit

NEAR_IDENTICAL = 0.8  # share of 4-word runs two passages have in common to count as the same text
DEEPEST = 8  # a distinct search looks at most this many times k passages deep for k distinct ones


def _words(text: str) -> list[str]:
    """A passage's words with case, punctuation and spacing left out: a page's `.md` and `.html` copies
    (markup gone) compare equal."""
    return re.findall(r"\w+", text.casefold())


def same_words(a: str, b: str) -> bool:
    """Whether two texts hold the same words (case, punctuation and spacing aside)."""
    return _words(a) == _words(b)


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + 4]) for i in range(max(1, len(words) - 3))}


def _overlap(hit: Hit, other: Hit) -> bool:
    """Two windows of one document's text that share characters (windows overlap by `--chunk-overlap`)."""
    return hit.doc_id == other.doc_id and hit.page == other.page and hit.start < other.end and other.start < hit.end


def fold_identical(hits: list[Hit]) -> list[tuple[Hit, list[Hit]]]:
    """Each distinct passage once, best first, with the hits of the same text lower in the ranking
    folded into it (after the copies a distinct search already folded into it). The same text: the
    same words, or (a page's copies split at other places, as npm's `.md` and `.html` docs) at least
    80% of the shorter one's 4-word runs in common; never a window overlapping one of the group's (the same
    words twice in one file, as a disclaimer in each section, are copies)."""
    groups: list[tuple[Hit, list[Hit], list[str], set[tuple[str, ...]]]] = []
    for hit in hits:
        words = _words(hit.text)
        runs = _shingles(words)
        for best, copies, best_words, best_runs in groups:
            if any(_overlap(hit, other) for other in (best, *copies)):
                continue  # overlapping windows of one document are not copies: each cites its own lines
            shared = len(runs & best_runs) / max(1, min(len(runs), len(best_runs)))
            if words and (words == best_words or shared >= NEAR_IDENTICAL):
                copies.append(hit)
                break
        else:
            groups.append((hit, list(hit.copies), words, runs))
    return [(best, copies) for best, copies, _, _ in groups]


def first_depth(k: int) -> int:
    """How deep a distinct search for k passages ranks first: twice k."""
    return 2 * k


def holds(copy: Hit, best: Hit) -> bool:
    """Whether `copy` holds (nearly) all of `best`'s text, so that it may stand for both: the same words,
    or 80% of `best`'s 4-word runs (a chapter's passage may add the page's own lead-in). Folded copies
    need only share most of the shorter one's runs: a window cut elsewhere in a longer page, holding
    part of the text, is kept as a copy, never cited instead."""
    words_best, words_copy = _words(best.text), _words(copy.text)
    if words_best == words_copy:
        return True
    runs_best = _shingles(words_best)
    return len(runs_best & _shingles(words_copy)) >= NEAR_IDENTICAL * max(len(runs_best), 1)


def cited_copy(best: Hit, copies: list[Hit], breadth: Callable[[Hit], int] | None) -> Hit:
    """The hit a group of copies is cited by, holding the others as its copies: of the copies that
    hold the best-ranked hit's text (`holds`), the one whose document holds the fewest
    passages (`breadth`; 0: unknown), the best-ranked among equals. It takes the group's place and
    score (the best-ranked copy's), so the ranking stays in score order."""
    group = [best, *copies]
    chosen = 0
    if copies and breadth is not None:
        candidates = [i for i, hit in enumerate(group) if i == 0 or holds(hit, best)]
        chosen = min(candidates, key=lambda i: (breadth(group[i]), i))
    others = tuple(replace(hit, copies=()) for i, hit in enumerate(group) if i != chosen)
    return replace(group[chosen], score=best.score, copies=others)


def distinct_hits(
    fetch: Callable[[int], list[Hit]],
    k: int,
    first: list[Hit] | None = None,
    breadth: Callable[[Hit], int] | None = None,
) -> list[Hit]:
    """The k best distinct passages, ranked 1 to k, each with its copies: `fetch(depth)` ranks `depth`
    passages; it is asked `first_depth(k)` deep, then twice as deep while copies leave fewer than k and
    more passages may follow, DEEPEST·k at most (`first`: what fetch(first_depth(k)) gave, when known).
    Each group is cited by `cited_copy` (`breadth`: how many passages a hit's document holds)."""
    depth = first_depth(k)
    hits = first if first is not None else fetch(depth)
    groups = fold_identical(hits)
    while len(groups) < k and len(hits) >= depth and depth < DEEPEST * k:
        depth = min(2 * depth, DEEPEST * k)
        hits = fetch(depth)
        groups = fold_identical(hits)
    return [replace(cited_copy(best, copies, breadth), rank=rank) for rank, (best, copies) in enumerate(groups[:k], 1)]
