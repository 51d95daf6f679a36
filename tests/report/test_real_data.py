"""Users' own data (CSV/Parquet), scikit-learn's bundled real datasets, and model plug-ins."""

import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import check_estimator

import datasets
import models
from bench.run import runner, suites
from datasets import tables
from tests.conftest import ROOT, bench, lines

TINY = ROOT / "tests" / "data" / "tiny.csv"


def test_a_csv_is_encoded_as_documented():
    t = tables.read_file(TINY, "label")
    df = pd.read_csv(TINY)
    assert t.class_names == ("high", "low", "mid")  # sorted original names; class k is class_names[k]
    assert np.array_equal(np.asarray(t.class_names)[t.y], df.label.to_numpy())
    assert t.feature_names == ("x1", "x2", "colour", "flag") and t.categorical == (2,)
    assert np.array_equal(t.X[:, 2], df.colour.map({"blue": 0, "green": 1, "red": 2}).to_numpy(float))  # codes by name
    assert np.array_equal(t.X[:, 3], df.flag.to_numpy(float))
    assert t.X.dtype == np.float64 and t.y.dtype == np.int64 and "colour (3 levels)" in t.notes


def test_parquet_and_tsv_read_like_the_csv(tmp_path):
    df = pd.read_csv(TINY)
    df.to_parquet(tmp_path / "tiny.parquet")
    df.to_csv(tmp_path / "tiny.tsv", sep="\t", index=False)
    ref = tables.read_file(TINY, "label")
    for name in ("tiny.parquet", "tiny.tsv"):
        t = tables.read_file(tmp_path / name, "label")
        assert np.array_equal(t.X, ref.X) and np.array_equal(t.y, ref.y) and t.class_names == ref.class_names


@pytest.mark.parametrize(
    "content, target, message",
    [
        (None, "label", "no such file"),
        (b"", "label", "the file is empty"),
        (b"a,b,label\n", "label", "no rows"),
        (b"a,b\n1,2\n3,4\n", "label", "no column 'label' for --target; columns: a, b"),
        (b"a,label\n1,0.5\n2,1.5\n3,0.5\n", "label", "a regression target"),
        (b"a,label\n1,x\n2,y\n3,z\n4,x\n", "label", "class(es) with one row"),
        (b"a,label\n1,x\n2,x\n", "label", "a single class"),
        (b"a,label,label\n1,x,x\n2,y,y\n3,x,x\n4,y,y\n", "label", "duplicate column name(s) 'label'"),
        (b"label\nx\ny\nx\ny\n", "label", "no feature columns"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "label", "not a readable csv file"),
    ],
)
def test_bad_files_are_one_clear_line_and_exit_2(tmp_path, content, target, message):
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_bytes(content)
    out = bench("run", "--data", str(path), "--target", target, "--models", "xgboost", "--out", str(tmp_path / "o"))
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert not (tmp_path / "o").exists(), "nothing is written for bad input"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--target", "label"], "no --data was given"),
        (["--data", str(TINY)], "give one for all, or one per file"),
        (["--data", str(TINY), "--data", str(TINY), "--target", "label"], "two --data files named 'tiny'"),
        (["--data", str(ROOT / "README.md"), "--target", "label"], "unknown file type '.md'"),
        (["--datasets", "wine", "--dataset-param", "scale=3"], "'wine' is real data: it takes no parameters"),
    ],
)
def test_bad_data_arguments(tmp_path, args, message):
    out = bench("run", *args, "--models", "xgboost", "--out", str(tmp_path / "o"))
    assert out.returncode == 2 and message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_the_readme_data_command_runs_and_a_changed_file_is_a_new_dataset(tmp_path):
    data = tmp_path / "tiny.csv"
    shutil.copy(TINY, data)
    args = ("run", "--data", str(data), "--target", "label", "--models", "mlp,xgboost", "--seeds", "0,1")
    args += ("--model-param", "mlp.max_epochs=3", "--out", str(tmp_path / "o"), "--no-progress")
    assert (out := bench(*args)).returncode == 0, out.stderr
    recs = lines(tmp_path / "o" / "records.jsonl")
    assert len(recs) == 4 and all(r["status"] == "ok" for r in recs)
    r = recs[0]
    assert r["dataset"] == "tiny" and r["n"] == 120 and r["n_test"] == 24 and r["ceiling"] is None
    assert r["class_names"] == ["high", "low", "mid"] and r["dataset_params"]["sha256"] == tables.sha256(TINY)
    page = (tmp_path / "o" / "README.md").read_text()
    assert "### tiny (n=120, sha256=" in page and "mlp" in page and "xgboost" in page and str(tmp_path) not in page
    assert bench(*args).returncode == 0 and len(lines(tmp_path / "o" / "records.jsonl")) == 4, "resumed: nothing new"
    data.write_text(data.read_text() + "0.5,0.5,red,True,high\n")
    assert bench(*args).returncode == 0
    recs = lines(tmp_path / "o" / "records.jsonl")
    assert len(recs) == 8 and len({r["dataset_params"]["sha256"] for r in recs}) == 2 and recs[-1]["n"] == 121


def test_a_moved_file_is_the_same_dataset():
    cell = lambda path: suites.Cell("tiny", {"path": path, "target": "y", "sha256": "ab"}, 9, "mlp", {}, "cpu", 0)  # noqa: E731
    assert cell("/a/tiny.csv").key == cell("/b/tiny.csv").key


def test_bundled_real_data_runs_whole_and_stratified():
    for name in datasets.BUNDLED:
        X, y = datasets.generate(name, seed=0)
        assert len(X) == datasets.size(name) and datasets.n_classes(name) == len(np.unique(y))
        assert datasets.ceiling(name) is None and len(datasets.class_names(name)) == datasets.n_classes(name)
    cells = suites.SUITES["real-tiny"][0].cells()
    assert {(c.dataset, c.n) for c in cells} == {(n, datasets.size(n)) for n in datasets.BUNDLED}
    assert len(cells) == len(datasets.BUNDLED) * len(models.NAMES) * 5
    wine = next(c for c in cells if c.dataset == "wine")
    _, _, y_train, y_test = runner.split(wine)
    y = datasets.generate("wine", seed=0)[1]
    share = np.bincount(y) / len(y)
    assert np.allclose(np.bincount(y_test) / len(y_test), share, atol=0.03), "held-out keeps the class shares"
    capped = suites.custom(datasets_=["wine"], sizes=[100, 2000], models_=["mlp"], seeds=[0], devices=["cpu"])
    assert sorted(c.n for c in capped[0].cells()) == [100, 178], "real data is capped at its rows"


def test_a_subsample_of_real_data_is_seeded_and_stratified():
    a, b = datasets.generate("digits", n=500, seed=3), datasets.generate("digits", n=500, seed=3)
    assert np.array_equal(a[0], b[0]) and len(a[1]) == 500 and np.bincount(a[1]).min() >= 45
    with pytest.raises(ValueError, match="has 178 rows; n=500"):
        tables.draw(tables.bundled("wine"), 500, 0)


def _readme_block(marker: str) -> str:
    text = (ROOT / "docs" / "data-and-plugins.md").read_text()
    return text.split(marker, 1)[1].split("```python\n", 1)[1].split("```", 1)[0]


PLUGIN = _readme_block("<!-- example-plugin -->")  # the README's example, run as users would


def test_a_plugin_by_module_and_by_entry_point_appears_in_the_tables(tmp_path):
    (tmp_path / "mymodels.py").write_text(PLUGIN)
    dist = tmp_path / "bench_test_plugin-0.1.dist-info"  # an installed package declaring the entry point
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: bench-test-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[bench.models]\nlogreg = sklearn.linear_model:LogisticRegression\n")
    env = {**__import__("os").environ, "PYTHONPATH": f"{tmp_path}:{ROOT}"}
    listed = bench("list", env=env, cwd=tmp_path)
    assert "logreg" in listed.stdout, listed.stderr
    out = bench(
        "run", "--datasets", "wine", "--models", "mymodels:make_knn,logreg,xgboost", "--model-param",
        "logreg.max_iter=500", "--seeds", "0,1", "--device", "cpu", "--out", str(tmp_path / "o"), "--no-progress",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    recs = lines(tmp_path / "o" / "records.jsonl")
    assert {r["model"] for r in recs} == {"mymodels:make_knn", "logreg", "xgboost"}
    assert all(r["status"] == "ok" and r["test_acc"] > 0.8 for r in recs), [(r["model"], r["error"]) for r in recs]
    assert next(r for r in recs if r["model"] == "logreg")["model_params"] == {"max_iter": 500}
    page = (tmp_path / "o" / "README.md").read_text()
    assert "| mymodels:make_knn " in page and '| logreg {"max_iter": 500} ' in page


@pytest.mark.parametrize(
    "name, message",
    [
        ("nosuchmodule:make", "cannot import 'nosuchmodule'"),
        ("sklearn.neighbors:NoSuch", "has no 'NoSuch'"),
        ("builtins:dict", "returned dict, which lacks fit, predict_proba"),
        ("numpy:zeros", "failed when called: TypeError"),
        ("knnn", "unknown model 'knnn'"),
    ],
)
def test_bad_plugins_exit_2(tmp_path, name, message):
    out = bench("run", "--datasets", "wine", "--models", name, "--out", str(tmp_path / "o"))
    assert out.returncode == 2 and message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_plugins_skip_cuda_cells_and_pass_sklearns_checks():
    assert models.device_skip("m:f", "cuda") and not models.device_skip("m:f", "cpu")
    assert not models.device_skip("mlp", "cuda")
    est = models.create("sklearn.linear_model:LogisticRegression", seed=3, max_iter=300)
    assert est.get_params()["params"] == {"max_iter": 300}
    check_estimator(est)
    X, y = datasets.generate("iris", seed=0)
    labels = np.asarray(["a", "b", "c"])[y]
    assert set(est.fit(X, labels).predict(X)) <= {"a", "b", "c"}
    assert est.estimator_.random_state == 3, "the harness's seed reaches the plug-in"


def _frame(results):
    """A records frame of plain CPU cells from {(dataset, model): [(status, test_acc) per seed]}."""
    from bench.records import frame

    rows = [
        {"dataset": ds, "dataset_params": {}, "n": 178, "model": model, "model_params": {}, "device": "cpu",
         "seed": seed, "status": status, "tag": "", "test_acc": acc, "n_classes": 3, "fit_s": 1.0,
         "predict_s": 0.1, "n_train": 142, "n_test": 36, "machine": {"cpu": "Test CPU"}}
        for (ds, model), runs in results.items() for seed, (status, acc) in enumerate(runs)
    ]  # fmt: skip
    return frame.with_param_columns(pd.DataFrame(rows))


def test_leaderboard_from_records_keeps_a_family_that_only_failed():
    from bench.report import leaderboard

    df = _frame(
        {
            ("wine", "a"): [("ok", 0.9), ("ok", 0.8)],
            ("wine", "b"): [("failed", None), ("failed", None)],
            ("iris", "a"): [("ok", 0.7), ("ok", 0.6)],
            ("iris", "b"): [("failed", None), ("failed", None)],
        }
    )
    rows = leaderboard.split_rows({"real": df})
    assert rows[rows.method == "b"].metric_error.isna().all(), "failed: missing, not dropped"
    b = leaderboard.board(rows, "real", bootstrap=20)
    assert b is not None and set(b.table.index) == {"a", "b"}
    assert b.table.loc["b", "imputed splits"] == "4 / 4" and b.rule == "worst"


def test_real_data_section_checks_each_spectral_family_against_the_family_it_extends():
    from bench.report import real as real_data

    accs = {
        "xgboost": [0.96, 0.94],  # mean 0.95, std 0.01
        "spectral_xgboost": [0.945, 0.945],  # 0.005 below: within one std
        "mlp": [0.98, 0.98],  # std 0
        "spectral_mlp": [0.97, 0.99],  # equal mean: safe
    }
    df = _frame({(ds, m): [("ok", a) for a in v] for ds in ("wine", "iris") for m, v in accs.items()})
    df.loc[(df.dataset == "iris") & (df.model == "spectral_mlp"), "test_acc"] = 0.975  # 0.005 below a std of 0
    df["phases_kept"], df["phase"], df["phase_explained"] = 0, None, 0.0
    kept = (df.dataset == "wine") & (df.model == "spectral_xgboost") & (df.seed == 0)
    df.loc[kept, "phases_kept"], df.loc[kept, "phase"], df.loc[kept, "phase_explained"] = 1, "2.1*x3", 0.12
    rows = real_data.safety_rows(df).set_index(["table", "spectral"])
    assert rows.loc[("wine (n=178)", "spectral_xgboost"), "verdict"] == "safe"
    assert rows.loc[("wine (n=178)", "spectral_mlp"), "verdict"] == "safe"
    assert rows.loc[("iris (n=178)", "spectral_mlp"), "verdict"] == "**below by more than one std**"
    assert rows.loc[("wine (n=178)", "spectral_xgboost"), "search"].startswith(
        "a phase kept in 1 / 2 seeds, e.g. `2.1*x3` (12%"
    )
    assert rows.loc[("iris (n=178)", "spectral_xgboost"), "search"] == "no phase kept"
    text = real_data.safety(df)
    assert "3 of 4 (table, spectral family) pairs are within one std" in text
    assert "Below by more than one std: spectral_mlp on iris (n=178)." in text
    assert "The search kept a phase on 1 table(s): spectral_xgboost on wine (n=178)." in text


def test_a_cell_over_its_budget_is_shown_as_such_in_its_table():
    from bench.report import real as real_data

    df = _frame({("wine", "mlp"): [("ok", 0.9), ("failed", None)], ("wine", "tabm"): [("failed", None)] * 2})
    df["error"] = None
    df.loc[df.status == "failed", "error"] = "timed out after 600 s (120 s per cell)"
    df["train_acc"] = 1.0
    table = real_data.family_table(df)
    assert "| 1 / 2 (1 over budget)" in table and "| 0 / 2 (2 over budget)" in table


def test_safety_rows_say_in_how_many_seeds_spectral_mlp_kept_mlps_model():
    from bench.report import real as real_data

    df = _frame({("wine", m): [("ok", 0.9), ("ok", 0.8), ("ok", 0.85)] for m in ("mlp", "spectral_mlp")})
    df["phases_kept"], df["phase"], df["phase_explained"] = 0, None, 0.0
    df["candidate"] = [{}] * 3 + [{"network": "mlp"}, {"network": "periodic"}, {"network": "mlp"}]
    note = real_data.safety_rows(df).set_index("spectral").loc["spectral_mlp", "search"]
    assert note == "no phase kept; mlp's model kept on validation in 2 / 3 seeds"
    df["candidate"] = [None] * 6  # records of fits without a fallback: nothing said
    assert real_data.safety_rows(df).set_index("spectral").loc["spectral_mlp", "search"] == "no phase kept"


def test_safety_rows_say_in_how_many_seeds_spectral_xgboost_kept_xgboosts_model():
    from bench.report import real as real_data

    df = _frame({("wine", m): [("ok", 0.9), ("ok", 0.8), ("ok", 0.85)] for m in ("xgboost", "spectral_xgboost")})
    df["phases_kept"], df["phase"], df["phase_explained"] = 0, None, 0.0
    chosen = [{"model": "xgboost", "val_gain": 0.0}, {"model": "spectral", "val_gain": 0.1}, {"model": "xgboost"}]
    df["candidate"] = [None] * 3 + chosen
    note = real_data.safety_rows(df).set_index("spectral").loc["spectral_xgboost", "search"]
    assert note == "no phase kept; xgboost's model kept on validation in 2 / 3 seeds"


def test_safety_says_where_the_spectral_model_beat_its_base_on_validation():
    from bench.report import real as real_data

    df = _frame(
        {("wine", m): [("ok", 0.9), ("ok", 0.8)] for m in ("xgboost", "spectral_xgboost", "mlp", "spectral_mlp")}
    )
    df["phases_kept"], df["phase"], df["phase_explained"] = 0, None, 0.0
    df["candidate"] = [None] * 2 + [{"model": "spectral"}, {"model": "xgboost"}] + [None] * 2 + [{"network": "mlp"}] * 2
    text = real_data.safety(df)
    assert "was kept over its base family's model on validation rows in 1 of 4 fits: spectral_xgboost on wine" in text
    assert "| chosen" not in text and "spectral_kept" not in text


def test_wall_time_gives_the_span_its_pauses_the_cells_own_seconds_and_the_nodes():
    from bench.report import real as real_data

    df = _frame({("wine", "mlp"): [("ok", 0.9), ("ok", 0.8), ("failed", None)]})
    df["utc"] = ["2026-12-01T00:00:00+00:00", "2026-12-01T00:30:00+00:00", "2026-12-01T03:00:00+00:00"]
    df["predict_repeats"] = [10, 10, None]
    df.loc[2, ["fit_s", "predict_s"]] = None
    df["budget_s"] = [None, None, 120.0]
    df["node"] = ["a", "b", "a"]
    text = real_data.wall_time(df)
    assert text.startswith("Wall time, first to last record: 3.00 h for 3 cells (1 pause(s) over 30 min, 2.50 h")
    # 2 x (1 s fit + 10 x 0.1 s predict) + the budget of the cell over it
    assert f"sum to {124 / 3600:.2f} h" in text and "on 2 Ray nodes (2 and 1 cells)" in text
    df["node"] = None
    assert "Ray" not in real_data.wall_time(df)
