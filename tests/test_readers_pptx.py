"""The PPTX reader, on decks written here with python-pptx: one segment per slide, cited by slide."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pptx
from clihelpers import invoke
from conftest import write_files
from lxml import etree
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE
from pptx.oxml.ns import qn
from pptx.util import Inches

from ragcli.readers.walk import CorpusReader
from ragcli.records import Document


def make_deck(*, core_title: str | None = None) -> bytes:
    deck = pptx.Presentation()
    if core_title is not None:
        deck.core_properties.title = core_title
    first = deck.slides.add_slide(deck.slide_layouts[1])  # title and content
    first.shapes.title.text = "Migration Plan"
    first.placeholders[1].text = "Move the archive to the new cluster."
    deck.slides.add_slide(deck.slide_layouts[6])  # blank: no text at all
    third = deck.slides.add_slide(deck.slide_layouts[5])  # title only, plus a table
    third.shapes.title.text = "Budget"
    table = third.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for (row, col), value in {(0, 0): "Item", (0, 1): "Cost", (1, 0): "Tape drives", (1, 1): "9000"}.items():
        table.cell(row, col).text = value
    third.notes_slide.notes_text_frame.text = "Ask finance about the tape drives."
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def read(root: Path) -> tuple[list[Document], dict[str, str]]:
    reader = CorpusReader([root])
    documents = list(reader.documents())
    return documents, {s.path: s.reason for s in reader.report.skipped}


def test_each_slide_with_text_is_a_page(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"plan.pptx": make_deck()})
    documents, skipped = read(root)
    assert skipped == {}
    assert [(d.page, d.continuation) for d in documents] == [(1, False), (3, True)]
    assert {d.title for d in documents} == {"Migration Plan"} and documents[0].title_in_text
    assert documents[1].text.splitlines() == [
        "Budget",
        "Item\tCost",
        "Tape drives\t9000",
        "Ask finance about the tape drives.",
    ]
    assert documents[0].metadata["pages"] == 3
    assert documents[0].metadata["format"] == "pptx" and documents[0].metadata["path"] == "plan.pptx"


def test_the_core_title_wins(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"plan.pptx": make_deck(core_title="Q4 Infrastructure")})
    documents, _ = read(root)
    assert {d.title for d in documents} == {"Q4 Infrastructure"} and not documents[0].title_in_text


def test_a_slide_is_cited_through_the_cli_and_damaged_decks_are_skipped(tmp_path: Path) -> None:
    good = make_deck()
    root = write_files(
        tmp_path / "c", {"plan.pptx": good, "cut.pptx": good[: len(good) // 2], "junk.pptx": b"junk" * 40}
    )
    index = str(tmp_path / "idx")
    result = invoke("index", str(root), "--index", index, "--json")
    assert result.exit_code == 0, result.output
    reasons = {s["path"]: s["reason"] for s in json.loads(result.stdout)["skipped"]}
    assert set(reasons) == {"cut.pptx", "junk.pptx"}
    assert all(reason.startswith("damaged PPTX (") for reason in reasons.values()), reasons
    result = invoke("query", "tape drives finance", "--index", index, "--no-generate")
    assert "plan.pptx:p3" in result.stdout


def test_a_line_break_inside_a_paragraph_parts_the_words_it_stands_between(tmp_path: Path) -> None:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Harbour"
    paragraph = slide.placeholders[1].text_frame.paragraphs[0]
    paragraph.add_run().text = "Dredging starts"
    paragraph.add_line_break()  # Shift+Enter: <a:br/>, between runs
    paragraph.add_run().text = "in March"
    dated = slide.placeholders[1].text_frame.add_paragraph()
    dated.add_run().text = "Updated "
    field = etree.SubElement(dated._p, qn("a:fld"), id="{B6F15528-21DE-4FAA-801E-634DDDAF4B2B}", type="datetime1")
    etree.SubElement(field, qn("a:t")).text = "3/9/2026"  # the date PowerPoint last showed
    notes = slide.notes_slide.notes_text_frame.paragraphs[0]
    notes.add_run().text = "Ask the port"
    notes.add_line_break()
    notes.add_run().text = "about permits"
    out = io.BytesIO()
    deck.save(out)
    root = write_files(tmp_path / "c", {"plan.pptx": out.getvalue()})
    (document,), _ = read(root)
    assert document.text.splitlines() == [
        "Harbour",
        "Dredging starts",
        "in March",
        "Updated 3/9/2026",
        "Ask the port",
        "about permits",
    ]


def add_revenue_chart(slide: Any) -> CategoryChartData:
    """The slide titled "Revenue" with a column chart titled "Quarterly dredging revenue"; its data."""
    slide.shapes.title.text = "Revenue"
    data = CategoryChartData()
    data.categories = ["Q1", "Q2"]
    data.add_series("Sales", (1.0, 2.0))
    frame = slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(2), Inches(6), Inches(4), data)
    frame.chart.chart_title.text_frame.text = "Quarterly dredging revenue"
    return data


def test_a_charts_title_is_read_where_it_stands(tmp_path: Path) -> None:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    data = add_revenue_chart(slide)
    slide.shapes.add_textbox(Inches(1), Inches(6), Inches(4), Inches(1)).text_frame.text = "Source: port office"
    untitled = deck.slides.add_slide(deck.slide_layouts[6])
    untitled.shapes.add_chart(XL_CHART_TYPE.PIE, Inches(1), Inches(1), Inches(4), Inches(4), data)
    out = io.BytesIO()
    deck.save(out)
    root = write_files(tmp_path / "c", {"revenue.pptx": out.getvalue()})
    documents, skipped = read(root)
    assert skipped == {}
    assert [d.text.splitlines() for d in documents] == [
        ["Revenue", "Quarterly dredging revenue", "Source: port office"]
    ]


def charted_deck() -> bytes:
    """Two slides: a chart (titled) and speaker notes on the first, text and notes on the second."""
    deck = pptx.Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[5])
    add_revenue_chart(first)
    first.notes_slide.notes_text_frame.text = "Mention the harbour fees."
    second = deck.slides.add_slide(deck.slide_layouts[1])
    second.shapes.title.text = "Outlook"
    second.placeholders[1].text = "Dredging resumes in spring."
    second.notes_slide.notes_text_frame.text = "Ask the port about permits."
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def rewritten(data: bytes, name: str, part: bytes | None) -> bytes:
    """The deck with zip member `name` replaced by `part` (None: left out)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rewritten:
        for info in archive.infolist():
            if info.filename != name:
                rewritten.writestr(info, archive.read(info))
            elif part is not None:
                rewritten.writestr(info, part)
    return out.getvalue()


def test_a_damaged_or_missing_chart_or_notes_part_leaves_the_slides_read(tmp_path: Path) -> None:
    # python-pptx parses charts and notes as it opens a deck: one damaged part skipped the whole file,
    # and a chart whose part the zip lacks skipped its slide
    deck = charted_deck()
    chart, notes = "ppt/charts/chart1.xml", "ppt/notesSlides/notesSlide1.xml"
    files = {
        "broken-chart.pptx": rewritten(deck, chart, b"<c:chartSpace><unclosed>"),
        "broken-notes.pptx": rewritten(deck, notes, b"<p:notes><unclosed>"),
        "wrong-root.pptx": rewritten(deck, notes, b'<c:chartSpace xmlns:c="urn:x"/>'),
        "missing-chart.pptx": rewritten(deck, chart, None),
        "whole.pptx": deck,
    }
    reader = CorpusReader([write_files(tmp_path / "c", files)])
    slides: dict[str, list[list[str]]] = {}
    for document in reader.documents():
        slides.setdefault(document.id, []).append(document.text.splitlines())
    assert reader.report.skipped == []
    second = ["Outlook", "Dredging resumes in spring.", "Ask the port about permits."]
    assert slides["whole.pptx"] == [["Revenue", "Quarterly dredging revenue", "Mention the harbour fees."], second]
    assert slides["broken-chart.pptx"] == [["Revenue", "Mention the harbour fees."], second]
    assert slides["missing-chart.pptx"] == [["Revenue", "Mention the harbour fees."], second]
    assert slides["broken-notes.pptx"] == [["Revenue", "Quarterly dredging revenue"], second]
    assert slides["wrong-root.pptx"] == slides["broken-notes.pptx"]
    syntax = "XMLSyntaxError: "
    assert ["".join(warning.partition(syntax)[:2]) for warning in reader.report.warnings] == [
        f"broken-chart.pptx: a chart is not indexed (ppt/charts/chart1.xml is damaged: {syntax}",
        f"broken-notes.pptx: the speaker notes are not indexed (ppt/notesSlides/notesSlide1.xml is damaged: {syntax}",
        "missing-chart.pptx: a chart is not indexed (ppt/slides/slide1.xml names a part the file lacks)",
        "wrong-root.pptx: the speaker notes are not indexed (ppt/notesSlides/notesSlide1.xml is damaged: its root"
        " is c:chartSpace, not p:notes)",
    ]


def test_a_deck_named_docx_and_a_document_named_pptx_say_what_they_are_and_to_rename_them(tmp_path: Path) -> None:
    """python-docx said "file '<_io.BytesIO object at 0x…>' is not a Word file": a memory address, and no
    word of what the file is."""
    import docx

    word = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Harbour dues rise in May.")
    document.save(word)
    root = write_files(tmp_path / "c", {"deck.docx": make_deck(), "notes.pptx": word.getvalue()})
    _, skipped = read(root)
    assert skipped == {
        "deck.docx": "a PowerPoint deck named .docx: rename it .pptx",
        "notes.pptx": "a Word document named .pptx: rename it .docx",
    }
