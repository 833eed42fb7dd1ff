"""Indexing a table from SQLite vs the same records from JSON Lines, and re-indexing after one row changed.

    python bench/sql_bench.py                     # SciFact's corpus (5,183 records), 3 runs, medians
    python bench/sql_bench.py --limit 2000 --runs 1

The same records (id, title, text) are written to a JSON Lines file and a SQLite table; each build
runs in this process, alternated (JSONL, SQLite, JSONL, SQLite…), on a fresh index folder; then one
row (one line) is changed and the index rebuilt: JSON Lines re-reads its one file, SQLite re-reads one
row and reuses the others. The load average is printed: the figures are only comparable on an idle
machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings

DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"


def records(limit: int | None) -> list[dict[str, str]]:
    corpus = DATASETS / "scifact" / "corpus.jsonl"
    out = []
    with corpus.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            out.append({"id": record["_id"], "title": record.get("title", ""), "text": record["text"]})
            if limit and len(out) >= limit:
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = records(args.limit)
    work = Path(tempfile.mkdtemp(prefix="ragcli-sql-bench-"))
    try:
        jsonl = work / "corpus.jsonl"
        jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        database = work / "corpus.db"
        with sqlite3.connect(database) as connection:
            connection.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, title TEXT, text TEXT)")
            connection.executemany("INSERT INTO docs VALUES (:id, :title, :text)", rows)
        connection.close()
        url = f"sqlite:///{database}"
        sql = BuildSettings(sql="SELECT id, title, text FROM docs ORDER BY rowid", jobs=1)
        times: dict[str, list[float]] = {"jsonl": [], "sqlite": [], "jsonl-1-changed": [], "sqlite-1-changed": []}
        for run in range(args.runs):
            for name, roots, settings in (("jsonl", [jsonl], BuildSettings(jobs=1)), ("sqlite", [url], sql)):
                target = work / f"index-{name}"
                shutil.rmtree(target, ignore_errors=True)
                start = time.perf_counter()
                build_index(roots, target, settings)
                times[name].append(time.perf_counter() - start)
                # change one record / row, then re-index
                changed = f"changed text number {run} for the benchmark"
                if name == "jsonl":
                    lines = jsonl.read_text(encoding="utf-8").splitlines(keepends=True)
                    lines[len(lines) // 2] = json.dumps({**rows[len(rows) // 2], "text": changed}) + "\n"
                    jsonl.write_text("".join(lines), encoding="utf-8")
                else:
                    with sqlite3.connect(database) as connection:
                        connection.execute(
                            "UPDATE docs SET text = ? WHERE id = ?", (changed, rows[len(rows) // 2]["id"])
                        )
                    connection.close()
                start = time.perf_counter()
                report = build_index(roots, target, settings)
                times[f"{name}-1-changed"].append(time.perf_counter() - start)
                assert report.changed == 1 or report.rows_changed == 1
        print(f"{len(rows):,} records, {args.runs} runs, load average {os.getloadavg()[0]:.2f}")
        for name, values in times.items():
            print(
                f"  {name:18s} median {statistics.median(values):6.2f} s  (runs: {', '.join(f'{v:.2f}' for v in values)})"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
