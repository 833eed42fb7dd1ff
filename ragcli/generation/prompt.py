"""Prompts: numbered passages and the question, fitted to the model's input length.

The budget is counted with the model's own tokenizer. Instructions and the question always go in
whole; passages follow in rank order while they fit, and the first one that does not fit is trimmed
to the tokens left, so the tokenizer never cuts off the question.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ragcli.errors import InvalidOptionError
from ragcli.records import Hit

DEFAULT_TEMPLATE = """Answer the question using only the numbered passages below. Cite the passages you use, like [1]. \
If the passages do not contain the answer, say that you do not know.

{passages}

Question: {question}
Answer:"""

CLOSED_BOOK_TEMPLATE = """Answer the question.

Question: {question}
Answer:"""

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
    """Fill a template (plain replacement: braces elsewhere in the template are left alone)."""
    return template.replace("{passages}", "\n\n".join(blocks)).replace("{question}", question)


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
