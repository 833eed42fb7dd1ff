"""`query`'s output modes: the compact view where the full one would not fit (80×24), the full table
where it does (160×50), --sources, --plain lines an editor reads, --min-score, identical passages
folded, and paths shortened in the middle rather than broken. Rendered with rich consoles of a given
size, and through the real command."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import termios
from pathlib import Path

import pytest
from clihelpers import RAGCLI, invoke
from conftest import write_files
from rich.cells import cell_len

from ragcli.answering import answer
from ragcli.records import Hit, Skipped
from ragcli.render import (
    NO_MATCH,
    OutputView,
    SafeConsole,
    fold_identical,
    middle_ellipsis,
    plain_lines,
    print_answer,
    print_hits,
    skipped_summary,
)
from ragcli.retrieval.index import load_index

QUESTION = "How do honeybees tell each other where the flowers are?"
VIMGREP = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<text>.+)$")


def terminal(width: int, height: int) -> tuple[SafeConsole, io.StringIO]:
    out = io.StringIO()
    return SafeConsole(file=out, width=width, height=height, force_terminal=True, color_system=None), out


@pytest.fixture(scope="module")
def bees(sample_index: Path):  # type: ignore[no-untyped-def]
    idx = load_index(sample_index)
    item = answer(QUESTION, idx, "extractive", k=5)
    assert item.citations and len(item.sources) == 5
    return idx, item


@pytest.mark.parametrize(("width", "height", "compact"), [(80, 24, True), (160, 50, False)])
def test_auto_is_compact_only_where_the_full_view_would_not_fit(bees, width: int, height: int, compact: bool) -> None:  # type: ignore[no-untyped-def]
    idx, item = bees
    console, out = terminal(width, height)
    print_answer(item, idx.analyzer.highlighter(QUESTION), OutputView("auto"), console)
    lines = out.getvalue().splitlines()
    assert "answer · extractive" in lines[0]
    cited = [line for line in lines if line.startswith("[")]
    if compact:  # the answer and a line per cited source fit on the screen: nothing scrolls away
        assert len(lines) <= height - 2
        assert cited and all(re.match(r"^\[\d+\] \S+:\d+  ", line) for line in cited)
        assert "behavior/waggle_dance.md:1" in cited[0]
        assert "┃ score" not in out.getvalue()
    else:  # room enough: the whole table, every source
        assert "┃ score" in out.getvalue() and not cited
        assert len(lines) <= height - 2
    assert all(len(line) <= width for line in lines)


@pytest.mark.parametrize("width", [20, 30])
def test_a_narrow_terminal_gets_compact_lines_that_keep_rank_source_and_line(bees, width: int) -> None:  # type: ignore[no-untyped-def]
    """Where the table cannot show its rank, score and source whole beside a passage column, each
    source is a line `[n] path:line`, so an answer's [n] still leads to its source."""
    idx, item = bees
    highlight = idx.analyzer.highlighter(QUESTION)
    for show in (
        lambda console: print_answer(item, highlight, OutputView("auto"), console),
        lambda console: print_hits(
            QUESTION, "bm25", item.sources, highlight, False, False, OutputView("auto"), console
        ),
    ):
        console, out = terminal(width, 200)
        show(console)
        lines = out.getvalue().splitlines()
        listed = [line for line in lines if line.startswith("[")]
        assert "┃" not in out.getvalue() and listed, out.getvalue()
        assert all(re.match(r"^\[\d+\] (\d\.\d{3} )?\S*\.\w+:\d+", line) for line in listed), listed
        assert all(cell_len(line) <= width for line in lines)


def test_not_a_terminal_gets_the_full_table(bees) -> None:  # type: ignore[no-untyped-def]
    idx, item = bees
    out = io.StringIO()
    console = SafeConsole(file=out, width=80, height=24, color_system=None)
    print_answer(item, idx.analyzer.highlighter(QUESTION), OutputView("auto"), console)
    assert "┃ score" in out.getvalue() and out.getvalue().count("sample_corpus") == 0


@pytest.mark.parametrize("width", [30, 40])
def test_not_a_terminal_too_narrow_for_the_table_gets_compact_lines(bees, width: int) -> None:  # type: ignore[no-untyped-def]
    """A pipe or a file laid out `$COLUMNS` wide (30, 40) got the full table all the same: the rank and
    ✓ cut away, the passage column empty, "biology/castes.…" without its line."""
    idx, item = bees
    out = io.StringIO()
    console = SafeConsole(file=out, width=width, height=24, color_system=None)
    print_answer(item, idx.analyzer.highlighter(QUESTION), OutputView("auto"), console)
    listed = [line for line in out.getvalue().splitlines() if line.startswith("[")]
    assert "┃" not in out.getvalue() and listed, out.getvalue()
    assert all(re.match(r"^\[\d+\] \S*\.\w+:\d+", line) for line in listed), listed


@pytest.mark.parametrize("sources", ["full", "cited", "compact", "none"])
def test_each_sources_view(bees, sources: str) -> None:  # type: ignore[no-untyped-def]
    idx, item = bees
    console, out = terminal(160, 50)
    print_answer(item, idx.analyzer.highlighter(QUESTION), OutputView(sources), console)
    text = out.getvalue()
    uncited = [h.citation for h in item.sources if h.rank not in item.citations]
    assert uncited
    rows = re.findall(r"^│\s+(\d+)", text, re.M)  # numbers in the table's first column
    if sources == "full":
        assert len(rows) == len(fold_identical(item.sources))
    elif sources == "cited":
        assert rows and {int(r) for r in rows} <= set(item.citations)
    else:
        assert not rows
    assert ("[1] behavior/waggle_dance.md:1" in text) == (sources == "compact")
    assert "retrieved in" in text.splitlines()[-1]


def test_plain_lines_are_what_an_editor_reads(bees, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    idx, item = bees
    base = str(Path(idx.manifest["roots"][0]))
    monkeypatch.chdir(Path(base).parent)
    lines = plain_lines(item.sources, base)
    assert len(lines) == len(fold_identical(item.sources))
    for line, (hit, _) in zip(lines, fold_identical(item.sources)):
        match = VIMGREP.match(line)
        assert match, line
        path = Path(match["path"])
        assert not path.is_absolute() and path.is_file()  # opens from here
        assert int(match["line"]) == hit.line
        opened = path.read_text(encoding="utf-8").splitlines()
        words = opened[hit.line - 1].split()
        assert words and words[-1].strip("*#.,:") in match["text"]  # the passage starts on that line


def test_plain_answer_first_then_its_sources(bees) -> None:  # type: ignore[no-untyped-def]
    idx, item = bees
    console, out = terminal(80, 24)
    print_answer(item, idx.analyzer.highlighter(QUESTION), OutputView("cited", plain=True), console)
    first, *rest = out.getvalue().splitlines()
    assert first.startswith("When a forager") and not VIMGREP.match(first)
    assert len(rest) == len(item.citations) and all(VIMGREP.match(line) for line in rest)
    assert "\x1b" not in out.getvalue()  # no colour even on a terminal


def test_identical_passages_are_folded_into_the_best(tmp_path: Path) -> None:
    page = "The queen lays up to two thousand eggs a day in spring, when the colony grows fastest."
    corpus = write_files(
        tmp_path / "docs",
        {
            "queen.md": f"# Queen\n\n{page}\n",
            "queen.html": f"<html><body><h1>Queen</h1><p>{page}</p></body></html>",
            "drones.md": "# Drones\n\nDrones are male bees that mate with a queen from another colony.\n",
        },
    )
    result = invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "-q", "--chunk-size", "0")
    assert result.exit_code == 0, result.output
    idx = load_index(tmp_path / "idx")
    hits = idx.search("how many eggs does the queen lay", 3)
    console, out = terminal(160, 50)
    print_hits("q", "bm25", hits, idx.analyzer.highlighter("q"), False, False, OutputView("full"), console)
    text = out.getvalue()
    assert "(+1 identical: queen." in text
    assert len(re.findall(r"^│\s+\d+ ", text, re.M)) == 2  # three hits, two distinct passages
    plain = plain_lines(hits)
    assert len(plain) == 2 and plain[0].endswith("(+1 identical)")


@pytest.mark.parametrize(
    ("path", "width", "shown"),
    [
        ("notes.md:3", 36, "notes.md:3"),
        ("projects/2024/alpha/design/docs/architecture-overview.md:120", 36, "…/docs/architecture-overview.md:120"),
        ("projects/2024/alpha/design/docs/overview.md:120", 36, "projects/…/docs/overview.md:120"),
        ("a/b/c/d/e/f/g.md:1", 12, "a/…/f/g.md:1"),
        ("a-very-long-file-name-without-any-folder.md:7", 20, "…out-any-folder.md:7"),
        # wide characters take two cells: a path is measured as the terminal shows it
        ("资料/项目文档项目文档项目文档/财务报告甲.md:1", 30, "资料/…/财务报告甲.md:1"),
        ("资料/项目文档/第一季度财务报告第一季度财务报告甲.md:1", 36, "…季度财务报告第一季度财务报告甲.md:1"),
        ("资料/项目文档/第一季度财务报告第一季度财务报告甲.md:1", 35, "…度财务报告第一季度财务报告甲.md:1"),
    ],
)
def test_long_paths_lose_their_middle_not_their_file_name(path: str, width: int, shown: str) -> None:
    assert middle_ellipsis(path, width) == shown
    assert cell_len(shown) <= width


def test_a_wide_path_in_the_table_keeps_its_file_name_and_line(tmp_path: Path) -> None:
    folder = "c/资料/项目文档项目文档项目文档项目文档"
    corpus = write_files(
        tmp_path / "docs",
        {
            f"{folder}/第一季度财务报告第一季度财务报告甲.md": "zebra report\n",
            f"{folder}/第一季度财务报告第一季度财务报告乙.md": "zebra other\n",
        },
    )
    invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "-q")
    result = invoke(
        "query", "zebra", "-i", str(tmp_path / "idx"), "--no-generate", "--sources", "full", env={"COLUMNS": "100"}
    )
    assert result.exit_code == 0, result.output
    sources = [row.split("│")[3].strip() for row in result.stdout.splitlines() if re.match(r"│ [12] ", row)]
    assert {source[-6:] for source in sources} == {"甲.md:1", "乙.md:1"}, result.stdout


def test_a_long_path_in_the_table_stays_on_one_line(tmp_path: Path) -> None:
    deep = "projects/2024/alpha/design/documentation/architecture-overview.md"
    corpus = write_files(tmp_path / "docs", {deep: "# Overview\n\nThe hive keeps its honey in wax cells.\n"})
    invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "-q")
    result = invoke("query", "honey wax", "-i", str(tmp_path / "idx"), "--no-generate", "--sources", "full")
    assert result.exit_code == 0, result.output
    assert re.search(r"│ (projects/)?…/\S*architecture-overview\.md:1 +│", result.stdout), result.stdout


def test_cli_plain_min_score_and_the_json_keys(sample_index: Path) -> None:
    common = ("query", QUESTION, "-i", str(sample_index), "--no-generate")
    scores = [h["score"] for h in json.loads(invoke(*common, "--json").stdout)["hits"]]
    cut = (scores[1] + scores[2]) / 2
    kept = json.loads(invoke(*common, "--json", "--min-score", str(cut)).stdout)["hits"]
    assert [h["score"] for h in kept] == scores[:2]  # the JSON is unchanged but for the hits dropped
    plain = invoke(*common, "--plain", "--min-score", str(cut)).stdout.splitlines()
    assert len(plain) == 2 and all(VIMGREP.match(line) for line in plain)


def test_questions_from_stdin_with_plain_are_plain_lines(sample_index: Path) -> None:
    """`ragcli query - --plain` printed JSON Lines, --plain silently ignored: each question's lines now
    follow the previous one's, as `query QUESTION --plain` prints them (`vim -q` reads them all)."""
    questions = "waggle dance\nvarroa mites\n"
    located = invoke("query", "-", "-i", str(sample_index), "--no-generate", "--plain", "-k", "2", input=questions)
    assert located.exit_code == 0, located.output
    lines = located.stdout.splitlines()
    assert len(lines) == 4 and all(VIMGREP.match(line) for line in lines), lines
    paths = [VIMGREP.match(line)["path"] for line in lines]  # type: ignore[index]
    assert "waggle" in paths[0] and "varroa" in paths[2]
    for extra, per_question in ((), 3), (("--sources", "none"), 1):
        common = ("query", "-", "-i", str(sample_index), "-g", "extractive", "--plain", "-k", "2", *extra)
        answered = invoke(*common, input=questions).stdout.splitlines()
        assert len(answered) == 2 * per_question, answered
        answers = answered[::per_question]  # each question's answer leads its lines
        assert all(answer and not VIMGREP.match(answer) for answer in answers), answered


def test_questions_from_stdin_with_plain_name_the_one_nothing_matched(sample_index: Path) -> None:
    """`query - --plain` says on stderr when a question matched nothing: with several questions, the note
    names the question it is about (it said "No passage matches this question", which one unsaid)."""
    questions = "waggle dance\nxyzzy plugh\nthe of and\n"
    located = invoke("query", "-", "-i", str(sample_index), "--no-generate", "--plain", "-k", "2", input=questions)
    assert located.exit_code == 0, located.output
    notes = located.stderr.splitlines()
    assert len(notes) == 2 and all("No passage matches" in line for line in notes), notes
    assert '"xyzzy plugh"' in notes[0] and '"the of and"' in notes[1]
    common = ("query", "-", "-i", str(sample_index), "-g", "extractive", "--plain", "--min-score", "1000")
    answered = invoke(*common, input="waggle dance\nvarroa mites\n")
    assert answered.exit_code == 0, answered.output
    notes = answered.stderr.splitlines()
    assert len(notes) == 2 and all("nothing matched: no passage scores at least 1000" in line for line in notes)
    assert '"waggle dance"' in notes[0] and '"varroa mites"' in notes[1]


@pytest.mark.parametrize("generate", [("--no-generate",), ("-g", "extractive")])
def test_plain_says_a_question_matched_nothing_with_or_without_an_answer(
    sample_index: Path, generate: tuple[str, ...]
) -> None:
    """With an answer to write, `--plain` printed nothing at all when no passage matched (no answer, no
    line, no note): the same note as `--no-generate --plain` now says so, naming the question of several."""
    alone = invoke("query", "xyzzy plugh", "-i", str(sample_index), *generate, "--plain")
    assert alone.exit_code == 0 and alone.stdout == "", alone.output
    assert alone.stderr.splitlines() == [f"ragcli: note: {NO_MATCH}"]
    several = invoke("query", "-", "-i", str(sample_index), *generate, "--plain", input="xyzzy plugh\n")
    assert several.exit_code == 0 and several.stdout == "", several.output
    assert several.stderr.splitlines() == [f'ragcli: note: "xyzzy plugh": {NO_MATCH}']


@pytest.mark.parametrize(
    "options",
    [
        ("-", "--sources", "none"),
        ("-", "--sources", "compact", "--no-generate"),
        ("bees", "--json", "--sources", "full"),
    ],
)
def test_sources_with_json_output_fail_before_any_work(tmp_path: Path, options: tuple[str, ...]) -> None:
    """`query - --sources none` (JSON Lines) printed every source, the option silently ignored."""
    result = invoke("query", *options, "-i", str(tmp_path / "no-index-here"), input="waggle\n")
    assert result.exit_code == 2, result.output  # the usage error, not "no index" (exit 3)
    assert "--sources" in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    "options",
    [("--plain", "--json"), ("--sources", "cited", "--no-generate"), ("--sources", "tiny")],
)
def test_contradicting_output_options_fail_before_any_work(tmp_path: Path, options: tuple[str, ...]) -> None:
    result = invoke("query", "bees", "-i", str(tmp_path / "no-index-here"), *options)
    assert result.exit_code == 2, result.output  # the usage error, not "no index" (exit 3)


def test_the_skipped_files_summary_is_a_few_lines(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"notes.md": "# Notes\n\nBees make honey.\n", "empty.md": "   \n"}
    for number, kind in enumerate(["png", "jpg", "svg", "ico", "woff", "ttf", "mp4", "zip", "bin2", "dat9"]):
        for copy in range(number + 1):
            files[f"assets/{kind}/{copy}.{kind}"] = b"\x00\x01binary\x02"
    corpus = write_files(tmp_path / "site", files)
    quiet = invoke("index", str(corpus), "-i", str(tmp_path / "idx"))
    assert quiet.exit_code == 0, quiet.output
    lines = quiet.stderr.splitlines()
    assert lines[1] == "skipped 56 files (--verbose lists them):"
    assert lines[2] == "  36 unsupported file type: .zip 8, .mp4 7, .ttf 6, .woff 5, .ico 4 and 3 more types"
    assert lines[3:] == ["  19 binary content", "  1 no text"]  # .bin2 and .dat9: sniffed, not text
    verbose = invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "-v", "--rebuild")
    assert sum(line.startswith("skipped ") for line in verbose.stderr.splitlines()) == 56


def test_skipped_records_are_counted_by_kind_of_reason_past_those_listed(tmp_path: Path) -> None:
    """1,000 of a file's skipped records are listed, the rest counted in one entry: the summary said
    "skipped 1,001 records", made a reason of each id ("1 duplicate id '0'") and one of the entry ("1 200
    more records skipped, not listed"). It counts every record, by the kind of its reason."""
    lines = [json.dumps({"id": str(n % 1000), "text": f"row {n}"}) for n in range(2200)]
    corpus = write_files(tmp_path / "c", {"d.jsonl": "\n".join(lines) + "\n"})
    quiet = invoke("index", str(corpus), "-i", str(tmp_path / "idx"))
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr.splitlines()[1:] == ["skipped 1,200 records (--verbose lists them):", "  1,200 duplicate id"]
    report = json.loads(invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "--rebuild", "--json").stdout)
    assert len(report["skipped"]) == 1001
    assert report["skipped"][0] == {"path": "d.jsonl:1001", "reason": "duplicate id '0'"}
    assert report["skipped"][-1] == {
        "path": "d.jsonl",
        "reason": "200 more records skipped, not listed (200 duplicate id)",
        "unlisted": {"duplicate id": 200},
    }


def test_a_reason_is_counted_by_its_kind_whatever_the_values_it_names() -> None:
    skipped = [
        *(Skipped(f"d.jsonl:{n}", f"duplicate id {str(n)!r}", record=True) for n in range(5)),
        *(Skipped(f"d.jsonl:{n}", f"field {name!r} is not a string", record=True) for n, name in enumerate("ab")),
        Skipped("d.jsonl", "7 more records skipped, not listed", record=True, unlisted={"duplicate id": 7}),
        Skipped("e.pdf", "damaged PDF (PdfReadError: bad xref)"),
    ]
    assert skipped_summary(skipped) == [
        "skipped 1 file and 14 records (--verbose lists them):",
        "  12 duplicate id",
        "  2 field is not a string",
        "  1 damaged PDF",
    ]


def test_rare_reasons_are_counted_not_listed() -> None:
    reasons = ["a", "a", "a", "b (x)", "b (y: z)", "c: x", "c: y (z)", "d", "e"]
    skipped = [Skipped(f"f{n}", reason) for n, reason in enumerate(reasons)]
    assert skipped_summary(skipped[:-1], reasons=3)[-1] == "  1 d"  # one reason more: shown, not counted
    lines = skipped_summary(skipped, reasons=3)
    assert lines == [
        "skipped 9 files (--verbose lists them):",
        "  3 a",
        "  2 b",
        "  2 c",
        "  … and 2 more for 2 other reasons (see --verbose)",
    ]


def test_skipped_records_are_counted_as_records_not_files() -> None:
    """Two records left out of the one file indexed were "skipped 2 files"."""
    records = [
        Skipped("a.jsonl:2", "empty text and no title", record=True),
        Skipped("a.jsonl:4", "duplicate id", record=True),
    ]
    assert skipped_summary(records)[0] == "skipped 2 records (--verbose lists them):"
    both = [Skipped("b.png", "unsupported file type .png"), *records]
    assert skipped_summary(both)[0] == "skipped 1 file and 2 records (--verbose lists them):"


def test_copies_split_at_other_places_are_folded_as_near_identical() -> None:
    words = [f"w{n}" for n in range(60)]

    def hit(rank: int, path: str, text: list[str]) -> Hit:
        return Hit(rank, 1.0 / rank, f"{path}#1", path, "", path, 1, 0, 0, " ".join(text))

    hits = [
        hit(1, "page.md", words[:50]),
        hit(2, "page.html", ["<p>", *words[5:55]]),  # the same page, cut 5 words later: 45 of 47 runs shared
        hit(3, "other.md", words[30:60]),  # a third of it shared: another passage
        hit(4, "copy.md", [w.upper() for w in words[:50]]),  # the same words
    ]
    groups = fold_identical(hits)
    assert [(best.path, [c.path for c in copies]) for best, copies in groups] == [
        ("page.md", ["page.html", "copy.md"]),
        ("other.md", []),
    ]
    assert plain_lines(hits)[0].endswith("(+2 near-identical)")
    assert plain_lines(hits[::3])[0].endswith("(+1 identical)")


@pytest.mark.parametrize(("width", "height"), [(80, 24), (160, 50)])
def test_a_pasted_paragraph_is_echoed_by_its_start(bees, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    idx, _ = bees
    question = "How do honeybees tell each other where the flowers are? " * 40  # 2,300 characters
    hits = idx.search(question, 3)
    console, out = terminal(width, height)
    print_hits(question, "bm25", hits, idx.analyzer.highlighter(question), False, False, OutputView("auto"), console)
    echoed = out.getvalue().split("\n[")[0].split("┏")[0]  # the lines above the results
    assert "bm25 · How do honeybees" in echoed and echoed.rstrip().endswith("…")
    assert len(" ".join(echoed.split())) < 220


def test_a_pipe_is_not_laid_out_for_the_terminal_ragcli_was_started_from(sample_index: Path) -> None:
    """`ragcli query … | cat` in a 40-column terminal: rich took its width from the terminal on stdin
    and stderr, and the passage column was 4 cells wide. A pipe's lines are those of no terminal at all
    (80 columns, or $COLUMNS), whatever the terminal around it."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 40, 0, 0))  # 50 rows, 40 columns
    env = {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES")}
    command = [RAGCLI, "query", "waggle dance", "-i", str(sample_index), "--no-generate", "-k", "1"]
    try:
        piped = subprocess.run(command, stdin=follower, stdout=subprocess.PIPE, stderr=follower, env=env, timeout=120)
    finally:
        os.close(follower)
        os.close(leader)
    alone = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=120)
    assert piped.returncode == alone.returncode == 0
    assert piped.stdout == alone.stdout
    assert max(cell_len(line) for line in piped.stdout.decode().splitlines()) == 80
    assert "behavior/waggle_dance.md:" in piped.stdout.decode()
