"""Progress where stderr is not a terminal (plain lines a CI log shows), and Ctrl-C while embedding:
a real SIGINT to a real `ragcli index --dense`, the vectors kept, the old index intact, the next build
resuming from the checkpoint with the same vectors an uninterrupted build gets. No timings asserted."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path

import numpy as np
import pytest
import tomllib
from clihelpers import RAGCLI, invoke
from conftest import REPO, write_files
from test_dense import build_tiny_embedder

from ragcli.errors import ForeignFolderError, InterruptedBuildError
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.progress import PlainProgress, clock, waiting
from ragcli.render import index_summary
from ragcli.retrieval.dense import CHECKPOINT_FILE
from ragcli.retrieval.embedder import EmbeddingSettings
from ragcli.retrieval.index import load_index

PLAIN = {"RAGCLI_PROGRESS_INTERVAL": "0"}  # a plain line at every update
WORDS = [
    "bee",
    "hive",
    "honey",
    "wax",
    "queen",
    "drone",
    "worker",
    "pollen",
    "nectar",
    "flower",
    "comb",
    "swarm",
    "brood",
    "larva",
    "forage",
    "dance",
]


def records(count: int, words: int = 40) -> str:
    rng = random.Random(7)
    return "".join(
        json.dumps({"id": f"d{n}", "text": " ".join(rng.choice(WORDS) for _ in range(words))}) + "\n"
        for n in range(count)
    )


def test_one_big_jsonl_file_shows_bytes_read_then_files(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "c", {"big.jsonl": records(4000)})  # ~1.2 MB: one file, read within
    result = invoke("index", str(corpus), "-i", str(tmp_path / "idx"), env=PLAIN)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    reading = [line for line in lines if line.startswith("ragcli: reading ")]
    assert reading and all(
        re.match(r"ragcli: reading [\d,]+/[\d,]+ kB of big\.jsonl · [\d,]+ passages", x) for x in reading
    )
    done = [int(re.search(r"reading ([\d,]+)/", x)[1].replace(",", "")) for x in reading]  # type: ignore[index]
    assert done == sorted(done) and done[0] > 0
    assert any(line.startswith("ragcli: indexing 1/1 files · 4,000 passages (100%)") for line in lines)
    assert "\x1b" not in result.stderr  # no bar, no cursor moves


def test_quiet_and_json_print_no_progress(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "c", {"big.jsonl": records(4000)})
    quiet = invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "-q", "--rebuild", env=PLAIN)
    as_json = invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "--json", "--rebuild", env=PLAIN)
    assert quiet.exit_code == as_json.exit_code == 0
    assert quiet.stderr == as_json.stderr == ""


def test_plain_lines_count_percent_and_time_left(capsys: pytest.CaptureFixture[str]) -> None:
    bar = PlainProgress(("{task.description}",), ("{task.fields[unit]}",), interval=0)
    task = bar.add_task("embedding", total=None, unit="passages", visible=False)
    bar.update(task, completed=0, total=5183)  # hidden: nothing
    bar.update(task, completed=0, total=5183, visible=True, description="loading the embedding model")
    bar.update(task, completed=100, description="embedding")
    time.sleep(0.01)  # some time passes between two updates (nothing is asserted about how much)
    bar.update(task, completed=4100)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "ragcli: loading the embedding model 0/5,183 passages (0%)"
    assert lines[1] == "ragcli: embedding 100/5,183 passages (2%)"  # no rate yet: no time left
    assert re.fullmatch(r"ragcli: embedding 4,100/5,183 passages \(79%\), ETA \d+:\d\d", lines[2])


def test_plain_lines_wait_for_the_interval(capsys: pytest.CaptureFixture[str]) -> None:
    bar = PlainProgress(("indexing",), (), interval=3600)
    task = bar.add_task("", total=10)
    for done in range(1, 11):
        bar.update(task, completed=done)
    assert capsys.readouterr().err == ""  # a step faster than the interval prints nothing


def test_new_numbers_in_a_description_are_no_new_stage(capsys: pytest.CaptureFixture[str]) -> None:
    """`train generator`'s 60 fast epochs printed 60 lines whatever the interval: each epoch's number
    and loss changed the description. New wording is a stage and says so at once; new numbers wait."""
    bar = PlainProgress(("training", "{task.description}"), (), interval=3600)
    task = bar.add_task("loading the model", total=None)
    for epoch in range(1, 61):
        bar.update(task, completed=epoch * 10, total=600, description=f"epoch {epoch}/60 · loss {1 / epoch:.3f}")
    bar.update(task, completed=600, description="validating epoch 60")
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "ragcli: training epoch 1/60 · loss 1.000 10/600 (2%)",
        "ragcli: training validating epoch 60 600/600 (100%), ETA 0:00",
    ]


def test_a_model_loading_longer_than_the_interval_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with waiting("loading the model …"):  # the default interval: a quick load says nothing
        pass
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("RAGCLI_PROGRESS_INTERVAL", "0")
    said = ""
    with waiting("loading the model flan-t5 …"):
        for _ in range(600):  # until the line comes (a thread writes it), however busy the machine
            said += capsys.readouterr().err
            if said:
                break
            time.sleep(0.05)
    assert said == "ragcli: loading the model flan-t5 …\n"


@pytest.mark.parametrize(("seconds", "shown"), [(0.4, "0:00"), (35, "0:35"), (754, "12:34"), (3729, "1:02:09")])
def test_clock(seconds: float, shown: str) -> None:
    assert clock(seconds) == shown


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_embedder(tmp_path_factory.mktemp("tiny-bert"))


def dense_options(model: Path) -> list[str]:
    return ["--dense", "--embedding-model", str(model), "--embedding-precision", "fp32", "--embedding-batch-size", "1"]


@pytest.mark.parametrize(
    ("stop", "code", "said"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_ctrl_c_while_embedding_keeps_the_vectors_and_the_next_build_resumes(
    embedder: Path, tmp_path: Path, stop: signal.Signals, code: int, said: str
) -> None:
    """SIGTERM (`kill`, `timeout`, a CI job cancelled) keeps the vectors as Ctrl-C does, exit 143."""
    corpus = write_files(tmp_path / "c", {"notes.jsonl": records(150, words=12)})
    index_dir = tmp_path / "idx"
    build_index([corpus], index_dir)  # the index as it was: BM25 only
    before = (index_dir / "manifest.json").read_bytes()

    command = [RAGCLI, "index", str(corpus), "-i", str(index_dir), *dense_options(embedder)]
    env = {**os.environ, **PLAIN, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    assert child.stderr is not None
    for line in child.stderr:  # the first batch is embedded: interrupt, as Ctrl-C does
        found = re.match(r"ragcli: embedding ([\d,]+)/150 passages", line)
        if found and int(found[1]) >= 1:
            child.send_signal(stop)
            break
    rest = child.stderr.read()
    assert child.wait(timeout=120) == code, rest
    message = re.search(said + r": ([\d,]+) of 150 passages embedded; run the same command again to resume", rest)
    assert message, rest
    kept = int(message[1].replace(",", ""))
    assert 1 <= kept < 150
    # progress lines already on their way when the signal lands may come first; then one error line, no traceback
    *progress, last = rest.strip().splitlines()
    progress_line = r"ragcli: embedding [\d,]+/150 passages \(\d+%\)(, ETA [\d:]+)?"
    assert all(re.fullmatch(progress_line, line) for line in progress), rest
    assert last.startswith(f"ragcli: error: {said}:"), rest

    assert (index_dir / "manifest.json").read_bytes() == before  # the previous index, untouched and usable
    assert load_index(index_dir).search("queen brood", 3)
    assert (index_dir / CHECKPOINT_FILE).is_file()

    settings = EmbeddingSettings(model=str(embedder), precision="fp32", batch_size=1)
    build_index([corpus], index_dir, BuildSettings(retrievers={"dense": settings}))
    resumed = load_index(index_dir)
    assert (resumed.manifest["dense"]["embedded"], resumed.manifest["dense"]["reused"]) == (150 - kept, kept)
    assert not (index_dir / CHECKPOINT_FILE).exists()

    fresh_dir = tmp_path / "fresh"
    build_index([corpus], fresh_dir, BuildSettings(retrievers={"dense": settings}))
    fresh = load_index(fresh_dir)
    assert fresh.manifest["dense"]["embedded"] == 150
    vectors = np.asarray(resumed.payload("dense.joblib")["vectors"], dtype=np.float32)
    expected = np.asarray(fresh.payload("dense.joblib")["vectors"], dtype=np.float32)
    assert vectors.shape == expected.shape == (150, 32)
    np.testing.assert_allclose(vectors, expected, atol=2e-3)


def test_an_interrupted_embedding_of_unchanged_files_resumes_from_the_index_folder(
    embedder: Path, tmp_path: Path
) -> None:
    """In process (the test above drives the CLI): vectors added to an index whose files did not change
    go through the rewrite path; Ctrl-C there keeps the old index, checkpoints the vectors embedded so
    far in the index folder, and the next build embeds only the rest, to the same vectors."""
    corpus = write_files(tmp_path / "c", {"notes.jsonl": records(30, words=12)})
    index_dir = tmp_path / "idx"
    build_index([corpus], index_dir)
    before = (index_dir / "manifest.json").read_bytes()
    settings = BuildSettings(
        retrievers={"dense": EmbeddingSettings(model=str(embedder), precision="fp32", batch_size=1)}
    )

    def ctrl_c_after_seven(done: int, total: int, *stage: str) -> None:
        if done >= 7 and not stage:
            raise KeyboardInterrupt

    with pytest.raises(InterruptedBuildError, match=r"interrupted: 7 of 30 passages embedded; run the same"):
        build_index([corpus], index_dir, settings, embed_progress=ctrl_c_after_seven)
    assert (index_dir / "manifest.json").read_bytes() == before
    assert (index_dir / CHECKPOINT_FILE).is_file()

    build_index([corpus], index_dir, settings)
    resumed = load_index(index_dir)
    assert (resumed.manifest["dense"]["embedded"], resumed.manifest["dense"]["reused"]) == (23, 7)
    assert not (index_dir / CHECKPOINT_FILE).exists()
    fresh_dir = tmp_path / "fresh"
    build_index([corpus], fresh_dir, settings)
    vectors = np.asarray(resumed.payload("dense.joblib")["vectors"], dtype=np.float32)
    expected = np.asarray(load_index(fresh_dir).payload("dense.joblib")["vectors"], dtype=np.float32)
    np.testing.assert_allclose(vectors, expected, atol=2e-3)


def open_the_other_end(fifo: Path, let_go: list[bool]) -> None:
    """A watchdog's: a writer stuck on `fifo` is let go (and says so), so a test fails, never hangs."""
    let_go.append(True)
    os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))


def test_a_planted_link_or_fifo_beside_the_checkpoint_is_never_written_through(embedder: Path, tmp_path: Path) -> None:
    """The checkpoint was written to `dense-checkpoint.joblib.tmp` with a plain open: a link of that
    name planted in the index folder had Ctrl-C overwrite its target outside the folder, and a FIFO of
    that name hung the build. It is written to a fresh name now, created exclusively; and a link or a
    FIFO in the checkpoint's own place is neither read nor followed."""
    corpus = write_files(tmp_path / "c", {"notes.jsonl": records(30, words=12)})
    index_dir = tmp_path / "idx"
    build_index([corpus], index_dir)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious notes\n")
    settings = BuildSettings(
        retrievers={"dense": EmbeddingSettings(model=str(embedder), precision="fp32", batch_size=1)}
    )

    def ctrl_c_after_seven(done: int, total: int, *stage: str) -> None:
        if done >= 7 and not stage:
            raise KeyboardInterrupt

    temporary = index_dir / f"{CHECKPOINT_FILE}.tmp"
    for plant in (lambda: temporary.symlink_to(victim), lambda: os.mkfifo(temporary)):
        plant()
        let_go: list[bool] = []
        watchdog = threading.Timer(30, open_the_other_end, (temporary, let_go))
        watchdog.start()
        try:
            with pytest.raises(InterruptedBuildError, match=r"interrupted: 7 of 30 passages embedded; run the"):
                build_index([corpus], index_dir, settings, embed_progress=ctrl_c_after_seven)
        finally:
            watchdog.cancel()
        assert not let_go, "the build hung on the FIFO"
        assert victim.read_text() == "precious notes\n"
        assert (index_dir / CHECKPOINT_FILE).is_file() and not (index_dir / CHECKPOINT_FILE).is_symlink()
        beside = sorted(p.name for p in index_dir.iterdir() if p.name.startswith(CHECKPOINT_FILE))
        assert beside == [CHECKPOINT_FILE, temporary.name]  # no temporary file left; the planted one kept
        temporary.unlink()
        (index_dir / CHECKPOINT_FILE).unlink()

    checkpoint = index_dir / CHECKPOINT_FILE  # a link or FIFO in the checkpoint's place: not read
    for plant in (lambda: checkpoint.symlink_to(victim), lambda: os.mkfifo(checkpoint)):
        plant()
        with pytest.raises(InterruptedBuildError, match=r"interrupted: 7 of 30 passages embedded; run the"):
            build_index([corpus], index_dir, settings, embed_progress=ctrl_c_after_seven)
        assert victim.read_text() == "precious notes\n"
        assert checkpoint.is_file() and not checkpoint.is_symlink()  # replaced by the checkpoint, not followed
        checkpoint.unlink()


def test_a_checkpoint_temporary_left_by_sigkill_is_removed_by_the_next_build(
    embedder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL while the checkpoint is written leaves its temporary file (no handler runs). It was named
    `dense-checkpoint.joblib.<hex>.tmp`, which ragcli cannot tell from a user's file, so it stayed for
    good; it carries ragcli's `.ragcli-` prefix now, and the next build removes it."""
    import ragcli.retrieval.dense as dense

    corpus = write_files(tmp_path / "c", {"notes.jsonl": records(30, words=12)})
    index_dir = tmp_path / "idx"
    build_index([corpus], index_dir)
    settings = BuildSettings(
        retrievers={"dense": EmbeddingSettings(model=str(embedder), precision="fp32", batch_size=1)}
    )
    written: list[tuple[Path, bytes]] = []
    save_payload = dense.save_payload

    def keep_a_copy(path: Path, payload: dict[str, object]) -> str:
        digest = save_payload(path, payload)
        written.append((path, path.read_bytes()[:100]))  # the start of it, as a kill mid-write leaves
        return digest

    def ctrl_c_after_seven(done: int, total: int, *stage: str) -> None:
        if done >= 7 and not stage:
            raise KeyboardInterrupt

    monkeypatch.setattr(dense, "save_payload", keep_a_copy)
    with pytest.raises(InterruptedBuildError):
        build_index([corpus], index_dir, settings, embed_progress=ctrl_c_after_seven)
    monkeypatch.undo()
    [(temporary, start)] = written
    assert temporary.parent == index_dir
    temporary.write_bytes(start)  # what SIGKILL in the middle of the write would have left
    build_index([corpus], index_dir, settings)
    assert sorted(p.name for p in index_dir.iterdir() if "checkpoint" in p.name) == []


def stopped_while_indexing(command: list[str], *signals: signal.Signals, again: bool = False) -> tuple[int, str]:
    """Run `command`; at its first progress line send `signals`, then (`again`) SIGINT every 5 ms until
    it ends, as an impatient Ctrl-C does. Its exit status and what it wrote on stderr after the signals."""
    env = {**os.environ, **PLAIN}
    child = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    assert child.stderr is not None
    first = child.stderr.readline()
    assert first.startswith("ragcli: "), first
    for stop in signals:
        child.send_signal(stop)
    while again and child.poll() is None:
        time.sleep(0.005)
        with suppress(ProcessLookupError):
            child.send_signal(signal.SIGINT)
    return child.wait(timeout=120), child.stderr.read()


def last_line(stderr: str) -> str:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    return stderr.strip().splitlines()[-1]


def test_sigterm_ends_a_first_build_as_ctrl_c_does(tmp_path: Path) -> None:
    """SIGTERM killed a build with nothing said (exit -15), leaving `.ragcli-index` and `lock`, and the
    next command said "no index to re-read". Now: one line, exit 143, the folder the build made removed."""
    corpus = write_files(tmp_path / "c", {f"n{n}.jsonl": records(400) for n in range(40)})
    index_dir = tmp_path / "idx"
    code, stderr = stopped_while_indexing([RAGCLI, "index", str(corpus), "-i", str(index_dir)], signal.SIGTERM)
    assert (code, last_line(stderr)) == (143, "ragcli: error: terminated"), stderr
    assert not index_dir.exists()


def console_script() -> list[str]:
    """What the `ragcli` script pip writes from pyproject's [project.scripts] runs, run from this checkout."""
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, function = scripts["ragcli"].split(":")
    return [sys.executable, "-c", f"import sys; from {module} import {function}; sys.exit({function}())"]


@pytest.mark.parametrize(
    "command", [console_script(), [sys.executable, "-m", "ragcli"]], ids=["ragcli", "python -m ragcli"]
)
def test_ctrl_c_while_the_command_line_is_imported_is_one_line(command: list[str]) -> None:
    """Ctrl-C in a command's first half second, while Python imported the command line, printed that
    import's traceback: the entry point imported `ragcli.cli` before anything could handle Ctrl-C."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}  # a line on stderr as each import ends
    child = subprocess.Popen(
        [*command, "--version"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
    )
    assert child.stderr is not None
    for line in child.stderr:
        if re.search(r"\|\s*typer$", line.rstrip()):  # the command line's first library; much is still to come
            child.send_signal(signal.SIGINT)
            break
    said = [line for line in child.stderr.read().splitlines() if not line.startswith("import time:")]
    assert (child.wait(timeout=60), said) == (130, ["ragcli: error: interrupted"])


def test_sigterm_while_reading_questions_ends_cleanly(small_index: Path) -> None:
    """`query -` waiting for its next question on stdin: SIGTERM is one line and exit 143."""
    command = [RAGCLI, "query", "-", "-i", str(small_index), "--no-generate"]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write("bees\n")
    child.stdin.flush()
    assert child.stdout.readline()  # answered: it now waits for the next question
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=60)
    assert (child.returncode, stderr) == (143, "ragcli: error: terminated\n")


def test_a_second_ctrl_c_while_stopping_prints_no_traceback(tmp_path: Path) -> None:
    """A second Ctrl-C that landed while the first was handled (or while the interpreter shut down)
    printed `Exception ignored in: <module 'threading'>` and a traceback after the error line: further
    SIGINTs are ignored once one is being handled."""
    corpus = write_files(tmp_path / "c", {f"n{n}.jsonl": records(400) for n in range(40)})
    index_dir = tmp_path / "idx"
    build_index([corpus], index_dir)
    before = (index_dir / "manifest.json").read_bytes()
    command = [RAGCLI, "index", "-i", str(index_dir), "--rebuild"]
    code, stderr = stopped_while_indexing(command, signal.SIGINT, signal.SIGINT, again=True)
    assert (code, last_line(stderr)) == (130, "ragcli: error: interrupted"), stderr
    assert (index_dir / "manifest.json").read_bytes() == before


def test_an_interrupted_first_build_resumes_from_its_checkpoint(embedder: Path, tmp_path: Path) -> None:
    """Ctrl-C during the first build of a new index took back the folder's marker and lock but left the
    checkpoint, so the folder held one file that was not a ragcli index, and the resume it promised was
    refused (exit 2). The marker now stays beside the checkpoint, and the next build takes its vectors;
    a folder holding a checkpoint without the marker is still someone else's."""
    corpus = write_files(tmp_path / "c", {"notes.jsonl": records(30, words=12)})
    settings = BuildSettings(
        retrievers={"dense": EmbeddingSettings(model=str(embedder), precision="fp32", batch_size=1)}
    )

    def ctrl_c_after_seven(done: int, total: int, *stage: str) -> None:
        if done >= 7 and not stage:
            raise KeyboardInterrupt

    for index_dir in (tmp_path / "new", tmp_path / "empty"):  # a folder the build made, one it found empty
        if index_dir.name == "empty":
            index_dir.mkdir()
        with pytest.raises(InterruptedBuildError, match=r"interrupted: 7 of 30 passages embedded; run the same"):
            build_index([corpus], index_dir, settings, embed_progress=ctrl_c_after_seven)
        assert sorted(p.name for p in index_dir.iterdir()) == [".ragcli-index", CHECKPOINT_FILE, "lock"]
        build_index([corpus], index_dir, settings)
        resumed = load_index(index_dir)
        assert (resumed.manifest["dense"]["embedded"], resumed.manifest["dense"]["reused"]) == (23, 7)
        assert not (index_dir / CHECKPOINT_FILE).exists()

    someone = tmp_path / "someone"  # their file of that name, no marker: not ragcli's folder
    someone.mkdir()
    (someone / CHECKPOINT_FILE).write_bytes(b"their data")
    with pytest.raises(ForeignFolderError):
        build_index([corpus], someone, settings)
    assert [p.name for p in someone.iterdir()] == [CHECKPOINT_FILE]


def test_the_summary_of_a_resumed_build_counts_the_checkpoints_vectors(embedder: Path, tmp_path: Path) -> None:
    """After an interrupted `--dense` on an existing index, the next build said "added dense vectors for
    23 passages" though all 30 gained vectors (7 from the checkpoint). It says both now, and `--json`'s
    `updated` entry gives them apart (`embedded`, `from_checkpoint`), as the manifest does."""
    corpus = write_files(tmp_path / "c", {"notes.jsonl": records(30, words=12)})
    index_dir = tmp_path / "idx"
    build_index([corpus], index_dir)
    settings = BuildSettings(
        retrievers={"dense": EmbeddingSettings(model=str(embedder), precision="fp32", batch_size=1)}
    )

    def ctrl_c_after_seven(done: int, total: int, *stage: str) -> None:
        if done >= 7 and not stage:
            raise KeyboardInterrupt

    with pytest.raises(InterruptedBuildError):
        build_index([corpus], index_dir, settings, embed_progress=ctrl_c_after_seven)
    report = build_index([corpus], index_dir, settings)
    assert report.updated == [{"retriever": "dense", "action": "added", "embedded": 23, "from_checkpoint": 7}]
    assert (
        "added dense vectors for 30 passages (7 from the interrupted run's checkpoint)"
        in index_summary(report, verbose=False)[-1]
    )
    assert load_index(index_dir).manifest["dense"]["from_checkpoint"] == 7

    (corpus / "more.jsonl").write_text(records(3, words=9).replace('"d', '"m'))  # no checkpoint: none from it
    report = build_index([corpus], index_dir)
    assert report.updated == [{"retriever": "dense", "action": "extended", "embedded": 3, "from_checkpoint": 0}]
    assert "embedded 3 new passages;" in index_summary(report, verbose=False)[-1]
