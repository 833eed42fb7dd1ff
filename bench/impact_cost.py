"""What computing BM25 weights at query time would cost per posting, against ragcli's precomputed ones:

    python bench/impact_cost.py [--index DIR] [--runs 5]

Why it matters (issue 18): an index whose weights are stored rewrites all of them when any file changes
(N and the mean length move every weight), which keeps a one-file re-index far above 10% of a full
build; Lucene instead stores term frequencies and computes BM25 at query time. This bench measures the
per-posting price of that on real postings: the xquad-a questions' terms over an index (by default the
wiki100k index `bench/incremental.py` builds), every posting of each question's terms added into one
accumulator (exhaustive term at a time, the inner loop of any engine), two ways, alternated run after
run, numba-compiled (the `bench` extra), single-threaded:

- stored: `acc[d] += w` with w the float32 weight ragcli stores;
- at query time: `acc[d] += idf · tf · (k1 + 1) / (tf + K[d])` (Lucene's variant, ragcli's default,
  without the k1 + 1) with tf the stored count and
  `K[d] = k1 · (1 − b + b · len[d] / avgdl)` one float32 per passage, computed once per opened index.

Both sum the same values (checked to float32 rounding); neither skips postings, so the ratio is the
per-posting cost, not a whole query's (MaxScore skips the same postings either way). Unlike
`bench/engines.py`, this runs both loops in one process on purpose: it compares two inner loops over
the same arrays (compiled first, then timed), not what a user waits for; the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
QUESTIONS = ROOT.parent / "shared" / "datasets" / "xquad-a" / "qa.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default=str(ROOT / "bench" / "out" / "work" / "incremental-index"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import numba

    from ragcli.retrieval.index import load_index
    from ragcli.retrieval.sparse import row_sums, term_major

    if not (Path(args.index) / "manifest.json").is_file():
        raise SystemExit(
            f"no index in {args.index}: build it first (python bench/incremental.py --runs 1), or pass --index"
        )
    index = load_index(Path(args.index))
    settings = index.manifest["bm25"]
    k1, b = float(settings["k1"]), float(settings["b"])
    payload = index.payload("bm25.joblib")
    scale = 1.0 if settings["variant"] == "lucene" else k1 + 1  # Lucene's BM25 drops the (k1 + 1) factor
    indptr = np.asarray(payload["indptr"], dtype=np.int64)
    postings = np.asarray(payload["indices"], dtype=np.int32)
    stored = np.asarray(payload["data"], dtype=np.float32)
    idf = np.asarray(payload["idf"], dtype=np.float32)
    counts = index.counts_matrix()
    layout = term_major(counts)
    assert np.array_equal(layout.indptr, indptr) and np.array_equal(layout.indices, postings)
    tf = np.asarray(layout.counts, dtype=np.float32)
    lengths = row_sums(counts).astype(np.float64)
    saturation = (k1 * (1 - b + b * lengths / lengths.mean())).astype(np.float32)  # K[d]
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    term_lists = [index.lexicon.query_vector(index.analyzer(q))[0] for q in questions]
    offsets = np.zeros(len(term_lists) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(t) for t in term_lists])
    terms = np.concatenate(term_lists).astype(np.int64)

    @numba.njit(cache=False, nogil=True)
    def with_stored(offsets, terms, indptr, postings, stored, acc):
        total = 0.0
        for q in range(len(offsets) - 1):
            acc[:] = 0.0
            for t in terms[offsets[q] : offsets[q + 1]]:
                for p in range(indptr[t], indptr[t + 1]):
                    acc[postings[p]] += stored[p]
            total += acc.max()
        return total

    @numba.njit(cache=False, nogil=True)
    def at_query_time(offsets, terms, indptr, postings, tf, idf, saturation, scale, acc):
        total = 0.0
        for q in range(len(offsets) - 1):
            acc[:] = 0.0
            for t in terms[offsets[q] : offsets[q + 1]]:
                weight = np.float32(idf[t] * scale)
                for p in range(indptr[t], indptr[t + 1]):
                    d = postings[p]
                    f = tf[p]
                    acc[d] += weight * f / (f + saturation[d])
            total += acc.max()
        return total

    acc = np.zeros(counts.shape[0], dtype=np.float32)
    first = with_stored(offsets, terms, indptr, postings, stored, acc)  # compiles
    second = at_query_time(offsets, terms, indptr, postings, tf, idf, saturation, scale, acc)
    touched = int(sum(indptr[t + 1] - indptr[t] for t in terms))
    print(f"{len(questions)} questions, {touched:,} postings touched; sum of best scores {first:.3f} vs {second:.3f}")
    assert abs(first - second) <= 1e-3 * abs(first), (first, second)  # the same weights, float32 rounding apart
    times: dict[str, list[float]] = {"stored": [], "query time": []}
    for run in range(args.runs):
        order = ["stored", "query time"] if run % 2 == 0 else ["query time", "stored"]
        for name in order:
            started = time.perf_counter()
            if name == "stored":
                with_stored(offsets, terms, indptr, postings, stored, acc)
            else:
                at_query_time(offsets, terms, indptr, postings, tf, idf, saturation, scale, acc)
            times[name].append(time.perf_counter() - started)
    per = {name: 1e9 * statistics.median(values) / touched for name, values in times.items()}
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; {args.runs} runs alternated, medians")
    for name, ns in per.items():
        spread = ", ".join(f"{1e9 * v / touched:.2f}" for v in times[name])
        print(f"{name:>10}: {ns:.2f} ns a posting ({spread})")
    print(f"query-time weights cost {per['query time'] / per['stored']:.2f}x the stored ones per posting")


if __name__ == "__main__":
    main()
