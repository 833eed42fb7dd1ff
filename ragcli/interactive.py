"""The line reader of `ragcli chat`: questions typed at a terminal, with line editing and history.

In a terminal, stdlib `readline` (where Python has it) gives line editing and a history kept across
sessions in ragcli's cache folder (`chat_history`; $RAGCLI_CACHE moves it): each session appends its
questions at its end, or when its terminal is closed (SIGHUP), so two chats at once both keep theirs. The
prompt goes to stderr when stdout is no terminal (`chat --json > file`). The loop ends on EOF
(Ctrl-D), `exit` or `quit`, or Ctrl-C at the prompt. Without a terminal (a pipe, a file) the questions
are the stream's lines, each answered as it arrives (`ragcli.answering.question_batches`), up to the
end of the stream or a line `exit` or `quit`, as at the prompt.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from ragcli.answering import question_batches, split_lines
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
        for text in batch:
            if _ends(text):  # a scripted session ending with `exit` ends there, as at the prompt
                return
            yield text


def _ends(text: str) -> bool:
    """Whether a line is `exit` or `quit`, which end the chat wherever its questions come from."""
    return text.lower() in EXIT_WORDS


def _typed(history: Path) -> Iterator[str]:
    readline = _readline()
    session = _History(readline, history) if readline is not None else None
    hangup = signal.getsignal(signal.SIGHUP) if hasattr(signal, "SIGHUP") else signal.SIG_IGN
    if session is not None and hangup is not signal.SIG_IGN:  # not under nohup
        signal.signal(signal.SIGHUP, session.save_and_hang_up)
    try:
        while True:
            shown = _prompt_stream()
            try:
                typed = _ask(shown)
            except (EOFError, KeyboardInterrupt):
                if shown is not None:  # the shell's next prompt starts a line of its own, not after `> `
                    print(file=shown, flush=True)
                return
            # lines pasted at once come back as one (bracketed paste): each is a question, as over a pipe
            for line in split_lines(typed):
                text = question_text(line)
                if _ends(text):
                    return
                if text:
                    if session is not None:
                        session.add(line)
                    yield text
    finally:
        if session is not None:
            if hangup is not signal.SIG_IGN:
                signal.signal(signal.SIGHUP, hangup)
            session.save()


def _prompt_stream() -> IO[str] | None:
    """Where the prompt goes. It is for people, so to the terminal: stdout when it is one, else stderr
    (`chat --json > file` keeps stdout JSON Lines alone), else nowhere."""
    return next((stream for stream in (sys.stdout, sys.stderr) if stream.isatty()), None)


def _ask(shown: IO[str] | None) -> str:
    """One line typed at the prompt, the prompt shown on `shown`."""
    if shown is None:
        return input("")
    if shown is sys.stdout:
        return input(PROMPT)
    with _stdout_on(shown.fileno()):
        return input(PROMPT)


@contextlib.contextmanager
def _stdout_on(fd: int) -> Iterator[None]:
    """File descriptor 1 pointed at `fd` meanwhile: input() uses readline (line editing, history) only
    when stdout is a terminal, and readline writes its prompt to file descriptor 1."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(fd, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class _History:
    """The prompt's history: the earlier sessions' questions read at the start, and this session's
    appended to the file at its end (a rewrite of the whole file from what was read at the start drops
    what a chat running at the same time appended meanwhile), or when the terminal is closed (SIGHUP)."""

    def __init__(self, readline: Any, path: Path) -> None:
        self.readline, self.path = readline, path
        self.added = 0  # this session's lines, not yet in the file
        readline.set_history_length(HISTORY_LENGTH)  # the file is cut to it when lines are appended
        readline.set_auto_history(False)  # `add` counts what the session adds
        with contextlib.suppress(OSError):  # none yet, or unreadable: start without
            if _own_file(path):
                readline.read_history_file(str(path))

    def add(self, line: str) -> None:
        """Remember a question typed (not again right after itself, as readline's own history does)."""
        length = self.readline.get_current_history_length()
        if length == 0 or self.readline.get_history_item(length) != line:
            self.readline.add_history(line)
            self.added += 1

    def save(self) -> None:
        """Append this session's lines to the file (readline then cuts it to HISTORY_LENGTH lines)."""
        added, self.added = self.added, 0
        if not added:
            return
        with contextlib.suppress(OSError):  # a read-only cache folder costs the history, not the session
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not _own_file(self.path):
                return
            append = getattr(self.readline, "append_history_file", None)
            if append is None:  # a readline without it (some libedit builds): the whole history, as before
                self.readline.write_history_file(str(self.path))
                return
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
            os.close(os.open(self.path, flags, 0o600))  # readline appends only to a file that exists
            append(min(added, HISTORY_LENGTH), str(self.path))

    def save_and_hang_up(self, signum: int, frame: object) -> None:
        """SIGHUP's handler during a chat: the history saved, then the signal's own ending (the terminal
        is gone: nothing more can be asked or shown)."""
        self.save()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


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
