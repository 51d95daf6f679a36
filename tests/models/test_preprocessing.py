"""One preprocessing rule per family kind (models/preprocessing.py), on a small mixed table with
missing values in numeric and categorical columns and a category unseen in training."""

import numpy as np
import pytest

import datasets
import models
from models import preprocessing
from models.peers import missing_library
from tests.conftest import TINY

# Each rule kind, and the families that follow it.
KINDS = {
    "native": ["catboost", "xgboost", "lightgbm", "hist_gbt"],
    "ordinal": ["random_forest"],
    "quantile": ["mlp", "tabm", "periodic_mlp"],
    "spectral": ["spectral_mlp", "spectral_xgboost"],
    "library": ["realmlp"],
}
FAMILY = {name: kind for kind, names in KINDS.items() for name in names}


def mixed(n=160, seed=0):
    """x0 numeric (10% NaN), x1 categorical 0..3 (10% NaN), x2 numeric; the label uses all three."""
    rng = np.random.default_rng(seed)
    x0, x2 = rng.normal(size=n), rng.uniform(size=n)
    x1 = rng.integers(0, 4, n).astype(float)
    y = ((x0 > 0) ^ (x1 >= 2)).astype(np.int64)
    x0[rng.random(n) < 0.1] = np.nan
    x1[rng.random(n) < 0.1] = np.nan
    return np.stack([x0, x1, x2], 1), y


@pytest.fixture(scope="module")
def table():
    X, y = mixed()
    X_new, _ = mixed(20, seed=1)
    X_new[:5, 1] = 7.0  # a category never seen in training
    X_new[5:8, 0] = np.nan
    return X, y, X_new


def test_every_family_has_a_rule_and_the_kinds_cover_them():
    for name in models.NAMES:
        assert models.create(name).preprocessing in preprocessing.RULES
    assert {models.create(n).preprocessing for n in FAMILY} == set(KINDS)


@pytest.mark.parametrize("name", list(FAMILY))
def test_each_kind_fits_nan_and_categoricals_and_predicts_an_unseen_category(name, table):
    X, y, X_new = table
    if missing_library(name):
        pytest.skip(missing_library(name))
    est = models.create(name, seed=0, device="cpu", n_threads=1, **TINY[name])
    est.fit(X, y, categorical=(1,), real=True)
    proba = est.predict_proba(X_new)
    assert proba.shape == (len(X_new), 2) and np.all(np.isfinite(proba))
    assert np.allclose(proba.sum(1), 1.0, atol=1e-6)
    assert est.prep_.rule == FAMILY[name] and est.prep_.describe().startswith(FAMILY[name])


def test_native_rule_keeps_nan_and_turns_an_unseen_category_into_missing(table):
    X, _, X_new = table
    prep = preprocessing.fit("native", X, (1,))
    out = prep.transform(X_new)
    assert prep.categorical_out == (1,)
    assert np.isnan(out[:5, 1]).all() and np.isnan(out[5:8, 0]).all()
    assert np.array_equal(out[8:, 1:], X_new[8:, 1:], equal_nan=True)


def test_neural_rule_imputes_indicates_one_hots_and_scales_on_training_rows(table):
    X, _, X_new = table
    prep = preprocessing.fit("quantile", X, (1,), real=True)
    out = prep.transform(X_new)
    # x0, x2 (numeric), x0's missing indicator, x1 one-hot (4 levels) + x1's missing indicator
    assert out.shape == (20, 2 + 1 + 4 + 1) and np.isfinite(out).all()
    assert np.array_equal(out[5:8, 2], [1.0, 1.0, 1.0]), "missing x0 is flagged"
    assert np.all(out[:5, 3:7] == 0), "an unseen category is all zeros"
    train = prep.transform(X)
    assert abs(np.median(train[:, 0])) < 0.1 and 0.7 < train[:, 1].std() < 1.5, "quantile-to-normal on training rows"
    assert prep.describe() == "quantile; 1 categorical; 1 missing indicators; one-hot <= 20 levels; quantile-normal"


def test_many_levels_fall_back_to_one_scaled_ordinal_column():
    rng = np.random.default_rng(0)
    X = np.stack([rng.normal(size=300), rng.integers(0, 40, 300).astype(float)], 1)
    prep = preprocessing.fit("quantile", X, (1,))
    out = prep.transform(np.array([[0.0, 0.0], [0.0, 39.0], [0.0, 99.0]]))
    assert out.shape == (3, 2) and out[:, 1].tolist() == [0.0, 1.0, 0.5], "unseen: the middle"
    assert "1 ordinal" in prep.describe()


def test_generated_data_keeps_its_coordinates():
    """No categorical column, no NaN, not a real table: every rule is the identity (the seed
    thread's results on sum_mod stand)."""
    X, _ = datasets.generate("sum_mod", n=200, seed=0)
    for rule in ("quantile", "spectral", "native", "library"):
        assert np.array_equal(preprocessing.fit(rule, X).transform(X), X)


def test_bad_codes_are_a_clear_error():
    with pytest.raises(ValueError, match="non-negative integer codes"):
        preprocessing.fit("native", np.array([[0.5], [1.0]]), (0,))


def test_catboost_uses_its_categorical_features(table):
    X, y, X_new = table
    est = models.create("catboost", seed=0, device="cpu", n_threads=1, **TINY["catboost"])
    assert est.fit(X, y, categorical=(1,)).fit_info()["categorical_features"] == [1]
    assert models.create("catboost", **TINY["catboost"]).fit(X, y).fit_info()["categorical_features"] == []


def test_spectral_search_reads_numeric_columns_only(table):
    X, y, _ = table
    est = models.create("spectral_mlp", seed=0, device="cpu", n_threads=1, **TINY["spectral_mlp"])
    est.fit(X, y, categorical=(1,), real=True)
    k = est.prep_.n_numeric
    assert k == 2 and est.frequencies_found_.shape[1] > k
    assert np.all(est.frequencies_found_[:, k:] == 0), "indicator and one-hot columns get no frequency"


def test_missing_values_can_still_be_refused(tmp_path):
    from datasets import tables

    path = tmp_path / "m.csv"
    path.write_text("a,b,label\n1,,x\n2,3,y\n,4,x\n5,6,y\n")
    assert np.isnan(tables.read_file(path, "label").X).sum() == 2, "kept as NaN by default"
    with pytest.raises(ValueError, match=r"missing values in a \(1 missing\), b \(1 missing\)"):
        tables.read_file(path, "label", refuse_missing=True)
