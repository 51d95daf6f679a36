"""spectral_mlp finds the labels' frequency from (X, y) alone, for variants it was not tuned on."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

import datasets
import models
from models.spectral.search import find_cut, find_frequencies


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
        {"scale": 1000.0},  # 333 cycles per feature: above the 512-grid's 256, found on the finer grid
        {"weights": (1.0, 10.0)},
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_spectral_xgboost_cuts_the_phase_jump_exactly():
    X, y = datasets.generate("sum_mod", n=2000, seed=0, weights=(1.0, -0.5))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    est = models.create("spectral_xgboost", seed=0, device="cpu", n_threads=1).fit(X_train, y_train)
    assert np.mean(est.predict(X_test) == y_test) > 0.98
    plain = models.create("xgboost", seed=0, device="cpu", n_threads=1).fit(X_train, y_train)
    assert np.mean(plain.predict(X_test) == y_test) < 0.5  # the same trees on raw x: chance


def test_cut_is_found_where_the_phase_jumps_and_only_there():
    """find_cut places the jump of weights (1, -0.5) at s = 0 and finds none without a jump."""
    for params, jumps in [({"weights": (1.0, -0.5)}, True), ({}, False), ({"label_noise": 0.3}, False)]:
        X, y = datasets.generate("sum_mod", n=1600, seed=0, **params)
        omega = find_frequencies(X, y, 3)[0]
        cut = find_cut(X, y, 3, omega)
        if not jumps:
            assert cut == np.inf, params
            continue
        t = X @ omega
        at_cut = X[np.argsort(np.abs(t - cut))[:2], :2] @ np.array([1.0, -0.5])  # rows either side
        assert np.abs(at_cut).max() < 0.01  # within one stripe (1/100) of s = 0


def test_labels_independent_of_x_give_no_peaks():
    X, y = datasets.generate("sum_mod", n=1600, seed=0)
    y = np.random.default_rng(0).permutation(y)
    assert not find_frequencies(X, y, 3).any()
    X, y = datasets.generate("sum_mod", n=1600, seed=0, label_noise=0.4)  # the pattern survives the noise
    peaks = find_frequencies(X, y, 3, harmonics=False)
    assert (np.abs(peaks).sum(1) > 0).sum() == 2  # the fundamental and its second harmonic, nothing spurious
    truth = np.array([1.0, 1.0]) * 100 / 3
    for h, row in enumerate(find_frequencies(X, y, 3), start=1):  # the other rows: further harmonics
        assert np.abs(np.abs(row) - h * truth).max() < 0.01 * h * truth.max()


@pytest.mark.slow
def test_a_direction_across_three_features_is_found_by_triples():
    """x0 + x1 + x2 at 100 stripes averages away in every pair; the triple search finds it."""
    X, y = datasets.generate("sum_mod", n=1600, seed=0, weights=(1.0, 1.0, 1.0), n_noise_features=1)
    found = find_frequencies(X, y, 3)[0]
    truth = np.array([1.0, 1.0, 1.0, 0.0]) * 100 / 3
    assert min(np.abs(found - truth).max(), np.abs(found + truth).max()) < 0.01 * 100 / 3


@pytest.mark.slow
def test_spectral_mlp_learns_both_sides_of_the_phase_jump():
    """Rows within 3 stripes of the jump: the side features make them as easy as the rest.

    Without them the MLP must learn a sharp step from x; it blurred it (0.90 and 0.68 in this
    band for seeds 0 and 1, against 0.98 and 0.985 with the side features).
    """
    X, y = datasets.generate("sum_mod", n=1600, seed=0, weights=(1.0, -0.5))
    X_test, y_test = datasets.generate("sum_mod", n=50000, seed=1, weights=(1.0, -0.5))
    band = np.abs(X_test @ np.array([1.0, -0.5])) < 0.03
    est = models.create("spectral_mlp", seed=1, device="cpu", n_threads=1).fit(X, y)
    assert np.isfinite(est.cut_found_)
    assert np.mean(est.predict(X_test[band]) == y_test[band]) > 0.95


def _direct_entropy(phase, side, y, n_classes, bins, offset):
    """n H(y | side, phase bin) counted row by row: the reference for the vectorised scores."""
    counts = {}
    for p, s, label in zip(phase, side, y):
        key = (s, int(np.floor(p * bins + offset)) % bins)
        counts.setdefault(key, np.zeros(n_classes))[label] += 1
    total = 0.0
    for c in counts.values():
        q = c[c > 0] / c.sum()
        total -= (c[c > 0] * np.log(q)).sum()
    return total


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_vectorised_scores_equal_direct_sums(n_classes):
    """The fast paths (harmonics by angle addition, entropy by table look-up in a (slab, frequency,
    class, bin) layout, K - 1 transforms on the grid) equal the sums written out directly."""
    from models.spectral import search as fs

    rng = np.random.default_rng(n_classes)
    n = 300
    X, y = rng.random((n, 2)), rng.integers(0, n_classes, n)
    omegas = rng.normal(size=(5, 2)) * 6
    Yc = fs._centred_onehot(y, n_classes)
    direct = [sum(np.abs(np.exp(2j * np.pi * h * X @ w) @ Yc).__pow__(2).sum() for h in (1, 2, 3)) / n for w in omegas]
    assert np.allclose(fs.periodogram(X, Yc, omegas, harmonics=3), direct, rtol=1e-10)

    bins, segments = fs._phase_bins(n, n_classes), 4
    scores = fs.phase_entropy(X, y, n_classes, omegas, bins, segments)
    for w, score in zip(omegas, scores):
        t = X @ w
        slab = np.minimum(((t - t.min()) / (t.max() - t.min()) * segments).astype(int), segments - 1)
        cycles = (t.max() - t.min()) / segments
        cuts = [  # after slab k, where both sides span MIN_CYCLES periods, or none (k = segments - 1)
            k for k in range(segments) if k == segments - 1 or min(k + 1, segments - 1 - k) * cycles >= fs.MIN_CYCLES
        ]
        best = [  # per bin offset, the best cut
            min(_direct_entropy(np.mod(t, 1.0), slab > k, y, n_classes, bins, o) for k in cuts) for o in fs.BIN_OFFSETS
        ]
        assert score == pytest.approx(np.mean(best) / n, rel=1e-10)

    grid = 16
    power = (
        sum(
            np.abs(np.fft.fft2(np.histogram2d(X[:, 0], X[:, 1], grid, [[0, 1], [0, 1]], weights=Yc[:, c])[0])) ** 2
            for c in range(n_classes)
        )[:, : grid // 2 + 1]
        / n
    )
    power[0, 0] = 0.0
    peaks = fs._grid_peaks(X, Yc, grid, 1)
    assert peaks[0][0] == pytest.approx(power.max(), rel=1e-10)


@pytest.mark.parametrize("scale", [0.05, 3.0, 30.0])
def test_phase_entropy_of_a_column_does_not_depend_on_the_columns_scored_with_it(scale):
    # The offset search scores its grid in one call and compares with single scores: bit for bit.
    from models.spectral import search as fs
    from models.spectral.search import SEGMENTS, entropy_given_phases

    rng = np.random.default_rng(int(scale * 100))
    n, k = 1500, 3
    t = rng.normal(size=(n, 40)) * scale * rng.uniform(0.1, 3, 40)
    t[:3] = -1e-18  # fractions that round to a whole cycle
    y = rng.integers(0, k, n)
    bins = fs._phase_bins(n, k)
    together = entropy_given_phases(t, y, k, bins, SEGMENTS)
    alone = [entropy_given_phases(t[:, [j]], y, k, bins, SEGMENTS)[0] for j in range(t.shape[1])]
    np.testing.assert_array_equal(together, alone)
