"""Evaluation outputs: per-query JSON Lines, TREC run files, a recall@k plot (the comparison table is
in ragcli.render).

Every output path is checked before the evaluation starts (`plan_outputs`), so a typo costs seconds,
not the whole run. Per-query lines and run files are written while the queries are evaluated (the
runner keeps no rankings), each into a temporary file beside its target that replaces the target only
when the evaluation has finished: an evaluation that fails or is interrupted leaves any previous file
as it was. An existing file is replaced (as trec_eval-style tools do), and ragcli says so on stderr.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from ragcli.errors import InvalidOptionError, MissingExtraError, OutputWriteError, RagcliError
from ragcli.evaluation.runner import EvalReport, QueryResult, ResultSink
from ragcli.evaluation.runs import run_file_id, run_file_tag
from ragcli.indexdir import file_mode, is_ragcli_index
from ragcli.models import cache_root
from ragcli.readers.base import indexed_base
from ragcli.readers.beir import beir_file, is_beir_folder
from ragcli.records import json_text
from ragcli.store import read_manifest


def check_output_path(path: Path, option: str) -> bool:
    """Refuse, before any work, a path `option` could not write: a folder, a path whose folder is
    missing or not writable, a read-only file, or a symbolic link to a file (ragcli rewrites only
    what it names: a planted `run.txt -> ~/.bashrc` is not written through). Returns whether it
    replaces an existing file."""
    where = f"{option} {path}"
    if path.is_symlink() and (path.is_file() or not path.exists()):  # /dev/stdout, to a FIFO, is written as it is
        raise InvalidOptionError(f"{where}: is a symbolic link", hint="name the file itself")
    if path.is_dir():
        raise InvalidOptionError(f"{where}: is a folder", hint="name a file to write")
    folder = path.parent
    if not folder.exists():
        raise InvalidOptionError(f"{where}: the folder {folder} does not exist", hint="create it first")
    if not folder.is_dir():
        raise InvalidOptionError(f"{where}: {folder} is not a folder")
    if path.exists() and not path.is_file():
        return False  # /dev/null, a FIFO, a terminal: written as it is, nothing replaced
    if path.exists() and not os.access(path, os.W_OK):
        raise InvalidOptionError(f"{where}: the file is read-only", hint="make it writable or name another file")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidOptionError(f"{where}: cannot write in {folder} (permission denied or a read-only disk)")
    return path.exists()


def run_file_paths(retrievers: Sequence[str], path: Path) -> dict[str, Path]:
    """One TREC run file per retriever: PATH itself, or PATH with the retriever's name inserted."""
    if len(retrievers) == 1:
        return {retrievers[0]: path}
    return {name: path.with_name(f"{path.stem}.{name}{path.suffix}") for name in retrievers}


@dataclass
class Outputs:
    """Where `evaluate` writes, checked before it starts."""

    per_query: Path | None = None
    run_files: dict[str, Path] = field(default_factory=dict)  # retriever → its run file
    plot: Path | None = None
    replaces: set[Path] = field(default_factory=set)  # existing files these paths replace

    def describe(self, path: Path, what: str) -> str:
        """The note for a written output."""
        return f"{what}: {path}" + (" (replaced the existing file)" if path in self.replaces else "")


def _overwrites(path: Path, read: Path) -> bool:
    """Whether writing `path` would replace `read` (the same file, by any name) or a file in it."""
    target = path.resolve()
    source = read.resolve()
    if target == source or source in target.parents:
        return True
    try:
        return path.exists() and read.exists() and os.path.samefile(path, read)
    except OSError:
        return False


def dataset_reads(data: Path) -> list[tuple[str, Path | None]]:
    """What evaluate reads of DATA, each named as a refused output says it: a qa.jsonl file is the
    questions; a BEIR folder is its corpus, its questions, its judgments (qrels/), then the folder."""
    if not (data.is_dir() and is_beir_folder(data)):
        return [("the questions", data)]
    return [
        ("the corpus", beir_file(data, "corpus.jsonl")),
        ("the questions", beir_file(data, "queries.jsonl")),
        ("the judgments", data / "qrels"),
        ("the BEIR folder", data),
    ]


class _IndexedFiles:
    """The files the index in a folder was built from (its manifest's sources, under the base folder
    its build recorded): an output must never replace the user's documents. No index there: none."""

    def __init__(self, index_dir: Path | None) -> None:
        self.index_dir = index_dir
        self.base: Path | None = None
        self.paths: set[str] = set()
        if index_dir is None:
            return
        try:
            manifest = read_manifest(index_dir)
        except RagcliError:  # none, or one `evaluate` refuses later with its own message
            return
        base = indexed_base(manifest)
        self.base = base.resolve() if base is not None else None
        self.paths = {s["path"] for s in manifest.get("sources", []) if isinstance(s.get("path"), str)}

    def holds(self, path: Path) -> bool:
        """Whether `path`, under any name, is one of the index's source files."""
        if self.base is None:
            return False
        target = path.resolve()
        return self.base in target.parents and target.relative_to(self.base).as_posix() in self.paths


def _refuse_inside_an_index(path: Path, option: str) -> None:
    """Refuse a path inside ragcli's cache (the indexes evaluate builds for BEIR folders, the int8
    models, the state file) or inside any ragcli index: ragcli would later read it as damage."""
    target = path.resolve()
    cache = cache_root().resolve()
    if target == cache or cache in target.parents:
        raise InvalidOptionError(
            f"{option} {path}: inside ragcli's cache ({cache}), which holds the indexes evaluate builds and reads",
            hint="name a file outside it",
        )
    index = next((folder for folder in target.parents if is_ragcli_index(folder)), None)
    if index is not None:
        raise InvalidOptionError(f"{option} {path}: inside the ragcli index {index}", hint="name a file outside it")


def plan_outputs(
    retrievers: Sequence[str],
    *,
    per_query: Path | None = None,
    run_file: Path | None = None,
    plot: Path | None = None,
    reads: Sequence[tuple[str, Path | None]] = (),
    index_dir: Path | None = None,
) -> Outputs:
    """Check every output path (and that --plot can be drawn) before any work starts. None may be
    one of `reads` ((what, path): the questions, the index, a prompt template) or a file inside one:
    `--per-query qa.jsonl` would replace the questions it evaluates; nor one of the files the index in
    `index_dir` was built from (a user's note); nor inside ragcli's cache or any other ragcli index."""
    for option, given in (("--per-query", per_query), ("--run-file", run_file)):
        if given is not None and str(given) == "-":  # a file named "-" is what a script never meant
            raise InvalidOptionError(
                f"{option} -: not stdout, which carries the table (or --json's report)",
                hint="name a file to write",
            )
    outputs = Outputs(per_query, run_file_paths(retrievers, run_file) if run_file else {}, plot)
    if plot is not None:
        if plot.suffix.lower() != ".png":
            raise InvalidOptionError(f"--plot {plot}: the plot is a PNG image", hint="name the file *.png")
        if importlib.util.find_spec("matplotlib") is None:
            raise MissingExtraError("--plot needs matplotlib", hint="pip install 'ragcli[plot]'")
    named = [("--per-query", per_query), *(("--run-file", p) for p in outputs.run_files.values()), ("--plot", plot)]
    seen: dict[Path, str] = {}
    indexed = _IndexedFiles(index_dir)
    for option, path in named:
        if path is None:
            continue
        for what, read in reads:
            if read is not None and _overwrites(path, read):
                raise InvalidOptionError(
                    f"{option} {path}: would overwrite {what} ({read}), which evaluate reads", hint="name another file"
                )
        if indexed.holds(path):
            raise InvalidOptionError(
                f"{option} {path}: would overwrite a file the index {index_dir} was built from",
                hint="name another file",
            )
        _refuse_inside_an_index(path, option)
        if check_output_path(path, option):
            outputs.replaces.add(path)
        if path.exists() and not path.is_file():
            continue  # /dev/null may take several outputs
        if path.resolve() in seen:
            raise InvalidOptionError(
                f"{option} {path}: also written by {seen[path.resolve()]}", hint="name a different file for each"
            )
        seen[path.resolve()] = f"{option} {path}"
    return outputs


class _OutputFile:
    """A text file written in a temporary file beside the target and moved over it by `commit`
    (written directly when the target exists and is not a regular file, e.g. /dev/null)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.direct = path.exists() and not path.is_file()
        try:
            if self.direct:
                self.temp = None
                self.handle: TextIO = path.open("w", encoding="utf-8", errors="backslashreplace")
            else:
                descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
                self.temp = Path(name)
                self.handle = os.fdopen(descriptor, "w", encoding="utf-8", errors="backslashreplace")
                os.chmod(descriptor, file_mode(path))  # mkstemp's 0600 would make a report private
        except OSError as exc:
            raise _write_error(path, exc) from None

    def write(self, text: str) -> None:
        try:
            self.handle.write(text)
        except OSError as exc:
            raise _write_error(self.path, exc) from None

    def commit(self) -> None:
        try:
            self.handle.close()
            if self.temp is not None:
                os.replace(self.temp, self.path)
                self.temp = None
        except OSError as exc:
            raise _write_error(self.path, exc) from None

    def discard(self) -> None:
        """Close and remove the temporary file (after a failure; nothing once committed)."""
        with contextlib.suppress(OSError):
            self.handle.close()
        if self.temp is not None:
            with contextlib.suppress(OSError):
                self.temp.unlink()


def _write_error(path: Path, exc: OSError) -> OutputWriteError:
    return OutputWriteError(
        f"{path}: cannot be written ({exc.strerror or exc})", hint="free some disk space or name another path"
    )


class PerQueryWriter(ResultSink):
    """Each finished result as one JSON Lines record."""

    def __init__(self, file: _OutputFile) -> None:
        self.file = file

    def result(self, config: str, result: QueryResult) -> None:
        self.file.write(json_text(result.to_dict(config)) + "\n")


class RunFileWriter(ResultSink):
    """TREC run format (`qid Q0 docid rank score tag`), readable by trec_eval and ir_measures: one
    file per retriever, every ranked document; ids holding whitespace or '%' percent-encoded."""

    def __init__(self, files: dict[str, _OutputFile]) -> None:
        self.files = files

    def ranking(self, config: str, result: QueryResult) -> None:
        file = self.files.get(config)
        if file is None:
            return
        scores = strictly_decreasing([score for _, score in result.ranking])
        question, tag = run_file_id(result.query.id), run_file_tag(config)
        file.write(
            "".join(
                f"{question} Q0 {run_file_id(doc)} {rank} {score!r} {tag}\n"
                for rank, ((doc, _), score) in enumerate(zip(result.ranking, scores), start=1)
            )
        )


def strictly_decreasing(scores: Sequence[float]) -> list[float]:
    """Scores (best first) made strictly decreasing as 32-bit floats, each tie moved down by the least
    a float32 can move.

    trec_eval (and pytrec_eval, ir_measures) re-sort a run by score and break ties by document id, not
    by the rank column, so a run with tied scores (rank fusion ties often) would be scored in another
    order than ragcli's report. trec_eval keeps scores as C floats, so the scores must differ as float32;
    each is written with `repr` of its exact value, which trec_eval reads back unchanged."""
    untied: list[float] = []
    previous = np.float32(np.inf)
    for score in scores:
        value = np.float32(score)
        if not value < previous:
            value = np.nextafter(previous, np.float32(-np.inf))
        untied.append(float(value))
        previous = value
    return untied


@contextmanager
def result_writers(outputs: Outputs) -> Iterator[list[ResultSink]]:
    """The sinks that write `outputs` while the evaluation runs; the files replace their targets when
    the block ends without an error, and are removed otherwise."""
    files: list[_OutputFile] = []
    with ExitStack() as cleanup:

        def opened(path: Path) -> _OutputFile:
            file = _OutputFile(path)
            files.append(file)
            cleanup.callback(file.discard)
            return file

        sinks: list[ResultSink] = []
        if outputs.per_query is not None:
            sinks.append(PerQueryWriter(opened(outputs.per_query)))
        if outputs.run_files:
            sinks.append(RunFileWriter({name: opened(path) for name, path in outputs.run_files.items()}))
        yield sinks
        for file in files:
            file.commit()


def plot_recall(report: EvalReport, path: Path) -> None:
    """recall@k over k, one line per configuration (needs matplotlib), written through a temporary
    file beside `path`."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("--plot needs matplotlib", hint="pip install 'ragcli[plot]'") from None
    figure, axes = plt.subplots(figsize=(6, 4))
    for config in report.configs:
        points = sorted((int(k.split("@")[1]), v) for k, v in config.metrics.items() if k.startswith("recall@"))
        if points:
            axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=config.name)
    axes.set_xscale("log")
    axes.set_xlabel("k (documents)")
    axes.set_ylabel("recall@k")
    axes.set_title(report.dataset)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    file = _OutputFile(path)
    try:
        file.handle.close()  # matplotlib writes the bytes itself, to the temporary path
        figure.savefig(file.temp or path, dpi=120, format="png")
        file.commit()
    except OSError as exc:
        raise _write_error(path, exc) from None
    finally:
        plt.close(figure)
        file.discard()
