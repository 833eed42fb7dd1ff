"""Whether one configuration's scores differ from another's by more than the questions' own variation.

Two retrievers that score nDCG@10 0.651 and 0.664 on 300 questions may not differ at all: the per-query
values vary far more than that. IR practice (Smucker, Allan and Carterette 2007; Sakai 2014) is to test
the per-query differences with a paired test and to correct for comparing several systems at once.
`ragcli evaluate` compares every configuration with the first one listed (the baseline): Fisher's paired
randomization test per metric (the signs of the per-query differences flipped at random, 10,000 times
with a fixed seed, or every way when there are at most 2^14), which assumes no normal distribution and
never calls two systems different on a handful of questions; Holm's step-down correction over the
configurations compared; and a 95% confidence interval of each mean (Student's t).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05  # the level the table marks; --json gives the p-values themselves
TEST_NAME = "paired randomization test, Holm-corrected"
SAME = 1e-12  # per-query values this close are equal (the same metric computed along two paths)
TRIALS = 10_000  # random sign flips: p-values within about ±0.004 at p = 0.05
EXACT_UP_TO = 14  # questions: up to 2^14 sign assignments are all tried
CHUNK_VALUES = 2_000_000  # signs drawn at a time (16 MB), whatever the number of questions
SEED = 0  # the same questions and values give the same p-values, run after run


@dataclass(frozen=True)
class Difference:
    """One metric of a configuration against the baseline's, over the same questions."""

    difference: float  # this configuration's mean minus the baseline's
    p_value: float  # paired two-sided randomization test
    p_holm: float  # corrected for the number of configurations compared with the baseline

    def significant(self, alpha: float = ALPHA) -> bool:
        return self.p_holm < alpha

    def to_dict(self) -> dict[str, float]:
        return {
            "difference": round(self.difference, 6),
            "p_value": round(self.p_value, 6),
            "p_holm": round(self.p_holm, 6),
        }


def paired_p_value(values: Sequence[float], baseline: Sequence[float]) -> float | None:
    """The two-sided p-value of a paired randomization test of `values` against `baseline` (same
    questions, same order); None with fewer than two questions."""
    if len(values) != len(baseline):
        raise ValueError(f"paired values of different lengths: {len(values)} and {len(baseline)}")
    if len(values) < 2:
        return None
    differences = np.asarray(values, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    return float(paired_p_values(differences[:, None])[0])


def paired_p_values(differences: np.ndarray) -> np.ndarray:
    """For each column of per-query differences (questions × metrics), how often flipping the signs of
    its differences gives a sum at least as far from 0 as the observed one: the randomization test's
    two-sided p-value (1.0 for a column of zeros). Every column is tested with the same sign flips, one
    matrix product for all metrics (numpy; scipy's permutation_test takes one metric at a time and was
    60 times slower on 300 questions)."""
    differences = np.where(np.abs(differences) <= SAME, 0.0, differences)  # one value along two paths
    n, metrics = differences.shape
    observed = np.abs(differences.sum(axis=0))
    p_values = np.ones(metrics)
    live = observed > 0
    if not live.any():
        return p_values
    tested = differences[:, live]
    at_least = observed[live] * (1 - 1e-9)  # a flip that gives the observed sum back, rounding aside
    if n <= EXACT_UP_TO:  # every assignment of signs: the exact p-value
        signs = 1.0 - 2.0 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
        p_values[live] = np.mean(np.abs(signs @ tested) >= at_least, axis=0)
        return p_values
    rng = np.random.default_rng(SEED)
    chunk = max(1, min(TRIALS, CHUNK_VALUES // n))
    extreme = np.zeros(len(at_least), dtype=np.int64)
    for start in range(0, TRIALS, chunk):
        signs = np.where(rng.random((min(chunk, TRIALS - start), n)) < 0.5, -1.0, 1.0)
        extreme += np.count_nonzero(np.abs(signs @ tested) >= at_least, axis=0)
    p_values[live] = (extreme + 1) / (TRIALS + 1)  # the observed assignment is one of them: never 0
    return p_values


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of p-values for testing several hypotheses at once (written here:
    it is five lines, and scipy has only the Benjamini–Hochberg one)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def confidence_interval(
    values: Sequence[float], level: float = 0.95, bounds: tuple[float, float] = (0.0, 1.0)
) -> tuple[float, float] | None:
    """The `level` confidence interval of the mean of `values` (Student's t), within `bounds`, what the
    metric can be (every one evaluate reports is a 0–1 rate: a mean of 0.99 has no upper end at 1.001);
    None with fewer than two."""
    n = len(values)
    if n < 2:
        return None
    array = np.asarray(values, dtype=np.float64)
    mean = float(array.mean())
    spread = float(array.std(ddof=1))
    if spread == 0:
        return (mean, mean)
    from scipy.stats import t

    half = float(t.ppf(0.5 + level / 2, n - 1)) * spread / math.sqrt(n)
    return (max(bounds[0], mean - half), min(bounds[1], mean + half))


@dataclass(frozen=True)
class Measured:
    """Some metrics' per-query values over the same questions: `values[metric][i]` is question `ids[i]`'s
    (NaN: left unmeasured, as a failed answer is). Retrieval metrics cover the judged questions and
    answer metrics those with gold answers, so a configuration has a group of each, paired by id."""

    ids: Sequence[str]
    values: Mapping[str, Sequence[float]]


def compare(columns: Mapping[str, Sequence[Measured]], baseline: str) -> dict[str, dict[str, Difference]]:
    """Each configuration's metrics against `baseline`'s: configuration → metric → Difference, for the
    metrics both measured on two or more of the same questions (paired by question id; a question
    either side left unmeasured, NaN, is left out of that metric's pair alone). The correction is per
    metric, over the configurations."""
    tested: dict[str, list[tuple[str, float, float]]] = {}  # metric → (configuration, difference, p)
    for name, groups in columns.items():
        if name == baseline:
            continue
        for ours in groups:
            for theirs in columns[baseline]:
                for metric, difference, p_value in _paired_tests(ours, theirs):
                    tested.setdefault(metric, []).append((name, difference, p_value))
    result: dict[str, dict[str, Difference]] = {name: {} for name in columns if name != baseline}
    for metric, rows in tested.items():
        for (name, difference, p_value), p_holm in zip(rows, holm([p for _, _, p in rows])):
            result[name][metric] = Difference(difference, p_value, p_holm)
    return result


def _paired_tests(ours: Measured, theirs: Measured) -> Iterator[tuple[str, float, float]]:
    """(metric, mean difference, p-value) of the metrics both groups hold, over the questions both
    measured, in the baseline's order. Metrics measured on the same questions share one run of sign
    flips (one matrix product), as the retrieval metrics always do and the answer metrics mostly do."""
    metrics = [metric for metric in ours.values if metric in theirs.values]
    row_of = {query: row for row, query in enumerate(ours.ids)}
    pairs = [(row_of[query], row) for row, query in enumerate(theirs.ids) if query in row_of]
    if not metrics or len(pairs) < 2:
        return
    our_rows, their_rows = (np.array(rows, dtype=np.intp) for rows in zip(*pairs, strict=True))
    ours_values = np.array([ours.values[m] for m in metrics], dtype=np.float64)[:, our_rows]
    theirs_values = np.array([theirs.values[m] for m in metrics], dtype=np.float64)[:, their_rows]
    differences = (ours_values - theirs_values).T  # questions × metrics
    measured = ~np.isnan(differences)
    alike: dict[bytes, list[int]] = {}  # the questions measured → the metrics measured on them
    for column in range(len(metrics)):
        alike.setdefault(measured[:, column].tobytes(), []).append(column)
    for group in alike.values():
        kept = differences[measured[:, group[0]]][:, group]
        if len(kept) < 2:
            continue
        for column, difference, p_value in zip(group, kept.mean(axis=0), paired_p_values(kept), strict=True):
            yield metrics[column], float(difference), float(p_value)
