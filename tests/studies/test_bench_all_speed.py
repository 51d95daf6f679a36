"""results/bench_all_speed.md is a pure function of both runs' records and wall times."""

import pandas as pd

from bench.studies import bench_all_speed as speed_check


def _records(accs: dict[str, list[float]], fit_s: float) -> pd.DataFrame:
    rows = [
        {
            "dataset": "sum_mod",
            "n": 2000,
            "tag": "",
            "model": model,
            "seed": seed,
            "status": "ok",
            "test_acc": acc,
            "fit_s": fit_s,
            "commit": "abc",
            "machine": {"cpu": "cpu", "usable_cores": 2, "threads": 2},
        }
        for model, values in accs.items()
        for seed, acc in enumerate(values)
    ]
    return pd.DataFrame(rows)


def test_speed_page_flags_rows_outside_one_std_and_the_wall_ratio():
    old = _records({"mlp": [0.90, 0.92, 0.94], "tabm": [0.80, 0.81, 0.82]}, fit_s=2.0)
    new = _records({"mlp": [0.91, 0.93, 0.95], "tabm": [0.70, 0.71, 0.72]}, fit_s=0.5)
    text = speed_check.render(old, new, old_wall=300.0, new_wall=140.0)
    assert "ratio **0.47** (meets" in text
    rows = {line.split("|")[2].strip(): line for line in text.splitlines() if line.startswith("| sum_mod")}
    assert "| yes " in rows["mlp"]  # +0.01, old std 0.02
    assert "**no**" in rows["tabm"]  # -0.10, old std 0.01
    assert "1 of 2" in text
    assert "misses" in speed_check.render(old, new, old_wall=100.0, new_wall=60.0)
