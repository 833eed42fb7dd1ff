"""Fine-tune a sentence-embedding model on judged questions (`ragcli train retriever`).

Multiple-negatives ranking loss: each question is scored against every passage of its batch (the
other questions' positives are in-batch negatives) plus BM25-mined hard negatives, and cross-entropy
pushes its own positive to the top. Batches never hold the same question or document twice, so no
passage is both a question's positive and a negative of it.

Why a short PyTorch loop and not sentence-transformers' trainer: ragcli serves an embedding model as
transformers' AutoModel + mean pooling + L2 normalisation (ragcli.retrieval.embedder, and the int8
ONNX copy of the same graph). Training exactly that graph here means what is trained is what is
served; the loss is torch's cross-entropy over a score matrix (a few lines), and the loop owns its one
data order (a seeded permutation per epoch), its progress callbacks and the per-epoch validation
that picks the best epoch, with neither `datasets` nor `accelerate` as dependencies. The optimiser
and schedule are torch's AdamW and transformers' linear warm-up/decay, the ones sentence-transformers
uses. The saved folder also carries the base model's sentence-transformers files (modules.json,
pooling), so it loads in sentence-transformers too.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ragcli.errors import ForeignFolderError, InputFormatError, InvalidOptionError, ModelUnavailableError
from ragcli.evaluation.datasets import EvalQuery, load_eval_set
from ragcli.evaluation.indexing import index_for
from ragcli.evaluation.metrics import ndcg_at
from ragcli.evaluation.runner import document_ranking
from ragcli.indexdir import write_error
from ragcli.models import check_device, check_embeds_text, import_transformers, pick_device
from ragcli.records import Skipped
from ragcli.retrieval.embedder import resolve_embedding_model, torch_mean_pool
from ragcli.terminal_text import first_line
from ragcli.training.output import (
    MARKER,
    check_clash,
    check_writable,
    output_of,
    output_path,
    publish,
    read_marker,
    recorded_names,
    staging_folder,
    start_staging,
    written_names,
)
from ragcli.training.pairs import (
    Candidates,
    Example,
    PassageLookup,
    evaluation_sets,
    examples_for,
    overlap,
    split_validation,
    validation_pool,
)

KIND = "retriever"  # the marker's kind: neither training command writes into the other's outputs
SENTENCE_TRANSFORMERS_FILES = ("modules.json", "sentence_bert_config.json", "config_sentence_transformers.json")
POOLING_FOLDER = "1_Pooling"
VALIDATION_CUTOFF = 10
NO_PAIRS = "no training pairs: no question's relevant documents are in the index"

Progress = Callable[[int, int, str], None]  # (steps done, steps in all, what is happening)


@dataclass
class RetrieverTrainingSettings:
    """The knobs of `ragcli train retriever`, checked before any work starts."""

    model: str = "all-MiniLM-L6-v2"
    epochs: int = 1
    batch_size: int = 32
    lr: float = 2e-5
    seed: int = 42
    max_seq_length: int = 256
    device: str = "auto"
    hard_negatives: int = 1
    validation: float = 0.1
    warmup: float = 0.1
    scale: float = 20.0  # the cosine → logit scale of sentence-transformers' MultipleNegativesRankingLoss

    def check(self) -> None:
        if self.epochs < 1:
            raise InvalidOptionError("--epochs must be at least 1")
        if self.batch_size < 2:
            raise InvalidOptionError(
                "--batch-size must be at least 2 (the other questions' passages are the negatives)"
            )
        if not (0 < self.lr < 1) or not math.isfinite(self.lr):
            raise InvalidOptionError("--lr must be between 0 and 1", hint="e.g. 2e-5")
        if not 8 <= self.max_seq_length <= 8192:
            raise InvalidOptionError("--max-seq-length must be between 8 and 8192")
        if not 0 <= self.validation < 1:
            raise InvalidOptionError("--validation must be a fraction in [0, 1)")
        if self.hard_negatives < 0:
            raise InvalidOptionError("--hard-negatives must be 0 or more")


@dataclass
class EpochResult:
    epoch: int
    loss: float
    validation_ndcg: float | None


@dataclass
class TrainingResult:
    """What a training run did: written to the output folder (ragcli-training.json) and printed."""

    output: str
    base_model: str
    data: str
    examples: int
    training_queries: int
    validation_queries: int
    device: str
    settings: dict[str, Any]
    dropped_overlap: int = 0
    missing_relevant: int = 0
    base_validation_ndcg: float | None = None
    epochs: list[EpochResult] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_output(output: Path) -> None:
    """Refuse (before any work) an output that is a file, or a non-empty folder that is not an earlier
    `train retriever` output (a `train generator` one included): a run replaces only what it can prove
    this command wrote."""
    if output.exists() and not output.is_dir():
        raise InvalidOptionError(f"--output {output} is not a folder")
    if output.is_dir() and any(output.iterdir()) and output_of(output, KIND) is None:
        other = (read_marker(output) or {}).get("kind")
        what = (
            f"a `ragcli train {other}` output"
            if other == "generator"
            else "a non-empty folder that ragcli did not train into"
        )
        raise ForeignFolderError(
            f"--output {output} is {what}", hint="name a new or empty folder, or an earlier `train retriever` output"
        )
    check_writable(output)


def batches(examples: Sequence[Example], order: Sequence[int], size: int) -> list[list[int]]:
    """Batches of up to `size` examples in `order`, none holding a question or a document twice (an
    example that would is moved to a later batch), as sentence-transformers' NoDuplicatesBatchSampler."""
    out: list[list[int]] = []
    pending = list(order)
    while pending:
        batch: list[int] = []
        seen: set[str] = set()
        rest: list[int] = []
        for position, i in enumerate(pending):
            if len(batch) == size:  # full: the rest waits, in order (linear, not a scan per batch)
                rest.extend(pending[position:])
                break
            example = examples[i]
            keys = {"q:" + example.query_id, "d:" + example.positive_doc, *("d:" + d for d in example.negative_docs)}
            if keys & seen:
                rest.append(i)
            else:
                batch.append(i)
                seen |= keys
        out.append(batch)
        pending = rest
    return out


class _Model:
    """The model being trained: transformers' AutoModel with mean pooling and L2 normalisation."""

    def __init__(self, source: str, on_disk: bool, label: str, device: str, max_length: int) -> None:
        self.torch, self.transformers = import_transformers("training the retriever", "dense")
        transformers = self.transformers
        try:
            self.model = transformers.AutoModel.from_pretrained(source, local_files_only=on_disk)
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=on_disk)
        except (OSError, ValueError) as exc:
            raise ModelUnavailableError(f"cannot load embedding model {label}: {first_line(exc)}") from None
        self.model.to(device)
        self.device, self.max_length = device, max_length

    def encode(self, texts: Sequence[str]) -> Any:
        inputs = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        ).to(self.device)
        return torch_mean_pool(self.model(**inputs).last_hidden_state, inputs["attention_mask"])

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embeddings without gradients, in `texts` order (batched by length, as the embedder does)."""
        self.model.eval()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), int(self.model.config.hidden_size)), dtype=np.float32)
        with self.torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                out[chunk] = self.encode([texts[i] for i in chunk]).float().cpu().numpy()
        self.model.train()
        return out


def validation_ndcg(model: _Model, queries: Sequence[EvalQuery], pool: Candidates) -> float:
    """Mean nDCG@10 of the validation questions, documents ranked by their best passage in the pool."""
    vectors = model.embed(pool.texts)
    asked = model.embed([q.question for q in queries])
    total = 0.0
    for query, vector in zip(queries, asked):
        scores = vectors @ vector
        order = np.lexsort((np.arange(len(scores)), -scores))
        ranking = document_ranking([pool.doc_ids[i] for i in order], scores[order].tolist(), VALIDATION_CUTOFF)
        total += ndcg_at([doc for doc, _ in ranking], query.qrels, VALIDATION_CUTOFF)
    return total / max(len(queries), 1)


def check_encoder(transformers: Any, label: str, source: str, on_disk: bool, max_seq_length: int) -> None:
    """From the model's config alone, before any work: an encoder-decoder (T5) has no encoder output to
    pool here (exit 9, `models.check_embeds_text`), and texts longer than the model's positions would
    index past them (exit 2)."""
    try:
        config = transformers.AutoConfig.from_pretrained(source, local_files_only=on_disk)
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"cannot load embedding model {label}: {first_line(exc)}") from None
    check_embeds_text(label, config.to_dict())
    positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    if isinstance(positions, int) and max_seq_length > positions:
        raise InvalidOptionError(
            f"--max-seq-length {max_seq_length}: embedding model {label} has {positions} positions",
            hint=f"--max-seq-length {positions} or less",
        )


@dataclass
class TrainingJob:
    """Everything one run needs, checked and prepared: the examples, the validation slice and its pool."""

    data: str
    examples: list[Example]
    training_queries: int
    validation: list[EvalQuery]
    pool: Candidates
    output: Path
    missing: int = 0  # relevant ids the index does not hold
    skipped: list[Skipped] = field(default_factory=list)  # the data's bad lines, skipped
    dropped: int = 0  # training questions left out because evaluation asks them too (--drop-overlap)


def prepare(
    data: Path,
    output: Path,
    settings: RetrieverTrainingSettings,
    *,
    split: str = "train",
    index_dir: Path | None = None,
    eval_queries: Path | None = None,
    eval_split: str = "test",
    strict: bool = False,
    drop_overlap: bool = False,
    on_build: Callable[[Path], None] | None = None,
    omit: str | None = None,
    on_wait: Callable[[Path], None] | None = None,
) -> TrainingJob:
    """Check everything that can be checked before training (options, output folder, the data, the
    overlap with evaluation questions), then find the index and mine the examples (`omit`: how to
    stop naming `index_dir`, as `index_for` takes it)."""
    settings.check()
    check_device(settings.device)
    output = output_path(output)
    check_output(output)
    label, source, on_disk = resolve_embedding_model(settings.model)  # a model that cannot be found: exit 9
    torch, transformers = import_transformers("training the retriever", "dense")
    check_encoder(transformers, label, source, on_disk, settings.max_seq_length)
    pick_device(settings.device, torch)  # --device cuda without CUDA: said now, not after mining
    training = load_eval_set(data, split, strict)
    queries = [q for q in training.queries if q.has_relevant]
    if not queries:
        raise InputFormatError(
            f"{data}: no question with relevant documents to train on",
            hint="qa.jsonl lines need 'relevant'; a BEIR folder needs judged queries in qrels/<split>.tsv",
        )
    judged = len(queries)
    for held_out in evaluation_sets(data, split, eval_queries, eval_split):
        queries = overlap(queries, held_out, drop_overlap)
    if not queries:
        raise InputFormatError(f"{data}: every training question is also an evaluation question")
    lookup = PassageLookup(
        index_for(training, index_dir, ("bm25",), strict=strict, on_build=on_build, omit=omit, on_wait=on_wait)
    )
    kept, validation = split_validation(queries, settings.validation, settings.seed)
    examples, missing = examples_for(kept, lookup, settings.hard_negatives)
    if not examples:  # the data's judgments name nothing the index holds: a data problem, as for evaluate
        raise InputFormatError(NO_PAIRS, hint="index the documents the questions judge relevant (--index)")
    pool = validation_pool(validation, lookup) if validation else Candidates([], [])
    return TrainingJob(
        training.name, examples, len(kept), validation, pool, output, missing, training.skipped, judged - len(queries)
    )


def train_retriever(
    job: TrainingJob,
    settings: RetrieverTrainingSettings,
    progress: Progress | None = None,
    on_epoch: Callable[[EpochResult, float | None], None] | None = None,
) -> TrainingResult:
    """Fine-tune `settings.model` on `job.examples`, keep the epoch with the best validation nDCG@10
    (the last one without a validation slice) and save it to `job.output` as a model folder."""
    settings.check()
    check_output(job.output)
    if not job.examples:
        raise InputFormatError(NO_PAIRS)
    started = time.perf_counter()
    label, source, on_disk = resolve_embedding_model(settings.model)
    torch, _ = import_transformers("training the retriever", "dense")
    device = pick_device(settings.device, torch)
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=device != "cpu")
    torch.manual_seed(settings.seed)
    try:
        model = _Model(source, on_disk, label, device, settings.max_seq_length)
        staged = stage(model, Path(source), job.output)
        result = TrainingResult(
            str(job.output),
            label,
            job.data,
            len(job.examples),
            job.training_queries,
            len(job.validation),
            device,
            {k: v for k, v in asdict(settings).items() if k != "model"},
            job.dropped,
            job.missing,
        )
        try:
            best_state = _loop(model, job, settings, result, progress, on_epoch)
        except BaseException:  # Ctrl-C too: no half-written folder is left beside the output
            shutil.rmtree(staged, ignore_errors=True)
            raise
        if best_state is not None:
            model.model.load_state_dict(best_state)
        result.seconds = round(time.perf_counter() - started, 1)
        save_model(model, Path(source), staged, job.output, result)
    finally:
        torch.use_deterministic_algorithms(deterministic)
    return result


def _loop(
    model: _Model,
    job: TrainingJob,
    settings: RetrieverTrainingSettings,
    result: TrainingResult,
    progress: Progress | None,
    on_epoch: Callable[[EpochResult, float | None], None] | None,
) -> dict[str, Any] | None:
    """The epochs; returns the best epoch's weights (None: the model as it ends is the one to keep)."""
    torch = model.torch

    rng = np.random.default_rng(settings.seed)
    plans = [batches(job.examples, rng.permutation(len(job.examples)).tolist(), settings.batch_size)]
    for _ in range(settings.epochs - 1):
        plans.append(batches(job.examples, rng.permutation(len(job.examples)).tolist(), settings.batch_size))
    total = sum(len(plan) for plan in plans)
    optimizer = torch.optim.AdamW(model.model.parameters(), lr=settings.lr, weight_decay=0.01)
    schedule = model.transformers.get_linear_schedule_with_warmup(optimizer, int(total * settings.warmup), total)
    if job.validation:
        if progress:
            progress(0, total, "validating the base model")
        result.base_validation_ndcg = round(validation_ndcg(model, job.validation, job.pool), 6)
    best_score, best_state, done = -1.0, None, 0
    model.model.train()
    for epoch, plan in enumerate(plans, start=1):
        losses = []
        if progress:
            progress(done, total, f"epoch {epoch}/{settings.epochs}")
        for batch in plan:
            examples = [job.examples[i] for i in batch]
            questions = model.encode([e.question for e in examples])
            passages = model.encode([e.positive for e in examples] + [n for e in examples for n in e.negatives])
            scores = questions @ passages.T * settings.scale
            labels = torch.arange(len(examples), device=model.device)
            loss = torch.nn.functional.cross_entropy(scores, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(float(loss.detach()))
            done += 1
            if progress:
                progress(done, total, f"epoch {epoch}/{settings.epochs} · loss {np.mean(losses):.3f}")
        score = None
        if job.validation:
            if progress:
                progress(done, total, f"validating epoch {epoch}")
            score = round(validation_ndcg(model, job.validation, job.pool), 6)
        outcome = EpochResult(epoch, round(float(np.mean(losses)), 6), score)
        result.epochs.append(outcome)
        if on_epoch:
            on_epoch(outcome, result.base_validation_ndcg)
        if score is None:
            result.best_epoch = epoch  # no validation slice: the last epoch is kept
        elif score > best_score:
            best_score, result.best_epoch = score, epoch
            # a later epoch may be worse: keep these weights (the last epoch's are the model as it ends)
            best_state = (
                None
                if epoch == settings.epochs
                else {k: v.detach().clone() for k, v in model.model.state_dict().items()}
            )
    return best_state


def write_model(model: _Model, source: Path, staged: Path) -> None:
    """A normal model folder (config, safetensors weights, tokenizer) plus the base model's
    sentence-transformers files, so that it loads in sentence-transformers too."""
    model.model.save_pretrained(staged, safe_serialization=True)
    model.tokenizer.save_pretrained(staged)
    if source.is_dir():
        for name in SENTENCE_TRANSFORMERS_FILES:
            if (source / name).is_file():
                shutil.copyfile(source / name, staged / name)
        if (source / POOLING_FOLDER / "config.json").is_file():
            (staged / POOLING_FOLDER).mkdir(exist_ok=True)
            shutil.copyfile(source / POOLING_FOLDER / "config.json", staged / POOLING_FOLDER / "config.json")


def stage(model: _Model, source: Path, output: Path) -> Path:
    """The staging folder beside `output`, holding the base model written as the trained one will be:
    its names are the new model's, so a file of the user's in `output` that has one is found before
    training (exit 12), by the rule the swap applies (`check_clash`), as is a disk too full for it."""
    staged = staging_folder(output)
    with _writing(staged, output):
        start_staging(staged)
        write_model(model, source, staged)
        check_clash(output, written_names(staged), recorded_names(output_of(output, KIND) or {}))
    return staged


@contextmanager
def _writing(staged: Path, output: Path) -> Iterator[None]:
    """Writing into `staged`: whatever stops it (Ctrl-C too) leaves no half-written folder beside the
    output, and a write that fails is exit 12 naming the output."""
    try:
        yield
    except BaseException as exc:
        shutil.rmtree(staged, ignore_errors=True)
        if not isinstance(exc, OSError):
            raise
        raise write_error(
            f"cannot write the trained model to {output}", exc, option="choose another --output"
        ) from None


def save_model(model: _Model, source: Path, staged: Path, output: Path, result: TrainingResult) -> None:
    """Write the trained model over the base one in `staged`, with ragcli-training.json (its kind and
    the names written, so that a later run replaces those and keeps the user's), then move it into
    `output`. A swap that fails keeps the new model where it is staged and says so: training is not lost."""
    with _writing(staged, output):
        model.model.to("cpu")
        write_model(model, source, staged)
        marker = {"kind": KIND, "files": written_names(staged), **result.to_dict()}
        (staged / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    try:
        check_output(output)  # again: someone may have written there while training ran
        publish(staged, output, recorded_names(output_of(output, KIND) or {}))
    except InvalidOptionError as exc:
        raise type(exc)(f"{exc.message}; the trained model is in {staged}", hint=exc.hint) from None
    except OSError as exc:  # a file of the user's took one of the model's names while it trained
        raise write_error(
            f"cannot move the trained model into {output}",
            exc,
            then=f"; it is in {staged}",
            option="move it in yourself, or choose another --output",
        ) from None
