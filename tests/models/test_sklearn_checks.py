"""scikit-learn's own estimator checks are the outside judge of the estimator contract."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import models
from tests.conftest import TINY

# Checks that demand accuracy (> 0.83 on an easy problem) of a model trained for 3 epochs on
# tiny settings; accuracy is judged in the benchmark, not here.
ACCURACY_CHECKS = {
    "check_classifiers_train": "tiny test settings are not trained to accuracy",
    # float32 matmuls round differently for different batch shapes (~1e-7, above the check's 1e-7)
    "check_methods_subset_invariance": "float32 rounding depends on batch shape",
    "check_methods_sample_order_invariance": "float32 rounding depends on batch shape",
}
EXPECTED = {
    "seed_mlp": ACCURACY_CHECKS
    | {"check_classifiers_classes": "the seed's 2-unit net with softmax-before-CE barely learns"},
    "selu_mlp": ACCURACY_CHECKS,
    "fourier_mlp": ACCURACY_CHECKS,
    "periodic_mlp": ACCURACY_CHECKS,
    "spectral_mlp": ACCURACY_CHECKS,
    "tabm": ACCURACY_CHECKS,
    "mlp": ACCURACY_CHECKS,
    "realmlp": ACCURACY_CHECKS,
}


def _name(est) -> str:
    return {type(models.create(n)): n for n in models.NAMES}[type(est)]


ESTIMATORS = [models.create(name, seed=0, device="cpu", n_threads=1, **TINY[name]) for name in models.NAMES]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED.get(_name(est), {}))
def test_sklearn_check(estimator, check):
    check(estimator)


def test_names_cover_every_family():
    assert sorted(_name(e) for e in ESTIMATORS) == sorted(models.NAMES)
    pytest.importorskip("sklearn")
