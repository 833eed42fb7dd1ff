"""Closed-class words that tell a phrase's role in a sentence, per analyzer language: the preposition
that introduces the agent of a passive ("written by", "escrita por", "von den Römern gegründet") and the
shape of the participle it goes with, the verb forms a stemmer keeps apart ("wrote" / "written",
"gründete" / "gegründet"), and the prepositions a place follows ("born in Frankfurt", "né à Besançon"). The extractive generator (`extractive.py`) prefers such phrases for "who did" and
"where" questions.

Hand-written lists and endings: no part-of-speech tagger installs from PyPI with its models.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# the preposition that introduces the agent of a passive
_AGENT = {
    "en": ("by",),
    "fr": ("par",),
    "es": ("por",),
    "pt": ("por", "pelo", "pela", "pelos", "pelas"),
    "it": ("da", "dal", "dallo", "dalla", "dai", "dagli", "dalle"),
    "de": ("von", "vom"),
    "nl": ("door",),
    "sv": ("av",),
    "no": ("av",),
    "da": ("af",),
}
# past participles by their shape (regular endings and common irregular stems): a marker introduces an
# agent only next to one ("escrita por Cervantes", not "por ejemplo"). English has none here: there the
# question's own verb must stand before "by"
_PARTICIPLE = {
    "fr": r"\w+(?:é|i|u|it|int|is)e?s?|née?s?",
    "es": r"\w+(?:ad|id)[oa]s?|(?:escrit|hech|dich|puest|vist|abiert|descubiert|compuest|impres)[oa]s?",
    "pt": r"\w+(?:ad|id)[oa]s?|(?:escrit|feit|dit|post|vist|abert|descobert|compost|impress)[oa]s?",
    "it": r"\w+(?:at|it|ut)[oaie]|(?:scritt|fatt|dipint|dett|mess|pres|scopert|apert|compost)[oaie]",
    "de": r"ge\w{3,}(?:t|en)",
    "nl": r"ge\w{3,}(?:d|t|en)",
    "sv": r"\w+(?:ad|t|en)e?s?",
    "no": r"\w+(?:et|t|en)e?",
    "da": r"\w+(?:et|t|en)e?",
}
# languages whose participle ends the clause, after the agent ("von den Römern im Jahr 50 gegründet"),
# and opens with "ge-", which their stemmers keep ("gegründet" → "gegrund", "gründete" → "grund")
_PARTICIPLE_LAST = frozenset({"de", "nl"})
_GE_PARTICIPLE_RE = re.compile(r"\bge\w{4,}", re.IGNORECASE)
_WORD_RE = re.compile(r"\w+")
# English verbs whose forms the Porter stemmer leaves apart ("wrote", "written"; "died" → "di", "die"):
# a passage's form also matches the question's other forms ("Who wrote …?" and "written by")
_ENGLISH_VERBS = (
    "write wrote written writes writing",
    "build built builds",
    "make made makes",
    "lead led leads",
    "give gave given",
    "take took taken",
    "sing sang sung",
    "draw drew drawn",
    "begin began begun",
    "choose chose chosen",
    "win won wins",
    "hold held holds",
    "buy bought",
    "bring brought",
    "teach taught",
    "think thought",
    "catch caught",
    "fight fought",
    "seek sought",
    "sell sold",
    "tell told",
    "speak spoke spoken",
    "break broke broken",
    "steal stole stolen",
    "drive drove driven",
    "rise rose risen",
    "ride rode ridden",
    "grow grew grown",
    "know knew known",
    "throw threw thrown",
    "fly flew flown",
    "see saw seen",
    "go went gone",
    "eat ate eaten",
    "fall fell fallen",
    "forget forgot forgotten",
    "get got gotten",
    "lose lost",
    "leave left",
    "meet met",
    "pay paid",
    "say said",
    "send sent",
    "spend spent",
    "stand stood",
    "understand understood",
    "feel felt",
    "keep kept",
    "run ran",
    "come came",
    "become became",
    "shoot shot",
    "hide hid hidden",
    "freeze froze frozen",
    "wear wore worn",
    "bear bore born borne",
    "shake shook shaken",
    "strike struck stricken",
    "hang hung",
    "dig dug",
    "sit sat",
    "feed fed",
    "flee fled",
    "die died dies dying",
    "find found finds",
    "sink sank sunk",
    "swim swam swum",
    "drink drank drunk",
    "ring rang rung",
    "forbid forbade forbidden",
    "",
)
_ENGLISH_FORMS = [verb.split() for verb in _ENGLISH_VERBS]
# prefixes of English verbs made of an irregular one ("undertook", "overthrown", "rebuilt", "withheld")
_ENGLISH_VERB_PREFIXES = ("under", "over", "with", "fore", "out", "mis", "re", "up", "be")
_FORMS = {"en": {form: forms for forms in _ENGLISH_FORMS for form in forms}}


def _prefixed(verbs: list[list[str]], prefixes: tuple[str, ...]) -> dict[str, list[str]]:
    """Each verb's forms with each prefix, the earlier prefix first: "undertaken" → undertake, undertook,
    undertaken (built once, so that a passage's words are looked up, not cut)."""
    found: dict[str, list[str]] = {}
    for prefix in prefixes:
        for forms in verbs:
            for form in forms:
                found.setdefault(prefix + form, [prefix + other for other in forms])
    return found


_PREFIXED_FORMS = {"en": _prefixed(_ENGLISH_FORMS, _ENGLISH_VERB_PREFIXES)}
# the prepositions a place follows
_PLACE = {
    "en": ("in", "at", "from", "near", "into"),
    "fr": ("à", "au", "aux", "en", "dans"),
    "es": ("en", "desde"),
    "pt": ("em", "no", "na", "nos", "nas"),
    "it": ("a", "in", "nel", "nella", "nei", "nelle", "al", "alla", "presso"),
    "de": ("in", "im", "am", "bei", "nach", "aus"),
    "nl": ("in", "te", "bij", "uit"),
    "sv": ("i", "på"),
    "no": ("i", "på"),
    "da": ("i", "på"),
    "ru": ("в", "во", "на"),
}
# the relative word that follows a place ("Moscow, where his sons studied", "Paris, où il vécut")
_WHERE = {
    "en": "where",
    "fr": "où",
    "es": "donde",
    "pt": "onde",
    "it": "dove",
    "de": "wo",
    "nl": "waar",
    "sv": "där",
    "no": "der",
    "da": "hvor",
    "ru": "где",
}


# an English word with a verb's "-ed" or "-ing" (its base three letters or more)
_SUFFIXED_RE = re.compile(r"^[a-z]{3,}(?:ed|ing)$")
_DOUBLED_RE = re.compile(r"([b-df-hj-np-tv-z])\1$")


def _bases(word: str) -> list[str]:
    """The base forms a regular "-ed" or "-ing" form may have, where the stemmer stems them apart:
    "added" → "add", "embedded" → "embedd" and "embed"."""
    base = word[:-2] if word.endswith("ed") else word[:-3]
    return [base, base[:-1]] if _DOUBLED_RE.search(base) else [base]


@dataclass(frozen=True)
class Markers:
    """The role-marking words of one language (empty where ragcli knows none)."""

    agent: frozenset[str]
    place: frozenset[str]
    where: str | None  # the relative word after a place
    participle: re.Pattern[str] | None
    participle_last: bool  # the participle follows its agent, at the clause's end
    forms: dict[str, list[str]]  # a verb form → all forms of its verb, where the stemmer keeps them apart
    prefixed_forms: dict[str, list[str]]  # the same for those verbs with a prefix ("undertaken")

    @classmethod
    def for_language(cls, language: str) -> Markers:
        pattern = _PARTICIPLE.get(language)
        return cls(
            agent=frozenset(_AGENT.get(language, ())),
            place=frozenset(_PLACE.get(language, ())),
            where=_WHERE.get(language),
            participle=re.compile(pattern) if pattern else None,
            participle_last=language in _PARTICIPLE_LAST,
            forms=_FORMS.get(language, {}),
            prefixed_forms=_PREFIXED_FORMS.get(language, {}),
        )

    def is_participle(self, word: str) -> bool:
        return self.participle is not None and bool(self.participle.fullmatch(word.lower()))

    def verb_terms(self, text: str, analyze: Callable[[str], list[str]]) -> list[str]:
        """Terms the text's verbs share with their other forms, where the stemmer keeps them apart:
        "ge-" participles without the prefix ("gegründet" ~ "Wer gründete …?", German and Dutch), and
        English irregular verbs ("written" ~ "Who wrote …?") and regular ones whose "-ed" the stemmer
        cuts with a letter of the base ("added" ~ "What did Adobe add?")."""
        terms = []
        if self.participle_last:
            terms += [term for word in _GE_PARTICIPLE_RE.findall(text) for term in analyze(word[2:])]
        if self.forms:
            for word in _WORD_RE.findall(text.lower()):
                forms = self.forms.get(word) or self.prefixed_forms.get(word)
                if forms is not None:
                    terms += [term for form in forms for term in analyze(form)]
                elif _SUFFIXED_RE.match(word):  # "added" ~ "add", "embedded" ~ "embed" (Porter: "ad", "emb")
                    terms += [term for base in _bases(word) for term in analyze(base)]
        return terms


def english_participle(word: str, markers: Markers) -> bool:
    """An English word that may be a past participle: "-ed", "-en", or an irregular verb's past form
    ("built", "won"; not "win" or "wins")."""
    lowered = word.lower()
    forms = markers.forms.get(lowered)
    past = forms is not None and lowered in forms[1:3] and not lowered.endswith(("s", "ing"))
    return (len(lowered) > 4 and lowered.endswith(("ed", "en"))) or past
