"""Command line: ``python -m bench COMMAND``; one module per command group, parser and handler together.

Commands: ``all`` (the main job), ``run`` (any grid or named suite), ``sweep``, ``list``
(bench/cli/run.py); ``report`` (tables from records; bench/cli/report.py); ``baseline``,
``compare``, ``bisect``, ``history`` (the regression gate; bench/cli/gate.py); ``export`` (a leaderboard's per-split rows; bench/cli/export.py). Measurements of
bench itself are studies: ``python -m bench.studies.<name>``. Exit codes: 0 done, 1 a cell failed
or a regression, 2 bad input, 3 an internal error of ``compare``, 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP.
"""

from __future__ import annotations

import argparse
import signal
import sys

from bench.cli import export, gate, report, run
from bench.cli.common import Interrupted, Parser, Terminated, exit_code
from bench.records.output import one_line

GROUPS = (run, report, gate, export)
COMMANDS = {name: handler for group in GROUPS for name, handler in group.COMMANDS.items()}


def parser() -> argparse.ArgumentParser:
    ap = Parser(
        prog="python -m bench",
        description="Compare model families on generated tabular datasets: held-out accuracy, train accuracy, "
        "fit and predict throughput on CPU and GPU. Each finished cell is one line in records.jsonl; "
        "tables are derived from the records. Interrupted runs resume where they stopped. "
        "Measurements of bench itself: python -m bench.studies.<name> --help.",
    )
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_parsers(sub)
    return ap


def _raise_terminated(signum, frame) -> None:
    raise Terminated(signum)


def handle_signals() -> None:
    """SIGTERM and SIGHUP end bench like Ctrl-C: every cleanup (children, worktrees, temporary
    folders, the run lock) runs, finished records stay, and the exit code names the signal."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_terminated)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handle_signals()
    try:
        if getattr(args, "threads", None) is not None and args.threads < 1:
            raise ValueError(f"--threads must be at least 1, got {args.threads}")
        return COMMANDS[args.command](args)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"bench: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt as exc:
        print(
            f"bench: {'terminated (' + exc.args[0] + ')' if isinstance(exc, Terminated) else 'interrupted'}",
            file=sys.stderr,
        )
        return exit_code(exc)
