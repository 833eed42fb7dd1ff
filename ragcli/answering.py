"""The RAG pipeline: retrieve passages, have a generator answer from them, keep the sources and timings.

`answer()` is the one-call API; `answer_many()` loads the model once and generates in batches. Both
retrieve before they load a model, so that a model that cannot be loaded never costs the sources.
A model that gives no answer (nothing, only citation markers, "I don't know") can hand the question
to a fallback generator (the extractive one); the answer then says so (`fallback`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ragcli.errors import InputFormatError, InvalidOptionError, RagcliError, RagcliWarning
from ragcli.generation.base import (
    GENERATORS,
    Generation,
    GenerationOptions,
    Generator,
    StreamingGenerator,
    check_generator,
    generations_or_errors,
    generator_names,
    make_generator,
    visible_text,
)
from ragcli.records import Hit
from ragcli.retrieval.base import Scorer
from ragcli.retrieval.filters import Filter
from ragcli.retrieval.index import Index, check_questions, load_index, question_text

TIMED_STEPS = ("retrieve", "load", "generate")  # the seconds an answer records, as its --json names them


@dataclass
class Answer:
    """A question's answer, the passages it was given, which of them it cites, and where time went."""

    question: str
    retriever: str
    sources: list[Hit]
    answer: str | None = None
    generator: str | None = None
    model: str | None = None
    citations: list[int] = field(default_factory=list)
    sources_in_prompt: int | None = None  # the generator's own count; None where it does not say
    timings: dict[str, float] = field(default_factory=dict)
    fallback: str | None = None  # the generator that answered because the model gave no answer
    searched: str | None = None  # what was retrieved with, when not the question (a chat follow-up)
    asked: str | None = None  # what the generator was asked, when not the question (a follow-up, reminded)
    error: str | None = None  # why there is no answer: the one-line error of the request that failed

    @property
    def generator_question(self) -> str:
        return self.asked or self.question

    @property
    def cited(self) -> list[Hit]:
        return [self.sources[n - 1] for n in self.citations]

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.question,
            "retriever": self.retriever,
            "answer": self.answer,
            "generator": self.generator,
            "model": self.model,
            "citations": self.citations,
            "sources_in_prompt": self.sources_in_prompt,
            "sources": [
                {"n": n, "cited": n in self.citations, **hit.to_dict()} for n, hit in enumerate(self.sources, start=1)
            ],
            # every step's key, null where it was not reached (a generator that failed to load or answer)
            "timings": dict.fromkeys(TIMED_STEPS) | {name: round(s, 4) for name, s in self.timings.items()},
            "fallback": self.fallback,
            **({"searched": self.searched} if self.searched is not None else {}),
            **({"asked": self.asked} if self.asked is not None else {}),
            **({"error": self.error} if self.error is not None else {}),
        }


def _index(index: Index | str | Path | None) -> Index:
    return index if isinstance(index, Index) else load_index(index)


def _check_answering(generator: object, options: object) -> None:
    """A caller's mistake in `answer` / `answer_many` said as one before any work (None or a dict here
    surfaced as an AttributeError deep inside, after the retrieval)."""
    if isinstance(generator, str):
        check_generator(generator)  # an unknown name before any passage is retrieved
    elif not isinstance(generator, Generator):
        raise InvalidOptionError(
            f"generator must be a generator's name or a Generator, not {type(generator).__name__}",
            hint=f"choose one of {', '.join(generator_names())}, or pass an object with name, model, "
            "generate and generate_many",
        )
    if options is not None and not isinstance(options, GenerationOptions):
        raise InvalidOptionError(
            f"options must be GenerationOptions, not {type(options).__name__}",
            hint="options=GenerationOptions(batch_size=2)",
        )


def with_generation(
    answer: Answer, generator: Generator, generation: Generation, seconds: float, fallback: Generator | None = None
) -> Answer:
    """Fill the answer in; when the model gave none and there are sources, ask `fallback` (if any)."""
    if not generation.text and answer.sources and fallback is not None and fallback.name != generator.name:
        began = time.perf_counter()
        rescue = fallback.generate(answer.generator_question, answer.sources)
        seconds += time.perf_counter() - began
        if rescue.text:  # sources_in_prompt stays the model's: what it was shown
            generation = Generation(rescue.text, rescue.citations, generation.sources_in_prompt)
            answer.fallback = fallback.name
    answer.answer = generation.text
    answer.generator = generator.name
    answer.model = generator.model
    answer.citations = generation.citations
    answer.sources_in_prompt = generation.sources_in_prompt
    answer.timings["generate"] = seconds
    return answer


def unasked(answer: Answer, generator: Generator | None) -> Answer:
    """An answer that retrieved nothing, filled in without asking `generator` (None: none could be
    loaded): its answer could only come from the model's memory, with no source to check it by
    (`generate_answers`' `grounded`), so a generator's failure is none of its own."""
    if generator is not None:
        return with_generation(answer, generator, Generation("", [], 0), 0.0)
    answer.answer = ""
    return answer


def with_failure(answer: Answer, error: RagcliError, generator: Generator | None) -> Answer:
    """Mark an answer whose generation failed: the error, and the generator and model that failed, as
    an answered record names them (None where no generator could be loaded)."""
    answer.error = str(error)
    if generator is not None:
        answer.generator, answer.model = generator.name, generator.model
    return answer


def retrieve(
    index: Index,
    question: str,
    k: int,
    retriever: str | Scorer,
    *,
    context: bool = True,
    name: str | None = None,
    filter: Filter | None = None,
    search: str | None = None,
    distinct: bool = False,
    metadata: bool = False,
) -> Answer:
    """Step one: the sources for a question (none when `context` is off: closed-book). `name` is the
    retriever's name to report (default: the name given, or the scorer's); `filter` restricts them;
    `search` is what to retrieve with instead of the question (a chat follow-up with its topic);
    `distinct`: each text once; `metadata`: with their documents' metadata (`Index.search`)."""
    started = time.perf_counter()
    (question,) = check_questions([question])
    searched = search if search is not None and search != question else None
    query = searched or question
    hits = (
        index.search(query, k=k, retriever=retriever, filter=filter, distinct=distinct, metadata=metadata)
        if context
        else []
    )
    name = name or (retriever if isinstance(retriever, str) else retriever.name)
    return Answer(question, name, hits, timings={"retrieve": time.perf_counter() - started}, searched=searched)


SEARCH_CHUNK = 256  # questions scored together (sparse products read the whole weight matrix)
READ_BYTES = 1 << 16  # what one read of a live stream asks for
BOM = "\ufeff"  # a byte-order mark: what starts a file some editors save as UTF-8, no part of its text


MAX_QUESTION_CHARS = 1 << 20  # one line of stdin; a longer one is no question (a file piped in by mistake)


_NEWLINE_RE = re.compile(r"\r\n|\r|\n")
_UNDECODED_RE = re.compile("[\udc80-\udcff]")  # what `_marked` makes of bytes stdin's decoder cannot read
_MARKED = "ragcli.marked"


def _marked(error: UnicodeError) -> tuple[str, int]:
    """A decoding error handler: a lone surrogate in place of what could not be decoded, for `_decoded`
    to say and replace. Python's surrogateescape cannot stand for every codec's errors (UTF-16's lone
    surrogates: stdin in UTF-16 was an internal error)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "\udc80", error.end


def split_lines(text: str) -> list[str]:
    """`text`'s lines as questions are read: ended by \\n, \\r or \\r\\n only (str.splitlines also
    splits at U+2028, form feed, \\x0b, NEL…, the soft line breaks of text copied from Word or a PDF)."""
    return _NEWLINE_RE.split(text)


class _LineTooLong:
    """What `_lines` gives for a line of more than MAX_QUESTION_CHARS, as soon as it is that long."""


_TOO_LONG = _LineTooLong()


def question_batches(
    stream: IO[str], limit: int = SEARCH_CHUNK, refuse: Callable[[str], None] | None = None
) -> Iterator[list[str]]:
    """The questions of `stream`, one per line that asks one (`question_text`: a line of whitespace or
    of colour codes alone asks nothing), in batches of what has already arrived.

    A live pipe (or a person typing) gets each question answered as soon as its line is complete: the
    file descriptor is read with os.read, which returns what is there, and a batch ends when nothing
    more is waiting (select with no timeout). Lines already waiting are answered together (up to
    `limit`, so a piped file is still scored many at a time). A stream without a file descriptor is
    read in pieces as well. A byte-order mark at the start (a file saved by Notepad) is dropped.

    Memory holds one read, one batch and one line, whatever the number of lines or their length: a line
    of more than MAX_QUESTION_CHARS characters (a binary file piped in by mistake is one long line) is no
    question. `refuse` is told so with its line number (`stdin:3: …`) as soon as it is that long (`<
    /dev/zero` has no newline to wait for), and the rest of the line is read and dropped; without
    `refuse` it is an InputFormatError."""
    batch: list[str] = []
    number = 0
    for line in _lines(_chunks(stream)):
        if line is None:  # nothing more is waiting yet: answer what has arrived
            if batch:
                yield batch
                batch = []
            continue
        number += 1
        if isinstance(line, _LineTooLong):
            message = (
                f"stdin:{number}: longer than {MAX_QUESTION_CHARS:,} characters, no question "
                "(a file piped in by mistake?): left out"
            )
            if refuse is None:
                raise InputFormatError(message)
            refuse(message)
            continue
        question = question_text(_decoded(line, number))
        if question:
            batch.append(question)
            if len(batch) >= limit:
                yield batch
                batch = []
    if batch:
        yield batch


def _decoded(line: str, number: int) -> str:
    """Line `number` with the bytes stdin's decoder could not read (`_chunks` keeps them as lone
    surrogates) as U+FFFD, said once per line: a Latin-1 file piped in by mistake was answered mangled,
    without a word."""
    if not _UNDECODED_RE.search(line):
        return line
    import warnings

    warnings.warn(
        RagcliWarning(f"stdin:{number}: not valid UTF-8 (a file in another encoding?): its bad bytes read as U+FFFD"),
        stacklevel=2,
    )
    return _UNDECODED_RE.sub("\ufffd", line)


def _chunks(stream: IO[str]) -> Iterator[str | None]:
    """`stream`'s text as it arrives, each read once, and None after a read when nothing more is
    waiting yet (a live pipe); without a byte-order mark at the start."""
    import codecs
    import os
    import select

    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):  # an in-memory stream: all of it is already there
        descriptor = -1
    if descriptor < 0:
        first = True
        while chunk := stream.read(READ_BYTES):
            yield chunk.removeprefix(BOM) if first else chunk
            first = False
        return
    encoding = getattr(stream, "encoding", None) or "utf-8"
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig"  # drops a byte-order mark at the start of the stream, and only there
    codecs.register_error(_MARKED, _marked)
    decoder = codecs.getincrementaldecoder(encoding)(errors=_MARKED)  # `_decoded` says so
    ended = False
    while not ended:
        data = os.read(descriptor, READ_BYTES)
        ended = not data
        yield decoder.decode(data, final=ended)
        if not ended and not _more_waiting(descriptor, select):
            yield None


def _lines(chunks: Iterable[str | None]) -> Iterator[str | _LineTooLong | None]:
    """The lines of `chunks`, each as soon as it ends (and the last, unended one), with the pauses
    (None) passed on. A line ends at LF, CR or CR LF, as universal newlines end them (a file from an
    old Mac, `printf 'a\\rb\\r'`, was one question), a CR LF split between two reads included. A
    line is kept as the list of its pieces and joined once, when it ends: adding each read to the line
    so far copied it on every read, quadratic in its length. A line longer than MAX_QUESTION_CHARS is
    `_TOO_LONG` once it is, its pieces let go, the rest of it skipped."""
    pieces: list[str] = []
    length = 0
    too_long = after_cr = False
    for chunk in chunks:
        if chunk is None:
            yield None
            continue
        if after_cr and chunk.startswith("\n"):  # the CR that ended the last read's line had its LF
            chunk = chunk[1:]
        after_cr = chunk.endswith("\r")
        for index, part in enumerate(_NEWLINE_RE.split(chunk)):
            if index:  # a line ended before this part
                if not too_long:
                    yield "".join(pieces)
                pieces, length, too_long = [], 0, False
            if too_long or not part:
                continue
            length += len(part)
            if length > MAX_QUESTION_CHARS:
                pieces, too_long = [], True
                yield _TOO_LONG
            else:
                pieces.append(part)
    if pieces:
        yield "".join(pieces)


def _more_waiting(descriptor: int, select: Any) -> bool:
    try:
        return bool(select.select([descriptor], [], [], 0)[0])
    except (OSError, ValueError):  # not selectable (a regular file is always ready): answer what there is
        return False


def search_questions(
    index: Index,
    questions: Sequence[str],
    k: int,
    retriever: str | Scorer,
    filter: Filter | None = None,
    distinct: bool = False,
    metadata: bool = False,
) -> Iterator[tuple[str, list[Hit]]]:
    """Retrieval only, for many questions: (question, hits), in order, as each chunk is scored. Many
    questions are scored together (faster per question); a single one touches only its own terms' rows.
    `metadata`: the hits with their documents' metadata, of the same build (`Index.search`)."""
    for start in range(0, len(questions), SEARCH_CHUNK):
        chunk = check_questions(questions[start : start + SEARCH_CHUNK])
        found = (
            index.search_many(chunk, k=k, retriever=retriever, filter=filter, distinct=distinct, metadata=metadata)
            if len(chunk) > 1
            else [index.search(chunk[0], k=k, retriever=retriever, filter=filter, distinct=distinct, metadata=metadata)]
        )
        yield from zip(chunk, found)


def answer(
    question: str,
    index: Index | str | Path | None = None,
    generator: Generator | str = "auto",
    *,
    k: int = 5,
    retriever: str = "bm25",
    model: str | None = None,
    options: GenerationOptions | None = None,
    context: bool = True,
    filter: Filter | None = None,
    fallback: bool = False,
    distinct: bool = False,
    metadata: bool = True,
) -> Answer:
    """Answer one question from the index: retrieve, load the generator (if named by kind), generate.
    The arguments are `answer_many`'s, so that one question and many are asked the same way."""
    return answer_many(
        [question],
        index,
        generator,
        k=k,
        retriever=retriever,
        model=model,
        options=options,
        context=context,
        filter=filter,
        fallback=fallback,
        distinct=distinct,
        metadata=metadata,
    )[0]


def answer_many(
    questions: Iterable[str],
    index: Index | str | Path | None = None,
    generator: Generator | str = "auto",
    *,
    k: int = 5,
    retriever: str = "bm25",
    model: str | None = None,
    options: GenerationOptions | None = None,
    context: bool = True,
    filter: Filter | None = None,
    fallback: bool = False,
    distinct: bool = False,
    metadata: bool = True,
) -> list[Answer]:
    """Answers for many questions (a list, or any iterable of them) with one model load; generation runs
    in batches. `context=False`: closed-book, no sources; `filter` (`ragcli.retrieval.filters.Filter`)
    restricts the sources before the top k; `fallback`: the extractive generator answers where the
    model gives no answer; `distinct`: each text once among the sources (`ragcli query`'s default; off
    here, as evaluation ranks); `metadata`: the sources with their documents' metadata, as `ragcli query
    --json` gives them (False skips reading it)."""
    asked = check_questions(questions)
    _check_answering(generator, options)
    idx = _index(index)
    answers = [
        retrieve(idx, q, k, retriever, context=context, filter=filter, distinct=distinct, metadata=metadata)
        for q in asked
    ]
    load_seconds = 0.0
    if isinstance(generator, str):
        choice = make_generator(generator, model, options, index=idx)
        generator, load_seconds = choice.generator, choice.load_seconds
        if choice.notice:
            import warnings

            warnings.warn(choice.notice, stacklevel=2)
    batch_size = options.batch_size if options is not None else len(answers) or 1
    backup = extractive_fallback(idx, options) if fallback else None
    return list(generate_answers(answers, generator, load_seconds, batch_size, fallback=backup, grounded=context))


def extractive_fallback(index: Index, options: GenerationOptions | None = None) -> Generator:
    """The generator that answers when a model gives no answer: the extractive one (no model)."""
    return GENERATORS.get("extractive").create(None, options or GenerationOptions(), index)


def stream_answer(
    answer: Answer,
    generator: StreamingGenerator,
    load_seconds: float,
    on_text: Callable[[str], None],
    fallback: Generator | None = None,
) -> Answer:
    """Generate one answer token by token, calling `on_text` with the text so far after each piece."""
    began = time.perf_counter()
    pieces, finish = generator.stream(answer.generator_question, answer.sources)
    text = ""
    for piece in pieces:
        text += piece
        on_text(visible_text(text))  # a reasoning model's thinking is not shown
    generation = finish()
    answer.timings["load"] = load_seconds
    return with_generation(answer, generator, generation, time.perf_counter() - began, fallback)


def generate_answers(
    answers: Sequence[Answer],
    generator: Generator,
    load_seconds: float = 0.0,
    batch_size: int = 8,
    *,
    fallback: Generator | None = None,
    grounded: bool = True,
) -> Iterator[Answer]:
    """Fill retrieved answers in, batch by batch, yielding each as soon as its batch is generated
    (so a pipeline can print results while later questions are still being answered). `grounded`: a
    question that retrieved nothing is not put to the model, whose answer could only come from its
    own memory, with no source to check it by; its answer is empty ("Nothing was retrieved to answer
    from."). Off for closed-book answers, which are asked without passages on purpose.

    A server's request that fails fails its question alone: that answer is yielded with its `error`
    (no text), the others as usual, and the first failure is raised after the last answer. A batch
    whose every request failed, or a generator that answers a batch at once, raises at once
    (`generations_or_errors`): the answers not yielded are the caller's to mark."""
    size = max(1, batch_size)
    failures: list[RagcliError] = []
    for start in range(0, len(answers), size):
        chunk = answers[start : start + size]
        asked = [item for item in chunk if item.sources or not grounded]
        began = time.perf_counter()
        outcomes = iter(generations_or_errors(generator, [(a.generator_question, a.sources) for a in asked]))
        seconds = (time.perf_counter() - began) / max(len(asked), 1)
        for item in chunk:
            item.timings["load"] = load_seconds
            if not (item.sources or not grounded):
                yield unasked(item, generator)
                continue
            outcome = next(outcomes)
            if isinstance(outcome, RagcliError):
                failures.append(outcome)
                yield with_failure(item, outcome, generator)
            else:
                yield with_generation(item, generator, outcome, seconds, fallback)
    if failures:
        raise failures[0]


def above(hits: list[Hit], min_score: float | None) -> list[Hit]:
    """The hits scoring at least `min_score` (`query --min-score`), ranks kept; all of them when None."""
    return hits if min_score is None else [hit for hit in hits if hit.score >= min_score]


def why_nothing(
    index: Index, question: str, scorer: str | Scorer, filter: Filter | None, min_score: float | None
) -> str | None:
    """Why `question` found no passage when the cause is the user's restriction rather than its words
    (None: no passage shares a word with it), so that a mistyped `--where` key or a too-high
    `--min-score` is not taken for an empty answer. Called only when nothing came back."""
    excluded = index.excludes_all(filter)
    if excluded is not None:
        return excluded
    if filter is None and min_score is None:  # no restriction: its words alone found nothing
        return None
    best = index.search(question, 1, scorer, filter)
    if best:  # a passage within the filter matches: only --min-score can have left it out
        if min_score is None:
            return None
        within = f" within {filter}" if filter is not None else ""
        return f"no passage{within} scores at least {min_score:g} (the best scores {best[0].score:.3f})"
    if filter is not None and index.search(question, 1, scorer):
        return f"no passage within {filter} matches this question (passages outside it do)"
    return None
