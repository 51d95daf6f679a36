"""The spectral families' fallback on real tables: the family each extends (mlp, xgboost) fitted
beside it, and the spectral model kept only where the validation rows prefer it by more than one
standard error (models/spectral/choice.py); where the base is kept, the model is the base
family's, prediction for prediction."""

import numpy as np
import pytest

import models
from models.spectral import choice

SMALL = {
    "spectral_mlp": dict(device="cpu", n_threads=1, max_epochs=15, patience=5),
    "spectral_xgboost": dict(device="cpu", n_threads=1, params={"n_estimators": 20}),
}
BASE = {"spectral_mlp": "mlp", "spectral_xgboost": "xgboost"}
KEY = {
    "spectral_mlp": ("network", "periodic"),
    "spectral_xgboost": ("model", "spectral"),
}  # candidate_'s key, spectral value
SPECTRAL = tuple(SMALL)


def _mixed_table(seed=0, n=500):
    """A smooth label over 3 numeric columns (one with NaN) and one categorical column; the last
    rows, for prediction, hold a category (7) that the training rows never had."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=(n, 3)), rng.integers(0, 4, n).astype(float)])
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 + (X[:, 3] == 2) > 0.8).astype(int)
    X[rng.random(n) < 0.1, 1] = np.nan
    X[-20:, 3] = 7.0
    return X[:400], y[:400], X[400:], y[400:]


def _create(family, **params):
    return models.create(family, **(SMALL[family] | params))


def _base(family, **params):
    small = {k: v for k, v in SMALL[family].items() if k in models.create(BASE[family]).get_params()}
    return models.create(BASE[family], **(small | params))


def _forcing(monkeypatch, keeps_spectral: bool):
    """Make the rule decide ``keeps_spectral`` (what it records otherwise unchanged)."""
    rule = choice.choose
    monkeypatch.setattr(choice, "choose", lambda s, b: rule(s, b) | {"keeps_spectral": keeps_spectral})


FIT = dict(categorical=(3,), real=True)


@pytest.mark.parametrize("family", SPECTRAL)
def test_kept_base_is_the_base_familys_model_prediction_for_prediction(monkeypatch, family):
    X, y, X_new, _ = _mixed_table()
    _forcing(monkeypatch, False)
    spectral = _create(family, seed=3).fit(X, y, **FIT)
    base = _base(family, seed=3).fit(X, y, **FIT)
    assert spectral.candidate_[KEY[family][0]] == BASE[family]
    np.testing.assert_array_equal(spectral.predict_proba(X_new), base.predict_proba(X_new))
    np.testing.assert_array_equal(spectral.predict(X), base.predict(X))


@pytest.mark.parametrize("family", SPECTRAL)
def test_given_validation_rows_reach_the_base_model_as_its_rule_maps_them(monkeypatch, family):
    X, y, X_new, y_new = _mixed_table(seed=6)
    _forcing(monkeypatch, False)
    spectral = _create(family, seed=1).fit(X, y, X_new[:50], y_new[:50], **FIT)
    base = _base(family, seed=1).fit(X, y, X_new[:50], y_new[:50], **FIT)
    assert spectral.candidate_["val_rows"] == 50
    np.testing.assert_array_equal(spectral.predict_proba(X_new), base.predict_proba(X_new))


def test_given_validation_rows_reach_mlps_network_unchanged(monkeypatch):
    X, y, X_new, y_new = _mixed_table(seed=6)
    _forcing(monkeypatch, False)
    spectral = _create("spectral_mlp", seed=1).fit(X, y, X_new[:50], y_new[:50], **FIT)
    mlp = _base("spectral_mlp", seed=1).fit(X, y, X_new[:50], y_new[:50], **FIT)
    assert spectral.result_.best_val_loss == mlp.result_.best_val_loss


@pytest.mark.parametrize("family", SPECTRAL)
def test_kept_spectral_model_predicts_as_without_the_fallback(monkeypatch, family):
    X, y, X_new, _ = _mixed_table(seed=1)
    _forcing(monkeypatch, True)
    with_fallback = _create(family, seed=0).fit(X, y, **FIT)
    without = _create(family, seed=0, fallback=False).fit(X, y, **FIT)
    key, spectral = KEY[family]
    assert with_fallback.candidate_[key] == spectral
    np.testing.assert_array_equal(with_fallback.predict_proba(X_new), without.predict_proba(X_new))


@pytest.mark.parametrize("family", SPECTRAL)
@pytest.mark.parametrize("real, fallback, chose", [(True, True, True), (False, True, False), (True, False, False)])
def test_fallback_only_on_real_tables_and_when_on(family, real, fallback, chose):
    X, y, _, _ = _mixed_table(seed=2)
    X = np.nan_to_num(X)  # generated data may not hold NaN under every rule
    est = _create(family, seed=0, fallback=fallback).fit(X, y, categorical=(3,), real=real)
    assert ("val_gain" in est.candidate_) == chose
    assert (getattr(est, "fallback_", None) is not None) <= chose


@pytest.mark.parametrize("family", SPECTRAL)
def test_the_choice_follows_the_rule_on_a_fifth_of_the_training_rows(family):
    X, y, _, _ = _mixed_table(seed=4)
    est = _create(family, seed=5).fit(X, y, **FIT)
    c = est.candidate_
    assert c["val_rows"] == 80  # 20% of 400
    key, spectral = KEY[family]
    assert (c[key] == spectral) == (c["val_gain"] > c["val_se"])


def test_spectral_mlps_choice_scores_the_rows_the_trainer_validated_on():
    """The rule's per-row answers are the kept weights' (the best epoch's) on both candidates'
    shared validation rows: their accuracy difference is the trainer's, and mlp's is mlp's own."""
    X, y, _, _ = _mixed_table(seed=4)
    est = _create("spectral_mlp", seed=5).fit(X, y, **FIT)
    (_, acc_periodic, _), (_, acc_mlp, loss_mlp) = est.candidate_scores_
    assert est.candidate_["val_gain"] == pytest.approx(acc_periodic - acc_mlp, abs=1e-6)
    mlp = _base("spectral_mlp", seed=5).fit(X, y, **FIT)
    assert acc_mlp == mlp.result_.best_val_acc and loss_mlp == mlp.result_.best_val_loss


def test_spectral_xgboost_scores_both_models_on_the_same_rows_and_refits_the_kept_one():
    X, y, X_new, _ = _mixed_table(seed=3)
    est = _create("spectral_xgboost", seed=2).fit(X, y, **FIT)
    assert est.fit_info()["iterations"] == 20
    kept = est.fallback_ if est.fallback_ is not None else est
    assert kept.model_.get_booster().num_boosted_rounds() == 20
    assert est.predict_proba(X_new).shape == (len(X_new), 2)


def test_rule_keeps_the_base_on_ties_and_within_one_standard_error():
    n = 100
    same = np.ones(n, dtype=int)
    assert not choice.choose(same, same)["keeps_spectral"]
    # 6 rows better, 4 worse: gain 0.02, SE of the paired difference ~0.032
    s, b = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    s[:6], b[6:10] = 1, 1
    assert not choice.choose(s, b)["keeps_spectral"]
    # 20 rows better, 2 worse: gain 0.18 against an SE of ~0.046
    s, b = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    s[:20], b[20:22] = 1, 1
    out = choice.choose(s, b)
    assert out["keeps_spectral"] and out["val_gain"] == pytest.approx(0.18) and out["val_rows"] == n
    assert not choice.choose(np.ones(1), np.zeros(1))["keeps_spectral"]  # one row: no standard error, no evidence
