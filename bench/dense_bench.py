"""Dense retrieval speed: embedding throughput side by side, and query latency at 100,000 passages.

    python bench/dense_bench.py [--passages 320] [--runs 3]

Embedding runs on SciFact documents (title + text, 256 tokens, batches of 32), all configurations
interleaved in each run, medians of the runs:

- plain fp32 PyTorch, eager attention, corpus order: the issue's reference set-up (14.5 passages/s);
- plain fp32 PyTorch, SDPA attention (transformers' default), corpus order;
- ragcli fp32 (PyTorch, length-sorted batches);
- ragcli int8 (ONNX Runtime, per-channel int8 weights, length-sorted batches), with the mean cosine
  of its embeddings to fp32's.

Query latency embeds each of 200 SciFact claims and searches 100,000 stored float16 vectors (random
unit vectors: the cost of an exact inner-product search does not depend on the values).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATASETS = ROOT.parent / "shared" / "datasets"


def plain_pytorch(
    attention: str = "sdpa", folder: str | None = None, device: str = "cpu", half: bool = False
) -> Callable[[list[str]], np.ndarray]:
    """What a user writes by hand: AutoModel, batches of 32 in corpus order, mean pooling in numpy
    (`half`: the model in fp16, as on a GPU). bench/gpu_embedding.py runs it on a GPU."""
    import torch
    import transformers

    from ragcli.retrieval.embedder import default_model_folder, mean_pool

    folder = folder or str(default_model_folder())
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder, attn_implementation=attention).eval()
    model = model.to(device=device, dtype=torch.float16 if half else torch.float32)

    def embed(texts: list[str]) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), 32):
                encoded = tokenizer(
                    texts[start : start + 32], padding=True, truncation=True, max_length=256, return_tensors="pt"
                )
                hidden = model(**encoded.to(device)).last_hidden_state.float().cpu().numpy()
                out.append(mean_pool(hidden, encoded["attention_mask"].cpu().numpy()))
        return np.concatenate(out)

    return embed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=320)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    from ragcli.retrieval.base import top_k
    from ragcli.retrieval.dense import inner_product_top
    from ragcli.retrieval.embedder import Embedder, EmbeddingSettings

    records = [json.loads(line) for line in (DATASETS / "scifact" / "corpus.jsonl").open()][: options.passages]
    texts = [f"{r['title']}\n{r['text']}" for r in records]
    embedders = {
        "fp32": Embedder(EmbeddingSettings(precision="fp32")),
        "int8": Embedder(EmbeddingSettings(precision="int8")),
    }
    configurations: dict[str, Callable[[list[str]], np.ndarray]] = {
        "plain fp32 PyTorch, eager attention, corpus order (the issue's reference set-up)": plain_pytorch("eager"),
        "plain fp32 PyTorch, SDPA attention, corpus order": plain_pytorch("sdpa"),
        "ragcli fp32 (PyTorch, length-sorted)": embedders["fp32"].embed,
        "ragcli int8 (ONNX Runtime, length-sorted)": embedders["int8"].embed,
    }
    rates: dict[str, list[float]] = {name: [] for name in configurations}
    for embed in configurations.values():
        embed(texts[:32])  # warm-up
    for _ in range(options.runs):
        for name, embed in configurations.items():
            started = time.perf_counter()
            embed(texts)
            rates[name].append(len(texts) / (time.perf_counter() - started))
    reference = statistics.median(rates[next(iter(rates))])
    print(
        f"| embedding ({len(texts)} SciFact documents, 256 tokens, batch 32) | passages/s (median of {options.runs}) | vs reference set-up |"
    )
    print("| --- | ---: | ---: |")
    for name, values in rates.items():
        print(f"| {name} | {statistics.median(values):.1f} | {statistics.median(values) / reference:.2f}× |")
    fp32, int8 = embedders["fp32"].embed(texts), embedders["int8"].embed(texts)
    cosines = np.sum(fp32 * int8, axis=1)
    print(
        f"\nint8 vs fp32 embeddings of the same {len(texts)} documents: cosine mean {cosines.mean():.4f}, min {cosines.min():.4f}"
    )

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((100_000, embedders["int8"].dimensions)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors.astype(np.float16).astype(
        np.float32
    )  # stored as float16, searched as float32 (as DenseRetriever)
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
        print(
            f"query at 100,000 passages, {name}: embed {statistics.median(embed_times) * 1000:.1f} ms + "
            f"search {statistics.median(search_times) * 1000:.1f} ms (medians of {len(claims)})"
        )


if __name__ == "__main__":
    main()
