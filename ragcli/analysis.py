"""Text → index terms: one analyzer for the corpus and for queries.

The settings travel in the index manifest, so a query is always analysed exactly as the corpus was.
The chain follows Lucene's language analyzers (which set the bar on the BEIR/TREC test collections):
Unicode NFKC normalisation and case folding, a word tokenizer that splits on hyphens and punctuation,
English possessive / Romance elision removal, a stopword list, and a Snowball stemmer (PyStemmer, a C
implementation: stemming is the hot loop of indexing). Scripts written without spaces (Chinese,
Japanese, Korean) are cut into overlapping character bigrams, as Lucene's CJKAnalyzer does, so their
text never vanishes.

Indexing analyses in two steps for speed: `surface_tokens` per document (regex work), then `term_of`
once per distinct surface form (stopwords and stemming). `analyze` composes the same two steps for a
single text, so both paths give the same terms by construction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

from ragcli.errors import InvalidOptionError

# language code → PyStemmer algorithm. English uses the original Porter algorithm, as Lucene's
# EnglishAnalyzer (and so Anserini's published BEIR figures) does.
STEMMERS: dict[str, str] = {
    "en": "porter",
    "es": "spanish",
    "fr": "french",
    "de": "german",
    "pt": "portuguese",
    "it": "italian",
    "nl": "dutch",
    "da": "danish",
    "no": "norwegian",
    "sv": "swedish",
    "ru": "russian",
    "tr": "turkish",
}
LANGUAGE_NAMES: dict[str, str] = {
    "english": "en",
    "spanish": "es",
    "french": "fr",
    "german": "de",
    "portuguese": "pt",
    "italian": "it",
    "dutch": "nl",
    "danish": "da",
    "norwegian": "no",
    "swedish": "sv",
    "russian": "ru",
    "turkish": "tr",
}
# Leading elided articles/pronouns in French and Italian ("l'homme", "dell'arte"), as Lucene's
# ElisionFilter removes them.
_ELISIONS = frozenset(
    [
        "l",
        "d",
        "j",
        "m",
        "n",
        "s",
        "t",
        "c",
        "qu",
        "jusqu",
        "quoiqu",
        "lorsqu",
        "puisqu",
        "dell",
        "all",
        "dall",
        "nell",
        "sull",
        "coll",
        "pell",
        "un",
        "gl",
    ]
)
CJK_CHARS = (  # the ranges of Chinese, Japanese and Korean characters (a regex class's inside)
    "\u2e80-\u2fff\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
)
# A word: letters/digits (not CJK), possibly joined by an apostrophe or a dot ("don't", "u.s", "3.14");
# or a run of CJK characters, bigrammed below.
_TOKEN_RE = re.compile(rf"[{CJK_CHARS}]+|[^\W{CJK_CHARS}]+(?:['’.][^\W{CJK_CHARS}]+)*")
# the same words in text without CJK characters (most text): a plain \w class matches a fifth faster
_PLAIN_TOKEN_RE = re.compile(r"\w+(?:['’.]\w+)*")
_CJK_START_RE = re.compile(rf"[{CJK_CHARS}]")
# a name written whole through its class or module ("response.raise_for_status", "os.path.join"): two or
# more parts joined by dots, each of two characters or more and not opening with a digit ("u.s", "e.g",
# "ph.d" and "1.2.3" are not names)
_DOTTED_NAME_RE = re.compile(r"(?:[^\W\d]\w+\.)+[^\W\d]\w+")
# Invisible characters inside a word, which Unicode's word rules (UAX #29, rule WB4) skip: the format
# characters (category Cf: a soft hyphen, the word joiner, a byte-order mark, ZWNJ and ZWJ, bidirectional
# controls, tags), less the zero width space (a word break: Thai and Khmer mark word ends with it) and the
# prepended concatenation marks (visible signs, Arabic's number sign). Removed before words are split: a
# soft hyphen (HTML's &shy;, PDFs, German text) cut "Zahlungs\u00adbedingungen" in two.
_IN_WORD_FORMAT_RE = re.compile(
    "[\u00ad\u061c\u180e\u200c-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
MAX_TOKEN_CHARS = 64  # longer "words" are base64 blobs, hashes or URLs run together: not terms
MAX_REMEMBERED = 100_000  # distinct tokens whose term an Analyzer remembers (then it starts afresh)


def normalize_language(language: str) -> str:
    """Accept an ISO 639-1 code or an English language name; return the code."""
    code = language.strip().lower()
    code = LANGUAGE_NAMES.get(code, code)
    if code not in STEMMERS:
        choices = ", ".join(sorted(STEMMERS))
        raise InvalidOptionError(f"unsupported language {language!r}", hint=f"choose one of {choices}")
    return code


@dataclass(frozen=True)
class AnalyzerSettings:
    """Everything that decides how text becomes terms; stored in the index manifest."""

    language: str = "en"
    stopwords: bool = True
    stem: bool = True
    # invisible format characters inside a word dropped before words are split (`_IN_WORD_FORMAT_RE`); an
    # index built before this was recorded split words at them, so its queries must be split there too
    drop_format_characters: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "language", normalize_language(self.language))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalyzerSettings:
        """The settings a manifest recorded; one it lacks is what the build that wrote it did."""
        return cls(
            language=str(data.get("language", "en")),
            stopwords=bool(data.get("stopwords", True)),
            stem=bool(data.get("stem", True)),
            drop_format_characters=bool(data.get("drop_format_characters", False)),
        )


@cache
def stopword_set(language: str) -> frozenset[str]:
    """The stopword list shipped in ragcli/stopwords/<code>.txt (source named in its first line)."""
    text = resources.files("ragcli.stopwords").joinpath(f"{language}.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def surface_tokens(text: str, drop_format_characters: bool = True) -> list[str]:
    """Normalise and split text into surface tokens (CJK runs become character bigrams); invisible format
    characters inside words are dropped first (`_IN_WORD_FORMAT_RE`) unless the index predates that."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if drop_format_characters and not text.isascii():  # they are none of them ASCII: a query skips the scan
        text = _IN_WORD_FORMAT_RE.sub("", text)
    if _CJK_START_RE.search(text) is None:
        return _PLAIN_TOKEN_RE.findall(text)
    tokens = _TOKEN_RE.findall(text)
    out: list[str] = []
    for token in tokens:
        if _CJK_START_RE.match(token):
            if len(token) == 1:
                out.append(token)
            else:
                out.extend(token[i : i + 2] for i in range(len(token) - 1))
        else:
            out.append(token)
    return out


class Analyzer:
    """Callable text → terms, built from `AnalyzerSettings`."""

    def __init__(self, settings: AnalyzerSettings | None = None) -> None:
        self.settings = settings or AnalyzerSettings()
        self._stopwords = stopword_set(self.settings.language) if self.settings.stopwords else frozenset()
        self._stemmer = None
        if self.settings.stem:
            import Stemmer  # PyStemmer

            self._stemmer = Stemmer.Stemmer(STEMMERS[self.settings.language])
        self._english = self.settings.language == "en"
        self._remembered: dict[str, str | None] = {}  # token → term_of(token), for __call__

    def term_of(self, token: str) -> str | None:
        """The index term for one surface token, or None when it is dropped (stopword, too long)."""
        if len(token) > MAX_TOKEN_CHARS:
            return None
        if "'" in token or "’" in token:
            token = token.replace("’", "'")
            if self._english:
                if token.endswith("'s"):
                    token = token[:-2]
            else:
                head, _, tail = token.partition("'")
                if head in _ELISIONS and tail:
                    token = tail
        if not token or token in self._stopwords:
            return None
        if self._stemmer is not None:
            token = self._stemmer.stemWord(token)
        return token

    def matching_spans(self, text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
        """Character spans of `text` whose words analyse to one of `terms` (to highlight a snippet): found
        in the text without its invisible format characters (as `surface_tokens` splits it, where the
        settings drop them), each span mapped back to where its first and last characters are in `text`."""
        visible = (
            _IN_WORD_FORMAT_RE.sub("", text) if self.settings.drop_format_characters and not text.isascii() else text
        )
        where: Sequence[int] = range(len(text))
        if len(visible) < len(text):
            where = [i for i, character in enumerate(text) if not _IN_WORD_FORMAT_RE.match(character)]
        spans = []
        for match in _TOKEN_RE.finditer(visible):
            token = unicodedata.normalize("NFKC", match.group()).casefold()
            if self.term_of(token) in terms:
                spans.append((where[match.start()], where[match.end() - 1] + 1))
        return spans

    def query_terms(self, query: str) -> list[str]:
        """A query's terms (`__call__`), then those of the parts of each dotted name it writes whole that
        it lacks: "What does Response.raise_for_status do?" asks for `raise_for_status` too, which is how
        code defines it. Documents keep a dotted name one term (a call site is not the definition)."""
        tokens = surface_tokens(query, self.settings.drop_format_characters)
        terms = self._terms_of(tokens)
        for token in tokens:
            if "." in token and _DOTTED_NAME_RE.fullmatch(token):
                terms.extend(term for term in self(token.replace(".", " ")) if term not in terms)
        return terms

    def highlighter(self, question: str) -> Callable[[str], list[tuple[int, int]]]:
        """text → the spans of it that match `question`'s terms (for the snippets of its hits)."""
        terms = frozenset(self.query_terms(question))
        return lambda text: self.matching_spans(text, terms)

    def __call__(self, text: str) -> list[str]:
        """Analyse one text (a query, or a document in tests): the terms in order. Each token's term is
        remembered: stemming was a third of a short query's time on SciFact, and queries repeat words."""
        return self._terms_of(surface_tokens(text, self.settings.drop_format_characters))

    def _terms_of(self, tokens: list[str]) -> list[str]:
        terms = []
        remembered = self._remembered
        for token in tokens:
            if token in remembered:
                term = remembered[token]
            else:
                if len(remembered) >= MAX_REMEMBERED:
                    remembered.clear()
                term = remembered[token] = self.term_of(token)
            if term is not None:
                terms.append(term)
        return terms
