"""The A/B gate: decisions on synthetic numbers; orchestration, bisect and history on a scratch
repository whose `bench` is a stand-in that writes deterministic timings (no real clock involved)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.gate import ab, history, stats
from bench.gate import git as gate_git
from bench.gate.git import GateError, checkout
from tests.conftest import ROOT, git, scratch_repo

# --- decisions ------------------------------------------------------------------------------


def _rounds(rng, n, slowdown=1.0, noise=0.05, drift=0.3):
    """Paired times: a shared per-round drift (what interleaving cancels) and per-run noise."""
    spell = np.exp(rng.normal(0, drift, n))  # slow spells of a shared machine, up to ~1.8x
    base = spell * np.exp(rng.normal(0, noise, n))
    head = slowdown * spell * np.exp(rng.normal(0, noise, n))
    return base, head


def test_same_code_is_rarely_a_regression():
    rng = np.random.default_rng(0)
    verdicts = [stats.judge_times(*_rounds(rng, 5)).verdict for _ in range(200)]
    assert verdicts.count("REGRESSION") <= 2, verdicts.count("REGRESSION")


def test_a_20_percent_slowdown_is_caught_and_its_ratio_estimated():
    rng = np.random.default_rng(1)
    decisions = [stats.judge_times(*_rounds(rng, 6, slowdown=1.2)) for _ in range(200)]
    assert sum(d.verdict == "REGRESSION" for d in decisions) >= 180
    assert 1.15 < np.median([d.effect for d in decisions]) < 1.25
    inside = [d.low <= 1.2 <= d.high for d in decisions]
    assert np.mean(inside) > 0.9  # the interval covers the true ratio


def test_speedups_near_threshold_cases_and_too_few_rounds():
    rng = np.random.default_rng(2)
    assert stats.judge_times(*_rounds(rng, 6, slowdown=0.7)).verdict == "improved"
    assert stats.judge_times(*_rounds(rng, 6, slowdown=1.1, noise=0.2)).verdict in ("ambiguous", "REGRESSION", "ok")
    assert stats.judge_times(np.ones(4), np.full(4, 2.0)).verdict == "too few rounds"
    same = stats.judge_times(np.ones(5), np.ones(5))
    assert same.verdict == "ok" and same.effect == 1.0 and same.p == 1.0


def test_accuracy_is_paired_by_seed():
    base = np.array([0.97, 0.98, 0.96, 0.99, 0.97, 0.98])
    assert stats.judge_accuracy(base, base).verdict == "unchanged"
    drop = stats.judge_accuracy(base, base - 0.01)
    assert drop.verdict == "REGRESSION" and drop.effect == pytest.approx(-0.01)
    assert stats.judge_accuracy(base, base - 0.002).verdict == "ok"  # significant but below the minimum
    assert stats.judge_accuracy(base, base + [0.01, -0.01, 0.01, -0.01, 0.0, 0.0]).verdict == "ok"


def test_median_interval_is_exact_order_statistics():
    x = np.arange(1.0, 21.0)
    assert stats.median_ci(x) == (6.0, 15.0)  # coverage 1 - 2 P(Bin(20, 1/2) <= 5) = 0.959
    assert stats.median_ci(x[:5]) == (1.0, 5.0)


def test_decide_pairs_by_round_and_reports_each_ratio():
    cell = ("d", "{}", 10, "m", "{}", "cpu")
    rounds = [
        {
            "base": {cell: {"status": "ok", "fit_s": 1.0, "predict_s": 0.1, "test_acc": {0: 0.9, 1: 0.8}}},
            "head": {
                cell: {"status": "ok", "fit_s": 1.0 + 0.3 + 0.01 * i, "predict_s": 0.1, "test_acc": {0: 0.9, 1: 0.8}}
            },
        }
        for i in range(5)
    ]
    table = ab.decide(rounds).set_index("metric")
    assert table.loc["fit time (head/base)", "verdict"] == "REGRESSION"
    assert table.loc["fit time (head/base)", "per-round ratios"] == "1.30 1.31 1.32 1.33 1.34"
    assert table.loc["predict time (head/base)", "verdict"] == "ok"
    assert table.loc["held-out acc (head − base)", "verdict"] == "unchanged"


# --- a scratch repository -------------------------------------------------------------------

FAKE_MAIN = """
import json, pathlib, sys
args = sys.argv[1:]
out = pathlib.Path(args[args.index("--out") + 1])
out.mkdir(parents=True, exist_ok=True)
speed, acc = (float(pathlib.Path(name).read_text()) for name in ("speed.txt", "acc.txt"))
if speed < 0:
    sys.exit("bench: error: this commit cannot run")
failing = pathlib.Path("fail.txt").read_text().split() if pathlib.Path("fail.txt").exists() else []
rows = [
    {"key": f"k{s}", "status": "failed" if "m" in failing else "ok", "error": "boom", "dataset": "d",
     "dataset_params": {}, "n": 10, "model": "m",
     "model_params": {}, "device": "cpu", "seed": s, "fit_s": speed * (1 + 0.01 * s), "predict_s": 0.01,
     "test_acc": acc - 0.001 * s}
    for s in range(6)
]
(out / "records.jsonl").write_text("".join(json.dumps(r) + "\\n" for r in rows))
"""


@pytest.fixture()
def repo(tmp_path):
    """Nine commits; commit 6 makes every fit 30% slower; commit 8 drops accuracy by 0.01."""
    repo = tmp_path / "repo"
    scratch_repo(repo, FAKE_MAIN)
    shas = []
    for i in range(9):
        (repo / "speed.txt").write_text("1.3" if i >= 6 else "1.0")
        (repo / "acc.txt").write_text("0.89" if i >= 8 else "0.9")
        (repo / "notes.txt").write_text(f"change {i}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"commit {i}")
        shas.append(git(repo, "rev-parse", "HEAD"))
    return repo, shas


def _gate(repo, base, head, **kw):
    with checkout(base, repo.parent / "b", repo) as b, checkout(head, repo.parent / "h", repo) as h:
        return ab.run_gate(b, h, progress=lambda _: None, **kw)


def test_ab_gate_on_real_worktrees_and_processes(repo):
    repo, shas = repo
    same, rounds = _gate(repo, shas[0], shas[1])
    assert len(rounds) == 5 and not (same.verdict == "REGRESSION").any()
    assert {tuple(r["order"]) for r in rounds} <= {("base", "head"), ("head", "base")}
    slow, _ = _gate(repo, shas[0], shas[6])
    flagged = slow[slow.verdict == "REGRESSION"]
    assert list(flagged.metric) == ["fit time (head/base)"]
    assert flagged.effect.iloc[0] == pytest.approx(1.3)
    worse, _ = _gate(repo, shas[7], shas[8])
    assert list(worse[worse.verdict == "REGRESSION"].metric) == ["held-out acc (head − base)"]
    assert git(repo, "worktree", "list").count("\n") == 0, "worktrees are removed"


def test_a_side_that_cannot_run_is_named(repo):
    repo, shas = repo
    (repo / "speed.txt").write_text("-1")
    git(repo, "commit", "-qam", "broken")
    with pytest.raises(GateError, match="the head side failed to run .*cannot run"):
        _gate(repo, shas[0], "HEAD")
    with pytest.raises(GateError, match="git rev-parse"):
        _gate(repo, "no-such-rev", "HEAD")


def test_bisect_finds_the_injected_slowdown_among_nine_commits(repo):
    repo, shas = repo
    first, tested = history.bisect(shas[0], shas[7], repo=repo, progress=lambda _: None)
    assert first == shas[6]
    assert len(tested) <= 4  # the last commit, then log2(7) steps


def test_history_keeps_records_and_order_and_skips_done_commits(repo, tmp_path):
    repo, shas = repo
    out = tmp_path / "history"
    out.mkdir()
    order = history.measure_history([shas[5], shas[6]], out, repo=repo, progress=lambda _: None)
    assert [c["sha"] for c in order] == [shas[5], shas[6]] and order[1]["subject"] == "commit 6"
    recs, order = history.load(out)
    assert len(recs) == 12 and {r["history_sha"] for r in recs} == {shas[5], shas[6]}
    again = history.measure_history([shas[6], shas[7]], out, repo=repo, progress=lambda _: None)
    assert [c["sha"] for c in again] == [shas[5], shas[6], shas[7]]
    assert len(history.load(out)[0]) == 18  # shas[6] was not measured twice
    assert history.revisions(f"{shas[0]}..{shas[3]}", 0, repo) == shas[1:4]
    from bench.report import plots

    (figure,) = plots.history(*history.load(out), tmp_path)
    assert figure.name == "history.png" and figure.stat().st_size > 0


def test_compare_base_cli_exit_codes(monkeypatch, tmp_path, capsys):
    from bench import cli

    table = pd.DataFrame([{"metric": "fit time (head/base)", "verdict": "ok"}])
    cell = ("d", "{}", 10, "m", "{}", "cpu")
    rounds = [
        {
            "order": ["base", "head"],
            "head": {cell: {"status": "ok", "fit_s": 1.0, "predict_s": 0.1, "test_acc": {0: 0.9}}},
        }
    ]
    monkeypatch.setattr(ab, "run_gate", lambda *a, **k: (table, rounds))
    md = tmp_path / "gate.md"
    assert cli.main(["compare", "--base", "HEAD", "--markdown", str(md), "--github-json", str(tmp_path / "gh")]) == 0
    assert "- base: HEAD" in md.read_text()
    assert json.loads((tmp_path / "gh" / "times.json").read_text())[0]["value"] == 1.0
    monkeypatch.setattr(ab, "run_gate", lambda *a, **k: (table.assign(verdict="REGRESSION"), rounds))
    assert cli.main(["compare", "--base", "HEAD"]) == 1
    assert cli.main(["compare", "--base", "no-such-rev"]) == 2
    assert cli.main(["compare", "--base", "HEAD", "--min-rounds", "3"]) == 2
    assert cli.main(["compare"]) == 2
    monkeypatch.setenv("BENCH_BASE", "HEAD~1")
    seen = {}
    monkeypatch.setattr(gate_git, "checkout", _spy_checkout(seen))
    cli.main(["compare", "--base"])
    assert seen["rev"] == "HEAD~1"
    err = capsys.readouterr().err
    assert "unknown revision" in err or "no-such-rev" in err or "git rev-parse" in err


def _spy_checkout(seen):
    from contextlib import contextmanager

    @contextmanager
    def spy(rev, into, repo=None):
        seen["rev"] = rev
        yield Path(into)

    return spy


def test_default_base_is_the_commit_that_made_the_baseline():
    from bench.gate.git import baseline_commit

    rec = json.loads((ROOT / "results" / "gate" / "baseline" / "records.jsonl").read_text().splitlines()[-1])
    assert baseline_commit() == rec["commit"].removesuffix("-dirty")


@pytest.mark.parametrize(
    "command",
    [
        ["check-jsonschema", "--builtin-schema", "vendor.github-workflows"],
        ["zizmor", "--offline", "--no-progress", "--persona", "pedantic"],
    ],
)
def test_the_github_workflow_is_valid_offline(command):
    """The workflow against the vendored GitHub schema, and zizmor's security audit (no network)."""
    import shutil

    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} not installed (it comes with .[test])")
    workflow = ROOT / ".github" / "workflows" / "bench.yml"
    out = subprocess.run([*command, str(workflow)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_power_injections_apply_to_this_code(tmp_path):
    """bench.power's scratch commits still find what they patch (else its study measures nothing)."""
    from bench.studies import gate_power as power

    for condition in ("slow20", "acc"):
        with checkout("HEAD", tmp_path / condition) as tree:
            power._inject(tree, condition)
            changed = git(tree, "show", "--stat", "--format=%s", "HEAD")
            assert f"scratch: inject {condition}" in changed
            target = "models/__init__.py" if condition == "slow20" else "models/base.py"
            assert target in changed


def test_power_report_counts_catches_and_alarms(tmp_path):
    from bench.studies import gate_power as power

    def row(condition, trial, verdicts):
        metrics = ["fit time (head/base)", "predict time (head/base)", "held-out acc (head − base)"]
        decisions = [{"model": "m", "metric": m, "verdict": v, "effect": 1.0} for m, v in zip(metrics, verdicts)]
        return {
            "condition": condition,
            "trial": trial,
            "commit": "abc",
            "rounds": 5,
            "wall_s": 60.0,
            "decisions": decisions,
        }

    raw = tmp_path / "p.jsonl"
    rows = [
        row("same", 0, ["ok", "ok", "unchanged"]),
        row("same", 1, ["REGRESSION", "ok", "unchanged"]),
        row("slow20", 0, ["REGRESSION", "ok", "unchanged"]),
        row("slow20", 1, ["ambiguous", "ok", "unchanged"]),
        row("acc", 0, ["ok", "REGRESSION", "REGRESSION"]),
    ]
    raw.write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = power.report(raw)
    assert "HEAD was abc (5 trials)" in text
    assert "| same | 2 | – of 2 | 1 of 2 |" in text
    assert "| slow20 | 2 | 1 of 2 | 0 of 2 |" in text
    assert "| acc | 1 | 1 of 1 | 1 of 1 |" in text


# --- failed cells are seen ----------------------------------------------------------------------


def _ok(fit=1.0):
    return {"status": "ok", "fit_s": fit, "predict_s": 0.1, "test_acc": {s: 0.9 for s in range(5)}}


def test_a_family_that_fails_or_vanishes_on_the_head_is_a_regression():
    mlp, xgb, new = (("d", "{}", 10, m, "{}", "cpu") for m in ("mlp", "xgboost", "tabm"))
    rounds = [
        {"base": {mlp: _ok(), xgb: _ok()}, "head": {mlp: {"status": "failed: RuntimeError: boom"}, new: _ok()}}
        for _ in range(5)
    ]
    table = ab.decide(rounds)
    rows = {(r.model, r.metric): r for r in table.itertuples()}
    assert rows[("mlp", "ran (status)")].verdict == "REGRESSION"
    assert "failed: RuntimeError: boom on head" in rows[("mlp", "ran (status)")][-1]
    assert rows[("xgboost", "ran (status)")].verdict == "REGRESSION"  # missing on the head
    assert "missing on head" in rows[("xgboost", "ran (status)")][-1]
    assert rows[("tabm", "ran (status)")].verdict == "new"
    assert "REGRESSION" in ab.markdown(table, {"base": "b"})


def test_a_cell_failing_in_one_round_only_is_still_a_regression():
    cell = ("d", "{}", 10, "mlp", "{}", "cpu")
    rounds = [{"base": {cell: _ok()}, "head": {cell: _ok()}} for _ in range(4)]
    rounds.append({"base": {cell: _ok()}, "head": {cell: {"status": "failed: killed"}}})
    table = ab.decide(rounds)
    assert list(table.verdict) == ["REGRESSION"] and list(table.metric) == ["ran (status)"]


def test_summarise_keeps_failed_cells_with_their_reason():
    rec = {"dataset": "d", "dataset_params": {}, "n": 10, "model": "mlp", "model_params": {}, "device": "cpu"}
    recs = [rec | {"seed": 0, "status": "ok", "fit_s": 1.0, "predict_s": 0.1, "test_acc": 0.9}]
    recs.append(rec | {"seed": 1, "status": "failed", "error": "ValueError: x", "fit_s": None, "predict_s": None})
    (summary,) = ab.summarise(recs).values()
    assert summary == {"status": "failed: ValueError: x"}


def test_ab_gate_on_worktrees_flags_a_head_whose_family_fails(repo):
    repo, shas = repo
    (repo / "fail.txt").write_text("m\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "break m")
    table, rounds = _gate(repo, shas[0], "HEAD", min_rounds=5, max_rounds=5)
    assert list(table.verdict) == ["REGRESSION"], table
    assert "failed: boom on head" in table["per-round ratios"].iloc[0]


def test_saved_records_compare_sees_a_family_that_failed(tmp_path):
    from bench.gate import saved
    from tests.conftest import DATA

    recs = [json.loads(x) for x in (DATA / "records_small.jsonl").read_text().splitlines()]
    broken = [
        r | {"status": "failed", "error": "RuntimeError: boom"} if r["model"] == recs[0]["model"] else r for r in recs
    ]
    (tmp_path / "base.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    (tmp_path / "head.jsonl").write_text("".join(json.dumps(r) + "\n" for r in broken))
    table, _ = saved.compare(tmp_path / "base.jsonl", tmp_path / "head.jsonl")
    status = table[table.metric == "ran (status)"]
    assert len(status) and set(status.verdict) == {"REGRESSION"} and set(status.model) == {recs[0]["model"]}


SLOW_MAIN = """
import os, pathlib, sys, time
pathlib.Path(os.environ["SIDE_PID"]).write_text(str(os.getpid()))
time.sleep(600)
"""

GATE_DRIVER = """
import sys
from pathlib import Path
from bench.cli import handle_signals
from bench.gate import ab
from bench.gate.git import checkout

handle_signals()
repo, tmp = Path(sys.argv[1]), Path(sys.argv[2])
try:
    with checkout("HEAD", tmp / "b", repo) as b, checkout("HEAD", tmp / "h", repo) as h:
        ab.run_gate(b, h, progress=lambda _: None)
except KeyboardInterrupt as exc:
    sys.exit(f"stopped: {exc}")
"""


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_during_the_ab_gate_leaves_no_side_worktree_or_temp_folder(tmp_path, sig):
    repo = scratch_repo(tmp_path / "repo", SLOW_MAIN)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "c")
    temp = tmp_path / "temp"
    temp.mkdir()
    pid_file = tmp_path / "side.pid"
    env = os.environ | {"TMPDIR": str(temp), "SIDE_PID": str(pid_file), "PYTHONPATH": str(ROOT)}
    driver = subprocess.Popen(
        [sys.executable, "-c", GATE_DRIVER, str(repo), str(tmp_path)], env=env, stderr=subprocess.PIPE, text=True
    )
    # Events only, no clock: the signal waits for the side's process to start, the checks for the
    # driver to exit (stop_group reaps the side before run_gate returns, so it is gone by then).
    while not (pid_file.exists() and pid_file.read_text()):
        assert driver.poll() is None, driver.stderr.read()
        time.sleep(0.02)
    side = int(pid_file.read_text())
    driver.send_signal(sig)
    _, err = driver.communicate()
    assert f"stopped: {signal.Signals(sig).name}" in err
    with pytest.raises(ProcessLookupError):
        os.kill(side, 0)
    assert git(repo, "worktree", "list").count("\n") == 0, "only the main worktree is left"
    assert not (tmp_path / "b").exists() and not (tmp_path / "h").exists()
    assert list(temp.iterdir()) == [], "temporary folders removed"
