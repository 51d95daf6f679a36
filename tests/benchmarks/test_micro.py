"""pytest-benchmark microbenchmarks: the trainer's hot path and each family's fit on tiny data.

In the default test run they execute once, untimed (``--benchmark-disable`` in pyproject), as
smoke tests. To measure: ``pytest tests/benchmarks --benchmark-enable --benchmark-autosave``, and
later ``--benchmark-compare`` against a saved run.
"""

import pytest
import torch

import datasets
import models
from models.engine.trainer import Member, TrainConfig, train_members
from models.mlp import mlp_layers
from tests.conftest import TINY


@pytest.fixture(scope="module")
def tiny():
    return datasets.generate("sum_mod", n=400, seed=0)


@pytest.mark.parametrize("k", [1, 5])
def test_trainer_epoch(benchmark, tiny, k):
    X, y = tiny
    Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)
    cfg = TrainConfig(batch_size=64, max_epochs=2, patience=None)

    def fit():
        members = [
            Member(mlp_layers(2, 3, 2, 64, torch.nn.ReLU, 0.0, torch.nn.Dropout), Xt, yt, seed=i) for i in range(k)
        ]
        return train_members(members, cfg)

    results = benchmark(fit)
    assert len(results) == k and results[0].epochs == 2


@pytest.mark.parametrize("name", models.NAMES)
def test_family_fit(benchmark, tiny, name):
    X, y = tiny
    est = benchmark(lambda: models.create(name, seed=0, device="cpu", n_threads=1, **TINY[name]).fit(X, y))
    assert est.predict(X).shape == (len(X),)
