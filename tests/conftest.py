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


def git(repo, *args) -> str:
    """``git ARGS`` in ``repo``; its stdout, stripped (a failure raises)."""
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def scratch_repo(path: Path, main: str) -> Path:
    """A new git repository at ``path`` whose ``python -m bench`` runs ``main`` (a fake side for the
    gate), with a committer set; nothing committed yet."""
    (path / "bench").mkdir(parents=True)
    (path / "bench" / "__init__.py").write_text("")
    (path / "bench" / "__main__.py").write_text(main)
    git(path, "init", "-q")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "t")
    return path
