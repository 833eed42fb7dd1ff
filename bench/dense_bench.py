"""Dense retrieval speed: embedding throughput (fp32 vs int8, plain vs length-sorted batches) and
query latency at 100,000 passages.

    python bench/dense_bench.py [--passages 400] [--runs 3]

Embedding runs on SciFact passages (title + text, 256 tokens), side by side, medians of the runs.
Query latency embeds each of 200 SciFact claims and searches 100,000 stored float16 vectors (random
unit vectors: the cost of an exact inner-product search does not depend on the values).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATASETS = ROOT.parent / "shared" / "datasets"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    from ragcli.retrieval.dense import Embedder, EmbeddingSettings, inner_product_top
    from ragcli.retrieval.sparse import top_k

    records = [json.loads(line) for line in (DATASETS / "scifact" / "corpus.jsonl").open()][: options.passages]
    texts = [f"{r['title']}\n{r['text']}" for r in records]
    embedders = {
        "fp32": Embedder(EmbeddingSettings(precision="fp32")),
        "int8": Embedder(EmbeddingSettings(precision="int8")),
    }
    rates: dict[str, list[float]] = {f"{name}, length-sorted": [] for name in embedders}
    rates["fp32, corpus order (plain)"] = []
    for _ in range(options.runs):
        for name, embedder in embedders.items():
            started = time.perf_counter()
            embedder.embed(texts)
            rates[f"{name}, length-sorted"].append(len(texts) / (time.perf_counter() - started))
        started = time.perf_counter()
        plain = embedders["fp32"]
        for i in range(0, len(texts), plain.settings.batch_size):  # batches in corpus order: the baseline
            plain.embed(texts[i : i + plain.settings.batch_size])
        rates["fp32, corpus order (plain)"].append(len(texts) / (time.perf_counter() - started))
    baseline = statistics.median(rates["fp32, corpus order (plain)"])
    print(f"| embedding ({len(texts)} SciFact passages, batch 32) | passages/s (median of {options.runs}) | vs plain fp32 |")
    print("| --- | ---: | ---: |")
    for name, values in rates.items():
        print(f"| {name} | {statistics.median(values):.1f} | {statistics.median(values) / baseline:.2f}× |")
    fp32, int8 = embedders["fp32"].embed(texts[:100]), embedders["int8"].embed(texts[:100])
    print(f"\nint8 vs fp32 embeddings of the same passages: mean cosine {float(np.mean(np.sum(fp32 * int8, axis=1))):.4f}")

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((100_000, embedders["int8"].dimensions)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors.astype(np.float16).astype(np.float32)  # stored as float16, searched as float32 (as DenseRetriever)
    id_rank = np.arange(len(vectors))
    claims = [json.loads(line)["text"] for line in (DATASETS / "scifact" / "queries.jsonl").open()][:200]
    for name, embedder in embedders.items():
        embed_times, search_times = [], []
        for claim in claims:
            started = time.perf_counter()
            query = embedder.embed([claim])[0]
            middle = time.perf_counter()
            top_k(*inner_product_top(vectors, query), 10, id_rank)
            embed_times.append(middle - started)
            search_times.append(time.perf_counter() - middle)
        print(f"query at 100,000 passages, {name}: embed {statistics.median(embed_times) * 1000:.1f} ms + "
              f"search {statistics.median(search_times) * 1000:.1f} ms (medians of {len(claims)})")


if __name__ == "__main__":
    main()
