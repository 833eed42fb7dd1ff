"""What `ragcli index` reads and skips on a real folder, and how long it takes.

Runs `ragcli index PATH --index TMP --json` in a fresh process (a temporary index, removed after),
then prints the files read, the files skipped grouped by reason (with the commonest suffixes and a
few examples per reason), the ignored count, and the wall time:

    python bench/corpus_survey.py /usr/share/doc [--ragcli /work/main/.venv/bin/ragcli] [-- --skip-invalid]

--ragcli picks the installation to measure (default: the one beside this Python), so the same
script measures the code before and after a change. Arguments after `--` go to `ragcli index`.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath

RECORD_RE = re.compile(r"(?::\d+| record \d+)$")  # a skipped record ("file:line"), not a whole file
# skips of entries the walk does not count as files (links not followed, FIFOs, index folders…)
NOT_WALKED = ("symbolic link", "not a regular file", "a ragcli index", "part of a ragcli index", "unreadable folder")


def reason_group(reason: str) -> str:
    """The reason without its per-file details (error messages, sizes), so like skips group together."""
    if reason.startswith("unsupported file type"):
        return "unsupported file type"
    return re.split(r" \(|: ", reason, maxsplit=1)[0]


def suffix_of(path: str) -> str:
    name = PurePosixPath(path).name.lower()
    parts = name.split(".")
    if len(parts) > 2 and parts[-1] == "gz":
        return "." + ".".join(parts[-2:])
    return "." + parts[-1] if len(parts) > 1 else "(none)"


def survey(ragcli: str, path: str, extra: list[str], examples: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        done = subprocess.run(
            [ragcli, "index", path, "--index", str(Path(tmp) / "index"), "--json", *extra],
            capture_output=True,
            text=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        wall = time.perf_counter() - started
    print(f"ragcli:   {ragcli}")
    print(f"command:  ragcli index {path} --json {' '.join(extra)}".rstrip())
    print(f"exit:     {done.returncode}    wall: {wall:.1f} s")
    if done.returncode != 0 or not done.stdout.strip():
        print(done.stderr.strip()[-2000:])
        return done.returncode or 1
    report = json.loads(done.stdout)
    skipped = report["skipped"]
    files = [s for s in skipped if not RECORD_RE.search(s["path"])]
    first: dict[str, dict[str, str]] = {}
    for entry in files:  # a file skipped for two reasons counts once, under the first
        first.setdefault(entry["path"], entry)
    files = list(first.values())
    others = [e for e in files if e["reason"].startswith(NOT_WALKED)]
    skipped_files = len(files) - len(others)
    records = len(skipped) - sum(1 for s in skipped if not RECORD_RE.search(s["path"]))
    walked = report["files"]
    print(
        f"files:    {walked:,} regular files walked: {walked - skipped_files:,} read, {skipped_files:,} skipped"
        f"; {len(others):,} links and other entries not read"
    )
    print(f"index:    {report['documents']:,} documents, {report['passages']:,} passages")
    if "ignored" in report:
        print(f"ignored:  {report['ignored']:,} (ignore files, --include/--exclude)")
    if records:
        print(f"records:  {records:,} skipped inside files")
    groups: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    for entry in files:
        groups[reason_group(entry["reason"])].append(entry)
    print(f"\n{'files':>7}  reason (commonest suffixes)")
    for reason, entries in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        suffixes = collections.Counter(suffix_of(e["path"]) for e in entries).most_common(8)
        shown = ", ".join(f"{s} {n}" for s, n in suffixes)
        print(f"{len(entries):>7,}  {reason} ({shown})")
        for entry in entries[:examples]:
            print(f"{'':>9}e.g. {entry['path']}: {entry['reason']}"[:160])
    return 0


def main() -> None:
    argv = sys.argv[1:]
    extra: list[str] = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--ragcli", default=str(Path(sys.executable).parent / "ragcli"))
    parser.add_argument("--examples", type=int, default=3, help="example files shown per reason")
    options = parser.parse_args(argv)
    raise SystemExit(survey(options.ragcli, options.path, extra, options.examples))


if __name__ == "__main__":
    main()
