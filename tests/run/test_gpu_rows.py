"""GPU rows that mean what they say: each item checked on the CPU, with synthetic cuda records,
stubbed libraries and the constructed models' arguments (tests/run/test_cuda.py runs on a GPU)."""

import json
import math
import types

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import datasets
import models
from bench.gate import saved
from bench.records import frame, machine, store
from bench.report import plots, tables
from bench.run import runner, suites
from bench.studies import trainer_throughput as throughput
from models.engine.trainer import Member, TrainConfig, train_members
from tests.conftest import DATA

FIXTURE = DATA / "records_small.jsonl"


@pytest.fixture()
def df():
    return frame.frame(FIXTURE)


def _as_cuda(monkeypatch, est):
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    est.device_, est.categorical_ = "cuda", ()  # what _fit sets before it makes the model
    return est


def test_catboost_is_the_same_model_on_both_devices_on_one_bounded_gpu(monkeypatch):
    cpu = models.create("catboost", seed=0, device="cpu")
    cpu.device_, cpu.categorical_ = "cpu", ()
    params_cpu = cpu._make_model().get_params()
    params_gpu = _as_cuda(monkeypatch, models.create("catboost", seed=0))._make_model().get_params()
    assert params_cpu["border_count"] == params_gpu["border_count"] == 254  # the GPU default would be 128
    assert params_gpu["task_type"] == "GPU" and params_gpu["devices"] == "0"
    assert params_gpu["gpu_ram_part"] <= 0.5
    assert "task_type" not in params_cpu


def test_catboost_predicts_on_the_gpu_and_says_so(monkeypatch):
    est = _as_cuda(monkeypatch, models.create("catboost", seed=0))
    seen = {}

    def predict_proba(X, task_type="CPU"):
        seen["task_type"] = task_type
        return np.full((len(X), 2), 0.5)

    est.classes_, est.model_, est.n_iterations_ = (
        np.array([0, 1]),
        types.SimpleNamespace(predict_proba=predict_proba, get_cat_feature_indices=lambda: []),
        3,
    )
    est._predict_proba(np.zeros((4, 2)))
    assert seen["task_type"] == "GPU"
    assert est.fit_info()["predict_device"] == "cuda"


def test_xgboost_on_cuda_predicts_from_an_explicit_dmatrix(monkeypatch):
    from xgboost import DMatrix

    est = _as_cuda(monkeypatch, models.create("xgboost", seed=0))
    seen = {}

    def predict(data):
        seen["input"] = data
        return np.full((data.num_row(), 3), 1 / 3)

    booster = types.SimpleNamespace(predict=predict)
    est.classes_ = np.array([0, 1, 2])
    est.model_ = types.SimpleNamespace(
        get_booster=lambda: booster, predict_proba=lambda X: pytest.fail("fallback path")
    )
    assert est._predict_proba(np.zeros((5, 2))).shape == (5, 3)
    assert isinstance(seen["input"], DMatrix)


def test_speedup_is_per_epoch_of_training_without_host_prep(df):
    df = df.copy()
    df["prep_s"] = np.where(df.device == "cpu", 2.0, 0.0)  # cpu: 4 s fit of which 2 s search
    text = tables.device_table(df)
    row = next(line for line in text.splitlines() if line.startswith("| sum_mod (n=100)"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # cpu (4 - 2) / 20 = 0.1 s per epoch; cuda 1 / 10 = 0.1: speedup 1, whatever the epochs were
    assert cells[2:] == ["0.1", "0.1", "20 / 10", "1"]


def test_tables_and_plots_keep_devices_apart(df, monkeypatch, tmp_path):
    sweep = df[df.model == "mlp"].assign(peak_rss_mb=100.0)
    table = tables.sweep_table(sweep)
    rows = [line for line in table.splitlines() if "| mlp" in line]
    assert [r.split("|")[3].strip() for r in rows] == ["cpu", "cuda"]
    assert all(r.rstrip(" |").endswith("2") for r in rows)  # 2 seeds each, not 4 in one row
    seed = df[df.model == "seed_mlp"]
    both = pd.concat([seed, seed.assign(device="cuda", key=seed.key + "-cuda")])
    assert len([x for x in tables.seed_mlp_table(both).splitlines() if x.startswith("| sum_mod")]) == 2
    drawn = []
    monkeypatch.setattr(plots, "save", lambda fig, path, dpi=110: drawn.append(fig) or path)
    loss = both.assign(n=2000, model=["seed_mlp", "seed_mlp", "seed_mlp", "seed_mlp"], seed=[0, 1, 0, 1])
    plots.loss_curves(loss, tmp_path)
    (fig,) = drawn
    assert len(fig.axes[0].get_lines()) == 3  # epoch mean, last row, ln 3: one device's seed 0 only


def test_throughput_seed_loop_runs_on_the_measured_device():
    moved = []

    class Spy(nn.Linear):
        def to(self, *args, **kwargs):
            moved.append(args)
            return super().to(*args, **kwargs)

    X, y = datasets.generate("sum_mod", n=5, seed=0)
    throughput.seed_loop(X, y, Spy(2, 3), 1, "cpu")
    assert moved == [("cpu",)]


def test_one_host_read_per_epoch(monkeypatch):
    reads = []
    real = torch.Tensor.tolist
    monkeypatch.setattr(torch.Tensor, "tolist", lambda t: reads.append(t.shape) or real(t))
    X, y = datasets.generate("sum_mod", n=200, seed=0)
    Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)
    net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    member = Member(net, Xt[:150], yt[:150], seed=0, X_val=Xt[150:], y_val=yt[150:])
    train_members([member], TrainConfig(batch_size=50, max_epochs=4, patience=None))
    assert len(reads) == 4


def test_warm_up_has_the_timed_groups_shapes(tmp_path, monkeypatch):
    calls = []
    real = models.fit_batch
    monkeypatch.setattr(
        models,
        "fit_batch",
        lambda ests, tasks: calls.append((len(ests), tasks[0].X.shape, ests[0].max_epochs)) or real(ests, tasks),
    )
    suite = suites.Suite(
        "t", "", [("sum_bin", {})], [300], ["mlp"], [0, 1, 2], ["cpu"], {"mlp": {"max_epochs": 2, "width": 8}}
    )
    runner.run(suite.cells(), tmp_path, runner.RunOptions(threads=1, progress=False))
    assert calls[0] == (3, (240, 2), 1)  # warm-up: 3 members, the 240 training rows, one epoch
    assert calls[1] == (3, (240, 2), 2)  # the timed fit


def test_predict_is_timed_over_repeats(tmp_path, monkeypatch):
    from contextlib import contextmanager

    @contextmanager
    def fake_timed(device):  # a synthetic clock: every timed block takes 10 ms
        out = {}
        yield out
        out["seconds"] = 0.01

    monkeypatch.setattr(runner, "timed", fake_timed)
    suite = suites.Suite(
        "t", "", [("sum_bin", {})], [100], ["xgboost"], [0], ["cpu"], {"xgboost": {"params": {"n_estimators": 2}}}
    )
    runner.run(suite.cells(), tmp_path, runner.RunOptions(threads=1, progress=False))
    (rec,) = store.load(tmp_path / "records.jsonl")
    assert rec["predict_repeats"] == math.ceil(runner.MIN_PREDICT_S / 0.01)
    assert rec["predict_s"] == pytest.approx(0.01)
    assert rec["predict_rows_per_s"] == pytest.approx(rec["n_test"] / 0.01)


def test_machine_info_names_gpu_memory_and_mig_and_bounds_nvidia_smi(monkeypatch):
    seen = {}

    def run(cmd, **kwargs):
        seen["timeout"] = kwargs.get("timeout")
        return types.SimpleNamespace(returncode=0, stdout="550.54, Disabled\n")

    props = types.SimpleNamespace(name="NVIDIA H200", total_memory=141 * 2**30)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: props)
    monkeypatch.setattr(machine.subprocess, "run", run)
    info = machine._static_machine.__wrapped__()
    assert info["gpu"] == "NVIDIA H200" and info["gpu_memory_mb"] == 141 * 1024
    assert info["driver"] == "550.54" and info["mig"] == "Disabled"
    assert seen["timeout"] == 10


def test_threads_follow_affinity_and_the_cgroup_quota(tmp_path, monkeypatch):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert machine._cgroup_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert machine._cgroup_quota(tmp_path) is None
    monkeypatch.setattr(machine, "_cgroup_quota", lambda: 1.5)
    monkeypatch.setattr(machine.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert machine.usable_cores() == 1
    monkeypatch.setattr(machine, "_cgroup_quota", lambda: None)
    assert machine.usable_cores() == 4


def test_gpu_times_are_not_divided_by_a_cpu_calibration(tmp_path):
    row = json.loads(FIXTURE.read_text().splitlines()[2])  # mlp on cuda
    assert row["device"] == "cuda"

    def write(path, fit_s, calibration_s):
        lines = [
            row | {"key": f"k{i}", "seed": i, "fit_s": f, "calibration_s": c}
            for i, (f, c) in enumerate(zip(fit_s, calibration_s))
        ]
        path.write_text("".join(json.dumps(r) + "\n" for r in lines))
        return path

    base = write(tmp_path / "b.jsonl", [1.0, 1.02, 0.98, 1.01, 0.99], [0.1] * 5)
    cur = write(tmp_path / "c.jsonl", [2.0, 2.04, 1.96, 2.02, 1.98], [0.2] * 5)  # the CPU was slow too
    table, _ = saved.compare(base, cur)
    fit = table[table.metric.str.startswith("fit_s")].iloc[0]
    assert fit.verdict == "REGRESSION" and "calibrated" not in fit.metric


def test_gpu_check_says_plainly_when_there_is_no_gpu(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: tests/run/test_cuda.py covers gpu_check's parts")
    from bench.studies import gpu_check

    assert gpu_check.main(["--out", str(tmp_path / "gpu")]) == 2
    assert "gpu_check: error: no CUDA device here" in capsys.readouterr().err
    assert not (tmp_path / "gpu").exists()
