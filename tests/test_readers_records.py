"""The records reader (ragcli.readers.records): what is a list of records, malformed records skipped
with file:line (or with strict, stopping), title-only records, record fields as metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_files

from ragcli.chunking import ChunkSettings, split_document
from ragcli.errors import InputFormatError
from ragcli.readers.base import RecordFields
from ragcli.readers.records import MAX_METADATA_CHARS, MAX_METADATA_FIELDS
from ragcli.readers.walk import FILE_METADATA, CorpusReader
from ragcli.records import Document

PACKAGE_JSON = json.dumps({"name": "demo", "version": "1.0.0", "scripts": {"test": "jest"}}, indent=2)
NO_TEXT = "no text field (text/contents/content/body/passage); name it with --text-field"


def read(root: Path, **kwargs: object) -> tuple[list[Document], dict[str, str]]:
    reader = CorpusReader([root], **kwargs)  # type: ignore[arg-type]
    docs = list(reader.documents())
    return docs, {s.path: s.reason for s in reader.report.skipped}


def test_json_that_is_not_records_is_skipped_once_with_the_reason(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "package.json": PACKAGE_JSON,
            "tsconfig.json": '{\n  // comments are not JSON\n  "compilerOptions": {}\n}\n',
            "tags.json": '["a", "b", "c"]',
            "count.json": "42",
            "records.jsonl": '{"id": "r1", "text": "kept record"}\n',
        },
    )
    docs, skipped = read(tmp_path)
    assert [d.id for d in docs] == ["r1"]
    assert skipped == {
        "package.json": f"not a list of records: {NO_TEXT}",
        "tsconfig.json": "invalid JSON (Expecting property name enclosed in double quotes) at line 2",
        "tags.json": "not a list of records: its items are not JSON objects",
        "count.json": "not a list of records: a JSON number",
    }
    # not records is not a malformed record: --strict skips the file too, it does not stop
    assert read(tmp_path / "package.json", strict=True) == ([], {"package.json": f"not a list of records: {NO_TEXT}"})


def test_an_invalid_json_file_with_strict_stops_at_its_line(tmp_path: Path) -> None:
    write_files(tmp_path, {"tsconfig.json": '{\n  // comment\n  "a": 1\n}\n'})
    with pytest.raises(InputFormatError, match=r"^tsconfig\.json:2: invalid JSON"):
        read(tmp_path, strict=True)


def test_an_array_of_mostly_records_skips_the_bad_ones_with_file_and_line(tmp_path: Path) -> None:
    records = '[\n  {"id": "a", "text": "first"},\n  {"id": "b", "name": "no text"},\n  {"id": "c", "text": "third"}\n]'
    write_files(tmp_path, {"d.json": records})
    docs, skipped = read(tmp_path)
    assert [(d.id, d.line) for d in docs] == [("a", 2), ("c", 4)]
    assert skipped == {"d.json:3 (record 2)": NO_TEXT}
    with pytest.raises(InputFormatError, match=r"d\.json:3 \(record 2\): no text field"):
        read(tmp_path, strict=True)


def test_an_array_of_mostly_other_objects_is_not_records(tmp_path: Path) -> None:
    presets = json.dumps([{"name": "debug", "flags": "-g"}, {"name": "release"}, {"text": "one has text"}])
    write_files(tmp_path, {"presets.json": presets, "ok.txt": "x"})
    docs, skipped = read(tmp_path)
    assert [d.id for d in docs] == ["ok.txt"]
    assert skipped == {"presets.json": f"not a list of records: most items have {NO_TEXT}"}


def test_a_named_text_field_decides_what_is_records(tmp_path: Path) -> None:
    write_files(tmp_path, {"notes.json": json.dumps([{"key": "n1", "note": "named field"}])})
    _, skipped = read(tmp_path)
    assert skipped == {"notes.json": f"not a list of records: {NO_TEXT}"}
    docs, skipped = read(tmp_path, fields=RecordFields(id="key", text="note"))
    assert [(d.id, d.text) for d in docs] == [("n1", "named field")] and skipped == {}


def test_malformed_jsonl_lines_are_skipped_with_file_and_line_or_stop_with_strict(tmp_path: Path) -> None:
    write_files(
        tmp_path, {"d.jsonl": '{"id": "a", "text": "one"}\n{"id": "b", "text": \n{"id": "c", "text": "three"}\n'}
    )
    docs, skipped = read(tmp_path)
    assert [d.id for d in docs] == ["a", "c"]
    assert skipped == {"d.jsonl:2": "invalid JSON (Expecting value)"}
    with pytest.raises(InputFormatError, match=r"d\.jsonl:2: invalid JSON") as raised:
        read(tmp_path, strict=True)
    assert "drop --strict" in (raised.value.hint or "")


def test_a_jsonl_file_of_only_bad_lines_is_skipped_without_stopping(tmp_path: Path) -> None:
    write_files(tmp_path, {"bad.jsonl": "{oops\n[1]\n", "ok.txt": "still indexed"})
    docs, skipped = read(tmp_path)
    assert [d.id for d in docs] == ["ok.txt"]
    assert skipped == {
        "bad.jsonl:1": "invalid JSON (Expecting property name enclosed in double quotes)",
        "bad.jsonl:2": "a record must be a JSON object",
        "bad.jsonl": "no text",
    }


def test_title_only_records_are_indexed_with_the_title_as_text(tmp_path: Path) -> None:
    lines = [
        {"_id": "t1", "title": "Aerodynamic heating of slender cones", "text": ""},
        {"_id": "t2", "title": "Boundary layer transition"},  # no text field at all
        {"_id": "t3", "title": "Shock waves", "text": None},
        {"_id": "e1", "title": "", "text": "   "},  # neither: skipped with a reason
        {"_id": "b1", "title": "Both", "text": "body words"},
    ]
    write_files(tmp_path, {"corpus.jsonl": "".join(json.dumps(line) + "\n" for line in lines)})
    docs, skipped = read(tmp_path)
    assert [(d.id, d.text, d.title, d.title_in_text) for d in docs] == [
        ("t1", "Aerodynamic heating of slender cones", "Aerodynamic heating of slender cones", True),
        ("t2", "Boundary layer transition", "Boundary layer transition", True),
        ("t3", "Shock waves", "Shock waves", True),
        ("b1", "body words", "Both", False),
    ]
    assert skipped == {"corpus.jsonl:4": "empty text and no title"}
    _, strict_skipped = read(tmp_path, strict=True)  # an empty record is not malformed: --strict goes on
    assert strict_skipped == skipped


def test_title_only_csv_rows_are_indexed(tmp_path: Path) -> None:
    write_files(tmp_path, {"d.csv": "id,title,text\n1,Only a title,\n2,,\n3,T,body\n"})
    docs, skipped = read(tmp_path)
    assert [(d.id, d.text) for d in docs] == [("1", "Only a title"), ("3", "body")]
    assert skipped == {"d.csv:3": "empty text and no title"}


@pytest.mark.parametrize("delimiter", [";", "|", "\t"])
def test_a_csv_file_may_use_another_delimiter_than_the_comma(tmp_path: Path, delimiter: str) -> None:
    # where the comma is the decimal mark, spreadsheets write ";": "id;title;text" was "no text column"
    rows = ["id;title;text", "1;Bees;Honey bees, and wasps", "2;Price;3,50 euros"]
    write_files(tmp_path, {"d.csv": "\ufeff" + "\n".join(r.replace(";", delimiter) for r in rows) + "\n"})
    docs, skipped = read(tmp_path)
    assert [(d.id, d.title, d.text) for d in docs] == [
        ("1", "Bees", "Honey bees, and wasps"),
        ("2", "Price", "3,50 euros"),
    ]
    assert skipped == {}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_csv_row_cites_the_line_it_starts_on_when_a_cell_holds_line_breaks(tmp_path: Path, newline: str) -> None:
    rows = ["id,text", '1,"Red fruit,', 'crisp and sweet"', "", "2,Pear", '3,"a', "", 'b"', "4,last"]
    write_files(tmp_path, {"d.csv": newline.join(rows) + newline})
    docs, _ = read(tmp_path)
    assert [(d.id, d.line) for d in docs] == [("1", 2), ("2", 5), ("3", 6), ("4", 9)]
    chunks = split_document(docs[0], ChunkSettings(size=2, overlap=0))
    assert [(c.text, c.line) for c in chunks] == [("Red fruit,", 2), ("crisp and", 3), ("sweet", 3)]


def test_a_comma_csv_with_semicolons_in_its_text_stays_comma_separated(tmp_path: Path) -> None:
    write_files(tmp_path, {"d.csv": 'id,text\n1,"one; two; three"\n'})
    docs, _ = read(tmp_path)
    assert [(d.id, d.text) for d in docs] == [("1", "one; two; three")]


def test_a_csv_row_with_more_fields_than_the_header_is_kept_with_one_warning_a_file(tmp_path: Path) -> None:
    rows = ["id,text", "1,plain", "2,Honey, bees and wax,extra", "3,fine", "4,a,b", '5,"quoted, fine"']
    write_files(tmp_path, {"d.csv": "\n".join(rows) + "\n", "e.csv": "id,text\n9,x,y\n"})
    reader = CorpusReader([tmp_path])
    docs = list(reader.documents())
    assert [(d.id, d.text) for d in docs if d.path == "d.csv"] == [
        ("1", "plain"),
        ("2", "Honey"),  # the fields past the header's are left out, said once
        ("3", "fine"),
        ("4", "a"),
        ("5", "quoted, fine"),
    ]
    assert reader.report.skipped == []
    assert reader.report.warnings == [
        "d.csv:3: a row with 2 fields more than the header's 2, left out (1 more row like it); "
        "quote a field that holds the delimiter",
        "e.csv:2: a row with 1 field more than the header's 2, left out; quote a field that holds the delimiter",
    ]


@pytest.mark.parametrize(
    "line, reason, whole",  # whole: the reason a .json file holding only that record is skipped
    [
        (
            '{"id": "b", "text": "a\ttab"}',
            "invalid JSON (Invalid control character at column 23)",
            "invalid JSON (Invalid control character at column 24) at line 1",
        ),
        (
            '{"id": "b", "text": "open',
            "invalid JSON (Unterminated string starting at column 21)",
            "invalid JSON (Unterminated string starting at column 22) at line 1",
        ),
        (
            '{"id": "b", "text": "x", "n": ' + "9" * 5000 + "}",
            "invalid JSON (a number of more than 4,300 digits)",
            "invalid JSON (a number of more than 4,300 digits)",
        ),
    ],
    ids=["control-character", "unterminated", "5000-digits"],
)
def test_a_bad_json_record_says_what_is_wrong_in_a_few_words(
    tmp_path: Path, line: str, reason: str, whole: str
) -> None:
    write_files(tmp_path, {"d.jsonl": '{"id": "a", "text": "fine"}\n' + line + "\n", "d.json": "[" + line + "]"})
    _, skipped = read(tmp_path)
    assert skipped == {"d.jsonl:2": reason, "d.json": whole}
    with pytest.raises(InputFormatError, match=r"d\.jsonl:2: invalid JSON"):
        read(tmp_path / "d.jsonl", strict=True)


def own(metadata: dict[str, object]) -> dict[str, object]:
    """A document's metadata without what the walk adds for every file (path, format, size, mtime)."""
    return {key: value for key, value in metadata.items() if key not in FILE_METADATA}


def test_record_fields_become_metadata(tmp_path: Path) -> None:
    record = {
        "id": "m1",
        "title": "T",
        "text": "words",
        "author": "Ann",
        "year": 2021,
        "score": 0.5,
        "draft": False,
        "tags": ["a", "b"],  # arrays, objects and null are left out
        "meta": {"k": "v"},
        "missing": None,
        "empty": "",
        "long": "x" * (MAX_METADATA_CHARS + 1),
        "huge": 1 << 70,
        "inf": float("inf"),
    }
    write_files(tmp_path, {"d.jsonl": json.dumps(record) + "\n", "d.csv": "id,text,lang\nc1,csv words,en\n"})
    docs, _ = read(tmp_path)
    metadata = {d.id: own(d.metadata) for d in docs}
    assert metadata["m1"] == {"author": "Ann", "year": 2021, "score": 0.5, "draft": False}
    assert metadata["c1"] == {"lang": "en"}


def test_metadata_is_bounded_in_fields(tmp_path: Path) -> None:
    record = {"text": "words", **{f"f{i:02d}": i for i in range(MAX_METADATA_FIELDS + 10)}}
    write_files(tmp_path, {"d.jsonl": json.dumps(record) + "\n"})
    docs, _ = read(tmp_path)
    assert list(own(docs[0].metadata)) == [f"f{i:02d}" for i in range(MAX_METADATA_FIELDS)]


def test_a_json_object_with_a_text_field_is_one_record_with_a_stable_id(tmp_path: Path) -> None:
    write_files(tmp_path, {"one.json": '{"text": "a single record", "lang": "en"}'})
    docs, skipped = read(tmp_path)
    assert [(d.id, d.text, own(d.metadata)) for d in docs] == [("one.json#1", "a single record", {"lang": "en"})]
    assert skipped == {}


def test_a_table_without_a_text_column_is_not_records(tmp_path: Path) -> None:
    write_files(tmp_path, {"prices.csv": "name,price\napple,3\npear,4\n", "titles.csv": "id,title\n1,Only titles\n"})
    docs, skipped = read(tmp_path)
    assert [(d.id, d.text) for d in docs] == [("1", "Only titles")]  # a title column is enough
    assert skipped == {
        "prices.csv": "not a table of records: no text column (text/contents/content/body/passage); "
        "name it with --text-field"
    }


def test_a_json_object_whose_text_is_not_a_string_is_not_records(tmp_path: Path) -> None:
    write_files(tmp_path, {"strings.json": '{"text": {"ok": "OK", "cancel": "Cancel"}}'})
    assert read(tmp_path) == ([], {"strings.json": "not a list of records: field 'text' is not a string"})


def test_every_passage_of_a_json_record_cites_the_line_the_record_starts_on(tmp_path: Path) -> None:
    """A JSON string's line breaks are escapes ("\\n") on one line of the file, never the file's lines."""
    long_text = "\n".join(f"para {i} filler words" for i in range(12))
    rows = [{"id": "long", "text": long_text}, *({"id": f"r{k}", "text": f"short record {k}"} for k in range(2, 20))]
    array = [{"id": "a1", "text": long_text}]
    write_files(
        tmp_path,
        {"r.jsonl": "".join(json.dumps(row) + "\n" for row in rows), "a.json": "\n" + json.dumps(array, indent=2)},
    )
    docs, _ = read(tmp_path)
    by_id = {d.id: d for d in docs}
    for doc_id, line in (("long", 1), ("a1", 3)):
        chunks = split_document(by_id[doc_id], ChunkSettings(size=4, overlap=0))
        assert len(chunks) == 12 and {c.line for c in chunks} == {line}


def test_a_csv_passage_cites_its_line_of_the_text_cell_after_cells_of_several_lines(tmp_path: Path) -> None:
    rows = ["id,title,text", '1,"A title', "of three", 'lines","first line', 'second line"', "2,Pear,ripe"]
    write_files(tmp_path, {"d.csv": "\n".join(rows) + "\n"})
    docs, _ = read(tmp_path)
    assert [(d.id, d.line) for d in docs] == [("1", 4), ("2", 6)]
    chunks = split_document(docs[0], ChunkSettings(size=2, overlap=0))
    assert [(c.text, c.line) for c in chunks] == [("first line", 4), ("second line", 5)]


def test_a_file_whose_records_were_skipped_counts_as_read(tmp_path: Path) -> None:
    """Records left out of a file that was read are records, not files: past the listed ones (counted in
    one entry named by the file), the file itself was taken for one left out ("from 0 files")."""
    from ragcli.indexing.build import build_index

    lines = [json.dumps({"id": "good", "text": "bees make honey"})]
    lines += [json.dumps({"id": f"e{n}", "text": ""}) for n in range(1005)]
    corpus = write_files(tmp_path / "docs", {"r.jsonl": "\n".join(lines) + "\n"})
    report = build_index([corpus], tmp_path / "index")
    assert report.files_read == 1 and report.to_dict()["files_read"] == 1
    assert all(skipped.record for skipped in report.skipped) and len(report.skipped) == 1001


RUN_ON_ROWS = ["id\ttitle\ttext", '1\tInch\t"6 inch screws for decking', "2\tNext\tjoists row", "3\tThird\trafters row"]
RUN_ON_ROWS += ['4\tFourth\tbeams "quoted" row', "5\tFifth\tpurlins row"]
RUN_ON_READ = [
    ("1", "6 inch screws for decking", 2),
    ("2", "joists row", 3),
    ("3", "rafters row", 4),
    ("4", 'beams "quoted" row', 5),
    ("5", "purlins row", 6),
]


def test_a_quoted_field_that_runs_on_over_rows_is_read_to_its_line_end_with_a_warning(tmp_path: Path) -> None:
    # the quote that opens "6 inch… never closes: the csv module read rows 2-4 into record 1's text,
    # up to the quote before "quoted" (followed by a letter, not a tab: no closing quote)
    write_files(tmp_path, {"c.tsv": "\n".join(RUN_ON_ROWS) + "\n"})
    reader = CorpusReader([tmp_path])
    docs = list(reader.documents())
    assert [(d.id, d.text, d.line) for d in docs] == RUN_ON_READ
    assert reader.report.skipped == []
    assert reader.report.warnings == [
        "c.tsv:2: a quoted field runs on to line 5 (a quote there is followed by text, not the delimiter "
        "or a line end): read to the end of line 2, the lines after it as rows"
    ]
    with pytest.raises(InputFormatError, match=r"^c\.tsv:2: a quoted field runs on to line 5"):
        read(tmp_path, strict=True)


def test_a_quoted_field_that_never_closes_is_read_to_its_line_end_with_a_warning(tmp_path: Path) -> None:
    files = {"near-end.csv": 'id,text\n1,one\n2,"two never closes\n3,three\n4,four\n', "last.csv": 'id,text\n5,"five'}
    write_files(tmp_path, files)
    reader = CorpusReader([tmp_path])
    docs = list(reader.documents())
    assert [(d.id, d.text, d.line) for d in docs] == [
        ("5", "five", 2),
        ("1", "one", 2),
        ("2", "two never closes", 3),
        ("3", "three", 4),
        ("4", "four", 5),
    ]
    assert reader.report.warnings == [
        "last.csv:2: a quoted field never closes (it runs to the end of the file): "
        "read to the end of line 2, the lines after it as rows",
        "near-end.csv:3: a quoted field never closes (it runs to the end of the file): "
        "read to the end of line 3, the lines after it as rows",
    ]
    with pytest.raises(InputFormatError, match=r"^last\.csv:2: a quoted field never closes"):
        read(tmp_path, strict=True)


def test_each_run_on_quote_of_a_file_is_counted_in_one_warning(tmp_path: Path) -> None:
    rows = ["id,text", *(f'{n},"{n} inch bolt' for n in range(1, 5))]  # an inch mark on every row
    write_files(tmp_path, {"d.csv": "\n".join(rows) + "\n"})
    reader = CorpusReader([tmp_path])
    assert [(d.id, d.text) for d in reader.documents()] == [(str(n), f"{n} inch bolt") for n in range(1, 5)]
    assert reader.report.warnings == [
        "d.csv:2: a quoted field runs on to line 3 (a quote there is followed by text, not the delimiter "
        "or a line end): read to the end of line 2, the lines after it as rows (3 more rows like it)"
    ]


def test_quoted_cells_of_several_lines_that_close_are_not_run_on(tmp_path: Path) -> None:
    rows = ["id,title,text", '1,T,"He said ""stop""', 'and, then, left"', '2,"6" bolt,"a', '"', '3,,"x""', 'y"""']
    write_files(tmp_path, {"d.csv": "\r\n".join(rows) + "\r\n"})
    reader = CorpusReader([tmp_path])
    docs = list(reader.documents())
    assert [(d.id, d.title, d.text) for d in docs] == [
        ("1", "T", 'He said "stop"\nand, then, left'),
        ("2", "6 bolt", "a\n"),  # a quote closed within its line, then text: as the csv module reads it
        ("3", "", 'x"\ny"'),
    ]
    assert reader.report.warnings == [] and reader.report.skipped == []
    assert [d.id for d in read(tmp_path, strict=True)[0]] == ["1", "2", "3"]


def test_a_blank_id_is_no_id_and_the_record_is_named_by_its_line(tmp_path: Path) -> None:
    """An empty id cell was the id '': the first such row got doc_id "" and every later one was skipped
    as "duplicate id ''". A blank (empty or whitespace-only) id is no id: the record is `file:line`."""
    write_files(
        tmp_path,
        {
            "assets.csv": "id,title,text\nA-1,Boiler,boiler maintenance schedule\n,Pump,pump inspection checklist\n"
            " ,Valve,valve replacement procedure\n",
            "parts.jsonl": '{"id": "", "text": "gasket sizes"}\n{"id": "  ", "text": "flange torque"}\n'
            '{"id": "P-2", "text": "bolt grades"}\n',
            "tools.json": '[{"_id": "", "text": "torque wrench"}, {"_id": "", "text": "pipe cutter"}]',
        },
    )
    docs, skipped = read(tmp_path)
    assert [d.id for d in docs] == [
        "A-1",
        "assets.csv:3",
        "assets.csv:4",
        "parts.jsonl:1",
        "parts.jsonl:2",
        "P-2",
        "tools.json#1",
        "tools.json#2",
    ]
    assert skipped == {}


def test_a_file_without_the_named_text_field_is_read_title_only_with_one_warning(tmp_path: Path) -> None:
    """`--text-field Text` over a folder whose other files name it `text`: their records were indexed by
    their title alone, their text left in the metadata, silently. One warning a file says so."""
    write_files(
        tmp_path,
        {
            "excel.csv": "ID,Title,Text\nE-1,Boilers,boiler maintenance schedule\n",
            "other.csv": "id,title,text\nO-1,Pumps,pump inspection checklist\nO-2,Valves,valve procedure\n",
            "more.jsonl": '{"id": "J-1", "title": "Fans", "text": "fan belts"}\n{"id": "J-2", "Text": "duct tape"}\n',
            "none.jsonl": '{"id": "N-1", "title": "Gauges", "text": "gauge calibration"}\n',
        },
    )
    reader = CorpusReader([tmp_path], fields=RecordFields(text="Text"))
    docs = list(reader.documents())
    assert [(d.id, d.text) for d in docs] == [
        ("E-1", "boiler maintenance schedule"),
        ("J-1", "Fans"),
        ("J-2", "duct tape"),
        ("N-1", "Gauges"),
        ("O-1", "Pumps"),
        ("O-2", "Valves"),
    ]
    assert reader.report.warnings == [  # more.jsonl has the field in one record: no warning
        "none.jsonl: no record has the field 'Text' that --text-field names (did you mean 'text'?): "
        "1 record indexed by its title alone",
        "other.csv: no record has the field 'Text' that --text-field names (did you mean 'text'?): "
        "2 records indexed by their title alone",
    ]


def test_a_file_without_the_named_id_field_names_its_records_by_line_with_one_warning(tmp_path: Path) -> None:
    """`--id-field ID` over records whose field is `id`: every record was named `file:line` in silence,
    and no qrels id matched. One warning a file says so, with the field probably meant."""
    write_files(
        tmp_path,
        {
            "n.jsonl": '{"id": "k1", "text": "honey one"}\n{"id": "k2", "text": "honey two"}\n',
            "has.jsonl": '{"ID": "h1", "text": "honey three"}\n{"text": "honey four"}\n',
            "far.csv": "key,text\nf1,honey five\n",
        },
    )
    reader = CorpusReader([tmp_path], fields=RecordFields(id="ID"))
    assert sorted(d.id for d in reader.documents()) == ["far.csv:2", "h1", "has.jsonl:2", "n.jsonl:1", "n.jsonl:2"]
    assert reader.report.warnings == [  # has.jsonl has the field in one record: no warning
        "far.csv: no record has the field 'ID' that --id-field names: 1 record named by its line (far.csv:LINE)",
        "n.jsonl: no record has the field 'ID' that --id-field names (did you mean 'id'?): "
        "2 records named by their line (n.jsonl:LINE)",
    ]


def test_csv_header_names_are_stripped_on_both_sides(tmp_path: Path) -> None:
    """`id , title , text`: the spaces before each comma stayed in the names, so the id and title matched
    no column (metadata keys `'id '`), and a file whose `text ` column was not the last was skipped."""
    write_files(
        tmp_path,
        {
            "spaced.csv": "id , title , text\n2 , Budget , honey spaced\n",
            "s2.csv": "id , text , year\n1 , honey , 2020\n",
        },
    )
    reader = CorpusReader([tmp_path])
    docs = {d.id: d for d in reader.documents()}
    assert sorted(docs) == ["1", "2"] and reader.report.skipped == []
    assert docs["2"].title == "Budget" and docs["1"].metadata["year"] == "2020"
    assert "title" not in docs["2"].metadata and not any(key.endswith(" ") for key in docs["1"].metadata)


def test_csv_ids_and_metadata_are_stripped_of_the_spaces_around_their_delimiters(tmp_path: Path) -> None:
    """`d1 , x , hello`: the id was "d1 " and the metadata "x ", so no qrels line and no `--where tag=x`
    matched them; the text keeps its own spacing (a passage's offsets are the file's)."""
    write_files(tmp_path, {"s.csv": 'id , tag , text\nd1 , x ,"  honey  spaced  "\n'})
    (document,), skipped = read(tmp_path)
    assert skipped == {}
    assert (document.id, document.metadata["tag"], document.text) == ("d1", "x", "  honey  spaced  ")


def test_a_csv_column_named_twice_is_warned_of(tmp_path: Path) -> None:
    """`id,note,note,text`: each row kept its last `note` cell alone, and the first was lost in silence."""
    write_files(tmp_path, {"dup.csv": "id,note,note,text,text\n1,first note,second note,honey,bees\n"})
    reader = CorpusReader([tmp_path])
    (doc,) = list(reader.documents())
    assert doc.text == "bees" and doc.metadata["note"] == "second note"
    assert reader.report.warnings == [
        f"dup.csv: column {name!r} appears 2 times in the header; each row keeps the last (rename the others to keep them)"
        for name in ("note", "text")
    ]


def test_the_usual_field_names_match_in_any_case_where_no_exact_one_is_there(tmp_path: Path) -> None:
    """A spreadsheet's header `ID,Title,Text` was "not a table of records"."""
    write_files(
        tmp_path,
        {
            "excel.csv": "ID,Title,Text,Owner\nE-1,Boilers,boiler maintenance schedule,ann\n",
            "both.jsonl": '{"Id": "B-1", "ID": "B-2", "TEXT": "upper", "text": "lower", "Title": "Mixed"}\n',
        },
    )
    docs, skipped = read(tmp_path)
    assert [(d.id, d.title, d.text, own(d.metadata)) for d in docs] == [
        ("B-1", "Mixed", "lower", {"ID": "B-2", "TEXT": "upper"}),  # an exact name first, else the first in any case
        ("E-1", "Boilers", "boiler maintenance schedule", {"Owner": "ann"}),
    ]
    assert skipped == {}


# each file holds "\n" line ends and one lone "\r" that its format's syntax reads as a line end (CSV,
# CommonMark, HTML) or as white space (JSON)
LONE_CR_FILES = {
    "cells.csv": b'id,text\nx,"one okapi\rtwo tapirs"\ny,other row\n',
    "record.json": b'{"id": "j",\r "text": "the okapi and the tapirs"}\n',
    "page.html": b"<html><body><p>the okapi\rand the tapirs came out of the forest</p>\n</body></html>\n",
    "notes.md": b"# Notes\n\nthe okapi\rand the tapirs\n",
    "book.ipynb": json.dumps({"cells": [{"cell_type": "markdown", "source": ["okapi and tapirs"]}]})
    .replace(", ", ",\r")
    .encode()
    + b"\n",
}


@pytest.mark.parametrize("name", sorted(LONE_CR_FILES))
def test_a_lone_carriage_return_in_a_structured_file_is_its_syntax_not_a_terminals_overwrite(
    tmp_path: Path, name: str
) -> None:
    """A lone "\\r" in a file of "\\n" line ends was read as a terminal's carriage return, as in a
    captured log: the rest of its line overwrote the start, so a CSV cell `"one okapi\\rtwo tapirs"`
    took its row's id and comma with it (the row skipped as "empty text and no title", silently) and a
    JSON record became invalid. In these formats a lone "\\r" is a line end or white space by their
    specifications (RFC 4180 as Python's csv reads it, CommonMark, HTML, JSON)."""
    root = write_files(tmp_path / "c", {name: LONE_CR_FILES[name]})
    docs, skipped = read(root)
    assert skipped == {}
    text = " ".join(d.text for d in docs).split()
    assert "okapi" in text and "tapirs" in text, text


def test_a_csv_written_with_a_space_after_each_comma_is_read_by_its_names(tmp_path: Path) -> None:
    """`id, title, text`, as CSV is often written by hand: the space after a comma is no part of a
    column's name or a cell's value, so the text column is found and the title is "Budget"."""
    write_files(tmp_path, {"s.csv": 'id, title, text, owner\n1, Budget, "the budget, approved", Ana\n'})
    (document,), skipped = read(tmp_path)
    assert skipped == {}
    assert (document.title, document.text) == ("Budget", "the budget, approved")
    assert document.metadata["owner"] == "Ana"


def test_a_list_or_object_id_is_warned_of_and_the_record_named_by_its_line(tmp_path: Path) -> None:
    """`{"id": [1, 2]}` was named "[1, 2]", Python's repr: neither the file's text nor what another
    language would make of it, so no qrels line could name it."""
    records = [{"id": [1, 2], "text": "honey"}, {"id": {"n": 1}, "text": "bees"}, {"id": 7, "text": "wax"}]
    write_files(tmp_path, {"r.jsonl": "".join(json.dumps(record) + "\n" for record in records)})
    reader = CorpusReader([tmp_path])
    assert [d.id for d in reader.documents()] == ["r.jsonl:1", "r.jsonl:2", "7"]
    assert reader.report.warnings == [  # one line a file, however many such records it holds
        "r.jsonl:1: id field 'id' is a list, not a string or number: the record is named r.jsonl:1 "
        "(and any later one alike, by its place)"
    ]
    with pytest.raises(InputFormatError, match=r"r.jsonl:1: id field 'id' is a list, not a string or number"):
        list(CorpusReader([tmp_path], strict=True).documents())
