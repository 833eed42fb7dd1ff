"""The DOCX reader, on Word files written here with python-docx."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
from clihelpers import invoke
from conftest import write_files

from ragcli.readers.walk import CorpusReader
from ragcli.records import Document


def make_docx(*, heading: str | None = "Quarterly Review", core_title: str | None = None) -> bytes:
    document = docx.Document()
    if core_title is not None:
        document.core_properties.title = core_title
    document.add_paragraph("Prepared by the finance team.")
    if heading is not None:
        document.add_heading(heading, level=1)
    document.add_paragraph("Sales grew in every region this quarter.")
    table = document.add_table(rows=3, cols=3)
    for row, values in zip(
        table.rows, [("Region", "Revenue", "Note"), ("Nordics", "42 kroner", ""), ("Iberia", "17 euros", "new")]
    ):
        for cell, value in zip(row.cells, values):
            cell.text = value
    merged = document.add_table(rows=1, cols=2)
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "Merged across both columns"
    document.add_paragraph("Closing remarks after the table.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def read(root: Path, **options: int) -> tuple[list[Document], dict[str, str]]:
    reader = CorpusReader([root], **options)  # type: ignore[arg-type]
    documents = list(reader.documents())
    return documents, {s.path: s.reason for s in reader.report.skipped}


def test_paragraphs_headings_and_tables_in_document_order(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"review.docx": make_docx()})
    (document,), skipped = read(root)
    assert skipped == {}
    assert document.title == "Quarterly Review" and document.title_in_text
    assert document.text.splitlines() == [
        "Prepared by the finance team.",
        "Quarterly Review",
        "Sales grew in every region this quarter.",
        "Region\tRevenue\tNote",
        "Nordics\t42 kroner\t",
        "Iberia\t17 euros\tnew",
        "Merged across both columns",  # a merged cell once
        "Closing remarks after the table.",
    ]


def test_headings_are_handed_to_the_chunker_with_their_level(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Annual Report", level=0)  # the "Title" style
    document.add_paragraph("Foreword.")
    document.add_heading("Sales", level=1)
    document.add_paragraph("Sales grew.")
    document.add_heading("Nordics", level=2)
    document.add_paragraph("Kroner.")
    out = io.BytesIO()
    document.save(out)
    root = write_files(tmp_path / "c", {"report.docx": out.getvalue()})
    (read_document,), _ = read(root)
    assert read_document.headings is not None
    assert [(level, text) for _, level, text in read_document.headings] == [
        (0, "Annual Report"),
        (1, "Sales"),
        (2, "Nordics"),
    ]
    for offset, _, text in read_document.headings:
        assert read_document.text[offset:].startswith(text)
    (plain,), _ = read(write_files(tmp_path / "d", {"review.docx": make_docx()}))
    assert plain.headings == ((plain.text.index("Quarterly Review"), 1, "Quarterly Review"),)


def test_the_core_title_wins_then_the_first_heading_then_the_name(tmp_path: Path) -> None:
    root = write_files(
        tmp_path / "c",
        {"a.docx": make_docx(core_title="Board Pack Q3"), "b.docx": make_docx(heading=None)},
    )
    documents, _ = read(root)
    assert [(d.id, d.title, d.title_in_text) for d in documents] == [
        ("a.docx", "Board Pack Q3", False),
        ("b.docx", "b", False),
    ]


def test_table_text_is_found_through_the_cli(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"review.docx": make_docx(), "other.txt": "Unrelated notes.\n"})
    index = str(tmp_path / "idx")
    assert invoke("index", str(root), "--index", index).exit_code == 0
    result = invoke("query", "Nordics kroner", "--index", index, "--no-generate", "--json")
    assert result.exit_code == 0, result.output
    hit = json.loads(result.stdout)["hits"][0]
    assert (hit["path"], hit["title"], hit["page"]) == ("review.docx", "Quarterly Review", None)
    assert "Nordics\t42 kroner" in hit["text"]


def zipped(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_damaged_docx_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    good = make_docx()
    root = write_files(
        tmp_path / "c",
        {
            "garbage.docx": b"this is not a zip file at all" * 10,
            "truncated.docx": good[: len(good) // 2],
            "not-word.docx": zipped({"hello.txt": b"a zip, but no Word document in it"}),
            "bad-xml.docx": zipped(
                {
                    name: (b"<w:document><unclosed>" if name == "word/document.xml" else data)
                    for name, data in (
                        (n, zipfile.ZipFile(io.BytesIO(good)).read(n))
                        for n in zipfile.ZipFile(io.BytesIO(good)).namelist()
                    )
                }
            ),
            "ok.txt": "a text file beside them\n",
        },
    )
    documents, skipped = read(root)
    assert [d.id for d in documents] == ["ok.txt"]
    assert set(skipped) == {"garbage.docx", "truncated.docx", "not-word.docx", "bad-xml.docx"}
    assert all(reason.startswith("damaged DOCX (") for reason in skipped.values()), skipped
    result = invoke("index", str(root), "--index", str(tmp_path / "idx"))
    assert result.exit_code == 0 and "Traceback" not in result.output


def test_a_zip_bomb_is_skipped_before_it_is_unpacked(tmp_path: Path) -> None:
    good = zipfile.ZipFile(io.BytesIO(make_docx()))
    parts = {name: good.read(name) for name in good.namelist()}
    parts["word/media/padding.bin"] = b"\x00" * (4 << 20)  # compresses to a few KiB
    root = write_files(tmp_path / "c", {"bomb.docx": zipped(parts)})
    assert (root / "bomb.docx").stat().st_size < 1 << 20
    _, skipped = read(root, max_bytes=2 << 20)
    assert skipped["bomb.docx"].startswith("larger than 2 MiB")


def with_parts(document_xml: Callable[[str], str] = str, styles_xml: Callable[[str], str] = str) -> bytes:
    """make_docx's file with its document.xml and styles.xml rewritten."""
    good = zipfile.ZipFile(io.BytesIO(make_docx()))
    parts = {name: good.read(name) for name in good.namelist()}
    parts["word/document.xml"] = document_xml(parts["word/document.xml"].decode()).encode()
    parts["word/styles.xml"] = styles_xml(parts["word/styles.xml"].decode()).encode()
    return zipped(parts)


def test_reading_time_does_not_grow_with_paragraphs_times_styles(tmp_path: Path) -> None:
    # python-docx's `paragraph.style` scans every style for each paragraph: 2,000 paragraphs and 20,000
    # styles took over a minute. The reader resolves each style id once; more styles cost (almost) nothing.
    paragraphs = "<w:p><w:r><w:t>z</w:t></w:r></w:p>" * 500
    styles = "".join(
        f'<w:style w:type="paragraph" w:styleId="S{k}"><w:name w:val="S{k}"/></w:style>' for k in range(1500)
    )

    def more_paragraphs(xml: str) -> str:
        return xml.replace("<w:body>", "<w:body>" + paragraphs)

    root = write_files(
        tmp_path / "c",
        {
            "plain.docx": with_parts(more_paragraphs),
            "styled.docx": with_parts(more_paragraphs, lambda xml: xml.replace("</w:styles>", styles + "</w:styles>")),
        },
    )
    seconds = {}
    for name in ("plain.docx", "styled.docx"):
        started = time.perf_counter()
        (document,), _ = read(root / name)
        seconds[name] = time.perf_counter() - started
        assert document.text.count("z\n") == 500 and document.title == "Quarterly Review"
    assert seconds["styled.docx"] < 3 * seconds["plain.docx"] + 0.3, seconds  # was 7x


def test_xml_past_its_share_of_the_limit_is_skipped_before_it_is_parsed(tmp_path: Path) -> None:
    # lxml's tree takes ~17x the XML's size: a 0.75 MB file of 250 MB document.xml peaked at 4.4 GB
    paragraphs = "<w:p><w:r><w:t>z</w:t></w:r></w:p>" * 10_000  # 340 KB, compresses to a few KiB
    root = write_files(
        tmp_path / "c", {"long.docx": with_parts(lambda xml: xml.replace("<w:body>", "<w:body>" + paragraphs))}
    )
    _, skipped = read(root, max_bytes=16 << 20)  # the XML (800 KB of styles, then these) may expand to 1 MiB
    reason = skipped["long.docx"]
    assert reason.startswith("XML parts expand to 1.1"), reason
    assert reason.endswith(
        "MiB, more than the XML limit of 1 MiB (1/16 of --max-expanded-size; raise it to read the file)"
    )
    (document,), skipped = read(root, max_bytes=32 << 20)
    assert skipped == {} and document.text.count("z\n") == 10_000


def test_an_xml_part_under_a_picture_name_counts_as_xml(tmp_path: Path) -> None:
    # python-docx picks a part's parser by its content type, not its name: the bound looks at the bytes
    good = zipfile.ZipFile(io.BytesIO(make_docx()))
    parts = {name: good.read(name) for name in good.namelist()}
    parts["word/media/image2.png"] = b"\x89PNG" + b"\x00" * 400_000  # a picture: bounded by the total only
    (document,), skipped = read(write_files(tmp_path / "c", {"a.docx": zipped(parts)}), max_bytes=16 << 20)
    assert skipped == {} and document.title == "Quarterly Review"
    parts["word/media/image1.png"] = b"<x>" + b"<y/>" * 100_000 + b"</x>"
    _, skipped = read(write_files(tmp_path / "d", {"a.docx": zipped(parts)}), max_bytes=16 << 20)
    assert skipped["a.docx"].startswith("XML parts expand to"), skipped
