"""The estimator contract every family follows (scikit-learn conventions).

Families subclass :class:`BenchClassifier` and write ``_fit(X, y_encoded, X_val, y_val)`` and
``_predict_proba(X)``; the base validates input, encodes labels to 0..K-1 and decodes predictions.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data


def resolve_device(device: str) -> str:
    """Map "auto" to "cuda" when available, else "cpu"; reject unknown names."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise RuntimeError("device='cuda' requested but torch.cuda.is_available() is False")
    return "cpu"


def standard_scale(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature training mean and std (1 where a feature is constant), for (X - mean) / std."""
    scale = X.std(0)
    return X.mean(0), np.where(scale > 0, scale, 1.0)


class BenchClassifier(ClassifierMixin, BaseEstimator):
    """Base class: input checks, label encoding, ``classes_``, ``n_features_in_``."""

    def fit(self, X, y, X_val=None, y_val=None):
        """Fit on (X, y); (X_val, y_val) optionally used for early stopping. Returns self."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if X_val is not None:
            X_val, y_val = self._encode_val(X_val, y_val)
        self._fit(X, y_enc.astype(np.int64), X_val, y_val)
        return self

    def _encode_val(self, X_val, y_val) -> tuple[np.ndarray, np.ndarray]:
        X_val = validate_data(self, X_val, reset=False, dtype=np.float64)
        y_val = np.asarray(y_val)
        known = np.isin(y_val, self.classes_)
        if not known.all():
            raise ValueError(f"y_val has labels not seen in y: {np.unique(y_val[~known]).tolist()}")
        return X_val, np.searchsorted(self.classes_, y_val).astype(np.int64)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "classes_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._predict_proba(X)

    def predict(self, X) -> np.ndarray:
        """Most probable class label per row."""
        proba = self.predict_proba(X)  # checks fitted state first
        return self.classes_[np.argmax(proba, axis=1)]

    # Families override these two.
    def _fit(self, X: np.ndarray, y: np.ndarray, X_val, y_val) -> None:  # pragma: no cover
        raise NotImplementedError

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def fit_info(self) -> dict:
        """What the runner records about a fit: epochs or iterations, curves, validation score."""
        return {}
