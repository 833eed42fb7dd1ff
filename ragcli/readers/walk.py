"""Walking the roots and reading each file through the reader that claims it.

The bookkeeping every format shares lives here, once: the folder walk (stable order, hidden entries
and the index folder skipped, folder links not followed), opening each file through a hashing stream
(and gzip), recording the source file for incremental re-runs, dropping empty or duplicate documents with a
reason, and each document's file metadata (`path` as cited, the reader's `format`, the file's `size`
in bytes and `mtime` in ISO 8601 UTC, from fstat of the opened file) beside what its reader found.

This is the one place that opens corpus files, so it is where a hostile corpus is held off:
only regular files inside the roots are read. The walk skips symbolic links (to files or folders),
FIFOs, devices and sockets, and ragcli's own index folders (a corpus holding an index would
otherwise read its manifest as records); each file is opened without following a link and without
blocking, and checked with fstat to be a regular file inside a root before a byte is read, so a link,
FIFO or device swapped in after the walk is refused too. A file named on the command line may be a
link (the user chose it), but never a FIFO or a device. A reader's parse error skips the file.

(Over 350 lines on purpose: the walk, the checks on what may be opened and the per-file bookkeeping
are one piece of security-relevant code; split up, a second way to open a corpus file would appear.)
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from ragcli.errors import PathNotFoundError, look_up
from ragcli.readers.base import (
    COMPRESSED_SUFFIX,
    DEFAULT_MAX_BYTES,
    MAX_BYTES_OPTION,
    PARSE_ERRORS,
    READERS,
    ReadContext,
    Reader,
    ReadReport,
    RecordFields,
    Skip,
    SourceInput,
    common_base,
    file_name,
    format_size,
    inner_suffix,
    is_url,
    reader_edition,
    reader_for,
)
from ragcli.readers.generated import generated_by_name, generated_folder
from ragcli.readers.selection import IGNORE_FILES, MAX_IGNORE_FILE_BYTES, Rules, Selection, parse_ignore_file
from ragcli.readers.wide import as_utf8
from ragcli.records import (
    INDEX_FORMAT,
    INDEX_LOCK,
    INDEX_MANIFEST,
    INDEX_MARKER,
    Document,
    Skipped,
    SourceFile,
    mtime_text,
)

FILE_METADATA = ("path", "format", "size", "mtime")  # what the walk gives every document read from a file
MAX_SOURCE_WARNINGS = 20  # a file's warnings kept in its record (a reader warns once a file, or a few times)
UNHASHED = ""  # the recorded SHA-256 of a file not read to its end (skipped, larger than the read limit)
INDEX_REASON = "a ragcli index (not read)"
INDEX_PART_REASON = "part of a ragcli index (not read)"
_INDEX_OWNED_RE = re.compile(  # what a build writes into an index folder: lock, generations, temporary manifests
    rf"^(?:{re.escape(INDEX_MANIFEST)}|{re.escape(INDEX_LOCK)}|data-[0-9a-f]{{12,40}}|{re.escape(INDEX_MANIFEST)}\.[0-9a-f]+\.tmp)$"
)
_MANIFEST_HEAD = 1 << 16  # the format field comes early in a manifest ragcli wrote (keys are sorted)
_FORMAT_RE = re.compile(rb'"format"\s*:\s*"' + re.escape(INDEX_FORMAT.encode()) + rb'"')
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class _HashingReader(io.RawIOBase):
    """A raw file reader that hashes and counts the bytes passing through it, and ends once `cap` bytes
    are read: a "regular" file that reads on past its size (/proc/self/pagemap: size 0, endless) must
    not be read without end. `overflow` says it was cut. Each read is passed on whole (pagemap refuses
    a read of a length that is not a multiple of 8), so the last one may go past the cap."""

    def __init__(self, raw: Any, digest: Any, cap: int) -> None:
        self.raw = raw
        self.digest = digest
        self.cap = cap
        self.size = 0
        self.overflow = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.overflow:
            return 0
        n = self.raw.readinto(buffer)
        if n:
            self.digest.update(memoryview(buffer)[:n])
            self.size += n
            self.overflow = self.size >= self.cap
        return n or 0

    def hash_rest(self, limit: int) -> bool:
        """Reads what the reader left of the file into the hash while the bytes read stay within
        `limit`: whether the hash covers the whole file."""
        while self.size <= limit:
            if not self.read(1 << 20):
                return not self.overflow
        return False


class NotRegular(Exception):
    """A path that is not a regular file ragcli may read (a link not followed, a FIFO, a device)."""


def file_kind(mode: int) -> str:
    """What a non-regular file is, for a skip reason."""
    kinds = (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISLNK, "a symbolic link"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def open_regular(path: Path, *, follow: bool = False) -> int:
    """A file descriptor for `path` if it is a regular file: opened without blocking (a FIFO cannot
    hang) and, unless `follow`, without following a symbolic link; checked with fstat before any read."""
    try:
        fd = os.open(path, _OPEN_FLAGS | (0 if follow else _NOFOLLOW))
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise NotRegular("symbolic link (not followed)") from None
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO opened for writing only
            raise NotRegular("not a regular file") from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegular(f"not a regular file ({file_kind(mode)})")
    return fd


def is_ragcli_index(folder: Path) -> bool:
    """Whether `folder` is a ragcli index: it holds the index marker, or a manifest ragcli wrote."""
    if os.path.lexists(folder / INDEX_MARKER):
        return True
    try:
        fd = open_regular(folder / INDEX_MANIFEST)
    except (OSError, NotRegular):
        return False
    try:
        head = os.read(fd, _MANIFEST_HEAD)
    except OSError:
        return False
    finally:
        os.close(fd)
    return _FORMAT_RE.search(head) is not None


TakenFolder = Callable[[Path, str, list[Path], int], None]  # (folder, reader, files it reads, other files)


def _folder_files(folder: Path) -> tuple[str, list[Path], list[Path]] | None:
    """The reader that reads `folder` (a dataset folder) in place of the walk, the files it reads, and
    those that are its dataset's own all the same (a BEIR folder's queries and judgments); None when
    none does."""
    for reader in READERS.all():
        files = reader.folder_files(folder)
        if files is not None:
            own = getattr(reader, "dataset_files", None)  # optional: a reader plugin need not have it
            return reader.name, files, (own(folder) if own is not None else [])
    return None


def _other_files(folder: Path, taken: list[Path]) -> int:
    """How many files under `folder` (hidden ones and links left out, as the walk leaves them) are not
    among `taken`: what a reader that took the folder over leaves unread."""
    kept = {os.path.abspath(path) for path in taken}
    count = 0
    for parent, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in files:
            path = os.path.join(parent, name)
            count += not name.startswith(".") and not os.path.islink(path) and os.path.abspath(path) not in kept
    return count


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _link_reason(link: Path, root: str) -> str:
    try:
        os.stat(link)
    except (FileNotFoundError, NotADirectoryError):  # nothing to read where it lies
        return "broken symbolic link (it points to nothing)"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (not followed)"
    target = os.path.realpath(link)
    if os.path.isdir(target):
        return "symbolic link to a folder (not followed)"
    if _inside(target, root):
        return "symbolic link (not followed; the file it points to is read where it lies)"
    return "symbolic link outside the indexed folder (not followed)"


def _ignore_lines(folder: Path, names: set[str]) -> list[str]:
    """The patterns of `folder`'s ignore files (.gitignore, then .ignore): regular files only, never
    through a link, at most MAX_IGNORE_FILE_BYTES each; one that cannot be read has no patterns."""
    lines: list[str] = []
    for name in IGNORE_FILES:
        if name not in names:
            continue
        try:
            fd = open_regular(folder / name)
        except (OSError, NotRegular):
            continue
        try:
            with open(fd, "rb", closefd=True) as handle:
                lines += parse_ignore_file(handle.read(MAX_IGNORE_FILE_BYTES))
        except OSError:
            continue
    return lines


def iter_files(
    root: Path,
    exclude: Path | None = None,
    skipped: list[Skipped] | None = None,
    relative: Callable[[Path], str] = str,
    selection: Selection | None = None,
    on_ignored: Callable[[], None] | None = None,
    generated: bool = False,
    unreadable: list[Path] | None = None,
    on_taken: TakenFolder | None = None,
) -> Iterator[Path]:
    """Regular files under `root` in a stable order (each folder's files by name, then its sub-folders).

    Hidden entries, `exclude` and what a reader takes over (a BEIR folder's side files) are skipped;
    `on_taken` hears of each folder a reader took over, with how many of its files are not read.
    What `selection` leaves out (ignore files, --include/--exclude; see `readers.selection`) is not
    entered or yielded, only counted through `on_ignored`. A folder a tool fills (`node_modules`,
    `__pycache__`: `readers.generated`) is listed in `skipped` and not entered, unless `generated`.
    Symbolic links (to files or folders), FIFOs, devices, sockets and ragcli index folders are not
    read; they are listed in `skipped` (paths shown through `relative`). A root that is a file is
    yielded as it is (the user named it) unless it is a FIFO, device or socket. A folder that cannot be
    listed (no permission) is skipped and added to `unreadable`: its files are not known to be gone. The
    walk keeps its own stack, so any folder depth works.
    """

    def skip(path: Path, reason: str) -> None:
        if skipped is not None:
            skipped.append(Skipped(relative(path), reason))

    try:
        mode = root.stat().st_mode  # a root named on the command line may be a link: follow it
    except OSError as exc:
        skip(root, f"unreadable: {_reason(exc)}")
        return
    if not stat.S_ISDIR(mode):
        if not stat.S_ISREG(mode):
            skip(root, f"not a regular file ({file_kind(mode)})")
        elif _INDEX_OWNED_RE.match(root.name) and is_ragcli_index(root.parent):
            skip(root, INDEX_PART_REASON)
        else:
            yield root
        return
    excluded = exclude.resolve() if exclude is not None else None
    real_root = os.path.realpath(root)
    # A root that is an index (the one being built, or another): its own files are skipped, the rest read.
    index_root = (excluded is not None and root.resolve() == excluded) or is_ragcli_index(root)
    selection = selection or Selection()
    stack = [(root, "", Rules.of(selection))]  # (folder, its path from the root as "a/b/", its rules)
    while stack:
        folder, folder_rel, rules = stack.pop()
        if folder is not root and is_ragcli_index(folder):
            skip(folder, INDEX_REASON)
            continue
        try:
            taken = _folder_files(folder)
            if taken is None:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:  # a folder that cannot be searched (mode 000: its probe's stat fails) or listed
            skip(folder, f"unreadable folder: {_reason(exc)}")
            if unreadable is not None:
                unreadable.append(folder)
            continue
        if taken is not None:
            reader, files, own = taken
            if on_taken is not None:
                on_taken(folder, reader, files, _other_files(folder, files + own))
            yield from files
            continue
        if selection.ignore_files:
            names = {entry.name for entry in entries if entry.name in IGNORE_FILES}
            if names:
                rules = rules.within(folder_rel, _ignore_lines(folder, names))
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if index_root and folder is root and _INDEX_OWNED_RE.match(entry.name):
                skip(path, INDEX_PART_REASON)
                continue
            try:  # from the folder listing: no system call per entry on most file systems
                is_link, is_dir = entry.is_symlink(), entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file(follow_symlinks=False)
                mode = 0 if is_link or is_dir or is_file else entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                skip(path, f"unreadable: {_reason(exc)}")
                continue
            if rules.leaves_out(folder_rel + entry.name, is_dir):
                if on_ignored is not None:
                    on_ignored()
            elif is_link:
                skip(path, _link_reason(path, real_root))
            elif is_dir:
                if not generated and (reason := generated_folder(entry.name)) is not None:
                    skip(path, reason)
                elif excluded is None or path.resolve() != excluded:
                    subfolders.append((path, f"{folder_rel}{entry.name}/", rules))
            elif is_file:
                yield path
            else:
                skip(path, f"not a regular file ({file_kind(mode)})")
        stack.extend(reversed(subfolders))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _changed_since(fd: int, opened: os.stat_result) -> bool:
    """Whether the open file's size or modification time differ from what they were when it was opened
    (truncated or rewritten while read: what was indexed may be part of either version)."""
    now = os.fstat(fd)
    return (now.st_size, now.st_mtime_ns) != (opened.st_size, opened.st_mtime_ns)


def _opened_path(fd: int, path: Path) -> str:
    """Where an open file really is (Linux: what /proc says the descriptor points to)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(path)


def parse_problem(exc: BaseException) -> str:
    """The skip reason for a parse error a reader raised on untrusted content."""
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    if isinstance(exc, MemoryError):
        return "too large to read into memory"
    if isinstance(exc, (EOFError, gzip.BadGzipFile)) or type(exc).__module__ == "zlib":
        return f"damaged compressed data ({_reason(exc)})"
    if isinstance(exc, OSError):
        return f"unreadable: {_reason(exc)}"
    return f"cannot be parsed ({type(exc).__name__}: {_reason(exc)})"[:300]


def _linked_folders(roots: list[Path], base: Path) -> list[tuple[Path, Path]]:
    """(the folder of a root as typed, where it is relative to `base`) for each root that reaches `base`
    only through a symbolic link (`link/a` for `real/a`, `base` being `real`): its files are named as
    the same files reached without the link are, so a re-index keeps their paths and ids."""
    linked = []
    real_base = base.resolve()
    for root in roots:
        typed = root.absolute() if root.is_dir() else root.absolute().parent
        real = typed.resolve()
        if not typed.is_relative_to(base) and real.is_relative_to(real_base):
            linked.append((typed, real.relative_to(real_base)))
    return linked


def require_roots(roots: Iterable[str | Path]) -> None:
    """Every root that is not a database URL exists and can be reached: the first missing one is exit 4,
    and so is one inside a folder that may not be searched (asking whether it exists raised there)."""
    for root in roots:
        if is_url(root):
            continue
        if look_up(Path(root), PathNotFoundError) is None:
            raise PathNotFoundError(f"{root}: no such file or folder", hint="check the path")


class CorpusReader:
    """Reads the given roots into documents; what it cannot use goes to `report.skipped`."""

    def __init__(
        self,
        roots: list[Path],
        *,
        fields: RecordFields | None = None,
        exclude: Path | None = None,
        strict: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
        selection: Selection | None = None,
        base: Path | None = None,
        generated: bool = False,
    ) -> None:
        require_roots(roots)
        self.roots = roots
        self.exclude = exclude
        self.selection = selection or Selection()
        self.base = base or common_base(roots)  # what paths are relative to
        self.report = ReadReport()
        self.unreadable_folders: list[Path] = []  # folders the walk could not list (`iter_files`)
        self.context = ReadContext(fields or RecordFields(), strict, self.report, max_bytes, generated)
        self._named = {root for root in roots if not root.is_dir()}  # files named on the command line
        self._linked = _linked_folders(roots, self.base)
        self._folders = [os.path.realpath(root) for root in roots if root.is_dir()]
        self.last_source: SourceFile | None = None  # the source record of the file read last, if any
        self._seen_ids: set[str] = set()
        # the ids the source being read gave, → the id each was kept under (another file's id: qualified)
        self._source_ids: dict[str, str] = {}
        self._shared_ids = 0  # how many of the source's ids another source held first
        self._reading: tuple[_HashingReader, int] | None = None  # the file being read, and its size

    def files(self) -> Iterator[Path]:
        """Every file of the roots, once: roots that overlap ("docs docs/api", "docs docs/a.md", the
        same folder twice) would read a file twice, and its second reading skip as a duplicate id."""
        seen: set[str] = set()
        for root in self.roots:
            for path in iter_files(
                root,
                exclude=self.exclude,
                skipped=self.report.skipped,
                relative=self.shown,
                selection=self.selection,
                on_ignored=self._ignored,
                generated=self.context.generated,
                unreadable=self.unreadable_folders,
                on_taken=self._taken,
            ):
                key = os.path.abspath(path)
                if key not in seen:
                    seen.add(key)
                    yield path

    def _ignored(self) -> None:
        self.report.ignored += 1

    def _taken(self, folder: Path, reader: str, files: list[Path], others: int) -> None:
        """Warn that a folder a reader took over leaves files unread: a project that merely holds a
        `corpus.jsonl` and a `queries.jsonl` lost its other files without a word."""
        if not others:
            return
        read = ", ".join(self.relative(path) for path in files) or "nothing"
        unread = "1 other file in it is" if others == 1 else f"{others:,} other files in it are"
        self.context.warn(
            f"{self.shown(folder)}: read as a {reader} folder: only {read} is indexed; {unread} not "
            "(name one on the command line to index it too)"
        )

    def open_file(self, path: Path) -> IO[bytes]:
        """`path` opened for reading if ragcli may read it: a regular file inside a root, or a file named
        on the command line (a link to it is followed). Raises NotRegular (with the reason) otherwise."""
        named = path in self._named

        def opener(name: str, flags: int) -> int:
            fd = open_regular(path, follow=named)
            if not named and not any(_inside(_opened_path(fd, path), folder) for folder in self._folders):
                os.close(fd)
                raise NotRegular("outside the indexed folder (a folder on its path is a link)")
            return fd

        return open(path, "rb", buffering=0, opener=opener)

    def read_cap(self, size: int) -> int:
        """Where reading a file of `size` bytes (fstat) stops: past all of it, and for a file that reads on
        past its size (a pseudo-file) past the read limit (`_HashingReader`)."""
        return max(size, self.context.max_bytes) + 1

    def sha256(self, path: Path) -> str | None:
        """The SHA-256 of a file ragcli may read (None if it may not, or cannot, or it reads past its
        size and the read limit)."""
        digest = hashlib.sha256()
        try:
            with self.open_file(path) as handle:
                counter = _HashingReader(handle, digest, self.read_cap(os.fstat(handle.fileno()).st_size))
                while counter.read(1 << 20):
                    pass
        except (OSError, NotRegular):
            return None
        return None if counter.overflow else digest.hexdigest()

    def supported(self, path: Path) -> bool:
        """Whether a registered reader claims the file and this walk reads it (decided from its name alone)."""
        return reader_for(path) is not None and self._generated_name(path) is None

    def _generated_name(self, path: Path) -> str | None:
        """Why the file is left out as generated, known from its name (None: read it, as a file named on
        the command line always is)."""
        return None if self.context.generated or path in self._named else generated_by_name(file_name(path))

    def ids_free(self, ids: Iterable[str]) -> bool:
        """Whether none of an earlier build's document ids is taken yet: a file or row whose ids a source
        read before it now holds is read again, so that its ids are qualified as a full build's would be."""
        return self._seen_ids.isdisjoint(ids)

    def claim_ids(self, ids: Iterable[str]) -> None:
        """Document ids already taken (by passages reused from an earlier build)."""
        self._seen_ids.update(ids)

    def relative(self, path: Path) -> str:
        """The path relative to the indexed root, as Python holds it (`os.fsdecode`): a name's bytes that
        are not UTF-8 stay surrogate escapes (`\\udce9`), so that every file keeps an id of its own (as
        U+FFFD, `caf\\xe9.txt` and `caf\\xe8.txt` were one document) and its path opens it."""
        absolute = path.absolute()
        try:
            return absolute.relative_to(self.base).as_posix()
        except ValueError:
            pass
        for typed, real in self._linked:  # a root typed through a link to a folder inside `base`
            if absolute.is_relative_to(typed):
                return (real / absolute.relative_to(typed)).as_posix()
        return path.as_posix()

    def shown(self, path: Path) -> str:
        """How a message names `path`: relative to the indexed folder (`relative`), or as given where it is
        that folder itself (a lone root), which "." would not name."""
        rel = self.relative(path)
        return str(path) if rel == "." else rel

    def documents(self) -> Iterator[Document]:
        """Every document of every readable file, in a stable order."""
        for path in self.files():
            yield from self.read_file(path)

    def read_position(self) -> tuple[int, int] | None:
        """(bytes read, size) of the file `read_file` is reading: progress within one big file."""
        return None if self._reading is None else (self._reading[0].size, self._reading[1])

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
        if (reason := self._generated_name(path)) is not None:
            self.report.skipped.append(Skipped(rel, reason))  # known by its name: not even opened
            return
        digest = hashlib.sha256()
        documents = 0
        problem = None
        warned = len(self.report.warnings)  # this file's warnings follow
        self.context.start_file()
        self._start_source()
        try:
            with self.open_file(path) as raw_file:
                status = os.fstat(raw_file.fileno())
                size = status.st_size
                counter = _HashingReader(raw_file, digest, self.read_cap(size))
                stream: IO[bytes] = io.BufferedReader(counter, 1 << 20)
                compressed = path.suffix.lower() == COMPRESSED_SUFFIX
                if compressed:
                    stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
                self._reading = (counter, size)
                source = SourceInput(rel, path, size, compressed, stream, self.context, path in self._named)
                described: dict[str, str | int | float | bool] = {
                    "format": reader.name,
                    "size": size,
                    "mtime": mtime_text(status.st_mtime_ns),
                }
                try:
                    source.stream = as_utf8(stream)  # UTF-16/32 with its byte-order mark: readers read UTF-8
                    source.transcoded = source.stream is not stream
                    for document in reader.read(source):
                        if self._keep(document, f"{document.path}#{document.id}"):
                            if not document.continuation:  # what the file is; the walk's keys win
                                document.metadata = {**document.metadata, "path": document.path, **described}
                            documents += not document.continuation
                            yield document
                except Skip as skip:
                    problem = str(skip)
                except PARSE_ERRORS as exc:  # untrusted content the reader could not parse
                    problem = parse_problem(exc)
                # the hash covers the whole file, read or not, unless the file was skipped and is larger
                # than the read limit: then it is not read to its end (its size and mtime tell a change)
                if problem is None:
                    whole = counter.hash_rest(counter.cap)
                else:
                    whole = size <= self.context.max_bytes and counter.hash_rest(self.context.max_bytes)
                if counter.overflow:  # it reads on past its size and the read limit: it was cut there
                    limit = format_size(self.context.max_bytes)
                    if documents:
                        self.report.warnings.append(f"{rel}: reads on past its size; only its first {limit} were read")
                    else:
                        problem = f"larger than {limit} (raise {MAX_BYTES_OPTION} to read it)"
                if _changed_since(raw_file.fileno(), status):
                    self.report.warnings.append(f"{rel}: changed while it was read; the next index reads it again")
        except NotRegular as refused:
            self.report.skipped.append(Skipped(rel, str(refused)))
            return
        except FileNotFoundError:  # deleted since the walk listed it: no source, nothing unreadable
            self.report.deleted.append(rel)
            return
        except OSError as exc:
            self._unreadable(rel, path, documents, f"unreadable: {_reason(exc)}", reader)
            return
        finally:
            self._reading = None
        unlisted = self.context.unlisted(rel)
        if unlisted is not None:
            self.report.skipped.append(unlisted)
        record = SourceFile(
            rel,
            digest.hexdigest() if whole else UNHASHED,  # not read to its end: changed when its size or
            counter.size if whole else size,  # mtime is, never matched by content
            documents,
            skipped_records=self.context.skipped_kinds(),
            shared_ids=self._shared_ids,
            reader=reader_edition(reader),
            mtime_ns=status.st_mtime_ns,
            ctime_ns=status.st_ctime_ns,
            inode=status.st_ino,
        )
        if self._shared_ids:
            self.report.warnings.append(
                f"{rel}: {self._shared_ids:,} of its document ids were another file's first; "
                f"they are indexed as '{rel}#<id>'"
            )
        record.warnings = self.report.warnings[warned : warned + MAX_SOURCE_WARNINGS]
        if problem is None and documents == 0:
            problem = "no text"
        if problem is not None:
            record.skipped = problem
            self.report.skipped.append(Skipped(rel, problem))
        self.report.sources.append(record)
        self.last_source = record

    def _unreadable(self, rel: str, path: Path, documents: int, reason: str, reader: Reader) -> None:
        """Records a file that could not be opened or read as skipped, so that a re-index finds it
        unchanged rather than new (and wrote the whole index again each time)."""
        try:
            status: os.stat_result | None = os.stat(path)
        except OSError:
            status = None
        record = SourceFile(
            rel,
            UNHASHED,
            status.st_size if status else 0,
            documents,
            skipped=reason,
            unreadable=True,
            reader=reader_edition(reader),
            mtime_ns=status.st_mtime_ns if status else None,
            ctime_ns=status.st_ctime_ns if status else None,
            inode=status.st_ino if status else None,
        )
        self.report.skipped.append(Skipped(rel, reason))
        self.report.sources.append(record)
        self.last_source = record

    def accept(self, document: Document) -> bool:
        """Whether to keep a document read elsewhere (a database row): dropped, with the reason listed, if
        its text is empty or its id taken. A row whose id a file holds is kept under its key (`<url>#<id>`)."""
        self._start_source()
        return self._keep(document, document.path)

    @property
    def shared_ids(self) -> int:
        """How many ids of the source read last another source held first (kept qualified)."""
        return self._shared_ids

    def _start_source(self) -> None:
        self._source_ids = {}
        self._shared_ids = 0

    def _keep(self, document: Document, qualified: str) -> bool:
        """Whether to keep `document`; sets its id to the one it is kept under.

        Ids are unique in an index (a passage is `<doc id>#<n>`). A record whose id its own file gave
        before is a duplicate and skipped; one whose id another file holds (two CSV tables numbered
        from 1) is kept as `qualified` (`<file>#<id>`), so that no file's records are lost to another's."""
        if document.continuation:
            document.id = self._source_ids.get(document.id, document.id)
            return True
        if not document.text.strip():
            if document.id != document.path:
                self.context.skip_record(f"{document.path}:{document.line}", "empty text")
            return False
        given = document.id
        if given in self._seen_ids:
            if given in self._source_ids or qualified in self._seen_ids:
                self.context.skip_record(f"{document.path}:{document.line}", f"duplicate id {given!r}")
                return False
            document.id = qualified
            self._shared_ids += 1
        self._source_ids[given] = document.id
        self._seen_ids.add(document.id)
        return True
