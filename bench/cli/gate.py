"""The regression gate's commands: ``baseline`` (the gate's reference records), ``compare`` (saved
records, or A/B of two commits), ``bisect`` and ``history``. Exit 0 clean, 1 regression, 2 bad
input (a side that cannot run included), 3 internal error of the gate (never mistaken for a
regression)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench import ROOT
from bench.cli.common import RESULTS, add_run_options, execute
from bench.gate.git import BASE_ENV, baseline_commit
from bench.records import output
from bench.records.output import one_line
from bench.run import suites


def add_parsers(sub) -> None:
    results = RESULTS
    p = sub.add_parser("baseline", help="refresh the regression baseline: the quick suite into results/gate/baseline/")
    add_run_options(p, RESULTS / "gate" / "baseline")

    p = sub.add_parser(
        "compare",
        help="regression gate: A/B of two commits (--base), or two saved record sets",
        description="A/B (`--base REV`): base and head run the gate's cells in interleaved rounds, each side in a "
        "fresh process; times are paired by round (one-sided Wilcoxon signed-rank p <= 0.05 and median ratio >= "
        "1.10), held-out accuracy by seed (p <= 0.05 and mean drop >= 0.005); ambiguous rows get more rounds "
        "within --budget-s. Saved records (`compare BASELINE CURRENT`): per cell, Mann-Whitney U over seeds and a "
        "minimum effect (accuracy -0.02, fit time +50%, predict throughput -50%, CPU times calibrated). "
        "Exit 0 clean, 1 regression, 2 bad input, 3 internal error.",
    )
    p.add_argument("baseline", type=Path, nargs="?", help="records file or folder (saved-records mode)")
    p.add_argument("current", type=Path, nargs="?", help="records file or folder (saved-records mode)")
    p.add_argument(
        "--base",
        nargs="?",
        const="",
        metavar="REV",
        help=f"A/B mode against REV (default: ${BASE_ENV}, else the commit that made results/baseline)",
    )
    p.add_argument("--head", metavar="REV", help="A/B head (default: the working tree, uncommitted changes included)")
    p.add_argument("--budget-s", type=float, default=1800.0, help="A/B: stop adding rounds past this (default 1800)")
    p.add_argument("--min-rounds", type=int, default=5, help="A/B: rounds always run (default 5, at least 5)")
    p.add_argument("--max-rounds", type=int, default=12, help="A/B: rounds at most (default 12)")
    p.add_argument("--markdown", type=Path, help="also write the table to this file")
    p.add_argument(
        "--github-json",
        type=Path,
        metavar="DIR",
        help="write github-action-benchmark inputs for the head/CURRENT: DIR/accuracy.json, DIR/times.json",
    )

    p = sub.add_parser(
        "bisect",
        help="the first commit in GOOD..BAD that the A/B gate calls a regression against GOOD",
        description="Binary search over the first-parent commits of GOOD..BAD; each step is an A/B gate run "
        "(worktrees, interleaved rounds) of that commit against GOOD. Exit 0 found, 2 bad input or nothing to find.",
    )
    p.add_argument("good")
    p.add_argument("bad")

    p = sub.add_parser(
        "history",
        help="measure the gate's cells on past commits into results/gate/history/, for the trend figures",
    )
    p.add_argument("--commits", type=int, default=8, help="the last N commits of HEAD (default 8)")
    p.add_argument("--range", metavar="REV..REV", help="these commits instead")
    p.add_argument("--out", type=Path, default=results / "gate" / "history")
    p.add_argument("--force", action="store_true", help="measure commits already in the history again")


def _baseline(args) -> int:
    args.threads = args.threads or 1  # one thread: the steadiest timings, and what CI's gate run uses
    return execute(suites.SUITES["quick"], args)


def _write_outputs(args, text: str, github: dict[str, list[dict]] | None) -> None:
    if args.markdown:
        args.markdown.write_text(text + "\n")
    if args.github_json and github is not None:
        (args.github_json / "accuracy.json").write_text(json.dumps(github["customBiggerIsBetter"], indent=1))
        (args.github_json / "times.json").write_text(json.dumps(github["customSmallerIsBetter"], indent=1))


def _check_outputs(args, inputs: list[Path]) -> None:
    if args.markdown:
        output.check_new_file(args.markdown, inputs=inputs, what="--markdown")
    if args.github_json:
        if any(Path(args.github_json).resolve() in (Path(p).resolve(), Path(p).resolve().parent) for p in inputs):
            raise ValueError(f"--github-json {args.github_json} holds an input; choose another folder")
        output.claim(args.github_json)


def _records_mode(args) -> tuple[str, bool, dict]:
    from bench.gate import saved

    if args.baseline is None or args.current is None:
        raise ValueError("give BASELINE and CURRENT records, or --base REV for the A/B gate")
    _check_outputs(args, [args.baseline, args.current])
    table, machines = saved.compare(args.baseline, args.current)
    regressed = bool((table.verdict == "REGRESSION").any())
    return saved.markdown(table, machines), regressed, saved.github_benchmark_json(args.current)


def _ab_mode(args) -> tuple[str, bool, dict]:
    from bench.gate import ab
    from bench.gate.git import checkout, git
    from bench.records import machine

    if args.baseline is not None:
        raise ValueError("--base (A/B) takes no BASELINE/CURRENT records")
    if not 5 <= args.min_rounds <= args.max_rounds:
        raise ValueError(f"need 5 <= --min-rounds <= --max-rounds, got {args.min_rounds} and {args.max_rounds}")
    _check_outputs(args, [])
    base = args.base or os.environ.get(BASE_ENV) or baseline_commit()
    start = time.monotonic()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-ab-")))
        base_dir = stack.enter_context(checkout(base, tmp / "base"))
        head_dir = stack.enter_context(checkout(args.head, tmp / "head")) if args.head else ROOT
        table, rounds = ab.run_gate(
            base_dir, head_dir, min_rounds=args.min_rounds, max_rounds=args.max_rounds, budget_s=args.budget_s
        )
    m = machine.machine(1)
    info = {
        "base": f"{base} ({git('rev-parse', '--short=12', base)})",
        "head": args.head or f"working tree ({machine.git_commit()})",
        "rounds": f"{len(rounds)} (order per round: {', '.join('/'.join(r['order']) for r in rounds)})",
        "machine": f"{m['cpu']}, {m['usable_cores']} usable cores, 1 thread per side",
        "gate wall time": f"{time.monotonic() - start:.0f} s",
    }
    regressed = bool((table.verdict == "REGRESSION").any())
    return ab.markdown(table, info), regressed, ab.github_benchmark_json(rounds)


def compare_command(args) -> int:
    try:
        text, regressed, github = (_ab_mode if args.base is not None else _records_mode)(args)
        print(text)
        _write_outputs(args, text, github)
    except (ValueError, OSError) as exc:  # CompareError and GateError are ValueErrors
        print(f"bench compare: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not a regression: never exit 1 for it
        print(f"bench compare: internal error: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return 3
    return 1 if regressed else 0


def bisect_command(args) -> int:
    from bench.gate import history
    from bench.gate.git import git

    first, tested = history.bisect(args.good, args.bad)
    subject = git("log", "-1", "--format=%s", first)
    print(f"first regressed commit: {first[:12]} {subject}")
    print(f"tested {len(tested)}: " + ", ".join(f"{sha[:12]} {'regressed' if bad else 'clean'}" for sha, bad in tested))
    return 0


def history_command(args) -> int:
    from bench.gate import history

    out = output.claim(args.out)
    with output.lock(out):
        order = history.measure_history(history.revisions(args.range, args.commits), out, force=args.force)
    print(f"{len(order)} commits in {out / 'commits.json'}; `python -m bench report` draws the trend figures")
    return 0


COMMANDS = {"baseline": _baseline, "compare": compare_command, "bisect": bisect_command, "history": history_command}
