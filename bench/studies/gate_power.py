"""How sensitive and how quiet the A/B gate is on this machine: ``python -m bench.studies.gate_power``.

Scratch commits on top of HEAD inject, as code changes (never switches in product code):
``slow20`` / ``slow10``, every fit_batch busy-waits 20% / 10% of its own time on top; ``acc``,
predict_proba rotates the class probabilities of 1 row in 100 (held-out accuracy about -0.01).
``same`` is HEAD against itself. Each trial runs the gate (bench.gate.ab.run_gate) of HEAD against
one of them; conditions alternate, so that a slow spell of the machine falls on all of them.
Writes results/studies/gate_power.md (and the raw decisions beside it as gate_power.jsonl).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import pandas as pd

from bench import ROOT
from bench.gate.ab import run_gate
from bench.gate.git import checkout, git
from bench.gate.stats import MAX_ROUNDS
from bench.records import machine, store

# Fewer cells than the CI gate (one dataset, two families, n=1000, the 5 seeds a paired test needs),
# so that 40 trials fit in about an hour here (~8 s a side per round, before the real table was added:
# re-measure); rounds as in the CI gate.
POWER_ARGS = (
    "--datasets", "sum_bin", "--models", "spectral_mlp,xgboost", "--n", "1000",
    "--seeds", "0,1,2,3,4", "--device", "cpu", "--threads", "1",
)  # fmt: skip
# The gate's real table (bench.gate.ab.GATE_REAL_ARGS) at the same scale, as its own `bench run` per side.
POWER_REAL_ARGS = (
    "--datasets", "credit_data", "--models", "spectral_mlp,xgboost", "--n", "1000",
    "--seeds", "0,1,2,3,4", "--device", "cpu", "--threads", "1",
)  # fmt: skip
COMMAND = "python -m bench.studies.gate_power"

SLOWDOWN = """
def fit_batch(estimators, tasks):
    import time as _time

    _start = _time.perf_counter()
    _fit_batch(estimators, tasks)
    _end = _time.perf_counter() + {share} * (_time.perf_counter() - _start)
    while _time.perf_counter() < _end:  # injected slowdown: busy work, {share:.0%} of the fit
        pass
    return estimators
"""
ACCURACY = """
    def predict_proba(self, X) -> np.ndarray:
        proba = self._predict_proba_clean(X)
        wrong = np.arange(len(proba)) % 100 == 7  # injected: 1 row in 100 gets another class
        proba[wrong] = np.roll(proba[wrong], 1, axis=1)
        return proba

    def _predict_proba_clean(self, X) -> np.ndarray:"""


def _inject(checkout: Path, condition: str) -> None:
    init, base = checkout / "models" / "__init__.py", checkout / "models" / "base.py"
    if condition.startswith("slow"):
        share = int(condition[4:]) / 100
        text = init.read_text().replace("def fit_batch(", "def _fit_batch(", 1)
        init.write_text(text + SLOWDOWN.format(share=share))
    elif condition == "acc":
        text = base.read_text()
        marker = "    def predict_proba(self, X) -> np.ndarray:"
        assert marker in text, "models/base.py changed: update the injection"
        base.write_text(text.replace(marker, ACCURACY, 1))
    identity = ("-c", "user.email=power@bench.invalid", "-c", "user.name=bench power")
    git(*identity, "commit", "-qam", f"scratch: inject {condition}", cwd=checkout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    ap.add_argument("--trials", type=int, default=10, help="per condition (default 10)")
    ap.add_argument("--conditions", default="same,slow20,slow10,acc")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "studies" / "gate_power.md")
    ap.add_argument(
        "--resume", action="store_true", help="keep the trials already in the .jsonl beside --out and add --trials more"
    )
    args = ap.parse_args(argv)
    conditions = args.conditions.split(",")
    raw_path = args.out.with_suffix(".jsonl")
    done = _load(raw_path) if args.resume and raw_path.exists() else []
    if not args.resume:
        raw_path.parent.mkdir(parents=True, exist_ok=True)
        raw_path.write_text("")
    first = {c: 1 + max((r["trial"] for r in done if r["condition"] == c), default=-1) for c in conditions}
    head = git("rev-parse", "--short=12", "HEAD")
    with tempfile.TemporaryDirectory(prefix="bench-power-") as tmp, ExitStack() as stack:
        base_dir = stack.enter_context(checkout("HEAD", Path(tmp) / "base"))
        dirs = {c: stack.enter_context(checkout("HEAD", Path(tmp) / c)) for c in conditions}
        for c in conditions:
            if c != "same":
                _inject(dirs[c], c)
        for trial in range(args.trials):
            for c in conditions:
                start = time.monotonic()
                table, rounds = run_gate(
                    base_dir, dirs[c], cell_args=POWER_ARGS, extra_runs=(POWER_REAL_ARGS,), max_rounds=MAX_ROUNDS,
                    seed=first[c] + trial,
                    progress=lambda _: None,
                )  # fmt: skip
                row = {"condition": c, "trial": first[c] + trial, "commit": head, "rounds": len(rounds)}
                row["wall_s"] = time.monotonic() - start
                row["decisions"] = table[["dataset", "model", "metric", "verdict", "effect"]].to_dict("records")
                store.append_line(raw_path, row)
                print(f"{c} trial {row['trial']}: {len(rounds)} rounds, {row['wall_s']:.0f} s", flush=True)
    args.out.write_text(report(raw_path))
    print(args.out)
    return 0


def _load(raw_path: Path) -> list[dict]:
    return store.read_lines(raw_path)


def report(raw_path: Path) -> str:
    """results/studies/gate_power.md from the raw trials (``python -c "from bench.studies.gate_power import report; ..."``
    rebuilds it from gate_power.jsonl); each trial names the commit it measured."""
    rows = _load(raw_path)
    commits = pd.Series([r["commit"] for r in rows])
    measured = ", ".join(f"{c} ({n} trials)" for c, n in commits.value_counts(sort=False).items())
    flat = pd.DataFrame([r | d for r in rows for d in r.pop("decisions")])
    trials = pd.DataFrame(rows)
    m = machine.machine(1)
    target = {"same": None, "slow20": "fit time", "slow10": "fit time", "acc": "held-out acc"}
    lines = [
        f"<!-- made by `{COMMAND}` from gate_power.jsonl; do not edit -->",
        "# How sensitive the A/B gate is",
        "",
        f"`{COMMAND}` on {m['cpu']}, {m['usable_cores']} usable cores, 1 thread per side; HEAD was "
        f"{measured}; table made {machine.utc_now()}. Cells: {' '.join(POWER_ARGS)}; and, as a second "
        f"`bench run` per side, {' '.join(POWER_REAL_ARGS)}. Each trial is one "
        f"gate run (interleaved rounds, 5 to {MAX_ROUNDS}) of HEAD against a scratch commit; conditions alternate.",
        "",
        "| condition | trials | caught (REGRESSION on the injected metric) | REGRESSION on other rows | "
        "median effect measured | median rounds | median gate wall time |",
        "|---|---|---|---|---|---|---|",
    ]
    for c, g in flat.groupby("condition", sort=False):
        n = trials[trials.condition == c]
        hit = g[g.metric.str.startswith(target[c])] if target[c] else g.iloc[0:0]
        other = g if not target[c] else g[~g.metric.str.startswith(target[c])]
        caught = hit[hit.verdict == "REGRESSION"].groupby("trial").size().reindex(n.trial, fill_value=0) > 0
        alarms = other[other.verdict == "REGRESSION"].groupby("trial").size().reindex(n.trial, fill_value=0) > 0
        effect = f"{hit.effect.median():.3g}" if target[c] else "–"
        lines.append(
            f"| {c} | {len(n)} | {int(caught.sum()) if target[c] else '–'} of {len(n)} | {int(alarms.sum())} of "
            f"{len(n)} | {effect} | {n.rounds.median():.0f} | {n.wall_s.median():.0f} s |"
        )
    lines += [
        "",
        "For `same` (HEAD against itself) every REGRESSION is a false alarm. For the injected conditions a "
        "REGRESSION on another row can be real: `acc`'s injected lines run inside predict_proba and cost a "
        "sub-millisecond predict a few percent. Effects: median head/base time ratio over the caught rows' "
        "trials (fit time), or mean held-out accuracy change (acc). An 'ambiguous' row (the interval still "
        "straddles the threshold after the rounds) does not fail the gate.",
        "",
        "Per row of the table (model × metric), how often each verdict came up:",
        "",
        flat.groupby(["condition", *(["dataset"] if "dataset" in flat else []), "model", "metric", "verdict"],
                     sort=False).size().rename("trials").reset_index()
        .to_markdown(index=False),
        "",
    ]  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
