"""Fine-tuning a generator on a user's own question → answer pairs (`ragcli train generator`).

The model is loaded by the very generator that answers at query time (generation/hf.py), and every
training prompt is built by its `prompt()`: closed-book prompts for questions alone, or, with
`with_context`, the retrieved passages fitted exactly as `ragcli query` fits them (RAG fine-tuning).
So a model never meets at inference a prompt shaped differently from the ones it learnt on.

Training is transformers' `Seq2SeqTrainer` / `Trainer` (what no hand-written loop needs to repeat:
checkpoints with optimizer and RNG state, resuming, mixed precision, LoRA models from peft). The output
folder is a plain model folder (safetensors, tokenizer) that `--model DIR` loads; a LoRA adapter is
merged into the base weights before saving, so the folder needs nothing but transformers to load.
The folder holds `ragcli-training.json`, which marks it as ragcli's: only such a folder (or an empty
one) is written into. The model is written into a staging folder beside it and moved in when complete
(ragcli.training.output, as `train retriever` does): training again into the folder keeps the
previous model, and its checkpoints, until the new one is written, and a run that fails or is
interrupted leaves them as they were. Files of the user's in the folder (not in the marker's list)
stay where they are.
"""

from __future__ import annotations

import json
import math
import shutil
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragcli.errors import (
    InputFormatError,
    InvalidOptionError,
    MissingExtraError,
    OutputWriteError,
)
from ragcli.evaluation.datasets import EvalQuery
from ragcli.generation.base import GenerationOptions
from ragcli.records import Hit
from ragcli.terminal_text import first_line
from ragcli.training.output import (
    MARKER,
    check_writable,
    output_of,
    output_path,
    publish,
    recorded_names,
    staging_folder,
    start_staging,
    written_names,
)

CHECKPOINTS = "checkpoints"
KIND = "generator"
DEFAULT_LR = 3e-4  # AdamW on all weights: T5's usual fine-tuning rate
DEFAULT_LORA_LR = 1e-3  # only the adapter's few weights move: they take a larger step
IGNORE = -100  # the label id the loss skips (prompt tokens of a causal model, padding)

StepProgress = Callable[[int, int, int, float | None], None]  # (step, steps, epoch, last epoch's loss)


@dataclass
class GeneratorTraining:
    """What `ragcli train generator` was asked for (checked by `check` before any work)."""

    model: str
    output: Path
    with_context: bool = False
    retriever: str = "bm25"
    top_k: int = 5
    epochs: int = 3
    batch_size: int = 8
    learning_rate: float | None = None  # None: DEFAULT_LR, or DEFAULT_LORA_LR with lora
    seed: int = 0
    device: str = "auto"
    threads: int | None = None  # CPU threads (torch's choice when None)
    lora: bool = False
    lora_rank: int = 8
    resume: bool = False
    max_new_tokens: int = 64  # the longest answer learnt; prompts are fitted leaving this room, as evaluate does
    answer_style: str = "short"

    def __post_init__(self) -> None:
        self.output = output_path(self.output)

    @property
    def lr(self) -> float:
        return learning_rate(self.learning_rate, self.lora)


def learning_rate(given: float | None, lora: bool) -> float:
    """The rate a run trains at: --lr, or the default for training every weight or LoRA adapters."""
    if given is not None:
        return given
    return DEFAULT_LORA_LR if lora else DEFAULT_LR


@dataclass
class TrainingReport:
    """What a training run did: where the model is, how the loss went (mean per epoch), what it cost."""

    output: str
    base_model: str
    architecture: str  # seq2seq | causal
    examples: int
    with_context: bool
    lora: bool
    epochs: int
    steps: int
    learning_rate: float
    device: str
    precision: str  # fp32 | bf16 | fp16
    losses: list[float]
    seconds: float
    resumed_from: str | None = None
    skipped: int = 0  # lines left out: bad ones (listed, as evaluate lists them), questions without answers

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["losses"] = [round(loss, 6) for loss in self.losses]
        data["seconds"] = round(self.seconds, 3)
        return data


def check(settings: GeneratorTraining) -> None:
    """Every option value and the output folder, before any model is loaded."""
    from ragcli.generation.base import check_answer_style
    from ragcli.models import check_device, check_generator_model

    check_device(settings.device)
    check_answer_style(settings.answer_style)
    for name, value in (("--epochs", settings.epochs), ("--batch-size", settings.batch_size)):
        if value < 1:
            raise InvalidOptionError(f"{name} must be at least 1, not {value}")
    if not (0 < settings.lr < 1) or not math.isfinite(settings.lr):
        raise InvalidOptionError(f"--lr must be between 0 and 1, not {settings.lr}")
    check_output(settings.output, settings.resume)
    if settings.resume:
        check_resume(settings, (output_of(settings.output, KIND) or {}).get("settings") or {})
        check_epochs_grow(settings)
    check_generator_model(settings.model, settings.max_new_tokens)  # on disk; the loader checks a hub model's


RESUMED_SETTINGS = (
    "model",
    "batch_size",
    "with_context",
    "lora",
    "lora_rank",
    "retriever",
    "top_k",
    "max_new_tokens",
    "answer_style",
    "seed",
)


def check_resume(settings: GeneratorTraining, recorded: dict[str, Any]) -> None:
    """--resume continues the same training: the model and what shapes the examples and the weights
    must be what the folder's training recorded, and so must the learning rate, which the checkpoint's
    optimizer and schedule carry (the Trainer restores them: another --lr would be reported, not used),
    and the batch size (the Trainer reads the checkpoint's step number as epochs done at the new
    number of steps per epoch; `check_steps_per_epoch` checks the data's side), and the seed (the
    Trainer restores the checkpoint's random state: another --seed would be recorded, not used). The
    number of epochs may grow. A local model folder is compared by where it is (`model_identity`); a
    record naming the model by a relative path (written before ragcli resolved folders) is compared
    with --model as typed."""
    changed = {
        name: recorded[name]
        for name in RESUMED_SETTINGS
        if name in recorded and name != "model" and recorded[name] != getattr(settings, name)
    }
    model = recorded.get("model", settings.model)
    as_typed = settings.model if not Path(model).is_absolute() else None
    if model not in (model_identity(settings.model), as_typed):
        changed = {"model": model, **changed}
    if "learning_rate" in recorded:  # the rates, both with the recorded --lora: a changed --lora is said alone
        lora = bool(recorded.get("lora", settings.lora))
        trained_at = learning_rate(recorded["learning_rate"], lora)
        if trained_at != learning_rate(settings.learning_rate, lora):
            changed["lr"] = trained_at
    if changed:
        was = ", ".join(f"{name}={value!r}" for name, value in changed.items())
        raise InvalidOptionError(
            f"--resume: {settings.output} was trained with {was}", hint="pass the same options, or drop --resume"
        )


def model_identity(model: str) -> str:
    """The model as ragcli-training.json records it: a local folder by its absolute path (so `./m/`, or
    `../m` from another folder, is the `m` a run trained, and another folder named `m` is not), a hub
    id as given."""
    folder = Path(model).expanduser()
    return str(folder.resolve()) if folder.is_dir() else model


def check_steps_per_epoch(checkpoint: Path, examples: int, batch_size: int, source: str) -> None:
    """A resumed run must count the checkpoint's steps per epoch: the Trainer reads its step number
    as that many steps of the new run's epochs, so other data (more or fewer questions) would train
    the wrong number of epochs and overwrite the epochs' recorded losses."""
    state = trainer_state(checkpoint)
    try:
        trained_at = int(state["max_steps"]) // int(state["num_train_epochs"])
    except (ValueError, TypeError, KeyError, ZeroDivisionError):
        return  # a state without them: the Trainer's own check says what is wrong
    steps = math.ceil(examples / batch_size)
    if steps != trained_at:
        raise InvalidOptionError(
            f"--resume: {checkpoint} was trained at {trained_at} step(s) per epoch; the {examples} questions with "
            f"answers of {source} at --batch-size {batch_size} make {steps}",
            hint="resume on the data the folder was trained on, or drop --resume",
        )


def check_epochs_grow(settings: GeneratorTraining) -> None:
    """--resume trains from the last complete checkpoint up to --epochs, so --epochs may only grow:
    fewer than the checkpoint has trained would train nothing, yet record the fewer epochs over the
    folder's losses of them all. As many is fine: it finishes a run cut short after its last checkpoint."""
    checkpoint = last_checkpoint(settings.output)
    trained = trainer_state(checkpoint).get("epoch") if checkpoint is not None else None
    if isinstance(trained, (int, float)) and not isinstance(trained, bool) and settings.epochs < trained:
        raise InvalidOptionError(
            f"--resume: {checkpoint} has trained {trained:g} epoch(s); --epochs {settings.epochs} is fewer, "
            "and epochs may only grow",
            hint=f"pass --epochs {trained:g} or more, or drop --resume to train anew",
        )


def trainer_state(checkpoint: Path) -> dict[str, Any]:
    """A checkpoint's trainer_state.json as a JSON object ({} when there is none to read)."""
    try:
        state = json.loads((checkpoint / "trainer_state.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def checkpoints_of(output: Path) -> list[Path]:
    """The `checkpoints/checkpoint-N` folders of a ragcli training output, oldest first."""
    folder = output / CHECKPOINTS
    if not folder.is_dir() or folder.is_symlink():
        return []
    numbered = [
        (int(p.name.split("-", 1)[1]), p)
        for p in folder.iterdir()
        if p.is_dir() and not p.is_symlink() and p.name.startswith("checkpoint-") and p.name[11:].isdigit()
    ]
    return [path for _, path in sorted(numbered)]


def complete(checkpoint: Path) -> bool:
    """Whether the Trainer finished saving `checkpoint`: Ctrl-C while it saves leaves the weights
    without the trainer state, schedule or random state that resuming reads, or the file it was
    writing empty or cut short (resuming would fail on it)."""
    entries = list(checkpoint.iterdir())
    has = {p.name for p in entries}
    return (
        {"trainer_state.json", "optimizer.pt", "scheduler.pt"} <= has
        and any(name.startswith("rng_state") and name.endswith(".pth") for name in has)
        and any(name.endswith((".safetensors", ".bin")) and name != "training_args.bin" for name in has)
        and all(_written_to_the_end(p) for p in entries if p.is_file() and not p.is_symlink())
    )


def _written_to_the_end(path: Path) -> bool:
    """A cheap check that a checkpoint file is whole, reading its start or end only, never the tensors:
    JSON parses; a safetensors file is as long as its header says; torch's files (`.pt`, `.pth`, `.bin`:
    zip archives) end with the central directory, which is written last. Other files pass."""
    try:
        if path.suffix == ".json":
            json.loads(path.read_bytes())
        elif path.suffix == ".safetensors":
            return _safetensors_whole(path)
        elif path.suffix in (".pt", ".pth", ".bin"):
            with zipfile.ZipFile(path) as archive:
                return bool(archive.infolist())
    except (OSError, ValueError, EOFError, IndexError, zipfile.BadZipFile):
        return False
    return True


def _safetensors_whole(path: Path) -> bool:
    """A safetensors file: an 8-byte little-endian header length, a JSON header giving each tensor's
    byte range, then the tensors' bytes: whole when the file ends where the last range does."""
    with path.open("rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(length)) if 2 <= length <= path.stat().st_size else None
    if not isinstance(header, dict):
        return False
    ends = [
        entry["data_offsets"][1]
        for name, entry in header.items()
        if name != "__metadata__" and isinstance(entry, dict) and isinstance(entry.get("data_offsets"), list)
    ]
    return all(isinstance(end, int) for end in ends) and path.stat().st_size == 8 + length + max(ends, default=0)


def last_checkpoint(output: Path) -> Path | None:
    """The latest complete checkpoint of a ragcli training output, if any."""
    return next((p for p in reversed(checkpoints_of(output)) if complete(p)), None)


def incomplete_checkpoints(output: Path) -> list[Path]:
    """The checkpoints after the last complete one (what `--resume` skips, and says so)."""
    last = last_checkpoint(output)
    found = checkpoints_of(output)
    return found[found.index(last) + 1 :] if last is not None else found


def check_output(output: Path, resume: bool) -> None:
    """The output folder must be new, empty or a previous ragcli generator training; --resume needs a
    checkpoint there."""
    if output.is_symlink() or (output.exists() and not output.is_dir()):
        raise InvalidOptionError(f"--output {output}: not a folder", hint="name a new or empty folder")
    if output.is_dir() and any(output.iterdir()) and output_of(output, KIND) is None:
        raise InvalidOptionError(
            f"--output {output}: the folder is not empty and is not a ragcli generator training output",
            hint="name a new or empty folder; ragcli never writes over files it did not make",
        )
    check_writable(output)
    if resume and last_checkpoint(output) is None:
        what = "no complete checkpoint" if checkpoints_of(output) else "no checkpoint"
        raise InvalidOptionError(
            f"--resume: {output} holds {what} to continue from", hint="drop --resume to start training"
        )


def training_pairs(queries: Sequence[EvalQuery], source: str) -> list[EvalQuery]:
    """The questions that have a gold answer (the first one is learnt)."""
    pairs = [q for q in queries if q.answers and q.answers[0].strip()]
    if not pairs:
        raise InputFormatError(
            f"{source}: no question has an answer to learn", hint='give each line "answers": ["..."]'
        )
    return pairs


class _Examples:
    """Tokenised examples as the Trainer's data loader wants them (a sized, indexable collection)."""

    def __init__(self, rows: list[dict[str, list[int]]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, number: int) -> dict[str, list[int]]:
        return self.rows[number]


def encode(generator: Any, question: str, sources: Sequence[Hit], answer: str, max_new_tokens: int) -> dict[str, Any]:
    """One example: the generator's own prompt for (question, sources), and the answer as labels.

    Seq2seq: the prompt is the encoder's input and the answer the decoder's. Causal: prompt and answer
    are one sequence, exactly the tokens generation sees and writes, and only the answer is learnt."""
    tokenizer = generator.tokenizer
    prompt = generator.prompt(question, sources).text
    if generator.is_encoder_decoder:
        inputs = tokenizer(prompt, truncation=True, max_length=generator.max_input_tokens)["input_ids"]
        labels = tokenizer(text_target=answer, truncation=True, max_length=max_new_tokens)["input_ids"]
        if labels[-1:] != [
            tokenizer.eos_token_id
        ]:  # a tokenizer without T5's post-processor: the model must learn to stop
            labels = [*labels[: max_new_tokens - 1], tokenizer.eos_token_id]
        return {"input_ids": inputs, "attention_mask": [1] * len(inputs), "labels": labels}
    prompt_ids = tokenizer(prompt, add_special_tokens=not generator.uses_chat_template)["input_ids"]
    prompt_ids = prompt_ids[: generator.max_input_tokens]
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"][: max_new_tokens - 1]
    answer_ids = [*answer_ids, tokenizer.eos_token_id]
    ids = [*prompt_ids, *answer_ids]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": [IGNORE] * len(prompt_ids) + answer_ids}


def _precision(device: str, torch: Any, model_type: str) -> str:
    """bf16 where the GPU has it; else fp16 through the Trainer's AMP, except for T5-family models,
    whose activations overflow fp16 (a known T5 trait); fp32 on the CPU and MPS."""
    if device != "cuda":
        return "fp32"
    if torch.cuda.is_bf16_supported():
        return "bf16"
    return "fp32" if model_type in ("t5", "mt5", "umt5", "longt5") else "fp16"


def _with_lora(network: Any, rank: int, seq2seq: bool) -> Any:
    """The network with LoRA adapters on peft's default attention layers for its architecture."""
    try:
        import peft
    except ImportError:
        raise MissingExtraError("--lora needs peft", hint="pip install 'ragcli[train]'") from None
    task = peft.TaskType.SEQ_2_SEQ_LM if seq2seq else peft.TaskType.CAUSAL_LM
    config = peft.LoraConfig(task_type=task, r=rank, lora_alpha=2 * rank, lora_dropout=0.0)
    try:
        return peft.get_peft_model(network, config)
    except ValueError as exc:
        raise InvalidOptionError(f"--lora: {first_line(exc)}", hint="train without --lora") from None


def _callbacks(transformers: Any, on_step: StepProgress | None, losses: dict[int, float]) -> list[Any]:
    """A Trainer callback that reports each step and keeps each epoch's mean loss."""

    class Report(transformers.TrainerCallback):  # type: ignore[misc]
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            if logs and "loss" in logs and state.epoch is not None:
                losses[round(state.epoch)] = float(logs["loss"])

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if on_step is not None:
                epoch = math.ceil(state.epoch or 0)
                on_step(state.global_step, state.max_steps, epoch, losses[max(losses)] if losses else None)

    return [Report()]


def _history(checkpoint: Path | None) -> dict[int, float]:
    """The per-epoch losses a checkpoint's trainer state recorded (what a resumed run adds to)."""
    state = trainer_state(checkpoint) if checkpoint is not None else {}
    return {
        round(entry["epoch"]): float(entry["loss"])
        for entry in state.get("log_history", [])
        if isinstance(entry, dict) and "loss" in entry and "epoch" in entry
    }


def train_generator(
    settings: GeneratorTraining,
    queries: Sequence[EvalQuery],
    *,
    source: str = "DATA",
    bad_lines: int = 0,
    retrieve: Callable[[str], list[Hit]] | None = None,
    on_step: StepProgress | None = None,
) -> TrainingReport:
    """Fine-tune `settings.model` on the questions' first gold answers and save it to `settings.output`.

    `bad_lines`: the data's lines the loader skipped, counted in the report's `skipped` with the
    questions without answers. `retrieve(question)` gives the passages of a question when
    `settings.with_context` (the same retriever and top-k as at query time); without it, prompts are
    closed-book."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # peft's, torch's and transformers' advice on settings ragcli chose on purpose
        return _train(settings, queries, source, bad_lines, retrieve, on_step)


def _train(
    settings: GeneratorTraining,
    queries: Sequence[EvalQuery],
    source: str,
    bad_lines: int,
    retrieve: Callable[[str], list[Hit]] | None,
    on_step: StepProgress | None,
) -> TrainingReport:
    from ragcli.generation.hf import TransformersGenerator
    from ragcli.models import import_transformers, pick_device

    check(settings)
    torch, _ = import_transformers("training a generator", "train")
    try:
        import accelerate  # noqa: F401  (the Trainer needs it; say so before any work)
    except ImportError:
        raise MissingExtraError("training a generator needs accelerate", hint="pip install 'ragcli[train]'") from None
    device = pick_device(settings.device, torch)  # --device cuda without CUDA: exit 2 before loading anything
    pairs = training_pairs(queries, source)
    output = settings.output
    checkpoint = last_checkpoint(output) if settings.resume else None
    if checkpoint is not None:
        check_steps_per_epoch(checkpoint, len(pairs), settings.batch_size, source)
    if settings.with_context and retrieve is None:
        raise InvalidOptionError("--with-context needs an index to retrieve passages from")
    options = GenerationOptions(
        device="cpu",
        threads=settings.threads,
        max_new_tokens=settings.max_new_tokens,
        answer_style=settings.answer_style,
    )
    generator = TransformersGenerator(settings.model, options)  # the query-time loader and prompt builder
    rows = [
        encode(
            generator,
            q.question,
            retrieve(q.question) if retrieve and settings.with_context else [],
            q.answers[0],
            settings.max_new_tokens,
        )
        for q in pairs
    ]
    # checkpoints go into the output folder when it holds no model to keep (new, or empty: an interrupted
    # run can --resume) or with --resume (they continue); else beside it, with the new model
    in_place = settings.resume or output_of(output, KIND) is None
    staged = staging_folder(output)
    try:
        if output_of(output, KIND) is None:
            output.mkdir(parents=True, exist_ok=True)
            _write_marker(output, settings, None)  # an interrupted run is still ours to resume
        start_staging(staged)
    except OSError as exc:
        raise OutputWriteError(f"--output {output}: cannot write there ({exc.strerror})") from None
    checkpoints = (output if in_place else staged) / CHECKPOINTS
    try:
        report = _fit(settings, generator, rows, device, checkpoints, checkpoint, staged, on_step)
        report.skipped = bad_lines + len(queries) - len(pairs)
        _write_marker(staged, settings, report)
    except BaseException as exc:  # Ctrl-C too: the previous output stays as it was, nothing is left beside it
        shutil.rmtree(staged, ignore_errors=True)
        if isinstance(exc, OSError):  # a checkpoint or the model cannot be written (disk full, permissions)
            raise OutputWriteError(f"--output {output}: cannot write the model ({exc.strerror or exc})") from None
        raise
    _move_in(staged, output, in_place)
    return report


def _fit(
    settings: GeneratorTraining,
    generator: Any,
    rows: list[dict[str, Any]],
    device: str,
    checkpoints: Path,
    checkpoint: Path | None,
    staged: Path,
    on_step: StepProgress | None,
) -> TrainingReport:
    """Train (checkpoints into `checkpoints`, resuming from `checkpoint`) and save the model and its
    tokenizer into `staged`."""
    from ragcli.models import import_transformers

    torch, transformers = import_transformers("training a generator", "train")
    seq2seq = generator.is_encoder_decoder
    network = generator.network
    network.train()
    if settings.lora:
        transformers.set_seed(settings.seed)  # the adapters' random start: --seed, not whatever ran before
        network = _with_lora(network, settings.lora_rank, seq2seq)
    precision = _precision(device, torch, str(getattr(network.config, "model_type", "")))
    tokenizer = generator.tokenizer
    padding_side = tokenizer.padding_side
    tokenizer.padding_side = "right"  # positions start at 0 in every row, as generation's position ids do
    collator = transformers.DataCollatorForSeq2Seq(
        tokenizer, model=network if seq2seq else None, label_pad_token_id=IGNORE, padding=True
    )
    arguments = (transformers.Seq2SeqTrainingArguments if seq2seq else transformers.TrainingArguments)(
        output_dir=str(checkpoints),
        num_train_epochs=settings.epochs,
        per_device_train_batch_size=settings.batch_size,
        learning_rate=settings.lr,
        seed=settings.seed,
        data_seed=settings.seed,
        logging_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=2,
        report_to="none",
        disable_tqdm=True,
        use_cpu=device == "cpu",
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        remove_unused_columns=False,
        dataloader_pin_memory=False,
    )
    losses = _history(checkpoint)
    trainer_class = transformers.Seq2SeqTrainer if seq2seq else transformers.Trainer
    trainer = trainer_class(
        model=network,
        args=arguments,
        data_collator=collator,
        train_dataset=_Examples(rows),
        callbacks=_callbacks(transformers, on_step, losses),
    )
    for quiet in (transformers.trainer_callback.PrinterCallback, transformers.trainer_callback.ProgressCallback):
        trainer.remove_callback(quiet)  # stdout and stderr are ragcli's: progress comes through on_step
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    seconds = time.perf_counter() - started
    trained = trainer.model
    if settings.lora:
        trained = trained.merge_and_unload()  # a plain model folder: --model DIR loads it with transformers alone
    tokenizer.padding_side = padding_side
    trained.save_pretrained(staged)
    tokenizer.save_pretrained(staged)
    return TrainingReport(
        output=str(settings.output),
        base_model=settings.model,
        architecture="seq2seq" if seq2seq else "causal",
        examples=len(rows),
        with_context=settings.with_context,
        lora=settings.lora,
        epochs=settings.epochs,
        steps=int(trainer.state.global_step),
        learning_rate=settings.lr,
        device=device,
        precision=precision,
        losses=[losses[epoch] for epoch in sorted(losses)],
        seconds=seconds,
        resumed_from=str(checkpoint) if checkpoint else None,
    )


def _move_in(staged: Path, output: Path, in_place: bool) -> None:
    """Make the staged model the output folder's: the earlier run's files (those its marker lists) and
    checkpoints give way to the new ones, the checkpoints that grew in the folder (`in_place`) stay,
    and the user's own files stay where they are."""
    ours = recorded_names(output_of(output, KIND) or {}) | {CHECKPOINTS}
    try:
        publish(staged, output, ours, kept={CHECKPOINTS} if in_place else ())
    except OSError as exc:
        raise OutputWriteError(
            f"--output {output}: cannot move the new model in ({exc.strerror or exc}); it is in {staged}"
        ) from None


def _write_marker(folder: Path, settings: GeneratorTraining, report: TrainingReport | None) -> None:
    """Mark `folder` as a ragcli generator training output, listing the files ragcli wrote there, with
    the settings and, once done, the report."""
    marker = {
        "kind": KIND,
        "files": written_names(folder),
        "settings": {
            **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()},
            "model": model_identity(settings.model),
        },
        "report": report.to_dict() if report else None,
    }
    (folder / MARKER).write_text(json.dumps(marker, indent=2) + "\n", "utf-8")
