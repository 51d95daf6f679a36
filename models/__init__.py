"""Model families behind one scikit-learn-style estimator contract, and their registry.

>>> import models
>>> est = models.create("mlp", seed=0, device="cpu")
>>> est.fit(X_train, y_train).predict(X_test)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable

from models.base import BenchClassifier


def _seed_mlp(**kw):
    from models.mlp import SeedMLP

    return SeedMLP(**kw)


def _mlp(**kw):
    from models.mlp import MLP

    return MLP(**kw)


def _selu_mlp(**kw):
    from models.mlp import SeluMLP

    return SeluMLP(**kw)


def _periodic_mlp(**kw):
    from models.periodic import PeriodicMLP

    return PeriodicMLP(**kw)


def _fourier_mlp(**kw):
    from models.periodic import FourierMLP

    return FourierMLP(**kw)


def _spectral_mlp(**kw):
    from models.spectral import SpectralMLP

    return SpectralMLP(**kw)


def _tabm(**kw):
    from models.tabm_model import TabMClassifier

    return TabMClassifier(**kw)


def _catboost(**kw):
    from models.gbdt import CatBoost

    return CatBoost(**kw)


def _xgboost(**kw):
    from models.gbdt import XGBoost

    return XGBoost(**kw)


def _spectral_xgboost(**kw):
    from models.gbdt import SpectralXGBoost

    return SpectralXGBoost(**kw)


# The registry, by hand: name -> factory. Heavy libraries are imported inside the factories.
_FACTORIES: dict[str, Callable[..., BenchClassifier]] = {
    "seed_mlp": _seed_mlp,
    "mlp": _mlp,
    "selu_mlp": _selu_mlp,
    "periodic_mlp": _periodic_mlp,
    "fourier_mlp": _fourier_mlp,
    "spectral_mlp": _spectral_mlp,
    "tabm": _tabm,
    "catboost": _catboost,
    "xgboost": _xgboost,
    "spectral_xgboost": _spectral_xgboost,
}
NAMES: tuple[str, ...] = tuple(_FACTORIES)


def create(name: str, *, seed: int = 0, device: str = "auto", **params) -> BenchClassifier:
    """A new, unfitted estimator of family ``name``; ``params`` override its defaults."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(NAMES)}")
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    est = _FACTORIES[name](seed=seed, device=device)
    valid = est.get_params()
    unknown = set(params) - set(valid)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)} for {name!r}; valid: {', '.join(sorted(valid))}")
    return est.set_params(**params)


def fit_batch(estimators: list[BenchClassifier], tasks: list[tuple]) -> list[BenchClassifier]:
    """Fit estimators on their tasks ``(X, y, X_val, y_val, monitor)``; neural ones of one
    family are trained as one batched model (the same result as separate fits, faster)."""
    from models.neural import NeuralClassifier, fit_group

    if estimators and all(type(e) is type(estimators[0]) and isinstance(e, NeuralClassifier) for e in estimators):
        return fit_group(estimators, tasks)
    for est, (X, y, X_val, y_val, _monitor) in zip(estimators, tasks):
        est.fit(X, y, X_val, y_val)
    return estimators


def batchable(est: BenchClassifier) -> bool:
    """Whether several seeds of this family can be trained as one batched model."""
    from models.neural import NeuralClassifier

    return isinstance(est, NeuralClassifier) and est.batchable
