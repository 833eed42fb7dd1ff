"""E-mail: one message per `.eml` file, every message of an `.mbox` mailbox (Thunderbird, Gmail's Takeout,
`mutt`), each a document titled by its subject.

Read as text before, a message indexed its routing headers (Received, DKIM signatures, Message-IDs),
its MIME boundaries and the base64 of every attachment. Here a message's text is who sent it to whom
and when, then its body: each text part a mail client shows inline, in order (of alternatives the
plain-text part, else the HTML part's visible text; a message enclosed inline, as a forward or each
message of a digest, its sender, date and subject, then its own parts); attachments are named, never
read. Its metadata (`from`, `to`, `date` as ISO 8601, `subject`) can be filtered on (`--where`). Parsed with the standard library's `email` package (its modern policy decodes MIME
words, charsets and transfer encodings); the mailbox is split by hand on its "From " lines, because
`mailbox.mbox` opens the file itself and would read past the size limit and around the walk (a
`.mbox.gz` is read like a `.mbox`). The sender, recipients and date shown, and the attachments'
names, cite the line the message starts on; its body the file's own lines. A plain or HTML part sent
as written (7bit, 8bit, binary), alone or among the parts of a multipart message (found by following
the MIME boundaries the parser followed, never past the part: attachments after it are not scanned),
cites each passage's own line, as a text file's does; a quoted-printable or base64 part, whose lines of
text are not the file's, the line where its body starts in the file, the nearest line that is honest.
A message that cannot be decoded is skipped with the reason, the rest of the mailbox still read; one
larger than `--max-expanded-size` likewise.
"""

from __future__ import annotations

import email.policy
import functools
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.errors import MessageError
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import parsedate_to_datetime
from typing import Any

from ragcli.readers.base import (
    PARSE_ERRORS,
    Skip,
    SourceInput,
    SuffixReader,
    decode_from,
    problem,
    universal_newlines,
)
from ragcli.readers.markup import html_text
from ragcli.records import Document, same_line
from ragcli.terminal_text import without_terminal_sequences

_ESCAPED_FROM = re.compile(rb"^>(>*From )")  # mboxrd quotes a body line "From " as ">From "
_SHOWN_HEADERS = ("from", "to", "cc", "date")
_READ_HEADERS = (*_SHOWN_HEADERS, "subject")  # a message's; an enclosed one shows its subject too
# What decoding an untrusted message may raise inside the standard library's email package: a charset
# Python does not know (LookupError), a header its parser gives up on (MessageError), and the
# IndexError / AttributeError / TypeError its header parser is known to raise on malformed address and
# parameter lists. Parse errors of the data, not bugs of ragcli: the message is skipped with the reason.
DECODE_ERRORS: tuple[type[BaseException], ...] = (
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
# A part sent with these transfer encodings is the file's text: its lines are the file's lines.
_AS_WRITTEN = frozenset({"7bit", "8bit", "binary"})
_BLANK_LINE_RE = re.compile(rb"^\r?\n", re.MULTILINE)  # the blank line that ends a part's headers


def _header(message: EmailMessage, name: str) -> str:
    value = " ".join(str(message.get(name, "") or "").split())
    return value[:MAX_HEADER_CHARS]


def _iso_date(value: str) -> str | None:
    try:
        return parsedate_to_datetime(value).isoformat() if value else None
    except (TypeError, ValueError, IndexError):  # an unparseable Date header: left out of the metadata
        return None


@dataclass(frozen=True)
class _Body:
    """A shown part's text (terminal sequences removed, not yet stripped), the part it comes from, and
    where each of its lines starts in that part's content: (offset into `text`, 1-based content line)."""

    text: str
    part: MIMEPart | None = None
    lines: Sequence[tuple[int, int]] = field(default_factory=list)
    breaks: int = 0  # the line breaks of the content, as `lines` counts them


# forwards within forwards read at most this deep; deeper ones are left out with a warning (400 nested
# forwards overflowed Python's stack in the functions below, which follow them recursively)
MAX_ENCLOSED = 16


def _enclosed(part: MIMEPart) -> EmailMessage | None:
    """The message a message/rfc822 part holds (a forward shown inline, each message of a digest), else
    None: `get_body` does not go into one, so without this its text was lost without a word."""
    if part.get_content_type() != "message/rfc822":
        return None
    inner = part.get_payload(0) if part.is_multipart() else None
    return inner if isinstance(inner, EmailMessage) else None


def _shown_parts(part: MIMEPart) -> Iterator[MIMEPart]:
    """The text parts a mail client shows of `part`, in order: of a multipart/mixed (or signed, digest, …)
    each inline part's, so that text after an inline image or a list's footer part is read; an enclosed
    message (`_enclosed`) itself, read as its own headers and parts; of an alternative or related one its
    plain part, else its HTML part (`get_body`, which picks one)."""
    if part.get_content_maintype() == "multipart" and part.get_content_subtype() not in ("alternative", "related"):
        for child in part.iter_parts():
            if not child.is_attachment():
                yield from _shown_parts(child)
        return
    if _enclosed(part) is not None:
        yield part
        return
    body = part.get_body(preferencelist=("plain", "html"))
    if body is not None:
        yield body


def _attachment_names(message: EmailMessage, depth: int = 0) -> list[str]:
    """The names of the parts listed as attachments: `iter_attachments` less those `_shown_parts` reads
    as body text (a text part `inline; filename=…`, as Apple Mail sends a .txt), so that a part is read
    or named, never both; then those of each enclosed message shown."""
    shown = list(_shown_parts(message))
    ids = {id(part) for part in shown}
    names = [name for part in message.iter_attachments() if id(part) not in ids and (name := part.get_filename())]
    enclosed = (inner for part in shown if depth < MAX_ENCLOSED and (inner := _enclosed(part)) is not None)
    return names + [name for inner in enclosed for name in _attachment_names(inner, depth + 1)]


Warn = Callable[[str], None]  # what reading a message warns of, said without where: the caller names it


def _content(part: MIMEPart, warn: Warn) -> object:
    """The part's content, decoded by its charset; a text part whose charset Python does not know
    (`unknown-8bit`, RFC 1428, common in list archives; an alias such as `x-gbk`), or whose codec cannot
    decode text with replacement (`idna` raises UnicodeError), as a text file is decoded (UTF-8, else
    cp1252), with a warning, rather than the whole message skipped as damaged."""
    try:
        return part.get_content()
    except (LookupError, UnicodeError):
        if part.get_content_maintype() != "text":
            raise
    payload = part.get_payload(decode=True)  # the transfer encoding undone, the charset not applied
    decoded = decode_from(payload if isinstance(payload, bytes) else b"", "utf-8-sig")
    codec = "UTF-8" if decoded.codec == "utf-8-sig" else decoded.codec
    warn(f"unknown charset {part.get_content_charset()!r}, read as {codec}")
    return decoded.text


def _body(part: MIMEPart, warn: Warn) -> _Body:
    """The text of one shown part: a plain part's, an HTML part's visible text."""
    content = _content(part, warn)
    if not isinstance(content, str):
        return _Body("")
    # every line ending a line break, as a text file's (a message saved as SMTP sends it has CRLF line
    # endings, which the parser keeps): one "\n" per "\r\n", so the lines counted are the file's
    content = universal_newlines(without_terminal_sequences(content))
    if part.get_content_type() == "text/html":
        page = html_text(content.encode("utf-8"))  # as the HTML reader reads a page
        return _Body(page.text, part, page.line_map, content.count("\n"))
    starts = [0, *(match.end() for match in re.finditer("\n", content))]
    return _Body(content, part, [(start, number) for number, start in enumerate(starts, 1)], len(starts) - 1)


def _transfer_encoding(part: MIMEPart) -> str:
    return str(part.get("content-transfer-encoding") or "7bit").strip().lower()


def _stored_body(part: MIMEPart, encoding: str) -> bytes | None:
    """The part's body as the file holds it, before transfer decoding (`encoding`, the part's): None
    where the parse no longer holds those bytes (an encoded body that was not ASCII)."""
    if encoding in _AS_WRITTEN:
        payload = part.get_payload(decode=True)  # the bytes as read, for these encodings
        return payload if isinstance(payload, bytes) else None
    payload = part.get_payload()
    return payload.encode("ascii") if isinstance(payload, str) and payload.isascii() else None


def _delimiters(raw: bytes, marker: bytes, start: int, end: int) -> Iterator[tuple[int, int, bool]]:
    """(start, end after its line break, closing) of each delimiter line in `raw[start:end]`: `marker`
    ("--" and the boundary) at a line's start, then "--" if it closes the parts, blanks, the line break,
    as the standard library's parser matches them. Found with bytes.find: a regular expression per
    boundary, each message's its own, would be compiled once per message."""
    at = start
    while (found := raw.find(marker, at, end)) >= 0:
        at = found + len(marker)
        if found and raw[found - 1] != ord("\n"):
            continue
        line_end = raw.find(b"\n", at, end)
        after = end if line_end < 0 else line_end + 1
        rest = raw[at:after].rstrip(b"\n")
        closing = rest.startswith(b"--")
        rest = rest[2:] if closing else rest
        if not rest.removesuffix(b"\r").strip(b" \t"):
            yield found, after, closing


def _body_offset(node: MIMEPart, target: MIMEPart, raw: bytes, start: int, end: int) -> int | None:
    """Where `target`'s body starts in `raw`, whose bytes `start`..`end` are `node`'s (headers, blank
    line, body) and hold `target`: the boundaries followed down as the parser split them. The parts after
    the one that holds `target` are never scanned (a mailbox's attachments). None where the bytes do not
    follow the parse (no blank line after the headers, a boundary missing)."""
    blank = _BLANK_LINE_RE.search(raw, start, end)
    if blank is None:
        return None
    if node is target:
        return blank.end()
    inner = _enclosed(node)
    if inner is not None:  # the enclosed message's headers start after the part's own
        return _body_offset(inner, target, raw, blank.end(), end)
    boundary, children = node.get_boundary(), node.get_payload()
    if boundary is None or not isinstance(children, list):
        return None
    wanted = next((i for i, child in enumerate(children) if any(part is target for part in child.walk())), None)
    if wanted is None:
        return None
    try:
        marker = b"--" + boundary.encode("utf-8", "surrogateescape")  # the header's bytes, as the file holds them
    except UnicodeEncodeError:  # a surrogate its RFC 2231 encoding made: no line of the file holds it
        return None
    # the delimiters that open the parts up to the wanted one, and the next (or the end) that closes it
    found = list(itertools.islice(_delimiters(raw, marker, blank.end(), end), wanted + 2))
    if len(found) <= wanted or any(closing for _, _, closing in found[: wanted + 1]):  # "--boundary--": the last
        return None
    part_end = found[wanted + 1][0] if len(found) > wanted + 1 else end
    child = children[wanted]
    return _body_offset(child, target, raw, found[wanted][1], part_end) if isinstance(child, MIMEPart) else None


def _body_lines(message: EmailMessage, body: _Body, raw: bytes, line: int) -> list[tuple[int, int]] | None:
    """(offset into `body.text`, file line) where the body's passages cite (`line`: the message's): each
    line of a part sent as written (7bit, 8bit, binary: its lines are the file's) its own; any part of
    another encoding (quoted-printable, base64: one line of text is not one line of the file) the line
    its body starts on. None where the part's bytes cannot be found in the file as the parser read them."""
    if body.part is None:
        return None
    encoding = _transfer_encoding(body.part)
    stored = _stored_body(body.part, encoding)
    offset = _body_offset(message, body.part, raw, 0, len(raw)) if stored is not None else None
    if stored is None or offset is None or not raw.startswith(stored, offset):
        return None
    first = line + raw.count(b"\n", 0, offset)
    if encoding in _AS_WRITTEN and stored.count(b"\n") == body.breaks:  # UTF-16's line breaks differ
        return [(start, first + number - 1) for start, number in body.lines]
    return [(0, first)]


def _stripped(lines: list[tuple[int, int]], lead: int, length: int) -> list[tuple[int, int]]:
    """`lines` (offset, cited line) of a text for that text stripped: `lead` characters gone from its
    start, `length` left."""
    before = [cited for offset, cited in lines if offset <= lead]
    kept = [(offset - lead, cited) for offset, cited in lines if lead < offset < lead + length]
    return [(0, before[-1]), *kept] if before else kept


def _header_block(headers: dict[str, str], names: Sequence[str]) -> str:
    """The headers `names` as a mail client shows them above a message's text, those not empty."""
    shown = "\n".join(f"{name.capitalize()}: {headers[name]}" for name in names if headers[name])
    return without_terminal_sequences(shown)


def _part_bodies(part: MIMEPart, warn: Warn, depth: int) -> list[_Body]:
    """One shown part's texts: a text part's; an enclosed message's headers (cited at the message's
    line: the file does not hold them as shown) then its own shown parts'."""
    inner = _enclosed(part)
    if inner is None:
        return [_body(part, warn)]
    if depth >= MAX_ENCLOSED:
        warn(f"forwarded messages enclosed more than {MAX_ENCLOSED} deep are left out")
        return []
    headers = _header_block({name: _header(inner, name) for name in _READ_HEADERS}, _READ_HEADERS)
    return [_Body(headers), *_shown_bodies(inner, warn, depth + 1)]


def _shown_bodies(message: EmailMessage, warn: Warn, depth: int = 0) -> list[_Body]:
    """The texts of the parts a mail client shows, in order, those with any text (of a message enclosed
    `depth` forwards deep)."""
    return [body for part in _shown_parts(message) for body in _part_bodies(part, warn, depth) if body.text.strip()]


def _joined(message: EmailMessage, raw: bytes, line: int, warn: Warn) -> tuple[str, list[tuple[int, int]]]:
    """The message's body: its shown parts' texts, each stripped, a blank line between; and where its
    passages cite, each part's as `_body_lines` says, else the message's `line`."""
    texts: list[str] = []
    lines: list[tuple[int, int]] = []
    at = 0
    for body in _shown_bodies(message, warn):
        text = body.text.strip()
        cited = _body_lines(message, body, raw, line)
        lead = len(body.text) - len(body.text.lstrip())
        kept = _stripped(cited, lead, len(text)) if cited is not None else same_line(line)
        lines += [(at + offset, number) for offset, number in kept]
        texts.append(text)
        at += len(text) + 2  # the blank line before the next part
    return "\n\n".join(texts), lines


def _line_map(
    line: int, body_start: int, body_lines: list[tuple[int, int]], names_start: int | None
) -> list[tuple[int, int]]:
    """Where a message's passages cite: the headers shown above the body, which the file does not hold
    as shown, and the attachments' names after it (from the parts' headers), the message's `line`; the
    body (from `body_start` in the text) where `body_lines` says."""
    names = [(names_start, line)] if names_start is not None else []
    return [(0, line), *((body_start + offset, cited) for offset, cited in body_lines), *names]


# The headers a message's reading asks for again and again, parsed once (`_parsed_header`), and the
# longest value kept: a parsed header holds its parse tree, 20 KiB for a Content-Type of 50 characters,
# 900 KiB for a To: of 1,800, so only short ones of these few are kept, 256 at most (about 10 MiB).
_REREAD_HEADERS = frozenset({"content-type", "content-transfer-encoding", "content-disposition"})
_KEPT_HEADER_CHARS = 256


@functools.lru_cache(maxsize=256)
def _parsed_header(name: str, value: str) -> Any:
    """A header as the modern policy parses it, kept: the standard library parses a header again on each
    read (a Content-Type 0.3 ms), and reading a message reads its parts' Content-Type and
    Content-Transfer-Encoding many times over (the parser, choosing the body, decoding it, listing the
    attachments, following boundaries); a mailbox repeats the same values from message to message.
    Header objects are never changed, so sharing one is safe."""
    return email.policy.default.header_fetch_parse(name, value)


class _BoundedPolicy(EmailPolicy):
    """The standard library's modern policy, with each header checked against MAX_PARSED_HEADER when it
    is parsed (on first read, by the parser itself too: a part's Content-Type while it splits the parts),
    the MIME headers it reads again and again parsed once (`_parsed_header`)."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if isinstance(value, str) and len(value) > MAX_PARSED_HEADER:
            if name.lower() not in _CUT_ADDRESSES or "," not in value[:MAX_PARSED_HEADER]:
                raise Skip(f"damaged message (header too long: {name[:40]}, {len(value):,} characters)")
            value = value[: value.rindex(",", 0, MAX_PARSED_HEADER)]
        if len(value) <= _KEPT_HEADER_CHARS and name.lower() in _REREAD_HEADERS:
            return _parsed_header(name, value)
        return super().header_fetch_parse(name, value)


_POLICY = _BoundedPolicy()  # policy.default's settings


def _document(source: SourceInput, line: int, raw: bytes, doc_id: str) -> Document:
    """The document of one message; `Skip` with the reason for one that cannot be decoded or is empty."""
    try:
        message = BytesParser(policy=_POLICY).parsebytes(raw)
        if not isinstance(message, EmailMessage):  # what policy.default builds
            raise TypeError("not a MIME message")
        headers = {name: _header(message, name) for name in _READ_HEADERS}
        content, body_lines = _joined(message, raw, line, lambda said: source.context.warn(f"{doc_id}: {said}"))
        attachments = _attachment_names(message)
    except DECODE_ERRORS as exc:
        raise Skip(f"damaged message ({problem(exc)})") from None
    names = ", ".join(" ".join(name.split()) for name in attachments)
    named = without_terminal_sequences(f"Attachments: {names}") if attachments else ""
    body_text = "\n\n".join(part for part in (content, named) if part)
    if not body_text and not headers["subject"]:
        raise Skip("empty message (no subject, no text)")
    metadata: dict[str, str | int | float | bool] = {
        name: headers[name] for name in ("from", "to", "subject") if headers[name]
    }
    date = _iso_date(headers["date"])
    if date:
        metadata["date"] = date
    shown_text = _header_block(headers, _SHOWN_HEADERS)
    text = "\n\n".join(part for part in (shown_text, body_text) if part)
    body_start = len(text) - len(body_text)
    return Document(
        doc_id,
        text,
        headers["subject"] or source.stem,
        source.rel,
        line=line,
        line_map=_line_map(line, body_start, body_lines, len(text) - len(named) if named else None),
        metadata=metadata,
    )


def body_text(raw: bytes, warn: Warn) -> str:
    """The body text of one MIME message (its shown parts: of alternatives the plain one, else the HTML's
    visible text), as a message's body is read: for a Word file's imported MHT chunk (`readers.docx`), a
    web page saved as a message. Raises what decoding an untrusted message raises (`DECODE_ERRORS`), or `Skip`."""
    message = BytesParser(policy=_POLICY).parsebytes(raw)
    if not isinstance(message, EmailMessage):  # what policy.default builds
        raise TypeError("not a MIME message")
    return "\n\n".join(body.text.strip() for body in _shown_bodies(message, warn))


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
    # 2: each part's lines cited in the message's file; 3: an HTML part read as the HTML reader's version 2
    # reads a page (`readers.base.reader_edition`: read again once); 4: a body's CRLF line endings read as
    # line breaks (its passages' text kept the "\r"); 5: every text part shown inline read, in order, not
    # only the first (a second text part, a list's footer, the text after an inline image was lost), an
    # HTML part read as the HTML reader's version 5 reads a page; 6: a text part whose charset Python does
    # not know (`unknown-8bit`, `x-gbk`) read as UTF-8, else cp1252, with a warning (the message was skipped);
    # 7: a text part shown inline with a filename read, not also named under "Attachments:"; 8: a message
    # enclosed inline (a forward, each message of a digest) read as its headers and text (it was lost);
    # 9: a text part whose codec cannot decode with replacement (`idna`) read as 6 says (it was skipped)
    version = 9
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
