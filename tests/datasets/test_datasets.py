"""Datasets: identical labels to the seed's own per-row functions, seeded, validated."""

import numpy as np
import pytest

import datasets

NUM_CLASSES = 3


# A literal port of the seed thread's functions (the `+` the translation lost restored).
def sum_mod_label(x):
    return np.array([x for x in map(lambda x: x % NUM_CLASSES, map(int, (x[:, 0] + x[:, 1]) * 100))])  # noqa: C417


def sum_bin_label(x):
    def binit(x):
        if x < 0.807:
            return 0
        if x < 1.169:
            return 1
        return 2

    return np.array([x for x in map(lambda x: binit(x), x[:, 0] + x[:, 1])])  # noqa: C417


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_labels_equal_the_seed_functions(seed):
    X, y = datasets.generate("sum_mod", n=5000, seed=seed)
    assert np.array_equal(y, sum_mod_label(X))
    X, y = datasets.generate("sum_bin", n=5000, seed=seed)
    assert np.array_equal(y, sum_bin_label(X))


def test_shapes_dtypes_and_distribution():
    X, y = datasets.generate("sum_mod", n=2000, seed=0)
    assert X.shape == (2000, 2) and X.dtype == np.float64
    assert y.shape == (2000,) and y.dtype == np.int64
    assert X.min() >= 0 and X.max() < 1
    assert set(np.unique(y)) == {0, 1, 2}


def test_same_seed_same_data_other_seed_other_data():
    a = datasets.generate("sum_mod", n=100, seed=3)
    b = datasets.generate("sum_mod", n=100, seed=3)
    c = datasets.generate("sum_mod", n=100, seed=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_variants():
    X, y = datasets.generate("sum_mod", n=3000, seed=0, n_classes=5, scale=37.0)
    assert np.array_equal(y, np.trunc((X[:, 0] + X[:, 1]) * 37.0).astype(int) % 5)
    X, y = datasets.generate("sum_mod", n=100, seed=0, n_noise_features=3, weights=(1.0, 2.0, -1.0))
    assert X.shape == (100, 6)
    s = X[:, 0] + 2 * X[:, 1] - X[:, 2]
    assert np.array_equal(y, np.array([int(v) % 3 for v in s * 100]))  # Python int() and % semantics
    X, y = datasets.generate("sum_bin", n=100, seed=0, thresholds=(0.5,))
    assert set(np.unique(y)) <= {0, 1} and datasets.n_classes("sum_bin", thresholds=(0.5,)) == 2


def test_label_noise_rate_matches_ceiling():
    X, clean = datasets.generate("sum_mod", n=20000, seed=0)
    _, noisy = datasets.generate("sum_mod", n=20000, seed=0, label_noise=0.3)
    agree = np.mean(clean == noisy)
    assert abs(agree - datasets.ceiling("sum_mod", label_noise=0.3)) < 0.015
    assert datasets.ceiling("sum_mod", label_noise=0.3) == pytest.approx(1 - 0.3 * 2 / 3)


@pytest.mark.parametrize(
    "name, kwargs, match",
    [
        ("nope", {}, "unknown dataset 'nope'; choose from sum_bin, sum_mod"),
        ("sum_mod", {"n": 0}, "n must be a positive integer"),
        ("sum_mod", {"n_classes": 1}, "n_classes must be an integer >= 2"),
        ("sum_mod", {"scale": -1.0}, "scale must be a positive"),
        ("sum_mod", {"label_noise": 1.5}, "label_noise must be in"),
        ("sum_bin", {"thresholds": (1.0, 0.5)}, "increasing"),
        ("sum_bin", {"n_classes": 3}, r"unknown parameter\(s\) \['n_classes'\]"),
    ],
)
def test_bad_input_is_a_clear_error(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.generate(name, **({"n": 10} | kwargs))
