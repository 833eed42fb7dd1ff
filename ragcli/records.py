"""The plain data every stage passes on: documents, passages, hits, skips, and the core payload names.

This module sits at the bottom of the house: it imports nothing of ragcli's but its errors, so readers,
chunking, the store, retrievers, generators and the CLI can all share these records without import cycles.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import json
import math
import re
import unicodedata
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import islice
from numbers import Integral, Real
from typing import Any, overload

from ragcli.errors import InvalidOptionError

JsonObject = dict[str, Any]  # a JSON object as json.loads gives it (manifest sections, reports)

# Payloads every index has (each retriever names its own payload beside these).
PASSAGES_FILE = "passages.joblib"
TERMS_FILE = "terms.joblib"
COUNTS_FILE = "counts.joblib"
METADATA_FILE = "metadata.joblib"  # document metadata (retrieval/metadata.py); absent in older indexes

# How an index folder is recognised (the store writes them; the corpus walk skips such folders).
INDEX_FORMAT = "ragcli-index"  # the manifest's "format"
INDEX_MANIFEST = "manifest.json"
INDEX_MARKER = ".ragcli-index"  # a marker file an index folder may hold
INDEX_LOCK = "lock"


Heading = tuple[int, int, str]  # (offset into a document's text, level, the heading's text)
MAX_HEADING_LEVEL = 6  # the deepest level a heading is given (HTML's h6): readers cap theirs at it


def mtime_text(mtime_ns: int) -> str:
    """A file's modification time as its documents' `mtime` metadata: ISO 8601 UTC, to the second
    (whole seconds, so a copied document and a re-read one agree)."""
    moment = _dt.datetime.fromtimestamp(mtime_ns // 1_000_000_000, _dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Document:
    """One unit of the corpus: a file, or one record of a JSON/JSONL/CSV file."""

    id: str
    text: str
    title: str
    path: str  # source file, relative to the indexed root: what citations show
    line: int = 1  # line of the source file where `text` begins
    title_in_text: bool = False  # the title was taken from the text itself (a heading)
    # (offset into `text`, source line) where the text's line breaks are not the source's: an offset cites
    # the line of the last entry at or before it (HTML maps each of its source lines; `same_line` makes the
    # whole text cite one line). None: `line` plus the line breaks of the text before the offset
    line_map: Sequence[tuple[int, int]] | None = None
    offset: int = 0  # where `text` starts in the whole document (a streamed segment of a huge file)
    first_ordinal: int = 0  # number of the segment's first passage within the document
    continuation: bool = False  # a later segment of a document already seen
    page: int = 0  # 1-based page of a paged source (PDF) where `text` lies; 0: the source has no pages
    # (offset into `text`, level 1-6, heading) of each heading the reader found (HTML's h1-h6, Word's
    # Heading styles): the chunker cuts the text there. None: the reader has none to give (a Markdown
    # text's headings are found by the chunker itself)
    headings: tuple[Heading, ...] | None = None
    # its lines were broken by a typesetter (a PDF's page): a word hyphenated at a line end ("infor-" /
    # "mation") is also indexed whole (`chunking.rejoined_words`); the text itself stays as printed
    typeset_lines: bool = False
    # what the document is, for filters (`--where`) and `info`: path, format, size, mtime, record fields,
    # SQL columns, page count… JSON scalars only (str, int, float, bool)
    metadata: dict[str, str | int | float | bool] = field(default_factory=dict)

    def line_at(self, offset: int, previous: tuple[int, int] | None = None) -> int:
        """The source line that holds character `offset` of `text`.

        `previous` is an earlier (offset, line) answer: counting on from it keeps chunking a long
        document linear instead of quadratic.
        """
        if self.line_map:
            index = bisect.bisect_right(self.line_map, offset, key=lambda item: item[0]) - 1
            return self.line_map[max(index, 0)][1]
        start, line = previous if previous is not None and previous[0] <= offset else (0, self.line)
        return line + self.text.count("\n", start, offset)


class LineMap(Sequence[tuple[int, int]]):
    """A `Document.line_map` kept in two arrays of machine integers, 16 bytes an entry where a list of
    (offset, line) tuples takes about 120: HTML maps every source line of its text, and one <pre> of a
    page may hold millions of lines."""

    def __init__(self) -> None:
        self.offsets = array("q")
        self.lines = array("q")

    def append(self, offset: int, line: int) -> None:
        self.offsets.append(offset)
        self.lines.append(line)

    def extend(self, offsets: Iterable[int], lines: Iterable[int]) -> None:
        """Add (offset, line) entries pairwise; `lines` may run on past `offsets` (a count)."""
        added = array("q", offsets)
        self.offsets.extend(added)
        self.lines.extend(islice(lines, len(added)))

    def __len__(self) -> int:
        return len(self.offsets)

    @overload
    def __getitem__(self, index: int) -> tuple[int, int]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[int, int]]: ...

    def __getitem__(self, index: int | slice) -> tuple[int, int] | list[tuple[int, int]]:
        if isinstance(index, slice):
            return list(zip(self.offsets[index], self.lines[index]))
        return self.offsets[index], self.lines[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]  # mutable, as a list


def same_line(line: int) -> list[tuple[int, int]]:
    """A `Document.line_map` citing `line` for every offset: for a text whose line breaks are not its
    file's (a JSON string's escaped "\\n", an encoded e-mail body, RTF's paragraphs), so that no passage
    cites a line counted in the text, which would be another line of the file, or none."""
    return [(0, line)]


@dataclass(frozen=True)
class Passage:
    """A window of a document: the unit of retrieval and of a generator's context."""

    doc_id: str
    ordinal: int  # 0-based position of the passage within its document
    title: str
    path: str
    line: int
    start: int
    end: int
    text: str
    index_text: str  # what the analyzer sees: the title is repeated where the text lacks it
    page: int = 0  # 1-based page of a paged source (PDF, slides) the passage lies on; 0: no pages

    @property
    def id(self) -> str:
        return f"{self.doc_id}#{self.ordinal}"


def composed(text: str) -> str:
    """`text` in NFC, the form names, ids and values are compared in: macOS writes file names decomposed
    ("e" + a combining accent) and people type them composed, which look alike and compared unequal."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class Hit:
    """One retrieved passage, with everything needed to show and cite it."""

    rank: int
    score: float
    id: str
    doc_id: str
    title: str
    path: str
    line: int
    start: int
    end: int
    text: str
    page: int | None = None  # 1-based page of a paged source (PDF, slides); None: the source has no pages
    # the document's metadata: filled by `Index.with_metadata` (`query --json` does), else empty
    metadata: dict[str, str | int | float | bool] = field(default_factory=dict)
    # passages of the same text ranked below this one, folded into it by a distinct search
    # (`retrieval.distinct`): another file holds it too
    copies: tuple[Hit, ...] = ()
    # the build of the index it was read from ("": unknown, a hit made by hand): `Index.with_metadata`
    # reads that build's metadata or refuses, never a later build's (a mix of two builds)
    generation: str = field(default="", repr=False, compare=False)
    # the folder of that index, resolved ("": unknown): a hit of another index is told apart from one of
    # a replaced build of this index (build names alone cannot say which)
    index_dir: str = field(default="", repr=False, compare=False)

    @property
    def citation(self) -> str:
        """Where to look: `report.pdf:p3` for a paged source, else `notes.md:12` (the line)."""
        return f"{self.path}:p{self.page}" if self.page else f"{self.path}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        """Every field but the build's name and folder (the index's own business); the copies as their
        citations (their text is this hit's)."""
        record = asdict(replace(self, copies=()))
        del record["generation"], record["index_dir"]
        return {**record, "copies": [copy.citation for copy in self.copies]}


# Where a skip reason's particulars start ("damaged PDF (…)", "not a list of records: …"), and the values
# it names as repr writes them ("duplicate id '7'", "field 'text' is not a string")
_PARTICULARS = re.compile(r":| \(")
_QUOTED_VALUE = re.compile(r""" ?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")(?=$|[ ,;])""")


def reason_kind(reason: str) -> str:
    """A skip reason without its particulars, to count reasons by: "duplicate id" for every duplicate id
    whatever the id, "damaged PDF" for "damaged PDF (PdfReadError: …)", "field is not a string" for
    "field 'text' is not a string"."""
    general = _PARTICULARS.split(_QUOTED_VALUE.sub("", reason), maxsplit=1)[0].strip()
    return general or reason


@dataclass
class Skipped:
    """A file, record or folder that was not indexed, and why."""

    path: str
    reason: str
    record: bool = False  # a record or database row left out of a file that was read, not a whole file
    # an entry standing for a file's skipped records past those listed: how many, by kind of reason
    unlisted: dict[str, int] = field(default_factory=dict)

    @classmethod
    def counted(cls, path: str, counted: Mapping[str, int], what: str) -> Skipped:
        """One entry standing for many skipped records of file `path`, counted by kind, most first (then
        by name): "1,200 {what} (1,000 empty text and no title, 200 invalid JSON)". The walk's entry for
        the records past those listed and a re-index's for a file reused unread say it alike."""
        kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0])))
        return cls(path, f"{sum(counted.values()):,} {what} ({kinds})", record=True, unlisted=dict(counted))

    def kinds(self) -> dict[str, int]:
        """How many records (or files) this entry stands for, by kind of reason (`reason_kind`)."""
        return dict(self.unlisted) if self.unlisted else {reason_kind(self.reason): 1}

    def to_dict(self) -> dict[str, Any]:
        """As `index --json` lists it."""
        return {"path": self.path, "reason": self.reason, **({"unlisted": self.unlisted} if self.unlisted else {})}


@dataclass
class SourceFile:
    """A file that was read: its content hash decides whether a re-index must read it again."""

    path: str
    sha256: str
    size: int
    documents: int = 0
    skipped: str | None = None  # why it yielded no document (binary, no text), remembered for re-runs
    # records of the file left out, counted by kind of reason ("empty text": 3); remembered so that
    # `evaluate` can say what a cached index of a BEIR corpus left out
    skipped_records: dict[str, int] = field(default_factory=dict)
    # records kept under a qualified id (`<file>#<id>`) because a file read before held theirs: what they
    # are called depends on the other files, so a re-index that changes any file reads this one again
    shared_ids: int = 0
    # it could not be opened or read (permission denied, an I/O error): remembered as skipped, and tried
    # again when its status changes too (its ctime: chmod, chown and ACLs leave its size and mtime alone)
    unreadable: bool = False
    reader: str = ""  # the reader that read it, and its version (`readers.base.reader_edition`)
    # its modification and status-change times when it was opened (None: unknown), recorded with its hash:
    # taken after the read, an edit made meanwhile would sit beside the old content's hash, unseen
    mtime_ns: int | None = None
    ctime_ns: int | None = None
    inode: int | None = None  # compared with them: another file renamed to its name has another one
    # what reading it warned of (a legacy encoding, rows left out): reported again while it is reused unread
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SearchOptions:
    """Query-time knobs of the retrievers that have any (the fusion ones); one place for the defaults."""

    rrf_k: int = 60  # reciprocal rank fusion's k (Cormack et al., 2009)
    dense_weight: float = 0.5  # z-score fusion: the dense list's weight (the lexical list gets 1 - it)
    fusion_depth: int = 1000  # passages each fused retriever contributes

    def __post_init__(self) -> None:
        """Refused here, not only by the CLI's options (which take these limits): a k of -1 or less divides
        by zero or turns reciprocal rank fusion around, a weight outside [0, 1] a list's z-scores."""
        for name, least in (("rrf_k", MIN_RRF_K), ("fusion_depth", 1)):
            value = getattr(self, name)
            if not isinstance(value, Integral) or value < least:
                raise InvalidOptionError(f"SearchOptions {name} must be an integer >= {least}, not {value!r}")
        weight: object = self.dense_weight  # the API's callers may give anything
        low, high = DENSE_WEIGHT_RANGE
        if not isinstance(weight, Real) or not low <= float(weight) <= high:
            raise InvalidOptionError(
                f"SearchOptions dense_weight must be a number from {low} to {high}, not {weight!r}"
            )


MIN_RRF_K = 1  # the least `--rrf-k`
DENSE_WEIGHT_RANGE = (0.0, 1.0)  # `--dense-weight`'s bounds


def json_text(data: Any, indent: int | None = None) -> str:
    """`data` as JSON every parser reads: a number that is not finite (a score from extreme BM25
    parameters, a metric of nothing) is null, never Python's `Infinity` or `NaN`; a lone surrogate (a
    path's byte that was not UTF-8, kept by Python as a surrogate escape: byte E9 is U+DCE9), which UTF-8
    cannot hold, is a \\u escape (`\\udce9`), as JavaScript's JSON.stringify and Python's json.dumps write
    it: valid UTF-8, and the same name back (`json.loads` then `open` or `os.fsencode`), where U+FFFD
    made `caf\\xe9.txt` and `caf\\xe8.txt` one name that opens neither; the line separators JSON leaves raw
    but line readers split at (U+2028, U+2029, U+0085: Python's str.splitlines, JavaScript before ES2019)
    are \\u escapes, so a JSON Lines record stays one line."""
    try:
        text = json.dumps(data, ensure_ascii=False, indent=indent, allow_nan=False)
    except ValueError:  # rare: only then is the data walked
        text = json.dumps(_finite(data), ensure_ascii=False, indent=indent, allow_nan=False)
    text = text.translate(_LINE_SEPARATOR_ESCAPES)  # raw only inside strings, where an escape means the same
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # raw only inside strings, like the separators
        return _SURROGATE_RE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return text


_LINE_SEPARATOR_ESCAPES = {ord(c): f"\\u{ord(c):04x}" for c in "\u2028\u2029\x85"}
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """`text` with each lone surrogate (a path's bytes that were not UTF-8, JSON's "\\ud800"), which no
    encoder can write, replaced by U+FFFD."""
    return _SURROGATE_RE.sub("\ufffd", text)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
