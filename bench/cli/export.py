"""``export``: the per-split rows behind a leaderboard, for bencheval (TabArena's engine) or a spreadsheet.

``--format bencheval``: one board's dense input, exactly what bench's leaderboard hands bencheval
(columns method, task, seed, metric_error, time_train_s, time_infer_s; plus metric and imputed,
which bencheval ignores): load it with ``pd.read_csv`` and ``BenchmarkEvaluator(seed_column="seed")``
to reproduce the board, or put it beside TabArena's results. ``--format csv``: every split row
(failed ones too, before imputation) with held-out accuracy, ROC AUC, log loss and the board it
belongs to.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.cli.common import RESULTS
from bench.records import output, store
from bench.records.frame import frame
from bench.report import leaderboard

REAL_DEFAULT = ("suites/real", "suites/real-quick", "suites/real-tiny")


def add_parsers(sub) -> None:
    p = sub.add_parser(
        "export",
        help="write the per-split rows of a leaderboard as CSV (bencheval's input, or every column)",
        description=__doc__,
    )
    p.add_argument("--out-file", type=Path, required=True, help="the CSV file to write")
    p.add_argument(
        "--format",
        choices=("bencheval", "csv"),
        default="bencheval",
        help="bencheval: one board's dense input (failed splits imputed as the board does); csv: every split row",
    )
    p.add_argument(
        "--records",
        type=Path,
        nargs="+",
        default=None,
        help="records folders (or records.jsonl files); default: the real board's folders under results/ "
        "(suites/real, real-quick, real-tiny)",
    )


def _sources(paths: list[Path] | None) -> list[Path]:
    if paths is None:
        found = [RESULTS / sub for sub in REAL_DEFAULT if (RESULTS / sub / "records.jsonl").exists()]
        if not found:
            raise ValueError(
                f"no real-board records under {RESULTS} ({', '.join(REAL_DEFAULT)}); name them with --records"
            )
        return found
    return list(paths)


def _frame(path: Path) -> pd.DataFrame:
    file = path / "records.jsonl" if path.is_dir() else path
    if not file.is_file():
        raise ValueError(f"--records {path}: no records.jsonl there")
    return frame(file)


def rows(paths: list[Path]) -> pd.DataFrame:
    """Split rows of the records folders, each tagged with its board (the leaderboard's rule: real
    unless the dataset is one of bench's generators)."""
    frames = {}
    for path in paths:
        name = (path if path.is_dir() else path.parent).name
        frames[name if name not in frames else str(path)] = _frame(path)
    out = leaderboard.split_rows(frames)
    if out.empty:
        raise ValueError("the records hold no CPU cells to export")
    return out


def bencheval_input(split: pd.DataFrame) -> pd.DataFrame:
    """The dense frame bench's leaderboard feeds bencheval (same design and imputation)."""
    kept, _ = leaderboard.design(split)
    if kept.method.nunique() < 2 or kept.task.nunique() < 2:
        raise ValueError("fewer than 2 families or 2 tasks with a complete design: nothing for bencheval to rank")
    data, _ = leaderboard.impute(kept, leaderboard.pin_for(kept.method.unique()))
    metric = kept.groupby("task").metric.first()
    return data.assign(metric=data.task.map(metric))


def _export(args) -> int:
    sources = _sources(args.records)
    output.check_new_file(args.out_file, inputs=sources, what="--out-file")
    split = rows(sources)
    if args.format == "bencheval":
        boards = sorted(split.board.unique())
        if len(boards) > 1:
            raise ValueError(
                "--records mixes real and synthetic tasks; bencheval ranks every row as one board: export them apart"
            )
        table = bencheval_input(split)
    else:
        table = split
    store.write_atomic(args.out_file, table.to_csv(index=False))
    print(args.out_file)
    return 0


COMMANDS = {"export": _export}
