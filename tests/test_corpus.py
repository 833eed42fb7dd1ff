from __future__ import annotations

import codecs
import html
import tracemalloc
from pathlib import Path

import pytest
from conftest import write_files

from ragcli.chunking import ChunkSettings, split_document
from ragcli.errors import InputFormatError, PathNotFoundError
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.readers.base import Decoded, RecordFields, decode_text
from ragcli.readers.markup import html_text
from ragcli.readers.walk import CorpusReader
from ragcli.records import Document


def read(root: Path, **kwargs: object) -> tuple[list, CorpusReader]:
    reader = CorpusReader([root], **kwargs)  # type: ignore[arg-type]
    return list(reader.documents()), reader


def test_reads_every_format_with_ids_relative_to_the_root(small_corpus: Path) -> None:
    docs, _reader = read(small_corpus)
    ids = sorted(d.id for d in docs)
    assert ids == ["notes/hydro.rst", "notes/page.html", "r1", "r2", "solar.md", "wind.txt"]
    by_id = {d.id: d for d in docs}
    assert by_id["solar.md"].title == "Solar panels"
    assert by_id["notes/hydro.rst"].title == "Hydropower"
    assert by_id["wind.txt"].title == "Wind turbines"
    assert by_id["r2"].path == "records.jsonl" and by_id["r2"].line == 2


def test_hidden_folders_are_skipped(small_corpus: Path) -> None:
    docs, _ = read(small_corpus)
    assert not any("hidden" in d.text for d in docs)


def test_html_keeps_text_only(small_corpus: Path) -> None:
    docs, _ = read(small_corpus)
    page = next(d for d in docs if d.id == "notes/page.html")
    assert page.title == "Geothermal"
    assert "steam turbines" in page.text
    assert "scripttext" not in page.text and "<p>" not in page.text


def test_html_keeps_visible_text_titles_and_source_lines(tmp_path: Path) -> None:
    page = (
        "<html><head><title>The page</title><style>p {}</style></head><body>\n"
        "<svg><title>not the title</title><text>drawing</text></svg>\n"
        "<p class='a'\n   id='b'>First paragraph\nspans lines</p>\n"
        "<script>\nvar hidden = 1;\n\n</script>\n"
        "<table><tr><td>cell</td><td>other</td></tr></table>\n"
        "<!-- a\ncomment\n-->\n"
        "<p>caf&eacute; &amp; cr&#232;me</p></body></html>\n"
    )
    root = write_files(tmp_path / "c", {"page.html": page, "untitled.html": "<h1>Main <i>heading</i></h1><p>x</p>"})
    documents = {d.id: d for d in CorpusReader([root]).documents()}
    doc = documents["page.html"]
    assert doc.title == "The page" and documents["untitled.html"].title == "Main heading"
    assert doc.text.split() == ["First", "paragraph", "spans", "lines", "cell", "other", "café", "&", "crème"]
    lines = page.splitlines()
    for word in ("First", "cell", "café"):
        line = doc.line_at(doc.text.index(word))
        assert word in html.unescape(lines[line - 1]), (word, line)


def test_html_headings_are_handed_to_the_chunker(tmp_path: Path) -> None:
    """mdBook and Sphinx pages: a heading's permalink (an anchor, a "¶") is not part of it; a heading in
    a hidden part (a script's template) or without text is none."""
    page = (
        "<html><head><title>Lifetimes - The Book</title></head><body><p>Contents</p>\n"
        '<h1 id="l"><a class="header" href="#l">Lifetimes</a></h1><p>Every reference has one.</p>\n'
        '<h2>The Borrow Checker<a class="headerlink" href="#b">¶</a></h2><p>It compares scopes.</p>\n'
        "<template><h2>hidden</h2></template><h3> </h3><h3>In <em>Functions</em></h3><p>Generic ones.</p>\n"
        "</body></html>"
    )
    (document,), _ = read(write_files(tmp_path, {"ch10.html": page}))
    assert document.headings is not None
    assert [(level, text) for _, level, text in document.headings] == [
        (1, "Lifetimes"),
        (2, "The Borrow Checker"),
        (3, "In Functions"),
    ]
    for offset, _, text in document.headings:
        assert document.text[offset:].startswith(text.split()[0])
    passages = split_document(document, ChunkSettings(size=6, overlap=1))
    # the short lead-in ("Contents") opens the first section's passage
    assert [p.text.split()[:2] for p in passages] == [["Contents", "Lifetimes"], ["The", "Borrow"], ["In", "Functions"]]
    assert passages[1].index_text.startswith("Lifetimes - The Book\nLifetimes\nThe Borrow Checker¶")


def test_html_headings_are_read_as_the_body_is_shown(tmp_path: Path) -> None:
    """A heading's words are taken as the page's text is: a <br> keeps them apart, a hidden part or a
    button's label is not among them, in the title and in what each section's passages are indexed with."""
    page = (
        "<html><body><h1>Chapter 1<br>Introduction</h1><p>alpha beta gamma delta</p>\n"
        '<h2>Word<span style="display:none">hid</span>Next</h2><p>one two three four</p>\n'
        "<h2>Deployment<button>Copy</button></h2><p>five six seven eight</p>\n</body></html>"
    )
    (document,), _ = read(write_files(tmp_path, {"a.html": page}))
    assert document.title == "Chapter 1 Introduction"
    assert [text for _, _, text in document.headings or ()] == ["Chapter 1 Introduction", "WordNext", "Deployment"]
    passages = split_document(document, ChunkSettings(size=2, overlap=0))
    assert any("Chapter 1 Introduction\nDeployment" in passage.index_text for passage in passages)


def test_html_menus_are_left_out(tmp_path: Path) -> None:
    """A site's menu and table of contents (`<nav>`, `role="navigation"`, as Sphinx and Node.js write them)
    repeat on every page: not indexed. A heading inside them is no section of the page."""
    page = (
        "<html><body><nav><a href='/'>Home</a><h2>Menu</h2></nav>\n"
        "<div role='navigation' class='sphinxsidebar'><ul><li>Buffer</li><li>Crypto</li></ul></div>\n"
        "<details role='navigation' id='toc'><summary>Table of contents</summary><ul><li>Hashes</li></ul></details>\n"
        "<h1>Hashes</h1><p>A hash is a digest.</p><div role='main'><p>Salt it.</p></div></body></html>"
    )
    (document,), _ = read(write_files(tmp_path, {"crypto.html": page}))
    assert document.text.split() == ["Hashes", "A", "hash", "is", "a", "digest.", "Salt", "it."]
    assert document.headings == ((document.text.index("Hashes"), 1, "Hashes"),)
    site_map = "<html><body><nav><ul><li>Install</li><li>Usage</li></ul></nav></body></html>"
    (only_menus,), _ = read(write_files(tmp_path / "map", {"sitemap.html": site_map}))
    assert only_menus.text.split() == ["Install", "Usage"]  # a page that is nothing but its menu keeps it


def test_html_whitespace_is_read_as_a_browser_shows_it(tmp_path: Path) -> None:
    """An indented page's source (mdBook writes each chapter 20 levels deep) would fill its passages with
    whitespace: outside <pre>, a run of spaces and line breaks is one space, none starts a line, and
    blocks leave at most one blank line; <pre> keeps its own; citations keep the source lines. ARIA
    menus (mdBook's theme list) and buttons ("Copy") are no text of the page."""
    page = (
        "<html>\n  <body>\n    <ul id='theme-list' role='menu'>\n      <li><button>Coal</button></li>\n"
        "    </ul>\n    <div>\n      <div>\n        <h1>What   Is\n          Ownership?</h1>\n"
        "        <p>Ownership is a set\n           of rules.</p>\n        <pre><code>fn main() {\n"
        "    let x = 5;\n}</code></pre><button>Copy</button>\n        <p>After the <em>code</em> .</p>\n"
        "      </div>\n    </div>\n  </body>\n</html>\n"
    )
    (document,), _ = read(write_files(tmp_path, {"ch04.html": page}))
    assert document.text == (
        "What Is Ownership?\n\nOwnership is a set of rules.\n\nfn main() {\n    let x = 5;\n}\n\nAfter the code .\n\n"
    )
    assert document.headings == ((0, 1, "What Is Ownership?"),)
    lines = page.splitlines()
    for word in ("What", "Ownership?", "of rules", "fn main", "let", "After"):
        assert word in lines[document.line_at(document.text.index(word)) - 1], word


def test_html_line_breaks_and_a_pre_s_leading_newline_add_no_blank_line(tmp_path: Path) -> None:
    """<br> breaks a line, it is no block of its own (two make a blank line, as a browser shows them); the
    line break right after <pre>'s, <listing>'s or <textarea>'s start tag is not shown (the HTML spec
    drops it). Citations still cite each word's own line."""
    page = (
        "<html><body>\n<p>Address:<br>1 Main St <br/>\nSpringfield</p>\n<p>Then:</p><pre>\nfirst\n  second</pre>\n"
        "<p>a<br><br>b</p><textarea>\nnote</textarea><listing>\r\nlisted</listing><pre>\n\nkept</pre></body></html>\n"
    )
    (document,), _ = read(write_files(tmp_path, {"address.html": page}))
    assert document.text == (
        "Address:\n1 Main St\nSpringfield\n\nThen:\n\nfirst\n  second\n\na\n\nb\n\nnote\n\nlisted\n\n\nkept\n"
    )
    lines = page.splitlines()
    for word in ("Address", "Main", "Springfield", "Then", "first", "second", "b", "note", "listed", "kept"):
        assert word in lines[document.line_at(document.text.index(word)) - 1], word


def test_html_block_and_form_elements_keep_their_words_apart(tmp_path: Path) -> None:
    """Every element the HTML spec's rendering section shows as a box of its own (a legend, a <center>,
    each option of a list, a caption, a textarea) ends a word, as a <p> does."""
    page = (
        "<html><body><fieldset><legend>Shipping</legend>Address</fieldset>"
        "<center>Welcome</center><center>Visitors</center>"
        "<select><optgroup label='x'><option>English</option><option>Deutsch</option></optgroup></select>"
        "<table><caption>Prices</caption><tr><td>one</td></tr></table><menu><li>Open</li></menu>"
        "<textarea>Notes</textarea><dialog open>Saved</dialog><hgroup><h1>Top</h1><p>Sub</p></hgroup>"
        "<search>Find</search><listing>Code</listing></body></html>"
    )
    (document,), _ = read(write_files(tmp_path, {"form.html": page}))
    assert document.text.split() == [
        "Shipping", "Address", "Welcome", "Visitors", "English", "Deutsch", "Prices", "one", "Open",
        "Notes", "Saved", "Top", "Sub", "Find", "Code",
    ]  # fmt: skip


def test_html_a_browser_never_shows_is_left_out(tmp_path: Path) -> None:
    """Fallback content of media and embedded elements (for browsers without them), <noscript> (shown only
    with scripts off), <template>, elements marked `hidden` or styled `display: none`: not the page's text.
    `hidden="until-found"` is text a reader finds by searching, and stays; `aria-hidden` is still shown."""
    page = (
        "<html><body><p>Shown</p>"
        "<video src='a.mp4'>Your browser does not support video.</video><audio>No audio</audio>"
        "<iframe src='x'>No frames</iframe><object data='a.pdf'>Download it</object><canvas>Chart</canvas>"
        "<noscript>Enable JavaScript</noscript><template><p>Row template</p></template>"
        "<datalist><option>Suggestion</option></datalist><ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby>"
        "<p hidden>Draft secret</p><div HIDDEN=''>Also hidden</div><p style='color: red; display : none'>Styled away</p>"
        "<p style='display:inline'>Inline</p><p hidden='until-found'>Findable</p><p aria-hidden='true'>Decor</p>"
        "</body></html>"
    )
    (document,), _ = read(write_files(tmp_path, {"hidden.html": page}))
    assert document.text.split() == ["Shown", "漢", "kan", "Inline", "Findable", "Decor"]


def test_html_a_closed_dialog_is_left_out_an_image_and_ruby_text_keep_words_apart(tmp_path: Path) -> None:
    page = (
        "<p>one<img src=x alt=altword>two</p><dialog>closeddialogword</dialog><dialog open>opendialog</dialog>"
        "<p>ruby <ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby> end</p>"
    )
    (document,), _ = read(write_files(tmp_path, {"a.html": page}))
    assert document.text.split() == ["one", "two", "opendialog", "ruby", "漢", "kan", "end"]


def test_an_html_page_is_decoded_as_it_declares(tmp_path: Path) -> None:
    """A byte-order mark wins, then valid UTF-8 beyond ASCII (below), then a charset declared in the first
    1024 bytes (`<meta charset>`, or the http-equiv Content-Type pragma, as the HTML spec's prescan finds
    them, outside comments), then cp1252 as for any text. A declared UTF-16 is UTF-8 (the meta was read as ASCII), a declared
    latin1 the web's windows-1252, a name the web does not know (utf-7, a Python-only codec) nothing."""
    russian = "Привет мир"
    pages = {
        "meta.html": b'<html><head><meta charset="windows-1251"><title>News</title></head><body><p>'
        + russian.encode("cp1251")
        + b"</p></body></html>",
        "pragma.html": b"<html><head><meta content='text/html; charset=KOI8-R' http-equiv='Content-Type'>"
        + b"</head><body><p>"
        + russian.encode("koi8-r")
        + b"</p></body></html>",
        "bom.html": codecs.BOM_UTF8 + b'<meta charset="windows-1251"><p>' + russian.encode() + b"</p>",
        "wide.html": codecs.BOM_UTF16_LE + f'<meta charset="windows-1251"><p>{russian}</p>'.encode("utf-16-le"),
        "utf16.html": b'<meta charset="utf-16"><p>' + russian.encode() + b"</p>",
        "latin1.html": b'<meta charset="iso-8859-1"><p>\x93quoted\x94 caf\xe9</p>',
        "commented.html": b'<!-- <meta charset="koi8-r"> --><p>' + russian.encode() + b"</p>",
        "late.html": b"<p>" + b" " * 1024 + b'<meta charset="koi8-r">' + russian.encode() + b"</p>",
        "foreign.html": b'<meta charset="unicode_escape"><p>\\x41 ' + russian.encode() + b"</p>",
        "pragmaless.html": b'<meta content="text/html; charset=koi8-r"><p>' + russian.encode() + b"</p>",
        "wrong.html": b'<meta charset="utf-8"><p>caf\xe9</p>',
        "broken.html": b'<meta charset="windows-1251"><p>a\x98b</p>',  # 0x98 is no character of cp1251
    }
    documents, reader = read(write_files(tmp_path, pages))
    texts = {d.id: " ".join(d.text.split()) for d in documents}
    assert texts == {
        "meta.html": russian,
        "pragma.html": russian,
        "bom.html": russian,
        "wide.html": russian,
        "utf16.html": russian,
        "latin1.html": "\u201cquoted\u201d café",
        "commented.html": russian,
        "late.html": russian,
        "foreign.html": f"\\x41 {russian}",
        "pragmaless.html": russian,
        "wrong.html": "café",
        "broken.html": "a\u02dcb",
    }
    assert sorted(reader.report.warnings) == [
        "broken.html: not valid cp1251 (the charset it declares), read as cp1252",
        "wrong.html: not valid UTF-8, read as cp1252",
    ]


def test_a_page_starting_with_an_xml_declaration_is_decoded_as_it_declares(tmp_path: Path) -> None:
    """XHTML declares its encoding in the XML declaration, which the HTML spec's prescan reads when no
    <meta> declares one: only at the very start of the file; a byte-order mark still wins."""
    russian = "Привет мир"
    body = b"<html xmlns='http://www.w3.org/1999/xhtml'><body><p>"
    pages = {
        "page.xhtml": b'<?xml version="1.0" encoding="windows-1251"?>\n' + body + russian.encode("cp1251") + b"</p>",
        "single.html": b"<?xml version='1.0' encoding = 'KOI8-R' standalone='yes'?>" + body + russian.encode("koi8-r"),
        "meta.xhtml": b'<?xml version="1.0" encoding="koi8-r"?><meta charset="windows-1251"/><p>'
        + russian.encode("cp1251"),
        "bom.xhtml": codecs.BOM_UTF8 + b'<?xml version="1.0" encoding="windows-1251"?><p>' + russian.encode(),
        "late.html": b'<p>\xe9</p><?xml version="1.0" encoding="koi8-r"?>',  # no declaration: cp1252
    }
    documents, reader = read(write_files(tmp_path, pages))
    assert {d.id: " ".join(d.text.split()) for d in documents} == {
        "page.xhtml": russian,
        "single.html": russian,
        "meta.xhtml": russian,
        "bom.xhtml": russian,
        "late.html": "é",
    }
    assert reader.report.warnings == ["late.html: not valid UTF-8, read as cp1252"]  # as any undeclared text


def test_an_xhtml_internal_subset_is_no_page_text_and_its_entities_are_never_expanded(tmp_path: Path) -> None:
    """libxml2's HTML parser ends a DOCTYPE at its first ">": the rest of an internal subset was page text
    ("]>"), and a reference to an entity it declares stayed as "&co;". The subset is skipped whole (a ">"
    or "]" inside its strings and comments included), what it declares is dropped, never expanded (no
    billion laughs, nothing fetched); HTML's own entities and undeclared references read as before."""
    page = (
        '<?xml version="1.0"?>\n<!-- saved -->\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "xhtml11.dtd" [\n'
        '<!ENTITY co "Harbour Co">\n<!-- a "]>" here -->\n<!ENTITY lol "&co;&co;&co;">\n'
        '<!ENTITY ext SYSTEM "file:///etc/hostname">\n<!ENTITY amp "&#38;#38;">\n]>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>X</title></head>\n'
        "<body><p>xhtml puffin &co; &lol; &ext; &amp; &other;</p></body></html>\n"
    )
    (document,), reader = read(write_files(tmp_path, {"x.xhtml": page}))
    assert document.text == "xhtml puffin & &other;\n"
    assert document.line_map.lines[0] == 11  # the line the paragraph is on: the subset's lines still counted
    assert reader.report.warnings == []


def test_a_page_saved_as_utf_8_is_read_as_utf_8_whatever_charset_it_declares(tmp_path: Path) -> None:
    """Pages saved by wget or curl, or converted to UTF-8, keep the <meta> they had: bytes that are valid
    UTF-8 beyond ASCII are UTF-8 (legacy text with such bytes almost never is). Seven-bit bytes are read
    as declared: ISO-2022-JP is seven-bit. A legacy page is still read as it declares, lines exact."""
    menu = "Le café crème coûte 3 €."
    pages = {
        "saved.html": b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        + b"</head><body>\n\n<p>"
        + menu.encode()
        + b"</p>\n</body></html>\n",
        "converted.html": b'<meta charset="windows-1251">\n<p>' + "Привет мир".encode() + b"</p>",
        "legacy.html": b'<meta charset="windows-1251">\n\n\n<p>' + "Привет мир".encode("cp1251") + b"</p>",
        "jis.html": b'<meta charset="iso-2022-jp"><p>' + "日本語".encode("iso2022_jp") + b"</p>",
    }
    documents, reader = read(write_files(tmp_path, pages))
    by_id = {d.id: d for d in documents}
    assert {name: " ".join(d.text.split()) for name, d in by_id.items()} == {
        "saved.html": menu,
        "converted.html": "Привет мир",
        "legacy.html": "Привет мир",
        "jis.html": "日本語",
    }
    assert by_id["saved.html"].line_at(by_id["saved.html"].text.index("café")) == 3
    assert by_id["legacy.html"].line_at(by_id["legacy.html"].text.index("Привет")) == 4
    assert reader.report.warnings == []


def test_every_source_line_of_a_long_text_node_is_mapped_in_linear_time_and_memory() -> None:
    """A passage starting deep inside one long <p> or <pre> (a log dump) cites the line it starts on:
    every source line is mapped. 400,000 lines, which mapping each line by counting from the node's
    start could not finish, and in a few bytes a line: two arrays of integers, not a tuple per line."""
    count = 400_000
    for tag in ("p", "pre"):
        source = f"<html><body><{tag}>" + "".join(f"entry{i} ok\n" for i in range(count)) + f"</{tag}></body></html>"
        tracemalloc.start()
        try:
            page = html_text(source.encode())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        document = Document("log", page.text, "log", "log.html", line_map=page.line_map)
        for i in (0, 255, 256, 257, 500, count // 2, count - 1):
            assert document.line_at(page.text.index(f"entry{i} ")) == i + 1, (tag, i)
        assert peak < 8 * len(source), (tag, peak)


def test_legacy_conditional_comments_are_read(tmp_path: Path) -> None:
    page = "<html><body><![ if !IE ]><p>For other browsers</p><![endif]><![foo]><p>Shown to all</p></body></html>"
    docs, reader = read(write_files(tmp_path, {"legacy.html": page}))  # the standard library's parser asserts
    assert docs[0].text.split() == ["For", "other", "browsers", "Shown", "to", "all"] and reader.report.skipped == []


def test_binary_and_unsupported_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.txt": "real text", "b.txt": b"\x00\x01binary", "c.png": b"\x89PNG"})
    docs, reader = read(tmp_path)
    assert [d.id for d in docs] == ["a.txt"]
    reasons = {s.path: s.reason for s in reader.report.skipped}
    assert reasons == {"b.txt": "binary content", "c.png": "unsupported file type .png"}


def test_latin1_falls_back_and_bom_is_dropped(tmp_path: Path) -> None:
    write_files(tmp_path, {"latin.txt": "café crème".encode("latin-1"), "bom.txt": b"\xef\xbb\xbfhello"})
    docs, reader = read(tmp_path)
    texts = {d.id: d.text for d in docs}
    assert texts == {"bom.txt": "hello", "latin.txt": "café crème"}
    assert any("latin.txt" in w for w in reader.report.warnings)


def test_decode_text_prefers_utf8() -> None:
    assert decode_text("naïve".encode()) == Decoded("naïve", "utf-8-sig", 0)


RUSSIAN_NOTES = "".join(f"Заметка номер {n}: пчёлы танцуют у улья.\n" for n in range(50))


def test_one_stray_byte_in_utf8_costs_one_character(tmp_path: Path) -> None:
    """One byte that is not UTF-8 in a UTF-8 file read the whole file as cp1252: every Cyrillic line
    became mojibake, unsearchable. Valid multi-byte sequences that clearly outnumber the bad bytes make
    it UTF-8 with a few bad bytes: each is replaced, the rest stays, and the warning counts them."""
    write_files(tmp_path, {"notes.txt": RUSSIAN_NOTES[:20].encode() + b"\xb0" + RUSSIAN_NOTES[20:].encode()})
    docs, reader = read(tmp_path)
    assert [d.text for d in docs] == [RUSSIAN_NOTES[:20] + "\ufffd" + RUSSIAN_NOTES[20:]]
    assert reader.report.warnings == ["notes.txt: 1 byte not valid UTF-8, replaced by U+FFFD"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("café".encode("cp1252"), Decoded("café", "cp1252", 0)),  # no valid multi-byte sequence
        ("naïve café".encode() + b"\xe9", Decoded("naïve café\ufffd", "utf-8-sig", 1)),  # 2 valid, 1 bad
        ("é".encode() + b"\xe9", Decoded("Ã©é", "cp1252", 0)),  # 1 valid, 1 bad: not clearly UTF-8
        (b"\xef\xbb\xbf" + "ё".encode() + b"\xff\xfe", Decoded("ё\ufffd\ufffd", "utf-8-sig", 2)),  # its BOM says UTF-8
        ("Ñ°".encode("cp1252") + b" \x81", Decoded("Ñ° \x81", "latin-1", 0)),  # a chance pair is no majority
    ],
    ids=["cp1252", "utf8-one-bad", "tie", "bom", "latin-1"],
)
def test_text_with_bad_bytes_is_utf8_only_where_its_valid_sequences_clearly_outnumber_them(
    data: bytes, expected: Decoded
) -> None:
    assert decode_text(data) == expected


def test_a_json_line_with_a_stray_byte_keeps_its_text(tmp_path: Path) -> None:
    line = '{"id": "r1", "text": "Пчёлы танцуют у улья."}\n'.encode()
    write_files(tmp_path, {"r.jsonl": line.replace(b"\xd1\x83 ", b"\xd1\x83\xb0 ")})
    docs, reader = read(tmp_path)
    assert [d.text for d in docs] == ["Пчёлы танцуют у\ufffd улья."]
    assert reader.report.warnings == ["r.jsonl: 1 byte not valid UTF-8, replaced by U+FFFD"]


def test_malformed_jsonl_with_strict_names_file_and_line(tmp_path: Path) -> None:
    write_files(tmp_path, {"d.jsonl": '{"id": 1, "text": "ok"}\n{"id": 2, "text": \n'})
    with pytest.raises(InputFormatError, match=r"d\.jsonl:2: invalid JSON"):
        read(tmp_path, strict=True)


def test_malformed_records_are_skipped_by_default(tmp_path: Path) -> None:
    write_files(
        tmp_path, {"d.jsonl": '{"id": 1, "text": "ok"}\nnot json\n{"id": 3, "body": 5}\n{"id": 4, "text": 7}\n'}
    )
    docs, reader = read(tmp_path)
    assert [d.id for d in docs] == ["1"]
    assert [s.path for s in reader.report.skipped] == ["d.jsonl:2", "d.jsonl:3", "d.jsonl:4"]


def test_record_fields_can_be_named(tmp_path: Path) -> None:
    write_files(tmp_path, {"d.jsonl": '{"key": "a", "heading": "T", "passage_text": "words here"}\n'})
    docs, _ = read(tmp_path, fields=RecordFields(id="key", text="passage_text", title="heading"))
    assert (docs[0].id, docs[0].title, docs[0].text) == ("a", "T", "words here")


def test_json_array_and_csv(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "a.json": '[{"id": "x", "text": "first"}, {"text": "no id"}]',
            "b.csv": 'id,title,text\nc1,Title,"multi\nline text"\nc2,,second\n',
        },
    )
    docs, _ = read(tmp_path)
    assert [(d.id, d.text) for d in docs] == [
        ("x", "first"),
        ("a.json#2", "no id"),
        ("c1", "multi\nline text"),
        ("c2", "second"),
    ]


def test_duplicate_ids_keep_the_first(tmp_path: Path) -> None:
    write_files(tmp_path, {"d.jsonl": '{"id": "a", "text": "one"}\n{"id": "a", "text": "two"}\n'})
    docs, reader = read(tmp_path)
    assert [d.text for d in docs] == ["one"]
    assert "duplicate id" in reader.report.skipped[0].reason


def test_two_tables_numbered_alike_are_both_read(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {"fruit.csv": "id,text\n1,apples\n2,pears\n", "vehicles.csv": "id,text\n1,cars\n2,bikes\n1,again\n"},
    )
    docs, reader = read(tmp_path)
    assert [(d.id, d.text) for d in docs] == [
        ("1", "apples"),
        ("2", "pears"),
        ("vehicles.csv#1", "cars"),
        ("vehicles.csv#2", "bikes"),
    ]
    assert [(s.path, s.reason) for s in reader.report.skipped] == [("vehicles.csv:4", "duplicate id '1'")]
    assert [s.shared_ids for s in reader.report.sources] == [0, 2]


def test_beir_folder_reads_only_the_corpus(tmp_path: Path) -> None:
    write_files(
        tmp_path / "beir",
        {
            "corpus.jsonl": '{"_id": "d1", "title": "T", "text": "body"}\n',
            "queries.jsonl": '{"_id": "q1", "text": "question"}\n',
            "qrels/test.tsv": "query-id\tcorpus-id\tscore\nq1\td1\t1\n",
        },
    )
    docs, reader = read(tmp_path)
    assert [d.id for d in docs] == ["d1"]
    assert reader.report.skipped == []
    assert reader.report.warnings == []  # its queries and judgments are the dataset's, not left unread


def test_a_folder_read_as_beir_says_how_many_other_files_it_leaves_unread(tmp_path: Path) -> None:
    """A project that merely holds `corpus.jsonl` and `queries.jsonl` lost its other files in silence."""
    files = {
        "corpus.jsonl": '{"_id": "d1", "text": "honey"}\n',
        "queries.jsonl": '{"_id": "q1", "text": "queens"}\n',
        "qrels/test.tsv": "query-id\tcorpus-id\tscore\nq1\td1\t1\n",
        "notes.md": "# Notes\nImportant notes about queens.\n",
        "docs/guide.txt": "guide about queens\n",
        ".hidden": "never walked",
    }
    write_files(tmp_path / "proj", files)
    docs, reader = read(tmp_path / "proj")
    assert [d.id for d in docs] == ["d1"]
    assert reader.report.warnings == [
        f"{tmp_path / 'proj'}: read as a beir folder: only corpus.jsonl is indexed; 2 other files in it are not "
        "(name one on the command line to index it too)"
    ]


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PathNotFoundError):
        CorpusReader([tmp_path / "nope"])


def test_index_folder_inside_the_corpus_is_excluded(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.txt": "text", "idx/manifest.txt": "not a doc"})
    reader = CorpusReader([tmp_path], exclude=tmp_path / "idx")
    assert [d.id for d in reader.documents()] == ["a.txt"]


def test_overlapping_roots_read_each_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # "ragcli index d d/sub" read d/sub twice: its files skipped as duplicate ids, "from 0 files"
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "d", {"a.txt": "alpha text", "sub/b.txt": "beta text"})
    for roots in (["d", "d/sub"], ["d", "d"], ["d/a.txt", "d"], ["./d", f"{tmp_path}/d/"]):
        reader = CorpusReader([Path(r) for r in roots])
        assert sorted(p.name for p in reader.files()) == ["a.txt", "b.txt"], roots
        report = build_index([Path(r) for r in roots], tmp_path / "index", BuildSettings(rebuild=True))
        assert (report.documents, report.files_read, report.skipped) == (2, 2, []), roots
