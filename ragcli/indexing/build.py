"""Building an index: plan → read and split → count terms → each registered retriever's payload → write.

Made for large corpora and frequent re-runs: term counting runs on all cores (ragcli.indexing.counting),
passage texts are spooled to disk (ragcli.indexing.columns), and re-indexing is incremental
(ragcli.indexing.plan): unchanged files are copied from the existing index and the retrievers'
global statistics are recomputed from the stored counts. The payloads are written as a new
generation and published with one atomic manifest swap (ragcli.store).
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragcli.analysis import Analyzer
from ragcli.chunking import split_document
from ragcli.errors import (
    EmptyCorpusError,
    InvalidOptionError,
    NewerIndexError,
    NoIndexError,
    PluginError,
    RagcliError,
    listed,
)
from ragcli.indexing.columns import PassageColumns
from ragcli.indexing.counting import (
    BATCH_PASSAGES,
    CountMatrixBuilder,
    Task,
    count_all,
    count_surfaces,
    counts_payload,
    reused,
)
from ragcli.indexing.plan import (
    Plan,
    estimate_passages,
    intact,
    lost_reader_warnings,
    matched_by_content,
    plan_build,
    replaced_index,
    reusable_index,
)
from ragcli.indexing.rows import RowCounts, UrlRoot, check_query, root_names, row_tasks, split_roots
from ragcli.indexing.settings import BuildReport, BuildSettings, EmbedProgress, ProgressCallback
from ragcli.readers.base import indexed_base, is_url
from ragcli.readers.selection import Selection
from ragcli.readers.walk import CorpusReader, require_roots
from ragcli.records import COUNTS_FILE, METADATA_FILE, PASSAGES_FILE, TERMS_FILE, Skipped
from ragcli.retrieval.base import RETRIEVERS, BuildInput, TaskRunner, built_retrievers
from ragcli.retrieval.index import CORE_SCHEMAS, Index, load_index
from ragcli.retrieval.lexicon import lexicon_payload
from ragcli.retrieval.sparse import SparseRetriever
from ragcli.safeload import PASSAGES_SCHEMA
from ragcli.store import (
    BuildLock,
    GenerationWriter,
    index_lock,
    index_size,
    load_payload,
    manifest_identity,
    read_manifest,
    remove_leftovers,
    resolve_index_dir,
    same_payload,
)

BIG_FILE = 1 << 20  # bytes: progress within a file this large (one JSON Lines file can be a whole corpus)
ROOTS_HINT = 'build_index(["docs/"], index_dir) takes a list of files and folders'
PROGRESS_DOCUMENTS = 64  # documents of one file between two looks at how far it is read

if TYPE_CHECKING:
    from ragcli.indexing.distributed import RayRunner


def stored_roots(index_dir: str | Path | None) -> list[str | Path]:
    """The roots an existing index was built from (`ragcli index` without paths re-reads them): paths,
    and database URLs as strings (without their passwords)."""
    try:
        roots = read_manifest(resolve_index_dir(index_dir)).get("roots") or []
    except NoIndexError:
        raise InvalidOptionError("no PATH given and no index to re-read", hint="ragcli index PATH...") from None
    return [r if is_url(r) else Path(r) for r in roots]


def _stored_query(target: Path) -> str | None:
    """The SQL an existing index ran on its database roots (a re-index without --sql runs it again)."""
    try:
        query = read_manifest(target).get("sql")
    except RagcliError:
        return None
    return query if isinstance(query, str) else None


def chosen_retrievers(settings: BuildSettings, previous: dict[str, Any] | None) -> dict[str, Any]:
    """Retriever name → the settings this build writes its payload with (see `BuildSettings.retrievers`)."""
    for name, given in settings.retrievers.items():
        named = RETRIEVERS.get(name)
        if named.payload is None:
            raise InvalidOptionError(f"retriever {name!r} builds nothing at index time")
        expected = type(named.default_settings())  # another retriever's settings failed deep in its build
        if not isinstance(given, expected):
            raise InvalidOptionError(f"retriever {name!r} takes {expected.__name__}, not {type(given).__name__}")
    chosen: dict[str, Any] = {}
    for retriever in built_retrievers():
        if retriever.name in settings.drop:
            continue
        if retriever.name in settings.retrievers:
            chosen[retriever.name] = settings.retrievers[retriever.name]
        elif previous is not None and previous.get(retriever.name):  # its settings stick (tfidf, a plugin's)
            chosen[retriever.name] = retriever.settings_from(previous[retriever.name])
        elif not retriever.optional:
            chosen[retriever.name] = retriever.default_settings()
    _keeps_broken_data(previous or {}, settings)
    _keeps_unregistered_data(previous or {}, settings)
    return chosen


KEEP_HINT = "reinstall that package, or rebuild without it with `ragcli index PATH --rebuild`"


def _keeps_broken_data(previous: dict[str, Any], settings: BuildSettings) -> None:
    """Refuse (exit 15) a re-index that would silently drop the data of a retriever whose plugin cannot
    be loaded now: a broken install is more likely than a wish to lose that data."""
    for name, section in previous.items():
        if section and name not in settings.drop and (error := RETRIEVERS.broken(name)) is not None:
            raise PluginError(f"{error.message}; the index holds its data, which this build would drop", hint=KEEP_HINT)


def _keeps_unregistered_data(previous: dict[str, Any], settings: BuildSettings) -> None:
    """Refuse (exit 15) a re-index that would silently drop a payload no registered retriever writes:
    the data of a retriever whose plugin was uninstalled (its entry point gone, so nothing says it is
    broken). The manifest lists every payload; those neither the core nor a retriever claims are such
    data, named `<retriever>.joblib` by convention (`settings.drop` naming the retriever drops it)."""
    claimed = {*CORE_SCHEMAS, *(r.payload for r in built_retrievers())}
    for file in previous.get("files") or {}:
        name = Path(file).stem
        if file not in claimed and name not in settings.drop and RETRIEVERS.broken(name) is None:
            raise PluginError(
                f"the index holds {file}, the data of retriever {name!r}, which is no longer registered "
                "(its plugin package is not installed); this build would drop it",
                hint=KEEP_HINT,
            )


def _tasks(
    reader: CorpusReader,
    files: list[Path],
    plan: Plan,
    old: Index | None,
    settings: BuildSettings,
    columns: PassageColumns,
    sources: list[dict[str, Any]],
    progress: ProgressCallback | None,
    urls: list[UrlRoot],
    rows: RowCounts,
) -> Iterator[Task]:
    """Walks the files in order, then the rows of the URL roots (`indexing.rows`), filling `columns` and
    `sources`, and yields the counting tasks for the rows in the same order: batches of texts to
    tokenise, and ranges of reused rows."""
    pending: list[str] = []
    for number, path in enumerate(files, start=1):
        rel = reader.relative(path)
        start = len(columns)
        entry = plan.reuse.get(rel)
        ids = _free_ids(reader, old, entry) if entry is not None and old is not None else None
        if entry is not None and old is not None and ids is not None:
            first, last = entry["passages"]
            if pending:
                yield count_surfaces, (pending, settings.analyzer)
                pending = []
            with old.reused("passages"):
                columns.extend_from(old, first, last, mtime=entry.get("mtime_ns"))
            reader.claim_ids(ids)
            yield reused, (first, last)
            _report_as_before(reader, entry)
            sources.append({**entry, "passages": [start, len(columns)]})
        else:
            documents = 0
            for document in reader.read_file(path):
                documents += not document.continuation  # a later page or segment is the same document
                if progress is not None and documents % PROGRESS_DOCUMENTS == 0:
                    position = reader.read_position()  # one big file: bytes read of its size
                    if position is not None and position[1] >= BIG_FILE:
                        progress(str(path), number - 1, len(files) + len(urls), len(columns), position)
                if not document.continuation:
                    columns.start_document(document.metadata)
                for passage in split_document(document, settings.chunking):
                    columns.add(passage)
                    pending.append(passage.index_text)
                    if len(pending) >= BATCH_PASSAGES:
                        yield count_surfaces, (pending, settings.analyzer)
                        pending = []
            source = reader.last_source
            if source is not None:  # its times as opened (the walk's fstat): an edit while it was read shows
                sources.append(
                    {
                        "path": rel,
                        "sha256": source.sha256,
                        "bytes": source.size,
                        "mtime_ns": source.mtime_ns,
                        "ctime_ns": source.ctime_ns,
                        "inode": source.inode,
                        "documents": documents,
                        "passages": [start, len(columns)],
                        "skipped": source.skipped,
                        **({"skipped_records": source.skipped_records} if source.skipped_records else {}),
                        **({"shared_ids": source.shared_ids} if source.shared_ids else {}),
                        **({"reader": source.reader} if source.reader else {}),
                        **({"warnings": source.warnings} if source.warnings else {}),
                    }
                )
        if progress is not None:
            progress(str(path), number, len(files) + len(urls), len(columns))
    if pending:
        yield count_surfaces, (pending, settings.analyzer)
    if urls:
        where = (progress, len(files), len(files) + len(urls)) if progress is not None else None
        yield from row_tasks(reader, urls, settings.sql, old, settings, columns, sources, rows, where)


def _report_as_before(reader: CorpusReader, entry: dict[str, Any]) -> None:
    """What the build that read a file reported of it, reported again for the file reused unread, so that a
    re-index says what a fresh build would: the file skipped whole, its records left out (one entry
    counting them by kind), its warnings."""
    rel = entry["path"]
    if entry.get("skipped"):
        reader.report.skipped.append(Skipped(rel, entry["skipped"]))
    counted: dict[str, int] = entry.get("skipped_records") or {}
    if counted:
        reader.report.skipped.append(Skipped.counted(rel, counted, "records skipped, as before"))
    reader.report.warnings.extend(entry.get("warnings") or [])


def _free_ids(reader: CorpusReader, old: Index, entry: dict[str, Any]) -> list[str] | None:
    """An unchanged file's document ids, if its passages may be copied: None when a file read before it
    took one of them (it is read again, and its ids qualified as a full build would)."""
    first, last = entry["passages"]
    with old.reused("passages"):
        ids = old.passages.doc_ids.strings(first, last)
    return ids if reader.ids_free(ids) else None


def build_index(
    paths: Sequence[str | Path],
    index_dir: str | Path | None = None,
    settings: BuildSettings | None = None,
    *,
    wait: bool = False,
    lock: BuildLock | None = None,
    progress: ProgressCallback | None = None,
    embed_progress: EmbedProgress | None = None,
) -> BuildReport:
    """Index the files and folders in `paths` into `index_dir`, reusing what an earlier build of the
    same roots and settings already holds; the result replaces the old index atomically. `lock`: the
    build lock on `index_dir` when the caller holds it already (`stored.reindex`, which decides the roots
    and settings under it); else it is taken here (`wait`: queued behind another build). What the index
    recorded (the folder its paths are relative to, the SQL query) is read once the lock is held, so a
    build that waited follows the one it waited for."""
    paths = _roots_given(paths)
    if settings is not None and not isinstance(settings, BuildSettings):  # a dict failed deep inside
        raise InvalidOptionError(f"settings must be BuildSettings, not {type(settings).__name__}")
    settings = settings or BuildSettings()
    settings.selection.check()
    started = time.perf_counter()
    target = resolve_index_dir(index_dir)
    roots, urls = split_roots(paths)  # a URL root (a database) is read by its reader, row by row
    names = root_names(roots, urls)
    require_roots(roots)  # a missing root (exit 4) and the query are checked before any work,
    seen = manifest_identity(target)  # and the query read again under the lock if the manifest changed
    checked = _with_query(settings, urls, target)
    dense = settings.retrievers.get("dense")
    if dense is not None:  # an encoder-decoder (T5) is exit 9 now, not once the corpus is read
        from ragcli.retrieval.embedder import check_embedding_model

        check_embedding_model(getattr(dense, "model", None))
    runner = _runner(settings)  # joins the cluster (or says why not) before any file is read
    try:
        with nullcontext(lock) if lock is not None else index_lock(target, wait=wait) as held:
            if held.manifest != seen:  # another build published meanwhile: the query it recorded counts
                checked = _with_query(settings, urls, target)
            return _build(target, checked, roots, urls, names, held, progress, embed_progress, runner, started)
    finally:
        if runner is not None:
            runner.close()


def _with_query(settings: BuildSettings, urls: list[UrlRoot], target: Path) -> BuildSettings:
    """`settings` with the SQL query the index recorded, when a database root is read without --sql
    (a re-index runs it again); refused when there is none to run, or no database to run one on."""
    if urls and settings.sql is None:
        settings = replace(settings, sql=_stored_query(target))
    check_query(urls, settings.sql)
    return settings


def _roots_given(paths: object) -> list[str | Path]:
    """The roots `build_index` was given, checked: one string would be read letter by letter (a
    folder per letter), and no roots at all would reach the build as an empty corpus."""
    roots: list[str | Path] = listed(paths, "paths to index", "a path to index", (str, Path), hint=ROOTS_HINT)
    if not roots:
        raise InvalidOptionError("no paths to index", hint=ROOTS_HINT)
    return roots


def _runner(settings: BuildSettings) -> RayRunner | None:
    """The Ray cluster a `--ray` build spreads its work over (None: this machine), and a check that an
    embedding device asked for exists, before any work starts."""
    dense = settings.retrievers.get("dense")
    cuda = getattr(dense, "device", "cpu") == "cuda"
    if settings.ray is None:
        if cuda:
            from ragcli.retrieval.embedder import check_cuda_here

            check_cuda_here()
        return None
    from ragcli.indexing.distributed import RayRunner

    runner = RayRunner(settings.ray, gpu=cuda)
    if cuda:
        runner.check_gpus()
    return runner


def _build(
    target: Path,
    settings: BuildSettings,
    roots: list[Path],
    urls: list[UrlRoot],
    names: list[str],
    lock: BuildLock,
    progress: ProgressCallback | None,
    embed_progress: EmbedProgress | None,
    runner: TaskRunner | None,
    started: float,
) -> BuildReport:
    """The build itself, holding the index's lock: everything read from the index is read from here on."""
    recorded = _recorded_manifest(target, settings.rebuild)
    reader = CorpusReader(
        roots,
        fields=settings.fields,
        exclude=target,
        strict=settings.strict,
        max_bytes=settings.max_expanded_bytes,
        selection=settings.selection,
        base=_previous_base(recorded, roots),
        generated=settings.generated,
    )
    if not lock.read_only:  # on a read-only file system nothing can be removed (the writes fail, exit 12)
        remove_leftovers(target)
    replaced = replaced_index(target, settings)
    old = reusable_index(replaced, settings, reader.base)
    if old is not None and not old.has_payload(METADATA_FILE):
        old = None  # built before document metadata was stored: read every file again to get it
    chosen = chosen_retrievers(settings, old.manifest if old is not None else None)
    files = list(reader.files())
    plan = plan_build(reader, files, old)
    selection = settings.selection.to_dict()
    same_selection = old is not None and old.manifest.get("selection", Selection().to_dict()) == selection
    # rows are known only by running the query: a build with a database root always writes
    up_to_date = (
        same_selection
        and not urls
        and plan.new == plan.changed == plan.removed == plan.touched == plan.restated == plan.newer_reader == 0
        and not plan.lost_readers
    )
    rebuilt = () if up_to_date else _from_counts(chosen)  # a rewrite copies the retrievers' payloads
    if old is not None and (not up_to_date or _rewrite_needed(old, chosen)) and not intact(old, rebuilt):
        old = None  # damaged since it was written: build from the files alone, never copy the damage
        plan = plan_build(reader, files, None)
    files += plan.kept_unread
    reader.report.warnings.extend(lost_reader_warnings(plan))
    for folder, kept in plan.unreadable.items():
        noun = "file" if len(kept) == 1 else "files"
        reader.report.warnings.append(
            f"{reader.shown(folder)}: could not be read; the index keeps its {len(kept):,} {noun} from before, unread"
        )
    same_roots = old is not None and old.manifest.get("roots") == names
    if up_to_date and same_roots and old is not None:
        for path in plan.read:  # unsupported files: recorded as skipped again, not read
            list(reader.read_file(path))
        updated = _rewrite(old, lock, chosen, embed_progress, runner) if _rewrite_needed(old, chosen) else []
        counts = old.manifest["counts"]
        for entry in old.manifest["sources"]:
            _report_as_before(reader, entry)
        return BuildReport(
            index_dir=str(target),
            documents=counts["documents"],
            passages=counts["passages"],
            terms=counts["terms"],
            files=len(files),
            skipped=reader.report.skipped,
            warnings=reader.report.warnings,
            seconds=time.perf_counter() - started,
            size_bytes=load_index(target).size_bytes(),
            unchanged=plan.unchanged,
            unchanged_skipped=plan.reused_skips,
            up_to_date=not updated,
            ignored=reader.report.ignored,
            files_read=_files_read(reader, files, reader.report.skipped),
            updated=updated,
        )
    columns = PassageColumns(spill_dir=target)
    try:
        counter = CountMatrixBuilder(Analyzer(settings.analyzer))
        sources: list[dict[str, Any]] = []
        row_counts = RowCounts()
        tasks = _tasks(reader, files, plan, old, settings, columns, sources, progress, urls, row_counts)
        count_all(tasks, counter, old, settings.workers(), estimate_passages(plan), runner)
        files = _without_deleted(reader, files, plan)
        passages = len(columns)
        if not passages:
            hint = _skip_hint(reader, rows=row_counts.rows if all(map(is_url, names)) else None)
            message, hint = _still_held(target, f"no text to index in {', '.join(names)}", hint)
            raise EmptyCorpusError(message, hint=hint, skipped=reader.report.skipped)
        matrix, vocabulary = counter.finish()
        kept_ids = counter.kept_ids()
        del counter
        doc_ids = columns.strings["doc_id"].table()
        documents = len(set(doc_ids.strings(0, len(doc_ids))))
        manifest = {
            "built": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "roots": names,
            **({"base": str(reader.base.resolve())} if any(not is_url(name) for name in names) else {}),
            "selection": selection,
            **({"sql": settings.sql} if urls else {}),
            **settings.compatibility(),
            "counts": {
                "documents": documents,
                "passages": passages,
                "terms": len(vocabulary),
                "tokens": int(matrix.sum()),
            },
            "sources": sources,
        }
        with GenerationWriter(target, lock) as writer:
            writer.write(PASSAGES_FILE, columns.payload())
            columns.close()  # the spooled texts are written: their memory goes to what follows, not more
            # retrievers read the passages back memory-mapped: the in-memory columns are freed first
            passage_payload = load_payload(writer.folder / PASSAGES_FILE, schema=PASSAGES_SCHEMA)
            if old is not None and kept_ids is not None:
                with old.reused("vocabulary"):
                    terms = lexicon_payload(vocabulary, reused=(old.lexicon, kept_ids))
                    unchanged = same_payload(terms, old.payload(TERMS_FILE))
            else:
                terms, unchanged = lexicon_payload(vocabulary), False
            if old is not None and unchanged:  # the same vocabulary: the earlier file, linked
                writer.keep(old.path, old.manifest, TERMS_FILE, partial(dict, terms))
            else:
                writer.write_behind(TERMS_FILE, terms)
            writer.write_behind(COUNTS_FILE, counts_payload(matrix))
            writer.write_behind(METADATA_FILE, columns.metadata.payload())
            # passages copied from `old`, or none: what is matched by content may still come from the index
            content = old if old is not None else matched_by_content(replaced, _not_from_counts(chosen))
            data = BuildInput(
                matrix, passage_payload, old, embed_progress, work_dir=target, runner=runner, replaced=content
            )
            updated = _write_retrievers(writer, manifest, chosen, data, previous=old)
            writer.publish(manifest, checked=True)
            size = index_size(target, writer.files)
    finally:
        columns.close()
    return BuildReport(
        index_dir=str(target),
        documents=documents,
        passages=passages,
        terms=len(vocabulary),
        files=len(files),
        files_read=_files_read(reader, files, reader.report.skipped),
        updated=updated,
        skipped=reader.report.skipped,
        warnings=reader.report.warnings,
        seconds=time.perf_counter() - started,
        size_bytes=size,
        new=plan.new,
        changed=plan.changed,
        removed=plan.removed,
        unchanged=plan.unchanged,
        unchanged_skipped=plan.reused_skips,
        touched=plan.touched,
        restated=plan.restated,
        newer_reader=plan.newer_reader,
        ignored=reader.report.ignored,
        rows=row_counts.rows,
        rows_new=row_counts.new,
        rows_changed=row_counts.changed,
        rows_removed=row_counts.removed,
        rows_unchanged=row_counts.unchanged,
    )


def _still_held(target: Path, message: str, hint: str) -> tuple[str, str]:
    """The "nothing to index" error of a build over an existing index, which it leaves as it was (an
    index of no passages is not written): the message says how many passages of the files read before
    stay searchable, and the hint how to drop them."""
    try:
        held = read_manifest(target)["counts"]["passages"]
    except (RagcliError, KeyError, TypeError):
        return message, hint
    noun = "passage" if held == 1 else "passages"
    return (
        f"{message}; the index is left as it was: it still holds {held:,} {noun} of the files read before",
        f"{hint}; delete {target} to drop them, or index other files into it with PATH --replace-roots",
    )


def _skip_hint(reader: CorpusReader, rows: int | None = None) -> str:
    """What was skipped, for the "nothing to index" error: the first few with their reasons (`rows`: how
    many rows a database query gave, when only databases were read: "no supported files" is no answer
    to a query that returned none)."""
    skipped = reader.report.skipped
    shown = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:3])
    more = f"; and {len(skipped) - 3} more{EmptyCorpusError.ALL_LISTED}" if len(skipped) > 3 else ""
    left_out = reader.report.ignored  # "--include '*.md'" in a folder of .txt files: the selection left them
    noun = "file or folder" if left_out == 1 else "files and folders"
    parts = [f"{left_out} {noun} left out by --include/--exclude or an ignore file"] if left_out else []
    parts += [f"{len(skipped)} skipped: {shown}{more}"] if skipped else []
    if not parts and rows == 0:
        return "the --sql query returned no rows"
    return "; ".join(parts) or "no supported files found"


def _write_retrievers(
    writer: GenerationWriter,
    manifest: dict[str, Any],
    chosen: dict[str, Any],
    data: BuildInput,
    keep_from: Index | None = None,
    previous: Index | None = None,
) -> list[dict[str, Any]]:
    """Each chosen retriever's payload, built (or copied from `keep_from` when its settings are unchanged);
    a retriever not chosen loses its manifest section. Returns what was done beyond a plain rebuild
    (`retriever_updates`), compared with `previous` (by default `keep_from`)."""
    before = previous if previous is not None else keep_from
    recorded_before = {r.name: before.manifest.get(r.name) for r in built_retrievers()} if before is not None else {}
    kept: list[str] = []
    for retriever in built_retrievers():
        assert retriever.payload is not None
        if retriever.name not in chosen:
            manifest.pop(retriever.name, None)
            continue
        settings = chosen[retriever.name]
        recorded = keep_from.manifest.get(retriever.name) if keep_from is not None else None
        if (
            keep_from is not None
            and recorded
            and keep_from.has_payload(retriever.payload)
            and retriever.same(settings, recorded)
        ):
            payload = partial(keep_from.payload, retriever.payload)
            writer.keep(keep_from.path, keep_from.manifest, retriever.payload, payload)
            kept.append(retriever.name)
            continue
        built = retriever.build(settings, data)
        writer.write_behind(retriever.payload, built.payload)  # while the next retriever builds
        manifest[retriever.name] = built.manifest
    return retriever_updates(recorded_before, manifest, kept) if before is not None else []


def retriever_updates(
    before: dict[str, Any], manifest: dict[str, Any], kept: Collection[str] = ()
) -> list[dict[str, Any]]:
    """What a build did to each retriever's data, compared with the index before it, for messages that
    say what was done: data added or removed, sparse weights recomputed with other settings (with the
    settings changed), vectors embedded (how many). `kept`: retrievers whose payload was copied as it was,
    nothing done to it (their manifest section, and the counts it holds, are the earlier build's)."""
    updates: list[dict[str, Any]] = []
    for retriever in built_retrievers():
        old, new = before.get(retriever.name), manifest.get(retriever.name)
        if retriever.name in kept or (not old and not new):
            continue
        if not new:
            updates.append({"retriever": retriever.name, "action": "removed"})
            continue
        embedded = new.get("embedded") if isinstance(new.get("embedded"), int) else None
        resumed = new.get("from_checkpoint") if isinstance(new.get("from_checkpoint"), int) else None
        old_settings = old.get("settings", old) if old else {}
        new_settings = new.get("settings", new)
        changed = {
            key: [old_settings.get(key), value]
            for key, value in new_settings.items()
            if isinstance(old_settings, dict)
            and old_settings.get(key) != value
            and key not in ("embedded", "reused", "from_checkpoint")
        }
        if not old:
            action = "added"
        elif changed:
            action = "rebuilt"
        elif embedded or resumed:
            action = "extended"
        else:
            continue
        update: dict[str, Any] = {"retriever": retriever.name, "action": action}
        if changed and old:
            update["changed"] = changed
        if embedded is not None:
            update["embedded"] = embedded
        if resumed is not None:  # vectors an interrupted build embedded, taken from its checkpoint
            update["from_checkpoint"] = resumed
        updates.append(update)
    return updates


def _without_deleted(reader: CorpusReader, files: list[Path], plan: Plan) -> list[Path]:
    """The files walked, less those deleted before their read (`ReadReport.deleted`), which `plan` then
    counts as removed: gone, not unreadable."""
    deleted = set(reader.report.deleted)
    for rel in deleted:
        plan.deleted(rel)
    return [path for path in files if reader.relative(path) not in deleted] if deleted else files


def _files_read(reader: CorpusReader, files: list[Path], skipped: list[Skipped]) -> int:
    """How many of the files walked were read into the index (the skipped ones are counted apart; a file
    some of whose records were skipped was read)."""
    left_out = {s.path for s in skipped if not s.record}
    return sum(1 for path in files if reader.relative(path) not in left_out)


def _previous_base(manifest: dict[str, Any] | None, roots: list[Path]) -> Path | None:
    """The folder the index's paths are relative to, when a build may keep it: the one the index
    recorded (`manifest`), if it still holds every root of this build (so adding or removing a root
    keeps the other files' paths, and their passages are reused). A root typed through a symbolic link
    is where the link leads: the recorded folder is resolved, as the recorded roots are."""
    base = indexed_base(manifest) if manifest is not None else None
    if base is None or not roots:
        return None
    for root in roots:
        folder = root.absolute() if root.is_dir() else root.absolute().parent
        if not (folder.is_relative_to(base) or folder.resolve().is_relative_to(base.resolve())):
            return None
    return base


def _recorded_manifest(target: Path, rebuild: bool) -> dict[str, Any] | None:
    """The index's manifest, read once the lock is held (None: there is none, or it is unreadable, and
    the index is built afresh). An index a newer ragcli wrote is never built over in the older format
    (what it recorded would be lost) unless --rebuild asks: NewerIndexError (exit 8)."""
    try:
        return read_manifest(target)
    except NewerIndexError:
        if rebuild:
            return None
        raise
    except RagcliError:
        return None


def _from_counts(chosen: dict[str, Any]) -> list[str]:
    """The payloads of the chosen retrievers that a build computes from the counts alone (the sparse
    ones), never reading their previous payload."""
    return [  # `__class__`, not type(): a plugin's part is handed out Guarded, which answers as the part's class
        r.payload
        for r in built_retrievers()
        if r.name in chosen
        and r.payload
        and isinstance(r, SparseRetriever)
        and r.__class__.build is SparseRetriever.build
    ]


def _not_from_counts(chosen: dict[str, Any]) -> list[str]:
    """The payloads of the chosen retrievers that a build does not compute from the counts alone: what it
    may take, matched by content, from the index it replaces (dense vectors)."""
    from_counts = _from_counts(chosen)
    return [r.payload for r in built_retrievers() if r.name in chosen and r.payload and r.payload not in from_counts]


def _rewrite_needed(index: Index, chosen: dict[str, Any]) -> bool:
    """Whether the chosen retriever settings differ from what the index holds."""
    for retriever in built_retrievers():
        recorded = index.manifest.get(retriever.name)
        if (retriever.name in chosen) != bool(recorded):
            return True
        if recorded and not retriever.same(chosen[retriever.name], recorded):
            return True
    return False


def _rewrite(
    index: Index,
    lock: BuildLock,
    chosen: dict[str, Any],
    embed_progress: EmbedProgress | None = None,
    runner: TaskRunner | None = None,
) -> list[dict[str, Any]]:
    """Same passages, other retriever settings (new BM25 parameters, dense vectors added or dropped): the
    changed payloads are rebuilt from the stored counts, written as a new generation like a build, so
    readers see the old index or the new one."""
    manifest = {k: v for k, v in index.manifest.items() if k not in ("files", "generation")}
    with GenerationWriter(lock.index_dir, lock) as writer:
        for name in (PASSAGES_FILE, TERMS_FILE, COUNTS_FILE, METADATA_FILE):
            if index.has_payload(name):  # the same bytes: linked where the file system allows
                writer.keep(index.path, index.manifest, name, partial(index.payload, name))
        data = BuildInput(
            index.counts_matrix(),
            index.payload(PASSAGES_FILE),
            index,
            embed_progress,
            work_dir=lock.index_dir,
            runner=runner,
            replaced=index,
        )
        updated = _write_retrievers(writer, manifest, chosen, data, keep_from=index)
        writer.publish(manifest, checked=True)
    return updated


def reweight(index_dir: str | Path | None, retrievers: dict[str, Any], *, wait: bool = False) -> None:
    """Store new settings for some retrievers of an index (e.g. `ragcli tune --apply`'s BM25 k1 and b),
    keeping the others as they are; nothing is read from the corpus again."""
    target = resolve_index_dir(index_dir)
    with index_lock(target, wait=wait, create=False) as lock:
        index = load_index(target)
        # chosen_retrievers keeps what the index recorded for every retriever not named here
        _rewrite(index, lock, chosen_retrievers(BuildSettings(retrievers=retrievers), index.manifest))
