"""The embedder's batching and precisions: length-sorted batches (a GPU's token budget included) give
back vectors in the input order, chunks spread over workers give the local build's vectors, and the
GPU options are refused cleanly where there is no GPU. Real models (the tiny local BERT); the CUDA tests
run where a GPU is (skipped elsewhere, never faked): vectors embedded there match the CPU's."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from clihelpers import invoke
from conftest import NEEDS_CUDA, WITHOUT_CUDA

from ragcli.errors import ExitCode, InvalidOptionError
from ragcli.retrieval.embedder import (
    CHUNK_BATCHES,
    Embedder,
    EmbeddingSettings,
    embed_spread,
    gpu_token_budget,
    length_batches,
)

pytest.importorskip("torch")

TEXTS = [
    "bees",
    "A honey bee dances to tell the hive where the flowers are, and how far.",
    "Wax comb.",
    "The queen lays eggs in the comb; workers feed the brood with pollen and nectar all summer long "
    "while drones wait for a mating flight and the colony prepares for winter.",
    "Swarming splits a colony in two.",
    "Pollen",
] * 5


@pytest.fixture(scope="module")
def tiny_embedder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from test_dense import build_tiny_embedder

    return build_tiny_embedder(tmp_path_factory.mktemp("tiny-bert"))


class InProcessRunner:
    """A TaskRunner that runs each task here, in order: the Ray runner's contract without a cluster."""

    workers = 2

    def __init__(self) -> None:
        self.tasks = 0
        self.longest: list[int] = []  # each task's longest text, in the order the tasks were sent

    def run(self, tasks: Iterable[tuple[Any, tuple[Any, ...]]], *, gpu: bool = False) -> Iterator[Any]:
        for fn, args in tasks:
            self.tasks += 1
            self.longest.append(max(len(text) for text in args[1]))
            yield fn(*args)


def test_batches_are_length_sorted_and_cover_every_text_once() -> None:
    batches = length_batches(TEXTS, 4)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(TEXTS)))
    assert [len(TEXTS[i]) for i in flat] == sorted(len(t) for t in TEXTS)
    assert all(len(b) == 4 for b in batches[:-1]) and len(batches) == -(-len(TEXTS) // 4)


def test_a_token_budget_caps_each_batch_by_its_longest_text() -> None:
    texts = ["word " * n for n in (1, 2, 3, 50, 60, 200, 400, 5, 7)] * 3
    budget = 120
    batches = length_batches(texts, 1024, budget, max_tokens=256)
    assert sorted(i for b in batches for i in b) == list(range(len(texts)))
    for batch in batches:
        longest = max(min(256, len(texts[i]) // 3 + 2) for i in batch)
        assert len(batch) == 1 or len(batch) * longest <= budget
    assert len(batches) < len(texts)  # short texts still share batches


def test_vectors_come_back_in_input_order_whatever_the_batches(tiny_embedder: Path) -> None:
    embedder = Embedder(EmbeddingSettings(model=str(tiny_embedder), precision="fp32", batch_size=3))
    together = embedder.embed(TEXTS)
    one_by_one = np.vstack([embedder.embed([t]) for t in TEXTS])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    embedder.token_budget = 40  # the GPU path's batching (and its tokenising a batch ahead), on the CPU
    np.testing.assert_allclose(embedder.embed(TEXTS), together, atol=1e-5)
    assert embedder.embed([]).shape == (0, embedder.dimensions)
    reordered = list(reversed(TEXTS))
    np.testing.assert_allclose(embedder.embed(reordered), together[::-1], atol=1e-5)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_chunks_spread_over_workers_give_the_local_vectors(tiny_embedder: Path, precision: str) -> None:
    settings = EmbeddingSettings(model=str(tiny_embedder), precision=precision, batch_size=2)
    texts = [f"{t} {i}" for i, t in enumerate(TEXTS * 3)]
    runner = InProcessRunner()
    spread = embed_spread(runner, settings, texts)
    assert runner.tasks == -(-len(texts) // (2 * CHUNK_BATCHES)) > 1
    local = Embedder(settings).embed(texts)
    assert spread.dtype == np.float32 and np.array_equal(spread, local)  # the same batches: the same bits
    # the longest texts' chunks go first, so the build's last tasks are its quickest
    assert runner.longest == sorted(runner.longest, reverse=True) and runner.longest[0] > runner.longest[-1]


def test_bf16_runs_in_reduced_precision_close_to_fp32(tiny_embedder: Path) -> None:
    fp32 = Embedder(EmbeddingSettings(model=str(tiny_embedder), precision="fp32")).embed(TEXTS)
    bf16 = Embedder(EmbeddingSettings(model=str(tiny_embedder), precision="bf16")).embed(TEXTS)
    cosine = (fp32 * bf16).sum(axis=1)
    assert not np.array_equal(fp32, bf16) and cosine.min() > 0.99
    # fp16 is a GPU precision: on a CPU the same model runs in fp32
    fp16 = Embedder(EmbeddingSettings(model=str(tiny_embedder), precision="fp16")).embed(TEXTS)
    np.testing.assert_array_equal(fp16, fp32)


def test_a_gpu_budget_fits_big_batches_of_full_length_passages() -> None:
    budget = gpu_token_budget(10 * 2**30, hidden_size=384, layers=6, heads=12, max_tokens=256)
    assert budget >= 1024 * 256
    assert gpu_token_budget(2**20, 384, 6, 12, 256) == 256  # never less than one passage
    assert gpu_token_budget(20 * 2**30, 384, 6, 12, 256) > budget


def test_int8_on_a_gpu_is_refused() -> None:
    with pytest.raises(InvalidOptionError, match="int8"):
        EmbeddingSettings(precision="int8", device="cuda")
    with pytest.raises(InvalidOptionError, match="device"):
        EmbeddingSettings(device="tpu")


@WITHOUT_CUDA
def test_device_cuda_without_a_gpu_fails_before_any_work(small_corpus: Path, tmp_path: Path) -> None:
    result = invoke("index", str(small_corpus), "--index", str(tmp_path / "index"), "--dense", "--device", "cuda")
    assert result.exit_code == ExitCode.USAGE
    assert "no CUDA device" in result.output and len(result.output.strip().splitlines()) <= 2
    assert not (tmp_path / "index" / "manifest.json").exists()


def test_without_torch_a_gpu_for_embedding_names_the_extra_and_one_for_the_generator_waits(
    small_corpus: Path, sample_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One check (`models.check_device_present`) serves the embedding's and the generator's --device.
    Without torch, embedding on cuda fails before any work, naming the extra that installs it; the
    generator's --device cuda is left to the generator (the extractive one needs no torch)."""
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` fails, as where it is not installed
    result = invoke("index", str(small_corpus), "--index", str(tmp_path / "index"), "--dense", "--device", "cuda")
    assert result.exit_code == ExitCode.MISSING_EXTRA, result.output
    assert "dense retrieval needs torch" in result.output and "ragcli[dense]" in result.output
    assert not (tmp_path / "index" / "manifest.json").exists()
    result = invoke("query", "waggle dance", "--index", str(sample_index), "-g", "extractive", "--device", "cuda")
    assert result.exit_code == ExitCode.OK, result.output


@NEEDS_CUDA
@pytest.mark.parametrize(("precision", "least_cosine"), [("fp32", 0.99999), ("fp16", 0.999), ("bf16", 0.99)])
def test_a_gpu_embeds_as_the_cpu_does(tiny_embedder: Path, precision: str, least_cosine: float) -> None:
    cpu = Embedder(EmbeddingSettings(model=str(tiny_embedder), precision="fp32")).embed(TEXTS)
    gpu_embedder = Embedder(EmbeddingSettings(model=str(tiny_embedder), precision=precision, device="cuda"))
    assert gpu_embedder.token_budget is not None and gpu_embedder.token_budget >= 1024 * 256  # sized to the GPU
    gpu = gpu_embedder.embed(TEXTS)
    assert gpu.dtype == np.float32 and gpu.shape == cpu.shape
    cosine = (cpu * gpu).sum(axis=1)  # row by row: a vector returned in another text's place would fail
    assert cosine.min() > least_cosine, cosine.min()


@NEEDS_CUDA
def test_an_index_embedded_on_the_gpu_ranks_as_a_cpu_one(
    small_corpus: Path, tiny_embedder: Path, tmp_path: Path
) -> None:
    scores = {}
    for device in ("cpu", "cuda"):
        index = tmp_path / device
        result = invoke(
            "index", str(small_corpus), "--index", str(index), "--dense", "--embedding-model", str(tiny_embedder),
            "--embedding-precision", "fp16", "--device", device,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        result = invoke("query", "honey bees and their hive", "--index", str(index), "-r", "dense", "-k", "50",
                        "--no-generate", "--json")  # fmt: skip
        assert result.exit_code == 0, result.output
        hits = json.loads(result.stdout)["hits"]
        scores[device] = {hit["id"]: hit["score"] for hit in hits}
    assert scores["cuda"].keys() == scores["cpu"].keys() and len(scores["cpu"]) > 1
    # fp16 on the GPU, fp32 on the CPU, both stored as float16: scores within half-precision rounding
    assert max(abs(scores["cuda"][key] - scores["cpu"][key]) for key in scores["cpu"]) < 5e-3
