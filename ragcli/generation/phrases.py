"""What the typed phrases a question may ask for look like: colours ("red, white, and blue"), numbers
("2,000", "five to six weeks", "£30m", "deux jours", "25 jours"), frequencies ("every seven to ten
days", "twice a year"), dates ("1852", "March 1876", "late spring", "im Jahr 50", "in 431", "after the
Second World War") and names ("Lorenzo Langstroth", "Council of the European Union", lists such
as "Grissom, White, and Chaffee"), and `typed_spans`, which finds them in a sentence; English places
in lower case after a preposition ("on sandstone ridges", `place_phrases`). The extractive generator
(`extractive.py`) scores the ones it finds.

Regular expressions over the analyzer's languages, written by hand: no entity tagger installs from
PyPI with its model.
"""

from __future__ import annotations

import re

from ragcli.patterns import compiled_later

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_MONTH_RE = compiled_later(_MONTH)
_DAY_OF_MONTH_RE = compiled_later(rf"\b{_MONTH}\s+\d{{1,2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b")
YEAR = r"(?:1\d|20)\d\d"  # a year of the last millennium or this one
_YEAR_RE = compiled_later(rf"{YEAR}(?:\s?[–-]\s?(?:{YEAR}|\d\d))?")  # a year or a span of them ("1960–61", "1939-1945")
# a full stop after a word of three or more letters without dots: the sentence's, not an abbreviation's
_SENTENCE_STOP_RE = compiled_later(r"(?<![\w.])[^\W\d_]{3,}\.$")
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|dozen"
    r"|hundreds|thousands|millions|billions|dozens|halves|thirds|quarters|fifths|tenths"
    # the analyzer's other languages, less the words that are also common words elsewhere ("due",
    # "otto", "elf"); a number word that is a stopword of the index's language ("dos" in Portuguese,
    # "sei" in Italian) is dropped with the other stopwords
    r"|deux|trois|quatre|cinq|sept|huit|neuf|dix|douze|quinze|vingt|trente|quarante|cinquante|soixante|mille"
    r"|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|doce|quince|veinte|treinta|cuarenta|cincuenta|cien|mil"
    r"|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|zwölf|zwanzig|dreißig|vierzig|fünfzig|hundert|tausend"
    r"|quattro|cinque|sette|nove|dieci|dodici|venti|trenta|quaranta|cinquanta|cento"
    r"|dois|duas|três|sete|oito|dez|doze|vinte|quarenta|cem"
    r"|два|две|три|четыре|пять|шесть|семь|восемь|девять|десять|двадцать|тридцать|сто|тысяча|тысячи"
)
# units and counted things a number takes into its span, in the analyzer's languages ("330 metros",
# "1233 Kilometer", "1642 метра")
_UNITS = (
    r"years?|months?|weeks?|days?|hours?|minutes?|seconds?|miles?|kilometres?|kilometers?|km|metres?|meters?|m|K|"
    r"feet|foot|ft|inches|yards?|yd|lbs?|percent|degrees|kilograms?|kg|pounds?|tons?|tonnes?|people|times|nautical miles|nmi|mi|mph|"
    r"knots?|km/h|km2|km²|sq\.? mi|square (?:miles|kilometres|kilometers|metres|meters|feet)|acres?|hectares?|"
    r"grams?|g|milligrams?|mg|litres?|liters?|millilitres?|milliliters?|ml|cups?|tablespoons?|teaspoons?|ounces?|oz|"
    r"centimetres?|centimeters?|cm|millimetres?|millimeters?|mm|°\s?[CF]|º[CF]|gigabytes?|GB|megabytes?|MB|"
    r"watts?|kW|volts?|euros?|dollars?|gramos|grammes?|gramm|grammi|litros|litri|liter|"
    r"m[eè]tres?|metros?|metri|metern?|kilom[eè]tres?|kil[oó]metros?|kilometri|kilometern?|años|ans|années|"
    r"jahren?|anni|anos|jaar|personas|personnes|persone|pessoas|menschen|millones|millions|millionen|milioni|"
    r"días|dias|jours|tage|giorni|semanas|semaines|wochen|settimane|meses|mois|monate|mesi|horas|heures|stunden|ore|"
    r"milhões|miljoen|grados|graus|gradi|grad|por ciento|pour cent|prozent|per cento|por cento|"
    r"метр(?:а|ов)?|километр(?:а|ов)?|км|лет|года?|человек|миллион(?:а|ов)?|процент(?:а|ов)?|градус(?:а|ов)?"
)
# spans of time, for how often something happens ("every seven to ten days", "alle vier Jahre")
_TIME_UNITS = (
    r"(?:years?|months?|weeks?|days?|nights?|hours?|minutes?|seconds?|decades?|centur(?:y|ies)|seasons?|spring"
    r"|summer|autumn|winter|morning|evening|Jahre?n?|Monate?n?|Wochen?|Tage?n?|Stunden?|años?|mes(?:es)?|semanas?"
    r"|días?|horas?|ans?|années?|mois|semaines?|jours?|heures?|anni|anno|mesi|mese|settimane?|giorni|giorno|ore|ora"
    r"|anos?|meses|dias?|лет|года?|месяц(?:а|ев)?|недел[юи]|дн(?:я|ей)|день|час(?:а|ов)?)"
)
_TIME_UNIT = r"(?:second|minute|hour|day|night|week|month|year|decade|century)"  # one, in English
# a rate after an amount: "12,000 a day", "60 miles per hour"
_PER_TIME = rf"(?:\s(?:a|an|per|each)\s{_TIME_UNIT}\b)"
# one unit of time said with an article, a length of time for "how long": "put back a week"
_ONE_TIME_UNIT = rf"(?<![\d%]\s)\b(?:a|an)\s(?:{_TIME_UNIT}|fortnight)\b"
_ONE_TIME_UNIT_RE = compiled_later(_ONE_TIME_UNIT, re.IGNORECASE)
_HOW_LONG_RE = compiled_later(r"\bhow long\b", re.IGNORECASE)
# a number: digits ("2,000", "3.5", "27-30", "30m") or number words ("twenty-one", "five")
_AMOUNT = (
    # thousands apart by a space, as French and Russian write them ("17 870", "1 500 000") first
    r"(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:,\d+)?(?![\d.,]\d)"
    rf"|\d[\d,]*(?:\.\d+)?(?:[-–]\d[\d,]*(?:\.\d+)?)?(?:bn|m|k)?|(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))*)"
)
# between the two ends of a range of numbers ("fifteen or twenty miles", "zwei bis drei Wochen", "5 à 10")
_RANGE = r"(?:to|or|bis|oder|à|ou|a|o|до|или)"
# a year of any size after the word for year ("im Jahr 50", "nell'anno 80", "in the year 79")
_AFTER_YEAR_WORD = (
    r"(?:(?<=\byear )|(?<=\bJahr )|(?<=\bJahre )|(?<=\baño )|(?<=\banno )|(?<=\bano )|(?<=\ban )|(?<=\bannée )"
    r"|(?<=\bjaar )|(?<=\bår )|(?<=\bгоду ))"
)
# a year before 1000 where the words around it make it one: "in 431", "c. 180", "between 710 and 714",
# "AD 79", "44 BC"; not one a unit or a plural follows ("in 12 hours", "in 431 cases")
_ERA = r"\s(?:BC|BCE|AD|CE|B\.C\.|A\.D\.)(?!\w)"
_EARLY_YEAR = (
    rf"\b\d{{1,4}}{_ERA}|\b(?:AD|A\.D\.)\s\d{{1,4}}\b|\bbetween\s\d{{3}}\sand\s\d{{3,4}}\b"
    r"|(?:(?<=\bin )|(?<=\bc\. )|(?<=\bcirca ))\d{2,3}\b"
    rf"(?![.,]\d|\s?%|[\s-]+(?:{_UNITS})(?!\w)|\s+[a-z]+s\b)"
)
# a year at either end of a span of years: "1990", "about 1900 BCE"
_RANGE_YEAR = rf"(?:(?:about|around|circa|c\.)\s)?(?:\d{{1,4}}{_ERA}|{YEAR}\b)"
# a span of years is one date: "between 2005 and 2010", "from 1990 to 1995", "from about 1900 BCE until
# about 1300 BCE", "1939–1945", "1939-45", and so are two years together ("during 2004 and 2005")
_YEAR_RANGE = (
    rf"\bbetween\s{_RANGE_YEAR}\sand\s{_RANGE_YEAR}|\bfrom\s{_RANGE_YEAR}\s(?:to|until|till)\s{_RANGE_YEAR}"
    # "de 1682 à 1789", "von 1818 bis 1858", "desde 1818 hasta 1858", "dal 1475 al 1481", "с 1818 по 1858 год"
    rf"|\b(?:von|de|desde|dal|da|с)\s{_RANGE_YEAR}\s(?:bis|à|au|hasta|a|al|até|по|до)\s{_RANGE_YEAR}(?:\sгод[аыу]?\b)?"
    # "entre 1163 et 1345", "zwischen 1514 und 1519", "tra il 1173 e il 1372", "между 1485 и 1495"
    rf"|\b(?:entre|zwischen|tra|fra|между)\s(?:(?:il|l'|el)\s?)?{_RANGE_YEAR}\s(?:et|und|y|e|и)\s(?:(?:il|l'|el)\s?)?{_RANGE_YEAR}"
    rf"|\b{YEAR}\s?[–-]\s?(?:{YEAR}|\d\d)\b|\b{YEAR}\s(?:and|or)\s{YEAR}\b"
)
# a time told by a named period or event ("after the Second World War", "during the Middle Ages")
_EVENT_TIME = (
    r"\b(?:after|before|during|since|until|following)\s+the\s+(?:[A-Z][\w'’-]*\s+){0,3}"
    r"(?:War|Wars|Revolution|Ages|Era|Period|Reformation|Renaissance|Depression|Crisis|Conquest|Restoration)\b"
)
# a century in the analyzer's other languages, as Roman numerals (or German ordinals) with the word for it, and
# two of them together: "siglo XVI", "entre los siglos XIII y XIV", "XVIe siècle", "XIIIe et XIVe siècles",
# "I secolo d.C.", "século XVI", "im 11. Jahrhundert", "12. und 13. Jahrhundert", "в XVI веке"
_ROMAN = r"\b(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3})"
_ROMAN_ORDINAL = rf"{_ROMAN}(?:e|er|ème|è|°|º)?\b"
_CENTURY_ERA = r"(?:\s(?:a\.|d\.|av\.|apr\.)\s?(?:C\.|J\.-C\.)|\s(?:v\.|n\.)\s?Chr\.|\s(?:до|н\.)\s?н\.\s?э\.)?"
_CENTURY = (
    rf"(?:\b(?:siglos?|s[eé]culos?|secol[oi])\s{_ROMAN_ORDINAL}(?:\s?(?:y|e|o|ou|a|al|ao|–|-)\s?(?:(?:el|o)\s)?{_ROMAN_ORDINAL})?"
    rf"|{_ROMAN_ORDINAL}(?:\s?(?:et|e|–|-|au|al)\s?(?:(?:au|du|il)\s)?{_ROMAN_ORDINAL})?\s(?:si[eè]cles?|secol[oi]|век(?:а|е|ов)?\b)"
    rf"|\b\d{{1,2}}\.(?:\s(?:und|bis|oder|–)\s\d{{1,2}}\.)?\sJahrhunderts?\b){_CENTURY_ERA}"
)
# a period in Japanese and Chinese: an era and its part ("平安時代中期", "江戸時代", "战国时代", "春秋时期"), a
# century ("8世紀", "十八世纪", "16世紀後半")
_CJK_PERIOD = (
    r"[\u4e00-\u9fff\u30a1-\u30fa]{1,6}(?:時代|时代|时期)(?:[初前中後后末]期)?"
    r"|[\d一二三四五六七八九十]{1,3}世[紀纪](?:[初前中後后末]期|[前後后]半|初頭|末)?"
)
_CJK_PERIOD_RE = compiled_later(_CJK_PERIOD)
_YEAR_ASKED_RE = compiled_later(r"何年(?!間)|哪一?年|몇\s?년")  # a question for a year, which no era answers
# colours, and lists of them ("red, white, and blue", "dark green"), for "what colour …?"
_COLOUR = (
    r"(?:(?:light|dark|pale|bright|deep)[\s-])?(?:red|orange|yellow|green|blue|indigo|violet|purple|pink|brown|black"
    r"|white|gr[ae]y|silver|gold|golden|crimson|scarlet|maroon|turquoise|beige|ivory|cream|tan|olive|navy)"
)
_CJK_AMOUNT = r"[零〇一二两三四五六七八九十百千万亿\d]+(?:[.,]\d+)?[多余]?"
_CJK_UNITS = (
    r"千米|公里|平方公里|平方千米|平方米|米|公斤|千克|吨|万|亿|小时|分钟|秒钟|"
    r"[个只枚人年天次岁元%首部座条本位名家所种件幅篇届层项辆架艘头匹株棵颗张间倍度]"
    r"|平方キロメートル|平方メートル|キロメートル|センチメートル|ミリメートル|メートル|キログラム|キロ|センチ|トン|グラム"
    r"|時間|分|秒|日間|週間|か月|ヶ月|年間|人|歳|倍|階|度|円|個|件"
)
# a word longer than this (a hash, an unbroken run of digits, letters or punctuation) is no phrase of a kind,
# no amount, date, name nor colour: it is left out before they are searched for, as some of their patterns
# try each of such a word's characters over the rest of it, a time that grows with the square of its length
MAX_WORD_CHARS = 100
_LONG_WORD_RE = compiled_later(rf"(?<!\S)\S{{{MAX_WORD_CHARS + 1},}}")
_BLANK = "\ufffc"  # what stands for a long word's characters: neither a word's nor a space's


def without_long_words(text: str) -> str:
    """The text with its words longer than `MAX_WORD_CHARS` blanked out, each character for one, so that
    positions in it are the text's."""
    return _LONG_WORD_RE.sub(lambda word: _BLANK * len(word.group()), text)


def holds_long_word(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]` holds a word longer than `MAX_WORD_CHARS` (no phrase of a kind)."""
    return _LONG_WORD_RE.search(text[start:end]) is not None  # sliced: a word cut by `start` counts from it


SPAN_RES = {
    "colour": compiled_later(rf"\b{_COLOUR}(?:(?:,\s*|,?\s+(?:and|or)\s+){_COLOUR})*\b", re.IGNORECASE),
    "number": compiled_later(  # not the number of a code ("AS-278", "B-52"), which names a thing
        rf"(?<![A-Za-z]-)(?:\bbetween\s{_AMOUNT}\sand\s{_AMOUNT}|(?:[$£€¥]\s?)?\b{_AMOUNT}(?:\s{_RANGE}\s{_AMOUNT})?)\b"
        rf"(?:\s?%|\s(?:million|billion|thousand|hundred))?(?:[\s-](?:{_UNITS})(?:/[^\W\d_]+\d?)?(?!\w))?{_PER_TIME}?"
        r"(?:[\s-]old\b)?"  # an age: "22 years old", "a 32-year-old man"
        rf"|{_ONE_TIME_UNIT}"
        # Chinese and Japanese: "一千多首" (over a thousand poems), "约72万平方米", "367キロメートル": digits or
        # numerals, "多"/"余" (more than), then units or the measure word of what is counted; a second
        # number and unit may follow ("2時間30分", "3小时20分钟")
        rf"|(?<![0-9A-Za-z.,-]){_CJK_AMOUNT}(?:{_CJK_UNITS})*(?:{_CJK_AMOUNT}(?:{_CJK_UNITS})+)*",
        re.IGNORECASE,
    ),
    # how often: "every five years", "every seven to ten days", "twice a year", "alle vier Jahre", "weekly"
    "frequency": compiled_later(
        rf"\b(?:every|each|alle|jede[nrs]?|cada|chaque|tous les|toutes les|ogni|каждые|каждый|каждую)\s+(?:other\s+)?"
        rf"(?:{_AMOUNT}(?:\s(?:to|or|and|bis|oder|a|à|o|ou|e|y|и|или)\s{_AMOUNT})?\s+)?{_TIME_UNITS}\b"
        rf"|\b(?:once|twice|thrice|{_AMOUNT}\s+times)\s+(?:a|an|per|every|each)\s+{_TIME_UNITS}\b"
        r"|\b(?:hourly|daily|weekly|fortnightly|monthly|quarterly|yearly|annually)\b"
        rf"|\b(?:only\s+)?in\s+alternate\s+{_TIME_UNITS}\b",
        re.IGNORECASE,
    ),
    "date": compiled_later(
        # "the early 1990s", "the late 19th century", "mid-1850s": the part of the decade or century too
        rf"\b(?:early|late|mid)[\s-](?:{YEAR}s?\b|\d{{1,2}}(?:st|nd|rd|th)\s+century)|{_YEAR_RANGE}"
        rf"|\b(?:(?:early|late|mid)[\s-])?(?:spring|summer|autumn|fall|winter)\s+of\s+{YEAR}\b"  # "summer of 1521"
        rf"|\b(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}|{_MONTH}\s+\d{{4}}"
        rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?![.,]?\d)|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}"
        rf"|\d{{1,2}}(?:st|nd|rd|th)\s+century|{YEAR}(?:s\b|{_ERA})?(?!\s?[年년]))|\d{{3,4}}\s?年(?:\d{{1,2}}\s?月)?"
        rf"|{_AFTER_YEAR_WORD}\d{{1,4}}\b|{_EARLY_YEAR}"
        rf"|{_EVENT_TIME}|{_CENTURY}|{_CJK_PERIOD}"
        # Korean: "1443년", "1545년 4월 28일", "10월 9일"
        r"|(?<![\d.,])(?:\d{1,4}년(?:\s?\d{1,2}월)?(?:\s?\d{1,2}일)?|\d{1,2}월\s?\d{1,2}일)"
        r"|\b(?:(?:early|late|mid)[\s-])?(?:spring|summer|autumn|winter)\b|\b(?:Frühling|Frühjahr|Sommer|Herbst"
        r"|primavera|verano|otoño|invierno|printemps|automne|hiver|autunno|inverno|verão|outono)\b"
    ),
    "name": compiled_later(  # a word of it may join two names: "the Northrop/Boeing team"
        r"\b[A-ZÀ-ÖØ-ÞА-Я][\w'’.-]*(?:/[A-ZÀ-ÖØ-ÞА-Я][\w'’.-]*)*"
        r"(?:\s+(?:of\s+(?:the\s+)?|the\s+|(?:de|del|della|di|da|du|der|dos|das|von|van)\s+)?"
        r"[A-ZÀ-ÖØ-ÞА-Я][\w'’.-]*(?:/[A-ZÀ-ÖØ-ÞА-Я][\w'’.-]*)*)*"
        r"(?:,?\s+(?:Jr|Sr)\b\.?)?"  # "Harry Shum, Jr."
    ),
}
# the number that ends a name, neither a year nor an amount ("Apollo 17", not "in May 1998", "Paris 3 km")
_NAME_NUMBER_RE = compiled_later(rf"\s(?!{YEAR}\b)\d+(?:/\d+)?\b(?![.,]\d|\s?%|[\s-]+(?:{_UNITS})(?!\w))")
_CJK_YEAR_RE = compiled_later(r"\d{3,4}年")
_CJK_DIGIT_RE = compiled_later(
    r"[零〇一二两三四五六七八九十]"
)  # one numeral alone: a word's part, as often as a number
_STATE_CODE_RE = compiled_later(r",\s[A-Z]{2}\b(?![-'’.]?\w)")
_REGION_RE = compiled_later(  # "northern [Iraq]", "the south east of [England]"
    r"\b(?:(?:north|south)(?:-?(?:east|west))?ern\s+|eastern\s+|western\s+|central\s+"
    r"|(?:north|south|east|west)(?:[\s-]?(?:east|west))?\s+of\s+(?:the\s+)?)$"
)
LEADING_ARTICLE_RE = compiled_later(r"^(?:The|A|An)\s+")
BRACKETED_RE = compiled_later(r"\s*\([^()]*\)")  # a bracketed aside and the space before it: " (ER)"
_POSSESSIVE_RE = compiled_later(r"['’]s?$")
_NAME_PART_RE = compiled_later(r"\s*((?:[^'’]|['’](?!s\b))+(?:['’]s\b)?)")


# between names of one list: a comma, "and" / "or" in the analyzer's languages, or both, and an article
# ("the European Parliament and the Council")
COORDINATION_RE = compiled_later(
    r"(?:,?\s+(?P<conjunction>and|or|y|e|o|et|ou|und|oder|och|eller|og|и|или|ve|veya)\s+|,\s+)"
    r"(?:(?:the|la|el|le|les|los|las|die|der|das)\s+)?"
)


def _coordinated(spans: list[tuple[int, int]], sentence: str) -> list[tuple[int, int]]:
    """Lists of names ("Grissom, White, and Chaffee", "Robert Lane and Benjamin Vail") as one span each:
    names joined by commas that end in a conjunction."""
    joined = []
    ordered = sorted(spans)
    for i, (start, end) in enumerate(ordered):
        last = end
        for next_start, next_end in ordered[i + 1 :]:
            between = COORDINATION_RE.fullmatch(sentence, last, next_start)
            if between is None:
                break
            last = next_end
            if between.group("conjunction"):  # a conjunction closes the list
                joined.append((start, last))
    return joined


def typed_spans(
    kind: str, sentence: str, question: str, stopwords: frozenset[str] = frozenset(), lists: bool = False
) -> list[tuple[int, int]]:
    """Phrases of `kind` in the sentence that the question does not already contain (nor stopwords
    alone, like a capitalised "He" or "In"); with `lists`, also lists of names ("Grissom, White, and
    Chaffee") as one phrase each."""
    asked = {w.lower() for w in re.findall(r"\w+", question)} | {"the", "a", "an", "s"} | stopwords
    spans = []
    found = [m.span() for m in SPAN_RES[kind].finditer(without_long_words(sentence))]
    if kind == "name":  # a possessive ends a name: "William Tyndale's English Bible" is two
        found = [(a + p.start(1), a + p.end(1)) for a, b in found for p in _NAME_PART_RE.finditer(sentence[a:b])]
    if kind == "date" and _YEAR_ASKED_RE.search(question):  # "何年に生まれましたか？": a year, not "明治時代"
        found = [(a, b) for a, b in found if not _CJK_PERIOD_RE.fullmatch(sentence, a, b)]
    if kind == "number":  # a bare year ("in 1889", "the 1960–61 season") is a date, not what "how many" asks
        found = [(a, b) for a, b in found if not _YEAR_RE.fullmatch(sentence, a, b)]
        if "年" not in question:  # "公元701年" is a year too, unless the question counts years ("多少年")
            found = [(a, b) for a, b in found if not _CJK_YEAR_RE.fullmatch(sentence, a, b)]
        found = [(a, b) for a, b in found if not _CJK_DIGIT_RE.fullmatch(sentence, a, b)]  # "一" of "一生" (a life)
        days = [m.span() for m in _DAY_OF_MONTH_RE.finditer(sentence)]  # nor a day of a month: "on [20] December"
        found = [(a, b) for a, b in found if not any(c <= a and b <= d for c, d in days)]
        if not _HOW_LONG_RE.search(question):  # "a week" is a length of time, for "how long" alone
            found = [(a, b) for a, b in found if not _ONE_TIME_UNIT_RE.fullmatch(sentence, a, b)]
    for start, end in found:
        if kind == "name":  # "The Panthers'" → "Panthers"
            text = sentence[start:end]
            lead = LEADING_ARTICLE_RE.match(text)
            start += lead.end() if lead else 0
            possessive = _POSSESSIVE_RE.search(text)
            end -= len(possessive.group()) if possessive else 0
            if _SENTENCE_STOP_RE.search(sentence, start, end):  # "Behind." but "U.S." and "E."
                end -= 1
            if _MONTH_RE.fullmatch(sentence, start, end):  # a date, not a name
                continue
            numbered = _NAME_NUMBER_RE.match(sentence, end)  # "Apollo 17", "Resolution 31/72", "Boeing 747"
            if numbered and text.split()[-1].lower() not in stopwords:
                end = numbered.end()
            coded = _STATE_CODE_RE.match(sentence, end)  # "Washington, DC", "Portland, OR": one place
            end = coded.end() if coded else end
            region = _REGION_RE.search(sentence, 0, start)  # "northern Iraq", "central Asia": a part of the place
            start = region.start() if region else start
        words = {w.lower() for w in re.findall(r"\w+", sentence[start:end])}
        if words and not words <= asked:
            spans.append((start, end))
    if kind == "name":  # a capitalised first word alone is no name ("He", "Many"), but may open a list
        first_word = [(start, end) for start, end in spans if start == 0 and not re.search(r"\W", sentence[start:end])]
        listed = _coordinated(spans, sentence) if lists else []
        spans = [span for span in spans if span not in first_word]
        return spans + [span for span in listed if span not in spans]
    return spans


# prepositions that are part of the place they name ("outside the chloroplast" is not "the chloroplast")
PLACE_PREPOSITIONS = frozenset({"inside", "outside", "beside", "beneath", "underneath", "beyond", "near", "within"})
POSSESSIVES = frozenset({"its", "his", "her", "their", "our", "my", "your"})
_REFERRING = POSSESSIVES | {"this", "that", "these", "those"}  # "in [his native city]", "in [those bands]"
ARTICLES = frozenset({"a", "an", "the"})
# an English place a preposition names, lower case or not: "found [on sandstone ridges]", "built [at the former
# site of the city dump]", "placed upside down [in a bowl of mercury]": the noun phrase (articles, "of"
# and a few words) up to a punctuation mark, a relative word, a conjunction or a verb-like word
_LOCATIVE_RE = compiled_later(
    r"(?=\b(?P<preposition>in|on|at|inside|within|near|under|beneath|underneath|along|into|onto|above|below|behind"
    r"|beside|across|around|throughout|outside|over|off)\s+"
    r"(?P<place>(?:(?:the|a|an|this|that|these|those|its|their|his|her|our|several|many|some|each|every)\s+)?"
    r"[\w'’-]+(?:\s+(?!(?i:which|that|where|who|when|while|and|or|but|as|to|by|for|with|from|in|on|at|into|onto"
    r"|near|inside|within|under|along|across|over|during|since|until|after|before|is|are|was|were|be|been|has|have"
    r"|had|do|does|did|will|would|can|could|may|might|must|shall|should)\b)[\w'’-]+){0,7}))"
)  # a lookahead: "[a stuffed specimen then in Prague]" and "in [Prague]" are both found
# what follows a preposition without naming a place: a time, an amount, a manner ("in 1990", "at least",
# "in order to", "on average", "in the morning", "at the time of"), a pronoun, or "of" after a noun that
# only looks like one ("the inside of the nest")
_NOT_A_PLACE_RE = compiled_later(
    r"^(?:(?:which|whom|whose|what|it|them|him|us|there|here|itself|themselves|of)\b"
    r"|(?:(?:the|a|an|this|that|its|their|his|her)\s+)?(?:\d|(?:order|addition|particular|fact|general|total|least|"
    r"first|last|once|average|turn|part|contrast|favou?r|response|support|charge|time|times|morning|evening|night|"
    r"afternoon|day|days|week|weeks|month|months|year|years|decade|decades|century|centuries|age|era|period|season|"
    r"summer|winter|spring|autumn|fall|january|february|march|april|may|june|july|august|september|october|november|"
    r"december|early|late|mid|end|beginning|start|middle|course|case|form|terms|effect|practice|principle|theory|"
    r"all|most|best|risk|danger|use|place|front|spite|view|light|search|memory|honou?r|common|vain|short)\b))",
    re.IGNORECASE,
)
# verbs and adjectives whose "on" / "in" takes an object, not a place: "based on a painting"
_OBJECT_BEFORE = frozenset(
    {
        *("based", "depend", "depends", "depended", "depending", "rely", "relies", "relied", "relying"),
        *("focus", "focused", "focuses", "focusing", "insist", "insisted", "comment", "commented"),
        *("agree", "agreed", "decide", "decided", "interested", "involved", "believe", "believed", "believes"),
        *("participate", "participated", "engaged", "result", "resulted", "results", "specialised"),
        *("specialized", "succeed", "succeeded", "persist", "persisted", "invest", "invested"),
        *("consist", "consists", "consisted"),
    }
)


def place_phrases(sentence: str) -> list[tuple[int, int]]:
    """The places a sentence names after a preposition (`_LOCATIVE_RE`), for an English "where" question;
    a time, an amount or a manner after the same prepositions is none (`_NOT_A_PLACE_RE`)."""
    found = []
    for match in _LOCATIVE_RE.finditer(sentence):
        before = sentence[: match.start()].rsplit(maxsplit=1)[-1:]  # the word before the preposition
        if before and before[0].lower() in _OBJECT_BEFORE:  # "based on", "interested in": no place
            continue
        place = match.group("place")
        words = place.split()
        if _NOT_A_PLACE_RE.match(place) or words[0].lower() in _REFERRING:  # a place said elsewhere
            continue
        if not any(word[:1].islower() and word.lower() not in ARTICLES | {"of"} for word in words):
            continue  # "at [the Camp Nou]": a name, which the name spans find whole ("… Storage and Disposition Center")
        # "outside the chloroplast" is not "the chloroplast": such a preposition is part of the place
        start = match.start() if match.group("preposition").lower() in PLACE_PREPOSITIONS else match.start("place")
        found.append((start, match.end("place")))
    return found
