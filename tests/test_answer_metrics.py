"""Answer metrics against the SQuAD evaluation script's definitions and hand-computed values:
normalisation, token F1 with precision != recall, the best gold answer, no gold answer at all,
and ROUGE-L from the longest common subsequence."""

from __future__ import annotations

import pytest

from ragcli.evaluation.answers import answer_metrics, bleu, exact_match, normalize_answer, rouge_l, token_f1


def test_normalisation_lowercases_drops_punctuation_articles_and_extra_spaces() -> None:
    assert normalize_answer("An Apple, a PEAR;  and THE banana!") == "apple pear and banana"
    assert normalize_answer("Theatre anthem a-team") == "theatre anthem ateam"  # articles are whole words only
    assert normalize_answer("  \t\n ") == ""


def test_exact_match_after_normalisation_best_over_golds() -> None:
    assert exact_match("The Beatles.", ["beatles"]) == 1.0
    assert exact_match("Beatles", ["Rolling Stones", "the beatles"]) == 1.0
    assert exact_match("Beatle", ["the beatles"]) == 0.0


def test_token_f1_when_precision_and_recall_differ() -> None:
    # prediction: eiffel tower (2 tokens); gold: eiffel tower in paris (4 tokens after normalisation)
    # precision 2/2, recall 2/4, F1 = 2·1·0.5 / 1.5
    assert token_f1("Eiffel Tower", ["the Eiffel Tower in Paris"]) == pytest.approx(2 / 3)
    # a repeated token counts as often as both sides hold it: common = {bee: 1, hive: 1}
    assert token_f1("bee bee hive", ["bee hive hive wax"]) == pytest.approx(2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4))


def test_token_f1_is_the_best_over_the_gold_answers() -> None:
    assert token_f1("red wine", ["blue", "red wine glass", "red wine"]) == 1.0
    assert token_f1("red", ["blue", "red wine"]) == pytest.approx(2 * 1 * 0.5 / 1.5)


def test_no_gold_answer_scores_zero() -> None:
    assert exact_match("anything", []) == 0.0
    assert token_f1("anything", []) == 0.0
    assert rouge_l("anything", []) == 0.0


def test_rouge_l_is_the_lcs_f_measure_best_over_golds() -> None:
    # LCS("the cat sat", "the cat was sat") = 3 tokens: precision 3/3, recall 3/4
    expected = 2 * 1 * 0.75 / 1.75
    assert rouge_l("the cat sat", ["the cat was sat"]) == pytest.approx(expected)
    assert rouge_l("the cat sat", ["dogs bark", "the cat was sat"]) == pytest.approx(expected)
    assert rouge_l("the cat sat", ["dogs bark"]) == 0.0


def test_bleu_is_on_a_zero_to_one_scale() -> None:
    assert bleu(
        "the quick brown fox jumps over the lazy dog", ["the quick brown fox jumps over the lazy dog"]
    ) == pytest.approx(1.0)
    assert bleu("completely unrelated words here", ["the quick brown fox jumps"]) == pytest.approx(0.0, abs=0.05)


def test_answer_metrics_bundles_all_four() -> None:
    scores = answer_metrics("Eiffel Tower", ["the Eiffel Tower in Paris"])
    assert set(scores) == {"exact_match", "f1", "bleu", "rouge_l"}
    assert scores["exact_match"] == 0.0
    assert scores["f1"] == pytest.approx(2 / 3)
    assert scores["rouge_l"] == pytest.approx(2 * 1 * 0.4 / 1.4)  # LCS 2 of 2 and of 5 tokens ("the" kept)
