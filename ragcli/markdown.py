"""Markdown headings, found by hand: a few lines of CommonMark's rules (ATX `#` headings, setext
headings underlined with `===` or `---`, and ``` / ~~~ fences, inside which a `# comment` is code). A
full Markdown parser would cost more than what uses this needs: a document's title (readers.markup) and
the sections the chunker cuts a Markdown document into (chunking).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*")
_NOT_PARAGRAPH = re.compile(r"    |\t| {0,3}(?:[-*+>]|\d{1,9}[.)])(?:[ \t]|$)|\s*<")  # code, list, quote, HTML


def markdown_headings(lines: list[str]) -> Iterator[tuple[int, int, str]]:
    """(line, level, text) of each ATX or setext heading outside fenced code blocks, in order; `line`
    is the index in `lines` where the heading starts (a setext heading's text line, above its
    underline). A setext heading is taken only when its text is a one-line paragraph (a conservative
    reading of CommonMark)."""
    fence: str | None = None  # the open fence's marker (``` or ~~~, as long as it was written)
    paragraph = ""  # the line before, if it starts a paragraph (after a blank line, a heading, a fence)
    fresh = True  # the line before was blank (or a heading, a fence, the start)
    for number, raw in enumerate(lines):
        line = raw.rstrip("\r")
        opening = _FENCE.fullmatch(line)
        if fence is not None:  # inside fenced code: only a plain closing fence as long as the opening ends it
            closes = opening is not None and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence)
            if closes and opening is not None and not opening.group(2).strip():
                fence = None
            paragraph, fresh = "", True
            continue
        if opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence, paragraph, fresh = opening.group(1), "", True
            continue
        atx = _ATX.fullmatch(line)
        setext = _SETEXT.fullmatch(line)
        if atx or (setext and paragraph):
            if atx and atx.group(2) and atx.group(2).strip():
                yield number, len(atx.group(1)), atx.group(2).strip()
            elif setext and not atx:
                yield number - 1, (1 if setext.group(1)[0] == "=" else 2), paragraph.strip()
            paragraph, fresh = "", True
            continue
        if not line.strip():
            paragraph, fresh = "", True
            continue
        starts = fresh and not _NOT_PARAGRAPH.match(line)
        paragraph, fresh = (line if starts else ""), False
