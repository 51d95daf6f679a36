"""Gradient-boosted trees: CatBoost and XGBoost with library defaults (XGBoost on the spectral
search's phase coordinates: models/spectral/xgboost.py).

On "cuda" each trains and predicts on one GPU with the same model as on the CPU, so that a
CPU-vs-GPU row compares devices, not settings (CatBoost's GPU defaults differ: see ``CatBoost``).
"""

from __future__ import annotations

import numpy as np

from models.base import BenchClassifier, FitTask, resolve_device


class _Boosting(BenchClassifier):
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
        return self.model_.predict_proba(X)

    def _fit(self, task: FitTask) -> None:
        self.device_ = resolve_device(self.device)
        if len(self.classes_) == 1:  # the libraries refuse one class; predict it
            self.model_ = None
            self.n_iterations_ = 0
            return
        self.model_ = self._make_model()
        self.model_.fit(task.X, task.y)
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
        if self.device_ == "cuda":
            import torch

            kwargs |= dict(task_type="GPU", devices=str(torch.cuda.current_device()), gpu_ram_part=self.GPU_RAM_PART)
        return CatBoostClassifier(**(kwargs | (self.params or {})))

    def _library_proba(self, X: np.ndarray):
        return self.model_.predict_proba(X, task_type="GPU" if self.device_ == "cuda" else "CPU")

    def _iterations(self) -> int:
        return int(self.model_.tree_count_)


class XGBoost(_Boosting):
    """xgboost.XGBClassifier with its defaults (100 trees, depth 6, hist); device="cuda" on GPU."""

    def _make_model(self):
        from xgboost import XGBClassifier

        kwargs = dict(random_state=int(self.seed), n_jobs=self._threads(), device=self.device_)
        return XGBClassifier(**(kwargs | (self.params or {})))

    def _iterations(self) -> int:
        return int(self.model_.get_booster().num_boosted_rounds())

    def _library_proba(self, X: np.ndarray):
        if self.device_ != "cuda":
            return self.model_.predict_proba(X)
        # Numpy rows on a GPU booster make XGBoost fall back (with a warning) to an implicit
        # DMatrix; build it explicitly: one host-to-device copy, then prediction on the GPU.
        from xgboost import DMatrix

        proba = self.model_.get_booster().predict(DMatrix(X))
        return np.stack([1 - proba, proba], 1) if proba.ndim == 1 else proba
