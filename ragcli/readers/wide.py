"""UTF-16 and UTF-32 text, told by its byte-order mark, read as the UTF-8 every reader expects.

Windows writes these: Notepad's "Unicode", Windows PowerShell's `>` and `Out-File`, Excel's "Unicode
Text" export (tab-separated). Their NUL bytes would make the file look binary, so the walk transcodes
them before any reader sees them, streaming (a file of any size is converted 64 KiB at a time). Without
a byte-order mark UTF-16 cannot be told from binary data, and is left to the binary check. The standard
library's incremental decoders do the work; nothing here parses UTF-16 by hand.
"""

from __future__ import annotations

import codecs
import io
from typing import IO

# longest first: UTF-32 LE's mark begins with UTF-16 LE's
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHUNK = 1 << 16


def wide_codec(head: bytes) -> str | None:
    """ "utf-16" or "utf-32" when `head` starts with that encoding's byte-order mark, else None."""
    return next((codec for mark, codec in _MARKS if head.startswith(mark)), None)


class _AsUtf8(io.RawIOBase):
    """A UTF-16/32 byte stream re-encoded as UTF-8; malformed input (an unpaired surrogate: binary data
    that happens to start like a mark) raises UnicodeDecodeError, a parse error the walk skips the file
    for."""

    def __init__(self, stream: IO[bytes], codec: str) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(codec)("strict")  # it consumes the mark itself
        self._pending = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending and not self._done:
            chunk = self._stream.read(_CHUNK)
            self._done = not chunk
            self._pending = memoryview(self._decoder.decode(chunk, final=self._done).encode("utf-8"))
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def as_utf8(stream: IO[bytes]) -> IO[bytes]:
    """`stream` itself, or, when it starts with a UTF-16/32 byte-order mark, its text as UTF-8 bytes (a
    buffered stream with `peek` and `readline`, as the walk gives readers)."""
    peek = getattr(stream, "peek", None)
    codec = wide_codec(peek(4)[:4]) if peek is not None else None
    if codec is None:
        return stream
    return io.BufferedReader(_AsUtf8(stream, codec), 1 << 20)
