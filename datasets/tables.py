"""Real tables: a user's CSV or Parquet file, or a dataset scikit-learn ships inside its package.

Encoding, the same for every family (so a table compares models, not encodings):
- numeric columns as they are (float64); booleans as 0/1;
- text or categorical columns one-hot, one column per level, levels ordered by name; a column
  with more than ``MAX_LEVELS`` levels keeps its ``MAX_LEVELS - 1`` most frequent ones and one
  ``<other>`` column (CatBoost sees the same one-hot columns: its native categorical handling is
  not used);
- missing values are refused, naming the columns (fill or drop them first: how is a modelling
  choice bench does not make for you);
- the label: any values with at least 2 rows per class, encoded 0..K-1 in sorted order, the
  original names kept (``class_names``). A float label with non-integer values (a regression
  target) or a class of one row (free text, an id column) is refused.

A file's identity is its name and the SHA-256 of its bytes (``sha256``): a changed file is a new
dataset, so resume never mixes two versions of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

MAX_LEVELS = 32
SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}
# Bundled with scikit-learn (no download): name -> loader in sklearn.datasets (datasets.REAL).
BUNDLED = {
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "digits": "load_digits",
}


@dataclass(frozen=True)
class Table:
    """An encoded table: X float64 (n, d), y int64 in 0..K-1, and what the columns and classes were."""

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    sha256: str
    notes: str  # how it was encoded, for the record and the tables


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def read_file(path: str | Path, target: str) -> Table:
    """Load and encode a CSV or Parquet file; every problem is a ValueError of one line."""
    path = Path(path)
    return _read_file(str(path.resolve()), target, *_stamp(path))


def _stamp(path: Path) -> tuple[int, int]:
    if not path.exists():
        raise ValueError(f"--data {path}: no such file")
    if not path.is_file():
        raise ValueError(f"--data {path}: not a file")
    st = path.stat()
    return st.st_mtime_ns, st.st_size


@lru_cache(maxsize=8)  # keyed by path, target, mtime and size: an edited file is read again
def _read_file(path: str, target: str, _mtime: int, _size: int) -> Table:
    p = Path(path)
    kind = SUFFIXES.get(p.suffix.lower())
    if kind is None:
        raise ValueError(f"--data {p}: unknown file type {p.suffix!r}; use .csv, .tsv or .parquet")
    if _size == 0:
        raise ValueError(f"--data {p}: the file is empty")
    try:
        if kind == "parquet":
            df = pd.read_parquet(p)
        elif p.suffix.lower() == ".txt":  # delimiter sniffed
            df = pd.read_csv(p, sep=None, engine="python")
        else:
            df = pd.read_csv(p, sep="\t" if p.suffix.lower() == ".tsv" else ",")
    except ImportError as exc:
        raise ValueError(f"--data {p}: reading Parquet needs pyarrow ({exc})") from None
    except Exception as exc:  # pandas / pyarrow parse errors have many types; all mean a bad file
        raise ValueError(f"--data {p}: not a readable {kind} file ({type(exc).__name__}: {exc})") from None
    return encode(df, target, name=p.stem, sha=sha256(p), source=str(p))


def bundled(name: str) -> Table:
    """One of scikit-learn's bundled datasets (``BUNDLED``), encoded like a file."""
    if name not in BUNDLED:
        raise ValueError(f"unknown bundled dataset {name!r}; choose from {', '.join(BUNDLED)}")
    return _bundled(name)


@lru_cache(maxsize=len(BUNDLED))
def _bundled(name: str) -> Table:
    import sklearn.datasets

    data = getattr(sklearn.datasets, BUNDLED[name])(as_frame=True)
    df = data.frame.copy()
    df["target"] = np.asarray(data.target_names)[data.target] if hasattr(data, "target_names") else data.target
    digest = hashlib.sha256(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes()).hexdigest()[:16]
    return encode(df, "target", name=name, sha=digest, source=f"sklearn.datasets.{BUNDLED[name]}")


def encode(df: pd.DataFrame, target: str, *, name: str, sha: str, source: str) -> Table:
    """Features and label of a DataFrame as bench's arrays (see the module docstring for how)."""
    if df.shape[0] == 0:
        raise ValueError(f"{source}: no rows (only a header?)")
    if target not in df.columns:
        shown = ", ".join(map(str, df.columns[:12])) + (" ..." if df.shape[1] > 12 else "")
        raise ValueError(f"{source}: no column {target!r} for --target; columns: {shown}")
    features = df.drop(columns=[target])
    if features.shape[1] == 0:
        raise ValueError(f"{source}: no feature columns besides the target {target!r}")
    missing = df.isna().sum()
    missing = missing[missing > 0]
    if len(missing):
        named = ", ".join(f"{c} ({k} missing)" for c, k in missing.items())
        raise ValueError(f"{source}: missing values in {named}; fill or drop them first")
    y, class_names = _label(df[target], source)
    X, names, notes = _features(features)
    if not np.all(np.isfinite(X)):
        bad = [n for n, col in zip(names, X.T) if not np.all(np.isfinite(col))]
        raise ValueError(f"{source}: infinite values in {', '.join(bad[:5])}")
    return Table(name, X, y, names, class_names, sha, notes)


def _label(col: pd.Series, source: str) -> tuple[np.ndarray, tuple[str, ...]]:
    values = col.to_numpy()
    if pd.api.types.is_float_dtype(col) and not np.all(np.mod(values, 1) == 0):
        raise ValueError(
            f"{source}: target {col.name!r} has non-integer numbers (e.g. {values[np.mod(values, 1) != 0][0]!r}): "
            "a regression target; bench compares classifiers"
        )
    classes, y = np.unique(values.astype(str) if col.dtype == object else values, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"{source}: target {col.name!r} has a single class ({classes[0]!r})")
    counts = np.bincount(y)
    if counts.min() < 2:
        lonely = classes[counts < 2]
        raise ValueError(
            f"{source}: target {col.name!r} has {len(lonely)} class(es) with one row (e.g. {lonely[0]!r}) of "
            f"{len(classes)} in {len(values)} rows; a class label needs at least 2 rows per class"
        )
    return y.astype(np.int64), tuple(str(c) for c in classes)


def _features(df: pd.DataFrame) -> tuple[np.ndarray, tuple[str, ...], str]:
    columns, names, encoded = [], [], []
    for name, col in df.items():
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            columns.append(col.to_numpy(dtype=np.float64)[:, None])
            names.append(str(name))
            continue
        text = col.astype(str)
        counts = text.value_counts()
        kept = sorted(counts.index[: MAX_LEVELS - 1]) if len(counts) > MAX_LEVELS else sorted(counts.index)
        onehot = np.stack([(text == level).to_numpy(np.float64) for level in kept], axis=1)
        names += [f"{name}={level}" for level in kept]
        if len(kept) < len(counts):
            onehot = np.hstack([onehot, (~text.isin(kept)).to_numpy(np.float64)[:, None]])
            names.append(f"{name}=<other>")
        columns.append(onehot)
        encoded.append(f"{name} ({len(counts)} levels)")
    notes = f"one-hot: {', '.join(encoded)}" if encoded else "all numeric"
    return np.hstack(columns), tuple(names), notes


def draw(table: Table, n: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """All rows (``n`` None or the table's size), or a seeded stratified subsample of ``n`` rows."""
    size = len(table.y)
    if n is None or n == size:
        return table.X, table.y
    if not 2 <= n < size:
        raise ValueError(f"{table.name} has {size} rows; n={n} cannot be drawn from it")
    from sklearn.model_selection import train_test_split

    n_classes = len(table.class_names)
    stratify = table.y if n_classes <= n <= size - n_classes else None
    idx, _ = train_test_split(np.arange(size), train_size=n, random_state=seed, stratify=stratify)
    idx = np.sort(idx)
    return table.X[idx], table.y[idx]
