"""A model of a kind the command cannot use is exit 9 before any work: an encoder (BERT, a sentence-
embedding model) as the generator, an encoder-decoder (T5) as the embedding model. Read from the
model's config.json where it is on disk; a model loaded from the Hub is checked once its config is."""

from __future__ import annotations

import json
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
        and "does not generate text: its config.json names architecture BertModel, not a causal" in result.stderr
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

    with pytest.raises(ModelUnavailableError, match="names architecture BertModel, not a causal"):
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


def test_a_librarys_coloured_error_is_one_clean_line() -> None:
    from ragcli.terminal_text import first_line

    exported = RuntimeError("Failed to export. \x1b[96mThis is step 1/3\x1b[0m of exporting\n\nNext steps: …")
    assert first_line(exported) == "Failed to export. This is step 1/3 of exporting"
    assert first_line(OSError()) == "OSError"  # no text: its kind, never an IndexError


def test_errors_from_libraries_are_printed_without_their_colour_codes(
    encoder: Path, small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """torch.export colours its messages; printed escaped they read `\\x1b[96m` in the error line."""
    from ragcli import cli
    from ragcli.retrieval import quantized

    def export(source: str, path: Path) -> None:
        raise RuntimeError("Failed to export the model. \x1b[96mThis is step 1/3\x1b[0m of exporting\nNext steps:")

    monkeypatch.setenv("RAGCLI_CACHE", str(tmp_path / "cache"))  # no int8 copy of the model built before
    monkeypatch.setattr(quantized, "_export", export)
    result = invoke(
        "index", str(small_corpus), "-i", str(tmp_path / "idx"), "--dense", "--embedding-model", str(encoder)
    )
    assert result.exit_code == ExitCode.MODEL_UNAVAILABLE, result.output
    assert "Failed to export the model. This is step 1/3 of exporting (use" in result.stderr

    def bug(name: str) -> None:
        raise ValueError("\x1b[31mred\x1b[0m alert")

    monkeypatch.setattr(cli, "_check_retriever", bug)
    result = invoke("query", "bees", "-i", str(tmp_path / "idx"), "--no-generate")
    assert result.exit_code == ExitCode.FAILURE and "internal error: ValueError: red alert (" in result.stderr


def copy_of(model: Path, folder: Path) -> Path:
    import shutil

    return Path(shutil.copytree(model, folder))


def test_damaged_weights_are_exit_9_with_the_sources_still_printed(
    tiny_t5: Path, sample_index: Path, tmp_path: Path
) -> None:
    """A truncated model.safetensors (a copy cut short) raises safetensors' own error, no OSError: it
    was an internal error, exit 1, with nothing on stdout."""
    import json

    damaged = copy_of(tiny_t5, tmp_path / "damaged")
    weights = damaged / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    query = ("query", "Why does honey not ferment?", "-i", str(sample_index), "-k", "2", "--model", str(damaged))
    result = invoke(*query, "--json")
    assert result.exit_code == ExitCode.MODEL_UNAVAILABLE, result.output
    assert f"cannot load model {damaged}: its .safetensors weights file is damaged or incomplete" in result.stderr
    record = json.loads(result.stdout)
    assert record["answer"] is None and "damaged" in record["error"] and len(record["sources"]) == 2
    output = tmp_path / "tuned"
    result = invoke("train", "generator", str(BEES_QA), "--output", str(output), "--model", str(damaged), "--quiet")
    assert result.exit_code == ExitCode.MODEL_UNAVAILABLE, result.output
    assert "weights file is damaged or incomplete" in result.stderr and "internal error" not in result.output


def refused_before_any_work(result, message: str) -> bool:  # type: ignore[no-untyped-def]
    return result.exit_code == ExitCode.MODEL_UNAVAILABLE and message in result.stderr and not result.stdout


@pytest.mark.parametrize(
    ("removed", "added", "message"),
    [
        (["tokenizer.json", "tokenizer_config.json"], {}, "has no tokenizer files"),
        (["tokenizer.json"], {}, "has no tokenizer files"),  # its config names a class that reads tokenizer.json
        (["config.json"], {}, "has no config.json"),
        (["config.json"], {"adapter_config.json": '{"peft_type": "LORA"}'}, "holds only a LoRA adapter"),
    ],
)
def test_a_folder_that_is_not_a_whole_model_is_refused_before_any_work(
    tiny_t5: Path, tmp_path: Path, removed: list[str], added: dict[str, str], message: str
) -> None:
    """Without tokenizer files transformers builds an empty tokenizer (every word <unk>) that a query
    answered and training trained on; without config.json it said "Unrecognized model". No index
    there: a check after opening it would be exit 3."""
    model = copy_of(tiny_t5, tmp_path / "model")
    for name in removed:
        (model / name).unlink()
    for name, text in added.items():
        (model / name).write_text(text)
    missing = str(tmp_path / "no-index")
    result = invoke("query", "What is propolis?", "-i", missing, "--model", str(model), "--json")
    assert refused_before_any_work(result, f"model folder {model} {message}"), result.output
    output = tmp_path / "tuned"
    result = invoke("train", "generator", str(BEES_QA), "--output", str(output), "--model", str(model), "--quiet")
    assert refused_before_any_work(result, f"model folder {model} {message}"), result.output
    assert not output.exists()


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_an_embedding_model_without_tokenizer_files_is_refused_before_any_work(
    encoder: Path, small_index: Path, small_corpus: Path, tmp_path: Path, precision: str
) -> None:
    """Only config.json and the weights: transformers built a tokenizer of 5 special tokens, every word
    [UNK], and the index was built "successfully" with every passage at nearly the same vector."""
    model = copy_of(encoder, tmp_path / "model")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (model / name).unlink()
    args = ("--embedding-model", str(model), "--embedding-precision", precision)
    result = invoke("index", str(small_corpus), "-i", str(tmp_path / "new"), "--dense", *args)
    assert refused_before_any_work(result, f"model folder {model} has no tokenizer files"), result.output
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "new").exists()
    manifest = (small_index / "manifest.json").read_bytes()
    result = invoke("evaluate", str(BEES_QA), "-i", str(small_index), "-r", "dense", "--no-generate", *args)
    assert refused_before_any_work(result, f"model folder {model} has no tokenizer files"), result.output
    assert (small_index / "manifest.json").read_bytes() == manifest


def test_an_encoder_whose_config_names_no_architecture_is_refused_by_its_model_type(
    encoder: Path, tmp_path: Path
) -> None:
    """transformers loads such a BERT as BertLMHeadModel, which answers word salad."""
    import json

    model = copy_of(encoder, tmp_path / "bert")
    config = json.loads((model / "config.json").read_text())
    del config["architectures"]
    (model / "config.json").write_text(json.dumps(config))
    result = invoke("query", "What is propolis?", "-i", str(tmp_path / "no-index"), "--model", str(model))
    message = f"model {model} does not generate text: its config.json names model_type bert (an encoder), not"
    assert refused_before_any_work(result, message), result.output


def test_an_architecture_that_generates_no_text_is_refused_saying_what_was_expected(
    tiny_gpt2: Path, tmp_path: Path
) -> None:
    """A custom model's architecture was refused as "a EvilModel does not generate text": no article
    fits every name, and nothing said what would have done."""
    model = copy_of(tiny_gpt2, tmp_path / "evil")
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "architectures": ["EvilModel"]}))
    result = invoke("query", "What is propolis?", "-i", str(tmp_path / "no-index"), "--model", str(model))
    message = (
        f"model {model} does not generate text: its config.json names architecture EvilModel, "
        "not a causal (…ForCausalLM, …LMHeadModel) or seq2seq (…ForConditionalGeneration) language model"
    )
    assert refused_before_any_work(result, message), result.output


def test_a_hub_model_that_cannot_be_had_is_refused_before_torch_is_imported(tmp_path: Path) -> None:
    """Offline, a hub id not in the cache is refused by its name and the cache alone: the same line as
    after importing torch and transformers (~30 s on a slow machine), but at once."""
    import os
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from ragcli.errors import ModelUnavailableError\n"
        "from ragcli.generation.hf import TransformersGenerator\n"
        "try:\n"
        "    TransformersGenerator('someorg/some-model')\n"
        "except ModelUnavailableError as exc:\n"
        "    print(exc.message)\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "RAGCLI_CACHE": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ, **env})
    assert result.stdout.splitlines() == [
        "model someorg/some-model is not in the Hugging Face cache and HF_HUB_OFFLINE is set",
        "False False",
    ], result.stdout + result.stderr


def test_a_model_whose_tokenizer_reads_bytes_has_no_vocabulary_file_and_answers(
    sample_index: Path, tmp_path: Path
) -> None:
    """ByT5's tokenizer saves only tokenizer_config.json (no vocabulary: it reads bytes); such a folder
    was refused as "has no tokenizer files" by query and train generator alike, though it loads."""
    from tinymodels import build_tiny_byt5

    from ragcli.models import check_generator_model

    model = build_tiny_byt5(tmp_path / "byt5")
    check_generator_model(str(model))  # train generator's check, before any work
    args = ("-i", str(sample_index), "-g", "transformers", "--model", str(model), "--max-new-tokens", "3", "--json")
    result = invoke("query", "What is propolis?", *args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sources_in_prompt"] >= 1


def test_a_bin_weights_file_holding_more_than_tensors_is_exit_9_and_runs_nothing(
    tiny_t5: Path, sample_index: Path, tmp_path: Path
) -> None:
    """torch's weights_only load refuses a pickle that calls os.system: that was an internal error
    (exit 1, nothing on stdout) whose text suggested loading it with weights_only=False."""
    import torch

    model = copy_of(tiny_t5, tmp_path / "pickled")
    (model / "model.safetensors").unlink()
    marker = tmp_path / "ran"
    torch.save({"x": RunsCode(f"touch {marker}")}, model / "pytorch_model.bin")
    query = ("query", "Why does honey not ferment?", "-i", str(sample_index), "-k", "2", "--model", str(model))
    result = invoke(*query, "--json")
    assert result.exit_code == ExitCode.MODEL_UNAVAILABLE, result.output
    assert (
        f"cannot load model {model}: its .bin weights file holds objects other than tensors "
        "(refused: loading it could run code) (use a copy of the model with .safetensors weights)"
    ) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "weights_only" not in result.stderr
    record = json.loads(result.stdout)
    assert record["answer"] is None and "other than tensors" in record["error"] and len(record["sources"]) == 2
    assert not marker.exists()


class RunsCode:
    """What a crafted pickle holds: unpickling it runs a shell command."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return os.system, (self.command,)


def without_pad_and_eos(model: Path) -> Path:
    """`model` with neither a pad nor an end-of-sequence token in its tokenizer's config."""
    path = model / "tokenizer_config.json"
    config = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in config.items() if k not in ("pad_token", "eos_token")}))
    return model


def test_a_tokenizer_without_pad_or_eos_token_pads_with_the_configs_token(
    tiny_gpt2: Path, sample_index: Path, tmp_path: Path
) -> None:
    """Batches are padded: without a pad or eos token the tokenizer raised at the first question, an
    internal error (exit 1) with nothing on stdout, after the model had loaded."""
    model = without_pad_and_eos(copy_of(tiny_gpt2, tmp_path / "nopad"))
    query = ("query", "Why does honey not ferment?", "-i", str(sample_index), "-k", "2", "--model", str(model))
    result = invoke(*query, "--max-new-tokens", "3", "--json")
    assert result.exit_code == 0, result.output
    assert "error" not in json.loads(result.stdout)
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "eos_token_id": None, "bos_token_id": None}))
    result = invoke(*query, "--max-new-tokens", "3", "--json")
    assert result.exit_code == ExitCode.MODEL_UNAVAILABLE, result.output
    message = f"cannot use model {model}: its tokenizer has no pad or end-of-sequence token, nor does its config"
    assert message in result.stderr and "internal error" not in result.stderr
    record = json.loads(result.stdout)
    assert record["answer"] is None and "no pad or end-of-sequence token" in record["error"]
    assert len(record["sources"]) == 2


def test_a_max_new_tokens_leaving_no_room_for_the_prompt_is_exit_2_before_any_work(
    tiny_gpt2: Path, tmp_path: Path
) -> None:
    """The tiny GPT-2 reads 160 tokens: 140 of answer left 20 for the prompt, refused only after the
    sources were printed and the model loaded. No index there: a check after opening it is exit 3."""
    missing = str(tmp_path / "no-index")
    message = (
        f"--max-new-tokens 140: model {tiny_gpt2} reads at most 160 tokens, which leaves 20 for the prompt "
        "(it needs 32) (pass --max-new-tokens 128 or less)"
    )
    for command in (
        ("query", "What is propolis?", "-i", missing),
        ("evaluate", str(BEES_QA), "-i", missing),
        ("train", "generator", str(BEES_QA), "--output", str(tmp_path / "tuned")),
    ):
        result = invoke(*command, "--model", str(tiny_gpt2), "--max-new-tokens", "140")
        assert result.exit_code == ExitCode.USAGE and message in result.stderr, result.output
        assert not result.stdout and not (tmp_path / "tuned").exists()


def test_a_model_whose_input_length_is_known_only_once_loaded_names_the_largest_max_new_tokens(
    tiny_gpt2: Path, tmp_path: Path
) -> None:
    """A Hub model's limit may be on disk only once it is loaded: then it is exit 9, naming the
    largest --max-new-tokens that works (which does)."""
    from ragcli.errors import ModelUnavailableError
    from ragcli.generation.base import GenerationOptions
    from ragcli.generation.hf import TransformersGenerator

    with pytest.raises(ModelUnavailableError, match=r"leaves 20 for the prompt .*pass --max-new-tokens 128 or less"):
        TransformersGenerator(str(tiny_gpt2), GenerationOptions(max_new_tokens=140))
    assert TransformersGenerator(str(tiny_gpt2), GenerationOptions(max_new_tokens=128)).max_input_tokens == 32
