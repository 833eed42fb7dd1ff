"""Documents → passages: overlapping windows of words that keep their place in the source.

A passage is the unit of retrieval and of a generator's context, so it must be short enough to fit a
prompt and still carry its citation: each keeps its document id, title, character offsets into the
document text (`text[start:end]` is the passage, exactly), the source line it starts on and its page
(a paged source yields one document segment per page, so a passage never straddles two pages).

A document with headings is cut at them first: Markdown's (ATX or setext, outside fenced code, found
here), and those a reader hands over in `Document.headings` (HTML's h1-h6, Word's Heading styles, the
definitions of source code: `readers.definitions`). A
window never runs from the end of one section into the next, short sections in a row share a passage
while they fit, and a long one is windowed on its own. Each passage is indexed with the headings above
it that its text lacks (the title "Varroa mites" for a list of treatments under "## Control"), so a
question that names the section finds it. This is what LangChain's MarkdownHeaderTextSplitter /
HTMLHeaderTextSplitter and LlamaIndex's MarkdownNodeParser do; it is written here because ragcli's
passages must keep exact offsets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ragcli.errors import InvalidOptionError
from ragcli.markdown import markdown_headings
from ragcli.records import Document, Heading, Passage

_WORD_RE = re.compile(r"\S+")
# A run of characters without whitespace longer than this is no word of prose (SciFact's longest, a
# chemical name, has 80; a long URL fits too) but data: a comma-joined list, minified JSON, base64. It is
# counted as words of at most PIECE_CHARS characters, each cut after its last punctuation mark, so that a
# window of it holds about the characters a window of prose does, not the whole 47 KB line.
MAX_WORD_CHARS = 100
PIECE_CHARS = 16
_PIECE_RE = re.compile(rf"\S{{0,{PIECE_CHARS - 1}}}[^\w\s]|\S{{1,{PIECE_CHARS}}}")


MAX_CHUNK_WORDS = 1_000_000  # a passage's words at most: a book's worth
# how the same settings cut passages, recorded so that a re-index cuts every file again when it changes
# (2: in code, only a definition's own parents open its first window; 3: a run longer than MAX_WORD_CHARS
# is several words)
CUTS_VERSION = 3


@dataclass(frozen=True)
class ChunkSettings:
    """Passage size and overlap in words; size 0 keeps every document whole."""

    size: int = 200
    overlap: int = 40

    def __post_init__(self) -> None:
        if self.size < 0 or self.overlap < 0:
            raise InvalidOptionError("--chunk-size and --chunk-overlap must be >= 0")
        if max(self.size, self.overlap) > MAX_CHUNK_WORDS:  # 2**63 overflowed str.split; an index keeps it
            raise InvalidOptionError(
                f"--chunk-size and --chunk-overlap must be at most {MAX_CHUNK_WORDS:,} words",
                hint="--chunk-size 0 keeps every document whole",
            )
        if self.size and self.overlap >= self.size:
            raise InvalidOptionError(
                f"--chunk-overlap ({self.overlap}) must be smaller than --chunk-size ({self.size})"
            )

    def to_dict(self) -> dict[str, int | str]:
        return {
            "size": self.size,
            "overlap": self.overlap,
            "unit": "words",
            "cuts": CUTS_VERSION,
            "sections": "headings: markdown, rst, html, docx, org, asciidoc, latex, texinfo; definitions: code",
        }


def _word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word a window counts: a run without whitespace, or a piece of a run longer
    than MAX_WORD_CHARS."""
    spans = []
    for word in _WORD_RE.finditer(text):
        if word.end() - word.start() <= MAX_WORD_CHARS:
            spans.append(word.span())
        else:
            spans.extend(piece.span() for piece in _PIECE_RE.finditer(text, word.start(), word.end()))
    return spans


def _word_count(words: list[str]) -> int:
    """How many words a window counts in these runs without whitespace (`_word_spans`)."""
    if max(map(len, words), default=0) <= MAX_WORD_CHARS:  # prose: no run to cut, at C speed
        return len(words)
    return sum(1 if len(word) <= MAX_WORD_CHARS else len(_PIECE_RE.findall(word)) for word in words)


def _window_spans(text: str, settings: ChunkSettings) -> Iterator[tuple[int, int]]:
    # size 0, or no more words than a window holds: one window, and no word's place is needed
    runs = text.split(None, settings.size) if settings.size else []  # its last the rest, past a window's
    if settings.size == 0 or (len(runs) <= settings.size and _word_count(runs) <= settings.size):
        stripped = text.lstrip()  # str.split, str.strip and the regex's \s agree on what is whitespace
        if stripped:
            yield len(text) - len(stripped), len(text.rstrip())
        return
    words = _word_spans(text)  # ~37 us for 100 words: only where windows are cut
    step = settings.size - settings.overlap
    for first in range(0, len(words), step):
        last = min(first + settings.size, len(words))
        yield words[first][0], words[last - 1][1]
        if last == len(words):
            break


# A word broken at a line end by a typesetter's hyphen (a hyphen-minus, U+2010, or a soft hyphen that a PDF
# kept): letters, the hyphen, the line break, letters opening the next line. Digits either side ("2019-" /
# "2020") are a range, not a broken word.
_LINE_END_HYPHEN_RE = re.compile(r"(?<!\w)([^\W\d_]+)[-\u2010\u00ad][ \t]*\n[ \t]*([^\W\d_]+)")


def rejoined_words(text: str) -> list[tuple[int, str]]:
    """(offset of the hyphen, the word joined) of each word of a typeset text broken by a hyphen at a
    line end whose next line opens with a lowercase letter: "infor-" / "mation" gives "information".

    Which line-end hyphens a typesetter added and which belong to the word ("well-" / "known") cannot be
    told apart without a dictionary of the language, so the joined word is indexed beside the text, whose
    halves the analyzer splits at the hyphen as before: "information" becomes findable and "well-known"
    is still found by "well" and "known" (the stray "wellknown" beside them matches only itself). A capital
    after the break ("Anglo-" / "Saxon", a name) is taken for a compound and joins nothing: a hyphenated
    word goes on in lowercase. The text shown and cited is left as printed, so offsets, pages and lines
    stay the page's."""
    return [
        (match.end(1), match.group(1) + match.group(2))
        for match in _LINE_END_HYPHEN_RE.finditer(text)
        if match.group(2)[0].islower()
    ]


MARKDOWN = "markdown"  # the format (reader name) whose headings the chunker finds itself
CODE = "code"  # the format (reader name) whose sections, its definitions, are packed less


@dataclass(frozen=True)
class Section:
    """A stretch of a document's text from one heading to the next, `text[start:end]`."""

    start: int
    end: int
    headings: tuple[str, ...]  # the section's own heading last, the ones above it before


def markdown_headings_at(text: str) -> list[Heading]:
    """(offset, level, heading) of each heading of a Markdown text (ATX or setext, outside fenced code:
    `ragcli.markdown`)."""
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return [(offsets[number], level, heading) for number, level, heading in markdown_headings(text.splitlines())]


def sections(text: str, headings: Sequence[Heading]) -> list[Section]:
    """The sections of a text cut at its `headings` (in order), covering it: each from a heading to the
    next; the text before the first heading is a section without headings."""
    found: list[Section] = []
    stack: list[tuple[int, str]] = []  # (level, heading) of the headings above the current one
    start = 0
    for offset, level, heading in headings:
        if offset > start:
            found.append(Section(start, offset, tuple(h for _, h in stack)))
        stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, heading)]
        start = max(start, offset)
    found.append(Section(start, len(text), tuple(h for _, h in stack)))
    return found


def _headings(document: Document) -> Sequence[Heading]:
    """Where a document is cut first: the headings its reader found, else a Markdown text's own."""
    if document.headings is not None:
        return document.headings
    return markdown_headings_at(document.text) if document.metadata.get("format") == MARKDOWN else ()


def _leads_into(group: list[Section], section: Section, code: bool) -> bool:
    """Whether a group of short sections may open `section`'s first window: a heading with a line or two
    of prose may; in code only the definitions that hold it (a class's header before its first method),
    never other functions, so that the passage of a definition opens at its own line."""
    return not code or all(s.headings and section.headings[: len(s.headings)] == s.headings for s in group)


def _section_spans(
    text: str, headings: Sequence[Heading], settings: ChunkSettings, code: bool
) -> Iterator[tuple[int, int, tuple[str, ...]]]:
    """(start, end, headings) of each passage of a text cut at its headings: sections in a row packed
    while their words fit a window (code: half a window), a longer section windowed alone. A short lead-in
    (at most a quarter of a window: `_leads_into`) opens the next section's first window rather than a
    passage of its own. Each window is indexed with the headings of the section it starts in."""
    # a passage of code holds one definition, or a few short ones, so that it opens at the one asked
    # about (`bench/code_sections.py`); prose sections pack up to a window
    pack = settings.size // 2 if code else settings.size
    group: list[Section] = []
    words = 0
    for section in [*sections(text, headings), None]:
        size = _word_count(text[section.start : section.end].split()) if section is not None else 0
        overflows = section is None or words + size > pack
        leads = section is not None and words <= settings.size // 4 and _leads_into(group, section, code)
        if group and overflows and not leads:
            first, last = group[0].start, group[-1].end
            for start, end in _window_spans(text[first:last], settings):
                within = next(s for s in reversed(group) if s.start <= first + start)
                yield first + start, first + end, within.headings
            group, words = [], 0
        if section is not None:
            group.append(section)
            words += size


def split_document(document: Document, settings: ChunkSettings) -> list[Passage]:
    """The passages of one document, in order."""
    passages = []
    previous: tuple[int, int] | None = None
    cuts = _headings(document) if settings.size else ()
    spans = (
        _section_spans(document.text, cuts, settings, document.metadata.get("format") == CODE)
        if cuts
        else ((start, end, ()) for start, end in _window_spans(document.text, settings))
    )
    joined = rejoined_words(document.text) if document.typeset_lines else []
    for number, (start, end, above) in enumerate(spans):
        line = document.line_at(start, previous)
        previous = (start, line)
        text = document.text[start:end]
        ordinal = document.first_ordinal + number
        needs_title = document.title and not (document.title_in_text and ordinal == 0)
        lacking = [h for h in above if h not in text and h.casefold() != document.title.casefold()]
        # a broken word is indexed with each passage that holds its hyphen, also one that ends there
        whole = [word for at, word in joined if start <= at < end]
        index_text = "\n".join([*([document.title] if needs_title else []), *lacking, text, *whole])
        passages.append(
            Passage(
                document.id,
                ordinal,
                document.title,
                document.path,
                line,
                document.offset + start,
                document.offset + end,
                text,
                index_text,
                document.page,
            )
        )
    return passages
