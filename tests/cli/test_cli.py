"""The command line, run as users run it: `python -m bench` from the checkout."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, bench, lines


def test_help_and_list():
    out = bench("--help")
    assert out.returncode == 0 and "all" in out.stdout and "report" in out.stdout
    out = bench("list")
    assert out.returncode == 0 and "sum_mod" in out.stdout and "spectral_mlp" in out.stdout


def test_smoke_run_writes_records_and_tables_and_resumes(tmp_path):
    out = bench("run", "--suite", "smoke", "--out", str(tmp_path), "--no-progress")
    assert out.returncode == 0, out.stderr
    recs = lines(tmp_path / "records.jsonl")
    assert len(recs) == 8 and all(r["status"] == "ok" for r in recs)
    assert {"train_acc", "test_acc", "fit_s", "machine", "versions", "commit"} <= set(recs[0])
    for name in ("accuracy.md", "throughput.md", "README.md"):
        assert "held-out" in (tmp_path / name).read_text() or name == "throughput.md"
    again = bench("run", "--suite", "smoke", "--out", str(tmp_path), "--no-progress")
    assert again.returncode == 0 and len(lines(tmp_path / "records.jsonl")) == 8, "finished cells must be skipped"
    forced = bench("run", "--suite", "smoke", "--out", str(tmp_path), "--no-progress", "--force")
    assert forced.returncode == 0 and len(lines(tmp_path / "records.jsonl")) == 16


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--models", "mlp,nope"], "unknown model 'nope'; choose from seed_mlp"),
        (
            ["run", "--datasets", "mnist"],
            "unknown dataset 'mnist'; choose from sum_bin, sum_mod, poly_mod, warp_mod, cat_mod, iris, wine",
        ),
        (["run", "--n", "0"], "sizes must be positive"),
        (["run", "--seeds", "a,b"], "expected comma-separated integers"),
        (["run", "--suite", "nope"], "invalid choice"),
        (["all", "--device", "tpu"], "invalid choice"),
        (["report", "--out", "/nonexistent"], "not a bench output folder"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(args, message):
    out = bench(*args)
    assert out.returncode == 2
    assert message in out.stderr


def test_a_failing_cell_is_recorded_and_the_run_goes_on(tmp_path):
    from bench.run import runner, suites

    bad = suites.Suite("t", "", [("sum_bin", {})], [100], ["mlp", "xgboost"], [0], ["cpu"], {"mlp": {"lr": -1.0}})
    failed = runner.run(bad.cells(), tmp_path, runner.RunOptions(threads=1, progress=False))
    recs = {r["model"]: r for r in lines(tmp_path / "records.jsonl")}
    assert failed == 1
    assert recs["mlp"]["status"] == "failed" and "learning rate" in recs["mlp"]["error"]
    assert recs["xgboost"]["status"] == "ok"


def test_our_datasets_package_wins_over_a_same_named_one(tmp_path):
    fake = tmp_path / "site" / "datasets"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('the impostor datasets package was imported')\n")
    env = os.environ | {"PYTHONPATH": str(tmp_path / "site")}
    out = bench("list", env=env)
    assert out.returncode == 0, out.stderr
    # From elsewhere too, with the impostor ahead of the checkout on the path: ours still wins.
    env["PYTHONPATH"] = f"{tmp_path / 'site'}{os.pathsep}{ROOT}"
    out = bench("list", env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "sum_mod" in out.stdout


def test_installing_the_project_adds_no_top_level_packages(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0 and "No module named" in out.stderr:
        pytest.skip("setuptools not installed in this environment")
    assert out.returncode == 0, out.stderr
    import zipfile

    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.split("/")[0] in ("datasets", "models", "bench")]


def test_sweep_models_filter(monkeypatch, tmp_path):
    from bench import cli
    from bench.cli import run

    seen = []
    monkeypatch.setattr(run, "execute", lambda chosen, args: seen.extend(chosen) or 0)
    assert cli.main(["sweep", "--models", "tabm,periodic_mlp", "--out", str(tmp_path)]) == 0
    assert {s.name for s in seen} == {"frequency", "learning-curves"}
    assert {m for s in seen for m in s.models} == {"tabm", "periodic_mlp"}
    assert [s.models for s in seen if s.name == "frequency"] == [["periodic_mlp"]]  # tabm is not in that sweep
    assert bench("sweep", "--models", "nope", "--out", str(tmp_path)).returncode == 2


def test_a_named_suite_is_narrowed_by_models_and_datasets(monkeypatch, tmp_path):
    """``run --suite S --models m --datasets d``: only S's cells of m on d (a refresh of one family),
    never the whole suite; a family or table S does not run: one line, exit 2, before any compute."""
    from bench import cli
    from bench.cli import run

    seen = []
    monkeypatch.setattr(run, "execute", lambda chosen, args: seen.extend(chosen) or 0)
    args = ["run", "--suite", "real-quick", "--models", "lightgbm", "--datasets", "german,hmda", "--out", str(tmp_path)]
    assert cli.main(args) == 0
    assert [(s.models, [d for d, _ in s.datasets]) for s in seen] == [(["lightgbm"], ["german", "hmda"])]
    seen.clear()
    assert cli.main(["run", "--suite", "real-quick", "--models", "lightgbm", "--out", str(tmp_path)]) == 0
    assert [s.models for s in seen] == [["lightgbm"]] and len(seen[0].datasets) == 5
    for flag, name in [("--models", "spectral_mlp"), ("--datasets", "letter")]:
        out = bench("run", "--suite", "real-quick", flag, name, "--out", str(tmp_path / "x"))
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and repr(name) in out.stderr


def test_dataset_and_model_parameters_from_the_command_line(tmp_path):
    out = bench(
        "run", "--datasets", "sum_mod", "--dataset-param", "scale=37", "--dataset-param", "weights=[1, -0.5]",
        "--models", "spectral_mlp,xgboost", "--model-param", "spectral_mlp.max_epochs=5",
        "--model-param", 'xgboost.params={"n_estimators": 3}', "--n", "300", "--seeds", "0", "--device", "cpu",
        "--out", str(tmp_path), "--no-progress",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    recs = {r["model"]: r for r in lines(tmp_path / "records.jsonl")}
    assert all(r["dataset_params"] == {"scale": 37, "weights": [1, -0.5]} for r in recs.values())
    assert recs["spectral_mlp"]["model_params"] == {"max_epochs": 5}
    assert recs["xgboost"]["model_params"] == {"params": {"n_estimators": 3}}
    assert recs["spectral_mlp"]["epochs"] <= 5


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--dataset-param", "scale=-1"], "scale must be a positive finite number"),
        (["--dataset-param", "nope=1"], "unknown parameter(s) ['nope'] for 'sum_mod'"),
        (["--model-param", "depth=3"], "unknown parameter(s) ['depth'] for 'xgboost'"),
        (["--model-param", "mlp.width=3"], "'mlp' is not among --models (xgboost)"),
        (["--model-param", "=3"], "expected KEY=VALUE"),
    ],
)
def test_bad_parameters_exit_2_before_compute(tmp_path, extra, message):
    out = bench("run", "--datasets", "sum_mod", "--models", "xgboost", *extra, "--out", str(tmp_path / "o"))
    assert out.returncode == 2 and message in out.stderr, out.stderr
    assert not (tmp_path / "o").exists()
