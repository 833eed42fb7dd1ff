"""`ragcli train …`: fit ragcli's models to a user's own questions, a typer sub-app that cli.py adds as
`train`.

A module of its own so that each training command is one small block here rather than more lines in
cli.py. Like cli.py it only parses, calls the library (ragcli.training) and hands the result to the
renderer. Errors go through cli.handle_errors, looked up when a command runs: cli.py imports this
module to add the sub-app, so importing cli.py from here at import time would be a cycle; what both
share lives below them (the index folder a command uses: collections.choose_index).
`run_comparison` is `evaluate --compare`'s body, kept here beside the training it measures.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from ragcli import options

train_app = typer.Typer(
    name="train",
    help="Fine-tune ragcli's models on your own questions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def _handled(command: F) -> F:
    """ragcli.cli's error handling (one line and the documented exit code, never a traceback)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ragcli.cli import handle_errors

        return handle_errors(command)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@train_app.command("generator")
@_handled
def generator(
    data: options.TrainData,
    output: options.TrainOutput,
    model: options.TrainModel = options.DEFAULT_TRAIN_MODEL,
    with_context: options.WithContext = False,
    index_dir: options.IndexDir = None,
    collection: options.Collection = None,
    retriever: options.Retriever = "bm25",
    top_k: options.GeneratorTopK = 5,
    epochs: options.Epochs = 3,
    batch_size: options.TrainBatchSize = 8,
    lr: options.LearningRate = None,
    seed: options.TrainSeed = 0,
    device: options.Device = "auto",
    threads: options.Threads = None,
    lora: options.Lora = False,
    lora_rank: options.LoraRank = 8,
    resume: options.Resume = False,
    max_new_tokens: options.TrainMaxNewTokens = 64,
    answer_style: options.AnswerStyle = "short",
    strict: options.Strict = False,
    quiet: options.Quiet = False,
    json_output: options.Json = False,
) -> None:
    """Fine-tune a seq2seq or causal model on DATA's question → answer pairs; --model DIR loads the result."""
    from ragcli.collections import choose_index
    from ragcli.evaluation.datasets import load_eval_set
    from ragcli.generation.base import requested_model
    from ragcli.progress import counting_progress
    from ragcli.render import evaluation_skips, note, training_summary, write_json
    from ragcli.training.generator import GeneratorTraining, check, incomplete_checkpoints, train_generator

    settings = GeneratorTraining(
        model=requested_model(model)[0],
        output=output,
        with_context=with_context,
        retriever=retriever,
        top_k=top_k,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=lr,
        seed=seed,
        device=device,
        threads=threads,
        lora=lora,
        lora_rank=lora_rank,
        resume=resume,
        max_new_tokens=max_new_tokens,
        answer_style=answer_style,
    )
    check(settings)  # every option and the output folder before any work
    if resume:
        for skipped in incomplete_checkpoints(settings.output):
            note(f"ragcli: note: {skipped.name} is incomplete (interrupted while saved): resuming from an earlier one")
    retrieve = None
    if with_context:
        from ragcli.retrieval.index import load_index

        idx = load_index(choose_index(index_dir, collection).require().path)
        scorer = idx.retriever(retriever)

        def retrieve(question: str) -> Any:
            return idx.search(question, k=top_k, retriever=scorer)

    if data.is_dir():
        from ragcli.errors import InputFormatError

        raise InputFormatError(f"{data}: a BEIR folder has no answers to learn", hint="give a qa.jsonl file")
    eval_set = load_eval_set(data, "train", strict)
    if not quiet:
        for line in evaluation_skips(eval_set.skipped, {}):
            note(line)
    with counting_progress("training", description="steps", enabled=not quiet) as bar:

        def on_step(step: int, steps: int, epoch: int, loss: float | None) -> None:
            if bar is not None:
                seen = f" · loss {loss:.3f}" if loss is not None else ""
                bar(step, steps, description=f"epoch {epoch}/{epochs}{seen}")

        report = train_generator(
            settings,
            eval_set.queries,
            source=str(data),
            bad_lines=len(eval_set.skipped),
            retrieve=retrieve,
            on_step=on_step,
        )
    if json_output:
        write_json(report.to_dict())
    elif not quiet:
        for line in training_summary(report):
            note(line)


def run_comparison(
    eval_set: Any,
    idx: Any,
    retriever: str,
    kind: str,
    model: str | None,
    tuned_model: str,
    generation: Any,
    top_k: int,
    batch_size: int,
    restriction: Any,
    json_output: bool,
) -> None:
    """`ragcli evaluate DATA --compare --model BASE --tuned-model DIR`: load both models, answer
    every question four ways, print one table (or JSON)."""
    from ragcli.generation.base import make_generator
    from ragcli.progress import counting_progress
    from ragcli.render import compare_table, note, stdout_console, write_json
    from ragcli.training.compare import compare

    generators = []
    for name in (model, tuned_model):
        choice = make_generator(kind, name, generation, index=idx)
        if choice.notice:
            note(f"ragcli: note: {choice.notice}")
        generators.append(choice.generator)
    total = 4 * sum(1 for q in eval_set.queries if q.answers)
    with counting_progress("answering", total=total, description="base and fine-tuned") as bar:
        done = 0

        def on_answers(count: int) -> None:
            nonlocal done
            done += count
            if bar is not None:
                bar(done)

        comparison = compare(
            eval_set,
            idx,
            retriever,
            generators[0],
            generators[1],
            top_k=top_k,
            batch_size=batch_size,
            filter=restriction,
            on_answers=on_answers,
        )
    if json_output:
        write_json(comparison.to_dict())
    else:
        stdout_console().print(compare_table(comparison))


@train_app.command("retriever")
@_handled
def retriever(
    ctx: typer.Context,
    data: options.RetrieverTrainingData,
    output: options.RetrieverOutput,
    index_dir: options.IndexDir = None,
    collection: options.Collection = None,
    split: options.Split = "train",
    embedding_model: options.EmbeddingModel = "all-MiniLM-L6-v2",
    epochs: options.RetrieverEpochs = 1,
    batch_size: options.RetrieverBatchSize = 32,
    lr: options.RetrieverLearningRate = 2e-5,
    seed: options.RetrieverSeed = 42,
    max_seq_length: options.MaxSeqLength = 256,
    hard_negatives: options.HardNegatives = 1,
    validation: options.Validation = 0.1,
    device: options.Device = "auto",
    eval_queries: options.EvalQueries = None,
    eval_split: options.EvalSplit = "test",
    drop_overlap: options.DropOverlap = False,
    strict: options.Strict = False,
    json_output: options.Json = False,
) -> None:
    """Fine-tune the embedding model on judged questions (in-batch and BM25 hard negatives); the
    output folder works with --embedding-model."""
    from ragcli.collections import choose_index
    from ragcli.progress import counting_progress
    from ragcli.render import (
        evaluation_skips,
        note,
        plural,
        stdout_console,
        training_epoch_line,
        training_table,
        waiting_for_build,
        write_json,
    )
    from ragcli.training.retriever import RetrieverTrainingSettings, prepare, train_retriever

    settings = RetrieverTrainingSettings(
        model=embedding_model,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        max_seq_length=max_seq_length,
        device=device,
        hard_negatives=hard_negatives,
        validation=validation,
    )
    options.warn_unused_split(ctx, "split", data)
    options.warn_unused_split(ctx, "eval_split", eval_queries, named_by="--eval-queries")
    choice = choose_index(index_dir, collection)
    job = prepare(
        data,
        output,
        settings,
        split=split,
        index_dir=choice.for_dataset(data.is_dir()),  # a BEIR folder is read as one (load_eval_set)
        omit=choice.omit,
        eval_queries=eval_queries,
        eval_split=eval_split,
        strict=strict,
        drop_overlap=drop_overlap,
        on_build=lambda target: note(f"indexing {data} → {target}"),
        on_wait=waiting_for_build,
    )
    for line in evaluation_skips(job.skipped, {}):
        note(line)
    if job.dropped:
        note(f"left out {job.dropped} training question(s) that evaluation also asks (--drop-overlap)")
    if job.missing:
        verb = "is" if job.missing == 1 else "are"
        note(f"{plural(job.missing, 'relevant document id')} {verb} not in the index: left out of the training pairs")
    with counting_progress("training", description="loading the model", estimate_seconds=1800) as bar:
        result = train_retriever(
            job,
            settings,
            progress=lambda done, total, what: bar(done, total, description=what),
            on_epoch=lambda epoch, base: note(training_epoch_line(epoch, base)),
        )
    if json_output:
        write_json(result.to_dict())
    else:
        stdout_console().print(training_table(result))
