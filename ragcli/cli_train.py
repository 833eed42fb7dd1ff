"""`ragcli train …`: the training commands, a typer sub-app that cli.py adds as `train`.

A module of its own so that each training command is one small block here rather than more lines in
cli.py. Like cli.py it only parses, calls the library and hands the result to the renderer. Errors go
through cli.handle_errors, looked up when a command runs: cli.py imports this module to add the
sub-app, so importing cli.py from here at import time would be a cycle.
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


@train_app.command("retriever")
@_handled
def retriever(
    data: options.RetrieverTrainingData,
    output: options.RetrieverOutput,
    index_dir: options.IndexDir = None,
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
    from ragcli.progress import counting_progress
    from ragcli.render import evaluation_skips, note, stdout_console, training_epoch_line, training_table, write_json
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
    job = prepare(
        data,
        output,
        settings,
        split=split,
        index_dir=index_dir,
        eval_queries=eval_queries,
        eval_split=eval_split,
        strict=strict,
        drop_overlap=drop_overlap,
        on_build=lambda target: note(f"indexing {data} → {target}"),
    )
    for line in evaluation_skips(job.skipped, {}):
        note(line)
    if job.dropped:
        note(f"left out {job.dropped} training question(s) that evaluation also asks (--drop-overlap)")
    if job.missing:
        note(f"{job.missing} relevant document id(s) are not in the index: those pairs are left out")
    with counting_progress("training", description="loading the model", estimate_seconds=1800) as bar:
        result = train_retriever(
            job,
            settings,
            progress=(lambda done, total, what: bar(done, total, description=what)) if bar else None,
            on_epoch=lambda epoch, base: note(training_epoch_line(epoch, base)),
        )
    if json_output:
        write_json(result.to_dict())
    else:
        stdout_console().print(training_table(result))
