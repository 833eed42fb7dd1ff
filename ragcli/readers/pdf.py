"""PDF files (.pdf): one document per file, one segment per page, so passages cite their page.

Read with pypdf (the `pdf` extra), chosen over pdfminer.six and pypdfium2 after measuring them on real
PDFs (`bench/pdf_libraries.py`, BENCHMARKS.md): the three gave back the same words; pypdfium2 was 5-12x
faster, pdfminer.six 2-9x slower than pypdf. pypdf is pure Python, so a hostile file can only raise an
exception (skipped with the reason) or hit pypdf's own decompression limits, never crash the process in
native code, and it needs no binary wheel. It is imported only when a PDF is read.

A word a typesetter hyphenated at a line end ("infor-" / "mation") is indexed whole as well as in its
halves (`Document.typeset_lines`, `chunking.rejoined_words`); the text shown and cited is the page's.

Each page with text becomes a segment of the file's document (same id, `continuation` for later pages,
ordinals and offsets carried on, `page` = its 1-based number), so chunking never lets a passage straddle
two pages. Only one page's text is held at a time and pypdf's cache of parsed objects is emptied after
each page; one stream may inflate to at most STREAM_LIMIT; the file's bytes go through
`SourceInput.read_bytes`, bounded by `--max-expanded-size`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ragcli.readers.base import PagedDocument, Skip, SourceInput, SuffixReader, format_size, problem
from ragcli.records import Document

if TYPE_CHECKING:
    import pypdf

INSTALL_HINT = "pip install 'ragcli[pdf]'"
NO_TEXT_LAYER = "no text layer — scanned?"
MAX_TITLE_CHARS = 200
HEADER_WINDOW = 1024  # PDF readers accept "%PDF-" anywhere in the first KiB
STREAM_LIMIT = 32 << 20  # the most one stream (a page's content, an object stream) may inflate to
# The most a page's decoded content (its content streams and the forms it names) may hold for its text
# to be extracted: pypdf's extract_text is super-linear in a page's text operators (here 0.4 MB took
# 1.2 s, 1.6 MB 10 s, 6.4 MB past a minute), while a page of dense text takes tens of KB. A page past it
# is left out with the reason; the others are read.
PAGE_CONTENT_LIMIT = 2 << 20
# The most pages of a file that may repeat an earlier page's content (decoded, with its forms): pages may
# share one content stream, so a 121 KB file of 20,001 pages cost 2 minutes and 20,002 passages of one text.
# Bounded by repeats, not pages, so a long book of its own pages is still read; a book repeats a page
# rarely ("this page intentionally left blank"), and a page without text (a scan's `/Im0 Do`) never counts.
MAX_REPEATED_PAGES = 1000
_LIMITED = (  # pypdf's settings (pypdf.Configuration) bounding what one stream inflates to
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "brotli_maximum_output_length",
    "array_based_stream_maximum_output_length",
    "maximum_declared_stream_length",
)


@contextmanager
def _guarded(source: SourceInput) -> Iterator[None]:
    """Around every pypdf call: a stream may inflate to at most STREAM_LIMIT bytes (pypdf's own
    default, 75 MB a stream, lets a 1 MB file of 20 pages hold 1 GB of content and take minutes), and
    what pypdf repairs, reported through `logging` and `warnings`, never reaches the user's terminal
    (ragcli prints only through its renderer)."""
    import pypdf

    logger = logging.getLogger("pypdf")
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    limit = min(STREAM_LIMIT, source.context.max_bytes)
    limited = pypdf.get_configuration().with_overwrites(**dict.fromkeys(_LIMITED, limit))
    with warnings.catch_warnings(), pypdf.apply_configuration(limited):
        warnings.simplefilter("ignore")
        yield


class _Collected(logging.Handler):
    """Keeps the messages of the records it is handed, for a reason; prints nothing."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the message: its text as written
            message = str(record.msg)
        self.messages.append(message)


@contextmanager
def _decoding_problems() -> Iterator[list[str]]:
    """What pypdf reports about the streams it decodes meanwhile (warnings and errors of its `filters`
    logger), for the page being read: a zlib error in a page's content is logged, not raised, and the
    page comes back without text, so the problem is only known from the log. Scoped to the page, and
    kept off the terminal like everything else pypdf logs (`_guarded`)."""
    logger = logging.getLogger("pypdf.filters")
    handler = _Collected()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _damaged(exc: BaseException) -> Skip:
    return Skip(f"damaged PDF ({problem(exc)})")


def _metadata_title(reader: pypdf.PdfReader) -> str | None:
    """The info dictionary's /Title where it is a text string: pypdf hands back whatever object it is
    (a dictionary's repr, with memory addresses, was the title indexed with every passage); any other
    object is ignored, the title then taken from the first line."""
    from pypdf.generic import TextStringObject

    try:
        title = reader.metadata.title if reader.metadata is not None else None
    except Exception:  # a damaged info dictionary: the title comes from the text instead
        return None
    title = " ".join(title.split()) if isinstance(title, TextStringObject) else ""
    return title[:MAX_TITLE_CHARS] or None


def _first_line(text: str) -> str | None:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return " ".join(line.split()) if 0 < len(line) <= MAX_TITLE_CHARS else None


def _open(source: SourceInput) -> pypdf.PdfReader:
    """The PDF opened (and decrypted with the empty password if it is encrypted), or Skip with why."""
    try:
        import pypdf
    except ImportError:
        raise Skip(f"PDF support is not installed ({INSTALL_HINT})") from None
    from pypdf.errors import DependencyError, FileNotDecryptedError

    data = source.read_bytes()
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        raise Skip("not a PDF (no %PDF- header)")
    try:
        with _guarded(source):
            reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
                raise Skip("encrypted PDF (needs a password)")
    except (DependencyError, NotImplementedError) as exc:  # an encryption pypdf cannot undo here
        raise Skip(f"encrypted PDF that cannot be opened ({problem(exc)})") from None
    except FileNotDecryptedError:
        raise Skip("encrypted PDF (needs a password)") from None
    except (Skip, MemoryError):
        raise
    except Exception as exc:  # pypdf on hostile bytes raises its own errors and plain Python ones alike
        raise _damaged(exc) from None
    return reader


def _page_count(reader: pypdf.PdfReader) -> int:
    try:
        return len(reader.pages)
    except MemoryError:
        raise
    except Exception as exc:  # a damaged page tree
        raise _damaged(exc) from None


def _contents(page: pypdf.PageObject) -> Iterator[bytes]:
    """The bytes extract_text would parse: the page's decoded content, and that of the form XObjects
    its resources name (each once)."""
    contents = page.get_contents()
    if contents is not None:
        yield contents.get_data()
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    for xobject in xobjects.get_object().values() if xobjects is not None else ():
        form = xobject.get_object()
        if form.get("/Subtype") == "/Form":
            yield form.get_data()


def _measured(page: pypdf.PageObject) -> tuple[int, bytes]:
    """The size of the page's content (`_contents`) and its digest, which tells a page repeating another's."""
    size, digest = 0, hashlib.sha256()
    for data in _contents(page):
        size += len(data)
        digest.update(data)
    return size, digest.digest()


class _Repeats:
    """The pages of one file that repeat an earlier text page's content: past MAX_REPEATED_PAGES the file
    is skipped (the same text again and again, each page extracted anew)."""

    def __init__(self) -> None:
        self.seen: set[bytes] = set()
        self.count = 0

    def note(self, digest: bytes, text: str | None) -> None:
        if not text:  # a page without text costs little, and scans repeat one content on every page
            return
        if digest not in self.seen:
            self.seen.add(digest)
            return
        self.count += 1
        if self.count > MAX_REPEATED_PAGES:
            raise Skip(f"too many pages (more than {MAX_REPEATED_PAGES:,} repeat an earlier page's content)")


def _page_text(reader: pypdf.PdfReader, number: int, source: SourceInput, repeats: _Repeats) -> str | None:
    """The text of page `number` (1-based), or None when pypdf cannot extract it (reported, not fatal).
    A page without text whose content pypdf could not decode (it logs that, and goes on) is damaged,
    not blank: a file of such pages is a damaged PDF, not a scan."""
    where = f"{source.rel}:p{number}"
    try:
        with _decoding_problems() as problems:
            page = reader.pages[number - 1]
            size, digest = _measured(page)
            if size > PAGE_CONTENT_LIMIT:
                limit = format_size(PAGE_CONTENT_LIMIT)
                reason = f"content stream larger than {limit} (text extraction slows down past it)"
                source.context.skip_record(where, reason)
                return None
            text = page.extract_text().replace("\x00", "")
    except MemoryError:
        raise
    except RecursionError:
        source.context.skip_record(where, "damaged page (nested too deeply)")
        return None
    except Exception as exc:  # one damaged page: the others are still read
        source.context.skip_record(where, f"damaged page ({problem(exc)})")
        return None
    if problems and not text.strip():  # a page that decodes with a problem but has text is kept
        source.context.skip_record(where, f"damaged page ({problems[0][:200]})")
        return None
    repeats.note(digest, text)
    return text


class PdfReader(SuffixReader):
    name = "pdf"
    # 2: a word hyphenated at a line end is indexed whole too (`Document.typeset_lines`;
    # `readers.base.reader_edition`: read again once); 3: a metadata /Title that is no text string ignored
    version = 3
    suffixes = frozenset({".pdf"})

    def read(self, source: SourceInput) -> Iterator[Document]:
        reader = _open(source)
        with _guarded(source):
            pages = _page_count(reader)
            title = _metadata_title(reader)
        document = PagedDocument(source, pages, title, typeset_lines=True)
        failed = extracted = 0
        repeats = _Repeats()
        for number in range(1, pages + 1):
            with _guarded(source):
                text = _page_text(reader, number, source, repeats)
            reader.resolved_objects.clear()  # pypdf's cache of parsed objects: memory stays one page's
            failed += text is None
            # the file's text, all pages together, is bounded like any file's bytes: pages may share one
            # content stream (a 5 KB file of 10 pages gave 16 MB of text)
            extracted += len(text or "")
            if extracted > source.context.max_bytes:
                raise Skip(source.too_large())
            if text and text.strip():  # a blank page (or an image) has nothing to cite
                yield document.page(number, text, _first_line(text))
        if failed and not document.started:
            raise Skip(f"damaged PDF (none of its {pages} pages could be read)")
        if not document.started:
            raise Skip(NO_TEXT_LAYER if pages else "damaged PDF (no pages)")


READER = PdfReader()
