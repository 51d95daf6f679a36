"""Polynomial phases: the poly_mod generator and the lifted stage of the frequency search."""

import numpy as np
import pytest
import torch

import datasets
import models
from models.spectral.phases import Lift, dictionary, explained, find_phases, lift

SQUARE_PLUS_LINE = {"terms": [[1.0, [1, 1]], [0.5, [0]]], "scale": 25.0, "n_classes": 2}


def test_poly_mod_labels_follow_the_polynomial():
    X, y = datasets.generate("poly_mod", n=500, seed=3, terms=[[2.0, [0, 1]], [-1.0, [2]]], scale=7.0, n_classes=4)
    assert X.shape == (500, 3) and y.dtype == np.int64
    np.testing.assert_array_equal(y, np.mod(np.floor(7.0 * (2 * X[:, 0] * X[:, 1] - X[:, 2])).astype(int), 4))
    X2, y2 = datasets.generate("poly_mod", n=500, seed=3, terms=[[2.0, [0, 1]], [-1.0, [2]]], scale=7.0, n_classes=4)
    np.testing.assert_array_equal(X, X2)
    assert datasets.generate("poly_mod", n=10, seed=0, n_noise_features=2)[0].shape == (10, 4)
    assert datasets.ceiling("poly_mod", n_classes=3, label_noise=0.3) == pytest.approx(0.8)


@pytest.mark.parametrize("terms", [[], [[1.0, []]], [[1.0, [-1]]], [["a", [0]]], [[np.inf, [0]]], "x0"])
def test_poly_mod_refuses_bad_terms(terms):
    with pytest.raises(ValueError, match="terms"):
        datasets.generate("poly_mod", n=10, seed=0, terms=terms)


def test_dictionary_and_lift():
    assert dictionary(2) == ((0,), (1,), (0, 0), (1, 1), (0, 1))
    X = np.array([[2.0, 3.0]])
    np.testing.assert_array_equal(lift(X, dictionary(2)), [[2.0, 3.0, 4.0, 9.0, 6.0]])


def _phases(name: str, n: int = 2000, seed: int = 0, **params):
    X, y = datasets.generate(name, n=n, seed=seed, **params)
    mean, scale = X.mean(0), X.std(0)
    return find_phases((X - mean) / scale, y, int(y.max()) + 1, mean, scale), X, y, mean, scale


def test_a_polynomial_phase_is_found_in_the_lifted_columns():
    phases, X, y, mean, scale = _phases("poly_mod", **SQUARE_PLUS_LINE)
    assert phases.lifted
    top = dict(zip(phases.describe(), phases.omegas[0]))
    strongest = sorted(top, key=lambda c: -abs(top[c]))[:2]
    assert set(strongest) == {"x1^2", "x0"}  # the phase's two terms, nothing else
    # The torch layer computes the same columns as the search.
    Z = (X - mean) / scale
    torch.testing.assert_close(
        Lift(phases)(torch.as_tensor(Z, dtype=torch.float32)).double(),
        torch.as_tensor(phases.columns(Z)),
        atol=1e-5,
        rtol=0,
    )


def test_a_three_term_phase_is_found_from_the_pair_that_sees_part_of_it():
    """floor(20 (x0^2 + x1^2 + x0 x1)) mod 3: the pair (x0^2, x1^2) shows a weak peak that explains
    little; the triples of its raw features (x0, x1) find all three terms."""
    three = {"terms": [[1.0, [0, 0]], [1.0, [1, 1]], [1.0, [0, 1]]], "scale": 20.0, "n_classes": 3}
    phases, X, y, mean, scale = _phases("poly_mod", **three)
    top = dict(zip(phases.describe(), np.abs(phases.omegas[0]) / np.ptp(lift(X, phases.monomials), 0)))
    assert {c for c, w in top.items() if w > 1.0} == {"x0^2", "x1^2", "x0*x1"}
    # cycles per unit of each monomial: scale / n_classes for every term
    assert [top[c] for c in ("x0^2", "x1^2", "x0*x1")] == pytest.approx([20 / 3] * 3, rel=0.03)
    assert explained(phases.columns((X - mean) / scale), y, 3, phases.omegas[0]) > 0.9


def test_raw_pair_triples():
    from models.spectral.phases import _raw_pair_triples

    monomials = dictionary(3)
    assert len(_raw_pair_triples(monomials, 3)) == 3 * 10  # 3 raw pairs, 5 columns each
    triples = _raw_pair_triples(monomials, 3, [(0, 2)])
    assert len(triples) == 10
    assert {i for t in triples for k in t for i in monomials[k]} == {0, 2}


def test_a_linear_phase_is_not_lifted():
    phases, *_ = _phases("sum_mod")
    assert not phases.lifted


def test_labels_independent_of_x_find_no_lifted_phase():
    rng = np.random.default_rng(0)
    X, y = rng.random((2000, 3)), rng.integers(0, 3, 2000)
    mean, scale = X.mean(0), X.std(0)
    phases = find_phases((X - mean) / scale, y, 3, mean, scale)
    assert not phases.lifted or not np.any(phases.omegas)


@pytest.mark.parametrize("name", ["spectral_xgboost", "spectral_mlp"])
def test_spectral_families_learn_a_polynomial_phase(name):
    X, y = datasets.generate("poly_mod", n=2000, seed=1, **SQUARE_PLUS_LINE)
    est = models.create(name, seed=0, device="cpu", n_threads=1).fit(X[:1600], y[:1600])
    assert np.mean(est.predict(X[1600:]) == y[1600:]) > 0.95
    xgb = models.create("xgboost", seed=0, device="cpu", n_threads=1).fit(X[:1600], y[:1600])
    assert np.mean(xgb.predict(X[1600:]) == y[1600:]) < 0.8  # what the trees make of it alone


def test_seeds_with_and_without_lifted_columns_train_in_one_call():
    tasks, ests = [], []
    for seed, (name, params) in enumerate([("poly_mod", SQUARE_PLUS_LINE), ("sum_mod", {})]):
        X, y = datasets.generate(name, n=600, seed=seed, **params)
        tasks.append(models.base.FitTask(X, y))
        ests.append(models.create("spectral_mlp", seed=seed, device="cpu", max_epochs=3))
    models.fit_batch(ests, tasks)
    assert ests[0].phase_columns_ is not None and ests[1].phase_columns_ is None


def test_structure_suite_cells_and_datasets():
    from bench.run import suites

    (suite,) = suites.SUITES["structure"]
    assert len(suite.cells()) == len(suites.STRUCTURE) * len(suite.models) * len(suite.seeds)
    for name, params in suites.STRUCTURE:
        X, y = datasets.generate(name, n=50, seed=0, **params)
        assert X.shape[1] <= 6 and set(np.unique(y)) <= set(range(params["n_classes"]))


@pytest.mark.parametrize("name", ["spectral_xgboost", "spectral_mlp"])
def test_the_record_says_which_phase_was_kept_and_how_much_it_explains(name):
    X, y = datasets.generate("sum_mod", n=1000, seed=0)
    info = models.create(name, seed=0, device="cpu", **({"max_epochs": 2} if name == "spectral_mlp" else {})).fit(X, y)
    info = info.fit_info()
    assert info["phases_kept"] >= 1 and info["phase_explained"] > 0.9
    assert "*x0" in info["phase"] and "*x1" in info["phase"]
    noise = np.random.default_rng(1).integers(0, 3, len(y))
    info = models.create(name, seed=0, device="cpu", **({"max_epochs": 2} if name == "spectral_mlp" else {}))
    info = info.fit(np.random.default_rng(0).normal(size=(1000, 8)), noise).fit_info()
    assert info["phases_kept"] == 0 and info["phase"] is None and info["phase_explained"] == 0.0
