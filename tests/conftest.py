"""Helpers shared by the test packages (they mirror bench/, models/ and datasets/)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"  # small fixtures: a records file, a CSV


def bench(*args, env=None, cwd=ROOT, timeout=300):
    """``python -m bench ARGS`` from the checkout, as users run it."""
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def lines(path):
    """The JSON lines of ``path``."""
    return [json.loads(x) for x in Path(path).read_text().splitlines()]


# Small settings so each family fits in well under a second; behaviour, not accuracy.
TINY = {
    "seed_mlp": {"max_epochs": 2},
    "mlp": {"max_epochs": 3, "width": 16},
    "selu_mlp": {"max_epochs": 3, "width": 16, "n_layers": 8},
    "periodic_mlp": {"max_epochs": 3, "width": 16},
    "fourier_mlp": {"max_epochs": 3, "width": 16, "n_frequencies": 8},
    "spectral_mlp": {"max_epochs": 3, "width": 16},
    "tabm": {"max_epochs": 3, "d_block": 16, "k": 4},
    "catboost": {"params": {"iterations": 10}},
    "xgboost": {"params": {"n_estimators": 5}},
    "spectral_xgboost": {"params": {"n_estimators": 5}},
    "lightgbm": {"params": {"n_estimators": 5}},
    "hist_gbt": {"params": {"max_iter": 5}},
    "random_forest": {"params": {"n_estimators": 5}},
    "realmlp": {"params": {"n_epochs": 2, "hidden_sizes": [16, 16]}},
}
