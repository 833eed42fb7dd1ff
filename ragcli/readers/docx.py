"""Word documents (.docx): paragraphs, headings and tables as text, one document per file.

Read with python-docx (the `docx` extra), imported only when a .docx is read. Paragraphs and tables
come in document order, with the text Word shows: tracked changes as if accepted (insertions and moves'
new places in, deletions and moves' old places out), inside content controls, simple fields, smart tags
and links, a field's result and never its code. A table becomes one line per row with its cells
separated by tabs (a merged cell once); a table inside a cell, its own lines after that row. Title: the
core properties' title, else the first heading, else the file name.

A .docx is a zip of XML parts: the declared sizes of its parts are checked against
`--max-expanded-size` before anything is unpacked (a zip bomb is skipped with the reason), those of
its XML parts against 1/XML_SHARE of it (the parsed tree takes ~17x the XML), and python-docx's XML
parser resolves no entities. Heading levels come from one pass over the styles (`_heading_levels`), the
text from one pass over the body, without recursion (`_shown`, `_table_lines`). Whatever python-docx,
zipfile or lxml raise on a damaged file skips it as "damaged DOCX (…)".
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from ragcli.readers.base import MAX_BYTES_OPTION, Skip, SourceInput, SuffixReader, format_size, problem
from ragcli.records import Document, Heading

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
_BLOCKS = frozenset({_W + "p", _W + "tbl"})
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


def _paragraph_text(paragraph: Any) -> str:
    """The paragraph's text as Word shows it (a run's text: python-docx's, tabs and breaks included)."""
    return "".join(run.text for run in _shown(paragraph, _RUNS))


def _rows(table: Any) -> Iterator[tuple[list[str], list[Any]]]:
    """Each row's cells (each one line) and the tables inside them. A cell is its own text only: one
    merged across columns is one w:tc, one merged down continues into empty cells (python-docx's
    `row.cells` repeated a cell per column and row it spans, walking up the column for each: a cell
    spanning 100,000,000 columns took 44 s, 2,000 rows merged down 116 s and a RecursionError)."""
    for row in _shown(table, _ROWS):
        cells: list[str] = []
        nested: list[Any] = []
        for cell in _shown(row, _CELLS):
            texts = []
            for block in _shown(cell, _BLOCKS):
                if block.tag == _TABLE:
                    nested.append(block)
                else:
                    texts.append(_paragraph_text(block))
            cells.append(one_line(" ".join(texts)))
        yield cells, nested


def _table_lines(table: Any) -> Iterator[str]:
    """One line per row, cells separated by a tab; a table inside a cell gives its own lines after the
    row that holds it (a stack of tables' rows, not recursion)."""
    pending = [_rows(table)]
    while pending:
        row = next(pending[-1], None)
        if row is None:
            pending.pop()
            continue
        cells, nested = row
        if any(cells):
            yield "\t".join(cells)
        pending.extend(_rows(inner) for inner in reversed(nested))


def _blocks(document: Any) -> tuple[list[str], str | None, list[Heading]]:
    """The document's lines in order, its first heading (None: it has none), and each heading's
    (offset into the lines joined by newlines, level, text): where the chunker cuts it."""
    level_of = _heading_levels(document)
    lines: list[str] = []
    headings: list[Heading] = []
    offset = 0
    for block in _shown(document.element.body, _BLOCKS):
        is_table = block.tag == _TABLE
        found = list(_table_lines(block)) if is_table else [_paragraph_text(block).strip()]
        found = [line for line in found if line]
        level = None if is_table or not found else level_of(block.style)
        if level is not None:
            headings.append((offset, level, one_line(found[0])[:MAX_TITLE_CHARS]))
        for line in found:
            lines.append(line)
            offset += len(line) + 1
    return lines, headings[0][2] if headings else None, headings


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


class DocxReader(SuffixReader):
    name = "docx"
    suffixes = frozenset({".docx"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        try:
            import docx
        except ImportError:
            raise Skip("Word support is not installed (pip install 'ragcli[docx]')") from None
        data = source.read_bytes()
        try:
            check_zip_sizes(data, source)
            document = docx.Document(io.BytesIO(data))
            lines, heading, headings = _blocks(document)
            core_title = one_line(document.core_properties.title or "")[:MAX_TITLE_CHARS]
        except (Skip, MemoryError):
            raise
        except Exception as exc:  # zipfile, lxml and python-docx errors alike, on untrusted bytes
            raise Skip(f"damaged DOCX ({problem(exc)})") from None
        text = "\n".join(lines)
        title = core_title or heading or source.stem
        in_text = not core_title and heading is not None
        yield Document(source.rel, text, title, source.rel, title_in_text=in_text, headings=tuple(headings))


READER = DocxReader()
