"""Output: rich tables for people on stdout, JSON for pipes on stdout, everything else on stderr.

stdout carries results only, so `ragcli query --json ... | jq` never sees a progress bar or a warning.
Colour follows rich's rules: off when stdout is not a terminal or when NO_COLOR is set.
"""

from __future__ import annotations

import codecs
import errno
import json
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from rich.cells import cell_len, get_character_cell_size
from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from ragcli.errors import mask_secrets
from ragcli.readers.base import is_url
from ragcli.readers.generated import GENERATED
from ragcli.records import Hit, Skipped, json_text
from ragcli.retrieval.distinct import fold_identical, same_words
from ragcli.terminal_text import TERMINAL_SEQUENCE_RE

if TYPE_CHECKING:
    from pathlib import Path

    from ragcli.answering import Answer
    from ragcli.errors import EmptyCorpusError
    from ragcli.evaluation.runner import ConfigResult, EvalReport
    from ragcli.evaluation.tuning import TuneRow
    from ragcli.generation.base import Generator, StreamingGenerator
    from ragcli.indexing.settings import BuildReport
    from ragcli.plugins import PluginInfo
    from ragcli.training.compare import Comparison
    from ragcli.training.generator import TrainingReport
    from ragcli.training.retriever import EpochResult, TrainingResult

Highlighter = Callable[[str], list[tuple[int, int]]]  # passage text → spans to highlight
NO_MATCH = "No passage matches this question (all its words are unknown to the index or stopwords)."

SNIPPET_CHARS = 320
ECHO_CHARS = 200  # of a question repeated above its results
SOURCE_WIDTH = 36  # the sources table's path column; longer paths lose their middle, not their file name
SOURCE_VIEWS = ("auto", "full", "cited", "compact", "none")
CAPTION_PATH = 70  # a path in a table caption: shortened in the middle so that it never wraps at 80 columns
CAPTION_WIDTH = 80  # the widest a results table is made for its caption's lines (wider ones wrap)

# What is left to neutralise once the sequences (TERMINAL_SEQUENCE_RE) are gone: C0/C1 control
# characters but the newline, the line and paragraph separators (U+2028, U+2029: a terminal may break
# the line, a table's row with it), and the bidirectional embedding, override and isolate controls
# (U+202A-U+202E, U+2066-U+2069), which reorder what a terminal shows ("invoice\u202efdp.exe" would
# read "invoiceexe.pdf"). Marks (U+200E, U+200F) stay.
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]")


def printable(text: str, newlines: bool = False) -> str:
    """`text` safe for a terminal: escape sequences removed whole, other control characters (bells,
    NUL, CR, tabs, bidi overrides, line separators) as spaces, newlines as spaces unless `newlines`.
    Nothing in a question, a corpus or an answer can drive the terminal (names: `printable_name`)."""
    return _neutralise(TERMINAL_SEQUENCE_RE.sub("", text), newlines)


def printable_name(name: str) -> str:
    """`name` (a path, a citation, a record id, a metadata key, a setting's value) as it is, but with each
    character a terminal would not show as itself (control characters and the escape that starts a
    sequence, zero-width, bidirectional and other format characters, line separators, a non-UTF-8
    byte) written as a Python string literal writes it (`a\\x07b.txt`, `a\\x1b[0mb.txt`,
    `a\\u200bb.txt`), and a backslash doubled, as repr does. What names are written with stays as it is
    (`_as_written`): spaces of every width and the zero-width joiners. Text is neutralised (`printable`); a name
    is escaped, because two files must never look alike and `path:line` must open the file itself."""
    return _escaped(name, "\\")


def printable_message(message: str) -> str:
    """A message for people (an error, a warning, a note, a skip line) as one line, its characters
    escaped as `printable_name` escapes a name's (the names it quotes are told apart as in a table),
    its backslashes as they are: a value a message quotes with `!r` is escaped already."""
    return _escaped(message, "")


def _escaped(text: str, also: str) -> str:
    """`text` with each character a name is not written with (`_as_written`), and each of `also`, as
    repr writes it."""
    if text.isprintable() and not (also and also in text):
        return text  # the common case: one scan
    return "".join(c if _as_written(c) and c not in also else repr(c)[1:-1] for c in text)


# Not printable to str.isprintable, yet part of how names are written: the zero-width non-joiner and
# joiner (Persian plurals, emoji sequences such as a family) and the tag characters of subdivision flags.
SHOWN_AS_WRITTEN = frozenset(chr(0x200C) + chr(0x200D)) | frozenset(map(chr, range(0xE0020, 0xE0080)))


def _as_written(character: str) -> bool:
    """Whether a name's `character` is shown as it is: a printable one, a space of any width (category
    Zs: a no-break space, Japanese's ideographic space) or one of `SHOWN_AS_WRITTEN`. Every other
    character str.isprintable refuses (controls, bidirectional and other format characters such as
    the zero width space, line separators, surrogates, private and unassigned ones) is escaped."""
    return character.isprintable() or character in SHOWN_AS_WRITTEN or unicodedata.category(character) == "Zs"


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
    for match in TERMINAL_SEQUENCE_RE.finditer(text):
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
    comes from `stdout_console()` or `stderr_console()` (a test checks that no other is made).
    Emoji codes are left as written: ragcli prints names and text it did not write, and rich would
    show a file "notes:smile:.md" as "notes😄.md"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("emoji", False)
        super().__init__(*args, **kwargs)

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

    def on_broken_pipe(self) -> None:
        """The reader went away (`ragcli query … | head`). rich's own answer, SystemExit(1), is the exit
        code of a bug in ragcli; a BrokenPipeError reaches cli.handle_errors, which ends with exit 0."""
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def stdout_console() -> Console:
    return _sized(SafeConsole(highlight=False, soft_wrap=False, width=_width()))


def stderr_console() -> Console:
    return _sized(SafeConsole(stderr=True, highlight=False, width=_width()))


def _sized(console: Console) -> Console:
    """`console`, DEFAULT_WIDTH wide when it writes to no terminal and $COLUMNS says no width: rich
    takes the width of a terminal on stdin or stderr, which is not the width of what reads a pipe or a
    file (`ragcli query … | cat` in a 40-column terminal squeezed each passage into 4 cells). A pipe
    gets the same lines whatever terminal ragcli was started from, as in a script or a CI job."""
    if not console.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
        console.width = DEFAULT_WIDTH
    return console


MIN_WIDTH, DEFAULT_WIDTH, MAX_WIDTH = 20, 80, 1000  # columns a console is laid out in, whatever $COLUMNS says


def _width() -> int | None:
    """None (rich's own choice: $COLUMNS, else the terminal's, else 80) unless $COLUMNS is a number
    out of range: below MIN_WIDTH, 80 (COLUMNS=0 printed nothing at all, error lines included); above
    MAX_WIDTH, MAX_WIDTH (COLUMNS=99999999999 ran out of memory)."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return None
    if columns < MIN_WIDTH:
        return DEFAULT_WIDTH
    return MAX_WIDTH if columns > MAX_WIDTH else None


def write_json(data: Any, stream: TextIO | None = None, *, indent: int | None = 2) -> None:
    """One JSON document (or, with indent=None, one JSON Lines record) on stdout."""
    stream = stream or sys.stdout
    text = _shown_as_written(json_text(data, indent))
    if not _holds(stream, text):
        text = _NON_ASCII_RE.sub(lambda match: _json_escape(match.group()), text)
    stream.write(text + "\n")
    stream.flush()


_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")


def _json_escape(character: str) -> str:
    """`character` as a JSON \\uXXXX escape (a pair of them beyond the BMP)."""
    return json.dumps(character)[1:-1]


def _shown_as_written(text: str) -> str:
    """JSON `text` with each character a terminal would not show as itself (DEL and C1 controls, bidi
    overrides and other format characters: what `printable_name` escapes in a name) as a \\uXXXX
    escape: the same data, but a passage's U+202E cannot reorder the lines a person reads. JSON's
    own escapes and layout (newlines, spaces) are printable ASCII already."""
    if all(line.isprintable() for line in text.split("\n")):
        return text  # the common case: one scan
    return "".join(c if c == "\n" or _as_written(c) else _json_escape(c) for c in text)


def _holds(stream: TextIO, text: str) -> bool:
    """Whether `stream`'s encoding can write `text` (not always: PYTHONIOENCODING=ascii, a latin-1
    locale). JSON that cannot is written with \\uXXXX escapes instead: the same data, pure ASCII."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        if codecs.lookup(encoding).name == "utf-8":
            return True
        text.encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return False
    return True


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


def middle_ellipsis(path: str, width: int) -> str:
    """`path` in at most `width` terminal cells (a CJK character takes two), cut in its middle at `/`
    boundaries where it can be ('docs/…/deep/notes.md:12'): the file name and line say where to look,
    so they stay whole; a path is never broken mid-word over two lines."""
    if cell_len(path) <= width or width < 2:
        return path
    parts = path.split("/")
    tail = parts[-1]
    if cell_len(tail) + 2 > width or len(parts) == 1:
        return "…" + _last_cells(path, width - 1)
    kept_head: list[str] = []
    kept_tail = [tail]
    rest = parts[:-1]

    def length() -> int:
        return cell_len("/".join([*kept_head, "…", *kept_tail]))

    if cell_len(rest[0]) + 2 + cell_len(tail) + 1 <= width:
        kept_head.append(rest[0])
        rest = rest[1:]
    while rest and length() + cell_len(rest[-1]) + 1 <= width:
        kept_tail.insert(0, rest.pop())
    return "/".join([*kept_head, "…", *kept_tail]) if rest else path


def _last_cells(text: str, width: int) -> str:
    """The end of `text` that fits in `width` terminal cells (a wide character is kept whole or not at all)."""
    taken = 0
    for start in range(len(text) - 1, -1, -1):
        taken += get_character_cell_size(text[start])
        if taken > width:
            return text[start + 1 :]
    return text


def _copies_note(hit: Hit, copies: list[Hit]) -> str:
    """ "+1 identical" (the same words), or "+2 near-identical" when some copy's text differs a little."""
    same = all(same_words(copy.text, hit.text) for copy in copies)
    return f"+{len(copies)} {'identical' if same else 'near-identical'}"


class OutputView:
    """How `query` shows its results: which sources under an answer (`SOURCE_VIEWS`), or `plain`
    grep-style lines for editors; `base` is the folder the hits' paths are relative to."""

    def __init__(self, sources: str = "auto", plain: bool = False, base: str | None = None) -> None:
        self.sources = sources
        self.plain = plain
        self.base = base

    @classmethod
    def checked(cls, sources: str, plain: bool, as_json: bool, generate: bool, jsonl: bool = False) -> OutputView:
        """The view the options ask for, refused before any work when they contradict each other or
        mean nothing: JSON (`as_json`; JSON Lines, `jsonl`, unless `plain`) holds every source, and
        --sources chooses what people are shown."""
        from ragcli.errors import InvalidOptionError

        if sources not in SOURCE_VIEWS:
            raise InvalidOptionError(f"--sources: unknown view {sources!r}", hint=", ".join(SOURCE_VIEWS))
        if plain and as_json:
            raise InvalidOptionError("--plain and --json contradict each other", hint="pass one of them")
        if sources != "auto" and (as_json or (jsonl and not plain)):
            output = "--json" if as_json else "JSON Lines (questions from -)"
            raise InvalidOptionError(
                f"--sources {sources} means nothing with {output}: it holds every source",
                hint="drop --sources, or pass --plain" if not as_json else "drop --sources or --json",
            )
        if not generate and sources in ("cited", "none"):
            raise InvalidOptionError(
                f"--sources {sources} needs an answer to cite from", hint="drop --no-generate, or use full or compact"
            )
        return cls(sources, plain)


def editor_path(path: str, base: str | None) -> str:
    """A hit's path as an editor opens it from here: relative to the current folder when inside it,
    else absolute (unchanged when the index does not know its folder, or for database rows)."""
    import os

    if base is None or ("#" in path and "://" in path):
        return path
    full = os.path.join(base, path)
    try:
        relative = os.path.relpath(full)
    except ValueError:  # another drive (Windows)
        return full
    return full if relative.startswith("..") else relative


def clipped(text: str, width: int) -> str:
    """`text` cut to about `width` characters at a space, with " …" where it was cut."""
    if len(text) <= width:
        return text
    return text[: text.rfind(" ", 0, width) if " " in text[:width] else width] + " …"


def plain_lines(hits: list[Hit], base: str | None = None, width: int = 200) -> list[str]:
    """`path:line:col: snippet` per distinct passage, as ripgrep's `--vimgrep` writes them (vim's
    `:cexpr`, Emacs' grep-mode and VS Code's problem matchers read them). The column is 1: a passage
    starts a line. A paged source's line is that of the page's text, so its page (a slide, a notebook
    cell), which the table and --json cite, leads the message: `report.pdf:4:1: p3: …` (in the location
    it would not be a line number an editor reads). No colour, no table."""
    lines = []
    for hit, copies in fold_identical(hits):
        page = f"p{hit.page}: " if hit.page else ""
        text = clipped(" ".join(printable(hit.text).split()), width)
        more = f" ({_copies_note(hit, copies)})" if copies else ""
        lines.append(f"{printable_name(editor_path(hit.path, base))}:{hit.line}:1: {page}{text}{more}")
    return lines


def source_lines(hits: list[Hit], width: int, scores: bool = False) -> list[Text]:
    """One line per distinct passage, `[1] path:line  title` (with `scores`, the score too), cut to
    `width` so that nothing wraps: the compact view."""
    shown = []
    for hit, copies in fold_identical(hits):
        title = printable(hit.title) or " ".join(printable(hit.text).split())[:80]
        line = Text(f"[{hit.rank}] ", style="bold cyan")
        if scores:
            line.append(f"{hit.score:.3f} ", style="dim")
        room = min(max(20, width // 2), width - line.cell_len - 1)  # narrow: the rest of the line, and its "…"
        line.append(middle_ellipsis(printable_name(hit.citation), room), style="cyan")
        line.append(f"  {title}")
        if copies:
            line.append(f" ({_copies_note(hit, copies)})", style="dim")
        line.truncate(width, overflow="ellipsis")
        shown.append(line)
    return shown


def _cited(item: Answer) -> list[Hit]:
    """The sources the answer cites, in ranking order (with a duplicate's copies: folding is shown)."""
    cited = set(item.citations)
    groups = fold_identical(item.sources)
    return [h for hit, copies in groups if {hit.rank, *(c.rank for c in copies)} & cited for h in (hit, *copies)]


def answer_view(item: Answer, highlight: Highlighter, sources: str, width: int) -> list[RenderableType]:
    """What `print_answer` shows for one answer in view `sources` (full, cited, compact or none)."""
    shown: list[RenderableType] = [answer_panel(item)]
    if sources == "full" and item.sources:
        shown.append(hits_table("sources", item.sources, highlight, cited=set(item.citations)))
    elif sources == "cited" and item.sources:
        cited = _cited(item)
        if cited:
            shown.append(hits_table("cited sources", cited, highlight, cited=set(item.citations)))
        else:
            shown.append(Text("The answer cites no source.", style="italic"))
    elif sources == "compact" and item.sources:
        cited = _cited(item)
        if not cited:
            shown.append(Text("The answer cites no source; the best passages:", style="italic"))
        shown.extend(source_lines(cited or item.sources[:3], width))
    shown.append(Text(timings_line(item.timings), style="dim"))
    return shown


PASSAGE_MIN_WIDTH = 10  # the narrowest passage column a table is shown with; narrower, the compact lines


def _fits(console: Console, shown: list[RenderableType]) -> bool:
    """Whether `shown` fits on the terminal's screen with the prompt line under it, each table with its
    rank, score and source whole."""
    if not all(_shows_whole(console, part) for part in shown if isinstance(part, Table)):
        return False
    options = console.options.update(height=None)
    lines = sum(len(console.render_lines(part, options, pad=False)) for part in shown)
    return lines <= console.height - 2


def _shows_whole(console: Console, table: Table) -> bool:
    """Whether `table`'s columns but its last (the passage) fit the console's width whole beside a last
    column PASSAGE_MIN_WIDTH wide: narrower, rich cuts the rank, score and source that link an answer's
    [n] to where it comes from."""
    fixed = sum(
        max(Measurement.get(console, console.options, cell).maximum for cell in [column.header, *column.cells])
        for column in table.columns[:-1]
    )
    return fixed + PASSAGE_MIN_WIDTH + 3 * len(table.columns) + 1 <= console.width  # borders, padding


def chosen_sources(console: Console, view: OutputView | None, full: list[RenderableType]) -> str:
    """The view `auto` stands for: the full table when it fits the terminal (or stdout is not a
    terminal: a file or a pipe takes everything, when as wide as the table needs), else the compact
    lines, so in an 80×24 terminal the answer never scrolls away under its sources, and in a narrow
    one (or `COLUMNS=30 ragcli query … | less`) each source keeps its rank and line."""
    sources = view.sources if view is not None else "auto"
    if sources != "auto":
        return sources
    if console.is_terminal:
        return "full" if _fits(console, full) else "compact"
    wide_enough = all(_shows_whole(console, part) for part in full if isinstance(part, Table))
    return "full" if wide_enough else "compact"


def hits_table(
    title: str, hits: list[Hit], spans_of: Callable[[str], list[tuple[int, int]]], cited: set[int] | None = None
) -> Table:
    """A table of passages: number (✓ when the answer cites it), score, source, highlighted snippet."""
    table = Table(title=escape(printable(title)), title_justify="left", show_lines=True, expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("source", no_wrap=True, max_width=SOURCE_WIDTH)  # shortened in the middle, never folded
    table.add_column("passage", ratio=1)
    for hit, copies in fold_identical(hits):
        shows_title = hit.title and hit.title not in hit.text[: len(hit.title) + 20]
        body = Text(printable(hit.title) + "\n", style="bold") if shows_title else Text()
        body.append_text(snippet(hit.text, spans_of(hit.text)))
        if copies:
            listed = ", ".join(printable_name(c.citation) for c in copies)
            body.append(f"\n({_copies_note(hit, copies)}: {listed})", "dim")
        ranks = {hit.rank, *(c.rank for c in copies)}
        number = f"{hit.rank} ✓" if cited is not None and ranks & cited else str(hit.rank)
        source = Text(middle_ellipsis(printable_name(hit.citation), SOURCE_WIDTH), style="cyan")
        table.add_row(number, f"{hit.score:.3f}", source, body)
    return table


ANSWER_TITLE_WIDTH = 74  # an answer panel's title at 80 columns, less the corners and the spaces around it


def answer_panel(answer: Any, partial: str | None = None) -> Panel:
    """The answer in a panel titled with the generator that wrote it."""
    text = partial if partial is not None else answer.answer
    who = answer.model or answer.generator or "generating"
    if partial is None and getattr(answer, "fallback", None):
        # rich cuts a long title at its end: the model's name (a folder's path) loses its middle instead, so
        # that "gave no answer" is read at 80 columns
        room = ANSWER_TITLE_WIDTH - len(f"answer · {answer.fallback} ( gave no answer)")
        who = f"{answer.fallback} ({middle_ellipsis(printable(who), room)} gave no answer)"
    if partial is None and not text:
        body = Text(
            "No answer found in the retrieved passages." if answer.sources else "Nothing was retrieved to answer from.",
            style="italic",
        )
    else:
        from ragcli.generation.base import CITATION_RE  # loaded already by whatever wrote the answer

        body = Text(printable(text, newlines=True) or "…")
        for match in CITATION_RE.finditer(body.plain):
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


# rows of `info_table` shown by the readable "settings" rows instead (still in --json)
_SHOWN_AS_SETTINGS = ("analyzer", "chunking", "bm25", "selection")
_RETRIEVER_NAMES = {"bm25": "BM25", "tfidf": "TF-IDF", "dense": "dense"}


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """'1 file', '2 files', '4,100 passages': a count and its noun in agreement (one helper for all output)."""
    return f"{count:,} {noun if count == 1 else plural_form or noun + 's'}"


def readable(value: Any) -> str:
    """A value as a row of a table shows it: on/off, numbers grouped, lists and dicts as words (never a
    Python repr)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    if value is None or value == [] or value == {}:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{str(k).replace('_', ' ')} {readable(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(readable(v) for v in value)
    return str(value)


def _settings_rows(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """The settings a re-index keeps, one readable row each (`ragcli index --OPTION` changes one)."""
    from ragcli.indexing.stored import LABELS
    from ragcli.readers.base import format_size

    rows = []
    for name, value in settings.items():
        if name in ("embedding_model", "embedding_precision") and not settings.get("dense"):
            continue
        if name == "delta" and settings.get("bm25_variant") not in ("bm25l", "bm25+"):
            continue
        if name.endswith("_field") and value is None:
            value = "(the usual names)"
        if name == "max_expanded_size":  # a limit in binary units, as skip reasons say it ("256 MiB")
            value = format_size(int(value))
        if name == "generated":
            value = "read" if value else "skipped"
        rows.append((LABELS.get(name, name), readable(value)))
    return rows


def info_table(info: dict[str, Any]) -> Table:
    table = Table(show_header=False, title=Text(f"index {printable_name(str(info['path']))}"), title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in info.items():
        if key in ("path", "rows", "dense_vectors") or (key in _SHOWN_AS_SETTINGS and "settings" in info):
            continue
        if key == "settings" and isinstance(value, dict):
            for label, shown in _settings_rows(value):
                table.add_row(Text(printable_name(label)), Text(printable_name(shown)))
            continue
        if key == "size_bytes":
            key, shown = "size", human_bytes(int(value))
        elif key == "verified":
            key, shown = "checksums", "verified: every payload matches its checksum" if value else "not verified"
        elif key == "sources":
            shown = _sources_text(int(value), int(info.get("rows", 0)), info.get("roots", []))
        elif key == "dense" and isinstance(value, dict):
            shown = printable_name(dense_text(value, info.get("dense_vectors")))
        elif key == "metadata_keys" and isinstance(value, dict):
            shown = _metadata_keys_text(value)
        elif isinstance(value, list) and key == "roots":  # one item a line
            shown = "\n".join(printable_name(str(v)) for v in value) or "-"
        else:
            shown = printable_name(readable(value))
        table.add_row(Text(printable_name(str(key).replace("_", " "))), Text(shown))
    return table


def dense_text(section: dict[str, Any], vectors: dict[str, int] | None) -> str:
    """`info`'s dense row: the model, the vectors the index holds, and what the last build embedded and
    reused, in words (the manifest's raw keys, timings included, stay in `--json`)."""
    settings = section.get("settings") or {}
    parts = [f"{settings.get('model', '?')} ({settings.get('precision', '?')})"]
    if vectors is not None:
        parts[0] += (
            f": {plural(vectors['dimensions'], 'dimension')}, vectors for {plural(vectors['passages'], 'passage')}"
        )
    if "embedded" in section:
        parts.append(
            f"the last build embedded {int(section['embedded']):,} and reused {int(section.get('reused', 0)):,}"
        )
    return "; ".join(parts)


MAX_SHOWN_METADATA_KEYS = 8  # info's table row; a corpus of records can hold thousands of keys


def _metadata_keys_text(counts: dict[str, int]) -> str:
    """`info`'s metadata keys: the ones most documents have, the rest counted, so that records with a
    field each (thousands of keys) keep the table readable; `--json` lists them all."""
    commonest = sorted(counts.items(), key=lambda item: -item[1])[:MAX_SHOWN_METADATA_KEYS]
    shown = printable_name(readable(dict(commonest)))
    hidden = len(counts) - len(commonest)
    return f"{shown}; {plural(hidden, 'more key')} (--json lists all)" if hidden else shown


def _sources_text(files: int, rows: int, roots: list[str]) -> str:
    """`info`'s sources: files, and the rows of the database roots' queries (a row is no file)."""
    if not rows:
        return plural(files, "file")
    queries = sum(1 for root in roots if is_url(root))
    from_databases = f"{plural(rows, 'row')} from {plural(queries, 'database query', 'database queries')}"
    return f"{plural(files, 'file')}; {from_databases}" if files else from_databases


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def note(message: str) -> None:
    """One line for people on stderr (a notice, a file written): wrapped between words in a terminal
    (a terminal would cut a long line mid-word), one line as is in a pipe or a log."""
    console = stderr_console()
    console.print(printable_message(message), markup=False, soft_wrap=not console.is_terminal, highlight=False)


def waiting_for_build(target: Path) -> None:
    """The note a run prints before it waits for another process's build of the index it needs (a
    dataset's cached index, shared by runs): otherwise it would seem to hang."""
    note(f"waiting for another ragcli process building {target} to finish")


def empty_corpus_report(index_dir: str, error: EmptyCorpusError) -> dict[str, Any]:
    """What `index --json` writes when nothing could be indexed (exit 5): the error and every file skipped,
    which a script wants most then (`ragcli index docs/ --json | jq .skipped`)."""
    return {
        "index": index_dir,
        "error": mask_secrets(str(error)),
        "exit_code": int(error.exit_code),
        "skipped": [s.to_dict() for s in error.skipped],
    }


def skipped_lines(skipped: Iterable[Skipped]) -> list[str]:
    """One line per file or record left out, with its reason (`--verbose`)."""
    return [f"skipped {s.path}: {s.reason}" for s in skipped]


def _update_text(update: dict[str, Any]) -> str:
    """What a build did to one retriever's data (`indexing.build.retriever_updates`), in words."""
    name = str(update.get("retriever"))
    shown = _RETRIEVER_NAMES.get(name, name)
    action = update.get("action")
    resumed = int(update.get("from_checkpoint") or 0)
    gained = int(update.get("embedded") or 0) + resumed  # the checkpoint's were embedded by the interrupted run
    changed = update.get("changed") or {}
    how = ", ".join(f"{str(k).replace('_', ' ')} {readable(v[0])} → {readable(v[1])}" for k, v in changed.items())
    from_checkpoint = f"{resumed:,} from the interrupted run's checkpoint" if resumed else ""
    if action == "removed":
        return "removed the dense vectors" if name == "dense" else f"removed the {shown} data"
    if name != "dense" and action != "extended":  # a plugin's retriever may embed new passages too
        return f"built {shown}" if action == "added" else f"re-weighted {shown} ({how})"
    if action == "added":
        said = f"added dense vectors for {plural(gained, 'passage')}"
    elif action == "extended":
        said = f"embedded {plural(gained, 'new passage')}"
    else:
        said = f"re-embedded {plural(gained, 'passage')}"
    notes = "; ".join(filter(None, (how, from_checkpoint)))  # what changed: only when re-embedded
    return f"{said} ({notes})" if notes else said


def index_summary(report: BuildReport, verbose: bool) -> list[str]:
    """The lines `ragcli index` prints on stderr: skipped files and warnings with -v, what a re-index
    changed (roots, settings), then the summary, which says what was done ("Up to date" only when
    nothing was); without -v, the skipped files by reason and the first warnings after it."""
    from ragcli.indexing.stored import LABELS, Change, show_value

    lines = []
    if verbose:
        lines += skipped_lines(report.skipped)
        lines += warning_lines(report.warnings)
    roots = [*(f"added {r}" for r in report.roots_added), *(f"removed {r}" for r in report.roots_removed)]
    if report.selection_kept:  # the recorded globs, which the changed roots are walked with
        kept = ", ".join(f"{LABELS[name]} {show_value(value)}" for name, value in report.selection_kept.items())
        roots.append(f"selection kept: {kept}")
    if roots:
        lines.append("roots: " + "; ".join(roots))
    if report.settings_changed:
        changes = [Change(c["setting"], c["from"], c["to"]) for c in report.settings_changed]
        lines.append("settings: " + "; ".join(str(c) for c in changes))
    held = (
        f"{plural(report.documents, 'document')} ({plural(report.passages, 'passage')}, "
        f"{plural(report.terms, 'term')}) from {plural(report.files_read, 'file')}"
    )
    where = f"→ {report.index_dir} ({human_bytes(report.size_bytes)})"
    if report.up_to_date:
        line = f"Up to date: {held} {where}"
    else:
        read_nothing = report.new == report.changed == 0 and report.unchanged and not report.rows
        verb = "Updated" if read_nothing else "Indexed"
        line = f"{verb} {held} in {report.seconds:.1f} s {where}"
        if report.updated:
            line += "; " + "; ".join(_update_text(u) for u in report.updated)
    if report.unchanged or report.removed or report.changed:
        line += f"; files: {report.new:,} new, {report.changed:,} changed, {report.removed:,} removed, {report.unchanged:,} unchanged"
        notes = []  # of the unchanged: those touched (why the index was updated) and those left out
        if report.touched:
            notes.append(f"{report.touched:,} with a new modification time")
        if report.restated:
            notes.append(f"{report.restated:,} with a new status or inode")
        if report.newer_reader:
            notes.append(f"{report.newer_reader:,} read again: ragcli reads their format better now")
        if report.unchanged_skipped:
            notes.append(f"{report.unchanged_skipped:,} of them skipped, as before")
        if notes:
            line += f" ({'; '.join(notes)})"
    if report.ignored:
        line += f"; ignored {report.ignored:,} (ignore files, --include/--exclude)"
    if report.rows or report.rows_removed:  # database roots: the row is the unit of reuse
        line += (
            f"; rows: {report.rows_new:,} new, {report.rows_changed:,} changed, {report.rows_removed:,} removed, "
            f"{report.rows_unchanged:,} unchanged"
        )
    if verbose:
        return [*lines, line]
    return [*lines, line, *skipped_summary(report.skipped), *warning_lines(report.warnings, WARNINGS_LISTED)]


WARNINGS_LISTED = 3  # the warnings `ragcli index` shows without --verbose; the rest are counted


def warning_lines(warnings: list[str], listed: int | None = None) -> list[str]:
    """A line per warning, or the first `listed` and how many more (`--verbose` lists every one): what a
    build left out or read another way (a CSV row, a legacy encoding, an id renamed) is never silent."""
    shown = [f"warning: {w}" for w in warnings[:listed]]
    if listed is not None and len(warnings) > listed:
        shown.append(f"… and {plural(len(warnings) - listed, 'more warning')} (--verbose lists them)")
    return shown


UNSUPPORTED = "unsupported file type "


def skipped_summary(skipped: list[Skipped], reasons: int = 4, extensions: int = 5) -> list[str]:
    """What was skipped, in a few lines whatever the count: the `reasons` commonest kinds of reason with
    their counts (unsupported files as one reason, with their `extensions` commonest types), then how
    many more; every record counted, those past a file's listed ones too; `--verbose` lists them."""
    if not skipped:
        return []
    counts: dict[str, int] = {}
    types: dict[str, int] = {}
    files = records = 0
    for item in skipped:
        if item.reason.startswith(UNSUPPORTED):
            kind = item.reason[len(UNSUPPORTED) :]
            types[kind] = types.get(kind, 0) + 1
            kinds = {"unsupported file type": 1}
        else:  # the kind of reason: "damaged DOCX", not "damaged DOCX (BadZipFile: File is not a zip file)"
            kinds = item.kinds()
        for key, number in kinds.items():
            counts[key] = counts.get(key, 0) + number
        if item.record:
            records += sum(kinds.values())
        else:
            files += 1
    counted = [plural(n, noun) for n, noun in ((files, "file"), (records, "record")) if n]
    lines = [f"skipped {' and '.join(counted)} (--verbose lists them):"]
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) == reasons + 1:  # one more line says more than "… and 1 other reason"
        reasons += 1
    for reason, number in ranked[:reasons]:
        line = f"  {number:,} {reason}"
        if reason == "unsupported file type":
            common = sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))
            line += ": " + ", ".join(f"{kind} {n:,}" for kind, n in common[:extensions])
            if len(common) > extensions:
                line += f" and {len(common) - extensions} more types"
        elif reason == GENERATED:
            line += " (lock files, package folders, minified or generated code: --generated reads them)"
        lines.append(line)
    if len(ranked) > reasons:
        rest = sum(number for _, number in ranked[reasons:])
        lines.append(f"  … and {rest:,} more for {len(ranked) - reasons} other reasons (see --verbose)")  # 2 or more
    return lines


def evaluation_skips(
    lines: list[Skipped], corpus: dict[str, int], warnings: Sequence[str] = (), listed: int = 10
) -> list[str]:
    """The lines `ragcli evaluate` prints on stderr about what it left out: the dataset's bad lines and
    the corpus records a build skipped (the first `listed` of them with file:line), the BEIR corpus's
    records counted by reason, and what its build warned of (as `ragcli index` says it)."""
    shown = [f"skipped {s.path}: {s.reason}" for s in lines[:listed]]
    if len(lines) > listed:
        shown.append(
            f"skipped {len(lines) - listed:,} more lines: {summarize_reasons(s.reason for s in lines[listed:])}"
        )
    if corpus:
        reasons = ", ".join(f"{number:,} {reason}" for reason, number in corpus.items())
        shown.append(f"corpus: skipped {sum(corpus.values()):,} documents: {reasons}")
    return shown + warning_lines(list(warnings), WARNINGS_LISTED)


def tune_table(
    metric: str,
    dataset: str,
    current: tuple[Any, Any],
    k1_values: list[float],
    b_values: list[float],
    scores: dict[tuple[float, float], float],
    best: tuple[float, float],
) -> Table:
    """The k1 × b grid of a tuning run, the best cell in bold, under a title naming `metric`, `dataset`
    (escaped, as evaluate's table names it: a file name) and the index's `current` k1 and b."""
    title = f"BM25 {printable(metric)} on {printable_name(dataset)} (current: k1={current[0]}, b={current[1]})"
    table = Table(title=Text(title), title_justify="left", min_width=_width_for(title))
    table.add_column("k1 \\ b", justify="right")
    for value in b_values:
        table.add_column(f"{value:g}", justify="right")
    for k1 in k1_values:
        cells = [Text(f"{scores[(k1, b)]:.4f}", style="bold" if (k1, b) == best else "") for b in b_values]
        table.add_row(f"{k1:g}", *cells)
    return table


def tune_summary(metric: str, best: TuneRow, current: TuneRow, applied: bool) -> str:
    """The line under the grid, so that a table without its bold cell (a pipe, a file) still says it:
    the best pair against the index's own, and what --apply does."""
    line = f"best: k1={best.k1:g}, b={best.b:g}, {metric} {best.score:.4f}"
    if (best.k1, best.b) == (current.k1, current.b):
        return f"{line}: the index's own pair (none scores higher), nothing to change"
    line += (
        f", {best.score - current.score:+.4f} over the index's k1={current.k1:g}, b={current.b:g} ({current.score:.4f})"
    )
    return f"{line}; stored in the index" if applied else f"{line}; --apply stores it"


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


def _captioned_table(title: str, caption: str) -> Table:
    """A results table with its title above and its caption below, left-aligned; at least as wide as
    the caption's longest line (`_width_for`)."""
    return Table(
        title=Text(title),
        caption=Text(caption),
        title_justify="left",
        caption_justify="left",
        min_width=_width_for(caption),
    )


def _width_for(text: str) -> int:
    """The least width of a table for `text`'s longest line (up to CAPTION_WIDTH), which rich would
    otherwise wrap to the width of a table of a few narrow columns ("index …, 12 judged queries" broken
    every few words, a dataset's file name cut in two)."""
    widest = max((len(line) for line in text.splitlines()), default=0)
    return min(widest + 4, CAPTION_WIDTH)  # + the table's borders and padding


def comparison_table(report: EvalReport) -> Table:
    """One row per metric, one column per configuration; the best value of each row in bold."""
    counts = report.counts
    caption = (
        f"index {middle_ellipsis(printable_name(report.index), CAPTION_PATH)}\n{counts['judged']} judged queries of {counts['queries']}"
        + (
            f" ({counts['without_relevant']} without a relevant document, scored 0 as in trec_eval)"
            if counts["without_relevant"]
            else ""
        )
        + (f"; {counts['with_answers']} with gold answers" if counts["with_answers"] else "")
        + (
            f" ({plural(counts['answers_failed'], 'answer')} failed, left out of the answer metrics)"
            if counts.get("answers_failed")
            else ""
        )
        + (f"; {counts['skipped_lines']} invalid lines skipped" if counts["skipped_lines"] else "")
        + (
            f"; {counts['queries_in_corpus']} queries are documents of the corpus, each left out of its own ranking"
            if counts.get("queries_in_corpus")
            else ""
        )
        + _answers_line(report)
        + _bm25_line(report)
        + (f"\nrestricted to {report.filter}" if report.filter else "")
        + _significance_line(report)
    )
    table = _captioned_table(printable_name(report.dataset), caption)
    table.add_column("metric")
    for config in report.configs:
        table.add_column(Text(printable_name(config.name)), justify="right")
    names = sorted({m for c in report.configs for m in c.metrics}, key=_metric_key)
    for name in names:
        values = [c.metrics.get(name) for c in report.configs]
        best = max((v for v in values if v is not None), default=None)
        cells = [
            "–" if v is None else (f"[bold]{v:.4f}[/]" if v == best and len(values) > 1 else f"{v:.4f}") for v in values
        ]
        marks = [_significance_mark(c, name) for c in report.configs]
        table.add_row(Text(printable(name)), *(f"{cell}{mark}" for cell, mark in zip(cells, marks)))
    return table


def _bm25_line(report: EvalReport) -> str:
    """The caption's line naming the BM25 pair the figures come from, when it is not ragcli's default
    (a `tune --apply` stored another in a dataset's cached index, which later runs use)."""
    if report.bm25 is None or not report.bm25_changed:
        return ""
    from ragcli.retrieval.bm25 import BM25Params

    used, default = report.bm25, BM25Params()
    return (
        f"\nbm25 {used['variant']} k1={used['k1']:g} b={used['b']:g} "
        f"(the index's; ragcli's default: {default.variant} k1={default.k1:g} b={default.b:g})"
    )


UP, DOWN = "▲", "▼"  # significantly above / below the first configuration


def _significance_mark(config: ConfigResult, metric: str) -> str:
    found = config.versus.get(metric)
    if found is None or not found.significant():
        return ""
    return f" {UP if found.difference > 0 else DOWN}"


def _significance_line(report: EvalReport) -> str:
    """The caption's line saying what ▲ and ▼ mean, when configurations were compared."""
    compared = [c for c in report.configs[1:] if c.versus]
    if not compared:
        return ""
    from ragcli.evaluation.significance import ALPHA

    baseline = printable_name(report.configs[0].name)
    times = f", Holm-corrected for {len(compared)} comparisons" if len(compared) > 1 else ""
    return f"\n{UP} {DOWN}: above / below {baseline} (the first column), paired randomization test p < {ALPHA:g}{times}"


def plugins_table(plugins: list[PluginInfo]) -> Table:
    table = Table(title="registered parts", title_justify="left")
    for column in ("kind", "name", "module", "from"):
        table.add_column(column)
    for info in plugins:
        origin = "built-in" if info.builtin else info.distribution
        if info.shadowed:
            origin += " (shadowed by the built-in)"
        if info.error is not None:
            origin += f" (cannot be loaded: {info.error})"
        table.add_row(*(Text(printable_name(cell)) for cell in (info.kind, info.name, info.module, origin)))
    return table


def echoed_question(question: str) -> str:
    """The question as repeated above its results or in a note: one line, and a pasted paragraph's start."""
    return clipped(" ".join(printable(question).split()), ECHO_CHARS)


def nothing_matched_note(said: str, question: str | None = None) -> None:
    """The note on stderr that a question matched nothing (`said`: why), naming `question` when one is
    given: among several questions read from stdin, which one it is about."""
    named = f'"{echoed_question(question)}": ' if question is not None else ""
    note(f"ragcli: note: {named}{said}")


def plain_nothing_note(nothing: str | None, question: str | None = None) -> None:
    """Under `--plain` lines, which are locations only, the note that no passage matched: why (`nothing`:
    a filter or --min-score), else that the question's words match none; `question` as above."""
    nothing_matched_note(f"nothing matched: {nothing}" if nothing else NO_MATCH, question)


def print_hits(
    question: str,
    retriever: str,
    hits: list[Hit],
    highlight: Highlighter,
    as_json: bool,
    jsonl: bool,
    view: OutputView | None = None,
    console: Console | None = None,
    nothing: str | None = None,
    *,
    from_stdin: bool = False,
) -> None:
    """Retrieval results: a table for people (or one line per passage when the table would not fit the
    terminal, or `--plain` lines for editors), or a line saying nothing matched (and `nothing`, why,
    when a filter or a minimum score was the cause), or JSON. `from_stdin`: the question is one of
    several read from stdin, which a note on stderr names."""
    if as_json:
        record = {"query": question, "retriever": retriever, "hits": [h.to_dict() for h in hits]}
        write_json(record, indent=None if jsonl else 2)
        return
    console = console or stdout_console()
    if view is not None and view.plain:
        for line in plain_lines(hits, view.base):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        if not hits:  # stdout stays an empty list of locations; people are told why on stderr
            plain_nothing_note(nothing, question if from_stdin else None)
        return
    if not hits:
        said = f"Nothing matched: {printable_message(nothing)}." if nothing else NO_MATCH  # names, as on stderr
        console.print(said, markup=False, highlight=False, soft_wrap=not console.is_terminal)  # a pipe: one line
        return
    echoed = echoed_question(question)
    table = hits_table(f"{retriever} · {echoed}", hits, highlight)
    if chosen_sources(console, view, [table]) == "full":
        console.print(table)
        return
    console.print(Text(f"{retriever} · {echoed}", style="bold"))
    for row in source_lines(hits, console.width, scores=True):
        console.print(row)


def closed_book_note(item: Any, question: str | None = None) -> None:
    """The note that no retrieved passage fitted the model's input beside the instructions and the
    question (`sources_in_prompt` 0, the question perhaps cut): the model answered closed-book, which
    the sources shown under its answer do not say. None (a generator that does not count) is no 0.
    `question`: named when one of several from stdin."""
    if item.sources and item.error is None and item.sources_in_prompt == 0:
        named = f"{echoed_question(question)}: " if question else ""
        note(
            f"ragcli: note: {named}no passage fits model {item.model}'s input beside the instructions and the "
            "question, so it answered closed-book; use a model with a longer input or a shorter question"
        )


def print_answer(
    item: Answer, highlight: Highlighter, view: OutputView | None = None, console: Console | None = None
) -> None:
    """An answer and its sources as `view` asks: the full table (✓ on the cited ones), the cited ones,
    one line per cited source (compact, the default when the table would not fit the terminal) or
    none; or, `--plain`, the answer on one line and a grep-style line per source."""
    console = console or stdout_console()
    if view is not None and view.plain:
        if item.answer and item.answer.strip():
            console.print(" ".join(printable(item.answer).split()), markup=False, highlight=False, soft_wrap=True)
        listed = {"none": [], "cited": _cited(item), "compact": _cited(item)}.get(view.sources, item.sources)
        for line in plain_lines(listed, view.base):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        return
    full = answer_view(item, highlight, "full", console.width)
    sources = chosen_sources(console, view, full)
    for part in full if sources == "full" else answer_view(item, highlight, sources, console.width):
        console.print(part)


def print_streamed_answer(
    item: Answer,
    generator: StreamingGenerator,
    load_seconds: float,
    highlight: Highlighter,
    fallback: Generator | None = None,
    view: OutputView | None = None,
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
    print_answer(item, highlight, view)
    closed_book_note(item)


def collections_table(collections: list[dict[str, Any]], folder: str) -> Table:
    """`ragcli collections`: one row per collection (`CollectionInfo.to_dict()`), its folder in the title;
    a link's row shows where it points."""
    table = Table(title=Text(f"collections in {printable_name(folder)}"), title_justify="left")
    table.add_column("name", overflow="fold")  # the name -c takes: folded onto more lines, never cut with "…"
    for column in ("passages", "documents", "size"):
        table.add_column(column, justify="right")
    table.add_column("built")
    for item in collections:
        name = item["name"] if item.get("link") is None else f"{item['name']} → {item['link']}"
        if item["error"] is not None:
            cells = [name, "–", "–", "–", f"unusable: {printable_message(item['error'])}"]
        else:
            built = str(item["built"] or "–").replace("T", " ")[:16]  # minutes are enough to tell builds apart
            cells = [
                name,
                f"{item['passages']:,}",
                f"{item['documents']:,}",
                human_bytes(item["size_bytes"]),
                built,
            ]
        table.add_row(*(Text(printable_name(cell)) for cell in cells))
    return table


def print_collections(collections: list[dict[str, Any]], folder: str) -> None:
    """`collections_table` on stdout; a file or a pipe gets it as wide as its longest row, so that each
    name is whole on its line (`ragcli collections | grep NAME` finds it)."""
    console = stdout_console()
    table = collections_table(collections, folder)
    if not console.is_terminal:
        wanted = Measurement.get(console, console.options.update(width=MAX_WIDTH), table).maximum
        console.width = min(MAX_WIDTH, max(console.width, wanted))
    console.print(table)


def config_table(data: dict[str, Any]) -> Table:
    """`ragcli config show`: each key's effective value and source, then the index and the files."""
    table = Table(title="effective configuration (options and environment variables override)", title_justify="left")
    table.add_column("key", no_wrap=True)
    table.add_column("value", overflow="fold")  # a long path folds onto more lines, never cut with "…"
    table.add_column("from", no_wrap=True)
    for item in data["values"]:
        shown = "–" if item["value"] is None else str(item["value"])
        table.add_row(*(Text(printable_name(cell)) for cell in (item["key"], shown, item["source"])))
    index = data["index"] or {"path": "–", "source": ""}  # None: the configured collection is no name
    table.add_row(*(Text(printable_name(cell)) for cell in ("index folder", index["path"], index["source"])))
    for kind, item in data["files"].items():
        state = "" if item["exists"] else " (none)"
        table.add_row(*(Text(printable_name(cell)) for cell in (f"{kind} file", item["path"] + state, "")))
    table.add_row(Text("collections"), Text(printable_name(data["collections_dir"])), Text(""))
    return table


COMPARE_ROWS = {
    "exact_match": "EM",
    "f1": "F1",
    "match": "match",
    "citation_precision": "citation precision",
    "seconds_per_answer": "seconds per answer",
}


def compare_table(comparison: Comparison) -> Table:
    """RAG versus fine-tuning: one column per configuration, one row per measure; the best in bold
    (the fewest seconds per answer)."""
    caption = (
        f"index {printable_name(comparison.index)} · {printable_name(comparison.retriever)}, top {comparison.top_k} passages"
        f"\n{comparison.questions} questions with gold answers"
        + "".join(
            f"\n{printable_name(name)}: {printable_name(str(model))}"
            for name, model in dict.fromkeys((c.name.split(" ")[0], c.model) for c in comparison.configs)
        )
    )
    table = _captioned_table(f"RAG versus fine-tuning on {printable_name(comparison.dataset)}", caption)
    table.add_column("")
    for config in comparison.configs:
        table.add_column(Text(printable_name(config.name)), justify="right")
    for key, label in COMPARE_ROWS.items():
        values = [c.metrics[key] for c in comparison.configs]
        best = min(values) if key == "seconds_per_answer" else max(values)
        cells = [
            Text(f"{v:.3f}" if key == "seconds_per_answer" else f"{v:.4f}", style="bold" if v == best else "")
            for v in values
        ]
        table.add_row(label, *cells)
    return table


def training_summary(report: TrainingReport) -> list[str]:
    """What `ragcli train generator` says when it is done: the loss, the cost, how to use the model."""
    losses = report.losses
    loss = f"loss {losses[0]:.3f} → {losses[-1]:.3f} (epoch 1 → {len(losses)})" if losses else "no loss logged"
    how = "with retrieved passages" if report.with_context else "closed-book"
    return [
        f"trained {report.base_model} ({report.architecture}{', LoRA merged' if report.lora else ''}) on "
        f"{report.examples} questions {how}: {report.epochs} epochs, {report.steps} steps, {loss}",
        f"{format_seconds(report.seconds)} on {report.device} ({report.precision})"
        + (f", resumed from {report.resumed_from}" if report.resumed_from else "")
        + (f"; {report.skipped} lines left out (bad, or without an answer)" if report.skipped else ""),
        f"saved to {report.output}: use it with --model {report.output}",
    ]


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
        f"{result.examples} training pairs from {result.training_queries} questions of {printable_name(result.data)}; "
        f"{result.validation_queries} held out for validation\n"
        f"{format_seconds(result.seconds)} on {result.device} · saved to {printable_name(result.output)}"
    )
    table = _captioned_table(f"fine-tuned {printable_name(result.base_model)}", caption)
    for name in ("epoch", "loss", "validation nDCG@10"):
        table.add_column(name, justify="right")
    if result.base_validation_ndcg is not None:
        table.add_row("base", "–", f"{result.base_validation_ndcg:.4f}")
    for epoch in result.epochs:
        score = "–" if epoch.validation_ndcg is None else f"{epoch.validation_ndcg:.4f}"
        style = "bold" if epoch.epoch == result.best_epoch else ""
        table.add_row(str(epoch.epoch), f"{epoch.loss:.4f}", score, style=style)
    return table
