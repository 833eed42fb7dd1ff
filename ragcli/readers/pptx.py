"""PowerPoint decks (.pptx): one document per file, one segment per slide, so passages cite their slide.

Read with python-pptx (the `pptx` extra), imported only when a .pptx is read. A slide's text is its
shapes' text in order (groups opened, tables one line per row with tab-separated cells, a chart's
title), then its speaker notes. The slide number is the passage's `page` (`deck.pptx:p3` is slide 3).
Title: the core properties' title, else the first slide's title, else the file name. The zip's
declared sizes are checked against `--max-expanded-size` before anything is unpacked, as for .docx.

A damaged chart or notes part leaves the slides read, with a warning naming the part (`_open`), as
does a chart whose part the zip lacks (`_chart`) or one of another root element (`_kept`); a damaged
slide is skipped with the reason and the others are read; whatever python-pptx, zipfile or lxml raise
on the rest of a damaged deck skips the file as "damaged PPTX (…)".
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from ragcli.readers.base import PagedDocument, Skip, SourceInput, SuffixReader, problem
from ragcli.readers.docx import (
    MAX_TITLE_CHARS,
    check_format,
    check_zip_sizes,
    not_indexed,
    one_line,
    repackaged,
    zip_parts,
)
from ragcli.records import Document

Warn = Callable[[str], None]


class _Beside(NamedTuple):
    """A kind of part python-pptx parses as it opens a deck that the slides' text does without."""

    content_type: str  # how its content type ends
    attribute: str  # what python-pptx reads it into, on its part
    root: str  # its root element, qualified as the specification writes it
    namespace: str


_BESIDE_THE_SLIDES = {  # what a damaged one loses → the kind of part
    "chart": _Beside(
        ".drawingml.chart+xml", "chart", "c:chartSpace", "http://schemas.openxmlformats.org/drawingml/2006/chart"
    ),
    "speaker notes": _Beside(
        ".presentationml.notesSlide+xml",
        "notes_slide",
        "p:notes",
        "http://schemas.openxmlformats.org/presentationml/2006/main",
    ),
}


def _open(data: bytes, warn: Warn) -> Any:
    """The python-pptx deck. python-pptx parses every chart and notes part as it opens a deck, and one
    that is not XML stopped the whole file: when opening fails, the deck is opened again with the chart
    and notes parts that do not parse typed as plain XML, which python-pptx loads unparsed, so that their
    slides are read without them (`_kept`), with a warning naming each. If that fails too, the deck is
    damaged elsewhere: the first error says why."""
    import pptx

    try:
        return pptx.Presentation(io.BytesIO(data))
    except MemoryError:
        raise
    except Exception as exc:  # zipfile, lxml and python-pptx errors alike, on untrusted bytes
        first = exc
    left_out: list[str] = []
    try:
        parts = zip_parts(data)
        repaired = repackaged(parts, lambda name, content_type: _damaged_part(parts, name, content_type, left_out))
        deck = pptx.Presentation(io.BytesIO(repaired))
    except MemoryError:
        raise
    except Exception:
        raise first from None
    for warning in left_out:
        warn(warning)
    return deck


def _damaged_part(parts: dict[str, bytes], name: str, content_type: str, left_out: list[str]) -> bool:
    """Whether part `name` is a chart or notes part that does not parse (a warning added to `left_out`)."""
    from lxml import etree
    from pptx.oxml import parse_xml  # python-pptx's own parser: no entities resolved

    kind = next(
        (kind for kind, beside in _BESIDE_THE_SLIDES.items() if content_type.endswith(beside.content_type)), None
    )
    if kind is None or name not in parts:
        return False
    try:
        parse_xml(parts[name])
    except (etree.LxmlError, ValueError) as exc:
        left_out.append(not_indexed(kind, name, f"is damaged: {problem(exc)}"))
        return True
    return False


def _kept(part: Any, kind: str, warn: Warn) -> Any | None:
    """What python-pptx read part `part` of `kind` into (a chart, a notes slide), or None: the part was
    set aside as damaged when the deck was opened (`_open` warned of it: loaded unparsed, it has no such
    attribute), or its root element is another (warned of here: python-pptx reads it as if it were)."""
    from lxml import etree

    beside = _BESIDE_THE_SLIDES[kind]
    found = getattr(part, beside.attribute, None)
    if found is None:
        return None
    tag = etree.QName(found.element)
    if tag != etree.QName(beside.namespace, beside.root.partition(":")[2]):
        root = f"{found.element.prefix}:{tag.localname}" if found.element.prefix else tag.localname
        warn(not_indexed(kind, str(part.partname).lstrip("/"), f"is damaged: its root is {root}, not {beside.root}"))
        return None
    return found


def _chart(shape: Any, warn: Warn) -> Any | None:
    """The chart in a graphic frame, or None (warned of): its part is damaged or missing."""
    try:
        part = shape.chart_part
    except KeyError:  # python-pptx drops a relationship to a part the zip lacks
        warn(not_indexed("chart", str(shape.part.partname).lstrip("/"), "names a part the file lacks"))
        return None
    return _kept(part, "chart", warn)


def _shape_lines(shape: Any, warn: Warn) -> Iterator[str]:
    if getattr(shape, "shapes", None) is not None:  # a group: its shapes in order
        for inner in shape.shapes:
            yield from _shape_lines(inner, warn)
    if getattr(shape, "has_table", False):
        for row in shape.table.rows:
            cells = [one_line(cell.text) for cell in row.cells]
            if any(cells):
                yield "\t".join(cells)
    if getattr(shape, "has_chart", False):
        chart = _chart(shape, warn)
        if chart is not None and chart.has_title and chart.chart_title.has_text_frame:
            yield from _frame_lines(chart.chart_title.text_frame)  # the words the chart shows above it
    if getattr(shape, "has_text_frame", False):
        yield from _frame_lines(shape.text_frame)


def _frame_lines(frame: Any) -> Iterator[str]:
    """A text frame's lines: each paragraph, cut at its line breaks (Shift+Enter, which python-pptx
    gives as "\\v"; joining the runs alone glued the words either side), fields' text included."""
    for paragraph in frame.paragraphs:
        for line in paragraph.text.split("\v"):
            if line.strip():
                yield line.strip()


def _notes_lines(slide: Any, warn: Warn) -> Iterator[str]:
    """The lines of a slide's speaker notes (none when its notes part is damaged: warned of)."""
    from pptx.opc.constants import RELATIONSHIP_TYPE

    if not slide.has_notes_slide:
        return
    part = slide.part.part_related_by(RELATIONSHIP_TYPE.NOTES_SLIDE)
    notes = _kept(part, "speaker notes", warn)
    if notes is not None and notes.notes_text_frame is not None:
        yield from _frame_lines(notes.notes_text_frame)


def _slide(slide: Any, warn: Warn) -> tuple[str, str | None]:
    """A slide's text (shapes, then speaker notes) and its title (None: it has none)."""
    lines = [line for shape in slide.shapes for line in _shape_lines(shape, warn)]
    lines.extend(_notes_lines(slide, warn))
    title_shape = slide.shapes.title
    title = one_line(title_shape.text_frame.text)[:MAX_TITLE_CHARS] if title_shape is not None else ""
    return "\n".join(lines), title or None


def _damaged(exc: BaseException) -> Skip:
    return Skip(f"damaged PPTX ({problem(exc)})")


class PptxReader(SuffixReader):
    name = "pptx"
    # 2: a line break parts the words either side, a field's text and a chart's title are read;
    # 3: a damaged chart or notes part, or a missing chart, leaves the slides read
    # (`readers.base.reader_edition`)
    version = 3
    suffixes = frozenset({".pptx"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        try:
            import pptx  # noqa: F401  (whether the extra is installed)
        except ImportError:
            raise Skip("PowerPoint support is not installed (pip install 'ragcli[pptx]')") from None
        data = source.read_bytes()
        warnings: list[str] = []  # given once the deck is open: a damaged deck is skipped, not warned of
        try:
            check_zip_sizes(data, source)
            check_format(data, ".pptx")
            deck = _open(data, warnings.append)
            slides = list(deck.slides)
            title = one_line(deck.core_properties.title or "")[:MAX_TITLE_CHARS] or None
        except (Skip, MemoryError):
            raise
        except Exception as exc:  # zipfile, lxml and python-pptx errors alike, on untrusted bytes
            raise _damaged(exc) from None

        def warn(message: str) -> None:
            source.context.warn(f"{source.rel}: {message}")

        for warning in warnings:
            warn(warning)
        document = PagedDocument(source, len(slides), title)
        for number, slide in enumerate(slides, start=1):
            try:
                text, slide_title = _slide(slide, warn)
            except MemoryError:
                raise
            except Exception as exc:  # one damaged slide: the others are still read
                source.context.skip_record(f"{source.rel}:p{number}", f"damaged slide ({problem(exc)})")
                continue
            if text.strip():
                yield document.page(number, text, slide_title)


READER = PptxReader()
