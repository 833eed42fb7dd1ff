"""The `ragcli` command: parses options, calls the library, hands the results to the renderer.

No retrieval, indexing or model logic lives here; options shared by several commands are declared
once in ragcli.options.
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
from ragcli.errors import ExitCode, RagcliError

app = typer.Typer(
    name="ragcli",
    help="Retrieval-augmented generation over a local corpus: index a folder, ask questions, get answers with sources.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: bracketed words such as [default: …] show as written
)

_state = {"debug": bool(os.environ.get("RAGCLI_DEBUG"))}
F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    from rich.markup import escape

    from ragcli.render import stderr_console

    stderr_console().print(f"[bold red]ragcli: error:[/] {escape(message)}", soft_wrap=True)
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
    paths: Annotated[
        Optional[list[Path]],
        typer.Argument(
            help="Files and folders to index (folders are walked) [default: the roots the index was built from].",
            show_default=False,
        ),
    ] = None,
    index_dir: options.IndexDir = None,
    rebuild: Annotated[bool, typer.Option(help="Read every file again instead of reusing unchanged ones.")] = False,
    jobs: Annotated[
        Optional[int],
        typer.Option(min=1, help="Tokenising processes [default: CPU count, at most 4].", show_default=False),
    ] = None,
    dense: Annotated[
        Optional[bool],
        typer.Option(
            "--dense/--no-dense",
            help="Embed passages for dense and hybrid retrieval (needs ragcli[dense]) [default: keep what the index has].",
            show_default=False,
        ),
    ] = None,
    embedding_model: options.EmbeddingModel = "all-MiniLM-L6-v2",
    embedding_precision: options.EmbeddingPrecision = "int8",
    embedding_batch_size: options.EmbeddingBatchSize = 32,
    chunk_size: Annotated[int, typer.Option(help="Passage size in words; 0 keeps documents whole.")] = 200,
    chunk_overlap: Annotated[int, typer.Option(help="Words shared by consecutive passages.")] = 40,
    language: Annotated[
        str, typer.Option("--language", "-l", help="Analyzer language: en, es, fr, de, pt, it, nl, da, no, sv, ru, tr.")
    ] = "en",
    stopwords: Annotated[bool, typer.Option(help="Drop the language's stopwords.")] = True,
    stem: Annotated[bool, typer.Option(help="Stem words (Snowball / Porter).")] = True,
    bm25_variant: Annotated[str, typer.Option(help="lucene, robertson, atire, okapi, bm25l or bm25+.")] = "lucene",
    k1: Annotated[
        Optional[float], typer.Option(help="BM25 k1 [default: 1.0; okapi/bm25l/bm25+: 1.5].", show_default=False)
    ] = None,
    b: Annotated[
        Optional[float], typer.Option(help="BM25 b [default: 0.6; okapi/bm25l/bm25+: 0.75].", show_default=False)
    ] = None,
    delta: Annotated[
        Optional[float], typer.Option(help="BM25L/BM25+ delta [default: 0.5 / 1.0].", show_default=False)
    ] = None,
    id_field: Annotated[
        Optional[str], typer.Option(help="Record field holding the id [default: _id, id, docid].", show_default=False)
    ] = None,
    text_field: Annotated[
        Optional[str],
        typer.Option(help="Record field holding the text [default: text, contents, body].", show_default=False),
    ] = None,
    title_field: Annotated[
        Optional[str], typer.Option(help="Record field holding the title [default: title].", show_default=False)
    ] = None,
    skip_invalid: options.SkipInvalid = False,
    wait: options.Wait = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, no summary.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every skipped file with its reason.")] = False,
    json_output: options.Json = False,
) -> None:
    """Read files and folders, split them into passages, and build the BM25 and TF-IDF indexes."""
    from ragcli.analysis import AnalyzerSettings
    from ragcli.chunking import ChunkSettings
    from ragcli.indexing.build import build_index, stored_roots
    from ragcli.indexing.settings import BuildSettings
    from ragcli.readers.base import RecordFields
    from ragcli.render import index_progress, index_summary, note, write_json
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
        skip_invalid=skip_invalid,
        rebuild=rebuild,
        jobs=jobs,
    )
    roots = paths or stored_roots(index_dir)
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
    question: Annotated[
        str,
        typer.Argument(
            help="The question; '-' reads one question per line from stdin (JSON Lines out).", show_default=False
        ),
    ],
    index_dir: options.IndexDir = None,
    retriever: options.Retriever = "bm25",
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="How many passages to retrieve.")] = 5,
    rrf_k: options.RrfK = 60,
    dense_weight: options.DenseWeight = 0.5,
    generate: Annotated[
        bool, typer.Option("--generate/--no-generate", help="Write an answer from the passages, or only retrieve them.")
    ] = True,
    generator: options.Generator = "auto",
    model: options.Model = None,
    prompt_template: Annotated[
        Optional[Path], typer.Option(help="A prompt template file with {passages} and {question}.", show_default=False)
    ] = None,
    max_new_tokens: options.MaxNewTokens = 128,
    num_beams: Annotated[int, typer.Option(min=1, help="Beam search width (1: greedy).")] = 1,
    temperature: Annotated[
        float, typer.Option(min=0.0, help="Sampling temperature; 0 decodes greedily (deterministic).")
    ] = 0.0,
    top_p: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Nucleus sampling mass (with --temperature > 0).")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed for sampling.")] = 0,
    device: options.Device = "auto",
    threads: Annotated[
        Optional[int],
        typer.Option(min=1, help="CPU threads for the model [default: torch's choice].", show_default=False),
    ] = None,
    batch_size: options.BatchSize = 8,
    json_output: options.Json = False,
) -> None:
    """Answer QUESTION from the indexed passages, citing its sources (or only retrieve with --no-generate)."""
    from ragcli.answering import search_questions
    from ragcli.records import SearchOptions
    from ragcli.retrieval.index import load_index

    idx = load_index(index_dir)
    scorer = idx.retriever(retriever, SearchOptions(rrf_k=rrf_k, dense_weight=dense_weight))
    from_stdin = question == "-"
    questions = [line.strip() for line in sys.stdin if line.strip()] if from_stdin else [question]
    as_json = json_output or from_stdin
    if not generate:
        for text, hits in search_questions(idx, questions, top_k, scorer):
            _print_hits(idx, text, retriever, hits, as_json, jsonl=from_stdin)  # the name the user gave
        return
    from ragcli.generation.base import GenerationOptions, check_generator
    from ragcli.generation.prompt import load_template
    from ragcli.models import check_device

    generation = GenerationOptions(
        max_new_tokens=max_new_tokens,
        num_beams=num_beams,
        temperature=temperature,
        top_p=top_p,
        seed=seed,
        device=check_device(device),
        threads=threads,
        batch_size=batch_size,
        prompt_template=load_template(prompt_template) if prompt_template else None,
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
    )


def _print_hits(idx: Any, question: str, retriever: str, hits: list[Any], as_json: bool, jsonl: bool) -> None:
    from ragcli.render import hits_table, stdout_console, write_json

    if as_json:
        write_json(
            {"query": question, "retriever": retriever, "hits": [h.to_dict() for h in hits]},
            indent=None if jsonl else 2,
        )
        return
    console = stdout_console()
    if not hits:
        console.print(NO_MATCH, markup=False)
        return
    console.print(hits_table(f"{retriever} · {question}", hits, idx.analyzer.highlighter(question)))


NO_MATCH = "No passage matches this question (all its words are unknown to the index or stopwords)."


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
) -> None:
    """Retrieve all, then load the generator (sources are printed even if that fails), then answer."""
    from ragcli.answering import generate_answers, retrieve
    from ragcli.generation.base import StreamingGenerator, make_generator
    from ragcli.render import note, write_json

    answers = [retrieve(idx, q, k, scorer, name=name) for q in questions]
    try:
        choice = make_generator(kind, model, generation, index=idx)
    except RagcliError as exc:
        for item in answers:  # the sources are never lost
            if as_json:
                write_json({**item.to_dict(), "error": str(exc)}, indent=None if jsonl else 2)
            else:
                _print_hits(idx, item.question, item.retriever, item.sources, False, False)
        raise
    if choice.notice:
        note(f"ragcli: note: {choice.notice}")
    gen = choice.generator
    if (
        not as_json
        and len(answers) == 1
        and answers[0].sources
        and isinstance(gen, StreamingGenerator)
        and sys.stdout.isatty()
    ):
        _stream_answer(idx, answers[0], gen, choice.load_seconds)
        return
    for item in generate_answers(answers, gen, choice.load_seconds, generation.batch_size):
        if as_json:
            write_json(item.to_dict(), indent=None if jsonl else 2)
        else:
            _print_answer(idx, item)


def _print_answer(idx: Any, item: Any) -> None:
    from ragcli.render import answer_panel, hits_table, stdout_console, timings_line

    console = stdout_console()
    console.print(answer_panel(item))
    if item.sources:
        console.print(
            hits_table("sources", item.sources, idx.analyzer.highlighter(item.question), cited=set(item.citations))
        )
    console.print(timings_line(item.timings), style="dim")


def _stream_answer(idx: Any, item: Any, gen: Any, load_seconds: float) -> None:
    """Show the answer token by token as the model writes it (a terminal only)."""
    from rich.live import Live

    from ragcli.answering import stream_answer
    from ragcli.render import answer_panel, stdout_console

    console = stdout_console()
    with Live(answer_panel(item, partial=""), console=console, refresh_per_second=12, transient=True) as live:
        stream_answer(item, gen, load_seconds, on_text=lambda text: live.update(answer_panel(item, partial=text)))
    _print_answer(idx, item)


@app.command()
@handle_errors
def info(
    index_dir: options.IndexDir = None,
    verify: Annotated[bool, typer.Option(help="Re-hash every payload against the manifest's checksums.")] = False,
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


@app.command()
@handle_errors
def evaluate(
    data: Annotated[
        Path,
        typer.Argument(
            help="A qa.jsonl file, or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/).", show_default=False
        ),
    ],
    index_dir: options.IndexDir = None,
    split: Annotated[str, typer.Option(help="BEIR qrels split (qrels/<split>.tsv).")] = "test",
    retriever: options.Retrievers = "bm25",
    k: Annotated[str, typer.Option("--k", help="Cut-offs for the @k metrics, comma-separated.")] = "1,3,5,10,100",
    depth: Annotated[int, typer.Option(min=1, help="Documents ranked per query (for MAP and the run file).")] = 1000,
    generate: Annotated[
        bool,
        typer.Option(
            "--generate/--no-generate", help="Also answer the questions with gold answers and score the answers."
        ),
    ] = True,
    context: Annotated[
        bool,
        typer.Option(
            "--context/--no-context", help="--no-context adds a closed-book column: the generator without passages."
        ),
    ] = True,
    generator: options.Generator = "auto",
    model: options.Model = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="Passages given to the generator.")] = 5,
    max_new_tokens: options.MaxNewTokens = 64,
    batch_size: options.BatchSize = 8,
    device: options.Device = "auto",
    embedding_precision: options.EmbeddingPrecision = "int8",
    skip_invalid: options.SkipInvalid = False,
    per_query: Annotated[
        Optional[Path],
        typer.Option(help="Write each query's hits, metrics and answer as JSON Lines.", show_default=False),
    ] = None,
    run_file: Annotated[
        Optional[Path], typer.Option(help="Write a TREC run file (one per retriever).", show_default=False)
    ] = None,
    plot: Annotated[
        Optional[Path], typer.Option(help="Plot recall@k over k for each configuration (PNG).", show_default=False)
    ] = None,
    json_output: options.Json = False,
) -> None:
    """Measure retrieval (recall, precision, MRR, nDCG, MAP, hit rate) and answers (EM, F1, BLEU, ROUGE-L)."""
    from ragcli.evaluation.datasets import load_eval_set
    from ragcli.evaluation.indexing import index_for
    from ragcli.evaluation.reports import comparison_table, plot_recall, write_per_query, write_run_files
    from ragcli.evaluation.runner import evaluate as run_evaluation
    from ragcli.generation.base import GenerationOptions, check_generator, make_generator
    from ragcli.models import check_device
    from ragcli.render import counting_progress, note, stdout_console, write_json
    from ragcli.retrieval.embedder import EmbeddingSettings

    eval_set = load_eval_set(data, split, skip_invalid)
    cutoffs = _csv_list(k, int, "--k")
    retrievers = _csv_list(retriever, str, "--retriever")
    generation = GenerationOptions(max_new_tokens=max_new_tokens, batch_size=batch_size, device=check_device(device))
    kind = check_generator(generator)
    with counting_progress("embedding", description="passages") as embed_bar:
        idx = index_for(
            eval_set,
            index_dir,
            retrievers,
            {"dense": EmbeddingSettings(precision=embedding_precision)},
            on_build=lambda target: note(f"indexing {eval_set.corpus} → {target}"),
            embed_progress=embed_bar,
        )
    for name in retrievers:
        idx.retriever(name)  # unknown names and missing data fail before any work
    gen = None
    if generate and any(q.answers for q in eval_set.queries):
        choice = make_generator(kind, model, generation, index=idx)
        if choice.notice:
            note(f"ragcli: note: {choice.notice}")
        gen = choice.generator
    with counting_progress("evaluating", total=len(eval_set.queries)) as bar:
        report = run_evaluation(
            eval_set,
            idx,
            retrievers,
            cutoffs=cutoffs,
            depth=depth,
            generator=gen,
            top_k=top_k,
            closed_book=not context,
            progress=(lambda config, done, total: bar(done, total, config)) if bar else None,
        )
    if per_query:
        write_per_query(report, per_query)
    if run_file:
        for path in write_run_files(report, run_file):
            note(f"run file: {path}")
    if plot:
        plot_recall(report, plot)
    if json_output:
        write_json(report.to_dict())
    else:
        stdout_console().print(comparison_table(report))


@app.command()
@handle_errors
def tune(
    data: Annotated[
        Path, typer.Argument(help="A qa.jsonl file with 'relevant', or a BEIR folder.", show_default=False)
    ],
    index_dir: options.IndexDir = None,
    split: Annotated[str, typer.Option(help="BEIR qrels split to tune on.")] = "train",
    metric: Annotated[str, typer.Option(help="What to maximise: ndcg@10, recall@100, mrr@10, map, ….")] = "ndcg@10",
    k1: Annotated[str, typer.Option("--k1", help="k1 values to try, comma-separated.")] = "0.6,0.9,1.2,1.5,2.0",
    b: Annotated[str, typer.Option("--b", help="b values to try, comma-separated.")] = "0.3,0.45,0.6,0.75,0.9",
    apply: Annotated[bool, typer.Option(help="Store the best k1 and b in the index.")] = False,
    skip_invalid: options.SkipInvalid = False,
    json_output: options.Json = False,
) -> None:
    """Grid-search BM25 k1 and b on judged queries; --apply stores the best pair in the index."""
    from ragcli.evaluation.datasets import load_eval_set
    from ragcli.evaluation.indexing import index_for
    from ragcli.evaluation.tuning import apply_best, tune_bm25
    from ragcli.render import counting_progress, note, stdout_console, tune_table, write_json

    eval_set = load_eval_set(data, split, skip_invalid)
    idx = index_for(eval_set, index_dir)
    k1_values = sorted(set(_csv_list(k1, float, "--k1")))
    b_values = sorted(set(_csv_list(b, float, "--b")))
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
