"""The gate's git work: commands, temporary worktrees, the baseline's commit."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import ROOT
from bench.records import store

BASE_ENV = "BENCH_BASE"  # overrides the A/B gate's default base (the commit of results/gate/baseline)
BASELINE = ROOT / "results" / "gate" / "baseline" / "records.jsonl"


class GateError(ValueError):
    """Bad input or a side that cannot run: exit code 2."""


def git(*args: str, cwd: Path = ROOT) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        raise GateError(
            f"git {' '.join(args)}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else 'failed'}"
        )
    return out.stdout.strip()


@contextmanager
def checkout(rev: str, into: Path, repo: Path = ROOT) -> Iterator[Path]:
    """A detached worktree of ``rev`` at ``into``, removed afterwards (also on SIGTERM/SIGHUP,
    which the command line turns into an exception)."""
    sha = git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", cwd=repo)
    git("worktree", "add", "--detach", "--force", str(into), sha, cwd=repo)
    try:
        yield into
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(into)], cwd=repo, capture_output=True)
        shutil.rmtree(into, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=repo, capture_output=True)


def baseline_commit(path: Path = BASELINE) -> str:
    """The commit that made the regression baseline (its last record's, ``-dirty`` dropped)."""
    if not path.exists():
        raise GateError(f"no --base given, ${BASE_ENV} unset, and no {path} to take its commit from")
    recs = store.load_foreign(path)
    if not recs or not recs[-1].get("commit"):
        raise GateError(f"{path} holds no record naming its commit")
    return str(recs[-1]["commit"]).removesuffix("-dirty")
