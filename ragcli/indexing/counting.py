"""Term counting: passages → a sparse passages × terms count matrix, on all cores for big corpora.

Workers tokenise batches of passage texts into surface forms (cheap to pickle back); the main
process maps surface forms to terms once per distinct form (the analyzer's costly part, stopwords
and stemming, runs once per form, not once per token) and stacks the rows in corpus order, reused
rows from an earlier build included.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import count
from typing import TYPE_CHECKING, Any

import numpy as np

from ragcli.analysis import Analyzer, AnalyzerSettings, document_tokens
from ragcli.errors import OutOfMemoryError

if TYPE_CHECKING:
    from ragcli.retrieval.base import TaskRunner
    from ragcli.retrieval.index import Index

BATCH_PASSAGES = 4000  # passages per tokenising task
PARALLEL_MIN_PASSAGES = 20_000  # below this, worker start-up costs more than it saves
CHUNK_ENTRIES = 1 << 20  # counts whose term ids numpy widens to 64 bits at a time (bincount, renumbering)
PARENT_CHECK_SECONDS = 0.2  # how often a tokenising worker checks that the build that started it lives

Task = tuple[Callable[..., Any], tuple[Any, ...]]  # a function and its arguments, run in order


def count_surfaces(
    texts: Sequence[str], settings: AnalyzerSettings
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Surface-token counts of a batch of texts split as `settings` say: (surface forms, CSR indptr,
    indices, counts).

    Runs in the tokenising workers; surface ids are local to the batch.
    """
    import scipy.sparse as sp

    ids: defaultdict[str, int] = defaultdict(count().__next__)  # a new surface gets the next id
    surface_id = ids.__getitem__  # mapped in C (map), not a Python call per token
    lengths = np.empty(len(texts), dtype=np.int64)
    columns = array("q")
    for row, text in enumerate(texts):
        tokens = document_tokens(text, settings)
        columns.extend(map(surface_id, tokens))
        lengths[row] = len(tokens)
    cols = np.frombuffer(columns, dtype=np.int64) if len(columns) else np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(len(texts), dtype=np.int32), lengths)
    matrix = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.int32), (rows, cols.astype(np.int32))), shape=(len(texts), len(ids))
    )
    matrix.sum_duplicates()
    return list(ids), matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32), matrix.data.astype(np.int32)


class _SurfaceIds(dict[str, int]):
    """A dict whose missing keys are computed by `compute` once, then kept (`__missing__`)."""

    def __init__(self, compute: Callable[[str], int]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: str) -> int:
        value = self[key] = self._compute(key)
        return value


class CountMatrixBuilder:
    """Stacks count rows (new batches and reused ones) over one growing vocabulary."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        # surface form → provisional term id (-1: dropped), a form analysed when first looked up
        self.surface_term = _SurfaceIds(lambda surface: self._term_id(self.analyzer.term_of(surface)))
        self.term_ids: dict[str, int] = {}  # term → provisional id
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (row lengths, term ids, counts)
        self._old_terms: Sequence[str] | None = None
        self._old_mapping: np.ndarray | None = None
        self._old_same = False  # whether the old vocabulary kept its ids (its rows need no renumbering)
        self._kept: Sequence[str] | None = None  # the earlier vocabulary whose terms kept their ids
        self._kept_ids: np.ndarray | None = None

    def _term_id(self, term: str | None) -> int:
        if term is None:
            return -1
        return self.term_ids.setdefault(term, len(self.term_ids))

    def add_batch(self, surfaces: list[str], indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> None:
        """Rows counted by `count_surfaces`, mapped to terms."""
        import scipy.sparse as sp

        look_up = self.surface_term.__getitem__  # mapped in C (map); Python runs only for unseen forms
        to_term = np.fromiter(map(look_up, surfaces), dtype=np.int64, count=len(surfaces))
        columns = to_term[indices] if len(indices) else indices.astype(np.int64)
        rows = np.repeat(np.arange(len(indptr) - 1, dtype=np.int32), np.diff(indptr))
        kept = columns >= 0
        shape = (len(indptr) - 1, max(len(self.term_ids), 1))
        part = sp.csr_matrix((data[kept], (rows[kept], columns[kept].astype(np.int32))), shape=shape)
        part.sum_duplicates()
        self.parts.append((np.diff(part.indptr), part.indices.astype(np.int32), part.data.astype(np.int32)))

    def keep_ids(self, terms: Sequence[str]) -> None:
        """Register an earlier build's vocabulary before anything else, so its terms keep their ids."""
        if not self.term_ids:
            self.term_ids = {t: i for i, t in enumerate(terms)}
            if len(self.term_ids) == len(terms):
                self._kept = terms
            else:  # a term listed twice: ids by first appearance instead
                self.term_ids = {}
                for term in terms:
                    self._term_id(term)

    def kept_ids(self) -> np.ndarray | None:
        """For each term of the vocabulary `finish` returned, its id in the vocabulary `keep_ids` kept
        (-1: a new term); None when no earlier vocabulary kept its ids."""
        return self._kept_ids

    def add_rows(self, counts: Any, terms: Sequence[str], start: int, end: int) -> None:
        """Rows [start, end) of an existing count matrix whose columns are `terms`."""
        if self._old_mapping is None or self._old_terms is not terms:
            # the whole old vocabulary is registered once (terms no row uses are dropped by finish());
            # registered first, it keeps its ids, and its rows are copied without renumbering them
            self._old_terms = terms
            self.keep_ids(terms)
            if self._kept is terms:
                self._old_mapping, self._old_same = np.arange(len(terms), dtype=np.int32), True
            else:
                ids = (self._term_id(t) for t in terms)
                self._old_mapping = np.fromiter(ids, dtype=np.int32, count=len(terms))
                self._old_same = bool(np.array_equal(self._old_mapping, np.arange(len(terms), dtype=np.int32)))
        # the rows' arrays as views of the old index's (memory-mapped): `finish` copies them once, into
        # the new matrix, where slicing the scipy matrix would copy them once more before that
        lo, hi = int(counts.indptr[start]), int(counts.indptr[end])
        indices = counts.indices[lo:hi]
        if not self._old_same:
            indices = self._old_mapping[indices]
        self.parts.append((np.diff(counts.indptr[start : end + 1]), indices, counts.data[lo:hi]))

    def finish(self) -> tuple[Any, list[str]]:
        """(counts as CSR with columns in sorted-term order, the sorted vocabulary of used terms).

        An earlier build's vocabulary is sorted and registered first, so its rows stay sorted through
        the renumbering: only rows counted anew are sorted (all of them in a full build)."""
        import scipy.sparse as sp

        width = len(self.term_ids)
        lengths = [part[0] for part in self.parts]
        indptr = np.zeros(sum(map(len, lengths)) + 1, dtype=np.int64)
        if lengths:
            np.cumsum(np.concatenate(lengths), out=indptr[1:])
        empty = np.zeros(0, dtype=np.int32)  # np.concatenate wants at least one array
        indices = np.concatenate([empty, *(part[1] for part in self.parts)], dtype=np.int32)
        data = np.concatenate([empty, *(part[2] for part in self.parts)], dtype=np.int32)
        self.parts = []
        df = np.zeros(width, dtype=np.int64)
        for lo in range(0, len(indices), CHUNK_ENTRIES):  # numpy widens what bincount counts: a chunk at a time
            df += np.bincount(indices[lo : lo + CHUNK_ENTRIES], minlength=width)
        used = (df > 0).tolist()
        terms = [t for t, i in self.term_ids.items() if used[i]]  # ids were given in the dict's order
        provisional = np.flatnonzero(df > 0)
        if not all(map(str.__lt__, terms, terms[1:])):  # sorted already: an earlier vocabulary, no new term
            order = sorted(range(len(terms)), key=terms.__getitem__)
            terms, provisional = [terms[i] for i in order], provisional[np.asarray(order, dtype=np.int64)]
        vocabulary = terms
        final = np.full(width, -1, dtype=np.int32)
        final[provisional] = np.arange(len(vocabulary), dtype=np.int32)
        if self._kept is not None:
            self._kept_ids = np.where(provisional < len(self._kept), provisional, -1)
        same = len(vocabulary) == width and bool(np.array_equal(final, np.arange(width, dtype=np.int32)))
        if not same:
            for lo in range(0, len(indices), CHUNK_ENTRIES):  # in place, a chunk of widened indexes at a time
                indices[lo : lo + CHUNK_ENTRIES] = final[indices[lo : lo + CHUNK_ENTRIES]]
        # a new matrix: scipy checks afresh whether its rows are sorted (the check is one pass in C)
        counts = sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, len(vocabulary)))
        if not counts.has_sorted_indices:
            counts.sort_indices()
        return counts, vocabulary


def reused(first: int, last: int) -> tuple[str, int, int]:
    """A counting task for reused rows: nothing to count, it only keeps its place in the order."""
    return ("reuse", first, last)


def _start_worker(parent: int) -> None:
    """Each tokenising worker's initializer. Ctrl-C is the build's to handle (it stops the workers):
    a worker ignores it, where each printed a KeyboardInterrupt traceback, and the one that came while
    it started, held back since (`_ctrl_c_held`), is dropped with it.
    And the worker ends with `parent`, the build that started it: a build killed outright (SIGKILL: the
    OOM killer) left its workers hanging for good, holding its stderr open (`ragcli index … | tee log`
    never ended). A thread watching the parent, not Linux's PR_SET_PDEATHSIG (Linux only, and fired
    when the *thread* that started the worker ends); it also sees a parent that died before this ran."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_end_with, args=(parent,), name="ragcli-parent-watch", daemon=True).start()


def _end_with(parent: int) -> None:
    while os.getppid() == parent:  # an orphan is adopted by another process (init, a subreaper)
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)  # nobody is left to read a result, or to report an error to


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """SIGINT blocked in this thread: a process it starts meanwhile inherits the mask, and holds back a
    Ctrl-C that comes while its interpreter starts. This process gets it at the end (or at once, in a
    thread that does not block it)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _worker_pool(jobs: int) -> Any:
    """joblib's process pool (loky) for the tokenising tasks, its workers quiet on Ctrl-C and bound to
    this process (`_start_worker`)."""
    from multiprocessing import resource_tracker

    from joblib import Parallel
    from joblib.parallel import LokyBackend

    # loky starts the standard library's resource tracker with the first worker if it is not running, and
    # that start unblocks SIGINT in the thread (Python 3.11 to 3.13): started now, it leaves the mask be
    resource_tracker.ensure_running()

    class QuietWorkers(LokyBackend):  # type: ignore[misc]  # joblib ships no types
        def submit(self, func: Any, callback: Any = None) -> Any:
            with _ctrl_c_held():  # loky starts the workers in the first submit
                return super().submit(func, callback)

    backend = QuietWorkers(initializer=_start_worker, initargs=(os.getpid(),))
    return Parallel(n_jobs=jobs, backend=backend, return_as="generator", pre_dispatch=f"{2 * jobs}", batch_size=1)


def _from_workers(results: Iterator[Any]) -> Iterator[Any]:
    """The pool's results; a worker the system killed (the out-of-memory killer's SIGKILL, most often)
    is exit 14 with the signal, not an internal error: the build stops and the previous index stays."""
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    try:
        yield from results
    except TerminatedWorkerError as exc:
        codes = re.search(r"exit codes of the workers are \{([^}]*)\}", str(exc))
        raise OutOfMemoryError(
            f"a worker process counting the passages was killed ({codes.group(1) if codes else 'by a signal'})",
            hint="the system kills a process when memory runs out: free memory, or build with --jobs 1",
        ) from None


def count_all(
    tasks: Iterator[Task],
    counts: CountMatrixBuilder,
    old: Index | None,
    jobs: int,
    expected: int,
    runner: TaskRunner | None = None,
) -> None:
    """Run the counting tasks (on `runner`'s workers, e.g. a Ray cluster; else in worker processes
    when the corpus is large enough) and stack their rows in task order: the merge is the same
    whichever ran them."""
    old_counts, old_terms = None, []
    if old is not None:
        with old.reused("term counts"):
            old_counts, old_terms = old.counts_matrix(), old.lexicon.terms.strings(0, len(old.lexicon.terms))
        counts.keep_ids(old_terms)
    if runner is not None:
        results: Iterator[Any] = runner.run(tasks)
    elif jobs > 1 and expected >= PARALLEL_MIN_PASSAGES:
        from joblib import delayed

        results = _from_workers(_worker_pool(jobs)(delayed(fn)(*args) for fn, args in tasks))
    else:
        results = (fn(*args) for fn, args in tasks)
    for result in results:
        if result[0] == "reuse":
            assert old is not None  # reused rows come from the old index only
            with old.reused("term counts"):
                counts.add_rows(old_counts, old_terms, result[1], result[2])
        else:
            counts.add_batch(*result)


def counts_payload(counts: Any) -> dict[str, Any]:
    return {
        "indptr": counts.indptr.astype(np.int64, copy=False),
        "indices": counts.indices.astype(np.int32, copy=False),
        "data": counts.data.astype(np.int32, copy=False),
        "shape": list(counts.shape),
    }
