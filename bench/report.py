"""Markdown tables derived from records: never written by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from bench import records

LN = {k: math.log(k) for k in range(2, 11)}
OVERFIT_GAP = 0.2  # train minus held-out accuracy above this is flagged


def with_param_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``dparams`` / ``mparams``: dataset and model params as sorted JSON (hashable, groupable)."""
    df["dparams"] = df["dataset_params"].map(lambda p: json.dumps(p, sort_keys=True))
    df["mparams"] = df["model_params"].map(lambda p: json.dumps(p, sort_keys=True))
    return df


def frame(path: Path) -> pd.DataFrame:
    """Latest record per cell, as a DataFrame with hashable dataset/model param columns."""
    rows = records.latest(records.load(path))
    if not rows:
        raise ValueError(f"{path} holds no records")
    df = with_param_columns(pd.DataFrame(rows))
    if "tag" not in df:
        df["tag"] = ""
    df["tag"] = df["tag"].fillna("")
    return df


def _pm(values: pd.Series, digits: int = 3) -> str:
    values = values.dropna()
    if values.empty:
        return "–"
    std = values.std(ddof=0) if len(values) > 1 else 0.0
    return f"{values.mean():.{digits}f} ± {std:.{digits}f}"


def _num(x, fmt: str = "{:.3g}") -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def _dataset_title(dataset: str, dparams: str, n: int) -> str:
    params = json.loads(dparams)
    extra = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{dataset} (n={n}{', ' + extra if extra else ''})"


def _model_name(model: str, mparams: str) -> str:
    return model if mparams == "{}" else f"{model} {mparams}"


def header(df: pd.DataFrame) -> str:
    m = df["machine"].iloc[-1]
    v = df["versions"].iloc[-1]
    libs = ", ".join(f"{k} {val}" for k, val in v.items() if val)
    gpu = f"; GPU {m.get('gpu')} (CUDA {m.get('cuda')}, driver {m.get('driver')})" if m.get("gpu") else "; no GPU"
    commits = ", ".join(sorted(df["commit"].unique()))
    return (
        f"Made from {len(df)} records on {m['cpu']}, {m['cores']} cores, {m['threads']} threads{gpu}; "
        f"Python {m['python']}; {libs}; commit {commits}; {df['utc'].min()} to {df['utc'].max()} UTC."
    )


def accuracy_tables(df: pd.DataFrame) -> str:
    ok = df[(df.status == "ok") & (df.tag == "")]
    parts = []
    for (dataset, dparams, n), g in ok.groupby(["dataset", "dparams", "n"], sort=False):
        rows = []
        for (model, mparams, device), c in g.groupby(["model", "mparams", "device"], sort=False):
            gap = (c.train_acc - c.test_acc).mean()
            flag = (
                f"⚠ **train {c.train_acc.mean():.2f} vs held-out {c.test_acc.mean():.2f}**" if gap > OVERFIT_GAP else ""
            )
            rows.append(
                {
                    "model": _model_name(model, mparams),
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
        table = pd.DataFrame(rows).sort_values("_sort", ascending=False).drop(columns="_sort")
        ceiling = g["ceiling"].iloc[0] if "ceiling" in g else 1.0
        parts.append(
            f"### {_dataset_title(dataset, dparams, n)}\n\nHeld-out is the 20% the model never saw; "
            f"best achievable ≈ {ceiling:.3f}. Train accuracy is shown only to expose overfitting.\n\n"
            + table.to_markdown(index=False)
        )
    return "\n\n".join(parts)


def throughput_tables(df: pd.DataFrame) -> str:
    ok = df[(df.status == "ok") & (df.tag == "")]
    rows = []
    for (dataset, dparams, n, model, mparams, device), c in ok.groupby(
        ["dataset", "dparams", "n", "model", "mparams", "device"], sort=False
    ):
        rows.append(
            {
                "dataset": _dataset_title(dataset, dparams, n),
                "model": _model_name(model, mparams),
                "device": device,
                "fit s / seed (median)": _num(c.fit_s.median()),
                "fit rows/s": _num(c.fit_rows_per_s.median(), "{:,.0f}"),
                "train samples/s": _num(c.train_samples_per_s.astype(float).median(), "{:,.0f}"),
                "predict rows/s": _num(c.predict_rows_per_s.astype(float).median(), "{:,.0f}"),
                "epochs / iterations": _num(c.epochs.astype(float).median(), "{:.0f}"),
                "seeds per batched fit": int(c.group_size.max()) if "group_size" in c else 1,
            }
        )
    note = (
        "Fit time is wall time from `fit` to return (imports and a warm-up fit excluded); when seeds "
        "train as one batched model it is the batch's time divided by the seeds in it. "
        "Train samples/s counts gradient samples (rows × epochs)."
    )
    return note + "\n\n" + pd.DataFrame(rows).to_markdown(index=False)


def device_table(df: pd.DataFrame) -> str:
    ok = df[(df.status == "ok") & (df.tag == "")]
    if ok.device.nunique() < 2:
        return "Only one device ran (no GPU on this machine), so there is no CPU-vs-GPU comparison here."
    med = ok.groupby(["dataset", "dparams", "n", "model", "mparams", "device"]).fit_s.median().unstack("device")
    med = med.dropna()
    med["GPU speedup (cpu / cuda)"] = med["cpu"] / med["cuda"]
    return med.reset_index().drop(columns=["dparams", "mparams"]).to_markdown(index=False, floatfmt=".3g")


def seed_mlp_table(df: pd.DataFrame) -> str:
    ok = df[(df.status == "ok") & (df.model == "seed_mlp")]
    if ok.empty:
        return ""
    rows = []
    for (dataset, dparams, n), c in ok.groupby(["dataset", "dparams", "n"], sort=False):
        last = c.last_loss_curve.map(lambda v: v[-1])
        mean = c.loss_curve.map(lambda v: v[-1])
        k = int(c.n_classes.iloc[0])
        rows.append(
            {
                "dataset": _dataset_title(dataset, dparams, n),
                "final loss, last row (what the seed printed)": _pm(last),
                "final loss, epoch mean": _pm(mean),
                f"ln {k} (chance)": f"{LN[k]:.3f}",
                "held-out acc": _pm(c.test_acc),
            }
        )
    return (
        "The seed's own network, reproduced with its bugs. Two causes keep it near chance:\n"
        "1. **Softmax before `CrossEntropyLoss`**: the loss applies log-softmax again, so outputs live in "
        "[0, 1], the loss cannot go below ≈ 0.55 for 3 classes, and gradients are squashed (the slow fall on "
        "sum_bin, the plateau ≈ 1.09 on sum_mod).\n"
        "2. **Two hidden units** (2 → 2 → 3, ReLU): far too little capacity for 67 stripes; with a dead "
        "unit it is linear.\n\n" + pd.DataFrame(rows).to_markdown(index=False)
    )


def time_to_accuracy_table(df: pd.DataFrame, target: float = 0.99) -> str:
    tta = df[(df.status == "ok") & (df.tag == "tta")]
    if tta.empty or "monitor_curve" not in tta:
        return ""
    rows = []
    for (dataset, dparams, n, model, device), c in tta.groupby(["dataset", "dparams", "n", "model", "device"]):
        times = [next((t for t, a in curve if a >= target), None) for curve in c.monitor_curve]
        reached = [t for t in times if t is not None]
        rows.append(
            {
                "dataset": _dataset_title(dataset, dparams, n),
                "model": model,
                "device": device,
                f"seeds reaching {target}": f"{len(reached)} / {len(times)}",
                f"seconds to ≥ {target} held-out (median)": _num(pd.Series(reached).median() if reached else None),
                "final held-out acc": _pm(c.test_acc),
            }
        )
    return (
        "Seconds of training (frequency search included, evaluation of the curve excluded) until held-out "
        "accuracy first reaches the target; the held-out set is only read for this curve, never to select.\n\n"
        + pd.DataFrame(rows).to_markdown(index=False)
    )


def failures_table(df: pd.DataFrame) -> str:
    bad = df[df.status != "ok"]
    if bad.empty:
        return "No failed cells."
    cols = ["dataset", "n", "model", "device", "seed", "error"]
    return bad[cols].to_markdown(index=False)


def sweep_table(df: pd.DataFrame) -> str:
    """Peak memory and fit time per family and n (sweeps run each group in its own process)."""
    ok = df[(df.status == "ok") & (df.dparams == "{}")]
    if ok.empty or "peak_rss_mb" not in ok:
        return ""
    t = ok.groupby(["dataset", "model", "n"]).agg(
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


def _figures(df: pd.DataFrame, sweep: pd.DataFrame | None, fig_dir: Path) -> list[Path]:
    from bench import plots

    fig_dir.mkdir(parents=True, exist_ok=True)
    made = plots.loss_curves(df, fig_dir)
    if sweep is not None:
        made += plots.learning_curves(sweep, fig_dir) + plots.frequency_sweep(sweep, fig_dir)
    return made


def write(records_path: Path, out_dir: Path) -> list[Path]:
    """Write accuracy.md, throughput.md and README.md (both, with context) into ``out_dir``.

    Sub-folders ``variants/`` and ``sweep/`` with their own records.jsonl, when present, add
    their sections and figures to README.md; figures go to ``out_dir/figures``.
    """
    df = frame(records_path)
    out_dir = Path(out_dir)
    head = header(df)
    extra = {
        name: frame(out_dir / name / "records.jsonl")
        for name in ("variants", "sweep")
        if (out_dir / name / "records.jsonl").exists()
    }
    figures = _figures(df, extra.get("sweep"), out_dir / "figures")
    figures += [p for p in sorted((out_dir / "figures").glob("decision_regions_*.png")) if p not in figures]
    sections = {
        "accuracy.md": f"# Accuracy\n\n{head}\n\n{accuracy_tables(df)}\n",
        "throughput.md": f"# Throughput\n\n{head}\n\n{throughput_tables(df)}\n\n## CPU vs GPU\n\n{device_table(df)}\n",
    }
    readme = [
        "# Results\n",
        "Regenerated from `records.jsonl` by `python -m bench report`; do not edit by hand.\n",
        head + "\n",
        "## Accuracy (held-out vs train)\n",
        accuracy_tables(df) + "\n",
    ]

    def fig(name: str, caption: str) -> str:
        path = out_dir / "figures" / name
        return f"![{caption}](figures/{name})\n\n*{caption}*" if path in figures else ""

    seed_table = seed_mlp_table(df)
    parts = [
        ("Decision regions", "\n\n".join(filter(None, [
            fig("decision_regions_sum_mod.png", "sum_mod: what each family predicts over the unit square (`python -m bench figures`)"),
            fig("decision_regions_sum_bin.png", "sum_bin: what each family predicts over the unit square"),
        ]))),
        ("The seed's MLP", seed_table + ("\n\n" + fig("loss_curves.png", "training loss per epoch, seed 0") if seed_table else "")),
        ("Time to accuracy", time_to_accuracy_table(df)),
    ]  # fmt: skip
    if "variants" in extra:
        parts.append(
            ("Generality: dataset variants", f"{header(extra['variants'])}\n\n{accuracy_tables(extra['variants'])}")
        )
    if "sweep" in extra:
        sw = extra["sweep"]
        body = "\n\n".join(filter(None, [
            header(sw),
            fig("learning_curve_sum_mod.png", "sum_mod: held-out accuracy and fit time vs n"),
            fig("learning_curve_sum_bin.png", "sum_bin: held-out accuracy and fit time vs n"),
            fig("frequency_sweep.png", "sum_mod: held-out accuracy vs frequency (scale)"),
            "Per family and size: held-out accuracy (mean), fit seconds per seed (median), peak resident memory "
            "of the process that ran the group (MB, imports included):\n\n" + sweep_table(sw),
            ("Skipped, with the reason recorded:\n\n" + skipped) if (skipped := skipped_table(sw)) else "",
            failures_table(sw) if (sw.status == "failed").any() else "",
        ]))  # fmt: skip
        parts.append(("Sweeps: learning curves and frequency", body))
    parts += [
        ("Throughput", throughput_tables(df)),
        ("CPU vs GPU", device_table(df)),
        ("Failures", failures_table(df)),
    ]
    for title, body in parts:
        if body:
            readme += [f"## {title}\n", body + "\n"]
    sections["README.md"] = "\n".join(readme)
    written = []
    for name, text in sections.items():
        (out_dir / name).write_text(text)
        written.append(out_dir / name)
    return written
