from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ragcli.analysis import (
    _CJK_START_RE,
    _FORMAT_AND_DIACRITICS_RE,
    _IN_WORD_FORMAT_RE,
    _OPTIONAL_DIACRITICS_RE,
    _PLAIN_TOKEN_RE,
    _TOKEN_RE,
    Analyzer,
    AnalyzerSettings,
    _fold_greek_accents,
    _holds_marks_or_removed,
    _marked_words,
    document_tokens,
    mark_class,
    surface_tokens,
)
from ragcli.errors import InvalidOptionError


def test_english_lowercases_stems_and_drops_stopwords() -> None:
    analyze = Analyzer()
    assert analyze("The Bees are Dancing in the hives") == ["bee", "danc", "hive"]


def test_english_possessive_is_removed() -> None:
    assert Analyzer()("the queen's pheromones") == ["queen", "pheromon"]


def test_hyphens_split_and_numbers_keep_their_dots() -> None:
    assert surface_tokens("COVID-19 costs 3.14 dollars") == ["covid", "19", "costs", "3.14", "dollars"]


def test_unicode_is_normalised() -> None:
    # NFKC folds the "ﬁ" ligature and full-width letters; casefold handles ß
    assert surface_tokens("ﬁne ＡＢＣ Straße") == ["fine", "abc", "strasse"]


@pytest.mark.parametrize(
    "text, words",
    [
        ("Zahlungs\u00adbedingungen gelten", ["zahlungsbedingungen", "gelten"]),  # a soft hyphen (&shy;)
        ("Kraft\u2060fahrzeug and \ufeffStart", ["kraftfahrzeug", "and", "start"]),  # word joiner, a BOM
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", ["\u0645\u06cc\u062e\u0648\u0627\u0647\u0645"]),  # ZWNJ
        ("\u202bshalom\u202c\u200fworld", ["shalomworld"]),  # bidirectional controls, no space between
        ("one\u200btwo", ["one", "two"]),  # a zero width space is a word break (Thai, Khmer)
    ],
)
def test_invisible_format_characters_inside_a_word_do_not_split_it(text: str, words: list[str]) -> None:
    assert surface_tokens(text) == words


def test_a_soft_hyphenated_word_is_found_by_the_word_and_highlighted_whole() -> None:
    analyze = Analyzer(AnalyzerSettings(language="de"))
    text = "Die Zahlungs\u00adbedingungen gelten."
    assert analyze.query_terms("Zahlungsbedingungen") == analyze(text)[:1]
    spans = analyze.matching_spans(text, frozenset(analyze("Zahlungsbedingungen")))
    assert [text[s:e] for s, e in spans] == ["Zahlungs\u00adbedingungen"]


def test_an_index_built_before_format_characters_were_dropped_is_analysed_as_it_was() -> None:
    recorded = {"language": "de", "stopwords": True, "stem": True}  # its manifest has no drop_format_characters
    old = Analyzer(AnalyzerSettings.from_dict(recorded))
    assert old.settings.drop_format_characters is False
    text = "Die Zahlungs\u00adbedingungen gelten."
    assert old.query_terms("Zahlungs\u00adbedingungen") == old(text)[:2]  # the two terms it was indexed with
    spans = old.matching_spans(text, frozenset(old("Zahlungs\u00adbedingungen")))
    assert [text[s:e] for s, e in spans] == ["Zahlungs", "bedingungen"]
    new = AnalyzerSettings(language="de")
    assert new.to_dict()["drop_format_characters"] is True and AnalyzerSettings.from_dict(new.to_dict()) == new


def test_only_format_characters_are_removed_and_not_the_zero_width_space() -> None:
    removed = [chr(c) for c in range(0x110000) if _IN_WORD_FORMAT_RE.fullmatch(chr(c))]
    assert {unicodedata.category(c) for c in removed} - {"Cn"} == {
        "Cf"
    }  # Cn: not yet assigned in this Python's Unicode
    assert "\u200b" not in removed
    assert {"\u00ad", "\u2060", "\ufeff", "\u200c", "\u200d"} <= set(removed)


HINDI = "ताज़ा दूध और हिन्दी किताबें"  # "fresh milk and Hindi books"


@pytest.mark.parametrize(
    "text, words",
    [
        (HINDI, ["ताज़ा", "दूध", "और", "हिन्दी", "किताबें"]),  # vowel signs, virama, nukta and anusvara kept
        ("q\u0303uark", ["q\u0303uark"]),
        ("蜜蜂 हिन्दी", ["蜜蜂", "हिन्दी"]),  # beside CJK text  # no precomposed q̃: the tilde stays a combining mark
        ("\u0915\u094d\u0937\u0947\u0924\u094d\u0930", ["\u0915\u094d\u0937\u0947\u0924\u094d\u0930"]),
    ],
)
def test_combining_marks_stay_inside_the_word(text: str, words: list[str]) -> None:
    assert surface_tokens(text) == words


def test_a_hindi_word_keeps_its_vowel_signs_and_is_highlighted_whole() -> None:
    analyze = Analyzer()
    assert analyze("दूध") == ["दूध"] and analyze("दूध") != analyze("दध")  # milk is not "दध"
    assert set(analyze("दूध")).isdisjoint(analyze("दिल्ली भारत की राजधानी है"))  # no shared single letters
    spans = analyze.matching_spans(HINDI, frozenset(analyze.query_terms("दूध हिन्दी")))
    assert [HINDI[s:e] for s, e in spans] == ["दूध", "हिन्दी"]


@pytest.mark.parametrize(
    "written, plain",
    [
        ("\u0643\u064e\u062a\u064e\u0628\u064e", "\u0643\u062a\u0628"),  # كَتَبَ: harakat are optional
        ("\u0643\u0640\u062a\u0640\u0628", "\u0643\u062a\u0628"),  # كـتـب: tatweel stretches, spells nothing
        ("\u0645\u064f\u062f\u064e\u0631\u0651\u0650\u0633", "\u0645\u062f\u0631\u0633"),  # a shadda too
        ("\u0647\u0670\u0630\u0627", "\u0647\u0630\u0627"),  # a superscript alef
        ("\u05e9\u05c1\u05b8\u05dc\u05d5\u05b9\u05dd", "\u05e9\u05dc\u05d5\u05dd"),  # שָׁלוֹם: Hebrew points
        ("\ufb2a\u05dc\u05d5\u05dd", "\u05e9\u05dc\u05d5\u05dd"),  # a presentation form with its shin dot
    ],
)
def test_optional_arabic_and_hebrew_diacritics_are_dropped(written: str, plain: str) -> None:
    analyze = Analyzer()
    assert surface_tokens(written) == [plain]
    assert analyze(written) == analyze(plain) == [plain]
    text = f"see {written} here"
    spans = analyze.matching_spans(text, frozenset(analyze.query_terms(plain)))
    assert [text[s:e] for s, e in spans] == [written]


def test_letters_with_hamza_or_madda_stay_letters_and_a_maqaf_still_splits() -> None:
    # alef + hamza above composes (NFKC) into the letter أ, which is spelling, not an optional mark
    assert surface_tokens("\u0627\u0654\u0645\u064e\u0644") == ["\u0623\u0645\u0644"]
    assert surface_tokens("\u0622\u0645\u0646") == ["\u0622\u0645\u0646"]  # آمن
    # בֵּית־סֵפֶר: the maqaf (U+05BE) is Hebrew's hyphen, a word break like "-"
    assert surface_tokens("\u05d1\u05bc\u05b5\u05d9\u05ea\u05be\u05e1\u05b5\u05e4\u05b6\u05e8") == [
        "\u05d1\u05d9\u05ea",
        "\u05e1\u05e4\u05e8",
    ]


def test_the_dotted_capital_i_folds_to_a_plain_i() -> None:
    analyze = Analyzer()
    assert analyze("İSTANBUL") == analyze("istanbul") == ["istanbul"]
    assert analyze("İstanbul'da") == analyze("istanbul'da")
    text = "Flights to İSTANBUL daily"
    spans = analyze.matching_spans(text, frozenset(analyze.query_terms("istanbul")))
    assert [text[s:e] for s, e in spans] == ["İSTANBUL"]


def test_turkish_lowercases_the_dotless_and_dotted_i_as_turkish_does() -> None:
    turkish = Analyzer(AnalyzerSettings(language="tr"))
    assert surface_tokens("IĞDIR İzmir", AnalyzerSettings(language="tr")) == ["ığdır", "izmir"]
    assert turkish("IĞDIR") == turkish("ığdır") and turkish("İZMİR") == turkish("izmir")
    assert turkish("ISPARTA") == turkish("ısparta") != turkish("isparta")  # ASCII text is Turkish too
    text = "IĞDIR ve İZMİR"
    spans = turkish.matching_spans(text, frozenset(turkish.query_terms("ığdır izmir")))
    assert [text[s:e] for s, e in spans] == ["IĞDIR", "İZMİR"]
    assert surface_tokens("ISPARTA") == ["isparta"]  # other languages keep the dotted lowercase i


def test_an_index_built_before_words_kept_their_marks_is_analysed_as_it_was() -> None:
    recorded = {"language": "en", "stopwords": True, "stem": True, "drop_format_characters": True}
    old_settings = AnalyzerSettings.from_dict(recorded)  # its manifest has no words_keep_marks
    assert old_settings.words_keep_marks is False
    old = Analyzer(old_settings)
    assert surface_tokens("हिन्दी", old_settings) == ["ह", "न", "द"]
    assert old("كَتَبَ") == ["ك", "ت", "ب"] and old("İSTANBUL") == ["stanbul"]
    assert old.query_terms("हिन्दी") == old("हिन्दी")
    spans = old.matching_spans(HINDI, frozenset(old("हिन्दी")))
    assert [HINDI[s:e] for s, e in spans] == ["द", "ह", "न", "द"]  # "दूध" shares its letter द, as it did
    old_turkish = AnalyzerSettings.from_dict({**recorded, "language": "tr"})
    assert surface_tokens("IĞDIR", old_turkish) == ["iğdir"]
    new = AnalyzerSettings()
    assert new.to_dict()["words_keep_marks"] is True and AnalyzerSettings.from_dict(new.to_dict()) == new


def test_the_mark_class_holds_every_combining_mark_and_only_optional_ones_are_dropped() -> None:
    everything = [chr(c) for c in range(0x110000)]
    marks = {c for c in everything if unicodedata.category(c) in ("Mn", "Mc", "Me") and not _CJK_START_RE.match(c)}
    in_class = re.compile(f"[{mark_class()}]")
    assert {c for c in everything if in_class.match(c)} == marks
    # what sends a text to the patterns with marks: each mark, each character removed inside a word
    removed = [c for c in everything if _IN_WORD_FORMAT_RE.match(c) or _OPTIONAL_DIACRITICS_RE.match(c)]
    assert all(_holds_marks_or_removed(f"x{c}y", _FORMAT_AND_DIACRITICS_RE) for c in [*marks, *removed])
    assert not _holds_marks_or_removed("Les abeilles « dansent » — 🐝 …", _FORMAT_AND_DIACRITICS_RE)
    dropped = [c for c in everything if _OPTIONAL_DIACRITICS_RE.fullmatch(c)]
    assert {unicodedata.category(c) for c in dropped} == {"Mn", "Lm"}  # Lm: the tatweel
    assert not {"\u05be", "\u0903", "\u093f", "\u094d", "\u0301"} & set(dropped)  # maqaf, Devanagari, acute


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("es", "Las abejas están bailando", ["abej", "bail"]),
        ("fr", "L'abeille et les fleurs", ["abeil", "fleur"]),
        ("de", "Die Bienen und die Blumen", ["bien", "blum"]),
        ("pt", "As abelhas e as flores", ["abelh", "flor"]),
        ("it", "Le api e i fiori dell'alveare", ["api", "fior", "alve"]),
        ("spanish", "abejas", ["abej"]),
    ],
)
def test_other_languages(language: str, text: str, expected: list[str]) -> None:
    assert Analyzer(AnalyzerSettings(language=language))(text) == expected


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(InvalidOptionError, match="unsupported language"):
        AnalyzerSettings(language="klingon")


@pytest.mark.parametrize(
    ("given", "code"), [("pt-BR", "pt"), ("de_DE", "de"), ("en-US", "en"), ("ES", "es"), ("nb", "no"), ("nn-NO", "no")]
)
def test_a_locale_or_norwegian_written_form_is_its_language(given: str, code: str) -> None:
    assert AnalyzerSettings(language=given).language == code


@pytest.mark.parametrize(
    ("language", "written", "typed", "matches"),
    [  # README's --language row says which languages match a word typed without its accents
        ("es", "canción", "cancion", True),
        ("de", "Köln", "Koln", True),
        ("it", "città", "citta", True),
        ("ru", "ёлка", "елка", True),
        ("fr", "château", "chateau", False),
        ("pt", "Belém", "Belem", False),
    ],
)
def test_which_languages_match_words_without_their_accents(
    language: str, written: str, typed: str, matches: bool
) -> None:
    analyze = Analyzer(AnalyzerSettings(language=language))
    assert (analyze(written) == analyze(typed)) is matches


@pytest.mark.parametrize("given", ["zh", "ja", "ko", "zh-TW", "Japanese"])
def test_a_cjk_language_is_refused_with_what_to_do_instead(given: str) -> None:
    with pytest.raises(InvalidOptionError, match="unsupported language") as refused:
        AnalyzerSettings(language=given)
    assert "two-character pieces under any language" in str(refused.value.hint)
    assert "leave --language out" in str(refused.value.hint)


@pytest.mark.parametrize("given", ["el", "hi", "ar", "el-GR"])
def test_another_language_is_refused_with_the_default_analyzer_as_the_way_out(given: str) -> None:
    with pytest.raises(InvalidOptionError, match="unsupported language") as refused:
        AnalyzerSettings(language=given)
    assert "choose one of da, de, en" in str(refused.value.hint)
    assert "leave --language out" in str(refused.value.hint)


def test_cjk_text_becomes_bigrams_instead_of_vanishing() -> None:
    terms = Analyzer()("蜜蜂跳舞 and bees")
    assert terms == ["蜜蜂", "蜂跳", "跳舞", "bee"]
    assert Analyzer()("蜂") == ["蜂"]
    assert Analyzer()("ミツバチ") == ["ミツ", "ツバ", "バチ"]


def test_a_document_indexes_each_cjk_character_beside_its_bigrams() -> None:
    # a one-character question ("猫", cat) is a unigram: the document must hold it to be found
    assert sorted(document_tokens("我的猫很可爱 cats")) == sorted(
        ["我的", "的猫", "猫很", "很可", "可爱", "我", "的", "猫", "很", "可", "爱", "cats"]
    )
    assert document_tokens("猫") == ["猫"]  # a lone character is not counted twice
    assert Analyzer()("我的猫很可爱") == ["我的", "的猫", "猫很", "很可", "可爱"]  # a query keeps bigrams only
    assert Analyzer()("猫") == ["猫"]


def test_an_index_built_before_cjk_unigrams_is_analysed_as_it_was() -> None:
    recorded = {"language": "en", "stopwords": True, "stem": True, "drop_format_characters": True}
    old = AnalyzerSettings.from_dict({**recorded, "words_keep_marks": True})  # its manifest has no cjk_unigrams
    assert old.cjk_unigrams is False
    assert document_tokens("我的猫", old) == ["我的", "的猫"]
    new = AnalyzerSettings()
    assert new.to_dict()["cjk_unigrams"] is True and AnalyzerSettings.from_dict(new.to_dict()) == new


def test_greek_accents_are_folded_as_greek_capitals_drop_them() -> None:
    # Greek writes capitals without their tonos ("ΟΔΥΣΣΕΑΣ" is "Οδυσσέας"), and people type without it
    analyze = Analyzer(AnalyzerSettings(stem=False))
    assert analyze("Ο Παρθενώνας, η πρωτεύουσα της Ελλάδας") == analyze("ο παρθενωνας, η πρωτευουσα της ελλαδας")
    assert analyze("ΟΔΥΣΣΕΑΣ") == analyze("Οδυσσέας") == ["οδυσσεασ"]
    assert analyze("Ϊ ΐ ϋ ΰ ἀρχή ᾠδή") == ["ι", "ι", "υ", "υ", "αρχη", "ωδη"]  # dialytika and polytonic marks
    assert analyze("ο\u0301") == analyze("ό") == ["ο"]  # written decomposed (NFD) too
    assert analyze("café naïve") == ["café", "naïve"]  # other scripts keep their accents


def test_an_index_built_before_greek_folding_is_analysed_as_it_was() -> None:
    recorded = {"language": "en", "stopwords": True, "stem": False, "drop_format_characters": True}
    old = AnalyzerSettings.from_dict({**recorded, "words_keep_marks": True, "cjk_unigrams": True})
    assert old.fold_greek_accents is False
    assert surface_tokens("Αθήνα", old) == ["αθήνα"]
    new = AnalyzerSettings()
    assert new.to_dict()["fold_greek_accents"] is True and AnalyzerSettings.from_dict(new.to_dict()) == new


def test_a_greek_word_is_highlighted_whatever_its_accents() -> None:
    analyzer = Analyzer()
    text = "Ο Παρθενώνας και ο ΠΑΡΘΕΝΩΝΑΣ"
    spans = analyzer.highlighter("παρθενωνας")(text)
    assert [text[start:end] for start, end in spans] == ["Παρθενώνας", "ΠΑΡΘΕΝΩΝΑΣ"]


def test_switches_for_stopwords_and_stemming() -> None:
    plain = Analyzer(AnalyzerSettings(stopwords=False, stem=False))
    assert plain("The bees are dancing") == ["the", "bees", "are", "dancing"]


def test_absurdly_long_tokens_are_dropped() -> None:
    assert Analyzer()("x" * 500 + " bee") == ["bee"]


def test_settings_round_trip() -> None:
    settings = AnalyzerSettings(language="french", stopwords=False, stem=True)
    assert AnalyzerSettings.from_dict(settings.to_dict()) == settings
    assert settings.language == "fr"


def test_matching_spans_point_at_the_words() -> None:
    analyze = Analyzer()
    text = "Honeybees DANCE; a dancer dances."
    spans = analyze.matching_spans(text, frozenset(analyze("dancing")))
    assert [text[s:e] for s, e in spans] == ["DANCE", "dances"]


def test_remembered_terms_are_the_terms_and_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """__call__ remembers each token's term: the same terms as term_of, at most MAX_REMEMBERED kept."""
    import ragcli.analysis

    monkeypatch.setattr(ragcli.analysis, "MAX_REMEMBERED", 5)
    analyzer = Analyzer()
    texts = ["Running dogs ran", "the dogs' runners running", "Bees dance; the queen's bees", "running"] * 2
    for text in texts:
        assert analyzer(text) == [t for t in map(analyzer.term_of, surface_tokens(text)) if t is not None]
        assert len(analyzer._remembered) <= 5
    assert analyzer("running running") == ["run", "run"]


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x2E7F) | st.sampled_from("'’._ -.")))
def test_text_without_cjk_splits_into_the_same_words_by_the_plain_pattern(text: str) -> None:
    # surface_tokens takes the faster pattern when the text holds no CJK character: the index's terms
    # must not change with it (all code points below the first CJK block, plus the joiners)
    folded = text.casefold()
    assert _PLAIN_TOKEN_RE.findall(folded) == _TOKEN_RE.findall(folded)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x2E7F) | st.sampled_from("'’._ -.")))
def test_words_with_marks_split_the_same_by_the_plain_pattern(text: str) -> None:
    # the same for the patterns that keep combining marks inside words
    folded = text.casefold()
    assert _marked_words().plain.findall(folded) == _marked_words().mixed.findall(folded)


SCRIPTS_WITH_MARKS = st.characters(blacklist_categories=("Cs",), max_codepoint=0x2E7F) | st.characters(
    min_codepoint=0x11000,
    max_codepoint=0x1107F,  # Brahmi: marks beyond the BMP
)


@given(st.text(alphabet=SCRIPTS_WITH_MARKS | st.sampled_from("'’._ -.\u00ad\u0640\u064e\u05b8\u0301\u0130I")))
def test_text_without_marks_is_split_as_the_patterns_with_marks_split_it(text: str) -> None:
    # only text that holds a mark (or a character removed inside words) is split by the patterns with marks:
    # the rest must split the same by the plain ones
    folded = _fold_greek_accents(unicodedata.normalize("NFKC", text)).replace("\u0130", "i").casefold()
    words = _marked_words().plain.findall(_FORMAT_AND_DIACRITICS_RE.sub("", folded))
    assert surface_tokens(text) == words


@pytest.mark.parametrize(
    ("query", "parts"),
    [
        ("What does Response.raise_for_status do?", ["respons", "raise_for_statu"]),
        ("How do I use np.array?", ["np", "arrai"]),
        ("See www.example.com", ["www", "exampl", "com"]),
        ("The U.S. Army, e.g. a Ph.D. at 9 a.m., version 1.2.3", []),  # abbreviations and numbers: no names
        ("No dots at all", []),
    ],
)
def test_a_query_also_asks_for_the_parts_of_a_dotted_name(query: str, parts: list[str]) -> None:
    analyzer = Analyzer()
    whole = analyzer(query)
    assert analyzer.query_terms(query) == whole + parts
    # documents keep the dotted name one term: only queries are widened
    assert analyzer(query) == whole


def test_a_part_the_query_already_holds_is_not_asked_for_twice() -> None:
    terms = Analyzer().query_terms("response codes of response.json")
    assert terms.count("respons") == 1 and "json" in terms


def test_cjk_matches_are_highlighted_inside_a_run() -> None:
    # a CJK run is indexed in two-character pieces: the whole run was compared with them, and never matched
    analyze = Analyzer()
    text = "三峡大坝位于湖北省宜昌市，是世界上最大的水力发电站。Der Kölner Dom ist 157 Meter hoch."
    spans = analyze.matching_spans(text, frozenset(analyze.query_terms("三峡大坝 Kölner")))
    assert [text[s:e] for s, e in spans] == ["三峡大坝", "Kölner"]
    korean = "한글은 1443년에 창제되었다. 한글"
    spans = analyze.matching_spans(korean, frozenset(analyze.query_terms("한글")))
    assert [korean[s:e] for s, e in spans] == ["한글", "한글"]  # inside 한글은 too
    one = Analyzer(AnalyzerSettings(cjk_unigrams=True))
    spans = one.matching_spans("蜂王产卵", frozenset(one.query_terms("卵")))
    assert spans == [(3, 4)]
