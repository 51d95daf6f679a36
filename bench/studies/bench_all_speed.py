"""Is ``bench all`` faster, and does it still measure the same? ``python -m bench.studies.bench_all_speed``.

Runs ``python -m bench all`` for a base commit (a temporary worktree; default 71d48e7, main before
the speed work) and for this checkout, back-to-back on this machine with the same threads, each
into a fresh folder, and writes results/studies/bench_all_speed.md: both wall times and their ratio, and per
(dataset, family) the held-out accuracy (mean ± std over seeds) and fit seconds of both sides, with
whether the new mean lies within one std of the old.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench import ROOT
from bench.gate.git import checkout
from bench.records import machine as machine_facts
from bench.records import store

COMMAND = "python -m bench.studies.bench_all_speed"

BASE = "71d48e7"
TARGET_RATIO = 0.5  # the bar: the new wall time at most half the old


def _run_all(cwd: Path, out: Path, threads: int) -> float:
    args = [sys.executable, "-m", "bench", "all", "--out", str(out), "--threads", str(threads), "--no-progress"]
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"bench all in {cwd} failed: {done.stderr.strip().splitlines()[-1:]}")
    return wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    ap.add_argument("--base", default=BASE, help=f"the commit to compare against (default {BASE})")
    ap.add_argument("--threads", type=int, default=2, help="threads for both runs (default 2)")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "studies" / "bench_all_speed.md")
    ap.add_argument(
        "--keep",
        type=Path,
        default=ROOT / "results" / "studies" / "bench_all_speed",
        help="folder for both runs' records and wall times (old.jsonl, new.jsonl, walls.json)",
    )
    ap.add_argument("--render-only", action="store_true", help="rebuild the page from --keep, without running")
    args = ap.parse_args(argv)
    if not args.render_only:
        with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
            with checkout(args.base, Path(tmp) / "base") as base_tree:
                old_wall = _run_all(base_tree, Path(tmp) / "old", args.threads)
            print(f"base {args.base}: {old_wall:.0f} s", flush=True)
            new_wall = _run_all(ROOT, Path(tmp) / "new", args.threads)
            print(f"this checkout: {new_wall:.0f} s", flush=True)
            args.keep.mkdir(parents=True, exist_ok=True)
            for side in ("old", "new"):
                shutil.copyfile(Path(tmp) / side / "records.jsonl", args.keep / f"{side}.jsonl")
            (args.keep / "walls.json").write_text(json.dumps({"old": old_wall, "new": new_wall}) + "\n")
    walls = json.loads((args.keep / "walls.json").read_text())
    old, new = (pd.DataFrame(store.load_foreign(args.keep / f"{side}.jsonl")) for side in ("old", "new"))
    args.out.write_text(render(old, new, walls["old"], walls["new"]))
    print(args.out)
    return 0


def _summary(df: pd.DataFrame) -> pd.DataFrame:
    df = df[df.status == "ok"].copy()
    df["cell"] = df.dataset + " (n=" + df.n.astype(str) + ")" + df.tag.map(lambda t: f" [{t}]" if t else "")
    # std over seeds as the accuracy tables show it (population std, ddof 0)
    return df.groupby(["cell", "model"], sort=False).agg(
        acc_mean=("test_acc", "mean"),
        acc_std=("test_acc", lambda v: v.std(ddof=0)),
        fit_s=("fit_s", "sum"),
        seeds=("seed", "nunique"),
    )


def render(old: pd.DataFrame, new: pd.DataFrame, old_wall: float, new_wall: float) -> str:
    """results/studies/bench_all_speed.md from both runs' records (a pure function; tested on synthetic records)."""
    both = _summary(old).merge(_summary(new), left_index=True, right_index=True, how="outer", suffixes=("_old", "_new"))
    diff = (both.acc_mean_new - both.acc_mean_old).abs()
    within = diff <= both.acc_std_old.fillna(0) + 1e-9
    table = pd.DataFrame(
        {
            "held-out old": [f"{m:.3f} ± {s:.3f}" for m, s in zip(both.acc_mean_old, both.acc_std_old.fillna(0))],
            "held-out new": [f"{m:.3f} ± {s:.3f}" for m, s in zip(both.acc_mean_new, both.acc_std_new.fillna(0))],
            "within 1 std of old": ["yes" if w else "**no**" for w in within],
            "fit s old (all seeds)": both.fit_s_old,
            "fit s new (all seeds)": both.fit_s_new,
            "fit ratio new/old": both.fit_s_new / both.fit_s_old,
        },
        index=both.index,
    ).reset_index()
    ratio = new_wall / old_wall
    machine = new["machine"].iloc[0]
    verdict = "meets" if ratio <= TARGET_RATIO else "**misses**"
    # Both runs' records and wall times are kept beside this page (results/studies/bench_all_speed/).
    lines = [
        f"<!-- made by `{COMMAND}`; do not edit -->",
        "# `bench all`: old vs new, back-to-back",
        "",
        f"`{COMMAND}` on {machine['cpu']}, {machine['usable_cores']} usable cores, "
        f"{machine['threads']} threads; base commit {', '.join(sorted(old.commit.unique()))}, new commit "
        f"{', '.join(sorted(new.commit.unique()))}; {machine_facts.utc_now()}. Both ran `python -m bench all` into a fresh "
        "folder one after the other on this machine, nothing else running.",
        "",
        f"- Wall time: old **{old_wall:.0f} s**, new **{new_wall:.0f} s**: ratio **{ratio:.2f}** "
        f"({verdict} the target of ≤ {TARGET_RATIO}).",
        f"- Fit seconds summed over every cell: old {both.fit_s_old.sum():.0f} s, new {both.fit_s_new.sum():.0f} s.",
        f"- Held-out mean within one std (over seeds) of the old: {int(within.sum())} of {len(within)} (cell, family) rows.",
        "",
        table.to_markdown(index=False, floatfmt=".3g"),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
