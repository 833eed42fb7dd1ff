"""Rich Text Format (.rtf, TextEdit's and WordPad's default): the text, not the markup.

Read as plain text before, a note saved by TextEdit indexed its control words ("ansicpg1252",
"cocoartf2639", "fonttbl", "fswiss", "red255"…) and its font and colour tables around the words.
Converted with striprtf (the `rtf` extra, imported only when an .rtf is read): destinations that hold
no text (font, colour and style tables, document info, pictures) are dropped, `\\par` becomes a line
break, `\\'e9` and `\\u8212` their characters in the document's code page. One document per file,
titled by a short first line followed by a blank line, else the file name. Every passage cites the
file's first line: the text's lines are not the file's (the header and tables take lines of their own,
a paragraph may span several or share one), and striprtf says nothing of where a character came from.
A file without the `{\\rtf` header is skipped as "not an RTF document"; one striprtf cannot convert as
"damaged RTF (…)".
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

from ragcli.readers.base import Skip, SourceInput, SuffixReader, problem, universal_newlines
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
    # 2: a character past U+FFFF read from its surrogate pair (`readers.base.reader_edition`)
    version = 2
    suffixes = frozenset({".rtf"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        rtf = source.read_text()
        if not _HEADER_RE.match(rtf):
            raise Skip("not an RTF document (no {\\rtf header)")
        try:
            from striprtf.striprtf import font_table_group, rtf_to_text
        except ImportError:
            raise Skip("RTF support is not installed (pip install 'ragcli[rtf]')") from None
        fonts = len(font_table_group(rtf))
        if fonts > MAX_FONT_TABLE:
            raise Skip(f"damaged RTF (a font table of {fonts:,} characters: unclosed, or more than 64 KiB)")
        try:
            text = rtf_to_text(_FIELD_START_RE.sub("\n{\\\\field", rtf), encoding=_codec(rtf), errors="replace")
        except _STRIPRTF_ERRORS as exc:
            raise Skip(f"damaged RTF ({problem(exc)})") from None
        text = universal_newlines(without_terminal_sequences(_paired(text)))
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
