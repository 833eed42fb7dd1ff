"""`ragcli index URL --sql …`: database roots from the command line (SQLite and a real PostgreSQL)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from clihelpers import invoke, run
from pgfixture import PASSWORD, Postgres, free_port

QUERY = "SELECT id, title, body, author FROM notes ORDER BY id"


def notes_db(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT, body TEXT, author TEXT)")
        connection.executemany(
            "INSERT INTO notes VALUES (?, ?, ?, ?)",
            [
                (1, "Honeybees", "Honeybees dance to tell where the flowers are.", "ann"),
                (2, "Wasps", "Wasps build paper nests from chewed wood.", "bob"),
                (3, "Ants", "Ants farm aphids for honeydew.", None),
            ],
        )
    connection.close()


def test_sqlite_url_keeps_its_slashes_and_reindexes_from_the_manifest(tmp_path: Path) -> None:
    notes_db(tmp_path / "notes.db")
    built = run("index", "sqlite:///notes.db", "--sql", QUERY, "--index", "idx", "--json", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert (report["rows"], report["rows_new"], report["documents"]) == (3, 3, 3)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["roots"] == [f"sqlite:///{tmp_path / 'notes.db'}"] and manifest["sql"] == QUERY
    with sqlite3.connect(tmp_path / "notes.db") as connection:
        connection.execute("UPDATE notes SET body = 'Hornets hunt in autumn.' WHERE id = 2")
    connection.close()
    again = run("index", "--index", str(tmp_path / "idx"), "--json")  # no roots, no --sql: the stored ones
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["rows_unchanged"], report["rows_changed"], report["rows_new"]) == (2, 1, 0)
    hits = run("query", "hornets autumn", "--no-generate", "--json", "--index", str(tmp_path / "idx"))
    top = json.loads(hits.stdout)["hits"][0]
    assert (top["doc_id"], top["title"]) == ("2", "Wasps")
    assert top["path"] == f"sqlite:///{tmp_path / 'notes.db'}#2"
    summary = run("index", "--index", str(tmp_path / "idx"))
    assert "rows: 0 new, 0 changed, 0 removed, 3 unchanged" in summary.stderr


def test_postgresql_password_never_printed_or_stored(tmp_path: Path, postgres: Postgres) -> None:
    postgres.execute("DROP TABLE IF EXISTS cli_notes", "CREATE TABLE cli_notes (id int, title text, body text)",
                     "INSERT INTO cli_notes VALUES (1, 'Bees', 'Bees make honey.'), (2, 'Ants', 'Ants dig.')")  # fmt: skip
    query = "SELECT id, title, body FROM cli_notes ORDER BY id"
    index = str(tmp_path / "idx")
    env = {"PGPASSWORD": "", "PGPASSFILE": str(tmp_path / "none"), "RAGCLI_SQL_PASSWORD": ""}
    outputs = []
    for args in (["--json"], ["--verbose"]):
        built = invoke("index", postgres.url(driver="psycopg"), "--sql", query, "--index", index, *args, env=env)
        assert built.exit_code == 0, built.output
        outputs += [built.stdout, built.stderr]
    outputs.append(invoke("info", "--index", index, "--json").stdout)
    outputs.append(invoke("query", "honey", "--no-generate", "--index", index).stdout)
    assert not any(PASSWORD in text for text in outputs)
    assert postgres.url(driver="psycopg", password=None) in outputs[-2]  # info shows the root, without it
    for path in Path(index).rglob("*"):
        assert not path.is_file() or PASSWORD.encode() not in path.read_bytes(), path
    # a plain re-index: the password from the environment, never from the index
    failed = invoke("index", "--index", index, env=env)
    assert failed.exit_code == 6 and "cannot connect" in failed.stderr and "Traceback" not in failed.stderr
    again = invoke("index", "--index", index, "--json", env={**env, "RAGCLI_SQL_PASSWORD": PASSWORD})
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["rows_unchanged"] == 2


def test_database_errors_are_one_line_with_their_exit_codes(tmp_path: Path, postgres: Postgres) -> None:
    notes_db(tmp_path / "notes.db")
    sqlite_url = f"sqlite:///{tmp_path / 'notes.db'}"
    index = str(tmp_path / "idx")
    down = postgres.url().replace(f":{postgres.port}/", f":{free_port()}/")
    cases = [
        ([postgres.url(password="wrong-pw-31337"), "--sql", QUERY], 6, "password authentication failed"),
        ([down, "--sql", QUERY], 6, "cannot connect"),
        ([sqlite_url, "--sql", "SELECT * FRM notes"], 6, "syntax error"),
        ([sqlite_url, "--sql", "DELETE FROM notes"], 6, "--sql takes a single query"),
        ([sqlite_url, "--sql", "SELECT id, title FROM notes"], 6, "no text column"),
        ([sqlite_url, "--sql", QUERY, "--title-field", "headline"], 6, "no column 'headline'"),
        ([f"sqlite:///{tmp_path / 'missing.db'}", "--sql", QUERY], 4, "no such database file"),
        ([sqlite_url], 2, "needs a query (--sql 'SELECT * FROM notes'; its tables: notes ("),
        ([str(tmp_path), "--sql", QUERY], 2, "--sql needs a database URL"),
        (["postgresql+nodriver://u:wrong-pw-31337@localhost/db", "--sql", QUERY], 2, "no SQLAlchemy driver"),
        (["gopher://host/x", "--sql", QUERY], 2, "no reader for gopher://"),
    ]
    for args, code, message in cases:
        result = invoke("index", *args, "--index", index)
        assert result.exit_code == code, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "wrong-pw-31337" not in result.stderr and PASSWORD not in result.stderr
    assert not (tmp_path / "missing.db").exists()


def test_a_sqlite_query_or_url_creates_no_file(tmp_path: Path) -> None:
    """`ATTACH DATABASE` and `VACUUM INTO` failed (read-only) but left empty files behind, and a URI
    filename chose its own mode (`?mode=rwc` created the database): neither can create a file now."""
    notes_db(tmp_path / "notes.db")
    for statement in ("ATTACH DATABASE 'attached.db' AS a", "VACUUM INTO 'copy.db'"):
        result = run("index", "sqlite:///notes.db", "--sql", statement, "--index", "idx", cwd=tmp_path)
        assert result.returncode == 6 and "is not one" in result.stderr, result.stderr  # refused before reading
    uri = run("index", "sqlite:///file:created.db?mode=rwc&uri=true", "--sql", QUERY, "--index", "idx", cwd=tmp_path)
    assert uri.returncode == 2 and "URI filenames" in uri.stderr, uri.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_a_row_whose_id_an_earlier_row_has_is_skipped(tmp_path: Path) -> None:
    """Two rows with id 1 were both indexed under two id schemes, and every later re-index counted a
    row changed and wrote a new generation; the second is skipped and listed, as in a JSON Lines file."""
    notes_db(tmp_path / "notes.db")
    query = "SELECT 1 AS id, 'first apple' AS text UNION ALL SELECT 1, 'second banana'"
    built = run("index", "sqlite:///notes.db", "--sql", query, "--index", "idx", "--json", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["documents"] == 1 and [s["reason"] for s in report["skipped"]] == ["duplicate id '1'"]
    again = json.loads(run("index", "--index", str(tmp_path / "idx"), "--json").stdout)
    assert (again["rows_unchanged"], again["rows_changed"], again["documents"]) == (1, 0, 1)


def test_rows_skipped_past_those_listed_are_counted_by_kind_in_a_short_entry(tmp_path: Path) -> None:
    """A duplicate id of a row was written as the number (`duplicate id 1000`), so every id was a reason
    of its own: the entry counting the rows past the 1,000 listed named each of them (60 KB a line)."""
    notes_db(tmp_path / "notes.db")
    rows = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2199) "
    query = rows + "SELECT i % 1000 AS id, 'row ' || i AS text FROM n"
    built = run("index", "sqlite:///notes.db", "--sql", query, "--index", "idx", "--json", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    skipped = json.loads(built.stdout)["skipped"]
    assert len(skipped) == 1001 and skipped[0]["reason"] == "duplicate id '0'"
    assert skipped[-1]["reason"] == "200 more records skipped, not listed (200 duplicate id)"
    summary = run("index", "--index", "idx", "--rebuild", cwd=tmp_path)
    assert summary.stderr.splitlines()[1:] == ["skipped 1,200 records (--verbose lists them):", "  1,200 duplicate id"]


def test_a_url_with_a_password_where_a_path_or_root_is_expected_is_shown_without_it(tmp_path: Path) -> None:
    """Paths in errors are shown as given: a database URL given as one kept its password."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("hello world\n")
    index = str(tmp_path / "ix")
    assert invoke("index", str(tmp_path / "docs"), "--index", index).exit_code == 0
    url = "postgresql://me:PWLEAK1@db.example:5432/wiki"
    for args, env, code in (
        (["index", "--index", index, "--remove", url], {}, 2),
        (["evaluate", url], {}, 4),
        (["query", "honey", "--no-generate", "--index", url], {}, 3),
        (["info"], {"RAGCLI_INDEX": url}, 3),
    ):
        result = invoke(*args, env=env)
        assert result.exit_code == code, (args, result.output)
        assert "PWLEAK1" not in result.output and "me@db.example" in result.output, (args, result.output)


def test_info_counts_database_rows_apart_from_files(tmp_path: Path) -> None:
    """`info` on an index of a table said `sources │ 3 files` (a row is a source of the manifest), while
    the build said `from 0 files`."""
    notes_db(tmp_path / "notes.db")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Beekeepers wear veils.\n")
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    for roots, sources, files, rows in (
        ([url], "3 rows from 1 database query", 0, 3),
        ([str(tmp_path / "docs"), url], "1 file; 3 rows from 1 database query", 1, 3),
    ):
        index = str(tmp_path / f"idx{files}")
        assert invoke("index", *roots, "--sql", QUERY, "--index", index).exit_code == 0
        table = invoke("info", "--index", index).stdout
        assert re.search(rf"│ sources +│ {sources} +│", table), table
        data = json.loads(invoke("info", "--index", index, "--json").stdout)
        assert (data["sources"], data["rows"]) == (files, rows)


def test_a_url_whose_driver_has_an_underscore_is_a_url_and_never_shows_its_password(tmp_path: Path) -> None:
    """`postgresql+psycopg_async://me:pw@…` was taken for a path (the scheme pattern had no `_`): "no such
    file or folder", exit 4, with the password, in `--json` too; so was `sqlite+pysqlite_numeric:///…`."""
    notes_db(tmp_path / "notes.db")
    async_url = "postgresql+psycopg_async://me:PWLEAK2@127.0.0.1:5432/db"
    for args, code, message in (
        ([async_url], 2, "'postgresql+psycopg_async' is an asyncio driver"),
        ([async_url, "--json"], 2, "'postgresql+psycopg_async' is an asyncio driver"),
        ([f"sqlite+pysqlite_numeric:///{tmp_path / 'notes.db'}"], 2, "no SQLAlchemy driver 'sqlite+pysqlite_numeric'"),
        (["1pg://me:PWLEAK2@127.0.0.1/db"], 4, "1pg:/me@127.0.0.1/db: no such file or folder"),
    ):
        result = invoke("index", *args, "--sql", QUERY, "--index", str(tmp_path / "idx"))
        assert result.exit_code == code, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "PWLEAK2" not in result.output, (args, result.output)


def test_a_sqlite_url_through_dot_dot_is_recorded_by_its_real_path(tmp_path: Path) -> None:
    """`sqlite:///../a.db` was recorded as `…/tmpd/../a.db`: once `tmpd` was gone the re-index found no file,
    and the same file named plainly was "not the index's root"."""
    notes_db(tmp_path / "notes.db")
    (tmp_path / "tmpd").mkdir()
    index = str(tmp_path / "idx")
    built = run("index", "sqlite:///../notes.db", "--sql", QUERY, "--index", index, cwd=tmp_path / "tmpd")
    assert built.returncode == 0, built.stderr
    (tmp_path / "tmpd").rmdir()
    assert json.loads((tmp_path / "idx" / "manifest.json").read_text())["roots"] == [f"sqlite:///{tmp_path}/notes.db"]
    assert invoke("index", "--index", index).exit_code == 0
    again = invoke("index", f"sqlite:///{tmp_path}/notes.db", "--sql", QUERY, "--index", index)
    assert again.exit_code == 0, again.output


def test_an_unencoded_at_in_the_password_is_refused_without_showing_any_of_it(tmp_path: Path) -> None:
    """`postgresql://me:SEC@RETX@…`: the password ends at its first `@` (SQLAlchemy, as libpq), and the rest
    was taken for the host (or port, or database) and printed: "failed to resolve host 'RETX@127.0.0.1'"."""
    index = str(tmp_path / "idx")
    for url in (
        "postgresql://me:PWLE@AK4@127.0.0.1/db",
        "postgresql://me:PWLE@AK4:5432@127.0.0.1/db",
        "postgresql+psycopg://me:PWLE@AK4/x@127.0.0.1:5432/db",
    ):
        for args in ([url, "--sql", QUERY], [url, "--sql", QUERY, "--json"]):
            result = invoke("index", *args, "--index", index)
            assert result.exit_code == 2, (args, result.output)
            assert (
                "an @ in the password, host or database name) (percent-encode @ in the password or the database name as %40)"
                in result.output
            ), result.output
            assert "PWLE" not in result.output and "AK4" not in result.output, result.output
    # a user name with an `@` (`me@server`, as some hosted servers want) still masks the password after it
    azure = f"postgresql://me@server:PWLEAK5@127.0.0.1:{free_port()}/wiki"
    for args in (["index", "--index", index, "--remove", azure], ["index", azure, "--index", index, "--json"]):
        result = invoke(*args)
        assert "PWLEAK5" not in result.output, (args, result.output)
    assert not Path(index).exists()


def test_a_reindex_without_a_password_says_where_the_password_comes_from(tmp_path: Path, postgres: Postgres) -> None:
    """The stored URL has no password: a plain re-index failed with "fe_sendauth: no password supplied (check
    the URL, server and password)", not naming the variables and file the README says to use."""
    postgres.execute("DROP TABLE IF EXISTS cli_where", "CREATE TABLE cli_where (id int, body text)",
                     "INSERT INTO cli_where VALUES (1, 'Bees make honey.')")  # fmt: skip
    index = str(tmp_path / "idx")
    env = {"PGPASSWORD": "", "PGPASSFILE": str(tmp_path / "none"), "RAGCLI_SQL_PASSWORD": ""}
    built = invoke(
        "index", postgres.url(), "--sql", "SELECT id, body AS text FROM cli_where", "--index", index, env=env
    )
    assert built.exit_code == 0, built.output
    failed = invoke("index", "--index", index, env=env)
    assert failed.exit_code == 6 and "no password supplied" in failed.stderr, failed.stderr
    assert "RAGCLI_SQL_PASSWORD, else libpq's PGPASSWORD or ~/.pgpass" in failed.stderr, failed.stderr
    wrong = invoke("index", "--index", index, env={**env, "RAGCLI_SQL_PASSWORD": "wrong-pw-31337"})
    assert wrong.exit_code == 6 and "(check the URL, server and password)" in wrong.stderr, wrong.stderr
