"""Plain text files (.txt, .text): the whole file is one document; huge files stream in segments."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ragcli.readers.base import DecodingTally, Skip, SourceInput, SuffixReader, decode_from, universal_newlines
from ragcli.records import Document
from ragcli.terminal_text import without_terminal_sequences

STREAM_TEXT_BYTES = 16 << 20  # uncompressed text files larger than this are read in segments
UTF8_PER_WIDE_BYTE = 1.5  # UTF-16 text as UTF-8 holds at most 3 bytes for 2 (UTF-32: fewer than 4 for 4)
SEGMENT_CHARS = 1 << 20  # characters per segment of a streamed file
STREAM_BLOCK_BYTES = 1 << 20  # bytes read, and decoded, at a time from a streamed file
HELD_LINE_CHARS = 1 << 16  # the longest unfinished line a streamed file's block holds back for the next

TitleFinder = Callable[[str], "str | None"]
Rejecter = Callable[[str], "str | None"]  # a file's text (the first segment of a huge one) → why to skip it
FrontFinder = Callable[[str], int]  # a file's text (the first segment…) → how much of its start is no text
Shower = Callable[[str], str]  # a segment's text → what of it is shown (the same length: lines and offsets kept)
BlockFinder = Callable[[str, int], int]  # a text, a limit → where its last block starting before it starts, or 0


def first_line_title(text: str) -> str | None:
    """A plain-text title: a short first line followed by a blank line."""
    lines = text.lstrip("\n").split("\n", 2)
    if len(lines) >= 2 and 0 < len(lines[0].strip()) <= 120 and not lines[1].strip():
        return lines[0].strip()
    return None


def streams(source: SourceInput) -> bool:
    """Whether a text file is read in segments: when it is larger than STREAM_TEXT_BYTES, or than
    --max-expanded-size, which bounds only what is read whole, so an uncompressed text file of any size
    is read, at a cost its size on disk bounds. A compressed one is read whole: what it expands to is
    known only once read, and the limit is what keeps a small bomb from costing the build."""
    if source.compressed:
        return False
    expanded = source.size * UTF8_PER_WIDE_BYTE if source.transcoded else source.size  # UTF-16 read as UTF-8
    return expanded > min(STREAM_TEXT_BYTES, source.context.max_bytes)


def _segment_end(text: str, block_start: BlockFinder | None = None) -> int:
    """Where to cut a segment: where the last block `block_start` finds before SEGMENT_CHARS starts
    (Markdown's: no comment or code is cut in two), else the last whitespace before it (else there)."""
    if block_start is not None and (block := block_start(text, SEGMENT_CHARS)) > 0:
        return block
    cut = max(text.rfind(" ", 0, SEGMENT_CHARS), text.rfind("\n", 0, SEGMENT_CHARS))
    return cut + 1 if cut > 0 else SEGMENT_CHARS


class _BlockDecoder:
    """A streamed file's bytes decoded block by block, each block by the whole file's rule
    (`decode_from`: UTF-8, UTF-8 with a few bad bytes replaced, else cp1252, else Latin-1), and counted
    for one warning: a Windows-1252 file over `STREAM_TEXT_BYTES` is read as the same file under it is.
    A UTF-8 character cut at a block's end is decoded with the next block; the first block loses its
    byte-order mark."""

    def __init__(self) -> None:
        self.decodings = DecodingTally()
        self._carry = b""
        self._first = True

    def decode(self, data: bytes, final: bool = False) -> str:
        data = self._carry + data
        cut = len(data) if final else _utf8_whole(data)
        data, self._carry = data[:cut], data[cut:]
        if not data:
            return ""
        decoded = decode_from(data, "utf-8-sig" if self._first else "utf-8")
        self._first = False
        return self.decodings.text(decoded)


class _LineEnds:
    """The pieces of a streamed text as `SourceInput.read_text` makes a whole one: terminal sequences
    removed, then line endings made "\\n" (`universal_newlines`). Whether a lone "\\r" breaks lines (a
    classic Mac OS text: no "\\n") is decided by the first piece that holds a line break, unless the
    format decides (`lone_cr_breaks`, as `SourceInput.read_text` takes it). The last line
    of a piece is held back for the next while it is at most `HELD_LINE_CHARS` long: the next piece may
    end its "\\r\\n" or a terminal sequence, or overwrite it after a lone "\\r" (a longer line is let
    go as it stands: a "\\r" past that point overwrites only what follows it)."""

    def __init__(self, lone_cr_breaks: bool | None = None) -> None:
        self._classic_mac = lone_cr_breaks
        self._held = ""

    def text(self, piece: str, final: bool) -> str:
        text, self._held = self._held + piece, ""
        if self._classic_mac is None and ("\n" in text or "\r" in text[:-1] or final):
            self._classic_mac = "\n" not in text
        if not final:
            # a "\r" that ends the piece may start a "\r\n": it is held back with its line
            end = max(text.rfind("\r", 0, len(text) - 1), text.rfind("\n")) if self._classic_mac else text.rfind("\n")
            end += 1
            if len(text) - end <= HELD_LINE_CHARS:
                text, self._held = text[:end], text[end:]
        return universal_newlines(without_terminal_sequences(text), self._classic_mac)


def _utf8_whole(data: bytes) -> int:
    """How many bytes of `data` end before a UTF-8 character its end cuts (all of them when none is)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return len(data)
        if byte >= 0xC0:  # the lead byte of a character of 2, 3 or 4 bytes
            needed = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) - back if needed > back else len(data)
    return len(data)


def _segments(
    source: SourceInput,
    find_title: TitleFinder,
    fallback: str,
    reject: Rejecter | None = None,
    front: FrontFinder | None = None,
    lone_cr_breaks: bool | None = None,
    markup: tuple[BlockFinder, Shower] | None = None,
) -> Iterator[Document]:
    """A huge text file as consecutive segments of one document: memory stays bounded. The first
    segment is judged by `reject`, titles the document (`find_title`) and loses what `front` finds;
    with `markup`, segments are cut where a block starts, and each is read as what of it is shown."""
    source.sniff_binary()
    # decoded, and line endings made, as `read_text` does
    blocks, line_ends = _BlockDecoder(), _LineEnds(lone_cr_breaks)
    pending, offset, line, ordinal, started, first = "", 0, 1, 0, False, True
    title = fallback
    position = 0  # bytes read
    while True:
        read = source.stream.read(STREAM_BLOCK_BYTES)
        block = source.text_before_nul(read, position)
        final = not read or len(block) < len(read)
        position += len(read)
        pending += line_ends.text(blocks.decode(block, final=final), final=final)
        while len(pending) >= SEGMENT_CHARS or (final and pending):
            cut = (
                len(pending) if final and len(pending) < SEGMENT_CHARS else _segment_end(pending, markup and markup[0])
            )
            text, pending = pending[:cut], pending[cut:]
            if first:
                first = False
                if reject is not None and (reason := reject(text)) is not None:
                    raise Skip(reason)
                title = find_title(text) or fallback
                if front is not None and (opening := front(text)):
                    line += text.count("\n", 0, opening)
                    text = text[opening:]
            if markup is not None:
                text = markup[1](text)
            yield Document(
                source.rel,
                text,
                title,
                source.rel,
                line=line,
                offset=offset,
                first_ordinal=ordinal,
                continuation=started,
            )
            if started or text.strip():  # a blank first segment is dropped: the next one starts the document
                started = True
                ordinal += len(text.split()) + 1  # more than its passages: ids stay unique
            offset += len(text)
            line += text.count("\n")
        if final:
            break
    if (warning := blocks.decodings.warning(source.rel)) is not None:
        source.context.warn(warning)


def read_text_document(
    source: SourceInput,
    find_title: TitleFinder,
    default_title: str | None = None,
    reject: Rejecter | None = None,
    front: FrontFinder | None = None,
    lone_cr_breaks: bool | None = None,
    markup: tuple[BlockFinder, Shower] | None = None,
) -> Iterator[Document]:
    """A text file as one document titled by `find_title` (else `default_title`, else its name without
    the suffix); huge files in segments, titled and judged by the first, which loses what `front` finds
    at its start (Markdown's front matter: the Markdown reader reads a smaller file itself). A reason
    from `reject` skips the file (`readers.generated`). `lone_cr_breaks` as `SourceInput.read_text`;
    `markup` (a huge Markdown file's: where a block starts, what is shown) as `_segments` takes it."""
    fallback = default_title or source.stem
    if streams(source):
        yield from _segments(source, find_title, fallback, reject, front, lone_cr_breaks, markup)
        return
    text = source.read_text(lone_cr_breaks=lone_cr_breaks)
    if reject is not None and (reason := reject(text)) is not None:
        raise Skip(reason)
    heading = find_title(text)
    yield Document(source.rel, text, heading or fallback, source.rel, title_in_text=heading is not None)


class TextReader(SuffixReader):
    name = "text"
    suffixes = frozenset({".txt", ".text"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        return read_text_document(source, first_line_title)


READER = TextReader()
