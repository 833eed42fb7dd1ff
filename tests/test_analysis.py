from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ragcli.analysis import _IN_WORD_FORMAT_RE, _PLAIN_TOKEN_RE, _TOKEN_RE, Analyzer, AnalyzerSettings, surface_tokens
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


def test_cjk_text_becomes_bigrams_instead_of_vanishing() -> None:
    terms = Analyzer()("蜜蜂跳舞 and bees")
    assert terms == ["蜜蜂", "蜂跳", "跳舞", "bee"]
    assert Analyzer()("蜂") == ["蜂"]
    assert Analyzer()("ミツバチ") == ["ミツ", "ツバ", "バチ"]


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
