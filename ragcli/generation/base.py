"""The generator seam: the `Generator` protocol, the registry of generator backends, `make_generator`.

All generators share one small protocol (`Generator`), so tests and users can plug in their own:
`generate(question, sources)` returns a `Generation` whose `citations` are 1-based positions in
`sources`. A backend registers a `GeneratorFactory` under the entry point group `ragcli.generators`
(the built-ins `openai`, `transformers` and `extractive` too). `make_generator` picks one by name;
`auto` asks a configured server first (--base-url or $RAGCLI_BASE_URL: `openai`), else a transformers
model, and falls back to the extractive baseline when the default model cannot be loaded.

`settle` turns a model's raw text into a `Generation` the same way for every model backend: a
reasoning model's thinking (`<think>…</think>`) is left out; an answer that is only citation markers
(`[1]`, `[1] [2]`, `[1, 2]`, `[1-3]`, `[^1]`), a pointer at a passage ("Passage 2") or a "don't know"
("The passages do not contain the answer.") is no answer and cites nothing; otherwise citations are the
markers the model wrote, else the passages holding the answer, or what it adds to the question.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ragcli.errors import InvalidOptionError, MissingExtraError, ModelUnavailableError, RagcliError, unknown_choice
from ragcli.plugins import Guarded, PluginFault, Registry
from ragcli.records import Hit

if TYPE_CHECKING:
    from ragcli.retrieval.index import Index

DEFAULT_MODEL = "google/flan-t5-base"
AUTO = "auto"  # not a backend: a configured server, else transformers, else extractive (see make_generator)
ANSWER_STYLES = ("short", "sentence", "long")
# a citation marker as models write them: "[1]", "[1, 2]", "[1-3]" or "[1–3]" (a range), "[^1]" (a Markdown
# footnote); "[1][2]" is two markers
_CITED = r"\d+(?:\s*[-–]\s*\d+)?"
_CITATION = rf"\[(?:\^\d+|{_CITED}(?:\s*,\s*{_CITED})*)\]"
CITATION_RE = re.compile(_CITATION)
_CITED_RE = re.compile(r"(\d+)(?:\s*[-–]\s*(\d+))?")
_DIGIT_THEN_SEPARATOR_RE = re.compile(r"\d[.,]")  # "1,200": its "200" is not a number of its own
_SEPARATOR_THEN_DIGIT_RE = re.compile(r"[.,]\d")
# what may join markers that say nothing else: punctuation, "and", "or" ("[1] and [2]", "[1], [2].")
_JOINED = r"(?:[\W_]|\band\b|\bor\b)*"
# a pointer at passages rather than an answer: "see", "in" or "from", "the", then "passage", "source" or
# "document", whose number may go without its brackets ("Passage 2", "Source: 2", "In passage [2]")
_POINTER = r"(?:(?:see|in|from)\b\W*)?(?:the\b\W*)?"
_POINTER_NOUN = r"(?:passages?|sources?|documents?)\b"
# "[1]", "[1] [2]", "[1] and [2]", "Sources: [2]", "See passage [1].", "Passages 1 and 2": markers, or a
# pointer at passages, and nothing else that says anything (a pointer's numbers are read as digit runs,
# its brackets as punctuation, so that each character is read one way only: linear time)
_MARKERS_ONLY_RE = re.compile(
    rf"^[\W_]*(?:{_POINTER}(?:{_POINTER_NOUN}(?:{_JOINED}\d+\b)*{_JOINED}|(?:{_CITATION}{_JOINED})+))?$",
    re.IGNORECASE,
)
# the passages as a model names them: "the passages", "the given context", "the text [2]"
_PASSAGES = rf"(?:(?:given|provided|above)\s+)?(?:passages?|context|text|sources?|documents?)(?:\s*{_CITATION})?"
_NOT = r"(?:do(?:es)?\s+not|do(?:es)?n['’]t|cannot|can['’]t)"
_HOLD = r"(?:contain|mention|say|state|provide|give|include|answer|specify|tell)"
# one sentence saying there is no answer: "I don't know", "Unknown", "No answer.", "There is no answer in
# the passages [2].", "The passages do not contain the answer.", "(The answer is) not mentioned in the
# context.", "I cannot find the answer in the passages."
_NO_ANSWER_RE = re.compile(
    r"^\W*(?:"
    rf"(?:i\s+)?{_NOT}\s+(?:know|answer|tell|find)\b"
    r"|unknown\W*$"
    r"|(?:there(?:\s+is|['’]s)\s+)?no\s+(?:answer|information|mention)\b"
    rf"|the\s+{_PASSAGES}(?:\s+(?:provided|given|above))?\s+{_NOT}\s+{_HOLD}\b"
    rf"|(?:\w[^.]*?\b(?:is|are)\s+)?not\s+(?:mentioned|given|stated|provided|found|specified)\s+in\s+the\s+{_PASSAGES}"
    r")[^.]*(?:\.\W*)?$",  # one sentence; every alternative opens on a word character: linear time
    re.IGNORECASE,
)
# a label some models put before the answer ("Answer: 1889", "**Answer:** 1889"): not part of it
_ANSWER_LABEL_RE = re.compile(r"^\W*(?:final\s+)?answer\W*?[:：]\W*?(?=\w|\[|$)", re.IGNORECASE)
# what a chat model says before the answer (measured: SmolLM2-135M-Instruct opens 1 reply in 4 with "The
# answer to the question is:"): "The answer is 1943", "According to the passages, …", "The passage
# says: "…"" — the answer is what follows
_LEAD_IN_RE = re.compile(
    r"^\W*(?:"
    r"(?:the\s+)?(?:correct\s+|short\s+|final\s+)?answer(?:\s+to\s+(?:the|this|your)\s+question)?\s+is\s*[:：]?"
    rf"|(?P<sentence>(?:according\s+to|based\s+on)\s+the\s+{_PASSAGES}\s*,)"
    rf"|the\s+{_PASSAGES}\s+(?:is|says|states|reads)\s*[:：]"
    r")\s*(?=\S|$)",
    re.IGNORECASE,
)
# a bare number: a small model shown "[1] …", "[2] …" may answer with the passage's number alone
_BARE_NUMBER_RE = re.compile(r"^\W*(\d{1,2})\W*$")
_NUMBER_OR_WORD_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")  # "2,000" is one number, not a 2
# English numbers written as words, zero to nineteen (evaluation's answer normalisation reads them too)
NUMBER_WORDS = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"),
)
_QUOTED_RE = re.compile(r'^["“„«](?P<inner>[^"“”„«»]+)["”»](?P<end>[.!]?)$')
# reasoning models (Qwen3, DeepSeek-R1, QwQ …) think between tags before they answer; some chat templates
# open the tag in the prompt, so the reply holds only the closing one
_REASONING_TAGS = ("think", "thinking", "reasoning")
_TAG = "|".join(_REASONING_TAGS)
_REASONING_RE = re.compile(rf"<({_TAG})>.*?</\1>", re.DOTALL | re.IGNORECASE)
_REASONING_OPEN_RE = re.compile(rf"<(?:{_TAG})>", re.IGNORECASE)
_REASONING_CLOSE_RE = re.compile(rf"</(?:{_TAG})>", re.IGNORECASE)
_PARTIAL_TAG_RE = re.compile(r"</?([a-z]{0,9})$", re.IGNORECASE)


@dataclass
class Generation:
    text: str
    citations: list[int]  # 1-based numbers of the sources the answer rests on
    # how many sources the generator actually saw (the context budget); None: it does not say, as a
    # plugin's Generation(text, citations) does not, so no "answered closed-book" note is made up for it
    sources_in_prompt: int | None = None


@dataclass
class GenerationOptions:
    """Decoding and runtime options for model generators (greedy and deterministic by default)."""

    max_new_tokens: int = 128
    num_beams: int = 1
    temperature: float = 0.0  # 0 → greedy; > 0 → sampling
    top_p: float = 1.0
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    batch_size: int = 8
    prompt_template: str | None = None  # the template's text (see ragcli.generation.prompt)
    answer_style: str = "short"  # short | sentence | long (see ragcli.generation.prompt)
    # OpenAI-compatible servers (ragcli.generation.openai)
    base_url: str | None = None  # else $RAGCLI_BASE_URL, else $OPENAI_BASE_URL
    api_key_env: str | None = None  # the variable holding the key (default OPENAI_API_KEY); never the key itself
    concurrency: int = 4  # requests in flight at once (query -, evaluate)
    timeout: float = 300.0  # seconds per request, waiting behind others in flight included
    retries: int = 2  # retries on 429, 5xx, timeouts and connection errors, with exponential backoff
    context_tokens: int | None = None  # the model's context when the server does not say (approx. chars / 4)

    def __post_init__(self) -> None:
        # checked here, where the CLI and the Python API both make them: a style no template knows
        # silently answered in whole sentences
        check_answer_style(self.answer_style)


@runtime_checkable
class Generator(Protocol):
    name: str
    model: str | None

    def generate(self, question: str, sources: Sequence[Hit]) -> Generation: ...

    def generate_many(self, requests: Sequence[tuple[str, Sequence[Hit]]]) -> list[Generation]: ...


@runtime_checkable
class IncrementalGenerator(Generator, Protocol):
    """A generator that answers a batch one request at a time (a server's, several requests in flight):
    `generate_each` yields, in order, each request's Generation or the error that failed that request
    alone, so that one failed request costs no other question its answer (received, perhaps paid for)."""

    def generate_each(self, requests: Sequence[tuple[str, Sequence[Hit]]]) -> Iterator[Generation | RagcliError]: ...


def generations_or_errors(
    generator: Generator, requests: Sequence[tuple[str, Sequence[Hit]]]
) -> list[Generation | RagcliError]:
    """Each request's Generation, or the error that failed it (an `IncrementalGenerator`'s requests
    fail one by one; another generator's batch fails whole, raised). When every request failed, the
    first failure is raised: the server is gone or refuses them all, and the next batch would only wait
    for the same failure again (each request up to --retries times --timeout)."""
    if not requests:
        return []
    if not isinstance(generator, IncrementalGenerator):
        return _one_each(generator, requests, [*generator.generate_many(requests)])
    outcomes = _one_each(generator, requests, [*generator.generate_each(requests)])
    if all(isinstance(outcome, RagcliError) for outcome in outcomes):
        failure = outcomes[0]
        assert isinstance(failure, RagcliError)
        raise failure
    return outcomes


def _one_each(
    generator: Generator, requests: Sequence[object], outcomes: list[Generation | RagcliError]
) -> list[Generation | RagcliError]:
    """`outcomes` when there is one a request: more or fewer cannot be matched to the questions (a
    plugin's is its PluginError first, from the guard; this is a generator object passed in Python)."""
    if len(outcomes) != len(requests):
        raise InvalidOptionError(
            f"generator {generator.name!r} returned {len(outcomes)} generations for {len(requests)} requests",
            hint="its generate_many must return one Generation a request, in order",
        )
    return outcomes


@runtime_checkable
class StreamingGenerator(Generator, Protocol):
    def stream(self, question: str, sources: Sequence[Hit]) -> tuple[Iterator[str], Callable[[], Generation]]: ...


def cited_sources(text: str, sources: Sequence[Hit], question: str = "") -> list[int]:
    """The source numbers an answer cites ([1], [2, 3], [1-3], [^1] …), in order of first mention; numbers
    beyond the sources dropped.

    A model that writes no markers still rests on something (ragcli never asks a model to cite: small
    models then answer with the marker alone): the sources holding the whole answer as whole words, else
    the one holding more than half of the content words the answer adds to `question` (ties: the better
    ranked). A passage sharing only the question's words does not support what the answer claims (a
    made-up answer repeats the question), and half is not enough: a passage saying "16 days" holds the
    "days" of "6 days", not its 6. An answer no source supports, and no answer, cite nothing.

    A marker that a passage holds word for word ("earlier studies [2, 3]" in a paper, a wiki's "[2]") is
    text the answer quotes, not a citation: the answer is attributed by what it says instead."""
    markers = [marker.group() for marker in CITATION_RE.finditer(text)]
    quoted = {m.group() for source in sources for m in CITATION_RE.finditer(source.text)} if markers else set()
    numbers: list[int] = []
    for marker in markers:
        for n in _marker_numbers(marker, len(sources)) if marker not in quoted else ():
            if n not in numbers:
                numbers.append(n)
    if numbers or no_answer(text) or not sources:
        return numbers
    answer = strip_citations(text).lower()
    containing = [i for i, s in enumerate(sources, 1) if _holds(strip_citations(s.text).lower(), answer)]
    if containing:
        return containing
    added = content_words(answer) - words_of(question)
    held = [len(added & words_of(s.text)) for s in sources]
    best = max(range(len(sources)), key=lambda i: (held[i], -i))
    return [best + 1] if 2 * held[best] > len(added) else []


def _holds(passage: str, answer: str) -> bool:
    """True when `passage` holds `answer` as whole words: "200" is not in "2006" nor in "1,200", "6 days"
    not in "16 days"; a CJK character is a word of its own, so a CJK answer is held inside a CJK run.
    Found with str.find and checked at its two ends, never compiled into a pattern of its own: compiling
    a server's 500 KB reply took tens of seconds."""
    word = _word_character()
    left, right = bool(word.match(answer)), bool(word.match(answer[-1:]))
    start = passage.find(answer)
    while start >= 0:
        joined = (left and _joined_before(passage, start, word)) or (
            right and _joined_after(passage, start + len(answer), word)
        )
        if not joined:
            return True
        start = passage.find(answer, start + 1)
    return False


def _joined_before(passage: str, at: int, word: re.Pattern[str]) -> bool:
    """Whether a word or a number ("1,", "2.") runs into `passage[at]` from before it."""
    return at > 0 and (
        bool(word.match(passage, at - 1)) or (at > 1 and bool(_DIGIT_THEN_SEPARATOR_RE.fullmatch(passage, at - 2, at)))
    )


def _joined_after(passage: str, at: int, word: re.Pattern[str]) -> bool:
    """Whether a word or a number (",5", ".5") goes on at `passage[at]`."""
    return bool(word.match(passage, at) or _SEPARATOR_THEN_DIGIT_RE.match(passage, at))


@functools.cache
def _word_character() -> re.Pattern[str]:
    """A word character that joins its neighbours into one word (CJK characters are words of their own)."""
    from ragcli.analysis import CJK_CHARS

    return re.compile(rf"[^\W{CJK_CHARS}]")


def _marker_numbers(marker: str, count: int) -> Iterator[int]:
    """The source numbers one marker names, 1 to `count` only: "[2, 9]" → 2 (of 3 sources); a range is
    read only as far as the sources go, so "[1-999999999]" costs what "[1-3]" does."""
    for first, last in _CITED_RE.findall(marker):
        yield from range(max(int(first), 1), min(int(last or first), count) + 1)


def content_words(text: str) -> set[str]:
    """The words of an answer that say something: English stopwords left out (the passages' words are
    matched against these, so "the" or "of" never make a passage the cited one)."""
    from ragcli.analysis import stopword_set

    return words_of(text) - stopword_set("en")


def words_of(text: str) -> set[str]:
    """The words and numbers of a text, lower-cased ("2,000" one number, never a 2 and a 000)."""
    return set(_NUMBER_OR_WORD_RE.findall(text.lower()))


def no_answer(text: str) -> bool:
    """True for an empty answer, one made only of citation markers or a pointer at passages ("[1] and
    [2]", "See passage 2"), or a "don't know" ("The passages do not contain the answer."): none answers."""
    return not text.strip() or bool(_MARKERS_ONLY_RE.match(text.strip())) or bool(_NO_ANSWER_RE.match(text.strip()))


def strip_reasoning(text: str) -> str:
    """A reply without the model's reasoning: `<think>…</think>` blocks go, and so does everything up to
    a closing tag whose opening one the chat template wrote; reasoning never closed (the token budget
    ran out while the model thought) leaves nothing after its opening tag."""
    text = _REASONING_RE.sub("", text)
    closes = list(_REASONING_CLOSE_RE.finditer(text))
    if closes:
        text = text[closes[-1].end() :]
    opened = _REASONING_OPEN_RE.search(text)
    return text[: opened.start()] if opened else text


def answer_text(text: str) -> str:
    """A reply as the answer it gives: the model's reasoning (`strip_reasoning`), a leading "Answer:"
    label and a lead-in ("The answer is", "According to the passages,") left out, and quotation marks
    around the whole answer."""
    text = _ANSWER_LABEL_RE.sub("", strip_reasoning(text), count=1)
    led = _LEAD_IN_RE.match(text)
    if led:
        text = text[led.end() :]
        first = text.split(maxsplit=1)[0] if text.strip() else ""
        if led.group("sentence") and first.isalpha() and first.islower():  # "…, the queen …" → "The queen …"
            text = text[:1].upper() + text[1:]  # never "iPhone" → "IPhone", nor "x = 3" → "X = 3"
    quoted = _QUOTED_RE.match(text.strip())
    return quoted.group("inner").strip() + quoted.group("end") if quoted else text


def echoes(answer: str, question: str) -> bool:
    """True when an answer only asks the question back: a question made of the question's own words
    (a small model may copy the question instead of answering it)."""
    answer = answer.strip()
    if not answer.endswith(("?", "？")):
        return False
    return words_of(answer) <= words_of(question)


def visible_text(text: str) -> str:
    """What of a reply still being written can be shown: `answer_text`, less a tag being written
    ("<thi" may open reasoning)."""
    shown = answer_text(text)
    partial = _PARTIAL_TAG_RE.search(shown)
    if partial and any(tag.startswith(partial.group(1).lower()) for tag in _REASONING_TAGS):
        shown = shown[: partial.start()]
    return shown


def names_a_passage(answer: str, sources: Sequence[Hit]) -> bool:
    """True when an answer is only a passage's number without its brackets ("2" for "[2]"), markers aside
    ("1. [2]": a list's number, then the marker): a bare number no larger than the passages shown that
    none of them holds, as digits or as an English word ("2 [1]" answers when a passage holds a 2)."""
    bare = _BARE_NUMBER_RE.match(strip_citations(answer))
    if not bare or not 1 <= int(bare.group(1)) <= len(sources):
        return False
    forms = {bare.group(1), *NUMBER_WORDS[int(bare.group(1)) : int(bare.group(1)) + 1]}
    return not any(forms & words_of(source.text) for source in sources)


def settle(text: str, question: str, sources: Sequence[Hit], sources_in_prompt: int) -> Generation:
    """A model's raw text as a Generation: its reasoning, an "Answer:" label and a lead-in left out (see
    `answer_text`); no answer (empty text, no citations) when it says nothing, only asks the question
    back, points at a passage ("Passage 2", "1. [2]") or says the passages do not hold the answer; else
    the text as written, citing the markers it wrote or the passages holding it (`cited_sources`)."""
    text = answer_text(text).strip()
    shown = list(sources)[:sources_in_prompt]
    if no_answer(text) or echoes(strip_citations(text), question) or names_a_passage(text, shown):
        return Generation("", [], sources_in_prompt)
    return Generation(text, cited_sources(text, shown, question), sources_in_prompt)


def strip_citations(text: str) -> str:
    """The answer without its citation markers ([1], [1, 2], [1-3], [^1]: for exact-match and F1 scoring)."""
    return " ".join(CITATION_RE.sub(" ", text).split())


def check_answer_style(style: str) -> str:
    """`style` if --answer-style accepts it (checked before any work starts: `GenerationOptions` asks)."""
    if not isinstance(style, str):
        raise InvalidOptionError(
            f"the answer style must be text ({', '.join(ANSWER_STYLES)}), not {type(style).__name__}"
        )
    if style not in ANSWER_STYLES:
        raise unknown_choice("answer style", style, ANSWER_STYLES)
    return style


def configured_base_url(options: GenerationOptions | None = None) -> str | None:
    """The server `auto` asks first: --base-url, else $RAGCLI_BASE_URL ($OPENAI_BASE_URL alone does not
    make `auto` pick a server: many people set it for other tools)."""
    return (options.base_url if options else None) or os.environ.get("RAGCLI_BASE_URL") or None


def requested_model(model: str | None) -> tuple[str, bool]:
    """(model to use, whether the user named it): --model, else $RAGCLI_MODEL, else the default."""
    if model:
        return model, True
    env = os.environ.get("RAGCLI_MODEL")
    if env:
        return env, True
    return DEFAULT_MODEL, False


@dataclass
class GeneratorChoice:
    """The generator `make_generator` settled on, and why it fell back if it did."""

    generator: Generator
    notice: str | None = None  # one line for stderr when auto fell back to the extractive generator
    load_seconds: float = 0.0  # the time choosing and loading took (the model load; the probe when none)
    notice_key: str | None = None  # what the notice is about: the CLI shows each key at most once a day


class GeneratorFactory(Protocol):
    """A registered generator backend: builds its generator for a query or an evaluation run."""

    name: str

    def create(self, model: str | None, options: GenerationOptions, index: Index | None) -> Generator:
        """The generator; `model` is what the user named (None: the backend's default). Raise
        ModelUnavailableError or MissingExtraError when it cannot be had."""
        ...


def _checked_generation(result: object, shown: int) -> object:
    """A Generation a plugin generator returned for `shown` sources (or, from `generate_each`, the error
    of one request): its citations must be 1-based positions in them, which `--json` hands on as such."""
    if isinstance(result, RagcliError):
        return result
    if not isinstance(result, Generation):
        raise PluginFault(f"returned {type(result).__name__}, not a Generation")
    if not isinstance(result.text, str):
        raise PluginFault(f"returned a Generation whose text is {type(result.text).__name__}, not text")
    wrong = [c for c in result.citations if type(c) is not int or not 1 <= c <= shown]
    if wrong:
        raise PluginFault(f"cited {wrong[0]!r}, not a source's number (1 to {shown})")
    return result


def _checked_piece(piece: object) -> str:
    """One piece of a streamed answer: text, which the answer so far is joined from."""
    if not isinstance(piece, str):
        raise PluginFault(f"streamed {type(piece).__name__}, not text")
    return piece


def _checked_stream(part: Guarded, result: object, shown: int) -> tuple[Iterator[str], Callable[[], object]]:
    """`stream`'s pieces, each text, and its `finish`, guarded, whose Generation is checked as `generate`'s
    is: a terminal shows the streamed answer, and its citations, as `--json` hands on the generated one."""
    if not (isinstance(result, tuple) and len(result) == 2 and callable(result[1])):
        raise PluginFault(f"stream returned {type(result).__name__}, not (pieces, finish)")
    pieces, finish = result
    return part.items(pieces, _checked_piece), lambda: part.call(_checked_generation, part.call(finish), shown)


def _checked_generator(part: Guarded, method: str, result: Any, args: tuple[Any, ...]) -> Any:
    """The Generator protocol's results: a Generation for `generate` and `stream`'s `finish`, one a
    request for the batches."""
    if method == "generate":
        return _checked_generation(result, len(args[1]))
    if method == "stream":
        return _checked_stream(part, result, len(args[1]))
    if method in ("generate_many", "generate_each"):
        shown = iter([len(sources) for _, sources in args[0]])
        checked = part.items(result, lambda generation: _checked_generation(generation, next(shown, 0)))
        if method == "generate_each":
            return checked
        results = list(checked)
        if len(results) != len(args[0]):  # the answers could not be matched to the questions
            raise PluginFault(f"returned {len(results)} generations for {len(args[0])} requests")
        return results
    return result


def _checked_factory(part: Guarded, method: str, result: Any, args: tuple[Any, ...]) -> Any:
    """`create` makes a Generator, itself guarded in the plugin's name."""
    if method != "create":
        return result
    if not isinstance(result, Generator):
        raise PluginFault(f"create returned {type(result).__name__}, not a generator (name, model, generate…)")
    return part.wrap(result, _checked_generator)


GENERATORS: Registry[GeneratorFactory] = Registry(
    "generator", "ragcli.generators", order=("transformers", "extractive", "openai"), check=_checked_factory
)


def generator_names() -> list[str]:
    """What --generator accepts: auto and every registered backend."""
    return [AUTO, *GENERATORS.names()]


def check_generator(kind: str) -> str:
    """`kind` if --generator accepts it (checked before any work starts)."""
    if kind != AUTO and kind not in GENERATORS:  # a built-in name is known without reading every plugin
        raise unknown_choice("generator", kind, generator_names())
    return kind


def check_model_kind(kind: str, model: str | None, options: GenerationOptions | None = None) -> None:
    """Before any work: the model that `kind` would load with transformers (-g transformers, or auto
    without a server), where its config is on disk, must generate text (exit 9) and have room for a
    prompt beside --max-new-tokens (exit 2, `models.check_generator_model`); a server's or a plugin's
    model is theirs to judge."""
    if kind == "transformers" or (kind == AUTO and not configured_base_url(options)):
        from ragcli.models import check_generator_model

        check_generator_model(requested_model(model)[0], (options or GenerationOptions()).max_new_tokens)


def make_generator(
    kind: str = AUTO,
    model: str | None = None,
    options: GenerationOptions | None = None,
    *,
    index: Index | None = None,
) -> GeneratorChoice:
    """Build the generator a query asked for.

    auto: a configured server (--base-url / $RAGCLI_BASE_URL) with the `openai` backend; else the named
    model (--model / $RAGCLI_MODEL) or the default, with transformers. Whether the default model can be
    had is decided first, in milliseconds when possible (`ragcli.models.probe_model`: installed
    libraries, the Hugging Face cache, HF_HUB_OFFLINE, a remembered failed Hub check), so that offline
    the extractive generator answers at once, with a notice saying why and how to get the model. A model
    the user named explicitly that cannot be loaded is an error (ModelUnavailableError), never a silent
    substitution.
    """
    import time

    options = options or GenerationOptions()
    started = time.perf_counter()
    if check_generator(kind) != AUTO:
        generator = GENERATORS.get(kind).create(model, options, index)
        return GeneratorChoice(generator, load_seconds=time.perf_counter() - started)
    if configured_base_url(options):  # the user pointed ragcli at a server: its errors are theirs to see
        return GeneratorChoice(GENERATORS.get("openai").create(model, options, index))
    name, explicit = requested_model(model)
    if explicit:
        generator = GENERATORS.get("transformers").create(name, options, index)
        return GeneratorChoice(generator, load_seconds=time.perf_counter() - started)
    from ragcli.models import probe_model

    found = probe_model(name)
    if found.available:
        try:
            generator = GENERATORS.get("transformers").create(name, options, index)
            return GeneratorChoice(generator, load_seconds=time.perf_counter() - started)
        except (ModelUnavailableError, MissingExtraError) as exc:
            reason, missing_extra = exc.message, None
    else:
        reason, missing_extra = found.reason, found.missing_extra
    if missing_extra:
        notice = (
            f"the default generator needs the {missing_extra!r} extra ({reason}); answering with the extractive "
            f"generator instead. Install it with: pip install 'ragcli[{missing_extra}]' (or pass -g extractive)."
        )
    else:
        notice = (
            f"{reason}; answering with the extractive generator instead. To use {name}, download it once with "
            f"network access (hf download {name}), or pass --model with a local model folder "
            "(-g extractive skips this check)."
        )
    extractive = GENERATORS.get("extractive").create(None, options, index)
    key = f"fallback:{name}:{'extra' if missing_extra else 'model'}"
    return GeneratorChoice(extractive, notice=notice, load_seconds=time.perf_counter() - started, notice_key=key)
