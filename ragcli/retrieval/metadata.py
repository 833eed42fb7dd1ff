"""Document metadata in the index: one row per document, arbitrary keys, stored once per document.

Readers and the walk give each `Document` a flat dict of JSON scalars (path, format, size, mtime,
record fields, SQL columns, page count…). Passages point at their document's row (`doc_of`), so a
JSON file of 100,000 records whose every record says `format: jsonl` stores that value once and one
small entry per record, never once per passage. The payload (`metadata.joblib`) is:

- `doc_of` (int32, one per passage): the passage's document row;
- `doc_indptr` (int64, rows + 1): the document's entries are `entry_*[doc_indptr[r]:doc_indptr[r + 1]]`;
- `entry_key`, `entry_value` (int32, one per entry): indexes into the key and value tables;
- `key_*` (a StringTable): the distinct keys; `value_*` (a StringTable): the distinct values as text,
  with `value_kind` (uint8: str, int, float, bool) and `value_number` (float64: the value as a number
  when it is one or a string that reads as one, else NaN) beside them.

Any key works (no column per key: a CSV with a thousand columns is a thousand rows of the key table,
not a thousand payload entries). Everything is memory-mapped and loaded only when a filter or
`ragcli info` needs it; `MetadataTable` checks every index against its table before use, so a crafted
payload is refused (exit 7), never a crash.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ragcli.errors import IndexDamagedError
from ragcli.records import composed
from ragcli.store import REBUILD_HINT, StringTable

Scalar = str | int | float | bool
KINDS = (str, int, float, bool)  # value_kind: index into this
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def as_number(text: str) -> float:
    """`text` as a number if it reads as a plain decimal one ("42", "-1.5e3"), else NaN; one beyond a
    float's range is infinite ("1e999" is more than any size, not a text to compare letter by letter)."""
    text = text.strip()
    if not _NUMBER_RE.match(text):
        return math.nan
    return float(text)


def _encode(value: object) -> tuple[int, str, float]:
    """(kind, text, number) of a metadata value; anything but a JSON scalar is stored as its text."""
    if isinstance(value, bool):
        return 3, "true" if value else "false", math.nan
    if isinstance(value, int):
        return 1, str(value), float(value) if abs(value) < 2**1023 else math.copysign(math.inf, value)
    if isinstance(value, float) and math.isfinite(value):
        return 2, repr(value), value
    text = str(value)
    return 0, text, as_number(text)


def _decode(kind: int, text: str) -> Scalar:
    if kind == 1:
        return int(text)
    if kind == 2:
        return float(text)
    if kind == 3:
        return text == "true"
    return text


class MetadataColumns:
    """The metadata payload under construction: rows appended document by document."""

    def __init__(self) -> None:
        self.doc_of = array("i")
        self.indptr = array("q", [0])
        self.entry_key = array("i")
        self.entry_value = array("i")
        self.keys: dict[str, int] = {}
        self.values: dict[tuple[type, object], int] = {}
        self.value_kind = array("B")
        self.value_text: list[str] = []
        self.value_number = array("d")
        self.row = -1  # the row passages are being added to

    def start_document(self, metadata: Mapping[str, object]) -> None:
        """A new document row; the passages added next belong to it."""
        for key, value in metadata.items():
            if value is None:  # a missing field (JSON null, SQL NULL): the document has no such key
                continue
            if not isinstance(value, KINDS):  # not a JSON scalar: kept as its text
                value = str(value)
            self.entry_key.append(self.keys.setdefault(str(key), len(self.keys)))
            self.entry_value.append(self._value_id(value))
        self.indptr.append(len(self.entry_key))
        self.row = len(self.indptr) - 2

    def add_passage(self) -> None:
        if self.row < 0:  # passages without a document started: one row without metadata
            self.start_document({})
        self.doc_of.append(self.row)

    def extend_from(
        self, table: MetadataTable, start: int, end: int, replace: Mapping[str, Scalar] | None = None
    ) -> None:
        """Copy the metadata of passages [start, end) of an earlier index (and their documents' rows).
        `replace`: keys whose copied values become these (a touched file's new `mtime`), where present.

        Vectorised: the rows' entries are copied as arrays, and only the distinct keys and values they
        use are looked up, in the order of their first use, so the tables come out exactly as adding
        the documents one by one (`start_document`) would make them.
        """
        rows = np.asarray(table.doc_of[start:end], dtype=np.int64)
        if not len(rows):
            return
        first = np.ones(len(rows), dtype=bool)  # a passage whose row differs from the one before starts a document
        first[1:] = rows[1:] != rows[:-1]
        documents = rows[first]
        has_row = documents >= 0  # -1: a passage of no document row (no metadata)
        indptr = np.asarray(table.indptr, dtype=np.int64)
        lo = np.where(has_row, indptr[np.where(has_row, documents, 0)], 0)
        lengths = np.where(has_row, indptr[np.where(has_row, documents + 1, 0)], 0) - lo
        ends = np.cumsum(lengths)
        positions = np.arange(int(ends[-1]), dtype=np.int64) + np.repeat(lo - (ends - lengths), lengths)
        # only these rows' entries are read and widened (never the whole table: once per reused file)
        old_keys = table.entry_key[positions].astype(np.int64)
        old_values = table.entry_value[positions].astype(np.int64)
        new_values = list((replace or {}).values())
        for number, key in enumerate(replace or {}):
            key_id = table.key_id(key)
            if key_id is not None:  # a replacement is the id past the old table's last value
                old_values[old_keys == key_id] = len(table.value_text) + number

        def value_id(table: MetadataTable, old_id: int) -> int:
            extra = old_id - len(table.value_text)
            return self._value_id(new_values[extra]) if extra >= 0 else self._old_value(table, old_id)

        keys = self._mapped(old_keys, self._old_key, table)
        values = self._mapped(old_values, value_id, table)
        base = len(self.entry_key)
        self.entry_key.frombytes(keys.astype(np.int32).tobytes())
        self.entry_value.frombytes(values.astype(np.int32).tobytes())
        self.indptr.frombytes((ends + base).tobytes())
        first_row = len(self.indptr) - 1 - len(documents)
        self.doc_of.frombytes((np.cumsum(first) - 1 + first_row).astype(np.int32).tobytes())
        self.row = len(self.indptr) - 2

    @staticmethod
    def _mapped(old: np.ndarray, lookup: Callable[[MetadataTable, int], int], table: MetadataTable) -> np.ndarray:
        """Old table ids → this table's ids, registering the distinct ones in order of first use."""
        if not len(old):
            return old
        distinct, where = np.unique(old, return_index=True)
        mapping = np.zeros(int(distinct[-1]) + 1, dtype=np.int64)
        for old_id in distinct[np.argsort(where, kind="stable")].tolist():
            mapping[old_id] = lookup(table, old_id)
        mapped: np.ndarray = mapping[old]
        return mapped

    def _old_key(self, table: MetadataTable, old_id: int) -> int:
        return self.keys.setdefault(table.keys[old_id], len(self.keys))

    def _old_value(self, table: MetadataTable, old_id: int) -> int:
        return self._value_id(table.value(old_id))

    def _value_id(self, value: Scalar) -> int:
        """The id of `value` in the value table, added at the end if it is new."""
        value_id = self.values.get((value.__class__, value))
        if value_id is None:
            kind, text, number = _encode(value)
            value_id = self.values[(value.__class__, value)] = len(self.value_text)
            self.value_kind.append(kind)
            self.value_text.append(text)
            self.value_number.append(number)
        return value_id

    def payload(self) -> dict[str, Any]:
        def ints(values: array[Any], dtype: type) -> np.ndarray:
            return np.frombuffer(values, dtype=dtype).copy() if len(values) else np.zeros(0, dtype=dtype)

        payload: dict[str, Any] = {
            "doc_of": ints(self.doc_of, np.int32),
            "doc_indptr": ints(self.indptr, np.int64),
            "entry_key": ints(self.entry_key, np.int32),
            "entry_value": ints(self.entry_value, np.int32),
            "value_kind": ints(self.value_kind, np.uint8),
            "value_number": ints(self.value_number, np.float64),
        }
        payload.update(StringTable.from_strings(list(self.keys)).to_payload("key"))
        payload.update(StringTable.from_strings(self.value_text, names=True).to_payload("value"))  # `path` is one
        return payload


class MetadataTable:
    """The metadata of an opened index (memory-mapped), checked against itself and the passages."""

    def __init__(self, payload: dict[str, Any] | None, passages: int, where: object = "the index") -> None:
        self.present = payload is not None
        if payload is None:  # an index built before metadata was stored: no document has any
            payload = MetadataColumns().payload()
            payload["doc_of"] = np.full(passages, -1, dtype=np.int32)
        try:
            self.doc_of = payload["doc_of"]
            self.indptr = payload["doc_indptr"]
            self.entry_key = payload["entry_key"]
            self.entry_value = payload["entry_value"]
            self.value_kind = payload["value_kind"]
            self.value_number = payload["value_number"]
            self.keys = StringTable.from_payload(payload, "key")
            self.value_text = StringTable.from_payload(payload, "value", names=True)
        except KeyError as exc:
            raise IndexDamagedError(f"{where}: document metadata lacks {exc}", hint=REBUILD_HINT) from None
        problem = self._problem(passages)
        if problem is not None:
            raise IndexDamagedError(f"{where}: damaged document metadata ({problem})", hint=REBUILD_HINT)
        self._key_ids: dict[str, int] | None = None

    def _problem(self, passages: int) -> str | None:
        """Why the arrays do not fit together (None: they do); every index is checked to be in range."""
        rows, entries, values = len(self.indptr) - 1, len(self.entry_key), len(self.value_text)
        if rows < 0 or len(self.doc_of) != passages or len(self.entry_value) != entries:
            return "array lengths"
        if not (self.keys.consistent() and self.value_text.consistent()):
            return "string tables"
        if len(self.value_kind) != values or len(self.value_number) != values:
            return "value tables"
        if len(self.indptr) and (int(self.indptr[0]) != 0 or int(self.indptr[-1]) != entries):
            return "document rows"
        if rows and bool(np.any(np.diff(self.indptr) < 0)):
            return "document rows"
        if passages and self.present and not (int(self.doc_of.min()) >= 0 and int(self.doc_of.max()) < rows):
            return "passage rows"
        if entries and not (int(self.entry_key.min()) >= 0 and int(self.entry_key.max()) < len(self.keys)):
            return "keys"
        if entries and not (int(self.entry_value.min()) >= 0 and int(self.entry_value.max()) < values):
            return "values"
        if values and int(self.value_kind.max()) >= len(KINDS):
            return "value kinds"
        return None

    def __len__(self) -> int:
        """The number of document rows."""
        return len(self.indptr) - 1

    def key_id(self, key: str) -> int | None:
        if self._key_ids is None:
            self._key_ids = {k: i for i, k in enumerate(self.keys)}
        return self._key_ids.get(key)

    def value(self, value_id: int) -> Scalar:
        text = self.value_text[value_id]
        try:
            return _decode(int(self.value_kind[value_id]), text)
        except ValueError:  # a crafted table's text that is not its kind: shown as text
            return text

    def document(self, row: int) -> dict[str, Scalar]:
        """The metadata of document row `row` (empty for -1: no row)."""
        if row < 0:
            return {}
        lo, hi = int(self.indptr[row]), int(self.indptr[row + 1])
        keys = self.entry_key[lo:hi].tolist()
        values = self.entry_value[lo:hi].tolist()
        return {self.keys[k]: self.value(v) for k, v in zip(keys, values)}

    def of_passage(self, number: int) -> dict[str, Scalar]:
        return self.document(int(self.doc_of[number]))

    def key_counts(self) -> dict[str, int]:
        """Each key, with the number of documents that have it (a key given twice counts once)."""
        if not len(self.entry_key):
            return {}
        rows = np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.indptr))
        pairs = np.unique(rows * len(self.keys) + self.entry_key.astype(np.int64))
        counts = np.bincount(pairs % len(self.keys), minlength=len(self.keys))
        return {key: int(counts[i]) for i, key in enumerate(self.keys) if counts[i]}

    def entries_of(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(document rows, value ids) of every entry for `key`, keys compared in NFC as values are: a key
        typed "catégorie" is the one a record wrote decomposed."""
        wanted = composed(key)
        key_ids = [i for i, k in enumerate(self.keys) if k == key or composed(k) == wanted]
        if not key_ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        found = np.flatnonzero(np.isin(self.entry_key, key_ids))
        rows = np.searchsorted(self.indptr, found, side="right") - 1
        return rows.astype(np.int64), self.entry_value[found].astype(np.int64)
