"""Tables are pure functions of records: checked on a small fixture whose numbers are worked by hand."""

import json
import math

import pandas as pd
import pytest

from bench.records import frame
from bench.report import page, tables
from tests.conftest import DATA

FIXTURE = DATA / "records_small.jsonl"


@pytest.fixture()
def df():
    return frame.frame(FIXTURE)


def _rows(markdown: str, first_cell: str) -> list[list[str]]:
    """Cells of the table rows whose first cell is ``first_cell``."""
    out = []
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            out.append(cells)
    return out


def test_accuracy_mean_std_gap_and_overfit_flag(df):
    text = tables.accuracy_tables(df)
    mlp_cpu, mlp_cuda = [r for r in _rows(text, "mlp") if r[1] in ("cpu", "cuda")][:2]
    # held-out 0.9 and 0.8: mean 0.85, population std 0.05; train 1.0 twice; gap 0.15 (not flagged)
    assert mlp_cpu[1:6] == ["cpu", "0.850 ± 0.050", "1.000 ± 0.000", "0.15", "0.850 ± 0.050"]
    assert mlp_cpu[7] == ""
    assert mlp_cuda[1:3] == ["cuda", "0.850 ± 0.000"]
    (xgb,) = _rows(text, "xgboost")
    # held-out 0.3, 0.4 -> 0.35 ± 0.05; train 0.9, 1.0 -> 0.95; gap 0.6 > 0.2: flagged
    assert xgb[2:5] == ["0.350 ± 0.050", "0.950 ± 0.050", "0.6"]
    assert xgb[7] == "⚠ **train 0.95 vs held-out 0.35**"
    assert xgb[5] == "–"  # no validation accuracy for trees


def test_accuracy_ceiling_order_and_what_is_left_out(df):
    text = tables.accuracy_tables(df)
    assert "best achievable ≈ 1.000" in text
    assert "best achievable ≈ 0.867" in text  # label noise 0.2, 3 classes: 1 - 0.2 * 2/3
    plain = text.split("### sum_mod (n=100, label_noise=0.2)")[0]
    order = [line.split("|")[1].strip() for line in plain.splitlines() if line.startswith("| ") and "model" not in line]
    assert order == ["mlp", "mlp", "xgboost", "seed_mlp"]  # best held-out first; ties (0.35) in record order
    assert "catboost" not in text  # failed cells are not averaged in
    assert "spectral_mlp" not in text  # tta cells have their own table


def test_device_table_is_per_epoch_on_one_machine(df):
    text = tables.device_table(df)
    (row,) = _rows(text, "sum_mod (n=100)")
    # cpu 4.0 s / 20 epochs = 0.2 s per epoch; cuda 1.0 s / 10 epochs = 0.1: speedup 2
    assert row[1:] == ["mlp", "0.2", "0.1", "20 / 10", "2"]
    assert "Test CPU, GPU Test GPU" in text


def test_device_table_refuses_to_mix_machines(df):
    other = df.copy()
    cuda = other.device == "cuda"
    other.loc[cuda, "machine"] = [m | {"host": "another"} for m in other.loc[cuda, "machine"]]
    text = tables.device_table(other)
    assert "different machines" in text and "another" in text and "fixture" in text
    assert "|" not in text  # no table
    only_cuda = df[df.device == "cuda"]
    assert "no CPU-vs-GPU comparison" in tables.device_table(only_cuda)


def test_header_names_every_machine_that_made_the_records(df):
    one = tables.header(df)
    assert one.startswith(f"Made from {len(df)} records on ") and one.count(" cores, ") == 1
    other = df.copy()
    later = other.index >= other.index[4]
    other.loc[later, "dataset"] = "magic"
    other.loc[later, "machine"] = [m | {"cpu": "Another CPU", "cores": 16} for m in other.loc[later, "machine"]]
    text = tables.header(other)
    assert text.count(" cores, ") == 2 and "Another CPU, 16 cores" in text
    assert f"({int(later.sum())} records: magic)" in text and "(4 records: sum_mod)" in text


def test_time_to_accuracy(df):
    text = tables.time_to_accuracy_table(df)
    (row,) = _rows(text, "sum_mod (n=100)")
    # 0.99 first reached at 1.0 s (seed 0) and 2.0 s (seed 1): median 1.5; final 1.0 and 0.995: 0.9975 ± 0.0025
    assert row[1:] == ["spectral_mlp", "cpu", "2 / 2", "1.5", "0.998 ± 0.003"]


def test_seed_mlp_losses(df):
    text = tables.seed_mlp_table(df)
    (row,) = _rows(text, "sum_mod (n=100)")
    # last-row losses 1.2 and 1.0; epoch means 1.05 and 1.15; ln 3 = 1.0986; held-out 0.3, 0.4
    assert row[1:] == ["cpu", "1.100 ± 0.100", "1.100 ± 0.050", f"{math.log(3):.3f}", "0.350 ± 0.050"]
    # A real table with 11 classes (texture) broke the page: chance was looked up for 2..10 classes only.
    eleven = df.assign(n_classes=11)
    (row,) = _rows(tables.seed_mlp_table(eleven), "sum_mod (n=100)")
    assert row[4] == f"{math.log(11):.3f}"


def test_throughput_and_failures(df):
    text = tables.throughput_tables(df)
    (xgb,) = [r for r in _rows(text, "sum_mod (n=100)") if r[1] == "xgboost"]
    assert xgb[3] == "0.6"  # median of 0.5 and 0.7 s
    assert xgb[7] == "100"
    failures = tables.failures_table(df)
    assert "ValueError: boom" in failures and "catboost" in failures


def test_page_sections_and_figures(df, tmp_path):
    figures = [tmp_path / "loss_curves.png", tmp_path / "history.png"]
    pages = page.page(df, {}, figures)
    assert set(pages) == {"accuracy.md", "throughput.md", "README.md"}
    readme = pages["README.md"]
    titles = [line for line in readme.splitlines() if line.startswith("## ")]
    assert titles == [
        "## Accuracy (held-out vs train)",
        "## The seed's MLP",
        "## Time to accuracy",
        "## History",
        "## Throughput",
        "## CPU vs GPU",
        "## Failures",
    ]  # no decision-region figures given: no empty section; one task: no leaderboard (it needs two)
    assert "![training loss per epoch, seed 0](figures/loss_curves.png)" in readme
    assert "(figures/history.png)" in readme
    assert "commit abc123" in readme and "Test CPU, 2 cores, 2 threads" in readme


def test_frame_keeps_the_latest_record_per_cell(tmp_path):
    lines = FIXTURE.read_text().splitlines()
    newer = json.loads(lines[0]) | {"test_acc": 0.1}
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(lines + [json.dumps(newer)]) + "\n")
    df = frame.frame(path)
    assert len(df) == len(lines)
    assert df.set_index("key").loc[newer["key"], "test_acc"] == 0.1
    assert isinstance(df, pd.DataFrame)
