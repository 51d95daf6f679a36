"""The product's run commands: ``all`` (the main job), ``run`` (any grid or a named suite), ``sweep``
(learning curves, frequency sweep) and ``list``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import datasets
import models
from bench.cli.common import (
    RESULTS,
    add_executor_options,
    add_run_options,
    csv,
    execute,
    param,
    positive_ints,
    seeds,
)
from bench.run import suites


def add_parsers(sub) -> None:
    p_all = sub.add_parser(
        "all", help="the main job: every family on the seed's datasets, 5 seeds, every device; writes results/"
    )
    p_all.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help="'auto': every available device"
    )
    add_run_options(p_all, RESULTS)
    add_executor_options(p_all)

    p_run = sub.add_parser("run", help="a suite chosen on the command line, or a named one with --suite")
    p_run.add_argument(
        "--suite",
        choices=sorted(suites.SUITES),
        help="a named suite; --models and --datasets narrow it to some of its families and tables "
        "(e.g. to refresh one family after changing it, with --force); --n and --seeds are the suite's",
    )
    p_run.add_argument(
        "--datasets",
        type=csv,
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
        help="a CSV, TSV or Parquet file as a dataset (repeatable; each needs a --target); categorical columns and "
        "missing values are handled per family kind: see docs/real-data.md",
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
        type=csv,
        default=None,
        help=f"comma list from {', '.join(models.NAMES)}, or plug-ins: package.module:factory or a bench.models "
        "entry point (default: every built-in family)",
    )
    p_run.add_argument(
        "--n",
        type=positive_ints,
        default=[None],
        help="rows per dataset, comma list (default: 2000 generated; all rows of real data, which is capped at its rows)",
    )
    p_run.add_argument("--seeds", type=seeds, default=[0, 1, 2, 3, 4], help="comma list (default 0,1,2,3,4)")
    p_run.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p_run.add_argument(
        "--dataset-param",
        type=param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a generator parameter for every dataset, e.g. scale=37 or 'weights=[1,-0.5]' (repeatable)",
    )
    p_run.add_argument(
        "--model-param",
        type=param,
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
        "a rerun under the same or a smaller S does not retry it (--force does); implies --isolate "
        "(default: no limit; --suite real: 120)",
    )
    add_run_options(p_run, RESULTS / "runs")
    add_executor_options(p_run)

    sub.add_parser("list", help="datasets, models, suites")

    p_sweep = sub.add_parser(
        "sweep",
        help="learning curves (n 500..1M) and a frequency sweep; resumable; writes results/suites/sweep/ and figures",
    )
    p_sweep.add_argument(
        "--models",
        type=csv,
        default=None,
        help="only these families (e.g. to refresh one after changing it; use --force); default: every family",
    )
    add_run_options(p_sweep, RESULTS / "suites" / "sweep")
    add_executor_options(p_sweep)


def _list(args) -> int:
    print("datasets:", ", ".join(datasets.NAMES), "(generated);", ", ".join(datasets.REAL), "(real)")
    print("models:  ", ", ".join(models.available()))
    for name, parts in suites.SUITES.items():
        print(f"suite {name}: " + "; ".join(s.description for s in parts))
    return 0


def _sweep(args) -> int:
    return execute(suites.restrict(suites.SUITES["sweep"], args.models, None), args)


def _all(args) -> int:
    return execute([dataclasses.replace(s, devices=[args.device]) for s in suites.SUITES["all"]], args)


def _run(args) -> int:
    if args.suite:
        return execute(suites.restrict(suites.SUITES[args.suite], args.models, args.datasets), args)
    args.models = args.models or list(models.NAMES)
    files = _files(args.data, args.target)
    names = args.datasets if args.datasets is not None else ([] if files else list(datasets.SEED))
    suites.check_names("dataset", names, datasets.NAMES + datasets.REAL)
    models.check_names(args.models)
    dataset_params = dict(args.dataset_param)
    for name in names:  # the dataset's own checks, before any compute
        datasets.generate(name, n=2, seed=0, **dataset_params)
    model_params = _model_params(args.model_param, args.models)
    chosen = suites.custom(
        files=files,
        datasets_=names,
        sizes=args.n,
        models_=args.models,
        seeds=args.seeds,
        devices=[args.device],
        dataset_params=dataset_params,
        model_params=model_params,
    )
    return execute([dataclasses.replace(s, isolate=args.isolate) for s in chosen], args)


def _files(paths: list[Path], targets: list[str]) -> list[tuple[str, dict]]:
    """``--data``/``--target`` -> (name, params) of file datasets, each read and checked now."""
    from datasets import tables

    if targets and not paths:
        raise ValueError("--target names the label column of a --data file, and no --data was given")
    if paths and len(targets) not in (1, len(paths)):
        raise ValueError(f"{len(paths)} --data file(s) and {len(targets)} --target: give one for all, or one per file")
    out: list[tuple[str, dict]] = []
    for path, target in zip(paths, targets * len(paths) if len(targets) == 1 else targets):
        table = tables.read_file(path, target)
        if any(name == table.name for name, _ in out):
            raise ValueError(f"two --data files named {table.name!r}: rename one")
        out.append((table.name, {"path": str(path.resolve()), "target": target, "sha256": table.sha256}))
    return out


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


COMMANDS = {"all": _all, "run": _run, "sweep": _sweep, "list": _list}
