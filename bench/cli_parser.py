"""The command line's parser: every command, option and its help (handlers are in bench/cli.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import datasets
import models
from bench import ROOT, gate_cli, suites

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


def _add_executor_options(p: argparse.ArgumentParser) -> None:
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
    _add_executor_options(p_all)

    p_run = sub.add_parser("run", help="a suite chosen on the command line, or a named one with --suite")
    p_run.add_argument(
        "--suite", choices=sorted(suites.SUITES), help="a named suite (ignores --datasets/--models/--n/--seeds)"
    )
    p_run.add_argument(
        "--datasets",
        type=_csv,
        default=None,
        help=f"comma list from {', '.join(datasets.NAMES + datasets.REAL)} (default: {','.join(datasets.SEED)}, "
        "or none when --data is given)",
    )
    p_run.add_argument(
        "--data",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="a CSV, TSV or Parquet file as a dataset (repeatable; each needs a --target); categorical columns "
        "one-hot, missing values refused: see the README",
    )
    p_run.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="COLUMN",
        help="the label column of each --data file (one --target for all, or one per --data, in order)",
    )
    p_run.add_argument(
        "--models",
        type=_csv,
        default=list(models.NAMES),
        help=f"comma list from {', '.join(models.NAMES)}, or plug-ins: package.module:factory or a bench.models "
        "entry point (default: every built-in family)",
    )
    p_run.add_argument(
        "--n",
        type=_positive_ints,
        default=[None],
        help="rows per dataset, comma list (default: 2000 generated; all rows of real data, which is capped at its rows)",
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
    _add_executor_options(p_run)

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
    _add_executor_options(p_sweep)

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
