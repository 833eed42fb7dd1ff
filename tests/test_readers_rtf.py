"""The RTF reader: a TextEdit note read as its text, never as its control words and tables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from clihelpers import invoke
from conftest import write_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragcli.chunking import ChunkSettings, split_document
from ragcli.readers.walk import CorpusReader

# what macOS TextEdit writes for a short note (fonts, colours, a code page, an accented letter, a dash)
TEXTEDIT = (
    "{\\rtf1\\ansi\\ansicpg1252\\cocoartf2639\n"
    "\\cocoatextscaling0\\cocoaplatform0{\\fonttbl\\f0\\fswiss\\fcharset0 Helvetica;}\n"
    "{\\colortbl;\\red255\\green255\\blue255;}\n"
    "{\\*\\expandedcolortbl;;}\n"
    "\\paperw11900\\paperh16840\\margl1440\\margr1440\\vieww11520\\viewh8400\\viewkind0\n"
    "\\pard\\tx566\\tx1133\\pardirnatural\\partightenfactor0\n\n"
    "\\f0\\fs24 \\cf0 Hive diary\\\n"
    "\\\n"
    "The queen was seen on frame four. Caf\\'e9 break \\u8212? then the varroa count: 14 mites.\\\n"
    "{\\b Next:} add a super.}"
)


def test_a_textedit_note_is_its_text_titled_by_its_first_line(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"diary.rtf": TEXTEDIT})
    reader = CorpusReader([root])
    (document,) = reader.documents()
    assert reader.report.skipped == []
    assert document.title == "Hive diary" and document.title_in_text
    assert document.text == (
        "Hive diary\n\nThe queen was seen on frame four. Café break — then the varroa count: 14 mites.\n"
        "Next: add a super."
    )
    assert document.metadata["format"] == "rtf"
    for control in ("fonttbl", "Helvetica", "ansicpg", "red255", "cocoa", "\\"):
        assert control not in document.text


def test_rtf_is_searchable_and_what_is_no_rtf_is_skipped(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"diary.rtf": TEXTEDIT, "fake.rtf": "just text, no header\n"})
    index = str(tmp_path / "idx")
    result = invoke("index", str(root), "--index", index, "--json")
    assert result.exit_code == 0, result.output
    reasons = {s["path"]: s["reason"] for s in json.loads(result.stdout)["skipped"]}
    assert reasons == {"fake.rtf": "not an RTF document (no {\\rtf header)"}
    found = json.loads(invoke("query", "varroa mites", "--index", index, "--no-generate", "--json").stdout)
    assert [h["path"] for h in found["hits"]] == ["diary.rtf"]
    info = json.loads(invoke("info", "--index", index, "--json").stdout)
    assert info["terms"] < 30  # the note's words, not its control words


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.lists(
        st.sampled_from(
            [
                "{",
                "}",
                "\\par ",
                "\\'e9",
                "\\'zz",
                "\\u8212?",
                "\\u-3?",
                "\\u99999999999?",
                "\\*\\fonttbl",
                "\\bin4 ",
                "\\ansicpg99999",
                "text ",
                "\\",
                "\\\\",
                "{\\pict ff}",
                "\\uc2 ",
                "\\uc ",
                "\\'",
                "{\\footnote ",
                "{\\*\\footnote\\ftnalt ",
                "{\\headerl ",
                "\ufdd0",
                "\ufdd4",
            ]
        )
        | st.text(max_size=10),
        max_size=30,
    )
)
def test_any_rtf_is_read_or_skipped_with_a_reason_never_a_crash(tmp_path: Path, body: list[str]) -> None:
    path = tmp_path / "x.rtf"
    path.write_text("{\\rtf1\\ansi " + "".join(body), encoding="utf-8", errors="surrogatepass")
    reader = CorpusReader([path])
    list(reader.documents())
    assert all(s.reason.startswith(("damaged RTF", "no text", "binary content")) for s in reader.report.skipped)


def test_a_control_word_missing_its_number_skips_the_file_not_the_build(tmp_path: Path) -> None:
    # striprtf does int(None) on "\uc" without its number: a TypeError, which ended the whole build
    root = write_files(tmp_path / "c", {"bad.rtf": "{\\rtf1\\ansi\\uc hello world\\par}", "good.txt": "zebrafish\n"})
    result = invoke("index", str(root), "--index", str(tmp_path / "idx"), "--json")
    assert result.exit_code == 0, result.output
    reasons = {s["path"]: s["reason"] for s in json.loads(result.stdout)["skipped"]}
    assert list(reasons) == ["bad.rtf"] and reasons["bad.rtf"].startswith("damaged RTF (TypeError")


def test_many_fields_on_one_line_and_an_unclosed_font_table_are_read_in_bounded_time(tmp_path: Path) -> None:
    """striprtf's hyperlink pattern backtracks cubically on a line of many fields (this file ran for
    minutes), and its font-table pattern is quadratic in an unclosed table (the rest of the document)."""
    fields = "{\\rtf1 zebrafish " + '{\\field{\\*\\fldinst{HYPERLINK "x"}}Z' * 2000 + "}"
    fonts = "{\\rtf1{\\fonttbl" + "\\f1 " * 20000 + " zebrafish"
    link = '{\\rtf1 Read {\\field{\\*\\fldinst{HYPERLINK "https://example.org"}}{\\fldrslt{the guide}}} first.}'
    root = write_files(tmp_path / "c", {"fields.rtf": fields, "fonts.rtf": fonts, "link.rtf": link})
    done = subprocess.run(
        [sys.executable, "-m", "ragcli", "index", str(root), "--index", str(tmp_path / "idx"), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert list(reasons) == ["fonts.rtf"] and "font table of 80,0" in reasons["fonts.rtf"]
    assert report["documents"] == 2
    texts = [d.text for d in CorpusReader([root]).documents() if d.id == "link.rtf"]
    assert texts == ['Read the guide("https://example.org") first.']  # as striprtf writes a link, field or not


def test_every_passage_cites_the_first_line_as_the_text_lines_are_not_the_files(tmp_path: Path) -> None:
    """RTF's header, tables and control words take lines of their own, and a paragraph may span lines or
    share one: a line counted in the text would name another line of the file."""
    paragraphs = "".join(f"Rtf line {i} filler words here.\\\n" for i in range(1, 21))
    root = write_files(tmp_path / "c", {"notes.rtf": TEXTEDIT.removesuffix("}") + "\\\n" + paragraphs + "}"})
    (document,) = CorpusReader([root]).documents()
    chunks = split_document(document, ChunkSettings(size=5, overlap=0))
    assert len(chunks) > 10 and {chunk.line for chunk in chunks} == {1}


def test_a_character_past_the_basic_plane_is_read_from_its_surrogate_pair(tmp_path: Path) -> None:
    # Word writes 😀 (U+1F600) and 𝑥 (U+1D465) as \uN pairs of UTF-16 surrogates, signed 16-bit
    rtf = "{\\rtf1\\ansi\\uc1 Harbour \\u-10179?\\u-8704? day, \\u55349?\\u56421? metres, lone \\u55357? end\\par}"
    root = write_files(tmp_path / "c", {"emoji.rtf": rtf})
    (document,) = CorpusReader([root]).documents()
    assert document.text == "Harbour \U0001f600 day, \U0001d465 metres, lone \ufffd end\n"


def test_an_out_of_range_unicode_escape_is_one_replacement_character_the_rest_read(tmp_path: Path) -> None:
    # striprtf does chr(N) unchecked: \u99999999 (or \u-99999) skipped the whole file as damaged
    rtf = "{\\rtf1\\ansi Intro about flamingo.\\par \\u99999999? rest \\u-99999? end \\\\u99999999\\par}"
    root = write_files(tmp_path / "c", {"a.rtf": rtf})
    reader = CorpusReader([root])
    (document,) = reader.documents()
    assert not reader.report.skipped
    assert document.text == "Intro about flamingo.\n\ufffd rest \ufffd end \\u99999999\n"


# a Word-style policy: a header on every page (the first page's written again as \headerf), a footer of a
# page number alone, a footnote and an endnote in the body, and a second section repeating the header
POLICY = (
    "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\froman\\fcharset0 Times New Roman;}}\n"
    "{\\header \\pard\\plain \\f0 Harbour Authority \\endash  Policy HA-7\\par}\n"
    "{\\headerf \\pard\\plain \\f0 Harbour Authority \\endash  Policy HA-7\\par}\n"
    "{\\footer \\pard\\plain\\qr {\\field{\\*\\fldinst PAGE}{\\fldrslt 1}}\\par}\n"
    "\\pard\\plain \\f0 Travel policy\\par\n"
    "\\par\n"
    "Trains are booked in second class.{\\super\\chftn}{\\footnote \\pard\\plain \\f0 {\\super\\chftn} First class \n"
    "when the journey is longer than four hours.\\par Ask the office first.} Buses are booked by the office.\\par\n"
    "Hotels are booked near the station.{\\super\\chftn}{\\*\\footnote\\ftnalt \\pard\\plain {\\super\\chftn}"
    " KAYAKWORD rates apply in Oslo.}\\par\n"
    "\\sect\\sectd {\\header \\pard\\plain \\f0 Harbour Authority \\endash  Policy HA-7\\par}\n"
    "{\\footerl \\pard\\plain \\f0 Confidential\\par}\n"
    "\\pard\\plain \\f0 Second section.\\par}"
)


def test_footnotes_follow_their_paragraph_and_headers_and_footers_are_read_once(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"policy.rtf": POLICY})
    reader = CorpusReader([root])
    (document,) = reader.documents()
    assert reader.report.skipped == [] and reader.report.warnings == []
    assert document.title == "Travel policy"
    assert document.text.splitlines() == [
        "Travel policy",
        "",
        "Trains are booked in second class. Buses are booked by the office.",
        "Footnote: First class when the journey is longer than four hours.",
        "Ask the office first.",
        "Hotels are booked near the station.",
        "Endnote: KAYAKWORD rates apply in Oslo.",
        "",  # \\par, then \\sect: striprtf's blank lines
        "",
        "Second section.",
        "Header: Harbour Authority \u2013 Policy HA-7",
        "Footer: Confidential",
    ]
    index = str(tmp_path / "idx")
    assert invoke("index", str(root), "--index", index).exit_code == 0
    found = json.loads(
        invoke("query", "journey longer than four hours", "--index", index, "--no-generate", "--json").stdout
    )
    assert "second class. Buses" in found["hits"][0]["text"] and "Footnote: First class" in found["hits"][0]["text"]


def test_each_font_decodes_its_own_letters_in_its_own_charset(tmp_path: Path) -> None:
    # striprtf read a font's charset from the next \fcharset after its \fN, wherever that stood: a font
    # declaring none took the Cyrillic font's (café read "cafй"), and the Cyrillic font was lost (its
    # letters read as Windows-1252: "Ïðèâåò"); and text before any \f was not in the default font (\deff)
    cyrillic = "\\'cf\\'f0\\'e8\\'e2\\'e5\\'f2"  # Привет in Windows-1251
    files = {
        "none-declared.rtf": (
            "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fnil Calibri;}{\\f1\\fnil\\fcharset204 Arial Cyr;}}\n"
            f"\\f0 Caf\\'e9 \\f1 {cyrillic}\\par}}"
        ),
        "default-font.rtf": (
            "{\\rtf1\\ansi\\ansicpg1252\\deff1{\\fonttbl{\\f0\\froman\\fcharset0\\fprq2{\\*\\panose 02020603050405020304}"
            "Times New Roman;}{\\f1\\fswiss\\fcharset204\\fprq2{\\*\\falt Arial;}Arial Cyr;}}\n"
            f"{cyrillic} {{\\f0 caf\\'e9}} {cyrillic}\\par}}"
        ),
    }
    root = write_files(tmp_path / "c", files)
    texts = {document.id: document.text for document in CorpusReader([root]).documents()}
    assert texts == {"none-declared.rtf": "Café Привет\n", "default-font.rtf": "Привет café Привет\n"}


def test_lone_carriage_returns_are_no_terminals_overwrite(tmp_path: Path) -> None:
    """A file saved with classic Mac line ends mixed with others ("\\r" alone) had each line holding a
    "\\r" overwritten as a terminal shows a progress bar: "{\\rtf1\\ansi \\r0" became "0rtf1…", the header
    lost, skipped as "not an RTF document". RTF reads a carriage return as nothing."""
    path = tmp_path / "mac.rtf"
    path.write_bytes(b"{\\rtf1\\ansi\r{\\fonttbl{\\f0 Times;}}\rHoney bees\\par\n dance.\\par\r}")
    reader = CorpusReader([path])
    documents = list(reader.documents())
    assert not reader.report.skipped
    assert " ".join(" ".join(d.text for d in documents).split()) == "Honey bees dance."


def test_bin_data_is_skipped_byte_for_byte_and_a_nul_inside_it_is_no_binary_file(tmp_path: Path) -> None:
    """`\\binN` is followed by N raw bytes (a picture's data): they are no text, and a NUL among them does
    not make a valid RTF "binary content"; the text after them is read."""
    root = tmp_path / "c"
    root.mkdir()
    (root / "x.rtf").write_bytes(
        b"{\\rtf1\\ansi{\\fonttbl{\\f0 Times;}}\\pard Hello koala \\bin5 abcde after lemur\\par}"
    )
    (root / "y.rtf").write_bytes(
        b"{\\rtf1\\ansi{\\fonttbl{\\f0 Times;}}\\pard Hello pangolin {\\pict\\bin6 \x00\x01}\\b{\x03} after wombat\\par}"
    )
    (root / "z.rtf").write_bytes(b"{\\rtf1\\ansi \\\\bin3 abc is text\\par}")  # an escaped backslash: no \bin
    reader = CorpusReader([root])
    texts = {document.path: " ".join(document.text.split()) for document in reader.documents()}
    assert reader.report.skipped == []
    assert texts == {
        "x.rtf": "Hello koala after lemur",
        "y.rtf": "Hello pangolin after wombat",
        "z.rtf": "\\bin3 abc is text",
    }
