"""The settings an index was built with, named as `ragcli index`'s options, and what a re-index changes.

A re-index (`ragcli index` without paths, or with the index's own roots) builds with the settings the
index recorded in its manifest; only an option given on the command line replaces its recorded value,
and the build reports each change ("language en → es"). `STORED` names every option of `ragcli index`
that is such a setting and `PER_RUN` those that shape one run only; a test checks that every option is
in exactly one of them and that each stored one survives a plain re-index.

The roots are settings too: `choose_roots` keeps them, adds (`--add`), removes (`--remove`) or, only
when asked (`--replace-roots`), replaces them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from shlex import quote
from typing import Any

from ragcli.analysis import AnalyzerSettings
from ragcli.chunking import ChunkSettings
from ragcli.errors import (
    IndexDamagedError,
    InvalidOptionError,
    NewerIndexError,
    NoIndexError,
    PathNotFoundError,
    RagcliError,
    look_up,
)
from ragcli.indexing.build import build_index
from ragcli.indexing.rows import root_names, split_roots
from ragcli.indexing.settings import BuildReport, BuildSettings, EmbedProgress, ProgressCallback
from ragcli.readers.base import DEFAULT_MAX_BYTES, RecordFields, is_url
from ragcli.readers.selection import Selection
from ragcli.readers.walk import require_roots
from ragcli.retrieval.bm25 import BM25Params
from ragcli.store import Identity, index_busy, index_lock, manifest_identity, read_manifest, resolve_index_dir

# the options of `ragcli index` that are settings of the index (recorded, reused by a re-index)
STORED = (
    *("language", "stopwords", "stem", "chunk_size", "chunk_overlap"),
    *("id_field", "text_field", "title_field", "max_expanded_size", "generated"),
    *("include", "exclude", "ignore", "sql"),
    *("bm25_variant", "k1", "b", "delta", "dense", "embedding_model", "embedding_precision"),
)
# the options that shape one run only (how, not what): never recorded
PER_RUN = (
    *(
        "paths",
        "index_dir",
        "name",
        "add",
        "remove",
        "ray",
        "device",
        "replace_roots",
        "rebuild",
        "jobs",
        "embedding_batch_size",
    ),
    *("strict", "skip_invalid", "wait", "quiet", "verbose", "json_output"),
)
# how a change is shown: "chunk size 200 → 80"
LABELS = {
    "language": "language",
    "stopwords": "stopwords",
    "stem": "stemming",
    "chunk_size": "chunk size",
    "chunk_overlap": "chunk overlap",
    "id_field": "id field",
    "text_field": "text field",
    "title_field": "title field",
    "max_expanded_size": "max expanded size",
    "generated": "generated files",
    "include": "include",
    "exclude": "exclude",
    "ignore": "ignore files",
    "sql": "SQL query",
    "bm25_variant": "BM25 variant",
    "k1": "BM25 k1",
    "b": "BM25 b",
    "delta": "BM25 delta",
    "dense": "dense vectors",
    "embedding_model": "embedding model",
    "embedding_precision": "embedding precision",
}
_EMBEDDING_DEFAULTS = {"embedding_model": "all-MiniLM-L6-v2", "embedding_precision": "int8"}


def show_value(value: Any) -> str:
    """A setting's value as people read it: on/off, a list joined by commas, "-" for none."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None or value == [] or value == ():
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class Change:
    """One setting a re-index changed."""

    setting: str  # the option's name in `STORED`
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{LABELS.get(self.setting, self.setting)} {show_value(self.old)} → {show_value(self.new)}"

    def to_dict(self) -> dict[str, Any]:
        return {"setting": self.setting, "from": self.old, "to": self.new}


def _section(manifest: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = manifest.get(key)
    return value if isinstance(value, Mapping) else {}


def recorded_settings(manifest: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every setting in `STORED` as the index recorded it; one an older index lacks is the default it was
    built with (a new index: every default). A section no build could have written is damage (exit 7)."""
    try:
        return _recorded(manifest or {})
    except (InvalidOptionError, ValueError, TypeError, KeyError) as exc:
        raise IndexDamagedError(
            f"the index's recorded settings cannot be read ({exc})", hint="rebuild it with `ragcli index PATH`"
        ) from None


def _recorded(m: Mapping[str, Any]) -> dict[str, Any]:
    analyzer = AnalyzerSettings.from_dict(dict(_section(m, "analyzer")))
    chunking = _section(m, "chunking")
    fields = _section(m, "fields")
    reading = _section(m, "reading")
    selection = Selection.from_dict(m.get("selection"))
    bm25 = BM25Params.from_dict(dict(_section(m, "bm25")))
    # an index built before generated files were left out read them; a new one (no section) does not
    generated = reading.get("generated", bool(reading))
    if not isinstance(generated, bool):
        raise ValueError(f"reading.generated is {generated!r}, not true or false")
    dense = _section(_section(m, "dense"), "settings")
    return {
        "language": analyzer.language,
        "stopwords": analyzer.stopwords,
        "stem": analyzer.stem,
        "chunk_size": int(chunking.get("size", ChunkSettings.size)),
        "chunk_overlap": int(chunking.get("overlap", ChunkSettings.overlap)),
        "id_field": fields.get("id"),
        "text_field": fields.get("text"),
        "title_field": fields.get("title"),
        "max_expanded_size": int(reading.get("max_expanded_bytes", DEFAULT_MAX_BYTES)),
        "generated": generated,
        "include": list(selection.include),
        "exclude": list(selection.exclude),
        "ignore": selection.ignore_files,
        "sql": m.get("sql") if isinstance(m.get("sql"), str) else None,
        "bm25_variant": bm25.variant,
        "k1": bm25.k1,
        "b": bm25.b,
        "delta": bm25.delta,
        "dense": bool(dense),
        "embedding_model": dense.get("model", _EMBEDDING_DEFAULTS["embedding_model"]),
        "embedding_precision": dense.get("precision", _EMBEDDING_DEFAULTS["embedding_precision"]),
    }


def chosen_variant(index_dir: str | Path | None, given: Mapping[str, Any]) -> str:
    """The BM25 variant a build with the options `given` uses: the one given, else the index's
    (the default for a new or unreadable index, which a build replaces), so that `ragcli index` can
    say before the build that an option given does not apply to it."""
    if "bm25_variant" in given:
        return str(given["bm25_variant"])
    try:
        manifest: Mapping[str, Any] | None = read_manifest(resolve_index_dir(index_dir))
        return str(recorded_settings(manifest)["bm25_variant"])
    except RagcliError:
        return str(recorded_settings(None)["bm25_variant"])


def existing_manifest(
    index_dir: str | Path | None, *, paths_given: bool = True, rebuild: bool = False
) -> dict[str, Any] | None:
    """The manifest of the index at `index_dir`, or None when there is none to follow: none yet, or a
    damaged one when PATHS are given (built afresh from them with the defaults). Without PATHS the
    damage is the error (exit 7 or 8, as `query` says), not "no index". An index of a newer format is
    refused (exit 8) unless --rebuild replaces it from the PATHS given."""
    try:
        manifest = read_manifest(resolve_index_dir(index_dir))
        recorded_settings(manifest)  # readable settings, else the index is damaged
        _bm25(manifest, {}, recorded_settings(manifest))
    except NoIndexError:
        return None
    except NewerIndexError:
        if rebuild and paths_given:
            return None
        raise
    except RagcliError:
        if paths_given:
            return None
        raise
    return manifest


def reindex_settings(
    manifest: Mapping[str, Any] | None,
    given: Mapping[str, Any],
    *,
    embedding_batch_size: int | None = None,
    device: str = "cpu",
    **per_run: Any,
) -> tuple[BuildSettings, list[Change]]:
    """The settings of a (re)build: what `manifest` recorded (the defaults without one), with the options
    the user gave (`given`: option name → value, only those given explicitly) replacing theirs; and the
    changes this makes to the recorded settings. `per_run`: `BuildSettings` fields of this run only
    (rebuild, jobs, strict, wait …)."""
    unknown = set(given) - set(STORED)
    if unknown:
        raise ValueError(f"not a stored setting: {', '.join(sorted(unknown))}")
    before = recorded_settings(manifest)
    if "embedding_model" in given:  # the packaged model's folder is the default model, not a change
        from ragcli.retrieval.embedder import recorded_model_name

        given = {**given, "embedding_model": recorded_model_name(given["embedding_model"])}
    values = {**before, **given}
    if "chunk_overlap" not in given and before["chunk_overlap"] == default_overlap(before["chunk_size"]):
        values["chunk_overlap"] = default_overlap(values["chunk_size"])  # never given: it follows the size
    _check_overlap(values, given, recorded=manifest is not None)
    recorded_dense = manifest is not None and bool(_section(_section(manifest, "dense"), "settings"))
    embedding = [name for name in ("embedding_model", "embedding_precision") if name in given]
    if embedding and (values["dense"] is False or (not recorded_dense and "dense" not in given)):
        option = "--" + embedding[0].replace("_", "-")
        raise InvalidOptionError(f"{option} applies to dense vectors, which this build has none of", hint="add --dense")
    bm25 = _bm25(manifest, given, values)
    retrievers: dict[str, Any] = {"bm25": bm25}
    if values["dense"]:
        from ragcli.retrieval.embedder import EmbeddingSettings, precision_on

        dense_section = _section(_section(manifest or {}, "dense"), "settings")
        dense = EmbeddingSettings.from_dict(dict(dense_section)) if recorded_dense else EmbeddingSettings()
        precision = values["embedding_precision"] = precision_on(device, values["embedding_precision"])
        retrievers["dense"] = replace(
            dense,
            model=values["embedding_model"],
            precision=precision,
            batch_size=embedding_batch_size or dense.batch_size,
            device=device,
        )
    settings = BuildSettings(
        analyzer=AnalyzerSettings(language=values["language"], stopwords=values["stopwords"], stem=values["stem"]),
        chunking=ChunkSettings(size=values["chunk_size"], overlap=values["chunk_overlap"]),
        fields=RecordFields(id=values["id_field"], text=values["text_field"], title=values["title_field"]),
        retrievers=retrievers,
        drop=frozenset() if values["dense"] else frozenset({"dense"}),
        max_expanded_bytes=values["max_expanded_size"],
        generated=values["generated"],
        selection=Selection(tuple(values["include"]), tuple(values["exclude"]), bool(values["ignore"])),
        sql=given.get("sql"),  # else the query the index was built with, when a root is a database
        **per_run,
    )
    settings.selection.check()
    after = {
        **values,
        "language": settings.analyzer.language,  # normalised: "english" is en
        "bm25_variant": bm25.variant,
        "k1": bm25.k1,
        "b": bm25.b,
        "delta": bm25.delta,
    }
    if manifest is None:
        return settings, []
    return settings, [Change(name, before[name], after[name]) for name in STORED if before[name] != after[name]]


def default_overlap(size: int) -> int:
    """The chunk overlap when --chunk-overlap is not given: the default (40 words) where it is smaller than
    the chunk size, else the defaults' ratio of the size (40 of 200: a fifth), so that `--chunk-size 30`
    alone is 6 words of overlap rather than refused. Size 0 (whole documents) keeps the default."""
    overlap = ChunkSettings.overlap
    return overlap if overlap < size or size == 0 else size * overlap // ChunkSettings.size


def _check_overlap(values: Mapping[str, Any], given: Mapping[str, Any], *, recorded: bool) -> None:
    """An overlap that does not fit the chunk size, one of them given: refused (exit 2), naming the one
    that was not given as the index's recorded value or the default."""
    size, overlap = values["chunk_size"], values["chunk_overlap"]
    if not (size > 0 and overlap >= size):
        return

    def shown(name: str) -> str:
        return str(values[name]) if name in given else f"{values[name]}, {'recorded' if recorded else 'the default'}"

    raise InvalidOptionError(
        f"--chunk-overlap ({shown('chunk_overlap')}) must be smaller than --chunk-size ({shown('chunk_size')})",
        hint="give --chunk-overlap smaller than the chunk size",
    )


def _bm25(manifest: Mapping[str, Any] | None, given: Mapping[str, Any], values: Mapping[str, Any]) -> BM25Params:
    """BM25's parameters: the recorded ones (tuned values included) with those given; another variant
    starts from that variant's customary defaults."""
    overrides = {name: given.get(name) for name in ("k1", "b", "delta")}
    recorded = _section(manifest or {}, "bm25")
    if not recorded or values["bm25_variant"] != recorded.get("variant"):
        return BM25Params.for_variant(values["bm25_variant"], **overrides)
    params = BM25Params.from_dict(dict(recorded))
    return replace(params, **{name: value for name, value in overrides.items() if value is not None})


@dataclass
class Roots:
    """The roots a build reads, and how they differ from the index's."""

    roots: list[str | Path]
    added: list[str]
    removed: list[str]


def choose_roots(
    manifest: Mapping[str, Any] | None,
    paths: Sequence[str | Path] | None,
    *,
    add: Sequence[str | Path] = (),
    remove: Sequence[str | Path] = (),
    replace_roots: bool = False,
    label: IndexLabel | None = None,
) -> Roots:
    """The roots of a (re)build. Without `paths`, the index's roots with `add` added and `remove`
    removed; with `paths`, those, which must be the index's own roots unless `replace_roots` (a build
    never drops or adds a folder silently). Every refusal is a usage error (exit 2), before any work;
    `label` says which index the refusal is about when the user did not name it on this command line."""
    label = label or IndexLabel()
    # each once: an index built before roots were told apart may hold one several times
    stored = list(dict.fromkeys(str(r) for r in (manifest or {}).get("roots") or []))
    if paths and (add or remove):
        raise InvalidOptionError(
            "give PATHS or --add/--remove, not both", hint="--add PATH adds a root to the index's, --remove removes one"
        )
    if replace_roots and not paths:
        raise InvalidOptionError(
            "--replace-roots needs the PATHS to index instead", hint="ragcli index PATH... --replace-roots"
        )
    if paths:
        names = _names(paths)
        if manifest is not None and stored and set(names) == set(stored):
            return Roots(_in_order(paths, stored), [], [])  # the same roots: read in the order recorded
        if manifest is None or not stored or replace_roots:
            dropped = [r for r in stored if r not in names] if manifest is not None else []
            new = [n for n in names if n not in stored] if manifest is not None and stored else []
            return Roots(list(paths), new, dropped)
        require_roots(paths)  # a mistyped path is missing (exit 4), not a change of the index's roots
        shown = ", ".join(stored)
        raise InvalidOptionError(
            f"{label.name} was built from {shown}, not from {', '.join(names)}",
            hint="--add PATH adds a folder to it; --replace-roots indexes only the PATHS given" + label.elsewhere,
        )
    if manifest is None:
        raise InvalidOptionError(f"no PATH given and {label.missing}", hint=label.build_hint)
    both = set(_names(add)) & set(_names(remove))
    if both:
        raise InvalidOptionError(
            f"--add and --remove both name {', '.join(sorted(both))}", hint="give each root to one of them"
        )
    kept = list(stored)
    removed: list[str] = []
    for path in remove:
        name = _names([path])[0]
        if name not in kept:
            raise InvalidOptionError(
                f"--remove {path}: not a root of the index (its roots: {', '.join(stored) or '-'})",
                hint="ragcli info lists the roots",
            )
        kept.remove(name)
        removed.append(name)
    check_recorded(kept, stored)
    added = [name for name in dict.fromkeys(_names(add)) if name not in kept]
    kept += added
    if not kept:
        raise InvalidOptionError("--remove would leave the index no roots", hint="ragcli index PATH --replace-roots")
    return Roots([r if is_url(r) else Path(r) for r in kept], added, removed)


def check_recorded(kept: Sequence[str], stored: Sequence[str]) -> None:
    """The index's roots that a re-index without PATHS reads (`kept` of `stored`) are still where it read
    them. One that is gone is missing (exit 4), with the way to drop it (the user typed no path to
    check); one that a symbolic link now sends elsewhere is refused (exit 2): following it would change
    the index's roots for good, unasked, and read a file or folder the user never named."""
    for root in kept:
        if is_url(root):
            continue
        if look_up(Path(root), PathNotFoundError) is None:
            raise PathNotFoundError(
                f"{root}: a root of the index, no longer there",
                hint=f"put it back, or drop it and its passages: ragcli index --remove {quote(root)}",
            )
        real = _names([root])[0]
        if real != root:
            follow = " ".join(quote(real if r == root else r) for r in stored)
            raise InvalidOptionError(
                f"{root}, a root of the index, now leads to {real} (a symbolic link)",
                hint=f"put it back, or follow the link: ragcli index {follow} --replace-roots",
            )


def _in_order(paths: Sequence[str | Path], stored: list[str]) -> list[str | Path]:
    """`paths`, which name the `stored` roots, once each in the order the index recorded them: the same
    roots given in another order are the same index, not a rewrite of it in another file order."""
    given = {_names([path])[0]: path for path in reversed(paths)}  # the first spelling of each
    return [given[name] for name in stored]


def _names(paths: Sequence[str | Path]) -> list[str]:
    """Roots as the manifest records them (absolute paths; URLs without their password)."""
    files, urls = split_roots(paths)
    return root_names(files, urls)


@dataclass(frozen=True)
class IndexLabel:
    """How a refusal names the index a build would change: "the index" when the command line named it
    (or it is ./.ragcli), else the collection or folder that configuration chose, and by what, so that a
    user who did not pick it sees why their build was sent there and how to build another index."""

    chosen_by: str = ""  # "collection 'notes' (key 'collection' of ~/.config/ragcli/config.toml)", …
    build: str = "ragcli index PATH..."  # the command that builds it

    @property
    def name(self) -> str:
        return self.chosen_by or "the index"

    @property
    def missing(self) -> str:
        return f"{self.chosen_by} does not exist yet" if self.chosen_by else "no index to re-read"

    @property
    def build_hint(self) -> str:
        return self.build + self.elsewhere

    @property
    def elsewhere(self) -> str:
        return "; --index DIR or --name NAME builds another index" if self.chosen_by else ""


@dataclass
class Decision:
    """What a (re)build reads and how, decided from the index's manifest as it was when `seen`."""

    roots: Roots
    settings: BuildSettings
    changes: list[Change]
    seen: Identity | None  # the manifest's identity when it was read (None: there was none)
    selection_kept: dict[str, Any] = field(default_factory=dict)  # `kept_selection`'s


SELECTION = ("include", "exclude", "ignore")  # the settings that choose which files of the roots are read


def kept_selection(manifest: Mapping[str, Any] | None, given: Mapping[str, Any], roots: Roots) -> dict[str, Any]:
    """The recorded selection settings other than the defaults that a build keeps for roots it changes
    (`--add`, `--remove`, `--replace-roots`): settings stick, and the new roots are walked with them, so
    the run names them (a `--exclude '*.log'` kept for other folders is not a surprise)."""
    if manifest is None or not (roots.added or roots.removed):
        return {}
    recorded, defaults = recorded_settings(manifest), recorded_settings(None)
    return {name: recorded[name] for name in SELECTION if name not in given and recorded[name] != defaults[name]}


def decide(
    index_dir: Path,
    paths: Sequence[str | Path] | None,
    given: Mapping[str, Any],
    *,
    add: Sequence[str | Path] = (),
    remove: Sequence[str | Path] = (),
    replace_roots: bool = False,
    embedding_batch_size: int | None = None,
    device: str = "cpu",
    label: IndexLabel | None = None,
    **per_run: Any,
) -> Decision:
    """The roots and settings of a (re)build of the index at `index_dir` as its manifest is now; every
    refusal (exit 2) is raised here, before any file is read."""
    seen = manifest_identity(index_dir)  # before reading it: a manifest replaced meanwhile is read again
    manifest = existing_manifest(index_dir, paths_given=bool(paths), rebuild=bool(per_run.get("rebuild")))
    roots = choose_roots(manifest, paths, add=add, remove=remove, replace_roots=replace_roots, label=label)
    settings, changes = reindex_settings(
        manifest, given, embedding_batch_size=embedding_batch_size, device=device, **per_run
    )
    return Decision(roots, settings, changes, seen, kept_selection(manifest, given, roots))


def reindex(
    paths: Sequence[str | Path] | None,
    index_dir: str | Path | None,
    given: Mapping[str, Any],
    *,
    add: Sequence[str | Path] = (),
    remove: Sequence[str | Path] = (),
    replace_roots: bool = False,
    embedding_batch_size: int | None = None,
    device: str = "cpu",
    wait: bool = False,
    progress: ProgressCallback | None = None,
    embed_progress: EmbedProgress | None = None,
    label: IndexLabel | None = None,
    **per_run: Any,
) -> BuildReport:
    """`ragcli index`: build or re-index with the index's own settings and roots, changed only by the
    options `given` explicitly and by `add` / `remove` / `replace_roots`; the report says what changed.
    Everything is checked before any file is read, and decided again once the lock is held when another
    build replaced the index meanwhile: a build that waited (`wait`) does what it would have done had it
    started after the other finished (its --add kept, its settings compared with the other's)."""
    target = resolve_index_dir(index_dir)
    deciding = partial(
        decide,
        target,
        paths,
        given,
        add=add,
        remove=remove,
        replace_roots=replace_roots,
        embedding_batch_size=embedding_batch_size,
        device=device,
        label=label,
        **per_run,
    )
    decision: Decision | None
    try:
        decision = deciding()
    except InvalidOptionError:
        if not (wait and index_busy(target)):
            raise
        decision = None  # the build being waited for may change what is refused: judged once it is done
    with index_lock(target, wait=wait) as lock:
        if decision is None or decision.seen != lock.manifest:
            decision = deciding()
        report = build_index(
            decision.roots.roots,
            target,
            decision.settings,
            lock=lock,
            progress=progress,
            embed_progress=embed_progress,
        )
    report.settings_changed = [change.to_dict() for change in decision.changes]
    report.roots_added, report.roots_removed = decision.roots.added, decision.roots.removed
    report.selection_kept = decision.selection_kept
    if decision.changes or decision.roots.added or decision.roots.removed:
        report.up_to_date = False
    return report
