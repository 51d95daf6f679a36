"""bench.studies.on_nodes: a bench run on a Ray cluster of two nodes on this machine."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _on_nodes(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "bench.studies.on_nodes", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give a bench command after --"),
        (["--", "report"], "give a bench command after --"),
        (["--nodes", "0", "--", "run"], "--nodes and --cpus must be at least 1"),
        (["--", "run", "--executor", "local"], "--executor and --ray-address are this command's to set"),
        (["--", "run", "--executor=local"], "--executor and --ray-address are this command's to set"),
        (["--", "run", "--ray-addr", "auto"], "--executor and --ray-address are this command's to set"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(args, message):
    out = _on_nodes(*args)
    assert out.returncode == 2 and message in out.stderr


def test_a_run_on_two_nodes_records_every_cell_and_its_node(tmp_path):
    out = _on_nodes(
        "--nodes", "2", "--", "run", "--datasets", "sum_bin", "--models", "mlp,xgboost", "--n", "300",
        "--seeds", "0,1", "--model-param", "mlp.max_epochs=2", "--out", str(tmp_path / "r"), "--no-progress",
        timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "2 Ray nodes of 1 CPU(s) at 127.0.0.1:" in out.stderr
    records = [json.loads(x) for x in (tmp_path / "r" / "records.jsonl").read_text().splitlines()]
    assert len(records) == 4 and all(r["status"] == "ok" for r in records)
    assert all(r["node"] for r in records)
