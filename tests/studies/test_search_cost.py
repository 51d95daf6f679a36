"""The search-cost study's page, from synthetic timings (timings are measured, never asserted)."""

import pandas as pd

from bench.studies import search_cost

WHERE = {"cpu": "Test CPU", "cores": 2, "threads": 1, "gpu": None}


def _rows(seconds_at_50: float) -> pd.DataFrame:
    rows = [{"d": d, "seed": s, "seconds": float(d) / 10, "found": True} for d in (10, 20) for s in (0, 1)]
    rows += [{"d": 50, "seed": s, "seconds": seconds_at_50 - s, "found": s == 0} for s in (0, 1)]
    return pd.DataFrame(rows)


def test_the_page_states_the_bound_and_the_growth_per_dimension():
    text = search_cost.render(_rows(4.0), WHERE, "abc123")
    assert "slowest search took 4.00 s: within the 5 s bound" in text
    assert "Test CPU, 2 cores, 1 threads; no GPU; commit abc123" in text
    row_20 = next(line for line in text.splitlines() if line.startswith("|  20 |") or line.startswith("| 20 "))
    assert "2.00×" in row_20 and "2 / 2" in row_20  # growth 2 (1 s -> 2 s), both seeds found
    assert "1 / 2" in text  # d = 50: one seed of two found it


def test_a_search_over_the_bound_is_flagged():
    assert "slowest search took 6.00 s: **over** the 5 s bound" in search_cost.render(_rows(6.0), WHERE, "abc")
