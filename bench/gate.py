"""The A/B regression gate: base and head measured in the same job, interleaved.

``python -m bench compare --base REV [--head REV]``. Each round runs the gate's cells once for
each side, each in a fresh process (``python -m bench run`` of that side's checkout, the same
Python), in random order. A side is a git checkout: a temporary worktree of REV, or the working
tree for the head by default. Drift of a shared machine hits both sides of a round alike, so:

- times (fit, predict) are paired by round: the head/base ratio of adjacent runs; a regression
  needs a one-sided Wilcoxon signed-rank test on the log ratios at ``ALPHA`` and a median ratio
  beyond ``1 + TIME_EFFECT``; the ratio's confidence interval is exact (order statistics);
- held-out accuracy is paired by seed (same seeds, same splits; CPU fits are deterministic): an
  exact tie is "unchanged"; a regression needs the same test on the differences and a mean drop
  of at least ``ACCURACY_DROP``;
- rows still ambiguous after ``min_rounds`` (the interval straddles the threshold) get more
  rounds, while the time budget lasts.

The decisions are pure functions of the paired numbers (:func:`judge_times`, :func:`judge_accuracy`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binom, wilcoxon

from bench import ROOT, report

ALPHA = 0.05
TIME_EFFECT = 0.10  # a time must be >= 10% worse (median paired ratio) to be a regression
ACCURACY_DROP = 0.005  # mean paired held-out accuracy drop that counts
MIN_ROUNDS = 5  # the fewest pairs at which a one-sided signed-rank test can reach p <= 0.05 (1/32)
MAX_ROUNDS = 12
# The gate's cells, as command-line flags every commit's `bench run` understands.
GATE_ARGS = (
    "--datasets", "sum_bin,sum_mod", "--models", "mlp,spectral_mlp,xgboost", "--n", "2000",
    "--seeds", "0,1,2,3,4,5", "--device", "cpu", "--threads", "1",
)  # fmt: skip


class GateError(ValueError):
    """Bad input or a side that cannot run: exit code 2."""


@dataclass(frozen=True)
class Decision:
    verdict: str  # REGRESSION | improved | ok | unchanged | ambiguous | too few rounds
    effect: float  # times: median head/base ratio (> 1 worse); accuracy: mean head - base
    low: float  # confidence interval of the effect (~95%)
    high: float
    p: float  # one-sided, for "worse"
    n: int


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
    if p_worse <= alpha and ratio >= 1 + effect:
        verdict = "REGRESSION"
    elif p_better <= alpha and ratio <= 1 / (1 + effect):
        verdict = "improved"
    elif high < 1 + effect:
        verdict = "ok"  # the interval rules out a slowdown as large as the threshold
    else:
        verdict = "ambiguous"
    return Decision(verdict, ratio, low, high, p_worse, n)


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
    if p_worse <= alpha and -mean >= drop:
        verdict = "REGRESSION"
    elif p_better <= alpha and mean >= drop:
        verdict = "improved"
    else:
        verdict = "ok"
    return Decision(verdict, mean, low, high, p_worse, n)


def summarise(records: list[dict]) -> dict[tuple, dict]:
    """One side's run of the cells -> per cell: median fit and predict seconds, accuracy by seed."""
    out: dict[tuple, dict] = {}
    frame = pd.DataFrame([r for r in records if r.get("status") == "ok"])
    if frame.empty:
        return out
    for cell, g in report.with_param_columns(frame).groupby(report.CELL):
        out[cell] = {
            "fit_s": float(g.fit_s.median()),
            "predict_s": float(g.predict_s.median()),
            "test_acc": dict(zip(g.seed.astype(int), g.test_acc.astype(float))),
        }
    return out


def decide(rounds: list[dict[str, dict[tuple, dict]]]) -> pd.DataFrame:
    """Per cell and metric, the decision from rounds of {"base": summary, "head": summary}."""
    cells = sorted(set.intersection(*(set(r["base"]) & set(r["head"]) for r in rounds))) if rounds else []
    rows = []
    for cell in cells:
        for metric in ("fit_s", "predict_s"):
            base = np.array([r["base"][cell][metric] for r in rounds])
            head = np.array([r["head"][cell][metric] for r in rounds])
            rows.append(_row(cell, metric, judge_times(base, head), head / base))
        b_acc, h_acc = rounds[0]["base"][cell]["test_acc"], rounds[0]["head"][cell]["test_acc"]
        seeds = sorted(set(b_acc) & set(h_acc))
        decision = judge_accuracy(np.array([b_acc[s] for s in seeds]), np.array([h_acc[s] for s in seeds]))
        rows.append(_row(cell, "test_acc", decision, None))
    return pd.DataFrame(rows)


def _row(cell: tuple, metric: str, d: Decision, ratios: np.ndarray | None) -> dict:
    dataset, dparams, n, model, mparams, device = cell
    return {
        "dataset": f"{dataset} n={n}" + ("" if dparams == "{}" else f" {dparams}"),
        "model": model + ("" if mparams == "{}" else f" {mparams}"),
        "device": device,
        "metric": {"fit_s": "fit time (head/base)", "predict_s": "predict time (head/base)"}.get(
            metric, "held-out acc (head − base)"
        ),
        "effect": d.effect,
        "interval": f"[{d.low:.3g}, {d.high:.3g}]" if not math.isnan(d.low) else "–",
        "p": d.p,
        "n": d.n,
        "verdict": d.verdict,
        "per-round ratios": " ".join(f"{r:.2f}" for r in ratios) if ratios is not None else "–",
    }


# --- running the two sides --------------------------------------------------------------------


def git(*args: str, cwd: Path = ROOT) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        raise GateError(
            f"git {' '.join(args)}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else 'failed'}"
        )
    return out.stdout.strip()


@contextmanager
def checkout(rev: str, into: Path, repo: Path = ROOT) -> Iterator[Path]:
    """A detached worktree of ``rev`` at ``into``, removed afterwards."""
    sha = git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", cwd=repo)
    git("worktree", "add", "--detach", "--force", str(into), sha, cwd=repo)
    try:
        yield into
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(into)], cwd=repo, capture_output=True)
        shutil.rmtree(into, ignore_errors=True)


def run_side(name: str, checkout_dir: Path, out: Path, cell_args: tuple[str, ...]) -> list[dict]:
    """The cells in a fresh process of that side's code; its records."""
    cmd = [sys.executable, "-m", "bench", "run", *cell_args, "--out", str(out), "--no-progress", "--force"]
    env = os.environ | {"PYTHONPATH": str(checkout_dir)}
    done = subprocess.run(cmd, cwd=checkout_dir, capture_output=True, text=True, env=env)
    path = out / "records.jsonl"
    if not path.exists():
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise GateError(f"the {name} side failed to run ({tail})")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_gate(
    base_dir: Path,
    head_dir: Path,
    *,
    cell_args: tuple[str, ...] = GATE_ARGS,
    min_rounds: int = MIN_ROUNDS,
    max_rounds: int = MAX_ROUNDS,
    budget_s: float = math.inf,
    seed: int = 0,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> tuple[pd.DataFrame, list[dict]]:
    """Interleaved rounds until every row is decided, ``max_rounds``, or the budget ends."""
    rng = np.random.default_rng(seed)
    sides = {"base": base_dir, "head": head_dir}
    rounds: list[dict] = []
    start = clock()
    with tempfile.TemporaryDirectory(prefix="bench-gate-") as tmp:
        while len(rounds) < max_rounds:
            order = list(rng.permutation(["base", "head"]))
            round_start = clock()
            result = {
                name: summarise(run_side(name, sides[name], Path(tmp) / f"{name}{len(rounds)}", cell_args))
                for name in order
            }
            rounds.append(result | {"order": order})
            table = decide(rounds)
            if table.empty:
                raise GateError("base and head share no successful cell")
            spent, per_round = clock() - start, clock() - round_start
            progress(f"gate: round {len(rounds)} ({'/'.join(order)}) in {per_round:.0f} s")
            if len(rounds) >= min_rounds and (not (table.verdict == "ambiguous").any() or spent + per_round > budget_s):
                break
    return table, rounds


def markdown(table: pd.DataFrame, info: dict) -> str:
    lines = [f"- {k}: {v}" for k, v in info.items()] + [""]
    shown = table.copy()
    shown["verdict"] = shown["verdict"].map(lambda v: f"**{v}**" if v == "REGRESSION" else v)
    lines.append(shown.to_markdown(index=False, floatfmt=".4g"))
    n_bad = int((table.verdict == "REGRESSION").sum())
    lines += [
        "",
        f"{n_bad} regression(s) in {len(table)} comparisons. Times: paired by round, one-sided Wilcoxon "
        f"signed-rank p ≤ {ALPHA} and median ratio ≥ {1 + TIME_EFFECT:g}; held-out accuracy: paired by seed, "
        f"p ≤ {ALPHA} and mean drop ≥ {ACCURACY_DROP:g}; 'ambiguous': the interval straddles the threshold "
        "after the rounds the budget allowed (not a failure).",
    ]
    return "\n".join(lines)


def github_benchmark_json(rounds: list[dict]) -> dict[str, list[dict]]:
    """github-action-benchmark inputs for the head: held-out accuracy (bigger is better) and the
    median fit seconds over rounds (smaller is better), per cell."""
    out: dict[str, list[dict]] = {"customBiggerIsBetter": [], "customSmallerIsBetter": []}
    for cell in sorted(rounds[0]["head"]) if rounds else []:
        dataset, dparams, n, model, mparams, device = cell
        name = f"{dataset} n={n} {model} {device}" + ("" if dparams == "{}" else f" {dparams}")
        acc = rounds[0]["head"][cell]["test_acc"]
        fit = [r["head"][cell]["fit_s"] for r in rounds if cell in r["head"]]
        out["customBiggerIsBetter"].append(
            {"name": f"{name} held-out accuracy", "unit": "accuracy", "value": float(np.mean(list(acc.values())))}
        )
        out["customSmallerIsBetter"].append({"name": f"{name} fit time", "unit": "s", "value": float(np.median(fit))})
    return out
