"""What a build is asked to do (`BuildSettings`) and what it did (`BuildReport`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ragcli.analysis import AnalyzerSettings
from ragcli.chunking import ChunkSettings
from ragcli.readers.base import DEFAULT_MAX_BYTES, TEXT_VERSION, RecordFields
from ragcli.readers.markup import MARKUP_VERSION
from ragcli.readers.records import RECORDS_VERSION
from ragcli.readers.selection import Selection
from ragcli.records import Skipped

# (file, files done, files in all, passages so far[, (bytes read, size) within a big file])
ProgressCallback = Callable[..., None]
EmbedProgress = Callable[..., None]  # (passages embedded, passages to embed[, "loading" while the model loads])


@dataclass
class BuildSettings:
    analyzer: AnalyzerSettings = field(default_factory=AnalyzerSettings)
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    fields: RecordFields = field(default_factory=RecordFields)
    # settings per retriever, e.g. {"bm25": BM25Params(k1=1.2), "dense": EmbeddingSettings()}. A retriever
    # not named here gets its defaults; an optional one (dense) keeps what the index had, else is not built.
    retrievers: dict[str, Any] = field(default_factory=dict)
    drop: frozenset[str] = frozenset()  # optional retrievers whose data to remove (--no-dense)
    strict: bool = False  # --strict: a malformed record stops the build; by default it is skipped and listed
    # the most one file read whole (after decompression), or one line of a JSON Lines file, may hold
    max_expanded_bytes: int = DEFAULT_MAX_BYTES
    # --generated: read lock files, minified bundles and generated code too (`readers.generated`); recorded
    # under "reading": turning it on or off reads every file again
    generated: bool = False
    rebuild: bool = False  # ignore the existing index and read everything again
    # which files of the folders walked are read (ignore files, --include/--exclude); recorded in the
    # manifest, not part of `compatibility`: another selection reuses the passages of the files it keeps
    selection: Selection = field(default_factory=Selection)
    jobs: int | None = None  # tokenising processes (default: the CPU count, at most 4)
    sql: str | None = None  # the query run on each database URL root (None: the one the index was built with)
    ray: str | None = None  # --ray: count and embed on this Ray cluster ("auto": this machine's); not recorded

    def workers(self) -> int:
        """Tokenising processes: --jobs, never more than the CPUs (tokenising is CPU-bound, and each
        process holds its own interpreter: --jobs 1000 would start a thousand), else up to 4 of them."""
        cpus = os.cpu_count() or 1
        return min(self.jobs, cpus) if self.jobs else max(1, min(cpus, 4))

    def compatibility(self) -> dict[str, Any]:
        """What an existing index must share with this build for its passages to be reused."""
        return {
            "analyzer": self.analyzer.to_dict(),
            "chunking": self.chunking.to_dict(),
            "fields": {"id": self.fields.id, "text": self.fields.text, "title": self.fields.title},
            # a new limit may read more (or less); records 2: title-only records and record metadata are read
            "reading": {
                "max_expanded_bytes": self.max_expanded_bytes,
                "records": RECORDS_VERSION,
                "markup": MARKUP_VERSION,
                "text": TEXT_VERSION,
                "generated": self.generated,
            },
        }


@dataclass
class BuildReport:
    """What a build did, for the summary line and `--json`."""

    index_dir: str
    documents: int
    passages: int
    terms: int
    files: int
    skipped: list[Skipped]
    warnings: list[str]
    seconds: float
    size_bytes: int = 0  # the index on disk: payloads and manifest
    new: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    unchanged_skipped: int = 0  # of `unchanged`, files skipped before and left out again (not read)
    touched: int = 0  # of `unchanged`, files with a new modification time (recorded, not read): why "Updated"
    restated: int = 0  # of `unchanged`, files with only a new ctime or inode (recorded, not read): why "Updated"
    newer_reader: int = 0  # of `unchanged`, files read again by a newer version of their reader
    up_to_date: bool = False
    ignored: int = 0  # files and folders left out by ignore files and --include/--exclude
    # rows of database roots: read, then what was done with them (the row is the unit of reuse)
    rows: int = 0
    rows_new: int = 0
    rows_changed: int = 0
    rows_removed: int = 0
    rows_unchanged: int = 0
    files_read: int = 0  # of `files`, those read into the index (the others are in `skipped`)
    # what was done to the retrievers' data beyond rebuilding it as it was (`build.retriever_updates`)
    updated: list[dict[str, Any]] = field(default_factory=list)
    # what a re-index changed: settings given on the command line (`stored.Change.to_dict`), roots
    settings_changed: list[dict[str, Any]] = field(default_factory=list)
    roots_added: list[str] = field(default_factory=list)
    roots_removed: list[str] = field(default_factory=list)
    # when the roots changed: the recorded globs and ignore setting (not the defaults) that apply to them
    selection_kept: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index_dir,
            "documents": self.documents,
            "passages": self.passages,
            "terms": self.terms,
            "files": self.files,
            "files_read": self.files_read,
            "files_new": self.new,
            "files_changed": self.changed,
            "files_removed": self.removed,
            "files_unchanged": self.unchanged,
            "files_unchanged_skipped": self.unchanged_skipped,
            "files_touched": self.touched,
            "files_restated": self.restated,
            "files_newer_reader": self.newer_reader,
            "up_to_date": self.up_to_date,
            "ignored": self.ignored,
            "rows": self.rows,
            "rows_new": self.rows_new,
            "rows_changed": self.rows_changed,
            "rows_removed": self.rows_removed,
            "rows_unchanged": self.rows_unchanged,
            "skipped": [s.to_dict() for s in self.skipped],
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
            "updated": self.updated,
            "settings_changed": self.settings_changed,
            "roots_added": self.roots_added,
            "roots_removed": self.roots_removed,
            "selection_kept": self.selection_kept,
        }
