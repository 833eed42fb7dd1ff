"""Patterns compiled on first use (`ragcli.patterns`): every one the generation modules define compiles,
and one behaves as the compiled pattern does."""

from __future__ import annotations

import importlib
import pickle
import re
from collections.abc import Iterator
from typing import Any

import pytest

from ragcli.patterns import _Later, compiled_later

MODULES = ("extractive", "phrases", "questions", "superlatives", "comparisons", "respectively")


def later_patterns(value: Any, depth: int = 0) -> Iterator[_Later]:
    """The lazily compiled patterns in a module-level value (inside tuples, lists, dicts too)."""
    if isinstance(value, _Later):
        yield value
    elif depth < 3 and isinstance(value, (tuple, list, set, frozenset)):
        for item in value:
            yield from later_patterns(item, depth + 1)
    elif depth < 3 and isinstance(value, dict):
        for item in value.values():
            yield from later_patterns(item, depth + 1)


@pytest.mark.parametrize("name", MODULES)
def test_every_pattern_of_the_generation_modules_compiles(name: str) -> None:
    module = importlib.import_module(f"ragcli.generation.{name}")
    found = [p for value in vars(module).values() for p in later_patterns(value)]
    assert found, f"{name} defines no compiled_later pattern"
    for pattern in found:
        assert isinstance(pattern.search, type(re.compile("").search)), pattern  # compiles, or raises re.error


def test_a_pattern_compiled_later_behaves_as_the_compiled_one() -> None:
    text = "The Queen lays 2,000 eggs; the queen rests."
    eager, later = re.compile(r"\bqueen\b", re.IGNORECASE), compiled_later(r"\bqueen\b", re.IGNORECASE)
    assert later.pattern == eager.pattern and "_compiled" not in vars(later)  # its text needs no compiling
    for method in ("search", "match", "fullmatch", "findall", "split"):
        assert repr(getattr(later, method)(text)) == repr(getattr(eager, method)(text))
    assert [m.span() for m in later.finditer(text)] == [m.span() for m in eager.finditer(text)]
    assert later.sub("Q", text) == eager.sub("Q", text) and later.flags == eager.flags
    assert pickle.loads(pickle.dumps(later)).search(text).span() == eager.search(text).span()  # type: ignore[union-attr]
    broken = compiled_later("(unclosed")
    with pytest.raises(re.error):
        broken.search("x")
