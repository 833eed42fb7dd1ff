"""Re-indexing with settings that stick, and changing the roots, on wiki100k split into 100 JSONL files:

    python bench/reindex_settings.py [--runs 3]

The index is built from 90 files (folder `main/`) with non-default settings (chunk size 120, k1 0.9,
--exclude), then timed (medians): a plain re-index (nothing given: settings and roots as recorded), a
re-weighting (`--k1`), `--add` of a folder of the 10 other files (inside the index's base folder, so the
90 files are reused), `--remove` of it, and for comparison a full build of the 100 files. Checks that
every setting survived each step.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "out"


def layout(split: Path, folder: Path) -> tuple[Path, Path]:
    """main/ with 90 files and main/extra/ with 10, left out of main's walk by an .ignore file."""
    main, extra = folder / "main", folder / "main" / "extra"
    if not (extra.is_dir() and len(list(extra.glob("*.jsonl"))) == 10):
        shutil.rmtree(folder, ignore_errors=True)
        extra.mkdir(parents=True)
        for number, path in enumerate(sorted(split.glob("*.jsonl"))):
            shutil.copy(path, (extra if number >= 90 else main) / path.name)
        (main / ".ignore").write_text("extra/\n")
    return main, extra


def timed(step: object, *args: object, **kwargs: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = step(*args, **kwargs)  # type: ignore[operator]
    return time.perf_counter() - started, result


def main() -> None:
    from incremental import split_corpus

    from ragcli.indexing.stored import recorded_settings, reindex
    from ragcli.store import read_manifest

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    split_corpus(OUT / "wiki100k-split")
    main_dir, extra = layout(OUT / "wiki100k-split", OUT / "wiki100k-roots")
    index_dir = OUT / "reindex-settings-idx"
    given = {"chunk_size": 120, "k1": 0.9, "exclude": ["*.tmp"]}
    times: dict[str, list[float]] = {}
    for run in range(args.runs):
        shutil.rmtree(index_dir, ignore_errors=True)
        reindex([main_dir], index_dir, given)
        built = recorded_settings(read_manifest(index_dir))
        k1 = 1.1 if run % 2 == 0 else 0.9
        steps = [
            ("plain re-index (nothing changed)", {}, {}),
            (f"--k1 {k1} ({'re-weight' if k1 != 0.9 else 'the recorded value: nothing to do'})", {"k1": k1}, {}),
            ("--add extra/ (10 files)", {}, {"add": [extra]}),
            ("--remove extra/", {}, {"remove": [extra]}),
        ]
        for name, options, roots in steps:
            seconds, report = timed(reindex, None, index_dir, options, **roots)
            times.setdefault(name, []).append(seconds)
            now = recorded_settings(read_manifest(index_dir))
            expected = {**built, "k1": k1} if name != "plain re-index (nothing changed)" else built
            assert now == expected, (name, now, expected)
            print(f"run {run + 1}: {name}: {seconds:.2f} s ({report.new} new, {report.unchanged} reused)")  # type: ignore[attr-defined]
        seconds, _ = timed(reindex, [main_dir, extra], OUT / "reindex-full-idx", given, rebuild=True)
        shutil.rmtree(OUT / "reindex-full-idx", ignore_errors=True)
        times.setdefault("full build of the 100 files (--rebuild)", []).append(seconds)
    print(f"\nload average {os.getloadavg()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| step | median s |\n| --- | ---: |")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.2f} |")


if __name__ == "__main__":
    main()
