"""ROC AUC and log loss in the records equal scikit-learn's functions on the recorded probabilities."""

import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from bench.run import runner
from bench.run.suites import Cell


@pytest.mark.parametrize(("dataset", "n"), [("breast_cancer", 569), ("wine", 178)])
def test_measured_scores_are_sklearns_on_the_held_out_probabilities(dataset, n):
    cell = Cell(dataset, {}, n, "xgboost", {"params": {"n_estimators": 10}}, "cpu", 0)
    fitted = runner._fit_cells([cell], threads=1, batch=False)[0]
    record = runner._measure(runner.new_record(cell, 1), fitted)
    _, X_test, _, y_test = fitted.data
    proba = fitted.est.predict_proba(X_test)
    assert record["test_log_loss"] == pytest.approx(log_loss(y_test, proba, labels=fitted.est.classes_), rel=1e-9)
    if len(fitted.est.classes_) == 2:
        assert record["test_roc_auc"] == pytest.approx(roc_auc_score(y_test, proba[:, 1]), rel=1e-12)
        assert record["test_error"] == pytest.approx(1 - record["test_roc_auc"])
        assert record["test_error_metric"] == "1 - roc_auc"
    else:
        assert record["test_roc_auc"] is None
        assert record["test_error"] == record["test_log_loss"] and record["test_error_metric"] == "log_loss"
    from bench.records import schema

    schema.check(record)  # the new fields pass the record check


def test_probability_scores_against_sklearn_with_clipping_and_an_unseen_label():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    proba = rng.dirichlet(np.ones(3), 200)
    proba[0] = [1.0, 0.0, 0.0]
    y[0] = 1  # probability 0 on the true class: clipped to 1e-15, not infinite
    got = runner.probability_scores(y, proba, np.arange(3))
    clipped = np.clip(proba, runner.LOG_LOSS_CLIP, 1 - runner.LOG_LOSS_CLIP)
    picked = clipped[np.arange(200), y]
    assert got["test_log_loss"] == pytest.approx(-np.mean(np.log(picked)), rel=1e-12)
    assert got["test_log_loss"] == pytest.approx(log_loss(y[1:], proba[1:]) * 199 / 200 - np.log(1e-15) / 200)
    binary = runner.probability_scores(
        y[y < 2], proba[y < 2][:, :2] / proba[y < 2][:, :2].sum(1, keepdims=True), [0, 1]
    )
    assert binary["test_roc_auc"] == pytest.approx(
        roc_auc_score(y[y < 2], proba[y < 2][:, 1] / proba[y < 2][:, :2].sum(1))
    )
    one_class = runner.probability_scores(np.zeros(5, int), np.full((5, 2), 0.5), [0, 1])
    assert one_class["test_roc_auc"] is None and one_class["test_error"] is None
