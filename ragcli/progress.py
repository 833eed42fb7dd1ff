"""Progress bars on stderr, drawn only when stderr is a terminal; the library reports progress
through plain callbacks, and these turn the callbacks into bars."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ragcli.render import stderr_console

if TYPE_CHECKING:
    from rich.progress import Progress


def progress_bar(
    *leading: str, trailing: tuple[str, ...] = (), elapsed: bool = False, estimate_seconds: float = 30.0
) -> Progress | None:
    """A transient bar on stderr (text columns, bar, done/total, [elapsed], time left), or None when
    stderr is not a terminal. `leading` and `trailing` are text column templates; the time left comes
    from the speed over the last `estimate_seconds` (longer than a step, or there is none to show)."""
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
        return None

    def text(template: str) -> TextColumn:  # descriptions are data (retriever names, files): never markup
        return TextColumn(template, markup=False)

    columns: list[Any] = [*map(text, leading), BarColumn(), MofNCompleteColumn(), *map(text, trailing)]
    if elapsed:
        columns.append(TimeElapsedColumn())
    return Progress(
        *columns, TimeRemainingColumn(), console=console, transient=True, speed_estimate_period=estimate_seconds
    )


@contextmanager
def index_progress(
    enabled: bool,
) -> Iterator[tuple[Callable[[str, int, int, int], None] | None, Callable[[int, int], None] | None]]:
    """The bars of `ragcli index`: files read (with passages so far) and, when it starts, passages
    embedded. Yields the two callbacks `build_index` takes, or Nones without a terminal."""
    bar = progress_bar("{task.description}", trailing=("{task.fields[unit]}",), elapsed=True) if enabled else None
    if bar is None:
        yield None, None
        return
    with bar:
        files = bar.add_task("indexing", total=None, unit="files")
        embedding = bar.add_task("embedding", total=None, unit="passages", visible=False)

        def on_file(path: str, done: int, total: int, passages: int) -> None:
            bar.update(files, completed=done, total=total, unit=f"files · {passages:,} passages")

        def on_embed(done: int, total: int) -> None:
            bar.update(embedding, completed=done, total=total, visible=True)

        yield on_file, on_embed


@contextmanager
def counting_progress(
    label: str, total: int | None = None, description: str = "", estimate_seconds: float = 30.0
) -> Iterator[Callable[..., None] | None]:
    """A bar that a library callback moves: yields `update(done, total, description=…)`, or None
    when there is no terminal to draw on. Slow steps (training) want a longer `estimate_seconds`."""
    bar = progress_bar(label, "{task.description}", estimate_seconds=estimate_seconds)
    if bar is None:
        yield None
        return
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
def evaluation_progress(
    queries: int, answers: int
) -> Iterator[tuple[Callable[[str, int, int], None] | None, Callable[[int], None] | None]]:
    """The bars of `ragcli evaluate`: queries retrieved (per configuration) and, when a generator runs,
    answers generated (the long part with a model). Yields the runner's two callbacks, or Nones
    without a terminal."""
    bar = progress_bar("{task.description}")
    if bar is None:
        yield None, None
        return
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
