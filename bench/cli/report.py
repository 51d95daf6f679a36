"""``report``: the tables, figures and page of a records folder, rebuilt from its records."""

from __future__ import annotations

from pathlib import Path

from bench.cli.common import RESULTS
from bench.records import output
from bench.report.page import write_report


def add_parsers(sub) -> None:
    p = sub.add_parser("report", help="rebuild the markdown tables from a records file")
    p.add_argument("--out", type=Path, default=RESULTS, help="folder holding records.jsonl (default: %(default)s)")


def _report(args) -> int:
    if not output.owned(args.out):
        raise ValueError(f"--out {args.out} is not a bench output folder (no {output.MARKER} file)")
    for p in write_report(args.out):
        print(p)
    return 0


COMMANDS = {"report": _report}
