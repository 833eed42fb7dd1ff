"""The PDF reader and page citations, on PDFs written here (fpdf2, and pypdf's writer to encrypt)."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pypdf
import pytest
from clihelpers import invoke
from conftest import write_files
from crafted import payload_file, set_recorded
from fpdf import FPDF

from ragcli.chunking import ChunkSettings, split_document
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.readers.pdf import NO_TEXT_LAYER
from ragcli.readers.walk import CorpusReader
from ragcli.records import PASSAGES_FILE
from ragcli.retrieval.index import load_index
from ragcli.store import load_payload, save_payload

PAGES = [
    "Harbour survey report\n\nThe survey counted boats moored along the northern breakwater in spring.",
    "The quokka lives on Rottnest Island and is famous for its smiling face in photographs.",
    "Appendix: tide tables and the methods used to measure the depth of the channel.",
]


def make_pdf(pages: list[str], *, title: str | None = None, blank: set[int] = frozenset()) -> bytes:  # type: ignore[assignment]
    """A PDF with one page per item (core font, so the text layer is exact); pages in `blank` get only
    a drawn rectangle, as an image-only (scanned) page has no text."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    if title is not None:
        pdf.set_title(title)
    for number, text in enumerate(pages, start=1):
        pdf.add_page()
        if number in blank:
            pdf.rect(20, 20, 100, 60, style="F")
        else:
            pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def encrypted(data: bytes, user_password: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def read(root: Path, **options: int) -> tuple[list, dict[str, str]]:  # type: ignore[type-arg]
    reader = CorpusReader([root], **options)  # type: ignore[arg-type]
    documents = list(reader.documents())
    return documents, {s.path: s.reason for s in reader.report.skipped}


def copied(path: Path) -> dict[str, object]:
    """A payload in memory (its arrays copied out of the map, so the file may be overwritten)."""
    return {k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in load_payload(path).items()}


def test_each_page_is_a_segment_of_one_document_with_its_page_number(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"report.pdf": make_pdf(PAGES)})
    documents, skipped = read(root)
    assert skipped == {}
    assert [d.page for d in documents] == [1, 2, 3]
    assert {d.id for d in documents} == {"report.pdf"}
    assert [d.continuation for d in documents] == [False, True, True]
    assert "Rottnest" in documents[1].text and "Rottnest" not in documents[0].text + documents[2].text
    assert all(d.metadata["pages"] == 3 for d in documents)
    # no metadata title: the first line of the first page
    assert documents[0].title == "Harbour survey report" and documents[0].title_in_text
    passages = [p for d in documents for p in split_document(d, ChunkSettings(size=8, overlap=2))]
    assert len({p.id for p in passages}) == len(passages)  # ordinals carry on across pages
    for passage in passages:  # a passage lies on one page: its text is in that page's text
        assert (
            passage.text in PAGES[passage.page - 1].replace("\n\n", "\n")
            or passage.text in documents[passage.page - 1].text
        )
    starts = [p.start for p in passages]
    assert starts == sorted(starts)  # offsets run through the whole document


def test_the_metadata_title_wins_over_the_first_line(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"r.pdf": make_pdf(PAGES, title="Annual Harbour Report 2025")})
    documents, _ = read(root)
    assert {d.title for d in documents} == {"Annual Harbour Report 2025"}
    assert not documents[0].title_in_text


def with_title(data: bytes, title: pypdf.generic.PdfObject) -> bytes:
    """`data` with its info dictionary's /Title set to `title`, whatever object that is."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    reader.trailer["/Info"].get_object()[pypdf.generic.NameObject("/Title")] = title  # add_metadata makes text
    writer = pypdf.PdfWriter(clone_from=reader)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "title",
    [
        pypdf.generic.DictionaryObject({pypdf.generic.NameObject("/Kids"): pypdf.generic.NumberObject(1)}),
        pypdf.generic.NumberObject(42),
        pypdf.generic.NameObject("/Kids"),
    ],
)
def test_a_title_that_is_no_text_string_is_ignored_for_the_first_line(
    tmp_path: Path, title: pypdf.generic.PdfObject
) -> None:
    root = write_files(tmp_path / "c", {"r.pdf": with_title(make_pdf(PAGES), title)})
    documents, skipped = read(root)
    assert skipped == {}
    assert {d.title for d in documents} == {"Harbour survey report"}


def test_a_blank_first_page_is_left_out_and_page_numbers_stay_true(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"scan-cover.pdf": make_pdf(["cover", *PAGES[1:]], blank={1})})
    documents, skipped = read(root)
    assert skipped == {}
    assert [d.page for d in documents] == [2, 3]
    assert [d.continuation for d in documents] == [False, True]


def test_the_hit_cites_page_two_through_the_cli(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"report.pdf": make_pdf(PAGES), "notes.txt": "Boats and tides.\n"})
    index = str(tmp_path / "idx")
    result = invoke("index", str(root), "--index", index)
    assert result.exit_code == 0, result.output
    result = invoke("query", "quokka Rottnest", "--index", index, "--no-generate", "--json")
    assert result.exit_code == 0, result.output
    hit = json.loads(result.stdout)["hits"][0]
    assert (hit["path"], hit["page"]) == ("report.pdf", 2)
    result = invoke("query", "quokka Rottnest", "--index", index, "--no-generate")
    assert "report.pdf:p2" in result.stdout
    result = invoke("query", "boats", "--index", index, "--no-generate", "--json")
    pages = sorted((h["path"], h["page"]) for h in json.loads(result.stdout)["hits"])
    assert pages == [("notes.txt", None), ("report.pdf", 1)]  # a text file has no page: null, cited by line
    hits = load_index(index).search("quokka", k=1)
    assert hits[0].citation == "report.pdf:p2"


def test_plain_lines_name_the_page_the_table_cites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--plain showed `report.pdf:1:1:` for every page (the line is the page's): the page the table and
    --json give was lost. It leads the message, so that the line stays `path:line:col:` for editors."""
    root = write_files(tmp_path / "c", {"report.pdf": make_pdf(PAGES), "notes.txt": "Boats and tides.\n"})
    index = str(tmp_path / "idx")
    assert invoke("index", str(root), "--index", index).exit_code == 0
    monkeypatch.chdir(root)
    result = invoke("query", "quokka tide boats", "--index", index, "--no-generate", "--plain", "-k", "4")
    assert result.exit_code == 0, result.output
    assert sorted(line.split(" ")[0:2] for line in result.stdout.splitlines()) == [
        ["notes.txt:1:1:", "Boats"],  # no page: the line is the file's
        ["report.pdf:1:1:", "p1:"],
        ["report.pdf:1:1:", "p2:"],
        ["report.pdf:1:1:", "p3:"],
    ]
    answered = invoke("query", "quokka Rottnest", "--index", index, "-g", "extractive", "--plain", "-k", "1")
    assert answered.stdout.splitlines()[1].startswith("report.pdf:1:1: p2: The quokka lives")


def test_encrypted_pdfs(tmp_path: Path) -> None:
    plain = make_pdf(PAGES)
    root = write_files(tmp_path / "c", {"locked.pdf": encrypted(plain, "secret"), "open.pdf": encrypted(plain, "")})
    documents, skipped = read(root)
    assert skipped == {"locked.pdf": "encrypted PDF (needs a password)"}
    assert [d.page for d in documents if d.id == "open.pdf"] == [1, 2, 3]  # the empty password opens it
    assert "Rottnest" in documents[1].text


def test_an_image_only_pdf_is_skipped_as_scanned(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"scan.pdf": make_pdf(["", ""], blank={1, 2}), "ok.txt": "text\n"})
    _, skipped = read(root)
    assert skipped == {"scan.pdf": NO_TEXT_LAYER}
    assert NO_TEXT_LAYER == "no text layer — scanned?"


def test_damaged_pdfs_are_skipped_with_a_reason_never_a_traceback(tmp_path: Path) -> None:
    good = make_pdf(PAGES)
    root = write_files(
        tmp_path / "c",
        {
            "garbage.pdf": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
            "header-only.pdf": b"%PDF-1.7\n" + b"\x00\xff garbage " * 50,
            "truncated.pdf": good[: len(good) // 3],
            "empty.pdf": b"",
            "ok.txt": "a text file beside them\n",
        },
    )
    documents, skipped = read(root)
    assert skipped["garbage.pdf"] == "not a PDF (no %PDF- header)"
    assert skipped["empty.pdf"] == "not a PDF (no %PDF- header)"
    assert skipped["header-only.pdf"].startswith("damaged PDF (")
    assert skipped["truncated.pdf"].startswith(("damaged PDF (", NO_TEXT_LAYER)), skipped["truncated.pdf"]
    assert [d.id for d in documents] == ["ok.txt"]
    result = invoke("index", str(root), "--index", str(tmp_path / "idx"), "--json")
    assert result.exit_code == 0, result.output
    reasons = {s["path"]: s["reason"] for s in json.loads(result.stdout)["skipped"]}
    assert reasons["header-only.pdf"].startswith("damaged PDF (")


def test_a_pdf_past_the_expanded_size_limit_is_skipped(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"big.pdf": make_pdf(PAGES)})
    _, skipped = read(root, max_bytes=512)
    assert skipped["big.pdf"].startswith("larger than 512 bytes")


def test_an_index_written_before_page_citations_still_opens(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"report.pdf": make_pdf(PAGES), "notes.txt": "Boats and tides.\n"})
    index_dir = tmp_path / "idx"
    build_index([root], index_dir, BuildSettings())
    payload = copied(payload_file(index_dir, PASSAGES_FILE))
    assert int(np.max(payload["page"])) == 3
    del payload["page"]  # as an index built before this change was written
    target = payload_file(index_dir, PASSAGES_FILE)
    target.unlink()  # ragcli writes a payload only as a new file
    save_payload(target, payload)
    set_recorded(index_dir, PASSAGES_FILE, target.read_bytes())
    index = load_index(index_dir)
    hits = index.search("quokka Rottnest", k=1)
    assert (hits[0].page, hits[0].citation) == (None, f"report.pdf:{hits[0].line}")
    # a re-index reuses the unchanged files' passages from the old store (page 0 there) and still works
    write_files(root, {"more.txt": "The quokka again.\n"})
    build_index([root], index_dir, BuildSettings())
    assert {h.path for h in load_index(index_dir).search("quokka", k=5)} == {"report.pdf", "more.txt"}


def test_reused_passages_keep_their_page(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"report.pdf": make_pdf(PAGES)})
    index_dir = tmp_path / "idx"
    build_index([root], index_dir, BuildSettings())
    write_files(root, {"other.txt": "Nothing about marsupials.\n"})
    build_index([root], index_dir, BuildSettings())
    assert load_index(index_dir).search("quokka Rottnest", k=1)[0].citation == "report.pdf:p2"


def test_a_page_column_of_the_wrong_length_is_damage(tmp_path: Path) -> None:
    from ragcli.errors import IndexDamagedError

    root = write_files(tmp_path / "c", {"report.pdf": make_pdf(PAGES)})
    index_dir = tmp_path / "idx"
    build_index([root], index_dir, BuildSettings())
    target = payload_file(index_dir, PASSAGES_FILE)
    payload = copied(target)
    payload["page"] = np.zeros(1, dtype=np.int64)
    target.unlink()  # ragcli writes a payload only as a new file
    save_payload(target, payload)
    set_recorded(index_dir, PASSAGES_FILE, target.read_bytes())
    with pytest.raises(IndexDamagedError):
        load_index(index_dir).search("quokka")


def test_pypdf_is_imported_only_when_a_pdf_is_read(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"a.txt": "plain text\n", "b.md": "# B\n\nmarkdown\n"})
    probe = (
        "import sys\n"
        "from ragcli.cli import app\n"
        "try:\n"
        "    app(['index', sys.argv[1], '--index', sys.argv[2]])\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('LOADED=' + str(sorted(m for m in sys.modules if m.split('.')[0] in ('pypdf', 'docx', 'pptx'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(root), str(tmp_path / "idx")], capture_output=True, text=True, timeout=60
    )
    assert "LOADED=[]" in result.stderr, result.stderr[-500:]


def bomb_pdf(pages: int, inflated: int) -> bytes:
    """A PDF whose every page's content stream inflates to `inflated` bytes (a word, then spaces)."""
    stream = zlib.compress(b"BT /F1 12 Tf 72 720 Td (word) Tj ET\n" + b" " * inflated, 9)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode()]
    font = 3 + 2 * pages
    for i in range(pages):
        resources = f"/Resources << /Font << /F1 {font} 0 R >> >>"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R {resources} >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.write(b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets))
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def test_a_stream_that_inflates_past_the_limit_is_a_damaged_page(tmp_path: Path) -> None:
    # the same file under a higher limit reads: the limit, not the file, decides
    root = write_files(tmp_path / "c", {"bomb.pdf": bomb_pdf(3, 3 << 19)})  # 1.5 MiB: under PAGE_CONTENT_LIMIT
    assert (root / "bomb.pdf").stat().st_size < 64 << 10
    documents, skipped = read(root, max_bytes=1 << 20)
    assert documents == []
    assert skipped["bomb.pdf"] == "damaged PDF (none of its 3 pages could be read)"
    assert skipped["bomb.pdf:p2"].startswith("damaged page (LimitReachedError")
    documents, skipped = read(root, max_bytes=8 << 20)
    assert skipped == {} and [d.page for d in documents] == [1, 2, 3]


def test_mutated_pdfs_never_raise(tmp_path: Path) -> None:
    """Random bytes changed and files cut short: every file is read or skipped with a reason."""
    good = make_pdf(PAGES)
    rng = random.Random(13)
    files: dict[str, str | bytes] = {}
    for number in range(60):
        data = bytearray(good)
        for _ in range(rng.randint(1, 12)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        files[f"m{number:02}.pdf"] = bytes(data[: rng.randrange(len(data))] if number % 3 == 0 else data)
    root = write_files(tmp_path / "c", files)
    documents, skipped = read(root)
    files_read = {d.id for d in documents}
    assert files_read | {path for path in skipped if ":" not in path} == set(files)
    assert all(reason for reason in skipped.values())


def raw_pdf(contents: list[bytes], pages: list[int]) -> bytes:
    """A PDF written by hand: content streams `contents` (deflated), and one page per item of `pages`
    naming the content stream it shows (pages may share one, as hostile files do)."""
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    kids = " ".join(f"{4 + len(contents) + i} 0 R" for i in range(len(pages)))
    objects[2] = f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode()
    for i, content in enumerate(contents):
        packed = zlib.compress(content, 9)
        objects[4 + i] = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(packed), packed)
    for i, shown in enumerate(pages):
        objects[4 + len(contents) + i] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>"
            b" /Contents %d 0 R >>" % (4 + shown)
        )
    out, offsets = bytearray(b"%PDF-1.4\n"), {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref, size = len(out), max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets[number] for number in range(1, size))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def text_stream(words: bytes, times: int) -> bytes:
    return b"BT /F1 12 Tf 72 700 Td " + (b"(" + words + b" ) Tj ") * times + b"ET"  # `times` words


def test_pages_sharing_one_content_stream_cannot_pass_the_limit_together(tmp_path: Path) -> None:
    # one 5 KB stream shown by 10 pages gave 16 MB of text: each page is under the limit, their sum is not
    shared = raw_pdf([text_stream(b"zebrafish", 1000)], pages=[0] * 10)  # 10,000 characters a page
    root = write_files(tmp_path / "c", {"shared.pdf": shared, "ok.pdf": raw_pdf([text_stream(b"okapi", 10)], [0])})
    documents, skipped = read(root, max_bytes=64 << 10)
    assert skipped == {"shared.pdf": "larger than 64 KiB (raise --max-expanded-size to read it)"}
    assert [d.page for d in documents if d.path == "ok.pdf"] == [1]
    assert len(documents) < 8  # it stops at the page that passes the limit


def test_a_page_whose_content_stream_is_too_long_is_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # pypdf's extract_text is super-linear in a page's text operators (6.4 MB: past a minute); the
    # bound is 2 MiB, lowered here to keep the test fast
    monkeypatch.setattr("ragcli.readers.pdf.PAGE_CONTENT_LIMIT", 64 << 10)
    pdf = raw_pdf([text_stream(b"okapi", 10), text_stream(b"zebrafish", 10_000)], pages=[0, 1, 0])
    documents, skipped = read(write_files(tmp_path / "c", {"long.pdf": pdf}))
    assert skipped == {"long.pdf:p2": "content stream larger than 64 KiB (text extraction slows down past it)"}
    assert [d.page for d in documents] == [1, 3] and "zebrafish" not in documents[0].text


def test_a_pdf_of_many_pages_repeating_one_content_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a 121 KB file of 20,001 pages sharing one content stream took 121 s and made 20,002 passages; the
    # bound is 1,000 pages that repeat an earlier page's content, lowered here to keep the test fast
    monkeypatch.setattr("ragcli.readers.pdf.MAX_REPEATED_PAGES", 5)
    okapi, drawing = text_stream(b"okapi", 10), b"q 0 0 10 10 re f Q"
    files = {
        "bomb.pdf": raw_pdf([okapi], pages=[0] * 7),  # 6 repeats
        "at_bound.pdf": raw_pdf([okapi, text_stream(b"zebrafish", 10)], pages=[0, 1] + [0] * 5),  # 5 repeats
        "scan.pdf": raw_pdf([drawing], pages=[0] * 9),  # image-only pages repeat a content with no text
    }
    documents, skipped = read(write_files(tmp_path / "c", files))
    assert skipped == {
        "bomb.pdf": "too many pages (more than 5 repeat an earlier page's content)",
        "scan.pdf": NO_TEXT_LAYER,
    }
    assert [d.page for d in documents if d.path == "at_bound.pdf"] == list(range(1, 8))


def damaged_content(data: bytes, page: int) -> bytes:
    """The PDF with page `page`'s content stream damaged (bytes past its zlib header flipped): pypdf logs
    the decompression error rather than raising it, and gives the page back without text."""
    damaged = bytearray(data)
    start = 0
    for _ in range(page):  # fpdf2 writes the pages' content streams in order, after their page objects
        start = damaged.index(b"stream\n", damaged.index(b"/Contents", start)) + len(b"stream\n")
    for position in range(start + 2, start + 40):
        damaged[position] ^= 0x55
    return bytes(damaged)


def test_a_page_whose_content_stream_is_damaged_is_listed_and_the_others_are_read(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"r.pdf": damaged_content(make_pdf(PAGES), 2)})
    documents, skipped = read(root)
    assert [d.page for d in documents] == [1, 3]
    assert list(skipped) == ["r.pdf:p2"]
    assert skipped["r.pdf:p2"].startswith("damaged page (Error -3 while decompressing data"), skipped


def test_a_pdf_whose_every_page_is_damaged_is_skipped_as_damaged_not_scanned(tmp_path: Path) -> None:
    data = make_pdf(PAGES)
    for page in (1, 2, 3):
        data = damaged_content(data, page)
    root = write_files(tmp_path / "c", {"r.pdf": data})
    documents, skipped = read(root)
    assert documents == []
    assert skipped["r.pdf"] == "damaged PDF (none of its 3 pages could be read)"
    assert sorted(skipped) == ["r.pdf", "r.pdf:p1", "r.pdf:p2", "r.pdf:p3"]


def test_what_pypdf_logs_never_reaches_the_terminal(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"r.pdf": damaged_content(make_pdf(PAGES), 2)})
    result = subprocess.run(
        [sys.executable, "-m", "ragcli", "index", str(root), "--index", str(tmp_path / "idx"), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr


def lines_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose pages hold these lines exactly as typeset (one cell a line, no wrapping of our own)."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


HYPHENATED = [
    "The committee reviewed the infor-",
    "mation retrieval system and its perfor-",
    "mance under load. The well-",
    "known Anglo-",
    "Saxon wombat-",
    "Wombat pairs, the 2019-",
    "2020 figures, and the closing para-",
    "graph.",
]


def test_a_word_hyphenated_at_a_line_end_is_found_whole_and_cited_where_it_stands(tmp_path: Path) -> None:
    """A typeset PDF breaks words at line ends with a hyphen: "infor-" / "mation" was found by neither
    "information" nor anything but its halves. The indexed text adds the word joined; the passage keeps
    the page's text as printed, so its offsets, page and line stay the page's."""
    filler = [f"Filler line {n} about harbours." for n in range(12)]
    root = write_files(tmp_path / "c", {"report.pdf": lines_pdf([["Cover page."], filler + HYPHENATED])})
    documents, _ = read(root)
    page = documents[1]
    passages = split_document(page, ChunkSettings(size=20, overlap=5))
    holding = [p for p in passages if "infor-\nmation" in p.text]
    assert holding and all(page.text[p.start - page.offset : p.end - page.offset] == p.text for p in passages)
    assert holding[0].line == page.text[: holding[0].start - page.offset].count("\n") + 1
    index_text = " ".join(p.index_text for p in passages)
    assert {"information", "performance", "paragraph"} <= set(index_text.split())
    # a hyphen before a capital (a name: Anglo-Saxon, a repeat) or after a digit (2019-2020) joins nothing
    assert not {"AngloSaxon", "wombatWombat", "20192020"} & set(index_text.replace(",", " ").split())
    index = str(tmp_path / "idx")
    assert invoke("index", str(root), "--index", index).exit_code == 0
    for question, words in (("information", "infor-\nmation"), ("performance", "perfor-\nmance")):
        hits = load_index(index).search(question, k=1)
        assert hits and hits[0].citation == "report.pdf:p2" and words in hits[0].text
    # a compound broken at its own hyphen is still found by its parts, as it always was
    hits = load_index(index).search("well-known", k=1)
    assert hits and "well-\nknown" in hits[0].text
