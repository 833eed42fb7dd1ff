"""The reader seam: the `Reader` protocol, its registry, and what every reader shares.

A reader claims files by name (`claims`), may take over a whole folder (`folder_files`, as a BEIR
dataset does), and turns one opened file (`SourceInput`) into documents. Everything around that is
done once, in `ragcli.readers.walk`: walking folders, opening and hashing files, decompressing `.gz`,
recording sources and skips, dropping empty and duplicate documents. Binary sniffing is the claiming
reader's business (`SourceInput.read_text` does it for text formats), so a PDF reader can exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from ragcli.errors import InputFormatError
from ragcli.plugins import Registry
from ragcli.records import Document, Skipped, SourceFile

BINARY_SNIFF_BYTES = 8192
COMPRESSED_SUFFIX = ".gz"  # e.g. corpus.jsonl.gz: read through gzip, then by the inner suffix


class Skip(Exception):
    """Raised by a reader: the whole file yields nothing, for this reason (remembered on re-runs)."""


@dataclass
class RecordFields:
    """Which record fields hold the id, title and text (None: try the usual names)."""

    id: str | None = None
    text: str | None = None
    title: str | None = None


@dataclass
class ReadReport:
    sources: list[SourceFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ReadContext:
    """What a reader may consult and report to while it reads: the user's field names and strictness."""

    fields: RecordFields
    skip_invalid: bool
    report: ReadReport

    def warn(self, message: str) -> None:
        self.report.warnings.append(message)

    def bad_record(self, where: str, problem: str) -> None:
        """A malformed record: stop the build (exit 6), or with --skip-invalid list it and go on."""
        if not self.skip_invalid:
            raise InputFormatError(f"{where}: {problem}", hint="fix the record or pass --skip-invalid")
        self.report.skipped.append(Skipped(where, problem))


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8 (BOM allowed), falling back to Windows-1252 then Latin-1; return (text, codec)."""
    for codec in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:BINARY_SNIFF_BYTES]


def valid_unicode(name: str) -> str:
    """A file name as valid Unicode: bytes that were not UTF-8 (surrogate escapes) become �."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def inner_suffix(path: Path) -> str:
    """The format suffix, lower-cased, looking through a `.gz` (corpus.jsonl.gz → .jsonl)."""
    suffix = path.suffix.lower()
    return Path(path.stem).suffix.lower() if suffix == COMPRESSED_SUFFIX else suffix


@dataclass
class SourceInput:
    """One opened file, as a reader sees it: a buffered binary stream (already decompressed)."""

    rel: str  # the path relative to the indexed root: what documents cite
    path: Path
    size: int  # bytes on disk
    compressed: bool
    stream: IO[bytes]
    context: ReadContext

    @property
    def suffix(self) -> str:
        return inner_suffix(self.path)

    @property
    def stem(self) -> str:
        """The file name without its last suffix, as a fallback title."""
        return valid_unicode(self.path.stem)

    def sniff_binary(self) -> None:
        """Skip the file if its first bytes hold a NUL (binary content under a text name)."""
        peek: Callable[[int], bytes] | None = getattr(self.stream, "peek", None)
        head = peek(BINARY_SNIFF_BYTES) if peek is not None else b""
        if looks_binary(head[:BINARY_SNIFF_BYTES]):
            raise Skip("binary content")

    def read_text(self) -> str:
        """The whole file as text: binary content is skipped, non-UTF-8 read as cp1252/Latin-1 with a warning."""
        data = self.stream.read()
        if looks_binary(data):
            raise Skip("binary content")
        text, codec = decode_text(data)
        if codec != "utf-8-sig":
            self.context.warn(f"{self.rel}: not valid UTF-8, read as {codec}")
        return text


class Reader(Protocol):
    """A format family: which files it claims and how it reads one."""

    name: str

    def claims(self, path: Path) -> bool:
        """Whether this reader reads `path` (decided from its name alone, without reading it)."""
        ...

    def folder_files(self, folder: Path) -> list[Path] | None:
        """The files to read instead of walking `folder` (a dataset folder), or None."""
        ...

    def read(self, source: SourceInput) -> Iterator[Document]:
        """The documents of one file; raise `Skip` to skip it whole with a reason."""
        ...


class SuffixReader:
    """A reader that claims files by suffix (compressed or not) and takes over no folder."""

    name = ""
    suffixes: frozenset[str] = frozenset()

    def claims(self, path: Path) -> bool:
        return inner_suffix(path) in self.suffixes

    def folder_files(self, folder: Path) -> list[Path] | None:
        return None

    def read(self, source: SourceInput) -> Iterator[Document]:
        raise NotImplementedError


READERS: Registry[Reader] = Registry(
    "reader", "ragcli.readers", order=("text", "markdown", "rst", "html", "json", "jsonl", "csv", "beir")
)


def reader_for(path: Path) -> Reader | None:
    """The first registered reader that claims `path` (built-ins are asked first)."""
    return next((reader for reader in READERS.all() if reader.claims(path)), None)
