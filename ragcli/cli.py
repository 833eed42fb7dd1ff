"""The `ragcli` command: parses options, calls the library, renders. No retrieval logic lives here."""
from __future__ import annotations

import contextlib
import functools
import os
import sys
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import typer
from typing_extensions import Annotated

from ragcli import __version__
from ragcli.errors import ExitCode, RagcliError

app = typer.Typer(
    name="ragcli",
    help="Retrieval-augmented generation over a local corpus: index a folder, ask questions, get answers with sources.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": bool(os.environ.get("RAGCLI_DEBUG"))}
F = TypeVar("F", bound=Callable[..., Any])

IndexOption = Annotated[
    Optional[Path],
    typer.Option("--index", "-i", help="Index folder \\[default: $RAGCLI_INDEX or ./.ragcli]", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")]


def _fail(message: str, code: int) -> None:
    from ragcli.render import stderr_console

    stderr_console().print(f"[bold red]ragcli: error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(command: F) -> F:
    """Turn library errors into one line on stderr and their exit code; Ctrl-C into exit 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from rich.markup import escape

        try:
            return command(*args, **kwargs)
        except RagcliError as exc:
            if _state["debug"]:
                raise
            _fail(escape(str(exc)), int(exc.exit_code))
        except KeyboardInterrupt:
            _fail("interrupted", int(ExitCode.INTERRUPTED))
        except BrokenPipeError:
            # the reader of our stdout went away (e.g. `| head`): not an error worth a message
            sys.stderr.close()
            raise typer.Exit(0)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: say so briefly, keep the traceback behind --debug
            if _state["debug"]:
                raise
            _fail(
                f"internal error: {escape(type(exc).__name__)}: {escape(str(exc))} "
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
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Files and folders to index (folders are walked) \\[default: the roots the index was built from].", show_default=False)] = None,
    index_dir: IndexOption = None,
    rebuild: Annotated[bool, typer.Option(help="Read every file again instead of reusing unchanged ones.")] = False,
    jobs: Annotated[Optional[int], typer.Option(min=1, help="Tokenising processes \\[default: CPU count, at most 4].", show_default=False)] = None,
    dense: Annotated[Optional[bool], typer.Option("--dense/--no-dense", help="Embed passages for dense and hybrid retrieval (needs ragcli\\[dense]) \\[default: keep what the index has].", show_default=False)] = None,
    embedding_model: Annotated[str, typer.Option(help="Sentence-embedding model: hub id or local folder.")] = "all-MiniLM-L6-v2",
    embedding_precision: Annotated[str, typer.Option(help="int8 (ONNX Runtime, ~1.4x faster, same quality on SciFact) or fp32 (PyTorch).")] = "int8",
    embedding_batch_size: Annotated[int, typer.Option(min=1, help="Passages embedded together.")] = 32,
    chunk_size: Annotated[int, typer.Option(help="Passage size in words; 0 keeps documents whole.")] = 200,
    chunk_overlap: Annotated[int, typer.Option(help="Words shared by consecutive passages.")] = 40,
    language: Annotated[str, typer.Option("--language", "-l", help="Analyzer language: en, es, fr, de, pt, it, nl, da, no, sv, ru, tr.")] = "en",
    stopwords: Annotated[bool, typer.Option(help="Drop the language's stopwords.")] = True,
    stem: Annotated[bool, typer.Option(help="Stem words (Snowball / Porter).")] = True,
    bm25_variant: Annotated[str, typer.Option(help="lucene, robertson, atire, okapi, bm25l or bm25+.")] = "lucene",
    k1: Annotated[Optional[float], typer.Option(help="BM25 k1 \\[default: 1.0; okapi/bm25l/bm25+: 1.5].", show_default=False)] = None,
    b: Annotated[Optional[float], typer.Option(help="BM25 b \\[default: 0.6; okapi/bm25l/bm25+: 0.75].", show_default=False)] = None,
    delta: Annotated[Optional[float], typer.Option(help="BM25L/BM25+ delta \\[default: 0.5 / 1.0].", show_default=False)] = None,
    id_field: Annotated[Optional[str], typer.Option(help="Record field holding the id \\[default: _id, id, docid].", show_default=False)] = None,
    text_field: Annotated[Optional[str], typer.Option(help="Record field holding the text \\[default: text, contents, body].", show_default=False)] = None,
    title_field: Annotated[Optional[str], typer.Option(help="Record field holding the title \\[default: title].", show_default=False)] = None,
    skip_invalid: Annotated[bool, typer.Option(help="Skip malformed JSON/CSV records instead of stopping.")] = False,
    wait: Annotated[bool, typer.Option(help="Wait for another build of the same index to finish.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, no summary.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every skipped file with its reason.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Read files and folders, split them into passages, and build the BM25 and TF-IDF indexes."""
    from ragcli.analysis import AnalyzerSettings
    from ragcli.chunking import ChunkSettings
    from ragcli.corpus import RecordFields
    from ragcli.indexer import BuildSettings, build_index
    from ragcli.render import human_bytes, stderr_console, summarize_reasons, write_json
    from ragcli.retrieval.bm25 import BM25Params

    settings = BuildSettings(
        analyzer=AnalyzerSettings(language=language, stopwords=stopwords, stem=stem),
        chunking=ChunkSettings(size=chunk_size, overlap=chunk_overlap),
        bm25=BM25Params.for_variant(bm25_variant, k1=k1, b=b, delta=delta),
        fields=RecordFields(id=id_field, text=text_field, title=title_field),
        skip_invalid=skip_invalid,
        rebuild=rebuild,
        jobs=jobs,
        dense=_embedding_settings(embedding_model, embedding_precision, embedding_batch_size) if dense else None,
        no_dense=dense is False,
    )
    if not paths:
        paths = _stored_roots(index_dir)
    err = stderr_console()
    show_progress = not quiet and not json_output and err.is_terminal
    if show_progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True,
        ) as bar:
            task = bar.add_task("indexing", total=None, unit="files")
            embedding = bar.add_task("embedding", total=None, unit="passages", visible=False)

            def progress(path: str, done: int, total: int, passages: int) -> None:
                bar.update(task, completed=done, total=total, unit=f"files · {passages:,} passages")

            def embed_progress(done: int, total: int) -> None:
                bar.update(embedding, completed=done, total=total, visible=True)

            report = build_index(paths, index_dir, settings, wait=wait, progress=progress, embed_progress=embed_progress)
    else:
        report = build_index(paths, index_dir, settings, wait=wait)
    if json_output:
        write_json(report.to_dict())
        return
    if verbose:
        for skipped in report.skipped:
            err.print(f"skipped {skipped.path}: {skipped.reason}", markup=False, soft_wrap=True)
        for warning in report.warnings:
            err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    if not quiet:
        size = human_bytes(sum(p.stat().st_size for p in Path(report.index_dir).rglob("*.joblib")))
        verb = "Up to date:" if report.up_to_date else "Indexed"
        line = (
            f"{verb} {report.documents:,} documents ({report.passages:,} passages, {report.terms:,} terms) "
            f"from {report.files:,} files in {report.seconds:.1f} s → {report.index_dir} ({size})"
        )
        if report.unchanged or report.removed or report.changed:
            line += (f"; files: {report.new} new, {report.changed} changed, {report.removed} removed, "
                     f"{report.unchanged} unchanged")
        if report.skipped:
            line += f"; skipped {len(report.skipped)}: {summarize_reasons(s.reason for s in report.skipped)}"
            if not verbose:
                line += " (--verbose lists them)"
        err.print(line, markup=False, soft_wrap=True)


def _embedding_settings(model: str, precision: str, batch_size: int) -> Any:
    from ragcli.retrieval.dense import EmbeddingSettings

    return EmbeddingSettings(model=model, precision=precision, batch_size=batch_size)


def _stored_roots(index_dir: Optional[Path]) -> list[Path]:
    """`ragcli index` without paths: the roots the existing index was built from."""
    from ragcli.errors import InvalidOptionError, NoIndexError
    from ragcli.store import read_manifest, resolve_index_dir

    try:
        roots = read_manifest(resolve_index_dir(index_dir)).get("roots") or []
    except NoIndexError:
        raise InvalidOptionError("no PATH given and no index to re-read", hint="ragcli index PATH...") from None
    return [Path(r) for r in roots]


@app.command()
@handle_errors
def query(
    question: Annotated[str, typer.Argument(help="The question; '-' reads one question per line from stdin (JSON Lines out).", show_default=False)],
    index_dir: IndexOption = None,
    retriever: Annotated[str, typer.Option("--retriever", "-r", help="bm25, tfidf, dense, hybrid (RRF) or hybrid-zscore.")] = "bm25",
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="How many passages to retrieve.")] = 5,
    rrf_k: Annotated[int, typer.Option(min=1, help="Hybrid: the k of reciprocal rank fusion.")] = 60,
    dense_weight: Annotated[float, typer.Option(min=0.0, max=1.0, help="hybrid-zscore: the dense scores' weight.")] = 0.5,
    generate: Annotated[bool, typer.Option("--generate/--no-generate", help="Write an answer from the passages, or only retrieve them.")] = True,
    generator: Annotated[str, typer.Option("--generator", "-g", help="auto, transformers or extractive.")] = "auto",
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Hub id or local folder \\[default: $RAGCLI_MODEL or google/flan-t5-base].", show_default=False)] = None,
    prompt_template: Annotated[Optional[Path], typer.Option(help="A prompt template file with {passages} and {question}.", show_default=False)] = None,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Longest answer, in tokens.")] = 128,
    num_beams: Annotated[int, typer.Option(min=1, help="Beam search width (1: greedy).")] = 1,
    temperature: Annotated[float, typer.Option(min=0.0, help="Sampling temperature; 0 decodes greedily (deterministic).")] = 0.0,
    top_p: Annotated[float, typer.Option(min=0.0, max=1.0, help="Nucleus sampling mass (with --temperature > 0).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed for sampling.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
    threads: Annotated[Optional[int], typer.Option(min=1, help="CPU threads for the model \\[default: torch's choice].", show_default=False)] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Questions generated together with '-'.")] = 8,
    json_output: JsonOption = False,
) -> None:
    """Answer QUESTION from the indexed passages, citing its sources (or only retrieve with --no-generate)."""
    from ragcli.index import load_index

    idx = load_index(index_dir)
    scorer: Any = retriever
    if retriever.startswith("hybrid") and (rrf_k != 60 or dense_weight != 0.5):
        from ragcli.retrieval.dense import HybridRetriever

        idx.retriever(retriever)  # the usual checks (dense vectors present)
        scorer = HybridRetriever(idx, fusion="zscore" if retriever == "hybrid-zscore" else "rrf", rrf_k=rrf_k, dense_weight=dense_weight)
    from_stdin = question == "-"
    questions = [line.strip() for line in sys.stdin if line.strip()] if from_stdin else [question]
    as_json = json_output or from_stdin
    if not generate:
        # many questions are scored together in sparse products (faster per question, but they read the
        # whole weight matrix); a single one touches only its own terms' rows
        for start in range(0, len(questions), 256):
            chunk = questions[start : start + 256]
            found = idx.search_many(chunk, k=top_k, retriever=scorer) if len(chunk) > 1 else [
                idx.search(chunk[0], k=top_k, retriever=scorer)]
            for text, hits in zip(chunk, found):
                _print_hits(idx, text, retriever, hits, as_json, jsonl=from_stdin)  # the name, even for a tuned scorer
        return
    from ragcli.generation import GenerationOptions
    from ragcli.generation.prompt import load_template

    options = GenerationOptions(
        max_new_tokens=max_new_tokens, num_beams=num_beams, temperature=temperature, top_p=top_p, seed=seed,
        device=device, threads=threads, batch_size=batch_size,
        prompt_template=load_template(prompt_template) if prompt_template else None,
    )
    _answer_questions(idx, questions, scorer, top_k, generator, model, options, as_json, jsonl=from_stdin)


def _print_hits(idx: Any, question: str, retriever: str, hits: list[Any], as_json: bool, jsonl: bool) -> None:
    from ragcli.render import hits_table, stdout_console, write_json

    if as_json:
        write_json({"query": question, "retriever": retriever, "hits": [h.to_dict() for h in hits]}, indent=None if jsonl else 2)
        return
    console = stdout_console()
    if not hits:
        console.print(NO_MATCH, markup=False)
        return
    console.print(hits_table(f"{retriever} · {question}", hits, _highlighter(idx, question)))


NO_MATCH = "No passage matches this question (all its words are unknown to the index or stopwords)."


def _highlighter(idx: Any, question: str) -> Callable[[str], list[tuple[int, int]]]:
    terms = frozenset(idx.analyzer(question))
    return lambda text: idx.analyzer.matching_spans(text, terms)


def _answer_questions(
    idx: Any, questions: list[str], retriever: str, k: int, kind: str, model: Optional[str], options: Any,
    as_json: bool, jsonl: bool,
) -> None:
    """Retrieve all, then load the generator (sources are printed even if that fails), then answer."""
    from ragcli.answering import generate_answers, retrieve
    from ragcli.generation import StreamingGenerator, make_generator
    from ragcli.render import stderr_console, write_json

    answers = [retrieve(idx, q, k, retriever) for q in questions]
    try:
        choice = make_generator(kind, model, options, index=idx)
    except RagcliError as exc:
        for item in answers:  # the sources are never lost
            if as_json:
                write_json({**item.to_dict(), "error": str(exc)}, indent=None if jsonl else 2)
            else:
                _print_hits(idx, item.question, item.retriever, item.sources, False, False)
        raise
    if choice.notice:
        stderr_console().print(f"ragcli: note: {choice.notice}", markup=False, soft_wrap=True)
    gen = choice.generator
    if not as_json and len(answers) == 1 and answers[0].sources and isinstance(gen, StreamingGenerator) and sys.stdout.isatty():
        _stream_answer(idx, answers[0], gen, choice.load_seconds)
        return
    for item in generate_answers(answers, gen, choice.load_seconds, options.batch_size):
        if as_json:
            write_json(item.to_dict(), indent=None if jsonl else 2)
        else:
            _print_answer(idx, item)


def _print_answer(idx: Any, item: Any) -> None:
    from ragcli.render import answer_panel, hits_table, stdout_console, timings_line

    console = stdout_console()
    console.print(answer_panel(item))
    if item.sources:
        console.print(hits_table("sources", item.sources, _highlighter(idx, item.question), cited=set(item.citations)))
    console.print(timings_line(item.timings), style="dim")


def _stream_answer(idx: Any, item: Any, gen: Any, load_seconds: float) -> None:
    """Show the answer token by token as the model writes it (a terminal only)."""
    import time

    from rich.live import Live

    from ragcli.answering import with_generation
    from ragcli.render import answer_panel, stdout_console

    console = stdout_console()
    began = time.perf_counter()
    pieces, finish = gen.stream(item.question, item.sources)
    text = ""
    with Live(answer_panel(item, partial=text), console=console, refresh_per_second=12, transient=True) as live:
        for piece in pieces:
            text += piece
            live.update(answer_panel(item, partial=text))
    generation = finish()
    item.timings["load"] = load_seconds
    with_generation(item, gen, generation, time.perf_counter() - began)
    _print_answer(idx, item)


@app.command()
@handle_errors
def info(
    index_dir: IndexOption = None,
    verify: Annotated[bool, typer.Option(help="Re-hash every payload against the manifest's checksums.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Show what an index holds: counts, size, settings, sources."""
    from ragcli.index import load_index
    from ragcli.render import info_table, stdout_console, write_json
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


def _csv_list(text: str, convert: Callable[[str], Any], option: str) -> list[Any]:
    from ragcli.errors import InvalidOptionError

    try:
        values = [convert(part.strip()) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidOptionError(f"{option}: not a comma-separated list: {text!r}") from None
    if not values:
        raise InvalidOptionError(f"{option}: empty list")
    return values


def _progress_bar(label: str) -> Any:
    """A transient progress bar on stderr, or None when stderr is not a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ragcli.render import stderr_console

    console = stderr_console()
    if not console.is_terminal:
        return None
    return Progress(TextColumn(label), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, transient=True)


@app.command()
@handle_errors
def evaluate(
    data: Annotated[Path, typer.Argument(help="A qa.jsonl file, or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/).", show_default=False)],
    index_dir: IndexOption = None,
    split: Annotated[str, typer.Option(help="BEIR qrels split (qrels/<split>.tsv).")] = "test",
    retriever: Annotated[str, typer.Option("--retriever", "-r", help="Retrievers to compare, comma-separated: bm25,tfidf.")] = "bm25",
    k: Annotated[str, typer.Option("--k", help="Cut-offs for the @k metrics, comma-separated.")] = "1,3,5,10,100",
    depth: Annotated[int, typer.Option(min=1, help="Documents ranked per query (for MAP and the run file).")] = 1000,
    generate: Annotated[bool, typer.Option("--generate/--no-generate", help="Also answer the questions with gold answers and score the answers.")] = True,
    context: Annotated[bool, typer.Option("--context/--no-context", help="--no-context adds a closed-book column: the generator without passages.")] = True,
    generator: Annotated[str, typer.Option("--generator", "-g", help="auto, transformers or extractive.")] = "auto",
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Hub id or local folder for the generator.", show_default=False)] = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="Passages given to the generator.")] = 5,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Longest answer, in tokens.")] = 64,
    batch_size: Annotated[int, typer.Option(min=1, help="Questions generated together.")] = 8,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
    embedding_precision: Annotated[str, typer.Option(help="BEIR folders with dense/hybrid: embed in int8 or fp32.")] = "int8",
    skip_invalid: Annotated[bool, typer.Option(help="Skip invalid lines (and report how many) instead of stopping.")] = False,
    per_query: Annotated[Optional[Path], typer.Option(help="Write each query's hits, metrics and answer as JSON Lines.", show_default=False)] = None,
    run_file: Annotated[Optional[Path], typer.Option(help="Write a TREC run file (one per retriever).", show_default=False)] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Plot recall@k over k for each configuration (PNG).", show_default=False)] = None,
    json_output: JsonOption = False,
) -> None:
    """Measure retrieval (recall, precision, MRR, nDCG, MAP, hit rate) and answers (EM, F1, BLEU, ROUGE-L)."""
    from ragcli.evaluation.datasets import load_eval_set
    from ragcli.evaluation.indexing import index_for
    from ragcli.evaluation.reports import comparison_table, plot_recall, write_per_query, write_run_files
    from ragcli.evaluation.runner import evaluate as run_evaluation
    from ragcli.generation import GenerationOptions, make_generator
    from ragcli.render import stderr_console, stdout_console, write_json

    err = stderr_console()
    eval_set = load_eval_set(data, split, skip_invalid)
    cutoffs = _csv_list(k, int, "--k")
    retrievers = _csv_list(retriever, str, "--retriever")
    from ragcli.index import DENSE_RETRIEVERS
    from ragcli.indexer import BuildSettings

    build = BuildSettings()
    if any(name in DENSE_RETRIEVERS for name in retrievers):
        from ragcli.retrieval.dense import EmbeddingSettings

        build.dense = EmbeddingSettings(precision=embedding_precision)  # the default model and batch size
    embed_bar = _progress_bar("embedding")
    with embed_bar if embed_bar is not None else contextlib.nullcontext():
        embed_task = embed_bar.add_task("passages", total=None) if embed_bar is not None else None
        idx = index_for(
            eval_set, index_dir, build,
            on_build=lambda target: err.print(f"indexing {eval_set.corpus} → {target}", markup=False, soft_wrap=True),
            embed_progress=(lambda done, total: embed_bar.update(embed_task, completed=done, total=total)) if embed_bar else None,
        )
    for name in retrievers:
        idx.retriever(name)  # unknown names fail before any work
    gen = None
    if generate and any(q.answers for q in eval_set.queries):
        options = GenerationOptions(max_new_tokens=max_new_tokens, batch_size=batch_size, device=device)
        choice = make_generator(generator, model, options, index=idx)
        if choice.notice:
            err.print(f"ragcli: note: {choice.notice}", markup=False, soft_wrap=True)
        gen = choice.generator
    bar = _progress_bar("evaluating")
    with bar if bar is not None else contextlib.nullcontext():
        progress = None
        if bar is not None:
            task = bar.add_task("", total=len(eval_set.queries))

            def progress(config: str, done: int, total: int) -> None:
                bar.update(task, description=config, completed=done, total=total)

        report = run_evaluation(eval_set, idx, retrievers, cutoffs=cutoffs, depth=depth, generator=gen,
                                top_k=top_k, closed_book=not context, progress=progress)
    if per_query:
        write_per_query(report, per_query)
    if run_file:
        for path in write_run_files(report, run_file):
            err.print(f"run file: {path}", markup=False)
    if plot:
        plot_recall(report, plot)
    if json_output:
        write_json(report.to_dict())
    else:
        stdout_console().print(comparison_table(report))


@app.command()
@handle_errors
def tune(
    data: Annotated[Path, typer.Argument(help="A qa.jsonl file with 'relevant', or a BEIR folder.", show_default=False)],
    index_dir: IndexOption = None,
    split: Annotated[str, typer.Option(help="BEIR qrels split to tune on.")] = "train",
    metric: Annotated[str, typer.Option(help="What to maximise: ndcg@10, recall@100, mrr@10, map, ….")] = "ndcg@10",
    k1: Annotated[str, typer.Option("--k1", help="k1 values to try, comma-separated.")] = "0.6,0.9,1.2,1.5,2.0",
    b: Annotated[str, typer.Option("--b", help="b values to try, comma-separated.")] = "0.3,0.45,0.6,0.75,0.9",
    apply: Annotated[bool, typer.Option(help="Store the best k1 and b in the index.")] = False,
    skip_invalid: Annotated[bool, typer.Option(help="Skip invalid lines instead of stopping.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Grid-search BM25 k1 and b on judged queries; --apply stores the best pair in the index."""
    from rich.table import Table

    from ragcli.evaluation.datasets import load_eval_set
    from ragcli.evaluation.indexing import index_for
    from ragcli.evaluation.tuning import tune_bm25
    from ragcli.indexer import reweight_bm25
    from ragcli.render import stderr_console, stdout_console, write_json
    from ragcli.retrieval.bm25 import BM25Params

    eval_set = load_eval_set(data, split, skip_invalid)
    idx = index_for(eval_set, index_dir)
    k1_values = sorted(set(_csv_list(k1, float, "--k1")))
    b_values = sorted(set(_csv_list(b, float, "--b")))
    bar = _progress_bar("tuning")
    with bar if bar is not None else contextlib.nullcontext():
        task = bar.add_task("k1 × b", total=len(k1_values) * len(b_values)) if bar is not None else None
        rows = tune_bm25(eval_set, idx, metric=metric, k1_values=k1_values, b_values=b_values,
                         progress=(lambda done, total: bar.update(task, completed=done)) if bar is not None else None)
    best = rows[0]
    current = idx.manifest["bm25"]
    if apply:
        reweight_bm25(idx.path, BM25Params.for_variant(current.get("variant", "lucene"), k1=best.k1, b=best.b))
        stderr_console().print(f"stored k1={best.k1} b={best.b} in {idx.path}", markup=False)
    if json_output:
        write_json({"metric": metric, "dataset": eval_set.name, "index": str(idx.path), "applied": apply,
                    "best": {"k1": best.k1, "b": best.b, "score": best.score},
                    "grid": [{"k1": r.k1, "b": r.b, "score": r.score} for r in rows]})
        return
    table = Table(title=f"BM25 {metric} on {eval_set.name} (current: k1={current.get('k1')}, b={current.get('b')})", title_justify="left")
    table.add_column("k1 \\ b", justify="right")
    for value in b_values:
        table.add_column(f"{value:g}", justify="right")
    scores = {(r.k1, r.b): r.score for r in rows}
    for k1_value in k1_values:
        cells = [f"{scores[(k1_value, bv)]:.4f}" for bv in b_values]
        cells = [f"[bold]{c}[/]" if (k1_value, bv) == (best.k1, best.b) else c for c, bv in zip(cells, b_values)]
        table.add_row(f"{k1_value:g}", *cells)
    stdout_console().print(table)


def main() -> None:
    """Console-script entry point."""
    app()
