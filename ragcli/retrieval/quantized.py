"""An int8 copy of a sentence-embedding model for ONNX Runtime, built once per model and cached.

Why not PyTorch's own dynamic quantisation: it quantises weights per tensor and activations to
7 bits (fbgemm's reduce_range), which moved all-MiniLM-L6-v2's embeddings to a mean cosine of 0.92
from fp32 and cost 0.025 nDCG@10 on SciFact. ONNX Runtime's dynamic quantisation with per-channel
int8 weights and full 8-bit activations stays at a mean cosine of 0.994 and runs ~1.6x faster than
fp32 PyTorch on a 2-core AVX2 CPU (BENCHMARKS.md). The export and quantisation are the libraries'
own (torch.onnx, onnxruntime.quantization); this module only decides where the result lives and
when it must be rebuilt.

The model is exported with eager attention: its plain MatMul/Softmax graph is what ONNX Runtime
fuses and quantises well (the SDPA export runs ~25% slower). The cache key covers the model files
(name, size, mtime) and RECIPE, so a changed model or recipe builds a new copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any

from ragcli.errors import IndexWriteError, MissingExtraError, ModelUnavailableError, RagcliError
from ragcli.models import cache_root, check_embeds_text, import_transformers
from ragcli.terminal_text import first_line

RECIPE = "onnx-dynamo/eager-attention/dynamic-int8/per-channel/v1"
MODEL_FILE = "model-int8.onnx"


def model_folder(source: str) -> Path | None:
    """The folder holding the model's files: `source` itself, or its snapshot in the Hugging Face cache."""
    if Path(source).is_dir():
        return Path(source)
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(source, "config.json")
    return Path(cached).parent if isinstance(cached, str) else None


def fingerprint(folder: Path) -> str:
    """A key that changes when any of the model's files or the recipe changes (stat only: fast)."""
    digest = hashlib.blake2b(RECIPE.encode(), digest_size=10)
    for path in sorted(folder.iterdir()):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def int8_model(source: str, label: str) -> Path:
    """The cached int8 ONNX file for the model at `source` (a folder or a cached hub id), built if missing."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise MissingExtraError("int8 embedding needs onnxruntime", hint="pip install 'ragcli[dense]'") from None
    folder = model_folder(source)
    if folder is None:  # a hub id not downloaded yet: let transformers fetch it into its cache
        _load(source)
        folder = model_folder(source)
        if folder is None:
            raise ModelUnavailableError(f"cannot find the files of embedding model {label}")
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in label.strip("/").split("/")[-1])[:60]
    target = cache_root() / "models" / f"{slug}-{fingerprint(folder)}" / MODEL_FILE
    if target.exists():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as work:
            exported = Path(work) / "model.onnx"
            _export(source, exported)
            quantized = Path(work) / MODEL_FILE
            with _quiet_logging():  # it suggests a pre-processing step that changes nothing for this graph
                quantize_dynamic(exported, quantized, per_channel=True, weight_type=QuantType.QInt8)
            os.replace(quantized, target)  # atomic: a concurrent build writes the same file
    except OSError as exc:
        raise IndexWriteError(
            f"cannot write the int8 model to {target.parent}: {exc.strerror or exc}",
            hint="set RAGCLI_CACHE to a writable folder, or use --embedding-precision fp32",
        ) from None
    except RagcliError:
        raise
    except Exception as exc:  # the exporter's own errors: a model torch.onnx cannot convert
        raise ModelUnavailableError(
            f"cannot convert embedding model {label} to int8: {first_line(exc)[:200]}",
            hint="use --embedding-precision fp32",
        ) from None
    return target


def _load(source: str) -> tuple[Any, Any]:
    _, transformers = import_transformers("int8 embedding", "dense")
    try:
        model = transformers.AutoModel.from_pretrained(source, attn_implementation="eager").eval()
        tokenizer = transformers.AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"cannot load embedding model {source}: {first_line(exc)}") from None
    check_embeds_text(source, model.config.to_dict())  # a hub model's config is on disk only now
    return model, tokenizer


def _export(source: str, path: Path) -> None:
    """torch.onnx (dynamo) export of the encoder's last hidden state, batch and length dynamic."""
    import torch

    class LastHiddenState(torch.nn.Module):
        """The encoder with named tensor inputs and one output, as the exporter wants it."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> Any:
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state

    model, tokenizer = _load(source)
    example = dict(
        tokenizer(["an example passage", "and a second, longer example passage"], padding=True, return_tensors="pt")
    )
    names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in example]
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length", max=_max_positions(model))
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet), _quiet_logging():
        torch.onnx.export(
            LastHiddenState(model),
            (),
            str(path),
            kwargs={name: example[name] for name in names},
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_shapes={name: {0: batch, 1: length} for name in names},
            dynamo=True,
            external_data=False,
            verbose=False,
        )


def _max_positions(model: Any) -> int:
    return int(getattr(model.config, "max_position_embeddings", 512) or 512)


@contextlib.contextmanager
def _quiet_logging() -> Any:
    """The exporter and quantiser log advice (e.g. "torchvision is not installed") meant for their developers."""
    import logging
    import warnings

    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)
