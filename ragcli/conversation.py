"""Follow-up questions in `ragcli chat`: "How do beekeepers control them?" after "What is the varroa
mite?" is about the mite, but searched alone its words find passages on anything beekeepers control.

A question that refers back to an earlier one (a pronoun or a demonstrative: "it", "they", "this", "er",
"elle", "它", "それ" …) is searched together with the questions of its topic so far: the last question
that did not refer back, and the follow-ups since (at most `TOPIC_QUESTIONS` in all). This is historical
query expansion, the baseline of conversational search (TREC CAsT), and needs no model; the generator
is asked the question with the topic's own words after it ("How do beekeepers control them? (varroa
mite)"), which a model reads as a reminder and the extractive generator as words to look for. A
question without such a word starts a new topic. The words are listed below for the analyzer's
languages that have a list; Chinese and Japanese ones are found in any index.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable

TOPIC_QUESTIONS = 3  # questions searched together: the topic's opening question and the latest follow-ups

# Pronouns and demonstratives that stand for something named earlier. Left out on purpose: words that
# are as often something else in a question — English "that" (a conjunction), "there" (existential);
# German "es" ("Gibt es …?"); French impersonal "il" ("y a-t-il", removed before the check), "ce"
# ("qu'est-ce"); Dutch "zijn" (a verb), "die", "het"; Spanish "lo" ("lo que"); Russian "это" ("Что это?").
REFERRING: dict[str, frozenset[str]] = {
    "en": frozenset({
        "it", "its", "itself", "they", "them", "their", "theirs", "themselves", "he", "him", "his", "himself",
        "she", "her", "hers", "herself", "this", "these", "those"
    }),
    "de": frozenset({
        "er", "ihn", "ihm", "sie", "sein", "seine", "seinen", "seinem", "seiner", "seines", "ihre", "ihren",
        "ihrem", "ihrer", "ihres", "dieser", "diese", "dieses", "diesen", "diesem"
    }),
    "fr": frozenset({
        "il", "ils", "elle", "elles", "lui", "leur", "leurs", "son", "sa", "ses", "celui", "celle", "ceux",
        "celles", "cet", "cette", "ces"
    }),
    "es": frozenset({
        "él", "ella", "ellos", "ellas", "su", "sus", "este", "esta", "estos", "estas", "ese", "esa", "esos",
        "esas"
    }),
    "it": frozenset({
        "lui", "lei", "loro", "suo", "sua", "suoi", "sue", "esso", "essa", "essi", "esse", "questo", "questa",
        "questi", "queste"
    }),
    "pt": frozenset({
        "ele", "ela", "eles", "elas", "seu", "sua", "seus", "suas", "dele", "dela", "deles", "delas", "este",
        "esta", "estes", "estas", "isso", "isto"
    }),
    "nl": frozenset({"hij", "zij", "ze", "hem", "haar", "hun", "deze"}),
    "ru": frozenset({
        "он", "она", "оно", "они", "его", "её", "ее", "их", "ему", "ей", "им", "нём", "ней", "этот", "эта",
        "эти", "этого", "этой"
    }),
}  # fmt: skip
CJK_REFERRING = ("它", "他", "她", "这个", "那个", "这些", "那些", "それ", "これ", "あれ", "彼", "この", "その")
_WORD_RE = re.compile(r"\w+")
# French impersonal "il" ("Combien y a-t-il …?", "Faut-il …?"): no one referred to
_IMPERSONAL_RE = re.compile(r"\b(?:y\s+a-t-il|faut-il|s['’]agit-il|existe-t-il)\b", re.IGNORECASE)


def is_follow_up(question: str, language: str) -> bool:
    """Whether `question` refers back to something an earlier question named."""
    if any(word in question for word in CJK_REFERRING):
        return True
    referring = REFERRING.get(language, frozenset())
    words = _WORD_RE.findall(_IMPERSONAL_RE.sub(" ", question).lower())
    return any(word in referring for word in words)


class Conversation:
    """The questions of the current topic, and what each new question is searched with and asked as.
    `analyze` is the index's analyzer: a word it keeps no term of is a stopword."""

    def __init__(self, language: str, analyze: Callable[[str], list[str]]) -> None:
        self.language, self.analyze = language, analyze
        self.topic: deque[str] = deque(maxlen=TOPIC_QUESTIONS)

    def follows(self, question: str) -> bool:
        return bool(self.topic) and is_follow_up(question, self.language)

    def search_text(self, question: str) -> str:
        """What to retrieve with: a follow-up together with its topic's questions, else the question."""
        return " ".join([*self.topic, question]) if self.follows(question) else question

    def asked(self, question: str) -> str:
        """What the generator is asked: a follow-up with the topic's words it lacks in brackets after it
        ("Who decoded it? (waggle dance)"), else the question."""
        if not self.follows(question):
            return question
        known = set(self.analyze(question))
        words: list[str] = []
        for word in _WORD_RE.findall(" ".join(self.topic)):
            terms = self.analyze(word)
            if terms and not known.issuperset(terms):
                words.append(word)
                known.update(terms)
        return f"{question} ({' '.join(words)})" if words else question

    def add(self, question: str) -> None:
        """Remember an asked question: a follow-up joins the topic, any other question starts one."""
        if not self.follows(question):
            self.topic.clear()
        elif len(self.topic) == TOPIC_QUESTIONS:  # keep the opening question, drop the oldest follow-up
            opening = self.topic.popleft()
            self.topic.popleft()
            self.topic.appendleft(opening)
        self.topic.append(question)
