"""Documents written as source: Org, AsciiDoc, LaTeX and Texinfo, titled by their own title and cut into
passages at their section headings, as Markdown and reStructuredText are.

People keep notes in Org mode, write books and manuals in AsciiDoc and Texinfo, and papers in LaTeX; read
as plain code, their passages were windows that ran from one section into the next. A heading is the
line that opens it (`** Heading`, `== Section`, `\\subsection{Title}`, `@section Title`), found by one
anchored pattern per syntax (each a run of simple classes: linear time), its level read from the syntax
itself. Headings inside a block shown as written (Org's `#+BEGIN_SRC`, AsciiDoc's `----` listings,
LaTeX's `verbatim`, Texinfo's `@example`) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ragcli.readers.base import SourceInput, SuffixReader
from ragcli.readers.text import read_text_document
from ragcli.records import MAX_HEADING_LEVEL, Document, Heading

_LATEX_LEVELS = {"part": 1, "chapter": 2, "section": 3, "subsection": 4, "subsubsection": 5, "paragraph": 6}
_TEXINFO_LEVELS = {
    **dict.fromkeys(("chapter", "unnumbered", "appendix", "majorheading", "chapheading"), 1),
    **dict.fromkeys(("section", "unnumberedsec", "appendixsec", "heading"), 2),
    **dict.fromkeys(("subsection", "unnumberedsubsec", "appendixsubsec", "subheading"), 3),
    **dict.fromkeys(("subsubsection", "unnumberedsubsubsec", "appendixsubsubsec", "subsubheading"), 4),
}
_ORG_TAGS_RE = re.compile(r":[\w@#%:]+:")  # an Org heading's trailing tags (":work:urgent:")
_LATEX_MARKUP_RE = re.compile(r"\\label\{[^}]*\}?|\\[A-Za-z]+\*?|[{}]")  # "\emph{x} \label{s:x}" → "x"


@dataclass(frozen=True)
class _Syntax:
    heading: re.Pattern[str]  # group 1: the marker its level is read from; group 2: its text
    level: Callable[[str], int]
    title: re.Pattern[str]  # the document's own title, group 1 its text
    verbatim: re.Pattern[str]  # a line that opens or closes a block shown as written
    tidy: Callable[[str], str] = str.strip


def _braced(text: str) -> str:
    """The argument a LaTeX command's "{" opened, up to the brace that closes it: `text` is what follows
    that "{" on its line ("The \\emph{new} way} text" → "The \\emph{new} way")."""
    depth = 0
    for at, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return text[:at]
            depth -= 1
    return text


def _org_heading(text: str) -> str:
    head, _, last = text.strip().rpartition(" ")
    return head.strip() if head and _ORG_TAGS_RE.fullmatch(last) else text.strip()


_ORG = _Syntax(
    re.compile(r"^(\*+)[ \t]+(\S.*)$", re.MULTILINE),
    len,  # "*" 1, "**" 2, …
    re.compile(r"^#\+title:[ \t]*(\S.*)$", re.MULTILINE | re.IGNORECASE),
    re.compile(r"^[ \t]*#\+(?:begin|end)_(?:src|example|verse|quote|export)\b", re.MULTILINE | re.IGNORECASE),
    _org_heading,
)
_ASCIIDOC = _Syntax(
    re.compile(r"^(={1,6})[ \t]+(\S.*)$", re.MULTILINE),
    len,  # "=" the document's title, "==" a section, …
    re.compile(r"^=[ \t]+(\S.*)$", re.MULTILINE),
    re.compile(r"^(?:-{4,}|\.{4,}|```.*)$", re.MULTILINE),  # listing, literal and fenced blocks
)
_LATEX = _Syntax(
    re.compile(
        r"^[ \t]*\\(part|chapter|section|subsection|subsubsection|paragraph)\*?(?:\[[^\]\n]*\])?\{(.*)$", re.MULTILINE
    ),
    _LATEX_LEVELS.__getitem__,
    re.compile(r"^[ \t]*\\title(?:\[[^\]\n]*\])?\{(.*)$", re.MULTILINE),
    re.compile(r"^[ \t]*\\(?:begin|end)\{(?:verbatim|lstlisting|minted|comment)\*?\}", re.MULTILINE),
    lambda text: " ".join(_LATEX_MARKUP_RE.sub(" ", _braced(text)).split()),
)
_TEXINFO = _Syntax(
    re.compile(rf"^@({'|'.join(_TEXINFO_LEVELS)})[ \t]+(\S.*)$", re.MULTILINE),
    _TEXINFO_LEVELS.__getitem__,
    re.compile(r"^@settitle[ \t]+(\S.*)$", re.MULTILINE),
    re.compile(r"^@(?:end[ \t]+)?(?:example|verbatim|smallexample|lisp|display|format|ignore)\b", re.MULTILINE),
)
_SYNTAXES = {
    ".org": _ORG,
    ".adoc": _ASCIIDOC,
    ".asciidoc": _ASCIIDOC,
    ".tex": _LATEX,
    ".texi": _TEXINFO,
    ".texinfo": _TEXINFO,
}


def outline_headings(text: str, suffix: str) -> Iterator[Heading]:
    """(offset, level, heading) of each section heading of a document in the syntax `suffix` names,
    outside its verbatim blocks, in order (lazily: a title needs only the first)."""
    syntax = _SYNTAXES[suffix]
    fences = [match.start() for match in syntax.verbatim.finditer(text)]
    inside, passed = False, 0
    for match in syntax.heading.finditer(text):
        while passed < len(fences) and fences[passed] < match.start():
            inside = not inside  # each fence line opens or closes a block
            passed += 1
        heading = syntax.tidy(match.group(2))
        if not inside and heading:
            yield match.start(), min(syntax.level(match.group(1)), MAX_HEADING_LEVEL), heading


class OutlineReader(SuffixReader):
    """Org, AsciiDoc, LaTeX and Texinfo files: one document each, titled by its own title (else its first
    heading, else its name), cut at its section headings."""

    name = "outline"
    suffixes = frozenset(_SYNTAXES)

    def read(self, source: SourceInput) -> Iterator[Document]:
        syntax = _SYNTAXES[source.suffix]

        def title(text: str) -> str | None:
            own = syntax.title.search(text)
            if own is not None:
                return syntax.tidy(own.group(1)) or None
            first = next(outline_headings(text, source.suffix), None)
            return first[2] if first is not None else None

        for document in read_text_document(source, title):
            document.headings = tuple(outline_headings(document.text, source.suffix))
            yield document


READER = OutlineReader()
