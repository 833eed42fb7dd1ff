"""Nothing from a corpus, a file name, a question, an answer, a model name or an error reaches a terminal
as a control sequence: the real `ragcli` run with colour forced (as on a terminal), piped, and on a
pseudo-terminal, with hostile strings everywhere a person sees data."""

from __future__ import annotations

import ast
import io
import json
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

import pytest
from clihelpers import RAGCLI, run
from conftest import REPO, write_files
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.text import Text

from ragcli.render import SHOWN_AS_WRITTEN, SafeConsole, answer_panel, printable, printable_name, snippet
from ragcli.terminal_text import without_terminal_sequences

# OSC 8 hyperlink, OSC 0 and OSC 2 window titles (BEL- and ST-terminated), clear screen, a 256-colour
# SGR rich never emits, a bell, 8-bit CSI and OSC (C1), a right-to-left override.
HOSTILE = (
    "\x1b]8;;http:evil.invalid\x07click\x1b]8;;\x07 \x1b]0;pwned-title\x07 \x1b]2;pwned-two\x1b\\ "
    "\x1b[2J\x1b[38;5;199mpink\x07 \x9b2J\x9b38;5;199m \x9d0;c1-title\x9c \u202eexe.pdf"
)
# What must never appear in anything ragcli prints for people: the sequences' introducers and their
# parameters (removed whole, so neither their effect nor their payload shows).
FORBIDDEN = [
    b"\x1b]",
    b"\x1b[2J",
    b"38;5;199",
    b"\x07",
    b"evil.invalid",
    b"pwned-title",
    b"pwned-two",
    b"c1-title",
    "\u202e".encode(),
    *(bytes([0xC2, c]) for c in range(0x80, 0xA0)),  # C1 controls, UTF-8 encoded
]
RICH_SGR = re.compile(rb"\x1b\[[0-9;]*m")  # rich's own colours, allowed only with colour on
RICH_CURSOR = re.compile(rb"\x1b\[\?25[lh]|\x1b\[2K|\x1b\[\d*[ABG]")  # rich's own progress-bar redraws


def leaks(output: bytes, colour: bool) -> list[bytes]:
    """The hostile bytes found in `output`, and any escape that rich did not make."""
    found = [marker for marker in FORBIDDEN if marker in output]
    rest = RICH_CURSOR.sub(b"", RICH_SGR.sub(b"", output)) if colour else output
    if b"\x1b" in rest:
        found.append(b"ESC " + rest[rest.index(b"\x1b") : rest.index(b"\x1b") + 12])
    found += [bytes([c]) for c in set(rest) if c < 32 and c not in b"\n\r"]  # C0 (rich ends lines with \r on a pty)
    return found


COLOURED = {"FORCE_COLOR": "1", "COLUMNS": "160", "NO_COLOR": ""}
PLAIN = {"NO_COLOR": "1", "FORCE_COLOR": "", "COLUMNS": "160"}


def run_both(*args: str, env: dict[str, str] | None = None, expect: int = 0) -> list[str]:
    """Run `ragcli args` with colour forced (as on a terminal: tables, bars) and piped without colour;
    returns the problems found (empty: nothing hostile reached stdout or stderr)."""
    problems = []
    for extra, colour in ((COLOURED, True), (PLAIN, False)):
        environment = {k: v for k, v in {**os.environ, **(env or {}), **extra}.items() if v != ""}
        result = subprocess.run([RAGCLI, *args], capture_output=True, env=environment, timeout=120)
        assert result.returncode == expect, (args, result.stderr.decode(errors="replace"))
        for name, stream in (("stdout", result.stdout), ("stderr", result.stderr)):
            problems += [f"{args[0]} {name} colour={colour}: {leak!r}" for leak in leaks(stream, colour)]
    return problems


def run_in_pty(*args: str, env: dict[str, str], timeout: float = 60) -> bytes:
    """`ragcli args` with stdout and stderr on a pseudo-terminal (what an interactive user sees)."""
    master, slave = pty.openpty()
    environment = {k: v for k, v in {**os.environ, **env}.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    process = subprocess.Popen([RAGCLI, *args], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=environment)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            elif process.poll() is not None:
                break
    finally:
        os.close(master)
        process.kill() if process.poll() is None else None
        process.wait(timeout=10)
    assert process.returncode == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks)


# --- the real command ----------------------------------------------------------------------------------

# What a file name can hold (no slash). A name is shown escaped (`\\x1b]0;name-title\\x07…`), so its
# payload shows as text and must not be one FORBIDDEN lists; its control bytes never reach the terminal.
NAME = "\x1b]0;name-title\x07\x1b[2J\x9b2J\u202eevil"


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    corpus = write_files(
        root / "corpus",
        {
            f"bees {NAME}.md": f"# Waggle {HOSTILE} dance\n\nBees {HOSTILE} do the waggle dance to point at flowers.\n",
            "records.jsonl": json.dumps({"id": f"id {NAME}", "title": f"T {HOSTILE}", "text": f"waggle {HOSTILE}"})
            + "\n",
            f"picture {NAME}.png": b"\x89PNG\r\n\x1a\n",  # skipped: listed with -v
            f"latin {NAME}.txt": "waggle caf\xe9 dance".encode("latin-1"),  # read with a warning
        },
    )
    index_dir = root / "index"
    built = run("index", str(corpus), "--index", str(index_dir), "--json")
    assert built.returncode == 0, built.stderr
    return index_dir


def test_index_skip_lines_warnings_and_summary(hostile_index: Path) -> None:
    corpus = hostile_index.parent / "corpus"
    assert not run_both("index", str(corpus), "--index", str(hostile_index), "-v", "--rebuild")


def test_hits_table_answer_panel_and_info(hostile_index: Path) -> None:
    question = f"waggle {HOSTILE} dance"
    problems = run_both("query", question, "--no-generate", "--index", str(hostile_index))
    problems += run_both("query", question, "-g", "extractive", "--index", str(hostile_index))
    problems += run_both("info", "--index", str(hostile_index))
    assert not problems


def test_names_are_shown_escaped_so_that_no_two_look_alike(tmp_path: Path) -> None:
    """A file name's control, escape, zero-width and bidi characters are written as repr writes them
    (`a\\x07b.txt`), never dropped or turned into spaces: each file is told apart from the others, and
    `--plain`'s `path:line:col:` names the file itself, in lines, tables, skip lines and errors."""
    names = {"a b.txt": "one", "a\ab.txt": "two", "ab.txt": "three", "a\x1b[0mb.txt": "four", "a\u200bb.txt": "five"}
    names |= {"a\\b.txt": "six", "a\u202eb.txt": "seven"}  # a no-break space is shown as written (below)
    corpus = write_files(tmp_path / "c", {name: f"zebra {word}\n" for name, word in names.items()})
    write_files(corpus, {"pic\x07.png": b"\x89PNG\r\n\x1a\n"})
    index = tmp_path / "idx"
    built = run("index", str(corpus), "-i", str(index), "-v", "--rebuild", env=PLAIN)
    assert built.returncode == 0 and "skipped pic\\x07.png: unsupported file type .png" in built.stderr
    shown = {name: repr(name)[1:-1] for name in names}  # 'a\\x07b.txt', 'a\\\\b.txt', 'a\\u202eb.txt'…
    assert len(set(shown.values())) == len(names)
    plain = run("query", "zebra", "-i", str(index), "--no-generate", "--plain", "-k", "10", cwd=tmp_path, env=PLAIN)
    assert sorted(plain.stdout.splitlines()) == sorted(f"c/{shown[n]}:1:1: zebra {w}" for n, w in names.items())
    table = run("query", "zebra", "-i", str(index), "--no-generate", "-k", "10", env=PLAIN)
    rows = {line.split("│")[3].strip() for line in table.stdout.splitlines() if line.startswith("│ ")}
    assert rows == {f"{shown[n]}:1" for n in names}
    missing = run("index", str(tmp_path / "x\x1b[0my"), "-i", str(tmp_path / "idx2"), env=PLAIN)
    assert missing.returncode == 4 and f"{tmp_path}/x\\x1b[0my: no such file or folder" in missing.stderr


def test_json_output_keeps_the_data_as_it_is(hostile_index: Path) -> None:
    """JSON is data: it keeps what the index holds. The index holds the corpus's text as a terminal
    shows it (readers remove control sequences, `terminal_text`), other characters as they are, and
    file names as they are."""
    found = run("query", "waggle dance", "--no-generate", "--json", "--index", str(hostile_index))
    hits = json.loads(found.stdout)["hits"]
    shown = without_terminal_sequences(HOSTILE)
    assert shown != HOSTILE and "pink\x07" in shown and "\u202eexe.pdf" in shown
    assert any(shown in h["text"] for h in hits) and any(NAME in h["path"] for h in hits)
    assert "\x1b" not in found.stdout  # JSON escapes C0 controls (\u001b)


def test_error_messages(hostile_index: Path, tmp_path: Path) -> None:
    missing = tmp_path / f"no index {NAME}"
    problems = run_both("query", "waggle", "--index", str(missing), expect=3)
    bad = tmp_path / f"qa {NAME}.jsonl"
    question = {"question": f"waggle {HOSTILE}", "relevant": ["records.jsonl:1"]}
    bad.write_text(json.dumps(question) + "\n" + f"not json {HOSTILE}\n")
    problems += run_both("evaluate", str(bad), "--index", str(hostile_index), "--strict", expect=6)
    # without --strict the line is skipped, and the note naming it is printed just as safely
    problems += run_both("evaluate", str(bad), "--index", str(hostile_index), "--no-generate")
    assert not problems


def test_names_with_emoji_codes_are_shown_as_written(tmp_path: Path) -> None:
    """rich reads ":smile:" in a string as an emoji code: a file "notes:smile:.md" was listed as "notes😄.md"
    and an error naming "mod:A:B" printed "mod🅰B". ragcli prints data, so no code is replaced."""
    corpus = tmp_path / "docs"
    write_files(corpus, {"notes:smile:.md": "waggle dance of honey bees"})
    index = tmp_path / "idx"
    run("index", str(corpus), "--index", str(index), "--quiet")
    for environment in (COLOURED, PLAIN):
        env = {k: v for k, v in {**os.environ, **environment}.items() if v != ""}
        found = subprocess.run(
            [RAGCLI, "query", "waggle", "--index", str(index), "--no-generate"],
            capture_output=True,
            env=env,
            timeout=120,
        )
        assert "notes:smile:.md" in found.stdout.decode() and "\U0001f604" not in found.stdout.decode()
        missing = subprocess.run([RAGCLI, "info", "--index", str(tmp_path / "no:smile:")], capture_output=True, env=env)
        assert missing.returncode == 3 and "no:smile:" in missing.stderr.decode(), missing.stderr


def test_evaluate_and_tune_tables_and_notes(hostile_index: Path, tmp_path: Path) -> None:
    qa = tmp_path / f"qa {NAME}.jsonl"
    qa.write_text(
        json.dumps({"id": f"q {HOSTILE}", "question": f"waggle {HOSTILE}", "relevant": ["records.jsonl:1"]}) + "\n"
    )
    run_path = tmp_path / f"run {NAME}.txt"
    problems = run_both(
        *("evaluate", str(qa), "--index", str(hostile_index), "--no-generate", "--run-file", str(run_path))
    )
    problems += run_both("tune", str(qa), "--index", str(hostile_index), "--k1", "1.2", "--b", "0.75")
    assert not problems


HOSTILE_PLUGIN = '''
from ragcli.generation.base import Generation

HOSTILE = {hostile!r}


class Hostile:
    """An answer and a model name as a prompt-injected model might produce them, streamed too."""

    name = "hostile"
    model = "model " + HOSTILE

    def generate(self, question, sources):
        return Generation("answer " + HOSTILE + " [1]", [1], len(sources))

    def generate_many(self, requests):
        return [self.generate(q, s) for q, s in requests]

    def stream(self, question, sources):
        parts = iter(("answer ", HOSTILE[:20], HOSTILE[20:], " [1]"))
        return parts, lambda: self.generate(question, sources)


class Factory:
    name = "hostile"

    def create(self, model, options, index):
        return Hostile()


FACTORY = Factory()
'''


@pytest.fixture
def hostile_plugin(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    (site / "ragcli_hostile-0.1.dist-info").mkdir(parents=True)
    (site / "ragcli_hostile.py").write_text(HOSTILE_PLUGIN.format(hostile=HOSTILE))
    (site / "ragcli_hostile-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ragcli-hostile\nVersion: 0.1\n"
    )
    (site / "ragcli_hostile-0.1.dist-info" / "entry_points.txt").write_text(
        "[ragcli.generators]\nhostile = ragcli_hostile:FACTORY\n"
    )
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}


def test_a_models_answer_and_name(hostile_index: Path, hostile_plugin: dict[str, str]) -> None:
    args = ("query", "waggle dance", "-g", "hostile", "--index", str(hostile_index))
    assert not run_both(*args, env=hostile_plugin)
    streamed = run_in_pty(*args, env={**hostile_plugin, "COLUMNS": "160", "TERM": "xterm-256color"})
    assert b"answer" in streamed and not leaks(streamed, colour=True)
    assert not run_both("plugins", env=hostile_plugin)


# --- the pieces -----------------------------------------------------------------------------------------

CONTROLS = st.sampled_from(
    [chr(c) for c in range(32) if c != 10]
    + [chr(c) for c in range(127, 160)]
    + list("\u2028\u2029\u202a\u202b\u202c\u202d\u202e")
    + list("\u2066\u2067\u2068\u2069")
)
TEXT = st.lists(
    st.one_of(st.text(max_size=8), CONTROLS, st.sampled_from(["\x1b[", "\x1b]", "\x07", "\x1b\\"])), max_size=40
)


def is_clean(text: str) -> bool:
    return not any(
        (ord(c) < 32 and c != "\n") or 127 <= ord(c) < 160 or 0x2028 <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069
        for c in text
    )


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_printable_leaves_no_control_character(parts: list[str]) -> None:
    text = "".join(parts)
    assert is_clean(printable(text)) and "\n" not in printable(text)
    assert is_clean(printable(text, newlines=True))
    assert printable(printable(text)) == printable(text)  # idempotent


@given(
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cc", "Zl", "Zp"),
            blacklist_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
        )
    )
)
def test_printable_keeps_ordinary_text(text: str) -> None:
    assert printable(text, newlines=True) == text


@given(TEXT, st.lists(st.tuples(st.integers(0, 400), st.integers(1, 20)), max_size=4))
@example(["\x9d", "\x1b", "\x07"], [])  # removing the ESC must not make "\x9d\x07" a sequence to remove
@settings(max_examples=200, deadline=None)
def test_snippet_highlights_the_same_words_without_the_escapes(
    parts: list[str], raw_spans: list[tuple[int, int]]
) -> None:
    text = "".join(parts) + "\nhoney\n" + "".join(parts)  # a newline ends any sequence before "honey"
    spans = sorted({(s, min(len(text), s + n)) for s, n in raw_spans if s < len(text)})
    spans.append((text.index("\nhoney\n") + 1, text.index("\nhoney\n") + 6))
    rendered = snippet(text, sorted(spans), width=10_000)
    assert is_clean(rendered.plain) and rendered.plain == printable(text)
    highlighted = {rendered.plain[span.start : span.end] for span in rendered.spans}
    assert "honey" in highlighted
    assert all(part in printable(text) for part in highlighted)


@given(st.text())
@example("a\\x07b")
def test_printable_name_is_clean_and_tells_every_name_apart(name: str) -> None:
    shown = printable_name(name)
    assert is_clean(shown) and all(c.isprintable() or c in SHOWN_AS_WRITTEN or c.isspace() for c in shown)
    assert ast.literal_eval(f"'{shown.replace(chr(39), chr(92) + chr(39))}'") == name  # reads back: one name, one form
    assert shown == name or not name.isprintable() or "\\" in name  # an ordinary name is shown as it is


@pytest.mark.parametrize(
    "name",
    [
        "docs/\u06a9\u062a\u0627\u0628\u200c\u0647\u0627.md",  # a Persian plural: its zero-width non-joiner
        "docs/invoice\u00a02024.md",  # a no-break space
        "docs/family \U0001f468\u200d\U0001f469\u200d\U0001f467 trip.md",  # an emoji family: joiners
        "docs/\u4f1a\u8b70\u3000\u8b70\u4e8b\u9332.md",  # an ideographic space
    ],
)
def test_names_are_shown_as_they_are_written(name: str) -> None:
    """Escaping every character str.isprintable refuses printed these names escaped ("invoice\\xa02024.md"),
    a `--plain` path that no longer opened the file: what names are written with is shown as it is."""
    assert printable_name(name) == name


def render_with(renderable: object) -> bytes:
    """What a SafeConsole writes for `renderable` on a true-colour terminal."""
    console = SafeConsole(force_terminal=True, color_system="truecolor", width=120, file=io.StringIO())
    with console.capture() as capture:
        console.print(renderable)
    return capture.get().encode()


@given(TEXT)
@settings(max_examples=200, deadline=None)
def test_safe_console_never_emits_a_control_character_from_data(parts: list[str]) -> None:
    text = "".join(parts)
    for renderable in (Text(text), text.replace("[", "")):  # a Text, and a string taken as markup
        output = render_with(renderable)
        rest = RICH_SGR.sub(b"", output)
        assert b"\x1b" not in rest and is_clean(rest.decode().replace("\r", ""))


def test_safe_console_drops_hyperlinks_even_from_markup() -> None:
    output = render_with("[link=http://evil.invalid]click[/link] and [bold]bold[/]")
    assert b"click" in output and b"\x1b]8" not in output and b"evil.invalid" not in output


def test_answer_panel_title_is_printable() -> None:
    class Answer:
        answer, model, generator, sources = "text [1]", f"model {HOSTILE}", "g", [1]

    output = render_with(answer_panel(Answer()))
    assert b"model" in output and not leaks(output, colour=True)


@pytest.mark.parametrize(
    "model, shown",
    [
        ("/work/main/bench/out/models/smollm2-135m-instruct", "(/…/out/models/smollm2-135m-instruct gave no answer)"),
        ("google/flan-t5-base", "(google/flan-t5-base gave no answer)"),
        ("x" * 60, "(…" + "x" * 36 + " gave no answer)"),
    ],
)
def test_a_fallback_answer_panel_title_says_the_model_gave_no_answer_at_80_columns(model: str, shown: str) -> None:
    class Answer:
        answer, model, generator, sources = "1852 [1]", "", "extractive", [1]
        fallback = "extractive"

    Answer.model = model
    console = SafeConsole(width=80, file=io.StringIO())
    with console.capture() as capture:
        console.print(answer_panel(Answer()))
    title = capture.get().splitlines()[0]
    assert "answer · extractive (" in title and re.search(rf"{re.escape(shown)} ─*╮$", title), title


def test_answer_panel_highlights_every_citation_form_it_reads() -> None:
    class Answer:
        answer, model, generator, sources = "Paris [1, 2], Lyon [3-4] and Nice [^5]; not [a]", "m", "g", [1]

    body = answer_panel(Answer()).renderable
    assert isinstance(body, Text)
    marked = [body.plain[span.start : span.end] for span in body.spans if span.style == "bold cyan"]
    assert marked == ["[1, 2]", "[3-4]", "[^5]"]


# --- structure: one way to print --------------------------------------------------------------------------

ALLOWED_OUTPUT = {
    ("ragcli/render.py", "write_json"),  # JSON for programs: json.dumps escapes control characters
    ("ragcli/cli.py", "_version"),  # the version string
    # one constant line for a Ctrl-C while the command line is still imported, before any console can be
    ("ragcli/__main__.py", "main"),
    ("ragcli/cli.py", "_check_stdout"),  # an empty write: it finds a closed stdout, and prints nothing
    ("ragcli/interactive.py", "_typed"),  # a newline ending the prompt's line at Ctrl-D or Ctrl-C
}


def test_everything_printed_for_people_goes_through_the_safe_consoles() -> None:
    """No module makes its own Console, prints, or writes to stdout/stderr except the few JSON/version
    writers above: a new print path gets `stdout_console()`/`stderr_console()` or `note()`, which clean."""
    offenders = []
    for path in sorted((REPO / "ragcli").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text("utf-8"))
        enclosing: dict[int, str] = {}  # id of a node → the innermost function it is in (outer ones come first)
        for function in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            for node in ast.walk(function):
                enclosing[id(node)] = function.name
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = ast.unparse(node.func)
            where = (rel, enclosing.get(id(node), "<module>"))
            prints = called in (
                "print",
                "rich.print",
                "typer.echo",
                "click.echo",
                "typer.secho",
                "click.secho",
                "os.write",
            )
            prints |= called.endswith(".write") and (
                "stdout" in called or "stderr" in called or called == "stream.write"
            )
            prints |= called.split(".")[-1] == "Console"
            prints |= called == "SafeConsole" and where not in SAFE_FACTORIES
            if prints and where not in ALLOWED_OUTPUT:
                offenders.append(f"{rel}:{node.lineno} {where[1]}: {called}")
    assert not offenders


SAFE_FACTORIES = {("ragcli/render.py", "stdout_console"), ("ragcli/render.py", "stderr_console")}
