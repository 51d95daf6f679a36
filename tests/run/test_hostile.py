"""Hostile input and faults: nothing lost, nothing overwritten, exit codes that mean what they say.

One test per item of the issue that asked for them (numbers in the names)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import datasets
from bench.records import machine, output, store
from bench.run import runner, suites, timing
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "data" / "records_small.jsonl"
TINY_RUN = ["run", "--datasets", "sum_bin", "--models", "xgboost", "--n", "100", "--seeds", "0", "--device", "cpu"]


def bench(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "bench", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def _one_error_line(out) -> str:
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    return lines[0]


def _tiny_suite(seeds=(0, 1, 2)):
    return suites.Suite(
        "t",
        "",
        [("sum_bin", {})],
        [100],
        ["xgboost"],
        list(seeds),
        ["cpu"],
        {"xgboost": {"params": {"n_estimators": 3}}},
    )


def test_torn_last_line_is_set_aside_and_nothing_is_lost(tmp_path):
    path = tmp_path / "records.jsonl"
    runner.run(_tiny_suite((0, 1)).cells(), tmp_path, runner.RunOptions(threads=1, progress=False))
    whole = path.read_text()
    with path.open("a") as f:
        f.write('{"key": "half a rec')  # a run killed mid-write
    runner.run(_tiny_suite((0, 1, 2)).cells(), tmp_path, runner.RunOptions(threads=1, progress=False))
    lines = path.read_text().splitlines()
    assert path.read_text().startswith(whole), "earlier records are untouched"
    assert len(lines) == 3 and all(json.loads(x)["status"] == "ok" for x in lines), "the new record is on its own line"
    assert (tmp_path / "records.jsonl.torn").read_text() == '{"key": "half a rec\n'
    runner.run(
        _tiny_suite((0, 1, 2)).cells(), tmp_path, runner.RunOptions(threads=1, progress=False)
    )  # and the run after that
    assert len(path.read_text().splitlines()) == 3


def test_threads_beyond_the_cores_are_capped(capsys):
    usable = machine.usable_cores()
    assert timing.choose_threads(999) == usable
    assert f"--threads 999 > {usable} usable cores; using {usable}" in capsys.readouterr().err
    assert timing.choose_threads(1) == 1
    with pytest.raises(ValueError):
        timing.choose_threads(0)


def _record_line(**changes):
    rec = json.loads(FIXTURE.read_text().splitlines()[0])
    return json.dumps({k: v for k, v in (rec | changes).items() if v is not _DROP})


_DROP = object()


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1,2,3]\n", "a record is a JSON object"),
        ('{"foo": 1}\n', "record lacks"),
        (_record_line(machine=None) + "\n", "'machine' must be an object"),
        (_record_line(key=_DROP) + "\n", "record lacks key"),
        ('{"bad\n' + _record_line() + "\n", "not a JSON record"),
        ("\x00\xff\xfe junk", "binary data"),
    ],
    ids=["list", "not-a-record", "machine-null", "no-key", "corrupt-line", "binary"],
)
def test_bad_records_exit_2_with_one_line_naming_the_file(tmp_path, capsys, content, message):
    from bench.cli import main  # in-process: the same code as `python -m bench`, without a Python start

    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content.encode("latin-1") if "\x00" in content else content.encode())
    for args in (["compare", FIXTURE, bad], ["compare", bad, FIXTURE]):
        assert main([str(a) for a in args]) == 2
        (line,) = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
        assert message in line and "bad.jsonl" in line
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / output.MARKER).write_text("")
    (folder / "records.jsonl").write_bytes(bad.read_bytes())
    assert main(["report", "--out", str(folder)]) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert message in line


def test_unwritable_compare_outputs_exit_2(tmp_path):
    for flag, target in (("--markdown", "/proc/nope/table.md"), ("--github-json", "/proc/nope")):
        out = bench("compare", FIXTURE, FIXTURE, flag, target)
        assert out.returncode == 2, out.stderr
        _one_error_line(out)


@pytest.mark.parametrize("where", ["dot", "readme"])
def test_out_folders_that_are_not_benchs_are_refused(tmp_path, where):
    folder = tmp_path / "user"
    folder.mkdir()
    (folder / "README.md").write_text("my notes\n")
    cwd = folder if where == "dot" else ROOT
    out = subprocess.run(
        [sys.executable, "-m", "bench", *TINY_RUN, "--out", "." if where == "dot" else str(folder)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 2 and "not bench's" in _one_error_line(out)
    assert sorted(p.name for p in folder.iterdir()) == ["README.md"]
    assert (folder / "README.md").read_text() == "my notes\n"


def test_compare_never_writes_onto_its_input(tmp_path):
    copy = tmp_path / "records.jsonl"
    copy.write_text(FIXTURE.read_text())
    out = bench("compare", tmp_path, tmp_path, "--markdown", copy)
    assert out.returncode == 2 and "is an input" in _one_error_line(out)
    assert copy.read_text() == FIXTURE.read_text()


@pytest.mark.parametrize("kind", ["file", "unwritable"])
def test_bad_out_is_refused_before_any_compute(tmp_path, kind):
    target = tmp_path / "a_file" if kind == "file" else Path("/proc/bench-out")
    if kind == "file":
        target.write_text("keep me")
    out = bench(*TINY_RUN, "--out", target)
    assert out.returncode == 2, out.stderr
    line = _one_error_line(out)
    assert ("is a file" if kind == "file" else "cannot write") in line
    if kind == "file":
        assert target.read_text() == "keep me"


def test_a_second_run_on_the_same_out_is_refused(tmp_path):
    output.claim(tmp_path)
    with output.lock(tmp_path):
        out = bench(*TINY_RUN, "--out", tmp_path)
    assert out.returncode == 2
    assert f"in use by another bench run (pid {os.getpid()}" in _one_error_line(out)
    assert not (tmp_path / "records.jsonl").exists()


@pytest.mark.parametrize(
    "name, params, match",
    [
        ("sum_mod", {"scale": 1e19}, "2\\*\\*53"),
        ("sum_mod", {"weights": (1e300, 1e300), "scale": 100.0}, "2\\*\\*53"),
        ("sum_mod", {"weights": (1e308, 1e308)}, "finite"),
        ("sum_bin", {"thresholds": (0.5, float("nan"))}, "thresholds"),
        ("sum_mod", {"seed": None}, "seed"),
        ("sum_mod", {"seed": -1}, "seed"),
        ("sum_mod", {"seed": 2**32}, "seed"),
        ("sum_mod", {"seed": True}, "seed"),
    ],
)
def test_dataset_parameters_that_would_overflow_or_mean_nothing_are_refused(name, params, match):
    with pytest.raises(ValueError, match=match):
        datasets.generate(name, n=10, **params)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seeds", "-1"], "seeds must be in 0 .. 2**32 - 1"),
        (["--seeds", str(2**32)], "seeds must be in 0 .. 2**32 - 1"),
        (["--seeds", "0,0"], "duplicate seeds"),
        (["--device", "cuda"], "no CUDA device here"),
        (["--cell-timeout", "-1"], "--cell-timeout must be a positive"),
    ],
)
def test_bad_run_parameters_exit_2_before_compute(tmp_path, args, message):
    if "cuda" in args and torch.cuda.is_available():
        pytest.skip("a GPU is present")
    out = bench("run", "--datasets", "sum_bin", "--models", "xgboost", "--n", "100", *args, "--out", tmp_path / "o")
    assert out.returncode == 2 and message in _one_error_line(out)
    assert not (tmp_path / "o").exists(), "nothing was created before the input was checked"


def test_dataset_names_from_records_cannot_escape_the_out_folder(tmp_path):
    out_dir = tmp_path / "deep" / "out"
    (out_dir / "suites" / "sweep").mkdir(parents=True)
    (out_dir / output.MARKER).write_text("")
    (out_dir / "records.jsonl").write_text(FIXTURE.read_text())
    lines = [json.loads(x) for x in FIXTURE.read_text().splitlines()[:2]]
    crafted = [
        r | {"dataset": "x/../../../escape", "n": n, "key": f"{r['key']}-{n}"} for r in lines for n in (100, 200)
    ]
    (out_dir / "suites" / "sweep" / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in crafted))
    before = set(tmp_path.rglob("*"))
    out = bench("report", "--out", out_dir)
    assert out.returncode == 0, out.stderr
    new = set(tmp_path.rglob("*")) - before
    assert new and all(out_dir in p.parents for p in new), sorted(new)
    assert (out_dir / "figures" / "learning_curve_x_.._.._.._escape.png").exists()
    assert output.safe_name("../../etc/passwd") == "_.._etc_passwd"


@pytest.mark.slow
def test_ctrl_c_prints_one_line_and_exits_130(tmp_path):
    args = ["run", "--datasets", "sum_bin", "--models", "xgboost,mlp", "--n", "300", "--seeds", "0,1,2"]
    # The mlp group after the first records trains until interrupted: the signal always lands mid-run,
    # however late a busy machine lets this test see the first record.
    args += ["--model-param", "mlp.max_epochs=1000000", "--model-param", "mlp.patience=null"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", *args, "--device", "cpu", "--out", str(tmp_path), "--no-progress"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background job (`.ci/run &`) inherits SIGINT ignored, and Python then keeps it
        # ignored: give the child the default action a terminal's Ctrl-C meets.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    path = tmp_path / "records.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not path.exists() or not path.read_text().count("\n")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    n = path.read_text().count("\n")
    assert err.strip().splitlines()[-1] == f"bench: interrupted: {n} cells recorded, rerun to resume"
    assert "Traceback" not in err


def test_cell_timeout_kills_the_child_and_records_why(tmp_path):
    slow = {"max_epochs": 100000, "patience": None, "width": 256}
    suite = suites.Suite("t", "", [("sum_mod", {})], [2000], ["mlp"], [0], ["cpu"], {"mlp": slow})
    failed = runner.run(suite.cells(), tmp_path, runner.RunOptions(threads=1, progress=False, cell_timeout=2.0))
    (rec,) = store.load(tmp_path / "records.jsonl")
    assert failed == 1 and rec["status"] == "failed"
    assert rec["error"] == "timed out after 2 s (2 s per cell)"  # run to its end, it would be ok (in hours)
    assert rec["budget_s"] == 2.0
    # A rerun under the same budget does not spend it again on a cell that would only time out again.
    assert runner.run(suite.cells(), tmp_path, runner.RunOptions(threads=1, progress=False, cell_timeout=2.0)) == 0
    assert len(store.load(tmp_path / "records.jsonl")) == 1


def test_probabilities_are_never_nan_for_finite_input():
    from models import create

    X, y = datasets.generate("sum_bin", n=100, seed=0)
    est = create("mlp", seed=0, device="cpu", max_epochs=2, width=8).fit(X, y)
    with pytest.raises(ValueError, match="cannot represent"):
        est.predict(np.array([[1e300, 0.5]]))
