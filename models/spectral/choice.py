"""On a real table a spectral family also fits the family it extends, and keeps its own model
only where the validation rows say it is better beyond their noise.

The rule is the one-standard-error rule (Breiman et al. 1984, CART; Hastie et al., The Elements
of Statistical Learning, 7.10): the simpler model is kept unless the other one's accuracy is
higher by more than one standard error. Here the two models are scored on the same rows, so the
standard error is the paired one, of the per-row difference in correctness (correlated mistakes
cancel). Ties, and gains of a few rows among hundreds, keep the base family's model: a spectral
family on a table without periodic structure is then its base family, and the validation rows'
noise cannot make it worse.

>>> choose(np.array([1, 1, 1, 0]), np.array([1, 1, 0, 0]))["keeps_spectral"]
False
"""

from __future__ import annotations

import numpy as np


def choose(spectral_right: np.ndarray, base_right: np.ndarray) -> dict:
    """The rule on paired validation rows (1 where a model's prediction is right): the accuracy
    gain of the spectral model, its standard error, the rows, and whether the spectral model is kept."""
    d = np.asarray(spectral_right, dtype=np.float64) - np.asarray(base_right, dtype=np.float64)
    n = len(d)
    gain = float(d.mean()) if n else 0.0
    se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    return {"val_gain": round(gain, 6), "val_se": round(se, 6), "val_rows": n, "keeps_spectral": bool(gain > se)}
