"""E-mail: one message per `.eml` file, every message of an `.mbox` mailbox (Thunderbird, Gmail's Takeout,
`mutt`), each a document titled by its subject.

Read as text before, a message indexed its routing headers (Received, DKIM signatures, Message-IDs),
its MIME boundaries and the base64 of every attachment. Here a message's text is who sent it to whom
and when, then its body: the plain-text part, else the HTML part's visible text; attachments are
named, never read. Its metadata (`from`, `to`, `date` as ISO 8601, `subject`) can be filtered on
(`--where`). Parsed with the standard library's `email` package (its modern policy decodes MIME
words, charsets and transfer encodings); the mailbox is split by hand on its "From " lines, because
`mailbox.mbox` opens the file itself and would read past the size limit and around the walk (a
`.mbox.gz` is read like a `.mbox`). A message cites the line it starts on; a passage of a plain-text
body sent as written (no base64, no quoted-printable) its own line of the file, as a text file's does.
A message that cannot be decoded is skipped with the reason, the rest of the mailbox still read; one
larger than `--max-expanded-size` likewise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.errors import MessageError
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import parsedate_to_datetime
from typing import Any

from ragcli.readers.base import PARSE_ERRORS, Skip, SourceInput, SuffixReader, problem
from ragcli.readers.markup import html_text
from ragcli.records import Document, same_line
from ragcli.terminal_text import without_terminal_sequences

_ESCAPED_FROM = re.compile(rb"^>(>*From )")  # mboxrd quotes a body line "From " as ">From "
_SHOWN_HEADERS = ("from", "to", "cc", "date")
# What decoding an untrusted message may raise inside the standard library's email package: a charset
# Python does not know (LookupError), a header its parser gives up on (MessageError), and the
# IndexError / AttributeError / TypeError its header parser is known to raise on malformed address and
# parameter lists. Parse errors of the data, not bugs of ragcli: the message is skipped with the reason.
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    *PARSE_ERRORS,
    MessageError,
    LookupError,
    IndexError,
    AttributeError,
    TypeError,
)
MAX_HEADER_CHARS = 300  # of one header as shown in the text and metadata: a To: of 500 people is cut
# The longest header (of any part) given to the standard library's header parser, which is quadratic
# on some headers: a Content-Type of 40,000 ";" took over a minute, 8,000 2 s, 2,000 0.1 s (a To: of
# '"' likewise). Real headers are far shorter, but for address lists: a To: or Cc: past it is read up
# to its last comma within it (only its first MAX_HEADER_CHARS are shown anyway); any other header past
# it skips the message as "damaged message (header too long: …)".
MAX_PARSED_HEADER = 2048
_CUT_ADDRESSES = ("to", "cc")
# A body sent with these transfer encodings is the file's text: its lines are the file's lines.
_AS_WRITTEN = frozenset({"7bit", "8bit", "binary"})
_HEADER_END_RE = re.compile(rb"^\r?\n|\n\r?\n")  # the blank line that ends the headers


def _header(message: EmailMessage, name: str) -> str:
    value = " ".join(str(message.get(name, "") or "").split())
    return value[:MAX_HEADER_CHARS]


def _iso_date(value: str) -> str | None:
    try:
        return parsedate_to_datetime(value).isoformat() if value else None
    except (TypeError, ValueError, IndexError):  # an unparseable Date header: left out of the metadata
        return None


def _body(message: EmailMessage) -> str:
    """The message's text: its plain part, else its HTML part's visible text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        return html_text(content.encode("utf-8")).text
    return content


def _body_line(message: EmailMessage, raw: bytes, line: int, body: str) -> int | None:
    """The file line the `body` (`_body`'s, before stripping) starts on once stripped, when its lines are
    the file's (`line`: the message's): a message that is one plain-text part sent as written. None for
    any other (encoded, HTML, multipart)."""
    if message.get_content_type() != "text/plain":
        return None
    if str(message.get("content-transfer-encoding") or "7bit").strip().lower() not in _AS_WRITTEN:
        return None
    headers_end = _HEADER_END_RE.search(raw)
    if headers_end is None or raw.count(b"\n", headers_end.end()) != body.count("\n"):  # UTF-16's breaks
        return None
    blank = len(body) - len(body.lstrip())  # the blank lines stripped above it
    return line + raw.count(b"\n", 0, headers_end.end()) + body.count("\n", 0, blank)


def _line_map(line: int, body: str, body_offset: int, body_line: int | None) -> list[tuple[int, int]]:
    """Where a message's passages cite: the headers shown above the body, which the file does not hold
    as shown, the message's `line`; each line of a body whose lines are the file's, its own."""
    if body_line is None:
        return same_line(line)
    starts = [0, *(match.end() for match in re.finditer("\n", body))]
    return [(0, line), *((body_offset + start, body_line + number) for number, start in enumerate(starts))]


class _BoundedPolicy(EmailPolicy):
    """The standard library's modern policy, with each header checked against MAX_PARSED_HEADER when it
    is parsed (on first read, by the parser itself too: a part's Content-Type while it splits the parts)."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if isinstance(value, str) and len(value) > MAX_PARSED_HEADER:
            if name.lower() not in _CUT_ADDRESSES or "," not in value[:MAX_PARSED_HEADER]:
                raise Skip(f"damaged message (header too long: {name[:40]}, {len(value):,} characters)")
            value = value[: value.rindex(",", 0, MAX_PARSED_HEADER)]
        return super().header_fetch_parse(name, value)


_POLICY = _BoundedPolicy()  # policy.default's settings


def _document(source: SourceInput, line: int, raw: bytes, doc_id: str) -> Document:
    """The document of one message; `Skip` with the reason for one that cannot be decoded or is empty."""
    try:
        message = BytesParser(policy=_POLICY).parsebytes(raw)
        if not isinstance(message, EmailMessage):  # what policy.default builds
            raise TypeError("not a MIME message")
        headers = {name: _header(message, name) for name in (*_SHOWN_HEADERS, "subject")}
        unstripped = _body(message)
        body = unstripped.strip()
        body_line = _body_line(message, raw, line, unstripped)
        attachments = [name for part in message.iter_attachments() if (name := part.get_filename())]
    except _DECODE_ERRORS as exc:
        raise Skip(f"damaged message ({problem(exc)})") from None
    shown = [f"{name.capitalize()}: {headers[name]}" for name in _SHOWN_HEADERS if headers[name]]
    if attachments:
        body += "\n\nAttachments: " + ", ".join(" ".join(name.split()) for name in attachments)
    if not body and not headers["subject"]:
        raise Skip("empty message (no subject, no text)")
    metadata: dict[str, str | int | float | bool] = {
        name: headers[name] for name in ("from", "to", "subject") if headers[name]
    }
    date = _iso_date(headers["date"])
    if date:
        metadata["date"] = date
    shown_text, body = without_terminal_sequences("\n".join(shown)), without_terminal_sequences(body)
    text = "\n\n".join(part for part in (shown_text, body) if part)
    return Document(
        doc_id,
        text,
        headers["subject"] or source.stem,
        source.rel,
        line=line,
        line_map=_line_map(line, body, len(text) - len(body), body_line),
        metadata=metadata,
    )


def _mbox_messages(source: SourceInput) -> Iterator[tuple[int, bytes | None]]:
    """(line of the message's first header, its bytes) for each message of a mailbox; None for one
    larger than the limit (its bytes are not held). A message starts after a "From " line that opens
    the file or follows a blank line."""
    limit = source.context.max_bytes
    lines: list[bytes] = []
    size, start, blank, too_large = 0, 0, True, False
    for number, line in source.lines():
        if line is not None and line.startswith(b"From ") and blank:
            if start:
                yield start, None if too_large else b"".join(lines)
            lines, size, start, too_large = [], 0, number + 1, False
            continue
        blank = line is not None and not line.strip()
        if not start or too_large:
            continue
        size += len(line) if line is not None else limit + 1
        if line is None or size > limit:
            too_large, lines = True, []
            continue
        lines.append(_ESCAPED_FROM.sub(rb"\1", line))
    if start:
        yield start, None if too_large else b"".join(lines)


class MailReader(SuffixReader):
    name = "mail"
    suffixes = frozenset({".eml", ".mbox"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        source.sniff_binary()
        if source.suffix == ".eml":  # one message: one that cannot be read skips the file
            yield _document(source, 1, source.read_bytes(), source.rel)
            return
        messages = 0
        for line, raw in _mbox_messages(source):
            messages += 1
            try:
                if raw is None:
                    raise Skip(source.too_large())
                yield _document(source, line, raw, f"{source.rel}:{line}")
            except Skip as skipped:  # one message: the rest of the mailbox is still read
                source.context.skip_record(f"{source.rel}:{line}", str(skipped))
        if not messages:
            raise Skip('not an mbox mailbox (no "From " line starts a message)')


READER = MailReader()
