"""Records: JSON (an object or an array of objects), JSON Lines (streamed) and CSV/TSV (a header row).

Each record is one document: its id, text and title come from the fields the user named
(`--id-field`, `--text-field`, `--title-field`) or the usual names (in any case where none is there
exactly: `pick_field`); a record with a title and no text is indexed with its title as text (BEIR's
convention is title + text), and a file none of whose records has the field `--text-field` names says
so in one warning; the record's other scalar fields become its metadata. A malformed record (a bad JSON line or CSV row, a record without a text
field) is listed with `file:line` and skipped, and the records after it are still read; with --strict
it stops the build (exit 6). A CSV quoted field that never closes (it would take in the rows after it)
is read to the end of its line with a warning, the lines after it as rows. A `.json` file that is not
records (`package.json`, a preset or config file) is skipped whole with the reason.

Memory stays bounded by the read limit (`ReadContext.max_bytes`): a JSON array is decoded one record
at a time, a JSON Lines line longer than the limit is skipped unread, and a CSV field may be as long as
the limit (Python's csv module stops at 128 KiB by default).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
import sys
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from ragcli.readers.base import (
    MAX_BYTES_OPTION,
    DecodingTally,
    ReadContext,
    Skip,
    SourceInput,
    SuffixReader,
    decode_text,
    format_size,
)
from ragcli.records import Document, same_line
from ragcli.terminal_text import without_terminal_sequences

ID_FIELDS = ("_id", "id", "docid", "doc_id")
TEXT_FIELDS = ("text", "contents", "content", "body", "passage")
TITLE_FIELDS = ("title",)

# Record fields kept as metadata: JSON scalars only, bounded so that a record cannot bloat the index
# with its fields (a long description is text, not something to filter on).
MAX_METADATA_FIELDS = 32  # the first 32 scalar fields of a record, in its order
MAX_METADATA_CHARS = 256  # longer strings (and longer field names) are left out, not cut
_INT64 = 1 << 63  # integers outside 64 bits are left out (a filter compares numbers as int64 or float)

# How records are read, recorded in an index's settings: an index read by an earlier version is read
# again rather than reused (2: title-only records are indexed, record fields kept as metadata; 3: a
# record whose id another file gave first is kept as `<file>#<id>`, a CSV row cites the line it starts on;
# 4: every passage of a JSON record cites the record's line, a CSV passage its line of the text cell;
# 5: a database row's passages cite their line in the row's text, not the row's place in the result; a
# CSV quoted field that runs on past its line is read to its line's end, the lines after it as rows).
RECORDS_VERSION = 5
JSON_LOOKAHEAD = 100  # the items of a JSON array looked at to decide whether it holds records
MetadataValue = str | int | float | bool


def pick_field(names: Collection[str], explicit: str | None, candidates: tuple[str, ...]) -> str | None:
    """Which of a record's field `names` (or a table's columns) holds the id, text or title: the one the
    user named (`explicit`, exactly), else the first of the usual `candidates` there, else the first in
    any case (a spreadsheet's `ID,Title,Text`: such a file was "not a table of records")."""
    if explicit is not None:
        return explicit if explicit in names else None
    exact = next((name for name in candidates if name in names), None)
    if exact is not None:
        return exact
    folded: dict[str, str] = {}
    for name in names:
        if isinstance(name, str):  # a JSON object's keys are strings; a CSV row's extra cells are under None
            folded.setdefault(name.casefold(), name)
    return next((folded[name] for name in candidates if name in folded), None)


def text_fields_wanted(context: ReadContext) -> str:
    """The text field names a record is looked up by, as an error or skip reason shows them."""
    return context.fields.text or "/".join(TEXT_FIELDS)


def record_metadata(record: dict[str, object], used: set[str]) -> dict[str, MetadataValue]:
    """The record's fields other than `used` (id, title, text) that are JSON scalars: strings (not
    empty, at most 256 characters), 64-bit integers, finite floats and booleans, at most 32 of them.
    Nested objects, arrays and null are left out."""
    metadata: dict[str, MetadataValue] = {}
    for key, value in record.items():
        if len(metadata) >= MAX_METADATA_FIELDS:
            break
        if key in used or not isinstance(key, str) or not key or len(key) > MAX_METADATA_CHARS:
            continue
        if isinstance(value, bool):
            metadata[key] = value
        elif isinstance(value, str):
            if value and len(value) <= MAX_METADATA_CHARS:
                metadata[key] = value
        elif isinstance(value, int):
            if -_INT64 <= value < _INT64:
                metadata[key] = value
        elif isinstance(value, float) and math.isfinite(value):
            metadata[key] = value
    return metadata


def record_id(value: object) -> str | None:
    """A record's id field as its id; None (no id: the record is named by its place) for null and for a
    blank string, which an empty CSV cell is: a second blank id was skipped as "duplicate id ''"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return str(value)


def _given_id(
    record: dict[str, object], id_field: str | None, where: str, fallback_id: str, context: ReadContext
) -> str | None:
    """The record's own id, if it gives one; a list or an object gives none (its Python repr, "[1, 2]",
    is neither the file's text nor what another language makes of it): warned of, named `fallback_id`."""
    value = record[id_field] if id_field is not None else None
    if isinstance(value, (list, dict)):
        problem = (
            f"id field {id_field!r} is {'a list' if isinstance(value, list) else 'an object'}, not a string or number"
        )
        context.stop_if_strict(where, problem, f"name it {fallback_id}")
        context.warn_once(
            "unusable id",
            f"{where}: {problem}: the record is named {fallback_id} (and any later one alike, by its place)",
        )
        return None
    return record_id(value)


def _scalar_text(value: object) -> str:
    """A title as text: a string or number as written; nothing for null, objects and arrays."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def _line_breaks_before(record: dict[str, object], field: str) -> int:
    """The line breaks of a CSV row's cells before its `field` cell (its cells are in the file's order)."""
    breaks = 0
    for name, value in record.items():
        if name == field:
            break
        if isinstance(value, str):
            breaks += value.count("\n")
    return breaks


@dataclass(frozen=True)
class RecordSkipped:
    """Why a record gives no document, as `read_record` found it: what the read context is told
    (`report`) and, for a reader that keeps it per record (a database row), the reason itself."""

    where: str
    reason: str
    malformed: bool  # a malformed record (with --strict it stops the build), not merely an empty one

    def report(self, context: ReadContext) -> None:
        if self.malformed:
            context.bad_record(self.where, self.reason)
        else:
            context.skip_record(self.where, self.reason)


def record_document(
    rel: str,
    line: int,
    record: object,
    context: ReadContext,
    ordinal: int | None = None,
    *,
    cells_as_written: bool = False,
) -> Iterator[Document]:
    """The document of one record (none if it is malformed or has neither text nor title, which the
    read context is told): `read_record`, for readers that yield documents."""
    read = read_record(rel, line, record, context, ordinal, cells_as_written=cells_as_written)
    if isinstance(read, RecordSkipped):
        read.report(context)
    else:
        yield read


def read_record(
    rel: str,
    line: int,
    record: object,
    context: ReadContext,
    ordinal: int | None = None,
    *,
    cells_as_written: bool = False,
) -> Document | RecordSkipped:
    """The document of one record, or why there is none (it is malformed or has neither text nor
    title); the caller reports the latter (`RecordSkipped.report`).

    `ordinal` numbers the records of a JSON array (several may share a line); the records of a JSON
    Lines or CSV file are told apart by their line alone. `cells_as_written`: the record's values are
    the file's text (a CSV row), so a passage of its text cites its own line of the file; else (a JSON
    string's "\\n" is an escape on one line) every passage cites the line the record starts on."""
    where = f"{rel}:{line}" if ordinal is None else f"{rel}:{line} (record {ordinal})"
    if not isinstance(record, dict):
        return RecordSkipped(where, "a record must be a JSON object", malformed=True)
    fields = context.fields
    text_field = pick_field(record, fields.text, TEXT_FIELDS)
    title_field = pick_field(record, fields.title, TITLE_FIELDS)
    title = without_terminal_sequences(_scalar_text(record.get(title_field))) if title_field else ""
    text = record.get(text_field) if text_field is not None else None
    if text is not None and not isinstance(text, str):
        return RecordSkipped(where, f"field {text_field!r} is not a string", malformed=True)
    title_only = text is None or not text.strip()
    if title_only:
        if title:  # a title-only record: its title is its text (older test collections have many)
            body = title
        elif text_field is None:
            reason = f"no text field ({text_fields_wanted(context)}); name it with --text-field"
            return RecordSkipped(where, reason, malformed=True)
        else:
            return RecordSkipped(where, "empty text and no title", malformed=False)
    else:
        body = without_terminal_sequences(str(text))
    id_field = pick_field(record, fields.id, ID_FIELDS)
    fallback_id = f"{rel}:{line}" if ordinal is None else f"{rel}#{ordinal}"
    given_id = _given_id(record, id_field, where, fallback_id, context)
    doc_id = given_id if given_id is not None else fallback_id
    used = {name for name in (id_field, text_field, title_field) if name is not None}
    if cells_as_written and not title_only and text_field is not None:
        text_line, line_map = line + _line_breaks_before(record, text_field), None
    else:  # a title-only record's text is its stripped title: it cites the record's line too
        text_line, line_map = line, same_line(line)
    return Document(
        doc_id,
        body,
        title,
        rel,
        line=text_line,
        title_in_text=title_only,
        line_map=line_map,
        metadata=record_metadata(record, used),
    )


class NamedFieldAbsent:
    """Whether the records of one file hold the field an option names (`--text-field`, `--id-field`),
    for one warning where none does: a folder of records from several programs names it differently
    (`Text`, `text`), and a typo'd name indexed the records by their titles alone, or named them by
    their lines (so that no qrels id matched), silently."""

    def __init__(self, name: str | None, option: str, outcome: str) -> None:
        self._name, self._option, self._outcome = name, option, outcome
        self._present = False
        self._affected = 0  # documents of records without the field
        self._suggestion: str | None = None  # a field the first record without it has under a close name

    def documents(self, record: object, documents: Iterator[Document]) -> Iterator[Document]:
        """The `documents` of one `record`, counted."""
        absent = self._name is not None and isinstance(record, dict) and self._name not in record
        self._present = self._present or (isinstance(record, dict) and not absent)
        if absent and not self._affected and self._suggestion is None and isinstance(record, dict):
            self._suggestion = _close_field(str(self._name), record)
        for document in documents:
            self._affected += absent
            yield document

    def warn(self, context: ReadContext, rel: str) -> None:
        """Warn, at the end of file `rel`, if no record had the field and some documents were read."""
        if self._present or not self._affected:
            return
        count = self._affected
        records = "1 record" if count == 1 else f"{count:,} records"
        meant = f" (did you mean {self._suggestion!r}?)" if self._suggestion is not None else ""
        outcome = self._outcome.format(records=records, its="its" if count == 1 else "their", rel=rel)
        context.warn(f"{rel}: no record has the field {self._name!r} that {self._option} names{meant}: {outcome}")


class NamedFieldsAbsent:
    """The `NamedFieldAbsent` trackers of one file for the fields the user named: without the text field
    a record is indexed by its title alone, without the id field it is named by its line."""

    def __init__(self, context: ReadContext) -> None:
        self._fields = (
            NamedFieldAbsent(context.fields.text, "--text-field", "{records} indexed by {its} title alone"),
            NamedFieldAbsent(context.fields.id, "--id-field", "{records} named by {its} line ({rel}:LINE)"),
        )

    def documents(self, record: object, documents: Iterator[Document]) -> Iterator[Document]:
        for field in self._fields:
            documents = field.documents(record, documents)
        return documents

    def warn(self, context: ReadContext, rel: str) -> None:
        for field in self._fields:
            field.warn(context, rel)


def _close_field(name: str, record: dict[object, object]) -> str | None:
    """The record's field `name` probably meant: the same in another case, else the closest (difflib)."""
    from difflib import get_close_matches

    keys = [key for key in record if isinstance(key, str)]
    same = next((key for key in keys if key.casefold() == name.casefold()), None)
    if same is not None:
        return same
    close = get_close_matches(name, keys, n=1, cutoff=0.6)
    return close[0] if close else None


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _json_error(text: str, position: int, message: str) -> json.JSONDecodeError:
    return json.JSONDecodeError(message, text, position)


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    return match.end() if match else position


def _json_values(text: str) -> Iterator[tuple[int, object]]:
    """(line, value) for the records of a JSON document: each element of a top-level array, decoded one
    at a time (a million small records never exist as one list), with the line it starts on; or the
    document itself, at line 1."""
    start = _skip_space(text, 0)
    if not text.startswith("[", start):
        value, end = _DECODER.raw_decode(text, start)
        if _skip_space(text, end) != len(text):
            raise _json_error(text, end, "Extra data")
        yield 1, value
        return
    position = _skip_space(text, start + 1)
    line, counted = 1, 0  # the line of `counted`: newlines are counted on from the previous record
    if text.startswith("]", position):
        position += 1
    else:
        while True:
            line += text.count("\n", counted, position)
            counted = position
            value, position = _DECODER.raw_decode(text, position)
            yield line, value
            position = _skip_space(text, position)
            if text.startswith("]", position):
                position += 1
                break
            if not text.startswith(",", position):
                raise _json_error(text, position, "Expecting ',' delimiter")
            position = _skip_space(text, position + 1)
    if _skip_space(text, position) != len(text):
        raise _json_error(text, position, "Extra data")


def json_problem(exc: ValueError | RecursionError) -> str:
    """What is wrong with a JSON text, in a few words for a skip reason (not Python's message: "Invalid
    control character at" ends where json's own message gives the place, and an integer of too many
    digits says to call sys.set_int_max_str_digits())."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} column {exc.colno}" if exc.msg.endswith(" at") else exc.msg
    if "integer string conversion" in str(exc):  # Python 3.11+: int() refuses over 4,300 digits
        return f"a number of more than {sys.get_int_max_str_digits():,} digits"
    return str(exc)


def _loads(text: str) -> object:
    """json.loads, with the errors of untrusted input as JSONDecodeError (nesting, huge numbers)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as exc:  # e.g. an integer of more than 4,300 digits
        raise _json_error(text, 0, json_problem(exc)) from None


def _looks_like_record(value: object, context: ReadContext) -> bool:
    """An object with a text field, or (a title-only record) a title field."""
    if not isinstance(value, dict):
        return False
    fields = context.fields
    return (
        pick_field(value, fields.text, TEXT_FIELDS) is not None
        or pick_field(value, fields.title, TITLE_FIELDS) is not None
    )


def not_records_reason(values: list[object], context: ReadContext) -> str | None:
    """Why a JSON document is not a list of records (None if it is): a top-level object needs a text
    field; an array needs at least half of its first items to be objects with a text (or title) field
    (the others are then bad records, skipped one by one)."""
    no_text = f"no text field ({text_fields_wanted(context)}); name it with --text-field"
    if not values:
        return None
    if len(values) == 1 and isinstance(values[0], dict):  # a top-level object, or an array of one
        text_field = pick_field(values[0], context.fields.text, TEXT_FIELDS)
        if text_field is None:
            return f"not a list of records: {no_text}"
        if not isinstance(values[0][text_field], (str, type(None))):  # {"text": {...}}: a config's section
            return f"not a list of records: field {text_field!r} is not a string"
        return None
    if not any(isinstance(value, dict) for value in values):
        return "not a list of records: its items are not JSON objects"
    if 2 * sum(_looks_like_record(value, context) for value in values) < len(values):
        return f"not a list of records: most items have {no_text}"
    return None


_JSON_TYPES = {str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


class JsonReader(SuffixReader):
    """A JSON object (one record) or array of objects (one record each); anything else is skipped whole."""

    name = "json"
    # 2: a blank id is no id (the record is named by its place, not skipped as "duplicate id ''"); 3: the
    # usual field names match in any case (`ID,Title,Text`); 4: a lone "\r" is white space, not a terminal's
    # overwrite (`base.universal_newlines`); 5: a list or object id is no id (it was its Python repr)
    version = 5
    suffixes = frozenset({".json"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        text = source.read_text(lone_cr_breaks=True)
        start = _skip_space(text, 0)
        is_array = text.startswith("[", start)
        values = self._values(source, text)
        head = list(itertools.islice(values, JSON_LOOKAHEAD))
        if not is_array and head and not isinstance(head[0][1], dict):
            raise Skip(f"not a list of records: a JSON {_JSON_TYPES.get(type(head[0][1]), 'value')}")
        reason = not_records_reason([value for _, value in head], source.context)
        if reason is not None:
            raise Skip(reason)
        absent = NamedFieldsAbsent(source.context)
        for number, (line, record) in enumerate(itertools.chain(head, values), start=1):
            yield from absent.documents(
                record, record_document(source.rel, line, record, source.context, ordinal=number)
            )
        absent.warn(source.context, source.rel)

    @staticmethod
    def _values(source: SourceInput, text: str) -> Iterator[tuple[int, object]]:
        """(line, value) for each record; a syntax error ends them: before the first record it skips the
        whole file (or with --strict stops the build), after it is one bad record at its line."""
        values = _json_values(text)
        decoded = 0
        while True:
            try:
                item = next(values)
            except StopIteration:
                return
            except (json.JSONDecodeError, RecursionError, ValueError) as exc:
                if isinstance(exc, json.JSONDecodeError):
                    where, problem = f"{source.rel}:{exc.lineno}", f"invalid JSON ({json_problem(exc)})"
                else:  # too deep, or an integer of over 4,300 digits
                    where, problem = f"{source.rel} record {decoded + 1}", f"invalid JSON ({json_problem(exc)})"
                if decoded or source.context.strict:
                    source.context.bad_record(where, problem)
                    return
                line = where.rpartition(":")[2] if isinstance(exc, json.JSONDecodeError) else ""
                raise Skip(f"{problem} at line {line}" if line else problem) from None
            decoded += 1
            yield item


class JsonLinesReader(SuffixReader):
    """One object per line, streamed: memory stays bounded however large the file."""

    name = "jsonl"
    # 2: a blank id is no id (the record is named by its place, not skipped as "duplicate id ''"); 3: the
    # usual field names match in any case (`ID,Title,Text`); 4: a list or object id is no id (it was its
    # Python repr)
    version = 4
    suffixes = frozenset({".jsonl", ".ndjson"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        source.sniff_binary()
        decodings = DecodingTally()  # each line decoded alone: it is read before the next is
        absent = NamedFieldsAbsent(source.context)
        try:
            for number, raw_line in source.lines():
                where = f"{source.rel}:{number}"
                if raw_line is None:  # skipped unread, even with --strict: the line may be fine
                    limit = format_size(source.context.max_bytes)
                    source.context.skip_record(where, f"line longer than {limit} (raise {MAX_BYTES_OPTION} to read it)")
                    continue
                line = decodings.text(decode_text(raw_line))
                if not line.strip():
                    continue
                try:
                    record = _loads(line.rstrip("\r\n"))  # an unterminated string ends at the line's end
                except json.JSONDecodeError as exc:
                    source.context.bad_record(where, f"invalid JSON ({json_problem(exc)})")
                    continue
                yield from absent.documents(record, record_document(source.rel, number, record, source.context))
            absent.warn(source.context, source.rel)
        finally:
            if (warning := decodings.warning(source.rel)) is not None:
                source.context.warn(warning)


class CsvReader(SuffixReader):
    name = "csv"
    # 2: a blank id is no id (the record is named by its place, not skipped as "duplicate id ''"); 3: the
    # usual field names match in any case (`ID,Title,Text`); 4: a lone "\r" ends a line (in a cell too), as
    # Python's csv reads it, not a terminal's overwrite of the row (`base.universal_newlines`); 5: the
    # spaces after a delimiter skipped (`id, title, text` has a text column; its title was " Budget"); 6: the
    # header's names stripped on both sides (`id , title , text`: its id and title matched no column); 7:
    # so are the cells other than the text (`d1 , x , hi`: its id was "d1 ", matching no qrels line)
    version = 7
    suffixes = frozenset({".csv", ".tsv"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        dialect = "excel-tab" if source.suffix == ".tsv" else "excel"
        text = source.read_text(lone_cr_breaks=True)
        delimiter = _delimiter(text, "\t" if source.suffix == ".tsv" else ",")
        # a field may be as long as the file may be (the default stops at 128 KiB); the limit is the csv
        # module's global state, so it is restored when this file is done (qrels keep the default)
        previous = csv.field_size_limit(min(max(source.context.max_bytes, 1 << 17), sys.maxsize))
        try:
            lines = _Lines(text)
            # a hand-written "id, title, text": the space after each comma is not part of the name or value
            rows = csv.DictReader(lines, dialect=dialect, delimiter=delimiter, skipinitialspace=True)
            yield from self._records(source, rows, lines)
        finally:
            csv.field_size_limit(previous)

    def _records(self, source: SourceInput, reader: csv.DictReader[str], lines: _Lines) -> Iterator[Document]:
        # read here: a table without text is not records; a hand-written `id , text` means no space in a name
        if reader.fieldnames is not None:
            reader.fieldnames = [name.strip() for name in reader.fieldnames]
        header = dict.fromkeys(reader.fieldnames or ())
        text_field = pick_field(header, source.context.fields.text, TEXT_FIELDS)
        if header and not _looks_like_record(header, source.context):
            columns = text_fields_wanted(source.context)
            raise Skip(f"not a table of records: no text column ({columns}); name it with --text-field")
        _warn_repeated_columns(source, reader.fieldnames or [])
        overlong, run_on = _RowWarning(), _RowWarning()
        absent = NamedFieldsAbsent(source.context)
        try:
            while True:
                lines.next_row()
                try:
                    record = next(reader)
                except StopIteration:
                    absent.warn(source.context, source.rel)
                    return
                except csv.Error as exc:  # one bad row: report it, go on with the next (the reader resumes)
                    source.context.bad_record(f"{source.rel}:{lines.number}", f"invalid CSV ({exc})")
                    continue
                line = lines.start or lines.number
                runaway = _runaway_quote(lines.row_text(), reader.reader.dialect.delimiter, line)
                if runaway is not None:  # read its first line alone, then the lines it took in as rows
                    source.context.stop_if_strict(f"{source.rel}:{line}", runaway, "read it to its line's end")
                    read_as = f"read to the end of line {line}, the lines after it as rows"
                    run_on.add(f"{source.rel}:{line}: {runaway}: {read_as}")
                    record = _alone(lines.first_line(), reader)
                    lines.read_again_after_first_line()
                extra = _extra_fields(record)
                if extra:
                    fields = "field" if extra == 1 else "fields"
                    first = f"{source.rel}:{line}: a row with {extra} {fields} more than the header's {len(header)}, left out"
                    overlong.add(first, "; quote a field that holds the delimiter")
                _strip_cells(record, text_field)
                documents = record_document(source.rel, line, record, source.context, cells_as_written=True)
                yield from absent.documents(record, documents)
        finally:
            for rows in (run_on, overlong):
                if rows.count:
                    source.context.warn(rows.warning())


def _strip_cells(record: dict[str | None, object], text_field: str | None) -> None:
    """A row's cells other than its text without the spaces before a delimiter (those after it are
    skipped as it is read): ids and metadata are matched whole, by qrels and `--where`. The text keeps
    its spacing, and every cell its line breaks, which place the text's lines in the file."""
    for name, value in record.items():
        if name != text_field and isinstance(value, str):
            record[name] = value.strip(" ")


def _warn_repeated_columns(source: SourceInput, names: list[str]) -> None:
    """Warn of each header name given twice or more: a row keeps only its last cell under that name
    (csv.DictReader's), so `id,note,note,text` lost its first note, and `id,text,text` its first text."""
    for name in dict.fromkeys(name for name in names if names.count(name) > 1):
        times = names.count(name)
        source.context.warn(
            f"{source.rel}: column {name!r} appears {times} times in the header; each row keeps the last "
            "(rename the others to keep them)"
        )


def _extra_fields(record: dict[str | None, object]) -> int:
    """How many fields past the header's the row has, taken out of it: such a row is kept with its named
    fields (a stray comma in unquoted text is the usual cause), the others left out."""
    extra = record.pop(None, None)  # csv.DictReader's list of the fields past the header's
    return len(extra) if isinstance(extra, list) else 0


class _RowWarning:
    """Rows of a file read with the same trouble: one warning names the first and counts the others."""

    def __init__(self) -> None:
        self.count = 0
        self._first = ""
        self._advice = ""

    def add(self, first: str, advice: str = "") -> None:
        """A row of this trouble: `first` says what it is and where (kept for the first row only)."""
        self.count += 1
        if self.count == 1:
            self._first, self._advice = first, advice

    def warning(self) -> str:
        others = self.count - 1
        more = f" ({others:,} more {'row' if others == 1 else 'rows'} like it)" if others else ""
        return f"{self._first}{more}{self._advice}"


# A quoted field, from its opening quote up to its closing one (a doubled quote is a quote mark in it):
# unrolled, so that a field of megabytes is matched in one pass
_QUOTED_FIELD = re.compile(r'"[^"]*(?:""[^"]*)*')
_LINE_BREAK = re.compile(r"\r\n?|\n")


def _runaway_quote(row: str | None, delimiter: str, line: int) -> str | None:
    """What is wrong with a row (its text as the csv module read it, from `line` on) whose quoted field
    ran on past its line: one with no closing quote (it takes in the rest of the file), or one that took
    in line breaks and whose closing quote is followed by text, not the delimiter or a line end. Such a
    quote was never a closing one (the quotes inside a quoted field are doubled) but the next quote of
    the file, and the rows between are in the field; a cell of several lines that closes as a quoted
    field closes is not taken for one. The rule of strict CSV readers (csv's `strict`, DuckDB's
    strict_mode), applied only to fields that took in line breaks, where being wrong costs rows; a
    quote closed within its line and followed by text (`"6" bolt`) stays read as csv reads it.
    None: no such field, or no text (the row is one line that did not end the file)."""
    if row is None:
        return None
    field_end = re.compile(f"[{re.escape(delimiter)}\r\n]")
    position = 0
    while position < len(row):
        if row.startswith('"', position):
            match = _QUOTED_FIELD.match(row, position)
            close = match.end() if match else position
            if close == len(row):  # the csv module ends a quoted field without its quote only at the end
                return "a quoted field never closes (it runs to the end of the file)"
            following = row[close + 1 : close + 2]
            if following not in (delimiter, "\r", "\n", "") and _LINE_BREAK.search(row, position, close):
                breaks = len(_LINE_BREAK.findall(row, 0, close))
                return (
                    f"a quoted field runs on to line {line + breaks} (a quote there is followed by text, "
                    "not the delimiter or a line end)"
                )
            position = close + 1
        end = field_end.search(row, position)  # the rest of the field: up to its delimiter or line end
        if end is None or end.group() != delimiter:
            return None
        position = end.end()
    return None


def _alone(line: str, reader: csv.DictReader[str]) -> dict[str | None, str | None]:
    """The row of one line of a CSV text read by itself: a quoted field that does not close on it ends
    at its end."""
    row = csv.DictReader([line.rstrip("\r\n")], fieldnames=reader.fieldnames, dialect=reader.reader.dialect)
    return next(row)


class _Lines:
    """The lines of a CSV text as csv.reader pulls them, noting the line the next row starts on: csv's
    `line_num` is the line a row ends on, and a quoted field may hold line breaks (a cell of several
    lines in a spreadsheet), so a row's citation would name its last line. It keeps where the row is in
    the text, so that a row whose quoted field ran on can be looked at, and its lines read again."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._lines = io.StringIO(text, newline="")
        self.number = 0  # lines pulled so far
        self.start = 0  # the first line of the row being read that is not blank (csv skips blank ones)
        self._pulled = 0  # characters pulled so far
        self._row_start = 0  # where the row's first line starts in the text, and where it ends
        self._first_end = 0
        self._ended = False  # the csv reader asked for a line past the last

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._lines)
        except StopIteration:
            self._ended = True
            raise
        self.number += 1
        if not self.start and line.rstrip("\r\n"):
            self.start = self.number
            self._row_start, self._first_end = self._pulled, self._pulled + len(line)
        self._pulled += len(line)
        return line

    def next_row(self) -> None:
        """The csv reader is about to read a row."""
        self.start = 0

    def row_text(self) -> str | None:
        """The text of the row just read when it may hold a quoted field that ran on: it took in more
        than one line, or the file's end; None for a row of one line (most rows: not looked at)."""
        if self.number == self.start and not self._ended:
            return None
        return self._text[self._row_start : self._pulled]

    def first_line(self) -> str:
        """The first line of the row just read."""
        return self._text[self._row_start : self._first_end]

    def read_again_after_first_line(self) -> None:
        """Hand the lines after the row's first line to the csv reader again, as rows of their own."""
        self._lines.seek(self._first_end)
        self._pulled, self.number, self._ended = self._first_end, self.start, False


def _delimiter(text: str, default: str) -> str:
    """The header line's delimiter: the default unless another of , ; tab | is more frequent there (a
    CSV written where the comma is the decimal mark uses ";": "id;title;text"). The header, not
    csv.Sniffer, which guesses from quoted text and numbers and often guesses wrong."""
    header = text.split("\n", 1)[0]
    counts = {mark: header.count(mark) for mark in (default, ",", ";", "\t", "|")}
    best = max(counts, key=lambda mark: counts[mark])  # the default first: it wins a tie
    return best if counts[best] > counts[default] else default


JSON = JsonReader()
JSON_LINES = JsonLinesReader()
CSV = CsvReader()
