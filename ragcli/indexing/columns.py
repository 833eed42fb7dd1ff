"""Passage columns under construction: strings as UTF-8 blobs plus offsets, numbers as int64 arrays.

Passage texts of a big corpus are spilled to an unnamed temporary file instead of being kept in
memory; passages reused from an earlier build are copied across without decoding them. A spool that
cannot be written (disk or inodes full, a read-only folder) is exit 12 with its cause, like any other
write of the index.
"""

from __future__ import annotations

import tempfile
from array import array
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragcli.records import Passage, mtime_text
from ragcli.retrieval.metadata import MetadataColumns, Scalar
from ragcli.store import StringTable, left_as_it_was, stored_bytes, write_error

if TYPE_CHECKING:
    from ragcli.retrieval.index import Index


class StringColumn:
    """A StringTable under construction: bytes appended, offsets recorded. With `spill_dir` the bytes
    go to an unnamed temporary file there instead of memory (passage texts of a big corpus); with
    `names`, a column of paths or ids, whose bytes that are not UTF-8 are kept (`store.stored_bytes`)."""

    def __init__(self, spill_dir: Path | None = None, names: bool = False) -> None:
        self.spill_dir = spill_dir
        self.names = names
        try:
            # the spill file lives as long as the column: PassageColumns.close() closes it in the build's finally
            self.blob: Any = bytearray() if spill_dir is None else tempfile.TemporaryFile(dir=spill_dir)  # noqa: SIM115
        except OSError as exc:
            raise self._error(exc) from None
        self.size = 0
        self.ends = array("q")

    def _error(self, exc: OSError) -> Exception:
        return write_error(
            f"cannot spool passage texts in {self.spill_dir}",
            exc,
            where=self.spill_dir,
            then=f"; {left_as_it_was(self.spill_dir)}" if self.spill_dir is not None else "",
        )

    def _add(self, data: bytes | memoryview) -> None:
        if isinstance(self.blob, bytearray):
            self.blob += data
        else:
            try:
                self.blob.write(data)
            except OSError as exc:
                raise self._error(exc) from None
        self.size += len(data)

    def append(self, text: str) -> None:
        self._add(stored_bytes(text, self.names))
        self.ends.append(self.size)

    def extend_from(self, table: StringTable, start: int, end: int) -> None:
        """Copy rows [start, end) of an existing table without decoding them."""
        lo, hi = int(table.offsets[start]), int(table.offsets[end])
        base = self.size
        self._add(table.blob[lo:hi].data)  # written from the (memory-mapped) table itself, no copy first
        self.ends.frombytes((np.asarray(table.offsets[start + 1 : end + 1], dtype=np.int64) - lo + base).data.cast("B"))

    def table(self) -> StringTable:
        offsets = np.zeros(len(self.ends) + 1, dtype=np.int64)
        offsets[1:] = np.frombuffer(self.ends, dtype=np.int64) if len(self.ends) else []
        if isinstance(self.blob, bytearray):
            return StringTable(np.frombuffer(bytes(self.blob), dtype=np.uint8), offsets, self.names)
        try:
            self.blob.flush()
        except OSError as exc:
            raise self._error(exc) from None
        blob = np.memmap(self.blob, dtype=np.uint8, mode="r") if self.size else np.zeros(0, dtype=np.uint8)
        return StringTable(blob, offsets, self.names)

    def close(self) -> None:
        if not isinstance(self.blob, bytearray):
            with suppress(OSError):  # its buffer cannot be flushed to a full disk: it is discarded anyway
                self.blob.close()


class PassageColumns:
    """Passage fields, column by column, as they will be stored."""

    STRINGS = ("id", "doc_id", "title", "path", "text")
    NAMES = ("id", "doc_id", "path")  # a file's path is in each: its bytes that are not UTF-8 are kept
    NUMBERS = ("line", "start", "end", "page")

    def __init__(self, spill_dir: Path | None = None) -> None:
        self.strings = {
            name: StringColumn(spill_dir if name == "text" else None, name in self.NAMES) for name in self.STRINGS
        }
        self.numbers = {name: array("q") for name in self.NUMBERS}
        self.ids: list[str] = []  # kept as str too: sorted once for the tie-break order
        self.metadata = MetadataColumns()  # one row per document; passages point at theirs

    def __len__(self) -> int:
        return len(self.ids)

    def start_document(self, metadata: dict[str, Scalar]) -> None:
        """The passages added next belong to a new document with this metadata."""
        self.metadata.start_document(metadata)

    def add(self, passage: Passage) -> None:
        values = {
            "id": passage.id,
            "doc_id": passage.doc_id,
            "title": passage.title,
            "path": passage.path,
            "text": passage.text,
        }
        for name, value in values.items():
            self.strings[name].append(value)
        self.numbers["line"].append(passage.line)
        self.numbers["start"].append(passage.start)
        self.numbers["end"].append(passage.end)
        self.numbers["page"].append(passage.page)
        self.ids.append(passage.id)
        self.metadata.add_passage()

    def extend_from(self, index: Index, start: int, end: int, mtime: int | None = None) -> None:
        """Copy passages [start, end) of an existing index, with their documents' metadata; `mtime`
        (nanoseconds): their file's modification time now, which their `mtime` metadata becomes."""
        store = index.passages
        tables = {
            "id": store.ids,
            "doc_id": store.doc_ids,
            "title": store.titles,
            "path": store.paths,
            "text": store.texts,
        }
        for name, table in tables.items():
            self.strings[name].extend_from(table, start, end)
        for name in self.NUMBERS:  # an index written before pages were stored has page 0 throughout
            self.numbers[name].frombytes(
                np.ascontiguousarray(getattr(store, name)[start:end], dtype=np.int64).data.cast("B")
            )
        self.ids.extend(store.ids.strings(start, end))
        replace = {"mtime": mtime_text(mtime)} if mtime is not None else None
        self.metadata.extend_from(index.metadata, start, end, replace)

    def payload(self) -> dict[str, Any]:
        order = sorted(range(len(self.ids)), key=self.ids.__getitem__)
        id_rank = np.empty(len(order), dtype=np.int64)
        id_rank[order] = np.arange(len(order), dtype=np.int64)
        payload: dict[str, Any] = {
            name: np.frombuffer(col, dtype=np.int64).copy() for name, col in self.numbers.items()
        }
        payload["id_rank"] = id_rank
        for name, column in self.strings.items():
            payload.update(column.table().to_payload(name))
        return payload

    def close(self) -> None:
        for column in self.strings.values():
            column.close()
