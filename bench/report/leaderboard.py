"""Leaderboards: a pure function of a (family, task, split) frame, with TabArena's statistics.

Two boards, never mixed into one verdict: the real tables (every table that is not one of our
generators: the verdict people act on) and the synthetic tasks (``datasets.NAMES``). Which board a
task joins depends on its dataset, never on the folder its records lie in. A task is (dataset, dataset params, n);
a split is a seed; CPU rows, plain cells. A family's error on a split is the one TabArena ranks
by: 1 - ROC AUC on binary tasks, log loss on multiclass ones (records ``test_error``). A task
whose records predate those fields falls back to 1 - held-out accuracy for every family on it,
and the page names it.

The statistics are bencheval's (the engine behind TabArena), called once per board in
:func:`board`: Elo (Bradley-Terry on a 400-point scale, 95% interval from a bootstrap over tasks,
``PIN`` held at 1000), improvability, mean rank, harmonic-mean rank (1 / mean reciprocal rank),
wins (splits ranked first, ties shared, summed over tasks), win rate and normalised score
(1 - bencheval's rescaled loss). A failed, skipped or timed-out split is imputed as TabArena does,
with bencheval's own ``fillna_data``: with ``PIN``'s result on that split when ``PIN`` ran every
split of the board, else with the worst result on that split. Cost beside quality: train and
predict seconds per 1,000 rows, median over tasks of the mean over the splits that ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import datasets
from bench.records.frame import dataset_title, model_name
from bench.records.machine import describe

BOARDS = ("real", "synthetic")
# Records folders (page.SUBFOLDERS names; "main" is the folder itself) that feed no board.
NOT_RANKED = ("sweep",)  # learning curves and frequency sweeps: sizes and scales, not tasks
PIN = "random_forest"  # TabArena pins its default RandomForest at 1000
PIN_FALLBACK = ("lightgbm", "xgboost", "catboost", "hist_gbt", "mlp")  # when PIN did not run
PIN_ELO = 1000
BOOTSTRAP = 200  # Elo resamples of the tasks (bencheval's default is 100; each is one Bradley-Terry fit)
FALLBACK_METRIC = "1 - accuracy"


def split_rows(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (task, family, split) from records frames by source folder (CPU, plain cells).

    Columns: method, task, seed, metric_error (NaN where the split did not run ok), metric,
    status, source, test_acc, test_roc_auc, test_log_loss, time_train_s, time_infer_s, n_train,
    n_test, machine. A cell recorded in two folders counts once, from the first folder given."""
    parts = []
    for source, df in frames.items():
        d = df[(df.device == "cpu") & (df.tag == "")]
        if d.empty:
            continue
        parts.append(
            pd.DataFrame(
                {
                    "method": [model_name(m, p) for m, p in zip(d.model, d.mparams)],
                    "board": ["synthetic" if ds in datasets.NAMES else "real" for ds in d.dataset],
                    "task": [dataset_title(a, b, c) for a, b, c in zip(d.dataset, d.dparams, d.n)],
                    "seed": d.seed.astype(int).to_numpy(),
                    "status": d.status.to_numpy(),
                    "source": source,
                    "n_classes": _column(d, "n_classes"),
                    "test_acc": _column(d, "test_acc"),
                    "test_roc_auc": _column(d, "test_roc_auc"),
                    "test_log_loss": _column(d, "test_log_loss"),
                    "test_error": _column(d, "test_error"),
                    "test_error_metric": _column(d, "test_error_metric", None),
                    "time_train_s": _column(d, "fit_s"),
                    "time_infer_s": _column(d, "predict_s"),
                    "n_train": d.n_train.to_numpy(),
                    "n_test": d.n_test.to_numpy(),
                    "machine": [describe(m) for m in d.machine],
                }
            )
        )
    if not parts:
        return pd.DataFrame()
    rows = pd.concat(parts, ignore_index=True).drop_duplicates(["task", "method", "seed"], keep="first")
    ok = rows.status == "ok"
    # A task ranks by TabArena's error when every split that ran has it, else by 1 - accuracy.
    has_error = rows.test_error.notna() | ~ok
    complete = has_error.groupby(rows.task).transform("all")
    rows["metric"] = np.where(complete, rows.test_error_metric, FALLBACK_METRIC)
    rows["metric_error"] = np.where(complete, rows.test_error, 1.0 - rows.test_acc.astype(float))
    rows.loc[~ok, "metric_error"] = np.nan
    rows["metric"] = rows.groupby("task").metric.transform(lambda m: m.dropna().iloc[0] if m.notna().any() else None)
    return rows.reset_index(drop=True)


def _column(d: pd.DataFrame, name: str, default=np.nan) -> np.ndarray:
    if name not in d:
        return np.full(len(d), default, dtype=object if default is None else float)
    values = d[name].to_numpy()
    return values.astype(float) if default is not None else values


def design(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The complete (family x task x split) design the board ranks, and what was left out.

    A family is on the board when it has a record (any status) on every task kept; the tasks
    kept are those with the family set that covers the most (family, task) pairs. On each task,
    the splits kept are the seeds every family kept has a record for."""
    asked = rows.groupby("task").method.agg(lambda m: frozenset(m))
    best, best_size = frozenset(), (0, 0)
    for families in set(asked):
        tasks = [t for t, f in asked.items() if families <= f]
        size = (len(families) * len(tasks), len(tasks))
        if size > best_size and len(families) >= 2:
            best, best_size = families, size
    tasks = [t for t, f in asked.items() if best <= f]
    kept = rows[rows.task.isin(tasks) & rows.method.isin(best)]
    per_split = kept.groupby(["task", "seed"]).method.nunique()
    full = per_split[per_split == len(best)].index
    kept = kept.set_index(["task", "seed"]).loc[lambda d: d.index.isin(full)].reset_index()
    left = {
        "families": sorted(set(rows.method) - best),
        "tasks": sorted(set(rows.task) - set(tasks)),
        "splits": int(len(per_split) - len(full)),
    }
    return kept, left


def pin_for(methods) -> str:
    methods = list(methods)
    return next((m for m in (PIN, *PIN_FALLBACK) if m in methods), sorted(methods)[0])


def impute(rows: pd.DataFrame, pin: str) -> tuple[pd.DataFrame, str]:
    """The dense bencheval input: failed splits filled by bencheval's ``fillna_data`` (with
    ``PIN``'s result on that split if ``pin`` is ``PIN`` and ran every split, else the worst); an ``imputed``
    column marks them. A split that no family ran is dropped (nothing to fill from)."""
    from bencheval.evaluator import BenchmarkEvaluator

    ev = BenchmarkEvaluator(seed_column="seed")
    cols = ["method", "task", "seed", "metric_error", "time_train_s", "time_infer_s"]
    done = rows[rows.metric_error.notna()][cols]
    splits = rows[["task", "seed"]].drop_duplicates()
    pin_splits = done[done.method == pin][["task", "seed"]].drop_duplicates()
    rule = pin if pin == PIN and len(pin_splits) == len(splits) else "worst"
    filled = ev.fillna_data(done.reset_index(drop=True), fillna_method=rule, imputed_col="imputed")
    # A family that ran no split at all is absent from ``done``: fill_data cannot see it; fill it alike.
    source = done[done.method == pin] if rule == pin else done.loc[done.groupby(["task", "seed"]).metric_error.idxmax()]
    absent = [m for m in rows.method.unique() if m not in set(done.method)]
    filled = pd.concat([filled, *(source.assign(method=m, imputed=True) for m in absent)], ignore_index=True)
    return filled[[*cols, "imputed"]].sort_values(["task", "seed", "method"]).reset_index(drop=True), rule


def statistics(data: pd.DataFrame, pin: str, *, bootstrap: int = BOOTSTRAP) -> pd.DataFrame:
    """bencheval's leaderboard of a dense (method, task, seed, metric_error, time_train_s,
    time_infer_s) frame, in bench's column names, best Elo first."""
    from bencheval.evaluator import BenchmarkEvaluator

    ev = BenchmarkEvaluator(seed_column="seed")
    lb = ev.leaderboard(
        data[["method", "task", "seed", "metric_error", "time_train_s", "time_infer_s"]],
        include_mrr=True,
        include_rescaled_loss=True,
        include_rank_counts=True,
        include_error=True,
        sort_by=None,
        elo_kwargs={"calibration_framework": pin, "calibration_elo": PIN_ELO, "BOOTSTRAP_ROUNDS": bootstrap},
    )
    out = pd.DataFrame(
        {
            "Elo": lb["elo"],
            "Elo low": lb["elo"] - lb["elo-"],
            "Elo high": lb["elo"] + lb["elo+"],
            "improvability": lb["improvability"],
            "improvability low": lb["improvability"] - lb["improvability-"],
            "improvability high": lb["improvability"] + lb["improvability+"],
            "mean rank": lb["rank"],
            "harmonic-mean rank": 1.0 / lb["mrr"],
            "wins": lb["rank=1_count"],
            "win rate": lb["winrate"],
            "normalised score": 1.0 - lb["loss_rescaled"],
            "mean error": lb["metric_error"],
        }
    )
    out.index.name = "family"
    return out.sort_values(["Elo", "mean rank"], ascending=[False, True], kind="stable")


def cost(rows: pd.DataFrame) -> pd.DataFrame:
    """Train and predict seconds per 1,000 rows: per task the mean over splits that ran, then the
    median over tasks."""
    done = rows[rows.status == "ok"]
    per = done.assign(
        train=1000 * done.time_train_s / done.n_train,
        predict=1000 * done.time_infer_s / done.n_test,
    )
    by_task = per.groupby(["method", "task"])[["train", "predict"]].mean()
    med = by_task.groupby("method").median()
    return med.rename(columns={"train": "train s / 1k rows", "predict": "predict s / 1k rows"})


def pareto(table: pd.DataFrame) -> list[str]:
    """Families no other family beats on both Elo (higher) and train time per 1k rows (lower)."""
    t = table.dropna(subset=["Elo", "train s / 1k rows"])
    front = []
    for f, r in t.iterrows():
        dominated = (
            (t["Elo"] >= r["Elo"])
            & (t["train s / 1k rows"] <= r["train s / 1k rows"])
            & ((t["Elo"] > r["Elo"]) | (t["train s / 1k rows"] < r["train s / 1k rows"]))
        )
        if not dominated.any():
            front.append(f)
    return sorted(front, key=lambda f: t.loc[f, "train s / 1k rows"])


@dataclass
class Board:
    """One leaderboard: its table, what went into it and how."""

    name: str
    table: pd.DataFrame
    data: pd.DataFrame  # the dense bencheval input (imputed rows marked)
    rows: pd.DataFrame  # the split rows kept (before imputation)
    pin: str
    rule: str  # how failed splits were filled: the pin's name or "worst"
    left: dict = field(default_factory=dict)
    front: list[str] = field(default_factory=list)
    bootstrap: int = BOOTSTRAP

    @property
    def tasks(self) -> list[str]:
        return sorted(self.rows.task.unique())


def board(rows: pd.DataFrame, name: str = "board", *, bootstrap: int = BOOTSTRAP) -> Board | None:
    """The leaderboard of split rows (:func:`split_rows`, or any frame with those columns);
    None when fewer than 2 families or 2 tasks remain."""
    if rows.empty:
        return None
    kept, left = design(rows)
    if kept.method.nunique() < 2 or kept.task.nunique() < 2:
        return None
    pin = pin_for(kept.method.unique())
    data, rule = impute(kept, pin)
    table = statistics(data, pin, bootstrap=bootstrap)
    imputed = data.groupby("method").imputed.sum()
    splits = data.groupby("method").size()
    table = table.join(cost(kept))
    table["imputed splits"] = [f"{int(imputed.get(f, 0))} / {int(splits.get(f, 0))}" for f in table.index]
    return Board(name, table, data, kept, pin, rule, left, pareto(table), bootstrap)


def boards(frames: dict[str, pd.DataFrame], *, bootstrap: int = BOOTSTRAP) -> dict[str, Board]:
    """The real and the synthetic board of a results folder's frames (those that can be built)."""
    rows = split_rows({s: f for s, f in frames.items() if s not in NOT_RANKED})
    if rows.empty:
        return {}
    built = {name: board(rows[rows.board == name].reset_index(drop=True), name, bootstrap=bootstrap) for name in BOARDS}
    return {name: b for name, b in built.items() if b is not None}


def all_frames(df: pd.DataFrame, extra: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {"main": df, **extra}


def task_matrix(b: Board) -> pd.DataFrame:
    """Tasks x families: mean error over splits (imputed included), lower is better."""
    return b.data.pivot_table(index="task", columns="method", values="metric_error", aggfunc="mean")


# ---- the page --------------------------------------------------------------------------------


def _interval(lo: float, hi: float, digits: int = 0) -> str:
    return f"[{lo:.{digits}f}, {hi:.{digits}f}]"


def markdown_table(b: Board) -> str:
    t = b.table
    shown = pd.DataFrame(
        {
            "family": t.index,
            "Elo": [f"{e:.0f}" for e in t["Elo"]],
            "Elo 95% CI": [_interval(lo, hi) for lo, hi in zip(t["Elo low"], t["Elo high"])],
            "improvability": [f"{100 * v:.1f}%" for v in t["improvability"]],
            "improvability 95% CI": [
                f"[{100 * lo:.1f}%, {100 * hi:.1f}%]" for lo, hi in zip(t["improvability low"], t["improvability high"])
            ],
            "mean rank": [f"{v:.2f}" for v in t["mean rank"]],
            "harmonic-mean rank": [f"{v:.2f}" for v in t["harmonic-mean rank"]],
            "wins": [f"{v:.1f}" for v in t["wins"]],
            "win rate": [f"{v:.2f}" for v in t["win rate"]],
            "normalised score": [f"{v:.2f}" for v in t["normalised score"]],
            "train s / 1k rows": [_seconds(v) for v in t["train s / 1k rows"]],
            "predict s / 1k rows": [_seconds(v) for v in t["predict s / 1k rows"]],
            "imputed splits": t["imputed splits"],
        }
    )
    return shown.to_markdown(index=False)


def _seconds(v: float) -> str:
    return "–" if pd.isna(v) else f"{v:.3g}"


def verdict(b: Board) -> str:
    """What the intervals allow one to say, as a function of the numbers."""
    t = b.table
    top = t.index[0]
    others = t.drop(index=top)
    lines = []
    if (t.loc[top, "Elo low"] > others["Elo high"]).all():
        lines.append(
            f"**{top} ranks first, and its Elo interval lies above every other family's** "
            f"({t.loc[top, 'Elo']:.0f}, {_interval(t.loc[top, 'Elo low'], t.loc[top, 'Elo high'])})."
        )
    else:
        tied = [f for f in others.index if others.loc[f, "Elo high"] >= t.loc[top, "Elo low"]]
        lines.append(
            f"No family is best beyond doubt: {top} has the highest Elo ({t.loc[top, 'Elo']:.0f}, "
            f"{_interval(t.loc[top, 'Elo low'], t.loc[top, 'Elo high'])}), but the intervals of "
            f"{', '.join(tied)} overlap it, so these tasks cannot order them."
        )
    below = [f for f in t.index if t.loc[f, "Elo high"] < t.loc[b.pin, "Elo low"]]
    above = [f for f in t.index if t.loc[f, "Elo low"] > t.loc[b.pin, "Elo high"]]
    if above:
        lines.append(f"Above the pinned {b.pin} beyond its interval: {', '.join(above)}.")
    if below:
        lines.append(f"Below the pinned {b.pin} beyond its interval: {', '.join(below)}.")
    if b.front:
        lines.append(
            "Cost: on the Pareto front of Elo against train time per 1k rows (no family is both "
            f"better and cheaper): {', '.join(b.front)}."
        )
    return " ".join(lines)


def how(b: Board) -> str:
    """The rules, with this board's numbers."""
    metrics = b.rows.groupby("task").metric.first()
    fallback = sorted(metrics[metrics == FALLBACK_METRIC].index)
    splits = b.data[["task", "seed"]].drop_duplicates()
    seeds = sorted(int(s) for s in b.data.seed.unique())
    if b.rule == b.pin:
        fill = f"with {b.pin}'s result on that split (as TabArena imputes with its default RandomForest)"
    elif b.pin == PIN:
        fill = f"with the worst result on that split ({PIN} did not run every split, so it cannot fill them)"
    else:
        fill = f"with the worst result on that split ({PIN}, which TabArena imputes with, did not run here)"
    text = [
        f"{b.table.shape[0]} families on {len(b.tasks)} tasks, {len(splits)} splits (seeds {_seeds(seeds)}); "
        f"{'machines' if b.rows.machine.nunique() > 1 else 'machine'}: {' | '.join(sorted(b.rows.machine.unique()))}. "
        f"Error per split: 1 - ROC AUC on binary tasks, log loss on multiclass ones (probabilities clipped to "
        f"[1e-15, 1 - 1e-15]), as TabArena ranks. Statistics by bencheval (TabArena's engine): Elo is "
        f"Bradley-Terry on a 400-point scale with {b.pin} pinned at {PIN_ELO}, 95% interval from "
        f"{b.bootstrap} bootstrap resamples of the tasks; improvability: how much lower the best family's "
        f"error is, as a share of this family's (0% = best everywhere), with its bootstrap interval; ranks "
        f"per split, averaged over splits then tasks; harmonic-mean rank = 1 / mean reciprocal rank; "
        f"wins: tasks ranked first (splits averaged, ties shared); normalised score: 1 at the best error of "
        f"a split, 0 at the worst. Train / predict seconds per 1,000 rows: median over tasks (splits that "
        f"ran only). A failed, skipped or timed-out split is imputed {fill}; `imputed splits` counts them.",
    ]
    if fallback:
        where = f"all {len(fallback)} tasks" if len(fallback) == len(metrics) else ", ".join(fallback)
        text.append(
            f"**Records without probability scores** (made before bench recorded ROC AUC and log loss): on "
            f"{where} every family is ranked by 1 - held-out accuracy instead; `metric` in the task table "
            "says which error each task uses."
        )
    if b.left["families"] or b.left["tasks"] or b.left["splits"]:
        text.append(
            "Left off to keep the design complete (a family must have a record on every task): "
            + "; ".join(
                p
                for p in (
                    f"families {', '.join(b.left['families'])}" if b.left["families"] else "",
                    f"tasks {', '.join(b.left['tasks'])}" if b.left["tasks"] else "",
                    f"{b.left['splits']} splits not run by every family" if b.left["splits"] else "",
                )
                if p
            )
            + "."
        )
    return "\n\n".join(text)


def _seeds(seeds: list[int]) -> str:
    return (
        f"{seeds[0]}–{seeds[-1]}"
        if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2
        else (", ".join(map(str, seeds)))
    )


def tasks_table(b: Board) -> str:
    r = b.rows
    t = r.groupby("task").agg(
        source=("source", lambda s: ", ".join(sorted(set(s)))),
        classes=("n_classes", "first"),
        metric=("metric", "first"),
        splits=("seed", "nunique"),
    )
    t["classes"] = t["classes"].map(lambda k: "–" if pd.isna(k) else f"{int(k)}")
    return t.reset_index().to_markdown(index=False)


TEXT = {
    "real": "The verdict to act on: real tables only (packaged, bundled or a user's file; here and in the "
    "real suites' folders), never mixed with the synthetic tasks.",
    "synthetic": "The synthetic tasks (our own generators: the seed datasets, variants, structure, frontier), "
    "most of them periodic stripes built for the spectral families; read apart from the real board.",
}


def section(b: Board, figures: str = "") -> str:
    parts = [TEXT.get(b.name, ""), verdict(b), markdown_table(b), how(b), figures, tasks_table(b)]
    return "\n\n".join(p for p in parts if p)
