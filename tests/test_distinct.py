"""Each text once: a distinct search folds the copies of a passage into the best-ranked one and fills
the top k with the next distinct passages (`Index.search(distinct=True)`, `query` and `chat` by default)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import invoke
from conftest import write_files

from ragcli import answer
from ragcli.records import Hit
from ragcli.retrieval.distinct import DEEPEST, distinct_hits, fold_identical
from ragcli.retrieval.index import Index, load_index

QUEEN = "The queen lays up to two thousand eggs a day in spring, when the colony grows fastest."
OTHERS = {
    "drones.md": "Drones are male bees; a drone mates with a queen and dies.",
    "workers.md": "Workers feed the queen and the larvae, and guard the eggs of the colony.",
    "swarm.md": "A swarm leaves with the old queen when the colony has raised a new one.",
}


@pytest.fixture()
def copies_index(tmp_path: Path) -> Index:
    """The queen's sentence in four files (one as HTML: the same words), and three other passages."""
    files = {
        "queen.md": QUEEN,
        "print.html": f"<html><body><p>{QUEEN}</p></body></html>",
        "mirror/queen.md": QUEEN,
        "old/queen.txt": QUEEN.upper(),
        **OTHERS,
    }
    corpus = write_files(tmp_path / "docs", files)
    assert invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "-q").exit_code == 0
    return load_index(tmp_path / "idx")


def test_the_copies_are_folded_into_the_best_and_the_next_passages_fill_k(copies_index: Index) -> None:
    question = "how many eggs does the queen lay"
    raw = copies_index.search(question, k=4)
    assert [h.text.casefold() for h in raw] == [QUEEN.casefold()] * 4  # every copy takes a place
    hits = copies_index.search(question, k=4, distinct=True)
    assert [h.rank for h in hits] == [1, 2, 3, 4]
    assert hits[0].text == raw[0].text and hits[0].score == raw[0].score
    assert sorted(c.path for c in hits[0].copies) == sorted(h.path for h in raw[1:])
    assert {h.path for h in hits[1:]} <= set(OTHERS) and len({h.text for h in hits}) == 4
    assert all(h.copies == () for h in hits[1:])
    assert hits[0].to_dict()["copies"] == [c.citation for c in hits[0].copies]


def test_many_questions_fold_alike_and_fewer_come_back_when_fewer_are_distinct(copies_index: Index) -> None:
    questions = ["queen eggs", "drones mate", "colony"]
    many = copies_index.search_many(questions, k=3, distinct=True)
    assert [[h.to_dict() for h in hits] for hits in many] == [
        [h.to_dict() for h in copies_index.search(q, k=3, distinct=True)] for q in questions
    ]
    everything = copies_index.search("queen", k=10, distinct=True)  # 7 passages, 4 of them one text
    assert len(everything) == 4 and len(everything[0].copies) == 3


def test_a_search_looks_deeper_only_while_copies_leave_fewer_than_k() -> None:
    def hit(n: int, text: str) -> Hit:
        return Hit(n, 1.0 / n, f"p{n}", f"d{n}", "", f"f{n}.md", 1, 0, len(text), text)

    ranked = [hit(n, "one and the same text") for n in range(1, 31)] + [hit(n, f"text {n}") for n in range(31, 60)]
    asked: list[int] = []

    def fetch(depth: int) -> list[Hit]:
        asked.append(depth)
        return ranked[:depth]

    found = distinct_hits(fetch, 3)
    assert asked == [6, 12, 24] and [h.text for h in found] == ["one and the same text"]  # DEEPEST·k: stops
    assert len(found[0].copies) == 23 and DEEPEST * 3 == 24
    asked.clear()
    assert [h.id for h in distinct_hits(fetch, 2)] == ["p1"] and asked == [4, 8, 16]
    asked.clear()
    spread = [hit(n, f"text {n}") for n in range(1, 10)]
    assert [h.id for h in distinct_hits(lambda d: spread[:d], 3)] == ["p1", "p2", "p3"]


def test_query_folds_by_default_and_no_distinct_returns_every_hit(copies_index: Index) -> None:
    base = ["query", "queen eggs spring", "-i", str(copies_index.path), "--no-generate", "--json", "-k", "3"]
    folded = json.loads(invoke(*base).stdout)["hits"]
    assert len(folded) == 3 and len(folded[0]["copies"]) == 3 and len({h["text"].casefold() for h in folded}) == 3
    raw = json.loads(invoke(*base, "--no-distinct").stdout)["hits"]
    assert len({h["text"].casefold() for h in raw}) == 1 and all(h["copies"] == [] for h in raw)
    answered = json.loads(
        invoke("query", "how many eggs does the queen lay", "-i", str(copies_index.path), "--json").stdout
    )
    assert len(answered["sources"]) == 4 and answered["sources"][0]["copies"]  # k 5, 4 distinct passages
    human = invoke("query", "queen eggs spring", "-i", str(copies_index.path), "--no-generate", "--sources", "full")
    assert "(+3 identical: " in human.stdout


def test_a_text_is_cited_from_the_smallest_document_that_holds_it(tmp_path: Path) -> None:
    """A print-everything page repeats the chapters: its copy, which BM25 ranks a hair higher (the same
    words, a page whose length differs), is listed as a copy of the chapter's, which is cited in the
    group's place with the group's score."""
    chapters = {"queen": QUEEN, **{name.removesuffix(".md"): text for name, text in OTHERS.items()}}
    long = {
        n: " ".join([t, *(f"The {n} chapter goes on with note {i}." for i in range(12))]) for n, t in chapters.items()
    }
    pages = {f"{n}.html": f"<html><body><h2>{n}</h2><p>{t}</p></body></html>" for n, t in long.items()}
    sections = "".join(f"<h2>{n}</h2><p>{t}</p>" for n, t in long.items())
    corpus = write_files(tmp_path / "docs", {**pages, "all.html": f"<html><body>{sections}</body></html>"})
    assert invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "-q").exit_code == 0
    index = load_index(tmp_path / "idx")
    question = "how many eggs does the queen lay"
    raw = index.search(question, k=2)
    assert [h.path for h in raw] == ["all.html", "queen.html"] and raw[0].score > raw[1].score
    assert [index.document_passages(h) for h in raw] == [4, 1]
    cited = index.search(question, k=1, distinct=True)[0]
    assert (cited.path, cited.rank, cited.score, cited.text) == ("queen.html", 1, raw[0].score, raw[1].text)
    assert [c.path for c in cited.copies] == ["all.html"] and all(c.copies == () for c in cited.copies)
    assert [h.path for h in index.search_many([question], k=1, distinct=True)[0]] == ["queen.html"]
    answered = answer(question, index, "extractive", k=2, distinct=True)  # the Python API, as `ragcli query`
    assert [h.path for h in answered.sources] == ["queen.html", "workers.html"] and answered.citations == [1]
    assert [h.path for h in answer(question, index, "extractive", k=2).sources] == ["all.html", "queen.html"]


def test_a_copy_holding_only_part_of_the_text_is_never_cited_instead() -> None:
    """A window cut elsewhere holds most of the shorter text but not all of the longer one: the best-ranked
    hit, whose text it lacks, stays the one cited even from the bigger document."""
    whole = "ownership is a set of rules that govern how a program manages memory " + QUEEN
    best = Hit(1, 2.0, "print#3", "print", "", "print.html", 1, 0, len(whole), whole)
    part = Hit(3, 1.8, "ch4#1", "ch4", "", "ch4.html", 1, 0, len(QUEEN), QUEEN)
    same = Hit(2, 1.9, "ch4b#0", "ch4b", "", "mirror/print.html", 1, 0, len(whole), whole.upper())
    breadth = {"print.html": 40, "ch4.html": 3, "mirror/print.html": 39}
    found = distinct_hits(lambda depth: [best, same, part][:depth], 2, breadth=lambda h: breadth[h.path])
    assert [(h.path, h.score) for h in found] == [("mirror/print.html", 2.0)]
    assert [c.path for c in found[0].copies] == ["print.html", "ch4.html"]  # in rank order
    assert (
        distinct_hits(lambda depth: [best, part][:depth], 1, breadth=lambda h: breadth[h.path])[0].path == "print.html"
    )


def test_a_copy_holding_all_of_the_text_and_a_lead_in_is_cited() -> None:
    """A chapter page's first passage holds the print page's text after the page's own lead-in (mdBook's
    keyboard help): it holds all of the best-ranked text, so the chapter is cited."""
    lead_in = "Keyboard shortcuts. Press S to search in the book. Press ? to show this help. "
    best = Hit(1, 2.0, "print#93", "print", "", "print.html", 3348, 0, len(QUEEN), QUEEN)
    chapter = Hit(2, 1.9, "ch04#0", "ch04", "", "ch04.html", 50, 0, len(QUEEN) + 80, lead_in + QUEEN)
    breadth = {"print.html": 1200, "ch04.html": 12}
    found = distinct_hits(lambda depth: [best, chapter][:depth], 1, breadth=lambda h: breadth[h.path])
    assert [(h.path, h.line, h.score) for h in found] == [("ch04.html", 50, 2.0)]
    assert [c.path for c in found[0].copies] == ["print.html"]


def test_overlapping_windows_of_one_document_are_never_folded_into_each_other(tmp_path: Path) -> None:
    """A section a little over a window: its short last window shares the overlap with the first (and,
    shorter, ranks above it). Each cites its own lines, with --no-distinct or not: the one that holds the
    heading is listed at line 1, not folded into the last as near-identical."""
    fillers = [f"filler{i}" for i in range(200)]
    body = "\n".join(" ".join(fillers[i : i + 10]) for i in range(0, 200, 10))
    corpus = write_files(
        tmp_path / "docs", {"queens.md": f"# Queen rearing\n\nQueen rearing starts with grafting larvae.\n\n{body}\n"}
    )
    assert invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "-q").exit_code == 0
    for extra in ([], ["--no-distinct"]):
        shown = invoke("query", "queen rearing", "-i", str(tmp_path / "idx"), "--no-generate", "--plain", *extra)
        assert f"{corpus / 'queens.md'}:1:1: # Queen rearing" in shown.stdout and "identical" not in shown.stdout
    tail = " ".join(fillers[150:])
    windows = [
        Hit(r, 2.0 - r / 10, f"q#{r}", "q", "", "q.md", 15 + r, 0, len(tail), f"{w} {tail}")
        for r, w in enumerate(["a", "b"], 1)
    ]
    assert [(best.id, copies) for best, copies in fold_identical(windows)] == [("q#1", []), ("q#2", [])]
    # the same paragraph twice in one file (a notice in each section): apart, they are copies
    first, again = (Hit(r, 1.0, f"h#{r}", "h", "", "h.md", r * 50, r * 900, r * 900 + len(tail), tail) for r in (1, 2))
    assert [(best.id, [c.id for c in copies]) for best, copies in fold_identical([first, again])] == [("h#1", ["h#2"])]
