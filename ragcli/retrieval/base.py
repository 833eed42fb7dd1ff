"""The retriever seam: what a retriever builds at index time and how it searches, and its registry.

A retriever is registered under the entry point group `ragcli.retrievers` (built-ins too) and is
one object with:

- `payload`: the file it writes into each index generation (None: it builds nothing, e.g. fusion);
- `schema`: what that file holds (each array's dtype and dimensions, each value's type), checked on
  load before anything uses it (a crafted index cannot hand a retriever a structured dtype or a
  nested container); without one, a payload may hold plain numbers and bytes only;
- `build(settings, data)`: that payload, and the section it records in the manifest, from the term
  counts and passages of the new index (and the previous index, to reuse work);
- `open(index, options)`: a `Scorer` for queries: passage numbers and scores, one query or many.

The indexer loops over the registered retrievers and the `Index` looks them up by name, so a new
retriever is one module plus one entry point.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np

from ragcli.errors import InvalidOptionError
from ragcli.plugins import Guarded, PluginFault, Registry
from ragcli.records import JsonObject, SearchOptions
from ragcli.safeload import PayloadSchema, check_payload
from ragcli.store import Payload

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from ragcli.retrieval.index import Index

S = TypeVar("S")  # a retriever's own settings type (BM25Params, EmbeddingSettings, …)

Ranked = tuple[np.ndarray, np.ndarray]  # (passage numbers, scores)
Progress = Callable[..., None]  # (done, total[, stage]): stage "loading" while a model loads


class Scorer(Protocol):
    """What `Index.search` needs: candidate passages and their scores, unordered."""

    name: str

    def score(self, query: str) -> Ranked: ...

    def score_many(self, queries: Sequence[str]) -> Iterable[Ranked]: ...


class RestrictingScorer(Scorer, Protocol):
    """A Scorer that takes a filter's restriction itself (`allowed`: a boolean mask over the passages),
    e.g. fusion, which must fuse the restricted lists rather than restrict the fused one. `Index`
    calls these when a scorer has them, and restricts what they return again (see `restrict`)."""

    def score_within(self, query: str, allowed: np.ndarray) -> Ranked: ...

    def score_many_within(self, queries: Sequence[str], allowed: np.ndarray) -> Iterable[Ranked]: ...


def restrict(ranked: Ranked, allowed: np.ndarray | None) -> Ranked:
    """Only the candidates `allowed` admits (None: all). Applied before any top-k cut, so a passage a
    filter excludes never comes back, not even with score 0, and fewer than k come back when fewer match."""
    if allowed is None:
        return ranked
    candidates, scores = ranked
    if len(candidates) and (int(candidates.min()) < 0 or int(candidates.max()) >= len(allowed)):
        raise ValueError("passage numbers out of range")
    keep = allowed[candidates]
    return candidates[keep], scores[keep]


Task = tuple[Callable[..., Any], tuple[Any, ...]]  # a module-level function and its arguments


class TaskRunner(Protocol):
    """Runs a build's tasks on other processes or machines (`ragcli index --ray`: a Ray cluster, in
    ragcli.indexing.distributed), results in the order the tasks came; `gpu`: each task needs a GPU."""

    workers: int  # how many tasks run at once

    def run(self, tasks: Iterable[Task], *, gpu: bool = False) -> Iterator[Any]: ...


@dataclass
class BuildInput:
    """What a retriever builds its payload from."""

    counts: csr_matrix  # passages × terms term counts, columns in vocabulary order
    passages: Payload  # the passages payload (ids, titles, texts … as StringTables)
    previous: Index | None = None  # the index being replaced (for reuse), if compatible
    progress: Progress | None = None
    work_dir: Path | None = None  # the index folder: where a build may keep work to resume (its checkpoint)
    runner: TaskRunner | None = None  # where slow work (embedding) may be spread; None: this process
    # the index being replaced, `previous` or one whose passages cannot be copied (other analyzer, base
    # folder), its payloads checked: for data matched by content (dense vectors by passage hash)
    replaced: Index | None = None


@dataclass
class Built:
    payload: Payload
    manifest: JsonObject  # recorded under the retriever's name in manifest.json


class Retriever(Generic[S]):
    """Base class of registered retrievers (plugins subclass it too); defaults fit one that builds nothing."""

    name: str = ""
    payload: str | None = None  # the file this retriever writes into each index generation
    schema: PayloadSchema | None = None  # what that file holds, checked on load (see ragcli.safeload)
    optional: bool = False  # built only when asked for; later builds keep it until dropped
    needs: tuple[str, ...] = ()  # other retrievers whose data this one searches

    def default_settings(self) -> S:
        """The settings a build uses when none are given."""
        raise NotImplementedError(f"retriever {self.name!r} builds nothing at index time")

    def settings_from(self, recorded: JsonObject) -> S:
        """The settings an index recorded (its manifest section), to rebuild the same way."""
        raise NotImplementedError(f"retriever {self.name!r} builds nothing at index time")

    def identity(self, settings: S) -> JsonObject:
        """What identifies a build with `settings` (same identity, same payload)."""
        return {}

    def recorded_identity(self, recorded: JsonObject) -> object:
        """The identity an index's manifest section records."""
        return recorded

    def same(self, settings: S, recorded: JsonObject) -> bool:
        """Whether a build with `settings` would write what the index recorded (nothing to redo)."""
        return bool(self.identity(settings) == self.recorded_identity(recorded))

    def build(self, settings: S, data: BuildInput) -> Built:
        raise NotImplementedError(f"retriever {self.name!r} builds nothing at index time")

    def verify(self, index: Index) -> None:
        """`info --verify`'s check of this retriever's data in `index` beyond the checksums: what a
        query would refuse for a reason the bytes do not show (nothing by default)."""

    def missing(self, index: Index) -> InvalidOptionError:
        """The error for an index built without this optional retriever's payload: a usage error (exit 2),
        not a missing extra (11), since installing one would not add the data to the index."""
        return InvalidOptionError(
            f"{index.path} has no {self.name} data", hint=f"rebuild it with the {self.name} retriever"
        )

    def open(self, index: Index, options: SearchOptions) -> Scorer:
        raise NotImplementedError


def _checked_built(result: object) -> Built:
    """What a plugin retriever's `build` gives: a Built whose manifest section JSON can hold."""
    import json

    if not isinstance(result, Built):
        raise PluginFault(f"build returned {type(result).__name__}, not a Built")
    if not isinstance(result.manifest, dict):
        raise PluginFault(f"build recorded a manifest section of {type(result.manifest).__name__}, not a dict")
    try:
        json.dumps(result.manifest, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise PluginFault(f"build recorded a manifest section JSON cannot hold ({exc})") from None
    return result


def _checked_ranked(passages: int, result: object) -> Ranked:
    """What a plugin scorer returns: integer passage numbers below `passages` and as many real scores
    (NaN and infinities are ranked as the README says), so that a plugin's mistake is not an index's
    "damaged data"."""
    if not (isinstance(result, tuple) and len(result) == 2 and all(isinstance(a, np.ndarray) for a in result)):
        raise PluginFault(f"scored {type(result).__name__}, not (passage numbers, scores) as two numpy arrays")
    candidates, scores = result
    if candidates.ndim != 1 or scores.shape != candidates.shape:
        raise PluginFault(f"scored {candidates.shape} passage numbers with {scores.shape} scores, not one each")
    if candidates.dtype.kind not in "iu" or scores.dtype.kind not in "iuf":
        raise PluginFault(
            f"scored {candidates.dtype} passage numbers with {scores.dtype} scores, not integers and reals"
        )
    if len(candidates) and (int(candidates.min()) < 0 or int(candidates.max()) >= passages):
        raise PluginFault(f"scored passage numbers outside 0…{passages - 1} (the index's passages)")
    return result


def _checked_scorer(passages: int, part: Guarded, method: str, result: Any, args: tuple[Any, ...]) -> Any:
    """The Scorer protocol's results, one query or many: each `_checked_ranked`."""
    if method in ("score", "score_within"):
        return _checked_ranked(passages, result)
    if method in ("score_many", "score_many_within"):
        return part.items(result, partial(_checked_ranked, passages))
    return result


def _checked_retriever(part: Guarded, method: str, result: Any, args: tuple[Any, ...]) -> Any:
    """The Retriever protocol's results: `build` a Built whose payload the loader accepts (before the
    index is published); `open` a Scorer, itself guarded in the plugin's name."""
    if method == "build":
        built = _checked_built(result)
        problem = check_payload(built.payload, part.schema)  # the loader's own check: never publish what it refuses
        if problem is not None:
            raise PluginFault(f"built a payload that query would refuse: {problem}")
        return built
    if method == "open":
        return part.wrap(result, partial(_checked_scorer, int(args[0].manifest["counts"]["passages"])))
    return result


RETRIEVERS: Registry[Retriever[object]] = Registry(
    "retriever",
    "ragcli.retrievers",
    order=("bm25", "tfidf", "dense", "hybrid", "hybrid-zscore", "hybrid-rrf"),
    check=_checked_retriever,
)


def with_needs(names: Iterable[str]) -> list[str]:
    """The retrievers `names` search with, themselves included, each once, in order."""
    seen: list[str] = []
    pending = list(names)
    while pending:
        name = pending.pop(0)
        if name not in seen:
            seen.append(name)
            pending.extend(RETRIEVERS.get(name).needs)
    return seen


# the SearchOptions field that each fusion (a hybrid retriever's `fusion`) reads
FUSION_OPTIONS = {"rrf_k": "rrf", "dense_weight": "zscore"}


def unused_fusion_options(names: Iterable[str], options: SearchOptions) -> list[str]:
    """The fields of `options` moved from their defaults that no retriever of `names` fuses with (`rrf_k`
    for `hybrid`, which fuses z-scores): the CLI and LangChain say so rather than silently drop them."""
    fusions = {getattr(RETRIEVERS.get(name), "fusion", None) for name in names}
    defaults = SearchOptions()
    return [
        field
        for field, fusion in FUSION_OPTIONS.items()
        if getattr(options, field) != getattr(defaults, field) and fusion not in fusions
    ]


def fusing_retrievers(field: str) -> list[str]:
    """The registered retrievers that read the fusion option `field` (`rrf_k`: hybrid-rrf), to name them."""
    return [r.name for r in RETRIEVERS.all() if getattr(r, "fusion", None) == FUSION_OPTIONS[field]]


def built_retrievers() -> list[Retriever[object]]:
    """The registered retrievers that write a payload at index time."""
    return [r for r in RETRIEVERS.all() if r.payload is not None]


def top_k(candidates: np.ndarray, scores: np.ndarray, k: int, id_rank: np.ndarray) -> Ranked:
    """The k best candidates by score, ties broken by passage id (`id_rank`), best first."""
    if k <= 0 or len(candidates) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    if len(candidates) > k:
        threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = scores >= threshold  # every tie at the threshold stays in, so the id order decides
        candidates, scores = candidates[keep], scores[keep]
    order = np.lexsort((id_rank[candidates], -scores))[:k]
    return candidates[order], scores[order]
