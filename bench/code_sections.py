"""Code search with passages cut at definitions: does the passage found show the function asked about?

    python bench/code_sections.py [--baseline TREE] [--packages rich,httpx,click] [--queries 400] [--runs 3]

Builds a question set from installed Python packages without any labelling by hand: for each function
or method with a docstring, the question is the docstring's first sentence (at least five words, the
function's own name taken out, so the name is not matched literally), and the answer is the function:
a retrieved passage counts when it is from the function's file and holds its `def` line (a passage
that starts in its body, or ends before it, cites a line the user must scroll from). Reports hit@1,
hit@5 and MRR@10 over the same questions, opens@1 (the first passage holds the def line and starts at
most 5 lines above it: its citation opens the file at the function), the passages of each index and
its build seconds (`ragcli index --rebuild`, fresh processes, the trees alternated run after run,
medians and each run), with the questions asked in a fresh process that only loads the index and
queries. For this tree and, with `--baseline TREE` (a checkout of an earlier commit, e.g. `git
worktree add /tmp/base 9f5f8b8` with the `_topk` extension built or copied in, and `python setup.py
egg_info` run there so that its own entry points, not this tree's readers, are registered), that tree
run through PYTHONPATH. The load average is printed before and after; questions are sampled with a fixed seed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAGCLI = str(Path(sys.executable).parent / "ragcli")
SITE = Path(next(p for p in sys.path if p.endswith("site-packages")))
MIN_WORDS = 5
OPENS_WITHIN = 5  # lines above its def a passage may start and still open with the function (decorators)
SEARCH = """
import json, sys
from ragcli.retrieval.index import load_index
index = load_index(sys.argv[1])
out = []
for question in json.load(open(sys.argv[2])):
    hits = index.search(question, k=10)
    out.append([(h.path, h.line, h.line + h.text.count("\\n")) for h in hits])
json.dump(out, sys.stdout)
"""


def python_trees(packages: list[str]) -> Iterator[tuple[Path, ast.Module]]:
    """Each Python file of the installed packages that parses, with its syntax tree."""
    for package in packages:
        for path in sorted((SITE / package).rglob("*.py")):
            try:
                yield path, ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError):
                continue


def questions(packages: list[str], limit: int) -> list[dict[str, object]]:
    """(question, file, def line) of functions with a docstring, sampled with a fixed seed."""
    found = []
    for path, tree in python_trees(packages):
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            doc = ast.get_docstring(node) or ""
            first = re.split(r"(?<=[.!?])\s|\n\n", doc.strip(), maxsplit=1)[0].replace("\n", " ")
            first = re.sub(rf"\b{re.escape(node.name)}\b", " ", first)
            if len(first.split()) >= MIN_WORDS:
                rel = path.relative_to(SITE).as_posix()
                found.append({"question": first, "path": rel, "line": node.lineno})
    random.Random(0).shuffle(found)
    return found[:limit]


def build(corpus: Path, index: Path, pythonpath: str | None) -> tuple[float, int]:
    env = {**os.environ, **({"PYTHONPATH": pythonpath} if pythonpath else {})}
    started = time.perf_counter()
    done = subprocess.run(
        [RAGCLI, "index", str(corpus), "--index", str(index), "--rebuild", "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"ragcli index failed: {done.stderr.strip()}")
    return time.perf_counter() - started, int(json.loads(done.stdout)["passages"])


def scores(index: Path, asked: list[dict[str, object]], pythonpath: str | None, work: Path) -> dict[str, float]:
    (work / "q.json").write_text(json.dumps([q["question"] for q in asked]))
    env = {**os.environ, **({"PYTHONPATH": pythonpath} if pythonpath else {})}
    done = subprocess.run(
        [sys.executable, "-c", SEARCH, str(index), str(work / "q.json")], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    ranks, opens = [], 0
    for q, hits in zip(asked, json.loads(done.stdout)):
        line = q["line"]
        assert isinstance(line, int)
        rank = next(
            (n for n, (path, first, last) in enumerate(hits, 1) if path == q["path"] and first <= line <= last),
            None,
        )
        ranks.append(rank)
        opens += rank == 1 and line - hits[0][1] <= OPENS_WITHIN
    total = len(ranks)
    return {
        "hit@1": sum(r == 1 for r in ranks) / total,
        "hit@5": sum(r is not None and r <= 5 for r in ranks) / total,
        "MRR@10": sum(1 / r for r in ranks if r is not None) / total,
        "opens@1": opens / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", help="an earlier checkout of ragcli, run through PYTHONPATH")
    parser.add_argument("--packages", default="rich,httpx,click")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3, help="builds of each tree, alternated")
    args = parser.parse_args()
    packages = args.packages.split(",")
    asked = questions(packages, args.queries)
    print(f"load average {os.getloadavg()[0]:.2f}; {len(asked)} questions from {', '.join(packages)}")
    trees = [("this tree", None)] + ([(f"baseline {args.baseline}", args.baseline)] if args.baseline else [])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        for package in packages:  # the files only: the corpus is the packages' source, paths as in SITE
            shutil.copytree(SITE / package, corpus / package, ignore=shutil.ignore_patterns("__pycache__"))
        builds: dict[str, list[float]] = {name: [] for name, _ in trees}
        passages: dict[str, int] = {}
        for _ in range(args.runs):  # the trees' builds alternated, run after run (`--rebuild`: every file read)
            for name, pythonpath in trees:
                seconds, passages[name] = build(corpus, work / f"index-{len(name)}", pythonpath)
                builds[name].append(seconds)
        print(f"| tree | passages | build s (median of {args.runs}: runs) | hit@1 | hit@5 | MRR@10 | opens@1 |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, pythonpath in trees:
            result = scores(work / f"index-{len(name)}", asked, pythonpath, work)  # a fresh, query-only process
            runs = ", ".join(f"{seconds:.2f}" for seconds in builds[name])
            print(
                f"| {name} | {passages[name]:,} | {statistics.median(builds[name]):.2f} ({runs}) |"
                f" {result['hit@1']:.3f} | {result['hit@5']:.3f} | {result['MRR@10']:.3f} | {result['opens@1']:.3f} |"
            )
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
