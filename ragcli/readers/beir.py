"""BEIR dataset folders: a folder with `corpus.jsonl` beside `queries.jsonl` or `qrels/`.

Either JSON Lines file may be gzipped (`corpus.jsonl.gz`, as the BEIR sets on the Hugging Face hub ship).
Only the corpus is indexed (by the JSON Lines reader); the queries and judgments are for `evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ragcli.readers.base import SourceInput
from ragcli.records import Document


def beir_file(folder: Path, name: str) -> Path | None:
    """`folder/name`, else `folder/name.gz`: whichever is a regular file (None when neither is)."""
    for path in (folder / name, folder / f"{name}.gz"):
        if path.is_file():
            return path
    return None


def is_beir_folder(path: Path) -> bool:
    has_queries = beir_file(path, "queries.jsonl") is not None or (path / "qrels").is_dir()
    return beir_file(path, "corpus.jsonl") is not None and has_queries


class BeirReader:
    """Takes over a BEIR folder: its corpus file is read in place of walking the folder."""

    name = "beir"

    def claims(self, path: Path) -> bool:
        return False

    def folder_files(self, folder: Path) -> list[Path] | None:
        corpus = beir_file(folder, "corpus.jsonl")
        return [corpus] if corpus is not None and is_beir_folder(folder) else None

    def dataset_files(self, folder: Path) -> list[Path]:
        """The folder's queries and judgments: `evaluate`'s, not left unread by the index (`walk`)."""
        queries = beir_file(folder, "queries.jsonl")
        qrels = folder / "qrels"
        judged = sorted(path for path in qrels.rglob("*") if path.is_file()) if qrels.is_dir() else []
        return ([queries] if queries is not None else []) + judged

    def read(self, source: SourceInput) -> Iterator[Document]:
        return iter(())


READER = BeirReader()
