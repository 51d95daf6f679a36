"""The gate over many commits: ``bench bisect GOOD BAD`` and ``bench history``.

``bisect`` finds the first commit between GOOD and BAD that the A/B gate (bench.gate) calls a
regression against GOOD (as asv's ``find``). ``history`` measures the gate's cells once on each
of a range of past commits (each in its own worktree and process) and keeps their records and
the commit order under ``results/gate/history/`` for the trend figures on the results page.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import ROOT
from bench.gate.ab import GATE_ARGS, run_gate, run_side
from bench.gate.git import GateError, checkout, git
from bench.records import schema, store


def commits_between(good: str, bad: str, repo: Path = ROOT) -> list[str]:
    """Commits after ``good`` up to and including ``bad``, oldest first (first-parent line)."""
    out = git("rev-list", "--first-parent", "--reverse", f"{good}..{bad}", cwd=repo)
    if not out:
        raise GateError(f"no commits between {good} and {bad}")
    return out.splitlines()


def bisect(
    good: str,
    bad: str,
    *,
    repo: Path = ROOT,
    run: Callable[[Path, Path], object] | None = None,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> tuple[str, list[tuple[str, bool]]]:
    """The first commit in ``good..bad`` that regresses against ``good``; and each commit tested."""
    run = run or (lambda base, head: run_gate(base, head, progress=lambda _: None)[0])
    commits = commits_between(good, bad, repo)
    tested: list[tuple[str, bool]] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-bisect-") as tmp,
        checkout(good, Path(tmp) / "good", repo) as good_dir,
    ):

        def regressed(i: int) -> bool:
            with checkout(commits[i], Path(tmp) / f"c{i}", repo) as head_dir:
                table = run(good_dir, head_dir)
            verdict = bool((table.verdict == "REGRESSION").any())
            tested.append((commits[i], verdict))
            progress(f"bisect: {commits[i][:12]} {'regressed' if verdict else 'clean'}")
            return verdict

        if not regressed(len(commits) - 1):
            raise GateError(f"{bad} shows no regression against {good}: nothing to bisect")
        lo, hi = 0, len(commits) - 1  # commits[hi] regressed; the first such is in [lo, hi]
        while lo < hi:
            mid = (lo + hi) // 2
            if regressed(mid):
                hi = mid
            else:
                lo = mid + 1
    return commits[lo], tested


def measure_history(
    revs: list[str],
    out: Path,
    *,
    repo: Path = ROOT,
    cell_args: tuple[str, ...] = GATE_ARGS,
    force: bool = False,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> list[dict]:
    """Run the cells once on each commit (oldest first); records appended to ``out/records.jsonl``
    and the order to ``out/commits.json``. Commits already measured are skipped unless ``force``."""
    order_path = out / "commits.json"
    order = json.loads(order_path.read_text()) if order_path.exists() else []
    done = {c["sha"] for c in order}
    store.set_aside_torn(out / "records.jsonl", schema.check_foreign)
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        for i, rev in enumerate(revs):
            sha = git("rev-parse", rev, cwd=repo)
            if sha in done and not force:
                continue
            subject = git("log", "-1", "--format=%s", sha, cwd=repo)
            with checkout(sha, Path(tmp) / f"c{i}", repo) as checkout_dir:
                try:
                    recs = run_side(sha[:12], checkout_dir, Path(tmp) / f"out{i}", cell_args)
                except GateError as exc:
                    progress(f"history: {sha[:12]} could not run ({exc}); left out")
                    continue
            for r in recs:
                store.append_line(out / "records.jsonl", r | {"history_sha": sha})
            order = [c for c in order if c["sha"] != sha] + [{"sha": sha, "subject": subject[:80]}]
            store.write_atomic(order_path, json.dumps(order, indent=1) + "\n")
            progress(f"history: {sha[:12]} {subject[:60]}: {len(recs)} records")
    return order


def revisions(spec: str | None, count: int, repo: Path = ROOT) -> list[str]:
    """``A..B`` -> its first-parent commits, oldest first; else the last ``count`` commits of HEAD."""
    if spec:
        if ".." not in spec:
            raise GateError(f"expected REV..REV, got {spec!r}")
        return commits_between(*spec.split("..", 1), repo=repo)
    return git("rev-list", "--first-parent", "--reverse", f"--max-count={count}", "HEAD", cwd=repo).splitlines()


def load(folder: Path) -> tuple[list[dict], list[dict]]:
    """History records (as each commit wrote them, read with the lenient rule) and the commit order."""
    path, order_path = folder / "records.jsonl", folder / "commits.json"
    if not path.exists() or not order_path.exists():
        return [], []
    return store.load_foreign(path), json.loads(order_path.read_text())
