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


def top_hit_through_the_cli(tmp_path: Path, name: str, data: bytes, question: str) -> dict[str, object]:
    """The first hit `ragcli query --json` gives for `question` over `name` beside an unrelated file."""
    root = write_files(tmp_path / "c", {name: data, "other.txt": "Unrelated notes.\n"})
    index = str(tmp_path / "idx")
    assert invoke("index", str(root), "--index", index).exit_code == 0
    result = invoke("query", question, "--index", index, "--no-generate", "--json")
    assert result.exit_code == 0, result.output
    hit: dict[str, object] = json.loads(result.stdout)["hits"][0]
    return hit


def test_table_text_is_found_through_the_cli(tmp_path: Path) -> None:
    hit = top_hit_through_the_cli(tmp_path, "review.docx", make_docx(), "Nordics kroner")
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


W_NAMESPACES = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
PART_KINDS = {  # part name prefix → (root element, relationship type and content type suffix)
    "footnotes": ("footnotes", "footnotes"),
    "endnotes": ("endnotes", "endnotes"),
    "comments": ("comments", "comments"),
    "header": ("hdr", "header"),
    "footer": ("ftr", "footer"),
}


def note(kind: str, note_id: int, *paragraphs: str) -> str:
    """A footnote or endnote as Word writes it: its mark (w:footnoteRef) first, then the text."""
    mark = f'<w:r><w:rPr><w:rStyle w:val="{kind.capitalize()}Reference"/></w:rPr><w:{kind}Ref/></w:r>'
    body = "".join(
        f'<w:p><w:pPr><w:pStyle w:val="{kind.capitalize()}Text"/></w:pPr>{mark if k == 0 else ""}{run(" " + text)}</w:p>'
        for k, text in enumerate(paragraphs)
    )
    return f'<w:{kind} w:id="{note_id}">{body}</w:{kind}>'


def notes_part(kind: str, *notes: str) -> str:
    """word/footnotes.xml or word/endnotes.xml, with the separators Word writes before the notes."""
    separators = "".join(
        f'<w:{kind} w:type="{name}" w:id="{number}"><w:p><w:r><w:{name}/></w:r></w:p></w:{kind}>'
        for number, name in ((-1, "separator"), (0, "continuationSeparator"))
    )
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:{kind}s {W_NAMESPACES}>{separators}{"".join(notes)}</w:{kind}s>'


def reference(kind: str, note_id: int) -> str:
    return f'<w:r><w:rPr><w:rStyle w:val="{kind.capitalize()}Reference"/></w:rPr><w:{kind}Reference w:id="{note_id}"/></w:r>'


def word_file(body: list[str], parts: dict[str, str | bytes], sections: list[str] | None = None) -> bytes:
    """A Word file whose body holds `body`, with `parts` ("footnotes.xml", "header1.xml": their XML) in
    word/, each with its relationship (rId100…) and content type as Word writes them. `sections`: the
    section properties' header and footer references, by part name ("header1.xml", or
    "first:header2.xml"), one string of comma-separated names per section (the last is the body's)."""
    blank = io.BytesIO()
    docx.Document().save(blank)
    archive = zipfile.ZipFile(blank)
    files = {name: archive.read(name) for name in archive.namelist()}
    ids = {name: f"rId{100 + k}" for k, name in enumerate(parts)}
    types = rels = ""
    for name, rid in ids.items():
        kind = PART_KINDS[name.split(".")[0].rstrip("0123456789")][1]
        types += (
            f'<Override PartName="/word/{name}" '
            f'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.{kind}+xml"/>'
        )
        rels += (
            f'<Relationship Id="{rid}" '
            f'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}" Target="{name}"/>'
        )
        data = parts[name]
        files[f"word/{name}"] = data.encode() if isinstance(data, str) else data
    files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(b"</Types>", types.encode() + b"</Types>")
    rels_name = "word/_rels/document.xml.rels"
    files[rels_name] = files[rels_name].replace(b"</Relationships>", rels.encode() + b"</Relationships>")

    def references(section: str) -> str:
        found = ""
        for entry in filter(None, section.split(",")):
            kind, _, name = entry.rpartition(":")
            element = "headerReference" if name.startswith("header") else "footerReference"
            found += f'<w:{element} w:type="{kind or "default"}" r:id="{ids[name]}"/>'
        return found

    *breaks, last = sections or [""]
    paragraphs = "".join(
        f"<w:p><w:pPr><w:sectPr>{references(section)}<w:type w:val='nextPage'/></w:sectPr></w:pPr></w:p>"
        for section in breaks
    )
    xml = files["word/document.xml"].decode()
    xml = xml.replace("<w:body>", "<w:body>" + "".join(body) + paragraphs)
    head, _, tail = xml.rpartition("<w:sectPr ")
    opening, _, rest = tail.partition(">")
    files["word/document.xml"] = (head + "<w:sectPr " + opening + ">" + references(last) + rest).encode()
    return zipped(files)


def story_part(kind: str, *paragraphs: str) -> str:
    """A header or footer part (word/header1.xml, word/footer1.xml) holding these paragraphs' runs."""
    root = PART_KINDS[kind][0]
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:{root} {W_NAMESPACES}>{"".join(f"<w:p>{p}</w:p>" for p in paragraphs)}</w:{root}>'


def policy_file(**replaced: str | bytes) -> bytes:
    """A travel policy whose footnotes, endnotes, comments, headers and footers each hold words of their own."""
    heading = '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr>' + run("Travel Policy") + "</w:p>"
    comment_range = (
        '<w:p><w:commentRangeStart w:id="0"/>'
        + run("Trains are booked in second class.")
        + '<w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r>'
        + reference("footnote", 1)
        + "</w:p>"
    )
    body = [
        heading,
        comment_range,
        f"<w:p>{run('Hotels cost at most 150 euros a night.')}{reference('footnote', 2)}"
        f"{run(' Meals are refunded.')}{reference('endnote', 1)}</w:p>",
        "<w:tbl><w:tr><w:tc><w:p>{}</w:p></w:tc><w:tc><w:p>{}{}</w:p></w:tc></w:tr></w:tbl>".format(
            run("Oslo"), run("220 euros"), reference("footnote", 3)
        ),
        f"<w:p>{run('Taxis need a receipt.')}{reference('footnote', 2)}</w:p>",  # a second reference: given once
        f"<w:p>{run('Removed: ')}<w:del w:id='9' w:author='A'>{reference('footnote', 4)}</w:del></w:p>",
    ]
    parts: dict[str, str | bytes] = {
        "footnotes.xml": notes_part(
            "footnote",
            note("footnote", 1, "First class when the journey takes longer than four hours."),
            note("footnote", 2, "KAYAKWORD bookings are refunded.", "Second paragraph of the note."),
            note("footnote", 3, "Oslo's rate covers the winter season."),
            note("footnote", 4, "ORPHANWORD: its reference was deleted."),
        ),
        "endnotes.xml": notes_part("endnote", note("endnote", 1, "ENDNOTEWORD: the receipts go to finance.")),
        "comments.xml": f'<w:comments {W_NAMESPACES}><w:comment w:id="0" w:author="Reviewer" w:initials="R">'
        f"<w:p>{run('REVIEWERWORD is this still true?')}</w:p></w:comment></w:comments>",
        "header1.xml": story_part("header", run("Acme Corp — HEADERWORD policy POL-0042")),
        "header2.xml": story_part("header", run("Acme Corp — HEADERWORD policy POL-0042")),  # the first page's
        "footer1.xml": story_part(
            "footer",
            '<w:fldSimple w:instr=" PAGE ">' + run("3") + "</w:fldSimple>",
        ),  # a page number only: no words
        "footer2.xml": story_part("footer", run("Effective 1 March 2024, FOOTERWORD")),
    }
    parts.update(replaced)
    sections = ["header1.xml,first:header2.xml,footer1.xml", "header1.xml,footer2.xml,even:footer1.xml"]
    return word_file(body, parts, sections)


def test_notes_follow_the_paragraph_that_refers_to_them_and_headers_come_once_after_the_body(tmp_path: Path) -> None:
    # footnotes and endnotes are the author's text: each is read once, after the paragraph (or table row)
    # holding its first reference, as pandoc's --reference-location=block places them; headers and
    # footers once each, after the body; reviewers' comments are not the document's text
    (document,), skipped = read(write_files(tmp_path / "c", {"policy.docx": policy_file()}))
    assert skipped == {}
    assert document.text.splitlines() == [
        "Travel Policy",
        "Trains are booked in second class.",
        "Footnote: First class when the journey takes longer than four hours.",
        "Hotels cost at most 150 euros a night. Meals are refunded.",
        "Footnote: KAYAKWORD bookings are refunded.",
        "Second paragraph of the note.",
        "Endnote: ENDNOTEWORD: the receipts go to finance.",
        "Oslo\t220 euros",
        "Footnote: Oslo's rate covers the winter season.",
        "Taxis need a receipt.",
        "Removed:",
        "Header: Acme Corp — HEADERWORD policy POL-0042",
        "Footer: Effective 1 March 2024, FOOTERWORD",
    ]
    assert document.title == "Travel Policy"
    assert document.headings == ((0, 1, "Travel Policy"),)


def test_a_question_answered_by_a_footnote_finds_it(tmp_path: Path) -> None:
    hit = top_hit_through_the_cli(tmp_path, "policy.docx", policy_file(), "journey longer than four hours")
    assert hit["path"] == "policy.docx"
    assert "Trains are booked in second class.\nFootnote: First class when the journey" in hit["text"]


def without(name: str, data: bytes) -> bytes:
    """The Word file without one of its parts, its relationship and content type left as they were."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    return zipped({part: archive.read(part) for part in archive.namelist() if part != name})


def test_a_missing_or_damaged_part_beside_the_body_leaves_the_body_read(tmp_path: Path) -> None:
    # python-docx parses headers, footers and comments when it opens the file, and refused the whole of
    # it for a damaged one, or for any part a relationship names that the zip lacks
    files = {
        "no-parts.docx": word_file([f"<w:p>{run('Body text.')}{reference('footnote', 1)}</w:p>"], {}),
        "broken.docx": policy_file(**{"footnotes.xml": b"<w:footnotes><unclosed>"}),
        "not-xml.docx": policy_file(**{"endnotes.xml": b"\x89PNG\r\n\x1a\n" + bytes(64)}),
        "wrong-root.docx": policy_file(**{"footnotes.xml": f"<w:document {W_NAMESPACES}/>"}),
        "broken-header.docx": policy_file(**{"header1.xml": b"<w:hdr><unclosed>"}),
        "broken-comments.docx": policy_file(**{"comments.xml": b"<w:comments><unclosed>"}),
        "missing-notes.docx": without("word/footnotes.xml", policy_file()),
        "missing-footer.docx": without("word/footer2.xml", without("word/comments.xml", policy_file())),
    }
    reader = CorpusReader([write_files(tmp_path / "c", files)])
    documents = {document.id: document.text.splitlines() for document in reader.documents()}
    assert reader.report.skipped == []
    assert documents["no-parts.docx"] == ["Body text."]  # a reference to no note: nothing, silently
    whole = policy_file()
    (expected,), _ = read(write_files(tmp_path / "whole", {"policy.docx": whole}))
    lines = expected.text.splitlines()

    def lines_without(*words: str) -> list[str]:
        left_out = [line for line in lines if any(word in line for word in words)]
        kept = [line for line in lines if line not in left_out]
        if "KAYAKWORD" in words:
            kept.remove("Second paragraph of the note.")
        return kept

    footnotes = ("First class", "KAYAKWORD", "Oslo's rate")
    assert documents["broken.docx"] == lines_without(*footnotes)
    assert documents["not-xml.docx"] == lines_without("ENDNOTEWORD")
    assert documents["wrong-root.docx"] == lines_without(*footnotes)
    assert documents["missing-notes.docx"] == lines_without(*footnotes)
    assert documents["broken-header.docx"] == lines  # the first page's header says the same
    assert documents["broken-comments.docx"] == lines  # comments are not read: nothing is lost
    assert documents["missing-footer.docx"] == lines_without("FOOTERWORD")
    syntax = "XMLSyntaxError: "
    assert ["".join(warning.partition(syntax)[:2]) for warning in reader.report.warnings] == [
        f"broken-header.docx: a header is not indexed (word/header1.xml is damaged: {syntax}",
        f"broken.docx: the footnotes are not indexed (word/footnotes.xml is damaged: {syntax}",
        "missing-footer.docx: a footer is not indexed (word/footer2.xml is missing)",
        "missing-notes.docx: the footnotes are not indexed (word/footnotes.xml is missing)",
        f"not-xml.docx: the endnotes are not indexed (word/endnotes.xml is damaged: {syntax}",
        "wrong-root.docx: the footnotes are not indexed (word/footnotes.xml is damaged: its root is w:document,"
        " not w:footnotes)",
    ]


def test_notes_count_towards_the_xml_limit(tmp_path: Path) -> None:
    long_note = note("footnote", 1, *["z"] * 20_000)  # about 1.6 MB of XML, compresses to a few KiB
    data = word_file(
        [f"<w:p>{run('Body.')}{reference('footnote', 1)}</w:p>"], {"footnotes.xml": notes_part("footnote", long_note)}
    )
    _, skipped = read(write_files(tmp_path / "c", {"long.docx": data}), max_bytes=16 << 20)
    assert skipped["long.docx"].startswith("XML parts expand to"), skipped
    (document,), skipped = read(write_files(tmp_path / "d", {"long.docx": data}), max_bytes=64 << 20)
    assert skipped == {} and document.text.count("\nz") == 19_999


def test_a_note_referenced_many_times_is_given_once(tmp_path: Path) -> None:
    # a hostile file could refer to one long note from every paragraph: its text would be repeated each time
    note_text = "LONGNOTE " * 2_000
    data = word_file(
        [f"<w:p>{run('p')}{reference('footnote', 1)}</w:p>"] * 2_000,
        {"footnotes.xml": notes_part("footnote", note("footnote", 1, note_text))},
    )
    (document,), _ = read(write_files(tmp_path / "c", {"many.docx": data}))
    assert document.text.count("LONGNOTE") == 2_000 and document.text.splitlines().count("p") == 2_000


def text_box(*paragraphs: str, fallback: bool = True) -> str:
    """A run holding a text box as Word writes one: DrawingML in mc:Choice, and the same text again as
    VML in mc:Fallback for older readers."""
    content = "<w:txbxContent>" + "".join(f"<w:p>{p}</w:p>" for p in paragraphs) + "</w:txbxContent>"
    choice = (
        '<mc:Choice Requires="wps"><w:drawing><wp:anchor><wps:wsp><wps:txbx>'
        + content
        + "</wps:txbx></wps:wsp></wp:anchor></w:drawing></mc:Choice>"
    )
    old = f"<mc:Fallback><w:pict><v:shape><v:textbox>{content}</v:textbox></v:shape></w:pict></mc:Fallback>"
    return f"<w:r><mc:AlternateContent>{choice}{old if fallback else ''}</mc:AlternateContent></w:r>"


def test_text_boxes_are_read_once_after_the_paragraph_that_anchors_them(tmp_path: Path) -> None:
    # call-outs, sidebars and a letterhead's address live in text boxes, which python-docx does not read;
    # Word writes each twice (DrawingML and a VML fallback): read once, and one inside another too
    inner = text_box(run("Inner box: BOXINBOXWORD."), fallback=False)
    body = with_body(
        "<w:p>"
        + run("The anchoring paragraph.")
        + text_box(run("Call-out: SIDEBARWORD saves time."), inner)
        + "</w:p>",
        "<w:p>" + run("The next paragraph.") + "</w:p>",
    )
    (document,), skipped = read(write_files(tmp_path / "c", {"boxes.docx": body}))
    assert skipped == {}
    assert document.text.splitlines() == [
        "The anchoring paragraph.",
        "Call-out: SIDEBARWORD saves time.",
        "Inner box: BOXINBOXWORD.",
        "The next paragraph.",
    ]


def compound_file(streams: dict[str, bytes]) -> bytes:
    """An OLE compound file (MS-CFB, version 3, 512-byte sectors) holding these streams, as Word writes
    a .docx saved with a password (EncryptionInfo, EncryptedPackage) or an old binary .doc
    (WordDocument…). Each stream is padded to 4,096 bytes so that it lives in ordinary sectors."""
    import struct

    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    padded = {name: data.ljust(4096, b"\x00") for name, data in streams.items()}
    chains: list[int] = [fat_sector, end]  # sector 0: the FAT, sector 1: the directory
    starts = []
    for data in padded.values():
        count = -(-len(data) // 512)
        starts.append(len(chains))
        chains += [len(chains) + k + 1 for k in range(count - 1)] + [end]
    fat = b"".join(struct.pack("<I", entry) for entry in chains).ljust(512, b"\xff")

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBBIII", len(encoded), kind, 1, free, right, child)
            + bytes(16 + 4 + 16)
            + struct.pack("<IQ", start, size)
        )

    names = list(padded)  # siblings chained to the right (a valid, if unbalanced, tree)
    directory = entry("Root Entry", 5, 1 if names else free, free, end, 0)
    for k, name in enumerate(names):
        right = k + 2 if k + 1 < len(names) else free
        directory += entry(name, 2, free, right, starts[k], len(padded[name]))
    directory = directory.ljust(512, b"\x00")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<I", 0)
        + b"\xff" * (4 * 108)
    )
    return header + fat + directory + b"".join(padded.values())


def test_a_password_protected_or_old_format_word_file_is_skipped_with_what_to_do(tmp_path: Path) -> None:
    """Word saves a .docx with a password as an OLE compound file holding the encrypted zip: it was
    "damaged DOCX (BadZipFile…)", which sends the user looking for damage that is not there."""
    root = write_files(
        tmp_path / "c",
        {
            "locked.docx": compound_file({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"zip"}),
            "renamed.docx": compound_file({"WordDocument": b"\xec\xa5", "1Table": b"", "CompObj": b""}),
            "other.docx": compound_file({"Workbook": b""}),
        },
    )
    documents, skipped = read(root)
    assert documents == []
    assert skipped == {
        "locked.docx": "encrypted Word file (needs a password: save it without one)",
        "renamed.docx": "old-format Word file (a .doc: save it as .docx)",
        "other.docx": "encrypted or old-format Word file (save it as .docx without a password)",
    }


def retyped(data: bytes, content_type: str, macros: bytes | None = None) -> bytes:
    """A Word file saved as another kind of Word file: its main part's content type changed, and with
    `macros` a macro project (word/vbaProject.bin, its content type and relationship), as Word writes
    a macro-enabled document or a template."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    parts = {name: archive.read(name) for name in archive.namelist()}
    main = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    types = parts["[Content_Types].xml"]
    assert main in types
    types = types.replace(main, content_type.encode())
    if macros is not None:
        parts["word/vbaProject.bin"] = macros
        vba = '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        types = types.replace(b"</Types>", vba.encode() + b"</Types>")
        rels = "word/_rels/document.xml.rels"
        relationship = (
            '<Relationship Id="rId900" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject"'
            ' Target="vbaProject.bin"/>'
        )
        parts[rels] = parts[rels].replace(b"</Relationships>", relationship.encode() + b"</Relationships>")
    parts["[Content_Types].xml"] = types
    return zipped(parts)


def test_macro_enabled_documents_and_templates_are_read_as_word_files(tmp_path: Path) -> None:
    """.docm, .dotx and .dotm are the .docx format under another main content type: they were skipped
    as "binary content". Their macros are a binary part that is never run, nor read."""
    macro = compound_file({"VBA": b"Sub AutoOpen() MACROWORD End Sub"})
    root = write_files(
        tmp_path / "c",
        {
            "review.docm": retyped(make_docx(), "application/vnd.ms-word.document.macroEnabled.main+xml", macro),
            "letter.dotx": retyped(
                make_docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
            ),
            "memo.dotm": retyped(make_docx(), "application/vnd.ms-word.template.macroEnabledTemplate.main+xml", macro),
        },
    )
    documents, skipped = read(root)
    assert skipped == {}
    assert sorted(d.id for d in documents) == ["letter.dotx", "memo.dotm", "review.docm"]
    assert all(d.title == "Quarterly Review" and "Nordics\t42 kroner\t" in d.text for d in documents)
    assert all("MACROWORD" not in d.text for d in documents)


AFCHUNK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/aFChunk"


def with_chunks(body: list[str], chunks: dict[str, tuple[str, bytes]]) -> bytes:
    """A Word file whose body holds `body` and whose main part relates each of `chunks` (rId id → its
    part name in word/, content type and bytes) as an imported chunk (aFChunk), which a
    `<w:altChunk r:id="…"/>` in the body places: Word converts it into the document when it opens it."""
    blank = io.BytesIO()
    docx.Document().save(blank)
    archive = zipfile.ZipFile(blank)
    files = {name: archive.read(name) for name in archive.namelist()}
    types = rels = ""
    for rid, (name, content_type, data) in chunks.items():
        if f"word/{name}" not in files:  # a part two relationships name is written once
            types += f'<Override PartName="/word/{name}" ContentType="{content_type}"/>'
            files[f"word/{name}"] = data
        rels += f'<Relationship Id="{rid}" Type="{AFCHUNK}" Target="{name}"/>'
    files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(b"</Types>", types.encode() + b"</Types>")
    rels_name = "word/_rels/document.xml.rels"
    files[rels_name] = files[rels_name].replace(b"</Relationships>", rels.encode() + b"</Relationships>")
    files["word/document.xml"] = files["word/document.xml"].replace(b"<w:body>", ("<w:body>" + "".join(body)).encode())
    return zipped(files)


def alt_chunk(rid: str) -> str:
    return f'<w:altChunk r:id="{rid}"/>'


MHT = (
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/related; boundary="----=_NextPart"; type="text/html"\r\n\r\n'
    b"------=_NextPart\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"Content-Location: file:///C:/chunk.htm\r\n\r\n"
    b"<html><body><p>Imported from MHT: the MARGAYWORD clause applies to every br=\r\n"
    b"anch.</p></body></html>\r\n"
    b"------=_NextPart--\r\n"
)


def test_imported_chunks_are_read_where_they_stand(tmp_path: Path) -> None:
    """A w:altChunk places another file's content (HTML, MHT, plain text…) that Word converts when it
    opens the document; tools that write Word files from HTML put whole documents there. python-docx
    leaves it as a part: its text was dropped without a word."""
    html = (
        b"<html><head><title>not shown</title><script>var hidden = 1;</script></head>"
        b"<body><h1>Imported section</h1><p>The OCELOTWORD rule &amp; its <b>exceptions</b>.</p></body></html>"
    )
    body = [
        "<w:p>" + run("Before the chunks.") + "</w:p>",
        alt_chunk("rIdHtml"),
        "<w:p>" + run("Between them.") + "</w:p>",
        alt_chunk("rIdText"),
        alt_chunk("rIdMht"),
        alt_chunk("rIdHtml"),  # the same chunk placed again: read once
        alt_chunk("rIdHtmlAgain"),  # another relationship to the same part: read once too
        "<w:tbl><w:tr><w:tc>" + alt_chunk("rIdCell") + "<w:p>" + run("cell text") + "</w:p></w:tc></w:tr></w:tbl>",
        alt_chunk("rIdRtf"),
        alt_chunk("rIdBad"),
        alt_chunk("rIdWide"),
        "<w:p>" + run("After the chunks.") + "</w:p>",
    ]
    chunks = {
        "rIdHtml": ("afchunk.htm", "text/html", html),
        "rIdHtmlAgain": ("afchunk.htm", "text/html", html),
        "rIdText": ("afchunk.txt", "text/plain", b"Plain chunk line one\r\nline two names the TAPIRWORD\r\n"),
        "rIdMht": ("afchunk.mht", "message/rfc822", MHT),
        "rIdCell": ("cell.htm", "text/html", b"<p>Cell chunk</p>"),
        "rIdRtf": ("afchunk.rtf", "application/rtf", b"{\\rtf1 RTFWORD}"),
        "rIdBad": ("bad.mht", "message/rfc822", b"Content-Type: text/plain" + b";" * 5000 + b"\r\n\r\nBADWORD"),
        "rIdWide": ("wide.txt", "text/plain", "Notepad's Unicode: GENETWORD\r\n".encode("utf-16")),
    }
    root = write_files(tmp_path / "c", {"merged.docx": with_chunks(body, chunks)})
    reader = CorpusReader([root])
    (document,) = list(reader.documents())
    assert document.text.splitlines() == [
        "Before the chunks.",
        "Imported section",
        "The OCELOTWORD rule & its exceptions.",
        "Between them.",
        "Plain chunk line one",
        "line two names the TAPIRWORD",
        "Imported from MHT: the MARGAYWORD clause applies to every branch.",
        "Cell chunk cell text",
        "Notepad's Unicode: GENETWORD",
        "After the chunks.",
    ]
    assert reader.report.warnings == [
        "merged.docx: an imported chunk is not indexed (word/afchunk.rtf is application/rtf;"
        " HTML, MHT and plain text are read)",
        "merged.docx: an imported chunk is not indexed (word/bad.mht cannot be read:"
        " damaged message (header too long: Content-Type, 5,010 characters))",
    ]


def test_a_document_nested_past_the_xml_parsers_depth_says_so_not_which_flag_to_set(tmp_path: Path) -> None:
    """libxml2's "Excessive depth in document: 256, use XML_PARSE_HUGE option" named a flag no user sets."""
    deep = with_parts(lambda xml: xml.replace("<w:body>", "<w:body>" + "<w:p>" * 300 + "</w:p>" * 300, 1))
    _, skipped = read(write_files(tmp_path / "c", {"deep.docx": deep}))
    assert skipped == {"deep.docx": "damaged DOCX (XMLSyntaxError: too deeply nested)"}
