"""Markup: Markdown and reStructuredText (titled by their heading) and HTML (visible text only)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

from ragcli.readers.base import SourceInput, SuffixReader
from ragcli.readers.text import read_text_document
from ragcli.records import Document


def markdown_title(text: str) -> str | None:
    match = re.search(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


def rst_title(text: str) -> str | None:
    lines = text.splitlines()
    for i in range(len(lines) - 1):
        title, underline = lines[i].strip(), lines[i + 1].strip()
        if title and len(underline) >= len(title) and re.fullmatch(r"([=\-~^#*+])\1+", underline):
            return title
    return None


class MarkdownReader(SuffixReader):
    name = "markdown"
    suffixes = frozenset({".md", ".markdown"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        return read_text_document(source, markdown_title)


class RstReader(SuffixReader):
    name = "rst"
    suffixes = frozenset({".rst"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        return read_text_document(source, rst_title)


class _HTMLText(HTMLParser):
    """Visible text of an HTML page, with the source line of each piece (for citations)."""

    SKIP = frozenset({"script", "style", "noscript", "template", "head", "svg"})
    BLOCK = frozenset(
        {
            "p",
            "div",
            "br",
            "li",
            "ul",
            "ol",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "tr",
            "table",
            "section",
            "article",
            "header",
            "footer",
            "pre",
            "blockquote",
            "dd",
            "dt",
            "hr",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.line_map: list[tuple[int, int]] = []
        self.length = 0
        self.skip_depth = 0
        self.title: str | None = None
        self.h1: str | None = None
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP and tag != "head":
            self.skip_depth += 1
        if tag in ("title", "h1"):
            self._in = tag
        if tag in self.BLOCK:
            self._append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and tag != "head" and self.skip_depth:
            self.skip_depth -= 1
        if tag == self._in:
            self._in = None
        if tag in self.BLOCK:
            self._append("\n")

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title = (self.title or "") + data.strip()
            return
        if self.skip_depth:
            return
        if self._in == "h1" and data.strip():
            self.h1 = (self.h1 or "") + data.strip()
        self._append(data)

    def _append(self, text: str) -> None:
        if not text:
            return
        self.line_map.append((self.length, self.getpos()[0]))
        self.parts.append(text)
        self.length += len(text)


class HtmlReader(SuffixReader):
    name = "html"
    suffixes = frozenset({".html", ".htm", ".xhtml"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        parser = _HTMLText()
        parser.feed(source.read_text())
        parser.close()
        body = "".join(parser.parts)
        title = parser.title or parser.h1 or source.stem
        yield Document(source.rel, body, title, source.rel, line_map=parser.line_map)


MARKDOWN = MarkdownReader()
RST = RstReader()
HTML = HtmlReader()
