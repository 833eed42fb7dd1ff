"""Helpers for tests that tamper with an index on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.testing._private.utils import runstring

from ragcli.store import read_manifest


class WritesMarker:
    """A pickle payload that would create a file when unpickled by an unrestricted loader."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.write_text, (self.marker, "pwned"))


class NumpySubmoduleExec:
    """A gadget reached through a numpy submodule: `numpy.testing._private.utils.runstring` calls
    exec() on its argument, so an unpickler that trusted every `numpy*` global would run this code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (runstring, (f"open({str(self.marker)!r}, 'w').write('pwned')", {}))


class NumpySaveWritesFile:
    """A gadget from numpy's top-level module: `numpy.save(path, array)` writes a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (np.save, (str(self.marker), np.zeros(1)))


NUMPY_GADGETS = {"numpy.testing._private.utils.runstring": NumpySubmoduleExec, "numpy.save": NumpySaveWritesFile}


def payload_file(index_dir: Path, name: str) -> Path:
    """Where the current generation keeps payload `name`."""
    return index_dir / read_manifest(index_dir)["generation"] / name
