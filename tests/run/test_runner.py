"""The runner: batching, retries, skips and large-n settings, on tiny cells."""

import json

import numpy as np
import pytest

import models
from bench.run import runner, suites
from bench.studies import trainer_throughput as throughput
from models.base import FitTask

TINY_MLP = {"max_epochs": 2, "width": 8}


def _records(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_batch_plan_groups_one_batchable_family_with_equal_params():
    ests = [
        models.create("mlp", seed=0, width=8),
        models.create("mlp", seed=1, width=8),
        models.create("mlp", seed=2, width=16),  # other params: another group
        models.create("xgboost", seed=0),  # trees: alone
        models.create("tabm", seed=0),  # not batchable: alone
        models.create("mlp", seed=3, width=8),
    ]
    assert models.batch_plan(ests) == [[0, 1, 5], [2], [3], [4]]


def test_fit_batch_validates_each_task_and_batches_seeds():
    X = np.random.default_rng(0).random((60, 2))
    y = (X.sum(1) > 1).astype(int)
    ests = [models.create("mlp", seed=s, device="cpu", **TINY_MLP) for s in range(2)]
    models.fit_batch(ests, [FitTask(X, y), FitTask(X, y + 5)])  # labels need not be 0..K-1
    assert [e.group_size_ for e in ests] == [2, 2]
    assert list(ests[1].classes_) == [5, 6] and set(ests[1].predict(X)) <= {5, 6}


def test_a_failing_seed_in_a_batched_group_is_retried_alone(tmp_path, monkeypatch):
    real_split = runner.split

    def poisoned(cell):  # seed 1's data holds an inf (NaN is missing data now): fails batched, then alone
        X_train, X_test, y_train, y_test = real_split(cell)
        if cell.seed == 1:
            X_train = X_train.copy()
            X_train[0, 0] = np.inf
        return X_train, X_test, y_train, y_test

    monkeypatch.setattr(runner, "split", poisoned)
    suite = suites.Suite("t", "", [("sum_bin", {})], [120], ["mlp"], [0, 1, 2], ["cpu"], {"mlp": TINY_MLP})
    failed = runner.run(suite.cells(), tmp_path, runner.RunOptions(threads=1, progress=False))
    recs = {r["seed"]: r for r in _records(tmp_path / "records.jsonl")}
    assert failed == 1
    assert recs[1]["status"] == "failed" and "infinity" in recs[1]["error"]
    assert recs[0]["status"] == recs[2]["status"] == "ok"
    assert recs[0]["group_size"] == recs[2]["group_size"] == 1  # refitted alone


def test_seeds_of_a_group_share_one_batched_fit(tmp_path):
    suite = suites.Suite("t", "", [("sum_bin", {})], [120], ["mlp"], [0, 1, 2], ["cpu"], {"mlp": TINY_MLP})
    assert runner.run(suite.cells(), tmp_path, runner.RunOptions(threads=1, progress=False)) == 0
    recs = _records(tmp_path / "records.jsonl")
    assert {r["group_size"] for r in recs} == {3}
    assert len({r["fit_group_s"] for r in recs}) == 1
    assert all(r["fit_s"] == pytest.approx(r["fit_group_s"] / 3) for r in recs)


def test_cells_beyond_max_n_are_recorded_as_skipped_without_fitting(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "_fit_cells", lambda *a, **k: pytest.fail("a skipped cell was fitted"))
    suite = suites.Suite("t", "", [("sum_mod", {})], [1000], ["tabm"], [0, 1], ["cpu"], max_n={"tabm": 500})
    assert runner.run(suite.cells(), tmp_path, runner.RunOptions(threads=1, progress=False)) == 0
    recs = _records(tmp_path / "records.jsonl")
    assert [r["status"] for r in recs] == ["skipped", "skipped"]
    assert recs[0]["error"] == "n=1000 > 500: too slow for this size on a 2-core CPU"


def test_large_n_cells_get_large_n_parameters():
    suite = suites.Suite("t", "", [("sum_mod", {})], [suites.LARGE_N, suites.LARGE_N + 1], ["mlp", "xgboost"], [0])
    params = {(c.n, c.model): c.model_params for c in suite.cells()}
    assert params[suites.LARGE_N, "mlp"] == {}
    assert params[suites.LARGE_N + 1, "mlp"] == {"batch_size": 1024, "max_epochs": 8, "patience": 3}
    assert params[suites.LARGE_N + 1, "xgboost"] == {}  # trees have no such settings


def test_throughput_table_reports_ratios_measured_in_one_run(tmp_path):
    a = "A: one 2-256-256-3 MLP"
    b = "B: 5 seeds, 2-2-3 (the seed's net, batch 1)"
    c = "C: the seed's 2-2-3 net, batch 1, SGD"
    rows = [
        {"group": a, "what": "seed loop (DataLoader, batch 1, SGD)", "samples": 100, "seconds": 1.0},
        {"group": a, "what": "our trainer (batch 1, AdamW)", "samples": 100, "seconds": 0.5},
        {"group": a, "what": "our trainer (batch 256, AdamW)", "samples": 1000, "seconds": 0.1},
        {"group": a, "what": "skorch NeuralNetClassifier (batch 256, AdamW)", "samples": 1000, "seconds": 0.4},
        {"group": b, "what": "5 sequential fits", "samples": 500, "seconds": 3.0},
        {"group": b, "what": "5 seeds as one batched model", "samples": 500, "seconds": 1.0},
        {"group": c, "what": "seed loop (DataLoader)", "samples": 100, "seconds": 1.0},
        {"group": c, "what": "bare loop (tensor rows)", "samples": 100, "seconds": 0.5},
        {"group": c, "what": "our trainer, one net", "samples": 100, "seconds": 0.25},
        {"group": c, "what": "our trainer, 5 seeds as one batched model", "samples": 500, "seconds": 0.5},
    ]
    rows = [r | {"samples_per_s": r["samples"] / r["seconds"], "device": "cpu", "threads": 1} for r in rows]
    text = throughput.write(rows, tmp_path / "t.md").read_text()
    ratios = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in text.splitlines()[5:16] if "|" in line}
    assert ratios["our trainer (batch 256) vs the seed loop (batch 1)"] == "100.00"  # 10000/s vs 100/s
    assert ratios["our trainer vs the seed loop, both batch 1"] == "2.00"
    assert ratios["our trainer vs skorch, both batch 256"] == "4.00"
    assert ratios["5 seeds, 2-2-3 (the seed's net, batch 1): batched vs sequential"] == "3.00"
    assert ratios["seed's net, steps/s: our trainer, one net vs seed loop (DataLoader)"] == "4.00"
    assert ratios["seed's net, steps/s: our trainer, one net vs bare loop (tensor rows)"] == "2.00"
    assert ratios["seed's net, steps/s: our trainer, 5 seeds as one batched model vs bare loop (tensor rows)"] == "5.00"
