from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest
from clihelpers import invoke, run
from conftest import write_files

from ragcli.errors import ExitCode
from ragcli.retrieval.index import load_index


def test_index_prints_a_summary_on_stderr(small_corpus: Path, tmp_path: Path) -> None:
    result = invoke("index", str(small_corpus), "--index", str(tmp_path / "idx"))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "Indexed 6 documents" in result.stderr
    assert load_index(tmp_path / "idx").info()["documents"] == 6


def test_warnings_are_shown_without_verbose_the_first_few_then_a_count(tmp_path: Path) -> None:
    """Data a build leaves out or reads another way is never silent: without -v the first warnings and
    how many more, with -v every one, with -q nothing."""
    legacy = {f"l{i}.txt": b"caf\xe9 zebra\n" for i in range(4)}
    corpus = write_files(tmp_path / "c", {"d.csv": "id,text\n1,zebra one\n2,zebra, two, three\n", **legacy})
    index = str(tmp_path / "idx")
    every = [
        "warning: d.csv:3: a row with 2 fields more than the header's 2, left out; quote a field that holds the delimiter",
        *(f"warning: l{i}.txt: not valid UTF-8, read as cp1252" for i in range(4)),
    ]
    plain = invoke("index", str(corpus), "-i", index)
    assert plain.exit_code == 0, plain.output
    assert plain.stderr.splitlines()[-4:] == [*every[:3], "… and 2 more warnings (--verbose lists them)"]
    verbose = invoke("index", str(corpus), "-i", index, "--rebuild", "-v")
    assert [line for line in verbose.stderr.splitlines() if line.startswith("warning")] == every
    assert invoke("index", str(corpus), "-i", index, "--rebuild", "-q").stderr == ""


def test_index_json_report(small_corpus: Path, tmp_path: Path) -> None:
    (small_corpus / "image.png").write_bytes(b"\x89PNG")
    result = invoke("index", str(small_corpus), "--index", str(tmp_path / "idx"), "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["documents"] == 6 and report["passages"] == 6
    assert report["skipped"] == [{"path": "image.png", "reason": "unsupported file type .png"}]


def test_verbose_lists_skipped_files(small_corpus: Path, tmp_path: Path) -> None:
    (small_corpus / "image.png").write_bytes(b"\x89PNG")
    result = invoke("index", str(small_corpus), "-i", str(tmp_path / "idx"), "--verbose")
    assert "skipped image.png: unsupported file type .png" in result.stderr


def test_files_counts_only_the_files_read_and_nouns_agree_with_counts(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "c", {"one.md": "# One\n\nA single short note.", "logo.png": b"\x89PNG"})
    result = invoke("index", str(corpus), "-i", str(tmp_path / "idx"))
    assert "Indexed 1 document (1 passage, " in result.stderr and " from 1 file in " in result.stderr
    assert "skipped 1 file (--verbose lists them):\n  1 unsupported file type: .png 1\n" in result.stderr
    report = json.loads(invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "--json").stdout)
    assert (report["files"], report["files_read"]) == (2, 1)


def test_a_rerun_says_which_unchanged_files_are_skipped_ones(tmp_path: Path) -> None:
    """A damaged file is remembered, not read again while it is unchanged: it counts as unchanged, and
    the line says so, or "from 1 file … 2 unchanged" would not add up."""
    corpus = write_files(tmp_path / "c", {"one.md": "# One\n\nA single short note.", "broken.pdf": b"%PDF-1.4 junk"})
    invoke("index", str(corpus), "-i", str(tmp_path / "idx"))
    again = invoke("index", str(corpus), "-i", str(tmp_path / "idx"))
    assert " from 1 file → " in again.stderr and "2 unchanged (1 of them skipped, as before)" in again.stderr
    report = json.loads(invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "--json").stdout)
    assert (report["files_read"], report["files_unchanged"], report["files_unchanged_skipped"]) == (1, 2, 1)


def test_a_rerun_says_which_unchanged_files_have_a_new_modification_time(tmp_path: Path) -> None:
    """A touched file is not read again, but its new time is recorded: "Updated … 0 new, 0 changed,
    0 removed, 3 unchanged" did not say why the index was updated."""
    files = {"one.md": "# One\n\nA note.", "two.md": "# Two\n\nAnother note.", "broken.pdf": b"%PDF-1.4 junk"}
    corpus = write_files(tmp_path / "c", files)
    invoke("index", str(corpus), "-i", str(tmp_path / "idx"))

    def touch() -> None:
        stat = (corpus / "one.md").stat()
        os.utime(corpus / "one.md", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))

    touch()
    again = invoke("index", str(corpus), "-i", str(tmp_path / "idx"))
    assert again.exit_code == 0, again.output
    assert "Updated " in again.stderr
    assert "3 unchanged (1 with a new modification time; 1 of them skipped, as before)" in again.stderr
    touch()
    report = json.loads(invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "--json").stdout)
    assert (report["files_unchanged"], report["files_touched"], report["files_unchanged_skipped"]) == (3, 1, 1)
    report = json.loads(invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "--json").stdout)
    assert report["up_to_date"] and report["files_touched"] == 0


def test_a_file_with_only_a_new_status_is_said_to_be_why_the_index_was_updated(tmp_path: Path) -> None:
    """A chmod (a new ctime, the same mtime) is recorded anew: the summary said "Updated …; 0 new, 0
    changed, 0 removed, 2 unchanged" with no reason for the update."""
    corpus = write_files(tmp_path / "c", {"one.md": "# One\n\nA note.", "two.md": "# Two\n\nAnother note."})
    invoke("index", str(corpus), "-i", str(tmp_path / "idx"))
    (corpus / "one.md").chmod(0o600)
    again = invoke("index", str(corpus), "-i", str(tmp_path / "idx"))
    assert again.exit_code == 0, again.output
    assert "Updated " in again.stderr and "2 unchanged (1 with a new status or inode)" in again.stderr
    (corpus / "two.md").chmod(0o600)
    report = json.loads(invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "--json").stdout)
    assert (report["files_unchanged"], report["files_restated"], report["files_touched"]) == (2, 1, 0)
    report = json.loads(invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "--json").stdout)
    assert report["up_to_date"] and report["files_restated"] == 0


def test_a_re_index_reports_the_skipped_records_and_warnings_of_the_files_it_reuses(tmp_path: Path) -> None:
    """A file reused unread is reported as a fresh build reports it: its records left out and its
    warnings, as a file skipped whole is listed again (they vanished from the summary and from --json
    once another file changed, and came back with --rebuild)."""
    files = {
        "r.jsonl": '{"id": "1", "text": "apple"}\nnot json\n{"id": "1", "text": "dup"}\n',
        "l.txt": b"caf\xe9 latin1 text\n",
        "o.txt": "other bees\n",
    }
    corpus = write_files(tmp_path / "c", files)
    index = str(tmp_path / "idx")
    first = invoke("index", str(corpus), "-i", index)
    records = "skipped 2 records (--verbose lists them):\n  1 duplicate id\n  1 invalid JSON\n"
    warning = "warning: l.txt: not valid UTF-8, read as cp1252"
    assert records in first.stderr and warning in first.stderr
    (corpus / "o.txt").write_text("other bees changed\n")
    changed = invoke("index", "-i", index)
    assert "1 changed" in changed.stderr and records in changed.stderr and warning in changed.stderr
    report = json.loads(invoke("index", "-i", index, "--json").stdout)
    assert report["up_to_date"] and report["warnings"] == [warning.removeprefix("warning: ")]
    assert [s["unlisted"] for s in report["skipped"]] == [{"duplicate id": 1, "invalid JSON": 1}]
    assert report["skipped"][0]["reason"] == "2 records skipped, as before (1 duplicate id, 1 invalid JSON)"


def test_nothing_to_index_lists_every_skipped_file_with_verbose(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "c", {f"image{i}.png": b"\x89PNG" for i in range(5)})
    quiet = invoke("index", str(corpus), "-i", str(tmp_path / "idx"))
    assert quiet.exit_code == ExitCode.EMPTY_CORPUS and "--verbose lists them all" in quiet.stderr
    assert "image4.png" not in quiet.stderr
    verbose = invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "-v")
    assert verbose.exit_code == ExitCode.EMPTY_CORPUS
    assert all(f"skipped image{i}.png: unsupported file type .png" in verbose.stderr for i in range(5))
    assert "and 2 more" in verbose.stderr and "--verbose lists them all" not in verbose.stderr  # it just did
    # a script asking for JSON gets the report it asked for, with every file skipped, and exit 5 still
    scripted = invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "--json")
    assert scripted.exit_code == ExitCode.EMPTY_CORPUS and "no text to index" in scripted.stderr
    report = json.loads(scripted.stdout)
    assert report["exit_code"] == 5 and report["error"].startswith("no text to index in ")
    assert report["skipped"] == [{"path": f"image{i}.png", "reason": "unsupported file type .png"} for i in range(5)]


def test_options_are_stored_in_the_manifest(small_corpus: Path, tmp_path: Path) -> None:
    result = invoke(
        "index",
        str(small_corpus),
        "-i",
        str(tmp_path / "idx"),
        "--chunk-size",
        "5",
        "--chunk-overlap",
        "1",
        "--language",
        "german",
        "--no-stopwords",
        "--bm25-variant",
        "okapi",
        "--k1",
        "1.1",
    )
    assert result.exit_code == 0, result.output
    info = load_index(tmp_path / "idx").info()
    assert info["chunking"] == {
        "size": 5,
        "overlap": 1,
        "unit": "words",
        "cuts": 3,
        "sections": "headings: markdown, rst, html, docx, org, asciidoc, latex, texinfo; definitions: code",
    }
    assert info["analyzer"] == {
        "language": "de",
        "stopwords": False,
        "stem": True,
        "drop_format_characters": True,
        "words_keep_marks": True,
        "cjk_unigrams": True,
        "fold_greek_accents": True,
    }
    assert info["bm25"]["variant"] == "okapi" and info["bm25"]["k1"] == 1.1 and info["bm25"]["b"] == 0.75


def test_a_locale_is_stored_as_its_language(small_corpus: Path, tmp_path: Path) -> None:
    result = invoke("index", str(small_corpus), "--index", str(tmp_path / "idx"), "--language", "pt-BR", "-q")
    assert result.exit_code == 0, result.output
    assert load_index(tmp_path / "idx").info()["analyzer"]["language"] == "pt"


def test_environment_variable_chooses_the_index(small_corpus: Path, tmp_path: Path) -> None:
    result = invoke("index", str(small_corpus), env={"RAGCLI_INDEX": str(tmp_path / "envidx")})
    assert result.exit_code == 0
    assert (tmp_path / "envidx" / "manifest.json").is_file()


@pytest.mark.parametrize(
    "files, args, code, message",
    [
        ({}, ["missing-folder"], ExitCode.PATH_NOT_FOUND, "no such file or folder"),
        ({"a.png": b"\x89PNG"}, ["."], ExitCode.EMPTY_CORPUS, "no text to index"),
        ({"d.jsonl": '{"text": "ok"}\n{broken\n'}, [".", "--strict"], ExitCode.BAD_INPUT, "d.jsonl:2: invalid JSON"),
        ({"a.txt": "x"}, [".", "--language", "xx"], ExitCode.USAGE, "unsupported language"),
        ({"a.txt": "x"}, [".", "--language", "zh"], ExitCode.USAGE, "two-character pieces under any language"),
        ({"a.txt": "x"}, [".", "--chunk-size", "5", "--chunk-overlap", "5"], ExitCode.USAGE, "smaller than"),
        ({"a.txt": "x"}, [".", "--bm25-variant", "nope"], ExitCode.USAGE, "unknown BM25 variant"),
        # numbers past what an index can hold: were internal errors, or an index its own query refused
        ({"a.txt": "x"}, [".", "--chunk-size", str(2**63)], ExitCode.USAGE, "at most 1,000,000 words"),
        ({"a.txt": "x"}, [".", "--chunk-size", "0", "--chunk-overlap", str(2**63)], ExitCode.USAGE, "at most"),
        ({"a.txt": "x"}, [".", "--bm25-variant", "okapi", "--k1", "1e308"], ExitCode.USAGE, "at most 1000"),
        ({"a.txt": "x"}, [".", "--exclude", "\\"], ExitCode.USAGE, "--exclude '\\\\': not a valid glob"),
    ],
)
def test_errors_are_one_line_with_their_exit_code(
    tmp_path: Path, files: dict, args: list, code: int, message: str
) -> None:
    corpus = write_files(tmp_path / "c", files) if files else tmp_path
    corpus.mkdir(exist_ok=True)
    result = run("index", *args, "--index", str(tmp_path / "idx"), cwd=corpus)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "idx" / "manifest.json").exists()


def test_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path: Path) -> None:
    result = run("--debug", "index", "missing-folder", "--index", str(tmp_path / "idx"), cwd=tmp_path)
    assert result.returncode == ExitCode.PATH_NOT_FOUND  # was 1, the code of a bug
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("ragcli: error: ")


@pytest.mark.parametrize(
    ("value", "on"),
    [("1", True), ("yes", True), ("0", False), ("false", False), ("No", False), ("off", False), ("", False)],
)
def test_ragcli_debug_is_on_unless_it_says_off(tmp_path: Path, value: str, on: bool) -> None:
    result = run("query", "waggle", "--index", str(tmp_path / "none"), "--no-generate", env={"RAGCLI_DEBUG": value})
    assert result.returncode == ExitCode.NO_INDEX, result.stderr
    assert ("Traceback" in result.stderr) == on, result.stderr  # RAGCLI_DEBUG=0 and =false turned it on
    assert result.stderr.splitlines()[-1].startswith("ragcli: error: no index found")


def test_debug_shows_a_bugs_traceback_and_keeps_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def a_bug(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("ragcli.collections.choose_index", a_bug)
    result = invoke("--debug", "query", "waggle", "--index", str(tmp_path), "--no-generate")
    assert result.exit_code == ExitCode.FAILURE
    assert "Traceback" in result.stderr and 'raise RuntimeError("a bug")' in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "ragcli: error: internal error: RuntimeError: a bug (please report it with the traceback above)"
    )


def test_debug_holds_for_its_own_invocation_only(tmp_path: Path) -> None:
    """--debug in one in-process run (a test's, a program's) leaves the next one without it."""
    args = ("query", "waggle", "--index", str(tmp_path / "none"), "--no-generate")
    assert "Traceback" in invoke("--debug", *args).stderr
    after = invoke(*args, env={"RAGCLI_DEBUG": ""})
    assert after.exit_code == ExitCode.NO_INDEX and "Traceback" not in after.stderr


def test_default_index_folder_is_dot_ragcli_and_is_not_indexed(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.txt": "bees make honey"})
    assert run("index", ".", cwd=tmp_path).returncode == 0
    second = run("index", ".", "--json", cwd=tmp_path)  # the .ragcli folder must not be read as corpus
    assert json.loads(second.stdout)["documents"] == 1
    assert (tmp_path / ".ragcli" / "manifest.json").is_file()


def test_a_folder_with_package_json_and_records_indexes_the_records(tmp_path: Path) -> None:
    corpus = write_files(
        tmp_path / "c",
        {
            "package.json": json.dumps({"name": "site", "version": "1.0.0", "dependencies": {"x": "^1"}}),
            "records.jsonl": '{"id": "r1", "text": "glaciers carve valleys"}\n{"id": "r2", "text": \n'
            '{"id": "t1", "title": "Aerodynamic heating of slender cones", "text": ""}\n',
        },
    )
    result = invoke("index", str(corpus), "--index", str(tmp_path / "idx"), "--json")
    assert result.exit_code == 0, result.output
    skipped = json.loads(result.stdout)["skipped"]
    assert skipped == [  # package.json once, with the reason; the bad line with file:line
        {
            "path": "package.json",
            "reason": "not a list of records: no text field (text/contents/content/body/passage); "
            "name it with --text-field",
        },
        {"path": "records.jsonl:2", "reason": "invalid JSON (Expecting value)"},
    ]
    index = load_index(tmp_path / "idx")
    assert {index.passages.doc_ids[i] for i in range(len(index.passages))} == {"r1", "t1"}
    found = invoke("query", "aerodynamic heating cones", "--index", str(tmp_path / "idx"), "--no-generate", "--json")
    hits = json.loads(found.stdout)["hits"]
    assert hits[0]["doc_id"] == "t1" and hits[0]["line"] == 3  # the title-only record, cited at its line
    strict = run("index", str(corpus), "--index", str(tmp_path / "strict"), "--strict")
    assert strict.returncode == ExitCode.BAD_INPUT
    assert "records.jsonl:2: invalid JSON" in strict.stderr and "drop --strict" in strict.stderr
    deprecated = run("index", str(corpus), "--index", str(tmp_path / "old"), "--skip-invalid", "-q")
    assert deprecated.returncode == 0 and deprecated.stderr == ""  # still accepted: skipping is the default


@pytest.mark.parametrize("option", ["--text-field", "--id-field", "--title-field"])
def test_a_blank_field_name_is_a_usage_error_before_any_work(tmp_path: Path, option: str) -> None:
    """`--text-field ''` skipped every record as having "no text field" (exit 5), `--id-field ''` named every
    record by its line, and the blank name stuck as the index's setting."""
    corpus = write_files(tmp_path / "c", {"n.jsonl": '{"id": "k1", "text": "honey one"}\n'})
    for blank in ("", " "):
        result = invoke("index", str(corpus), "--index", str(tmp_path / "idx"), option, blank)
        assert result.exit_code == ExitCode.USAGE, result.output
        assert f"'{option}': a field name cannot be empty" in result.stderr
        assert not (tmp_path / "idx").exists()  # refused before the index folder is made


# --- text under any name, ignore files and globs ---------------------------------------------------------


def test_extensionless_text_code_and_gzip_are_indexed_and_cited(tmp_path: Path) -> None:
    import gzip

    corpus = write_files(
        tmp_path / "doc",
        {
            "tmux/README": "tmux\n\nA terminal multiplexer: it lets you switch between programs.\n",
            "tmux/changelog.Debian.gz": gzip.compress(b"tmux (3.3a) unstable\n\n  * Fix the clipboard bug.\n"),
            "tool/setup.py": "import setuptools\n\n\ndef configure():\n    return 'zebrafish parser'\n",
            "tool/blob": b"\x7fELF\x02\x01" + bytes(64),
        },
    )
    index_dir = tmp_path / "idx"
    built = invoke("index", str(corpus), "--index", str(index_dir), "--json")
    assert built.exit_code == 0, built.output
    report = json.loads(built.stdout)
    assert report["documents"] == 3 and report["skipped"] == [{"path": "tool/blob", "reason": "binary content"}]
    hits = json.loads(invoke("query", "zebrafish", "--no-generate", "--json", "--index", str(index_dir)).stdout)["hits"]
    assert [(h["path"], h["line"], h["title"]) for h in hits] == [("tool/setup.py", 1, "setup.py")]
    hits = json.loads(invoke("query", "clipboard", "--no-generate", "--json", "--index", str(index_dir)).stdout)["hits"]
    assert [h["path"] for h in hits] == ["tmux/changelog.Debian.gz"]


def test_a_file_named_on_the_command_line_is_read_whatever_its_name(tmp_path: Path) -> None:
    readme = write_files(tmp_path / "tmux", {"README": "A terminal multiplexer.\nIt keeps sessions.\n"}) / "README"
    result = run("index", str(readme), "--index", str(tmp_path / "idx"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["documents"] == 1


PROJECT = {
    ".gitignore": "*.log\n!keep.log\nbuild/\n",
    "notes.md": "# Notes\n\nhoneybees dance",
    "debug.log": "ignored log",
    "keep.log": "kept log",
    "build/out.txt": "generated",
    "docs/guide.md": "# Guide\n\nthe guide",
    "docs/.gitignore": "drafts/\n",
    "docs/drafts/wip.md": "draft",
    "docs/api/ref.md": "# Ref\n\nreference",
}


def sources(index_dir: Path) -> list[str]:
    return sorted(s["path"] for s in json.loads((index_dir / "manifest.json").read_text())["sources"])


def test_ignore_files_are_honoured_and_counted(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "p", PROJECT)
    index_dir = tmp_path / "idx"
    result = invoke("index", str(corpus), "--index", str(index_dir), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ignored"] == 3 and report["skipped"] == []  # debug.log, build/, docs/drafts/: counted, not listed
    assert sources(index_dir) == ["docs/api/ref.md", "docs/guide.md", "keep.log", "notes.md"]
    human = invoke("index", str(corpus), "--index", str(index_dir))
    assert "ignored 3 (ignore files, --include/--exclude)" in human.stderr

    everything = invoke("index", str(corpus), "--index", str(index_dir), "--no-ignore", "--json")
    assert json.loads(everything.stdout)["ignored"] == 0
    assert len(sources(index_dir)) == 7


def test_include_and_exclude_on_the_command_line(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "p", PROJECT)
    index_dir = tmp_path / "idx"
    args = ["--include", "docs/**/*.md", "--include", "*.log", "--exclude", "**/api", "--json"]
    result = invoke("index", str(corpus), "--index", str(index_dir), *args)
    assert result.exit_code == 0, result.output
    assert sources(index_dir) == ["docs/guide.md", "keep.log"]


def test_the_selection_survives_a_plain_re_index(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "p", PROJECT)
    index_dir = tmp_path / "idx"
    first = invoke("index", str(corpus), "--index", str(index_dir), "--exclude", "docs/", "--no-ignore", "--json")
    assert first.exit_code == 0, first.output
    assert sources(index_dir) == ["build/out.txt", "debug.log", "keep.log", "notes.md"]
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["selection"] == {"include": [], "exclude": ["docs/"], "ignore_files": False}
    info = json.loads(invoke("info", "--index", str(index_dir), "--json").stdout)
    assert info["selection"] == manifest["selection"]

    write_files(corpus, {"docs/new.md": "new but excluded", "new.log": "new and read: ignore files are off"})
    again = invoke("index", "--index", str(index_dir), "--json")  # no paths: roots and selection as recorded
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["files_new"] == 1
    assert sources(index_dir) == ["build/out.txt", "debug.log", "keep.log", "new.log", "notes.md"]

    # an option given on a plain re-index replaces only its own part of what was recorded
    honoured = invoke("index", "--index", str(index_dir), "--ignore", "--json")
    assert json.loads(honoured.stdout)["files_removed"] == 3
    assert sources(index_dir) == ["keep.log", "notes.md"]
    assert json.loads((index_dir / "manifest.json").read_text())["selection"]["exclude"] == ["docs/"]

    # the index's own roots given again: the recorded selection still holds, like every other setting
    same = invoke("index", str(corpus), "--index", str(index_dir), "--json")
    assert json.loads(same.stdout)["up_to_date"] is True
    assert sources(index_dir) == ["keep.log", "notes.md"]
    # only options given replace what was recorded: back to the defaults by giving them
    fresh = invoke("index", str(corpus), "--index", str(index_dir), "--exclude", "nothing", "--no-ignore", "--json")
    assert json.loads(fresh.stdout)["up_to_date"] is False
    assert "docs/guide.md" in sources(index_dir)


def test_a_new_selection_with_the_same_files_is_still_recorded(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "p", {"a.md": "# A\n\nalpha"})
    index_dir = tmp_path / "idx"
    assert invoke("index", str(corpus), "--index", str(index_dir)).exit_code == 0
    changed = invoke("index", str(corpus), "--index", str(index_dir), "--exclude", "*.tmp", "--json")
    assert json.loads(changed.stdout)["up_to_date"] is False  # nothing to read, but the manifest must say *.tmp
    assert json.loads((index_dir / "manifest.json").read_text())["selection"]["exclude"] == ["*.tmp"]
    write_files(corpus, {"scratch.tmp": "scratch"})
    assert json.loads(invoke("index", "--index", str(index_dir), "--json").stdout)["up_to_date"] is True


def test_include_and_exclude_match_decomposed_file_names(tmp_path: Path) -> None:
    # macOS writes file names decomposed; a glob typed composed left the file out (exit 5: nothing to index)
    corpus = write_files(tmp_path / "p", {unicodedata.normalize("NFD", "Résumé.md"): "Le comité", "autre.md": "x"})
    index_dir = tmp_path / "idx"
    result = invoke("index", str(corpus), "--index", str(index_dir), "--include", "Résumé.md", "--json")
    assert result.exit_code == 0, result.output
    assert sources(index_dir) == [unicodedata.normalize("NFD", "Résumé.md")]  # stored as the file system has it
    excluded = invoke("index", str(corpus), "--index", str(tmp_path / "x"), "--exclude", "Résumé.md", "--json")
    assert excluded.exit_code == 0, excluded.output
    assert sources(tmp_path / "x") == ["autre.md"]
