"""A model of a kind the command cannot use is exit 9 before any work: an encoder (BERT, a sentence-
embedding model) as the generator, an encoder-decoder (T5) as the embedding model. Read from the
model's config.json where it is on disk; a model loaded from the Hub is checked once its config is."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import invoke
from conftest import REPO

from ragcli.errors import ExitCode

BEES_QA = REPO / "docs" / "bees-qa.jsonl"


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tinymodels import build_tiny_embedder

    return build_tiny_embedder(tmp_path_factory.mktemp("tiny-bert"))


def refused_as_generator(result, model: Path) -> bool:  # type: ignore[no-untyped-def]
    return (
        result.exit_code == ExitCode.MODEL_UNAVAILABLE
        and str(model) in result.stderr
        and "a BertModel does not generate text" in result.stderr
    )


@pytest.mark.parametrize("generator", ["transformers", "auto"])
def test_an_encoder_as_the_generator_is_refused_before_the_index_is_opened(
    encoder: Path, tmp_path: Path, generator: str
) -> None:
    """No index there: a check after opening it would be exit 3, one after loading the model word salad."""
    missing = str(tmp_path / "no-index")
    result = invoke("query", "What is propolis?", "-i", missing, "-g", generator, "--model", str(encoder))
    assert refused_as_generator(result, encoder), result.output
    result = invoke("evaluate", str(BEES_QA), "-i", missing, "-g", generator, "--model", str(encoder))
    assert refused_as_generator(result, encoder), result.output


def test_an_encoder_as_the_tuned_model_of_compare_is_refused_before_any_work(
    encoder: Path, tiny_t5: Path, tmp_path: Path
) -> None:
    result = invoke(
        "evaluate", str(BEES_QA), "-i", str(tmp_path / "no-index"), "--compare",
        "--model", str(tiny_t5), "--tuned-model", str(encoder),
    )  # fmt: skip
    assert refused_as_generator(result, encoder), result.output


def test_the_transformers_generator_checks_the_config_it_loads(encoder: Path) -> None:
    """A Hub model not downloaded before has no config on disk to read first: the loader checks it."""
    from ragcli.errors import ModelUnavailableError
    from ragcli.generation.hf import TransformersGenerator

    with pytest.raises(ModelUnavailableError, match="a BertModel does not generate text"):
        TransformersGenerator(str(encoder))


def refused_as_embedder(result, model: Path) -> bool:  # type: ignore[no-untyped-def]
    return (
        result.exit_code == ExitCode.MODEL_UNAVAILABLE
        and f"embedding model {model} is an encoder-decoder (t5) model" in result.stderr
        and "internal error" not in result.output
        and "--embedding-precision fp32" not in result.output  # no fix that leads to another error
    )


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_an_encoder_decoder_as_the_embedding_model_is_refused_before_any_work(
    tiny_t5: Path, small_index: Path, small_corpus: Path, tmp_path: Path, precision: str
) -> None:
    """evaluate would add dense vectors to the index, index would read the corpus: neither starts."""
    manifest = (small_index / "manifest.json").read_bytes()
    args = ("--embedding-model", str(tiny_t5), "--embedding-precision", precision)
    result = invoke("evaluate", str(BEES_QA), "-i", str(small_index), "-r", "dense", "--no-generate", *args)
    assert refused_as_embedder(result, tiny_t5), result.output
    assert (small_index / "manifest.json").read_bytes() == manifest
    result = invoke("index", str(small_corpus), "-i", str(tmp_path / "new"), "--dense", *args)
    assert refused_as_embedder(result, tiny_t5), result.output
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_the_embedder_checks_the_config_it_loads(
    tiny_t5: Path, precision: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Hub model not downloaded before has no config on disk to read first: its loader checks it."""
    from ragcli.errors import ModelUnavailableError
    from ragcli.retrieval import embedder
    from ragcli.retrieval.embedder import Embedder, EmbeddingSettings

    monkeypatch.setattr(embedder, "check_embedding_model", lambda name: None)  # as for a model not on disk yet
    with pytest.raises(ModelUnavailableError, match=r"is an encoder-decoder \(t5\) model"):
        Embedder(EmbeddingSettings(model=str(tiny_t5), precision=precision))
