"""The index folder: what ragcli may touch in it, and the lock a build holds.

ragcli only deletes or replaces what it can prove it wrote:

- a build writes into a folder that does not exist, is empty, or is a ragcli index: its marker file
  `.ragcli-index` (written when ragcli makes a folder an index), or, for indexes built before the
  marker existed, a `manifest.json` in ragcli's format. A folder holding only the start of the marker
  (a first build cut off while writing it) counts as empty. Any other folder is refused before
  anything (not even the lock file) is written there.
- each generation folder ragcli writes holds `.ragcli-generation`, its own name: only such folders,
  their temporary manifests, and the generation a replaced ragcli manifest named are ever deleted, and
  of those only the files ragcli writes there (payloads, the marker). A user's `data-202403151230`
  folder, or a file of theirs inside a generation folder, stays.
- a first build that fails takes back the marker it wrote (and the folder it made), unless it kept
  work to resume from there (the dense checkpoint, `DENSE_CHECKPOINT`): the marker then stays, so that
  the next build may take the checkpoint up; a checkpoint without the marker proves nothing.
- any other file written and then renamed into place (the dense checkpoint) is first written under a
  name with ragcli's prefix, `.ragcli-<name>.<32 hex digits>.tmp`, so one a killed write left is
  deleted too (a regular file only, never a link). Outside an index folder (the cache's state file),
  where no build lock keeps other writers out, only such a file no process holds a flock on.

Builds are serialised by a flock on the index folder itself and by the `lock` file (for other tools
and older ragcli versions): deleting `lock` by hand cannot let two builds interleave. Where a file
system has no flock on folders, a build still checks before it publishes that nobody replaced the
manifest since it took the lock (`BuildLock.check_unchanged`). On a read-only file system `lock` is
flocked opened for reading (`BuildLock.read_only`): an unchanged index is still found up to date.
"""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import re
import stat
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from ragcli.errors import ForeignFolderError, IndexLockedError, IndexWriteError, NoIndexError, look_up
from ragcli.records import INDEX_FORMAT, INDEX_LOCK, INDEX_MANIFEST, INDEX_MARKER
from ragcli.regular_files import check_regular, open_regular

FORMAT_NAME = INDEX_FORMAT
MANIFEST = INDEX_MANIFEST
LOCK = INDEX_LOCK
GENERATION_MARKER = ".ragcli-generation"
GENERATION_RE = re.compile(r"^data-[0-9a-f]{12,40}$")
PAYLOAD_NAME_RE = re.compile(r"^[a-z0-9_]+\.joblib$")
_TEMP_MANIFEST_RE = re.compile(r"^manifest\.json\.(data-[0-9a-f]{32})\.tmp$")
PENDING_PREFIX = ".ragcli-pending-"  # + a generation's name: announced before its folder is made
_PENDING_RE = re.compile(r"^\.ragcli-pending-(data-[0-9a-f]{32})$")
_TEMPORARY_RE = re.compile(r"^\.ragcli-[a-z0-9_.-]+\.[0-9a-f]{32}\.tmp$")  # `temporary_beside`'s names
DENSE_CHECKPOINT = "dense-checkpoint.joblib"  # the vectors an interrupted build keeps (retrieval/dense.py)


# --- errors of writing: say what happened -----------------------------------------------------------


def write_error(
    action: str,
    exc: OSError,
    *,
    where: Path | None = None,
    then: str = "",
    option: str = "choose another --index",
) -> IndexWriteError:
    """An OSError met while writing, as exit 12: `action`, the cause, `then` (what state things are in),
    and a hint that fits the cause: disk or inodes full, a read-only file system (no file's permissions
    would help: remount it), no permission (naming `where`, the file or folder to make writable), a file
    size limit, a file where a folder should be."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = f"free some disk space (or inodes: `df -i` shows them), or {option}"
    elif exc.errno == errno.EROFS:
        hint = f"{where or exc.filename or 'it'} is on a read-only file system: mount it read-write, or {option}"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        hint = f"make {where or exc.filename or 'it'} writable, or {option}"
    elif exc.errno == errno.EFBIG:  # no other folder lifts a process's limit
        hint = f"a file outgrew the file size limit, which `ulimit -f` shows, or the file system's largest file: raise the limit, or {option}"
    elif exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        hint = f"a file stands where a folder should be (or the reverse): move it, or {option}"
    else:
        hint = option
    return IndexWriteError(f"{action}: {reason}{then}", hint=hint)


def left_as_it_was(index_dir: Path) -> str:
    """What a failed build leaves, for its error message: the index as it was, or (a first build) none."""
    return "the previous index is unchanged" if os.path.lexists(index_dir / MANIFEST) else "no index was written"


Identity = tuple[int, int, int, int]  # (device, inode, size, mtime_ns) of manifest.json


def umask_mode() -> int:
    """What the umask leaves of 0666: the permissions `open(path, "w")` gives a new file. Files that
    tools write privately (mkstemp, safetensors) get these before they are published."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def file_mode(path: Path) -> int:
    """The permissions a file written in `path`'s place gets: those of the file it replaces, else the
    umask's (`umask_mode`)."""
    with suppress(OSError):
        return stat.S_IMODE(path.stat().st_mode)
    return umask_mode()


def identity_of(result: os.stat_result) -> Identity:
    return (result.st_dev, result.st_ino, result.st_size, result.st_mtime_ns)


def manifest_identity(index_dir: Path) -> Identity | None:
    """What changes whenever the manifest is replaced (one stat call); None: no manifest."""
    return file_identity(manifest_file(index_dir))


def manifest_file(index_dir: Path) -> str:
    """The manifest's path as a string: what a caller that checks it before every query keeps."""
    return os.path.join(index_dir, MANIFEST)


def file_identity(path: str) -> Identity | None:
    """identity_of the file at `path` (one stat call; a str, not a Path: this runs before every
    query, Index.refresh); None: no such file."""
    try:
        return identity_of(os.stat(path))
    except OSError:
        return None


# --- what ragcli may touch --------------------------------------------------------------------------


def _holds(path: Path, text: str) -> bool:
    """Whether `path` is a regular file holding exactly `text` (a ragcli marker)."""
    try:
        with open_regular(path) as handle:
            return handle.read(len(text) + 1) == text.encode()
    except (OSError, ValueError):
        return False


def _holds_start_of(path: Path, text: str) -> bool:
    """Whether `path` is a regular file holding the start of `text` (nothing, part or all of it): a
    marker whose writing was cut off (a killed build, an older ragcli's on a full disk)."""
    try:
        with open_regular(path) as handle:
            return text.encode().startswith(handle.read(len(text) + 1))
    except (OSError, ValueError):
        return False


def is_ragcli_index(index_dir: Path) -> bool:
    """Whether `index_dir` is a folder ragcli made an index: its marker, or (indexes built before the
    marker existed) a manifest in ragcli's format."""
    if _holds(index_dir / INDEX_MARKER, f"{FORMAT_NAME}\n"):
        return True
    try:
        with open_regular(index_dir / MANIFEST) as handle:
            manifest = json.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == FORMAT_NAME


def _empty(folder: Path) -> bool:
    """Nothing in it but what a first build that published nothing may have left: an empty `lock`
    file (an older ragcli's), and the start of the marker (`_holds_start_of`: its write cut off, so
    it never said "ragcli's"; beside nothing of anyone's, finishing it takes nothing over)."""
    for entry in folder.iterdir():
        if entry.name == INDEX_MARKER and _holds_start_of(entry, f"{FORMAT_NAME}\n"):
            continue
        if entry.name != LOCK or entry.is_symlink() or not entry.is_file() or entry.stat().st_size:
            return False
    return True


def holds_foreign_files(index_dir: Path) -> bool:
    """Whether `index_dir` is something `claim_index_dir` refuses to build an index in (a file, or a
    folder neither a ragcli index nor empty): a hint must not send anyone to build there."""
    try:
        if not index_dir.is_dir():
            return index_dir.exists()
        return not is_ragcli_index(index_dir) and not _empty(index_dir)
    except OSError:
        return False


def create_new(path: Path, mode: int = 0o666) -> int:
    """A descriptor, open for writing, of a file this call creates at `path` (the umask applies to
    `mode`). Never through a link, into a FIFO or over any file already there (FileExistsError): every
    file ragcli writes into an index folder, where someone may have planted such a name, is made so."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    return os.open(path, flags, mode)


def temporary_beside(path: Path) -> Path:
    """A fresh name beside `path` for a file written there and then renamed over it. It carries ragcli's
    prefix (`.ragcli-<name>.<32 hex digits>.tmp`), so that the next build can tell what a killed write
    left (no handler runs on SIGKILL) from a user's file, and remove it (`remove_leftovers`)."""
    return path.with_name(f".ragcli-{path.name}.{uuid.uuid4().hex}.tmp")


def flock_now(descriptor: int) -> bool:
    """Take an exclusive flock on `descriptor` without waiting; it is held until the descriptor is
    closed. False where another open file holds one, or the file system has no flock. A writer of a
    temporary file in a folder no build lock covers holds its own this way, which
    `remove_unheld_temporaries` tells from a killed writer's file."""
    try:
        import fcntl

        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):
        return False
    return True


def remove_unheld_temporaries(folder: Path, name: str) -> None:
    """Delete what killed writes of `folder / name` left in a folder no build lock covers (the cache's
    state file): regular files of `temporary_beside`'s names for it that no process holds a flock on
    (a live writer holds its own: `flock_now`). A link, another name, a file being written stay, and
    so does everything where the file system has no flock: nothing there proves its writer gone."""
    prefix = f".ragcli-{name}."
    try:
        leftovers = sorted(n for n in os.listdir(folder) if n.startswith(prefix) and _TEMPORARY_RE.match(n))
    except OSError:
        return
    for leftover in leftovers:
        path = folder / leftover
        with suppress(OSError), open_regular(path) as handle:  # never through a link, never a FIFO
            if flock_now(handle.fileno()):
                path.unlink()


def write_marker(path: Path, text: str) -> None:
    """Create `path` holding `text`. A write that fails (a full disk) removes the file it created: an
    empty or partial marker would not prove the folder ragcli's, and would keep later builds out."""
    handle = os.fdopen(create_new(path, 0o644), "w", encoding="utf-8")  # when it fails, nothing was made
    try:
        with handle:
            handle.write(text)
    except BaseException:
        with suppress(OSError):
            path.unlink()
        raise


def _first_existing(path: Path) -> Path:
    """`path`, or the nearest folder above it that exists (the one a new index folder is made in)."""
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def claim_index_dir(index_dir: Path, *, create: bool = True) -> Claim:
    """Make sure ragcli may write an index in `index_dir`, before anything is written there: a folder
    that does not exist (created) or is empty gets ragcli's marker; a ragcli index is kept; any other
    folder is refused (ForeignFolderError, nothing touched). With `create=False` an index must exist.
    Returns what this call made there, for `index_lock` to take back when the first build fails."""
    if not create:
        if not is_ragcli_index(index_dir):
            raise NoIndexError(f"no index found in {index_dir}", hint="build one with `ragcli index PATH`")
        return Claim()
    refuse = "pass --index (or set RAGCLI_INDEX to) a new or empty folder"
    claim = Claim(marker=True)
    found = look_up(index_dir, IndexWriteError)  # a folder above it that may not be searched: exit 12
    if found is not None and stat.S_ISDIR(found.st_mode):
        if is_ragcli_index(index_dir):
            if not (index_dir / INDEX_MARKER).exists():
                with suppress(OSError):  # built by 0.1.0: its manifest is the proof, the marker a bonus
                    write_marker(index_dir / INDEX_MARKER, f"{FORMAT_NAME}\n")
            return Claim()
        try:
            empty = _empty(index_dir)
        except OSError as exc:
            raise write_error(f"cannot read the folder {index_dir}", exc, where=index_dir) from None
        if not empty:
            raise ForeignFolderError(
                f"{index_dir} is not empty and is not a ragcli index; refusing to write an index into it "
                "(nothing in it was changed)",
                hint=refuse,
            )
        with suppress(FileNotFoundError):  # the start of a marker a first build left (`_empty`): written anew
            (index_dir / INDEX_MARKER).unlink()
    elif found is not None or index_dir.is_symlink():
        raise ForeignFolderError(
            f"{index_dir} is not a folder; refusing to write an index there (nothing was changed)", hint=refuse
        )
    else:
        try:
            claim = Claim(marker=True, folders=_make_folders(index_dir))
        except OSError as exc:
            where = _first_existing(index_dir)
            raise write_error(f"cannot create the index folder {index_dir}", exc, where=where) from None
    try:
        with suppress(FileExistsError):
            write_marker(index_dir / INDEX_MARKER, f"{FORMAT_NAME}\n")
    except OSError as exc:
        _take_back(index_dir, claim)  # the folders this call made
        raise write_error(f"cannot write an index in {index_dir}", exc, where=index_dir) from None
    if not is_ragcli_index(index_dir):  # someone else's file took the marker's name meanwhile
        raise ForeignFolderError(f"{index_dir} is not a ragcli index; refusing to write into it")
    return claim


@dataclass(frozen=True)
class Claim:
    """What `claim_index_dir` made: the marker (none where an index was there), and each folder it
    created, the index folder's missing parents too (innermost first), so that a failed first build
    removes those folders and only those."""

    marker: bool = False
    folders: tuple[Path, ...] = ()


def _make_folders(index_dir: Path) -> tuple[Path, ...]:
    """Create `index_dir` and the folders above it that are missing; returns those this call made,
    innermost first. One that fails takes back the ones made before it."""
    missing = []
    path = index_dir
    while not os.path.lexists(path) and path.parent != path:
        missing.append(path)
        path = path.parent
    made: list[Path] = []
    try:
        for folder in reversed(missing):
            with suppress(FileExistsError):  # made meanwhile by someone else: theirs, never removed
                folder.mkdir()
                made.insert(0, folder)
    except OSError:
        _remove_folders(made)
        raise
    return tuple(made)


def _remove_folders(folders: Sequence[Path]) -> None:
    """Remove the folders a claim made, innermost first, up to the first one that is not empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (someone else's file appeared): it and those above it are left
            return


def _take_back(index_dir: Path, claim: Claim) -> None:
    """After a first build that published nothing: its lock and marker removed, and the folder when
    the build made it, so a failed `ragcli index` leaves the place as it found it; unless the build kept
    a checkpoint there, which the marker must go on claiming for the next build to resume from it."""
    if not claim.marker or (index_dir / MANIFEST).exists() or (index_dir / MANIFEST).is_symlink():
        return
    checkpoint = index_dir / DENSE_CHECKPOINT
    if not checkpoint.is_symlink() and checkpoint.is_file():
        return
    for name in (LOCK, INDEX_MARKER):
        entry = index_dir / name
        if not entry.is_symlink() and entry.is_file():
            entry.unlink(missing_ok=True)
    _remove_folders(claim.folders)


def our_generation(folder: Path) -> bool:
    return not folder.is_symlink() and folder.is_dir() and _holds(folder / GENERATION_MARKER, folder.name)


def unfinished_generation(folder: Path) -> bool:
    """Whether a generation folder a build announced (`new_generation_folder`) was left before its
    marker was whole: it holds nothing, or only a marker file whose text is the start of its name."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    try:
        entries = [entry.name for entry in folder.iterdir()]
    except OSError:
        return False
    return not entries or (entries == [GENERATION_MARKER] and _holds_start_of(folder / GENERATION_MARKER, folder.name))


def new_generation_folder(index_dir: Path, generation: str) -> Path:
    """Create a generation folder and its marker. A build killed between the `mkdir` and the marker's
    last byte would leave a folder ragcli could not prove it made; so the build first creates an
    announcement file named after the folder (created exclusively: its name is the proof), and removes
    it once the marker is whole. The next build's `remove_leftovers` finishes what one announced.
    A failure here (a full disk) takes back what this call made before it is raised; what could not
    be taken back is named by `announced_leftovers`."""
    announcement = announcement_of(index_dir, generation)
    folder = index_dir / generation
    made_folder = False
    handle = os.fdopen(create_new(announcement, 0o644), "w", encoding="utf-8")  # when it fails, nothing was made
    try:
        with handle:
            handle.write(generation)
        folder.mkdir()
        made_folder = True
        write_marker(folder / GENERATION_MARKER, generation)
    except BaseException:
        if made_folder:
            remove_generation(folder)
        with suppress(OSError):
            announcement.unlink()
        raise
    announcement.unlink()
    return folder


def announcement_of(index_dir: Path, generation: str) -> Path:
    """The file that announces a generation folder before it is made (`new_generation_folder`)."""
    return index_dir / f"{PENDING_PREFIX}{generation}"


def announced_leftovers(index_dir: Path, generation: str) -> list[str]:
    """What a failed `new_generation_folder` could not take back (the names of the announcement and the
    folder, where still there): for the error message, since the next build is what removes them."""
    return [p.name for p in (announcement_of(index_dir, generation), index_dir / generation) if os.path.lexists(p)]


def remove_generation(folder: Path, files: Sequence[str] | None = None) -> None:
    """Delete what ragcli wrote in a generation folder (payload files, its marker), then the folder if
    that emptied it. `files`: the payloads a ragcli manifest listed (a folder without a marker)."""
    with suppress(OSError):
        for entry in folder.iterdir():
            ours = PAYLOAD_NAME_RE.match(entry.name) and (files is None or entry.name in files)
            if ours and not entry.is_symlink() and entry.is_file():
                entry.unlink(missing_ok=True)
        (folder / GENERATION_MARKER).unlink(missing_ok=True)
        folder.rmdir()


def raw_generation(index_dir: Path) -> tuple[str | None, list[str]]:
    """The generation (and payload names) the current manifest names, read without validation."""
    with suppress(OSError, ValueError, RecursionError, AttributeError, TypeError):
        with open_regular(index_dir / MANIFEST) as handle:
            manifest = json.loads(handle.read().decode("utf-8"))
        if manifest.get("format") == FORMAT_NAME and isinstance(manifest.get("generation"), str):
            return manifest["generation"], [str(n) for n in manifest.get("files") or {}]
    return None, []


def remove_leftovers(
    index_dir: Path, keep: Sequence[str] = (), replaced: tuple[str | None, list[str]] | None = None
) -> None:
    """Delete generation folders and temporary files the current manifest does not use, that ragcli
    can prove it wrote (what a killed build left): a generation folder carrying ragcli's marker or
    announced and killed before its marker was whole (`new_generation_folder`), a temporary manifest
    of such a generation, a temporary file of ragcli's name (`temporary_beside`), and `replaced`, the generation a manifest this build
    replaced named (with its payload names; an index built before the markers existed has none).
    Anything else is left alone. Call it holding the index lock, on a folder `claim_index_dir` accepted."""
    current, _ = raw_generation(index_dir)
    spared = {current, *keep}
    try:
        entries = sorted(index_dir.iterdir())
    except OSError:
        return
    for entry in entries:  # temporary manifests first: a generation's marker proves its temporary manifest
        match = _TEMP_MANIFEST_RE.match(entry.name)
        ours = match and match[1] not in spared and our_generation(index_dir / match[1])
        if ours and not entry.is_symlink() and entry.is_file():
            entry.unlink(missing_ok=True)
    for entry in entries:
        announced = _PENDING_RE.match(entry.name)
        if announced and announced[1] not in spared and not entry.is_symlink() and entry.is_file():
            folder = index_dir / announced[1]
            if unfinished_generation(folder):
                remove_generation(folder)
            entry.unlink(missing_ok=True)
    for entry in entries:
        if _TEMPORARY_RE.match(entry.name) and not entry.is_symlink() and entry.is_file():
            entry.unlink(missing_ok=True)
    for entry in entries:
        if GENERATION_RE.match(entry.name) and entry.name not in spared and our_generation(entry):
            remove_generation(entry)
    if replaced is not None and replaced[0] is not None and replaced[0] not in spared:
        folder = index_dir / replaced[0]
        if GENERATION_RE.match(replaced[0]) and not folder.is_symlink() and folder.is_dir():
            remove_generation(folder, None if our_generation(folder) else replaced[1])


# --- the build lock ---------------------------------------------------------------------------------


@dataclass
class BuildLock:
    """Held by one build: the index folder locked, and the manifest as the build found it."""

    index_dir: Path
    manifest: Identity | None
    read_only: bool = False  # on a read-only file system: nothing can be written or removed there

    def check_unchanged(self) -> None:
        """Before publishing: nobody replaced the manifest since this build took the lock."""
        if manifest_identity(self.index_dir) != self.manifest:
            raise IndexLockedError(
                f"another build replaced the index in {self.index_dir} while this one ran; "
                "this build's result was not published",
                hint="run it again (--wait queues it behind another build)",
            )


def _locked_error(index_dir: Path) -> IndexLockedError:
    return IndexLockedError(
        f"{index_dir} is being written by another ragcli process", hint="wait for it to finish, or pass --wait"
    )


def _lock_folder(index_dir: Path, wait: bool) -> int | None:
    """flock the index folder itself: unlike the `lock` file, nobody deletes it by accident. None where
    the file system has no flock on folders (the `lock` file and the manifest check still hold)."""
    if importlib.util.find_spec("fcntl") is None:  # pragma: no cover - not POSIX: no flock at all
        return None
    fd = os.open(index_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        _flock(fd, index_dir, wait)
    except OSError as exc:
        if exc.errno in (errno.ENOLCK, errno.EBADF, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS):
            return None
        raise
    return fd


def _flock(fd: int, index_dir: Path, wait: bool) -> None:
    """Take an exclusive flock on `fd` (the folder's or the `lock` file's), waiting for it or not.
    Another holder is IndexLockedError; the descriptor is closed on any failure, an OSError included,
    which the caller judges."""
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        raise _locked_error(index_dir) from None
    except BaseException:
        os.close(fd)
        raise


def _refuse_odd_lock_file(path: Path) -> None:
    """filelock before 3.20.1 opens the lock file through a link (truncating its target): a link, FIFO
    or folder planted as `lock` is refused here (an OSError, as a newer filelock raises), whichever
    filelock is installed."""
    with suppress(FileNotFoundError):  # none yet: filelock creates it
        check_regular(path)


def index_busy(index_dir: Path) -> bool:
    """Whether another build holds the index's lock at this moment: a look, not a wait, stale at once
    (a refusal that depends on the index is put off until the build waited for has finished). False
    where the file system has no flock on folders."""
    try:
        fd = _lock_folder(index_dir, wait=False)
    except IndexLockedError:
        return True
    except OSError:  # no such folder, or none to open: nobody builds there
        return False
    if fd is not None:
        os.close(fd)
    return False


@contextmanager
def index_lock(index_dir: Path, wait: bool = False, *, create: bool = True) -> Iterator[BuildLock]:
    """Hold the index's build lock; a second builder waits (`wait`) or fails clearly (exit 10).

    The folder is claimed first (`claim_index_dir`): a folder that is not ragcli's is refused before
    any lock file is created in it. `create=False`: the index must exist already."""
    from filelock import FileLock, Timeout

    claim = claim_index_dir(index_dir, create=create)
    try:
        folder_fd = _lock_folder(index_dir, wait)
    except OSError as exc:
        _take_back(index_dir, claim)
        raise write_error(f"cannot lock the index folder {index_dir}", exc, where=index_dir) from None
    read_only_fd: int | None = None
    try:
        lock = FileLock(str(index_dir / LOCK))
        try:
            _refuse_odd_lock_file(index_dir / LOCK)
            lock.acquire(timeout=-1 if wait else 0)
        except Timeout:
            raise _locked_error(index_dir) from None
        except OSError as exc:
            read_only_fd = _lock_read_only(index_dir, wait, exc) if folder_fd is not None else None
            if read_only_fd is None:
                _take_back(index_dir, claim)  # still holding the folder's flock
                where = index_dir / LOCK
                raise write_error(f"cannot take the lock file {where}", exc, where=where) from None
        try:
            yield BuildLock(index_dir, manifest_identity(index_dir), read_only=read_only_fd is not None)
        except BaseException:
            if read_only_fd is None:
                lock.release()
                _take_back(index_dir, claim)  # still holding the folder's flock
            raise
        if read_only_fd is None:
            lock.release()
    finally:
        for fd in (read_only_fd, folder_fd):
            if fd is not None:
                os.close(fd)  # closing the descriptor releases its flock


def _lock_read_only(index_dir: Path, wait: bool, exc: OSError) -> int | None:
    """On a read-only file system (a read-only mount of the index), the `lock` file cannot be opened for
    writing; a flock needs no write access, so it is taken on the file opened for reading: a build
    through a writable mount of the same folder (or an older ragcli, which locks `lock` alone) is still
    kept out while this one reads, and this one can write nothing. None: not that case, or no `lock`."""
    if exc.errno != errno.EROFS:
        return None
    try:
        fd = os.open(index_dir / LOCK, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        _flock(fd, index_dir, wait)
    except OSError:
        return None
    return fd


# --- removing a whole index -------------------------------------------------------------------------


def remove_index(index_dir: Path, *, wait: bool = False) -> list[str]:
    """Delete an index ragcli made (`ragcli collections remove`): the manifest first (so that an
    interrupted removal leaves no half index that opens), then the generations it can prove it wrote,
    its lock and marker, then the folder if that emptied it. Holds the build lock while it deletes, so a
    running build is never pulled from under. Returns the names of what was left (files of someone
    else's); a folder that is not a ragcli index is refused (NoIndexError), nothing touched. `wait`:
    behind a running build rather than exit 10."""
    with index_lock(index_dir, wait, create=False):
        replaced = raw_generation(index_dir)
        manifest = index_dir / MANIFEST
        if not manifest.is_symlink() and manifest.is_file():
            manifest.unlink()
        remove_leftovers(index_dir, replaced=replaced)
    # ragcli's lock is always empty: a `lock` holding anything is someone else's file, and kept
    for name, text in ((LOCK, ""), (INDEX_MARKER, f"{FORMAT_NAME}\n")):
        if _holds(index_dir / name, text):
            (index_dir / name).unlink(missing_ok=True)
    with suppress(OSError):
        index_dir.rmdir()
    return sorted(entry.name for entry in index_dir.iterdir()) if index_dir.is_dir() else []
