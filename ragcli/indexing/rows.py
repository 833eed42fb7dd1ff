"""Building from URL roots (SQL databases): the row is the unit of reuse.

A URL root is read by the reader that claims it (`readers.base.UrlReader`), which streams rows, each
with the SHA-256 of its values. A row is a source of the manifest under the key `<url>#<id>` (the URL
without its password): a row whose key and hash an earlier build recorded keeps its passages and term
counts (runs of such rows are copied as one range); a new or changed row is split and counted; a row
no longer selected is dropped. Unlike files, rows are only known by running the query, so a build with
a URL root always writes a new generation, reusing what it can.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragcli.chunking import split_document
from ragcli.errors import InvalidOptionError
from ragcli.indexing.columns import PassageColumns
from ragcli.indexing.counting import BATCH_PASSAGES, Task, count_surfaces, reused
from ragcli.indexing.settings import BuildSettings, ProgressCallback
from ragcli.readers.base import UrlReader, is_url, url_reader_for
from ragcli.readers.walk import CorpusReader
from ragcli.records import Skipped
from ragcli.retrieval.index import Index

PROGRESS_ROWS = 1000  # rows between two progress calls


@dataclass
class UrlRoot:
    url: str  # as given (may hold a password: never shown or stored)
    shown: str  # as stored and shown: no password
    reader: UrlReader


@dataclass
class RowCounts:
    """What a build did with the rows of its URL roots (the `rows_*` keys of `index --json`)."""

    rows: int = 0  # rows read (skipped ones included)
    new: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0


def split_roots(paths: Sequence[str | Path]) -> tuple[list[Path], list[UrlRoot]]:
    """File roots and URL roots (each with the reader that claims it), each once; a URL no reader claims
    is a usage error, and a malformed one too (checked here, before anything is read)."""
    files: list[Path] = []
    urls: list[UrlRoot] = []
    for root in paths:
        if not is_url(root):
            if _real(root) not in {_real(f) for f in files}:  # "r/b r/b/ ./r/b": one root
                files.append(Path(root))
            continue
        url = str(root)
        reader = url_reader_for(url)
        if reader is None:
            scheme = url.split("://", 1)[0]
            raise InvalidOptionError(
                f"no reader for {scheme}:// URLs", hint="a database URL (sqlite:///…, postgresql://…), or a path"
            )
        shown = reader.display(url)
        if shown not in {u.shown for u in urls}:
            urls.append(UrlRoot(url, shown, reader))
    return files, urls


def root_names(files: list[Path], urls: list[UrlRoot]) -> list[str]:
    """The roots as the manifest records them: absolute paths, then URLs without passwords."""
    return [str(_real(r)) for r in files] + [u.shown for u in urls]


def _real(path: str | Path) -> Path:
    """The absolute path `path` leads to. Not Path.resolve, which raises RuntimeError on a symbolic link
    loop in Python 3.11: a loop is named as given here, and refused by `require_roots` (exit 4)."""
    return Path(os.path.realpath(path))


def check_query(urls: list[UrlRoot], query: str | None) -> None:
    """A query is given exactly when a URL root is (validated before any work)."""
    if urls and not (query and query.strip()):
        suggest = getattr(urls[0].reader, "query_hint", None)  # optional: the SQL reader names the tables
        hint = suggest(urls[0].url) if suggest is not None else '--sql "SELECT id, title, body …"'
        raise InvalidOptionError(f"{urls[0].shown}: a database needs a query", hint=hint)
    if query is not None and not urls:
        raise InvalidOptionError(
            "--sql needs a database URL to run on", hint='ragcli index "sqlite:///notes.db" --sql …'
        )


def _reusable(reader: CorpusReader, old: Index, entry: dict[str, Any]) -> bool:
    """Whether an unchanged row's passages may be copied: its id is its own (not qualified because a file
    held it, which may since have changed) and no source read before it took it."""
    first, last = entry["passages"]
    if entry.get("shared_ids"):
        return False
    with old.reused("passages"):
        return first >= last or reader.ids_free([old.passages.doc_ids[first]])


def row_tasks(
    reader: CorpusReader,
    urls: list[UrlRoot],
    query: str | None,
    old: Index | None,
    settings: BuildSettings,
    columns: PassageColumns,
    sources: list[dict[str, Any]],
    counts: RowCounts,
    progress: tuple[ProgressCallback, int, int] | None,
) -> Iterator[Task]:
    """Streams the rows of each URL root, filling `columns` and `sources` and yielding counting tasks
    (as `build._tasks` does for files); `counts` says what was reused."""
    # by key and hash: a key may name several rows (a row skipped, then the row read with its id)
    rows = [s for s in old.manifest.get("sources", []) if is_url(s["path"])] if old else []
    previous = {(s["path"], s.get("sha256")): s for s in rows}
    keys = {s["path"] for s in rows}  # what was new, changed or removed is said by key
    seen: set[str] = set()
    pending: list[str] = []
    span: list[int] = []  # [first, last) of old passages reused by consecutive unchanged rows, not yet copied

    def size() -> int:  # passages so far, the pending reused span included
        return len(columns) + (span[1] - span[0] if span else 0)

    def flush_reuse() -> Iterator[Task]:
        if span and old is not None:
            with old.reused("passages"):
                columns.extend_from(old, span[0], span[1])
                reader.claim_ids(old.passages.doc_ids[i] for i in range(span[0], span[1]))
            yield reused, (span[0], span[1])
        span.clear()

    for number, root in enumerate(urls, start=1):
        reader.context.start_file()
        for row in root.reader.rows(root.url, query, reader.context):
            counts.rows += 1
            seen.add(row.key)
            entry = previous.get((row.key, row.sha256))
            start = size()
            if old is not None and entry is not None and _reusable(reader, old, entry):
                counts.unchanged += 1
                first, last = entry["passages"]
                if first < last:
                    if span and span[1] != first:
                        yield from flush_reuse()
                    if pending:
                        yield count_surfaces, (pending, settings.analyzer)
                        pending = []
                    span[:] = [span[0] if span else first, last]
                if entry.get("skipped") and row.document is not None:  # a malformed row the reader reported again
                    reader.report.skipped.append(Skipped(row.key, entry["skipped"], record=True))
                sources.append({**entry, "passages": [start, start + last - first]})
            else:
                yield from flush_reuse()
                counts.new += row.key not in keys
                counts.changed += row.key in keys and entry is None
                counts.unchanged += entry is not None
                skipped, shared = row.skipped, 0
                if row.document is not None and reader.accept(row.document):
                    shared = reader.shared_ids
                    # the row's other columns, and which reader it came from, as the walk gives a file's
                    columns.start_document({**row.document.metadata, "format": root.reader.name})
                    for passage in split_document(row.document, settings.chunking):
                        columns.add(passage)
                        pending.append(passage.index_text)
                        if len(pending) >= BATCH_PASSAGES:
                            yield count_surfaces, (pending, settings.analyzer)
                            pending = []
                elif row.document is not None:
                    skipped = "empty text" if not row.document.text.strip() else f"duplicate id {row.document.id!r}"
                sources.append(
                    {
                        "path": row.key,
                        "sha256": row.sha256,
                        "bytes": row.size,
                        "mtime_ns": None,
                        "documents": int(skipped is None),
                        "passages": [start, len(columns)],
                        "skipped": skipped,
                        **({"shared_ids": shared} if shared else {}),
                    }
                )
            if progress is not None and counts.rows % PROGRESS_ROWS == 0:
                callback, done, total = progress
                callback(root.shown, done + number - 1, total, size())
        unlisted = reader.context.unlisted(root.shown)
        if unlisted is not None:
            reader.report.skipped.append(unlisted)
        if progress is not None:
            callback, done, total = progress
            callback(root.shown, done + number, total, size())
    yield from flush_reuse()
    if pending:
        yield count_surfaces, (pending, settings.analyzer)
    counts.removed = len(keys - seen)
