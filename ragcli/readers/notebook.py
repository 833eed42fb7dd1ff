"""Jupyter notebooks (.ipynb): the cells people wrote and the text they printed, not the file's JSON.

Read as raw text, a notebook indexed its JSON keys, escaped newlines and the base64 of every plotted
image (thousands of junk terms). Here a notebook is one document whose text is its cells in order:
Markdown and raw cells as written, code cells' source, then each code cell's text outputs (printed
streams, a result's `text/plain`, an error's name and message, each cut at MAX_OUTPUT_CHARS; images,
HTML and widgets left out, tracebacks too). A Markdown cell that opens with a heading starts a new
section (ATX or setext, as in a .md file), and each section is one segment: passages never run from
one section into the next, and each cites the cell its section starts at as its page
(`analysis.ipynb:p4` is cell 4, counted from 1 over every cell, as Jupyter lists them). Title: as a
Markdown file of the same cells is titled (front matter, in the first cell only; else the first level-1
heading, else the first heading), else the metadata's title, else the file name.

nbformat 4 and the older 3 (cells in `worksheets`, code in `input`) are read. Parsed with the standard
library's json: the format is plain JSON, and nbformat itself (jsonschema validation, upgrades)
would add dependencies and reject notebooks that Jupyter opens.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ragcli.markdown import markdown_headings, without_hidden_markup
from ragcli.readers.base import PagedDocument, Skip, SourceInput, SuffixReader
from ragcli.readers.markup import front_matter, headings_title
from ragcli.records import Document
from ragcli.terminal_text import carriage_returns_overwritten, without_terminal_sequences

MAX_OUTPUT_CHARS = 2_000  # of one output: a printed table or log is kept in part, a progress bar's flood cut
_TEXT_OUTPUTS = ("stream", "execute_result", "display_data", "pyout", "error", "pyerr")


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based, over every cell of the notebook
    kind: str  # markdown, code, raw (nbformat 3: heading too)
    text: str  # the source, then (code) the text outputs


def _joined(value: object) -> str:
    """A multiline field: nbformat stores a list of lines or one string."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(line for line in value if isinstance(line, str))
    return ""


# A display's plain-text form that only names the object (`<IPython.core.display.Markdown object>`,
# `<Figure size 640x480 with 1 Axes>`): Jupyter shows it only where nothing richer can be shown
_OBJECT_REPR = re.compile(r"<[^<>\n]*(?: object| at 0x[0-9a-fA-F]+)>|<Figure size [^<>\n]*>")


def _display_text(data: dict[str, Any]) -> str:
    """What Jupyter shows of a result or display as text: its Markdown (`display(Markdown(…))`, a
    generated report), else its plain-text form, but for an object's name beside a richer form (an
    image, HTML), which is what Jupyter shows instead."""
    if "text/markdown" in data:
        return without_hidden_markup(_joined(data["text/markdown"]))
    plain = _joined(data.get("text/plain"))
    richer = any(mime != "text/plain" for mime in data)
    return "" if richer and _OBJECT_REPR.fullmatch(plain.strip()) else plain


def _output_text(output: object) -> str:
    if not isinstance(output, dict) or output.get("output_type") not in _TEXT_OUTPUTS:
        return ""
    if output["output_type"] in ("error", "pyerr"):
        text = f"{output.get('ename', '')}: {output.get('evalue', '')}".strip(": ")
    elif output["output_type"] == "stream":  # a progress bar's frames as Jupyter shows them, its last
        text = carriage_returns_overwritten(_joined(output.get("text")))  # (all 101 filled the cut)
    else:  # a result or display (nbformat 3 keeps its plain-text form in "text")
        data = output.get("data")
        text = _display_text(data) if isinstance(data, dict) else _joined(output.get("text"))
    text = without_terminal_sequences(text).strip()
    return text[:MAX_OUTPUT_CHARS]


def _cells(notebook: object) -> tuple[list[Cell], int]:
    """The cells with text, and how many cells the notebook has (blank ones too)."""
    if not isinstance(notebook, dict):
        raise Skip("not a Jupyter notebook: the file is not a JSON object")
    raw = notebook.get("cells")
    if raw is None and isinstance(notebook.get("worksheets"), list):  # nbformat 3
        sheets = [sheet.get("cells") for sheet in notebook["worksheets"] if isinstance(sheet, dict)]
        raw = [cell for cells in sheets if isinstance(cells, list) for cell in cells]  # not '"cells": 1'
    if not isinstance(raw, list):
        raise Skip("not a Jupyter notebook: no list of cells")
    cells = []
    for number, cell in enumerate(raw, start=1):
        if not isinstance(cell, dict):
            continue
        kind = str(cell.get("cell_type", ""))
        source = _joined(cell.get("source") if "source" in cell else cell.get("input"))
        if kind == "heading":  # nbformat 3's heading cell: Markdown's heading of that level
            level = cell.get("level")
            depth = max(1, min(level, 6)) if isinstance(level, int) else 1
            source, kind = f"{'#' * depth} {source}", "markdown"
        if kind == "markdown":  # as a Markdown file's text: no comment, script or embedded image's base64
            source = without_hidden_markup(source)
        parts = [without_terminal_sequences(source).strip()]
        outputs = cell.get("outputs")
        if kind == "code" and isinstance(outputs, list):
            parts += [_output_text(output) for output in outputs]
        text = "\n\n".join(part for part in parts if part)
        if text:
            cells.append(Cell(number, kind, text))
    return cells, len(raw)


def _opens_with_heading(cell: Cell) -> bool:
    """Whether a Markdown cell's first line is a heading (ATX `# Title`, or setext: `Title` over `===`)."""
    first = next(markdown_headings(cell.text.split("\n", 2)[:2]), None) if cell.kind == "markdown" else None
    return first is not None and first[0] == 0


def _title(cells: list[Cell]) -> str | None:
    """The title a Markdown file of the same cells would have (`markdown_title`), each cell Markdown of its
    own (a fence left open ends with its cell): front matter only in the first cell (Markdown, or raw as
    Quarto writes it; a `---` rule in a later cell is a rule), else the Markdown cells' headings."""
    texts = [cell.text for cell in cells if cell.kind == "markdown"]
    front = front_matter(cells[0].text) if cells and cells[0].kind in ("markdown", "raw") else None
    if front is not None:
        if front.title:
            return front.title
        if cells[0].kind == "markdown":
            texts[0] = texts[0][front.end :]
    headings = (markdown_headings(text.splitlines()) for text in texts)
    return headings_title((level, heading) for _, level, heading in itertools.chain.from_iterable(headings))


def _sections(cells: list[Cell]) -> Iterator[list[Cell]]:
    """The cells cut before each Markdown cell that opens with a heading."""
    section: list[Cell] = []
    for cell in cells:
        if section and _opens_with_heading(cell):
            yield section
            section = []
        section.append(cell)
    if section:
        yield section


class NotebookReader(SuffixReader):
    name = "notebook"
    # 2: titled as a Markdown file (no heading in an HTML comment, front matter in the first cell only), a
    # setext heading opening a section (`readers.base.reader_edition`: read again once); 3: a lone "\r" is
    # JSON's white space, not a terminal's overwrite; 4: a title's `<br>` a space, as a Markdown file's; 5: a
    # Markdown cell's comments, <script>/<style> blocks and data: URIs left out, as a Markdown file's; 6: a
    # stream's "\r" overwrites its line, as in Jupyter (a progress bar's frames hid the output after them);
    # 7: a display's Markdown read, an object's name beside an image or HTML (`<Figure size …>`) left out;
    # 8: only the comments CommonMark hides left out (a `<!--` in prose or a code span is text), as a file's
    version = 8
    suffixes = frozenset({".ipynb"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        text = source.read_text(lone_cr_breaks=True)
        try:
            notebook = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Skip(f"not a Jupyter notebook: invalid JSON at line {exc.lineno} ({exc.msg})") from None
        cells, count = _cells(notebook)
        metadata = notebook.get("metadata")
        named = metadata.get("title") if isinstance(metadata, dict) else None
        heading = _title(cells)
        title = heading or (named.strip() if isinstance(named, str) and named.strip() else None)
        document = PagedDocument(source, count, title)
        for section in _sections(cells):
            yield document.page(section[0].number, "\n\n".join(cell.text for cell in section))


READER = NotebookReader()
