"""Markdown tables derived from records, each with its own prose (``TEXT``): never written by hand.

Every table is a pure function of a records frame (:func:`bench.records.frame.frame`);
:mod:`bench.report.page` assembles them and the figures into the results page.
"""

from __future__ import annotations

import math

import pandas as pd

from bench.records.frame import dataset_title, model_name, ok
from bench.records.machine import describe, fingerprint

OVERFIT_GAP = 0.2  # train minus held-out accuracy above this is flagged
# The page's prose, in one place.
TEXT = {
    "intro": "Regenerated from `records.jsonl` by `python -m bench report`; do not edit by hand.",
    "accuracy": "Held-out is the 20% the model never saw; best achievable ≈ {ceiling:.3f}. "
    "Train accuracy is shown only to expose overfitting.",
    "accuracy_real": "Held-out is the 20% the model never saw (split stratified by class); the best achievable "
    "accuracy of real data is unknown. Train accuracy is shown only to expose overfitting.",
    "throughput": "Fit time is wall time from `fit` to return (imports and a warm-up fit excluded); when seeds "
    "train as one batched model it is the batch's time divided by the seeds in it. "
    "Train samples/s counts gradient samples (rows × epochs).",
    "device_one": "Only one device ran here, so there is no CPU-vs-GPU comparison.",
    "device_machines": "The CPU and GPU records come from different machines ({machines}); a speedup between "
    "them would compare machines, not devices, so none is shown.",
    "device": "Like for like, on one machine ({machine}): median seconds of training per epoch (neural) or "
    "per boosting iteration (trees), so that early stopping at different epochs does not count as speed; "
    "host work before training (scaling, the frequency search: `prep_s`) is left out.",
    "seed_mlp": "The seed's own network, reproduced with its bugs. Two causes keep it near chance:\n"
    "1. **Softmax before `CrossEntropyLoss`**: the loss applies log-softmax again, so outputs live in "
    "[0, 1], the loss cannot go below ≈ 0.55 for 3 classes, and gradients are squashed (the slow fall on "
    "sum_bin, the plateau ≈ 1.09 on sum_mod).\n"
    "2. **Two hidden units** (2 → 2 → 3, ReLU): far too little capacity for 67 stripes; with a dead "
    "unit it is linear.",
    "tta": "Seconds of training (frequency search included, evaluation of the curve excluded) until held-out "
    "accuracy first reaches the target; the held-out set is only read for this curve, never to select.",
    "sweep": "Per family and size: held-out accuracy (mean), fit seconds per seed (median), peak resident memory "
    "of the process that ran the group (MB, imports included):",
    "skipped": "Skipped, with the reason recorded:",
    "no_failures": "No failed cells.",
    "frontier": "`python -m bench run --suite frontier --out results/suites/frontier`: x0 + x1 among 50 and 100 "
    "features (`sum_mod` with noise features), four-term rings off the origin (`poly_mod`), axes warped outside the "
    "degree-2 dictionary (`warp_mod`: x^p, log, exp, a wiggle), phase offsets per category of a one-hot feature "
    "(`cat_mod`), and a threshold control (`sum_bin`). What the spectral search finds and misses: docs/findings.md.",
    "structure": "`python -m bench run --suite structure --out results/suites/structure`: labels floor(scale · p(x)) mod K "
    "for polynomials p of the features (`poly_mod`; terms listed per table), some with irrelevant "
    "features or 20% label noise. The spectral families find the phase p in a dictionary of "
    "monomials of degree ≤ 2 of the raw features (models/spectral/phases.py); the trees see x only.",
}


def _pm(values: pd.Series, digits: int = 3) -> str:
    values = values.dropna()
    if values.empty:
        return "–"
    std = values.std(ddof=0) if len(values) > 1 else 0.0
    return f"{values.mean():.{digits}f} ± {std:.{digits}f}"


def _num(x, fmt: str = "{:.3g}") -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def header(df: pd.DataFrame) -> str:
    """Which machine, threads, libraries and commits made these records, and when. Records from
    more than one machine (CPU model, cores, threads, GPU) name each, with its records and datasets."""
    m = df["machine"].iloc[-1]
    v = df["versions"].iloc[-1]
    libs = ", ".join(f"{k} {val}" for k, val in v.items() if val)
    made_on = df["machine"].map(describe)
    if made_on.nunique() == 1:
        where = made_on.iloc[-1]
    else:
        where = "; ".join(
            f"{text} ({(made_on == text).sum()} records: {', '.join(dict.fromkeys(df.dataset[made_on == text]))})"
            for text in dict.fromkeys(made_on)
        )
    commits = ", ".join(sorted(df["commit"].unique()))
    return (
        f"Made from {len(df)} records on {where}; "
        f"Python {m['python']}; {libs}; commit {commits}; {df['utc'].min()} to {df['utc'].max()} UTC."
    )


def accuracy_tables(df: pd.DataFrame) -> str:
    """Per dataset: each family's held-out and train accuracy, mean ± std over seeds, best first."""
    parts = []
    for (dataset, dparams, n), g in ok(df).groupby(["dataset", "dparams", "n"], sort=False):
        rows = []
        for (model, mparams, device), c in g.groupby(["model", "mparams", "device"], sort=False):
            gap = (c.train_acc - c.test_acc).mean()
            flag = (
                f"⚠ **train {c.train_acc.mean():.2f} vs held-out {c.test_acc.mean():.2f}**" if gap > OVERFIT_GAP else ""
            )
            rows.append(
                {
                    "model": model_name(model, mparams),
                    "device": device,
                    "held-out acc": _pm(c.test_acc),
                    "train acc": _pm(c.train_acc),
                    "train − held-out": f"{gap:+.3f}",
                    "val acc": _pm(c.val_acc.astype(float)) if c.val_acc.notna().any() else "–",
                    "seeds": len(c),
                    "note": flag,
                    "_sort": c.test_acc.mean(),
                }
            )
        table = pd.DataFrame(rows).sort_values("_sort", ascending=False, kind="stable").drop(columns="_sort")
        ceiling = g["ceiling"].iloc[0] if "ceiling" in g else None
        text = (
            TEXT["accuracy_real"] if ceiling is None or pd.isna(ceiling) else TEXT["accuracy"].format(ceiling=ceiling)
        )
        parts.append(f"### {dataset_title(dataset, dparams, n)}\n\n{text}\n\n" + table.to_markdown(index=False))
    return "\n\n".join(parts)


def throughput_tables(df: pd.DataFrame) -> str:
    """Per cell: median fit seconds per seed, fit and predict rows/s, epochs, seeds per batched fit."""
    rows = []
    for (dataset, dparams, n, model, mparams, device), c in ok(df).groupby(
        ["dataset", "dparams", "n", "model", "mparams", "device"], sort=False
    ):
        rows.append(
            {
                "dataset": dataset_title(dataset, dparams, n),
                "model": model_name(model, mparams),
                "device": device,
                "fit s / seed (median)": _num(c.fit_s.median()),
                "fit rows/s": _num(c.fit_rows_per_s.median(), "{:,.0f}"),
                "train samples/s": _num(c.train_samples_per_s.astype(float).median(), "{:,.0f}"),
                "predict rows/s": _num(c.predict_rows_per_s.astype(float).median(), "{:,.0f}"),
                "epochs / iterations": _num(c.epochs.astype(float).median(), "{:.0f}"),
                "seeds per batched fit": int(c.group_size.max()) if "group_size" in c else 1,
            }
        )
    return TEXT["throughput"] + "\n\n" + pd.DataFrame(rows).to_markdown(index=False)


def device_table(df: pd.DataFrame) -> str:
    """CPU vs GPU on the same cells: seconds per epoch (or iteration) and the speedup, one machine only."""
    done = ok(df)
    if done.device.nunique() < 2:
        return TEXT["device_one"]
    machines = {fingerprint(m) for m in done["machine"]}
    if len(machines) > 1:
        names = "; ".join(sorted(f"{m[2]} ({m[0]}, GPU {m[3]})" for m in machines))
        return TEXT["device_machines"].format(machines=names)
    prep = done["prep_s"].astype(float).fillna(0.0) if "prep_s" in done else 0.0
    per_epoch = done.assign(s_per_epoch=(done.fit_s - prep) / done.epochs.astype(float))
    cols = ["dataset", "dparams", "n", "model", "mparams"]
    med = per_epoch.groupby(cols + ["device"]).agg(s=("s_per_epoch", "median"), epochs=("epochs", "median"))
    table = med.unstack("device").dropna()
    if table.empty:
        return TEXT["device_one"]
    out = pd.DataFrame(
        {
            "dataset": [dataset_title(d, p, n) for d, p, n, _, _ in table.index],
            "model": [model_name(m, p) for _, _, _, m, p in table.index],
            "cpu s / epoch": table[("s", "cpu")].to_numpy(),
            "cuda s / epoch": table[("s", "cuda")].to_numpy(),
            "epochs cpu / cuda": [
                f"{a:.0f} / {b:.0f}" for a, b in zip(table[("epochs", "cpu")], table[("epochs", "cuda")])
            ],
            "GPU speedup (cpu / cuda)": (table[("s", "cpu")] / table[("s", "cuda")]).to_numpy(),
        }
    )
    m = done["machine"].iloc[-1]
    text = TEXT["device"].format(machine=f"{m.get('cpu')}, GPU {m.get('gpu')}")
    return text + "\n\n" + out.to_markdown(index=False, floatfmt=".3g")


def seed_mlp_table(df: pd.DataFrame) -> str:
    """The seed's network: its final loss (as it printed it and as an epoch mean) against ln K."""
    done = ok(df)
    done = done[done.model == "seed_mlp"]
    if done.empty:
        return ""
    rows = []
    for (dataset, dparams, n, device), c in done.groupby(["dataset", "dparams", "n", "device"], sort=False):
        k = int(c.n_classes.iloc[0])
        rows.append(
            {
                "dataset": dataset_title(dataset, dparams, n),
                "device": device,
                "final loss, last row (what the seed printed)": _pm(c.last_loss_curve.map(lambda v: v[-1])),
                "final loss, epoch mean": _pm(c.loss_curve.map(lambda v: v[-1])),
                f"ln {k} (chance)": f"{math.log(k):.3f}",
                "held-out acc": _pm(c.test_acc),
            }
        )
    return TEXT["seed_mlp"] + "\n\n" + pd.DataFrame(rows).to_markdown(index=False)


def time_to_accuracy_table(df: pd.DataFrame, target: float = 0.99) -> str:
    """Seconds of training until the held-out curve first reaches ``target``, median over seeds."""
    tta = ok(df, tag="tta")
    if tta.empty or "monitor_curve" not in tta:
        return ""
    rows = []
    for (dataset, dparams, n, model, device), c in tta.groupby(["dataset", "dparams", "n", "model", "device"]):
        times = [next((t for t, a in curve if a >= target), None) for curve in c.monitor_curve]
        reached = [t for t in times if t is not None]
        rows.append(
            {
                "dataset": dataset_title(dataset, dparams, n),
                "model": model,
                "device": device,
                f"seeds reaching {target}": f"{len(reached)} / {len(times)}",
                f"seconds to ≥ {target} held-out (median)": _num(pd.Series(reached).median() if reached else None),
                "final held-out acc": _pm(c.test_acc),
            }
        )
    return TEXT["tta"] + "\n\n" + pd.DataFrame(rows).to_markdown(index=False)


def failures_table(df: pd.DataFrame) -> str:
    bad = df[df.status == "failed"]
    if bad.empty:
        return TEXT["no_failures"]
    return bad[["dataset", "n", "model", "device", "seed", "error"]].to_markdown(index=False)


def sweep_table(df: pd.DataFrame) -> str:
    """Peak memory and fit time per family, device and n (sweeps run each group in its own process)."""
    done = ok(df)
    done = done[done.dparams == "{}"]
    if done.empty or "peak_rss_mb" not in done:
        return ""
    t = done.groupby(["dataset", "model", "device", "n"]).agg(
        held_out=("test_acc", "mean"),
        fit_s=("fit_s", "median"),
        peak_rss_mb=("peak_rss_mb", "max"),
        seeds=("seed", "count"),
    )
    return t.reset_index().to_markdown(index=False, floatfmt=".3g")


def skipped_table(df: pd.DataFrame) -> str:
    skipped = df[df.status == "skipped"]
    if skipped.empty:
        return ""
    return skipped.groupby(["model", "n", "error"]).size().rename("cells").reset_index().to_markdown(index=False)
