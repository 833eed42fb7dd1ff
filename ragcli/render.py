"""Output: rich tables for people on stdout, JSON for pipes on stdout, everything else on stderr.

stdout carries results only, so `ragcli query --json ... | jq` never sees a progress bar or a warning.
Colour follows rich's rules: off when stdout is not a terminal or when NO_COLOR is set.
"""
from __future__ import annotations

import json
import re
import sys
from typing import Any, Callable, Iterable, TextIO

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ragcli.index import Hit

SNIPPET_CHARS = 320
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # C0/C1 control characters but the newline


def printable(text: str, newlines: bool = False) -> str:
    """Control characters (terminal escapes, bells, NUL, CR) as spaces, the same length so highlight
    spans still line up: nothing in a question, a corpus or an answer can drive the terminal."""
    text = _CONTROL_RE.sub(" ", text)
    return text if newlines else text.replace("\n", " ")


def stdout_console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def write_json(data: Any, stream: TextIO | None = None, *, indent: int | None = 2) -> None:
    """One JSON document (or, with indent=None, one JSON Lines record) on stdout."""
    stream = stream or sys.stdout
    stream.write(json.dumps(data, ensure_ascii=False, indent=indent) + "\n")
    stream.flush()


def snippet(text: str, spans: list[tuple[int, int]], width: int = SNIPPET_CHARS) -> Text:
    """A window of `text` around its first match, with the matched words highlighted."""
    start = 0
    if spans and spans[0][0] > width // 3:
        start = text.rfind(" ", 0, spans[0][0] - width // 4) + 1
    end = min(len(text), start + width)
    if end < len(text):
        cut = text.rfind(" ", start, end)
        end = cut if cut > start else end
    prefix = "… " if start else ""
    # same length as the original window, so the spans still line up
    window = printable(text[start:end])
    rich_text = Text(prefix + window + (" …" if end < len(text) else ""))
    for s, e in spans:
        if start <= s and e <= end:
            rich_text.stylize("bold yellow", s - start + len(prefix), e - start + len(prefix))
    return rich_text


def hits_table(
    title: str, hits: list[Hit], spans_of: Callable[[str], list[tuple[int, int]]], cited: set[int] | None = None
) -> Table:
    """A table of passages: number (✓ when the answer cites it), score, source, highlighted snippet."""
    table = Table(title=escape(printable(title)), title_justify="left", show_lines=True, expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("source", no_wrap=True, overflow="fold", max_width=36)
    table.add_column("passage", ratio=1)
    for hit in hits:
        shows_title = hit.title and hit.title not in hit.text[: len(hit.title) + 20]
        body = Text(printable(hit.title) + "\n", style="bold") if shows_title else Text()
        body.append_text(snippet(hit.text, spans_of(hit.text)))
        number = f"{hit.rank} ✓" if cited is not None and hit.rank in cited else str(hit.rank)
        table.add_row(number, f"{hit.score:.3f}", Text(printable(hit.citation), style="cyan"), body)
    return table


def answer_panel(answer: Any, partial: str | None = None) -> Panel:
    """The answer in a panel titled with the generator that wrote it."""
    text = partial if partial is not None else answer.answer
    who = answer.model or answer.generator or "generating"
    if partial is None and not text:
        body = Text("No answer found in the retrieved passages." if answer.sources else "Nothing was retrieved to answer from.", style="italic")
    else:
        body = Text(printable(text, newlines=True) or "…")
        for match in re.finditer(r"\[\d+\]", body.plain):
            body.stylize("bold cyan", match.start(), match.end())
    return Panel(body, title=f"answer · {escape(who)}", title_align="left", border_style="green")


def timings_line(timings: dict[str, float]) -> str:
    labels = {"retrieve": "retrieved", "load": "model loaded", "generate": "generated"}
    parts = [f"{labels.get(k, k)} in {format_seconds(v)}" for k, v in timings.items() if k in labels and (v or k != "load")]
    return " · ".join(parts)


def format_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def summarize_reasons(reasons: Iterable[str]) -> str:
    """'3 unsupported file type .png, 1 binary content' from a list of reasons."""
    counts: dict[str, int] = {}
    for reason in reasons:
        key = reason.split(":")[0]
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def info_table(info: dict[str, Any]) -> Table:
    table = Table(show_header=False, title=f"index {escape(info['path'])}", title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in info.items():
        if key == "path":
            continue
        if key == "size_bytes":
            key, value = "size", human_bytes(int(value))
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list):
            value = "\n".join(map(str, value)) or "-"
        elif isinstance(value, int):
            value = f"{value:,}"
        table.add_row(key, escape(str(value)))
    return table


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
