"""The extractive generator on xquad-a, on the whole set and on a tune / test split by article:

    python bench/xquad_split.py [--generator extractive] [--half tune|test|all|tune-a|tune-b] [--kinds]

The split rule is fixed and knows nothing of the answers: a question's article is its first relevant
paragraph id up to "#" ("Super_Bowl_50#3" → "Super_Bowl_50"); the 24 articles are sorted by name and
alternate, the 1st, 3rd, 5th … going to the tune half (12 articles, 296 questions) and the 2nd, 4th,
6th … to the test half (12 articles, 336 questions). Develop on the tune half only; report the test half.
`--half tune-a --half tune-b` splits tune again the same way (6 + 6 articles, 141 and 155 questions): a
change is kept only when it helps, or does not hurt, both.

Everything is written into a temporary folder (the halves, the index, per-query lines), removed at the
end; nothing goes into the repository or ../shared.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
XQUAD = ROOT.parent / "shared" / "datasets" / "xquad-a"
METRICS = ("exact_match", "f1", "match", "citation_precision", "citation_recall", "groundedness")


def article(record: dict) -> str:
    """The article a question is about: its first relevant paragraph id, up to '#'."""
    return str(record["relevant"][0]).split("#", 1)[0]


def split_halves(qa: Path) -> dict[str, list[dict]]:
    """tune / test: sorted articles alternate, the first to tune."""
    records = [json.loads(line) for line in qa.read_text(encoding="utf-8").splitlines() if line.strip()]
    articles = sorted({article(r) for r in records})
    tune = set(articles[0::2])
    tune_a = set(sorted(tune)[0::2])  # tune split again the same way: a change must not hurt either half
    return {
        "tune": [r for r in records if article(r) in tune],
        "test": [r for r in records if article(r) not in tune],
        "all": records,
        "tune-a": [r for r in records if article(r) in tune_a],
        "tune-b": [r for r in records if article(r) in tune - tune_a],
    }


def ragcli(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "ragcli", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"ragcli {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def kind_of(question: str) -> str:
    from ragcli.generation.questions import question_kind

    return question_kind(question) or "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", default="extractive")
    parser.add_argument("--half", choices=("tune", "test", "all", "tune-a", "tune-b"), action="append")
    parser.add_argument("--kinds", action="store_true", help="also F1 and EM by question kind")
    parser.add_argument("--show", type=int, default=0, help="print this many wrong answers per half")
    parser.add_argument("--only", help="print wrong answers of this question kind only (number, date, name, other)")
    args = parser.parse_args()
    halves = split_halves(XQUAD / "qa.jsonl")
    with tempfile.TemporaryDirectory(prefix="ragcli-xquad-split-") as tmp:
        folder = Path(tmp)
        index = folder / "index"
        ragcli("index", str(XQUAD / "corpus.jsonl"), "--index", str(index), "--json")
        print(f"{'half':<6} {'questions':>9} " + " ".join(f"{m:>18}" for m in METRICS) + f" {'ms per answer':>14}")
        for half in args.half or ["tune", "test", "all"]:
            qa = folder / f"{half}.jsonl"
            qa.write_text("".join(json.dumps(r) + "\n" for r in halves[half]), encoding="utf-8")
            per_query = folder / f"{half}.per-query.jsonl"
            report = json.loads(
                ragcli(
                    *("evaluate", str(qa), "--index", str(index), "--k", "1,5", "-g", args.generator),
                    *("--per-query", str(per_query), "--json"),
                )
            )
            metrics = report["configs"][0]["metrics"]
            ms = 1000 * report["configs"][0]["timings"].get("generate_s_per_query", float("nan"))
            print(
                f"{half:<6} {len(halves[half]):>9} "
                + " ".join(f"{metrics.get(m, float('nan')):>18.4f}" for m in METRICS)
                + f" {ms:>14.1f}"
            )
            lines = [json.loads(line) for line in per_query.read_text(encoding="utf-8").splitlines()]
            if args.kinds:
                by_kind: dict[str, list[dict]] = defaultdict(list)
                for line in lines:
                    by_kind[kind_of(line["question"])].append(line["metrics"])
                for kind, values in sorted(by_kind.items()):
                    means = {m: sum(v[m] for v in values) / len(values) for m in ("exact_match", "f1", "match")}
                    print(f"   {kind:<8} n={len(values):<4} " + " ".join(f"{m} {v:.3f}" for m, v in means.items()))
            wrong = [
                line for line in lines if line["metrics"]["f1"] < 0.5 and args.only in (None, kind_of(line["question"]))
            ][: args.show]
            for line in wrong:
                print(f"   Q: {line['question']}\n      A: {line['answer']!r}  gold: {line['gold_answers']}")


if __name__ == "__main__":
    main()
