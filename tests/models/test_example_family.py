"""The README's ten-line example family works as written: registry, runner, tables, sklearn checks."""

import re
import sys
import types

import pytest
from sklearn.utils.estimator_checks import check_estimator

import models
from bench.records import frame
from bench.report import tables
from bench.run import runner, suites
from tests.conftest import ROOT

README = ROOT / "docs" / "data-and-plugins.md"


@pytest.fixture()
def knn_module(monkeypatch):
    text = README.read_text()
    block = re.search(r"<!-- example-family -->\n```python\n(.*?)```", text, re.S)
    assert block, "README lost its example family"
    module = types.ModuleType("models.knn")
    exec(compile(block.group(1), "README.md:example-family", "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, "models.knn", module)
    monkeypatch.setitem(models._REGISTRY, "knn", ("models.knn", "KNN"))
    return module


def test_example_family_runs_through_runner_and_tables(knn_module, tmp_path):
    suite = suites.Suite("t", "", [("sum_bin", {})], [300], ["knn", "xgboost"], [0, 1], ["cpu"])
    assert runner.run(suite.cells(), tmp_path, runner.RunOptions(threads=1, progress=False)) == 0
    df = frame.frame(tmp_path / "records.jsonl")
    assert set(df.model) == {"knn", "xgboost"} and (df.status == "ok").all()
    knn_rows = [line for line in tables.accuracy_tables(df).splitlines() if line.startswith("| knn")]
    assert len(knn_rows) == 1
    assert df[df.model == "knn"].test_acc.min() > 0.8  # sum_bin is easy for a local learner


def test_example_family_passes_sklearn_checks(knn_module):
    check_estimator(models.create("knn", seed=0, device="cpu"))
