"""The vocabulary of an index: terms looked up through a sorted array of 64-bit hashes.

A query process builds nothing at start-up: `np.searchsorted` on the stored hash map finds a term in
a few microseconds, and the string comparison settles hash collisions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ragcli.retrieval.kernel import KERNEL
from ragcli.store import StringTable


def term_hash(term: str) -> int:
    """A stable 64-bit hash of a term (the vocabulary is looked up by it; Python's hash() is salted)."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest(), "little")


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


MAX_CACHED = 200_000  # looked-up terms a Lexicon remembers (a few tens of MB at most)


class Lexicon:
    """The vocabulary, looked up through a sorted array of term hashes (np.searchsorted on the map):
    nothing to build when a query process starts, a few microseconds per query term."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.terms = StringTable.from_payload(payload, "term")
        self.hash_sorted = payload["hash_sorted"]
        self.hash_term = payload["hash_term"]
        self._known: dict[str, int | None] = {}  # terms looked up before: a long-lived process's queries repeat them

    def __len__(self) -> int:
        return len(self.terms)

    def hashes_by_id(self) -> np.ndarray:
        """Each term's stored hash, by term id (reused by an incremental build)."""
        by_term = np.zeros(len(self.terms), dtype=np.uint64)
        by_term[np.asarray(self.hash_term)] = self.hash_sorted
        return by_term

    def term_ids(self, terms: Sequence[str]) -> list[int | None]:
        """The id of each term, None for terms the corpus does not hold."""
        n = len(self.hash_sorted)
        if not terms or n == 0:
            return [None] * len(terms)
        values = [term_hash(t) for t in terms]
        ids: list[int | None] = []
        for term, value, position in zip(terms, values, self._first_positions(values)):
            found = None
            while position >= 0:  # hashes may collide: the string decides, among every entry with this hash
                candidate = int(self.hash_term[position])
                if self.terms[candidate] == term:
                    found = candidate
                    break
                position += 1
                if position == n or int(self.hash_sorted[position]) != value:
                    break
            ids.append(found)
        return ids

    def _first_positions(self, values: list[int]) -> list[int]:
        """Where each hash first occurs in the sorted hashes (-1: nowhere); the compiled search when
        built (a query's few terms cost less there than numpy's per-call overhead), else numpy's."""
        if KERNEL is not None and hasattr(KERNEL, "find_hashes"):  # not in an older build
            found: list[int] = KERNEL.find_hashes(self.hash_sorted, values)
            return found
        hashes = np.array(values, dtype=np.uint64)
        positions = np.searchsorted(self.hash_sorted, hashes)
        at = np.minimum(positions, len(self.hash_sorted) - 1)
        return np.where(self.hash_sorted[at] == hashes, positions, -1).tolist()  # type: ignore[no-any-return]

    def term_id(self, term: str) -> int | None:
        return self.term_ids([term])[0]

    def query_vector(self, terms: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """(term ids, counts) of the known terms, in the order they first occur; unknown terms are dropped."""
        counted: dict[str, int] = {}  # a plain dict: Counter's Mapping check costs more than the counting
        for term in terms:
            counted[term] = counted.get(term, 0) + 1
        cache = self._known
        new = [term for term in counted if term not in cache]
        if new:
            if len(cache) + len(new) > MAX_CACHED:
                cache.clear()
            cache.update(zip(new, self.term_ids(new)))
        known: dict[int, int] = {}
        for term, count in counted.items():
            term_id = cache[term]
            if term_id is not None:
                known[term_id] = known.get(term_id, 0) + count
        ids = np.fromiter(known.keys(), dtype=np.int64, count=len(known))
        counts = np.fromiter(known.values(), dtype=np.float64, count=len(known))
        return ids, counts
