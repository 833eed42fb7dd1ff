"""The `ragcli` command: parses options, calls the library, renders. No retrieval logic lives here."""
from __future__ import annotations

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
    typer.Option("--index", "-i", help="Index folder [default: $RAGCLI_INDEX or ./.ragcli]", show_default=False),
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
    paths: Annotated[list[Path], typer.Argument(help="Files and folders to index (folders are walked).", show_default=False)],
    index_dir: IndexOption = None,
    chunk_size: Annotated[int, typer.Option(help="Passage size in words; 0 keeps documents whole.")] = 200,
    chunk_overlap: Annotated[int, typer.Option(help="Words shared by consecutive passages.")] = 40,
    language: Annotated[str, typer.Option("--language", "-l", help="Analyzer language: en, es, fr, de, pt, it, nl, da, no, sv, ru, tr.")] = "en",
    stopwords: Annotated[bool, typer.Option(help="Drop the language's stopwords.")] = True,
    stem: Annotated[bool, typer.Option(help="Stem words (Snowball / Porter).")] = True,
    bm25_variant: Annotated[str, typer.Option(help="lucene, robertson, atire, okapi, bm25l or bm25+.")] = "lucene",
    k1: Annotated[Optional[float], typer.Option(help="BM25 k1 [default: 0.9; okapi/bm25l/bm25+: 1.5].", show_default=False)] = None,
    b: Annotated[Optional[float], typer.Option(help="BM25 b [default: 0.4; okapi/bm25l/bm25+: 0.75].", show_default=False)] = None,
    delta: Annotated[Optional[float], typer.Option(help="BM25L/BM25+ delta [default: 0.5 / 1.0].", show_default=False)] = None,
    id_field: Annotated[Optional[str], typer.Option(help="Record field holding the id [default: _id, id, docid].", show_default=False)] = None,
    text_field: Annotated[Optional[str], typer.Option(help="Record field holding the text [default: text, contents, body].", show_default=False)] = None,
    title_field: Annotated[Optional[str], typer.Option(help="Record field holding the title [default: title].", show_default=False)] = None,
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
    )
    err = stderr_console()
    show_progress = not quiet and not json_output and err.is_terminal
    if show_progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TextColumn("files · {task.fields[passages]} passages"),
            TimeElapsedColumn(), console=err, transient=True,
        ) as bar:
            task = bar.add_task("index", total=None, passages=0)

            def progress(path: str, done: int, total: int, passages: int) -> None:
                bar.update(task, completed=done, total=total, passages=f"{passages:,}")

            report = build_index(paths, index_dir, settings, wait=wait, progress=progress)
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
        line = (
            f"Indexed {report.documents:,} documents ({report.passages:,} passages, {report.terms:,} terms) "
            f"from {report.files:,} files in {report.seconds:.1f} s → {report.index_dir} ({size})"
        )
        if report.skipped:
            line += f"; skipped {len(report.skipped)}: {summarize_reasons(s.reason for s in report.skipped)}"
            if not verbose:
                line += " (--verbose lists them)"
        err.print(line, markup=False, soft_wrap=True)


@app.command()
@handle_errors
def query(
    question: Annotated[str, typer.Argument(help="The question; '-' reads one question per line from stdin (JSON Lines out).", show_default=False)],
    index_dir: IndexOption = None,
    retriever: Annotated[str, typer.Option("--retriever", "-r", help="bm25 or tfidf.")] = "bm25",
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="How many passages to retrieve.")] = 5,
    json_output: JsonOption = False,
) -> None:
    """Retrieve the passages that best answer QUESTION."""
    from ragcli.index import load_index
    from ragcli.render import hits_table, stdout_console, write_json

    idx = load_index(index_dir)
    if question == "-":
        for line in sys.stdin:
            text = line.strip()
            if not text:
                continue
            hits = idx.search(text, k=top_k, retriever=retriever)
            write_json(_query_record(text, retriever, hits), indent=None)
        return
    hits = idx.search(question, k=top_k, retriever=retriever)
    if json_output:
        write_json(_query_record(question, retriever, hits))
        return
    console = stdout_console()
    if not hits:
        console.print("No passage matches this question (all its words are unknown to the index or stopwords).", markup=False)
        return
    terms = frozenset(idx.analyzer(question))
    console.print(hits_table(question, hits, lambda text: idx.analyzer.matching_spans(text, terms), retriever))


def _query_record(question: str, retriever: str, hits: list[Any]) -> dict[str, Any]:
    return {"query": question, "retriever": retriever, "hits": [hit.to_dict() for hit in hits]}


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


def main() -> None:
    """Console-script entry point."""
    app()
