"""``python -m bench compare BASELINE CURRENT``: a regression gate that noise does not trip.

Per (dataset, model, device) and metric, a regression needs both a one-sided Mann-Whitney U test
over seeds/repeats significant at ``ALPHA`` (as asv does) and an effect beyond the metric's
minimum. Times are divided by a calibration workload (a small MLP's training steps, like ours)
measured right before each group of cells, so a slower machine, or a slow spell of a shared one,
is not a regression. Exit 0 clean, 1 regression, 2 bad input, 3 internal error.

The time thresholds (+50% fit time, -50% predict throughput) come from this 2-core shared VM,
where the same code's fit times moved by up to ~1.6x between runs minutes apart and the
calibration itself by ±15%; a 2x slowdown is still caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.gate.render import github_json
from bench.gate.render import markdown as render_markdown
from bench.gate.stats import ALPHA, judge_unpaired, status_rows
from bench.records.frame import CELL, frame, ok
from bench.records.machine import describe, fingerprint


@dataclass(frozen=True)
class Metric:
    column: str
    higher_is_better: bool
    min_effect: float  # accuracy: absolute drop; times/throughputs: relative change
    relative: bool
    unit: str
    seconds_column: str | None = None  # raw seconds behind a timing metric
    floor_s: float = 0.0  # below this many baseline seconds a timing is noise: not judged


METRICS = (
    Metric("test_acc", True, 0.02, False, "accuracy"),
    Metric("fit_s", False, 0.5, True, "s", "raw_fit_s", 0.2),
    Metric("predict_rows_per_s", True, 0.5, True, "rows/s", "predict_s", 0.005),
)


class CompareError(ValueError):
    """Bad input: exit code 2."""


def _calibrate(df: pd.DataFrame) -> pd.DataFrame:
    """CPU times in units of the run's calibration workload (a CPU workload), rates per such unit;
    GPU rows keep raw seconds (a CPU calibration says nothing about a GPU's speed)."""
    scale = df["calibration_s"].astype(float).fillna(1.0) if "calibration_s" in df else pd.Series(1.0, df.index)
    scale = scale.where(df["device"] == "cpu", 1.0)
    return df.assign(fit_s=df["fit_s"] / scale, predict_rows_per_s=df["predict_rows_per_s"].astype(float) * scale)


def _all(path: Path) -> pd.DataFrame:
    path = Path(path)
    if path.is_dir():
        path = path / "records.jsonl"
    try:
        return frame(path)
    except (FileNotFoundError, ValueError) as exc:
        raise CompareError(str(exc)) from None


def _frame(path: Path) -> pd.DataFrame:
    df = ok(_all(path)).copy()  # plain cells: a tta curve is another measurement
    if df.empty:
        raise CompareError(f"{path}: no successful records")
    df["raw_fit_s"] = df["fit_s"]
    return df


def _statuses(df: pd.DataFrame) -> dict[tuple, str]:
    """Per cell: 'ok' when every seed's latest record is ok, else the first reason one is not."""
    out = {}
    for cell, g in df[df.tag == ""].groupby(CELL):
        bad = g[g.status != "ok"]
        out[cell] = "ok" if bad.empty else f"{bad.status.iloc[0]}: {bad.error.iloc[0]}"
    return out


def _verdict(metric: Metric, base: np.ndarray, cur: np.ndarray) -> tuple[float, float, float, str]:
    b, c = float(np.median(base)), float(np.median(cur))
    delta = c - b
    ratio = c / b if b else np.inf
    if metric.relative:
        worse_by = (1 - ratio) if metric.higher_is_better else (ratio - 1)
    else:
        worse_by = -delta if metric.higher_is_better else delta
    p, verdict = judge_unpaired(
        base, cur, higher_is_better=metric.higher_is_better, worse_by=worse_by, threshold=metric.min_effect
    )
    return delta, ratio, p, verdict


def compare(baseline: Path, current: Path) -> tuple[pd.DataFrame, dict]:
    """The comparison table, and which machines each side ran on."""
    base, cur = _frame(baseline), _frame(current)
    base, cur = _calibrate(base), _calibrate(cur)
    common = base.merge(cur[CELL].drop_duplicates(), on=CELL)[CELL].drop_duplicates()
    if common.empty:
        raise CompareError("baseline and current share no (dataset, model, device) cell")
    rows = [
        {"dataset": f"{c[0]} n={c[2]}" + ("" if c[1] == "{}" else f" {c[1]}"), "model": c[3] + ("" if c[4] == "{}" else f" {c[4]}"),
         "device": c[5], "metric": "ran (status)", "verdict": verdict, "n": reason}
        for c, verdict, reason in status_rows(_statuses(_all(baseline)), _statuses(_all(current)))
    ]  # fmt: skip
    for _, cell in common.iterrows():
        sel_b = (base[CELL] == cell.values).all(axis=1)
        sel_c = (cur[CELL] == cell.values).all(axis=1)
        for m in METRICS:
            b = base.loc[sel_b, m.column].astype(float).dropna().to_numpy()
            c = cur.loc[sel_c, m.column].astype(float).dropna().to_numpy()
            if len(b) == 0 or len(c) == 0:
                continue
            delta, ratio, p, verdict = _verdict(m, b, c)
            if m.seconds_column and base.loc[sel_b, m.seconds_column].astype(float).median() < m.floor_s:
                verdict = f"too fast to judge (< {m.floor_s:g} s)"
            rows.append(
                {
                    "dataset": f"{cell.dataset} n={cell.n}" + ("" if cell.dparams == "{}" else f" {cell.dparams}"),
                    "model": cell.model + ("" if cell.mparams == "{}" else f" {cell.mparams}"),
                    "device": cell.device,
                    "metric": f"{m.column} ({m.unit}{', calibrated' if m.relative and cell.device == 'cpu' else ''})",
                    "baseline": float(np.median(b)),
                    "current": float(np.median(c)),
                    "Δ": delta,
                    "ratio": ratio,
                    "p": p,
                    "n": f"{len(b)}/{len(c)}",
                    "verdict": verdict,
                }
            )
    same_machine = fingerprint(base["machine"].iloc[-1]) == fingerprint(cur["machine"].iloc[-1])
    same = "same machine" if same_machine else "different machines"
    machines = {"baseline": _machine(base), "current": _machine(cur), "times": f"calibrated ({same})"}
    return pd.DataFrame(rows), machines


def _machine(df: pd.DataFrame) -> str:
    m = df["machine"].iloc[-1]
    calib = df["calibration_s"].iloc[-1] if "calibration_s" in df else None
    calib = f"{calib:.3g} s" if calib is not None else "none"
    return f"{describe(m)}, commit {df['commit'].iloc[-1]}, last calibration {calib}"


RULE = (
    f"Rule: one-sided Mann-Whitney U, p ≤ {ALPHA}, and effect beyond "
    + ", ".join(
        f"{m.column} {'-' if m.higher_is_better else '+'}{m.min_effect:g}{'×' if m.relative else ''}" for m in METRICS
    )
    + "; a cell ok in the baseline and not in the current records is a regression."
)


def markdown(table: pd.DataFrame, machines: dict) -> str:
    info = {"baseline": machines["baseline"], "current": machines["current"], "times": machines["times"]}
    return render_markdown(table, info, RULE)


def github_benchmark_json(current: Path) -> dict[str, list[dict]]:
    """github-action-benchmark inputs: accuracy (customBiggerIsBetter), times (customSmallerIsBetter)."""
    df = _frame(current)
    cells = {keys: (float(g.test_acc.mean()), float(g.fit_s.median())) for keys, g in df.groupby(CELL)}
    return github_json(cells, "s (calibrated)")
