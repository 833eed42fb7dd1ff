"""Word documents (.docx): paragraphs, headings and tables as text, one document per file.

Read with python-docx (the `docx` extra), imported only when a .docx is read. Paragraphs and tables
come in document order; a table becomes one line per row with its cells separated by tabs (a merged
cell once). Title: the core properties' title, else the first heading, else the file name.

A .docx is a zip of XML parts: the declared sizes of its parts are checked against
`--max-expanded-size` before anything is unpacked (a zip bomb is skipped with the reason), and
python-docx's XML parser resolves no entities. Whatever python-docx, zipfile or lxml raise on a
damaged file skips it as "damaged DOCX (…)".
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from ragcli.readers.base import Skip, SourceInput, SuffixReader, problem
from ragcli.records import Document, Heading

MAX_TITLE_CHARS = 200


def one_line(text: str) -> str:
    return " ".join(text.split())


def _heading_level(paragraph: Any) -> int | None:
    """The paragraph's heading level from its style: "Title" 0, "Heading N" N (None: not a heading)."""
    try:
        name = paragraph.style.name if paragraph.style is not None else ""
    except (KeyError, AttributeError, ValueError):  # a style the styles part does not define
        return None
    if name == "Title":
        return 0
    if name and name.startswith("Heading"):
        number = name[len("Heading") :].strip()
        return int(number) if number.isdigit() and len(number) < 3 else 1
    return None


def _table_lines(table: Any) -> Iterator[str]:
    """One line per row, cells separated by a tab; a cell merged across columns is given once."""
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(one_line(cell.text))
        if any(cells):
            yield "\t".join(cells)


def _blocks(document: Any) -> tuple[list[str], str | None, list[Heading]]:
    """The document's lines in order, its first heading (None: it has none), and each heading's
    (offset into the lines joined by newlines, level, text): where the chunker cuts it."""
    from docx.table import Table

    lines: list[str] = []
    headings: list[Heading] = []
    offset = 0
    for block in document.iter_inner_content():
        found = list(_table_lines(block)) if isinstance(block, Table) else [block.text.strip()]
        found = [line for line in found if line]
        level = None if isinstance(block, Table) or not found else _heading_level(block)
        if level is not None:
            headings.append((offset, level, one_line(found[0])[:MAX_TITLE_CHARS]))
        for line in found:
            lines.append(line)
            offset += len(line) + 1
    return lines, headings[0][2] if headings else None, headings


def check_zip_sizes(data: bytes, source: SourceInput) -> None:
    """A zip (.docx, .pptx) whose parts would expand past the limit is skipped before a byte is unpacked."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(info.file_size for info in archive.infolist()) > source.context.max_bytes:
            raise Skip(source.too_large())


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
