"""What a piece of code says it does: the first sentence of the docstring or doc comment of a definition
a question names ("What does raise_for_status do?" → "Raise the `HTTPStatusError` if one occurred.").

The extractive generator's sentence scoring is built for prose; in a passage of code it picks a line of
code (measured on httpx's source: "What does raise_for_status do?" answered "def"). A definition's own
documentation is what its author wrote to answer that question, so it is the answer when a retrieved
passage defines the identifier the question names and documents it: a Python docstring after the
signature, else the comment block right above the definition (`///`, `//`, `/** … */`, `#`, `--`,
`;;`), past decorators and attributes. Written by hand: no library finds definitions across
languages in a passage of a file (a parser needs the whole file and one grammar per language).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ragcli.readers.definitions import DEFINITION_MODIFIERS, RETURN_TYPE_RE
from ragcli.records import Hit, without_surrogates

# a name as code writes it: `raise_for_status`, raise_for_status(), Response.raise_for_status,
# serde::Deserialize, raiseForStatus; plain words ("Paris", "McDonald") are not asked for here
_NAME_RE = re.compile(r"`?((?:[A-Za-z_$][\w$]*(?:\.|::|#))*[A-Za-z_$][\w$]*)(\(\))?`?")
_PLAIN_WORD_RE = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
_CODE_SHAPE_RE = re.compile(r"_|[a-z][A-Z]|\.|::|#")
# the definition keywords of every language in one list, where readers/definitions.py (which shares its
# modifiers) has a pattern per language family: that one finds every definition of a file whose suffix
# names its language, this one the definition of one name in any passage (a Markdown code block, a file
# of a language the chunker knows no definitions of), and the name keeps it from matching anything else
_KEYWORDS = r"def|class|function\*?|fn|func|sub|struct|interface|trait|enum|type|module|macro|defn|defp|proc|procedure"
# a question for where a name is defined ("Where is connect defined?", "Where's `Session` declared?",
# "Which file defines CONNECT_TIMEOUT?", "Where is the definition of send?"): `subject` or `defined` names it
_DEFINED_WHERE_RE = re.compile(
    r"^\W*(?:where(?:\s+(?:is|are|was|were)\s+|'s\s+|\s+)(?P<subject>.+?)\s+(?:defined|declared|implemented)"
    r"|where\s+is\s+the\s+(?:definition|declaration|implementation)\s+of\s+(?P<of>.+?)"
    r"|(?:in\s+)?which\s+(?:file|module)\s+(?:defines|declares|implements)\s+(?P<defined>.+?))\s*[?？]*\s*$",
    re.IGNORECASE,
)
# Python's `\w` and `\s` (Unicode) as RE2 classes, for a definition's line: RE2's own, and its `\b`, are
# ASCII. Its letters and digits are Python's and those of Unicode versions newer than Python's database
_WORD = r"\p{L}\p{N}_"
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
_PYTHON_WORD_RE = re.compile(r"\w")
_SIGNATURE_END_RE = re.compile(r":\s*(?:#.*)?$")  # a Python signature ends with its colon
_DOCSTRING_OPEN_RE = re.compile(r"^\s*[rRuU]?(\"\"\"|''')")
# the lines above a definition, read unlike readers/definitions.py's `_ATTACHED_RE`, on purpose: that one
# only moves a cut, so any line of those shapes at the definition's indentation goes with it (a
# `#include` too); here the comment block is the answer, so only comment markers count (`#!`,
# `#include`, `#define`… are no documentation), decorators and attributes are stepped over, not read
_DECORATION_RE = re.compile(r"^\s*(?:@|#\[|\[[A-Z])")  # @decorator, #[attribute], [Attribute]
_COMMENT_RE = re.compile(r"^\s*(?:///?|/\*\*?|\*/?|#(?![!\[]|include|define|if|endif|pragma)|--|;;+)")
_COMMENT_MARK_RE = re.compile(r"^\s*(?:/\*\*?|\*/|///?|\*|#+|--|;+)\s?")
_COMMENT_END_RE = re.compile(r"\s*\*+/\s*$")  # a block comment's "*/" after its last words
_TAG_RE = re.compile(r"^\s*(?:@\w+|:\w+[^:]*:|Args:|Arguments:|Returns?:|Raises:|Parameters\s*$)")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"'(])")
# the words of a line that may name an owner, and where the name of the block a line opens ends (its
# parameters, base classes, "=" or body; C++'s and Rust's "::" are part of a name)
_WORDS_RE = re.compile(r"[\w$]+")
_BLOCK_HEAD_END_RE = re.compile(r"[(={]|(?<!:):(?!:)")
MAX_COMMENT_LINES = 200  # of a block comment above a definition, read back from its "*/"
MAX_SIGNATURE_LINES = 12  # a signature's parameters over several lines, before its docstring
MAX_ANSWER_CHARS = 400


def _qualified_names(question: str) -> list[tuple[str, str]]:
    """(owner, name) of each name a question writes as code: "Response.raise_for_status" → ("Response",
    "raise_for_status"), "send()" → ("", "send")."""
    found_names: list[tuple[str, str]] = []
    for found in _NAME_RE.finditer(question):
        whole, called = found.group(1), found.group(2)
        quoted = found.group(0).startswith("`") and found.group(0).endswith("`")
        if not (called or quoted or _CODE_SHAPE_RE.search(whole.strip("_$"))):
            continue
        *owners, last = re.split(r"\.|::|#", whole)
        if last and last not in (name for _, name in found_names):
            found_names.append((owners[-1] if owners else "", last))
    return found_names


def named_identifiers(question: str) -> list[str]:
    """The names in a question written as code (an underscore, camelCase, a qualified name, backticks or
    a call), each as its last part ("Response.raise_for_status" → "raise_for_status")."""
    return [name for _, name in _qualified_names(question)]


def named_owners(question: str) -> dict[str, str]:
    """The owner a question names each name by ("Client.Close" → {"Close": "Client"}): the class, type or
    module whose definition of the name it asks about, where several define it."""
    return {name: owner for owner, name in _qualified_names(question) if owner}


@functools.lru_cache(maxsize=64)  # RE2 takes milliseconds to compile one; `re` kept its own compiled
def _definition_re(name: str) -> Any:  # google-re2 has no type information
    """A line that defines `name`: a keyword form (`def`, `fn`, `func (r *T)`, `class`, C's `#define`), a function
    assigned to it (`const name = (…) =>`), or a method signature that opens its body (`T name(…) {`,
    C++'s `T Owner::name(…) const {`; a "{" alone on the next line is joined to it: `_signature`).
    Matched by RE2 (imported on first use), in linear time: Python's backtracking `re` tried every place
    a line of "public public …" could stop being modifiers, a second on 2,000 of them."""
    import re2

    n, w, s = re.escape(name), _WORD, f"[{_SPACE}]"
    word_ends = rf"(?:[^{w}]|$)"  # `\b` after a word character
    name_ends = word_ends if _PYTHON_WORD_RE.match(name[-1:]) else f"[{w}]"  # and after a name's `$`
    return re2.compile(
        rf"^{s}*{DEFINITION_MODIFIERS}(?:(?:#{s}*define|{_KEYWORDS}){s}+(?:\([^)]*\){s}*)?(?:[{w}$]+(?:\.|::))*{n}{name_ends}"
        rf"|(?:const|let|var){s}+{n}{s}*={s}*(?:async{s}+)?(?:function{word_ends}|\(|[{w}$]+{s}*=>)"
        rf"|(?:[{w}$<>\[\],.*&:?]+{s}+)*(?:[{w}$]+::)*{n}{s}*(?:<[^>]*>)?{s}*\([^;]*\){s}*"
        rf"(?:(?:const|noexcept|override|final|volatile|mutable){s}*)*(?:(?::|->|throws){s}*[^{{;]*)?\{{{s}*$)",
    )


def _signature(lines: list[str], at: int) -> str:
    """Line `at` as a definition is matched: with the "{" that opens its body when that stands alone on
    the next line (C's GNU and BSD styles, C#'s and Java's Allman style)."""
    following = lines[at + 1].strip() if at + 1 < len(lines) else ""
    return f"{lines[at]} {{" if following == "{" else lines[at]


def _docstring_after(lines: list[str], at: int) -> list[str]:
    """The lines of a Python docstring that follows the signature starting at line `at`."""
    end = at
    while end < min(len(lines), at + MAX_SIGNATURE_LINES) and not _SIGNATURE_END_RE.search(lines[end]):
        end += 1
    following = [i for i in range(end + 1, min(len(lines), end + 3)) if lines[i].strip()]
    opened = _DOCSTRING_OPEN_RE.match(lines[following[0]]) if following else None
    if not opened:
        return []
    quote, first = opened.group(1), following[0]
    body = lines[first][opened.end() :]
    if quote in body:
        return [body[: body.index(quote)]]
    doc = [body]
    for line in lines[first + 1 :]:
        if quote in line:
            doc.append(line[: line.index(quote)])
            return doc
        doc.append(line)
    return doc  # the passage ends inside the docstring: its start is still the author's words


def _comments_before(lines: list[str], at: int, name: str) -> list[str]:
    """The comment block right above line `at`, past decorators and attributes, and past C's return type on
    its own line above a `name` at the margin (`static int` over `grow(…)`); none across a blank line."""
    i = at - 1
    if i >= 0 and lines[at].startswith(name) and RETURN_TYPE_RE.fullmatch(lines[i].rstrip()):
        i -= 1
    while i >= 0 and _DECORATION_RE.match(lines[i]):
        i -= 1
    block: list[str] = []
    while i >= 0 and lines[i].strip():
        if lines[i].rstrip().endswith("*/"):  # a block comment closed here: all of it, back to its "/*"
            opened = _block_comment_start(lines, i)
            if opened is None:
                break
            block.extend(reversed(lines[opened : i + 1]))
            i = opened - 1
        elif _COMMENT_RE.match(lines[i]):
            block.append(lines[i])
            i -= 1
        else:
            break
    return [_COMMENT_END_RE.sub("", _COMMENT_MARK_RE.sub("", line)) for line in reversed(block)]


def _block_comment_start(lines: list[str], end: int) -> int | None:
    """The line that opens the block comment closed on line `end` ("/*" or "/**" at its start; its
    lines between need no "*"), None when a line of code opens it (`x = 1; /* note */`) or none of the
    `MAX_COMMENT_LINES` above does (a crafted passage of "*/" lines costs no more than that each)."""
    for number in range(end, max(end - MAX_COMMENT_LINES, -1), -1):
        if "/*" in lines[number]:
            return number if lines[number].lstrip().startswith("/*") else None
    return None


def _first_sentence(doc: list[str]) -> str:
    """The first sentence of a doc text's first paragraph, its tags (@param, :returns:, Args:) left out."""
    paragraph: list[str] = []
    for line in doc:
        text = line.strip()
        if not text or _TAG_RE.match(text):
            if paragraph:
                break
            continue
        paragraph.append(text)
    joined = " ".join(" ".join(paragraph).split())
    sentence = _SENTENCE_END_RE.split(joined, maxsplit=1)[0] if joined else ""
    return sentence if len(sentence) <= MAX_ANSWER_CHARS else ""


def plain_names(question: str, is_term: Callable[[str], bool]) -> list[str]:
    """The words of a question that `is_term` takes for its content ("What does track do?" → "track"):
    a name too when a passage defines it, asked for only where it is the question's one content term."""
    return [word for word in _PLAIN_WORD_RE.findall(question) if is_term(word)]


def _owned_by(owner: str, lines: list[str], at: int, name: str, enclosing: list[int]) -> bool | None:
    """Whether the definition of `name` on line `at` belongs to `owner`: named on its own line (Go's
    receiver `func (c *Client) Close`, C++'s `Square::area`) or by the block it is indented in (`class
    Order:`, `impl fmt::Display for Queue<T> {`: `enclosing[at]`); None when the passage does not show
    that block (it starts inside it, and its first line was stripped of its indentation)."""
    line = lines[at]
    before_name = line[: match.start()] if (match := re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", line)) else ""
    if owner in _WORDS_RE.findall(before_name):
        return True
    if (
        at == 0 or _indentation(line) == 0
    ):  # a passage's first line lost its indentation; one at the margin has no block
        return None if at == 0 else False
    block = enclosing[at]
    if owner in _WORDS_RE.findall(_BLOCK_HEAD_END_RE.split(lines[block], maxsplit=1)[0]):
        return True
    return None if block == 0 else False


def _enclosing_lines(lines: list[str]) -> list[int]:
    """For each line, the nearest line above it that is less indented, or the first line, which may open
    any block (the passage stripped its indentation); in one pass, however many definitions it holds."""
    found: list[int] = []
    open_lines: list[tuple[int, int]] = []  # (indentation, number) of the lines that may enclose the next
    for number, line in enumerate(lines):
        indent = _indentation(line)
        while line.strip() and len(open_lines) > 1 and open_lines[-1][0] >= indent:
            open_lines.pop()
        found.append(open_lines[-1][1] if open_lines else 0)
        if line.strip():
            open_lines.append((indent, number))
    return found


def _indentation(line: str) -> int:
    return len(line) - len(line.lstrip())


def _definitions(name: str, sources: Sequence[Hit], owner: str | None) -> Iterator[tuple[int, list[str], int, bool]]:
    """(source number, its lines, line number, whether the owner is shown) of each line of `sources`
    that defines `name` itself, in order; not one of another owner's when `owner` is given (`_owned_by`:
    whether the definition is that owner's, or False where the passage does not show its owner)."""
    definition = _definition_re(name)
    for number, source in enumerate(sources, start=1):
        lines = source.text.splitlines()
        enclosing: list[int] | None = None
        # RE2 reads UTF-8, which a lone surrogate (JSON's "\ud800") has none of; U+FFFD is no more a
        # word character or a space than it was, so each line matches as it is written
        checked = without_surrogates(source.text).splitlines()
        for at in range(len(checked)):
            if not definition.match(_signature(checked, at)):
                continue
            if owner and enclosing is None:
                enclosing = _enclosing_lines(lines)
            owned = _owned_by(owner, lines, at, name, enclosing) if owner and enclosing else True
            if owned is not False:
                yield number, lines, at, owned is True


def documented(
    names: Sequence[str], sources: Sequence[Hit], owners: Mapping[str, str] | None = None
) -> tuple[str, int] | None:
    """The first sentence of the documentation of a definition of one of `names` (tried in order), and
    the number (1-based) of the best-ranked source that holds it; None when no source defines and
    documents one. A name `owners` gives an owner ("Client.Close") is answered by that owner's
    definition, else by one whose owner the passage does not show, never by another owner's."""
    for name in names:
        unsure: tuple[str, int] | None = None  # a definition whose owner lies above its passage
        for number, lines, at, owned in _definitions(name, sources, (owners or {}).get(name)):
            if not owned and unsure is not None:
                continue
            sentence = _first_sentence(_docstring_after(lines, at) or _comments_before(lines, at, name))
            if sentence and owned:
                return sentence, number
            if sentence:
                unsure = sentence, number
        if unsure is not None:
            return unsure
    return None


def defined_where(question: str, is_term: Callable[[str], bool]) -> list[str]:
    """The names a question asks where they are defined ("Where is connect defined?" → ["connect"]): those
    it writes as code, then its other words that `is_term` takes for content ("the Session class" →
    "Session", "class"); [] for any other question."""
    asked = _DEFINED_WHERE_RE.match(question)
    if asked is None:
        return []
    subject = next(part for part in asked.groups() if part is not None)
    names = named_identifiers(subject)
    return names + [word for word in plain_names(subject, is_term) if word not in names]


def defining_line(
    names: Sequence[str], sources: Sequence[Hit], owners: Mapping[str, str] | None = None
) -> tuple[str, int] | None:
    """The line that defines one of `names` (tried in order) as it is written, and the number (1-based)
    of the best-ranked source that holds it; None when no source defines one. Only the identifier itself
    counts: a passage that shares its stem ("#define CONNECT_TIMEOUT" for `connect`, whose "define" is
    the question's "defined") may rank above the definition, but does not define it. A name `owners`
    gives an owner is answered by that owner's definition first, as in `documented`."""
    for name in names:
        unsure: tuple[str, int] | None = None
        for number, lines, at, owned in _definitions(name, sources, (owners or {}).get(name)):
            line = lines[at].strip()[:MAX_ANSWER_CHARS]
            if owned:
                return line, number
            unsure = unsure or (line, number)
        if unsure is not None:
            return unsure
    return None
