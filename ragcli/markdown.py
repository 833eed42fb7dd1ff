"""Markdown headings and link reference definitions, found by hand: a few lines of CommonMark's rules
(ATX `#` headings, setext headings underlined with `===` or `---`, `[label]: url` definitions, ``` /
~~~ fences, inside which a `# comment` is code, and the HTML blocks that hold no Markdown: comments,
<pre>, <script>, <style>, <textarea>, and a block-level tag's, <div> or <table>, up to a blank line).
A full Markdown parser would cost more than what uses this needs: a document's title and its text
without the link targets Markdown never shows (readers.markup), and the sections the chunker cuts a
Markdown document into (chunking). A title's inline markup is rendered by markdown-it-py (which rich
depends on), imported on first use, and so is a text that holds what Markdown may hide
(`without_hidden_markup`): where a comment is one, and where code keeps it as written, takes
CommonMark's every rule.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
# CommonMark's HTML blocks of types 1, 2 and 6, which Markdown never reads as Markdown: <pre>, <script>,
# <style> and <textarea> up to their end tag, a comment up to "-->" (the end may be on the first line), and
# a block-level tag's (<div>, </table>…) up to a blank line
_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|div|dl|"
    "dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|hr|html|iframe|legend|li|link|main|"
    "menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|thead|"
    "title|tr|track|ul"
)
_HTML_BLOCK = re.compile(
    rf" {{0,3}}<(?:(pre|script|style|textarea)(?:[ \t>]|$)|(!--)|/?(?:{_BLOCK_TAGS})(?:[ \t>]|/>|$))", re.IGNORECASE
)
_BLANK_LINE = "\n"  # what ends an HTML block of type 6: no line holds it, a blank line ends the block before it
# an ATX heading's opening `#`s and the rest of its line; the closing `#`s are stripped by hand (`_atx_text`): a
# lazy `(.*?)` ahead of optional blanks backtracks, quadratic on a heading line padded with 20,000 spaces
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*))?")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*")
# a link reference definition: `[label]: destination "optional title"`, up to three spaces indented
_LINK_DEFINITION = re.compile(
    r""" {0,3}\[(?:[^\]\\]|\\.)+\]:[ \t]*(?:<[^>\n]*>|\S+)(?:[ \t]+(?:"[^"]*"|'[^']*'|\([^)]*\)))?[ \t]*"""
)
_NOT_PARAGRAPH = re.compile(r"    |\t| {0,3}(?:[-*+>]|\d{1,9}[.)])(?:[ \t]|$)|\s*<")  # code, list, quote, HTML


def _html_block_end(line: str) -> str | None:
    """What ends the HTML block of type 1, 2 or 6 that `line` starts (`</pre>`, `-->`, `_BLANK_LINE`),
    or None."""
    block = _HTML_BLOCK.match(line)
    if block is None:
        return None
    if block.group(1):
        return f"</{block.group(1).lower()}>"
    return "-->" if block.group(2) else _BLANK_LINE


_CODE = "code"  # `_blocks`' kind of a fenced code line or a fence


def _blocks(lines: list[str]) -> Iterator[tuple[int, str, str | None]]:
    """(number, line, kind) of each line, the kind `_CODE` where it is fenced code or a fence itself,
    what ends the HTML block it is in (`-->` in a comment, `</pre>`, `_BLANK_LINE` in a <div>…), else None."""
    fence: str | None = None  # the open fence's marker (``` or ~~~, as long as it was written)
    html_end: str | None = None  # what ends the open HTML block, lowercase
    for number, raw in enumerate(lines):
        line = raw.rstrip("\r")
        if html_end == _BLANK_LINE and not line.strip(" \t"):
            html_end = None
        if html_end is None and fence is None:
            html_end = _html_block_end(line)
        if html_end is not None:  # the block ends with the line that holds its end, the first one too
            yield number, line, html_end
            html_end = None if html_end in line.lower() else html_end
            continue
        opening = _FENCE.fullmatch(line)
        if fence is not None:  # inside fenced code: only a plain closing fence as long as the opening ends it
            closes = opening is not None and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence)
            if closes and opening is not None and not opening.group(2).strip():
                fence = None
            yield number, line, _CODE
        elif opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence = opening.group(1)
            yield number, line, _CODE
        else:
            yield number, line, None


def _unfenced(lines: list[str]) -> Iterator[tuple[int, str | None]]:
    """(number, line) of each line, the line None where it is fenced code or a fence itself, or inside
    an HTML block (a comment, <pre>, <div>…): no heading or definition there is Markdown's."""
    for number, line, kind in _blocks(lines):
        yield number, (line if kind is None else None)


def _atx_text(rest: str) -> str:
    """An ATX heading's text: the rest of its line without the closing sequence of `#`s, which counts only
    after a blank or alone (`# C#` is "C#", `### ###` is empty)."""
    text = rest.strip(" \t")
    bare = text.rstrip("#")
    return bare.rstrip(" \t") if not bare or bare[-1] in " \t" else text


def markdown_headings(lines: list[str]) -> Iterator[tuple[int, int, str]]:
    """(line, level, text) of each ATX or setext heading outside fenced code blocks, in order; `line`
    is the index in `lines` where the heading starts (a setext heading's text line, above its
    underline). A setext heading is taken only when its text is a one-line paragraph (a conservative
    reading of CommonMark)."""
    paragraph = ""  # the line before, if it starts a paragraph (after a blank line, a heading, a fence)
    fresh = True  # the line before was blank (or a heading, a fence, the start)
    for number, line in _unfenced(lines):
        if line is None:
            paragraph, fresh = "", True
            continue
        atx = _ATX.fullmatch(line)
        setext = _SETEXT.fullmatch(line)
        if atx or (setext and paragraph):
            heading = _atx_text(atx.group(2) or "").strip() if atx else ""
            if atx and heading:
                yield number, len(atx.group(1)), heading
            elif setext and not atx:
                yield number - 1, (1 if setext.group(1)[0] == "=" else 2), paragraph.strip()
            paragraph, fresh = "", True
            continue
        if not line.strip():
            paragraph, fresh = "", True
            continue
        starts = fresh and not _NOT_PARAGRAPH.match(line)
        paragraph, fresh = (line if starts else ""), False


def without_link_definitions(text: str) -> str:
    """The text with its link reference definitions (`[Readable]: stream.md#readable-streams`, which
    Markdown never shows: a page's link targets, dozens at the end of Node's docs) blanked out by
    spaces, so that offsets and line numbers stay those of the file."""
    if "]:" not in text:
        return text
    lines = text.split("\n")
    for number, line in _unfenced(lines):
        if line is not None and _LINK_DEFINITION.fullmatch(line):
            lines[number] = " " * len(lines[number])
    return "\n".join(lines)


# What Markdown never shows, found in markdown-it's tokens (a CommonMark parser: it knows code spans, indented
# code and where an inline comment may close): a comment (an HTML block's or inline), a <script> or <style>
# element in an HTML block, and outside code, a data: URI (an image embedded as base64); a comment or
# element never closed runs to its HTML block's end, as a browser reads it to the page's end
_HTML_HIDDEN = re.compile(r"<!--(?:-?>|.*?(?:-->|\Z))|<(script|style)\b.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_DATA_URI = re.compile(r"\bdata:[a-z]+/[\w.+-][^,\s()\"'<>`]*,[^\s()\"'<>`]*", re.IGNORECASE)
_CODE_BLOCKS = frozenset({"fence", "code_block"})
_MAY_HIDE = re.compile(r"<!--|<script|<style|data:", re.IGNORECASE)
Span = tuple[int, int]


def _located(rule: Any) -> Any:
    """markdown-it's inline `rule`, noting on the token it makes where it starts and ends in the inline
    content (`meta["span"]`): markdown-it keeps no offsets below a block's lines."""

    def located(state: Any, silent: bool) -> bool:
        start, count = state.pos, len(state.tokens)
        if not rule(state, silent):
            return False
        if not silent and len(state.tokens) > count:
            state.tokens[-1].meta["span"] = (start, state.pos)
        return True

    return located


@cache
def _parser() -> Any:
    """A CommonMark parser that parses a block's inline content only when asked (`_inline_spans`), and
    notes where comments and code spans are."""
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import backtick, html_inline

    parser = MarkdownIt("commonmark")
    parser.core.ruler.disable("inline")
    parser.inline.ruler.at("html_inline", _located(html_inline))
    parser.inline.ruler.at("backticks", _located(backtick))
    return parser


def _anchors(content: str, first: int, lines: list[str], starts: list[int]) -> list[Span] | None:
    """(offset in `content`, offset in the text) where each line of a block's inline content starts
    being the file's own characters (its indentation, or a quote's or list's markers, left out); None
    if a line is not found as written (a NUL markdown-it replaced): nothing of it is hidden then."""
    anchors, at = [], 0
    for number, line in enumerate(content.split("\n"), first):
        own = line.lstrip()
        found = lines[number].rfind(own) if number < len(lines) else -1
        if found < 0:
            return None
        anchors.append((at + len(line) - len(own), starts[number] + found))
        at += len(line) + 1
    return anchors


def _in_text(anchors: list[Span], offset: int) -> int:
    """Where the character at `offset` of a block's inline content is in the text (`_anchors`)."""
    content, text = anchors[max(0, bisect.bisect_right(anchors, (offset, 1 << 62)) - 1)]
    return text + offset - content


def _inline_spans(token: Any, env: dict[str, Any], anchors: list[Span]) -> Iterator[tuple[str, Span]]:
    """("html_inline" or "code_inline", span in the text) of each inline comment and code span of a
    paragraph or heading."""
    children: list[Any] = []
    _parser().inline.parse(token.content, _parser(), env, children)
    for child in children:
        if "span" in child.meta and (child.type == "code_inline" or child.content.startswith("<!--")):
            start, end = child.meta["span"]
            yield child.type, (_in_text(anchors, start), _in_text(anchors, end - 1) + 1)


def _may_hide_inline(content: str) -> bool:
    """Whether a paragraph or heading may hold an inline comment, or a code span that keeps a data: URI:
    only then is it parsed (markdown-it's inline parser takes seconds a megabyte)."""
    opening = content.find("<!--")
    return (opening >= 0 and content.find("-->", opening + 2) >= 0) or ("`" in content and "data:" in content.lower())


def _hidden_and_code(text: str) -> tuple[list[Span], list[Span]]:
    """The spans of `text` that Markdown hides in HTML (comments, scripts, styles), and those it shows as
    code (fenced, indented, code spans), each in order."""
    lines = text.split("\n")
    starts = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
    env: dict[str, Any] = {}
    hidden: list[Span] = []
    code: list[Span] = []
    for token in _parser().parse(text.replace("\r", " "), env):  # "\r": a space, as offsets stay the file's
        if token.map is None:
            continue
        block = (starts[token.map[0]], min(starts[token.map[1]], len(text)))
        if token.type in _CODE_BLOCKS:
            code.append(block)
        elif token.type == "html_block":
            hidden += (found.span() for found in _HTML_HIDDEN.finditer(text, *block))
        elif token.type == "inline" and _may_hide_inline(token.content):
            anchors = _anchors(token.content, token.map[0], lines, starts)
            for kind, span in _inline_spans(token, env, anchors) if anchors else ():
                (code if kind == "code_inline" else hidden).append(span)
    return hidden, sorted(code)


def block_start(text: str, limit: int) -> int:
    """Where the last top-level block (a paragraph, a list, fenced code, an HTML comment…) that starts in
    `text`'s first `limit` characters after its first line starts; 0 if none: a text cut there cuts no
    comment or code in two (a huge file read in segments, each read as Markdown)."""
    head = text[: text.rfind("\n", 0, limit) + 1]
    starts = list(itertools.accumulate((len(line) + 1 for line in head.split("\n")), initial=0))
    blocks = [token.map[0] for token in _parser().parse(head.replace("\r", " ")) if token.level == 0 and token.map]
    return starts[blocks[-1]] if blocks else 0


def _outside(spans: list[Span], offset: int) -> bool:
    """Whether `offset` lies in none of `spans` (in order, none overlapping)."""
    at = bisect.bisect_right(spans, (offset, 1 << 62)) - 1
    return at < 0 or offset >= spans[at][1]


def _blanked(text: str) -> str:
    """`text` as spaces, its line breaks kept."""
    return "\n".join(" " * len(line) for line in text.split("\n"))


def without_hidden_markup(text: str) -> str:
    """The text with what Markdown never shows (comments, <script> and <style> elements, data: URIs:
    an embedded image's base64, thousands of junk terms) blanked out by spaces, as link definitions are
    (`without_link_definitions`): offsets and line numbers stay those of the file. Code (fenced,
    indented, a code span) is shown as written, and kept."""
    if _MAY_HIDE.search(text) is None:
        return text
    hidden, code = _hidden_and_code(text)
    hidden += (found.span() for found in _DATA_URI.finditer(text) if _outside(code, found.start()))
    pieces, at = [], 0
    for start, end in sorted(hidden):
        start = max(start, at)  # a data: URI inside a comment
        if end > start:
            pieces += [text[at:start], _blanked(text[start:end])]
            at = end
    return "".join([*pieces, text[at:]])


MAX_TITLE_CHARS = 500  # a heading's characters rendered as a title (markdown-it: ~150 µs each on crafted brackets)
_INLINE_MARKUP = re.compile(r"[`*_\[\]<>!&\\]")  # what inline Markdown is written with: a heading without it is plain
_LINE_BREAK_TAG = re.compile(r"<br\b", re.IGNORECASE)  # HTML's line break, shown as a space in a title


@cache
def _inline_parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def rendered_title(heading: str) -> str | None:
    """A heading's text as Markdown shows it, its first MAX_TITLE_CHARS at most: code spans, emphasis and
    links as their text, escapes and entities resolved; link targets, images and HTML tags left out, but
    a `<br>` a space, as in a hard line break ("Line one<br>line two" is not "Line oneline two"). None
    when nothing of it is shown (a heading that is only an image)."""
    heading = heading[:MAX_TITLE_CHARS]
    if _INLINE_MARKUP.search(heading) is None:
        return heading
    shown: list[str] = []
    for token in _inline_parser().parseInline(heading)[0].children or ():
        if token.type in ("text", "code_inline"):
            shown.append(token.content)
        elif token.type in ("softbreak", "hardbreak") or (
            token.type == "html_inline" and _LINE_BREAK_TAG.match(token.content)
        ):
            shown.append(" ")
    return " ".join("".join(shown).split()) or None
