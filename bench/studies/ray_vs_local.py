"""Does Ray change what bench measures? ``python -m bench.studies.ray_vs_local`` -> results/studies/ray_vs_local.md.

Runs the quick suite (the regression gate's cells) with ``--executor local`` and ``--executor ray``
(a private Ray on this machine, 127.0.0.1 only) back-to-back, in the order local, ray, ray, local
so that a drift of the machine falls on both, and compares per cell: fit and predict time
(median over seeds and both runs of a side), held-out accuracy per seed (must be identical),
and the wall time of each run with Ray's start-up.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench import ROOT
from bench.records import machine as machine_facts
from bench.records import store
from bench.records.frame import with_param_columns

COMMAND = "python -m bench.studies.ray_vs_local"


def _run(executor: str, out: Path, threads: int) -> tuple[float, float | None]:
    args = [sys.executable, "-m", "bench", "run", "--suite", "quick", "--threads", str(threads), "--out", str(out)]
    args += ["--executor", executor, "--no-progress", "--force"]
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{executor} run failed: {done.stderr.strip().splitlines()[-1:]}")
    startup = re.search(r"started in ([0-9.]+) s", done.stderr)
    return wall, float(startup.group(1)) if startup else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    ap.add_argument("--threads", type=int, default=1, help="threads per cell on both sides (default 1)")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "studies" / "ray_vs_local.md")
    args = ap.parse_args(argv)
    walls: dict[str, list[float]] = {"local": [], "ray": []}
    startups: list[float] = []
    frames = {"local": [], "ray": []}
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        for i, side in enumerate(("local", "ray", "ray", "local")):
            out = Path(tmp) / f"{i}-{side}"
            wall, startup = _run(side, out, args.threads)
            walls[side].append(wall)
            startups += [startup] if startup is not None else []
            frames[side].append(pd.DataFrame(store.load(out / "records.jsonl")))
            print(f"{side}: {wall:.0f} s", flush=True)
    text = render({k: pd.concat(v) for k, v in frames.items()}, walls, startups, args.threads)
    args.out.write_text(text)
    print(args.out)
    return 0


def render(frames: dict[str, pd.DataFrame], walls: dict[str, list[float]], startups: list[float], threads: int) -> str:
    """results/studies/ray_vs_local.md from both sides' records (a pure function; tested on synthetic records)."""
    local, ray = (with_param_columns(frames[k].copy()) for k in ("local", "ray"))
    key = ["dataset", "model", "seed"]
    per_seed = local.merge(ray, on=key, suffixes=("_local", "_ray"))
    same_acc = per_seed.groupby(key).apply(
        lambda g: g.test_acc_local.nunique() == 1 and set(g.test_acc_local) == set(g.test_acc_ray), include_groups=False
    )
    rows = []
    for (dataset, model), g in local.groupby(["dataset", "model"], sort=False):
        r = ray[(ray.dataset == dataset) & (ray.model == model)]
        rows.append(
            {
                "dataset": dataset,
                "model": model,
                "fit s local": g.fit_s.median(),
                "fit s ray": r.fit_s.median(),
                "fit ratio ray/local": r.fit_s.median() / g.fit_s.median(),
                "predict ratio ray/local": r.predict_s.median() / g.predict_s.median(),
                "held-out acc identical (every seed)": "yes" if same_acc.loc[(dataset, model)].all() else "**no**",
            }
        )
    table = pd.DataFrame(rows)
    machine = local["machine"].iloc[0]
    median_ratio = table["fit ratio ray/local"].median()
    lines = [
        f"<!-- made by `{COMMAND}`; do not edit -->",
        "# Ray executor vs local",
        "",
        f"`{COMMAND}` on {machine['cpu']}, {machine['usable_cores']} usable cores, {threads} thread(s) "
        f"per cell; commit {', '.join(sorted(local.commit.unique()))}; {machine_facts.utc_now()}. The quick suite "
        f"({len(local) // 2} cells, each seed its own task) run local, ray, ray, local; each ray run starts a "
        "private Ray on this machine (one node, 127.0.0.1), which runs tasks side by side up to its cores.",
        "",
        f"- Median fit-time ratio ray/local over the cells: **{median_ratio:.3f}** (per cell below).",
        f"- Held-out accuracy identical per seed on {int(same_acc.sum())} of {len(same_acc)} (cell, seed) pairs.",
        f"- Wall time per run: local {' / '.join(f'{w:.0f}' for w in walls['local'])} s, ray "
        f"{' / '.join(f'{w:.0f}' for w in walls['ray'])} s; Ray start-up (ray.init) "
        f"{' / '.join(f'{s:.1f}' for s in startups)} s of it. Each Ray task also starts a fresh worker "
        "(imports and warm-up outside the timed fit).",
        "",
        table.to_markdown(index=False, floatfmt=".3g"),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
