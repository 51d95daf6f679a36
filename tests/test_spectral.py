"""spectral_mlp finds the labels' frequency from (X, y) alone, for variants it was not tuned on."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

import datasets
import models
from models.spectral import find_frequencies


def _found(params, n=2000, seed=0):
    X, y = datasets.generate("sum_mod", n=n, seed=seed, **params)
    return find_frequencies(X, y, datasets.n_classes("sum_mod", **params))[0]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"scale": 37.0},
        {"scale": 150.0, "n_classes": 2},
        {"n_classes": 5},
        {"weights": (1.0, 2.0)},
        {"weights": (0.3, 1.0)},
        {"n_noise_features": 6},
        {"label_noise": 0.2},
    ],
)
def test_dominant_frequency_is_the_generators(params):
    merged = datasets.default_params("sum_mod") | params
    w = np.zeros(2 + merged["n_noise_features"])
    w[:2] = merged["weights"]
    truth = w * merged["scale"] / merged["n_classes"]  # cycles per unit of x, along the weights
    found = _found(params)
    assert min(np.abs(found - truth).max(), np.abs(found + truth).max()) < 0.05 * np.abs(truth).max()


def test_one_feature_and_many_features_are_handled():
    X, y = datasets.generate("sum_mod", n=1500, seed=0, weights=(1.0,))
    assert abs(abs(find_frequencies(X, y, 3)[0][0]) - 100 / 3) < 0.5
    X, y = datasets.generate("sum_mod", n=3000, seed=0, n_noise_features=18)
    f = find_frequencies(X, y, 3, max_pairs=50, rng=np.random.default_rng(0))  # capped pairs: bounded cost
    assert f.shape == (4, 20)


def test_fit_beats_chance_by_far_on_sum_mod():
    X, y = datasets.generate("sum_mod", n=2000, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    est = models.create("spectral_mlp", seed=0, device="cpu").fit(X_train, y_train)
    assert np.mean(est.predict(X_test) == y_test) > 0.97


def test_frequency_is_exact_through_a_phase_jump():
    """weights (1, -0.5): int() truncates toward zero, so the stripes jump by one at s = 0.

    A search that scores one phase for all rows settles ~1% off (33.0 for 33.33); the split-aware
    phase entropy recovers the frequency to 0.1%.
    """
    X, y = datasets.generate("sum_mod", n=1600, seed=0, weights=(1.0, -0.5))
    found = find_frequencies(X, y, 3)[0]
    truth = np.array([1.0, -0.5]) * 100 / 3
    assert min(np.abs(found - truth).max(), np.abs(found + truth).max()) < 1e-3 * 100 / 3


def test_spectral_xgboost_cuts_the_phase_jump_exactly():
    X, y = datasets.generate("sum_mod", n=2000, seed=0, weights=(1.0, -0.5))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    est = models.create("spectral_xgboost", seed=0, device="cpu", n_threads=1).fit(X_train, y_train)
    assert np.mean(est.predict(X_test) == y_test) > 0.98
    plain = models.create("xgboost", seed=0, device="cpu", n_threads=1).fit(X_train, y_train)
    assert np.mean(plain.predict(X_test) == y_test) < 0.5  # the same trees on raw x: chance
