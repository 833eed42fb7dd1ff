"""Answer metrics. Exact match and token F1 are the SQuAD evaluation script's (lower case, no
punctuation, no articles, single spaces; each the best over the gold answers) with normalisation
steps added, so that equal answers written differently score as equal:

- Unicode's NFKC first: a composed and a decomposed "é", full-width "１８５２" and "1852" are alike;
- every dash (hyphen variants, en and em dash, minus sign, …) becomes an ASCII hyphen, which SQuAD's
  punctuation step then removes: "20–18" and "20-18" both normalise to "2018", as "20-18" always did;
- English number words become digits: "two" → "2", "twenty-one" → "21", "two thousand" → "2000",
  "one hundred and five" → "105" (SQuAD already turns "2,000" into "2000"), and digits followed by
  "hundred" or "thousand" are read alike ("2 thousand" → "2000"); "million" and "billion" stay words,
  as such numbers are written: "two million" → "2 million", which SQuAD leaves as it is;
- every Unicode punctuation mark goes, and each Chinese, Japanese or Korean character is a token of its
  own (MLQA's evaluation), whatever else the text holds.

On ASCII text without number words the result is SQuAD's, byte for byte.

Beyond EM/F1, deterministic and without a model (defined precisely in README, "Answer metrics"):
`match` (a normalised gold answer appears in the normalised answer, whole tokens, as BERGEN reports),
`citation_precision` / `citation_recall` (cited sources that support the answer / supporting sources
that are cited) and `groundedness` (share of the answer's content terms found in the cited sources).
BLEU comes from sacrebleu and ROUGE-L from rouge-score (the standard implementations; ROUGE-L on the
tokens F1 counts)."""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ragcli.analysis import LANGUAGE_NAMES
from ragcli.generation.base import NUMBER_WORDS
from ragcli.records import Hit, composed

# Each language's articles, removed after punctuation as MLQA's evaluation (mlqa_evaluation_v1.py) removes
# them: English's is SQuAD's; Spanish, German, Vietnamese and Arabic are MLQA's lists (Arabic's removes every
# "ال", the article written joined to its word, wherever it is, as MLQA's does); French, Italian and
# Portuguese, which MLQA does not evaluate, their definite and indefinite articles. A language without an
# entry (Hindi and Chinese in MLQA, Russian) removes none.
_ARTICLES_RE: dict[str, re.Pattern[str]] = {
    language: re.compile(pattern)
    for language, pattern in {
        "en": r"\b(a|an|the)\b",
        "es": r"\b(un|una|unos|unas|el|la|los|las)\b",
        "de": r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b",
        "vi": r"\b(của|là|cái|chiếc|những)\b",
        "ar": "\\sال^|ال",
        "fr": r"\b(le|la|les|un|une|des)\b",
        "it": r"\b(il|lo|la|i|gli|le|un|uno|una)\b",
        "pt": r"\b(o|a|os|as|um|uma|uns|umas)\b",
    }.items()
}
# French and Italian elide an article before a vowel ("l'océan", "un'isola"): removed before punctuation,
# which would otherwise join it to its word ("locéan")
_ELIDED_ARTICLES_RE: dict[str, re.Pattern[str]] = {
    "fr": re.compile(r"\bl['’](?=\w)"),
    "it": re.compile(r"\b(?:l|un)['’](?=\w)"),
}
# CJK ideographs (and their extensions and compatibility forms), kana and Hangul syllables
_CJK_CHAR_RE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_PUNCTUATION = set(string.punctuation)
# hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, minus, small and full-width forms
_DASHES_RE = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d]")
_UNITS = {w: i for i, w in enumerate(NUMBER_WORDS)}
_TENS = {
    w: 10 * i
    for i, w in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], start=2)
}
# The scale words a number is written in digits with: "two thousand" → "2000", as "2,000" is written.
# "million" and "billion" stay words, as such numbers are written ("2 million", "1.5 billion"): "two
# million" → "2 million", the digit form's own, and that form is SQuAD's own normalisation.
_SCALES = {"thousand": 1_000}
_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TENS, "hundred", *_SCALES], key=len, reverse=True))
# digits ("2", "1.5") count as a number word where "hundred" or a scale word follows: "2 thousand" is
# one number as "two thousand" is (not after a letter, a point or a comma: "v1.5 thousand" is none);
# at most 15 and 6 digits, so that every product stays exact within Decimal's 28 digits
_SCALED_DIGITS = rf"(?<![\w.,])\d[\d,]{{0,18}}(?:\.\d{{1,6}})?(?=\s+(?:hundred|{'|'.join(_SCALES)})\b)"
_NUMBER_TOKEN = rf"(?:{_SCALED_DIGITS}|\b(?:{_NUMBER_WORD})\b)"
_NUMBER_RUN_RE = re.compile(rf"{_NUMBER_TOKEN}(?:(?:\s+|-|\s+and\s+){_NUMBER_TOKEN})*")
# what may follow each kind of number word inside one number ("and" only after hundred or a scale)
_FOLLOWS = {
    "start": {"unit", "ten", "digits"},
    "unit": {"hundred", "scale"},
    "ten": {"unit", "hundred", "scale"},
    "digits": {"hundred", "scale"},
    "hundred": {"unit", "ten", "scale", "and"},
    "scale": {"unit", "ten", "digits", "and"},
    "and": {"unit", "ten", "digits"},
}


def _kind(word: str) -> str:
    if word in _UNITS:
        return "unit"
    if word in _TENS:
        return "ten"
    if word[:1].isdigit():
        return "digits"
    return word if word in ("hundred", "and") else "scale"


def _digits(number: Decimal) -> str:
    """A number as SQuAD's normalisation would leave its digits: no separators, no ".0"."""
    return str(int(number)) if number == number.to_integral_value() else str(number.normalize())


class _Number:
    """One number being read from its words: `total` from the scale words so far (each smaller than the
    last, `scale`), `group` below them, `tail` the units and tens since the group's hundred."""

    def __init__(self) -> None:
        self.total = self.group = self.tail = Decimal(0)
        self.scale = math.inf
        self.hundred = False

    def value(self) -> str:
        return _digits(self.total + self.group)

    def add(self, kind: str, word: str) -> str | None:
        """Add a word; the digits of the number it ends, when it cannot be part of this one ("one
        thousand one thousand": a scale word no smaller than the last; "one hundred two hundred")."""
        ended = None
        if kind in ("unit", "ten", "digits"):
            step = Decimal(_UNITS.get(word, _TENS.get(word, 0))) if kind != "digits" else Decimal(word.replace(",", ""))
            self.group += step
            self.tail += step
        elif kind == "hundred":
            if self.hundred:  # the hundreds are taken: the tail starts the next number
                ended = _digits(self.total + self.group - self.tail)
                self.total, self.scale = Decimal(0), math.inf
            self.group, self.hundred, self.tail = self.tail * 100, True, Decimal(0)
        elif kind == "scale":
            if _SCALES[word] >= self.scale:  # the group starts the next number
                ended = _digits(self.total)
                self.total = Decimal(0)
            self.total += self.group * _SCALES[word]
            self.group = self.tail = Decimal(0)
            self.scale, self.hundred = _SCALES[word], False
        return ended


def _numbers_of(words: list[str]) -> list[str]:
    """Number words (one run, lower case) → the digits they spell, a new number wherever a word cannot
    continue the one before ("two three" → 2 3, "twenty one" → 21, "one hundred and five" → 105)."""
    out: list[str] = []
    number = _Number()
    previous = "start"
    for word in [*words, ""]:
        kind = _kind(word) if word else "end"
        if kind in _FOLLOWS[previous]:
            pass
        elif previous != "start":  # the number so far ends here
            out.append(number.value())
            if previous == "and":
                out.append("and")
            number = _Number()
            previous = "start"
            if kind not in _FOLLOWS["start"]:  # a bare "hundred" / "thousand" / "and": kept as a word
                if word:
                    out.append(word)
                continue
        elif word:  # a bare scale word at the start
            out.append(word)
            continue
        if kind != "and":
            ended = number.add(kind, word)
            if ended is not None:
                out.append(ended)
        previous = kind
    return out


def _number_words_to_digits(text: str) -> str:
    return _NUMBER_RUN_RE.sub(lambda m: " ".join(_numbers_of(re.split(r"\s+|-", m.group()))), text)


def answer_language(language: str) -> str:
    """The code whose articles `normalize_answer` removes: a locale is its language ("es-MX" is "es"), an
    English name its code ("Spanish" is "es")."""
    name = language.strip().lower()
    return LANGUAGE_NAMES.get(name, re.split("[-_]", name, maxsplit=1)[0])


def normalize_answer(text: str, language: str = "en") -> str:
    """SQuAD's normalisation, after Unicode's NFKC (as the analyzer's), dashes unified and number words
    turned into digits, with MLQA's steps for other languages: `language`'s articles are removed rather
    than English's (`_ARTICLES_RE`; English is SQuAD's, byte for byte), all Unicode punctuation goes ("，",
    "『』", "“”"), and each Chinese, Japanese or Korean character is a token of its own, since these
    languages write no spaces ("6300公里" → "6300 公 里": "6300公里" and "约6300公里" share three tokens,
    where SQuAD's whitespace tokens would share none). Each step but the articles looks at the text's own
    characters, never at what else the text holds, so an answer and its gold written in different
    scripts are normalised alike."""
    language = answer_language(language)
    text = unicodedata.normalize("NFKC", text)  # "１８５２" → "1852", "é" whether composed or not
    text = _number_words_to_digits(_DASHES_RE.sub("-", text.lower()))
    elided = _ELIDED_ARTICLES_RE.get(language)
    if elided is not None:
        text = elided.sub(" ", text)
    text = "".join(ch for ch in text if not _punctuation(ch))
    articles = _ARTICLES_RE.get(language)
    if articles is not None:
        text = articles.sub(" ", text)
    text = _CJK_CHAR_RE.sub(r" \g<0> ", text)
    return " ".join(text.split())


def _punctuation(ch: str) -> bool:
    """SQuAD's ASCII punctuation (symbols such as "$" included, as its script has them) or any Unicode
    punctuation mark: ASCII text keeps normalising exactly as SQuAD's script does."""
    return ch in _PUNCTUATION or unicodedata.category(ch).startswith("P")


def _answer_tokens(text: str, language: str = "en") -> list[str]:
    """The tokens F1 counts and ROUGE-L aligns: the normalised answer's words, each CJK character one."""
    return normalize_answer(text, language).split()


class _AnswerTokenizer:
    """rouge-score's tokenizer interface over `_answer_tokens`: its default keeps only a-z and 0-9, so an
    answer in any other script scored 0 even when it was the gold answer itself."""

    def __init__(self, language: str) -> None:
        self.language = language

    def tokenize(self, text: str) -> list[str]:
        return _answer_tokens(text, self.language)


def exact_match(prediction: str, golds: Sequence[str], language: str = "en") -> float:
    answer = normalize_answer(prediction, language)
    return max((float(answer == normalize_answer(g, language)) for g in golds), default=0.0)


def _f1(prediction: str, gold: str, language: str) -> float:
    pred_tokens = _answer_tokens(prediction, language)
    gold_tokens = _answer_tokens(gold, language)
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, golds: Sequence[str], language: str = "en") -> float:
    return max((_f1(prediction, g, language) for g in golds), default=0.0)


def bleu(prediction: str, golds: Sequence[str], language: str = "en") -> float:
    """Sentence BLEU (sacrebleu, default settings) on the normalised text F1 counts (`normalize_answer`),
    so the same answer written two ways scores the same as on every other metric (on the raw text,
    "Café" composed against decomposed scored 0.5, "paris" against "Paris" 0); best over the gold
    answers each taken alone, as EM, F1 and ROUGE-L are (one multi-reference BLEU pools the golds'
    n-grams and scores above every one of them), on a 0-1 scale: sacrebleu's float arithmetic gives
    100.00000000000004 for identical text."""
    import sacrebleu

    answer = normalize_answer(prediction, language)
    normalized = (normalize_answer(gold, language) for gold in golds)
    best = max((sacrebleu.sentence_bleu(answer, [gold]).score for gold in normalized), default=0.0)
    return min(best / 100.0, 1.0)


@lru_cache(maxsize=8)
def _rouge_scorer(language: str) -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], tokenizer=_AnswerTokenizer(language))


def rouge_l(prediction: str, golds: Sequence[str], language: str = "en") -> float:
    """ROUGE-L F-measure (rouge-score) on the tokens F1 counts, best over the gold answers; a float even
    where rouge-score gives the int 0 (no tokens on a side)."""
    scorer = _rouge_scorer(answer_language(language))
    return max((float(scorer.score(gold, prediction)["rougeL"].fmeasure) for gold in golds), default=0.0)


def match(prediction: str, golds: Sequence[str], language: str = "en") -> float:
    """1.0 when a normalised gold answer appears in the normalised prediction as whole tokens
    ("in 1852 [1]" matches "1852"; "18520" does not), else 0.0. An empty gold answer never matches."""
    answer = f" {normalize_answer(prediction, language)} "
    normalized = (normalize_answer(gold, language) for gold in golds)
    return max((float(f" {g} " in answer) for g in normalized if g), default=0.0)


def answer_metrics(prediction: str, golds: Sequence[str], language: str = "en") -> dict[str, float]:
    """The metrics of an answer's text alone (citation markers removed by the caller), normalised in the
    question's `language` (`normalize_answer`)."""
    return {
        "exact_match": exact_match(prediction, golds, language),
        "f1": token_f1(prediction, golds, language),
        "match": match(prediction, golds, language),
        "bleu": bleu(prediction, golds, language),
        "rouge_l": rouge_l(prediction, golds, language),
    }


def supporting(source: Hit, golds: Sequence[str], relevant: Collection[str], language: str = "en") -> bool:
    """Whether a source supports an answer to the question: its document is judged relevant (qrels
    grade > 0, or listed in `relevant` of qa.jsonl), or its normalised text holds a normalised gold
    answer as whole tokens."""
    return composed(source.doc_id) in relevant or match(source.text, golds, language) == 1.0


def citation_metrics(
    citations: Sequence[int],
    sources: Sequence[Hit],
    golds: Sequence[str],
    relevant: Collection[str],
    language: str = "en",
) -> dict[str, float]:
    """Citation precision: the share of the cited sources that support the answer (0.0 when nothing is
    cited). Citation recall: the share of the supporting sources the generator saw that it cited (0.0
    when none of them supports: there was nothing right to cite). `citations` are 1-based numbers into
    `sources`; unknown or repeated numbers count once or not at all."""
    cited = {n for n in citations if 1 <= n <= len(sources)}
    supports = {n for n, source in enumerate(sources, start=1) if supporting(source, golds, relevant, language)}
    right = len(cited & supports)
    return {
        "citation_precision": right / len(cited) if cited else 0.0,
        "citation_recall": right / len(supports) if supports else 0.0,
    }


def groundedness(
    prediction: str, citations: Sequence[int], sources: Sequence[Hit], analyze: Callable[[str], list[str]]
) -> float:
    """The share of the answer's content terms (`analyze`: the index's analyzer, so stopwords dropped,
    words stemmed, CJK in character bigrams) that occur in the cited sources, counted per occurrence in
    the answer. 0.0 for an answer without content terms or without citations."""
    terms = analyze(prediction)
    cited = {n for n in citations if 1 <= n <= len(sources)}
    if not terms or not cited:
        return 0.0
    found = set().union(*(analyze(sources[n - 1].text) for n in cited))
    return sum(term in found for term in terms) / len(terms)


def grounding_metrics(
    prediction: str,
    citations: Sequence[int],
    sources: Sequence[Hit],
    golds: Sequence[str],
    relevant: Collection[str],
    analyze: Callable[[str], list[str]],
    language: str = "en",
) -> dict[str, float]:
    """Citation precision and recall and groundedness of one answer, from the sources it was given."""
    return {
        **citation_metrics(citations, sources, golds, relevant, language),
        "groundedness": groundedness(prediction, citations, sources, analyze),
    }
