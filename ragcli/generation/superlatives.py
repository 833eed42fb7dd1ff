"""Answers to "What is the tallest building in Ann Arbor?": the thing a sentence says is the superlative
the question asks for. The span generator scores by nearness and takes a word of the description
("Michigan campus and downtown" from "Tower Plaza, a 26-story condominium building located between the
University of Michigan campus and downtown, is the tallest building in Ann Arbor").

A sentence says it one of three ways, each found here by English word order (written by hand: no parser
installs from PyPI with its model):
- the thing is the subject of a copula before the superlative: "[Tower Plaza], a … building …, is the
  tallest building", "that [Tartessian] is the earliest attested trace", "[Prinsen] … is listed by the
  Guinness Book of Records as the largest recorded specimen";
- the superlative stands in apposition before it: "its highest point, [the 1323 m peak of La Bañuela],";
- the superlative is the subject: "the most populous district of Devon is [East Devon]".
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ragcli.generation.phrases import BRACKETED_RE, LEADING_ARTICLE_RE, SPAN_RES
from ragcli.patterns import compiled_later

MAX_DESCRIBED_WORDS = 16  # words between a superlative and its copula ("the largest component of … body is")
MAX_SUBJECT_WORDS = 6  # words of a subject given whole when no part of it is a name ("the sectors unit")
MAX_APPOSITIVE_WORDS = 14  # words of a phrase in apposition ("the 1323 m peak of La Bañuela in the Sierra …")

# the superlative a question asks for: "the tallest", "its highest", "the most populous"
_SUPERLATIVE = (
    r"(?:most|least)\s+[a-z]+|[a-z]+iest|largest|biggest|smallest|oldest|youngest|newest|highest|lowest"
    r"|longest|shortest|tallest|deepest|shallowest|latest|fastest|slowest|greatest|widest|narrowest|richest"
    r"|poorest|strongest|weakest|hottest|coldest|warmest|nearest|closest|farthest|furthest|finest|best|worst"
)
_ASKED_RE = compiled_later(
    rf"^\W*(?:what|who|which)\s+(?:(?P<be>is|was|are|were)|[^?]+?\s+(?P<has>has|have|had|holds|held))\s+"
    rf"(?:the|its|their|his|her|[\w.'’-]+['’]s?)\s+(?P<sup>{_SUPERLATIVE})\s+(?P<described>[^?]+?)\s*\?*\s*$",
    re.IGNORECASE,
)
# what may stand between a subject and "the tallest": "is", "was now", "is believed to be", "is listed
# by the Guinness Book of Records as"; right before it, so "is one of the tallest" is none
_COPULA_BEFORE_RE = compiled_later(
    r"(?<=\S)(?P<copula>\s*,?\s+(?:is|are|was|were|being)(?:\s+(?:now|still|also|currently|probably|possibly|\w+ly))*"
    r"(?:\s+(?:believed|thought|said|considered|known|claimed)\s+to\s+be"
    r"|\s+(?:listed|regarded|considered|recognised|recognized|described|ranked|cited)\b[^,;]{0,60}?\s+as)?)\s+$",
)
_COPULA_AFTER_RE = compiled_later(r"\s(?:is|are|was|were|being)\s+")  # "the longest one … being [the Hong Gou]"
# "Which city has the oldest …?": "Cologne also has the oldest …"
_HAS_BEFORE_RE = compiled_later(
    r"(?<=\S)(?P<copula>(?:\s+(?:now|still|also|\w+ly))*\s+(?:has|have|had|holds|held))\s+$"
)
# where the clause of a subject opens: "This would mean that [Tartessian]", "…, and [Morra] is the largest port"
# or a relative clause: "…, where [its subsidiary BA CityFlyer] is the largest operator"
_CLAUSE_OPENING_RE = compiled_later(
    r".*(?:\bthat\s+|[;:]\s+|,\s+(?:and|but|while|whereas|where|when|which|who|whom)\s+)", re.DOTALL
)
# the head of what a superlative describes: the noun before its first preposition ("son" of "son of David")
_PREPOSITION_RE = compiled_later(r"\s(?:of|in|on|at|for|from|by|with|among|to|within|into|across)\b", re.IGNORECASE)
_STRANDED_RE = compiled_later(r"\s(?:of|in|on|at|for|from|by|with|to|about)$", re.IGNORECASE)  # "… reactions with?"
_COORDINATED_RE = compiled_later(r"\b(?:and|but|or)$")
_PRONOUN_RE = compiled_later(r"(?:he|she|it|they|this|these|that|those|we|you|i)", re.IGNORECASE)  # "[He] is …"
# a list the predicate may be: "are [with ozone, hydrogen peroxide and oxygen]"
_LIST_RE = compiled_later(
    r"[^,;:()]+?(?:,\s+[^,;:()]+?)*,?\s+(?:and|or)\s+[^,;:()]+?(?=\s*(?:[,;:()]|\.?\s*$))"
)  # "…, and was the highest": the subject is further back
# where a noun phrase that answers ends: "East Devon [but only if]", a comma, a bracket, a dash
_CLAUSE_END = r"\s+(?:but|although|though|while|whereas|because|if|unless|since|which|who|where|when)\b"
_CLAUSE_END_RE = compiled_later(_CLAUSE_END)
_PHRASE_END_RE = compiled_later(rf"\s*(?:[,;:()]|\s[–—]\s|—|\.\s*$)|{_CLAUSE_END}")


def superlative(question: str, sentence: str, terms: Callable[[str], set[str]]) -> str | None:
    """What a sentence says is the superlative a "What is the tallest X?" question asks for (None when the
    question asks none or the sentence does not say it): its subject, the phrase in apposition, or the
    predicate, by where the superlative stands. `terms` gives a text's index terms, to check that the
    sentence's superlative describes what the question's does."""
    asked = _ASKED_RE.match(question)
    if asked is None or _STRANDED_RE.search(asked.group("described")):
        return None  # "What are the most important reactions with?" asks for what follows, not for a thing
    head = terms(_PREPOSITION_RE.split(asked.group("described"), maxsplit=1)[0].split()[-1])
    said = re.compile(rf"\b(?:the|its|their|his|her)\s+{re.escape(asked.group('sup'))}\b", re.IGNORECASE)
    for found in said.finditer(sentence):
        after = _PHRASE_END_RE.split(sentence[found.end() :], maxsplit=1)[0]
        copula = _COPULA_AFTER_RE.search(after)
        own = after[: copula.start()] if copula else after  # what the sentence's superlative describes
        if not head <= terms(own) and not re.match(r"\s*ones?\b", own):  # "the longest [one] of that period"
            continue  # another superlative: "the largest city" for "the largest port"
        end = found.end() + len(own)
        answer = (
            _subject_before(sentence[: found.start()], _HAS_BEFORE_RE if asked.group("has") else _COPULA_BEFORE_RE)
            or _apposition_after(sentence, end)
            or (_predicate_after(sentence[end:]) if len(own.split()) <= MAX_DESCRIBED_WORDS else None)
        )
        if answer:
            return answer
    return None


def _subject_before(before: str, verb: re.Pattern[str]) -> str | None:
    """The subject of the copula (or "has") right before a superlative: its name, or its last part when
    short ("In most parts of Argentina, [lunch] is the largest meal")."""
    copula = verb.search(before)
    if copula is None:
        return None
    subject = BRACKETED_RE.sub("", before[: copula.start()]).strip()  # "Amnon (Hebrew: …, "faithful")"
    if _COORDINATED_RE.search(subject):  # "The mill grew and was the tallest …": no subject of its own
        return None
    opening = _CLAUSE_OPENING_RE.match(subject)
    subject = subject[opening.end() :] if opening else subject
    parts = [part.strip() for part in subject.split(",") if part.strip()]
    if not parts or _PRONOUN_RE.fullmatch(parts[-1]):
        return None  # "He is also the oldest …": the name it stands for is in another sentence
    for part in parts:  # "Tower Plaza, a 26-story condominium building …", "According to the Bible, Amnon"
        bare = LEADING_ARTICLE_RE.sub("", part)
        if SPAN_RES["name"].fullmatch(bare) or re.fullmatch(r"[\"“][^\"“”]{1,60}[\"”]", bare):
            return part
    last = parts[-1]  # not a description set after the subject: "lunch, a meal of …,"
    return last if len(last.split()) <= MAX_SUBJECT_WORDS and not re.match(r"(?:a|an)\s", last) else None


def _apposition_after(sentence: str, end: int) -> str | None:
    """The phrase set after a comma right after a superlative, to the next mark: "its highest point, [the …
    peak], lies"."""
    apposed = re.match(r",\s+(?P<phrase>[^,;:()]+?)\s*(?:[,;:(]|\.?\s*$)", sentence[end:])
    if apposed is None or len(apposed.group("phrase").split()) > MAX_APPOSITIVE_WORDS:
        return None
    phrase = apposed.group("phrase")  # a noun phrase, not a clause: "[the language of the "Rigveda"] (c. …"
    return phrase if re.match(r"(?:the|a|an)\s|[\d\"“]", phrase) or phrase[:1].isupper() else None


def _predicate_after(rest: str) -> str | None:
    """What the copula right after a superlative subject says it is, a list kept whole: "the most
    populous district is [East Devon] but only if", "… reactions are [with ozone, … and oxygen]"."""
    copula = _COPULA_AFTER_RE.match(rest)
    if copula is None:
        return None
    listed = _LIST_RE.match(rest, copula.end())
    predicate = listed.group() if listed else _PHRASE_END_RE.split(rest[copula.end() :], maxsplit=1)[0]
    predicate = _CLAUSE_END_RE.split(predicate, maxsplit=1)[0].strip()
    return predicate or None
