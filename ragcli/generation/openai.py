"""A generator backed by any OpenAI-compatible server, through the official `openai` client library.

Ollama, llama.cpp's llama-server, vLLM, LM Studio, `transformers serve` and OpenAI itself all answer
`POST /v1/chat/completions`; ragcli sends one user message holding the numbered passages, the
answer-style instruction and the question (generation.prompt), and reads the answer back whole
(`--json`, `query -`, `evaluate`: several requests in flight, `--concurrency`) or piece by piece (a
terminal). Where the server is: --base-url, else $RAGCLI_BASE_URL, else $OPENAI_BASE_URL, else
OpenAI's API. The key: the variable --api-key-env names, else $OPENAI_API_KEY; a local server needs
none, and gets a dummy. The key is handed to the client and never printed, stored or put in an error.

A reasoning model (Qwen3, DeepSeek-R1 …) is asked not to think (`chat_template_kwargs`, which vLLM,
SGLang, llama.cpp and `transformers serve` pass to the chat template; not sent to OpenAI's API), and
whatever thinking comes back (`<think>…</think>`) is left out of the answer (generation.base).

The prompt budget is the model's context as the server reports it in /v1/models (vLLM's
`max_model_len`, llama.cpp's `n_ctx_train`, `context_length` …), else --context-tokens, else 4096,
less --max-new-tokens; tokens are approximated as characters / 4 (no tokenizer is at hand for a
remote model), and a server that still finds the prompt too long gets it once more with half the
budget (fewer passages). Retries are the client's own: exponential backoff with jitter, or the wait a
server's Retry-After asks, each wait at most --timeout, on 408, 409, 429, 5xx, timeouts and connection
errors, at most --retries times. Every failure a user can meet
(server down, a refused key, an unknown model, a prompt too long, a stream cut off, a reply that is not
a chat completion: generation.replies) is one line and exit 9 (ModelUnavailableError); the caller
still prints the retrieved sources. (Over 350 lines: about
half is resolving where the server, key and budget are and turning each kind of failure into its one
line; the generator itself is small.)
"""

from __future__ import annotations

import importlib
import os
import re
import time
import warnings
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from ragcli.errors import (
    InvalidOptionError,
    MissingExtraError,
    ModelUnavailableError,
    RagcliError,
    RagcliWarning,
    looks_like_a_variable_name,
    shown_url,
)
from ragcli.generation.base import Generation, GenerationOptions, configured_base_url, settle, strip_reasoning
from ragcli.generation.deadline import bounded_client, bounded_retries
from ragcli.generation.prompt import CHAT, FittedPrompt, fit_prompt, template_for
from ragcli.generation.replies import (
    UNREADABLE,
    UnreadableReply,
    delta_text,
    describe,
    message_text,
    model_ids,
    reading,
)
from ragcli.records import Hit, without_surrogates
from ragcli.terminal_text import first_line

if TYPE_CHECKING:
    from ragcli.retrieval.index import Index

DEFAULT_CONTEXT_TOKENS = 4096
CHARS_PER_TOKEN = 4  # the usual rule of thumb for English text with a BPE tokenizer
MIN_PROMPT_TOKENS = 64
# a reply's length that --max-new-tokens allows, generously (a token is rarely over 16 characters): a server
# that ignores max_tokens sent a 10 MB answer, which ragcli spent ten minutes and a gigabyte on
CHARS_PER_REPLY_TOKEN = 32
REPLY_SLACK_CHARS = 1024
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
DUMMY_KEY = "not-needed"  # the client insists on a key; a local server ignores it
# where servers put the model's context length in /v1/models (vLLM, OpenRouter/LM Studio, Groq, llama.cpp)
CONTEXT_FIELDS = ("max_model_len", "context_length", "context_window", "max_context_length", "n_ctx", "n_ctx_train")
# what servers say of a prompt longer than the model's context: vLLM, SGLang, OpenAI ("maximum context
# length"), llama.cpp ("exceeds the available context size"), Ollama and LM Studio ("context length"),
# `transformers serve` ("the model takes at most 8192 … (`--max-model-len`)"), TGI ("`inputs` tokens +
# `max_new_tokens` must be <= 4096"), Anthropic-style proxies ("prompt is too long")
_CONTEXT_ERROR_RE = re.compile(
    r"context[ _](?:length|window|size)|too long|too many tokens|maximum (?:\w+ )?length|reduce the length|"
    r"exceeds? the (?:available )?context|takes at most \d+|max[-_]model[-_]len|tokens \+ \W*max_new_tokens\W* must be",
    re.IGNORECASE,
)
CONTEXT_ERROR_CODE = "context_length_exceeded"  # OpenAI's error code (and the servers that copy it)
# a 400/422 that is about the model's name (404 always is): vLLM, Ollama, OpenAI, `transformers serve` (pinned)
_MODEL_ERROR_RE = re.compile(
    r"pinned|\bmodel\b[^.]*\b(?:not found|does not exist|unknown|not available|not loaded)|"
    r"(?:unknown|invalid|no such) model|model_not_found",
    re.IGNORECASE,
)
URL_EXAMPLE = "e.g. http://127.0.0.1:11434/v1"
PORT_RANGE = "the port must be a number from 1 to 65535"
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def resolve_base_url(options: GenerationOptions) -> str | None:
    """--base-url, else $RAGCLI_BASE_URL, else $OPENAI_BASE_URL; None: OpenAI's own API. A URL the
    client could not connect to (a bad port, IPv6 address or character) is a usage error here, before
    any work, not a failure deep in the client."""
    for value in (options.base_url, os.environ.get("RAGCLI_BASE_URL"), os.environ.get("OPENAI_BASE_URL")):
        if value and value.strip():
            url = value.strip()
            problem = url_problem(url)
            if problem:
                raise InvalidOptionError(f"--base-url: {shown_url(url)!r} {problem}", hint=URL_EXAMPLE, value=value)
            return url
    return None


def _named_by(options: GenerationOptions) -> str:
    """What to check for the server's URL: $OPENAI_BASE_URL where it alone gave it (`resolve_base_url`)."""
    given = (options.base_url or "", os.environ.get("RAGCLI_BASE_URL", ""), os.environ.get("OPENAI_BASE_URL", ""))
    if [bool(value.strip()) for value in given] == [False, False, True]:
        return "$OPENAI_BASE_URL"
    return "--base-url / RAGCLI_BASE_URL"


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a server's base URL, or None when it can."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return "is not a valid URL (it holds a control character)"
    try:
        parts = urlsplit(url)
        port = parts.port  # reading it checks it: a number, 0-65535
    except ValueError as exc:
        return f"is not a valid URL ({PORT_RANGE if 'Port' in str(exc) else exc})"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "is not an http(s) URL"
    if not parts.hostname:
        return "is not a valid URL (it names no host)"
    if port == 0:
        return f"is not a valid URL ({PORT_RANGE})"
    return None


def resolve_key(options: GenerationOptions, base_url: str | None) -> str:
    """The API key from the variable --api-key-env names (else $OPENAI_API_KEY); a dummy for a local
    server that needs none. Only the variable's name ever appears in a message."""
    name = options.api_key_env or DEFAULT_KEY_ENV
    named = options.api_key_env  # the refused value, which a configuration file may have given
    if not _ENV_NAME_RE.fullmatch(name):
        raise InvalidOptionError("--api-key-env takes the name of an environment variable, not a key", value=named)
    key = os.environ.get(name, "").strip()
    if key and not all(" " <= c <= "~" for c in key):  # what an HTTP header can carry
        raise InvalidOptionError(
            f"the variable {name} holds characters an API key cannot have (only printable ASCII)",
            hint=f"set {name} to the key itself" if named else None,
            value=named,
        )
    if key:
        return key
    if named and not looks_like_a_variable_name(name):  # perhaps the key itself: never printed
        raise InvalidOptionError(
            "--api-key-env takes the NAME of an environment variable holding the key, not the key",
            hint="no variable of the name given is set; the name is not shown, in case it is a key",
            value=named,
        )
    if named:
        raise InvalidOptionError(f"--api-key-env: the variable {name} is not set", value=named)
    if base_url is None:
        raise InvalidOptionError(
            "no server to ask: pass --base-url (or set RAGCLI_BASE_URL) for a local server, "
            "or set OPENAI_API_KEY for OpenAI's API"
        )
    return DUMMY_KEY


def check_server_options(options: GenerationOptions) -> None:
    """The server options' values, checked before any work starts (a malformed --base-url,
    $RAGCLI_BASE_URL or --api-key-env, or a key no HTTP header can carry, is exit 2 before retrieval,
    whichever generator runs; the key where ragcli will use it: a variable named, or a server set)."""
    base_url = resolve_base_url(options)
    if options.api_key_env is not None or configured_base_url(options):
        resolve_key(options, base_url)


def context_of(entry: dict[str, Any] | None) -> int | None:
    """The context length a /v1/models entry reports, if any (top level or llama.cpp's `meta`)."""
    if not entry:
        return None
    meta = entry.get("meta")
    holders: list[dict[str, Any]] = [entry, meta] if isinstance(meta, dict) else [entry]
    for holder in holders:
        for field in CONTEXT_FIELDS:
            value = holder.get(field)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return None


def asks_not_to_think(base_url: str | None) -> bool:
    """Whether requests to this server carry `chat_template_kwargs` (enable_thinking false): any server
    but OpenAI's own API, which refuses fields it does not know."""
    return base_url is not None and urlsplit(base_url).hostname != "api.openai.com"


def approx_tokens(text: str) -> int:
    """Tokens as characters / 4, rounded up (documented: no tokenizer for a remote model)."""
    return -(-len(text) // CHARS_PER_TOKEN)


def first_tokens(text: str, tokens: int) -> str:
    """The beginning of `text` within about `tokens` tokens, cut at a space where there is one."""
    limit = max(0, tokens) * CHARS_PER_TOKEN
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit]


def reply_budget(max_new_tokens: int) -> int:
    """The most characters of a reply ragcli reads; what a server sends past it is left out."""
    return max(0, max_new_tokens) * CHARS_PER_REPLY_TOKEN + REPLY_SLACK_CHARS


def is_context_error(message: str, code: object = None) -> bool:
    """Whether a server's 400/413/422 message (or its error code) says the prompt is longer than the
    model's context."""
    return code == CONTEXT_ERROR_CODE or bool(_CONTEXT_ERROR_RE.search(message))


def import_openai() -> Any:
    try:
        return importlib.import_module("openai")
    except ImportError:
        raise MissingExtraError(
            "the openai generator needs the openai client library", hint='pip install "ragcli[openai]"'
        ) from None


def _transport_errors(openai: Any) -> tuple[type[BaseException], ...]:
    """What reading a response stream can raise when the server goes away: the client's errors and
    its HTTP library's, and OS-level ones."""
    return (openai.APIError, OSError, *_http_library_errors("HTTPError"))


def _timeout_errors(openai: Any) -> tuple[type[BaseException], ...]:
    """What a response that took longer than --timeout raises: the client's error, or, while a stream
    is read, its HTTP library's."""
    return (openai.APITimeoutError, *_http_library_errors("TimeoutException"))


def _dropped_connection_errors() -> tuple[type[BaseException], ...]:
    """What the client's HTTP library raises when the server took the request and then closed the
    connection (or reset it) before its reply was whole, unlike a connection never made."""
    return tuple(
        error for name in ("RemoteProtocolError", "ReadError", "WriteError") for error in _http_library_errors(name)
    )


def _http_library_errors(name: str) -> list[type[BaseException]]:
    """The exception class `name` of the client's HTTP library: httpx, or the fork (httpx2) newer
    clients ship with."""
    errors: list[type[BaseException]] = []
    for library in ("httpx2", "httpx"):
        try:
            errors.append(getattr(importlib.import_module(library), name))
        except (ImportError, AttributeError):
            continue
    return errors


class OpenAIGenerator:
    """Answers with a model behind an OpenAI-compatible chat completions endpoint."""

    name = "openai"

    def __init__(self, model: str | None, options: GenerationOptions | None = None) -> None:
        self.options = options or GenerationOptions()
        self._openai = import_openai()
        self._dropped = _dropped_connection_errors()  # before the first request: /models may meet one
        self.base_url = resolve_base_url(self.options)
        self.where = shown_url(self.base_url) if self.base_url else "OpenAI's API"
        self._key = resolve_key(self.options, self.base_url)
        self._key_env = self.options.api_key_env or DEFAULT_KEY_ENV
        http_client = bounded_client(self._openai, self.options.timeout)  # --timeout: the whole response
        client = bounded_retries(self._openai, self.options.timeout, self._warn_wait)  # --timeout: each wait too
        self.client = client(
            base_url=self.base_url,
            api_key=self._key,
            timeout=self.options.timeout,
            max_retries=self.options.retries,
            **({"http_client": http_client} if http_client is not None else {}),
        )
        self._models_missing = False  # /models answered 404
        self.listed = self._list_models()
        self.model: str = model or self._only_model()
        self.server_context = context_of(self.listed.get(self.model))
        known = [c for c in (self.server_context, self.options.context_tokens) if c]
        self.context_tokens = min(known) if known else DEFAULT_CONTEXT_TOKENS
        self.max_prompt_tokens = self.context_tokens - self.options.max_new_tokens
        if self.max_prompt_tokens < MIN_PROMPT_TOKENS:
            raise InvalidOptionError(
                f"model {self.model}: a context of {self.context_tokens} tokens leaves {self.max_prompt_tokens} "
                "for the prompt",
                hint="lower --max-new-tokens or raise --context-tokens",
            )
        self.template = self.options.prompt_template or template_for(CHAT, self.options.answer_style)
        self._stream_errors = _transport_errors(self._openai)
        self._timeouts = _timeout_errors(self._openai)
        self._length_field = "max_tokens"  # what most servers read; OpenAI's newest models want the other
        # reasoning models (Qwen3 …) would spend --max-new-tokens thinking: ask the chat template not to
        # (vLLM, SGLang, llama.cpp and `transformers serve` pass it on; others ignore it). Not sent to
        # OpenAI's API, which refuses fields it does not know, nor again to a server that refused it
        self._template_kwargs = asks_not_to_think(self.base_url)

    # the server ------------------------------------------------------------------------------------
    def _list_models(self) -> dict[str, dict[str, Any]]:
        """The server's models by id (with whatever it says of them); empty when it lists none. Fails
        fast, with exit 9, when the server cannot be reached or refuses the key."""
        openai = self._openai
        try:
            with reading(self.where, "/models: "):
                return model_ids(self.client.models.list(), self.where)
        except (openai.APIConnectionError, openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise self._error(exc, reply="its list of models") from None
        except openai.APIStatusError as exc:  # no /v1/models here (some proxies): the chat endpoint may still answer
            self._models_missing = exc.status_code == 404
            return {}
        except openai.APIError:
            return {}

    def _only_model(self) -> str:
        """No --model: the server's one model, when it serves exactly one (llama-server, LM Studio …)."""
        if len(self.listed) == 1:
            return next(iter(self.listed))
        hint = self._v1_hint()
        if self._models_missing and hint:
            raise InvalidOptionError(
                f"--base-url: the server at {self.where} has no /models (HTTP 404)",
                hint=hint,
                value=self.options.base_url,
            )
        offered = f" (it offers: {self._offered()})" if self.listed else ""
        raise InvalidOptionError(f"--model: name the model to ask at {self.where}{offered}")

    def _v1_hint(self) -> str | None:
        """For a 404 from a server whose URL does not end in /v1 (Ollama users' usual mistake, the bare
        `http://127.0.0.1:11434`): the URL they most likely meant."""
        if self.base_url is None or urlsplit(self.base_url).path.rstrip("/").endswith("/v1"):
            return None
        return f"the URL usually ends in /v1: {shown_url(self.base_url).rstrip('/')}/v1"

    def _offered(self, most: int = 8) -> str:
        names = sorted(self.listed)
        return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")

    def _server_says(self, exc: Any) -> str:
        """The server's own message from an error response, on one line, without the key."""
        body = getattr(exc, "body", None)
        message: Any = None
        if isinstance(body, dict):
            error = body.get("error")
            message = error.get("message") if isinstance(error, dict) else error
            message = message or body.get("detail") or body.get("message")
        text = without_surrogates(str(message if message else getattr(exc, "message", "") or exc))
        if self._key != DUMMY_KEY:  # the key as a word of its own: a local server's key is often a plain
            # word ("ollama"), and masking it inside other words ("model ***-7b") garbled the message and told it
            text = re.sub(rf"(?<![\w-]){re.escape(self._key)}(?![\w-])", "***", text)
        return " ".join(text.split())[:300]

    def _error(
        self, exc: Any, *, mid_stream: bool = False, reply: str = "the answer", silent_for: float | None = None
    ) -> RagcliError:
        """A client error as a one-line ragcli error (exit 9). A connection the server closed before its
        `reply` was whole (non-streamed: the client wraps the HTTP library's error) is said as a stream
        cut off is, never as a server that cannot be reached; so is a stream that timed out after the
        server had stopped sending (`silent_for`: seconds since its last event), where more time would
        not help."""
        openai = self._openai
        where, model = self.where, getattr(self, "model", None)
        timed_out = isinstance(exc, getattr(self, "_timeouts", (openai.APITimeoutError,)))
        dropped = isinstance(exc, openai.APIConnectionError) and isinstance(exc.__cause__, self._dropped)
        if timed_out and silent_for is not None and self._stalled(silent_for):
            return ModelUnavailableError(
                f"the server at {where} stopped in the middle of {reply} (nothing more for {round(silent_for, 1):g} s)"
            )
        if (mid_stream or dropped) and not timed_out and not isinstance(exc, openai.APIStatusError):
            return ModelUnavailableError(
                f"the server at {where} stopped in the middle of {reply} ({_kind(exc.__cause__ if dropped else exc)})"
            )
        if timed_out:
            return ModelUnavailableError(
                f"the server at {where} did not answer within {self.options.timeout:g} s", hint="raise --timeout"
            )
        if isinstance(exc, openai.APIConnectionError):
            return ModelUnavailableError(
                f"cannot reach the server at {where}", hint=f"start it, or check {_named_by(self.options)}"
            )
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return ModelUnavailableError(
                f"the server at {where} refused the API key (HTTP {exc.status_code})",
                hint=f"set {self._key_env} to a valid key, or name another variable with --api-key-env",
            )
        if isinstance(exc, openai.RateLimitError):
            return ModelUnavailableError(
                f"the server at {where} is limiting requests (HTTP 429) after {self.options.retries} retries",
                hint="lower --concurrency, or try again later",
            )
        if isinstance(exc, openai.APIStatusError):
            says = self._server_says(exc)
            if self._too_long(exc):
                return ModelUnavailableError(
                    f"the prompt is too long for {model} even with fewer passages: {says}",
                    hint="lower --top-k, or set --context-tokens to the model's context",
                )
            if self._about_a_missing_model(exc.status_code, says):
                offered = f"; it offers: {self._offered()}" if self.listed else ""
                return ModelUnavailableError(
                    f"the server at {where} has no model {model!r}{offered}", hint="pass --model with one it offers"
                )
            return ModelUnavailableError(
                f"the server at {where} failed (HTTP {exc.status_code}): {says}",
                hint=self._v1_hint() if exc.status_code == 404 else None,
            )
        return ModelUnavailableError(f"the server at {where} failed: {_kind(exc)}")

    def _stalled(self, silent_for: float) -> bool:
        """Whether a stream under way sent nothing for half of --timeout or more before it ran out: a
        hung server, not an answer longer than --timeout allows (whose events keep coming)."""
        return silent_for >= self.options.timeout / 2

    def _too_long(self, exc: Any) -> bool:
        """Whether an error response says the prompt is longer than the model's context."""
        return exc.status_code in (400, 413, 422) and is_context_error(
            self._server_says(exc), getattr(exc, "code", None)
        )

    def _about_a_missing_model(self, status: int, says: str) -> bool:
        """Whether an error response says the model is not there: a 404, or a 400/422 whose message is
        about the model's name, for a model the server does not list. A 404 for a model it lists (a
        route a proxy left out) is not: the server's own message says what it is."""
        if getattr(self, "model", None) in self.listed:
            return False
        says_so = bool(_MODEL_ERROR_RE.search(says))
        return says_so if status in (400, 422) else status == 404 and (bool(self.listed) or says_so)

    # prompt ----------------------------------------------------------------------------------------
    def prompt(self, question: str, sources: Sequence[Hit], budget: int | None = None) -> FittedPrompt:
        return fit_prompt(
            self.template,
            question,
            sources,
            max_tokens=budget or self.max_prompt_tokens,
            count_tokens=approx_tokens,
            truncate=first_tokens,
        )

    def _request(self, prompt: str, stream: bool) -> Any:
        try:
            return self._create(self._arguments(prompt, stream))
        except self._openai.APIStatusError as exc:
            refused = exc.status_code in (400, 422) and "chat_template_kwargs" in self._server_says(exc)
            if not (refused and self._template_kwargs):
                raise
            self._template_kwargs = False  # a server that refuses the field: ask without it, from now on
            return self._create(self._arguments(prompt, stream))

    def _create(self, arguments: dict[str, Any]) -> Any:
        """One chat completion request; a reply the client cannot parse (not JSON, not UTF-8, too deep)
        is the server's failure, exit 9."""
        with reading(self.where):
            return self.client.chat.completions.create(**arguments)

    def _arguments(self, prompt: str, stream: bool) -> dict[str, Any]:
        o = self.options
        arguments: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            self._length_field: o.max_new_tokens,
            "temperature": o.temperature,
            "stream": stream,
        }
        if o.temperature > 0:
            arguments.update(top_p=o.top_p, seed=o.seed)
        if self._template_kwargs:
            arguments["extra_body"] = {"chat_template_kwargs": {"enable_thinking": False}}
        return arguments

    def _send(self, question: str, sources: Sequence[Hit], stream: bool) -> tuple[Any, FittedPrompt]:
        """The response and the prompt it answers; a prompt the server finds too long is sent once more
        with half the budget (fewer passages)."""
        openai = self._openai
        fitted = self.prompt(question, sources)
        try:
            return self._request(fitted.text, stream), fitted
        except openai.APIStatusError as exc:
            says = self._server_says(exc)
            if exc.status_code == 400 and "max_completion_tokens" in says and self._length_field == "max_tokens":
                self._length_field = "max_completion_tokens"  # OpenAI's reasoning models refuse max_tokens
                return self._send(question, sources, stream)
            if not self._too_long(exc):
                raise self._error(exc) from None
        except openai.APIError as exc:
            raise self._error(exc) from None
        fitted = self.prompt(question, sources, budget=max(MIN_PROMPT_TOKENS, self.max_prompt_tokens // 2))
        try:
            return self._request(fitted.text, stream), fitted
        except openai.APIError as exc:
            raise self._error(exc) from None

    # generation ------------------------------------------------------------------------------------
    def generate(self, question: str, sources: Sequence[Hit]) -> Generation:
        response, fitted = self._send(question, sources, stream=False)
        return settle(self._within_budget(message_text(response, self.where)), question, sources, fitted.sources_used)

    def _within_budget(self, text: str) -> str:
        """`text` cut at the reply budget, with a warning where the server sent more."""
        budget = reply_budget(self.options.max_new_tokens)
        if len(text) > budget:
            self._warn_cut(budget)
        return text[:budget]

    def _warn_cut(self, budget: int) -> None:
        warnings.warn(
            RagcliWarning(
                f"the server at {self.where} sent more than --max-new-tokens {self.options.max_new_tokens} "
                f"allows: the answer is cut at {budget:,} characters"
            ),
            stacklevel=2,
        )

    def _warn_wait(self, asked: float, wait: float) -> None:
        capped = f" (it asked for {round(asked, 1):g} s; --timeout caps the wait)" if asked > wait else ""
        warnings.warn(
            RagcliWarning(f"waiting {round(wait, 1):g} s before retrying the server at {self.where}{capped}"),
            stacklevel=2,
        )

    def generate_many(self, requests: Sequence[tuple[str, Sequence[Hit]]]) -> list[Generation]:
        """Answers in order, with at most `options.concurrency` requests in flight; the first failure
        (in order) is raised."""
        return in_order(lambda request: self.generate(*request), requests, self.options.concurrency)

    def generate_each(self, requests: Sequence[tuple[str, Sequence[Hit]]]) -> Iterator[Generation | RagcliError]:
        """Each request's answer, or the error that failed it, in order: every request is sent, so that
        one refused question costs the others nothing."""
        return outcomes_in_order(lambda request: self.generate(*request), requests, self.options.concurrency)

    def complete(self, prompt: str) -> str:
        """The model's reply to a prompt of the caller's own (an LLM judge's), not a RAG prompt: sent as
        is, never shortened; failures are the same one-line exit-9 errors."""
        try:
            response = self._request(prompt, stream=False)
        except self._openai.APIError as exc:
            raise self._error(exc) from None
        return strip_reasoning(self._within_budget(message_text(response, self.where)))

    def stream(self, question: str, sources: Sequence[Hit]) -> tuple[Iterator[str], Callable[[], Generation]]:
        """Text pieces as the server sends them, and a function returning the finished Generation."""
        response, fitted = self._send(question, sources, stream=True)
        pieces: list[str] = []
        budget = reply_budget(self.options.max_new_tokens)

        def pieces_iter() -> Iterator[str]:
            chunks = received = 0
            last: float | None = None  # when the last event came (monotonic); None before the first
            try:
                for chunk in response:
                    chunks += 1
                    last = time.monotonic()
                    delta = delta_text(chunk, self.where)[: budget - received]
                    if delta:
                        received += len(delta)
                        pieces.append(delta)
                        yield delta
                    if received >= budget:  # the rest, which the server should not have sent, is not read
                        self._warn_cut(budget)
                        break
            except self._stream_errors as exc:
                silent_for = None if last is None else time.monotonic() - last
                raise self._error(exc, mid_stream=True, silent_for=silent_for) from None
            except UnicodeEncodeError:
                raise
            except UNREADABLE as exc:
                raise UnreadableReply(self.where, describe(exc)) from None
            finally:
                response.close()
            if not chunks:  # a body without one event (plain JSON, text, nothing): not a stream
                raise UnreadableReply(self.where, "no server-sent events in the stream")

        def finish() -> Generation:
            return settle("".join(pieces), question, sources, fitted.sources_used)

        return pieces_iter(), finish


def in_order(call: Callable[[_Item], _Result], items: Sequence[_Item], concurrency: int) -> list[_Result]:
    """`call` on every item, results in order, at most `concurrency` calls in flight; the first failure
    (in order) is raised, and the calls not started yet are not made."""
    outcomes = outcomes_in_order(call, items, concurrency)
    results: list[_Result] = []
    try:
        for outcome in outcomes:
            if isinstance(outcome, RagcliError):
                raise outcome
            results.append(outcome)
    finally:
        outcomes.close()  # cancels the calls not started
    return results


def outcomes_in_order(
    call: Callable[[_Item], _Result], items: Sequence[_Item], concurrency: int
) -> Generator[_Result | RagcliError, None, None]:
    """Each item's result, or the RagcliError its call raised, in order, each as soon as it and those
    before it are done, with at most `concurrency` calls in flight (threads: the work is waiting on a
    server). A failed call fails its item alone."""

    def outcome(item: _Item) -> _Result | RagcliError:
        try:
            return call(item)
        except RagcliError as failure:
            return failure

    workers = min(max(1, concurrency), len(items))
    if workers <= 1:
        yield from map(outcome, items)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ragcli-openai")
    futures: list[Future[_Result | RagcliError]] = [pool.submit(outcome, item) for item in items]
    try:
        yield from (future.result() for future in futures)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _kind(exc: BaseException) -> str:
    """An exception as a short phrase (its type and first line), for an error message."""
    first, name = first_line(exc), type(exc).__name__
    return name if first == name else f"{name}: {first[:200]}"


class OpenAIFactory:
    """The `openai` backend: --model on the server at --base-url / $RAGCLI_BASE_URL / $OPENAI_BASE_URL."""

    name = "openai"

    def create(self, model: str | None, options: GenerationOptions, index: Index | None) -> OpenAIGenerator:
        return OpenAIGenerator(model, options)


FACTORY = OpenAIFactory()
