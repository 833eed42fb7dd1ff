"""The extractive generator: answers with a short span copied from the retrieved passages. No model, no
download, pure Python and regular expressions; a real baseline (its EM/F1 is in BENCHMARKS.md) and the
fallback when no language model can be loaded. Longer than most modules (~1,700 lines) because the span
candidates and their scoring belong together and were tuned as one; what a question asks for (its kind,
its question words, where its answer stands) is `questions.py`, what numbers, dates and names look like
`phrases.py`, the words that mark an agent or a place in each language `markers.py`.

How it answers (no rule knows any dataset's phrasing; the weights below were chosen on the tune half of
bench/xquad_split.py, keeping a change only when it helped, or did not hurt, both halves of tune; no
part-of-speech tagger: none installs from PyPI with its model, so the few English grammar rules below
are hand-written):

1. Sentences of the top passages score by the idf-weighted share of the question's content terms they
   hold (the index's analyzer, so any of its languages; CJK text as character bigrams; question words
   like "how many" are not content), plus a quarter of the terms only the passage's title or earlier
   sentences hold ("Mount Kilimanjaro is …. It rises 5,895 metres": the pronoun's sentence is about
   them), with small bonuses for the passage's rank, for coming early, for holding the kind of phrase
   the question asks for, and for a number right before what a "how many" question counts ("2,000
   eggs"). The best sentence (SENTENCES_TRIED) is the one answered from; a typed question whose best
   sentence holds no phrase of its kind takes the best one that does, when that one scores within
   TYPED_MARGIN (a number or a date counting its inherited terms fully). Sentences do not end at
   initials or titles ("William E. Simon", "Mr. Smith", "U.S. Army"), and start at capitals of any
   European alphabet ("Озеро", "Él", "¿Dónde"). A sentence cut by its passage's edge ("… workers raised
   in autumn live four") is read whole from the overlapping passage that holds it, with the better score
   of the two; one of nothing but the question's words (a heading: "The drones") only when no other
   sentence shares a term. A sentence longer than MAX_SENTENCE_WORDS is read in pieces, a word longer
   than MAX_WORD_CHARS (a data line) in pieces of its own, and a question longer than MAX_QUESTION_WORDS
   (a file piped in by mistake) is answered from its first words.
2. The question's kind comes from its question words, in each analyzer language and CJK ("how many",
   "cuántos", "combien", "wie viele", "сколько", "多少" …): a frequency ("how often": "every seven to ten
   days", "twice a year", "weekly"), a number, a date (a season too: "late spring"), or a name (who /
   where / "what was his name" / "cómo se llama" / "what artist", "which two governing bodies": a noun
   for people, groups or places after "what" or "which", kept as a content term; "what temperature",
   "wie hoch", "quelle est l'altitude", "какова глубина" ask for a number; the measure of "how long" or
   "wie lang" stays a content word, as the answering sentence often says it: "It is 2,850 kilometres
   long"). Typed questions take the typed phrases of the sentence ("2,000", "27-30%", "£30m", "five to
   six weeks", "1852", "Lorenzo Langstroth"), also inside a hyphenated word ("5" of "5-cylinder"); a
   name ends at a possessive ("William Tyndale's English Bible" is two), a list of names is one
   ("Grissom, White, and Chaffee"; "the European Parliament and the Council of the European Union"),
   preferred when the question asks for several ("which countries"), and a month alone is no name; a
   bare year is a date, never the number a "how many" or "how tall" question asks for, and so is a year
   of any size after the word for year ("im Jahr 50"). All others take chunks: runs of words that are
   neither stopwords nor question words, cut at punctuation, alone or joined by one short function word
   ("SI unit of magnetic flux density") that in English is neither an article nor an auxiliary ("noticed
   a strange odor" is no phrase), and names and quotations (Markdown code spans too:
   "`/var/log/foobar.log`", "`FOOBAR_PORT`"). English modal verbs ("may", "must") count as stopwords. In
   CJK text, a chunk is a run of characters outside the question's bigrams, Japanese hiragana (particles,
   endings) being function words joined across only by "の", "と", "や"; a Chinese chunk's parts between
   prepositions ("最后在[上海]") and its start up to the noun of "哪个N" ("[山东省]中部") are candidates too.
   No candidate is made only of the question's own terms, inflected or not ("Varroa Mites" for "the
   varroa mite").
3. Each candidate span scores by term proximity: each question term's nearest occurrence counts its
   weight divided by the distance in words (punctuation between counts extra; a question word inside the
   span as half a word away: "Brisbane Lions" is no answer to "… coach of the Lions?") — fully on the side where
   English word order puts the answer (`answer_sides`), or where a Chinese or Japanese question leaves
   its question word (`in_situ_sides`), less on the other; the agent of a passive ("limited by the
   working fluid", "escrita por Miguel de Cervantes", "von den Römern gegründet") is preferred for a
   subject question, and a name right after a preposition of place for a "where" question ("né à
   Besançon"; never one holding a name the question gives: "Johann Wolfgang von Goethe" for "Where was
   Goethe born?"), a span after the preposition a question opens or (English) ends with ("By how many
   points …?" → "win by 5 points", "… planning on launching on?"), one after "called" or "known as" for
   a question asking what something is called, and (English) where an object question's answer stands
   among its words in their order (`_gaps`: "USA provides [competitions] for cheerleading squads"), the
   words right before the noun of a "what kind of N" question ("a [unicameral] legislature") —
   with small preferences for spans that end a phrase, hold a name, are a whole quotation, or are not
   shaped like an English adverb or verb form nor end before an article ("regarding the").

A question for who did something ("Who wrote …", "Qui a écrit …", "Кто написал …") prefers a sentence
that names the agent of its verb in the passive ("Foi projetada pelo arquiteto …" for "Quem projetou
…?"); German and Dutch participles also match without their "ge-" ("gegründet" for "gründete"), and
English irregular verbs across their forms ("written" for "wrote"). Its best sentence opening with a
personal pronoun ("Il a écrit Les Misérables") or with the question's verb, the subject left out
("Dipinse la Gioconda") is answered with the name the nearest earlier sentence of the passage opens with
("Victor Hugo est …", "Leonardo da Vinci nacque …"), unless the question names it.

Beyond English: a sentence that stands for an earlier subject holds that subject's terms when its
sentence is scored — one opening with a personal pronoun, also after an opening phrase ("Opposé à
Napoléon III, il vécut en exil à Guernesey"), or in Spanish, Italian and Portuguese with one of the
question's words, an auxiliary or a clitic before it ("Murió en Ciudad de México", "Fue redescubierta
en 1911 por …"); the subject is a name an earlier sentence opens with, its article left out ("La
Loire", "Der Kölner Dom"), and in Chinese ("他出生于…") what the passage said before. French and
Italian elided articles are words of their own ("dall'[Inquisizione]"); a place after a preposition
keeps the common noun Romance languages put before its name ("dans l'[océan Atlantique]") and, for a
French, Spanish, Italian or Portuguese "where", follows the question's words; a German compound
answers "welcher N" when it ends with N ("In welchem Gebirge …?" → "im [Wettersteingebirge]"); "entre
1163 et 1345", "zwischen 1514 und 1519" are one date; German strong verbs and Romance irregular
participles match the question's verb across their forms (`markers.py`: "entworfen" for "entwarf",
"dipinta" for "dipinse"). Chinese counts keep their numerals and measure word ("一千多首"), a year its
"年", and "称为什么" asks "called what", not "why": its answer follows "称为" — a Chinese or Japanese answer
follows the question words nearest before its question word that its sentence holds ("原名叫什么" and
"原名[清漪园]"), or precedes the noun right after it ("哪个学派" and "[儒家]学派"). "с 1818 по 1858 год",
"von 1163 bis 1250" are one date and "17 870" one number; a non-English "what" question takes the
object of its verb ("O que narra …?" → "que narra a [viagem de Vasco da Gama]", OBJECT_BONUS).

A "when" question whose answering sentence holds no date but a condition (English: "when preceded
by a definite article", "if it is unreasonable") is answered with that condition.

A yes/no question ("Do I need to send paper receipts?", "Est-ce que …"; not one asking to choose, "…
high or low?") is answered with its best sentence whole, as "why", "how do" and "¿Cómo …?" questions
are (an English "why" with the reason the sentence gives, where it says one: "… since it is shaded for
most of the day (…)" → "it is shaded for most of the day", "Since [the blockade was lifted], …", "[yeasts
cannot grow], so the honey does not ferment" (`_reason`); a sentence that gives one is preferred); "What causes X?" is answered with the cause
a sentence gives after "due to", "because of", "results from" … ("the lack of cell specificity"), and
"What do economists say about …?" with the clause after the same verb and "that", "How is X described?"
with what follows "described as". When a sentence names the agent of a "who did" question's verb ("validées par le responsable
hiérarchique"), that agent is the answer, however close other words stand to the question's. A "who"
question never gets an amount or a date ("six hours") when its sentence holds no name, and an agent ends
with its noun phrase ("approved by your line manager at least two weeks in advance" → "line manager").

A question for what something is, nothing more ("What is royal jelly?", "¿Qué es la Alhambra?") whose
best sentence opens with that thing and a copula ("Royal jelly is a white, protein-rich secretion …") is
answered with the predicate (the sentence's subject may hold one term more: "The default request timeout
is 30 seconds" for "What is the default timeout?"); one whose best sentence says something is what the
question names ("CsA nephrotoxicity is a major cause of chronic renal dysfunction") with its subject, and
one whose best sentence sets a name beside that description with it ("Who is a noted expert on Voltaire?"
and "Ira Wade, a noted expert on Voltaire and …, has …"). "is" before a participle or an "-ing" form
is the auxiliary of a passive or a progressive ("the closure is called, so …", "the first variable is
shadowed by …"), no definition either way. An English question for a thing, nothing more ("What is
shadowing?": up to three words, `questions.concept_question`) that no sentence defines is answered with
its best sentence whole, as "why" is (not "Rustaceans say that the first variable"), unless that
sentence opens with the thing and another name for it ("Abscission, or leaf drop, is …"), and never
with what a sentence says is an instance of it ("One example of a trait … is the Iterator trait"). A
title-case line without a full stop ("Moving Captured Values Out of Closures", where a documentation
section starts) is a heading, no answer, and so is a question the passage asks (a FAQ's "Is zlib under
the GNU license?"): the sentence right after it ("No.") holds its terms as its own. An English question
for what does something
("What thrives in the Central Valley?", "What was unveiled …?") whose best sentence has the same verb
followed by the question's other words is answered with that verb's subject, whole ("Fremont cottonwood
and valley oak", "The instruction that the CPU fetches from memory"; without what it adds aside between
commas or an opening phrase): chunks leave out the question words it may hold. "Who …?" takes the same
verb's subject too, without a title before a name ("Italian composer [Ottorino Respighi]"); "What inspires
X?" the agent of "X is inspired by …"; a subject never runs back across "and" to the clause before it.
"What is X?" prefers a sentence that defines X; "What are the N?" takes the list after "N:" ("three
castes: [the queen, the workers and the drones]"); "What N …?" the name a naming word gives N ("an
enzyme called [invertase]"). An English "where" also takes a place a preposition names in lower case
("found on [sandstone ridges]", `phrases.place_phrases`). A passage's title run into its text answers only
when nothing else does. Questions answered by what follows their verb and a marker are one
table (`_CLAUSE_AFTER_VERB`): "How is X described?" ("as …"), "How is X indicated?" ("by …", "into …"),
"How does X do Y?" ("by [doing]"), "What did X agree to do?" (the infinitive), "What do economists say?"
("that …"). A phrase before the question word ("According to Socrates, what …?") counts as terms only.

The answer is the best span, cited (with `--answer-style sentence`, the sentence it comes from; `long`,
that sentence with the ones before and after it in its passage). "No answer" (empty) only when no passage shares a content term with
the question; a sentence that shares terms but offers no candidate span is answered whole.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import islice, pairwise
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

from ragcli.analysis import CJK_CHARS, Analyzer, mark_class, stopword_set
from ragcli.generation.base import Generation, GenerationOptions
from ragcli.generation.comparisons import comparison
from ragcli.generation.docstrings import (
    defined_where,
    defining_line,
    documented,
    named_identifiers,
    named_owners,
    plain_names,
)
from ragcli.generation.markers import Markers, english_participle
from ragcli.generation.phrases import (
    ARTICLES,
    COORDINATION_RE,
    LEADING_ARTICLE_RE,
    MAX_WORD_CHARS,
    PLACE_PREPOSITIONS,
    POSSESSIVES,
    SPAN_RES,
    YEAR,
    holds_long_word,
    place_phrases,
    typed_spans,
)
from ragcli.generation.questions import (
    AUXILIARIES,
    BE_FORMS,
    DEFINITION_RE,
    EXPLAIN_RE,
    MEASURE_QUESTION_RE,
    PREPOSITIONS,
    QUESTION_KIND_RES,
    SEVERAL_NAMED_RE,
    UNTYPED_RE,
    WHERE_RE,
    WHO_DID_RE,
    YES_NO_RE,
    GapQuestion,
    answer_sides,
    cjk_head,
    cjk_pairs,
    concept_question,
    copula_tail,
    gap_question,
    in_situ_context,
    in_situ_sides,
    is_question,
    main_clause,
    question_kind,
)
from ragcli.generation.respectively import respective
from ragcli.generation.superlatives import superlative
from ragcli.patterns import compiled_later
from ragcli.records import Hit, composed

if TYPE_CHECKING:
    from ragcli.retrieval.index import Index

_CJK_RE = compiled_later(rf"[{CJK_CHARS}]")
HANGUL = "\uac00-\ud7af"  # Korean syllables (a regex class's inside)
_HANGUL_RE = compiled_later(rf"[{HANGUL}]")
_HIRAGANA_RE = compiled_later(r"[\u3041-\u309f]")
_CJK_JOINERS = frozenset("のとや")  # Japanese "of" and "and": "一条天皇の中宮彰子", "東京と新大阪"
_KOREAN_JOINERS = frozenset({"의", "와", "과"})  # Korean "of" and "and": "조선[의] 왕"
# upper-case letters of the Latin, Greek and Cyrillic alphabets (accented ones included: "Él", "Über",
# "Озеро"); the range Ā-ſ mixes cases, close enough for telling where a sentence starts
_UPPER = "A-ZÀ-ÖØ-ÞĀ-ſΆ-ΫА-ЯЁ"
# the letters (and digits) of scripts without capitals, any of which may start a sentence: Hebrew, Arabic
# (with its digits; Syriac, Thaana), the Indic scripts, Thai, Lao, Georgian, Ethiopic, and CJK
_CASELESS = (
    "\u05d0-\u05ea\u0620-\u064a\u0660-\u0669\u066e-\u06d5\u06f0-\u06ff\u0710-\u07a5"
    f"\u0900-\u0dff\u0e00-\u0eff\u10d0-\u10ff\u1200-\u137f{CJK_CHARS}"
)
# the full stops and question marks of other scripts, each a sentence end: Devanagari's danda and double
# danda, Arabic's question mark and Urdu's full stop
_SCRIPT_STOPS = "।॥؟۔"
# what a German ordinal number (its digits and a dot) counts in a date: a century, a millennium or a month
_GERMAN_ORDINAL_NOUN = (
    r"(?:Jahrhunderts?|Jahrtausends?|Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November"
    r"|Dezember)\b"
)
# sentence ends: . ! ? followed by space and an upper-case letter, a letter of a caseless script, a digit,
# a quote or an opening ¿ ¡; CJK full stops and the other scripts' (`_SCRIPT_STOPS`); or a blank line /
# list item. Not after an initial ("J. R. R."), a title ("Dr."), a dotted abbreviation ("U.S.", "f.o.b.",
# "p.m.") or a lower-case one of a date ("c. 1611", "b. 1934", "ca.")
_SENTENCE_END_RE = compiled_later(
    r"(?<=[.!?])(?<![\s.][A-Z]\.)(?<!^[A-Z]\.)(?<!\.[a-z]\.)(?<!\bMrs\.)(?<!\b[MD]r\.)(?<!\b[JS]r\.)(?<!\bSt\.)(?<!\bMs\.)"
    r"(?<![\s(\[–-][a-z]\.)(?<!\bca\.)(?<!\bfl\.)"
    # nor after a German ordinal's dot before a century or a month ("im 11. Jahrhundert", "am 3. Mai")
    rf"(?!(?<=\s\d\.)\s+{_GERMAN_ORDINAL_NOUN}|(?<=\s\d\d\.)\s+{_GERMAN_ORDINAL_NOUN})"
    rf"[\"')\]»]?\s+(?=[\"'(\[«„“¿¡]?[{_UPPER}0-9{_CASELESS}])|(?<=[。！？{_SCRIPT_STOPS}])\s*|\n\s*\n"
    r"|\n(?=\s*(?:[-*•]|\d+\.)\s)"
    # a line of one punctuation mark repeated, which is no text: a heading's underline (reStructuredText,
    # Markdown's setext), a rule, a code fence or a docstring's quotes; the heading above it stands alone
    # (a fence with its language: "```sh"; a block comment's "/**" and "*/")
    r"|(?:^|(?<=\n))[ \t]*(?:={3,}|-{3,}|(?:~{3,}|`{3,})[ \t]*[\w+#.-]*|\^{3,}|\*{3,}|\+{3,}|#{3,}|:{3,}|'{3,}|\"{3,}|_{3,}|/\*\*?|\*+/)[ \t]*(?=\n|$)"
)
# a heading's or a list item's mark, followed by a space as Markdown has it ("1.5 million" and "#include"
# are text); bold text, its marks paired around it ("**Default** - None"): "**kwargs", "2 ** 10" and
# "__init__" are code (`__` pairs only around several words)
_LINE_MARK_RE = compiled_later(r"^\s*(?:#+|[-*•]|\d+\.)(?:\s+|$)")
# the line of a definition in code ("def set_timeout(self, seconds):", "class Client:", "function
# retry(fn) {", "pub fn parse(", "func (r *T) Name("): a sentence of its own, and code, not prose
_DEFINITION_LINE_RE = compiled_later(
    r"^[ \t]*(?:(?:async[ \t]+)?def[ \t]+\w+[ \t]*\(|class[ \t]+\w+[ \t]*[(:{]"
    r"|(?:export[ \t]+)?(?:async[ \t]+)?function\*?[ \t]+[\w$]+[ \t]*\(|(?:pub[ \t]+)?fn[ \t]+\w+[ \t]*[(<]"
    r"|func[ \t]+(?:\([^)\n]*\)[ \t]*)?\w+[ \t]*\()[^\n]*$",
    re.MULTILINE,
)
# a line opening or closing a docstring (or both) with text on it: the text alone, a sentence apart
# ('"""Change the request timeout."""' after "def set_timeout(self, seconds):")
_DOCSTRING_LINE_RE = compiled_later(
    r"""^[ \t]*[rRuUbB]?(?:\"\"\"|''')[ \t]*(\S[^\n]*?)[ \t]*(?:\"\"\"|''')?[ \t]*$"""
    r"""|^[ \t]*(\S[^\n]*?)[ \t]*(?:\"\"\"|''')[ \t]*$""",
    re.MULTILINE,
)
_BOLD_RE = compiled_later(
    r"(?<![\w*])\*\*(?=[^\s*])(.+?)(?<=[^\s*])\*\*(?![\w*])|(?<!\w)__(?=[^\s_])([^_]*?\s[^_]*?)(?<=[^\s_])__(?!\w)"
)


def _word_pattern() -> str:
    """`_WORD_RE`'s pattern: its combining marks are read from Unicode's tables on first use."""
    letter = rf"[^\W{CJK_CHARS}]"
    part = rf"{letter}+(?:[{mark_class()}]+{letter}*)*"  # runs of letters between marks: a third faster
    return rf"[{HANGUL}]+|[{CJK_CHARS}]|{part}(?:(?:['’.\-]|(?<=\d),(?=\d)){part})*"


# a word: letters and digits, inner apostrophes, dots, commas between digits and hyphens kept
# ("don't", "U.S", "2,000", "3.5", "movable-frame"), and the combining marks inside it, as the analyzer
# keeps them (Hindi's vowel signs: "लगे", not "लग"; Arabic's harakat: "بُنِيَ"); a run of Hangul syllables
# is one word (Korean writes spaces between words), one other CJK character is one word
_WORD_RE = compiled_later(_word_pattern)
# a Korean word's particle or copula ending, a function word of its own after the noun it marks ("한글[은]",
# "세종대왕[이]", "1443년[에]", "10월 9일[이다]"), the longest first
_KOREAN_PARTICLE_RE = compiled_later(
    rf"(?<=[{HANGUL}])(?:에서는|에서|에게|으로|로서|부터|까지|입니다|이었다|이다|이며|이고|은|는|이|가|을|를|에|의|와|과|도|로|만)$"
)
# French and Italian elide an article or a preposition into the next word ("dall'Inquisizione",
# "l'océan"): that part is a word of its own, so "Inquisizione" can be the answer
_ELIDED_RE = compiled_later(
    r"(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu|dall|dell|nell|all|sull|coll|quell|quest|un|gl|tutt|anch|sant)"
    r"['’](?=[^\W\d_])",
    re.IGNORECASE,
)
_ELIDING_LANGUAGES = frozenset({"fr", "it"})
# languages whose place follows the verb and its subject ("… nacida en Coyoacán", "se jette dans …"); in
# German the participle comes last ("wurde 1879 in Ulm geboren")
_PLACE_LAST_LANGUAGES = frozenset({"fr", "es", "it", "pt"})
# a "what" question in French, Spanish, Italian, Portuguese, German or Russian: the verb that follows it
# (past an auxiliary) has its object for the answer ("O que narra Os Lusíadas?" → "… que narra [a viagem
# de Vasco da Gama]", "Qu'a détruit l'incendie ?", "Was erfand Gutenberg?", "Что основал Ломоносов?")
_WHAT_VERB_RE = compiled_later(
    r"^\W*(?:o\s+que|que|qu[eé]|qu['’]|che\s+cosa|cosa|was|что)\s*(?P<rest>[^?？]+)", re.IGNORECASE
)
# languages that leave a known subject out: a sentence may open with its verb ("Murió en Ciudad de México")
_SUBJECT_DROPPING_LANGUAGES = frozenset({"es", "it", "pt"})
# punctuation that ends a phrase: a span never crosses it
_BREAK_RE = compiled_later(r"[,;:()\[\]{}\"“”„«»—–!?`。，、；：！？（）「」『』]|\s-\s|'\s|\s'")
# a sentence opening with a personal pronoun: its subject is the name of an earlier sentence
_PERSONAL_PRONOUNS = [
    "he",
    "she",
    "they",
    "il",
    "elle",
    "ils",
    "elles",
    "er",
    "sie",
    "él",
    "ella",
    "lui",
    "lei",
    "ele",
    "ela",
    "он",
    "она",
    "они",
]
_PRONOUN_RE = compiled_later(rf"^\W*(?:{'|'.join(p.capitalize() for p in _PERSONAL_PRONOUNS)})\b")
# the same after an opening phrase ("Opposé à Napoléon III, il vécut en exil …", "In 1933, he …"), or a
# Chinese one ("他出生于公元701年"): the clause is about that earlier subject
_CLAUSE_PRONOUN_RE = compiled_later(
    rf"^\W*(?:[^,;.:]{{1,80}},\s+)?(?:(?:{'|'.join(_PERSONAL_PRONOUNS)})\b|[他她])", re.IGNORECASE
)
# the first copula of a sentence, in the analyzer's languages ("is", "es", "est", "ist", "è", "é" …)
_COPULA_RE = compiled_later(
    r"(?<!\w)(?:is|are|was|were|es|son|era|fue|est|sont|était|ist|sind|war|waren|è|sono|é|são|foi)(?!\w)"
)
_CHOICE_RE = compiled_later(r"(?<!\w)(?:or|oder|ou|o|или|eller)(?!\w)", re.IGNORECASE)  # "… high or low?"
# "In which …", "In welchem Gebirge …", "¿En qué siglo …?", "Quel fleuve …", "Какая река …" (a bare "qué" /
# "que" opens a verb as often: "¿Qué pintó …?")
_WHICH_RE = compiled_later(
    r"^\W*(?:(?:[^\W\d_]+\s+)?(?:which|what|welche[rsmn]?|quel(?:le)?s?|quale|quali|qual|quais|cu[aá]l(?:es)?"
    r"|как(?:ой|ая|ое|ие|ом|ую|их))|[^\W\d_]+\s+qu[eé])\s+(?P<rest>[\w\s'’-]+)",
    re.IGNORECASE,
)
_SUBJECTLESS_RE = compiled_later(r"^\W*[a-zà-öø-ÿа-я]")  # a sentence cut by its passage's start: "was born on …"
# a list item that opens with a label of up to three words and a colon: "- queen: 16 days"
_LABEL_ITEM_RE = compiled_later(r"^\W*([^\W\d_][\w'’-]*(?:\s[\w'’-]+){0,2})\s*[:：]\s*\S")
_PREPOSITION_RE = compiled_later(r"\s(?:of|in|at|on|for|from|de|du|des|del|di|da|do|von|im|в|на)\s", re.IGNORECASE)
# where a predicate's second clause starts: a bracket, or a conjunction before a determiner ("and its …")
# or before a subject of a few words and its verb ("and active homing would initiate")
_MODAL_VERBS = ("would", "will", "can", "could", "may", "might", "must", "should")
_MODALS = rf"(?:{'|'.join(_MODAL_VERBS)})"
_CLAUSE_JOINT_RE = compiled_later(
    r"\s*\(|(?:,|;|\s(?:and|but|while|whereas))\s+(?=(?:its|his|her|their|the|this|these|those|it|he|she|they)\b"
    rf"|(?:(?!(?:that|which|who)\b)[\w-]+\s+){{1,3}}{_MODALS}\b)"
)
_SECOND_VERB_RE = compiled_later(rf"{_COPULA_RE.pattern}|(?<!\w){_MODALS}(?!\w)")
_ASIDE_RE = compiled_later(
    r",\s+(?:[a-z]+ed|which|who|whose)\s|\s[–—]\s|;\s|\s\((?!\w+\))"
)  # what a predicate adds aside
# an English "why" question, and the reason its sentence gives: "… anisotropic, since they are restricted in
# their movement (…)" → "they are restricted in their movement"
_WHY_RE = compiled_later(r"^\W*why\b", re.IGNORECASE)
_SUCH_AS_RE = compiled_later(r"\s(?:such\s+as|including)\s+(?P<items>[^.;:()]+)")  # "unions such as ATL, NUT or X"
_AND_OTHER_RE = compiled_later(r"\s(?:and|or)\s+other\s+")  # "ATL and other unions"
# "three castes: the queen, the workers and the drones"; `\b` so that a search tries each word once, not
# each of its characters (a long word cost the square of its length)
_ENUMERATION_RE = compiled_later(r"\b(\w+):\s+")
_REASON_RE = compiled_later(
    r"\b(?:because(?:\s+of)?|since(?!\s+(?:\S+\s+){0,2}\d)|due\s+to|owing\s+to|as\s+a\s+result\s+of|in\s+order\s+to|so\s+that"
    r"|in\s+(?:response|reaction)\s+to|on\s+account\s+of|thanks\s+to|for\s+fear\s+(?:of|that)"
    r"|in\s+(?:an\s+)?(?:effort|attempt|bid)\s+to|with\s+the\s+(?:aim|goal|intention|purpose)\s+of|in\s+protest\s+(?:against|at|of))\s+",
    re.IGNORECASE,  # "Since the blockade was lifted, …", "Due to …"; not "since early 2000", "since the 1850s"
)
# a result the sentence draws from what it said before: "… complimenting Augustine's knowledge, [so] Augustine
# was evidently well educated", "… act as a bactericide [and thus] inhibit …", "…, [and as a result] other …"
_RESULT_RE = compiled_later(
    r"(?:,|;|\s+and)\s+(?:and\s+)?(?:so(?!\s+(?:that|on|forth|far|much|many)\b)|thus|therefore|hence|consequently"
    r"|as\s+a\s+(?:result|consequence)(?!\s+of))\b,?\s+",
    re.IGNORECASE,
)
# what opens a clause without being its reason: a discourse adverb ("Secondly"), a subordinate clause
# ("while the women flee in panic, Achilles prepares …")
_CLAUSE_OPENING_RE = compiled_later(
    r"^\W*(?:(?:first|second|third|fourth|finally|however|moreover|furthermore|also|additionally|similarly"
    r"|likewise|mainly|partly|largely|primarily|probably|perhaps)(?:ly)?\b,?\s+"
    r"|(?:while|when|whereas|although|though|if|after|before|once|as)\s[^,;]*,\s+)+",
    re.IGNORECASE,
)
_REPORTED_QUESTION_RE = compiled_later(
    r"^\W*what\s+(?:do|does|did|had|has|have)\s+[^?]*?\b(?P<verb>say|claim|argue|believe|think|state|report|suggest"
    r"|assert|conclude|predict|write|note|maintain|contend|hold|find|found|show|shown|said|thought|written|mean|meant|imply|signify)\b",
    re.IGNORECASE,
)
_DESCRIBED_QUESTION_RE = compiled_later(
    r"^\W*how\s+(?:is|are|was|were|do|does|did|has|have|had)\b[^?]*?\b(?P<verb>described|viewed|seen|regarded|considered|portrayed"
    r"|depicted|characteri[sz]ed|perceived|identified|describe|view|see|regard|consider|portray|depict|characteri[sz]e"
    r"|perceive|identify)\b(?:\s+(?:the|a|an|this|these|their|its|his|her)?\s*[\w'’-]+){0,3}\W*$",  # "… portray the coyote?"
    re.IGNORECASE,
)
# "described as", "seen mainly as", "portray the coyote as"
_AS_RE = compiled_later(r"(?=\b(\w+)\s+(?:[\w'’-]+\s+){0,3}?(?P<said>as)\s)", re.IGNORECASE)
# "How is the size of volumes indicated?" and "… is indicated by points": the means, with its preposition
_MEANS_QUESTION_RE = compiled_later(
    rf"^\W*how\s+(?:is|are|was|were|{_MODALS}\s+[^?]*?\bbe)\s+[^?]*?\b(?P<verb>[a-z]+)\W*$", re.IGNORECASE
)
_MEANS_RE = compiled_later(  # "indicated by", "prevented or ameliorated with", "divided into"
    r"(?=\b(\w+)\s+(?:\w+\s+){0,2}?(?P<said>by|through|using|via|with|into)\s)", re.IGNORECASE
)
# "How does the coyote bring winter into the world?" and "… into the world [by stealing light …]": any of
# its words before "by" and a gerund
_HOW_DOES_QUESTION_RE = compiled_later(rf"^\W*how\s+(?:do|does|did|{_MODALS})\s+(?P<verb>[^?]+)", re.IGNORECASE)
_BY_DOING_RE = compiled_later(r"(?=\b(\w+)\s+(?P<said>by)\s+[a-z]+ing\b)", re.IGNORECASE)
# "How did Karmal travel to Kabul?": a question for the manner or means of its verb (`_manner`)
_HOW_AUX_RE = compiled_later(rf"^\W*how\s+(?:is|are|was|were|do|does|did|has|have|had|{_MODALS})\s", re.IGNORECASE)
# a question for how the asker does something, an instruction: "How do I …", "How can we …", "How to …"
_HOW_DO_I_RE = compiled_later(rf"^\W*how\s+(?:(?:do|does|did|{_MODALS})\s+(?:i|you|we|one)|to)\s", re.IGNORECASE)
_MANNER_MARKERS = frozenset(
    {"as", "by", "through", "with", "without", "via", "using", "alongside", "in", "into", "on", "under", "like"}
    | {"due", "above", "below"}
)
# words in "-ly" that are no adverb of manner ("the royal [family]"); hand-written, as there is no tagger
_NOT_ADVERBS = frozenset({"family", "supply", "assembly", "anomaly", "monopoly", "butterfly", "homily", "italy"})
# "What did the state legislature do in 1873?", "What happened to the three towns?": what a subject did,
# or what was done to it (`_predicate`)
_DOING_QUESTION_RE = compiled_later(
    rf"^\W*what\s+(?:(?:do|does|did|{_MODALS})\s+[^?]+?\s+do\b|(?:has\s+)?happen(?:s|ed)?\s+to\s)", re.IGNORECASE
)
# "What happened in 1935?", "What happened on 30 April 1989?": the clause of that time or place (`_event`)
_EVENT_QUESTION_RE = compiled_later(
    r"^\W*what\s+(?:happened|happens|took\s+place|occurred)\s+(?P<when>(?:in|on|during|at|after|before)\s+[^?]+)",
    re.IGNORECASE,
)
# "What does X (literally) mean?", "What is the meaning of X?", "What can X be translated to?": the
# gloss the sentence gives X (`_gloss`)
_MEANING_QUESTION_RE = compiled_later(
    rf"^\W*what\s+(?:do|does|did|{_MODALS})\s+(?P<said>[^?]+?)\s+(?:literally\s+)?(?:mean|stand\s+for)\b"
    r"|^\W*what\s+(?:is|was|are|were)\s+the\s+(?:literal\s+)?(?:meaning|translation)\s+of\s+(?P<of>[^?]+)"
    rf"|^\W*what\s+(?:is|was|are|were|{_MODALS})\s+(?P<translated>[^?]+?)\s+(?:be\s+)?(?:\w+ly\s+)?"
    r"translated\s+(?:to|as|into)\b",
    re.IGNORECASE,
)
# where a sentence glosses a word: 'which means "the amber area"', '"sauros" meaning "lizard"', "literally
# 'ox-turning'", '"muria" for brine'
_GLOSS_RE = compiled_later(
    r"(?<!\w)(?:meaning|means|meant|literally(?:\s+meaning)?|(?:translates|translated)\s+(?:to|as|into)"
    r"|stands?\s+for)(?:\s+literally)?\s+|(?<=[\"”])\s+for\s+(?=[a-z])",
    re.IGNORECASE,
)
# "How did X die?", "What did X die of?", "What might X have died of?", "How was X killed?", "What was
# the cause of X's death?": the cause a sentence gives after "died of", "killed in" … (`_death`)
_DEATH_QUESTION_RE = compiled_later(
    r"^\W*how\s+(?:did|does|do)\s+(?P<how>[^?]+?)\s+die\b|^\W*how\s+(?:was|were|is|are)\s+(?P<killed>[^?]+?)\s+killed\b"
    rf"|^\W*what\s+(?:did|does|do|{_MODALS})\s+(?P<what>[^?]+?)\s+(?:have\s+)?(?:die|died)\s+(?:of|from)\b"
    r"|^\W*what\s+(?:is|was|are|were)\s+(?P<believed>[^?]+?)\s+\w+\s+to\s+have\s+died\s+(?:of|from)\b"
    r"|^\W*what\s+(?:was|were|is|are)\s+(?P<by>[^?]+?)\s+killed\s+(?:by|in|with)\b"
    r"|^\W*what\s+(?:was|is)\s+the\s+cause\s+of\s+(?P<cause>[^?]+?)\s+death\b",
    re.IGNORECASE,
)
# where a sentence gives a cause of death: "died of [pneumonia]", "was killed [in a car crash]"
_DEATH_RE = compiled_later(
    r"(?<!\w)(?:(?:died|dies|die|dying)\s+(?:\w+ly\s+)?(?P<of>of|from)|(?P<killed>killed)\s+(?P<in>in|by|with|during)"
    r"|succumbed\s+to)\s+",
    re.IGNORECASE,
)
# where a cause of death ends: at the time or age of the death ("brain cancer [on 18 May 2012 aged 49]")
_CAUSE_END_RE = compiled_later(
    r"\s(?:(?:on|in|at|during)\s+(?=\d|the\s+age\b|infancy\b|childhood\b|(?:January|February|March|April|May|June"
    r"|July|August|September|October|November|December)\b)|aged\s+\d)"
)
# "What/Who is X named after?", "After whom was X named?", "Where does X get its name from?": the namesake a
# sentence gives after "named after", "named in honour of", "takes its name from" … (`_namesake`)
_NAMESAKE_QUESTION_RE = compiled_later(
    r"^\W*(?:what|who|whom)\s+(?:is|are|was|were|(?:has|have|had)\s+been)\s+(?P<named>[^?]+?)\s+(?:\w+ly\s+)?(?:re)?named"
    r"\s+(?:after|for|in\s+hono(?:u)?r\s+of)\W*$"
    r"|^\W*(?:after|for)\s+(?:whom|who|what)\s+(?:is|are|was|were)\s+(?P<after>[^?]+?)\s+(?:\w+ly\s+)?(?:re)?named\W*$"
    r"|^\W*(?:where|what|who|whom)\s+(?:from\s+)?(?:does|did|do)\s+(?P<gets>[^?]+?)\s+(?:get|take|derive)\s+"
    r"(?:its|his|her|their)\s+name(?:\s+from)?\W*$",
    re.IGNORECASE,
)
# where a sentence gives a namesake: "named after [the surveyor Joseph Ellicott]", "takes its name from [the river]"
_NAMESAKE_RE = compiled_later(
    r"(?<!\w)(?:(?:re)?named\s+(?:\w+ly\s+)?(?:after|for|in\s+hono(?:u)?r\s+of)"
    r"|(?:takes|took|taken|derives|derived|gets|got|draws|drew)\s+(?:its|his|her|their)\s+name\s+from)\s+",
    re.IGNORECASE,
)
# a namesake that is only a pronoun: "named after [him] in 1901" ("her" alone: "named after her mother" names one)
_PRONOUN_OBJECT_RE = compiled_later(r"^(?:(?:him|it|them)\b(?!['’-])|her$)", re.IGNORECASE)
_GLOSS_ITEM = r"(?:\"[^\"]{1,60}\"|“[^”]{1,60}”|'[^']{1,60}'|‘[^’]{1,60}’)"
_GLOSS_ITEM_RE = compiled_later(_GLOSS_ITEM)
_GLOSSED_NEXT_RE = compiled_later(r",?\s*(?:\([^()]*\)\s*)?,?\s*(?:meaning|means|literally)\b", re.IGNORECASE)
_GLOSS_LIST_RE = compiled_later(rf"{_GLOSS_ITEM}(?:(?:,\s*|,?\s+(?:or|and)\s+){_GLOSS_ITEM})*")  # '"a", "b", or "c"'
_EVENT_PREPOSITION_RE = compiled_later(r"\s(?:in|on|during|at|after|before)\s+(?:the\s+)?$", re.IGNORECASE)
_INSERTED_PHRASE_RE = compiled_later(r"^(?:at|in|on|with|after|before|during|by)\s[^,;]{1,40},\s+", re.IGNORECASE)
_SUBJECT_PRONOUNS = frozenset({"he", "she", "they", "it"})
# an apposition between a subject and its verb: "Thomas Becket[, a later Archbishop of Canterbury, ]prayed"
_APPOSITION_SKIP_RE = compiled_later(r",\s+(?:a|an|the|his|her|their|its)\s[^,;()\"“”]{1,60},\s+")
_SUBJECT_END_RE = compiled_later(r"[\s\"”’')\]]*")  # between a subject and its verb: '"Billboard" ranked'
_MANNER_GAP_RE = compiled_later(r"[\s\"”’']*")  # between the question's words and the phrase: 'of "Hillbillies" on'
# where a manner phrase ends: a comma (not one of "1,400,000"), semicolon or colon, a bracket of more than
# a short name ("(BRI)"), a new clause ("and was broadcast", "until", "when", "[in] which"), or the full stop
_MANNER_END_RE = compiled_later(
    rf"\s*(?:,(?!\d)|[;:—]|\s–\s|\((?![^()]{{1,10}}\))|\s(?:and|but|or)\s+(?=(?:{'|'.join(sorted(AUXILIARIES))}|{_MODALS}|[a-z]+ed)\b)"
    r"|\s(?:(?:just|shortly|soon|long|right)\s+|(?:in|of|to|for|with|by|on|at|from|through)\s+(?=wh))?"
    r"(?:when|whenever|while|whereas|which|whom|who|until|before|after|because|although|though)\b|\.\s*$)"
)
_CAUSE_QUESTION_RE = compiled_later(
    rf"^\W*what\s+(?:(?:{_MODALS}|do|does|did)\s+(?:cause|lead\s+to)|causes|caused|leads\s+to|led\s+to"
    r"|(?:is|was)\s+the\s+cause\s+of)\s",
    re.I,
)
_CAUSE_RE = compiled_later(
    r"\b(?:because\s+of|due\s+to|owing\s+to|(?:as\s+a|in)\s+(?:result|consequence)\s+of|consequent\s+(?:to|on|upon)"
    r"|(?:results?|resulted|stems?)\s+from|(?:caused|brought\s+about|brought\s+on|triggered)\s+by)\s+"
)
_REASON_END_RE = compiled_later(
    r"\s*(?:\((?![^()]{1,10}\))|[;:]|,\s+(?:whereas|while|but|which|and|it|he|she|they|we|there)\b|\.\s*$"
    r"|,\s+(?:often|usually|sometimes|always|generally|typically|frequently|mostly|normally|occasionally|rarely"
    r"|perhaps|probably|possibly)\b)"  # an adverb's aside: "to be reborn, often many times, in order to …"
)
# a description set beside a name: "Ira Wade, a noted expert on Voltaire, …" (its comma, then up to the next)
_APPOSITION_RE = compiled_later(r"(?:,\s+|\s\()(?:(?:a|an|the)\s+)?")  # ", a noted expert", " (the largest city"
_CLAUSE_AND_RE = compiled_later(r"\s(?:and|but|or|so)\s")  # where a second clause may start
# a regular past form used as a verb, before a preposition, an article or a number: "The airport [opened in]
# 2018", not the adjective of "[increased taxes] and increased centralisation"
_PAST_RE = compiled_later(r"\s[a-z]{2,}ed\s+(?:in|on|at|to|by|for|with|from|into|the|a|an|his|her|their|its|\d)\b")
_FINITE_VERB_RE = compiled_later(rf"{_SECOND_VERB_RE.pattern}|(?<!\w)(?:has|have|had|does|do|did)(?!\w)")
_DESCRIPTION_START_RE = compiled_later(r",\s+(?:a|an|the)\s")  # "Kit Carson[, the] mountain man …"
_APPOSITIVE_END_RE = compiled_later(r"\s*[,;:()]|\.\s*$")
# a number that is part of the one before: "44% oils, of which [62%] is …", "55,200 …, only [5,500] of them"
_PART_BEFORE = frozenset({"of which", "of whom", "of these", "of those"})
_PART_AFTER = _PART_BEFORE | {"of them"}
_NUMBER_JOINTS = frozenset({"and", "or", "but", "while", "whereas"})  # "9,872 being paved [and] 9833 km unpaved"
# "What kind of legislature …?": the noun whose kind the answer names (`_Question.sort`)
_KIND_OF_RE = compiled_later(r"\b(?:what|which)\s+(?:kinds?|types?|sorts?|forms?)\s+of\s+(\w+)", re.IGNORECASE)
# "What thrives in …?": a question asking for the subject of its verb (`_subject`)
_SUBJECT_QUESTION_RE = compiled_later(
    r"^\W*(?:what|(?P<who>who))\s+(?:(?P<be>is|are|was|were|(?:has|have|had)\s+been)\s+|(?:has|have|had)\s+"
    rf"|(?<=who\s)(?:{_MODALS})\s+(?:not\s+)?)?(?P<verb>[a-z]+)\s+(?P<rest>[^?]+)",
    re.IGNORECASE,
)
_SUBJECT_START_RE = compiled_later(
    r"[;:()\[\]\"“”]|\s[-–—]\s|\b(?:because|when|while|if|although|whereas)\s", re.IGNORECASE
)
_QUOTE_BETWEEN_RE = compiled_later(r"\s*[\"“]")  # a noun and the quoted name it gives: 'the magazine "Anime Insider"'
_QUOTED_WORD_RE = compiled_later(r"[\"“]\w[\w' -]{0,20}[\"”]")  # '"x"', '"Lex"': no clause break
_APPOSITIVE_START_RE = compiled_later(r"\s*(?:a|an|the|then|now|formerly|later|once|of)\s", re.IGNORECASE)
_ASIDE_START_RE = compiled_later(r"\s*(?:which|who|whose|where|[a-z]+ing|[a-z]+ed)\b")
# "found that [X] VERB", "say that [X]" (not "the instruction that …": `_subject` asks for a participle)
_THAT_RE = compiled_later(r"\b(\w+)\s+that\s(?P<said>)", re.IGNORECASE)  # `\b`: as `_ENUMERATION_RE`
# "What did the cabinet agree to do?" and "… agreeing to [go to the country as soon as possible]"
_TO_DO_QUESTION_RE = compiled_later(
    rf"^\W*what\s+(?:do|does|did|has|have|had|{_MODALS})\s+[^?]*?\b(?P<verb>[\w'’-]+)\s+to\s+do\b",  # or its object
    re.IGNORECASE,
)
_TO_RE = compiled_later(r"(?=\b(\w+)\s+to\s+(?P<said>)\w)", re.IGNORECASE)  # "urged Darwin to [publish]"
# questions answered by what follows their verb and a marker in the sentence (`_said_after_verb`), in order
_CLAUSE_AFTER_VERB = (
    (_DESCRIBED_QUESTION_RE, _AS_RE),
    (_MEANS_QUESTION_RE, _MEANS_RE),
    (_HOW_DOES_QUESTION_RE, _BY_DOING_RE),
    (_TO_DO_QUESTION_RE, _TO_RE),
    (_REPORTED_QUESTION_RE, _THAT_RE),
)
_RELATIVE_END_RE = compiled_later(r"\b(?:which|who|that)$", re.IGNORECASE)
_OPENING_CONJUNCTIONS = frozenset({"and", "but", "yet", "so", "thus", "hence", "then"})
# the helping verbs and adverbs between a subject and its verb: "may have [caused]", "was then [unveiled]"
_HELPING_END_RE = compiled_later(
    rf"(?:\s+(?:{'|'.join(sorted(set(_MODAL_VERBS) | AUXILIARIES))}|also|often|still|only|then|later|first|not|\w+ly))*\s*$",
    re.IGNORECASE,
)
_APPOSED_NAME_RE = compiled_later(r"(\s+(?:of|for|at)\s+[^,;()]{1,40})?,\s*")  # "Controller of the channel, "
_YEAR_QUESTION_RE = compiled_later(r"\b(?:what|which)\s+year\b", re.IGNORECASE)  # "In which year …?", "What year …?"
_FOUR_DIGIT_YEAR_RE = compiled_later(rf"\b{YEAR}\b")  # the date spans' own year
_HOW_IS_RE = compiled_later(r"^\W*how\s+(?:is|are|was|were)\s+(?P<subject>[^?]+?)\s*[?？]*\s*$", re.IGNORECASE)
_SUBORDINATE_OPENING_RE = compiled_later(
    r"^\W*(?:because|although|though|since|while|whereas|if|when|once|unless|as)\s", re.IGNORECASE
)  # a sentence opening with a subordinate clause, which its first comma ends
_CONDITION_RE = compiled_later(r"\b(?:when|whenever|if|once|unless|until)\s+[^,;:()\"“”]+", re.IGNORECASE)
_SUBJECT_PARTS_RE = compiled_later(r",(?!\s*(?:Jr|Sr)\b)")  # the commas of a subject, not of "Harry Shum, Jr."
# the small words inside a name: "Leonardo da Vinci", "Sa`d ibn Abi Waqqas"
_PARTICLES = "ibn|bin|ben|al|el|da|de|di|del|della|do|dos|das|du|van|von|der|la|le"
# a title before a name ending a subject: "Italian composer [Ottorino Respighi]" (not "Sa`d ibn Abi Waqqas")
_TITLED_NAME_RE = compiled_later(
    rf"\b(?!(?:the|a|an|and|or|{_PARTICLES})\s)[a-z]+\s+"
    rf"([A-Z][\w'’.-]*(?:\s+(?:(?:{_PARTICLES})\s+)?[A-Z][\w'’.-]*)*)$"
)
_TITLE_RE = compiled_later(r"^[a-z]+\s+(?=[A-Z])")  # "actor [Harry Shum]", "critic [Dave Marsh]"
# a quotation in title case: "The Choate Marching Song", "Ed Wood" (small words may stay lower case)
_TITLE_CASE_RE = compiled_later(
    r"[A-Z0-9][\w'’.-]*(?:\s+(?:(?:of|the|a|an|and|in|on|at|to|for|with|by)\s+)*[A-Z0-9][\w'’.-]*)*"
)
_QUOTED_END_RE = compiled_later(r"[\"“„«]([^\"“”„«»]{2,80})[\"”»]$")
# "What is the name of Buffalo State College's student newspaper?": what a sentence describes, in apposition
_NAME_OF_RE = compiled_later(r"^\W*what\s+(?:is|was)\s+the\s+name\s+of\s+(?P<subject>[^?]+?)\s*\?*\s*$", re.IGNORECASE)
# an English question for what something is called, and the words that give a name in a sentence
_NAMING_QUESTION_RE = compiled_later(
    r"\b(?:what|which)\b.*\b(?:names?|called|known as|referred to as|nicknamed|(?:another|other|an?|the) (?:term|word))\b"
    r"|^\W*how\s+(?:is|are|was|were)\b.*\b(?:translated|called|known|abbreviated|rendered)\W*$"
    r"|^\W*what\s+(?:do|does|did)\b.*\bcall\b",  # "What does Wollstonecraft call the middle class?"
    re.IGNORECASE,
)
_NAMING_WORDS = frozenset(
    {"called", "calls", "call", "named", "termed", "dubbed", "nicknamed", "titled", "entitled", "renamed"}
)
_NAMING_AS_WORDS = frozenset({"known", "referred", "regarded", "described", "translated", "rendered"})  # + "as"
_LEAD_RE = compiled_later(r"^\W*(\w+)\s")  # a question's first word
_STRANDED_RE = compiled_later(r"\s(\w+)\W*$")  # its last
_EST_CE_QUE_RE = compiled_later(r"^\W*est-ce\s+qu(?:e\b|')", re.IGNORECASE)
_COUNTED_RE = compiled_later(r"\W*(?:(?:of|de|di|du|des|del|della|do|da)\s+)?(\w+)")  # what a number counts
# what a count named before its number counts: "the number of [visitors]", "[passenger] numbers"
_COUNT_NAMED_RE = compiled_later(
    r"\b(?:number|total|count)\s+of\s+(?:the\s+)?(?P<of>\w+)|\b(?P<named>\w+)\s+(?:numbers|counts|totals|figures)\b",
    re.IGNORECASE,
)
_AGE_QUESTION_RE = compiled_later(r"\bhow\s+old\b|\b(?:what|which)\s+age\b", re.IGNORECASE)
# a question for a speed: "How fast do bees fly?", "At what speed …?", "How quickly …?"
_SPEED_QUESTION_RE = compiled_later(
    r"\bhow\s+(?:fast|quickly)\b|\b(?:what|which)\s+(?:speed|velocity|pace)\b", re.IGNORECASE
)
# an amount that is a speed or another rate: "25 kilometres per hour", "300 km/h", "60 mph", "30 knots",
# "230 times a second"
_RATE_RE = compiled_later(
    r"\b(?:a|an|per|each)\s+(?:second|minute|hour|day|week|month|year)\b|\w/(?:h|hr|s|sec|min)\b"
    r"|\b(?:mph|kph|knots?|rpm)\b",
    re.IGNORECASE,
)
# a measure named right before its amount: "a rate of", "a population of about", "its height is", "aged"
_MEASURED_RE = compiled_later(
    r"\b(\w+)(?:\s+(?:of|is|was|at)|(?<=\baged))(?:\s+(?:about|around|some|nearly|almost|over|under|roughly|approximately|up\s+to))?\s*$",
    re.IGNORECASE,
)
MAX_COUNT_REACH = 8  # words before a number where the count it gives may be named
_PARENTHESIS_RE = compiled_later(r"\([^)]*\)")
_FULL_STOP_RE = compiled_later(r"(?<=[^\W\d_]{3})\.$")  # the sentence's, not "U.S."'s
MAX_SENTENCE_WORDS = 200  # words of a sentence read at once (the default passage size)
MAX_QUESTION_WORDS = 1000  # words of a question answered from: a log piped in by mistake took a minute a line
MAX_SUBJECT_EXTRA = 1  # terms a defining sentence's subject may add to the question's ("request" timeout)
MAX_NAMED_SUBJECT_WORDS = 12  # words of a sentence's subject given as the answer ("X is a major cause of …")
MAX_GAP_LEAD = 2  # lowercase words between a gap and a name it reaches ("their mutual friend [Joseph Hooker]")
CODE_SYMBOLS = 3  # braces, assignments, paths and arrows in a sentence that is code (`_code_like`)
# a reply and nothing else, in the analyzer's languages
_BARE_REPLY_RE = compiled_later(
    r"\W*(?:yes|no|ja|nein|nee|oui|non|s[ií]|sim|n[aã]o|да|нет|是|不是|はい|いいえ)\W*", re.I
)
# a sentence that only points elsewhere ("See more details in fs.watch().", "For details, see …", "Refer to
# the manual."): English documentation's cross-references say nothing themselves
_POINTER_RE = compiled_later(
    r"^\s*(?:(?:see|refer\s+to)\b|for\s+(?:more|further)\s+(?:details|information)\b[^.]{0,40}?\bsee\b)", re.I
)
# "How does X work?", "How do snapshots work?": its last word is the question's form, not a term to match
# ("… shared the Nobel Prize for the work")
_HOW_WORKS_RE = compiled_later(
    rf"^\W*how\s+(?:do|does|did|{_MODALS})\s+(?:.+\s)?(?!(?:his|her|its|their|my|your|our|the|an?|this|that|these|those)\s)"
    r"\w+\s+work(?:s|ed)?\W*$",  # not "How did Tesla finance his work?": a noun after a determiner
    re.I,
)
_LAST_WORK_RE = compiled_later(r"\bwork(?:s|ed)?(?=\W*$)", re.I)
_ASKS_RE = compiled_later(r"[?？]\W*$")  # a sentence ending with a question mark (quotes or brackets after it)
# braces, paths, arrows, an empty call ended, an assignment of no number ("p = 0.003" is a statistic)
_CODE_MARKS_RE = compiled_later(r"[{}]|::|->|\(\);|(?<![<>!=])=(?!=)\s*(?![\s\d.+-])")
MAX_TITLE_WORDS = 10  # words of a title-case heading line (`_heading`)
_STOPS = (".", "!", "?", ":", ";", "…", "。")
MAX_HEADING_WORDS = 4  # words of a section heading run into a passage's text ("Vital statistics.")
MAX_DEFINED_WORDS = 12  # words of what a definition question asks about ("What is the varroa mite?")
MAX_DESCRIPTION_WORDS = 16  # words of a description set in apposition after what a question asks about
MAX_KIND_WORDS = 4  # words of the kind a "such as" list names ("trade unions such as ATL, NUT or NASUWT")
# an article before the name a sentence opens with, in French, Spanish, Italian, Portuguese and German (an
# English sentence opening with "The" opens with a common noun as often: "The court declared …")
_OPENING_ARTICLE_RE = compiled_later(
    r"\W*(?i:le|la|les|el|los|las|lo|il|gli|i|a|o|os|as|der|die|das|den|dem|des|ein|eine|une?|una|uno)\s+"
    r"(?=[A-ZÀ-ÖØ-ÞА-Я])"
)
# a particle and the capitalised words after it, inside a person's name that opens a sentence
_NAME_PARTICLE_RE = compiled_later(rf"\s+(?:{_PARTICLES})\s+[A-ZÀ-ÖØ-Þ][\w'’-]*")
# a quotation, or a code span of Markdown ("`/var/log/foobar.log`": a path, a command, an option)
# a quotation (one character too, or the marks of '"Y"("s")' pair up wrongly), or a Markdown code span
_QUOTED_RE = compiled_later(r"[\"“„«]([^\"“”„«»]{1,80})[\"”»]|`([^`]{1,80})`")
# English words that end like adverbs, past participles and gerunds rarely make a whole answer
_VERBISH_RE = compiled_later(r"^[a-z][a-z-]*(?:ly|ed|ing)$")
# a chunk may join the next one across a single short function word ("unit of flux", "Lane and Vail")
MAX_JOINER_CHARS = 3

RANK_BONUS = 0.05  # the sentence's passage: 1st + 0.05, 2nd + 0.025 …
POSITION_BONUS = 0.03  # the sentence's place in its passage: 1st + 0.03, 2nd + 0.015 …
TYPE_BONUS = 0.1  # a sentence holding the kind of phrase the question asks for
DEFINES_BONUS = 0.1  # a sentence that defines what a "What is X?" question asks ("X is …"), over one naming X
REASON_BONUS = 0.1  # a sentence that gives a reason ("…, so the honey does not ferment"), for a "why" question
NAMESAKE_BONUS = 0.4  # a sentence that says what something is "named after", for a question asking that
COMPARED_BONUS = 0.2  # a sentence that answers a comparison question ("… is [less allergenic] than latex")
OTHER_YEAR_COST = 0.3  # a sentence of other years than the question names ("… in 2008" for "How many … in 2010?")
SPAN_WEIGHT = 0.5  # how much a span's own score adds to its sentence's
LENGTH_COST = -0.02  # per word of a span beyond the first (CJK: per character beyond the second)
BREAK_DISTANCE = 2  # punctuation between a question word and a span counts as this many words
SENTENCES_TRIED = 1  # the best sentences whose spans are compared
FOCUS_BONUS = 0.3  # a number right before what a "how many" question counts (sentence and span)
OWN_BONUS = 0.3  # the question's words a number's own stretch holds, among several ("[62%] is oleic acid")
INSIDE_DISTANCE = 0.5  # a question word inside a span counts as this far from it ("Brisbane Lions" for "the Lions")
DISTANCE_SCALE = 0.5  # a question word d words away counts weight / (1 + DISTANCE_SCALE · d)
OPENS_BONUS = 0.0  # a span right after a function word, a phrase break or the sentence start
CLOSES_BONUS = 0.1  # a span right before a phrase break or the sentence end
AGENT_BONUS = 0.15  # the agent of a passive ("limited by", "escrita por"): the doer a subject question asks for
AGENT_SENTENCE_BONUS = 0.2  # a sentence naming the agent of the question's verb, for a "who did" question
PLACE_BONUS = 0.15  # a span right after a preposition of place ("in Frankfurt am Main"), for a "where" question
RELATIVE_PLACE_BONUS = 0.3  # a span right before the relative word for a place ("Moscow, where"), for "where"
LIST_BONUS = 0.1  # a list of names, for a question asking for several ("which countries"); 0.05-0.2 alike
QUOTED_BONUS = 0.1  # a span that is the whole of a quotation
TITLED_NAME_BONUS = 0.2  # a name right after the noun of a "which N" question ("critic Dave Marsh")
SORT_BONUS = 0.3  # a span right before the noun of a "what kind of N" question ("unicameral legislature")
LEAD_BONUS = 0.15  # a span right after the function word the question opens with ("By how many …?" → "by 5")
NAMING_BONUS = 0.2  # a span after "called", "known as" …, for a question asking what something is called
ENCLOSED_BONUS = 0.15  # more for a span between the question's words ("provides [X] for cheerleading squads")
GAP_SENTENCE_BONUS = 0.1  # a sentence with a place where an object question's answer stands (`_gaps`)
GAP_BONUS = 0.15  # a span where an object question's answer stands: after the question's words, in order
# a span right after the verb a non-English "what" question asks the object of (0.15 too little on dev-3/4:
# a chunk holding the question's own name, "Escreveu Os Lusíadas", outscored the object)
OBJECT_BONUS = 0.3
CAPITAL_BONUS = 0.05  # a span holding a capitalised word that does not start the sentence
BETWEEN_COST = 0.1  # a span right between two question words, all of them on one side of the answer (0.05-0.15 tried)
TRANSITIVE_COST = 0.1  # an English span whose last word an article follows ("uses the", "considered a")
VERBISH_COST = 0.05  # a span (English) that starts or ends with a word shaped like an adverb or a verb form
WRONG_SIDE = 0.7  # a question word on the side of a span English word order does not expect counts this much
CONTEXT_SHARE = 0.25  # a term only the title or earlier sentences of the passage hold ("It rises 5,895 metres")
TYPED_MARGIN = 0.2  # a typed question answers from the best sentence holding its kind when within this of the best

MAX_GAP_WORDS = 5  # words of an object between the question's verb and its words after it ("provides X for")
MAX_AGENT_REACH = 4  # words from a German or Dutch agent to its participle ("von den Römern im Jahr 50 gegründet")
MAX_POSSESSOR_WORDS = 5  # words of a name owning an agent ("by New York Law School's Professor …")
MAX_AGENT_LEAD = 2  # stopwords between the marker and the agent ("da suo figlio Tito", "por la dinastía")

# where a noun phrase after "by" ends: a preposition other than "of", or "and" before a verb
_AGENT_END_RE = compiled_later(
    r"\s(?:at|in|on|for|from|to|with|during|after|before|since|until|under|over|into|through|as)\s"
    r"|\s(?:and|but|or)\s+(?:is|are|was|were|has|have|had|can|could|will|would|may|might)\b",
    re.IGNORECASE,
)
MAX_LIST_ITEM_WORDS = 3  # words of each item of a list a span is extended to (`_list_end`)
# the rest of a list after its first item: ", goats, and camel", ", suffering and death"
_LIST_RE = compiled_later(
    rf"(?:,\s+(?!and\b|or\b)[\w'’-]+(?:\s+(?!and\b|or\b)[\w'’-]+){{0,{MAX_LIST_ITEM_WORDS - 1}}})+,?\s+(?:and|or)\s+"
)
_LIST_ITEM_RE = compiled_later(r"[ \t]*([\w'’-]+)")  # the last item's words, one by one
_OPENING_PHRASE_RE = compiled_later(  # an opening phrase before the question word: "In a steam turbine, what …"
    r"^\W*(?:according\s+to\s+)?[^,?]{1,60},\s*(?=(?:what|which|who|whom|whose|where|when|how|why)\b)", re.I
)
# a phrase closing a clause answer, which the question may say itself: "… [by 2016]"
_CLOSING_PHRASE_RE = compiled_later(r"\s+(?:by|in|on|at|during|since|until|for)\s+((?:[\w'’-]+\s+){0,2}[\w'’-]+)$")
# places named by a preposition a chunk would take for a content word: "[outside] the chloroplast"
_LOCATIVES = PLACE_PREPOSITIONS
_PLACE_MARKERS = _LOCATIVES | {"in", "on", "at", "into", "under"}  # "College [in Birmingham]": no manner
_NEGATION_RE = compiled_later(r"\b(?:not|never)\b|n't\b", re.IGNORECASE)  # "are not classified as", "don't"
# a chunk never joins across an English article or auxiliary verb ("the crew noticed a strange odor":
# "noticed a strange" is no phrase). English only: in Romance languages, where adjectives follow the
# noun, the same rule cut "notó un olor extraño" down to the verb "notó"
_ARTICLES = ARTICLES
_POSSESSIVES = POSSESSIVES
_LOWER_ARTICLE_RE = compiled_later(r"^(?:the|a|an)\s+(?=\S)")  # "the center of the city", not "The Hague"
# English prepositions the Snowball list lacks
_EXTRA_PREPOSITIONS = frozenset(
    {"via", "per", "upon", "within", "without", "among", "toward", "towards", "across", "despite", "unlike"}
    | {"onto", "amid", "beyond", "throughout", "along", "around", "behind", "beneath", "besides", "near"}
)
# what opens a phrase set between a subject and its verb: "Marpeck, for example, wrote", "Whitlam, in
# contrast to earlier leaders, cut", "The ACLU, however, defended"
_INSERTED_OPENINGS = (
    PREPOSITIONS
    | _EXTRA_PREPOSITIONS
    | {"however", "too", "though", "therefore", "meanwhile", "moreover", "indeed", "also", "instead"}
)
_NOT_JOINERS = {"en": _ARTICLES | AUXILIARIES}
# the forms of the English auxiliaries, each to one of them: "Each ecoregion has …" answers "What does each
# ecoregion have?"
_VERB_FORMS = {form: forms[0] for forms in (("have", "has", "had"), ("do", "does", "did")) for form in forms}
# function words the Snowball English list lacks (modal verbs, "also", prepositions): never an answer on
# their own, and a phrase ends at them ("ran along [the river] towards Bath"), or joins across a short one
_FUNCTION_WORDS = {
    "en": frozenset({"may", "might", "must", "could", "would", "shall", "also", "due"}) | _EXTRA_PREPOSITIONS
}


def _unmarked(line: str) -> str:
    """A line without its Markdown marks: a heading's or a list item's, bold's."""
    return _BOLD_RE.sub(lambda bold: bold.group(1) or bold.group(2), _LINE_MARK_RE.sub("", line))


def first_words(text: str, limit: int) -> str:
    """`text` up to its `limit`-th word: the generator's work grows with the question (a 1 MB line took
    40 s), and no question asks in more than a few dozen words."""
    words = text.split(maxsplit=limit)
    return " ".join(words[:limit]) if len(words) > limit else text


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage, markup and line breaks tidied; in code, a definition's line and its
    docstring's lines apart from each other and from the code after them."""
    if '"""' in text or "'''" in text or _DEFINITION_LINE_RE.search(text):
        text = _DOCSTRING_LINE_RE.sub(lambda line: f"\n\n{line.group(1) or line.group(2)}\n\n", text)
        text = _DEFINITION_LINE_RE.sub(lambda line: f"\n\n{line.group()}\n\n", text)
    sentences: list[str] = []
    for piece in _SENTENCE_END_RE.split(text):
        if not piece:
            continue
        sentence = " ".join(_unmarked(line) for line in piece.strip().splitlines())
        sentences.extend(_read_at_once(sentence.split()))
    return sentences


def _read_at_once(words: list[str]) -> Iterator[str]:
    """A sentence's words in the pieces read at once. One longer than a passage (a document kept whole,
    text without full stops) in MAX_SENTENCE_WORDS words: its spans are scored against each question
    word's positions, so its time grows with the square of its length. A word longer than MAX_WORD_CHARS
    (a data line, base64: no phrase) in pieces of its own of that many characters, so that no answer
    copied from it, the whole sentence where it has no phrase, is longer."""
    group: list[str] = []
    for word in words:
        long = len(word) > MAX_WORD_CHARS
        if group and (long or len(group) == MAX_SENTENCE_WORDS):
            yield " ".join(group)
            group = []
        if long:
            yield from (word[at : at + MAX_WORD_CHARS] for at in range(0, len(word), MAX_WORD_CHARS))
        else:
            group.append(word)
    if group:
        yield " ".join(group)


class _Scored(NamedTuple):
    """A sentence of the sources, scored."""

    score: float
    number: int  # its passage's, 1-based
    sentence: str
    spans: list[tuple[int, int]]  # the typed phrases it holds
    reach: float  # the score with the terms it inherits counted fully
    antecedent: str | None  # the name opening the nearest earlier sentence of its passage
    edge: bool = False  # its passage's first or last: maybe cut by the passage's edge
    position: int = 0  # its place among its passage's sentences


class _Question(NamedTuple):
    """What `generate` reads from a question once, for scoring sentences and spans."""

    text: str
    terms: set[str]
    weights: dict[str, float]  # each term's idf
    total: float  # the weights' sum
    kind: str | None  # question_kind
    sides: dict[str, int]  # answer_sides / in_situ_sides
    focus: set[str]  # what a "how many" question counts
    who_did: bool  # a "who did it" question: the doer is the answer ("Who wrote …", "Qui a écrit …")
    where: bool  # a question for a place
    gap: GapQuestion | None  # an English object question's words after its auxiliary
    noun: set[str]  # the terms of the noun of a "which / what N" question ("Which critic …?")
    verbs: set[str]  # the terms of its main clause, whose verb a passive's agent must follow (`main_clause`)
    lead: frozenset[str]  # the preposition it opens with, lowercased ("By how many points …?"), or nothing
    naming: bool  # it asks what something is called ("What is the name of …", "… also called?")
    sort: set[str]  # the terms of the noun of a "what kind of N" question, which its answer modifies
    around: tuple[str, str]  # the text before and after a Chinese or Japanese question word (`in_situ_context`)
    acting: set[str]  # the terms of the verb a non-English "what" question asks the object of (`_object_verb`)
    head: str  # the last character of the noun a Chinese or Japanese "which N" asks for ("哪个城市": "市")


class _Stretch(NamedTuple):
    """What one of several numbers in a sentence says something of (`ExtractiveGenerator._owned`)."""

    terms: set[str]  # the question's terms in its stretch of the sentence, and in its whole's
    whole: tuple[int, int] | None  # the number it is a part of ("of which 62%"): its start and end character


@dataclass
class _Word:
    start: int
    end: int
    text: str
    cjk: bool
    asked: bool = False  # one of the question's terms
    stop: bool = False  # a stopword of the analyzer's language
    clause: int = 0  # how many phrase breaks come before it in the sentence
    aside: bool = False  # inside a parenthesis: "the National Football League (NFL)"


@runtime_checkable
class TermWeights(Protocol):
    """A scorer that knows how telling a term is (BM25's idf)."""

    def term_weight(self, term: str) -> float | None: ...


class ExtractiveGenerator:
    """Picks the best answering span from the sources and cites it."""

    name = "extractive"
    model: str | None = None

    def __init__(
        self,
        analyzer: Analyzer | None = None,
        term_weight: Callable[[str], float] | None = None,
        style: str = "short",
    ) -> None:
        self.analyzer = analyzer or Analyzer()
        self.style = style  # --answer-style: short (a span), sentence, long (the sentence and its neighbours)
        self.term_weight = term_weight or (lambda term: 1.0)
        language = self.analyzer.settings.language
        self.stopwords = stopword_set(language)
        self.function_words = _FUNCTION_WORDS.get(language, frozenset())
        self.not_joiners = _NOT_JOINERS.get(language, frozenset())
        self.markers = Markers.for_language(language)
        self.elides = language in _ELIDING_LANGUAGES
        self._terms_cache: dict[str, tuple[str, ...]] = {}
        self._speed_terms = frozenset(self.analyzer("speed"))

    def _keywords_only(self, question: str) -> bool:
        """Whether `question` is a keyword search ("varroa treatment", "queen eggs"): it asks nothing
        (`is_question`) and is not written as a phrase either (no stopword: "the new platform is called"
        is a statement to complete). Such a search has no kind of answer to cut a span by."""
        return not is_question(question) and not any(w in self.stopwords for w in _WORD_RE.findall(question.lower()))

    @classmethod
    def for_index(cls, index: Index | None, style: str = "short") -> ExtractiveGenerator:
        """Weights question terms by the index's BM25 idf, so rare words count most. The scorer is asked
        for on each term, so the weights are those of the build the index is on (the one the question
        was just retrieved from): a scorer kept from an earlier build holds idfs of another vocabulary."""
        if index is None:
            return cls(style=style)

        def weight(term: str) -> float:
            scorer = index.retriever("bm25")
            # a bm25 that does not weigh terms: all count the same
            value = scorer.term_weight(term) if isinstance(scorer, TermWeights) else None
            return max(value, 0.01) if value is not None else 1.0

        return cls(index.analyzer, weight, style)

    def _terms(self, word: str) -> tuple[str, ...]:
        terms = self._terms_cache.get(word)
        if terms is None:
            terms = self._terms_cache[word] = tuple(self._passage_terms(word))
        return terms

    def _characters_in(self, text: str, characters: set[str]) -> set[str]:
        """The question's one-character CJK terms that `text` holds. A passage is read as a question is,
        in bigrams alone, which never equal a question of one character; the index counts each character
        of a CJK run as well (`Analyzer.document_terms`), and found the passage by it."""
        return characters.intersection(self.analyzer.document_terms(text)) if characters else set()

    def _passage_terms(self, text: str) -> list[str]:
        """The terms of a passage's text, its verbs also as their other forms where the stemmer keeps
        them apart (`Markers.verb_terms`: "gegründet" answers "Wer gründete …?", "written" "Who wrote …?")."""
        return self.analyzer(text) + self.markers.verb_terms(text, self.analyzer)

    def question_terms(self, question: str) -> set[str]:
        """The question's content terms: its question phrases ("how many", "what year", "cuántos" …)
        are not content; a question of nothing else keeps all its terms."""
        content = question
        for pattern in (*(p for _, p in QUESTION_KIND_RES), UNTYPED_RE):
            content = pattern.sub(" ", content)
        # the measure of "how long", "wie lang", "cuánto mide" is a content word too: "It is 2,850 km long"
        phrases = [m.group().split() for m in MEASURE_QUESTION_RE.finditer(question)]
        measures = " ".join(words[-1] for words in phrases if len(words) > 1)  # not "what" of "what height"
        tail = copula_tail(question)  # "作者は誰[ですか]": the question's form, no content
        content = content.replace(tail, " ") if tail else content
        if _HOW_WORKS_RE.match(question):  # "How does the waggle dance work?": "work" is its form
            content = _LAST_WORK_RE.sub(" ", content)
        return set(self.analyzer(f"{content} {measures}")) or set(self.analyzer(question))

    def focus(self, question: str, kind: str | None) -> set[str]:
        """What a "how many" question counts: the terms of the word after its question phrase; an age
        for "how old" and "at what age" ("at the age of [62]", "aged [74]", "[22] years old"); a speed
        for "how fast" ("[25 kilometres per hour]", "a speed of [300 km/h]")."""
        if kind == "number" and _AGE_QUESTION_RE.search(question):
            return set(self.analyzer("age aged old"))
        if kind == "number" and _SPEED_QUESTION_RE.search(question):  # "a speed of [300 km/h]", a rate
            return set(self.analyzer("speed velocity pace"))
        found = dict(QUESTION_KIND_RES)["number"].search(question) if kind == "number" else None
        following = re.match(r"\W*(\w+)", question[found.end() :]) if found else None
        return set(self.analyzer(following.group(1))) if following else set()

    def generate(self, question: str, sources: Sequence[Hit]) -> Generation:
        # decomposed text (macOS writes "c" + a combining cedilla) is read composed, as the patterns of
        # words, names and places are written: a span of it was cut at the mark ("Besanc")
        question = composed(first_words(question, MAX_QUESTION_WORDS))
        sources = [_composed(hit) for hit in sources]
        terms = self.question_terms(question)
        if not terms or not sources:
            return Generation("", [], len(sources))
        # a phrase before the question word is terms, no part of its form: "According to Socrates, what
        # inspires poetry?", "In a steam turbine, what are rotors mounted on?"
        question = _OPENING_PHRASE_RE.sub("", question)
        weights = {t: self.term_weight(t) for t in terms}
        total = math.fsum(weights.values())  # exactly rounded: the same whatever order a set iterates in
        kind = question_kind(question)
        # "Where is connect defined?": the line defining that very name, not a passage sharing its stems
        defining = defining_line(
            defined_where(question, lambda w: bool(self.analyzer(w))), sources, named_owners(question)
        )
        if defining is not None:
            return Generation(f"{defining[0]} [{defining[1]}]", [defining[1]], len(sources))
        if kind is None:  # "What does raise_for_status do?": what its author documented it to do
            names = named_identifiers(question)
            if len(terms) == 1:  # "What does track do?": a plain word, when it is all the question asks about
                names += [n for n in plain_names(question, lambda w: set(self.analyzer(w)) == terms) if n not in names]
            documentation = documented(names, sources, named_owners(question))
            if documentation is not None:
                sentence, number = documentation
                return Generation(f"{sentence} [{number}]", [number], len(sources))
        sides = in_situ_sides(question, self.analyzer) if _CJK_RE.search(question) else {}
        if not sides and self.analyzer.settings.language == "en":
            sides = answer_sides(question, self.analyzer)
        focus = self.focus(question, kind)
        who_did = kind == "name" and bool(WHO_DID_RE.search(question))
        who_did = who_did or (kind in (None, "name") and self._which_did(question))
        gap = gap_question(question) if self.analyzer.settings.language == "en" else None
        where = bool(WHERE_RE.search(question))
        if where and not sides and self.analyzer.settings.language in _PLACE_LAST_LANGUAGES:
            sides = dict.fromkeys(terms, 1)  # "Où se jette la Loire ?" → "… se jette dans [l'océan Atlantique]"
        which = _WHICH_RE.match(question)
        noun = self._wh_noun(which.group("rest")) if which else set()
        verbs = terms.intersection(self.analyzer(main_clause(question)))
        lead = self._lead(question)
        naming = self.analyzer.settings.language == "en" and bool(_NAMING_QUESTION_RE.search(question))
        sort = _KIND_OF_RE.search(question)
        sort_noun = set(self._terms(sort.group(1))) if sort and self.analyzer.settings.language == "en" else set()
        defined = kind is None and bool(DEFINITION_RE.search(question))  # "What is X?": "X is …" defines it
        why_terms = self.question_terms(question) if _WHY_RE.match(question) else set()  # once, not per sentence
        english = self.analyzer.settings.language == "en"
        why = kind is None and english and bool(_WHY_RE.match(question))
        namesake = _NAMESAKE_QUESTION_RE.match(question)
        compared = comparison(question) if english else None  # read once, asked of every sentence
        years = set(_FOUR_DIGIT_YEAR_RE.findall(question))
        asked = _Question(
            question,
            terms,
            weights,
            total,
            kind,
            sides,
            focus,
            who_did,
            where,
            gap,
            noun,
            verbs,
            lead,
            naming,
            sort_noun,
            in_situ_context(question),
            self._object_verb(question, kind),
            cjk_head(question) if kind in (None, "name") else "",
        )
        scored: list[_Scored] = []
        bare: list[_Scored] = []  # sentences of nothing but the question's words: a heading ("The drones")
        characters = {t for t in terms if len(t) == 1 and _CJK_RE.match(t)}  # "猫", "水？": no bigram equals one
        for number, hit in enumerate(sources, start=1):
            # terms the passage's title or earlier sentences share: "It rises 5,895 metres" is about them
            carried = terms.intersection(self.analyzer(hit.title)) | self._characters_in(hit.title, characters)
            antecedent: str | None = None
            opener_terms: set[str] = set()  # the terms of the names the sentences so far open with
            sentences = split_sentences(hit.text)
            labels_asked = self._labels_asked(sentences, terms)
            asks: set[str] = set()  # the question's terms a sentence asking a question holds
            section: set[str] = set()  # the question's terms the heading of the section so far holds
            for position, sentence in enumerate(sentences):
                opened = self._opening_name(sentence)
                before, antecedent = antecedent, opened or antecedent
                sentence_terms = set(self._passage_terms(sentence)) | self._characters_in(sentence, characters)
                shared = terms.intersection(sentence_terms)
                faq, asks = asks, (shared if _asks(sentence) else set())
                inherited = carried - shared
                carried |= shared
                if not shared and not inherited:
                    continue
                spans = typed_spans(kind, sentence, question, self.stopwords, lists=True) if kind else []
                if where and self.analyzer.settings.language == "en":  # "on [sandstone ridges]", not only names
                    spans = sorted(set(spans).union(place_phrases(sentence)))
                # a sentence that stands for an earlier subject holds its terms: "Murió en Ciudad de México"
                # for "¿Dónde murió García Márquez?", "… il vécut en exil à Guernesey"
                subject = self._stood_for(sentence, opener_terms, terms, inherited) if inherited else set()
                subject |= section & inherited  # a section's heading says what each of its sentences is about
                opener_terms.update(self._passage_terms(opened) if opened else ())
                # the answer to a question the passage asks (a FAQ's "Is zlib under the GNU license?" and
                # "No. Please read …") holds that question's terms
                answered = inherited & faq
                context = math.fsum(weights[t] for t in inherited - subject - answered) / total
                # its subject is before it ("was born on …", a list's "worker: 21 days"); a line of code is
                # not ("logger = logging.getLogger(…)" under a docstring about timeouts)
                subjectless = _SUBJECTLESS_RE.match(sentence) and not _CODE_MARKS_RE.search(sentence)
                # but an item of a list whose labels name what is asked is about its own label: "queen: 16
                # days" is not about the worker that "worker: 21 days" names ("How long does a worker …?")
                if labels_asked and _LABEL_ITEM_RE.match(sentence) and position not in labels_asked:
                    subjectless = None
                share = 1.0 if subjectless else CONTEXT_SHARE
                score = (
                    math.fsum(weights[t] for t in shared | subject | answered) / total
                    + share * context
                    + RANK_BONUS / number
                    + POSITION_BONUS / (1 + position)
                    + (TYPE_BONUS if spans else 0.0)
                    + (AGENT_SENTENCE_BONUS if who_did and self._holds_agent(sentence, terms, verbs) else 0.0)
                    + (
                        GAP_SENTENCE_BONUS
                        if gap and not kind and self._gaps(self._words(sentence, terms), gap)
                        else 0.0
                    )
                    + (FOCUS_BONUS if focus and any(self._counts(sentence, a, b, focus) for a, b in spans) else 0.0)
                    + (DEFINES_BONUS if defined and self._definition(question, sentence) else 0.0)
                    + (REASON_BONUS if why and self._reason(why_terms, sentence) else 0.0)
                    + (NAMESAKE_BONUS if namesake and _NAMESAKE_RE.search(sentence) else 0.0)
                    + (COMPARED_BONUS if compared and compared.answer(sentence, self._term_set) else 0.0)
                    - (OTHER_YEAR_COST if years and _other_years(sentence, years) else 0.0)
                )
                reach = score + (1 - share) * context
                # a section's heading, run into the text or the line the passage opens with
                headed = self._heading(sentence) or (position == 0 and _opens_with_heading(hit.text))
                # the passage asks, it does not say ("Is zlib under the GNU license?"); "No." after it answers
                heading = bool(asks) or (
                    not answered
                    and (
                        sentence_terms <= terms
                        or headed
                        or _is_title(sentence, hit.title)
                        or _code_like(sentence)
                        or bool(_POINTER_RE.match(sentence))
                    )
                )
                if headed and not asks:
                    section = shared
                (bare if heading else scored).append(
                    _Scored(
                        score, number, sentence, spans, reach, before, position in (0, len(sentences) - 1), position
                    )
                )
        scored = _whole_sentences(scored or bare)  # a heading answers only when nothing else does
        if not scored:
            return Generation("", [], len(sources))
        scored.sort(key=lambda item: (-item[0], item[1]))
        if kind and not scored[0].spans:  # "when …?" and the best sentence holds no date: a close one that does
            # (for a number or a date, close counting what it inherits fully: "Mount Kilimanjaro is …. It
            # rises 5,895 metres"; capitalised words are too common for a name to lean on that)
            typed_best = next((item for item in scored if item.spans), None)
            if typed_best is not None and (typed_best.reach if kind != "name" else typed_best.score) >= (
                scored[0].score - TYPED_MARGIN
            ):
                scored.remove(typed_best)
                scored.insert(0, typed_best)
        top = scored[0]
        condition = _CONDITION_RE.search(top.sentence) if kind == "date" and not top.spans else None
        if condition and self.analyzer.settings.language == "en" and self.style == "short":
            # "When is the weak inflection used?" and no date: "… when preceded by a definite article"
            return Generation(f"{_tidy(condition.group())} [{top.number}]", [top.number], len(sources))
        if self.style != "short":  # the sentence that answers, for reading the answer in context
            return Generation(f"{self._in_context(top, sources)} [{top.number}]", [top.number], len(sources))
        if self._keywords_only(question):  # "varroa treatment": the sentence that says most of them
            return Generation(f"{top.sentence} [{top.number}]", [top.number], len(sources))
        meaning = _MEANING_QUESTION_RE.match(question) if kind is None else None
        death = _DEATH_QUESTION_RE.match(question) if kind is None else None
        routes: tuple[Callable[[], str | None], ...] = (  # the first that answers, in this order
            # "What does Qallu mean?" → "… called Qallu, which means ["people of the religion"]"
            lambda: (
                self._gloss(top.sentence, self._term_set(next(filter(None, meaning.groups())))) if meaning else None
            ),
            # "How did Kliban die?" → "… who had died [of a pulmonary embolism]"
            lambda: self._death(top.sentence, death) if death else None,
            # "Who was the Ellicott Square Building named after?" → "… named after [the surveyor Joseph Ellicott]"
            lambda: self._namesake(top.sentence, namesake) if namesake else None,
            # "Is carbon monoxide more or less dense than air?" → "… is [slightly less dense] than air"
            lambda: compared.answer(top.sentence, self._term_set) if compared else None,
            # "When did Boveri …?" → "Van Beneden and Boveri … in 1883 and [1888] respectively"
            lambda: self._respective(top.sentence, asked) if english else None,
        )
        said = next(filter(None, (route() for route in routes)), None)
        if said:
            return Generation(f"{said} [{top.number}]", [top.number], len(sources))
        predicate = (
            (superlative(question, top.sentence, self._term_set) if english else None)
            or self._definition(question, top.sentence)
            or self._described(question, top.sentence)
            or self._apposition(question, top.sentence)
            or self._enumeration(question, top.sentence)
            or (self._kind_named(question, top.sentence) if english else None)
        )
        if predicate is None and english and (kind is None or who_did):
            predicate = self._subject(question, top.sentence)
            predicate = _untitled(predicate) if predicate and who_did else predicate
        if predicate is not None:  # "What is royal jelly?" → "Royal jelly is a white, protein-rich secretion …"
            return Generation(f"{predicate} [{top.number}]", [top.number], len(sources))
        if (
            who_did  # a name question, then
            and top.antecedent
            and (_PRONOUN_RE.match(top.sentence) or self._opens_with_verb(top.sentence, question))
            and not terms.intersection(self.analyzer(top.antecedent))  # "Who was Goethe?" "Er war …"
            and not self._holds_agent(top.sentence, terms, verbs)  # "She was portrayed by actress …"
        ):
            # "Who wrote Les Misérables?" and "Il a écrit Les Misérables": the name "Il" stands for
            return Generation(f"{top.antecedent} [{top.number}]", [top.number], len(sources))
        # "How is Bigfoot described?" → "… is usually described as [a large, hairy … humanoid]"; "How is the
        # size indicated?" → "indicated [by points (.) or slashes]"; "What do economists say about …?" →
        # "economists say that [the country won't be …]"
        clause = self._clause_after_verb(question, top.sentence) if kind is None and not naming else None
        if clause:
            return Generation(f"{clause} [{top.number}]", [top.number], len(sources))
        concept = concept_question(question) if english else None
        # "What is shadowing?" and no sentence defines it: the sentence that says most of it, whole; but one
        # opening with the thing and another name for it ("Abscission, or leaf drop, is …") answers with that
        explained = EXPLAIN_RE.search(question) or _yes_no(question) or (concept and not self._renames(top, concept))
        if kind is None and not naming and explained:
            said = self._reason(why_terms, top.sentence) if _WHY_RE.match(question) else ""
            if not said and _WHY_RE.match(question):
                said = self._purpose(top.sentence, self._words(top.sentence, terms))
            # "How did Tesla fund it?" → "by selling …"; "How do I spawn a process?" asks for an instruction,
            # which its sentence gives whole ("with the given command" is how the method runs it, not how to)
            manner = _HOW_AUX_RE.match(question) and not _HOW_DO_I_RE.match(question)
            said = said or (self._manner(top.sentence, terms) if manner else "")
            said = said or _tidy(_with_reason(top, sources[top.number - 1].text))
            return Generation(f"{said} [{top.number}]", [top.number], len(sources))
        event = _EVENT_QUESTION_RE.match(question) if kind is None else None
        said = self._event(top.sentence, set(self.analyzer(event.group("when")))) if event else ""
        if said:  # "What happened in 1504?" → "In 1504, [he conquered Kabul] which was …"
            return Generation(f"{said} [{top.number}]", [top.number], len(sources))
        if kind is None and _DOING_QUESTION_RE.match(question):  # "What did Voris do?" → "Voris [selected …]"
            said = self._predicate(top.sentence, self._words(top.sentence, terms), pronouns=True)
            if said:
                return Generation(f"{said} [{top.number}]", [top.number], len(sources))
        cause = _CAUSE_RE.search(top.sentence) if kind is None and _CAUSE_QUESTION_RE.match(question) else None
        said = _to_clause_end(top.sentence, cause.end()) if cause else ""
        if said:  # "What causes the toxicity?" → "The toxicity … is due to [the lack of cell specificity]"
            return Generation(f"{said} [{top.number}]", [top.number], len(sources))
        best: tuple[float, str, int] | None = None
        for item in scored[:SENTENCES_TRIED]:
            found = self._best_span(item.sentence, item.spans, asked)
            if found is None and where and item.spans:  # its places are the question's own words: any phrase
                found = self._best_span(item.sentence, [], asked)
            if found is not None and (best is None or item.score + SPAN_WEIGHT * found[0] > best[0]):
                best = (item.score + SPAN_WEIGHT * found[0], found[1], item.number)
        if best is None:  # the sentences share terms but hold nothing else: the best one, whole
            return Generation(f"{top.sentence} [{top.number}]", [top.number], len(sources))
        _, text, number = best
        if kind == "date" and _YEAR_QUESTION_RE.search(question):
            text = _year_of(text)  # "What year did Tesla die?" → "1943", not "7 January 1943"
        return Generation(f"{text} [{number}]", [number], len(sources))

    def _labels_asked(self, sentences: list[str], terms: set[str]) -> set[int]:
        """The positions of the list items whose label holds a term of the question ("worker: 21 days")."""
        found = set()
        for position, sentence in enumerate(sentences):
            labelled = _LABEL_ITEM_RE.match(sentence)
            if labelled and terms.intersection(self._passage_terms(labelled.group(1))):
                found.add(position)
        return found

    def _reason(self, asked: set[str], sentence: str) -> str:
        """The reason a sentence gives for what a "why" question (content terms `asked`) asks ("" if it
        gives none): what follows
        "because", "since", "due to" … to the end of that clause, and to the comma that brings the
        question's own words back ("Since [the blockade was lifted …], American merchants were free to
        trade"); else the clause before "so", "thus", "therefore", "as a result" when the question's
        words follow that word ("[Pope Gregory … complimenting Augustine's knowledge], so Augustine was
        evidently well educated")."""
        marker = _REASON_RE.search(sentence)
        if marker:
            said = _to_clause_end(sentence, marker.end())
            for comma in re.finditer(r",\s+", said):
                clause = re.split(r"[,;]", said[comma.end() :], maxsplit=1)[0]
                if asked.intersection(self._passage_terms(clause)):
                    return _tidy(said[: comma.start()])
            return said
        result = _RESULT_RE.search(sentence)
        drawn = re.split(r";", sentence[result.end() :], maxsplit=1)[0] if result else ""
        if result is None or not asked.intersection(self._passage_terms(drawn)):
            return ""
        before = re.split(r";\s+", sentence[: result.start()])[-1]
        return _tidy(_CLAUSE_OPENING_RE.sub("", before))

    def _manner(self, sentence: str, terms: set[str]) -> str:
        """For "How did Karmal travel …?", the phrase that follows the question's last words the sentence
        holds, when a preposition or an adverb opens it: "travelled [alongside a Soviet military column]",
        "published [as the "Breviarium Romanum"] (Roman Breviary) until …", "used [interchangeably]";
        to the end of its phrase, a list kept whole ("sold [as mild, medium, mature or vintage]"). Else
        what the sentence says its subject, the question's, did (`_predicate`); "" for neither."""
        words = self._words(sentence, terms)
        return self._manner_phrase(sentence, words) or self._predicate(sentence, words)

    def _predicate(self, sentence: str, words: list[_Word], pronouns: bool = False) -> str:
        """What a clause says of a subject made of the question's words, from the verb right after it
        (or after an apposition: "Thomas Becket, a later Archbishop of Canterbury, [prayed to him]") to
        the end of its phrase: "The royal couple [took great interest in their staff]" for "How did the
        royal couple regard their staff?", "home field advantage [was rotated between each league]".
        With `pronouns`, a personal pronoun may stand for the subject ("she [lived out …]") where no
        question word does."""
        for subjects in (False, True) if pronouns else (False,):
            for at, subject in enumerate(words):
                named = subject.text.lower() in _SUBJECT_PRONOUNS if subjects else subject.asked
                verb = self._verb_after(sentence, words, at) if named else None
                if verb is None:
                    continue
                said = self._phrase_from(sentence, words[verb].start)
                inside = [w for w in words[verb:] if w.start < words[verb].start + len(said)]
                if subjects and any(w.asked and w.text[:1].isupper() for w in inside):
                    continue  # "It [was recognized by the United Nations …]" is not what the Assembly did
                if len(inside) > 1 and not all(w.asked or w.stop for w in inside):
                    return said
        return ""

    def _verb_after(self, sentence: str, words: list[_Word], at: int) -> int | None:
        """The index of the finite verb right after the subject word `words[at]` (past a closing quote or
        bracket, or an apposition between commas), or None: "took", "would organize", "was rotated",
        "accuses"; not "of", "their" or "is much …"."""
        apposed = _APPOSITION_SKIP_RE.match(sentence, words[at].end)
        start = apposed.end() if apposed else words[at].end
        following = next((k for k in range(at + 1, len(words)) if words[k].start >= start), None)
        if following is None or not _SUBJECT_END_RE.fullmatch(sentence, start, words[following].start):
            return None  # ('"Billboard" ranked', "(RIAA) named")
        verb = words[following]
        if verb.asked or not verb.text.islower():
            return None
        lowered = verb.text.lower()
        then = words[following + 1].text.lower() if following + 1 < len(words) else ""
        helping = (lowered in AUXILIARIES and english_participle(then, self.markers)) or (
            lowered in _MODAL_VERBS and then.isalpha()
        )
        finite = lowered not in AUXILIARIES and (
            english_participle(lowered, self.markers)
            or (lowered.endswith("s") and lowered not in self.stopwords and len(lowered) > 3)
        )
        return following if helping or finite else None

    def _manner_phrase(self, sentence: str, words: list[_Word]) -> str:
        """The phrase a preposition or an adverb opens right after the question's last words (`_manner`)."""
        for at in range(len(words) - 2, -1, -1):
            following = words[at + 1]
            if (
                not words[at].asked
                or following.asked
                or not _MANNER_GAP_RE.fullmatch(sentence, words[at].end, following.start)
            ):
                continue
            marker = following.text.lower()
            if (
                marker.endswith("ly")
                and len(marker) > 5
                and marker not in self.stopwords
                and marker not in _NOT_ADVERBS
            ):
                return marker  # "used [interchangeably] to refer to …"
            if marker not in _MANNER_MARKERS or self._place_after(words, at + 1):
                continue  # (not a place: "College [in Birmingham]", "Mount Behistun [in the Kermanshah Province]")
            said = self._phrase_from(sentence, following.start)
            if len(said.split()) > 1 and not _amount_or_date(sentence, following.start, following.start + len(said)):
                return said
        return ""

    def _purpose(self, sentence: str, words: list[_Word]) -> str:
        """For a "why" question the sentence gives no reason for, the purpose an infinitive right after
        the question's last words states: "moved to Texas with Rodham [to take a job leading …]"."""
        for at in range(len(words) - 3, -1, -1):
            marker, verb = words[at + 1], words[at + 2]
            if (
                words[at].asked
                and marker.text == "to"
                and verb.text.isalpha()
                and verb.text.islower()
                and not verb.stop
                and not verb.asked
                and _MANNER_GAP_RE.fullmatch(sentence, words[at].end, marker.start)
            ):
                return self._phrase_from(sentence, marker.start)
        return ""

    def _event(self, sentence: str, when: set[str]) -> str:
        """What a sentence says happened at the time or place a "What happened in …?" question names
        (`when`, its terms): the clause after the sentence's phrase for it ("In 1935, at the young age of
        22, [he was elected a fellow at King's]"), or the clause before it ("[The first World Down
        Syndrome Day was held] on 21 March 2006"), to the end of its phrase; "" where the sentence
        does not name it."""
        words = self._words(sentence, when)
        named = [i for i, word in enumerate(words) if word.asked]
        if not when or not named:
            return ""
        first, last = words[named[0]], words[named[-1]]
        after = _INSERTED_PHRASE_RE.sub("", sentence[last.end :].lstrip(" ,"), count=1)  # ", at the age of 22,"
        said = self._phrase_from(after, 0)
        if len(said.split()) > 1 and not set(self._passage_terms(said)) & when:
            return said
        before = sentence[: first.start]
        opening = _EVENT_PREPOSITION_RE.search(before)
        said = _tidy(before[: opening.start()]) if opening else ""
        clause = max((m.end() for m in re.finditer(r"[,;:]\s+", said)), default=0)
        said = said[clause:]
        return said if len(said.split()) > 1 else ""

    def _respective(self, sentence: str, asked: _Question) -> str:
        """The item a "respectively" sentence pairs with the one the question names ("" where it pairs
        none off: `respectively`)."""

        def weigh(text: str) -> float:
            return math.fsum(asked.weights[t] for t in asked.terms.intersection(self._passage_terms(text)))

        typed = typed_spans(asked.kind, sentence, asked.text, self.stopwords) if asked.kind else None
        said = respective(sentence, weigh, self.stopwords, typed)
        return _tidy(said) if said else ""

    def _gloss(self, sentence: str, glossed: set[str]) -> str:
        """What a sentence says a word or name means ("" if it says nothing of it): the quotation (or list
        of them) or the phrase after the gloss marker that the question's words (`glossed`, its terms)
        come closest before ('"sauros" meaning "lizard" and [ischion] meaning ["hip joint"]')."""
        best = self._marker_after(sentence, glossed, _GLOSS_RE)
        if best is None:
            return ""
        quoted = _GLOSS_LIST_RE.match(sentence, best.end())
        if quoted is None:  # "means [that] each point … is approximated by other points …, or trajectories"
            that = re.match(r"that\s+", sentence[best.end() :])
            return self._phrase_from(sentence, best.end() + (that.end() if that else 0))
        items = list(_GLOSS_ITEM_RE.finditer(sentence, best.end(), quoted.end()))
        if len(items) > 1 and _GLOSSED_NEXT_RE.match(sentence, quoted.end()):
            items.pop()  # '"lizard" and "ischion" (ἰσχίον) meaning …': the last item is the next word glossed
        return items[0].group()[1:-1] if len(items) == 1 else sentence[items[0].start() : items[-1].end()]

    def _death(self, sentence: str, question: re.Match[str]) -> str:
        """The cause of death a sentence gives the one a question names ("" if it gives none): the
        phrase after "died of", "killed in", "succumbed to" that the person's words come closest
        before; for "how" with its preposition ("[of a pulmonary embolism]", "[killed in a car crash]")."""
        who = next(filter(None, question.groups()))
        # or the one marker there is: "… the girl … died of scarlet fever"
        marker = self._marker_after(sentence, self._term_set(who), _DEATH_RE) or _only_marker(sentence, _DEATH_RE)
        if marker is None:
            return ""
        said = _CAUSE_END_RE.split(self._phrase_from(sentence, marker.end()), maxsplit=1)[0]
        if not said or not (question.group("how") or question.group("killed")):
            return said
        if marker.group("killed"):
            return f"{marker.group('killed')} {marker.group('in')} {said}"  # "killed in action"
        return f"{marker.group('of')} {said}" if marker.group("of") else said

    def _term_set(self, text: str) -> set[str]:
        """A text's index terms, for the routes of their own modules (superlatives, comparisons)."""
        return set(self.analyzer(text))

    def _namesake(self, sentence: str, question: re.Match[str]) -> str:
        """What a sentence says the thing a question names was named after ("" if it says nothing, or only
        "him"): the phrase after the first "named after" its words come before, or after the one such
        marker there is ("It was named after [the surveyor Joseph Ellicott]")."""
        named = self._term_set(next(filter(None, question.groups())))
        marker = self._marker_after(sentence, named, _NAMESAKE_RE, first=True) or _only_marker(sentence, _NAMESAKE_RE)
        said = self._phrase_from(sentence, marker.end()) if marker else ""
        return said if said and not _PRONOUN_OBJECT_RE.match(said) else ""

    def _marker_after(
        self, sentence: str, asked: set[str], markers: re.Pattern[str], first: bool = False
    ) -> re.Match[str] | None:
        """Of the markers in a sentence, the one with the most of the question's weight (`asked`, its
        terms) between it and the marker before it; with `first`, the first one with any of it: in a
        chain the words between two markers belong to the first's phrase ("The state was named after
        [the Delaware River] which in turn derived its name from Thomas West")."""
        best, best_weight, since = None, 0.0, 0
        for marker in markers.finditer(sentence):
            before = set(self._passage_terms(sentence[since : marker.start()]))
            weight = math.fsum(self.term_weight(t) for t in asked & before)
            if weight > best_weight:
                best, best_weight = marker, weight
                if first:
                    break
            since = marker.end()
        return best

    def _phrase_from(self, sentence: str, start: int) -> str:
        """The phrase from `start` to its end (`_MANNER_END_RE`), a list it holds kept whole ("annexed
        [Kingsbridge, West Farms and Morrisania] to New York")."""
        phrase = _MANNER_END_RE.split(sentence[start:], maxsplit=1)[0]
        if sentence.count("(", 0, start) > sentence.count(")", 0, start):  # begun in a bracket, it ends there
            phrase = phrase.split(")", 1)[0]  # "(named for [its grey clay soils]) north of …"
        last = start + len(phrase.rstrip()) - len(phrase.rstrip().split()[-1]) if phrase.strip() else start
        end = self._list_end(sentence, last, start + len(phrase))  # (a list of the phrase's last word's kind)
        if end > start + len(phrase):  # the phrase goes on after the list
            end += len(_MANNER_END_RE.split(sentence[end:], maxsplit=1)[0])
        return _tidy(sentence[start:end])

    def _place_after(self, words: list[_Word], at: int) -> bool:
        """Whether `words[at]` is a preposition of place before a name, an article between them."""
        if words[at].text.lower() not in _PLACE_MARKERS:
            return False
        name = at + 1 + (at + 1 < len(words) and words[at + 1].text.lower() in _ARTICLES)
        return name < len(words) and words[name].text[:1].isupper()

    def _in_context(self, top: _Scored, sources: Sequence[Hit]) -> str:
        """The answering sentence ("sentence" style), or it with the sentences before and after it in
        its passage ("long")."""
        if self.style == "long":
            sentences = split_sentences(sources[top.number - 1].text)
            if top.sentence in sentences:
                at = sentences.index(top.sentence)
                return " ".join(_tidy(s) for s in sentences[max(0, at - 1) : at + 2])
        return _tidy(top.sentence)

    def _definition(self, question: str, sentence: str) -> str | None:
        """For a question asking what something is, the rest of a sentence that opens with that thing
        and a copula ("The varroa mite (Varroa destructor) is the most serious pest …"): its predicate;
        or the subject of one whose predicate opens with it ("CsA nephrotoxicity is a major cause of …").
        "How are the distances between stations?" asks for the predicate too ("… are [usually short]")."""
        how = _HOW_IS_RE.search(question)
        asked = DEFINITION_RE.search(question) or how
        copula = _COPULA_RE.search(sentence) if asked else None
        if asked is None or copula is None or len(asked.group("subject").split()) > MAX_DEFINED_WORDS:
            return None
        said_words = asked.group("subject").lower().split()
        if english_participle(said_words[0], self.markers) or said_words[-1] in _NAMING_WORDS | _NAMING_AS_WORDS:
            return None  # "Who was ordered to lead …?" asks for a subject (`_subject`), "What are X called?" a name
        if how and (english_participle(said_words[-1], self.markers) or said_words[-1].endswith("ing")):
            return None  # "How is the size indicated?" asks for a means (`_clause_after_verb`)
        subject = _sub_parentheses(" ", sentence[: copula.start()])  # "(Varroa destructor)" aside
        wanted = set(self.analyzer(asked.group("subject")))
        predicate = _first_clause(sentence[copula.end() :])
        if _SUBORDINATE_OPENING_RE.match(sentence):  # "Because the total mass is [about 5.8 solar masses], at …"
            predicate = predicate.split(",", 1)[0]
        predicate = _tidy(_FULL_STOP_RE.sub("", predicate.strip()))
        said = set(self.analyzer(subject))  # "The default request timeout is …" defines "the default timeout"
        opening = " ".join(predicate.split()[: len(asked.group("subject").split()) + MAX_SUBJECT_EXTRA])
        verb = opening.split()[0].lower().rstrip(",;:.") if opening else ""
        if not how and verb not in said_words and (english_participle(verb, self.markers) or verb.endswith("ing")):
            # "is" the auxiliary of a passive or a progressive ("the closure is [called], so …", "the first
            # variable is [shadowed] by …", "… is [relying] on"): what happens to a thing, no definition
            return None
        if wanted and wanted <= said and len(said - wanted) <= MAX_SUBJECT_EXTRA:
            return predicate or None
        # a bare concept is not defined by what it is an instance of ("What is a trait?" and "One example …
        # is the Iterator trait")
        if how or concept_question(question) is not None:
            return None
        # the other way round: "What is a major cause of X?" and "CsA nephrotoxicity is a major cause of X"
        named = _tidy(sentence[: copula.start()].rsplit(":", 1)[-1])  # not its label ("Background: …")
        # … where the sentence leaves out a term or so of a phrase after the head ("… site in Chiapas", which
        # the passage's title may give), never of the head ("the numerator of …")
        held = wanted.intersection(self.analyzer(opening))
        head = _PREPOSITION_RE.split(asked.group("subject"), maxsplit=1)[0]
        if 3 * len(held) < 2 * len(wanted) or not set(self.analyzer(head)) <= held:
            return None
        if held and 0 < len(named.split()) <= MAX_NAMED_SUBJECT_WORDS and not self._only_stopwords(named):
            # of a subject in parts ("The Oyo Empire, located … Benin,", "At the time, Iran"), the name
            # (a title before it is no part of the name: "actor Harry Shum, Jr." → "Harry Shum, Jr.")
            parts = [_TITLE_RE.sub("", part.strip()) for part in _SUBJECT_PARTS_RE.split(named)]
            return next((p for p in parts if SPAN_RES["name"].fullmatch(LEADING_ARTICLE_RE.sub("", p))), named)
        return None

    def _asked_about(self, asked: re.Match[str] | None) -> tuple[str, set[str]] | None:
        """The subject a "What/Who is X?" question's match names, and its terms; None without one, or for
        a participle asking for a subject instead ("Who was hired to be …?")."""
        if asked is None:
            return None
        subject = asked.group("subject")
        wanted = set(self.analyzer(subject))
        if not wanted or english_participle(subject.split()[0], self.markers):
            return None
        return subject, wanted

    def _described(self, question: str, sentence: str) -> str | None:
        """For a question asking what or who something is, the description a sentence sets after it in
        apposition: "What was Kit Carson?" and "… in honor of Christopher "Kit" Carson, [the mountain man
        and scout he had hired], …"; "What was the kapu system?" and "under the Hawaiian "kapu" system,
        [a system of religious beliefs …]". The words before the comma end with the thing asked, all of
        its terms within a few words (a first name, an adjective, quotes), and its head last."""
        about = self._asked_about(DEFINITION_RE.search(question))
        if about is None:
            return None
        subject, wanted = about
        size = len(subject.split()) + MAX_SUBJECT_EXTRA + 1
        # the head ends at the comma, not a phrase after it: "the first administrator of the Federal Energy
        # Office, [a short-term organization …]" describes the office
        head = re.findall(r"\w+", _PREPOSITION_RE.split(subject, maxsplit=1)[0])
        last = set(self._terms(head[-1])) if head else set()
        for comma in _DESCRIPTION_START_RE.finditer(sentence):
            before = re.findall(r"\w+", sentence[: comma.start()])
            if not before or not last.intersection(self._terms(before[-1])):
                continue  # the thing asked ends right at the comma
            if not wanted <= set(self.analyzer(" ".join(before[-size:]))):
                continue
            described = _APPOSITIVE_END_RE.split(sentence[comma.start() + 1 :].lstrip(), maxsplit=1)[0]
            if 1 < len(described.split()) <= MAX_DESCRIPTION_WORDS and not wanted <= set(self.analyzer(described)):
                return _tidy(described)
        return None

    def _apposition(self, question: str, sentence: str) -> str | None:
        """For a question asking what or who answers a description, the name a sentence gives it in
        apposition: "Who is a noted expert on Voltaire?" and "Ira Wade, a noted expert on Voltaire and
        …, has …" → "Ira Wade"; '… served by "The Daily Reporter", central Ohio's only daily newspaper';
        "Almaty (the largest city in neighboring Kazakhstan)"."""
        about = self._asked_about(_NAME_OF_RE.search(question) or DEFINITION_RE.search(question))
        if about is None:
            return None
        subject, wanted = about
        for comma in _APPOSITION_RE.finditer(sentence):
            described = _APPOSITIVE_END_RE.split(sentence[comma.end() :], maxsplit=1)[0]
            # each of coordinated descriptions, each saying some of it, is held to the length: "Akhmed
            # Zakayev, [Deputy Prime Minister] and [a Foreign Minister under Maskhadov]," for "Who was
            # Deputy Prime Minister under Maskhadov?" (not "Spartak, [CSKA] and [Zenit draw crowds]")
            parts = _CLAUSE_AND_RE.split(described)
            if len(parts) == 1 or not all(wanted.intersection(self.analyzer(part)) for part in parts):
                parts = [described]
            if max(len(part.split()) for part in parts) > len(subject.split()) + MAX_SUBJECT_EXTRA + 2:
                continue
            if not wanted <= set(self.analyzer(described)) or _FINITE_VERB_RE.search(described):
                continue  # not all it asks, or a clause: "Reportedly, the B-2 has a radar cross-section …"
            before = sentence[: comma.start()].rstrip()
            quoted = _QUOTED_END_RE.search(before)
            if quoted:  # '… served by "The Daily Reporter"'
                return quoted.group(1)
            names = [m for m in SPAN_RES["name"].finditer(before) if m.end() == len(before)]
            if names and not self._only_stopwords(names[-1].group()):
                return _tidy(LEADING_ARTICLE_RE.sub("", names[-1].group()))
        return None

    def _kind_named(self, question: str, sentence: str) -> str | None:
        """For "What is X?", the kind a sentence lists X among (Hearst's patterns): "What is the
        NASUWT?" and "members of [trade unions] such as ATL, NUT or NASUWT" → "trade unions"; "ATL and
        other [unions]" → "unions"."""
        asked = DEFINITION_RE.search(question)
        subject = _LOWER_ARTICLE_RE.sub("", asked.group("subject")) if asked else ""
        if not subject or len(subject.split()) > MAX_NAMED_SUBJECT_WORDS:
            return None
        named = re.compile(rf"(?<!\w){re.escape(subject)}(?!\w)", re.IGNORECASE)
        for listed in _SUCH_AS_RE.finditer(sentence):
            if named.search(listed.group("items")):
                kind = self._kind_words(sentence[: listed.start()].split()[::-1], backwards=True)
                return " ".join(kind[::-1]) or None
        for other in _AND_OTHER_RE.finditer(sentence):
            if named.search(sentence[: other.start()].split(",")[-1]):  # "ATL and other": X is listed
                return " ".join(self._kind_words(sentence[other.end() :].split(), backwards=False)) or None
        return None

    def _kind_words(self, words: list[str], backwards: bool) -> list[str]:
        """The content words of a kind's noun phrase from its edge (`words` reversed when `backwards`)
        to a function word or punctuation: "registered members of [trade unions]"."""
        kept: list[str] = []
        for word in words[:MAX_KIND_WORDS]:
            bare = word.strip(',;:()"“”')
            if not bare or bare.lower() in self.stopwords or bare.lower() in self.function_words:
                break
            if backwards and bare != word:  # "In Wales, trade unions such as …": the comma ends it
                break
            kept.append(bare)
            if not backwards and bare != word:  # "and other unions, …"
                break
        return kept

    def _enumeration(self, question: str, sentence: str) -> str | None:
        """For "What are the N (of …)?", the list a sentence gives after "N:": "What are the castes of
        honeybees?" and "… one of three castes: [the queen, the workers and the drones]"; for "What
        kinds of N …?", the one after "N, including" or "N such as": "What kinds of noodles did they
        bring?" and "… kinds of noodles, including [udon, ramen, mei fun, and pho], and today …"."""
        asked = DEFINITION_RE.search(question)
        said = asked.group("subject").lower().split() if asked else []
        sort = _KIND_OF_RE.search(question)
        if sort:
            head = sort.group(1).lower()
            for items in _SUCH_AS_RE.finditer(sentence):
                before = re.findall(r"\w+", sentence[: items.start()])
                if before and before[-1].lower() == head:
                    start = items.start("items")
                    first = len(items.group("items").split(",", 1)[0])  # the list's first item
                    return _tidy(sentence[start : self._list_end(sentence, start, start + first)])
        if not said or said[-1] in _NAMING_WORDS | _NAMING_AS_WORDS:  # "What are X called?" asks for a name
            return None
        head = " ".join(said).split(" of ")[0].split()[-1]  # the noun itself, as written: "castes"
        for colon in _ENUMERATION_RE.finditer(sentence):
            if colon.group(1).lower() == head:
                return _to_clause_end(sentence, colon.end()) or None
        return None

    def _subject(self, question: str, sentence: str) -> str | None:
        """For an English question asking what or who does something ("What thrives in the Central
        Valley?"), the subject of the sentence's same verb when most of the question's other words follow
        it within a few words: "Fremont cottonwood and valley oak thrive in the Central Valley" → all of
        "Fremont cottonwood and valley oak", question words ("valley") and a relative clause included,
        which spans between the question's words leave out. For "what" and the same verb made passive,
        its agent (`_passive_agent`)."""
        asked = _SUBJECT_QUESTION_RE.match(question)
        if asked is None:
            return None
        said, passive = asked.group("verb").lower(), asked.group("be") is not None
        if said in AUXILIARIES or not (
            english_participle(said, self.markers)
            if passive
            else said.endswith(("s", "ed"))
            or english_participle(said, self.markers)
            # after "who", a verb whatever its form: "Who cut tariffs?", "Who can use …?" (not "What can
            # ayahuasca increase?", which asks for an object)
            or (asked.group("who") and said not in self.stopwords and not _VERBISH_RE.match(said))
        ):
            return None  # "thrives", "caused", "led", "was unveiled", "had campaigned"; not "What kind …"
        if asked.group("rest").split()[0].lower() in AUXILIARIES:
            return None  # "What class are spiny sharks classified as?": a noun, then the verb
        verb = set(self._terms(said))
        rest = self.analyzer(asked.group("rest"))
        if not verb or not rest:
            return None
        words = list(_WORD_RE.finditer(sentence))
        asked_terms = set(self.analyzer(question))
        for i, word in enumerate(words):
            if word.group().lower().endswith("ing") or not verb.intersection(self._terms(word.group())):
                continue  # (", causing the CPU to stall" has no subject of its own)
            if i and words[i - 1].group().lower() == "to":
                continue  # nor has "decided to [name] their flight"
            agent = None if passive or asked.group("who") else self._passive_agent(sentence, words, i, rest)
            if agent:
                return agent
            # the question's other words after the verb ("thrive in the Central Valley"); a passive's
            # anywhere ("A plaque located on the Lunar Module … was then unveiled")
            following = words[i + 1 : i + 1 + len(rest) + MAX_GAP_WORDS] if not passive else words
            held = set(rest).intersection(t for w in following for t in self._terms(w.group()))
            if 2 * len(held) < len(set(rest)):  # most of them: "arises mainly from these [holes]"
                continue
            before = sentence[: word.start()]
            # where the subject starts: after the last clause break, not at a quoted word ('the "x"-axis')
            # nor at a closed parenthesis: "Conrad von Gesner (1516–1565) and John Gerard (1545–c. 1611)"
            masked = _QUOTED_WORD_RE.sub(lambda quoted: "_" * len(quoted.group()), before)
            masked = _sub_parentheses(lambda aside: "_" * len(aside.group()), masked)
            before = before[max((m.end() for m in _SUBJECT_START_RE.finditer(masked)), default=0) :]
            reported = [m for m in _THAT_RE.finditer(before) if english_participle(m.group(1), self.markers)]
            before = before[reported[-1].end() :] if reported else before
            stripped = _HELPING_END_RE.sub("", before)  # "most states have [invested]", "was then [unveiled]"
            if passive != bool(BE_FORMS.intersection(before[len(stripped) :].lower().split())):
                continue  # "was unveiled" asks for what was, not for who unveiled; "Who founded …?" for no passive's
            before = stripped
            parts = before.split(",")  # an opening phrase ("However, after the 17th century, most states")
            while len(parts) > 1 and _aside(parts):
                parts.pop()  # what the subject adds aside: "X, which was …, became", "X, commemorating …, was"
            # and a phrase set between it and its verb, in commas: "Whitlam, in contrast to …, cut"
            inserted = len(parts) if before.rstrip().endswith(",") else 0
            while inserted > 1 and _first_word(parts[inserted - 1]) in _INSERTED_OPENINGS:
                inserted -= 1
            if 0 < inserted < len(parts) and _first_word(parts[inserted - 1]) not in _INSERTED_OPENINGS:
                parts = parts[:inserted]  # (not "In 1980, [Ceaușescu]": there the phrase comes first)
            listed = parts[-1].split()[:1] in (["and"], ["or"]) and not _FINITE_VERB_RE.search(",".join(parts[:-1]))
            subject = ",".join(parts) if listed else parts[-1]  # "X, Y and Z", not "They were …, and in 1837 Z"
            # nor across "and" after a clause: "The shooting was adjudged self-defence and [her mother] faced …"
            joined = list(_CLAUSE_AND_RE.finditer(subject))
            if joined and (
                _FINITE_VERB_RE.search(subject[: joined[-1].start()]) or _PAST_RE.search(subject[: joined[-1].start()])
            ):
                subject = subject[joined[-1].end() :]
            kept = subject.split()
            while kept and kept[0].lower() in _OPENING_CONJUNCTIONS:
                kept.pop(0)  # "But [the introduction of the saddle]"
            kept = _without_opening_phrase(kept)
            for k in range(1, len(kept)):  # "A plaque [located on the Lunar Module]": what the question says
                if (
                    english_participle(kept[k], self.markers)
                    and set(self.analyzer(" ".join(kept[k + 1 :]))) <= asked_terms
                ):
                    kept = kept[:k]
                    break
            subject = _tidy(" ".join(kept))
            content = set(self.analyzer(subject)) - asked_terms
            if content and len(kept) <= MAX_NAMED_SUBJECT_WORDS and not _RELATIVE_END_RE.search(subject):
                return subject
        return None

    def _passive_agent(self, sentence: str, words: list[re.Match[str]], at: int, rest: list[str]) -> str | None:
        """For "What inspires poetry?", the agent of the same verb made passive, whose subject holds the
        question's other words: "poetry is inspired by [the muses], and …"."""
        if at + 1 >= len(words) or words[at + 1].group().lower() != "by":
            return None
        before = sentence[: words[at].start()]
        if not BE_FORMS.intersection(before[len(_HELPING_END_RE.sub("", before)) :].lower().split()):
            return None
        if not set(rest) <= set(self._passage_terms(before)):
            return None
        agent = _AGENT_END_RE.split(sentence[words[at + 1].end() :], maxsplit=1)[0]
        agent = _tidy(_APPOSITIVE_END_RE.split(agent, maxsplit=1)[0])
        if len(agent.split()) > MAX_NAMED_SUBJECT_WORDS or self._only_stopwords(agent):
            return None
        return agent

    def _clause_after_verb(self, question: str, sentence: str) -> str | None:
        """What the first of the `_CLAUSE_AFTER_VERB` question forms the question has finds in the sentence,
        without a closing phrase the question says itself ("double media output [by 2016]")."""
        for asked_re, marker_re in _CLAUSE_AFTER_VERB:
            said = self._said_after_verb(question, sentence, asked_re, marker_re)
            closing = _CLOSING_PHRASE_RE.search(said or "")
            if (
                said
                and closing
                and closing.start()
                and self._only_asked(closing.group(1), self.question_terms(question))
            ):
                said = said[: closing.start()]
            if said:
                return said
        return None

    def _said_after_verb(
        self, question: str, sentence: str, asked_re: re.Pattern[str], marker_re: re.Pattern[str]
    ) -> str | None:
        """What a sentence says after the question's verb and a marker, up to the next clause: for "How is
        Bigfoot described?", "described as [a large, hairy, bipedal humanoid]" (`_DESCRIBED_QUESTION_RE`,
        `_AS_RE`); for "What do economists say about …?", "say that [the country won't be affected]"
        (`_REPORTED_QUESTION_RE`, `_THAT_RE`). English only, by its patterns."""
        asked = asked_re.match(question)
        if asked is None:
            return None
        verb = set(self._terms(asked.group("verb")))
        for said in marker_re.finditer(sentence):
            if not verb.intersection(self._terms(said.group(1))):
                continue
            at = said.start("said")
            if _NEGATION_RE.search(sentence, said.end(1), at):  # "viewed not as X, but rather as [Y]"
                instead = re.compile(rf"\bbut\s+(?:rather\s+|instead\s+)?(?={re.escape(said.group('said'))}\s)", re.I)
                contrast = instead.search(sentence, at)
                if contrast is None:
                    continue
                at = contrast.end()
            return _to_clause_end(sentence, at) or None
        return None

    def _renames(self, scored: _Scored, thing: str) -> bool:
        """Whether a sentence opens with `thing` itself (an article aside) and a comma: another name or a
        description in apposition follows ("Abscission, or leaf drop, is …"; not "A magic-deleteall
        element, which …" for the magic element)."""
        words = scored.sentence.split()[: len(thing.split()) + 2]
        opening = next((i for i, word in enumerate(words, 1) if word.endswith(",")), 0)
        return bool(opening) and set(self.analyzer(thing)) == set(self.analyzer(" ".join(words[:opening])))

    def _heading(self, sentence: str) -> bool:
        """A section heading run into the text ("Breast ptosis.", "Vital statistics."): a few capitalised
        words without a verb or a function word, which says what follows, not an answer; or a title-case
        line without a full stop ("Moving Captured Values Out of Closures", where a documentation page's
        section starts)."""
        words = re.findall(r"[\w'’-]+", sentence)
        if not 0 < len(words) <= MAX_TITLE_WORDS or not words[0][:1].isupper():
            return False
        if len(words) <= MAX_HEADING_WORDS and not any(
            word.lower() in self.stopwords or word.lower() in self.function_words for word in words
        ):
            return True
        long = [word for word in words if len(word) > 3]  # "of", "and", "to" stay lower case in a title
        return len(long) >= 2 and all(w[:1].isupper() for w in long) and not sentence.rstrip().endswith(_STOPS)

    def _only_stopwords(self, text: str) -> bool:
        """Whether a phrase says nothing by itself: "He", "It", "This one" name no answer."""
        return all(word.lower() in self.stopwords for word in re.findall(r"\w+", text))

    def _wh_noun(self, rest: str) -> set[str]:
        """The terms of the noun after "which" or "what": its first word ("Which critic …"), or all of them
        up to an auxiliary within three ("What important events does …")."""
        words = rest.split()
        aux = next((i for i, w in enumerate(words[:3]) if w.lower() in AUXILIARIES), None)
        return {t for w in words[: aux or 1] for t in self._terms(w)}

    def _lead(self, question: str) -> frozenset[str]:
        """The function word a question opens with before its question word: "By how many points …?",
        "At what distance …?", "En quelle année …?", or an English preposition it ends with: "… moved
        to?" (the answer follows the same word in its sentence)."""
        stranded = _STRANDED_RE.search(question)  # "Where was the zipper relocated to?" → "to the left hip"
        if stranded and self.analyzer.settings.language == "en" and stranded.group(1).lower() in PREPOSITIONS:
            return frozenset({stranded.group(1).lower()})
        found = _LEAD_RE.match(question)
        if found is None or found.group(1).lower() not in self.stopwords:
            return frozenset()
        rest = question[found.end(1) :].lstrip()
        opens = [p.match(rest) for _, p in QUESTION_KIND_RES] + [UNTYPED_RE.match(rest)]
        return frozenset({found.group(1).lower()}) if any(opens) else frozenset()

    def _which_did(self, question: str) -> bool:
        """Whether an English question asks which one did something ("Which orchestra premiered …?",
        "What company developed …?"): its doer is the answer, as for "Who premiered …?"."""
        found = _WHICH_RE.match(question)
        if found is None or self.analyzer.settings.language != "en":
            return False
        for at, word in enumerate(found.group("rest").split()[:4]):  # a verb after a noun or two, no auxiliary
            if word.lower() in AUXILIARIES:
                return False
            if at and english_participle(word, self.markers) and not word.lower().endswith("en"):
                return True
        return False

    def _opens_with_verb(self, sentence: str, question: str) -> bool:
        """Whether a sentence opens with the verb of a "who did" question, its subject left out as
        Italian, Spanish and Portuguese do ("Dipinse la Gioconda" for "Chi dipinse la Gioconda?")."""
        who = WHO_DID_RE.search(question)
        verb = re.match(r"\W*(\w+)", question[who.end() :]) if who else None
        first = re.match(r"\W*(\w+)", sentence)
        return bool(verb and first and set(self._terms(verb.group(1))) & set(self._terms(first.group(1))))

    def _stood_for(self, sentence: str, antecedents: set[str], terms: set[str], inherited: set[str]) -> set[str]:
        """The question's terms an earlier subject gives a sentence that stands for it: one opening with a
        personal pronoun, or with one of the question's words, its subject left out as Spanish, Italian
        and Portuguese do ("Murió en Ciudad de México en 2014."); the subject is one of the names earlier
        sentences open with (`antecedents`: the terms of all of them, as a capitalised verb opens a
        sentence too, "Recibió el Premio …"); in Chinese ("他出生于…"), whatever the passage said before."""
        pronoun = _CLAUSE_PRONOUN_RE.match(sentence)
        if pronoun and pronoun.group().endswith(("他", "她")):  # Chinese writes no capitals to find a name by
            return inherited
        # its first word past an auxiliary or a clitic ("Fue redescubierta …", "Se encuentra …")
        opening = (m.group() for m in islice(_WORD_RE.finditer(sentence), 3))
        first = next((w for w in opening if w.lower() not in self.stopwords), "")
        opens_asked = self.analyzer.settings.language in _SUBJECT_DROPPING_LANGUAGES and bool(
            terms.intersection(self._terms(first))
        )
        if not antecedents or not (pronoun or opens_asked):
            return set()
        named = inherited & antecedents
        return named if not named.intersection(self._terms(first)) else set()

    def _opening_name(self, sentence: str) -> str | None:
        """The name a sentence opens with (its subject, as a rule), if any: "Victor Hugo est …"."""
        english = self.analyzer.settings.language == "en"
        article = None if english else _OPENING_ARTICLE_RE.match(sentence)  # "La Loire est …", "Der Kölner Dom …"
        found = SPAN_RES["name"].match(sentence, article.end() if article else 0)
        if found is None or found.group().split()[0].lower() in self.stopwords or _PRONOUN_RE.match(sentence):
            return None
        end = found.end()
        while particle := _NAME_PARTICLE_RE.match(sentence, end):  # "Leonardo da Vinci", "Pedro de Alvarado"
            end = particle.end()
        return _tidy(LEADING_ARTICLE_RE.sub("", sentence[found.start() : end]))

    def _only_asked(self, text: str, terms: set[str]) -> bool:
        """Whether every term of a phrase is the question's: the "fishbowl" of "… the "fishbowl" helmet?"."""
        return set(self.analyzer(text)) <= terms

    def _counts(self, sentence: str, start: int, end: int, focus: set[str]) -> bool:
        """Whether a number (at `start`:`end`) counts what the question counts: the word after it ("2,000
        eggs", "10 grams of salt"), the measure right before it ("a rate of 12,000 a day"), or the word a
        count names a few words before it ("passenger numbers … reaching 9,528,558", "the number of
        visitors was 2 million"); a speed is counted by an amount that is a rate ("[25 kilometres per hour]")."""
        if focus & self._speed_terms and _RATE_RE.search(sentence, start, end):
            return True
        following = _COUNTED_RE.match(sentence, end)
        if following and focus.intersection(self._terms(following.group(1))):
            return True
        reach = sentence[:start].rsplit(maxsplit=MAX_COUNT_REACH)[-MAX_COUNT_REACH:]
        # a word too long for a phrase (`MAX_WORD_CHARS`) ends the reach: it names no count, and searching
        # it for each of its numbers would cost its length each time
        long = [i for i, word in enumerate(reach) if len(word) > MAX_WORD_CHARS]
        before = " ".join(reach[long[-1] + 1 :] if long else reach)
        measured = _MEASURED_RE.search(before)  # "a rate of [12,000 a day]" for "At what rate …?"
        if measured and focus.intersection(self._terms(measured.group(1))):
            return True
        return any(
            focus.intersection(self._terms(match.group("of") or match.group("named")))
            for match in _COUNT_NAMED_RE.finditer(before)
        )

    def _words(self, sentence: str, terms: set[str]) -> list[_Word]:
        """The sentence's words, each marked as a question word, a stopword, and with its clause."""
        words: list[_Word] = []
        clause, last = 0, 0
        asides = [
            m.span() for m in _PARENTHESIS_RE.finditer(sentence, 0, sentence.rfind(")") + 1)
        ]  # as `_sub_parentheses`
        for match in _WORD_RE.finditer(sentence):
            if _BREAK_RE.search(sentence, last, match.start()):
                clause += 1
            last = match.end()
            # the asides are in order and apart: only the last opening before the word may hold it
            inner = bisect_left(asides, match.start(), key=lambda aside: aside[0]) - 1
            aside = inner >= 0 and match.start() < asides[inner][1]
            start = match.start()
            elided = _ELIDED_RE.match(sentence, start) if self.elides else None
            if elided:  # "dall'" is a function word, "Inquisizione" the word itself
                words.append(_Word(start, elided.end(), elided.group(), False, stop=True, clause=clause, aside=aside))
                start = elided.end()
            text = sentence[start : match.end()]
            particle = _KOREAN_PARTICLE_RE.search(text) if _HANGUL_RE.match(text) else None
            if particle:  # "세종대왕이": the noun a word of its own, its particle a function word
                end = start + particle.start()
                words.append(_Word(start, end, text[: particle.start()], False, clause=clause, aside=aside))
                words[-1].asked = any(t in terms for t in self._terms(words[-1].text))
                words.append(_Word(end, match.end(), particle.group(), False, stop=True, clause=clause, aside=aside))
                continue
            cjk = bool(_CJK_RE.match(text)) and not _HANGUL_RE.match(text)  # Korean words are spaced
            # Japanese writes its particles and endings in hiragana, its nouns in kanji and katakana: a
            # hiragana character is a function word ("姫路城[は]兵庫県姫路市[にある]城[で]")
            word = _Word(start, match.end(), text, cjk, stop=bool(_HIRAGANA_RE.match(text)), clause=clause, aside=aside)
            if not cjk:
                lowered = text.lower().replace("’", "'")
                word.stop = lowered in self.stopwords or lowered in self.function_words
                word.asked = any(t in terms for t in self._terms(text))
            words.append(word)
        for i, word in enumerate(words):  # a CJK character is asked when a bigram through it is, or itself
            if word.cjk:  # (a question of one character, "猫", has that character for its term)
                before = i > 0 and words[i - 1].cjk and words[i - 1].end == word.start
                after = i + 1 < len(words) and words[i + 1].cjk and words[i + 1].start == word.end
                word.asked = (
                    (before and words[i - 1].text + word.text in terms)
                    or (after and word.text + words[i + 1].text in terms)
                    or word.text in terms
                )
        return words

    def _best_span(self, sentence: str, typed: list[tuple[int, int]], asked: _Question) -> tuple[float, str] | None:
        """(score, text) of the sentence's best candidate span, or None when it has none."""
        question, terms, weights, sides, who_did = asked.text, asked.terms, asked.weights, asked.sides, asked.who_did
        words = self._words(sentence, terms)
        several = bool(SEVERAL_NAMED_RE.search(question))
        uniform = len(set(sides.values())) == 1  # the question's terms all before, or all after, its answer
        anchors: dict[str, list[int]] = {}
        for i, word in enumerate(words):
            if word.asked:
                for term in self._terms(word.text) if not word.cjk else _cjk_terms(words, i, terms):
                    if term in terms:
                        anchors.setdefault(term, []).append(i)
        quoted: set[tuple[int, int]] = set()
        if typed:
            spans = typed
            if who_did:  # "¿Quién construyó la Alhambra?" → "construida por la dinastía nazarí"
                starts = {start for start, _ in spans}  # a name opening the agent is the answer, not more
                agents = [
                    (a, b)
                    for a, b in self._chunks(words)
                    if words[a].start not in starts and _one_noun_phrase(words[a : b + 1])
                ]
                spans = spans + [(words[a].start, words[b].end) for a, b in agents if self._agent(words, a, b)]
            if asked.naming:  # "What is the name of the spiritual teacher?" → "known as a guru", no capital
                given = [(a, b) for a, b in self._chunks(words) if _after_naming(words, a)]
                spans = spans + [(words[a].start, words[b].end) for a, b in given]
        else:  # chunks, names and quotations
            quoted = {
                m.span(1) if m.group(1) is not None else m.span(2)
                for m in _QUOTED_RE.finditer(sentence)
                if len(m.group(1) or m.group(2)) > 1
            }
            chunks = self._chunks(words, of_the=asked.where)
            chunks += _cjk_parts(words, chunks, asked.head)
            spans = [(_with_sign(sentence, words[a].start), words[b].end) for a, b in chunks]
            titles = [(a, b) for a, b in quoted if _TITLE_CASE_RE.fullmatch(sentence, a, b)]
            # a chunk inside a title is the whole title: "The Choate Marching Song", not "Marching Song"
            spans = [next(((a, b) for a, b in titles if a <= start and end <= b), (start, end)) for start, end in spans]
            if asked.noun:  # what a naming word gives the question's noun: "an enzyme [called invertase]"
                spans += [(words[a + 1].start, words[b].end) for a, b in chunks if a < b and _naming_word(words[a])]
            if asked.kind == "name":  # no name here: still no amount ("six hours") for "who"
                spans = [(a, b) for a, b in spans if not _amount_or_date(sentence, a, b)]
            spans += typed_spans("name", sentence, question, self.stopwords) + sorted(quoted)
        ranges = {c for c in (_word_range(words, start, end, sentence) for start, end in spans) if c is not None}
        gaps = self._gaps(words, asked.gap) if asked.gap else {}
        if not typed:  # the whole noun phrase at a gap, question words inside: "given by [the kinetic energy …]"
            ranges.update((a, b, words[a].start, words[b].end) for a, b in self._phrases_at(words, gaps, asked.noun))
        if asked.where and typed and self.analyzer.settings.language != "en":
            ranges.update(self._described_places(words, ranges))  # "dans [l'océan Atlantique]"
        # never a span of the question's own words, inflected or not ("Varroa mites" for "the varroa mite")
        candidates = sorted(c for c in ranges if not self._only_asked(sentence[c[2] : c[3]], terms))
        if asked.gap and not asked.kind and asked.gap.words[-1:] != ["do"]:  # an object is no lone verb form
            nominal = [c for c in candidates if not (c[0] == c[1] and self._past_form(words[c[0]].text))]
            candidates = nominal or candidates  # "… Rosie Webster [followed] her on her quest to be a supermodel"
        if asked.where:  # "Wo wurde Goethe geboren?": the place, not "Johann Wolfgang von Goethe"
            named = {t for word in re.findall(r"\w+", question)[1:] if word[:1].isupper() for t in self._terms(word)}
            elsewhere = [c for c in candidates if not named.intersection(self._passage_terms(sentence[c[2] : c[3]]))]
            candidates = elsewhere or candidates
        if who_did:  # "Qui valide …?" and "… doivent être validées par le responsable": the agent, no other
            doers = [c for c in candidates if self._agent(words, c[0], c[1], asked.verbs)]
            doers = [c for c in doers if _one_noun_phrase(words[c[0] : c[1] + 1])]
            owned = {c[0] for c in doers}  # not the owner of the next: "by [New York Law School]'s Professor …"
            doers = [c for c in doers if not (words[c[1]].text.endswith(("'s", "’s")) and c[1] + 1 in owned)]
            apposed = [c for c in candidates if any(_named_after(sentence, words, d[1], c[0]) for d in doers)]
            candidates = apposed or doers or candidates  # "overseen by Controller of the channel, Kevin Bakhurst,"
        subject_question = who_did or any(side < 0 for side in sides.values())
        # the question's words nearest its Chinese or Japanese question word that this sentence holds too:
        # the noun right after it ("哪个[学派]": the answer precedes it), else the words before it
        following = asked.around[1][:2]
        trail_pair = following if following in cjk_pairs(following) and following in sentence else ""
        lead_pair = "" if trail_pair else next((p for p in reversed(cjk_pairs(asked.around[0])) if p in sentence), "")
        numbers = self._owned(words, candidates, terms) if asked.kind == "number" and len(candidates) > 1 else {}
        # the sentence's forms of the verb a non-English "what" question asks the object of
        acting = (
            {w.text.lower() for w in words if asked.acting.intersection(self._terms(w.text))} if asked.acting else set()
        )
        best: tuple[float, str] | None = None
        for first, last, start, end in candidates:
            proximity = 0.0
            for term, positions in anchors.items():
                side = sides.get(term, 0)
                proximity += weights[term] * max(
                    (1.0 if side == 0 or (p < first) == (side > 0) or first <= p <= last else WRONG_SIDE)
                    / (1 + DISTANCE_SCALE * _distance(words, first, last, p))
                    for p in positions
                )
            size = last - first + 1
            cost = LENGTH_COST * (max(0, size - 2) / 2 if words[first].cjk else size - 1)
            score = proximity / asked.total - cost + _shape_bonus(words, first, last)
            own = numbers.get((first, last))
            counted = (start, end) if own is None or own.whole is None else own.whole  # "5,500 of them": them
            if asked.focus and self._counts(sentence, *counted, asked.focus):
                score += FOCUS_BONUS  # "2,000 eggs" for "how many eggs"
            if own is not None:  # "44% oils, of which [62%] is monounsaturated oleic acid" for "… is oleic acid?"
                # (what the question counts has its bonus above: "one in [eight] of the people" counts no people)
                score += OWN_BONUS * math.fsum(weights[t] for t in own.terms - asked.focus) / asked.total
            if uniform and _between_asked(words, first, last):
                score -= BETWEEN_COST  # "stratigraphers often use": the answer follows "use", not "often"
            if sides and (_VERBISH_RE.match(words[first].text) or _VERBISH_RE.match(words[last].text)):
                score -= VERBISH_COST
            if sides and _before_article(words, last):
                score -= TRANSITIVE_COST  # "regarding the Venus cycle": a verb or preposition ends no answer
            if subject_question and self._agent(words, first, last) and _one_noun_phrase(words[first : last + 1]):
                score += AGENT_BONUS  # "What limits …?" → "is usually limited by the working fluid"
            if asked.where and self._before_where(words, last):
                score += RELATIVE_PLACE_BONUS  # "Where did his sons study?" → "Moscow, where his sons studied"
            elif asked.where and self._after_place_marker(words, first):
                score += PLACE_BONUS  # "Wo wurde Goethe geboren?" → "in Frankfurt am Main"
            if typed and several and COORDINATION_RE.search(sentence, start, end):
                score += LIST_BONUS  # "Which countries …?" → "China, Japan and Korea"
            if asked.noun and self._after_noun(sentence, words, first, asked.noun):
                score += TITLED_NAME_BONUS  # "Which critic …?" → "critic Dave Marsh"
            elif asked.noun and self._headed_by(words[first : last + 1], asked.noun):
                score += TITLED_NAME_BONUS  # "Which museum …?" → "the Horniman Museum", "im Wettersteingebirge"
            if asked.sort and last + 1 < len(words) and asked.sort.intersection(self._terms(words[last + 1].text)):
                score += SORT_BONUS  # "What kind of legislature …?" → "a unicameral legislature"
            # (an untyped answer, not after the sentence's opening word: "In traditional Christian architecture,")
            lead = self._word_before(words, first, asked.lead)
            if lead is not None and (asked.kind or lead > 0):
                score += LEAD_BONUS  # "By how many points …?" → "win by 5 points"
            elif lead_pair and sentence.endswith(lead_pair, 0, start):
                score += LEAD_BONUS  # "李白被称为什么？" → "被后人称为[诗仙]"
            if acting and self._word_before(words, first, acting) is not None:
                score += OBJECT_BONUS  # "O que narra Os Lusíadas?" → "que narra [a viagem de Vasco da Gama]"
            if first > 0 and words[first].cjk and words[first - 1].cjk and asked.kind == "name":
                marker = words[first - 1].text  # "最后在[上海]注入东海", "由[陕西临潼的农民]在打井时发现"
                score += PLACE_BONUS if asked.where and marker in _CJK_PLACE_MARKERS else 0.0
                score += AGENT_BONUS if not asked.where and marker in _CJK_AGENT_MARKERS else 0.0
            if (
                asked.kind == "name"
                and not asked.where
                and words[last].cjk
                and sentence.startswith(_JA_AGENT_MARKERS, end)
            ):
                score += AGENT_BONUS  # "源氏物語は誰が書いた？" → "[紫式部]によって書かれた"
            elif who_did and last + 1 < len(words) and words[last + 1].text in _SUBJECT_PARTICLES:
                score += AGENT_BONUS  # "한글은 누가 창제하였습니까?" → "[세종대왕]이 창제하였다"
            if asked.head and words[last].cjk and words[last].text == asked.head:
                score += TITLED_NAME_BONUS  # "泰山位于哪个省？" → "[山东省]中部", "何県" → "[兵庫県]姫路市"
            if trail_pair and sentence.startswith(trail_pair, end):
                score += SORT_BONUS  # the noun a Chinese "which" asks for, as "what kind of N": "[儒家]学派"
            if asked.naming and _after_naming(words, first):
                score += NAMING_BONUS  # "What is the name of the spiritual teacher?" → "known as a guru"
            # "What did Rutherford call the particles?" → "called the particles protons"; "To whom had Darwin
            # shown his theory?" → "shown his theory to their mutual friend [Joseph Hooker]"
            if not self._amount_before_noun(words, sentence, (last, start, end), asked):
                score += self._gap_bonus(words, first, gaps)
            if (start, end) in quoted:
                score += QUOTED_BONUS  # set apart by the writer: a term, a title, a nickname
            if best is None or score > best[0]:
                best = (score, _tidy(sentence[start:end]))
                if asked.where:  # a place found with its article (`phrases.place_phrases`) answers without it
                    best = (score, _LOWER_ARTICLE_RE.sub("", best[1]))
                if asked.kind is None and first in gaps and not _amount_or_date(sentence, start, end):
                    # the object the question asks for, "work" of "work, suffering and death": the whole list
                    best = (score, _tidy(sentence[start : self._list_end(sentence, start, end)]))
        return best

    def _owned(
        self, words: list[_Word], candidates: list[tuple[int, int, int, int]], terms: set[str]
    ) -> dict[tuple[int, int], _Stretch]:
        """The question's terms each of several numbers says something of: the words after it up to the
        next number in its phrase ("9,872 [being paved] and 9833 km"), and, for a part of a whole ("of
        which 62%", "5,500 of them"), the whole's too ("44% [oils], of which 62% is …")."""
        spans = sorted({(first, last) for first, last, _, _ in candidates})
        stretches: dict[tuple[int, int], list[_Word]] = {span: [] for span in spans}
        for n, span in enumerate(spans):
            following = spans[n + 1] if n + 1 < len(spans) else None
            phrase, reached = _phrase_after(words, span[1], following[0] if following else len(words))
            joint = next((i for i, w in enumerate(phrase) if w.text.lower() in _NUMBER_JOINTS), None)
            if following and reached and joint is not None:  # "565 °C … and [condenser temperatures are] 30 °C"
                stretches[following] += phrase[joint + 1 :]
                phrase = phrase[:joint]
            stretches[span] += phrase
        owned = {
            span: {t for w in stretch if w.asked for t in self._terms(w.text) if t in terms}
            for span, stretch in stretches.items()
        }
        wholes = dict(zip(spans, _wholes(words, spans), strict=True))
        return {
            span: _Stretch(owned[span] | owned[whole], (words[whole[0]].start, words[whole[1]].end))
            if whole
            else _Stretch(owned[span], None)
            for span, whole in wholes.items()
        }

    def _amount_before_noun(
        self, words: list[_Word], sentence: str, span: tuple[int, int, int], asked: _Question
    ) -> bool:
        """Whether an untyped span is a year or an amount before the noun of "which N": no answer at a
        gap, but what describes it ("in his [1957] book 'An Economic Theory of Democracy'")."""
        last, start, end = span  # its last word, its first and end characters
        return bool(
            asked.noun
            and asked.kind is None
            and last + 1 < len(words)
            and asked.noun.intersection(self._terms(words[last + 1].text))
            and _amount_or_date(sentence, start, end)
        )

    def _list_end(self, sentence: str, start: int, end: int) -> int:
        """Where the list a span opens ends: after "[work], suffering and death" its last item (items
        of up to MAX_LIST_ITEM_WORDS content words, the last after "and" or "or"); `end` without one."""
        found = _LIST_RE.match(sentence, end)
        if found is None:
            return end
        words = re.findall(r"[\w'’-]+", found.group())[:-1]
        if any(w.lower() in self.stopwords for w in words):
            return end  # an item with a function word: "Paris, the capital, and …" (its "and" aside)
        if any(w[:1].isupper() != sentence[start].isupper() for w in words):
            return end  # items of another kind: "in 1985, Austria, Finland …"
        at = found.end()
        for _ in range(MAX_LIST_ITEM_WORDS):  # the last item: its words up to a function word or a sign
            word = _LIST_ITEM_RE.match(sentence, at)
            if word is None or word.group(1).lower() in self.stopwords:
                break
            at = word.end()
        return at if at > found.end() else end

    def _gaps(self, words: list[_Word], gap: GapQuestion) -> dict[int, float]:
        """Where an object question's answer starts in a sentence: right after a run of the question's
        words in their order that ends the question ("… reflect?" and "which reflects the state of
        governance") or ends with a preposition ("introduced to" of "… was Knuth introduced to while
        studying?"), skipping an article, or one the question's words after it resume a few words later
        ("USA provides [competitions] for cheerleading squads": more, the span stands between them); not
        a run ending inside the question with a noun (the subject: "Some specialized yeasts, e.g. …, can
        use alkanes as"). Each place maps to its bonus. After a form of "be", the run must hold
        a participle ("built to arm", "referred to as") or end with the question's stranded preposition
        ("What is Paris the capital of?"): "Who was the first woman to win …?" asks for the subject, and
        "What is the largest city in the east of Arkansas?" for what the sentence's "is" joins to it."""
        asked = gap.words
        found: dict[int, float] = {}
        for i in range(len(words)):
            for j in range(len(asked)):
                size = 0
                while i + size < len(words) and j + size < len(asked) and self._same(words[i + size], asked[j + size]):
                    size += 1
                run = words[i : i + size]
                if not run or all(w.stop for w in run) or run[-1].aside:
                    continue  # nor one ending in a bracket: "League (NFL) [commissioner]" says nothing of the NFL
                rest = asked[j + size :]
                enclosed = bool(rest) and run[-1].text.lower() not in PREPOSITIONS
                if enclosed and self._fronted(words, i, rest):  # "In 1996, Adobe added [X]" for "… add in 1996?"
                    enclosed = False
                elif enclosed and not self._resumes(words, i + size, rest):
                    continue
                stranded = not rest and run[-1].text.lower() in PREPOSITIONS  # "What is Paris the capital of?"
                if gap.moved and not stranded:
                    continue  # "After which century did states invest in …?": only after "after"
                if gap.passive and not (stranded or any(english_participle(w.text, self.markers) for w in run)):
                    continue
                if not self._in_order(words, i, asked[:j]):
                    continue
                if any(_NEGATION_RE.search(w.text) for w in words[max(0, i - 2) : i]):
                    continue  # "are not classified as [true sharks] …, but as a distinct group"
                at = i + size
                if at < len(words) and words[at].stop and not words[at].asked:  # "the", "a", "its"
                    at += 1
                    if (
                        words[at - 1].text.lower() in _POSSESSIVES
                        and at < len(words)
                        and words[at].text.lower() == "own"
                    ):
                        at += 1  # "their own"
                found[at] = max(found.get(at, 0.0), GAP_BONUS + (ENCLOSED_BONUS if enclosed else 0.0))
        return found

    def _chunks(self, words: list[_Word], of_the: bool = False) -> list[tuple[int, int]]:
        """`_chunks` with this language's joiners (and, in English, its verbs' past forms)."""
        english = self.analyzer.settings.language == "en"
        return _chunks(words, self.not_joiners, of_the, self._past_form if english else None)

    def _past_form(self, word: str) -> bool:
        """An English verb's past form: "said", "married" (not "Vail")."""
        return word.islower() and english_participle(word, self.markers)

    def _phrases_at(self, words: list[_Word], gaps: dict[int, float], noun: set[str]) -> list[tuple[int, int]]:
        """(first, last) of the run of content words from each gap to the end of its clause or a function
        word, where it holds a question word: chunks stop at question words, and cut "the kinetic energy
        expression" to "kinetic" for "What is the energy given by?", "two junior high schools" to "two
        junior high" for "What does the school district include?" (a run opening with a question word is
        no cut chunk: "in the [plant cuticle] and …"; nor a year and the noun of "which N": "his 1957 book")."""
        found = []
        for first in gaps:
            last = first
            while last + 1 < len(words) and not words[last + 1].stop and words[last + 1].clause == words[first].clause:
                last += 1
            run = words[first : last + 1]
            if not run or run[0].stop or run[0].asked or not any(w.asked for w in run):
                continue
            if not (noun.intersection(self._terms(run[-1].text)) and run[0].text[:1].isdigit()):
                found.append((first, last))
        return found

    def _gap_bonus(self, words: list[_Word], first: int, gaps: dict[int, float]) -> float:
        """The bonus of a gap where a span starts, or of one right after an article or a possessive a few
        lowercase words of its noun phrase before it: a name after its description ("their mutual friend
        [Joseph Hooker]")."""
        if first in gaps:
            return gaps[first]
        for at in range(first, max(-1, first - MAX_GAP_LEAD - 1), -1):
            if at < first and at in gaps and at > 0 and words[at - 1].text.lower() in _ARTICLES | _POSSESSIVES:
                return gaps[at]
            before = words[at - 1] if at > 0 else None
            if before is None or before.stop or before.asked or before.clause != words[first].clause:
                return 0.0
            if not before.text.islower():
                return 0.0
        return 0.0

    def _resumes(self, words: list[_Word], at: int, rest: list[str]) -> bool:
        """Whether the question's words after a run, opening with a preposition, follow it a few words
        later: "USA provides [competitions] for cheerleading squads" for "What does USA provide for
        cheerleading squads?"."""
        if rest[0] not in PREPOSITIONS or len(rest) < 2:
            return False
        rest = [asked for asked in rest if asked not in _ARTICLES]  # "to [the] Batman and Robin suits"
        kept = [w for w in words[at + 1 :] if w.text.lower() not in _ARTICLES]  # nor the sentence's
        for k in range(min(MAX_GAP_WORDS, len(kept) - len(rest) + 1)):
            if all(self._same(kept[k + n], asked) for n, asked in enumerate(rest)):
                return True
        return False

    def _fronted(self, words: list[_Word], at: int, rest: list[str]) -> bool:
        """Whether the question's words after a run are a phrase opening with a preposition that the
        sentence says before it ("Within 24 hours …, they turned [the tide]" for "What did they turn
        within 24 hours?"): its content words all stand before the run."""
        # not "cooked with in Uttar Pradesh": "with" is the verb's, the phrase is "in Uttar Pradesh"
        if rest[0] not in PREPOSITIONS or len(rest) < 2 or rest[1] in PREPOSITIONS:
            return False
        content = [asked for asked in rest[1:] if asked not in self.stopwords]
        return bool(content) and all(any(self._same(word, asked) for word in words[:at]) for asked in content)

    def _in_order(self, words: list[_Word], at: int, earlier: list[str]) -> bool:
        """Whether each content word the question puts before a run, where the sentence holds it, also
        stands before the run there: not "… to cause physical pain" for "What does corporal punishment
        cause a student?" and "the student in order to cause"."""
        for asked in earlier:
            terms = set(self._terms(asked))
            places = [i for i, w in enumerate(words) if w.asked and terms.intersection(self._terms(w.text))]
            if places and min(places) >= at:
                return False
        return True

    def _same(self, word: _Word, asked: str) -> bool:
        """Whether a sentence word is a question word: the same word, or a content word sharing a term."""
        lowered = word.text.lower()
        if lowered == asked or _VERB_FORMS.get(lowered, lowered) == _VERB_FORMS.get(asked):  # "has" for "have"
            return True
        return word.asked and bool(set(self._terms(word.text)) & set(self._terms(asked)))

    def _agent(self, words: list[_Word], first: int, last: int, verbs: set[str] | None = None) -> bool:
        """Whether a span is the agent of a passive: right after the language's marker (and at most
        MAX_AGENT_LEAD stopwords) that follows a participle, or with `verbs` one of the question's main
        clause ("limited by the working fluid", "escrita por Miguel de Cervantes"; not "granted by the
        USPTO" for "Who said … had been granted?"); in German and Dutch, the participle follows the
        agent ("von den Römern gegründet")."""
        verb = verbs is not None

        def asked(word: _Word) -> bool:
            return word.asked and (verbs is None or bool(verbs.intersection(self._terms(word.text))))

        at = first - 1
        if at > 0 and words[at].text.endswith(("'s", "’s")):  # "by New York Law School's [Professor Robert Blecker]"
            possessor = at
            while at > possessor - MAX_POSSESSOR_WORDS and at > 0 and words[at - 1].text[:1].isupper():
                at -= 1
            at -= 1
        agent = self.markers.agent
        lead = at
        while at >= 0 and lead - at < MAX_AGENT_LEAD and words[at].stop and words[at].text.lower() not in agent:
            at -= 1
        if at < 1 or words[at].text.lower() not in agent or words[at].clause != words[first].clause:
            return False
        if self.markers.participle_last:  # "von den Römern im Jahr 50 gegründet"
            clause = words[at].clause
            following = [w for w in words[last + 1 : last + 1 + MAX_AGENT_REACH] if w.clause == clause]
            return any((asked(w) or not verb) and self.markers.is_participle(w.text) for w in following)
        before = words[at - 1]
        if before.clause != words[at].clause:  # "vidrieras, por ejemplo"
            return False
        english = self.analyzer.settings.language == "en"
        # a participle ("written by") or a noun ("woodcuts by Lucas Cranach"), not a verb's other forms ("win by 5")
        lowered = before.text.lower()
        passive = not english or lowered not in self.markers.forms or english_participle(lowered, self.markers)
        if (asked(before) and passive) or (not verb and self.markers.is_participle(before.text)):
            return True
        # English: the question's verb a few words before "by" ("undertaken at Alfred's command by Werferth")
        reach = words[max(0, at - MAX_AGENT_REACH) : at - 1]
        return english and any(
            asked(w) and w.clause == words[at].clause and english_participle(w.text, self.markers) for w in reach
        )

    def _holds_agent(self, sentence: str, terms: set[str], verbs: set[str]) -> bool:
        """Whether a sentence names the agent of the question's verb in the passive ("Foi projetado
        pelo engenheiro Heitor da Silva Costa" for "Quem projetou …?")."""
        words = self._words(sentence, terms)
        return any(self._agent(words, a, b, verbs) for a, b in self._chunks(words))

    def _after_noun(self, sentence: str, words: list[_Word], first: int, noun: set[str]) -> bool:
        """Whether a span is a name right after the question's noun ("critic Dave Marsh"), or any phrase
        after it and "such as", "including" or a naming word ("important events such as the deaths of …",
        "an enzyme called invertase")."""
        at = first - 1
        if at > 0 and words[at].text.lower() in _ARTICLES:
            at -= 1
        marker = words[at].text.lower() if at >= 0 else ""
        if marker == "as" and at > 1 and words[at - 1].text.lower() in {"such", *_NAMING_AS_WORDS}:
            at, example = at - 2, True  # "such as", "known as"
        elif (marker == "including" or marker in _NAMING_WORDS) and at > 0:  # "an enzyme called invertase"
            at, example = at - 1, True
        else:
            at, example = first - 1, False  # a name: right after the noun
        before = words[at] if at >= 0 else None
        if before is None or not before.asked:
            return False
        quoted = at + 1 == first and _QUOTE_BETWEEN_RE.fullmatch(sentence, before.end, words[first].start)
        if before.clause != words[first].clause and not quoted:  # not "rainforest (Portuguese", but 'magazine "X"'
            return False
        return (example or words[first].text[:1].isupper()) and bool(noun & set(self._terms(before.text)))

    def _before_where(self, words: list[_Word], last: int) -> bool:
        """Whether a span is followed by the relative word for a place: "Moscow, where his sons studied"."""
        return last + 1 < len(words) and words[last + 1].text.lower() == self.markers.where

    def _after_place_marker(self, words: list[_Word], first: int) -> bool:
        """Whether a span follows a preposition of place, an article between them ("in the Alps")."""
        return self._word_before(words, first, self.markers.place) is not None

    def _described_places(
        self, words: list[_Word], ranges: set[tuple[int, int, int, int]]
    ) -> list[tuple[int, int, int, int]]:
        """Names of places with the common noun that French, Spanish, Italian, Portuguese … put before
        them, after a preposition of place: "se jette dans l'[océan Atlantique]", "en el [río Ebro]"."""
        described = []
        for first, last, _, end in ranges:
            noun = words[first - 1] if first > 0 else None
            if (
                noun is not None
                and words[first].text[:1].isupper()
                and noun.text.islower()
                and not (noun.stop or noun.asked or noun.cjk)
                and self._after_place_marker(words, first - 1)
            ):
                described.append((first - 1, last, noun.start, end))
        return described

    def _object_verb(self, question: str, kind: str | None) -> set[str]:
        """The terms of the verb a French, Spanish, Italian, Portuguese, German or Russian "what" question
        asks the object of: its first word after the question word, past one auxiliary ("Qu'a [détruit]
        l'incendie ?"); none for "what is X?" (`DEFINITION_RE`), for a typed question or in English (its
        object questions are `gap_question`'s)."""
        found = _WHAT_VERB_RE.match(question)
        if kind or found is None or self.analyzer.settings.language == "en" or DEFINITION_RE.match(question):
            return set()
        words = _WORD_RE.findall(found.group("rest"))
        auxiliary = bool(words) and (words[0].lower() in self.stopwords or len(words[0]) < 3)  # "a", "hat", "è"
        if auxiliary and self.markers.participle_last:  # "Was hat Gutenberg erfunden?": the participle, last
            return set(self._terms(words[-1]))
        verb = words[1] if auxiliary and len(words) > 1 else words[0] if words else None
        return set(self._terms(verb)) if verb is not None else set()

    def _headed_by(self, span: list[_Word], noun: set[str]) -> bool:
        """Whether a span is one of what a "which N" question asks for by its last word: a name ending
        with N ("Horniman [Museum]" is a museum; one name, not a list ending with one), or a German
        compound ending with N's term ("Wetterstein[gebirge]" is a "Gebirge", "Boden[see]" a "See")."""
        head = span[-1].text
        if len(span) > 1:
            return head[:1].isupper() and bool(noun.intersection(self._terms(head))) and _one_noun_phrase(span)
        if self.analyzer.settings.language != "de":
            return False
        return any(
            len(term) > 2 and term != stem and stem.endswith(term) for stem in self._terms(head) for term in noun
        )

    def _word_before(self, words: list[_Word], first: int, wanted: Container[str]) -> int | None:
        """Where the one of the `wanted` words a span follows stands, in its clause, an article between
        them; None when it follows none."""
        at = first - 1
        if at >= 1 and words[at].stop and words[at].text.lower() not in wanted:
            at -= 1
        found = at >= 0 and words[at].text.lower() in wanted and words[at].clause == words[first].clause
        return at if found else None

    def generate_many(self, requests: Sequence[tuple[str, Sequence[Hit]]]) -> list[Generation]:
        return [self.generate(question, sources) for question, sources in requests]


def _composed(hit: Hit) -> Hit:
    """`hit` with its title and text in NFC (the same hit where they are already)."""
    if unicodedata.is_normalized("NFC", hit.text) and unicodedata.is_normalized("NFC", hit.title):
        return hit
    return replace(hit, title=composed(hit.title), text=composed(hit.text))


def _first_word(text: str) -> str:
    """A phrase's first word, lowercased ("" for none)."""
    return next(iter(text.split()), "").lower()


def _opens_with_heading(text: str) -> bool:
    """Whether a passage opens with a heading line: a line of its own, a blank line after it, a few words
    and no full stop ("Static method: `Buffer.from(buffer)`", where ragcli cut a page at its headings)."""
    first, _, rest = text.lstrip().partition("\n")
    words = first.split()
    return rest.startswith(("\n", "\r\n")) and 0 < len(words) <= MAX_TITLE_WORDS and not first.rstrip().endswith(_STOPS)


def _with_reason(top: _Scored, text: str) -> str:
    """A bare "Yes." or "No." with the sentence that follows it in its passage ("No. Please read the
    license in zlib.h."): the reply, then what it rests on (that reply's, where a FAQ says "Yes." twice)."""
    if not _BARE_REPLY_RE.fullmatch(top.sentence):
        return top.sentence
    sentences = split_sentences(text)
    after = top.position + 1
    if after < len(sentences) and sentences[top.position] == top.sentence and not _asks(sentences[after]):
        return f"{top.sentence} {sentences[after]}"
    return top.sentence


def _asks(sentence: str) -> bool:
    """Whether a sentence of a passage is a question (a FAQ's), which states nothing to answer with."""
    return bool(_ASKS_RE.search(sentence))


def _code_like(sentence: str) -> bool:
    """Whether a "sentence" is source code ("const { spawn } = require('node:child_process');", "let
    args: Vec<String> = env::args().collect()"): three or more of the braces, assignments, paths and
    arrows that prose never writes (its semicolons and brackets, even ");" after a parenthesis, it does,
    and a statistic's "p = 0.003"); an answer only when nothing else is."""
    return len(_CODE_MARKS_RE.findall(sentence)) >= CODE_SYMBOLS or bool(_DEFINITION_LINE_RE.match(sentence))


def _aside(parts: list[str]) -> bool:
    """Whether the last of the comma-separated parts before a verb is said aside of the subject before
    it: a relative clause or a participle ("X, which was …, became", "X, commemorating …, was"), or
    what a name is, was or is now ("John Winthrop, then of Massachusetts,", "Abdul Rahim Hatef, a
    non-PDPA member,"), though not the subject after an opening phrase ("In France, a committee …",
    "Having wanted … such as the Brisbane Bears, the club's directors decided")."""
    if not parts[-1].strip() or _ASIDE_START_RE.match(parts[-1]):
        return True
    if not _APPOSITIVE_START_RE.match(parts[-1]):
        return False
    named = _without_opening_phrase(parts[-2].split())  # a name alone, not a phrase ending in one
    return (
        bool(named)
        and named[0].lower() not in PREPOSITIONS
        and all(w[:1].isupper() or w in _NOUN_PHRASE_JOINERS for w in named)
    )


def _without_opening_phrase(words: list[str]) -> list[str]:
    """A subject's words without a phrase opening the sentence before it: "In 1980 [Nicolae Ceaușescu]",
    "In Germany [the Holy Roman Emperor]", "In the Kharrar caravan raid [Sa`d ibn Abi Waqqas]"."""
    if not words or words[0].lower() not in PREPOSITIONS:
        return words
    dated = SPAN_RES["date"].match(" ".join(words[1:]))
    if dated and len(dated.group().split()) + 1 < len(words):
        return words[len(dated.group().split()) + 1 :]
    articles = [k for k, w in enumerate(words) if k > 1 and w.lower() in _ARTICLES]
    if articles:
        return words[articles[-1] :]
    named = (k for k in range(2, len(words)) if words[k][:1].isupper() and words[k - 1].islower())
    return words[next((k for k in named if words[k - 1] not in _ARTICLES), 0) :]


def _other_years(sentence: str, years: set[str]) -> bool:
    """Whether a sentence names years, none of them the question's: it tells of another time."""
    named = set(_FOUR_DIGIT_YEAR_RE.findall(sentence))
    return bool(named) and not named & years


def _year_of(date: str) -> str:
    """The year of a date that says more ("7 January 1943", "summer of 1521" → the year); a range of
    years or a decade as it is."""
    years = _FOUR_DIGIT_YEAR_RE.findall(date)
    return years[0] if len(years) == 1 and len(date.split()) > 1 else date


def _untitled(subject: str) -> str:
    """A name a subject ends with after its title: "Italian composer [Ottorino Respighi]"; the subject
    itself for one with a preposition before the name ("The Wailwun people of northwestern New South Wales")."""
    titled = _TITLED_NAME_RE.search(subject)
    if titled is None or PREPOSITIONS.intersection(subject[: titled.start(1)].lower().split()):
        return subject
    return titled.group(1)


def _to_clause_end(sentence: str, at: int) -> str:
    """What a sentence says from `at` to the end of its clause: a bracket, a semicolon or colon, ",
    which", ", but" … or its full stop (a reason, a cause, what is said or described)."""
    return _tidy(_REASON_END_RE.split(sentence[at:])[0])


def _first_clause(predicate: str) -> str:
    """A predicate up to what it adds aside (", designed by …", ", which …", a dash, a bracket of more than
    one word: "focus (in addition to …)", not "(PLO)") or a second clause
    with a copula of its own: "C14H15NO7 and its PubChem number is 5484354" → "C14H15NO7"."""
    aside = _ASIDE_RE.search(predicate)  # "the B-type double-decker bus, designed by Frank Searle …"
    predicate = predicate[: aside.start()] if aside else predicate
    second = _SECOND_VERB_RE.search(predicate)
    joints = list(_CLAUSE_JOINT_RE.finditer(predicate, 0, second.end())) if second else []
    return predicate[: joints[-1].start()] if joints else predicate


def _sub_parentheses(replacement: str | Callable[[re.Match[str]], str], text: str) -> str:
    """`_PARENTHESIS_RE.sub` up to the text's last closing bracket, where the brackets end: past it, each
    opening one would be tried against the rest of the text, a time that grows with its square."""
    end = text.rfind(")") + 1
    return _PARENTHESIS_RE.sub(replacement, text[:end]) + text[end:]


def _amount_or_date(sentence: str, start: int, end: int) -> bool:
    if holds_long_word(sentence, start, end):  # none is, and some of the patterns take long to say so
        return False
    return any(SPAN_RES[kind].fullmatch(sentence, start, end) for kind in ("number", "date", "frequency"))


def _yes_no(question: str) -> bool:
    """A yes/no question: not one asking to choose ("Is it high or low?"), nor German "Was ist …?"."""
    rest = _EST_CE_QUE_RE.sub("", question)  # its "que" is no question word
    return bool(YES_NO_RE.search(question)) and not _CHOICE_RE.search(question) and not UNTYPED_RE.search(rest)


def _is_title(sentence: str, title: str) -> bool:
    """Whether a sentence is the passage's title run into its text (a Markdown or HTML heading, a text
    file's first line, reStructuredText's underline left on it): it names what follows, says nothing."""
    words = re.findall(r"\w+", sentence.lower())
    return bool(words) and words == re.findall(r"\w+", title.lower())


def _whole_sentences(scored: list[_Scored]) -> list[_Scored]:
    """The sentences, each cut by a passage's edge replaced by its whole where that is there too:
    passages overlap, so one ending "… workers raised in autumn live four" has the sentence in full
    in the next. The whole keeps the better score of the two (the cut one's passage may rank higher)."""
    kept: dict[str, _Scored] = {}
    for item in scored:  # only a passage's first or last sentence can be cut: linear in the sentences
        wholes = (
            other for other in scored if other.sentence != item.sentence and _cut_from(item.sentence, other.sentence)
        )
        whole = max(wholes, key=lambda other: len(other.sentence), default=item) if item.edge else item
        if whole is not item:
            item = whole._replace(score=max(item.score, whole.score), reach=max(item.reach, whole.reach))
        if item.sentence not in kept or item.score > kept[item.sentence].score:
            kept[item.sentence] = item
    return list(kept.values())


def _cut_from(part: str, whole: str) -> bool:
    return whole.startswith(part) or whole.endswith(part)


def _shape_bonus(words: list[_Word], first: int, last: int) -> float:
    """What makes a span look like a phrase of its own: it opens after a function word or a break,
    closes before a break, or names something (a capitalised word inside the sentence)."""
    bonus = 0.0
    if first == 0 or words[first - 1].stop or words[first - 1].clause != words[first].clause:
        bonus += OPENS_BONUS
    if last == len(words) - 1 or words[last + 1].clause != words[last].clause:
        bonus += CLOSES_BONUS
    if any(w.text[:1].isupper() for w in words[max(first, 1) : last + 1]):
        bonus += CAPITAL_BONUS
    return bonus


def _before_article(words: list[_Word], last: int) -> bool:
    """Whether an article follows a span's last word in its clause: a noun phrase seldom ends there."""
    after = words[last + 1] if last + 1 < len(words) else None
    return after is not None and after.clause == words[last].clause and after.text.lower() in _ARTICLES


def _naming_word(word: _Word) -> bool:
    return word.text.lower() in _NAMING_WORDS


def _after_naming(words: list[_Word], first: int) -> bool:
    """Whether a span follows the words that give a name ("called", "known as", "referred to as"), an
    article between them: "the spiritual teacher is known as a guru"."""
    at = first - 1
    if at >= 1 and words[at].text.lower() in _ARTICLES:
        at -= 1
    if at < 0:  # a quotation mark between them is no break: 'also called "rocks"'
        return False
    before = words[at].text.lower()
    if before == "as" and at >= 1:
        ahead = words[at - 1].text.lower()  # "known as", "referred to as"
        return ahead in _NAMING_AS_WORDS or (at >= 2 and ahead == "to" and words[at - 2].text.lower() == "referred")
    return before in _NAMING_WORDS


def _named_after(sentence: str, words: list[_Word], last: int, first: int) -> bool:
    """Whether the span at `first` names, in apposition, the agent phrase ending at `last`: "by
    Controller of the channel, Kevin Bakhurst", "by the director, Ann Lee" (a capitalised name after a
    comma, the agent's "of" phrase between or the agent lowercase; not "by Werferth, Bishop of …")."""
    between = sentence[words[last].end : words[first].start]
    found = _APPOSED_NAME_RE.fullmatch(between) if first > last and words[first].text[:1].isupper() else None
    return found is not None and (found.group(1) is not None or words[last].text.islower())


def _with_sign(sentence: str, start: int) -> int:
    """A chunk's start, moved back over the currency sign before it ("£30m", not "30m")."""
    return start - 1 if start > 0 and sentence[start - 1] in "$£€¥" else start


def _between_asked(words: list[_Word], first: int, last: int) -> bool:
    """Whether a span stands right between two question words of its clause: where a question that
    keeps its terms together (all on one side of the answer) puts no answer."""
    before = words[first - 1] if first > 0 else None
    after = words[last + 1] if last + 1 < len(words) else None
    return bool(
        before and after and before.asked and after.asked and before.clause == words[first].clause == after.clause
    )


def _cjk_terms(words: list[_Word], i: int, terms: set[str]) -> list[str]:
    """The question bigrams a CJK character belongs to."""
    found = []
    if i > 0 and words[i - 1].cjk:
        found.append(words[i - 1].text + words[i].text)
    if i + 1 < len(words) and words[i + 1].cjk:
        found.append(words[i].text + words[i + 1].text)
    found.append(words[i].text)
    return [t for t in found if t in terms]


def _distance(words: list[_Word], first: int, last: int, anchor: int) -> float:
    """Words between a span and a question word, each phrase break between them counting extra."""
    if first <= anchor <= last:
        return INSIDE_DISTANCE
    gap = first - anchor - 1 if anchor < first else anchor - last - 1
    breaks = abs(words[first if anchor < first else last].clause - words[anchor].clause)
    return float(gap + BREAK_DISTANCE * breaks)


def _phrase_after(words: list[_Word], last: int, end: int) -> tuple[list[_Word], bool]:
    """The words after word `last` and before word `end` up to a phrase break, past a parenthesis that
    a lower-case word continues ("9833 km (2002 est.) [unpaved]"), and whether they reach `end`."""
    phrase: list[_Word] = []
    clause, skipped = words[last].clause, False
    for word in words[last + 1 : end]:
        if word.aside:
            skipped = True
            continue
        if word.clause != clause and not (skipped and word.text[:1].islower()):  # not "2.4% (2006) Imports:"
            return phrase, False
        clause, skipped = word.clause, False
        phrase.append(word)
    return phrase, True


def _wholes(words: list[_Word], spans: list[tuple[int, int]]) -> list[tuple[int, int] | None]:
    """The number each number is part of: the last before an "of which" that stands before it ("44%
    oils, of which 62% …, 29% … and 9% …"), or the one right before it when "of them" follows it
    ("55,200 children, but only 5,500 of them"). In one pass: looking back from each number cost the
    square of how many a sentence holds (a run of "[1][1][1]…")."""
    wholes: list[tuple[int, int] | None] = []
    parted: tuple[int, int] | None = None  # the nearest number so far with an "of which" after it
    for n, (_, last) in enumerate(spans):
        after = n and " ".join(w.text.lower() for w in words[last + 1 : last + 3]) in _PART_AFTER
        wholes.append(spans[n - 1] if after else parted)
        between = [w.text.lower() for w in words[last + 1 : spans[n + 1][0]]] if n + 1 < len(spans) else []
        if any(" ".join(between[i : i + 2]) in _PART_BEFORE for i in range(len(between) - 1)):
            parted = spans[n]
    return wholes


# Chinese prepositions of place, agent and source: a chunk's part after one, or before it, is a candidate
# of its own ("最后在[上海]注入东海", "由[陕西临潼的农民]在打井时发现")
_CJK_PREPOSITIONS = frozenset("在由被于从到向")
_CJK_PLACE_MARKERS = frozenset("在于到")  # Chinese "at / in", "to": a place follows
_CJK_AGENT_MARKERS = frozenset("由被")  # Chinese "by": the doer follows
_JA_AGENT_MARKERS = ("によって", "により", "による")  # Japanese "by": after the doer
_SUBJECT_PARTICLES = frozenset({"이", "가", "が"})  # Korean and Japanese particles after a subject


def _cjk_parts(words: list[_Word], chunks: list[tuple[int, int]], head: str) -> list[tuple[int, int]]:
    """More candidates inside CJK chunks, which are runs of characters outside the question's bigrams
    (no word boundaries to cut at): the parts between a chunk's Chinese prepositions, and its start up
    to each character that is the head of the noun a "which N" question asks for ("[浙江省杭州市]西部"
    for "哪个城市")."""
    parts: list[tuple[int, int]] = []
    for a, b in chunks:
        if not words[a].cjk:
            continue
        cuts = [i for i in range(a, b + 1) if words[i].text in _CJK_PREPOSITIONS]
        bounds = [a - 1, *cuts, b + 1]
        parts += [(i + 1, j - 1) for i, j in pairwise(bounds) if i + 1 <= j - 1 and (i, j) != (a - 1, b + 1)]
        if head:
            parts += [(a, i) for i in range(a, b) if words[i].text == head]
    return parts


def _word_range(words: list[_Word], start: int, end: int, sentence: str) -> tuple[int, int, int, int] | None:
    """The words a character span touches (first, last) and the span itself; None when it has none or
    cuts a word other than at a hyphen or a possessive ("5" of "5-cylinder", "Tesla" of "Tesla's", never
    "19" of "19th")."""
    # the words are in order and apart: those it touches run from the first ending after its start to
    # the last starting before its end, found by bisection (a scan per span cost the square of the words)
    lo = bisect_right(words, start, key=lambda w: w.end)
    hi = bisect_left(words, end, key=lambda w: w.start) - 1
    if lo > hi:
        return None
    first, last = words[lo], words[hi]
    if (start > first.start and sentence[start - 1] not in "-–") or (end < last.end and sentence[end] not in "-–'’"):
        return None
    return lo, hi, start, end


def _chunks(
    words: list[_Word],
    not_joiners: frozenset[str] = frozenset(),
    of_the: bool = False,
    verb: Callable[[str], bool] | None = None,
) -> list[tuple[int, int]]:
    """Candidate spans: runs of content words (neither stopwords nor question words) within a clause,
    and each run joined to the next across one short function word ("unit of flux", "Lane and Vail")
    that is neither an article (which opens a new phrase) nor an auxiliary verb; with `of_the`, across
    "of the" too (a place: "the center of the city"); with `verb`, not across "and" to a lone verb
    before a function word ("second-degree murder and [said] he …")."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, word in enumerate(words):
        content = not word.stop and not word.asked
        joined = start is not None and content and word.clause == words[i - 1].clause
        joined = joined and (word.cjk == words[i - 1].cjk)
        if content and (start is None or joined):
            start = i if start is None else start
            continue
        if start is not None:
            runs.append((start, i - 1))
        start = i if content else None
    if start is not None:
        runs.append((start, len(words) - 1))
    candidates = list(runs)
    for (a, b), (c, d) in pairwise(runs):
        joiner = words[b + 1]
        if a == b and words[a].text.lower() in _LOCATIVES and c == b + 2 and joiner.text.lower() in _ARTICLES:
            candidates.append((a, d))  # "outside the chloroplast", "inside the fort"
            continue
        if (
            a == b
            and _GERUND_RE.match(words[a].text)
            and c == b + 2
            and joiner.text.lower() in _ARTICLES | _POSSESSIVES
        ):
            candidates.append((a, d))  # a gerund and its object: "concerned with [extending the fur trade]"
        if joiner.text.lower() in not_joiners:  # "the crew noticed a strange odor": not one phrase
            continue
        if joiner.text.lower() in _TIME_JOINERS and words[c].text[:1].isdigit():
            continue  # "his Gallic Wars [in 58–51 BC]": a time, no part of the phrase
        lone_verb = verb is not None and c == d and d + 1 < len(words) and words[d + 1].stop and verb(words[c].text)
        if lone_verb and joiner.text.lower() in ("and", "or"):
            continue
        if joiner.cjk and joiner.text not in _CJK_JOINERS:
            continue
        if _HANGUL_RE.match(joiner.text) and joiner.text not in _KOREAN_JOINERS:
            continue  # a Korean particle ends its noun phrase ("1443년[에] 세종대왕"), but "of" and "and"
        if c == b + 2 and joiner.stop and len(joiner.text) <= MAX_JOINER_CHARS and words[a].clause == words[d].clause:
            candidates.append((a, d))
        elif of_the and c == b + 3 and joiner.text.lower() == "of" and words[b + 2].text.lower() in _ARTICLES:
            candidates.append((a, d))  # "in the center of the city"
    return candidates


# a gerund ("extending"), not a preposition in "-ing" ("regarding the Venus cycle") nor "King"
_GERUND_RE = compiled_later(
    r"^(?!(?:regard|concern|includ|accord|follow|exclud|dur|consider|pend|bar|notwithstand)ing$)[a-z]{2,}ing$"
)
_TIME_JOINERS = frozenset({"in", "on", "at", "since", "by", "until"})  # before a number: a time or an amount
# the prepositions an object question may end a run of its words with ("introduced to", "referred to as")
# the function words inside one noun phrase ("Council of Europe", "Heitor da Silva Costa", "Lane and
# Vail"); an agent chunk joined by any other ("line manager at least two weeks") runs past its noun
_NOUN_PHRASE_JOINERS = frozenset(
    {"of", "and", "de", "da", "do", "dos", "di", "del", "della", "du", "des", "von", "van", "y", "e", "et", "und"}
)


def _one_noun_phrase(words: list[_Word]) -> bool:
    return all(not w.stop or w.text.lower() in _NOUN_PHRASE_JOINERS or w.text[:1].isupper() for w in words[1:])


def _only_marker(sentence: str, markers: re.Pattern[str]) -> re.Match[str] | None:
    """The marker of a sentence when it holds exactly one (None for none or several)."""
    found = list(markers.finditer(sentence))
    return found[0] if len(found) == 1 else None


def _tidy(text: str) -> str:
    """A span without the quotes or brackets it opened and never closed (or the reverse)."""
    text = text.strip()
    for opening, closing in ('""', "()", "[]", "“”", "``"):
        if text.count(opening) != text.count(closing) if opening != closing else text.count(opening) % 2:
            text = text.replace(opening, "").replace(closing, "")
    return text.strip(" ,;:")


class ExtractiveFactory:
    """The `extractive` backend: no model, the best span of the sources."""

    name = "extractive"

    def create(self, model: str | None, options: GenerationOptions, index: Index | None) -> ExtractiveGenerator:
        return ExtractiveGenerator.for_index(index, style=options.answer_style)


FACTORY = ExtractiveFactory()
