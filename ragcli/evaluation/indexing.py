"""Finding the index to evaluate against: the one given, or for a BEIR folder a cached index of its
corpus, built on first use and reused while the corpus file and the build settings are unchanged."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ragcli.errors import InputFormatError, InvalidOptionError, NewerIndexError, RagcliError
from ragcli.evaluation.datasets import EvalSet
from ragcli.indexing.build import build_index, chosen_retrievers
from ragcli.indexing.settings import BuildSettings
from ragcli.models import cache_dir
from ragcli.records import METADATA_FILE, Skipped
from ragcli.regular_files import open_regular
from ragcli.retrieval.base import RETRIEVERS, with_needs
from ragcli.retrieval.index import Index, load_index
from ragcli.retrieval.quantized import fingerprint
from ragcli.store import (
    FORMAT_VERSION,
    MANIFEST,
    index_busy,
    index_lock,
    is_ragcli_index,
    read_manifest,
    resolve_index_dir,
    sha256_file,
)


def _settings_key(settings: BuildSettings) -> str:
    compatibility = settings.compatibility()
    data: dict[str, object] = {key: compatibility[key] for key in ("analyzer", "chunking", "reading")}
    for name, chosen in chosen_retrievers(settings, None).items():
        data[name] = RETRIEVERS.get(name).identity(chosen)
        model = getattr(chosen, "model", None)
        if isinstance(model, str) and Path(model).expanduser().is_dir():
            # a model folder is named by its path: a model trained again into it must not reuse vectors
            data[f"{name}/model-files"] = fingerprint(Path(model).expanduser())
    return json.dumps(data, sort_keys=True)


def _matches(index_dir: Path, corpus_sha: str, *, current: bool = False) -> bool:
    """Whether the index holds this corpus (and with `current`, was built with document metadata: an
    older one is built again, once, so that `--where` can filter it)."""
    try:
        with open_regular(index_dir / MANIFEST) as handle:
            manifest = json.loads(handle.read().decode("utf-8"))
        sources = manifest.get("sources", [])
        held = [s.get("sha256") for s in sources] == [corpus_sha]
        return held and (not current or METADATA_FILE in manifest.get("files", {}))
    except (OSError, ValueError, AttributeError, TypeError, RecursionError):
        return False


def corpus_skips(index: Index) -> dict[str, int]:
    """What the index's build left out of its files, counted by reason (records by kind of reason, a
    whole file once with its reason); the manifest keeps it, so a cached index answers too."""
    counts: dict[str, int] = {}
    for source in index.manifest.get("sources", []):
        for kind, number in (source.get("skipped_records") or {}).items():
            counts[kind] = counts.get(kind, 0) + number
        if source.get("skipped"):
            counts[source["skipped"]] = counts.get(source["skipped"], 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def corpus_warnings(index: Index) -> list[str]:
    """What the index's build warned of its files (a corpus line not valid UTF-8, read as cp1252), as
    `ragcli index` says it; the manifest keeps it, so a cached index answers too."""
    return [warning for source in index.manifest.get("sources", []) for warning in source.get("warnings") or []]


def index_for(
    eval_set: EvalSet,
    index_dir: Path | None,
    retrievers: Sequence[str] = ("bm25",),
    retriever_settings: dict[str, Any] | None = None,
    *,
    strict: bool = False,
    on_build: Callable[[Path], None] | None = None,
    embed_progress: Callable[[int, int], None] | None = None,
    omit: str | None = None,
    on_extend: Callable[[Path, list[str]], None] | None = None,
    embedding_model: str | None = None,
    embedding_precision: str | None = None,
    on_wait: Callable[[Path], None] | None = None,
    on_skipped: Callable[[list[Skipped]], None] | None = None,
) -> Index:
    """The index to evaluate `retrievers` on `eval_set` against: the one given, or for a BEIR folder
    an index of its corpus, built (with the optional retrievers they need, e.g. dense for hybrid,
    from `retriever_settings` or their defaults) when needed. The corpus's bad records are skipped
    (`corpus_skips` counts them) or, with `strict`, stop at the first (exit 6, `file:line`). `omit`: how
    to stop naming `index_dir` ("omit --index", "unset RAGCLI_INDEX"), for the hint when it holds
    another corpus [default: whichever of the two named it]. An index that lacks the data of an optional
    retriever asked for (the vectors of dense, hybrid) gets it added first (`on_extend` hears of it).
    `embedding_model`, `embedding_precision`: what `--embedding-model` and `--embedding-precision` named,
    if they were named: an existing index's vectors must be those (exit 2 otherwise, never silently
    others), and vectors added are embedded so. A build or addition another process is making is
    waited for, never refused: the cached index is shared by runs, and evaluating needs it (`on_wait`
    hears of the wait). `on_skipped` hears of the corpus records a build made here skipped, by file:line."""
    embedding = {"embedding_model": embedding_model, "embedding_precision": embedding_precision}
    extend = (retrievers, retriever_settings, on_extend, on_wait, embed_progress, embedding)  # for _with_optional_data
    if eval_set.corpus is None:
        return _with_optional_data(load_index(index_dir), *extend)
    given = retriever_settings or {}
    optional = [RETRIEVERS.get(n) for n in with_needs(retrievers) if RETRIEVERS.get(n).optional]
    settings = BuildSettings(
        retrievers={r.name: given.get(r.name) or r.default_settings() for r in optional}, strict=strict
    )
    try:
        corpus_sha = sha256_file(eval_set.corpus)
    except OSError as exc:  # unreadable, or not a regular file (a FIFO or device is never read)
        raise InputFormatError(
            f"{eval_set.corpus}: cannot be read ({exc.strerror or exc})",
            hint="point DATA at a BEIR folder of regular files",
        ) from None
    cached = index_dir is None and not os.environ.get("RAGCLI_INDEX")  # ragcli's own: rebuilt at will
    if cached:
        # the index format is part of the name: ragcli versions of different formats keep one entry each
        identity = f"{corpus_sha}\n{_settings_key(settings)}\nformat {FORMAT_VERSION}"
        key = hashlib.sha256(identity.encode()).hexdigest()[:16]
        # named by the folder, not by how DATA spelled it (`.` would be "-<key>": one dataset, two indexes)
        index_dir = cache_dir() / f"{eval_set.corpus.parent.resolve().name}-{key}"
    else:
        named = resolve_index_dir(index_dir)
        # a folder that is not ragcli's is refused by the build below, before anything is written there
        if is_ragcli_index(named) and (named / MANIFEST).exists() and not _matches(named, corpus_sha):
            raise InvalidOptionError(
                f"{named} holds another corpus than {eval_set.corpus}",
                hint=f"{omit or ('omit --index' if index_dir is not None else 'unset RAGCLI_INDEX')} "
                "to use a cached index of the dataset, or name an empty folder",
            )
    target = resolve_index_dir(index_dir)
    if _build_needed(target, corpus_sha, strict, cached) is not None:
        tell_if_busy(target, on_wait)
        with index_lock(target, wait=True) as lock:  # another run may be building it: its build is used
            needed = _build_needed(target, corpus_sha, strict, cached)
            if needed is not None:
                if on_build:
                    on_build(target)
                settings.rebuild = needed == "rebuild"
                built = build_index(
                    [eval_set.corpus.parent], target, settings, lock=lock, embed_progress=embed_progress
                )
                if on_skipped is not None:
                    on_skipped([skip for skip in built.skipped if skip.record and not skip.unlisted])
    return _with_optional_data(load_index(target), *extend)


def _build_needed(target: Path, corpus_sha: str, strict: bool, cached: bool) -> str | None:
    """What the dataset's index in `target` needs before it is used: None (nothing), "build" (it holds
    no index of this corpus, or one without document metadata) or "rebuild" (built without `strict`:
    read again, to stop at file:line; or, `cached` in ragcli's cache, written in a newer index format
    under this ragcli's name, which no other command could get past)."""
    if cached and _newer_format(target):
        return "rebuild"
    if not _matches(target, corpus_sha, current=True):
        return "build"
    if strict and corpus_skips(load_index(target)):
        return "rebuild"
    return None


def _newer_format(index_dir: Path) -> bool:
    """Whether the index in `index_dir` was written by a newer ragcli (a format this one cannot read)."""
    try:
        read_manifest(index_dir)
    except NewerIndexError:
        return True
    except RagcliError:  # none, or damaged: `_matches` decides
        return False
    return False


def tell_if_busy(target: Path, on_wait: Callable[[Path], None] | None) -> None:
    """Tell `on_wait` when another process holds the index's build lock: this run is about to wait for
    it (evaluate and tune have no --wait: the index is theirs to wait for, and a silent wait looks hung)."""
    if on_wait is not None and index_busy(target):
        on_wait(target)


def _with_optional_data(
    index: Index,
    retrievers: Sequence[str],
    retriever_settings: dict[str, Any] | None,
    on_extend: Callable[[Path, list[str]], None] | None,
    on_wait: Callable[[Path], None] | None,
    embed_progress: Callable[[int, int], None] | None,
    named: dict[str, str | None],
) -> Index:
    """`index`, with the data of the optional retrievers `retrievers` need and it lacks added as
    `ragcli index --dense` adds it: the index's own settings and roots, only the missing part computed.
    A retriever that no `ragcli index` option builds is left to fail as before (its own message)."""
    from ragcli.indexing.stored import STORED, recorded_settings, reindex

    needed = [RETRIEVERS.get(name) for name in with_needs(retrievers)]
    lacking = [s.name for s in needed if s.optional and s.payload is not None and not index.has_payload(s.payload)]
    if "dense" in with_needs(retrievers) and "dense" not in lacking:
        _check_vectors(index, recorded_settings(index.manifest), named)
    if not lacking or any(name not in STORED for name in lacking):
        return index
    given: dict[str, Any] = dict.fromkeys(lacking, True)
    dense = (retriever_settings or {}).get("dense")
    if "dense" in lacking and dense is not None:
        given["embedding_precision"] = dense.precision
    if "dense" in lacking and named["embedding_model"] is not None:
        given["embedding_model"] = named["embedding_model"]
    if on_extend:
        on_extend(index.path, lacking)
    tell_if_busy(index.path, on_wait)
    reindex(None, index.path, given, wait=True, embed_progress=embed_progress)
    return load_index(index.path)


def _check_vectors(index: Index, recorded: dict[str, Any], named: dict[str, str | None]) -> None:
    """Exit 2 when the index's vectors are not what an embedding option named (another model, or
    stored at another precision): evaluating them would report figures of something else."""
    for setting, value in named.items():
        held = recorded[setting]
        if value is None or (_same_model(held, value) if setting == "embedding_model" else held == value):
            continue
        option = "--" + setting.replace("_", "-")
        what = f"come from {held}" if setting == "embedding_model" else f"are stored as {held}"
        raise InvalidOptionError(
            f"{option} {value}: the index's vectors {what}",
            hint=f"rebuild them with `ragcli index --index {index.path} --dense {option} {value}`, "
            f"or omit {option} to evaluate the index's own",
        )


def _same_model(held: str, named: str) -> bool:
    """Whether the model an index's vectors were embedded with is the one named: the same name, or the
    same folder under another path (the packaged model's folder is the default model's name)."""
    from ragcli.retrieval.embedder import recorded_model_name

    if held in (named, recorded_model_name(named)):
        return True
    try:
        return os.path.samefile(Path(held).expanduser(), Path(named).expanduser())
    except OSError:
        return False
