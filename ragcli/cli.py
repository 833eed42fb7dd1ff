"""The `ragcli` command: parses options, calls the library, hands the results to the renderer.

No retrieval, indexing or model logic lives here; options are declared once in ragcli.options and
printing lives in ragcli.render. (Over 350 lines because it holds six commands: their parameter lists
alone take about a hundred lines; each body is parse → library call → render.)
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer

from ragcli import __version__, options
from ragcli.cli_train import train_app
from ragcli.errors import ExitCode, RagcliError
from ragcli.readers.base import DEFAULT_MAX_BYTES

app = typer.Typer(
    name="ragcli",
    help="Retrieval-augmented generation over a local corpus: index a folder, ask questions, get answers with sources.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(train_app, name="train")

_state = {"debug": bool(os.environ.get("RAGCLI_DEBUG"))}
F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    from rich.markup import escape

    from ragcli.render import printable, stderr_console

    stderr_console().print(f"[bold red]ragcli: error:[/] {escape(printable(message))}", soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(command: F) -> F:
    """Turn library errors into one line on stderr and their exit code; Ctrl-C into exit 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except RagcliError as exc:
            if _state["debug"]:
                raise
            _fail(str(exc), int(exc.exit_code))
        except KeyboardInterrupt:
            _fail("interrupted", int(ExitCode.INTERRUPTED))
        except BrokenPipeError:
            # the reader of our stdout went away (e.g. `| head`): not an error worth a message
            sys.stderr.close()
            raise typer.Exit(0) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: say so briefly, keep the traceback behind --debug
            if _state["debug"]:
                raise
            _fail(
                f"internal error: {type(exc).__name__}: {exc} "
                "(run `ragcli --debug ...` for the traceback and please report it)",
                int(ExitCode.FAILURE),
            )

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ragcli {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Retrieval-augmented generation over a local corpus."""
    if debug:
        _state["debug"] = True


@app.command()
@handle_errors
def index(
    paths: options.Paths = None,
    index_dir: options.IndexDir = None,
    sql: options.Sql = None,
    rebuild: options.Rebuild = False,
    jobs: options.Jobs = None,
    dense: options.Dense = None,
    embedding_model: options.EmbeddingModel = "all-MiniLM-L6-v2",
    embedding_precision: options.EmbeddingPrecision = "int8",
    embedding_batch_size: options.EmbeddingBatchSize = 32,
    chunk_size: options.ChunkSize = 200,
    chunk_overlap: options.ChunkOverlap = 40,
    language: options.Language = "en",
    stopwords: options.Stopwords = True,
    stem: options.Stem = True,
    bm25_variant: options.BM25Variant = "lucene",
    k1: options.K1 = None,
    b: options.B = None,
    delta: options.Delta = None,
    id_field: options.IdField = None,
    text_field: options.TextField = None,
    title_field: options.TitleField = None,
    strict: options.Strict = False,
    skip_invalid: options.SkipInvalid = False,
    max_expanded_size: options.MaxExpandedSize = DEFAULT_MAX_BYTES,
    include: options.Include = None,
    exclude: options.Exclude = None,
    ignore: options.Ignore = None,
    wait: options.Wait = False,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
    json_output: options.Json = False,
) -> None:
    """Read files and folders, split them into passages, and build the BM25 and TF-IDF indexes."""
    from ragcli.analysis import AnalyzerSettings
    from ragcli.chunking import ChunkSettings
    from ragcli.indexing.build import build_index, stored_roots, stored_selection
    from ragcli.indexing.settings import BuildSettings
    from ragcli.progress import index_progress
    from ragcli.readers.base import RecordFields
    from ragcli.readers.selection import Selection
    from ragcli.render import index_summary, note, write_json
    from ragcli.retrieval.bm25 import BM25Params

    retrievers: dict[str, Any] = {"bm25": BM25Params.for_variant(bm25_variant, k1=k1, b=b, delta=delta)}
    if dense:
        from ragcli.retrieval.embedder import EmbeddingSettings

        retrievers["dense"] = EmbeddingSettings(
            model=embedding_model, precision=embedding_precision, batch_size=embedding_batch_size
        )
    settings = BuildSettings(
        analyzer=AnalyzerSettings(language=language, stopwords=stopwords, stem=stem),
        chunking=ChunkSettings(size=chunk_size, overlap=chunk_overlap),
        fields=RecordFields(id=id_field, text=text_field, title=title_field),
        retrievers=retrievers,
        drop=frozenset({"dense"}) if dense is False else frozenset(),
        strict=_strictness(strict, skip_invalid),
        max_expanded_bytes=max_expanded_size,
        rebuild=rebuild,
        jobs=jobs,
        sql=sql,
    )
    roots = paths or stored_roots(index_dir)
    # without paths, the index's roots and file selection are reused; options given still override
    settings.selection = (Selection() if paths else stored_selection(index_dir)).updated(include, exclude, ignore)
    settings.selection.check()
    with index_progress(enabled=not quiet and not json_output) as (on_file, on_embed):
        report = build_index(roots, index_dir, settings, wait=wait, progress=on_file, embed_progress=on_embed)
    if json_output:
        write_json(report.to_dict())
    elif not quiet:
        for line in index_summary(report, verbose):
            note(line)


@app.command()
@handle_errors
def query(
    question: options.Question,
    index_dir: options.IndexDir = None,
    retriever: options.Retriever = "bm25",
    top_k: options.QueryTopK = 5,
    path_globs: options.PathGlobs = None,
    where: options.Where = None,
    rrf_k: options.RrfK = 60,
    dense_weight: options.DenseWeight = 0.5,
    generate: options.Generate = True,
    generator: options.Generator = "auto",
    model: options.Model = None,
    prompt_template: options.PromptTemplate = None,
    max_new_tokens: options.MaxNewTokens = 128,
    num_beams: options.NumBeams = 1,
    temperature: options.Temperature = 0.0,
    top_p: options.TopP = 1.0,
    seed: options.Seed = 0,
    device: options.Device = "auto",
    threads: options.Threads = None,
    batch_size: options.BatchSize = 8,
    answer_style: options.AnswerStyle = "short",
    fallback: options.Fallback = True,
    base_url: options.BaseUrl = None,
    api_key_env: options.ApiKeyEnv = None,
    concurrency: options.Concurrency = 4,
    timeout: options.Timeout = 60.0,
    retries: options.Retries = 2,
    context_tokens: options.ContextTokens = None,
    json_output: options.Json = False,
) -> None:
    """Answer QUESTION from the indexed passages, citing its sources (or only retrieve with --no-generate)."""
    from ragcli.answering import search_questions
    from ragcli.records import SearchOptions
    from ragcli.render import print_hits
    from ragcli.retrieval.filters import Filter
    from ragcli.retrieval.index import load_index

    restriction = Filter.parse(path_globs or (), where or ())  # a bad filter is exit 2 before any work
    idx = load_index(index_dir)
    scorer = idx.retriever(retriever, SearchOptions(rrf_k=rrf_k, dense_weight=dense_weight))
    from_stdin = question == "-"
    questions = [line.strip() for line in sys.stdin if line.strip()] if from_stdin else [question]
    as_json = json_output or from_stdin
    if not generate:
        for text, hits in search_questions(idx, questions, top_k, scorer, restriction):
            hits = idx.with_metadata(hits) if as_json else hits
            print_hits(text, retriever, hits, idx.analyzer.highlighter(text), as_json, jsonl=from_stdin)
        return
    from ragcli.generation.base import check_generator

    generation = _generation_options(
        max_new_tokens=max_new_tokens,
        num_beams=num_beams,
        temperature=temperature,
        top_p=top_p,
        seed=seed,
        device=device,
        threads=threads,
        batch_size=batch_size,
        prompt_template=prompt_template,
        answer_style=answer_style,
        base_url=base_url,
        api_key_env=api_key_env,
        concurrency=concurrency,
        timeout=timeout,
        retries=retries,
        context_tokens=context_tokens,
    )
    _answer_questions(
        idx,
        questions,
        retriever,
        scorer,
        top_k,
        check_generator(generator),
        model,
        generation,
        as_json,
        jsonl=from_stdin,
        restriction=restriction,
        fallback=fallback,
    )


def _generation_options(*, device: str, prompt_template: Optional[Path], answer_style: str, **values: Any) -> Any:
    """GenerationOptions from `query`'s or `evaluate`'s options, every value checked before any work
    (device, template file, answer style, the server options)."""
    from ragcli.generation.base import GenerationOptions, check_answer_style
    from ragcli.generation.openai import check_server_options
    from ragcli.generation.prompt import load_template
    from ragcli.models import check_device

    generation = GenerationOptions(
        device=check_device(device),
        prompt_template=load_template(prompt_template) if prompt_template else None,
        answer_style=check_answer_style(answer_style),
        **values,
    )
    check_server_options(generation)
    return generation


def _answer_questions(
    idx: Any,
    questions: list[str],
    name: str,
    scorer: Any,
    k: int,
    kind: str,
    model: Optional[str],
    generation: Any,
    as_json: bool,
    jsonl: bool,
    restriction: Any = None,
    fallback: bool = True,
) -> None:
    """Retrieve all, then load the generator, then answer; the sources of every answer not given are
    printed when loading or answering fails (a server down, a stream cut off), before the error."""
    from ragcli.answering import extractive_fallback, generate_answers, retrieve
    from ragcli.generation.base import StreamingGenerator, make_generator
    from ragcli.render import note, print_answer, print_hits, print_streamed_answer, write_json

    answers = [retrieve(idx, q, k, scorer, name=name, filter=restriction) for q in questions]
    if as_json:
        for item in answers:
            item.sources = idx.with_metadata(item.sources)
    done = 0

    def print_sources(exc: RagcliError) -> None:
        for item in answers[done:]:  # the sources are never lost
            if as_json:
                write_json({**item.to_dict(), "error": str(exc)}, indent=None if jsonl else 2)
            else:
                print_hits(
                    item.question, item.retriever, item.sources, idx.analyzer.highlighter(item.question), False, False
                )

    try:
        choice = make_generator(kind, model, generation, index=idx)
        if choice.notice:
            note(f"ragcli: note: {choice.notice}")
        gen, one = choice.generator, answers[0]
        backup = extractive_fallback(idx, generation) if fallback and gen.name != "extractive" else None
        if (
            not as_json
            and len(answers) == 1
            and one.sources
            and isinstance(gen, StreamingGenerator)
            and sys.stdout.isatty()
        ):
            print_streamed_answer(one, gen, choice.load_seconds, idx.analyzer.highlighter(one.question), backup)
            return
        batch = max(generation.batch_size, generation.concurrency if gen.name == "openai" else 1)
        for item in generate_answers(answers, gen, choice.load_seconds, batch, fallback=backup):
            if as_json:
                write_json(item.to_dict(), indent=None if jsonl else 2)
            else:
                print_answer(item, idx.analyzer.highlighter(item.question))
            done += 1
    except RagcliError as exc:
        print_sources(exc)
        raise


@app.command()
@handle_errors
def info(
    index_dir: options.IndexDir = None,
    verify: options.Verify = False,
    json_output: options.Json = False,
) -> None:
    """Show what an index holds: counts, size, settings, sources."""
    from ragcli.render import info_table, stdout_console, write_json
    from ragcli.retrieval.index import load_index
    from ragcli.store import verify_checksums

    idx = load_index(index_dir)
    if verify:
        verify_checksums(idx.path, idx.manifest)
    data = idx.info()
    if verify:
        data["verified"] = True
    if json_output:
        write_json(data)
    else:
        stdout_console().print(info_table(data))


@app.command()
@handle_errors
def plugins(json_output: options.Json = False) -> None:
    """List the registered readers, retrievers and generators (built-in and from plugin packages)."""
    from ragcli.generation.base import GENERATORS
    from ragcli.readers.base import READERS
    from ragcli.render import plugins_table, stdout_console, write_json
    from ragcli.retrieval.base import RETRIEVERS

    found = [info for registry in (READERS, RETRIEVERS, GENERATORS) for info in registry.describe()]
    if json_output:
        write_json([info.to_dict() for info in found])
    else:
        stdout_console().print(plugins_table(found))


def _csv_list(text: str, convert: Callable[[str], Any], option: str) -> list[Any]:
    from ragcli.errors import InvalidOptionError

    try:
        values = [convert(part.strip()) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidOptionError(f"{option}: not a comma-separated list: {text!r}") from None
    if not values:
        raise InvalidOptionError(f"{option}: empty list")
    return values


def _strictness(strict: bool, skip_invalid: bool) -> bool:
    """--strict, checked against the deprecated --skip-invalid (skipping is the default now)."""
    from ragcli.errors import InvalidOptionError

    if strict and skip_invalid:
        raise InvalidOptionError("--strict and --skip-invalid contradict each other", hint="pass one of them")
    return strict


@app.command()
@handle_errors
def evaluate(
    data: options.Dataset,
    index_dir: options.IndexDir = None,
    split: options.Split = "test",
    retriever: options.Retrievers = "bm25",
    k: options.Cutoffs = "1,3,5,10,100",
    depth: options.Depth = 1000,
    generate: options.EvaluateGenerate = True,
    context: options.Context = True,
    generator: options.Generator = "auto",
    model: options.Model = None,
    top_k: options.GeneratorTopK = 5,
    max_new_tokens: options.MaxNewTokens = 64,
    batch_size: options.BatchSize = 8,
    device: options.Device = "auto",
    threads: options.Threads = None,
    prompt_template: options.PromptTemplate = None,
    answer_style: options.AnswerStyle = "short",
    base_url: options.BaseUrl = None,
    api_key_env: options.ApiKeyEnv = None,
    concurrency: options.Concurrency = 4,
    timeout: options.Timeout = 60.0,
    retries: options.Retries = 2,
    context_tokens: options.ContextTokens = None,
    embedding_model: options.EmbeddingModel = "all-MiniLM-L6-v2",
    embedding_precision: options.EmbeddingPrecision = "int8",
    strict: options.Strict = False,
    path_globs: options.PathGlobs = None,
    where: options.Where = None,
    skip_invalid: options.SkipInvalid = False,
    per_query: options.PerQuery = None,
    run_file: options.RunFile = None,
    plot: options.Plot = None,
    json_output: options.Json = False,
) -> None:
    """Measure retrieval (recall, precision, MRR, nDCG, MAP, hit rate) and answers (EM, F1, BLEU, ROUGE-L)."""
    from ragcli.evaluation.datasets import load_eval_set
    from ragcli.evaluation.indexing import index_for
    from ragcli.evaluation.reports import plan_outputs, plot_recall, result_writers
    from ragcli.evaluation.runner import check_cutoffs, check_retrievers
    from ragcli.evaluation.runner import evaluate as run_evaluation
    from ragcli.generation.base import check_generator, make_generator
    from ragcli.progress import counting_progress, evaluation_progress
    from ragcli.render import comparison_table, evaluation_skips, note, stdout_console, write_json
    from ragcli.retrieval.embedder import EmbeddingSettings
    from ragcli.retrieval.filters import Filter

    # every option value and output path is checked before any indexing, model loading or evaluating
    restriction = Filter.parse(path_globs or (), where or ())
    cutoffs = check_cutoffs(_csv_list(k, int, "--k"))
    retrievers = check_retrievers(_csv_list(retriever, str, "--retriever"))
    generation = _generation_options(
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        device=device,
        threads=threads,
        prompt_template=prompt_template,
        answer_style=answer_style,
        base_url=base_url,
        api_key_env=api_key_env,
        concurrency=concurrency,
        timeout=timeout,
        retries=retries,
        context_tokens=context_tokens,
    )
    kind = check_generator(generator)
    outputs = plan_outputs(retrievers, per_query=per_query, run_file=run_file, plot=plot)
    strict = _strictness(strict, skip_invalid)
    eval_set = load_eval_set(data, split, strict)
    with counting_progress("embedding", description="passages") as embed_bar:
        idx = index_for(
            eval_set,
            index_dir,
            retrievers,
            {"dense": EmbeddingSettings(model=embedding_model, precision=embedding_precision)},
            strict=strict,
            on_build=lambda target: note(f"indexing {eval_set.corpus} → {target}"),
            embed_progress=embed_bar,
        )
    for name in retrievers:
        idx.retriever(name)  # missing data (e.g. no dense vectors) fails before any work
    gen = None
    if generate and any(q.answers for q in eval_set.queries):
        choice = make_generator(kind, model, generation, index=idx)
        if choice.notice:
            note(f"ragcli: note: {choice.notice}")
        gen = choice.generator
    with_answers = sum(1 for q in eval_set.queries if q.answers) if gen is not None else 0
    to_answer = with_answers * (len(retrievers) + (0 if context else 1))
    with evaluation_progress(len(eval_set.queries), to_answer) as (bar, on_answers), result_writers(outputs) as sinks:
        report = run_evaluation(
            eval_set,
            idx,
            retrievers,
            cutoffs=cutoffs,
            depth=depth,
            generator=gen,
            top_k=top_k,
            closed_book=not context,
            progress=bar,
            sinks=sinks,
            batch_size=max(batch_size, concurrency if gen is not None and gen.name == "openai" else 1),
            filter=restriction,
            on_answers=on_answers,
        )
    for line in evaluation_skips(eval_set.skipped, report.corpus_skipped):
        note(line)
    if outputs.per_query and outputs.per_query in outputs.replaces:
        note(outputs.describe(outputs.per_query, "per-query results"))
    for path in outputs.run_files.values():
        note(outputs.describe(path, "run file"))
    if outputs.plot:
        plot_recall(report, outputs.plot)
        if outputs.plot in outputs.replaces:
            note(outputs.describe(outputs.plot, "plot"))
    if json_output:
        write_json(report.to_dict())
    else:
        stdout_console().print(comparison_table(report))


@app.command()
@handle_errors
def tune(
    data: options.JudgedDataset,
    index_dir: options.IndexDir = None,
    split: options.Split = "train",
    metric: options.Metric = "ndcg@10",
    k1: options.K1Grid = "0.6,0.9,1.2,1.5,2.0",
    b: options.BGrid = "0.3,0.45,0.6,0.75,0.9",
    apply: options.Apply = False,
    strict: options.Strict = False,
    skip_invalid: options.SkipInvalid = False,
    json_output: options.Json = False,
) -> None:
    """Grid-search BM25 k1 and b on judged queries; --apply stores the best pair in the index."""
    from ragcli.evaluation.datasets import load_eval_set
    from ragcli.evaluation.indexing import corpus_skips, index_for
    from ragcli.evaluation.tuning import apply_best, check_grid, tune_bm25
    from ragcli.progress import counting_progress
    from ragcli.render import evaluation_skips, note, stdout_console, tune_table, write_json

    k1_values = sorted(set(_csv_list(k1, float, "--k1")))
    b_values = sorted(set(_csv_list(b, float, "--b")))
    check_grid(metric, k1_values, b_values)  # before any indexing
    strict = _strictness(strict, skip_invalid)
    eval_set = load_eval_set(data, split, strict)
    idx = index_for(eval_set, index_dir, strict=strict)
    for line in evaluation_skips(eval_set.skipped, corpus_skips(idx) if eval_set.corpus is not None else {}):
        note(line)
    with counting_progress("tuning", total=len(k1_values) * len(b_values), description="k1 × b") as bar:
        rows = tune_bm25(eval_set, idx, metric=metric, k1_values=k1_values, b_values=b_values, progress=bar)
    best = rows[0]
    current = idx.manifest["bm25"]
    if apply:
        apply_best(idx, best)
        note(f"stored k1={best.k1} b={best.b} in {idx.path}")
    if json_output:
        write_json(
            {
                "metric": metric,
                "dataset": eval_set.name,
                "index": str(idx.path),
                "applied": apply,
                "best": {"k1": best.k1, "b": best.b, "score": best.score},
                "grid": [{"k1": r.k1, "b": r.b, "score": r.score} for r in rows],
            }
        )
        return
    title = f"BM25 {metric} on {eval_set.name} (current: k1={current.get('k1')}, b={current.get('b')})"
    scores = {(r.k1, r.b): r.score for r in rows}
    stdout_console().print(tune_table(title, k1_values, b_values, scores, (best.k1, best.b)))


def main() -> None:
    """Console-script entry point."""
    app()
