"""Questions about code answered by the extractive generator: "What does NAME do?" over Python packages.

    python bench/code_answers.py [--packages rich,httpx,click] [--queries 300] [--qualified]
    PYTHONPATH=/tmp/oldtree python bench/code_answers.py     # an earlier checkout, for comparison

For each function or method with a docstring in the installed packages (sampled with a fixed seed), it
asks "What does NAME do?" through `ragcli.answer` (BM25, top 5 passages, `-g extractive`) over an index
of the packages' source, and sorts the answers: **its doc** (the answer is the first sentence of that
function's docstring), **a namesake's doc** (the first sentence of the docstring of another function of
the same name: `get`, `__init__`, `render` are defined many times), **other** (anything else: a line of
code, a sentence from elsewhere) and **none**. `--qualified` asks about methods only, by their class as
people write them: "What does Response.raise_for_status do?". No labelling by hand; the index goes into a temporary
folder; the load average is printed.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import re
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from code_sections import SITE, python_trees


def first_sentence(doc: str) -> str:
    paragraph = doc.strip().split("\n\n", 1)[0]
    joined = " ".join(paragraph.split())
    return re.split(r"(?<=[.!?])\s+(?=[A-Z`\"'(])", joined, maxsplit=1)[0]


def documented_functions(packages: list[str]) -> list[tuple[str, str, str]]:
    """(name, first sentence of its docstring, its class or "") of every documented function and method."""
    found = []
    for _path, tree in python_trees(packages):
        classes = {id(f): c.name for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for f in c.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and ast.get_docstring(node):
                doc = first_sentence(ast.get_docstring(node) or "")
                found.append((node.name, doc, classes.get(id(node), "")))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packages", default="rich,httpx,click")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--show", type=int, default=0, help="print this many answers of each kind but its own doc")
    parser.add_argument("--qualified", action="store_true", help="ask about methods as Class.method")
    args = parser.parse_args()
    import ragcli
    from ragcli import answer, build_index, load_index

    print(f"ragcli from {Path(ragcli.__file__).parent}; load average {os.getloadavg()}")
    packages = args.packages.split(",")
    functions = documented_functions(packages)
    docs_by_name: dict[str, set[str]] = defaultdict(set)
    for name, doc, _ in functions:
        docs_by_name[name].add(" ".join(doc.split()))
    asked = [f for f in functions if not f[0].startswith("_") and (f[2] or not args.qualified)]
    random.Random(0).shuffle(asked)
    asked = asked[: args.queries]
    kinds: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="ragcli-code-answers-") as tmp:
        index = Path(tmp) / "index"
        build_index([SITE / p for p in packages], index)
        loaded = load_index(index)  # once: the questions only query
        for name, doc, owner in asked:
            asked_name = f"{owner}.{name}" if args.qualified else name
            result = answer(f"What does {asked_name} do?", loaded, "extractive", k=5)
            said = " ".join(re.sub(r"\s*\[\d+\]$", "", result.answer or "").split())
            if not said:
                kind = "none"
            elif said == " ".join(doc.split()):
                kind = "its doc"
            elif said in docs_by_name[name]:
                kind = "a namesake's doc"
            else:
                kind = "other"
            kinds[kind] += 1
            examples[kind].append(f"What does {asked_name} do? → {said[:120]!r}")
    total = sum(kinds.values())
    print(f"{total} questions over {', '.join(packages)} ({len(functions)} documented functions)")
    for kind in ("its doc", "a namesake's doc", "other", "none"):
        print(f"  {kind:<17} {kinds[kind]:>4}  {kinds[kind] / total:.3f}")
        if kind != "its doc":
            for line in examples[kind][: args.show]:
                print(f"      {line}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
