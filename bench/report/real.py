"""The real-data sections: each table with its families, and whether the spectral families are safe.

A pure function of records (the tables' descriptions come from their one definition,
``datasets.real.TABLES``). Safe means what the real suite promises: on every table
spectral_xgboost's mean held-out accuracy is within one standard deviation (over seeds) of
xgboost's, and spectral_mlp's of mlp's, or better; where a spectral search kept a phase on a
real table, the section says which and how much of the label's entropy it accounted for.
"""

from __future__ import annotations

import json

import pandas as pd

from bench.records.frame import dataset_title
from bench.records.store import TIMED_OUT
from bench.report.tables import _num, _pm, failures_table, header

TEXT = (
    "Real tables (`{command}`; docs/real-data.md): no "
    "periodic structure is known in any of them, so this is where the spectral families must show that they "
    "stay as good as the family they extend when their frequency search finds nothing to use."
)
# Each spectral family and the family it adds its phases to.
SPECTRAL = {"spectral_xgboost": "xgboost", "spectral_mlp": "mlp"}


def _groups(df: pd.DataFrame):
    cpu = df[(df.device == "cpu") & (df.tag == "")]
    return cpu.groupby(["dataset", "dparams", "n"], sort=False)


def about(dataset: str, dparams: str) -> str:
    """Where a table comes from and what it holds (its definition's words), or a file's identity."""
    params = json.loads(dparams)
    if "sha256" in params:
        return f"file, target {params['target']}, sha256 {params['sha256']}"
    from datasets import real

    spec = real.TABLES.get(dataset)
    return f"{spec.package} {spec.item}: {spec.about}" if spec else "scikit-learn's bundled copy"


def _status(g: pd.DataFrame) -> str:
    """'5 / 5' seeds ok, and how the others ended."""
    n_ok = int((g.status == "ok").sum())
    errors = g.error[g.status != "ok"].fillna("").astype(str)
    timed_out = int(errors.str.startswith(TIMED_OUT).sum())
    other = int(len(errors) - timed_out)
    notes = [f"{timed_out} over budget"] if timed_out else []
    notes += [f"{other} failed or skipped"] if other else []
    return f"{n_ok} / {len(g)}" + (f" ({', '.join(notes)})" if notes else "")


def family_table(g: pd.DataFrame) -> str:
    """One table's families: held-out and train accuracy, the ranking error, fit time, seeds that ran."""
    binary = g.n_classes.dropna().iloc[0] == 2 if g.n_classes.notna().any() else False
    rows = []
    for model, m in g.groupby("model"):
        done = m[m.status == "ok"]
        score = done.get("test_roc_auc") if binary else done.get("test_log_loss")
        rows.append(
            {
                "family": model,
                "held-out acc": _pm(done.test_acc),
                "train acc": _pm(done.train_acc),
                "ROC AUC" if binary else "log loss": _pm(score) if score is not None else "–",
                "fit s / seed": _num(done.fit_s.mean() if len(done) else None),
                "seeds ok": _status(m),
                "_sort": done.test_acc.mean() if len(done) else -1.0,
            }
        )
    t = pd.DataFrame(rows).sort_values("_sort", ascending=False, kind="stable").drop(columns="_sort")
    return t.to_markdown(index=False)


def _phase_note(m: pd.DataFrame) -> str:
    """Which phase a spectral family's search kept on this table, in how many seeds, and in how
    many seeds its fallback (the base family's model) was kept on the validation rows."""
    done = m[m.status == "ok"]
    if "phases_kept" not in done or done.phases_kept.isna().all():
        return "search not recorded (records made before bench recorded it)"
    kept = done[done.phases_kept.fillna(0) > 0]
    note = "no phase kept"
    if not kept.empty:
        first = kept.iloc[0]
        note = (
            f"a phase kept in {len(kept)} / {len(done)} seeds, e.g. `{first.phase}` "
            f"({100 * first.phase_explained:.0f}% of H(y) on training rows)"
        )
    kept_models = done.candidate.map(_kept) if "candidate" in done else pd.Series(dtype=object)
    if kept_models.notna().any():
        base = SPECTRAL[done.model.iloc[0]]
        fallback = int((kept_models == base).sum())
        note += f"; {base}'s model kept on validation in {fallback} / {int(kept_models.notna().sum())} seeds"
    return note


def _kept(candidate) -> str | None:
    """Which model a spectral fit kept where it fitted its base family's beside its own: the base
    family's name, or the spectral one ("periodic", "spectral"); None where it chose nothing."""
    if not isinstance(candidate, dict):
        return None
    return candidate.get("network", candidate.get("model"))


def safety_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Per table and spectral family: its mean held-out accuracy against its base family's, and the verdict."""
    rows = []
    for (dataset, dparams, n), g in _groups(df):
        done = g[g.status == "ok"]
        for spectral, base in SPECTRAL.items():
            s, b = done[done.model == spectral].test_acc, done[done.model == base].test_acc
            if g[g.model == spectral].empty or g[g.model == base].empty:
                continue
            if s.empty or b.empty:
                verdict = "not comparable (a family has no finished seed)"
            else:
                std = b.std(ddof=0) if len(b) > 1 else 0.0
                gap = s.mean() - b.mean()
                verdict = "safe" if gap >= -std - 1e-12 else "**below by more than one std**"
            chosen = (
                done[done.model == spectral].candidate.map(_kept) if "candidate" in done else pd.Series(dtype=object)
            )
            rows.append(
                {
                    "chosen": int(chosen.notna().sum()),
                    "spectral_kept": int((chosen.notna() & (chosen != base)).sum()),
                    "table": dataset_title(dataset, dparams, n),
                    "spectral": spectral,
                    "its accuracy": _pm(s),
                    "base": base,
                    "base accuracy": _pm(b),
                    "difference": _num(s.mean() - b.mean(), "{:+.3f}") if len(s) and len(b) else "–",
                    "verdict": verdict,
                    "search": _phase_note(g[g.model == spectral]),
                }
            )
    return pd.DataFrame(rows)


def _kept_sentence(t: pd.DataFrame) -> str:
    """Where a fallback chose: in how many fits the spectral model beat its base family's on
    validation, and on which tables (the phase is used only there)."""
    chosen = int(t.chosen.sum())
    if not chosen:
        return ""
    kept = t[t.spectral_kept > 0]
    where = "; ".join(f"{r.spectral} on {r.table}, {r.spectral_kept} / {r.chosen} seeds" for r in kept.itertuples())
    return (
        f" The spectral model (its phase features) was kept over its base family's model on validation rows "
        f"in {int(t.spectral_kept.sum())} of {chosen} fits" + (f": {where}." if where else ".")
    )


def safety(df: pd.DataFrame) -> str:
    """The spectral safety check: a count, then the table."""
    t = safety_rows(df)
    if t.empty:
        return ""
    safe = int((t.verdict == "safe").sum())
    below = t[t.verdict.str.startswith("**below")]
    summary = (
        f"**Spectral safety**: {safe} of {len(t)} (table, spectral family) pairs are within one std of the "
        "family they extend, or better."
    )
    if not below.empty:
        summary += " Below by more than one std: " + "; ".join(f"{r.spectral} on {r.table}" for r in below.itertuples())
        summary += "."
    phases = t[t.search.str.startswith("a phase")]
    summary += (
        f" The search kept a phase on {phases.table.nunique()} table(s): "
        + "; ".join(f"{r.spectral} on {r.table}" for r in phases.itertuples())
        + "."
        if not phases.empty
        else " No search kept a phase on any table."
    )
    summary += _kept_sentence(t)
    return summary + "\n\n" + t.drop(columns=["chosen", "spectral_kept"]).to_markdown(index=False)


def wall_time(df: pd.DataFrame) -> str:
    """First to last record of the suite, with long pauses (an interrupted run resumed later) said."""
    utc = pd.to_datetime(df.utc, utc=True).sort_values()
    if len(utc) < 2:
        return ""
    gaps = utc.diff().dt.total_seconds().fillna(0)
    pauses = gaps[gaps > 1800]
    span = (utc.iloc[-1] - utc.iloc[0]).total_seconds()
    text = f"Wall time, first to last record: {span / 3600:.2f} h for {len(df)} cells"
    if len(pauses):
        text += f" ({len(pauses)} pause(s) over 30 min, {pauses.sum() / 3600:.2f} h in all, inside that span)"
    text += (
        f"; the cells' own seconds (fit, predict, a cell over budget its budget) sum to {cell_seconds(df) / 3600:.2f} h"
    )
    nodes = df.node.dropna() if "node" in df else pd.Series(dtype=object)
    if nodes.nunique() > 1:
        counts = nodes.value_counts()
        text += f"; on {len(counts)} Ray nodes ({' and '.join(str(c) for c in counts)} cells)"
    return text + "."


def cell_seconds(df: pd.DataFrame) -> float:
    """What the cells held a core for: fit and predict seconds of the finished ones (a batched
    group's fit shared by its cells), the budget of those over it; the rest unknown, counted as 0."""
    predict = df.predict_s.fillna(0) * (df.predict_repeats.fillna(1) if "predict_repeats" in df else 1)
    budget = df.budget_s.fillna(0) if "budget_s" in df else 0.0
    return float((df.fit_s.fillna(0) + predict + budget).sum())


def tables_sections(df: pd.DataFrame) -> str:
    parts = []
    for (dataset, dparams, n), g in _groups(df):
        first = g.iloc[0]
        split = f"{int(first.n_train)} train / {int(first.n_test)} held-out rows" if "n_train" in g else ""
        sha = g.dataset_sha256.dropna().iloc[0] if "dataset_sha256" in g and g.dataset_sha256.notna().any() else None
        line = "; ".join(p for p in (about(dataset, dparams), split, f"loaded frame sha256 {sha}" if sha else "") if p)
        parts.append(f"### {dataset_title(dataset, dparams, n)}\n\n{line}.\n\n{family_table(g)}")
    return "\n\n".join(parts)


def is_real(df: pd.DataFrame) -> bool:
    """Whether every record is of a real table (packaged, bundled or a file), none generated."""
    import datasets

    return len(df) > 0 and not df.dataset.isin(datasets.NAMES).any()


def section(df: pd.DataFrame, command: str) -> str:
    """``command``: the one that made these records."""
    failures = failures_table(df) if (df.status == "failed").any() else ""
    parts = [TEXT.format(command=command), header(df), wall_time(df), safety(df), tables_sections(df), failures]
    return "\n\n".join(p for p in parts if p)
