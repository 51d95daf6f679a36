"""The CUDA path: runs where a GPU is present, skips cleanly where it is not.

`python -m bench.studies.gpu_check` runs these on a GPU machine, with the gpu suite and throughput."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import datasets
import models
from models.base import FitTask
from tests.conftest import ROOT, TINY

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@cuda
@pytest.mark.parametrize("name", models.NAMES)
def test_every_family_fits_on_cuda(name):
    X, y = datasets.generate("sum_bin", n=300, seed=0)
    est = models.create(name, seed=0, device="cuda", **TINY[name]).fit(X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (300, 3) and np.all(np.isfinite(proba))
    if hasattr(est, "module_"):
        assert next(est.module_.parameters()).device.type == "cuda"


@cuda
def test_batched_seeds_on_cuda_match_separate_fits():
    tasks, separate = [], []
    for seed in range(3):
        X, y = datasets.generate("sum_mod", n=300, seed=seed)
        tasks.append(FitTask(X, y))
        separate.append(models.create("mlp", seed=seed, device="cuda", max_epochs=5, width=32).fit(X, y))
    batched = models.fit_batch(
        [models.create("mlp", seed=s, device="cuda", max_epochs=5, width=32) for s in range(3)], tasks
    )
    for a, b, task in zip(separate, batched, tasks):
        np.testing.assert_allclose(a.predict_proba(task.X), b.predict_proba(task.X), atol=1e-3)


def test_auto_device_resolves_to_what_is_there():
    from models.base import resolve_device

    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"


@cuda
def test_the_gbdts_train_and_predict_on_the_gpu():
    X, y = datasets.generate("sum_mod", n=600, seed=0)
    cat = models.create("catboost", seed=0, device="cuda", params={"iterations": 20}).fit(X, y)
    assert cat.model_.get_all_params()["task_type"] == "GPU"
    assert cat.fit_info()["predict_device"] == "cuda"
    xgb = models.create("xgboost", seed=0, device="cuda", params={"n_estimators": 5}).fit(X, y)
    config = json.loads(xgb.model_.get_booster().save_config())
    assert config["learner"]["generic_param"]["device"].startswith("cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mismatched devices" fallback
        assert xgb.predict_proba(X).shape == (600, 3)


@cuda
@pytest.mark.parametrize("name", ["periodic_mlp", "spectral_mlp", "fourier_mlp"])
def test_vmap_families_batch_their_seeds_on_cuda(name):
    tasks = [FitTask(*datasets.generate("sum_mod", n=300, seed=s)) for s in range(3)]
    ests = models.fit_batch([models.create(name, seed=s, device="cuda", **TINY[name]) for s in range(3)], tasks)
    assert [e.group_size_ for e in ests] == [3, 3, 3]
    assert all(next(e.module_.parameters()).device.type == "cuda" for e in ests)


@cuda
def test_runner_cli_and_report_on_cuda(tmp_path):
    args = ["run", "--datasets", "sum_bin", "--models", "mlp,xgboost", "--n", "300", "--seeds", "0,1"]
    out = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--device", "auto", "--out", str(tmp_path), "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    recs = [json.loads(x) for x in (tmp_path / "records.jsonl").read_text().splitlines()]
    assert {r["device"] for r in recs} == {"cpu", "cuda"}
    assert all(r["gpu_peak_mb"] > 0 for r in recs if r["device"] == "cuda" and r["model"] == "mlp")
    assert all(r["machine"]["gpu_memory_mb"] > 0 for r in recs)
    assert "GPU speedup (cpu / cuda)" in (tmp_path / "throughput.md").read_text()
