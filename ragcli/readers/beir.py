"""BEIR dataset folders: a folder with `corpus.jsonl` beside `queries.jsonl` or `qrels/`.

Only the corpus is indexed (by the JSON Lines reader); the queries and judgments are for `evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ragcli.readers.base import SourceInput
from ragcli.records import Document


def is_beir_folder(path: Path) -> bool:
    return (path / "corpus.jsonl").is_file() and ((path / "queries.jsonl").is_file() or (path / "qrels").is_dir())


class BeirReader:
    """Takes over a BEIR folder: its corpus file is read in place of walking the folder."""

    name = "beir"

    def claims(self, path: Path) -> bool:
        return False

    def folder_files(self, folder: Path) -> list[Path] | None:
        return [folder / "corpus.jsonl"] if is_beir_folder(folder) else None

    def read(self, source: SourceInput) -> Iterator[Document]:
        return iter(())


READER = BeirReader()
