"""The compiled part of retrieval, `ragcli.retrieval._topk` (built by setup.py from _topk.c), or None.

It is optional: without a C compiler at install time the package installs anyway and every caller
takes its numpy route, with the same results (why C and not numba: the header of _topk.c).
"""

from __future__ import annotations

from types import ModuleType

KERNEL: ModuleType | None
try:
    from ragcli.retrieval import _topk as KERNEL
except ImportError:  # pragma: no cover - only without a C compiler at install time
    KERNEL = None
