"""Command line: ``python -m bench {all,run,list,report}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import datasets
import models
from bench import ROOT, suites

RESULTS = ROOT / "results"


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _ints(text: str) -> list[int]:
    try:
        values = [int(t) for t in _csv(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def _positive_ints(text: str) -> list[int]:
    values = _ints(text)
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return values


def _add_run_options(p: argparse.ArgumentParser, default_out: Path) -> None:
    p.add_argument("--out", type=Path, default=default_out, help="folder for records.jsonl and tables (default: %(default)s)")
    p.add_argument("--threads", type=int, default=None, help="threads for every family (default: free cores, at most 2 on this machine's load)")
    p.add_argument("--force", action="store_true", help="recompute cells that already have a record")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m bench",
        description="Compare model families on generated tabular datasets: held-out accuracy, train accuracy, "
        "fit and predict throughput on CPU and GPU. Each finished cell is one line in records.jsonl; "
        "tables are derived from the records. Interrupted runs resume where they stopped.",
    )
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_all = sub.add_parser("all", help="the main job: every family on the seed's datasets, 5 seeds, every device; writes results/")
    p_all.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="'auto': every available device")
    _add_run_options(p_all, RESULTS)

    p_run = sub.add_parser("run", help="a suite chosen on the command line, or a named one with --suite")
    p_run.add_argument("--suite", choices=sorted(suites.SUITES), help="a named suite (ignores --datasets/--models/--n/--seeds)")
    p_run.add_argument("--datasets", type=_csv, default=list(datasets.NAMES), help=f"comma list from {', '.join(datasets.NAMES)}")
    p_run.add_argument("--models", type=_csv, default=list(models.NAMES), help=f"comma list from {', '.join(models.NAMES)}")
    p_run.add_argument("--n", type=_positive_ints, default=[2000], help="rows generated per dataset, comma list (default 2000)")
    p_run.add_argument("--seeds", type=_ints, default=[0, 1, 2, 3, 4], help="comma list (default 0,1,2,3,4)")
    p_run.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    _add_run_options(p_run, RESULTS / "runs")

    sub.add_parser("list", help="datasets, models, suites")

    p_rep = sub.add_parser("report", help="rebuild the markdown tables from a records file")
    p_rep.add_argument("--out", type=Path, default=RESULTS, help="folder holding records.jsonl (default: %(default)s)")
    return ap


def _list() -> int:
    print("datasets:", ", ".join(datasets.NAMES))
    print("models:  ", ", ".join(models.NAMES))
    for name, parts in suites.SUITES.items():
        print(f"suite {name}: " + "; ".join(s.description for s in parts))
    return 0


def _execute(suite_list: list[suites.Suite], args) -> int:
    from bench import report, runner
    from bench.timing import free_cores, pin_threads

    cells = [c for s in suite_list for c in s.cells()]
    threads = pin_threads(args.threads or free_cores())
    print(f"{len(cells)} cells, {threads} threads, records in {args.out / 'records.jsonl'}", file=sys.stderr)
    failed = runner.run(cells, args.out, threads=threads, force=args.force, progress=not args.no_progress)
    written = report.write(args.out / "records.jsonl", args.out)
    print("tables: " + ", ".join(str(p) for p in written), file=sys.stderr)
    if failed:
        print(f"{failed} cell(s) failed; see the Failures section of {args.out / 'README.md'}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        if args.command == "report":
            from bench import report

            for p in report.write(args.out / "records.jsonl", args.out):
                print(p)
            return 0
        if args.threads is not None and args.threads < 1:
            raise ValueError(f"--threads must be at least 1, got {args.threads}")
        if args.command == "all":
            chosen = [
                suites.Suite(s.name, s.description, s.datasets, s.sizes, s.models, s.seeds, [args.device], s.model_params, s.tag)
                for s in suites.SUITES["all"]
            ]
            return _execute(chosen, args)
        if args.suite:
            chosen = suites.SUITES[args.suite]
        else:
            suites.check_names("dataset", args.datasets, datasets.NAMES)
            suites.check_names("model", args.models, models.NAMES)
            chosen = suites.custom(datasets_=args.datasets, sizes=args.n, models_=args.models, seeds=args.seeds, devices=[args.device])
        return _execute(chosen, args)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
