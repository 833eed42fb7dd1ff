"""Dense retrieval: passage embeddings stored in the index and exact inner-product search.

Vectors are stored as float16 (half the disk, recall unchanged) and searched as float32 with BLAS:
one matrix-vector product per query. On re-index only new or changed passages are embedded (content
hashes); the others keep their vectors, also when the build reads every file again (another analyzer or
base folder: the replaced index's vectors serve by hash). See ragcli.retrieval.embedder for the model side.

Ctrl-C while embedding keeps what was computed: the vectors embedded so far go to a checkpoint in the
index folder (`dense-checkpoint.joblib`, a payload of the dense format, written atomically), the build
stops with exit 130 leaving the previous index as it was, and the next build with the same embedding
settings takes the checkpoint's vectors by content hash and embeds only the rest. The checkpoint is
removed once a build has every vector.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from ragcli.errors import (
    IndexDamagedError,
    InterruptedBuildError,
    InvalidOptionError,
    ModelUnavailableError,
)
from ragcli.indexdir import DENSE_CHECKPOINT, temporary_beside
from ragcli.records import SearchOptions
from ragcli.retrieval.base import BuildInput, Built, Ranked, Retriever, TaskRunner
from ragcli.retrieval.embedder import (
    Embedder,
    EmbeddingInterrupted,
    EmbeddingSettings,
    embed_spread,
    relative_model_folder,
    stated_width,
)
from ragcli.safeload import ArraySpec, PayloadSchema
from ragcli.store import StringTable, load_payload, save_payload

if TYPE_CHECKING:
    from ragcli.retrieval.index import Index

DENSE_FILE = "dense.joblib"
CHECKPOINT_FILE = DENSE_CHECKPOINT  # in the index folder: vectors of an interrupted build
SCHEMA = PayloadSchema(
    {"vectors": ArraySpec(("float16", "float32"), ndim=2), "keys": ArraySpec(("uint8",), ndim=2)},
    {"settings": (dict,)},
    closed=True,
)


def passage_key(text: str) -> bytes:
    """A content hash of the text a passage is embedded from (unchanged text → reuse its vector)."""
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).digest()


def _reusable(previous: dict[str, Any], recorded: dict[str, Any]) -> bool:
    """Whether vectors of an earlier build can be reused: same settings, one 16-byte key per vector."""
    keys, vectors = previous["keys"], previous["vectors"]
    return bool(previous.get("settings") == recorded and keys.shape[1:] == (16,) and len(keys) == len(vectors))


def check_width(model: str, given: int, held: int, where: str) -> None:
    """Exit 9 when embedding model `model` gives vectors of another width than the `held` ones: it is
    not the model they came from (a product of the two would fail deep in numpy)."""
    if given != held:
        raise ModelUnavailableError(
            f"{where}: embedding model {model} gives {given}-dimensional vectors, the index holds {held}: "
            "it is not the model the index was built with",
            hint=f"embed every passage again with it: ragcli index --index {where} --rebuild",
            value=model,
        )


def _key_rows(payload: dict[str, Any]) -> dict[bytes, int]:
    """Content key → row of a dense payload's vectors."""
    raw = np.asarray(payload["keys"]).tobytes()
    return {raw[i * 16 : (i + 1) * 16]: i for i in range(len(raw) // 16)}


def load_checkpoint(path: Path, recorded: dict[str, Any]) -> dict[str, Any] | None:
    """The vectors an interrupted build saved at `path`, if they were embedded with these settings;
    None when there is none, or it is unusable (damaged, other settings): the build embeds afresh."""
    try:
        saved = load_payload(path, mmap=False, schema=SCHEMA)
    except (FileNotFoundError, IndexDamagedError):
        return None
    return saved if _reusable(saved, recorded) else None


def save_checkpoint(path: Path, keys: list[bytes], vectors: np.ndarray, recorded: dict[str, Any]) -> None:
    """Write the vectors embedded so far atomically (a temporary file renamed over the checkpoint), so
    that a second Ctrl-C or a full disk never leaves half a checkpoint. The temporary file has a fresh
    name and is created anew (`save_payload`): a link or FIFO planted in the index folder under a name
    ragcli would use is never written through or blocked on; and the name is ragcli's, so the next
    build removes one a SIGKILL left (`temporary_beside`)."""
    temporary = temporary_beside(path)
    payload = {
        "vectors": np.ascontiguousarray(vectors, dtype=np.float32),
        "keys": np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, 16).copy(),
        "settings": recorded,
    }
    try:
        save_payload(temporary, payload)
        os.replace(temporary, path)  # replaces whatever stands there (a link too), never writes through it
    except BaseException:
        with suppress(OSError):  # only ragcli makes names like it
            temporary.unlink()
        raise


def remove_checkpoint(path: Path) -> None:
    """Drop the checkpoint once every vector is in hand (only a regular file of that name, never a link)."""
    with suppress(OSError):
        if path.is_file() and not path.is_symlink():
            path.unlink()


def build_dense(
    texts: Sequence[str],
    settings: EmbeddingSettings,
    previous: dict[str, Any] | None = None,
    progress: Callable[..., None] | None = None,
    checkpoint: Path | None = None,
    runner: TaskRunner | None = None,
) -> tuple[dict[str, Any], dict[str, float]]:
    """The dense payload for passages `texts`; vectors of texts already embedded (same model and
    precision) in `previous`, or saved in `checkpoint` by an interrupted build, are reused; the others
    are embedded here or on `runner`'s workers (a Ray cluster: only the new and changed passages go
    there). Ctrl-C saves what was embedded to `checkpoint` and raises InterruptedBuildError. Returns
    (payload, stats)."""
    keys = [passage_key(t) for t in texts]
    recorded = settings.to_dict()
    reuse: dict[bytes, int] = {}
    if previous is not None and _reusable(previous, recorded):
        reuse = _key_rows(previous)
    saved = load_checkpoint(checkpoint, recorded) if checkpoint is not None else None
    resumed: dict[bytes, int] = {}
    if saved is not None:
        resumed = {key: row for key, row in _key_rows(saved).items() if key not in reuse}
    todo = [i for i, key in enumerate(keys) if key not in reuse and key not in resumed]
    started = loaded = time.perf_counter()
    new_vectors = np.zeros((0, 0), dtype=np.float32)
    dimensions = int(previous["vectors"].shape[1]) if previous is not None and reuse else 0
    if saved is not None and resumed:
        dimensions = int(saved["vectors"].shape[1])
    from_checkpoint = [i for i, key in enumerate(keys) if key in resumed]
    if todo:
        if progress is not None:
            progress(0, len(todo), "loading")  # shown while the model loads (or is converted to int8, once)
        embedder = Embedder(settings) if runner is None else None  # on a cluster, the workers load it
        loaded = time.perf_counter()
        if progress is not None:
            progress(0, len(todo))
        done = [0]

        def step(n: int) -> None:
            done[0] += n
            if progress is not None:
                progress(done[0], len(todo))

        try:
            if embedder is not None:
                new_vectors = embedder.embed([texts[i] for i in todo], progress=step)
            else:
                assert runner is not None
                new_vectors = embed_spread(runner, settings, [texts[i] for i in todo], progress=step)
        except EmbeddingInterrupted as stop:
            _interrupted(stop, [keys[i] for i in todo], saved, resumed, len(from_checkpoint), checkpoint, recorded)
        if dimensions:  # the reused vectors' width
            where = str(checkpoint.parent) if checkpoint is not None else "the index"
            check_width(settings.model, int(new_vectors.shape[1]), dimensions, where)
        dimensions = int(new_vectors.shape[1])
    seconds = time.perf_counter() - loaded
    vectors = np.zeros((len(texts), dimensions), dtype=np.dtype(settings.store_dtype))
    if todo:
        vectors[todo] = new_vectors
    kept = [i for i, key in enumerate(keys) if key in reuse]
    if kept:  # one gather from the old (memory-mapped) vectors, not a row at a time
        vectors[kept] = np.asarray(previous["vectors"])[[reuse[keys[i]] for i in kept]]  # type: ignore[index]
    if from_checkpoint:
        vectors[from_checkpoint] = np.asarray(saved["vectors"])[[resumed[keys[i]] for i in from_checkpoint]]  # type: ignore[index]
    if checkpoint is not None:
        remove_checkpoint(checkpoint)
    payload = {
        "vectors": vectors,
        "keys": np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, 16).copy(),
        "settings": recorded,
    }
    stats = {
        "embedded": len(todo),
        "reused": len(texts) - len(todo),
        "from_checkpoint": len(from_checkpoint),
        "seconds": seconds,
        "passages_per_second": len(todo) / seconds if todo and seconds else 0.0,
        "model_seconds": round(loaded - started, 3),
    }  # loading (or converting) the model, not in the rate; "reused" counts the checkpoint's vectors too
    return payload, stats


def _interrupted(
    stop: EmbeddingInterrupted,
    todo_keys: list[bytes],
    saved: dict[str, Any] | None,
    resumed: dict[bytes, int],
    from_checkpoint: int,
    checkpoint: Path | None,
    recorded: dict[str, Any],
) -> NoReturn:
    """Ctrl-C while embedding: the checkpoint's vectors still needed and those embedded now, saved
    together; then the one-line error (exit 130) saying how far it got."""
    total = len(todo_keys) + from_checkpoint
    embedded = len(stop.done) + from_checkpoint
    if checkpoint is None:
        raise InterruptedBuildError(f"interrupted: {embedded:,} of {total:,} passages embedded, none kept") from None
    keys = [todo_keys[i] for i in stop.done]
    vectors = stop.vectors
    if saved is not None and resumed:
        rows = list(resumed.values())
        keys = [*resumed.keys(), *keys]
        vectors = np.concatenate([np.asarray(saved["vectors"], dtype=np.float32)[rows], vectors])
    try:
        save_checkpoint(checkpoint, keys, vectors, recorded)
    except OSError as exc:  # a full disk, a read-only folder: say so rather than report a bug
        raise InterruptedBuildError(
            f"interrupted: {embedded:,} of {total:,} passages embedded, but the checkpoint could not be "
            f"written ({exc.strerror or exc}); the next build embeds them again"
        ) from None
    raise InterruptedBuildError(
        f"interrupted: {embedded:,} of {total:,} passages embedded; run the same command again to resume"
    ) from None


def inner_product_top(vectors: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every passage's inner product with the query: exact search, one matrix-vector product."""
    scores = vectors @ query.astype(vectors.dtype, copy=False)
    return np.arange(len(vectors), dtype=np.int64), scores.astype(np.float64)


def _query_settings(index: Index, recorded: dict[str, Any]) -> EmbeddingSettings:
    """The settings to embed questions with; a model an older ragcli recorded by a relative path is
    exit 9 (resolved here it could be another model, whose vectors rank at random without an error)."""
    model = str(recorded.get("model", ""))
    if relative_model_folder(model):
        raise ModelUnavailableError(
            f"{index.path}: the index names its embedding model {model} relative to the folder it was built in",
            hint=f"re-index it with the model's absolute path: ragcli index --index {index.path} "
            f"--embedding-model $(realpath {model})",
            value=model,
        )
    return EmbeddingSettings.from_dict(recorded)


class DenseScorer:
    """Exact inner-product search over the stored passage vectors."""

    name = "dense"

    def __init__(self, index: Index) -> None:
        payload = index.payload(DENSE_FILE)
        self.vectors = payload["vectors"]
        if self.vectors.ndim != 2 or len(self.vectors) != index.manifest["counts"]["passages"]:
            raise IndexDamagedError(
                f"{index.path}: dense vectors do not match the passages", hint="rebuild with --dense"
            )
        self.settings = _query_settings(index, payload["settings"])
        self.where = str(index.path)
        self._embedder: Embedder | None = None
        self._float32: np.ndarray | None = None

    @property
    def float32(self) -> np.ndarray:
        """The vectors as float32, converted once: BLAS has no float16 product."""
        if self._float32 is None:
            self._float32 = np.asarray(self.vectors, dtype=np.float32)
        return self._float32

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            embedder = Embedder(self.settings)
            check_width(self.settings.model, embedder.dimensions, int(self.vectors.shape[1]), self.where)
            self._embedder = embedder
        return self._embedder

    def check_model(self) -> None:
        """Exit 9 when the recorded model cannot be had or gives vectors of another width than the
        stored ones, as a query would say it: from the model's config where it states the width (no
        model loaded), else by loading it."""
        width = stated_width(self.settings.model)
        given = self.embedder.dimensions if width is None else width
        check_width(self.settings.model, given, int(self.vectors.shape[1]), self.where)

    def score(self, query: str) -> Ranked:
        if not query.strip():
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return inner_product_top(self.float32, self.embedder.embed([query])[0])

    def score_many(self, queries: Sequence[str]) -> Iterator[Ranked]:
        embedded = self.embedder.embed(list(queries))
        for query, vector in zip(queries, embedded):
            yield (
                (np.zeros(0, dtype=np.int64), np.zeros(0))
                if not query.strip()
                else inner_product_top(self.float32, vector)
            )


def embedding_input(title: str, text: str) -> str:
    """What a passage is embedded from: title and text, as BM25 sees them (training uses the same)."""
    return f"{title}\n{text}" if title else text


def _embedding_inputs(passages: dict[str, Any]) -> list[str]:
    titles = StringTable.from_payload(passages, "title")
    texts = StringTable.from_payload(passages, "text")
    return [embedding_input(title, text) for title, text in zip(titles, texts)]


class Dense(Retriever[EmbeddingSettings]):
    """Passage embeddings, built only when asked for (`ragcli index --dense`)."""

    name = "dense"
    payload = DENSE_FILE
    schema = SCHEMA
    optional = True

    def default_settings(self) -> EmbeddingSettings:
        return EmbeddingSettings()

    def settings_from(self, recorded: dict[str, Any]) -> EmbeddingSettings:
        return EmbeddingSettings.from_dict(recorded["settings"])

    def identity(self, settings: EmbeddingSettings) -> dict[str, Any]:
        return settings.to_dict()

    def recorded_identity(self, recorded: dict[str, Any]) -> Any:
        return recorded.get("settings")

    def build(self, settings: EmbeddingSettings, data: BuildInput) -> Built:
        previous = (  # matched by passage hash: the replaced index's vectors serve whatever its passages
            data.replaced.payload(DENSE_FILE)
            if data.replaced is not None and data.replaced.has_payload(DENSE_FILE)
            else None
        )
        checkpoint = data.work_dir / CHECKPOINT_FILE if data.work_dir is not None else None
        payload, stats = build_dense(
            _embedding_inputs(data.passages), settings, previous, data.progress, checkpoint, data.runner
        )
        rounded = {k: round(v, 3) if isinstance(v, float) else v for k, v in stats.items()}
        return Built(payload, {"settings": settings.to_dict(), **rounded})

    def verify(self, index: Index) -> None:
        scorer = index.retriever(self.name)
        assert isinstance(scorer, DenseScorer)  # a built-in part is handed out as it is
        scorer.check_model()

    def missing(self, index: Index) -> InvalidOptionError:
        return InvalidOptionError(
            f"{index.path} has no dense vectors",
            hint="build them with `ragcli index PATH --dense` (needs ragcli[dense])",
        )

    def open(self, index: Index, options: SearchOptions) -> DenseScorer:
        return DenseScorer(index)


RETRIEVER = Dense()
