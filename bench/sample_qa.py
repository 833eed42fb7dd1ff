"""The extractive generator on the questions a new user asks of sample_corpus/ first:

    python bench/sample_qa.py [--generator extractive] [--show]

bench/data/sample_qa.json holds 56 questions written as a new user of the sample corpus would ask them
(each answer written down from the corpus before anything ran). *dev* (34) holds the questions tried
on the tool before the set was written, and half of the others, drawn at random with a fixed seed;
*held-out* (22) holds the rest, only reported. The corpus is indexed as `make demo` does (default
settings, in a temporary folder removed at the end) and `ragcli evaluate` answers each split with its
defaults, as a user runs it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path

from multilingual_qa import METRICS, ragcli

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "sample_qa.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", default="extractive")
    parser.add_argument("--show", action="store_true", help="print the answers with F1 below 0.5")
    args = parser.parse_args()
    data = json.loads(DATA.read_text(encoding="utf-8"))
    splits: dict[str, list[dict]] = defaultdict(list)
    for question in data["questions"]:
        splits[question["split"]].append(question)
    with tempfile.TemporaryDirectory(prefix="ragcli-sample-qa-") as tmp:
        index = Path(tmp) / "index"
        ragcli("index", str(ROOT / data["corpus"]), "--index", str(index), "--json")
        print("| split | questions | " + " | ".join(METRICS) + " |")
        print("| --- | ---: | " + " | ".join("---:" for _ in METRICS) + " |")
        for split in sorted(splits, key=lambda s: (s != "dev", s)):
            qa, per_query = Path(tmp) / f"{split}.jsonl", Path(tmp) / f"{split}-per-query.jsonl"
            qa.write_text(
                "".join(
                    json.dumps({"id": f"{split}-{n}", "question": q["question"], "answers": q["answers"]}) + "\n"
                    for n, q in enumerate(splits[split])
                ),
                encoding="utf-8",
            )
            ragcli("evaluate", str(qa), "--index", str(index), "-g", args.generator, "--per-query", str(per_query))
            records = [json.loads(line) for line in per_query.read_text(encoding="utf-8").splitlines()]
            means = " | ".join(f"{sum(r['metrics'][m] for r in records) / len(records):.3f}" for m in METRICS)
            print(f"| {split} | {len(records)} | {means} |")
            if args.show and split != "held-out":
                for r in records:
                    if r["metrics"]["f1"] < 0.5:
                        print(f"   {r['question']} → {r['answer']!r}  gold {r['gold_answers']}")


if __name__ == "__main__":
    main()
