"""Real tables: a user's CSV or Parquet file, a dataset scikit-learn ships inside its package, or
one of the packaged tables of datasets/real.py; all encoded here, the same way.

Encoding (what every family receives; each family then applies its own rule, models/preprocessing.py):
- numeric columns as they are (float64), missing values as NaN; booleans as 0/1;
- text or categorical columns as integer category codes 0..L-1 (levels ordered by name), missing
  as NaN; their positions travel as ``categorical`` (the column kinds), so GBDTs can use them
  natively and neural families one-hot them;
- missing values are kept (NaN) unless ``refuse_missing`` (then refused, naming the columns);
- duplicate column names are refused (pandas would rename a second ``label`` to ``label.1``, and
  the target would reach the features under that name);
- the label: any values with at least 2 rows per class, encoded 0..K-1 in sorted order, the
  original names kept (``class_names``). A float label with non-integer values (a regression
  target) or a class of one row (free text, an id column) is refused; rows without a label are dropped.

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
    categorical: tuple[int, ...] = ()  # columns of X holding category codes 0..L-1 (NaN: missing)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def read_file(path: str | Path, target: str, *, refuse_missing: bool = False) -> Table:
    """Load and encode a CSV or Parquet file; every problem is a ValueError of one line."""
    path = Path(path)
    table = _read_file(str(path.resolve()), target, *_stamp(path))
    if refuse_missing:
        _refuse_missing(table, str(path))
    return table


def _refuse_missing(table: Table, source: str) -> None:
    counts = np.isnan(table.X).sum(0)
    if counts.any():
        named = ", ".join(f"{n} ({k} missing)" for n, k in zip(table.feature_names, counts) if k)
        raise ValueError(f"{source}: missing values in {named}; fill or drop them first")


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
    suffix = p.suffix.lower()
    csv = {"sep": None, "engine": "python"} if suffix == ".txt" else {"sep": "\t" if suffix == ".tsv" else ","}
    header = None  # a CSV's column names as written (pandas renames a repeated one: label -> label.1)
    try:
        if kind == "parquet":
            df = pd.read_parquet(p)
        else:  # .txt: delimiter sniffed
            df = pd.read_csv(p, **csv)
            header = pd.read_csv(p, header=None, nrows=1, dtype=str, **csv).iloc[0].astype(str).tolist()
    except ImportError as exc:
        raise ValueError(f"--data {p}: reading Parquet needs pyarrow ({exc})") from None
    except Exception as exc:  # pandas / pyarrow parse errors have many types; all mean a bad file
        raise ValueError(f"--data {p}: not a readable {kind} file ({type(exc).__name__}: {exc})") from None
    if header is not None:
        _refuse_duplicates(header, f"--data {p}")
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
    _refuse_duplicates([str(c) for c in df.columns], source)
    if target not in df.columns:
        shown = ", ".join(map(str, df.columns[:12])) + (" ..." if df.shape[1] > 12 else "")
        raise ValueError(f"{source}: no column {target!r} for --target; columns: {shown}")
    features = df.drop(columns=[target])
    if features.shape[1] == 0:
        raise ValueError(f"{source}: no feature columns besides the target {target!r}")
    labelled = df[target].notna().to_numpy()
    if not labelled.all():  # a row without a label says nothing to a classifier
        df, features = df[labelled], features[labelled]
        if df.shape[0] == 0:
            raise ValueError(f"{source}: target {target!r} is empty in every row")
    y, class_names = _label(df[target], source)
    X, names, notes, categorical = _features(features)
    if np.isinf(X).any():
        bad = [n for n, col in zip(names, X.T) if np.isinf(col).any()]
        raise ValueError(f"{source}: infinite values in {', '.join(bad[:5])}")
    missing = int(np.isnan(X).sum())
    if missing:
        notes += f"; {missing} missing cells (NaN) in {int(np.isnan(X).any(0).sum())} columns"
    if not labelled.all():
        notes += f"; {int((~labelled).sum())} rows without a label dropped"
    return Table(name, X, y, names, class_names, sha, notes, categorical)


def _refuse_duplicates(columns: list[str], source: str) -> None:
    seen, repeated = set(), []
    for c in columns:
        if c in seen and c not in repeated:
            repeated.append(c)
        seen.add(c)
    if repeated:
        raise ValueError(f"{source}: duplicate column name(s) {', '.join(map(repr, repeated))}; rename them first")


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


def _features(df: pd.DataFrame) -> tuple[np.ndarray, tuple[str, ...], str, tuple[int, ...]]:
    columns, names, encoded, categorical = [], [], [], []
    for j, (name, col) in enumerate(df.items()):
        names.append(str(name))
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            columns.append(col.to_numpy(dtype=np.float64, na_value=np.nan))
            continue
        present = col.notna().to_numpy()
        text = col[present].astype(str).to_numpy()
        levels, codes = np.unique(text, return_inverse=True)  # levels ordered by name
        coded = np.full(len(col), np.nan)
        coded[present] = codes
        columns.append(coded)
        categorical.append(j)
        encoded.append(f"{name} ({len(levels)} levels)")
    notes = f"categorical codes: {', '.join(encoded)}" if encoded else "all numeric"
    return np.stack(columns, axis=1), tuple(names), notes, tuple(categorical)


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
