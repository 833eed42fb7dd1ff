"""Records: JSON (an object or an array of objects), JSON Lines (streamed) and CSV/TSV (a header row).

Each record is one document: its id, text and title come from the fields the user named
(`--id-field`, `--text-field`, `--title-field`) or the usual names. A malformed record stops the build
with `file:line`, or with --skip-invalid is listed and skipped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from ragcli.readers.base import ReadContext, SourceInput, SuffixReader, decode_text
from ragcli.records import Document

ID_FIELDS = ("_id", "id", "docid", "doc_id")
TEXT_FIELDS = ("text", "contents", "content", "body", "passage")
TITLE_FIELDS = ("title",)


def _pick(record: dict[str, object], explicit: str | None, candidates: tuple[str, ...]) -> str | None:
    if explicit is not None:
        return explicit if explicit in record else None
    return next((name for name in candidates if name in record), None)


def record_document(
    rel: str, line: int, record: object, context: ReadContext, ordinal: int | None = None
) -> Iterator[Document]:
    """The document of one record (none if it is malformed and --skip-invalid is on)."""
    where = f"{rel}:{line}" if ordinal is None else f"{rel} record {ordinal}"
    if not isinstance(record, dict):
        context.bad_record(where, "a record must be a JSON object")
        return
    fields = context.fields
    text_field = _pick(record, fields.text, TEXT_FIELDS)
    if text_field is None:
        wanted = fields.text or "/".join(TEXT_FIELDS)
        context.bad_record(where, f"no text field ({wanted}); name it with --text-field")
        return
    text = record[text_field]
    if not isinstance(text, str):
        context.bad_record(where, f"field {text_field!r} is not a string")
        return
    id_field = _pick(record, fields.id, ID_FIELDS)
    fallback_id = f"{rel}:{line}" if ordinal is None else f"{rel}#{ordinal}"
    doc_id = str(record[id_field]) if id_field is not None and record[id_field] is not None else fallback_id
    title_field = _pick(record, fields.title, TITLE_FIELDS)
    title = record.get(title_field) if title_field else None
    yield Document(doc_id, text, str(title) if title else "", rel, line=line)


class JsonReader(SuffixReader):
    name = "json"
    suffixes = frozenset({".json"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        try:
            data = json.loads(source.read_text())
        except json.JSONDecodeError as exc:
            source.context.bad_record(f"{source.rel}:{exc.lineno}", f"invalid JSON ({exc.msg})")
            return
        records = data if isinstance(data, list) else [data]
        for number, record in enumerate(records, start=1):
            yield from record_document(source.rel, 1, record, source.context, ordinal=number)


class JsonLinesReader(SuffixReader):
    """One object per line, streamed: memory stays bounded however large the file."""

    name = "jsonl"
    suffixes = frozenset({".jsonl", ".ndjson"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        source.sniff_binary()
        fallback = False
        try:
            for number, raw_line in enumerate(source.stream, start=1):
                line, codec = decode_text(raw_line)
                fallback = fallback or codec != "utf-8-sig"
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    source.context.bad_record(f"{source.rel}:{number}", f"invalid JSON ({exc.msg})")
                    continue
                yield from record_document(source.rel, number, record, source.context)
        finally:
            if fallback:
                source.context.warn(f"{source.rel}: not valid UTF-8, read as cp1252/latin-1")


class CsvReader(SuffixReader):
    name = "csv"
    suffixes = frozenset({".csv", ".tsv"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        dialect = "excel-tab" if source.suffix == ".tsv" else "excel"
        reader = csv.DictReader(io.StringIO(source.read_text(), newline=""), dialect=dialect)
        try:
            for record in reader:
                yield from record_document(source.rel, reader.line_num, record, source.context)
        except csv.Error as exc:
            source.context.bad_record(f"{source.rel}:{reader.line_num}", f"invalid CSV ({exc})")


JSON = JsonReader()
JSON_LINES = JsonLinesReader()
CSV = CsvReader()
