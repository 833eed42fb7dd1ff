"""BM25 engines side by side, measured the way a CLI or a server uses them: build once, then query in
fresh query-only processes (load, then query), engines alternated run after run.

    pip install -e ".[bench]"                         # numba, tantivy, pyterrier-pisa (bench only)
    python bench/engines.py build --corpus scifact    # each engine's index, one process per engine
    python bench/engines.py build --corpus wiki100k --engines ragcli,bm25s-numba --runs 3   # builds alternated
    python bench/engines.py query --corpus scifact --runs 3
    python bench/engines.py build --corpus wiki100k && python bench/engines.py query --corpus wiki100k --runs 3
    python bench/engines.py cli --corpus wiki100k     # fresh-process `ragcli query --no-generate`, wall time

How it is fair:
- Same texts ("title\\ntext" of each record, whole records: no chunking) and the same tokens: ragcli's
  English analyzer tokenises everything (in each engine's build, whose time includes it; in each query,
  whose time includes analysing the query text, as ragcli's own `Index.rank` does).
- Same scoring where an engine lets us choose: BM25 with Lucene's idf, k1 = 1.0, b = 0.6 (ragcli's
  default) for ragcli, bm25s and PISA; tantivy's BM25 is fixed at k1 = 1.2, b = 0.75. The top-10 of each
  engine is compared with ragcli's (overlap@10 in the table), so a speed never comes from another answer.
- Query processes: each engine's process loads its index (timed: `load`) and answers every query once,
  one at a time (`single`: median and 90th percentile of the per-query times, first query included),
  then all of them as one batch with 2 threads (`batch`: wall time / queries, after a 2-query warm-up
  batch). One process per engine
  and run; the engine order rotates each run; the table gives the median over runs of each run's
  median, and the spread (min–max over runs). The load average is printed before every run.
- rank_bm25 (pure Python, the reference) answers the first 20 queries only (its per-query time is the
  median of those); it has no on-disk format, so its model is pickled at build and unpickled to load.
- PISA (pyterrier-pisa) is driven through its raw `_pisathon.retrieve` call with pre-tokenised queries
  (no pandas in the timed path), its index built from ragcli's tokens (stemmer and stopwords off),
  with MaxScore and BlockMax-WAND as two engines.

Corpora: scifact (5,183 records, its 300 test queries), wiki100k (100,000 records, the 632 xquad-a
questions), synthetic-1m (bench/bm25_bench.py's recombined wiki100k, the same questions). Output:
bench/out/engines/<corpus>/ (indexes, builds.json, queries-<date>.json) and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bm25_bench import DATASETS, corpus_file, read_records

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "engines"
TOP = 10
K1, B = 1.0, 0.6
RANK_BM25_QUERIES = 20
THREADS = 2
ENGINES = ["ragcli", "bm25s-numpy", "bm25s-numba", "tantivy", "pisa-maxscore", "pisa-bmw", "rank_bm25"]
BUILDS = {"ragcli": "ragcli", "bm25s-numpy": "bm25s", "bm25s-numba": "bm25s", "tantivy": "tantivy"}
BUILDS |= {"pisa-maxscore": "pisa", "pisa-bmw": "pisa", "rank_bm25": "rank_bm25"}


def queries_for(corpus: str) -> list[str]:
    if corpus == "scifact":
        judged = {
            line.split("\t")[0] for line in (DATASETS / corpus / "qrels" / "test.tsv").read_text().splitlines()[1:]
        }
        return [r["text"] for r in read_records(DATASETS / corpus / "queries.jsonl") if str(r["_id"]) in judged]
    return [r["question"] for r in read_records(DATASETS / "xquad-a" / "qa.jsonl")]


def records(corpus: str) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    for record in read_records(corpus_file(corpus)):
        ids.append(str(record["_id"]))
        texts.append(f"{record.get('title') or ''}\n{record['text']}")
    return ids, texts


def analyzer() -> Callable[[str], list[str]]:
    from ragcli.analysis import Analyzer

    return Analyzer()


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


# --- builds (one process each) -------------------------------------------------------------------------
def build_ragcli(corpus: str, work: Path) -> None:
    from ragcli.chunking import ChunkSettings
    from ragcli.indexing.build import build_index
    from ragcli.indexing.settings import BuildSettings

    build_index([corpus_file(corpus)], work, BuildSettings(chunking=ChunkSettings(size=0), rebuild=True))


def build_bm25s(corpus: str, work: Path) -> None:
    import bm25s

    _, texts = records(corpus)
    analyze = analyzer()
    retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
    retriever.index([analyze(t) for t in texts], show_progress=False)
    retriever.save(work, show_progress=False)


def build_tantivy(corpus: str, work: Path) -> None:
    import tantivy

    ids, texts = records(corpus)
    analyze = analyzer()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
    work.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(builder.build(), path=str(work))
    writer = index.writer(heap_size=256_000_000, num_threads=THREADS)
    for doc_id, text in zip(ids, texts):
        writer.add_document(tantivy.Document(id=doc_id, body=" ".join(analyze(text))))
    writer.commit()
    writer.wait_merging_threads()


def build_pisa(corpus: str, work: Path) -> None:
    from collections import Counter

    import pyterrier_pisa

    ids, texts = records(corpus)
    analyze = analyzer()
    index = pyterrier_pisa.PisaIndex(str(work), stemmer="none", stops="none", threads=THREADS, overwrite=True)
    docs = ({"docno": i, "toks": dict(Counter(analyze(t)))} for i, t in zip(ids, texts))
    index.toks_indexer(scale=1.0).index(docs)


def build_rank_bm25(corpus: str, work: Path) -> None:
    import rank_bm25

    ids, texts = records(corpus)
    analyze = analyzer()
    model = rank_bm25.BM25Okapi([analyze(t) for t in texts], k1=K1, b=B)
    work.mkdir(parents=True, exist_ok=True)
    with open(work / "model.pickle", "wb") as out:
        pickle.dump((ids, model), out, protocol=pickle.HIGHEST_PROTOCOL)


BUILDERS = {"ragcli": build_ragcli, "bm25s": build_bm25s, "tantivy": build_tantivy, "pisa": build_pisa}
BUILDERS["rank_bm25"] = build_rank_bm25


# --- query processes -----------------------------------------------------------------------------------
# Each opener loads an index and returns (search one query text → [(doc id, score)], search a batch).
Search = Callable[[str], list[tuple[str, float]]]
Batch = Callable[[list[str]], None]


def open_ragcli(work: Path) -> tuple[Search, Batch]:
    from ragcli.retrieval.index import load_index

    index = load_index(work)

    def one(query: str) -> list[tuple[str, float]]:
        numbers, scores = index.rank(query, TOP)
        return [(index.passages.doc_ids[n], s) for n, s in zip(numbers.tolist(), scores.tolist())]

    return one, lambda queries: index.rank_many(queries, TOP) and None


def open_bm25s(backend: str) -> Callable[[Path], tuple[Search, Batch]]:
    def opener(work: Path) -> tuple[Search, Batch]:
        import bm25s

        model = bm25s.BM25.load(work, mmap=backend == "numpy", load_vocab=True)
        model.backend = backend
        if backend == "numba":
            model.activate_numba_scorer()
        analyze, vocab = analyzer(), model.vocab_dict
        ids = json_ids(work)

        def tokens(query: str) -> list[str]:
            return [t for t in analyze(query) if t in vocab]

        def one(query: str) -> list[tuple[str, float]]:
            toks = tokens(query)
            if not toks:
                return []
            docs, scores = model.retrieve([toks], k=TOP, show_progress=False, n_threads=1)
            return [(ids[d], float(s)) for d, s in zip(docs[0].tolist(), scores[0].tolist()) if s > 0]

        def batch(queries: list[str]) -> None:
            toks = [t for t in (tokens(q) for q in queries) if t]
            model.retrieve(toks, k=TOP, show_progress=False, n_threads=THREADS)

        return one, batch

    return opener


def json_ids(work: Path) -> list[str]:
    """bm25s keeps no ids: the build's record order, re-read (outside the timed part)."""
    return json.loads((work.parent / "ids.json").read_text())


def open_tantivy(work: Path) -> tuple[Search, Batch]:
    from concurrent.futures import ThreadPoolExecutor

    import tantivy

    index = tantivy.Index.open(str(work))
    searcher, schema, analyze = index.searcher(), index.schema, analyzer()

    def one(query: str) -> list[tuple[str, float]]:
        clauses = [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", t)) for t in analyze(query)]
        if not clauses:
            return []
        found = searcher.search(tantivy.Query.boolean_query(clauses), TOP)
        return [(searcher.doc(address)["id"][0], score) for score, address in found.hits]

    def batch(queries: list[str]) -> None:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(one, queries))

    return one, batch


def open_pisa(algorithm: str) -> Callable[[Path], tuple[Search, Batch]]:
    def opener(work: Path) -> tuple[Search, Batch]:
        from collections import Counter

        import numpy as np
        import pyterrier_pisa
        from pyterrier_pisa import _pisathon

        retrieve = pyterrier_pisa.PisaIndex(str(work), stops="none").bm25(k1=K1, b=B, num_results=TOP)
        ctxt, analyze = retrieve._ctxt, analyzer()

        def run(queries: list[str], threads: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
            inp = [(i, {t: float(c) for t, c in Counter(analyze(q)).items()}) for i, q in enumerate(queries)]
            shape = (len(queries) * TOP,)
            qidx, docnos = np.empty(shape, dtype=np.int32), np.empty(shape, dtype=object)
            ranks, scores = np.empty(shape, dtype=np.int32), np.empty(shape, dtype=np.float32)
            size = _pisathon.retrieve(
                ctxt, algorithm, inp, k=TOP, threads=threads, query_weighted=1, pretokenised=True,
                result_qidxs=qidx, result_docnos=docnos, result_ranks=ranks, result_scores=scores,
            )  # fmt: skip
            return size, qidx, docnos, scores

        def one(query: str) -> list[tuple[str, float]]:
            size, _, docnos, scores = run([query], 1)
            return list(zip(docnos[:size].tolist(), scores[:size].tolist()))

        return one, lambda queries: run(queries, THREADS) and None

    return opener


def open_rank_bm25(work: Path) -> tuple[Search, Batch]:
    import numpy as np

    with open(work / "model.pickle", "rb") as handle:
        ids, model = pickle.load(handle)  # our own file, written by build_rank_bm25
    analyze = analyzer()

    def one(query: str) -> list[tuple[str, float]]:
        scores = model.get_scores(analyze(query))
        best = np.argsort(-scores, kind="stable")[:TOP]
        return [(ids[i], float(scores[i])) for i in best.tolist()]

    return one, lambda queries: None


OPENERS: dict[str, Callable[[Path], tuple[Search, Batch]]] = {
    "ragcli": open_ragcli,
    "bm25s-numpy": open_bm25s("numpy"),
    "bm25s-numba": open_bm25s("numba"),
    "tantivy": open_tantivy,
    "pisa-maxscore": open_pisa("maxscore"),
    "pisa-bmw": open_pisa("block_max_wand"),
    "rank_bm25": open_rank_bm25,
}


def query_worker(corpus: str, engine: str) -> dict[str, Any]:
    """In a fresh process: load, answer each query once, then all of them as a batch."""
    queries = queries_for(corpus)
    if engine == "rank_bm25":
        queries = queries[:RANK_BM25_QUERIES]
    started = time.perf_counter()
    one, batch = OPENERS[engine](OUT / corpus / BUILDS[engine] / "index")
    load = time.perf_counter() - started
    times, tops = [], []
    for query in queries:
        t = time.perf_counter()
        tops.append(one(query))
        times.append(time.perf_counter() - t)
    first_ms = times[0] * 1000
    batch_ms = None
    if engine != "rank_bm25":
        batch(queries[:2])  # a batch path's own start (numba compiles it) is not a per-query cost
        t = time.perf_counter()
        batch(queries)
        batch_ms = (time.perf_counter() - t) / len(queries) * 1000
    times.sort()
    return {
        "load_s": load,
        "single_ms": statistics.median(times) * 1000,
        "p90_ms": times[int(0.9 * (len(times) - 1))] * 1000,
        "first_ms": first_ms,
        "batch_ms": batch_ms,
        "queries": len(queries),
        "tops": [[doc for doc, _ in top] for top in tops],
    }


def overlap(ours: list[list[str]], theirs: list[list[str]]) -> float:
    pairs = list(zip(ours, theirs))
    return statistics.mean(len(set(a) & set(b)) / max(len(a), 1) for a, b in pairs if a) if pairs else 0.0


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def child(args: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def cmd_build(corpus: str, engines: list[str], runs: int = 1) -> None:
    """Each engine's index, one process per build; with several runs the builds alternate (the order
    rotates run after run) and builds.json keeps the median build time and peak RSS, with every run's."""
    base = OUT / corpus
    base.mkdir(parents=True, exist_ok=True)
    ids_file = base / "bm25s" / "ids.json"
    builds_file = base / "builds.json"
    builds = json.loads(builds_file.read_text()) if builds_file.exists() else {}
    names = list(dict.fromkeys(BUILDS[e] for e in engines))
    done: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for run in range(runs):
        for name in names[run % len(names) :] + names[: run % len(names)]:
            load = load_average()
            print(f"building {name} on {corpus}, run {run + 1}/{runs} (load {load})", file=sys.stderr, flush=True)
            result = child(["_build", corpus, name])
            result["load"] = load
            done[name].append(result)
            print(json.dumps({name: result}), file=sys.stderr)
    for name, results in done.items():
        builds[name] = {
            "build_s": statistics.median(r["build_s"] for r in results),
            "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in results),
            "size_mb": results[-1]["size_mb"],
            "load": results[-1]["load"],
            "runs": results,
        }
    builds_file.write_text(json.dumps(builds, indent=1))
    if "bm25s" in done:  # bm25s stores row numbers: the query side maps them back to ids
        ids_file.write_text(json.dumps(records(corpus)[0]))
    if runs > 1:
        for name, entry in builds.items():
            if name in done:
                times = " ".join(f"{r['build_s']:.1f}" for r in entry["runs"])
                print(
                    f"{name}: build median {entry['build_s']:.1f} s (runs {times}), peak RSS {entry['peak_rss_mb']:.0f} MB"
                )


def build_worker(corpus: str, name: str) -> dict[str, Any]:
    import shutil

    work = OUT / corpus / name / "index"
    shutil.rmtree(work, ignore_errors=True)
    work.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    BUILDERS[name](corpus, work)
    return {"build_s": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb(), "size_mb": folder_mb(work)}


def cmd_query(corpus: str, engines: list[str], runs: int) -> None:
    results: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    loads = []
    for run in range(runs):
        order = engines[run % len(engines) :] + engines[: run % len(engines)]
        loads.append(load_average())
        print(f"run {run + 1}/{runs}, load average {loads[-1]}: {' '.join(order)}", file=sys.stderr, flush=True)
        for engine in order:
            results[engine].append(child(["_query", corpus, engine]))
    stamp = time.strftime("%Y-%m-%dT%H%M", time.gmtime())
    (OUT / corpus / f"queries-{stamp}.json").write_text(json.dumps({"loads": loads, "results": results}))
    builds_file = OUT / corpus / "builds.json"
    builds = json.loads(builds_file.read_text()) if builds_file.exists() else {}
    print(table(corpus, engines, results, builds, loads))


def spread(values: list[float], fmt: str = "{:.3f}") -> str:
    if not values:
        return "–"
    middle = statistics.median(values)
    return f"{fmt.format(middle)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def table(corpus: str, engines: list[str], results: dict, builds: dict, loads: list[str]) -> str:
    reference = next((r["tops"] for r in results.get("ragcli", []) if "tops" in r), None)
    lines = [
        f"{corpus}: {len(next(iter(results.values())))} runs, load average per run (1/5/15 min): {'; '.join(loads)}",
        "",
        "| engine | single ms/query, median (spread) | p90 ms | batch, 2 threads, ms/query | load s | overlap@10 with ragcli | build s | build peak RSS MB | index MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for engine in engines:
        ok = [r for r in results[engine] if "error" not in r]
        if not ok:
            lines.append(f"| {engine} | failed: {results[engine][0].get('error')} | | | | | | | |")
            continue
        build = builds.get(BUILDS[engine], {})
        batches = [r["batch_ms"] for r in ok if r["batch_ms"] is not None]
        same = f"{overlap(reference[: len(ok[0]['tops'])], ok[0]['tops']):.3f}" if reference else "–"
        note = f" ({ok[0]['queries']} queries)" if engine == "rank_bm25" else ""
        lines.append(
            f"| {engine}{note} | {spread([r['single_ms'] for r in ok])} | {statistics.median(r['p90_ms'] for r in ok):.3f}"
            f" | {spread(batches)} | {statistics.median(r['load_s'] for r in ok):.3f} | {same}"
            f" | {build.get('build_s', float('nan')):.1f} | {build.get('peak_rss_mb', float('nan')):.0f}"
            f" | {build.get('size_mb', float('nan')):.0f} |"
        )
    return "\n".join(lines)


def cmd_cli(corpus: str, runs: int) -> None:
    """Wall time of a fresh `ragcli query "…" --no-generate` process on the corpus's ragcli index."""
    ragcli = str(Path(sys.executable).parent / "ragcli")
    index_dir = OUT / corpus / "ragcli" / "index"
    question = queries_for(corpus)[0]
    walls, cpus = [], []
    command = [ragcli, "query", question, "--no-generate", "--index", str(index_dir)]
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    print(
        f"{corpus}: fresh `ragcli query --no-generate`, {runs} runs, load {load_average()}: wall {spread(walls)} s,"
        f" CPU (user + system) {spread(cpus)} s"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("_build", "_query"):
        worker = build_worker if sys.argv[1] == "_build" else query_worker
        print(json.dumps(worker(sys.argv[2], sys.argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["build", "query", "cli"])
    parser.add_argument("--corpus", default="scifact")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--runs", type=int, default=None, help="query: 3 by default; build: 1")
    args = parser.parse_args()
    engines = [e for e in args.engines.split(",") if e]
    if args.command == "build":
        cmd_build(args.corpus, engines, args.runs or 1)
    elif args.command == "query":
        cmd_query(args.corpus, engines, args.runs or 3)
    else:
        cmd_cli(args.corpus, max(args.runs or 3, 5))


if __name__ == "__main__":
    main()
