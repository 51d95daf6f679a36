"""The regression gate: flags real drops and slowdowns, stays quiet on noise, rejects bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.gate import saved
from bench.run import runner, suites
from tests.conftest import ROOT

GATE = suites.Suite(
    "gate-test", "", [("sum_bin", {})], [600], ["mlp", "xgboost"], [0, 1, 2, 3, 4], ["cpu"],
    {"mlp": {"max_epochs": 150, "patience": None, "width": 64}, "xgboost": {"params": {"n_estimators": 800}}},
    batch_seeds=False,
)  # fmt: skip


def _run(out: Path) -> Path:
    assert runner.run(GATE.cells(), out, runner.RunOptions(threads=1, progress=False, batch_seeds=False)) == 0
    return out / "records.jsonl"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("baseline"))


def _gate(base, cur, *extra):
    return subprocess.run(
        [sys.executable, "-m", "bench", "compare", str(base), str(cur), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_shuffled_labels_are_an_accuracy_regression(baseline, tmp_path, monkeypatch):
    real_split = runner.split

    def shuffled(cell):
        X_train, X_test, y_train, y_test = real_split(cell)
        return X_train, X_test, np.random.default_rng(0).permutation(y_train), y_test

    monkeypatch.setattr(runner, "split", shuffled)
    out = _gate(baseline, _run(tmp_path))
    assert out.returncode == 1
    flagged = [line for line in out.stdout.splitlines() if "REGRESSION" in line and "test_acc" in line]
    # both families lose accuracy (their fit times may change too: trees grow differently on noise)
    assert any("mlp" in line for line in flagged) and any("xgboost" in line for line in flagged), out.stdout


TEMPLATE = json.loads((ROOT / "tests" / "data" / "records_small.jsonl").read_text().splitlines()[0])


def _synthetic(path: Path, fit_s, test_acc, calibration_s) -> Path:
    """A records file of one cell (mlp, cpu), one record per seed, with the given numbers."""
    rows = [
        TEMPLATE | {"key": f"k{i}", "seed": i, "fit_s": f, "test_acc": a, "calibration_s": c}
        for i, (f, a, c) in enumerate(zip(fit_s, test_acc, calibration_s))
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _noisy_times(rng, n, slowdown=1.0, drift=1.0):
    """Fit times with the noise seen on this VM: per-run jitter, and a machine drift that the
    calibration workload sees too."""
    calib = 0.1 * drift * rng.lognormal(0, 0.05, n)
    return calib * 10 * slowdown * rng.lognormal(0, 0.1, n), calib


@pytest.mark.parametrize("trial", range(20))
def test_same_timing_distribution_is_clean(tmp_path, trial):
    rng = np.random.default_rng(trial)
    base = _synthetic(tmp_path / "b.jsonl", *_with_acc(*_noisy_times(rng, 5)))
    cur = _synthetic(tmp_path / "c.jsonl", *_with_acc(*_noisy_times(rng, 5, drift=1.6)))  # a slow spell
    table, _ = saved.compare(base, cur)
    assert not (table.verdict == "REGRESSION").any(), table


@pytest.mark.parametrize("trial", range(10))
def test_a_2x_slowdown_is_flagged(tmp_path, trial):
    rng = np.random.default_rng(100 + trial)
    base = _synthetic(tmp_path / "b.jsonl", *_with_acc(*_noisy_times(rng, 5)))
    cur = _synthetic(tmp_path / "c.jsonl", *_with_acc(*_noisy_times(rng, 5, slowdown=2.0)))
    table, _ = saved.compare(base, cur)
    verdicts = dict(zip(table.metric.str.split().str[0], table.verdict))
    assert verdicts["fit_s"] == "REGRESSION" and verdicts["test_acc"] == "ok"


def _with_acc(fit_s, calib):
    return fit_s, [0.9] * len(fit_s), calib


def test_bad_input_exits_2(baseline, tmp_path):
    assert _gate(baseline, tmp_path / "missing.jsonl").returncode == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"not": "a record"}\n')
    out = _gate(baseline, bad)
    assert out.returncode == 2 and "bad.jsonl:1: not a bench record: record lacks" in out.stderr
    other = tmp_path / "other.jsonl"
    rows = [json.loads(x) | {"dataset": "elsewhere"} for x in baseline.read_text().splitlines()]
    other.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = _gate(baseline, other)
    assert out.returncode == 2 and "share no" in out.stderr


def test_github_benchmark_json(baseline, tmp_path):
    out = _gate(baseline, baseline, "--github-json", str(tmp_path))
    assert out.returncode == 0
    acc = json.loads((tmp_path / "accuracy.json").read_text())
    times = json.loads((tmp_path / "times.json").read_text())
    assert {"name", "unit", "value"} <= set(acc[0]) and len(acc) == len(times) == 2


def test_verdict_logic():
    acc = saved.METRICS[0]
    assert saved._verdict(acc, np.array([0.9, 0.91, 0.92]), np.array([0.9, 0.91, 0.92]))[3] == "ok"
    assert saved._verdict(acc, np.array([0.9, 0.91, 0.92, 0.9]), np.array([0.5, 0.51, 0.52, 0.5]))[3] == "REGRESSION"
    # significant but tiny: not a regression
    assert saved._verdict(acc, np.array([0.90, 0.901, 0.902, 0.903]), np.array([0.89, 0.891, 0.892, 0.893]))[3] == "ok"
    fit = saved.METRICS[1]
    assert saved._verdict(fit, np.array([1.0, 1.1, 0.9, 1.0]), np.array([2.0, 2.1, 1.9, 2.2]))[3] == "REGRESSION"
    assert saved._verdict(fit, np.array([1.0, 1.1, 0.9, 1.0]), np.array([0.4, 0.5, 0.45, 0.4]))[3] == "improved"
    assert (
        saved._verdict(fit, np.array([1.0, 1.1, 0.9, 1.0]), np.array([1.3, 1.35, 1.3, 1.4]))[3] == "ok"
    )  # within noise
