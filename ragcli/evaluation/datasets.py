"""Evaluation inputs: a qa.jsonl file or a BEIR folder, validated line by line.

qa.jsonl: one object per line with `question` (required), `id`, `answers` (list of strings) and
`relevant` (a list of document ids, or an object id → graded relevance). BEIR: `queries.jsonl`
(`_id`, `text`) and `qrels/<split>.tsv` (`query-id corpus-id score`, with a header); only the
queries the qrels judge are evaluated.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragcli.errors import InputFormatError, PathNotFoundError
from ragcli.readers.beir import is_beir_folder
from ragcli.records import Skipped


@dataclass
class EvalQuery:
    id: str
    question: str
    answers: list[str] = field(default_factory=list)
    qrels: dict[str, int] = field(default_factory=dict)  # document id → grade (> 0: relevant)

    @property
    def judged(self) -> bool:
        return any(grade > 0 for grade in self.qrels.values())


@dataclass
class EvalSet:
    name: str
    queries: list[EvalQuery]
    skipped: list[Skipped]
    corpus: Path | None = None  # a BEIR folder's corpus.jsonl, indexed when no index matches


class _Problems:
    """Collects bad lines: the first one raises, unless --skip-invalid."""

    def __init__(self, skip_invalid: bool) -> None:
        self.skip_invalid = skip_invalid
        self.skipped: list[Skipped] = []

    def bad(self, where: str, problem: str) -> None:
        if not self.skip_invalid:
            raise InputFormatError(f"{where}: {problem}", hint="fix the line or pass --skip-invalid")
        self.skipped.append(Skipped(where, problem))


def _relevance(value: Any) -> dict[str, int] | None:
    if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        return {str(v): 1 for v in value}
    if isinstance(value, dict) and all(isinstance(g, (int, float)) and not isinstance(g, bool) for g in value.values()):
        return {str(doc): int(grade) for doc, grade in value.items()}
    return None


def _qa_query(record: Any, number: int, where: str, problems: _Problems) -> EvalQuery | None:
    if not isinstance(record, dict):
        problems.bad(where, "a line must be a JSON object")
        return None
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        problems.bad(where, "missing or empty 'question' (a string)")
        return None
    raw_id = record.get("id", f"q{number}")
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool):
        problems.bad(where, "'id' must be a string or an integer")
        return None
    answers = record.get("answers", [])
    if isinstance(answers, str):
        answers = [answers]
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        problems.bad(where, "'answers' must be a list of strings")
        return None
    qrels: dict[str, int] = {}
    if "relevant" in record:
        parsed = _relevance(record["relevant"])
        if parsed is None:
            problems.bad(where, "unknown 'relevant' format: use a list of document ids or an object id → grade")
            return None
        qrels = parsed
    return EvalQuery(str(raw_id), question.strip(), answers, qrels)


def load_qa_file(path: Path, skip_invalid: bool = False) -> EvalSet:
    problems = _Problems(skip_invalid)
    queries: list[EvalQuery] = []
    seen: set[str] = set()
    try:
        lines = path.read_text("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputFormatError(f"{path}: not UTF-8 text") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.bad(where, f"invalid JSON ({exc.msg})")
            continue
        query = _qa_query(record, number, where, problems)
        if query is None:
            continue
        if query.id in seen:
            problems.bad(where, f"duplicate id {query.id!r}")
            continue
        seen.add(query.id)
        queries.append(query)
    return EvalSet(path.name, queries, problems.skipped)


def load_beir(folder: Path, split: str = "test", skip_invalid: bool = False) -> EvalSet:
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        available = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
        raise PathNotFoundError(
            f"{qrels_path}: no such qrels file", hint=f"splits here: {', '.join(available) or 'none'}"
        )
    problems = _Problems(skip_invalid)
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if number == 1 and row and not row[-1].lstrip("-").isdigit():
                continue  # header
            if len(row) < 3 or not row[2].strip().lstrip("-").isdigit():
                problems.bad(f"{qrels_path}:{number}", "expected 'query-id<TAB>corpus-id<TAB>score'")
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    queries: list[EvalQuery] = []
    queries_path = folder / "queries.jsonl"
    for number, line in enumerate(queries_path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.bad(f"{queries_path}:{number}", f"invalid JSON ({exc.msg})")
            continue
        qid = str(record.get("_id", ""))
        if qid in qrels:
            text = record.get("text")
            if not isinstance(text, str) or not text.strip():
                problems.bad(f"{queries_path}:{number}", "query without text")
                continue
            queries.append(EvalQuery(qid, text.strip(), [], qrels[qid]))
    return EvalSet(f"{folder.name}/{split}", queries, problems.skipped, corpus=folder / "corpus.jsonl")


def load_eval_set(path: Path, split: str = "test", skip_invalid: bool = False) -> EvalSet:
    """A qa.jsonl file or a BEIR folder."""
    if not path.exists():
        raise PathNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        if not is_beir_folder(path):
            raise InputFormatError(f"{path}: not a BEIR folder (corpus.jsonl with queries.jsonl and qrels/)")
        return load_beir(path, split, skip_invalid)
    return load_qa_file(path, skip_invalid)
