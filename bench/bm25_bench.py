"""ragcli vs bm25s vs rank_bm25: build, memory, size, load and query speed on the same corpus, the
same tokens and the same queries, side by side in one run.

    python bench/bm25_bench.py                              # scifact, npl, wiki100k; 3 runs each
    python bench/bm25_bench.py --corpus synthetic-1m --runs 3
    python bench/bm25_bench.py --corpus synthetic-10k --corpus synthetic-100k --corpus synthetic-1m --plot

Every tool gets the texts as "title + text" and ragcli's English analyzer's tokens (ragcli tokenises
inside its own build; bm25s and rank_bm25 get the token lists, and their build time includes
producing them with the same analyzer). ragcli uses the `okapi` variant so that its top-10 can be
checked against rank_bm25's BM25Okapi on the timed queries: speed never comes from another answer.
bm25s uses its default `lucene` method and numpy backend. Each tool runs in its own process, so the
peak RSS is its own. Query latency is the median over the query set; rank_bm25 answers a sample of
the queries where it is too slow (stated in the table).

Corpora: `scifact`, `npl` (their test queries, repeated to 1,000), `wiki100k` and `synthetic-N`
(the 632 xquad-a questions repeated to 1,000). `synthetic-N` recombines wiki100k passages: passage i
is the first half of one random wiki100k passage followed by the second half of another (seed 0), so
its vocabulary and lengths are real Wikipedia's; the first N of the 1,000,000 form `synthetic-N`.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
OUT = ROOT / "bench" / "out"
N_QUERIES = 1000
TOP = 10


# --- data ---------------------------------------------------------------------------------------------
def corpus_file(name: str) -> Path:
    """The corpus as a JSONL(.gz) file with _id/title/text (synthetic ones are generated once)."""
    if name in ("scifact", "npl", "cranfield"):
        return DATASETS / name / "corpus.jsonl"
    if name == "wiki100k":
        return DATASETS / "wiki100k.jsonl.gz"
    if name.startswith("synthetic-"):
        size = parse_size(name.split("-", 1)[1])
        path = OUT / "data" / f"{name}.jsonl"
        if not path.exists():
            write_synthetic(path, size)
        return path
    raise SystemExit(f"unknown corpus {name}")


def parse_size(text: str) -> int:
    text = text.lower()
    factor = 1_000_000 if text.endswith("m") else 1_000 if text.endswith("k") else 1
    return int(float(text.rstrip("mk")) * factor)


def write_synthetic(path: Path, size: int) -> None:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(DATASETS / "wiki100k.jsonl.gz", "rt", encoding="utf-8") as handle:
        passages = [json.loads(line) for line in handle]
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, len(passages), size=(1_000_000, 2))[:size]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        for i, (a, b) in enumerate(pairs.tolist()):
            first, second = passages[a]["text"].split(), passages[b]["text"].split()
            text = " ".join(first[: len(first) // 2] + second[len(second) // 2 :])
            out.write(json.dumps({"_id": f"s{i}", "title": passages[a]["title"], "text": text}) + "\n")
    tmp.rename(path)


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
        for line in handle:
            yield json.loads(line)


def queries_for(name: str) -> list[str]:
    if name in ("scifact", "npl", "cranfield"):
        judged = {line.split("\t")[0] for line in (DATASETS / name / "qrels" / "test.tsv").read_text().splitlines()[1:]}
        texts = [r["text"] for r in read_records(DATASETS / name / "queries.jsonl") if str(r["_id"]) in judged]
    else:
        texts = [r["question"] for r in read_records(DATASETS / "xquad-a" / "qa.jsonl")]
    return (texts * (N_QUERIES // len(texts) + 1))[:N_QUERIES]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_peak_rss_mb() -> float:
    """The largest tokenising worker's peak (joblib's workers are stopped first, so they count)."""
    try:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)
    except Exception:
        pass
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


# --- workers (one process per tool and run) --------------------------------------------------------------
def analyzer_tokens(texts: list[str]) -> list[list[str]]:
    from ragcli.analysis import Analyzer

    analyze = Analyzer()
    return [analyze(t) for t in texts]


def texts_of(path: Path) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    for record in read_records(path):
        ids.append(str(record["_id"]))
        texts.append(f"{record.get('title') or ''}\n{record['text']}")
    return ids, texts


def worker_ragcli(corpus: str, work: Path, sample: int) -> dict[str, Any]:
    from ragcli.chunking import ChunkSettings
    from ragcli.indexing.build import build_index
    from ragcli.indexing.settings import BuildSettings
    from ragcli.retrieval.bm25 import BM25Params
    from ragcli.retrieval.index import load_index

    path = corpus_file(corpus)
    index_dir = work / "ragcli-index"
    settings = BuildSettings(
        chunking=ChunkSettings(size=0), retrievers={"bm25": BM25Params.for_variant("okapi")}, rebuild=True
    )
    started = time.perf_counter()
    report = build_index([path], index_dir, settings)
    build = time.perf_counter() - started
    rss = peak_rss_mb()
    workers = worker_peak_rss_mb()
    queries = queries_for(corpus)
    started = time.perf_counter()
    index = load_index(index_dir)
    index.rank(queries[0], TOP)
    load = time.perf_counter() - started
    single = []
    for query in queries:
        t = time.perf_counter()
        index.rank(query, TOP)
        single.append(time.perf_counter() - t)
    t = time.perf_counter()
    ranked = index.rank_many(queries, TOP)
    batched = (time.perf_counter() - t) / len(queries)
    doc_ids = index.passages.doc_ids
    top = [
        [(doc_ids[n], float(s)) for n, s in zip(numbers.tolist(), scores.tolist())]
        for numbers, scores in ranked[:sample]
    ]
    return {
        "docs": report.documents,
        "build_s": build,
        "peak_rss_mb": rss,
        "worker_rss_mb": workers,
        "size_mb": folder_mb(index_dir),
        "load_s": load,
        "single_ms": median_ms(single),
        "batch_ms": batched * 1000,
        "cli_ms": cli_per_query(index_dir, queries),
        "top": top,
    }


def cli_per_query(index_dir: Path, queries: list[str]) -> float:
    """`ragcli query - --no-generate --json` on all the queries, minus the same with one query."""
    ragcli = str(Path(sys.executable).parent / "ragcli")

    def timed(lines: list[str]) -> float:
        t = time.perf_counter()
        subprocess.run(
            [ragcli, "query", "-", "--no-generate", "--json", "-k", str(TOP), "--index", str(index_dir)],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            check=True,
        )
        return time.perf_counter() - t

    one = statistics.median(timed(queries[:1]) for _ in range(3))
    return (timed(queries) - one) / (len(queries) - 1) * 1000


def worker_bm25s(corpus: str, work: Path, sample: int) -> dict[str, Any]:
    import bm25s

    ids, texts = texts_of(corpus_file(corpus))
    started = time.perf_counter()
    tokens = analyzer_tokens(texts)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    del tokens
    save_dir = work / "bm25s-index"
    retriever.save(save_dir, show_progress=False)
    build = time.perf_counter() - started
    rss = peak_rss_mb()
    del retriever, texts
    from ragcli.analysis import Analyzer

    analyze = Analyzer()
    queries = queries_for(corpus)
    started = time.perf_counter()
    loaded = bm25s.BM25.load(save_dir, mmap=True, show_progress=False, verbosity=0)
    loaded.retrieve([analyze(queries[0])], k=TOP, show_progress=False)
    load = time.perf_counter() - started
    single = []
    for query in queries:  # like ragcli's, a query's time includes analysing it
        t = time.perf_counter()
        loaded.retrieve([analyze(query)], k=TOP, show_progress=False)
        single.append(time.perf_counter() - t)
    t = time.perf_counter()
    loaded.retrieve([analyze(q) for q in queries], k=TOP, show_progress=False)
    batched = (time.perf_counter() - t) / len(queries)
    return {
        "docs": len(ids),
        "build_s": build,
        "peak_rss_mb": rss,
        "size_mb": folder_mb(save_dir),
        "load_s": load,
        "single_ms": median_ms(single),
        "batch_ms": batched * 1000,
    }


def worker_rank_bm25(corpus: str, work: Path, sample: int) -> dict[str, Any]:
    import numpy as np
    import rank_bm25

    ids, texts = texts_of(corpus_file(corpus))
    started = time.perf_counter()
    tokens = analyzer_tokens(texts)
    model = rank_bm25.BM25Okapi(tokens)
    build = time.perf_counter() - started
    rss = peak_rss_mb()
    del tokens, texts
    from ragcli.analysis import Analyzer

    analyze = Analyzer()
    queries = queries_for(corpus)[:sample]
    single, top = [], []
    for text in queries:
        t = time.perf_counter()
        query = analyze(text)
        scores = model.get_scores(query)
        best = np.argsort(-scores, kind="stable")[: TOP + 1]  # one more: a tie across the cut is no mismatch
        single.append(time.perf_counter() - t)
        top.append(
            [(ids[i], float(scores[i])) for i in best if scores[i] != 0 or any(q in model.doc_freqs[i] for q in query)]
        )
    return {
        "docs": len(ids),
        "build_s": build,
        "peak_rss_mb": rss,
        "single_ms": median_ms(single),
        "queries_timed": len(queries),
        "top": top,
    }


WORKERS = {"ragcli": worker_ragcli, "bm25s": worker_bm25s, "rank_bm25": worker_rank_bm25}


def run_worker(tool: str, corpus: str, sample: int) -> dict[str, Any]:
    work = OUT / "work" / f"{corpus}-{tool}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result_file = work / "result.json"
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            tool,
            "--corpus",
            corpus,
            "--sample",
            str(sample),
            "--result",
            str(result_file),
        ],
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    result = json.loads(result_file.read_text())
    shutil.rmtree(work / "ragcli-index", ignore_errors=True)
    shutil.rmtree(work / "bm25s-index", ignore_errors=True)
    return result


# --- comparison ---------------------------------------------------------------------------------------
def same_top10(ours: list, reference: list) -> tuple[int, int]:
    """Queries whose top-10 scores equal rank_bm25's, and ids too wherever a score is not tied (the
    reference holds one extra hit, so a tie across the cut-off is seen as a tie)."""
    close = lambda x, y: abs(x - y) <= 1e-5 * max(1.0, abs(y))  # noqa: E731  (float32 vs float64)
    agree = 0
    for mine, theirs in zip(ours, reference):
        head = theirs[:TOP]
        scores_ok = len(mine) == len(head) and all(close(a[1], b[1]) for a, b in zip(mine, head))
        untied = [a[0] == b[0] for a, b in zip(mine, head) if sum(close(b[1], c[1]) for c in theirs) == 1]
        agree += scores_ok and all(untied)
    return agree, min(len(ours), len(reference))


def summarize(corpus: str, runs: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    keys = ("build_s", "peak_rss_mb", "worker_rss_mb", "size_mb", "load_s", "single_ms", "batch_ms", "cli_ms")
    table: dict[str, Any] = {"corpus": corpus, "runs": len(runs), "tools": {}}
    for tool in runs[0]:
        values = {k: statistics.median(r[tool][k] for r in runs) for k in keys if k in runs[0][tool]}
        values["docs"] = runs[0][tool]["docs"]
        if "queries_timed" in runs[0][tool]:
            values["queries_timed"] = runs[0][tool]["queries_timed"]
        table["tools"][tool] = values
    if "rank_bm25" in runs[0]:
        agree, total = same_top10(runs[0]["ragcli"]["top"], runs[0]["rank_bm25"]["top"])
        table["top10_equal_rank_bm25"] = f"{agree}/{total}"
    return table


def markdown(tables: list[dict[str, Any]]) -> str:
    lines = [
        "| corpus | tool | docs | build s | docs/s | peak RSS MB (+ each worker) | size MB | load+1st query s | ms/query single | ms/query batched | ms/query via CLI |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    fmt = lambda v, spec: "–" if v is None else format(v, spec)  # noqa: E731
    for table in tables:
        for tool, v in table["tools"].items():
            name = tool + (f" ({v['queries_timed']} queries)" if "queries_timed" in v else "")
            lines.append(
                f"| {table['corpus']} | {name} | {v['docs']:,} | {v['build_s']:.1f} | {v['docs'] / v['build_s']:,.0f} | "
                f"{v['peak_rss_mb']:,.0f}{' (+ ' + format(v['worker_rss_mb'], ',.0f') + ')' if v.get('worker_rss_mb') else ''} | {fmt(v.get('size_mb'), '.0f')} | {fmt(v.get('load_s'), '.2f')} | "
                f"{v['single_ms']:.2f} | {fmt(v.get('batch_ms'), '.2f')} | {fmt(v.get('cli_ms'), '.2f')} |"
            )
    lines += [
        "",
        "| corpus | runs | ragcli/bm25s single | ragcli/bm25s batched | rank_bm25/ragcli single | ragcli/bm25s build docs/s | top-10 = rank_bm25 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for table in tables:
        t = table["tools"]
        r, b, rb = t["ragcli"], t.get("bm25s"), t.get("rank_bm25")
        speed = lambda x, y: f"{y / x:.1f}× faster" if x and y else "–"  # noqa: E731
        lines.append(
            f"| {table['corpus']} | {table['runs']} | {speed(r['single_ms'], b and b['single_ms'])} | "
            f"{speed(r['batch_ms'], b and b['batch_ms'])} | {speed(r['single_ms'], rb and rb['single_ms'])} | "
            f"{(b['build_s'] / r['build_s']) if b else 0:.2f}× | {table.get('top10_equal_rank_bm25', '–')} |"
        )
    return "\n".join(lines)


def plot(tables: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.5, 4))
    for tool in ("ragcli", "bm25s", "rank_bm25"):
        points = sorted((t["tools"][tool]["docs"], t["tools"][tool]["single_ms"]) for t in tables if tool in t["tools"])
        if points:
            axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=tool)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("passages")
    axes.set_ylabel("ms per query (median, single query, top-10)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--corpus", action="append", help="scifact, npl, wiki100k, synthetic-N (default: the first three)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sample", type=int, default=100, help="queries rank_bm25 answers (it is slow)")
    parser.add_argument("--tools", default="ragcli,bm25s,rank_bm25")
    parser.add_argument("--no-rank-bm25-above", type=int, default=200_000, help="skip rank_bm25 above this many docs")
    parser.add_argument("--plot", action="store_true", help="write bench/out/latency.png (latency against corpus size)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        corpus = options.corpus[0]
        result = WORKERS[options.worker](corpus, Path(options.result).parent, options.sample)
        Path(options.result).write_text(json.dumps(result))
        return
    corpora = options.corpus or ["scifact", "npl", "wiki100k"]
    tools = options.tools.split(",")
    tables = []
    for corpus in corpora:
        corpus_file(corpus)  # generate synthetic data outside the timed runs
        size = parse_size(corpus.split("-", 1)[1]) if corpus.startswith("synthetic-") else 0
        runs = []
        for run in range(options.runs):
            results = {}
            for tool in tools:  # side by side, interleaved run by run
                if tool == "rank_bm25" and size > options.no_rank_bm25_above:
                    continue
                print(f"[{corpus}] run {run + 1}/{options.runs}: {tool}", file=sys.stderr, flush=True)
                results[tool] = run_worker(tool, corpus, options.sample)
            runs.append(results)
        tables.append(summarize(corpus, runs))
        print(markdown(tables[-1:]), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(tables, indent=1))
    print("\n" + markdown(tables))
    if options.plot:
        plot(tables, OUT / "latency.png")
        print(f"\nplot: {OUT / 'latency.png'}")


if __name__ == "__main__":
    main()
