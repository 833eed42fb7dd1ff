"""Documents written as source: Org, AsciiDoc, LaTeX and Texinfo, titled by their own title and cut into
passages at their section headings, as Markdown and reStructuredText are.

People keep notes in Org mode, write books and manuals in AsciiDoc and Texinfo, and papers in LaTeX; read
as plain code, their passages were windows that ran from one section into the next. A heading is the
line that opens it (`** Heading`, `== Section`, `\\subsection{Title}`, `@section Title`), found by one
anchored pattern per syntax (each a run of simple classes: linear time), its level read from the syntax
itself. Headings inside a block shown as written or commented out (Org's `#+BEGIN_SRC`, AsciiDoc's `----`
listings and `////` comments, LaTeX's `verbatim`, Texinfo's `@example`) are left alone; a block ends at
its own closing line only.
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
# the TODO keywords an Org file declares: "#+SEQ_TODO: NEXT(n) WAITING(w@/!) | DONE(d)"
_ORG_DECLARED_RE = re.compile(r"^#\+(?:seq_|typ_)?todo:[ \t]*(.*)$", re.MULTILINE | re.IGNORECASE)
_ORG_KEYWORDS = ("TODO", "DONE")  # Org's own
_LATEX_MARKUP_RE = re.compile(r"\\label\{[^}]*\}?|\\[A-Za-z]+\*?|[{}]")  # "\emph{x} \label{s:x}" → "x"
# Texinfo's markup: "@code{" and its "}" left out, "@@", "@{" and "@}" the character they escape
_TEXINFO_MARKUP_RE = re.compile(r"@([@{}])|@[A-Za-z]+\{|[{}]")


@dataclass(frozen=True)
class _Syntax:
    heading: re.Pattern[str]  # group 1: the marker its level is read from; group 2: its text
    level: Callable[[str], int]
    title: re.Pattern[str]  # the document's own title, group 1 its text
    # A line that opens or closes a block shown as written or left out: group "kind" names the block,
    # "begin" or "end" matches where only one of the two is meant (AsciiDoc's delimiters do both).
    verbatim: re.Pattern[str]
    tidy: Callable[[str], str] = str.strip
    # a heading's words without what the document's own declarations make bookkeeping (Org's TODO keywords)
    states: Callable[[str], Callable[[str], str]] | None = None


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


def _texinfo_text(text: str) -> str:
    """A Texinfo title's or heading's words without its markup ("Invoking @command{grep}" → "Invoking
    grep"), as a LaTeX heading's are read without theirs: titles are shown and indexed with passages."""
    return " ".join(_TEXINFO_MARKUP_RE.sub(lambda found: found[1] or "", text).split())


def _org_heading(text: str) -> str:
    head, _, last = text.strip().rpartition(" ")
    return head.strip() if head and _ORG_TAGS_RE.fullmatch(last) else text.strip()


def _org_states(text: str) -> Callable[[str], str]:
    """An Org heading's words without its TODO keyword and priority cookie ("TODO [#A] Write report" →
    "Write report"), as its tags are left out: they are the task's state, not what it is called. The
    keywords are TODO and DONE and those the file declares (`#+TODO:`, `#+SEQ_TODO:`, `#+TYP_TODO:`),
    each a word of its own ("TODOS for the week" keeps it); a heading of nothing else keeps it."""
    declared = (word.split("(")[0] for line in _ORG_DECLARED_RE.findall(text) for word in line.split())
    keywords = sorted({*_ORG_KEYWORDS, *(word for word in declared if word and word != "|")}, key=len, reverse=True)
    marks = re.compile(rf"(?:(?:{'|'.join(map(re.escape, keywords))})(?:[ \t]+|$))?(?:\[#(?:[A-Z]|\d+)\](?:[ \t]+|$))?")

    def words(heading: str) -> str:
        found = marks.match(heading)  # always matches: everything it looks for is optional
        return (heading[found.end() :] if found else heading) or heading

    return words


_ORG = _Syntax(
    re.compile(r"^(\*+)[ \t]+(\S.*)$", re.MULTILINE),
    len,  # "*" 1, "**" 2, …
    re.compile(r"^#\+title:[ \t]*(\S.*)$", re.MULTILINE | re.IGNORECASE),
    re.compile(
        r"^[ \t]*#\+(?:(?P<begin>begin)|(?P<end>end))_(?P<kind>src|example|verse|quote|export|comment)\b",
        re.MULTILINE | re.IGNORECASE,
    ),
    _org_heading,
    _org_states,
)
_ASCIIDOC = _Syntax(
    re.compile(r"^(={1,6})[ \t]+(\S.*)$", re.MULTILINE),
    len,  # "=" the document's title, "==" a section, …
    re.compile(r"^=[ \t]+(\S.*)$", re.MULTILINE),
    # listing, literal, comment and fenced blocks; closed by the same delimiter (a fence: "```" alone)
    re.compile(r"^(?P<kind>-{4,}|\.{4,}|/{4,}|```)(?:(?<=```).*)?$", re.MULTILINE),
)
_LATEX = _Syntax(
    re.compile(
        r"^[ \t]*\\(part|chapter|section|subsection|subsubsection|paragraph)\*?(?:\[[^\]\n]*\])?\{(.*)$", re.MULTILINE
    ),
    _LATEX_LEVELS.__getitem__,
    re.compile(r"^[ \t]*\\title(?:\[[^\]\n]*\])?\{(.*)$", re.MULTILINE),
    # `\end{verbatim}` ends the block wherever it stands, even on the line that began it
    re.compile(
        r"(?:^[ \t]*\\(?P<begin>begin)|\\(?P<end>end))\{(?P<kind>(?:verbatim|lstlisting|minted|comment)\*?)\}",
        re.MULTILINE,
    ),
    lambda text: " ".join(_LATEX_MARKUP_RE.sub(" ", _braced(text)).split()),
)
_TEXINFO = _Syntax(
    re.compile(rf"^@({'|'.join(_TEXINFO_LEVELS)})[ \t]+(\S.*)$", re.MULTILINE),
    _TEXINFO_LEVELS.__getitem__,
    re.compile(r"^@settitle[ \t]+(\S.*)$", re.MULTILINE),
    re.compile(
        r"^@(?:(?P<end>end[ \t]+)|(?P<begin>))(?P<kind>example|verbatim|smallexample|lisp|display|format|ignore)\b",
        re.MULTILINE,
    ),
    _texinfo_text,
)
_SYNTAXES = {
    ".org": _ORG,
    ".adoc": _ASCIIDOC,
    ".asciidoc": _ASCIIDOC,
    ".tex": _LATEX,
    ".texi": _TEXINFO,
    ".texinfo": _TEXINFO,
}


def _after_fence(block: str | None, fence: re.Match[str]) -> str | None:
    """The block the text is in after `fence`: a block ends only at its own kind's closing line, so
    another block's delimiter inside it (a "...." in a "----" listing) neither ends nor starts one."""
    marks = fence.groupdict()
    kind = fence["kind"].lower()
    if block is None:
        return None if marks.get("end") is not None else kind
    return None if kind == block and marks.get("begin") is None else block


def outline_headings(text: str, suffix: str) -> Iterator[Heading]:
    """(offset, level, heading) of each section heading of a document in the syntax `suffix` names,
    outside its verbatim blocks, in order (lazily: a title needs only the first)."""
    syntax = _SYNTAXES[suffix]
    fences = list(syntax.verbatim.finditer(text))
    words = syntax.states(text) if syntax.states is not None else None
    block: str | None = None  # the kind of block the text is in (None: none)
    passed = 0
    for match in syntax.heading.finditer(text):
        while passed < len(fences) and fences[passed].start() < match.start():
            block = _after_fence(block, fences[passed])
            passed += 1
        heading = syntax.tidy(match.group(2))
        heading = words(heading) if words is not None else heading
        if block is None and heading:
            yield match.start(), min(syntax.level(match.group(1)), MAX_HEADING_LEVEL), heading


class OutlineReader(SuffixReader):
    """Org, AsciiDoc, LaTeX and Texinfo files: one document each, titled by its own title (else its first
    heading, else its name), cut at its section headings."""

    name = "outline"
    # 2: a block ends at its own closing line only; comment blocks; Texinfo headings without markup
    # 3: Org headings without their TODO keywords and priorities (`readers.base.reader_edition`)
    version = 3
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
