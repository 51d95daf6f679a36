"""The frontier suite's structure: one-hot offsets, sparse phases in high dimension (datasets
``cat_mod``, ``warp_mod``, and ``sum_mod`` with many noise features)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import datasets
from models.base import standard_scale
from models.spectral.phases import Lift, find_phases


@pytest.mark.parametrize("seed", [2, 3])
def test_lifted_columns_of_one_hot_features_stay_bounded_in_float32(seed, monkeypatch):
    # Products of two one-hot columns of one categorical are exactly 0, but come back as +-3e-17
    # from the standardised rows; min-max scaling by that span made float32 inputs of 1e9 and
    # spectral_mlp fell to chance on cat_mod seed 2. Every lifted column must stay within [0, 1].
    from models.spectral import phases as module

    # The per-category offsets now explain cat_mod linearly; without them the search goes lifted.
    monkeypatch.setattr(module, "offset_phase", lambda Z, y, k, omega: omega)
    X, y = datasets.generate("cat_mod", n=1600, seed=seed)
    mean, scale = standard_scale(X)
    Z = (X - mean) / scale
    phases = find_phases(Z, y, 3, mean, scale, harmonics=False, rng=np.random.default_rng(seed))
    assert phases.lifted  # the case that broke: the one-hot offsets send the search to the dictionary
    C = Lift(phases)(torch.as_tensor(Z, dtype=torch.float32))
    assert float(C.abs().max()) <= 1.0 + 1e-3


def test_spectral_mlp_is_stable_across_seeds_on_one_hot_offsets():
    import models

    for seed in (2,):  # the seed that fell to 0.33 before
        X, y = datasets.generate("cat_mod", n=2000, seed=seed)
        order = np.random.default_rng(seed).permutation(len(y))
        train, test = order[:1600], order[1600:]
        est = models.create("spectral_mlp", seed=seed, device="cpu", n_threads=1).fit(X[train], y[train])
        assert (est.predict(X[test]) == y[test]).mean() > 0.9


@pytest.mark.parametrize("seed", range(5))
def test_one_hot_offsets_and_a_sub_harmonic_are_fitted_on_half_the_rows_and_kept_on_the_other(seed):
    from models.spectral.phases import explained, offset_phase

    X, y = datasets.generate("cat_mod", n=1600, seed=seed, n_categories=8, scale=20.0)
    mean, scale = standard_scale(X)
    Z = (X - mean) / scale
    plain = find_phases(Z, y, 3, mean, scale, harmonics=False, rng=np.random.default_rng(seed))
    # The label's period along x0 + x1 is 3 / 20: frequency 20 / 3 per unit, times x's std in z units.
    omega = plain.omegas[0]
    assert abs(abs(omega[0]) - 20 / 3 * scale[0]) < 0.1 * 20 / 3 * scale[0], "the fundamental, not a harmonic"
    assert explained(Z, y, 3, omega) > 0.85, "offsets on the 8 one-hot columns make the stripes coherent"
    noise = np.random.default_rng(seed).integers(0, 3, len(y))
    w = np.zeros(Z.shape[1])
    w[:2] = omega[:2]
    assert np.array_equal(offset_phase(Z, noise, 3, w), w), "labels independent of x: nothing is kept"


@pytest.mark.parametrize(("n_categories", "scale"), [(3, 40.0), (8, 20.0)])
def test_the_offset_grid_scored_at_once_picks_what_one_call_per_offset_picks(n_categories, scale):
    from models.spectral.phases import OFFSET_GRID, _fit_offsets, explained

    def one_by_one(Z, y, k, omega, binary):  # the ascent as first written: explained() per grid point
        omega = omega.copy()
        current = explained(Z, y, k, omega)
        for _sweep in range(2):
            for j in binary:
                lo, hi = np.unique(Z[:, j])
                start, best = omega[j], (current, omega[j])
                for g in range(1, OFFSET_GRID):
                    omega[j] = start + g / OFFSET_GRID / (hi - lo)
                    if (score := explained(Z, y, k, omega)) > best[0]:
                        best = (score, omega[j])
                current, omega[j] = best
        return omega

    X, y = datasets.generate("cat_mod", n=800, seed=1, n_categories=n_categories, scale=scale, n_numeric=1)
    mean, scale_ = standard_scale(X)
    Z = (X - mean) / scale_
    omega = np.zeros(Z.shape[1])
    omega[0] = scale / 3 * scale_[0]
    binary = list(range(1, 1 + n_categories))
    np.testing.assert_array_equal(_fit_offsets(Z, y, 3, omega, binary), one_by_one(Z, y, 3, omega, binary))


def test_frontier_generators_are_reproducible_and_shaped():
    X, y = datasets.generate("cat_mod", n=100, seed=0, n_categories=5, n_noise_features=3)
    assert X.shape == (100, 2 + 5 + 3) and set(np.unique(X[:, 2:7])) == {0.0, 1.0}
    assert np.all(X[:, 2:7].sum(1) == 1) and y.max() < 3
    for warp in ("power", "log", "exp"):
        X1, y1 = datasets.generate("warp_mod", n=100, seed=1, warp=warp, wiggle=0.05)
        X2, y2 = datasets.generate("warp_mod", n=100, seed=1, warp=warp, wiggle=0.05)
        assert X1.shape == (100, 2) and np.array_equal(y1, y2) and np.array_equal(X1, X2)
    with pytest.raises(ValueError):
        datasets.generate("warp_mod", n=10, warp="sqrt")


def _phases(X, y, n_classes, seed):
    mean, scale = standard_scale(X)
    return find_phases((X - mean) / scale, y, n_classes, mean, scale, harmonics=False, rng=np.random.default_rng(seed))


@pytest.mark.parametrize("seed", [0, 1])
def test_a_sparse_phase_among_50_features_is_found_by_screening_every_pair(seed):
    # x0 + x1 among 50 features is one pair of 1,225; a random 200 of them missed it (chance level).
    X, y = datasets.generate("sum_mod", n=1600, seed=seed, n_noise_features=48)
    omega = _phases(X, y, 3, seed).omegas[0]
    assert np.flatnonzero(omega).tolist() == [0, 1]


def test_screening_keeps_no_phase_for_labels_independent_of_x():
    rng = np.random.default_rng(5)
    X, y = rng.random((1600, 50)), rng.integers(0, 3, 1600)
    assert not np.any(_phases(X, y, 3, 5).omegas)


def test_a_four_term_ring_off_the_origin_is_grown_from_a_partial_phase():
    # (x0 - 0.4)^2 + (x1 - 0.6)^2 up to a constant: four dictionary terms; the pairs and triples
    # found (x1, x1^2) only, which explains 0.13 of H(y). Growing it adds x0 and x0^2.
    from models.spectral.phases import explained

    terms = [[1.0, [0, 0]], [1.0, [1, 1]], [-0.8, [0]], [-1.2, [1]]]
    X, y = datasets.generate("poly_mod", n=1600, seed=1, terms=terms, scale=30.0, n_classes=3)
    phases = _phases(X, y, 3, 1)
    mean, scale = standard_scale(X)
    omega = phases.omegas[0]
    assert phases.describe() is not None and {phases.describe()[j] for j in np.flatnonzero(omega)} == {
        "x0",
        "x1",
        "x0^2",
        "x1^2",
    }
    assert explained(phases.columns((X - mean) / scale), y, 3, omega) > 0.8
