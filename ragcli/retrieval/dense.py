"""Dense retrieval: passage embeddings stored in the index and exact inner-product search.

Vectors are stored as float16 (half the disk, recall unchanged) and searched as float32 with BLAS:
one matrix-vector product per query. On re-index only new or changed passages are embedded (content
hashes); the others keep their vectors. See ragcli.retrieval.embedder for the model side.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ragcli.errors import IndexDamagedError, MissingExtraError
from ragcli.records import SearchOptions
from ragcli.retrieval.base import BuildInput, Built, Ranked, Retriever
from ragcli.retrieval.embedder import Embedder, EmbeddingSettings
from ragcli.safeload import ArraySpec, PayloadSchema
from ragcli.store import StringTable

if TYPE_CHECKING:
    from ragcli.retrieval.index import Index

DENSE_FILE = "dense.joblib"


def passage_key(text: str) -> bytes:
    """A content hash of the text a passage is embedded from (unchanged text → reuse its vector)."""
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).digest()


def _reusable(previous: dict[str, Any], recorded: dict[str, Any]) -> bool:
    """Whether vectors of an earlier build can be reused: same settings, one 16-byte key per vector."""
    keys, vectors = previous["keys"], previous["vectors"]
    return bool(previous.get("settings") == recorded and keys.shape[1:] == (16,) and len(keys) == len(vectors))


def build_dense(
    texts: Sequence[str],
    settings: EmbeddingSettings,
    previous: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], dict[str, float]]:
    """The dense payload for passages `texts`; vectors of texts already embedded (same model and
    precision) in `previous` are reused. Returns (payload, stats)."""
    keys = [passage_key(t) for t in texts]
    recorded = settings.to_dict()
    reuse: dict[bytes, int] = {}
    if previous is not None and _reusable(previous, recorded):
        old_keys = np.asarray(previous["keys"]).tobytes()
        reuse = {old_keys[i * 16 : (i + 1) * 16]: i for i in range(len(old_keys) // 16)}
    todo = [i for i, key in enumerate(keys) if key not in reuse]
    started = loaded = time.perf_counter()
    new_vectors = np.zeros((0, 0), dtype=np.float32)
    dimensions = int(previous["vectors"].shape[1]) if previous is not None and reuse else 0
    if todo:
        if progress is not None:
            progress(0, len(todo))  # the bar shows while the model loads (or is converted to int8, once)
        embedder = Embedder(settings)
        loaded = time.perf_counter()
        dimensions = embedder.dimensions
        done = [0]

        def step(n: int) -> None:
            done[0] += n
            if progress is not None:
                progress(done[0], len(todo))

        new_vectors = embedder.embed([texts[i] for i in todo], progress=step)
    seconds = time.perf_counter() - loaded
    vectors = np.zeros((len(texts), dimensions), dtype=np.dtype(settings.store_dtype))
    if todo:
        vectors[todo] = new_vectors
    kept = [i for i, key in enumerate(keys) if key in reuse]
    if kept:  # one gather from the old (memory-mapped) vectors, not a row at a time
        vectors[kept] = np.asarray(previous["vectors"])[[reuse[keys[i]] for i in kept]]  # type: ignore[index]
    payload = {
        "vectors": vectors,
        "keys": np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, 16).copy(),
        "settings": recorded,
    }
    stats = {
        "embedded": len(todo),
        "reused": len(texts) - len(todo),
        "seconds": seconds,
        "passages_per_second": len(todo) / seconds if todo and seconds else 0.0,
        "model_seconds": round(loaded - started, 3),
    }  # loading (or converting) the model, not in the rate
    return payload, stats


def inner_product_top(vectors: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every passage's inner product with the query: exact search, one matrix-vector product."""
    scores = vectors @ query.astype(vectors.dtype, copy=False)
    return np.arange(len(vectors), dtype=np.int64), scores.astype(np.float64)


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
        self.settings = EmbeddingSettings.from_dict(payload["settings"])
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
            self._embedder = Embedder(self.settings)
        return self._embedder

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
    schema = PayloadSchema(
        {"vectors": ArraySpec(("float16", "float32"), ndim=2), "keys": ArraySpec(("uint8",), ndim=2)},
        {"settings": (dict,)},
    )
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
        previous = (
            data.previous.payload(DENSE_FILE)
            if data.previous is not None and data.previous.has_payload(DENSE_FILE)
            else None
        )
        payload, stats = build_dense(_embedding_inputs(data.passages), settings, previous, data.progress)
        rounded = {k: round(v, 3) if isinstance(v, float) else v for k, v in stats.items()}
        return Built(payload, {"settings": settings.to_dict(), **rounded})

    def missing(self, index: Index) -> MissingExtraError:
        return MissingExtraError(
            f"{index.path} has no dense vectors",
            hint="build them with `ragcli index PATH --dense` (needs ragcli[dense])",
        )

    def open(self, index: Index, options: SearchOptions) -> DenseScorer:
        return DenseScorer(index)


RETRIEVER = Dense()
