"""``spectral_xgboost``: XGBoost on the phase coordinates that the spectral search finds."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from models.base import FitTask, standard_scale
from models.gbdt import XGBoost
from models.spectral import choice

VAL_FRACTION = 0.2  # training rows held out for the choice on a real table (as the MLPs' validation split)


class SpectralXGBoost(XGBoost):
    """XGBoost on the phase coordinates that ``spectral_mlp``'s search finds in (X, y).

    For each peak w (cycles per standardised unit) the trees see w.x and frac(w.x) beside x: a
    stripe is then an interval of frac(w.x), and a jump of the pattern (int() truncating toward
    zero where w.x changes sign) one split on w.x, both cut exactly where an MLP has to learn a
    sharp step. Same search, same cost in n and d (see models.spectral.mlp), without the harmonic
    rows (frac(w.x) already holds every multiple's stripes); trees with XGBoost's defaults. A
    phase that is a polynomial of x (models/spectral/phases.py) enters the same way, as w.c and
    frac(w.c) of the lifted columns c.

    On a real table (``fallback``) xgboost's own model (its native rule's raw columns, NaN and
    categoricals) is fitted beside it: both on 80% of the training rows (stratified, seeded), scored
    on the other 20% (or on the caller's validation rows), and the spectral model is kept only where
    it is better there by more than one standard error (models/spectral/choice.py). The kept one is
    then refitted on every training row, so that a kept xgboost model *is* xgboost's, prediction for
    prediction, and a kept spectral model is the one ``fallback=False`` fits.
    """

    preprocessing = "spectral"  # numeric columns imputed, categoricals one-hot; the search reads numeric columns

    def __init__(
        self,
        *,
        seed=0,
        device="auto",
        n_threads=None,
        params=None,
        n_peaks=4,
        max_rows=20000,
        max_pairs=200,
        lifted=True,
        fallback=True,
    ):
        super().__init__(seed=seed, device=device, n_threads=n_threads, params=params)
        self.n_peaks = n_peaks
        self.max_rows = max_rows
        self.max_pairs = max_pairs
        self.lifted = lifted
        self.fallback = fallback

    def validate_task(self, task: FitTask) -> FitTask:
        """The spectral rule's task; on a real table with ``fallback`` also xgboost's, from the same raw rows."""
        valid = super().validate_task(task)
        self._base = None  # read (and dropped) by _fit
        if self.fallback and task.real:
            base = XGBoost(seed=self.seed, device=self.device, n_threads=self.n_threads, params=self.params)
            self._base = (base, base.validate_task(task))
        return valid

    def _fit(self, task: FitTask) -> None:
        base = self.__dict__.pop("_base", None)
        self.fallback_, self.candidate_, self.prep_seconds_ = None, {}, 0.0
        if base is None or len(self.classes_) < 2 or (task.X_val is None and np.bincount(task.y).min() < 2):
            self._fit_spectral(task)  # generated data, or no rows to choose on
            return
        base, base_task = base
        if task.X_val is not None:  # the caller's validation rows: both fitted on every training row
            self._fit_spectral(task)
            base._fit(base_task)
            result = choice.choose(
                _hits(self._predict_proba(task.X_val), task.y_val),
                _hits(base._predict_proba(base_task.X_val), base_task.y_val),
            )
        else:
            fit_rows, val_rows = train_test_split(
                np.arange(len(task.y)), test_size=VAL_FRACTION, random_state=int(self.seed), stratify=task.y
            )
            self._fit_spectral(_rows(task, fit_rows))
            base._fit(_rows(base_task, fit_rows))
            result = choice.choose(
                _hits(self._predict_proba(task.X[val_rows]), task.y[val_rows]),
                _hits(base._predict_proba(base_task.X[val_rows]), base_task.y[val_rows]),
            )
            if result["keeps_spectral"]:  # the kept model, refitted on every training row
                self._fit_spectral(task)
            else:
                base._fit(base_task)
        keeps = result.pop("keeps_spectral")
        self.candidate_ = {"model": "spectral" if keeps else "xgboost"} | result
        self.fallback_ = None if keeps else base

    def _fit_spectral(self, task: FitTask) -> None:
        """The search on standardised rows, then the trees on [z, phase features]."""
        from models.preprocessing import find_numeric_phases
        from models.spectral.phases import Phases

        start = time.perf_counter()
        X, y = task.X, task.y
        self.mean_, self.scale_ = standard_scale(X)
        Z = (X - self.mean_) / self.scale_
        k = len(self.classes_)
        rng = np.random.default_rng(int(self.seed))
        self.phases_ = (
            find_numeric_phases(
                self,
                Z,
                y,
                k,
                n_peaks=self.n_peaks,
                max_rows=self.max_rows,
                max_pairs=self.max_pairs,
                harmonics=False,
                lifted=self.lifted,
                rng=rng,
            )
            if k > 1
            else Phases(np.zeros((self.n_peaks, X.shape[1])))
        )
        self.frequencies_ = self.phases_.omegas
        features = self._phase_features(Z)
        self.prep_seconds_ += time.perf_counter() - start  # CPU work before the trees: the search(es)
        super()._fit(FitTask(features, y))

    def fit_info(self) -> dict:
        kept = super().fit_info() if self.fallback_ is None else self.fallback_.fit_info()
        return kept | {"prep_s": self.prep_seconds_, "candidate": self.candidate_} | self.phases_.summary()

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities; where xgboost's model was kept, xgboost's own (from the raw rows)."""
        check_is_fitted(self, "classes_")
        if getattr(self, "fallback_", None) is not None:
            return self.fallback_.predict_proba(X)
        return super().predict_proba(X)

    def _phase_features(self, Z: np.ndarray) -> np.ndarray:
        """[z, w.c, frac(w.c)] per peak w, from standardised rows Z; c = z, or z's lifted columns."""
        t = self.phases_.columns(Z) @ self.frequencies_.T
        return np.hstack([Z, t, np.mod(t, 1.0)])

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return super()._predict_proba(self._phase_features((X - self.mean_) / self.scale_))


def _rows(task: FitTask, rows: np.ndarray) -> FitTask:
    """The task's training rows ``rows`` (no validation or monitor rows)."""
    return replace(task, X=task.X[rows], y=task.y[rows], X_val=None, y_val=None, X_monitor=None, y_monitor=None)


def _hits(proba: np.ndarray, y: np.ndarray) -> np.ndarray:
    """1 where the most probable class is the (encoded) label."""
    return (proba.argmax(1) == y).astype(np.int8)
