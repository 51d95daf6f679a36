"""spectral_mlp's fallback on real tables: mlp's model trained beside the periodic network, the
better on the validation rows kept; where it is kept, the model is mlp's, prediction for prediction."""

import numpy as np
import pytest

import models
from models.engine import neural

SMALL = dict(device="cpu", n_threads=1, max_epochs=15, patience=5)


def _mixed_table(seed=0, n=500):
    """A smooth label over 3 numeric columns (one with NaN) and one categorical column."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=(n, 3)), rng.integers(0, 4, n).astype(float)])
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 + (X[:, 3] == 2) > 0.8).astype(int)
    X[rng.random(n) < 0.1, 1] = np.nan
    return X[:400], y[:400], X[400:], y[400:]


def _forcing(monkeypatch, network):
    """Make ``network``'s candidate win the validation comparison (the rest of _adopt unchanged)."""
    adopt = neural.NeuralClassifier._adopt

    def forced(self, members, candidates, results, group_size):
        for c, r in zip(candidates, results):
            r.best_val_acc = 1.0 if c.get("network") == network else 0.0
        adopt(self, members, candidates, results, group_size)

    monkeypatch.setattr(neural.NeuralClassifier, "_adopt", forced)


def test_kept_fallback_is_mlps_model_prediction_for_prediction(monkeypatch):
    X, y, X_new, _ = _mixed_table()
    _forcing(monkeypatch, "mlp")
    spectral = models.create("spectral_mlp", seed=3, **SMALL).fit(X, y, categorical=(3,), real=True)
    mlp = models.create("mlp", seed=3, **SMALL).fit(X, y, categorical=(3,), real=True)
    assert spectral.candidate_ == {"network": "mlp"}
    np.testing.assert_array_equal(spectral.predict_proba(X_new), mlp.predict_proba(X_new))


def test_given_validation_rows_reach_mlps_model_as_mlps_rule_maps_them(monkeypatch):
    X, y, X_new, y_new = _mixed_table(seed=6)
    _forcing(monkeypatch, "mlp")
    fit = dict(categorical=(3,), real=True)
    spectral = models.create("spectral_mlp", seed=1, **SMALL).fit(X, y, X_new[:50], y_new[:50], **fit)
    mlp = models.create("mlp", seed=1, **SMALL).fit(X, y, X_new[:50], y_new[:50], **fit)
    assert spectral.result_.best_val_loss == mlp.result_.best_val_loss  # (the forcing rewrote the accuracies)
    np.testing.assert_array_equal(spectral.predict_proba(X_new), mlp.predict_proba(X_new))


def test_kept_periodic_network_predicts_as_without_the_fallback(monkeypatch):
    X, y, X_new, _ = _mixed_table(seed=1)
    _forcing(monkeypatch, "periodic")
    with_fallback = models.create("spectral_mlp", seed=0, **SMALL).fit(X, y, categorical=(3,), real=True)
    without = models.create("spectral_mlp", seed=0, fallback=False, **SMALL).fit(X, y, categorical=(3,), real=True)
    assert with_fallback.candidate_ == {"network": "periodic"}
    np.testing.assert_array_equal(with_fallback.predict_proba(X_new), without.predict_proba(X_new))


@pytest.mark.parametrize("real, fallback, trained", [(True, True, 2), (False, True, 1), (True, False, 1)])
def test_fallback_trains_only_on_real_tables_and_when_on(real, fallback, trained):
    X, y, _, _ = _mixed_table(seed=2)
    X = np.nan_to_num(X)  # generated data may not hold NaN under every rule
    est = models.create("spectral_mlp", seed=0, fallback=fallback, **SMALL).fit(X, y, categorical=(3,), real=real)
    assert len(est.candidate_scores_) == trained
    assert ("network" in est.candidate_) == (trained == 2)


def test_fallback_is_chosen_on_validation_rows_both_candidates_share():
    """Both candidates are scored on the same rows: mlp's split is the periodic network's."""
    X, y, _, _ = _mixed_table(seed=4)
    est = models.create("spectral_mlp", seed=5, **SMALL).fit(X, y, categorical=(3,), real=True)
    (_, acc_periodic, loss_periodic), (_, acc_mlp, loss_mlp) = est.candidate_scores_
    better = "mlp" if (acc_mlp, -loss_mlp) > (acc_periodic, -loss_periodic) else "periodic"
    assert est.candidate_["network"] == better
    mlp = models.create("mlp", seed=5, **SMALL).fit(X, y, categorical=(3,), real=True)
    assert acc_mlp == mlp.result_.best_val_acc and loss_mlp == mlp.result_.best_val_loss
