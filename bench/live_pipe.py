"""`ragcli query -` on many questions: time to the first answer line, total time, peak memory.

    python bench/live_pipe.py [--lines 20000] [--runs 3] [--ragcli PATH ...] [-- extra query options]

Each run is a fresh `ragcli query - --json --no-generate` (or `-g extractive` with --extractive)
process on the sample corpus's index, fed
N questions through a pipe as fast as it reads them; with several --ragcli executables (e.g. the main
checkout's and this one) the runs alternate. Peak memory is the child's maximum resident set size
(getrusage); the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    "honey",
    "bees",
    "waggle",
    "dance",
    "varroa",
    "mites",
    "propolis",
    "swarm",
    "queen",
    "drones",
    "nectar",
    "pollen",
    "hive",
    "frames",
]


def questions(count: int) -> bytes:
    return "".join(f"{WORDS[n % 14]} {WORDS[(n * 7) % 14]} question {n}\n" for n in range(count)).encode()


def one_run(ragcli: str, index: Path, data: bytes, extra: list[str]) -> tuple[float, float, float]:
    """(seconds to the first answer line, seconds to the end, peak RSS in MB) of one fresh process."""
    command = [ragcli, "query", "-", "--json", "--index", str(index), *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdin is not None and process.stdout is not None

    def feed() -> None:
        try:
            process.stdin.write(data)  # type: ignore[union-attr]
            process.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed)
    writer.start()
    process.stdout.readline()
    first = time.perf_counter() - started
    for _ in process.stdout:
        pass
    _, status, usage = os.wait4(process.pid, 0)
    total = time.perf_counter() - started
    writer.join()
    assert os.waitstatus_to_exitcode(status) == 0
    return first, total, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ragcli", action="append", help="ragcli executable(s); default: this environment's")
    parser.add_argument("--extractive", action="store_true", help="answer with -g extractive (else --no-generate)")
    parser.add_argument("extra", nargs="*", help="more `ragcli query` options (after --)")
    options = parser.parse_args()
    executables = options.ragcli or [str(Path(sys.executable).parent / "ragcli")]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    data = questions(options.lines)
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        subprocess.run([executables[0], "index", str(ROOT / "sample_corpus"), "--index", str(index), "-q"], check=True)
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in executables}
        for _ in range(options.runs):
            for name in executables:
                mode = ["-g", "extractive"] if options.extractive else ["--no-generate"]
                results[name].append(one_run(name, index, data, [*mode, *options.extra]))
    mode = "-g extractive" if options.extractive else "--no-generate"
    print(f"{options.lines:,} questions, {mode}, {options.runs} runs each, medians")
    print(f"{'ragcli':<40} {'first line s':>12} {'total s':>8} {'peak MB':>8}")
    for name, runs in results.items():
        first, total, peak = (statistics.median(values) for values in zip(*runs))
        print(f"{name:<40} {first:>12.2f} {total:>8.2f} {peak:>8.0f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
