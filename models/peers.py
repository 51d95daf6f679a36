"""The peers practitioners use: LightGBM, scikit-learn's HistGradientBoosting and RandomForest,
and pytabkit's RealMLP, each with its library's defaults.

Seeds and threads are passed (``seed``, ``n_threads``); ``params`` overrides defaults (the tests
shrink them). Devices: RealMLP trains on "cuda" when asked; LightGBM's pip wheel has no CUDA
build and scikit-learn's trees are CPU-only, so their cuda cells are recorded as skipped
(:data:`CPU_ONLY`). Preprocessing rules: models/preprocessing.py.
"""

from __future__ import annotations

import contextlib
import importlib.util
import warnings

import numpy as np

from models.base import BenchClassifier, FitTask, resolve_device
from models.gbdt import _Boosting

# family -> why its cuda cells are skipped
CPU_ONLY = {
    "lightgbm": "lightgbm's pip wheel has no CUDA build: cpu only",
    "hist_gbt": "scikit-learn's HistGradientBoosting runs on the cpu only",
    "random_forest": "scikit-learn's RandomForest runs on the cpu only",
}
# family -> (module it imports, the command that installs it)
LIBRARIES = {
    "catboost": ("catboost", "pip install catboost"),
    "xgboost": ("xgboost", "pip install xgboost"),
    "spectral_xgboost": ("xgboost", "pip install xgboost"),
    "lightgbm": ("lightgbm", 'pip install lightgbm (or pip install ".[real]")'),
    "realmlp": ("pytabkit", 'pip install pytabkit (or pip install ".[real]")'),
}


def missing_library(name: str) -> str:
    """One line naming the install command when family ``name``'s library is absent, else ''."""
    module, command = LIBRARIES.get(name, (None, ""))
    if module is None or importlib.util.find_spec(module) is not None:
        return ""
    return f"model {name!r} needs {module}, which is not installed: {command}"


def _threadpool(n_threads):
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(n_threads) if n_threads else 1)


class LightGBM(_Boosting):
    """lightgbm.LGBMClassifier with its defaults (100 trees, 31 leaves); categorical columns as
    ``categorical_feature`` (LightGBM's own categorical splits), NaN as missing; cpu only."""

    def _make_model(self):
        from lightgbm import LGBMClassifier

        kwargs = dict(random_state=int(self.seed), n_jobs=self._threads(), verbose=-1)
        return LGBMClassifier(**(kwargs | (self.params or {})))

    def _fit_kwargs(self) -> dict:
        return {"categorical_feature": list(self.categorical_)} if self.categorical_ else {}

    def _iterations(self) -> int:
        return int(self.model_.booster_.current_iteration())


class HistGBT(_Boosting):
    """sklearn.ensemble.HistGradientBoostingClassifier with its defaults (early stopping on a
    10% split above 10,000 rows); categorical columns as ``categorical_features`` unless a column
    has more than 255 training levels (its bins' limit: then its codes are split as numbers)."""

    MAX_LEVELS = 255

    def _make_model(self):
        from sklearn.ensemble import HistGradientBoostingClassifier

        mask = [j in self.categorical_ for j in range(self.n_features_in_)]
        for j in self.categorical_:
            if len(self.prep_.levels[j]) > self.MAX_LEVELS or self.prep_.levels[j].max() >= self.MAX_LEVELS:
                mask[j] = False
        self.native_categorical_ = [j for j, m in enumerate(mask) if m]
        kwargs = dict(random_state=int(self.seed), categorical_features=mask if any(mask) else None)
        return HistGradientBoostingClassifier(**(kwargs | (self.params or {})))

    def _fit(self, task: FitTask) -> None:
        with _threadpool(self.n_threads):
            super()._fit(task)

    def _library_proba(self, X: np.ndarray):
        with _threadpool(self.n_threads):
            return self.model_.predict_proba(X)

    def _iterations(self) -> int:
        return int(self.model_.n_iter_)


class RandomForest(_Boosting):
    """sklearn.ensemble.RandomForestClassifier with its defaults (100 trees, full depth);
    NaN native, categorical codes split as ordered numbers (rule ``ordinal``)."""

    preprocessing = "ordinal"

    def _make_model(self):
        from sklearn.ensemble import RandomForestClassifier

        kwargs = dict(random_state=int(self.seed), n_jobs=self._threads())
        return RandomForestClassifier(**(kwargs | (self.params or {})))

    def _iterations(self) -> int:
        return len(self.model_.estimators_)


@contextlib.contextmanager
def _quiet_lightning():
    """pytorch_lightning's own deprecation warnings (one per fit and predict, about its internals):
    not the user's to act on, so kept off bench's one-line-per-event stderr."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"pytorch_lightning\.|lightning_fabric\.")
        yield


class RealMLP(BenchClassifier):
    """pytabkit.RealMLP_TD_Classifier: RealMLP with its tuned defaults (Holzmüller et al., 2024:
    robust scaling + smooth clipping, PBLD embeddings, its own validation split and schedule).

    Numeric NaN are imputed with training medians plus indicator columns before it (it refuses
    NaN); categorical columns reach it as pandas categories (its own one-hot / embeddings).
    """

    preprocessing = "library"

    def __init__(self, *, seed=0, device="auto", n_threads=None, params=None):
        self.seed = seed
        self.device = device
        self.n_threads = n_threads
        self.params = params  # extra keyword arguments for RealMLP_TD_Classifier

    def _rows(self, X: np.ndarray):
        import pandas as pd

        df = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
        for j in self.categorical_:
            df[f"x{j}"] = pd.Categorical(X[:, j], categories=self.prep_.levels[j])
        return df

    def _fit(self, task: FitTask) -> None:
        self.device_ = resolve_device(self.device)
        self.categorical_ = tuple(task.categorical)
        if len(self.classes_) == 1:
            self.model_ = None
            return
        from pytabkit import RealMLP_TD_Classifier

        kwargs = dict(
            random_state=int(self.seed),
            n_threads=int(self.n_threads) if self.n_threads else 1,
            device=self.device_,
            verbosity=0,
        )
        self.model_ = RealMLP_TD_Classifier(**(kwargs | (self.params or {})))
        with _quiet_lightning():
            self.model_.fit(self._rows(task.X), task.y)

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        if self.model_ is None:
            return np.ones((len(X), 1))
        with _quiet_lightning():
            return np.asarray(self.model_.predict_proba(self._rows(X)), dtype=np.float64)

    def fit_info(self) -> dict:
        return {"predict_device": self.device_}
