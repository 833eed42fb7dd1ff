"""Evaluation inputs: a qa.jsonl file or a BEIR folder, validated line by line.

qa.jsonl: one object per line with `question` (required), `id`, `answers` (list of strings) and
`relevant` (a list of document ids, or an object id → graded relevance). BEIR: `queries.jsonl`
(`_id`, `text`; or queries.jsonl.gz) and `qrels/<split>.tsv` (`query-id corpus-id score`, with a
header, or TREC's `query-id 0 corpus-id score`); only the queries the qrels judge are evaluated. Any
of these files may be gzipped (a name ending in .gz: `qrels/test.tsv.gz`).
"""

from __future__ import annotations

import csv
import gzip
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ragcli.errors import InputFormatError, PathNotFoundError
from ragcli.evaluation.answers import normalize_answer
from ragcli.readers.base import COMPRESSED_SUFFIX
from ragcli.readers.beir import beir_file, is_beir_folder
from ragcli.readers.records import json_problem
from ragcli.records import Skipped, composed
from ragcli.retrieval.index import question_text


@dataclass
class EvalQuery:
    id: str
    question: str
    answers: list[str] = field(default_factory=list)
    qrels: dict[str, int] = field(default_factory=dict)  # document id → grade (> 0: relevant)
    line: int | None = None  # a qa.jsonl question without an 'id': its line, which its id is made from
    language: str | None = None  # the answers' language ("es"), as qa.jsonl gives it; None: the index's

    @property
    def judged(self) -> bool:
        """Whether the retrieval metrics score it: it has judgments, relevant or not. One judged only
        not relevant scores 0 and counts in the averages, as trec_eval scores every query of its qrels;
        left out, it raised them (MAP 1.0 where trec_eval on the run file gave 0.5)."""
        return bool(self.qrels)

    @property
    def has_relevant(self) -> bool:
        """Whether a document is relevant to it: one it can be trained on or retrieve."""
        return any(grade > 0 for grade in self.qrels.values())

    @property
    def id_given(self) -> bool:
        """Whether the file gave the id: one made from a line number names the same line of any file."""
        return self.line is None


@dataclass
class EvalSet:
    name: str
    queries: list[EvalQuery]
    skipped: list[Skipped]
    corpus: Path | None = None  # a BEIR folder's corpus.jsonl, indexed when no index matches
    qrels_queries: int = 0  # a BEIR folder's: the query ids its qrels judge
    unasked: list[str] = field(default_factory=list)  # those without a line in queries.jsonl, in qrels order


class LineProblems:
    """Collects bad lines, skipped and listed; with --strict the first one raises (exit 6)."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.skipped: list[Skipped] = []

    def bad(self, where: str, problem: str) -> None:
        if self.strict:
            raise InputFormatError(f"{where}: {problem}", hint="fix the line, or drop --strict to skip it")
        self.skipped.append(Skipped(where, problem))


# The largest grade either way: a 32-bit int's, far above any judgment scale (TREC's are 0-4). nDCG's
# gains are the grades themselves (linear, as in trec_eval), so their sums stay finite at any depth; a
# 400-digit grade could not become a float at all, and three of 10**308 summed to infinity (nDCG NaN).
MAX_GRADE = 2**31 - 1


def _grade_problem(value: int | float, written: str | None = None) -> str | None:
    """Why a number is not a relevance grade, or None. Grades are integers, as in a qrels file (whose
    reader refuses "1.0" for the same reason): `int()` would silently turn 0.9 into 0, not relevant.
    `written`: the number as the file writes it, quoted in the message (a qrels field; JSON's is gone)."""
    if isinstance(value, float):
        return f"is not an integer ({written or repr(value)})"
    if abs(value) > MAX_GRADE:
        return f"is outside ±{MAX_GRADE:,}"
    return None


def _relevance(value: Any) -> dict[str, int] | str:
    """`relevant` as document id → grade, or what is wrong with it."""
    if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        return {str(v): 1 for v in value}
    unknown = "unknown 'relevant' format: use a list of document ids or an object id → grade"
    if not isinstance(value, dict):
        return unknown
    grades: dict[str, int] = {}
    for doc, grade in value.items():
        if isinstance(grade, bool) or not isinstance(grade, (int, float)):
            return unknown
        problem = _grade_problem(grade)
        if problem is not None:
            return f"the grade of {doc!r} in 'relevant' {problem}"
        grades[str(doc)] = int(grade)
    return grades


def _question(value: Any) -> str | None:
    """A question as it is evaluated (searched, asked, reported): `question_text`; None when `value`
    is not text."""
    return question_text(value) if isinstance(value, str) else None


def _qa_query(record: Any, number: int, where: str, problems: LineProblems) -> EvalQuery | None:
    if not isinstance(record, dict):
        problems.bad(where, "a line must be a JSON object")
        return None
    question = _question(record.get("question"))
    if not question:
        problems.bad(where, "missing or empty 'question' (a string)")
        return None
    raw_id = record.get("id", "")  # none: named once every line is read (`_name_unnamed`)
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool):
        problems.bad(where, "'id' must be a string or an integer")
        return None
    answers = record.get("answers", [])
    if isinstance(answers, str):
        answers = [answers]
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        problems.bad(where, "'answers' must be a list of strings")
        return None
    language = record.get("language")
    if language is not None and (not isinstance(language, str) or not language.strip()):
        problems.bad(where, '\'language\' must be a language code ("es", "pt-BR") or left out')
        return None
    empty = next((a for a in answers if not normalize_answer(a, language or "en")), None)
    if empty is not None:  # it would match an empty answer: exact match 1 with F1 0
        shown = f": {empty!r} is nothing once normalised (no punctuation, no articles)" if empty.strip() else ""
        problems.bad(where, f"an empty gold answer in 'answers'{shown}")
        return None
    qrels: dict[str, int] = {}
    if "relevant" in record:
        parsed = _relevance(record["relevant"])
        if isinstance(parsed, str):
            problems.bad(where, parsed)
            return None
        if any(not doc.strip() for doc in parsed):  # it would judge a document no index holds
            problems.bad(where, "an empty document id in 'relevant'")
            return None
        qrels = {composed(doc): grade for doc, grade in parsed.items()}  # as the index's ids are compared
    return EvalQuery(str(raw_id), question, answers, qrels, None if "id" in record else number, language)


def _open(path: Path, what: str) -> BinaryIO:
    """An evaluation input file, opened for reading; anything else (missing, a folder, a FIFO or device,
    unreadable) is bad input, said before any line is read."""
    if not path.exists():
        raise InputFormatError(f"{path}: no such file", hint=f"{what} is needed here")
    if not path.is_file():
        raise InputFormatError(f"{path}: not a regular file", hint=f"{what} must be a file")
    try:
        return path.open("rb")
    except OSError as exc:
        raise InputFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _raw_lines(path: Path, handle: BinaryIO) -> Iterator[bytes]:
    """The lines of an opened file, through gzip when its name ends in .gz; a damaged or truncated
    gzip stream (or a read error) is bad input naming the file, not an exception of its own."""
    stream: BinaryIO = gzip.GzipFile(fileobj=handle) if path.suffix.lower() == COMPRESSED_SUFFIX else handle  # type: ignore[assignment]
    try:
        yield from stream
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise InputFormatError(
            f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})",
            hint="a damaged or truncated file; copy it again",
        ) from None


def text_lines(path: Path, what: str, problems: LineProblems) -> Iterator[tuple[int, str, str]]:
    """(line number, "file:line", text) for each non-blank line of a UTF-8 file, gzipped or not (a BOM
    is dropped), read one line at a time; a line that is not UTF-8 is a bad line."""
    with _open(path, what) as handle:
        for number, raw in enumerate(_raw_lines(path, handle), start=1):
            where = f"{path}:{number}"
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                problems.bad(where, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})")
                continue
            if text.strip():
                yield number, where, text.rstrip("\r\n")


def _json_lines(path: Path, what: str, problems: LineProblems) -> Iterator[tuple[int, str, Any]]:
    """(line number, "file:line", value) for each line of a JSON Lines file: the one reader of qa.jsonl
    and BEIR's queries.jsonl. Every decoding or parsing failure is a bad line (skipped and listed with
    file:line; with --strict, exit 6), never an exception of its own."""
    for number, where, text in text_lines(path, what, problems):
        try:
            value = json.loads(text)
        except (RecursionError, ValueError) as exc:  # JSONDecodeError, or an integer with too many digits
            problems.bad(where, f"invalid JSON ({json_problem(exc)})")
            continue
        yield number, where, value


def _each_id_once(read: Iterable[tuple[str, EvalQuery]], problems: LineProblems) -> list[EvalQuery]:
    """The queries read ("file:line", query), each id the file gives once: a later line with an id
    already read is a bad line, since evaluating one query twice would weigh it twice in every average
    (and give a run file two blocks for it). The one check of qa.jsonl and BEIR's queries.jsonl. A
    qa.jsonl query without an id is not checked: `_name_unnamed` gives it one no line has."""
    queries: list[EvalQuery] = []
    seen: set[str] = set()
    for where, query in read:
        if query.id_given:
            if query.id in seen:
                problems.bad(where, f"duplicate id {query.id!r}")
                continue
            seen.add(query.id)
        queries.append(query)
    return queries


def _name_unnamed(queries: list[EvalQuery]) -> None:
    """Give each query without an id `q<line>`, or when a line of the file has that id (before or
    after it), the first free `q<line>-2`, `q<line>-3`…: an automatic id never takes an explicit one,
    so no line is dropped as its duplicate. Two automatic ids cannot meet: each holds its own line."""
    given = {q.id for q in queries if q.id_given}
    for query in queries:
        if query.line is None:
            continue
        name, number = f"q{query.line}", 1
        while name in given:
            number += 1
            name = f"q{query.line}-{number}"
        query.id = name


def load_qa_file(path: Path, strict: bool = False) -> EvalSet:
    problems = LineProblems(strict)
    read = (
        (where, query)
        for number, where, record in _json_lines(path, "a qa.jsonl file", problems)
        if (query := _qa_query(record, number, where, problems)) is not None
    )
    queries = _each_id_once(read, problems)
    _name_unnamed(queries)
    return EvalSet(path.name, queries, problems.skipped)


def _score(text: str) -> int | None:
    """A qrels score field as an integer, signed or not (`+1`, as trec_eval and int() read it), else None."""
    text = text.strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits.isdigit():
        return None
    try:
        return int(text)
    except ValueError:  # digits int() does not read, such as superscripts
        return None


def _qrels_grade(text: str) -> int | float | None:
    """A qrels score field as a number (an int when it is an integer), None when it is no number at all,
    as a header's "score" is: "1.0" is a number, a bad grade rather than a header."""
    whole = _score(text)
    if whole is not None:
        return whole
    try:
        return float(text)
    except ValueError:
        return None


def _qrels_row(text: str) -> list[str]:
    """A qrels line's fields: tab-separated as BEIR writes them, else split at runs of blanks (TREC's
    `query-id iteration corpus-id score`, as trec_eval and ir_datasets write it)."""
    if "\t" in text:
        return next(csv.reader([text], delimiter="\t"))
    return text.split()


_QRELS_LINE = "'query-id<TAB>corpus-id<TAB>score' (or TREC's 'query-id 0 corpus-id score')"


def _qrels(path: Path, problems: LineProblems) -> dict[str, dict[str, int]]:
    """BEIR's `query-id<TAB>corpus-id<TAB>score` lines (a first line whose score is no number at all is
    the header, skipped), or TREC's four columns `query-id 0 corpus-id score`. A later line grading a
    (query, document) pair again otherwise is a bad line, the first grade kept: the last one won in
    silence (a query judged relevant became one with no relevant document), and trec_eval refuses
    such qrels."""
    qrels: dict[str, dict[str, int]] = {}
    first_line: dict[tuple[str, str], int] = {}  # each pair's line, named when a later one contradicts it
    for number, where, text in text_lines(path, "the qrels file", problems):
        try:
            row = _qrels_row(text)
        except csv.Error as exc:  # a field over csv's size limit, a stray quote
            problems.bad(where, f"unreadable TSV ({exc})")
            continue
        grade = _qrels_grade(row[-1]) if row else None
        if number == 1 and grade is None:
            continue  # header
        if len(row) == 4:  # TREC: the second column (iteration) is unused
            row = [row[0], row[2], row[3]]
        if grade is None or len(row) != 3:
            problems.bad(where, f"expected {_QRELS_LINE}")
            continue
        problem = _grade_problem(grade, row[-1].strip())
        if problem is not None:
            problems.bad(where, f"grade {problem}")
            continue
        empty = [name for name, value in zip(("query-id", "corpus-id"), row) if not value.strip()]
        if empty:  # it would judge a document (or a query) no index holds
            problems.bad(where, f"empty {empty[0]}: expected {_QRELS_LINE}")
            continue
        judged, doc = qrels.setdefault(row[0], {}), composed(row[1])  # as the index's ids are compared
        if doc in judged and judged[doc] != grade:
            problems.bad(
                where,
                f"query {row[0]!r} judges {row[1]!r} again, with grade {int(grade)} where line "
                f"{first_line[row[0], doc]} gave {judged[doc]}",
            )
            continue
        judged[doc] = int(grade)
        first_line.setdefault((row[0], doc), number)
    return qrels


def _beir_queries(
    path: Path, qrels: dict[str, dict[str, int]], problems: LineProblems, asked: set[str]
) -> Iterator[tuple[str, EvalQuery]]:
    """("file:line", query) for each query of queries.jsonl that the qrels judge (the others are not
    evaluated, so their text is never checked); every id read goes into `asked`."""
    for _, where, record in _json_lines(path, "a BEIR folder's queries.jsonl", problems):
        if not isinstance(record, dict):
            problems.bad(where, "a line must be a JSON object")
            continue
        qid = record.get("_id")
        if not isinstance(qid, (str, int)) or isinstance(qid, bool):
            problems.bad(where, "missing '_id' (a string or an integer)")
            continue
        asked.add(str(qid))
        if str(qid) in qrels:
            text = _question(record.get("text"))
            if not text:
                problems.bad(where, "query without text")
                continue
            yield where, EvalQuery(str(qid), text, [], qrels[str(qid)])


def qrels_file(folder: Path, split: str) -> Path | None:
    """A BEIR folder's judgments of `split`: `qrels/<split>.tsv`, else `qrels/<split>.tsv.gz` (gzipped
    as the corpus and queries may be); None when neither is a regular file."""
    return beir_file(folder / "qrels", f"{split}.tsv")


def _qrels_splits(folder: Path) -> list[str]:
    """The splits a BEIR folder's qrels/ holds, gzipped or not."""
    names = (path.name.removesuffix(COMPRESSED_SUFFIX) for path in (folder / "qrels").glob("*.tsv*"))
    return sorted({name.removesuffix(".tsv") for name in names if name.endswith(".tsv")})


def load_beir(folder: Path, split: str = "test", strict: bool = False) -> EvalSet:
    qrels_path = qrels_file(folder, split)
    if qrels_path is None:
        raise InputFormatError(
            f"{folder / 'qrels' / split}.tsv: no such qrels file",
            hint=f"splits here: {', '.join(_qrels_splits(folder)) or 'none'}",
        )
    problems = LineProblems(strict)
    qrels = _qrels(qrels_path, problems)
    queries_path = beir_file(folder, "queries.jsonl") or folder / "queries.jsonl"  # missing: said by _open
    asked: set[str] = set()
    queries = _each_id_once(_beir_queries(queries_path, qrels, problems, asked), problems)
    corpus = beir_file(folder, "corpus.jsonl") or folder / "corpus.jsonl"
    unasked = [qid for qid in qrels if qid not in asked]  # said by checks.unasked_message
    # named by the folder itself, however DATA spelled it (`.` has no name): as the cache names it
    return EvalSet(f"{folder.resolve().name}/{split}", queries, problems.skipped, corpus, len(qrels), unasked)


def load_eval_set(path: Path, split: str = "test", strict: bool = False) -> EvalSet:
    """A qa.jsonl file or a BEIR folder."""
    if not path.exists():
        raise PathNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        if not is_beir_folder(path):
            raise InputFormatError(f"{path}: not a BEIR folder (corpus.jsonl with queries.jsonl and qrels/)")
        return load_beir(path, split, strict)
    return load_qa_file(path, strict)


def questions_to_evaluate(path: Path, split: str = "test", strict: bool = False) -> EvalSet:
    """`load_eval_set` for a command that measures it: a set without one question is exit 6, not an
    empty table with exit 0 that a script would take for a measurement."""
    eval_set = load_eval_set(path, split, strict)
    if not eval_set.queries:
        skipped = eval_set.skipped
        where = skipped[0].path.removeprefix(f"{path}:") if skipped else ""  # "qa.jsonl:3" → "3"
        where = f"line {where}" if where.isdigit() else where
        first = f": every line was skipped ({where}: {skipped[0].reason}, …)" if skipped else ""
        judgments = qrels_file(path, split) if path.is_dir() else None
        qrels_name = f"qrels/{judgments.name if judgments else f'{split}.tsv'}"
        if not path.is_dir():
            hint = 'one JSON object a line: {"question": "…", "answers": ["…"]}'
        elif not eval_set.qrels_queries and any(s.path.startswith(f"{judgments}:") for s in skipped):
            hint = f"fix {qrels_name}: one {_QRELS_LINE} a line, the score an integer grade"
        elif not eval_set.qrels_queries:  # not one line, or a header alone: no id or split is wrong
            hint = f"{qrels_name} holds no judgments (empty, or a header alone): one {_QRELS_LINE} a line"
        elif len(eval_set.unasked) == eval_set.qrels_queries:  # another split's
            hint = f"{qrels_name} judges none of queries.jsonl's ids; choose another --split"
        else:  # queries.jsonl's lines for the judged ids were bad
            hint = 'queries.jsonl needs one JSON object a line: {"_id": "…", "text": "…"}'
        raise InputFormatError(f"{path}: no questions to evaluate{first}", hint=hint)
    return eval_set
