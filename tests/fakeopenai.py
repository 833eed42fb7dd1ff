"""A small OpenAI-compatible HTTP server on 127.0.0.1 (stdlib http.server in a thread) that sends
exactly the bytes a test gives it: malformed replies, and replies that trickle a byte at a time, which
no real server sends on purpose. Started and stopped by the test (a context manager)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODELS = json.dumps({"object": "list", "data": [{"id": "fake", "object": "model"}]}).encode()


def completion(content: Any) -> bytes:
    """A chat completion whose first choice's message content is `content` (any JSON value)."""
    message = {"role": "assistant", "content": content}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    return json.dumps({"id": "c", "object": "chat.completion", "model": "fake", "choices": [choice]}).encode()


@dataclass
class Reply:
    """What one endpoint sends: a status, a body (raw bytes) and its content type; with `trickle`, the
    body goes out one byte every `trickle` seconds (after the headers), forever when `endless`; with
    `stall`, the body goes out and then nothing, the connection left open (a backend that hung halfway);
    with `drop`, nothing: the connection is closed once the request is read."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"
    trickle: float = 0.0
    endless: bool = False
    stall: bool = False
    drop: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # more headers (Retry-After …)


@dataclass
class FakeServer:
    chat: Reply | Callable[[bytes], Reply]  # or what to send for a request's body (one question fails)
    models: Reply = field(default_factory=lambda: Reply(MODELS))
    url: str = ""
    stop: threading.Event = field(default_factory=threading.Event)
    authorizations: list[str] = field(default_factory=list)  # each chat request's Authorization header


def _handler(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._send(fake.models if self.path.rstrip("/").endswith("/models") else Reply(b"{}", 404))

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fake.authorizations.append(self.headers.get("Authorization", ""))
            chat = fake.chat(body) if callable(fake.chat) else fake.chat
            self._send(chat if self.path.endswith("/chat/completions") else Reply(b"{}", 404))

        def _send(self, reply: Reply) -> None:
            if reply.drop:
                self.close_connection = True
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.endless or reply.stall:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            try:
                if reply.endless:
                    while not fake.stop.wait(reply.trickle):
                        self.wfile.write(b"1\r\n \r\n")  # one more space, forever
                        self.wfile.flush()
                elif reply.stall:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(reply.body), reply.body))  # one chunk, no last one
                    self.wfile.flush()
                    fake.stop.wait()
                elif reply.trickle:
                    for byte in reply.body:
                        if fake.stop.wait(reply.trickle):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                else:
                    self.wfile.write(reply.body)
            except OSError:  # the client went away (as it should, on its timeout)
                self.close_connection = True

    return Handler


@contextmanager
def fake_server(chat: Reply | Callable[[bytes], Reply], models: Reply | None = None) -> Iterator[FakeServer]:
    """A FakeServer answering on a free loopback port until the block ends."""
    fake = FakeServer(chat, models or Reply(MODELS))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
