"""Command line: ``python -m bench COMMAND``.

Commands: ``all`` (the main job), ``run`` (any grid or named suite), ``list``, ``report`` (tables
from records), ``sweep`` (learning curves, frequency sweep), ``figures`` (decision maps),
``baseline`` (the gate's reference), ``compare``, ``bisect``, ``history`` (the regression gates,
bench/gate_cli.py), ``gpu-check``, ``throughput`` (trainer speed). Exit codes: 0 done, 1 a cell
failed or a regression, 2 bad input, 3 an internal error of ``compare``, 130 Ctrl-C.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import datasets
import models
from bench import ROOT, cli_parser, gate_cli, suites
from bench.output import one_line

RESULTS = cli_parser.RESULTS


def _list() -> int:
    print("datasets:", ", ".join(datasets.NAMES), "(generated);", ", ".join(datasets.REAL), "(real)")
    print("models:  ", ", ".join(models.available()))
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
    on_ray = getattr(args, "executor", "local") == "ray"
    if on_ray and timeout is not None:
        raise ValueError("--cell-timeout works with --executor local only (a Ray task is isolated already)")
    if getattr(args, "ray_address", None) and not on_ray:
        raise ValueError("--ray-address needs --executor ray")
    if not on_ray:
        cells = [s.cells() for s in suite_list]  # checks devices (cuda present?) before any work
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
                failed += runner.run(
                    suite_cells,
                    out,
                    threads=threads,
                    force=args.force,
                    progress=not args.no_progress,
                    batch_seeds=s.batch_seeds,
                    isolate=s.isolate,
                    cell_timeout=timeout,
                    executor=executor,
                )
        except KeyboardInterrupt:
            raise Interrupted(_record_lines(out) - before) from None
        written = write_report(out)
    print("tables: " + ", ".join(str(p) for p in written), file=sys.stderr)
    if failed:
        print(f"{failed} cell(s) failed; see the Failures section of {args.out / 'README.md'}", file=sys.stderr)
    return 1 if failed else 0


def _executor(args):
    """The Ray executor for ``--executor ray`` (started here, stopped on exit); else a null context."""
    import contextlib

    if getattr(args, "executor", "local") != "ray":
        return contextlib.nullcontext()
    from bench.ray_executor import RayExecutor

    return RayExecutor(args.ray_address)


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
    # One polynomial-phase dataset of the structure suite, the families of that suite.
    structure = suites.SUITES["structure"][0]
    for p in plots.decision_regions(
        args.out / "figures", threads=threads, data=(structure.datasets[0],), names=tuple(structure.models)
    ):
        print(p)
    write_report(args.out)
    return 0


def _sweep(args) -> int:
    chosen = suites.SUITES["sweep"]
    if args.models:
        suites.check_names("model", args.models, models.NAMES)  # the sweep's built-in families
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
    return _execute([dataclasses.replace(s, isolate=args.isolate) for s in chosen], args)


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
    args = cli_parser.parser().parse_args(argv)
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
