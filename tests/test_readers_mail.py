"""The e-mail reader: messages written here with the standard library, read as who, when and the body,
never as routing headers, MIME boundaries or attachments' base64."""

from __future__ import annotations

import gzip
import json
import re
from email.message import EmailMessage
from pathlib import Path

from clihelpers import invoke
from conftest import write_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragcli.chunking import ChunkSettings, split_document
from ragcli.readers.walk import CorpusReader
from ragcli.records import Document

ATTACHMENT = bytes(range(256)) * 64


def message(subject: str, body: str, *, html: str | None = None, attach: bool = False, sender: str = "Ana") -> bytes:
    mail = EmailMessage()
    mail["From"] = f"{sender} <{sender.lower()}@example.org>"
    mail["To"] = "Ben <ben@example.org>"
    mail["Subject"] = subject
    mail["Date"] = "Tue, 03 Mar 2026 09:15:00 +0100"
    mail["Received"] = "from relay.example.org by mx.example.org; routing noise"
    mail["DKIM-Signature"] = "v=1; a=rsa-sha256; b=c2lnbmF0dXJlbm9pc2U="
    mail.set_content(body)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    if attach:
        mail.add_attachment(ATTACHMENT, maintype="application", subtype="pdf", filename="hive report.pdf")
    return bytes(mail)


def read(root: Path) -> tuple[list[Document], dict[str, str]]:
    reader = CorpusReader([root])
    documents = list(reader.documents())
    return documents, {s.path: s.reason for s in reader.report.skipped}


def test_an_eml_file_is_its_sender_date_and_body_titled_by_its_subject(tmp_path: Path) -> None:
    raw = message("Varroa count", "Ben,\n\nthe sticky board showed 14 mites this week.\n", attach=True)
    root = write_files(tmp_path / "c", {"varroa.eml": raw})
    documents, skipped = read(root)
    assert skipped == {}
    (document,) = documents
    assert document.title == "Varroa count" and document.line == 1
    assert document.text == (
        "From: Ana <ana@example.org>\nTo: Ben <ben@example.org>\nDate: Tue, 03 Mar 2026 09:15:00 +0100\n\n"
        "Ben,\n\nthe sticky board showed 14 mites this week.\n\nAttachments: hive report.pdf"
    )
    assert document.metadata["from"] == "Ana <ana@example.org>" and document.metadata["subject"] == "Varroa count"
    assert document.metadata["date"] == "2026-03-03T09:15:00+01:00" and document.metadata["format"] == "mail"
    for left_out in ("relay.example.org", "c2lnbmF0dXJl", "Content-Type", "boundary"):
        assert left_out not in document.text


def test_a_mailbox_is_one_document_per_message_cited_by_line(tmp_path: Path) -> None:
    first = message("Swarm", "The swarm settled on the apple tree.\nFrom now on we check daily.\n")
    second = message("Harvest", "plain part", html="<p>We <b>extracted</b> 20 kg of honey.</p>", sender="Cleo")
    html_only = EmailMessage()
    html_only["Subject"] = "Only HTML"
    html_only.set_content("<html><body><h1>Queen</h1><p>The queen is marked blue.</p></body></html>", subtype="html")
    mbox = b""
    for envelope, raw in (("ana", first), ("cleo", second), ("dan", bytes(html_only))):
        body = b"\n".join(b">" + line if line.startswith(b"From ") else line for line in raw.split(b"\n"))
        mbox += f"From {envelope}@example.org Tue Mar  3 09:15:00 2026\n".encode() + body + b"\n"
    root = write_files(tmp_path / "c", {"inbox.mbox": mbox, "old.mbox.gz": gzip.compress(mbox)})
    documents, skipped = read(root)
    assert skipped == {}
    inbox = [d for d in documents if d.path == "inbox.mbox"]
    assert [d.title for d in inbox] == ["Swarm", "Harvest", "Only HTML"]
    assert inbox[0].line == 2 and inbox[0].id == "inbox.mbox:2"
    assert "From now on we check daily." in inbox[0].text  # the quoted ">From " line, unquoted
    assert inbox[1].text.endswith("plain part") and inbox[1].metadata["from"] == "Cleo <cleo@example.org>"
    assert inbox[2].text == "Queen\n\nThe queen is marked blue."  # no headers to show: the HTML's text
    lines = mbox.decode().split("\n")
    assert all(lines[d.line - 1].lower().startswith(("from:", "subject:")) for d in inbox)
    assert [d.title for d in documents if d.path == "old.mbox.gz"] == ["Swarm", "Harvest", "Only HTML"]


def test_what_is_no_mailbox_and_a_message_too_large_are_skipped_with_the_reason(tmp_path: Path) -> None:
    big = message("Big", "x " * 5000)
    mbox = b"From a@example.org Tue Mar  3 09:15:00 2026\n" + big + b"\nFrom b@example.org Tue Mar  3 2026\n"
    mbox += message("Small", "a short note about wax") + b"\n"
    root = write_files(tmp_path / "c", {"notes.mbox": b"just some text\n", "box.mbox": mbox})
    index = str(tmp_path / "idx")
    result = invoke("index", str(root), "--index", index, "--max-expanded-size", "8K", "--json")
    assert result.exit_code == 0, result.output
    reasons = {s["path"]: s["reason"] for s in json.loads(result.stdout)["skipped"]}
    assert reasons["notes.mbox"] == 'not an mbox mailbox (no "From " line starts a message)'
    assert reasons["box.mbox:2"].startswith("larger than 8 KiB")
    found = invoke("query", "wax note", "--index", index, "--no-generate", "--json")
    assert [h["title"] for h in json.loads(found.stdout)["hits"]] == ["Small"]
    for where, titles in (("subject=Small", ["Small"]), ("date>=2026-03-01", ["Small"]), ("date>=2027", [])):
        found = invoke("query", "wax note", "--index", index, "--where", where, "--no-generate", "--json")
        assert found.exit_code == 0, found.output
        assert [h["title"] for h in json.loads(found.stdout)["hits"]] == titles


def test_a_text_part_in_a_charset_python_lacks_is_read_as_a_text_file_is(tmp_path: Path) -> None:
    """`unknown-8bit` (RFC 1428, common in list archives) or an alias Python lacks (`x-gbk`) skipped the
    whole message as "damaged message (LookupError…)", as did a codec that cannot decode text with
    replacement (`idna`: UnicodeError): the part is decoded as a text file is (UTF-8, else cp1252), with a
    warning naming the message."""
    head = "From: a@example.com\nSubject: {}\nContent-Type: text/plain; charset={}\nContent-Transfer-Encoding: {}\n\n"
    eight_bit = head.format("Unknown", '"unknown-8bit"', "8bit").encode() + b"Caf\xe9 body\n"
    gbk = head.format("Gbk", "x-gbk", "base64").encode() + b"Q2Fmw6kgYm9keQo=\n"  # "Café body" in UTF-8
    idna = head.format("Idna", "idna", "8bit").encode() + b"Caf\xc3\xa9 body\n"
    mbox = b"From a@example.com Tue Mar  3 09:15:00 2026\n" + eight_bit
    root = write_files(tmp_path / "c", {"u.eml": eight_bit, "g.eml": gbk, "i.eml": idna, "box.mbox": mbox})
    reader = CorpusReader([root])
    documents = sorted(reader.documents(), key=lambda d: d.id)
    assert not reader.report.skipped
    assert [(d.id, d.title, d.text.split("\n\n")[-1]) for d in documents] == [
        ("box.mbox:2", "Unknown", "Café body"),
        ("g.eml", "Gbk", "Café body"),
        ("i.eml", "Idna", "Café body"),
        ("u.eml", "Unknown", "Café body"),
    ]
    assert sorted(reader.report.warnings) == [
        "box.mbox:2: unknown charset 'unknown-8bit', read as cp1252",
        "g.eml: unknown charset 'x-gbk', read as UTF-8",
        "i.eml: unknown charset 'idna', read as UTF-8",
        "u.eml: unknown charset 'unknown-8bit', read as cp1252",
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.sampled_from(
            [
                b"From a@b Tue Mar  3 2026",
                b"",
                b"Subject: =?utf-8?b?////?=",
                b"Content-Type: multipart/mixed",
                b"Content-Type: text/plain; charset=x-unknown",
                b"Content-Transfer-Encoding: base64",
                b"--b",
                b"Content-Type: multipart/alternative; boundary=b",
                b'To: <<@>>, ,"\\',
                b"Date: 99 Foo 99999",
                b"body text",
                b"=?iso-8859-1?q?caf=E9?=",
                b">From quoted",
                b"\xff\xfe bytes",
            ]
        )
        | st.binary(max_size=30).filter(lambda b: b"\x00" not in b),
        max_size=25,
    )
)
def test_any_mailbox_is_read_or_skipped_message_by_message_never_a_crash(tmp_path: Path, lines: list[bytes]) -> None:
    path = tmp_path / "box.mbox"
    path.write_bytes(b"\n".join(lines))
    reader = CorpusReader([path])
    for document in reader.documents():
        assert document.path == "box.mbox" and document.title


def test_a_header_too_long_to_parse_skips_its_message_and_a_long_address_list_is_cut(tmp_path: Path) -> None:
    # the standard library's header parser is quadratic on some headers: 40,000 ";" in a Content-Type
    # took over a minute, 20,000 '"' in a To: 8 s; 5,000 here (0.7 s before the bound, too long)
    semi = b"From: a@example.org\nSubject: semi\nContent-Type: text/plain" + b";" * 5000 + b"\n\nsemicolons\n"
    quotes = b"From: " + b'"' * 5000 + b"\nSubject: quotes\n\nquotation marks\n"
    people = ",\n ".join(f'"Person {i}" <person.{i}@example.org>' for i in range(300))  # 13 KB: a real list
    crowd = f"From: a@example.org\nTo: {people}\nSubject: crowd\n\nto everyone\n".encode()
    mbox = b"".join(b"From x@example.org Tue Mar  3 09:15:00 2026\n" + raw + b"\n" for raw in (semi, quotes, crowd))
    documents, skipped = read(write_files(tmp_path / "c", {"semi.eml": semi, "box.mbox": mbox}))
    assert skipped == {
        "semi.eml": "damaged message (header too long: Content-Type, 5,010 characters)",
        "box.mbox:2": "damaged message (header too long: Content-Type, 5,010 characters)",
        "box.mbox:9": "damaged message (header too long: From, 5,000 characters)",
    }
    (document,) = documents
    assert document.title == "crowd" and document.text.startswith(
        "From: a@example.org\nTo: Person 0 <person.0@example.org>, Person 1"
    )
    assert document.text.endswith("to everyone")


def test_a_plain_body_cites_its_own_lines_the_headers_shown_the_message_line(tmp_path: Path) -> None:
    """A 7-bit plain body is the file's text, so each passage cites the line it starts on; the sender,
    recipients and date shown above it are not the file's lines, so they cite the message's."""
    body = "".join(f"Body line {i} filler words.\n" for i in range(1, 13))
    mbox = b"From ana@example.org Tue Mar  3 09:15:00 2026\n" + message("Plain", body) + b"\n"
    root = write_files(tmp_path / "c", {"inbox.mbox": mbox})
    documents, skipped = read(root)
    assert skipped == {}
    (plain,) = documents
    lines = mbox.decode().split("\n")
    body_start = plain.text.index("Body line 1 ")
    body_line = lines.index("Body line 1 filler words.") + 1
    chunks = split_document(plain, ChunkSettings(size=5, overlap=0))
    assert len(chunks) > 5
    for chunk in chunks:
        if chunk.start < body_start:
            assert chunk.line == plain.line
        else:
            assert chunk.line == body_line + plain.text.count("\n", body_start, chunk.start), chunk


def numbered_lines(tag: str, count: int = 12) -> str:
    """Lines of words found nowhere else in the file ("p3a p3b p3c p3d."), so a passage's first word
    names the file line it stands on."""
    return "".join(f"{tag}{i}a {tag}{i}b {tag}{i}c {tag}{i}d.\n" for i in range(1, count + 1))


def line_of_word(data: bytes, word: str) -> int:
    """The 1-based line of the file where `word` stands."""
    found = re.compile(rb"\b" + word.encode() + rb"\b")
    (line,) = [number for number, text in enumerate(data.split(b"\n"), 1) if found.search(text)]
    return line


def line_after_headers_of(data: bytes, header: str, start: int = 1) -> int:
    """The line where the body of the first part (from line `start`) holding `header` starts."""
    lines = data.split(b"\n")
    at = next(i for i in range(start - 1, len(lines)) if lines[i].rstrip(b"\r") == header.encode())
    blank = next(i for i in range(at, len(lines)) if not lines[i].rstrip(b"\r"))
    return blank + 2


def in_mbox(*messages: bytes) -> bytes:
    """Messages as a mailbox writes them: a "From " line before each, a body line "From …" quoted."""
    mbox = b""
    for raw in messages:
        body = b"\n".join(b">" + line if line.startswith(b"From ") else line for line in raw.split(b"\n"))
        mbox += b"From ana@example.org Tue Mar  3 09:15:00 2026\n" + body + b"\n"
    return mbox


def body_citations(document: Document, tag: str) -> dict[str, int]:
    """{first word: cited line} of each passage (5 words) that starts with a word of the body `tag`."""
    chunks = split_document(document, ChunkSettings(size=5, overlap=0))
    cited = {c.text.split()[0].rstrip("."): c.line for c in chunks if c.text.startswith(tag)}
    assert len(cited) > 5, chunks
    return cited


def multipart_messages() -> dict[str, bytes]:
    """A message of each kind of several parts whose text part is stored as written."""
    alternative = EmailMessage()
    alternative["Subject"] = "alternative"
    alternative.set_content(numbered_lines("alt"))
    alternative.add_alternative("<p>the html twin</p>", subtype="html")
    mixed = EmailMessage()
    mixed["Subject"] = "mixed"
    mixed.set_content("Grüße, " + numbered_lines("mix") + "From the apiary mixq1 mixq2.\n", cte="8bit")
    mixed.add_attachment(ATTACHMENT, maintype="application", subtype="pdf", filename="hive report.pdf")
    nested = message("nested", numbered_lines("nest"), html="<p>html of the nested</p>", attach=True)
    html_only = EmailMessage()
    html_only["Subject"] = "html"
    html_only.set_content(
        "<html><body>\n" + numbered_lines("htm").replace("\n", "<br>\n") + "</body></html>\n", subtype="html"
    )
    html_only.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="counts.csv")
    return {"alternative": bytes(alternative), "mixed": bytes(mixed), "nested": bytes(nested), "html": bytes(html_only)}


def test_a_text_part_of_a_multipart_message_cites_its_own_lines_in_eml_and_mbox(tmp_path: Path) -> None:
    """A plain or HTML part sent as written (7bit, 8bit, in its charset) inside multipart/alternative or
    multipart/mixed, attachments beside it, is the file's text: each passage cites the line its first
    word stands on, in an .eml (CRLF line breaks too) and in a mailbox (whose "From " lines are quoted)."""
    messages = multipart_messages()
    tags = {"alternative": "alt", "mixed": "mix", "nested": "nest", "html": "htm"}
    crlf = messages["nested"].replace(b"\n", b"\r\n")
    mbox = in_mbox(*messages.values())
    files = {f"{name}.eml": raw for name, raw in messages.items()} | {"crlf.eml": crlf, "inbox.mbox": mbox}
    documents, skipped = read(write_files(tmp_path / "c", files))
    assert skipped == {} and len(documents) == 9
    for document in documents:
        data = files[document.path]
        tag = "nest" if document.path == "crlf.eml" else tags[document.title]
        for word, line in body_citations(document, tag).items():
            assert line == line_of_word(data, word), (document.path, document.title, word)
    (mixed,) = [d for d in documents if d.path == "inbox.mbox" and d.title == "mixed"]
    assert "From the apiary" in mixed.text  # the ">From " line, unquoted, still cites its own line
    assert mixed.line_at(mixed.text.index("From the apiary")) == line_of_word(mbox, "mixq1")
    # the attachments' names come from the parts' headers: the message's line
    assert mixed.line_at(mixed.text.index("Attachments: hive report.pdf")) == mixed.line


def test_an_encoded_part_cites_the_line_its_body_starts_on(tmp_path: Path) -> None:
    """A base64 or quoted-printable part's lines are not its text's: every passage of it cites the line
    where the part's body starts in the file, alone in a message or among others."""
    raws = {}
    for cte in ("base64", "quoted-printable"):
        alone = EmailMessage()
        alone["Subject"] = f"{cte} alone"
        alone.set_content(numbered_lines("enc"), cte=cte)
        raws[f"{cte} alone"] = bytes(alone)
        among = EmailMessage()
        among["Subject"] = f"{cte} among"
        among.set_content(numbered_lines("enc"), cte=cte)
        among.add_alternative("<p>html twin</p>", subtype="html")
        among.add_attachment(ATTACHMENT, maintype="application", subtype="pdf", filename="hive report.pdf")
        raws[f"{cte} among"] = bytes(among)
    mbox = in_mbox(*raws.values())
    documents, skipped = read(write_files(tmp_path / "c", {"inbox.mbox": mbox}))
    assert skipped == {} and [d.title for d in documents] == list(raws)
    for document in documents:
        cte = document.title.split()[0]
        body_line = line_after_headers_of(mbox, f"Content-Transfer-Encoding: {cte}", document.line)
        assert set(body_citations(document, "enc").values()) == {body_line}, document.title


def test_query_cites_the_file_line_of_a_multipart_messages_passage(tmp_path: Path) -> None:
    mbox = in_mbox(message("Swarm", "the swarm left", sender="Dan"), multipart_messages()["nested"])
    root = write_files(tmp_path / "c", {"inbox.mbox": mbox})
    index = str(tmp_path / "idx")
    built = invoke("index", str(root), "--index", index, "--chunk-size", "5", "--chunk-overlap", "0", "--json")
    assert built.exit_code == 0, built.output
    for words in ("nest4b nest4c", "nest9a", "nest11c nest11d"):
        found = invoke("query", words, "--index", index, "--no-generate", "--json", "-k", "1")
        assert found.exit_code == 0, found.output
        (hit,) = json.loads(found.stdout)["hits"]
        assert hit["line"] == line_of_word(mbox, hit["text"].split()[0].rstrip(".")), hit


def test_crlf_line_breaks_of_a_body_are_read_as_line_breaks(tmp_path: Path) -> None:
    """A message saved with CRLF line breaks (as SMTP sends it) kept "\\r" in its passages' text, as
    written or quoted-printable: every line ending is read as a line break, and lines are cited as before."""
    head = "From: a@example.com\r\nTo: b@example.com\r\nSubject: minutes\r\nContent-Type: text/plain; charset=utf-8\r\n"
    plain = (head + "\r\nfirst line\r\nsecond line mentions the tapir\r\n").encode()
    quoted = (
        head + "Content-Transfer-Encoding: quoted-printable\r\n\r\nfirst line caf=C3=A9\r\n"
        "second line mentions the okapi and a soft=\r\n break\r\n"
    ).encode()
    mbox = b"From a@example.com Tue Mar  3 09:15:00 2026\r\n" + plain + b"\r\n"
    documents, skipped = read(write_files(tmp_path / "c", {"m.eml": plain, "q.eml": quoted, "inbox.mbox": mbox}))
    assert skipped == {}
    by_path = {document.path: document for document in documents}
    for name, body in (
        ("m.eml", "first line\nsecond line mentions the tapir"),
        ("inbox.mbox", "first line\nsecond line mentions the tapir"),
        ("q.eml", "first line café\nsecond line mentions the okapi and a soft break"),
    ):
        document = by_path[name]
        assert "\r" not in document.text and document.text.endswith("\n\n" + body), name
    for name, data in (("m.eml", plain), ("inbox.mbox", mbox)):
        document = by_path[name]
        assert document.line_at(document.text.index("second line")) == line_of_word(data, "tapir")
    quoted_doc = by_path["q.eml"]  # quoted-printable: the line its body starts on
    assert quoted_doc.line_at(quoted_doc.text.index("second line")) == line_of_word(quoted, "first")


def test_every_inline_text_part_is_read_in_order_attachments_left_out(tmp_path: Path) -> None:
    """A multipart/mixed message of text, an inline image, more text (quoted-printable) and a PDF is
    shown by a mail client as both texts in order: both are read, each part cited as its own, the PDF
    only named."""
    mail = EmailMessage()
    mail["Subject"] = "Notes"
    mail.set_content(numbered_lines("one", 8))
    mail.add_attachment(b"\x89PNG\r\n", maintype="image", subtype="png", disposition="inline")
    mail.add_attachment("footerword after the image\n", cte="quoted-printable", disposition="inline")
    mail.add_attachment(ATTACHMENT, maintype="application", subtype="pdf", filename="hive report.pdf")
    raw = bytes(mail)
    documents, skipped = read(write_files(tmp_path / "c", {"a.eml": raw}))
    assert skipped == {}
    (document,) = documents
    assert document.text.endswith("one8d.\n\nfooterword after the image\n\nAttachments: hive report.pdf")
    for word, line in body_citations(document, "one").items():
        assert line == line_of_word(raw, word)
    footer_line = line_after_headers_of(raw, "Content-Transfer-Encoding: quoted-printable")
    assert document.line_at(document.text.index("footerword")) == footer_line


def test_an_inline_text_part_with_a_filename_is_read_and_not_also_named_an_attachment(tmp_path: Path) -> None:
    """Apple Mail sends a .txt as `Content-Disposition: inline; filename=…`: shown inline, it is body text
    (read), so not also listed under "Attachments:"; the PDF beside it is only named."""
    mail = EmailMessage()
    mail["Subject"] = "Notes"
    mail.set_content("Main body about aardvarks.\n")
    mail.add_attachment("Inline notes about pangolins.\n", disposition="inline", filename="notes.txt")
    mail.add_attachment(ATTACHMENT, maintype="application", subtype="pdf", filename="hive report.pdf")
    documents, skipped = read(write_files(tmp_path / "c", {"a.eml": bytes(mail)}))
    assert skipped == {}
    (document,) = documents
    assert document.text.endswith(
        "Main body about aardvarks.\n\nInline notes about pangolins.\n\nAttachments: hive report.pdf"
    )
    assert "notes.txt" not in document.text


def test_a_forwarded_message_shown_inline_is_read_with_its_headers_and_attachments_named(tmp_path: Path) -> None:
    """A forward sent inline (message/rfc822, no filename) is shown by a mail client in the body: its
    sender, date and subject then its text are read, its own lines cited, its attachment named."""
    forwarded = EmailMessage()
    forwarded["From"] = "Carol <carol@example.org>"
    forwarded["Subject"] = "contract terms"
    forwarded["Date"] = "Mon, 02 Mar 2026 08:00:00 +0100"
    forwarded.set_content("The penalty clause is twelve percent annually.\n")
    forwarded.add_attachment(ATTACHMENT, maintype="application", subtype="pdf", filename="contract.pdf")
    mail = EmailMessage()
    mail["From"] = "Bob <bob@example.org>"
    mail["Subject"] = "Fwd: contract terms"
    mail.set_content("See the forwarded message below.\n")
    mail.add_attachment(forwarded, disposition="inline")
    raw = bytes(mail)
    documents, skipped = read(write_files(tmp_path / "c", {"fwd.eml": raw}))
    assert skipped == {}
    (document,) = documents
    assert document.title == "Fwd: contract terms"
    assert document.text == (
        "From: Bob <bob@example.org>\n\nSee the forwarded message below.\n\n"
        "From: Carol <carol@example.org>\nDate: Mon, 02 Mar 2026 08:00:00 +0100\nSubject: contract terms\n\n"
        "The penalty clause is twelve percent annually.\n\nAttachments: contract.pdf"
    )
    assert document.line_at(document.text.index("penalty")) == line_of_word(raw, "penalty")


def test_every_message_of_a_digest_is_read(tmp_path: Path) -> None:
    """A mailing list's multipart/digest holds its messages as parts without a Content-Type (message/rfc822
    by default): each is read, in order."""
    raw = (
        b"From: list@example.org\nSubject: Digest 12\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/digest; boundary="D"\n\n'
        b"--D\n\nFrom: ana@example.org\nSubject: acids\n\nOxalic acid dribble kills mites.\n"
        b"--D\n\nFrom: ben@example.org\nSubject: frames\n\nDrone frames catch them too.\n--D--\n"
    )
    documents, skipped = read(write_files(tmp_path / "c", {"digest.eml": raw}))
    assert skipped == {}
    (document,) = documents
    assert document.text == (
        "From: list@example.org\n\nFrom: ana@example.org\nSubject: acids\n\nOxalic acid dribble kills mites.\n\n"
        "From: ben@example.org\nSubject: frames\n\nDrone frames catch them too."
    )
    assert document.line_at(document.text.index("Drone")) == line_of_word(raw, "Drone")


def test_forwards_within_forwards_are_read_to_a_bounded_depth(tmp_path: Path) -> None:
    """400 messages each enclosing the next overflowed Python's stack (the file was skipped as damaged):
    the outer 16 enclosed ones are read, deeper ones left out with a warning, the file read."""
    raw = "".join(f"From: a@x\nSubject: fwd {level}\nContent-Type: message/rfc822\n\n" for level in range(400))
    raw += "From: a@x\nSubject: deepest\n\nThe deepest note mentions walruses.\n"
    reader = CorpusReader([write_files(tmp_path / "c", {"deep.eml": raw})])
    (document,) = reader.documents()
    assert "Subject: fwd 16" in document.text and "Subject: fwd 17" not in document.text
    assert "walruses" not in document.text
    assert any("more than 16 deep are left out" in warning for warning in reader.report.warnings)
