"""--executor ray: a two-node Ray cluster on this machine (loopback only), killed workers and drivers."""

import os

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # every node on 127.0.0.1 (before ray is imported)
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import contextlib  # noqa: E402
import dataclasses  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402
import ray  # noqa: E402  (in .[test]: CI tests the Ray executor)

from bench.records import machine, schema, store  # noqa: E402
from bench.run import runner, suites  # noqa: E402
from bench.run.ray_executor import RayExecutor  # noqa: E402
from tests.conftest import ROOT, lines  # noqa: E402

SMALL = dataclasses.replace(
    suites.custom(
        datasets_=["sum_bin", "sum_mod"], sizes=[300], models_=["mlp", "xgboost"], seeds=[0, 1], devices=["cpu"],
        model_params={"mlp": {"max_epochs": 3}, "xgboost": {"params": {"n_estimators": 5}}},
    )[0],
    batch_seeds=False,
)  # fmt: skip  # 8 cells, each a group of its own: 8 tasks


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    c.add_node(num_cpus=1)
    ray.init(address=c.address, log_to_driver=False)
    yield c
    ray.shutdown()
    c.shutdown()


def _accuracies(path):
    return {r["key"]: r["test_acc"] for r in lines(path)}


def test_a_suite_on_two_nodes_matches_the_local_run(cluster, tmp_path):
    cells = SMALL.cells()
    assert runner.run(cells, tmp_path / "local", runner.RunOptions(threads=1, progress=False, batch_seeds=False)) == 0
    with RayExecutor() as ex:
        assert "2 nodes, 2 CPUs" in ex.describe()
        assert (
            runner.run(
                cells, tmp_path / "ray", runner.RunOptions(threads=1, progress=False, batch_seeds=False), executor=ex
            )
            == 0
        )
    recs = lines(tmp_path / "ray" / "records.jsonl")
    assert sorted(r["key"] for r in recs) == sorted(c.key for c in cells), "every cell recorded exactly once"
    assert all(r["status"] == "ok" for r in recs), [r["error"] for r in recs]
    assert _accuracies(tmp_path / "ray" / "records.jsonl") == _accuracies(tmp_path / "local" / "records.jsonl")
    assert len({r["node"] for r in recs}) == 2, "both nodes ran cells"
    assert all(r["commit"] == machine.git_commit() and r["peak_rss_mb"] > 0 for r in recs)
    assert store.finished_keys(tmp_path / "ray" / "records.jsonl", made_here=True) == {c.key for c in cells}


SLEEPER = """
import os, time
from pathlib import Path
from sklearn.linear_model import LogisticRegression

HERE = Path({here!r})


class Sleeper(LogisticRegression):
    def fit(self, X, y):
        marker = HERE / "attempted"
        if not marker.exists():  # the first attempt says where it runs, then waits to be killed
            marker.write_text("")
            (HERE / "pid").write_text(str(os.getpid()))
            time.sleep(120)
        return super().fit(X, y)


def make():
    return Sleeper()
"""


def _kill_when_started(folder):
    def kill():
        pid_file = folder / "pid"
        for _ in range(1200):
            if pid_file.exists() and pid_file.read_text():
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
                return
            time.sleep(0.1)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
@pytest.mark.parametrize("retries", [0, 1])
def test_a_killed_worker_fails_its_group_or_is_retried_once(cluster, tmp_path, monkeypatch, retries):
    (tmp_path / "sleeper.py").write_text(SLEEPER.format(here=str(tmp_path)))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # forwarded to the workers: the plug-in imports there
    monkeypatch.syspath_prepend(str(tmp_path))
    cells = suites.custom(
        datasets_=["sum_bin"], sizes=[200], models_=["sleeper:make", "xgboost"], seeds=[0], devices=["cpu"],
        model_params={"xgboost": {"params": {"n_estimators": 5}}},
    )[0].cells()  # fmt: skip
    killer = _kill_when_started(tmp_path)
    with RayExecutor(max_retries=retries) as ex:
        failed = runner.run(cells, tmp_path / "o", runner.RunOptions(threads=1, progress=False), executor=ex)
    killer.join(timeout=1)
    recs = {r["model"]: r for r in lines(tmp_path / "o" / "records.jsonl")}
    assert len(lines(tmp_path / "o" / "records.jsonl")) == 2, "each cell recorded once"
    assert recs["xgboost"]["status"] == "ok", "the run went on"
    if retries:
        assert failed == 0 and recs["sleeper:make"]["status"] == "ok", recs["sleeper:make"]["error"]
    else:
        assert failed == 1 and recs["sleeper:make"]["status"] == "failed"
        assert "ray task died" in recs["sleeper:make"]["error"], recs["sleeper:make"]["error"]


@pytest.mark.slow
def test_killing_the_driver_and_rerunning_loses_and_duplicates_nothing(tmp_path):
    out = tmp_path / "o"
    args = [sys.executable, "-m", "bench", "run", "--executor", "ray", "--datasets", "sum_bin,sum_mod", "--n", "300",
            "--models", "mlp,xgboost", "--model-param", "mlp.max_epochs=30", "--seeds", "0,1,2", "--device", "cpu",
            "--out", str(out), "--no-progress"]  # fmt: skip
    driver = subprocess.Popen(args, cwd=ROOT, stderr=subprocess.PIPE, start_new_session=True)
    try:
        path = out / "records.jsonl"
        for _ in range(1800):  # until the first records are in, then kill the driver only
            if path.exists() and path.read_bytes().count(b"\n") >= 1:
                break
            time.sleep(0.1)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
        before = lines(path)
        assert 1 <= len(before) < 12
        rerun = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert rerun.returncode == 0, rerun.stderr
        after = lines(path)
        assert after[: len(before)] == before, "nothing written before the kill was lost"
        assert len(after) == 12 and len({r["key"] for r in after}) == 12, "every cell once"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(driver.pid, signal.SIGKILL)  # whatever Ray processes the killed driver left


def test_ray_options_are_checked(tmp_path):
    from tests.conftest import bench

    out = bench("run", "--suite", "smoke", "--ray-address", "auto", "--out", str(tmp_path / "o"))
    assert out.returncode == 2 and "--ray-address needs --executor ray" in out.stderr
    out = bench("run", "--suite", "smoke", "--executor", "ray", "--cell-timeout", "-5", "--out", str(tmp_path / "o"))
    assert out.returncode == 2 and "--cell-timeout must be a positive" in out.stderr


def test_the_cell_budget_holds_on_ray_as_it_does_locally(cluster, tmp_path):
    slow = {"max_epochs": 100000, "patience": None, "width": 256}
    suite = suites.Suite("t", "", [("sum_mod", {})], [2000], ["mlp", "xgboost"], [0], ["cpu"], {"mlp": slow})
    options = runner.RunOptions(threads=1, progress=False, cell_timeout=30.0)  # xgboost needs ~1 s of it
    with RayExecutor() as ex:
        runner.run(suite.cells(), tmp_path, options, executor=ex)
    recs = {r["model"]: r for r in lines(tmp_path / "records.jsonl")}
    assert recs["mlp"]["status"] == "failed" and recs["mlp"]["error"] == "timed out after 30 s (30 s per cell)"
    assert recs["xgboost"]["status"] == "ok", f"a cell within its budget is untouched: {recs['xgboost']['error']}"


CELL_FIELDS = {"dataset": "d", "model": "m", "device": "cpu", "n": 10, "n_train": 8, "n_test": 2, "seed": 0}
CELL_FIELDS |= {"train_acc": 1.0, "test_acc": 0.5, "fit_s": 0.1, "predict_s": 0.01}


def test_resume_on_ray_counts_cells_that_other_nodes_finished(tmp_path):
    path = tmp_path / "records.jsonl"
    base = schema.new(threads=1, key="k1", status="ok", dataset_params={}, model_params={}, **CELL_FIELDS)
    elsewhere = base | {"machine": base["machine"] | {"host": "another-node"}}
    store.append(path, elsewhere | {"node": "abc123"})
    store.append(path, elsewhere | {"key": "k2"})  # another machine, not a Ray node of this run
    assert store.finished_keys(path, made_here=True) == set()
    assert store.finished_keys(path, made_here=True, on_ray=True) == {"k1"}


def test_ray_check_report_on_synthetic_records():
    import pandas as pd

    from bench.studies import ray_vs_local as ray_check

    def recs(fit, acc):
        base = schema.new(threads=1, dataset_params={}, model_params={}, status="ok")
        return pd.DataFrame(
            [base | {"dataset": "d", "model": "m", "seed": s, "fit_s": fit, "predict_s": 0.1, "test_acc": a}
             for s, a in enumerate(acc)]
        )  # fmt: skip

    frames = {"local": pd.concat([recs(1.0, [0.5, 0.6])] * 2), "ray": pd.concat([recs(1.1, [0.5, 0.7])] * 2)}
    text = ray_check.render(frames, {"local": [10, 11], "ray": [12, 13]}, [2.0, 2.5], threads=1)
    assert "Median fit-time ratio ray/local over the cells: **1.100**" in text
    assert "identical per seed on 1 of 2 (cell, seed) pairs" in text and "| **no** " in text
    assert "local 10 / 11 s, ray 12 / 13 s; Ray start-up (ray.init) 2.0 / 2.5 s" in text
