"""Regular expressions compiled when first used rather than when their module is imported.

The extractive generator's modules define about 170 patterns, several of them thousands of characters
of alternatives in many languages; compiling them all took ~60 ms of every `ragcli query`, though one
question uses a few dozen (about 40 for a first question, 93 over eight varied ones). Python's `re` has
no lazy or persistent compilation, hence these few lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast


class _Later:
    """Stands for `re.compile(pattern, flags)` until an attribute of the compiled pattern is asked for;
    then compiles once and keeps each attribute asked for on itself, so that later calls of `search`,
    `match`… cost what the compiled pattern's own do. `pattern` is there without compiling (patterns
    are built from other patterns' text at import), unless it is built by a function: then on first use."""

    def __init__(self, pattern: str | Callable[[], str], flags: int) -> None:
        if callable(pattern):
            self._build = pattern
        else:
            self.pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str) -> Any:
        if name == "pattern" and "_build" in self.__dict__:
            self.pattern = self._build()
            return self.pattern
        if name.startswith("__") or name in ("pattern", "_flags", "_build"):  # copy and pickle probe before __init__
            raise AttributeError(name)
        compiled = self.__dict__.get("_compiled")
        if compiled is None:
            compiled = self.__dict__["_compiled"] = re.compile(self.pattern, self._flags)
        value = getattr(compiled, name)
        self.__dict__[name] = value
        return value

    def __reduce__(self) -> tuple[type[_Later], tuple[str, int]]:
        return _Later, (self.pattern, self._flags)

    def __repr__(self) -> str:
        return f"compiled_later({self.pattern!r}, {self._flags})"


def compiled_later(pattern: str | Callable[[], str], flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)`, compiled on first use; `pattern` may be a function that writes it
    then (one built from what is costly to read at import: `analysis.mark_class`). An invalid pattern
    raises then, not at import: tests/test_patterns.py compiles every one the generation modules define."""
    return cast("re.Pattern[str]", _Later(pattern, flags))
