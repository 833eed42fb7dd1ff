"""Model plumbing shared by retrieval (embedding models) and generation (language models).

Where a model comes from (a local folder, the Hugging Face cache, the Hub), which device it runs on,
and where ragcli keeps what it builds (int8 embedding models, indexes of evaluated datasets). Heavy
libraries (huggingface_hub, torch) are imported inside the functions that need them.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragcli.errors import InvalidOptionError, MissingExtraError, ModelUnavailableError, unknown_choice
from ragcli.indexdir import create_new, flock_now, remove_unheld_temporaries, temporary_beside, write_error

HUB_CHECK_SECONDS = 5.0
DEVICES = ("auto", "cpu", "cuda", "mps")
PROBE_MEMORY_SECONDS = 3600.0  # a failed Hub check is remembered this long: no query waits on it again
NOTICE_EVERY_SECONDS = 86400.0  # the same notice is shown at most once a day
STATE_FILE = "state.json"
MIN_PROMPT_TOKENS = 32  # the least a causal model's prompt may have beside its answer's room


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


def missing_libraries() -> list[str]:
    """Which of torch, transformers and huggingface_hub are not installed, from their import specs
    (nothing imported: milliseconds)."""
    from importlib.util import find_spec

    return [module for module in ("torch", "transformers", "huggingface_hub") if find_spec(module) is None]


def check_installed(needed_for: str, extra: str) -> None:
    """MissingExtraError, as `import_transformers` says it, when a library is missing; without importing
    any (the checks that need no torch run first)."""
    missing = missing_libraries()
    if missing:
        raise MissingExtraError(
            f"{needed_for} needs torch and transformers ({missing[0]} is not installed)",
            hint=f"pip install 'ragcli[{extra}]'",
        )


def cache_root() -> Path:
    """ragcli's own cache (built int8 models, indexes of evaluated datasets, the state file):
    $RAGCLI_CACHE, else the platform's user cache folder (platformdirs: $XDG_CACHE_HOME/ragcli or
    ~/.cache/ragcli on Linux)."""
    base = os.environ.get("RAGCLI_CACHE")
    if base:  # `~` expanded, as for $RAGCLI_CONFIG: a quoted RAGCLI_CACHE='~/c' was a folder named `~`
        return Path(base).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("ragcli", appauthor=False))


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


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity), which a container or `taskset` may narrow."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def check_device(requested: str) -> str:
    """`requested` if it names a device kind ragcli knows (checked before any work starts)."""
    if requested not in DEVICES:
        raise unknown_choice("device", requested, DEVICES)
    return requested


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _offline() -> bool:
    """HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE: never ask the Hub."""
    if _truthy("HF_HUB_OFFLINE") or _truthy("TRANSFORMERS_OFFLINE"):
        return True
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


# --- the state file: what ragcli remembers between runs (failed Hub checks, notices shown) -----------


def state_path() -> Path:
    """The small JSON file in ragcli's cache folder ($RAGCLI_CACHE moves it, as it moves the cache)."""
    return cache_root() / STATE_FILE


def read_state() -> dict[str, Any]:
    """The remembered state; an absent, unreadable or damaged file is an empty one (it is a convenience:
    losing it costs one Hub check and one notice, never a failure)."""
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(section: str, key: str, value: float) -> None:
    """Record `value` under state[section][key]; atomic (a temporary file renamed over the old), and
    silent when the cache folder cannot be written (a read-only home still answers queries). The
    temporary file is created anew under a fresh name (`create_new`, as in an index folder): a link
    or FIFO planted in the cache folder is never written through or blocked on. It is flocked until it
    is renamed, so that the sweep each write ends with removes only those a killed write left."""
    state = read_state()
    entries = state.get(section)
    entries = dict(entries) if isinstance(entries, dict) else {}
    entries[key] = value
    state[section] = entries
    path = state_path()
    temporary = temporary_beside(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = create_new(temporary)
    except OSError:  # RAGCLI_CACHE naming a file, a read-only folder: nothing was created
        return
    flock_now(descriptor)  # held until it is renamed: another process's sweep below leaves it alone
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(state, indent=1, sort_keys=True))
            handle.flush()
            os.replace(temporary, path)  # replaces whatever stands there (a link too), never writes through it
    except OSError:
        with contextlib.suppress(OSError):  # the file this call created, and only that
            temporary.unlink(missing_ok=True)
    remove_unheld_temporaries(path.parent, path.name)  # what a write killed (SIGKILL) before left


def _remembered(section: str, key: str) -> float | None:
    entries = read_state().get(section)
    value = entries.get(key) if isinstance(entries, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def once_a_day(key: str, now: float | None = None) -> bool:
    """True when the notice `key` was not shown in the last day, and remember that it is shown now."""
    now = time.time() if now is None else now
    shown = _remembered("notices", key)
    if shown is not None and 0 <= now - shown < NOTICE_EVERY_SECONDS:
        return False
    _remember("notices", key, now)
    return True


@dataclass(frozen=True)
class Availability:
    """Whether a generation model can be loaded now, decided without loading it (and, when it is cached
    or known unreachable, without the network): the answer of `probe_model`."""

    available: bool
    reason: str = ""  # why not: one clause for the notice
    missing_extra: str | None = None  # the extra to install when the libraries themselves are missing


def probe_model(name: str, extra: str = "generate", now: float | None = None) -> Availability:
    """Can model `name` be loaded? In milliseconds when it can be told without the network: the
    libraries installed (import specs, nothing imported), a local folder, the Hugging Face cache
    (huggingface_hub's try_to_load_from_cache), HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE, a Hub check that
    failed in the last hour (remembered in the state file). Else one Hub check (at most
    HUB_CHECK_SECONDS), whose failure is remembered."""
    missing = missing_libraries()
    if missing:
        return Availability(False, f"{missing[0]} is not installed", missing_extra=extra)
    folder = Path(name).expanduser()
    if folder.is_dir():
        return Availability(True)
    if folder.exists() or name.startswith((".", "/", "~")):
        return Availability(False, f"model folder {name} does not exist or is not a folder")
    if _cached(name):
        return Availability(True)
    if _offline():
        return Availability(False, f"model {name} is not in the Hugging Face cache and HF_HUB_OFFLINE is set")
    now = time.time() if now is None else now
    failed = _remembered("hub_unreachable", name)
    if failed is not None and 0 <= now - failed < PROBE_MEMORY_SECONDS:
        minutes = max(1, round((failed + PROBE_MEMORY_SECONDS - now) / 60))
        return Availability(
            False,
            f"model {name} is not in the Hugging Face cache and the Hub could not be reached "
            f"(checked {max(0, round((now - failed) / 60))} min ago; again in {minutes} min)",
        )
    reason = _hub_check(name)
    if reason:
        _remember("hub_unreachable", name, now)
        return Availability(False, reason)
    return Availability(True)


def _cached(name: str) -> bool:
    """Is model `name`'s config in the Hugging Face cache?"""
    return _cached_file(name, "config.json") is not None


def _cached_file(name: str, filename: str) -> Path | None:
    """Model `name`'s file `filename` (config.json…) in the Hugging Face cache, or None. huggingface_hub's
    try_to_load_from_cache answers; it is asked only when the model's cache folder exists
    (`models--org--name`, the cache's documented layout), since importing it costs ~0.2 s a query
    spends on nothing when the model was never downloaded. Without huggingface_hub (the `generate`
    extra) nothing is cached that ragcli could load: None, and `-g auto` answers extractively."""
    try:
        from huggingface_hub import constants
    except ImportError:
        return None

    if not (Path(constants.HF_HUB_CACHE) / f"models--{name.replace('/', '--')}").is_dir():
        return None
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(name, filename)
    except Exception:  # an id that is not a valid repo name
        return None
    return Path(found) if isinstance(found, str) else None


def model_config(name: str, filename: str = "config.json") -> dict[str, Any] | None:
    """Model `name`'s config.json (or `filename`: tokenizer_config.json) as it is on disk, read before
    anything is loaded (no transformers import): a local folder's, or the Hugging Face cache's copy of a
    hub id's. None where there is none to read (a hub id not downloaded yet: its loader checks the
    config it fetches) or it is no JSON object (the loader says what is wrong with it)."""
    folder = Path(name).expanduser()
    path = folder / filename if folder.is_dir() else _cached_file(name, filename)
    return None if path is None else _json_object(path)


def _json_object(path: Path) -> dict[str, Any] | None:
    """The JSON object in file `path`; None where it is no regular file or holds no JSON object."""
    if not path.is_file():  # a FIFO is never opened
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# the heads of transformers' text-generating architectures (GPT2LMHeadModel, T5ForConditionalGeneration…)
GENERATIVE_HEADS = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration", "ForSeq2SeqLM", "MTModel")
# encoders, as a config that names no architecture says by its model_type: transformers would load
# one as a causal model (BertLMHeadModel) with a head it never learned
ENCODER_TYPES = frozenset(
    {"albert", "bert", "camembert", "deberta", "deberta-v2", "distilbert", "electra", "modernbert", "mpnet"}
    | {"roberta", "xlm-roberta"}
)
# what a tokenizer loads from: its own file, or a vocabulary (sentencepiece, BPE, WordPiece)
TOKENIZER_FILES = (
    *("tokenizer.json", "spiece.model", "tokenizer.model", "sentencepiece.bpe.model", "source.spm"),
    *("vocab.json", "vocab.txt"),
)


def check_generates_text(model: str, config: Mapping[str, Any] | None) -> None:
    """Refuse (exit 9) a model whose config names only architectures that generate no text (a BERT
    encoder, a sentence-embedding model), or, naming none, whose model_type is an encoder's:
    AutoModelForCausalLM loads BERT as a decoder it never was, which answers word salad, and training it
    fails deep inside with a tensor error. One check for every command that generates, on the config
    read from disk (`model_config`) before any work or on the one a loader fetched."""
    config = config or {}
    names = config.get("architectures")
    names = [str(name) for name in names] if isinstance(names, list) else []
    named = f"architecture {', '.join(names)}" if names else f"model_type {config.get('model_type')} (an encoder)"
    if (names and not any(name.endswith(GENERATIVE_HEADS) for name in names)) or (
        not names and config.get("model_type") in ENCODER_TYPES
    ):
        raise ModelUnavailableError(
            f"model {model} does not generate text: its config.json names {named}, not a causal "
            "(…ForCausalLM, …LMHeadModel) or seq2seq (…ForConditionalGeneration) language model",
            hint="name a seq2seq (T5-style) or causal (GPT-2-style) language model",
            value=model,
        )


def check_model_folder(model: str) -> None:
    """Refuse (exit 9) a local model folder that cannot be a whole model, from its files alone (no
    torch): without config.json transformers says "Unrecognized model" (a LoRA adapter's folder has
    adapter_config.json instead), and without tokenizer files (`check_tokenizer_files`) every word is
    <unk>. A hub id is left to its loader."""
    folder = Path(model).expanduser()
    if not folder.is_dir():
        return
    if not (folder / "config.json").is_file():
        if (folder / "adapter_config.json").is_file():
            raise ModelUnavailableError(
                f"model folder {model} holds only a LoRA adapter (adapter_config.json), not a model",
                hint="merge it into its base model first with peft's merge_and_unload and save_pretrained; "
                "ragcli train generator --lora saves a merged model",
                value=model,
            )
        raise ModelUnavailableError(
            f"model folder {model} has no config.json",
            hint="name the folder save_pretrained wrote, with config.json, the weights and the tokenizer files",
            value=model,
        )
    check_tokenizer_files(model)


def check_tokenizer_files(model: str) -> None:
    """Refuse (exit 9) a local model folder without tokenizer files: transformers 5 then builds an empty
    tokenizer that reads every word as <unk>, which a model answers, training trains on and an embedding
    model embeds every passage alike with (a tokenizer that reads bytes has no vocabulary file, and
    passes). A hub id, or a folder not there, is left to its loader."""
    folder = Path(model).expanduser()
    if (
        folder.is_dir()
        and not any((folder / name).is_file() for name in TOKENIZER_FILES)
        and not _needs_no_vocabulary(folder)
    ):
        raise ModelUnavailableError(
            f"model folder {model} has no tokenizer files: tokenizer.json, or a vocabulary such as spiece.model",
            hint="save the model's tokenizer there too, with tokenizer.save_pretrained",
            value=model,
        )


def _needs_no_vocabulary(folder: Path) -> bool:
    """Whether the tokenizer class `folder`'s tokenizer_config.json names loads from no vocabulary file
    (ByT5's bytes, CANINE's code points): save_pretrained writes only its config. transformers says which
    files a class reads; it is imported (without torch) only for a folder that has none of them."""
    config = _json_object(folder / "tokenizer_config.json") or {}
    name = config.get("tokenizer_class")
    if not isinstance(name, str) or not name.isidentifier():
        return False
    try:
        import transformers
    except ImportError:  # its loader then names the extra to install
        return True
    try:
        tokenizer = getattr(transformers, name)
        return isinstance(tokenizer, type) and getattr(tokenizer, "vocab_files_names", None) == {}
    except (AttributeError, ImportError):  # a class transformers lacks, or one whose backend is missing
        return False


def check_generator_model(model: str, max_new_tokens: int | None = None) -> None:
    """What the disk tells about a generation model before any work: a local folder's files and the
    kind of model its config.json (a folder's, or the Hugging Face cache's) names (exit 9), and whether
    `max_new_tokens` leaves a causal model room for a prompt (exit 2)."""
    check_model_folder(model)
    config = model_config(model)
    check_generates_text(model, config)
    if max_new_tokens is not None and config is not None and not config.get("is_encoder_decoder"):
        tokenizer = model_config(model, "tokenizer_config.json") or {}
        context = context_tokens(
            tokenizer.get("model_max_length"), config.get("max_position_embeddings"), config.get("n_positions")
        )
        if context is not None:
            check_answer_room(model, context, max_new_tokens, InvalidOptionError)


def context_tokens(*limits: object) -> int | None:
    """A model's input length: the least of the limits its tokenizer and config state (a tokenizer
    that states none says 1e30, which is none), or None where none is stated."""
    stated = [v for v in limits if isinstance(v, int) and not isinstance(v, bool) and 0 < v < 1_000_000]
    return min(stated) if stated else None


def check_answer_room(
    model: str, context: int, max_new_tokens: int, error: type[InvalidOptionError] | type[ModelUnavailableError]
) -> int:
    """The tokens a causal model of `context` tokens leaves its prompt beside `max_new_tokens` of
    answer; fewer than MIN_PROMPT_TOKENS is `error`, naming the largest --max-new-tokens that works:
    a usage error (exit 2) when read from disk before any work, else (a model that had to be loaded
    to know it) the model that cannot be used so (exit 9)."""
    room = context - max_new_tokens
    if room < MIN_PROMPT_TOKENS:
        largest = context - MIN_PROMPT_TOKENS
        raise error(
            f"--max-new-tokens {max_new_tokens}: model {model} reads at most {context} tokens, which leaves "
            f"{max(room, 0)} for the prompt (it needs {MIN_PROMPT_TOKENS})",
            hint=f"pass --max-new-tokens {largest} or less" if largest > 0 else "use a model with a longer input",
            value=model,
        )
    return room


def _hub_check(name: str) -> str | None:
    """None when the Hub knows model `name`; else why it cannot be had."""
    from huggingface_hub import model_info

    try:
        model_info(name, timeout=HUB_CHECK_SECONDS)
    except Exception as exc:
        return f"model {name} is not in the Hugging Face cache and the Hub cannot be reached ({type(exc).__name__})"
    return None


def resolve_model(name: str) -> tuple[str, bool]:
    """(what to pass to from_pretrained, local_files_only) or ModelUnavailableError saying why not."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser()), True
    if Path(name).expanduser().exists() or name.startswith((".", "/", "~")):
        raise ModelUnavailableError(f"model folder {name} does not exist or is not a folder", value=name)
    if _cached(name):
        return name, True
    if _offline():
        raise ModelUnavailableError(
            f"model {name} is not in the Hugging Face cache and HF_HUB_OFFLINE is set", value=name
        )
    reason = _hub_check(name)
    if reason:
        raise ModelUnavailableError(reason, value=name)
    return name, False


def check_embeds_text(model: str, config: Mapping[str, Any] | None) -> None:
    """Refuse (exit 9) an encoder-decoder (T5, BART) as an embedding model: embedding pools an
    encoder's output, and such a model's forward wants decoder inputs too ("You must specify exactly one
    of input_ids or inputs_embeds") and cannot be exported to int8. One check for dense retrieval and
    `train retriever`, on the config read from disk (`model_config`) before any work or on the one a
    loader fetched."""
    if config and config.get("is_encoder_decoder"):
        raise ModelUnavailableError(
            f"embedding model {model} is an encoder-decoder ({config.get('model_type')}) model",
            hint="name a sentence-embedding model: an encoder such as BERT or MiniLM",
        )


def check_device_present(requested: str, option: str = "--device", needed_for: tuple[str, str] | None = None) -> None:
    """An explicit cuda or mps this machine lacks: exit 2 before any work, not after the sources are
    printed and the model is loaded (`option`: the option that asked, named in the message). Imports
    torch, so only when one of them is asked for. Without torch installed, `needed_for` (what needs it
    and the extra that installs it, as `import_transformers` takes them: the embedding's device) makes
    that the error now; without it nothing is said, since what needs torch says so itself (the
    generator's --device: `-g auto` falls back to the extractive generator, which needs no torch)."""
    if requested not in ("cuda", "mps"):
        return
    if needed_for is not None:
        pick_device(requested, import_transformers(*needed_for)[0], option)
        return
    try:
        import torch
    except ImportError:
        return
    pick_device(requested, torch, option)


def pick_device(requested: str, torch: Any, option: str = "--device") -> str:
    """The device to run on: `requested`, or for auto CUDA, then MPS, then the CPU (`option`: the
    option that asked, for the message when the device is not there)."""
    if check_device(requested) == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise InvalidOptionError(f"{option} cuda: no CUDA device is available")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise InvalidOptionError(f"{option} mps: MPS is not available")
    return requested
