"""Closed-class words that tell a phrase's role in a sentence, per analyzer language: the preposition
that introduces the agent of a passive ("written by", "escrita por", "von den Römern gegründet") and the
shape of the participle it goes with, the verb forms a stemmer keeps apart ("wrote" / "written",
"gründete" / "gegründet", "entwarf" / "entworfen", "dipinse" / "dipinta"), and the prepositions a place
follows ("born in Frankfurt", "né à Besançon"). The extractive generator (`extractive.py`) prefers such
phrases for "who did" and "where" questions.

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
    # "gegründet", "fertiggestellt", and with an unstressed prefix no "ge-": "entworfen", "erbaut", "komponiert"
    "de": r"(?:\w{2,}|(?<!\w))ge\w{3,}(?:t|en)|(?:be|emp|ent|er|miss|ver|zer)\w{3,}(?:t|en)|\w{3,}iert",
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


# German strong and mixed verbs, whose vowel changes where the stemmer cannot follow ("Wer entwarf …?" and
# "von Langhans entworfen"): infinitive, past, participle without its "ge-"
_GERMAN_VERBS = (
    "werfen warf worfen",
    "schreiben schrieb schrieben",
    "finden fand funden",
    "gewinnen gewann gewonnen",
    "beginnen begann begonnen",
    "nehmen nahm nommen",
    "geben gab geben",
    "schaffen schuf schaffen",
    "singen sang sungen",
    "sprechen sprach sprochen",
    "ziehen zog zogen",
    "treiben trieb trieben",
    "gießen goss gossen",
    "heben hob hoben",
    "schließen schloss schlossen",
    "sehen sah sehen",
    "tragen trug tragen",
    "halten hielt halten",
    "lassen ließ lassen",
    "rufen rief rufen",
    "fahren fuhr fahren",
    "stehen stand standen",
    "kommen kam kommen",
    "gehen ging gangen",
    "scheiden schied schieden",
    "weisen wies wiesen",
    "brechen brach brochen",
    "sterben starb storben",
    "werben warb worben",
    "helfen half holfen",
    "treten trat treten",
    "messen maß messen",
    "bieten bot boten",
    "fliegen flog flogen",
    "wachsen wuchs wachsen",
    "schlagen schlug schlagen",
    "bringen brachte bracht",
    "denken dachte dacht",
    "nennen nannte nannt",
    "kennen kannte kannt",
    "senden sandte sandt",
    "wenden wandte wandt",
    "leiden litt litten",
    "greifen griff griffen",
    "schneiden schnitt schnitten",
    "reiten ritt ritten",
    "binden band bunden",
    "springen sprang sprungen",
    "zwingen zwang zwungen",
    "stoßen stieß stoßen",
    "fangen fing fangen",
    "laden lud laden",
)
# prefixes without a "ge-" in the participle ("entworfen") and those with it inside ("aufgeschrieben")
_GERMAN_INSEPARABLE = ("be", "emp", "ent", "er", "miss", "ver", "zer", "über", "unter", "wider", "hinter")
_GERMAN_SEPARABLE = (
    "ab",
    "an",
    "auf",
    "aus",
    "bei",
    "ein",
    "fest",
    "fort",
    "her",
    "hin",
    "mit",
    "nach",
    "vor",
    "weg",
    "zu",
    "zurück",
    "zusammen",
    "wieder",
    "nieder",
    "heraus",
    "herab",
    "hervor",
)


def _german_forms() -> dict[str, list[str]]:
    """Each German strong verb's forms, bare and with each prefix: "entworfen" → entwerfen, entwarf, entworfen."""
    found: dict[str, list[str]] = {}
    for infinitive, past, participle in (verb.split() for verb in _GERMAN_VERBS):
        bare = participle if infinitive.startswith("ge") else "ge" + participle  # "gewonnen", not "gegewonnen"
        variants = [
            ("", bare),
            *((p, participle) for p in _GERMAN_INSEPARABLE),
            *((p, "ge" + participle) for p in _GERMAN_SEPARABLE),
        ]
        for prefix, done in variants:
            forms = [prefix + infinitive, prefix + past, prefix + done]
            for form in forms:
                found.setdefault(form, forms)
    return found


_FORMS["de"] = _german_forms()
# French, Spanish, Portuguese and Italian verbs whose participle or past the stemmer keeps apart from the
# other forms ("Chi dipinse …?" and "dipinta da Leonardo", "¿Quién redescubrió …?" and "fue redescubierta
# por …"): each group's forms, found at a word's end, so prefixed verbs match too ("descrito", "composto")
_ROMANCE_VERBS = {
    "fr": (
        "écrire écrivit écrivirent écrit écrite écrits écrites",
        "faire fit firent fait faite faits faites",
        "peindre peignit peignirent peint peinte peints peintes",
        "construire construisit construisirent construit construite construits construites",
        "couvrir couvrit couvrirent couvert couverte couverts couvertes",
        "ouvrir ouvrit ouvrirent ouvert ouverte",
        "prendre prit prirent pris prise prises",
        "mettre mit mirent mis mise mises",
        "naître naquit naquirent née nées",
        "mourir mourut moururent mort morte",
        "vaincre vainquit vainquirent vaincu vaincue",
        "conquérir conquit conquirent conquis conquise",
        "produire produisit produisirent produit produite",
        "duire duisit duisirent duit duite",
        "cevoir çut çurent çu çue",
    ),
    "es": (
        "scribir scribió scribieron scrito scrita scritos scritas",
        "cubrir cubrió cubrieron cubierto cubierta cubiertos cubiertas",
        "hacer hizo hicieron hecho hecha hechos hechas",
        "decir dijo dijeron dicho dicha dichos dichas",
        "poner puso pusieron puesto puesta puestos puestas",
        "abrir abrió abrieron abierto abierta abiertos abiertas",
        "morir murió murieron muerto muerta muertos muertas",
        "volver volvió volvieron vuelto vuelta",
        "romper rompió rompieron roto rota",
        "imprimir imprimió impreso impresa",
        "ver vio vieron visto vista",
        "ducir dujo dujeron ducido ducida",
        "tener tuvo tuvieron tenido tenida",
        "traer trajo trajeron traído traída",
        "elegir eligió eligieron elegido elegida",
    ),
    "pt": (
        "screver screveu screveram scrito scrita scritos scritas",
        "fazer fez fizeram feito feita feitos feitas",
        "dizer disse disseram dito dita",
        "pôr pôs puseram posto posta postos postas",
        "cobrir cobriu cobriram coberto coberta cobertos cobertas",
        "abrir abriu abriram aberto aberta",
        "ver viu viram visto vista",
        "morrer morreu morreram morto morta",
        "trazer trouxe trouxeram trazido trazida",
        "ter teve tiveram tido tida",
        "eleger elegeu elegeram eleito eleita",
        "imprimir imprimiu impresso impressa",
    ),
    "it": (
        "scrivere scrisse scrissero scritto scritta scritti scritte",
        "fare fece fecero fatto fatta fatti fatte",
        "dipingere dipinse dipinsero dipinto dipinta dipinti dipinte",
        "dire disse dissero detto detta detti dette",
        "mettere mise misero messo messa messi",
        "prendere prese presero preso presa presi",
        "scoprire scoprì scoprirono scoperto scoperta scoperti scoperte",
        "aprire aprì aprirono aperto aperta",
        "porre pose posero posto posta posti poste",
        "vincere vinse vinsero vinto vinta",
        "nascere nacque nacquero nato nata",
        "morire morì morirono morto morta",
        "scegliere scelse scelsero scelto scelta",
        "erigere eresse eressero eretto eretta",
        "leggere lesse lessero letto letta",
        "vedere vide videro visto vista",
        "durre dusse dussero dotto dotta",
        "chiudere chiuse chiusero chiuso chiusa",
        "decidere decise decisero deciso decisa",
        "uccidere uccise uccisero ucciso uccisa",
        "struggere strusse strussero strutto strutta",
    ),
}
_MIN_ENDING = 4  # shorter forms ("vio", "fit") match as whole words only: as an ending they are too common


def _endings(groups: tuple[str, ...]) -> dict[str, list[str]]:
    """Each form of a group → the group's forms (the first group a form is in wins)."""
    found: dict[str, list[str]] = {}
    for group in groups:
        forms = group.split()
        for form in forms:
            found.setdefault(form, forms)
    return found


_ENDINGS = {language: _endings(groups) for language, groups in _ROMANCE_VERBS.items()}
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
_SUFFIXED_RE = re.compile(r"^(?:[a-z]{3,}(?:ed|ing)|[a-z]*[b-df-hj-np-tv-z]ie[ds])$")
_DOUBLED_RE = re.compile(r"([b-df-hj-np-tv-z])\1$")


def _bases(word: str) -> list[str]:
    """The base forms a regular "-ed", "-ing", "-ies" or "-ied" form may have, where the stemmer stems
    them apart: "added" → "add", "embedded" → "embedd" and "embed", "flies" and "tried" → "fly" and
    "try" (Snowball leaves a word of three letters whole: "fly", but "flies" → "fli")."""
    if word.endswith(("ies", "ied")):
        return [word[:-3] + "y"]
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
    endings: dict[str, list[str]]  # a verb form found at a word's end → its verb's forms ("redescubierta")
    english: bool  # regular "-ed" forms whose base the Porter stemmer cuts ("added")

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
            endings=_ENDINGS.get(language, {}),
            english=language == "en",
        )

    def is_participle(self, word: str) -> bool:
        return self.participle is not None and bool(self.participle.fullmatch(word.lower()))

    def verb_terms(self, text: str, analyze: Callable[[str], list[str]]) -> list[str]:
        """Terms the text's verbs share with their other forms, where the stemmer keeps them apart:
        "ge-" participles without the prefix ("gegründet" ~ "Wer gründete …?", German and Dutch), and
        English irregular verbs ("written" ~ "Who wrote …?") and regular ones whose "-ed" the stemmer
        cuts with a letter of the base ("added" ~ "What did Adobe add?") or whose "-ies" it keeps apart
        from a short base ("flies" ~ "How fast do bees fly?")."""
        terms = []
        if self.participle_last:
            terms += [term for word in _GE_PARTICIPLE_RE.findall(text) for term in analyze(word[2:])]
        if self.forms or self.endings:
            for word in _WORD_RE.findall(text.lower()):
                forms = self.forms.get(word) or self.prefixed_forms.get(word) or self._ending_forms(word)
                if forms:
                    terms += [term for form in forms for term in analyze(form)]
                elif self.english and _SUFFIXED_RE.match(word):  # "added" ~ "add" (Porter: "ad")
                    terms += [term for base in _bases(word) for term in analyze(base)]
        return terms

    def _ending_forms(self, word: str) -> list[str]:
        """The forms of the verb whose form `word` ends with, with the word's prefix: "redescubierta" →
        "redescubrir", "redescubrió" …; none for a word that ends with no listed form."""
        if not self.endings:
            return []
        for cut in range(len(word) - _MIN_ENDING + 1):  # the longest ending first
            forms = self.endings.get(word[cut:])
            if forms is not None:
                return [word[:cut] + form for form in forms]
        forms = self.endings.get(word)  # a short form, whole: "vio", "fit"
        return forms if forms is not None else []


def english_participle(word: str, markers: Markers) -> bool:
    """An English word that may be a past participle: "-ed", "-en", or an irregular verb's past form
    ("built", "won"; not "win" or "wins")."""
    lowered = word.lower()
    forms = markers.forms.get(lowered)
    past = forms is not None and lowered in forms[1:3] and not lowered.endswith(("s", "ing"))
    return (len(lowered) > 4 and lowered.endswith(("ed", "en"))) or past
