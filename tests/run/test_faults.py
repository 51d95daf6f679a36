"""A run killed anywhere loses and duplicates nothing, and touches no file but its own.

Kill points: 24 byte offsets inside an append (what a kill mid-write leaves: a prefix of the
file), and SIGKILLs of the whole run right after its k-th record, in-process and with isolated workers.
After each, a rerun must leave every cell exactly once, every record written before the kill
unchanged, and nothing outside the output folder but what was there.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bench.records import output
from bench.run import runner, suites
from tests.conftest import ROOT

OWN = {"records.jsonl", "records.jsonl.torn", output.MARKER, output.LOCK, "README.md", "accuracy.md", "throughput.md"}
SUITE = suites.Suite(
    "faults", "", [("sum_bin", {})], [120], ["xgboost", "mlp"], [0, 1, 2], ["cpu"],
    {"xgboost": {"params": {"n_estimators": 3}}, "mlp": {"max_epochs": 2, "width": 8}},
)  # fmt: skip
KEYS = {c.key for c in SUITE.cells()}
ARGS = [
    "run",
    "--datasets",
    "sum_bin",
    "--models",
    "xgboost,mlp",
    "--n",
    "200",
    "--seeds",
    "0,1,2,3",
    "--device",
    "cpu",
]

# Four groups of two seeds: the records file grows 2, 4, 6, 8 lines.
KILL_ARGS = [
    "run",
    "--datasets",
    "sum_bin,sum_mod",
    "--models",
    "xgboost,mlp",
    "--n",
    "200",
    "--seeds",
    "0,1",
    "--device",
    "cpu",
]


def _check(folder: Path, before: list[str], keys: set[str]) -> None:
    lines = (folder / "records.jsonl").read_text().splitlines()
    recs = [json.loads(x) for x in lines]
    assert lines[: len(before)] == before, "a record written before the kill changed or was lost"
    assert sorted(r["key"] for r in recs) == sorted(keys), "every cell exactly once"
    assert all(r["status"] == "ok" for r in recs)
    extra = {p.name for p in folder.iterdir() if p.is_file()} - OWN
    assert not extra, f"files bench does not own: {extra}"


def _survivors(pgid: int, seconds: float) -> bool:
    """True if processes of group ``pgid`` still run after ``seconds`` (they are then killed)."""
    for _ in range(int(seconds * 10)):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.1)
    os.killpg(pgid, signal.SIGKILL)
    return True


@pytest.mark.slow
def test_kills_during_appends(tmp_path):
    """The file cut at 24 random offsets (mid-line and on line ends), then the run resumed."""
    full = tmp_path / "full"
    runner.run(SUITE.cells(), full, runner.RunOptions(threads=1, progress=False))
    data = (full / "records.jsonl").read_bytes()
    ends = [i + 1 for i, b in enumerate(data) if b == ord("\n")]
    rng = np.random.default_rng(0)
    cuts = sorted(set(rng.integers(1, len(data), 20).tolist()) | set(ends[:4]))
    assert len(cuts) >= 20
    for i, cut in enumerate(cuts):
        folder = output.claim(tmp_path / f"cut{i}")
        (folder / "records.jsonl").write_bytes(data[:cut])
        whole = data[:cut].decode(errors="replace").split("\n")[:-1]
        runner.run(SUITE.cells(), folder, runner.RunOptions(threads=1, progress=False))
        _check(folder, whole, KEYS)
        tail = data[:cut].decode().split("\n")[-1]
        whole_record = tail.endswith("}") and tail == data.decode().split("\n")[len(whole)]
        torn = bool(tail) and not whole_record
        assert (folder / "records.jsonl.torn").exists() == torn, "a torn tail is kept aside, not deleted"
        if torn:
            assert (folder / "records.jsonl.torn").read_text() == tail + "\n"


def _wait_for_records(path: Path, k: int, proc: subprocess.Popen, limit_s: float = 600.0) -> int:
    """Block until ``path`` holds at least ``k`` whole lines (the event a kill waits for); the limit
    only turns a hung run into a failure, it never decides when the kill lands."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        count = path.read_bytes().count(b"\n") if path.exists() else 0
        if count >= k:
            return count
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before its record {k} ({count} written)")
        time.sleep(0.01)
    raise AssertionError(f"no record {k} within {limit_s:g} s")


@pytest.mark.slow
@pytest.mark.parametrize("isolate", [False, True], ids=["in-process", "isolated"])
def test_sigkill_on_the_kth_record(tmp_path, isolate):
    """The whole run killed right after its k-th record is written (k = 1, 3, 5 of 8; records come in
    groups of 2 seeds: events, not clock times, so a slow or fast machine kills at the same points),
    then rerun to the end."""
    sentinel = tmp_path / "user_file.txt"
    sentinel.write_text("mine\n")
    args = KILL_ARGS + (["--isolate"] if isolate else [])
    for k in (1, 3, 5):
        folder = tmp_path / f"run{k}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench", *args, "--out", str(folder), "--no-progress"],
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_for_records(folder / "records.jsonl", k, proc)
        proc.send_signal(signal.SIGKILL)  # the run only: an isolated worker must notice and exit by itself
        proc.wait()
        assert not _survivors(proc.pid, seconds=10), "a worker outlived the killed run"
        path = folder / "records.jsonl"
        before = path.read_text().split("\n")[:-1]  # whole lines only
        assert k <= len(before) < 8, f"killed after record {k}, found {len(before)}: the kill did not land mid-run"
        done = subprocess.run(
            [sys.executable, "-m", "bench", *args, "--out", str(folder), "--no-progress"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        keys = {json.loads(x)["key"] for x in (folder / "records.jsonl").read_text().splitlines()}
        assert len(keys) == 8
        _check(folder, before, keys)
        shutil.rmtree(folder / "figures", ignore_errors=True)
    assert sentinel.read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run1", "run3", "run5", "user_file.txt"]
