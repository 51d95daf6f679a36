"""Several seeds trained as one batched model learn what separate fits learn."""

import numpy as np
import pytest

import datasets
import models


@pytest.mark.parametrize(
    "name, params",
    [
        ("seed_mlp", {"max_epochs": 2}),
        ("mlp", {"max_epochs": 8, "width": 32}),
        ("spectral_mlp", {"max_epochs": 8, "width": 32}),
        ("periodic_mlp", {"max_epochs": 5, "width": 32, "sigma": 3.0}),
    ],
)
def test_batched_equals_separate(name, params):
    tasks, separate = [], []
    for seed in range(3):
        X, y = datasets.generate("sum_mod", n=300, seed=seed)
        tasks.append((X[:240], y[:240], None, None, None))
        separate.append(models.create(name, seed=seed, device="cpu", **params).fit(X[:240], y[:240]))
    batched = [models.create(name, seed=s, device="cpu", **params) for s in range(3)]
    models.fit_batch(batched, tasks)
    for seed, (a, b) in enumerate(zip(separate, batched)):
        X, _ = datasets.generate("sum_mod", n=300, seed=seed)
        assert b.group_size_ == 3
        assert a.result_.epochs == b.result_.epochs and a.result_.best_epoch == b.result_.best_epoch
        np.testing.assert_allclose(a.predict_proba(X[240:]), b.predict_proba(X[240:]), atol=2e-4)


def test_candidates_pick_the_best_on_validation():
    X, y = datasets.generate("sum_bin", n=300, seed=0)
    est = models.create("periodic_mlp", seed=0, device="cpu", max_epochs=5, width=16).fit(X, y)
    assert est.candidate_["sigma"] in (1.0, 3.0, 10.0)
