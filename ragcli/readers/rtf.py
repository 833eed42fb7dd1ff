"""Rich Text Format (.rtf, TextEdit's and WordPad's default): the text, not the markup.

Read as plain text before, a note saved by TextEdit indexed its control words ("ansicpg1252",
"cocoartf2639", "fonttbl", "fswiss", "red255"…) and its font and colour tables around the words.
Converted with striprtf (the `rtf` extra, imported only when an .rtf is read): destinations that hold
no text (font, colour and style tables, document info, pictures) are dropped, `\\par` becomes a line
break, `\\'e9` and `\\u8212` their characters in the document's code page; `\\binN` and its N raw bytes
are cut out first (`_without_bin_data`): striprtf would read them as text. One document per file,
titled by a short first line followed by a blank line, else the file name. Every passage cites the
file's first line: the text's lines are not the file's (the header and tables take lines of their own,
a paragraph may span several or share one), and striprtf says nothing of where a character came from.
A file without the `{\\rtf` header is skipped as "not an RTF document"; one striprtf cannot convert as
"damaged RTF (…)".

Beside the body, as the Word reader reads them: footnotes and endnotes (`{\\footnote …}`,
`{\\footnote\\ftnalt …}`), each after the line that refers to it ("Footnote: …"), and the headers and
footers (`{\\header …}`, `{\\footerl …}`…), each distinct one once after the body ("Header: …").
striprtf drops all of them as destinations that hold no text: they are marked for it to keep, and set
out of the body afterwards (`_asides_marked`, `_set_out`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

from ragcli.readers.base import (
    Skip,
    SourceInput,
    SuffixReader,
    labelled,
    page_furniture,
    problem,
    universal_newlines,
)
from ragcli.readers.text import first_line_title
from ragcli.records import Document, same_line
from ragcli.terminal_text import without_terminal_sequences

_HEADER_RE = re.compile(r"^\s*\{\\rtf")
_CODE_PAGE_RE = re.compile(r"\\ansicpg(\d+)")  # the document's code page, for \'hh escapes
# What striprtf raises on malformed input: a bad number or hex escape (ValueError), a code page Python
# lacks (LookupError), a number past chr()'s range (OverflowError), and, on a control word missing
# its number (`\uc` alone), TypeError: it does int(None). Errors of the data: the file is skipped.
_STRIPRTF_ERRORS = (ValueError, IndexError, LookupError, OverflowError, TypeError)
# striprtf (0.0.35, the latest) reads hyperlinks with a pattern of two `.*` on one line, which backtracks
# cubically on a line of many fields (2,000 on a 70 KB line ran for minutes). RTF ignores line breaks,
# so each field is put on a line of its own: the pattern then works one field at a time.
_FIELD_START_RE = re.compile(r"(?<!\\)\{\\field\b")
# It reads the font table with a pattern quadratic in the table's length, and an unclosed table runs to
# the end of the document (160 KB took 33 s). Real tables hold a few hundred fonts in a few KB.
MAX_FONT_TABLE = 64 * 1024
# `\binN` and the N raw bytes after it (a picture's data, NULs and all), its one space delimiter
# included; an escaped backslash is matched first so that `\\bin5` stays text. 12 digits are past any
# file's end already (and int() refuses a number of thousands of digits).
_BIN_RE = re.compile(rb"\\\\|\\bin(\d{1,12}) ?")


# A `\uN` (N is a signed 16-bit number, 0..65535 read as well) striprtf writes as chr(N), or chr(N +
# 65536) if negative, without a check: one N past chr()'s range raised ValueError and skipped the whole
# file as damaged. Each N outside RTF's range is written as U+FFFD's (65533) before striprtf reads the
# file, so that one bad character costs one character; striprtf is not forked for one check. An escaped
# backslash is matched first so that `\\u99999` stays text.
_UNICODE_RE = re.compile(r"\\\\|\\u(-?\d{1,10})")  # striprtf reads at most 10 digits too
_UNICODE_RANGE = range(-32768, 65536)


def _unicode_clamped(rtf: str) -> str:
    """`rtf` with each `\\uN` whose N is out of RTF's range made `\\u65533` (U+FFFD)."""

    def clamped(found: re.Match[str]) -> str:
        number = found.group(1)
        return found.group() if number is None or int(number) in _UNICODE_RANGE else "\\u65533"

    return _UNICODE_RE.sub(clamped, rtf)


def _without_bin_data(rtf: bytes) -> bytes:
    """`rtf` with each `\\binN` and its N bytes cut out: striprtf knows no `\\bin` and would read the bytes
    as text, and a NUL among them made the file "binary content"."""
    pieces: list[bytes] = []
    position = 0
    while found := _BIN_RE.search(rtf, position):
        if found.group(1) is None:  # an escaped backslash
            pieces.append(rtf[position : found.end()])
            position = found.end()
            continue
        pieces.append(rtf[position : found.start()])
        position = found.end() + int(found.group(1))
    pieces.append(rtf[position:])
    return b"".join(pieces)


# Each font's charset, for its \'hh escapes. striprtf reads the font table with one pattern that runs
# from a font's \fN to the next \fcharset wherever it stands: a font declaring none takes the next
# font's charset, and that font is lost (its letters then read in the document's code page: Cyrillic
# as "Ïðèâåò"); and text before any \f is not read in the default font (\deffN). striprtf takes no font
# map, so the table is written again in the one form its pattern reads right (`_fonts_declared`), which
# needs a small parser of our own: each font's declaration runs from its \fN to the next font's.
_FONT_RE = re.compile(r"(?<!\\)\\f(\d+)")
_CHARSET_RE = re.compile(r"\\fcharset(\d+)")
_DEFAULT_FONT_RE = re.compile(r"(?<!\\)\\deff(\d+)")
# RTF's DEFAULT_CHARSET, for a font that declares none: striprtf reads it in the document's code page
DEFAULT_CHARSET = 1


def _fonts_declared(rtf: str, table: str) -> str:
    """`rtf` with its font table `table` (striprtf's `font_table_group`) written again as one
    `{\\fN\\fcharsetM F;}` per font, each with its own charset, and followed by the default font (\\deffN)
    for the text that names none. A table that runs to the end of the file (unclosed) is left: striprtf
    reads nothing after it anyway."""
    start = rtf.find(table) if table else -1
    if start < 0 or start + len(table) >= len(rtf):
        return rtf
    fonts = list(_FONT_RE.finditer(table))
    entries = []
    for font, following in zip(fonts, [*fonts[1:], None], strict=True):
        charset = _CHARSET_RE.search(table, font.end(), following.start() if following else len(table))
        entries.append(f"{{\\f{font.group(1)}\\fcharset{charset.group(1) if charset else DEFAULT_CHARSET} F;}}")
    default = _DEFAULT_FONT_RE.search(rtf, 0, start)
    chosen = f"\\f{default.group(1)} " if default else ""
    return f"{rtf[:start]}{{\\fonttbl{''.join(entries)}}}{chosen}{rtf[start + len(table) :]}"


# Footnotes, headers and footers: striprtf drops these groups with the destinations that hold no text.
# Each outermost one is given to it as a plain group marked by noncharacters (which Unicode keeps for a
# program's own use, never text): one after its "{" saying what it is, one after its "}" where it ends.
# Inside the group its state is the one striprtf would give any group there: its font, its code page,
# and nothing at all where the group stands in one striprtf ignores (a field's instruction).
_ASIDE_RE = re.compile(
    r"\{[\r\n]*(?:\\\*[\r\n]*)?\\(footnote|header[lrf]?|footer[lrf]?)(?![a-zA-Z])(\\ftnalt(?![a-zA-Z]))? ?"
)
_BRACES_RE = re.compile(r"\\[\\{}]|[{}]")  # an escaped backslash or brace, or a group's start or end
_ASIDE_LABELS = {"\ufdd0": "Footnote", "\ufdd1": "Endnote", "\ufdd2": "Header", "\ufdd3": "Footer"}
_ASIDE_MARKS = {label: mark for mark, label in _ASIDE_LABELS.items()}
_ASIDE_END = "\ufdd4"
_ASIDE_RUN_RE = re.compile("([\ufdd0-\ufdd3])([^\ufdd0-\ufdd4]*)(?:\ufdd4|\\Z)")
_MARKS_RE = re.compile("[\ufdd0-\ufdd4]")
_NOTES = ("Footnote", "Endnote")


def _asides_marked(rtf: str) -> str:
    """`rtf` with each outermost footnote, header and footer group made a plain group striprtf reads,
    marked (`_ASIDE_LABELS`). One pass over the braces: a group inside a marked one is not looked for
    (a note holds no notes). The file's own noncharacters are dropped first; one a `\\uN` escape writes
    can only move the text around it (`_set_out` drops a mark without its other half)."""
    rtf = _MARKS_RE.sub("", rtf)
    pieces: list[str] = []
    position = depth = 0
    marked_at: int | None = None  # the depth of the marked group being read
    for brace in _BRACES_RE.finditer(rtf):
        if brace.group() == "{":
            depth += 1
            aside = _ASIDE_RE.match(rtf, brace.start()) if marked_at is None else None
            if aside is not None:
                name = aside.group(1)  # footnote, header, headerl… footer, footerf…
                kind = ("Endnote" if aside.group(2) else "Footnote") if name == "footnote" else name[:6].capitalize()
                pieces += [rtf[position : brace.start()], "{", _ASIDE_MARKS[kind]]
                position, marked_at = aside.end(), depth
        elif brace.group() == "}":
            if depth == marked_at:
                pieces += [rtf[position : brace.end()], _ASIDE_END]
                position, marked_at = brace.end(), None
            depth -= 1
    pieces.append(rtf[position:])
    return "".join(pieces)


def _set_out(text: str) -> str:
    """The converted text with each footnote and endnote after the line that refers to it, and the
    headers and footers after the body (`readers.base.page_furniture`)."""
    body: list[str] = []
    notes: list[str] = []  # lines waiting for the end of the line that refers to them
    furniture: dict[str, list[list[str]]] = {"Header": [], "Footer": []}
    position = 0
    for run in _ASIDE_RUN_RE.finditer(text):
        _settle(body, notes, text[position : run.start()])
        label = _ASIDE_LABELS[run.group(1)]
        lines = [line.strip() for line in run.group(2).split("\n") if line.strip()]
        if label in _NOTES:
            notes += labelled(label, lines)
        else:
            furniture[label].append(lines)
        position = run.end()
    _settle(body, notes, text[position:])
    after = notes + page_furniture((label, lines) for label, found in furniture.items() for lines in found)
    text = "".join(body)
    if not after:
        return text
    return text + ("" if text.endswith("\n") or not text else "\n") + "\n".join(after)


def _settle(body: list[str], notes: list[str], piece: str) -> None:
    """`piece` of the body added to `body`, the `notes` waiting placed after the line it ends, if it ends one."""
    piece = _MARKS_RE.sub("", piece)  # a mark without its other half (a file's own noncharacter)
    if notes and "\n" in piece:
        end = piece.index("\n")
        piece = piece[:end] + "\n" + "\n".join(notes) + piece[end:]
        notes.clear()
    body.append(piece)


def _paired(text: str) -> str:
    """`text` with each UTF-16 surrogate pair made the one character it stands for: RTF's `\\uN` is a
    16-bit unit, so Word writes 😀 as two, which striprtf turns into two lone surrogates (shown "??",
    found by no search). A surrogate without its pair becomes U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _codec(rtf: str) -> str:
    found = _CODE_PAGE_RE.search(rtf[:4096])
    codec = f"cp{found.group(1)}" if found else "cp1252"
    try:
        codecs.lookup(codec)
    except LookupError:  # a code page Python does not know: Windows-1252, RTF's default
        return "cp1252"
    return codec


class RtfReader(SuffixReader):
    name = "rtf"
    # 2: a character past U+FFFF read from its surrogate pair; 3: footnotes, endnotes, headers and
    # footers read; 4: each font's own charset, the default font's for text that names none
    # (`readers.base.reader_edition`); 5: a lone carriage return read as a line feed, not a terminal's
    # overwrite of its line (which lost the "{\rtf" header: "not an RTF document"); 6: `\binN`'s N bytes
    # skipped, not read as text (a NUL among them skipped the file as "binary content"); 7: a `\uN` out of
    # range read as U+FFFD (the file was skipped as damaged)
    version = 7
    suffixes = frozenset({".rtf"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        # RTF reads a carriage return or a line feed as nothing (a "\par" breaks lines): a lone "\r" is no
        # terminal's overwrite here, which would write over "{\rtf1" and lose the header
        rtf = source.read_text(lone_cr_breaks=True, without_data=_without_bin_data)
        if not _HEADER_RE.match(rtf):
            raise Skip("not an RTF document (no {\\rtf header)")
        rtf = _unicode_clamped(rtf)
        try:
            from striprtf.striprtf import font_table_group, rtf_to_text
        except ImportError:
            raise Skip("RTF support is not installed (pip install 'ragcli[rtf]')") from None
        table = font_table_group(rtf)
        if len(table) > MAX_FONT_TABLE:
            raise Skip(f"damaged RTF (a font table of {len(table):,} characters: unclosed, or more than 64 KiB)")
        try:
            marked = _FIELD_START_RE.sub("\n{\\\\field", _asides_marked(_fonts_declared(rtf, table)))
            text = rtf_to_text(marked, encoding=_codec(rtf), errors="replace")
        except _STRIPRTF_ERRORS as exc:
            raise Skip(f"damaged RTF ({problem(exc)})") from None
        text = _set_out(universal_newlines(without_terminal_sequences(_paired(text))))
        heading = first_line_title(text)
        yield Document(
            source.rel,
            text,
            heading or source.stem,
            source.rel,
            title_in_text=heading is not None,
            line_map=same_line(1),
        )


READER = RtfReader()
