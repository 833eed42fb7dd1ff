"""A training output folder, written so that nothing the user had is lost (`train generator` and
`train retriever`).

A run writes its model into a staging folder beside `--output` and moves it in only once it is
complete: a run that fails or is interrupted leaves the earlier output exactly as it was. Each command
decides what goes into the staging folder; the marker that says which command's output a folder is and
which of its files ragcli wrote, the swap, and the permissions of what is published, are here. The
swap moves ragcli's files only: the user's own files in the folder never leave it, so no failure
partway can take them with a folder that is then removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from ragcli.errors import InvalidOptionError
from ragcli.indexdir import umask_mode

MARKER = "ragcli-training.json"  # written into every output folder: what may be replaced by a later run


def output_path(output: Path) -> Path:
    """`--output` as the absolute path every later step uses: `.` and `..` become the folders they
    name (the staging folder is named after the output's own name, which they lack), and the folders
    above are resolved, but not a final link, which the checks must still see as one."""
    absolute = output.expanduser().absolute()
    if absolute.name in ("", ".."):
        return absolute.resolve()
    return absolute.parent.resolve() / absolute.name


def check_writable(output: Path) -> None:
    """Refuse (exit 2, before any work) an output that could not be written: a file among its parents,
    or a nearest existing folder (and the output itself, when a folder) in which nothing can be made
    (permissions, a read-only disk, /proc). A probe folder is made and removed, as only trying tells."""
    parent = output.parent
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InvalidOptionError(
            f"--output {output}: {parent} is a file, not a folder", hint="name a folder path, or move the file"
        )
    for folder in (parent, output) if output.is_dir() else (parent,):
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".ragcli-probe-", dir=folder))
        except OSError as exc:
            raise InvalidOptionError(
                f"--output {output}: cannot write in {folder} ({exc.strerror or exc})",
                hint="name a folder you can write in",
            ) from None


def read_marker(folder: Path) -> dict[str, Any] | None:
    """`folder`'s marker as a JSON object; None when there is none (or it is a link, unreadable, or not
    an object)."""
    path = folder / MARKER
    if not path.is_file() or path.is_symlink():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def output_of(folder: Path, kind: str) -> dict[str, Any] | None:
    """The marker of `folder` when it is an output of `ragcli train <kind>`, else None: one command
    never takes the other's output (its model, checkpoints and the user's files) for its own."""
    marker = read_marker(folder)
    return marker if marker is not None and marker.get("kind") == kind else None


def recorded_names(marker: dict[str, Any]) -> set[str]:
    """The names in the folder that the marker says ragcli wrote, the marker's own included."""
    files = marker.get("files")
    return {MARKER, *(str(name) for name in files)} if isinstance(files, list) else {MARKER}


def written_names(folder: Path) -> list[str]:
    """The entries of a staged folder, for its marker: what a later run may replace."""
    return sorted(entry.name for entry in folder.iterdir() if entry.name != MARKER)


def staging_folder(output: Path) -> Path:
    """The staging folder of `output`: beside it (the same file system, so the final move is a rename)."""
    return output.with_name(f".{output.name}.tmp-{os.getpid()}")


def start_staging(staged: Path) -> None:
    """Make `staged` a new, empty folder (its parent too: `--output` may name a folder to create)."""
    staged.parent.mkdir(parents=True, exist_ok=True)
    if staged.exists():  # a leftover of an earlier process with this pid
        shutil.rmtree(staged)
    staged.mkdir()


def publish(staged: Path, output: Path, ours: Collection[str] = (), kept: Collection[str] = ()) -> None:
    """Move the staged folder's entries into `output`. Of what an earlier output there holds, the
    entries named in `ours` (ragcli's) are removed once the new ones are in, except those in `kept`
    (ragcli's, carried on: the checkpoints a resumed run added to); every other entry is the user's and
    stays where it is. A name of the user's that the new model also writes is FileExistsError before
    anything moves; a failure partway puts back what had moved. Every file ragcli wrote gets the
    umask's permissions first: safetensors writes its weights private (0600). An existing folder stays
    the same folder (it may be the current one): the entries move, not the folder."""
    check_clash(output, [entry.name for entry in staged.iterdir()], {*ours, *kept})
    earlier = sorted(output.iterdir()) if output.is_dir() else []
    mode = umask_mode()
    for root in (staged, *(e for e in earlier if e.name in kept)):
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                os.chmod(path, mode)
    if not _exists(output):  # new: both commands refuse a non-empty folder not theirs before they start
        staged.rename(output)
        return
    old = output.with_name(f".{output.name}.old-{os.getpid()}")
    start_staging(old)
    moved_out: list[str] = []
    moved_in: list[str] = []
    try:
        for entry in earlier:
            if entry.name in ours and entry.name not in kept:
                entry.rename(old / entry.name)
                moved_out.append(entry.name)
        for entry in sorted(staged.iterdir()):
            entry.rename(output / entry.name)
            moved_in.append(entry.name)
    except BaseException:  # Ctrl-C too: the earlier output as it was, the new model back where it was staged
        with contextlib.suppress(OSError):
            for name in reversed(moved_in):
                (output / name).rename(staged / name)
            for name in reversed(moved_out):
                (old / name).rename(output / name)
            old.rmdir()
        raise
    staged.rmdir()
    shutil.rmtree(old)


def check_clash(output: Path, names: Iterable[str], ours: Collection[str]) -> None:
    """FileExistsError when a name the new model writes is taken in `output` by an entry not in `ours`
    (one of the user's): the one rule for the check before training and the swap after it."""
    taken = {entry.name for entry in output.iterdir()} if output.is_dir() else set()
    clash = next((name for name in sorted(names) if name in taken and name not in ours), None)
    if clash is not None:
        # no errno: a file in the way is not the "file where a folder should be" that EEXIST is said as
        raise FileExistsError(f"{clash} there is not ragcli's, and the new model writes that name")


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()
