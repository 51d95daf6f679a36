"""Mixed types the way each family expects: one rule per family kind, fitted on training rows only.

Input (what datasets/ hands every family): X float64 where the ``categorical`` columns hold
category codes 0, 1, ... and NaN marks a missing value anywhere. A family names its rule in its
class attribute ``preprocessing``; the base (models.base) fits it in ``validate_task`` and applies
it before every ``_fit`` and ``_predict_proba``, and the records carry :meth:`Prep.describe`.

Rules:
- ``native`` (catboost, xgboost, lightgbm, hist_gbt): raw numbers, NaN left as missing, the
  categorical columns handed to the library as categorical (CatBoost ``cat_features``, LightGBM
  ``categorical_feature``, XGBoost ``enable_categorical``, HistGradientBoosting
  ``categorical_features``). A category not seen in the training rows becomes missing.
- ``ordinal`` (random_forest): as ``native``, but scikit-learn's forest has no categorical splits,
  so the codes are split on as ordered numbers (its NaN support is native).
- ``quantile`` (mlp, seed_mlp, selu_mlp, periodic_mlp, fourier_mlp, tabm): the PLR / TabM recipe.
  Numeric NaN -> the training median, plus a 0/1 missing-indicator column per numeric column that
  had missing values in training; on real tables (``real``) a quantile-to-normal transform of the
  numeric columns fitted on the training rows (scikit-learn's QuantileTransformer, at most 1,000
  quantiles); categoricals one-hot up to ``MAX_ONE_HOT`` levels (a missing value: its own column
  when training had one; an unseen level: all zeros), above that one column of ordinal codes
  scaled to [0, 1] (missing or unseen: 0.5) plus a missing indicator.
- ``spectral`` (spectral_mlp, spectral_xgboost): as ``quantile`` without the rank transform (a
  per-feature monotone map bends the straight stripes the frequency search looks for); the
  search reads the numeric columns only (:func:`find_numeric_phases`).
- ``library`` (realmlp): numeric NaN -> the training median plus missing indicators (pytabkit's
  RealMLP refuses NaN); scaling left to the library, whose tuned default is RealMLP's robust
  scaling + smooth clipping; categoricals handed to it as categorical (its own one-hot / embedding),
  unseen levels as missing.
- ``none`` (plug-ins): X as given; NaN is refused by the input check.

Generated data (``real=False``) keeps its raw coordinates under every rule: its structure (the
stripes of sum_mod) lives there, and the tables of the seed thread were measured that way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RULES = ("native", "ordinal", "quantile", "spectral", "library", "none")
MAX_ONE_HOT = 20  # levels one-hot at most (neural rules); more: one column of scaled ordinal codes
MAX_QUANTILES = 1000


@dataclass
class Prep:
    """A rule fitted on training rows; :meth:`transform` maps any rows of the same columns."""

    rule: str
    d_in: int
    categorical: tuple[int, ...]  # input columns holding category codes
    real: bool
    levels: dict[int, np.ndarray] = field(default_factory=dict)  # training levels per categorical column
    numeric: tuple[int, ...] = ()
    medians: np.ndarray | None = None
    indicate: tuple[int, ...] = ()  # numeric columns (positions in ``numeric``) that get an indicator
    cat_missing: dict[int, bool] = field(default_factory=dict)  # categorical column had missing in training
    quantiles: object = None  # a fitted QuantileTransformer, or None

    @property
    def categorical_out(self) -> tuple[int, ...]:
        """Output columns a library should treat as categorical (native rules), else ()."""
        return self.categorical if self.rule in ("native", "library") else ()

    @property
    def n_numeric(self) -> int:
        """The first ``n_numeric`` output columns are the numeric features (the rest indicators or
        encoded categoricals; under native rules every column)."""
        return len(self.numeric) if self.rule in ("quantile", "spectral") else self.d_in

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.rule == "none":
            return X
        X = X.copy()
        for j, seen in self.levels.items():  # an unseen level becomes missing
            col = X[:, j]
            col[~np.isnan(col) & ~np.isin(col, seen)] = np.nan
        if self.rule in ("native", "ordinal"):
            return X
        num = X[:, list(self.numeric)]
        missing = np.isnan(num)
        num = np.where(missing, self.medians, num)
        if self.rule == "library":
            X[:, list(self.numeric)] = num
            return np.hstack([X, missing[:, list(self.indicate)].astype(np.float64)])
        if self.quantiles is not None:
            num = self.quantiles.transform(num)
        parts = [num, missing[:, list(self.indicate)].astype(np.float64)]
        for j in self.categorical:
            parts.append(self._encode_categorical(X[:, j], j))
        return np.hstack(parts)

    def _encode_categorical(self, col: np.ndarray, j: int) -> np.ndarray:
        seen = self.levels[j]
        absent = np.isnan(col)
        out = []
        if len(seen) <= MAX_ONE_HOT:
            out.append((col[:, None] == seen[None, :]).astype(np.float64))  # unseen or missing: all zeros
        else:
            rank = np.searchsorted(seen, np.where(absent, seen[0], col))
            out.append(np.where(absent, 0.5, rank / max(len(seen) - 1, 1))[:, None])
        if self.cat_missing[j]:
            out.append(absent[:, None].astype(np.float64))
        return np.hstack(out)

    def describe(self) -> str:
        """One line for the records: the rule and what it did to this table."""
        parts = [self.rule]
        if self.rule != "none":
            parts.append(f"{len(self.categorical)} categorical")
        if self.rule in ("quantile", "spectral", "library"):
            parts.append(f"{len(self.indicate)} missing indicators")
            if self.rule != "library":
                wide = sum(len(v) > MAX_ONE_HOT for v in self.levels.values())
                parts.append(f"one-hot <= {MAX_ONE_HOT} levels" + (f", {wide} ordinal" if wide else ""))
            if self.quantiles is not None:
                parts.append("quantile-normal")
        return "; ".join(parts)


def fit(rule: str, X: np.ndarray, categorical=(), *, real: bool = False, seed: int = 0) -> Prep:
    """Fit ``rule`` on training rows X (see the module doc); a ValueError names bad codes."""
    if rule not in RULES:
        raise ValueError(f"unknown preprocessing rule {rule!r}; choose from {', '.join(RULES)}")
    d = X.shape[1]
    categorical = tuple(sorted({int(j) for j in categorical}))
    if categorical and not 0 <= categorical[0] <= categorical[-1] < d:
        raise ValueError(f"categorical columns {list(categorical)} out of range for {d} features")
    prep = Prep(rule, d, categorical if rule != "none" else (), real)
    if rule == "none":
        return prep
    for j in prep.categorical:
        col = X[:, j]
        present = col[~np.isnan(col)]
        if np.any(present < 0) or np.any(present != np.round(present)):
            raise ValueError(f"categorical column {j} must hold non-negative integer codes (NaN: missing)")
        prep.levels[j] = np.unique(present)
        prep.cat_missing[j] = bool(len(present) < len(col))
    if rule in ("native", "ordinal"):
        return prep
    prep.numeric = tuple(j for j in range(d) if j not in prep.categorical)
    num = X[:, list(prep.numeric)]
    missing = np.isnan(num)
    with np.errstate(all="ignore"):
        medians = np.array([np.median(c[~m]) if (~m).any() else 0.0 for c, m in zip(num.T, missing.T)])
    prep.medians = medians
    prep.indicate = tuple(int(i) for i in np.flatnonzero(missing.any(0)))
    if rule == "quantile" and real and num.shape[1]:
        prep.quantiles = fit_quantile_normal(np.where(missing, medians, num), seed)
    return prep


def fit_quantile_normal(num: np.ndarray, seed: int):
    """The quantile rule's map of numeric training columns (no NaN) to a normal, fitted."""
    from sklearn.preprocessing import QuantileTransformer

    return QuantileTransformer(
        n_quantiles=max(2, min(MAX_QUANTILES, len(num))),
        output_distribution="normal",
        subsample=None,
        random_state=int(seed),
    ).fit(num)


def find_numeric_phases(est, Z: np.ndarray, y: np.ndarray, n_classes: int, **search):
    """models.spectral.phases.find_phases on the numeric columns of standardised rows Z only (the first
    ``est.prep_.n_numeric``); indicator and category columns get zero frequency. With other
    columns present the search stays linear (the lifted dictionary is over numeric columns)."""
    from models.spectral.phases import Phases, find_phases

    d = Z.shape[1]
    prep = getattr(est, "prep_", None)
    k = d if prep is None else min(prep.n_numeric, d)
    if k == d:
        return find_phases(Z, y, n_classes, est.mean_, est.scale_, **search)
    if k == 0:
        return Phases(np.zeros((search.get("n_peaks", 4), d)))
    found = find_phases(Z[:, :k], y, n_classes, est.mean_[:k], est.scale_[:k], **(search | {"lifted": False}))
    # Category columns get zero frequency; a warp's column stays last (its features are numeric).
    omegas = np.insert(found.omegas, [found.n_base] * (d - k), 0.0, axis=1)
    return Phases(omegas, explained=found.explained, warp=found.warp)
