"""`ragcli train generator` and `ragcli evaluate --compare` through the real CLI, on the tiny local T5 and
GPT-2 (tests/tinymodels.py): the loss falls, the trained model answers its training questions better
than the base model did, the output folder loads with --model, and training resumes from a checkpoint.

One thread (`--threads 1`): on a loaded machine torch's default threads wait on each other and a tiny
model's step takes many times longer; the results are the same."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
from clihelpers import invoke
from conftest import NEEDS_CUDA, REPO, SAMPLE_CORPUS, WITHOUT_CUDA

from ragcli.training.generator import CHECKPOINTS, MARKER

FAST = ["--threads", "1", "--batch-size", "10", "--quiet"]  # ten questions: one step per epoch
# the least EM on the ten training questions after training (measured over three random tiny models each:
# T5 0.5, 0.4, 0.4 with the README recipe, GPT-2 0.7, 0.7, 0.7); the base models answer none
TUNED_EM = {"t5": 0.3, "gpt2": 0.5}
CONFIGS = ["base closed-book", "base + RAG", "fine-tuned closed-book", "fine-tuned + RAG"]


README = REPO / "README.md"
BEES_QA = REPO / "docs" / "bees-qa.jsonl"  # ten questions about the sample corpus, short answers to memorise


@pytest.fixture
def qa() -> Path:
    return BEES_QA


def recipe() -> list[list[str]]:
    """The `ragcli` lines of the README's RAG-versus-fine-tuning recipe, split as a shell would."""
    block = README.read_text().split("<!-- recipe:", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line)[1:] for line in block.splitlines() if line.startswith("ragcli ")]


def test_the_readme_recipe_runs_and_fine_tuning_raises_em(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's recipe, line by line, in a fresh folder (the tiny T5 built as its first line does)."""
    import torch
    from tinymodels import build_tiny_t5

    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    build_tiny_t5(tmp_path / "tiny-t5")
    paths = {"sample_corpus": str(SAMPLE_CORPUS), "docs/bees-qa.jsonl": str(BEES_QA)}
    lines = [[paths.get(arg, arg) for arg in line] for line in recipe()]
    assert [line[:2] for line in lines] == [
        ["index", str(SAMPLE_CORPUS)],
        ["train", "generator"],
        ["evaluate", str(BEES_QA)],
    ]
    for line in lines:
        result = invoke(*line)
        assert result.exit_code == 0, (line, result.output)
    flat = " ".join(result.stdout.split())
    for label in ("RAG versus fine-tuning", "EM", "F1", "match", "citation", "seconds per", "closed-book", "+ RAG"):
        assert label in flat, label
    marker = json.loads((tmp_path / "tuned-t5" / MARKER).read_text())
    losses = marker["report"]["losses"]
    assert marker["report"]["architecture"] == "seq2seq" and losses[-1] < losses[0] / 2
    configs = {c["name"]: c for c in json.loads(invoke(*lines[-1], "--json").stdout)["configs"]}
    assert list(configs) == CONFIGS
    assert not configs["base closed-book"]["context"] and configs["fine-tuned + RAG"]["context"]
    base_em = configs["base closed-book"]["metrics"]["exact_match"]
    tuned_em = configs["fine-tuned closed-book"]["metrics"]["exact_match"]
    assert base_em == 0.0 and tuned_em >= TUNED_EM["t5"], (base_em, tuned_em)


def train(qa: Path, model: Path, output: Path, *extra: str) -> dict:
    result = invoke(
        "train", "generator", str(qa), "--output", str(output), "--model", str(model), *FAST, *extra, "--json"
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def compare(qa: Path, index: Path, base: Path, tuned: Path, *extra: str):  # type: ignore[no-untyped-def]
    return invoke(
        "evaluate",
        str(qa),
        "--index",
        str(index),
        "--compare",
        "--model",
        str(base),
        "--tuned-model",
        str(tuned),
        "--threads",
        "1",
        "--max-new-tokens",
        "12",
        *extra,
    )


def test_training_a_causal_model_memorises_the_questions(
    qa: Path, sample_index: Path, tiny_gpt2: Path, tmp_path: Path
) -> None:
    report = train(qa, tiny_gpt2, tmp_path / "tuned", "--epochs", "40", "--lr", "1e-2", "--seed", "0")
    assert report["architecture"] == "causal" and report["examples"] == 10 and report["steps"] == 40
    assert len(report["losses"]) == 40 and report["losses"][-1] < report["losses"][0] / 2
    result = compare(qa, sample_index, tiny_gpt2, tmp_path / "tuned", "--json")
    assert result.exit_code == 0, result.output
    configs = {c["name"]: c for c in json.loads(result.stdout)["configs"]}
    base_em = configs["base closed-book"]["metrics"]["exact_match"]
    tuned_em = configs["fine-tuned closed-book"]["metrics"]["exact_match"]
    assert base_em == 0.0 and tuned_em >= TUNED_EM["gpt2"], (base_em, tuned_em)


@NEEDS_CUDA
@pytest.mark.parametrize("name", ["t5", "gpt2"])
def test_training_on_a_gpu_lowers_the_loss_and_the_model_answers_there(
    qa: Path, sample_index: Path, tiny_t5: Path, tiny_gpt2: Path, tmp_path: Path, name: str
) -> None:
    import torch

    model = {"t5": tiny_t5, "gpt2": tiny_gpt2}[name]
    report = train(qa, model, tmp_path / "tuned", "--device", "cuda", "--epochs", "40", "--lr", "1e-2", "--seed", "0")
    expected = "bf16" if torch.cuda.is_bf16_supported() else "fp32" if name == "t5" else "fp16"
    assert report["device"] == "cuda" and report["precision"] == expected
    assert report["losses"][-1] < report["losses"][0] / 2
    result = invoke(
        "query", "How fast does a honeybee fly?", "--index", str(sample_index), "-g", "transformers", "--device",
        "cuda", "--model", str(tmp_path / "tuned"), "--max-new-tokens", "8", "--no-fallback", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["model"] == str(tmp_path / "tuned")


def test_the_trained_folder_answers_queries_with_model(
    qa: Path, sample_index: Path, tiny_gpt2: Path, tmp_path: Path
) -> None:
    train(qa, tiny_gpt2, tmp_path / "tuned", "--epochs", "1")
    result = invoke(
        "query", "How fast does a honeybee fly?", "--index", str(sample_index), "-g", "transformers",
        "--model", str(tmp_path / "tuned"), "--max-new-tokens", "8", "--no-fallback", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["model"] == str(tmp_path / "tuned")


def test_with_context_trains_on_the_retrieved_passages(
    qa: Path, sample_index: Path, tiny_t5: Path, tmp_path: Path
) -> None:
    report = train(
        qa, tiny_t5, tmp_path / "rag", "--with-context", "--index", str(sample_index), "--epochs", "3", "--lr", "3e-2"
    )
    assert report["with_context"] is True and report["losses"][-1] < report["losses"][0]
    marker = json.loads((tmp_path / "rag" / MARKER).read_text())
    assert marker["settings"]["with_context"] is True and marker["report"]["losses"] == report["losses"]


def test_with_context_without_an_index_is_exit_3(qa: Path, tiny_t5: Path, tmp_path: Path) -> None:
    result = invoke(
        "train", "generator", str(qa), "-o", str(tmp_path / "out"), "--model", str(tiny_t5), "--with-context",
        "--index", str(tmp_path / "no-index"),
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    assert not (tmp_path / "out").exists()


def test_lora_trains_adapters_and_saves_a_merged_model(
    qa: Path, sample_index: Path, tiny_gpt2: Path, tmp_path: Path
) -> None:
    report = train(qa, tiny_gpt2, tmp_path / "lora", "--lora", "--lora-rank", "4", "--epochs", "3", "--lr", "3e-2")
    assert report["lora"] is True and report["losses"][-1] < report["losses"][0]
    saved = {p.name for p in (tmp_path / "lora").iterdir()}
    assert "model.safetensors" in saved and "adapter_config.json" not in saved  # merged: a plain model folder
    result = invoke(
        "query", "bees", "--index", str(sample_index), "-g", "transformers", "--model", str(tmp_path / "lora"),
        "--max-new-tokens", "4", "--no-fallback", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_lora_adapters_start_from_the_seed_not_from_what_ran_before(qa: Path, tiny_gpt2: Path, tmp_path: Path) -> None:
    """The same --seed gives the same LoRA run whatever the process's random state was before it."""
    import torch

    losses = []
    for before in (1, 2):
        torch.manual_seed(before)  # as other work in the same process would leave it
        torch.rand(before * 7)
        report = train(qa, tiny_gpt2, tmp_path / f"lora-{before}", "--lora", "--lora-rank", "4", "--epochs", "2")
        losses.append(report["losses"])
    assert losses[0] == losses[1]


def test_resume_continues_from_the_last_checkpoint(qa: Path, tiny_t5: Path, tmp_path: Path) -> None:
    first = train(qa, tiny_t5, tmp_path / "out", "--epochs", "2")
    assert (tmp_path / "out" / CHECKPOINTS / "checkpoint-2").is_dir() and first["resumed_from"] is None
    resumed = train(qa, tiny_t5, tmp_path / "out", "--epochs", "4", "--resume")
    assert resumed["resumed_from"].endswith("checkpoint-2") and resumed["steps"] == 4
    assert resumed["losses"][:2] == first["losses"] and len(resumed["losses"]) == 4
    # epochs may only grow: fewer than the checkpoint has trained would train nothing and record less
    before = folder_state(tmp_path / "out")
    fewer = invoke(
        "train", "generator", str(qa), "-o", str(tmp_path / "out"), "--model", str(tiny_t5), *FAST,
        "--epochs", "3", "--resume",
    )  # fmt: skip
    assert fewer.exit_code == 2 and "checkpoint-4 has trained 4 epoch(s); --epochs 3 is fewer" in fewer.stderr, (
        fewer.output
    )
    assert folder_state(tmp_path / "out") == before
    other = invoke(
        "train", "generator", str(qa), "-o", str(tmp_path / "out"), "--model", str(tiny_t5), *FAST, "--resume", "--lora"
    )
    assert other.exit_code == 2 and "was trained with lora=False" in other.stderr
    # the checkpoint's optimizer and schedule carry the rate: another one would be reported, not used
    faster = invoke(
        "train", "generator", str(qa), "-o", str(tmp_path / "out"), "--model", str(tiny_t5), *FAST,
        "--epochs", "5", "--resume", "--lr", "0.5",
    )  # fmt: skip
    assert faster.exit_code == 2 and "was trained with lr=0.0003" in faster.stderr, faster.output
    # steps per epoch must stay what the checkpoint counted: its step number is read as so many epochs
    smaller = invoke(
        "train", "generator", str(qa), "-o", str(tmp_path / "out"), "--model", str(tiny_t5), *FAST,
        "--epochs", "5", "--resume", "--batch-size", "4",
    )  # fmt: skip
    assert smaller.exit_code == 2 and "was trained with batch_size=10" in smaller.stderr, smaller.output
    # the Trainer restores the checkpoint's random state: another --seed would be recorded, not used
    reseeded = invoke(
        "train", "generator", str(qa), "-o", str(tmp_path / "out"), "--model", str(tiny_t5), *FAST,
        "--epochs", "5", "--resume", "--seed", "7",
    )  # fmt: skip
    assert reseeded.exit_code == 2 and "was trained with seed=0" in reseeded.stderr, reseeded.output
    more = tmp_path / "more.jsonl"
    extra = {"question": "What colour is propolis?", "answers": ["brown"]}
    more.write_text(qa.read_text() + json.dumps(extra) + "\n")
    grown = invoke(
        "train", "generator", str(more), "-o", str(tmp_path / "out"), "--model", str(tiny_t5), *FAST,
        "--epochs", "5", "--resume",
    )  # fmt: skip
    assert grown.exit_code == 2, grown.output
    assert "trained at 1 step(s) per epoch" in grown.stderr and "11 questions with answers" in grown.stderr
    again = train(qa, tiny_t5, tmp_path / "out", "--epochs", "4")  # without --resume: from the start, same seed
    assert again["resumed_from"] is None and len(again["losses"]) == 4 and again["losses"][0] == first["losses"][0]


def test_resume_knows_a_model_folder_by_where_it_is_not_by_how_it_is_typed(
    qa: Path, tiny_t5: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record names a local model folder by its absolute path: `./tiny-t5/`, or `../tiny-t5` from
    another folder, resume what `tiny-t5` trained; another folder named `tiny-t5` is refused. A record
    written before (a relative name) is compared with --model as typed, as it was."""
    shutil.copytree(tiny_t5, tmp_path / "tiny-t5")
    monkeypatch.chdir(tmp_path)
    args = ("train", "generator", str(qa), *FAST, "--json")
    first = invoke(*args, "-o", "out", "--model", "tiny-t5", "--epochs", "1")
    assert first.exit_code == 0, first.output
    marker = json.loads((tmp_path / "out" / MARKER).read_text())
    assert marker["settings"]["model"] == str((tmp_path / "tiny-t5").resolve())
    again = invoke(*args, "-o", "out", "--model", "./tiny-t5/", "--epochs", "2", "--resume")
    assert again.exit_code == 0, again.output
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    there = invoke(*args, "-o", "../out", "--model", "../tiny-t5", "--epochs", "3", "--resume")
    assert there.exit_code == 0 and json.loads(there.stdout)["steps"] == 3, there.output
    shutil.copytree(tiny_t5, tmp_path / "elsewhere" / "tiny-t5")  # the same name, another model
    other = invoke(*args, "-o", "../out", "--model", "tiny-t5", "--epochs", "4", "--resume")
    assert other.exit_code == 2 and f"was trained with model='{tmp_path.resolve()}" in other.stderr, other.output
    marker = json.loads((tmp_path / "out" / MARKER).read_text())
    marker["settings"]["model"] = "tiny-t5"  # as ragcli recorded it before
    (tmp_path / "out" / MARKER).write_text(json.dumps(marker))
    monkeypatch.chdir(tmp_path)
    old = invoke(*args, "-o", "out", "--model", "tiny-t5", "--epochs", "4", "--resume")
    assert old.exit_code == 0, old.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--resume"], "holds no checkpoint"),
        pytest.param(
            ["--device", "cuda"],
            "no CUDA device is available",
            marks=WITHOUT_CUDA,
        ),
        (["--device", "tpu"], "unknown device"),
        (["--lr", "5"], "--lr must be between 0 and 1"),
        (["--answer-style", "poem"], "unknown answer style"),
    ],
)
def test_bad_options_fail_before_any_training(
    qa: Path, tiny_t5: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = invoke("train", "generator", str(qa), "-o", str(tmp_path / "out"), "--model", str(tiny_t5), *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_folder_ragcli_did_not_make_is_refused(qa: Path, tiny_t5: Path, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = invoke("train", "generator", str(qa), "-o", str(tmp_path / "mine"), "--model", str(tiny_t5))
    assert result.exit_code == 2 and "not a ragcli generator training output" in result.stderr
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_bad_qa_lines_are_listed_and_counted_as_evaluate_does(qa: Path, tiny_t5: Path, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(qa.read_text() + "garbage\n" + json.dumps({"question": "Who?"}) + "\n")
    args = ("train", "generator", str(mixed), "-o", str(tmp_path / "out"), "--model", str(tiny_t5))
    result = invoke(*args, "--threads", "1", "--batch-size", "10", "--epochs", "1", "--json")
    assert result.exit_code == 0, result.output
    assert f"skipped {mixed}:11: invalid JSON" in result.stderr
    report = json.loads(result.stdout)
    assert report["examples"] == 10 and report["skipped"] == 2  # the bad line and the question without answers


def test_questions_without_answers_are_bad_input(tiny_t5: Path, tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"question": "what?"}\n')
    result = invoke("train", "generator", str(qa), "-o", str(tmp_path / "out"), "--model", str(tiny_t5))
    assert result.exit_code == 6 and "no question has an answer" in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--compare"], "--compare needs --tuned-model"),
        (["--tuned-model", "x"], "only used with --compare"),
        (["--compare", "--tuned-model", "x", "-r", "bm25,tfidf"], "one retriever"),
        (["--compare", "--tuned-model", "x", "--no-generate"], "drop --no-generate"),
        (["--compare", "--tuned-model", "x", "-g", "extractive"], "-g extractive loads neither"),
        (["--compare", "--tuned-model", "x", "--no-context"], "has closed-book columns already: drop --no-context"),
    ],
)
def test_compare_options_are_checked_first(qa: Path, sample_index: Path, args: list[str], message: str) -> None:
    result = invoke("evaluate", str(qa), "--index", str(sample_index), *args)
    assert result.exit_code == 2 and message in result.stderr, result.output


def folder_state(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative name → bytes): what a run must leave as it was."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fault", ["interrupted", "disk full"])
def test_a_failed_or_interrupted_run_leaves_the_previous_model(
    qa: Path, tiny_t5: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """Training again into the same folder writes beside it and swaps at the end: Ctrl-C or a failure
    leaves the previous model (and its checkpoints) exactly as it was, and nothing beside it."""
    import transformers

    train(qa, tiny_t5, tmp_path / "out", "--epochs", "1")
    before = folder_state(tmp_path / "out")
    if fault == "interrupted":

        def stop(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(transformers.Trainer, "train", stop)
    else:

        def full(*args: object, **kwargs: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(transformers.PreTrainedModel, "save_pretrained", full)
    result = invoke("train", "generator", str(qa), "-o", str(tmp_path / "out"), "--model", str(tiny_t5), *FAST)
    assert result.exit_code == (130 if fault == "interrupted" else 12), result.output
    assert folder_state(tmp_path / "out") == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left


def test_files_the_user_put_in_the_output_folder_are_kept(qa: Path, tiny_t5: Path, tmp_path: Path) -> None:
    train(qa, tiny_t5, tmp_path / "out", "--epochs", "1")
    (tmp_path / "out" / "notes.txt").write_text("mine")
    train(qa, tiny_t5, tmp_path / "out", "--epochs", "1")
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_model_that_cannot_generate_is_exit_9_before_training(qa: Path, tmp_path: Path) -> None:
    from tinymodels import build_tiny_embedder

    encoder = build_tiny_embedder(tmp_path / "bert")
    result = invoke("train", "generator", str(qa), "-o", str(tmp_path / "out"), "--model", str(encoder), *FAST)
    assert result.exit_code == 9, result.output
    assert str(encoder) in result.stderr and "BertModel" in result.stderr and "internal error" not in result.output
    assert not (tmp_path / "out").exists()


def test_quiet_prints_nothing(qa: Path, tiny_t5: Path, tmp_path: Path) -> None:
    result = invoke(
        "train", "generator", str(qa), "-o", str(tmp_path / "out"), "--model", str(tiny_t5), *FAST,
        "--epochs", "2", env={"RAGCLI_PROGRESS_INTERVAL": "0"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and result.stderr == ""


def test_the_output_files_get_the_umasks_mode(qa: Path, tiny_t5: Path, tmp_path: Path) -> None:
    import os
    import stat

    umask = os.umask(0o022)
    try:
        train(qa, tiny_t5, tmp_path / "out", "--epochs", "1")
    finally:
        os.umask(umask)
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in (tmp_path / "out").iterdir() if p.is_file()}
    assert "model.safetensors" in modes and set(modes.values()) == {"0o644"}, modes


def test_resume_skips_an_incomplete_checkpoint(qa: Path, tiny_t5: Path, tmp_path: Path) -> None:
    """Ctrl-C while a checkpoint is saved leaves it without its trainer state, or with a file cut short
    (here empty): --resume continues from the last complete one and says so; with none complete it is
    exit 2."""
    train(qa, tiny_t5, tmp_path / "out", "--epochs", "2")
    (tmp_path / "out" / CHECKPOINTS / "checkpoint-2" / "trainer_state.json").unlink()
    args = ("train", "generator", str(qa), "-o", str(tmp_path / "out"), "--model", str(tiny_t5), *FAST)
    result = invoke(*args, "--epochs", "3", "--resume", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["resumed_from"].endswith("checkpoint-1")
    assert "checkpoint-2 is incomplete" in result.stderr
    (tmp_path / "out" / CHECKPOINTS / "checkpoint-3" / "trainer_state.json").write_bytes(b"")
    result = invoke(*args, "--epochs", "4", "--resume", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["resumed_from"].endswith("checkpoint-2")
    assert "checkpoint-3 is incomplete" in result.stderr
    for checkpoint in (tmp_path / "out" / CHECKPOINTS).iterdir():
        (checkpoint / "scheduler.pt").unlink()
    result = invoke(*args, "--epochs", "5", "--resume")
    assert result.exit_code == 2 and "no complete checkpoint" in result.stderr, result.output


def test_the_current_folder_as_output_gets_the_model(
    qa: Path, tiny_t5: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--output .` in an empty folder was an internal error once trained (the model lost)."""
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    report = train(qa, tiny_t5, Path("."), "--epochs", "1")
    assert report["output"] == str(here) and (here / "model.safetensors").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["here"]  # no staging folder left beside it


@pytest.mark.parametrize("where", ["{qa}/sub", "/proc/ragcli-test/sub"], ids=["under-a-file", "proc"])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(qa: Path, tmp_path: Path, where: str) -> None:
    """Was found only once the model had loaded (exit 12): now exit 2 before the model is looked for
    (here it does not exist, which would be exit 9)."""
    output = where.format(qa=qa)
    result = invoke("train", "generator", str(qa), "-o", output, "--model", str(tmp_path / "no-such-model"), *FAST)
    assert result.exit_code == 2, result.output
    assert f"--output {output}: " in result.stderr
    assert (
        f"{qa} is a file, not a folder" in result.stderr
        if "{qa}" in where
        else "cannot write in /proc" in result.stderr
    )
