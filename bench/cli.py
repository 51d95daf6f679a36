"""Command line: ``python -m bench COMMAND``.

Commands: ``all`` (the main job), ``run`` (any grid or named suite), ``list``, ``report`` (tables
from records), ``sweep`` (learning curves, frequency sweep), ``figures`` (decision maps),
``baseline`` (the gate's reference), ``compare``, ``bisect``, ``history`` (the regression gates,
bench/gate_cli.py), ``gpu-check``, ``throughput`` (trainer speed). Exit codes: 0 done, 1 a cell
failed or a regression, 2 bad input, 3 an internal error of ``compare``, 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

import datasets
import models
from bench import ROOT, gate_cli, suites
from bench.output import one_line

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


def _seeds(text: str) -> list[int]:
    values = _ints(text)
    bad = [v for v in values if not 0 <= v < 2**32]
    if bad:
        raise argparse.ArgumentTypeError(f"seeds must be in 0 .. 2**32 - 1, got {bad}")
    if len(set(values)) < len(values):
        raise argparse.ArgumentTypeError(f"duplicate seeds in {text!r}: each seed would run the same cell twice")
    return values


def _param(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` with VALUE parsed as JSON where it parses (37, 0.5, [1, -0.5], true), else a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def _positive_ints(text: str) -> list[int]:
    values = _ints(text)
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return values


def _add_run_options(p: argparse.ArgumentParser, default_out: Path) -> None:
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


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line (and exit 2), not the usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="python -m bench",
        description="Compare model families on generated tabular datasets: held-out accuracy, train accuracy, "
        "fit and predict throughput on CPU and GPU. Each finished cell is one line in records.jsonl; "
        "tables are derived from the records. Interrupted runs resume where they stopped.",
    )
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_all = sub.add_parser(
        "all", help="the main job: every family on the seed's datasets, 5 seeds, every device; writes results/"
    )
    p_all.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help="'auto': every available device"
    )
    _add_run_options(p_all, RESULTS)

    p_run = sub.add_parser("run", help="a suite chosen on the command line, or a named one with --suite")
    p_run.add_argument(
        "--suite", choices=sorted(suites.SUITES), help="a named suite (ignores --datasets/--models/--n/--seeds)"
    )
    p_run.add_argument(
        "--datasets", type=_csv, default=list(datasets.NAMES), help=f"comma list from {', '.join(datasets.NAMES)}"
    )
    p_run.add_argument(
        "--models", type=_csv, default=list(models.NAMES), help=f"comma list from {', '.join(models.NAMES)}"
    )
    p_run.add_argument(
        "--n", type=_positive_ints, default=[2000], help="rows generated per dataset, comma list (default 2000)"
    )
    p_run.add_argument("--seeds", type=_seeds, default=[0, 1, 2, 3, 4], help="comma list (default 0,1,2,3,4)")
    p_run.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p_run.add_argument(
        "--dataset-param",
        type=_param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a generator parameter for every dataset, e.g. scale=37 or 'weights=[1,-0.5]' (repeatable)",
    )
    p_run.add_argument(
        "--model-param",
        type=_param,
        action="append",
        default=[],
        metavar="[MODEL.]KEY=VALUE",
        help="a hyperparameter, e.g. mlp.width=64, or max_epochs=50 for every model given (repeatable)",
    )
    p_run.add_argument("--isolate", action="store_true", help="each group in a child process; records peak memory")
    p_run.add_argument(
        "--cell-timeout",
        type=float,
        default=None,
        metavar="S",
        help="kill a cell's work after S seconds (per cell of a batched group) and record it as failed; "
        "implies --isolate (default: no limit)",
    )
    _add_run_options(p_run, RESULTS / "runs")

    sub.add_parser("list", help="datasets, models, suites")

    p_rep = sub.add_parser("report", help="rebuild the markdown tables from a records file")
    p_rep.add_argument("--out", type=Path, default=RESULTS, help="folder holding records.jsonl (default: %(default)s)")

    p_sweep = sub.add_parser(
        "sweep",
        help="learning curves (n 500..1M) and a frequency sweep; resumable; writes results/sweep/ and figures",
    )
    p_sweep.add_argument(
        "--models",
        type=_csv,
        default=None,
        help="only these families (e.g. to refresh one after changing it; use --force); default: every family",
    )
    _add_run_options(p_sweep, RESULTS / "sweep")

    p_fig = sub.add_parser(
        "figures", help="decision-region maps (fits every family once), then rebuild results/README.md"
    )
    p_fig.add_argument("--out", type=Path, default=RESULTS)
    p_fig.add_argument("--threads", type=int, default=None)

    p_base = sub.add_parser("baseline", help="refresh the regression baseline: the quick suite into results/baseline/")
    _add_run_options(p_base, RESULTS / "baseline")

    gate_cli.add_parsers(sub, RESULTS)

    p_gpu = sub.add_parser(
        "gpu-check",
        help="on a GPU machine: the CUDA tests, the gpu suite (cpu and cuda rows) and throughput on cuda, into one folder",
        description="The short list that proves the GPU path, for whoever has a GPU for a few minutes: "
        "tests/test_cuda.py, `run --suite gpu` (seed datasets, every family, 3 seeds, cpu and cuda) with its "
        "tables, and `throughput --device cuda`; everything under --out. Commit that folder as results/gpu/.",
    )
    _add_run_options(p_gpu, RESULTS / "gpu")

    p_tp = sub.add_parser("throughput", help="trainer speed vs the seed's loop and skorch; batched seeds vs sequential")
    p_tp.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p_tp.add_argument("--threads", type=int, default=None, help="default: free cores")
    p_tp.add_argument("--quick", action="store_true", help="a quarter of the work (for smoke tests)")
    p_tp.add_argument("--out", type=Path, default=RESULTS / "trainer_throughput.md")
    return ap


def _list() -> int:
    print("datasets:", ", ".join(datasets.NAMES))
    print("models:  ", ", ".join(models.NAMES))
    for name, parts in suites.SUITES.items():
        print(f"suite {name}: " + "; ".join(s.description for s in parts))
    return 0


def write_report(out: Path) -> list[Path]:
    """Figures drawn from the records of ``out`` (and its sub-folders), then the tables and page."""
    from bench import history, plots, report

    df, extra = report.load(out)
    figures = plots.from_records(df, extra, out / "figures")
    figures += plots.history(*history.load(out / "history"), out / "figures")
    figures += sorted(p for p in (out / "figures").glob("decision_regions_*.png") if p not in figures)
    return report.write(out, df, extra, figures)


def _execute(suite_list: list[suites.Suite], args) -> int:
    from bench import output, runner
    from bench.timing import choose_threads, pin_threads

    timeout = getattr(args, "cell_timeout", None)
    if timeout is not None and not (0 < timeout < math.inf):
        raise ValueError(f"--cell-timeout must be a positive number of seconds, got {timeout}")
    cells = [s.cells() for s in suite_list]  # checks devices (cuda present?) before any work
    out = output.claim(args.out)
    with output.lock(out):
        threads = pin_threads(choose_threads(args.threads))
        print(f"{sum(map(len, cells))} cells, {threads} threads, records in {out / 'records.jsonl'}", file=sys.stderr)
        before = _record_lines(out)
        failed = 0
        try:
            for s, suite_cells in zip(suite_list, cells):
                failed += runner.run(
                    suite_cells,
                    out,
                    threads=threads,
                    force=args.force,
                    progress=not args.no_progress,
                    batch_seeds=s.batch_seeds,
                    isolate=s.isolate,
                    cell_timeout=timeout,
                )
        except KeyboardInterrupt:
            raise Interrupted(_record_lines(out) - before) from None
        written = write_report(out)
    print("tables: " + ", ".join(str(p) for p in written), file=sys.stderr)
    if failed:
        print(f"{failed} cell(s) failed; see the Failures section of {args.out / 'README.md'}", file=sys.stderr)
    return 1 if failed else 0


class Interrupted(Exception):
    """Ctrl-C during a run; ``recorded`` cells were written before it (all kept)."""

    def __init__(self, recorded: int) -> None:
        super().__init__(f"interrupted: {recorded} cells recorded, rerun to resume")


def _record_lines(out: Path) -> int:
    path = out / "records.jsonl"
    return path.read_bytes().count(b"\n") if path.is_file() else 0


def _throughput(args) -> int:
    from bench import output, throughput
    from bench.timing import choose_threads, pin_threads

    output.check_new_file(args.out, inputs=[], what="--out")
    pin_threads(choose_threads(args.threads))
    rows = throughput.run(device=args.device, quick=args.quick)
    print(throughput.write(rows, args.out).read_text())
    return 0


def _report(args) -> int:
    from bench import output

    if not output.owned(args.out):
        raise ValueError(f"--out {args.out} is not a bench output folder (no {output.MARKER} file)")
    for p in write_report(args.out):
        print(p)
    return 0


def _figures(args) -> int:
    from bench import output, plots
    from bench.timing import choose_threads, pin_threads

    output.claim(args.out)
    threads = pin_threads(choose_threads(args.threads))
    (args.out / "figures").mkdir(parents=True, exist_ok=True)
    for p in plots.decision_regions(args.out / "figures", threads=threads):
        print(p)
    write_report(args.out)
    return 0


def _sweep(args) -> int:
    chosen = suites.SUITES["sweep"]
    if args.models:
        suites.check_names("model", args.models, models.NAMES)
        chosen = [dataclasses.replace(s, models=[m for m in s.models if m in args.models]) for s in chosen]
        chosen = [s for s in chosen if s.models]
    return _execute(chosen, args)


def _baseline(args) -> int:
    args.threads = args.threads or 1  # one thread: the steadiest timings, and what CI's gate run uses
    return _execute(suites.SUITES["quick"], args)


def _all(args) -> int:
    return _execute([dataclasses.replace(s, devices=[args.device]) for s in suites.SUITES["all"]], args)


def _run(args) -> int:
    if args.suite:
        return _execute(suites.SUITES[args.suite], args)
    suites.check_names("dataset", args.datasets, datasets.NAMES)
    suites.check_names("model", args.models, models.NAMES)
    dataset_params = dict(args.dataset_param)
    for name in args.datasets:  # the generator's own checks, before any compute
        datasets.generate(name, n=2, seed=0, **dataset_params)
    model_params = _model_params(args.model_param, args.models)
    chosen = suites.custom(
        datasets_=args.datasets,
        sizes=args.n,
        models_=args.models,
        seeds=args.seeds,
        devices=[args.device],
        dataset_params=dataset_params,
        model_params=model_params,
    )
    return _execute([dataclasses.replace(s, isolate=args.isolate) for s in chosen], args)


def _gpu_check(args) -> int:
    import subprocess

    import torch

    from bench import output

    if not torch.cuda.is_available():
        raise ValueError("gpu-check: no CUDA device here (torch.cuda.is_available() is False)")
    out = output.claim(args.out)
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_cuda.py", "-m", "slow or not slow", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    (out / "test_cuda.log").write_text(tests.stdout + tests.stderr)
    print(f"tests/test_cuda.py: exit {tests.returncode} (log in {out / 'test_cuda.log'})", file=sys.stderr)
    status = _execute(suites.SUITES["gpu"], args)
    args.device, args.quick, args.out = "cuda", False, out / "throughput_cuda.md"
    status = max(status, _throughput(args))
    return 1 if tests.returncode or status else 0


def _model_params(pairs: list[tuple[str, object]], names: list[str]) -> dict[str, dict]:
    """``[MODEL.]KEY=VALUE`` pairs -> per-model parameters, each checked by ``models.create``."""
    out: dict[str, dict] = {name: {} for name in names}
    for key, value in pairs:
        model, dot, param = key.rpartition(".")
        if dot and model not in names:
            raise ValueError(f"--model-param {key}: {model!r} is not among --models ({', '.join(names)})")
        for name in [model] if dot else names:
            out[name][param] = value
    for name, params in out.items():
        models.create(name, **params)  # unknown parameters: a clear error naming the valid ones
    return {name: params for name, params in out.items() if params}


COMMANDS = gate_cli.COMMANDS | {
    "gpu-check": _gpu_check,
    "all": _all,
    "run": _run,
    "list": lambda args: _list(),
    "report": _report,
    "sweep": _sweep,
    "figures": _figures,
    "baseline": _baseline,
    "throughput": _throughput,
}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if getattr(args, "threads", None) is not None and args.threads < 1:
            raise ValueError(f"--threads must be at least 1, got {args.threads}")
        return COMMANDS[args.command](args)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"bench: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
