"""What a question asks for, read from its words alone: its kind (a number, a date, a name or none),
which of its words are question words rather than content, and where the answer stands from its
terms (English word order; Chinese and Japanese leave the question word in place). The extractive
generator (`extractive.py`) looks for that in the sentences; nothing here reads a passage.

Hand-written patterns in the analyzer's languages and CJK: no question classifier installs from PyPI
with its model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from ragcli.generation.markers import Markers, english_participle
from ragcli.patterns import compiled_later

# what a question measures ("What is the height of …", "Quelle est l'altitude …", "Какова глубина …")
_MEASURES = (
    r"(?:height|length|depth|width|area|population|elevation|altitude|distance|weight|percentage|proportion|rate|share|value"
    r"|temperature|price|cost|fee|salary|wage|pay|income|budget|revenue|score|porcentaje|pourcentage|prozentsatz|percentuale|temperatura|temp[eé]rature|hauteur|longueur|profondeur"
    r"|largeur|superficie|poids|altura|longitud|profundidad|anchura|poblaci[oó]n|peso|altezza|lunghezza|profondit[aà]"
    r"|larghezza|popolazione|comprimento|profundidade|largura|popula[cç][aã]o|h[oö]he|l[aä]nge|tiefe|breite|fl[aä]che"
    r"|einwohnerzahl|bev[oö]lkerung|gewicht|entfernung|высота|длина|глубина|ширина|площадь|население|вес|расстояние)"
)
# measures asked for right after "what" ("At what distance …", "What fee …"; not "which area")
_DIRECT_MEASURES = (
    r"(?:distance|height|length|depth|width|altitude|elevation|price|cost|fee|salary|wage|pay|rate|share|value|score)"
)
# Chinese "how long / tall / far / big / heavy / deep / wide / thick / fast", "how long a time"; Japanese
# "about how much"
_CJK_MEASURE_WORDS = r"多[长高远大重深宽久厚快]|どのくらい|どれくらい|どれほど"
# Japanese units a "何…" (how many …) question asks in, and measures a question may give alone
_JA_UNITS = r"キロメートル|キロ|メートル|センチ|ミリ|時間|分|秒|日間|週間|か月|ヶ月|年間|人|歳|倍|階|回|度|トン|グラム|円|個|件|本|枚|台"
_JA_MEASURES = r"高さ|長さ|面積|人口|重さ|距離|深さ|広さ|全長|標高|最高速度|速度|体重|幅|大きさ|気温|温度|価格"
# questions that ask for a measure: the question word asks for a number, and a measure noun stays a
# content term ("What is the height of …" → "its height is 330 metres")
_MEASURE_QUESTION = (
    r"\bhow (?:long|far|big|heavy|large|tall|high|deep|wide)\b|\bwie (?:lange?|hoch|gro(?:ß|ss)|weit|tief|schwer|breit)\b"
    r"|\bcu[aá]nto (?:mide|pesa|dista)\b|\bcombien (?:mesure|p[eè]se)\b"
    rf"|\b(?:what|which|qu[eé]|cu[aá]l|quel(?:le)?|quale|qual|welche[rs]?)\b(?=(?:\W+(?!(?:do|does|did|at|in|on|by|for)\b)\w+){{1,4}}?\W+{_MEASURES}\b)"
    rf"|\b(?:what|which)\b(?=\W+{_DIRECT_MEASURES}\b)"
    rf"|(?<!\w)(?:какова|каков|какое)(?=(?:\W+\w+)?\W+{_MEASURES}(?!\w))"
)
# what a "what / which X" question names when X is one of these (the answer types of people, groups and
# places, as question classifiers since Li & Roth use them): "What artist …", "Which two governing bodies"
_NAMED = (
    r"person|people|individual|man|woman|men|women|artist|painter|sculptor|architect|author|writer|poet|novelist"
    r"|playwright|composer|musician|singer|scientist|chemist|physicist|biologist|mathematician|astronomer|engineer"
    r"|inventor|explorer|philosopher|theologian|historian|economist|politician|president|king|queen|emperor|pope"
    r"|prince|princess|ruler|leader|general|commander|minister|senator|governor|mayor|bishop|actor|actress"
    r"|researcher|member|founder|company|companies|corporation|firm|organi[sz]ation|agency|agencies|institution"
    r"|university|universities|college|museum|church|team|club|band|party|parties|newspaper|magazine|court"
    r"|entity|entities|body|bodies|city|cities|town|village|country|countries|nation|province|region|county"
    r"|counties|continent|island|river|lake|sea|ocean|mountain|desert|empire|dynasty|tribe|nationality"
    r"|nationalities|language|religion|organism|species|genus|gene|protein|enzyme|virus|bacterium|bacteria"
)
# a name question asking for several, its noun in the plural: "which countries", "what two governing bodies"
SEVERAL_NAMED_RE = compiled_later(rf"\b(?:what|which)\s+(?:[\w-]+\s+){{0,2}}?(?:{_NAMED})s?\b(?<=s)", re.IGNORECASE)
_NOT_MODIFIERS = r"the|an?|is|was|are|were|be|did|does|do|has|have|had|can|could|would|will|should|may|might|must"
# question words by kind, in the analyzer's languages and CJK; the earliest found in a question decides
_QUESTION_KINDS = (
    ("colour", r"\b(?:what|which) colou?rs?\b|\bde quelle couleur\b|\bwelche farbe\b|\bde qu[eé] color\b"),
    (  # before "number": "combien de fois", "quante volte" ask how often, not how many
        "frequency",
        r"\bhow often\b|\bwie oft\b|\bcon qu[eé] frecuencia\b|\bcada cu[aá]nto\b|\bà quelle fréquence\b"
        r"|\bcombien de fois\b|\bquante volte\b|\bogni quanto\b|\bcom que frequ[eê]ncia\b|\bde quanto em quanto\b"
        r"|\bhoe vaak\b|\bhur ofta\b|\bhvor ofte\b|(?<!\w)как часто(?!\w)|多久一次|多长时间一次",
    ),
    (
        "number",
        rf"{_MEASURE_QUESTION}|\bhow (?:many|much|old|fast)\b"
        r"|\b(?:what|which) (?:percentage|number|proportion|fraction|amount|temperature|age)\b"
        r"|\bcu[aá]nt[oa]s?\b|\bcombien\b|\bwie (?:viele?|alt)\b|\bquant[oiae]s?\b|\bhoeveel\b|\bсколько\b"
        r"|\bhur många\b|\bhvor mange\b|\bkaç\b|多少|几|いくつ|いくら|何人|(?<!\w)(?:몇|얼마)"
        # Chinese "how long / tall / far / big / heavy …", Japanese "how much", "how many km / hours …", and
        # a Japanese question that is only a measure and は: "信濃川の長さは？" (the length of the Shinano?)
        rf"|{_CJK_MEASURE_WORDS}|何(?:{_JA_UNITS})|(?:{_JA_MEASURES})は\W*$",
    ),
    (
        "date",
        r"\b(?:when|what year|which year|what century|what decade|what date)\b|\bcu[aá]ndo\b|\bquand\b"
        r"|\bwann\b|\bquando\b|\bwanneer\b|\bкогда\b|\bnär\b|\bnår\b|\bne zaman\b"
        # "in which year / century / on which date": "¿En qué año …?", "En quelle année …", "Em que ano …",
        # "In welchem Jahr …", "In quale anno …", "В каком году …"
        r"|\b(?:en|in|em|no|na|a|à|au|zu|an|op) (?:qu[eé]|quel(?:le)?|welche[mr]?|welk|qual|quale|che|que) "
        r"(?:año|siglo|fecha|année|an|siècle|date|jahr|jahrhundert|datum|jaar|eeuw|anno|secolo|data|ano|século)\b"
        r"|(?<!\w)в\s+как(?:ом|ой|ое)\s+(?:году|веке|день)(?!\w)|什么时候|哪一?年|何时|いつ|何年|(?<!\w)언제",
    ),
    (
        "name",
        r"\b(?:who|whom|whose|where)\b|\bwhat (?:is|was|are|were) (?:the |his |her |its |their )?names?\b"
        rf"|\b(?:what|which)\b(?=\s+(?:(?!(?:{_NOT_MODIFIERS})\b)[\w.'’-]+\s+){{0,2}}?(?:{_NAMED})s?\b)"
        r"|\bc[oó]mo se (?:llama|chama)|\bcomment s'appel|\bwie hei(?:ß|ss)|\bcome si chiama|\bqui[eé]n(?:es)?\b|\bd[oó]nde\b|\bqui\b|\bo[uù]\b|\bwer\b|\bwo\b"
        r"|\bquem\b|\bonde\b|\bchi\b|\bdove\b|\bwie\b|\bwaar\b|\bкто\b|\bгде\b|\bvem\b|\bhvem\b|\bkim\b|\bnerede\b"
        r"|谁|哪里|哪儿|在哪|誰|どこ|(?<!\w)(?:누가|누구|어디)",
    ),
)
# Chinese "why", not the "为什么" of "称为什么" ("called what": "称为" stays a term of the question)
_WHY_ZH = r"(?<![称成作认])为什么"
# an untyped question word at the same place or earlier leaves the question untyped ("What satellite …
# when …?"); at the same place a typed phrase wins ("What year …"). German "was" only opens a question:
# inside one it is English ("… was developed before whose theory?")
UNTYPED_RE = compiled_later(
    r"\b(?:what|which|why|how|qu[eé]|cu[aá]l(?:es)?|quel(?:le)?s?|que|welche[rsnm]?|wie|warum|cosa|quale|perch[eé]"
    r"|wat|welke|waarom|что|какой|какая|какие|почему|как|vad|vilken|hvad|hvilken|ne|hangi|neden)\b|^\W*was\b"
    rf"|什么|{_WHY_ZH}|怎么|何|なぜ",
    re.IGNORECASE,
)
# questions that ask how something is done or why: the answer is an explanation, so the best sentence
# is given whole rather than a short span cut out of it ("How do honeybees tell each other …?")
EXPLAIN_RE = compiled_later(
    r"\b(?:why|how (?:do|does|did|can|could|is|are|was|were|should|would|to))\b|\bpor qu[eé]\b|\bpourquoi\b"
    r"|^\W*(?:c[oó]mo|comment|wie|come|как)\b"
    r"|\bwarum\b|\bperch[eé]\b|\bwaarom\b|\bpor que\b|\bпочему\b|\bvarför\b|\bhvorfor\b|\bneden\b"
    rf"|{_WHY_ZH}|怎么|如何|なぜ|どうやって",
    re.IGNORECASE,
)
# yes/no questions, which no span answers: the sentence that settles them is given whole ("Do I need
# to send paper receipts?" → "… paper receipts do not need to be sent."). English and French by their
# opening, German by a verb that opens it, Russian by "ли"; Spanish, Italian and Portuguese mark them
# by intonation alone
YES_NO_RE = compiled_later(
    r"^\W*(?:(?:do|does|did|is|are|was|were|can|could|should|must|may|might|will|would|shall|has|have|had)\s"
    r"|est-ce\s+qu|(?:ist|sind|war|waren|kann|können|muss|müssen|darf|dürfen|soll|sollte|hat|haben|gibt|wird|werden)\s)"
    r"|(?<!\w)ли(?!\w)",
    re.IGNORECASE,
)
_CJK_QUESTION_RE = compiled_later(
    rf"什么时候|什么|哪一?年|哪里|哪儿|哪个|哪|多少|{_CJK_MEASURE_WORDS}|几|谁|何时|何人|いつ|どこ|だれ|誰|何|いくつ|いくら"
    # Korean, which leaves its question words in place too ("한글은 누가 창제하였습니까?")
    r"|(?<!\w)(?:누가|누구|언제|어디|무엇|몇|얼마)"
)
_COPULA_END_RE = compiled_later(r"(?:是|は)$")
_COPULA_TAIL_RE = compiled_later(r"(?:ですか|でしょうか|だろうか|か|呢|吗)?\W*")
_CJK_PAIR_RE = compiled_later(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]{2}")
QUESTION_KIND_RES = tuple((kind, compiled_later(pattern, re.IGNORECASE)) for kind, pattern in _QUESTION_KINDS)
# a question for the person who did something, the question word its subject ("Who wrote …", "Qui a
# écrit …", "Кто написал …"), not its object ("Who did he marry?", "¿A quién …?")
WHO_DID_RE = compiled_later(
    r"^\W*(?:who(?!\s+(?:did|does|do)\b)|qui[eé]n(?:es)?|qui|wer|chi|quem|кто)\b|^\W*(?:谁|誰)|(?<!\w)누가(?!\w)",
    re.IGNORECASE,
)
MEASURE_QUESTION_RE = compiled_later(_MEASURE_QUESTION, re.IGNORECASE)
# a question for what (or who) something is, nothing more: "What is royal jelly?", "Who was Goethe?",
# "¿Qué es la Alhambra?", "Qu'est-ce que la propolis ?", "Was ist ein Schwarm?", "Что такое улей?",
# "¿Cuál es la capital de España?"
DEFINITION_RE = compiled_later(
    r"^\W*(?:(?:what|who)\s+(?:is|are|was|were)|(?:qu[eé]|qui[eé]n(?:es)?)\s+(?:es|son|era|fue)"
    r"|qu'est-ce\s+qu(?:e\s+|')|qui\s+(?:est|était)|(?:was|wer)\s+(?:ist|sind|war|waren)"
    r"|(?:che\s+)?cos(?:a\s+|')(?:è|e|sono)|chi\s+(?:è|era|fu)|o\s+que\s+(?:é|são|era)|quem\s+(?:é|era|foi)"
    r"|что\s+так(?:ое|ие)|кто\s+так(?:ой|ая|ие)"
    # "which" before a copula, as these languages ask "what is the capital …": "¿Cuál es …?", "Quelle est …",
    # "Qual è …", "Qual é …", "Welche Stadt ist …"; not for a measure ("¿Cuál es la población …?": a number)
    rf"|(?!{_MEASURE_QUESTION})(?:cu[aá]l(?:es)?\s+(?:es|son|era|fue)|quel(?:le)?s?\s+(?:est|sont|était|étaient|fut)|qual\s*'?\s*(?:è|é|era|fu|foi)"
    r"|quali\s+(?:sono|erano)|quais\s+(?:são|eram)|welche[rs]?\s+(?:[^\W\d_]+\s+)?(?:ist|sind|war|waren)))"
    r"\s+(?P<subject>[^?]+?)\s*[?？]*\s*$",
    re.IGNORECASE,
)
# a question for a place ("Where …", "Wo …", "¿Dónde …", "Où …", "Dove …", "Onde …", "Где …")
WHERE_RE = compiled_later(
    r"\b(?:where|d[oó]nde|où|wo|dove|onde|waar|hvor|nerede)\b|(?<!\w)где(?!\w)|哪里|哪儿|在哪|どこ|(?<!\w)어디",
    re.IGNORECASE,
)

_WH_WORDS = frozenset({"what", "which", "who", "whom", "whose", "where", "when", "how", "why"})
AUXILIARIES = frozenset(
    [
        "did",
        "does",
        "do",
        "can",
        "could",
        "would",
        "will",
        "should",
        "may",
        "might",
        "must",
        "has",
        "have",
        "had",
        "is",
        "was",
        "are",
        "were",
        "be",
    ]
)


_HAVE = frozenset({"has", "have", "had"})
_ENGLISH = Markers.for_language("en")
_SHORT_PARTICIPLES = frozenset({"been", "done", "had", "laid"})  # the ones `english_participle` does not know


def _participle(word: str) -> bool:
    """A past participle after "have" in a question: "-ed", "-en", "-wn" ("shown"), an irregular one."""
    return english_participle(word, _ENGLISH) or word.endswith("wn") or word in _SHORT_PARTICIPLES


def _question_words(question: str) -> tuple[list[str], int | None, int | None]:
    """An English question's words (lowercased), where its first question word stands, and where an
    auxiliary stands within the three words after it ("What **did** …", "What computer **was** …",
    "What important events **does** …"; a form of "have" without a participle after it is no
    auxiliary but the verb)."""
    words = re.findall(r"[\w'’-]+", question.lower())
    wh = next((i for i, w in enumerate(words) if w in _WH_WORDS), None)
    if wh is None:
        return words, None, None
    aux = next((i for i in range(wh + 1, min(wh + 4, len(words))) if words[i] in AUXILIARIES), None)
    if aux is not None and words[aux] in _HAVE and not any(_participle(w) for w in words[aux + 1 :]):
        aux = None  # "What has a negative influence on …?": "have" is the verb, the question word its subject
    return words, wh, aux


def answer_sides(question: str, analyze: Callable[[str], list[str]]) -> dict[str, int]:
    """Where, by English word order, the answer stands from each question term: +1 after it, -1 before.

    The answer takes the place of the question phrase in the statement that answers it. "What did Lane
    and Vail finance?" (an auxiliary after the question phrase: an object) → "Lane and Vail financed
    [answer]": after every term. "What caused Luther to write?" (a verb: a subject) → "[answer] caused
    Luther to write": before every term. A question phrase inside the question ("… include what
    soundtracks?") → after the terms before it, before the terms after it. Empty when the question
    has no English question word."""
    words, wh, aux = _question_words(question)
    if wh is None:
        return {}
    sides: dict[str, int] = {}
    fronted = all(not analyze(w) for w in words[:wh])  # only function words before it ("In what …")
    object_question = aux is not None
    for i, w in enumerate(words):
        for term in analyze(w):
            before_gap = object_question if fronted else i < wh
            sides.setdefault(term, 1 if before_gap else -1)
    return sides


# the forms of "be" (a passive question's auxiliary, a passive sentence's helping verb)
BE_FORMS = frozenset({"is", "was", "are", "were", "be", "been"})
# the English prepositions a question opens with or strands, and a gap's run may end with
PREPOSITIONS = frozenset(
    {"to", "as", "for", "with", "in", "on", "at", "by", "from", "into", "of", "about", "like", "than", "during"}
    | {"through", "over", "under", "after", "before", "between", "against", "toward", "upon", "within", "without"}
)


_CONCEPT_RE = compiled_later(
    r"^\W*what\s+(?:is|are)\s+(?:(?:an?|the)\s+)?(?P<concept>[\w-]+(?:\s+[\w-]+){0,2})\s*\?*\s*$", re.I
)


_NOT_CONCEPT = _WH_WORDS | AUXILIARIES | PREPOSITIONS


def concept_question(question: str) -> str | None:
    """What an English question asks to be told about, when it asks what a thing is and nothing more
    ("What is shadowing?" → "shadowing", "What are trait objects?"): up to three words, none a function
    word, a participle or a possessive ("What is the museum called?", "What are stators attached to?"
    ask other things). When no sentence defines it, its answer is an explanation, as for "why"."""
    found = _CONCEPT_RE.match(question)
    if found is None:
        return None
    concept = found.group("concept")
    words = concept.casefold().split()
    if words in (["name"], ["one"]) or any(w in _NOT_CONCEPT or _participle(w) or w.endswith("ly") for w in words):
        return None  # "What is the name?", "What is one?"; "What are stators attached to?"
    return concept


class GapQuestion(NamedTuple):
    """The words an English object question keeps in the statement that answers it, in their order:
    "What did Rutherford call the new particles?" → "Rutherford called the new particles [answer]"."""

    words: list[str]  # lowercased, after the auxiliary
    passive: bool  # its auxiliary is a form of "be": the statement needs a participle or a preposition
    moved: bool = False  # the last word is the preposition the question opens with ("To whom …")


def gap_question(question: str) -> GapQuestion | None:
    """The words after the auxiliary of an English question asking for an object ("What did …",
    "What computer was Knuth introduced to …"), or None for a question asking for a subject. A
    question opening with a preposition asks for that preposition's object, so the preposition goes
    last: "To whom had Darwin shown his theory?" → "Darwin had shown his theory to [answer]"."""
    words, wh, aux = _question_words(question)
    if wh is None or wh > 2:
        return None
    if aux is None or aux + 1 >= len(words) or words[aux + 1] in ("be", "been"):  # "What can be combined …"
        return None
    moved = words[0] in PREPOSITIONS  # "After which century did states invest in …?"
    return GapQuestion(words[aux + 1 :] + words[:1] if moved else words[aux + 1 :], words[aux] in BE_FORMS, moved)


# where an English question's subordinate clause starts, after its question word: "Who said in 1999
# that some patents had been granted?"
_WH_RE = compiled_later(rf"\b(?:{'|'.join(sorted(_WH_WORDS))})\b", re.IGNORECASE)
_SUBORDINATE_RE = compiled_later(r"\b(?:that|whether|if|because|although|though|while)\b", re.IGNORECASE)


def main_clause(question: str) -> str:
    """A question without its subordinate clause (English; other languages whole): the verb of "Who
    said … that patents had been granted?" is "said", and an agent of "granted" does not answer it."""
    wh = _WH_RE.search(question)
    found = _SUBORDINATE_RE.search(question, wh.end()) if wh else None
    return question[: found.start()] if found else question


def in_situ_sides(question: str, analyze: Callable[[str], list[str]]) -> dict[str, int]:
    """Where the answer stands from each term of a Chinese or Japanese question: these languages leave
    the question word where the answer goes ("长城东起哪里" → "长城……东起山海关"), so the answer follows
    the terms before it (+1) and precedes those after it (-1). A question word that is the predicate of
    a copula ("中国最长的河流是什么？", "日本で最も長い川は何ですか？") leaves the answer on either side of
    the rest (0): "信濃川は日本で最も長い川で". Empty without a CJK question word."""
    before, after = in_situ_context(question)
    sides = dict.fromkeys(analyze(after), -1)
    sides.update(dict.fromkeys(analyze(before), 0 if copula_tail(question) else 1))
    return sides


def _around(question: str) -> tuple[str, str]:
    found = _CJK_QUESTION_RE.search(question)
    return (question[: found.start()], question[found.end() :]) if found else ("", "")


def copula_tail(question: str) -> str:
    """The ending after a Chinese or Japanese question word that is the predicate of a copula ("ですか？"
    of "作者は誰ですか？", "？" of "…是什么？"): the question's form, no content; "" for other questions."""
    before, after = _around(question)
    return after if _COPULA_END_RE.search(before) and _COPULA_TAIL_RE.fullmatch(after) else ""


def in_situ_context(question: str) -> tuple[str, str]:
    """The text before and after a Chinese or Japanese question word ("颐和园原名叫什么" → "颐和园原名叫",
    ""): the answer stands between the same words in the sentence that says it ("原名[清漪园]",
    "[儒家]学派" for "孔子是哪个学派的创始人"); nothing after a copula's question word but its ending.
    Empty strings without a question word."""
    before, after = _around(question)
    return before, "" if copula_tail(question) else after


_CJK_NOUN_RE = compiled_later(r"一?个?([\u4e00-\u9fff]{1,2})")


def cjk_head(question: str) -> str:
    """The last character of the noun a Chinese "which N" or Japanese "何N" question asks for, which ends
    its answer ("泰山位于哪个省" → "省": "山东省"; "哪个城市" → "市": "杭州市"; "何県" → "県"), or ""."""
    found = _CJK_QUESTION_RE.search(question)
    if found is None or found.group() not in ("哪", "哪个", "何"):  # "哪里", "哪一年": their own question words
        return ""
    noun = _CJK_NOUN_RE.match(question, found.end())
    return noun.group(1).split("的")[0][-1:] if noun else ""


def cjk_pairs(text: str) -> list[str]:
    """The text's pairs of adjacent CJK characters, in order: the bigrams the analyzer makes of it."""
    return [text[i : i + 2] for i in range(len(text) - 1) if _CJK_PAIR_RE.fullmatch(text, i, i + 2)]


# a request phrased as an order asks as a question does: "Name a luxury division of Toyota.", "List the castes"
_REQUEST_RE = compiled_later(r"^\W*(?:name|list|give|state|identify|tell|describe|explain|define)\b", re.IGNORECASE)
_ASKING_MARK_RE = compiled_later(r"[?？؟¿]")


def is_question(text: str) -> bool:
    """Whether `text` asks something (a question word or mark, a yes/no opening, a request) rather than
    being a keyword search ("varroa treatment"), which has no question kind or form to cut a span by."""
    return question_kind(text) is not None or any(
        p.search(text) for p in (_ASKING_MARK_RE, UNTYPED_RE, YES_NO_RE, EXPLAIN_RE, _CJK_QUESTION_RE, _REQUEST_RE)
    )


def question_kind(question: str) -> str | None:
    """What a question asks for ("colour", "frequency", "number", "date", "name" or None): its first question
    phrase decides."""
    found: list[tuple[int, int, str | None]] = [
        (m.start(), 0, kind) for kind, pattern in QUESTION_KIND_RES if (m := pattern.search(question))
    ]
    untyped = UNTYPED_RE.search(question)
    if untyped:
        found.append((untyped.start(), 1, None))
    return min(found, key=lambda item: item[:2])[2] if found else None
