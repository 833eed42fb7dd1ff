"""Opening a file that must be a regular file: never through a symbolic link in its last component,
never blocking on a FIFO, never reading a device. Kept apart from `safeload` (which needs numpy and
joblib) so that what only reads small files (the state file, a manifest, a marker) starts without them.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import IO


class NotRegularFileError(OSError):
    """A path that must name a regular file names a FIFO, device, socket or folder."""


def check_regular(path: Path) -> None:
    """Refuse (OSError: ELOOP for a link, NotRegularFileError for a FIFO, device, socket or folder) a
    `path` that is not itself a regular file, looked at without following a link in its last component.
    FileNotFoundError where there is nothing."""
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        raise OSError(errno.ELOOP, "is a symbolic link", str(path))
    if not stat.S_ISREG(mode):
        raise NotRegularFileError(errno.EINVAL, "not a regular file", str(path))


def open_regular(path: Path) -> IO[bytes]:
    """Open `path` for reading if it is a regular file; never follows a symbolic link in its last
    component and never blocks on a FIFO (O_NONBLOCK, then S_ISREG on the descriptor)."""
    check_regular(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced between the lstat and the open
            raise NotRegularFileError(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
