"""An opened index: its manifest, passages, vocabulary and analyzer, and `Index.search`.

Payloads load lazily and memory-mapped: a BM25 query reads the manifest, the vocabulary, the rows of
its own terms in the BM25 matrix and the ten passages it returns; TF-IDF weights are never touched.
Each payload is checked against its schema on load (`payload_schema`: the core payloads' own, a
retriever's `schema`). Retrievers are looked up by name in the retriever registry
(`ragcli.retrieval.base.RETRIEVERS`). A long-lived `Index` follows rebuilds: each search first stats
`manifest.json` and, when it was replaced, reads the new one as a new build (`_Build`); each call reads
the one build it took, so threads sharing an `Index` never mix two builds, and the old build's maps close
with the last call reading it.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ragcli.analysis import Analyzer, AnalyzerSettings
from ragcli.errors import IndexDamagedError, IndexLockedError, InvalidOptionError, RagcliError, listed
from ragcli.readers.base import indexed_base, is_url
from ragcli.readers.selection import Selection
from ragcli.records import COUNTS_FILE, METADATA_FILE, PASSAGES_FILE, TERMS_FILE, Hit, SearchOptions, composed
from ragcli.retrieval.base import RETRIEVERS, Ranked, Scorer, restrict, top_k, with_needs
from ragcli.retrieval.distinct import distinct_hits, first_depth
from ragcli.retrieval.filters import Filter
from ragcli.retrieval.kernel import KERNEL
from ragcli.retrieval.lexicon import Lexicon
from ragcli.retrieval.metadata import MetadataTable, Scalar
from ragcli.safeload import COUNTS_SCHEMA, METADATA_SCHEMA, PASSAGES_SCHEMA, TERMS_SCHEMA, PayloadSchema
from ragcli.store import (
    REBUILD_HINT,
    Identity,
    StringTable,
    file_identity,
    index_size,
    load_manifest,
    load_payload,
    manifest_file,
    payload_path,
    read_manifest,
    resolve_index_dir,
    verify_checksums,
)
from ragcli.terminal_text import without_terminal_sequences

CORE_SCHEMAS = {
    PASSAGES_FILE: PASSAGES_SCHEMA,
    TERMS_FILE: TERMS_SCHEMA,
    COUNTS_FILE: COUNTS_SCHEMA,
    METADATA_FILE: METADATA_SCHEMA,
}


def payload_schema(name: str) -> PayloadSchema | None:
    """What payload file `name` must hold: a core payload's schema, or the schema its retriever
    declares (None: a plugin without one; its payload is still checked to be plain data)."""
    if name in CORE_SCHEMAS:
        return CORE_SCHEMAS[name]
    stem = name.split(".")[0]  # bm25.joblib is bm25's: asked first, so that no other retriever is imported
    if stem in RETRIEVERS and RETRIEVERS.get(stem).payload == name:
        return RETRIEVERS.get(stem).schema
    for retriever in RETRIEVERS.all():
        if retriever.payload == name:
            return retriever.schema
    return None


T = TypeVar("T")
DEFAULT_OPTIONS = SearchOptions()  # made once: Index.retriever runs before every query


def _take(table: StringTable, numbers: list[int]) -> list[str]:
    """table[i] for each of `numbers`: in one call of the compiled kernel where it is built. The kernel
    reads UTF-8 only: a name whose bytes are not (`StringTable.names`) is read by the table itself."""
    if KERNEL is not None and hasattr(KERNEL, "take_strings"):  # not in an older build
        try:
            taken: list[str] = KERNEL.take_strings(table.offsets, table.blob, numbers)
        except UnicodeDecodeError:
            if not table.names:
                raise
        else:
            return taken
    return [table[i] for i in numbers]


class PassageStore:
    """Passage texts and metadata, column by column, memory-mapped."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.ids = StringTable.from_payload(payload, "id", names=True)
        self.doc_ids = StringTable.from_payload(payload, "doc_id", names=True)
        self.titles = StringTable.from_payload(payload, "title")
        self.paths = StringTable.from_payload(payload, "path", names=True)
        self.texts = StringTable.from_payload(payload, "text")
        self.line = payload["line"]
        self.start = payload["start"]
        self.end = payload["end"]
        self.id_rank = payload["id_rank"]
        # the page of each passage (0: none); an index written before pages were stored lacks the column
        page = payload.get("page")
        self.page = page if page is not None else np.broadcast_to(np.int64(0), (len(self.ids),))

    def __len__(self) -> int:
        return len(self.ids)

    def consistent(self) -> bool:
        """Cheap structural checks: every column as long as the ids, every table's offsets in range."""
        n = len(self)
        tables = (self.ids, self.doc_ids, self.titles, self.paths, self.texts)
        columns = (self.line, self.start, self.end, self.id_rank, self.page)
        return all(len(t) == n and t.consistent() for t in tables) and all(len(c) == n for c in columns)

    def hits(
        self, numbers: list[int], scores: list[float], first_rank: int = 1, generation: str = "", index_dir: str = ""
    ) -> list[Hit]:
        """The hits for these passage numbers, ranked from `first_rank`, of build `generation` of the index
        in `index_dir`: each
        string column read in one call for all of them (what a query's ten hits cost was mostly five
        scalar look-ups per hit)."""
        columns = zip(*(_take(t, numbers) for t in (self.ids, self.doc_ids, self.titles, self.paths, self.texts)))
        return [
            Hit(
                rank=rank,
                score=float(score),
                id=id,
                doc_id=doc_id,
                title=title,
                path=path,
                line=int(self.line[n]),
                start=int(self.start[n]),
                end=int(self.end[n]),
                text=text,
                page=int(self.page[n]) or None,
                generation=generation,
                index_dir=index_dir,
            )
            for rank, n, score, (id, doc_id, title, path, text) in zip(
                range(first_rank, first_rank + len(numbers)), numbers, scores, columns
            )
        ]


class _GenerationReplaced(Exception):
    """The index was rebuilt since this object read its manifest (a payload it needs is gone)."""


_DAMAGE = (IndexError, ValueError, OverflowError, UnicodeDecodeError, TypeError)  # what damaged arrays raise


class _Build:
    """One build of the index as read: its manifest and what was loaded from it. A rebuild makes a new
    one and never empties this one, so that a search that took it reads one build throughout, whatever
    other threads do meanwhile (its maps close, and free the deleted files' space, with its last user)."""

    def __init__(self, path: Path, manifest: dict[str, Any], identity: Identity | None) -> None:
        self.path = path
        self.manifest = manifest
        self.identity = identity  # of the manifest file read
        self.payloads: dict[str, dict[str, Any]] = {}
        self.scorers: dict[tuple[str, SearchOptions], Scorer] = {}
        self.plain: dict[str, Scorer] = {}  # scorers with the default options, by name alone (hashed faster)
        self.masks: dict[Filter, np.ndarray] = {}

    def payload(self, name: str) -> dict[str, Any]:
        if name not in self.payloads:
            try:
                path = payload_path(self.path, self.manifest, name)
                self.payloads[name] = load_payload(path, schema=payload_schema(name))
            except (IndexDamagedError, FileNotFoundError):
                if self._replaced():
                    raise _GenerationReplaced() from None
                raise
        return self.payloads[name]

    def has_payload(self, name: str) -> bool:
        return name in self.manifest["files"]

    def _replaced(self) -> bool:
        try:
            return bool(read_manifest(self.path)["generation"] != self.manifest["generation"])
        except RagcliError:
            return False

    @cached_property
    def analyzer(self) -> Analyzer:
        return Analyzer(AnalyzerSettings.from_dict(self.manifest["analyzer"]))

    @cached_property
    def passages(self) -> PassageStore:
        try:
            store = PassageStore(self.payload(PASSAGES_FILE))
        except KeyError as exc:
            raise IndexDamagedError(f"{self.path}: passage store lacks {exc}", hint=REBUILD_HINT) from None
        if len(store) != self.manifest["counts"]["passages"] or not store.consistent():
            raise IndexDamagedError(f"{self.path}: the passage store does not match the manifest", hint=REBUILD_HINT)
        return store

    @cached_property
    def lexicon(self) -> Lexicon:
        try:
            lexicon = Lexicon(self.payload(TERMS_FILE))
        except KeyError as exc:
            raise IndexDamagedError(f"{self.path}: vocabulary lacks {exc}", hint=REBUILD_HINT) from None
        n = len(lexicon)
        terms = lexicon.hash_term
        mismatched = n != self.manifest["counts"]["terms"] or len(lexicon.hash_sorted) != n or len(terms) != n
        if mismatched or not lexicon.terms.consistent() or (n and not 0 <= int(terms.min()) <= int(terms.max()) < n):
            raise IndexDamagedError(f"{self.path}: the vocabulary does not match the manifest", hint=REBUILD_HINT)
        return lexicon

    @cached_property
    def metadata(self) -> MetadataTable:
        payload = self.payload(METADATA_FILE) if self.has_payload(METADATA_FILE) else None
        return MetadataTable(payload, int(self.manifest["counts"]["passages"]), self.path)

    @cached_property
    def id_order(self) -> np.ndarray:
        order = np.empty(len(self.passages), dtype=np.int64)
        order[self.passages.id_rank] = np.arange(len(self.passages), dtype=np.int64)
        return order

    @cached_property
    def counts(self) -> Any:
        import scipy.sparse as sp

        payload = self.payload(COUNTS_FILE)
        shape = tuple(payload["shape"])
        counts = self.manifest["counts"]
        if shape != (counts["passages"], counts["terms"]):
            raise IndexDamagedError(f"{self.path}: the term counts do not match the manifest", hint=REBUILD_HINT)
        try:  # a full check (indices in range, indptr increasing): scipy's kernels trust them blindly
            matrix = sp.csr_matrix((payload["data"], payload["indices"], payload["indptr"]), shape=shape)
            matrix.check_format(full_check=True)
            if matrix.nnz and int(matrix.data.min()) < 1:
                raise ValueError("a count below 1")
        except (ValueError, TypeError) as exc:
            raise IndexDamagedError(f"{self.path}: damaged term counts ({exc})", hint=REBUILD_HINT) from None
        return matrix


def check_questions(queries: object) -> list[str]:
    """`queries` as a list of questions (any iterable of text, read once: a generator too), or the
    caller's mistake: one question given alone would be answered letter by letter, a dict by its keys.

    Each loses its terminal control sequences, as the readers' text does (`without_terminal_sequences`):
    a question pasted from a coloured terminal ("zebra \\x1b[31mrecord") was searched for '31mrecord',
    and answered and shown with the codes. Every entry a question comes in by asks it: `Index`'s
    searches, `answering` (`retrieve`, `search_questions`, `answer_many`), LangChain's `batch`; and
    through `question_text`, the lines of `query`, `chat` and the evaluation's questions."""
    questions = listed(queries, "questions", "a question", str, hint="search(question) and answer(question) take one")
    return [without_terminal_sequences(question) for question in questions]


# What shows as nothing: whitespace (a no-break space, the ideographic space…), control characters and
# Unicode's default-ignorable code points (zero-width space and joiners, the byte-order mark, bidi
# controls, the soft hyphen, variation selectors, Hangul fillers, tags)
_INVISIBLE_RE = re.compile(
    r"[\s\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    r"\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    r"\U0001d173-\U0001d17a\U000e0000-\U000e0fff]*"
)


def question_text(text: str) -> str:
    """The question a line of text asks, as every entry reads it (`query`'s argument and stdin, chat's
    lines, a questions file): without terminal sequences (`check_questions`) and surrounding whitespace,
    and empty when nothing visible is left, so that a line of colour codes, of a zero-width space or of
    a no-break space alone is as empty as a blank one, not a question searched for nothing."""
    question = without_terminal_sequences(text).strip()
    return "" if _INVISIBLE_RE.fullmatch(question) else question


def _check_request(queries: object, k: object, retriever: object, filter: object) -> list[str]:
    """A caller's mistake (the Python API, LangChain) said as one, before any work: a wrong type used to
    surface deep inside as a TypeError that `_guarded` reported as a damaged index. The questions are
    returned as a list (`check_questions`)."""
    questions = check_questions(queries)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidOptionError(f"k must be a whole number >= 1, not {k!r}")
    if not isinstance(retriever, str) and not hasattr(retriever, "score"):
        raise InvalidOptionError(f"retriever must be a retriever's name or a scorer, not {type(retriever).__name__}")
    if filter is not None and not isinstance(filter, Filter):
        raise InvalidOptionError(
            f"filter must be a Filter, not {type(filter).__name__}", hint="Filter.parse(paths=[…], where=[…])"
        )
    return questions


def _check_hit(hit: object, *also: type) -> None:
    """A `Hit` (or one of the types `also` allows): anything else is a caller's mistake."""
    if isinstance(hit, bool) or not isinstance(hit, (Hit, *also)):
        wanted = "a hit or a passage number" if also else "a hit"
        raise InvalidOptionError(f"{wanted} is needed, not {type(hit).__name__}")


class Index:
    """An index on disk, opened for searching. Create with `load_index`.

    A rebuild may replace the index while this object is in use: each search first checks (one stat of
    `manifest.json`) whether it was replaced, and if so re-reads it and answers from the new index as a
    whole (never a mix of old and new payloads, in any thread), dropping its maps of the old payloads
    once no call reads them, so their disk space is freed. A Scorer this index opened (`retriever`) follows too; a Scorer built elsewhere on
    this index's data pins the index as it is.
    """

    def __init__(self, path: Path, manifest: dict[str, Any], identity: Identity | None = None) -> None:
        # absolute: a later chdir (or a pickled retriever's worker) must not make it read another folder's index
        self.path = path.absolute()
        self._follow = identity is not None  # False: do not follow rebuilds
        self._manifest_file = manifest_file(self.path)
        self._build = _Build(self.path, manifest, identity)  # the newest build read: swapped whole, never emptied
        self._lock = threading.Lock()  # one thread reads a replaced manifest; the others take its build
        self._local = threading.local()  # this thread's call: the build it took, and how deeply it nests
        # every scorer this index opened, by what it was opened as: a caller's one follows rebuilds
        self._opened: weakref.WeakKeyDictionary[Any, tuple[str, SearchOptions]] = weakref.WeakKeyDictionary()

    def _now(self) -> _Build:
        """The build this thread's call took (each call reads one build throughout), else the newest."""
        return getattr(self._local, "build", None) or self._build

    @property
    def manifest(self) -> dict[str, Any]:
        return self._now().manifest

    def payload(self, name: str) -> dict[str, Any]:
        return self._now().payload(name)

    def has_payload(self, name: str) -> bool:
        return self._now().has_payload(name)

    def _reload(self, seen: _Build) -> None:
        """Read the manifest again, unless another thread did since `seen` was taken: a new build
        replaces the old one, which stays whole for the calls still reading it."""
        with self._lock:
            if self._build is seen:
                self._build = _Build(self.path, *load_manifest(self.path))

    def refresh(self) -> bool:
        """Follow a rebuild now: whether the manifest was replaced (and read again) since it was read."""
        build = self._build
        if not self._follow or file_identity(self._manifest_file) == build.identity:
            return False
        self._reload(build)
        return True

    def _follows(self, retriever: str | Scorer) -> bool:
        """Whether a call with `retriever` may follow a rebuild: a name or a Scorer this index opened."""
        try:
            return isinstance(retriever, str) or retriever in self._opened
        except TypeError:  # an unhashable plugin scorer is not followed
            return False

    def _guarded(self, work: Callable[[], T], follow: bool = True) -> T:
        """Run a query step on one build, taken once: the newest (a rebuild is checked for first), or
        the new one if a rebuild met half way removed a file it needs (the outermost step then starts
        again, whole, so that no answer mixes two builds); a step nested in another, on this thread,
        reads its caller's build. A damaged array's numpy error becomes a clear IndexDamagedError."""
        local = self._local
        if getattr(local, "build", None) is not None:
            return self._damage_said(work)
        if follow:
            self.refresh()
        try:
            for attempt in (1, 2):
                local.build = build = self._build
                try:
                    return self._damage_said(work)
                except _GenerationReplaced:
                    if attempt == 2:
                        raise IndexDamagedError(f"{self.path}: changed twice during one query") from None
                    self._reload(build)
            raise AssertionError("unreachable")
        finally:
            local.build = None

    def _damage_said(self, work: Callable[[], T]) -> T:
        """`work()`, with what damaged arrays raise said as IndexDamagedError."""
        try:
            return work()
        except _DAMAGE as exc:
            raise IndexDamagedError(
                f"{self.path}: damaged data ({type(exc).__name__}: {exc})",
                hint="check it with `ragcli info --verify`, then rebuild it with `ragcli index PATH --rebuild`",
            ) from None
        except MemoryError:
            raise IndexDamagedError(
                f"{self.path}: damaged data (it asks for more memory than there is)",
                hint="check it with `ragcli info --verify`, then rebuild it with `ragcli index PATH --rebuild`",
            ) from None

    @property
    def analyzer(self) -> Analyzer:
        return self._now().analyzer

    @property
    def passages(self) -> PassageStore:
        return self._now().passages

    @property
    def lexicon(self) -> Lexicon:
        return self._now().lexicon

    @cached_property
    def folder(self) -> str:
        """The index folder, resolved once: what its hits carry, so that another index's hits are known."""
        return str(self.path.resolve())

    @property
    def metadata(self) -> MetadataTable:
        """The documents' metadata (loaded on first use: by a `--where` filter, `info`, JSON hits). An
        index built before metadata was stored has none: every document has no keys."""
        return self._now().metadata

    def metadata_of(self, hit: Hit | int) -> dict[str, Scalar]:
        """The metadata of the document a hit (or passage number) belongs to."""
        _check_hit(hit, int)
        return self._guarded(lambda: self._metadata_of(hit), follow=False)

    def with_metadata(self, hits: Iterable[Hit]) -> list[Hit]:
        """The hits with their documents' metadata (`Hit.metadata`), read on demand from the build they
        came from: hits of a build a rebuild has since replaced are refused (IndexLockedError), once
        that build's metadata is gone, rather than given the new build's."""
        # errors.listed's check of a list, kept apart for the messages callers were given first ("…, not
        # str"; an entry's as metadata_of's, `_check_hit`); a Hit alone is no Iterable either, named for
        # the reader (and for mypy, to which an Iterable[Hit] can never be a str)
        if isinstance(hits, (str, Hit)) or not isinstance(hits, Iterable):
            raise InvalidOptionError(f"a list of hits is needed, not {type(hits).__name__}")
        found = list(hits)
        for hit in found:
            _check_hit(hit)
        return self._guarded(lambda: self._with_metadata(found), follow=False)

    def _with_metadata(self, hits: list[Hit]) -> list[Hit]:
        return [dataclasses.replace(hit, metadata=self._metadata_of(hit)) for hit in hits]

    def _metadata_of(self, hit: Hit | int) -> dict[str, Scalar]:
        if isinstance(hit, int):
            passages = int(self.manifest["counts"]["passages"])
            if not 0 <= hit < passages:  # -1 gave the last document's metadata, a number past the end "damage"
                raise InvalidOptionError(f"no passage {hit}: this index has {passages} (0 to {passages - 1})")
            return self.metadata.of_passage(hit)
        if hit.generation not in ("", self.manifest["generation"]):
            if hit.index_dir not in ("", self.folder):  # no rebuild to blame: the caller mixed two indexes
                raise InvalidOptionError(
                    f"{self.path}: these hits come from another index ({hit.index_dir})",
                    hint="ask the index that returned them for their metadata",
                )
            raise IndexLockedError(
                f"{self.path}: these hits come from a build of the index that a rebuild has since replaced",
                hint="search again; search(…, metadata=True) gives hits and metadata of one build",
            )
        number = self._number(hit.id)
        return {} if number is None else self.metadata.of_passage(number)

    def document_start(self, doc_id: str, chars: int) -> tuple[str, str] | None:
        """Document `doc_id`'s title and the first `chars` characters of its text (its passages in
        order), or None when the index has no such document."""

        def work() -> tuple[str, str] | None:
            number = self._number(f"{doc_id}#0")
            if number is None:
                return None
            title, parts, length = self.passages.titles[number], [], 0
            while number < len(self.passages) and self.passages.doc_ids[number] == doc_id and length < chars:
                parts.append(self.passages.texts[number])
                length += len(parts[-1]) + 1
                number += 1
            return title, " ".join(parts)[:chars]

        return self._guarded(work, follow=False)

    def document_passages(self, hit: Hit) -> int:
        """How many passages the document of `hit` holds (0: unknown, in an index built before document
        metadata was stored): a distinct search cites a text's copy from the smallest document."""
        number = self._number(hit.id)
        doc_of = self.metadata.doc_of
        row = -1 if number is None else int(doc_of[number])
        return int(np.count_nonzero(doc_of == row)) if row >= 0 else 0

    def _number(self, passage_id: str) -> int | None:
        """The number of the passage with id `passage_id` (a binary search of the id order)."""
        build = self._now()
        ids, order = build.passages.ids, build.id_order
        lo = bisect.bisect_left(order, passage_id, key=lambda number: ids[int(number)])
        return int(order[lo]) if lo < len(order) and ids[int(order[lo])] == passage_id else None

    def allowed(self, filter: Filter | None) -> np.ndarray | None:
        """The passages `filter` admits, as a boolean mask (None: no filter, all of them); computed once
        per filter and index generation."""
        if filter is None:
            return None
        masks = self._now().masks
        if filter not in masks:
            masks[filter] = filter.mask(self.passages.paths, lambda: self.metadata)
        return masks[filter]

    def excludes_all(self, filter: Filter | None) -> str | None:
        """Why `filter` admits no passage of this index (None: it admits some, or there is no filter), so
        that a mistyped `--where` key is said rather than taken for questions nothing answers."""
        allowed = self.allowed(filter)
        if filter is None or allowed is None or allowed.any():
            return None
        known = self.metadata.key_counts()
        known_composed = {composed(key) for key in known}
        unknown = [c.key for c in filter.where if composed(c.key) not in known_composed]
        if unknown:
            keys = ", ".join(sorted(known)) or "none"
            return f"no document has the metadata key {unknown[0]!r} (this index's keys: {keys})"
        return f"no passage is within {filter}"

    def available(self, name: str) -> bool:
        """Whether this index holds the data retriever `name` searches."""
        return all(
            RETRIEVERS.get(n).payload is None or self.has_payload(str(RETRIEVERS.get(n).payload))
            for n in with_needs([name])
        )

    def settings_of(self, name: str) -> Any:
        """The settings retriever `name` recorded in the manifest (None: not built). A section its
        retriever cannot read is damage (exit 7), never a crash."""
        section = self.manifest.get(name)
        if not section:
            return None
        try:
            if not isinstance(section, dict):
                raise TypeError(type(section).__name__)
            return RETRIEVERS.get(name).settings_from(section)
        except (KeyError, TypeError, ValueError, AttributeError, RagcliError) as exc:
            raise IndexDamagedError(
                f"{self.path}: the manifest's {name} section is malformed ({type(exc).__name__})", hint=REBUILD_HINT
            ) from None

    def retriever(self, name: str, options: SearchOptions | None = None) -> Scorer:
        """The scorer of the registered retriever `name`, opened once per option set: on this index as
        it is (a caller may hold its hits), or on the new one when a rebuild removed its files; the
        scorer follows later rebuilds with the searches that use it."""
        if not isinstance(name, str):
            raise InvalidOptionError(f"retriever must be a retriever's name, not {type(name).__name__}")
        if options is not None and not isinstance(options, SearchOptions):
            raise InvalidOptionError(f"options must be SearchOptions, not {type(options).__name__}")
        return self._guarded(lambda: self._open(name, options), follow=False)

    def _open(self, name: str, options: SearchOptions | None) -> Scorer:
        """`retriever` inside a query step (which follows rebuilds): what every search by name asks."""
        build = self._now()
        if options is None and name in build.plain:
            return build.plain[name]
        key = (name, options or DEFAULT_OPTIONS)
        if key not in build.scorers:
            for needed in with_needs([name]):
                spec = RETRIEVERS.get(needed)
                if spec.payload is not None and not self.has_payload(spec.payload):
                    error = spec.missing(self)
                    error.value = name  # the retriever asked for: the CLI names the file that chose it
                    raise error
                if spec.payload is not None:
                    self.settings_of(needed)
            try:
                build.scorers[key] = scorer = RETRIEVERS.get(name).open(self, key[1])
            except (KeyError, TypeError) as exc:
                raise IndexDamagedError(
                    f"{self.path}: {name} data lacks {exc} or is malformed", hint=REBUILD_HINT
                ) from None
            with suppress(TypeError):  # an unhashable plugin scorer is not followed
                self._opened[scorer] = key
        if options is None:
            build.plain[name] = build.scorers[key]
        return build.scorers[key]

    @contextmanager
    def reused(self, what: str) -> Iterator[None]:
        """Around a build's reading of this index's data (passages, counts, vocabulary): what a damaged
        array raises becomes IndexDamagedError, with a hint that works (`--rebuild` reads none of it)."""
        try:
            yield
        except (*_DAMAGE, MemoryError) as exc:
            raise IndexDamagedError(
                f"{self.path}: damaged {what} ({type(exc).__name__})",
                hint="rebuild it from the files alone with `ragcli index PATH --rebuild`",
            ) from None

    def _scorer(self, retriever: str | Scorer) -> Scorer:
        if isinstance(retriever, str):
            return self._open(retriever, None)
        with suppress(TypeError):
            key = self._opened.get(retriever)
            if key is not None:  # opened by this index (maybe before a rebuild): the same, on the call's build
                return self._open(*key)
        return retriever

    def scores(self, query: str, retriever: str | Scorer = "bm25", filter: Filter | None = None) -> Ranked:
        """(candidate passage numbers, their scores), unordered: for a caller that cuts the same
        scores at several depths (see `ragcli.retrieval.base.top_k`) without scoring again. With
        `filter`, only the passages it admits are candidates (for every retriever, plugins included)."""
        (query,) = _check_request([query], 1, retriever, filter)  # no depth to check: scores are not cut

        def work() -> Ranked:
            scorer, allowed = self._scorer(retriever), self.allowed(filter)
            if allowed is None:
                return scorer.score(query)
            if not allowed.any():
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
            within = getattr(scorer, "score_within", None)
            return restrict(within(query, allowed) if within is not None else scorer.score(query), allowed)

        return self._guarded(work, self._follows(retriever))

    def rank(self, query: str, k: int = 5, retriever: str | Scorer = "bm25", filter: Filter | None = None) -> Ranked:
        """(passage numbers, scores) of the k best passages, best first: `search` without building hits.
        A scorer with `rank_within` (BM25, TF-IDF: the compiled top-k kernel) ranks them itself."""
        (query,) = _check_request([query], k, retriever, filter)

        def work() -> Ranked:
            scorer = self._scorer(retriever)
            within = getattr(scorer, "rank_within", None)
            if within is None:
                return top_k(*self.scores(query, retriever, filter), k, self.passages.id_rank)
            ranked: Ranked = within(query, k, self.passages.id_rank, self.allowed(filter))
            return ranked

        return self._guarded(work, self._follows(retriever))

    def _hits(self, numbers: np.ndarray, best: np.ndarray) -> list[Hit]:
        return self.passages.hits(
            numbers.tolist(), best.tolist(), generation=self.manifest["generation"], index_dir=self.folder
        )

    def search(
        self,
        query: str,
        k: int = 5,
        retriever: str | Scorer = "bm25",
        filter: Filter | None = None,
        distinct: bool = False,
        metadata: bool = False,
    ) -> list[Hit]:
        """The k best passages for `query`, best first; ties broken by passage id. Never raises for an
        empty, all-stopword or unknown-word query: it returns what matches, maybe nothing. With
        `filter` (`Filter.parse(paths=["docs/**/*.md"], where=["size>=1000"])`), only passages it
        admits are ranked: fewer than k come back when fewer match. With `distinct`, a passage whose
        text a better one holds is folded into it (`Hit.copies`) and the next one takes its place.
        With `metadata`, the hits carry their documents' metadata (`with_metadata`), read as one step
        with the ranking: a rebuild met half way redoes both on the new index."""
        (query,) = _check_request([query], k, retriever, filter)
        fetch = self._fetcher(query, retriever, filter)

        def work() -> list[Hit]:
            hits = distinct_hits(fetch, k, breadth=self.document_passages) if distinct else fetch(k)
            return self._with_metadata(hits) if metadata else hits

        return self._guarded(work, self._follows(retriever))

    def _fetcher(self, query: str, retriever: str | Scorer, filter: Filter | None) -> Callable[[int], list[Hit]]:
        """The hits of `query` at a given depth: what a distinct search asks for, deeper each time."""
        return lambda depth: self._hits(*self.rank(query, depth, retriever, filter))

    def rank_many(
        self, queries: Iterable[str], k: int = 5, retriever: str | Scorer = "bm25", filter: Filter | None = None
    ) -> list[Ranked]:
        """`rank` for many queries, scored together where the retriever can (faster per query)."""
        questions = _check_request(queries, k, retriever, filter)

        def work() -> list[Ranked]:
            scorer, allowed = self._scorer(retriever), self.allowed(filter)
            within = getattr(scorer, "rank_many_within", None)
            if within is not None:
                many: list[Ranked] = within(questions, k, self.passages.id_rank, allowed)
                return many
            if allowed is None:
                scored = scorer.score_many(questions)
            elif not allowed.any():
                return [(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)) for _ in questions]
            else:
                within = getattr(scorer, "score_many_within", None)
                raw = within(questions, allowed) if within is not None else scorer.score_many(questions)
                scored = (restrict(ranked, allowed) for ranked in raw)
            return [top_k(c, s, k, self.passages.id_rank) for c, s in scored]

        return self._guarded(work, self._follows(retriever))

    def search_many(
        self,
        queries: Iterable[str],
        k: int = 5,
        retriever: str | Scorer = "bm25",
        filter: Filter | None = None,
        distinct: bool = False,
        metadata: bool = False,
    ) -> list[list[Hit]]:
        """`search` for many queries (see `rank_many`); with `distinct`, each looks deeper on its own
        only when copies leave it fewer than k; `metadata` as `search`."""
        questions = _check_request(queries, k, retriever, filter)

        def work() -> list[list[Hit]]:
            depth = first_depth(k) if distinct else k
            found = [self._hits(n, s) for n, s in self.rank_many(questions, depth, retriever, filter)]
            if distinct:
                found = [
                    distinct_hits(self._fetcher(q, retriever, filter), k, first, self.document_passages)
                    for q, first in zip(questions, found)
                ]
            return [self._with_metadata(hits) for hits in found] if metadata else found

        return self._guarded(work, self._follows(retriever))

    def counts_matrix(self) -> Any:
        """The passages × terms count matrix (scipy CSR), from which BM25/TF-IDF weights derive; checked
        once per opened index (a build asks for it twice). Treat it as read-only."""
        return self._now().counts

    def verify(self) -> None:
        """`info --verify`: every payload against its checksum, then loaded as a query loads it (safe
        loader, schema): a crafted payload with matching checksums passes the first alone (exit 7 for
        either); then each built retriever's own check (`Retriever.verify`: the dense vectors' width
        against their model, exit 9)."""
        verify_checksums(self.path, self.manifest)
        self._guarded(lambda: [self.payload(name) for name in self.manifest["files"]], follow=False)
        for name in RETRIEVERS.usable():
            payload = RETRIEVERS.get(name).payload
            if payload is not None and self.has_payload(payload):
                RETRIEVERS.get(name).verify(self)

    def size_bytes(self) -> int:
        """The index's size on disk: its payloads and its manifest."""
        return index_size(self.path, self.manifest["files"])

    def info(self) -> dict[str, Any]:
        """What the index holds, for `ragcli info`. A retriever section its retriever cannot read is
        damage (exit 7), as it would be for a query."""
        for name in RETRIEVERS.usable():
            if RETRIEVERS.get(name).payload is not None:
                self.settings_of(name)
        m = self.manifest
        sources = m.get("sources", [])
        rows = sum(1 for source in sources if is_url(source["path"]))  # a database row is a source too
        return {
            "path": str(self.path),
            "format_version": m["format_version"],
            "ragcli_version": m.get("ragcli_version"),
            "built": m.get("built"),
            "documents": m["counts"]["documents"],
            "passages": m["counts"]["passages"],
            "terms": m["counts"]["terms"],
            "tokens": m["counts"]["tokens"],
            "size_bytes": self.size_bytes(),
            "roots": m.get("roots", []),
            "base": str(base) if (base := indexed_base(m)) is not None else None,  # hit paths are relative to it
            # what `ragcli index` without paths leaves out of the roots (ignore files, --include/--exclude)
            "selection": Selection.from_dict(m.get("selection")).to_dict(),
            "sources": len(sources) - rows,  # files
            "rows": rows,  # of the database roots' queries
            "analyzer": m["analyzer"],
            "chunking": m["chunking"],
            "bm25": m.get("bm25"),
            "tfidf": m.get("tfidf"),
            "retrievers": [name for name in RETRIEVERS.usable() if self.available(name)],
            "dense": m.get("dense"),
            # the vectors themselves (the "dense" section says how the last build made them)
            "dense_vectors": self._guarded(self._dense_shape, follow=False) if m.get("dense") else None,
            "metadata_keys": self._guarded(lambda: self.metadata.key_counts(), follow=False),
        }

    def _dense_shape(self) -> dict[str, int]:
        """How many passages have dense vectors, and of how many dimensions (from the memory-mapped
        array's shape: nothing is read but its header)."""
        payload = RETRIEVERS.get("dense").payload
        assert payload is not None
        rows, dimensions = self.payload(payload)["vectors"].shape
        return {"passages": int(rows), "dimensions": int(dimensions)}


def load_index(path: str | Path | None = None) -> Index:
    """Open the index at `path` (default: $RAGCLI_INDEX or ./.ragcli); validates the manifest."""
    index_dir = resolve_index_dir(path)
    return Index(index_dir, *load_manifest(index_dir))
