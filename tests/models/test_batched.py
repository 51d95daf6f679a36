"""Several seeds trained as one batched model learn what separate fits learn."""

import copy

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
        # early stopping at different epochs: stopped members leave the stack mid-training
        ("mlp", {"max_epochs": 40, "width": 32, "patience": 2}),
        ("periodic_mlp", {"max_epochs": 40, "width": 32, "sigma": 3.0, "patience": 3}),
        ("tabm", {"max_epochs": 6, "d_block": 32, "k": 4}),
        ("fourier_mlp", {"max_epochs": 30, "width": 32, "patience": 4, "select_after": 3}),
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
        assert a.result_.loss_curve == pytest.approx(b.result_.loss_curve, abs=1e-5)
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
    from models.engine.flat_optim import FlatOptimizer
    from models.engine.trainer import TrainConfig, stack

    X, y = datasets.generate("sum_mod", n=100, seed=0)
    params = {"frequency_lr_scale": 7.0, "sigma": 3.0}
    modules = [models.create(name, seed=s, device="cpu", **params)._build(2, 3, X, y, {"sigma": 3.0}) for s in (0, 1)]
    net = stack(modules) if name == "periodic_mlp" else modules[0]
    opt = FlatOptimizer(net.parameters(), TrainConfig(lr=1e-3))
    by_lr = {round(g["lr"], 9): sum(p.numel() for p in g["params"]) for g in opt.param_groups}
    used = modules if name == "periodic_mlp" else modules[:1]
    n_freq = sum(p.numel() for m in used for k, p in m.named_parameters() if k.endswith("periodic.weight"))
    assert n_freq > 0
    assert by_lr[0.007] == n_freq  # the frequencies alone, at 7 x the base rate
    assert 0.001 in by_lr


@pytest.mark.parametrize("softmax_output", [False, True])
def test_manual_gradients_match_autograd(softmax_output):
    """The hand-written backward pass for plain stacked MLPs gives autograd's losses and gradients."""
    import torch
    from torch import nn

    from models.engine import manual_backward
    from models.engine.trainer import EnsembleLinear, member_losses, stack

    torch.manual_seed(0)

    def net():
        layers = [nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4)]
        return nn.Sequential(*layers, *([nn.Softmax(dim=-1)] if softmax_output else []))

    stacked = stack([net() for _ in range(3)])
    assert manual_backward.applies(stacked, EnsembleLinear)
    x, y = torch.randn(3, 5, 3), torch.randint(0, 4, (3, 5))
    losses = member_losses(stacked(x), y)
    losses.sum().backward()
    expected = [p.grad.clone() for p in stacked.parameters()]
    manual = manual_backward.losses_and_grads(stacked, x, y)
    torch.testing.assert_close(manual, losses.detach())
    for p, g in zip(stacked.parameters(), expected):
        torch.testing.assert_close(p.grad, g)


def test_manual_gradients_only_for_plain_mlps():
    from torch import nn

    from models.engine import manual_backward
    from models.engine.trainer import EnsembleLinear, stack

    def stacked(*layers):
        return stack([nn.Sequential(*[copy.deepcopy(m) for m in layers]) for _ in range(2)])

    assert not manual_backward.applies(stacked(nn.Linear(2, 4), nn.SELU(), nn.Linear(4, 3)), EnsembleLinear)
    assert not manual_backward.applies(
        stacked(nn.Linear(2, 4), nn.ReLU(), nn.Dropout(0.1), nn.Linear(4, 3)), EnsembleLinear
    )
    assert not manual_backward.applies(stacked(nn.Linear(2, 4), nn.Softmax(-1), nn.Linear(4, 3)), EnsembleLinear)
    assert manual_backward.applies(stacked(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3), nn.Softmax(-1)), EnsembleLinear)


def test_select_after_keeps_each_seeds_best_candidate_training():
    """After ``select_after`` epochs only each seed's best sigma trains on; the kept one is that."""
    tasks = []
    for seed in range(2):
        X, y = datasets.generate("sum_bin", n=300, seed=seed)
        tasks.append(FitTask(X, y))
    params = {"max_epochs": 12, "width": 16, "patience": 50, "select_after": 3}
    ests = [models.create("fourier_mlp", seed=s, device="cpu", **params) for s in range(2)]
    models.fit_batch(ests, tasks)
    for est in ests:
        assert est.result_.epochs == 12  # the kept candidate trained on
        scores = [(acc, -loss) for _, acc, loss in est.candidate_scores_]
        assert len(scores) == 3
        kept = [c for c, _, _ in est.candidate_scores_].index(est.candidate_)
        assert scores[kept] == max(scores)
