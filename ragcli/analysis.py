"""Text → index terms: one analyzer for the corpus and for queries.

The settings travel in the index manifest, so a query is always analysed exactly as the corpus was.
The chain follows Lucene's language analyzers (which set the bar on the BEIR/TREC test collections):
Unicode NFKC normalisation and case folding, a word tokenizer that splits on hyphens and punctuation and
keeps combining marks inside words (Hindi's vowel signs; Arabic's and Hebrew's optional vowel marks are
dropped, as Lucene's ArabicNormalizationFilter drops harakat; Greek letters lose their accents, as Lucene's
GreekLowerCaseFilter folds them), English possessive / Romance elision removal, a stopword list, and a
Snowball stemmer (PyStemmer, a C implementation: stemming is the hot loop of indexing). Scripts written without spaces (Chinese, Japanese, Korean) are cut into overlapping
character bigrams, as Lucene's CJKAnalyzer does, so their text never vanishes. A document also yields each
CJK character (Lucene's CJKBigramFilter with outputUnigrams), so that a question of one character ("猫",
cat), which no bigram equals, finds it; a query keeps bigrams alone, so a longer question matches the terms
it always did.

Indexing analyses in two steps for speed: `document_tokens` per document (regex work), then `term_of`
once per distinct surface form (stopwords and stemming). `analyze` composes the same two steps for a
single text (with a query's tokens, `surface_tokens`), so both paths give the same terms by construction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

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
_IN_WORD_FORMAT_CHARS = (
    "\u00ad\u061c\u180e\u200c-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_IN_WORD_FORMAT_RE = re.compile(f"[{_IN_WORD_FORMAT_CHARS}]")
# Marks that writing leaves out at will, removed as Lucene's ArabicNormalizationFilter removes them, so that
# "كتب" finds "كَتَبَ": Arabic's tatweel (a stretch, U+0640), harakat (U+064B-U+065F) and superscript alef
# (U+0670); Hebrew's cantillation marks and vowel points (the Mn of U+0591-U+05C7; not the maqaf U+05BE, a
# hyphen). Marks that spell (Devanagari's vowel signs and virama: "दूध" is not "दध") stay in the word.
_OPTIONAL_DIACRITICS = "\u0640\u064b-\u065f\u0670\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
_OPTIONAL_DIACRITICS_RE = re.compile(f"[{_OPTIONAL_DIACRITICS}]")
_FORMAT_AND_DIACRITICS_RE = re.compile(f"[{_IN_WORD_FORMAT_CHARS}{_OPTIONAL_DIACRITICS}]")
# Case folding gives "İ" (U+0130) as "i" + a combining dot above: it folds to a plain "i" (as Java's and
# Lucene's LowerCaseFilter); Turkish lowercases "I" to its dotless "ı" first (Lucene's TurkishLowerCaseFilter)
_DOTTED_CAPITAL_I = "\u0130"
_TURKISH_CAPITAL_I = str.maketrans({"I": "\u0131", "\u0130": "i"})
# Greek text, whose accented letters (the tonos and dialytika of monotonic Greek, U+0386-U+03CE; the
# breathings, accents and iota subscript of polytonic Greek, U+1F00-U+1FFF) lose their marks: Greek capitals
# drop the tonos by rule ("ΟΔΥΣΣΕΑΣ" is "Οδυσσέας") and people type without it, as Lucene's
# GreekLowerCaseFilter folds them (`_greek_bare_letters`); with marks left loose after a Greek letter
_GREEK_TEXT_RE = re.compile("[\u0386-\u03ce\u1f00-\u1fff]|(?<=[\u0370-\u03ff\u1f00-\u1fff])[\u0300-\u0345]")
_GREEK_LOOSE_MARKS_RE = re.compile("(?<=[\u0370-\u03ff\u1f00-\u1fff])[\u0300-\u0345]+")
MAX_TOKEN_CHARS = 64  # longer "words" are base64 blobs, hashes or URLs run together: not terms
MAX_REMEMBERED = 100_000  # distinct tokens whose term an Analyzer remembers (then it starts afresh)


# Norwegian's two written forms (Bokmål, Nynorsk), which Snowball's Norwegian stemmer serves
_LANGUAGE_ALIASES: dict[str, str] = {"nb": "no", "nn": "no"}
# languages written in the scripts `CJK_CHARS` bigrams, whatever the analyzer's language
_CJK_LANGUAGES = frozenset(["zh", "ja", "ko", "chinese", "japanese", "korean"])


def normalize_language(language: str) -> str:
    """Accept an ISO 639-1 code, a locale (`pt-BR`, `de_DE`: its language) or an English language name;
    return the code. An unsupported one is refused with what to do instead: text of any language is
    indexed under the default analyzer, CJK text in bigrams."""
    name = language.strip().lower()
    code = re.split("[-_]", name, maxsplit=1)[0]
    code = LANGUAGE_NAMES.get(name, _LANGUAGE_ALIASES.get(code, code))
    if code in STEMMERS:
        return code
    choices = ", ".join(sorted(STEMMERS))
    if code in _CJK_LANGUAGES:
        instead = "Chinese, Japanese and Korean text is indexed in two-character pieces under any language"
    else:
        instead = "text in other languages is indexed too, its words unstemmed"
    raise InvalidOptionError(
        f"unsupported language {language!r}", hint=f"{instead}: leave --language out, or choose one of {choices}"
    )


@cache
def _greek_bare_letters() -> dict[int, str]:
    """Each accented Greek letter (`_GREEK_TEXT_RE`) → its letter without marks, read from its canonical
    decomposition (a letter, then combining marks only)."""
    table: dict[int, str] = {}
    for code in [*range(0x0386, 0x03CF), *range(0x1F00, 0x2000)]:
        letters = unicodedata.normalize("NFD", chr(code))
        if len(letters) > 1 and all(unicodedata.category(mark) == "Mn" for mark in letters[1:]):
            table[code] = letters[0]
    return table


def _fold_greek_accents(text: str) -> str:
    """`text` with its Greek letters bare of accents, breathings and dialytika (those of other scripts stay)."""
    if _GREEK_TEXT_RE.search(text) is None:
        return text
    return _GREEK_LOOSE_MARKS_RE.sub("", text.translate(_greek_bare_letters()))


class _WordPatterns(NamedTuple):
    plain: re.Pattern[str]  # for text without CJK characters
    mixed: re.Pattern[str]  # for text with them (CJK runs are words of their own)


@cache
def _mark_ranges() -> tuple[tuple[int, int], ...]:
    """The combining marks (Mn, Mc, Me) outside the CJK ranges, as (first, last) code points: `\\w` leaves
    them out, and `re` has no `\\p{M}`. Read from `unicodedata` on the first text that is not ASCII (about
    20 ms, spared to every command that reads none), in the planes that hold marks: 0, 1 and 14."""
    codes = [*range(0x20000), *range(0xE0000, 0xE1000)]
    categories = "".join(map(unicodedata.category, map(chr, codes)))  # two letters per code point
    ranges: list[tuple[int, int]] = []
    for found in re.finditer("M[nce]", categories):
        code = codes[found.start() // 2]
        if _CJK_START_RE.match(chr(code)):  # the kana voicing marks: CJK runs are bigrammed whole
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return tuple(ranges)


def mark_class() -> str:
    """The combining marks (outside the CJK ranges) as the inside of a regex class: `\\w` leaves them out."""
    return "".join(chr(first) if first == last else f"{chr(first)}-{chr(last)}" for first, last in _mark_ranges())


@cache
def _marked_words() -> _WordPatterns:
    """The word patterns (`_PLAIN_TOKEN_RE`, `_TOKEN_RE`) with combining marks kept inside a word, as Unicode's
    word rules (UAX #29, WB4: Extend) and Lucene's StandardTokenizer keep them; a word still opens with a
    letter or digit. Compiled on first use (`_mark_ranges`); twice as slow as `\\w+`, so used only on a text
    that holds a mark (`_holds_marks_or_removed`)."""
    marks = mark_class()
    plain_part = rf"\w[\w{marks}]*"
    mixed_part = rf"[^\W{CJK_CHARS}](?:[^\W{CJK_CHARS}]|[{marks}])*"  # a class cannot join [^…] and […]
    return _WordPatterns(
        plain=re.compile(rf"{plain_part}(?:['’.]{plain_part})*"),
        mixed=re.compile(rf"[{CJK_CHARS}]+|{mixed_part}(?:['’.]{mixed_part})*"),
    )


@dataclass(frozen=True)
class AnalyzerSettings:
    """Everything that decides how text becomes terms; stored in the index manifest."""

    language: str = "en"
    stopwords: bool = True
    stem: bool = True
    # invisible format characters inside a word dropped before words are split (`_IN_WORD_FORMAT_RE`); an
    # index built before this was recorded split words at them, so its queries must be split there too
    drop_format_characters: bool = True
    # combining marks kept inside words (optional Arabic and Hebrew ones dropped) and "İ" folded to "i" (with
    # Turkish's own I/ı): an index built before this was recorded split words at marks, and so must its queries
    words_keep_marks: bool = True
    # a document's CJK runs yield their characters beside their bigrams (`document_tokens`): an index built
    # before this was recorded holds bigrams only, and a one-character question finds nothing in it
    cjk_unigrams: bool = True
    # Greek letters lose their accents (`_fold_greek_accents`): an index built before this was recorded holds
    # "παρθενώνας", which a question without the tonos, or in capitals, never matched
    fold_greek_accents: bool = True

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
            words_keep_marks=bool(data.get("words_keep_marks", False)),
            cjk_unigrams=bool(data.get("cjk_unigrams", False)),
            fold_greek_accents=bool(data.get("fold_greek_accents", False)),
        )


DEFAULT_SETTINGS = AnalyzerSettings()


@cache
def stopword_set(language: str) -> frozenset[str]:
    """The stopword list shipped in ragcli/stopwords/<code>.txt (source named in its first line)."""
    text = resources.files("ragcli.stopwords").joinpath(f"{language}.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


# The characters that may send a text to the patterns with marks: those `\w` leaves out beyond ASCII (marks,
# format characters, symbols), less the Latin-1 signs but the soft hyphen and the dashes, quotes, bullets and
# other signs of General Punctuation (U+2010-U+2027, U+2030-U+205E: no mark or format character among them,
# and they are most of what an English text holds beyond ASCII), and the tatweel (a letter to `\w`, removed)
_NOT_A_WORD_CHARACTER_RE = re.compile("[^\\w\\s\x00-\x7f\u00a0-\u00ac\u00ae-\u00bf\u2010-\u2027\u2030-\u205e]|\u0640")


def _holds_marks_or_removed(text: str, removed: re.Pattern[str]) -> bool:
    """Whether `text` holds a combining mark or a character `removed` inside words, checked on its distinct
    characters `\\w` leaves out (in most text a few quotes and dashes): a text without marks (French,
    Russian, emoji) is split by the plain `\\w` patterns, as fast as before marks were kept, and never
    builds the mark class (`_mark_ranges`, some 25 ms of a fresh `ragcli query`)."""
    return any(
        unicodedata.category(character)[0] == "M" or removed.match(character) is not None
        for character in set(_NOT_A_WORD_CHARACTER_RE.findall(text))
    )


def _fold(text: str, settings: AnalyzerSettings) -> tuple[str, bool]:
    """NFKC, Greek letters bare of accents, case folding ("İ" to "i", Turkish's "I" to "ı") and the characters
    removed inside words, as
    `settings` say; with whether the words of the result hold combining marks (`_marked_words` splits
    them). The same for a whole text and for one word of a highlight."""
    text = unicodedata.normalize("NFKC", text)
    if settings.words_keep_marks and settings.language == "tr":
        text = text.translate(_TURKISH_CAPITAL_I)
    if text.isascii():  # nothing below is ASCII: most text skips the scans
        return text.casefold(), False
    if settings.fold_greek_accents:  # before case folding, which spells "ΐ" with loose marks
        text = _fold_greek_accents(text)
    if not settings.words_keep_marks:  # an index that predates marks inside words
        text = text.casefold()
        return (_IN_WORD_FORMAT_RE.sub("", text) if settings.drop_format_characters else text), False
    text = text.replace(_DOTTED_CAPITAL_I, "i").casefold()
    removed = _FORMAT_AND_DIACRITICS_RE if settings.drop_format_characters else _OPTIONAL_DIACRITICS_RE
    if not _holds_marks_or_removed(text, removed):
        return text, False
    return removed.sub("", text), True


def surface_tokens(text: str, settings: AnalyzerSettings = DEFAULT_SETTINGS) -> list[str]:
    """Normalise (`_fold`) and split a query's text into surface tokens (CJK runs become character bigrams, a
    lone CJK character stays itself); combining marks stay inside words and invisible format characters do
    not split them, unless the index predates that (`AnalyzerSettings`)."""
    return _split(text, settings, cjk_unigrams=False)


def document_tokens(text: str, settings: AnalyzerSettings = DEFAULT_SETTINGS) -> list[str]:
    """A document's surface tokens: a query's (`surface_tokens`), plus each character of a CJK run of two or
    more where the index records `cjk_unigrams`, so that a one-character question matches it exactly (its
    document frequency and counts are the character's own). The price is one more token per CJK character
    (README, "How retrieval works"); a longer question still asks for bigrams, which say more."""
    return _split(text, settings, cjk_unigrams=settings.cjk_unigrams)


def _split(text: str, settings: AnalyzerSettings, *, cjk_unigrams: bool) -> list[str]:
    """The one splitter behind `surface_tokens` and `document_tokens`, so a query and a document can only
    differ in the CJK characters a document adds."""
    text, marked = _fold(text, settings)
    if _CJK_START_RE.search(text) is None:
        return (_marked_words().plain if marked else _PLAIN_TOKEN_RE).findall(text)
    tokens = (_marked_words().mixed if marked else _TOKEN_RE).findall(text)
    out: list[str] = []
    for token in tokens:
        if _CJK_START_RE.match(token):
            if len(token) == 1:
                out.append(token)
            else:
                out.extend(token[i : i + 2] for i in range(len(token) - 1))
                if cjk_unigrams:
                    out.extend(token)
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
        in the text without its invisible format characters and with its combining marks inside words (as
        `surface_tokens` splits it, where the settings say so), each word folded as `surface_tokens` folds
        it, and each span mapped back to where its first and last characters are in `text`."""
        settings = self.settings
        plain = text.isascii()
        visible = text if plain or not settings.drop_format_characters else _IN_WORD_FORMAT_RE.sub("", text)
        where: Sequence[int] = range(len(text))
        if len(visible) < len(text):
            where = [i for i, character in enumerate(text) if not _IN_WORD_FORMAT_RE.match(character)]
        marked = settings.words_keep_marks and not plain and _holds_marks_or_removed(visible, _OPTIONAL_DIACRITICS_RE)
        words = _marked_words().mixed if marked else _TOKEN_RE
        spans = []
        for match in words.finditer(visible):
            word = match.group()
            if _CJK_START_RE.match(word):  # a run, indexed in pieces: its pieces that match, overlaps joined
                for first, last in self._matching_pieces(word, terms):
                    spans.append((where[match.start() + first], where[match.start() + last - 1] + 1))
            elif self.term_of(_fold(word, settings)[0]) in terms:
                spans.append((where[match.start()], where[match.end() - 1] + 1))
        return spans

    def _matching_pieces(self, run: str, terms: frozenset[str]) -> list[tuple[int, int]]:
        """The (start, end) spans of a CJK run whose pieces (`_split`'s: bigrams, a lone character, each
        character where the settings keep unigrams) are among `terms`, overlapping ones joined: "三峡大坝"
        matches whole where the question asks for "三峡大坝", and "한글" inside "한글은"."""
        size = 1 if len(run) == 1 else 2
        pieces = [(i, i + size) for i in range(len(run) - size + 1)]
        if size == 2 and self.settings.cjk_unigrams:
            pieces += [(i, i + 1) for i in range(len(run))]
        found: list[tuple[int, int]] = []
        for first, last in sorted(
            p for p in pieces if self.term_of(_fold(run[p[0] : p[1]], self.settings)[0]) in terms
        ):
            if found and first < found[-1][1]:
                found[-1] = (found[-1][0], max(last, found[-1][1]))
            else:
                found.append((first, last))
        return found

    def query_terms(self, query: str) -> list[str]:
        """A query's terms (`__call__`), then those of the parts of each dotted name it writes whole that
        it lacks: "What does Response.raise_for_status do?" asks for `raise_for_status` too, which is how
        code defines it. Documents keep a dotted name one term (a call site is not the definition)."""
        tokens = surface_tokens(query, self.settings)
        terms = self._terms_of(tokens)
        for token in tokens:
            if "." in token and _DOTTED_NAME_RE.fullmatch(token):
                terms.extend(term for term in self(token.replace(".", " ")) if term not in terms)
        return terms

    def highlighter(self, question: str) -> Callable[[str], list[tuple[int, int]]]:
        """text → the spans of it that match `question`'s terms (for the snippets of its hits)."""
        terms = frozenset(self.query_terms(question))
        return lambda text: self.matching_spans(text, terms)

    def document_terms(self, text: str) -> list[str]:
        """A document's terms as the index counts them (`document_tokens`: each character of a CJK run
        too, where the settings say so), for reading a passage as the index did."""
        return self._terms_of(document_tokens(text, self.settings))

    def __call__(self, text: str) -> list[str]:
        """Analyse one text (a query, or a document in tests): the terms in order. Each token's term is
        remembered: stemming was a third of a short query's time on SciFact, and queries repeat words."""
        return self._terms_of(surface_tokens(text, self.settings))

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
