"""Markup: Markdown and reStructuredText (titled by their heading) and HTML (visible text only).

HTML is parsed by lxml (libxml2), not the standard library's HTMLParser: that one takes quadratic
time on some malformed input (120 KB of `<a ` took minutes) and raises on legacy conditional comments.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ragcli.readers.base import Skip, SourceInput, SuffixReader
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


_SKIP = frozenset({"script", "style", "noscript", "template", "head", "svg", "title"})
_BLOCK = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
        "article", "header", "footer", "pre", "blockquote", "dd", "dt", "hr", "main", "nav", "aside",
        "figure", "figcaption", "dl", "form", "fieldset", "address", "details", "summary",
    }
)  # fmt: skip
_CELL = frozenset({"td", "th"})  # table cells are kept apart by a space
_UNKNOWN_LINE = 65535  # libxml2 stores at most this line number on an element; past it, lines are counted


@dataclass
class HtmlText:
    """The visible text of an HTML page, with the source line of each piece (for citations)."""

    text: str
    line_map: list[tuple[int, int]]  # (offset into text, source line where that piece starts)
    title: str | None
    too_deep: bool  # elements nested deeper than the parser follows: the text past that point is lost


def _squeeze(text: str) -> str | None:
    return " ".join(text.split()) or None


def html_text(data: bytes) -> HtmlText:
    """Parse `data` (UTF-8) with lxml's HTML parser (libxml2: linear time, recovers from any markup,
    no network) and walk the tree without recursion, keeping the text a browser would show: script,
    style, noscript, template, svg and head are dropped, block elements become line breaks."""
    from lxml import etree
    from lxml import html as lxml_html

    parser = lxml_html.HTMLParser(recover=True, no_network=True, huge_tree=True, encoding="utf-8")
    try:
        root = lxml_html.document_fromstring(data, parser=parser)
    except etree.ParserError:  # nothing but whitespace or comments
        return HtmlText("", [], None, False)
    parts: list[str] = []
    line_map: list[tuple[int, int]] = []
    length, line, hidden = 0, 1, 0

    def emit(text: str) -> None:
        nonlocal length
        line_map.append((length, line))
        parts.append(text)
        length += len(text)

    h1 = None
    stack: list[tuple[Any, bool]] = [(root, True)]
    while stack:
        element, entering = stack.pop()
        tag = element.tag.lower() if isinstance(element.tag, str) else None  # None: a comment or PI
        if entering:
            if tag is not None:
                if element.sourceline is not None and element.sourceline < _UNKNOWN_LINE:
                    line = max(line, element.sourceline)  # where the start tag ends: its text starts there
                hidden += tag in _SKIP
                if not hidden and tag in _BLOCK:
                    emit("\n")
                if not hidden and tag == "h1" and h1 is None:
                    h1 = _squeeze(element.text_content())
            if element.text:
                if tag is not None and not hidden:
                    emit(element.text)
                line += element.text.count("\n")
            stack.append((element, False))
            stack.extend((child, True) for child in reversed(element))
            continue
        if tag is not None:
            if not hidden and tag in _BLOCK:
                emit("\n")
            elif not hidden and tag in _CELL:
                emit(" ")
            hidden -= tag in _SKIP
        if element.tail:
            if not hidden:
                emit(element.tail)
            line += element.tail.count("\n")
    titles = root.xpath("(//title[not(ancestor::svg)])[1]")
    title = _squeeze(titles[0].text_content()) if titles else None
    too_deep = any("depth" in entry.message.lower() for entry in parser.error_log)
    return HtmlText("".join(parts), line_map, title or h1, too_deep)


class HtmlReader(SuffixReader):
    name = "html"
    suffixes = frozenset({".html", ".htm", ".xhtml"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        from lxml import etree

        try:
            page = html_text(source.read_text().encode("utf-8"))
        except etree.LxmlError as exc:
            raise Skip(f"cannot be parsed as HTML ({exc})") from None
        if page.too_deep:
            source.context.warn(f"{source.rel}: elements nested too deeply; the text past that point is not indexed")
        yield Document(source.rel, page.text, page.title or source.stem, source.rel, line_map=page.line_map)


MARKDOWN = MarkdownReader()
RST = RstReader()
HTML = HtmlReader()
