"""--timeout as a limit on one whole response, which the openai client's HTTP library lacks.

httpx (and httpx2, the fork newer openai clients use) times each connect, write and socket read on its
own: a server that sends its headers and then a byte a second never trips a read timeout, and
`--timeout 3` ran for minutes (httpx issue #1450, "low-and-slow"). Here every request the client sends
(a retry too) starts its own deadline on the sending thread (an httpx "request" event hook), and the
connection pools get a network backend whose reads, writes and connects wait at most until that
deadline: past it, a read fails with the library's own ReadTimeout, which the openai client and ragcli
already report as "did not answer within --timeout". A streamed answer is read on the thread that sent
it, so the deadline covers the whole stream. No thread is started and no socket is closed from outside.

The pools' backend is a private attribute (`_pool._network_backend`, httpcore's ConnectionPool
argument, which httpx does not pass on): where a library version lacks it, the client keeps the
per-read timeouts alone, as before.

--timeout also bounds each wait before a retry: the client waits as long as a server's Retry-After asks,
up to two minutes, so `--timeout 5 --retries 2` took 72 s in silence (`bounded_retries`).
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from typing import Any

_local = threading.local()  # `.at`: the monotonic time this thread's current request must end by
NOTICE_SECONDS = 2.0  # a shorter wait before a retry goes unsaid


def bounded_client(openai: Any, seconds: float) -> Any | None:
    """An HTTP client for the openai client (its `http_client`) whose responses end within `seconds`
    of their request; None when the client's HTTP library is not one this knows."""
    modules = _http_modules(openai)
    if modules is None:
        return None
    _http, core = modules

    def start(request: Any) -> None:
        _local.at = time.monotonic() + seconds

    client = openai.DefaultHttpxClient(event_hooks={"request": [start]})
    for transport in (getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()):
        pool: Any = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is not None:
            pool._network_backend = _Backend(backend, core)
    return client


def bounded_retries(openai: Any, seconds: float, say: Callable[[float, float], None]) -> Any:
    """The openai client's class with each wait before a retry (the server's Retry-After, else its
    backoff) cut to `seconds`; `say(asked, wait)` tells of a wait over NOTICE_SECONDS. A client version
    without `_calculate_retry_timeout` keeps its own waits."""

    class Client(openai.OpenAI):  # type: ignore[misc]
        def _calculate_retry_timeout(self, *args: Any, **kwargs: Any) -> float:
            asked = float(super()._calculate_retry_timeout(*args, **kwargs))
            wait = min(asked, seconds)
            if wait > NOTICE_SECONDS:
                say(asked, wait)
            return wait

    return Client


def _http_modules(openai: Any) -> tuple[Any, Any] | None:
    """The HTTP library the openai client is built on (httpx2 or httpx) and its core (httpcore2 or
    httpcore)."""
    base = getattr(openai, "DefaultHttpxClient", None)
    for http_name, core_name in (("httpx2", "httpcore2"), ("httpx", "httpcore")):
        try:
            http, core = importlib.import_module(http_name), importlib.import_module(core_name)
        except ImportError:
            continue
        if isinstance(base, type) and issubclass(base, http.Client):
            return http, core
    return None


def remaining(timeout: float | None) -> float | None:
    """The time one network operation may wait: its own timeout, cut to what is left of this thread's
    deadline (at least 0)."""
    at: float | None = getattr(_local, "at", None)
    if at is None:
        return timeout
    left = max(0.0, at - time.monotonic())
    return left if timeout is None else min(timeout, left)


class _Stream:
    """A network stream whose every operation ends by the deadline."""

    def __init__(self, inner: Any, core: Any) -> None:
        self._inner, self._core = inner, core

    def _left(self, timeout: float | None, error: type[Exception]) -> float | None:
        left = remaining(timeout)
        if left is not None and left <= 0:
            raise error("the response took longer than --timeout")
        return left

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return bytes(self._inner.read(max_bytes, self._left(timeout, self._core.ReadTimeout)))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout, self._core.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        tls = self._inner.start_tls(ssl_context, server_hostname, self._left(timeout, self._core.ConnectTimeout))
        return _Stream(tls, self._core)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend:
    """A network backend whose connections are _Streams."""

    def __init__(self, inner: Any, core: Any) -> None:
        self._inner, self._core = inner, core

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, **more: Any) -> _Stream:
        stream = self._inner.connect_tcp(host, port, timeout=remaining(timeout), **more)
        return _Stream(stream, self._core)

    def connect_unix_socket(self, path: str, timeout: float | None = None, **more: Any) -> _Stream:
        return _Stream(self._inner.connect_unix_socket(path, timeout=remaining(timeout), **more), self._core)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
