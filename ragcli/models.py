"""Model plumbing shared by retrieval (embedding models) and generation (language models).

Where a model comes from (a local folder, the Hugging Face cache, the Hub), which device it runs on,
and where ragcli keeps what it builds (int8 embedding models, indexes of evaluated datasets). Heavy
libraries (huggingface_hub, torch) are imported inside the functions that need them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ragcli.errors import InvalidOptionError, MissingExtraError, ModelUnavailableError
from ragcli.indexdir import write_error

HUB_CHECK_SECONDS = 5.0
DEVICES = ("auto", "cpu", "cuda", "mps")


def import_transformers(needed_for: str, extra: str) -> tuple[Any, Any]:
    """(torch, transformers), with transformers' own logging and progress bars silenced (stderr
    belongs to ragcli's messages); a missing install is a one-line MissingExtraError naming the extra."""
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise MissingExtraError(
            f"{needed_for} needs torch and transformers ({exc.name} is not installed)",
            hint=f"pip install 'ragcli[{extra}]'",
        ) from None
    logging: Any = transformers.logging  # untyped functions
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    return torch, transformers


def cache_root() -> Path:
    """ragcli's own cache (built int8 models, indexes of evaluated datasets): $RAGCLI_CACHE, else
    $XDG_CACHE_HOME/ragcli, else ~/.cache/ragcli."""
    base = os.environ.get("RAGCLI_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "ragcli"
    )
    return Path(base)


def cache_dir() -> Path:
    """ragcli's cache folder, created if needed; one that cannot be (RAGCLI_CACHE naming a file, a
    read-only or full disk) is exit 12 saying so."""
    folder = cache_root()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(
            f"cannot create ragcli's cache folder {folder}", exc, option="set RAGCLI_CACHE to a writable folder"
        ) from None
    return folder


def check_device(requested: str) -> str:
    """`requested` if it names a device kind ragcli knows (checked before any work starts)."""
    if requested not in DEVICES:
        raise InvalidOptionError(f"unknown device {requested!r}", hint=f"choose one of {', '.join(DEVICES)}")
    return requested


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def resolve_model(name: str) -> tuple[str, bool]:
    """(what to pass to from_pretrained, local_files_only) or ModelUnavailableError saying why not."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser()), True
    if Path(name).expanduser().exists() or name.startswith((".", "/", "~")):
        raise ModelUnavailableError(f"model folder {name} does not exist or is not a folder")
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(name, "config.json")
    except Exception:  # an id that is not a valid repo name
        cached = None
    if isinstance(cached, str):
        return name, True
    if _offline():
        raise ModelUnavailableError(f"model {name} is not in the Hugging Face cache and HF_HUB_OFFLINE is set")
    from huggingface_hub import model_info

    try:
        model_info(name, timeout=HUB_CHECK_SECONDS)
    except Exception as exc:
        raise ModelUnavailableError(
            f"model {name} is not in the Hugging Face cache and the Hub cannot be reached ({type(exc).__name__})"
        ) from None
    return name, False


def pick_device(requested: str, torch: Any) -> str:
    """The device to run on: `requested`, or for auto CUDA, then MPS, then the CPU."""
    if check_device(requested) == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise InvalidOptionError("--device cuda: no CUDA device is available")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise InvalidOptionError("--device mps: MPS is not available")
    return requested
