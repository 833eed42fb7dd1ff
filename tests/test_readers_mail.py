"""The e-mail reader: messages written here with the standard library, read as who, when and the body,
never as routing headers, MIME boundaries or attachments' base64."""

from __future__ import annotations

import gzip
import json
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
    klingon = b"From: x@example.org\nSubject: odd\nContent-Type: text/plain; charset=x-klingon\n\nqapla\n"
    root = write_files(tmp_path / "c", {"notes.mbox": b"just some text\n", "box.mbox": mbox, "odd.eml": klingon})
    index = str(tmp_path / "idx")
    result = invoke("index", str(root), "--index", index, "--max-expanded-size", "8K", "--json")
    assert result.exit_code == 0, result.output
    reasons = {s["path"]: s["reason"] for s in json.loads(result.stdout)["skipped"]}
    assert reasons["notes.mbox"] == 'not an mbox mailbox (no "From " line starts a message)'
    assert reasons["box.mbox:2"].startswith("larger than 8 KiB")
    assert reasons["odd.eml"] == "damaged message (LookupError: unknown encoding: x-klingon)"
    found = invoke("query", "wax note", "--index", index, "--no-generate", "--json")
    assert [h["title"] for h in json.loads(found.stdout)["hits"]] == ["Small"]
    for where, titles in (("subject=Small", ["Small"]), ("date>=2026-03-01", ["Small"]), ("date>=2027", [])):
        found = invoke("query", "wax note", "--index", index, "--where", where, "--no-generate", "--json")
        assert found.exit_code == 0, found.output
        assert [h["title"] for h in json.loads(found.stdout)["hits"]] == titles


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


def test_a_plain_body_cites_its_own_lines_an_encoded_one_the_message_line(tmp_path: Path) -> None:
    """A 7-bit plain body is the file's text, so each passage cites the line it starts on; a base64,
    quoted-printable or HTML body's lines are not the file's, so its passages cite the message's line."""
    body = "".join(f"Body line {i} filler words.\n" for i in range(1, 13))
    encoded = []
    for cte in ("base64", "quoted-printable"):
        mail = EmailMessage()
        mail["Subject"] = cte
        mail.set_content(body, cte=cte)
        encoded.append(bytes(mail))
    html = message("HTML", "x", html="".join(f"<p>Body line {i} filler words.</p>\n" for i in range(1, 13)))
    mbox = b"".join(
        b"From ana@example.org Tue Mar  3 09:15:00 2026\n" + raw + b"\n"
        for raw in (message("Plain", body), *encoded, html)
    )
    root = write_files(tmp_path / "c", {"inbox.mbox": mbox})
    documents, skipped = read(root)
    assert skipped == {} and len(documents) == 4
    lines = mbox.decode().split("\n")
    plain, *others = documents
    body_start = plain.text.index("Body line 1 ")
    body_line = lines.index("Body line 1 filler words.") + 1
    chunks = split_document(plain, ChunkSettings(size=5, overlap=0))
    assert len(chunks) > 5
    for chunk in chunks:  # the headers shown above the body are not the file's: they cite the message
        if chunk.start < body_start:
            assert chunk.line == plain.line
        else:
            assert chunk.line == body_line + plain.text.count("\n", body_start, chunk.start), chunk
    for document in others:
        assert {c.line for c in split_document(document, ChunkSettings(size=5, overlap=0))} == {document.line}
