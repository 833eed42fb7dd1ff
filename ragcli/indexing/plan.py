"""Planning a (re)build: which files to read again and which to copy from the existing index.

A file whose size, modification and status-change times and inode, or else whose SHA-256, is unchanged
keeps its passages and term counts from the existing index; changed files are re-read, deleted ones
dropped, new ones added. A file with the same content and a new modification time is copied with that
time (the manifest's and its documents' `mtime`), so the index says what a full build would. A file that
another reader, or a newer version of its reader, would read is read again
(`readers.base.reader_edition`). The files a folder held that the walk could not list (no permission for
a while) are kept unread, as an unreadable file is: they are not known to be gone.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from ragcli.errors import RagcliError
from ragcli.indexing.settings import BuildSettings
from ragcli.readers.base import READERS, indexed_base, is_url, reader_edition, reader_for, recorded_edition
from ragcli.readers.walk import CorpusReader
from ragcli.records import METADATA_FILE
from ragcli.retrieval.base import built_retrievers
from ragcli.retrieval.index import Index, load_index
from ragcli.store import verify_checksums


@dataclass
class Plan:
    """What a (re)build does with each file."""

    read: list[Path]
    reuse: dict[str, dict[str, Any]]  # relative path → old source entry (passages copied)
    new: int = 0
    changed: int = 0
    removed: int = 0
    reread: int = 0  # unchanged files read again all the same (their ids depend on other files)
    newer_reader: int = 0  # of `reread`, files read again because a newer version of their reader reads them
    # of `reread`, files whose recorded reader (a plugin) is not installed now or cannot be loaded: its name → files
    lost_readers: dict[str, int] = field(default_factory=dict)
    touched: int = 0  # of `reuse`, files with a new modification time: copied, their recorded time updated
    restated: int = 0  # of `reuse`, files with only a new status or inode (a chmod, an older index): recorded anew
    # of `reuse`, the files of each folder the walk could not list (`CorpusReader.unreadable_folders`)
    unreadable: dict[Path, list[Path]] = field(default_factory=dict)
    counted_as: dict[str, str] = field(default_factory=dict)  # a file read: the count it is in (new, changed…)
    indexed: frozenset[str] = frozenset()  # the files the existing index holds

    def deleted(self, rel: str) -> None:
        """File `rel`, read by this build, was deleted before its read: counted as removed (if the index
        held it), no longer as new, changed or read again."""
        counter = self.counted_as.pop(rel, None)
        if counter is not None:
            setattr(self, counter, getattr(self, counter) - 1)
        self.removed += rel in self.indexed

    @property
    def kept_unread(self) -> list[Path]:
        """The files of folders that could not be listed, which the build copies as it copies a walked
        file's passages (they come after the walked files)."""
        return [path for kept in self.unreadable.values() for path in kept]

    @property
    def unchanged(self) -> int:
        """Files whose content is what the existing index read."""
        return len(self.reuse) + self.reread

    @property
    def reused_skips(self) -> int:
        """Unchanged files that an earlier build skipped (a damaged PDF): left out again, not read."""
        return sum(1 for entry in self.reuse.values() if entry.get("skipped"))


class FileState(NamedTuple):
    """What a re-index compares a file by before hashing it."""

    size: int
    mtime_ns: int
    ctime_ns: int  # its status change: a chmod (its mtime left as it was), a rename over it
    inode: int  # another file renamed to its name: same size and mtime (tar, cp -p), another inode

    def matches(self, entry: dict[str, Any]) -> bool:
        """Whether the file is the one `entry` (its record in the manifest) describes, as it was: the same
        size, modification and status-change times and inode (git's rule). An entry recorded without them
        (an older index) matches nothing, so the file is hashed: the status is unknown."""
        return (entry.get("bytes"), entry.get("mtime_ns"), entry.get("ctime_ns"), entry.get("inode")) == self

    def recorded(self) -> dict[str, int]:
        """The times and inode as a file's record keeps them, for the next re-index to compare."""
        return {"mtime_ns": self.mtime_ns, "ctime_ns": self.ctime_ns, "inode": self.inode}


def stat_key(path: Path) -> FileState | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return FileState(stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def _same_content(reader: CorpusReader, path: Path, size: int, entry: dict[str, Any]) -> bool:
    """Whether a file whose mtime changed still holds what the index read: the same size, then the same
    SHA-256. A file of another size is not hashed, nor one recorded without its hash (skipped unread)."""
    recorded = entry.get("sha256")
    return size == entry.get("bytes") and bool(recorded) and reader.sha256(path) == recorded


def _newer_reader(path: Path, entry: dict[str, Any]) -> bool:
    """Whether the file would now be read by another reader, or another version of its reader, than the
    one the index records (a supported file: `reader_for` finds one)."""
    claims = reader_for(path)
    return claims is not None and recorded_edition(entry, claims) != reader_edition(claims)


def _lost_reader(entry: dict[str, Any]) -> str | None:
    """The reader the index records for a file when it is not installed now, or cannot be loaded (a plugin
    uninstalled or broken): the file is read again by another reader, which is no better reading."""
    edition = entry.get("reader")
    name = edition.split("/")[0] if isinstance(edition, str) else None
    return name if name is not None and (name not in READERS or not READERS.loads(name)) else None


def lost_reader_warnings(plan: Plan) -> list[str]:
    """One warning for each reader `plan` re-reads files of because it is gone (`Plan.lost_readers`)."""
    return [
        f"{count} {'file' if count == 1 else 'files'} read by reader {name!r}, which is not installed now"
        " (or cannot be loaded): read again by another reader, or skipped"
        for name, count in plan.lost_readers.items()
    ]


def plan_build(reader: CorpusReader, files: list[Path], old: Index | None) -> Plan:
    if old is None:
        read = [reader.relative(path) for path in files if reader.supported(path)]
        return Plan(read=files, reuse={}, new=len(read), counted_as=dict.fromkeys(read, "new"))
    previous = {s["path"]: s for s in old.manifest.get("sources", []) if not is_url(s["path"])}  # rows: rows.py
    plan = Plan(read=[], reuse={}, indexed=frozenset(previous))
    seen = set()
    paths = {}
    for path in files:
        key = stat_key(path)
        if key is None and not os.path.lexists(path):
            continue  # deleted since the walk listed it: removed, if the index held it
        rel = reader.relative(path)
        seen.add(rel)
        paths[rel] = path
        entry = previous.get(rel)
        if not reader.supported(path):
            plan.read.append(path)  # skipped again, without reading
        elif entry is None:
            plan.new += 1
            plan.counted_as[rel] = "new"
            plan.read.append(path)
        elif _newer_reader(path, entry):
            plan.reread += 1
            plan.counted_as[rel] = "reread"
            plan.read.append(path)
            if (lost := _lost_reader(entry)) is not None:
                plan.lost_readers[lost] = plan.lost_readers.get(lost, 0) + 1
            else:
                plan.newer_reader += 1
        elif key is not None and key.matches(entry):
            plan.reuse[rel] = entry
        elif key is not None and _same_content(reader, path, key.size, entry):
            plan.reuse[rel] = {**entry, **key.recorded()}
            if key.mtime_ns == entry.get("mtime_ns"):
                plan.restated += 1
            else:
                plan.touched += 1
        else:
            plan.changed += 1
            plan.counted_as[rel] = "changed"
            plan.read.append(path)
    for folder in reader.unreadable_folders:
        within = reader.relative(folder)
        kept = [rel for rel in previous if rel not in seen and _within(rel, within)]
        seen.update(kept)
        plan.reuse.update((rel, previous[rel]) for rel in kept)
        if kept:
            plan.unreadable[folder] = [reader.base / rel for rel in kept]
    plan.removed = len(set(previous) - seen)
    if plan.new or plan.changed or plan.removed or plan.newer_reader:
        # a file whose ids another held was indexed with qualified ids (`CorpusReader._keep`): read it
        # again, as the files that held them may be the ones that changed (one that cannot be read: kept)
        for rel in [rel for rel, entry in plan.reuse.items() if entry.get("shared_ids") and rel in paths]:
            del plan.reuse[rel]
            plan.read.append(paths[rel])
            plan.reread += 1
            plan.counted_as[rel] = "reread"
    return plan


def _within(rel: str, folder: str) -> bool:
    """Whether the recorded path `rel` lies inside `folder` (both relative to the indexed folder; "."
    is that folder): a path that climbs out (`..`) lies nowhere."""
    parts = PurePosixPath(rel).parts
    if not parts or ".." in parts or parts[0] == "/":
        return False
    return folder == "." or rel.startswith(folder.rstrip("/") + "/")


def replaced_index(target: Path, settings: BuildSettings) -> Index | None:
    """The index at `target` that this build replaces, opened: None when there is none, it cannot be
    opened (damaged, another format), or `--rebuild` asks for a build that takes nothing from it."""
    if settings.rebuild:
        return None
    try:
        return load_index(target)
    except RagcliError:
        return None


def reusable_index(index: Index | None, settings: BuildSettings, base: Path) -> Index | None:
    """The replaced `index`, if this build may copy passages from it: same settings, and paths relative to
    the same folder `base` (a root added or removed keeps the others' passages), and
    everything a build reads from it (passages, vocabulary, counts, the retrievers' settings and
    payloads) passes the checks a query's loading does. A damaged or crafted index is not reused: the
    build reads everything again, so `ragcli index PATH` is always the way out of a damaged index."""
    if index is None:
        return None
    manifest = index.manifest
    wanted = settings.compatibility()
    recorded = {k: manifest.get(k) for k in wanted}
    if recorded["reading"] is None:  # built before the read limit existed: its files were read in full
        recorded["reading"] = wanted["reading"]
    elif "generated" not in recorded["reading"]:  # built before generated files were left out: it read them
        recorded["reading"] = {**recorded["reading"], "generated": True}
    same = recorded == wanted
    recorded_base = indexed_base(manifest)
    same_base = recorded_base.resolve() == base.resolve() if recorded_base is not None else True
    if not (same and same_base and "sources" in manifest):
        return None
    try:
        _ = (index.passages, index.lexicon, index.counts_matrix())  # loaded for their checks
        if index.has_payload(METADATA_FILE):  # a truncated one made every build "up to date", every query fail
            index.payload(METADATA_FILE)
        for retriever in built_retrievers():
            recorded = index.settings_of(retriever.name)
            if recorded is not None and retriever.payload is not None and index.has_payload(retriever.payload):
                index.payload(retriever.payload)
    except RagcliError:
        return None
    return index


def matched_by_content(index: Index | None, payloads: Collection[str]) -> Index | None:
    """The replaced `index` for a build that cannot copy its passages (other analyzer or chunking, another
    base folder) but whose retrievers may still take what they match by content from its `payloads`
    (dense vectors by passage hash: embedding is the slow part), when each of them it holds loads with a
    query's checks and still has the checksum it was written with; None when it holds none of them or
    one is damaged (its data is computed afresh, never copied damaged)."""
    held = [name for name in payloads if index is not None and index.has_payload(name)]
    if index is None or not held:
        return None
    try:
        for name in held:
            index.payload(name)
    except RagcliError:
        return None
    return index if intact(index, rebuilt=set(index.manifest["files"]) - set(held)) else None


def intact(index: Index, rebuilt: Collection[str] = ()) -> bool:
    """Whether every payload of `index` still has the checksum it was written with (a build that copies
    from a damaged index would give the damage fresh checksums). `rebuilt`: payloads the build writes
    anew without reading them (BM25's and TF-IDF's weights, computed from the counts), not checked."""
    try:
        verify_checksums(index.path, index.manifest, skip=rebuilt)
    except RagcliError:
        return False
    return True


def estimate_passages(plan: Plan) -> int:
    """A rough passage count (≈ one per 600 bytes) to decide whether workers pay off."""
    total = 0
    for path in plan.read:
        key = stat_key(path)
        total += (key.size if key else 0) // 600
    return total
