"""Plain text files (.txt, .text): the whole file is one document; huge files stream in segments."""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Iterator

from ragcli.readers.base import Skip, SourceInput, SuffixReader
from ragcli.records import Document
from ragcli.terminal_text import without_terminal_sequences

STREAM_TEXT_BYTES = 16 << 20  # uncompressed text files larger than this are read in segments
SEGMENT_CHARS = 1 << 20  # characters per segment of a streamed file

TitleFinder = Callable[[str], "str | None"]
Rejecter = Callable[[str], "str | None"]  # a file's text (the first segment of a huge one) → why to skip it


def first_line_title(text: str) -> str | None:
    """A plain-text title: a short first line followed by a blank line."""
    lines = text.lstrip("\n").split("\n", 2)
    if len(lines) >= 2 and 0 < len(lines[0].strip()) <= 120 and not lines[1].strip():
        return lines[0].strip()
    return None


def _segment_end(text: str) -> int:
    """Where to cut a segment: the last whitespace before SEGMENT_CHARS (else there, mid-word)."""
    cut = max(text.rfind(" ", 0, SEGMENT_CHARS), text.rfind("\n", 0, SEGMENT_CHARS))
    return cut + 1 if cut > 0 else SEGMENT_CHARS


def _segments(source: SourceInput, title: str, reject: Rejecter | None = None) -> Iterator[Document]:
    """A huge text file as consecutive segments of one document: memory stays bounded. `reject` judges
    the first segment."""
    source.sniff_binary()
    # line endings made "\n" as `SourceInput.read_text` makes them, a "\r\n" cut between blocks too
    decoder = io.IncrementalNewlineDecoder(codecs.getincrementaldecoder("utf-8")(errors="replace"), translate=True)
    pending, offset, line, ordinal, started = "", 0, 1, 0, False
    while True:
        block = source.stream.read(1 << 20)
        pending += decoder.decode(block, final=not block)
        while len(pending) >= SEGMENT_CHARS or (not block and pending):
            cut = len(pending) if not block and len(pending) < SEGMENT_CHARS else _segment_end(pending)
            text, pending = without_terminal_sequences(pending[:cut]), pending[cut:]
            if reject is not None and offset == 0 and (reason := reject(text)) is not None:
                raise Skip(reason)
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
        if not block:
            break


def read_text_document(
    source: SourceInput, find_title: TitleFinder, default_title: str | None = None, reject: Rejecter | None = None
) -> Iterator[Document]:
    """A text file as one document titled by `find_title` (else `default_title`, else its name without
    the suffix); huge files in segments. A reason from `reject` skips the file (`readers.generated`)."""
    fallback = default_title or source.stem
    if not source.compressed and source.size > STREAM_TEXT_BYTES:
        yield from _segments(source, fallback, reject)
        return
    text = source.read_text()
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
