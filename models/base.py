"""The estimator contract every family follows (scikit-learn conventions).

Families subclass :class:`BenchClassifier` and write ``_fit(task)`` and ``_predict_proba(X)``;
the base validates input once, encodes labels to 0..K-1 and decodes predictions.

>>> class Constant(BenchClassifier):
...     def __init__(self, *, seed=0, device="auto", n_threads=None):
...         self.seed, self.device, self.n_threads = seed, device, n_threads
...     def _fit(self, task):
...         self.prior_ = np.bincount(task.y, minlength=len(self.classes_)) / len(task.y)
...     def _predict_proba(self, X):
...         return np.tile(self.prior_, (len(X), 1))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class FitTask:
    """What one estimator is fitted on. Passed to ``_fit`` validated, labels encoded to 0..K-1.

    ``X_val, y_val``: optional early-stopping data (else families carve their own).
    ``X_monitor, y_monitor``: optional held-out rows, read only to record an accuracy curve
    (time to accuracy), never to select anything.
    """

    X: np.ndarray
    y: np.ndarray
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    X_monitor: np.ndarray | None = None
    y_monitor: np.ndarray | None = None
    categorical: tuple[int, ...] = ()  # columns holding category codes 0, 1, ... (NaN: missing)
    real: bool = False  # rows of a real table: the family's whole preprocessing rule (models/preprocessing.py)


def resolve_device(device: str) -> str:
    """Map "auto" to "cuda" when available, else "cpu"; reject unknown names."""
    if device not in DEVICES:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise RuntimeError("device='cuda' requested but torch.cuda.is_available() is False")
    return "cpu"


def synchronize(device) -> None:
    """Wait for queued GPU work, so that a clock read afterwards is honest (no-op on CPU)."""
    if str(device).startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


def standard_scale(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature training mean and std (1 where a feature is constant), for (X - mean) / std."""
    scale = X.std(0)
    return X.mean(0), np.where(scale > 0, scale, 1.0)


def too_wide(family: str, columns: int, cap: int) -> str:
    """Why a family does not run on a table this wide (one line)."""
    return f"{columns} columns > {cap}, {family}'s cap: its per-feature embeddings grow with the columns"


class BenchClassifier(ClassifierMixin, BaseEstimator, ABC):
    """Base class: input checks, label encoding, ``classes_``, ``n_features_in_``, and the family's
    preprocessing rule (``preprocessing``, models/preprocessing.py; fitted as ``prep_``)."""

    preprocessing = "none"
    # Columns beyond which the family refuses to fit: where its parameters grow with the columns
    # (per-feature embeddings), a wide table would run the machine out of memory. None: no cap.
    max_features: int | None = None

    def fit(self, X, y, X_val=None, y_val=None, *, monitor=None, categorical=(), real=False):
        """Fit on (X, y); (X_val, y_val) optionally used for early stopping; ``monitor=(X, y)``
        records a held-out accuracy curve where the family supports it; ``categorical``: columns
        of X holding category codes; ``real``: rows of a real table. Returns self."""
        X_mon, y_mon = monitor if monitor is not None else (None, None)
        self._fit(self.validate_task(FitTask(X, y, X_val, y_val, X_mon, y_mon, tuple(categorical), real)))
        return self

    def validate_task(self, task: FitTask) -> FitTask:
        """The task checked, encoded and preprocessed (sets ``classes_``, ``n_features_in_``, ``prep_``)."""
        from models import preprocessing

        X, y = validate_data(self, task.X, task.y, dtype=np.float64, ensure_all_finite=self._finite())
        if self.max_features is not None and X.shape[1] > self.max_features:
            raise ValueError(too_wide(type(self).__name__, X.shape[1], self.max_features))
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        self.prep_ = preprocessing.fit(self.preprocessing, X, task.categorical, real=task.real, seed=self.seed)
        X_val, y_val = (None, None) if task.X_val is None else self._encode(task.X_val, task.y_val, strict=True)
        X_mon, y_mon = (None, None) if task.X_monitor is None else self._encode(task.X_monitor, task.y_monitor)
        X = self.prep_.transform(X)
        return FitTask(X, y_enc.astype(np.int64), X_val, y_val, X_mon, y_mon, self.prep_.categorical_out, task.real)

    def _finite(self):
        return True if self.preprocessing == "none" else "allow-nan"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.preprocessing != "none"
        return tags

    def _encode(self, X, y, *, strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Rows and 0..K-1 labels of another set; unseen labels raise (``strict``) or are dropped."""
        X = self.prep_.transform(
            validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite=self._finite())
        )
        y = np.asarray(y)
        known = np.isin(y, self.classes_)
        if strict and not known.all():
            raise ValueError(f"y_val has labels not seen in y: {np.unique(y[~known]).tolist()}")
        return X[known], np.searchsorted(self.classes_, y[known]).astype(np.int64)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "classes_")
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite=self._finite())
        return self._predict_proba(self.prep_.transform(X))

    def predict(self, X) -> np.ndarray:
        """Most probable class label per row."""
        proba = self.predict_proba(X)  # checks fitted state first
        return self.classes_[np.argmax(proba, axis=1)]

    @abstractmethod
    def _fit(self, task: FitTask) -> None:
        """Learn from a validated task; labels are 0..len(classes_)-1."""

    @abstractmethod
    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(len(X), len(classes_)) probabilities for validated rows."""

    def fit_info(self) -> dict:
        """What the runner records about a fit: epochs or iterations, curves, validation score."""
        return {}
