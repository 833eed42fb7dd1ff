"""Reading what an OpenAI-compatible server sent back, without trusting its shape.

The openai client builds its response objects without validating them, so a server (or a proxy in
front of it) can hand ragcli a `choices` that is a string, a message content that is a number, a body
that is not JSON, not UTF-8 or nested deeper than Python's recursion limit. Each of those is the
server's fault, not ragcli's: it is told as one line and exit 9 (ModelUnavailableError), like any other
server failure, never as an internal error. Text that is kept has its lone surrogates (JSON's
`"\\ud800"`, which no encoder can write) replaced with U+FFFD, so printing it or writing it as JSON works.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ragcli.errors import ModelUnavailableError
from ragcli.records import without_surrogates

# what parsing and walking a malformed reply raises: JSONDecodeError and UnicodeDecodeError are
# ValueErrors (so is pydantic's ValidationError), a wrong type is a TypeError/AttributeError, a
# too-deep body a RecursionError
UNREADABLE: tuple[type[BaseException], ...] = (ValueError, TypeError, AttributeError, LookupError, RecursionError)


class UnreadableReply(ModelUnavailableError):
    """The server answered, but with something that is not an OpenAI chat completion (exit 9)."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"the server at {where} sent a reply ragcli cannot read ({why})")


@contextmanager
def reading(where: str, what: str = "") -> Iterator[None]:
    """Around the client reading a reply: what it cannot parse is UnreadableReply. A request it could
    not write (UnicodeEncodeError) is not the server's doing and goes on as it is."""
    try:
        yield
    except UnicodeEncodeError:
        raise
    except UNREADABLE as exc:
        raise UnreadableReply(where, what + describe(exc)) from None


def describe(exc: BaseException) -> str:
    """A parsing failure as a short phrase: its type and the first line of its message."""
    lines = without_surrogates(str(exc)).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:160]}" if lines else type(exc).__name__


def content_text(content: Any) -> str | None:
    """A message's (or a streamed delta's) content as text: a string as is, a list of parts (OpenAI's
    newer shape, `[{"type": "text", "text": …}]`) as its text parts joined, none as ""; None for any
    other shape."""
    if content is None:
        return ""
    if isinstance(content, str):
        return without_surrogates(content)
    if isinstance(content, list):
        texts = [_part_text(part) for part in content]
        if all(text is None for text in texts) and content:
            return None
        return without_surrogates("".join(text for text in texts if text))
    return None


def _part_text(part: Any) -> str | None:
    """The text of one content part, "" for a part of another type (an image, a refusal), None for
    something that is not a part at all."""
    kind = part.get("type") if isinstance(part, dict) else getattr(part, "type", None)
    text = part.get("text") if isinstance(part, dict) else getattr(part, "text", None)
    if not isinstance(kind, str):
        return None
    if kind == "text":
        return text if isinstance(text, str) else None
    return ""


def message_text(response: Any, where: str) -> str:
    """The text of a chat completion's first choice ("" when the server sent none); UnreadableReply
    when the completion is not one."""
    choice = _first_choice(_completion(response, where), where, "")
    if choice is None:
        return ""
    message = getattr(choice, "message", None)
    if message is None:
        raise UnreadableReply(where, f"the first choice is {_a(choice)} without a message")
    return _text_of(message, where, "the answer")


def _completion(response: Any, where: str) -> Any:
    """`response` when it is a chat completion; UnreadableReply when it has no `choices` at all: a body
    that is not JSON (the client hands it over as text), or an object of another shape (`{}`), neither
    of which is a model's empty answer (an empty `choices` list is one)."""
    if isinstance(response, str):
        raise UnreadableReply(where, "the body is text, not JSON")
    if getattr(response, "choices", None) is None:
        raise UnreadableReply(where, "no 'choices': not a chat completion")
    return response


def delta_text(chunk: Any, where: str) -> str:
    """The text of one streamed chunk's first choice ("" when it holds none); UnreadableReply when the
    chunk is not one."""
    choice = _first_choice(chunk, where, " in the stream")
    delta = getattr(choice, "delta", None) if choice is not None else None
    if delta is None:
        return ""  # no choice, or a chunk with a finish reason and no delta
    return _text_of(delta, where, "a piece of the answer")


def _first_choice(reply: Any, where: str, within: str) -> Any | None:
    """A completion's or a chunk's first choice, None when it has none."""
    choices = getattr(reply, "choices", None)
    if not choices:
        return None
    if not isinstance(choices, list):
        raise UnreadableReply(where, f"'choices'{within} is {_a(choices)}, not a list")
    return choices[0]


def _text_of(part: Any, where: str, what: str) -> str:
    """The text of a message or a delta: its content as text, else UnreadableReply naming `what`."""
    content = getattr(part, "content", None)
    text = content_text(content)
    if text is None:
        raise UnreadableReply(where, f"{what} is {_a(content)}, not text")
    return text


def model_ids(page: Any, where: str) -> dict[str, dict[str, Any]]:
    """The models a /v1/models page lists, by id, with whatever the server says of them."""
    data = getattr(page, "data", None)
    if data is None:
        return {}
    if not isinstance(data, list):
        raise UnreadableReply(where, f"/models: 'data' is {_a(data)}, not a list")
    listed: dict[str, dict[str, Any]] = {}
    for entry in data:
        name = getattr(entry, "id", None)
        if isinstance(name, str) and name:
            dump = entry.model_dump() if hasattr(entry, "model_dump") else {}
            listed[without_surrogates(name)] = dump if isinstance(dump, dict) else {}
    return listed


def _a(value: Any) -> str:
    """`value`'s JSON kind with its article, for a message ("a string", "an int" …)."""
    kind = {str: "string", int: "number", float: "number", bool: "boolean", dict: "object", list: "list"}.get(
        type(value), type(value).__name__
    )
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
