"""The tokenising workers of a large build (`ragcli index`'s process pool) live and stop with it: real
`ragcli index` processes on a corpus large enough to start the pool, found through /proc by an
environment marker that every process of the build inherits, and stopped by their process ids."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from clihelpers import RAGCLI

from ragcli.indexing.counting import PARALLEL_MIN_PASSAGES
from ragcli.indexing.plan import Plan, estimate_passages

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the processes through /proc"),
    pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one CPU: the build counts in-process"),
]

MARKER = "RAGCLI_TEST_BUILD"  # an environment variable each process of one build inherits
WORKER = b"popen_loky_posix"  # in a worker's command line (joblib's loky pool)
STARTING = 60.0  # seconds a loaded machine may take to read the first batches and start the workers
RESULT_BYTES = 1 << 20  # a batch's counts, as a worker sends them back (several MB here)
ENDING = 15.0  # seconds the workers may take to notice their build ended (they poll several times a second)


@pytest.fixture(scope="module")
def large_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five 3 MB text files: enough estimated passages for a build to start its tokenising workers."""
    root = tmp_path_factory.mktemp("large")
    rng = random.Random(3)
    words = ["honey", "bee", *(f"w{n}" for n in range(5000))]
    block = " ".join(rng.choice(words) for _ in range(60_000))
    for number in range(5):
        (root / f"f{number}.txt").write_text("\n\n".join([block] * 9), encoding="utf-8")
    assert estimate_passages(Plan(read=sorted(root.iterdir()), reuse={})) >= PARALLEL_MIN_PASSAGES
    return root


def marked(mark: str) -> list[int]:
    """The processes whose environment holds `MARKER=mark`: a build and whatever it started."""
    needle = f"{MARKER}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):  # ended meanwhile, or not ours to read
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
    return found


def workers_of(mark: str) -> list[int]:
    """The build's tokenising workers, once it started them."""
    workers = []
    for pid in marked(mark):
        with suppress(OSError):
            if WORKER in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.append(pid)
    return workers


def written(pid: int) -> int:
    """The bytes process `pid` wrote so far (a worker: the results it sent back)."""
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1])
    return 0


def wait_for_workers(build: subprocess.Popen[bytes], mark: str, counting: bool = False) -> list[int]:
    """The build's workers once one is started (`counting`: once one sent back a batch's counts)."""
    deadline = time.monotonic() + STARTING
    while time.monotonic() < deadline:
        workers = workers_of(mark)
        if workers and (not counting or any(written(pid) > RESULT_BYTES for pid in workers)):
            return workers
        assert build.poll() is None, "the build ended before its workers were seen"
        time.sleep(0.02)
    pytest.fail(f"no tokenising worker within {STARTING:.0f} s")


def python_is_up(pid: int) -> bool:
    """Whether process `pid`'s interpreter has set what SIGINT does (it catches it, to raise
    KeyboardInterrupt, unless told to ignore it): from then on a Ctrl-C it gets lands in Python."""
    with suppress(OSError):
        masks = dict(
            line.split(":\t") for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line
        )
        return bool((int(masks["SigCgt"], 16) | int(masks["SigIgn"], 16)) & 1 << (signal.SIGINT - 1))
    return False


def left_after(mark: str, seconds: float) -> list[int]:
    """The marked processes still there after up to `seconds` (none: at once)."""
    deadline = time.monotonic() + seconds
    while (left := marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.fixture
def build_mark() -> Iterator[str]:
    """A fresh marker; whatever still carries it afterwards is killed by its process id."""
    mark = uuid.uuid4().hex
    yield mark
    for pid in marked(mark):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def start_build(corpus: Path, index_dir: Path, mark: str, **popen: object) -> subprocess.Popen[bytes]:
    command = [RAGCLI, "index", str(corpus), "-i", str(index_dir), "--jobs", "2"]
    env = {**os.environ, MARKER: mark}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, **popen)  # type: ignore[call-overload]


@pytest.mark.parametrize("counting", [False, True], ids=["starting", "counting"])
def test_workers_end_when_the_build_is_killed(
    large_corpus: Path, tmp_path: Path, build_mark: str, counting: bool
) -> None:
    """SIGKILL (what the OOM killer sends) to `ragcli index` left its workers hanging for good, one
    blocked writing a result nobody would read, each holding ragcli's stderr open: `ragcli index … |
    tee log` never ended. Now they end with it, whether it died while they started (before they could
    watch it) or while they counted."""
    build = start_build(large_corpus, tmp_path / "idx", build_mark, stderr=subprocess.DEVNULL)
    try:
        wait_for_workers(build, build_mark, counting)
        build.kill()
        build.wait(timeout=30)
        assert left_after(build_mark, ENDING) == []
    finally:
        if build.poll() is None:
            build.kill()
            build.wait(timeout=30)


@pytest.mark.parametrize("counting", [False, True], ids=["starting", "counting"])
def test_ctrl_c_while_workers_run_is_one_line(
    large_corpus: Path, tmp_path: Path, build_mark: str, counting: bool
) -> None:
    """Ctrl-C reaches every process of the terminal's foreground group: each worker, still importing,
    printed a KeyboardInterrupt traceback (17 to 115 lines) before "ragcli: error: interrupted". The
    workers now ignore it, from their first instruction on, and the build stops them."""
    stderr_file = tmp_path / "stderr"
    with stderr_file.open("wb") as stderr:
        build = start_build(large_corpus, tmp_path / "idx", build_mark, stderr=stderr, process_group=0)
    try:
        if counting:
            wait_for_workers(build, build_mark, counting=True)
        else:  # as soon as a worker's interpreter would turn a Ctrl-C into KeyboardInterrupt
            deadline = time.monotonic() + STARTING
            while not any(map(python_is_up, workers_of(build_mark))):
                assert build.poll() is None and time.monotonic() < deadline, "no worker started"
                time.sleep(0.01)
        os.killpg(build.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        code = build.wait(timeout=60)
        assert left_after(build_mark, ENDING) == []  # what the workers write is written by now
        said = stderr_file.read_text(errors="replace")
        assert "Traceback" not in said, said
        assert (code, said.strip().splitlines()[-1]) == (130, "ragcli: error: interrupted"), said
    finally:
        if build.poll() is None:
            build.kill()
            build.wait(timeout=30)


def test_a_worker_the_system_kills_is_exit_14_and_the_index_stays(
    large_corpus: Path, tmp_path: Path, build_mark: str
) -> None:
    """The out-of-memory killer's SIGKILL to one tokenising worker was "internal error:
    TerminatedWorkerError: … \\n\\nThe exit codes …" (exit 1, a bug to report): it is memory running out,
    exit 14 in one line, and the index built before is still the one in use."""
    index_dir = tmp_path / "idx"
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "a.txt").write_text("honey bees make honey", encoding="utf-8")
    assert subprocess.run([RAGCLI, "index", str(tmp_path / "small"), "-i", str(index_dir), "-q"]).returncode == 0
    manifest = (index_dir / "manifest.json").read_bytes()
    stderr_file = tmp_path / "stderr"
    with stderr_file.open("wb") as stderr:
        command = [RAGCLI, "index", str(large_corpus), "-i", str(index_dir), "--jobs", "2", "--replace-roots"]
        build = subprocess.Popen(
            command, env={**os.environ, MARKER: build_mark}, stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        os.kill(wait_for_workers(build, build_mark, counting=True)[0], signal.SIGKILL)
        code = build.wait(timeout=120)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait(timeout=30)
    said = stderr_file.read_text(errors="replace").strip().splitlines()
    assert code == 14, said
    assert said[-1].startswith("ragcli: error: a worker process counting the passages was killed (SIGKILL(-9))")
    assert "internal error" not in "\n".join(said) and "Traceback" not in "\n".join(said)
    assert (index_dir / "manifest.json").read_bytes() == manifest
    assert left_after(build_mark, ENDING) == []


def test_a_threads_traceback_after_a_stop_signal_is_not_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a Ctrl-C, loky's manager thread could trip over a work item the pool's shutdown removed and
    print "Exception in thread ExecutorManagerThread: Traceback … KeyError: 2" above "interrupted" (seen
    once in a full run of the Ctrl-C test above). Before any stop signal a thread's failure is reported
    as Python reports it."""
    import threading

    from ragcli import cli

    def fail() -> None:
        raise KeyError(2)

    monkeypatch.setattr(threading, "excepthook", cli._thread_failure)
    for stopping, shown in ((None, True), (signal.SIGINT, False), (signal.SIGTERM, False)):
        monkeypatch.setattr(cli._Stopping, "signal", stopping)
        thread = threading.Thread(target=fail, name="ExecutorManagerThread")
        thread.start()
        thread.join()
        assert ("Traceback" in capsys.readouterr().err) == shown, stopping
