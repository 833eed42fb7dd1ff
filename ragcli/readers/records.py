"""Records: JSON (an object or an array of objects), JSON Lines (streamed) and CSV/TSV (a header row).

Each record is one document: its id, text and title come from the fields the user named
(`--id-field`, `--text-field`, `--title-field`) or the usual names. A malformed record stops the build
with `file:line`, or with --skip-invalid is listed and skipped; the records after it are still read.

Memory stays bounded by the read limit (`ReadContext.max_bytes`): a JSON array is decoded one record
at a time, a JSON Lines line longer than the limit is skipped unread, and a CSV field may be as long as
the limit (Python's csv module stops at 128 KiB by default).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator

from ragcli.readers.base import MAX_BYTES_OPTION, ReadContext, SourceInput, SuffixReader, decode_text, format_size
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


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _json_error(text: str, position: int, message: str) -> json.JSONDecodeError:
    return json.JSONDecodeError(message, text, position)


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    return match.end() if match else position


def _json_values(text: str) -> Iterator[object]:
    """The records of a JSON document: each element of a top-level array, decoded one at a time (a
    million small records never exist as one list), or the document itself."""
    start = _skip_space(text, 0)
    if not text.startswith("[", start):
        value, end = _DECODER.raw_decode(text, start)
        if _skip_space(text, end) != len(text):
            raise _json_error(text, end, "Extra data")
        yield value
        return
    position = _skip_space(text, start + 1)
    if text.startswith("]", position):
        position += 1
    else:
        while True:
            value, position = _DECODER.raw_decode(text, position)
            yield value
            position = _skip_space(text, position)
            if text.startswith("]", position):
                position += 1
                break
            if not text.startswith(",", position):
                raise _json_error(text, position, "Expecting ',' delimiter")
            position = _skip_space(text, position + 1)
    if _skip_space(text, position) != len(text):
        raise _json_error(text, position, "Extra data")


def _loads(text: str) -> object:
    """json.loads, with the errors of untrusted input as JSONDecodeError (nesting, huge numbers)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise _json_error(text, 0, "nested too deeply") from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise _json_error(text, 0, str(exc)) from None


class JsonReader(SuffixReader):
    name = "json"
    suffixes = frozenset({".json"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        text = source.read_text()
        values = _json_values(text)
        number = 0
        while True:
            try:
                record = next(values)
            except StopIteration:
                return
            except json.JSONDecodeError as exc:
                source.context.bad_record(f"{source.rel}:{exc.lineno}", f"invalid JSON ({exc.msg})")
                return
            except (RecursionError, ValueError) as exc:  # too deep, or an integer of over 4,300 digits
                problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                source.context.bad_record(f"{source.rel} record {number + 1}", f"invalid JSON ({problem})")
                return
            number += 1
            yield from record_document(source.rel, 1, record, source.context, ordinal=number)


class JsonLinesReader(SuffixReader):
    """One object per line, streamed: memory stays bounded however large the file."""

    name = "jsonl"
    suffixes = frozenset({".jsonl", ".ndjson"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        source.sniff_binary()
        fallback = False
        try:
            for number, raw_line in source.lines():
                where = f"{source.rel}:{number}"
                if raw_line is None:  # skipped unread, whatever --skip-invalid says: the line may be fine
                    limit = format_size(source.context.max_bytes)
                    source.context.skip_record(where, f"line longer than {limit} (raise {MAX_BYTES_OPTION} to read it)")
                    continue
                line, codec = decode_text(raw_line)
                fallback = fallback or codec != "utf-8-sig"
                if not line.strip():
                    continue
                try:
                    record = _loads(line)
                except json.JSONDecodeError as exc:
                    source.context.bad_record(where, f"invalid JSON ({exc.msg})")
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
        text = source.read_text()
        # a field may be as long as the file may be (the default stops at 128 KiB); the limit is the csv
        # module's global state, so it is restored when this file is done (qrels keep the default)
        previous = csv.field_size_limit(min(max(source.context.max_bytes, 1 << 17), sys.maxsize))
        try:
            yield from self._records(source, csv.DictReader(io.StringIO(text, newline=""), dialect=dialect))
        finally:
            csv.field_size_limit(previous)

    def _records(self, source: SourceInput, reader: csv.DictReader[str]) -> Iterator[Document]:
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # one bad row: report it, go on with the next (the reader resumes)
                source.context.bad_record(f"{source.rel}:{reader.line_num + 1}", f"invalid CSV ({exc})")
                continue
            yield from record_document(source.rel, reader.line_num, record, source.context)


JSON = JsonReader()
JSON_LINES = JsonLinesReader()
CSV = CsvReader()
