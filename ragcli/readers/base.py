"""The reader seam: the `Reader` protocol, its registry, and what every reader shares.

A reader claims files by name (`claims`), may take over a whole folder (`folder_files`, as a BEIR
dataset does), and turns one opened file (`SourceInput`) into documents. Everything around that is
done once, in `ragcli.readers.walk`: walking folders, opening and hashing files, decompressing `.gz`,
recording sources and skips, dropping empty and duplicate documents. Binary sniffing is the claiming
reader's business (`SourceInput.read_text` does it for text formats), so a PDF reader can exist.

A corpus is untrusted: a reader reads through `SourceInput.read_bytes`, `read_text` and `lines`, which
never hold more than `ReadContext.max_bytes` of one file (or of one line) in memory, so a
decompression bomb or a gigabyte-long line is skipped with a reason instead of exhausting memory.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol, runtime_checkable

from ragcli.errors import InputFormatError, PluginError
from ragcli.plugins import Guarded, PluginFault, Registry
from ragcli.records import Document, Skipped, SourceFile, reason_kind
from ragcli.terminal_text import carriage_returns_overwritten, without_terminal_sequences

BINARY_SNIFF_BYTES = 8192
COMPRESSED_SUFFIX = ".gz"  # e.g. corpus.jsonl.gz: read through gzip, then by the inner suffix
DEFAULT_MAX_BYTES = 256 << 20  # the most one file read whole, or one line, may expand to (--max-expanded-size)
MAX_BYTES_OPTION = "--max-expanded-size"
# the kinds of reason a file's skipped records are counted by; past them, one more counts the rest (a
# reader's reasons that name a value reason_kind does not take out would make a kind of each record)
MAX_SKIP_KINDS = 20
OTHER_KINDS = "other reasons"


class Skip(Exception):
    """Raised by a reader: the whole file yields nothing, for this reason (remembered on re-runs)."""


# What parsing untrusted bytes may raise (bad numbers, bad encodings, deep nesting, damaged gzip or
# deflate data, bad CSV, a read past memory): such an error skips the file with the reason. Anything
# else a reader raises (TypeError, KeyError, AttributeError…) is a bug and is not caught.
PARSE_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,  # includes UnicodeError and json.JSONDecodeError
    RecursionError,
    zlib.error,
    csv.Error,
    EOFError,  # a truncated gzip stream
    OSError,  # gzip.BadGzipFile, an I/O error while reading
    MemoryError,
)


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
    ignored: int = 0  # files and folders left out by ignore files and --include/--exclude (not read)
    deleted: list[str] = field(default_factory=list)  # files gone between the walk and their read (left out)


@dataclass
class ReadContext:
    """What a reader may consult and report to while it reads: the user's field names and strictness."""

    fields: RecordFields
    strict: bool  # --strict: a malformed record stops the build (exit 6); by default it is skipped and listed
    report: ReadReport
    max_bytes: int = DEFAULT_MAX_BYTES  # the most one file read whole, or one line of a streamed file, may hold
    generated: bool = False  # --generated: read lock files, minified bundles, generated code too (readers.generated)
    # skipped records listed per file; the rest are counted by reason (a file of a billion bad records
    # must not become a billion report entries)
    listed_per_file: int = 1000
    _listed: int = field(default=0, init=False, repr=False)
    _unlisted: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _kinds: dict[str, int] = field(default_factory=dict, init=False, repr=False)  # this file's, listed or not
    _warned: set[str] = field(default_factory=set, init=False, repr=False)  # this file's `warn_once` kinds

    def warn(self, message: str) -> None:
        self.report.warnings.append(message)

    def warn_once(self, kind: str, message: str) -> None:
        """A warning given for the first record of a file that has a problem of this `kind`: a file of
        3,000 such records gives one line, not 3,000."""
        if kind not in self._warned:
            self._warned.add(kind)
            self.warn(message)

    def skip_record(self, where: str, reason: str) -> None:
        """A record left out (too long, empty, a duplicate id…): listed with the reason, the file goes on."""
        kind = reason_kind(reason)
        if kind not in self._kinds and len(self._kinds) >= MAX_SKIP_KINDS:
            kind = OTHER_KINDS
        self._kinds[kind] = self._kinds.get(kind, 0) + 1
        if self._listed < self.listed_per_file:
            self._listed += 1
            self.report.skipped.append(Skipped(where, reason, record=True))
        else:
            self._unlisted[kind] = self._unlisted.get(kind, 0) + 1

    def bad_record(self, where: str, problem: str) -> None:
        """A malformed record: listed with `file:line` and skipped, the file goes on; with --strict it
        stops the build (exit 6)."""
        self.stop_if_strict(where, problem)
        self.skip_record(where, problem)

    def stop_if_strict(self, where: str, problem: str, otherwise: str = "skip it") -> None:
        """With --strict, a malformed record stops the build (exit 6), also one that a reader would read
        another way (`otherwise`, with a warning) rather than skip."""
        if self.strict:
            raise InputFormatError(f"{where}: {problem}", hint=f"fix the record, or drop --strict to {otherwise}")

    def start_file(self) -> None:
        self._listed = 0
        self._unlisted = {}
        self._kinds = {}
        self._warned = set()

    def skipped_kinds(self) -> dict[str, int]:
        """How many records of the file being read were skipped, by kind of reason (`reason_kind`)."""
        return dict(self._kinds)

    def unlisted(self, rel: str) -> Skipped | None:
        """One entry counting the skipped records of file `rel` past those listed, if any, by kind."""
        if not self._unlisted:
            return None
        return Skipped.counted(rel, self._unlisted, "more records skipped, not listed")


# libxml2's depth limit, whose message ends by naming a parser flag (XML_PARSE_HUGE) no user can set
_TOO_DEEP = "Excessive depth in document"


def problem(exc: BaseException) -> str:
    """An error a parser raised on untrusted content, short, for a skip reason: "LookupError: unknown
    encoding: x-klingon"; libxml2's depth limit said plainly ("too deeply nested")."""
    said = "too deeply nested" if str(exc).startswith(_TOO_DEEP) else str(exc)
    return f"{type(exc).__name__}: {said}"[:200] if said else type(exc).__name__


def labelled(label: str, lines: list[str]) -> list[str]:
    """A note's or a header's lines as they stand beside a document's body, the first after its label
    ("Footnote: …", "Header: …"); none when it has none. The Word and RTF readers write them alike."""
    return [f"{label}: {lines[0]}", *lines[1:]] if lines else []


def page_furniture(found: Iterable[tuple[str, list[str]]]) -> list[str]:
    """The lines of a document's headers and footers ((label, lines) each), for after its body: each
    distinct text once, one without a letter (a page number alone) left out. Page furniture is repeated
    on every page, but may hold what the body never says (a policy's number, the parties to a
    contract); once each, after the body, it costs one line per file and leaves the body's passages as
    they were."""
    lines: list[str] = []
    seen: set[str] = set()
    for label, story in found:
        text = "\n".join(story)
        if text not in seen and any(character.isalpha() for character in text):
            seen.add(text)
            lines += labelled(label, story)
    return lines


def format_size(size: int) -> str:
    """256 MiB, 1.5 GiB, 64 KiB, 100 bytes: a size limit as people read it."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.4g} {unit}"
    return f"{size} bytes"


def first_codec(data: bytes, declared: str | None) -> str:
    """The codec `decode_text` tries first: UTF-8 where a byte-order mark says so, no other charset is
    `declared`, or the bytes are valid UTF-8 beyond ASCII (a page saved by wget or converted to UTF-8
    keeps the charset it declared; legacy text with non-ASCII bytes is almost never valid UTF-8), else the
    declared one (seven-bit bytes too: ISO-2022-JP is seven-bit)."""
    if declared is None or declared == "utf-8" or data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.isascii():
        return declared
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return declared
    return "utf-8-sig"


class Decoded(NamedTuple):
    """Bytes decoded: the text, the codec that read it and how many bytes, not valid UTF-8, were
    replaced by U+FFFD (a UTF-8 text with a few bad bytes: `decode_from`)."""

    text: str
    codec: str
    replaced: int = 0


def decode_text(data: bytes, declared: str | None = None) -> Decoded:
    """Decode bytes: a UTF-8 byte-order mark wins, then valid UTF-8, then the charset the content
    `declared` for itself (an HTML page's `<meta charset>`), then UTF-8 with its few bad bytes replaced,
    then Windows-1252 and Latin-1 in turn (as `first_codec` and `decode_from` order them)."""
    return decode_from(data, first_codec(data, declared))


# Valid multi-byte UTF-8 sequences per invalid byte from which bytes that are not valid UTF-8 are read
# as UTF-8 with a few bad bytes rather than as a legacy 8-bit encoding (`decode_from`)
UTF8_MAJORITY = 2
_ASCII_BYTES = bytes(range(0x80))


def utf8_sequences(data: bytes) -> tuple[int, int]:
    """How many valid multi-byte UTF-8 sequences `data` holds, and how many bytes of it are not valid
    UTF-8: counted in linear time by the codecs alone (decoded with surrogate escapes, each invalid byte
    is one lone surrogate, which encodes with surrogatepass to three bytes instead of its one)."""
    escaped = data.decode("utf-8", "surrogateescape")
    invalid = (len(escaped.encode("utf-8", "surrogatepass")) - len(data)) // 2
    ascii_bytes = len(data) - len(data.translate(None, _ASCII_BYTES))
    return len(escaped) - ascii_bytes - invalid, invalid


def decode_from(data: bytes, first: str) -> Decoded:
    """Decode bytes with the codec `first`, else UTF-8; else UTF-8 with its bad bytes replaced (one
    character each) where a byte-order mark says UTF-8 or its valid multi-byte sequences outnumber its
    invalid bytes `UTF8_MAJORITY` times; else Windows-1252, else Latin-1."""
    for codec in dict.fromkeys((first, "utf-8-sig")):
        try:
            return Decoded(data.decode(codec), codec)
        except UnicodeDecodeError:
            continue
    # UTF-8 with a few bad bytes (a truncated copy, a stray byte pasted in): one bad byte must not turn
    # the whole text into mojibake. Legacy 8-bit text (cp1252's "café" is one \\xe9 byte) almost never
    # holds a valid multi-byte sequence: its accented letters are the invalid bytes.
    multi_byte, invalid = utf8_sequences(data)
    if multi_byte >= UTF8_MAJORITY * invalid or data.startswith(codecs.BOM_UTF8):
        return Decoded(data.decode("utf-8-sig", "replace"), "utf-8-sig", invalid)
    try:
        return Decoded(data.decode("cp1252"), "cp1252")
    except UnicodeDecodeError:
        return Decoded(data.decode("latin-1"), "latin-1")


def _bytes(count: int) -> str:
    return f"{count:,} {'byte' if count == 1 else 'bytes'}"


def decoding_warning(where: str, first: str, decoded: Decoded) -> str | None:
    """The warning for a text that was not valid in the codec tried first (`first_codec`), or None."""
    if decoded.codec == first and not decoded.replaced:
        return None
    expected = "UTF-8" if first == "utf-8-sig" else f"{first} (the charset it declares)"
    if not decoded.replaced:
        return f"{where}: not valid {expected}, read as {'UTF-8' if decoded.codec == 'utf-8-sig' else decoded.codec}"
    replaced = f"{_bytes(decoded.replaced)} not valid UTF-8, replaced by U+FFFD"
    return (
        f"{where}: {replaced}" if first == "utf-8-sig" else f"{where}: not valid {expected}, read as UTF-8; {replaced}"
    )


@dataclass
class DecodingTally:
    """What decoding the pieces of one source one by one (a JSON Lines file's lines, a database's
    values, a streamed file's blocks) took beyond valid UTF-8, for one warning at its end."""

    legacy: dict[str, int] = field(default_factory=dict)  # pieces read as cp1252 or latin-1, by codec
    replaced: int = 0  # bytes not valid UTF-8 replaced by U+FFFD in pieces read as UTF-8

    def text(self, decoded: Decoded) -> str:
        """The decoded piece's text, counted."""
        if decoded.codec not in ("utf-8", "utf-8-sig"):
            self.legacy[decoded.codec] = self.legacy.get(decoded.codec, 0) + 1
        self.replaced += decoded.replaced
        return decoded.text

    def warning(self, where: str, pieces: str | None = None) -> str | None:
        """One warning for `where`, or None; `pieces` names what was counted ("text value") to say how
        many were read as a legacy encoding."""
        said = []
        if self.legacy:
            count = sum(self.legacy.values())
            which = f"{count} {pieces}(s) " if pieces is not None else ""
            said.append(f"{which}not valid UTF-8, read as {'/'.join(self.legacy)}")
        if self.replaced:
            said.append(f"{_bytes(self.replaced)} not valid UTF-8, replaced by U+FFFD")
        return f"{where}: {'; '.join(said)}" if said else None


# How text is decoded, recorded in an index's settings: an index read by an earlier version is read again
# rather than reused (2: "\r\n" and a lone "\r" read as "\n", `universal_newlines`; 3: UTF-8 with a few
# bad bytes read as UTF-8, `decode_from`, and a file over 16 MiB decoded by the same rule; a lone "\r" in
# a text of "\n" overwrites its line rather than breaking it; 4: a file read whole ends at a NUL byte
# past its sniffed head, as a streamed one does, `SourceInput.text_before_nul`).
TEXT_VERSION = 4


def universal_newlines(text: str, classic_mac: bool | None = None) -> str:
    """`text` with each "\\r\\n" made "\\n", and each lone "\\r" a "\\n" where the text holds no "\\n" at all
    (classic Mac OS, some exports: a line of such a file is a line, for its citation, its Markdown
    heading, its sentence). Elsewhere a lone "\\r" is a captured log's progress bar, which editors and
    `grep -n` do not count as a line: it overwrites its line as on a terminal (`overwritten`), so no
    line moves. `classic_mac` says which for a piece of a streamed text; no carriage return remains."""
    if "\r" not in text:
        return text
    text = text.replace("\r\n", "\n")
    if "\r" not in text:
        return text
    if classic_mac is None:
        classic_mac = "\n" not in text
    return text.replace("\r", "\n") if classic_mac else carriage_returns_overwritten(text)


def looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:BINARY_SNIFF_BYTES]


PDF_SIGNATURE = b"%PDF-"  # how a PDF starts: one without compressed streams is 8-bit text to a sniff
ZIP_SIGNATURE = b"PK\x03\x04"  # how a zip starts: an Office Open XML file is one


def no_text(data: bytes) -> bool:
    """Whether a file whose first bytes are `data` is no text for a text reader: a NUL byte, or a PDF's
    header (its syntax read as cp1252 would be indexed as "endobj" and "MediaBox")."""
    return data.startswith(PDF_SIGNATURE) or looks_binary(data)


def valid_unicode(name: str) -> str:
    """A file name as valid Unicode: bytes that were not UTF-8 (surrogate escapes) become �."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def file_name(path: Path) -> str:
    """The file's name without a `.gz` (changelog.Debian.gz → changelog.Debian), as valid Unicode."""
    name = path.name
    if name.lower().endswith(COMPRESSED_SUFFIX) and len(name) > len(COMPRESSED_SUFFIX):
        name = name[: -len(COMPRESSED_SUFFIX)]
    return valid_unicode(name)


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
    named: bool = False  # named on the command line: read even when it looks generated (`readers.generated`)
    transcoded: bool = (
        False  # UTF-16/32 by its byte-order mark, read as UTF-8 (`readers.wide`): no charset it declares applies
    )

    @property
    def suffix(self) -> str:
        return inner_suffix(self.path)

    @property
    def stem(self) -> str:
        """The file name without its last suffix, as a fallback title."""
        return valid_unicode(self.path.stem)

    def head(self) -> bytes:
        """The first bytes of the (decompressed) file, without consuming them."""
        peek: Callable[[int], bytes] | None = getattr(self.stream, "peek", None)
        return peek(BINARY_SNIFF_BYTES)[:BINARY_SNIFF_BYTES] if peek is not None else b""

    def sniff_binary(self, is_text: Callable[[bytes], bool] | None = None) -> None:
        """Skip the file if its first bytes are no text (`no_text`, or not `is_text`): binary content under
        a text name, the reason saying what it looks like (`binary_reason`)."""
        head = self.head()
        if no_text(head) or (is_text is not None and not is_text(head)):
            raise Skip(self.binary_reason(head, whole=False))

    def binary_reason(self, data: bytes, whole: bool = True) -> str:
        """The skip reason for binary content under a text name, `data` all of it (or, not `whole`, its
        first bytes, the stream not read yet): what it looks like and the name to give it where ragcli
        reads that format by its suffix (a PDF a browser saved without `.pdf`, a Word file named
        `notes.md`), else "binary content"."""
        found: tuple[str, str] | None = None
        if data.startswith(PDF_SIGNATURE):
            found = ("a PDF", ".pdf")
        elif data.startswith(ZIP_SIGNATURE):
            from ragcli.readers.docx import office_format  # the reader that knows the package: for a zip only

            found = office_format(data if whole else self._whole(data))
        return f"looks like {found[0]}: name it {found[1]}" if found is not None else "binary content"

    def _whole(self, head: bytes) -> bytes:
        """The whole file, read now (a zip's directory is at its end); `head` where it is larger than
        `max_bytes`."""
        try:
            return self.read_bytes()
        except Skip:
            return head

    def text_before_nul(self, data: bytes, position: int = 0) -> bytes:
        """`data` (from byte `position` of the file) up to its first NUL byte, with a warning when it holds
        one: binary content past the sniffed head (a log's NUL tail after a crash, a preallocated file)
        ends the text, in a file read whole as in one streamed. Not a skip: a streamed file's segments
        before it are indexed already."""
        nul = data.find(b"\x00")
        if nul < 0:
            return data
        self.context.warn(
            f"{self.rel}: NUL bytes (binary content) from byte {position + nul:,} on; only the text before them was read"
        )
        return data[:nul]

    def too_large(self) -> str:
        """The skip reason for content past the limit (what one file or line may expand to)."""
        once = " once decompressed" if self.compressed else ""
        return f"larger than {format_size(self.context.max_bytes)}{once} (raise {MAX_BYTES_OPTION} to read it)"

    def read_bytes(self) -> bytes:
        """The whole (decompressed) file; past `max_bytes` the file is skipped, having read at most that
        (nothing, when its size on disk says so: an 8 GB file is not read to learn it is too large)."""
        limit = self.context.max_bytes
        if not self.compressed and self.size > limit:
            raise Skip(self.too_large())
        data = self.stream.read(limit + 1)
        if len(data) > limit:
            raise Skip(self.too_large())
        return data

    def lines(self) -> Iterator[tuple[int, bytes | None]]:
        """(line number, line) for each line, streamed; a line longer than `max_bytes` comes as None and
        its bytes are skipped without being held in memory."""
        limit = self.context.max_bytes
        number = 0
        while line := self.stream.readline(limit + 1):
            number += 1
            if len(line) <= limit or (len(line) == limit + 1 and line.endswith(b"\n")):
                yield number, line
                continue
            while line and not line.endswith(b"\n"):  # drop the rest of the long line, 1 MiB at a time
                line = self.stream.readline(1 << 20)
            yield number, None

    def read_text(
        self,
        declared_charset: Callable[[bytes], str | None] | None = None,
        *,
        lone_cr_breaks: bool | None = None,
        without_data: Callable[[bytes], bytes] | None = None,
    ) -> str:
        """The whole file as text: binary content is skipped, decoded as `decode_text` says (with the
        charset `declared_charset` finds in the bytes, for a format that declares one: HTML), what is
        not valid in the codec tried first read as the next with a warning, line endings made "\n"
        (`universal_newlines`; `lone_cr_breaks`: its `classic_mac`, True for a format whose syntax reads
        a lone "\r" as a line end or white space, which a terminal's overwriting would break: RTF, JSON,
        CSV, HTML, Markdown), terminal control sequences removed (`terminal_text`). `without_data`: the
        bytes with the format's own binary data cut out (RTF's `\\bin`), before any NUL is looked for."""
        data = self.read_bytes()
        if without_data is not None:
            data = without_data(data)
        if no_text(data):
            raise Skip(self.binary_reason(data))
        data = self.text_before_nul(data)
        declared = declared_charset(data) if declared_charset is not None and not self.transcoded else None
        first = first_codec(data, declared)  # once: for a declared charset it checks the bytes as UTF-8
        decoded = decode_from(data, first)
        if (warning := decoding_warning(self.rel, first, decoded)) is not None:
            self.context.warn(warning)
        text = without_terminal_sequences(decoded.text)  # columns as the terminal shows them
        return universal_newlines(text, lone_cr_breaks)


@dataclass
class PagedDocument:
    """The pages (or slides) of one file as consecutive segments of one document, each with its page
    number, so a passage never straddles two pages and each cites `file:pN`. PDF and PPTX readers share
    it: the first page with text starts the document, the rest continue it."""

    source: SourceInput
    pages: int  # how many the file has (metadata "pages"), blank ones included
    title: str | None = None  # the file's own title; else the first page's, given to `page`
    typeset_lines: bool = False  # a PDF's lines, broken by a typesetter (`Document.typeset_lines`)
    started: bool = False
    _ordinal: int = 0
    _offset: int = 0

    def page(self, number: int, text: str, heading: str | None = None) -> Document:
        """Page `number`'s segment; `heading` titles the document when it has no title yet."""
        title_in_text = False
        if self.title is None:
            self.title, title_in_text = heading or self.source.stem, heading is not None
        document = Document(
            self.source.rel,
            text,
            self.title,
            self.source.rel,
            title_in_text=title_in_text and not self.started,
            offset=self._offset,
            first_ordinal=self._ordinal,
            continuation=self.started,
            page=number,
            typeset_lines=self.typeset_lines,
            metadata={"pages": self.pages},
        )
        self.started = True
        self._ordinal += len(text.split()) + 1  # more than its passages: ids stay unique
        self._offset += len(text) + 1
        return document


class Reader(Protocol):
    """A format family: which files it claims and how it reads one."""

    name: str

    def claims(self, path: Path) -> bool:
        """Whether this reader reads `path` (decided from its name alone, without reading it).

        A reader may also set `fallback = True`: it is then asked only when no other reader claims
        the file (see `reader_for`), and `version` (an int, 1 if unset): raised when the reader reads
        the same file into other text, so that a re-index reads the files it read before again
        (`reader_edition`)."""
        ...

    def folder_files(self, folder: Path) -> list[Path] | None:
        """The files to read instead of walking `folder` (a dataset folder), or None."""
        ...

    def read(self, source: SourceInput) -> Iterator[Document]:
        """The documents of one file; raise `Skip` to skip it whole with a reason.

        Parse errors from untrusted content (`PARSE_ERRORS`: ValueError, RecursionError, zlib.error…)
        also skip the file, with the error as the reason; any other exception is a bug and propagates.
        """
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


def _checked_document(item: object) -> Document:
    """A Document a plugin reader yielded, its text fields text (None there failed deep in the chunker)."""
    if not isinstance(item, Document):
        raise PluginFault(f"yielded {type(item).__name__}, not a Document")
    for name in ("id", "text", "title", "path"):
        if not isinstance(getattr(item, name), str):
            raise PluginFault(f"yielded a Document whose {name} is {type(getattr(item, name)).__name__}, not text")
    if not isinstance(item.line, int) or isinstance(item.line, bool):
        raise PluginFault(f"yielded a Document whose line is {type(item.line).__name__}, not a number")
    return item


def _checked_reader(part: Guarded, method: str, result: Any, args: tuple[Any, ...]) -> Any:
    """The reader protocol's results: `read` yields Documents (and may raise Skip or a parse error, which
    skip the file as a built-in's do), `folder_files` gives paths or None."""
    if method == "read":
        where = f" on {args[0].rel}" if args and isinstance(args[0], SourceInput) else ""
        return part.items(result, _checked_document, passes=(Skip, *PARSE_ERRORS), where=where)
    if method == "folder_files" and not (result is None or isinstance(result, list)):
        raise PluginFault(f"folder_files returned {type(result).__name__}, not a list of paths or None")
    return result


READERS: Registry[Reader] = Registry(
    "reader",
    "ragcli.readers",
    order=(
        "text",
        "markdown",
        "rst",
        "html",
        "json",
        "jsonl",
        "csv",
        "beir",
        "pdf",
        "docx",
        "pptx",
        "notebook",
        "rtf",
        "mail",
        "sql",
        "outline",
        "code",
        "plain",
    ),
    check=_checked_reader,
)


def reader_for(path: Path) -> Reader | None:
    """The first registered reader that claims `path` (built-ins are asked first).

    A reader with `fallback = True` (the built-in `plain`, which reads any other file whose content
    is text) is asked only after every other reader, plugins included, so a plugin's format wins over
    it; a file another reader claims never costs the fallback anything.
    """
    fallbacks = []
    for reader in READERS.all():
        if getattr(reader, "fallback", False):
            fallbacks.append(reader)
        elif reader.claims(path):
            return reader
    _refuse_for_broken_plugin(path)
    return next((reader for reader in fallbacks if reader.claims(path)), None)


def _refuse_for_broken_plugin(path: Path) -> None:
    """A file no reader claims whose extension names a reader plugin that cannot be loaded (`org` for
    a.org): that plugin's failure (exit 15), not the file read as plain text or skipped as unsupported,
    which would index it wrongly, or drop it, without a word."""
    error = READERS.broken(path.suffix[1:].lower()) if path.suffix else None
    if error is not None:
        raise PluginError(f"{error.message}; it is needed for {path.name}", hint=error.hint)


def reader_edition(reader: Reader) -> str:
    """Which reader read a file, and which version of it (`docx/2`), recorded with each file an index
    read: a re-index reads a file again when another reader, or a newer version of its reader, would
    read it, so that a ragcli that reads a format better does not keep the text its older version read
    until `--rebuild`."""
    return f"{reader.name}/{getattr(reader, 'version', 1)}"


def recorded_edition(entry: dict[str, Any], reader: Reader) -> str:
    """The reader recorded for a file of an index (`reader_edition`); an index built before readers were
    recorded read it with version 1 of the reader that claims it now."""
    edition = entry.get("reader")
    return edition if isinstance(edition, str) else f"{reader.name}/1"


# Sources that are not files: a root given as a URL (`sqlite:///notes.db`, `postgresql://…`) is read by
# the reader that claims it (`UrlReader`), row by row. A path never holds `//` once normalised, so a URL
# root, and a manifest source recorded under one (`<url>#<id>`), is never taken for a file. A scheme
# is RFC 3986's letters, digits, `+`, `.`, `-`, and SQLAlchemy's `_` (`postgresql+psycopg_async`).
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+._\-]*://")


def is_url(root: str | Path) -> bool:
    """Whether a root (or a recorded source) is a URL rather than a path."""
    return isinstance(root, str) and _URL_RE.match(root) is not None


def common_base(roots: list[Path]) -> Path:
    """The folder the paths of a build over `roots` are relative to: their common folder (a file's
    parent), the current folder when every root is a database."""
    dirs = [r.absolute() if r.is_dir() else r.absolute().parent for r in roots]
    if not dirs:  # only URL roots (a database): no file is read
        return Path.cwd()
    if len(dirs) == 1:
        return dirs[0]
    return Path(os.path.commonpath([str(d) for d in dirs]))


def indexed_base(manifest: dict[str, Any]) -> Path | None:
    """The folder an index's source paths are relative to: the one its build recorded (kept while it holds
    every root, so removing a root changes no other path), else, for an index built before it was
    recorded, the common folder of its path roots; None when no root is a path."""
    recorded = manifest.get("base")
    if isinstance(recorded, str) and recorded:
        return Path(recorded)
    roots = [Path(r) for r in manifest.get("roots") or [] if isinstance(r, str) and not is_url(r)]
    return common_base(roots) if roots else None


@dataclass
class Row:
    """One unit of a URL source (a database row): what a re-index reuses when its hash is unchanged."""

    key: str  # the source as recorded and cited: `<url without password>#<id>`
    sha256: str  # of the row's values
    size: int  # bytes hashed
    document: Document | None  # None: the row was skipped (the reason went to the read context)
    skipped: str | None = None


@runtime_checkable
class UrlReader(Protocol):
    """A reader of URL roots: it claims a URL by its scheme and streams its rows. It may also have
    `query_hint(url) -> str`, what to pass when no query is given (the SQL reader names the tables)."""

    name: str

    def claims_url(self, url: str) -> bool:
        """Whether this reader reads `url` (decided from the URL alone, without connecting)."""
        ...

    def display(self, url: str) -> str:
        """`url` as it may be stored and shown: no password; raises `RagcliError` if it is malformed."""
        ...

    def rows(self, url: str, query: str | None, context: ReadContext) -> Iterator[Row]:
        """The rows `query` selects at `url`, in order; errors are `RagcliError`s (one line each)."""
        ...


def url_reader_for(url: str) -> UrlReader | None:
    """The first registered reader that claims the URL `url`."""
    return next((r for r in READERS.all() if isinstance(r, UrlReader) and r.claims_url(url)), None)
