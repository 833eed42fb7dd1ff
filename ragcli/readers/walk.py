"""Walking the roots and reading each file through the reader that claims it.

The bookkeeping every format shares lives here, once: the folder walk (stable order, hidden entries
and the index folder skipped, folder links not followed), opening each file through a hashing stream
(and gzip), recording the source file for incremental re-runs, and dropping empty or duplicate
documents with a reason.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from ragcli.errors import PathNotFoundError
from ragcli.readers.base import (
    COMPRESSED_SUFFIX,
    READERS,
    ReadContext,
    ReadReport,
    RecordFields,
    Skip,
    SourceInput,
    inner_suffix,
    reader_for,
    valid_unicode,
)
from ragcli.records import Document, Skipped, SourceFile


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


def _folder_files(folder: Path) -> list[Path] | None:
    """The files a reader reads in place of walking `folder` (a dataset folder), or None."""
    for reader in READERS.all():
        files = reader.folder_files(folder)
        if files is not None:
            return files
    return None


def iter_files(root: Path, exclude: Path | None = None, skipped: list[Skipped] | None = None) -> Iterator[Path]:
    """Files under `root` in a stable order (each folder's files by name, then its sub-folders).

    Hidden entries, `exclude` and what a reader takes over (a BEIR folder's side files) are skipped.
    Symbolic links to folders are not followed (no loops, nothing outside the tree); they are listed in
    `skipped`. The walk keeps its own stack, so any folder depth works.
    """
    if not root.is_dir():
        yield root
        return
    excluded = exclude.resolve() if exclude is not None else None
    stack = [root]
    while stack:
        folder = stack.pop()
        taken = _folder_files(folder)
        if taken is not None:
            yield from taken
            continue
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            if skipped is not None:
                skipped.append(Skipped(str(folder), f"unreadable folder: {exc.strerror or exc}"))
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
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


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


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
        self.exclude = exclude
        self.base = self._common_base(roots)
        self.report = ReadReport()
        self.context = ReadContext(fields or RecordFields(), skip_invalid, self.report)
        self.last_source: SourceFile | None = None  # the source record of the file read last, if any
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
        """Whether a registered reader claims the file (decided from its name alone)."""
        return reader_for(path) is not None

    def claim_ids(self, ids: Iterable[str]) -> None:
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
        """The kept documents of one file, through the reader that claims it; sets `last_source`."""
        rel = self.relative(path)
        self.last_source = None
        reader = reader_for(path)
        if reader is None:
            compressed = path.suffix.lower() == COMPRESSED_SUFFIX
            suffix = inner_suffix(path)
            shown = f"{suffix}{COMPRESSED_SUFFIX}" if compressed else suffix or "(none)"
            self.report.skipped.append(Skipped(rel, f"unsupported file type {shown}"))
            return
        digest = hashlib.sha256()
        documents = 0
        problem = None
        try:
            with open(path, "rb") as raw_file:
                counter = _HashingReader(raw_file, digest)
                stream: IO[bytes] = io.BufferedReader(counter, 1 << 20)
                compressed = path.suffix.lower() == COMPRESSED_SUFFIX
                if compressed:
                    stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
                size = os.fstat(raw_file.fileno()).st_size
                source = SourceInput(rel, path, size, compressed, stream, self.context)
                try:
                    for document in reader.read(source):
                        if self._keep(document):
                            documents += not document.continuation
                            yield document
                except Skip as skip:
                    problem = str(skip)
                while counter.read(1 << 20):  # the hash covers the whole file, read or not
                    pass
        except (OSError, EOFError) as exc:
            self.report.skipped.append(Skipped(rel, f"unreadable: {_reason(exc)}"))
            return
        record = SourceFile(rel, digest.hexdigest(), counter.size, documents)
        if problem is None and documents == 0:
            problem = "no text"
        if problem is not None:
            record.skipped = problem
            self.report.skipped.append(Skipped(rel, problem))
        self.report.sources.append(record)
        self.last_source = record

    def _keep(self, document: Document) -> bool:
        if document.continuation:
            return True
        if not document.text.strip():
            if document.id != document.path:
                self.report.skipped.append(Skipped(f"{document.path}:{document.line}", "empty text"))
            return False
        if document.id in self._seen_ids:
            self.report.skipped.append(Skipped(f"{document.path}:{document.line}", f"duplicate id {document.id!r}"))
            return False
        self._seen_ids.add(document.id)
        return True
