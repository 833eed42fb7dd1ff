"""Output: rich tables for people on stdout, JSON for pipes on stdout, everything else on stderr.

stdout carries results only, so `ragcli query --json ... | jq` never sees a progress bar or a warning.
Colour follows rich's rules: off when stdout is not a terminal or when NO_COLOR is set.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ragcli.records import Hit

if TYPE_CHECKING:
    from ragcli.answering import Answer
    from ragcli.generation.base import StreamingGenerator
    from ragcli.indexing.settings import BuildReport
    from ragcli.plugins import PluginInfo

Highlighter = Callable[[str], list[tuple[int, int]]]  # passage text → spans to highlight
NO_MATCH = "No passage matches this question (all its words are unknown to the index or stopwords)."

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
        body = Text(
            "No answer found in the retrieved passages." if answer.sources else "Nothing was retrieved to answer from.",
            style="italic",
        )
    else:
        body = Text(printable(text, newlines=True) or "…")
        for match in re.finditer(r"\[\d+\]", body.plain):
            body.stylize("bold cyan", match.start(), match.end())
    return Panel(body, title=f"answer · {escape(who)}", title_align="left", border_style="green")


def timings_line(timings: dict[str, float]) -> str:
    labels = {"retrieve": "retrieved", "load": "model loaded", "generate": "generated"}
    parts = [
        f"{labels.get(k, k)} in {format_seconds(v)}" for k, v in timings.items() if k in labels and (v or k != "load")
    ]
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


def note(message: str) -> None:
    """One line for people on stderr (a notice, a file written), printed as is."""
    stderr_console().print(printable(message), markup=False, soft_wrap=True, highlight=False)


def index_summary(report: BuildReport, verbose: bool) -> list[str]:
    """The lines `ragcli index` prints on stderr: skipped files and warnings with -v, then the summary."""
    lines = []
    if verbose:
        lines += [f"skipped {s.path}: {s.reason}" for s in report.skipped]
        lines += [f"warning: {w}" for w in report.warnings]
    verb = "Up to date:" if report.up_to_date else "Indexed"
    line = (
        f"{verb} {report.documents:,} documents ({report.passages:,} passages, {report.terms:,} terms) "
        f"from {report.files:,} files in {report.seconds:.1f} s → {report.index_dir} ({human_bytes(report.size_bytes)})"
    )
    if report.unchanged or report.removed or report.changed:
        line += f"; files: {report.new} new, {report.changed} changed, {report.removed} removed, {report.unchanged} unchanged"
    if report.skipped:
        line += f"; skipped {len(report.skipped)}: {summarize_reasons(s.reason for s in report.skipped)}"
        if not verbose:
            line += " (--verbose lists them)"
    return [*lines, line]


def tune_table(
    title: str,
    k1_values: list[float],
    b_values: list[float],
    scores: dict[tuple[float, float], float],
    best: tuple[float, float],
) -> Table:
    """The k1 × b grid of a tuning run, the best cell in bold."""
    table = Table(title=escape(title), title_justify="left")
    table.add_column("k1 \\ b", justify="right")
    for value in b_values:
        table.add_column(f"{value:g}", justify="right")
    for k1 in k1_values:
        cells = [Text(f"{scores[(k1, b)]:.4f}", style="bold" if (k1, b) == best else "") for b in b_values]
        table.add_row(f"{k1:g}", *cells)
    return table


def plugins_table(plugins: list[PluginInfo]) -> Table:
    table = Table(title="registered parts", title_justify="left")
    for column in ("kind", "name", "module", "from"):
        table.add_column(column)
    for info in plugins:
        origin = "built-in" if info.builtin else info.distribution
        if info.shadowed:
            origin += " (shadowed by the built-in)"
        table.add_row(info.kind, escape(info.name), escape(info.module), escape(origin))
    return table


def print_hits(
    question: str, retriever: str, hits: list[Hit], highlight: Highlighter, as_json: bool, jsonl: bool
) -> None:
    """Retrieval results: a table for people (or a line saying nothing matched), or JSON."""
    if as_json:
        record = {"query": question, "retriever": retriever, "hits": [h.to_dict() for h in hits]}
        write_json(record, indent=None if jsonl else 2)
        return
    console = stdout_console()
    if not hits:
        console.print(NO_MATCH, markup=False)
        return
    console.print(hits_table(f"{retriever} · {question}", hits, highlight))


def print_answer(item: Answer, highlight: Highlighter) -> None:
    """An answer panel, its sources (✓ on the cited ones) and the timings."""
    console = stdout_console()
    console.print(answer_panel(item))
    if item.sources:
        console.print(hits_table("sources", item.sources, highlight, cited=set(item.citations)))
    console.print(timings_line(item.timings), style="dim")


def print_streamed_answer(
    item: Answer, generator: StreamingGenerator, load_seconds: float, highlight: Highlighter
) -> None:
    """The answer token by token as the model writes it (a terminal only), then as `print_answer`."""
    from rich.live import Live

    from ragcli.answering import stream_answer

    with Live(answer_panel(item, partial=""), console=stdout_console(), refresh_per_second=12, transient=True) as live:
        stream_answer(item, generator, load_seconds, on_text=lambda text: live.update(answer_panel(item, partial=text)))
    print_answer(item, highlight)
