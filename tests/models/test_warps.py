"""Per-feature warps of a found phase (models/spectral/warps.py): found where the stripes follow a
warped axis, never kept on labels without one, and the same in numpy and torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import datasets
import models
from models.base import standard_scale
from models.spectral import warps
from models.spectral.phases import PhaseColumns, Phases, find_phases


def _split_phases(name: str, seed: int, n: int = 2000, **params):
    X, y = datasets.generate(name, n=n, seed=seed, **params)
    train, test = np.arange(n * 4 // 5), np.arange(n * 4 // 5, n)
    mean, scale = standard_scale(X[train])
    Z = (X - mean) / scale
    k = int(y.max()) + 1
    phases = find_phases(Z[train], y[train], k, mean, scale, harmonics=False, rng=np.random.default_rng(seed))
    return phases, Z[test], y[test], k


@pytest.mark.parametrize(("warp", "seed"), [("power", 0), ("log", 1), ("exp", 2)])
def test_stripes_along_a_warped_axis_are_found_by_warping_that_feature(warp, seed):
    # floor(20 (g(x0) + x1)) mod 3 with g = x0^3, log(1 + 20 x0) / log 21 or (e^{3 x0} - 1) / (e^3 - 1):
    # outside the degree-2 dictionary; the best linear or lifted phase explains ~0.3-0.6 of H(y).
    params = {"power": {"power": 3.0}, "log": {"rate": 20.0}, "exp": {"rate": 3.0}}[warp]
    phases, Z, y, k = _split_phases("warp_mod", seed, warp=warp, **params)
    assert phases.warp is not None and 0 in phases.warp.features
    t = phases.columns(Z) @ phases.omegas[0]
    assert warps.score(t, y, k) > 0.8, "on rows the search never saw"
    assert phases.summary()["phase_warp"].startswith("psi(x0)")


@pytest.mark.parametrize("seed", range(3))
def test_noise_and_a_threshold_keep_no_warp(seed):
    rng = np.random.default_rng(seed)
    X = rng.random((1600, 4))
    noise = rng.integers(0, 3, 1600)
    Z = (X - X.mean(0)) / X.std(0)
    t = Z @ np.array([3.0, 2.0, 0.0, 0.0])  # a phase the labels do not follow
    assert warps.fit_warp(Z, t, noise, 3, [0, 1, 2, 3], seed=seed) is None
    phases, *_ = _split_phases("sum_bin", seed, n_noise_features=8)
    assert phases.warp is None


def test_a_phase_that_already_explains_the_labels_is_not_warped():
    phases, Z, y, k = _split_phases("sum_mod", 0)
    assert phases.warp is None and not phases.lifted


def test_the_warp_column_is_the_same_in_torch_as_in_numpy_inside_and_outside_the_training_range():
    knots = (np.array([-1.0, 0.0, 0.5, 2.0]), np.array([-2.0, 1.0]))
    values = (np.array([0.0, 1.0, -0.5, 3.0]), np.array([0.2, -0.2]))
    warp = warps.Warp((0, 2), knots, values)
    Z = np.random.default_rng(0).normal(scale=2.0, size=(500, 3))
    module = warps.WarpColumn(warp)
    got = module(torch.as_tensor(Z, dtype=torch.float32)).double().numpy()
    assert np.allclose(got, warp(Z), atol=1e-5)
    phases = Phases(np.array([[1.0, 0.0, 0.0, 1.0]]), warp=warp)
    cols = PhaseColumns(phases)(torch.as_tensor(Z, dtype=torch.float32)).double().numpy()
    assert np.allclose(cols, phases.columns(Z), atol=1e-5) and cols.shape == (500, 4)


def test_the_end_segments_are_extended_to_the_training_range():
    k, v = warps._extended(np.array([0.0, 1.0]), np.array([0.0, 2.0]), -0.5, 1.5)
    assert np.allclose(k, [-0.5, 0.0, 1.0, 1.5]) and np.allclose(v, [-1.0, 0.0, 2.0, 3.0])


def test_a_warp_stays_last_when_category_columns_are_appended():
    # find_numeric_phases searches the numeric columns only and pads the others with zero frequency:
    # the warp's column must stay the last one, after them.
    from models.preprocessing import find_numeric_phases

    X, y = datasets.generate("warp_mod", n=1600, seed=0, warp="power", power=3.0)
    onehot = np.eye(3)[np.random.default_rng(0).integers(0, 3, len(y))]
    est = models.create("spectral_xgboost", seed=0, device="cpu")
    Xall = np.hstack([X, onehot])
    est.mean_, est.scale_ = standard_scale(Xall)
    est.prep_ = type("Prep", (), {"n_numeric": 2})()
    Z = (Xall - est.mean_) / est.scale_
    phases = find_numeric_phases(est, Z, y, 3, harmonics=False, rng=np.random.default_rng(0))
    assert phases.warp is not None and phases.omegas.shape[1] == 6 and phases.columns(Z).shape == (1600, 6)
    assert np.all(phases.omegas[0, 2:5] == 0) and phases.omegas[0, 5] == 1.0


@pytest.mark.parametrize("name", ["spectral_xgboost", "spectral_mlp"])
def test_spectral_families_learn_stripes_along_a_warped_axis(name):
    X, y = datasets.generate("warp_mod", n=2000, seed=3, warp="log", rate=20.0)
    params = {"max_epochs": 60} if name == "spectral_mlp" else {}
    est = models.create(name, seed=3, device="cpu", n_threads=1, **params).fit(X[:1600], y[:1600])
    assert est.fit_info()["phase_warp"] is not None
    assert (est.predict(X[1600:]) == y[1600:]).mean() > 0.9


def _reference_correction(t, z, y, n_classes, knots):
    """warps._correction as first written: a gather of each row's log-likelihood per slope and
    offset, summed per knot (the reference the counted version must match)."""
    bins = min(warps._phase_bins(len(y), n_classes), 8 * n_classes)
    counts = np.ones((n_classes, bins))
    np.add.at(counts, (y, (np.mod(t, 1.0) * bins).astype(np.int64) % bins), 1.0)
    log_profile = np.log(counts / counts.sum(0))
    nearest = warps._nearest(z, knots)
    gaps = np.diff(knots)
    width = np.maximum(np.concatenate([gaps[:1], gaps]) + np.concatenate([gaps, gaps[-1:]]), 1e-12) / 2
    slopes = np.linspace(-1.0, 1.0, warps.WARP_SLOPES)[None, :] / width[:, None]
    local = z - knots[nearest]
    offsets = np.arange(warps.WARP_OFFSETS) / warps.WARP_OFFSETS
    total = np.zeros((len(knots), warps.WARP_SLOPES, warps.WARP_OFFSETS))
    for s in range(warps.WARP_SLOPES):
        b = (np.mod((t + slopes[nearest, s] * local)[:, None] + offsets, 1.0) * bins).astype(np.int64) % bins
        ll = log_profile[y[:, None], b]
        for g in range(warps.WARP_OFFSETS):
            total[:, s, g] = np.bincount(nearest, weights=ll[:, g], minlength=len(knots))
    flat = total.reshape(len(knots), -1).argmax(1)
    return slopes[np.arange(len(knots)), flat // warps.WARP_OFFSETS], offsets[flat % warps.WARP_OFFSETS]


@pytest.mark.parametrize(("n", "k"), [(300, 2), (1200, 3), (6000, 5)])
def test_the_counted_correction_picks_what_the_row_by_row_likelihood_picks(n, k):
    rng = np.random.default_rng(n + k)
    z = rng.normal(size=n)
    t = 5 * rng.normal(size=n) + np.sin(3 * z)
    t[:5] = -1e-18  # phases whose fraction rounds to a whole cycle
    y = (np.floor(t * k) % k).astype(np.int64)
    noisy = rng.random(n) < 0.3
    y[noisy] = rng.integers(0, k, noisy.sum())
    knots = warps._knots(z)
    slope, delta = _reference_correction(t, z, y, k, knots)
    delta = np.where(delta >= 0.5, delta - 1.0, delta)
    gaps = np.diff(knots)
    expected = delta.copy()
    for q in range(1, len(knots)):
        expected[q] = delta[q] + np.round(expected[q - 1] + (slope[q - 1] + slope[q]) / 2 * gaps[q - 1] - delta[q])
    np.testing.assert_array_equal(warps._correction(t, z, y, k, knots), expected - expected.mean())
