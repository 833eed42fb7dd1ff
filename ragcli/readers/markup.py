"""Markup: Markdown and reStructuredText (titled by their heading) and HTML (visible text, menus aside).

A Markdown title comes from its front matter (`title:` in a leading `---` YAML block, or a `+++` TOML
block; as written, not as YAML reads it), else its first heading outside fenced code (a `# comment`
in a shell example is not a title).
The front matter itself is not indexed; the text after it keeps its line numbers for citations.
The headings are found by `ragcli.markdown` (a few lines of CommonMark's rules, shared with the
chunker, which cuts Markdown at its headings).

HTML is parsed by lxml (libxml2), not the standard library's HTMLParser: that one takes quadratic
time on some malformed input (120 KB of `<a ` took minutes) and raises on legacy conditional comments.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import itertools
import operator
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ragcli.markdown import (
    block_start,
    markdown_headings,
    rendered_title,
    without_hidden_markup,
    without_link_definitions,
)
from ragcli.readers.base import Skip, SourceInput, SuffixReader
from ragcli.readers.text import read_text_document, streams
from ragcli.records import MAX_HEADING_LEVEL, Document, Heading, LineMap

FRONT_MATTER_MAX_CHARS = 64 << 10  # a front matter block is looked for in the first 64 KiB only
_FRONT_MATTER = {"---": ("---", "..."), "+++": ("+++",)}  # opening line → closing lines (YAML, TOML)
# a YAML mapping's key line (`title: Deploying`, `tags:`): a `---` block whose first line is not one is a
# paragraph between two rules, not front matter
_YAML_KEY = re.compile(r"""[^\s#:\-?[{|>'"][^:]*:(?:[ \t]|$)|['"][^'"]*['"][ \t]*:(?:[ \t]|$)""")


@dataclass
class FrontMatter:
    """A leading front matter block: where the text after it starts, and its title if it has one."""

    end: int  # offset of the first character after the block's closing line
    lines: int  # lines the block takes
    title: str | None


def _squeezed_title(value: str | None) -> str | None:
    return " ".join(value.split())[:500] or None if value is not None else None


def _yaml_title(root: Any) -> str | None:
    """The `title` of a YAML mapping as its author wrote it: the scalar's text, not what YAML reads it
    as (`2024-03-15` is a date, `No` a boolean, `0x1F` the number 31); None for a null, a list or a
    mapping (the last `title` counts, as in the mapping YAML builds)."""
    import yaml

    if not isinstance(root, yaml.MappingNode):
        return None
    title = None
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "title":
            title = value
    if not isinstance(title, yaml.ScalarNode) or title.tag == "tag:yaml.org,2002:null":
        return None
    return str(title.value)


def _toml_title(data: object) -> str | None:
    """The `title` of a TOML table as text: a date as written (ISO 8601), a boolean as TOML writes it."""
    value = data.get("title") if isinstance(data, dict) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (_dt.date, _dt.time)):  # a datetime is a date
        return value.isoformat()
    return str(value) if isinstance(value, (str, int, float)) else None


def _front_matter_title(block: str, toml: bool) -> str | None:
    """The `title` of a front matter block as written (YAML composed by PyYAML's safe loader, never
    constructed; TOML by tomllib); None if the block has none or cannot be parsed (the document is
    still read)."""
    if toml:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - the tomli backport, same API
            import tomli as tomllib

        try:
            return _squeezed_title(_toml_title(tomllib.loads(block)))
        except (tomllib.TOMLDecodeError, RecursionError, ValueError):
            return None
    import yaml

    try:
        return _squeezed_title(_yaml_title(yaml.compose(block, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))))
    except (yaml.YAMLError, RecursionError, ValueError):
        return None


def _yaml_like(block: str) -> bool:
    """Whether a `---` block reads as YAML front matter: empty, or its first line that is not blank or a
    comment a mapping's key (`title: …`); a paragraph between two `---` rules is not one, and is kept."""
    line = next((line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")), None)
    return line is None or _YAML_KEY.match(line) is not None


def front_matter(text: str) -> FrontMatter | None:
    """The front matter block at the very start of a Markdown text (`---` … `---` or `...` for YAML, its
    first line a key, `+++` … `+++` for TOML), or None."""
    first, newline, _ = text[: FRONT_MATTER_MAX_CHARS + 1].partition("\n")
    closing = _FRONT_MATTER.get(first.rstrip())
    if not newline or closing is None:
        return None
    position, lines = len(first) + 1, 1
    while position < min(len(text), FRONT_MATTER_MAX_CHARS):
        end = text.find("\n", position)
        end = len(text) if end < 0 else end + 1
        lines += 1
        if text[position:end].rstrip() in closing:
            block, toml = text[len(first) + 1 : position], first.startswith("+")
            return FrontMatter(end, lines, _front_matter_title(block, toml)) if toml or _yaml_like(block) else None
        position = end
    return None


def markdown_title(text: str) -> str | None:
    """The title of a Markdown text: its front matter's `title`, else its headings' (`headings_title`)."""
    front = front_matter(text)
    if front is not None:
        if front.title:
            return front.title
        text = text[front.end :]
    return headings_title((level, heading) for _, level, heading in markdown_headings(text.splitlines()))


def headings_title(headings: Iterable[tuple[int, str]]) -> str | None:
    """The title that Markdown headings, (level, text) in order, give: the first level-1 heading (ATX
    `# Title` or setext `Title` over `===`), else the first heading of any level, as Markdown renders it
    (`rendered_title`); headings inside fenced code (``` or ~~~) or an HTML comment or <pre> block
    (which `markdown_headings` does not yield), or of nothing shown, do not count. Only a heading that
    can still become the title is rendered: rendering is the costly part."""
    best: str | None = None
    for level, heading in headings:
        if best is not None and level > 1:
            continue
        shown = rendered_title(heading)
        if shown is not None and level == 1:
            return shown
        best = best or shown
    return best


_ADORNMENT_RE = re.compile(r"([=\-~^#*+`:'\"._])\1+")


def rst_headings(text: str) -> Iterator[Heading]:
    """(offset, level, title) of each section title of a reStructuredText text: a line (not indented:
    an indented one is a literal or directive block) underlined, or over- and underlined, by a line of
    one punctuation character at least as long. Levels are as docutils assigns them: each adornment
    style (its character, and whether it is overlined) gets the next level the first time it is seen.
    An overlined title starts at its overline. In order, lazily: a title needs only the first."""
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    styles: dict[tuple[str, bool], int] = {}
    i = 0
    while i < len(lines) - 1:
        line, below = lines[i].rstrip(), lines[i + 1].rstrip()
        over = _ADORNMENT_RE.fullmatch(line)
        if over and i + 2 < len(lines) and lines[i + 1].strip() and lines[i + 2].rstrip() == line:
            title = lines[i + 1].strip()  # an overlined title may be indented within its adornment
            if len(line) >= len(title) and not _ADORNMENT_RE.fullmatch(title):
                level = styles.setdefault((line[0], True), len(styles) + 1)
                yield starts[i], min(level, MAX_HEADING_LEVEL), title
                i += 3
                continue
        under = _ADORNMENT_RE.fullmatch(below) if line and not line[0].isspace() and not over else None
        if under and len(below) >= len(line.strip()):
            level = styles.setdefault((under.group(1), False), len(styles) + 1)
            yield starts[i], min(level, MAX_HEADING_LEVEL), line.strip()
            i += 2
            continue
        i += 1


def rst_title(text: str) -> str | None:
    """The first section title of a reStructuredText text (`rst_headings`)."""
    first = next(rst_headings(text), None)
    return first[2] if first is not None else None


# How Markdown and HTML are read, recorded in an index's settings: an index read by an earlier version is
# read again rather than reused (2: Markdown's link reference definitions left out, HTML's whitespace
# collapsed as a browser shows it and each of its source lines mapped; 3: reStructuredText cut at its
# section titles; 4: HTML's hidden elements and media fallbacks left out, every element the spec renders
# as a box of its own a line break, its declared charset read; a Markdown title's inline markup rendered;
# 5: a `---` block front matter only when it reads as YAML, a `#` line in a <div> block no heading).
MARKUP_VERSION = 5


def _front_matter_end(text: str) -> int:
    """Where the text after a Markdown text's front matter starts (0: it has none)."""
    front = front_matter(text)
    return front.end if front is not None else 0


def _shown(text: str) -> str:
    """A Markdown text without the link reference definitions and the rest Markdown never shows (blanked)."""
    return without_hidden_markup(without_link_definitions(text))


class MarkdownReader(SuffixReader):
    name = "markdown"
    # 2: no heading inside an HTML comment or <pre>/<script>/<style>/<textarea> block (a title, a section);
    # a front matter title as written (`readers.base.reader_edition`: read again once); 3: a lone "\r" ends a
    # line, as CommonMark says, not a terminal's overwrite; 4: a title's `<br>` a space ("Line oneline two");
    # 5: comments, <script>/<style> blocks and data: URIs left out, as Markdown never shows them; 6: only
    # those CommonMark hides (a `<!--` in prose or a code span, indented code, a data: URI in code shown), in
    # a streamed file too, its link definitions as well (each segment cut where a block starts)
    version = 6
    suffixes = frozenset({".md", ".markdown"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        if streams(source):  # streamed in segments
            markup = (block_start, _shown)  # each segment cut where a block starts: no comment cut in two
            return read_text_document(
                source, markdown_title, front=_front_matter_end, lone_cr_breaks=True, markup=markup
            )
        return self._document(source)

    def _document(self, source: SourceInput) -> Iterator[Document]:
        """The text after the front matter (starting at its own line), titled as `markdown_title` says,
        its link reference definitions and what else Markdown never shows (comments, scripts, data: URIs)
        left out (blanked: lines and offsets stay the file's)."""
        text = source.read_text(lone_cr_breaks=True)
        front = front_matter(text)
        body, line = (text[front.end :], front.lines + 1) if front is not None else (text, 1)
        body = _shown(body)
        heading = markdown_title(text)
        in_text = heading is not None and (front is None or not front.title)
        yield Document(source.rel, body, heading or source.stem, source.rel, line=line, title_in_text=in_text)


class RstReader(SuffixReader):
    """reStructuredText: titled by its first section title, cut into passages at its section titles."""

    name = "rst"
    suffixes = frozenset({".rst"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        for document in read_text_document(source, rst_title):
            document.headings = tuple(rst_headings(document.text))
            yield document


# Never text of the page. What the HTML spec's rendering section hides (its user-agent style sheet's
# `display: none`: scripts, styles, the head, <template>, a <datalist>'s suggestions, ruby's <rp>);
# <noscript> (shown only with scripts off, which no browser's default is: "please enable JavaScript");
# the fallback content of media and embedded elements (shown only by a browser without them); and ours:
# drawings, and controls (a button's "Copy", "Run", a theme's name)
_SKIP = frozenset(
    {
        "script", "style", "head", "title", "template", "datalist", "noembed", "noframes", "rp", "noscript",
        "audio", "video", "canvas", "iframe", "object", "svg", "button",
    }
)  # fmt: skip
# A box of its own in the HTML spec's rendering section (`display: block`, `list-item` or a table's; a
# fieldset's legend, a list's options, a textarea): its text never runs into the words around it
_BLOCK = frozenset(
    {
        "address", "blockquote", "center", "dialog", "div", "figure", "figcaption", "footer", "form", "header",
        "hr", "legend", "listing", "main", "p", "plaintext", "pre", "search", "xmp",  # flow content
        "article", "aside", "h1", "h2", "h3", "h4", "h5", "h6", "hgroup", "nav", "section",  # sections
        "dir", "dd", "dl", "dt", "li", "menu", "ol", "ul",  # lists
        "table", "caption", "tr",  # tables (their cells: `_CELL`)
        "fieldset", "details", "summary", "optgroup", "option", "textarea",  # forms, details
    }
)  # fmt: skip
# (<br> is one line break where it stands, not a box: its start is a block's, its end nothing)
_NO_DISPLAY = re.compile(r"(?:^|;)\s*display\s*:\s*none\b", re.IGNORECASE)  # an inline style that hides it
_CELL = frozenset({"td", "th"})  # table cells are kept apart by a space
_WORD_BREAK = frozenset({"img", "rt"})  # a space before: an image between two words, ruby's annotation
_PREFORMATTED = frozenset({"pre", "textarea", "listing", "xmp", "plaintext"})  # whitespace shown as written
_NEWLINE_DROPPED = frozenset({"pre", "textarea", "listing"})  # a line break right after the start tag is not text
# HTML's whitespace (a no-break space is text) but the line break, which `_collapsed` marks
_TO_SPACE = str.maketrans("\t\r\f", "   ")
_SPACE_RUN = re.compile(" {2,}")
_RARE_SPACE = re.compile("[\t\r\f]")
_BREAK_RUN = re.compile(r"[ \t\r\f]*\n[ \t\r\n\f]*")  # a run of whitespace holding line breaks
_UNKNOWN_LINE = 65535  # libxml2 stores at most this line number on an element; past it, lines are counted


@dataclass
class HtmlText:
    """The visible text of an HTML page, with the source line of each piece (for citations)."""

    text: str
    line_map: LineMap  # (offset into text, source line where that piece starts)
    title: str | None
    too_deep: bool  # elements nested deeper than the parser follows: the text past that point is lost
    headings: list[Heading] = field(default_factory=list)  # h1-h6 where their text starts, for the chunker


def _squeeze(text: str) -> str | None:
    return " ".join(text.split()) or None


_PIECE_CHARS = 1 << 16  # outside <pre>, a long text node is collapsed (`_collapsed`) this much at a time
_WHITESPACE = re.compile("[ \t\n\r\f]")


def _pieces(text: str) -> Iterator[str]:
    """`text` in pieces of about `_PIECE_CHARS`, each cut after a whitespace character: a regular
    expression's substitution holds a string for each match until it is done, which for a paragraph of
    millions of lines would be ten times the paragraph. A run of whitespace cut in two is still one
    space once shown (a run at a line's start is dropped)."""
    start = 0
    while start < len(text):
        cut = _WHITESPACE.search(text, start + _PIECE_CHARS)
        end = len(text) if cut is None else cut.end()
        yield text[start:end]
        start = end


def _collapsed(text: str) -> str:
    """`text` as a browser shows it outside <pre>, each run of whitespace one character: a space, or a
    line break where the run holds any (the mark of where a source line's text starts; shown as a
    space). Each step only where it changes something: most text has no run to shorten."""
    if _RARE_SPACE.search(text):
        text = text.translate(_TO_SPACE)
    if " \n" in text or "\n " in text or "\n\n" in text:
        text = _BREAK_RUN.sub("\n", text)
    return _SPACE_RUN.sub(" ", text) if "  " in text else text


_MENU_ROLES = frozenset({"navigation", "menu", "menubar"})


def _never_shown(tag: str, element: Any) -> bool:
    """Whether a browser never shows the element: `_SKIP`, a <dialog> not open, the `hidden` attribute
    (but "until-found", which a search in the page reveals), an inline `display: none` (no style sheet
    is read)."""
    if tag in _SKIP or (tag == "dialog" and element.get("open") is None):
        return True
    hidden = element.get("hidden")
    if hidden is not None and hidden.strip().lower() != "until-found":
        return True
    style = element.get("style")
    return style is not None and _NO_DISPLAY.search(style) is not None


def _is_menu(tag: str, element: Any) -> bool:
    """Navigation and menus (`<nav>`, `role="navigation"`, an ARIA `menu` or `menubar`: mdBook's theme
    list): a site's menu and table of contents, the same on every page, would put the same words into
    every page's first passage."""
    return tag == "nav" or element.get("role") in _MENU_ROLES


_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_PERMALINK = "¶§#🔗"  # the anchor a documentation generator puts after a heading (Sphinx: "Title¶")


def _heading_text(text: str) -> str | None:
    squeezed = _squeeze(text)
    return squeezed.rstrip(_PERMALINK).rstrip() or None if squeezed is not None else None


# a DOCTYPE with an internal subset (`<!DOCTYPE html [<!ENTITY co "Harbour Co">]>`, XHTML's way of declaring
# entities), after what may come before it; the subset is group 1. libxml2's HTML parser ends a DOCTYPE at its
# first ">", so the rest of the subset became page text. Atomic groups and possessive repeats keep the match
# linear on any bytes (an unclosed comment takes the rest of the file, and the match fails once).
if sys.version_info >= (3, 11):
    _DOCTYPE_SUBSET: re.Pattern[bytes] | None = re.compile(
        rb"(?:\xef\xbb\xbf)?(?>\s+|<\?(?>.*?\?>|.*)|<!--(?>.*?-->|.*))*+"
        rb"<!DOCTYPE(?>[^\[>\"']+|\"[^\"]*\"|'[^']*')*+"
        rb"(\[(?>[^\]\"'<]+|\"[^\"]*\"|'[^']*'|<!--(?>.*?-->|.*)|<)*+\])\s*>",
        re.IGNORECASE | re.DOTALL,
    )
else:  # pragma: no cover - Python 3.10's re has neither: the subset is left in, read as before
    _DOCTYPE_SUBSET = None
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY\s+([^\s%\"'<>]+)")  # a general entity's (a parameter entity has "%")
_ENTITY_REFERENCE = re.compile(rb"&([^\s&;<>#]+);")


def _without_internal_subset(data: bytes) -> bytes:
    """`data` without its DOCTYPE's internal subset (its line breaks kept, for citations), and without the
    references to the entities the subset declares that HTML does not know: they are never expanded
    (no entity of a file is fetched or multiplied), and "&co;" is no word of the page."""
    found = _DOCTYPE_SUBSET.match(data) if _DOCTYPE_SUBSET is not None else None
    if found is None:
        return data
    from html.entities import html5

    subset = found.group(1)
    declared = {name for name in _ENTITY_DECLARATION.findall(subset) if name.decode("latin-1") + ";" not in html5}
    data = data[: found.start(1)] + b"\n" * subset.count(b"\n") + data[found.end(1) :]
    if not declared:
        return data
    return _ENTITY_REFERENCE.sub(lambda ref: b"" if ref.group(1) in declared else ref.group(), data)


def html_text(data: bytes, menus: bool = False) -> HtmlText:
    """Parse `data` (UTF-8) with lxml's HTML parser (libxml2: linear time, recovers from any markup,
    no network) and walk the tree without recursion, keeping the text a browser would show, menus
    aside: what it never shows (`_never_shown`) and navigation (`_is_menu`, unless `menus`) are
    dropped, block elements (`_BLOCK`) become line breaks; h1-h6 are noted where their text starts. A
    page with no text but its menus (a site map) keeps them."""
    from lxml import etree
    from lxml import html as lxml_html

    parser = lxml_html.HTMLParser(recover=True, no_network=True, huge_tree=True, encoding="utf-8")
    try:
        root = lxml_html.document_fromstring(_without_internal_subset(data), parser=parser)
    except etree.ParserError:  # nothing but whitespace or comments
        return HtmlText("", LineMap(), None, False)
    parts: list[str] = []
    # (where its text starts, level, its text once left: None while open) of each heading, in order
    headings: list[tuple[int, int, str | None]] = []
    open_headings: list[tuple[int, int]] = []  # (index into `headings`, into `parts`) of those entered
    line_map = LineMap()
    map_offset, map_line = line_map.offsets.append, line_map.lines.append  # one entry a piece: no call more
    length, line, hidden, pre = 0, 1, 0, 0
    ends = ""  # the text's last two characters
    menu_seen = False

    def emit(text: str) -> None:
        """Add text as a browser shows it, its source lines counted: outside <pre>, a run of spaces and
        line breaks is one space, and none at a line's start (an indented page's source would fill its
        passages with whitespace)."""
        nonlocal line
        first = line
        marked = text if pre else _collapsed(text)
        breaks = text.count("\n")
        numbers: Iterator[int] = itertools.count(first + 1)  # the line each break starts: one a break …
        if breaks and marked.count("\n") != breaks:  # … but for runs of several (blank lines in a <p>)
            runs = _BREAK_RUN.finditer(text)
            numbers = (first + lines for lines in itertools.accumulate(run.group().count("\n") for run in runs))
        if not pre and ends[-1:] in ("\n", " ", "") and marked[:1] in (" ", "\n"):  # none at a line's start
            line = next(numbers) if marked[0] == "\n" else line
            marked = marked[1:]
        if marked:
            mapped(marked, numbers)
        line = first + breaks

    def mapped(marked: str, numbers: Iterator[int]) -> None:
        """Add text whose line breaks (outside <pre>: each marks a run, shown as a space) each start a
        source line, `numbers` in turn, mapped where its text starts: a passage starting inside a long
        paragraph or a code block cites the line it starts on. Two integers a line in the map, and no
        Python code run a line, however many lines one node holds (a dump in a <pre>)."""
        start = length
        emit_raw(marked if pre else marked.replace("\n", " "))
        if "\n" in marked:  # a break at the very end starts nothing here: the next piece maps itself
            lines = marked[:-1].split("\n")[:-1]  # each line but the last, the break after it left out
            line_map.extend(
                map(operator.add, itertools.accumulate(map(len, lines)), itertools.count(start + 1)), numbers
            )

    def lines_of(text: str, shown: bool) -> None:
        """A text node (shown or not), its source lines counted."""
        nonlocal line
        if not shown or (not pre and text.isspace()):  # the whitespace between tags: a space at most
            if shown and ends[-1:] not in ("\n", " ", ""):
                emit_raw(" ")
            line += text.count("\n")
        elif len(text) <= _PIECE_CHARS:
            emit(text)
        else:
            for piece in _pieces(text):
                emit(piece)

    def block() -> None:
        """A block element's start or end: a line break, at most one blank line in a row, the space
        before it dropped."""
        nonlocal length, ends
        if ends in ("", "\n\n"):  # none before the first text either
            return
        if ends[-1] == " " and not pre:
            kept = parts[-1].rstrip(" ")
            length -= len(parts[-1]) - len(kept)
            parts[-1] = kept
            ends = ("".join(parts[-2:]) if len(kept) < 2 else kept)[-2:]
            if ends == "\n\n":
                return
        emit_raw("\n")

    def emit_raw(text: str) -> None:
        """Add text as it is."""
        nonlocal length, ends
        map_offset(length)
        map_line(line)
        parts.append(text)
        length += len(text)
        ends = (ends + text[-2:])[-2:]

    # (element, entering, whether it was left out: known once entered, when its leaving is stacked)
    stack: list[tuple[Any, bool, bool]] = [(root, True, False)]
    while stack:
        element, entering, out = stack.pop()
        tag = element.tag.lower() if isinstance(element.tag, str) else None  # None: a comment or PI
        if entering:
            if tag is not None:
                if element.sourceline is not None and element.sourceline < _UNKNOWN_LINE:
                    line = max(line, element.sourceline)  # where the start tag ends: its text starts there
                never = _never_shown(tag, element)
                out = never or (not menus and _is_menu(tag, element))
                menu_seen = menu_seen or (out and not never)
                hidden += out
                pre += tag in _PREFORMATTED
                if not hidden and (tag in _BLOCK or tag == "br"):
                    block()
                elif not hidden and tag in _WORD_BREAK:
                    emit(" ")
                if not hidden and tag in _HEADINGS:
                    open_headings.append((len(headings), len(parts)))
                    headings.append((length, _HEADINGS[tag], None))
            text = element.text
            if text and text[0] == "\n" and tag in _NEWLINE_DROPPED:  # the HTML spec does not show it
                line += 1
                text = text[1:]
            if text:
                lines_of(text, tag is not None and not hidden)
            stack.append((element, False, out))
            stack.extend((child, True, False) for child in reversed(element))
            continue
        if tag is not None:
            if not hidden and tag in _HEADINGS:  # its text as shown: <br> a space, hidden text left out
                at, first = open_headings.pop()
                start, level, _ = headings[at]
                headings[at] = (start, level, _heading_text("".join(parts[first:])))
            if not hidden and tag in _BLOCK:
                block()
            elif not hidden and tag in _CELL:
                emit(" ")
            hidden -= out
            pre -= tag in _PREFORMATTED
        if element.tail:
            lines_of(element.tail, not hidden)
    titles = root.xpath("(//title[not(ancestor::svg)])[1]")
    title = _squeeze(titles[0].text_content()) if titles else None
    too_deep = any("depth" in entry.message.lower() for entry in parser.error_log)
    text = "".join(parts)
    if menu_seen and not text.strip():
        return html_text(data, menus=True)
    shown = [(start, level, heading) for start, level, heading in headings if heading is not None]
    h1 = next((heading for _, level, heading in shown if level == 1), None)
    return HtmlText(text, line_map, title or h1, too_deep, shown)


# The Encoding Standard's encodings (those a browser decodes a page with), by the name Python's codec
# registry gives a label, each mapped to the codec that decodes it as the web does: its "latin1" and
# "ascii" are windows-1252, its GBK is GB18030, Shift_JIS and EUC-KR Microsoft's supersets. A declared
# UTF-16 is UTF-8, as the HTML spec says (a page whose <meta> was read as ASCII is not UTF-16). A name
# only Python knows (utf-7, unicode_escape, zlib) is not taken.
_WEB_CODECS = {
    "utf-8": "utf-8", "utf-16": "utf-8", "utf-16-le": "utf-8", "utf-16-be": "utf-8",
    "cp866": "cp866", "koi8-r": "koi8-r", "koi8-u": "koi8-u", "mac-roman": "mac-roman", "mac-cyrillic": "mac-cyrillic",
    **{f"iso8859-{n}": f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)},
    **{f"cp{n}": f"cp{n}" for n in (874, *range(1250, 1259))},
    "ascii": "cp1252", "iso8859-1": "cp1252", "iso8859-9": "cp1254", "iso8859-11": "cp874", "tis-620": "cp874",
    "gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030", "big5": "big5hkscs", "big5hkscs": "big5hkscs",
    "euc_jp": "euc_jp", "iso2022_jp": "iso2022_jp", "shift_jis": "cp932", "cp932": "cp932",
    "euc_kr": "cp949", "cp949": "cp949",
}  # fmt: skip
PRESCAN_BYTES = 1024  # how far the HTML spec's prescan looks for a declared charset
_TAG_ATTRIBUTES = rb"""(?:[^>"']|"[^"]*"|'[^']*')*"""
# what the prescan steps over (comments, other tags, `<!…>` `</…>` `<?…>`) and the <meta> tags it reads
_PRESCAN_RE = re.compile(
    rb"<!--(?:.*?-->|.*)|<meta[\s/](" + _TAG_ATTRIBUTES + rb")>?|<[!/?]?[a-z]" + _TAG_ATTRIBUTES + rb">?",
    re.IGNORECASE | re.DOTALL,
)
_ATTRIBUTE_RE = re.compile(rb"""([^\s/>="']+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_CONTENT_CHARSET_RE = re.compile(rb"""charset\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;"']+))""", re.IGNORECASE)
# an XML declaration's encoding (XHTML's), as the HTML spec's "get an XML encoding" reads it: at the very
# start, within the declaration (up to its first ">")
_XML_ENCODING_RE = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*(?:"([^">]*)"|'([^'>]*)')""")


def _web_codec(label: bytes) -> str | None:
    """The codec that decodes the encoding `label` names as a browser does, or None."""
    try:
        return _WEB_CODECS.get(codecs.lookup(label.strip().decode("ascii")).name)
    except (LookupError, ValueError):  # not a codec's name; not ASCII (UnicodeDecodeError is a ValueError)
        return None


def html_declared_charset(data: bytes) -> str | None:
    """The codec for the charset an HTML page declares in its first `PRESCAN_BYTES`, as the HTML spec's
    prescan finds it: the first <meta> outside comments with a `charset` attribute, or an
    `http-equiv="Content-Type"` whose `content` names one, that the web knows (`_web_codec`); else the
    encoding of an XML declaration the page starts with (`<?xml version="1.0" encoding="koi8-r"?>`,
    XHTML's way), which a browser honours too."""
    for tag in _PRESCAN_RE.finditer(data[:PRESCAN_BYTES]):
        if tag.group(1) is None:
            continue
        attributes: dict[bytes, bytes] = {}
        for name, *values in _ATTRIBUTE_RE.findall(tag.group(1)):
            attributes.setdefault(name.lower(), b"".join(values))  # the first of a repeated attribute counts
        label = attributes.get(b"charset")
        if label is None and attributes.get(b"http-equiv", b"").lower() == b"content-type":
            found = _CONTENT_CHARSET_RE.search(attributes.get(b"content", b""))
            label = b"".join(found.groups(b"")) if found is not None else None
        codec = _web_codec(label) if label is not None else None
        if codec is not None:
            return codec
    declaration = _XML_ENCODING_RE.match(data[:PRESCAN_BYTES])
    return _web_codec(b"".join(declaration.groups(b""))) if declaration is not None else None


class HtmlReader(SuffixReader):
    name = "html"
    # 2: every source line of a long <p> or <pre> mapped; <br> one line break, the line break after <pre>'s
    # start tag dropped; an XML declaration's encoding read (`readers.base.reader_edition`: read again once);
    # 3: a lone "\r" ends a line, as HTML's parsing makes it, not a terminal's overwrite; 4: a heading's (and
    # title's) words taken as the text's, <br> a space, hidden text and buttons left out ("Chapter 1Introduction");
    # 5: a closed <dialog> left out, an <img> and ruby's <rt> a word break ("onetwo", "漢kan"); 6: a DOCTYPE's
    # internal subset no text ("]>"), the entities it declares left out ("&co;")
    version = 6
    suffixes = frozenset({".html", ".htm", ".xhtml"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        from lxml import etree

        try:
            page = html_text(source.read_text(html_declared_charset, lone_cr_breaks=True).encode("utf-8"))
        except etree.LxmlError as exc:
            raise Skip(f"cannot be parsed as HTML ({exc})") from None
        if page.too_deep:
            source.context.warn(f"{source.rel}: elements nested too deeply; the text past that point is not indexed")
        yield Document(
            source.rel,
            page.text,
            page.title or source.stem,
            source.rel,
            line_map=page.line_map,
            headings=tuple(page.headings),
        )


MARKDOWN = MarkdownReader()
RST = RstReader()
HTML = HtmlReader()
