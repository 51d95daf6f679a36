"""Model families behind one scikit-learn-style estimator contract, and their registry.

>>> import models
>>> est = models.create("mlp", seed=0, device="cpu")
>>> est.fit(X_train, y_train).predict(X_test)  # doctest: +SKIP

A new family is one module (a :class:`models.base.BenchClassifier` subclass) plus one row
in ``_REGISTRY`` below; see the example in docs/data-and-plugins.md. Or, without touching bench, a plug-in: any
scikit-learn classifier named as ``package.module:factory`` or by a ``bench.models`` entry point
(models/plugins.py).
"""

from __future__ import annotations

import importlib

from models.base import DEVICES, BenchClassifier, FitTask

# The registry, by hand: name -> (module, class). The module is imported only when the family is
# created, so that `import models` stays free of torch, catboost, xgboost and tabm.
_REGISTRY: dict[str, tuple[str, str]] = {
    "seed_mlp": ("models.mlp", "SeedMLP"),
    "mlp": ("models.mlp", "MLP"),
    "selu_mlp": ("models.mlp", "SeluMLP"),
    "periodic_mlp": ("models.periodic", "PeriodicMLP"),
    "fourier_mlp": ("models.periodic", "FourierMLP"),
    "spectral_mlp": ("models.spectral.mlp", "SpectralMLP"),
    "tabm": ("models.tabm_model", "TabMClassifier"),
    "catboost": ("models.gbdt", "CatBoost"),
    "xgboost": ("models.gbdt", "XGBoost"),
    "spectral_xgboost": ("models.spectral.xgboost", "SpectralXGBoost"),
    "lightgbm": ("models.peers", "LightGBM"),
    "hist_gbt": ("models.peers", "HistGBT"),
    "random_forest": ("models.peers", "RandomForest"),
    "realmlp": ("models.peers", "RealMLP"),
}
NAMES: tuple[str, ...] = tuple(_REGISTRY)


def available() -> tuple[str, ...]:
    """Built-in families and installed plug-ins (``bench.models`` entry points)."""
    from models import plugins

    return NAMES + tuple(sorted(set(plugins.entry_points()) - set(NAMES)))


def check_names(names: list[str]) -> None:
    """Every name a built-in family or a plug-in that loads; else a ValueError of one line."""
    from models import plugins
    from models.peers import missing_library

    for name in names:
        if missing_library(name):  # before any compute: one line with the install command
            raise ValueError(missing_library(name))
        if name not in _REGISTRY and not plugins.is_plugin(name):
            raise ValueError(
                f"unknown model {name!r}; choose from {', '.join(available())}, or give a plug-in as package.module:factory"
            )
        if name not in _REGISTRY:
            plugins.factory(name)


def device_skip(name: str, device: str) -> str:
    """Why a family does not run on ``device`` ('' when it does): plug-ins and some peers run on the CPU only."""
    from models.peers import CPU_ONLY

    if device == "cuda" and name in CPU_ONLY:
        return CPU_ONLY[name]
    return "plug-in models run on the cpu only" if device == "cuda" and name not in _REGISTRY else ""


def max_features(name: str) -> int | None:
    """Columns beyond which family ``name`` does not run (its parameters grow with the columns);
    None for no cap (plug-ins: theirs to say)."""
    if name not in _REGISTRY:
        return None
    module, cls = _REGISTRY[name]
    return getattr(importlib.import_module(module), cls).max_features


def create(name: str, *, seed: int = 0, device: str = "auto", **params) -> BenchClassifier:
    """A new, unfitted estimator of family ``name`` (or a plug-in); ``params`` override its defaults."""
    if device not in DEVICES:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if name not in _REGISTRY:
        check_names([name])
        from models import plugins

        n_threads = params.pop("n_threads", None)
        plugins.build(name, seed, params, n_threads)  # unknown parameters: a clear error now, not mid-run
        return plugins.PluginClassifier(
            plugin=name, params=params or None, seed=seed, device=device, n_threads=n_threads
        )
    module, cls = _REGISTRY[name]
    est = getattr(importlib.import_module(module), cls)(seed=seed, device=device)
    valid = est.get_params()
    unknown = set(params) - set(valid)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)} for {name!r}; valid: {', '.join(sorted(valid))}")
    return est.set_params(**params)


def batch_plan(estimators: list[BenchClassifier]) -> list[list[int]]:
    """Which estimators train as one batched model: the one place that decides.

    Neural estimators of one batchable family with the same hyperparameters but the seed form one
    group (several seeds at the cost of about one fit); every other estimator is a group of its own.
    """
    from models.engine.neural import NeuralClassifier

    groups: dict[tuple, list[int]] = {}
    plan: list[list[int]] = []
    for i, est in enumerate(estimators):
        if isinstance(est, NeuralClassifier) and est.batchable:
            key = (type(est), repr(sorted((k, v) for k, v in est.get_params().items() if k != "seed")))
            if key not in groups:
                plan.append(groups.setdefault(key, []))
            groups[key].append(i)
        else:
            plan.append([i])
    return plan


def fit_batch(estimators: list[BenchClassifier], tasks: list[FitTask]) -> list[BenchClassifier]:
    """Fit each estimator on its task, batching as :func:`batch_plan` says (the same result as
    separate fits, faster). Tasks hold raw data; each estimator validates its own."""
    for group in batch_plan(estimators):
        ests = [estimators[i] for i in group]
        valid = [est.validate_task(tasks[i]) for est, i in zip(ests, group)]
        if len(ests) > 1:
            from models.engine.neural import fit_together

            fit_together(ests, valid)
        else:
            ests[0]._fit(valid[0])
    return estimators
