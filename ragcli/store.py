"""The on-disk index format: a manifest, joblib payloads, atomic replacement and safe loading.

Layout of an index folder::

    manifest.json        format version, settings, counts, sources, and the payload files with checksums
    data-<generation>/   joblib payloads (plain dicts of numpy arrays, strings and numbers)
    lock                 held while a build writes

A build writes a new generation folder, then swaps `manifest.json` with one atomic `os.replace`, then
removes older generations. A reader sees the old index or the new one, never a mix; a build that dies
half-way leaves the previous index untouched, and its leftovers are removed by the next build.

joblib files are pickles, and unpickling can run code. `load_payload` therefore uses an unpickler that
resolves only numpy's array and dtype classes and joblib's array wrapper, and refuses object arrays
(which joblib would read with a plain, unrestricted pickle). Arrays are memory-mapped.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from joblib.numpy_pickle import NumpyArrayWrapper, NumpyUnpickler

from ragcli import __version__
from ragcli.errors import IndexDamagedError, IndexLockedError, IndexVersionError, IndexWriteError, NoIndexError

FORMAT_NAME = "ragcli-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LOCK = "lock"
DEFAULT_INDEX_DIR = ".ragcli"
_GENERATION_RE = re.compile(r"^data-[0-9a-f]{12,40}$")
_PAYLOAD_NAME_RE = re.compile(r"^[a-z0-9_]+\.joblib$")
REBUILD_HINT = "rebuild it with `ragcli index PATH`"

Payload = dict[str, Any]  # what a payload file holds: numpy arrays, strings and numbers, by name

_ALLOWED_GLOBALS = {
    ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
}


class UnsafePayloadError(Exception):
    """A payload asked the unpickler for something other than plain data."""


class _SafeUnpickler(NumpyUnpickler):
    """joblib's unpickler, restricted to numpy arrays, dtypes and plain containers."""

    dispatch = NumpyUnpickler.dispatch.copy()

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise UnsafePayloadError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)

    def load_build(self) -> None:
        # The stack ends with (object, state). Check an array wrapper's dtype before joblib reads the
        # array: joblib reads arrays of Python objects with a plain, unrestricted pickle.
        if len(self.stack) >= 2 and isinstance(self.stack[-2], NumpyArrayWrapper):
            state = self.stack[-1]
            dtype = state.get("dtype") if isinstance(state, dict) else None
            if not isinstance(dtype, np.dtype) or dtype.hasobject:
                raise UnsafePayloadError("refusing an array of Python objects")
        NumpyUnpickler.load_build(self)

    dispatch[b"b"[0]] = load_build


def resolve_index_dir(index: str | os.PathLike[str] | None) -> Path:
    """--index, else $RAGCLI_INDEX, else ./.ragcli."""
    if index is not None:
        return Path(index)
    return Path(os.environ.get("RAGCLI_INDEX") or DEFAULT_INDEX_DIR)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
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


def save_payload(path: Path, payload: dict[str, Any]) -> None:
    """Write one payload (a dict of arrays and plain values) and flush it to disk."""
    # memory-mapped arrays (from a loaded index) are stored as plain arrays: the loader admits no memmap
    plain = {k: v.view(np.ndarray) if isinstance(v, np.ndarray) else v for k, v in payload.items()}
    with open(path, "wb") as handle:
        joblib.dump(plain, handle)
        handle.flush()
        os.fsync(handle.fileno())


def load_payload(path: Path, mmap: bool = True) -> dict[str, Any]:
    """Load a payload without executing anything it contains; arrays memory-mapped."""
    try:
        with open(path, "rb") as handle:
            unpickler = _SafeUnpickler(str(path), handle, False, mmap_mode="r" if mmap else None)
            payload = unpickler.load()
    except UnsafePayloadError as exc:
        raise IndexDamagedError(f"{path}: {exc}; the file is not a ragcli payload", hint=REBUILD_HINT) from None
    except FileNotFoundError:
        raise
    except Exception as exc:  # any unpickling failure means a damaged file
        raise IndexDamagedError(f"{path}: cannot be read ({type(exc).__name__})", hint=REBUILD_HINT) from None
    if not isinstance(payload, dict):
        raise IndexDamagedError(f"{path}: not a ragcli payload", hint=REBUILD_HINT)
    # Plain ndarray views of the maps: same memory, without np.memmap's per-slice overhead on hot paths.
    return {k: v.view(np.ndarray) if isinstance(v, np.memmap) else v for k, v in payload.items()}


class StringTable:
    """Many strings as one UTF-8 blob plus offsets: compact, memory-mappable, random access.

    Loading a million passages as Python strings costs seconds and hundreds of MB; a query needs ten.
    """

    def __init__(self, blob: np.ndarray, offsets: np.ndarray) -> None:
        self.blob = blob
        self.offsets = offsets
        self._bytes = blob.data.cast("B") if blob.size else memoryview(b"")  # slicing copies nothing

    @classmethod
    def from_strings(cls, strings: Sequence[str]) -> StringTable:
        encoded = [s.encode("utf-8", "replace") for s in strings]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def consistent(self) -> bool:
        """Offsets start at 0 and end at the blob's size (a truncated or mismatched table fails)."""
        return len(self.offsets) >= 1 and int(self.offsets[0]) == 0 and int(self.offsets[-1]) == len(self.blob)

    def __getitem__(self, i: int) -> str:
        return str(self._bytes[int(self.offsets[i]) : int(self.offsets[i + 1])], "utf-8")

    def __iter__(self) -> Iterator[str]:
        data = self.blob.tobytes()
        offsets = self.offsets.tolist()
        for i in range(len(offsets) - 1):
            yield data[offsets[i] : offsets[i + 1]].decode("utf-8")

    def to_payload(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}_blob": self.blob, f"{prefix}_offsets": self.offsets}

    @classmethod
    def from_payload(cls, payload: dict[str, Any], prefix: str) -> StringTable:
        return cls(payload[f"{prefix}_blob"], payload[f"{prefix}_offsets"])


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest, validated: a missing index, a damaged file and a foreign format are distinct errors."""
    path = index_dir / MANIFEST
    if path.is_symlink():
        raise IndexDamagedError(f"{path}: is a symbolic link; refusing to follow it", hint=REBUILD_HINT)
    if not path.is_file():
        raise NoIndexError(
            f"no index found in {index_dir}", hint="build one with `ragcli index PATH` or pass --index DIR"
        )
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexDamagedError(f"{path}: unreadable manifest ({exc})", hint=REBUILD_HINT) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise IndexDamagedError(f"{path}: not a ragcli index manifest", hint=REBUILD_HINT)
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise IndexDamagedError(f"{path}: manifest has no format version", hint=REBUILD_HINT)
    if version > FORMAT_VERSION:
        raise IndexVersionError(
            f"{index_dir} was built by a newer ragcli (index format {version}, this ragcli reads {FORMAT_VERSION})",
            hint="upgrade ragcli or rebuild the index",
        )
    if version < FORMAT_VERSION:
        raise IndexVersionError(
            f"{index_dir} uses an older index format ({version}; this ragcli reads {FORMAT_VERSION})",
            hint=REBUILD_HINT,
        )
    generation = manifest.get("generation")
    files = manifest.get("files")
    if not isinstance(generation, str) or not _GENERATION_RE.match(generation) or not isinstance(files, dict):
        raise IndexDamagedError(f"{path}: manifest names no valid data folder", hint=REBUILD_HINT)
    for name, meta in files.items():
        if not _PAYLOAD_NAME_RE.match(name) or not isinstance(meta, dict):
            raise IndexDamagedError(f"{path}: manifest names an invalid payload {name!r}", hint=REBUILD_HINT)
    return manifest


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
    if size != meta.get("bytes"):
        raise IndexDamagedError(
            f"{path}: {size} bytes, the manifest recorded {meta.get('bytes')} (truncated or replaced)",
            hint=REBUILD_HINT,
        )
    return path


def verify_checksums(index_dir: Path, manifest: dict[str, Any]) -> None:
    """Re-hash every payload against the manifest (slow on big indexes: used by `info --verify`)."""
    for name, meta in manifest["files"].items():
        path = payload_path(index_dir, manifest, name)
        if sha256_file(path) != meta.get("sha256"):
            raise IndexDamagedError(f"{path}: checksum mismatch (the file is damaged)", hint=REBUILD_HINT)


@contextmanager
def index_lock(index_dir: Path, wait: bool = False) -> Iterator[None]:
    """Hold the index's build lock; a second builder waits (`wait`) or fails clearly."""
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / LOCK))
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        raise IndexLockedError(
            f"{index_dir} is being written by another ragcli process",
            hint="wait for it to finish, or pass --wait",
        ) from None
    try:
        yield
    finally:
        lock.release()


def _write_error(index_dir: Path, exc: OSError) -> IndexWriteError:
    return IndexWriteError(
        f"cannot write the index in {index_dir}: {exc.strerror or exc}; the previous index is unchanged",
        hint="free some disk space or choose another --index",
    )


def remove_leftovers(index_dir: Path, keep: str | None = None) -> None:
    """Delete generation folders and temporary manifests the current manifest does not use (what a
    killed build left behind). Call it holding the index lock."""
    current = None
    with suppress(OSError, ValueError, AttributeError):
        current = json.loads((index_dir / MANIFEST).read_text("utf-8")).get("generation")
    if not index_dir.is_dir():
        return
    for entry in index_dir.iterdir():
        if entry.name in (current, keep):
            continue
        if _GENERATION_RE.match(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(f"{MANIFEST}.") and entry.name.endswith(".tmp"):
            entry.unlink(missing_ok=True)


class GenerationWriter:
    """Writes payloads into a fresh generation folder, then publishes it with one atomic rename."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.generation = f"data-{uuid.uuid4().hex}"
        self.folder = index_dir / self.generation
        self.files: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> GenerationWriter:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.remove_leftovers()
        self.folder.mkdir()
        return self

    def write(self, name: str, payload: dict[str, Any]) -> None:
        path = self.folder / name
        try:
            save_payload(path, payload)
            self.files[name] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        except OSError as exc:
            raise _write_error(self.index_dir, exc) from None

    def publish(self, manifest: dict[str, Any]) -> None:
        manifest = dict(manifest)
        manifest.update(
            format=FORMAT_NAME,
            format_version=FORMAT_VERSION,
            ragcli_version=__version__,
            generation=self.generation,
            files=self.files,
        )
        _fsync_dir(self.folder)
        tmp = self.index_dir / f"{MANIFEST}.{uuid.uuid4().hex}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(manifest, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.index_dir / MANIFEST)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise _write_error(self.index_dir, exc) from None
        _fsync_dir(self.index_dir)
        self.remove_leftovers()

    def remove_leftovers(self) -> None:
        remove_leftovers(self.index_dir, keep=self.generation)

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
