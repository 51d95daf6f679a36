"""One leaderboard across tasks: mean rank, win rate and normalised score, with bootstrap intervals.

A task is one (records folder, dataset, dataset params, n); a family's score on it is its mean
held-out accuracy over seeds (CPU rows; accuracy does not depend on the device). A family that
has no result on a task (not run there, failed or skipped) is counted, not dropped: it ranks
last on that task (tied with the other missing ones), loses every comparison with a family that
ran (ties with the missing), and scores 0. The table says on how many tasks each family ran, and a
second table keeps only the tasks every family ran (the critical-difference diagram uses those).

Normalised score per task: (acc − worst) / (best − worst) over the families that ran (1 when all
tie), as TabArena/TabRepo normalise errors. Win rate: the share of (task, other family) pairs
won, ties half. Intervals: 2.5–97.5 percentiles over ``BOOTSTRAP`` resamples of the tasks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.records.frame import CELL, dataset_title, model_name, ok

BOOTSTRAP = 2000


def task_scores(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Tasks × families: mean held-out accuracy (NaN where a family has no result).

    ``frames``: records frames by source (e.g. "main", "variants", "real"); plain cells, CPU rows."""
    rows = []
    for source, df in frames.items():
        done = ok(df)
        done = done[done.device == "cpu"]
        for (dataset, dparams, n, model, mparams), c in done.groupby(CELL[:-1], sort=False):
            task = f"{dataset_title(dataset, dparams, n)} [{source}]"
            rows.append({"task": task, "family": model_name(model, mparams), "acc": c.test_acc.mean()})
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows).pivot_table(index="task", columns="family", values="acc", sort=False)
    every = [f for frame in frames.values() for f in _families(frame)]
    return table.reindex(columns=list(dict.fromkeys(every)))


def _families(df: pd.DataFrame) -> list[str]:
    """Every family a frame names (failed and skipped ones included: they are missing, not absent)."""
    return [model_name(m, p) for m, p in df[["model", "mparams"]].drop_duplicates().itertuples(index=False)]


def ranks(scores: pd.DataFrame) -> pd.DataFrame:
    """Per task, 1 = best; missing families share the last ranks."""
    filled = scores.fillna(-np.inf)
    return filled.rank(axis=1, ascending=False, method="average")


def normalised(scores: pd.DataFrame) -> pd.DataFrame:
    best, worst = scores.max(axis=1), scores.min(axis=1)
    spread = (best - worst).replace(0.0, np.nan)
    out = scores.sub(worst, axis=0).div(spread, axis=0)
    out = out.where(spread.notna().to_numpy()[:, None] | scores.isna(), 1.0)  # all tie: everyone scores 1
    return out.fillna(0.0)


def win_rates(scores: pd.DataFrame) -> pd.DataFrame:
    """Per task, each family's share of the other families it beats (ties, missing vs missing: half)."""
    a = scores.fillna(-np.inf).to_numpy()
    k = a.shape[1]
    wins = (a[:, :, None] > a[:, None, :]).sum(2) + 0.5 * ((a[:, :, None] == a[:, None, :]).sum(2) - 1)
    return pd.DataFrame(wins / max(k - 1, 1), index=scores.index, columns=scores.columns)


def summary(scores: pd.DataFrame, *, bootstrap: int = BOOTSTRAP, seed: int = 0) -> pd.DataFrame:
    """Per family: tasks run, mean rank, win rate and normalised score, each with its bootstrap interval."""
    per_task = {"mean rank": ranks(scores), "win rate": win_rates(scores), "normalised score": normalised(scores)}
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(scores), size=(bootstrap, len(scores)))
    out = pd.DataFrame({"tasks run": scores.notna().sum().astype(int).astype(str) + f" / {len(scores)}"})
    for name, table in per_task.items():
        values = table.to_numpy()
        boot = values[picks].mean(axis=1)  # (bootstrap, families)
        low, high = np.percentile(boot, [2.5, 97.5], axis=0)
        out[name] = values.mean(axis=0)
        out[f"{name} 95% CI"] = [f"[{lo:.2f}, {hi:.2f}]" for lo, hi in zip(low, high)]
    return out.sort_values("mean rank", kind="stable")


def complete(scores: pd.DataFrame) -> pd.DataFrame:
    """Only the tasks every family ran."""
    return scores.dropna()


def table(scores: pd.DataFrame) -> str:
    s = summary(scores).reset_index(names="family")
    return s.to_markdown(index=False, floatfmt=".2f")


TEXT = {
    "all": "Every task in results/ (main, variants, real): a family's score on a task is its mean held-out "
    "accuracy over seeds (CPU rows). Mean rank: 1 is best. Win rate: share of (task, other family) pairs won, "
    "ties half. Normalised score: (acc − worst) / (best − worst) on each task. A family with no result on a task "
    "(not run there, failed or skipped) is counted as last there: it ranks last, loses to every family that "
    "ran and scores 0; `tasks run` says how often that happened. Brackets: 95% bootstrap intervals over tasks "
    "(`bench/report/leaderboard.py`).",
    "complete": "Only the tasks every family ran ({tasks}):",
}


def frames(df: pd.DataFrame, extra: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The records ranked: main, variants and real (the sweeps repeat the main tasks at other sizes)."""
    return {"main": df} | {k: v for k, v in extra.items() if k in ("variants", "real", "real-quick", "real-tiny")}


def section(df: pd.DataFrame, extra: dict[str, pd.DataFrame], figure: str = "") -> str:
    """The results page's leaderboard: all tasks, then the complete ones, then ``figure`` (the CD diagram)."""
    scores = task_scores(frames(df, extra))
    if scores.shape[0] < 2 or scores.shape[1] < 2:
        return ""
    full = complete(scores)
    parts = [TEXT["all"], table(scores)]
    if 2 <= len(full) < len(scores):
        parts += [TEXT["complete"].format(tasks=", ".join(full.index)), table(full)]
    return "\n\n".join([*parts, figure] if figure else parts)
