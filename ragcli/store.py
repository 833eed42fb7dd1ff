"""The on-disk index format: a manifest, joblib payloads, atomic replacement and safe loading.

Layout of an index folder::

    .ragcli-index        written when ragcli makes a folder an index (see ragcli.indexdir)
    manifest.json        format version, settings, counts, sources, and the payload files with checksums
    data-<generation>/   joblib payloads (plain dicts of numpy arrays, strings and numbers), and
                         .ragcli-generation, the folder's own name
    lock                 held while a build writes

A build writes a new generation folder, then swaps `manifest.json` with one atomic `os.replace`, then
removes older generations. A reader sees the old index or the new one, never a mix; a build that dies
half-way leaves the previous index untouched, and its leftovers are removed by the next build. What a
build may write into and delete, and its lock, are `ragcli.indexdir`'s.

Everything read back is checked by `ragcli.safeload`: regular files only, an unpickler that builds
plain numpy arrays and values only (no code, no structured dtypes), payload and manifest schemas.
(Over 350 lines: the format in one place, manifest, payloads and the generation writer.)
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from ragcli import __version__
from ragcli.errors import (
    IndexDamagedError,
    IndexLockedError,
    IndexVersionError,
    IndexWriteError,
    InvalidOptionError,
    NewerIndexError,
    NoIndexError,
    look_up,
)
from ragcli.indexdir import (
    FORMAT_NAME,
    GENERATION_RE,
    LOCK,
    MANIFEST,
    PAYLOAD_NAME_RE,
    BuildLock,
    Identity,
    announced_leftovers,
    claim_index_dir,
    create_new,
    file_identity,
    identity_of,
    index_busy,
    index_lock,
    is_ragcli_index,
    left_as_it_was,
    manifest_file,
    manifest_identity,
    new_generation_folder,
    our_generation,
    raw_generation,
    remove_generation,
    remove_leftovers,
    write_error,
)
from ragcli.regular_files import NotRegularFileError, open_regular
from ragcli.safeload import (
    PayloadSchema,
    SafeUnpickler,
    UnsafePayloadError,
    check_manifest,
    check_payload,
)

# 2: passages carry a `page` column, and `metadata.joblib` holds each document's metadata. Both are
# optional on read, so a format-1 index opens and answers as before (its next build writes format 2);
# a ragcli that reads only format 1 refuses a format-2 index with exit 8 instead of calling it damaged.
FORMAT_VERSION = 2
OLDEST_READABLE_VERSION = 1
DEFAULT_INDEX_DIR = ".ragcli"
REBUILD_HINT = "rebuild it with `ragcli index PATH`"
READ_PERMISSION_HINT = "make it readable to you, or pass another --index; `ls -l` shows its permissions and owner"
NOT_AN_INDEX_HINT = (
    "the folder is not a ragcli index: pass --index one that is, or build one into a new or empty folder"
)

Payload = dict[str, Any]  # what a payload file holds: numpy arrays, strings and numbers, by name

__all__ = [  # defined in ragcli.indexdir / ragcli.safeload, part of the format's interface here
    "FORMAT_NAME",
    "LOCK",
    "MANIFEST",
    "BuildLock",
    "Identity",
    "UnsafePayloadError",
    "claim_index_dir",
    "file_identity",
    "index_busy",
    "index_lock",
    "is_ragcli_index",
    "left_as_it_was",
    "manifest_file",
    "manifest_identity",
    "remove_leftovers",
    "write_error",
]


def resolve_index_dir(index: str | os.PathLike[str] | None) -> Path:
    """--index, else $RAGCLI_INDEX, else ./.ragcli. Anything else, an empty path included, is the Python
    caller's mistake (Path's own TypeError said nothing of the index)."""
    if index is not None:
        if not isinstance(index, (str, os.PathLike)):
            raise InvalidOptionError(f"the index must be a folder (a str or Path), not {type(index).__name__}")
        if not os.fspath(index):  # Path("") is the current folder, which a build would then fill, as `--index ''`
            raise InvalidOptionError(
                "the index folder is an empty path",
                hint="name the folder, or pass None for $RAGCLI_INDEX, else ./.ragcli",
            )
        return Path(index)
    return Path(os.environ.get("RAGCLI_INDEX") or DEFAULT_INDEX_DIR)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a regular file (a FIFO or device raises NotRegularFileError, never blocks)."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _index_write_error(index_dir: Path, exc: OSError, left: Sequence[str] = ()) -> IndexWriteError:
    """The write error of a build; `left`: what it could not remove again (the next build does)."""
    then = f"; {left_as_it_was(index_dir)}"
    if left:
        then += f"; {' and '.join(left)} could not be removed (the next build removes it)"
    return write_error(f"cannot write the index in {index_dir}", exc, where=index_dir, then=then)


# --- payloads ---------------------------------------------------------------------------------------


class _HashingWriter:
    """A binary file that hashes what is written through it: the payload's checksum without reading
    the file back."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def write(self, data: Any) -> int:
        self.digest.update(data)
        written: int = self.handle.write(data)
        return written

    def tell(self) -> int:  # joblib aligns arrays in the file to where it is
        position: int = self.handle.tell()
        return position


def save_payload(path: Path, payload: dict[str, Any]) -> str:
    """Write one payload (a dict of arrays and plain values) into a file created anew at `path` (never
    through a link or into a FIFO planted there: `create_new`), flush it to disk, and return the
    SHA-256 of the bytes written."""
    # memory-mapped arrays (from a loaded index) are stored as plain arrays: the loader admits no memmap
    plain = {k: v.view(np.ndarray) if isinstance(v, np.ndarray) else v for k, v in payload.items()}
    with os.fdopen(create_new(path), "wb") as handle:
        hashing = _HashingWriter(handle)
        joblib.dump(plain, hashing)
        handle.flush()
        os.fsync(handle.fileno())
    return hashing.digest.hexdigest()


def load_payload(path: Path, mmap: bool = True, schema: PayloadSchema | None = None) -> dict[str, Any]:
    """Load a payload without executing anything it contains, checked against `schema` (plain data
    only without one) before anything uses it; arrays memory-mapped."""
    try:
        with open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            payload = SafeUnpickler(path, handle, size, mmap).load()
    except UnsafePayloadError as exc:
        raise IndexDamagedError(f"{path}: {exc}; the file is not a ragcli payload", hint=REBUILD_HINT) from None
    except FileNotFoundError:
        raise
    except NotRegularFileError:
        raise IndexDamagedError(f"{path}: not a regular file", hint=REBUILD_HINT) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise IndexDamagedError(f"{path}: is a symbolic link; refusing to follow it", hint=REBUILD_HINT) from None
        raise IndexDamagedError(f"{path}: cannot be read ({exc.strerror or exc})", hint=REBUILD_HINT) from None
    except Exception as exc:  # any unpickling failure (MemoryError and RecursionError included): a damaged file
        raise IndexDamagedError(f"{path}: cannot be read ({type(exc).__name__})", hint=REBUILD_HINT) from None
    problem = check_payload(payload, schema)
    if problem is not None:
        raise IndexDamagedError(f"{path}: {problem}; the file is not a ragcli payload", hint=REBUILD_HINT)
    # Plain ndarray views of the maps: same memory, without np.memmap's per-slice overhead on hot paths.
    return {k: v.view(np.ndarray) if isinstance(v, np.memmap) else v for k, v in payload.items()}


def same_payload(new: Payload, old: Payload) -> bool:
    """Whether two payloads hold the same entries in the same order, arrays equal in dtype, shape and
    every bit (a NaN equals itself, 0.0 is not -0.0): what makes an earlier generation's file the one
    a build would write."""
    if list(new) != list(old):
        return False
    for key, value in new.items():
        before = old[key]
        if type(value) is not type(before):
            return False
        if isinstance(value, np.ndarray):
            if (
                value.dtype != before.dtype
                or value.shape != before.shape
                or not np.array_equal(_bits(value), _bits(before))
            ):
                return False
        elif value != before:
            return False
    return True


def _bits(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


_UNPAIRED_RE = re.compile("[\ud800-\udc7f\udd00-\udfff]")  # lone surrogates no byte stands behind


def stored_bytes(text: str, names: bool = False) -> bytes:
    """`text` as a StringTable stores it: UTF-8, a lone surrogate (JSON's "\\ud800"), which has none, as
    "?". With `names` (file paths and the ids made of them), a name's bytes that were not UTF-8 (Python's
    surrogate escapes U+DC80-U+DCFF, os.fsdecode's form) are stored as those bytes, so that the name
    reads back as the file's own: `caf\\xe9.txt` and `caf\\xe8.txt` were both "caf?.txt"."""
    if not names:
        return text.encode("utf-8", "replace")
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _UNPAIRED_RE.sub("?", text).encode("utf-8", "surrogateescape")


class StringTable:
    """Many strings as one UTF-8 blob plus offsets: compact, memory-mappable, random access.

    Loading a million passages as Python strings costs seconds and hundreds of MB; a query needs ten.
    A table of `names` (`stored_bytes`) reads a name's bytes that are not UTF-8 back as surrogate
    escapes; any other table holds UTF-8 only, and bytes that are not are damage (UnicodeDecodeError).
    """

    ITER_ROWS = 65_536

    def __init__(self, blob: np.ndarray, offsets: np.ndarray, names: bool = False) -> None:
        self.blob = blob
        self.offsets = offsets
        self.names = names
        self._errors = "surrogateescape" if names else "strict"
        self._bytes = blob.data.cast("B") if blob.size else memoryview(b"")  # slicing copies nothing
        # the offsets as a memoryview too: indexing it gives Python ints directly, less than half the
        # cost of a numpy scalar and int() (what one string costs is mostly finding its bounds)
        self._ends = np.ascontiguousarray(offsets, dtype=np.int64).data.cast("B").cast("q")

    @classmethod
    def from_strings(cls, strings: Sequence[str], names: bool = False) -> StringTable:
        joined = "".join(strings)
        if joined.isascii():  # one encode; a character is a byte, so the offsets are the lengths
            offsets = np.zeros(len(strings) + 1, dtype=np.int64)
            np.cumsum(np.fromiter(map(len, strings), dtype=np.int64, count=len(strings)), out=offsets[1:])
            return cls(np.frombuffer(joined.encode("ascii"), dtype=np.uint8), offsets, names)
        encoded = [stored_bytes(s, names) for s in strings]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets, names)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def consistent(self) -> bool:
        """Offsets start at 0 and end at the blob's size (a truncated or mismatched table fails)."""
        return len(self.offsets) >= 1 and int(self.offsets[0]) == 0 and int(self.offsets[-1]) == len(self.blob)

    def __getitem__(self, i: int) -> str:
        return str(self._bytes[self._ends[i] : self._ends[i + 1]], "utf-8", self._errors)

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), self.ITER_ROWS):  # decoded a block of rows at a time
            yield from self.strings(start, min(start + self.ITER_ROWS, len(self)))

    def strings(self, start: int, end: int) -> list[str]:
        """Rows [start, end) decoded in one pass over their bytes (a copy of many rows at once)."""
        if end <= start:
            return []
        lo = int(self.offsets[start])
        data = bytes(self._bytes[lo : int(self.offsets[end])])
        cuts = (np.asarray(self.offsets[start : end + 1], dtype=np.int64) - lo).tolist()
        if data.isascii():  # byte offsets are character offsets, and str slices are cheaper
            text = data.decode("ascii")
            return [text[a:b] for a, b in pairwise(cuts)]
        return [data[a:b].decode("utf-8", self._errors) for a, b in pairwise(cuts)]

    def to_payload(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}_blob": self.blob, f"{prefix}_offsets": self.offsets}

    @classmethod
    def from_payload(cls, payload: dict[str, Any], prefix: str, names: bool = False) -> StringTable:
        return cls(payload[f"{prefix}_blob"], payload[f"{prefix}_offsets"], names)


# --- the manifest -----------------------------------------------------------------------------------


def load_manifest(index_dir: Path) -> tuple[dict[str, Any], Identity]:
    """The manifest, validated, and the identity of the file it was read from (see `read_manifest`)."""
    path = index_dir / MANIFEST
    found = look_up(path, IndexDamagedError, follow=False)  # a folder above it that may not be searched
    if found is not None and stat.S_ISLNK(found.st_mode):
        raise IndexDamagedError(f"{path}: is a symbolic link; refusing to follow it", hint=REBUILD_HINT)
    if found is None:
        raise NoIndexError(
            f"no index found in {index_dir}", hint="build one with `ragcli index PATH` or pass --index DIR"
        )
    try:
        with open_regular(path) as handle:
            identity = identity_of(os.fstat(handle.fileno()))
            manifest = json.loads(handle.read().decode("utf-8"))
    except NotRegularFileError:
        raise IndexDamagedError(f"{path}: not a regular file", hint=REBUILD_HINT) from None
    except PermissionError as exc:  # no rebuild helps: ragcli index cannot read it either
        raise IndexDamagedError(f"{path}: unreadable manifest ({exc.strerror})", hint=READ_PERMISSION_HINT) from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise IndexDamagedError(f"{path}: unreadable manifest ({exc})", hint=_damage_hint(index_dir)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise IndexDamagedError(f"{path}: not a ragcli index manifest", hint=_damage_hint(index_dir))
    version = manifest.get("format_version")
    if type(version) is not int:
        raise IndexDamagedError(f"{path}: manifest has no format version", hint=REBUILD_HINT)
    if version > FORMAT_VERSION:
        raise NewerIndexError(
            f"{index_dir} was built by a newer ragcli (index format {version}, this ragcli reads {FORMAT_VERSION})",
            hint="upgrade ragcli, or replace the index with `ragcli index PATH... --rebuild`",
        )
    if version < OLDEST_READABLE_VERSION:
        raise IndexVersionError(
            f"{index_dir} uses an older index format ({version}; this ragcli reads {OLDEST_READABLE_VERSION}–{FORMAT_VERSION})",
            hint=REBUILD_HINT,
        )
    generation = manifest.get("generation")
    files = manifest.get("files")
    if not isinstance(generation, str) or not GENERATION_RE.match(generation) or not isinstance(files, dict):
        raise IndexDamagedError(f"{path}: manifest names no valid data folder", hint=REBUILD_HINT)
    for name, meta in files.items():
        if not PAYLOAD_NAME_RE.match(name) or not isinstance(meta, dict):
            raise IndexDamagedError(f"{path}: manifest names an invalid payload {name!r}", hint=REBUILD_HINT)
    problem = check_manifest(manifest)
    if problem is not None:
        raise IndexDamagedError(f"{path}: {problem}", hint=REBUILD_HINT)
    return manifest, identity


def _damage_hint(index_dir: Path) -> str:
    """The way past a manifest that is not ragcli's: a rebuild where the folder is a ragcli index (its
    marker); elsewhere (another program's `manifest.json`) `ragcli index` refuses the folder, so another."""
    return REBUILD_HINT if is_ragcli_index(index_dir) else NOT_AN_INDEX_HINT


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest, validated: a missing index, a damaged file and a foreign format are distinct errors,
    and every key ragcli reads later is there with its type (or the manifest is damaged, exit 7)."""
    return load_manifest(index_dir)[0]


def payload_path(index_dir: Path, manifest: dict[str, Any], name: str) -> Path:
    """The path of a payload the manifest lists, checked to exist with the recorded size."""
    meta = manifest["files"].get(name)
    if meta is None:
        raise IndexDamagedError(f"{index_dir}: the manifest lists no {name}", hint=REBUILD_HINT)
    path: Path = index_dir / str(manifest["generation"]) / name
    if path.is_symlink() or path.parent.is_symlink():
        raise IndexDamagedError(f"{path}: is a symbolic link; refusing to follow it", hint=REBUILD_HINT)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise IndexDamagedError(f"{path}: missing", hint=REBUILD_HINT) from None
    except OSError as exc:
        raise IndexDamagedError(f"{path}: cannot be read ({exc.strerror or exc})", hint=REBUILD_HINT) from None
    if size != meta.get("bytes"):
        raise IndexDamagedError(
            f"{path}: {size} bytes, the manifest recorded {meta.get('bytes')} (truncated or replaced)",
            hint=REBUILD_HINT,
        )
    return path


def index_size(index_dir: Path, files: dict[str, dict[str, Any]]) -> int:
    """An index's bytes on disk: its payloads (`files`, the manifest's records of them) and the manifest
    itself, which records every source file (on many small files, a third of the index)."""
    payloads = sum(int(meta.get("bytes", 0)) for meta in files.values())
    try:
        return payloads + os.stat(index_dir / MANIFEST).st_size
    except OSError:
        return payloads


def verify_checksums(index_dir: Path, manifest: dict[str, Any], skip: Collection[str] = ()) -> None:
    """Re-hash every payload (but those in `skip`) against the manifest (slow on big indexes: used by
    `info --verify`, and by a build before it copies from an index)."""
    for name, meta in manifest["files"].items():
        if name in skip:
            continue
        path = payload_path(index_dir, manifest, name)
        try:
            digest = sha256_file(path)
        except NotRegularFileError:
            raise IndexDamagedError(f"{path}: not a regular file", hint=REBUILD_HINT) from None
        except OSError as exc:
            raise IndexDamagedError(f"{path}: cannot be read ({exc.strerror or exc})", hint=REBUILD_HINT) from None
        if digest != meta.get("sha256"):
            # a plain re-index that finds no file changed does not hash the payloads again: --rebuild
            raise IndexDamagedError(
                f"{path}: checksum mismatch (the file is damaged)", hint="rebuild it with `ragcli index PATH --rebuild`"
            )


# --- writing a generation ---------------------------------------------------------------------------


class GenerationWriter:
    """Writes payloads into a fresh generation folder, then publishes it with one atomic rename.
    Use it holding the index lock (`index_lock`), whose `BuildLock` it checks before publishing."""

    def __init__(self, index_dir: Path, lock: BuildLock | None = None) -> None:
        self.index_dir = index_dir
        self.lock = lock
        self.generation = f"data-{uuid.uuid4().hex}"
        self.folder = index_dir / self.generation
        self.files: dict[str, dict[str, Any]] = {}
        self.replaces: tuple[str | None, list[str]] = (None, [])
        self._behind: dict[str, Future[dict[str, Any]]] = {}  # payloads being written on the writer thread
        self._thread: ThreadPoolExecutor | None = None

    def __enter__(self) -> GenerationWriter:
        self.replaces = raw_generation(self.index_dir)
        self.remove_leftovers()
        try:
            new_generation_folder(self.index_dir, self.generation)
        except OSError as exc:
            left = announced_leftovers(self.index_dir, self.generation)
            raise _index_write_error(self.index_dir, exc, left) from None
        return self

    def write(self, name: str, payload: dict[str, Any]) -> None:
        try:
            self.files[name] = self._save(name, payload)
        except OSError as exc:
            raise self._error(exc) from None

    def write_behind(self, name: str, payload: dict[str, Any]) -> None:
        """`write`, on one background thread: writing, hashing and fsyncing a payload mostly release the
        GIL, so the caller computes the next payload meanwhile. `publish` waits for it (and raises the
        error a failed write would have raised)."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragcli-write")
        self._behind[name] = self._thread.submit(self._save, name, payload)

    def _save(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        path = self.folder / name
        digest = save_payload(path, payload)
        return {"bytes": path.stat().st_size, "sha256": digest}

    def _written(self) -> None:
        """Wait for the payloads written behind, in the order they were given; the first failure raised."""
        behind, self._behind = self._behind, {}
        for name, future in behind.items():
            try:
                self.files[name] = future.result()
            except OSError as exc:
                raise self._error(exc) from None

    def keep(self, index_dir: Path, manifest: dict[str, Any], name: str, payload: Callable[[], Payload]) -> None:
        """Put a payload of an earlier generation of this index into this one as it is: a hard link (no
        byte written or hashed; its recorded size and checksum go with it, so damage stays detectable),
        or, where the file system has no hard links, `payload()` written anew."""
        source = payload_path(index_dir, manifest, name)  # a regular file of the recorded size, no link
        meta = manifest["files"][name]
        try:
            os.link(source, self.folder / name, follow_symlinks=False)
        except OSError:
            self.write(name, payload())
            return
        self.files[name] = {"bytes": meta["bytes"], "sha256": meta["sha256"]}

    def _error(self, exc: OSError) -> IndexLockedError | IndexWriteError:
        if not our_generation(self.folder):  # another build (its lock deleted by hand) removed our folder
            return IndexLockedError(
                f"another build removed this build's data in {self.index_dir} while it ran; "
                f"{left_as_it_was(self.index_dir)}",
                hint="run it again (--wait queues it behind another build)",
            )
        return _index_write_error(self.index_dir, exc)

    def publish(self, manifest: dict[str, Any], *, checked: bool = False) -> None:
        """Swap in the new generation; `checked`: first pass the manifest through the loader's own
        checks (a build's whole manifest; a bare one in the store's own tests is not)."""
        self._written()
        manifest = dict(manifest)
        manifest.update(
            format=FORMAT_NAME,
            format_version=FORMAT_VERSION,
            ragcli_version=__version__,
            generation=self.generation,
            files=self.files,
        )
        problem = check_manifest(manifest) if checked else None
        if problem is not None:  # a bug of ragcli's: never swap in an index its own query would refuse
            raise RuntimeError(f"the index built is not one ragcli reads ({problem}); the previous one is unchanged")
        _fsync_dir(self.folder)
        tmp = self.index_dir / f"{MANIFEST}.{self.generation}.tmp"
        try:
            with os.fdopen(create_new(tmp), "w", encoding="utf-8") as handle:
                json.dump(manifest, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            if self.lock is not None:
                self.lock.check_unchanged()
            os.replace(tmp, self.index_dir / MANIFEST)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise self._error(exc) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if self.lock is not None:
            self.lock.manifest = manifest_identity(self.index_dir)
        _fsync_dir(self.index_dir)
        remove_leftovers(self.index_dir, keep=[self.generation], replaced=self.replaces)

    def remove_leftovers(self) -> None:
        remove_leftovers(self.index_dir, keep=[self.generation])

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self._thread is not None:
            self._thread.shutdown()  # waits: the writes behind end before a failed build's folder goes
        if exc_type is not None:
            remove_generation(self.folder)
