"""What the commands share: argument types, the run and executor options, and running suites.

``execute`` is the one path from suites to records and tables: it checks every option before any
folder is made, claims and locks the output folder, runs the suites (here, isolated or on Ray) and
writes the report.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from pathlib import Path

from bench import ROOT
from bench.records import output
from bench.run import suites

RESULTS = ROOT / "results"


def csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def ints(text: str) -> list[int]:
    try:
        values = [int(t) for t in csv(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def seeds(text: str) -> list[int]:
    values = ints(text)
    bad = [v for v in values if not 0 <= v < 2**32]
    if bad:
        raise argparse.ArgumentTypeError(f"seeds must be in 0 .. 2**32 - 1, got {bad}")
    if len(set(values)) < len(values):
        raise argparse.ArgumentTypeError(f"duplicate seeds in {text!r}: each seed would run the same cell twice")
    return values


def param(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` with VALUE parsed as JSON where it parses (37, 0.5, [1, -0.5], true), else a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def positive_ints(text: str) -> list[int]:
    values = ints(text)
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return values


def add_run_options(p: argparse.ArgumentParser, default_out: Path) -> None:
    p.add_argument(
        "--out", type=Path, default=default_out, help="folder for records.jsonl and tables (default: %(default)s)"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for every family (default: free cores now; more than the usable cores is capped)",
    )
    p.add_argument("--force", action="store_true", help="recompute cells that already have a record")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def add_executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="local: this process (default); ray: each group of cells a Ray task (pip install '.[ray]'); "
        "threads per cell default to 1 there",
    )
    p.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDRESS",
        help="with --executor ray: 'auto' joins the cluster `ray start` made here, ray://host:10001 a remote "
        "one; default: a private Ray on this machine, on 127.0.0.1 only",
    )


class Parser(argparse.ArgumentParser):
    """Bad arguments: one line (and exit 2), not the usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def execute(suite_list: list[suites.Suite], args) -> int:
    """Run ``suite_list`` into ``args.out`` with the run and executor options of ``args``; then the report.

    Every option is checked before the output folder is made or any compute starts."""
    from bench.report.page import write_report
    from bench.run import runner
    from bench.run.timing import choose_threads, pin_threads

    timeout = getattr(args, "cell_timeout", None)
    on_ray = getattr(args, "executor", "local") == "ray"
    runner.RunOptions(threads=args.threads or 1, cell_timeout=timeout)  # checks threads and timeout now
    if getattr(args, "ray_address", None) and not on_ray:
        raise ValueError("--ray-address needs --executor ray")
    if on_ray:
        from bench.run import ray_executor

        ray_executor.check_options(args.ray_address)
        runner.check_sizes([c for s in suite_list for c in s.cells(cuda=True)])  # devices are the cluster's
    else:
        cells = [s.cells() for s in suite_list]  # checks devices (cuda present?) before any work
        runner.check_sizes([c for group in cells for c in group])
    out = output.claim(args.out)
    with output.lock(out), _executor(args) as executor:
        if on_ray:
            cells = [s.cells(cuda=executor.has_gpu()) for s in suite_list]
            threads = args.threads or 1  # cells run side by side: one core each unless asked
        else:
            threads = pin_threads(choose_threads(args.threads))
        where = f" on {executor.describe()} (started in {executor.startup_s:.1f} s)" if on_ray else ""
        print(
            f"{sum(map(len, cells))} cells, {threads} threads{where}, records in {out / 'records.jsonl'}",
            file=sys.stderr,
        )
        before = _record_lines(out)
        failed = 0
        try:
            for s, suite_cells in zip(suite_list, cells):
                options = runner.RunOptions(
                    threads=threads,
                    force=args.force,
                    progress=not args.no_progress,
                    batch_seeds=s.batch_seeds,
                    isolate=s.isolate,
                    cell_timeout=timeout if timeout is not None else s.cell_timeout,
                )
                failed += runner.run(suite_cells, out, options, executor)
        except KeyboardInterrupt as exc:
            raise Interrupted(_record_lines(out) - before, exc) from None
        written = write_report(out)
    print("tables: " + ", ".join(str(p) for p in written), file=sys.stderr)
    if failed:
        print(f"{failed} cell(s) failed; see the Failures section of {args.out / 'README.md'}", file=sys.stderr)
    return 1 if failed else 0


def _executor(args):
    """The Ray executor for ``--executor ray`` (started here, stopped on exit); else a null context."""
    if getattr(args, "executor", "local") != "ray":
        return contextlib.nullcontext()
    from bench.run.ray_executor import RayExecutor

    return RayExecutor(args.ray_address)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, turned into an exception so that every cleanup Ctrl-C runs runs too."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(exc: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 128 + the signal's number for SIGTERM / SIGHUP (as a shell reports them)."""
    return 128 + (exc.signum if isinstance(exc, Terminated) else signal.SIGINT)


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM, SIGHUP) during a run; ``recorded`` cells were written before it (all kept)."""

    def __init__(self, recorded: int, cause: KeyboardInterrupt) -> None:
        what = f"terminated ({cause.args[0]})" if isinstance(cause, Terminated) else "interrupted"
        super().__init__(f"{what}: {recorded} cells recorded, rerun to resume")
        self.code = exit_code(cause)


def _record_lines(out: Path) -> int:
    path = out / "records.jsonl"
    return path.read_bytes().count(b"\n") if path.is_file() else 0
