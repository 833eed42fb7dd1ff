"""Incremental re-indexing on wiki100k split into 100 JSONL files of 1,000 passages:

    python bench/incremental.py [--runs 3]

Times (medians) a full build (`--rebuild`), a re-run on the unchanged corpus, and a re-run after one
file changed (a different file each run), each a fresh `ragcli index` process as a user runs it, and checks that the incremental index answers exactly as
a full rebuild of the same files does. Beside the wall time, the CPU time (user + system) of each
`ragcli index` process and of the children it waited for: on a busy machine the wall time measures
the machine as much as the build (with the kernel's autogroup scheduling, `nice` does not rank
processes of different sessions), the CPU time much less.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATASETS = ROOT.parent / "shared" / "datasets"
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent
FILES = 100


def split_corpus(folder: Path) -> None:
    if folder.is_dir() and len(list(folder.glob("*.jsonl"))) == FILES:
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with gzip.open(DATASETS / "wiki100k.jsonl.gz", "rt", encoding="utf-8") as handle:
        lines = handle.readlines()
    per_file = len(lines) // FILES
    for i in range(FILES):
        (folder / f"part-{i:03d}.jsonl").write_text("".join(lines[i * per_file : (i + 1) * per_file]), encoding="utf-8")


def timed_build(corpus: Path, index_dir: Path, rebuild: bool = False) -> tuple[float, float, dict[str, object]]:
    """One `ragcli index` as a user runs it: a fresh process (imports included), timed from outside:
    (wall seconds, CPU seconds of it and its children, its JSON report)."""
    command = [str(BIN / "ragcli"), "index", str(corpus), "--index", str(index_dir), "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([*command, *(["--rebuild"] if rebuild else [])], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if done.returncode:
        raise SystemExit(f"ragcli index failed ({done.returncode}): {done.stderr.strip()}")
    report: dict[str, object] = json.loads(done.stdout)
    return seconds, cpu, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    corpus = OUT / "data" / "wiki100k-split"
    split_corpus(corpus)
    index_dir = OUT / "work" / "incremental-index"
    full, noop, one = [], [], []
    cpu: dict[str, list[float]] = {"full": [], "noop": [], "one": []}
    for run in range(options.runs):
        seconds, used, report = timed_build(corpus, index_dir, rebuild=True)
        full.append(seconds)
        cpu["full"].append(used)
        seconds, used, report = timed_build(corpus, index_dir)
        assert report["up_to_date"] is True, report
        noop.append(seconds)
        cpu["noop"].append(used)
        target = corpus / f"part-{run:03d}.jsonl"
        with target.open("a", encoding="utf-8") as handle:
            handle.write(
                json.dumps(
                    {"_id": f"added-{run}", "title": "Added", "text": f"an added passage number {run} about zebras"}
                )
                + "\n"
            )
        seconds, used, report = timed_build(corpus, index_dir)
        assert (report["files_changed"], report["files_unchanged"]) == (1, FILES - 1), report
        one.append(seconds)
        cpu["one"].append(used)
        print(
            f"run {run + 1}: full {full[-1]:.1f} s (CPU {cpu['full'][-1]:.1f} s), unchanged {noop[-1]:.2f} s "
            f"(CPU {cpu['noop'][-1]:.2f} s), one file changed {one[-1]:.2f} s (CPU {cpu['one'][-1]:.2f} s; "
            f"{one[-1] / full[-1]:.1%} of this run's full build; load average {load()})",
            file=sys.stderr,
        )
    check_equal(corpus, index_dir)
    f, n, o = (statistics.median(v) for v in (full, noop, one))
    cf, cn, co = (statistics.median(cpu[k]) for k in ("full", "noop", "one"))
    shares = [b / a for a, b in zip(full, one)]  # the machine is shared: each run's own ratio counts
    print(f"load average {load()}; {options.runs} runs")
    print("| wiki100k in 100 files | median s | share of a full build | median CPU s | CPU share |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| full build (`--rebuild`) | {f:.1f} | 100% | {cf:.1f} | 100% |")
    print(f"| re-run, nothing changed | {n:.2f} | {n / f:.1%} | {cn:.2f} | {cn / cf:.1%} |")
    print(f"| re-run, one file changed | {o:.2f} | {o / f:.1%} | {co:.2f} | {co / cf:.1%} |")
    print(
        f"one file changed, per run: {', '.join(f'{r:.1%}' for r in shares)} of the same run's full build "
        f"(median {statistics.median(shares):.1%})"
    )


def load() -> str:
    """The 1, 5 and 15 minute load averages (the machine is shared: say how busy it was)."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def check_equal(corpus: Path, incremental: Path) -> None:
    from ragcli.retrieval.index import load_index

    full_dir = OUT / "work" / "incremental-full"
    timed_build(corpus, full_dir, rebuild=True)
    a, b = load_index(incremental), load_index(full_dir)
    assert a.manifest["counts"] == b.manifest["counts"], (a.manifest["counts"], b.manifest["counts"])
    for query in ("zebras", "history of anarchism", "football world cup final", "quantum mechanics"):
        assert [(h.id, round(h.score, 5)) for h in a.search(query, k=20)] == [
            (h.id, round(h.score, 5)) for h in b.search(query, k=20)
        ]
    print("incremental index == full rebuild: same counts, same top-20 ids and scores", file=sys.stderr)


if __name__ == "__main__":
    main()
