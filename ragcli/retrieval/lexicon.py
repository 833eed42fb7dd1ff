"""The vocabulary of an index: sorted terms, plus a sorted array of their 64-bit hashes.

A query process builds nothing at start-up: the compiled kernel finds a term by binary search over the
sorted strings (a fraction of a microsecond); without it, `np.searchsorted` on the stored hashes does,
and the string comparison settles hash collisions. Incremental builds reuse the stored hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ragcli.retrieval.kernel import KERNEL
from ragcli.store import StringTable


def term_hash(term: str) -> int:
    """A stable 64-bit hash of a term (the vocabulary is looked up by it; Python's hash() is salted).
    A lone surrogate, in no vocabulary, still hashes ("surrogatepass"; other strings are plain UTF-8)."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def lexicon_payload(vocabulary: list[str], reused: tuple[Lexicon, np.ndarray] | None = None) -> dict[str, Any]:
    """The vocabulary (sorted) plus its term hashes in sorted order, for O(log n) lookups in C.
    `reused`: an earlier build's lexicon and, per term of `vocabulary`, its id there (-1: a new term),
    so a re-index hashes only the new terms."""
    if reused is None:
        hashes = np.fromiter(map(term_hash, vocabulary), dtype=np.uint64, count=len(vocabulary))
    else:
        hashes = reused[0].hashes_by_id()[np.maximum(reused[1], 0)]
        for i in np.flatnonzero(reused[1] < 0).tolist():
            hashes[i] = term_hash(vocabulary[i])
    order = np.argsort(hashes, kind="stable")
    return {
        **StringTable.from_strings(vocabulary).to_payload("term"),
        "hash_sorted": hashes[order],
        "hash_term": order.astype(np.int64),
    }


class Lexicon:
    """The vocabulary, looked up by binary search (over the strings, or over their hashes without
    the kernel): nothing to build when a query process starts."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.terms = StringTable.from_payload(payload, "term")
        self.hash_sorted = payload["hash_sorted"]
        self.hash_term = payload["hash_term"]

    def __len__(self) -> int:
        return len(self.terms)

    def hashes_by_id(self) -> np.ndarray:
        """Each term's stored hash, by term id (reused by an incremental build)."""
        by_term = np.zeros(len(self.terms), dtype=np.uint64)
        by_term[np.asarray(self.hash_term)] = self.hash_sorted
        return by_term

    def term_ids(self, terms: Sequence[str]) -> list[int | None]:
        """The id of each term, None for terms the corpus does not hold."""
        return [None if i < 0 else i for i in self._positions(list(terms))]

    def _positions(self, terms: list[str]) -> list[int]:
        """Each term's id, -1 for a term the corpus does not hold. With the compiled kernel, a binary
        search over the sorted strings themselves (the vocabulary is written in code point order,
        which is UTF-8's byte order: no hash to compute); else through the sorted hashes."""
        if KERNEL is not None and hasattr(KERNEL, "find_terms"):  # not in an older build
            found: list[int] = KERNEL.find_terms(self.terms.offsets, self.terms.blob, terms)
            return found
        n = len(self.hash_sorted)
        if not terms or n == 0:
            return [-1] * len(terms)
        values = np.array([term_hash(t) for t in terms], dtype=np.uint64)
        positions = np.searchsorted(self.hash_sorted, values).tolist()
        ids: list[int] = []
        for term, value, position in zip(terms, values.tolist(), positions):
            found_id = -1
            while position < n and int(self.hash_sorted[position]) == value:
                candidate = int(self.hash_term[position])  # hashes may collide: the string decides
                if self.terms[candidate] == term:
                    found_id = candidate
                    break
                position += 1
            ids.append(found_id)
        return ids

    def term_id(self, term: str) -> int | None:
        return self.term_ids([term])[0]

    def query_vector(self, terms: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """(term ids, counts) of the known terms, in the order they first occur; unknown terms are dropped."""
        counted = _count(terms)
        found = self._positions(list(counted))
        ids = [i for i in found if i >= 0]  # distinct terms: distinct ids
        counts = list(counted.values())
        if len(ids) < len(found):
            counts = [n for i, n in zip(found, counts) if i >= 0]
        return np.array(ids, dtype=np.int64), np.array(counts, dtype=np.float64)

    def query_vectors(self, queries: Iterable[Iterable[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`query_vector` for many queries at once, packed: (offsets, term ids, counts), query i's
        terms at [offsets[i], offsets[i + 1]). One look-up and a few numpy calls for the whole batch,
        not a few per query: the per-query Python is only the counting."""
        names: list[str] = []
        counts: list[int] = []
        sizes: list[int] = []
        for terms in queries:
            counted = _count(terms)
            names.extend(counted)
            counts.extend(counted.values())
            sizes.append(len(counted))
        found = np.array(self._positions(names), dtype=np.int64)
        known = found >= 0
        kept = np.bincount(np.repeat(np.arange(len(sizes)), sizes)[known], minlength=len(sizes))
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(kept, out=offsets[1:])
        return offsets, found[known], np.array(counts, dtype=np.float64)[known]


def _count(terms: Iterable[str]) -> dict[str, int]:
    """Each term's count, in the order the terms first occur (a plain dict: Counter's Mapping check
    costs more than the counting)."""
    counted: dict[str, int] = {}
    for term in terms:
        counted[term] = counted.get(term, 0) + 1
    return counted
