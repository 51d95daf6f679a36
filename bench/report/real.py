"""The results page's real-data section: which tables ran, and whether the spectral families keep up."""

from __future__ import annotations

import json

import pandas as pd

from bench.records.frame import dataset_title, ok
from bench.report.tables import accuracy_tables, failures_table, header

TEXT = (
    "Real tables (`python -m bench run --suite {suite} --out results/suites/{suite}`; docs/real-data.md): no "
    "periodic structure is known in any of them, so this is where the spectral families must show that they "
    "stay close to the best family when their frequency search finds nothing to use."
)


SPECTRAL = ("spectral_mlp", "spectral_xgboost")
SPECTRAL_GAP = 0.01  # more than this below the best family is said plainly


def datasets_table(df: pd.DataFrame) -> str:
    """Which real tables ran: rows, classes (original names) and identity (sha256 of a file)."""
    rows = []
    for (dataset, dparams, n), g in df.groupby(["dataset", "dparams", "n"], sort=False):
        names = g["class_names"].dropna().iloc[0] if "class_names" in g and g["class_names"].notna().any() else []
        shown = ", ".join(map(str, names[:6])) + (f" … ({len(names)})" if len(names) > 6 else "")
        params = json.loads(dparams)
        rows.append(
            {
                "dataset": dataset,
                "rows": n,
                "classes": shown,
                "source": f"file, target {params['target']}, sha256 {params['sha256']}"
                if "sha256" in params
                else _source(dataset),
            }
        )
    return pd.DataFrame(rows).to_markdown(index=False)


def _source(dataset: str) -> str:
    from datasets import real

    spec = real.TABLES.get(dataset)
    return f"{spec.package} {spec.item}" if spec else "scikit-learn"


def spectral_check(df: pd.DataFrame) -> str:
    """Where a spectral family is more than SPECTRAL_GAP below the best family, say so, per dataset."""
    done = ok(df)
    done = done[done.device == "cpu"]
    lines = []
    for (dataset, dparams, n), g in done.groupby(["dataset", "dparams", "n"], sort=False):
        means = g.groupby("model").test_acc.mean()
        best = means.idxmax()
        for model in (m for m in SPECTRAL if m in means):
            gap = means[best] - means[model]
            title = dataset_title(dataset, dparams, n)
            if gap > SPECTRAL_GAP:
                lines.append(
                    f"- **{title}: {model} is {100 * gap:.1f} points below the best family** "
                    f"({best} {means[best]:.3f} vs {means[model]:.3f})."
                )
            elif model == best:
                lines.append(f"- {title}: {model} is the best family ({means[model]:.3f}).")
            else:
                lines.append(
                    f"- {title}: {model} within {100 * gap:.1f} points of the best ({best} {means[best]:.3f})."
                )
    return "\n".join(lines)


def section(df: pd.DataFrame, suite: str = "real") -> str:
    failures = failures_table(df) if (df.status == "failed").any() else ""
    parts = [
        TEXT.format(suite=suite),
        header(df),
        datasets_table(df),
        spectral_check(df),
        accuracy_tables(df),
        failures,
    ]
    return "\n\n".join(p for p in parts if p)
