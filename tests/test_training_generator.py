"""ragcli.training.generator: training examples are the query-time prompts, and the output folder holds
only what ragcli wrote (the CLI tests in test_cli_train.py train the models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragcli.errors import InvalidOptionError, OutputWriteError
from ragcli.generation.base import GenerationOptions
from ragcli.generation.hf import TransformersGenerator
from ragcli.retrieval.index import load_index
from ragcli.training.generator import CHECKPOINTS, IGNORE, MARKER, _move_in, check_output, complete, encode

QUESTION = "What does the alarm pheromone smell like?"


def test_a_seq2seq_example_is_the_query_time_rag_prompt_and_the_answer(tiny_t5: Path, sample_index: Path) -> None:
    generator = TransformersGenerator(str(tiny_t5), GenerationOptions(device="cpu", max_new_tokens=16))
    hits = load_index(sample_index).search(QUESTION, k=2)
    example = encode(generator, QUESTION, hits, "bananas", 16)
    tokenizer = generator.tokenizer
    prompt = generator.prompt(QUESTION, hits)
    assert prompt.sources_used >= 1 and "[1]" in prompt.text
    assert tokenizer.decode(example["input_ids"], skip_special_tokens=True) == prompt.text
    closed = encode(generator, QUESTION, [], "bananas", 16)
    assert tokenizer.decode(closed["input_ids"], skip_special_tokens=True) == generator.prompt(QUESTION, []).text
    assert example["labels"][-1] == tokenizer.eos_token_id  # the model learns where the answer stops
    assert tokenizer.decode(example["labels"], skip_special_tokens=True) == "bananas"


def test_a_causal_example_learns_only_the_answer_after_the_prompt(tiny_gpt2: Path) -> None:
    generator = TransformersGenerator(str(tiny_gpt2), GenerationOptions(device="cpu", max_new_tokens=16))
    example = encode(generator, QUESTION, [], "bananas", 16)
    tokenizer = generator.tokenizer
    prompt = generator.prompt(QUESTION, [])
    assert prompt.text.startswith("<|user|>")  # the chat template, as generation applies it
    learnt = [i for i, label in enumerate(example["labels"]) if label != IGNORE]
    assert tokenizer.decode(example["input_ids"][: learnt[0]]) == prompt.text  # exactly the query-time prompt
    assert tokenizer.decode(example["labels"][learnt[0] :], skip_special_tokens=True) == "bananas"
    assert example["labels"][-1] == tokenizer.eos_token_id and len(example["labels"]) == len(example["input_ids"])


def test_the_output_folder_must_be_new_empty_or_ragcli_s(tmp_path: Path) -> None:
    check_output(tmp_path / "new", resume=False)
    (tmp_path / "empty").mkdir()
    check_output(tmp_path / "empty", resume=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidOptionError, match="not a folder"):
        check_output(tmp_path / "file", resume=False)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "marker.json").write_text(json.dumps({"kind": "retriever"}))
    (tmp_path / "other" / MARKER).write_text(json.dumps({"kind": "retriever"}))  # another kind of training
    with pytest.raises(InvalidOptionError, match="not a ragcli generator training output"):
        check_output(tmp_path / "other", resume=False)
    with pytest.raises(InvalidOptionError, match="no checkpoint"):
        check_output(tmp_path / "empty", resume=True)


def test_a_new_model_replaces_only_what_the_marker_lists(tmp_path: Path) -> None:
    """The earlier run's files (those its marker lists) give way to the new run's; the user's own files
    in the folder are carried over, and a listed name outside the folder ("../x") is never touched."""
    out = tmp_path / "out"
    (out / CHECKPOINTS / "checkpoint-1").mkdir(parents=True)
    for name in ("model.safetensors", "config.json", "notes.txt"):
        (out / name).write_text("old")
    (out / MARKER).write_text(json.dumps({"kind": "generator", "files": ["model.safetensors", "config.json", "../x"]}))
    (tmp_path / "x").write_text("outside")
    check_output(out, resume=False)  # a ragcli generator output: may be trained into again
    staged = tmp_path / "staged"
    staged.mkdir()
    for name in ("model.safetensors", MARKER):
        (staged / name).write_text("new")
    _move_in(staged, out, in_place=False)
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "model.safetensors", "notes.txt"])
    assert (out / "model.safetensors").read_text() == "new" and (out / "notes.txt").read_text() == "old"
    assert (tmp_path / "x").read_text() == "outside" and not staged.exists()


def test_a_file_of_the_user_s_that_the_new_model_would_overwrite_stops_the_swap(tmp_path: Path) -> None:
    """A name of the user's that the new model also writes (one the earlier run's marker does not list)
    is refused before anything moves: the earlier output stays as it was, the new model where it was
    staged, and the error says where."""
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text(json.dumps({"kind": "generator", "files": ["model.safetensors"]}))
    (out / "model.safetensors").write_text("old")
    (out / "tokenizer.json").write_text("mine")
    staged = tmp_path / "staged"
    staged.mkdir()
    for name in ("model.safetensors", "tokenizer.json", MARKER):
        (staged / name).write_text("new")
    before = {p.name: p.read_text() for p in out.iterdir()}
    with pytest.raises(OutputWriteError, match=r"tokenizer\.json there is not ragcli's.*it is in .*staged"):
        _move_in(staged, out, in_place=False)
    assert {p.name: p.read_text() for p in out.iterdir()} == before
    assert sorted(p.name for p in staged.iterdir()) == sorted(["model.safetensors", "tokenizer.json", MARKER])


def saved_checkpoint(folder: Path) -> Path:
    """A checkpoint's files as the Trainer writes them (safetensors weights, torch's zip archives, JSON)."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir()
    save_file({"weight": torch.zeros(64, 64)}, folder / "model.safetensors")
    for name in ("optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin"):
        torch.save({"state": torch.zeros(256)}, folder / name)
    for name in ("trainer_state.json", "config.json"):
        (folder / name).write_text(json.dumps({"global_step": 2, "log_history": []}))
    return folder


@pytest.mark.parametrize(
    "name", ["trainer_state.json", "config.json", "optimizer.pt", "rng_state.pth", "model.safetensors"]
)
@pytest.mark.parametrize("kept", [0, 0.5, 0.99])
def test_a_checkpoint_file_cut_short_makes_it_incomplete(tmp_path: Path, name: str, kept: float) -> None:
    """Ctrl-C while the Trainer saves can leave a file empty or cut short (not only missing): such a
    checkpoint is incomplete, so --resume skips it rather than failing on it."""
    checkpoint = saved_checkpoint(tmp_path / "checkpoint-2")
    assert complete(checkpoint)
    path = checkpoint / name
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * kept)])
    assert not complete(checkpoint)
