"""A hostile corpus: only regular files inside the roots are read, ragcli's own index folders are never
read as documents, and no single file can exhaust memory, hang, or crash the build (issue 12)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clihelpers import RAGCLI, without_root_powers
from conftest import write_files
from typer.testing import CliRunner

import ragcli.readers.records as records_module
from ragcli.cli import app
from ragcli.errors import ForeignFolderError, InputFormatError
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.readers.base import MAX_SKIP_KINDS, OTHER_KINDS, ReadContext, ReadReport, RecordFields, SourceInput
from ragcli.readers.markup import MarkdownReader, html_declared_charset
from ragcli.readers.walk import CorpusReader
from ragcli.records import INDEX_FORMAT, INDEX_LOCK, INDEX_MANIFEST, Document, Skipped
from ragcli.retrieval.index import load_index
from ragcli.store import FORMAT_NAME, LOCK, MANIFEST

# Reading runs in a child process under a time and memory limit: without the fixes a FIFO hangs and
# /dev/zero eats memory, and neither may take the test suite (or the machine) down with it.
PROBE = """
import json, resource, sys
from pathlib import Path
from ragcli.readers.walk import CorpusReader
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
args = sys.argv[1:]
roots, files = (args[: args.index("--files")], args[args.index("--files") + 1 :]) if "--files" in args else (args, [])
reader = CorpusReader([Path(p) for p in roots])
if files:
    docs = {d.id: d.text for f in files for d in reader.read_file(Path(f))}
    hashes = [reader.sha256(Path(f)) for f in files]
else:
    docs, hashes = {d.id: d.text for d in reader.documents()}, []
print(json.dumps({"docs": docs, "skipped": {s.path: s.reason for s in reader.report.skipped}, "hashes": hashes}))
"""


def probe(*args: str | Path) -> dict[str, Any]:
    result = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def read_all(*roots: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(document id → text, skipped path → reason) of reading `roots`."""
    data = probe(*roots)
    return data["docs"], data["skipped"]


def ids(index_dir: Path) -> set[str]:
    index = load_index(index_dir)
    return {index.passages.doc_ids[i] for i in range(len(index.passages))}


# --- class 3: nothing outside the corpus, nothing but regular files ---------------------------------


def test_a_link_to_a_file_outside_the_corpus_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text("aws_secret_access_key = hunter2")
    root = write_files(tmp_path / "corpus", {"a.txt": "bees"})
    (root / "notes.txt").symlink_to("../credentials")
    (root / "zero.txt").symlink_to("/dev/zero")
    docs, skipped = read_all(root)
    assert list(docs) == ["a.txt"]
    assert skipped["notes.txt"] == skipped["zero.txt"] == "symbolic link outside the indexed folder (not followed)"
    build_index([root], tmp_path / "idx")
    assert ids(tmp_path / "idx") == {"a.txt"}


def test_a_link_inside_the_corpus_is_not_followed_its_target_is_read_once(tmp_path: Path) -> None:
    root = write_files(tmp_path / "corpus", {"a.txt": "bees", ".private/key.txt": "hidden secret"})
    (root / "again.txt").symlink_to("a.txt")
    (root / "peek.txt").symlink_to(".private/key.txt")  # a link must not unhide a hidden file
    docs, skipped = read_all(root)
    assert docs == {"a.txt": "bees"}
    assert skipped["again.txt"].startswith("symbolic link (not followed")
    assert skipped["peek.txt"].startswith("symbolic link (not followed")


def test_a_symlink_loop_given_as_a_root_is_a_missing_path(tmp_path: Path) -> None:
    """Python 3.11's Path.resolve raises RuntimeError on a loop: it was an internal error (exit 1)."""
    (tmp_path / "loop1").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop1")
    write_files(tmp_path, {"f.txt": "hi there"})
    index = str(tmp_path / "idx")
    runner = CliRunner()
    first = runner.invoke(app, ["index", str(tmp_path / "loop1"), "--index", str(tmp_path / "other")])
    assert first.exit_code == 4 and "loop1: symbolic link loop" in first.output, first.output
    assert runner.invoke(app, ["index", str(tmp_path / "f.txt"), "--index", index]).exit_code == 0
    added = runner.invoke(app, ["index", "--index", index, "--add", str(tmp_path / "loop1")])
    assert added.exit_code == 4 and "loop1: symbolic link loop" in added.output, added.output
    removed = runner.invoke(app, ["index", "--index", index, "--remove", str(tmp_path / "loop1")])
    assert removed.exit_code == 2 and "not a root of the index" in removed.output, removed.output


def test_a_broken_or_looping_link_in_a_folder_says_so(tmp_path: Path) -> None:
    root = write_files(tmp_path / "corpus", {"a.txt": "apple"})
    (root / "loop1").symlink_to("loop2")
    (root / "loop2").symlink_to("loop1")
    (root / "dangling").symlink_to("nowhere")
    docs, skipped = read_all(root)
    assert list(docs) == ["a.txt"]
    assert skipped["loop1"] == skipped["loop2"] == "symbolic link loop (not followed)"
    assert skipped["dangling"] == "broken symbolic link (it points to nothing)"


def test_fifos_in_the_corpus_are_skipped_without_hanging(tmp_path: Path) -> None:
    root = write_files(tmp_path / "corpus", {"a.txt": "bees"})
    os.mkfifo(root / "pipe.txt")
    os.mkfifo(root / "pipe.jsonl")
    docs, skipped = read_all(root)
    assert list(docs) == ["a.txt"]
    assert skipped["pipe.txt"] == skipped["pipe.jsonl"] == "not a regular file (a FIFO)"


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_named_on_the_command_line_is_refused(tmp_path: Path, device: str) -> None:
    docs, skipped = read_all(Path(device))
    assert docs == {} and list(skipped.values()) == ["not a regular file (a character device)"]


def test_a_fifo_named_on_the_command_line_is_refused_through_the_cli(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "q.jsonl")
    result = subprocess.run(
        [sys.executable, "-m", "ragcli", "index", str(tmp_path / "q.jsonl"), "-i", str(tmp_path / "idx"), "-v"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 5, result.stderr
    assert "not a regular file (a FIFO)" in result.stderr and "Traceback" not in result.stderr


def index_without_root_powers(*args: str) -> subprocess.CompletedProcess[str]:
    """`ragcli index` with permissions applied (as root too: setpriv drops the override)."""
    command = [*without_root_powers(), RAGCLI, "index", *args, "-v"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("mode", [0o000, 0o311])  # neither searchable nor listable; searchable only
def test_an_unreadable_folder_is_skipped_and_the_walk_goes_on(tmp_path: Path, mode: int) -> None:
    root = write_files(tmp_path / "c", {"a.txt": "bees make honey", "sub/b.txt": "hidden"})
    (root / "sub").chmod(mode)
    try:
        result = index_without_root_powers(str(root), "-i", str(tmp_path / "idx"))
    finally:
        (root / "sub").chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert "skipped sub: unreadable folder: Permission denied" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert ids(tmp_path / "idx") == {"a.txt"}


def test_an_unreadable_root_folder_is_skipped_not_a_crash(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"a.txt": "bees"})
    other = write_files(tmp_path / "d", {"b.txt": "wax"})
    root.chmod(0o000)
    try:
        result = index_without_root_powers(str(root), str(other), "-i", str(tmp_path / "idx"))
    finally:
        root.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert "skipped c: unreadable folder: Permission denied" in result.stderr, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert ids(tmp_path / "idx") == {"d/b.txt"}


def test_a_root_behind_a_folder_that_cannot_be_searched_is_a_clear_error(tmp_path: Path) -> None:
    """A root inside a folder one may not search (`chmod 000 parent`, root `parent/q`) was "internal
    error: PermissionError" (exit 1): asking whether the root exists raised. It is exit 4, naming it."""
    root = write_files(tmp_path / "parent" / "q", {"a.txt": "bees"})
    (tmp_path / "parent").chmod(0o000)
    try:
        result = index_without_root_powers(str(root), "-i", str(tmp_path / "idx"))
    finally:
        (tmp_path / "parent").chmod(0o755)
    assert result.returncode == 4, result.stderr
    assert f"{root}: cannot be reached (Permission denied)" in result.stderr, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("locked", ["papers", "papers/deep"])  # a root; a folder inside one
@pytest.mark.parametrize("also_new", [False, True])  # the index up to date; rewritten for another file
def test_the_files_of_a_folder_that_cannot_be_read_are_kept_not_removed(
    tmp_path: Path, locked: str, also_new: bool
) -> None:
    """A folder unreadable for a while (a chmod, a mount not yet there) had its files counted removed and
    their passages dropped, with exit 0, while an unreadable file is kept: its files are kept as the index
    has them, unread, and the build says the folder could not be read."""
    notes = write_files(tmp_path / "notes", {"a.txt": "apples grow on trees"})
    papers = write_files(tmp_path / "papers", {"b.txt": "bananas are yellow", "deep/c.txt": "cherries are red"})
    index = str(tmp_path / "idx")
    assert index_without_root_powers(str(notes), str(papers), "-i", index).returncode == 0
    if also_new:
        (notes / "d.txt").write_text("dates are sweet")
    kept = 2 if locked == "papers" else 1
    (tmp_path / locked).chmod(0o000)
    try:
        again = index_without_root_powers("-i", index)
    finally:
        (tmp_path / locked).chmod(0o755)
    assert again.returncode == 0, again.stderr
    assert f"skipped {locked}: unreadable folder: Permission denied" in again.stderr
    assert f"files: {int(also_new)} new, 0 changed, 0 removed, 3 unchanged" in again.stderr, again.stderr
    assert f"{locked}: could not be read; the index keeps its {kept} file" in again.stderr
    assert up_to_date(again.stderr) is not also_new
    assert ids(tmp_path / "idx") == {"notes/a.txt", "papers/b.txt", "papers/deep/c.txt"} | (
        {"notes/d.txt"} if also_new else set()
    )
    readable = index_without_root_powers("-i", index)
    assert readable.returncode == 0 and up_to_date(readable.stderr), readable.stderr


def test_a_lone_root_that_cannot_be_read_is_named_by_its_path(tmp_path: Path) -> None:
    """The only root of a build, unreadable: named "." in the skip list (the folder paths are relative
    to), so the error did not say which folder. On a re-index its files are kept as for any folder."""
    papers = write_files(tmp_path / "papers", {"b.txt": "bananas are yellow"})
    index = str(tmp_path / "idx")
    assert index_without_root_powers(str(papers), "-i", index).returncode == 0
    papers.chmod(0o000)
    try:
        first = index_without_root_powers(str(papers), "-i", str(tmp_path / "other"))
        again = index_without_root_powers("-i", index)
    finally:
        papers.chmod(0o755)
    assert first.returncode == 5, first.stderr
    assert f"(1 skipped: {papers}: unreadable folder: Permission denied)" in first.stderr, first.stderr
    assert again.returncode == 0 and up_to_date(again.stderr), again.stderr
    assert f"skipped {papers}: unreadable folder: Permission denied" in again.stderr
    assert ids(tmp_path / "idx") == {"b.txt"}


def up_to_date(summary: str) -> bool:
    """Whether a build's stderr says it wrote nothing (`-v` lists what is skipped, as before, above)."""
    return any(line.startswith("Up to date: ") for line in summary.splitlines())


def test_an_unreadable_file_is_remembered_and_read_again_once_its_status_changes(tmp_path: Path) -> None:
    """A file ragcli may not read was not recorded: every re-index counted it "new" and wrote the whole
    index again, never "Up to date". It is remembered as skipped, as a binary file is, and tried again
    when its status changes: chmod and chown change its ctime, not its mtime."""
    root = write_files(tmp_path / "c", {"a.txt": "bees make honey", "b.txt": "wax moths"})
    locked = root / "b.txt"
    index = str(tmp_path / "idx")
    locked.chmod(0o000)
    try:
        first = index_without_root_powers(str(root), "-i", index)
        assert first.returncode == 0 and "skipped b.txt: unreadable: Permission denied" in first.stderr, first.stderr
        for _ in range(2):
            again = index_without_root_powers("-i", index)
            assert again.returncode == 0 and up_to_date(again.stderr), again.stderr
            assert "2 unchanged (1 of them skipped, as before)" in again.stderr
        locked.chmod(0o200)  # still unreadable: tried once more, then remembered again
        retried = index_without_root_powers("-i", index)
        assert "files: 0 new, 1 changed, 0 removed, 1 unchanged" in retried.stderr, retried.stderr
        assert "skipped b.txt: unreadable: Permission denied" in retried.stderr
        assert up_to_date(index_without_root_powers("-i", index).stderr)
    finally:
        locked.chmod(0o644)
    readable = index_without_root_powers("-i", index)
    assert "files: 0 new, 1 changed, 0 removed, 1 unchanged" in readable.stderr, readable.stderr
    assert "skipped" not in readable.stderr and ids(tmp_path / "idx") == {"a.txt", "b.txt"}


def test_a_file_named_on_the_command_line_may_be_a_link(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("named by the user")
    (tmp_path / "link.txt").symlink_to("real.txt")
    docs, _ = read_all(tmp_path / "link.txt")
    assert list(docs.values()) == ["named by the user"]


def test_a_file_swapped_after_the_walk_is_checked_again_when_opened(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("outside")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "c.txt").write_text("outside too")
    root = write_files(tmp_path / "corpus", {"a.txt": "x", "b.txt": "x", "sub/c.txt": "x"})
    files = list(CorpusReader([root]).files())
    assert [f.name for f in files] == ["a.txt", "b.txt", "c.txt"]
    (root / "a.txt").unlink()
    os.mkfifo(root / "a.txt")  # a FIFO swapped in: opened without blocking, refused by fstat
    (root / "b.txt").unlink()
    (root / "b.txt").symlink_to(tmp_path / "secret.txt")  # a link swapped in: not followed
    (root / "sub" / "c.txt").unlink()
    (root / "sub").rmdir()
    (root / "sub").symlink_to(tmp_path / "elsewhere")  # a folder on the path swapped for a link
    data = probe(root, "--files", *files)
    assert data["docs"] == {} and data["hashes"] == [None, None, None]
    assert data["skipped"] == {
        "a.txt": "not a regular file (a FIFO)",
        "b.txt": "symbolic link (not followed)",
        "sub/c.txt": "outside the indexed folder (a folder on its path is a link)",
    }


# --- class 9: ragcli's own index folders are never read as documents --------------------------------


def test_the_walk_knows_the_stores_names() -> None:
    assert (INDEX_FORMAT, INDEX_MANIFEST, INDEX_LOCK) == (FORMAT_NAME, MANIFEST, LOCK)


def test_an_index_inside_its_own_corpus_root_is_not_read(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c3", {"a.txt": "bees make honey", "notes/b.md": "# Wax\n\nwax"})
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    with pytest.raises(ForeignFolderError):  # a folder of the user's own files never becomes an index
        build_index([root], root)
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before
    nested = build_index([root], root / "index")  # an index inside its own corpus root
    assert nested.documents == 2
    for _ in range(2):  # every later run: the index folder is not read
        report = build_index([root], root / "index")
        assert report.up_to_date and report.documents == 2
    # a folder that is an index (made when empty) and then also holds the corpus: its own files are skipped
    own = tmp_path / "own"
    build_index([write_files(tmp_path / "seed", {"s.txt": "seed text"})], own)
    write_files(own, {"a.txt": "bees make honey", "notes/b.md": "# Wax\n\nwax"})
    first = build_index([own], own)
    assert first.documents == 2
    for _ in range(2):  # every later run: its manifest, generation and lock are not records
        report = build_index([own], own)
        assert report.up_to_date and report.documents == 2
        reasons = {s.path: s.reason for s in report.skipped}
        assert reasons[MANIFEST] == reasons[LOCK] == "part of a ragcli index (not read)"
    (own / "c.txt").write_text("a new file beside the index")
    report = build_index([own], own)
    assert report.documents == 3 and not report.up_to_date
    assert ids(own) == {"a.txt", "notes/b.md", "c.txt"}


def test_an_index_anywhere_in_the_tree_is_skipped_whole(tmp_path: Path) -> None:
    root = write_files(tmp_path / "corpus", {"a.txt": "bees", "deep/er/b.txt": "wax"})
    build_index([root / "deep"], root / "deep" / "er" / "old-index")  # another index inside the corpus
    build_index([root], root / "deep" / "idx")
    report = build_index([root], tmp_path / "idx")
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons["deep/er/old-index"] == reasons["deep/idx"] == "a ragcli index (not read)"
    assert ids(tmp_path / "idx") == {"a.txt", "deep/er/b.txt"}
    assert build_index([root], tmp_path / "idx").up_to_date


def test_an_index_file_named_on_the_command_line_is_not_read(tmp_path: Path) -> None:
    build_index([write_files(tmp_path / "c", {"a.txt": "bees"})], tmp_path / "idx")
    docs, skipped = read_all(tmp_path / "idx" / MANIFEST)
    assert docs == {} and list(skipped.values()) == ["part of a ragcli index (not read)"]


def test_a_folder_with_the_index_marker_is_skipped(tmp_path: Path) -> None:
    root = write_files(tmp_path / "corpus", {"a.txt": "bees", "idx/.ragcli-index": "", "idx/records.jsonl": "{}"})
    docs, skipped = read_all(root)
    assert list(docs) == ["a.txt"] and skipped == {"idx": "a ragcli index (not read)"}


def test_a_json_manifest_of_another_tool_is_read(tmp_path: Path) -> None:
    manifest = {"format": "something-else", "text": "an ordinary record"}
    root = write_files(tmp_path / "corpus", {"sub/manifest.json": json.dumps(manifest)})
    docs, _ = read_all(root)
    assert list(docs.values()) == ["an ordinary record"]


# --- class 4: one file never costs the machine or the build ------------------------------------------

MIB = 1 << 20


def gzip_stream(path: Path, chunks: Iterator[bytes]) -> None:
    with gzip.open(path, "wb", compresslevel=1) as handle:
        for chunk in chunks:
            handle.write(chunk)


def peak_reading(root: Path, **kwargs: Any) -> tuple[dict[str, str], dict[str, str], int]:
    """(documents, skips, peak traced memory) of reading `root` in this process."""
    reader = CorpusReader([root], **kwargs)
    tracemalloc.start()
    try:
        docs = {d.id: d.text for d in reader.documents()}
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return docs, {s.path: s.reason for s in reader.report.skipped}, peak


def test_a_decompression_bomb_is_skipped_after_reading_at_most_the_limit(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"ok.json": '{"text": "fine"}'})
    # 24 MiB of JSON from a ~100 KB file: read whole it would take 24 MiB and far more once parsed
    gzip_stream(root / "bomb.json.gz", iter([b'[{"text": "', *[b"a" * MIB] * 24, b'"}]']))
    gzip_stream(root / "bomb.html.gz", iter([b"<p>", *[b"b" * MIB] * 24]))
    assert (root / "bomb.json.gz").stat().st_size < 200_000
    docs, skipped, peak = peak_reading(root, max_bytes=2 * MIB)
    assert list(docs) == ["ok.json#1"]
    reason = "larger than 2 MiB once decompressed (raise --max-expanded-size to read it)"
    assert skipped == {"bomb.json.gz": reason, "bomb.html.gz": reason}
    assert peak < 8 * MIB  # the limit (plus buffers), never the 24 MiB


def test_the_limit_defaults_to_256_mib_and_the_option_sets_it(tmp_path: Path) -> None:
    assert BuildSettings().max_expanded_bytes == 256 * MIB
    root = write_files(tmp_path / "c", {"ok.txt": "bees"})
    gzip_stream(root / "big.txt.gz", iter([b"word " * 300_000]))  # 1.5 MB of text
    result = CliRunner().invoke(
        app, ["index", str(root), "-i", str(tmp_path / "idx"), "--max-expanded-size", "1M", "--json"]
    )
    assert result.exit_code == 0, result.output
    skipped = {s["path"]: s["reason"] for s in json.loads(result.stdout)["skipped"]}
    assert skipped == {"big.txt.gz": "larger than 1 MiB once decompressed (raise --max-expanded-size to read it)"}
    again = CliRunner().invoke(app, ["index", str(root), "-i", str(tmp_path / "idx"), "--max-expanded-size", "2M"])
    assert again.exit_code == 0, again.output  # a higher limit reads the file it skipped (no --rebuild needed)
    assert ids(tmp_path / "idx") == {"ok.txt", "big.txt.gz"}
    for size, message in (("lots", "is not a size"), ("infT", "is not a size"), (str(2**63 - 1), "at most 1024T")):
        bad = CliRunner().invoke(app, ["index", str(root), "-i", str(tmp_path / "idx"), "--max-expanded-size", size])
        assert bad.exit_code == 2 and message in bad.output, size  # 2**63 - 1 and "infT" were internal errors


def test_a_gigantic_jsonl_line_is_skipped_without_holding_it(tmp_path: Path) -> None:
    root = tmp_path / "c"
    root.mkdir()
    head = b'{"id": "before", "text": "first record"}\n'
    tail = b'{"id": "after", "text": "the record after it"}\n'
    gzip_stream(root / "d.jsonl.gz", iter([head, b'{"text": "', *[b"x" * MIB] * 16, b'"}\n', tail]))
    for strict in (False, True):  # a long line is skipped either way: it is not malformed
        docs, skipped, peak = peak_reading(root, max_bytes=MIB, strict=strict)
        assert docs == {"before": "first record", "after": "the record after it"}
        assert skipped == {"d.jsonl.gz:2": "line longer than 1 MiB (raise --max-expanded-size to read it)"}
        assert peak < 6 * MIB


def test_a_file_of_a_million_bad_records_is_not_a_million_report_entries(tmp_path: Path) -> None:
    root = tmp_path / "c"
    root.mkdir()
    lines = [b'{"id": "good", "text": "kept"}\n', *[b'{"text": ""}\n'] * 30_000, *[b"{oops\n"] * 500]
    gzip_stream(root / "empty.jsonl.gz", iter(lines))  # a bomb of this makes a billion records from 1 GB
    reader = CorpusReader([root])
    assert [d.id for d in reader.documents()] == ["good"]
    skipped = reader.report.skipped
    assert len(skipped) == 1001 and skipped[0] == Skipped("empty.jsonl.gz:2", "empty text and no title", record=True)
    assert skipped[-1] == Skipped(
        "empty.jsonl.gz",
        "29,500 more records skipped, not listed (29,000 empty text and no title, 500 invalid JSON)",
        record=True,
        unlisted={"empty text and no title": 29_000, "invalid JSON": 500},
    )


def test_a_reader_whose_reasons_each_name_a_value_makes_a_bounded_count_of_kinds() -> None:
    """A plugin's reason that names a value reason_kind cannot take out ("bad row 17") is a kind of its
    own: the file's counts by kind (kept in the manifest) and its unlisted entry stay a few."""
    context = ReadContext(RecordFields(), strict=False, report=ReadReport(), listed_per_file=3)
    context.start_file()
    for number in range(2 * MAX_SKIP_KINDS):
        context.skip_record(f"d.rows:{number}", f"bad row {number}")
    kinds = context.skipped_kinds()
    assert len(kinds) == MAX_SKIP_KINDS + 1 and kinds[OTHER_KINDS] == MAX_SKIP_KINDS
    unlisted = context.unlisted("d.rows")
    assert unlisted is not None and sum(unlisted.unlisted.values()) == 2 * MAX_SKIP_KINDS - 3
    assert unlisted.unlisted[OTHER_KINDS] == MAX_SKIP_KINDS


def test_unlisted_records_tied_in_count_are_named_in_the_order_a_reindex_names_them() -> None:
    """A file's unlisted entry and a re-index's "as before" entry (indexing/build.py) count the kinds in
    one order, most first and then by name, whichever kind the reader met first."""
    context = ReadContext(RecordFields(), strict=False, report=ReadReport(), listed_per_file=0)
    context.start_file()
    context.skip_record("d.jsonl:1", "invalid JSON")
    context.skip_record("d.jsonl:2", "empty text and no title")
    context.skip_record("d.jsonl:3", "duplicate id 'a'")
    context.skip_record("d.jsonl:4", "duplicate id 'b'")
    unlisted = context.unlisted("d.jsonl")
    assert unlisted is not None and unlisted.reason == (
        "4 more records skipped, not listed (2 duplicate id, 1 empty text and no title, 1 invalid JSON)"
    )


def test_deeply_nested_json_skips_the_record_not_the_build(tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    root = write_files(
        tmp_path / "c",
        {
            "deep.json": deep,
            "lines.jsonl": f'{{"id": "a", "text": "ok"}}\n{{"text": {deep}}}\n{{"id": "b", "text": "still read"}}\n',
            "huge-number.jsonl": '{"id": "n", "text": "x", "n": ' + "9" * 5000 + "}\n",
        },
    )
    report = build_index([root], tmp_path / "idx")  # malformed records are skipped by default
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons["deep.json"] == "invalid JSON (nested too deeply)"  # the whole file, once
    assert reasons["lines.jsonl:2"] == "invalid JSON (nested too deeply)"
    assert reasons["huge-number.jsonl:1"] == "invalid JSON (a number of more than 4,300 digits)"
    assert ids(tmp_path / "idx") == {"a", "b"}
    (root / "deep.json").unlink()
    (root / "huge-number.jsonl").unlink()
    with pytest.raises(InputFormatError, match=r"lines\.jsonl:2: invalid JSON \(nested too deeply\)"):
        build_index([root], tmp_path / "idx2", BuildSettings(strict=True))  # --strict: exit 6 with file:line


def damaged_gzip(payload: bytes) -> bytes:
    data = bytearray(gzip.compress(payload))
    for i in range(12, len(data) - 8, 7):  # the deflate stream, not the header
        data[i] ^= 0x5A
    return bytes(data)


def test_damaged_compressed_files_are_skipped_with_the_reason(tmp_path: Path) -> None:
    body = b'{"id": "x", "text": "compressed words"}\n' * 200
    root = write_files(
        tmp_path / "c",
        {
            "ok.jsonl.gz": gzip.compress(body),
            "corrupt.jsonl.gz": damaged_gzip(body),
            "corrupt.txt.gz": damaged_gzip(b"plain words " * 500),
            "truncated.json.gz": gzip.compress(b'[{"text": "cut short"}]' * 50)[:-30],
            "not-gzip.csv.gz": b"id,text\n1,not compressed at all\n",
        },
    )
    report = build_index([root], tmp_path / "idx")
    reasons = {s.path: s.reason for s in report.skipped if s.path != "ok.jsonl.gz:2"}
    assert {path for path, reason in reasons.items() if reason.startswith("damaged compressed data")} == {
        "corrupt.jsonl.gz",
        "corrupt.txt.gz",
        "truncated.json.gz",
        "not-gzip.csv.gz",
    }, reasons
    assert "x" in ids(tmp_path / "idx")


def test_a_csv_field_over_128_kib_is_read_and_no_record_is_lost(tmp_path: Path) -> None:
    rows = [f"r{i},{'long ' * 40_000 if i == 2 else 'short'} text {i}" for i in range(10)]
    root = write_files(tmp_path / "c", {"d.csv": "id,text\n" + "\n".join(rows) + "\n"})
    for strict in (False, True):
        report = build_index([root], tmp_path / f"idx{strict}", BuildSettings(strict=strict))
        assert report.documents == 10 and report.skipped == []


def test_a_bad_csv_row_drops_only_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_limit = csv.field_size_limit
    default = real_limit(64)  # a row the csv module refuses (a field over its limit) …
    monkeypatch.setattr(records_module.csv, "field_size_limit", lambda *args: 64)
    try:
        rows = [f"r{i},{'x' * 100 if i in (2, 5) else 'ok'} {i}" for i in range(10)]
        root = write_files(tmp_path / "c", {"d.csv": "id,text\n" + "\n".join(rows) + "\n"})
        docs, skipped, _ = peak_reading(root)
        assert sorted(docs) == [f"r{i}" for i in range(10) if i not in (2, 5)]  # … and the rows after it are read
        assert list(skipped) == ["d.csv:4", "d.csv:7"] and all("invalid CSV" in r for r in skipped.values())
        with pytest.raises(InputFormatError, match=r"d\.csv:4: invalid CSV"):
            peak_reading(root, strict=True)
    finally:
        real_limit(default)


HTML_A_SPACE = "<a " * 80_000  # 240 KB: the standard library's HTMLParser takes many minutes on it


def test_pathological_html_is_parsed_in_linear_time(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"a-space.html": HTML_A_SPACE, "ok.html": "<p>fine</p>"})
    docs, skipped = read_all(root)  # in a child process, killed after 60 s
    assert docs == {"ok.html": "fine\n"} and skipped == {"a-space.html": "no text"}


@pytest.mark.parametrize(
    "unit", [b"<meta '", b'<meta a="<', b"<a ", b"<!--<meta charset=koi8-r>", b"<meta charset=", b"<?xml encoding='"]
)
def test_the_charset_prescan_of_a_crafted_head_is_bounded(unit: bytes) -> None:
    """The declared charset is looked for in the first 1024 bytes only, by patterns that cannot backtrack
    far: a head of unclosed quotes and tags, however long the page, is no work."""
    page = unit * (1 << 20)
    started = time.perf_counter()
    assert html_declared_charset(page) is None
    assert time.perf_counter() - started < 0.5


def test_a_parse_error_skips_the_file_a_bug_does_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_files(tmp_path / "c", {"a.txt": "bees", "b.md": "# wax"})

    def broken(self: object, source: SourceInput) -> Iterator[Document]:
        raise ValueError("bad byte at 3")
        yield  # a generator, like every reader

    monkeypatch.setattr(MarkdownReader, "read", broken)
    docs, skipped, _ = peak_reading(root)
    assert list(docs) == ["a.txt"] and skipped == {"b.md": "cannot be parsed (ValueError: bad byte at 3)"}

    def buggy(self: object, source: SourceInput) -> Iterator[Document]:
        raise TypeError("a bug in a reader")
        yield

    monkeypatch.setattr(MarkdownReader, "read", buggy)
    with pytest.raises(TypeError, match="a bug in a reader"):
        peak_reading(root)


# --- a file past the read limit is not read to its end, not even to be hashed ----------------------

# Reads one file in a child process with a 1 MiB read limit and counts the bytes it read (/proc/self/io).
READ_COUNT = """
import json, sys
from pathlib import Path
from ragcli.readers.walk import CorpusReader
def rchar():
    with open("/proc/self/io") as io:
        return int(next(line for line in io if line.startswith("rchar")).split()[1])
path = Path(sys.argv[1])
reader = CorpusReader([path], max_bytes=1 << 20)
before = rchar()
docs = [d.id for d in reader.read_file(path)]
read = rchar() - before
source = reader.last_source
print(json.dumps({"read": read, "skipped": {s.path: s.reason for s in reader.report.skipped},
                  "sha256": source.sha256, "size": source.size,
                  "rehash": reader.sha256(path) if "--rehash" in sys.argv else None}))
"""
TOO_LARGE = "larger than 1 MiB (raise --max-expanded-size to read it)"


def read_counted(path: Path, *flags: str) -> dict[str, Any]:
    if not Path("/proc/self/io").exists():
        pytest.skip("no /proc/self/io to count the bytes read")
    command = [sys.executable, "-c", READ_COUNT, str(path), *flags]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_a_file_larger_than_the_limit_is_skipped_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.json"  # read whole: its size says it is too large
    with open(big, "wb") as handle:
        handle.truncate(2 << 30)  # sparse: 2 GiB, nothing on disk (it took 4 s to read to be hashed)
    data = read_counted(big)
    assert data["skipped"] == {"big.json": TOO_LARGE}
    assert data["read"] < 4 << 20, data["read"]  # one read buffer (the byte-order-mark sniff), and imports
    assert data["sha256"] == "" and data["size"] == 2 << 30  # unhashed: its size and mtime tell a change


def test_a_skipped_file_within_the_limit_is_still_hashed_whole(tmp_path: Path) -> None:
    zeros = tmp_path / "zeros.md"
    zeros.write_bytes(b"\0" * (512 << 10))
    data = read_counted(zeros, "--rehash")
    assert data["skipped"] == {"zeros.md": "binary content"}
    assert data["sha256"] == data["rehash"] == hashlib.sha256(zeros.read_bytes()).hexdigest()


def test_a_pseudo_file_that_reads_on_past_its_size_is_cut_at_the_limit(tmp_path: Path) -> None:
    pagemap = Path("/proc/self/pagemap")  # size 0, reads 8 bytes per page of address space: endless
    if not pagemap.exists():
        pytest.skip("no /proc/self/pagemap")
    data = read_counted(pagemap, "--rehash")  # in a child killed after 30 s: it used to hash it without end
    assert list(data["skipped"].values()) == [TOO_LARGE]
    assert data["read"] < 8 << 20, data["read"]
    assert data["sha256"] == "" and data["rehash"] is None


def test_a_skipped_big_file_is_read_again_once_it_changes(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"a.txt": "bees make honey"})
    big = root / "big.json"
    with open(big, "wb") as handle:
        handle.truncate(1 << 30)
    settings = BuildSettings(max_expanded_bytes=1 << 20)
    report = build_index([root], tmp_path / "idx", settings)
    assert {s.path: s.reason for s in report.skipped} == {"big.json": TOO_LARGE}
    again = build_index([root], tmp_path / "idx", settings)
    assert again.up_to_date and again.unchanged == 2 and again.unchanged_skipped == 1
    os.utime(big, ns=(1, 1))  # touched: the same size, its content unknown (it was not hashed)
    touched = build_index([root], tmp_path / "idx", settings)
    assert touched.changed == 1 and [s.reason for s in touched.skipped] == [TOO_LARGE]
    big.write_text('[{"id": "x", "text": "shrunk to a small record"}]')
    os.utime(big, ns=(1, 1))  # the same mtime as before: its size tells the change
    shrunk = build_index([root], tmp_path / "idx", settings)
    assert shrunk.changed == 1 and shrunk.skipped == []
    assert ids(tmp_path / "idx") == {"a.txt", "x"}


# --- names that are not UTF-8 ---------------------------------------------------------------------


def test_files_whose_names_are_not_utf8_keep_their_own_identity(tmp_path: Path) -> None:
    """Three names that differ only in a byte that is not UTF-8 were all `caf�.txt`: two documents were
    lost as duplicate ids, and every re-index dropped all three as "no text". Each keeps its name in
    Python's surrogate-escape form (`os.fsdecode`): its document id, its citation, its record in the
    manifest (a JSON `\\udcXX` escape) and its `--json` path, which opens the file."""
    root = tmp_path / "c"
    root.mkdir()
    words = {b"caf\xe9.txt": "giraffe", b"caf\xe8.txt": "hippo", b"caf\xe7.txt": "walrus"}
    for name, word in words.items():
        (root / os.fsdecode(name)).write_text(f"a file about {word}\n")
    (root / "ok.txt").write_text("a file about zebra\n")
    index = str(tmp_path / "idx")
    first = CliRunner().invoke(app, ["index", str(root), "-i", index, "-v"])
    assert first.exit_code == 0, first.output
    assert "skipped" not in first.stderr and "warning" not in first.stderr, first.stderr
    assert ids(tmp_path / "idx") == {os.fsdecode(name) for name in words} | {"ok.txt"}
    for _ in range(2):  # nothing changed: nothing read again, nothing rewritten
        again = CliRunner().invoke(app, ["index", "-i", index, "-v"])
        assert again.exit_code == 0 and again.stderr.startswith("Up to date"), again.stderr
    assert ids(tmp_path / "idx") == {os.fsdecode(name) for name in words} | {"ok.txt"}
    for name, word in words.items():
        found = CliRunner().invoke(app, ["query", word, "-i", index, "--no-generate", "--json"])
        assert found.exit_code == 0, found.output
        assert f"\\udc{name[3]:02x}.txt" in found.stdout  # ASCII: valid UTF-8 whatever the name
        hit = json.loads(found.stdout)["hits"][0]
        assert hit["path"] == os.fsdecode(name) and (root / hit["path"]).read_text() == f"a file about {word}\n"
        shown = CliRunner().invoke(app, ["query", word, "-i", index, "--no-generate", "--plain"])
        assert f"caf\\udc{name[3]:02x}.txt:1:1:" in shown.stdout, shown.stdout


def test_two_files_of_one_size_and_mtime_swapped_by_rename_are_read_again(tmp_path: Path) -> None:
    """A swap by rename keeps each name's size and mtime (tar, `cp -p`, rsync -t leave equal ones): a
    re-index said "Up to date" and cited a.txt's passage as b.txt's, unlike a rebuild."""
    root = write_files(tmp_path / "c", {"a.txt": "apple orchard", "b.txt": "zebra stripes"})
    for name in ("a.txt", "b.txt"):
        os.utime(root / name, ns=(1_577_836_800_000_000_000,) * 2)
    index = str(tmp_path / "idx")
    assert subprocess.run([RAGCLI, "index", str(root), "-i", index, "-q"], timeout=120).returncode == 0
    (root / "a.txt").rename(root / "t")
    (root / "b.txt").rename(root / "a.txt")
    (root / "t").rename(root / "b.txt")
    again = subprocess.run([RAGCLI, "index", "-i", index], capture_output=True, text=True, timeout=120)
    assert "files: 0 new, 2 changed, 0 removed, 0 unchanged" in again.stderr, again.stderr
    passages = load_index(Path(index)).passages
    texts = {passages.paths[i]: passages.texts[i] for i in range(len(passages))}
    assert texts == {"a.txt": "zebra stripes", "b.txt": "apple orchard"}


def test_a_file_made_unreadable_is_dropped_as_a_rebuild_drops_it(tmp_path: Path) -> None:
    """A chmod leaves size and mtime alone: a re-index kept the file's passages, "Up to date", where a
    rebuild skips it as unreadable; its status change (ctime) now has it read again."""
    root = write_files(tmp_path / "c", {"a.txt": "bees make honey", "b.txt": "wax moths"})
    index = str(tmp_path / "idx")
    assert index_without_root_powers(str(root), "-i", index).returncode == 0
    (root / "b.txt").chmod(0o000)
    try:
        again = index_without_root_powers("-i", index)
    finally:
        (root / "b.txt").chmod(0o644)
    assert again.returncode == 0, again.stderr
    assert "files: 0 new, 1 changed, 0 removed, 1 unchanged" in again.stderr, again.stderr
    assert "skipped b.txt: unreadable: Permission denied" in again.stderr
    assert ids(tmp_path / "idx") == {"a.txt"}
