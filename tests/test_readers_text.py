"""Text under any name (readers/plain.py) and which files a walk reads (readers/selection.py)."""

from __future__ import annotations

import codecs
import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest
from conftest import write_files

from ragcli.chunking import ChunkSettings, split_document
from ragcli.errors import InvalidOptionError
from ragcli.readers.base import reader_for
from ragcli.readers.plain import looks_like_text
from ragcli.readers.selection import Selection
from ragcli.readers.walk import CorpusReader, iter_files

PYTHON = '''"""A module."""

import os


def greet(name):
    """Say hello."""
    return f"hello {name}"


class Walker:
    def walk(self, root):
        return sorted(os.listdir(root))
'''

YAML = """# settings
server:
  host: localhost
  port: 8080
database:
  engine: postgres
  pool: 12
logging:
  level: debug
"""


def read(roots: list[Path], **kwargs: object) -> tuple[dict, CorpusReader]:
    reader = CorpusReader(roots, **kwargs)  # type: ignore[arg-type]
    return {d.id: d for d in reader.documents()}, reader


def reasons(reader: CorpusReader) -> dict[str, str]:
    return {s.path: s.reason for s in reader.report.skipped}


# --- the sniff ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "text"),
    [
        (b"", True),
        (b"plain ASCII\nwith lines\r\n\tand tabs\x0c", True),
        ("UTF-8: café, 日本語, emoji 🐝".encode(), True),
        ("cut in the middle of a character: é".encode()[:-1], True),  # the window may end inside one
        ("Latin-1: café crème brûlée, naïve façade".encode("latin-1"), True),
        ("KOI8-R: Привет, как дела? Всё хорошо.".encode("koi8-r"), True),
        (b"N\x08NA\x08AM\x08ME\x08E overstruck by nroff, \x1b[1mbold\x1b[0m", True),
        (b"text with one NUL\x00 is binary", False),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", False),
        (bytes(range(1, 256)) * 8, False),  # every byte but NUL: not UTF-8, 8% control characters
        (b"\xff\xfe" + "UTF-16 text".encode("utf-16-le"), False),  # NULs: read as binary, like git does
    ],
)
def test_looks_like_text(head: bytes, text: bool) -> None:
    assert looks_like_text(head) is text


def test_a_few_control_characters_in_legacy_text_are_tolerated_but_many_are_not() -> None:
    legacy = "façade ".encode("latin-1") * 200  # 1,400 bytes, not UTF-8
    assert looks_like_text(legacy + b"\x1a" * 14)  # 1%
    assert not looks_like_text(legacy + b"\x1a" * 20)


# --- which reader claims what ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("notes.txt", "text"),
        ("guide.md.gz", "markdown"),
        ("tool.py", "code"),
        ("config.YAML", "code"),
        ("query.sql.gz", "code"),
        ("README", "plain"),
        ("changelog.Debian.gz", "plain"),
        ("README.gz", "plain"),
        ("notes.unknownsuffix", "plain"),
        ("Makefile", "plain"),
        ("photo.png", None),
        ("bundle.tar.gz", None),
        ("lib.so", None),
    ],
)
def test_reader_for(name: str, reader: str | None) -> None:
    found = reader_for(Path(name))
    assert (found.name if found is not None else None) == reader


# --- text without a known suffix -------------------------------------------------------------------


def test_an_extensionless_readme_is_read_and_titled(tmp_path: Path) -> None:
    root = write_files(
        tmp_path,
        {"README": "tmux\n\nA terminal multiplexer.\n", "NEWS": "Version 3.3 fixes\nthe copy mode.\n"},
    )
    docs, reader = read([root])
    assert docs["README"].text == "tmux\n\nA terminal multiplexer.\n" and docs["README"].title == "tmux"
    assert docs["NEWS"].title == "NEWS"  # no title line: the file name
    assert reader.report.skipped == []


def test_a_binary_file_without_a_suffix_is_skipped_as_binary_content(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"program": b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(200), "LICENSE": "MIT"})
    docs, reader = read([root])
    assert list(docs) == ["LICENSE"]
    assert reasons(reader) == {"program": "binary content"}


def _office_file(main_type: str, padding: int) -> bytes:
    """A zip holding an Office Open XML package's content types (what says which format it is), and
    `padding` bytes more: the package's directory, at the zip's end, past the sniffed head or not."""
    types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Override PartName="/main.xml" ContentType="application/vnd.openxmlformats-officedocument.{main_type}'
        '.main+xml"/></Types>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("main.xml", b"<x>" + b"y" * padding + b"</x>")
    return out.getvalue()


def test_a_pdf_or_office_file_under_a_text_name_says_what_it_looks_like(tmp_path: Path) -> None:
    """A browser's download saved without `.pdf` was read as cp1252 text (its syntax indexed: "endobj",
    "MediaBox") or skipped as "binary content", as was a Word file named `notes.md`: each is skipped with
    the name to give it. A zip that is no Office file is still "binary content"."""
    pdf = b"%PDF-1.3\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("a.txt", "text")
    bomb = io.BytesIO()  # a 30 KB file whose [Content_Types].xml expands to 30 MB: never unpacked
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", b" " * 30_000_000)
    root = write_files(
        tmp_path,
        {
            "download": pdf,
            "paper.md": pdf,
            "scan.gz": gzip.compress(pdf),
            "notes.md": _office_file("wordprocessingml.document", 100),
            "report": _office_file("wordprocessingml.document", 20_000),  # its directory past the sniffed head
            "deck.txt": _office_file("presentationml.presentation", 100),
            "archive": plain_zip.getvalue(),
            "bomb.txt": bomb.getvalue(),
            "LICENSE": "MIT",
        },
    )
    docs, reader = read([root])
    assert list(docs) == ["LICENSE"]
    assert reasons(reader) == {
        "download": "looks like a PDF: name it .pdf",
        "paper.md": "looks like a PDF: name it .pdf",
        "scan.gz": "looks like a PDF: name it .pdf",
        "notes.md": "looks like a Word document: name it .docx",
        "report": "looks like a Word document: name it .docx",
        "deck.txt": "looks like a PowerPoint deck: name it .pptx",
        "archive": "binary content",
        "bomb.txt": "binary content",
    }


def test_a_known_binary_suffix_is_skipped_by_name(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"archive.zip": "PK not opened at all", "a.txt": "text"})
    _docs, reader = read([root])
    assert reasons(reader) == {"archive.zip": "unsupported file type .zip"}
    assert [s.path for s in reader.report.sources] == ["a.txt"]  # the zip was never opened or hashed


def test_legacy_encoded_text_without_a_suffix_is_read_with_a_warning(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"AUTHORS": "François Müller\n".encode("latin-1")})
    docs, reader = read([root])
    assert docs["AUTHORS"].text == "François Müller\n"
    assert reader.report.warnings == ["AUTHORS: not valid UTF-8, read as cp1252"]


def test_utf16_and_utf32_with_a_byte_order_mark_are_read_in_every_format(tmp_path: Path) -> None:
    """What Windows writes (Notepad's "Unicode", PowerShell's `>`, Excel's "Unicode Text") is read, lines
    and titles as in UTF-8; a stream of 64 KiB chunks that splits a surrogate pair loses nothing."""
    long = "".join(f"line {n} 🐝 bee\n" for n in range(9000))  # ~300 KB as UTF-16: many chunks
    root = write_files(
        tmp_path,
        {
            "notepad.txt": "Shopping list\n\nmilk, café au lait\n".encode("utf-16"),  # LE, with its mark
            "big-endian.txt": "\ufeffBig endian\n".encode("utf-16-be"),
            "wide.md": "# Wide title\n\nUTF-32 Markdown.\n".encode("utf-32"),
            "export.csv": "id,text\nr1,a row from a spreadsheet\n".encode("utf-16"),
            "records.jsonl": '{"id": "j1", "text": "a JSON line"}\n'.encode("utf-16"),
            "zipped.txt.gz": gzip.compress("Compressed wide text\n".encode("utf-16")),
            "long.txt": long.encode("utf-16"),
            "damaged.txt": b"\xff\xfe" + b"\x00\xd8" + "after an unpaired surrogate".encode("utf-16-le"),
        },
    )
    docs, reader = read([root])
    assert docs["notepad.txt"].text == "Shopping list\n\nmilk, café au lait\n"
    assert docs["notepad.txt"].title == "Shopping list"
    assert docs["big-endian.txt"].text == "Big endian\n"
    assert docs["wide.md"].title == "Wide title" and "UTF-32 Markdown." in docs["wide.md"].text
    assert (docs["r1"].text, docs["r1"].line) == ("a row from a spreadsheet", 2)
    assert docs["j1"].text == "a JSON line"
    assert docs["zipped.txt.gz"].text == "Compressed wide text\n"
    assert list(reasons(reader)) == ["damaged.txt"] and "UnicodeDecodeError" in reasons(reader)["damaged.txt"]
    assert reader.report.warnings == []
    segments = CorpusReader([root / "long.txt"]).documents()
    assert "".join(d.text for d in segments) == long  # its segments, whole
    chunks = split_document(docs["notepad.txt"], ChunkSettings(size=2, overlap=0))
    assert [(c.text, c.line) for c in chunks][-1] == ("au lait", 3)


def test_gzipped_text_of_any_name_is_read(tmp_path: Path) -> None:
    root = write_files(
        tmp_path,
        {
            "changelog.Debian.gz": gzip.compress(b"tmux (3.3a-3) unstable; urgency=medium\n\n  * New upstream.\n"),
            "notes.md.gz": gzip.compress(b"# Notes\n\nGzipped Markdown.\n"),
            "README.gz": gzip.compress(b"Read me,\ncompressed.\n"),
            "tool.py.gz": gzip.compress(b"print('compressed code')\n"),
            "data.bin.gz": gzip.compress(b"\x00\x01\x02"),
            "blob.gz": gzip.compress(b"\x00\x01\x02 binary once decompressed"),
        },
    )
    docs, reader = read([root])
    assert sorted(docs) == ["README.gz", "changelog.Debian.gz", "notes.md.gz", "tool.py.gz"]
    changelog = docs["changelog.Debian.gz"]
    assert changelog.title == "tmux (3.3a-3) unstable; urgency=medium" and "New upstream" in changelog.text
    assert docs["README.gz"].title == "README"  # no title line: the name without .gz
    assert docs["notes.md.gz"].title == "Notes" and docs["tool.py.gz"].title == "tool.py"
    assert reasons(reader) == {"data.bin.gz": "unsupported file type .bin.gz", "blob.gz": "binary content"}


def test_damaged_gzip_without_a_suffix_is_skipped_with_the_reason(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"NEWS.gz": b"not gzip at all"})
    _docs, reader = read([root])
    assert reasons(reader)["NEWS.gz"].startswith("damaged compressed data")


def test_a_file_named_explicitly_is_read(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"doc/tmux/README": "Explicitly named.\n", "doc/tmux/.gitignore": "README\n"})
    docs, reader = read([root / "doc" / "tmux" / "README"])
    assert list(docs) == ["README"] and reader.report.skipped == []


@pytest.mark.parametrize(("name", "content"), [("tool.py", PYTHON), ("settings.yaml", YAML)])
def test_code_and_config_keep_exact_line_citations(tmp_path: Path, name: str, content: str) -> None:
    root = write_files(tmp_path, {name: content})
    docs, _reader = read([root])
    document = docs[name]
    assert document.title == name and document.text == content
    lines = content.splitlines()
    passages = split_document(document, ChunkSettings(size=3, overlap=0))
    assert len(passages) >= 5
    for passage in passages:  # each passage cites the line its first word is on
        assert passage.text.split()[0] in lines[passage.line - 1], (passage.line, passage.text)
    assert passages[-1].line >= 8


# --- text captured from a terminal ----------------------------------------------------------------

COLOURED_LOG = (
    "build started\n"
    "\x1b[1m\x1b[32mPASS\x1b[0m tests/unit\n"
    "\x1b[31merror\x1b[0m: cannot open \x1b]8;;file:///tmp/config.toml\x07config.toml\x1b]8;;\x07\n"
    "grep found foo\x1b[01;31m\x1b[Kbar\x1b[m\x1b[Kbaz here\n"
)
MAN_PAGE = "N\bNA\bAM\bME\bE\n     ls - list directory contents\n\n_\bu_\bs_\be with care\n"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "build.log",
            COLOURED_LOG,
            "build started\nPASS tests/unit\nerror: cannot open config.toml\ngrep found foobarbaz here\n",
        ),
        ("ls.1", MAN_PAGE, "NAME\n     ls - list directory contents\n\nuse with care\n"),
        ("notes.txt", "plain \x1b[7mreverse\x1b[27m video", "plain reverse video"),
    ],
)
def test_terminal_sequences_and_overstrikes_are_removed_from_the_text_indexed(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    """Colour codes glued to words made them unsearchable ("31merror") and put "0m" into answers;
    the text indexed is what the terminal showed, on the same lines."""
    root = write_files(tmp_path, {name: content})
    docs, _reader = read([root])
    assert docs[name].text == expected
    lines = expected.splitlines()
    for passage in split_document(docs[name], ChunkSettings(size=2, overlap=0)):  # citations keep their line
        assert passage.text.split()[0] in lines[passage.line - 1], (passage.line, passage.text)


def test_terminal_sequences_in_records_and_in_a_streamed_file_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ragcli.readers.text as text_module

    monkeypatch.setattr(text_module, "STREAM_TEXT_BYTES", 1 << 10)
    monkeypatch.setattr(text_module, "SEGMENT_CHARS", 1 << 8)
    record = {"id": "r1", "title": "\x1b[1mBold\x1b[0m title", "text": "an \x1b[4munderlined\x1b[24m word"}
    long_log = "".join(f"line {n} \x1b[33mwarning\x1b[0m number {n}\n" for n in range(200))
    root = write_files(tmp_path, {"r.jsonl": json.dumps(record) + "\n", "long.txt": long_log})
    documents = list(CorpusReader([root]).documents())
    (r1,) = [d for d in documents if d.id == "r1"]
    assert (r1.title, r1.text) == ("Bold title", "an underlined word")
    segments = [d for d in documents if d.path == "long.txt"]  # one document, streamed in segments
    text = "".join(d.text for d in segments)
    assert len(segments) > 1 and "\x1b" not in text and text.count(" warning number") == 200
    assert all(
        segment.line == 1 + "".join(d.text for d in segments[:n]).count("\n") for n, segment in enumerate(segments)
    )


@pytest.mark.parametrize("ending", ["\r", "\r\n"], ids=["lone-cr", "crlf"])
def test_each_line_ending_breaks_a_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ending: str) -> None:
    """A file saved with classic Mac OS line endings was one line: every passage cited line 1, its
    Markdown sections were lost, and carriage returns reached the passages. Line endings are read as
    Python's text mode reads them, in a streamed file too (a "\r\n" cut between two blocks is one)."""
    import ragcli.readers.text as text_module

    monkeypatch.setattr(text_module, "STREAM_TEXT_BYTES", 1 << 10)
    monkeypatch.setattr(text_module, "SEGMENT_CHARS", 1 << 8)
    markdown = ["# Bees", "", "The hive holds 50,000 bees.", "", "## Drones", "", "Drones mate with the queen."]
    notes = [f"note {n} says {n * n}" for n in range(1, 30)]
    log = [f"entry {n} of the long log" for n in range(1, 200)]
    root = write_files(
        tmp_path,
        {
            name: ending.join(lines).encode()
            for name, lines in {"mac.md": markdown, "notes.txt": notes, "long.txt": log}.items()
        },
    )
    documents = list(CorpusReader([root]).documents())
    texts = {name: "".join(d.text for d in documents if d.path == name) for name in ("mac.md", "notes.txt", "long.txt")}
    assert texts == {"mac.md": "\n".join(markdown), "notes.txt": "\n".join(notes), "long.txt": "\n".join(log)}
    assert len([d for d in documents if d.path == "long.txt"]) > 1  # streamed in segments
    assert [d.title for d in documents if d.path == "mac.md"] == ["Bees"]
    for document in documents:
        lines = texts[document.path].splitlines()
        for passage in split_document(document, ChunkSettings(size=3, overlap=0)):  # each cites its own line
            assert passage.text.split()[0] in lines[passage.line - 1], (passage.line, passage.text)


def streamed(monkeypatch: pytest.MonkeyPatch, block: int = 1 << 20) -> None:
    """Text files from 1 KiB on are read in segments of 256 characters, `block` bytes at a time."""
    import ragcli.readers.text as text_module

    monkeypatch.setattr(text_module, "STREAM_TEXT_BYTES", 1 << 10)  # `streams`, which markup.py asks too
    monkeypatch.setattr(text_module, "SEGMENT_CHARS", 1 << 8)
    monkeypatch.setattr(text_module, "STREAM_BLOCK_BYTES", block)


@pytest.mark.parametrize("block", [1 << 20, 100], ids=["one-block", "many-blocks"])
def test_a_streamed_file_is_decoded_as_a_whole_one_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """A text file over 16 MiB was decoded as UTF-8 with bad bytes replaced, always: a Windows-1252
    one lost every accented letter without a warning, where the same file under 16 MiB is read as
    cp1252 with one. Each block is decoded by the whole file's rule (`decode_from`), with one warning;
    a UTF-8 character cut between two blocks stays whole."""
    streamed(monkeypatch, block)
    french = "".join(f"Ligne {n} : café crème, naïve façade.\n" for n in range(60))
    russian = "".join(f"Строка {n}: пчёлы танцуют.\n" for n in range(60))
    late = "plain ASCII at first\n" * 20 + french  # the first block holds no accented letter
    root = write_files(
        tmp_path / "c",
        {
            "french.txt": french.encode("cp1252"),
            "late.txt": late.encode("cp1252"),
            "russian.txt": russian[:500].encode() + b"\xb0" + russian[500:].encode(),
        },
    )
    documents = list(CorpusReader([root]).documents())
    texts = {
        name: "".join(d.text for d in documents if d.path == name) for name in ("french.txt", "late.txt", "russian.txt")
    }
    assert texts == {"french.txt": french, "late.txt": late, "russian.txt": russian[:500] + "\ufffd" + russian[500:]}
    assert len([d for d in documents if d.path == "french.txt"]) > 1  # streamed in segments
    reader = CorpusReader([root])
    list(reader.documents())
    assert sorted(reader.report.warnings) == [
        "french.txt: not valid UTF-8, read as cp1252",
        "late.txt: not valid UTF-8, read as cp1252",
        "russian.txt: 1 byte not valid UTF-8, replaced by U+FFFD",
    ]


@pytest.mark.parametrize("block", [1 << 20, 100], ids=["one-block", "many-blocks"])
def test_a_streamed_file_ends_at_a_nul_tail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    """Only the first 8 KiB are sniffed for a NUL: a log left with a NUL tail by a crash, or a
    preallocated file, was streamed NUL by NUL (a 300 MB file made a 300 MB index, a 2 GB one ran out of
    memory). Its text ends at the first NUL, with a warning; the hash still covers the whole file."""
    streamed(monkeypatch, block)
    text = "".join(f"line {n} of the log before the crash\n" for n in range(400))  # past the sniffed 8 KiB
    root = write_files(tmp_path / "c", {"crash.log": text.encode() + b"\x00" * 5000 + b"after the nuls\n"})
    reader = CorpusReader([root])
    documents = list(reader.documents())
    assert len(documents) > 1 and "".join(d.text for d in documents) == text
    assert reader.report.warnings == [
        f"crash.log: NUL bytes (binary content) from byte {len(text):,} on; only the text before them was read"
    ]
    assert not reader.report.skipped


@pytest.mark.parametrize("change", ["truncated", "grown"])
def test_a_file_changed_while_it_is_read_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    """A file truncated while it was read was indexed in part, with exit 0 and no word of it."""
    streamed(monkeypatch, 100)
    root = write_files(tmp_path / "c", {"big.txt": "".join(f"line {n} of the file\n" for n in range(400))})
    reader = CorpusReader([root])
    documents = reader.read_file(root / "big.txt")
    next(documents)  # the first segment is read: the file changes under the reader
    with (root / "big.txt").open("w" if change == "truncated" else "a") as file:
        file.write("" if change == "truncated" else "appended line\n")
    list(documents)
    assert reader.report.warnings == ["big.txt: changed while it was read; the next index reads it again"]


@pytest.mark.parametrize("name", ["crash.log", "notes.md"])
def test_a_file_read_whole_ends_at_a_nul_tail_as_a_streamed_one(tmp_path: Path, name: str) -> None:
    """A file under 16 MiB, read whole, whose NULs start past the sniffed 8 KiB kept them in its text (and
    in the index), where a streamed one ends at the first: the same rule and warning for both."""
    text = "".join(f"line {n} of the log before the crash\n" for n in range(400))  # past the sniffed 8 KiB
    root = write_files(tmp_path / "c", {name: text.encode() + b"\x00" * 5000 + b"after the nuls\n"})
    reader = CorpusReader([root])
    documents = list(reader.documents())
    assert "".join(d.text for d in documents).strip() == text.strip()
    assert reader.report.warnings == [
        f"{name}: NUL bytes (binary content) from byte {len(text):,} on; only the text before them was read"
    ]
    assert not reader.report.skipped


def test_a_streamed_markdown_file_drops_its_byte_order_mark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Markdown over 16 MiB kept a UTF-8 byte-order mark in its text ("\\ufeff---"): its front matter
    was not seen as one, so it was indexed as text and the title was the file name."""
    streamed(monkeypatch)
    body = "".join(f"Paragraph {n} about bees.\n\n" for n in range(100))
    root = write_files(tmp_path / "c", {"big.md": b"\xef\xbb\xbf" + f"---\ntitle: Big guide\n---\n{body}".encode()})
    documents = list(CorpusReader([root]).documents())
    assert len(documents) > 1 and {d.title for d in documents} == {"Big guide"}
    assert "".join(d.text for d in documents) == body and documents[0].line == 4
    lines = f"---\ntitle: Big guide\n---\n{body}".splitlines()
    for document in documents:  # each segment cites the file's own lines
        for passage in split_document(document, ChunkSettings(size=3, overlap=0)):
            assert passage.text.split()[0] in lines[passage.line - 1], (passage.line, passage.text)


PROGRESS_LOG = (
    "fetching model\n"
    + "".join(f"Downloading {n}%\r" for n in range(0, 101, 5))
    + "\nDone\r\n"
    + "Saving\rOK\n"  # a shorter write leaves the end of the longer one, as on a terminal
    + "error: zebra not found\n"
)


@pytest.mark.parametrize("block", [0, 1 << 20, 7], ids=["whole", "streamed", "streamed-in-7-byte-blocks"])
def test_a_lone_carriage_return_in_a_text_of_line_feeds_overwrites_as_a_terminal_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """A captured log's progress bar ("Downloading 1%\\rDownloading 2%\\r…") made each lone "\\r" a
    line break: every later citation was shifted from the line `grep -n` and editors count. A lone "\\r"
    breaks lines only in a text with no "\\n" at all (classic Mac OS); elsewhere it returns to the start
    of its line and the rest overwrites it, as the terminal showed it."""
    if block:
        streamed(monkeypatch, block)
    root = write_files(tmp_path / "c", {"run.log": PROGRESS_LOG * 30})
    documents = list(CorpusReader([root]).documents())
    text = "".join(d.text for d in documents)
    shown = "fetching model\nDownloading 100%\nDone\nOKving\nerror: zebra not found\n"
    assert text == shown * 30
    lines = text.split("\n")
    assert len(lines) == len((PROGRESS_LOG * 30).split("\n"))  # the lines `grep -n` numbers
    for document in documents:
        for passage in split_document(document, ChunkSettings(size=2, overlap=0)):
            assert passage.text.split()[0] in lines[passage.line - 1], (passage.line, passage.text)


# --- ignore files and globs ------------------------------------------------------------------------

TREE = {
    ".gitignore": "*.log\n!keep.log\nbuild/\n/top-only.txt\n",
    "a.log": "ignored",
    "keep.log": "re-included by the negation",
    "top-only.txt": "anchored to the root",
    "notes.txt": "read",
    "build/out.txt": "inside an ignored folder",
    "sub/top-only.txt": "the anchored pattern does not reach here",
    "sub/b.log": "ignored by the root's pattern",
    "sub/.gitignore": "!b.log\nlocal.txt\n",
    "sub/local.txt": "ignored by the nested file",
    "sub/deep/c.log": "ignored by the root's pattern (the nested file says nothing of it)",
    "sub/deep/b.log": "re-included: 'b.log' has no slash, so it matches at any depth under sub/",
    "other/.ignore": "*.txt\n",
    "other/.gitignore": "!*.txt\n",  # .ignore wins over .gitignore in the same folder
    "other/x.txt": "ignored by .ignore",
    "other/y.md": "read",
}


def walked(root: Path, selection: Selection | None = None) -> tuple[list[str], int]:
    reader = CorpusReader([root], selection=selection)
    return sorted(reader.relative(p) for p in reader.files()), reader.report.ignored


def test_gitignore_with_negations_and_nested_files(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", TREE)
    files, ignored = walked(root)
    assert files == [
        "keep.log",
        "notes.txt",
        "other/y.md",
        "sub/b.log",
        "sub/deep/b.log",
        "sub/top-only.txt",
    ]
    # a.log, top-only.txt, build/ (one folder, not entered), sub/local.txt, sub/deep/c.log, other/x.txt
    assert ignored == 6


def test_no_ignore_reads_everything_but_hidden_files(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", TREE)
    files, ignored = walked(root, Selection(ignore_files=False))
    assert len(files) == len([name for name in TREE if not name.rsplit("/", 1)[-1].startswith(".")])
    assert ignored == 0


def test_an_ignored_folder_cannot_have_a_file_re_included(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {".gitignore": "logs/\n!logs/keep.txt\n", "logs/keep.txt": "x", "a.txt": "y"})
    assert walked(root)[0] == ["a.txt"]  # git's rule: a file under an excluded folder stays excluded


LOGS_TREE = ["top.txt", "logs/keep.txt", "logs/drop.txt", "logs/sub/keep.txt", "a/logs/keep.txt", "a/logs/drop.txt"]


# what git keeps of LOGS_TREE under each .gitignore (`git ls-files --others --exclude-standard`, git 2.x)
@pytest.mark.parametrize(
    ("patterns", "kept"),
    [
        ("logs/**\n!logs/keep.txt", ["a/logs/drop.txt", "a/logs/keep.txt", "logs/keep.txt", "top.txt"]),
        ("logs/\n!logs/keep.txt", ["top.txt"]),
        ("logs\n!logs/keep.txt", ["top.txt"]),
        ("/logs/**\n!logs/keep.txt", ["a/logs/drop.txt", "a/logs/keep.txt", "logs/keep.txt", "top.txt"]),
        ("**/logs/**\n!keep.txt", ["a/logs/keep.txt", "logs/keep.txt", "top.txt"]),
        ("logs/**/*.txt\n!logs/keep.txt", ["a/logs/drop.txt", "a/logs/keep.txt", "logs/keep.txt", "top.txt"]),
        (
            "logs/**\n!logs/**/\n!keep.txt",
            ["a/logs/drop.txt", "a/logs/keep.txt", "logs/keep.txt", "logs/sub/keep.txt", "top.txt"],
        ),
        ("logs/*\n!logs/keep.txt", ["a/logs/drop.txt", "a/logs/keep.txt", "logs/keep.txt", "top.txt"]),
        ("/logs/**\n!/logs/sub/keep.txt", ["a/logs/drop.txt", "a/logs/keep.txt", "top.txt"]),
    ],
)
def test_a_folders_contents_pattern_leaves_the_folder_walked_as_git_does(
    tmp_path: Path, patterns: str, kept: list[str]
) -> None:
    """`logs/**` matches what is inside logs/, not the folder itself (git's rule): pathspec matched the
    folder too, so it was never entered and `!logs/keep.txt` could not re-include the file git keeps."""
    root = write_files(tmp_path / "c", {".gitignore": patterns + "\n", **dict.fromkeys(LOGS_TREE, "x")})
    assert walked(root)[0] == kept


def test_an_ignore_file_saved_with_a_byte_order_mark_keeps_its_first_pattern(tmp_path: Path) -> None:
    """Notepad's UTF-8 starts the file with a byte-order mark: it was read into the first pattern
    ("\\ufeff*.log"), which then matched nothing, so debug.log was indexed where git ignores it."""
    root = write_files(tmp_path / "c", {".gitignore": b"\xef\xbb\xbf*.log\nbuild/\n", "debug.log": "x", "a.txt": "y"})
    assert walked(root) == (["a.txt"], 1)


def test_an_ignore_file_that_is_a_link_is_not_followed(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"a.txt": "x", "b.txt": "y"})
    outside = write_files(tmp_path / "elsewhere", {"patterns": "*.txt\n"})
    (root / ".gitignore").symlink_to(outside / "patterns")
    assert walked(root)[0] == ["a.txt", "b.txt"]


def test_include_and_exclude_globs_with_double_star(tmp_path: Path) -> None:
    root = write_files(
        tmp_path / "c",
        {
            "README.md": "top",
            "docs/guide.md": "guide",
            "docs/api/ref.md": "reference",
            "docs/api/ref.txt": "plain",
            "docs/drafts/wip.md": "draft",
            "src/app.py": "code",
        },
    )
    assert walked(root, Selection(include=("docs/**/*.md",)))[0] == [
        "docs/api/ref.md",
        "docs/drafts/wip.md",
        "docs/guide.md",
    ]
    assert walked(root, Selection(include=("*.md",), exclude=("**/drafts",)))[0] == [
        "README.md",
        "docs/api/ref.md",
        "docs/guide.md",
    ]
    files, ignored = walked(root, Selection(exclude=("docs/",)))
    assert files == ["README.md", "src/app.py"] and ignored == 1  # the folder counts once


def test_globs_are_relative_to_each_root_and_named_files_pass(tmp_path: Path) -> None:
    one = write_files(tmp_path / "one", {"keep/a.md": "a", "drop/b.md": "b"})
    two = write_files(tmp_path / "two", {"keep/c.md": "c", "d.md": "d"})
    named = write_files(tmp_path / "three", {"e.txt": "e"}) / "e.txt"
    reader = CorpusReader([one, two, named], selection=Selection(include=("keep/**",)))
    assert [reader.relative(p) for p in reader.files()] == ["one/keep/a.md", "two/keep/c.md", "three/e.txt"]


def test_a_beir_folder_is_taken_over_whatever_its_gitignore_says(tmp_path: Path) -> None:
    root = write_files(
        tmp_path / "beir",
        {".gitignore": "corpus.jsonl\n", "corpus.jsonl": '{"_id": "1", "text": "x"}\n', "queries.jsonl": ""},
    )
    assert [p.name for p in iter_files(root, selection=Selection())] == ["corpus.jsonl"]


def test_a_bad_glob_is_refused_before_any_work() -> None:
    with pytest.raises(InvalidOptionError, match="--exclude"):
        Selection(exclude=("\\",)).check()
    with pytest.raises(InvalidOptionError, match="empty glob"):
        Selection(include=("",)).check()


def test_a_bad_line_in_an_ignore_file_is_dropped_as_git_drops_it(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {".gitignore": "\\\n*.log\n", "a.log": "x", "b.txt": "y"})
    assert walked(root)[0] == ["b.txt"]


def test_selection_round_trips_and_updates() -> None:
    recorded = Selection(include=("*.md",), exclude=("build",), ignore_files=False)
    assert Selection.from_dict(recorded.to_dict()) == recorded
    assert Selection.from_dict(None) == Selection()
    assert recorded.updated(None, ["dist"], None) == Selection(("*.md",), ("dist",), False)
    assert recorded.updated([], None, True) == Selection((), ("build",), True)


def test_a_crafted_ignore_pattern_cannot_stall_the_walk(tmp_path: Path) -> None:
    # With a backtracking regex engine this pattern costs ~250**7 steps on the long name below (a
    # four-star one took 5 s per path): the walk would never end. RE2 matches in linear time.
    root = write_files(tmp_path / "c", {".gitignore": "*a" * 8 + "z\n", "a" * 200: "long name", "b.txt": "b"})
    files, ignored = walked(root)
    assert files == ["a" * 200, "b.txt"] and ignored == 0


def test_names_that_are_not_utf8_are_matched(tmp_path: Path) -> None:
    root = tmp_path / "c"
    root.mkdir()
    (root / "keep.txt").write_text("k")
    name = b"caf\xe9.log"  # Latin-1 bytes: not UTF-8
    with open(bytes(root) + b"/" + name, "wb") as handle:
        handle.write(b"x")
    (root / ".gitignore").write_text("*.log\n")
    assert walked(root) == (["keep.txt"], 1)
    files, ignored = walked(root, Selection(ignore_files=False, include=("caf*",)))
    assert files == ["caf\udce9.log"] and ignored == 1  # the name as Python holds it (os.fsdecode)


@pytest.mark.parametrize(
    ("name", "small_title"),
    [("long.txt", "# Short Notes"), ("long.md", "Short Notes"), ("long.log", "small.log"), ("LONG", "# Short Notes")],
)
def test_a_text_file_over_the_read_limit_is_streamed_not_skipped(tmp_path: Path, name: str, small_title: str) -> None:
    """--max-expanded-size bounds what is read whole; an uncompressed text file over it is read in
    segments instead, as one over 16 MiB always was (a 2 MB .txt was skipped under a 1M limit while a
    17 MB one streamed). A compressed one is still bounded: what it expands to is not its size."""
    body = "\n".join(" ".join(f"word{n}" for n in range(line, line + 10)) for line in range(0, 3000, 10))
    content = f"Long Notes\n\n{body}\nzanzibar\n".encode()
    files = {
        name: content,
        f"small{name[4:]}": b"# Short Notes\n\nA few words.\n",
        f"{name}.gz": gzip.compress(content),
    }
    root = write_files(tmp_path / "c", files)
    reader = CorpusReader([root], max_bytes=4096)
    documents = list(reader.documents())
    limit = "larger than 4 KiB once decompressed (raise --max-expanded-size to read it)"
    assert [(s.path, s.reason) for s in reader.report.skipped] == [(f"{name}.gz", limit)]
    assert "".join(d.text for d in documents if d.path == name) == content.decode()
    assert [d.title for d in documents if d.path.startswith("small")] == [small_title]  # small: read whole


def test_utf16_text_whose_utf8_is_over_the_read_limit_is_streamed(tmp_path: Path) -> None:
    """UTF-16 is read as UTF-8, up to half as long again: a file under the limit on disk but over it as
    UTF-8 is streamed, not skipped as too large."""
    text = "蜜蜂 " * 600  # 1.8 KB in UTF-16, 2.4 KB in UTF-8
    root = write_files(tmp_path / "c", {"bees.txt": codecs.BOM_UTF16_LE + text.encode("utf-16-le")})
    reader = CorpusReader([root], max_bytes=2048)
    documents = list(reader.documents())
    assert reader.report.skipped == [] and "".join(d.text for d in documents) == text


@pytest.mark.parametrize("block", [1 << 20, 7], ids=["one-block", "in-7-byte-blocks"])
def test_a_streamed_markdown_file_breaks_its_lines_at_a_lone_carriage_return(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """CommonMark reads a lone "\\r" as a line end, in a file read whole or in segments alike; a "\\r\\n"
    cut between two blocks stays one line end."""
    streamed(monkeypatch, block)
    body = "".join(f"line {n} okapi\rand tapir {n}\r\n" for n in range(200))
    root = write_files(tmp_path / "c", {"notes.md": "# Notes\n" + body})
    text = "".join(d.text for d in CorpusReader([root]).documents())
    assert text == "# Notes\n" + body.replace("\r\n", "\n").replace("\r", "\n")
