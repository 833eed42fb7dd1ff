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

from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from ragcli.records import Hit, Skipped

if TYPE_CHECKING:
    from ragcli.answering import Answer
    from ragcli.evaluation.runner import EvalReport
    from ragcli.generation.base import Generator, StreamingGenerator
    from ragcli.indexing.settings import BuildReport
    from ragcli.plugins import PluginInfo
    from ragcli.training.retriever import EpochResult, TrainingResult

Highlighter = Callable[[str], list[tuple[int, int]]]  # passage text → spans to highlight
NO_MATCH = "No passage matches this question (all its words are unknown to the index or stopwords)."

SNIPPET_CHARS = 320

# Terminal control sequences (ECMA-48), removed whole so that neither their effect nor their
# parameters show: CSI (ESC [ or 8-bit 0x9b: colours, clear screen, cursor moves), strings ended by
# BEL or ST (ESC ] OSC: window titles, OSC 8 hyperlinks; ESC P/X/^/_ and 8-bit 0x90/0x98/0x9d-0x9f:
# DCS, SOS, PM, APC), and the other escapes (ESC, intermediates, one final byte: reset, charsets).
# A string without its terminator loses only its introducer.
_SEQUENCE_RE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x00-\x1f\x7f-\x9f]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
# What is left to neutralise: C0/C1 control characters but the newline, and the bidirectional
# embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069), which reorder what a
# terminal shows ("invoice\u202efdp.exe" would read "invoiceexe.pdf"). Marks (U+200E, U+200F) stay.
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, newlines: bool = False) -> str:
    """`text` safe for a terminal: escape sequences removed whole, other control characters (bells,
    NUL, CR, tabs, bidi overrides) as spaces, newlines as spaces unless `newlines`. Nothing in a
    question, a corpus, a file name or an answer can drive the terminal."""
    return _neutralise(_SEQUENCE_RE.sub("", text), newlines)


def _neutralise(text: str, newlines: bool = False) -> str:
    """Control characters left once the sequences are gone (and newlines, unless kept) as spaces."""
    text = _CONTROL_RE.sub(" ", text)
    return text if newlines else text.replace("\n", " ")


def _printable_with_positions(text: str) -> tuple[str, list[int]]:
    """`printable(text)` and, for each position 0..len(text) of `text`, its position in the result
    (so highlight spans found on the raw text can be moved onto the printable one)."""
    pieces: list[str] = []
    positions: list[int] = []
    done = kept = 0
    for match in _SEQUENCE_RE.finditer(text):
        piece = text[done : match.start()]
        pieces.append(piece)
        positions.extend(range(kept, kept + len(piece)))
        kept += len(piece)
        positions.extend([kept] * (match.end() - match.start()))
        done = match.end()
    piece = text[done:]
    pieces.append(piece)
    positions.extend(range(kept, kept + len(piece) + 1))
    return _neutralise("".join(pieces)), positions  # one pass, as printable(): joining makes no new sequence


class SafeConsole(Console):
    """A rich Console that cannot emit a control character it did not make itself: every segment's
    text loses its control characters (zero-width to rich, so tables keep their layout) and every
    hyperlink is dropped. It is the last line of defence behind `printable()`: a print path that
    forgets to clean its data still cannot drive the terminal. Every console ragcli prints through
    comes from `stdout_console()` or `stderr_console()` (a test checks that no other is made)."""

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control:  # rich's own cursor moves (Live, progress bars)
                yield segment
                continue
            style = segment.style
            yield Segment(
                _CONTROL_RE.sub("", segment.text),
                style.update_link(None) if style is not None and style.link else style,
            )


def stdout_console() -> Console:
    return SafeConsole(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    return SafeConsole(stderr=True, highlight=False)


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
    window, positions = _printable_with_positions(text[start:end])
    rich_text = Text(prefix + window + (" …" if end < len(text) else ""))
    for s, e in spans:
        if start <= s and e <= end and positions[s - start] < positions[e - start]:
            rich_text.stylize("bold yellow", positions[s - start] + len(prefix), positions[e - start] + len(prefix))
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
    if partial is None and getattr(answer, "fallback", None):
        who = f"{answer.fallback} ({who} gave no answer)"
    if partial is None and not text:
        body = Text(
            "No answer found in the retrieved passages." if answer.sources else "Nothing was retrieved to answer from.",
            style="italic",
        )
    else:
        body = Text(printable(text, newlines=True) or "…")
        for match in re.finditer(r"\[\d+\]", body.plain):
            body.stylize("bold cyan", match.start(), match.end())
    return Panel(body, title=f"answer · {escape(printable(who))}", title_align="left", border_style="green")


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
    table = Table(show_header=False, title=Text(f"index {printable(str(info['path']))}"), title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in info.items():
        if key == "path":
            continue
        if key == "size_bytes":
            key, shown = "size", human_bytes(int(value))
        elif isinstance(value, dict):
            shown = printable(", ".join(f"{k}={v}" for k, v in value.items())) or "-"
        elif isinstance(value, list):  # one item a line
            shown = "\n".join(printable(str(v)) for v in value) or "-"
        elif isinstance(value, int):
            shown = f"{value:,}"
        else:
            shown = printable(str(value))
        table.add_row(Text(printable(str(key))), Text(shown))
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
    if report.ignored:
        line += f"; ignored {report.ignored:,} (ignore files, --include/--exclude)"
    if report.rows or report.rows_removed:  # database roots: the row is the unit of reuse
        line += (
            f"; rows: {report.rows_new:,} new, {report.rows_changed:,} changed, {report.rows_removed:,} removed, "
            f"{report.rows_unchanged:,} unchanged"
        )
    if report.skipped:
        line += f"; skipped {len(report.skipped)}: {summarize_reasons(s.reason for s in report.skipped)}"
        if not verbose:
            line += " (--verbose lists them)"
    return [*lines, line]


def evaluation_skips(lines: list[Skipped], corpus: dict[str, int], listed: int = 10) -> list[str]:
    """The lines `ragcli evaluate` prints on stderr about what it left out: the dataset's bad lines
    (the first `listed` of them with file:line) and the BEIR corpus's records, counted by reason."""
    shown = [f"skipped {s.path}: {s.reason}" for s in lines[:listed]]
    if len(lines) > listed:
        shown.append(
            f"skipped {len(lines) - listed:,} more lines: {summarize_reasons(s.reason for s in lines[listed:])}"
        )
    if corpus:
        reasons = ", ".join(f"{number:,} {reason}" for reason, number in corpus.items())
        shown.append(f"corpus: skipped {sum(corpus.values()):,} documents: {reasons}")
    return shown


def tune_table(
    title: str,
    k1_values: list[float],
    b_values: list[float],
    scores: dict[tuple[float, float], float],
    best: tuple[float, float],
) -> Table:
    """The k1 × b grid of a tuning run, the best cell in bold."""
    table = Table(title=Text(printable(title)), title_justify="left")
    table.add_column("k1 \\ b", justify="right")
    for value in b_values:
        table.add_column(f"{value:g}", justify="right")
    for k1 in k1_values:
        cells = [Text(f"{scores[(k1, b)]:.4f}", style="bold" if (k1, b) == best else "") for b in b_values]
        table.add_row(f"{k1:g}", *cells)
    return table


METRIC_ORDER = (
    *("ndcg", "recall", "precision", "mrr", "hit_rate", "map", "exact_match", "f1", "match", "bleu", "rouge_l"),
    *("citation_precision", "citation_recall", "groundedness"),
)


def _metric_key(name: str) -> tuple[int, int]:
    base, _, cutoff = name.partition("@")
    return (METRIC_ORDER.index(base) if base in METRIC_ORDER else len(METRIC_ORDER), int(cutoff or 0))


def _answers_line(report: EvalReport) -> str:
    """The caption's line on answers: which generator and model, and the seconds each answer took."""
    if not report.generator:
        return ""
    who = report.generator.get("name") or "?"
    model = report.generator.get("model")
    seconds = [
        f"{format_seconds(c.timings['generate_s_per_query'])} ({c.name})"
        for c in report.configs
        if "generate_s_per_query" in c.timings
    ]
    return (
        f"\nanswers by {printable(str(who))}"
        + (f" · {printable(str(model))}" if model else "")
        + (f" · {', '.join(seconds)} per answer" if seconds else "")
    )


def comparison_table(report: EvalReport) -> Table:
    """One row per metric, one column per configuration; the best value of each row in bold."""
    counts = report.counts
    caption = (
        f"index {printable(report.index)}\n{counts['judged']} judged queries of {counts['queries']}"
        + (
            f" ({counts['without_relevant']} without a relevant document, left out)"
            if counts["without_relevant"]
            else ""
        )
        + (f"; {counts['with_answers']} with gold answers" if counts["with_answers"] else "")
        + (f"; {counts['skipped_lines']} invalid lines skipped" if counts["skipped_lines"] else "")
        + _answers_line(report)
    )
    table = Table(
        title=Text(printable(report.dataset)), caption=Text(caption), title_justify="left", caption_justify="left"
    )
    table.add_column("metric")
    for config in report.configs:
        table.add_column(Text(printable(config.name)), justify="right")
    names = sorted({m for c in report.configs for m in c.metrics}, key=_metric_key)
    for name in names:
        values = [c.metrics.get(name) for c in report.configs]
        best = max((v for v in values if v is not None), default=None)
        cells = [
            "–" if v is None else (f"[bold]{v:.4f}[/]" if v == best and len(values) > 1 else f"{v:.4f}") for v in values
        ]
        table.add_row(Text(printable(name)), *cells)
    return table


def plugins_table(plugins: list[PluginInfo]) -> Table:
    table = Table(title="registered parts", title_justify="left")
    for column in ("kind", "name", "module", "from"):
        table.add_column(column)
    for info in plugins:
        origin = "built-in" if info.builtin else info.distribution
        if info.shadowed:
            origin += " (shadowed by the built-in)"
        table.add_row(*(Text(printable(cell)) for cell in (info.kind, info.name, info.module, origin)))
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
    item: Answer,
    generator: StreamingGenerator,
    load_seconds: float,
    highlight: Highlighter,
    fallback: Generator | None = None,
) -> None:
    """The answer token by token as the model writes it (a terminal only), then as `print_answer`."""
    from rich.live import Live

    from ragcli.answering import stream_answer

    with Live(answer_panel(item, partial=""), console=stdout_console(), refresh_per_second=12, transient=True) as live:
        stream_answer(
            item,
            generator,
            load_seconds,
            on_text=lambda text: live.update(answer_panel(item, partial=text)),
            fallback=fallback,
        )
    print_answer(item, highlight)


def training_epoch_line(epoch: EpochResult, base: float | None) -> str:
    """The stderr line after each training epoch: its mean loss and validation nDCG@10."""
    line = f"epoch {epoch.epoch}: loss {epoch.loss:.4f}"
    if epoch.validation_ndcg is not None:
        line += f", validation nDCG@10 {epoch.validation_ndcg:.4f}"
        if base is not None:
            line += f" (base model {base:.4f})"
    return line


def training_table(result: TrainingResult) -> Table:
    """What `ragcli train retriever` did: per epoch loss and validation nDCG@10, the kept epoch in bold."""
    caption = (
        f"{result.examples} training pairs from {result.training_queries} questions of {printable(result.data)}; "
        f"{result.validation_queries} held out for validation\n"
        f"{format_seconds(result.seconds)} on {result.device} · saved to {printable(result.output)}"
    )
    table = Table(
        title=Text(f"fine-tuned {printable(result.base_model)}"),
        caption=Text(caption),
        title_justify="left",
        caption_justify="left",
    )
    for name in ("epoch", "loss", "validation nDCG@10"):
        table.add_column(name, justify="right")
    if result.base_validation_ndcg is not None:
        table.add_row("base", "–", f"{result.base_validation_ndcg:.4f}")
    for epoch in result.epochs:
        score = "–" if epoch.validation_ndcg is None else f"{epoch.validation_ndcg:.4f}"
        style = "bold" if epoch.epoch == result.best_epoch else ""
        table.add_row(str(epoch.epoch), f"{epoch.loss:.4f}", score, style=style)
    return table
