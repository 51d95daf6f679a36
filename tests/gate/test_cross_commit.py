"""The A/B gate against a commit from before bench/ became one folder per layer: the `run` flags are
the cross-commit contract, and the old side's records are read with the lenient rule."""

import subprocess

import pytest

from bench.gate import ab
from bench.gate.git import checkout
from tests.conftest import ROOT

BEFORE_THE_MOVE = "f72df77"  # the last commit with flat bench/*.py
CELLS = (
    "--datasets", "sum_bin", "--models", "xgboost", "--n", "300", "--seeds", "0,1,2,3,4", "--device", "cpu",
    "--threads", "1", "--model-param", "xgboost.params={\"n_estimators\": 20}",
)  # fmt: skip


def _have(rev: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _have(BEFORE_THE_MOVE), reason=f"{BEFORE_THE_MOVE} is not in this clone (shallow?)")
def test_compare_base_against_a_commit_from_before_the_move(tmp_path):
    with checkout(BEFORE_THE_MOVE, tmp_path / "base") as base:
        table, rounds = ab.run_gate(base, ROOT, cell_args=CELLS, min_rounds=5, max_rounds=5, progress=lambda _: None)
    assert len(rounds) == 5
    assert set(table.metric) == {"fit time (head/base)", "predict time (head/base)", "held-out acc (head − base)"}
    acc = table[table.metric.str.startswith("held-out")].iloc[0]
    assert acc.verdict == "unchanged", "the same xgboost on the same splits gives the same accuracy per seed"
