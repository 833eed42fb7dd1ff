"""Filters that restrict retrieval before the top k: `--path GLOB` and `--where KEY OP VALUE`.

A `Filter` becomes one boolean mask over the index's passages (`Filter.mask`), which `Index` applies
to every retriever's candidates before it cuts the top k (and which the fusion retrievers apply to
each list before fusing). A passage outside the mask is never returned, not even with score 0, and
when fewer passages match than k, fewer come back: a mask of scores is not a filter.

- `--path` globs (repeatable: any may match) match the passage's path as cited, relative to the
  indexed root; `**` spans folders. A glob without `/` matches the file name at any depth
  (`*.md`), as ripgrep's and .gitignore's do. Matching is wcmatch's (GLOBSTAR, BRACE, MATCHBASE).
- `--where` conditions (repeatable: all must hold) compare a document metadata key with a value:
  `=`, `!=`, `>=`, `<=`, `>`, `<`. A value that reads as a number compares as a number (with values
  stored as numbers or as text that reads as one), an ISO 8601 date or time as a point in time (naive
  times are UTC), anything else as text (booleans are `true` / `false`). A bare year or year-month
  (`2024`, `2024-06`) compares the date values as that period, in UTC (`mtime>=2024`: from 2024 on;
  `mtime=2024-06`: in June 2024), and the other values as above. A document without the key
  never matches, `!=` included (as SQL's NULL).

Hand-written: the condition grammar and the comparisons are a few lines; the globbing is wcmatch's.
"""

from __future__ import annotations

import datetime as _dt
import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ragcli.errors import InvalidOptionError, listed
from ragcli.readers.selection import check_glob
from ragcli.records import composed
from ragcli.retrieval.metadata import MetadataTable, as_number

if TYPE_CHECKING:
    from ragcli.store import StringTable

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "!=": operator.ne,
    "=": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}
_CONDITION_RE = re.compile(r"^\s*([^=!<>]*?)\s*(>=|<=|!=|==|=|>|<)\s*(.*?)\s*$", re.DOTALL)
# any fractional digits (.NET's `Get-Date -Format o` writes 7; past 6 they are cut), `t` and `z` in any case
_DATE_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE
)
_PERIOD_RE = re.compile(r"^\d{4}(?:-(?:0[1-9]|1[0-2]))?$")  # a year or a year-month: compared with dates as a period
_MONTH_SHAPE_RE = re.compile(r"^\d{4}-\d{2}$")  # written as a year-month, whether or not the month exists
DATE_KEYS = frozenset({"mtime"})  # the keys ragcli itself stores as dates (other keys may hold any text)
_ORDERING = frozenset({">=", "<=", ">", "<"})
DATE_HINT = "a date is YYYY-MM-DD, with a month 01 to 12 and a day the month has: e.g. --where mtime>=2024-06-15"
GLUED_HINT = "--where cannot match a value that starts with =, !, < or >"
PATHS_HINT = "paths=['*.md'], one glob per entry (as --path once per glob)"
WHERE_LIST_HINT = "where=['format=markdown'], one condition per entry (as --where once per condition)"
WHERE_HINT = (
    "write KEY=VALUE, or KEY!=, KEY>=, KEY<=, KEY>, KEY< VALUE (e.g. --where format=markdown --where size>=1000)"
)


def period_of(moment: _dt.datetime, length: int) -> str:
    """The year (`length` 4) or year-month (7) of an aware time in UTC, as `YYYY` or `YYYY-MM`."""
    utc = moment.astimezone(_dt.timezone.utc)
    return f"{utc.year:04d}-{utc.month:02d}"[:length]


def meant_operator(glued: str) -> str:
    """The operator a run of operator characters (`=>`, `!==`, `<>`) was most likely meant as."""
    chars = set(glued)
    if "!" in chars or {"<", ">"} <= chars:
        return "!="
    if ">" in chars or "<" in chars:
        return (">" if ">" in chars else "<") + ("=" if "=" in chars else "")
    return "="


def as_time(text: str) -> _dt.datetime | None:
    """An ISO 8601 date or date-time as an aware datetime (naive: UTC), or None."""
    text = text.strip().upper()
    if not _DATE_RE.match(text):
        return None
    whole, dot, fraction = text.partition(".")
    if dot:  # microseconds at most: the digits past 6 cut, as Python 3.11's fromisoformat does
        digits = len(fraction) - len(fraction.lstrip("0123456789"))
        text = f"{whole}.{fraction[: min(digits, 6)]}{fraction[digits:]}"
    try:
        value = _dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)


@dataclass(frozen=True)
class Condition:
    """One `--where`: a metadata key, an operator and the value to compare with."""

    key: str
    op: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Condition:
        match = _CONDITION_RE.match(text)
        if match is None or not match.group(1):
            raise InvalidOptionError(f"--where {text!r}: not a condition", hint=WHERE_HINT)
        key, op, value = match.groups()
        rest = value.lstrip("=!<>")
        glued = op + value[: len(value) - len(rest)]
        if glued != op:  # `author=>ann` read as `author = '>ann'`: matched nothing, and said nothing
            meant = f"{key}{meant_operator(glued)}{rest.lstrip()}"
            raise InvalidOptionError(
                f"--where {text!r}: {glued!r} is not an operator; did you mean {meant!r}?", hint=GLUED_HINT
            )
        if not value and op not in ("=", "==", "!="):
            raise InvalidOptionError(f"--where {text!r}: nothing to compare with after {op!r}", hint=WHERE_HINT)
        return cls(key, "=" if op == "==" else op, value)

    def __post_init__(self) -> None:
        # `mtime>2026-13-45` compared as text, and matched nothing (or the wrong documents) without a word;
        # `part=2024-15` is a code compared as text, and a record may hold it
        meant_as_date = self.key in DATE_KEYS or self.op in _ORDERING
        shaped = _DATE_RE.match(self.value) or _MONTH_SHAPE_RE.match(self.value)
        if meant_as_date and shaped and as_time(self.value) is None and not _PERIOD_RE.match(self.value):
            raise InvalidOptionError(f"--where {str(self)!r}: {self.value!r} is no date there is", hint=DATE_HINT)

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.value}"

    def value_test(self, table: MetadataTable, value_ids: np.ndarray) -> np.ndarray:
        """Which of the (distinct) value ids satisfy the condition. A bare year or year-month
        (`mtime>=2024`) compares the dates among the values as that period: as a number it matched
        no date, and as text `2024-06-15 > 2024-06`."""
        ok = self._value_test(table, value_ids)
        if _PERIOD_RE.match(self.value):
            compare = OPERATORS[self.op]
            for i, value_id in enumerate(value_ids.tolist()):
                moment = as_time(table.value_text[int(value_id)])
                if moment is not None:
                    ok[i] = compare(period_of(moment, len(self.value)), self.value)
        return ok

    def _value_test(self, table: MetadataTable, value_ids: np.ndarray) -> np.ndarray:
        """`value_test` as a number, a point in time or a text, by what the condition's value reads as."""
        compare = OPERATORS[self.op]
        number = as_number(self.value)
        if not math.isnan(number):
            numbers = table.value_number[value_ids]
            with np.errstate(invalid="ignore"):
                ok: np.ndarray = np.asarray(compare(numbers, number), dtype=bool) & ~np.isnan(numbers)
            if self.op in ("=", "!="):  # a value that is no number differs from every number
                ok |= np.isnan(numbers) & (self.op == "!=")
            return ok
        moment = as_time(self.value)
        texts = [table.value_text[int(v)] for v in value_ids.tolist()]
        if moment is not None:
            times = [as_time(t) for t in texts]
            if self.op == "!=":
                return np.array([t is None or t != moment for t in times], dtype=bool)
            return np.array([t is not None and compare(t, moment) for t in times], dtype=bool)
        value = composed(self.value)  # "Zoë" typed composed matches it stored decomposed
        return np.array([compare(composed(t), value) for t in texts], dtype=bool)

    def documents(self, table: MetadataTable) -> np.ndarray:
        """A boolean mask over the document rows: which documents satisfy the condition."""
        rows, values = table.entries_of(self.key)
        found = np.zeros(len(table), dtype=bool)
        if len(values):
            distinct, inverse = np.unique(values, return_inverse=True)
            ok = self.value_test(table, distinct)[inverse]
            found[rows[ok]] = True
        return found


@dataclass(frozen=True)
class Filter:
    """What retrieval may return: passages whose path matches any of `paths` (none given: any path)
    and whose document satisfies every condition in `where`. Build it with `Filter.parse`."""

    paths: tuple[str, ...] = ()
    where: tuple[Condition, ...] = ()

    def __post_init__(self) -> None:
        # checked (and kept as tuples, so that a filter stays hashable) however the filter is made: one
        # string given as the globs was taken letter by letter, and its '*' matched every file
        globs = tuple(listed(self.paths, "path globs", "a --path glob", str, hint=PATHS_HINT))
        for glob in globs:
            if not glob.strip():
                raise InvalidOptionError("--path: an empty glob", hint="e.g. --path 'docs/**/*.md'")
            # wcmatch drops a reversed range `[z-a]` (the glob then matches nothing): refused as --exclude's
            check_glob("--path", glob, hint="e.g. --path 'docs/**/*.md'")
            _matcher((glob,))  # wcmatch refuses a malformed pattern here
        hint = "Filter.parse(where=['format=markdown']) reads conditions written as text"
        conditions = tuple(listed(self.where, "where conditions", "a --where condition", Condition, hint=hint))
        object.__setattr__(self, "paths", globs)
        object.__setattr__(self, "where", conditions)

    @classmethod
    def parse(cls, paths: Iterable[str] = (), where: Iterable[str] = ()) -> Filter | None:
        """A filter from `--path` globs and `--where` conditions, each a list (None when both are empty).
        A bad one is InvalidOptionError (exit 2), raised before any work."""
        globs = tuple(listed(paths, "path globs", "a --path glob", str, hint=PATHS_HINT))
        texts = listed(where, "where conditions", "a --where condition", str, hint=WHERE_LIST_HINT)
        made = cls(globs, tuple(Condition.parse(text) for text in texts))  # the globs are checked there
        return made if made.paths or made.where else None

    def __str__(self) -> str:
        parts = [f"--path {p!r}" for p in self.paths] + [f"--where {str(c)!r}" for c in self.where]
        return " ".join(parts)

    def mask(self, paths: StringTable, metadata: Callable[[], MetadataTable]) -> np.ndarray:
        """A boolean mask over the passages; `metadata` is called only when a condition needs it."""
        allowed = np.ones(len(paths), dtype=bool)
        table = metadata() if self.where or self.paths else None
        if self.paths:
            allowed &= path_mask(paths, self.paths, table)
        if self.where and table is not None:
            documents = np.ones(len(table), dtype=bool)
            for condition in self.where:
                documents &= condition.documents(table)
            rows = np.asarray(table.doc_of, dtype=np.int64)
            allowed &= (rows >= 0) & documents[np.maximum(rows, 0)] if len(documents) else np.zeros_like(allowed)
        return allowed


def _matcher(globs: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a path matches any of `globs`, both compared in NFC: macOS writes names decomposed, and a
    glob typed composed matched none of them (the path stored stays as the file system has it)."""
    from wcmatch import glob as wc

    flags = wc.GLOBSTAR | wc.BRACE | wc.MATCHBASE | wc.DOTGLOB | wc.FORCEUNIX
    try:
        compiled = wc.compile([composed(glob) for glob in globs], flags=flags)
    except (ValueError, TypeError) as exc:
        raise InvalidOptionError(
            f"--path {globs[0]!r}: not a glob ({exc})", hint="e.g. --path 'docs/**/*.md'"
        ) from None
    return lambda path: bool(compiled.match(composed(path)))


def path_mask(paths: StringTable, globs: tuple[str, ...], table: MetadataTable | None = None) -> np.ndarray:
    """Which passages' paths match any of `globs`, each distinct path matched once: from the documents'
    `path` metadata where they have it (a few numpy operations, however many passages), else from the
    passage paths (an index built before metadata was stored, or a document from elsewhere)."""
    match = _matcher(globs)
    mask = np.zeros(len(paths), dtype=bool)
    todo: Iterable[int] = range(len(paths))
    if table is not None and table.present and len(table):
        rows, values = table.entries_of("path")
        distinct, inverse = np.unique(values, return_inverse=True)
        ok = np.array([bool(match(table.value_text[int(v)])) for v in distinct.tolist()], dtype=bool)
        has, good = np.zeros(len(table), dtype=bool), np.zeros(len(table), dtype=bool)
        has[rows] = True
        good[rows[ok[inverse]] if len(rows) else rows] = True
        documents = np.asarray(table.doc_of, dtype=np.int64)
        mask = good[documents]
        todo = np.flatnonzero(~has[documents]).tolist()
    seen: dict[str, bool] = {}
    for number in todo:
        path = paths[number]
        known = seen.get(path)
        mask[number] = seen.setdefault(path, bool(match(path))) if known is None else known
    return mask
