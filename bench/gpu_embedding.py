"""Embedding on a GPU (`--device cuda`): throughput side by side, and agreement with the CPU's vectors.

    python bench/gpu_embedding.py [--corpus ../shared/datasets/scifact] [--model FOLDER] [--runs 3]

Every document of a BEIR corpus (title + text, 256 tokens), the configurations alternated run after
run, medians and spread of the runs:

- a hand-written PyTorch loop on the GPU: fp16, batches of 32 in corpus order (what a user writes);
- ragcli on the GPU in fp16, bf16 and fp32: length-sorted batches sized to the GPU's free memory;
- ragcli on the CPU in fp32, on a sample only (`--cpu-sample`: the CPU takes minutes on all).

Agreement: each GPU configuration's vectors against the CPU's fp32 vectors of the same sample (cosine
mean and minimum). Needs a CUDA device; prints the GPU, torch's version and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATASETS = ROOT.parent / "shared" / "datasets"

Embed = Callable[[list[str]], np.ndarray]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DATASETS / "scifact", help="a BEIR folder")
    parser.add_argument("--model", default=None, help="an embedding model folder [the packaged all-MiniLM-L6-v2]")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cpu-sample", type=int, default=256, help="documents the CPU configurations embed")
    options = parser.parse_args()
    import torch
    from dense_bench import plain_pytorch  # bench/ is the script's folder, first on sys.path

    from ragcli.retrieval.embedder import Embedder, EmbeddingSettings, default_model_folder

    if not torch.cuda.is_available():
        sys.exit("gpu_embedding.py needs a CUDA device")
    folder = options.model or str(default_model_folder())
    records = [json.loads(line) for line in (options.corpus / "corpus.jsonl").open(encoding="utf-8")]
    texts = [f"{r.get('title', '')}\n{r['text']}" for r in records]
    sample = texts[: options.cpu_sample]

    def ragcli(precision: str, device: str) -> Embed:
        return Embedder(EmbeddingSettings(model=folder, precision=precision, device=device)).embed

    gpu: dict[str, Embed] = {
        "hand-written PyTorch loop, fp16, batches of 32 in corpus order": plain_pytorch(
            folder=folder, device="cuda", half=True
        ),
        "ragcli --device cuda (fp16)": ragcli("fp16", "cuda"),
        "ragcli --device cuda --embedding-precision bf16": ragcli("bf16", "cuda"),
        "ragcli --device cuda --embedding-precision fp32": ragcli("fp32", "cuda"),
    }
    cpu: dict[str, Embed] = {"ragcli --device cpu --embedding-precision fp32": ragcli("fp32", "cpu")}
    for embed in [*gpu.values(), *cpu.values()]:
        embed(texts[:64])  # warm-up: CUDA kernels, caches
    rates: dict[str, list[float]] = {name: [] for name in [*gpu, *cpu]}
    for run in range(options.runs):
        names = list(rates)
        names = names[run % len(names) :] + names[: run % len(names)]  # a different one first each run
        for name in names:
            chosen, embed = (texts, gpu[name]) if name in gpu else (sample, cpu[name])
            started = time.perf_counter()
            embed(chosen)
            rates[name].append(len(chosen) / (time.perf_counter() - started))

    print(f"GPU {torch.cuda.get_device_name()}, torch {torch.__version__}, {os.cpu_count()} CPUs")
    print(f"load average before the table: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(
        f"| {len(texts):,} documents of {options.corpus.name} ({len(sample)} on the CPU) | documents/s, median | spread |"
    )
    print("| --- | ---: | ---: |")
    for name, values in rates.items():
        print(f"| {name} | {statistics.median(values):,.0f} | {min(values):,.0f}–{max(values):,.0f} |")
    reference = cpu["ragcli --device cpu --embedding-precision fp32"](sample)
    print(f"\nagreement with the CPU's fp32 vectors of the same {len(sample)} documents:")
    for name, embed in gpu.items():
        cosines = np.sum(reference * embed(sample), axis=1)
        print(f"- {name}: cosine mean {cosines.mean():.6f}, min {cosines.min():.6f}")
    print(f"\npeak GPU memory allocated: {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")


if __name__ == "__main__":
    main()
