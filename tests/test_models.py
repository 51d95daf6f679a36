"""The estimator contract, over every registered family, on tiny data."""

import numpy as np
import pytest

import datasets
import models

# Small settings so each family fits in well under a second; behaviour, not accuracy.
TINY = {
    "seed_mlp": {"max_epochs": 2},
    "mlp": {"max_epochs": 3, "width": 16},
    "selu_mlp": {"max_epochs": 3, "width": 16, "n_layers": 8},
    "periodic_mlp": {"max_epochs": 3, "width": 16},
    "fourier_mlp": {"max_epochs": 3, "width": 16, "n_frequencies": 8},
    "spectral_mlp": {"max_epochs": 3, "width": 16},
    "tabm": {"max_epochs": 3, "d_block": 16, "k": 4},
    "catboost": {"params": {"iterations": 10}},
    "xgboost": {"params": {"n_estimators": 5}},
    "spectral_xgboost": {"params": {"n_estimators": 5}},
    "lightgbm": {"params": {"n_estimators": 5}},
    "hist_gbt": {"params": {"max_iter": 5}},
    "random_forest": {"params": {"n_estimators": 5}},
    "realmlp": {"params": {"n_epochs": 2, "hidden_sizes": [16, 16]}},
}


def test_registry_names():
    assert tuple(TINY) == models.NAMES


@pytest.fixture(scope="module")
def data():
    X, y = datasets.generate("sum_bin", n=240, seed=0)
    return X[:200], y[:200], X[200:], y[200:]


@pytest.mark.parametrize("name", models.NAMES)
def test_contract(name, data):
    X, y, X_test, _ = data
    est = models.create(name, seed=0, device="cpu", n_threads=1, **TINY[name])
    assert est.fit(X, y) is est
    proba = est.predict_proba(X_test)
    assert proba.shape == (len(X_test), 3) and proba.dtype == np.float64
    assert np.allclose(proba.sum(1), 1.0, atol=1e-6) and np.all(proba >= 0)
    pred = est.predict(X_test)
    assert pred.shape == (len(X_test),) and set(pred) <= {0, 1, 2}
    assert list(est.classes_) == [0, 1, 2] and est.n_features_in_ == 2
    again = models.create(name, seed=0, device="cpu", n_threads=1, **TINY[name]).fit(X, y)
    assert np.allclose(again.predict_proba(X_test), proba, atol=1e-6), "same seed must give the same model on CPU"


@pytest.mark.parametrize("name", models.NAMES)
def test_any_feature_count_and_class_count(name):
    X, y = datasets.generate("sum_mod", n=150, seed=1, n_classes=4, n_noise_features=3, weights=(1.0, 1.0, 1.0))
    est = models.create(name, seed=0, device="cpu", n_threads=1, **TINY[name]).fit(X, y)
    assert est.predict_proba(X).shape == (150, 4)
    with pytest.raises(ValueError):
        est.predict(X[:, :2])  # wrong number of features


def test_unknown_names_and_params():
    with pytest.raises(ValueError, match="unknown model 'nope'; choose from seed_mlp"):
        models.create("nope")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['depth'\] for 'mlp'"):
        models.create("mlp", depth=3)
    with pytest.raises(ValueError, match="device must be"):
        models.create("mlp", device="tpu")


def test_cuda_request_without_cuda_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    X, y = datasets.generate("sum_bin", n=50, seed=0)
    with pytest.raises(RuntimeError, match="cuda"):
        models.create("mlp", device="cuda", max_epochs=1).fit(X, y)


def test_validation_set_is_used_when_given(data):
    X, y, X_val, y_val = data
    est = models.create("mlp", seed=0, device="cpu", **TINY["mlp"]).fit(X, y, X_val, y_val)
    r = est.result_
    assert r.samples_seen == r.epochs * len(X), "given X_val, every training row is trained on"
    assert len(r.val_acc_curve) == r.epochs
    assert r.best_val_acc == pytest.approx(np.mean(est.predict(X_val) == y_val)), "scores are on X_val"
    carved = models.create("mlp", seed=0, device="cpu", **TINY["mlp"]).fit(X, y).result_
    assert carved.samples_seen == carved.epochs * int(len(X) * 0.8), "without X_val, 20% is held for validation"


def test_early_stopping_restores_the_best_epoch():
    X, y = datasets.generate("sum_mod", n=500, seed=0)
    X_val, y_val = datasets.generate("sum_mod", n=200, seed=1)
    est = models.create("mlp", seed=0, device="cpu", width=32, lr=3e-2, max_epochs=200, patience=5)
    r = est.fit(X, y, X_val, y_val).result_
    assert r.epochs == r.best_epoch + 5 < 200, "stops `patience` epochs after the best"
    assert r.val_acc_curve[-1] < r.best_val_acc, "the last epoch must be worse, or restoring is not tested"
    assert np.mean(est.predict(X_val) == y_val) == pytest.approx(r.best_val_acc), "the best epoch's weights are kept"


@pytest.mark.parametrize("name", ["mlp", "spectral_mlp"])
def test_inputs_a_network_cannot_represent_are_a_clear_error(name, data):
    X, y, X_test, _ = data
    est = models.create(name, seed=0, device="cpu", **TINY[name]).fit(X, y)
    with pytest.raises(ValueError, match="float32"):
        est.predict_proba(np.full((3, 2), 1e300))
