"""Lines `ragcli query` prints for one answer in each view and terminal size (BENCHMARKS.md, issue 14):
the full view against what `--sources auto` chooses, at 80×24 and 160×50.

    .venv/bin/python bench/output_lines.py INDEX   # an index of sample_corpus
"""

from __future__ import annotations

import io
import sys

from ragcli.answering import answer
from ragcli.render import OutputView, SafeConsole, print_answer
from ragcli.retrieval.index import load_index

QUESTIONS = [
    "How do honeybees tell each other where the flowers are?",
    "Why does honey not ferment?",
    "What do beekeepers use against varroa mites?",
]


def main() -> None:
    idx = load_index(sys.argv[1])
    for question in QUESTIONS:
        item = answer(question, idx, "extractive", k=5)
        row = [question]
        for width, height in [(80, 24), (160, 50)]:
            for view in ["full", "auto"]:
                out = io.StringIO()
                console = SafeConsole(file=out, width=width, height=height, force_terminal=True, color_system=None)
                print_answer(item, idx.analyzer.highlighter(question), OutputView(view), console)
                row.append(f"{width}x{height} {view}: {len(out.getvalue().splitlines())}")
        print(" | ".join(row))


if __name__ == "__main__":
    main()
