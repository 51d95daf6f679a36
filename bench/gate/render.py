"""The gates' outputs, one writer for both modes: the markdown table and github-action-benchmark JSON."""

from __future__ import annotations

import pandas as pd


def markdown(table: pd.DataFrame, info: dict[str, str], rule: str) -> str:
    """``info`` as a list, the table (regressions in bold), and the count with the rule that decided."""
    lines = [f"- {k}: {v}" for k, v in info.items()] + [""]
    shown = table.copy()
    shown["verdict"] = shown["verdict"].map(lambda v: f"**{v}**" if v == "REGRESSION" else v)
    lines.append(shown.to_markdown(index=False, floatfmt=".4g"))
    n_bad = int((table.verdict == "REGRESSION").sum())
    lines += ["", f"{n_bad} regression(s) in {len(table)} comparisons. {rule}"]
    return "\n".join(lines)


def github_json(cells: dict[tuple, tuple[float, float]], time_unit: str) -> dict[str, list[dict]]:
    """github-action-benchmark inputs: per cell (dataset, dparams, n, model, mparams, device) ->
    (held-out accuracy, fit seconds): accuracy bigger-is-better, fit time smaller-is-better."""
    out: dict[str, list[dict]] = {"customBiggerIsBetter": [], "customSmallerIsBetter": []}
    for cell in sorted(cells):
        dataset, dparams, n, model, _, device = cell
        acc, fit_s = cells[cell]
        name = f"{dataset} n={n} {model} {device}" + ("" if dparams == "{}" else f" {dparams}")
        out["customBiggerIsBetter"].append({"name": f"{name} held-out accuracy", "unit": "accuracy", "value": acc})
        out["customSmallerIsBetter"].append({"name": f"{name} fit time", "unit": time_unit, "value": fit_s})
    return out
