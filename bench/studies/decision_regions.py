"""Decision-region maps: each family fitted once and its predictions drawn over the unit square.

``python -m bench.studies.decision_regions`` fits every family on the seed's datasets (and the
structure suite's families on its first polynomial-phase dataset) on the tables' split of seed 0,
draws results/figures/decision_regions_*.png, then rebuilds results/README.md with them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import models
from bench import ROOT
from bench.records import output
from bench.report.page import write_report
from bench.report.plots import pyplot, save
from bench.run import suites
from bench.run.runner import split
from bench.run.suites import Cell
from bench.run.timing import choose_threads, pin_threads
from datasets.synthetic import DEFAULTS

COMMAND = "python -m bench.studies.decision_regions"


def decision_regions(
    out: Path,
    *,
    n: int = 2000,
    seed: int = 0,
    resolution: int = 200,
    threads: int = 2,
    data: tuple[tuple[str, dict], ...] = (("sum_mod", {}), ("sum_bin", {})),
    names: tuple[str, ...] | None = None,
) -> list[Path]:
    """Each family's predictions over the unit square (like the thread's scatter plots); datasets
    with two features (``data``: (name, params) pairs), families ``names`` (default: all).

    Fitted on the same split as the tables' cells of this seed, so "held-out" means the same here.
    """
    plt = pyplot()
    grid = np.linspace(0, 1, resolution)
    G = np.stack(np.meshgrid(grid, grid), -1).reshape(-1, 2)
    names = tuple(names or models.NAMES)
    written = []
    for dataset, params in data:
        X_train, X_test, y_train, y_test = split(Cell(dataset, dict(params), n, "", {}, "cpu", seed))
        cols = min(5, len(names) + 1)
        rows = int(np.ceil((len(names) + 1) / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.3 * rows))
        axes = axes.ravel()
        X, y = np.vstack([X_train, X_test]), np.concatenate([y_train, y_test])
        axes[0].scatter(X[:, 0], X[:, 1], c=y, s=2, cmap="viridis")
        axes[0].set_title("data (labels)", fontsize=9)
        for ax, name in zip(axes[1:], names):
            est = models.create(name, seed=seed, device="cpu", n_threads=threads).fit(X_train, y_train)
            acc = float(np.mean(est.predict(X_test) == y_test))
            ax.imshow(
                est.predict(G).reshape(resolution, resolution),
                origin="lower",
                extent=(0, 1, 0, 1),
                cmap="viridis",
                vmin=0,
                vmax=y.max(),
            )
            ax.set_title(f"{name}: held-out {acc:.2f}", fontsize=9)
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in axes[len(names) + 1 :]:
            ax.axis("off")
        fig.suptitle(
            f"{_describe(dataset, params)}, n={n}, seed {seed}: predicted class over the unit square", fontsize=11
        )
        written.append(save(fig, out / f"decision_regions_{dataset}.png", dpi=100))
    return written


def _describe(dataset: str, params: dict) -> str:
    if dataset != "poly_mod":
        return dataset
    p = DEFAULTS["poly_mod"] | params

    def term(c: float, m) -> str:
        monomial = "·".join(f"x{i}" for i in m)
        return monomial if c == 1 else f"-{monomial}" if c == -1 else f"{c:g}·{monomial}"

    poly = " + ".join(term(c, m) for c, m in p["terms"]).replace("+ -", "- ")
    return f"floor({p['scale']:g} ({poly})) mod {p['n_classes']}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "results", help="a bench records folder (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=None, help="default: free cores")
    args = ap.parse_args(argv)
    try:
        out = output.claim(args.out)
        threads = pin_threads(choose_threads(args.threads))
    except ValueError as exc:
        print(f"{COMMAND}: error: {output.one_line(exc)}", file=sys.stderr)
        return 2
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for p in decision_regions(out / "figures", threads=threads):
        print(p)
    # One polynomial-phase dataset of the structure suite, the families of that suite.
    structure = suites.SUITES["structure"][0]
    for p in decision_regions(
        out / "figures", threads=threads, data=(structure.datasets[0],), names=tuple(structure.models)
    ):
        print(p)
    if (out / "records.jsonl").exists():
        write_report(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
