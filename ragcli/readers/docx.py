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
from ragcli.records import Document

MAX_TITLE_CHARS = 200


def one_line(text: str) -> str:
    return " ".join(text.split())


def _is_heading(paragraph: Any) -> bool:
    try:
        name = paragraph.style.name if paragraph.style is not None else ""
    except (KeyError, AttributeError, ValueError):  # a style the styles part does not define
        return False
    return bool(name) and (name == "Title" or name.startswith("Heading"))


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


def _blocks(document: Any) -> tuple[list[str], str | None]:
    """The document's lines in order, and its first heading (None: it has none)."""
    from docx.table import Table

    lines: list[str] = []
    heading = None
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_lines(block))
            continue
        text = block.text.strip()
        if not text:
            continue
        if heading is None and _is_heading(block):
            heading = one_line(text)[:MAX_TITLE_CHARS]
        lines.append(text)
    return lines, heading


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
            lines, heading = _blocks(document)
            core_title = one_line(document.core_properties.title or "")[:MAX_TITLE_CHARS]
        except (Skip, MemoryError):
            raise
        except Exception as exc:  # zipfile, lxml and python-docx errors alike, on untrusted bytes
            raise Skip(f"damaged DOCX ({problem(exc)})") from None
        text = "\n".join(lines)
        title = core_title or heading or source.stem
        yield Document(source.rel, text, title, source.rel, title_in_text=not core_title and heading is not None)


READER = DocxReader()
