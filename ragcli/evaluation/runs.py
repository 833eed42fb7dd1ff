"""Another system's rankings, read from a TREC run file, to evaluate beside ragcli's retrievers.

`ragcli evaluate qa.jsonl --with-run pyserini.trec` scores the run on the same judged questions, with
the same metrics and the same paired tests as the retrievers, so that ragcli can be compared with any
system that writes trec_eval's format (`query-id Q0 doc-id rank score tag`), an earlier evaluation's
`--run-file` included (an index built with other chunk sizes, another embedding model).

Ranked as trec_eval ranks a run: by score read as a 32-bit float, highest first, ties by document id
in reverse order; the rank column is not used. Every document it ranks counts, however deep (trec_eval
without `-M`; `--depth` is how deep ragcli's own retrievers rank). A question the run does not rank
scores 0 (trec_eval's `-c`), so that every configuration averages over the same questions.

A run's fields are separated by whitespace, one line a ranked document, so an id that holds whitespace (a
file name with a space) would break its line: ragcli writes such ids percent-encoded (`run_file_id`) and
reads them back (`id_from_run_file`) on the lines it wrote, which its tag (`run_file_tag`) tells apart;
another tool's lines are read as written, since a URL id's "%20" is the id its qrels judge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ragcli.errors import InputFormatError, InvalidOptionError
from ragcli.evaluation.datasets import LineProblems, text_lines
from ragcli.records import Skipped
from ragcli.retrieval.base import RETRIEVERS

RUN_FORMAT = "'query-id Q0 doc-id rank score tag'"
_RAGCLI_TAG_PREFIX = "ragcli-"

# What breaks a field: whitespace (`\s` is exactly what str.isspace and str.split take for it) and '%'.
_BREAKS_A_FIELD_RE = re.compile(r"[\s%]")
# One character's UTF-8 bytes percent-encoded (whitespace is at most three bytes: U+3000).
_ESCAPED_CHARACTER_RE = re.compile(
    r"%[0-7][0-9A-F]|%[CD][0-9A-F]%[89AB][0-9A-F]|%E[0-9A-F](?:%[89AB][0-9A-F]){2}", re.IGNORECASE
)


def run_file_id(identifier: str) -> str:
    """`identifier` as a run file's field: every whitespace character and '%' percent-encoded (RFC 3986,
    "budget review.md" → "budget%20review.md"), so that the line keeps its six fields; other ids unchanged."""
    return _BREAKS_A_FIELD_RE.sub(_escaped, identifier)


def run_file_tag(config: str) -> str:
    """The tag field of the lines ragcli writes for `config`: how `read_run` knows its ids are encoded."""
    return _RAGCLI_TAG_PREFIX + config


def id_from_run_file(field: str) -> str:
    """The id a field of ragcli's own run stands for: the escapes `run_file_id` writes decoded, and only
    those (a "%2F" stays as written)."""
    return _ESCAPED_CHARACTER_RE.sub(_unescaped, field) if "%" in field else field


def _escaped(character: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in character.group().encode())


def _unescaped(escape: re.Match[str]) -> str:
    character = bytes.fromhex(escape.group().replace("%", "")).decode(errors="replace")
    return character if character == "%" or character.isspace() else escape.group()


@dataclass
class ExternalRun:
    """A run file's rankings of the questions evaluated: question id → (document id, score), best first."""

    name: str  # the configuration's name in the report: the file's name
    path: Path
    rankings: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


def run_names(paths: Sequence[Path], taken: Collection[str]) -> list[str]:
    """Each run's name in the report: its file name, or the path as given when names repeat; a name
    that is another configuration's or run's is a usage error (checked before any work), and so is any
    registered retriever's, chosen or not: a column "tfidf" would read as ragcli's TF-IDF."""
    names = [path.name for path in paths]
    names = [str(path) if names.count(path.name) > 1 else name for path, name in zip(paths, names)]
    for path, name in zip(paths, names):
        if name in RETRIEVERS and name not in taken:
            raise InvalidOptionError(
                f"--with-run {path}: the name {name!r} is a retriever's", hint="rename the run file"
            )
        if name in taken or names.count(name) > 1:
            raise InvalidOptionError(
                f"--with-run {path}: the name {name!r} is already a configuration's",
                hint="give each run file its own name",
            )
    return names


def read_run(path: Path, name: str, question_ids: Collection[str], strict: bool = False) -> ExternalRun:
    """The rankings `path` holds for `question_ids` (the lines of other questions are not kept), ids
    decoded on ragcli's own lines only. A line that is not six fields with a finite score, or that ranks
    a document twice for one question, is skipped and listed (with `strict`, exit 6 naming it); a run
    that ranks none of the questions is bad input (the ids of another dataset)."""
    problems = LineProblems(strict)
    scored: dict[str, dict[str, float]] = {}
    lines = 0
    for _, where, text in text_lines(path, "a run file", problems):
        fields = text.split()
        score = _finite(fields[4]) if len(fields) == 6 else None
        if score is None:
            problems.bad(where, f"expected {RUN_FORMAT} with a finite score")
            continue
        lines += 1
        question, document = fields[0], fields[2]
        if fields[5].startswith(_RAGCLI_TAG_PREFIX):
            question, document = id_from_run_file(question), id_from_run_file(document)
        if question not in question_ids:
            continue
        documents = scored.setdefault(question, {})
        if document in documents:
            problems.bad(where, f"ranks {document!r} a second time for question {question!r}")
            continue
        documents[document] = score
    if not lines and problems.skipped:  # a qrels file, a CSV: not one line of a run
        first = problems.skipped[0]
        raise InputFormatError(f"{path}: not a TREC run ({first.path}: {first.reason})")
    if not scored:
        raise InputFormatError(
            f"{path}: ranks none of the questions evaluated", hint="are its query ids the ids of the questions file?"
        )
    rankings = {
        question: sorted(documents.items(), key=_trec_order, reverse=True) for question, documents in scored.items()
    }
    return ExternalRun(name, path, rankings, problems.skipped)


def _finite(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _trec_order(item: tuple[str, float]) -> tuple[float, str]:
    """trec_eval's order, reversed: the score as a 32-bit float, then the document id."""
    document, score = item
    return float(np.float32(score)), document
