"""SQL tables as a corpus (ragcli/readers/sql.py, ragcli/indexing/rows.py), against SQLite and a real
PostgreSQL server (tests/pgfixture.py): the same records from SQLite, PostgreSQL and JSON Lines give
the same index; rows are reused one by one; passwords are never stored; errors are one clean line."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pgfixture import PASSWORD, Postgres, free_port

from ragcli.chunking import ChunkSettings
from ragcli.errors import EmptyCorpusError, InputFormatError, InvalidOptionError, PathNotFoundError
from ragcli.indexing.build import build_index, stored_roots
from ragcli.indexing.settings import BuildReport, BuildSettings
from ragcli.readers.base import ReadContext, ReadReport, RecordFields, is_url, url_reader_for
from ragcli.readers.sql import PASSWORD_ENV
from ragcli.retrieval.index import Index, load_index
from ragcli.store import read_manifest

LONG = " ".join(f"word{i} pollen" for i in range(60))  # several passages at 20 words
RECORDS = [
    {"id": 1, "title": "Honeybees", "body": "Honeybees dance to tell where the flowers are.", "author": "ann"},
    {"id": 2, "title": "Wasps", "body": "Wasps build paper nests from chewed wood.", "author": "bob"},
    {"id": 3, "title": "Long", "body": LONG, "author": "ann"},
    {"id": 4, "title": None, "body": "Ants farm aphids for honeydew; café, naïve, 蜂蜜.", "author": None},
    {"id": 5, "title": "Bumblebees", "body": "Bumblebees buzz to shake pollen from flowers.", "author": "cy"},
    {"id": 6, "title": "Moths", "body": "Moths find flowers at night by their scent.", "author": "bob"},
]
QUERY = "SELECT id, title, body, author FROM notes ORDER BY id"
QUESTIONS = ["honeybees dance flowers", "pollen", "paper nests wood", "honeydew café", "night scent moths"]
SETTINGS = BuildSettings(chunking=ChunkSettings(size=20, overlap=5), sql=QUERY)


def sqlite_db(path: Path, records: list[dict[str, object]] = RECORDS) -> str:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT, body TEXT, author TEXT)")
        connection.executemany("INSERT INTO notes VALUES (:id, :title, :body, :author)", records)
    connection.close()
    return f"sqlite:///{path}"


@pytest.fixture
def pg_notes(postgres: Postgres, request: pytest.FixtureRequest) -> str:
    """A fresh table `notes` in a database of its own; the URL (with its password)."""
    database = "notes_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
    postgres.execute(f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}")
    postgres.execute(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT, body TEXT, author TEXT)",
        *(
            "INSERT INTO notes VALUES ({}, {}, {}, {})".format(
                r["id"],
                *(
                    ("'" + str(r[k]).replace("'", "''") + "'") if r[k] is not None else "NULL"
                    for k in ("title", "body", "author")
                ),
            )
            for r in RECORDS
        ),
        database=database,
    )
    return postgres.url(database)


def test_a_missing_query_names_the_tables_and_suggests_one(tmp_path: Path, pg_notes: str) -> None:
    """`ragcli index sqlite:///notes.db` without --sql: the error says what to pass, a query of the first
    table with a text column, and lists the tables with their columns (SQLite and PostgreSQL alike)."""
    url = sqlite_db(tmp_path / "notes.db")
    with sqlite3.connect(tmp_path / "notes.db") as connection:
        connection.execute('CREATE TABLE "Odd name" (x INTEGER)')
    connection.close()
    for database in (url, pg_notes):
        with pytest.raises(InvalidOptionError) as failed:
            build_index([database], tmp_path / "i", BuildSettings())
        assert failed.value.hint is not None and "--sql 'SELECT * FROM notes'" in failed.value.hint
        assert "notes (id, title, body, author)" in failed.value.hint
    assert '"Odd name" (x)' not in str(failed.value.hint)  # the PostgreSQL database has only notes
    bare = tmp_path / "numbers.db"
    with sqlite3.connect(bare) as connection:
        connection.execute('CREATE TABLE "Odd name" (x INTEGER)')
    connection.close()
    with pytest.raises(InvalidOptionError) as failed:
        build_index([f"sqlite:///{bare}"], tmp_path / "i", BuildSettings())
    assert (
        failed.value.hint == """--sql 'SELECT *, <a text column> AS text FROM "Odd name"'; its tables: Odd name (x)"""
    )
    assert not (tmp_path / "i").exists()


def snapshot(index: Index) -> list[tuple[str, str, str, str]]:
    store = index.passages
    return [(store.ids[i], store.doc_ids[i], store.titles[i], store.texts[i]) for i in range(len(store))]


def scores(index: Index) -> list[list[tuple[str, float]]]:
    return [[(hit.id, hit.score) for hit in index.search(q, k=10)] for q in QUESTIONS]


def test_sqlite_postgresql_and_jsonl_give_the_same_index(tmp_path: Path, pg_notes: str) -> None:
    jsonl = tmp_path / "notes.jsonl"
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")
    build_index([jsonl], tmp_path / "from-jsonl", BuildSettings(chunking=SETTINGS.chunking))
    build_index([sqlite_db(tmp_path / "notes.db")], tmp_path / "from-sqlite", SETTINGS)
    build_index([pg_notes], tmp_path / "from-pg", SETTINGS)
    expected = load_index(tmp_path / "from-jsonl")
    assert len(expected.passages) > len(RECORDS)  # the long record is several passages
    for name in ("from-sqlite", "from-pg"):
        index = load_index(tmp_path / name)
        assert snapshot(index) == snapshot(expected), name
        assert scores(index) == scores(expected), name
        assert index.manifest["counts"] == expected.manifest["counts"]
    hit = load_index(tmp_path / "from-pg").search("honeybees dance", k=1)[0]
    assert hit.doc_id == "1" and hit.path.endswith("/" + pg_notes.rsplit("/", 1)[1] + "#1")


def test_other_columns_become_metadata_as_json_scalars(tmp_path: Path, postgres: Postgres) -> None:
    postgres.execute("DROP TABLE IF EXISTS typed", "CREATE TABLE typed (id int, body text, day date, at timestamp, "
                     "price numeric(6,2), ok boolean, tags jsonb, blob bytea, missing text)",
                     "INSERT INTO typed VALUES (7, 'text', '2024-02-29', '2024-02-29 13:45:00', 12.50, true, "
                     "'{\"a\": 1}', '\\x00ff', NULL)")  # fmt: skip
    reader = url_reader_for(postgres.url())
    assert reader is not None
    context = ReadContext(RecordFields(), False, ReadReport())
    [row] = list(reader.rows(postgres.url(), "SELECT * FROM typed", context))
    assert row.document is not None
    assert row.document.metadata == {"day": "2024-02-29", "at": "2024-02-29T13:45:00", "price": 12.5, "ok": True,
                                     "tags": '{"a": 1}'}  # fmt: skip
    assert row.key == f"{postgres.url(password=None)}#7" and row.document.path == row.key
    assert not any(PASSWORD in str(value) for value in (row.key, row.document.metadata))


def test_scalars_of_sqlite_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with sqlite3.connect(path, detect_types=sqlite3.PARSE_DECLTYPES) as connection:
        connection.execute("CREATE TABLE t (id TEXT, text TEXT, n REAL, d DECIMAL, raw BLOB)")
        connection.execute("INSERT INTO t VALUES ('a', 'words', 1.25, 3, x'00')")
    connection.close()
    reader = url_reader_for(f"sqlite:///{path}")
    assert reader is not None
    [row] = list(reader.rows(f"sqlite:///{path}", "SELECT * FROM t", ReadContext(RecordFields(), False, ReadReport())))
    assert row.document is not None and row.document.id == "a"
    assert row.document.metadata == {"n": 1.25, "d": 3}


def test_reindex_reuses_unchanged_rows_and_finds_the_changed_one(
    tmp_path: Path, pg_notes: str, postgres: Postgres
) -> None:
    index_dir = tmp_path / "index"
    first = build_index([pg_notes], index_dir, SETTINGS)
    assert (first.rows, first.rows_new, first.rows_unchanged) == (6, 6, 0)
    database = pg_notes.rsplit("/", 1)[1]
    postgres.execute("UPDATE notes SET body = 'Hornets hunt other insects in autumn.' WHERE id = 2", database=database)
    again = build_index([pg_notes], index_dir, SETTINGS)
    assert (again.rows, again.rows_new, again.rows_changed, again.rows_removed, again.rows_unchanged) == (6, 0, 1, 0, 5)
    index = load_index(index_dir)
    assert index.search("hornets autumn", k=1)[0].doc_id == "2"
    assert all(hit.doc_id != "2" for hit in index.search("paper nests chewed wood", k=10))
    # the reused rows' passages are those of a fresh build
    fresh = build_index([pg_notes], tmp_path / "fresh", SETTINGS)
    assert fresh.rows_new == 6
    assert snapshot(index) == snapshot(load_index(tmp_path / "fresh"))
    assert scores(index) == scores(load_index(tmp_path / "fresh"))

    postgres.execute("DELETE FROM notes WHERE id = 3", database=database)
    third = build_index([pg_notes], index_dir, SETTINGS)
    assert (third.rows, third.rows_removed, third.rows_unchanged, third.rows_changed) == (5, 1, 5, 0)
    index = load_index(index_dir)
    assert "3" not in {index.passages.doc_ids[i] for i in range(len(index.passages))}
    assert index.search("word7 pollen", k=10) == [] or all(h.doc_id != "3" for h in index.search("word7", k=10))
    assert not any(s["path"].endswith("#3") for s in index.manifest["sources"])


def test_reuse_keeps_order_around_new_and_skipped_rows(tmp_path: Path) -> None:
    url = sqlite_db(tmp_path / "notes.db")
    index_dir = tmp_path / "index"
    build_index([url], index_dir, SETTINGS)
    with sqlite3.connect(tmp_path / "notes.db") as connection:
        connection.execute("INSERT INTO notes VALUES (0, 'First', 'Termites build mounds.', 'dee')")
        connection.execute("UPDATE notes SET body = '', title = NULL WHERE id = 5")  # no text, no title: skipped
    connection.close()
    report = build_index([url], index_dir, SETTINGS)
    assert (report.rows_new, report.rows_changed, report.rows_unchanged) == (1, 1, 5)
    assert any(s.reason.startswith("empty text") for s in report.skipped)
    build_index([url], tmp_path / "fresh", SETTINGS)
    assert snapshot(load_index(index_dir)) == snapshot(load_index(tmp_path / "fresh"))
    assert scores(load_index(index_dir)) == scores(load_index(tmp_path / "fresh"))
    assert load_index(index_dir).search("termites mounds", k=1)[0].doc_id == "0"


def test_a_malformed_row_is_skipped_or_stops_the_build_with_strict(tmp_path: Path) -> None:
    url = sqlite_db(tmp_path / "notes.db")
    query = "SELECT id, title, CASE WHEN id = 2 THEN 42 ELSE body END AS body FROM notes ORDER BY id"
    with pytest.raises(InputFormatError, match=r"notes\.db#2 \(row 2 of the result\): field 'body' is not a string"):
        build_index([url], tmp_path / "index", BuildSettings(sql=query, strict=True))
    settings = BuildSettings(sql=query)
    report = build_index([url], tmp_path / "index", settings)
    assert (report.rows, report.documents) == (6, 5)
    assert [s.reason for s in report.skipped] == ["field 'body' is not a string"]
    again = build_index([url], tmp_path / "index", settings)
    assert (again.rows_unchanged, again.documents) == (6, 5)
    assert [s.reason for s in again.skipped] == ["field 'body' is not a string"]


def test_columns_become_metadata_that_filters_rows(tmp_path: Path) -> None:
    from ragcli.retrieval.filters import Filter

    url = sqlite_db(tmp_path / "notes.db")
    build_index([url], tmp_path / "index", SETTINGS)
    index = load_index(tmp_path / "index")
    by_bob = index.search("flowers nests wood scent night", k=10, filter=Filter.parse(where=["author=bob"]))
    assert sorted({h.doc_id for h in by_bob}) == ["2", "6"]
    (hit,) = index.with_metadata(index.search("honeybees dance", k=1))
    assert hit.metadata == {"author": "ann", "format": "sql"}
    # reused rows keep their metadata; a changed row gets its new values
    with sqlite3.connect(tmp_path / "notes.db") as connection:
        connection.execute("UPDATE notes SET author = 'dee' WHERE id = 6")
    connection.close()
    build_index([url], tmp_path / "index", SETTINGS)
    index = load_index(tmp_path / "index")
    by_bob = index.search("flowers nests wood scent night", k=10, filter=Filter.parse(where=["author=bob"]))
    assert sorted({h.doc_id for h in by_bob}) == ["2"]
    assert {h.doc_id for h in index.search("moths", k=10, filter=Filter.parse(where=["author=dee"]))} == {"6"}


def test_rows_without_an_id_are_named_by_position(tmp_path: Path) -> None:
    url = sqlite_db(tmp_path / "notes.db")
    settings = BuildSettings(sql="SELECT title, body FROM notes ORDER BY id")
    report = build_index([url], tmp_path / "index", settings)
    assert report.rows_new == 6
    index = load_index(tmp_path / "index")
    hit = index.search("wasps paper nests", k=1)[0]
    assert hit.doc_id == hit.path == f"{url}:2"
    assert build_index([url], tmp_path / "index", settings).rows_unchanged == 6


def test_password_is_never_stored_and_comes_from_the_environment_on_reindex(
    tmp_path: Path, pg_notes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    index_dir = tmp_path / "index"
    report = build_index([pg_notes], index_dir, SETTINGS)
    for path in index_dir.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    assert PASSWORD not in json.dumps(report.to_dict())
    roots = stored_roots(index_dir)
    assert roots == [pg_notes.replace(f":{PASSWORD}@", "@")] and is_url(str(roots[0]))
    settings = BuildSettings(chunking=SETTINGS.chunking)  # no query: the stored one
    with pytest.raises(InputFormatError, match="cannot connect") as failed:
        build_index(roots, index_dir, settings)
    assert PASSWORD not in str(failed.value)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    again = build_index(roots, index_dir, settings)
    assert (again.rows_unchanged, again.rows_new) == (6, 0)
    monkeypatch.delenv(PASSWORD_ENV)
    monkeypatch.setenv("PGPASSWORD", PASSWORD)  # libpq's own variable works too (PostgreSQL)
    assert build_index(roots, index_dir, settings).rows_unchanged == 6


def test_query_runs_read_only(tmp_path: Path, pg_notes: str, postgres: Postgres) -> None:
    database = pg_notes.rsplit("/", 1)[1]
    postgres.execute("CREATE SEQUENCE counter", database=database)
    with pytest.raises(InputFormatError, match="read-only transaction"):  # a query that writes
        build_index([pg_notes], tmp_path / "i", BuildSettings(sql="SELECT id, body, nextval('counter') FROM notes"))
    with pytest.raises(InputFormatError, match="DELETE"):  # a statement that is no query
        build_index([pg_notes], tmp_path / "i", BuildSettings(sql="DELETE FROM notes RETURNING id, body"))
    url = sqlite_db(tmp_path / "notes.db")
    with pytest.raises(InputFormatError, match=r"readonly|read-only"):  # SQLite's WITH may begin a DELETE
        build_index(
            [url], tmp_path / "j", BuildSettings(sql="WITH n AS (SELECT 1) DELETE FROM notes RETURNING id, body")
        )
    with sqlite3.connect(tmp_path / "notes.db") as connection:
        assert connection.execute("SELECT count(*) FROM notes").fetchone() == (6,)
    connection.close()
    import psycopg

    with psycopg.connect(postgres.url(database)) as connection:
        assert connection.execute("SELECT count(*) FROM notes").fetchone() == (6,)
        assert connection.execute("SELECT is_called FROM counter").fetchone() == (False,)


def test_rows_are_streamed_through_a_server_side_cursor(postgres: Postgres) -> None:
    postgres.execute("DROP TABLE IF EXISTS many", "CREATE TABLE many AS SELECT g AS id, 'row ' || g AS text "
                     "FROM generate_series(1, 5000) g")  # fmt: skip
    reader = url_reader_for(postgres.url())
    assert reader is not None
    rows = reader.rows(
        postgres.url(), "SELECT id, text FROM many ORDER BY id", ReadContext(RecordFields(), False, ReadReport())
    )
    first = next(rows)
    assert first.document is not None and first.document.id == "1"
    import psycopg

    with psycopg.connect(postgres.url()) as watcher:  # what the reading session runs while it is paused
        running = [
            q
            for (q,) in watcher.execute(
                "SELECT query FROM pg_stat_activity WHERE backend_type = 'client backend' "
                "AND datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
    rows.close()
    assert any(q.lstrip().upper().startswith(("FETCH", "DECLARE")) for q in running), running
    assert (
        sum(
            1
            for _ in reader.rows(
                postgres.url(), "SELECT id, text FROM many", ReadContext(RecordFields(), False, ReadReport())
            )
        )
        == 5000
    )


@pytest.mark.parametrize(
    ("query", "fields", "message"),
    [
        ("SELECT id FRM notes", RecordFields(), "syntax error"),
        ("SELECT id, title FROM notes", RecordFields(), "no text column"),
        ("SELECT id, body FROM notes", RecordFields(text="content"), "no column 'content'"),
        ("SELECT id, body FROM nowhere", RecordFields(), "nowhere"),
    ],
)
def test_bad_queries_are_one_line_input_errors(
    tmp_path: Path, pg_notes: str, query: str, fields: RecordFields, message: str
) -> None:
    with pytest.raises(InputFormatError, match=message) as failed:
        build_index([pg_notes], tmp_path / "i", BuildSettings(sql=query, fields=fields))
    assert "\n" not in str(failed.value) and PASSWORD not in str(failed.value)


def test_connection_errors_are_one_line_input_errors(tmp_path: Path, postgres: Postgres) -> None:
    wrong = postgres.url(password="not-the-password")
    with pytest.raises(InputFormatError, match=r"cannot connect.*password authentication failed") as failed:
        build_index([wrong], tmp_path / "i", BuildSettings(sql="SELECT 1 AS id, 'x' AS text"))
    assert "not-the-password" not in str(failed.value) and "\n" not in str(failed.value)
    down = postgres.url().replace(f":{postgres.port}/", f":{free_port()}/")
    with pytest.raises(InputFormatError, match=r"cannot connect.*refused") as failed:
        build_index([down], tmp_path / "i", BuildSettings(sql="SELECT 1 AS id, 'x' AS text"))
    assert PASSWORD not in str(failed.value)


def test_bad_urls_and_options_fail_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(PathNotFoundError):
        build_index(["sqlite:///" + str(tmp_path / "missing.db")], tmp_path / "i", BuildSettings(sql="SELECT 1"))
    assert not (tmp_path / "missing.db").exists()  # never created by opening it
    assert not (tmp_path / "i").exists()  # refused before the index folder is made
    with pytest.raises(InvalidOptionError, match="no SQLAlchemy driver"):
        build_index(["postgresql+nodriver://u:secretpw@localhost/db"], tmp_path / "i", BuildSettings(sql="SELECT 1"))
    with pytest.raises(InvalidOptionError, match="no reader for ftp://"):
        build_index(["ftp://example/x"], tmp_path / "i", BuildSettings(sql="SELECT 1"))
    url = sqlite_db(tmp_path / "notes.db")
    with pytest.raises(InvalidOptionError, match="needs a query"):
        build_index([url], tmp_path / "i", BuildSettings())
    with pytest.raises(InvalidOptionError, match="--sql needs a database URL"):
        build_index([tmp_path / "notes.db"], tmp_path / "i", BuildSettings(sql=QUERY))
    with pytest.raises(InvalidOptionError) as failed:
        build_index(["postgresql+nodriver://u:secretpw@localhost/db"], tmp_path / "i", BuildSettings(sql="SELECT 1"))
    assert "secretpw" not in str(failed.value)


def test_files_and_a_database_in_one_index(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Beekeepers wear veils.\n")
    url = sqlite_db(tmp_path / "notes.db")
    report: BuildReport = build_index([tmp_path / "docs", url], tmp_path / "index", SETTINGS)
    assert (report.files, report.rows) == (1, 6)
    index = load_index(tmp_path / "index")
    assert index.search("beekeepers veils", k=1)[0].path == "a.txt"
    assert index.manifest["roots"] == [str((tmp_path / "docs").resolve()), url]
    again = build_index([tmp_path / "docs", url], tmp_path / "index", SETTINGS)
    assert (again.unchanged, again.rows_unchanged, again.rows_changed) == (1, 6, 0)


def test_a_row_whose_id_a_file_holds_is_kept_under_its_key_and_equals_a_rebuild(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.jsonl").write_text('{"id": "1", "text": "Beekeepers wear veils."}\n')
    url = sqlite_db(tmp_path / "notes.db")
    index_dir = tmp_path / "index"
    build_index([docs, url], index_dir, SETTINGS)
    index = load_index(index_dir)
    assert index.search("beekeepers veils", k=1)[0].doc_id == "1"
    assert index.search("honeybees dance flowers", k=1)[0].doc_id == f"{url}#1"  # not lost: named by its key
    (docs / "notes.jsonl").write_text('{"id": "7", "text": "Beekeepers wear veils."}\n')
    again = build_index([docs, url], index_dir, SETTINGS)
    assert (again.rows_unchanged, again.rows_changed) == (6, 0)  # unchanged, read again for its own id
    assert load_index(index_dir).search("honeybees dance flowers", k=1)[0].doc_id == "1"
    build_index([docs, url], tmp_path / "fresh", SETTINGS)
    assert snapshot(load_index(index_dir)) == snapshot(load_index(tmp_path / "fresh"))
    assert scores(load_index(index_dir)) == scores(load_index(tmp_path / "fresh"))


def test_dates_and_decimals_from_postgresql_are_iso_strings_and_floats() -> None:
    from ragcli.readers.sql import _scalar

    assert _scalar(dt.datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03:04:05"
    assert _scalar(Decimal("2.50")) == 2.5
    assert _scalar(b"\x00") is None


def test_secret_query_parameters_are_never_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """libpq's `sslpassword` (and `password`) query parameters are secrets: dropped from the URL as shown."""
    url = f"postgresql://me@127.0.0.1:{free_port()}/wiki?sslmode=disable&sslpassword=hunter2&password=pw2"
    reader = url_reader_for(url)
    assert reader is not None
    assert reader.display(url) == f"{url.split('&', 1)[0]}"
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "5")
    with pytest.raises(InputFormatError, match="cannot connect") as failed:
        build_index([url], tmp_path / "i", BuildSettings(sql="SELECT 1 AS id, 'x' AS text"))
    assert "hunter2" not in str(failed.value) and "pw2" not in str(failed.value)


def test_secret_query_parameters_are_never_stored(tmp_path: Path, pg_notes: str) -> None:
    url = f"{pg_notes}?sslmode=disable&sslpassword=hunter2"
    index_dir = tmp_path / "index"
    report = build_index([url], index_dir, SETTINGS)
    for path in index_dir.rglob("*"):
        if path.is_file():
            assert b"hunter2" not in path.read_bytes(), path
    assert "hunter2" not in json.dumps(report.to_dict())
    public = pg_notes.replace(f":{PASSWORD}@", "@") + "?sslmode=disable"
    assert stored_roots(index_dir) == [public]
    assert load_index(index_dir).passages.paths[0].startswith(public + "#")


def test_a_password_is_masked_where_it_is_one_not_wherever_its_text_is(tmp_path: Path) -> None:
    """A password `port` left "connection to server at "127.0.0.1", *** 1 failed" (garbled, and it
    said what the password is)."""
    port = free_port()
    with pytest.raises(InputFormatError, match=f'"127.0.0.1", port {port} failed') as failed:
        build_index(
            [f"postgresql://me:port@127.0.0.1:{port}/db"], tmp_path / "i", BuildSettings(sql="SELECT 1 AS text")
        )
    assert "***" not in str(failed.value) and "me:port@" not in str(failed.value)


def test_a_password_that_is_a_word_of_the_message_leaves_it_whole(tmp_path: Path, postgres: Postgres) -> None:
    postgres.execute("DROP ROLE IF EXISTS pages_reader", "CREATE ROLE pages_reader LOGIN PASSWORD 'pages'")
    url = f"postgresql://pages_reader:pages@127.0.0.1:{postgres.port}/postgres"
    with pytest.raises(InputFormatError, match='relation "pages2" does not exist') as failed:
        build_index([url], tmp_path / "i", BuildSettings(sql="SELECT id, text FROM pages2"))
    assert "***" not in str(failed.value) and ":pages@" not in str(failed.value)


@pytest.mark.parametrize("url", ["sqlite://me:PWLEAK@/notes.db", "sqlite://host/notes.db", "sqlite://me@/notes.db"])
def test_a_sqlite_url_with_a_user_or_host_is_not_a_database_url(tmp_path: Path, url: str) -> None:
    sqlite_db(tmp_path / "notes.db")
    with pytest.raises(InvalidOptionError, match="not a database URL") as failed:
        build_index([url], tmp_path / "i", BuildSettings(sql=QUERY))
    assert "PWLEAK" not in str(failed.value)
    assert not (tmp_path / "i").exists()


@pytest.mark.parametrize("query", ["mode=ro", "timeout=5"])
def test_a_sqlite_url_with_query_parameters_is_refused_in_one_line(
    tmp_path: Path, query: str, recwarn: pytest.WarningsRecorder
) -> None:
    """ragcli opens a SQLite file itself (read-only): a query parameter would be ignored, with a two-line
    SAWarning "Query string argument(s) 'mode' are not accepted by the pysqlite driver"."""
    url = sqlite_db(tmp_path / "notes.db") + "?" + query
    with pytest.raises(InvalidOptionError, match=r"query parameters .* not used") as failed:
        build_index([url], tmp_path / "i", BuildSettings(sql=QUERY))
    assert "\n" not in str(failed.value) and not recwarn.list
    assert not (tmp_path / "i").exists()


def test_a_wal_database_gets_no_files_beside_it_and_a_writers_changes_are_read(tmp_path: Path) -> None:
    """`mode=ro` alone made SQLite create `notes.db-wal` and `notes.db-shm` beside a WAL-mode database."""
    folder = tmp_path / "db"
    folder.mkdir()
    url = sqlite_db(folder / "notes.db")
    with sqlite3.connect(folder / "notes.db") as connection:
        assert connection.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
    connection.close()
    before = (folder / "notes.db").read_bytes()
    assert build_index([url], tmp_path / "i", SETTINGS).rows == 6
    assert sorted(p.name for p in folder.iterdir()) == ["notes.db"]
    assert (folder / "notes.db").read_bytes() == before
    writer = sqlite3.connect(folder / "notes.db")  # a writer at work: its changes are in the -wal file
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("INSERT INTO notes VALUES (7, 'Wasps', 'Hornets hunt in autumn.', 'dee')")
    writer.commit()
    try:
        assert build_index([url], tmp_path / "i", SETTINGS).rows_new == 1
    finally:
        writer.close()


def test_text_that_is_not_utf8_is_read_as_cp1252_with_one_warning(tmp_path: Path) -> None:
    """One row with bytes a program stored unchecked stopped the whole index (exit 6, "Could not decode
    to UTF-8 column 'author'"); files with such bytes are read as cp1252 with a warning, and so is it."""
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (id INTEGER, text TEXT, author TEXT)")
        connection.execute("INSERT INTO t VALUES (1, 'Bees dance.', 'ann')")
        connection.execute("INSERT INTO t VALUES (2, CAST(x'4361663f20e9' AS TEXT), CAST(x'4a6f73e9' AS TEXT))")
        connection.execute("INSERT INTO t VALUES (3, 'Ants dig.', CAST(x'e9' AS TEXT))")
    connection.close()
    reader = url_reader_for(f"sqlite:///{path}")
    assert reader is not None
    context = ReadContext(RecordFields(), False, ReadReport())
    rows = list(reader.rows(f"sqlite:///{path}", "SELECT * FROM t ORDER BY id", context))
    assert [r.document.metadata["author"] for r in rows if r.document is not None] == ["ann", "José", "é"]
    assert rows[1].document is not None and rows[1].document.text == "Caf? é"
    [warning] = context.report.warnings
    assert warning == f"sqlite:///{path}: 3 text value(s) not valid UTF-8, read as cp1252"


def test_a_query_that_returns_no_rows_says_so(tmp_path: Path) -> None:
    # it said "no supported files found", of a database
    url = sqlite_db(tmp_path / "notes.db")
    with pytest.raises(EmptyCorpusError) as caught:
        build_index([url], tmp_path / "index", BuildSettings(sql="SELECT id, title, body FROM notes WHERE 0"))
    assert caught.value.hint == "the --sql query returned no rows"


def test_a_percent_sign_in_the_query_is_sql_not_a_placeholder(tmp_path: Path, postgres: Postgres) -> None:
    """`LIKE 'P%'` and `g % 2` failed on PostgreSQL (exit 6, "only '%s', '%b', '%t' are allowed as
    placeholders"): the driver parsed the query for placeholders, though ragcli passes no parameters."""
    query = (
        "WITH numbers(g) AS (VALUES (1), (2), (3), (4)) SELECT g AS id, '100% sure %s %(x)s ' || g AS text "
        "FROM numbers WHERE 'Pg' LIKE 'P%' AND g % 2 = 0 ORDER BY g"
    )
    for url in (postgres.url(), sqlite_db(tmp_path / "notes.db")):
        reader = url_reader_for(url)
        assert reader is not None
        rows = list(reader.rows(url, query, ReadContext(RecordFields(), False, ReadReport())))
        assert [(r.document.id, r.document.text) for r in rows if r.document is not None] == [
            ("2", "100% sure %s %(x)s 2"),
            ("4", "100% sure %s %(x)s 4"),
        ], url


def test_a_row_cites_the_line_of_its_text_not_its_position(tmp_path: Path) -> None:
    """A row's passages cited `<url>#<id>:<row position>` (the 6th row's every passage `#6:6`), so an
    incremental re-index after deleting an earlier row kept the old numbers while a rebuild gave new ones."""
    path = tmp_path / "n.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
        connection.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"note number {i}") for i in range(1, 6)])
        connection.execute("INSERT INTO t VALUES (6, 'first line\nsecond line\nthird line kestrel')")
    connection.close()
    url, index_dir = f"sqlite:///{path}", tmp_path / "index"
    settings = BuildSettings(chunking=ChunkSettings(size=3, overlap=0), sql="SELECT * FROM t ORDER BY id")
    build_index([url], index_dir, settings)
    [hit] = load_index(index_dir).search("kestrel", k=1)
    assert (hit.path, hit.line) == (f"{url}#6", 3)
    assert load_index(index_dir).search("note number 4", k=1)[0].line == 1
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM t WHERE id = 2")
    connection.close()
    assert build_index([url], index_dir, settings).rows_unchanged == 5
    build_index([url], tmp_path / "fresh", settings)
    incremental, rebuilt = load_index(index_dir).passages, load_index(tmp_path / "fresh").passages
    assert list(incremental.line) == list(rebuilt.line) == [1, 1, 1, 1, 1, 2, 3]


def test_a_duplicate_row_is_named_by_its_id_and_place_in_the_result(tmp_path: Path) -> None:
    """It was listed as `<url>:2`, which reads as line 2 (or the id of a row without one)."""
    url = sqlite_db(tmp_path / "notes.db")
    query = "SELECT 1 AS id, 'first apple' AS text UNION ALL SELECT 1, 'second banana'"
    report = build_index([url], tmp_path / "index", BuildSettings(sql=query))
    assert [(s.path, s.reason) for s in report.skipped] == [(f"{url}#1 (row 2 of the result)", "duplicate id '1'")]


def test_a_skipped_row_keeps_its_reason_past_the_listed_thousand(tmp_path: Path) -> None:
    """A row's reason was read back from the report's list of skipped records, which stops growing at
    1,000 entries per source: every row skipped after that was stored as "not a document". Each row
    now keeps the reason it was skipped for, listed or not."""
    records = [{"id": n, "title": None, "body": "" if n else "Bees dance.", "author": None} for n in range(2_011)]
    url = sqlite_db(tmp_path / "notes.db", records)
    # odd ids: a number for the text (malformed); even ids but 0: no text and no title
    query = "SELECT id, title, CASE WHEN id % 2 = 1 THEN 42 ELSE body END AS body FROM notes ORDER BY id"
    expected = [None] + [
        "field 'body' is not a string" if n % 2 else "empty text and no title" for n in range(1, 2_011)
    ]
    reader = url_reader_for(url)
    assert reader is not None
    context = ReadContext(RecordFields(), False, ReadReport())
    rows = list(reader.rows(url, query, context))
    assert len(context.report.skipped) == 1_000  # the listed ones; the rest are counted
    assert [row.skipped for row in rows] == expected
    report = build_index([url], tmp_path / "index", BuildSettings(sql=query))
    assert (report.rows, report.documents) == (2_011, 1)
    sources = read_manifest(tmp_path / "index")["sources"]
    assert [source["skipped"] for source in sources] == expected  # what a re-index reports again


def test_text_stored_as_a_blob_is_read_as_text_and_a_binary_one_is_listed(tmp_path: Path) -> None:
    """A text column's BLOB (a program stored bytes) was taken for NULL: the row was indexed title-only,
    with no word of why. It is read as TEXT is (UTF-8, else cp1252 with the one warning); a BLOB that
    is binary (a NUL byte) skips the row, listed with the column."""
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (id INTEGER, title TEXT, text TEXT)")
        connection.execute("INSERT INTO t VALUES (1, 'Bees', ?)", ["Bees dance, café.".encode()])
        connection.execute("INSERT INTO t VALUES (2, ?, x'4361666520e9')", [b"Cafe"])  # cp1252 "Cafe é"
        connection.execute("INSERT INTO t VALUES (3, 'Picture', x'89504e470d0a1a0a0000000d')")  # a PNG's header
    connection.close()
    url = f"sqlite:///{path}"
    reader = url_reader_for(url)
    assert reader is not None
    context = ReadContext(RecordFields(), False, ReadReport())
    rows = list(reader.rows(url, "SELECT * FROM t ORDER BY id", context))
    assert [(r.document.title, r.document.text) for r in rows if r.document is not None] == [
        ("Bees", "Bees dance, café."),
        ("Cafe", "Cafe é"),
    ]
    assert rows[2].document is None and rows[2].skipped == "column 'text' holds binary data, not text"
    assert [(s.path, s.reason) for s in context.report.skipped] == [
        (f"{url}#3 (row 3 of the result)", "column 'text' holds binary data, not text")
    ]
    assert context.report.warnings == [f"{url}: 1 text value(s) not valid UTF-8, read as cp1252"]
    with pytest.raises(InputFormatError, match=r"#3 \(row 3 of the result\): column 'text' holds binary data"):
        list(reader.rows(url, "SELECT * FROM t ORDER BY id", ReadContext(RecordFields(), True, ReadReport())))


def test_a_text_that_becomes_binary_is_not_reused(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (id INTEGER, title TEXT, text TEXT)")
        connection.execute("INSERT INTO t VALUES (1, 'Bees', NULL)")
    connection.close()
    url, settings = f"sqlite:///{path}", BuildSettings(sql="SELECT * FROM t")
    assert build_index([url], tmp_path / "index", settings).documents == 1  # title-only
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE t SET text = x'00ff'")
    connection.close()
    with pytest.raises(EmptyCorpusError):  # its one row is skipped, not its title-only passage reused
        build_index([url], tmp_path / "index", settings)


def test_a_null_or_empty_text_does_what_a_records_null_does(tmp_path: Path) -> None:
    """README said a NULL text is "an empty document (skipped as such)"; a row with a title is indexed
    title-only, as a JSON record with a null text is: the two give the same documents and skips."""
    rows = [
        {"id": 1, "title": "Bees", "text": None},
        {"id": 2, "title": "Wasps", "text": "  "},
        {"id": 3, "title": None, "text": None},
        {"id": 4, "title": "Ants", "text": "Ants dig."},
    ]
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (id INTEGER, title TEXT, text TEXT)")
        connection.executemany("INSERT INTO t VALUES (:id, :title, :text)", rows)
    connection.close()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    from_sql = build_index([f"sqlite:///{path}"], tmp_path / "sql", BuildSettings(sql="SELECT * FROM t"))
    from_jsonl = build_index([tmp_path / "docs"], tmp_path / "jsonl", BuildSettings())
    assert from_sql.documents == from_jsonl.documents == 3
    assert [s.reason for s in from_sql.skipped] == [s.reason for s in from_jsonl.skipped] == ["empty text and no title"]
    assert snapshot(load_index(tmp_path / "sql")) == snapshot(load_index(tmp_path / "jsonl"))


def test_a_reindex_without_sql_reads_the_recorded_query_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The query is checked before any work and again under the lock; where nobody replaced the manifest
    meanwhile, the one read before stands (a manifest of 20,000 sources is not parsed twice)."""
    import ragcli.indexing.build as build

    url = sqlite_db(tmp_path / "notes.db")
    build_index([url], tmp_path / "i", SETTINGS)
    reads: list[Path] = []

    def counted(target: Path) -> str | None:
        reads.append(target)
        return stored_query(target)

    stored_query = build._stored_query
    monkeypatch.setattr(build, "_stored_query", counted)
    report = build_index([url], tmp_path / "i", BuildSettings(chunking=SETTINGS.chunking))
    assert report.rows_unchanged == len(RECORDS) and len(reads) == 1


def test_a_build_that_waited_runs_the_query_the_other_build_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-index without --sql that waits for the lock runs the query of the build it waited for."""
    from contextlib import contextmanager

    import ragcli.indexing.build as build

    url = sqlite_db(tmp_path / "notes.db")
    build_index([url], tmp_path / "i", SETTINGS)
    narrower = "SELECT id, title, body, author FROM notes WHERE id < 3 ORDER BY id"
    lock = build.index_lock
    others: list[str] = [narrower]

    @contextmanager
    def after_another_build(target: Path, wait: bool = False) -> Iterator[object]:
        if others:  # another build publishes its own query while this one waits for the lock
            build_index([url], target, BuildSettings(chunking=SETTINGS.chunking, sql=others.pop()))
        with lock(target, wait=wait) as held:
            yield held

    monkeypatch.setattr(build, "index_lock", after_another_build)
    build_index([url], tmp_path / "i", BuildSettings(chunking=SETTINGS.chunking), wait=True)
    assert read_manifest(tmp_path / "i")["sql"] == narrower
    passages = load_index(tmp_path / "i").passages
    assert {passages.doc_ids[i] for i in range(len(passages))} == {"1", "2"}


def test_dates_and_times_out_of_pythons_range_are_kept_as_the_servers_text(tmp_path: Path, postgres: Postgres) -> None:
    """One `infinity` (or a year past 9999, a BC date, 24:00, an interval past 999,999,999 days) in a
    result failed the whole index: "timestamp too large (after year 10K): 'infinity' (check the query
    given with --sql)", exit 6. Such a value is kept as the server writes it; the others stay ISO."""
    postgres.execute("DROP TABLE IF EXISTS policies", "CREATE TABLE policies (id int primary key, body text, "
                     "until timestamptz, since timestamp, day date, at time, attz timetz, span interval)",
                     "INSERT INTO policies VALUES (1, 'travel policy lemur', '2025-01-01 00:00:00+00', "
                     "'2024-02-29 13:45:00', '2024-02-29', '13:45:00', '13:45:00+02', '90 minutes'), "
                     "(2, 'expense policy gibbon', 'infinity', '294276-01-01', '-infinity', '24:00:00', "
                     "'24:00:00+02', '5000000 years'), (3, 'leave policy tapir', '-infinity', '4713-01-01 BC', "
                     "'infinity', NULL, NULL, NULL)")  # fmt: skip
    reader = url_reader_for(postgres.url())
    assert reader is not None
    context = ReadContext(RecordFields(), False, ReadReport())
    rows = list(reader.rows(postgres.url(), "SELECT id, body AS text, until, since, day, at, attz, span "
                                            "FROM policies ORDER BY id", context))  # fmt: skip
    assert [row.document.metadata if row.document else None for row in rows] == [
        {"until": "2025-01-01T00:00:00+00:00", "since": "2024-02-29T13:45:00", "day": "2024-02-29",
         "at": "13:45:00", "attz": "13:45:00+02:00", "span": 5400.0},
        {"until": "infinity", "since": "294276-01-01 00:00:00", "day": "-infinity", "at": "24:00:00",
         "attz": "24:00:00+02", "span": "5000000 years"},
        {"until": "-infinity", "since": "4713-01-01 00:00:00 BC", "day": "infinity"},
    ]  # fmt: skip
    assert context.report.warnings == [] and context.report.skipped == []
    report = build_index([postgres.url()], tmp_path / "index", BuildSettings(sql="SELECT * FROM policies"))
    assert report.documents == 3


def test_a_chosen_column_named_twice_is_refused_and_another_keeps_its_first(tmp_path: Path, postgres: Postgres) -> None:
    """`SELECT *` over a join returned two `id` columns: the rows were keyed by the last (the users'
    id), so post 11 was dropped as "duplicate id '1'"; `SELECT id, body AS text, title AS text` indexed
    the title. A chosen column (id, text, title) named twice is refused, naming it; any other keeps its
    first value, with one warning."""
    tables = (
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, text TEXT, title TEXT, tag TEXT)",
        "INSERT INTO users VALUES (1, 'ann')",
        "INSERT INTO posts VALUES (10, 1, 'the ocelot hunts at night', 'Ocelots', 'cats'), "
        "(11, 1, 'the okapi eats leaves', 'Okapis', 'giraffes')",
    )
    path = tmp_path / "posts.db"
    with sqlite3.connect(path) as connection:
        for statement in tables:
            connection.execute(statement)
    connection.close()
    postgres.execute("DROP TABLE IF EXISTS posts, users", *tables)
    joined = "SELECT * FROM posts JOIN users ON users.id = posts.user_id ORDER BY posts.id"
    twice = "SELECT id, text, title AS text FROM posts ORDER BY id"
    tags = "SELECT posts.id, posts.text, posts.tag, users.name AS tag FROM posts JOIN users ON users.id = user_id"
    for url in (f"sqlite:///{path}", postgres.url()):
        reader = url_reader_for(url)
        assert reader is not None
        for query, column, option in ((joined, "id", "--id-field"), (twice, "text", "--text-field")):
            with pytest.raises(InputFormatError) as failed:
                list(reader.rows(url, query, ReadContext(RecordFields(), False, ReadReport())))
            assert failed.value.message.endswith(
                f": the query returns 2 columns named {column!r}, its {option[2:-6]} column"
            )
            assert failed.value.hint is not None and "alias" in failed.value.hint and option in failed.value.hint
        context = ReadContext(RecordFields(), False, ReadReport())
        rows = list(reader.rows(url, tags + " ORDER BY posts.id", context))
        assert [(r.key.rpartition("#")[2], r.document and r.document.metadata) for r in rows] == [
            ("10", {"tag": "cats"}),
            ("11", {"tag": "giraffes"}),
        ]
        shown = reader.display(url)
        assert context.report.warnings == [
            f"{shown}: the query returns 2 columns named 'tag'; the first is kept (alias the others to keep them)"
        ]


def test_a_row_without_text_is_named_by_its_id_and_place_in_the_result(tmp_path: Path, postgres: Postgres) -> None:
    """A row skipped for its text was listed as `<url>:2`, its place in the result, which reads as the id
    of a row without one, though its id is 300; other skips of rows say `<url>#300 (row 2 of the result)`."""
    tables = ("CREATE TABLE t8 (id INTEGER, title TEXT, body TEXT)", "INSERT INTO t8 VALUES (100, 'A', 'x'), "
              "(300, NULL, ' '), (400, NULL, 'x')")  # fmt: skip
    path = tmp_path / "t8.db"
    with sqlite3.connect(path) as connection:
        for statement in tables:
            connection.execute(statement)
    connection.close()
    postgres.execute("DROP TABLE IF EXISTS t8", *tables)
    body = "CASE WHEN id = 400 THEN {} ELSE {} END AS body"  # a number for row 400's text: malformed
    for url, query in (
        (f"sqlite:///{path}", f"SELECT id, title, {body.format(42, 'body')} FROM t8 ORDER BY id"),
        (postgres.url(), f"SELECT id, title, {body.format('to_jsonb(42)', 'to_jsonb(body)')} FROM t8 ORDER BY id"),
    ):
        reader = url_reader_for(url)
        assert reader is not None
        context = ReadContext(RecordFields(), False, ReadReport())
        list(reader.rows(url, query, context))
        shown = reader.display(url)
        assert [(s.path, s.reason) for s in context.report.skipped] == [
            (f"{shown}#300 (row 2 of the result)", "empty text and no title"),
            (f"{shown}#400 (row 3 of the result)", "field 'body' is not a string"),
        ]
        with pytest.raises(InputFormatError, match=r"#400 \(row 3 of the result\): field 'body' is not a string"):
            list(reader.rows(url, query, ReadContext(RecordFields(), True, ReadReport())))


def test_a_blank_id_is_no_id_and_the_row_is_named_by_its_place(tmp_path: Path) -> None:
    """As a record's blank id field: a row whose id is '' or blanks was keyed `<url>#` and the next one
    skipped as "duplicate id ''"."""
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (id TEXT, text TEXT)")
        connection.executemany("INSERT INTO t VALUES (?, ?)", [("A-1", "boiler"), ("", "pump"), (" ", "valve")])
    connection.close()
    url = f"sqlite:///{path}"
    report = build_index([url], tmp_path / "index", BuildSettings(sql="SELECT * FROM t ORDER BY rowid"))
    assert (report.documents, report.skipped) == (3, [])
    assert sorted(load_index(tmp_path / "index").passages.doc_ids) == ["A-1", f"{url}:2", f"{url}:3"]


def test_the_usual_column_names_match_in_any_case(tmp_path: Path) -> None:
    """SQLite keeps a column's case as written: `SELECT ID, Title, Body …` had "no text column"."""
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (ID TEXT, Title TEXT, Body TEXT, Owner TEXT)")
        connection.execute("INSERT INTO t VALUES ('E-1', 'Boilers', 'boiler maintenance schedule', 'ann')")
    connection.close()
    url = f"sqlite:///{path}"
    reader = url_reader_for(url)
    assert reader is not None
    [row] = list(reader.rows(url, "SELECT * FROM t", ReadContext(RecordFields(), False, ReadReport())))
    assert row.document is not None and row.key == f"{url}#E-1"
    assert (row.document.title, row.document.text, row.document.metadata) == (
        "Boilers",
        "boiler maintenance schedule",
        {"Owner": "ann"},
    )


def test_a_sql_ascii_database_is_read_as_utf8(tmp_path: Path, postgres: Postgres) -> None:
    """A `SQL_ASCII` database gave "internal error: TypeError: cannot use a string pattern on a
    bytes-like object" (SQLAlchemy's version check on the bytes psycopg returns): ragcli asks for UTF-8."""
    postgres.execute(
        "DROP DATABASE IF EXISTS legacy",
        "CREATE DATABASE legacy ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'",
    )
    query = "SELECT 1 AS id, 'hello café' AS text"
    build_index([postgres.url("legacy")], tmp_path / "i", BuildSettings(sql=query))
    assert load_index(tmp_path / "i").passages.texts[0] == "hello café"
    with pytest.raises(InputFormatError, match="invalid byte sequence") as failed:
        build_index([postgres.url("legacy")], tmp_path / "j", BuildSettings(sql="SELECT 1 AS id, E'caf\\xe9' AS text"))
    assert "\n" not in str(failed.value) and PASSWORD not in str(failed.value)


@pytest.mark.parametrize("port", ["99999", "0"])
def test_a_port_out_of_range_is_a_malformed_url(tmp_path: Path, port: str) -> None:
    """Port 99999 was "cannot connect" (exit 6) while port `abc` was a malformed URL (exit 2)."""
    with pytest.raises(InvalidOptionError, match=f"not a database URL \\(port {port} is not 1 to 65535\\)") as failed:
        build_index([f"postgresql://me:PWLEAK3@127.0.0.1:{port}/db"], tmp_path / "i", BuildSettings(sql="SELECT 1"))
    assert "PWLEAK3" not in str(failed.value)


def test_a_file_that_is_no_sqlite_database_is_said_so_not_blamed_on_sql(tmp_path: Path) -> None:
    """SQLite opens any file and fails at the first read: "file is not a database (check the query given
    with --sql)" blamed a --sql that was never given; the hint now says what the file is."""
    notes = tmp_path / "notes.db"
    notes.write_text("plain text, not a database\n" * 50)
    with pytest.raises(InputFormatError, match="file is not a database") as failed:
        build_index([f"sqlite:///{notes}"], tmp_path / "index")
    assert "--sql" not in str(failed.value) and "another kind of file, or a damaged one" in str(failed.value)


def test_the_password_variable_is_not_given_to_a_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RAGCLI_SQL_PASSWORD (for a PostgreSQL root) was set on every URL: SQLite refused it ("Invalid
    SQLite URL") as an internal error, so no SQLite root could be indexed or re-indexed beside it."""
    monkeypatch.setenv(PASSWORD_ENV, "not-for-sqlite")
    url = sqlite_db(tmp_path / "notes.db")
    assert build_index([url], tmp_path / "index", SETTINGS).documents == 6
    again = build_index([url], tmp_path / "index", BuildSettings(chunking=SETTINGS.chunking))  # the recorded query
    assert again.rows_unchanged == 6
    with pytest.raises(InvalidOptionError, match="needs a query") as failed:
        build_index([url], tmp_path / "other", BuildSettings())
    assert "SELECT * FROM notes" in str(failed.value.hint)


def test_a_numeric_id_is_its_exact_text_not_a_float(tmp_path: Path, postgres: Postgres) -> None:
    """A NUMERIC id was a float: cited `#7.0`, and 9007199254740992 and …993 one id (a row dropped)."""
    query = (
        "SELECT * FROM (VALUES (9007199254740992::numeric, 'first alpha'), (9007199254740993::numeric, "
        "'second beta'), (7.0::numeric, 'seven gamma'), (1.50::numeric, 'half delta')) AS t(id, body)"
    )
    report = build_index([postgres.url()], tmp_path / "index", BuildSettings(sql=query))
    assert (report.documents, report.skipped) == (4, [])
    ids = set(load_index(tmp_path / "index").passages.doc_ids)
    assert ids == {"9007199254740992", "9007199254740993", "7", "1.50"}


def test_a_skipped_row_claims_no_id_and_a_reindex_reuses_both_rows(tmp_path: Path) -> None:
    """A row skipped (no text, a text that is no string, binary text) took its id: the next row with
    it, the one a JSON Lines file indexes, was dropped as a duplicate (a LEFT JOIN's NULL first row)."""
    rows = [(1, None), (1, "hello kiwi"), (2, 3), (2, "hello fig"), (3, b"\x00\xff"), (3, "hello lime"), (4, "x")]
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (id INTEGER, text)")
        connection.executemany("INSERT INTO t VALUES (?, ?)", rows)
    connection.close()
    (tmp_path / "docs").mkdir()
    lines = [
        {"id": 1, "text": None},
        {"id": 1, "text": "hello kiwi"},
        {"id": 2, "text": 3},
        {"id": 2, "text": "hello fig"},
    ]
    (tmp_path / "docs" / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    url, settings = f"sqlite:///{path}", BuildSettings(sql="SELECT * FROM t WHERE id < 4 ORDER BY rowid")
    report = build_index([url], tmp_path / "index", settings)
    assert report.documents == 3 and [s.reason for s in report.skipped] == [
        "empty text and no title",
        "field 'text' is not a string",
        "column 'text' holds binary data, not text",
    ]
    build_index([tmp_path / "docs"], tmp_path / "jsonl", BuildSettings())
    assert snapshot(load_index(tmp_path / "index"))[:2] == snapshot(load_index(tmp_path / "jsonl"))
    again = build_index([url], tmp_path / "index", BuildSettings(sql="SELECT * FROM t ORDER BY rowid"))
    assert (again.rows_new, again.rows_changed, again.rows_unchanged, again.documents) == (1, 0, 6, 4)
    build_index([url], tmp_path / "fresh", BuildSettings(sql="SELECT * FROM t ORDER BY rowid"))
    assert snapshot(load_index(tmp_path / "index")) == snapshot(load_index(tmp_path / "fresh"))


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("DELETE FROM notes", "--sql takes a single query (SELECT, WITH, VALUES, TABLE …); DELETE is not one"),
        ("update notes SET body = 'x' RETURNING *", "update is not one"),
        ("-- the version\n/* of the server */ SHOW server_version", "SHOW is not one"),
        ("WITH d AS (DELETE FROM notes RETURNING *) SELECT * FROM d", "the query changes data"),
    ],
)
def test_a_statement_that_is_no_query_is_said_so_not_a_syntax_error(
    tmp_path: Path, pg_notes: str, query: str, said: str
) -> None:
    """PostgreSQL runs the query in a server-side cursor (`DECLARE CURSOR`): a DELETE or SHOW was "syntax
    error at or near", a data-modifying WITH "DECLARE CURSOR must not contain data-modifying statements"."""
    with pytest.raises(InputFormatError) as failed:
        build_index([pg_notes], tmp_path / "i", BuildSettings(sql=query))
    assert said in str(failed.value) and "ragcli only reads" in str(failed.value)
    assert "syntax error" not in str(failed.value) and "DECLARE" not in str(failed.value)
    assert build_index([pg_notes], tmp_path / "i", SETTINGS).documents == len(RECORDS)  # nothing was deleted


def test_a_locked_sqlite_file_says_another_program_writes_it_not_the_query(tmp_path: Path) -> None:
    """A writer's lock was "database is locked (check the query given with --sql)"."""
    url = sqlite_db(tmp_path / "notes.db")
    writer = sqlite3.connect(tmp_path / "notes.db", isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("INSERT INTO notes VALUES (7, 'Flies', 'Flies hover.', 'eve')")
    try:
        with pytest.raises(InputFormatError, match="database is locked") as failed:
            build_index([url], tmp_path / "index", SETTINGS)
    finally:
        writer.close()
    assert failed.value.hint == "another program is writing the database file; try again when it is done"
    assert build_index([url], tmp_path / "index", SETTINGS).documents == len(RECORDS)


@pytest.mark.parametrize(("url", "write"), [("postgres://me@127.0.0.1/db", "postgresql://"),
                                            ("postgres+psycopg://me@127.0.0.1/db", "postgresql+psycopg://")])  # fmt: skip
def test_a_postgres_url_says_to_write_postgresql(tmp_path: Path, url: str, write: str) -> None:
    """`postgres://` (Heroku's DATABASE_URL) was "no SQLAlchemy driver 'postgres'" and a list of URLs."""
    with pytest.raises(InvalidOptionError, match="no SQLAlchemy driver") as failed:
        build_index([url], tmp_path / "index", BuildSettings(sql="SELECT 1 AS id, 'x' AS text"))
    assert failed.value.hint == f"write {write}, SQLAlchemy's name for PostgreSQL"


def test_a_missing_query_suggests_a_view_too(tmp_path: Path) -> None:
    """Only tables were listed: a view, perhaps the one relation with a text column, was never named."""
    path = tmp_path / "n.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE raw (n INTEGER, words TEXT)")
        connection.execute("CREATE VIEW notes_v AS SELECT n AS id, words AS body FROM raw")
    connection.close()
    with pytest.raises(InvalidOptionError) as failed:
        build_index([f"sqlite:///{path}"], tmp_path / "i", BuildSettings())
    assert failed.value.hint == "--sql 'SELECT * FROM notes_v'; its tables: raw (n, words), notes_v (id, body)"


def test_a_databases_own_read_only_statement_still_runs(tmp_path: Path) -> None:
    """Refusing what is no SELECT/WITH/VALUES/TABLE before connecting (for PostgreSQL's DECLARE CURSOR)
    refused SQLite's `PRAGMA table_info` too, which answers with rows; a PRAGMA that writes is still
    refused, by SQLite itself (the file is opened read-only and `query_only`)."""
    url = sqlite_db(tmp_path / "notes.db")
    before = (tmp_path / "notes.db").read_bytes()
    settings = BuildSettings(sql="PRAGMA table_info(notes)", fields=RecordFields(id="cid", text="name"))
    assert build_index([url], tmp_path / "index", settings).documents == 4
    with pytest.raises(InputFormatError):
        build_index([url], tmp_path / "other", BuildSettings(sql="PRAGMA user_version = 5"))
    assert (tmp_path / "notes.db").read_bytes() == before
