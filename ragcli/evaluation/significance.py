"""Whether one configuration's scores differ from another's by more than the questions' own variation.

Two retrievers that score nDCG@10 0.651 and 0.664 on 300 questions may not differ at all: the per-query
values vary far more than that. IR practice (Sakai; Smucker, Allan and Carterette 2007; Urbano et al.
2019) is to test the per-query differences with a paired test and to correct for comparing several
systems at once. `ragcli evaluate` compares every configuration with the first one listed (the
baseline): a paired two-sided t-test per metric (scipy's `ttest_rel`), with Holm's step-down
correction over the configurations compared, and a 95% confidence interval of each mean (Student's t).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05  # the level the table marks; --json gives the p-values themselves
TEST_NAME = "paired t-test, Holm-corrected"
SAME = 1e-12  # per-query values this close are equal (the same metric computed along two paths)


@dataclass(frozen=True)
class Difference:
    """One metric of a configuration against the baseline's, over the same questions."""

    difference: float  # this configuration's mean minus the baseline's
    p_value: float  # paired two-sided t-test
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
    """The two-sided p-value of a paired t-test of `values` against `baseline` (same questions, same
    order); 1.0 when they never differ; None with fewer than two questions."""
    if len(values) != len(baseline):
        raise ValueError(f"paired values of different lengths: {len(values)} and {len(baseline)}")
    if len(values) < 2:
        return None
    differences = np.asarray(values, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    if np.ptp(differences) <= SAME * max(1.0, float(np.abs(differences).max())):  # no variation (but rounding)
        return 1.0 if abs(float(differences.mean())) <= SAME else 0.0  # never differ / always by as much
    from scipy.stats import ttest_rel

    return float(ttest_rel(values, baseline).pvalue)


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


def confidence_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float] | None:
    """The `level` confidence interval of the mean of `values` (Student's t); None with fewer than two."""
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
    return (mean - half, mean + half)


def compare(columns: Mapping[str, Mapping[str, Sequence[float]]], baseline: str) -> dict[str, dict[str, Difference]]:
    """Each configuration's metrics against `baseline`'s: configuration → metric → Difference, for the
    metrics both measured on the same questions. The correction is per metric, over the configurations."""
    others = [name for name in columns if name != baseline]
    found: dict[str, dict[str, Difference]] = {name: {} for name in others}
    for metric, base in columns[baseline].items():
        tested = []
        for name in others:
            values = columns[name].get(metric)
            if values is None or len(values) != len(base):
                continue
            p_value = paired_p_value(values, base)
            if p_value is not None:
                tested.append((name, float(np.mean(values)) - float(np.mean(base)), p_value))
        for (name, difference, p_value), p_holm in zip(tested, holm([p for _, _, p in tested])):
            found[name][metric] = Difference(difference, p_value, p_holm)
    return found
