"""`bench export`: a leaderboard's per-split rows that bencheval loads, reproducing the board's Elo."""

import json

import numpy as np
import pandas as pd
import pytest
from bencheval.evaluator import BenchmarkEvaluator

from bench.cli import main
from bench.records import output, schema
from bench.records.frame import frame
from bench.report import leaderboard


def _write(folder, *, real: bool, failed=()) -> None:
    """Records of 3 families x 3 tasks x 2 seeds (binary; ``failed``: (model, dataset, seed) cells)."""
    folder.mkdir(parents=True)
    (folder / output.MARKER).write_text(output.MARKER_TEXT)
    base = schema.new(threads=1)
    rng = np.random.default_rng(0)
    lines = []
    for d in ("wine", "iris", "digits") if real else ("sum_mod", "sum_bin", "poly_mod"):
        for m in ("random_forest", "xgboost", "mlp"):
            for seed in (0, 1):
                auc = float(rng.uniform(0.6, 0.99))
                bad = (m, d, seed) in failed
                r = base | {
                    "key": schema.cell_key(d, {}, 100, m, {}, "cpu", seed), "tag": "", "dataset": d,
                    "dataset_params": {}, "n": 100, "n_train": 80, "n_test": 20, "n_classes": 2,
                    "ceiling": None if real else 1.0, "model": m, "model_params": {}, "device": "cpu", "seed": seed,
                    "status": "failed" if bad else "ok", "error": "boom" if bad else None,
                }  # fmt: skip
                if not bad:
                    r |= {"train_acc": 1.0, "test_acc": auc, "fit_s": float(rng.uniform(0.1, 2)), "predict_s": 0.01,
                          "test_roc_auc": auc, "test_log_loss": 0.5, "test_error": 1 - auc,
                          "test_error_metric": "1 - roc_auc"}  # fmt: skip
                lines.append(json.dumps(r))
    (folder / "records.jsonl").write_text("\n".join(lines) + "\n")


def test_export_loads_in_bencheval_and_reproduces_the_boards_elo(tmp_path):
    _write(tmp_path / "real", real=True, failed={("mlp", "iris", 1)})
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", "--out-file", str(out / "rows.csv"), "--records", str(tmp_path / "real")]) == 0
    rows = pd.read_csv(out / "rows.csv")
    assert {"method", "task", "seed", "metric_error", "time_train_s", "time_infer_s"} <= set(rows.columns)
    assert len(rows) == 3 * 3 * 2 and rows.imputed.sum() == 1, "dense: the failed split imputed, and marked"
    ev = BenchmarkEvaluator(seed_column="seed")
    lb = ev.leaderboard(
        rows,
        elo_kwargs={"calibration_framework": "random_forest", "calibration_elo": 1000, "BOOTSTRAP_ROUNDS": 50},
    )
    board = leaderboard.board(
        leaderboard.split_rows({"real": frame(tmp_path / "real" / "records.jsonl")}), bootstrap=50
    )
    for family in ("random_forest", "xgboost", "mlp"):
        assert board.table.loc[family, "Elo"] == pytest.approx(lb.loc[family, "elo"])
        assert board.table.loc[family, "Elo high"] == pytest.approx(lb.loc[family, "elo"] + lb.loc[family, "elo+"])
        assert board.table.loc[family, "mean rank"] == pytest.approx(lb.loc[family, "rank"])


def test_export_csv_keeps_every_split_and_its_board_and_bencheval_refuses_mixed_boards(tmp_path, capsys):
    _write(tmp_path / "real", real=True, failed={("mlp", "iris", 1)})
    _write(tmp_path / "synth", real=False)
    folders = [str(tmp_path / "real"), str(tmp_path / "synth")]
    out = tmp_path / "all.csv"
    assert main(["export", "--out-file", str(out), "--format", "csv", "--records", *folders]) == 0
    rows = pd.read_csv(out)
    assert len(rows) == 36 and set(rows.board) == {"real", "synthetic"}
    assert rows.status.eq("failed").sum() == 1 and {"test_acc", "test_roc_auc", "test_log_loss"} <= set(rows.columns)
    assert main(["export", "--out-file", str(tmp_path / "mixed.csv"), "--records", *folders]) == 2
    assert "mixes real and synthetic" in capsys.readouterr().err


def test_export_refuses_to_overwrite_a_file_bench_does_not_own(tmp_path, capsys):
    _write(tmp_path / "real", real=True)
    theirs = tmp_path / "notes.csv"
    theirs.write_text("mine")
    assert main(["export", "--out-file", str(theirs), "--records", str(tmp_path / "real")]) == 2
    assert theirs.read_text() == "mine" and "not bench's" in capsys.readouterr().err
    records = tmp_path / "real" / "records.jsonl"
    assert main(["export", "--out-file", str(records), "--records", str(tmp_path / "real")]) == 2
    assert "input" in capsys.readouterr().err
