"""Generated tabular classification datasets behind one function.

>>> import datasets
>>> X, y = datasets.generate("sum_mod", n=2000, seed=0)
>>> X.shape, y.dtype
((2000, 2), dtype('int64'))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from datasets import synthetic

# The registry: name -> generator(n, rng, **params) -> (X, y). Written by hand on purpose.
_GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "sum_bin": synthetic.sum_bin,
    "sum_mod": synthetic.sum_mod,
}
NAMES: tuple[str, ...] = tuple(_GENERATORS)


def generate(name: str, *, n: int = 2000, seed: int = 0, **params) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)``: X float64 (n, d), y int64 (n,), reproducible from ``seed``."""
    if name not in _GENERATORS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(NAMES)}")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    unknown = set(params) - set(synthetic.DEFAULTS[name])
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {sorted(unknown)} for {name!r}; valid: {', '.join(synthetic.DEFAULTS[name])}"
        )
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in 0 .. 2**32 - 1, got {seed!r}")
    rng = np.random.default_rng(seed)
    return _GENERATORS[name](int(n), rng, **params)


def n_classes(name: str, **params) -> int:
    """Number of classes the generator can emit for these params."""
    return synthetic.n_classes(name, **params)


def ceiling(name: str, **params) -> float:
    """Best achievable expected held-out accuracy (label noise is the only irreducible error)."""
    k = n_classes(name, **params)
    p = float(params.get("label_noise", 0.0))
    return 1.0 - p * (k - 1) / k


def default_params(name: str) -> dict:
    """The parameters a generator uses when none are given."""
    if name not in _GENERATORS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(NAMES)}")
    return synthetic.DEFAULTS[name].copy()
