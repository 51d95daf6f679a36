"""Figures (matplotlib PNG) for results/figures/, drawn from records only.

Plots draw; :mod:`bench.report.page` puts the figures on the page. (Decision-region maps fit models:
they are a study, ``python -m bench.studies.decision_regions``.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.records.frame import ok
from bench.records.output import safe_name
from bench.report import leaderboard


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path, dpi: int = 110) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def _label(model: str, device: str, devices: int) -> str:
    return model if devices < 2 else f"{model} ({device})"


def from_records(df: pd.DataFrame, extra: dict[str, pd.DataFrame], out: Path, boards: dict | None = None) -> list[Path]:
    """Every figure drawn from records: loss curves, each leaderboard's critical-difference diagram
    and Pareto figure (``boards``: already computed, else computed here), and from a sweep learning
    and frequency curves."""
    out.mkdir(parents=True, exist_ok=True)
    made = loss_curves(df, out)
    if "sweep" in extra:
        made += learning_curves(extra["sweep"], out) + frequency_sweep(extra["sweep"], out)
    if boards is None:
        boards = leaderboard.boards(leaderboard.all_frames(df, extra))
    for name, b in boards.items():
        cd = critical_difference(-leaderboard.task_matrix(b), out / f"critical_difference_{name}.png")
        made += [p for p in (cd, pareto_figure(b, out / f"pareto_{name}.png")) if p]
    return made


def critical_difference(scores: pd.DataFrame, path: Path) -> Path | None:
    """The CD diagram of a tasks x families matrix (higher is better) over the tasks every family
    has (scikit-posthocs: Friedman, then Nemenyi); None when fewer than 3 tasks or families."""
    import scikit_posthocs as sp

    full = scores.dropna()
    if len(full) < 3 or full.shape[1] < 3:
        return None
    p_values = sp.posthoc_nemenyi_friedman(full.to_numpy())
    p_values.index = p_values.columns = full.columns
    fig, ax = pyplot().subplots(figsize=(10, 0.35 * full.shape[1] + 1.5))
    ranks = full.rank(axis=1, ascending=False, method="average").mean()
    sp.critical_difference_diagram(ranks, p_values, ax=ax, alpha=0.05)
    ax.set_title(f"mean rank over {len(full)} tasks (1 = best)")
    return save(fig, path)


def pareto_figure(b: leaderboard.Board, path: Path) -> Path | None:
    """Elo (95% interval) against train seconds per 1,000 rows (log x), one point per family; the
    Pareto front (no family both better and cheaper) drawn as a step line."""
    t = b.table.dropna(subset=["train s / 1k rows"])
    t = t[t["train s / 1k rows"] > 0]
    if len(t) < 2:
        return None
    fig, ax = pyplot().subplots(figsize=(8, 5.5))
    x = t["train s / 1k rows"]
    ax.errorbar(x, t["Elo"], yerr=[t["Elo"] - t["Elo low"], t["Elo high"] - t["Elo"]], fmt="o", capsize=3, alpha=0.8)
    for f, r in t.iterrows():
        ax.annotate(f, (r["train s / 1k rows"], r["Elo"]), textcoords="offset points", xytext=(5, 4), fontsize=8)
    front = t.loc[[f for f in b.front if f in t.index]]
    if len(front):
        ax.step(front["train s / 1k rows"], front["Elo"], where="post", color="C3", label="Pareto front")
        ax.legend(fontsize=8)
    ax.set(
        xscale="log",
        xlabel="train seconds per 1,000 rows (median over tasks, log scale)",
        ylabel=f"Elo ({b.pin} = {leaderboard.PIN_ELO}), 95% interval",
        title=f"{b.name} board: quality against training cost ({len(b.tasks)} tasks)",
    )
    ax.grid(alpha=0.3, which="both")
    return save(fig, path)


def learning_curves(df: pd.DataFrame, out: Path) -> list[Path]:
    """Held-out accuracy vs n (log x, mean ± std band) and fit time vs n (log-log), per dataset."""
    plt = pyplot()
    done = ok(df)
    done = done[done.dparams == "{}"]
    written = []
    for dataset, g in done.groupby("dataset"):
        if g.n.nunique() < 2:
            continue
        fig, (ax_acc, ax_t) = plt.subplots(1, 2, figsize=(13, 5))
        for (model, device), c in g.groupby(["model", "device"]):
            label = _label(model, device, g.device.nunique())
            stats = c.groupby("n").agg(mean=("test_acc", "mean"), std=("test_acc", "std"), t=("fit_s", "median"))
            stats["std"] = stats["std"].fillna(0)
            (line,) = ax_acc.plot(stats.index, stats["mean"], marker="o", label=label)
            ax_acc.fill_between(
                stats.index,
                stats["mean"] - stats["std"],
                stats["mean"] + stats["std"],
                alpha=0.15,
                color=line.get_color(),
            )
            ax_t.plot(stats.index, stats["t"], marker="o", label=label, color=line.get_color())
        ax_acc.set(
            xscale="log",
            xlabel="rows generated (n)",
            ylabel="held-out accuracy",
            title=f"{dataset}: held-out accuracy vs n",
        )
        ax_t.set(
            xscale="log",
            yscale="log",
            xlabel="rows generated (n)",
            ylabel="fit seconds per seed (median)",
            title=f"{dataset}: fit time vs n",
        )
        ax_acc.grid(alpha=0.3)
        ax_t.grid(alpha=0.3, which="both")
        ax_acc.legend(fontsize=8)
        written.append(save(fig, out / f"learning_curve_{safe_name(dataset)}.png"))
    return written


def frequency_sweep(df: pd.DataFrame, out: Path) -> list[Path]:
    """Held-out accuracy vs sum_mod's scale (stripes per unit of x0+x1)."""
    plt = pyplot()
    done = ok(df)
    done = done[(done.dataset == "sum_mod") & done.dataset_params.map(lambda p: set(p) == {"scale"})]
    if done.empty:
        return []
    done = done.assign(scale=done.dataset_params.map(lambda p: p["scale"]))
    fig, ax = plt.subplots(figsize=(7, 5))
    for (model, device), c in done.groupby(["model", "device"]):
        stats = c.groupby("scale").test_acc.agg(["mean", "std"]).fillna(0)
        (line,) = ax.plot(stats.index, stats["mean"], marker="o", label=_label(model, device, done.device.nunique()))
        ax.fill_between(
            stats.index, stats["mean"] - stats["std"], stats["mean"] + stats["std"], alpha=0.15, color=line.get_color()
        )
    ax.axhline(1 / 3, color="grey", ls=":", label="chance")
    ax.set(
        xscale="log",
        xlabel="scale (label = int(scale·(x0+x1)) mod 3)",
        ylabel="held-out accuracy",
        title=f"sum_mod, n={done.n.iloc[0]}: accuracy vs frequency",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return [save(fig, out / "frequency_sweep.png")]


def loss_curves(df: pd.DataFrame, out: Path) -> list[Path]:
    """The seed's MLP vs a correct MLP: mean training loss per epoch, seed 0, one device (cpu if it ran)."""
    plt = pyplot()
    done = ok(df)
    pick = done[done.model.isin(["seed_mlp", "mlp"]) & (done.seed == 0) & (done.dparams == "{}") & (done.n == 2000)]
    if not pick.empty:
        pick = pick[pick.device == ("cpu" if (pick.device == "cpu").any() else pick.device.iloc[0])]
    if pick.empty:
        return []
    fig, axes = plt.subplots(1, pick.dataset.nunique(), figsize=(12, 4.5), squeeze=False)
    for ax, (dataset, g) in zip(axes[0], pick.groupby("dataset")):
        for _, r in g.iterrows():
            ax.plot(range(1, len(r.loss_curve) + 1), r.loss_curve, label=f"{r.model} (epoch mean)")
            if r.model == "seed_mlp":
                ax.plot(
                    range(1, len(r.last_loss_curve) + 1),
                    r.last_loss_curve,
                    ls=":",
                    label="seed_mlp (last row, as printed)",
                )
        ax.axhline(np.log(3), color="grey", ls="--", label="ln 3 (chance)")
        ax.set(xlabel="epoch", ylabel="training cross-entropy", title=dataset)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return [save(fig, out / "loss_curves.png")]


def history(recs: list[dict], order: list[dict], out: Path) -> list[Path]:
    """Calibrated fit time and held-out accuracy per cell against commit (oldest left)."""
    if len(order) < 2 or not recs:
        return []
    plt = pyplot()
    df = pd.DataFrame([r for r in recs if r.get("status") == "ok"])
    position = {c["sha"]: i for i, c in enumerate(order)}
    df = df[df.history_sha.isin(position)].assign(x=lambda d: d.history_sha.map(position))
    calibration = df["calibration_s"].astype(float) if "calibration_s" in df else pd.Series(float("nan"), df.index)
    df = df.assign(t=df.fit_s / calibration.fillna(1.0), calibrated=calibration.notna())
    fig, (ax_t, ax_acc) = plt.subplots(1, 2, figsize=(13, 5))
    for (dataset, model), g in df.groupby(["dataset", "model"]):
        stats = g.groupby("x").agg(t=("t", "median"), acc=("test_acc", "mean"))
        (line,) = ax_t.plot(stats.index, stats.t, marker="o", label=f"{model} {dataset}")
        ax_acc.plot(stats.index, stats.acc, marker="o", color=line.get_color(), label=f"{model} {dataset}")
    labels = [c["sha"][:7] for c in order]
    for ax in (ax_t, ax_acc):
        ax.set_xticks(range(len(order)), labels, rotation=45, fontsize=8)
        ax.grid(alpha=0.3)
    ax_t.set(yscale="log", xlabel="commit (oldest left)", ylabel="fit time / calibration workload (median over seeds)")
    ax_t.set_title("fit time per commit (calibrated: a slow spell of the machine divides out)")
    ax_acc.set(
        xlabel="commit (oldest left)",
        ylabel="held-out accuracy (mean over seeds)",
        title="held-out accuracy per commit",
    )
    ax_acc.legend(fontsize=8)
    return [save(fig, out / "history.png")]
