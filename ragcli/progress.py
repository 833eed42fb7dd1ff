"""Progress on stderr for everything that takes over a second: bars when stderr is a terminal, and
when it is not (a CI log, `2> file`), a plain line every few seconds (`ragcli: embedding 4,100/5,183
passages (79%), ETA 0:35`) so that a log shows life. The library reports progress through plain
callbacks; these turn the callbacks into bars or lines. `-q` shows neither.

`RAGCLI_PROGRESS_INTERVAL` sets the seconds between two plain lines (default 5; 0: a line per update).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from ragcli.render import note, printable, printable_name, stderr_console

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

PLAIN_INTERVAL = 5.0  # seconds between two plain progress lines
MB = 1_000_000


def plain_interval() -> float:
    """Seconds between two plain progress lines: $RAGCLI_PROGRESS_INTERVAL, else 5."""
    try:
        return max(0.0, float(os.environ.get("RAGCLI_PROGRESS_INTERVAL", PLAIN_INTERVAL)))
    except ValueError:
        return PLAIN_INTERVAL


def clock(seconds: float) -> str:
    """0:35, 12:04, 1:02:09: how long is left, as a person reads it."""
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")


def _wording(description: str) -> str:
    """A description with its numbers left out: what names the stage."""
    return _NUMBER_RE.sub("#", description)


class PlainProgress:
    """The part of rich's `Progress` that ragcli's bars use (`add_task`, `update`, `remove_task`, same
    signatures), written
    as a plain line on stderr at most every `interval` seconds, and at once when a task's description
    changes (a new stage: "loading embedding model"). The line holds the same text columns as the bar,
    done/total, the percentage and the time left; no cursor moves, no colour."""

    def __init__(self, leading: tuple[str, ...], trailing: tuple[str, ...], interval: float) -> None:
        self.leading, self.trailing, self.interval = leading, trailing, interval
        self.tasks: dict[int, SimpleNamespace] = {}
        self.last = time.monotonic()  # the first line comes after one interval: a fast step prints nothing

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(
        self,
        description: str,
        start: bool = True,
        total: float | None = 100.0,
        completed: int = 0,
        visible: bool = True,
        **fields: Any,
    ) -> TaskID:
        number = len(self.tasks)
        self.tasks[number] = SimpleNamespace(
            description=description, total=total, visible=visible, completed=completed, fields=fields, first=None
        )
        return cast("TaskID", number)

    def remove_task(self, task_id: TaskID) -> None:
        self.tasks.pop(task_id, None)

    def update(
        self,
        task_id: TaskID,
        *,
        total: float | None = None,
        completed: float | None = None,
        advance: float | None = None,
        description: str | None = None,
        visible: bool | None = None,
        refresh: bool = False,
        **fields: Any,
    ) -> None:
        task = self.tasks.get(task_id)
        if task is None:
            return
        now = time.monotonic()
        # a new stage is new wording, not new numbers: "epoch 2/60 · loss 0.41" after "epoch 1/60 · loss
        # 0.52" waits for the interval (60 fast epochs were 60 lines), "validating epoch 2" does not
        stage = description is not None and _wording(description) != _wording(task.description)
        if description is not None:
            task.description = description
        if total is not None:
            task.total = total
        if visible is not None:
            task.visible = visible
        if advance is not None:
            completed = task.completed + advance
        if completed is not None:
            if completed < task.completed or (task.first is None and completed > 0):
                task.first = (now, completed)  # the rate is measured from here: model loading is not in it
            task.completed = completed
        task.fields.update(fields)
        if task.visible and (stage or now - self.last >= self.interval):
            self.last = now
            note(self.line(task, now))

    def line(self, task: SimpleNamespace, now: float) -> str:
        """`ragcli: embedding 4,100/5,183 passages (79%), ETA 0:35`"""
        words = [template.format(task=task) for template in self.leading]
        done = int(task.completed)
        words.append(f"{done:,}/{int(task.total):,}" if task.total else f"{done:,}" if done else "")
        words += [template.format(task=task) for template in self.trailing]
        text = " ".join(word for word in words if word)
        if task.total:
            text += f" ({100 * task.completed / task.total:.0f}%)"
            if task.first is not None and task.completed > task.first[1] and now > task.first[0]:
                rate = (task.completed - task.first[1]) / (now - task.first[0])
                text += f", ETA {clock(max(0.0, task.total - task.completed) / rate)}"
        return f"ragcli: {printable(text)}"


def progress_bar(
    *leading: str, trailing: tuple[str, ...] = (), elapsed: bool = False, estimate_seconds: float = 30.0
) -> Progress | PlainProgress:
    """A transient bar on stderr (text columns, bar, done/total, [elapsed], time left) when stderr is a
    terminal, else plain lines every few seconds (`PlainProgress`). `leading` and `trailing` are text
    column templates; the time left comes from the speed over the last `estimate_seconds` (longer than
    a step, or there is none to show)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = stderr_console()
    if not console.is_terminal:
        return PlainProgress(leading, trailing, plain_interval())

    def text(template: str) -> TextColumn:  # descriptions are data (retriever names, files): never markup
        return TextColumn(template, markup=False)

    columns: list[Any] = [*map(text, leading), BarColumn(), MofNCompleteColumn(), *map(text, trailing)]
    if elapsed:
        columns.append(TimeElapsedColumn())
    return Progress(
        *columns, TimeRemainingColumn(), console=console, transient=True, speed_estimate_period=estimate_seconds
    )


@contextmanager
def waiting(message: str) -> Iterator[None]:
    """While something with no steps to count runs (a model loading): a spinner with `message` on a
    terminal, else the message as a plain line if it is still running after one interval."""
    console = stderr_console()
    if console.is_terminal:
        from rich.text import Text

        with console.status(Text(printable(message))):
            yield
        return
    timer = threading.Timer(plain_interval(), note, args=(f"ragcli: {message}",))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@contextmanager
def index_progress(
    enabled: bool,
) -> Iterator[tuple[Callable[..., None] | None, Callable[..., None] | None]]:
    """The bars of `ragcli index`: files read (with passages so far), bytes read within a big file (one
    large JSON Lines file is most of some corpora) and, when it starts, the embedding model loading and
    passages embedded (the files row is gone by then). Yields the two callbacks `build_index` takes,
    or Nones with `enabled` false (-q, --json)."""
    bar = progress_bar("{task.description}", trailing=("{task.fields[unit]}",), elapsed=True) if enabled else None
    if bar is None:
        yield None, None
        return
    with bar:
        files: TaskID | None = bar.add_task("indexing", total=None, unit="files")
        reading = bar.add_task("reading", total=None, unit="MB", visible=False)
        embedding = bar.add_task("embedding", total=None, unit="passages", visible=False)

        def on_file(path: str, done: int, total: int, passages: int, position: tuple[int, int] | None = None) -> None:
            if files is None:
                return
            if position is not None:  # within one big file: bytes read of its size
                read, size = position
                scale, label = (MB, "MB") if size >= 100 * MB else (1000, "kB")
                unit = f"{label} of {printable_name(os.path.basename(path))} · {passages:,} passages"
                bar.update(reading, completed=read // scale, total=max(1, size // scale), unit=unit, visible=True)
                return
            bar.update(reading, visible=False)
            bar.update(files, completed=done, total=total, unit=f"files · {passages:,} passages")

        def on_embed(done: int, total: int, stage: str | None = None) -> None:
            nonlocal files
            if files is not None:  # reading is over: its rows go, none stays behind stale
                bar.remove_task(files)
                bar.remove_task(reading)
                files = None
            description = "loading the embedding model" if stage == "loading" else "embedding"
            bar.update(embedding, completed=done, total=total, visible=True, description=description)

        yield on_file, on_embed


@contextmanager
def counting_progress(
    label: str, total: int | None = None, description: str = "", estimate_seconds: float = 30.0, enabled: bool = True
) -> Iterator[Callable[..., None]]:
    """A bar (or plain lines) that a library callback moves: yields `update(done, total, description=…)`,
    which does nothing with `enabled` false (--quiet). Slow steps (training) want a longer `estimate_seconds`."""
    if not enabled:
        yield lambda *args, **kwargs: None
        return
    bar = progress_bar(label, "{task.description}", estimate_seconds=estimate_seconds)
    with bar:
        task = bar.add_task(description, total=total)

        def update(done: int, total: int | None = None, description: str | None = None) -> None:
            fields: dict[str, Any] = {"completed": done}
            if total is not None:
                fields["total"] = total
            if description is not None:
                fields["description"] = description
            bar.update(task, **fields)

        yield update


@contextmanager
def embedding_progress() -> Iterator[Callable[..., None]]:
    """The bar of an embedding run outside `ragcli index` (`evaluate` adding vectors to a BEIR corpus's
    index): the model loading, then passages embedded with the time left."""
    bar = progress_bar("{task.description}", trailing=("passages",))
    with bar:
        task = bar.add_task("embedding", total=None, visible=False)

        def on_embed(done: int, total: int, stage: str | None = None) -> None:
            description = "loading the embedding model" if stage == "loading" else "embedding"
            bar.update(task, completed=done, total=total, visible=True, description=description)

        yield on_embed


@contextmanager
def evaluation_progress(
    queries: int, answers: int
) -> Iterator[tuple[Callable[[str, int, int], None] | None, Callable[[int], None] | None]]:
    """The bars of `ragcli evaluate`: queries retrieved (per configuration) and, when a generator runs,
    answers generated (the long part with a model). Yields the runner's two callbacks."""
    bar = progress_bar("{task.description}")
    with bar:
        retrieving = bar.add_task("evaluating", total=queries)
        answering = bar.add_task("answering", total=answers, visible=answers > 0)
        generated = 0

        def on_query(config: str, done: int, total: int) -> None:
            bar.update(retrieving, completed=done, total=total, description=f"evaluating {config}")

        def on_answers(count: int) -> None:
            nonlocal generated
            generated += count
            bar.update(answering, completed=generated)

        yield on_query, on_answers
