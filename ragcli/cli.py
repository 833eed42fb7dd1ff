"""The `ragcli` command: parses options, calls the library, hands the results to the renderer.

No retrieval, indexing or model logic lives here; options are declared once in ragcli.options and
printing lives in ragcli.render. (Over 350 lines because it holds six commands: their parameter lists
alone take about a hundred lines; each body is parse → library call → render.)
"""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, TypeVar

import typer
from typer._click import Context
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from ragcli import __version__, options
from ragcli.cli_train import train_app
from ragcli.errors import (
    ExitCode,
    IndexWriteError,
    InputFormatError,
    InterruptedBuildError,
    InvalidOptionError,
    OutOfMemoryError,
    OutputWriteError,
    RagcliError,
    RagcliWarning,
    mask_secrets,
)
from ragcli.readers.base import DEFAULT_MAX_BYTES
from ragcli.terminal_text import without_terminal_sequences

if TYPE_CHECKING:
    from ragcli.evaluation.datasets import EvalSet
    from ragcli.evaluation.judge import Judge
    from ragcli.retrieval.index import Index
# click's plain help layout (see ragcli/options.py): readable at 80 columns, nothing in it is markup
_HELP_SETTINGS: dict[str, Any] = {"max_content_width": 100, "help_option_names": ["-h", "--help"]}
_ENVIRONMENT = """Configuration: {user} (or $RAGCLI_CONFIG), then ./.ragcli.toml,
which overrides it; options and environment variables override both.
`ragcli config show` prints the values in effect and where each came from.

\b
Environment variables:
  RAGCLI_INDEX      the index folder (below --index and -c)
  RAGCLI_CONFIG     the user configuration file
  RAGCLI_DATA_DIR   the data folder [{data}]:
                    collections are kept in its collections/
  RAGCLI_CACHE      models and dataset indexes [{cache}]
  RAGCLI_MODEL      the generator's model (--model)
  RAGCLI_BASE_URL   an OpenAI-compatible server (--base-url)
  OPENAI_BASE_URL, OPENAI_API_KEY   as the openai library reads them
  RAGCLI_DEBUG      tracebacks for errors (as --debug)
  RAGCLI_PROGRESS_INTERVAL   seconds between plain progress lines, off a terminal (5)
  RAGCLI_SQL_PASSWORD        a database root's password, when its URL has none
"""
_CONFIGURED = (
    "Defaults for -c, -r, --top-k, -g, -m, --base-url, --api-key-env, --device and --answer-style can be set in "
    "a configuration file (see `ragcli --help`, `ragcli config show`)."
)


def _environment_help() -> str:
    """The root --help's epilog: where the configuration file, collections and cache are on this system
    (the folders the environment variables name, when they are set)."""
    from ragcli.config import data_dir, user_config_path
    from ragcli.models import cache_root
    from ragcli.render import printable_name

    try:
        home = str(Path.home())
    except RuntimeError:  # no home folder known (no $HOME, no passwd entry): paths shown whole
        home = "\0"

    def short(path: Path) -> str:
        shown = printable_name(str(path))
        return "~" + shown[len(home) :] if shown.startswith(home + os.sep) else shown

    return _ENVIRONMENT.format(user=short(user_config_path()), data=short(data_dir()), cache=short(cache_root()))


class _RagcliGroup(TyperGroup):
    """The root command. What click does outside a command's body (printing --help, parsing the options
    of every subcommand) ends as the commands' own errors do: a usage error is one line and exit 2, a
    reader that closed the pipe exit 0."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: Context | None = None, **extra: Any
    ) -> Context:
        with _as_ragcli_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Context) -> Any:
        try:
            with _as_ragcli_errors():
                return super().invoke(ctx)
        finally:
            _Configuration.warn_if_unused()


@contextlib.contextmanager
def _as_ragcli_errors() -> Iterator[None]:
    """click's errors, a stdout that cannot be written (`--help > /dev/full`, `--version >&-`) and a
    closed pipe, met while click parses or invokes, as ragcli ends on its own."""
    try:
        with _guarded_stdout():
            yield
    except NoArgsIsHelpError:
        raise  # `ragcli config` alone: click prints the group's help
    except UsageError as exc:
        # click's message whole (its "Did you mean …" and "Possible options" included), without its
        # Usage and "Try … -h" lines: one line, as every other usage error (README, "Exit codes")
        _fail(exc.format_message(), exc.exit_code)
    except OutputWriteError as exc:
        _fail(str(exc), int(exc.exit_code))
    except BrokenPipeError:
        # the reader of our output went away (`| head`, `| true`): not an error worth a message
        _discard_output()
        raise typer.Exit(0) from None
    except KeyboardInterrupt:  # while click parses, or a command of a sub-app without handle_errors
        _fail(*_stopped("interrupted"))


class _Configuration:
    """The configuration files' error, when they could not be read. A command raises it when it runs
    (`handle_errors`), not the root's callback: --help, which runs no command, is what a person reads to
    mend the file, so it is still shown (without the files' values), with the error as a warning."""

    error: RagcliError | None = None

    @classmethod
    def raise_error(cls) -> None:
        error, cls.error = cls.error, None
        if error is not None:
            raise error

    @classmethod
    def warn_if_unused(cls) -> None:
        """The warning, when no command ran to raise the error (--help, a usage error)."""
        error, cls.error = cls.error, None
        if error is not None:
            _say(f"the configuration is not used: {error}", "ragcli: warning:")


class _Stopping:
    """The signal that is ending this run, once one came: SIGINT (Ctrl-C) or SIGTERM (`kill`,
    `timeout`, a CI job cancelled)."""

    signal: int | None = None


def _stop(signum: int, frame: object) -> None:
    """SIGINT's and SIGTERM's handler: the first raises KeyboardInterrupt where the main thread is, so
    that SIGTERM cleans up as Ctrl-C does (a failed first build's folder removed, embedded vectors
    checkpointed); any later one is ignored (SIG_IGN, which outlives the interpreter's own handlers at
    exit), so that it cuts short neither that cleanup nor the shutdown (a second Ctrl-C printed
    "Exception ignored in: <module 'threading'>" and a traceback, or killed the process)."""
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    _Stopping.signal = signum
    raise KeyboardInterrupt


def _catch_stop_signals() -> None:
    """Install `_stop` for SIGINT and SIGTERM, where they are not ignored (a job a non-interactive shell
    starts in the background inherits SIGINT ignored, and keeps it so), and `_thread_failure`."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _stop)
    threading.excepthook = _thread_failure


def _thread_failure(args: threading.ExceptHookArgs) -> None:
    """A thread's uncaught exception, reported as Python reports it, unless a stop signal came: the run is
    ending then (its one line says so), and a library's thread that trips over the teardown is no news
    (loky's manager thread looking up a work item the pool's shutdown removed: KeyError, a traceback
    after "interrupted")."""
    if _Stopping.signal is None:
        threading.__excepthook__(args)


def _stopped(message: str) -> tuple[str, int]:
    """The error line and exit code of a run a signal stopped: 130 for Ctrl-C, 143 for SIGTERM
    (`message`, what was kept, said as "terminated" then)."""
    if _Stopping.signal == signal.SIGTERM:
        return message.replace("interrupted", "terminated", 1), int(ExitCode.TERMINATED)
    return message, int(ExitCode.INTERRUPTED)


def _discard_output() -> None:
    """Point stdout and stderr at /dev/null after a reader closed the pipe: what is still buffered
    would otherwise fail again at exit, as "Exception ignored … BrokenPipeError" on stderr."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a stream without a descriptor (tests' CliRunner)
            os.dup2(devnull, stream.fileno())
    os.close(devnull)


app = typer.Typer(
    cls=_RagcliGroup,
    name="ragcli",
    help="Retrieval-augmented generation over a local corpus: index a folder, ask questions, get answers with sources.",
    epilog=_environment_help(),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=_HELP_SETTINGS,
)
app.add_typer(train_app, name="train")

_state = {"debug": False}  # set by each run's root callback: --debug or $RAGCLI_DEBUG
_DEBUG_OFF = frozenset({"", "0", "false", "no", "off"})
F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    """Print the error and exit with `code`."""
    _say_error(message)
    raise typer.Exit(code)


def _say_error(message: str) -> None:
    """One error line on stderr. Each error passes here, so a database URL with a password given where
    a path is expected (`--remove`, `--index`, `evaluate DATASET`) is shown without it."""
    _say(message, "[bold red]ragcli: error:[/]")


def _say(message: str, label: str) -> None:
    """`message` as one line on stderr after `label` (markup), escaped and its secrets masked."""
    from rich.markup import escape

    from ragcli.render import printable_message, stderr_console

    shown = printable_message(mask_secrets(message))
    stderr_console().print(f"{label} {escape(shown)}", soft_wrap=True)


class _LeftOut:
    """stdin's lines that are no question (`answering.question_batches`' `refuse`: too long): each said
    on stderr when it is met, and exit 6 once the other lines are answered, so that a script sees it."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, message: str) -> None:
        _say_error(message)
        self.count += 1

    def end(self) -> None:
        if self.count:
            raise typer.Exit(int(ExitCode.BAD_INPUT))


def _debug_from_environment() -> bool:
    """$RAGCLI_DEBUG turns tracebacks on unless it says off (empty, 0, false, no, off, in any case):
    RAGCLI_DEBUG=0 meaning on would surprise everyone who sets it."""
    return os.environ.get("RAGCLI_DEBUG", "").strip().lower() not in _DEBUG_OFF


def _show_traceback() -> None:
    """With --debug, the traceback of the error being handled, on stderr, above its one-line message
    (which keeps its exit code: debugging a script must not change what the script sees)."""
    if _state["debug"]:
        import traceback

        from ragcli.render import printable, stderr_console

        stderr_console().out(printable(traceback.format_exc(), newlines=True), end="")


class _Stdout:
    """sys.stdout while a command runs: a write that fails (`--json > report.json` on a full disk) is
    exit 12 naming stdout, as a failed `--per-query` file is, whichever command and printer wrote it;
    a reader gone (BrokenPipeError) is left as it is (exit 0, below)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _guarded(self, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            raise OutputWriteError(
                f"stdout: cannot be written ({exc.strerror or exc})",
                hint="free some disk space or redirect it elsewhere" if full else "redirect it to a file or /dev/null",
            ) from None

    def write(self, text: str) -> Any:
        return self._guarded(self._stream.write, text)

    def flush(self) -> None:
        self._guarded(self._stream.flush)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding… as the stream has them
        return getattr(self._stream, name)


@contextlib.contextmanager
def _guarded_stdout() -> Iterator[None]:
    """sys.stdout as `_Stdout` while click parses or a command runs (once, however deep the nesting)."""
    stdout = sys.stdout
    if isinstance(stdout, _Stdout):
        yield
        return
    sys.stdout = _Stdout(stdout)
    try:
        yield
    finally:
        sys.stdout = stdout


def _check_stdout() -> None:
    """A stdout the shell closed (`>&-`) is exit 12 at once, by `_Stdout`'s own error, for a command that
    always prints its result after long work (`evaluate`, `tune`): an empty write reaches only a closed
    stream (`_ClosedStream`); any other stdout buffers it and writes nothing."""
    sys.stdout.write("")


def handle_errors(command: F) -> F:
    """Turn library errors into one line on stderr and their exit code (a stdout that cannot be written
    included: `_Stdout`); Ctrl-C into exit 130, SIGTERM 143 (`_stop`)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _guarded_stdout():
                _Configuration.raise_error()
                result = command(*args, **kwargs)
                sys.stdout.flush()  # what is still buffered fails here, not in Python's own flush at exit
            if _Stopping.signal == signal.SIGTERM:  # caught where Ctrl-C ends a command well (chat's prompt)
                raise KeyboardInterrupt
            return result
        except InterruptedBuildError as exc:
            _fail(*_stopped(str(exc)))
        except RagcliError as exc:
            _show_traceback()
            _fail(_naming_its_file(exc), int(exc.exit_code))
        except KeyboardInterrupt:
            _fail(*_stopped("interrupted"))
        except (typer.Exit, typer.Abort, SystemExit, BrokenPipeError):
            raise  # a closed pipe: the root command ends quietly (_RagcliGroup)
        except MemoryError as exc:  # the machine's limit, not a bug: numpy says how much it wanted
            _show_traceback()
            _fail(str(out_of_memory(exc)), int(ExitCode.OUT_OF_MEMORY))
        except Exception as exc:  # a bug: say so briefly, keep the traceback behind --debug
            _show_traceback()
            report = (
                "please report it with the traceback above"
                if _state["debug"]
                else "run `ragcli --debug ...` for the traceback and please report it"
            )
            # a library's text, which may be coloured (torch's): its sequences would show escaped
            text = without_terminal_sequences(str(exc))
            _fail(f"internal error: {type(exc).__name__}: {text} ({report})", int(ExitCode.FAILURE))

    return wrapper  # type: ignore[return-value]


def out_of_memory(exc: MemoryError) -> OutOfMemoryError:
    """A failed allocation as one line: what could not be had (numpy's "Unable to allocate 42.9 MiB …")
    and what to do; whatever was being written is abandoned, and the previous index stays."""
    detail = without_terminal_sequences(str(exc)) or "an allocation failed"
    return OutOfMemoryError(
        f"out of memory: {detail}",
        hint="close other programs or raise the memory limit (`ulimit -v`); a build with --jobs 1 needs less",
    )


def _naming_its_file(exc: RagcliError) -> str:
    """The error's line; one refusing a value that a configuration file gave the command (click's
    DEFAULT_MAP source, not an option or a variable with the same value) starts with the file and the
    key, as the file's own checks do: the person running the command never typed that value."""
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    if exc.value is None or ctx is None:
        return str(exc)
    words: list[str] = []
    outer = ctx
    while outer.parent is not None:  # "train generator": the names below the root command
        words.insert(0, str(outer.info_name))
        outer = outer.parent
    for param, value in ctx.params.items():
        source = ctx.get_parameter_source(param)
        if value == exc.value and source is not None and source.name == "DEFAULT_MAP":
            setting = _load_config().setting(" ".join(words), param)
            if setting is not None:
                return f"{setting[1].path}: key {setting[0]!r}: {exc}"
    return str(exc)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ragcli {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Retrieval-augmented generation over a local corpus."""
    _state["debug"] = debug or _debug_from_environment()
    # the configuration files become click's default_map: below options and envvars, above the defaults;
    # --help shows their values escaped, as `config show` does
    from ragcli.render import printable_name

    _Configuration.error = None
    try:
        config = _load_config()
    except RagcliError as exc:
        _Configuration.error = exc  # the command raises it: --help still works
        return
    ctx.default_map = config.default_map(shown=printable_name)
    for warning in config.warnings():
        from ragcli.render import note

        note(f"ragcli: warning: {warning}")


def _load_config() -> Any:
    from ragcli.config import load_config

    return load_config()


@app.command(short_help="Build or update an index from files, folders or databases.")
@handle_errors
def index(
    ctx: typer.Context,
    paths: options.Paths = None,
    index_dir: options.IndexDir = None,
    name: options.Name = None,
    add: options.AddRoot = None,
    remove: options.RemoveRoot = None,
    replace_roots: options.ReplaceRoots = False,
    sql: options.Sql = None,
    rebuild: options.Rebuild = False,
    jobs: options.Jobs = None,
    ray: options.Ray = None,
    dense: options.Dense = None,
    embedding_model: options.EmbeddingModel = "all-MiniLM-L6-v2",
    embedding_precision: options.EmbeddingPrecision = "int8",
    embedding_batch_size: options.EmbeddingBatchSize = 32,
    device: options.EmbeddingDevice = "cpu",
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
    generated: options.Generated = None,
    include: options.Include = None,
    exclude: options.Exclude = None,
    ignore: options.Ignore = None,
    wait: options.Wait = False,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
    json_output: options.Json = False,
) -> None:
    """Read files and folders, split them into passages, and build the BM25 and TF-IDF indexes; a re-index
    keeps the index's roots and settings except the options given."""
    from ragcli.collections import choose_index
    from ragcli.errors import EmptyCorpusError
    from ragcli.indexing.stored import STORED, IndexLabel, reindex
    from ragcli.progress import index_progress
    from ragcli.render import empty_corpus_report, index_summary, note, skipped_lines, write_json

    choice = choose_index(index_dir, name, option="--name").for_building()
    index_dir = choice.path
    values = locals()
    given = {
        option: values[option] for option in STORED if options.given(ctx, option)
    }  # the others: as the index recorded
    _unused_delta(index_dir, given)
    with index_progress(enabled=not quiet and not json_output) as (on_file, on_embed):
        try:
            report = reindex(
                paths,
                index_dir,
                given,
                add=add or (),
                remove=remove or (),
                replace_roots=replace_roots,
                embedding_batch_size=embedding_batch_size,
                device=device,
                ray=ray,
                wait=wait,
                progress=on_file,
                embed_progress=on_embed,
                label=IndexLabel(choice.chosen_by),
                rebuild=rebuild,
                jobs=jobs,
                strict=_strictness(strict, skip_invalid),
            )
        except EmptyCorpusError as exc:
            if json_output:  # `ragcli index … --json | jq .skipped` wants the list most when nothing was read
                write_json(empty_corpus_report(str(index_dir), exc))
            elif verbose:  # the error names the first few; -v lists them all
                for line in skipped_lines(exc.skipped):
                    note(line)
                exc.listed()
            raise
    if json_output:
        write_json(report.to_dict())
    elif not quiet:
        for line in index_summary(report, verbose):
            note(line)


@app.command(epilog=_CONFIGURED, short_help="Answer a question from the index, citing its sources.")
@handle_errors
def query(
    question: options.Question,
    index_dir: options.IndexDir = None,
    collection: options.Collection = None,
    retriever: options.Retriever = "bm25",
    top_k: options.QueryTopK = 5,
    path_globs: options.PathGlobs = None,
    where: options.Where = None,
    rrf_k: options.RrfK = 60,
    dense_weight: options.DenseWeight = 0.5,
    generate: options.Generate = True,
    generator: options.Generator = "auto",
    model: options.Model = options.DEFAULT_MODEL,
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
    base_url: options.BaseUrl = options.DEFAULT_BASE_URL,
    api_key_env: options.ApiKeyEnv = options.DEFAULT_API_KEY_ENV,
    concurrency: options.Concurrency = 4,
    timeout: options.Timeout = 300.0,
    retries: options.Retries = 2,
    context_tokens: options.ContextTokens = None,
    sources: options.Sources = "auto",
    plain: options.Plain = False,
    min_score: options.MinScore = None,
    distinct: options.Distinct = True,
    json_output: options.Json = False,
) -> None:
    """Answer QUESTION from the indexed passages, citing its sources (or only retrieve with --no-generate)."""
    from ragcli.answering import above, question_batches, search_questions, why_nothing
    from ragcli.collections import choose_index
    from ragcli.readers.base import indexed_base
    from ragcli.records import SearchOptions
    from ragcli.render import OutputView, print_hits
    from ragcli.retrieval.filters import Filter
    from ragcli.retrieval.index import load_index, question_text

    # every option is checked before the index is opened, stdin is read or a model is loaded
    if not question_text(question):
        raise InvalidOptionError("the question is empty", hint="ask a question, or pass - to read them from stdin")
    restriction = Filter.parse(path_globs or (), where or ())
    _check_retriever(retriever)
    _unused_fusion_options([retriever], rrf_k, dense_weight)
    from_stdin = question == "-"
    view = OutputView.checked(sources, plain, json_output, generate, jsonl=from_stdin)
    if generate:
        from ragcli.generation.base import check_generator, check_model_kind

        kind = check_generator(generator)
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
        check_model_kind(kind, model, generation)
    idx = load_index(choose_index(index_dir, collection).require().path)
    base = indexed_base(idx.manifest)
    view.base = None if base is None else str(base)
    scorer = idx.retriever(retriever, SearchOptions(rrf_k=rrf_k, dense_weight=dense_weight))
    left_out = _LeftOut()
    batches = question_batches(sys.stdin, refuse=left_out) if from_stdin else iter([[question]])
    as_json = json_output or (from_stdin and not plain)  # --plain: each question's lines, as if asked alone
    if not generate:
        for batch in batches:
            for text, hits in search_questions(idx, batch, top_k, scorer, restriction, distinct, metadata=as_json):
                hits = above(hits, min_score)
                nothing = None if hits or as_json else why_nothing(idx, text, scorer, restriction, min_score)
                highlighter = idx.analyzer.highlighter(text)
                print_hits(
                    text,
                    retriever,
                    hits,
                    highlighter,
                    as_json,
                    from_stdin,
                    view,
                    nothing=nothing,
                    from_stdin=from_stdin,
                )
        left_out.end()
        return
    answerer = _Answerer(
        idx,
        retriever,
        scorer,
        top_k,
        kind,
        model,
        generation,
        restriction,
        fallback,
        view,
        min_score,
        distinct=distinct,
    )
    if not from_stdin:
        answerer.answer([question], as_json, jsonl=False)
        return
    failed: Optional[RagcliError] = None
    for batch in batches:
        outcome = answerer.answer_going_on(batch, as_json, jsonl=True, from_stdin=True)
        failed = failed or outcome
    left_out.end()
    _end_with(failed)


@app.command(epilog=_CONFIGURED, short_help="Ask questions one after another at a prompt, with history.")
@handle_errors
def chat(
    index_dir: options.IndexDir = None,
    collection: options.Collection = None,
    retriever: options.Retriever = "bm25",
    top_k: options.QueryTopK = 5,
    path_globs: options.PathGlobs = None,
    where: options.Where = None,
    generator: options.Generator = "auto",
    model: options.Model = options.DEFAULT_MODEL,
    prompt_template: options.PromptTemplate = None,
    max_new_tokens: options.MaxNewTokens = 128,
    device: options.Device = "auto",
    threads: options.Threads = None,
    answer_style: options.AnswerStyle = "short",
    fallback: options.Fallback = True,
    base_url: options.BaseUrl = options.DEFAULT_BASE_URL,
    api_key_env: options.ApiKeyEnv = options.DEFAULT_API_KEY_ENV,
    timeout: options.Timeout = 300.0,
    retries: options.Retries = 2,
    context_tokens: options.ContextTokens = None,
    follow_ups: options.FollowUps = True,
    distinct: options.Distinct = True,
    json_output: options.Json = False,
) -> None:
    """Ask questions one after another at a prompt (line editing, history); exit, quit or Ctrl-D ends."""
    from ragcli.collections import choose_index
    from ragcli.conversation import Conversation
    from ragcli.generation.base import check_generator, check_model_kind
    from ragcli.interactive import questions
    from ragcli.records import SearchOptions
    from ragcli.render import note
    from ragcli.retrieval.filters import Filter
    from ragcli.retrieval.index import load_index

    restriction = Filter.parse(path_globs or (), where or ())
    _check_retriever(retriever)
    kind = check_generator(generator)
    generation = _generation_options(
        max_new_tokens=max_new_tokens,
        device=device,
        threads=threads,
        batch_size=1,
        prompt_template=prompt_template,
        answer_style=answer_style,
        base_url=base_url,
        api_key_env=api_key_env,
        concurrency=1,
        timeout=timeout,
        retries=retries,
        context_tokens=context_tokens,
    )
    check_model_kind(kind, model, generation)
    idx = load_index(choose_index(index_dir, collection).require().path)
    scorer = idx.retriever(retriever, SearchOptions())
    answerer = _Answerer(
        idx, retriever, scorer, top_k, kind, model, generation, restriction, fallback, spinner=False, distinct=distinct
    )
    conversation = Conversation(idx.analyzer.settings.language, idx.analyzer) if follow_ups else None
    left_out = _LeftOut()
    failed: Optional[RagcliError] = None
    for question in questions(refuse=left_out):
        if conversation is not None and conversation.follows(question) and not json_output:
            note(f"ragcli: follow-up: searched with the earlier {' / '.join(map(repr, conversation.topic))}")
        outcome = answerer.answer_going_on([question], json_output, jsonl=True, follow_up=conversation)
        failed = failed or outcome
        if conversation is not None:
            conversation.add(question)
    left_out.end()
    _end_with(failed)


def _end_with(failed: Optional[RagcliError]) -> None:
    """The exit code of a run that went on past failed requests (`query -`, `chat`): the first one's,
    whose line was said when it failed."""
    if failed is not None:
        raise typer.Exit(int(failed.exit_code))


def _loading(model: Optional[str]) -> str:
    """What is shown while a generator's model loads."""
    return f"loading the model {model} …" if model else "loading the model …"


def _check_retriever(name: str) -> None:
    """An unknown --retriever is a usage error (with the closest name) before the index is opened."""
    from ragcli.retrieval.base import RETRIEVERS

    RETRIEVERS.get(name)


def _unused_fusion_options(names: Sequence[str], rrf_k: int, dense_weight: float) -> None:
    """A fusion option no chosen retriever uses is said, not silently dropped: `-r hybrid` was
    reciprocal rank fusion until z-score fusion replaced it, so an old `--rrf-k` now needs hybrid-rrf."""
    from ragcli.records import SearchOptions
    from ragcli.render import note
    from ragcli.retrieval.base import unused_fusion_options

    unused = unused_fusion_options(names, SearchOptions(rrf_k=rrf_k, dense_weight=dense_weight))
    if "rrf_k" in unused:
        note("ragcli: warning: --rrf-k is used by -r hybrid-rrf only (hybrid fuses z-scores: --dense-weight)")
    if "dense_weight" in unused:
        note("ragcli: warning: --dense-weight is used by -r hybrid and hybrid-zscore only")


def _unused_delta(index_dir: Path, given: Mapping[str, Any]) -> None:
    """`--delta` for a BM25 variant without one (lucene, robertson, atire, okapi) is said, as an unused
    fusion option is, not silently recorded; the variant is the one given, else the index's."""
    from ragcli.indexing.stored import chosen_variant
    from ragcli.render import note
    from ragcli.retrieval.bm25 import DELTA_VARIANTS, VARIANTS

    if "delta" not in given:
        return
    variant = chosen_variant(index_dir, given)
    if variant in VARIANTS and variant not in DELTA_VARIANTS:  # an unknown one is refused by the build
        users = " and ".join(DELTA_VARIANTS)
        note(f"ragcli: warning: --delta is used by --bm25-variant {users} only (this index's variant: {variant})")


def _named_embedding(ctx: typer.Context, retrievers: Sequence[str], option: str, value: str) -> Optional[str]:
    """`value` when the embedding option `option` (its parameter's name) was given for a retriever that
    embeds (None when not given); given without one, said rather than silently dropped."""
    from ragcli.render import note
    from ragcli.retrieval.base import with_needs

    if not options.given(ctx, option):
        return None
    if "dense" not in with_needs(retrievers):
        note(f"ragcli: warning: --{option.replace('_', '-')} is used by -r dense and the hybrid retrievers only")
        return None
    return value


def _fallback_note(choice: Any) -> None:
    """The notice that auto answers with the extractive generator, at most once a day (the state file
    remembers when it was last shown)."""
    from ragcli.models import once_a_day
    from ragcli.render import note

    if choice.notice and once_a_day(choice.notice_key or choice.notice):
        note(f"ragcli: note: {choice.notice} (shown once a day)")


def _generation_options(*, device: str, prompt_template: Optional[Path], answer_style: str, **values: Any) -> Any:
    """GenerationOptions from `query`'s or `evaluate`'s options, every value checked before any work
    (device, template file, answer style, the server options)."""
    from ragcli.generation.base import GenerationOptions
    from ragcli.generation.openai import check_server_options
    from ragcli.generation.prompt import load_template
    from ragcli.models import check_device, check_device_present

    check_device_present(check_device(device))
    generation = GenerationOptions(
        device=device,
        prompt_template=load_template(prompt_template) if prompt_template else None,
        answer_style=answer_style,  # GenerationOptions checks it
        **values,
    )
    check_server_options(generation)
    return generation


class _Answerer:
    """Answers questions batch by batch (`query`, `query -`, `chat`): retrieve a batch, load the
    generator on the first batch (so a model that cannot be loaded never costs the sources), answer,
    print each answer as it is done. A question whose request failed is printed with its sources alone
    (in JSON with the error), the others answered; when loading or answering fails as a whole (a server
    down, a stream cut off) the sources of every answer not given are printed, before the error."""

    def __init__(
        self,
        idx: Any,
        name: str,
        scorer: Any,
        k: int,
        kind: str,
        model: Optional[str],
        generation: Any,
        restriction: Any = None,
        fallback: bool = True,
        view: Any = None,
        min_score: Optional[float] = None,
        spinner: bool = True,
        distinct: bool = False,
    ) -> None:
        self.idx, self.name, self.scorer, self.k, self.restriction = idx, name, scorer, k, restriction
        self.kind, self.model, self.generation, self.fallback = kind, model, generation, fallback
        self.view, self.min_score, self.spinner = view, min_score, spinner
        self.distinct = distinct  # each text once (`Index.search`)
        self.choice: Any = None
        self.backup: Any = None

    def load(self) -> Any:
        if self.choice is None:
            from ragcli.answering import extractive_fallback
            from ragcli.generation.base import make_generator
            from ragcli.progress import waiting

            # not in `chat`: after rich's spinner has run, Ctrl-C at readline's prompt no longer ends it
            with waiting(_loading(self.model)) if self.spinner else contextlib.nullcontext():
                self.choice = make_generator(self.kind, self.model, self.generation, index=self.idx)
            _fallback_note(self.choice)
            name = self.choice.generator.name
            self.backup = (
                extractive_fallback(self.idx, self.generation) if self.fallback and name != "extractive" else None
            )
        return self.choice

    def _why_nothing(self, item: Any, from_stdin: bool) -> None:
        """Under an answer with no source, a note on why when a filter or --min-score was the cause, and
        under --plain lines (which would be empty) in any case, as with --no-generate (naming the
        question when it is one of several read from stdin)."""
        from ragcli.answering import why_nothing
        from ragcli.render import nothing_matched_note, plain_nothing_note

        if item.sources:
            return
        reason = why_nothing(self.idx, item.searched or item.question, self.scorer, self.restriction, self.min_score)
        question = item.question if from_stdin else None
        if self.view is not None and self.view.plain:
            plain_nothing_note(reason, question)
        elif reason:
            nothing_matched_note(f"nothing matched: {reason}", question)

    def answer(
        self, questions: list[str], as_json: bool, jsonl: bool, follow_up: Any = None, *, from_stdin: bool = False
    ) -> None:
        """Answer `questions`; `follow_up` (a chat's Conversation) says what each is searched with and
        asked as when it refers back to earlier ones. `from_stdin`: they are several read from stdin, which
        a note names."""
        from ragcli.answering import above, generate_answers, retrieve, unasked, with_failure
        from ragcli.generation.base import StreamingGenerator
        from ragcli.render import print_streamed_answer

        idx = self.idx
        searches = [follow_up.search_text(q) if follow_up else None for q in questions]
        answers = [
            retrieve(
                idx,
                q,
                self.k,
                self.scorer,
                name=self.name,
                filter=self.restriction,
                search=s,
                distinct=self.distinct,
                metadata=as_json,  # of the same build as the sources
            )
            for q, s in zip(questions, searches)
        ]
        for item in answers:
            asked = follow_up.asked(item.question) if follow_up else item.question
            item.asked = asked if asked != item.question else None
        for item in answers:
            item.sources = above(item.sources, self.min_score)
        done = 0
        try:
            choice = self.load()
            gen, one = choice.generator, answers[0]
            single = not as_json and len(answers) == 1 and bool(one.sources)
            if single and isinstance(gen, StreamingGenerator) and sys.stdout.isatty():
                highlighter = idx.analyzer.highlighter(one.question)
                print_streamed_answer(one, gen, choice.load_seconds, highlighter, self.backup, self.view)
                return
            batch = max(self.generation.batch_size, self.generation.concurrency if gen.name == "openai" else 1)
            for item in generate_answers(answers, gen, choice.load_seconds, batch, fallback=self.backup):
                self._print(item, as_json, jsonl, from_stdin)
                done += 1
        except RagcliError as exc:
            failed = self.choice.generator if self.choice is not None else None
            for item in answers[done:]:  # the sources are never lost; what retrieved nothing was never to be sent
                marked = with_failure(item, exc, failed) if item.sources else unasked(item, failed)
                self._print(marked, as_json, jsonl, from_stdin)
            raise

    def answer_going_on(
        self, questions: list[str], as_json: bool, jsonl: bool, follow_up: Any = None, *, from_stdin: bool = False
    ) -> Optional[RagcliError]:
        """`answer`, for a run that goes on to the questions after these (`query -`, `chat`): a failed
        request (its sources and error printed) is said on stderr and returned, not raised, since the
        next request may not fail (a live pipe's next line is a batch of its own, and was never read). A
        generator that cannot be loaded is raised: then no question can be answered."""
        try:
            self.answer(questions, as_json, jsonl, follow_up, from_stdin=from_stdin)
        except RagcliError as exc:
            if self.choice is None:
                raise
            _say_error(_naming_its_file(exc))
            return exc
        return None

    def _print(self, item: Any, as_json: bool, jsonl: bool, from_stdin: bool) -> None:
        """One answer; one that failed (`item.error`) as its sources alone, or in JSON with the error;
        `from_stdin`: a note that nothing matched names its question."""
        from ragcli.render import closed_book_note, print_answer, print_hits, write_json

        closed_book_note(item, item.question if from_stdin else None)
        highlighter = self.idx.analyzer.highlighter  # only the text for people marks words
        if as_json:
            write_json(item.to_dict(), indent=None if jsonl else 2)
        elif item.error is not None:
            print_hits(item.question, item.retriever, item.sources, highlighter(item.question), False, False, self.view)
        else:
            print_answer(item, highlighter(item.question), self.view)
        if item.error is None:  # in JSON too: an empty record cannot tell a mistyped --path from no match
            self._why_nothing(item, from_stdin)


@app.command()
@handle_errors
def info(
    index_dir: options.IndexDir = None,
    collection: options.Collection = None,
    verify: options.Verify = False,
    json_output: options.Json = False,
) -> None:
    """Show what an index holds: counts, size, settings, sources."""
    from ragcli.collections import choose_index
    from ragcli.indexing.stored import recorded_settings
    from ragcli.render import info_table, stdout_console, write_json
    from ragcli.retrieval.index import load_index

    idx = load_index(choose_index(index_dir, collection).require().path)
    if verify:
        idx.verify()
    data = {**idx.info(), "settings": recorded_settings(idx.manifest)}  # what a re-index keeps
    if verify:
        data["verified"] = True
    if json_output:
        write_json(data)
    else:
        stdout_console().print(info_table(data))


@app.command(short_help="List the registered readers, retrievers and generators.")
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


def _float(text: str) -> float:
    """A number as people write it: Python's `1_0` (ten, where 1.0 was likely meant) is not one."""
    if "_" in text:
        raise ValueError(text)
    return float(text)


def _number(text: str) -> int | float:
    """A number as written: an int when it is one, else a float that the option's check refuses with
    what it needs (`--k 1.5`: whole numbers >= 1), not as an unreadable list."""
    number = _float(text)
    try:
        return int(text)
    except ValueError:
        return number


def _csv_list(text: str, convert: Callable[[str], Any], option: str) -> list[Any]:
    """The items of a comma-separated option; an empty item (`0.9,,1`) is refused, not skipped: it is
    a value left out by mistake."""
    parts = [part.strip() for part in text.split(",")]
    if parts == [""]:
        raise InvalidOptionError(f"{option}: empty list")
    if "" in parts:
        raise InvalidOptionError(f"{option}: an empty item in {text!r}", hint="drop the extra comma, or fill it in")
    try:
        return [convert(part) for part in parts]
    except ValueError:
        hint = "write numbers without '_': 1_0 would be ten" if "_" in text else None
        raise InvalidOptionError(f"{option}: not a comma-separated list: {text!r}", hint=hint) from None


def _strictness(strict: bool, skip_invalid: bool) -> bool:
    """--strict, checked against the deprecated --skip-invalid (skipping is the default now)."""
    if strict and skip_invalid:
        raise InvalidOptionError("--strict and --skip-invalid contradict each other", hint="pass one of them")
    return strict


@app.command(epilog=_CONFIGURED, short_help="Measure retrieval and answers on judged questions.")
@handle_errors
def evaluate(
    ctx: typer.Context,
    data: options.Dataset,
    index_dir: options.IndexDir = None,
    collection: options.Collection = None,
    split: options.Split = "test",
    retriever: options.Retrievers = "bm25",
    k: options.Cutoffs = "1,3,5,10,100",
    depth: options.Depth = None,
    rrf_k: options.RrfK = 60,
    dense_weight: options.DenseWeight = 0.5,
    generate: options.EvaluateGenerate = True,
    context: options.Context = True,
    generator: options.Generator = "auto",
    model: options.Model = options.DEFAULT_MODEL,
    top_k: options.GeneratorTopK = 5,
    max_new_tokens: options.MaxNewTokens = 64,
    batch_size: options.BatchSize = 8,
    device: options.Device = "auto",
    threads: options.Threads = None,
    prompt_template: options.PromptTemplate = None,
    answer_style: options.AnswerStyle = "short",
    base_url: options.BaseUrl = options.DEFAULT_BASE_URL,
    api_key_env: options.ApiKeyEnv = options.DEFAULT_API_KEY_ENV,
    concurrency: options.Concurrency = 4,
    timeout: options.Timeout = 300.0,
    retries: options.Retries = 2,
    context_tokens: options.ContextTokens = None,
    embedding_model: options.EmbeddingModel = "all-MiniLM-L6-v2",
    embedding_precision: options.EmbeddingPrecision = "int8",
    embedding_device: options.EvaluationEmbeddingDevice = "cpu",
    judge_model: options.JudgeModel = None,
    strict: options.Strict = False,
    path_globs: options.PathGlobs = None,
    where: options.Where = None,
    skip_invalid: options.SkipInvalid = False,
    per_query: options.PerQuery = None,
    run_file: options.RunFile = None,
    with_run: options.WithRun = None,
    plot: options.Plot = None,
    compare: options.Compare = False,
    tuned_model: options.TunedModel = None,
    json_output: options.Json = False,
) -> None:
    """Measure retrieval (recall, precision, MRR, nDCG, MAP, hit rate) and answers (EM, F1, BLEU, ROUGE-L)."""
    from ragcli.collections import choose_index
    from ragcli.evaluation.checks import check_closed_book, warn_no_closed_book
    from ragcli.evaluation.datasets import questions_to_evaluate
    from ragcli.evaluation.indexing import corpus_warnings, index_for
    from ragcli.evaluation.reports import dataset_reads, plan_outputs, plot_recall, result_writers
    from ragcli.evaluation.runner import CLOSED_BOOK, check_cutoffs, check_depth, check_retrievers
    from ragcli.evaluation.runner import evaluate as run_evaluation
    from ragcli.evaluation.runs import read_run, run_names
    from ragcli.generation.base import check_generator, check_model_kind, make_generator
    from ragcli.models import check_device_present
    from ragcli.progress import embedding_progress, evaluation_progress, waiting
    from ragcli.records import SearchOptions, Skipped
    from ragcli.render import (
        comparison_table,
        evaluation_skips,
        note,
        plural,
        stdout_console,
        waiting_for_build,
        write_json,
    )
    from ragcli.retrieval.embedder import NEEDS_TORCH, EmbeddingSettings, precision_on, resolve_embedding_model
    from ragcli.retrieval.filters import Filter
    from ragcli.training.compare import check_compare

    # every option value and output path is checked before any indexing, model loading or evaluating
    _check_stdout()
    restriction = Filter.parse(path_globs or (), where or ())
    embedding = EmbeddingSettings(
        model=embedding_model, precision=precision_on(embedding_device, embedding_precision), device=embedding_device
    )
    # no GPU: exit 2 now, not once the corpus is read
    check_device_present(embedding.device, "--embedding-device", needed_for=NEEDS_TORCH)
    cutoffs = check_cutoffs(_csv_list(k, _number, "--k"))
    depth = check_depth(depth, cutoffs)
    retrievers = check_retrievers(_csv_list(retriever, str, "--retriever"))
    _unused_fusion_options(retrievers, rrf_k, dense_weight)
    named_model = _named_embedding(ctx, retrievers, "embedding_model", embedding_model)
    if named_model is not None:
        resolve_embedding_model(named_model)  # found before any work (exit 9 when it cannot be)
    named_precision = _named_embedding(ctx, retrievers, "embedding_precision", embedding.precision)
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
    options.warn_unused_split(ctx, "split", data)
    choice = choose_index(index_dir, collection)
    reads = [*dataset_reads(data), ("the index", choice.path), ("the prompt template", prompt_template)]
    reads += [("a --with-run file", path) for path in with_run or ()]
    outputs = plan_outputs(
        retrievers, per_query=per_query, run_file=run_file, plot=plot, reads=reads, index_dir=choice.path
    )
    outputs_given = (per_query, run_file, plot, *(with_run or ()))
    check_compare(compare, tuned_model, retrievers, generate, outputs_given, kind, context)
    if generate:
        for named in (model, tuned_model) if compare else (model,):
            check_model_kind(kind, named, generation)
    names = run_names(with_run or (), {*retrievers, CLOSED_BOOK})
    strict = _strictness(strict, skip_invalid)
    judge = _judge(judge_model, generate, generation)
    check_closed_book(not context, generate)
    eval_set = questions_to_evaluate(data, split, strict)
    _check_scorable(eval_set, generate, judge is not None)
    warn_no_closed_book(eval_set, not context, generate)
    question_ids = {q.id for q in eval_set.queries}
    runs = [read_run(path, name, question_ids, strict) for path, name in zip(with_run or (), names)]
    corpus_named: list[Skipped] = []  # the corpus records a build here skipped, by file:line
    with embedding_progress() as embed_bar:
        idx = index_for(
            eval_set,
            choice.for_dataset(eval_set.corpus is not None),
            retrievers,
            {"dense": embedding},
            strict=strict,
            on_build=lambda target: note(f"indexing {eval_set.corpus} → {target}"),
            embed_progress=embed_bar,
            omit=choice.omit,
            on_extend=lambda target, _: note(
                f"adding dense vectors to {target} (once, as `ragcli index --dense` would)"
            ),
            embedding_model=named_model,
            embedding_precision=named_precision,
            on_wait=waiting_for_build,
            on_skipped=corpus_named.extend,
        )
    fusion = SearchOptions(rrf_k=rrf_k, dense_weight=dense_weight)
    for name in retrievers:
        idx.retriever(name, fusion)  # missing data (e.g. no dense vectors) fails before any work
    _check_gold_ids(eval_set, idx, strict)
    excluded = idx.excludes_all(restriction)
    if excluded is not None:  # a mistyped --where key: every metric 0, as if the retriever were broken
        note(f"ragcli: warning: nothing can be retrieved: {excluded}")
    if compare and tuned_model:  # RAG versus fine-tuning: one table of four configurations
        from ragcli.cli_train import run_comparison

        run_comparison(
            eval_set,
            idx,
            retrievers[0],
            kind,
            model,
            tuned_model,
            generation,
            top_k,
            batch_size,
            restriction,
            json_output,
        )
        return
    gen = None
    if generate and any(q.answers for q in eval_set.queries):
        with waiting(_loading(model)):
            made = make_generator(kind, model, generation, index=idx)
        _fallback_note(made)
        gen = made.generator
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
            closed_book=not context and gen is not None,  # warned of above when no question has answers
            progress=bar,
            sinks=sinks,
            batch_size=max(batch_size, concurrency if gen is not None and gen.name == "openai" else 1),
            filter=restriction,
            on_answers=on_answers,
            judge=judge,
            options=fusion,
            runs=runs,
        )
    skipped = [*eval_set.skipped, *corpus_named, *(s for r in runs for s in r.skipped)]
    warned = corpus_warnings(idx) if eval_set.corpus is not None else []
    for line in evaluation_skips(skipped, report.corpus_skipped, warned):
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
    if report.failure is not None:
        failed = report.counts["answers_failed"]
        note(
            f"ragcli: warning: {plural(failed, 'answer')} failed (no answer metrics for "
            "those questions: the means cover the answers given)"
        )
        raise report.failure


@app.command(short_help="Grid-search BM25 k1 and b on judged questions.")
@handle_errors
def tune(
    ctx: typer.Context,
    data: options.JudgedDataset,
    index_dir: options.IndexDir = None,
    collection: options.Collection = None,
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
    from rich.text import Text

    from ragcli.collections import choose_index
    from ragcli.evaluation.checks import held_out_overlap
    from ragcli.evaluation.datasets import questions_to_evaluate
    from ragcli.evaluation.indexing import corpus_skips, corpus_warnings, index_for
    from ragcli.evaluation.tuning import apply_best, check_grid, tune_bm25
    from ragcli.progress import counting_progress
    from ragcli.records import Skipped
    from ragcli.render import (
        evaluation_skips,
        note,
        stdout_console,
        tune_summary,
        tune_table,
        waiting_for_build,
        write_json,
    )

    _check_stdout()
    k1_values = sorted(set(_csv_list(k1, _float, "--k1")))
    b_values = sorted(set(_csv_list(b, _float, "--b")))
    check_grid(metric, k1_values, b_values)  # before any indexing
    options.warn_unused_split(ctx, "split", data)
    strict = _strictness(strict, skip_invalid)
    choice = choose_index(index_dir, collection)
    eval_set = questions_to_evaluate(data, split, strict)
    dataset_index = choice.for_dataset(eval_set.corpus is not None)
    corpus_named: list[Skipped] = []  # the corpus records a build here skipped, by file:line
    idx = index_for(
        eval_set,
        dataset_index,
        strict=strict,
        omit=choice.omit,
        on_wait=waiting_for_build,
        on_skipped=corpus_named.extend,
    )
    corpus = eval_set.corpus is not None
    counted, warned = (corpus_skips(idx), corpus_warnings(idx)) if corpus else ({}, [])
    for line in evaluation_skips([*eval_set.skipped, *corpus_named], counted, warned):
        note(line)
    _check_gold_ids(eval_set, idx, strict)
    overlap = held_out_overlap(eval_set, data, split)
    if overlap:
        note(f"ragcli: warning: {overlap}")
    current = idx.manifest["bm25"]
    now = (float(current["k1"]), float(current["b"]))
    cells = len(k1_values) * len(b_values)
    with counting_progress("tuning", total=cells, description="k1 × b") as bar:
        rows = tune_bm25(eval_set, idx, metric=metric, k1_values=k1_values, b_values=b_values, progress=bar)
        # the index's own pair is scored too when the grid lacks it: what --apply would improve on
        in_grid = [r for r in rows if (r.k1, r.b) == now]
        before = (
            in_grid[0] if in_grid else tune_bm25(eval_set, idx, metric=metric, k1_values=[now[0]], b_values=[now[1]])[0]
        )
    best = before if before.score >= rows[0].score else rows[0]  # a tie changes nothing
    if apply and best.score <= 0:
        raise InputFormatError(
            f"nothing to apply: every k1 and b scores {metric} = 0 on {eval_set.name}",
            hint="check that the judgments' document ids are this index's (see the warning above)",
        )
    # the index's own pair best: nothing is written (a rewrite would only give the same weights anew)
    applied = apply and (best.k1, best.b) != now
    if applied:
        apply_best(idx, best, on_wait=waiting_for_build)
        note(f"stored k1={best.k1} b={best.b} in {idx.path}")
        if eval_set.corpus is not None and dataset_index is None:  # ragcli's cached index of the dataset
            note(
                f"ragcli: warning: k1={best.k1:g} b={best.b:g} is now the BM25 of the cached index of "
                f"{data.resolve().name}: every later `ragcli evaluate` or `tune` of it runs with them (the "
                f"report says so); delete {idx.path} to go back to ragcli's defaults"
            )
    if json_output:
        write_json(
            {
                "metric": metric,
                "dataset": eval_set.name,
                "index": str(idx.path),
                "applied": applied,
                "best": {"k1": best.k1, "b": best.b, "score": best.score},
                "current": {"k1": before.k1, "b": before.b, "score": before.score},
                "grid": [{"k1": r.k1, "b": r.b, "score": r.score} for r in rows],
            }
        )
        return
    scores = {(r.k1, r.b): r.score for r in rows}
    shown = tune_table(
        metric, eval_set.name, (current.get("k1"), current.get("b")), k1_values, b_values, scores, (best.k1, best.b)
    )
    stdout_console().print(shown)
    stdout_console().print(Text(tune_summary(metric, best, before, applied)), soft_wrap=True)


def _judge(model: str | None, generate: bool, generation: Any) -> Judge | None:
    """The LLM judge `--judge-model` names, reached before any work (exit 9 when its server is not there)."""
    if model is None:
        return None
    if not generate:
        raise InvalidOptionError("--judge-model grades answers: it cannot be used with --no-generate")
    from ragcli.evaluation.judge import Judge

    return Judge(model, generation)


def _check_scorable(eval_set: EvalSet, generate: bool, judged_by_model: bool) -> None:
    """Exit 6 before any work when nothing could be scored (no relevant documents, and no gold answers
    or no answers generated, and no judge): an empty table with exit 0 reads as a measurement."""
    if judged_by_model or any(q.has_relevant or (generate and q.answers) for q in eval_set.queries):
        return
    if generate:
        message = "no question has relevant documents or answers to score"
        hint = 'give each line "relevant": ["doc id", …] or "answers": ["…"], or let --judge-model grade the answers'
    else:
        message = "no question has relevant documents to score"
        hint = 'give each line "relevant": ["doc id", …], or drop --no-generate to score its "answers"'
    raise InputFormatError(f"{eval_set.name}: {message}", hint=hint)


def _check_gold_ids(eval_set: EvalSet, idx: Index, strict: bool) -> None:
    """Warn (with --strict: fail, exit 6) when judged document ids are not in the index; warn when the
    qrels judge queries that queries.jsonl lacks (also with --strict: the figures of the queries there
    are right, only over fewer queries than were judged)."""
    from ragcli.evaluation.checks import gold_coverage, unasked_message
    from ragcli.render import note

    unasked = unasked_message(eval_set)
    if unasked:
        note(f"ragcli: warning: {unasked}")
    message = gold_coverage(eval_set.queries, idx).message()
    if message and strict:
        raise InputFormatError(message, hint="evaluate against the index of the judged corpus, or drop --strict")
    if message:
        note(f"ragcli: warning: {message}")


collections_app = typer.Typer()
app.add_typer(collections_app, name="collections", short_help="List or remove collections (named indexes).")


@collections_app.callback(invoke_without_command=True)
@handle_errors
def collections(ctx: typer.Context, json_output: options.Json = False) -> None:
    """List the collections (named indexes in ragcli's data folder); `remove NAME` deletes one."""
    if ctx.invoked_subcommand is not None:
        return
    from ragcli.collections import collections_dir, list_collections
    from ragcli.render import note, print_collections, write_json

    found = [item.to_dict() for item in list_collections()]
    if json_output:
        write_json(found)
    elif found:
        print_collections(found, str(collections_dir()))
    else:
        note(f"no collections in {collections_dir()} (build one with `ragcli index PATH --name NAME`)")


@collections_app.command("remove", short_help="Delete a collection (only what ragcli wrote).")
@handle_errors
def collections_remove(
    name: options.CollectionName, wait: options.Wait = False, json_output: options.Json = False
) -> None:
    """Delete the collection NAME: only a folder that is a ragcli index, and in it only what ragcli wrote."""
    from ragcli.collections import remove_collection
    from ragcli.render import note, write_json

    path, left = remove_collection(name, wait=wait)
    if json_output:
        write_json({"name": name, "path": str(path), "left": left})
    elif left:
        note(f"removed collection {name}; kept {path}, which holds files ragcli did not write: {', '.join(left)}")
    else:
        note(f"removed collection {name} ({path})")


config_app = typer.Typer(
    help="The configuration files: `ragcli config show` prints the values in effect.", no_args_is_help=True
)
app.add_typer(config_app, name="config", short_help="Show the configuration in effect and its files.")


@config_app.command("show", short_help="Print the values in effect, their sources, the files.")
@handle_errors
def config_show(
    index_dir: options.IndexDir = None,
    collection: options.Collection = None,
    json_output: options.Json = False,
) -> None:
    """Print each configuration key's value in effect and where it came from (default, user config,
    project config, env), the index folder commands would use, and where the files are."""
    from ragcli.collections import choose_index, collections_dir, data_folder_problem
    from ragcli.config import KEYS, effective
    from ragcli.render import config_table, note, stdout_console, write_json

    config = _load_config()
    query = typer.main.get_command(app).commands["query"]  # type: ignore[attr-defined]
    query_params = {param.name: param for param in query.params}
    own = Context(query)  # no default_map: a parameter's own default, as click works it out (a ShownDefault: None)
    defaults, envvars = {}, {}
    for key, spec in KEYS.items():
        param = query_params.get(spec.params.get("query", ""))
        if param is not None:  # the command's own default and variable: declared once, in ragcli.options
            defaults[key] = param.get_default(own)
            if isinstance(param.envvar, str):
                envvars[key] = param.envvar
    try:
        choice = choose_index(index_dir, collection)
        found = {"collection": choice.setting()}
        problem = None if choice.name is not None else data_folder_problem()
        if problem is not None:  # the index shown is usable, but `-c NAME` would not be
            note(f"ragcli: warning: {problem}")
    except (InvalidOptionError, IndexWriteError) as exc:
        if index_dir is not None or collection is not None:
            raise
        # the file's bad collection, or a data folder that is none: the tool for finding it shows the rest
        note(f"ragcli: warning: {exc}")
        choice, found = None, {}
    data = {
        "values": [s.to_dict() for s in effective(config, defaults, envvars, found)],
        "index": None if choice is None else choice.to_dict(),
        "files": {
            layer.kind.removesuffix(" config"): {"path": str(layer.absolute()), "exists": layer.exists}
            for layer in config.layers
        },
        "collections_dir": str(collections_dir()),
    }
    if json_output:
        write_json(data)
    else:
        stdout_console().print(config_table(data))


def main() -> None:
    """Console-script entry point."""
    _stand_ins_for_closed_streams()
    _tolerant_streams()
    _catch_stop_signals()
    _warnings_as_lines()
    app()


def _warnings_as_lines() -> None:
    """ragcli's own warnings (a server's reply cut short) as one `ragcli: warning:` line each, every
    time; other libraries' warnings as Python shows them."""
    warnings.simplefilter("always", RagcliWarning)
    show = warnings.showwarning

    def show_ours(message: Warning | str, category: type[Warning], *rest: Any, **more: Any) -> None:
        if issubclass(category, RagcliWarning):
            from ragcli.render import note

            note(f"ragcli: warning: {message}")
        else:
            show(message, category, *rest, **more)

    warnings.showwarning = show_ours


class _ClosedStream(io.RawIOBase):
    """What stands for stdin or stdout that the shell closed (`<&-`, `>&-`), where Python leaves
    sys.stdin / sys.stdout None (every command met None as an internal error). Reading is a usage
    error (exit 2); writing fails as a full disk does (`_Stdout`: exit 12), so a command that writes
    nothing (`index -q`) succeeds."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise InvalidOptionError(f"{self._name}: cannot be read (it is closed)", hint="give it a file or a pipe")

    def write(self, data: Any) -> int:
        raise OSError(errno.EBADF, "it is closed")


def _stand_ins_for_closed_streams() -> None:
    """A `_ClosedStream` for each of stdin and stdout the shell closed, and /dev/null on every closed
    descriptor 0-2: else the next file opened (an index payload, a lock) would take the number, and
    whatever writes to "stdout" below Python (a library's C code, a worker process) would write into it."""
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one, those below are open
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
    if sys.stdin is None:
        sys.stdin = io.TextIOWrapper(_ClosedStream("stdin"), encoding="utf-8")
    if sys.stdout is None:
        sys.stdout = io.TextIOWrapper(_ClosedStream("stdout"), encoding="utf-8", write_through=True)


def _tolerant_streams() -> None:
    """stdout and stderr replace what their encoding cannot hold with '?': with PYTHONIOENCODING=ascii or
    a Latin-1 locale, a snippet's '…' or the table's '✓' was an internal error on stdout, and stderr
    (Python's backslashreplace) showed people `loading the model \u2026`. JSON stays whole: write_json
    escapes instead."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors in ("strict", "backslashreplace"):
            stream.reconfigure(errors="replace")
