"""Records as a pandas DataFrame: the latest record per cell, hashable parameter columns, names."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from bench.records import store

# What identifies a cell, seeds aside.
CELL = ["dataset", "dparams", "n", "model", "mparams", "device"]


def with_param_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``dparams`` / ``mparams``: dataset and model params as sorted JSON (hashable, groupable)."""
    df["dparams"] = df["dataset_params"].map(lambda p: json.dumps(p, sort_keys=True))
    df["mparams"] = df["model_params"].map(lambda p: json.dumps(p, sort_keys=True))
    return df


def frame(path: Path) -> pd.DataFrame:
    """Latest record per cell, as a DataFrame with hashable dataset/model param columns."""
    rows = store.latest(store.load(path))
    if not rows:
        raise ValueError(f"{path} holds no records")
    df = with_param_columns(pd.DataFrame(rows))
    df["tag"] = df["tag"].fillna("") if "tag" in df else ""
    return df


def ok(df: pd.DataFrame, tag: str | None = "") -> pd.DataFrame:
    """Successful records; of one tag ('' plain cells, 'tta'), or of any tag with ``tag=None``."""
    keep = df.status == "ok"
    return df[keep if tag is None else keep & (df.tag == tag)]


def dataset_title(dataset: str, dparams: str, n: int) -> str:
    params = json.loads(dparams)
    params.pop("path", None)  # a file's identity is its name, target and sha256, not where it lies
    extra = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{dataset} (n={n}{', ' + extra if extra else ''})"


def model_name(model: str, mparams: str) -> str:
    return model if mparams == "{}" else f"{model} {mparams}"
