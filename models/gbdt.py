"""Gradient-boosted trees: CatBoost and XGBoost with library defaults (XGBoost on the spectral
search's phase coordinates: models/spectral/xgboost.py).

On "cuda" each trains and predicts on one GPU with the same model as on the CPU, so that a
CPU-vs-GPU row compares devices, not settings (CatBoost's GPU defaults differ: see ``CatBoost``).
"""

from __future__ import annotations

import numpy as np

from models.base import BenchClassifier, FitTask, resolve_device


class _Boosting(BenchClassifier):
    preprocessing = "native"  # models/preprocessing.py: raw numbers, NaN, the library's own categoricals

    def __init__(self, *, seed=0, device="auto", n_threads=None, params=None):
        self.seed = seed
        self.device = device
        self.n_threads = n_threads
        self.params = params  # extra keyword arguments for the library's classifier

    def _threads(self) -> int:
        return int(self.n_threads) if self.n_threads else 1

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        if len(self.classes_) == 1:
            return np.ones((len(X), 1))
        return np.asarray(self._library_proba(X), dtype=np.float64)

    def _library_proba(self, X: np.ndarray):
        return self.model_.predict_proba(self._rows(X))

    def _rows(self, X: np.ndarray):
        """Rows as the library takes them with native categoricals (``categorical_``)."""
        return X

    def _fit_kwargs(self) -> dict:
        return {}

    def _fit(self, task: FitTask) -> None:
        self.device_ = resolve_device(self.device)
        self.categorical_ = tuple(task.categorical)
        if len(self.classes_) == 1:  # the libraries refuse one class; predict it
            self.model_ = None
            self.n_iterations_ = 0
            return
        self.model_ = self._make_model()
        self.model_.fit(self._rows(task.X), task.y, **self._fit_kwargs())
        self.n_iterations_ = self._iterations()

    def fit_info(self) -> dict:
        return {"iterations": self.n_iterations_, "predict_device": self.device_}


class CatBoost(_Boosting):
    """catboost.CatBoostClassifier with its defaults (1000 iterations, depth 6); GPU on "cuda".

    ``border_count`` is fixed at the CPU default, 254, on both devices (the GPU default, 128, is a
    coarser grid, and sum_mod's stripes need the finer one). On "cuda": one GPU (the current
    one), at most ``GPU_RAM_PART`` of its memory (the default 0.95 fails beside other users), and
    prediction on the GPU too. CatBoost documents GPU training as not bit-for-bit deterministic.
    """

    BORDER_COUNT = 254
    GPU_RAM_PART = 0.3

    def _make_model(self):
        from catboost import CatBoostClassifier

        kwargs = dict(
            random_seed=int(self.seed),
            thread_count=self._threads(),
            verbose=False,
            allow_writing_files=False,
            border_count=self.BORDER_COUNT,
        )
        if self.categorical_:
            kwargs["cat_features"] = list(self.categorical_)
        if self.device_ == "cuda":
            import torch

            kwargs |= dict(task_type="GPU", devices=str(torch.cuda.current_device()), gpu_ram_part=self.GPU_RAM_PART)
        return CatBoostClassifier(**(kwargs | (self.params or {})))

    def _library_proba(self, X: np.ndarray):
        return self.model_.predict_proba(self._rows(X), task_type="GPU" if self.device_ == "cuda" else "CPU")

    def _rows(self, X: np.ndarray):
        # CatBoost takes categories as integers or strings, not floats, and no NaN among them:
        # a missing category is its own level, -1 (what CatBoost's documentation advises)
        if not self.categorical_:
            return X
        import pandas as pd

        df = pd.DataFrame(X, columns=[str(j) for j in range(X.shape[1])])
        for j in self.categorical_:
            df[str(j)] = np.nan_to_num(X[:, j], nan=-1.0).astype(np.int64)
        return df

    def fit_info(self) -> dict:
        used = [] if self.model_ is None else [int(j) for j in self.model_.get_cat_feature_indices()]
        return super().fit_info() | {"categorical_features": used}

    def _iterations(self) -> int:
        return int(self.model_.tree_count_)


class XGBoost(_Boosting):
    """xgboost.XGBClassifier with its defaults (100 trees, depth 6, hist); device="cuda" on GPU."""

    def _make_model(self):
        from xgboost import XGBClassifier

        kwargs = dict(random_state=int(self.seed), n_jobs=self._threads(), device=self.device_)
        if self.categorical_:
            kwargs |= dict(enable_categorical=True, feature_types=self._feature_types())
        return XGBClassifier(**(kwargs | (self.params or {})))

    def _feature_types(self) -> list[str] | None:
        if not self.categorical_:
            return None
        return ["c" if j in self.categorical_ else "q" for j in range(self.n_features_in_)]

    def _iterations(self) -> int:
        return int(self.model_.get_booster().num_boosted_rounds())

    def _library_proba(self, X: np.ndarray):
        if self.device_ != "cuda":
            return self.model_.predict_proba(X)
        # Numpy rows on a GPU booster make XGBoost fall back (with a warning) to an implicit
        # DMatrix; build it explicitly: one host-to-device copy, then prediction on the GPU.
        from xgboost import DMatrix

        types = self._feature_types()
        proba = self.model_.get_booster().predict(DMatrix(X, feature_types=types, enable_categorical=bool(types)))
        return np.stack([1 - proba, proba], 1) if proba.ndim == 1 else proba
