"""The line reader of `ragcli chat`: questions typed at a terminal, with line editing and history.

In a terminal, stdlib `readline` (where Python has it) gives line editing and a history kept across
sessions in ragcli's cache folder (`chat_history`; $RAGCLI_CACHE moves it). The loop ends on EOF
(Ctrl-D), `exit` or `quit`, or Ctrl-C at the prompt. Without a terminal (a pipe, a file) the questions
are the stream's lines, each answered as it arrives (`ragcli.answering.question_batches`).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from ragcli.answering import question_batches
from ragcli.models import cache_root
from ragcli.retrieval.index import question_text

PROMPT = "> "
EXIT_WORDS = frozenset({"exit", "quit"})
HISTORY_FILE = "chat_history"
HISTORY_LENGTH = 1000


def history_path() -> Path:
    """Where the questions typed at `ragcli chat` are remembered."""
    return cache_root() / HISTORY_FILE


def questions(
    stream: IO[str] | None = None, history: Path | None = None, refuse: Callable[[str], None] | None = None
) -> Iterator[str]:
    """The questions to answer: typed at the prompt when `stream` (default stdin) is a terminal, else
    the stream's non-empty lines as they arrive (a line too long for a question told to `refuse`, as
    `question_batches` does); each as `question_text` gives it (a pasted colour code would become a
    word of the chat's topic), a line it leaves empty skipped."""
    stream = stream or sys.stdin
    if stream.isatty():
        return _typed(history if history is not None else history_path())
    return _piped(stream, refuse)


def _piped(stream: IO[str], refuse: Callable[[str], None] | None) -> Iterator[str]:
    for batch in question_batches(stream, limit=1, refuse=refuse):
        yield from batch


def _typed(history: Path) -> Iterator[str]:
    readline = _readline()
    if readline is not None:
        readline.set_history_length(HISTORY_LENGTH)
        with contextlib.suppress(OSError):  # none yet, or unreadable: start without
            if _own_file(history):
                readline.read_history_file(str(history))
    try:
        while True:
            try:
                line = input(PROMPT)
            except (EOFError, KeyboardInterrupt):
                return
            text = question_text(line)
            if text.lower() in EXIT_WORDS:
                return
            if text:
                yield text
    finally:
        if readline is not None:
            with contextlib.suppress(OSError):  # a read-only cache folder costs the history, not the session
                history.parent.mkdir(parents=True, exist_ok=True)
                if _own_file(history):
                    readline.write_history_file(str(history))


def _own_file(path: Path) -> bool:
    """Whether the history file is one ragcli may read and rewrite: none yet, or a regular file, not a
    link (a link to another file was cut to 1,000 lines) nor a FIFO (chat hung before its prompt)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return True


def _readline() -> Any:
    try:
        import readline
    except ImportError:  # Python built without it (Windows): input() still reads lines
        return None
    return readline
