"""Progress bars on stderr, drawn only when stderr is a terminal; the library reports progress
through plain callbacks, and these turn the callbacks into bars."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ragcli.render import stderr_console

if TYPE_CHECKING:
    from rich.progress import Progress


def progress_bar(label: str) -> Progress | None:
    """A transient progress bar on stderr, or None when stderr is not a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = stderr_console()
    if not console.is_terminal:
        return None
    return Progress(
        TextColumn(label),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


@contextmanager
def index_progress(
    enabled: bool,
) -> Iterator[tuple[Callable[[str, int, int, int], None] | None, Callable[[int, int], None] | None]]:
    """The bars of `ragcli index`: files read (with passages so far) and, when it starts, passages
    embedded. Yields the two callbacks `build_index` takes, or Nones without a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = stderr_console()
    if not enabled or not console.is_terminal:
        yield None, None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        files = bar.add_task("indexing", total=None, unit="files")
        embedding = bar.add_task("embedding", total=None, unit="passages", visible=False)

        def on_file(path: str, done: int, total: int, passages: int) -> None:
            bar.update(files, completed=done, total=total, unit=f"files · {passages:,} passages")

        def on_embed(done: int, total: int) -> None:
            bar.update(embedding, completed=done, total=total, visible=True)

        yield on_file, on_embed


@contextmanager
def counting_progress(
    label: str, total: int | None = None, description: str = ""
) -> Iterator[Callable[..., None] | None]:
    """A bar that a library callback moves: yields `update(done, total, description=…)`, or None
    when there is no terminal to draw on."""
    bar = progress_bar(label)
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
