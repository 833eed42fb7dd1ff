"""Passage windows worked out by hand: where each window starts and ends (in words and in characters),
the documented defaults (200 words, 40 shared), the last window, segments of a streamed document
(offsets and ordinals), the title rule and the settings' errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ragcli.chunking import ChunkSettings, Section, markdown_headings_at, sections, split_document
from ragcli.errors import InvalidOptionError
from ragcli.records import Document, Passage
from ragcli.retrieval.index import load_index


def words(n: int, prefix: str = "w") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def doc(text: str, **kwargs: object) -> Document:
    return Document(id="doc", text=text, title=kwargs.pop("title", "Title"), path="doc.txt", **kwargs)  # type: ignore[arg-type]


def first_and_last_words(passages: list[Passage]) -> list[tuple[str, str, int]]:
    return [(p.text.split()[0], p.text.split()[-1], len(p.text.split())) for p in passages]


def test_default_windows_are_200_words_sharing_40() -> None:
    text = " ".join(words(450))
    passages = split_document(doc(text), ChunkSettings())
    # steps of 200 - 40 = 160 words: windows start at words 0, 160, 320; the last one reaches the end
    assert first_and_last_words(passages) == [("w0", "w199", 200), ("w160", "w359", 200), ("w320", "w449", 130)]


def test_no_window_after_the_one_that_reaches_the_end() -> None:
    text = " ".join(words(10))
    # size 6, overlap 3 (step 3): [0, 6), [3, 9), [6, 10) reaches the end; [9, 10) would be a fourth
    passages = split_document(doc(text), ChunkSettings(size=6, overlap=3))
    assert first_and_last_words(passages) == [("w0", "w5", 6), ("w3", "w8", 6), ("w6", "w9", 4)]


def test_a_text_shorter_than_one_window_is_one_passage() -> None:
    passages = split_document(doc("  alpha beta  "), ChunkSettings(size=5, overlap=1))
    assert [(p.text, p.start, p.end) for p in passages] == [("alpha beta", 2, 12)]


def test_window_offsets_are_the_first_and_last_word_characters() -> None:
    text = "aa  bb\tcc\n\ndd ee"
    passages = split_document(doc(text), ChunkSettings(size=2, overlap=1))
    # words at [0,2) [4,6) [7,9) [11,13) [14,16); windows of 2 words, step 1
    assert [(p.start, p.end) for p in passages] == [(0, 6), (4, 9), (7, 13), (11, 16)]
    assert [p.text for p in passages] == ["aa  bb", "bb\tcc", "cc\n\ndd", "dd ee"]
    assert [p.line for p in passages] == [1, 1, 1, 3]


def test_whole_documents_keep_their_stripped_span() -> None:
    text = "\n\n  first line\nsecond line \n"
    (passage,) = split_document(doc(text, line=4), ChunkSettings(size=0))
    assert (passage.start, passage.end, passage.text) == (4, 26, "first line\nsecond line")
    assert passage.line == 6  # two newlines before the text, counted from the document's line 4


def test_segments_of_a_streamed_document_keep_global_offsets_and_ordinals() -> None:
    segment = doc("one two three four", offset=1000, first_ordinal=7, line=40)
    passages = split_document(segment, ChunkSettings(size=2, overlap=0))
    assert [(p.ordinal, p.id, p.start, p.end) for p in passages] == [(7, "doc#7", 1000, 1007), (8, "doc#8", 1008, 1018)]
    assert [p.text for p in passages] == ["one two", "three four"]
    assert all((p.doc_id, p.title, p.path, p.line) == ("doc", "Title", "doc.txt", 40) for p in passages)


def test_the_title_is_repeated_unless_the_first_passage_holds_it() -> None:
    text = "Title here\n" + " ".join(words(6))
    in_text = split_document(doc(text, title_in_text=True), ChunkSettings(size=4, overlap=0))
    assert in_text[0].index_text == in_text[0].text  # the heading is already the passage's first line
    assert all(p.index_text == f"Title\n{p.text}" for p in in_text[1:])
    not_in_text = split_document(doc(text), ChunkSettings(size=4, overlap=0))
    assert all(p.index_text == f"Title\n{p.text}" for p in not_in_text)
    # a later segment of a document whose title came from its text: ordinal 0 is elsewhere
    later = split_document(doc("a b c", title_in_text=True, first_ordinal=3), ChunkSettings(size=4, overlap=0))
    assert later[0].index_text == "Title\na b c"
    untitled = split_document(doc("a b c", title=""), ChunkSettings(size=4, overlap=0))
    assert untitled[0].index_text == "a b c"


def test_lines_follow_the_passage_starts() -> None:
    text = "l1a l1b\nl2a\n\nl4a l4b\nl5a"
    passages = split_document(doc(text, line=10), ChunkSettings(size=2, overlap=0))
    assert [p.text.split()[0] for p in passages] == ["l1a", "l2a", "l4b"]
    assert [p.line for p in passages] == [10, 11, 13]


@pytest.mark.parametrize("size, overlap", [(0, 0), (1, 0), (2, 1), (0, 5)])
def test_edge_settings_are_accepted(size: int, overlap: int) -> None:
    settings = ChunkSettings(size=size, overlap=overlap)
    assert settings.to_dict() == {
        "size": size,
        "overlap": overlap,
        "unit": "words",
        "cuts": 3,
        "sections": "headings: markdown, rst, html, docx, org, asciidoc, latex, texinfo; definitions: code",
    }


def test_setting_errors_say_what_is_wrong() -> None:
    with pytest.raises(InvalidOptionError) as negative:
        ChunkSettings(size=-1, overlap=0)
    assert str(negative.value) == "--chunk-size and --chunk-overlap must be >= 0"
    with pytest.raises(InvalidOptionError):
        ChunkSettings(size=3, overlap=-1)
    with pytest.raises(InvalidOptionError) as too_big:
        ChunkSettings(size=3, overlap=4)
    assert str(too_big.value) == "--chunk-overlap (4) must be smaller than --chunk-size (3)"


def test_every_passage_of_a_page_carries_the_page_number() -> None:
    page = doc("one two three four five", page=3)
    passages = split_document(page, ChunkSettings(size=2, overlap=0))
    assert [(p.text, p.page) for p in passages] == [("one two", 3), ("three four", 3), ("five", 3)]
    assert {p.page for p in split_document(doc("no pages here"), ChunkSettings(size=2, overlap=0))} == {0}


def test_a_run_without_spaces_longer_than_100_characters_is_words_of_16_cut_after_punctuation() -> None:
    """A 47 KB comma-joined line was one passage, and the extractive "short" answer all of it."""
    assert len(split_document(doc("x" * 100 + " y"), ChunkSettings(size=1, overlap=0))) == 2  # a word still
    blob = "x" * 101  # 16 + 16 + 16 + 16 + 16 + 16 + 5 characters: seven words
    windows = split_document(doc(blob), ChunkSettings(size=3, overlap=1))
    assert [(p.start, p.end) for p in windows] == [(0, 48), (32, 80), (64, 101)]
    data = "var a=" + ",".join(f"q{i}" for i in range(30)) + ";"  # "var", then a run of 114 characters
    cut = split_document(doc(data), ChunkSettings(size=2, overlap=0))
    # each word of the run ends after the last comma of its 16 characters: "a=q0,q1,q2,q3,", "q4,…,q8,"
    assert [p.text for p in cut[:2]] == ["var a=q0,q1,q2,q3,", "q4,q5,q6,q7,q8,q9,q10,q11,q12,"]
    assert "".join(p.text for p in cut[1:]) == data[len(cut[0].text) :]  # the rest of the run, in order
    line = "var a=" + ",".join(f"q{i}" for i in range(8000)) + ";"
    passages = split_document(doc(line), ChunkSettings())
    assert all(line[p.start : p.end] == p.text and len(p.text) <= 200 * 16 for p in passages)
    assert len(passages) > 1 and passages[-1].end == len(line)


SIZES = st.sampled_from([(1, 0), (3, 1), (5, 2), (200, 40)])  # (size, overlap) the properties try
WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u205f\u3000"
RUN = "ab.é\u200b\ufeff"  # letters, punctuation, and characters that are neither word nor space


def counted_words(text: str) -> list[tuple[int, int]]:
    """The words a window counts, by the README's rule: runs without whitespace, one longer than 100
    characters cut every 16, after the last punctuation of the 16 where there is one."""
    spans = []
    for run in re.finditer(r"\S+", text):
        start, end = run.span()
        while end - run.start() > 100 and start < end:
            piece = text[start : min(start + 16, end)]
            marks = [i for i, char in enumerate(piece) if not re.match(r"\w", char)]
            spans.append((start, start + (marks[-1] + 1 if marks else len(piece))))
            start = spans[-1][1]
        if end - run.start() <= 100:
            spans.append((start, end))
    return spans


@given(
    st.lists(
        st.tuples(
            st.text(alphabet=WHITESPACE, max_size=3),
            st.text(alphabet=RUN, max_size=3) | st.text(alphabet=RUN, min_size=90, max_size=150),
        )
    ),
    SIZES,
)
def test_a_window_is_where_the_words_put_it_whatever_the_whitespace(
    pieces: list[tuple[str, str]], size_overlap: tuple[int, int]
) -> None:
    # a document of at most `size` words is one window found without locating each word (str.split
    # and str.strip): the same window as the word-by-word route, for every kind of Unicode whitespace
    text = "".join(space + word for space, word in pieces)
    settings = ChunkSettings(*size_overlap)
    spans = counted_words(text)
    step = settings.size - settings.overlap
    expected = []
    for first in range(0, len(spans), step):
        last = min(first + settings.size, len(spans))
        expected.append((spans[first][0], spans[last - 1][1]))
        if last == len(spans):
            break
    passages = split_document(doc(text), settings)
    assert [(p.start, p.end) for p in passages] == expected


def markdown(text: str, title: str = "Varroa mites") -> Document:
    return Document(id="v.md", text=text, title=title, path="v.md", metadata={"format": "markdown"})


VARROA = """# Varroa mites

The varroa mite is the most serious pest of the western honeybee.

## Monitoring

Beekeepers count mites to decide when to treat.

```bash
# not a heading: a comment in a fenced block
count-mites --board
```

## Control

- Oxalic acid, given in winter when the colony has no brood.
- Thymol, an essential oil from thyme.
"""


def markdown_sections(text: str) -> list[Section]:
    return sections(text, markdown_headings_at(text))


def test_markdown_sections_follow_the_headings_outside_fenced_code() -> None:
    sections = markdown_sections(VARROA)
    assert [s.headings for s in sections] == [
        ("Varroa mites",),
        ("Varroa mites", "Monitoring"),
        ("Varroa mites", "Control"),
    ]
    assert "".join(VARROA[s.start : s.end] for s in sections) == VARROA
    assert VARROA[sections[2].start :].startswith("## Control")
    assert markdown_sections("no heading\nat all")[0].headings == ()
    setext = "Title\n=====\nintro\n\nPart\n----\nbody\n"  # underlined headings start at their text line
    assert [(setext[s.start : s.end].split("\n")[0], s.headings) for s in markdown_sections(setext)] == [
        ("Title", ("Title",)),
        ("Part", ("Title", "Part")),
    ]
    nested = markdown_sections("# A\n### C\ntext\n## B ##\nmore\n")
    assert [s.headings for s in nested] == [("A",), ("A", "C"), ("A", "B")]  # "## B ##": the closing #s go


def test_a_markdown_passage_never_runs_into_the_next_section_and_names_the_headings_above_it() -> None:
    passages = split_document(markdown(VARROA), ChunkSettings(size=30, overlap=5))
    assert [p.text.splitlines()[0] for p in passages] == ["# Varroa mites", "## Monitoring", "## Control"]
    for passage in passages:
        assert VARROA[passage.start : passage.end] == passage.text
    control = passages[2]
    assert control.index_text == "Varroa mites\n" + control.text  # the title (its heading is the title)
    assert control.line == VARROA[: control.start].count("\n") + 1
    # sections that fit one window share it; a long one is windowed alone, each window under its heading
    packed = split_document(markdown(VARROA), ChunkSettings(size=200, overlap=40))
    assert len(packed) == 1 and packed[0].text == VARROA.strip()
    long = "# Guide\n\n## Setup\n\n" + " ".join(f"w{i}" for i in range(50)) + "\n\n## Use\n\nrun it\n"
    windows = split_document(markdown(long, title="Guide"), ChunkSettings(size=20, overlap=0))
    # "# Guide" alone is too short a passage: it opens the first window of "Setup"
    assert [p.text.split()[0] for p in windows] == ["#", "w16", "w36", "##"]
    assert windows[0].text.startswith("# Guide\n\n## Setup")
    assert windows[1].index_text.startswith("Guide\nSetup\nw16")  # a window inside "Setup" is indexed with it
    assert all(len(p.text.split()) <= 20 for p in windows)


def test_a_plain_text_is_not_cut_at_lines_that_look_like_markdown_headings() -> None:
    plain = Document(id="n.txt", text=VARROA, title="n", path="n.txt", metadata={"format": "text"})
    assert len(split_document(plain, ChunkSettings(size=200, overlap=40))) == 1
    assert [p.text for p in split_document(plain, ChunkSettings(size=30, overlap=5))] != [
        p.text for p in split_document(markdown(VARROA), ChunkSettings(size=30, overlap=5))
    ]
    whole = split_document(markdown(VARROA), ChunkSettings(size=0, overlap=0))  # size 0: whole documents
    assert len(whole) == 1


def assert_exact_slices_covering_every_word(text: str, passages: list[Passage], settings: ChunkSettings) -> None:
    """Each passage is its exact slice of the text, stripped, within the window size; together they
    hold every word."""
    covered = set()
    for passage in passages:
        assert text[passage.start : passage.end] == passage.text and passage.text.strip() == passage.text
        assert len(passage.text.split()) <= settings.size
        covered.update(m.start() for m in re.finditer(r"\S+", text) if passage.start <= m.start() < passage.end)
    assert covered == {m.start() for m in re.finditer(r"\S+", text)}


@given(
    st.lists(
        st.tuples(st.sampled_from(["", "# H1\n", "## H2\n", "### H3\n", "```\n", "\n"]), st.text("ab \n", max_size=30))
    ),
    SIZES,
)
def test_markdown_passages_are_exact_slices_that_cover_every_word(
    pieces: list[tuple[str, str]], size_overlap: tuple[int, int]
) -> None:
    text = "".join(marker + body for marker, body in pieces)
    settings = ChunkSettings(*size_overlap)
    passages = split_document(markdown(text, title=""), settings)
    assert_exact_slices_covering_every_word(text, passages, settings)


PAGE = "Guide\n\nInstall\n\n" + " ".join(words(12, "i")) + "\n\nUse\n\n" + " ".join(words(12, "u")) + "\n"


def test_a_document_is_cut_at_the_headings_its_reader_found() -> None:
    """HTML's h1-h6 and Word's Heading styles arrive as `Document.headings`: cut like Markdown's."""
    headings = ((0, 1, "Guide"), (PAGE.index("Install"), 2, "Install"), (PAGE.index("Use"), 2, "Use"))
    page = Document(id="g.html", text=PAGE, title="Guide - Docs", path="g.html", headings=headings)
    passages = split_document(page, ChunkSettings(size=14, overlap=2))
    # "Guide" is a short lead-in: it opens Install's passage; "Use" starts a passage of its own
    assert [p.text.split()[:2] for p in passages] == [["Guide", "Install"], ["Use", "u0"]]
    assert passages[1].index_text.startswith("Guide - Docs\nGuide\nUse\n\nu0")  # the heading above it
    whole = split_document(page, ChunkSettings(size=200, overlap=40))  # sections that fit share a passage
    assert [p.text for p in whole] == [PAGE.strip()]
    none = Document(id="n.html", text=PAGE, title="n", path="n.html", headings=())  # windows across them
    assert [p.text.split()[0] for p in split_document(none, ChunkSettings(size=14, overlap=2))] == [
        "Guide",
        "i10",
        "u9",
    ]


@given(st.text("ab \n", max_size=120), st.lists(st.integers(0, 120), max_size=8), SIZES)
def test_passages_cut_at_any_headings_are_exact_slices_that_cover_every_word(
    text: str, offsets: list[int], size_overlap: tuple[int, int]
) -> None:
    headings = tuple((offset, 1 + offset % 3, "h") for offset in sorted({min(o, len(text)) for o in offsets}))
    settings = ChunkSettings(*size_overlap)
    passages = split_document(Document(id="d", text=text, title="", path="d", headings=headings), settings)
    assert_exact_slices_covering_every_word(text, passages, settings)


def test_a_question_that_names_a_section_finds_it(sample_index: Path) -> None:
    """sample_corpus/beekeeping/varroa.md: the treatments under "## Control" were split between two
    windows, the first one mostly about the mite's spread, and ranked third."""
    hits = load_index(sample_index).search("How do beekeepers control varroa mites?", k=3)
    assert hits[0].path == "beekeeping/varroa.md" and hits[0].text.startswith("## Control")
