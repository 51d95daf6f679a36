"""The seed thread's generators, vectorised, with parameters for harder or noisier variants.

X ~ U[0, 1)^d (float64). The label depends on s = sum_j w_j * x_j over the first len(w) columns:
- ``sum_mod``: int(s * scale) mod n_classes (the seed's ``sum_mod_label`` with scale=100, 3 classes);
- ``sum_bin``: number of thresholds <= s (the seed's ``sum_bin_label`` with (0.807, 1.169)).
- ``poly_mod``: floor(scale * p(x)) mod n_classes for a polynomial p = sum_k c_k prod_{i in m_k} x_i
  given as ``terms`` ((c_k, m_k), ...): stripes whose phase is not linear in x.
- ``warp_mod``: floor(scale * (g(x0) + sum_j w_j x_{j+1})) mod n_classes with a monotone warp g of
  x0 (``warp``: "power" x^p, "log" log(1 + a x) / log(1 + a), "exp" (e^(a x) - 1) / (e^a - 1)) and an
  optional smooth wiggle ``wiggle`` * sin(2 pi ``wiggle_cycles`` x0) added to the phase;
- ``cat_mod``: ``n_numeric`` U[0, 1) features then the one-hot columns of a categorical feature with
  ``n_categories`` levels; label = floor(scale * sum of the numeric features + offset_c) mod
  n_classes, the per-category offsets drawn once per dataset from U[0, n_classes).
``n_noise_features`` appends irrelevant U[0, 1) columns; ``label_noise`` replaces that fraction of
labels by uniformly drawn classes (so a perfect model scores 1 - p (K - 1) / K).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULTS: dict[str, dict] = {
    "sum_mod": {"n_classes": 3, "scale": 100.0, "weights": (1.0, 1.0), "n_noise_features": 0, "label_noise": 0.0},
    "sum_bin": {"thresholds": (0.807, 1.169), "weights": (1.0, 1.0), "n_noise_features": 0, "label_noise": 0.0},
    "warp_mod": {
        "warp": "power",
        "power": 3.0,
        "rate": 5.0,
        "wiggle": 0.0,
        "wiggle_cycles": 2.0,
        "weights": (1.0,),
        "scale": 20.0,
        "n_classes": 3,
        "n_noise_features": 0,
        "label_noise": 0.0,
    },
    "cat_mod": {
        "n_numeric": 2,
        "n_categories": 4,
        "scale": 30.0,
        "n_classes": 3,
        "n_noise_features": 0,
        "label_noise": 0.0,
    },
    "poly_mod": {
        "terms": ((1.0, (1, 1)), (0.5, (0,))),
        "scale": 25.0,
        "n_classes": 2,
        "n_noise_features": 0,
        "label_noise": 0.0,
    },
}


def _check_common(weights: Sequence[float], n_noise_features: int, label_noise: float) -> tuple[float, ...]:
    weights = tuple(float(w) for w in np.atleast_1d(np.asarray(weights, dtype=float)))
    if not weights or not np.isfinite(sum(abs(w) for w in weights)):
        raise ValueError(f"weights must be a non-empty sequence of finite numbers, got {weights!r}")
    if int(n_noise_features) != n_noise_features or n_noise_features < 0:
        raise ValueError(f"n_noise_features must be a non-negative integer, got {n_noise_features!r}")
    if not 0.0 <= float(label_noise) <= 1.0:
        raise ValueError(f"label_noise must be in [0, 1], got {label_noise!r}")
    return weights


def _features(n: int, rng: np.random.Generator, n_signal: int, n_noise: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.random((n, n_signal + int(n_noise)))
    return X, X[:, :n_signal]


def _weighted_sum(X: np.ndarray, weights: tuple[float, ...]) -> np.ndarray:
    # Left-to-right float64 sum, like the seed's x[:, 0] + x[:, 1]; a matmul could reorder it.
    s = X[:, 0] * weights[0]
    for j in range(1, len(weights)):
        s = s + X[:, j] * weights[j]
    return s


def _add_label_noise(y: np.ndarray, k: int, p: float, rng: np.random.Generator) -> np.ndarray:
    if p > 0:
        flip = rng.random(len(y)) < p
        y = np.where(flip, rng.integers(0, k, len(y)), y)
    return y.astype(np.int64)


def sum_mod(
    n: int,
    rng: np.random.Generator,
    *,
    n_classes: int = 3,
    scale: float = 100.0,
    weights: Sequence[float] = (1.0, 1.0),
    n_noise_features: int = 0,
    label_noise: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Stripes along ``weights``: label = int(s * scale) mod n_classes."""
    weights = _check_common(weights, n_noise_features, label_noise)
    if int(n_classes) != n_classes or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    # |s| <= sum |w| on U[0, 1) features; int(s * scale) must stay exact in float64 and int64.
    if sum(abs(w) for w in weights) * scale >= 2**53:
        raise ValueError(f"scale x sum(|weights|) must be below 2**53 (labels would overflow), got scale {scale!r}")
    X, signal = _features(n, rng, len(weights), n_noise_features)
    # np.trunc matches Python's int() (toward zero) for negative weights; np.mod matches Python's %.
    y = np.mod(np.trunc(_weighted_sum(signal, weights) * scale).astype(np.int64), int(n_classes))
    return X, _add_label_noise(y, int(n_classes), float(label_noise), rng)


def sum_bin(
    n: int,
    rng: np.random.Generator,
    *,
    thresholds: Sequence[float] = (0.807, 1.169),
    weights: Sequence[float] = (1.0, 1.0),
    n_noise_features: int = 0,
    label_noise: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Bands along ``weights``: label = number of thresholds <= s."""
    weights = _check_common(weights, n_noise_features, label_noise)
    thresholds = np.asarray(thresholds, dtype=float)
    if (
        thresholds.ndim != 1
        or len(thresholds) < 1
        or not np.all(np.isfinite(thresholds))
        or np.any(np.diff(thresholds) <= 0)
    ):
        raise ValueError(f"thresholds must be a non-empty increasing sequence, got {thresholds.tolist()!r}")
    X, signal = _features(n, rng, len(weights), n_noise_features)
    y = np.searchsorted(thresholds, _weighted_sum(signal, weights), side="right")
    return X, _add_label_noise(y, len(thresholds) + 1, float(label_noise), rng)


def poly_mod(
    n: int,
    rng: np.random.Generator,
    *,
    terms: Sequence = ((1.0, (1, 1)), (0.5, (0,))),
    scale: float = 25.0,
    n_classes: int = 2,
    n_noise_features: int = 0,
    label_noise: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Stripes along a polynomial: label = floor(scale * sum_k c_k prod_{i in m_k} x_i) mod n_classes.

    ``terms``: ((c_k, m_k), ...), m_k the feature indices of a monomial (repeats are powers), e.g.
    ((1.0, (1, 1)), (0.5, (0,))) is x1^2 + 0.5 x0. Features 0 .. max index are drawn.
    """
    try:
        terms = tuple((float(c), tuple(int(i) for i in m)) for c, m in terms)
        ok = terms and all(np.isfinite(c) and m and min(m) >= 0 for c, m in terms)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"terms must be ((coefficient, (feature index, ...)), ...), got {terms!r}")
    _check_common([c for c, _ in terms], n_noise_features, label_noise)
    if int(n_classes) != n_classes or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    if not np.isfinite(scale) or scale <= 0 or sum(abs(c) for c, _ in terms) * scale >= 2**53:
        raise ValueError(f"scale must be positive and scale x sum(|coefficients|) below 2**53, got {scale!r}")
    X, signal = _features(n, rng, 1 + max(max(m) for _, m in terms), n_noise_features)
    p = np.zeros(n)
    for c, m in terms:
        p = p + c * np.prod(signal[:, list(m)], axis=1)
    y = np.mod(np.floor(p * scale).astype(np.int64), int(n_classes))
    return X, _add_label_noise(y, int(n_classes), float(label_noise), rng)


def _check_mod(n_classes: int, scale: float) -> None:
    if int(n_classes) != n_classes or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    if not np.isfinite(scale) or scale <= 0 or scale >= 2**40:
        raise ValueError(f"scale must be a positive finite number below 2**40, got {scale!r}")


def warp_mod(
    n: int,
    rng: np.random.Generator,
    *,
    warp: str = "power",
    power: float = 3.0,
    rate: float = 5.0,
    wiggle: float = 0.0,
    wiggle_cycles: float = 2.0,
    weights: Sequence[float] = (1.0,),
    scale: float = 20.0,
    n_classes: int = 3,
    n_noise_features: int = 0,
    label_noise: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Stripes along a warped axis: label = floor(scale * (g(x0) + wiggle sin(2 pi c x0) + w.x[1:])) mod K.

    g maps [0, 1] onto [0, 1] monotonically: "power" x^power, "log" log(1 + rate x) / log(1 + rate),
    "exp" (exp(rate x) - 1) / (exp(rate) - 1); none of them (power > 2) is in a degree-2 dictionary.
    """
    weights = _check_common(weights, n_noise_features, label_noise)
    _check_mod(n_classes, scale)
    if warp not in ("power", "log", "exp"):
        raise ValueError(f"warp must be 'power', 'log' or 'exp', got {warp!r}")
    if not (np.isfinite(power) and power > 0 and np.isfinite(rate) and rate > 0 and np.isfinite(wiggle)):
        raise ValueError(f"power and rate must be positive and wiggle finite, got {power!r}, {rate!r}, {wiggle!r}")
    X, signal = _features(n, rng, 1 + len(weights), n_noise_features)
    x0 = signal[:, 0]
    g = {
        "power": lambda: x0**power,
        "log": lambda: np.log1p(rate * x0) / np.log1p(rate),
        "exp": lambda: np.expm1(rate * x0) / np.expm1(rate),
    }[warp]()
    phase = g + wiggle * np.sin(2 * np.pi * wiggle_cycles * x0) + _weighted_sum(signal[:, 1:], weights)
    y = np.mod(np.floor(phase * scale).astype(np.int64), int(n_classes))
    return X, _add_label_noise(y, int(n_classes), float(label_noise), rng)


def cat_mod(
    n: int,
    rng: np.random.Generator,
    *,
    n_numeric: int = 2,
    n_categories: int = 4,
    scale: float = 30.0,
    n_classes: int = 3,
    n_noise_features: int = 0,
    label_noise: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Stripes along the sum of ``n_numeric`` features, shifted per category of a one-hot feature.

    Columns: the numeric features, the ``n_categories`` one-hot columns (0.0 / 1.0), then noise.
    label = floor(scale * sum(numeric) + offset[category]) mod n_classes, offsets ~ U[0, n_classes).
    """
    _check_common([1.0], n_noise_features, label_noise)
    _check_mod(n_classes, scale)
    if int(n_numeric) != n_numeric or n_numeric < 1 or int(n_categories) != n_categories or n_categories < 2:
        raise ValueError(f"n_numeric must be >= 1 and n_categories >= 2, got {n_numeric!r}, {n_categories!r}")
    offsets = rng.random(int(n_categories)) * n_classes
    numeric = rng.random((n, int(n_numeric)))
    category = rng.integers(0, int(n_categories), n)
    onehot = np.eye(int(n_categories))[category]
    X = np.hstack([numeric, onehot, rng.random((n, int(n_noise_features)))])
    s = _weighted_sum(numeric, (1.0,) * int(n_numeric))
    y = np.mod(np.floor(s * scale + offsets[category]).astype(np.int64), int(n_classes))
    return X, _add_label_noise(y, int(n_classes), float(label_noise), rng)


def n_classes(name: str, **params) -> int:
    """Class count implied by a dataset's params."""
    merged = DEFAULTS[name] | params
    if name == "sum_bin":
        return len(merged["thresholds"]) + 1
    return int(merged["n_classes"])
