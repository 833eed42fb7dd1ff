"""Finding the index to evaluate against: the one given, or for a BEIR folder a cached index of its
corpus, built on first use and reused while the corpus file and the build settings are unchanged."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ragcli.errors import InputFormatError, InvalidOptionError
from ragcli.evaluation.datasets import EvalSet
from ragcli.indexing.build import build_index, chosen_retrievers
from ragcli.indexing.settings import BuildSettings
from ragcli.models import cache_dir
from ragcli.records import METADATA_FILE
from ragcli.retrieval.base import RETRIEVERS, with_needs
from ragcli.retrieval.index import Index, load_index
from ragcli.retrieval.quantized import fingerprint
from ragcli.safeload import open_regular
from ragcli.store import MANIFEST, is_ragcli_index, resolve_index_dir, sha256_file


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


def index_for(
    eval_set: EvalSet,
    index_dir: Path | None,
    retrievers: Sequence[str] = ("bm25",),
    retriever_settings: dict[str, Any] | None = None,
    *,
    strict: bool = False,
    on_build: Callable[[Path], None] | None = None,
    embed_progress: Callable[[int, int], None] | None = None,
) -> Index:
    """The index to evaluate `retrievers` on `eval_set` against: the one given, or for a BEIR folder
    an index of its corpus, built (with the optional retrievers they need, e.g. dense for hybrid,
    from `retriever_settings` or their defaults) when needed. The corpus's bad records are skipped
    (`corpus_skips` counts them) or, with `strict`, stop at the first (exit 6, `file:line`)."""
    if eval_set.corpus is None:
        return load_index(index_dir)
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
    if index_dir is None and not os.environ.get("RAGCLI_INDEX"):
        key = hashlib.sha256(f"{corpus_sha}\n{_settings_key(settings)}".encode()).hexdigest()[:16]
        index_dir = cache_dir() / f"{eval_set.corpus.parent.name}-{key}"
    else:
        named = resolve_index_dir(index_dir)
        # a folder that is not ragcli's is refused by the build below, before anything is written there
        if is_ragcli_index(named) and (named / MANIFEST).exists() and not _matches(named, corpus_sha):
            raise InvalidOptionError(
                f"{named} holds another corpus than {eval_set.corpus}",
                hint="omit --index to use a cached index of the dataset, or name an empty folder",
            )
    target = resolve_index_dir(index_dir)
    if not _matches(target, corpus_sha, current=True):
        if on_build:
            on_build(target)
        build_index([eval_set.corpus.parent], target, settings, embed_progress=embed_progress)
    elif strict and corpus_skips(load_index(target)):  # built without --strict: read again, to stop at file:line
        settings.rebuild = True
        build_index([eval_set.corpus.parent], target, settings, embed_progress=embed_progress)
    return load_index(target)
