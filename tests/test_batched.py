"""Several seeds trained as one batched model learn what separate fits learn."""

import numpy as np
import pytest

import datasets
import models
from models.base import FitTask


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
        tasks.append(FitTask(X[:240], y[:240]))
        separate.append(models.create(name, seed=seed, device="cpu", **params).fit(X[:240], y[:240]))
    batched = [models.create(name, seed=s, device="cpu", **params) for s in range(3)]
    models.fit_batch(batched, tasks)
    for seed, (a, b) in enumerate(zip(separate, batched)):
        X, _ = datasets.generate("sum_mod", n=300, seed=seed)
        assert b.group_size_ == 3
        assert a.result_.epochs == b.result_.epochs and a.result_.best_epoch == b.result_.best_epoch
        np.testing.assert_allclose(a.predict_proba(X[240:]), b.predict_proba(X[240:]), atol=2e-4)


def test_candidates_pick_the_best_on_validation():
    """Every sigma trains as a member of one batched model; the kept one has the best validation
    accuracy (then loss), and the fitted model is that member."""
    X, y = datasets.generate("sum_bin", n=300, seed=0)
    params = {"max_epochs": 5, "width": 16}
    est = models.create("periodic_mlp", seed=0, device="cpu", **params).fit(X, y)
    scores = {c["sigma"]: (acc, -loss) for c, acc, loss in est.candidate_scores_}
    assert sorted(scores) == [1.0, 3.0, 10.0]
    assert scores[est.candidate_["sigma"]] == max(scores.values())
    assert len(set(scores.values())) > 1, "the candidates should differ, or the choice is not tested"
    assert (est.result_.best_val_acc, -est.result_.best_val_loss) == scores[est.candidate_["sigma"]]
    assert est.module_[0].periodic._sigma == est.candidate_["sigma"]  # the kept module is that sigma's


@pytest.mark.parametrize("name", ["periodic_mlp", "tabm"])
def test_embedding_frequencies_get_their_own_step_size(name):
    """PLR frequencies step ``frequency_lr_scale`` x faster, also once members are stacked."""
    from models.trainer import TrainConfig, _make_optimizer, stack

    X, y = datasets.generate("sum_mod", n=100, seed=0)
    params = {"frequency_lr_scale": 7.0, "sigma": 3.0}
    modules = [models.create(name, seed=s, device="cpu", **params)._build(2, 3, X, y, {"sigma": 3.0}) for s in (0, 1)]
    net = stack(modules) if name == "periodic_mlp" else modules[0]
    opt = _make_optimizer(net.parameters(), TrainConfig(lr=1e-3))
    by_lr = {round(g["lr"], 9): sum(p.numel() for p in g["params"]) for g in opt.param_groups}
    used = modules if name == "periodic_mlp" else modules[:1]
    n_freq = sum(p.numel() for m in used for k, p in m.named_parameters() if k.endswith("periodic.weight"))
    assert n_freq > 0
    assert by_lr[0.007] == n_freq  # the frequencies alone, at 7 x the base rate
    assert 0.001 in by_lr
