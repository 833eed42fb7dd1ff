"""Texts → an embedding model's input arrays (input_ids, attention_mask, token_type_ids).

When the model folder has a `tokenizer.json` (every fast tokenizer saved by transformers does), the
`tokenizers` library reads it directly: it is the same Rust tokenizer transformers wraps, but loading
it does not import transformers, which imports torch (~1.5 s). So an int8 dense query, which runs
in ONNX Runtime, starts without either. Models without a tokenizer.json use transformers'
AutoTokenizer. tests/test_dense.py checks that both give the same arrays.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ragcli.errors import MissingExtraError, ModelUnavailableError
from ragcli.terminal_text import first_line

Tokenize = Callable[[Sequence[str]], dict[str, np.ndarray]]


def make_tokenizer(source: str, folder: Path | None, max_tokens: int) -> Tokenize:
    """A batch tokenizer: truncation to `max_tokens`, padding to the longest text of the batch."""
    fast = _from_tokenizer_json(folder, max_tokens) if folder is not None else None
    return fast if fast is not None else _from_transformers(source, max_tokens)


def _special_token(config: dict[str, Any], key: str) -> str | None:
    value = config.get(key)
    return value.get("content") if isinstance(value, dict) else value


def _from_tokenizer_json(folder: Path, max_tokens: int) -> Tokenize | None:
    """The tokenizers-library path, or None when the folder lacks what it needs (then transformers)."""
    path = folder / "tokenizer.json"
    if not path.is_file():
        return None
    from tokenizers import Tokenizer

    config: dict[str, Any] = {}
    for name in ("special_tokens_map.json", "tokenizer_config.json"):  # the later file wins, as in transformers
        with contextlib.suppress(OSError, ValueError):
            config.update(json.loads((folder / name).read_text(encoding="utf-8")))
    pad_token = _special_token(config, "pad_token")
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception:  # a tokenizer.json this tokenizers version cannot read: let transformers try
        return None
    pad_id = tokenizer.token_to_id(pad_token) if pad_token else None
    if pad_id is None:
        return None
    tokenizer.enable_truncation(max_length=max_tokens, direction=config.get("truncation_side", "right"))
    tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token, direction=config.get("padding_side", "right"))

    def tokenize(texts: Sequence[str]) -> dict[str, np.ndarray]:
        encodings = tokenizer.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }

    return tokenize


def _from_transformers(source: str, max_tokens: int) -> Tokenize:
    try:
        import transformers
    except ImportError:
        raise MissingExtraError("dense retrieval needs transformers", hint="pip install 'ragcli[dense]'") from None
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(
            f"cannot load the tokenizer of embedding model {source}: {first_line(exc)}"
        ) from None

    def tokenize(texts: Sequence[str]) -> dict[str, np.ndarray]:
        encoded = tokenizer(list(texts), padding=True, truncation=True, max_length=max_tokens, return_tensors="np")
        return {name: np.asarray(value, dtype=np.int64) for name, value in encoded.items()}

    return tokenize
