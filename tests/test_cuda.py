"""The CUDA path: runs where a GPU is present, skips cleanly where it is not."""

import numpy as np
import pytest
import torch

import datasets
import models
from models.base import FitTask
from tests.test_models import TINY

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
