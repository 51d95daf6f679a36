"""The results page: the tables, their prose and the figures of a records folder, assembled.

A pure function of records (and of the figures drawn from them); nothing here fits a model. A
records folder may hold sub-folders with records of their own (``SUBFOLDERS``: the named suites,
the gate's history); they add sections to its page.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench import ROOT
from bench.records import store
from bench.records.frame import frame
from bench.report import leaderboard, plots, real
from bench.report.tables import (
    TEXT,
    accuracy_tables,
    device_table,
    failures_table,
    header,
    seed_mlp_table,
    skipped_table,
    sweep_table,
    throughput_tables,
    time_to_accuracy_table,
)

# Sub-folders of a records folder whose records add sections to its page.
SUBFOLDERS = {
    "variants": "suites/variants",
    "real": "suites/real",
    "real-quick": "suites/real-quick",
    "real-tiny": "suites/real-tiny",
    "structure": "suites/structure",
    "frontier": "suites/frontier",
    "sweep": "suites/sweep",
}
HISTORY = "gate/history"
# Which command writes each place under results/ (the first line of each generated page names it;
# results/README.md ends with this table).
SOURCES = {
    "results/": "python -m bench all",
    "results/suites/variants/": "python -m bench run --suite variants --out results/suites/variants",
    "results/suites/structure/": "python -m bench run --suite structure --out results/suites/structure",
    "results/suites/frontier/": "python -m bench run --suite frontier --out results/suites/frontier",
    "results/suites/real/": "python -m bench run --suite real --out results/suites/real",
    "results/suites/real-quick/": "python -m bench run --suite real-quick --out results/suites/real-quick",
    "results/suites/real-tiny/": "python -m bench run --suite real-tiny --out results/suites/real-tiny",
    "results/suites/sweep/": "python -m bench sweep",
    "results/gate/baseline/": "python -m bench baseline",
    "results/gate/history/": "python -m bench history",
    "results/studies/gate_power.md": "python -m bench.studies.gate_power",
    "results/studies/bench_all_speed.md": "python -m bench.studies.bench_all_speed",
    "results/studies/ray_vs_local.md": "python -m bench.studies.ray_vs_local",
    "results/studies/trainer_throughput.md": "python -m bench.studies.trainer_throughput",
    "results/studies/gpu_check/": "python -m bench.studies.gpu_check (on a GPU machine)",
    "results/figures/decision_regions_*.png": "python -m bench.studies.decision_regions",
}


def command_for(folder: Path) -> str:
    """The command that fills ``folder`` (results/ or one of its sub-folders); for any other folder,
    the ``bench report`` that rebuilds its tables."""
    try:
        rel = Path(folder).resolve().relative_to(ROOT)
    except ValueError:
        return "python -m bench report --out <this folder>"
    return SOURCES.get(f"{rel.as_posix()}/", f"python -m bench report --out {rel.as_posix()}")


def made_by(command: str) -> str:
    """A page's first line."""
    return (
        f"<!-- made by `{command}` from records.jsonl; rebuild the tables with `python -m bench report`; do not edit -->\n"
        if command
        else ""
    )


CAPTIONS = {
    "decision_regions_sum_mod.png": "sum_mod: what each family predicts over the unit square, held-out "
    "accuracy on the tables' split of seed 0 (`python -m bench.studies.decision_regions`)",
    "decision_regions_sum_bin.png": "sum_bin: what each family predicts over the unit square",
    "decision_regions_poly_mod.png": "a polynomial phase (the structure suite's first dataset): what the "
    "spectral families and the trees predict over the unit square, held-out accuracy of seed 0",
    "loss_curves.png": "training loss per epoch, seed 0",
    "learning_curve_sum_mod.png": "sum_mod: held-out accuracy and fit time vs n",
    "learning_curve_sum_bin.png": "sum_bin: held-out accuracy and fit time vs n",
    "frequency_sweep.png": "sum_mod: held-out accuracy vs frequency (scale)",
    **{
        f"critical_difference_{b}.png": f"{b} board: critical-difference diagram, mean rank of the task's error "
        "(1 best); families joined by a bar are not significantly different (Friedman, then Nemenyi, α = 0.05; "
        "scikit-posthocs)"
        for b in ("real", "synthetic")
    },
    **{
        f"pareto_{b}.png": f"{b} board: Elo (95% interval) against train seconds per 1,000 rows (log scale); "
        "the line joins the Pareto front"
        for b in ("real", "synthetic")
    },
    "history.png": "the gate's cells on past commits (`python -m bench history`): calibrated fit time and "
    "held-out accuracy per commit",
}


def _figure(name: str, figures: list[Path]) -> str:
    if name not in {p.name for p in figures}:
        return ""
    return f"![{CAPTIONS[name]}](figures/{name})\n\n*{CAPTIONS[name]}*"


def _join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


def page(
    df: pd.DataFrame,
    extra: dict[str, pd.DataFrame],
    figures: list[Path],
    command: str = "",
    boards: dict | None = None,
) -> dict[str, str]:
    """File name -> markdown: accuracy.md, throughput.md and the results README; ``command``: what made
    them; ``boards``: the leaderboards if already computed (:func:`bench.report.leaderboard.boards`)."""
    head = header(df)
    seed_table = seed_mlp_table(df)
    if boards is None:
        boards = leaderboard.boards(leaderboard.all_frames(df, extra))
    board_sections = {
        name: (
            f"Leaderboard: {'real tables' if name == 'real' else 'synthetic tasks'}",
            leaderboard.section(
                b, _join(*(_figure(f"{kind}_{name}.png", figures) for kind in ("pareto", "critical_difference")))
            ),
        )
        for name, b in boards.items()
    }
    # A folder of real tables only (a real suite, or files): its tables with fit times, budgets
    # and the spectral safety check, in place of the generic accuracy tables.
    accuracy = (
        ("Real tables", real.section(df, command))
        if real.is_real(df)
        else ("Accuracy (held-out vs train)", accuracy_tables(df))
    )
    sections = [
        *([board_sections["real"]] if "real" in board_sections else []),
        accuracy,
        ("Decision regions", _join(*(_figure(f"decision_regions_{d}.png", figures) for d in ("sum_mod", "sum_bin")))),
        ("The seed's MLP", _join(seed_table, _figure("loss_curves.png", figures) if seed_table else "")),
        ("Time to accuracy", time_to_accuracy_table(df)),
    ]
    if "variants" in extra:
        sections.append(
            ("Generality: dataset variants", _join(header(extra["variants"]), accuracy_tables(extra["variants"])))
        )
    if "structure" in extra:
        sections.append(
            (
                "Polynomial phases: the structure suite",
                _join(
                    TEXT["structure"],
                    header(extra["structure"]),
                    _figure("decision_regions_poly_mod.png", figures),
                    accuracy_tables(extra["structure"]),
                ),
            )
        )
    if "frontier" in extra:
        sections.append(
            (
                "Beyond the dictionary: the frontier suite",
                _join(TEXT["frontier"], header(extra["frontier"]), accuracy_tables(extra["frontier"])),
            )
        )
    for name in ("real", "real-quick", "real-tiny"):
        if name in extra:
            sections.append((f"Real data: `{name}`", real.section(extra[name], SOURCES[f"results/suites/{name}/"])))
    if "synthetic" in board_sections:
        sections.append(board_sections["synthetic"])
    if "sweep" in extra:
        sw = extra["sweep"]
        skipped = skipped_table(sw)
        sections.append(
            (
                "Sweeps: learning curves and frequency",
                _join(
                    header(sw),
                    *(
                        _figure(f, figures)
                        for f in ("learning_curve_sum_mod.png", "learning_curve_sum_bin.png", "frequency_sweep.png")
                    ),
                    TEXT["sweep"] + "\n\n" + sweep_table(sw),
                    TEXT["skipped"] + "\n\n" + skipped if skipped else "",
                    failures_table(sw) if (sw.status == "failed").any() else "",
                ),
            )
        )
    sections += [
        ("History", _figure("history.png", figures)),
        ("Throughput", throughput_tables(df)),
        ("CPU vs GPU", device_table(df)),
        ("Failures", failures_table(df)),
    ]
    made = made_by(command)
    readme = [made, "# Results\n", TEXT["intro"] + "\n", head + "\n"]
    readme += [f"## {title}\n\n{body}\n" for title, body in sections if body]
    return {
        "accuracy.md": f"{made}\n# Accuracy\n\n{head}\n\n{accuracy_tables(df)}\n",
        "throughput.md": f"{made}\n# Throughput\n\n{head}\n\n{throughput_tables(df)}\n\n## CPU vs GPU\n\n{device_table(df)}\n",
        "README.md": "\n".join(readme),
    }


def load(out_dir: Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The records of ``out_dir`` and of its sub-folders (``SUBFOLDERS``) that have records."""
    out_dir = Path(out_dir)
    extra = {
        name: frame(out_dir / sub / "records.jsonl")
        for name, sub in SUBFOLDERS.items()
        if (out_dir / sub / "records.jsonl").exists()
    }
    return frame(out_dir / "records.jsonl"), extra


def sources_table(results: Path) -> str:
    """Where each file under ``results`` comes from: the places of ``SOURCES`` that exist there."""
    rows = []
    for place, command in SOURCES.items():
        rel = place.removeprefix("results/").rstrip("/")
        if not rel or any(Path(results).glob(rel)):
            rows.append({"file or folder": f"`{place}`", "made by": f"`{command}`"})
    return pd.DataFrame(rows).to_markdown(index=False) if rows else ""


def write(
    out_dir: Path, df: pd.DataFrame, extra: dict[str, pd.DataFrame], figures: list[Path], boards: dict | None = None
) -> list[Path]:
    """Write :func:`page` into ``out_dir``; returns the paths written."""
    out_dir = Path(out_dir)
    written = []
    for name, text in page(df, extra, figures, command_for(out_dir), boards).items():
        if name == "README.md" and out_dir.resolve() == (ROOT / "results").resolve():
            text += f"\n## Where each file comes from\n\n{sources_table(out_dir)}\n"
        path = out_dir / name
        path.write_text(text)
        written.append(path)
    return written


def write_report(out: Path) -> list[Path]:
    """Figures drawn from the records of ``out`` (and its sub-folders), then the tables and page."""
    out = Path(out)
    df, extra = load(out)
    boards = leaderboard.boards(leaderboard.all_frames(df, extra))  # bencheval once per board, page and figures
    figures = plots.from_records(df, extra, out / "figures", boards)
    history = out / HISTORY / "records.jsonl"
    if history.exists():
        figures += plots.history(store.load_foreign(history), _commit_order(out / HISTORY), out / "figures")
    figures += sorted(p for p in (out / "figures").glob("decision_regions_*.png") if p not in figures)
    return write(out, df, extra, figures, boards)


def _commit_order(folder: Path) -> list[dict]:
    import json

    path = folder / "commits.json"
    return json.loads(path.read_text()) if path.exists() else []
