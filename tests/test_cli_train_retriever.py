"""`ragcli train retriever` through the real CLI, on a tiny local embedding model (tests/tinymodels.py)
and a small judged corpus: the loss falls and the training pairs rank better, a seed gives the same
weights, overlapping evaluation questions are refused, and the output is a model folder that
`ragcli index --dense --embedding-model` (int8) and `ragcli query -r dense` use."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from clihelpers import invoke
from conftest import NEEDS_CUDA
from tinymodels import build_tiny_embedder

from ragcli.errors import ExitCode
from ragcli.retrieval.embedder import Embedder, EmbeddingSettings
from ragcli.training.output import MARKER

DOCS = {
    "d1": ("Waggle dance", "A forager dances on the comb to tell her sisters the direction of the flowers."),
    "d2": ("Varroa", "Varroa mites feed on bees and spread viruses through the colony."),
    "d3": ("Beeswax", "Worker bees make wax from glands under the abdomen to build the comb."),
    "d4": ("Propolis", "Bees collect resin from trees and seal small gaps in the hive with propolis."),
    "d5": ("Swarming", "In spring the old queen leaves with half of the workers to found a new colony."),
    "d6": ("Honey", "Nectar is dried by fanning and stored in capped cells as honey for the winter."),
    "d7": ("Castes", "A colony has one queen, thousands of workers and some drones in summer."),
    "d8": ("Thermoregulation", "The cluster keeps the brood nest warm by shivering flight muscles."),
}
QUESTIONS = [
    ("q1", "How do bees tell each other where the flowers are?", "d1"),
    ("q2", "Which mite harms the colony?", "d2"),
    ("q3", "Where does the wax come from?", "d3"),
    ("q4", "What do bees seal gaps with?", "d4"),
    ("q5", "Why does the old queen leave in spring?", "d5"),
    ("q6", "How is nectar turned into honey?", "d6"),
    ("q7", "Who lives in a colony?", "d7"),
    ("q8", "How do bees keep the brood warm?", "d8"),
]
FAST = ("--epochs", "4", "--batch-size", "4", "--lr", "1e-3", "--validation", "0", "--max-seq-length", "64")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_embedder(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(qa.jsonl, index of the documents)."""
    root = tmp_path_factory.mktemp("judged")
    corpus = root / "corpus"
    corpus.mkdir()
    lines = [json.dumps({"id": i, "title": t, "text": x}) for i, (t, x) in DOCS.items()]
    (corpus / "docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    qa = root / "qa.jsonl"
    qa.write_text("".join(json.dumps({"id": i, "question": q, "relevant": [d]}) + "\n" for i, q, d in QUESTIONS))
    result = invoke("index", str(corpus), "--index", str(root / "index"))
    assert result.exit_code == 0, result.output
    return qa, root / "index"


def train(tiny: Path, qa: Path, index: Path, output: Path, *extra: str) -> dict:
    result = invoke(
        "train", "retriever", str(qa), "--index", str(index), "--output", str(output),
        "--embedding-model", str(tiny), *FAST, *extra, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def folder_state(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative name → bytes): what a refused run must leave as it was."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def mean_reciprocal_rank(model: Path) -> float:
    """How well `model` ranks each training question's document among all the documents."""
    embedder = Embedder(EmbeddingSettings(model=str(model), precision="fp32"))
    docs = embedder.embed([f"{t}\n{x}" for t, x in DOCS.values()])
    questions = embedder.embed([q for _, q, _ in QUESTIONS])
    ids = list(DOCS)
    total = 0.0
    for vector, (_, _, relevant) in zip(questions, QUESTIONS):
        order = np.argsort(-(docs @ vector), kind="stable")
        total += 1 / (1 + [ids[i] for i in order].index(relevant))
    return total / len(QUESTIONS)


def weights(folder: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(folder / "model.safetensors"))


def test_training_lowers_the_loss_and_ranks_the_training_pairs_better(
    tiny: Path, judged: tuple[Path, Path], tmp_path: Path
) -> None:
    qa, index = judged
    report = train(tiny, qa, index, tmp_path / "model")
    losses = [epoch["loss"] for epoch in report["epochs"]]
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert report["examples"] == len(QUESTIONS) and report["best_epoch"] == 4
    assert mean_reciprocal_rank(tmp_path / "model") > mean_reciprocal_rank(tiny) + 0.1


def test_the_same_seed_gives_the_same_weights(tiny: Path, judged: tuple[Path, Path], tmp_path: Path) -> None:
    qa, index = judged
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        train(tiny, qa, index, tmp_path / name, "--epochs", "1", "--seed", seed)
    a, b, c = (weights(tmp_path / name) for name in "abc")
    assert all(np.array_equal(a[key], b[key]) for key in a)
    assert any(not np.array_equal(a[key], c[key]) for key in a)


def test_a_validation_slice_picks_the_best_epoch(tiny: Path, judged: tuple[Path, Path], tmp_path: Path) -> None:
    qa, index = judged
    report = train(tiny, qa, index, tmp_path / "model", "--validation", "0.25", "--epochs", "2")
    assert report["validation_queries"] == 2 and report["training_queries"] == 6
    scores = [epoch["validation_ndcg"] for epoch in report["epochs"]]
    assert report["base_validation_ndcg"] is not None and all(s is not None for s in scores)
    assert report["best_epoch"] == 1 + scores.index(max(scores))
    held_out = json.loads((tmp_path / "model" / "ragcli-training.json").read_text())
    assert held_out["epochs"] == report["epochs"]


def test_evaluation_questions_in_the_training_data_are_refused(
    tiny: Path, judged: tuple[Path, Path], tmp_path: Path
) -> None:
    qa, index = judged
    evaluation = tmp_path / "eval.jsonl"
    # another id, the same question in other case and punctuation
    evaluation.write_text(json.dumps({"id": "e1", "question": "which MITE harms the colony"}) + "\n")
    args = ("train", "retriever", str(qa), "--index", str(index), "--output", str(tmp_path / "out"))
    result = invoke(*args, "--embedding-model", str(tiny), "--eval-queries", str(evaluation))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "1 training question(s) are also evaluation questions" in result.output
    assert "Which mite harms the colony?" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
    evaluation.write_text(json.dumps({"id": "q3", "question": "something else entirely"}) + "\n")  # same id
    result = invoke(*args, "--embedding-model", str(tiny), "--eval-queries", str(evaluation))
    assert result.exit_code == ExitCode.BAD_INPUT and "same id 'q3'" in result.output
    report = train(
        tiny, qa, index, tmp_path / "out", "--epochs", "1", "--eval-queries", str(evaluation), "--drop-overlap"
    )
    assert report["dropped_overlap"] == 1 and report["examples"] == len(QUESTIONS) - 1


def test_eval_queries_without_one_question_is_refused_as_evaluate_refuses_it(
    tiny: Path, judged: tuple[Path, Path], tmp_path: Path
) -> None:
    """A --eval-queries file in which no line is a question (here a BEIR queries.jsonl line, which
    `evaluate` does not read as a question either) would check nothing: exit 6, as `evaluate` says."""
    qa, index = judged
    held_out = tmp_path / "heldout.jsonl"
    held_out.write_text(json.dumps({"_id": "h1", "text": "Which mite harms the colony?"}) + "\n")
    refused = invoke("evaluate", str(held_out), "--index", str(index))
    assert refused.exit_code == ExitCode.BAD_INPUT and "no questions to evaluate" in refused.output
    result = invoke(
        "train", "retriever", str(qa), "--index", str(index), "--output", str(tmp_path / "out"),
        "--embedding-model", str(tiny), *FAST, "--eval-queries", str(held_out),
    )  # fmt: skip
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert f"{held_out}: no questions to evaluate: every line was skipped" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def test_a_beir_test_split_is_never_trained_on(tiny: Path, tmp_path: Path) -> None:
    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    docs = [json.dumps({"_id": i, "title": t, "text": x}) for i, (t, x) in DOCS.items()]
    (beir / "corpus.jsonl").write_text("\n".join(docs) + "\n")
    (beir / "queries.jsonl").write_text("".join(json.dumps({"_id": i, "text": q}) + "\n" for i, q, _ in QUESTIONS))
    header = "query-id\tcorpus-id\tscore\n"
    (beir / "qrels" / "train.tsv").write_text(header + "".join(f"{i}\t{d}\t1\n" for i, _, d in QUESTIONS[:6]))
    (beir / "qrels" / "test.tsv").write_text(header + "".join(f"{i}\t{d}\t1\n" for i, _, d in QUESTIONS[5:]))
    args = ("train", "retriever", str(beir), "--output", str(tmp_path / "out"), "--embedding-model", str(tiny))
    result = invoke(*args)  # q6 is judged in both splits
    assert result.exit_code == ExitCode.BAD_INPUT and "same id 'q6'" in result.output
    result = invoke(*args, "--split", "test")
    assert result.exit_code == ExitCode.BAD_INPUT and "3 training question(s)" in result.output
    result = invoke(*args, *FAST, "--epochs", "1", "--drop-overlap", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["training_queries"] == 5


@NEEDS_CUDA
def test_training_on_a_gpu_lowers_the_loss_and_ranks_the_pairs_better(
    tiny: Path, judged: tuple[Path, Path], tmp_path: Path
) -> None:
    qa, index = judged
    report = train(tiny, qa, index, tmp_path / "model", "--device", "cuda")
    losses = [epoch["loss"] for epoch in report["epochs"]]
    assert report["device"] == "cuda" and len(losses) == 4 and losses[-1] < losses[0]
    assert mean_reciprocal_rank(tmp_path / "model") > mean_reciprocal_rank(tiny) + 0.1


def test_the_output_folder_is_a_model_that_index_and_query_use(
    tiny: Path, judged: tuple[Path, Path], tmp_path: Path
) -> None:
    qa, index = judged
    model = tmp_path / "model"
    train(tiny, qa, index, model, "--epochs", "1")
    assert {"config.json", "model.safetensors", "tokenizer.json", "ragcli-training.json"} <= {
        p.name for p in model.iterdir()
    }
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notes.md").write_text("# Varroa\n\nVarroa mites feed on bees.\n")
    dense_index = tmp_path / "dense"
    result = invoke("index", str(corpus), "--index", str(dense_index), "--dense", "--embedding-model", str(model))
    assert result.exit_code == 0, result.output  # int8: the trained folder exports to ONNX like any model
    result = invoke("query", "mites", "--index", str(dense_index), "-r", "dense", "--no-generate", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["hits"][0]["doc_id"] == "notes.md"


def test_only_an_earlier_training_output_is_replaced(tiny: Path, judged: tuple[Path, Path], tmp_path: Path) -> None:
    qa, index = judged
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    result = invoke(
        "train", "retriever", str(qa), "--index", str(index), "--output", str(foreign), "--embedding-model", str(tiny)
    )
    assert result.exit_code == ExitCode.USAGE and "did not train into" in result.output
    assert [p.name for p in foreign.iterdir()] == ["keep.txt"]
    model = tmp_path / "model"
    first = train(tiny, qa, index, model, "--epochs", "1")
    (model / "NOTES.txt").write_text("mine")
    (model / "1_Pooling").mkdir(exist_ok=True)  # a folder of ragcli's, though the base model had none
    listed = json.loads((model / MARKER).read_text())
    (model / MARKER).write_text(json.dumps({**listed, "files": [*listed["files"], "1_Pooling"]}))
    second = train(tiny, qa, index, model, "--epochs", "2")  # an earlier output: ragcli's files replaced
    assert len(first["epochs"]) == 1 and len(second["epochs"]) == 2
    assert (model / "NOTES.txt").read_text() == "mine" and not (model / "1_Pooling").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign", "model"]  # no staging folder left
    before = folder_state(model)
    result = invoke("train", "generator", str(qa), "--output", str(model), "--model", str(tiny))
    assert result.exit_code == ExitCode.USAGE and "not a ragcli generator training output" in result.output
    assert folder_state(model) == before


def test_a_generator_output_is_refused_and_left_as_it_was(
    tiny: Path, judged: tuple[Path, Path], tmp_path: Path
) -> None:
    """`train retriever` never writes into what `train generator` made: its model, its checkpoints and
    the user's files there stay exactly as they were (exit 2, before any work)."""
    qa, index = judged
    generated = tmp_path / "my-gen"
    (generated / "checkpoints" / "checkpoint-2").mkdir(parents=True)
    (generated / "checkpoints" / "checkpoint-2" / "optimizer.pt").write_text("state")
    (generated / "model.safetensors").write_text("weights")
    (generated / "NOTES.txt").write_text("notes")
    (generated / MARKER).write_text(json.dumps({"kind": "generator", "files": ["model.safetensors"]}))
    before = folder_state(generated)
    result = invoke(
        "train", "retriever", str(qa), "--index", str(index), "--output", str(generated),
        "--embedding-model", str(tiny), *FAST,
    )  # fmt: skip
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "a `ragcli train generator` output" in result.output
    assert folder_state(generated) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-gen"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--batch-size", "1", "--batch-size"), ("--lr", "2", "--lr"), ("--device", "tpu", "unknown device")],
)
def test_bad_options_are_refused_before_any_work(
    judged: tuple[Path, Path], tmp_path: Path, option: str, value: str, message: str
) -> None:
    qa, index = judged
    result = invoke(
        "train", "retriever", str(qa), "--index", str(index), "--output", str(tmp_path / "o"), option, value
    )
    assert result.exit_code == ExitCode.USAGE and message in result.output
    assert not (tmp_path / "o").exists()


def test_split_options_that_do_not_apply_are_warnings(judged: tuple[Path, Path], tmp_path: Path) -> None:
    """--split for a qa.jsonl file, and --eval-split without --eval-queries, were silently ignored."""
    qa, index = judged
    args = ("train", "retriever", str(qa), "--index", str(index), "--output", str(tmp_path / "o"))
    missing = ("--embedding-model", str(tmp_path / "no-such-model"))  # stops right after the options
    result = invoke(*args, *missing, "--split", "dev", "--eval-split", "dev")
    assert result.exit_code == ExitCode.MODEL_UNAVAILABLE
    assert "warning: --split is a BEIR folder's qrels split: qa.jsonl has none (ignored)" in result.stderr
    assert "warning: --eval-split is the split of --eval-queries, which is not given (ignored)" in result.stderr
    result = invoke(*args, *missing, "--eval-queries", str(qa), "--eval-split", "dev")
    assert "warning: --eval-split is a BEIR folder's qrels split: qa.jsonl has none (ignored)" in result.stderr
    assert "--split is" not in result.stderr


def test_a_missing_model_is_said_before_any_work(judged: tuple[Path, Path], tmp_path: Path) -> None:
    qa, index = judged
    args = ("train", "retriever", str(qa), "--index", str(index), "--output", str(tmp_path / "o"))
    result = invoke(*args, "--embedding-model", str(tmp_path / "no-such-model"))
    assert result.exit_code == ExitCode.MODEL_UNAVAILABLE and "does not exist" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("kind", "extra", "code", "message"),
    [
        ("t5", (), ExitCode.MODEL_UNAVAILABLE, "encoder-decoder"),
        ("gpt2", ("--max-seq-length", "256"), ExitCode.USAGE, "160 positions"),
    ],
)
def test_a_model_of_the_wrong_kind_is_refused_before_training(
    judged: tuple[Path, Path], tiny_t5: Path, tiny_gpt2: Path, tmp_path: Path, kind: str, extra: tuple, code: int,
    message: str,
) -> None:  # fmt: skip
    qa, index = judged
    model = tiny_t5 if kind == "t5" else tiny_gpt2
    result = invoke(
        "train", "retriever", str(qa), "--index", str(index), "--output", str(tmp_path / "o"),
        "--embedding-model", str(model), "--batch-size", "4", *extra,
    )  # fmt: skip
    assert result.exit_code == code, result.output
    assert message in result.output and str(model) in result.output and "internal error" not in result.output
    assert not (tmp_path / "o").exists()


def test_the_output_files_get_the_umasks_mode(tiny: Path, judged: tuple[Path, Path], tmp_path: Path) -> None:
    import os
    import stat

    qa, index = judged
    umask = os.umask(0o022)
    try:
        train(tiny, qa, index, tmp_path / "model", "--epochs", "1")
    finally:
        os.umask(umask)
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in (tmp_path / "model").rglob("*") if p.is_file()}
    assert "model.safetensors" in modes and set(modes.values()) == {"0o644"}, modes


def test_no_relevant_document_in_the_index_is_a_data_problem(
    tiny: Path, judged: tuple[Path, Path], tmp_path: Path
) -> None:
    _, index = judged
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"id": "q1", "question": "What is it?", "relevant": ["nowhere"]}) + "\n")
    result = invoke(
        "train", "retriever", str(qa), "--index", str(index), "--output", str(tmp_path / "o"),
        "--embedding-model", str(tiny),
    )  # fmt: skip
    assert result.exit_code == ExitCode.BAD_INPUT and "no training pairs" in result.output, result.output
    assert not (tmp_path / "o").exists()


def test_the_current_folder_as_output_gets_the_model_and_stays_that_folder(
    tiny: Path, judged: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--output .` in an empty folder was an internal error once trained (the model lost): it is the
    folder it names, which stays the same folder (a shell's current one), with nothing left beside it."""
    qa, index = judged
    here = tmp_path / "here"
    here.mkdir()
    inode = here.stat().st_ino
    monkeypatch.chdir(here)
    report = train(tiny, qa, index, Path("."), "--epochs", "1")
    assert report["output"] == str(here)
    assert here.stat().st_ino == inode and (here / "model.safetensors").is_file() and (here / MARKER).is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["here"]


@pytest.mark.parametrize("where", ["{qa}/sub", "/proc/ragcli-test/sub"], ids=["under-a-file", "proc"])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(
    judged: tuple[Path, Path], tmp_path: Path, where: str
) -> None:
    """Was found only once trained (exit 12, "File exists"): now exit 2 before the model is even looked
    for (here it does not exist, which would be exit 9)."""
    qa, index = judged
    output = where.format(qa=qa)
    result = invoke(
        "train", "retriever", str(qa), "--index", str(index), "--output", output,
        "--embedding-model", str(tmp_path / "no-such-model"),
    )  # fmt: skip
    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"--output {output}: " in result.stderr and "File exists" not in result.stderr
    assert (
        f"{qa} is a file, not a folder" in result.stderr
        if "{qa}" in where
        else "cannot write in /proc" in result.stderr
    )


def test_a_file_of_the_user_s_named_like_the_new_model_s_is_found_before_training(
    tiny: Path, judged: tuple[Path, Path], tmp_path: Path
) -> None:
    """A name of the new model's that a file of the user's has in an earlier output is exit 12 before
    any epoch (it was found after training, and the trained model deleted); the folder is unchanged."""
    qa, index = judged
    model = tmp_path / "model"
    train(tiny, qa, index, model, "--epochs", "1")
    listed = json.loads((model / MARKER).read_text())
    (model / MARKER).write_text(json.dumps({**listed, "files": [n for n in listed["files"] if n != "tokenizer.json"]}))
    before = folder_state(model)
    result = invoke(
        "train", "retriever", str(qa), "--index", str(index), "--output", str(model),
        "--embedding-model", str(tiny), *FAST,
    )  # fmt: skip
    assert result.exit_code == ExitCode.WRITE_FAILED, result.output
    assert "tokenizer.json there is not ragcli's" in result.stderr and "epoch 1" not in result.stderr
    assert folder_state(model) == before and [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_clash_met_only_when_the_model_moves_in_keeps_the_trained_model(
    tiny: Path, judged: tuple[Path, Path], tmp_path: Path
) -> None:
    """A file of ragcli's that became the user's while the model trained (here: its name left out of
    the marker) stops the swap (exit 12): the output stays as it was, and the trained model is kept
    where it was staged, which the error says (it was deleted, and the training lost)."""
    from ragcli.errors import RagcliError
    from ragcli.training.retriever import RetrieverTrainingSettings, prepare, train_retriever

    qa, index = judged
    output = tmp_path / "model"
    train(tiny, qa, index, output, "--epochs", "1")
    settings = RetrieverTrainingSettings(model=str(tiny), batch_size=4, lr=1e-3, validation=0, max_seq_length=64)
    job = prepare(qa, output, settings, index_dir=index)

    def meanwhile(*_: object) -> None:
        listed = json.loads((output / MARKER).read_text())
        files = [name for name in listed["files"] if name != "tokenizer.json"]
        (output / MARKER).write_text(json.dumps({**listed, "files": files}))

    before = folder_state(output)
    with pytest.raises(RagcliError, match=r"tokenizer\.json there is not ragcli's.*; it is in ") as raised:
        train_retriever(job, settings, on_epoch=meanwhile)
    assert raised.value.exit_code == ExitCode.WRITE_FAILED
    staged = Path(raised.value.message.rsplit("it is in ", 1)[1])
    assert staged.parent == tmp_path and (staged / "model.safetensors").is_file() and (staged / MARKER).is_file()
    changed = folder_state(output)
    assert {k: v for k, v in changed.items() if k != MARKER} == {k: v for k, v in before.items() if k != MARKER}
