"""Answer metrics as the SQuAD evaluation script defines them: exact match and token F1 after
normalisation (lower case, no punctuation, no articles, single spaces), each the best over the gold
answers. BLEU comes from sacrebleu and ROUGE-L from rouge-score (the standard implementations)."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

_ARTICLES_RE = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES_RE.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    return max((float(normalize_answer(prediction) == normalize_answer(g)) for g in golds), default=0.0)


def _f1(prediction: str, gold: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    return max((_f1(prediction, g) for g in golds), default=0.0)


def bleu(prediction: str, golds: Sequence[str]) -> float:
    """Sentence BLEU (sacrebleu, default settings, all gold answers as references), on a 0-1 scale."""
    import sacrebleu

    return sacrebleu.sentence_bleu(prediction, list(golds)).score / 100.0


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"])


def rouge_l(prediction: str, golds: Sequence[str]) -> float:
    """ROUGE-L F-measure (rouge-score), best over the gold answers."""
    scorer = _rouge_scorer()
    return max((scorer.score(gold, prediction)["rougeL"].fmeasure for gold in golds), default=0.0)


def answer_metrics(prediction: str, golds: Sequence[str]) -> dict[str, float]:
    return {
        "exact_match": exact_match(prediction, golds),
        "f1": token_f1(prediction, golds),
        "bleu": bleu(prediction, golds),
        "rouge_l": rouge_l(prediction, golds),
    }
