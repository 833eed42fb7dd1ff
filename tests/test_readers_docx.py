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


def with_body(*elements: str) -> bytes:
    """A blank Word file whose body holds these WordprocessingML elements, written into its XML as text
    (parsing them into python-docx's tree and saving it took a minute for a row of 20,000 cells)."""
    blank = io.BytesIO()
    docx.Document().save(blank)
    return with_parts(lambda xml: xml.replace("<w:body>", "<w:body>" + "".join(elements)), base=blank.getvalue())


def run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def test_the_text_word_shows_is_read_with_tracked_changes_accepted(tmp_path: Path) -> None:
    # python-docx's Paragraph.text reads a paragraph's direct runs and links, and cell.text a cell's
    # direct paragraphs: the text in each of these was left out
    control = "<w:sdtPr/><w:sdtContent>{}</w:sdtContent>"
    table = (
        "<w:tbl><w:tr><w:tc><w:p>{}</w:p></w:tc><w:sdt><w:sdtPr/><w:sdtContent><w:tc><w:p>{}</w:p></w:tc>"
        "</w:sdtContent></w:sdt></w:tr><w:sdt>{}</w:sdt></w:tbl>"
    ).format(
        run("Item"),
        run("CELLCONTROLWORD"),
        control.format(f"<w:tr><w:tc><w:p>{run('REPEATEDROWWORD')}</w:p></w:tc><w:tc><w:p/></w:tc></w:tr>"),
    )
    root = write_files(
        tmp_path / "c",
        {
            "tricky.docx": with_body(
                f'<w:p>{run("Tracked: ")}<w:ins w:id="1" w:author="A">{run("INSERTEDWORD")}</w:ins>'
                f'<w:del w:id="2" w:author="A">{run("DELETEDWORD")}</w:del></w:p>',
                f'<w:p>{run("Moved: ")}<w:moveFrom w:id="3" w:author="A">{run("MOVEDAWAYWORD")}</w:moveFrom>'
                f'<w:moveTo w:id="4" w:author="A">{run("MOVEDHEREWORD")}</w:moveTo></w:p>',
                "<w:sdt>{}</w:sdt>".format(control.format(f"<w:p>{run('SDTBLOCKWORD in a control.')}</w:p>")),
                "<w:sdt>{}</w:sdt>".format(
                    control.format(f'<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr>{run("Controlled Heading")}</w:p>')
                ),
                f"<w:p>{run('Name: ')}<w:sdt>{control.format(run('SDTINLINEWORD'))}</w:sdt></w:p>",
                f'<w:p>{run("Author: ")}<w:fldSimple w:instr=" AUTHOR ">{run("FIELDWORD")}</w:fldSimple></w:p>',
                f'<w:p>{run("Page ")}<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
                '<w:r><w:instrText xml:space="preserve"> PAGE \\* MERGEFORMAT </w:instrText></w:r>'
                f'<w:r><w:fldChar w:fldCharType="separate"/></w:r>{run("7")}'
                '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
                f'<w:p><w:smartTag w:uri="x" w:element="place">{run("SMARTTAGWORD")}</w:smartTag>{run(" city.")}</w:p>',
                f'<w:p><w:customXml w:element="x">{run("CUSTOMXMLWORD")}</w:customXml></w:p>',
                f'<w:p><w:hyperlink w:anchor="x"><w:ins w:id="5" w:author="A">{run("LINKWORD")}</w:ins>'
                "</w:hyperlink></w:p>",
                table,
            )
        },
    )
    document = docx.Document(io.BytesIO((root / "tricky.docx").read_bytes()))
    outer = document.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "outer cell"
    nested = outer.cell(0, 1).add_table(rows=2, cols=2)
    for cell, text in zip(
        [cell for row in nested.rows for cell in row.cells], ["NESTEDWORD", "second", "", "last row"]
    ):
        cell.text = text
    nested.cell(0, 0).add_table(rows=1, cols=1).cell(0, 0).text = "DEEPERWORD"
    document.add_paragraph("After the tables.")
    document.save(root / "tricky.docx")
    (read_document,), skipped = read(root)
    assert skipped == {}
    assert read_document.text.splitlines() == [
        "Tracked: INSERTEDWORD",
        "Moved: MOVEDHEREWORD",
        "SDTBLOCKWORD in a control.",
        "Controlled Heading",
        "Name: SDTINLINEWORD",
        "Author: FIELDWORD",
        "Page 7",  # a field's result, never its code
        "SMARTTAGWORD city.",
        "CUSTOMXMLWORD",
        "LINKWORD",
        "Item\tCELLCONTROLWORD",
        "REPEATEDROWWORD\t",
        "outer cell\t",  # a table in a cell: its rows follow the row that holds it
        "NESTEDWORD\tsecond",
        "DEEPERWORD",
        "\tlast row",
        "After the tables.",
    ]
    assert read_document.title == "Controlled Heading"
    assert read_document.headings == ((read_document.text.index("Controlled Heading"), 1, "Controlled Heading"),)


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


def with_parts(
    document_xml: Callable[[str], str] = str, styles_xml: Callable[[str], str] = str, base: bytes | None = None
) -> bytes:
    """`base` (make_docx's file when None) with its document.xml and styles.xml rewritten."""
    good = zipfile.ZipFile(io.BytesIO(base or make_docx()))
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


def test_merged_table_cells_are_read_in_linear_time(tmp_path: Path) -> None:
    # python-docx's row.cells gives a cell once per column it spans and finds a merged-down cell by
    # walking up its column, one XPath per row: a cell spanning 100,000,000 columns took 44 s, 2,000 rows
    # merged down 116 s (then a RecursionError), a row of 20,000 cells merged down past two minutes.
    # A merged cell's text is given once, in its first row.
    def merged_down(text: str) -> str:
        return f'<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p>{run(text)}</w:p></w:tc>'

    below = "<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>"
    tables = {
        "column.docx": f"<w:tbl><w:tr>{merged_down('top')}</w:tr>{f'<w:tr>{below}</w:tr>' * 1000}</w:tbl>",
        "row.docx": f"<w:tbl><w:tr>{merged_down('c') * 5000}</w:tr><w:tr>{below * 5000}</w:tr></w:tbl>",
        "span.docx": f'<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="100000000"/></w:tcPr><w:p>{run("wide")}</w:p>'
        "</w:tc></w:tr></w:tbl>",
        "plain.docx": f"<w:p>{run('p')}</w:p>" * 11_000,  # as many paragraphs as the others hold cells
    }
    root = write_files(tmp_path / "c", {name: with_body(xml) for name, xml in tables.items()})
    seconds = {}
    texts = {}
    for name in tables:
        started = time.perf_counter()
        (document,), _ = read(root / name)
        seconds[name] = time.perf_counter() - started
        texts[name] = document.text
    assert (texts["column.docx"], texts["span.docx"]) == ("top", "wide")
    assert texts["row.docx"] == "\t".join(["c"] * 5000)
    merged = seconds["column.docx"] + seconds["row.docx"] + seconds["span.docx"]
    assert merged < 3 * seconds["plain.docx"] + 0.3, seconds


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
