"""The gate's statistics: pure functions of paired numbers, one significance level, one verdict rule.

- A/B times are paired by round (head/base ratio of adjacent runs): one-sided Wilcoxon signed-rank
  on the log ratios, exact order-statistic interval for the median ratio (:func:`judge_times`);
- A/B held-out accuracy is paired by seed (same seeds, same splits): an exact tie is "unchanged",
  else the same test on the differences (:func:`judge_accuracy`);
- saved record sets are unpaired: one-sided Mann-Whitney U over seeds (:func:`judge_unpaired`).
Each ends in :func:`verdict`: a regression needs p <= ``ALPHA`` and an effect at least the
threshold, in the worse direction; an improvement the same in the better one.
A cell that ran on the base and did not run on the head (failed, skipped or missing) is a
regression by itself (:func:`status_rows`): a gate must see a family disappear.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import binom, mannwhitneyu, wilcoxon

ALPHA = 0.05
TIME_EFFECT = 0.10  # a time must be >= 10% worse (median paired ratio) to be a regression
ACCURACY_DROP = 0.005  # mean paired held-out accuracy drop that counts
MIN_ROUNDS = 5  # the fewest pairs at which a one-sided signed-rank test can reach p <= 0.05 (1/32)
MAX_ROUNDS = 12


@dataclass(frozen=True)
class Decision:
    verdict: str  # REGRESSION | improved | ok | unchanged | ambiguous | too few rounds
    effect: float  # times: median head/base ratio (> 1 worse); accuracy: mean head - base
    low: float  # confidence interval of the effect (~95%)
    high: float
    p: float  # one-sided, for "worse"
    n: int


def verdict(p_worse: float, p_better: float, worse_by: float, threshold: float, alpha: float = ALPHA) -> str:
    """The one rule: 'REGRESSION', 'improved' or 'ok'. ``worse_by``: the effect in the worse direction
    (negative when better), in the threshold's units."""
    if p_worse <= alpha and worse_by >= threshold:
        return "REGRESSION"
    if p_better <= alpha and -worse_by >= threshold:
        return "improved"
    return "ok"


def median_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Distribution-free interval for the median: order statistics k and n+1-k, with k the largest
    rank whose binomial tail stays within (1 - level) / 2 (or the extremes when n is small)."""
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    k = 1  # [x_(k), x_(n+1-k)] covers the median with probability 1 - 2 P(Bin(n, 1/2) <= k - 1)
    while k + 1 <= (n + 1) // 2 and 2 * binom.cdf(k, n, 0.5) <= 1 - level:
        k += 1
    return float(x[k - 1]), float(x[n - k])


def _signed_rank_p(d: np.ndarray, alternative: str) -> float:
    if not np.any(d):
        return 1.0
    return float(wilcoxon(d, alternative=alternative, zero_method="zsplit").pvalue)


def judge_times(base: np.ndarray, head: np.ndarray, *, effect: float = TIME_EFFECT, alpha: float = ALPHA) -> Decision:
    """Seconds of ``base`` and ``head`` paired by round (lower is better)."""
    base, head = np.asarray(base, float), np.asarray(head, float)
    logs = np.log(head / base)
    n = len(logs)
    if n < MIN_ROUNDS:
        return Decision(
            "too few rounds", float(np.exp(np.median(logs))) if n else math.nan, math.nan, math.nan, math.nan, n
        )
    ratio = float(np.exp(np.median(logs)))
    low, high = (float(np.exp(v)) for v in median_ci(logs))
    p_worse, p_better = _signed_rank_p(logs, "greater"), _signed_rank_p(logs, "less")
    decided = verdict(p_worse, p_better, math.log(ratio), math.log1p(effect), alpha)
    if decided == "ok" and high >= 1 + effect:
        decided = "ambiguous"  # the interval does not rule out a slowdown as large as the threshold
    return Decision(decided, ratio, low, high, p_worse, n)


def judge_accuracy(
    base: np.ndarray, head: np.ndarray, *, drop: float = ACCURACY_DROP, alpha: float = ALPHA
) -> Decision:
    """Held-out accuracies of ``base`` and ``head`` paired by seed (higher is better)."""
    d = np.asarray(head, float) - np.asarray(base, float)
    n = len(d)
    if n and not np.any(d):
        return Decision("unchanged", 0.0, 0.0, 0.0, 1.0, n)
    if n < MIN_ROUNDS:
        return Decision("too few rounds", float(d.mean()) if n else math.nan, math.nan, math.nan, math.nan, n)
    mean = float(d.mean())
    low, high = median_ci(d)
    p_worse, p_better = _signed_rank_p(d, "less"), _signed_rank_p(d, "greater")
    return Decision(verdict(p_worse, p_better, -mean, drop, alpha), mean, low, high, p_worse, n)


def judge_unpaired(
    base: np.ndarray, cur: np.ndarray, *, higher_is_better: bool, worse_by: float, threshold: float
) -> tuple[float, str]:
    """Two unpaired samples (seeds, repeats): one-sided Mann-Whitney U p for "worse", and the verdict."""
    if len(base) < 2 or len(cur) < 2:
        return math.nan, "too few repeats"
    worse, better = ("less", "greater") if higher_is_better else ("greater", "less")
    if np.all(base == base[0]) and np.all(cur == cur[0]) and base[0] == cur[0]:
        return 1.0, "ok"
    p = float(mannwhitneyu(cur, base, alternative=worse).pvalue)
    p_better = float(mannwhitneyu(cur, base, alternative=better).pvalue) if p < 1 else 1.0
    return p, verdict(p, p_better, worse_by, threshold)


def status_rows(base: dict[tuple, str], head: dict[tuple, str]) -> list[tuple[tuple, str, str]]:
    """Cells whose status differs between the sides: (cell, verdict, reason).

    ``base`` / ``head``: cell -> 'ok' or why it did not run ('failed: ...', 'skipped: ...'). A cell
    ok on the base and not ok or absent on the head is a REGRESSION; a cell only the head runs is
    'new'; one the base could not run and the head runs is 'fixed'."""
    rows = []
    for cell in sorted(set(base) | set(head)):
        b, h = base.get(cell), head.get(cell)
        if b == "ok" and h != "ok":
            rows.append((cell, "REGRESSION", f"ok on base, {h or 'missing'} on head"))
        elif h == "ok" and b is None:
            rows.append((cell, "new", "new on head"))
        elif h == "ok" and b != "ok":
            rows.append((cell, "fixed", f"{b} on base, ok on head"))
    return rows
