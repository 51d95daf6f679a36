"""The leaderboard: bench's board gives bencheval's own numbers; boards stay apart; prose follows intervals."""

import numpy as np
import pandas as pd
import pytest
from bencheval.evaluator import BenchmarkEvaluator

from bench.records import frame
from bench.report import leaderboard, page

# 3 families x 4 tasks x 2 splits. t1: a and b tie on both splits; c fails on (t3, split 1).
ERRORS = {
    "random_forest": [[0.10, 0.12], [0.20, 0.20], [0.30, 0.28], [0.40, 0.45]],
    "b": [[0.15, 0.16], [0.20, 0.20], [0.25, 0.27], [0.50, 0.52]],
    "c": [[0.30, 0.31], [0.35, 0.30], [0.10, 0.12], [0.60, None]],
}


def _rows() -> pd.DataFrame:
    rows = []
    for method, per_task in ERRORS.items():
        for t, splits in enumerate(per_task):
            for seed, err in enumerate(splits):
                rows.append(
                    {
                        "method": method, "task": f"t{t}", "seed": seed, "status": "ok" if err is not None else "failed",
                        "metric_error": np.nan if err is None else err, "metric": "log_loss",
                        "time_train_s": 1.0 + len(method) + seed, "time_infer_s": 0.1, "n_train": 800, "n_test": 200,
                        "source": "real", "n_classes": 3, "machine": "test machine",
                    }
                )  # fmt: skip
    return pd.DataFrame(rows)


def test_board_numbers_are_bencheval_s_on_the_same_frame():
    b = leaderboard.board(_rows(), "real", bootstrap=100)
    assert b.pin == "random_forest" and b.rule == "random_forest"
    # bencheval directly: TabArena's imputation (the pinned RandomForest fills c's failed split), then its board.
    raw = _rows()
    done = raw[raw.status == "ok"][["method", "task", "seed", "metric_error", "time_train_s", "time_infer_s"]]
    ev = BenchmarkEvaluator(seed_column="seed")
    data = ev.fillna_data(done.reset_index(drop=True), fillna_method="random_forest")
    filled = data[(data.method == "c") & (data.task == "t3") & (data.seed == 1)]
    assert filled.metric_error.tolist() == [0.45], "the failure takes the pinned family's result on that split"
    lb = ev.leaderboard(
        data,
        include_mrr=True,
        include_rescaled_loss=True,
        include_rank_counts=True,
        elo_kwargs={"calibration_framework": "random_forest", "calibration_elo": 1000, "BOOTSTRAP_ROUNDS": 100},
    )
    t = b.table
    for f in ERRORS:
        assert t.loc[f, "Elo"] == pytest.approx(lb.loc[f, "elo"])
        assert t.loc[f, "Elo low"] == pytest.approx(lb.loc[f, "elo"] - lb.loc[f, "elo-"])
        assert t.loc[f, "Elo high"] == pytest.approx(lb.loc[f, "elo"] + lb.loc[f, "elo+"])
        assert t.loc[f, "improvability"] == pytest.approx(lb.loc[f, "improvability"])
        assert t.loc[f, "mean rank"] == pytest.approx(lb.loc[f, "rank"])
        assert t.loc[f, "harmonic-mean rank"] == pytest.approx(1 / lb.loc[f, "mrr"])
        assert t.loc[f, "wins"] == pytest.approx(lb.loc[f, "rank=1_count"])
        assert t.loc[f, "win rate"] == pytest.approx(lb.loc[f, "winrate"])
        assert t.loc[f, "normalised score"] == pytest.approx(1 - lb.loc[f, "loss_rescaled"])
    assert t.loc["random_forest", "Elo"] == 1000
    # Worked by hand: the tie on t1 shares rank 1.5 on both splits; on (t3, split 1) c's imputed
    # result equals random_forest's, another tie at 1.5; so random_forest's mean rank over tasks is
    # (t0: 1 + t1: 1.5 + t2: 3 + t3: (1 + 1.5) / 2) / 4 = 1.6875.
    assert t.loc["random_forest", "mean rank"] == pytest.approx(1.6875)
    assert t.loc["c", "imputed splits"] == "1 / 8" and t.loc["b", "imputed splits"] == "0 / 8"
    # Cost: only splits that ran; c's t3 has only split 0 (train 2 s per 800 rows).
    assert t.loc["random_forest", "train s / 1k rows"] == pytest.approx(1000 * (1 + 13 + 0.5) / 800)
    assert t.loc["c", "train s / 1k rows"] == pytest.approx(1000 * 2.5 / 800)


def test_a_board_without_the_pin_fills_failures_with_the_worst_and_says_which_family_is_pinned():
    rows = _rows()
    rows["method"] = rows.method.replace({"random_forest": "a"})
    b = leaderboard.board(rows, "real", bootstrap=50)
    assert b.pin == "a" and b.rule == "worst"
    filled = b.data[(b.data.method == "c") & (b.data.task == "t3") & (b.data.seed == 1)]
    assert filled.metric_error.tolist() == [0.52] and filled.imputed.all()
    assert "with a's result" not in leaderboard.how(b) and "worst result" in leaderboard.how(b)
    assert "a pinned at 1000" in leaderboard.how(b)


def _board_with(elo: dict[str, tuple[float, float, float]]) -> leaderboard.Board:
    table = pd.DataFrame(
        {"Elo": [v[0] for v in elo.values()], "Elo low": [v[1] for v in elo.values()],
         "Elo high": [v[2] for v in elo.values()], "train s / 1k rows": [1.0, 2.0, 3.0][: len(elo)]},
        index=list(elo),
    )  # fmt: skip
    return leaderboard.Board("real", table, pd.DataFrame(), pd.DataFrame(), "random_forest", "random_forest")


def test_the_prose_calls_a_family_best_only_when_its_interval_excludes_the_others():
    overlapping = _board_with({"x": (1100, 1040, 1160), "random_forest": (1000, 950, 1050), "y": (900, 850, 940)})
    text = leaderboard.verdict(overlapping)
    assert "No family is best beyond doubt" in text and "random_forest" in text.split("overlap")[0]
    assert "Below the pinned random_forest beyond its interval: y" in text
    clear = _board_with({"x": (1200, 1100, 1300), "random_forest": (1000, 950, 1050), "y": (900, 850, 940)})
    text = leaderboard.verdict(clear)
    assert text.startswith("**x ranks first, and its Elo interval lies above every other family's**")
    assert "Above the pinned random_forest beyond its interval: x" in text


def test_pareto_front():
    table = pd.DataFrame(
        {"Elo": [1200, 1000, 1100, 900], "train s / 1k rows": [10.0, 1.0, 20.0, 5.0]}, index=["a", "b", "c", "d"]
    )
    assert leaderboard.pareto(table) == ["b", "a"]  # c is slower and worse than a; d is dominated by b


def _records(results: dict, *, real: bool, scores: bool) -> pd.DataFrame:
    """Records of {(dataset, model): [test_acc per seed or None for a failure]}."""
    rows = []
    for (ds, model), accs in results.items():
        for seed, acc in enumerate(accs):
            rows.append(
                {
                    "dataset": ds, "dataset_params": {}, "n": 100, "model": model, "model_params": {}, "device": "cpu",
                    "seed": seed, "status": "ok" if acc is not None else "failed", "tag": "", "test_acc": acc,
                    "n_classes": 2, "ceiling": None if real else 1.0, "fit_s": 0.5, "predict_s": 0.01,
                    "n_train": 80, "n_test": 20, "machine": {"cpu": "Test CPU", "cores": 2, "threads": 1},
                    **({"test_error": None if acc is None else 1.5 - acc, "test_error_metric": "1 - roc_auc"}
                       if scores else {}),
                }
            )  # fmt: skip
    df = frame.with_param_columns(pd.DataFrame(rows))
    return df.assign(
        train_acc=1.0, val_acc=None, utc="2026-01-01", commit="abc", versions=[{}] * len(df), key=range(len(df)),
        machine=[{"cpu": "Test CPU", "cores": 2, "threads": 1, "python": "3.11"}] * len(df), error=None,
        epochs=None, fit_rows_per_s=1.0, train_samples_per_s=None, predict_rows_per_s=1.0,
    )  # fmt: skip


def test_split_rows_use_tabarenas_error_and_fall_back_to_accuracy_for_old_records():
    new = _records({("wine", "a"): [0.9, 0.8], ("wine", "b"): [0.7, None]}, real=True, scores=True)
    old = _records({("iris", "a"): [0.9], ("iris", "b"): [0.6]}, real=True, scores=False)
    rows = leaderboard.split_rows({"real": new, "real-tiny": old})
    wine = rows[rows.task == "wine (n=100)"].set_index(["method", "seed"])
    assert wine.loc[("a", 0), "metric_error"] == pytest.approx(0.6) and wine.loc[("a", 0), "metric"] == "1 - roc_auc"
    assert np.isnan(wine.loc[("b", 1), "metric_error"]) and wine.loc[("b", 1), "status"] == "failed"
    iris = rows[rows.task == "iris (n=100)"].set_index("method")
    assert iris.loc["b", "metric_error"] == pytest.approx(0.4) and iris.loc["b", "metric"] == "1 - accuracy"
    again = leaderboard.split_rows({"real": new, "real-quick": new.assign(test_acc=0.0)})
    assert len(again) == len(leaderboard.split_rows({"real": new})), "a cell counts once, from the first folder"


def test_the_page_shows_the_real_board_first_and_the_synthetic_board_apart():
    real_tasks = {(d, m): [0.9 - 0.1 * i, 0.85 - 0.1 * i] for d in ("wine", "iris", "digits") for i, m in
                  enumerate(("random_forest", "xgboost", "mlp"))}  # fmt: skip
    real_tasks[("iris", "mlp")] = [0.5, None]
    synth = {(d, m): [0.9 - 0.2 * i, 0.8 - 0.2 * i] for d in ("sum_mod", "sum_bin") for i, m in
             enumerate(("spectral_mlp", "xgboost"))}  # fmt: skip
    main = _records(synth, real=False, scores=True)
    extra = {"real": _records(real_tasks, real=True, scores=False)}
    readme = page.page(main, extra, [])["README.md"]
    titles = [line for line in readme.splitlines() if line.startswith("## ")]
    assert titles[0] == "## Leaderboard: real tables" and "## Leaderboard: synthetic tasks" in titles
    real_part = readme.split("## Leaderboard: real tables")[1].split("\n## ")[0]
    synth_part = readme.split("## Leaderboard: synthetic tasks")[1].split("\n## ")[0]
    assert "sum_mod" not in real_part and "wine" not in synth_part
    assert "random_forest pinned at 1000" in real_part and "1 / 6" in real_part  # mlp's failed split, imputed
    assert "on all 3 tasks every family is ranked by 1 - held-out accuracy" in real_part
    assert "seeds 0, 1" in real_part and "Test CPU" in real_part
