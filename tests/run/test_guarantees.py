"""The guarantees of docs/guarantees.md that round 2 of hostile probing added, one test each:
a family that calls sys.exit or os._exit, bad plug-ins, sizes that cannot split, probabilities that
are not, an unreachable Ray address, Ctrl-C and SIGTERM with isolated cells."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from bench.run import runner
from tests.conftest import ROOT, bench, lines

EVIL = """
import os, pathlib, sys, time
from sklearn.neighbors import KNeighborsClassifier


class Exits(KNeighborsClassifier):
    def __init__(self, n_neighbors=5, how="sys0"):
        super().__init__(n_neighbors=n_neighbors)
        self.how = how

    def fit(self, X, y):
        if self.how == "sys0":
            sys.exit(0)
        if self.how == "sys3":
            sys.exit(3)
        if self.how == "os":
            os._exit(0)
        if self.how == "sleep":
            pathlib.Path(os.environ["EVIL_MARKER"]).write_text("fitting")
            time.sleep(600)
        return super().fit(X, y)

    def predict_proba(self, X):
        proba = super().predict_proba(X)
        return proba * 2 if self.how == "double" else proba


def sys0():
    return Exits(how="sys0")


def sys3():
    return Exits(how="sys3")


def osexit():
    return Exits(how="os")


def sleeper():
    return Exits(how="sleep")


def doubled():
    return Exits(how="double")


def a_class():
    return KNeighborsClassifier
"""


@pytest.fixture()
def evil(tmp_path):
    (tmp_path / "evil.py").write_text(EVIL)
    return os.environ | {"PYTHONPATH": str(tmp_path), "EVIL_MARKER": str(tmp_path / "marker")}


def _run(env, out, models, *extra):
    return bench(
        "run", "--datasets", "sum_bin", "--n", "200", "--seeds", "0", "--device", "cpu", "--models", models,
        "--out", str(out), "--no-progress", *extra, env=env,
    )  # fmt: skip


def test_a_plugin_that_exits_fails_its_cell_and_the_run_goes_on(tmp_path, evil):
    out = _run(evil, tmp_path / "o", "evil:sys0,evil:sys3,evil:osexit,xgboost")
    assert out.returncode == 1, out.stderr  # cells failed; neither 0 nor 3 from the plug-in
    recs = {r["model"]: r for r in lines(tmp_path / "o" / "records.jsonl")}
    assert recs["xgboost"]["status"] == "ok"
    assert recs["evil:sys0"]["status"] == "failed" and "SystemExit: 0" in recs["evil:sys0"]["error"]
    assert recs["evil:sys3"]["status"] == "failed" and "SystemExit: 3" in recs["evil:sys3"]["error"]
    assert recs["evil:osexit"]["status"] == "failed" and "worker process died" in recs["evil:osexit"]["error"]
    assert (tmp_path / "o" / "README.md").exists(), "the tables were written after the failures"


def test_probabilities_that_are_not_fail_the_cell(tmp_path, evil):
    out = _run(evil, tmp_path / "o", "evil:doubled")
    (rec,) = lines(tmp_path / "o" / "records.jsonl")
    assert out.returncode == 1 and rec["status"] == "failed"
    assert "values outside [0, 1]" in rec["error"] or "do not sum to 1" in rec["error"]


def test_check_probabilities_rules():
    ok = np.array([[0.2, 0.8], [1.0, 0.0]])
    runner.check_probabilities(ok, 2, 2)
    for bad, match in [
        (np.array([[0.5, 0.6], [0.5, 0.5]]), "do not sum to 1"),
        (np.array([[1.5, -0.5], [0.5, 0.5]]), "outside"),
        (np.array([[np.nan, 1.0], [0.5, 0.5]]), "non-finite"),
        (np.array([[1.0], [1.0]]), "shape"),
    ]:
        with pytest.raises(ValueError, match=match):
            runner.check_probabilities(bad, 2, 2)


def test_a_plugin_factory_that_returns_a_class_is_one_line(tmp_path, evil):
    out = _run(evil, tmp_path / "o", "evil:a_class")
    assert out.returncode == 2 and not (tmp_path / "o").exists()
    assert out.stderr.strip() == (
        "bench: error: plug-in 'evil:a_class' returned the class KNeighborsClassifier, not an instance: "
        "return KNeighborsClassifier(...)"
    )


@pytest.mark.parametrize(
    "args, match",
    [
        (["--datasets", "sum_mod", "--n", "3"], "sum_mod at n=3: 2 training rows for 3 classes"),
        (["--datasets", "iris", "--n", "4"], "iris at n=4 cannot be split 80/20"),
    ],
)
def test_sizes_that_cannot_split_exit_2_before_the_folder(tmp_path, args, match):
    out = bench("run", *args, "--models", "xgboost", "--seeds", "0", "--out", str(tmp_path / "o"))
    assert out.returncode == 2 and match in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_file_of_five_classes_of_two_rows_cannot_split(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,label\n" + "".join(f"{i},{i % 5}\n" for i in range(10)))
    out = bench("run", "--data", str(table), "--target", "label", "--models", "xgboost", "--out", str(tmp_path / "o"))
    assert out.returncode == 2 and "cannot be split 80/20" in out.stderr and not (tmp_path / "o").exists()


def test_an_unreachable_ray_address_is_one_line_and_no_folder(tmp_path):
    out = bench(
        "run", "--suite", "smoke", "--executor", "ray", "--ray-address", "127.0.0.1:1", "--out", str(tmp_path / "o"),
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [
        "bench: error: --ray-address 127.0.0.1:1: cannot reach a Ray cluster there (Connection refused)"
    ]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("address", ["nonsense", "ray://host:notaport", "host:70000"])
def test_a_malformed_ray_address_is_refused(tmp_path, address):
    out = bench("run", "--suite", "smoke", "--executor", "ray", "--ray-address", address, "--out", str(tmp_path / "o"))
    assert out.returncode == 2 and "expected 'auto', ray://HOST:PORT or HOST:PORT" in out.stderr
    assert not (tmp_path / "o").exists()


def _start_sleeper(tmp_path, evil, *extra):
    """A run whose plug-in cell (isolated, as plug-ins are) writes a marker, then sleeps; returns
    once the marker is there (the event the signal waits for)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "--datasets", "sum_bin", "--n", "200", "--seeds", "0",
         "--device", "cpu", "--models", "xgboost,evil:sleeper", "--out", str(tmp_path / "o"), "--no-progress", *extra],
        cwd=ROOT, env=evil, stderr=subprocess.PIPE, text=True, start_new_session=True,
        # A background job (`.ci/run &`) inherits SIGINT ignored; a terminal's Ctrl-C meets the default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    marker = tmp_path / "marker"
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the plug-in never started fitting"
        time.sleep(0.02)
    return proc


def _children_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


@pytest.mark.slow
@pytest.mark.parametrize("sig, code, word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_a_signal_during_an_isolated_cell_is_one_line_and_ends_the_child(tmp_path, evil, sig, code, word):
    proc = _start_sleeper(tmp_path, evil)
    children = _children_of(proc.pid)
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)  # Ctrl-C reaches the whole group
    try:
        _, err = proc.communicate(timeout=120)
    finally:  # a run that ignored the signal must not outlive the test
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == code, err
    assert err.strip().splitlines()[-1].startswith(f"bench: {word}"), err
    assert "Traceback" not in err and "SpawnProcess" not in err, err
    recs = lines(tmp_path / "o" / "records.jsonl")
    assert [r["model"] for r in recs] == ["xgboost"], "the finished record stays"
    for child in children:
        with pytest.raises(ProcessLookupError):
            for _ in range(100):  # the child's exit is an event: wait for it, bounded
                os.kill(child, 0)
                time.sleep(0.05)


def test_sigterm_and_sighup_are_handled_like_ctrl_c():
    from bench.cli import common

    exc = common.Terminated(signal.SIGTERM)
    assert isinstance(exc, KeyboardInterrupt) and common.exit_code(exc) == 143
    assert common.exit_code(common.Terminated(signal.SIGHUP)) == 129
    assert common.exit_code(KeyboardInterrupt()) == 130
    assert str(common.Interrupted(3, exc)) == "terminated (SIGTERM): 3 cells recorded, rerun to resume"


def test_a_bad_record_type_in_a_records_file_is_one_line_with_file_and_line(tmp_path):
    from tests.conftest import DATA

    folder = tmp_path / "o"
    folder.mkdir()
    (folder / ".bench-output").write_text("")
    recs = DATA.joinpath("records_small.jsonl").read_text().splitlines()
    bad = json.loads(recs[1]) | {"test_acc": "high"}
    (folder / "records.jsonl").write_text("\n".join([recs[0], json.dumps(bad), *recs[2:]]) + "\n")
    out = bench("report", "--out", str(folder))
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"bench: error: {folder / 'records.jsonl'}:2: not a bench record: field 'test_acc' must be a number or null, "
        "got 'high'"
    )
    (folder / "records.jsonl").write_text(
        "\n".join([recs[0], json.dumps(json.loads(recs[1]) | {"model": None})]) + "\n"
    )
    out = bench("report", "--out", str(folder))
    assert out.returncode == 2 and ":2: not a bench record: field 'model' must be a string, got None" in out.stderr


def test_a_record_from_a_newer_bench_is_refused_by_name(tmp_path):
    from bench.records import schema, store
    from tests.conftest import DATA

    rec = json.loads(DATA.joinpath("records_small.jsonl").read_text().splitlines()[0]) | {"schema": 99}
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps(rec) + "\n")
    with pytest.raises(ValueError, match=r"records.jsonl:1: .*version 99 is newer than this bench reads \(1\)"):
        store.load(path)
    assert schema.upgrade(dict(rec, schema=1))["schema"] == 1
