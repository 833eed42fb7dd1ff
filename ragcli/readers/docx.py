"""Word documents (.docx; .docm, .dotx and .dotm are the same format): paragraphs, headings, tables
and notes as text, one document per file.

Read with python-docx (the `docx` extra), imported only when a .docx is read. Paragraphs and tables
come in document order, with the text Word shows: tracked changes as if accepted (insertions and moves'
new places in, deletions and moves' old places out), inside content controls, simple fields, smart tags
and links, a field's result and never its code. A table becomes one line per row with its cells
separated by tabs (a merged cell once); a table inside a cell, its own lines after that row. Title: the
core properties' title, else the first heading, else the file name.

Beside the body: footnotes and endnotes are the author's text, each read once after the paragraph or
table row that refers to it ("Footnote: …", `_Notes`); headers and footers, page furniture, once each
after the body ("Header: …", `_headers_and_footers`); text boxes after the paragraph that anchors them
(`_text_boxes`); content imported from another file (w:altChunk: HTML, MHT, plain text) where it stands
(`_Chunks`). Comments are reviewers' notes on a draft (a question, a doubt, "fix this"), not what the
document says: an answer citing one would put a reviewer's words in the author's mouth, so they are not
read, as pandoc leaves them out unless asked.

A .docx is a zip of XML parts: the declared sizes of its parts are checked against
`--max-expanded-size` before anything is unpacked (a zip bomb is skipped with the reason), those of
its XML parts (notes and headers included) against 1/XML_SHARE of it (the parsed tree takes ~17x the
XML), and python-docx's XML parser resolves no entities. Heading levels come from one pass over the
styles (`_heading_levels`), the text from one pass over the body, without recursion (`_shown`,
`_table_lines`). A damaged or missing note, header, footer or comments part leaves the body read, with
a warning for what is lost (`_open`, `_story_root`); whatever python-docx, zipfile or lxml raise on a
damaged body skips the file as "damaged DOCX (…)". A file saved with a password, or an old binary
.doc, is no zip but an OLE compound file: skipped with what to do (`compound_file_reason`).
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from ragcli.readers.base import (
    MAX_BYTES_OPTION,
    Skip,
    SourceInput,
    SuffixReader,
    decode_text,
    format_size,
    labelled,
    page_furniture,
    problem,
    universal_newlines,
)
from ragcli.readers.mail import DECODE_ERRORS as MESSAGE_ERRORS
from ragcli.readers.mail import body_text
from ragcli.readers.markup import html_declared_charset, html_text
from ragcli.readers.wide import wide_codec
from ragcli.records import Document, Heading
from ragcli.terminal_text import without_terminal_sequences

MAX_TITLE_CHARS = 200


def one_line(text: str) -> str:
    return " ".join(text.split())


def _heading_level(name: str) -> int | None:
    """A paragraph style's heading level from its name: "Title" 0, "Heading N" N (None: not a heading)."""
    if name == "Title":
        return 0
    if name.startswith("Heading"):
        number = name[len("Heading") :].strip()
        return int(number) if number.isdigit() and len(number) < 3 else 1
    return None


def _heading_levels(document: Any) -> Callable[[str | None], int | None]:
    """Style id → heading level, from one pass over the styles part, resolved as python-docx's
    `paragraph.style` resolves it (the first style with the id; the default paragraph style when the
    id is missing, unknown or not a paragraph style). `paragraph.style` itself scans every style for
    each paragraph: 2,000 paragraphs and 20,000 styles took over a minute."""
    from docx.oxml.ns import qn
    from docx.styles import BabelFish  # "heading 1" in styles.xml is "Heading 1" in Word

    found: dict[str, tuple[bool, int | None]] = {}  # style id → (a paragraph style?, its level)
    default = None
    for style in document.styles.element.iterchildren(qn("w:style")):
        name = style.find(qn("w:name"))
        paragraph = style.get(qn("w:type")) == "paragraph"
        level = _heading_level(BabelFish.internal2ui(name.get(qn("w:val"), "") if name is not None else ""))
        found.setdefault(style.get(qn("w:styleId")) or "", (paragraph, level))
        if paragraph and style.get(qn("w:default")) in ("1", "true", "on"):
            default = level  # the last default, as the specification says
    levels = {style_id: level if paragraph else default for style_id, (paragraph, level) in found.items() if style_id}
    return lambda style_id: levels.get(style_id or "", default)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_ALT_CHUNK = _W + "altChunk"  # another file's content, imported where it stands (`_Chunks`)
_BLOCKS = frozenset({_W + "p", _W + "tbl", _ALT_CHUNK})
_TABLE = _W + "tbl"
_ROWS = frozenset({_W + "tr"})
_CELLS = frozenset({_W + "tc"})
_RUNS = frozenset({_W + "r"})
# The elements whose content Word shows in place: content controls, tracked insertions and a move's new
# place, simple fields (their result), smart tags, custom XML, links, bidirectional runs. Not among them:
# tracked deletions (w:del) and a move's old place (w:moveFrom). A complex field's code is a run's
# w:instrText, which a run's text leaves out; its result is ordinary runs.
_SHOWN_INSIDE = frozenset(
    _W + name
    for name in ("sdt", "sdtContent", "ins", "moveTo", "fldSimple", "smartTag", "customXml", "hyperlink", "dir", "bdo")
)


def _shown(parent: Any, wanted: frozenset[str]) -> Iterator[Any]:
    """The `wanted` elements inside `parent` in document order, looking inside the elements whose content
    Word shows (_SHOWN_INSIDE) and passing over the rest. python-docx's own accessors see only direct
    children (a paragraph's runs and links, a body's paragraphs and tables). A stack, not recursion:
    each element is visited once, however deep."""
    stack = [iter(parent)]
    while stack:
        for child in stack[-1]:
            if child.tag in wanted:
                yield child
            elif child.tag in _SHOWN_INSIDE:
                stack.append(iter(child))
                break
        else:
            stack.pop()


_NOTE_REFERENCES = frozenset({_W + "footnoteReference", _W + "endnoteReference"})


def _paragraph_text(paragraph: Any, references: list[Any]) -> str:
    """The paragraph's text as Word shows it (a run's text: python-docx's, tabs and breaks included);
    the footnote and endnote references among its runs are added to `references`."""
    texts = []
    for run in _shown(paragraph, _RUNS):
        texts.append(run.text)
        references.extend(child for child in run if child.tag in _NOTE_REFERENCES)
    return "".join(texts)


def _rows(table: Any, chunks: _Chunks | None) -> Iterator[tuple[list[str], list[Any], list[Any]]]:
    """Each row's cells (each one line), the tables inside them and the note references they hold. A
    cell is its own text only: one merged across columns is one w:tc, one merged down continues into
    empty cells (python-docx's `row.cells` repeated a cell per column and row it spans, walking up the
    column for each: a cell spanning 100,000,000 columns took 44 s, 2,000 rows merged down 116 s and a
    RecursionError)."""
    for row in _shown(table, _ROWS):
        cells: list[str] = []
        nested: list[Any] = []
        references: list[Any] = []
        for cell in _shown(row, _CELLS):
            texts = []
            for block in _shown(cell, _BLOCKS):
                if block.tag == _TABLE:
                    nested.append(block)
                elif block.tag == _ALT_CHUNK:
                    texts += chunks.lines(block) if chunks is not None else []
                else:
                    texts.append(_paragraph_text(block, references))
            cells.append(one_line(" ".join(texts)))
        yield cells, nested, references


class _Notes:
    """The footnotes and endnotes of a document, each given once, after the line that holds its first
    reference (as pandoc's --reference-location=block places them): a note stays in the passage of
    the sentence it annotates, and the sentence stays whole. A note no reference shows (one whose
    reference was deleted, a separator) is not read, nor is one referred to again: a long note named
    from every paragraph of a hostile file is given once."""

    def __init__(self, stories: dict[str, dict[str, Any]] | None = None) -> None:
        self._stories = stories or {}  # reference tag → note id → the w:footnote or w:endnote element
        self._given: set[tuple[str, str]] = set()

    def lines(self, references: list[Any]) -> Iterator[str]:
        for reference in references:
            key = (reference.tag, reference.get(_W + "id") or "")
            note = self._stories.get(key[0], {}).get(key[1])
            if note is None or key in self._given:
                continue
            self._given.add(key)
            found = [line for line, _ in _lines(note, _Notes(), None)]  # a note holds no notes
            yield from labelled(_NOTE_LABELS[key[0]], found)


_NOTE_LABELS = {_W + "footnoteReference": "Footnote", _W + "endnoteReference": "Endnote"}


def _table_lines(table: Any, notes: _Notes, chunks: _Chunks | None) -> Iterator[str]:
    """One line per row, cells separated by a tab, then the notes the row refers to; a table inside a
    cell gives its own lines after the row that holds it (a stack of tables' rows, not recursion)."""
    pending = [_rows(table, chunks)]
    while pending:
        row = next(pending[-1], None)
        if row is None:
            pending.pop()
            continue
        cells, nested, references = row
        if any(cells):
            yield "\t".join(cells)
        yield from notes.lines(references)
        pending.extend(_rows(inner, chunks) for inner in reversed(nested))


_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_MHT_TYPES = frozenset({"message/rfc822", "multipart/related", "application/x-mimearchive"})
_TEXT_TYPES = frozenset({"text/plain"})


class _Chunks:
    """The text of the chunks a part imports (w:altChunk: another file's content kept as a part of its
    own, which Word converts into the document where the element stands when it opens it; tools that
    write Word files from HTML put whole documents there). HTML is read as the HTML reader reads a page
    (`markup.html_text`), MHT (a page saved as a MIME message) as a message's body (`mail.body_text`),
    plain text as it is; a chunk of another kind (RTF, a Word document) is left out with a warning. Each
    chunk is read once, however often it is placed, as a note is."""

    def __init__(self, part: Any, warn: Callable[[str], None]) -> None:
        self._part = part
        self._warn = warn
        self._given: set[str] = set()

    def lines(self, chunk: Any) -> list[str]:
        """The lines, none empty, of the chunk an altChunk element places (none: given before, or
        not read)."""
        from lxml import etree

        part = self._part.related_parts.get(chunk.get(_R + "id") or "")
        if part is None:  # a relationship to nothing shows nothing in Word either
            return []
        name = str(part.partname).lstrip("/")
        if name in self._given:  # by part, not by relationship: many may name one part
            return []
        self._given.add(name)
        content_type = str(part.content_type).partition(";")[0].strip().lower()
        try:
            text = _chunk_text(part.blob, content_type, lambda said: self._warn(f"an imported chunk ({name}): {said}"))
        except MemoryError:
            raise
        except Skip as skip:  # a message the mail reader would skip: this chunk only is lost
            text, why = None, f"cannot be read: {skip}"
        except (*MESSAGE_ERRORS, etree.LxmlError) as exc:
            text, why = None, f"cannot be read: {problem(exc)}"
        else:
            why = f"is {content_type}; HTML, MHT and plain text are read"
        if text is None:
            self._warn(f"an imported chunk is not indexed ({name} {why})")
            return []
        return [line.strip() for line in without_terminal_sequences(text).splitlines() if line.strip()]


def _chunk_text(data: bytes, content_type: str, warn: Callable[[str], None]) -> str | None:
    """The text of an imported chunk of this content type, or None for a kind that is not read."""
    if content_type in _MHT_TYPES:
        return body_text(data, warn)
    if content_type in _HTML_TYPES:
        page = _decoded(data, html_declared_charset(data))
        return html_text(universal_newlines(page).encode("utf-8")).text
    if content_type in _TEXT_TYPES:
        return universal_newlines(_decoded(data, None))
    return None


def _decoded(data: bytes, declared: str | None) -> str:
    """Bytes of unknown encoding as text: UTF-16 or UTF-32 by its byte-order mark, else as every text
    file is decoded (`decode_text`: UTF-8, the charset `declared`, then the legacy 8-bit encodings)."""
    wide = wide_codec(data)
    return data.decode(wide) if wide is not None else decode_text(data, declared).text


_TEXT_BOX = _W + "txbxContent"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _text_boxes(paragraph: Any) -> Iterator[Any]:
    """The text boxes anchored in a paragraph (a shape's w:txbxContent; one inside another too), in
    document order. Word writes each box twice, as DrawingML in mc:Choice and as VML in mc:Fallback for
    older readers: the fallback copy is passed over, as pandoc does, so a box is read once."""
    for box in paragraph.iter(_TEXT_BOX):
        if next(box.iterancestors(_FALLBACK), None) is None:
            yield box


def _lines(story: Any, notes: _Notes, chunks: _Chunks | None, boxes: bool = True) -> Iterator[tuple[str, Any]]:
    """A story's (the body's, a note's, a header's) lines in order, none empty, each with the paragraph
    it is the text of (None: a table's row, a note's line, a text box's or an imported chunk's). A
    paragraph's text boxes (call-outs, sidebars, a letterhead's address) follow its own line;
    `boxes=False` for a box's own lines, as `_text_boxes` of the paragraph that anchors a box already
    found the boxes inside it. `chunks` reads the imported chunks of the story's part (None: a note's,
    whose chunks are not read)."""
    for block in _shown(story, _BLOCKS):
        references: list[Any] = []
        if block.tag == _TABLE:
            yield from ((line, None) for line in _table_lines(block, notes, chunks))
            continue
        if block.tag == _ALT_CHUNK:
            yield from ((line, None) for line in (chunks.lines(block) if chunks is not None else []))
            continue
        text = _paragraph_text(block, references).strip()
        if text:
            yield text, block
        yield from ((line, None) for line in notes.lines(references))
        if boxes:
            for box in _text_boxes(block):
                yield from ((line, None) for line, _ in _lines(box, notes, chunks, boxes=False))


def _blocks(document: Any, notes: _Notes, chunks: _Chunks) -> tuple[list[str], str | None, list[Heading]]:
    """The document's lines in order, its first heading (None: it has none), and each heading's
    (offset into the lines joined by newlines, level, text): where the chunker cuts it."""
    level_of = _heading_levels(document)
    lines: list[str] = []
    headings: list[Heading] = []
    offset = 0
    for line, paragraph in _lines(document.element.body, notes, chunks):
        level = None if paragraph is None else level_of(paragraph.style)
        if level is not None:
            headings.append((offset, level, one_line(line)[:MAX_TITLE_CHARS]))
        lines.append(line)
        offset += len(line) + 1
    return lines, headings[0][2] if headings else None, headings


_NOTE_PARTS = (  # relationship type, the part's root, a note's element, the reference to one
    ("footnotes", "footnotes", "footnote", "footnoteReference"),
    ("endnotes", "endnotes", "endnote", "endnoteReference"),
)
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def _story_root(part: Any, root: str, kind: str, warn: Callable[[str], None]) -> Any | None:
    """The root element of a part that should hold a story of Word's (w:footnotes, w:hdr…), parsed as
    python-docx parses the body (no entities; python-docx loads footnotes and endnotes unparsed).
    None, with a warning, when it is damaged: the rest of the file is still read."""
    from docx.oxml.parser import parse_xml
    from lxml import etree

    try:
        element = getattr(part, "element", None)
        element = parse_xml(part.blob) if element is None else element
        if element.tag != _W + root:
            raise ValueError(f"its root is {_prefixed(element.tag)}, not w:{root}")
    except (etree.LxmlError, ValueError) as exc:
        reason = problem(exc) if isinstance(exc, etree.LxmlError) else str(exc)
        warn(not_indexed(kind, str(part.partname).lstrip("/"), f"is damaged: {reason}"))
        return None
    return element


def not_indexed(kind: str, part_name: str, why: str) -> str:
    """A warning that part `part_name` of `kind` (footnotes, a header, a PowerPoint chart…) is left out."""
    what = f"the {kind} are" if kind.endswith("s") else f"a {kind} is"
    return f"{what} not indexed ({part_name} {why})"


def _prefixed(tag: str) -> str:
    return tag.replace(_W, "w:") if isinstance(tag, str) else repr(tag)


def _notes(document: Any, warn: Callable[[str], None]) -> _Notes:
    """The document's footnotes and endnotes by reference. A document without the part has no notes of
    its kind, silently (a reference to nothing shows nothing in Word either); a damaged part gives none,
    with a warning, and the rest of the file is read."""
    stories: dict[str, dict[str, Any]] = {}
    for relationship, root, element, reference in _NOTE_PARTS:
        part = next(
            (
                rel.target_part
                for rel in document.part.rels.values()
                if rel.reltype == _RELATIONSHIPS + relationship and not rel.is_external
            ),
            None,
        )
        if part is None:
            continue
        notes = _story_root(part, root, relationship, warn)
        if notes is None:
            continue
        stories[_W + reference] = {
            note.get(_W + "id") or "": note
            for note in notes.iterchildren(_W + element)
            if note.get(_W + "type") in (None, "normal")  # not the separators Word draws above the notes
        }
    return _Notes(stories)


_PAGE_FURNITURE = (  # a section's reference to one, its label, the part's root
    (_W + "headerReference", "Header", "hdr"),
    (_W + "footerReference", "Footer", "ftr"),
)


def _headers_and_footers(document: Any, warn: Callable[[str], None]) -> list[str]:
    """The text of the headers and footers the sections show, each distinct one once, for the lines
    after the body (`readers.base.page_furniture`), as LlamaIndex's and unstructured's Word readers keep
    them. A damaged one is left out with a warning."""
    body = document.element.body
    wanted: dict[str, list[str]] = {reference: [] for reference, _, _ in _PAGE_FURNITURE}  # → relationship ids
    for section in body.iter(_W + "sectPr"):
        parent = section.getparent()  # a section's properties: the body's last, or a paragraph's (a break)
        if parent is not body and (parent.tag != _W + "pPr" or parent.getparent().tag != _W + "p"):
            continue  # a tracked change's old properties, which Word no longer shows
        for reference in section:
            if reference.tag in wanted:
                wanted[reference.tag].append(reference.get(_R + "id") or "")

    def stories() -> Iterator[tuple[str, list[str]]]:
        for reference, label, root in _PAGE_FURNITURE:
            for part in dict.fromkeys(document.part.related_parts.get(rid) for rid in wanted[reference]):  # once each
                story = None if part is None else _story_root(part, root, label.lower(), warn)
                if story is not None:
                    yield label, [line for line, _ in _lines(story, _Notes(), _Chunks(part, warn))]

    return page_furniture(stories())


_SET_ASIDE = ("footnotes", "endnotes", "header", "footer", "comments")  # beside the body
_PARSED_ON_OPEN = tuple(f".wordprocessingml.{kind}+xml" for kind in ("header", "footer", "comments"))
_DOCUMENT_RELATIONSHIPS = "word/_rels/document.xml.rels"


def _open(data: bytes, warn: Callable[[str], None]) -> Any:
    """The python-docx document. python-docx parses headers, footers and comments as it opens a file,
    and opens no file one of whose relationships names a part the zip lacks: when it fails, the file
    is opened again with those parts set aside (`_set_aside`), so that a damaged or missing one leaves
    the body read (the reader parses the headers and footers it reads itself, and warns of a damaged
    one; comments are not read). If that fails too, the file is damaged: the first error says why."""
    import docx

    try:
        data = _as_document(data)
        return docx.Document(io.BytesIO(data))
    except MemoryError:
        raise
    except Exception as exc:  # zipfile, lxml and python-docx errors alike, on untrusted bytes
        first = exc
    try:
        repaired, missing = _set_aside(data)
        document = docx.Document(io.BytesIO(repaired))
    except MemoryError:
        raise
    except Exception:
        raise first from None
    for kind, name in missing:
        if kind != "comments":
            warn(not_indexed(kind, name, "is missing"))
    return document


_DOCUMENT_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
# The main part's content type in the other files of the .docx format: a macro-enabled document (.docm), a
# template (.dotx), a macro-enabled template (.dotm). Their XML is a document's; their macros are a binary
# part (word/vbaProject.bin) that nothing here runs, nor reads.
_OTHER_MAINS = frozenset(
    {
        "application/vnd.ms-word.document.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
        "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
    }
)


# What each Office Open XML format's main part is typed as (its content type's start), for a file named
# with another format's suffix: python-docx's "file '<_io.BytesIO object at 0x…>' is not a Word file"
# named no format and leaked a memory address into the reason.
_OFFICE_FORMATS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.": ("a Word document", ".docx"),
    "application/vnd.ms-word.": ("a Word document", ".docx"),
    "application/vnd.openxmlformats-officedocument.presentationml.": ("a PowerPoint deck", ".pptx"),
    "application/vnd.ms-powerpoint.": ("a PowerPoint deck", ".pptx"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.": ("an Excel workbook", ".xlsx"),
    "application/vnd.ms-excel.": ("an Excel workbook", ".xlsx"),
}


MAX_CONTENT_TYPES = 1 << 20  # a package's [Content_Types].xml lists its parts: Word's is ~2 KB


def office_format(data: bytes) -> tuple[str, str] | None:
    """(what it is, its suffix) of an Office Open XML file, by its main part's content type; None for
    another zip, or a file that is no zip or whose [Content_Types].xml does not parse."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if archive.getinfo("[Content_Types].xml").file_size > MAX_CONTENT_TYPES:
                return None  # a bomb, not a package: any zip under a text name is asked (`base.binary_reason`)
            types = _parsed(archive.read("[Content_Types].xml"))
    except Exception:  # no package: the reader's own error says why
        return None
    mains = (str(override.get("ContentType", "")) for override in types)
    main = next((kind for kind in mains if kind.endswith(".main+xml")), "")
    return next((found for start, found in _OFFICE_FORMATS.items() if main.startswith(start)), None)


def check_format(data: bytes, suffix: str) -> None:
    """Skip, saying what the file is and to rename it, an Office file of another format than `suffix`'s."""
    found = office_format(data)
    if found is not None and found[1] != suffix:
        raise Skip(f"{found[0]} named {suffix}: rename it {found[1]}")


def _as_document(data: bytes) -> bytes:
    """The file with the main part of a macro-enabled document or a template typed as a document's, as
    python-docx opens nothing else ("not a Word file"); a .docx comes back as it is."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        types = _parsed(archive.read("[Content_Types].xml"))
    others = [override for override in types if override.get("ContentType") in _OTHER_MAINS]
    if not others:
        return data
    for override in others:
        override.set("ContentType", _DOCUMENT_MAIN)
    return _zipped({**zip_parts(data), "[Content_Types].xml": _xml_bytes(types)})


def _zipped(parts: dict[str, bytes]) -> bytes:
    """A zip of these parts, stored: it is read back at once."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, part in parts.items():
            archive.writestr(name, part)
    return out.getvalue()


def _set_aside(data: bytes) -> tuple[bytes, list[tuple[str, str]]]:
    """The file with the relationships to missing notes, headers, footers and comments removed and the
    headers, footers and comments typed as plain XML (python-docx loads those unparsed), and the
    (kind, part name) of each missing part. Only the main document's relationships, where Word writes
    them, are looked at."""
    parts = zip_parts(data)
    missing = []
    if _DOCUMENT_RELATIONSHIPS in parts:
        relationships = _parsed(parts[_DOCUMENT_RELATIONSHIPS])
        for relationship in list(relationships):
            kind = str(relationship.get("Type", "")).rpartition("/")[2]
            target = str(relationship.get("Target", ""))
            name = target.lstrip("/") if target.startswith("/") else posixpath.normpath("word/" + target)
            if kind in _SET_ASIDE and relationship.get("TargetMode") != "External" and name not in parts:
                relationships.remove(relationship)
                missing.append((kind, name))
        parts[_DOCUMENT_RELATIONSHIPS] = _xml_bytes(relationships)
    return repackaged(parts, lambda name, content_type: content_type.endswith(_PARSED_ON_OPEN)), missing


def zip_parts(data: bytes) -> dict[str, bytes]:
    """A .docx's or .pptx's parts by name (the sizes were checked first: `check_zip_sizes`)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def repackaged(parts: dict[str, bytes], unparsed: Callable[[str, str], bool]) -> bytes:
    """The zip of `parts`, with each part for which `unparsed(part name, content type)` holds typed as
    plain XML in [Content_Types].xml: python-docx and python-pptx load such a part unparsed, so that a
    damaged one no longer stops the file opening."""
    types = _parsed(parts["[Content_Types].xml"])
    for override in types:
        name = str(override.get("PartName", "")).lstrip("/")
        if unparsed(name, str(override.get("ContentType", ""))):
            override.set("ContentType", "application/xml")
    return _zipped({**parts, "[Content_Types].xml": _xml_bytes(types)})


def _parsed(xml: bytes) -> Any:
    """The root of a package's own XML (content types, relationships), parsed as python-docx and
    python-pptx parse it: no entities resolved."""
    from lxml import etree

    return etree.fromstring(xml, etree.XMLParser(resolve_entities=False))


def _xml_bytes(element: Any) -> bytes:
    from lxml import etree

    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True))


# The XML parts may expand to 1/XML_SHARE of --max-expanded-size (16 MiB at the default 256 MiB): lxml's
# tree, with python-docx's proxies, takes ~17x the XML's size (a 0.75 MB .docx holding 250 MB of
# document.xml peaked at 4.4 GB), so 16 MiB of XML keeps a file under ~300 MB. A 500-page book's
# document.xml is a few MB; pictures and other binary parts are bounded by the whole limit only.
XML_SHARE = 16
_XML_STARTS = (b"<", b" ", b"\t", b"\r", b"\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00<")


def _is_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the part may be XML: by its first bytes, since python-docx and python-pptx pick a part's
    parser by its declared content type, whatever its name (a "picture.png" may be parsed as XML)."""
    with archive.open(info) as part:
        head = part.read(4)
    return not head or head.startswith(_XML_STARTS)


def check_zip_sizes(data: bytes, source: SourceInput) -> None:
    """A zip (.docx, .pptx) whose parts would expand past the limit, or whose XML parts past their
    share of it (XML_SHARE), is skipped before a byte is parsed."""
    limit = source.context.max_bytes
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = archive.infolist()
        if sum(info.file_size for info in parts) > limit:
            raise Skip(source.too_large())
        xml = sum(info.file_size for info in parts if _is_xml(archive, info))
    if xml > limit // XML_SHARE:
        raise Skip(
            f"XML parts expand to {format_size(xml)}, more than the XML limit of {format_size(limit // XML_SHARE)}"
            f" (1/{XML_SHARE} of {MAX_BYTES_OPTION}; raise it to read the file)"
        )


# An OLE compound file (MS-CFB), not a zip: what Word saves a .docx with a password as (the zip encrypted
# inside, MS-OFFCRYPTO's EncryptionInfo and EncryptedPackage streams), and its old binary format (.doc,
# a WordDocument stream). Told apart by the names of its streams, which its directory holds in UTF-16.
COMPOUND_FILE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _stream_named(data: bytes, name: str) -> bool:
    return (name + "\x00").encode("utf-16-le") in data


def compound_file_reason(data: bytes) -> str:
    """Why a Word file that is an OLE compound file is not read, and what to do (like a PDF's
    "encrypted PDF (needs a password)"): python-docx reads zips only, and "damaged DOCX (BadZipFile…)"
    sent the user looking for damage that is not there."""
    if _stream_named(data, "EncryptedPackage"):
        return "encrypted Word file (needs a password: save it without one)"
    if _stream_named(data, "WordDocument"):
        return "old-format Word file (a .doc: save it as .docx)"
    return "encrypted or old-format Word file (save it as .docx without a password)"


class DocxReader(SuffixReader):
    name = "docx"
    # 2: notes, headers, footers and text boxes read; 3: imported chunks read (`readers.base.reader_edition`:
    # read again once); 4: an imported HTML chunk read as the HTML reader's version 5 reads a page (a closed
    # <dialog> left out, an <img> a word break); 5: an imported MHT chunk in a charset Python lacks read as
    # the mail reader's version 6 reads one (it was left out)
    version = 5
    # a macro-enabled document, a template and a macro-enabled template are .docx files too (`_as_document`)
    suffixes = frozenset({".docx", ".docm", ".dotx", ".dotm"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        try:
            import docx  # noqa: F401  (whether the extra is installed)
        except ImportError:
            raise Skip("Word support is not installed (pip install 'ragcli[docx]')") from None
        data = source.read_bytes()
        if data.startswith(COMPOUND_FILE_MAGIC):
            raise Skip(compound_file_reason(data))
        warnings: list[str] = []  # given once the file is read: a damaged file is skipped, not warned of
        try:
            check_zip_sizes(data, source)
            check_format(data, ".docx")
            document = _open(data, warnings.append)
            notes = _notes(document, warnings.append)
            lines, heading, headings = _blocks(document, notes, _Chunks(document.part, warnings.append))
            lines += _headers_and_footers(document, warnings.append)
            core_title = one_line(document.core_properties.title or "")[:MAX_TITLE_CHARS]
        except (Skip, MemoryError):
            raise
        except Exception as exc:  # zipfile, lxml and python-docx errors alike, on untrusted bytes
            raise Skip(f"damaged DOCX ({problem(exc)})") from None
        for warning in warnings:
            source.context.warn(f"{source.rel}: {warning}")
        text = "\n".join(lines)
        title = core_title or heading or source.stem
        in_text = not core_title and heading is not None
        yield Document(source.rel, text, title, source.rel, title_in_text=in_text, headings=tuple(headings))


READER = DocxReader()
