"""``spectral_xgboost``: XGBoost on the phase coordinates that the spectral search finds."""

from __future__ import annotations

import time

import numpy as np

from models.base import FitTask, standard_scale
from models.gbdt import XGBoost


class SpectralXGBoost(XGBoost):
    """XGBoost on the phase coordinates that ``spectral_mlp``'s search finds in (X, y).

    For each peak w (cycles per standardised unit) the trees see w.x and frac(w.x) beside x: a
    stripe is then an interval of frac(w.x), and a jump of the pattern (int() truncating toward
    zero where w.x changes sign) one split on w.x, both cut exactly where an MLP has to learn a
    sharp step. Same search, same cost in n and d (see models.spectral.mlp), without the harmonic
    rows (frac(w.x) already holds every multiple's stripes); trees with XGBoost's defaults. A
    phase that is a polynomial of x (models/spectral/phases.py) enters the same way, as w.c and
    frac(w.c) of the lifted columns c.
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
    ):
        super().__init__(seed=seed, device=device, n_threads=n_threads, params=params)
        self.n_peaks = n_peaks
        self.max_rows = max_rows
        self.max_pairs = max_pairs
        self.lifted = lifted

    def _fit(self, task: FitTask) -> None:
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
        self.prep_seconds_ = time.perf_counter() - start  # CPU work before the trees: the search
        super()._fit(FitTask(features, y))

    def fit_info(self) -> dict:
        return super().fit_info() | {"prep_s": self.prep_seconds_} | self.phases_.summary()

    def _phase_features(self, Z: np.ndarray) -> np.ndarray:
        """[z, w.c, frac(w.c)] per peak w, from standardised rows Z; c = z, or z's lifted columns."""
        t = self.phases_.columns(Z) @ self.frequencies_.T
        return np.hstack([Z, t, np.mod(t, 1.0)])

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return super()._predict_proba(self._phase_features((X - self.mean_) / self.scale_))
