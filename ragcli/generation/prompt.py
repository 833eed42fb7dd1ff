"""Prompts: numbered passages and the question, fitted to the model's input length.

The budget is counted with the model's own tokenizer. Instructions and the question always go in
whole; passages follow in rank order while they fit, and the first one that does not fit is trimmed
to the tokens left, so the tokenizer never cuts off the question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ragcli.errors import InvalidOptionError
from ragcli.records import Hit

# The instruction per answer style. None asks the model to cite: ragcli attributes citations itself
# (generation.base.cited_sources), and a small model asked to "cite like [1]" answers with the marker
# alone (measured: 40 of 80 xquad-a answers of a 0.5B instruction model). "short" asks for a phrase
# copied from the passages, what QA-style questions want and what EM/F1 reward (EM 0.10 → 0.43 on the
# same questions); "sentence" and "long" are for people who want the answer in context.
STYLE_INSTRUCTIONS = {
    "short": "Answer with the shortest phrase that answers the question, copied word for word from the passages "
    "(a name, a number, a date or a few words), not a sentence.",
    "sentence": "Answer in one sentence, in the passages' own words.",
    "long": "Answer in a short paragraph, using only what the passages say.",
}
UNKNOWN = "If the passages do not contain the answer, reply: I don't know."

# One template per kind of model: a seq2seq model (T5, BART) reads the instruction first and ends on
# "Answer:"; a chat model (a causal model's chat template, an OpenAI-compatible server) gets one user
# message with the passages first and the instruction next to the question, where a small model
# heeds it. One user message, no system message: some chat templates (Gemma's) refuse a system role.
SEQ2SEQ = "seq2seq"
CHAT = "chat"


# A seq2seq model's input is short (flan-t5: 512 tokens) and such models answer tersely anyway: a
# few words of instruction leave the room to the passages.
SEQ2SEQ_STYLES = {
    "short": "with a short phrase copied from them",
    "sentence": "in one sentence",
    "long": "in a short paragraph",
}


def template_for(kind: str = SEQ2SEQ, style: str = "short") -> str:
    """The built-in prompt for a kind of model (`seq2seq` or `chat`) and an answer style."""
    if kind == CHAT:
        instruction = f"{STYLE_INSTRUCTIONS[style]} {UNKNOWN}"
        return f"Passages:\n\n{{passages}}\n\n{instruction}\n\nQuestion: {{question}}"
    return f"Answer the question from the passages {SEQ2SEQ_STYLES[style]}.\n\n{{passages}}\n\nQuestion: {{question}}\nAnswer:"


DEFAULT_TEMPLATE = template_for(SEQ2SEQ, "short")

CLOSED_BOOK_TEMPLATE = """Answer the question with the shortest phrase that answers it.

Question: {question}
Answer:"""

_PLACEHOLDER_RE = re.compile(r"\{passages\}|\{question\}")
MIN_TRIMMED_TOKENS = 16  # a trimmed passage shorter than this carries too little to be worth its number


def load_template(path: str | Path) -> str:
    """A user's template file; it must contain {passages} and {question}."""
    if Path(path).exists() and not Path(path).is_file():  # a folder, a FIFO (would block), a device
        raise InvalidOptionError(f"{path}: the prompt template must be a regular file")
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise InvalidOptionError(f"{path}: cannot read the prompt template ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise InvalidOptionError(
            f"{path}: the prompt template is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})",
            hint="save it as UTF-8",
        ) from None
    missing = [p for p in ("{passages}", "{question}") if p not in text]
    if missing:
        raise InvalidOptionError(f"{path}: the prompt template lacks {' and '.join(missing)}")
    return text


def render(template: str, question: str, blocks: Sequence[str]) -> str:
    """Fill a template's `{passages}` and `{question}` in one pass: braces elsewhere in the template are
    left alone, and a passage or question that holds a placeholder's text (code that builds a prompt)
    goes in verbatim, never filled in turn."""
    values = {"{passages}": "\n\n".join(blocks), "{question}": question}
    return _PLACEHOLDER_RE.sub(lambda match: values[match.group()], template)


def source_block(number: int, hit: Hit, text: str | None = None) -> str:
    title = f"{hit.title}: " if hit.title else ""
    return f"[{number}] {title}{hit.text if text is None else text}"


@dataclass
class FittedPrompt:
    text: str
    sources_used: int  # passages [1..n] in the prompt
    trimmed: bool  # the last of them was cut short


def fit_prompt(
    template: str,
    question: str,
    sources: Sequence[Hit],
    *,
    max_tokens: int,
    count_tokens: Callable[[str], int],
    truncate: Callable[[str, int], str],
    wrap: Callable[[str], str] = lambda prompt: prompt,
) -> FittedPrompt:
    """The fullest prompt within `max_tokens`: whole passages in rank order, then one trimmed passage.

    `wrap` applies a chat template; the count includes it. `truncate(text, n)` keeps the first n tokens.
    """
    if not sources:
        template = CLOSED_BOOK_TEMPLATE

    def size(blocks: Sequence[str], q: str = question) -> int:
        return count_tokens(wrap(render(template, q, blocks)))

    base = size([])
    if base > max_tokens:  # the question alone is too long: keep its beginning, no passages fit
        budget = max(max_tokens - (base - count_tokens(question)), 1)
        short_question = truncate(question, budget)
        return FittedPrompt(wrap(render(template, short_question, [])), 0, False)
    blocks: list[str] = []
    trimmed = False
    for number, hit in enumerate(sources, start=1):
        block = source_block(number, hit)
        if size([*blocks, block]) <= max_tokens:
            blocks.append(block)
            continue
        left = max_tokens - size([*blocks, source_block(number, hit, "")])
        while left >= MIN_TRIMMED_TOKENS:
            candidate = source_block(number, hit, truncate(hit.text, left))
            if size([*blocks, candidate]) <= max_tokens:
                blocks.append(candidate)
                trimmed = True
                break
            left -= max(1, left // 10)
        break
    return FittedPrompt(wrap(render(template, question, blocks)), len(blocks), trimmed)
