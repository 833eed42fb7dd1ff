"""Readers: folders and files on disk → `Document`s, plus a list of what was skipped and why.

Formats: plain text (.txt .md .rst), HTML (text only), JSON / JSON Lines / CSV records, and BEIR
dataset folders (a folder with `corpus.jsonl` beside `queries.jsonl` or `qrels/`). A document's id is
its path relative to the indexed root, or a record's own id. Every document remembers the file and
line it came from, so results can cite `path:line`.
"""
from __future__ import annotations

import bisect
import csv
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator

from ragcli.errors import InputFormatError, PathNotFoundError

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ".rst"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
RECORD_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".csv", ".tsv"})
LINE_RECORD_SUFFIXES = frozenset({".jsonl", ".ndjson"})  # streamed line by line
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | RECORD_SUFFIXES
COMPRESSED_SUFFIX = ".gz"  # e.g. corpus.jsonl.gz: read through gzip, then by the inner suffix
ID_FIELDS = ("_id", "id", "docid", "doc_id")
TEXT_FIELDS = ("text", "contents", "content", "body", "passage")
TITLE_FIELDS = ("title",)
BINARY_SNIFF_BYTES = 8192
STREAM_TEXT_BYTES = 16 << 20  # plain-text files larger than this are read in segments
SEGMENT_CHARS = 1 << 20  # characters per segment of a streamed file


@dataclass
class Document:
    """One unit of the corpus: a file, or one record of a JSON/JSONL/CSV file."""

    id: str
    text: str
    title: str
    path: str  # source file, relative to the indexed root: what citations show
    line: int = 1  # line of the source file where `text` begins
    title_in_text: bool = False  # the title was taken from the text itself (a heading)
    line_map: list[tuple[int, int]] | None = None  # (text offset, source line) for HTML
    offset: int = 0  # where `text` starts in the whole document (a streamed segment of a huge file)
    first_ordinal: int = 0  # number of the segment's first passage within the document
    continuation: bool = False  # a later segment of a document already seen

    def line_at(self, offset: int, previous: tuple[int, int] | None = None) -> int:
        """The source line that holds character `offset` of `text`.

        `previous` is an earlier (offset, line) answer: counting on from it keeps chunking a long
        document linear instead of quadratic.
        """
        if self.line_map:
            index = bisect.bisect_right(self.line_map, offset, key=lambda item: item[0]) - 1
            return self.line_map[max(index, 0)][1]
        start, line = previous if previous is not None and previous[0] <= offset else (0, self.line)
        return line + self.text.count("\n", start, offset)


@dataclass
class SourceFile:
    """A file that was read: its content hash decides whether a re-index must read it again."""

    path: str
    sha256: str
    size: int
    documents: int = 0
    skipped: str | None = None  # why it yielded no document (binary, no text), remembered for re-runs


@dataclass
class Skipped:
    path: str
    reason: str


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


class _HashingReader(io.RawIOBase):
    """A raw file reader that hashes and counts the bytes passing through it."""

    def __init__(self, raw: Any, digest: Any) -> None:
        self.raw = raw
        self.digest = digest
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)
        if n:
            self.digest.update(memoryview(buffer)[:n])
            self.size += n
        return n or 0


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


def is_beir_folder(path: Path) -> bool:
    return (path / "corpus.jsonl").is_file() and (
        (path / "queries.jsonl").is_file() or (path / "qrels").is_dir()
    )


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def iter_files(root: Path, exclude: Path | None = None, skipped: list[Skipped] | None = None) -> Iterator[Path]:
    """Files under `root` in a stable order (each folder's files by name, then its sub-folders).

    Hidden entries, `exclude` and a BEIR folder's side files are skipped. Symbolic links to folders are
    not followed (no loops, nothing outside the tree); they are listed in `skipped`. The walk keeps its
    own stack, so any folder depth works.
    """
    if not root.is_dir():
        yield root
        return
    excluded = exclude.resolve() if exclude is not None else None
    stack = [root]
    while stack:
        folder = stack.pop()
        if is_beir_folder(folder):
            yield folder / "corpus.jsonl"
            continue
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            if skipped is not None:
                skipped.append(Skipped(str(folder), f"unreadable folder: {exc.strerror or exc}"))
            continue
        subfolders = []
        for entry in entries:
            if _is_hidden(entry.name):
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_link = entry.is_symlink()
            except OSError:
                is_dir = is_link = False
            if is_link and path.is_dir():
                if skipped is not None:
                    skipped.append(Skipped(str(path), "symbolic link to a folder (not followed)"))
            elif is_dir:
                if excluded is None or path.resolve() != excluded:
                    subfolders.append(path)
            else:
                yield path
        stack.extend(reversed(subfolders))


def valid_unicode(name: str) -> str:
    """A file name as valid Unicode: bytes that were not UTF-8 (surrogate escapes) become �."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _segment_end(text: str) -> int:
    """Where to cut a segment: the last whitespace before SEGMENT_CHARS (else there, mid-word)."""
    cut = max(text.rfind(" ", 0, SEGMENT_CHARS), text.rfind("\n", 0, SEGMENT_CHARS))
    return cut + 1 if cut > 0 else SEGMENT_CHARS


def _markdown_title(text: str) -> str | None:
    match = re.search(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


def _first_line_title(text: str) -> str | None:
    """A plain-text title: a short first line followed by a blank line."""
    lines = text.lstrip("\n").split("\n", 2)
    if len(lines) >= 2 and 0 < len(lines[0].strip()) <= 120 and not lines[1].strip():
        return lines[0].strip()
    return None


def _rst_title(text: str) -> str | None:
    lines = text.splitlines()
    for i in range(len(lines) - 1):
        title, underline = lines[i].strip(), lines[i + 1].strip()
        if title and len(underline) >= len(title) and re.fullmatch(r"([=\-~^#*+])\1+", underline):
            return title
    return None


class _HTMLText(HTMLParser):
    """Visible text of an HTML page, with the source line of each piece (for citations)."""

    SKIP = frozenset({"script", "style", "noscript", "template", "head", "svg"})
    BLOCK = frozenset(
        {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
         "section", "article", "header", "footer", "pre", "blockquote", "dd", "dt", "hr"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.line_map: list[tuple[int, int]] = []
        self.length = 0
        self.skip_depth = 0
        self.title: str | None = None
        self.h1: str | None = None
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP and tag != "head":
            self.skip_depth += 1
        if tag in ("title", "h1"):
            self._in = tag
        if tag in self.BLOCK:
            self._append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and tag != "head" and self.skip_depth:
            self.skip_depth -= 1
        if tag == self._in:
            self._in = None
        if tag in self.BLOCK:
            self._append("\n")

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title = (self.title or "") + data.strip()
            return
        if self.skip_depth:
            return
        if self._in == "h1" and data.strip():
            self.h1 = (self.h1 or "") + data.strip()
        self._append(data)

    def _append(self, text: str) -> None:
        if not text:
            return
        self.line_map.append((self.length, self.getpos()[0]))
        self.parts.append(text)
        self.length += len(text)


def _html_document(text: str) -> tuple[str, str | None, list[tuple[int, int]]]:
    parser = _HTMLText()
    parser.feed(text)
    parser.close()
    body = "".join(parser.parts)
    return body, parser.title or parser.h1, parser.line_map


def _pick(record: dict, explicit: str | None, candidates: tuple[str, ...]) -> str | None:
    if explicit is not None:
        return explicit if explicit in record else None
    return next((name for name in candidates if name in record), None)


class CorpusReader:
    """Reads the given roots into documents; what it cannot use goes to `report.skipped`."""

    def __init__(
        self,
        roots: list[Path],
        *,
        fields: RecordFields | None = None,
        exclude: Path | None = None,
        skip_invalid: bool = False,
    ) -> None:
        for root in roots:
            if not root.exists():
                raise PathNotFoundError(f"{root}: no such file or folder", hint="check the path")
        self.roots = roots
        self.fields = fields or RecordFields()
        self.exclude = exclude
        self.skip_invalid = skip_invalid
        self.base = self._common_base(roots)
        self.report = ReadReport()
        self._seen_ids: set[str] = set()

    @staticmethod
    def _common_base(roots: list[Path]) -> Path:
        dirs = [r.absolute() if r.is_dir() else r.absolute().parent for r in roots]
        if len(dirs) == 1:
            return dirs[0]
        return Path(os.path.commonpath([str(d) for d in dirs]))

    def files(self) -> Iterator[Path]:
        for root in self.roots:
            yield from iter_files(root, exclude=self.exclude, skipped=self.report.skipped)

    @staticmethod
    def supported(path: Path) -> bool:
        """Whether the file's type is one ragcli reads (decided from its name alone)."""
        suffix = path.suffix.lower()
        if suffix == COMPRESSED_SUFFIX:
            suffix = Path(path.stem).suffix.lower()
        return suffix in SUPPORTED_SUFFIXES

    def claim_ids(self, ids: Iterator[str]) -> None:
        """Document ids already taken (by passages reused from an earlier build)."""
        self._seen_ids.update(ids)

    def relative(self, path: Path) -> str:
        """The path relative to the indexed root, as valid Unicode (undecodable name bytes become �)."""
        try:
            rel = path.absolute().relative_to(self.base).as_posix()
        except ValueError:
            rel = path.as_posix()
        return valid_unicode(rel)

    def documents(self) -> Iterator[Document]:
        """Every document of every readable file, in a stable order."""
        for path in self.files():
            yield from self.read_file(path)

    def read_file(self, path: Path) -> Iterator[Document]:
        rel = self.relative(path)
        suffix = path.suffix.lower()
        compressed = suffix == COMPRESSED_SUFFIX
        if compressed:
            suffix = Path(path.stem).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            shown = f"{suffix}{COMPRESSED_SUFFIX}" if compressed else suffix or "(none)"
            self.report.skipped.append(Skipped(rel, f"unsupported file type {shown}"))
            return
        if suffix in LINE_RECORD_SUFFIXES:
            yield from self._read_lines(rel, path, compressed)
            return
        if suffix in TEXT_SUFFIXES and not compressed and _size(path) > STREAM_TEXT_BYTES:
            yield from self._read_segments(rel, path)
            return
        try:
            raw = data = path.read_bytes()
            if compressed:
                import gzip

                data = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            self.report.skipped.append(Skipped(rel, f"unreadable: {reason}"))
            return
        source = SourceFile(rel, hashlib.sha256(raw).hexdigest(), len(raw))
        if looks_binary(data):
            source.skipped = "binary content"
            self.report.sources.append(source)
            self.report.skipped.append(Skipped(rel, source.skipped))
            return
        text, codec = decode_text(data)
        if codec != "utf-8-sig":
            self.report.warnings.append(f"{rel}: not valid UTF-8, read as {codec}")
        if suffix in RECORD_SUFFIXES:
            documents = list(self._records(rel, suffix, text))
        else:
            documents = [self._file_document(rel, path, suffix, text)]
        documents = [d for d in documents if self._keep(d)]
        source.documents = len(documents)
        self.report.sources.append(source)
        if not documents:
            source.skipped = "no text"
            self.report.skipped.append(Skipped(rel, source.skipped))
        yield from documents

    def _read_lines(self, rel: str, path: Path, compressed: bool) -> Iterator[Document]:
        """JSON Lines, streamed: memory stays bounded however large the file (hashed as it is read)."""
        import gzip

        digest = hashlib.sha256()
        counter: _HashingReader | None = None
        documents = 0
        fallback = False
        problem = None
        try:
            with open(path, "rb") as raw_file:
                counter = _HashingReader(raw_file, digest)
                stream: Any = io.BufferedReader(counter, 1 << 20)
                if compressed:
                    stream = gzip.GzipFile(fileobj=stream)
                if looks_binary(stream.peek(BINARY_SNIFF_BYTES)[:BINARY_SNIFF_BYTES]):
                    problem = "binary content"
                else:
                    for number, raw_line in enumerate(stream, start=1):
                        line, codec = decode_text(raw_line)
                        fallback = fallback or codec != "utf-8-sig"
                        if not line.strip():
                            continue
                        for document in self._json_line(rel, number, line):
                            if self._keep(document):
                                documents += 1
                                yield document
        except (OSError, EOFError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            problem = f"unreadable: {reason}"
        if fallback:
            self.report.warnings.append(f"{rel}: not valid UTF-8, read as cp1252/latin-1")
        source = SourceFile(rel, digest.hexdigest(), counter.size if counter else 0, documents)
        if problem is None and documents == 0:
            problem = "no text"
        if problem is not None:
            source.skipped = problem
            self.report.skipped.append(Skipped(rel, problem))
        self.report.sources.append(source)

    def _read_segments(self, rel: str, path: Path) -> Iterator[Document]:
        """A huge plain-text file as consecutive segments of one document: memory stays bounded."""
        import codecs

        digest = hashlib.sha256()
        counter: _HashingReader | None = None
        problem = None
        yielded = False
        try:
            with open(path, "rb") as raw_file:
                counter = _HashingReader(raw_file, digest)
                stream = io.BufferedReader(counter, 1 << 20)
                if looks_binary(stream.peek(BINARY_SNIFF_BYTES)[:BINARY_SNIFF_BYTES]):
                    problem = "binary content"
                else:
                    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
                    pending, offset, line, ordinal = "", 0, 1, 0
                    while True:
                        block = stream.read(1 << 20)
                        pending += decoder.decode(block, final=not block)
                        while len(pending) >= SEGMENT_CHARS or (not block and pending):
                            cut = len(pending) if not block and len(pending) < SEGMENT_CHARS else _segment_end(pending)
                            text, pending = pending[:cut], pending[cut:]
                            document = Document(rel, text, valid_unicode(path.stem), rel, line=line, offset=offset,
                                                first_ordinal=ordinal, continuation=yielded)
                            if yielded or self._keep(document):
                                yielded = True
                                yield document
                                ordinal += len(text.split()) + 1  # more than its passages: ids stay unique
                            offset += len(text)
                            line += text.count("\n")
                        if not block:
                            break
        except OSError as exc:
            problem = f"unreadable: {exc.strerror or exc}"
        source = SourceFile(rel, digest.hexdigest(), counter.size if counter else 0, int(yielded))
        if problem is None and not yielded:
            problem = "no text"
        if problem is not None:
            source.skipped = problem
            self.report.skipped.append(Skipped(rel, problem))
        self.report.sources.append(source)

    def _json_line(self, rel: str, number: int, line: str) -> Iterator[Document]:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            self._bad_record(f"{rel}:{number}", f"invalid JSON ({exc.msg})")
            return
        yield from self._record_document(rel, number, record)

    def _keep(self, document: Document) -> bool:
        if document.continuation:
            return True
        if not document.text.strip():
            if document.id != document.path:
                self.report.skipped.append(Skipped(f"{document.path}:{document.line}", "empty text"))
            return False
        if document.id in self._seen_ids:
            self.report.skipped.append(
                Skipped(f"{document.path}:{document.line}", f"duplicate id {document.id!r}")
            )
            return False
        self._seen_ids.add(document.id)
        return True

    def _file_document(self, rel: str, path: Path, suffix: str, text: str) -> Document:
        if suffix in HTML_SUFFIXES:
            body, title, line_map = _html_document(text)
            return Document(rel, body, title or valid_unicode(path.stem), rel, title_in_text=False, line_map=line_map)
        title_finders = {".md": _markdown_title, ".markdown": _markdown_title, ".rst": _rst_title}
        heading = title_finders.get(suffix, _first_line_title)(text)
        return Document(rel, text, heading or valid_unicode(path.stem), rel, title_in_text=heading is not None)

    def _bad_record(self, where: str, problem: str) -> None:
        if not self.skip_invalid:
            raise InputFormatError(f"{where}: {problem}", hint="fix the record or pass --skip-invalid")
        self.report.skipped.append(Skipped(where, problem))

    def _records(self, rel: str, suffix: str, text: str) -> Iterator[Document]:
        if suffix == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                self._bad_record(f"{rel}:{exc.lineno}", f"invalid JSON ({exc.msg})")
                return
            records = data if isinstance(data, list) else [data]
            for number, record in enumerate(records, start=1):
                yield from self._record_document(rel, 1, record, ordinal=number)
        else:
            dialect = "excel-tab" if suffix == ".tsv" else "excel"
            reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
            try:
                for record in reader:
                    yield from self._record_document(rel, reader.line_num, record)
            except csv.Error as exc:
                self._bad_record(f"{rel}:{reader.line_num}", f"invalid CSV ({exc})")

    def _record_document(
        self, rel: str, line: int, record: object, ordinal: int | None = None
    ) -> Iterator[Document]:
        where = f"{rel}:{line}" if ordinal is None else f"{rel} record {ordinal}"
        if not isinstance(record, dict):
            self._bad_record(where, "a record must be a JSON object")
            return
        text_field = _pick(record, self.fields.text, TEXT_FIELDS)
        if text_field is None:
            wanted = self.fields.text or "/".join(TEXT_FIELDS)
            self._bad_record(where, f"no text field ({wanted}); name it with --text-field")
            return
        text = record[text_field]
        if not isinstance(text, str):
            self._bad_record(where, f"field {text_field!r} is not a string")
            return
        id_field = _pick(record, self.fields.id, ID_FIELDS)
        fallback_id = f"{rel}:{line}" if ordinal is None else f"{rel}#{ordinal}"
        doc_id = str(record[id_field]) if id_field is not None and record[id_field] is not None else fallback_id
        title_field = _pick(record, self.fields.title, TITLE_FIELDS)
        title = record.get(title_field) if title_field else None
        yield Document(doc_id, text, str(title) if title else "", rel, line=line)
