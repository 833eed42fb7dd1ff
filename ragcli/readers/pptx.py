"""PowerPoint decks (.pptx): one document per file, one segment per slide, so passages cite their slide.

Read with python-pptx (the `pptx` extra), imported only when a .pptx is read. A slide's text is its
shapes' text in order (groups opened, tables one line per row with tab-separated cells, a chart's
title), then its speaker notes. The slide number is the passage's `page` (`deck.pptx:p3` is slide 3).
Title: the core properties' title, else the first slide's title, else the file name. The zip's
declared sizes are checked against `--max-expanded-size` before anything is unpacked, as for .docx.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from ragcli.readers.base import PagedDocument, Skip, SourceInput, SuffixReader, problem
from ragcli.readers.docx import MAX_TITLE_CHARS, check_zip_sizes, one_line
from ragcli.records import Document


def _shape_lines(shape: Any) -> Iterator[str]:
    if getattr(shape, "shapes", None) is not None:  # a group: its shapes in order
        for inner in shape.shapes:
            yield from _shape_lines(inner)
    if getattr(shape, "has_table", False):
        for row in shape.table.rows:
            cells = [one_line(cell.text) for cell in row.cells]
            if any(cells):
                yield "\t".join(cells)
    if getattr(shape, "has_chart", False) and shape.chart.has_title and shape.chart.chart_title.has_text_frame:
        yield from _frame_lines(shape.chart.chart_title.text_frame)  # the words the chart shows above it
    if getattr(shape, "has_text_frame", False):
        yield from _frame_lines(shape.text_frame)


def _frame_lines(frame: Any) -> Iterator[str]:
    """A text frame's lines: each paragraph, cut at its line breaks (Shift+Enter, which python-pptx
    gives as "\\v"; joining the runs alone glued the words either side), fields' text included."""
    for paragraph in frame.paragraphs:
        for line in paragraph.text.split("\v"):
            if line.strip():
                yield line.strip()


def _slide(slide: Any) -> tuple[str, str | None]:
    """A slide's text (shapes, then speaker notes) and its title (None: it has none)."""
    lines = [line for shape in slide.shapes for line in _shape_lines(shape)]
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        lines.extend(_frame_lines(slide.notes_slide.notes_text_frame))
    title_shape = slide.shapes.title
    title = one_line(title_shape.text_frame.text)[:MAX_TITLE_CHARS] if title_shape is not None else ""
    return "\n".join(lines), title or None


def _damaged(exc: BaseException) -> Skip:
    return Skip(f"damaged PPTX ({problem(exc)})")


class PptxReader(SuffixReader):
    name = "pptx"
    # 2: a line break parts the words either side, a field's text and a chart's title are read
    # (`readers.base.reader_edition`)
    version = 2
    suffixes = frozenset({".pptx"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        try:
            import pptx
        except ImportError:
            raise Skip("PowerPoint support is not installed (pip install 'ragcli[pptx]')") from None
        data = source.read_bytes()
        try:
            check_zip_sizes(data, source)
            deck = pptx.Presentation(io.BytesIO(data))
            slides = list(deck.slides)
            title = one_line(deck.core_properties.title or "")[:MAX_TITLE_CHARS] or None
        except (Skip, MemoryError):
            raise
        except Exception as exc:  # zipfile, lxml and python-pptx errors alike, on untrusted bytes
            raise _damaged(exc) from None
        document = PagedDocument(source, len(slides), title)
        for number, slide in enumerate(slides, start=1):
            try:
                text, slide_title = _slide(slide)
            except MemoryError:
                raise
            except Exception as exc:  # one damaged slide: the others are still read
                source.context.skip_record(f"{source.rel}:p{number}", f"damaged slide ({problem(exc)})")
                continue
            if text.strip():
                yield document.page(number, text, slide_title)


READER = PptxReader()
