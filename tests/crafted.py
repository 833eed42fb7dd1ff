"""Helpers for tests that tamper with an index on disk."""

from __future__ import annotations

from pathlib import Path

from ragcli.store import read_manifest


class WritesMarker:
    """A pickle payload that would create a file when unpickled by an unrestricted loader."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.write_text, (self.marker, "pwned"))


def payload_file(index_dir: Path, name: str) -> Path:
    """Where the current generation keeps payload `name`."""
    return index_dir / read_manifest(index_dir)["generation"] / name
