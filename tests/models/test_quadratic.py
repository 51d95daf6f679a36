"""Quadratic phases of a pair of features, from the stripes' local frequencies
(models/spectral/quadratic.py), and the stage of find_phases that uses them."""

from __future__ import annotations

import numpy as np
import pytest

import datasets
from models.base import standard_scale
from models.spectral import quadratic
from models.spectral.phases import Phases, dictionary, explained, find_phases, lift, quadratic_phase


def _phases(X, y, n_classes, seed):
    mean, scale = standard_scale(X)
    return find_phases((X - mean) / scale, y, n_classes, mean, scale, harmonics=False, rng=np.random.default_rng(seed))


def _lifted(X):
    monomials = dictionary(X.shape[1])
    raw = lift(X, monomials)
    lo, span = raw.min(0), raw.max(0) - raw.min(0)
    return (raw - lo) / span, monomials, lo, span


@pytest.mark.parametrize("seed", range(3))
def test_the_gradient_field_is_recovered_from_frequencies_of_unknown_sign(seed):
    # Exact local frequencies grad t = A u + g at the patch centres, each with a random sign (as a
    # real signal's periodogram gives them): the fit returns t's coefficients up to t's own sign.
    rng = np.random.default_rng(seed)
    a00, a11, a01, g0, g1 = rng.normal(0, 10, 5)
    c = (np.arange(4) + 0.5) / 4
    centres = np.array([(x, y) for x in c for y in c])
    grad = np.stack([a00 * centres[:, 0] + a01 * centres[:, 1] + g0, a01 * centres[:, 0] + a11 * centres[:, 1] + g1], 1)
    signs = rng.choice([-1.0, 1.0], len(centres))[:, None]
    coef = quadratic.gradient_field(centres, grad * signs, rng.uniform(1, 5, len(centres)))
    truth = np.array([g0 + a00 / 2 + a01 / 2, g1 + a11 / 2 + a01 / 2, a00 / 2, a11 / 2, a01])
    assert np.allclose(coef, truth, atol=1e-8) or np.allclose(coef, -truth, atol=1e-8)


def test_centred_coefficients_map_to_the_same_phase_over_the_dictionary():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, (500, 3))
    D, monomials, lo, span = _lifted(X)
    coef = rng.normal(0, 5, 5)
    pair = (0, 2)
    U = D[:, [monomials.index((0,)), monomials.index((2,))]]
    difference = quadratic.centred_basis(U) @ coef - D @ quadratic.to_dictionary(coef, pair, monomials, lo, span)
    assert np.ptp(difference) < 1e-9  # the same phase up to a constant
    omega = quadratic.to_dictionary(coef, pair, monomials, lo, span)
    assert {monomials[k] for k in np.flatnonzero(omega)} <= {(0,), (2,), (0, 0), (2, 2), (0, 2)}


QUADRATICS = {
    "ring off the origin": [[1.0, [0, 0]], [1.0, [1, 1]], [-0.8, [0]], [-1.2, [1]]],
    "tilted ellipse": [[1.0, [0, 0]], [0.5, [1, 1]], [0.6, [0, 1]], [-1.1, [0]], [-0.4, [1]]],
    "saddle": [[1.0, [0, 0]], [-1.0, [1, 1]], [-0.9, [0]], [0.7, [1]]],
}


@pytest.mark.parametrize("name", QUADRATICS)
def test_a_quadratic_phase_of_five_or_four_terms_is_fitted_and_explains_fresh_rows(name):
    X, y = datasets.generate("poly_mod", n=2400, seed=3, terms=QUADRATICS[name], scale=30.0, n_classes=3)
    D, monomials, lo, span = _lifted(X)
    omega = quadratic.fit_pair(D[:1600], y[:1600], 3, (0, 1), monomials, lo, span)
    assert omega is not None
    assert explained(D[1600:], y[1600:], 3, omega) > 0.85  # rows the fit never saw
    used = {monomials[k] for k in np.flatnonzero(omega)}
    assert used == {tuple(m) for _, m in QUADRATICS[name]}  # no spurious term survives


def _poly(X, omega_on):
    """A lifted Phases over X (d = 2) whose first phase uses the dictionary columns ``omega_on``."""
    mean, scale = standard_scale(X)
    D, monomials, lo, span = _lifted(X)
    omegas = np.zeros((4, len(monomials)))
    for m, v in omega_on.items():
        omegas[0, monomials.index(m)] = v
    return D, Phases(omegas, monomials, mean, scale, lo, span)


@pytest.mark.parametrize("seed", range(3))
def test_the_stage_keeps_nothing_for_labels_independent_of_x_or_for_a_threshold(seed):
    rng = np.random.default_rng(seed)
    X = rng.random((1600, 2))
    noise = rng.integers(0, 3, 1600)
    threshold = (X[:, 0] + X[:, 1] > 1).astype(np.int64)
    for y, k in ((noise, 3), (threshold, 2)):
        D, poly = _poly(X, {(0, 0): 3.0, (1,): -2.0})
        assert quadratic_phase(D, y, k, poly) is None


@pytest.mark.parametrize("n_classes, terms, scale", [
    (3, [[1.0, [0, 0]], [1.0, [1, 1]], [-0.8, [0]], [-1.2, [1]]], 30.0),
    (2, [[1.0, [0, 0]], [1.0, [1, 1]], [-0.6, [0]], [-0.6, [1]]], 25.0),
])  # fmt: skip
@pytest.mark.parametrize("seed", [4])
def test_rings_the_scans_got_wrong_are_found_whole(n_classes, terms, scale, seed):
    # Seed 4 of each frontier ring: the scans found (x1, x1^2) and grew a cross term (3 classes), or
    # found x0^2 + x1^2 with a spurious x0 x1 and nothing to grow (2 classes): 0.26 and 0.21 of H(y).
    X, y = datasets.generate("poly_mod", n=1600, seed=seed, terms=terms, scale=scale, n_classes=n_classes)
    phases = _phases(X, y, n_classes, seed)
    assert phases.explained > 0.9
    assert {phases.describe()[j] for j in np.flatnonzero(phases.omegas[0])} == {"x0", "x1", "x0^2", "x1^2"}
