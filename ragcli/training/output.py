"""A training output folder, written so that nothing the user had is lost (`train generator` and
`train retriever`).

A run writes its model into a staging folder beside `--output` and moves it in only once it is
complete: a run that fails or is interrupted leaves the earlier output exactly as it was. Each command
decides what goes into the staging folder; the swap, and the permissions of what is published, are here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ragcli.indexdir import umask_mode

MARKER = "ragcli-training.json"  # written into every output folder: what may be replaced by a later run


def staging_folder(output: Path) -> Path:
    """The staging folder of `output`: beside it (the same file system, so the final move is a rename)."""
    return output.with_name(f".{output.name}.tmp-{os.getpid()}")


def start_staging(staged: Path) -> None:
    """Make `staged` a new, empty folder (its parent too: `--output` may name a folder to create)."""
    staged.parent.mkdir(parents=True, exist_ok=True)
    if staged.exists():  # a leftover of an earlier process with this pid
        shutil.rmtree(staged)
    staged.mkdir()


def publish(staged: Path, output: Path) -> None:
    """Move the staged folder to `output`; an earlier training output there is removed only after.
    Every file first gets the umask's permissions: safetensors writes its weights private (0600)."""
    mode = umask_mode()
    for path in staged.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.chmod(path, mode)
    old = None
    if output.is_dir() and (output / MARKER).is_file():
        old = output.with_name(f".{output.name}.old-{os.getpid()}")
        output.rename(old)
    elif output.is_dir():
        output.rmdir()  # empty: both commands refuse any other folder before they start
    staged.rename(output)
    if old is not None:
        shutil.rmtree(old)
