"""SQL tables as a corpus: each row of the user's query is one document, and the unit of reuse.

`ragcli index "sqlite:///notes.db" --sql "SELECT id, title, body, author FROM notes"`, or any
SQLAlchemy URL (`postgresql://user@host/db`, `postgresql+psycopg://…`). SQLAlchemy (2.x) is imported
here only, when a database is read, so other commands never pay for it.

- Columns are chosen as a JSON record's fields are (`--id-field`, `--text-field`, `--title-field`, or
  the usual names): each row goes through `records.read_record`, so a table and a JSON Lines file
  holding the same records give the same documents. The other columns become `Document.metadata`
  (dates and times as ISO strings, decimals as floats, binary columns left out; a PostgreSQL date or
  time Python cannot hold, `infinity`, as the server's text: `_dates_out_of_range_as_text`).
- Each row is yielded with the SHA-256 of its values; the build reuses the passages of a row whose
  key (`<url>#<id>`) and hash are unchanged.
- The password is never shown or stored: `display` drops it (and the secret query parameters,
  `errors.SECRET_PARAMETERS`: `password=`, libpq's `sslpassword=`…), and sqlite paths are made real (absolute, links resolved) so a re-index from another folder reads the same file. At read time
  the password comes from the URL, else `RAGCLI_SQL_PASSWORD`, else the driver's own ways (libpq's
  `PGPASSWORD` and `~/.pgpass` for PostgreSQL).
- The query runs in a read-only transaction where the database has one (PostgreSQL: `SET TRANSACTION
  READ ONLY`; SQLite: the file opened read-only, `immutable=1` for a WAL database no one writes, `PRAGMA
  query_only`); rows are streamed (a server-side cursor where the driver has one, `yield_per`), never
  fetched all at once. SQLite text that is not UTF-8 is read as a file is (UTF-8 with a few bad bytes
  replaced, else cp1252), with one warning; so is a text or title column's BLOB, and a binary one (a NUL byte) skips the row.
- The query runs exactly as written: ragcli passes no parameters, so the driver looks for no placeholders
  (a `%` is the SQL's own, `LIKE 'P%'`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import shlex
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ragcli.errors import (
    SECRET_PARAMETERS,
    InputFormatError,
    InvalidOptionError,
    MissingExtraError,
    PathNotFoundError,
    mask_secrets,
)
from ragcli.readers.base import DecodingTally, ReadContext, Row, SuffixReader, decode_text, looks_binary
from ragcli.readers.records import (
    ID_FIELDS,
    TEXT_FIELDS,
    TITLE_FIELDS,
    RecordSkipped,
    pick_field,
    read_record,
    record_id,
)

if TYPE_CHECKING:
    from psycopg.abc import AdaptContext, Buffer
    from psycopg.adapt import Loader
    from sqlalchemy.engine import URL, Engine

PASSWORD_ENV = "RAGCLI_SQL_PASSWORD"
STREAM_ROWS = 1000  # rows fetched from the server at a time
MAX_LISTED = 8  # tables, and columns of each, named when a query is missing
INSTALL_HINT = "pip install 'ragcli[sql]'"
# SQLAlchemy's built-in dialects; a third-party one is found through its `sqlalchemy.dialects` entry point
_DIALECTS = frozenset({"sqlite", "postgresql", "postgres", "mysql", "mariadb", "oracle", "mssql"})
# a password with an `@` not written `%40`: SQLAlchemy (as libpq) ends the password at its first `@`
# (after a user name up to the first `:`) and takes the rest for the host, port or database, which the
# driver's errors then print ("failed to resolve host 'RETX@127.0.0.1'")
_SPLIT_PASSWORD_RE = re.compile(r"[^:/]*://[^:/]*:[^@]*@[^?]*@")

Scalar = str | int | float | bool
# what a statement that is a query begins with: the server-side cursor runs only these, and they read
QUERY_KEYWORDS = ("SELECT", "WITH", "VALUES", "TABLE")
# read-only statements other databases answer with rows too (SQLite opens the file read-only and
# `query_only`, so a PRAGMA that writes is refused by SQLite itself); PostgreSQL runs the query inside
# DECLARE CURSOR, which takes only the first four
READ_KEYWORDS = {"sqlite": ("PRAGMA", "EXPLAIN"), "mysql": ("SHOW", "DESCRIBE", "DESC", "EXPLAIN")}
# what may come before a statement's first keyword: blanks, comments, opening parentheses
_LEADING_RE = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/|\()*", re.S)


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower().split("+", 1)[0]


@cache
def _plugin_dialects() -> frozenset[str]:
    from importlib.metadata import entry_points

    return frozenset(ep.name.split(".", 1)[0].lower() for ep in entry_points(group="sqlalchemy.dialects"))


def _parse(url: str) -> URL:
    try:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError
    except ModuleNotFoundError:
        raise MissingExtraError(
            f"{mask_secrets(url)}: reading SQL databases needs SQLAlchemy", hint=INSTALL_HINT
        ) from None
    if _SPLIT_PASSWORD_RE.match(url):
        raise InvalidOptionError(
            f"{mask_secrets(url)}: not a database URL (an @ in the password, host or database name)",
            hint="percent-encode @ in the password or the database name as %40",
        )
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise InvalidOptionError(f"{mask_secrets(url)}: not a database URL ({mask_secrets(str(exc))})") from None
    if parsed.port is not None and not 0 < parsed.port < 65536:  # libpq said so only when connecting (exit 6)
        raise InvalidOptionError(f"{mask_secrets(url)}: not a database URL (port {parsed.port} is not 1 to 65535)")
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and any(part is not None for part in (parsed.username, parsed.password, parsed.host, parsed.port)):
        # SQLAlchemy refuses it only when connecting (it was "internal error: ArgumentError", exit 1)
        raise InvalidOptionError(
            f"{mask_secrets(url)}: not a database URL (a SQLite URL has no user, password or host)",
            hint="sqlite:///notes.db, sqlite:////home/me/notes.db",
        )
    if sqlite and str(parsed.database or "").startswith("file:"):
        # a URI filename chooses its own mode ("?mode=rwc" created files) and stays relative
        raise InvalidOptionError(
            f"{mask_secrets(url)}: SQLite URI filenames (sqlite:///file:…) are not read",
            hint="name the database file: sqlite:///notes.db (ragcli opens it read-only)",
        )
    if sqlite and parsed.query:  # ragcli opens the file itself: they would be ignored (with a SAWarning)
        raise InvalidOptionError(
            f"{mask_secrets(url)}: SQLite URL query parameters ({', '.join(parsed.query)}) are not used",
            hint="drop them: ragcli opens the file read-only itself",
        )
    return parsed


def _is_sqlite_file(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def public_url(url: URL) -> URL:
    """The URL as stored and shown: no password nor secret query parameter, a sqlite file by its real path
    (as file roots: `..` and links resolved, so `sqlite:///../a.db` names the file from any folder)."""
    url = url._replace(password=None).difference_update_query(SECRET_PARAMETERS)  # set(password=None) keeps it
    if _is_sqlite_file(url):
        url = url.set(database=os.path.realpath(str(url.database)))
    return url


def render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _scalar(value: object) -> Scalar | None:
    """A column value as a JSON scalar: ISO dates and times, decimals as floats; None for NULL and binary."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (_dt.date, _dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return None  # binary: not text, and no use as a filter
    if isinstance(value, (dict, list, tuple)):  # JSON and array columns
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)  # UUIDs, network addresses, enums, ranges…


def _exact(value: object) -> Scalar | None:
    """An id column's value exactly, never as a float (which cited `#7.0` and made large ids collide, the
    rows dropped as duplicates): a whole-number decimal as an integer (`7` and `7.0` are `7`, as a qrels
    file names it), any other as the database gives it (`1.50`)."""
    if isinstance(value, Decimal):
        return int(value) if value.is_finite() and value == value.to_integral_value() else str(value)
    return _scalar(value)


def _column(
    shown: str, columns: list[str], explicit: str | None, candidates: tuple[str, ...], option: str
) -> str | None:
    if explicit is not None:
        if explicit not in columns:
            raise InputFormatError(
                f"{shown}: the query has no column {explicit!r} (its columns: {', '.join(columns)})",
                hint=f"select it, or name another with {option}",
            )
        return explicit
    return pick_field(columns, None, candidates)


class SqlReader(SuffixReader):
    """Reads the rows of an SQL query from a database URL (claims no file)."""

    name = "sql"

    def claims_url(self, url: str) -> bool:
        scheme = _scheme(url)
        return scheme in _DIALECTS or scheme in _plugin_dialects()

    def display(self, url: str) -> str:
        """The URL without its password; a SQLite file that does not exist is refused here, before any work."""
        shown = public_url(_parse(url))
        database = str(shown.database)
        if _is_sqlite_file(shown) and not Path(database).is_file():
            raise PathNotFoundError(f"{render(shown)}: no such database file", hint="check the path after sqlite:///")
        return render(shown)

    def rows(self, url: str, query: str | None, context: ReadContext) -> Iterator[Row]:
        """The rows of `query`, each with its document (None when the row was skipped) and hash."""
        if not query or not query.strip():
            raise InvalidOptionError(f"{self.display(url)}: a database needs a query", hint=self.query_hint(url))
        _refuse_a_statement_that_is_no_query(self.display(url), query, _parse(url).get_backend_name())
        text = _SqliteText()
        with _connected(url, text) as (connection, shown):
            # no_parameters: the driver gets `cursor.execute(query)`, no parameter collection, so it parses no
            # placeholders (psycopg, pymysql): a `%` in the user's SQL (`LIKE 'P%'`, `g % 2`) is SQL as written
            streamed = connection.execution_options(stream_results=True, yield_per=STREAM_ROWS, no_parameters=True)
            result = streamed.exec_driver_sql(query)
            yield from self._documents(shown, list(result.keys()), result, context, text)

    def query_hint(self, url: str) -> str:
        """What to pass when no query was given: a query of the database's first table with a text column,
        and its tables with their columns, so that a first `ragcli index sqlite:///notes.db` says how.
        Views count as tables: one may be all a role can read, or the only relation with a text column."""
        with _connected(url) as (connection, _):
            from sqlalchemy import inspect

            inspector = inspect(connection)
            names = inspector.get_table_names() + inspector.get_view_names()
            tables = {name: [c["name"] for c in inspector.get_columns(name)] for name in names}
        if not tables:
            return '--sql "SELECT id, title, body …"; the database has no tables'
        texty = next((name for name, columns in tables.items() if pick_field(columns, None, TEXT_FIELDS)), None)
        table = _identifier(texty or next(iter(tables)))
        select = f"SELECT * FROM {table}" if texty else f"SELECT *, <a text column> AS text FROM {table}"
        listed = [
            f"{name} ({', '.join(columns[:MAX_LISTED])}{', …' if len(columns) > MAX_LISTED else ''})"
            for name, columns in list(tables.items())[:MAX_LISTED]
        ]
        more = f" and {len(tables) - MAX_LISTED} more" if len(tables) > MAX_LISTED else ""
        return f"--sql {shlex.quote(select)}; its tables: {', '.join(listed)}{more}"

    def _documents(
        self, shown: str, columns: list[str], result: Any, context: ReadContext, text: _SqliteText
    ) -> Iterator[Row]:
        fields = context.fields
        id_column = _column(shown, columns, fields.id, ID_FIELDS, "--id-field")
        text_column = _column(shown, columns, fields.text, TEXT_FIELDS, "--text-field")
        title_column = _column(shown, columns, fields.title, TITLE_FIELDS, "--title-field")
        if text_column is None:
            raise InputFormatError(
                f"{shown}: the query has no text column ({'/'.join(TEXT_FIELDS)}; its columns: {', '.join(columns)})",
                hint="name it with --text-field, or alias it: SELECT body AS text …",
            )
        chosen = {id_column, text_column, title_column}
        repeated = {name: n for name, n in Counter(columns).items() if n > 1}
        _refuse_a_chosen_column_twice(shown, repeated, {id_column: "id", text_column: "text", title_column: "title"})
        if repeated:
            context.warn(
                f"{shown}: the query returns {_columns_named(repeated)}; the first is kept (alias the others to keep them)"
            )
        first = [position for position, name in enumerate(columns) if columns.index(name) == position]
        indexed: set[str] = set()  # the keys of the rows read so far: only a row read claims its id
        for number, values in enumerate(result, start=1):
            stored = {columns[i]: values[i] for i in first}
            record = {name: _scalar(value) for name, value in stored.items()}
            if id_column is not None:
                record[id_column] = _exact(stored[id_column])
            for column in (text_column, title_column):  # bytes are no metadata, but a text stored as bytes is text
                if column is not None and isinstance(stored[column], (bytes, bytearray, memoryview)):
                    record[column] = text.from_bytes(bytes(stored[column]))
            binary = record[text_column] is None and stored[text_column] is not None  # not NULL: binary bytes
            if record[text_column] is None and not binary:  # (a binary text hashes as null, not as a NULL's "")
                record[text_column] = ""  # NULL text: a record's null text (title-only, or skipped without a title)
            canonical = json.dumps(list(record.items()), ensure_ascii=False, separators=(",", ":"))
            digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
            metadata = {k: v for k, v in record.items() if k not in chosen and v is not None}
            # without an id the row's position names it (read_record's fallback id, `<url>:<n>`)
            row_id = record_id(record[id_column]) if id_column is not None else None
            key = f"{shown}#{row_id}" if row_id is not None else f"{shown}:{number}"
            if binary:
                reason = f"column {text_column!r} holds binary data, not text"
                context.bad_record(_row_named(key, number), reason)
                yield Row(key, digest, len(canonical), None, reason)
                continue
            read = read_record(shown, number, record, context)
            if isinstance(read, RecordSkipped):  # malformed, or neither text nor title: listed (up to the cap)
                replace(read, where=_row_named(key, number)).report(context)  # not `<url>:<n>`, read_record's
                yield Row(key, digest, len(canonical), None, read.reason)  # the row keeps its reason, listed or not
                continue
            if key in indexed and id_column is not None:  # as in JSON Lines: the first row read with the id is
                # indexed, named by its id and place (`<url>:<n>` read as a line, or as a row without an id)
                context.skip_record(_row_named(key, number), f"duplicate id {str(record[id_column])!r}")
                continue
            indexed.add(key)
            # the row's text is its own source: a passage cites its line in the text, not the row's place in
            # the result (read_record numbered the record by it, as a JSON Lines record by its line)
            document = replace(read, path=key, line=1, line_map=None, metadata=metadata)
            yield Row(key, digest, len(canonical), document)
        # one warning, as for a file (rows are fetched in batches: which row is not known)
        if (warning := text.decodings.warning(shown, "text value")) is not None:
            context.warn(warning)


def _refuse_a_statement_that_is_no_query(shown: str, query: str, backend: str) -> None:
    """Refuse a statement that is no query before connecting: PostgreSQL told `DELETE`, `SHOW` or
    `EXPLAIN` as a "syntax error" (the query runs inside `DECLARE CURSOR`), and SQLite as a write; a
    database's own read-only statements (SQLite's `PRAGMA table_info`, MySQL's `SHOW`) still run."""
    keyword = re.findall(r"^\w*", _LEADING_RE.sub("", query, count=1))[0]
    if keyword.upper() not in (*QUERY_KEYWORDS, *READ_KEYWORDS.get(backend, ())):
        raise InputFormatError(
            f"{shown}: --sql takes a single query ({', '.join(QUERY_KEYWORDS)} …); {keyword or 'this'} is not one",
            hint="ragcli only reads: give the query whose rows are the documents",
        )


def _refuse_a_chosen_column_twice(shown: str, repeated: dict[str, int], roles: dict[str | None, str]) -> None:
    """Refuse a name that several columns have (`repeated`) among the id, text and title columns
    (`roles`): which one was meant cannot be known. A row was a dict of its columns by name, so the last
    won, silently: `SELECT *` over a join keyed the posts by the users' id and dropped rows as duplicates."""
    for name, role in roles.items():
        if name in repeated:
            raise InputFormatError(
                f"{shown}: the query returns {_columns_named({name: repeated[name]})}, its {role} column",
                hint=f"alias them apart (SELECT a.{name}, b.{name} AS b_{name} …), "
                f"or name another column with --{role}-field",
            )


def _columns_named(repeated: dict[str, int]) -> str:
    """ "2 columns named 'id'", for each name several columns have."""
    return ", ".join(f"{count} columns named {name!r}" for name, count in repeated.items())


def _row_named(key: str, number: int) -> str:
    """A row as a skip names it: its key and its place in the result (`<url>:<n>` would read as a line)."""
    return f"{key} (row {number} of the result)"


class _SqliteText:
    """SQLite's TEXT as `str`: UTF-8, else (bytes a program stored unchecked) as a file is read
    (`decode_text`: UTF-8 with a few bad bytes replaced, cp1252, Latin-1); one such value stopped the whole index (exit 6, "Could not decode to UTF-8 column")."""

    def __init__(self) -> None:
        self.decodings = DecodingTally()  # values read as cp1252/latin-1, or with bad bytes replaced

    def __call__(self, data: bytes) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return self.decodings.text(decode_text(data))

    def from_bytes(self, data: bytes) -> str | None:
        """A text or title column's bytes (a BLOB a program stored, a `bytea`) read as TEXT is; None where
        they look binary (a NUL byte, as a binary file is told). They were taken for NULL, silently."""
        return None if looks_binary(data) else self(data)


def _engine(url: URL, shown: str, password: str | None, text: _SqliteText) -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SAWarning
    from sqlalchemy.pool import NullPool

    options: dict[str, Any] = {"poolclass": NullPool}
    if _is_sqlite_file(url):
        path = Path(os.path.realpath(str(url.database)))
        if not path.is_file():
            raise PathNotFoundError(f"{shown}: no such database file", hint="check the path after sqlite:///")
        if url.drivername in ("sqlite", "sqlite+pysqlite"):
            import sqlite3

            readonly = f"file:{quote(str(path))}?mode=ro"  # read-only: never creates or changes the file
            if _wal_at_rest(path):
                readonly += "&immutable=1"
            options["creator"] = lambda: _read_only_sqlite(sqlite3, readonly, text)
        url = url.set(database=str(path))
    if password is not None:
        url = url.set(password=password)
    if _libpq(url) and "client_encoding" not in url.query:
        options["connect_args"] = {"client_encoding": "utf8"}
    try:
        if url.get_dialect().is_async:  # create_engine took it, and connecting failed as an internal error
            raise InvalidOptionError(
                f"{shown}: {url.drivername!r} is an asyncio driver; ragcli reads through a synchronous one",
                hint="postgresql+psycopg://, postgresql://, sqlite:///…",
            )
        with warnings.catch_warnings():  # one line and exit 2, not a two-line Python warning with a source line
            warnings.simplefilter("error", SAWarning)
            return create_engine(url, **options)
    except SAWarning as exc:
        raise InvalidOptionError(f"{shown}: {mask_secrets(str(exc))}") from None
    except NoSuchModuleError:
        raise InvalidOptionError(f"{shown}: no SQLAlchemy driver {url.drivername!r}", hint=_driver_hint(url)) from None
    except ArgumentError as exc:  # a dialect refusing the URL (it was an internal error, exit 1)
        problem = mask_secrets((str(exc).strip().splitlines() or [type(exc).__name__])[0])
        raise InvalidOptionError(f"{shown}: not a database URL ({problem})") from None
    except ModuleNotFoundError as exc:
        raise MissingExtraError(
            f"{shown}: the database driver is not installed ({exc.name})",
            hint=f"{INSTALL_HINT}, or the driver's package",
        ) from None


def _driver_hint(url: URL) -> str:
    """What to write instead of an unknown driver: `postgres://` (Heroku's and many a DATABASE_URL's
    scheme) is `postgresql://` to SQLAlchemy, so say that rather than list the usual URLs."""
    if url.get_backend_name() == "postgres":
        rest = url.drivername.partition("+")[2]
        return f"write postgresql{'+' + rest if rest else ''}://, SQLAlchemy's name for PostgreSQL"
    return "postgresql://, postgresql+psycopg://, sqlite:///…"


def _libpq(url: URL) -> bool:
    """Whether `url` connects through libpq, which takes `client_encoding`: a `SQL_ASCII` database sends
    its own bytes to a client that asks for none, and SQLAlchemy's version check failed on them as an
    internal error (exit 1); asked for UTF-8, the server refuses a value that is not (exit 6)."""
    return url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2")


@contextmanager
def _connected(url: str, text: _SqliteText | None = None) -> Iterator[tuple[Any, str]]:
    """A read-only connection to `url` and the URL as shown; a database error (connection refused,
    authentication failed, bad SQL) inside the block is one line without the password."""
    parsed = _parse(url)
    shown = render(public_url(parsed))
    password = _password(parsed)
    engine = _engine(parsed, shown, password, text or _SqliteText())
    hint = _connect_hint(parsed, password)
    from sqlalchemy.exc import SQLAlchemyError

    connected = False
    try:
        with engine.connect() as connection:
            connected = True
            _read_only(connection, parsed)
            _dates_out_of_range_as_text(connection)
            yield connection, shown
    except SQLAlchemyError as exc:
        raise _database_error(exc, shown, connected, hint) from None
    finally:
        engine.dispose()


def _password(url: URL) -> str | None:
    """The URL's password, else `RAGCLI_SQL_PASSWORD` for a database that takes one: a SQLite URL has
    none, and the variable set made every SQLite root fail ("Invalid SQLite URL", an internal error)."""
    if url.password is not None:
        return str(url.password)
    if url.get_backend_name() == "sqlite":
        return None
    return os.environ.get(PASSWORD_ENV) or None


def _connect_hint(url: URL, password: str | None) -> str:
    """What to check when connecting fails. A URL without a password (every stored one, so every plain
    re-index) names where the password then comes from, in the order they are tried."""
    if password is not None or url.get_backend_name() == "sqlite":
        return "check the URL, server and password"
    libpq = ", else libpq's PGPASSWORD or ~/.pgpass" if _libpq(url) else ""
    return f"check the URL and server; the URL has no password (none is stored): it comes from {PASSWORD_ENV}{libpq}"


def _wal_at_rest(path: Path) -> bool:
    """Whether `path` is a WAL-mode database that no one is writing (no `-wal` file beside it). It is opened
    `immutable=1`: with `mode=ro` alone SQLite creates `-wal` and `-shm` files beside it (the readers'
    shared memory), though nothing is written. Where a `-wal` file is there (a writer at work, or changes
    it left not yet in the database file) it is opened as usual, to read those changes; SQLite may then
    add the `-shm` file the writer's connections use too."""
    try:
        with path.open("rb") as file:
            header = file.read(20)
    except OSError:  # unreadable: SQLite says so when it opens it
        return False
    return header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x02\x02" and not Path(f"{path}-wal").exists()


def _read_only_sqlite(sqlite3: Any, uri: str, text: _SqliteText) -> Any:
    """A connection to the file at `uri` (mode=ro) that attaches no other database: `--sql "ATTACH
    DATABASE 'x.db' AS a"` and `"VACUUM INTO 'x.db'"` created empty files though the query failed."""
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    connection.text_factory = text
    return connection


def _identifier(name: str) -> str:
    """A table name as SQL may write it: double-quoted unless it is a plain lower-case identifier."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


def _read_only(connection: Any, url: URL) -> None:
    """Make the transaction read-only where the database can (the SQL is the user's, the intent is to read)."""
    backend = url.get_backend_name()
    if backend == "postgresql":
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
    elif backend == "sqlite":
        connection.exec_driver_sql("PRAGMA query_only = ON")


# PostgreSQL's date and time types whose values may not fit Python's: `infinity`, years past 9999 or BC,
# `24:00:00`, intervals past 999,999,999 days
_PYTHON_BOUNDED_TYPES = ("date", "timestamp", "timestamptz", "time", "timetz", "interval")


def _dates_out_of_range_as_text(connection: Any) -> None:
    """Have psycopg hand over a date or time that Python cannot hold as the server's text ('infinity',
    '294276-01-01 00:00:00', '4713-01-01 BC'), for this connection only. psycopg raises on such a
    value, and one `infinity` anywhere in the result failed the whole index (exit 6) though the value
    would only have been metadata. Other drivers are left as they are."""
    driver = connection.connection.driver_connection
    if type(driver).__module__.partition(".")[0] != "psycopg":  # psycopg 3 only (not psycopg2, asyncpg…)
        return
    adapters = driver.adapters
    from psycopg.pq import Format

    for name in _PYTHON_BOUNDED_TYPES:
        info = adapters.types.get(name)
        strict = adapters.get_loader(info.oid, Format.TEXT) if info is not None else None
        if info is not None and strict is not None:
            adapters.register_loader(info.oid, _text_when_out_of_range(strict))


def _text_when_out_of_range(strict: type[Loader]) -> type[Loader]:
    """A psycopg loader that loads with `strict` (the driver's own), and gives the server's text where
    `strict` refuses the value."""
    from psycopg import DataError
    from psycopg.adapt import Loader

    class TextWhenOutOfRange(Loader):
        def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
            super().__init__(oid, context)
            self._strict = strict(oid, context)

        def load(self, data: Buffer) -> Any:
            try:
                return self._strict.load(data)
            except DataError:
                return bytes(data).decode("utf-8", "replace")

    return TextWhenOutOfRange


_BUSY = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED (https://sqlite.org/rescode.html)


def _database_error(exc: BaseException, shown: str, connected: bool, connect_hint: str) -> InputFormatError:
    """One line: where, and the database's own first line (connection refused, authentication failed,
    a syntax error…), never the password."""
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    # masked where the password is one by its place (a URL's `user:password@`, a `password=…` of a
    # connection string), never wherever its text is: a password `port` or `pages` garbled "…, port 5432
    # failed" or `relation "pages2"` and so told what it is. Drivers do not echo a password elsewhere.
    problem = mask_secrets(lines[0] if lines else type(original).__name__)[:300]
    # SQLITE_BUSY and SQLITE_LOCKED, primary result codes: the low byte of the extended one (the constants
    # and `sqlite_errorcode` are Python 3.11's: on 3.10 the hint is the general one)
    code = getattr(original, "sqlite_errorcode", None) if isinstance(original, sqlite3.Error) else None
    if isinstance(code, int) and code & 0xFF in _BUSY:
        # a writer holds the file (after SQLite's 5 s wait): it was blamed on the query ("check the query")
        return InputFormatError(
            f"{shown}: {problem}", hint="another program is writing the database file; try again when it is done"
        )
    if not connected:
        return InputFormatError(f"{shown}: cannot connect ({problem})", hint=connect_hint)
    if type(original) is sqlite3.DatabaseError:
        # SQLite opens any file and fails at the first read: "file is not a database", "database disk image
        # is malformed" (its other errors, a query's, are subclasses: OperationalError and the like)
        return InputFormatError(
            f"{shown}: {problem}",
            hint="the URL must name a SQLite database file; this is another kind of file, or a damaged one",
        )
    if getattr(original, "sqlstate", None) == "0A000" and problem.startswith("DECLARE CURSOR"):
        # PostgreSQL: a WITH holding INSERT, UPDATE or DELETE (its cursor refuses it; SQLite: a syntax error)
        return InputFormatError(
            f"{shown}: the query changes data (INSERT, UPDATE or DELETE in its WITH)",
            hint="ragcli only reads: give a query that changes nothing",
        )
    return InputFormatError(f"{shown}: {problem}", hint="check the query given with --sql")


READER = SqlReader()
